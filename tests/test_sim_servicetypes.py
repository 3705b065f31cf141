"""
Tests for L{proxier.sim.servicetypes}: the service tables are the UPnP Forum
service templates, walked row by row against the copies in
C{shared/ref/upnp-dm/service-templates}.
"""

from __future__ import annotations

import os

from lxml import etree
from twisted.trial import unittest

from proxier.sim.servicetypes import BMS2, CMS2, MANAGEABLE_DEVICE_2, SERVICE_TYPES, SMS2, ServiceType

from tests._helpers import SHARED

TEMPLATES = os.path.join(SHARED, "ref", "upnp-dm", "service-templates")


def template(name: str) -> etree._Element:
    path = os.path.join(TEMPLATES, name)
    if not os.path.exists(path):
        raise unittest.SkipTest(f"{path} is not here (shared/ref missing)")
    return etree.parse(path).getroot()


class TemplateTests(unittest.TestCase):
    def compare(self, table: ServiceType, name: str) -> None:
        root = template(name)
        variables = root.findall("serviceStateTable/stateVariable")
        self.assertEqual([v.findtext("name") for v in variables], list(table.stateVariables))
        for element in variables:
            row = table.stateVariables[element.findtext("name")]
            self.assertEqual(row.dataType, element.findtext("dataType"), row.name)
            self.assertEqual(row.evented, (element.findtext("sendEventsAttribute") or "yes") == "yes", row.name)
            self.assertEqual(row.optional, element.find("Optional") is not None, row.name)
            self.assertEqual(row.allowed, tuple(a.text for a in element.iter("allowedValue")), row.name)
            valueRange = element.find("allowedValueRange")
            expected = None if valueRange is None else (int(valueRange.findtext("minimum")),
                                                        int(valueRange.findtext("maximum")))
            self.assertEqual(row.valueRange, expected, row.name)
            self.assertEqual(row.default, element.findtext("defaultValue"), row.name)
        actions = root.findall("actionList/action")
        self.assertEqual([a.findtext("name") for a in actions], list(table.actions))
        for element in actions:
            row = table.actions[element.findtext("name")]
            self.assertEqual(row.optional, element.find("Optional") is not None, row.name)
            arguments = [(a.findtext("name"), a.findtext("direction"), a.findtext("relatedStateVariable"))
                         for a in element.iter("argument")]
            self.assertEqual([(a.name, a.direction, a.relatedStateVariable) for a in row.arguments], arguments,
                             row.name)

    def test_configurationManagement2(self) -> None:
        """The CMS:2 table holds every state variable and action of the template, as the template has them."""
        self.compare(CMS2, "ConfigurationManagement-2.service-template.xml")

    def test_basicManagement2(self) -> None:
        """The BMS:2 table holds every state variable and action of the template, as the template has them."""
        self.compare(BMS2, "BasicManagement-2.service-template.xml")

    def test_softwareManagement2(self) -> None:
        """The SMS:2 table holds every state variable and action of the template, as the template has them."""
        self.compare(SMS2, "SoftwareManagement-2.service-template.xml")

    def test_manageableDevice2(self) -> None:
        """A ManageableDevice:2 has BMS:2 and CMS:2 and may have SMS:2: the three types offered."""
        root = template("ManageableDevice-2.device-template.xml")
        types = [s.findtext("serviceType") for s in root.iter("service")]
        self.assertEqual(sorted(types), sorted(SERVICE_TYPES))
        self.assertTrue(MANAGEABLE_DEVICE_2.endswith("ManageableDevice:2"))

    def test_moderatedOnlyEvented(self) -> None:
        """Only evented variables are moderated."""
        for table in SERVICE_TYPES.values():
            for row in table.stateVariables.values():
                if row.moderation:
                    self.assertTrue(row.evented, row.name)
