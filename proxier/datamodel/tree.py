# -*- test-case-name: tests.test_datamodel_tree -*-
"""
The engine of a declarative, in-process data model: it serves every
parameter RPC of TR-069 Amendment 5 (A.3.2.1-A.3.2.7) exactly as the
standard says, over a tree declared with L{proxier.datamodel.declarations}.

A tree is declared once, as data::

    Object("Device",
        Parameter("RootDataModelVersion", String(32), value="2.17"),
        Object("DeviceInfo",
            Parameter("UpTime", UnsignedInt(), get=lambda node: uptime()),
            Parameter("ProvisioningCode", String(64), writable=True, persist=True,
                      activeNotify=FORCE_ENABLED, forcedInform=True),
        ),
        Table("Host", Parameter("Name", String(64), writable=True, persist=True),
              writable=True, alias=True, persist=True),
    )

and L{TreeDataModel} serves it. A L{Parameter} either keeps its own value in
the tree (persisted through L{proxier.store} when C{persist=True}) or reads it
with a getter and writes it with a setter; a L{Table} holds numbered
instances, added and deleted by the ACS (when C{writable}) or by code
(L{TreeDataModel.addInstance}), whose numbers are never reused and survive a
restart (an L{InstanceMap<proxier.proxy.instances.InstanceMap>}, keyed by
the key code gives), with its C{...NumberOfEntries} parameter made for it.

Notification attributes and the values last reported are persisted (in a
L{Baselines<proxier.proxy.baselines.Baselines>}), and value changes of
parameters with Notification on are told to change listeners (see
L{TreeDataModel.poll} and L{TreeDataModel.changed}) — also a change made
while the proxier was down; changes the ACS itself made are not (a write
made on the gateway itself, L{TreeDataModel.setParameterValuesLocally}, is).

Unlike catawampus's tree (STYLE.md), GetParameterNames reports the real
Writable, attributes and instance numbers survive a restart, and value
changes are detected both when told and by polling.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from proxier.datamodel import paths
from proxier.datamodel.capabilities import ChangeListener, ILocalWrites, INotifyingDataModel, IValidatingDataModel
from proxier.datamodel.declarations import (
    APPLIED,
    APPLIED_LATER,
    CAN_DENY,
    FORCE_DEFAULT_ENABLED,
    FORCE_ENABLED,
    Batch,
    BatchField,
    Object,
    Parameter,
    Table,
)
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault, asFault
from proxier.datamodel.types import UnsignedInt, acceptValue
from proxier.datamodel.values import (
    AttributeChange,
    Notification,
    ParameterAttributes,
    ParameterInfo,
    ParameterValue,
)
from proxier.interfaces import IDataModel, IRebaselining
from proxier.proxy.baselines import Baselines, Observed, sameText
from proxier.proxy.instances import InstanceMap
from proxier.sharing import internText
from proxier.store import Document, Retrier, Store

__all__ = [
    "ObjectNode",
    "TreeDataModel",
    "PARAMETER_METHODS",
    "MAX_REQUEST_ITEMS",
    "MAX_RESULT_ITEMS",
]

# The parameter RPCs a tree serves (TR-069 A.3.2); the others come from
# handlers given to the tree.
PARAMETER_METHODS = frozenset(
    {
        "GetParameterNames",
        "GetParameterValues",
        "SetParameterValues",
        "GetParameterAttributes",
        "SetParameterAttributes",
        "AddObject",
        "DeleteObject",
    }
)

# Caps: entries in one request (the envelope cap bounds it too) and entries
# in one answer (a runaway table must not build an answer without bound).
MAX_REQUEST_ITEMS = 10000
MAX_RESULT_ITEMS = 200000

# The form of the "tables" document: {"version", "numbers": InstanceMap.toJSON(),
# "rows": {table path: [numbers of the instances without key kept]}}.
TABLES_VERSION = 2

# What is empty is this one mapping (issue 19): a tree's handlers when it has none, a layout's.
_EMPTY: Mapping[str, Any] = MappingProxyType({})

# AccessList entries TR-069 A.3.2.4 defines.
_ACCESS_LIST_VALUES = frozenset({"Subscriber"})

# ---- the tree at run time ---------------------------------------------------------


class _Layout:
    """
    What every running object of one declaration shares, worked out once per
    declaration rather than for each node (issue 19: every device's trees
    repeat the same declarations): its parameters (with its tables'
    C{...NumberOfEntries}), their order, and where a node holds each child
    and each value the tree keeps.

    @ivar params: name → L{Parameter}.
    @ivar order: C{(kind, what)} in declaration order: C{("p", Parameter)},
        C{("o", index)} for an object, C{("t", index)} for a table, C{index}
        its place in L{ObjectNode.children}.
    @ivar childIndex: child name → its place in L{ObjectNode.children}.
    @ivar declarations: the children's L{Object}s and L{Table}s, in that order.
    @ivar valueIndex: name of a parameter the tree keeps → its place in
        L{ObjectNode.values}.
    @ivar initial: those parameters' initial values, in that order: every
        node's values until one of them is written.
    """

    __slots__ = ("params", "order", "childIndex", "declarations", "valueIndex", "initial")

    def __init__(self, children: Sequence[Any]) -> None:
        params: dict[str, Parameter] = {}
        childIndex: dict[str, int] = {}
        valueIndex: dict[str, int] = {}
        order: list[tuple[str, Any]] = []
        declarations: list[Union[Object, Table]] = []
        initial: list[Any] = []

        def add(param: Parameter) -> None:
            params[param.name] = param
            order.append(("p", param))
            if param.stored:
                valueIndex[param.name] = len(initial)
                initial.append(param.initial)

        for child in children:
            if isinstance(child, Parameter):
                add(child)
                continue
            index = childIndex[child.name] = len(declarations)
            declarations.append(child)
            if isinstance(child, Object):
                order.append(("o", index))
                continue
            if child.numberOfEntries:
                add(Parameter(child.numberOfEntries, UnsignedInt(), get=partial(_countInstances, index)))
            order.append(("t", index))
        # (an empty mapping is the shared one: models that declare a tree for each device have many layouts)
        self.params: Mapping[str, Parameter] = params or _EMPTY
        self.childIndex: Mapping[str, int] = childIndex or _EMPTY
        self.valueIndex: Mapping[str, int] = valueIndex or _EMPTY
        self.order = tuple(order)
        self.declarations = tuple(declarations)
        self.initial = tuple(initial)


def _layoutOf(declaration: Union[Object, Table]) -> _Layout:
    """The layout of an object or of a table's instances, made when a tree first serves it."""
    if declaration.layout is None:
        declaration.layout = _Layout(declaration.children)
    return declaration.layout


def _rootLayout(roots: Sequence[Object]) -> _Layout:
    """The layout of a tree's top (its top-level objects), shared by the trees of one top object."""
    if len(roots) != 1:
        return _Layout(roots)
    if roots[0].topLayout is None:
        roots[0].topLayout = _Layout(roots)
    return roots[0].topLayout


def _countInstances(index: int, node: "ObjectNode") -> int:
    """A table's C{...NumberOfEntries}: the instances of the node's child C{index}."""
    return len(node.children[index].instances)  # type: ignore[union-attr]


class ObjectNode:
    """
    One object of a running tree (a single-instance object or one instance
    of a table): what getters, setters and hooks receive. Slots, and what
    all nodes of a declaration share in their L{_Layout}: there are a few
    dozen a device (issue 19).

    @ivar path: its path, ending in C{"."} (C{""} for the top).
    @ivar instance: its instance number, or the enclosing instance's, or None.
    @ivar data: what code attached to the enclosing instance (see
        L{TreeDataModel.addInstance}), or outside any instance the tree's
        C{data}, or None.
    @ivar table: the L{_TableNode} it is an instance of, or None.
    @ivar model: the L{TreeDataModel}.
    @ivar children: its objects and tables (L{ObjectNode}, L{_TableNode}),
        placed as its layout says.
    @ivar values: the values of its parameters the tree keeps, placed as its
        layout says: the layout's initial tuple until one is written.
    """

    __slots__ = ("path", "instance", "data", "table", "model", "parent", "layout", "children", "values")

    def __init__(self, model: "TreeDataModel", path: str, layout: _Layout,
                 parent: Optional["ObjectNode"], instance: Optional[int] = None, data: Any = None,
                 table: Optional["_TableNode"] = None) -> None:
        self.model = model
        self.path = path
        self.parent = parent
        self.instance = instance if instance is not None else (parent.instance if parent else None)
        self.data = data if data is not None or table is not None else (parent.data if parent else None)
        self.table = table
        self.layout = layout
        self.values: Union[tuple, list] = layout.initial
        # outside instances, every tree of the declaration has the same paths: one string for them all
        name: Callable[[str], str] = internText if self.instance is None else str
        self.children: tuple[Union[ObjectNode, _TableNode], ...] = tuple(
            ObjectNode(model, name(path + child.name + "."), _layoutOf(child), self) if isinstance(child, Object)
            else _TableNode(model, name(path + child.name + "."), child, self)
            for child in layout.declarations)

    @property
    def params(self) -> Mapping[str, Parameter]:
        """Its parameters by name (its declaration's, with its tables' C{...NumberOfEntries})."""
        return self.layout.params

    def child(self, name: str) -> Union["ObjectNode", "_TableNode", None]:
        """Its object or table C{name}, or None."""
        index = self.layout.childIndex.get(name)
        return None if index is None else self.children[index]

    def stored(self, name: str) -> Any:
        """The value the tree keeps for its parameter C{name}."""
        return self.values[self.layout.valueIndex[name]]

    def keep(self, name: str, value: Any) -> None:
        """Keep C{value} for its parameter C{name} (its own values from the first one written)."""
        if isinstance(self.values, tuple):
            self.values = list(self.values)
        self.values[self.layout.valueIndex[name]] = value

    def value(self, name: str) -> Any:
        """The current value of this object's parameter C{name}."""
        return self.model._read(self, self.params[name])

    def __repr__(self) -> str:
        return f"<ObjectNode {self.path}>"


class _TableNode:
    """A table at run time: its instances (their numbers are the model's L{InstanceMap})."""

    __slots__ = ("model", "path", "schema", "parent", "instances")

    def __init__(self, model: "TreeDataModel", path: str, schema: Table, parent: ObjectNode) -> None:
        self.model = model
        self.path = path
        self.schema = schema
        self.parent = parent
        self.instances: dict[int, ObjectNode] = {}

    def byAlias(self, alias: str) -> Optional[ObjectNode]:
        for node in self.instances.values():
            if node.stored("Alias") == alias:
                return node
        return None

    def newInstance(self, number: int, data: Any = None) -> ObjectNode:
        node = ObjectNode(self.model, f"{self.path}{number}.", _layoutOf(self.schema), self.parent,
                          instance=number, data=data, table=self)
        if self.schema.alias:
            node.keep("Alias", f"cpe-{number}")
        return node

    def insert(self, node: ObjectNode) -> None:
        assert node.instance is not None
        self.instances[node.instance] = node
        if len(self.instances) > 1 and node.instance < max(self.instances):
            self.instances = dict(sorted(self.instances.items()))


@implementer(IDataModel, IValidatingDataModel, INotifyingDataModel, IRebaselining, ILocalWrites)
class TreeDataModel:
    """
    An L{IDataModel} serving a declared tree.

    @param roots: the top-level L{Object}s (usually one, C{Device}).
    @param store: where attributes, persisted values and instance numbers
        live (a child store of its own); None keeps them in memory only.
    @param handlers: the non-parameter RPCs this model serves: a mapping
        from C{"Reboot"}, C{"FactoryReset"}, C{"Download"}, C{"Upload"} to
        callables taking the L{IDataModel} method's arguments (and returning
        a value or a Deferred).
    @param reportForcedInform: report value changes of forced-inform
        parameters too (they are in every Inform anyway).
    @param log: a L{Logger} or L{proxier.log.DeviceLogger}.
    @param data: L{ObjectNode.data} of every object outside a table's
        instances: what the getters and setters of a declaration shared by
        many trees read their own tree's things through (the endpoint
        settings of L{managementServer<proxier.datamodel.managementserver.managementServer>}).
    """

    # slots: two or three trees a device (its vendor logs', its ManagementServer's), issue 19
    __slots__ = ("log", "_handlers", "_reportForcedInform", "_listeners", "root", "_store", "_batchDepth",
                 "_deferredSaves", "_baselines", "_numbers", "_rows", "_baselinesSaver")

    _defaultLog = Logger()

    def __init__(
        self,
        roots: Union[Object, Sequence[Object]],
        store: Optional[Store] = None,
        *,
        handlers: Optional[Mapping[str, Callable[..., Any]]] = None,
        reportForcedInform: bool = False,
        log: Any = None,
        data: Any = None,
    ) -> None:
        if isinstance(roots, Object):
            roots = (roots,)
        for root in roots:
            if not isinstance(root, Object):
                raise TypeError("the top of a tree is made of Objects")
        self.log = log if log is not None else self._defaultLog
        self._handlers: Mapping[str, Callable[..., Any]] = dict(handlers) if handlers else _EMPTY
        unknown = set(self._handlers) - {"Reboot", "FactoryReset", "Download", "Upload"}
        if unknown:
            raise ValueError(f"no such handler: {sorted(unknown)}")
        self._reportForcedInform = reportForcedInform
        self._listeners: tuple[ChangeListener, ...] = ()  # mostly one: a tuple (issue 19)
        self.root = ObjectNode(self, "", _rootLayout(tuple(roots)), None, data=data)
        self._store = store
        self._batchDepth = 0
        self._deferredSaves: Optional[set[str]] = None  # a set from the first save a batch holds back
        self._baselines = Baselines()
        self._numbers = InstanceMap()
        # table path → numbers of the instances without key kept across restarts (tables with persist)
        # the shared empty mapping until a table keeps rows (most trees never: issue 19)
        self._rows: Mapping[str, list[int]] = _EMPTY
        if store is not None:
            # made by the first save: a tree whose parameters are never watched has none (issue 19)
            self._baselinesSaver: Optional[Retrier] = None
            self._load()

    # ---- persistence -----------------------------------------------------------

    def _document(self, name: str) -> Document:
        """
        One of its documents (attributes, values, tables, baselines), made when used: a Document is only its
        store and name, and four kept a tree were a fifth of its size (issue 19).
        """
        return self._store.document(name)  # type: ignore[union-attr]

    def _load(self) -> None:
        raw = self._document("attributes").load(default={}, validate=_validateAttributes)
        reported = self._document("baselines").load(default={}, validate=_validateValues)
        # the paths kept are every device's same few: one string each for all trees
        self._baselines = Baselines({internText(p): (int(n), tuple(acl)) for p, (n, acl) in raw.items()},
                                    {internText(p): text for p, text in reported.items()})
        self._numbers, rows = _loadTables(self._document("tables").load(default={}, validate=_validateTables))
        self._rows = rows or _EMPTY
        values = self._document("values").load(default={}, validate=_validateValues)
        self._restore(self.root, values)

    def _restore(self, node: ObjectNode, values: Mapping[str, str]) -> None:
        for name, param in node.params.items():
            if param.stored and param.persist and node.path + name in values:
                text = values[node.path + name]
                try:
                    node.keep(name, param.type.parse(text))
                except ValueError as e:
                    self.log.warn("stored value of {path} ignored: {reason}", path=node.path + name, reason=str(e))
        for child in node.children:
            if isinstance(child, ObjectNode):
                self._restore(child, values)
            elif child.schema.persist:
                for number in self._rows.get(child.path, []):
                    instance = child.newInstance(number)
                    child.insert(instance)
                    self._restore(instance, values)

    # ---- saving ---------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """
        Changes made from code inside are saved once, at the end, instead of
        one atomic (fsynced) write per change: for a device's rows added or
        removed together after a poll. Nothing inside answers the ACS, so
        nothing waits for the disk in between.
        """
        self._batchDepth += 1
        try:
            yield
        finally:
            self._batchDepth -= 1
            if not self._batchDepth and self._deferredSaves:
                saves, self._deferredSaves = self._deferredSaves, None
                for save in (self._saveTables, self._saveValues, self._saveAttributes, self._saveBaselines):
                    if save.__name__ in saves:
                        save()

    def _deferred(self, save: Callable[[], None]) -> bool:
        """Whether C{save} waits for the end of a L{batch}."""
        if not self._batchDepth:
            return False
        if self._deferredSaves is None:
            self._deferredSaves = set()
        self._deferredSaves.add(save.__name__)
        return True

    def _saveValues(self) -> None:
        if self._store is None or self._deferred(self._saveValues):
            return
        out: dict[str, str] = {}
        for node, param in self._walkParams(self.root):
            if param.stored and param.persist:
                out[node.path + param.name] = param.type.format(node.stored(param.name))
        self._document("values").save(out)

    def _saveTables(self, soon: bool = False, apart: bool = False) -> None:
        """
        @param soon: coalesced (L{Document.saveSoon}): for rows code adds,
            which no RPC acknowledges — the ACS hears of them only through a
            session, which waits for the disk.
        @param apart: and out of the order (the rows code adds by key, whose
            numbers no other document refers to): devices appearing one
            after the other cost a bounded rate of bytes
            (L{APART_RATE<proxier.store.APART_RATE>}), not a rewrite of the
            whole table each.
        """
        if self._store is None or self._deferred(self._saveTables):
            return
        if soon:
            self._document("tables").saveSoon(self._tables, apart=apart)
        else:
            self._document("tables").save(self._tables())

    def _tables(self) -> dict:
        # (the rows of tables inside instances that are gone for now stay as they were)
        for table in self._walkTables(self.root):
            if table.schema.persist:
                rows = [n for n in table.instances if self._numbers.keyOf(table.path, n) is None]
                if rows:
                    if self._rows is _EMPTY:
                        self._rows = {}
                    self._rows[table.path] = rows  # type: ignore[index]
                elif table.path in self._rows:
                    del self._rows[table.path]  # type: ignore[attr-defined]
        return {"version": TABLES_VERSION, "numbers": self._numbers.toJSON(), "rows": dict(self._rows)}

    def _saveAttributes(self) -> None:
        if self._store is None or self._deferred(self._saveAttributes):
            return
        self._document("attributes").save({p: [n, list(acl)] for p, (n, acl) in sorted(self._baselines.attributes.items())})

    def _reportedValues(self) -> dict[str, str]:
        return dict(self._baselines.values)

    def _saveBaselines(self) -> None:
        """The values last reported, on disk when they changed (a failed save is retried at the next change)."""
        if self._store is None or not self._baselines.dirty or self._deferred(self._saveBaselines):
            return
        if self._baselinesSaver is None:
            # a failed save is tried again at the next change (the store logs it)
            # coalesced: the values last reported are the proxier's own observation, not an RPC's
            self._baselinesSaver = Retrier(self._document("baselines"), self._reportedValues, coalesce=True)
        if self._baselinesSaver.save():
            self._baselines.dirty = False

    # ---- walking --------------------------------------------------------------

    def _resolve(self, text: str) -> tuple[str, Any, Any]:
        """
        ("param", node, Parameter) | ("object", node, None) | ("table", tableNode, None).

        @raise CWMPFault: 9005 for a path that is invalid or names nothing here.
        """
        try:
            path = paths.parse(text)
        except paths.PathError as e:
            raise CWMPFault(9005, f"Invalid parameter name ({e.reason})") from None
        current: Union[ObjectNode, _TableNode] = self.root
        segments = path.segments
        last = len(segments) - 1
        for index, segment in enumerate(segments):
            if isinstance(current, _TableNode):
                if isinstance(segment, paths.Alias):
                    found = current.byAlias(str(segment)) if current.schema.alias else None
                elif isinstance(segment, int):
                    found = current.instances.get(segment)
                else:
                    found = None
                if found is None:
                    raise _unknown(text)
                current = found
                continue
            if not isinstance(segment, str) or isinstance(segment, paths.Alias):
                raise _unknown(text)
            if index == last and not path.partial:
                param = current.params.get(segment)
                if param is None:
                    raise _unknown(text)
                return "param", current, param
            child = current.child(segment)
            if child is None:
                raise _unknown(text)
            current = child
        if isinstance(current, _TableNode):
            return "table", current, None
        return "object", current, None

    def _walkParams(self, node: ObjectNode) -> Iterator[tuple[ObjectNode, Parameter]]:
        for kind, what in node.layout.order:
            if kind == "p":
                yield node, what
            elif kind == "o":
                yield from self._walkParams(node.children[what])  # type: ignore[arg-type]
            else:
                for instance in list(node.children[what].instances.values()):  # type: ignore[union-attr]
                    yield from self._walkParams(instance)

    def _walkTables(self, node: ObjectNode) -> Iterator[_TableNode]:
        for kind, what in node.layout.order:
            if kind == "o":
                yield from self._walkTables(node.children[what])  # type: ignore[arg-type]
            elif kind == "t":
                table = node.children[what]
                yield table  # type: ignore[misc]
                for instance in list(table.instances.values()):  # type: ignore[union-attr]
                    yield from self._walkTables(instance)

    def _paramsUnder(self, text: str) -> Iterator[tuple[ObjectNode, Parameter]]:
        kind, node, param = self._resolve(text)
        if kind == "param":
            yield node, param
        elif kind == "object":
            yield from self._walkParams(node)
        else:
            for instance in list(node.instances.values()):
                yield from self._walkParams(instance)

    def _names(self, node: ObjectNode, out: list, nextLevel: bool) -> None:
        for kind, what in node.layout.order:
            if kind == "p":
                out.append(ParameterInfo(node.path + what.name, what.writable))
            elif kind == "o":
                child = node.children[what]
                out.append(ParameterInfo(child.path, False))
                if not nextLevel:
                    self._names(child, out, False)  # type: ignore[arg-type]
            else:
                table = node.children[what]
                out.append(ParameterInfo(table.path, table.schema.writable))  # type: ignore[union-attr]
                if not nextLevel:
                    self._tableNames(table, out)  # type: ignore[arg-type]
            if len(out) > MAX_RESULT_ITEMS:
                raise CWMPFault(9004, "Resources exceeded (the answer would be too large)")

    def _tableNames(self, table: _TableNode, out: list, nextLevel: bool = False) -> None:
        for instance in list(table.instances.values()):
            out.append(ParameterInfo(instance.path, table.schema.writable))
            if not nextLevel:
                self._names(instance, out, False)

    # ---- reading ---------------------------------------------------------------

    def _read(self, node: ObjectNode, param: Parameter) -> Any:
        if param.stored:
            return node.values[node.layout.valueIndex[param.name]]  # node.stored(), inline: every value read
        try:
            return param.get(node)  # type: ignore[misc]
        except CWMPFault:
            raise
        except Exception as e:
            self.log.failure("reading {path} failed", path=node.path + param.name)
            raise asFault(e) from None

    def _text(self, node: ObjectNode, param: Parameter) -> str:
        if param.hidden:
            return ""
        value = self._read(node, param)
        try:
            return param.type.format(value)
        except (TypeError, ValueError, AttributeError) as e:
            self.log.error("{path}: value {value!r} does not fit its type: {reason}",
                           path=node.path + param.name, value=value, reason=str(e))
            raise CWMPFault(9002, "Internal error (a value does not fit its type)") from None

    def _compareText(self, node: ObjectNode, param: Parameter) -> str:
        """The text change detection compares (hidden values too, never sent)."""
        return param.type.format(self._read(node, param))

    # ---- IDataModel: names and values -----------------------------------------

    def supportedMethods(self) -> frozenset:
        return PARAMETER_METHODS | frozenset(self._handlers)

    def getParameterNames(self, path: str, nextLevel: bool) -> defer.Deferred:
        return _call(self, self._getParameterNames, path, nextLevel)

    def _getParameterNames(self, path: str, nextLevel: bool) -> list[ParameterInfo]:
        kind, node, param = self._resolve(path)
        out: list[ParameterInfo] = []
        if kind == "param":
            if nextLevel:
                raise CWMPFault(9003, "Invalid arguments (NextLevel is true for a parameter)")
            # under its instance numbers, as every answer (an alias path asked)
            return [ParameterInfo(node.path + param.name, param.writable)]
        if kind == "table":
            if not nextLevel:
                out.append(ParameterInfo(node.path, node.schema.writable))
            self._tableNames(node, out, nextLevel)
            return out
        if not nextLevel and node.path:
            out.append(ParameterInfo(node.path, node.table.schema.writable if node.table else False))
        self._names(node, out, nextLevel)
        return out

    def getParameterValues(self, names: Sequence[str]) -> defer.Deferred:
        return _call(self, self._getParameterValues, names)

    def _getParameterValues(self, names: Sequence[str]) -> list[ParameterValue]:
        _capRequest(names)
        out: list[ParameterValue] = []
        for name in names:
            kind, node, param = self._resolve(name)
            if kind == "param":
                out.append(ParameterValue(node.path + param.name, self._text(node, param), param.type.xsiType))
            elif kind == "object":
                self._values(node, out)
            else:
                for instance in list(node.instances.values()):
                    self._values(instance, out)
            _capResult(out)
        return out

    def _values(self, node: ObjectNode, out: list[ParameterValue]) -> None:
        """
        The values of the parameters at and below C{node}, in tree order,
        appended to C{out}: L{_walkParams} as one call an object rather
        than a generator resumed at every level for every parameter (a
        subtree of 223 values was 6 resumptions each).
        """
        for kind, what in node.layout.order:
            if kind == "p":
                out.append(ParameterValue(node.path + what.name, self._text(node, what), what.type.xsiType))
            elif kind == "o":
                self._values(node.children[what], out)  # type: ignore[arg-type]
            else:
                for instance in list(node.children[what].instances.values()):  # type: ignore[union-attr]
                    self._values(instance, out)
        _capResult(out)

    # ---- IDataModel: SetParameterValues ---------------------------------------------

    def validateParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return _call(self, lambda: (self._validate(values), None)[1])

    def setParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return _call(self, self._setParameterValues, values)

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        """L{ILocalWrites}: applied as the ACS's would be, then reported where Notification is on."""
        return _call(self, self._setParameterValues, values, False)

    def _validate(self, values: Sequence[ParameterValue]) -> list[tuple[ObjectNode, Parameter, Any]]:
        _capRequest(values)
        seen: set[str] = set()
        for pv in values:
            if pv.name in seen:
                raise CWMPFault(9003, f"Invalid arguments ({pv.name} appears more than once)")
            seen.add(pv.name)
        faults: list[SetParameterValuesFault] = []
        plan: list[tuple[ObjectNode, Parameter, Any]] = []
        aliases: dict[int, set] = {}
        for pv in values:
            try:
                kind, node, param = self._resolve(pv.name)
                if kind != "param":
                    raise CWMPFault(9005, "Invalid parameter name (an object cannot be set)")
                if not param.writable:
                    raise CWMPFault(9008)
                value = acceptValue(param.type, pv.value, pv.type)
                if param.check is not None:
                    try:
                        param.check(node, value)
                    except ValueError as e:
                        raise CWMPFault(9007, f"Invalid parameter value ({e})") from None
                if param.name == "Alias" and node.table is not None and node.table.schema.alias:
                    # two instances may not take the same alias in one request
                    taken = aliases.setdefault(id(node.table), set())
                    if value in taken:
                        raise CWMPFault(9007, f"Invalid parameter value (alias {value!r} given twice)")
                    taken.add(value)
                plan.append((node, param, value))
            except CWMPFault as fault:
                faults.append(SetParameterValuesFault(pv.name, fault.code, fault.string))
            except Exception as e:
                self.log.failure("checking {path} failed", path=pv.name)
                fault = asFault(e)
                faults.append(SetParameterValuesFault(pv.name, fault.code, fault.string))
        if faults:
            raise CWMPFault(9003, parameterFaults=faults)
        named: dict[str, str] = {}
        for (node, param, _), pv in zip(plan, values):
            full = node.path + param.name
            if full in named:
                # by number and by alias (TR-069 A.3.2.1: a parameter given twice is 9003)
                raise CWMPFault(9003, f"Invalid arguments ({named[full]} and {pv.name} are the same parameter)")
            named[full] = pv.name
        return plan

    def _setParameterValues(self, values: Sequence[ParameterValue], byACS: bool = True) -> int:
        plan = self._validate(values)
        status = APPLIED
        undo: list[Callable[[], None]] = []
        persist = False
        acsSet = {node.path + param.name for node, param, _ in plan} if byACS else set()
        self._baselines.markACS(acsSet)
        try:
            batches: dict[int, tuple[Batch, list]] = {}
            steps: list[Any] = []
            for node, param, value in plan:
                if isinstance(param.set, BatchField):
                    key = id(param.set.batch)
                    if key not in batches:
                        batches[key] = (param.set.batch, [])
                        steps.append(batches[key])
                    batches[key][1].append((node, param, value))
                else:
                    steps.append((node, param, value))
            for step in steps:
                if isinstance(step[0], Batch):
                    batch, members = step
                    old = [(n, p.set.key, self._read(n, p)) for n, p, _ in members]
                    result = batch.apply([(n, p.set.key, v) for n, p, v in members])
                    undo.append(lambda b=batch, o=old: b.apply(o))
                else:
                    node, param, value = step
                    if param.stored:
                        old = node.stored(param.name)
                        node.keep(param.name, value)
                        undo.append(lambda n=node, p=param, o=old: n.keep(p.name, o))
                        persist = persist or param.persist
                        result = None
                    else:
                        old = self._read(node, param)
                        result = param.set(node, value)  # type: ignore[misc, operator]
                        undo.append(lambda n=node, p=param, o=old: p.set(n, o))  # type: ignore[misc, operator]
                if result == APPLIED_LATER:
                    status = APPLIED_LATER
            if persist:
                # on disk before the answer; if it cannot be, undone (9002)
                self._saveValues()
        except Exception as e:
            self.log.failure("applying SetParameterValues failed; undoing what was applied")
            for step in reversed(undo):
                try:
                    step()
                except Exception:
                    self.log.failure("undoing a change failed")
            raise asFault(e) from None
        finally:
            self._baselines.clearMarks()
        if not byACS:
            # someone else's change: reported like any change by itself (TR-069 A.3.2.4)
            self._detect([(node, param) for node, param, _ in plan])
            return status
        # what the ACS set is the new reference: it is never reported back
        for path in acsSet:
            if path in self._baselines.values:
                kind, node, param = self._resolve(path)
                self._baseline(path, node, param)
        self._saveBaselines()
        return status

    # ---- IDataModel: attributes ---------------------------------------------------

    def _notification(self, path: str, param: Parameter) -> int:
        if param.activeNotify == FORCE_ENABLED:
            return Notification.ACTIVE
        entry = self._baselines.attributesOf(path)
        if entry is not None:
            return entry[0]
        if param.activeNotify == FORCE_DEFAULT_ENABLED:
            return Notification.ACTIVE
        return Notification.OFF

    def getParameterAttributes(self, names: Sequence[str]) -> defer.Deferred:
        return _call(self, self._getParameterAttributes, names)

    def _getParameterAttributes(self, names: Sequence[str]) -> list[ParameterAttributes]:
        _capRequest(names)
        out = []
        for name in names:
            for node, param in self._paramsUnder(name):
                path = node.path + param.name
                entry = self._baselines.attributesOf(path)
                out.append(ParameterAttributes(path, self._notification(path, param), entry[1] if entry else ()))
                if len(out) > MAX_RESULT_ITEMS:
                    raise CWMPFault(9004, "Resources exceeded (the answer would be too large)")
        return out

    def validateParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        return _call(self, lambda: (self._planAttributes(changes), None)[1])

    def setParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        return _call(self, self._setParameterAttributes, changes)

    def _planAttributes(self, changes: Sequence[AttributeChange]) -> list[tuple[str, Parameter, ObjectNode, AttributeChange]]:
        _capRequest(changes)
        plan = []
        for change in changes:
            if change.notificationChange and change.notification not in Notification.ALL:
                raise CWMPFault(
                    9003, f"Invalid arguments (Notification {change.notification} is not supported)"
                )
            if change.accessListChange:
                bad = [e for e in change.accessList if e and e not in _ACCESS_LIST_VALUES]
                if bad:
                    raise CWMPFault(9003, f"Invalid arguments (AccessList entry {bad[0]!r})")
            explicit = not paths.isPartial(change.name)
            for node, param in self._paramsUnder(change.name):
                path = node.path + param.name
                effective = change
                if change.notificationChange:
                    refused = _refusesNotification(param, change.notification)
                    if refused:
                        if explicit:
                            raise CWMPFault(9009, f"Notification request rejected ({path}: {refused})")
                        # a partial path leaves such parameters as they must be
                        effective = _withoutNotification(change)
                plan.append((path, param, node, effective))
                if len(plan) > MAX_RESULT_ITEMS:
                    raise CWMPFault(9004, "Resources exceeded (too many parameters)")
        return plan

    def _setParameterAttributes(self, changes: Sequence[AttributeChange]) -> None:
        plan = self._planAttributes(changes)
        kept = self._baselines.copy()
        try:
            self._applyAttributes(plan)
            self._saveAttributes()
        except OSError as e:
            # not on disk, so not applied (the store logged why): 9002
            self._baselines = kept
            raise asFault(e) from None
        self._saveBaselines()

    def _applyAttributes(self, plan: list) -> None:
        for path, param, node, change in plan:
            default = Notification.ACTIVE if param.activeNotify in (FORCE_ENABLED, FORCE_DEFAULT_ENABLED) else 0
            notification, accessList = self._baselines.attributesOf(path) or (default, ())
            before = self._notification(path, param)
            if change.notificationChange:
                notification = change.notification
            if change.accessListChange:
                accessList = tuple(e for e in change.accessList if e)
            self._baselines.setAttributes(path, notification, accessList, default)
            if self._notification(path, param) != Notification.OFF and before == Notification.OFF:
                self._baseline(path, node, param)
            elif self._notification(path, param) == Notification.OFF:
                self._baselines.unwatch(path)

    def _baseline(self, path: str, node: ObjectNode, param: Parameter) -> None:
        try:
            watched = self._baselines.watch(internText(path), self._compareText(node, param))
        except CWMPFault:
            self._baselines.unwatch(path)
            return
        if not watched:
            self.log.warn("more parameters with Notification than the tree watches; {path} is not", path=path)

    # ---- IDataModel: objects -----------------------------------------------------------

    def addObject(self, path: str) -> defer.Deferred:
        return _call(self, self._addObject, path)

    def _addObject(self, text: str) -> tuple[int, int]:
        alias: Optional[str] = None
        if not paths.isPartial(text) or text == "":
            raise CWMPFault(9005, "Invalid parameter name (AddObject takes a table path ending in '.')")
        try:
            parsed = paths.parse(text)
        except paths.PathError as e:
            raise CWMPFault(9005, f"Invalid parameter name ({e.reason})") from None
        if isinstance(parsed.last, paths.Alias):
            alias = str(parsed.last)
            text = parsed.parent.text
        kind, table, _ = self._resolve(text)
        if kind != "table":
            raise CWMPFault(9003, f"Invalid arguments ({text} is not a multi-instance object)")
        if not table.schema.writable:
            raise CWMPFault(9001, f"Request denied (instances of {text} cannot be added)")
        if alias is not None:
            if not table.schema.alias:
                raise CWMPFault(9003, f"Invalid arguments ({text} has no Alias)")
            if table.byAlias(alias) is not None:
                raise CWMPFault(9007, f"Invalid parameter value (alias {alias!r} is already used)")
        if table.schema.maxEntries is not None and len(table.instances) >= table.schema.maxEntries:
            raise CWMPFault(9004, f"Resources exceeded ({text} holds at most {table.schema.maxEntries})")
        number = self._numbers.following(table.path)
        node = table.newInstance(number)
        if alias is not None:
            node.keep("Alias", alias)
        status = APPLIED
        if table.schema.onAdd is not None:
            status = self._hook(table.schema.onAdd, node) or APPLIED
        try:
            self._numbers.fresh(table.path)
        except OverflowError as e:
            raise CWMPFault(9004, f"Resources exceeded ({e})") from None
        table.insert(node)
        self._saveTables()
        self._saveValues()
        self._countChanged(table)
        return number, status

    def deleteObject(self, path: str) -> defer.Deferred:
        return _call(self, self._deleteObject, path)

    def _deleteObject(self, text: str) -> int:
        if not paths.isPartial(text) or text == "":
            raise CWMPFault(9005, "Invalid parameter name (DeleteObject takes an instance path ending in '.')")
        kind, node, _ = self._resolve(text)
        if kind != "object" or node.table is None:
            raise CWMPFault(9003, f"Invalid arguments ({text} is not an instance of a table)")
        table = node.table
        if not table.schema.writable:
            raise CWMPFault(9001, f"Request denied (instances of {table.path} cannot be deleted)")
        status = APPLIED
        if table.schema.onDelete is not None:
            status = self._hook(table.schema.onDelete, node) or APPLIED
        self._remove(table, node)
        return status

    def _hook(self, hook: Callable[[ObjectNode], Optional[int]], node: ObjectNode) -> Optional[int]:
        try:
            return hook(node)
        except CWMPFault:
            raise
        except Exception as e:
            self.log.failure("hook for {path} failed", path=node.path)
            raise asFault(e) from None

    def _remove(self, table: _TableNode, node: ObjectNode) -> None:
        del table.instances[node.instance]  # type: ignore[arg-type]
        prefix = node.path
        self._baselines.forgetBelow(prefix)
        self._numbers.forgetTables(prefix)
        for path in [p for p in self._rows if p.startswith(prefix)]:
            del self._rows[path]  # type: ignore[attr-defined]
        self._saveAttributes()
        self._saveTables()
        self._saveValues()
        self._saveBaselines()
        self._countChanged(table)

    def _countChanged(self, table: _TableNode) -> None:
        name = table.schema.numberOfEntries
        if name:
            self._detect([(table.parent, table.parent.params[name])])

    # ---- other RPCs ---------------------------------------------------------------------

    def _handle(self, method: str, *args: Any) -> defer.Deferred:
        handler = self._handlers.get(method)
        if handler is None:
            return defer.fail(CWMPFault(9000, f"Method not supported ({method})"))
        try:
            result = defer.maybeDeferred(handler, *args)
        except Exception as e:  # pragma: no cover - maybeDeferred catches
            return defer.fail(asFault(e))

        def fault(failure: Any) -> Any:
            if not failure.check(CWMPFault):
                self.log.failure("{method} failed", failure, method=method)
            return defer.fail(asFault(failure.value))

        return result.addErrback(fault)

    def reboot(self, commandKey: str) -> defer.Deferred:
        return self._handle("Reboot", commandKey)

    def factoryReset(self) -> defer.Deferred:
        return self._handle("FactoryReset")

    def download(self, request: Any) -> defer.Deferred:
        return self._handle("Download", request)

    def upload(self, request: Any) -> defer.Deferred:
        return self._handle("Upload", request)

    # ---- code-side API ------------------------------------------------------------------

    def addInstance(self, tablePath: str, key: Optional[str] = None, data: Any = None,
                    values: Optional[Mapping[str, Any]] = None) -> int:
        """
        Add an instance from code (not the ACS): for example a VirtualDevice
        row for a device that appeared.

        @param key: a stable name for what the row stands for; the same key
            gets the same instance number, also after a restart (the last
            L{MAX_ABSENT_KEYS<proxier.proxy.instances.MAX_ABSENT_KEYS>}
            keys absent are remembered).
        @param data: attached to the instance as L{ObjectNode.data} for its
            getters.
        @param values: initial values of parameters the tree keeps.
        @return: the instance number.
        @raise KeyError: when C{tablePath} is not a table, or C{key} is present.
        @raise OverflowError: the table holds too many keys (L{InstanceMap}'s caps).
        """
        kind, table, _ = self._resolve(tablePath)
        if kind != "table":
            raise KeyError(f"{tablePath} is not a table")
        number = self._numbers.number(table.path, key) if key is not None else None
        if number is not None and number in table.instances:
            raise KeyError(f"{tablePath}: key {key!r} already has instance {number}")
        node = table.newInstance(number or self._numbers.following(table.path), data)
        for name, value in (values or {}).items():
            param = node.params[name]
            if not param.stored:
                raise KeyError(f"{name} is not kept by the tree")
            param.type.check(value)
            node.keep(name, value)
        # the number is taken once the instance is sure to be added (the same as following() gave)
        number = self._numbers.assign(table.path, key) if key is not None else self._numbers.fresh(table.path)
        table.insert(node)
        if key is not None:
            self._numbers.forgetAbsent(table.path, table.instances)
        self._saveTables(soon=True, apart=key is not None and not values)
        if values and any(node.params[n].persist for n in values):
            self._saveValues()
        self._countChanged(table)
        return number

    def removeInstance(self, tablePath: str, number: Optional[int] = None, key: Optional[str] = None) -> bool:
        """
        Remove an instance from code, by number or by key. Its attributes
        go; a key keeps its number for when it comes back.

        @return: whether there was such an instance.
        """
        kind, table, _ = self._resolve(tablePath)
        if kind != "table":
            raise KeyError(f"{tablePath} is not a table")
        if number is None:
            number = self._numbers.number(table.path, key) if key is not None else None
        node = table.instances.get(number) if number is not None else None
        if node is None:
            return False
        self._remove(table, node)
        return True

    def instances(self, tablePath: str) -> list[int]:
        """The instance numbers of a table, in order."""
        kind, table, _ = self._resolve(tablePath)
        if kind != "table":
            raise KeyError(f"{tablePath} is not a table")
        return list(table.instances)

    def node(self, objectPath: str) -> ObjectNode:
        """The running object at C{objectPath}."""
        kind, node, _ = self._resolve(objectPath)
        if kind != "object":
            raise KeyError(f"{objectPath} is not an object")
        return node

    def setLocal(self, path: str, value: Any) -> None:
        """
        Change a value the tree keeps, from code (not the ACS): the change is
        reported to listeners when the parameter has Notification on.

        @raise KeyError: for an unknown path or a parameter with a getter.
        @raise ValueError: when C{value} breaks the parameter's type.
        """
        try:
            kind, node, param = self._resolve(path)
        except CWMPFault:
            raise KeyError(path) from None
        if kind != "param" or not param.stored:
            raise KeyError(f"{path} is not a parameter the tree keeps")
        param.type.check(value)
        node.keep(param.name, value)
        if param.persist:
            self._saveValues()
        self._detect([(node, param)])

    def parameter(self, path: str) -> Parameter:
        """The declaration of the parameter at C{path} (for code and tests)."""
        try:
            kind, node, param = self._resolve(path)
        except CWMPFault:
            raise KeyError(path) from None
        if kind != "param":
            raise KeyError(path)
        return param

    def getLocal(self, path: str) -> Any:
        """The Python value of a parameter (for code and tests)."""
        kind, node, param = self._resolve(path)
        if kind != "param":
            raise KeyError(path)
        return self._read(node, param)

    # ---- value changes ------------------------------------------------------------------

    def addChangeListener(self, listener: ChangeListener) -> None:
        self._listeners += (listener,)

    def removeChangeListener(self, listener: ChangeListener) -> None:
        listeners = list(self._listeners)
        listeners.remove(listener)  # ValueError for one never added, as before
        self._listeners = tuple(listeners)

    def changed(self, *paths_: str) -> None:
        """
        Code tells the tree that parameters (names or partial paths) may
        have changed; those with Notification on whose value differs from the
        last one reported are told to listeners (while there are none, a
        change waits for the first detection that has one).
        """
        candidates: list[tuple[ObjectNode, Parameter]] = []
        for path in paths_:
            try:
                candidates.extend(self._paramsUnder(path))
            except CWMPFault:
                self.log.warn("changed() for unknown path {path}", path=path)
        self._detect(candidates)

    def poll(self) -> None:
        """Compare every parameter with Notification on with its last reported value."""
        self._detect(self._walkParams(self.root))

    def _detect(self, candidates: Iterable[tuple[ObjectNode, Parameter]]) -> None:
        if not self._listeners:
            return  # nobody would hear it: the baselines stay, the change is reported later
        found = self._baselines.detect(self._observe(candidates), sameText)
        if found.refused:
            self.log.warn("more parameters with Notification than the tree watches; {path} is not",
                          path=found.refused[0])
        if found.values:
            for listener in self._listeners:
                try:
                    listener(found.values, found.active)
                except Exception:
                    self.log.failure("a change listener failed")
        # saved after the listeners heard it: a crash in between reports it again, never loses it
        self._saveBaselines()

    def _observe(self, candidates: Iterable[tuple[ObjectNode, Parameter]]) -> Iterator[Observed]:
        """The current value of each candidate whose changes are reported."""
        for node, param in candidates:
            path = node.path + param.name
            notification = self._notification(path, param)
            if notification == Notification.OFF:
                continue
            if param.forcedInform and not self._reportForcedInform:
                continue
            try:
                text = self._compareText(node, param)
            except CWMPFault:
                continue
            yield Observed(path, text, ParameterValue(path, "" if param.hidden else text, param.type.xsiType),
                           notification)

    def rebaseline(self, *paths_: str) -> None:
        """
        Take the current values of these parameters (names or partial paths)
        as the reference without reporting them: for values that became final
        before anyone saw the earlier ones (the Connection Request URL once
        its host is known, before the first Inform).
        """
        for path in paths_:
            try:
                for node, param in self._paramsUnder(path):
                    self._baseline(node.path + param.name, node, param)
            except CWMPFault:
                self.log.warn("rebaseline() for unknown path {path}", path=path)
        self._saveBaselines()

    def startNotifications(self) -> None:
        """
        Take the current values of every parameter with Notification on and
        no reference yet as the reference (call once the tree is filled, at
        start); later changes — and those made while the proxier was down,
        against the references kept on disk — are then reported by L{poll}
        and L{changed}.
        """
        for node, param in self._walkParams(self.root):
            path = node.path + param.name
            if self._notification(path, param) != Notification.OFF and path not in self._baselines.values:
                self._baseline(path, node, param)
        self._saveBaselines()


# ---- helpers ----------------------------------------------------------------------------


def _unknown(text: str) -> CWMPFault:
    return CWMPFault(9005, f"Invalid parameter name ({text} does not exist)")


def _capRequest(items: Sequence[Any]) -> None:
    if len(items) > MAX_REQUEST_ITEMS:
        raise CWMPFault(9004, f"Resources exceeded (more than {MAX_REQUEST_ITEMS} entries in one request)")


def _capResult(out: Sequence[Any]) -> None:
    if len(out) > MAX_RESULT_ITEMS:
        raise CWMPFault(9004, "Resources exceeded (the answer would be too large)")


def _refusesNotification(param: Parameter, notification: int) -> str:
    if param.activeNotify == FORCE_ENABLED and notification != Notification.ACTIVE:
        return "active notification cannot be turned off"
    if param.activeNotify == CAN_DENY and notification == Notification.ACTIVE:
        return "active notification is denied"
    return ""


def _withoutNotification(change: AttributeChange) -> AttributeChange:
    return AttributeChange(change.name, False, 0, change.accessListChange, change.accessList)


def _call(model: TreeDataModel, function: Callable[..., Any], *args: Any) -> defer.Deferred:
    try:
        return defer.succeed(function(*args))
    except CWMPFault as fault:
        return defer.fail(fault)
    except Exception as e:
        model.log.failure("data model request failed")
        return defer.fail(asFault(e))


def _validateAttributes(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise ValueError("attributes are not a mapping")
    for path, entry in payload.items():
        notification, accessList = entry
        if int(notification) not in Notification.ALL or not isinstance(accessList, list):
            raise ValueError(f"bad attributes for {path}")


def _loadTables(payload: Any) -> tuple[InstanceMap, dict[str, list[int]]]:
    """
    The instance numbers and kept rows of a C{tables} document, of this
    version or the first (written before the numbers were an
    L{InstanceMap}: C{{path: {"next", "keys", "rows"}}}).

    @raise ValueError: the document is neither.
    """
    if not isinstance(payload, dict):
        raise ValueError("tables are not a mapping")
    if "version" not in payload:
        payload = _tablesFromVersion1(payload)
    if payload["version"] != TABLES_VERSION or not isinstance(payload.get("rows"), dict):
        raise ValueError("not a tables document of a known version")
    numbers = InstanceMap.fromJSON(payload["numbers"])
    rows: dict[str, list[int]] = {}
    for path, numbered in payload["rows"].items():
        if not isinstance(numbered, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in numbered):
            raise ValueError(f"bad rows for {path}")
        rows[path] = list(numbered)
    return numbers, rows


def _tablesFromVersion1(payload: dict) -> dict:
    """A first-version C{tables} document in this version's form (tables that never numbered anything left out)."""
    numbers: dict[str, dict] = {}
    rows: dict[str, list] = {}
    for path, entry in payload.items():
        keys, kept = entry.get("keys", {}), entry.get("rows", [])
        if not isinstance(keys, dict) or not isinstance(kept, list):
            raise ValueError(f"bad table state for {path}")
        highest = max([int(entry["next"]) - 1, *keys.values(), *kept])
        if highest > 0:
            numbers[path] = {"highest": highest, "numbers": [[k, n] for k, n in keys.items()]}
        if kept:
            rows[path] = kept
    return {"version": TABLES_VERSION, "numbers": numbers, "rows": rows}


def _validateTables(payload: Any) -> None:
    _loadTables(payload)


def _validateValues(payload: Any) -> None:
    if not isinstance(payload, dict) or not all(isinstance(v, str) for v in payload.values()):
        raise ValueError("values are not a mapping of text")
