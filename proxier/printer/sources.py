# -*- test-case-name: tests.test_printer_merge -*-
"""
One printer's readings: what IPP and SNMP say of the same printer merged
into one L{Readings<proxier.printer.ippsource.Readings>} keyed by SM path
(PRINTERS.md §2, §4, §8) — sans-IO and pure, so every rule is a test.

Whether two sources are one printer (§8): they match on C{printer-uuid}
when both tell one, else on the serial number when both tell one, else on
the MAC when both tell one; the first kind both know decides, so two
printers that differ in UUID are two even when a cloned serial number
agrees. Sources with no kind in common are not merged.

Which source wins (§4): IPP where both answer, except the rows PRINTERS.md
names SNMP for and IPP has no equal of (L{SNMP_FIRST}: Contact through
sysContact, and the tables only SNMP fills: memory, MAC, front panel). A
table is taken whole from one source (IPP's when it has rows, else SNMP's):
its rows are keyed by each protocol's own index, which need not agree, so
rows of both are never mixed.

Which protocol writes a path (§5): L{writeProtocol}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from proxier.printer import ippsource, snmpsource
from proxier.printer.ippsource import DESCRIPTION, STATUS, Readings

__all__ = ["SNMP_FIRST", "ROW_PATHS", "IPP", "SNMP", "MatchKeys", "matchKeys", "samePrinter", "merge", "writeProtocol"]

IPP = "IPP"
SNMP = "SNMP"

#: The paths (scalars and tables) SNMP answers first when both do (PRINTERS.md §4).
SNMP_FIRST: frozenset = frozenset((
    DESCRIPTION + "OwnerVCard",
    snmpsource.STORAGE,
    snmpsource.INTERFACE,
    snmpsource.CONSOLE,
))
#: The row parameters of every table either source fills (relative to the row).
ROW_PATHS: dict[str, tuple[str, ...]] = {
    table: tuple(dict.fromkeys(ippsource.ROW_PATHS.get(table, ()) + snmpsource.ROW_PATHS.get(table, ())))
    for table in {**ippsource.ROW_PATHS, **snmpsource.ROW_PATHS}
}
# The order PRINTERS.md §8 merges on.
_KINDS = ("uuid", "serial", "mac")


@dataclass(frozen=True)
class MatchKeys:
    """What one source tells of the printer's identity, each C{""} when it tells nothing."""

    uuid: str = ""
    serial: str = ""
    mac: str = ""


def matchKeys(readings: Optional[Readings]) -> MatchKeys:
    """
    The keys of one source's readings: C{printer-uuid} (IPP), the serial
    number the printer tells (C{printer-serial-number} or
    prtGeneralSerialNumber — not the identity's fallbacks, which would
    make a UUID or a MAC look like a serial number) and the first MAC
    (SNMP's ifPhysAddress).
    """
    if readings is None:
        return MatchKeys()
    values = readings.values
    uuid = values.get(STATUS + "ServiceUuid") or ""
    serial = values.get(STATUS + "SerialNumber") or ""
    mac = getattr(readings.identity, "macAddress", "") or ""
    return MatchKeys(uuid.strip().lower(), serial.strip(), mac.lower())


def samePrinter(a: MatchKeys, b: MatchKeys) -> bool:
    """Whether two sources are one printer: the first kind both tell decides (PRINTERS.md §8)."""
    for kind in _KINDS:
        mine, theirs = getattr(a, kind), getattr(b, kind)
        if mine and theirs:
            return mine == theirs
    return False


def _tables(readings: Optional[Readings]) -> Iterable[str]:
    return readings.rows.keys() if readings is not None else ()


def merge(ipp: Optional[Readings], snmp: Optional[Readings]) -> Readings:
    """
    One printer's readings from its IPP and SNMP readings (either may be
    None: that source has not answered, or the printer has none).

    The identity is IPP's when IPP answered (its serial number is the
    Device's, §4), else SNMP's; problems are both sources', each named.
    """
    if snmp is None:
        return ipp if ipp is not None else Readings()
    if ipp is None:
        return snmp
    values = dict(snmp.values)
    values.update(ipp.values)
    for path in SNMP_FIRST & snmp.values.keys():
        values[path] = snmp.values[path]
    if ippsource.STATE_REASONS not in ipp.values and STATUS + "State" in ipp.values:
        values.pop(ippsource.STATE_REASONS, None)  # SNMP's reasons never go with IPP's state
    rows = {}
    for table in set(_tables(ipp)) | set(_tables(snmp)):
        ippRows = ipp.rows.get(table)
        snmpRows = snmp.rows.get(table)
        if table in SNMP_FIRST and snmpRows:
            rows[table] = snmpRows
        else:
            rows[table] = ippRows if ippRows else (snmpRows or {})
    problems = [f"IPP: {p}" for p in ipp.problems] + [f"SNMP: {p}" for p in snmp.problems]
    return Readings(values=values, rows=rows, identity=ipp.identity or snmp.identity, problems=problems)


def writeProtocol(path: str, ippSettable: Iterable[str], snmpSettable: Iterable[str]) -> Optional[str]:
    """
    The protocol that writes C{path} for this printer (PRINTERS.md §4, §5):
    Contact through SNMP only; elsewhere IPP where this printer lets IPP
    set it, else SNMP where a SET of its object took; None: not writable.
    """
    snmpSettable = frozenset(snmpSettable)
    if path in SNMP_FIRST:
        return SNMP if path in snmpSettable else None
    if path in frozenset(ippSettable):
        return IPP
    return SNMP if path in snmpSettable else None
