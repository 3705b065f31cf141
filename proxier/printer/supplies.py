# -*- test-case-name: tests.test_printer_supplies -*-
"""
PWG 5100.13 "key=value;" strings — the rows of C{printer-supply},
C{printer-input-tray} and C{printer-output-tray} — parsed into rows the
PrintService tree uses (PRINTERS.md section 4).

Those strings are the Printer-MIB's prtMarkerSuppliesTable,
prtInputTable and prtOutputTable rows serialized column by column, so one
parser (L{parseRow}) reads them all, and SNMP readings become the same
L{Row} (column label -> text) before L{supply}, L{inputTray} and
L{outputTray} turn it into typed values.

The MIB's levels -1, -2 and -3 (other, unknown, "some remaining") are not
levels: L{Level} keeps them as the C{...Basis} sibling's value (C{Other},
C{Unknown}, C{NotEmpty}) with the level 0.

A printer's string is outside input: anything malformed (not UTF-8, no
C{=}, an empty or repeated key, a control character, too long, a number
out of range) raises L{SupplyError} with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Union

from proxier.asciinum import parseSigned
from proxier.printer import conversions
from proxier.printer.conversions import ConversionError

__all__ = [
    "SupplyError",
    "MAX_ROW",
    "Row",
    "Level",
    "Supply",
    "InputTray",
    "OutputTray",
    "parseRow",
    "level",
    "supply",
    "inputTray",
    "outputTray",
]

#: RFC 8011 octetString(MAX) is 1023 octets; printer-supply rows are shorter.
MAX_ROW = 1023

# The MIB's special level values (RFC 3805 prtMarkerSuppliesLevel and friends)
# -> the SM's ObjectCounterBasisWKV.
SPECIAL_LEVELS: Mapping[int, str] = {-1: "Other", -2: "Unknown", -3: "NotEmpty"}
ACTUAL = "Actual"

_INT32 = (-(2**31), 2**31 - 1)


class SupplyError(ValueError):
    """A PWG 5100.13 row that cannot be read; C{str()} says why."""


class Row(dict):
    """One row: key -> text, in the printer's order (a C{dict} subclass)."""


@dataclass(frozen=True)
class Level:
    """A level or capacity: the value, and its C{...Basis} (C{Actual}, or why there is no value)."""

    value: int
    basis: str


@dataclass(frozen=True)
class Supply:
    """One prtMarkerSuppliesTable row (C{printer-supply})."""

    index: int
    marker: int
    type: str
    supplyClass: str
    unit: str
    maxCapacity: Level
    level: Level
    colorantName: str


@dataclass(frozen=True)
class InputTray:
    """One prtInputTable row (C{printer-input-tray}); C{states} is the SubunitStateWKV list."""

    type: str
    unit: str
    maxCapacity: Level
    level: Level
    states: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class OutputTray:
    """One prtOutputTable row (C{printer-output-tray})."""

    type: str
    unit: str
    maxCapacity: Level
    remaining: Level
    states: tuple[str, ...]
    name: str


def parseRow(data: Union[bytes, str]) -> Row:
    """
    C{"key=value;key=value;"} -> L{Row}. A value runs to the next C{;}
    (5100.13 values hold no C{;}); a trailing C{;} is optional.

    @raise SupplyError: see the module docstring.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_ROW:
            raise SupplyError(f"a row of {len(data)} octets exceeds {MAX_ROW}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SupplyError(f"not UTF-8 at octet {e.start}") from None
    elif isinstance(data, str):
        text = data
    else:
        raise SupplyError(f"a row is text, not {type(data).__name__}")
    if len(text) > MAX_ROW:
        raise SupplyError(f"a row of {len(text)} characters exceeds {MAX_ROW}")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise SupplyError("a control character in the row")
    body = text[:-1] if text.endswith(";") else text
    if not body:
        raise SupplyError("an empty row")
    row = Row()
    for position, item in enumerate(body.split(";"), 1):
        key, sep, value = item.partition("=")
        if not sep:
            raise SupplyError(f"item {position} ({item[:20]!r}) has no '='")
        if not key or not key.isascii() or not key.isalnum():
            raise SupplyError(f"item {position}: key {key[:20]!r} is not a word")
        if key in row:
            raise SupplyError(f"key {key!r} repeated")
        row[key] = value
    return row


def _integer(row: Row, key: str, default: Optional[int] = None) -> int:
    text = row.get(key)
    if text is None:
        if default is None:
            raise SupplyError(f"no {key}=")
        return default
    try:
        return parseSigned(text, _INT32[0], _INT32[1], what=f"{key}=")
    except ValueError as e:
        raise SupplyError(str(e)) from None


def level(number: int) -> Level:
    """A MIB level: C{n >= 0} is C{Actual}; -1/-2/-3 are C{Other}/C{Unknown}/C{NotEmpty} with value 0."""
    if number >= 0:
        return Level(number, ACTUAL)
    basis = SPECIAL_LEVELS.get(number)
    if basis is None:
        raise SupplyError(f"level {number} is neither a level nor -1/-2/-3")
    return Level(0, basis)


def _level(row: Row, key: str) -> Level:
    return level(_integer(row, key, -2))


def _label(row: Row, key: str, default: str) -> str:
    try:
        return conversions.labelToWKV(row.get(key, default))
    except ConversionError as e:
        raise SupplyError(f"{key}=: {e}") from None


def _states(row: Row) -> tuple[str, ...]:
    try:
        return conversions.subunitStates(_integer(row, "status", 5))  # absent: Unknown
    except ConversionError as e:
        raise SupplyError(f"status=: {e}") from None


def supply(row: Row, position: int) -> Supply:
    """
    The supply in C{row}; C{position} (1-based) is its index when the row
    has no C{index=}, as prtMarkerSuppliesIndex would be.
    """
    index = _integer(row, "index", position)
    if index < 1:
        raise SupplyError(f"index={index} is not positive")
    marker = _integer(row, "marker", 1)
    if marker < 1:
        raise SupplyError(f"marker={marker} is not positive")
    return Supply(
        index=index,
        marker=marker,
        type=_label(row, "type", "unknown"),
        supplyClass=_label(row, "class", "unknown"),
        unit=_label(row, "unit", "unknown"),
        maxCapacity=_level(row, "maxcapacity"),
        level=_level(row, "level"),
        colorantName=row.get("colorantname", ""),
    )


def inputTray(row: Row) -> InputTray:
    """The input tray in C{row} (PWG 5100.13 printer-input-tray)."""
    return InputTray(
        type=_label(row, "type", "unknown"),
        unit=_label(row, "unit", "unknown"),
        maxCapacity=_level(row, "maxcapacity"),
        level=_level(row, "level"),
        states=_states(row),
        name=row.get("name", ""),
    )


def outputTray(row: Row) -> OutputTray:
    """The output tray in C{row} (PWG 5100.13 printer-output-tray)."""
    return OutputTray(
        type=_label(row, "type", "unknown"),
        unit=_label(row, "unit", "unknown"),
        maxCapacity=_level(row, "maxcapacity"),
        remaining=_level(row, "remaining"),
        states=_states(row),
        name=row.get("name", ""),
    )
