# -*- test-case-name: tests.test_sim_cmstree -*-
"""
The ConfigurationManagement:2 data-model tree of a simulated device.

Two halves, so that a thousand devices cost little memory:

 - L{Schema}: the supported tree, loaded once from a data file (see
   C{proxier/sim/data/manageable-device.json}) and shared by every device.
   Each node has the CMS attributes a device keeps (CMS:2 §2.3.2): its Type,
   its Access (C{readOnly} / C{readWrite}), EventOnChange (and whether a
   control point may change it), AlarmOnChange where supported, and the
   Version of the data model that introduced it.
 - L{Model}: one device's instances and values, with the CMS operations
   (read, atomic write, create and delete instances, attributes), each
   failing with the CMS:2 error code a real device answers.

Paths follow the CMS:2 grammar (§2.3.1; TR-330 §4.6.1): C{"/"} separates
nodes, an object or instance path ends in C{"/"}, a parameter path does not,
a table's instances are numbered from 0 (UPnP) and C{"#"} stands for "any
instance" in a StructurePath. Examples::

    /BBF/Hosts/Host/#/HostName     StructurePath of a parameter
    /BBF/Hosts/Host/               MultiInstancePath (the table)
    /BBF/Hosts/Host/2/             InstancePath
    /BBF/Hosts/Host/2/HostName     ParameterPath

Nothing here does I/O; the time a C{dateTime} needs and the values that
change by themselves (UpTime...) come from callables the device passes in.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from proxier.asciinum import parseSigned
from proxier.sim.errors import ActionError, cmsError
from proxier.upnp.cmsdoc import DataModelEntry as DataModelSpec  # one SubTree, as the control point reads it

__all__ = [
    "Schema",
    "SchemaNode",
    "DataModelSpec",
    "Model",
    "Ref",
    "Changes",
    "SchemaError",
    "LEAF_TYPES",
    "READ_ONLY",
    "READ_WRITE",
    "parsePath",
]

READ_ONLY = "readOnly"
READ_WRITE = "readWrite"

# The parameter data types a simulated device offers (the XML Schema types
# CMS:2 and TR-106 share), with the integer ranges of the numeric ones.
LEAF_TYPES: Mapping[str, Optional[tuple[int, int]]] = {
    "string": None,
    "boolean": None,
    "int": (-(2**31), 2**31 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "long": (-(2**63), 2**63 - 1),
    "unsignedLong": (0, 2**64 - 1),
    "dateTime": None,
    "base64": None,
    "hexBinary": None,
}

# The Type attribute of nodes that are not parameters.
OBJECT_TYPE = "SingleInstance"
TABLE_TYPE = "MultiInstance"
INSTANCE_TYPE = "Instance"

MAX_PATH_LENGTH = 1024
MAX_SEGMENTS = 32
MAX_VALUE_LENGTH = 4096

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INSTANCE = re.compile(r"^(0|[1-9][0-9]{0,8})$")
_HEX = re.compile(r"^([0-9A-Fa-f]{2})*$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")
_DATETIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$"
)


class SchemaError(ValueError):
    """The data file does not describe a usable tree; the text says where."""


@dataclass
class SchemaNode:
    """
    One node of the supported tree, shared by every device.

    @ivar kind: C{"object"} (single instance), C{"table"} (multi-instance; its
        C{children} are the columns of one instance) or C{"leaf"}.
    @ivar structurePath: e.g. C{"/BBF/Hosts/Host/#/HostName"}.
    @ivar access: for a leaf, whether SetValues may write it; for a table,
        whether instances may be created and deleted.
    @ivar countOf: for a C{...NumberOfEntries} leaf, the sibling table it counts.
    @ivar dynamic: the name of a value source the device computes (C{"uptime"},
        C{"now"}), for values that change by themselves.
    """

    name: str
    kind: str
    structurePath: str
    parent: Optional["SchemaNode"] = None
    children: dict[str, "SchemaNode"] = field(default_factory=dict)
    type: str = ""
    access: str = READ_ONLY
    eventOnChange: bool = False
    eventOnChangeWritable: bool = False
    alarmOnChange: Optional[bool] = None
    version: str = "1"
    default: str = ""
    enumeration: tuple[str, ...] = ()
    minimum: Optional[int] = None
    maximum: Optional[int] = None
    maxLength: Optional[int] = None
    maxEntries: Optional[int] = None
    countOf: Optional[str] = None
    dynamic: Optional[str] = None
    factoryInstances: tuple[Mapping[str, str], ...] = ()

    @property
    def isLeaf(self) -> bool:
        return self.kind == "leaf"

    @property
    def typeAttribute(self) -> str:
        """The CMS Type attribute: the data type of a parameter, else the node kind."""
        if self.kind == "leaf":
            return self.type
        return TABLE_TYPE if self.kind == "table" else OBJECT_TYPE

    def __repr__(self) -> str:
        return f"<SchemaNode {self.structurePath} {self.kind}>"


class Schema:
    """
    The supported tree and the data models it holds, loaded from a data file.

    @ivar root: the nameless root object (C{"/"}).
    @ivar dataModels: the L{DataModelSpec}s, in the order of the file.
    @ivar bindings: parameters the device itself keeps up to date, by role
        (C{"firmwareURI"}, C{"willReboot"}...), as concrete paths.
    """

    FORMAT = "proxier-sim-datamodel/1"

    def __init__(
        self,
        root: SchemaNode,
        dataModels: Sequence[DataModelSpec],
        placeholders: frozenset[str],
        bindings: Optional[Mapping[str, str]] = None,
    ):
        self.root = root
        self.dataModels = tuple(dataModels)
        self.placeholders = placeholders
        self.bindings = dict(bindings or {})
        self._byStructurePath: dict[str, SchemaNode] = {}
        for node in self.walk():
            self._byStructurePath[node.structurePath] = node

    @classmethod
    def fromFile(cls, path: str) -> "Schema":
        """Load and check a data file; L{SchemaError} names the problem."""
        try:
            with open(path, encoding="utf-8") as f:
                document = json.load(f)
        except OSError as e:
            raise SchemaError(f"{path}: {e.strerror}") from None
        except ValueError as e:
            raise SchemaError(f"{path}: not JSON ({e})") from None
        try:
            return cls.fromDocument(document)
        except SchemaError as e:
            raise SchemaError(f"{path}: {e}") from None

    @classmethod
    def fromDocument(cls, document: Any) -> "Schema":
        """Build from the parsed JSON of a data file."""
        if not isinstance(document, dict) or document.get("format") != cls.FORMAT:
            raise SchemaError(f"not a {cls.FORMAT} document")
        root = SchemaNode(name="", kind="object", structurePath="/")
        placeholders: set[str] = set()
        nodes = document.get("nodes")
        if not isinstance(nodes, list) or not nodes:
            raise SchemaError("'nodes' must be a non-empty list")
        for index, row in enumerate(nodes):
            node = _nodeFromRow(root, row, index)
            for text in (node.default,) + node.enumeration:
                placeholders.update(_PLACEHOLDER.findall(text))
        for tablePath, rows in (document.get("instances") or {}).items():
            table = _findStructure(root, tablePath.rstrip("/") + "/#/")
            if table is None or table.kind != "table":
                raise SchemaError(f"instances given for {tablePath!r}, which is not a table")
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise SchemaError(f"instances of {tablePath!r} must be a list of objects")
            for row in rows:
                for relative, value in row.items():
                    leaf = _findRelative(table, relative)
                    if leaf is None or not leaf.isLeaf:
                        raise SchemaError(f"instance of {tablePath!r} sets unknown parameter {relative!r}")
                    if not isinstance(value, str):
                        raise SchemaError(f"instance value {tablePath}{relative} must be a string")
                    placeholders.update(_PLACEHOLDER.findall(value))
            if table.maxEntries is not None and len(rows) > table.maxEntries:
                raise SchemaError(f"{tablePath!r} has more factory instances than its maxEntries")
            table.factoryInstances = tuple(dict(r) for r in rows)
        models = []
        for entry in document.get("dataModels") or ():
            try:
                spec = DataModelSpec(
                    uri=entry["uri"], location=entry["location"],
                    url=entry.get("url", ""), description=entry.get("description", ""),
                )
            except (KeyError, TypeError):
                raise SchemaError(f"dataModels entry {entry!r} needs a uri and a location") from None
            if _findStructure(root, spec.location) is None:
                raise SchemaError(f"data model {spec.uri} is located at {spec.location}, which is not in the tree")
            models.append(spec)
        if not models:
            raise SchemaError("'dataModels' must list at least one data model")
        for node in _walk(root):
            if node.countOf is not None:
                table = node.parent.children.get(node.countOf) if node.parent else None
                if table is None or table.kind != "table":
                    raise SchemaError(f"{node.structurePath} counts {node.countOf!r}, which is not a sibling table")
        bindings = document.get("bindings") or {}
        if not isinstance(bindings, dict):
            raise SchemaError("'bindings' must map names to parameter paths")
        for name, path in bindings.items():
            node = _findStructure(root, path) if isinstance(path, str) else None
            if node is None or not node.isLeaf:
                raise SchemaError(f"binding {name!r} names {path!r}, which is not a parameter")
        return cls(root, models, frozenset(placeholders), bindings)

    def walk(self) -> Iterator[SchemaNode]:
        """Every node below the root, parents before children, in file order."""
        return _walk(self.root)

    def byStructurePath(self, path: str) -> Optional[SchemaNode]:
        return self._byStructurePath.get(path)


def _walk(node: SchemaNode) -> Iterator[SchemaNode]:
    for child in node.children.values():
        yield child
        yield from _walk(child)


def _nodeFromRow(root: SchemaNode, row: Any, index: int) -> SchemaNode:
    if not isinstance(row, dict) or not isinstance(row.get("path"), str):
        raise SchemaError(f"node #{index} needs a 'path'")
    path = row["path"]
    where = f"node {path!r}"
    known = {
        "path", "type", "access", "eventOnChange", "eventOnChangeWritable", "alarmOnChange",
        "version", "default", "enumeration", "minimum", "maximum", "maxLength", "maxEntries",
        "countOf", "dynamic", "description",
    }
    unknown = set(row) - known
    if unknown:
        raise SchemaError(f"{where}: unknown keys {sorted(unknown)}")
    if not path.startswith("/") or path == "/":
        raise SchemaError(f"{where}: a path starts with '/' and names a node")
    isTable = path.endswith("/#/")
    isObject = path.endswith("/") and not isTable
    body = path[1:-3] if isTable else path[1:-1] if isObject else path[1:]
    segments = body.split("/")
    parent = root
    needHash = False
    for segment in segments[:-1]:
        if segment == "#":
            if not needHash:
                raise SchemaError(f"{where}: '#' follows a node that is not a table")
            needHash = False
            continue
        if needHash:
            raise SchemaError(f"{where}: a table's columns sit below its '#'")
        child = parent.children.get(segment)
        if child is None or child.isLeaf:
            raise SchemaError(f"{where}: parent {segment!r} must be declared before it, as an object or table")
        parent = child
        needHash = child.kind == "table"
    if needHash:
        raise SchemaError(f"{where}: a table's columns sit below its '#'")
    name = segments[-1]
    if not _NAME.match(name):
        raise SchemaError(f"{where}: {name!r} is not a valid node name")
    if name in parent.children:
        raise SchemaError(f"{where}: declared twice")
    kind = "table" if isTable else "object" if isObject else "leaf"
    access = row.get("access", READ_ONLY)
    if access not in (READ_ONLY, READ_WRITE):
        raise SchemaError(f"{where}: access must be {READ_ONLY} or {READ_WRITE}")
    node = SchemaNode(
        name=name,
        kind=kind,
        structurePath=path,
        parent=parent,
        access=access,
        version=str(row.get("version", "1")),
        eventOnChange=bool(row.get("eventOnChange", False)),
        eventOnChangeWritable=bool(row.get("eventOnChangeWritable", False)),
        alarmOnChange=row.get("alarmOnChange"),
        dynamic=row.get("dynamic"),
        countOf=row.get("countOf"),
        maxEntries=row.get("maxEntries"),
    )
    if kind == "object" and (row.get("eventOnChange") or row.get("alarmOnChange") is not None):
        raise SchemaError(f"{where}: EventOnChange and AlarmOnChange apply to parameters and tables only")
    if kind == "leaf":
        node.type = row.get("type", "")
        if node.type not in LEAF_TYPES:
            raise SchemaError(f"{where}: type must be one of {', '.join(LEAF_TYPES)}")
        node.default = row.get("default", _typeDefault(node.type))
        if not isinstance(node.default, str):
            raise SchemaError(f"{where}: default must be a string")
        node.enumeration = tuple(row.get("enumeration", ()))
        node.minimum = row.get("minimum")
        node.maximum = row.get("maximum")
        node.maxLength = row.get("maxLength")
        if node.alarmOnChange is not None and not isinstance(node.alarmOnChange, bool):
            raise SchemaError(f"{where}: alarmOnChange must be true, false or absent")
        if node.countOf is not None and (node.type not in ("unsignedInt", "unsignedLong") or access != READ_ONLY):
            raise SchemaError(f"{where}: a countOf parameter is a read-only unsigned integer")
        if node.dynamic is not None and access != READ_ONLY:
            raise SchemaError(f"{where}: a dynamic parameter is read-only")
    elif row.get("type") is not None:
        raise SchemaError(f"{where}: only parameters have a type")
    if kind != "table" and node.maxEntries is not None:
        raise SchemaError(f"{where}: only tables have maxEntries")
    parent.children[name] = node
    return node


def _typeDefault(type_: str) -> str:
    if type_ == "boolean":
        return "0"
    if LEAF_TYPES.get(type_) is not None:
        return "0"
    if type_ == "dateTime":
        return "0001-01-01T00:00:00Z"
    return ""


def _findStructure(root: SchemaNode, path: str) -> Optional[SchemaNode]:
    """
    The schema node a StructurePath names (C{"#"} or an instance number after
    a table), or None. C{".../Table/"} and C{".../Table/#/"} both name the
    table.
    """
    if path == "/":
        return root
    try:
        segments, trailing = parsePath(path, allowWildcard=True)
    except ActionError:
        return None
    node = root
    needInstance = False
    for segment in segments:
        if needInstance:
            if segment != "#" and not _INSTANCE.match(segment):
                return None
            needInstance = False
            continue
        child = node.children.get(segment)
        if child is None:
            return None
        node = child
        needInstance = node.kind == "table"
    if node.isLeaf:
        return None if trailing else node
    return node if trailing else None


def _findRelative(table: SchemaNode, relative: str) -> Optional[SchemaNode]:
    """The parameter of one instance of C{table} at C{relative} (not inside a nested table)."""
    node: Optional[SchemaNode] = table
    for segment in relative.split("/"):
        if node is None or (node is not table and node.kind == "table"):
            return None
        node = node.children.get(segment)
    return node


def parsePath(path: Any, *, allowWildcard: bool = False) -> tuple[list[str], bool]:
    """
    Split a CMS path into its segments.

    @return: the segments and whether the path ends in C{"/"} (an object,
        table or instance) rather than naming a parameter.
    @raise ActionError: 701 Invalid Argument Syntax.
    """
    if not isinstance(path, str):
        raise cmsError(701, "path is not text")
    path = path.strip()
    if not path.startswith("/"):
        raise cmsError(701, f"path {path[:80]!r} does not start with '/'")
    if len(path) > MAX_PATH_LENGTH:
        raise cmsError(701, f"path longer than {MAX_PATH_LENGTH} characters")
    trailing = path.endswith("/")
    body = path[1:-1] if trailing else path[1:]
    if body == "":
        return [], True
    segments = body.split("/")
    if len(segments) > MAX_SEGMENTS:
        raise cmsError(701, f"path deeper than {MAX_SEGMENTS} nodes")
    for segment in segments:
        if segment == "#":
            if not allowWildcard:
                raise cmsError(701, f"'#' is not allowed in {path[:80]!r}")
        elif not (_NAME.match(segment) or _INSTANCE.match(segment)):
            raise cmsError(701, f"{segment[:40]!r} is not a node name or an instance number")
    return segments, trailing


@dataclass(frozen=True)
class Ref:
    """
    A node of one device's tree, as a path resolved to it.

    @ivar kind: C{"leaf"}, C{"object"}, C{"table"} or C{"instance"}.
    @ivar path: the concrete path (C{"/BBF/Hosts/Host/1/HostName"}).
    """

    node: SchemaNode
    kind: str
    path: str


@dataclass
class Changes:
    """What one operation changed: the CMS service turns it into events."""

    values: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.values or self.created or self.deleted)

    def extend(self, other: "Changes") -> None:
        self.values.extend(p for p in other.values if p not in self.values)
        self.created.extend(other.created)
        self.deleted.extend(other.deleted)


class Model:
    """
    One device's instances and values over a shared L{Schema}.

    @param substitutions: the device's own factory values for the
        C{{placeholders}} of the data file (C{serialNumber}...).
    @param dynamic: value sources for parameters marked C{"dynamic"}.
    """

    def __init__(
        self,
        schema: Schema,
        substitutions: Mapping[str, str],
        dynamic: Optional[Mapping[str, Callable[[], str]]] = None,
    ) -> None:
        missing = schema.placeholders - set(substitutions)
        if missing:
            raise ValueError(f"the data model needs values for {sorted(missing)}")
        self.schema = schema
        self._substitutions = dict(substitutions)
        self._dynamic = dict(dynamic or {})
        self._values: dict[str, str] = {}
        self._instances: dict[str, list[int]] = {}
        self._next: dict[str, int] = {}
        self._eventOnChange: dict[str, bool] = {}
        self._alarmOnChange: dict[str, bool] = {}
        self.factoryReset()

    # -- factory state ------------------------------------------------------

    def factoryReset(self) -> None:
        """Every value, instance and attribute back to its factory state."""
        self._values.clear()
        self._instances.clear()
        self._next.clear()
        self._eventOnChange.clear()
        self._alarmOnChange.clear()
        self._populate(self.schema.root, "")

    def setSubstitution(self, name: str, value: str) -> None:
        """Change a factory value (a firmware update changes the version)."""
        self._substitutions[name] = value

    def placeholderValues(self, name: str) -> list[tuple[str, str]]:
        """
        The parameters whose factory value uses the placeholder C{name}
        (C{"{softwareVersion}"}...), with that factory value as it reads now:
        what a firmware update changes.
        """
        out = []
        marker = "{" + name + "}"
        for leaf in self._leavesBelow(self.schema.root, ""):
            template = self._factoryTemplate(leaf)
            if template is not None and marker in template:
                out.append((leaf, self._substitute(template)))
        return out

    def _factoryTemplate(self, path: str) -> Optional[str]:
        node = self._leafNode(path)
        segments = path.split("/")
        # the innermost instance decides whether a factory row applies
        for index in range(len(segments) - 1, 0, -1):
            if _INSTANCE.match(segments[index]):
                tablePath = "/".join(segments[:index]) + "/"
                structure = "/".join("#" if _INSTANCE.match(s) else s for s in tablePath.split("/"))
                table = self.schema.byStructurePath(structure + "#/")
                number = int(segments[index])
                relative = "/".join(segments[index + 1:])
                if table is not None and number < len(table.factoryInstances):
                    row = table.factoryInstances[number]
                    if relative in row:
                        return row[relative]
                break
        return node.default

    def _substitute(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self._substitutions[m.group(1)], text)

    def _populate(self, node: SchemaNode, prefix: str) -> None:
        for child in node.children.values():
            if child.kind == "leaf":
                self._values[prefix + "/" + child.name] = self._substitute(child.default)
            elif child.kind == "object":
                self._populate(child, prefix + "/" + child.name)
            else:
                tablePath = prefix + "/" + child.name + "/"
                self._instances[tablePath] = []
                self._next[tablePath] = 0
                for row in child.factoryInstances:
                    number = self._addInstance(child, tablePath)
                    for relative, value in row.items():
                        self._values[f"{tablePath}{number}/{relative}"] = self._substitute(value)

    def _addInstance(self, table: SchemaNode, tablePath: str) -> int:
        number = self._next[tablePath]
        self._next[tablePath] = number + 1
        self._instances[tablePath].append(number)
        self._populate(table, f"{tablePath}{number}")
        return number

    # -- resolving paths ---------------------------------------------------

    def resolve(self, path: str) -> Ref:
        """
        The node a concrete path names.

        @raise ActionError: 701 for bad syntax or a C{"#"}, 703 when no such
            node exists now.
        """
        segments, trailing = parsePath(path)
        node = self.schema.root
        concrete = ""
        kind = "object"
        for index, segment in enumerate(segments):
            if kind == "table":
                if not _INSTANCE.match(segment) or int(segment) not in self._instances.get(concrete + "/", ()):
                    raise cmsError(703, f"no instance {segment} of {concrete}/")
                concrete += "/" + segment
                kind = "instance"
                continue
            child = node.children.get(segment)
            if child is None:
                raise cmsError(703, f"no node {segment!r} below {concrete or '/'}")
            node = child
            concrete += "/" + segment
            kind = child.kind
            if kind == "leaf" and index != len(segments) - 1:
                raise cmsError(703, f"{concrete} is a parameter, not an object")
        if kind == "leaf":
            if trailing:
                raise cmsError(703, f"{concrete} is a parameter; a parameter path has no trailing '/'")
            return Ref(node, "leaf", concrete)
        if not trailing:
            raise cmsError(703, f"{concrete}/ is an object; its path ends in '/'")
        return Ref(node, kind, concrete + "/")

    def expand(self, path: str) -> list[Ref]:
        """
        The nodes a path with C{"#"} wildcards names, now (a path without
        wildcards names one node). A valid pattern that matches no instance
        now names nothing.

        @raise ActionError: 701 or 703, as L{resolve}.
        """
        segments, trailing = parsePath(path, allowWildcard=True)
        if "#" not in segments:
            return [self.resolve(path)]
        if _findStructure(self.schema.root, path) is None:
            raise cmsError(703, f"no node matches {path[:120]!r}")
        found: list[str] = []

        def walk(index: int, node: SchemaNode, kind: str, prefix: str) -> None:
            if index == len(segments):
                found.append(prefix + ("/" if trailing else ""))
                return
            segment = segments[index]
            if kind == "table":
                numbers = self._instances.get(prefix + "/", ())
                if segment == "#":
                    for number in numbers:
                        walk(index + 1, node, "instance", f"{prefix}/{number}")
                elif int(segment) in numbers:
                    walk(index + 1, node, "instance", f"{prefix}/{segment}")
                return
            child = node.children[segment]
            walk(index + 1, child, child.kind, prefix + "/" + segment)

        walk(0, self.schema.root, "object", "")
        return [self.resolve(p) for p in found]

    # -- reading -----------------------------------------------------------

    def value(self, path: str) -> str:
        """The current value of a concrete parameter path (no checks)."""
        node = self._leafNode(path)
        if node.dynamic is not None:
            source = self._dynamic.get(node.dynamic)
            return source() if source is not None else self._values.get(path, "")
        if node.countOf is not None:
            table = path.rsplit("/", 1)[0] + "/" + node.countOf + "/"
            return str(len(self._instances.get(table, ())))
        return self._values[path]

    def _leafNode(self, path: str) -> SchemaNode:
        structure = "/".join("#" if _INSTANCE.match(s) else s for s in path.split("/"))
        node = self.schema.byStructurePath(structure)
        if node is None or not node.isLeaf:
            raise KeyError(path)
        return node

    def leaves(self, ref: Ref) -> Iterator[str]:
        """Every concrete parameter path at or below C{ref}, in tree order."""
        if ref.kind == "leaf":
            yield ref.path
            return
        if ref.kind == "table":
            for number in self._instances.get(ref.path, ()):
                yield from self._leavesBelow(ref.node, f"{ref.path}{number}")
            return
        base = ref.path[:-1]
        yield from self._leavesBelow(ref.node, base)

    def _leavesBelow(self, node: SchemaNode, prefix: str) -> Iterator[str]:
        for child in node.children.values():
            path = prefix + "/" + child.name
            if child.kind == "leaf":
                yield path
            elif child.kind == "object":
                yield from self._leavesBelow(child, path)
            else:
                for number in self._instances.get(path + "/", ()):
                    yield from self._leavesBelow(child, f"{path}/{number}")

    def getValues(self, paths: Iterable[str]) -> list[tuple[str, str]]:
        """
        The GetValues of CMS:2: each ContentPath is a parameter or a partial
        path (all parameters below); C{"#"} stands for every instance.
        Results keep the order asked, without duplicates.
        """
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        for path in paths:
            for ref in self.expand(path):
                for leaf in self.leaves(ref):
                    if leaf not in seen:
                        seen.add(leaf)
                        out.append((leaf, self.value(leaf)))
        return out

    def supportedParameters(self, startingNode: str, depth: int) -> list[str]:
        """
        The StructurePaths below C{startingNode} (a StructurePath), C{depth}
        levels deep (0: all); a table and its C{"#"} count as one level, and a
        table is listed as C{".../Table/#/"}. A parameter as StartingNode
        lists itself.
        """
        structure = _findStructure(self.schema.root, startingNode)
        if structure is None:
            parsePath(startingNode, allowWildcard=True)  # 701 before 703
            raise cmsError(703, f"no supported node {startingNode[:120]!r}")
        if structure.isLeaf:
            return [structure.structurePath]
        out: list[str] = []

        def visit(node: SchemaNode, level: int) -> None:
            for child in node.children.values():
                out.append(child.structurePath)
                if child.kind != "leaf" and (depth == 0 or level < depth):
                    visit(child, level + 1)

        visit(structure, 1)
        return out

    def instances(self, startingNode: str, depth: int) -> list[str]:
        """
        The InstancePaths of the instances below C{startingNode} (a partial
        path, or a table path), C{depth} levels deep (0: all).
        """
        ref = self.resolve(startingNode)
        if ref.kind == "leaf":
            raise cmsError(701, f"{ref.path} is a parameter, not a partial path")
        out: list[str] = []

        def visitTable(node: SchemaNode, tablePath: str, level: int) -> None:
            if depth and level > depth:
                return
            for number in self._instances.get(tablePath, ()):
                out.append(f"{tablePath}{number}/")
                if depth == 0 or level < depth:
                    visitObject(node, f"{tablePath}{number}", level + 1)

        def visitObject(node: SchemaNode, prefix: str, level: int) -> None:
            for child in node.children.values():
                if child.kind == "object" and (depth == 0 or level < depth):
                    visitObject(child, prefix + "/" + child.name, level + 1)
                elif child.kind == "table":
                    visitTable(child, prefix + "/" + child.name + "/", level)

        if ref.kind == "table":
            visitTable(ref.node, ref.path, 1)
        else:
            visitObject(ref.node, ref.path[:-1], 1)
        return out

    def tableOf(self, instancePath: str) -> str:
        return instancePath.rstrip("/").rsplit("/", 1)[0] + "/"

    def instanceNumbers(self, tablePath: str) -> list[int]:
        return list(self._instances.get(tablePath, ()))

    # -- writing -----------------------------------------------------------

    def checkValue(self, node: SchemaNode, text: Any) -> str:
        """
        The canonical form of C{text} for parameter C{node}.

        @raise ActionError: 704 when C{text} is not of the parameter's type,
            705 when it is but the parameter does not allow it.
        """
        if not isinstance(text, str):
            raise cmsError(704, "value is not text")
        if len(text) > MAX_VALUE_LENGTH:
            raise cmsError(705, f"value longer than {MAX_VALUE_LENGTH} characters")
        type_ = node.type
        if type_ == "boolean":
            lowered = text.strip().lower()
            if lowered in ("1", "true"):
                return "1"
            if lowered in ("0", "false"):
                return "0"
            raise cmsError(704, f"{text[:40]!r} is not a boolean")
        numeric = LEAF_TYPES.get(type_)
        if numeric is not None:
            try:  # ASCII digits, bounded: 5000 of them raised ValueError out of int()
                number = parseSigned(text.strip(" \t\r\n"), maxDigits=20)
            except ValueError:
                raise cmsError(704, f"{text[:40]!r} is not an integer") from None
            low, high = numeric
            if node.minimum is not None:
                low = max(low, node.minimum)
            if node.maximum is not None:
                high = min(high, node.maximum)
            if not low <= number <= high:
                raise cmsError(705, f"{number} is outside [{low}, {high}]")
            return str(number)
        if type_ == "dateTime":
            if not _DATETIME.match(text.strip()):
                raise cmsError(704, f"{text[:40]!r} is not a dateTime")
            return text.strip()
        if type_ == "base64":
            try:
                base64.b64decode(text.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise cmsError(704, "not base64") from None
            return text.strip()
        if type_ == "hexBinary":
            if not _HEX.match(text.strip()):
                raise cmsError(704, "not hexBinary")
            return text.strip()
        if node.maxLength is not None and len(text) > node.maxLength:
            raise cmsError(705, f"longer than {node.maxLength} characters")
        if node.enumeration:
            allowed = [self._substitute(e) for e in node.enumeration]
            if text not in allowed:
                raise cmsError(705, f"{text[:40]!r} is not one of {', '.join(allowed)}")
        return text

    def setValues(self, pairs: Sequence[tuple[str, str]], *, local: bool = False) -> Changes:
        """
        Write all or nothing: every pair is checked before any is applied.

        @param local: the device's own user writes; read-only parameters may
            change (a status, a counter), paths must still be parameters.
        @raise ActionError: 701, 703, 704, 705, 706 or 707.
        """
        planned: dict[str, str] = {}
        for path, text in pairs:
            ref = self.resolve(path)
            if ref.kind != "leaf":
                raise cmsError(703, f"{ref.path} is not a parameter")
            if ref.path in planned:
                raise cmsError(707, f"{ref.path} is set twice")
            node = ref.node
            if not local and node.access != READ_WRITE:
                raise cmsError(706, f"{ref.path} is read-only")
            if node.dynamic is not None or node.countOf is not None:
                raise cmsError(706, f"{ref.path} is computed by the device")
            planned[ref.path] = self.checkValue(node, text)
        changes = Changes()
        for path, value in planned.items():
            if self._values.get(path) != value:
                self._values[path] = value
                changes.values.append(path)
        return changes

    def createInstance(
        self, tablePath: str, initial: Sequence[tuple[str, str]] = (), *, local: bool = False
    ) -> tuple[str, Changes]:
        """
        Add an instance (UPnP numbering: from 0, never reused until a factory
        reset) with its parameters at their defaults, then C{initial}
        (relative paths); all or nothing.

        @return: the new InstancePath and what changed.
        @raise ActionError: 701, 703, 704, 705, 706 (read-only table or
            parameter), 707, 709 (the table is full).
        """
        path = tablePath.strip()
        if path.endswith("/#/"):
            path = path[:-2]
        ref = self.resolve(path)
        if ref.kind != "table":
            raise cmsError(703, f"{ref.path} is not a multi-instance object")
        table = ref.node
        if not local and table.access != READ_WRITE:
            raise cmsError(706, f"instances of {ref.path} cannot be created")
        current = self._instances[ref.path]
        if table.maxEntries is not None and len(current) >= table.maxEntries:
            raise cmsError(709, f"{ref.path} holds its maximum of {table.maxEntries} instances")
        checked: dict[str, str] = {}
        for relative, text in initial:
            relative = relative.strip().strip("/") if isinstance(relative, str) else relative
            if not isinstance(relative, str) or not relative:
                raise cmsError(701, "an initial value names no parameter")
            node = _findRelative(table, relative)
            if node is None or not node.isLeaf:
                raise cmsError(703, f"{ref.path}#/{relative} is not a parameter of the table")
            if relative in checked:
                raise cmsError(707, f"{relative} is initialized twice")
            if not local and node.access != READ_WRITE:
                raise cmsError(706, f"{ref.path}#/{relative} is read-only")
            checked[relative] = self.checkValue(node, text)
        number = self._addInstance(table, ref.path)
        instancePath = f"{ref.path}{number}/"
        for relative, value in checked.items():
            self._values[instancePath + relative] = value
        changes = Changes(created=[instancePath])
        changes.values.extend(self._countersOf(ref.path))
        return instancePath, changes

    def deleteInstance(self, instancePath: str, *, local: bool = False) -> Changes:
        """
        Remove an instance and everything below it.

        @raise ActionError: 701, 703 (no such instance), 706 (the table does
            not allow deletion).
        """
        ref = self.resolve(instancePath)
        if ref.kind != "instance":
            raise cmsError(703, f"{ref.path} is not an instance")
        if not local and ref.node.access != READ_WRITE:
            raise cmsError(706, f"instances of {self.tableOf(ref.path)} cannot be deleted")
        table = self.tableOf(ref.path)
        number = int(ref.path.rstrip("/").rsplit("/", 1)[1])
        self._instances[table].remove(number)
        prefix = ref.path
        for key in [k for k in self._values if k.startswith(prefix)]:
            del self._values[key]
        for store in (self._instances, self._next, self._eventOnChange, self._alarmOnChange):
            for key in [k for k in store if k.startswith(prefix)]:
                del store[key]
        changes = Changes(deleted=[ref.path])
        changes.values.extend(self._countersOf(table))
        return changes

    def _countersOf(self, tablePath: str) -> list[str]:
        """The NumberOfEntries parameters that count the table at C{tablePath}."""
        parentPrefix, name = tablePath.rstrip("/").rsplit("/", 1)
        structure = "/".join("#" if _INSTANCE.match(s) else s for s in tablePath.split("/"))
        table = self.schema.byStructurePath(structure + "#/")
        if table is None or table.parent is None:
            return []
        return [
            f"{parentPrefix}/{child.name}"
            for child in table.parent.children.values()
            if child.countOf == name
        ]

    # -- attributes -------------------------------------------------------

    def eventOnChange(self, ref: Ref) -> bool:
        if ref.kind not in ("leaf", "table"):
            return False
        return self._eventOnChange.get(ref.path, ref.node.eventOnChange)

    def alarmOnChange(self, ref: Ref) -> Optional[bool]:
        if ref.kind != "leaf" or ref.node.alarmOnChange is None:
            return None
        return self._alarmOnChange.get(ref.path, ref.node.alarmOnChange)

    def attributes(self, ref: Ref) -> dict[str, str]:
        """
        The CMS attributes of a node, in the order a NodeAttributeValueList
        carries them: Access, Type, EventOnChange (parameters and tables),
        AlarmOnChange (where supported), Version.
        """
        node = ref.node
        out: dict[str, str] = {}
        if ref.kind == "object":
            out["Access"] = READ_ONLY
            out["Type"] = OBJECT_TYPE
        elif ref.kind == "instance":
            out["Access"] = node.access
            out["Type"] = INSTANCE_TYPE
        else:
            out["Access"] = node.access
            out["Type"] = node.typeAttribute
            out["EventOnChange"] = "1" if self.eventOnChange(ref) else "0"
            alarm = self.alarmOnChange(ref)
            if alarm is not None:
                out["AlarmOnChange"] = "1" if alarm else "0"
        out["Version"] = node.version
        return out

    def setAttributes(self, changes: Sequence[tuple[str, str, str]]) -> list[str]:
        """
        Change EventOnChange / AlarmOnChange attributes, all or nothing.

        @param changes: C{(path, attributeName, value)} triples.
        @return: the paths whose attributes changed.
        @raise ActionError: 701, 703 (no such node or no such attribute on
            it), 704 (not a boolean), 706 (a fixed attribute), 707.
        """
        planned: dict[tuple[str, str], bool] = {}
        for path, name, text in changes:
            ref = self.resolve(path)
            current = self.attributes(ref)
            if name not in current:
                raise cmsError(703, f"{ref.path} has no attribute {name!r}")
            if name not in ("EventOnChange", "AlarmOnChange") or not ref.node.eventOnChangeWritable:
                raise cmsError(706, f"attribute {name} of {ref.path} is read-only")
            lowered = text.strip().lower() if isinstance(text, str) else ""
            if lowered not in ("0", "1", "true", "false"):
                raise cmsError(704, f"{name} takes a boolean, not {str(text)[:40]!r}")
            key = (ref.path, name)
            if key in planned:
                raise cmsError(707, f"{name} of {ref.path} is set twice")
            planned[key] = lowered in ("1", "true")
        changed: list[str] = []
        for (path, name), value in planned.items():
            store = self._eventOnChange if name == "EventOnChange" else self._alarmOnChange
            ref = self.resolve(path)
            before = self.eventOnChange(ref) if name == "EventOnChange" else self.alarmOnChange(ref)
            if before != value:
                store[path] = value
                if path not in changed:
                    changed.append(path)
        return changed

    def eventOnChangeOf(self, path: str) -> bool:
        """Whether the node at a concrete path (that exists) has EventOnChange on."""
        return self.eventOnChange(self.resolve(path))

    def alarmOnChangeOf(self, path: str) -> bool:
        """Whether the parameter at a concrete path has AlarmOnChange on."""
        return bool(self.alarmOnChange(self.resolve(path)))

    def memoryFootprint(self) -> int:
        """How many values, instances and attribute overrides this device holds."""
        return (
            len(self._values)
            + sum(len(v) for v in self._instances.values())
            + len(self._eventOnChange)
            + len(self._alarmOnChange)
        )
