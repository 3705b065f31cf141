"""
Tests for L{proxier.upnpdm.profile}: which logical devices are candidates,
what their SCPDs allow, where their models are, who they are, and the
probe that asks them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from twisted.internet import task
from twisted.internet.defer import succeed
from twisted.trial import unittest

from proxier.datamodel.standard import isUUID, supportedDataModelUUID
from proxier.proxy.gate import ActionGate
from proxier.sim import cmsxml as devicexml
from proxier.sim.cmstree import DataModelSpec
from proxier.upnp.description import SCPD, Action, Device, DeviceDescription, Service
from proxier.upnpdm import profile as P
from proxier.upnpdm.cmsxml import DataModelEntry
from proxier.upnpdm.errors import refusedByDevice
from tests.test_upnpdm_fakes import SimUPnPDevice

CMS2 = "urn:schemas-upnp-org:service:ConfigurationManagement:2"
CMS1 = "urn:schemas-upnp-org:service:ConfigurationManagement:1"
BMS2 = "urn:schemas-upnp-org:service:BasicManagement:2"
SMS2 = "urn:schemas-upnp-org:service:SoftwareManagement:2"
OTHER = "urn:schemas-upnp-org:service:ContentDirectory:1"


def service(serviceType: str, sid: str) -> Service:
    return Service(serviceType, f"urn:upnp-org:serviceId:{sid}", f"http://h/{sid}.xml", f"http://h/{sid}")


COMMON = {
    "DeviceInfo/PhysicalDevice/DeviceID/ManufacturerOUI": "00d0f5",
    "DeviceInfo/PhysicalDevice/DeviceID/ProductClass": "Lamp",
    "DeviceInfo/PhysicalDevice/DeviceID/SerialNumber": "L-1",
    "DeviceInfo/SoftwareVersion": "2.0",
    "DeviceInfo/PhysicalDevice/HardwareVersion": "B",
    "DeviceInfo/ProvisioningCode": "",
}
MODELS = [DataModelEntry("urn:schemas-upnp-org:dm:ConfigurationManagement:2", "/UPnP/DM/"),
          DataModelEntry("urn:broadband-forum-org:tr-181-2-11-0", "/BBF/", "http://bbf/tr-181-2-11-0.xml")]


class CandidateTests(unittest.TestCase):
    def test_rootWithEveryService(self) -> None:
        """A ManageableDevice with BMS, CMS and SMS is one candidate with all three."""
        root = Device("urn:x:device:ManageableDevice:2", "uuid:R", services=(
            service(BMS2, "BMS"), service(CMS2, "CMS"), service(SMS2, "SMS"), service(OTHER, "CDS")))
        found, notes = P.candidates(DeviceDescription(root))
        self.assertEqual(notes, [])
        [candidate] = found
        self.assertEqual(candidate.udn, "uuid:r")
        self.assertEqual(sorted(candidate.services), ["BasicManagement", "ConfigurationManagement",
                                                      "SoftwareManagement"])

    def test_servicesMapping(self) -> None:
        """A candidate's services read as the dict they are made from: by name, absent ones neither listed nor found."""
        cms, bms = service(CMS2, "CMS"), service(BMS2, "BMS")
        services = P.DMServices({"ConfigurationManagement": cms, "BasicManagement": bms})
        self.assertEqual(services, {"BasicManagement": bms, "ConfigurationManagement": cms})
        self.assertEqual((len(services), list(services)), (2, ["BasicManagement", "ConfigurationManagement"]))
        self.assertIs(services["ConfigurationManagement"], cms)
        self.assertIsNone(services.get("SoftwareManagement"))
        self.assertNotIn("SoftwareManagement", services)
        for name in ("SoftwareManagement", "ContentDirectory"):
            self.assertRaises(KeyError, services.__getitem__, name)

    def test_embeddedBorrowsFromAncestors(self) -> None:
        """An embedded device with CMS uses its root's BMS (one physical device)."""
        child = Device("urn:x:device:ManageableDevice:2", "uuid:C", services=(service(CMS1, "CMS"),))
        root = Device("urn:x:device:Gateway:1", "uuid:R", services=(service(BMS2, "BMS"),), devices=(child,))
        [candidate], notes = P.candidates(DeviceDescription(root))
        self.assertEqual(candidate.udn, "uuid:c")
        self.assertEqual(candidate.bms.serviceId, "urn:upnp-org:serviceId:BMS")
        self.assertEqual(candidate.cms.serviceType, CMS1)
        self.assertEqual(notes, [])

    def test_twoLogicalDevices(self) -> None:
        """Two embedded devices with their own CMS are two candidates."""
        a = Device("urn:x:device:A:1", "uuid:A", services=(service(CMS2, "CMSa"),))
        b = Device("urn:x:device:B:1", "uuid:B", services=(service(CMS2, "CMSb"), service(BMS2, "BMSb")))
        found, _ = P.candidates(DeviceDescription(Device("urn:x:device:R:1", "uuid:R", devices=(a, b))))
        self.assertEqual([c.udn for c in found], ["uuid:a", "uuid:b"])
        self.assertIsNone(found[0].bms)
        self.assertIsNotNone(found[1].bms)

    def test_withoutCMSNoted(self) -> None:
        """A device with DM services but no CMS is noted as not proxied (no Common Objects)."""
        root = Device("urn:x:device:R:1", "uuid:R", services=(service(BMS2, "BMS"),))
        found, [note] = P.candidates(DeviceDescription(root))
        self.assertEqual(found, [])
        self.assertIn("no ConfigurationManagement", note)
        self.assertEqual(P.candidates(DeviceDescription(Device("urn:x:device:R:1", "uuid:R", services=(
            service(OTHER, "CDS"),)))), ([], []))

    def test_serviceName(self) -> None:
        """Only schemas-upnp-org DM services of a version of at least 1 count."""
        self.assertEqual(P.serviceName(service(CMS1, "a")), "ConfigurationManagement")
        for bad in ["urn:vendor-com:service:ConfigurationManagement:2", OTHER,
                    "urn:schemas-upnp-org:service:ConfigurationManagement:0", "junk"]:
            self.assertIsNone(P.serviceName(service(bad, "a")))


class CapabilitiesTests(unittest.TestCase):
    def candidate(self) -> P.Candidate:
        return P.Candidate("uuid:r", Device("t", "uuid:R"), {"ConfigurationManagement": service(CMS2, "CMS"),
                                                             "BasicManagement": service(BMS2, "BMS")})

    def test_fromSCPDs(self) -> None:
        """Each capability follows an action of the SCPD (TR-330 §4.3.1)."""
        cmsActions = ["GetSupportedDataModels", "GetSupportedParameters", "GetInstances", "GetValues",
                      "GetAttributes", "SetValues"]
        scpds = {CMS2: SCPD(tuple(Action(a) for a in cmsActions)), BMS2: SCPD((Action("Reboot"),))}
        caps = P.capabilities(self.candidate(), lambda s: scpds.get(s.serviceType))
        self.assertEqual(caps.missingReadActions, frozenset())
        self.assertTrue(caps.canSetValues)
        self.assertFalse(caps.canCreateInstance or caps.canDeleteInstance or caps.canSetAttributes)
        self.assertTrue(caps.canReboot)
        self.assertFalse(caps.canBaselineReset)

    def test_unknownSCPDMeansRequiredActionsOnly(self) -> None:
        """Without an SCPD, only the template's required actions are assumed: no writes, no reboot."""
        caps = P.capabilities(self.candidate(), lambda s: None)
        self.assertEqual(caps.missingReadActions, frozenset())
        self.assertFalse(caps.canSetValues or caps.canReboot)


class ModelLocationTests(unittest.TestCase):
    def test_commonObjects(self) -> None:
        """The Common Objects' location comes from GetSupportedDataModels, any version, else /UPnP/DM/."""
        self.assertEqual(P.commonObjectsLocation(MODELS), "/UPnP/DM/")
        self.assertEqual(P.commonObjectsLocation([DataModelEntry(
            "urn:schemas-upnp-org:dm:ConfigurationManagement:1", "/Vendor/DM")]), "/Vendor/DM/")
        self.assertEqual(P.commonObjectsLocation([DataModelEntry("urn:other", "/UPnP/DM")]), "/UPnP/DM/")
        self.assertIsNone(P.commonObjectsLocation([DataModelEntry("urn:other", "/X/")]))

    def test_bbfRoot(self) -> None:
        """Device. is the shallowest BBF location; none without a BBF model."""
        models = MODELS + [DataModelEntry("urn:broadband-forum-org:tr-135-1-4-0", "/BBF/Services/STBService/")]
        self.assertEqual(P.bbfRoot(models), "/BBF/")
        self.assertIsNone(P.bbfRoot(MODELS[:1]))

    def test_rootDataModelVersion(self) -> None:
        """RootDataModelVersion from the TR-181 URI (the newest if several), else the default."""
        self.assertEqual(P.rootDataModelVersion(MODELS, "2.17"), "2.11")
        self.assertEqual(P.rootDataModelVersion(MODELS[:1], "2.17"), "2.17")

    def test_versionsASCII(self) -> None:
        """A TR-181 or Common Objects URI whose version is in Unicode digits is not one (\\d took them)."""
        models = [DataModelEntry("urn:broadband-forum-org:tr-181-٢-٩٩-0", "/BBF/")]
        self.assertEqual(P.rootDataModelVersion(models, "2.17"), "2.17")
        self.assertIsNone(P.commonObjectsLocation([DataModelEntry(
            "urn:schemas-upnp-org:dm:ConfigurationManagement:²", "/X/")]))


class IdentityTests(unittest.TestCase):
    def test_identity(self) -> None:
        """OUI (upper-cased), ProductClass, SerialNumber; Manufacturer from the description when absent."""
        identity = P.identityFrom(COMMON, "Lamps Inc.")
        self.assertEqual((identity.manufacturer, identity.oui, identity.productClass, identity.serialNumber),
                         ("Lamps Inc.", "00D0F5", "Lamp", "L-1"))

    def test_refusals(self) -> None:
        """No OUI, a malformed OUI, or no serial number: not proxied, saying which."""
        for change, words in [
            ({"DeviceInfo/PhysicalDevice/DeviceID/ManufacturerOUI": ""}, "no ManufacturerOUI"),
            ({"DeviceInfo/PhysicalDevice/DeviceID/ManufacturerOUI": "ZZ12"}, "not six hexadecimal digits"),
            ({"DeviceInfo/PhysicalDevice/DeviceID/SerialNumber": "  "}, "no SerialNumber"),
        ]:
            with self.subTest(words=words):
                values = dict(COMMON, **change)
                with self.assertRaises(P.ProbeRefused) as caught:
                    P.identityFrom(values)
                self.assertIn(words, str(caught.exception))

    def test_separatorsAndLengths(self) -> None:
        """An OUI written with separators is accepted; long texts are cut to 64 characters."""
        values = dict(COMMON, **{"DeviceInfo/PhysicalDevice/DeviceID/ManufacturerOUI": "00-d0-f5",
                                 "DeviceInfo/PhysicalDevice/DeviceID/SerialNumber": "S" * 100})
        identity = P.identityFrom(values)
        self.assertEqual(identity.oui, "00D0F5")
        self.assertEqual(len(identity.serialNumber), 64)


class MakeProfileTests(unittest.TestCase):
    def candidate(self) -> P.Candidate:
        return P.Candidate("uuid:r", Device("t", "uuid:R", manufacturer="Lamps Inc."),
                           {"ConfigurationManagement": service(CMS2, "CMS")})

    def make(self, rootStructure: Any) -> P.DeviceProfile:
        return P.makeProfile(self.candidate(), P.Capabilities(frozenset()), MODELS, "/UPnP/DM/", COMMON,
                             rootStructure, "2.17")

    def test_fallbacksWalkTheTable(self) -> None:
        """
        Each row of COMMON_OBJECTS_FALLBACKS: mapped to the Common Objects when the BBF model lacks
        the parameter and the Common Objects have it; not mapped when the BBF model has it.
        """
        bare = self.make(["/BBF/Time/"])
        full = self.make(["/BBF/DeviceInfo/"] + ["/BBF/" + n[len("Device."):].replace(".", "/")
                                                 for n, _ in P.COMMON_OBJECTS_FALLBACKS])
        for name, relative in P.COMMON_OBJECTS_FALLBACKS:
            with self.subTest(name=name):
                if relative in COMMON:
                    self.assertEqual(bare.mapped[name], "/UPnP/DM/" + relative)
                else:
                    self.assertNotIn(name, bare.mapped)
                self.assertNotIn(name, full.mapped)

    def test_constants(self) -> None:
        """Manufacturer (from the description), RootDataModelVersion and the SupportedDataModel table."""
        profile = self.make(["/BBF/Time/"])
        values = {n: v.value for n, v in profile.constants.items()}
        self.assertEqual(values["Device.DeviceInfo.Manufacturer"], "Lamps Inc.")
        self.assertEqual(values["Device.RootDataModelVersion"], "2.11")
        self.assertEqual(values["Device.DeviceInfo.SupportedDataModelNumberOfEntries"], "1")
        self.assertEqual(values["Device.DeviceInfo.SupportedDataModel.1.URN"], "urn:broadband-forum-org:tr-181-2-11-0")
        self.assertEqual(values["Device.DeviceInfo.SupportedDataModel.1.URL"], "http://bbf/tr-181-2-11-0.xml")
        self.assertEqual(profile.constants["Device.DeviceInfo.SupportedDataModelNumberOfEntries"].type,
                         "xsd:unsignedInt")
        self.assertIn("Device.DeviceInfo.SupportedDataModel.1.", profile.constantObjects())

    def test_supportedDataModelUUID(self) -> None:
        """
        A row's UUID: the device's when it gives a valid one; else the
        name-based one of its URN and URL, the same for a profile built
        again (a restart); one that is not a UUID is replaced and noted
        (the device logs the notes once).
        """
        given = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
        name = "Device.DeviceInfo.SupportedDataModel.1.UUID"
        derived = supportedDataModelUUID("urn:broadband-forum-org:tr-181-2-11-0", "http://bbf/tr-181-2-11-0.xml")
        for uuid, expected, noted in (("", derived, False), (given, given, False), ("urn:uuid:" + given, derived, True),
                                      (given[:-1], derived, True)):
            models = [MODELS[0], dataclasses.replace(MODELS[1], uuid=uuid)]
            profiles = [P.makeProfile(self.candidate(), P.Capabilities(frozenset()), models, "/UPnP/DM/", COMMON,
                                      ["/BBF/Time/"], "2.17") for _ in range(2)]
            for profile in profiles:
                value = profile.constants[name]
                self.assertEqual((value.value, value.type), (expected, "xsd:string"), uuid)
                self.assertTrue(isUUID(value.value))
                self.assertEqual(len([n for n in profile.notes if "UUID" in n]), int(noted), profile.notes)

    def test_withoutBBFModel(self) -> None:
        """No usable BBF model: no root, and a note says so."""
        profile = self.make(None)
        self.assertIsNone(profile.root)
        self.assertTrue(any("no Broadband Forum data model" in n for n in profile.notes))
        self.assertFalse(profile.inBBF("Device.Time."))

    def test_inBBF(self) -> None:
        """
        What the top of the BBF model holds, two levels deep; below that,
        assumed only where the top two levels are the model's (issue 17.2:
        not below the SupportedDataModel table the proxier holds).
        """
        profile = self.make(["/BBF/Hosts/", "/BBF/Hosts/Host/#/", "/BBF/DeviceInfo/", "/BBF/DeviceInfo/UpTime",
                             "/BBF/Top/#/"])
        for name, expected in [("Device.", True), ("Device.Hosts.", True), ("Device.Hosts.Host.", True),
                               ("Device.Hosts.Host.1.HostName", True), ("Device.Time.", False),
                               ("Device.DeviceInfo.UpTime", True), ("Device.DeviceInfo.Manufacturer", False),
                               ("Device.DeviceInfo.SupportedDataModel.1.", False),
                               ("Device.DeviceInfo.SupportedDataModel.1.URL", False),
                               ("Device.Time.Deeper.Object.", False), ("Device.Top.3.Name", True),
                               ("Device.Top.[a].Name", True), ("Device.Other.3.Name", False),
                               ("Device.Top.².Name", False),  # '²' is no instance number (isdigit() said it was)
                               ("Other.", False)]:
            with self.subTest(name=name):
                self.assertEqual(profile.inBBF(name), expected)


class ProbeTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.device = SimUPnPDevice(self.clock)
        self.gate = ActionGate(lambda: self.device, self.clock, refused=refusedByDevice)
        [self.candidate], _ = P.candidates(self.device.description)
        self.caps = P.capabilities(self.candidate, self.device.scpd)

    def test_simulatedDevice(self) -> None:
        """A simulated device: its identity, Device. at /BBF/, Common Objects at /UPnP/DM/, three actions."""
        profile = self.successResultOf(P.probe(self.gate.call, self.candidate, self.caps, "2.17"))
        self.assertEqual(profile.identity, self.device.sim.identity.deviceIdentity)
        self.assertEqual((profile.root, profile.commonObjects), ("/BBF/", "/UPnP/DM/"))
        self.assertEqual(self.device.actions(), ["GetSupportedDataModels", "GetValues", "GetSupportedParameters"])
        self.assertEqual(profile.softwareVersion, "1.0.0")
        self.assertTrue(profile.capabilities.canCreateInstance and profile.capabilities.canReboot)
        self.assertNotIn("Device.DeviceInfo.SerialNumber", profile.mapped)  # the BBF model has it

    def test_noCommonObjects(self) -> None:
        """A device whose GetSupportedDataModels lists no Common Objects is refused."""
        answer = devicexml.supportedDataModels([DataModelSpec("urn:broadband-forum-org:tr-181-2-17-0", "/BBF/")])
        call = lambda service, action, arguments: succeed({"SupportedDataModels": answer})
        failure = self.failureResultOf(P.probe(call, self.candidate, self.caps, "2.17"), P.ProbeRefused)
        self.assertIn("no UPnP DM Common Objects", str(failure.value))

    def test_missingReadActions(self) -> None:
        """A CMS lacking a read action is refused before any action is sent."""
        caps = P.Capabilities(frozenset({"GetValues"}))
        failure = self.failureResultOf(P.probe(self.gate.call, self.candidate, caps, "2.17"), P.ProbeRefused)
        self.assertIn("GetAttributes", str(failure.value))
        self.assertEqual(self.device.calls, [])

    def test_commonObjectsUnreadable(self) -> None:
        """Common Objects that answer 703 are a refusal; no answer at all is transient."""
        self.device.sim.cms.injectFault(703, "GetValues")
        self.failureResultOf(P.probe(self.gate.call, self.candidate, self.caps, "2.17"), P.ProbeRefused)
        self.device.unreachable = True
        failure = self.failureResultOf(P.probe(self.gate.call, self.candidate, self.caps, "2.17"))
        self.assertFalse(failure.check(P.ProbeRefused))

    def test_bbfLocationEmpty(self) -> None:
        """A BBF location the device then says does not exist: profiled without a BBF model."""
        self.device.sim.cms.injectFault(703, "GetSupportedParameters")
        profile = self.successResultOf(P.probe(self.gate.call, self.candidate, self.caps, "2.17"))
        self.assertIsNone(profile.root)
        self.assertIn("Device.DeviceInfo.SerialNumber", profile.mapped)
