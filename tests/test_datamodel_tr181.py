"""
Conformance of the proxier's own Device:2 models with TR-181 2.17
(../shared/ref/datamodel/tr-181-2-17-0-cwmp-full.xml): every object and
parameter either tree defines exists there, with the same type, the same
access, and the same notification facts.
"""

from __future__ import annotations

from typing import Any

import copy
import dataclasses

from twisted.internet import task
from twisted.trial import unittest
from zope.interface import implementer

from proxier.config import load
from proxier.cwmp import messages
from proxier.cwmp.codec import encode
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel import paths
from proxier.datamodel.gateway import SupportedDataModel, proxierModel, virtualDeviceLocalModel, virtualDeviceModel
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IProxiedDevice
from proxier.proxy.gate import ActionGate
from proxier.sim.device import Identity, SimulatedDevice
from proxier.store import Store
from proxier.upnpdm import errors
from proxier.upnpdm.model import CMSDataModel
from proxier.upnpdm.profile import candidates, capabilities, probe
from proxier.upnpdm.state import DeviceState
from tests import tr181
from tests.cwmpxsd import assertValidCWMP
from tests.test_upnpdm_fakes import SimUPnPDevice, schema

PROXIER = DeviceIdentity("proxier", "00D0F5", "Gateway", "GW-0001")


@implementer(IProxiedDevice)
class Device:
    identity = DeviceIdentity("Acme", "001122", "Box", "S1")
    key = identity.key
    proxyProtocol = "UPnP-DM"
    discoveryProtocol = "UPnP"
    host = "127.0.0.1"
    online = True

    def addObserver(self, observer: Any) -> None:
        pass

    def removeObserver(self, observer: Any) -> None:
        pass


def _models(directory: str) -> list[tuple[str, Any]]:
    """Both trees, with one row in every table so that row parameters are walked too."""
    store = Store.open(directory)
    acs = dict(load(None)["acs"], url="http://acs.example.net/")
    settings = EndpointSettings(store.document("settings"), acs)
    gateway = proxierModel(PROXIER, load(None)["device"], settings, lambda: "http://127.0.0.1:7547/x",
                           store.child("gateway"), clock=task.Clock(),
                           supportedDataModels=[SupportedDataModel("http://127.0.0.1/dm.xml", "urn:x")])
    gateway.virtualDevices.deviceAppeared(Device())
    local = virtualDeviceLocalModel(PROXIER, "UPnP-DM", settings, lambda: "", store.child("local"))
    return [("proxier", gateway), ("virtual device", local)]


class ConformanceTests(tr181.ConformanceChecks, unittest.TestCase):
    def setUp(self) -> None:
        if not tr181.available():
            raise unittest.SkipTest(f"{tr181.TR181_FULL} is not here")
        self.standard = tr181.load()  # parsed once per run
        self.trees = _models(self.mktemp())

    def walk(self, model: Any) -> list:
        return self.successResultOf(model.getParameterNames("", False))

    def test_readerSeesTheModel(self) -> None:
        """The reader finds Device:2.17 with its thousands of parameters (the comparison below is not empty)."""
        self.assertEqual(self.standard.modelName, "Device:2.17")
        self.assertGreater(len(self.standard.parameters), 6000)
        self.assertIn("Device.ManagementServer.URL", self.standard.parameters)

    def test_namesExist(self) -> None:
        """Every object and parameter of both trees is a TR-181 2.17 name (rows as {i})."""
        for label, model in self.trees:
            self.assertGreater(len(self.walk(model)), 20, label)
        self.checkNamesExist()

    def test_access(self) -> None:
        """Writable is exactly where TR-181 says readWrite; tables are writable only where TR-181 lets the ACS add rows."""
        self.checkAccess()

    def test_types(self) -> None:
        """Each parameter has TR-181's type (base and xsi:type); writable ones have TR-181's facets too."""
        self.assertGreater(self.checkTypes(), 50)

    def test_notificationFacts(self) -> None:
        """activeNotify, forcedInform and hidden are TR-181's for every parameter."""
        self.checkNotificationFacts()

    def test_valuesFitTheirTypes(self) -> None:
        """Every value the trees answer parses back with TR-181's own type for it."""
        for label, model in self.trees:
            for value in self.successResultOf(model.getParameterValues([""])):
                standard = self.standard.parameters[paths.schemaPath(value.name)]
                dataType = standard.type()
                self.assertEqual(value.type, dataType.xsiType, f"{label}: {value.name}")
                if standard.hidden:
                    self.assertEqual(value.value, "")
                    continue
                dataType.parse(value.value)


class VirtualDeviceSupportedDataModelTests(unittest.TestCase):
    """What a Virtual CWMP Device of a UPnP DM device answers for its SupportedDataModel table."""

    def setUp(self) -> None:
        if not tr181.available():
            raise unittest.SkipTest(f"{tr181.TR181_FULL} is not here")
        self.standard = tr181.load()

    def virtualDevice(self, bbfUUID: str) -> Any:
        """The simulated device, its BBF model's SubTree carrying C{bbfUUID}, probed and wrapped as TR-330 does."""
        clock = task.Clock()
        deviceSchema = copy.copy(schema())
        deviceSchema.dataModels = tuple(dataclasses.replace(m, uuid=bbfUUID) if "broadband-forum" in m.uri else m
                                        for m in deviceSchema.dataModels)
        sim = SimulatedDevice(Identity.forIndex(0), deviceSchema, clock)
        sim.setLocation("http://127.0.0.1:49000")
        sim.powerOn()
        device = SimUPnPDevice(clock, sim=sim)
        gate = ActionGate(lambda: device, clock, refused=errors.refusedByDevice, timeout=30)
        [candidate], _ = candidates(device.description)
        profile = self.successResultOf(probe(gate.call, candidate, capabilities(candidate, device.scpd), "2.17"))
        store = Store.open(self.mktemp())
        cms = CMSDataModel(profile, gate, DeviceState(store.document("device")), clock=clock,
                           onReboot=lambda reason: None, onFactoryReset=lambda: None)
        settings = EndpointSettings(store.document("settings"), dict(load(None)["acs"], url="http://acs.example.net/"))
        local = virtualDeviceLocalModel(PROXIER, "UPnP-DM", settings, lambda: "", store.child("local"))
        return virtualDeviceModel(cms, local)

    def test_getParameterValues(self) -> None:
        """
        With the device's valid UUID, without one, and with one that is not
        a UUID: the GetParameterValuesResponse of the table validates
        against the CWMP schema, and every value parses with TR-181's type
        (the UUID 36 characters of its pattern), the same on a rebuild.
        """
        given = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
        name = "Device.DeviceInfo.SupportedDataModel.1.UUID"
        for bbfUUID in ("", given, "not-a-uuid"):
            answers = []
            for _ in range(2):
                values = self.successResultOf(self.virtualDevice(bbfUUID).getParameterValues(
                    ["Device.DeviceInfo.SupportedDataModel."]))
                self.assertEqual({v.name.rsplit(".", 1)[1] for v in values}, {"URL", "URN", "UUID", "Features"})
                assertValidCWMP(self, encode(messages.Envelope(
                    messages.GetParameterValuesResponse(parameters=tuple(values)), id="h29")), bbfUUID)
                for value in values:
                    standard = self.standard.parameters[paths.schemaPath(value.name)].type()
                    self.assertEqual(value.type, standard.xsiType, value.name)
                    standard.parse(value.value)
                answers.append({v.name: v.value for v in values})
            self.assertEqual(answers[0], answers[1])
            self.assertEqual(len(answers[0][name]), 36)
            if bbfUUID == given:
                self.assertEqual(answers[0][name], given)
            else:
                self.assertNotEqual(answers[0][name], given)
