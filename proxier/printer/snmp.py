# -*- test-case-name: tests.test_printer_snmp -*-
"""
The SNMPv1 and SNMPv2c message encoding (RFC 1157, RFC 3416, RFC 3417 on
the BER of X.690), sans-IO: C{bytes} in, L{Message} out, and back.

Both directions exist because the client sends requests and reads
responses, and the fake agent of the unit tests does the reverse. No
pysnmp at run time (PRINTERS.md §7): its current releases need a newer
pyasn1 than Debian 12 has, and its Debian 12 release another API.

PDUs: GetRequest, GetNextRequest, Response, SetRequest, GetBulkRequest,
InformRequest, SNMPv2-Trap and Report (one layout; a GetBulkRequest's
non-repeaters and max-repetitions sit where the others have error-status
and error-index). The v1 Trap-PDU (another layout) and SNMPv3 are refused.

Values are L{Value}s: a tag and a Python value — C{int} for INTEGER,
Counter32, Gauge32, TimeTicks and Counter64; C{bytes} for OCTET STRING and
Opaque (its inner encoding left alone); C{None} for NULL and the v2
exceptions noSuchObject, noSuchInstance and endOfMibView; a tuple of arcs
for OBJECT IDENTIFIER; C{"a.b.c.d"} for IpAddress. Another primitive
application-class tag keeps its raw octets and is written back unchanged.

B{Strict and bounded}: one-octet tags, definite lengths of at most four
length octets, no length past what is left, nothing after the message or
inside a sequence after its last element; the input length
(L{Limits.maxMessage}), the bindings of one PDU, the arcs of an OID (128,
RFC 2578 §3.5) and each arc (32 bits); every integer within its type's
range (a Counter32 sent as a negative number is refused, not wrapped);
Counter64 and the exceptions only in v2c. Nothing recursive is read: the
nesting is the fixed message → PDU → bindings → binding → value, and a
constructed encoding where a value is expected is refused. A malformed,
truncated or oversized message raises L{SNMPError} (a C{ValueError})
whose text says where and why; nothing else escapes L{decode}.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from proxier.asciinum import parseUnsigned

__all__ = [
    "SNMPError", "Limits", "Value", "VarBind", "PDU", "Message", "decode", "encode",
    "parseOID", "formatOID", "inSubtree", "errorStatusName", "NULL_VALUE",
    "V1", "V2C", "INTEGER", "OCTET_STRING", "NULL", "OBJECT_IDENTIFIER", "IP_ADDRESS", "COUNTER32",
    "GAUGE32", "TIMETICKS", "OPAQUE", "COUNTER64", "NO_SUCH_OBJECT", "NO_SUCH_INSTANCE", "END_OF_MIB_VIEW",
    "EXCEPTIONS", "GET", "GET_NEXT", "RESPONSE", "SET", "GET_BULK", "INFORM", "TRAP_V2", "REPORT",
]

V1, V2C = 0, 1  # the version field of RFC 1157 and RFC 1901

INTEGER, OCTET_STRING, NULL, OBJECT_IDENTIFIER = 0x02, 0x04, 0x05, 0x06
IP_ADDRESS, COUNTER32, GAUGE32, TIMETICKS, OPAQUE, COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x44, 0x46
NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW = 0x80, 0x81, 0x82
EXCEPTIONS = frozenset((NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW))

GET, GET_NEXT, RESPONSE, SET, TRAP_V1, GET_BULK, INFORM, TRAP_V2, REPORT = range(0xA0, 0xA9)
_V2_ONLY_PDUS = frozenset((GET_BULK, INFORM, TRAP_V2, REPORT))
_PDU_NAMES = {GET: "GetRequest", GET_NEXT: "GetNextRequest", RESPONSE: "Response", SET: "SetRequest",
              GET_BULK: "GetBulkRequest", INFORM: "InformRequest", TRAP_V2: "SNMPv2-Trap", REPORT: "Report"}

_INT32 = (-(1 << 31), (1 << 31) - 1)
_UINT32 = (0, (1 << 32) - 1)
_RANGES = {INTEGER: _INT32, COUNTER32: _UINT32, GAUGE32: _UINT32, TIMETICKS: _UINT32, COUNTER64: (0, (1 << 64) - 1)}
_TYPE_NAMES = {INTEGER: "INTEGER", OCTET_STRING: "OCTET STRING", NULL: "NULL", OBJECT_IDENTIFIER: "OBJECT IDENTIFIER",
               IP_ADDRESS: "IpAddress", COUNTER32: "Counter32", GAUGE32: "Gauge32", TIMETICKS: "TimeTicks",
               OPAQUE: "Opaque", COUNTER64: "Counter64", NO_SUCH_OBJECT: "noSuchObject",
               NO_SUCH_INSTANCE: "noSuchInstance", END_OF_MIB_VIEW: "endOfMibView"}

# RFC 3416 §3 error-status (0-5 are RFC 1157's as well)
ERROR_STATUS = ("noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType",
                "wrongLength", "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue",
                "resourceUnavailable", "commitFailed", "undoFailed", "authorizationError", "notWritable",
                "inconsistentName")

MAX_ARCS = 128  # RFC 2578 §3.5
_MAX_ARC = (1 << 32) - 1


class SNMPError(ValueError):
    """A message that is not valid SNMPv1/v2c BER, or exceeds a cap; C{str()} says why."""


@dataclass(frozen=True)
class Limits:
    """
    What L{decode} accepts.

    @ivar maxMessage: octets of one message (a UDP payload is at most 65507).
    @ivar maxVarBinds: variable bindings in one PDU.
    """

    maxMessage: int = 65507
    maxVarBinds: int = 2048


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Value:
    """One value with its BER tag; see the module docstring for the Python type of each tag."""

    tag: int
    value: Any = None

    @property
    def isException(self) -> bool:
        """noSuchObject, noSuchInstance or endOfMibView (RFC 3416 §4.2.1)."""
        return self.tag in EXCEPTIONS

    @property
    def typeName(self) -> str:
        return _TYPE_NAMES.get(self.tag, f"tag 0x{self.tag:02x}")


NULL_VALUE = Value(NULL)


@dataclass(frozen=True)
class VarBind:
    oid: tuple[int, ...]
    value: Value = NULL_VALUE


@dataclass(frozen=True)
class PDU:
    """
    A PDU of the common layout (RFC 3416 §3).

    @ivar errorStatus: for a GetBulkRequest, its non-repeaters.
    @ivar errorIndex: for a GetBulkRequest, its max-repetitions.
    """

    tag: int
    requestId: int
    errorStatus: int = 0
    errorIndex: int = 0
    varBinds: tuple[VarBind, ...] = ()

    @property
    def name(self) -> str:
        return _PDU_NAMES.get(self.tag, f"PDU 0x{self.tag:02x}")


@dataclass(frozen=True)
class Message:
    version: int
    community: bytes
    pdu: PDU


def errorStatusName(status: int) -> str:
    return ERROR_STATUS[status] if 0 <= status < len(ERROR_STATUS) else f"error-status {status}"


def parseOID(text: str) -> tuple[int, ...]:
    """C{"1.3.6.1.2.1.1.1.0"} (a leading dot allowed) → arcs; L{SNMPError} for anything else."""
    parts = text[1:].split(".") if text.startswith(".") else text.split(".")
    try:
        arcs = tuple(parseUnsigned(part, _MAX_ARC, maxDigits=10, what="OID arc") for part in parts)
    except ValueError as e:
        raise SNMPError(f"OID {text[:80]!r}: {e}") from None
    _checkOID(arcs)
    return arcs


def formatOID(oid: tuple[int, ...]) -> str:
    return ".".join(map(str, oid))


def inSubtree(oid: tuple[int, ...], subtree: tuple[int, ...]) -> bool:
    return oid[:len(subtree)] == subtree


def _checkOID(arcs: tuple[int, ...]) -> None:
    if not 2 <= len(arcs) <= MAX_ARCS:
        raise SNMPError(f"an OID has 2 to {MAX_ARCS} arcs, not {len(arcs)}")
    if any(not isinstance(a, int) or isinstance(a, bool) or not 0 <= a <= _MAX_ARC for a in arcs):
        raise SNMPError(f"OID {'.'.join(map(str, arcs))[:80]}: an arc is not a whole number in 0..{_MAX_ARC}")
    if arcs[0] > 2 or (arcs[0] < 2 and not 0 <= arcs[1] <= 39):
        raise SNMPError(f"OID {formatOID(arcs[:2])}...: the first arc is 0, 1 or 2, the second below 40 under 0 and 1")


# ---------------------------------------------------------------- decoding


def _header(data: bytes, pos: int, end: int, what: str) -> tuple[int, int, int]:
    """The tag, content start and content end of the encoding at C{pos} (which must end by C{end})."""
    if pos >= end:
        raise SNMPError(f"truncated at octet {pos}: {what} missing")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise SNMPError(f"octet {pos}: {what} has a multi-octet tag")
    if pos + 1 >= end:
        raise SNMPError(f"truncated at octet {pos + 1}: the length of {what}")
    first, p = data[pos + 1], pos + 2
    if first == 0x80:
        raise SNMPError(f"octet {pos + 1}: {what} has an indefinite length")
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n > 4:
            raise SNMPError(f"octet {pos + 1}: {what} has a length of {n} octets")
        if p + n > end:
            raise SNMPError(f"truncated at octet {p}: the length of {what}")
        length, p = int.from_bytes(data[p:p + n], "big"), p + n
    if length > end - p:
        raise SNMPError(f"octet {pos}: {what} of {length} octets, {end - p} left")
    return tag, p, p + length


def _expect(data: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    got, start, stop = _header(data, pos, end, what)
    if got != tag:
        raise SNMPError(f"octet {pos}: {what} has tag 0x{got:02x}, not 0x{tag:02x}")
    return start, stop


def _integer(raw: bytes, at: int, what: str, bounds: tuple[int, int]) -> int:
    if not 1 <= len(raw) <= 9:
        raise SNMPError(f"octet {at}: {what} of {len(raw)} octets")
    n = int.from_bytes(raw, "big", signed=True)
    if not bounds[0] <= n <= bounds[1]:
        raise SNMPError(f"octet {at}: {what} {n} outside {bounds[0]}..{bounds[1]}")
    return n


def _readInteger(data: bytes, pos: int, end: int, what: str, bounds: tuple[int, int]) -> tuple[int, int]:
    start, stop = _expect(data, pos, end, INTEGER, what)
    return _integer(data[start:stop], pos, what, bounds), stop


def _decodeOID(raw: bytes, at: int) -> tuple[int, ...]:
    if not raw:
        raise SNMPError(f"octet {at}: an empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    n, fresh = 0, True
    for octet in raw:
        if fresh and octet == 0x80:
            raise SNMPError(f"octet {at}: an OID sub-identifier with a leading 0x80")
        n = (n << 7) | (octet & 0x7F)
        if n > (_MAX_ARC if arcs else _MAX_ARC + 80):  # the first sub-identifier is 40 * X + Y
            raise SNMPError(f"octet {at}: an OID arc above {_MAX_ARC}")
        fresh = not octet & 0x80
        if fresh:
            if len(arcs) + 2 > MAX_ARCS:
                raise SNMPError(f"octet {at}: an OID of more than {MAX_ARCS} arcs")
            arcs.append(n)
            n = 0
    if not fresh:
        raise SNMPError(f"octet {at}: an OID whose last sub-identifier is cut")
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return head + tuple(arcs[1:])


def _decodeValue(tag: int, raw: bytes, at: int, version: int) -> Value:
    if tag in _RANGES:
        if tag == COUNTER64 and version == V1:
            raise SNMPError(f"octet {at}: Counter64 in an SNMPv1 message")
        return Value(tag, _integer(raw, at, _TYPE_NAMES[tag], _RANGES[tag]))
    if tag in (OCTET_STRING, OPAQUE):
        return Value(tag, raw)
    if tag == OBJECT_IDENTIFIER:
        return Value(tag, _decodeOID(raw, at))
    if tag == IP_ADDRESS:
        if len(raw) != 4:
            raise SNMPError(f"octet {at}: an IpAddress of {len(raw)} octets, not 4")
        return Value(tag, ".".join(map(str, raw)))
    if tag == NULL or tag in EXCEPTIONS:
        if raw:
            raise SNMPError(f"octet {at}: {_TYPE_NAMES[tag]} with {len(raw)} content octets")
        if tag != NULL and version == V1:
            raise SNMPError(f"octet {at}: {_TYPE_NAMES[tag]} in an SNMPv1 message")
        return Value(tag)
    if tag & 0xE0 == 0x40:
        return Value(tag, raw)  # another application type (NsapAddress, UInteger32): kept as it is
    raise SNMPError(f"octet {at}: tag 0x{tag:02x} is not an SNMP value")


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Message:
    """
    Read one SNMPv1 or SNMPv2c message.

    @raise SNMPError: malformed, truncated, or over a cap of C{limits}.
    """
    if len(data) > limits.maxMessage:
        raise SNMPError(f"message of {len(data)} octets exceeds the cap of {limits.maxMessage}")
    data = bytes(data)
    pos, end = _expect(data, 0, len(data), 0x30, "the message")
    if end != len(data):
        raise SNMPError(f"{len(data) - end} octets after the message")
    version, pos = _readInteger(data, pos, end, "version", _INT32)
    if version not in (V1, V2C):
        raise SNMPError(f"version {version} is not SNMPv1 (0) or SNMPv2c (1)")
    start, pos = _expect(data, pos, end, OCTET_STRING, "community")
    community = data[start:pos]
    at = pos
    tag, pos, pduEnd = _header(data, pos, end, "the PDU")
    if pduEnd != end:
        raise SNMPError(f"{end - pduEnd} octets after the PDU")
    if tag not in _PDU_NAMES:
        raise SNMPError(f"octet {at}: PDU tag 0x{tag:02x} is not a v1/v2c PDU of the common layout")
    if version == V1 and tag in _V2_ONLY_PDUS:
        raise SNMPError(f"octet {at}: {_PDU_NAMES[tag]} in an SNMPv1 message")
    requestId, pos = _readInteger(data, pos, pduEnd, "request-id", _INT32)
    bounds = (0, _INT32[1]) if tag == GET_BULK else (0, len(ERROR_STATUS) - 1)
    errorStatus, pos = _readInteger(data, pos, pduEnd, "error-status", bounds)
    errorIndex, pos = _readInteger(data, pos, pduEnd, "error-index", (0, _INT32[1]))
    pos, listEnd = _expect(data, pos, pduEnd, 0x30, "the variable bindings")
    if listEnd != pduEnd:
        raise SNMPError(f"{pduEnd - listEnd} octets after the variable bindings")
    varBinds: list[VarBind] = []
    while pos < listEnd:
        if len(varBinds) >= limits.maxVarBinds:
            raise SNMPError(f"more than {limits.maxVarBinds} variable bindings")
        at = pos
        pos, bindEnd = _expect(data, pos, listEnd, 0x30, "a variable binding")
        start, pos = _expect(data, pos, bindEnd, OBJECT_IDENTIFIER, "a binding's name")
        oid = _decodeOID(data[start:pos], start)
        valueAt = pos
        valueTag, start, pos = _header(data, pos, bindEnd, "a binding's value")
        if pos != bindEnd:
            raise SNMPError(f"octet {at}: {bindEnd - pos} octets after a binding's value")
        varBinds.append(VarBind(oid, _decodeValue(valueTag, data[start:pos], valueAt, version)))
    return Message(version, community, PDU(tag, requestId, errorStatus, errorIndex, tuple(varBinds)))


# ---------------------------------------------------------------- encoding


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = (n.bit_length() + 7) // 8
    if size > 4:
        raise SNMPError(f"{n} octets cannot be encoded")
    return bytes((tag, 0x80 | size)) + n.to_bytes(size, "big") + content


def _encodeInteger(tag: int, n: Any, bounds: tuple[int, int], what: str) -> bytes:
    if not isinstance(n, int) or isinstance(n, bool) or not bounds[0] <= n <= bounds[1]:
        raise SNMPError(f"{what} {repr(n)[:40]} is not a whole number in {bounds[0]}..{bounds[1]}")
    return _tlv(tag, n.to_bytes((n if n >= 0 else ~n).bit_length() // 8 + 1, "big", signed=True))


def _encodeOID(oid: Any) -> bytes:
    arcs = tuple(oid) if isinstance(oid, (tuple, list)) else ()
    _checkOID(arcs)
    out = bytearray()
    for arc in (arcs[0] * 40 + arcs[1],) + arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return _tlv(OBJECT_IDENTIFIER, bytes(out))


def _encodeValue(value: Value, version: int) -> bytes:
    tag, v = value.tag, value.value
    if version == V1 and (tag == COUNTER64 or tag in EXCEPTIONS):
        raise SNMPError(f"{value.typeName} cannot be sent in an SNMPv1 message")
    if tag in _RANGES:
        return _encodeInteger(tag, v, _RANGES[tag], _TYPE_NAMES[tag])
    if tag == OBJECT_IDENTIFIER:
        return _encodeOID(v)
    if tag == NULL or tag in EXCEPTIONS:
        return bytes((tag, 0))
    if tag == IP_ADDRESS:
        try:
            return _tlv(tag, ipaddress.IPv4Address(v).packed)
        except ValueError:
            raise SNMPError(f"IpAddress {repr(v)[:40]} is not an IPv4 address") from None
    if (tag in (OCTET_STRING, OPAQUE) or tag & 0xE0 == 0x40) and isinstance(v, (bytes, bytearray)):
        return _tlv(tag, bytes(v))
    raise SNMPError(f"cannot encode {type(v).__name__} as {value.typeName}")


def encode(message: Message) -> bytes:
    """
    Write one message, in the minimal encodings.

    @raise SNMPError: a value that cannot be encoded, a PDU or type that
        the version does not have.
    """
    pdu = message.pdu
    if message.version not in (V1, V2C):
        raise SNMPError(f"version {message.version} is not SNMPv1 (0) or SNMPv2c (1)")
    if pdu.tag not in _PDU_NAMES or (message.version == V1 and pdu.tag in _V2_ONLY_PDUS):
        raise SNMPError(f"{pdu.name} cannot be sent in SNMP version {message.version}")
    bindings = b"".join(_tlv(0x30, _encodeOID(b.oid) + _encodeValue(b.value, message.version))
                        for b in pdu.varBinds)
    status = (0, _INT32[1]) if pdu.tag == GET_BULK else (0, len(ERROR_STATUS) - 1)
    body = (_encodeInteger(INTEGER, pdu.requestId, _INT32, "request-id")
            + _encodeInteger(INTEGER, pdu.errorStatus, status, "error-status")
            + _encodeInteger(INTEGER, pdu.errorIndex, (0, _INT32[1]), "error-index")
            + _tlv(0x30, bindings))
    if not isinstance(message.community, (bytes, bytearray)):
        raise SNMPError(f"a community is bytes, not {type(message.community).__name__}")
    return _tlv(0x30, _encodeInteger(INTEGER, message.version, _INT32, "version")
                + _tlv(OCTET_STRING, bytes(message.community)) + _tlv(pdu.tag, body))
