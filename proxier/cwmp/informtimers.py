# -*- test-case-name: tests.test_cwmp_endpoint -*-
"""
When an endpoint's timed Informs fall due: the periodic Inform (TR-069
3.2.1, the ManagementServer PeriodicInform* settings, phased on
PeriodicInformTime or else on the endpoint's start) and the ScheduleInforms
the ACS asked for (A.4.2.2), each a timer armed while the endpoint runs.

Split out of L{CWMPEndpoint<proxier.cwmp.endpoint.CWMPEndpoint>} (issue
12.5): it queues the event in the endpoint's state and asks for a session;
when the session runs is the endpoint's business.
"""

from __future__ import annotations

from typing import Any, Callable

from proxier.cwmp.retry import nextPeriodicInform
from proxier.datamodel.values import UNKNOWN_TIME

__all__ = ["InformTimers"]


class InformTimers:
    """
    The periodic and scheduled Inform timers of one endpoint.

    @param clock: C{seconds()} and C{callLater}.
    @param settings: the endpoint's L{EndpointSettings<proxier.cwmp.settings.EndpointSettings>}.
    @param state: the endpoint's L{EndpointState<proxier.cwmp.events.EndpointState>}.
    @param wantSession: asks the endpoint for a session (something waits for the ACS).
    @param timers: where the timers are set (C{callLater}): a
        L{TimerQueue<proxier.timers.TimerQueue>} on C{clock} that every
        endpoint shares (issue 19: a C{DelayedCall} a device, armed for as
        long as it lives, cost ~0.4 KB), or None for C{clock} itself.
    """

    # slots: one per endpoint, so per device (issue 19)
    __slots__ = ("_clock", "_timers", "settings", "state", "_wantSession", "_running", "_reference", "_periodicCall",
                 "_scheduledCall")

    def __init__(self, clock: Any, settings: Any, state: Any, wantSession: Callable[[], None],
                 timers: Any = None) -> None:
        self._clock = clock
        self._timers = timers if timers is not None else clock
        self.settings = settings
        self.state = state
        self._wantSession = wantSession
        self._running = False
        self._reference = 0.0
        self._periodicCall: Any = None
        self._scheduledCall: Any = None

    def start(self, reference: float) -> None:
        """
        Arm both timers.

        @param reference: when the endpoint started: the periodic Informs'
            phase when PeriodicInformTime is the unknown time.
        """
        self._running = True
        self._reference = reference
        self.armPeriodic()
        self.armScheduled()

    def stop(self) -> None:
        """Cancel both timers."""
        self._running = False
        for name in ("_periodicCall", "_scheduledCall"):
            call = getattr(self, name)
            if call is not None and call.active():
                call.cancel()
            setattr(self, name, None)

    def armPeriodic(self) -> None:
        """(Re)arm the periodic Inform, as the PeriodicInform* settings say now."""
        if self._periodicCall is not None and self._periodicCall.active():
            self._periodicCall.cancel()
        self._periodicCall = None
        if not self._running or not self.settings.periodicInformEnable:
            return
        phaseTime = self.settings.periodicInformTime
        phase = None if phaseTime == UNKNOWN_TIME else phaseTime.timestamp()
        now = self._clock.seconds()
        at = nextPeriodicInform(now, self.settings.periodicInformInterval, phase, self._reference)
        self._periodicCall = self._timers.callLater(at - now, self._periodicFired)

    def _periodicFired(self) -> None:
        self._periodicCall = None
        self.state.queueEvent("2 PERIODIC")
        self._wantSession()
        self.armPeriodic()

    def armScheduled(self) -> None:
        """(Re)arm the timer of the earliest ScheduleInform the state holds."""
        if self._scheduledCall is not None and self._scheduledCall.active():
            self._scheduledCall.cancel()
        self._scheduledCall = None
        scheduled = self.state.scheduledInforms()
        if not self._running or not scheduled:
            return
        delay = max(0.0, scheduled[0][0] - self._clock.seconds())
        self._scheduledCall = self._timers.callLater(delay, self._scheduledFired)

    def _scheduledFired(self) -> None:
        self._scheduledCall = None
        if self.state.scheduledInformDue(self._clock.seconds()):
            self._wantSession()
        self.armScheduled()
