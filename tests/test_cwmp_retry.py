"""Tests for L{proxier.cwmp.retry}: TR-069 3.2.1.1 waits, Retry-After, periodic Inform times."""

from __future__ import annotations

import email.utils

from twisted.trial import unittest

from proxier.cwmp.retry import (
    DEFAULT_RETRY_TABLE,
    MAX_RETRY_AFTER,
    nextPeriodicInform,
    parseRetryAfter,
    retryDelay,
    retryWindow,
)


class RetryWaitTests(unittest.TestCase):
    def test_table3RowByRow(self) -> None:
        """With the defaults, each retry count gives the range of TR-069 Table 3."""
        for count, low, high in DEFAULT_RETRY_TABLE:
            self.assertEqual(retryWindow(count), (low, high), count)

    def test_exponentCapped(self) -> None:
        """Beyond ten retries the range stays the tenth's."""
        for count in (11, 12, 100, 10**6):
            self.assertEqual(retryWindow(count), retryWindow(10))

    def test_otherParameters(self) -> None:
        """m and k come from the settings: m=10, k=1500 gives 10·1.5^(n-1) .. 10·1.5^n."""
        self.assertEqual(retryWindow(1, 10, 1500), (10.0, 15.0))
        self.assertEqual(retryWindow(3, 10, 1500), (22.5, 33.75))
        self.assertEqual(retryWindow(4, 1, 1000), (1.0, 1.0))

    def test_delayWithinWindow(self) -> None:
        """The random delay spans the window from its lower to its upper bound."""
        self.assertEqual(retryDelay(2, random=lambda: 0.0), 10.0)
        self.assertEqual(retryDelay(2, random=lambda: 1.0), 20.0)
        self.assertEqual(retryDelay(2, random=lambda: 0.25), 12.5)


class RetryAfterTests(unittest.TestCase):
    NOW = 1_700_000_000.0

    def test_seconds(self) -> None:
        """Delay-seconds are read as such."""
        self.assertEqual(parseRetryAfter("120", self.NOW), 120.0)
        self.assertEqual(parseRetryAfter(" 0 ", self.NOW), 0.0)

    def test_httpDate(self) -> None:
        """An HTTP-date gives the seconds until then; a past date gives 0."""
        later = email.utils.formatdate(self.NOW + 300, usegmt=True)
        self.assertEqual(parseRetryAfter(later, self.NOW), 300.0)
        earlier = email.utils.formatdate(self.NOW - 300, usegmt=True)
        self.assertEqual(parseRetryAfter(earlier, self.NOW), 0.0)

    def test_capped(self) -> None:
        """A huge Retry-After is capped at a day."""
        self.assertEqual(parseRetryAfter("99999999", self.NOW), MAX_RETRY_AFTER)

    def test_cappedWithoutConversion(self) -> None:
        """Hundreds of ASCII digits are more than a day: capped, never a ValueError from int()."""
        self.assertEqual(parseRetryAfter("9" * 300, self.NOW), MAX_RETRY_AFTER)
        self.assertEqual(parseRetryAfter("9" * 5000, self.NOW), MAX_RETRY_AFTER)

    def test_unreadable(self) -> None:
        """Missing or garbage values give None."""
        for value in (None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2025"):
            self.assertIsNone(parseRetryAfter(value, self.NOW), value)

    def test_hostile(self) -> None:
        """
        What a broken or hostile ACS sends is unreadable, hence absent (None),
        never an exception: non-ASCII digits (ValueError before), hundreds of
        digits, dates whose fields overflow (OverflowError before), bytes
        that are no text.
        """
        for value in ("\xb3", "²", "①", "١٢٣", "１２", "1_000", "+5", "9" * 300 + "²",
                      "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
                      "Mon, 01 Jan 2020 99999999999999999999:00:00 GMT",
                      "Mon, 01 Jan 2020 00:00:00 +99999999999999999999",
                      "Mon, 01 Jan 2020 00:00:00 +9959", "Mon, ³ Jan 2020 00:00:00 GMT",
                      "Mon, 01 Jan 2020 00:00:00 GMT" + " x" * 100, "\x00", "\xff\xfe"):
            self.assertIsNone(parseRetryAfter(value, self.NOW), repr(value))


class PeriodicTests(unittest.TestCase):
    def test_noPhase(self) -> None:
        """Without PeriodicInformTime the grid runs through the reference time."""
        self.assertEqual(nextPeriodicInform(1000, 600, None, 1000), 1600)
        self.assertEqual(nextPeriodicInform(1599, 600, None, 1000), 1600)
        self.assertEqual(nextPeriodicInform(1600, 600, None, 1000), 2200)

    def test_phase(self) -> None:
        """With PeriodicInformTime, Informs fall on its grid, in the past or in the future."""
        day = 86400
        phase = 3 * 3600  # 03:00 on the first day
        self.assertEqual(nextPeriodicInform(10 * day + 5, day, phase, 0), 10 * day + phase)
        self.assertEqual(nextPeriodicInform(10 * day + phase, day, phase, 0), 11 * day + phase)
        self.assertEqual(nextPeriodicInform(0, day, 100 * day + 7, 0), 7)

    def test_badInterval(self) -> None:
        """An interval below one second is refused."""
        self.assertRaises(ValueError, nextPeriodicInform, 0, 0, None, 0)
