# -*- test-case-name: tests.test_printer_snmpsource -*-
"""
What SNMP serves of a printer's PrintService tree (PRINTERS.md section 4):
the varbinds of a walk in (instance OID -> value), the values of every
demo-table row the Printer-MIB, HOST-RESOURCES-MIB, IF-MIB and SNMPv2-MIB
can serve out, in the shape of L{proxier.printer.ippsource} so that a
device can merge both: L{ippsource.Readings} (values by path relative to
C{PrintService.{i}.}, table rows keyed by their native index, problems),
an L{Identity}, and the write side as data.

L{read} takes the Python values of L{proxier.printer.snmp}'s L{snmp.Value}s
(L{plain} unwraps a walk's bindings): C{int} for INTEGER, Counter32,
Gauge32, TimeTicks and Counter64, C{bytes} for OCTET STRING, a tuple of
C{int} for an OBJECT IDENTIFIER. A value of another type is a problem,
never a crash. The writes are L{snmp.VarBind}s for L{snmpclient}'s C{set}.

Sans-IO and pure: L{read} never raises for a printer's odd value. A value
that has no mapping or does not fit its parameter's type in the document
is left out and named in C{problems}, as for IPP.

 - Supplies and input trays are the MIB rows PWG 5100.13 serializes: they
   become a L{supplies.Row} and go through the same parser, so the levels
   -1/-2/-3 set the C{...Basis} and leave the level 0.
 - The page count goes by prtMarkerCounterUnit: sheets(8) fill
   C{MediaUsedTotalSheets}, impressions(7) the impression counters; other
   units (characters, feet, ...) fill neither. Impressions are never sheets.
 - Memory: hrStorageTable's RAM rows where present, else hrMemorySize, as
   C{StorageSize} in KiB (1024 octets), the unit of both MIB objects; the
   SM's C{StorageSize} is an C{int}, which in octets would end at 2 GiB.
 - Text (OCTET STRING) is read as UTF-8, else as ISO 8859-1, which every
   octet string is: a printer in another charset shows odd characters
   rather than nothing. sysContact passes through verbatim as OwnerVCard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from proxier.printer import conversions, ippsource, mib, snmp, supplies
from proxier.printer.conversions import ConversionError
from proxier.printer.ippsource import (
    DESCRIPTION, INPUT_TRAY, MARKER, MEDIA_USED, STATE_REASONS, STATUS, SUPPLY, Readings, WriteError, addInputTray,
    addRow, addSupply, fits,
)
from proxier.printer.supplies import SupplyError

__all__ = [
    "CONFIGURATION",
    "STORAGE",
    "INTERFACE",
    "CONSOLE",
    "SCALARS",
    "ROW_PATHS",
    "SUBTREES",
    "WRITES",
    "MAX_OCTETS",
    "RESETS",
    "UPTIME_WRAP",
    "RESTART_TOLERANCE",
    "Identity",
    "Varbinds",
    "plain",
    "read",
    "printerIndex",
    "macAddress",
    "restarted",
    "settablePaths",
    "encodeWrites",
    "resetWrite",
]

Varbinds = Mapping[tuple[int, ...], Any]

CONFIGURATION = "PrintServiceConfiguration."
# The tables only SNMP fills (document paths of their rows).
STORAGE = CONFIGURATION + "Storages.Storage.{i}."
INTERFACE = CONFIGURATION + "Interfaces.Interface.{i}."
CONSOLE = CONFIGURATION + "Consoles.Console.{i}."

# The scalar parameters SNMP fills.
SCALARS: tuple[str, ...] = (
    STATUS + "Id",
    STATUS + "SerialNumber",
    STATUS + "State",
    STATE_REASONS,
    STATUS + "UpTime",
    STATUS + "ImpressionsCompleted",
    STATUS + "PrintServiceCounters.WorkTotals.Impressions",
    DESCRIPTION + "ServiceInfo",
    DESCRIPTION + "OwnerVCard",
    DESCRIPTION + "ServiceLocation",
    DESCRIPTION + "ColorSupported",
)

# The row parameters each table is given (relative to the row).
ROW_PATHS: Mapping[str, tuple[str, ...]] = {
    MARKER: (
        "MarkerStatus.Id",
        "MarkerStatus.MarkerTechnology",
        "MarkerStatus.MarkerCounterUnit",
        "MarkerStatus.MarkerCounterLife",
        "MarkerStatus.MarkerCounterPowerOn",
        "MarkerStatus.MarkerProcessColorants",
        "MarkerStatus.MarkerSpotColorants",
    ),
    SUPPLY: ippsource.ROW_PATHS[SUPPLY],
    INPUT_TRAY: ippsource.ROW_PATHS[INPUT_TRAY],
    MEDIA_USED: ippsource.ROW_PATHS[MEDIA_USED],
    STORAGE: (
        "StorageStatus.Id",
        "StorageStatus.StorageSize",
        "StorageStatus.StorageType",
        "StorageDescription.StorageName",
    ),
    INTERFACE: (
        "InterfaceStatus.Id",
        "InterfaceStatus.InterfacePhysicalAddress",
        "InterfaceStatus.InterfaceType",
        "InterfaceStatus.InterfaceOperState",
        "InterfaceDescription.InterfaceName",
    ),
    CONSOLE: (
        "ConsoleStatus.Id",
        "ConsoleDescription.ConsoleNumberOfDisplayLines",
        "ConsoleDescription.ConsoleNumberOfDisplayChars",
        "ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText",
    ),
}

# What a walk of the printer reads: the subtrees L{read} looks in.
SUBTREES: tuple[tuple[int, ...], ...] = tuple(mib.OID[name] for name in (
    "system", "ifDescr", "ifType", "ifPhysAddress", "ifOperStatus", "hrMemorySize", "hrStorageTable",
    "hrDeviceTable", "hrPrinterTable", "prtGeneralTable", "prtInputTable", "prtMarkerTable",
    "prtMarkerSuppliesTable", "prtConsoleDisplayBufferTable",
))

# sysUpTime is TimeTicks (hundredths of a second, 32 bits): it wraps after ~497 days.
UPTIME_WRAP = 2**32 / 100
RESTART_TOLERANCE = 30.0
# ifPhysAddress octets that are no MAC (a loopback's empty one, all zeros).
_MAC_LENGTH = 6


@dataclass(frozen=True)
class Identity(ippsource.Identity):
    """
    The Virtual CWMP Device's identity from SNMP (PRINTERS.md section 4,
    identity), in the shape of IPP's: C{serialNumber} is
    prtGeneralSerialNumber, else (an SNMP-only printer without one) the MAC;
    C{productClass} and C{modelName} hrDeviceDescr, C{manufacturer} its
    first word (as IPP's make-and-model fallback); C{softwareVersion}
    sysDescr; C{upTime} sysUpTime in whole seconds. C{macAddress} is the
    first interface's MAC (C{aa:bb:cc:dd:ee:ff}, C{""} without one) and
    C{oui} its OUI (C{0002A5}), the ManufacturerOUI when none is configured.
    """

    macAddress: str = ""
    oui: str = ""


class _Walk:
    """The varbinds by MIB object: a scalar's value, a column's rows by index."""

    _columns = {oid: name for name, oid in mib.OID.items()}
    _lengths = sorted({len(oid) for oid in mib.OID.values()}, reverse=True)

    def __init__(self, varbinds: Varbinds) -> None:
        self.objects: dict[str, dict[tuple[int, ...], Any]] = {}
        for oid, value in varbinds.items():
            for length in self._lengths:
                name = self._columns.get(tuple(oid[:length]))
                if name is not None and length < len(oid):
                    self.objects.setdefault(name, {})[tuple(oid[length:])] = value
                    break

    def scalar(self, name: str) -> Any:
        return self.objects.get(name, {}).get((0,))

    def column(self, name: str, device: Optional[int] = None) -> dict[tuple[int, ...], Any]:
        """Column C{name}'s rows by index; with C{device}, those of that hrDeviceIndex, by the rest of the index."""
        rows = self.objects.get(name, {})
        if device is None:
            return dict(rows)
        return {index[1:]: value for index, value in rows.items() if index and index[0] == device}


# ---- value conversions: a wrong type is a ConversionError, as the IPP side's ------------


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConversionError(f"{what} {value!r:.40} is not an integer")
    return int(value)


def _octets(value: Any, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise ConversionError(f"{what} {value!r:.40} is not an octet string")
    return bytes(value)


def _text(value: Any, what: str) -> str:
    octets = _octets(value, what).rstrip(b"\x00")  # some agents pad with NULs
    try:
        return octets.decode("utf-8")
    except UnicodeDecodeError:
        return octets.decode("iso-8859-1")


def _number(convention: str, label: str) -> int:
    """The number of C{label} in a textual convention of L{mib.LABELS}."""
    return next(number for number, name in mib.LABELS[convention].items() if name == label)


_SHEETS = _number("PrtMarkerCounterUnitTC", "sheets")
_IMPRESSIONS = _number("PrtMarkerCounterUnitTC", "impressions")


def _label(name: str, value: Any) -> str:
    """The SM value of an enumerated MIB object's number: toner(3) -> Toner."""
    return conversions.labelToWKV(conversions.mibLabel(mib.ENUM[name], _int(value, name)))


def macAddress(octets: bytes) -> str:
    """ifPhysAddress -> C{aa:bb:cc:dd:ee:ff} (any length, C{""} for none)."""
    return ":".join(f"{b:02x}" for b in octets)


# ---- reading -----------------------------------------------------------------------------


def plain(varBinds: Iterable[snmp.VarBind]) -> dict[tuple[int, ...], Any]:
    """A walk's bindings as L{read} takes them, OID -> Python value; exceptions (noSuchInstance ...) and NULL left out."""
    return {b.oid: b.value.value for b in varBinds if not b.value.isException and b.value.tag != snmp.NULL}


_GENERAL_COLUMNS = frozenset(name for name, oid in mib.OID.items() if oid[:-1] == mib.OID["prtGeneralEntry"])


def printerIndex(varbinds: Varbinds) -> Optional[int]:
    """The printer's hrDeviceIndex: the first prtGeneralTable row, else the first hrDeviceType printer; None without."""
    return _printerIndex(_Walk(varbinds))


def _printerIndex(walk: _Walk) -> Optional[int]:
    general = [index[0] for name in walk.objects if name in _GENERAL_COLUMNS for index in walk.objects[name] if index]
    if general:
        return min(general)
    printers = [index[0] for index, kind in walk.column("hrDeviceType").items()
                if index and kind == mib.OID["hrDevicePrinter"]]
    return min(printers) if printers else None


def _scalar(readings: Readings, path: str, convert: Any) -> None:
    """C{readings.values[path] = convert()} when it converts and fits; else a problem (the error names the object)."""
    try:
        value = convert()
    except ConversionError as e:
        readings.problems.append(str(e))
        return
    if fits(path, value, readings):
        readings.values[path] = value


def _state(walk: _Walk, device: int) -> str:
    status = walk.column("hrPrinterStatus", device).get(())
    deviceStatus = walk.column("hrDeviceStatus").get((device,))
    if deviceStatus is not None and _int(deviceStatus, "hrDeviceStatus") in conversions.HR_DEVICE_STATUS:
        return conversions.HR_DEVICE_STATUS[deviceStatus]
    if status is None:
        raise ConversionError("no hrPrinterStatus")
    return conversions.enumToWKV(conversions.HR_PRINTER_STATUS, _int(status, "hrPrinterStatus"), "hrPrinterStatus")


def _scalars(walk: _Walk, device: int, readings: Readings) -> None:
    readings.values[STATUS + "Id"] = 1  # the service's uniqueKey: a printer has one PrintService
    serial = walk.column("prtGeneralSerialNumber", device).get(())
    if serial is not None:
        _scalar(readings, STATUS + "SerialNumber", lambda: _text(serial, "prtGeneralSerialNumber"))
    description = walk.column("hrDeviceDescr").get((device,))
    if description is not None:
        _scalar(readings, DESCRIPTION + "ServiceInfo", lambda: _text(description, "hrDeviceDescr"))
    for name, path in (("sysContact", DESCRIPTION + "OwnerVCard"), ("sysLocation", DESCRIPTION + "ServiceLocation")):
        value = walk.scalar(name)
        if value is not None:
            _scalar(readings, path, lambda v=value, n=name: _text(v, n))
    upTime = walk.scalar("sysUpTime")
    if upTime is not None:
        _scalar(readings, STATUS + "UpTime", lambda: _int(upTime, "sysUpTime") // 100)
    if walk.column("hrPrinterStatus", device) or walk.column("hrDeviceStatus").get((device,)) is not None:
        _scalar(readings, STATUS + "State", lambda: _state(walk, device))
    errors = walk.column("hrPrinterDetectedErrorState", device).get(())
    if errors is not None:
        _scalar(readings, STATE_REASONS, lambda: conversions.detectedErrors(errors))
    colorants = walk.column("prtMarkerProcessColorants", device)
    if colorants:
        _scalar(readings, DESCRIPTION + "ColorSupported",
                lambda: any(_int(n, "prtMarkerProcessColorants") > 1 for n in colorants.values()))


def _fillRow(walk: _Walk, readings: Readings, row: dict[str, Any], index: tuple[int, ...],
             columns: Sequence[tuple[str, str, Callable[[Any], Any]]], device: Optional[int] = None) -> None:
    """One table row's columns converted into C{row}; a value of the wrong type is a problem, not a row lost."""
    for name, rel, convert in columns:
        value = walk.column(name, device).get(index)
        if value is None:
            continue
        try:
            row[rel] = convert(value)
        except ConversionError as e:
            where = f"{name}.{device}.{index[0]}" if device is not None else f"{name}.{index[0]}"
            readings.problems.append(f"{where}: {e}")


def _markers(walk: _Walk, device: int, readings: Readings) -> None:
    """prtMarkerTable rows, and the page counts by their counter unit (sheets and impressions apart)."""
    units = walk.column("prtMarkerCounterUnit", device)
    lives = walk.column("prtMarkerLifeCount", device)
    totals: dict[int, int] = {}
    for index in sorted(set(units) | set(lives) | set(walk.column("prtMarkerMarkTech", device))):
        if len(index) != 1:
            readings.problems.append(f"prtMarkerTable: index {index} is not one number")
            continue
        row: dict[str, Any] = {"MarkerStatus.Id": index[0]}
        _fillRow(walk, readings, row, index, (
            ("prtMarkerMarkTech", "MarkerStatus.MarkerTechnology", lambda v: _label("prtMarkerMarkTech", v)),
            ("prtMarkerCounterUnit", "MarkerStatus.MarkerCounterUnit", lambda v: _label("prtMarkerCounterUnit", v)),
            ("prtMarkerLifeCount", "MarkerStatus.MarkerCounterLife", lambda v: _int(v, "prtMarkerLifeCount")),
            ("prtMarkerPowerOnCount", "MarkerStatus.MarkerCounterPowerOn", lambda v: _int(v, "prtMarkerPowerOnCount")),
            ("prtMarkerProcessColorants", "MarkerStatus.MarkerProcessColorants",
             lambda v: _int(v, "prtMarkerProcessColorants")),
            ("prtMarkerSpotColorants", "MarkerStatus.MarkerSpotColorants", lambda v: _int(v, "prtMarkerSpotColorants")),
        ), device)
        addRow(readings, MARKER, index, row)
        unit, life = units.get(index), lives.get(index)
        if isinstance(unit, int) and isinstance(life, int) and not isinstance(life, bool) and life >= 0:
            totals[unit] = totals.get(unit, 0) + life
    if _SHEETS in totals:
        addRow(readings, MEDIA_USED, (1,), {"MediaUsedTotalSheets": totals[_SHEETS]})
    if _IMPRESSIONS in totals:
        for path in (STATUS + "ImpressionsCompleted", STATUS + "PrintServiceCounters.WorkTotals.Impressions"):
            if fits(path, totals[_IMPRESSIONS], readings):
                readings.values[path] = totals[_IMPRESSIONS]


def _row(walk: _Walk, device: int, index: tuple[int, ...], columns: Mapping[str, str],
         readings: Readings) -> supplies.Row:
    """The MIB row as a PWG 5100.13 row: key -> text (labels for enumerations), what has a value."""
    row = supplies.Row()
    for key, name in columns.items():
        value = walk.column(name, device).get(index)
        if value is None:
            continue
        try:
            if name in mib.ENUM:
                row[key] = conversions.mibLabel(mib.ENUM[name], _int(value, name))
            elif key in ("name", "colorantname", "info"):
                row[key] = _text(value, name)
            else:
                row[key] = str(_int(value, name))
        except ConversionError as e:
            readings.problems.append(f"{name}.{device}.{'.'.join(map(str, index))}: {e} (left out)")
    return row


# prtMarkerSuppliesTable / prtInputTable columns -> PWG 5100.13 keys (the
# serialization PWG 5100.13 section 5.1 defines for printer-supply and
# printer-input-tray).
_SUPPLY_COLUMNS: Mapping[str, str] = {
    "marker": "prtMarkerSuppliesMarkerIndex",
    "class": "prtMarkerSuppliesClass",
    "type": "prtMarkerSuppliesType",
    "unit": "prtMarkerSuppliesSupplyUnit",
    "maxcapacity": "prtMarkerSuppliesMaxCapacity",
    "level": "prtMarkerSuppliesLevel",
    "info": "prtMarkerSuppliesDescription",
}
_TRAY_COLUMNS: Mapping[str, str] = {
    "type": "prtInputType",
    "unit": "prtInputCapacityUnit",
    "maxcapacity": "prtInputMaxCapacity",
    "level": "prtInputCurrentLevel",
    "status": "prtInputStatus",
    "name": "prtInputName",
}


def _indexes(walk: _Walk, device: int, columns: Iterable[str], table: str, readings: Readings) -> list[int]:
    found: set[tuple[int, ...]] = set()
    for name in columns:
        found.update(walk.column(name, device))
    good = sorted(index[0] for index in found if len(index) == 1 and index[0] >= 1)
    if len(good) != len(found):
        readings.problems.append(f"{table}: rows whose index is not one positive number left out")
    return good


def _supplyRows(walk: _Walk, device: int, readings: Readings) -> None:
    for index in _indexes(walk, device, _SUPPLY_COLUMNS.values(), "prtMarkerSuppliesTable", readings):
        row = _row(walk, device, (index,), _SUPPLY_COLUMNS, readings)
        info = row.pop("info", "")
        row["index"] = str(index)
        try:
            s = supplies.supply(row, index)
        except SupplyError as e:
            readings.problems.append(f"prtMarkerSuppliesTable {index}: {e}")
            continue
        addSupply(readings, s, info)


def _trayRows(walk: _Walk, device: int, readings: Readings) -> None:
    for index in _indexes(walk, device, _TRAY_COLUMNS.values(), "prtInputTable", readings):
        try:
            t = supplies.inputTray(_row(walk, device, (index,), _TRAY_COLUMNS, readings))
        except SupplyError as e:
            readings.problems.append(f"prtInputTable {index}: {e}")
            continue
        addInputTray(readings, (index,), t)


def _storageRows(walk: _Walk, readings: Readings) -> None:
    """hrStorageTable's RAM rows (size x allocation units, in KiB), else hrMemorySize as one RAM row."""
    ram = mib.OID["hrStorageRam"]
    for index, kind in sorted(walk.column("hrStorageType").items()):
        if kind != ram or len(index) != 1:
            continue
        try:
            size = _int(walk.column("hrStorageSize").get(index), "hrStorageSize")
            unit = _int(walk.column("hrStorageAllocationUnits").get(index), "hrStorageAllocationUnits")
            name = walk.column("hrStorageDescr").get(index)
            row = {"StorageStatus.Id": index[0], "StorageStatus.StorageSize": size * unit // 1024,
                   "StorageStatus.StorageType": "RAM"}
            if name is not None:
                row["StorageDescription.StorageName"] = _text(name, "hrStorageDescr")
        except ConversionError as e:
            readings.problems.append(f"hrStorageTable {index[0]}: {e}")
            continue
        addRow(readings, STORAGE, index, row)
    if STORAGE in readings.rows:
        return
    memory = walk.scalar("hrMemorySize")
    if memory is not None:
        try:
            size = _int(memory, "hrMemorySize")
        except ConversionError as e:
            readings.problems.append(str(e))
            return
        addRow(readings, STORAGE, (1,), {"StorageStatus.Id": 1, "StorageStatus.StorageSize": size,
                                          "StorageStatus.StorageType": "RAM"})


def _interfaceRows(walk: _Walk, readings: Readings) -> None:
    addresses = walk.column("ifPhysAddress")
    for index in sorted(set(addresses) | set(walk.column("ifType"))):
        if len(index) != 1:
            continue
        row: dict[str, Any] = {"InterfaceStatus.Id": index[0]}
        _fillRow(walk, readings, row, index, (
            ("ifPhysAddress", "InterfaceStatus.InterfacePhysicalAddress",
             lambda v: macAddress(_octets(v, "ifPhysAddress"))),
            ("ifType", "InterfaceStatus.InterfaceType", lambda v: _int(v, "ifType")),
            ("ifOperStatus", "InterfaceStatus.InterfaceOperState", lambda v: _label("ifOperStatus", v)),
            ("ifDescr", "InterfaceDescription.InterfaceName", lambda v: _text(v, "ifDescr")),
        ))
        addRow(readings, INTERFACE, index, row)


def _consoleRows(walk: _Walk, device: int, readings: Readings) -> None:
    """The printer's one console (key 1): its display lines in prtConsoleDisplayBufferIndex order."""
    lines = walk.column("prtConsoleDisplayBufferText", device)
    if not lines:
        return
    text: list[str] = []
    for index, value in sorted(lines.items()):
        try:
            text.append(_text(value, "prtConsoleDisplayBufferText"))
        except ConversionError as e:
            readings.problems.append(f"prtConsoleDisplayBufferText {index}: {e}")
    row: dict[str, Any] = {"ConsoleStatus.Id": 1,
                           "ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText": tuple(text)}
    for name, rel in (("prtConsoleNumberOfDisplayLines", "ConsoleDescription.ConsoleNumberOfDisplayLines"),
                      ("prtConsoleNumberOfDisplayChars", "ConsoleDescription.ConsoleNumberOfDisplayChars")):
        value = walk.column(name, device).get(())
        if isinstance(value, int) and not isinstance(value, bool):
            row[rel] = value
    addRow(readings, CONSOLE, (1,), row)


def _firstMac(walk: _Walk) -> str:
    for index, value in sorted(walk.column("ifPhysAddress").items()):
        if isinstance(value, (bytes, bytearray)) and len(value) == _MAC_LENGTH and any(value):
            return macAddress(bytes(value))
    return ""


def _identity(walk: _Walk, device: int) -> Identity:
    def text(value: Any) -> str:
        try:
            return _text(value, "").strip() if value is not None else ""
        except ConversionError:
            return ""

    description = text(walk.column("hrDeviceDescr").get((device,)))
    mac = _firstMac(walk)
    upTime = walk.scalar("sysUpTime")
    return Identity(
        manufacturer=(description.split() or [""])[0],
        modelName=description,
        productClass=description[:64],
        serialNumber=(text(walk.column("prtGeneralSerialNumber", device).get(())) or mac)[:64],
        softwareVersion=text(walk.scalar("sysDescr"))[:64].rstrip(),
        upTime=upTime // 100 if isinstance(upTime, int) and not isinstance(upTime, bool) else None,
        macAddress=mac,
        oui=mac.replace(":", "")[:6].upper(),
    )


def read(varbinds: Varbinds, device: Optional[int] = None) -> Readings:
    """
    The L{ippsource.Readings} of one walk: C{device} is the printer's
    hrDeviceIndex (by default L{printerIndex}, else 1, the index the
    Printer-MIB's examples use).
    """
    walk = _Walk(varbinds)
    if device is None:
        device = _printerIndex(walk) or 1
    readings = Readings(identity=_identity(walk, device))
    _scalars(walk, device, readings)
    _markers(walk, device, readings)
    _supplyRows(walk, device, readings)
    _trayRows(walk, device, readings)
    _storageRows(walk, readings)
    _interfaceRows(walk, readings)
    _consoleRows(walk, device, readings)
    return readings


def restarted(before: int, after: int, elapsed: float, tolerance: float = RESTART_TOLERANCE) -> bool:
    """
    Whether the printer restarted between two readings of its up-time
    (L{Identity.upTime}, seconds) C{elapsed} seconds apart: it went back, or
    grew by less than the time that passed (a restart in between), beyond
    C{tolerance} — except sysUpTime's wrap after 2**32 ticks.
    """
    expected = before + elapsed
    if after >= expected - tolerance:
        return False
    return not (expected >= UPTIME_WRAP - tolerance and abs(after - (expected - UPTIME_WRAP)) <= tolerance)


# ---- writes ------------------------------------------------------------------------------

# Which path writes which object (PRINTERS.md section 5): SNMP SET of an
# OCTET STRING, the value's UTF-8 octets verbatim.
WRITES: Mapping[str, str] = {
    DESCRIPTION + "OwnerVCard": "sysContact",
    DESCRIPTION + "ServiceLocation": "sysLocation",
}
# DisplayString (SIZE (0..255)); a longer OwnerVCard is refused before any
# SET (9007). ServiceLocation's SM maxLength 127 is the model's own check.
MAX_OCTETS: Mapping[str, int] = {"sysContact": 255, "sysLocation": 255}

# The RPCs prtGeneralReset serves (PRINTERS.md section 5) -> the PrtGeneralResetTC label SET.
RESETS: Mapping[str, str] = {"Reboot": "powerCycleReset", "FactoryReset": "resetToFactoryDefaults"}


def settablePaths(writable: Iterable[str]) -> frozenset[str]:
    """The paths this printer can write: their object (by name) took a SET at probe time or is configured writable."""
    names = set(writable)
    return frozenset(path for path, name in WRITES.items() if name in names)


def encodeWrites(changes: Mapping[str, Any]) -> list[snmp.VarBind]:
    """
    The bindings (instance OID, OCTET STRING) a SET writes C{changes}
    (path -> model value) with; read the values back with L{read} and
    L{ippsource.notTaken}.

    @raise WriteError: a path with no SNMP write, or a value longer than
        its object takes.
    """
    out = []
    for path, value in changes.items():
        name = WRITES.get(path)
        if name is None:
            raise WriteError(f"{path} has no SNMP write")
        if not isinstance(value, str):
            raise WriteError(f"{path}: {value!r:.40} is not text")
        octets = value.encode("utf-8")
        if len(octets) > MAX_OCTETS[name]:
            raise WriteError(f"{name} takes at most {MAX_OCTETS[name]} octets, not {len(octets)}")
        out.append(snmp.VarBind(mib.OID[name] + (0,), snmp.Value(snmp.OCTET_STRING, octets)))
    return out


def resetWrite(rpc: str, device: int) -> snmp.VarBind:
    """The binding (prtGeneralReset of C{device}, INTEGER) a SET makes C{rpc} (L{RESETS}) happen with."""
    number = _number(mib.ENUM["prtGeneralReset"], RESETS[rpc])
    return snmp.VarBind(mib.OID["prtGeneralReset"] + (device,), snmp.Value(snmp.INTEGER, number))
