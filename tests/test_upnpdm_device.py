"""
Tests for L{proxier.upnpdm.device}: a Virtual CWMP Device's life as its
observer (the CWMP endpoint) hears it — TR-330 Table 1's BOOT and BOOTSTRAP
rows, offline and online (TR-069 J.2.3), value changes — on a clock, with
the simulator's device behind it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from twisted.internet import task
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from proxier.datamodel.composite import CompositeDataModel
from proxier.datamodel.declarations import Object, Parameter
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import String
from proxier.datamodel.values import ParameterValue
from proxier.interfaces import IDeviceAttention, IProxiedDevice
from proxier.proxy.device import DeviceStatus
from proxier.proxy.gate import ActionGate
from proxier.store import Store
from proxier.upnp.dps.security import DeviceSecurity
from proxier.upnp.tracker import Change
from proxier.upnpdm.cmspaths import CWMP_ROOT
from proxier.upnpdm.device import VirtualDevice, announcementKind
from proxier.upnpdm.errors import refusedByDevice
from proxier.upnpdm.profile import candidates, capabilities, probe
from proxier.upnpdm.state import DeviceState
from tests.test_upnpdm_fakes import RecordingObserver, SimUPnPDevice


class DeviceTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.store = Store.open(self.mktemp())
        self.upnp = SimUPnPDevice(self.clock)
        self.sim = self.upnp.sim
        self.sim.downtime = 3.0
        self.observer = RecordingObserver()
        self.device = self.make(self.upnp)
        self.device.addObserver(self.observer)
        self.device.dataModel().addChangeListener(self.observer.changed)  # as the endpoint listens

    def profileOf(self, upnp: SimUPnPDevice) -> Any:
        gate = ActionGate(lambda: upnp, self.clock, refused=refusedByDevice)
        [candidate], _ = candidates(upnp.description)
        return candidate, self.successResultOf(probe(gate.call, candidate, capabilities(candidate, upnp.scpd), "2.17"))

    def make(self, upnp: SimUPnPDevice) -> VirtualDevice:
        candidate, profile = self.profileOf(upnp)
        state = DeviceState(self.store.document("device"))
        gateFactory = lambda target, **kw: ActionGate(target, self.clock, refused=refusedByDevice, timeout=10,
                                                      offlineAfter=2, **kw)
        device = VirtualDevice(profile, _member(upnp, candidate), state, clock=self.clock, gateFactory=gateFactory,
                               probeInterval=30)
        device.attached(upnp, candidate, profile)
        return device

    def backAfter(self, seconds: float) -> SimUPnPDevice:
        """The simulated device comes back: the control point's new UPnPDevice for it."""
        self.clock.advance(seconds)
        self.upnp.state = "gone"
        upnp = SimUPnPDevice(self.clock, sim=self.sim)
        return upnp

    def attach(self, upnp: SimUPnPDevice) -> None:
        candidate, profile = self.profileOf(upnp)
        self.device.attached(upnp, candidate, profile)


def _member(upnp: Any, candidate: Any) -> Any:
    from proxier.upnpdm.device import Member

    return Member(upnp, candidate)


class LifeTests(DeviceTestCase):
    def test_firstDiscovery(self) -> None:
        """First discovery: an online IProxiedDevice, keyed by its identity, telling nothing yet."""
        self.assertTrue(IProxiedDevice.providedBy(self.device))
        self.assertEqual(self.device.key, "02C0DE-SimDM-SIM000000")
        self.assertEqual((self.device.proxyProtocol, self.device.discoveryProtocol), ("UPnP-DM", "UPnP"))
        self.assertTrue(self.device.online)
        self.assertEqual(self.device.host, "127.0.0.1")
        self.assertEqual(self.observer.calls, [])
        self.assertTrue(self.device.watcher.swept)

    def test_observersDeclared(self) -> None:
        """
        Observers are IDeviceObservers, called through that interface: an
        object that merely has methods of those names is refused (TypeError)
        and never told; one observer failing does not keep the event from the
        others (logged).
        """

        class Lookalike:
            def deviceOffline(self, device: Any) -> None:
                raise AssertionError("called by name")

        self.assertRaises(TypeError, self.device.addObserver, Lookalike())
        broken = RecordingObserver()
        broken.deviceOffline = lambda device: 1 / 0  # type: ignore[method-assign]
        self.device.removeObserver(self.observer)
        self.device.addObserver(broken)
        self.device.addObserver(self.observer)
        self.device.memberGone(self.upnp, "byebye")
        self.assertEqual(self.observer.kinds(), ["deviceOffline"])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_rebootAnnounced(self) -> None:
        """Table 1 "1 BOOT": AboutToReboot kept; byebye → offline; alive → booted and online."""
        self.device.announced(self.upnp, "AboutToReboot")
        self.assertEqual(DeviceState(self.store.document("device")).announcement, "AboutToReboot")
        self.sim.reboot()
        self.device.memberGone(self.upnp, "byebye")
        self.assertEqual(self.observer.kinds(), ["deviceOffline"])
        self.attach(self.backAfter(3))
        self.assertEqual(self.observer.kinds(), ["deviceOffline", "deviceBooted", "deviceOnline"])
        self.assertEqual(self.device.state.announcement, "")

    def test_baselineResetAnnounced(self) -> None:
        """Table 1 "0 BOOTSTRAP": AboutToBaselineReset (with AboutToReboot) → factory reset, caches rebuilt."""
        self.successResultOf(self.device.model.addObject("Device.Hosts.Host."))
        self.device.state.baselines.setAttributes("Device.Time.NTPServer1", 2)
        self.device.announced(self.upnp, "AboutToBaselineReset")
        self.device.announced(self.upnp, "AboutToReboot")
        self.sim.baselineReset()
        self.device.memberGone(self.upnp, "byebye")
        self.attach(self.backAfter(3))
        self.assertEqual(self.observer.kinds(), ["deviceOffline", "deviceFactoryReset", "deviceOnline"])
        self.assertEqual(self.device.state.baselines.attributes, {})
        self.assertEqual(self.device.state.instances.known("/BBF/Hosts/Host/"), {0: 1, 1: 2})

    def test_quickRebootWithoutLeaving(self) -> None:
        """Rebooted within the control point's byebye grace: a changed BOOTID with the announcement is a boot."""
        self.device.announced(self.upnp, "AboutToReboot")
        self.sim.reboot()
        self.clock.advance(3)
        self.upnp.bootId = self.sim.bootId
        self.device.changed(self.upnp, Change(bootId=True))
        self.assertEqual(self.observer.kinds(), ["deviceBooted"])

    def test_rebootWithoutAnnouncement(self) -> None:
        """A new BOOTID with no announcement (a power cycle) is a boot too."""
        self.sim.powerOff()
        self.device.memberGone(self.upnp, "expired")
        self.sim.powerOn()
        self.attach(self.backAfter(1))
        self.assertEqual(self.observer.kinds(), ["deviceOffline", "deviceBooted", "deviceOnline"])

    def test_backWithoutReboot(self) -> None:
        """Back with the same BOOTID (it was only out of reach): online, no boot."""
        self.device.memberGone(self.upnp, "expired")
        self.upnp.state = "ready"
        self.attach(self.upnp)
        self.assertEqual(self.observer.kinds(), ["deviceOffline", "deviceOnline"])

    def test_addressChangeIsNoBoot(self) -> None:
        """An ssdp:update (new address, new BOOTID by the rules) is no boot."""
        self.upnp.bootId += 1
        self.device.changed(self.upnp, Change(location=True, update=True))
        self.assertEqual(self.observer.kinds(), [])

    def test_bootSeenAfterProxierRestart(self) -> None:
        """The device rebooted while the proxier was down: told at discovery, kept until an observer comes."""
        self.device.stop()
        self.sim.reboot()
        self.clock.advance(3)
        upnp = SimUPnPDevice(self.clock, sim=self.sim)
        device = self.make(upnp)
        observer = RecordingObserver()
        device.addObserver(observer)
        self.assertEqual(observer.kinds(), ["deviceBooted"])

    def test_announcementSurvivesRestart(self) -> None:
        """AboutToReboot heard, then the proxier restarts before the alive: still a boot."""
        self.device.announced(self.upnp, "AboutToReboot")
        self.device.stop()
        self.sim.reboot()
        self.clock.advance(3)
        device = self.make(SimUPnPDevice(self.clock, sim=self.sim))
        observer = RecordingObserver()
        device.addObserver(observer)
        self.assertEqual(observer.kinds(), ["deviceBooted"])

    def test_announcementKind(self) -> None:
        """A reset wins over a reboot in one header; unknown values map to nothing."""
        self.assertEqual(announcementKind("AboutToReboot"), "AboutToReboot")
        self.assertEqual(announcementKind("AboutToReboot, AboutToBaselineReset"), "AboutToBaselineReset")
        self.assertEqual(announcementKind("Whatever"), "")
        self.device.announced(self.upnp, "Whatever")
        self.assertEqual(self.device.state.announcement, "")


class ReachabilityTests(DeviceTestCase):
    def test_unansweredActionsThenBack(self) -> None:
        """Actions unanswered (two in a row here): offline; the probe finds it answering: online."""
        self.upnp.unreachable = True
        self.device.model.getParameterValues(["Device.Time.Enable"]).addErrback(lambda f: None)
        self.device.model.getParameterValues(["Device.Time.Enable"]).addErrback(lambda f: None)
        self.assertEqual(self.observer.kinds(), ["deviceOffline"])
        self.assertFalse(self.device.online)
        self.clock.advance(30)
        self.assertEqual(self.observer.kinds(), ["deviceOffline"])  # still not answering: probed again later
        self.upnp.unreachable = False
        self.clock.advance(30)
        self.assertEqual(self.observer.kinds(), ["deviceOffline", "deviceOnline"])
        self.assertEqual(self.device.status, DeviceStatus.ONLINE)

    def test_otherMemberStillServes(self) -> None:
        """A second UPnP device with the same identity keeps the Virtual CWMP Device online when one leaves."""
        other = SimUPnPDevice(self.clock, sim=self.sim)
        self.attach(other)
        self.device.memberGone(self.upnp, "byebye")
        self.assertEqual(self.observer.kinds(), [])
        self.upnp.state = "gone"
        self.successResultOf(self.device.model.getParameterValues(["Device.Time.Enable"]))
        self.assertTrue(other.calls)


class EventTests(DeviceTestCase):
    def test_valueChange(self) -> None:
        """A CMS event of the serving member reaches the watcher; the change reaches the model's listeners."""
        self.sim.cms.addListener(lambda variables: self.device.eventReceived(
            self.upnp, self.upnp.service("ConfigurationManagement"), variables))
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "x.example")
        [call] = self.observer.calls
        self.assertEqual(call[0], "valueChange")
        self.assertEqual([v.name for v in call[1]], ["Device.Time.NTPServer1"])

    def test_changeBeforeAnyoneListens(self) -> None:
        """
        A change found before the endpoint listens (the device known from an
        earlier run, changed while the proxier was down) leaves the durable
        baseline as it was, goes to no observer, and is reported to the first
        listener of the model, once.
        """
        self.device.stop()
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "changed-while-down")
        device = self.make(SimUPnPDevice(self.clock, sim=self.sim))
        observer = RecordingObserver()
        device.addObserver(observer)
        self.assertEqual(observer.calls, [])
        self.assertEqual(DeviceState(self.store.document("device")).baselines.values["/BBF/Time/NTPServer1"],
                         "pool.ntp.org")
        device.dataModel().addChangeListener(observer.changed)
        self.assertEqual(observer.calls, [
            ("valueChange", (ParameterValue("Device.Time.NTPServer1", "changed-while-down"),), False)])
        device.dataModel().addChangeListener(RecordingObserver().changed)
        self.assertEqual(len(observer.calls), 1)

    def test_changeThroughOverlays(self) -> None:
        """With overlays mounted, the device's changes reach the listeners of the composite it gives."""
        overlay = TreeDataModel(Object("Device", Object("X_TEST", Parameter("A", String(), value="a"))), None)
        self.device.model.removeChangeListener(self.observer.changed)
        self.device.overlays += (("Device.X_TEST.", overlay),)
        self.device.dataModel().addChangeListener(self.observer.changed)
        self.sim.cms.addListener(lambda variables: self.device.eventReceived(
            self.upnp, self.upnp.service("ConfigurationManagement"), variables))
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "x.example")
        self.assertEqual(self.observer.calls, [
            ("valueChange", (ParameterValue("Device.Time.NTPServer1", "x.example"),), False)])

    def test_otherServicesIgnored(self) -> None:
        """Events of another service are not the watcher's."""
        self.device.eventReceived(self.upnp, self.upnp.service("BasicManagement"), [("ConfigurationUpdate", "9")])
        self.assertEqual(self.device.watcher.counts["checks"], 1)

    def test_staleStateChecked(self) -> None:
        """The control point says state may be stale: a check runs."""
        before = self.device.watcher.counts["checks"]
        self.device.stateMayBeStale(self.upnp, self.upnp.service("ConfigurationManagement"), "seq-gap")
        self.assertEqual(self.device.watcher.counts["checks"], before + 1)


class OverlayTests(DeviceTestCase):
    def test_overlaysMounted(self) -> None:
        """Without overlays the model is the CMS model; with one, a composite mounting it (issue 7's place)."""
        self.assertIs(self.device.dataModel(), self.device.model)
        overlay = TreeDataModel(Object("Device", Object("X_TEST", Parameter("A", String(), value="a"))), None)
        self.device.overlays += (("Device.X_TEST.", overlay),)
        model = self.device.dataModel()
        self.assertIsInstance(model, CompositeDataModel)
        values = self.successResultOf(model.getParameterValues(["Device.X_TEST.A", "Device.Time.Enable"]))
        self.assertEqual([v.name for v in values], ["Device.X_TEST.A", "Device.Time.Enable"])

    def test_mountedWhereTheModelSays(self) -> None:
        """The CMS model is mounted where it says it mounts (TR-330 §4.6.1's root), not at a path the device picks."""
        self.assertEqual(self.device.model.mountPoint, CWMP_ROOT)
        self.device.model.mountPoint = "Device.X_TEST_Elsewhere."
        overlay = TreeDataModel(Object("Device", Object("X_TEST", Parameter("A", String(), value="a"))), None)
        self.device.overlays += (("Device.X_TEST.", overlay),)
        self.assertEqual([m.prefix for m in self.device.dataModel().mounts()],
                         ["Device.X_TEST_Elsewhere.", "Device.X_TEST."])


class _Layer:
    """The control point's DeviceProtection layer as a member's notices come from it."""

    def __init__(self, notices: list) -> None:
        self._notices = notices

    def notices(self, upnp: Any) -> list:
        return list(self._notices)


class _Management:
    def __init__(self, diagnostics: Any) -> None:
        self.diagnostics = diagnostics

    def stop(self) -> None:
        pass


class AttentionTests(DeviceTestCase):
    def test_notices(self) -> None:
        """
        IDeviceAttention: nothing for an unprotected device without
        diagnostics; else its members' DeviceProtection notices and its
        diagnostics' (the generic part), what someone must do first.
        """
        verifyObject(IDeviceAttention, self.device)
        self.assertEqual(self.device.notices(), ())
        self.upnp.security = DeviceSecurity()
        self.upnp.controlPoint = SimpleNamespace(security=_Layer([
            ("info", "DeviceProtection: role granted: Admin", ""),
            ("action", "DeviceProtection: press the device's WPS/introduction button", "2026-12-06T13:00:00+00:00")]))
        self.device.management = _Management(SimpleNamespace(notices=lambda: [
            ("info", "diagnostics IPPing running (asked by the ACS)", "")]))
        self.assertEqual([text for _, text, _ in self.device.notices()], [
            "DeviceProtection: press the device's WPS/introduction button",
            "DeviceProtection: role granted: Admin",
            "diagnostics IPPing running (asked by the ACS)"])

    def test_keepAliveFallbackNotice(self) -> None:
        """A member the control point reaches one request per connection says so, and why (issue 19)."""
        self.assertEqual(self.device.notices(), ())
        self.upnp.keepAliveFallback = "answers Connection: close every time"
        self.assertEqual(self.device.notices(), (
            ("info", "reached one request per connection: it answers Connection: close every time", ""),))


class RestartingTests(DeviceTestCase):
    def test_eventsIgnoredWhileRestarting(self) -> None:
        """
        After AboutToBaselineReset, events of the device (the new subscription's first one, even before
        the control point says the device changed) start no check: the reset is what the ACS hears.
        """
        self.device.announced(self.upnp, "AboutToBaselineReset")
        self.sim.baselineReset()
        self.clock.advance(3)
        checks = self.device.watcher.counts["checks"]
        self.device.eventReceived(self.upnp, self.upnp.service("ConfigurationManagement"),
                                  [("ConfigurationUpdate", "99,x")])
        self.device.stateMayBeStale(self.upnp, self.upnp.service("ConfigurationManagement"), "resubscribed")
        self.assertEqual(self.device.watcher.counts["checks"], checks)
        self.upnp.bootId = self.sim.bootId
        self.device.changed(self.upnp, Change(bootId=True))
        self.assertEqual(self.observer.kinds(), ["deviceFactoryReset"])
        self.assertFalse([c for c in self.observer.calls if c[0] == "valueChange"])


class KeyTests(unittest.TestCase):
    def test_longIdentity(self) -> None:
        """A key fits the store's names even for 64-character product classes and serials, and stays distinct."""
        from proxier.datamodel.values import DeviceIdentity
        from proxier.proxy.device import MAX_KEY, deviceKey

        short = DeviceIdentity("M", "00D0F5", "Lamp", "L-1")
        self.assertEqual(deviceKey(short), short.key)
        a = DeviceIdentity("M", "00D0F5", "P" * 64, "S" * 63 + "1")
        b = DeviceIdentity("M", "00D0F5", "P" * 64, "S" * 63 + "2")
        self.assertLessEqual(len(deviceKey(a)), MAX_KEY)
        self.assertNotEqual(deviceKey(a), deviceKey(b))
        self.assertEqual(deviceKey(a), deviceKey(DeviceIdentity("M", "00D0F5", "P" * 64, "S" * 63 + "1")))
        from proxier.store import Store

        store = Store.open(self.mktemp())
        store.child("endpoint-" + deviceKey(a))
        store.document("device-" + deviceKey(a))
