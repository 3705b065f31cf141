"""
The control point's kept-alive connections against a real peer: the
project's simulated UPnP DM device (L{proxier.sim.fleet}, a Twisted web
server) on loopback, its connections and requests counted where it listens.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.trial import unittest
from twisted.trial.unittest import SkipTest
from zope.interface import directlyProvides, providedBy

from proxier import config as C
from proxier.lan.keepalive import DevicePool
from proxier.upnp import description as D
from proxier.upnp.controlpoint import ControlPoint
from proxier.upnp.settings import SECTION

from ._waiter import watch


class _Counted(ProtocolWrapper):
    def dataReceived(self, data: bytes) -> None:
        self.factory.counts["requests"] += data.count(b" HTTP/1.1\r\n")
        super().dataReceived(data)


class CountingReactor:
    """The reactor, but the TCP servers it starts count their connections and request lines."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.counts = {"connections": 0, "requests": 0}
        directlyProvides(self, *list(providedBy(real)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def listenTCP(self, port: int, factory: Any, *args: Any, **kwargs: Any) -> Any:
        counts = self.counts

        class Counting(WrappingFactory):
            protocol = _Counted

            def buildProtocol(self, addr: Any) -> Any:
                counts["connections"] += 1
                return super().buildProtocol(addr)

        wrapper = Counting(factory)
        wrapper.counts = counts  # type: ignore[attr-defined]
        return self._real.listenTCP(port, wrapper, *args, **kwargs)


class SimDeviceKeepAliveTests(unittest.TestCase):
    def setUp(self) -> None:
        try:
            from proxier.sim.fleet import Fleet, FleetOptions
        except ImportError as e:
            raise SkipTest(f"the simulator is not available: {e}")
        self.addCleanup(deferLater, reactor, 0.2, lambda: None)  # runs last: closed connections finish closing
        config = C.load(None, [SECTION]).replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
        self.cp = ControlPoint(config, reactor=reactor)
        self.waiter = watch(self, self.cp)
        self.devices = CountingReactor(reactor)
        self.fleet = Fleet(FleetOptions(count=1, controlPoint=self.cp.ssdpAddress), reactor=self.devices)
        self.fleet.startService()
        self.addCleanup(self.fleet.stopService)

    @inlineCallbacks
    def test_fewConnections(self) -> None:
        """Described, subscribed and asked through a handful of kept connections, not one per request."""
        self.assertIsInstance(self.cp.pool, DevicePool)
        _, device = yield self.waiter.wait("ready")
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        for _ in range(3):
            yield device.callAction(cms, "GetSupportedDataModels")
        counts = dict(self.devices.counts)
        self.assertGreaterEqual(counts["requests"], 8, counts)
        self.assertLessEqual(counts["connections"] * 2, counts["requests"], counts)
        self.assertEqual(self.cp.pool.fallbacks(), {})
        self.assertEqual(device.keepAliveFallback, "")

    @inlineCallbacks
    def test_fallbackOnTheDevice(self) -> None:
        """A device recorded as mishandling keep-alive says so, and why."""
        from urllib.parse import urlsplit

        _, device = yield self.waiter.wait("ready")
        pool = self.cp.pool
        reason = "answers Connection: close every time"
        pool._fallback(pool._device(b"127.0.0.1", urlsplit(device.location).port), reason)
        self.assertEqual(device.keepAliveFallback, reason)
