# -*- test-case-name: tests.test_upnpdm_cmstypes -*-
"""
The data types of UPnP DM ConfigurationManagement:2 (the CMS C{Type}
attribute a device gives each parameter in GetAttributes), as the TR-106
types of L{proxier.datamodel.types}.

UPnP knowledge, so it lives here and not in the data-model core: the core
knows TR-106 and TR-181 types only.
"""

from __future__ import annotations

from typing import Callable, Mapping

from proxier.datamodel.types import (
    Base64,
    Boolean,
    DataType,
    DateTime,
    HexBinary,
    Int,
    Long,
    String,
    UnsignedInt,
    UnsignedLong,
)

__all__ = ["CMS_TYPES", "fromCMSType"]

# The data types a parameter's C{Type} attribute names (the UPnP DM data
# model types), mapped to TR-106 types. C{uuid} and C{URI} are strings with
# TR-106's UUID and URI facets (TR-106 named data types of the same names).
CMS_TYPES: Mapping[str, Callable[[], DataType]] = {
    "string": String,
    "boolean": Boolean,
    "int": Int,
    "unsignedInt": UnsignedInt,
    "long": Long,
    "unsignedLong": UnsignedLong,
    "dateTime": DateTime,
    "base64": Base64,
    "hexBinary": HexBinary,
    "uuid": lambda: String(
        36,
        minLength=36,
        patterns=("[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}",),
    ),
    "URI": lambda: String(2048),
}
_FOLDED = {name.lower(): name for name in CMS_TYPES}


def fromCMSType(name: str) -> DataType:
    """
    The type of a UPnP DM parameter whose CMS C{Type} attribute is C{name}
    (case is not significant: devices differ).

    @raise ValueError: for a type UPnP DM does not define.
    """
    key = _FOLDED.get(name.strip().lower())
    if key is None:
        shown = name if len(name) <= 40 else name[:37] + "..."
        raise ValueError(f"{shown!r} is not a UPnP DM data type")
    return CMS_TYPES[key]()
