"""
Fuzz the value parsers (L{proxier.datamodel._tr106time},
L{proxier.datamodel.types}, L{proxier.asciinum}): a dateTime, a typed value
or a number from an ACS or a device is read or refused with the documented
error (C{ValueError}; from L{types.acceptValue}, a L{CWMPFault}), what is
read can be written back and read again (issue 11, item 3:
C{99999999999-01-01T00:00:00Z}), and a number is read exactly when it is
ASCII digits (item 4).
"""

from __future__ import annotations

import datetime

from twisted.trial import unittest

from proxier import asciinum
from proxier.datamodel import types as T
from proxier.datamodel._tr106time import formatDateTime, parseDateTime
from proxier.datamodel.faults import CWMPFault
from tests.fuzz._harness import Target, assertFuzzClean

_TOKENS = (
    b"T", b"Z", b"+", b"-", b":", b".", b"+14:00", b"-23:59", b"+24:00", b"+99:99", b"0001-01-01T00:00:00Z",
    b"9999-12-31T23:59:59Z", b"99999999999-01-01T00:00:00Z", b"-0001-01-01T00:00:00Z", b"T24:00:00",
    b":60", b"." + b"9" * 40, b"true", b"false", b"TRUE", b"1", b"0", b"aGVsbG8=", b"====", b"00ff10", b"0xff",
    b",", b",,", b", ", b"xsd:string", b"xsd:int", b"xsd:unsignedInt", b"xsd:long", b"xsd:unsignedLong",
    b"xsd:boolean", b"xsd:dateTime", b"xsd:base64", b"xsd:hexBinary", b"xs:", b"SOAP-ENC:", b"cwmp:struct",
    b"-9223372036854775809", b"18446744073709551616", b"2147483648", b"-2147483649", b"\xc2\xa0", b"\xe3\x80\x80",
    b"\xef\xbc\x91", b"\xd9\xa1", b"\xc2\xb2",
)

# The types a value is checked against: every TR-106 base type, with and
# without facets, as the data models declare them.
TYPES: tuple[T.DataType, ...] = (
    T.String(), T.String(16), T.String(patterns=("[0-9A-F]{6}",)), T.Enumeration(("Upload", "Download", "Both")),
    T.Int(), T.Int(-10, 10), T.UnsignedInt(), T.UnsignedInt(ranges=((1, 5), (100, None))), T.Long(),
    T.UnsignedLong(), T.Boolean(), T.DateTime(), T.Base64(), T.Base64(8), T.HexBinary(), T.HexBinary(4),
    T.ListOf(T.UnsignedInt()), T.ListOf(T.String(), maxItems=3), T.ListOf(T.DateTime()), T.ListOf(T.Int(),
                                                                                                  maxLength=20),
)


def parseTime(data: bytes) -> None:
    """L{parseDateTime}, then L{formatDateTime} of what it read, which must read again."""
    value = parseDateTime(data.decode("utf-8", "replace"))
    assert isinstance(value, datetime.datetime) and value.tzinfo is not None, repr(value)
    text = formatDateTime(value)
    parseDateTime(text)


def _split(data: bytes) -> tuple[T.DataType, str, str]:
    index, _, rest = data.partition(b"\n")
    xsiType, _, text = rest.partition(b"\n")
    number = int(index) if index.isdigit() and index.isascii() and len(index) < 4 else 0
    return TYPES[number % len(TYPES)], xsiType.decode("utf-8", "replace"), text.decode("utf-8", "replace")


def acceptValue(data: bytes) -> None:
    """
    L{T.acceptValue} (type index, C{xsi:type} and text on three lines), as a
    SetParameterValues entry is checked; an accepted value is written back
    with C{format} and reads again as the same value.
    """
    dataType, xsiType, text = _split(data)
    value = T.acceptValue(dataType, text, xsiType)
    wire = dataType.format(value)
    again = dataType.parse(wire)
    if not isinstance(dataType, (T.DateTime, T.ListOf)):
        assert again == value, f"{text!r} read as {value!r}, written {wire!r}, read again as {again!r}"


def _asciiNumber(text: str, signed: bool) -> bool:
    body = text[1:] if signed and text[:1] in ("+", "-") else text
    return 0 < len(body) <= asciinum.MAX_DIGITS and all("0" <= c <= "9" for c in body)


def parseNumber(data: bytes) -> None:
    """
    L{asciinum.parseUnsigned}, L{asciinum.parseSigned} and
    L{asciinum.isUnsigned} against the rule they stand for: C{[0-9]+}
    (with an optional sign for the signed reading), at most
    L{asciinum.MAX_DIGITS} digits, read as base 10.
    """
    text = data.decode("utf-8", "replace")
    for signed, parse in ((False, asciinum.parseUnsigned), (True, asciinum.parseSigned)):
        expected = _asciiNumber(text, signed)
        try:
            value = parse(text)
        except ValueError:
            assert not expected, f"{parse.__name__} refused {text!r}"
        else:
            assert expected and value == int(text, 10), f"{parse.__name__} read {text!r} as {value!r}"
    assert asciinum.isUnsigned(text) == _asciiNumber(text, False), f"isUnsigned({text!r})"
    asciinum.isUnsigned(data)


def _numberSeeds() -> list[bytes]:
    return [b"0", b"7", b"1800", b"4294967295", b"18446744073709551615", b"-5", b"+12", b"00012"]


def _timeSeeds() -> list[bytes]:
    from tests.test_datamodel_types import PARSE_FORMAT

    rows = [text.encode() for dataType, text, _, _ in PARSE_FORMAT if isinstance(dataType, T.DateTime)]
    return rows + [b"2024-05-01T12:00:00.123456789-05:30", b"0001-01-01T00:00:00Z", b"0999-01-01T00:00:00",
                   b"9999-12-31T23:59:60Z"]


def _valueSeeds() -> list[bytes]:
    from tests.test_datamodel_types import PARSE_FORMAT

    out = []
    for dataType, text, _, _ in PARSE_FORMAT:
        index = next((i for i, t in enumerate(TYPES) if type(t) is type(dataType)), 0)
        out.append(f"{index}\n{dataType.xsiType}\n{text}".encode())
    return out


TARGETS = [
    Target("datetime", __name__, parseTime, (ValueError,), _timeSeeds, _TOKENS),
    Target("types", __name__, acceptValue, (CWMPFault,), _valueSeeds, _TOKENS),
    Target("asciinum", __name__, parseNumber, (), _numberSeeds, _TOKENS),
]


class TypesFuzzTests(unittest.TestCase):
    def test_dateTime(self) -> None:
        """
        Mutated dateTimes read as aware datetimes or fail with
        C{ValueError} (never C{OverflowError}), and what is read is written
        as a dateTime that reads again.
        """
        assertFuzzClean(self, TARGETS[0])

    def test_values(self) -> None:
        """
        Mutated values of every TR-106 type, with mutated C{xsi:type}s, are
        accepted or answered with a L{CWMPFault}; an accepted value is
        written back and reads again as the same value.
        """
        assertFuzzClean(self, TARGETS[1])

    def test_numbers(self) -> None:
        """
        Mutated numbers (Unicode digits, signs, white space, underscores,
        thousands of digits) are read by L{asciinum} exactly when they are
        ASCII digits within its length bound, as base 10.
        """
        assertFuzzClean(self, TARGETS[2])
