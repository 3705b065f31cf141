"""
The whole service tree end to end over real loopback sockets: the proxier's
own endpoint and a Virtual CWMP Device (from a protocol that registers an
adapter to IDataModel) talking to the fake ACS, a Connection Request to the
virtual endpoint, and a restart of the tree on the same state directory.
Every CWMP message both ways is validated against the schema (L{tests._e2e}).
"""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from zope.interface import implementer

from proxier.cwmp import messages as m
from proxier.datamodel import types
from proxier.datamodel.declarations import Object, Parameter
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.interfaces import IDataModel, IProxiedDevice, IProxyProtocol
from proxier.store import Store
from tests import _e2e
from tests._e2e import answers, events, waitFor

DEVICE = DeviceIdentity("ExampleCo", "00D0F5", "Lamp", "L-0001")
PROXIER = DeviceIdentity("proxier", "000000", "Gateway", "GW-TEST-1")


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
        protocol = LampProtocol(Lamp(), Store.open(self.mktemp()).child("lamp-model"))
        self.lab = _e2e.Lab(self, [protocol], PROXIER)

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
        lab = self.lab
        lab.acs.script([m.GetParameterValues(("Device.ManagementServer.VirtualDeviceNumberOfEntries",
                                              "Device.ManagementServer.VirtualDevice.1."))], str(PROXIER))
        tree = lab.startTree()
        yield waitFor(lab.ended(PROXIER, 1))
        yield waitFor(lab.ended(DEVICE, 1))
        own = lab.sessions(PROXIER)[0]
        self.assertEqual(events(own), ["0 BOOTSTRAP", "1 BOOT"])
        informed = {p.name: p.value for p in own.inform.parameters}
        self.assertEqual(informed["Device.RootDataModelVersion"], "2.17")
        self.assertEqual(informed["Device.ManagementServer.ConnectionRequestURL"],
                         tree.cwmp.server.url(tree.ownEndpoint.connectionRequestPath))
        [answer] = answers(own)
        values = {p.name: p.value for p in answer.parameters}
        self.assertEqual(values["Device.ManagementServer.VirtualDeviceNumberOfEntries"], "1")
        self.assertEqual(values["Device.ManagementServer.VirtualDevice.1.SerialNumber"], DEVICE.serialNumber)
        self.assertEqual(values["Device.ManagementServer.VirtualDevice.1.ProxyProtocol"], "X_TEST-Lamp")

        virtual = lab.sessions(DEVICE)[0]
        self.assertEqual(events(virtual), ["0 BOOTSTRAP"])
        self.assertEqual(virtual.inform.deviceId, DEVICE)
        self.assertIn(ParameterValue("Device.DeviceInfo.SoftwareVersion", "1.2.3", "xsd:string"),
                      virtual.inform.parameters)

        yield tree.stopService()
        before = len(lab.acs.sessions)
        lab.startTree()
        yield waitFor(lab.ended(PROXIER, 2))
        yield task.deferLater(reactor, 0.3, lambda: None)
        self.assertEqual(events(lab.sessions(PROXIER)[-1]), ["1 BOOT"])
        self.assertEqual(len(lab.sessions(DEVICE)), 1, "no new session for the virtual device")
        self.assertEqual(len(lab.acs.sessions), before + 1)

    @defer.inlineCallbacks
    def test_virtualDeviceManaged(self) -> None:
        """
        A Connection Request to the Virtual CWMP Device's own URL starts its
        session, in which the ACS reads the proxier-held ProxierInfo and the
        device's own values, and sets a device value (ParameterKey updated).
        """
        lab = self.lab
        tree = lab.startTree()
        yield waitFor(lab.ended(DEVICE, 1))
        endpoint = lab.endpoint(DEVICE)
        self.assertNotEqual(endpoint.connectionRequestPath, tree.ownEndpoint.connectionRequestPath)
        session = yield lab.session([
            m.GetParameterValues(("Device.DeviceInfo.ProxierInfo.", "Device.X_TEST_Light.Brightness")),
            m.SetParameterValues((ParameterValue("Device.X_TEST_Light.Brightness", "80", "xsd:unsignedInt"),), "pk-1"),
            m.GetParameterNames("Device.", True),
        ], DEVICE)
        self.assertEqual(events(session), ["6 CONNECTION REQUEST"])
        gpv, spv, gpn = answers(session)
        values = {p.name: p.value for p in gpv.parameters}
        self.assertEqual(values["Device.DeviceInfo.ProxierInfo.SerialNumber"], PROXIER.serialNumber)
        self.assertEqual(values["Device.DeviceInfo.ProxierInfo.ProxyProtocol"], "X_TEST-Lamp")
        self.assertEqual(values["Device.X_TEST_Light.Brightness"], "40")
        self.assertEqual(spv, m.SetParameterValuesResponse(0))
        self.assertEqual(endpoint.settings.parameterKey, "pk-1")
        names = {p.name for p in gpn.parameters}
        self.assertTrue({"Device.DeviceInfo.", "Device.ManagementServer.", "Device.X_TEST_Light."} <= names, names)
