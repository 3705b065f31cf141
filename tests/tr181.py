"""
A reader of the TR-181 Device:2 XML (Broadband Forum DM Schema) for tests.

The file is trusted reference data from ../shared/ref, 4 MB: it is parsed
once per test run (with plain lxml, no network, no entities) and kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from lxml import etree

from proxier.datamodel.types import DataType, fromSyntax
from tests._helpers import SHARED

TR181_FULL = os.path.join(SHARED, "ref", "datamodel", "tr-181-2-17-0-cwmp-full.xml")

__all__ = ["TR181_FULL", "ParameterDef", "ObjectDef", "DataModel", "load", "available"]


@dataclass(frozen=True)
class ObjectDef:
    """One <object> of the model: its schema name (with {i}) and its access."""

    name: str
    access: str
    minEntries: str
    maxEntries: str
    numEntriesParameter: Optional[str]

    @property
    def isTable(self) -> bool:
        return self.name.endswith(".{i}.")


@dataclass(frozen=True)
class ParameterDef:
    """One <parameter>: full schema name, access, notification facts, and its syntax element."""

    name: str
    access: str
    activeNotify: str
    forcedInform: bool
    hidden: bool
    syntax: Any
    namedTypes: Any

    @property
    def writable(self) -> bool:
        """readWrite (and writeOnceReadOnly, which the ACS may write once) are writable in CWMP."""
        return self.access in ("readWrite", "writeOnceReadOnly")

    def type(self) -> DataType:
        """The TR-106 type, following dataType references down to a base type."""
        return fromSyntax(self.syntax, self.namedTypes)


class DataModel:
    """The objects and parameters of one <model> of a DM Schema document."""

    def __init__(self, path: str = TR181_FULL) -> None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
        root = etree.parse(path, parser).getroot()
        self.namedTypes = {e.get("name"): e for e in root if _local(e.tag) == "dataType"}
        models = [e for e in root if _local(e.tag) == "model"]
        if not models:
            raise ValueError(f"{path} holds no model")
        self.model = models[0]
        self.modelName = self.model.get("name")
        self.objects: dict[str, ObjectDef] = {}
        self.parameters: dict[str, ParameterDef] = {}
        for obj in self.model:
            if _local(obj.tag) != "object":
                continue
            name = obj.get("name")
            self.objects[name] = ObjectDef(name, obj.get("access", "readOnly"), obj.get("minEntries", "1"),
                                           obj.get("maxEntries", "1"), obj.get("numEntriesParameter"))
            for param in obj:
                if _local(param.tag) != "parameter":
                    continue
                syntax = next(c for c in param if _local(c.tag) == "syntax")
                full = name + param.get("name")
                self.parameters[full] = ParameterDef(
                    full,
                    param.get("access", "readOnly"),
                    param.get("activeNotify", "normal"),
                    param.get("forcedInform", "false") == "true",
                    syntax.get("hidden", "false") == "true",
                    syntax,
                    self.namedTypes,
                )


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def available() -> bool:
    """Whether the reference file is here (the shared/ folder beside the checkout)."""
    return os.path.exists(TR181_FULL)


@lru_cache(maxsize=1)
def load() -> DataModel:
    """The TR-181 2.17 model, parsed once per process."""
    return DataModel()
