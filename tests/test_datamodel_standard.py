"""
Tests for L{proxier.datamodel.standard}: the TR-181 type table the proxier
ships is TR-181 2.17's (checked entry by entry against the Broadband Forum
XML in ../shared/ref), names find their types, and a device's value is
converted to the TR-181 type or refused, one type class at a time.
"""

from __future__ import annotations

import datetime
import uuid

from twisted.trial import unittest

from proxier.datamodel import standard
from proxier.datamodel.types import (
    Base64,
    Boolean,
    DateTime,
    HexBinary,
    Int,
    ListOf,
    String,
    UnsignedInt,
)
from proxier.upnpdm.cmstypes import fromCMSType
from tests import tr181


class TableTests(unittest.TestCase):
    """The shipped table is TR-181 2.17's."""

    def test_forcedInform(self) -> None:
        """FORCED_INFORM is exactly the XML's forcedInform="true" parameters, in its order."""
        if not tr181.available():
            raise unittest.SkipTest("../shared/ref/datamodel is not beside the checkout")
        model = tr181.load()
        xml = tuple(name for name, d in model.parameters.items() if d.forcedInform)
        self.assertEqual(standard.FORCED_INFORM, xml)

    def test_everyParameterOfTheXML(self) -> None:
        """Every parameter of the XML whose type TR-106's classes cover is in the table, with its exact spec."""
        if not tr181.available():
            raise unittest.SkipTest("../shared/ref/datamodel is not beside the checkout")
        model = tr181.load()
        table = standard.table()
        covered = 0
        for name, definition in model.parameters.items():
            try:
                expected = definition.type()
            except ValueError:  # decimal: no class; the device's type serves
                self.assertNotIn(name, table)
                continue
            self.assertIn(name, table)
            self.assertEqual(table[name].spec(), expected.spec(), name)
            covered += 1
        self.assertEqual(len(table), covered)
        self.assertGreater(covered, 6000)

    def test_typeOf(self) -> None:
        """Instance numbers and aliases read as {i}; objects, other roots and unknown names have no type."""
        self.assertEqual(standard.typeOf("Device.DeviceInfo.ManufacturerOUI"),
                         String(6, minLength=6, patterns=("[0-9A-F]{6}",)))
        self.assertEqual(standard.typeOf("Device.Hosts.Host.7.LeaseTimeRemaining"), Int(ranges=((-1, None),)))
        self.assertEqual(standard.typeOf("Device.Hosts.Host.[cpe-tv].Active"), Boolean())
        self.assertIsNone(standard.typeOf("Device.Hosts.Host.7."))
        self.assertIsNone(standard.typeOf("Device.DeviceInfo.X_ACME_Colour"))
        self.assertIsNone(standard.typeOf("InternetGatewayDevice.DeviceInfo.ManufacturerOUI"))
        self.assertIsNone(standard.typeOf("Device..Broken"))


class ConvertTests(unittest.TestCase):
    """A device's text, of the device's type, as the TR-181 type's value — or refused."""

    def test_hexBinaryToString(self) -> None:
        """The reported case: an OUI the device types hexBinary is TR-181's string(6)."""
        oui = standard.typeOf("Device.DeviceInfo.ManufacturerOUI")
        self.assertEqual(standard.convert("00D0F5", HexBinary(), oui), "00D0F5")
        self.assertRaises(ValueError, standard.convert, "00d0f5", HexBinary(), oui)  # TR-181's pattern: upper case
        self.assertRaises(ValueError, standard.convert, "00D0F5AA", HexBinary(), oui)  # string(6)

    def test_integers(self) -> None:
        """An int count is an unsignedInt; a value outside TR-181's range or base type is refused."""
        self.assertEqual(standard.convert("3", Int(), UnsignedInt()), 3)
        self.assertRaises(ValueError, standard.convert, "-1", Int(), UnsignedInt())
        lease = standard.typeOf("Device.Hosts.Host.1.LeaseTimeRemaining")
        self.assertEqual(standard.convert("-1", UnsignedInt(), lease), -1)
        self.assertRaises(ValueError, standard.convert, "-2", Int(), lease)
        self.assertRaises(ValueError, standard.convert, "many", String(), UnsignedInt())

    def test_boolean(self) -> None:
        """A boolean the device types string is read as TR-181's boolean; other words are refused."""
        self.assertIs(standard.convert("1", String(), Boolean()), True)
        self.assertIs(standard.convert("false", String(), Boolean()), False)
        self.assertRaises(ValueError, standard.convert, "maybe", String(), Boolean())

    def test_dateTime(self) -> None:
        """A dateTime the device types string is a dateTime; text that is none is refused."""
        value = standard.convert("2026-01-02T03:04:05Z", String(), DateTime())
        self.assertEqual(value, datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
        self.assertRaises(ValueError, standard.convert, "yesterday", String(), DateTime())

    def test_binaries(self) -> None:
        """base64 and hexBinary: the bytes are converted, TR-181's byte lengths checked."""
        colour = standard.typeOf("Device.UserInterface.TextColor")
        self.assertEqual(standard.convert("AAD/", Base64(), colour), b"\x00\x00\xff")
        self.assertEqual(colour.format(standard.convert("AAD/", Base64(), colour)), "0000FF")
        self.assertRaises(ValueError, standard.convert, "AAAA/w==", Base64(), colour)  # 4 bytes, not 3
        self.assertEqual(standard.convert("0000FF", HexBinary(), Base64()), b"\x00\x00\xff")

    def test_stringFacets(self) -> None:
        """Length and enumeration are TR-181's, whatever the device allows."""
        status = standard.typeOf("Device.Time.Status")
        self.assertEqual(standard.convert("Synchronized", String(), status), "Synchronized")
        self.assertRaises(ValueError, standard.convert, "Sleeping", String(), status)
        ntp = standard.typeOf("Device.Time.NTPServer1")
        self.assertEqual(standard.convert("x" * 64, String(), ntp), "x" * 64)
        self.assertRaises(ValueError, standard.convert, "x" * 65, String(), ntp)

    def test_lists(self) -> None:
        """A list parameter: the items are TR-181's item type."""
        listType = ListOf(UnsignedInt())
        self.assertEqual(standard.convert("1, 2,3", String(), listType), (1, 2, 3))
        self.assertRaises(ValueError, standard.convert, "1,x", String(), listType)

    def test_cmsTypesAgainstEveryBaseType(self) -> None:
        """No CMS type and TR-181 base type pair makes convert fail other than with ValueError."""
        texts = ["", "0", "1", "-1", "true", "00D0F5", "AAD/", "2026-01-02T03:04:05Z", "a,b", "x" * 300]
        bases = [String(), Int(), UnsignedInt(), Boolean(), DateTime(), Base64(), HexBinary(), ListOf(Int())]
        for cmsName in ("string", "boolean", "int", "unsignedInt", "long", "unsignedLong", "dateTime", "base64",
                        "hexBinary", "uuid", "URI"):
            for target in bases:
                for text in texts:
                    try:
                        standard.convert(text, fromCMSType(cmsName), target)
                    except ValueError:
                        pass


class SupportedDataModelUUIDTests(unittest.TestCase):
    def test_isUUID(self) -> None:
        """TR-181's UUID pattern, whole: 8-4-4-4-12 hex digits of either case, nothing around them."""
        self.assertTrue(standard.isUUID("3F2504E0-4f89-11d3-9a0c-0305e82c3301"))
        for text in ("", "3f2504e0-4f89-11d3-9a0c-0305e82c330", "3f2504e0-4f89-11d3-9a0c-0305e82c33011",
                     "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}", "3f2504e04f8911d39a0c0305e82c3301",
                     "3f2504e0-4f89-11d3-9a0c-0305e82c330g", "3f2504e0-4f89-11d3-9a0c-0305e82c3301\n",
                     "３f2504e0-4f89-11d3-9a0c-0305e82c3301"):
            self.assertFalse(standard.isUUID(text), repr(text))

    def test_derived(self) -> None:
        """
        Name-based (version 5) in the project's namespace: a fixed value for
        a given URN and URL (the same after a restart or an upgrade), fits
        TR-181's type, and differs when the URN or the URL does.
        """
        value = standard.supportedDataModelUUID("urn:broadband-forum-org:tr-181-2-17-0", "")
        self.assertEqual(value, "932b7bb1-2762-520f-be3d-3a314f4d862d")
        self.assertTrue(standard.isUUID(value))
        self.assertEqual(uuid.UUID(value).version, 5)
        standard.typeOf("Device.DeviceInfo.SupportedDataModel.1.UUID").parse(value)
        self.assertEqual(len({standard.supportedDataModelUUID(urn, url)
                              for urn, url in (("urn:a", ""), ("urn:a", "http://a/"), ("urn:b", ""))}), 3)
