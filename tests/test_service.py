"""Tests for L{proxier.service}: the service tree, its device directory and protocol contexts."""

from __future__ import annotations

from twisted.application.service import MultiService, Service
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from proxier.config import load
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IProxiedDevice, IProxierContext, IProxyProtocol, IReloadable
from proxier.service import DeviceDirectory, ProxierService
from proxier.store import Store
from tests._helpers import LogCapture


@implementer(IProxiedDevice)
class FakeDevice:
    proxyProtocol = "X_TEST"
    discoveryProtocol = "X_TEST"
    host = "192.0.2.7"
    online = True

    def __init__(self, serial: str) -> None:
        self.identity = DeviceIdentity("ExampleCo", "00D0F5", "Widget", serial)
        self.key = self.identity.key

    def addObserver(self, observer: object) -> None:
        pass

    def removeObserver(self, observer: object) -> None:
        pass


class Listener:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def deviceAppeared(self, device: FakeDevice) -> None:
        self.calls.append(("appeared", device.key))

    def deviceRemoved(self, device: FakeDevice) -> None:
        self.calls.append(("removed", device.key))


@implementer(IProxyProtocol)
class FakeProtocol:
    name = "X_TEST"
    discoveryProtocol = "X_TEST"
    configSection = None

    def __init__(self) -> None:
        self.contexts: list = []

    def makeService(self, context: object) -> Service:
        self.contexts.append(context)
        return Service()


class DirectoryTests(unittest.TestCase):
    def test_listeners(self) -> None:
        """Listeners hear of devices, including those known before they listened."""
        directory = DeviceDirectory()
        early, late = Listener(), Listener()
        directory.addListener(early)
        a, b = FakeDevice("A"), FakeDevice("B")
        directory.deviceAppeared(a)
        directory.addListener(late)
        directory.deviceAppeared(b)
        directory.deviceRemoved(a)
        self.assertEqual(early.calls, [("appeared", a.key), ("appeared", b.key), ("removed", a.key)])
        self.assertEqual(late.calls, [("appeared", a.key), ("appeared", b.key), ("removed", a.key)])
        self.assertEqual(directory.devices(), [b])

    def test_duplicateKey(self) -> None:
        """A second device object with a known key is logged with its identity and ignored."""
        directory = DeviceDirectory()
        listener = Listener()
        directory.addListener(listener)
        log = LogCapture(self)
        directory.deviceAppeared(FakeDevice("A"))
        directory.deviceAppeared(FakeDevice("A"))
        self.assertEqual(len(listener.calls), 1)
        warnings = [e for e in log.events if "same key" in e.get("log_format", "")]
        self.assertEqual(len(warnings), 1)
        self.assertEqual(warnings[0]["device"], "00D0F5-Widget-A")

    def test_removeUnknown(self) -> None:
        """Removing a device that is not known does nothing."""
        directory = DeviceDirectory()
        listener = Listener()
        directory.addListener(listener)
        directory.deviceRemoved(FakeDevice("Z"))
        self.assertEqual(listener.calls, [])


class ServiceTests(unittest.TestCase):
    def test_protocolContexts(self) -> None:
        """
        Each protocol gets a context with the tree's reactor, registry and config,
        and a store of its own; devices it reports reach the directory.
        """
        clock = MemoryReactorClock()
        store = Store.open(self.mktemp())
        protocol = FakeProtocol()
        config = load(None).replace("connection_request", port=0)
        service = ProxierService(config, store, [protocol], reactor=clock)
        [context] = protocol.contexts
        verifyObject(IProxierContext, context)
        self.assertIs(context.reactor, clock)
        self.assertIs(context.registry, service.registry)
        self.assertIs(context.config, config)
        self.assertTrue(context.store.path.endswith("/protocol-X_TEST"))
        self.assertIn(context.store.path, [c.path for c in [store.child("protocol-X_TEST")]])
        device = FakeDevice("A")
        context.deviceAppeared(device)
        self.assertEqual(service.directory.devices(), [device])

    def test_startLogsIdle(self) -> None:
        """Started with no devices, the tree says so once the reactor runs."""
        clock = MemoryReactorClock()
        log = LogCapture(self)
        service = ProxierService(load(None).replace("connection_request", port=0), Store.open(self.mktemp()), [],
                                 reactor=clock)
        service.startService()
        clock.advance(0)
        texts = [e.get("log_format", "") for e in log.events]
        self.assertTrue(any("no devices found yet" in t for t in texts), texts)
        service.stopService()

    def bareService(self) -> ProxierService:
        """A tree with no protocol, its connection-request port any free one, on a memory reactor."""
        return ProxierService(load(None).replace("connection_request", port=0), Store.open(self.mktemp()), [],
                              reactor=MemoryReactorClock())

    def test_startupFrozen(self) -> None:
        """
        While the tree runs, what the process held when it started is left
        out of the cyclic collector's walks (frozen, after one collection);
        stopped, it is walked again.
        """
        import gc

        self.addCleanup(gc.unfreeze)
        gc.unfreeze()
        service = self.bareService()
        service.startService()
        self.assertGreater(gc.get_freeze_count(), 0)
        service.stopService()
        self.assertEqual(gc.get_freeze_count(), 0)

    def test_collectorOffLeftAlone(self) -> None:
        """A collector turned off is left as it is: nothing collected, nothing frozen."""
        import gc

        self.addCleanup(gc.enable)
        gc.unfreeze()
        gc.disable()
        service = self.bareService()
        service.startService()
        self.assertEqual(gc.get_freeze_count(), 0)
        service.stopService()
        self.assertFalse(gc.isenabled())


@implementer(IReloadable)
class ReloadRecorder(Service):
    """A service deep in the tree that applies reloads (as the UPnP control point does)."""

    def __init__(self) -> None:
        self.reloaded: list = []

    def configReloaded(self, config: object) -> None:
        self.reloaded.append(config)


class ReactorWithThreads(MemoryReactorClock):
    """A memory reactor that records callFromThread (what the SIGHUP handler uses)."""

    def __init__(self) -> None:
        super().__init__()
        self.fromThread: list = []

    def callFromThread(self, f: object, *args: object, **kw: object) -> None:
        self.fromThread.append(f)


class ReloadTests(unittest.TestCase):
    """SIGHUP: what a reload applies, what it leaves for the next restart, and a file with mistakes."""

    def setUp(self) -> None:
        import io

        from proxier.log import observerFromConfig

        self.path = self.mktemp()
        self.write("[log]\nlevel = warn\n[lan]\ninterfaces = br-lan\n[acs]\nurl = http://acs.example.net/\n"
                   "[connection_request]\nport = 0\n")
        self.clock = ReactorWithThreads()
        self.service = ProxierService(load(self.path),
                                      Store.open(self.mktemp()), [], reactor=self.clock)
        self.recorder = ReloadRecorder()
        inner = MultiService()
        self.recorder.setServiceParent(inner)
        inner.setServiceParent(self.service)
        self.out = io.StringIO()
        self.service.logObserver = observerFromConfig(self.service.config["log"], self.out)
        self.logs = LogCapture(self)

    def write(self, text: str) -> None:
        with open(self.path, "w") as f:
            f.write(text)

    def lines(self, level: str) -> list[str]:
        from twisted.logger import formatEvent

        return [formatEvent(e) for e in self.logs.events if e.get("log_level").name == level]

    def test_applied(self) -> None:
        """The log level and the LAN interfaces change at once; an ACS URL change is named as waiting for a restart."""
        from twisted.logger import Logger

        self.write("[log]\nlevel = debug\n[lan]\ninterfaces = br-lan, br-guest\n[acs]\nurl = http://acs2.example.net/\n"
                   "[connection_request]\nport = 0\n")
        applied = self.service.reload()
        self.assertEqual(applied, [("lan", "interfaces"), ("log", "level")])
        Logger(observer=self.service.logObserver).debug("now shown")
        self.assertIn("now shown", self.out.getvalue())
        [config] = self.recorder.reloaded
        self.assertEqual(config["lan"]["interfaces"], ("br-lan", "br-guest"))
        [later] = [l for l in self.lines("warn") if "next restart" in l]
        self.assertTrue(later.endswith(": [acs] url"), later)
        # the same file again: nothing new to apply, the URL still waits for the restart
        self.assertEqual(self.service.reload(), [])
        self.assertEqual(len([l for l in self.lines("warn") if "next restart" in l]), 2)

    def test_mistakes(self) -> None:
        """A file with mistakes changes nothing: each mistake is logged, the running configuration stays."""
        self.write("[log\nlevel = loud\n")
        self.assertEqual(self.service.reload(), [])
        errors = self.lines("error")
        self.assertTrue(any("has no closing ']'" in l for l in errors), errors)
        self.assertTrue(any("[log] level: 'loud' is not one of" in l for l in errors), errors)
        self.assertTrue(any("nothing reloaded, the running configuration stays" in l for l in errors), errors)
        self.assertEqual(self.recorder.reloaded, [])
        self.assertEqual(self.service._running["log"]["level"], "warn")

    def test_signal(self) -> None:
        """With handleSIGHUP, a real SIGHUP asks the reactor to reload (no work in the handler); stop restores the old handler."""
        import os
        import signal

        before = signal.getsignal(signal.SIGHUP)
        self.service.handleSIGHUP = True
        self.service.startService()
        try:
            os.kill(os.getpid(), signal.SIGHUP)
            for _ in range(100):  # the handler runs between bytecodes of this thread: at once, bounded anyway
                if self.clock.fromThread:
                    break
            self.assertEqual(self.clock.fromThread, [self.service.reload])
        finally:
            self.service.stopService()
        self.assertEqual(signal.getsignal(signal.SIGHUP), before)

    def test_documented(self) -> None:
        """Every key a reload applies is named in the documented config file's header."""
        import os

        from proxier.config import CORE_SECTIONS, reloadableKeys
        from proxier.plugins.printer import printer
        from proxier.plugins.upnpdm import upnpdm

        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(top, "etc", "proxier.conf")) as f:
            text = f.read()
        start = text.index("# SIGHUP reloads this file.")
        header = " ".join(l.lstrip("# ") for l in text[start:text.index("\n[", start)].splitlines())
        reloadable = reloadableKeys(list(CORE_SECTIONS) + [printer.configSection, upnpdm.configSection])
        self.assertIn(("log", "level"), reloadable)
        self.assertIn(("printer", "snmp_targets"), reloadable)
        for section, key in sorted(reloadable):
            self.assertIn(f"[{section}]", header)
            self.assertIn(key, header)
