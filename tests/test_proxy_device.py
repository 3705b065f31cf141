"""
Tests for L{proxier.proxy.device}: the protocol-free half of a proxied
device — its key, its observers and the events waiting for the first one,
and its status moves — with a subclass that is only that.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.testing import EventLoggingObserver
from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IDeviceObserver, IProxiedDevice
from proxier.proxy.device import MAX_PENDING_EVENTS, TRANSITIONS, DeviceStatus, ProxiedDevice, deviceKey

IDENTITY = DeviceIdentity("M", "00D0F5", "Lamp", "L-1")


class Lamp(ProxiedDevice):
    """A proxied device with nothing of a protocol: its tests move it by hand."""

    proxyProtocol = "X_00D0F5_Lamp"
    discoveryProtocol = ""
    host = "192.0.2.7"


@implementer(IDeviceObserver)
class Recorder:
    """An IDeviceObserver recording each call with the device it names."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def kinds(self) -> list[str]:
        return [c[0] for c in self.calls]

    def deviceOnline(self, device: Any) -> None:
        self.calls.append(("deviceOnline", device))

    def deviceOffline(self, device: Any) -> None:
        self.calls.append(("deviceOffline", device))

    def deviceBooted(self, device: Any) -> None:
        self.calls.append(("deviceBooted", device))

    def deviceFactoryReset(self, device: Any) -> None:
        self.calls.append(("deviceFactoryReset", device))

    def diagnosticsComplete(self, device: Any) -> None:
        self.calls.append(("diagnosticsComplete", device))

    def transferComplete(self, device: Any, result: Any) -> None:
        self.calls.append(("transferComplete", device, result))

    def autonomousTransferComplete(self, device: Any, result: Any) -> None:
        self.calls.append(("autonomousTransferComplete", device, result))


class ProxiedDeviceTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.device = Lamp(IDENTITY)
        self.observer = Recorder()
        self.logged = EventLoggingObserver.createWithCleanup(self, globalLogPublisher)

    def messages(self, level: LogLevel) -> list[str]:
        """The text of the lines logged at C{level}, in order."""
        return [formatEvent(e) for e in self.logged if e["log_level"] == level]


class IdentityTests(ProxiedDeviceTestCase):
    def test_proxiedDevice(self) -> None:
        """A subclass giving its protocols is a whole IProxiedDevice, online, keyed by its identity."""
        verifyObject(IProxiedDevice, self.device)
        self.assertEqual(self.device.key, "00D0F5-Lamp-L-1")
        self.assertEqual(self.device.key, deviceKey(IDENTITY))
        self.assertTrue(self.device.online)
        self.assertEqual(repr(self.device), f"<Lamp {IDENTITY} online>")

    def test_slots(self) -> None:
        """A subclass may keep its own state in slots: none of the device's own state needs an instance dict (issue 19)."""

        class SlottedLamp(ProxiedDevice):
            __slots__ = ("brightness",)
            proxyProtocol = Lamp.proxyProtocol
            discoveryProtocol = ""
            host = Lamp.host

        device = SlottedLamp(IDENTITY)
        self.assertFalse(hasattr(device, "__dict__"))
        device.brightness = 3
        self.assertEqual((device.host, device.diagnostics, device.notices()), ("192.0.2.7", None, ()))
        device.addObserver(self.observer)
        device._tellBooted()
        self.assertEqual(self.observer.kinds(), ["deviceBooted"])

    def test_logsInSubclassNamespace(self) -> None:
        """Its log lines name the device and come from the protocol's module, as they did before the move."""
        self.device._moveTo(DeviceStatus.OFFLINE, "unplugged")
        [event] = [e for e in self.logged if "offline" in e.get("log_format", "")]
        self.assertEqual(event["log_namespace"], __name__)
        self.assertEqual(event["device"], str(IDENTITY))


class ObserverTests(ProxiedDeviceTestCase):
    def test_observerVerified(self) -> None:
        """The test's observer provides IDeviceObserver fully, so what it records is what the interface carries."""
        verifyObject(IDeviceObserver, self.observer)

    def test_everyEventThroughTheInterface(self) -> None:
        """Each helper calls the IDeviceObserver method of its event, naming the device and passing its arguments."""
        self.device.addObserver(self.observer)
        self.device._tellBooted()
        self.device._tellFactoryReset()
        self.device._tellDiagnosticsComplete()
        self.device._tellTransferComplete("t")
        self.device._tellAutonomousTransferComplete("a")
        self.assertEqual(self.observer.calls, [
            ("deviceBooted", self.device),
            ("deviceFactoryReset", self.device),
            ("diagnosticsComplete", self.device),
            ("transferComplete", self.device, "t"),
            ("autonomousTransferComplete", self.device, "a"),
        ])

    def test_lookalikeRefused(self) -> None:
        """An object with the methods but not the interface is refused (TypeError), and is not an observer."""

        class Lookalike:
            def deviceBooted(self, device: Any) -> None:
                raise AssertionError("called by name")

        self.assertRaises(TypeError, self.device.addObserver, Lookalike())
        self.assertEqual(self.device.observers, ())

    def test_allObserversInOrder(self) -> None:
        """Every observer hears each event, first added first; one failing keeps it from none (logged)."""
        broken = Recorder()
        broken.deviceBooted = lambda device: 1 / 0  # type: ignore[method-assign]
        other = Recorder()
        heard: list[Any] = []
        for o in (self.observer, broken, other):
            self.device.addObserver(o)
        self.observer.deviceBooted = lambda device: heard.append(self.observer)  # type: ignore[method-assign]
        other.deviceBooted = lambda device: heard.append(other)  # type: ignore[method-assign]
        self.device._tellBooted()
        self.assertEqual(heard, [self.observer, other])
        self.assertEqual(self.device.observers, (self.observer, broken, other))
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_removed(self) -> None:
        """A removed observer hears nothing more; removing one never added is no error."""
        other = Recorder()
        self.device.addObserver(self.observer)
        self.device.addObserver(other)
        self.device.removeObserver(self.observer)
        self.device.removeObserver(Recorder())
        self.device._tellBooted()
        self.assertEqual(self.observer.calls, [])
        self.assertEqual(other.kinds(), ["deviceBooted"])
        self.assertEqual(self.device.observers, (other,))


class PendingTests(ProxiedDeviceTestCase):
    def test_replayedInOrderToTheFirst(self) -> None:
        """Events without an observer wait; the first observer hears them in order, the next one none."""
        self.device._tellBooted()
        self.device._moveTo(DeviceStatus.OFFLINE, "gone")
        self.device._moveTo(DeviceStatus.ONLINE)
        self.device.addObserver(self.observer)
        self.assertEqual(self.observer.kinds(), ["deviceBooted", "deviceOffline", "deviceOnline"])
        second = Recorder()
        self.device.addObserver(second)
        self.assertEqual(second.calls, [])
        self.device._tellFactoryReset()
        self.assertEqual((self.observer.kinds()[-1], second.kinds()), ("deviceFactoryReset", ["deviceFactoryReset"]))

    def test_waitAgainWhenAllLeft(self) -> None:
        """With every observer removed, events wait again for the next one."""
        self.device.addObserver(self.observer)
        self.device.removeObserver(self.observer)
        self.device._tellBooted()
        later = Recorder()
        self.device.addObserver(later)
        self.assertEqual((self.observer.calls, later.kinds()), ([], ["deviceBooted"]))

    def test_bounded(self) -> None:
        """
        At most MAX_PENDING_EVENTS wait: the oldest are kept, each later one
        is dropped with an error line naming it.
        """
        for i in range(MAX_PENDING_EVENTS):
            self.device._tellTransferComplete(i)
        self.device._tellBooted()
        self.device._tellFactoryReset()
        self.device.addObserver(self.observer)
        self.assertEqual([c[2] for c in self.observer.calls], list(range(MAX_PENDING_EVENTS)))
        errors = self.messages(LogLevel.error)
        self.assertEqual(len(errors), 2)
        self.assertIn("deviceBooted dropped", errors[0])
        self.assertIn("deviceFactoryReset dropped", errors[1])


class StatusTests(ProxiedDeviceTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.device.addObserver(self.observer)

    def test_table(self) -> None:
        """The table allows leaving online both ways, coming back from both, and offline turning restarting."""
        S = DeviceStatus
        self.assertEqual(set(TRANSITIONS), {(S.ONLINE, S.OFFLINE), (S.ONLINE, S.RESTARTING), (S.OFFLINE, S.ONLINE),
                                            (S.RESTARTING, S.ONLINE), (S.OFFLINE, S.RESTARTING)})

    def test_madeOffline(self) -> None:
        """
        Made offline (known from an earlier run only), it starts there without
        a move to tell; its first answer is a move the table allows and the
        observers hear.
        """
        device = Lamp(IDENTITY, DeviceStatus.OFFLINE)
        device.addObserver(self.observer)
        self.assertFalse(device.online)
        self.assertEqual(repr(device).rsplit(" ", 1)[1], "offline>")
        self.assertEqual(self.observer.kinds(), [])
        self.assertTrue(device._moveTo(DeviceStatus.ONLINE))
        self.assertEqual(self.observer.kinds(), ["deviceOnline"])

    def test_offlineAndBack(self) -> None:
        """Online → offline → online: the observers hear both moves, each logged (the reason with the first)."""
        self.assertTrue(self.device._moveTo(DeviceStatus.OFFLINE, "unplugged"))
        self.assertFalse(self.device.online)
        self.assertTrue(self.device._moveTo(DeviceStatus.ONLINE))
        self.assertTrue(self.device.online)
        self.assertEqual(self.observer.kinds(), ["deviceOffline", "deviceOnline"])
        infos = self.messages(LogLevel.info)
        self.assertTrue(infos[0].endswith("offline (unplugged)"), infos)
        self.assertTrue(infos[1].endswith("online"), infos)

    def test_restartingAndBack(self) -> None:
        """Online → restarting is offline for the observers; back online, they hear it."""
        self.assertTrue(self.device._moveTo(DeviceStatus.RESTARTING, "byebye"))
        self.assertEqual(repr(self.device).rsplit(" ", 1)[1], "restarting>")
        self.assertTrue(self.device._moveTo(DeviceStatus.ONLINE))
        self.assertEqual(self.observer.kinds(), ["deviceOffline", "deviceOnline"])

    def test_offlineThenRestartingSilently(self) -> None:
        """Offline → restarting (it announced a restart while already unreachable) tells nothing more."""
        self.device._moveTo(DeviceStatus.OFFLINE, "unanswered")
        self.assertTrue(self.device._moveTo(DeviceStatus.RESTARTING, "byebye"))
        self.assertIs(self.device.status, DeviceStatus.RESTARTING)
        self.assertEqual(self.observer.kinds(), ["deviceOffline"])

    def test_stayingIsNoMove(self) -> None:
        """Moving to the status it has changes nothing and tells nothing."""
        self.assertFalse(self.device._moveTo(DeviceStatus.ONLINE))
        self.device._moveTo(DeviceStatus.OFFLINE, "gone")
        self.assertFalse(self.device._moveTo(DeviceStatus.OFFLINE, "gone again"))
        self.assertEqual(self.observer.kinds(), ["deviceOffline"])

    def test_restartingStaysRestarting(self) -> None:
        """
        Restarting → offline is refused (its return must still report the
        restart), logged with the reason, and tells nothing.
        """
        self.device._moveTo(DeviceStatus.RESTARTING, "byebye")
        self.assertFalse(self.device._moveTo(DeviceStatus.OFFLINE, "its actions go unanswered"))
        self.assertIs(self.device.status, DeviceStatus.RESTARTING)
        self.assertEqual(self.observer.kinds(), ["deviceOffline"])
        self.assertTrue(self.messages(LogLevel.info)[-1].endswith(
            "stays restarting, not offline (its actions go unanswered)"))
