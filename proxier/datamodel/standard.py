# -*- test-case-name: tests.test_datamodel_standard -*-
"""
The types TR-181 gives its parameters, so that a proxied device's own types
do not leak to the ACS (issue 17.3).

A UPnP DM device types each parameter itself (the CMS C{Type} attribute),
and devices get it wrong: one says C{Device.DeviceInfo.ManufacturerOUI} is
C{hexBinary} where TR-181 says C{string(6)}. An ACS knows TR-181's type and
acts on the C{xsi:type}, so where TR-181 defines a parameter its type and
facets win:

 - L{typeOf}: the TR-181 type of a concrete CWMP name (instance numbers and
   aliases read as C{{i}}), or C{None} where TR-181 has no such parameter
   (a vendor extension, or one of the few C{decimal} parameters TR-106 types
   have no class for): the device's type serves there.
 - L{convert}: a device's value text, read by the device's type, as the
   TR-181 type's value, or L{ValueError} saying why it cannot be.

The table is data: C{data/tr-181-2-17-types.json}, built from the Broadband
Forum's C{tr-181-2-17-0-cwmp-full.xml} (the Device:2.17 the Virtual CWMP
Devices report as RootDataModelVersion) by C{tools/gen-tr181-types};
C{tests.test_datamodel_standard} checks it against that file entry by entry.
It is read once, on first use.

L{supportedDataModelUUID} says what a C{Device.DeviceInfo.SupportedDataModel.{i}.UUID}
holds (C{string(36)}, a UUID) when its source gives no valid one.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from functools import lru_cache
from typing import Any, Mapping, Optional

from proxier.datamodel import paths
from proxier.datamodel.types import DataType, ListOf, fromSpec

__all__ = ["DATA_FILE", "MODEL", "FORCED_INFORM", "UUID_PATTERN", "SUPPORTED_DATA_MODEL_NAMESPACE", "typeOf",
           "schemaOf", "convert", "table", "isUUID", "supportedDataModelUUID"]

DATA_FILE = os.path.join(os.path.dirname(__file__), "data", "tr-181-2-17-types.json")
#: What the table describes.
MODEL = "Device:2.17"
FORMAT = "proxier-tr181-types/1"
#: The parameters of a Device:2.17 root with forcedInform="true", in the
#: document's order: every Inform of a Device:2 endpoint carries them (TR-069
#: A.3.3.1). A model with that root declares them as its
#: L{IForcedInform<proxier.interfaces.IForcedInform>}.
FORCED_INFORM: tuple[str, ...] = (
    "Device.RootDataModelVersion",
    "Device.DeviceInfo.HardwareVersion",
    "Device.DeviceInfo.SoftwareVersion",
    "Device.DeviceInfo.ProvisioningCode",
    "Device.ManagementServer.ParameterKey",
    "Device.ManagementServer.ConnectionRequestURL",
    "Device.ManagementServer.AliasBasedAddressing",
)

#: TR-181's pattern for a UUID parameter (SupportedDataModel.{i}.UUID and others).
UUID_PATTERN = "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"
#: The namespace of the name-based UUIDs L{supportedDataModelUUID} derives:
#: C{uuid5(NAMESPACE_URL, "urn:x-proxier:supported-data-model")}, fixed here
#: so that a derived UUID never changes between releases.
SUPPORTED_DATA_MODEL_NAMESPACE = uuid.UUID("7624d7f9-14ae-550a-ade3-557066a7375c")

_UUID = re.compile(UUID_PATTERN)
_table: Optional[dict[str, DataType]] = None


def _load(path: str = DATA_FILE) -> dict[str, DataType]:
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    if document.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} document")
    types = [fromSpec(spec) for spec in document["types"]]
    out: dict[str, DataType] = {}
    for objectName, parameters in document["objects"].items():
        for leaf, index in parameters.items():
            out[objectName + leaf] = types[index]
    return out


def table() -> Mapping[str, DataType]:
    """Schema name (C{Device.Hosts.Host.{i}.IPAddress}) → TR-181 type, for every parameter in the table."""
    global _table
    if _table is None:
        _table = _load()
    return _table


def typeOf(name: str) -> Optional[DataType]:
    """The TR-181 type of the concrete parameter C{name}, or C{None} when TR-181 gives none."""
    schema = schemaOf(name)
    return None if schema is None else table().get(schema)


@lru_cache(maxsize=paths.PARSE_CACHE)
def schemaOf(name: str) -> Optional[str]:
    """
    The schema name (C{Device.Hosts.Host.{i}.IPAddress}) under which the
    table would hold the concrete parameter C{name}, or C{None} when no
    Device:2 parameter can have that name: what L{typeOf} looks up, and what
    a caller keys its own remembered typings by (names differing only in
    their instance numbers share one). Remembered, bounded as the parses
    (every value a device answers is typed by it).
    """
    if not name.startswith("Device.") or name.endswith("."):
        return None
    try:
        return paths.schemaPath(name)
    except ValueError:
        return None


def convert(text: str, deviceType: DataType, standard: DataType) -> Any:
    """
    The value of the TR-181 type C{standard} that the device's C{text} (of
    its own C{deviceType}) stands for.

    The text is read as TR-181's type first (the lexical forms mostly agree:
    a hexBinary OUI is the string it should be, an C{int} count is an
    C{unsignedInt}); failing that, the device's value itself is taken when
    it is of the kind TR-181's type holds (base64 bytes for a hexBinary
    parameter, and back), checked against TR-181's facets.

    @raise ValueError: saying why the value is not one of C{standard}.
    """
    try:
        return standard.parse(text)
    except (ValueError, TypeError) as e:
        first = e
    if type(deviceType) is not type(standard) and not isinstance(standard, ListOf):
        try:
            value = deviceType.parse(text)
            standard.check(value)
            return value
        except (ValueError, TypeError):
            pass
    raise ValueError(str(first))


def isUUID(text: str) -> bool:
    """Whether C{text} is what TR-181's C{UUID_PATTERN} accepts (36 characters, 8-4-4-4-12 hex digits)."""
    return isinstance(text, str) and _UUID.fullmatch(text) is not None


def supportedDataModelUUID(urn: str, url: str) -> str:
    """
    The UUID of a C{SupportedDataModel} row whose source gives no valid one:
    RFC 4122 version 5 of C{urn} and C{url} (joined by a space, which
    neither can hold) in L{SUPPORTED_DATA_MODEL_NAMESPACE}. Name-based, never
    random, so that a row answers the same UUID after every restart; never
    empty, as TR-181 wants 36 characters.
    """
    return str(uuid.uuid5(SUPPORTED_DATA_MODEL_NAMESPACE, f"{urn} {url}"))
