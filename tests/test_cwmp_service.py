"""
Tests for L{proxier.cwmp.service}: endpoints follow the DeviceDirectory, each
with its own durable state, path and credentials; the proxier's own endpoint;
the Connection Request URL host.
"""

from __future__ import annotations

import os
from typing import Any

from treq.testing import RequestTraversalAgent
from twisted.internet import defer, task
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest
from zope.interface import alsoProvides, implementer

from proxier.config import ConfigError, load
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.service import OWN_ENDPOINT, CWMPService, urlHostFor
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IForcedInform, IProxiedDevice, IRebaselining
from proxier.service import DeviceDirectory
from proxier.store import Store
from tests._helpers import LogCapture
from tests.cwmpxsd import assertValidCWMP
from tests.test_cwmp_endpoint import FakeModel

ACS_URL = "http://acs.example.net/acs"


@implementer(IProxiedDevice)
class FakeDevice:
    def __init__(self, serial: str, online: bool = True) -> None:
        self.identity = DeviceIdentity("ACME", "00D09E", "Camera", serial)
        self.key = self.identity.key
        self.proxyProtocol = "UPnP-DM"
        self.discoveryProtocol = "UPnP"
        self.host = "192.0.2.5"
        self.online = online
        self.observers: list = []

    def addObserver(self, observer: Any) -> None:
        self.observers.append(observer)

    def removeObserver(self, observer: Any) -> None:
        self.observers.remove(observer)


class ServiceTests(unittest.TestCase):
    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.reactor.advance(1_700_000_000)
        self.config = load(None).replace("acs", url=ACS_URL, periodic_inform_enable=False).replace(
            "connection_request", port=0)
        self.store = Store.open(self.mktemp())
        self.directory = DeviceDirectory()
        self.acs = FakeACS(clock=self.reactor, validator=lambda body: assertValidCWMP(self, body))
        self.made: list[tuple] = []
        self.service = self.makeService()

    def makeModel(self, device: Any, settings: Any, url: Any, store: Any) -> FakeModel:
        if device.identity.serialNumber == "broken":
            raise RuntimeError("cannot read the device")
        self.made.append((device, settings, url, store))
        return FakeModel()

    def makeService(self) -> CWMPService:
        service = CWMPService(self.config, self.store, self.directory, self.makeModel, reactor=self.reactor,
                              agent=RequestTraversalAgent(self.acs))
        return service

    def start(self) -> None:
        self.service.startService()
        self.reactor.advance(0)
        self.addCleanup(self.service.stopService)

    def test_endpointPerDevice(self) -> None:
        """
        Each device of the directory (before or after the start) gets its own
        endpoint, store, Connection Request path and credentials, is observed
        by it, and bootstraps with the ACS.
        """
        first, second = FakeDevice("SN1"), FakeDevice("SN2")
        self.directory.deviceAppeared(first)
        self.start()
        self.directory.deviceAppeared(second)
        self.reactor.advance(0)
        endpoints = self.service.manager.endpoints
        self.assertEqual(set(endpoints), {first.key, second.key})
        self.assertEqual(first.observers, [endpoints[first.key]])
        self.assertEqual({s.device for s in self.acs.sessions}, {str(first.identity), str(second.identity)})
        for session in self.acs.sessions:
            self.assertEqual(session.inform.events[0].code, "0 BOOTSTRAP")
        self.assertIn("endpoint-" + first.key, self.store.children())
        paths = {e.connectionRequestPath for e in endpoints.values()}
        self.assertEqual(len(paths), 2)
        credentials = {e.connectionRequestCredentials() for e in endpoints.values()}
        self.assertEqual(len(credentials), 2)
        (_, settings, url, store) = self.made[0]
        self.assertEqual(url(), self.service.server.url(endpoints[first.key].connectionRequestPath))
        self.assertTrue(url().startswith("http://127.0.0.1:"))
        self.assertIs(settings, endpoints[first.key].settings)
        self.assertIs(store, endpoints[first.key]._store)  # the model's state beside the endpoint's, one Store
        self.assertEqual(store.path, self.store.child("endpoint-" + first.key).path)
        self.assertEqual(self.acs.validationErrors, [])

    def test_offlineDevice(self) -> None:
        """A device reported offline has an offline endpoint: no session until it is back."""
        device = FakeDevice("SN3", online=False)
        self.directory.deviceAppeared(device)
        self.start()
        self.assertEqual(self.acs.sessions, [])
        for observer in device.observers:
            observer.deviceOnline(device)
        self.reactor.advance(0)
        self.assertEqual(len(self.acs.sessions), 1)

    def test_removedDeviceComesBack(self) -> None:
        """
        A removed device's endpoint stops and leaves the server; its state
        stays, so when it comes back it keeps its path and does not bootstrap.
        """
        device = FakeDevice("SN4")
        self.directory.deviceAppeared(device)
        self.start()
        path = self.service.manager.endpoints[device.key].connectionRequestPath
        self.directory.deviceRemoved(device)
        self.assertEqual(self.service.manager.endpoints, {})
        self.assertEqual(device.observers, [])
        self.assertNotIn(path, self.service.server.resource.endpoints)
        again = FakeDevice("SN4")
        self.directory.deviceAppeared(again)
        self.reactor.advance(0)
        self.assertEqual(self.service.manager.endpoints[again.key].connectionRequestPath, path)
        self.assertEqual(len(self.acs.sessions), 1)

    def test_brokenDeviceSkipped(self) -> None:
        """A device whose model cannot be made is logged with its identity and skipped; others go on."""
        logs = LogCapture(self)
        self.start()
        self.directory.deviceAppeared(FakeDevice("broken"))
        self.directory.deviceAppeared(FakeDevice("SN5"))
        self.assertEqual(list(self.service.manager.endpoints), [FakeDevice("SN5").key])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertTrue(any("broken" in e.get("device", "") for e in logs.errors()))

    def test_ownEndpoint(self) -> None:
        """The proxier's own endpoint boots at every start, with a model made from its settings."""
        identity = DeviceIdentity("proxier", "000000", "Gateway", "GW1")
        made = []
        self.service.addOwnEndpoint(identity, lambda settings, url, store: made.append((url, store)) or FakeModel())
        self.start()
        (session,) = self.acs.sessions
        self.assertEqual([e.code for e in session.inform.events], ["1 BOOT", "0 BOOTSTRAP"])
        self.assertIn("endpoint-" + OWN_ENDPOINT, self.store.children())
        url, store = made[0]
        self.assertTrue(url().startswith("http://"))
        self.assertEqual(store.path, self.service.manager.storeFor(OWN_ENDPOINT).path)

    def test_rebaselineDeclared(self) -> None:
        """
        Once the Connection Request URL is final, before the first Inform,
        an own model that declares IRebaselining takes it as its baseline
        (it is no change the ACS could have seen), under the root its
        forced-inform list names; a model merely having a method of that
        name, or naming no Connection Request URL, is not called.
        """
        identity = DeviceIdentity("proxier", "000000", "Gateway", "GW1")
        calls: list = []
        cases = [
            (False, ("Device.ManagementServer.ConnectionRequestURL",)),
            (True, ("Device.DeviceInfo.SoftwareVersion",)),
            (True, ("Device.DeviceInfo.SoftwareVersion", "Device.ManagementServer.ConnectionRequestURL")),
            (True, ("InternetGatewayDevice.ManagementServer.ConnectionRequestURL",)),
        ]
        models = []
        for declared, forced in cases:
            model = FakeModel()
            model.rebaseline = lambda *paths, model=model: calls.append((model, paths))
            alsoProvides(model, IForcedInform)
            model.forcedInform = forced
            if declared:
                alsoProvides(model, IRebaselining)
            models.append(model)
            self.service = self.makeService()
            self.service.addOwnEndpoint(identity, lambda settings, url, store, model=model: model)
            self.start()
            self.assertEqual(len(self.service.manager.endpoints), 1)
            self.successResultOf(self.service.stopService())
        self.assertEqual(calls, [
            (models[2], ("Device.ManagementServer.ConnectionRequestURL",)),
            (models[3], ("InternetGatewayDevice.ManagementServer.ConnectionRequestURL",)),
        ])

    def test_lowercaseSessionTimeout(self) -> None:
        """
        [acs] lowercase_session_timeout reaches every endpoint's Informs: on by
        default (the spelling GenieACS reads beside the declared one), off for
        an ACS that refuses headers it does not know.
        """
        self.directory.deviceAppeared(FakeDevice("SN7"))
        self.start()
        self.assertIn(b"<cwmp:sessionTimeout>30</cwmp:sessionTimeout>", self.acs.rawRequests[0][1])
        self.successResultOf(self.service.stopService())
        self.config = self.config.replace("acs", lowercase_session_timeout=False)
        self.acs = FakeACS(clock=self.reactor, validator=lambda body: assertValidCWMP(self, body))
        self.store = Store.open(self.mktemp())
        self.service = self.makeService()
        self.start()
        inform = self.acs.rawRequests[0][1]
        self.assertNotIn(b"cwmp:sessionTimeout", inform)
        self.assertIn(b">30</cwmp:SessionTimeout>", inform)

    def test_periodicInformsOnOneCall(self) -> None:
        """
        The endpoints' periodic Informs are timers of one queue on one reactor
        call (issue 19: not a DelayedCall a device), and each comes in time.
        """
        self.config = self.config.replace("acs", periodic_inform_enable=True, periodic_inform_interval=600)
        self.service = self.makeService()
        devices = [FakeDevice(f"SN{i}") for i in range(3)]
        for device in devices:
            self.directory.deviceAppeared(device)
        self.start()
        queue = self.service.manager._timers
        endpoints = list(self.service.manager.endpoints.values())
        self.assertEqual(len(endpoints), 3)
        self.assertEqual({e._timers._periodicCall._queue for e in endpoints}, {queue})
        self.assertEqual(len(queue), 3)
        self.assertEqual(len([c for c in self.reactor.getDelayedCalls() if c.func == queue._fire]), 1)
        sessions = len(self.acs.sessions)
        self.reactor.advance(600)
        periodic = [s.device for s in self.acs.sessions[sessions:]
                    if "2 PERIODIC" in [e.code for e in s.inform.events]]
        self.assertEqual(sorted(periodic), sorted(str(d.identity) for d in devices))
        self.successResultOf(self.service.stopService())
        self.assertEqual(len(queue), 0)

    def test_stop(self) -> None:
        """Stopping the service stops every endpoint and the listener."""
        self.directory.deviceAppeared(FakeDevice("SN6"))
        self.start()
        endpoint = self.service.manager.endpoints[FakeDevice("SN6").key]
        self.successResultOf(self.service.stopService())
        self.assertFalse(endpoint.running)
        self.assertIsNone(self.service.server._listening)

    def test_portTaken(self) -> None:
        """A Connection Request port that cannot be had is a ConfigError naming the key."""
        from twisted.internet import reactor
        from twisted.internet.protocol import Factory

        taken = reactor.listenTCP(0, Factory(), interface="127.0.0.1")
        self.addCleanup(taken.stopListening)
        config = self.config.replace("connection_request", port=taken.getHost().port)
        service = CWMPService(config, self.store, self.directory, self.makeModel, reactor=reactor,
                              agent=RequestTraversalAgent(self.acs))
        with self.assertRaises(ConfigError) as caught:
            service.startService()
        self.assertIn("[connection_request] port", str(caught.exception))
        self.assertFalse(service.running)

    def test_badTLSFiles(self) -> None:
        """An unusable ca_file is a ConfigError naming the [acs] section."""
        path = os.path.join(self.mktemp())
        with open(path, "w") as f:
            f.write("no certificate here")
        config = self.config.replace("acs", ca_file=path)
        with self.assertRaises(ConfigError) as caught:
            CWMPService(config, self.store, self.directory, self.makeModel, reactor=self.reactor)
        self.assertIn("[acs]", str(caught.exception))


class URLHostTests(unittest.TestCase):
    def resolveTo(self, address: str) -> Any:
        return lambda name: defer.succeed(address)

    def test_configured(self) -> None:
        """url_host wins; else a specific listen address."""
        self.assertEqual(self.successResultOf(urlHostFor("0.0.0.0", "gw.example.net", ACS_URL, None)),
                         "gw.example.net")
        self.assertEqual(self.successResultOf(urlHostFor("192.0.2.7", "", ACS_URL, None)), "192.0.2.7")

    def test_routeTowardsTheACS(self) -> None:
        """Listening on every address: the source address of the route towards the ACS."""
        self.assertEqual(self.successResultOf(urlHostFor("0.0.0.0", "", "http://127.0.0.1:7547/", None)),
                         "127.0.0.1")
        self.assertEqual(self.successResultOf(urlHostFor("::", "", ACS_URL, self.resolveTo("127.0.0.1"))),
                         "127.0.0.1")

    def test_fallbacks(self) -> None:
        """No ACS URL, or a name that does not resolve in time: the host name."""
        import socket

        self.assertEqual(self.successResultOf(urlHostFor("0.0.0.0", "", "", None)), socket.gethostname())
        clock = task.Clock()
        d = urlHostFor("0.0.0.0", "", ACS_URL, lambda name: defer.Deferred(), timeout=5, clock=clock)
        clock.advance(5)
        self.assertEqual(self.successResultOf(d), socket.gethostname())
