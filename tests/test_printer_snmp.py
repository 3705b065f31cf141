# -*- test-case-name: tests.test_printer_snmp -*-
"""
Tests for L{proxier.printer.snmp}: byte vectors both ways, taken from two
other stacks (net-snmp 5.9's C{snmpget -d}/C{snmpset -d} hex dumps against
snmpsim 1.2.2, and pysnmp 7.1.30's encoder), then malformed, truncated and
oversized messages.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.printer import snmp
from proxier.printer.snmp import Limits, Message, PDU, SNMPError, Value, VarBind, decode, encode, parseOID

SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)

# net-snmp: snmpget -v2c -c printer-mfp4000 -d 127.0.0.1:PORT sysDescr.0, and snmpsim's answer
NETSNMP_GET = bytes.fromhex(
    "3032020101040f7072696e7465722d6d667034303030a01c0204622fcb06020100020100300e300c06082b060102010101000500")
SNMPSIM_GET_ANSWER = bytes.fromhex(
    "3065020101040f7072696e7465722d6d667034303030a24f0204622fcb06020100020100304130 3f06082b06010201010100"
    "0433" + b"ExampleCo MFP 4000 Color; FW 2.11.3; Printer-MIB v2".hex())
# snmpset of read-only sysDescr.0: snmpsim answers noSuchInstance with error-status 0
NETSNMP_SET = bytes.fromhex(
    "3033020101040f7072696e7465722d6d667034303030a31d02047373232e020100020100300f300d06082b06010201010100040178")
SNMPSIM_SET_ANSWER = bytes.fromhex(
    "3032020101040f7072696e7465722d6d667034303030a21c02047373232e020100020100300e300c06082b06010201010100"
    "8100")
# snmpbulkget -Cn0 -Cr3 prtMarkerSuppliesEntry, and the three rows
NETSNMP_BULK = bytes.fromhex(
    "3033020101040f7072696e7465722d6d667034303030a51d020441e5f3d1020100020103300f300d06092b060102012b0b01010500")
SNMPSIM_BULK_ANSWER = bytes.fromhex(
    "305d020101040f7072696e7465722d6d667034303030a247020441e5f3d10201000201003039"
    "3011060c2b060102012b0b0101020101020101" "3011060c2b060102012b0b0101020102020101"
    "3011060c2b060102012b0b0101020103020101")

# pysnmp 7.1.30 (pyasn1 0.6.5): a v2c Response with a binding of every type, 0x82 and 0x81 long lengths
PYSNMP_RESPONSE = bytes.fromhex(
    "3082010302010104067075626c6963a281f502047fffffff0201000201003081e6301106082b06010201010300430500ffffffff"
    "3015060d2b06010201041401010a00000140040a0000013013060a2b060102010202010a01410500ffffffff3012060a2b0601"
    "02010202010501420405f5e1003018060b2b060102011f0101010601460900ffffffffffffffff3011060c2b060102012b0b01"
    "010901010201fd301706082b06010201010200060b2b06010401930302030901301406092b06010401868d1f0144079f78043f"
    "800000300c06082b060102010109008000300c06082b060102010108008100300806042b0601098200300f060788378fffffff"
    "7f020480000001")
PYSNMP_VALUES = [
    ((1, 3, 6, 1, 2, 1, 1, 3, 0), Value(snmp.TIMETICKS, 4294967295)),
    ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 10, 0, 0, 1), Value(snmp.IP_ADDRESS, "10.0.0.1")),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1), Value(snmp.COUNTER32, 4294967295)),
    ((1, 3, 6, 1, 2, 1, 2, 2, 1, 5, 1), Value(snmp.GAUGE32, 100000000)),
    ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 1), Value(snmp.COUNTER64, (1 << 64) - 1)),
    ((1, 3, 6, 1, 2, 1, 43, 11, 1, 1, 9, 1, 1), Value(snmp.INTEGER, -3)),
    ((1, 3, 6, 1, 2, 1, 1, 2, 0), Value(snmp.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 2435, 2, 3, 9, 1))),
    ((1, 3, 6, 1, 4, 1, 99999, 1), Value(snmp.OPAQUE, b"\x9f\x78\x04\x3f\x80\x00\x00")),
    ((1, 3, 6, 1, 2, 1, 1, 9, 0), Value(snmp.NO_SUCH_OBJECT)),
    ((1, 3, 6, 1, 2, 1, 1, 8, 0), Value(snmp.NO_SUCH_INSTANCE)),
    ((1, 3, 6, 1, 9), Value(snmp.END_OF_MIB_VIEW)),
    ((2, 999, 4294967295), Value(snmp.INTEGER, -2147483647)),
]
PYSNMP_BULK = bytes.fromhex(
    "303502010104067075626c6963a528020101020101020119301d300c06082b060102010103000500300d06092b060102012b0b01010500")
PYSNMP_V1_SET = bytes.fromhex(
    "3037020100040770726976617465a3290202012c020100020100301d301b06082b06010201010400040f6f7073406578616d706c652e6e6574")
PYSNMP_TRAP = bytes.fromhex(
    "304202010104067075626c6963a735020105020100020100302a300e06082b06010201010300430230393018060a2b06010603"
    "0101040100060a2b060102012b12020001")
PYSNMP_V1_ERROR = bytes.fromhex(
    "302602010004067075626c6963a2190201fb020102020101300e300c06082b060102010163000500")


def response(*bindings: VarBind) -> bytes:
    return encode(Message(snmp.V2C, b"public", PDU(snmp.RESPONSE, 1, 0, 0, bindings)))


def tlv(tag: int, content: bytes) -> bytes:
    """One encoding laid out by hand (short, or two-octet long form, lengths)."""
    n = len(content)
    return bytes([tag]) + (bytes([n]) if n < 0x80 else b"\x82" + n.to_bytes(2, "big")) + content


def withValue(raw: bytes, version: int = snmp.V2C) -> bytes:
    """A Response whose one binding (sysDescr.0) has the value C{raw} (tag, length, content), by hand."""
    bindings = tlv(0x30, tlv(0x30, b"\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00" + raw))
    pdu = tlv(0xA2, b"\x02\x01\x01\x02\x01\x00\x02\x01\x00" + bindings)
    return tlv(0x30, b"\x02\x01" + bytes([version]) + b"\x04\x06public" + pdu)


class VectorTests(unittest.TestCase):
    def assertBothWays(self, wire: bytes, message: Message) -> None:
        self.assertEqual(decode(wire), message)
        self.assertEqual(encode(message), wire)

    def test_netsnmpGet(self) -> None:
        """net-snmp's GetRequest and snmpsim's Response read and write to the same octets."""
        self.assertBothWays(NETSNMP_GET, Message(snmp.V2C, b"printer-mfp4000",
                                                 PDU(snmp.GET, 0x622FCB06, 0, 0, (VarBind(SYS_DESCR),))))
        answer = Message(snmp.V2C, b"printer-mfp4000", PDU(snmp.RESPONSE, 0x622FCB06, 0, 0, (
            VarBind(SYS_DESCR, Value(snmp.OCTET_STRING, b"ExampleCo MFP 4000 Color; FW 2.11.3; Printer-MIB v2")),)))
        self.assertBothWays(SNMPSIM_GET_ANSWER, answer)

    def test_netsnmpSetReadOnly(self) -> None:
        """snmpsim refuses a SET of a read-only OID with noSuchInstance under error-status 0."""
        self.assertBothWays(NETSNMP_SET, Message(snmp.V2C, b"printer-mfp4000", PDU(
            snmp.SET, 0x7373232E, 0, 0, (VarBind(SYS_DESCR, Value(snmp.OCTET_STRING, b"x")),))))
        answer = decode(SNMPSIM_SET_ANSWER)
        self.assertEqual((answer.pdu.errorStatus, answer.pdu.varBinds[0].value), (0, Value(snmp.NO_SUCH_INSTANCE)))
        self.assertTrue(answer.pdu.varBinds[0].value.isException)
        self.assertEqual(encode(answer), SNMPSIM_SET_ANSWER)

    def test_netsnmpBulk(self) -> None:
        """A GetBulkRequest's non-repeaters and max-repetitions are the error-status and error-index fields."""
        request = decode(NETSNMP_BULK)
        self.assertEqual((request.pdu.name, request.pdu.errorStatus, request.pdu.errorIndex), ("GetBulkRequest", 0, 3))
        self.assertEqual(encode(request), NETSNMP_BULK)
        rows = tuple(VarBind(parseOID(f"1.3.6.1.2.1.43.11.1.1.2.1.{i}"), Value(snmp.INTEGER, 1)) for i in (1, 2, 3))
        self.assertBothWays(SNMPSIM_BULK_ANSWER, Message(snmp.V2C, b"printer-mfp4000",
                                                         PDU(snmp.RESPONSE, 0x41E5F3D1, 0, 0, rows)))

    def test_pysnmpEveryType(self) -> None:
        """Every value type, the extreme values of each range, long-form lengths: pysnmp's octets both ways."""
        message = Message(snmp.V2C, b"public", PDU(snmp.RESPONSE, 0x7FFFFFFF, 0, 0,
                                                     tuple(VarBind(o, v) for o, v in PYSNMP_VALUES)))
        self.assertBothWays(PYSNMP_RESPONSE, message)

    def test_pysnmpOthers(self) -> None:
        """GetBulk with non-repeaters, a v1 SET, an SNMPv2-Trap, a v1 noSuchName with a negative request-id."""
        self.assertBothWays(PYSNMP_BULK, Message(snmp.V2C, b"public", PDU(snmp.GET_BULK, 1, 1, 25, (
            VarBind((1, 3, 6, 1, 2, 1, 1, 3, 0)), VarBind((1, 3, 6, 1, 2, 1, 43, 11, 1, 1))))))
        self.assertBothWays(PYSNMP_V1_SET, Message(snmp.V1, b"private", PDU(snmp.SET, 300, 0, 0, (
            VarBind((1, 3, 6, 1, 2, 1, 1, 4, 0), Value(snmp.OCTET_STRING, b"ops@example.net")),))))
        self.assertBothWays(PYSNMP_TRAP, Message(snmp.V2C, b"public", PDU(snmp.TRAP_V2, 5, 0, 0, (
            VarBind((1, 3, 6, 1, 2, 1, 1, 3, 0), Value(snmp.TIMETICKS, 12345)),
            VarBind((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0), Value(snmp.OBJECT_IDENTIFIER, (1, 3, 6, 1, 2, 1, 43, 18, 2, 0, 1))),
        ))))
        self.assertBothWays(PYSNMP_V1_ERROR, Message(snmp.V1, b"public", PDU(snmp.RESPONSE, -5, 2, 1, (
            VarBind((1, 3, 6, 1, 2, 1, 1, 99, 0)),))))
        self.assertEqual(snmp.errorStatusName(2), "noSuchName")

    def test_nonMinimalAccepted(self) -> None:
        """
        BER allows padded integers and long-form lengths (pysnmp pads
        -2**31 to five octets); they are read, and written back minimal.
        """
        self.assertEqual(decode(withValue(b"\x02\x05\xff\x80\x00\x00\x00")).pdu.varBinds[0].value.value, -(1 << 31))
        padded = withValue(b"\x41\x03\x00\x00\x05")
        self.assertEqual(decode(padded).pdu.varBinds[0].value, Value(snmp.COUNTER32, 5))
        longLength = withValue(b"\x04\x81\x02ab")
        self.assertEqual(decode(longLength).pdu.varBinds[0].value.value, b"ab")
        self.assertEqual(encode(decode(longLength)), withValue(b"\x04\x02ab"))

    def test_integerEncodings(self) -> None:
        """Minimal two's complement at each edge."""
        for n, raw in [(0, "00"), (127, "7f"), (128, "0080"), (-128, "80"), (-129, "ff7f"), (-1, "ff"),
                       (255, "00ff"), (2147483647, "7fffffff"), (-2147483648, "80000000")]:
            wire = withValue(b"\x02" + bytes([len(raw) // 2]) + bytes.fromhex(raw))
            self.assertEqual(response(VarBind(SYS_DESCR, Value(snmp.INTEGER, n))), wire, n)
            self.assertEqual(decode(wire).pdu.varBinds[0].value.value, n)

    def test_unknownApplicationType(self) -> None:
        """An application type this module does not know (UInteger32, 0x47) keeps its octets both ways."""
        wire = withValue(b"\x47\x02\x01\x02")
        self.assertEqual(decode(wire).pdu.varBinds[0].value, Value(0x47, b"\x01\x02"))
        self.assertEqual(encode(decode(wire)), wire)

    def test_oidText(self) -> None:
        """OIDs in text: ASCII digits only, an optional leading dot, the X.660 rules on the first two arcs."""
        self.assertEqual(parseOID(".1.3.6.1.2.1.1.1.0"), SYS_DESCR)
        self.assertEqual(snmp.formatOID(parseOID("0.0")), "0.0")
        self.assertTrue(snmp.inSubtree(SYS_DESCR, (1, 3, 6, 1, 2, 1, 1)))
        self.assertFalse(snmp.inSubtree((1, 3, 6, 1, 2, 1, 10), (1, 3, 6, 1, 2, 1, 1)))
        for text in ["", "1", "1.3.", "1..3", "3.1", "1.40", "1.3.-1", "1.3.4294967296", "1.3.\u0661", "1.3. 6",
                     ".".join(["1"] * 129)]:
            self.assertRaises(SNMPError, parseOID, text)
        self.assertEqual(len(parseOID(".".join(["1"] * 128))), 128)


class MalformedTests(unittest.TestCase):
    def assertRefused(self, data: bytes, reason: str, limits: Limits = snmp.DEFAULT_LIMITS) -> None:
        e = self.assertRaises(SNMPError, decode, data, limits)
        self.assertIn(reason, str(e))

    def test_truncatedEverywhere(self) -> None:
        """Every proper prefix of every vector is refused with L{SNMPError}, never anything else."""
        for wire in (PYSNMP_RESPONSE, SNMPSIM_GET_ANSWER, PYSNMP_TRAP, NETSNMP_BULK):
            for n in range(len(wire)):
                self.assertRaises(SNMPError, decode, wire[:n])

    def test_lengths(self) -> None:
        """Indefinite, over-long, beyond the end, and trailing octets."""
        self.assertRefused(b"\x30\x80" + NETSNMP_GET[2:] + b"\x00\x00", "indefinite length")
        self.assertRefused(b"\x30\x85\x00\x00\x00\x00\x34" + NETSNMP_GET[2:], "length of 5 octets")
        self.assertRefused(b"\x30\x84\xff\xff\xff\xff" + NETSNMP_GET[2:], "left")
        self.assertRefused(b"\x30\x33" + NETSNMP_GET[2:], "left")
        self.assertRefused(NETSNMP_GET + b"\x00", "1 octets after the message")
        self.assertRefused(withValue(b"\x04\x01a\x05\x00"), "2 octets after a binding's value")

    def test_caps(self) -> None:
        """The message size and the bindings of a PDU are capped."""
        self.assertRefused(PYSNMP_RESPONSE, "exceeds the cap of 100", Limits(maxMessage=100))
        self.assertRefused(PYSNMP_RESPONSE, "more than 11 variable bindings", Limits(maxVarBinds=11))

    def test_structure(self) -> None:
        """Wrong tags, versions, PDU types and multi-octet tags."""
        self.assertRefused(b"\x31" + NETSNMP_GET[1:], "has tag 0x31")
        self.assertRefused(NETSNMP_GET[:4] + b"\x03" + NETSNMP_GET[5:], "version 3 is not")
        self.assertRefused(NETSNMP_GET[:22] + b"\xa4" + NETSNMP_GET[23:], "PDU tag 0xa4")
        self.assertRefused(NETSNMP_GET[:22] + b"\xbf" + NETSNMP_GET[23:], "multi-octet tag")
        self.assertRefused(NETSNMP_BULK[:4] + b"\x00" + NETSNMP_BULK[5:], "GetBulkRequest in an SNMPv1 message")
        self.assertRefused(PYSNMP_V1_ERROR.replace(b"\x02\x01\x02\x02\x01\x01", b"\x02\x01\x13\x02\x01\x01"),
                           "error-status 19 outside 0..18")
        self.assertRefused(withValue(b"\x30\x00"), "tag 0x30 is not an SNMP value")
        self.assertRefused(withValue(b"\x24\x00"), "tag 0x24 is not an SNMP value")

    def test_values(self) -> None:
        """Each type's own rules: sizes, ranges, versions."""
        cases = [
            (b"\x02\x00", "INTEGER of 0 octets"),
            (b"\x02\x05\x00\x80\x00\x00\x00", "INTEGER 2147483648 outside"),
            (b"\x41\x04\xff\xff\xff\xff", "Counter32 -1 outside"),
            (b"\x43\x05\x01\x00\x00\x00\x00", "TimeTicks 4294967296 outside"),
            (b"\x46\x0a" + b"\x00" * 10, "Counter64 of 10 octets"),
            (b"\x46\x09\x01" + b"\x00" * 8, "Counter64 18446744073709551616 outside"),
            (b"\x40\x03\x0a\x00\x00", "IpAddress of 3 octets"),
            (b"\x05\x01\x00", "NULL with 1 content octets"),
            (b"\x81\x01\x00", "noSuchInstance with 1 content octets"),
            (b"\x06\x00", "an empty OBJECT IDENTIFIER"),
            (b"\x06\x02\x2b\x86", "last sub-identifier is cut"),
            (b"\x06\x03\x2b\x80\x01", "leading 0x80"),
            (b"\x06\x06\x2b\x90\x80\x80\x80\x00", "an OID arc above 4294967295"),
            (tlv(0x06, b"\x2b" + b"\x01" * 127), "more than 128 arcs"),
        ]
        for raw, reason in cases:
            self.assertRefused(withValue(raw), reason)
        self.assertRefused(withValue(b"\x46\x01\x01", snmp.V1), "Counter64 in an SNMPv1 message")
        self.assertRefused(withValue(b"\x82\x00", snmp.V1), "endOfMibView in an SNMPv1 message")
        self.assertEqual(len(decode(withValue(tlv(0x06, b"\x2b" + b"\x01" * 126))).pdu.varBinds[0].value.value), 128)
        top = withValue(b"\x06\x05\x90\x80\x80\x80\x4f")  # the first sub-identifier is 80 + 2**32 - 1
        self.assertEqual(decode(top).pdu.varBinds[0].value.value, (2, 0xFFFFFFFF))
        self.assertEqual(encode(decode(top)), top)
        self.assertRefused(withValue(b"\x06\x05\x90\x80\x80\x80\x50"), "an OID arc above 4294967295")

    def test_encodeRefusals(self) -> None:
        """What cannot be sent is an L{SNMPError} before a datagram exists."""
        def bad(value: Value, version: int = snmp.V2C) -> SNMPError:
            return self.assertRaises(SNMPError, encode, Message(version, b"c", PDU(snmp.SET, 1, 0, 0, (
                VarBind(SYS_DESCR, value),))))

        bad(Value(snmp.INTEGER, 1 << 31))
        bad(Value(snmp.INTEGER, True))
        bad(Value(snmp.COUNTER32, -1))
        bad(Value(snmp.COUNTER64, 5), snmp.V1)
        bad(Value(snmp.NO_SUCH_OBJECT), snmp.V1)
        bad(Value(snmp.IP_ADDRESS, "10.0.0"))
        bad(Value(snmp.OCTET_STRING, "text, not bytes"))
        bad(Value(snmp.OBJECT_IDENTIFIER, (3, 1)))
        bad(Value(0x30, b""))
        self.assertRaises(SNMPError, encode, Message(snmp.V1, b"c", PDU(snmp.GET_BULK, 1)))
        self.assertRaises(SNMPError, encode, Message(snmp.V2C, b"c", PDU(snmp.GET, 1, 0, 0, (VarBind((1,)),))))
        self.assertRaises(SNMPError, encode, Message(snmp.V2C, "c", PDU(snmp.GET, 1)))  # type: ignore[arg-type]
