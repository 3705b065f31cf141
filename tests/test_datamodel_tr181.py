"""
Conformance of the proxier's own Device:2 models with TR-181 2.17
(../shared/ref/datamodel/tr-181-2-17-0-cwmp-full.xml): every object and
parameter either tree defines exists there, with the same type, the same
access, and the same notification facts.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.trial import unittest
from zope.interface import implementer

from proxier.config import load
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel import paths
from proxier.datamodel.gateway import SupportedDataModel, proxierModel, virtualDeviceLocalModel
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IProxiedDevice
from proxier.store import Store
from tests import tr181

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
                if value.name.endswith(".UUID") and value.value == "":
                    continue  # an absent UUID: TR-181 allows the parameter to be empty when unknown
                dataType.parse(value.value)
