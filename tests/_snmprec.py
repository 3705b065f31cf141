"""
A small reader of snmpsim's C{.snmprec} recordings (C{OID|tag|value} a
line) into the varbinds an SNMP walk of the agent would give (instance OID
-> value, as L{proxier.printer.snmpsource} takes them), so that the tests
read the same fixtures snmpsim serves.

Tags, per snmpsim's documentation: 2 Integer, 4 OctetString, 6 OID,
64 IpAddress, 65 Counter32, 66 Gauge32, 67 TimeTicks, 70 Counter64; an
C{x} suffix means a hex value; C{:writecache} (a variation module) takes
C{value=} or C{hexvalue=}.
"""

from __future__ import annotations

import os
from typing import Any

from tests._helpers import SHARED

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "snmp")
SHARED_FIXTURES = os.path.join(SHARED, "fixtures", "snmp")

_INTEGERS = {"2", "65", "66", "67", "70"}


def _oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def value(tag: str, text: str) -> Any:
    """One record's value: C{int}, C{bytes} or an OID tuple."""
    tag, _, variation = tag.partition(":")
    if variation:
        if variation != "writecache":
            raise ValueError(f"variation {variation!r} is not read here")
        key, _, text = text.partition("=")
        if key == "hexvalue":
            tag += "x"
        elif key != "value":
            raise ValueError(f"a writecache record needs value= or hexvalue=, not {key!r}")
    hexadecimal = tag.endswith("x")
    tag = tag.rstrip("x")
    if tag in _INTEGERS:
        return int(text, 16) if hexadecimal else int(text)
    if tag == "4":
        return bytes.fromhex(text) if hexadecimal else text.encode("utf-8")
    if tag == "6":
        return _oid(text)
    if tag == "64":
        return bytes.fromhex(text) if hexadecimal else bytes(int(part) for part in text.split("."))
    raise ValueError(f"tag {tag!r} is not read here")


def parse(data: str) -> dict[tuple[int, ...], Any]:
    """The varbinds of a recording; a repeated OID or a malformed line is an error."""
    varbinds: dict[tuple[int, ...], Any] = {}
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        oid, tag, text = line.split("|", 2)
        key = _oid(oid)
        if key in varbinds:
            raise ValueError(f"line {number}: {oid} again")
        varbinds[key] = value(tag, text)
    return varbinds


def load(name: str, shared: bool = False) -> dict[tuple[int, ...], Any]:
    """The varbinds of fixture C{name}: from tests/fixtures/snmp, or from ../shared with C{shared}."""
    with open(os.path.join(SHARED_FIXTURES if shared else FIXTURES, name), encoding="utf-8") as f:
        return parse(f.read())
