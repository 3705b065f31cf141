"""Tests for L{proxier.datamodel.types}: TR-106 data types, ACS type faults, TR-181 mappings."""

from __future__ import annotations

import datetime

from lxml import etree
from twisted.trial import unittest

from proxier.datamodel import types as T
from proxier.datamodel._tr106time import UNKNOWN_TIME
from proxier.datamodel.faults import CWMPFault

UTC = datetime.timezone.utc

# (type, wire text in, value expected, canonical text out)
PARSE_FORMAT = [
    (T.String(), "abc", "abc", "abc"),
    (T.String(), "", "", ""),
    (T.String(), " spaced ", " spaced ", " spaced "),
    (T.Int(), "-5", -5, "-5"),
    (T.Int(), " +7 ", 7, "7"),
    (T.Int(), "007", 7, "7"),
    (T.Int(), "-2147483648", -(2**31), "-2147483648"),
    (T.Int(), "2147483647", 2**31 - 1, "2147483647"),
    (T.UnsignedInt(), "0", 0, "0"),
    (T.UnsignedInt(), "4294967295", 2**32 - 1, "4294967295"),
    (T.Long(), "-9223372036854775808", -(2**63), "-9223372036854775808"),
    (T.UnsignedLong(), "18446744073709551615", 2**64 - 1, "18446744073709551615"),
    (T.Boolean(), "true", True, "true"),
    (T.Boolean(), "false", False, "false"),
    (T.Boolean(), "1", True, "true"),
    (T.Boolean(), "0", False, "false"),
    (T.Boolean(), "TRUE", True, "true"),
    (T.Boolean(), " False ", False, "false"),
    (T.DateTime(), "2024-05-01T10:00:00Z", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC), "2024-05-01T10:00:00Z"),
    (T.DateTime(), "2024-05-01T12:00:00.123+02:00",
     datetime.datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC), "2024-05-01T10:00:00Z"),
    (T.DateTime(), "2024-05-01T10:00:00", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC), "2024-05-01T10:00:00Z"),
    (T.DateTime(), "0001-01-01T00:00:00Z", UNKNOWN_TIME, "0001-01-01T00:00:00Z"),
    (T.Base64(), "aGVsbG8=", b"hello", "aGVsbG8="),
    (T.Base64(), "aGVs\n bG8=", b"hello", "aGVsbG8="),
    (T.Base64(), "", b"", ""),
    (T.HexBinary(), "00ff10", b"\x00\xff\x10", "00FF10"),
    (T.HexBinary(), "", b"", ""),
    (T.ListOf(T.String()), "a, b,c", ("a", "b", "c"), "a,b,c"),
    (T.ListOf(T.String()), "", (), ""),
    (T.ListOf(T.UnsignedInt()), "1,2, 3", (1, 2, 3), "1,2,3"),
    (T.ListOf(T.Boolean()), "1,false", (True, False), "true,false"),
    (T.Enumeration(("Upload", "Download", "Both")), "Both", "Both", "Both"),
]

# (type, wire text, a word the reason must contain)
PARSE_ERRORS = [
    (T.String(4), "abcde", "longer than 4"),
    (T.String(minLength=2), "a", "shorter than 2"),
    (T.String(enumeration=("A", "B")), "C", "not one of"),
    (T.String(patterns=("[0-9A-F]{6}",)), "00d0f5", "patterns"),
    (T.String(patterns=("[0-9A-F]{6}",)), "00D0F5X", "patterns"),
    (T.Int(), "1.5", "whole number"),
    (T.Int(), "", "whole number"),
    (T.Int(), "0x10", "whole number"),
    # ASCII digits only, bounded (asciinum): no Unicode digits, no NBSP taken
    # for white space, no underscores, no int() of thousands of digits.
    (T.UnsignedInt(), "²", "whole number"),
    (T.Int(), "١٢", "whole number"),
    (T.Int(), "1_000", "whole number"),
    (T.Int(), "\u00a05", "whole number"),
    (T.UnsignedLong(), "1" * 5000, "whole number"),
    (T.ListOf(T.UnsignedInt()), "1,①", "item 2"),
    (T.Int(), "2147483648", "outside int"),
    (T.Int(), "-2147483649", "outside int"),
    (T.UnsignedInt(), "-1", "outside unsignedInt"),
    (T.UnsignedInt(), "4294967296", "outside unsignedInt"),
    (T.UnsignedInt(1), "0", "allowed range"),
    (T.UnsignedInt(1000, 65535), "65536", "allowed range"),
    (T.Int(ranges=((-1, -1), (1, 10))), "0", "allowed range"),
    (T.Long(), "9223372036854775808", "outside long"),
    (T.UnsignedLong(), "-1", "outside unsignedLong"),
    (T.Boolean(), "yes", "not a boolean"),
    (T.Boolean(), "", "not a boolean"),
    (T.DateTime(), "yesterday", "not a dateTime"),
    (T.DateTime(), "2024-13-01T00:00:00Z", "month"),
    (T.Base64(), "a", "not base64"),
    (T.Base64(), "a$==", "not base64"),
    (T.Base64(2), "aGVsbG8=", "longer than 2 bytes"),
    (T.HexBinary(), "abc", "not hexBinary"),
    (T.HexBinary(), "zz", "not hexBinary"),
    (T.HexBinary(1, minLength=1), "", "shorter than 1 bytes"),
    (T.ListOf(T.UnsignedInt()), "1,x", "item 2"),
    (T.ListOf(T.String(), maxItems=2), "a,b,c", "more than 2 items"),
    (T.ListOf(T.String(), minItems=1), "", "fewer than 1 items"),
    (T.ListOf(T.String(), maxLength=5), "abc,def", "longer than 5"),
    (T.Enumeration(("Upload", "Download")), "upload", "not one of"),
]

# (parameter type, xsi:type the ACS gave, accepted?) — walks ACCEPTED_XSI_TYPES
XSI_ROWS = [
    ("string", "xsd:string", True),
    ("string", "xsd:unsignedInt", True),
    ("string", "xsd:boolean", True),
    ("string", "xsd:struct", False),
    ("int", "xsd:int", True),
    ("int", "xsd:unsignedInt", True),
    ("int", "xsd:string", True),
    ("int", "xsd:boolean", False),
    ("int", "xsd:dateTime", False),
    ("unsignedInt", "xs:unsignedInt", True),
    ("unsignedInt", "xsd:long", True),
    ("unsignedInt", "xsd:hexBinary", False),
    ("long", "xsd:int", True),
    ("unsignedLong", "xsd:unsignedLong", True),
    ("boolean", "xsd:boolean", True),
    ("boolean", "xsd:string", True),
    ("boolean", "xsd:int", False),
    ("dateTime", "xsd:dateTime", True),
    ("dateTime", "xsd:anySimpleType", True),
    ("dateTime", "xsd:unsignedInt", False),
    ("base64", "xsd:base64", True),
    ("base64", "SOAP-ENC:base64", True),
    ("base64", "xsd:base64Binary", True),
    ("base64", "xsd:hexBinary", False),
    ("hexBinary", "xsd:hexBinary", True),
    ("hexBinary", "xsd:base64", False),
]

SAMPLE_TEXT = {
    "string": "x", "int": "1", "unsignedInt": "1", "long": "1", "unsignedLong": "1",
    "boolean": "true", "dateTime": "2024-01-01T00:00:00Z", "base64": "AA==", "hexBinary": "00",
}


class ParseFormatTests(unittest.TestCase):
    def test_rows(self) -> None:
        """Each row's text parses to the expected value and formats to the canonical text."""
        for dataType, text, value, canonical in PARSE_FORMAT:
            parsed = dataType.parse(text)
            self.assertEqual(parsed, value, (dataType, text))
            self.assertEqual(dataType.format(parsed), canonical, (dataType, text))
            dataType.check(parsed)

    def test_errors(self) -> None:
        """Each row's text is refused with ValueError whose reason names the problem."""
        for dataType, text, reason in PARSE_ERRORS:
            with self.assertRaises(ValueError, msg=(dataType, text)) as caught:
                dataType.parse(text)
            self.assertIn(reason, str(caught.exception), (dataType, text))

    def test_xsiTypes(self) -> None:
        """Each type names its XML Schema type as CWMP sends it; a list is a string."""
        rows = [
            (T.String(), "xsd:string"), (T.Int(), "xsd:int"), (T.UnsignedInt(), "xsd:unsignedInt"),
            (T.Long(), "xsd:long"), (T.UnsignedLong(), "xsd:unsignedLong"), (T.Boolean(), "xsd:boolean"),
            (T.DateTime(), "xsd:dateTime"), (T.Base64(), "xsd:base64Binary"), (T.HexBinary(), "xsd:hexBinary"),
            (T.ListOf(T.UnsignedInt()), "xsd:string"), (T.Enumeration(("a",)), "xsd:string"),
        ]
        for dataType, xsi in rows:
            self.assertEqual(dataType.xsiType, xsi, dataType)

    def test_checkKinds(self) -> None:
        """check() refuses a Python value of the wrong kind with TypeError."""
        rows = [
            (T.String(), 5), (T.Int(), "5"), (T.Int(), True), (T.Boolean(), 1),
            (T.DateTime(), "2024"), (T.Base64(), "AA=="), (T.ListOf(T.String()), "a,b"),
        ]
        for dataType, value in rows:
            with self.assertRaises(TypeError, msg=(dataType, value)):
                dataType.check(value)

    def test_listItemWithComma(self) -> None:
        """A list item holding a comma cannot be represented and is refused."""
        with self.assertRaises(ValueError):
            T.ListOf(T.String()).check(("a,b",))

    def test_defaults(self) -> None:
        """Defaults: empty string, 0 or the range's minimum, false, the unknown time, no bytes, no items."""
        self.assertEqual(T.String().default(), "")
        self.assertEqual(T.UnsignedInt().default(), 0)
        self.assertEqual(T.UnsignedInt(1).default(), 1)
        self.assertEqual(T.Int().default(), 0)
        self.assertEqual(T.Boolean().default(), False)
        self.assertEqual(T.DateTime().default(), UNKNOWN_TIME)
        self.assertEqual(T.HexBinary().default(), b"")
        self.assertEqual(T.ListOf(T.Int()).default(), ())
        self.assertEqual(T.Enumeration(("Both", "Upload")).default(), "Both")
        for dataType in (T.String(), T.UnsignedInt(5), T.Boolean(), T.DateTime(), T.Base64(), T.ListOf(T.Int())):
            dataType.check(dataType.default())

    def test_integerBounds(self) -> None:
        """Ranges outside the base type are refused; minimum/maximum report the effective bounds."""
        with self.assertRaises(ValueError):
            T.UnsignedInt(-1)
        with self.assertRaises(ValueError):
            T.Int(0, 2**31)
        with self.assertRaises(ValueError):
            T.Int(1, ranges=((1, 2),))
        self.assertEqual(T.UnsignedInt(1).minimum, 1)
        self.assertEqual(T.UnsignedInt(1).maximum, 2**32 - 1)
        self.assertEqual(T.Int(ranges=((-1, -1), (1, 10))).minimum, -1)
        self.assertEqual(T.Int(ranges=((-1, -1), (1, 10))).maximum, 10)
        self.assertEqual(T.Int(ranges=((-1, -1), (1, 10))).parse("-1"), -1)

    def test_equality(self) -> None:
        """Types compare by kind and facets."""
        self.assertEqual(T.UnsignedInt(1), T.UnsignedInt(1))
        self.assertNotEqual(T.UnsignedInt(1), T.UnsignedInt(2))
        self.assertNotEqual(T.UnsignedInt(), T.Int())
        self.assertEqual(T.String(64), T.String(64))
        self.assertEqual(hash(T.String(64)), hash(T.String(64)))
        self.assertIn("maxLength=64", repr(T.String(64)))

    def test_noListOfLists(self) -> None:
        """A list of lists is not a TR-106 type."""
        with self.assertRaises(ValueError):
            T.ListOf(T.ListOf(T.String()))

    def test_emptyEnumeration(self) -> None:
        """An enumeration needs at least one value."""
        with self.assertRaises(ValueError):
            T.Enumeration(())


class AcceptValueTests(unittest.TestCase):
    def test_table(self) -> None:
        """Every row of ACCEPTED_XSI_TYPES: an accepted xsi:type sets the value, another gives 9006."""
        for base, given, accepted in XSI_ROWS:
            dataType = T.BASE_TYPES[base]()
            if accepted:
                self.assertEqual(T.acceptValue(dataType, SAMPLE_TEXT[base], given),
                                 dataType.parse(SAMPLE_TEXT[base]), (base, given))
            else:
                with self.assertRaises(CWMPFault, msg=(base, given)) as caught:
                    T.acceptValue(dataType, SAMPLE_TEXT[base], given)
                self.assertEqual(caught.exception.code, 9006, (base, given))

    def test_everyBaseTypeHasARow(self) -> None:
        """The table covers every base type, and every type accepts its own xsi:type and xsd:string."""
        self.assertEqual(set(T.ACCEPTED_XSI_TYPES), set(T.BASE_TYPES))
        for base, factory in T.BASE_TYPES.items():
            dataType = factory()
            self.assertIn(T.xsiLocalName(dataType.xsiType), T.ACCEPTED_XSI_TYPES[base])
            self.assertIn("string", T.ACCEPTED_XSI_TYPES[base])

    def test_badValue(self) -> None:
        """A value the type does not accept gives 9007 with the reason."""
        with self.assertRaises(CWMPFault) as caught:
            T.acceptValue(T.UnsignedInt(1), "0", "xsd:unsignedInt")
        self.assertEqual(caught.exception.code, 9007)
        self.assertIn("range", caught.exception.string)
        with self.assertRaises(CWMPFault) as caught:
            T.acceptValue(T.Boolean(), "maybe", "xsd:boolean")
        self.assertEqual(caught.exception.code, 9007)

    def test_noTypeGiven(self) -> None:
        """An ACS that gives no xsi:type has its value checked only."""
        self.assertEqual(T.acceptValue(T.UnsignedInt(), "5", ""), 5)
        self.assertEqual(T.acceptValue(T.Boolean(), "1", ""), True)

    def test_list(self) -> None:
        """A list takes what a string takes and checks its items."""
        self.assertEqual(T.acceptValue(T.ListOf(T.UnsignedInt()), "1,2", "xsd:string"), (1, 2))
        with self.assertRaises(CWMPFault) as caught:
            T.acceptValue(T.ListOf(T.UnsignedInt()), "1,2", "cwmp:ParameterValueStruct")
        self.assertEqual(caught.exception.code, 9006)
        with self.assertRaises(CWMPFault) as caught:
            T.acceptValue(T.ListOf(T.UnsignedInt()), "1,-2", "xsd:string")
        self.assertEqual(caught.exception.code, 9007)


NAMED = """
<types>
  <dataType name="URI"><string><size maxLength="2048"/></string></dataType>
  <dataType name="URL" base="URI"><description>x</description></dataType>
  <dataType name="_AliasCommon"><string><size maxLength="64"/></string></dataType>
  <dataType name="Alias" base="_AliasCommon"/>
  <dataType name="StatsCounter32"><unsignedInt/></dataType>
  <dataType name="Short" base="URI"><size maxLength="16"/></dataType>
  <dataType name="Derived" base="URI"><string><size maxLength="32"/></string></dataType>
  <dataType name="IPList"><list maxItems="3"/><string><size maxLength="45"/></string></dataType>
  <dataType name="Loop" base="Loop"/>
  <dataType name="Empty"/>
</types>
"""


def _named() -> dict:
    root = etree.fromstring(NAMED)
    return {e.get("name"): e for e in root}


def _syntax(inner: str):
    return etree.fromstring(f"<syntax>{inner}</syntax>")


class SyntaxTests(unittest.TestCase):
    def test_rows(self) -> None:
        """Each DM Schema syntax maps onto the type with the same facets."""
        named = _named()
        rows = [
            ("<string/>", T.String()),
            ("<string><size maxLength='256'/></string>", T.String(256)),
            ("<string><size minLength='6' maxLength='6'/><pattern value='[0-9A-F]{6}'/></string>",
             T.String(6, minLength=6, patterns=("[0-9A-F]{6}",))),
            ("<string><enumeration value='A'><description>d</description></enumeration>"
             "<enumeration value='B'/></string>", T.String(enumeration=("A", "B"))),
            ("<unsignedInt><range minInclusive='1'/><units value='seconds'/></unsignedInt>", T.UnsignedInt(1)),
            ("<unsignedInt><range minInclusive='1000' maxInclusive='65535'/></unsignedInt>",
             T.UnsignedInt(1000, 65535)),
            ("<int><range minInclusive='-1' maxInclusive='-1'/><range minInclusive='1'/></int>",
             T.Int(ranges=((-1, -1), (1, None)))),
            ("<boolean/><default type='factory' value='true'/>", T.Boolean()),
            ("<dateTime/>", T.DateTime()),
            ("<long/>", T.Long()),
            ("<unsignedLong/>", T.UnsignedLong()),
            ("<base64><size maxLength='8'/></base64>", T.Base64(8)),
            ("<hexBinary><size minLength='1' maxLength='4'/></hexBinary>", T.HexBinary(4, minLength=1)),
            ("<dataType ref='URL'/>", T.String(2048)),
            ("<dataType ref='Alias'/>", T.String(64)),
            ("<dataType ref='StatsCounter32'/>", T.UnsignedInt()),
            ("<dataType ref='Short'/>", T.String(16)),
            ("<dataType ref='Derived'/>", T.String(32)),
            ("<dataType ref='URL'><size maxLength='256'/></dataType>", T.String(256)),
            ("<list/><string><enumeration value='UPnP'/></string>", T.ListOf(T.String(enumeration=("UPnP",)))),
            ("<list maxItems='32'><size/></list><string><pathRef refType='strong'/></string>",
             T.ListOf(T.String(), maxItems=32)),
            ("<list><size maxLength='1024'/></list><string><pattern value='X .*'/></string>",
             T.ListOf(T.String(patterns=("X .*",)), maxLength=1024)),
            ("<dataType ref='IPList'/>", T.ListOf(T.String(45), maxItems=3)),
        ]
        for inner, expected in rows:
            got = T.fromSyntax(_syntax(inner), named)
            self.assertEqual(got, expected, inner)
            self.assertEqual(type(got), type(expected), inner)
            self.assertEqual(got.spec(), expected.spec(), inner)

    def test_errors(self) -> None:
        """Unknown, self-referring or empty types are refused with ValueError."""
        named = _named()
        for inner in ("<decimal/>", "<dataType ref='Nope'/>", "<dataType ref='Loop'/>",
                      "<dataType ref='Empty'/>", "<dataType/>", "", "<default value='x'/>"):
            with self.assertRaises(ValueError, msg=inner):
                T.fromSyntax(_syntax(inner), named)

    def test_specRoundTrip(self) -> None:
        """fromSpec rebuilds a type from its spec()."""
        for dataType in (T.String(8, minLength=1, enumeration=("a",)), T.UnsignedInt(1, 9), T.Boolean(),
                         T.Base64(3), T.ListOf(T.Int(0, 5), maxItems=2, maxLength=9), T.DateTime()):
            self.assertEqual(T.fromSpec(dataType.spec()).spec(), dataType.spec())
        with self.assertRaises(ValueError):
            T.fromSpec({"base": "float"})
