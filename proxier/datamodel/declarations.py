# -*- test-case-name: tests.test_datamodel_tree -*-
"""
The declarations a model author writes to describe a data model for
L{TreeDataModel<proxier.datamodel.tree.TreeDataModel>}: L{Parameter},
L{Object}, L{Table}, L{Batch} setters, and the constants they take
(TR-106 C{activeNotify} values, the A.3.2.1 Status values a setter returns).

Kept apart from the engine that serves them (L{proxier.datamodel.tree})
because they are the vocabulary of every model module (the gateway's,
ManagementServer's, each protocol's): a module that only declares a tree
reads this one, and the engine's rules (paths, faults, persistence,
notifications) can change without touching it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

from proxier.datamodel import paths
from proxier.datamodel.types import DataType, String

if TYPE_CHECKING:  # pragma: no cover
    from proxier.datamodel.tree import ObjectNode

__all__ = [
    "Parameter",
    "Object",
    "Table",
    "Batch",
    "BatchField",
    "APPLIED",
    "APPLIED_LATER",
    "NORMAL",
    "CAN_DENY",
    "FORCE_ENABLED",
    "FORCE_DEFAULT_ENABLED",
]

# SetParameterValues / AddObject / DeleteObject Status (TR-069 A.3.2.1).
APPLIED = 0
APPLIED_LATER = 1

# The DM Schema's activeNotify values (cwmp-datamodel ActiveNotify; TR-106
# A.2.7.1): normal; canDeny (the CPE may refuse active notification);
# forceEnabled (always active, the ACS cannot change it); forceDefaultEnabled
# (active unless the ACS changes it).
NORMAL = "normal"
CAN_DENY = "canDeny"
FORCE_ENABLED = "forceEnabled"
FORCE_DEFAULT_ENABLED = "forceDefaultEnabled"
_ACTIVE_NOTIFY = (NORMAL, CAN_DENY, FORCE_ENABLED, FORCE_DEFAULT_ENABLED)

_UNSET: Any = object()


class Batch:
    """
    Setters that must be applied together: one SetParameterValues that sets
    several of them makes one call of C{apply} with all their values (for
    example one atomic L{EndpointSettings.set
    <proxier.cwmp.settings.EndpointSettings.set>}).

    @param apply: C{apply(changes)} with C{changes} a list of C{(node, key,
        value)}; returns None, L{APPLIED} or L{APPLIED_LATER}.
    """

    __slots__ = ("apply",)

    def __init__(self, apply: Callable[[list], Optional[int]]) -> None:
        self.apply = apply

    def field(self, key: Any) -> "BatchField":
        """The setter of one parameter of this batch, known to C{apply} as C{key}."""
        return BatchField(self, key)


@dataclass(frozen=True)
class BatchField:
    """One parameter's setter in a L{Batch}: the batch and the key C{apply} knows it by."""

    batch: Batch
    key: Any


Getter = Callable[["ObjectNode"], Any]
Setter = Union[Callable[["ObjectNode", Any], Optional[int]], BatchField]


class Parameter:
    """
    One parameter.

    @param type: its L{DataType}.
    @param value: the initial value of a parameter the tree keeps itself.
    @param get: C{get(node)} reads the value (C{node} is the L{ObjectNode}
        holding the parameter); without it the tree keeps the value.
    @param set: C{set(node, value)} applies a value the ACS set (return
        L{APPLIED_LATER} when it takes effect later), or a L{Batch} field.
        A parameter the tree keeps is set by the tree.
    @param check: C{check(node, value)} refuses a value before anything is
        applied: raise C{ValueError} (9007) or a L{CWMPFault}.
    @param writable: whether the ACS may set it; defaults to whether it has
        a setter (always C{False} when kept by the tree unless given).
    @param persist: keep the value across restarts (tree-kept values only).
    @param activeNotify: one of L{NORMAL}, L{CAN_DENY}, L{FORCE_ENABLED},
        L{FORCE_DEFAULT_ENABLED} (TR-181's C{activeNotify}).
    @param forcedInform: TR-181's C{forcedInform}; such parameters are in
        every Inform, and their changes are not reported to listeners unless
        the tree is made with C{reportForcedInform=True}.
    @param hidden: reads back as an empty string (TR-181 C{hidden}, for
        passwords).
    """

    # slots: some models declare their tree for each device (issue 19)
    __slots__ = ("name", "type", "get", "set", "check", "stored", "initial", "writable", "persist", "activeNotify",
                 "forcedInform", "hidden")

    def __init__(
        self,
        name: str,
        type: DataType,
        *,
        value: Any = _UNSET,
        get: Optional[Getter] = None,
        set: Optional[Setter] = None,
        check: Optional[Callable[["ObjectNode", Any], None]] = None,
        writable: Optional[bool] = None,
        persist: bool = False,
        activeNotify: str = NORMAL,
        forcedInform: bool = False,
        hidden: bool = False,
    ) -> None:
        reason = paths.nameError(name)
        if reason:
            raise ValueError(reason)
        if activeNotify not in _ACTIVE_NOTIFY:
            raise ValueError(f"activeNotify {activeNotify!r} is not one of {_ACTIVE_NOTIFY}")
        if get is None and set is not None:
            raise ValueError(f"{name}: a setter needs a getter")
        if get is not None and (value is not _UNSET or persist):
            raise ValueError(f"{name}: a parameter with a getter keeps no value of its own")
        self.name = name
        self.type = type
        self.get = get
        self.set = set
        self.check = check
        self.stored = get is None
        self.initial = type.default() if value is _UNSET else value
        if self.stored:
            type.check(self.initial)
        self.writable = bool(set is not None) if writable is None else writable
        if self.writable and not self.stored and set is None:
            raise ValueError(f"{name}: writable but no setter")
        self.persist = persist
        self.activeNotify = activeNotify
        self.forcedInform = forcedInform
        self.hidden = hidden

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, {self.type!r})"


class Object:
    """
    A single-instance object and what it holds (parameters, objects, tables).

    @ivar layout: what the engine (L{proxier.datamodel.tree}) works out of
        it for all its trees, once: None until a tree serves it.
    @ivar topLayout: likewise for a tree whose only top object it is.
    """

    __slots__ = ("name", "children", "layout", "topLayout")

    def __init__(self, name: str, *children: Union[Parameter, "Object", "Table"]) -> None:
        reason = paths.nameError(name)
        if reason:
            raise ValueError(reason)
        self.name = name
        self.children = _checkChildren(name, children)
        self.layout: Any = None
        self.topLayout: Any = None


class Table:
    """
    A multi-instance object (TR-106 C{Name.{i}.}); C{children} describe one
    instance.

    @param writable: whether the ACS may add and delete instances.
    @param numberOfEntries: the name of the parameter counting the instances
        in the parent object (default C{NameNumberOfEntries}); C{None} for none.
    @param alias: give each instance an C{Alias} parameter (TR-181
        C{Alias}: writable, unique in the table, C{cpe-N} by default) and
        accept C{[alias]} paths for it.
    @param persist: keep the instances the ACS added (and their persisted
        values) across restarts. Instances added by code are added again by
        code at start; their numbers are kept by key in any case.
    @param maxEntries: refuse (9004) an AddObject beyond this many instances.
    @param onAdd: C{onAdd(node)} is called for an instance the ACS adds,
        before it is visible; raise a L{CWMPFault} to refuse; may return
        L{APPLIED_LATER}.
    @param onDelete: C{onDelete(node)} likewise before an ACS deletion.
    @ivar layout: what the engine (L{proxier.datamodel.tree}) works out of
        one instance for all its trees, once: None until a tree serves it.
    """

    __slots__ = ("name", "children", "writable", "numberOfEntries", "alias", "persist", "maxEntries", "onAdd",
                 "onDelete", "layout")

    def __init__(
        self,
        name: str,
        *children: Union[Parameter, Object, "Table"],
        writable: bool = False,
        numberOfEntries: Optional[str] = _UNSET,
        alias: bool = False,
        persist: bool = False,
        maxEntries: Optional[int] = None,
        onAdd: Optional[Callable[["ObjectNode"], Optional[int]]] = None,
        onDelete: Optional[Callable[["ObjectNode"], Optional[int]]] = None,
    ) -> None:
        reason = paths.nameError(name)
        if reason:
            raise ValueError(reason)
        self.name = name
        self.writable = writable
        self.numberOfEntries = name + "NumberOfEntries" if numberOfEntries is _UNSET else numberOfEntries
        self.alias = alias
        self.persist = persist
        self.maxEntries = maxEntries
        self.onAdd = onAdd
        self.onDelete = onDelete
        if alias:
            children = (
                Parameter("Alias", String(64), writable=True, persist=persist, check=_checkAlias),
            ) + tuple(children)
        self.children = _checkChildren(name, children)
        self.layout: Any = None


def _checkChildren(owner: str, children: Sequence[Any]) -> tuple:
    seen: set[str] = set()
    for child in children:
        if not isinstance(child, (Parameter, Object, Table)):
            raise TypeError(f"{owner}: {child!r} is not a Parameter, Object or Table")
        names = [child.name]
        if isinstance(child, Table) and child.numberOfEntries:
            names.append(child.numberOfEntries)
        for name in names:
            if name in seen:
                raise ValueError(f"{owner}: {name} declared twice")
            seen.add(name)
    return tuple(children)


def _checkAlias(node: "ObjectNode", value: str) -> None:
    reason = paths.aliasError(value)
    if reason:
        raise ValueError(reason)
    table = node.table
    assert table is not None
    for other in table.instances.values():
        if other is not node and other.stored("Alias") == value:
            raise ValueError(f"alias {value!r} is already used by instance {other.instance}")
