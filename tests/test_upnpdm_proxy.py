"""
Tests for L{proxier.upnpdm.proxy}: from the control point's news to Virtual
CWMP Devices — deciding to proxy (TR-330 §4.1.1), one device per identity,
retries, refusals logged with the UDN and address, routing of events — and
the service the plugin makes.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.logger import LogLevel
from twisted.trial import unittest
from zope.interface.registry import Components

from proxier.config import load
from proxier.interfaces import IDataModel
from proxier.sim.device import Identity, SimulatedDevice
from proxier.store import Store
from proxier.upnp.tracker import Change
from proxier.upnpdm.errors import refusedByDevice
from proxier.upnpdm.proxy import PROBE_RETRY, SERVICE_NAME, UPnPDMProxy, UPnPDMService
from proxier.upnpdm.settings import SECTION, ProxySettings
from tests._helpers import LogCapture
from tests.test_upnpdm_fakes import RecordingObserver, SimUPnPDevice, schema


class ProxyTestCase(unittest.TestCase):
    settings = ProxySettings()

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.appeared: list = []
        self.store = Store.open(self.mktemp())
        self.proxy = UPnPDMProxy(self.appeared.append, self.store, self.settings, self.clock)
        self.logs = LogCapture(self)

    def warnings(self) -> list[str]:
        from twisted.logger import formatEvent

        return [formatEvent(e) for e in self.logs.atLeast(LogLevel.warn)]


class DiscoveryTests(ProxyTestCase):
    def twins(self) -> tuple[SimUPnPDevice, SimUPnPDevice]:
        """Two UPnP devices (two UDNs, two hosts) with the same Common Objects."""
        first = SimUPnPDevice(self.clock)
        twin = SimulatedDevice(Identity.forIndex(0, udn="uuid:11111111-2222-3333-4444-555555555555"), schema(),
                               self.clock)
        twin.setLocation("http://127.0.0.2:49001")
        twin.powerOn()
        return first, SimUPnPDevice(self.clock, sim=twin, host="127.0.0.2")

    def test_appearsOnce(self) -> None:
        """A UPnP DM device becomes one Virtual CWMP Device, reported once, named by its identity."""
        upnp = SimUPnPDevice(self.clock)
        self.proxy.deviceReady(upnp)
        [device] = self.appeared
        self.assertEqual(device.key, "02C0DE-SimDM-SIM000000")
        self.assertIn("02C0DE-SimDM-SIM000000", upnp.log.device)
        upnp.state = "gone"
        self.proxy.deviceGone(upnp, "byebye")
        self.assertFalse(device.online)
        again = SimUPnPDevice(self.clock, sim=upnp.sim)
        self.proxy.deviceReady(again)
        self.assertEqual(len(self.appeared), 1)
        self.assertTrue(device.online)

    def test_sameIdentityIsOneDevice(self) -> None:
        """Two UPnP devices (two UDNs) with the same Common Objects are one Virtual CWMP Device."""
        first, second = self.twins()
        self.proxy.deviceReady(first)
        self.proxy.deviceReady(second)
        [device] = self.appeared
        self.assertEqual(len(device.members), 2)

    def test_identityChangeMovesTheMember(self) -> None:
        """
        A UPnP device that says another identity when described again leaves
        its old Virtual CWMP Device for the new one: from then on its news
        (announcements, its leaving) reach the new device only — the index of
        devices by member is not left pointing at the old one.
        """
        upnp = SimUPnPDevice(self.clock)
        self.proxy.deviceReady(upnp)
        [old] = self.appeared
        other = SimulatedDevice(Identity.forIndex(1, udn=upnp.sim.udn), schema(), self.clock)
        other.setLocation("http://127.0.0.1:49000")
        other.powerOn()
        upnp.sim = other
        self.proxy.deviceChanged(upnp, Change(configId=True))
        [_, new] = self.appeared
        self.assertEqual((old.key, new.key), ("02C0DE-SimDM-SIM000000", "02C0DE-SimDM-SIM000001"))
        self.assertEqual((old.members, [m.upnp for m in new.members]), ((), [upnp]))
        self.assertEqual((old.online, new.online), (False, True))
        self.proxy.announcement(upnp, "AboutToReboot")
        self.assertEqual((old.state.announcement, new.state.announcement), ("", "AboutToReboot"))
        upnp.state = "gone"
        self.proxy.deviceGone(upnp, "byebye")
        self.assertFalse(new.online)
        self.assertEqual(self.proxy._byUPnP, {upnp.udn: (new,)})

    def test_replacedMemberIndexed(self) -> None:
        """
        The same device found again under a new UPnP device object replaces
        the old member: the old object's late news reaches no device, the
        new one's does, and one shared UDN index entry remains.
        """
        first = SimUPnPDevice(self.clock)
        self.proxy.deviceReady(first)
        [device] = self.appeared
        first.state = "gone"
        self.proxy.deviceGone(first, "byebye")
        again = SimUPnPDevice(self.clock, sim=first.sim)
        self.proxy.deviceReady(again)
        self.assertTrue(device.online)
        self.assertEqual([m.upnp for m in device.members], [again])
        self.proxy.deviceGone(first, "expired")  # the old object's news, late
        self.assertTrue(device.online)
        self.proxy.announcement(again, "AboutToReboot")
        self.assertEqual(device.state.announcement, "AboutToReboot")
        self.assertEqual(self.proxy._byUPnP, {again.udn: (device,)})

    def test_indexOfTwoMembers(self) -> None:
        """A Virtual CWMP Device of two UPnP devices is found from either; one leaving leaves the other's entry."""
        first, second = self.twins()
        self.proxy.deviceReady(first)
        self.proxy.deviceReady(second)
        [device] = self.appeared
        self.assertEqual(set(self.proxy._byUPnP), {first.udn, second.udn})
        for upnp in (first, second):
            self.assertEqual(self.proxy._devicesOf(upnp), [device])
        device.removeMember(second, second.udn)
        self.assertEqual((self.proxy._byUPnP, self.proxy._devicesOf(second)), ({first.udn: (device,)}, []))

    def test_noIdentityNotProxied(self) -> None:
        """No OUI in the Common Objects: not proxied, logged once with the UDN and the address."""
        upnp = SimUPnPDevice(self.clock, oui="")
        self.proxy.deviceReady(upnp)
        self.proxy.deviceReady(upnp)
        self.assertEqual(self.appeared, [])
        [warning] = [w for w in self.warnings() if "not proxied" in w]
        self.assertIn(upnp.udn, warning)
        self.assertIn("127.0.0.1", warning)
        self.assertIn("ManufacturerOUI", warning)

    def test_noSerialNumberNotProxied(self) -> None:
        """No serial number: not proxied either."""
        self.proxy.deviceReady(SimUPnPDevice(self.clock, serialNumber=""))
        self.assertEqual(self.appeared, [])
        self.assertTrue(any("SerialNumber" in w for w in self.warnings()))

    def test_transientFailureRetried(self) -> None:
        """A device that does not answer its probe is asked again a few times, then given up (logged)."""
        upnp = SimUPnPDevice(self.clock)
        upnp.unreachable = True
        self.proxy.deviceReady(upnp)
        self.clock.advance(PROBE_RETRY)
        self.assertEqual(self.appeared, [])
        upnp.unreachable = False
        self.clock.advance(PROBE_RETRY * 2)
        self.assertEqual(len(self.appeared), 1)

    def test_givenUp(self) -> None:
        """After probe_attempts tries the device is given up until it announces itself again."""
        upnp = SimUPnPDevice(self.clock)
        upnp.unreachable = True
        self.proxy.deviceReady(upnp)
        self.clock.pump([5] * 20)
        self.assertEqual(self.appeared, [])
        self.assertEqual(len([c for c in upnp.calls if c[1] == "GetSupportedDataModels"]), 3)
        self.assertTrue(any("tried 3 times" in w for w in self.warnings()))

    def test_goneWhileProbing(self) -> None:
        """A device that leaves while probed is not reported."""
        upnp = SimUPnPDevice(self.clock)
        upnp.delay = 1.0
        self.proxy.deviceReady(upnp)
        upnp.state = "gone"
        self.proxy.deviceGone(upnp, "byebye")
        self.clock.advance(10)
        self.assertEqual(self.appeared, [])

    def test_routing(self) -> None:
        """Announcements, changes and events reach the Virtual CWMP Device of the UPnP device."""
        upnp = SimUPnPDevice(self.clock)
        self.proxy.deviceReady(upnp)
        [device] = self.appeared
        observer = RecordingObserver()
        device.addObserver(observer)
        device.dataModel().addChangeListener(observer.changed)  # as the endpoint listens
        self.proxy.announcement(upnp, "AboutToReboot")
        self.assertEqual(device.state.announcement, "AboutToReboot")
        upnp.sim.reboot()
        self.clock.advance(upnp.sim.downtime)
        upnp.bootId = upnp.sim.bootId
        self.proxy.deviceChanged(upnp, Change(bootId=True))
        self.assertEqual(observer.kinds(), ["deviceBooted"])
        checks = device.watcher.counts["checks"]
        self.proxy.stateMayBeStale(upnp, upnp.service("ConfigurationManagement"), "poll")
        self.assertGreater(device.watcher.counts["checks"], checks)

    def test_stop(self) -> None:
        """Stopping cancels retries; nothing is reported after."""
        upnp = SimUPnPDevice(self.clock)
        upnp.unreachable = True
        self.proxy.deviceReady(upnp)
        self.proxy.stop()
        upnp.unreachable = False
        self.clock.advance(100)
        self.assertEqual(self.appeared, [])


class GateTests(ProxyTestCase):
    def test_gatesKnowUPnP(self) -> None:
        """The gates the proxy makes are told UPnP's refusals, and take the [upnp] settings."""
        settings = ProxySettings(actionTimeout=12, actionConcurrency=3, actionQueueLimit=5, offlineAfterFailures=4)
        proxy = UPnPDMProxy(self.appeared.append, self.store, settings, self.clock)
        gate = proxy.makeGate(lambda: None)
        self.assertIs(gate.refused, refusedByDevice)
        self.assertEqual((gate.timeout, gate.concurrency, gate.queueLimit, gate.offlineAfter), (12.0, 3, 5, 4))


class RequireRebootTests(ProxyTestCase):
    settings = ProxySettings(requireReboot=True)

    def test_refusedWithoutReboot(self) -> None:
        """[upnp] require_reboot: a device without BMS Reboot is not proxied, and the log says why."""
        sim = SimulatedDevice(Identity.forIndex(0), schema(), self.clock)
        sim.bms.disableAction("Reboot")
        sim.setLocation("http://127.0.0.1:49000")
        sim.powerOn()
        self.proxy.deviceReady(SimUPnPDevice(self.clock, sim=sim))
        self.assertEqual(self.appeared, [])
        self.assertTrue(any("require_reboot" in w for w in self.warnings()))

    def test_withRebootProxied(self) -> None:
        """With BMS Reboot the device is proxied as usual."""
        self.proxy.deviceReady(SimUPnPDevice(self.clock))
        self.assertEqual(len(self.appeared), 1)


class FakeControlPoint:
    """Just what UPnPDMService uses of a ControlPoint."""

    def __init__(self) -> None:
        from twisted.application.service import MultiService

        self.service = MultiService()
        self.observers: list = []

    def addObserver(self, observer: Any) -> None:
        self.observers.append(observer)

    def setServiceParent(self, parent: Any) -> None:
        self.service.setServiceParent(parent)


class Context:
    def __init__(self, store: Store) -> None:
        self.reactor = task.Clock()
        self.registry = Components()
        self.config = load(None, [SECTION])
        self.store = store
        self.deviceTimeout = 10.0
        self.acsAgent = object()  # never used: no upload here
        self.appeared: list = []

    def deviceAppeared(self, device: Any) -> None:
        self.appeared.append(device)

    def deviceRemoved(self, device: Any) -> None:
        pass


class ServiceTests(unittest.TestCase):
    def test_deviceProtectionStateKept(self) -> None:
        """
        The control point the service makes keeps DeviceProtection's state in
        the proxier's state directory: a service made again on the same
        directory (a restart) has the same identity, which secured devices
        know it by, and the pins it learnt.
        """
        from twisted.internet.testing import MemoryReactorClock

        def context() -> Context:
            made = Context(Store.open(path))
            made.reactor = MemoryReactorClock()  # the control point made from the configuration listens
            return made

        path = self.mktemp()
        first = UPnPDMService(context())
        identity = first.controlPoint.security.identity.load()
        first.controlPoint.security.pins.pin("uuid:dev-1", "SHA256:" + "AB" * 32, "192.0.2.7")
        again = UPnPDMService(context())
        self.assertEqual(again.controlPoint.security.identity.load().cpid, identity.cpid)
        self.assertEqual(again.controlPoint.security.pins.pinned("uuid:dev-1"), "SHA256:" + "AB" * 32)

    def test_service(self) -> None:
        """The service is named UPnP-DM, observes the control point, and registers the IDataModel adapter."""
        context = Context(Store.open(self.mktemp()))
        controlPoint = FakeControlPoint()
        service = UPnPDMService(context, controlPoint=controlPoint)
        self.assertEqual(service.name, SERVICE_NAME)
        self.assertEqual(controlPoint.observers, [service.proxy])
        upnp = SimUPnPDevice(context.reactor)
        service.proxy.deviceReady(upnp)
        [device] = context.appeared
        model = context.registry.queryAdapter(device, IDataModel)
        self.assertIs(model, device.dataModel())
        self.assertEqual(service.settings, ProxySettings.fromConfig(context.config, 10.0))
        self.assertEqual(service.settings.actionTimeout, 9, "inside the context's deviceTimeout")
        self.assertIs(service._uploadAgent(), context.acsAgent)
        seen: list = []

        class Observer:
            def actionStarted(self, gate, service, action, arguments):
                seen.append(action)

            def actionEnded(self, *args):
                pass

        service.addActionObserver(Observer())
        self.successResultOf(model.getParameterValues(["Device.Time.Enable"]))
        self.assertEqual(seen, ["GetValues"])
