"""
Test support for the BMS/SMS parts of a Virtual CWMP Device (diagnostics,
logs, firmware): a L{VirtualDevice} with its management over the
simulator's real services, on a L{task.Clock} — and tests that the support
behaves as the real things do.

L{ManagedDevice} builds the Virtual CWMP Device the way the proxy module
does (probe, profile, gate, durable state, the device's own store), bridges
the simulated services' GENA events to it (so ActiveTestIDs and
OperationIDs events arrive as the control point would deliver them, and a
test can lose them), and plays the endpoint with an observer that can be
"in a session".
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet import task
from twisted.trial import unittest

from proxier.datamodel.faults import CWMPFault
from proxier.sim.device import Identity, SimulatedDevice
from proxier.store import Store
from proxier.upnpdm.device import Member, VirtualDevice
from proxier.upnpdm.gate import ActionGate
from proxier.upnpdm.profile import candidates, capabilities, probe
from proxier.upnpdm.state import DeviceState
from tests.test_upnpdm_fakes import RecordingObserver, SimUPnPDevice, schema


class SessionObserver(RecordingObserver):
    """The endpoint as the device sees it: records what it is told, and may be in a session."""

    def __init__(self) -> None:
        super().__init__()
        self.inSession = False


class ManagedDevice:
    """
    One simulated device and its Virtual CWMP Device (with management), on
    a clock.

    @ivar lose: names of services (C{"bms"}, C{"sms"}) whose events are lost.
    """

    def __init__(self, testCase: unittest.TestCase, *, disabled: tuple[str, ...] = (),
                 storePath: Optional[str] = None, clock: Optional[task.Clock] = None,
                 sim: Optional[SimulatedDevice] = None, uploadAgent: Any = None, observe: bool = True) -> None:
        self.testCase = testCase
        self.clock = clock or task.Clock()
        if sim is None:
            sim = SimulatedDevice(Identity.forIndex(0), schema(), self.clock)
            for action in disabled:
                for service in (sim.bms, sim.sms, sim.cms):
                    if action in service.implementedActions():
                        service.disableAction(action)
            sim.setLocation("http://127.0.0.1:49000")
            sim.downtime = 3.0
            sim.powerOn()
        self.sim = sim
        self.storePath = storePath or testCase.mktemp()
        self.store = Store.open(self.storePath)
        self.lose: set[str] = set()
        self.upnp = SimUPnPDevice(self.clock, sim=sim)
        self.observer = SessionObserver()
        self.uploadAgent = uploadAgent
        self.device = self._make(self.upnp)
        self._bridged = False
        self._bridge()
        if observe:
            self.device.addObserver(self.observer)

    def _profile(self, upnp: SimUPnPDevice) -> tuple[Any, Any]:
        gate = ActionGate(lambda: upnp, self.clock)
        [candidate], _ = candidates(upnp.description)
        return candidate, self.testCase.successResultOf(
            probe(gate.call, candidate, capabilities(candidate, upnp.scpd), "2.17"))

    def _make(self, upnp: SimUPnPDevice) -> VirtualDevice:
        candidate, profile = self._profile(upnp)
        state = DeviceState(self.store.document("device"))
        gateFactory = lambda target, **kw: ActionGate(target, self.clock, timeout=10, offlineAfter=2, **kw)
        device = VirtualDevice(profile, Member(upnp, candidate), state, clock=self.clock, gateFactory=gateFactory,
                               probeInterval=30, store=self.store.child("manage"),
                               uploadAgent=(lambda: self.uploadAgent) if self.uploadAgent is not None else None)
        device.attached(upnp, candidate, profile)
        return device

    def _bridge(self) -> None:
        """Deliver the simulated services' events to the Virtual CWMP Device (GENA, without sockets)."""
        if self._bridged:
            return
        self._bridged = True
        for short in ("bms", "sms", "cms"):
            service = getattr(self.sim, short)
            service.addListener(lambda values, short=short: self._deliver(short, values))

    def _deliver(self, short: str, values: list) -> None:
        if short in self.lose or self.upnp.state == "gone":
            return
        name = {"bms": "BasicManagement", "sms": "SoftwareManagement", "cms": "ConfigurationManagement"}[short]
        self.device.eventReceived(self.upnp, self.upnp.service(name), values)

    @property
    def model(self) -> Any:
        return self.device.dataModel()

    def ok(self, d: Any) -> Any:
        return self.testCase.successResultOf(d)

    def fault(self, d: Any) -> CWMPFault:
        return self.testCase.failureResultOf(d, CWMPFault).value

    def values(self, *names: str) -> dict[str, str]:
        return {v.name: v.value for v in self.ok(self.model.getParameterValues(list(names)))}

    def calls(self, short: str) -> list[str]:
        return self.upnp.actions(short)

    def told(self, kind: str) -> list[tuple]:
        return [c for c in self.observer.calls if c[0] == kind]

    def advance(self, seconds: float, step: float = 0.05) -> None:
        """Let C{seconds} pass in small steps (timers that arm timers fire in turn)."""
        self.clock.pump([step] * int(round(seconds / step)))

    def reboot(self, downtime: Optional[float] = None) -> None:
        """The device reboots (byebye AboutToReboot, gone, back with a new BOOTID): as the control point tells it."""
        self.sim.reboot("test reboot")
        self.announceReboot()
        self.clock.advance(downtime if downtime is not None else self.sim.downtime)
        self.comeBack()

    def announceReboot(self) -> None:
        self.device.announced(self.upnp, "AboutToReboot")
        self.upnp.state = "gone"
        self.device.memberGone(self.upnp, "byebye")

    def comeBack(self) -> None:
        """The device is found again (a new control-point view of it)."""
        self.upnp = SimUPnPDevice(self.clock, sim=self.sim)
        candidate, profile = self._profile(self.upnp)
        self.device.attached(self.upnp, candidate, profile)

    def restartProxier(self, observe: bool = True) -> "ManagedDevice":
        """
        The proxier stops (without cleanup) and a new one starts on the same
        state: a new Virtual CWMP Device for the same simulated device.
        """
        self.device.stop()
        again = ManagedDevice.__new__(ManagedDevice)
        again.testCase = self.testCase
        again.clock = self.clock
        again.sim = self.sim
        again.storePath = self.storePath
        again.store = Store.open(self.storePath)
        again.lose = set()
        again.upnp = SimUPnPDevice(self.clock, sim=self.sim)
        again.observer = SessionObserver()
        again.uploadAgent = self.uploadAgent
        self.lose = {"bms", "sms", "cms"}  # the old one hears nothing more
        again.device = again._make(again.upnp)
        again._bridged = False
        again._bridge()
        if observe:
            again.device.addObserver(again.observer)
        return again


class SupportTests(unittest.TestCase):
    def test_managedDeviceHasItsParts(self) -> None:
        """The Virtual CWMP Device gets its management (diagnostics offered by the simulator's BMS) and overlays."""
        lab = ManagedDevice(self)
        self.assertIsNotNone(lab.device.management)
        self.assertIsNotNone(lab.device.management.diagnostics)
        self.assertIn("Device.IP.Diagnostics.IPPing.", [path for path, _ in lab.device.overlays])

    def test_eventsBridgedAndLost(self) -> None:
        """A simulated service's event reaches the device; with its service in C{lose}, it does not."""
        lab = ManagedDevice(self)
        seen: list = []
        lab.device.management.eventReceived = lambda service, values: seen.append(values)
        lab.sim.bms.changed("ActiveTestIDs")
        self.assertEqual(seen, [[("ActiveTestIDs", "")]])
        lab.lose.add("bms")
        lab.sim.bms.changed("ActiveTestIDs")
        self.assertEqual(len(seen), 1)

    def test_rebootIsTold(self) -> None:
        """A reboot of the simulated device reaches the observer as "1 BOOT" (deviceBooted)."""
        lab = ManagedDevice(self)
        lab.reboot()
        self.assertIn(("deviceBooted",), lab.observer.calls)
        self.assertTrue(lab.device.online)
