# -*- test-case-name: tests.test_datamodel_values -*-
"""
TR-106 dateTime: parsing what ACSes and devices send (with or without
fractions and offsets, the unknown time C{0001-01-01T00:00:00Z}, and the
"relative" times below 1000-01-01 used for uptimes) and formatting what the
proxier sends (UTC, C{Z}, no fraction).
"""

from __future__ import annotations

import datetime
import re

__all__ = ["parseDateTime", "formatDateTime", "UNKNOWN_TIME"]

UNKNOWN_TIME = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)

# ASCII digits only (\d would take any Unicode digit, "١٢٣٤" for a year).
_DATETIME = re.compile(
    r"^(?P<year>-?[0-9]{4,})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})?$",
    re.ASCII,
)


def _short(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def parseDateTime(text: str) -> datetime.datetime:
    """
    Parse an xsd:dateTime as TR-106 uses it.

    A value without offset is taken as UTC (TR-106 says an absent offset means
    UTC for CWMP). The result is always timezone-aware.

    @raise ValueError: when C{text} is not a dateTime.
    """
    m = _DATETIME.match(text.strip())
    if not m:
        raise ValueError(f"{_short(text)} is not a dateTime")
    if len(m["year"]) > 4:  # beyond 9999, or negative: no datetime holds it (and no huge int is made)
        raise ValueError(f"{_short(text)}: year out of range")
    year = int(m["year"])
    if year < 1:
        raise ValueError(f"{_short(text)}: year {year} out of range")
    fraction = m["fraction"] or "0"
    micro = int((fraction + "000000")[:6])
    second = int(m["second"])
    if second == 60:  # a leap second: keep the instant, lose the second
        second = 59
    try:
        value = datetime.datetime(
            year, int(m["month"]), int(m["day"]), int(m["hour"]), int(m["minute"]), second, micro
        )
    except ValueError as e:
        raise ValueError(f"{_short(text)}: {e}") from None
    tz = m["tz"]
    if tz is None or tz == "Z":
        return value.replace(tzinfo=datetime.timezone.utc)
    sign = 1 if tz[0] == "+" else -1
    offset = datetime.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])) * sign
    if abs(offset) >= datetime.timedelta(hours=24):
        raise ValueError(f"{_short(text)}: offset out of range")
    aware = value.replace(tzinfo=datetime.timezone(offset))
    try:
        return aware.astimezone(datetime.timezone.utc)
    except OverflowError:
        return aware


def formatDateTime(value: datetime.datetime) -> str:
    """Format in UTC with C{Z}; a naive value is taken as UTC already."""
    if value.tzinfo is not None:
        try:
            value = value.astimezone(datetime.timezone.utc)
        except OverflowError:
            pass
    text = value.replace(tzinfo=None).isoformat(timespec="seconds")
    if value.year < 1000:
        text = f"{value.year:04d}" + text[text.index("-"):]
    return text + "Z"
