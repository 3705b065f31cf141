# -*- test-case-name: tests.test_upnpdm_cmstypes -*-
"""
Tests for L{proxier.upnpdm.cmstypes}: the UPnP DM CMS data types as TR-106
types (moved out of the data-model core, issue 12.3).
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.datamodel import types as T
from proxier.upnpdm.cmstypes import CMS_TYPES, fromCMSType


class CMSTypeTests(unittest.TestCase):
    """The CMS Type names a UPnP DM device gives, as TR-106 types."""

    def test_table(self) -> None:
        """Every UPnP DM CMS type maps onto the TR-106 type of the same meaning."""
        expected = {
            "string": (T.String, "xsd:string"), "boolean": (T.Boolean, "xsd:boolean"),
            "int": (T.Int, "xsd:int"), "unsignedInt": (T.UnsignedInt, "xsd:unsignedInt"),
            "long": (T.Long, "xsd:long"), "unsignedLong": (T.UnsignedLong, "xsd:unsignedLong"),
            "dateTime": (T.DateTime, "xsd:dateTime"), "base64": (T.Base64, "xsd:base64Binary"),
            "hexBinary": (T.HexBinary, "xsd:hexBinary"), "uuid": (T.String, "xsd:string"),
            "URI": (T.String, "xsd:string"),
        }
        self.assertEqual(set(CMS_TYPES), set(expected))
        for name, (cls, xsi) in expected.items():
            dataType = fromCMSType(name)
            self.assertIs(type(dataType), cls, name)
            self.assertEqual(dataType.xsiType, xsi, name)

    def test_facets(self) -> None:
        """uuid and URI carry TR-106's UUID and URI facets."""
        uuid = fromCMSType("uuid")
        self.assertEqual(uuid.parse("5d3b1c0e-4f7a-4a2b-9a6e-0123456789ab"), "5d3b1c0e-4f7a-4a2b-9a6e-0123456789ab")
        with self.assertRaises(ValueError):
            uuid.parse("not-a-uuid")
        with self.assertRaises(ValueError):
            fromCMSType("URI").parse("x" * 2049)

    def test_caseAndUnknown(self) -> None:
        """Case is not significant; an unknown type is refused."""
        self.assertIsInstance(fromCMSType("UnsignedInt"), T.UnsignedInt)
        self.assertIsInstance(fromCMSType(" uri "), T.String)
        with self.assertRaises(ValueError):
            fromCMSType("float")


    def test_notInTheCore(self) -> None:
        """The data-model core no longer knows UPnP DM types."""
        self.assertFalse(hasattr(T, "fromCMSType"))
        self.assertFalse(hasattr(T, "CMS_TYPES"))
