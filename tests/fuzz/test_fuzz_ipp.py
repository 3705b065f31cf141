"""
Fuzz the IPP codec (L{proxier.printer.ipp}): a printer's answer is read
into an L{ipp.IPPMessage} or refused with L{ipp.IPPError}, never another
exception; what was read encodes again and reads back to the same message
(the fake printer of the unit tests relies on both directions agreeing).
"""

from __future__ import annotations

import struct

from twisted.trial import unittest

from proxier.printer import ipp
from tests.fuzz._harness import Target, assertFuzzClean

# Tags, lengths that lie, collection delimiters, extended tags.
_TOKENS = (
    b"\x01", b"\x02", b"\x03", b"\x04", b"\x05", b"\x0a", b"\x0f", b"\x10", b"\x13", b"\x17",
    b"\x21\x00\x01a\x00\x04", b"\x22\x00\x00\x00\x01\x01", b"\x31\x00\x00\x00\x0b", b"\x32\x00\x00\x00\x09",
    b"\x33\x00\x00\x00\x08", b"\x34\x00\x00\x00\x00", b"\x37\x00\x00\x00\x00", b"\x4a\x00\x00\x00\x01m",
    b"\x35\x00\x00\x00\x06\x00\x02en\x00\x00", b"\x7f\x00\x00\x00\x04\x00\x00\x00\x01", b"\x44\x00\x00\x00\x00",
    b"\xff\xff", b"\x7f\xff", b"\x80\x00", b"\x00\x00", b"\x00\x01", b"\x00\x04",
)


def roundTrip(data: bytes) -> None:
    """L{ipp.decode}; then encode → decode gives the same groups, values and data."""
    message = ipp.decode(data)
    again = ipp.decode(ipp.encode(message))
    assert again.groups == message.groups, (again.groups, message.groups)
    assert (again.code, again.requestId, again.version, again.data) == (
        message.code, message.requestId, message.version, message.data)
    assert again.duplicates == []


def _attr(tag: int, name: bytes, raw: bytes) -> bytes:
    return bytes([tag]) + struct.pack(">H", len(name)) + name + struct.pack(">H", len(raw)) + raw


def _seeds() -> list[bytes]:
    from tests.test_printer_ipp import VECTORS, _collectionWire

    request = ipp.encode(ipp.request(0x0B, 1, [
        ("printer-uri", ipp.value("uri", "ipp://127.0.0.1:631/ipp/print")),
        ("requested-attributes", [ipp.value("keyword", "all"), ipp.value("keyword", "media-col-database")]),
    ]))
    every = b"".join(_attr(tag, b"a%d" % tag, raw) for tag, raw, _ in VECTORS)
    answer = (b"\x02\x00\x00\x00\x00\x00\x00\x01\x01" + _attr(0x47, b"attributes-charset", b"utf-8")
              + b"\x04" + every + _attr(0x41, b"printer-organization", b"") + _attr(0x41, b"printer-organization", b"x")
              + b"\x05" + _attr(0x10, b"printer-geo-location", b"") + b"\x03")
    return [request, answer, _collectionWire(), b"\x02\x00\x04\x13\x00\x00\x00\x02\x01\x03"]


TARGETS = [
    Target("ipp-message", __name__, roundTrip, (ipp.IPPError,), _seeds, _TOKENS),
]


class IPPFuzzTests(unittest.TestCase):
    def test_message(self) -> None:
        """
        Mutated IPP requests and responses (every value tag, collections,
        duplicates, out-of-band values) are decoded — and then encode and
        decode back to the same message — or refused with L{ipp.IPPError},
        within a second each.
        """
        assertFuzzClean(self, TARGETS[0])
