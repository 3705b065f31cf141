# -*- test-case-name: tests.test_cwmp_retry -*-
"""
When to try again, sans-IO: the session retry wait of TR-069 3.2.1.1, the
HTTP C{Retry-After} an ACS may send with 503, and the times of periodic
Informs (TR-181 ManagementServer.PeriodicInformInterval / PeriodicInformTime).
"""

from __future__ import annotations

import datetime
import email.utils
import math
import random as _random
from typing import Callable, Optional

from proxier.asciinum import isUnsigned, parseUnsigned

__all__ = [
    "MAX_RETRY_EXPONENT",
    "DEFAULT_RETRY_TABLE",
    "retryWindow",
    "retryDelay",
    "parseRetryAfter",
    "nextPeriodicInform",
    "MAX_RETRY_AFTER",
]

# TR-069 3.2.1.1: the exponent stops growing at the tenth retry.
MAX_RETRY_EXPONENT = 10

# TR-069 Amendment 5, Table 3 "Session Retry Wait Intervals" (the defaults
# m = 5, k = 2000): retry count -> (minimum, maximum) wait in seconds; counts
# beyond 10 use the last row.
DEFAULT_RETRY_TABLE: tuple[tuple[int, int, int], ...] = (
    (1, 5, 10),
    (2, 10, 20),
    (3, 20, 40),
    (4, 40, 80),
    (5, 80, 160),
    (6, 160, 320),
    (7, 320, 640),
    (8, 640, 1280),
    (9, 1280, 2560),
    (10, 2560, 5120),
)

# The longest Retry-After honoured: an ACS asking for more is asked again
# after a day (a broken header must not silence a device for ever).
MAX_RETRY_AFTER = 86400.0


def retryWindow(retryCount: int, minimumWait: int = 5, multiplier: int = 2000) -> tuple[float, float]:
    """
    The wait range before retry number C{retryCount} (1 for the first retry
    after a failed session): C{[m·(k/1000)^(n-1), m·(k/1000)^n]} with
    C{n = min(retryCount, 10)}.

    @param minimumWait: m, ManagementServer.CWMPRetryMinimumWaitInterval.
    @param multiplier: k, ManagementServer.CWMPRetryIntervalMultiplier.
    """
    n = min(max(retryCount, 1), MAX_RETRY_EXPONENT)
    k = multiplier / 1000.0
    return minimumWait * k ** (n - 1), minimumWait * k**n


def retryDelay(retryCount: int, minimumWait: int = 5, multiplier: int = 2000,
               random: Callable[[], float] = _random.random) -> float:
    """A random wait in L{retryWindow} (spreading the retries of many CPEs)."""
    low, high = retryWindow(retryCount, minimumWait, multiplier)
    return low + (high - low) * random()


def parseRetryAfter(value: Optional[str], now: float) -> Optional[float]:
    """
    Seconds to wait from a C{Retry-After} header (delay-seconds or an
    HTTP-date, RFC 9110 10.2.3), capped at L{MAX_RETRY_AFTER}; C{None} when
    absent or unreadable (not ASCII digits, a date that is no date or out
    of range): an ACS that always sends a broken one
    is then retried on the TR-069 schedule. Never raises.
    """
    if not value:
        return None
    value = value.strip(" \t")
    if value[:1].isdigit():  # a digit of any script: delay-seconds, read as ASCII digits or refused
        if isUnsigned(value, maxDigits=len(value)) and len(value) > 10:
            return MAX_RETRY_AFTER  # far more than a day, without making a huge int of it
        try:
            return min(float(parseUnsigned(value, maxDigits=10, what="Retry-After")), MAX_RETRY_AFTER)
        except ValueError:
            return None
    if not value.isascii() or len(value) > 64:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        return min(max(when.timestamp() - now, 0.0), MAX_RETRY_AFTER)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def nextPeriodicInform(now: float, interval: int, phase: Optional[float], reference: float) -> float:
    """
    The time of the next periodic Inform strictly after C{now}: on the grid
    of C{interval} seconds through C{phase} (PeriodicInformTime), or through
    C{reference} (when the endpoint started) when the ACS set no phase.
    """
    if interval < 1:
        raise ValueError("PeriodicInformInterval must be at least 1")
    origin = phase if phase is not None else reference
    steps = math.floor((now - origin) / interval) + 1
    when = origin + steps * interval
    if when <= now:  # float rounding on far-away origins
        when += interval
    return when
