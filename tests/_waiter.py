# -*- test-case-name: tests.test_upnp_loopback,tests.test_sim_controlpoint -*-
"""
A recording observer of the control point (L{IUPnPDeviceObserver}) that a
test on the real reactor waits on: the next call of a kind, bounded.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet.defer import Deferred, succeed
from twisted.trial import unittest
from zope.interface import implementer

from proxier.upnp.controlpoint import IUPnPDeviceObserver

__all__ = ["WAIT", "Waiter", "watch"]

WAIT = 10.0  # seconds any one step may take, unless the test says otherwise


@implementer(IUPnPDeviceObserver)
class Waiter:
    """
    Records every call; a test waits for the next one of a kind, which is
    taken off the record.

    @param timeout: how long a L{wait} may take when it does not say.
    """

    def __init__(self, timeout: float = WAIT) -> None:
        self.timeout = timeout
        self.calls: list = []
        self.waiting: list[tuple[str, Deferred]] = []

    def wait(self, kind: str, timeout: Optional[float] = None) -> Deferred:
        """The next call of C{kind} (C{"ready"}, C{"gone"}, ...): fails with a timeout after C{timeout} s."""
        for call in self.calls:
            if call[0] == kind:
                self.calls.remove(call)
                return succeed(call)
        from twisted.internet import reactor

        d: Deferred = Deferred()
        self.waiting.append((kind, d))
        return d.addTimeout(self.timeout if timeout is None else timeout, reactor)

    def _record(self, *call: object) -> None:
        for kind, d in list(self.waiting):
            if kind == call[0]:
                self.waiting.remove((kind, d))
                d.callback(call)
                return
        self.calls.append(call)

    def deviceReady(self, device):  # noqa: ANN001, ANN201
        self._record("ready", device)

    def deviceChanged(self, device, change):  # noqa: ANN001, ANN201
        self._record("changed", device, change)

    def deviceGone(self, device, reason):  # noqa: ANN001, ANN201
        self._record("gone", device, reason)

    def announcement(self, device, value):  # noqa: ANN001, ANN201
        self._record("announcement", device, value)

    def eventReceived(self, device, service, variables):  # noqa: ANN001, ANN201
        self._record("event", device, service, variables)

    def stateMayBeStale(self, device, service, reason):  # noqa: ANN001, ANN201
        self._record("stale", device, service, reason)


def watch(testCase: unittest.TestCase, controlPoint: Any, timeout: float = WAIT) -> Waiter:
    """A L{Waiter} observing C{controlPoint}, which starts now and stops at the end of the test."""
    waiter = Waiter(timeout)
    controlPoint.addObserver(waiter)
    controlPoint.startService()
    testCase.addCleanup(controlPoint.stopService)
    return waiter
