"""Tests for L{proxier.sim.scpd}: the device description and SCPDs of a simulated device."""

from __future__ import annotations

from lxml import etree
from twisted.trial import unittest

from proxier.sim.scpd import DEVICE_NS, SERVICE_NS, serviceDescription, serviceURLs, usedStateVariables

from tests.test_sim_fakes import makeDevice

D = f"{{{DEVICE_NS}}}"
S = f"{{{SERVICE_NS}}}"


class SCPDTests(unittest.TestCase):
    def setUp(self) -> None:
        self.device = makeDevice()[0]

    def scpd(self, shortName: str) -> etree._Element:
        return etree.fromstring(serviceDescription(self.device.service(shortName)))

    def test_actionsKeptAndDropped(self) -> None:
        """Every required action is there, optional ones only when implemented (BMS BandwidthTest is dropped)."""
        for service in self.device.services:
            root = self.scpd(service.shortName)
            names = [a.findtext(f"{S}name") for a in root.iter(f"{S}action")]
            self.assertEqual(names, service.implementedActions())
            for required in service.serviceType.requiredActions:
                self.assertIn(required, names)
        bms = [a.findtext(f"{S}name") for a in self.scpd("bms").iter(f"{S}action")]
        self.assertNotIn("BandwidthTest", bms)
        self.assertNotIn("SelfTest", bms)
        self.assertIn("Ping", bms)

    def test_everyCMSActionOffered(self) -> None:
        """ConfigurationManagement offers every action of the template, optional ones included."""
        cms = self.device.cms
        self.assertEqual(cms.implementedActions(), list(cms.serviceType.actions))

    def test_stateVariables(self) -> None:
        """The state table lists the variables the actions use, with sendEvents, types and allowed values."""
        root = self.scpd("cms")
        variables = {v.findtext(f"{S}name"): v for v in root.iter(f"{S}stateVariable")}
        self.assertEqual(list(variables), [v.name for v in usedStateVariables(self.device.cms)])
        self.assertEqual(variables["ConfigurationUpdate"].get("sendEvents"), "yes")
        self.assertEqual(variables["CurrentConfigurationVersion"].get("sendEvents"), "no")
        self.assertEqual([a.text for a in variables["A_ARG_TYPE_ChangeStatus"].iter(f"{S}allowedValue")],
                         ["ChangesCommitted", "ChangesApplied"])
        bms = {v.findtext(f"{S}name"): v for v in self.scpd("bms").iter(f"{S}stateVariable")}
        self.assertNotIn("A_ARG_TYPE_BandwidthTestSpec", bms)
        self.assertEqual(bms["A_ARG_TYPE_DSCP"].findtext(f"{S}allowedValueRange/{S}maximum"), "63")
        self.assertEqual(bms["SequenceMode"].findtext(f"{S}defaultValue"), "0")

    def test_disabledActionLeavesSCPD(self) -> None:
        """An optional action switched off disappears from the SCPD, with the variables only it used."""
        self.device.cms.disableAction("GetACLData")
        root = self.scpd("cms")
        self.assertNotIn("GetACLData", [a.findtext(f"{S}name") for a in root.iter(f"{S}action")])
        self.assertNotIn("A_ARG_TYPE_ACL", [v.findtext(f"{S}name") for v in root.iter(f"{S}stateVariable")])

    def test_argumentsInOrder(self) -> None:
        """Arguments appear in the template's order with direction and related variable."""
        root = self.scpd("cms")
        create = next(a for a in root.iter(f"{S}action") if a.findtext(f"{S}name") == "CreateInstance")
        self.assertEqual([(a.findtext(f"{S}name"), a.findtext(f"{S}direction")) for a in create.iter(f"{S}argument")],
                         [("MultiInstanceName", "in"), ("ChildrenInitialization", "in"),
                          ("InstanceIdentifier", "out"), ("Status", "out")])
        getters = next(a for a in root.iter(f"{S}action") if a.findtext(f"{S}name") == "GetSupportedDataModels")
        self.assertEqual(len(list(getters.iter(f"{S}argument"))), 1)


class DeviceDescriptionTests(unittest.TestCase):
    def test_description(self) -> None:
        """The description names the device, its UDN and CONFIGID, and each service with URLs under its prefix."""
        device = makeDevice()[0]
        device.setLocation("http://192.168.1.20:49200", "/dev3/")
        root = etree.fromstring(device.description())
        self.assertEqual(root.get("configId"), str(device.configId))
        self.assertEqual(root.findtext(f"{D}specVersion/{D}major"), "1")
        node = root.find(f"{D}device")
        self.assertEqual(node.findtext(f"{D}deviceType"), "urn:schemas-upnp-org:device:ManageableDevice:2")
        self.assertEqual(node.findtext(f"{D}UDN"), device.identity.udn)
        self.assertEqual(node.findtext(f"{D}serialNumber"), device.identity.serialNumber)
        services = node.findall(f"{D}serviceList/{D}service")
        self.assertEqual([s.findtext(f"{D}serviceType") for s in services], device.serviceTypes())
        self.assertEqual(services[1].findtext(f"{D}controlURL"), "/dev3/cms/control")
        self.assertEqual(services[1].findtext(f"{D}serviceId"), "urn:upnp-org:serviceId:ConfigurationManagement")
        self.assertEqual(serviceURLs("/", "bms"), ("/bms/scpd.xml", "/bms/control", "/bms/event"))


class ControlPointViewTests(unittest.TestCase):
    def test_projectParsersAccept(self) -> None:
        """The project's own control point parses the description and every SCPD without a problem, and finds
        no required action missing."""
        from proxier.upnp import description

        device = makeDevice()[0]
        parsed = description.parseDeviceDescription(device.description(), device.location)
        self.assertEqual(parsed.problems, ())
        self.assertEqual(parsed.configId, device.configId)
        self.assertEqual(parsed.device.udn, device.udn)
        services = {s.serviceType: s for _, s in parsed.services()}
        self.assertEqual(services["urn:schemas-upnp-org:service:ConfigurationManagement:2"].controlURL,
                         "http://192.168.1.20:49200/cms/control")
        for service in device.services:
            scpd = description.parseSCPD(device.scpd(service.shortName))
            self.assertEqual(scpd.problems, (), service.shortName)
            self.assertEqual(description.missingRequiredActions(service.serviceType.serviceType, scpd), ())
            self.assertEqual([a.name for a in scpd.actions], service.implementedActions())
