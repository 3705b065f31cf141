# -*- test-case-name: tests.test_printer_sources -*-
"""
What IPP serves of a printer's PrintService tree (PRINTERS.md section 4):
a decoded Get-Printer-Attributes answer in, the values of every demo-table
row IPP can serve out, keyed by path (relative to C{PrintService.{i}.}, as
L{proxier.printer.model} binds them), table rows keyed by their native
index for the durable instance map; the device's identity; and the write
side as data (which path writes which attribute, how, and whether this
printer lists it in C{printer-settable-attributes-supported}).

Sans-IO and pure: L{read} never raises for a printer's odd value. A value
that has no mapping or does not fit its parameter's type in the document
(enumeration, size, range) is left out and named in L{Readings.problems}
for the caller to log; the tree then reads the parameter's empty value.

Impressions are never reported as sheets: C{printer-impressions-completed}
fills the impression counters and only C{printer-media-sheets-completed}
fills C{MediaUsedTotalSheets}, because with duplex they differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

from proxier.printer import conversions, ipp, model, supplies
from proxier.printer.conversions import ConversionError
from proxier.printer.supplies import SupplyError

__all__ = [
    "DESCRIPTION",
    "STATUS",
    "PDP",
    "MARKER",
    "SUPPLY",
    "INPUT_TRAY",
    "OUTPUT_TRAY",
    "MEDIA_USED",
    "SCALARS",
    "MORE_INFO",
    "ROW_PATHS",
    "WRITES",
    "WriteError",
    "Identity",
    "fits",
    "addRow",
    "addSupply",
    "addInputTray",
    "Readings",
    "read",
    "deviceId",
    "settablePaths",
    "encodeWrites",
    "notTaken",
]

DESCRIPTION = "PrintServiceDescription."
STATUS = "PrintServiceStatus."
PDP = "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing."

# The tables IPP fills (document paths of their rows).
MARKER = "PrintServiceConfiguration.Markers.Marker.{i}."
SUPPLY = MARKER + "MarkerSupplies.MarkerSupply.{i}."
INPUT_TRAY = "PrintServiceConfiguration.InputTrays.InputTray.{i}."
OUTPUT_TRAY = "PrintServiceConfiguration.OutputTrays.OutputTray.{i}."
MEDIA_USED = STATUS + "PrintServiceCounters.MediasUsed.MediaUsed.{i}."

# The row parameters each table is given (relative to the row).
ROW_PATHS: Mapping[str, tuple[str, ...]] = {
    MARKER: ("MarkerStatus.Id",),
    SUPPLY: (
        "MarkerSupplyStatus.Id",
        "MarkerSupplyDescription.MarkerSupplyCurrentLevel",
        "MarkerSupplyDescription.MarkerSupplyCurrentLevelBasis",
        "MarkerSupplyDescription.MarkerSupplyMaxCapacity",
        "MarkerSupplyDescription.MarkerSupplyMaxCapacityBasis",
        "MarkerSupplyStatus.MarkerSupplyType",
        "MarkerSupplyStatus.MarkerSupplyClass",
        "MarkerSupplyStatus.MarkerSupplyCapacityUnit",
        "MarkerSupplyStatus.MarkerSupplyInfo",
    ),
    INPUT_TRAY: (
        "InputTrayStatus.Id",
        "InputTrayDescription.InputTrayName",
        "InputTrayDescription.InputTrayCurrentLevel",
        "InputTrayDescription.InputTrayCurrentLevelBasis",
        "InputTrayDescription.InputTrayMaxCapacity",
        "InputTrayDescription.InputTrayMaxCapacityBasis",
        "InputTrayStatus.InputTrayType",
        "InputTrayStatus.InputTrayCapacityUnit",
        "InputTrayStatus.SubunitStates.SubunitState",
    ),
    OUTPUT_TRAY: (
        "OutputTrayStatus.Id",
        "OutputTrayDescription.OutputTrayName",
        "OutputTrayDescription.OutputTrayRemainingCapacity",
        "OutputTrayDescription.OutputTrayRemainingCapacityBasis",
        "OutputTrayDescription.OutputTrayMaxCapacity",
        "OutputTrayDescription.OutputTrayMaxCapacityBasis",
        "OutputTrayStatus.OutputTrayType",
        "OutputTrayStatus.OutputTrayCapacityUnit",
        "OutputTrayStatus.SubunitStates.SubunitState",
    ),
    MEDIA_USED: ("MediaUsedTotalSheets",),
}

Values = Sequence[Any]  # an attribute's values, as ipp.AttributeGroup.getAll gives them


class WriteError(ValueError):
    """A set of changes that cannot be encoded as IPP attributes."""


# ---- scalar rows: (path, attribute, conversion of the attribute's values) ----------------


def _text(values: Values) -> str:
    first = values[0]
    if isinstance(first, ipp.TextWithLanguage):
        return first.text
    if not isinstance(first, str):
        raise ConversionError(f"{first!r:.40} is not text")
    return first


def _boolean(values: Values) -> bool:
    if type(values[0]) is not bool:
        raise ConversionError(f"{values[0]!r:.40} is not a boolean")
    return values[0]


def _integer(values: Values) -> int:
    if type(values[0]) is not int:
        raise ConversionError(f"{values[0]!r:.40} is not an integer")
    return values[0]


def _keyword(values: Values) -> str:
    return conversions.keywordToWKV(values[0])


def _enum(table: Mapping[int, str], what: str) -> Callable[[Values], str]:
    return lambda values: conversions.enumToWKV(table, values[0], what)


def _dateTime(values: Values) -> Any:
    return conversions.dateTime(values[0])


def _vcard(values: Values) -> str:
    """printer-contact-col (PWG 5100.13): its contact-vcard text, else a vCard of its name and URI."""
    contact = values[0]
    if not isinstance(contact, ipp.Collection):
        raise ConversionError("printer-contact-col is not a collection")
    # contact-vcard is 1setOf text(1023): a longer vCard is split across values, so they are joined as they are
    vcard = [v.text if isinstance(v, ipp.TextWithLanguage) else v for v in contact.getAll("contact-vcard")]
    if vcard and all(isinstance(line, str) for line in vcard):
        return "".join(vcard)
    name = _text(contact.getAll("contact-name") or [""])
    uri = contact.get("contact-uri", "")
    if not isinstance(uri, str) or not (name or uri):
        raise ConversionError("printer-contact-col has no contact")
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"FN:{name}"] + ([f"URL:{uri}"] if uri else []) + ["END:VCARD", ""]
    return "\r\n".join(lines)


# Scalar parameters and the attribute each is read from (PRINTERS.md section 4).
SCALARS: tuple[tuple[str, str, Callable[[Values], Any]], ...] = (
    (DESCRIPTION + "ServiceInfo", "printer-info", _text),
    (DESCRIPTION + "ServiceLocation", "printer-location", _text),
    (DESCRIPTION + "OwnerVCard", "printer-contact-col", _vcard),
    (DESCRIPTION + "ColorSupported", "color-supported", _boolean),
    (DESCRIPTION + "MakeAndModel", "printer-make-and-model", _text),
    (DESCRIPTION + "DeviceId", "printer-device-id", _text),
    (DESCRIPTION + "ServiceName", "printer-name", _text),
    (DESCRIPTION + "MoreInfoUri", "printer-more-info", _text),
    (DESCRIPTION + "MessageFromOperator", "printer-message-from-operator", _text),
    (DESCRIPTION + "ServiceConfigChangeTime", "printer-config-change-time", _integer),
    (DESCRIPTION + "ServiceConfigChangeDateTime", "printer-config-change-date-time", _dateTime),
    (STATUS + "SerialNumber", "printer-serial-number", _text),
    (STATUS + "State", "printer-state", _enum(conversions.PRINTER_STATE, "printer-state")),
    (STATUS + "UpTime", "printer-up-time", _integer),
    (STATUS + "CurrentTime", "printer-current-time", _dateTime),
    (STATUS + "ServiceUuid", "printer-uuid", _text),
    (STATUS + "IsAcceptingJobs", "printer-is-accepting-jobs", _boolean),
    (STATUS + "QueuedJobCount", "queued-job-count", _integer),
    (STATUS + "ImpressionsCompleted", "printer-impressions-completed", _integer),
    (STATUS + "PrintServiceCounters.WorkTotals.Impressions", "printer-impressions-completed", _integer),
    (PDP + "OrientationRequested", "orientation-requested-default", _enum(conversions.ORIENTATION, "orientation-requested")),
    (PDP + "Sides", "sides-default", _keyword),
    (PDP + "Copies", "copies-default", _integer),
)
STATE_REASONS = STATUS + "StateReasons.StateReason"
RESOLUTION = PDP + "Resolution."


@dataclass(frozen=True)
class Identity:
    """
    The Virtual CWMP Device's identity from IPP (PRINTERS.md section 4,
    identity): C{serialNumber} from C{printer-serial-number}, then
    C{printer-device-id}'s C{SN:}, then C{printer-uuid}; C{upTime} is
    C{printer-up-time} as the printer gives it (None without it).
    """

    manufacturer: str
    modelName: str
    productClass: str
    serialNumber: str
    softwareVersion: str
    upTime: Optional[int]


@dataclass
class Readings:
    """
    One Get-Printer-Attributes answer as PrintService values.

    @ivar values: scalar parameter path -> value (typed for the model).
    @ivar rows: table row path (L{SUPPLY}, ...) -> native index (a tuple:
        one number per C{{i}} of the path, outermost first) -> row
        parameter path (L{ROW_PATHS}) -> value.
    @ivar problems: what was left out and why.
    """

    values: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, dict[tuple[int, ...], dict[str, Any]]] = field(default_factory=dict)
    identity: Optional[Identity] = None
    problems: list[str] = field(default_factory=list)


def fits(path: str, value: Any, readings: Readings) -> bool:
    """Whether C{value} fits the document's type of C{path}; a misfit is a problem (SNMP's readings too)."""
    try:
        model.document().parameters[path].type.check(value)
    except (TypeError, ValueError) as e:
        readings.problems.append(f"{path}: {value!r:.60} left out ({e})")
        return False
    return True


def _present(printer: ipp.AttributeGroup, name: str) -> Values:
    """The attribute's values, or C{[]} when absent or out-of-band (no-value, unknown...)."""
    attribute = printer.attributes.get(name)
    if attribute is None or any(v.outOfBand for v in attribute.values):
        return []
    return [v.value for v in attribute.values]


def _scalars(printer: ipp.AttributeGroup, readings: Readings) -> None:
    for path, name, convert in SCALARS:
        values = _present(printer, name)
        if not values:
            continue
        try:
            value = convert(values)
        except ConversionError as e:
            readings.problems.append(f"{name}: {e}")
            continue
        if fits(path, value, readings):
            readings.values[path] = value
    reasons = _present(printer, "printer-state-reasons")
    if reasons:
        allowed = model.document().parameters[STATE_REASONS].type.item.enumeration  # type: ignore[attr-defined]
        converted: list[str] = []
        for keyword in reasons:
            try:
                value = conversions.stateReasonToWKV(keyword)
            except ConversionError as e:
                readings.problems.append(f"printer-state-reasons: {e}")
                continue
            if value not in allowed:
                readings.problems.append(f"printer-state-reasons: {keyword!r:.60} has no SM StateReason")
            elif value not in converted:
                converted.append(value)
        readings.values[STATE_REASONS] = tuple(converted)
    resolution = _present(printer, "printer-resolution-default")
    if resolution:
        value = resolution[0]
        try:
            if not isinstance(value, ipp.Resolution):
                raise ConversionError(f"{value!r:.40} is not a resolution")
            fields = {
                RESOLUTION + "CrossFeedDir": value.crossFeed,
                RESOLUTION + "FeedDir": value.feed,
                RESOLUTION + "Units": conversions.enumToWKV(conversions.RESOLUTION_UNITS, value.units, "resolution units"),
            }
        except ConversionError as e:
            readings.problems.append(f"printer-resolution-default: {e}")
        else:
            if all(fits(p, v, readings) for p, v in fields.items()):
                readings.values.update(fields)


def addRow(readings: Readings, table: str, key: tuple[int, ...], row: dict[str, Any]) -> None:
    """Row C{key} of C{table}, the values that fit; a second row with the same key is a problem."""
    rows = readings.rows.setdefault(table, {})
    if key in rows:
        readings.problems.append(f"{table}: a second row with index {key} left out")
        return
    rows[key] = {rel: value for rel, value in row.items() if fits(table + rel, value, readings)}


def _supplyRows(printer: ipp.AttributeGroup, readings: Readings) -> None:
    descriptions = _present(printer, "printer-supply-description")
    raw = _present(printer, "printer-supply")
    for position, data in enumerate(raw, 1):
        try:
            s = supplies.supply(supplies.parseRow(data), position)
        except SupplyError as e:
            readings.problems.append(f"printer-supply {position}: {e}")
            continue
        info = descriptions[position - 1] if position <= len(descriptions) else ""
        addSupply(readings, s, info.text if isinstance(info, ipp.TextWithLanguage) else info)
    if raw:
        return
    # CUPS queues: marker-levels and its sibling lists (percentages; -1/-2/-3 as in the MIB)
    names = _present(printer, "marker-names")
    types = _present(printer, "marker-types")
    for position, number in enumerate(_present(printer, "marker-levels"), 1):
        try:
            if type(number) is not int:
                raise SupplyError(f"{number!r:.40} is not an integer")
            kind = types[position - 1] if position <= len(types) else "unknown"
            s = supplies.Supply(index=position, marker=1, type=conversions.keywordToWKV(kind),
                                supplyClass="Unknown", unit="Percent", maxCapacity=supplies.Level(100, supplies.ACTUAL),
                                level=supplies.level(number), colorantName="")
        except (SupplyError, ConversionError) as e:
            readings.problems.append(f"marker-levels {position}: {e}")
            continue
        addSupply(readings, s, names[position - 1] if position <= len(names) else "")


def addSupply(readings: Readings, s: supplies.Supply, info: Any) -> None:
    """The supply's row, keyed (marker, index), and its marker's row; C{info} is its description."""
    readings.rows.setdefault(MARKER, {}).setdefault((s.marker,), {"MarkerStatus.Id": s.marker})
    addRow(readings, SUPPLY, (s.marker, s.index), {
        "MarkerSupplyStatus.Id": s.index,
        "MarkerSupplyDescription.MarkerSupplyCurrentLevel": s.level.value,
        "MarkerSupplyDescription.MarkerSupplyCurrentLevelBasis": s.level.basis,
        "MarkerSupplyDescription.MarkerSupplyMaxCapacity": s.maxCapacity.value,
        "MarkerSupplyDescription.MarkerSupplyMaxCapacityBasis": s.maxCapacity.basis,
        "MarkerSupplyStatus.MarkerSupplyType": s.type,
        "MarkerSupplyStatus.MarkerSupplyClass": s.supplyClass,
        "MarkerSupplyStatus.MarkerSupplyCapacityUnit": s.unit,
        "MarkerSupplyStatus.MarkerSupplyInfo": info if isinstance(info, str) else "",
    })


def addInputTray(readings: Readings, key: tuple[int, ...], t: supplies.InputTray) -> None:
    """The input tray's row, keyed by its native index."""
    addRow(readings, INPUT_TRAY, key, {
        "InputTrayStatus.Id": key[-1],
        "InputTrayDescription.InputTrayName": t.name,
        "InputTrayDescription.InputTrayCurrentLevel": t.level.value,
        "InputTrayDescription.InputTrayCurrentLevelBasis": t.level.basis,
        "InputTrayDescription.InputTrayMaxCapacity": t.maxCapacity.value,
        "InputTrayDescription.InputTrayMaxCapacityBasis": t.maxCapacity.basis,
        "InputTrayStatus.InputTrayType": t.type,
        "InputTrayStatus.InputTrayCapacityUnit": t.unit,
        "InputTrayStatus.SubunitStates.SubunitState": t.states,
    })


def _trayRows(printer: ipp.AttributeGroup, readings: Readings) -> None:
    for position, data in enumerate(_present(printer, "printer-input-tray"), 1):
        try:
            t = supplies.inputTray(supplies.parseRow(data))
        except SupplyError as e:
            readings.problems.append(f"printer-input-tray {position}: {e}")
            continue
        addInputTray(readings, (position,), t)
    for position, data in enumerate(_present(printer, "printer-output-tray"), 1):
        try:
            o = supplies.outputTray(supplies.parseRow(data))
        except SupplyError as e:
            readings.problems.append(f"printer-output-tray {position}: {e}")
            continue
        addRow(readings, OUTPUT_TRAY, (position,), {
            "OutputTrayStatus.Id": position,
            "OutputTrayDescription.OutputTrayName": o.name,
            "OutputTrayDescription.OutputTrayRemainingCapacity": o.remaining.value,
            "OutputTrayDescription.OutputTrayRemainingCapacityBasis": o.remaining.basis,
            "OutputTrayDescription.OutputTrayMaxCapacity": o.maxCapacity.value,
            "OutputTrayDescription.OutputTrayMaxCapacityBasis": o.maxCapacity.basis,
            "OutputTrayStatus.OutputTrayType": o.type,
            "OutputTrayStatus.OutputTrayCapacityUnit": o.unit,
            "OutputTrayStatus.SubunitStates.SubunitState": o.states,
        })


def _counters(printer: ipp.AttributeGroup, readings: Readings) -> None:
    sheets = _present(printer, "printer-media-sheets-completed")
    if sheets:
        if type(sheets[0]) is int:
            addRow(readings, MEDIA_USED, (1,), {"MediaUsedTotalSheets": sheets[0]})
        else:
            readings.problems.append(f"printer-media-sheets-completed: {sheets[0]!r:.40} is not an integer")


def deviceId(text: str) -> dict[str, str]:
    """IEEE 1284 device ID (C{printer-device-id}): C{KEY:value;} pairs, keys upper-cased; the first of a key wins."""
    pairs: dict[str, str] = {}
    for item in text.split(";"):
        key, sep, value = item.partition(":")
        if sep and key.strip():
            pairs.setdefault(key.strip().upper(), value.strip())
    return pairs


def _firstText(printer: ipp.AttributeGroup, name: str) -> str:
    values = _present(printer, name)
    try:
        return _text(values).strip() if values else ""
    except ConversionError:
        return ""


def _identity(printer: ipp.AttributeGroup) -> Identity:
    makeAndModel = _firstText(printer, "printer-make-and-model")
    ids = deviceId(_firstText(printer, "printer-device-id"))
    uuid = _firstText(printer, "printer-uuid")
    serial = (_firstText(printer, "printer-serial-number") or ids.get("SN") or ids.get("SERIALNUMBER")
              or (uuid[len("urn:uuid:"):] if uuid.lower().startswith("urn:uuid:") else uuid))
    upTime = _present(printer, "printer-up-time")
    return Identity(
        manufacturer=ids.get("MFG") or ids.get("MANUFACTURER") or (makeAndModel.split() or [""])[0],
        modelName=ids.get("MDL") or ids.get("MODEL") or makeAndModel,
        productClass=(makeAndModel or ids.get("MDL") or ids.get("MODEL") or "")[:64],
        serialNumber=serial[:64],
        softwareVersion=_firstText(printer, "printer-firmware-string-version")[:64],
        upTime=upTime[0] if upTime and type(upTime[0]) is int else None,
    )


MORE_INFO = DESCRIPTION + "MoreInfoUri"


def read(printer: ipp.AttributeGroup, adminURL: str = "") -> Readings:
    """
    The L{Readings} of one Get-Printer-Attributes answer's printer group.

    @param adminURL: the DNS-SD C{adminurl} of the printer's discovery
        record, if it has one: C{MoreInfoUri} (the EWS address, PRINTERS.md
        §9) where the printer gives no C{printer-more-info}.
    """
    readings = Readings(identity=_identity(printer))
    readings.values[STATUS + "Id"] = 1  # the service's uniqueKey: a printer has one PrintService
    _scalars(printer, readings)
    if adminURL and MORE_INFO not in readings.values and fits(MORE_INFO, adminURL, readings):
        readings.values[MORE_INFO] = adminURL
    _supplyRows(printer, readings)
    _trayRows(printer, readings)
    _counters(printer, readings)
    return readings


# ---- writes ------------------------------------------------------------------------------

# Which path writes which attribute (PRINTERS.md section 5; Set-Printer-Attributes,
# or CUPS-Add-Modify-Printer for a CUPS queue). The three Resolution fields
# write one printer-resolution-default value together.
WRITES: Mapping[str, str] = {
    DESCRIPTION + "ServiceLocation": "printer-location",
    DESCRIPTION + "ServiceInfo": "printer-info",
    PDP + "OrientationRequested": "orientation-requested-default",
    PDP + "Sides": "sides-default",
    PDP + "Copies": "copies-default",
    RESOLUTION + "CrossFeedDir": "printer-resolution-default",
    RESOLUTION + "FeedDir": "printer-resolution-default",
    RESOLUTION + "Units": "printer-resolution-default",
}

_TEXT, _ENUM, _KEYWORD, _INTEGER, _RESOLUTION = 0x41, 0x23, 0x44, 0x21, 0x32


def _encode(attribute: str, values: Mapping[str, Any]) -> ipp.Value:
    """The one value of C{attribute} from the model values of its paths."""
    if attribute in ("printer-location", "printer-info"):
        path = DESCRIPTION + ("ServiceLocation" if attribute == "printer-location" else "ServiceInfo")
        return ipp.Value(_TEXT, values[path])
    if attribute == "orientation-requested-default":
        return ipp.Value(_ENUM, conversions.wkvToEnum(conversions.ORIENTATION, values[PDP + "OrientationRequested"],
                                                      "orientation-requested"))
    if attribute == "sides-default":
        return ipp.Value(_KEYWORD, conversions.wkvToKeyword(values[PDP + "Sides"]))
    if attribute == "copies-default":
        return ipp.Value(_INTEGER, values[PDP + "Copies"])
    assert attribute == "printer-resolution-default"
    units = conversions.wkvToEnum(conversions.RESOLUTION_UNITS, values[RESOLUTION + "Units"], "resolution units")
    return ipp.Value(_RESOLUTION, ipp.Resolution(values[RESOLUTION + "CrossFeedDir"], values[RESOLUTION + "FeedDir"], units))


def settablePaths(printer: ipp.AttributeGroup) -> frozenset[str]:
    """The paths this printer can write: their attribute is in its C{printer-settable-attributes-supported}."""
    settable = set(_present(printer, "printer-settable-attributes-supported"))
    return frozenset(path for path, attribute in WRITES.items() if attribute in settable)


def encodeWrites(changes: Mapping[str, Any], current: Mapping[str, Any]) -> list[ipp.Attribute]:
    """
    The attributes that write C{changes} (path -> model value), one per
    attribute; a Resolution field not changed keeps its C{current} value
    (L{Readings.values}).

    @raise WriteError: a path with no IPP write, a value with no IPP
        spelling, or a Resolution field with no current value.
    """
    attributes: dict[str, None] = {}
    for path in changes:
        attribute = WRITES.get(path)
        if attribute is None:
            raise WriteError(f"{path} has no IPP write")
        attributes.setdefault(attribute)
    merged = dict(current)
    merged.update(changes)
    out = []
    for attribute in attributes:
        try:
            out.append(ipp.Attribute(attribute, (_encode(attribute, merged),)))
        except KeyError as e:
            raise WriteError(f"{attribute}: no current value of {e.args[0]}") from None
        except ConversionError as e:
            raise WriteError(f"{attribute}: {e}") from None
    return out


def notTaken(changes: Mapping[str, Any], readBack: Readings) -> list[str]:
    """The paths of C{changes} whose value read back differs (cupsd answers successful-ok to some and changes nothing)."""
    return [path for path, value in changes.items() if readBack.values.get(path) != value]
