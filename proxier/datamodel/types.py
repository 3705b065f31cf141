# -*- test-case-name: tests.test_datamodel_types -*-
"""
TR-106 data types (TR-106 Amendment 8, 3.2; the DM Schema's built-in types)
as objects.

A data model declares each parameter with one of these. The type knows its
C{xsi:type} (what a GetParameterValuesResponse carries), turns wire text into
a Python value and back, and checks the facets TR-181 gives (lengths,
ranges, enumerations, patterns, list sizes):

    ======================  ==========================  ====================
    TR-106 type             Python value                C{xsi:type}
    ======================  ==========================  ====================
    string                  str                         xsd:string
    int, long               int                         xsd:int, xsd:long
    unsignedInt/-Long       int                         xsd:unsignedInt, ...
    boolean                 bool                        xsd:boolean
    dateTime                aware datetime              xsd:dateTime
    base64                  bytes                       xsd:base64Binary
    hexBinary               bytes                       xsd:hexBinary
    list of T               tuple of T's values         xsd:string
    ======================  ==========================  ====================

Parsing is lenient where real ACSes differ (INTEROP.md, CWMP 10): booleans
C{true}/C{false}/C{1}/C{0} in any case, dateTime with or without fractions and
offsets and the unknown time, surrounding white space on numbers. Formatting
is strict and consistent: C{true}/C{false}, dateTime in UTC with C{Z}.

L{acceptValue} decides what SetParameterValues answers when the ACS's value
and C{xsi:type} do not fit the parameter: 9006 for a type that cannot be
this parameter's, 9007 for a value outside its syntax or facets.

L{fromSyntax} maps a TR-181 (DM Schema) C{<syntax>} element onto these (a
proxied protocol maps its own types in its folder, for example
L{proxier.upnpdm.cmstypes}).
"""

from __future__ import annotations

import base64 as _base64
import binascii
import datetime
import re
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from proxier.asciinum import parseSigned
from proxier.datamodel._tr106time import UNKNOWN_TIME, formatDateTime, parseDateTime
from proxier.datamodel.faults import CWMPFault

__all__ = [
    "DataType",
    "String",
    "Enumeration",
    "Integer",
    "Int",
    "UnsignedInt",
    "Long",
    "UnsignedLong",
    "Boolean",
    "DateTime",
    "Base64",
    "HexBinary",
    "ListOf",
    "BASE_TYPES",
    "ACCEPTED_XSI_TYPES",
    "acceptValue",
    "xsiLocalName",
    "fromSyntax",
]

_XSD = "xsd:"


def xsiLocalName(xsiType: str) -> str:
    """The local part of an C{xsi:type} value, whatever prefix the ACS used."""
    return xsiType.rpartition(":")[2].strip()


class DataType:
    """
    A TR-106 data type with its facets.

    @cvar base: the TR-106 base type name (C{"string"}, C{"unsignedInt"}, ...).
    @cvar xsiType: what GetParameterValuesResponse carries.
    """

    base = ""
    xsiType = ""

    def parse(self, text: str) -> Any:
        """
        The value C{text} stands for, checked against the facets.

        @raise ValueError: saying why it is not a value of this type.
        """
        value = self._parse(text)
        self.check(value)
        return value

    def _parse(self, text: str) -> Any:
        raise NotImplementedError

    def check(self, value: Any) -> None:
        """
        @raise ValueError: when C{value} breaks a facet of this type.
        @raise TypeError: when C{value} is not of this type's Python kind.
        """

    def format(self, value: Any) -> str:
        """The wire text of C{value}."""
        raise NotImplementedError

    def default(self) -> Any:
        """The value a parameter of this type has before anything sets it."""
        raise NotImplementedError

    def spec(self) -> dict:
        """
        The type and its facets as plain data, in the shape L{fromSyntax}
        reads from TR-181 (used to compare a declaration with the standard).
        """
        return {"base": self.base}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.spec() == self.spec()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(sorted(self.spec().items())))

    def __repr__(self) -> str:
        facets = {k: v for k, v in self.spec().items() if k != "base" and v not in (None, (), 0)}
        inner = ", ".join(f"{k}={v!r}" for k, v in facets.items())
        return f"{type(self).__name__}({inner})"


class String(DataType):
    """
    C{string}, with TR-106 facets: length bounds, an enumeration (the value
    must be one of them) and patterns (the value must match one of them
    entirely).
    """

    base = "string"
    xsiType = _XSD + "string"

    def __init__(
        self,
        maxLength: Optional[int] = None,
        *,
        minLength: int = 0,
        enumeration: Iterable[str] = (),
        patterns: Iterable[str] = (),
    ) -> None:
        self.minLength = minLength
        self.maxLength = maxLength
        self.enumeration = tuple(enumeration)
        self.patterns = tuple(patterns)
        self._compiled = tuple(re.compile(p) for p in self.patterns)

    def _parse(self, text: str) -> str:
        if not isinstance(text, str):
            raise ValueError("not text")
        return text

    def check(self, value: Any) -> None:
        if not isinstance(value, str):
            raise TypeError(f"{value!r} is not text")
        if len(value) < self.minLength:
            raise ValueError(f"shorter than {self.minLength} characters")
        if self.maxLength is not None and len(value) > self.maxLength:
            raise ValueError(f"longer than {self.maxLength} characters")
        if self.enumeration and value not in self.enumeration:
            raise ValueError(f"{_short(value)} is not one of {', '.join(self.enumeration)}")
        if self._compiled and not any(p.fullmatch(value) for p in self._compiled):
            raise ValueError(f"{_short(value)} does not match the allowed patterns")

    def format(self, value: Any) -> str:
        return str(value)

    def default(self) -> str:
        return ""

    def spec(self) -> dict:
        return {
            "base": self.base,
            "minLength": self.minLength,
            "maxLength": self.maxLength,
            "enumeration": self.enumeration,
            "patterns": self.patterns,
        }


class Enumeration(String):
    """A C{string} that must be one of C{values} (the TR-181 C{{{enum}}})."""

    def __init__(self, values: Iterable[str], maxLength: Optional[int] = None) -> None:
        values = tuple(values)
        if not values:
            raise ValueError("an enumeration needs values")
        super().__init__(maxLength, enumeration=values)

    def default(self) -> str:
        return self.enumeration[0]


class Integer(DataType):
    """
    The integer types. C{ranges} are inclusive C{(minimum, maximum)} pairs
    (C{None} for unbounded), as TR-181's C{<range>} elements; a value must be
    in one of them (and always in the base type's own range).
    """

    low = 0
    high = 0

    def __init__(
        self,
        minimum: Optional[int] = None,
        maximum: Optional[int] = None,
        *,
        ranges: Sequence[tuple[Optional[int], Optional[int]]] = (),
    ) -> None:
        if ranges and (minimum is not None or maximum is not None):
            raise ValueError("give either minimum/maximum or ranges")
        if not ranges and (minimum is not None or maximum is not None):
            ranges = ((minimum, maximum),)
        self.ranges = tuple((lo, hi) for lo, hi in ranges)
        for lo, hi in self.ranges:
            for bound in (lo, hi):
                if bound is not None and not self.low <= bound <= self.high:
                    raise ValueError(f"range bound {bound} outside {self.base}")

    @property
    def minimum(self) -> int:
        """The smallest value allowed."""
        if not self.ranges:
            return self.low
        return min(self.low if lo is None else lo for lo, _ in self.ranges)

    @property
    def maximum(self) -> int:
        """The greatest value allowed."""
        if not self.ranges:
            return self.high
        return max(self.high if hi is None else hi for _, hi in self.ranges)

    def _parse(self, text: str) -> int:
        # xsd whiteSpace="collapse" removes XML white space only (not U+00A0 & co.);
        # 64 digits leave room for leading zeros and none for a huge int.
        try:
            return parseSigned(text.strip(" \t\r\n"), maxDigits=64)
        except ValueError:
            raise ValueError(f"{_short(text)} is not a whole number") from None

    def check(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{value!r} is not an integer")
        if not self.low <= value <= self.high:
            raise ValueError(f"{value} is outside {self.base} ({self.low} to {self.high})")
        if self.ranges and not any(
            (lo is None or lo <= value) and (hi is None or value <= hi) for lo, hi in self.ranges
        ):
            raise ValueError(f"{value} is outside the allowed range {self._rangeText()}")

    def _rangeText(self) -> str:
        parts = []
        for lo, hi in self.ranges:
            parts.append(f"{'' if lo is None else lo}..{'' if hi is None else hi}")
        return ", ".join(parts)

    def format(self, value: Any) -> str:
        return str(int(value))

    def default(self) -> int:
        if self.ranges:
            lo = self.ranges[0][0]
            return self.low if lo is None else lo
        return max(self.low, 0)

    def spec(self) -> dict:
        return {"base": self.base, "ranges": self.ranges}


class Int(Integer):
    base, xsiType, low, high = "int", _XSD + "int", -(2**31), 2**31 - 1


class UnsignedInt(Integer):
    base, xsiType, low, high = "unsignedInt", _XSD + "unsignedInt", 0, 2**32 - 1


class Long(Integer):
    base, xsiType, low, high = "long", _XSD + "long", -(2**63), 2**63 - 1


class UnsignedLong(Integer):
    base, xsiType, low, high = "unsignedLong", _XSD + "unsignedLong", 0, 2**64 - 1


class Boolean(DataType):
    """C{boolean}: reads C{true/false/1/0} in any case, writes C{true}/C{false}."""

    base = "boolean"
    xsiType = _XSD + "boolean"
    _TEXT = {"true": True, "1": True, "false": False, "0": False}

    def _parse(self, text: str) -> bool:
        try:
            return self._TEXT[text.strip().lower()]
        except KeyError:
            raise ValueError(f"{_short(text)} is not a boolean (true, false, 1 or 0)") from None

    def check(self, value: Any) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"{value!r} is not a boolean")

    def format(self, value: Any) -> str:
        return "true" if value else "false"

    def default(self) -> bool:
        return False


class DateTime(DataType):
    """C{dateTime}: any TR-106 form in, UTC with C{Z} out."""

    base = "dateTime"
    xsiType = _XSD + "dateTime"

    def _parse(self, text: str) -> datetime.datetime:
        return parseDateTime(text)

    def check(self, value: Any) -> None:
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"{value!r} is not a dateTime")

    def format(self, value: Any) -> str:
        return formatDateTime(value)

    def default(self) -> datetime.datetime:
        return UNKNOWN_TIME


class _Binary(DataType):
    """Binary types; their length facets count bytes, not encoded characters (DM Schema A.2.3.3)."""

    def __init__(self, maxLength: Optional[int] = None, *, minLength: int = 0) -> None:
        self.minLength = minLength
        self.maxLength = maxLength

    def check(self, value: Any) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError(f"{value!r} is not bytes")
        if len(value) < self.minLength:
            raise ValueError(f"shorter than {self.minLength} bytes")
        if self.maxLength is not None and len(value) > self.maxLength:
            raise ValueError(f"longer than {self.maxLength} bytes")

    def default(self) -> bytes:
        return b""

    def spec(self) -> dict:
        return {"base": self.base, "minLength": self.minLength, "maxLength": self.maxLength}


class Base64(_Binary):
    """C{base64}; white space inside the text is ignored, padding is required."""

    base = "base64"
    # The DM Schema maps base64 onto XML Schema's base64Binary; "xsd:base64"
    # is not an XML Schema type and would fail validation of the envelope.
    xsiType = _XSD + "base64Binary"

    def _parse(self, text: str) -> bytes:
        compact = "".join(text.split())
        try:
            return _base64.b64decode(compact.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise ValueError(f"{_short(text)} is not base64") from None

    def format(self, value: Any) -> str:
        return _base64.b64encode(bytes(value)).decode("ascii")


class HexBinary(_Binary):
    """C{hexBinary}; either case in, upper case (the XSD canonical form) out."""

    base = "hexBinary"
    xsiType = _XSD + "hexBinary"

    def _parse(self, text: str) -> bytes:
        stripped = text.strip()
        if len(stripped) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", stripped):
            raise ValueError(f"{_short(text)} is not hexBinary")
        return bytes.fromhex(stripped)

    def format(self, value: Any) -> str:
        return bytes(value).hex().upper()


class ListOf(DataType):
    """
    A TR-106 list: the item type's values separated by commas (white space
    around items is ignored), carried as C{xsd:string}. C{maxLength} bounds
    the whole text, C{minItems}/C{maxItems} the number of items.
    """

    xsiType = _XSD + "string"

    def __init__(
        self,
        item: DataType,
        *,
        minItems: int = 0,
        maxItems: Optional[int] = None,
        maxLength: Optional[int] = None,
    ) -> None:
        if isinstance(item, ListOf):
            raise ValueError("a list of lists is not a TR-106 type")
        self.item = item
        self.minItems = minItems
        self.maxItems = maxItems
        self.maxLength = maxLength

    @property
    def base(self) -> str:  # type: ignore[override]
        return self.item.base

    def _parse(self, text: str) -> tuple:
        if self.maxLength is not None and len(text) > self.maxLength:
            raise ValueError(f"longer than {self.maxLength} characters")
        if not text.strip():
            return ()
        values = []
        for position, part in enumerate(text.split(","), 1):
            try:
                values.append(self.item.parse(part.strip()))
            except ValueError as e:
                raise ValueError(f"item {position}: {e}") from None
        return tuple(values)

    def check(self, value: Any) -> None:
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"{value!r} is not a list")
        if len(value) < self.minItems:
            raise ValueError(f"fewer than {self.minItems} items")
        if self.maxItems is not None and len(value) > self.maxItems:
            raise ValueError(f"more than {self.maxItems} items")
        for position, item in enumerate(value, 1):
            try:
                self.item.check(item)
            except ValueError as e:
                raise ValueError(f"item {position}: {e}") from None
            if "," in self.item.format(item):
                raise ValueError(f"item {position} holds a comma")
        if self.maxLength is not None and len(self.format(value)) > self.maxLength:
            raise ValueError(f"longer than {self.maxLength} characters")

    def format(self, value: Any) -> str:
        return ",".join(self.item.format(v) for v in value)

    def default(self) -> tuple:
        return ()

    def spec(self) -> dict:
        return dict(
            self.item.spec(),
            list={"minItems": self.minItems, "maxItems": self.maxItems, "maxLength": self.maxLength},
        )


def _short(text: Any) -> str:
    text = str(text)
    return repr(text if len(text) <= 40 else text[:37] + "...")


# The TR-106 base types (TR-106 Amendment 8, 3.2 "Data types"), by name.
BASE_TYPES: Mapping[str, Callable[..., DataType]] = {
    "string": String,
    "int": Int,
    "unsignedInt": UnsignedInt,
    "long": Long,
    "unsignedLong": UnsignedLong,
    "boolean": Boolean,
    "dateTime": DateTime,
    "base64": Base64,
    "hexBinary": HexBinary,
}

_INTEGERS = frozenset({"int", "unsignedInt", "long", "unsignedLong", "integer"})
_ANY = frozenset({"string", "anySimpleType"})

# Which C{xsi:type} (local name) an ACS may give in SetParameterValues for a
# parameter of each base type; any other gives fault 9006 (TR-069 A.5.1,
# "Invalid parameter type"). Many ACSes send every value as xsd:string, and
# an integer's exact XSD type is often a guess, so a type whose lexical
# space can hold the parameter's values is accepted and the value itself is
# then checked (9007 when it does not fit).
ACCEPTED_XSI_TYPES: Mapping[str, frozenset] = {
    "string": _ANY
    | _INTEGERS
    | {"boolean", "dateTime", "base64", "base64Binary", "hexBinary"},
    "int": _ANY | _INTEGERS,
    "unsignedInt": _ANY | _INTEGERS,
    "long": _ANY | _INTEGERS,
    "unsignedLong": _ANY | _INTEGERS,
    "boolean": _ANY | {"boolean"},
    "dateTime": _ANY | {"dateTime"},
    "base64": _ANY | {"base64", "base64Binary"},
    "hexBinary": _ANY | {"hexBinary"},
}


def acceptValue(dataType: DataType, text: str, xsiType: str) -> Any:
    """
    The value an ACS's SetParameterValues entry sets, or the fault to answer.

    @param xsiType: the C{xsi:type} the ACS gave (any prefix; empty when it
        gave none, which is accepted for every type).
    @raise CWMPFault: 9006 when C{xsiType} cannot be the parameter's type (a
        list takes what a string takes), 9007 when C{text} is not a valid
        value of C{dataType}.
    """
    given = xsiLocalName(xsiType)
    if given and given not in ACCEPTED_XSI_TYPES[_listOrBase(dataType)]:
        raise CWMPFault(9006, f"Invalid parameter type ({xsiType} given, {dataType.xsiType} expected)")
    try:
        return dataType.parse(text)
    except (ValueError, TypeError) as e:
        raise CWMPFault(9007, f"Invalid parameter value ({e})") from None


def _listOrBase(dataType: DataType) -> str:
    return "string" if isinstance(dataType, ListOf) else dataType.base


# ---- TR-181 / DM Schema <syntax> ---------------------------------------------

_FACET_ELEMENTS = frozenset(
    {"size", "range", "enumeration", "pattern", "pathRef", "instanceRef", "enumerationRef", "units"}
)


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(element: Any) -> list:
    return [c for c in element if isinstance(c.tag, str)]


def _int(text: Optional[str]) -> Optional[int]:
    return None if text in (None, "", "unbounded") else int(text)  # type: ignore[arg-type]


def _typeSpec(element: Any, namedTypes: Mapping[str, Any], seen: tuple = ()) -> dict:
    """The spec of a type element (C{<string>}, C{<dataType ref=...>}, ...) with its facets."""
    tag = _local(element.tag)
    if tag == "dataType":
        ref = element.get("ref") or element.get("base")
        if not ref:
            raise ValueError("a dataType reference without ref or base")
        spec = _namedSpec(ref, namedTypes, seen)
    elif tag in BASE_TYPES:
        spec = {"base": tag}
    else:
        raise ValueError(f"unknown data type element <{tag}>")
    _applyFacets(spec, element)
    return spec


def _namedSpec(name: str, namedTypes: Mapping[str, Any], seen: tuple) -> dict:
    if name in BASE_TYPES:
        return {"base": name}
    if name in seen:
        raise ValueError(f"data type {name} refers to itself")
    definition = namedTypes.get(name)
    if definition is None:
        raise ValueError(f"unknown named data type {name}")
    base = definition.get("base")
    kids = [c for c in _children(definition) if _local(c.tag) not in ("description",)]
    listElement = next((c for c in kids if _local(c.tag) == "list"), None)
    typeElements = [c for c in kids if _local(c.tag) in BASE_TYPES or _local(c.tag) == "dataType"]
    if base:
        spec = _namedSpec(base, namedTypes, seen + (name,))
        for c in typeElements:  # a derived type may restate facets inside a type element
            _applyFacets(spec, c)
        _applyFacets(spec, definition)
    elif typeElements:
        spec = _typeSpec(typeElements[0], namedTypes, seen + (name,))
    else:
        raise ValueError(f"named data type {name} has no type")
    if listElement is not None:
        spec["list"] = _listSpec(listElement)
    return spec


def _listSpec(element: Any) -> dict:
    size = next((c for c in _children(element) if _local(c.tag) == "size"), None)
    return {
        "minItems": _int(element.get("minItems")) or 0,
        "maxItems": _int(element.get("maxItems")),
        "maxLength": _int(size.get("maxLength")) if size is not None else None,
    }


def _applyFacets(spec: dict, element: Any) -> None:
    enumeration = []
    patterns = []
    ranges = []
    for c in _children(element):
        tag = _local(c.tag)
        if tag == "size":
            if c.get("minLength") is not None:
                spec["minLength"] = int(c.get("minLength"))
            if c.get("maxLength") is not None:
                spec["maxLength"] = int(c.get("maxLength"))
        elif tag == "range":
            ranges.append((_int(c.get("minInclusive")), _int(c.get("maxInclusive"))))
        elif tag == "enumeration":
            enumeration.append(c.get("value"))
        elif tag == "pattern":
            patterns.append(c.get("value"))
    if enumeration:
        spec["enumeration"] = tuple(enumeration)
    if patterns:
        spec["patterns"] = tuple(patterns)
    if ranges:
        spec["ranges"] = tuple(ranges)


def fromSyntax(syntax: Any, namedTypes: Mapping[str, Any]) -> DataType:
    """
    The type a DM Schema C{<syntax>} element declares (an lxml element, for
    example from the TR-181 XML), following C{<dataType ref=...>} through
    C{namedTypes} (name -> C{<dataType name=...>} element) down to a base
    type, with facets inherited and overridden as the DM Schema says.

    @raise ValueError: for a syntax this module has no type for.
    """
    kids = [c for c in _children(syntax) if _local(c.tag) != "default"]
    listElement = next((c for c in kids if _local(c.tag) == "list"), None)
    typeElement = next((c for c in kids if _local(c.tag) != "list"), None)
    if typeElement is None:
        raise ValueError("a syntax without a type")
    spec = _typeSpec(typeElement, namedTypes)
    if listElement is not None:
        spec["list"] = _listSpec(listElement)
    return fromSpec(spec)


def fromSpec(spec: Mapping[str, Any]) -> DataType:
    """The type described by C{spec} (the shape L{DataType.spec} returns)."""
    base = spec["base"]
    if base == "string":
        item: DataType = String(
            spec.get("maxLength"),
            minLength=spec.get("minLength") or 0,
            enumeration=spec.get("enumeration") or (),
            patterns=spec.get("patterns") or (),
        )
    elif base in ("int", "unsignedInt", "long", "unsignedLong"):
        item = BASE_TYPES[base](ranges=spec.get("ranges") or ())
    elif base in ("base64", "hexBinary"):
        item = BASE_TYPES[base](spec.get("maxLength"), minLength=spec.get("minLength") or 0)
    elif base in BASE_TYPES:
        item = BASE_TYPES[base]()
    else:
        raise ValueError(f"unknown base type {base}")
    listSpec = spec.get("list")
    if listSpec:
        return ListOf(item, **listSpec)
    return item
