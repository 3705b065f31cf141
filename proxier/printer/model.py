# -*- test-case-name: tests.test_printer_model -*-
"""
The runtime PrintService tree, built from the generated TR-106 DM Instance
document C{data/printservice.xml} (PRINTERS.md section 3), never written by
hand: every object, table, parameter, type, enumeration, size, range, list,
access and activeNotify comes from the document; code only binds getters
and setters to paths.

API (what a printer device uses)::

    from proxier.printer import model
    decl = model.declare({
        "PrintServiceDescription.ServiceLocation": model.Binding(get, set),
        "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}."
        "MarkerSupplyDescription.MarkerSupplyCurrentLevel": model.Binding(getLevel),
    })
    tree = TreeDataModel(decl, store)          # serves Device.Services.
    tree.addInstance(model.SERVICE_TABLE, key="1", data=printer)

 - L{declare} returns C{Object("Device", Object("Services", Table(ROOT)))},
   to serve (or mount) at C{Device.Services.}; L{printServiceTable} is the
   C{PrintService} table alone.
 - Binding paths are relative to C{PrintService.{i}.}, written as the
   document writes them (C{X.{i}.} for a table row): L{BindingError} at
   build time for a path the document lacks, a setter on a read-only
   parameter, or a path that is an object or a C{...NumberOfEntries} (the
   engine counts tables itself).
 - An unbound parameter reads as its type's empty value and is never
   writable. With C{prune=True} (the default) an optional object
   (C{minEntries="0"}, tables included) with no binding below it is left
   out: an unfilled object is absent (PRINTERS.md section 3).
 - L{document} parses the packaged file once per process (through
   L{proxier.xmlsafe}, as every parse in the product); L{Document.tables}
   gives each table's C{uniqueKey} parameters and C{NumberOfEntries} name.

Measured on this machine (CPython 3.11, the same on Debian 12's python3):
L{document} parses in ~30 ms, once per process. One printer's tree (the
declarations and its L{TreeDataModel} with the PrintService instance)
takes ~0.7 ms and ~180 KiB unpruned (876 names), ~0.7 ms and ~45 KiB
pruned to what L{proxier.printer.ippsource} fills (141 names), because
the declarations of what is not bound are made once and shared by every
printer's tree (they hold no state); see
C{tests.test_printer_model.CostTests}.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Union

from proxier import xmlsafe
from proxier.asciinum import parseUnsigned
from proxier.datamodel import paths
from proxier.datamodel.declarations import CAN_DENY, FORCE_DEFAULT_ENABLED, FORCE_ENABLED, NORMAL, Object, Parameter, Setter, Table
from proxier.datamodel.types import DataType, fromSyntax

__all__ = [
    "ROOT",
    "SERVICES",
    "SERVICE_TABLE",
    "INSTANCE",
    "DATA_MODEL",
    "DOCUMENT_PATH",
    "DocumentError",
    "BindingError",
    "ParameterSpec",
    "ObjectSpec",
    "Document",
    "Binding",
    "parseDocument",
    "document",
    "declare",
    "printServiceTable",
]

#: The service object's name under C{Device.Services.}: the one place to
#: change should a C{X_<VENDOR>_} prefix ever be required (PRINTERS.md 3).
ROOT = "PrintService"
#: Where the tree L{declare} makes is served or mounted.
SERVICES = "Device.Services."
#: The table code adds the printer's one service instance to.
SERVICE_TABLE = SERVICES + ROOT + "."
#: How the document writes the service instance, the prefix of its paths.
INSTANCE = ROOT + ".{i}."
#: The print service's data model, (URN, Features) of a SupportedDataModel row: the generated document's own
#: URN (PRINTERS.md §3: the PWG's proposal, not a BBF-published model).
DATA_MODEL = ("urn:x-proxier:pwg-sm-printservice-1-0", (ROOT + ":1.0",))

DOCUMENT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "printservice.xml")
#: The packaged document is ~0.5 MB; a cap above it, as for every parse.
MAX_DOCUMENT_BYTES = 4 << 20

_ACCESS = {"readOnly": False, "readWrite": True}
# An object path below the instance: TR-106 names, each optionally a table row.
_OBJECT_PATH = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_-]*\.(?:\{i\}\.)?)*\Z")
_ACTIVE_NOTIFY = frozenset({NORMAL, CAN_DENY, FORCE_ENABLED, FORCE_DEFAULT_ENABLED})


class DocumentError(ValueError):
    """The DM Instance document is not one this module can build a tree from."""


class BindingError(ValueError):
    """A binding names something the document lacks or does not allow."""


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter as the document declares it."""

    name: str
    type: DataType
    writable: bool
    activeNotify: str = NORMAL


@dataclass
class ObjectSpec:
    """
    One object or table as the document declares it.

    @ivar path: relative to C{PrintService.{i}.} (C{""} for the instance
        itself), as the document writes it.
    @ivar name: its last name (without C{{i}}).
    @ivar uniqueKey: the parameters (relative to a row) of its first
        C{uniqueKey}, for a table.
    """

    path: str
    name: str
    table: bool
    minEntries: int
    numberOfEntries: Optional[str]
    uniqueKey: tuple[str, ...] = ()
    parameters: dict[str, ParameterSpec] = field(default_factory=dict)
    children: list["ObjectSpec"] = field(default_factory=list)
    # declarations with nothing bound, shared by every printer's tree (they hold
    # no state): an unbound parameter by its name, an unbound subtree by ("tree", prune)
    shared: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Document:
    """
    The parsed document: the model's name and the service instance's
    object tree, with every object and parameter path it declares.
    """

    model: str
    root: ObjectSpec
    objects: dict[str, ObjectSpec]
    parameters: dict[str, ParameterSpec]

    @property
    def tables(self) -> dict[str, ObjectSpec]:
        """The tables, by path (C{...X.{i}.})."""
        return {p: o for p, o in self.objects.items() if o.table}


@dataclass(frozen=True)
class Binding:
    """
    What code gives one parameter: the getter (C{get(node)}, with
    L{ObjectNode<proxier.datamodel.tree.ObjectNode>} C{node}), and for a
    parameter the document allows to be written, optionally a setter and a
    check (see L{Parameter}). A parameter with a setter is Writable.
    """

    get: Callable[[Any], Any]
    set: Optional[Setter] = None
    check: Optional[Callable[[Any, Any], None]] = None


# ---- the document ------------------------------------------------------------------


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(element: Any, name: str) -> list:
    return [c for c in element if _local(c.tag) == name]


def _entries(text: Optional[str], what: str) -> int:
    if text == "unbounded":
        return -1
    try:
        return parseUnsigned(text if text is not None else "", what="entry count")
    except ValueError as e:
        raise DocumentError(f"{what}: bad entry count {text!r} ({e})") from None


def _parameter(element: Any, namedTypes: Mapping[str, Any], owner: str) -> ParameterSpec:
    name = element.get("name") or ""
    if paths.nameError(name):
        raise DocumentError(f"{owner}: bad parameter name {name!r}")
    access = element.get("access")
    if access not in _ACCESS:
        raise DocumentError(f"{owner}{name}: access {access!r}")
    activeNotify = element.get("activeNotify", NORMAL)
    if activeNotify not in _ACTIVE_NOTIFY:
        raise DocumentError(f"{owner}{name}: activeNotify {activeNotify!r}")
    syntax = _children(element, "syntax")
    if len(syntax) != 1:
        raise DocumentError(f"{owner}{name}: {len(syntax)} syntax elements")
    try:
        dataType = fromSyntax(syntax[0], namedTypes)
    except (ValueError, TypeError, re.error) as e:
        raise DocumentError(f"{owner}{name}: {e}") from None
    return ParameterSpec(name, dataType, _ACCESS[access], activeNotify)


def _split(relative: str) -> tuple[str, str, bool]:
    """C{(parent path, own name, is a table)} of a document object path below the instance."""
    parts = relative[:-1].split(".")
    table = parts[-1] == "{i}"
    if table:
        parts.pop()
    own = parts.pop()
    return (".".join(parts) + "." if parts else ""), own, table


def parseDocument(data: Union[bytes, str]) -> Document:
    """
    The L{Document} in C{data} (a TR-106 DM Instance document whose model
    holds the C{PrintService.{i}.} table).

    @raise DocumentError: for a document that is malformed, hostile (see
        L{proxier.xmlsafe}) or not shaped as this module needs.
    """
    try:
        top = xmlsafe.parse(data, maxBytes=MAX_DOCUMENT_BYTES)
    except xmlsafe.XMLRejected as e:
        raise DocumentError(str(e)) from None
    if _local(top.tag) != "document":
        raise DocumentError(f"root element <{_local(top.tag)}> is not a DM document")
    namedTypes = {t.get("name"): t for t in _children(top, "dataType") if t.get("name")}
    models = _children(top, "model")
    if len(models) != 1:
        raise DocumentError(f"{len(models)} models in the document")
    model = models[0]
    objects: dict[str, ObjectSpec] = {}
    parameters: dict[str, ParameterSpec] = {}
    topParameters = {p.name: p for p in (_parameter(e, namedTypes, "") for e in _children(model, "parameter"))}
    root: Optional[ObjectSpec] = None
    for element in _children(model, "object"):
        name = element.get("name") or ""
        if not name.startswith(INSTANCE) or not name.endswith("."):
            raise DocumentError(f"object {name[:80]!r} is not below {INSTANCE}")
        relative = name[len(INSTANCE):]
        table = name.endswith(".{i}.")
        if not _OBJECT_PATH.match(relative) or len(name) > paths.MAX_PATH_LENGTH:
            raise DocumentError(f"object {name[:80]!r}: bad name")
        if relative in objects or (not relative and root is not None):
            raise DocumentError(f"object {name[:80]!r} declared twice")
        access = element.get("access")
        if access not in _ACCESS:
            raise DocumentError(f"{name}: access {access!r}")
        if access != "readOnly":
            raise DocumentError(f"{name}: an object the ACS adds or deletes is not supported")
        minEntries = _entries(element.get("minEntries"), name)
        maxEntries = _entries(element.get("maxEntries"), name)
        if not table and maxEntries != 1:
            raise DocumentError(f"{name}: a single object with maxEntries {maxEntries}")
        keys = _children(element, "uniqueKey")
        uniqueKey = tuple(p.get("ref") or "" for p in _children(keys[0], "parameter")) if keys else ()
        spec = ObjectSpec(
            path=relative,
            name=ROOT if not relative else _split(relative)[1],
            table=table or not relative,
            minEntries=minEntries,
            numberOfEntries=element.get("numEntriesParameter"),
            uniqueKey=uniqueKey,
        )
        if spec.table and not spec.numberOfEntries:
            raise DocumentError(f"{name}: a table without numEntriesParameter")
        for p in _children(element, "parameter"):
            param = _parameter(p, namedTypes, name)
            if param.name in spec.parameters:
                raise DocumentError(f"{name}{param.name} declared twice")
            spec.parameters[param.name] = param
        if not relative:
            root = spec
        else:
            parentPath = _split(relative)[0]
            parent = root if not parentPath else objects.get(parentPath)
            if parent is None:
                raise DocumentError(f"object {name[:80]!r} comes before its parent")
            parent.children.append(spec)
            objects[relative] = spec
    if root is None:
        raise DocumentError(f"no {INSTANCE} object")
    objects[""] = root
    for spec in objects.values():
        for p in spec.parameters.values():
            parameters[spec.path + p.name] = p
    for spec in objects.values():
        names = list(spec.parameters) + [c.name for c in spec.children]
        if len(set(names)) != len(names):
            raise DocumentError(f"{INSTANCE}{spec.path}: a name is used twice")
        if spec.table:
            owner = objects[_split(spec.path)[0]].parameters if spec.path else topParameters
            count = owner.get(spec.numberOfEntries or "")
            if count is None or count.type.base != "unsignedInt":
                raise DocumentError(f"{INSTANCE}{spec.path}: {spec.numberOfEntries} is not an unsignedInt of its parent")
            for key in spec.uniqueKey:
                if spec.path + key not in parameters:
                    raise DocumentError(f"{INSTANCE}{spec.path}: uniqueKey {key!r} is not a parameter of the row")
    return Document(model.get("name") or "", root, objects, parameters)


@functools.lru_cache(maxsize=None)
def document() -> Document:
    """The packaged document, parsed once per process (it is not per printer)."""
    with open(DOCUMENT_PATH, "rb") as f:
        return parseDocument(f.read())


# ---- the declarations --------------------------------------------------------------


def _empty(dataType: DataType) -> Callable[[Any], Any]:
    value = dataType.default()
    return lambda node: value


def _bound(spec: ObjectSpec, bound: frozenset) -> bool:
    return any(p == spec.path or p.startswith(spec.path) for p in bound)


def _declareChildren(spec: ObjectSpec, bindings: Mapping[str, Binding], counted: frozenset,
                     bound: frozenset, prune: bool) -> list:
    children: list = []
    for name, param in spec.parameters.items():
        if name in counted:
            continue  # the engine makes a table's NumberOfEntries with the table
        binding = bindings.get(spec.path + name)
        if binding is None:
            declared = spec.shared.get(name)
            if declared is None:
                declared = spec.shared[name] = Parameter(name, param.type, get=_empty(param.type),
                                                         activeNotify=param.activeNotify)
            children.append(declared)
        else:
            children.append(Parameter(name, param.type, get=binding.get, set=binding.set, check=binding.check,
                                      activeNotify=param.activeNotify))
    for child in spec.children:
        if prune and child.minEntries == 0 and not _bound(child, bound):
            continue
        children.append(_declare(child, bindings, bound, prune))
    return children


def _declare(spec: ObjectSpec, bindings: Mapping[str, Binding], bound: frozenset, prune: bool) -> Union[Object, Table]:
    if not _bound(spec, bound):
        declared = spec.shared.get(("tree", prune))
        if declared is None:
            declared = spec.shared[("tree", prune)] = _build(spec, bindings, bound, prune)
        return declared
    return _build(spec, bindings, bound, prune)


def _build(spec: ObjectSpec, bindings: Mapping[str, Binding], bound: frozenset, prune: bool) -> Union[Object, Table]:
    counted = frozenset(c.numberOfEntries for c in spec.children if c.table and c.numberOfEntries)
    children = _declareChildren(spec, bindings, counted, bound, prune)
    if spec.table:
        return Table(spec.name, *children, numberOfEntries=spec.numberOfEntries)
    return Object(spec.name, *children)


def _checkBindings(doc: Document, bindings: Mapping[str, Binding]) -> None:
    counters = {_split(o.path)[0] + (o.numberOfEntries or "") for o in doc.objects.values() if o.table and o.path}
    for path, binding in bindings.items():
        if not isinstance(binding, Binding):
            raise BindingError(f"{path}: {binding!r} is not a Binding")
        param = doc.parameters.get(path)
        if param is None:
            raise BindingError(f"{INSTANCE}{path} is not a parameter of the {doc.model} document")
        if path in counters:
            raise BindingError(f"{INSTANCE}{path} counts a table: the tree counts it itself")
        if (binding.set is not None or binding.check is not None) and not param.writable:
            raise BindingError(f"{INSTANCE}{path} is read-only in the {doc.model} document")


def printServiceTable(bindings: Mapping[str, Binding], *, doc: Optional[Document] = None,
                      prune: bool = True) -> Table:
    """
    The C{PrintService} table (its rows are C{PrintService.{i}.}) with
    C{bindings} bound, by path relative to C{PrintService.{i}.}.

    @param doc: the document (default: the packaged one).
    @param prune: leave out optional objects with nothing bound below them.
    @raise BindingError: see the module docstring.
    """
    doc = doc if doc is not None else document()
    _checkBindings(doc, bindings)
    table = _declare(doc.root, bindings, frozenset(bindings), prune)
    assert isinstance(table, Table)
    return table


def declare(bindings: Mapping[str, Binding], *, doc: Optional[Document] = None, prune: bool = True) -> Object:
    """
    The declaration to serve at C{Device.Services.}: C{Device.Services.}
    holding the L{printServiceTable} and its C{PrintServiceNumberOfEntries}.
    """
    return Object("Device", Object("Services", printServiceTable(bindings, doc=doc, prune=prune)))
