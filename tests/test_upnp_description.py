"""Tests for L{proxier.upnp.description}: device descriptions and SCPDs."""

from __future__ import annotations

import os

from lxml import etree
from twisted.trial import unittest

from proxier.upnp import description as D
from proxier.upnp.description import (
    SCPD,
    Action,
    AllowedRange,
    Argument,
    Device,
    DescriptionError,
    DeviceDescription,
    Service,
    StateVariable,
    missingRequiredActions,
    parseDeviceDescription,
    parseSCPD,
    requiredActions,
)

from ._helpers import SHARED

TEMPLATES = os.path.join(SHARED, "ref", "upnp-dm", "service-templates")
RYGEL_BMS = os.path.join(SHARED, "ref", "upnp-dm", "examples", "rygel-BasicManagement2.scpd.xml")


def template(name: str) -> bytes:
    with open(os.path.join(TEMPLATES, name + ".service-template.xml"), "rb") as f:
        return f.read()


# A root device holding an embedded ManageableDevice:2, with URLBase and
# relative URLs of every kind (as GUPnP and many embedded stacks serve them).
DESCRIPTION = b"""<?xml version="1.0" encoding="utf-8"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" configId="17">
  <specVersion><major>1</major><minor>1</minor></specVersion>
  <URLBase>http://10.251.0.2:49152/base/</URLBase>
  <device>
    <deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>
    <friendlyName>Living room box</friendlyName>
    <manufacturer>Example</manufacturer>
    <modelName>X1</modelName>
    <serialNumber>SN1</serialNumber>
    <UDN>uuid:11111111-2222-3333-4444-555555555555</UDN>
    <serviceList/>
    <deviceList>
      <device>
        <deviceType>urn:schemas-upnp-org:device:ManageableDevice:2</deviceType>
        <friendlyName>DM</friendlyName>
        <manufacturer>Example</manufacturer>
        <modelName>X1-DM</modelName>
        <UDN>uuid:11111111-2222-3333-4444-666666666666</UDN>
        <serviceList>
          <service>
            <serviceType>urn:schemas-upnp-org:service:ConfigurationManagement:2</serviceType>
            <serviceId>urn:upnp-org:serviceId:CMS</serviceId>
            <SCPDURL>cms.xml</SCPDURL>
            <controlURL>/control/cms</controlURL>
            <eventSubURL>http://10.251.0.2:49152/event/cms</eventSubURL>
          </service>
          <service>
            <serviceType>urn:schemas-upnp-org:service:BasicManagement:2</serviceType>
            <serviceId>urn:upnp-org:serviceId:BMS</serviceId>
            <SCPDURL>  bms.xml  </SCPDURL>
            <controlURL>control/bms</controlURL>
            <eventSubURL></eventSubURL>
          </service>
          <service>
            <serviceType>urn:schemas-upnp-org:service:Broken:1</serviceType>
            <serviceId>urn:upnp-org:serviceId:Broken</serviceId>
            <SCPDURL>b.xml</SCPDURL>
          </service>
        </serviceList>
      </device>
    </deviceList>
    <presentationURL>/</presentationURL>
  </device>
</root>
"""


class DeviceDescriptionTests(unittest.TestCase):
    def test_parse(self) -> None:
        """Root and embedded devices, services and URLs resolved against URLBase."""
        d = parseDeviceDescription(DESCRIPTION, "http://10.251.0.2:49152/desc.xml")
        self.assertEqual((d.specVersion, d.configId, d.urlBase), ((1, 1), 17, "http://10.251.0.2:49152/base/"))
        self.assertEqual(d.device.udn, "uuid:11111111-2222-3333-4444-555555555555")
        self.assertEqual((d.device.friendlyName, d.device.serialNumber), ("Living room box", "SN1"))
        self.assertEqual(d.device.presentationURL, "http://10.251.0.2:49152/")
        dm = d.device.devices[0]
        self.assertEqual(dm.deviceType, D.MANAGEABLE_DEVICE_2)
        cms, bms = dm.services
        self.assertEqual(cms, Service(
            D.CONFIGURATION_MANAGEMENT_2, "urn:upnp-org:serviceId:CMS",
            "http://10.251.0.2:49152/base/cms.xml", "http://10.251.0.2:49152/control/cms",
            "http://10.251.0.2:49152/event/cms"))
        self.assertEqual((bms.scpdURL, bms.controlURL, bms.eventSubURL),
                         ("http://10.251.0.2:49152/base/bms.xml", "http://10.251.0.2:49152/base/control/bms", ""))
        self.assertEqual(len(d.problems), 1)
        self.assertIn("Broken", d.problems[0])
        self.assertEqual([x.udn[-4:] for x in d.devices()], ["5555", "6666"])
        self.assertEqual([s.serviceId[-3:] for _, s in d.services()], ["CMS", "BMS"])
        self.assertIs(d.deviceByUDN("UUID:11111111-2222-3333-4444-666666666666"), dm)
        self.assertIsNone(d.deviceByUDN("uuid:nope"))

    def test_modelTextShared(self) -> None:
        """
        Two devices of a model share the strings that name the model (types,
        service IDs, manufacturer, model), not those that name the device
        (issue 19: a fleet of one model).
        """
        one = parseDeviceDescription(DESCRIPTION, "http://10.251.0.2:49152/desc.xml").device.devices[0]
        two = parseDeviceDescription(DESCRIPTION.replace(b"666666666666", b"777777777777"),
                                     "http://10.251.0.3:49152/desc.xml").device.devices[0]
        for attr in ("deviceType", "manufacturer", "modelName"):
            self.assertIs(getattr(one, attr), getattr(two, attr), attr)
        self.assertIs(one.services[0].serviceType, two.services[0].serviceType)
        self.assertIs(one.services[0].serviceId, two.services[0].serviceId)
        self.assertNotEqual(one.udn, two.udn)

    def test_relativeToLocation(self) -> None:
        """Without URLBase, URLs resolve against the URL the description came from."""
        data = DESCRIPTION.replace(b"<URLBase>http://10.251.0.2:49152/base/</URLBase>", b"")
        d = parseDeviceDescription(data, "http://10.251.0.3:5000/dev/desc.xml")
        cms = d.device.devices[0].services[0]
        self.assertEqual(cms.scpdURL, "http://10.251.0.3:5000/dev/cms.xml")
        self.assertEqual(cms.controlURL, "http://10.251.0.3:5000/control/cms")

    def test_serviceLookup(self) -> None:
        """Device.service finds a service at the same or a newer version."""
        dm = parseDeviceDescription(DESCRIPTION, "http://10.251.0.2/").device.devices[0]
        self.assertEqual(dm.service("urn:schemas-upnp-org:service:ConfigurationManagement:1").serviceId[-3:], "CMS")
        self.assertIsNone(dm.service("urn:schemas-upnp-org:service:ConfigurationManagement:3"))
        self.assertIsNone(dm.service(D.SOFTWARE_MANAGEMENT_2))

    def test_quirks(self) -> None:
        """No namespace, a wrong namespace, no specVersion, NULs and white space all parse."""
        bare = DESCRIPTION.replace(b' xmlns="urn:schemas-upnp-org:device-1-0"', b"")
        wrong = DESCRIPTION.replace(b"urn:schemas-upnp-org:device-1-0", b"urn:schemas-upnp-org:service-1-0")
        padded = b"\r\n  " + DESCRIPTION.replace(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", b"") + b"\x00\x00"
        nospec = DESCRIPTION.replace(b"<specVersion><major>1</major><minor>1</minor></specVersion>", b"")
        for data in (bare, wrong, padded, nospec):
            d = parseDeviceDescription(data, "http://10.251.0.2/")
            self.assertEqual(len(d.device.devices[0].services), 2)
        self.assertEqual(parseDeviceDescription(nospec, "http://x/").specVersion, (1, 0))

    def test_badConfigId(self) -> None:
        """A configId that is not a 31-bit number reads as absent."""
        for bad in (b"x", b"-1", b"2147483648"):
            d = parseDeviceDescription(DESCRIPTION.replace(b'configId="17"', b'configId="' + bad + b'"'), "http://x/")
            self.assertIsNone(d.configId)

    def test_unicodeDigits(self) -> None:
        """
        A configId or specVersion of Unicode digits ('²' passed isdigit() and
        raised ValueError out of the parser, past the fetcher) reads as absent.
        """
        for bad in ("²", "①", "١٧"):
            data = DESCRIPTION.replace(b'configId="17"', b'configId="' + bad.encode() + b'"')
            self.assertIsNone(parseDeviceDescription(data, "http://x/").configId, bad)
            data = DESCRIPTION.replace(b"<major>1</major><minor>1</minor>",
                                       b"<major>" + bad.encode() + b"</major><minor>" + bad.encode() + b"</minor>")
            self.assertEqual(parseDeviceDescription(data, "http://x/").specVersion, (1, 0), bad)

    def test_rejected(self) -> None:
        """Empty, malformed, hostile, foreign or UDN-less documents are DescriptionError."""
        cases = (
            b"",
            b"\x00\x00",
            b"<root>",
            b"<html/>",
            b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><root><device><UDN>&x;</UDN></device></root>',
            b"<root><specVersion/></root>",
            b"<root><device><UDN>not-a-uuid</UDN></device></root>",
            b"<root><device></device></root>",
        )
        for data in cases:
            self.assertRaises(DescriptionError, parseDeviceDescription, data, "http://x/")
        self.assertRaises(DescriptionError, parseDeviceDescription, DESCRIPTION, "http://x/", 100)

    def test_embeddedBadDevice(self) -> None:
        """An embedded device without UDN is dropped with a problem; the root stays."""
        data = DESCRIPTION.replace(b"<UDN>uuid:11111111-2222-3333-4444-666666666666</UDN>", b"")
        d = parseDeviceDescription(data, "http://x/")
        self.assertEqual(d.device.devices, ())
        self.assertIn("embedded device ignored", d.problems[0])

    def test_deviceCaps(self) -> None:
        """A description nesting or listing too many devices is cut at the caps."""
        inner = b"<device><UDN>uuid:leaf</UDN></device>"
        deep = inner
        for i in range(20):
            deep = b"<device><UDN>uuid:d%d</UDN><deviceList>%s</deviceList></device>" % (i, deep)
        d = parseDeviceDescription(b"<root>" + deep + b"</root>", "http://x/")
        self.assertLessEqual(len(d.devices()), D.MAX_DEPTH + 1)
        self.assertTrue(d.problems)
        wide = b"<root><device><UDN>uuid:r</UDN><deviceList>" + b"".join(
            b"<device><UDN>uuid:w%d</UDN></device>" % i for i in range(100)) + b"</deviceList></device></root>"
        self.assertEqual(len(parseDeviceDescription(wide, "http://x/").devices()), D.MAX_DEVICES)

    def test_badURLs(self) -> None:
        """A URL with an invalid port resolves to nothing, so the service is dropped."""
        data = DESCRIPTION.replace(b"<controlURL>/control/cms</controlURL>", b"<controlURL>http://x:99999/c</controlURL>")
        d = parseDeviceDescription(data, "http://x/")
        self.assertEqual([s.serviceId[-3:] for _, s in d.services()], ["BMS"])

    def test_roundTrip(self) -> None:
        """A description serializes and parses back equal (the simulator's path)."""
        desc = DeviceDescription(
            device=Device(
                deviceType=D.MANAGEABLE_DEVICE_2, udn="uuid:abc", friendlyName="Sim", manufacturer="proxier",
                modelName="sim", serialNumber="S1", manufacturerURL="http://127.0.0.1:1/m",
                services=(Service(D.BASIC_MANAGEMENT_2, "urn:upnp-org:serviceId:BMS",
                                  "http://127.0.0.1:1/bms.xml", "http://127.0.0.1:1/bms", "http://127.0.0.1:1/bms/e"),),
                devices=(Device(deviceType="urn:x:device:Y:1", udn="uuid:def"),),
            ),
            location="http://127.0.0.1:1/d.xml",
            configId=3,
        )
        data = desc.toBytes()
        root = etree.fromstring(data)
        self.assertEqual(root.tag, f"{{{D.DEVICE_NS}}}root")
        self.assertEqual(parseDeviceDescription(data, desc.location), desc)
        withBase = DeviceDescription(device=desc.device, location=desc.location, urlBase="http://127.0.0.1:1/")
        self.assertEqual(parseDeviceDescription(withBase.toBytes(), desc.location), withBase)


class SCPDTests(unittest.TestCase):
    def test_rygel(self) -> None:
        """Rygel's real BasicManagement:2 SCPD parses: actions, arguments, variables."""
        with open(RYGEL_BMS, "rb") as f:
            scpd = parseSCPD(f.read())
        self.assertEqual(scpd.specVersion, (1, 0))
        ping = scpd.action("Ping")
        self.assertEqual([a.name for a in ping.inArguments], ["Host", "NumberOfRepetitions", "Timeout", "DataBlockSize", "DSCP"])
        self.assertEqual(ping.outArguments, (Argument("TestID", "out", "A_ARG_TYPE_TestID"),))
        self.assertIn("GetDeviceStatus", scpd.actionNames)
        self.assertEqual(missingRequiredActions(D.BASIC_MANAGEMENT_2, scpd), ())
        self.assertEqual(scpd.problems, ())
        evented = {v.name for v in scpd.eventedVariables}
        self.assertIn("TestIDs", evented)
        self.assertNotIn("A_ARG_TYPE_Host", evented)

    def test_templateNotation(self) -> None:
        """A service template parses: Optional marks and sendEventsAttribute elements read."""
        scpd = parseSCPD(template("ConfigurationManagement-2"))
        self.assertFalse(scpd.action("GetValues").optional)
        self.assertTrue(scpd.action("SetValues").optional)
        self.assertFalse(scpd.stateVariable("CurrentConfigurationVersion").sendEvents)
        self.assertTrue(scpd.stateVariable("ConfigurationUpdate").sendEvents)
        self.assertTrue(scpd.stateVariable("AlarmsEnabled").optional)
        self.assertEqual(scpd.stateVariable("A_ARG_TYPE_ChangeStatus").allowedValues, ("ChangesCommitted", "ChangesApplied"))

    def test_requiredActionsTable(self) -> None:
        """Each REQUIRED_ACTIONS row is exactly the template's actions without <Optional/>."""
        files = {
            ("BasicManagement", 2): "BasicManagement-2",
            ("ConfigurationManagement", 2): "ConfigurationManagement-2",
            ("SoftwareManagement", 2): "SoftwareManagement-2",
            ("DeviceProtection", 1): "DeviceProtection-1",
        }
        self.assertEqual(set(files), set(D.REQUIRED_ACTIONS))
        for key, name in files.items():
            scpd = parseSCPD(template(name))
            required = frozenset(a.name for a in scpd.actions if not a.optional)
            self.assertEqual(D.REQUIRED_ACTIONS[key], required, name)

    def test_missingRequiredActions(self) -> None:
        """Missing required actions are named, per service type and version."""
        cms = parseSCPD(template("ConfigurationManagement-2"))
        self.assertEqual(missingRequiredActions(D.CONFIGURATION_MANAGEMENT_2, cms), ())
        partial = SCPD(actions=tuple(a for a in cms.actions if a.name not in ("GetValues", "GetInstances")))
        self.assertEqual(missingRequiredActions(D.CONFIGURATION_MANAGEMENT_2, partial), ("GetInstances", "GetValues"))
        self.assertEqual(missingRequiredActions(D.DEVICE_PROTECTION_1, SCPD()), tuple(sorted(D.REQUIRED_ACTIONS[("DeviceProtection", 1)])))
        # a newer version is held to the newest known table; an older or foreign one to none
        self.assertEqual(missingRequiredActions("urn:schemas-upnp-org:service:BasicManagement:3", SCPD()), ("GetDeviceStatus",))
        self.assertEqual(missingRequiredActions("urn:schemas-upnp-org:service:BasicManagement:1", SCPD()), ())
        self.assertEqual(missingRequiredActions("urn:example-com:service:BasicManagement:2", SCPD()), ())
        self.assertEqual(missingRequiredActions("not a type", SCPD()), ())
        self.assertIsNone(requiredActions("urn:schemas-upnp-org:device:BasicManagement:2"))

    def test_select(self) -> None:
        """select() keeps required actions, the optional ones named, and the variables they use."""
        cms = parseSCPD(template("ConfigurationManagement-2")).select({"SetValues", "GetAlarmsEnabled"})
        self.assertIn("SetValues", cms.actionNames)
        self.assertNotIn("CreateInstance", cms.actionNames)
        self.assertTrue(D.REQUIRED_ACTIONS[("ConfigurationManagement", 2)] <= cms.actionNames)
        names = {v.name for v in cms.stateVariables}
        self.assertIn("AlarmsEnabled", names)  # referenced by GetAlarmsEnabled
        self.assertNotIn("InconsistentStatus", names)
        self.assertNotIn("A_ARG_TYPE_ACL", names)
        self.assertFalse(any(a.optional for a in cms.actions) or any(v.optional for v in cms.stateVariables))
        withVar = parseSCPD(template("ConfigurationManagement-2")).select((), {"InconsistentStatus"})
        self.assertIn("InconsistentStatus", {v.name for v in withVar.stateVariables})

    def test_templateToDeployable(self) -> None:
        """A selected template serializes as a namespaced SCPD with specVersion, and parses back equal."""
        for name in ("BasicManagement-2", "ConfigurationManagement-2", "SoftwareManagement-2", "DeviceProtection-1"):
            scpd = parseSCPD(template(name)).select()
            data = scpd.toBytes()
            root = etree.fromstring(data)
            self.assertEqual(root.tag, f"{{{D.SERVICE_NS}}}scpd")
            self.assertEqual(root.find(f"{{{D.SERVICE_NS}}}specVersion/{{{D.SERVICE_NS}}}major").text, "1")
            self.assertNotIn(b"Optional", data)
            self.assertEqual(parseSCPD(data), scpd, name)

    def test_roundTripEverything(self) -> None:
        """Every field of an SCPD survives serialize → parse."""
        scpd = SCPD(
            actions=(Action("Get", (Argument("In", "in", "A_ARG_In"), Argument("Out", "out", "Var", retval=True))),),
            stateVariables=(
                StateVariable("Var", "ui4", sendEvents=True, defaultValue="0",
                              allowedRange=AllowedRange("0", "100", "5")),
                StateVariable("A_ARG_In", "string", sendEvents=False, multicast=True, allowedValues=("a", "b")),
                StateVariable("Empty", "string", defaultValue=""),
            ),
            specVersion=(2, 0),
            configId=9,
        )
        self.assertEqual(parseSCPD(scpd.toBytes()), scpd)

    def test_quirks(self) -> None:
        """Empty SCPD, no namespace, wrong namespace, NULs and white space are tolerated."""
        self.assertEqual(parseSCPD(b"").actions, ())
        self.assertEqual(parseSCPD(b"  \r\n\x00").problems, ("empty SCPD",))
        self.assertEqual(parseSCPD(b'<scpd xmlns="urn:schemas-upnp-org:service-1-0"/>'), SCPD(specVersion=(1, 0)))
        with open(RYGEL_BMS, "rb") as f:
            rygel = f.read()
        reference = parseSCPD(rygel)
        for variant in (
            rygel.replace(b' xmlns="urn:schemas-upnp-org:service-1-0"', b""),
            rygel.replace(b"urn:schemas-upnp-org:service-1-0", b"urn:schemas-upnp-org:device-1-0"),
            rygel + b"\x00\x00\x00",
            b"\n\n   " + rygel.replace(b'<?xml version="1.0"?>\n', b"") + b"\n\n",
        ):
            self.assertEqual(parseSCPD(variant), reference)

    def test_sendEventsForms(self) -> None:
        """sendEvents yes/no in any case, missing means yes."""
        data = (b'<scpd><serviceStateTable><stateVariable sendEvents="NO"><name>A</name><dataType>ui4</dataType></stateVariable>'
                b"<stateVariable><name>B</name></stateVariable>"
                b'<stateVariable sendEvents="Yes"><name>C</name><dataType>string</dataType></stateVariable>'
                b"</serviceStateTable></scpd>")
        scpd = parseSCPD(data)
        self.assertEqual([(v.name, v.sendEvents, v.dataType) for v in scpd.stateVariables],
                         [("A", False, "ui4"), ("B", True, "string"), ("C", True, "string")])

    def test_brokenActions(self) -> None:
        """Actions with a bad argument direction or no name are dropped and named in problems; duplicates keep the first."""
        data = (b"<scpd><actionList>"
                b"<action><name>Good</name></action>"
                b"<action><name>Bad</name><argumentList><argument><name>X</name><direction>sideways</direction>"
                b"</argument></argumentList></action>"
                b"<action><argumentList/></action>"
                b"<action><name>Good</name><argumentList><argument><name>Y</name><direction>IN</direction>"
                b"</argument></argumentList></action>"
                b"</actionList></scpd>")
        scpd = parseSCPD(data)
        self.assertEqual(scpd.actions, (Action("Good"),))
        self.assertEqual(len(scpd.problems), 2)

    def test_rejected(self) -> None:
        """Malformed, hostile, foreign or oversized SCPDs are DescriptionError."""
        for data in (b"<scpd>", b"<root/>",
                     b'<!DOCTYPE s [<!ENTITY a "b">]><scpd><actionList><action><name>&a;</name></action></actionList></scpd>'):
            self.assertRaises(DescriptionError, parseSCPD, data)
        self.assertRaises(DescriptionError, parseSCPD, template("BasicManagement-2"), 1000)

    def test_caps(self) -> None:
        """Too many actions or arguments are cut, with a problem each."""
        many = b"<scpd><actionList>" + b"".join(b"<action><name>A%d</name></action>" % i for i in range(300)) + b"</actionList></scpd>"
        scpd = parseSCPD(many)
        self.assertEqual(len(scpd.actions), D.MAX_ACTIONS)
        self.assertTrue(scpd.problems)
        args = b"".join(b"<argument><name>a%d</name><direction>in</direction></argument>" % i for i in range(70))
        wide = b"<scpd><actionList><action><name>W</name><argumentList>" + args + b"</argumentList></action></actionList></scpd>"
        self.assertEqual(parseSCPD(wide).actions, ())
