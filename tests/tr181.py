"""
A reader of the TR-181 Device:2 XML (Broadband Forum DM Schema) for tests,
and the checks of a declared tree against it (L{ConformanceChecks}).

The file is trusted reference data from ../shared/ref, 4 MB: it is parsed
once per test run (with plain lxml, no network, no entities) and kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional

from lxml import etree

from proxier.datamodel import paths
from proxier.datamodel.types import DataType, ListOf, fromSyntax
from tests._helpers import SHARED

TR181_FULL = os.path.join(SHARED, "ref", "datamodel", "tr-181-2-17-0-cwmp-full.xml")

__all__ = ["TR181_FULL", "ParameterDef", "ObjectDef", "DataModel", "load", "available", "ConformanceChecks"]


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


class ConformanceChecks:
    """
    The checks of declared trees against TR-181, one row at a time, shared
    by the conformance tests of the proxier's own trees and of the parts the
    UPnP-DM management adds. Mixed into a C{TestCase} that sets C{standard}
    (L{load}) and C{trees} (label, model) and says which names of a tree
    C{walk} lists (L{IDataModel.getParameterNames} infos).
    """

    standard: DataModel
    trees: list[tuple[str, Any]]

    def walk(self, tree: Any) -> list:
        raise NotImplementedError

    def objectDef(self, schema: str) -> Optional[ObjectDef]:
        """
        The TR-181 object for an object path: a table itself (C{X.}, as
        GetParameterNames lists it) is TR-181's C{X.{i}.}.
        """
        if schema in self.standard.objects:
            return self.standard.objects[schema]
        return self.standard.objects.get(schema + "{i}.")

    def checkNamesExist(self) -> None:
        """Every object and parameter walked is a TR-181 name (rows as {i})."""
        for label, tree in self.trees:
            for info in self.walk(tree):
                schema = paths.schemaPath(info.name)
                if paths.isPartial(info.name):
                    self.assertIsNotNone(self.objectDef(schema), f"{label}: object {info.name}")
                else:
                    self.assertIn(schema, self.standard.parameters, f"{label}: parameter {info.name}")

    def checkAccess(self) -> None:
        """Parameters writable exactly where TR-181 says so; tables only where TR-181 lets the ACS add rows."""
        for label, tree in self.trees:
            for info in self.walk(tree):
                schema = paths.schemaPath(info.name)
                if paths.isPartial(info.name):
                    definition = self.objectDef(schema)
                    expected = definition.access == "readWrite" and definition.isTable
                    self.assertEqual(info.writable, expected, f"{label}: {info.name}")
                else:
                    self.assertEqual(info.writable, self.standard.parameters[schema].writable, f"{label}: {info.name}")

    def checkTypes(self) -> int:
        """
        Each parameter has TR-181's type (base, xsi:type, list-ness), the
        writable ones every facet too; returns how many were checked.
        """
        checked = 0
        for label, tree in self.trees:
            for info in self.walk(tree):
                if paths.isPartial(info.name):
                    continue
                standard = self.standard.parameters[paths.schemaPath(info.name)]
                expected = standard.type()
                declared = tree.parameter(info.name).type
                where = f"{label}: {info.name}"
                self.assertEqual(declared.xsiType, expected.xsiType, where)
                self.assertEqual(declared.base, expected.base, where)
                self.assertEqual(isinstance(declared, ListOf), isinstance(expected, ListOf), where)
                if standard.writable:
                    self.assertEqual(declared.spec(), expected.spec(), where)
                checked += 1
        return checked

    def checkNotificationFacts(self) -> None:
        """activeNotify, forcedInform and hidden are TR-181's for every parameter."""
        for label, tree in self.trees:
            for info in self.walk(tree):
                if paths.isPartial(info.name):
                    continue
                standard = self.standard.parameters[paths.schemaPath(info.name)]
                declared = tree.parameter(info.name)
                where = f"{label}: {info.name}"
                self.assertEqual(declared.activeNotify, standard.activeNotify, where)
                self.assertEqual(declared.forcedInform, standard.forcedInform, where)
                self.assertEqual(declared.hidden, standard.hidden, where)

    def checkEmbeddedDevice(self, tree: Any, row: str, vendor: Callable[[str], bool] = lambda name: False) -> None:
        """
        The proxier's own tree C{tree} with the EmbeddedDevice row C{row}:
        every check above, and each value of the row of its TR-181 type,
        parsed as such but for those C{vendor} names (TR-106 §3.3 vendor
        values).
        """
        self.trees = [("proxier", tree)]
        self.assertIn(row + "LastSyncTime", [i.name for i in self.walk(tree)])
        self.checkNamesExist()
        self.checkAccess()
        self.assertGreater(self.checkTypes(), 50)
        self.checkNotificationFacts()
        for value in self.successResultOf(tree.getParameterValues([row])):
            standard = self.standard.parameters[paths.schemaPath(value.name)].type()
            self.assertEqual(value.type, standard.xsiType, value.name)
            if not vendor(value.name):
                standard.parse(value.value)
