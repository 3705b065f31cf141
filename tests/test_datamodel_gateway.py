"""Tests for L{proxier.datamodel.gateway} and L{proxier.datamodel.managementserver}: the proxier's own Device:2 models."""

from __future__ import annotations

import datetime
from typing import Any

from twisted.internet import defer, task
from twisted.logger import LogLevel
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from proxier._version import __version__
from proxier.config import load
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel.declarations import Object, Parameter
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.gateway import (
    ROOT_DATA_MODEL_URN,
    ROOT_DATA_MODEL_VERSION,
    SupportedDataModel,
    proxierModel,
    virtualDeviceLocalModel,
    virtualDeviceModel,
)
from proxier.datamodel.standard import FORCED_INFORM, isUUID, supportedDataModelUUID
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import String
from proxier.datamodel.values import AttributeChange, DeviceIdentity, ParameterValue
from proxier.interfaces import IForcedInform, IProxiedDevice
from proxier.service import DeviceDirectory
from proxier.store import Store
from tests._helpers import LogCapture, ModelCalls

MS = "Device.ManagementServer."
VD = MS + "VirtualDevice."
UTC = datetime.timezone.utc
PROXIER = DeviceIdentity("proxier", "00D0F5", "Gateway", "GW-0001")


@implementer(IProxiedDevice)
class FakeDevice:
    """A proxied device as a protocol reports it."""

    def __init__(self, serial: str, protocol: str = "UPnP-DM", discovery: str = "UPnP") -> None:
        self.identity = DeviceIdentity("Acme", "001122", "MediaBox", serial)
        self.key = self.identity.key
        self.proxyProtocol = protocol
        self.discoveryProtocol = discovery
        self.host = "127.0.0.1"
        self.online = True

    def addObserver(self, observer: Any) -> None:
        pass

    def removeObserver(self, observer: Any) -> None:
        pass


class Protocol:
    """What the gateway reads of an installed protocol plugin (IProxyProtocol)."""

    def __init__(self, name: str, discoveryProtocol: Any) -> None:
        self.name = name
        self.discoveryProtocol = discoveryProtocol


class GatewayTestCase(ModelCalls, unittest.TestCase):
    def setUp(self) -> None:
        self.storePath = self.mktemp()
        self.acs = dict(load(None)["acs"], url="http://acs.example.net/cwmp")
        self.deviceConfig = dict(load(None)["device"], hardware_version="HW1", provisioning_code="PC-1")
        self.clock = task.Clock()
        self.clock.advance(1000)
        self.crURL = "http://127.0.0.1:7547/abc"
        self.directory = DeviceDirectory()
        self.observed: list = []
        self.model = self.make()

    def make(self, deviceConfig: dict | None = None, directory: Any = None, rows: Any = None) -> Any:
        store = Store.open(self.storePath).child("endpoint-proxier")
        self.settings = EndpointSettings(store.document("settings"), self.acs,
                                         connectionRequestUsername="cru", connectionRequestPassword="crp")
        self.settings.observe(lambda name, old, new: self.observed.append((name, old, new)))
        return proxierModel(
            PROXIER, deviceConfig or self.deviceConfig, self.settings, lambda: self.crURL, store,
            directory=directory if directory is not None else self.directory, clock=self.clock,
            supportedDataModels=rows if rows is not None else [
                SupportedDataModel("http://127.0.0.1/dm.xml", "urn:broadband-forum-org:tr-181-2-17-0",
                                   ("Feature1", "Feature2"))],
        )

    def spv(self, *triples, model: Any = None) -> defer.Deferred:
        return (model or self.model).setParameterValues([ParameterValue(*t) for t in triples])

    def perParameter(self, fault: CWMPFault) -> list:
        return [(f.parameterName, f.faultCode) for f in fault.parameterFaults]


class DeviceInfoTests(GatewayTestCase):
    def test_identity(self) -> None:
        """DeviceInfo shows the proxier's identity and the [device] section; SoftwareVersion defaults to ours."""
        values = self.values("Device.")
        self.assertEqual(values["Device.RootDataModelVersion"], ROOT_DATA_MODEL_VERSION)
        self.assertEqual(values["Device.DeviceInfo.Manufacturer"], "proxier")
        self.assertEqual(values["Device.DeviceInfo.ManufacturerOUI"], "00D0F5")
        self.assertEqual(values["Device.DeviceInfo.ProductClass"], "Gateway")
        self.assertEqual(values["Device.DeviceInfo.SerialNumber"], "GW-0001")
        self.assertEqual(values["Device.DeviceInfo.HardwareVersion"], "HW1")
        self.assertEqual(values["Device.DeviceInfo.SoftwareVersion"], __version__)
        self.assertEqual(values["Device.DeviceInfo.ProvisioningCode"], "PC-1")
        model = self.make(dict(self.deviceConfig, software_version="7.1"))
        self.assertEqual(self.values("Device.DeviceInfo.SoftwareVersion", model=model),
                         {"Device.DeviceInfo.SoftwareVersion": "7.1"})

    def test_upTime(self) -> None:
        """UpTime counts seconds from the injected clock since the model was made."""
        self.assertEqual(self.values("Device.DeviceInfo.UpTime"), {"Device.DeviceInfo.UpTime": "0"})
        self.clock.advance(42.7)
        self.assertEqual(self.values("Device.DeviceInfo.UpTime"), {"Device.DeviceInfo.UpTime": "42"})

    def test_provisioningCode(self) -> None:
        """ProvisioningCode is writable and persisted; an operator's new value in the file replaces the ACS's."""
        self.assertEqual(self.ok(self.spv(("Device.DeviceInfo.ProvisioningCode", "ACS-9", "xsd:string"))), 0)
        again = self.make()
        self.assertEqual(again.getLocal("Device.DeviceInfo.ProvisioningCode"), "ACS-9")
        edited = self.make(dict(self.deviceConfig, provisioning_code="PC-2"))
        self.assertEqual(edited.getLocal("Device.DeviceInfo.ProvisioningCode"), "PC-2")
        self.fault(self.spv(("Device.DeviceInfo.ProvisioningCode", "x" * 65, "xsd:string")), 9003)

    def test_readOnly(self) -> None:
        """Identity parameters are read-only: 9008."""
        fault = self.fault(self.spv(("Device.DeviceInfo.SerialNumber", "x", "xsd:string"),
                                    ("Device.RootDataModelVersion", "2.18", "xsd:string"),
                                    ("Device.DeviceInfo.UpTime", "1", "xsd:unsignedInt")), 9003)
        self.assertEqual({code for _, code in self.perParameter(fault)}, {9008})

    def test_supportedDataModel(self) -> None:
        """SupportedDataModel rows show what the proxier was given; without a UUID, the name-based one."""
        values = self.values("Device.DeviceInfo.SupportedDataModel.")
        derived = supportedDataModelUUID("urn:broadband-forum-org:tr-181-2-17-0", "http://127.0.0.1/dm.xml")
        self.assertTrue(isUUID(derived))
        self.assertEqual(values, {
            "Device.DeviceInfo.SupportedDataModel.1.URL": "http://127.0.0.1/dm.xml",
            "Device.DeviceInfo.SupportedDataModel.1.UUID": derived,
            "Device.DeviceInfo.SupportedDataModel.1.URN": "urn:broadband-forum-org:tr-181-2-17-0",
            "Device.DeviceInfo.SupportedDataModel.1.Features": "Feature1,Feature2",
        })
        self.assertEqual(self.values("Device.DeviceInfo.SupportedDataModelNumberOfEntries"),
                         {"Device.DeviceInfo.SupportedDataModelNumberOfEntries": "1"})

    def test_supportedDataModelByDefault(self) -> None:
        """Given no rows, the proxier lists the root data model its tree declares (TR-181 2.17), no URL."""
        store = Store.open(self.mktemp()).child("endpoint-proxier")
        settings = EndpointSettings(store.document("settings"), self.acs)
        model = proxierModel(PROXIER, self.deviceConfig, settings, lambda: self.crURL, store,
                             directory=self.directory, clock=self.clock)
        values = self.values("Device.DeviceInfo.SupportedDataModel.", model=model)
        self.assertEqual(values, {
            "Device.DeviceInfo.SupportedDataModel.1.URL": "",
            "Device.DeviceInfo.SupportedDataModel.1.UUID": supportedDataModelUUID(ROOT_DATA_MODEL_URN, ""),
            "Device.DeviceInfo.SupportedDataModel.1.URN": ROOT_DATA_MODEL_URN,
            "Device.DeviceInfo.SupportedDataModel.1.Features": "",
        })

    def test_supportedDataModelUUIDStable(self) -> None:
        """A rebuilt model (a restart) answers the same derived UUID."""
        name = "Device.DeviceInfo.SupportedDataModel.1.UUID"
        self.assertEqual(self.values(name, model=self.make()), self.values(name))

    def test_supportedDataModelUUIDGiven(self) -> None:
        """
        A valid UUID is answered as given; one that is not a UUID is
        logged once, at the build, and replaced by the name-based one.
        """
        capture = LogCapture(self)
        self.storePath = self.mktemp()  # rows numbered afresh
        given = "0A1B2C3D-0000-4000-8000-00000000000F"
        model = self.make(rows=[SupportedDataModel("http://a/", "urn:a", uuid=given),
                                SupportedDataModel("http://b/", "urn:b", uuid="not-a-uuid")])
        for _ in range(2):
            values = self.values("Device.DeviceInfo.SupportedDataModel.", model=model)
            self.assertEqual(values["Device.DeviceInfo.SupportedDataModel.1.UUID"], given)
            self.assertEqual(values["Device.DeviceInfo.SupportedDataModel.2.UUID"],
                             supportedDataModelUUID("urn:b", "http://b/"))
        warned = [e for e in capture.atLeast(LogLevel.warn) if e.get("uuid") == "not-a-uuid"]
        self.assertEqual(len(warned), 1)


class ManagementServerTests(GatewayTestCase):
    def test_values(self) -> None:
        """ManagementServer shows the endpoint's settings; passwords read back empty."""
        values = self.values(MS)
        self.assertEqual(values[MS + "URL"], "http://acs.example.net/cwmp")
        self.assertEqual(values[MS + "PeriodicInformEnable"], "true")
        self.assertEqual(values[MS + "PeriodicInformInterval"], "86400")
        self.assertEqual(values[MS + "PeriodicInformTime"], "0001-01-01T00:00:00Z")
        self.assertEqual(values[MS + "ConnectionRequestURL"], "http://127.0.0.1:7547/abc")
        self.assertEqual(values[MS + "ConnectionRequestUsername"], "cru")
        self.assertEqual(values[MS + "ConnectionRequestPassword"], "")
        self.assertEqual(values[MS + "Password"], "")
        self.assertEqual(values[MS + "CWMPRetryMinimumWaitInterval"], "5")
        self.assertEqual(values[MS + "CWMPRetryIntervalMultiplier"], "2000")
        self.assertEqual(values[MS + "AliasBasedAddressing"], "false")
        self.assertEqual(values[MS + "AutonomousTransferCompletePolicy.TransferTypeFilter"], "Both")
        self.assertEqual(values[MS + "AutonomousTransferCompletePolicy.FileTypeFilter"], "")
        self.assertEqual(values[MS + "VirtualDeviceNumberOfEntries"], "0")

    def test_setReachesSettings(self) -> None:
        """Values the ACS sets land in EndpointSettings in one change, and its observers are told."""
        when = "2024-06-01T00:00:00Z"
        self.assertEqual(self.ok(self.spv(
            (MS + "URL", "https://acs2.example.net/", "xsd:string"),
            (MS + "PeriodicInformInterval", "600", "xsd:unsignedInt"),
            (MS + "PeriodicInformTime", when, "xsd:dateTime"),
            (MS + "Password", "s3cret", "xsd:string"),
            (MS + "AutonomousTransferCompletePolicy.FileTypeFilter", "1 Firmware Upgrade Image, X 00D0F5 Log",
             "xsd:string"),
        )), 0)
        self.assertEqual(self.settings.url, "https://acs2.example.net/")
        self.assertEqual(self.settings.periodicInformInterval, 600)
        self.assertEqual(self.settings.periodicInformTime, datetime.datetime(2024, 6, 1, tzinfo=UTC))
        self.assertEqual(self.settings.password, "s3cret")
        self.assertEqual(self.settings.autonomousTransferCompletePolicyFileTypeFilter,
                         "1 Firmware Upgrade Image,X 00D0F5 Log")
        self.assertEqual({name for name, _, _ in self.observed},
                         {"url", "periodicInformInterval", "periodicInformTime", "password",
                          "autonomousTransferCompletePolicyFileTypeFilter"})
        self.assertEqual(self.values(MS + "Password"), {MS + "Password": ""})
        self.assertEqual(self.values(MS + "AutonomousTransferCompletePolicy.FileTypeFilter"),
                         {MS + "AutonomousTransferCompletePolicy.FileTypeFilter":
                          "1 Firmware Upgrade Image,X 00D0F5 Log"})

    def test_refused(self) -> None:
        """TR-181's ranges, enumerations, patterns and URL form are enforced; read-only ones give 9008."""
        rows = [
            ((MS + "PeriodicInformInterval", "0", "xsd:unsignedInt"), 9007),
            ((MS + "CWMPRetryMinimumWaitInterval", "65536", "xsd:unsignedInt"), 9007),
            ((MS + "CWMPRetryIntervalMultiplier", "999", "xsd:unsignedInt"), 9007),
            ((MS + "URL", "ftp://acs/", "xsd:string"), 9007),
            ((MS + "URL", "", "xsd:string"), 9007),
            ((MS + "URL", "x" * 2049, "xsd:string"), 9007),
            ((MS + "PeriodicInformEnable", "maybe", "xsd:boolean"), 9007),
            ((MS + "PeriodicInformEnable", "1", "xsd:dateTime"), 9006),
            ((MS + "AutonomousTransferCompletePolicy.TransferTypeFilter", "Sideways", "xsd:string"), 9007),
            ((MS + "AutonomousTransferCompletePolicy.ResultTypeFilter", "both", "xsd:string"), 9007),
            ((MS + "AutonomousTransferCompletePolicy.FileTypeFilter", "5 Something", "xsd:string"), 9007),
            ((MS + "ParameterKey", "k", "xsd:string"), 9008),
            ((MS + "ConnectionRequestURL", "http://x/", "xsd:string"), 9008),
            ((MS + "AliasBasedAddressing", "true", "xsd:boolean"), 9008),
            ((MS + "VirtualDeviceNumberOfEntries", "1", "xsd:unsignedInt"), 9008),
        ]
        for triple, code in rows:
            fault = self.fault(self.spv(triple), 9003)
            self.assertEqual(self.perParameter(fault), [(triple[0], code)], triple)
        self.assertEqual(self.observed, [])

    def test_atomic(self) -> None:
        """One bad value leaves every setting as it was, and observers hear nothing."""
        self.fault(self.spv((MS + "URL", "https://new/", "xsd:string"),
                            (MS + "PeriodicInformInterval", "0", "xsd:unsignedInt")), 9003)
        self.assertEqual(self.settings.url, "http://acs.example.net/cwmp")
        self.assertEqual(self.observed, [])

    def test_parameterKey(self) -> None:
        """ParameterKey shows what the endpoint stored and is never reported as a value change."""
        seen = []
        self.model.addChangeListener(lambda values, active: seen.append(values))
        self.ok(self.model.setParameterAttributes([AttributeChange(MS + "ParameterKey", True, 1)]))
        self.settings.set(parameterKey="pk-3")
        self.assertEqual(self.values(MS + "ParameterKey"), {MS + "ParameterKey": "pk-3"})
        self.assertEqual(seen, [])
        self.fault(self.model.setParameterAttributes([AttributeChange(MS + "ParameterKey", True, 2)]), 9009)

    def test_settingChangedElsewhereReported(self) -> None:
        """A setting changed other than by the ACS's SetParameterValues is reported; the ACS's own is not."""
        seen = []
        self.model.addChangeListener(lambda values, active: seen.append((list(values), active)))
        self.ok(self.model.setParameterAttributes([AttributeChange(MS + "PeriodicInformInterval", True, 2)]))
        self.ok(self.spv((MS + "PeriodicInformInterval", "600", "xsd:unsignedInt")))
        self.assertEqual(seen, [])
        self.settings.set(periodicInformInterval=300)
        self.assertEqual(seen, [([ParameterValue(MS + "PeriodicInformInterval", "300", "xsd:unsignedInt")], True)])

    def test_connectionRequestURL(self) -> None:
        """ConnectionRequestURL comes from the endpoint; its notification is active by default."""
        self.crURL = "http://127.0.0.1:7547/other"
        self.assertEqual(self.values(MS + "ConnectionRequestURL"), {MS + "ConnectionRequestURL": self.crURL})
        attrs = self.ok(self.model.getParameterAttributes([MS + "ConnectionRequestURL"]))
        self.assertEqual(attrs[0].notification, 2)

    def test_attributesPersist(self) -> None:
        """Notification attributes survive a restart of the proxier."""
        self.ok(self.model.setParameterAttributes([AttributeChange(MS + "URL", True, 1),
                                                   AttributeChange(MS + "ConnectionRequestURL", True, 0)]))
        again = self.make()
        attrs = {a.name: a.notification for a in self.ok(again.getParameterAttributes([MS]))}
        self.assertEqual(attrs[MS + "URL"], 1)
        self.assertEqual(attrs[MS + "ConnectionRequestURL"], 0)
        self.assertEqual(attrs[MS + "Username"], 0)


class VirtualDeviceTests(GatewayTestCase):
    def test_rows(self) -> None:
        """Devices reported to the directory become VirtualDevice rows, and go when removed."""
        a, b = FakeDevice("A1"), FakeDevice("B2", protocol="ETSI-M2M", discovery="")
        self.directory.deviceAppeared(a)
        self.directory.deviceAppeared(b)
        values = self.values(VD)
        self.assertEqual(values[VD + "1.ManufacturerOUI"], "001122")
        self.assertEqual(values[VD + "1.ProductClass"], "MediaBox")
        self.assertEqual(values[VD + "1.SerialNumber"], "A1")
        self.assertEqual(values[VD + "1.ProxyProtocol"], "UPnP-DM")
        self.assertEqual(values[VD + "1.DiscoveryProtocol"], "UPnP")
        self.assertEqual(values[VD + "1.Host"], "")
        self.assertEqual(values[VD + "2.SerialNumber"], "B2")
        self.assertEqual(values[VD + "2.DiscoveryProtocol"], "")
        self.assertEqual(self.values(MS + "VirtualDeviceNumberOfEntries"), {MS + "VirtualDeviceNumberOfEntries": "2"})
        self.directory.deviceRemoved(a)
        self.assertEqual(self.model.instances(VD), [2])
        self.assertEqual(self.values(MS + "VirtualDeviceNumberOfEntries"), {MS + "VirtualDeviceNumberOfEntries": "1"})
        self.fault(self.model.addObject(VD), 9001)
        self.fault(self.model.deleteObject(VD + "2."), 9001)

    def test_pluginProtocolValues(self) -> None:
        """
        ProxyProtocol and DiscoveryProtocol take the installed plugins'
        values: TR-181's, or TR-106 vendor names (X_<OUI>_) for those TR-181
        lacks, which their declared types then accept. A plugin value that is
        neither is logged at start and stays outside the types.
        """
        printer = Protocol("X_00D0F5_IPP", "X_00D0F5_DNS-SD")
        bad = Protocol("IPP", "mDNS")
        capture = LogCapture(self)
        store = Store.open(self.mktemp())
        model = proxierModel(PROXIER, self.deviceConfig, self.settings, lambda: "", store, clock=self.clock,
                             protocols=[Protocol("UPnP-DM", "UPnP"), printer, bad])
        self.assertEqual(sorted(str(e.get("value")) for e in capture.errors()), ["IPP", "mDNS"])
        model.virtualDevices.deviceAppeared(FakeDevice("P1", protocol=printer.name, discovery=printer.discoveryProtocol))
        model.virtualDevices.deviceAppeared(FakeDevice("U1"))
        values = self.values(VD + "1.ProxyProtocol", VD + "1.DiscoveryProtocol", VD + "2.ProxyProtocol", model=model)
        self.assertEqual(values, {VD + "1.ProxyProtocol": "X_00D0F5_IPP", VD + "1.DiscoveryProtocol": "X_00D0F5_DNS-SD",
                                  VD + "2.ProxyProtocol": "UPnP-DM"})
        proxyType = model.parameter(VD + "1.ProxyProtocol").type
        discoveryType = model.parameter(VD + "1.DiscoveryProtocol").type
        for value in ("UPnP-DM", "ZigBee", "X_00D0F5_IPP"):
            proxyType.check(value)
        discoveryType.check(("UPnP", "X_00D0F5_DNS-SD"))
        self.assertRaises(ValueError, proxyType.check, "IPP")
        self.assertRaises(ValueError, discoveryType.check, ("mDNS",))
        local = virtualDeviceLocalModel(PROXIER, printer.name, self.settings, lambda: "", Store.open(self.mktemp()))
        self.assertEqual(self.values("Device.DeviceInfo.ProxierInfo.ProxyProtocol", model=local),
                         {"Device.DeviceInfo.ProxierInfo.ProxyProtocol": "X_00D0F5_IPP"})
        local.parameter("Device.DeviceInfo.ProxierInfo.ProxyProtocol").type.check("X_00D0F5_IPP")

    def test_severalDiscoveryProtocols(self) -> None:
        """A plugin whose devices are found in several ways gives a tuple: each value is in the enumeration."""
        printer = Protocol("X_00D0F5_IPP", ("X_00D0F5_Static", "X_00D0F5_DNS-SD"))
        model = proxierModel(PROXIER, self.deviceConfig, self.settings, lambda: "", Store.open(self.mktemp()),
                             clock=self.clock, protocols=[printer])
        model.virtualDevices.deviceAppeared(FakeDevice("P1", protocol=printer.name, discovery="X_00D0F5_DNS-SD"))
        self.assertEqual(self.values(VD + "1.DiscoveryProtocol", model=model),
                         {VD + "1.DiscoveryProtocol": "X_00D0F5_DNS-SD"})
        model.parameter(VD + "1.DiscoveryProtocol").type.check(("X_00D0F5_Static", "X_00D0F5_DNS-SD"))

    def test_stableAcrossRestart(self) -> None:
        """Each device keeps its instance number after a restart, whatever order devices come back in."""
        for serial in ("A", "B", "C"):
            self.directory.deviceAppeared(FakeDevice(serial))
        directory = DeviceDirectory()
        model = self.make(directory=directory)
        for serial in ("C", "D", "A"):
            directory.deviceAppeared(FakeDevice(serial))
        numbers = {model.getLocal(f"{VD}{n}.SerialNumber"): n for n in model.instances(VD)}
        self.assertEqual(numbers, {"A": 1, "C": 3, "D": 4})

    def test_hostReference(self) -> None:
        """Host shows what the host-reference function gives (paths of Device.Hosts.Host rows)."""
        store = Store.open(self.mktemp())
        model = proxierModel(PROXIER, self.deviceConfig, self.settings, lambda: "", store, clock=self.clock,
                             hostReference=lambda device: ["Device.Hosts.Host.4"])
        model.virtualDevices.deviceAppeared(FakeDevice("A"))
        self.assertEqual(self.values(VD + "1.Host", model=model), {VD + "1.Host": "Device.Hosts.Host.4"})

    def test_numberOfEntriesNotified(self) -> None:
        """With notification set on VirtualDeviceNumberOfEntries, a new device is a value change (TR-330 4.3.1)."""
        seen = []
        self.model.addChangeListener(lambda values, active: seen.append((list(values), active)))
        self.ok(self.model.setParameterAttributes([AttributeChange(MS + "VirtualDeviceNumberOfEntries", True, 2)]))
        self.directory.deviceAppeared(FakeDevice("A"))
        self.assertEqual(seen, [([ParameterValue(MS + "VirtualDeviceNumberOfEntries", "1", "xsd:unsignedInt")],
                                 True)])

    def test_noAliases(self) -> None:
        """
        The proxier's own tables without an Alias (VirtualDevice: TR-181
        has none; SupportedDataModel: the proxier gives none) answer an
        alias path with 9005 on every RPC that takes one (issue 17), as
        for any instance that does not exist; the rows by number answer.
        """
        self.directory.deviceAppeared(FakeDevice("A1"))
        self.assertEqual(self.values(VD + "1.SerialNumber"), {VD + "1.SerialNumber": "A1"})
        for path in (VD + "[cpe-1].", VD + "[cpe-1].SerialNumber", "Device.DeviceInfo.SupportedDataModel.[cpe-1].URL"):
            self.fault(self.model.getParameterValues([path]), 9005)
            self.fault(self.model.getParameterNames(path, False), 9005)
            self.fault(self.model.getParameterAttributes([path]), 9005)
            self.fault(self.model.setParameterAttributes([AttributeChange(path, True, 1)]), 9005)
        fault = self.fault(self.spv((VD + "[cpe-1].SerialNumber", "B", "xsd:string")), 9003)
        self.assertEqual(self.perParameter(fault), [(VD + "[cpe-1].SerialNumber", 9005)])
        self.fault(self.model.deleteObject(VD + "[cpe-1]."), 9005)
        self.fault(self.model.addObject(VD + "[cpe-9]."), 9001)  # a read-only table, as without an alias

    def test_duplicateAppearance(self) -> None:
        """A device told twice keeps its one row, with a warning instead of a crash."""
        device = FakeDevice("A")
        self.model.virtualDevices.deviceAppeared(device)
        self.model.virtualDevices.deviceAppeared(device)
        self.assertEqual(self.model.instances(VD), [1])


class VirtualDeviceLocalTests(GatewayTestCase):
    def setUp(self) -> None:
        super().setUp()
        store = Store.open(self.mktemp())
        self.vsettings = EndpointSettings(store.document("settings"), self.acs)
        self.local = virtualDeviceLocalModel(PROXIER, "UPnP-DM", self.vsettings, lambda: "http://127.0.0.1:7547/v1",
                                             store)
        self.deviceTree = TreeDataModel(Object(
            "Device",
            Parameter("RootDataModelVersion", String(32), value="2.12"),
            Object("DeviceInfo", Parameter("SerialNumber", String(64), value="TV-1")),
        ))
        self.composite = virtualDeviceModel(self.deviceTree, self.local)

    def test_localObjects(self) -> None:
        """The local part has ManagementServer (without VirtualDevice) and ProxierInfo naming the proxier."""
        values = self.values("Device.", model=self.local)
        self.assertEqual(values["Device.DeviceInfo.ProxierInfo.ManufacturerOUI"], "00D0F5")
        self.assertEqual(values["Device.DeviceInfo.ProxierInfo.ProductClass"], "Gateway")
        self.assertEqual(values["Device.DeviceInfo.ProxierInfo.SerialNumber"], "GW-0001")
        self.assertEqual(values["Device.DeviceInfo.ProxierInfo.ProxyProtocol"], "UPnP-DM")
        self.assertEqual(values[MS + "ConnectionRequestURL"], "http://127.0.0.1:7547/v1")
        self.assertFalse(any("VirtualDevice" in name for name in values))

    def test_composed(self) -> None:
        """Composed over the device's model, the Virtual CWMP Device shows both, ProxierInfo inside DeviceInfo."""
        names = [i.name for i in self.ok(self.composite.getParameterNames("Device.", False))]
        self.assertEqual(names[:6], ["Device.", "Device.RootDataModelVersion", "Device.DeviceInfo.",
                                     "Device.DeviceInfo.SerialNumber", "Device.DeviceInfo.ProxierInfo.",
                                     "Device.DeviceInfo.ProxierInfo.ManufacturerOUI"])
        self.assertIn(MS + "URL", names)
        self.ok(self.spv((MS + "PeriodicInformInterval", "120", "xsd:unsignedInt"), model=self.composite))
        self.assertEqual(self.vsettings.periodicInformInterval, 120)
        self.assertEqual(self.values("Device.RootDataModelVersion", model=self.composite),
                         {"Device.RootDataModelVersion": "2.12"})


    def test_ownEndpoint(self) -> None:
        """
        Two Virtual CWMP Devices, one ManagementServer declaration between
        them (issue 19): each shows, sets and reports its own endpoint's
        settings and Connection Request URL.
        """
        store = Store.open(self.mktemp())
        otherSettings = EndpointSettings(store.document("settings"), self.acs)
        other = virtualDeviceLocalModel(PROXIER, "UPnP-DM", otherSettings, lambda: "http://127.0.0.1:7547/v2", store)
        self.assertIs(other.parameter(MS + "URL"), self.local.parameter(MS + "URL"))
        self.ok(self.spv((MS + "PeriodicInformInterval", "120", "xsd:unsignedInt"),
                         (MS + "Username", "mine", "xsd:string"), model=other))
        self.assertEqual((otherSettings.periodicInformInterval, otherSettings.username), (120, "mine"))
        self.assertNotEqual(self.vsettings.periodicInformInterval, 120)
        self.assertEqual(self.values(MS + "PeriodicInformInterval", MS + "ConnectionRequestURL", model=other),
                         {MS + "PeriodicInformInterval": "120", MS + "ConnectionRequestURL": "http://127.0.0.1:7547/v2"})
        self.assertEqual(self.values(MS + "ConnectionRequestURL", model=self.local),
                         {MS + "ConnectionRequestURL": "http://127.0.0.1:7547/v1"})
        seen: dict[str, list] = {"local": [], "other": []}
        self.local.addChangeListener(lambda values, active: seen["local"].append([v.name for v in values]))
        other.addChangeListener(lambda values, active: seen["other"].append([v.name for v in values]))
        for model in (self.local, other):
            self.ok(model.setParameterAttributes([AttributeChange(MS + "PeriodicInformEnable", True, 2)]))
        otherSettings.set(periodicInformEnable=not otherSettings.periodicInformEnable)
        self.assertEqual(seen, {"local": [], "other": [[MS + "PeriodicInformEnable"]]})


class ForcedInformOptionTests(GatewayTestCase):
    def test_reportForcedInform(self) -> None:
        """With reportForcedInform, a new ConnectionRequestURL reaches listeners, actively, by default."""
        store = Store.open(self.mktemp())
        model = proxierModel(PROXIER, self.deviceConfig, self.settings, lambda: self.crURL, store, clock=self.clock,
                             reportForcedInform=True)
        seen = []
        model.addChangeListener(lambda values, active: seen.append((list(values), active)))
        self.crURL = "http://127.0.0.1:7547/moved"
        model.changed(MS + "ConnectionRequestURL")
        self.assertEqual(seen, [([ParameterValue(MS + "ConnectionRequestURL", self.crURL, "xsd:string")], True)])

    def test_forcedInformDeclared(self) -> None:
        """
        The proxier's own model and a Virtual CWMP Device's say which
        parameters every Inform carries: TR-181's forcedInform ones of their
        Device:2 root, which the proxier's tree has, each with a value.
        """
        for model in (self.model, virtualDeviceModel(TreeDataModel(Object("Device")), virtualDeviceLocalModel(
                PROXIER, "UPnP-DM", self.settings, lambda: self.crURL, Store.open(self.mktemp())))):
            verifyObject(IForcedInform, model)
            self.assertEqual(model.forcedInform, FORCED_INFORM)
        values = self.values(*FORCED_INFORM)
        self.assertEqual(list(values), list(FORCED_INFORM))
        self.assertEqual(values["Device.DeviceInfo.HardwareVersion"], "HW1")
        self.assertEqual(values[MS + "ConnectionRequestURL"], self.crURL)

    def test_forcedInformQuietByDefault(self) -> None:
        """By default a forced-inform parameter's change is left to the next Inform, which carries it anyway."""
        seen = []
        self.model.addChangeListener(lambda values, active: seen.append(values))
        self.crURL = "http://127.0.0.1:7547/moved"
        self.model.changed(MS + "ConnectionRequestURL")
        self.assertEqual(seen, [])
