"""
The whole service tree end to end over real loopback sockets: the proxier's
own endpoint and a Virtual CWMP Device (from a protocol that registers an
adapter to IDataModel) talking to the fake ACS, a Connection Request to the
virtual endpoint, and a restart of the tree on the same state directory.
Every message the proxier sends is validated against the CWMP schema.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from twisted.application.service import Service
from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from twisted.web.client import HTTPConnectionPool
from twisted.web.server import Site
from zope.interface import implementer

from proxier.config import load
from proxier.cwmp import messages as m
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.tls import makeACSAgent
from proxier.datamodel import types
from proxier.datamodel.declarations import Object, Parameter
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.interfaces import IDataModel, IProxiedDevice, IProxyProtocol
from proxier.service import ProxierService
from proxier.store import Store
from tests import _helpers
from tests.cwmpxsd import assertValidCWMP

DEVICE = DeviceIdentity("ExampleCo", "00D0F5", "Lamp", "L-0001")
PROXIER = DeviceIdentity("proxier", "000000", "Gateway", "GW-TEST-1")

waitFor = partial(_helpers.waitFor, timeout=15.0)


@implementer(IProxiedDevice)
class Lamp:
    """A proxied device whose model is a small in-process tree."""

    proxyProtocol = "X_TEST-Lamp"
    discoveryProtocol = "X_TEST-Lamp"
    host = "127.0.0.1"
    online = True
    identity = DEVICE
    key = DEVICE.key

    def __init__(self) -> None:
        self.observers: list = []

    def addObserver(self, observer: Any) -> None:
        self.observers.append(observer)

    def removeObserver(self, observer: Any) -> None:
        self.observers.remove(observer)


@implementer(IProxyProtocol)
class LampProtocol:
    """Reports one Lamp and registers the adapter from Lamp to IDataModel."""

    name = "X_TEST-Lamp"
    discoveryProtocol = "X_TEST-Lamp"
    configSection = None

    def __init__(self, lamp: Lamp, store: Store) -> None:
        self.lamp = lamp
        self.store = store

    def makeService(self, context: Any) -> Service:
        model = TreeDataModel(
            [
                Object(
                    "Device",
                    Object(
                        "DeviceInfo",
                        Parameter("Manufacturer", types.String(64), value=DEVICE.manufacturer),
                        Parameter("SoftwareVersion", types.String(64), value="1.2.3", forcedInform=True),
                    ),
                    Object("X_TEST_Light", Parameter("Brightness", types.UnsignedInt(maximum=100), value=40,
                                                     writable=True)),
                )
            ],
            store=self.store,
        )
        context.registry.registerAdapter(lambda lamp: model, (IProxiedDevice,), IDataModel)
        lamp = self.lamp

        class Discovery(Service):
            def startService(self) -> None:
                Service.startService(self)
                context.deviceAppeared(lamp)

        return Discovery()


class ServiceTreeTests(unittest.TestCase):
    def setUp(self) -> None:
        self.acs = FakeACS(clock=reactor, validator=lambda body: assertValidCWMP(self, body))
        port = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.acsURL = f"http://127.0.0.1:{port.getHost().port}/acs"
        self.state = self.mktemp()
        self.addCleanup(lambda: self.assertEqual(self.acs.validationErrors, []))

    def makeTree(self) -> ProxierService:
        config = load(None)
        config = config.replace("acs", url=self.acsURL, periodic_inform_enable=False)
        config = config.replace("connection_request", port=0)
        config = config.replace("device", serial_number=PROXIER.serialNumber)
        store = Store.open(self.state)
        protocol = LampProtocol(Lamp(), store.child("lamp-model"))
        agent = makeACSAgent(reactor, config["acs"], pool=HTTPConnectionPool(reactor, persistent=False))
        tree = ProxierService(config, store, [protocol], reactor=reactor, agent=agent)
        tree.startService()
        self.addCleanup(tree.stopService)
        return tree

    def sessions(self, identity: DeviceIdentity) -> list:
        return self.acs.sessionsFor(str(identity))

    def ended(self, identity: DeviceIdentity, count: int) -> Callable[[], bool]:
        return lambda: len(self.sessions(identity)) >= count and all(s.ended for s in self.sessions(identity))

    @defer.inlineCallbacks
    def test_bootstrapThenRestart(self) -> None:
        """
        First start: the proxier bootstraps itself ("0 BOOTSTRAP", "1 BOOT")
        with its forced-inform parameters, and bootstraps the Virtual CWMP
        Device ("0 BOOTSTRAP" only: the device did not reboot) whose Inform
        carries the device's identity and values. The proxier's VirtualDevice
        table lists the device. After a restart on the same state: "1 BOOT"
        for the proxier, and no second BOOTSTRAP for either.
        """
        self.acs.script([m.GetParameterValues(("Device.ManagementServer.VirtualDeviceNumberOfEntries",
                                               "Device.ManagementServer.VirtualDevice.1."))], str(PROXIER))
        tree = self.makeTree()
        yield waitFor(self.ended(PROXIER, 1))
        yield waitFor(self.ended(DEVICE, 1))
        own = self.sessions(PROXIER)[0]
        self.assertEqual(sorted(e.code for e in own.inform.events), ["0 BOOTSTRAP", "1 BOOT"])
        informed = {p.name: p.value for p in own.inform.parameters}
        self.assertEqual(informed["Device.RootDataModelVersion"], "2.17")
        self.assertEqual(informed["Device.ManagementServer.ConnectionRequestURL"],
                         tree.cwmp.server.url(tree.ownEndpoint.connectionRequestPath))
        [(_, answer)] = own.responses
        values = {p.name: p.value for p in answer.parameters}
        self.assertEqual(values["Device.ManagementServer.VirtualDeviceNumberOfEntries"], "1")
        self.assertEqual(values["Device.ManagementServer.VirtualDevice.1.SerialNumber"], DEVICE.serialNumber)
        self.assertEqual(values["Device.ManagementServer.VirtualDevice.1.ProxyProtocol"], "X_TEST-Lamp")

        virtual = self.sessions(DEVICE)[0]
        self.assertEqual([e.code for e in virtual.inform.events], ["0 BOOTSTRAP"])
        self.assertEqual(virtual.inform.deviceId, DEVICE)
        self.assertIn(ParameterValue("Device.DeviceInfo.SoftwareVersion", "1.2.3", "xsd:string"),
                      virtual.inform.parameters)

        yield tree.stopService()
        before = len(self.acs.sessions)
        self.makeTree()
        yield waitFor(lambda: len(self.sessions(PROXIER)) >= 2 and self.sessions(PROXIER)[-1].ended)
        yield task.deferLater(reactor, 0.3, lambda: None)
        self.assertEqual([e.code for e in self.sessions(PROXIER)[-1].inform.events], ["1 BOOT"])
        self.assertEqual(len(self.sessions(DEVICE)), 1, "no new session for the virtual device")
        self.assertEqual(len(self.acs.sessions), before + 1)

    @defer.inlineCallbacks
    def test_virtualDeviceManaged(self) -> None:
        """
        A Connection Request to the Virtual CWMP Device's own URL starts its
        session, in which the ACS reads the proxier-held ProxierInfo and the
        device's own values, and sets a device value (ParameterKey updated).
        """
        tree = self.makeTree()
        yield waitFor(self.ended(DEVICE, 1))
        endpoint = tree.cwmp.manager.endpoints[DEVICE.key]
        self.assertNotEqual(endpoint.connectionRequestPath, tree.ownEndpoint.connectionRequestPath)
        self.acs.script(
            [
                m.GetParameterValues(("Device.DeviceInfo.ProxierInfo.", "Device.X_TEST_Light.Brightness")),
                m.SetParameterValues((ParameterValue("Device.X_TEST_Light.Brightness", "80", "xsd:unsignedInt"),),
                                     "pk-1"),
                m.GetParameterNames("Device.", True),
            ],
            str(DEVICE),
        )
        username, password = endpoint.connectionRequestCredentials()
        status = yield self.acs.connectionRequest(tree.cwmp.server.url(endpoint.connectionRequestPath),
                                                  username, password)
        self.assertEqual(status, 200)
        yield waitFor(self.ended(DEVICE, 2))
        session = self.sessions(DEVICE)[1]
        self.assertEqual([e.code for e in session.inform.events], ["6 CONNECTION REQUEST"])
        (gpv, spv, gpn) = [answer for _, answer in session.responses]
        values = {p.name: p.value for p in gpv.parameters}
        self.assertEqual(values["Device.DeviceInfo.ProxierInfo.SerialNumber"], PROXIER.serialNumber)
        self.assertEqual(values["Device.DeviceInfo.ProxierInfo.ProxyProtocol"], "X_TEST-Lamp")
        self.assertEqual(values["Device.X_TEST_Light.Brightness"], "40")
        self.assertEqual(spv, m.SetParameterValuesResponse(0))
        self.assertEqual(endpoint.settings.parameterKey, "pk-1")
        names = {p.name for p in gpn.parameters}
        self.assertTrue({"Device.DeviceInfo.", "Device.ManagementServer.", "Device.X_TEST_Light."} <= names, names)
