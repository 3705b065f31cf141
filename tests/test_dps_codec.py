"""
Tests for L{proxier.upnp.dps.codec}: CPIDs, role lists, the role-action tables
walked row by row, and the DeviceProtection:1 XML documents.
"""

from __future__ import annotations

import hashlib
import os
import uuid

from lxml import etree
from twisted.trial import unittest

from proxier.sim.servicetypes import SERVICE_TYPES
from proxier.upnp.dps import codec
from tests._helpers import SHARED

TEMPLATES = os.path.join(SHARED, "ref", "upnp-dm", "service-templates")

# The ACL the reference implementation ships (linux-igd2 configs/upnpd_ACL.xml).
REFERENCE_ACL = b"""<?xml version="1.0" encoding="UTF-8"?>
<ACL xmlns="urn:schemas-upnp-org:gw:DeviceProtection" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xsi:schemaLocation="urn:schemas-upnp-org:gw:DeviceProtection http://www.upnp.org/schemas/gw/DeviceProtection-v1.xsd">
    <Identities>
        <User>
            <Name>Administrator</Name>
            <RoleList>Admin Basic Public</RoleList>
        </User>
    </Identities>
    <Roles>
        <Role><Name>Admin</Name></Role>
        <Role><Name>Basic</Name></Role>
        <Role><Name>Public</Name></Role>
    </Roles>
</ACL>"""

# The SupportedProtocols value of the reference implementation (DPStateTableInit).
REFERENCE_PROTOCOLS = (
    '<?xml version="1.0" encoding="UTF-8"?><SupportedProtocols xmlns="urn:schemas-upnp-org:gw:DeviceProtection" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:schemas-upnp-org:gw:'
    'DeviceProtection http://www.upnp.org/schemas/gw/DeviceProtection-v1.xsd"><Introduction><Name>WPS</Name>'
    '</Introduction><Login><Name>PKCS5</Name></Login></SupportedProtocols>'
)


def _templateActions(name: str) -> list[str]:
    root = etree.parse(os.path.join(TEMPLATES, name)).getroot()
    return [a.findtext("name") for a in root.iter("action")]


class CPIDTests(unittest.SynchronousTestCase):
    def test_derivation(self):
        """A CPID is the first 128 bits of SHA-256 of the certificate, marked as an RFC 4122 version-5 UUID."""
        der = b"\x30\x82certificate bytes"
        expected = uuid.UUID(bytes=hashlib.sha256(der).digest()[:16], version=5)
        self.assertEqual(codec.cpid(der), str(expected))
        self.assertEqual(codec.cpidBytes(der), expected.bytes)
        self.assertEqual(uuid.UUID(codec.cpid(der)).version, 5)

    def test_differentCertificates(self):
        """Two certificates give two CPIDs; the same one always the same."""
        self.assertNotEqual(codec.cpid(b"a"), codec.cpid(b"b"))
        self.assertEqual(codec.cpid(b"a"), codec.cpid(b"a"))


class RoleListTests(unittest.SynchronousTestCase):
    def test_parse(self):
        """Space- or comma-separated names; the DM roles with their prefix."""
        self.assertEqual(codec.parseRoleList("Admin Basic  Public"), {"Admin", "Basic", "Public"})
        self.assertEqual(codec.parseRoleList("Public,dm:UserAdmin"), {"Public", "dm:UserAdmin"})
        self.assertEqual(codec.parseRoleList(""), frozenset())

    def test_refused(self):
        """Names that are no role names, or too many, are refused."""
        for text in ("Admin <b>", "1Admin", "x" * 70, " ".join(f"R{i}" for i in range(40))):
            with self.assertRaises(codec.DPSError):
                codec.parseRoleList(text)

    def test_format(self):
        """Admin, Basic, Public first, then the rest alphabetically; duplicates once."""
        self.assertEqual(codec.formatRoleList(["Public", "dm:UserAdmin", "Admin", "Admin", "Basic"]),
                         "Admin Basic Public dm:UserAdmin")


class PermissionTests(unittest.SynchronousTestCase):
    def test_tableRowByRow(self):
        """Each row of the DM role-action table: a holder of each role may act exactly when the row names it."""
        for (service, action), allowed in codec.DM_ROLE_ACTIONS.items():
            serviceType = f"urn:schemas-upnp-org:service:{service}:2"
            for role in codec.EVERYONE:
                permitted = codec.Permissions(frozenset({role})).allows(serviceType, action)
                self.assertEqual(permitted, role in allowed or codec.PUBLIC in allowed, (service, action, role))

    def test_tableCoversTheTemplates(self):
        """Every action of the BMS:2, CMS:2 and SMS:2 templates has a row; no row names an unknown action."""
        rows = set(codec.DM_ROLE_ACTIONS)
        names = {"BasicManagement": "BasicManagement-2", "ConfigurationManagement": "ConfigurationManagement-2",
                 "SoftwareManagement": "SoftwareManagement-2"}
        expected = set()
        for service, template in names.items():
            expected |= {(service, a) for a in _templateActions(template + ".service-template.xml")}
        self.assertEqual(rows, expected)
        for serviceType in SERVICE_TYPES.values():
            service = serviceType.serviceType.split(":")[3]
            for action in serviceType.actions:
                self.assertIn((service, action), rows)

    def test_dpActionTableCoversTheTemplate(self):
        """DeviceProtection's own table has a row for every action of the DeviceProtection:1 template."""
        self.assertEqual(set(codec.DP_ACTION_ROLES),
                         set(_templateActions("DeviceProtection-1.service-template.xml")))

    def test_rebootNeedsAdmin(self):
        """TR-330 §4.8's example: Reboot needs Admin, GetSupportedDataModels is open to all."""
        public = codec.Permissions()
        admin = codec.Permissions(frozenset({"Admin"}))
        bms, cms = "urn:schemas-upnp-org:service:BasicManagement:2", "urn:schemas-upnp-org:service:ConfigurationManagement:2"
        self.assertFalse(public.allows(bms, "Reboot"))
        self.assertTrue(admin.allows(bms, "Reboot"))
        self.assertTrue(public.allows(cms, "GetSupportedDataModels"))

    def test_publicImplied(self):
        """Every control point holds Public; granted means more than Public."""
        self.assertEqual(codec.Permissions(frozenset()).roles, {"Public"})
        self.assertFalse(codec.Permissions(frozenset({"Public"})).granted)
        self.assertTrue(codec.Permissions(frozenset({"Basic"})).granted)

    def test_overridesWin(self):
        """The device's GetRolesForAction answer replaces the table's row, both ways."""
        cms = "urn:schemas-upnp-org:service:ConfigurationManagement:2"
        basic = codec.Permissions(frozenset({"Basic"}))
        self.assertFalse(basic.allows(cms, "SetValues"))
        opened = basic.withOverrides({("ConfigurationManagement", "SetValues"): frozenset({"Basic"})})
        self.assertTrue(opened.allows(cms, "SetValues"))
        closed = basic.withOverrides({("ConfigurationManagement", "GetValues"): frozenset({"Admin"})})
        self.assertFalse(closed.allows(cms, "GetValues"))
        self.assertTrue(closed.allows(cms, "GetInstances"))

    def test_unknownActionLeftToDevice(self):
        """An action neither the table nor the device describes is allowed (the device is the judge)."""
        self.assertTrue(codec.Permissions().allows("urn:example-com:service:Vendor:1", "DoIt"))
        self.assertIsNone(codec.Permissions().rolesFor("urn:example-com:service:Vendor:1", "DoIt"))


class ACLTests(unittest.SynchronousTestCase):
    def test_referenceACL(self):
        """The reference implementation's ACL parses: one user, three roles, no control point."""
        acl = codec.parseACL(REFERENCE_ACL)
        self.assertEqual(acl.users, (codec.UserEntry("Administrator", frozenset({"Admin", "Basic", "Public"})),))
        self.assertEqual(acl.controlPoints, ())
        self.assertEqual(acl.roles, ("Admin", "Basic", "Public"))

    def test_roundTrip(self):
        """An ACL written and read back is the same ACL, introduced flag, name and alias included."""
        cp = codec.CPEntry(codec.cpid(b"x"), frozenset({"Admin", "Public"}), "proxier", "gateway", True)
        acl = codec.ACL((cp, codec.CPEntry(codec.cpid(b"y"))), (codec.UserEntry("u", frozenset({"Basic"})),))
        again = codec.parseACL(codec.formatACL(acl))
        self.assertEqual(again, acl)
        self.assertEqual(again.controlPoint(cp.id), cp)
        self.assertIsNone(again.controlPoint(codec.cpid(b"z")))

    def test_refused(self):
        """Hostile or broken ACLs are refused with DPSError: entities, wrong root, CP without or with a bad ID."""
        documents = [
            b'<!DOCTYPE a [<!ENTITY e "x">]><ACL>&e;</ACL>',
            b"<NotACL/>",
            b"<ACL><Identities><CP><Name>x</Name></CP></Identities></ACL>",
            b"<ACL><Identities><CP><ID>not-a-uuid</ID></CP></Identities></ACL>",
            b"<ACL><Identities><User><RoleList>Admin</RoleList></User></Identities></ACL>",
            b"<ACL><Identities><CP><ID>" + codec.cpid(b"x").encode() + b"</ID><RoleList>Adm!n</RoleList></CP>"
            b"</Identities></ACL>",
            b"not xml",
            b"<ACL>" + b" " * (codec.MAX_DOCUMENT_BYTES + 1) + b"</ACL>",
        ]
        for document in documents:
            with self.assertRaises(codec.DPSError, msg=document[:60]):
                codec.parseACL(document)

    def test_entryCap(self):
        """An ACL with more identities than the cap is refused."""
        users = "".join(f"<User><Name>u{i}</Name></User>" for i in range(codec.MAX_ENTRIES + 1))
        with self.assertRaises(codec.DPSError):
            codec.parseACL(f"<ACL><Identities>{users}</Identities></ACL>")

    def test_noNamespaceTolerated(self):
        """An ACL without the DeviceProtection namespace is read by local names."""
        acl = codec.parseACL(f"<ACL><Identities><CP><ID>{codec.cpid(b'x').upper()}</ID><RoleList>Basic</RoleList>"
                           f"</CP></Identities></ACL>")
        self.assertEqual(acl.controlPoints[0].id, codec.cpid(b"x"))


class IdentityTests(unittest.SynchronousTestCase):
    def test_controlPoint(self):
        """A control point identity round-trips through its document."""
        text = codec.formatIdentity(cpidText=codec.cpid(b"x"))
        self.assertEqual(codec.parseIdentity(text), ("CP", codec.cpid(b"x")))
        self.assertIn(codec.NAMESPACE, text)

    def test_user(self):
        """A user identity round-trips."""
        self.assertEqual(codec.parseIdentity(codec.formatIdentity(userName="alice")), ("User", "alice"))

    def test_exactlyOne(self):
        """Making an identity of both or neither fails; a document with two is refused."""
        with self.assertRaises(ValueError):
            codec.formatIdentity()
        with self.assertRaises(ValueError):
            codec.formatIdentity(cpidText=codec.cpid(b"x"), userName="a")
        with self.assertRaises(codec.DPSError):
            codec.parseIdentity("<Identity><User><Name>a</Name></User><User><Name>b</Name></User></Identity>")
        with self.assertRaises(codec.DPSError):
            codec.parseIdentity("<Identity><CP/></Identity>")

    def test_identityList(self):
        """An identity list round-trips."""
        cps = [codec.CPEntry(codec.cpid(b"x"), frozenset({"Admin"}), "cp")]
        users = [codec.UserEntry("bob", frozenset({"Basic"}))]
        self.assertEqual(codec.parseIdentityList(codec.formatIdentityList(cps, users)), (cps, users))


class SupportedProtocolsTests(unittest.SynchronousTestCase):
    def test_reference(self):
        """The reference implementation's value: WPS introduction, PKCS5 login."""
        self.assertEqual(codec.parseSupportedProtocols(REFERENCE_PROTOCOLS), codec.SupportedProtocols(("WPS",), ("PKCS5",)))

    def test_roundTrip(self):
        """Written and read back, both lists survive."""
        value = codec.SupportedProtocols(("WPS", "X-Other"), ())
        self.assertEqual(codec.parseSupportedProtocols(codec.formatSupportedProtocols(value)), value)

    def test_refused(self):
        """Another document is refused."""
        with self.assertRaises(codec.DPSError):
            codec.parseSupportedProtocols("<Other/>")
