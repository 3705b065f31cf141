# -*- test-case-name: tests.test_dps_sim -*-
"""
The device side of a DeviceProtection introduction: the WPS push button,
and one registration run at a time over SendSetupMessage.

The device is the WPS enrollee (L{proxier.upnp.dps.wps.Enrollee}); the control
point introducing itself is the registrar. As in the reference
implementation (linux-igd2 C{deviceprotection.c}):

 - an empty InMessage starts a run and is answered with M1; a run stays
   with the control point that started it: another one asking meanwhile is
   answered 708 (Busy);
 - a non-empty InMessage continues the run; outside a run it is 402;
 - the push-button gate: the registrar's M2D is answered WSC_ACK when the
   button was pressed within the walk time, WSC_NACK otherwise (the run
   then ends); a run that fails (a wrong password half, a message that does
   not authenticate) ends with 704 (Processing Error);
 - the last message, a good M8, introduces the control point: the device's
   C{onIntroduced} adds it to the ACL, and the button press is used up.

The run is bound to the TLS session: the registrar's UUID-R must be the CPID
of the client certificate (L{proxier.upnp.dps.wps.Enrollee} checks it), and the
device's UUID-E is derived from its own certificate.

Sans-IO but for the clock.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Callable, Optional

from twisted.logger import Logger

from proxier.sim.errors import ActionError
from proxier.upnp.dps import codec, wps

__all__ = ["PushButton", "Introductions", "WALK_TIME", "RUN_TIMEOUT"]

#: Wi-Fi Simple Configuration: the push-button walk time (120 s).
WALK_TIME = 120.0
#: A run with no message for this long is over (another control point may start one).
RUN_TIMEOUT = 60.0


class PushButton:
    """
    The device's WPS button: once pressed it is active for the walk time,
    until a run uses it up.
    """

    def __init__(self, clock: Any, walkTime: float = WALK_TIME) -> None:
        self.clock = clock
        self.walkTime = walkTime
        self.pressedAt: Optional[float] = None
        self.presses = 0

    def press(self) -> None:
        self.pressedAt = self.clock.seconds()
        self.presses += 1

    @property
    def active(self) -> bool:
        return self.pressedAt is not None and self.clock.seconds() - self.pressedAt <= self.walkTime

    def release(self) -> None:
        """A run succeeded: the press is used up."""
        self.pressedAt = None


class _Run:
    def __init__(self, cpid: str, enrollee: wps.Enrollee, now: float) -> None:
        self.cpid = cpid
        self.enrollee = enrollee
        self.lastActivity = now


class Introductions:
    """
    SendSetupMessage with ProtocolType WPS, for one device.

    States: C{idle}, C{running} (one control point's run, L{current}).

    @param attributes: what the device says of itself in M1 (its UUID-E the
        UUID of its certificate).
    @param onIntroduced: C{(cpid, certificateDER)} when a run succeeded.
    """

    log = Logger()

    def __init__(self, attributes: wps.DeviceAttributes, button: PushButton, clock: Any,
                 onIntroduced: Callable[[str, bytes], None], *, runTimeout: float = RUN_TIMEOUT,
                 log: Any = None) -> None:
        self.attributes = attributes
        self.button = button
        self.clock = clock
        self.onIntroduced = onIntroduced
        self.runTimeout = runTimeout
        if log is not None:
            self.log = log
        self.current: Optional[_Run] = None
        self.completed = 0
        self.failures = 0

    @property
    def state(self) -> str:
        self._expire()
        return "running" if self.current is not None else "idle"

    def _expire(self) -> None:
        run = self.current
        if run is not None and self.clock.seconds() - run.lastActivity > self.runTimeout:
            self.log.info("introduction run of {cpid} timed out", cpid=run.cpid)
            self.current = None

    def message(self, certificate: Optional[bytes], protocolType: str, inMessage: str) -> str:
        """
        One SendSetupMessage: the base64 InMessage in, the base64 OutMessage out.

        @param certificate: the control point's TLS client certificate (DER).
        @raise ActionError: 600 (not WPS), 402 (bad arguments, or no run),
            606 (no TLS client certificate), 704 (the run failed), 708 (busy).
        """
        if protocolType != "WPS":
            raise ActionError(600, detail=f"introduction protocol {protocolType[:40]!r} is not WPS")
        if certificate is None:
            raise ActionError(606, detail="an introduction needs a TLS session with a client certificate")
        cpid = codec.cpid(certificate)
        self._expire()
        run = self.current
        if run is not None and run.cpid != cpid:
            raise ActionError(708, "Busy", detail=f"introducing {run.cpid} already")
        if not inMessage.strip():
            enrollee = wps.Enrollee(self.attributes, ready=lambda: self.button.active,
                                    expectedUUID=codec.cpidBytes(certificate))
            self.current = _Run(cpid, enrollee, self.clock.seconds())
            self.log.info("introduction of {cpid} begins (button {state})", cpid=cpid,
                          state="pressed" if self.button.active else "not pressed")
            return base64.b64encode(enrollee.start()).decode("ascii")
        if run is None:
            raise ActionError(402, detail="InMessage must be empty to begin an introduction")
        try:
            data = base64.b64decode(inMessage.strip(), validate=True)
        except (binascii.Error, ValueError):
            self.current = None
            raise ActionError(402, detail="InMessage is not base64") from None
        run.lastActivity = self.clock.seconds()
        try:
            out = run.enrollee.receive(data)
        except wps.RegistrationError as e:
            self.current = None
            raise ActionError(402, detail=str(e)) from None
        state = run.enrollee.state
        if state == "failed":
            self.current = None
            self.failures += 1
            self.log.info("introduction of {cpid} failed: {why}", cpid=cpid, why=run.enrollee.failure)
            raise ActionError(704, "Processing Error", detail=run.enrollee.failure)
        if state == "declined":
            self.current = None
            self.log.info("introduction of {cpid}: the button was not pressed", cpid=cpid)
        elif state == "done":
            self.current = None
            self.completed += 1
            self.button.release()
            self.log.info("introduction of {cpid} succeeded", cpid=cpid)
            self.onIntroduced(cpid, certificate)
        return base64.b64encode(out).decode("ascii")
