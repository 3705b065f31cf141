"""Tests for L{proxier.asciinum}: numbers from outside are ASCII digits, bounded."""

from __future__ import annotations

from twisted.trial import unittest

from proxier.asciinum import MAX_DIGITS, isUnsigned, parseSigned, parseUnsigned

# What Python's own tests let through and no protocol here allows.
NOT_ASCII_NUMBERS = (
    "²", "①", "١٢٣", "۱۲", "１２", "𝟏", "1_000", " 12", "12 ", "\t1", "1\n", "+5", "-5", "", "0x10", "1e3",
    "1.0", "½", "Ⅻ", "12\x00", "nan", "inf",
)


class ParseUnsignedTests(unittest.TestCase):
    def test_asciiDigits(self) -> None:
        """C{[0-9]+} reads as its decimal value, leading zeros included."""
        self.assertEqual(parseUnsigned("0"), 0)
        self.assertEqual(parseUnsigned("007"), 7)
        self.assertEqual(parseUnsigned("4294967295"), 2**32 - 1)
        self.assertEqual(parseUnsigned(b"42"), 42)

    def test_refusesWhatIntAccepts(self) -> None:
        """Unicode digits, underscores, white space, signs and the like are refused with ValueError."""
        for text in NOT_ASCII_NUMBERS:
            self.assertRaises(ValueError, parseUnsigned, text)
            self.assertFalse(isUnsigned(text), repr(text))

    def test_maxValue(self) -> None:
        """A value above maxValue, or below minValue, is refused and the message says which."""
        self.assertEqual(parseUnsigned("10", 10), 10)
        e = self.assertRaises(ValueError, parseUnsigned, "11", 10, what="SEQ")
        self.assertIn("SEQ 11 is above 10", str(e))
        e = self.assertRaises(ValueError, parseUnsigned, "0", minValue=1, what="MX")
        self.assertIn("MX 0 is below 1", str(e))

    def test_maxDigits(self) -> None:
        """More digits than allowed are refused before any conversion (no huge ints, no slow parse)."""
        self.assertEqual(parseUnsigned("9" * MAX_DIGITS), int("9" * MAX_DIGITS))
        e = self.assertRaises(ValueError, parseUnsigned, "9" * 300, what="Retry-After")
        self.assertIn("more than 20 digits", str(e))
        self.assertIn("Retry-After", str(e))
        self.assertRaises(ValueError, parseUnsigned, "1" * 6, maxDigits=5)
        self.assertFalse(isUnsigned("1" * 6, maxDigits=5))
        self.assertTrue(isUnsigned("1" * 5, maxDigits=5))

    def test_messageNamesWhat(self) -> None:
        """The error says what was being read and shows the text (shortened when long)."""
        e = self.assertRaises(ValueError, parseUnsigned, "②", what="BOOTID.UPNP.ORG")
        self.assertIn("BOOTID.UPNP.ORG", str(e))
        self.assertIn("'②'", str(e))

    def test_notText(self) -> None:
        """Something that is not text at all is a ValueError too, never a TypeError."""
        self.assertRaises(ValueError, parseUnsigned, None)  # type: ignore[arg-type]
        self.assertRaises(ValueError, parseUnsigned, 12)  # type: ignore[arg-type]
        self.assertFalse(isUnsigned(None))  # type: ignore[arg-type]


class ParseSignedTests(unittest.TestCase):
    def test_sign(self) -> None:
        """A leading + or - is read where a sign is legal."""
        self.assertEqual(parseSigned("-5"), -5)
        self.assertEqual(parseSigned("+5"), 5)
        self.assertEqual(parseSigned("5"), 5)

    def test_refused(self) -> None:
        """Everything but C{[+-]?[0-9]+} is refused: no second sign, no Unicode digits, no spaces."""
        for text in ("--5", "+-5", "-", "+", "-²", "-١", " -5", "-5 ", "-1_0", ""):
            self.assertRaises(ValueError, parseSigned, text)

    def test_bounds(self) -> None:
        """minValue and maxValue bound the value; maxDigits counts digits, not the sign."""
        self.assertEqual(parseSigned("-2147483648", -(2**31), 2**31 - 1), -(2**31))
        self.assertRaises(ValueError, parseSigned, "-2147483649", -(2**31), 2**31 - 1)
        self.assertRaises(ValueError, parseSigned, "2147483648", -(2**31), 2**31 - 1)
        self.assertEqual(parseSigned("-" + "9" * 5, maxDigits=5), -99999)
        self.assertRaises(ValueError, parseSigned, "9" * 6, maxDigits=5)
        self.assertRaises(ValueError, parseSigned, "-" + "9" * 6, maxDigits=5)
