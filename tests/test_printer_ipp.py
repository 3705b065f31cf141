# -*- test-case-name: tests.test_printer_ipp -*-
"""Tests for L{proxier.printer.ipp} and L{proxier.printer.ipptags}: RFC 8010 byte vectors both ways."""

from __future__ import annotations

import struct

from twisted.trial import unittest

from proxier.printer import ipp, ipptags
from proxier.printer.ipp import (
    Attribute,
    AttributeGroup,
    Collection,
    IPPError,
    IPPMessage,
    Limits,
    Resolution,
    TextWithLanguage,
    Value,
    decode,
    encode,
)

HEADER = b"\x02\x00\x00\x0b\x00\x00\x00\x07"  # IPP/2.0, Get-Printer-Attributes, request-id 7


def attr(tag: int, name: bytes, raw: bytes) -> bytes:
    """One attribute-with-one-value, laid out by hand (RFC 8010 §3.1.4)."""
    return bytes([tag]) + struct.pack(">H", len(name)) + name + struct.pack(">H", len(raw)) + raw


# (tag, raw octets, decoded value): one row per value tag of RFC 8010 §3.5.2
VECTORS = [
    (0x10, b"", None),
    (0x12, b"", None),
    (0x13, b"", None),
    (0x15, b"", None),
    (0x16, b"", None),
    (0x17, b"", None),
    (0x21, b"\xff\xff\xff\xfe", -2),
    (0x22, b"\x01", True),
    (0x23, b"\x00\x00\x00\x03", 3),
    (0x30, b"\x00\xffraw", b"\x00\xffraw"),
    (0x31, b"\x07\xea\x0c\x06\x0a\x19\x00\x00+\x00\x00", b"\x07\xea\x0c\x06\x0a\x19\x00\x00+\x00\x00"),
    (0x32, b"\x00\x00\x02\x58\x00\x00\x04\xb0\x03", Resolution(600, 1200, 3)),
    (0x33, b"\x00\x00\x00\x01\x00\x00\x03\xe7", (1, 999)),
    (0x35, b"\x00\x02fr\x00\x05\xc3\xa9t\xc3\xa9", TextWithLanguage("fr", "\u00e9t\u00e9")),
    (0x36, b"\x00\x05en-us\x00\x03Bob", TextWithLanguage("en-us", "Bob")),
    (0x41, "Caf\u00e9".encode(), "Caf\u00e9"),
    (0x42, b"Office", "Office"),
    (0x44, b"one-sided", "one-sided"),
    (0x45, b"ipp://127.0.0.1:631/ipp/print", "ipp://127.0.0.1:631/ipp/print"),
    (0x46, b"ipps", "ipps"),
    (0x47, b"utf-8", "utf-8"),
    (0x48, b"en", "en"),
    (0x49, b"application/pdf", "application/pdf"),
    (0x7F, b"\x00\x01\x00\x00xyz", b"\x00\x01\x00\x00xyz"),
    (0x4F, b"unassigned", b"unassigned"),  # unknown tags keep their octets
    (0x2F, b"\x00\x00", b"\x00\x00"),
]


class VectorTests(unittest.TestCase):
    def test_everyValueTagBothWays(self) -> None:
        """
        Each value tag of RFC 8010 §3.5.2 (and 0x7f and unassigned ones) is
        decoded from hand-made octets to its Python value and encoded back
        to the same octets.
        """
        for tag, raw, expected in VECTORS:
            wire = HEADER + b"\x04" + attr(tag, b"a", raw) + b"\x03"
            message = decode(wire)
            got = message.group(0x04)["a"]
            self.assertEqual(got.values, (Value(tag, expected),), hex(tag))
            self.assertEqual(encode(message), wire, hex(tag))

    def test_everyTagIsInAVector(self) -> None:
        """Every value tag of the tables has a vector row (the table is walked, not sampled)."""
        covered = {row[0] for row in VECTORS}
        for tag in ipptags.VALUE_TAGS:
            if tag in (ipptags.BEGIN_COLLECTION, ipptags.END_COLLECTION, ipptags.MEMBER_ATTR_NAME):
                continue  # in the collection tests
            self.assertIn(tag, covered, ipptags.tagName(tag))

    def test_header(self) -> None:
        """Version, operation-id and request-id (signed) are read from the first eight octets."""
        message = decode(b"\x01\x01\x04\x03\x80\x00\x00\x00\x03trailing document")
        self.assertEqual((message.version, message.code, message.requestId), ((1, 1), 0x0403, -(2 ** 31)))
        self.assertEqual(message.data, b"trailing document")
        self.assertEqual(message.groups, [])

    def test_rfc8010GetJobsExample(self) -> None:
        """
        The shape of RFC 8010 §A.1's request (charset, language, URI): what
        L{ipp.request} writes is exactly these octets.
        """
        wire = (b"\x02\x00\x00\x0b\x00\x00\x00\x01\x01"
                + attr(0x47, b"attributes-charset", b"utf-8")
                + attr(0x48, b"attributes-natural-language", b"en")
                + attr(0x45, b"printer-uri", b"ipp://127.0.0.1/ipp/print")
                + attr(0x44, b"requested-attributes", b"printer-location")
                + attr(0x44, b"", b"printer-info")
                + b"\x03")
        message = ipp.request(0x0B, 1, [
            ("printer-uri", ipp.value("uri", "ipp://127.0.0.1/ipp/print")),
            ("requested-attributes", [ipp.value("keyword", "printer-location"), ipp.value(0x44, "printer-info")]),
        ])
        self.assertEqual(encode(message), wire)
        back = decode(wire)
        self.assertEqual(back.operation.getAll("requested-attributes"), ["printer-location", "printer-info"])
        self.assertEqual(back.operation.get("attributes-charset"), "utf-8")

    def test_groupsRepeatAndKeepOrder(self) -> None:
        """Groups are kept in order, a repeated group tag gives a second group (Get-Jobs answers)."""
        wire = (HEADER + b"\x01" + attr(0x47, b"attributes-charset", b"utf-8")
                + b"\x02" + attr(0x21, b"job-id", b"\x00\x00\x00\x01")
                + b"\x02" + attr(0x21, b"job-id", b"\x00\x00\x00\x02")
                + b"\x0a" + attr(0x42, b"system-name", b"s")
                + b"\x03")
        message = decode(wire)
        self.assertEqual([g.tag for g in message.groups], [0x01, 0x02, 0x02, 0x0A])
        self.assertEqual([g.get("job-id") for g in message.allGroups(0x02)], [1, 2])
        self.assertEqual(message.duplicates, [])
        self.assertEqual(encode(message), wire)

    def test_emptyGroup(self) -> None:
        """A group tag with no attribute is a group with none, written back."""
        wire = HEADER + b"\x01\x04\x03"
        message = decode(wire)
        self.assertEqual([(g.tag, len(g)) for g in message.groups], [(1, 0), (4, 0)])
        self.assertEqual(encode(message), wire)

    def test_tables(self) -> None:
        """The names of operations, statuses and tags come from the tables, unknown codes as hex."""
        self.assertEqual(ipptags.operationName(0x13), "Set-Printer-Attributes")
        self.assertEqual(ipptags.operationName(0x4003), "CUPS-Add-Modify-Printer")
        self.assertEqual(ipptags.operationName(0x29), "Restart-Printer")
        self.assertEqual(ipptags.operationName(0x60), "Restart-System")
        self.assertEqual(ipptags.statusName(0x0413), "client-error-attributes-not-settable")
        self.assertEqual(ipptags.statusName(0x0999), "0x0999")
        self.assertEqual(ipptags.tagName(0x4A), "memberAttrName")
        self.assertEqual(ipptags.tagName(0x04), "printer-attributes-tag")
        self.assertEqual(ipp.value("textWithoutLanguage", "x"), Value(0x41, "x"))


def _collectionWire() -> bytes:
    """media-col-default = {media-size = {x-dimension 21000, y-dimension 29700}, media-type "stationery"}, then a 2nd value."""
    size = (attr(0x34, b"", b"")
            + attr(0x4A, b"", b"x-dimension") + attr(0x21, b"", struct.pack(">i", 21000))
            + attr(0x4A, b"", b"y-dimension") + attr(0x21, b"", struct.pack(">i", 29700))
            + attr(0x37, b"", b""))
    outer = (attr(0x34, b"media-col-default", b"")
             + attr(0x4A, b"", b"media-size") + size[0:0] + size
             + attr(0x4A, b"", b"media-type") + attr(0x44, b"", b"stationery") + attr(0x44, b"", b"plain")
             + attr(0x37, b"", b""))
    second = attr(0x34, b"", b"") + attr(0x4A, b"", b"media-type") + attr(0x44, b"", b"labels") + attr(0x37, b"", b"")
    return HEADER + b"\x04" + outer + second + attr(0x44, b"sides-default", b"one-sided") + b"\x03"


class CollectionTests(unittest.TestCase):
    def test_nestedCollectionBothWays(self) -> None:
        """
        A collection with a nested collection member, a multi-valued member
        and a second collection value reads as L{Collection}s and writes
        back to the same octets (RFC 8010 §3.1.6, memberAttrName).
        """
        wire = _collectionWire()
        message = decode(wire)
        printer = message.group(0x04)
        col = printer["media-col-default"]
        self.assertEqual(len(col.values), 2)
        first = col.value
        self.assertIsInstance(first, Collection)
        self.assertEqual(first.get("media-size").get("x-dimension"), 21000)
        self.assertEqual(first.get("media-size").get("y-dimension"), 29700)
        self.assertEqual(first.getAll("media-type"), ["stationery", "plain"])
        self.assertEqual(col.values[1].value.get("media-type"), "labels")
        self.assertEqual(printer.get("sides-default"), "one-sided")
        self.assertEqual(encode(message), wire)

    def test_builtCollectionEncodes(self) -> None:
        """A collection built in code encodes as the hand-made octets."""
        size = Collection([Attribute("x-dimension", (Value(0x21, 21000),)), Attribute("y-dimension", (Value(0x21, 29700),))])
        outer = Collection([Attribute("media-size", (Value(0x34, size),)),
                            Attribute("media-type", (Value(0x44, "stationery"), Value(0x44, "plain")))])
        second = Collection([Attribute("media-type", (Value(0x44, "labels"),))])
        message = IPPMessage(0x0B, 7, [AttributeGroup(0x04, [
            Attribute("media-col-default", (Value(0x34, outer), Value(0x34, second))),
            Attribute("sides-default", (Value(0x44, "one-sided"),)),
        ])])
        self.assertEqual(encode(message), _collectionWire())

    def test_depthCap(self) -> None:
        """Collections nested beyond L{Limits.maxDepth} are refused, not recursed into."""
        inner = attr(0x34, b"", b"") + attr(0x4A, b"", b"m")
        wire = HEADER + b"\x04" + attr(0x34, b"c", b"") + attr(0x4A, b"", b"m") + inner * 20
        e = self.assertRaises(IPPError, decode, wire, Limits(maxDepth=4))
        self.assertIn("nested", str(e))

    def test_malformedCollections(self) -> None:
        """Collection structure errors each raise L{IPPError} with a reason."""
        cases = {
            "a value before any memberAttrName": attr(0x34, b"c", b"") + attr(0x44, b"", b"x") + attr(0x37, b"", b""),
            "has no value": attr(0x34, b"c", b"") + attr(0x4A, b"", b"m") + attr(0x37, b"", b""),
            "named attribute": attr(0x34, b"c", b"") + attr(0x4A, b"", b"m") + attr(0x44, b"n", b"x"),
            "outside a collection": attr(0x37, b"x", b""),
            "empty memberAttrName": attr(0x34, b"c", b"") + attr(0x4A, b"", b""),
            "delimiter tag": attr(0x34, b"c", b"") + attr(0x4A, b"", b"m") + b"\x03\x00\x00\x00\x00",
        }
        for reason, body in cases.items():
            e = self.assertRaises(IPPError, decode, HEADER + b"\x04" + body + b"\x03")
            self.assertIn(reason, str(e))


class DuplicateTests(unittest.TestCase):
    def test_firstValueWins(self) -> None:
        """
        A name repeated within a group keeps its first occurrence (all its
        values); the later one is dropped and reported in C{duplicates}
        (ippeveprinter's empty second printer-organization).
        """
        wire = (HEADER + b"\x04"
                + attr(0x41, b"printer-organization", b"ExampleCo") + attr(0x41, b"", b"second value")
                + attr(0x44, b"sides-default", b"one-sided")
                + attr(0x41, b"printer-organization", b"")
                + b"\x03")
        message = decode(wire)
        printer = message.group(0x04)
        self.assertEqual(printer.getAll("printer-organization"), ["ExampleCo", "second value"])
        self.assertEqual(message.duplicates, [(0x04, "printer-organization")])
        self.assertEqual([a.name for a in printer], ["printer-organization", "sides-default"])

    def test_sameNameInTwoGroupsIsNoDuplicate(self) -> None:
        """The rule is per group: one name in two groups is two attributes."""
        wire = HEADER + b"\x02" + attr(0x21, b"job-id", b"\0\0\0\1") + b"\x02" + attr(0x21, b"job-id", b"\0\0\0\2") + b"\x03"
        self.assertEqual(decode(wire).duplicates, [])

    def test_duplicateMember(self) -> None:
        """A member repeated in one collection: the first wins, reported as C{outer.member}."""
        wire = (HEADER + b"\x04" + attr(0x34, b"c", b"")
                + attr(0x4A, b"", b"m") + attr(0x21, b"", b"\0\0\0\1")
                + attr(0x4A, b"", b"m") + attr(0x21, b"", b"\0\0\0\2")
                + attr(0x37, b"", b"") + b"\x03")
        message = decode(wire)
        self.assertEqual(message.group(0x04).get("c").get("m"), 1)
        self.assertEqual(message.duplicates, [(0x04, "c.m")])


class MalformedTests(unittest.TestCase):
    def test_everyTruncation(self) -> None:
        """
        Every proper prefix of a valid message (collections, two groups,
        additional values) raises L{IPPError}, never another exception.
        """
        wire = _collectionWire()
        for n in range(len(wire)):
            self.assertRaises(IPPError, decode, wire[:n])

    def test_malformed(self) -> None:
        """Each structural error raises L{IPPError} with a reason naming it."""
        cases = {
            "reserved delimiter tag 0x00": HEADER + b"\x00\x03",
            "before any group tag": HEADER + attr(0x44, b"a", b"b") + b"\x03",
            "no attribute before it": HEADER + b"\x04" + attr(0x44, b"", b"b") + b"\x03",
            "not 4": HEADER + b"\x04" + attr(0x21, b"a", b"\0\0\1") + b"\x03",
            "not one octet": HEADER + b"\x04" + attr(0x22, b"a", b"\x02") + b"\x03",
            "not 11": HEADER + b"\x04" + attr(0x31, b"a", b"\0" * 10) + b"\x03",
            "not 9": HEADER + b"\x04" + attr(0x32, b"a", b"\0" * 8) + b"\x03",
            "not 8": HEADER + b"\x04" + attr(0x33, b"a", b"\0" * 9) + b"\x03",
            "language length": HEADER + b"\x04" + attr(0x35, b"a", b"\x00\x09en\x00\x00") + b"\x03",
            "does not fill": HEADER + b"\x04" + attr(0x35, b"a", b"\x00\x02en\x00\x09ab") + b"\x03",
            "too short": HEADER + b"\x04" + attr(0x36, b"a", b"\x00") + b"\x03",
            "four-octet type": HEADER + b"\x04" + attr(0x7F, b"a", b"\0\0") + b"\x03",
            "no end-of-attributes-tag": HEADER + b"\x04" + attr(0x44, b"a", b"b"),
        }
        for reason, wire in cases.items():
            e = self.assertRaises(IPPError, decode, wire)
            self.assertIn(reason, str(e))

    def test_invalidUTF8IsShownNotFatal(self) -> None:
        """A stray byte in a text value is replaced (the printer's other attributes stay readable)."""
        message = decode(HEADER + b"\x04" + attr(0x41, b"printer-info", b"caf\xe9") + b"\x03")
        self.assertEqual(message.group(0x04).get("printer-info"), "caf\ufffd")

    def test_outOfBandValueIgnored(self) -> None:
        """RFC 8010 §3.8: an out-of-band value's octets are ignored by the receiver."""
        message = decode(HEADER + b"\x04" + attr(0x13, b"printer-info", b"junk") + b"\x03")
        self.assertEqual(message.group(0x04)["printer-info"].values, (Value(0x13, None),))
        self.assertTrue(message.group(0x04)["printer-info"].values[0].outOfBand)


class CapTests(unittest.TestCase):
    def test_messageCap(self) -> None:
        """A message over L{Limits.maxMessage} is refused before it is read."""
        e = self.assertRaises(IPPError, decode, HEADER + b"\x03" + b"x" * 100, Limits(maxMessage=50))
        self.assertIn("exceeds the cap of 50", str(e))

    def test_attributeCap(self) -> None:
        """More attributes than L{Limits.maxAttributes} (members included) are refused."""
        wire = HEADER + b"\x04" + b"".join(attr(0x44, b"a%d" % i, b"v") for i in range(11)) + b"\x03"
        decode(wire, Limits(maxAttributes=11))
        e = self.assertRaises(IPPError, decode, wire, Limits(maxAttributes=10))
        self.assertIn("more than 10 attributes", str(e))

    def test_valueCap(self) -> None:
        """More values of one attribute than L{Limits.maxValues} are refused."""
        wire = HEADER + b"\x04" + attr(0x44, b"a", b"v") + attr(0x44, b"", b"v") * 4 + b"\x03"
        self.assertEqual(len(decode(wire, Limits(maxValues=5)).group(4).getAll("a")), 5)
        e = self.assertRaises(IPPError, decode, wire, Limits(maxValues=4))
        self.assertIn("more than 4 values", str(e))


class EncodeErrorTests(unittest.TestCase):
    def test_unencodable(self) -> None:
        """Values that do not fit their tag raise L{IPPError}, not C{struct.error}."""
        for v in [Value(0x21, 2 ** 31), Value(0x31, b"short"), Value(0x41, "x" * 40000), Value(0x41, 3),
                  Value(0x21, "7"), Value(0x32, (600, 600, 3)), Value(0x33, 5), Value(0x33, (1, 2, 3)),
                  Value(0x35, "no language"), Value(0x34, "not a collection"),
                  Value(0x34, Collection([Attribute("m", ())]))]:
            message = IPPMessage(0x0B, 1, [AttributeGroup(0x04, [Attribute("a", (v,))])])
            self.assertRaises(IPPError, encode, message)
        self.assertRaises(IPPError, encode, IPPMessage(0x10000, 1))
        self.assertRaises(IPPError, encode, IPPMessage(0x0B, 1, [AttributeGroup(0x04, [Attribute("a", ())])]))
