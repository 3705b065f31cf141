"""Tests for L{proxier.service}: the service tree, its device directory and protocol contexts."""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from proxier.config import load
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IProxiedDevice, IProxierContext, IProxyProtocol
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
