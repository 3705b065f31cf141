"""
Tests for L{proxier.upnp.dps.security.Introduction}: the proxier's side of the
push-button introduction as a state machine, on a Clock, against the
simulated device's L{Introductions} (no network).
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.serialization import Encoding
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.trial import unittest

from proxier.sim.dps import AccessControl, makeCertificate
from proxier.sim.errors import ActionError as DeviceError
from proxier.sim.wps import Introductions, PushButton
from proxier.upnp.dps import codec, wps
from proxier.upnp.actions import ActionError
from proxier.upnp.dps.security import Introduction
from proxier.upnp.soap import UPnPError


def der(certificate):
    return certificate.public_bytes(Encoding.DER)


class Fixture:
    def __init__(self, timeout=30.0):
        self.clock = Clock()
        self.deviceCert = der(makeCertificate("device")[0])
        self.cpCert = der(makeCertificate("proxier")[0])
        self.access = AccessControl()
        self.button = PushButton(self.clock)
        self.device = Introductions(wps.DeviceAttributes(uuid=codec.cpidBytes(self.deviceCert)), self.button,
                                    self.clock, self.access.introduced)
        self.calls = []
        self.faults = []  # exceptions to answer instead, in turn
        self.results = []
        self.introduction = Introduction(self.call, wps.DeviceAttributes(uuid=codec.cpidBytes(self.cpCert)),
                                         codec.cpidBytes(self.deviceCert), self.clock, timeout,
                                         lambda state, reason: self.results.append((state, reason)), poll=5.0)

    def call(self, action: str, arguments: dict) -> Deferred:
        self.calls.append((action, arguments["InMessage"]))
        if self.faults:
            return fail(self.faults.pop(0))
        try:
            out = self.device.message(self.cpCert, arguments["ProtocolType"], arguments["InMessage"])
        except DeviceError as e:
            return fail(UPnPError(e.code, e.description))
        return succeed({"OutMessage": out})


class IntroductionMachineTests(unittest.SynchronousTestCase):
    def test_waitingThenDone(self):
        """Attempts every poll while the button is not pressed (each a fresh run); pressed, the next one succeeds."""
        f = Fixture()
        f.introduction.start()
        f.clock.advance(0)
        self.assertEqual(f.introduction.state, "waiting")
        self.assertEqual(f.introduction.attempts, 1)
        self.assertEqual([c[1] for c in f.calls][:1], [""])
        f.clock.advance(5)
        self.assertEqual(f.introduction.attempts, 2)
        f.button.press()
        f.clock.advance(5)
        self.assertEqual(f.results, [("done", "")])
        self.assertEqual(f.introduction.state, "done")
        self.assertIn(codec.cpid(f.cpCert), f.access.acl)
        names = [wps.Message.parse(base64.b64decode(c[1])).name for c in f.calls if c[1]]
        self.assertEqual(names[-5:], ["M2D", "M2", "M4", "M6", "M8"])
        self.assertEqual(names[:2], ["M2D", "M2D"])  # the two runs before the button: the gate only

    def test_timesOut(self):
        """Nobody presses within the timeout: C{timedOut}, and no attempt after it."""
        f = Fixture(timeout=12)
        f.introduction.start()
        f.clock.advance(0)
        f.clock.pump([5, 5, 5])
        self.assertEqual(f.results[0][0], "timedOut")
        attempts = f.introduction.attempts
        f.clock.advance(60)
        self.assertEqual(f.introduction.attempts, attempts)
        self.assertEqual(f.clock.getDelayedCalls(), [])

    def test_busyAndUnansweredRetried(self):
        """708 (Busy) and no answer at all are retried at the next poll, not failures."""
        f = Fixture()
        f.faults = [UPnPError(708, "Busy"), ActionError("SendSetupMessage: no answer within 30 s")]
        f.introduction.start()
        f.clock.advance(0)
        f.clock.advance(5)
        self.assertEqual(f.results, [])
        self.assertEqual(f.introduction.state, "waiting")
        f.button.press()
        f.clock.advance(5)
        self.assertEqual(f.results, [("done", "")])

    def test_processingErrorFails(self):
        """The device ending the run with 704 fails the introduction with its reason."""
        f = Fixture()
        f.faults = [UPnPError(704, "Processing Error")]
        f.introduction.start()
        f.clock.advance(0)
        self.assertEqual(f.results[0][0], "failed")
        self.assertIn("704", f.results[0][1])

    def test_impostorDeviceFails(self):
        """A device whose M1 UUID-E is not its certificate's fails the run; the registrar sends a NACK."""
        f = Fixture()
        f.introduction.deviceUUID = b"\x07" * 16
        f.introduction.start()
        f.clock.advance(0)
        self.assertEqual(f.results[0][0], "failed")
        self.assertIn("UUID-E", f.results[0][1])
        self.assertEqual(wps.Message.parse(base64.b64decode(f.calls[-1][1])).name, "WSC_NACK")
        self.assertEqual(f.access.acl, {})

    def test_cancel(self):
        """Cancelled (the device left): no further attempt, nothing reported."""
        f = Fixture()
        f.introduction.start()
        f.clock.advance(0)
        f.introduction.cancel()
        f.clock.advance(30)
        self.assertEqual((f.introduction.state, f.results), ("cancelled", []))
        self.assertEqual(f.introduction.attempts, 1)

    def test_garbageOutMessage(self):
        """An OutMessage that is not base64 fails the introduction, never with another exception."""
        f = Fixture()
        f.call = lambda action, arguments: succeed({"OutMessage": "%%%"})
        f.introduction.call = f.call
        f.introduction.start()
        f.clock.advance(0)
        self.assertEqual(f.results[0][0], "failed")
