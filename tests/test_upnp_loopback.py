"""
End to end on loopback (default namespace, unicast only): the control point
in unicast-loopback mode against a device served for real on 127.0.0.1.
"""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.defer import gatherResults, inlineCallbacks
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import deferLater
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from treq.client import HTTPClient

from proxier import config as C
from proxier.upnp import description as D, ssdp
from proxier.upnp.controlpoint import ControlPoint, UPnPError
from proxier.upnp.settings import SECTION

from ._waiter import watch
from .test_upnp_fakes import LoopbackDevice


class LoopbackTests(unittest.TestCase):
    def setUp(self) -> None:
        # runs last: lets connections closed during the cleanups finish closing (no dirty reactor)
        self.addCleanup(deferLater, reactor, 0.2, lambda: None)
        self.http = HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))
        self.device = LoopbackDevice(reactor, self.http)
        self.device.start()
        self.addCleanup(lambda: gatherResults([d for d in self.device.stop() if d is not None]))

    def controlPoint(self, **upnp: object) -> ControlPoint:
        config = C.load(None, [SECTION]).replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
        if upnp:
            config = config.replace("upnp", **upnp)
        cp = ControlPoint(config, reactor=reactor)
        self.observer = watch(self, cp)
        return cp

    @inlineCallbacks
    def test_announcedDevice(self) -> None:
        """A device announcing itself on loopback is described, subscribed, answers an action, sends events, leaves."""
        cp = self.controlPoint()
        self.device.announce(cp.ssdpAddress)
        _, device = yield self.observer.wait("ready")
        self.assertEqual(device.udn, self.device.udn)
        self.assertEqual(device.origin.source, "127.0.0.1")
        self.assertTrue(device.origin.loopbackMode)
        _, _, service, variables = yield self.observer.wait("event")
        self.assertEqual(dict(variables)["ConfigurationUpdate"], "")
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        self.device.resource.handlers["GetCurrentConfigurationVersion"] = lambda a: {"CurrentVersion": "3"}
        result = yield device.callAction(cms, "GetCurrentConfigurationVersion")
        self.assertEqual(result, {"CurrentVersion": "3"})

        def refuse(arguments: dict) -> dict:
            raise UPnPError(702, "Invalid XML argument")

        self.device.resource.handlers["GetValues"] = refuse
        try:
            yield device.callAction(cms, "GetValues", {"Parameters": "x"})
        except UPnPError as e:
            self.assertEqual(e, UPnPError(702, "Invalid XML argument"))
        else:
            self.fail("GetValues did not fail")
        self.device.announce(cp.ssdpAddress, nts=ssdp.BYEBYE, announcement="AboutToBaselineReset")
        _, _, value = yield self.observer.wait("announcement")
        self.assertEqual(value, "AboutToBaselineReset")
        _, _, reason = yield self.observer.wait("gone")
        self.assertEqual(reason, "byebye")

    @inlineCallbacks
    def test_searchedDevice(self) -> None:
        """A device that never announces is found by a unicast search to its configured loopback port."""
        cp = self.controlPoint(loopback_search_ports=(self.device.ssdpPort,))
        cp.searchNow()
        _, device = yield self.observer.wait("ready")
        self.assertEqual(device.udn, self.device.udn)

    @inlineCallbacks
    def test_foreignLocationRefused(self) -> None:
        """In unicast-loopback mode a LOCATION off loopback is never fetched; the device is not found."""
        cp = self.controlPoint()
        forged = ssdp.Notify(nts=ssdp.ALIVE, nt=D.CONFIGURATION_MANAGEMENT_2,
                             usn=f"{self.device.udn}::{D.CONFIGURATION_MANAGEMENT_2}",
                             location="http://192.0.2.1:80/desc.xml")
        sender = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")  # answers no search
        self.addCleanup(sender.stopListening)
        sender.write(forged.toBytes(), cp.ssdpAddress)
        yield deferLater(reactor, 0.5, lambda: None)
        self.assertEqual(cp.devices(), [])
        self.assertEqual(cp.tracker.counts["fetches"], 1)
        self.assertEqual(self.device.resource.log, [])
