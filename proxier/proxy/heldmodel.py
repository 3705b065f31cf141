# -*- test-case-name: tests.test_proxy_heldmodel,tests.test_proxy_diagnostics,tests.test_upnpdm_logs -*-
"""
An object the proxier holds for a proxied device (TR-330 §4.3.2: "the CPE
Proxier holds the noted objects and parameters locally and inserts them
when queries ... are requested"), whatever the device's protocol: a
L{TreeDataModel} with two hooks a plain tree lacks.

 - C{beforeRead}: run before every GetParameterNames/Values/Attributes, and
   waited for — the VendorLogFile table is refreshed from the device there
   (§4.4.1: "refreshes its data model if needed before responding"). It
   never fails; what it cannot learn in time is answered from what is known.
   It runs before every call that names a path too (SetParameterValues,
   SetParameterAttributes, AddObject, DeleteObject, and their checks): a
   session may write to a row before reading anything, and the row must be
   there (issue 17: DeleteObject or SetParameterValues of
   C{VendorLogFile.1.} as a session's first request answered 9005).
 - C{checkValues}: a check of a whole SetParameterValues before the tree's
   own per-parameter checks — a diagnostic requested without its Host is
   refused in the same SetParameterValues (TR-181 DiagnosticsState: "errors
   or inconsistencies in the test parameters MUST be detected ... at the same
   time as" the request). It raises a L{CWMPFault}.

It validates (L{IValidatingDataModel}) so that a SetParameterValues that
spans it and the device's own model stays all-or-nothing in the composite.

Its tree may be given as a function that builds it, called at the first
call that needs it: a device whose diagnostics the ACS never uses holds no
tree for them (issue 19: most devices of a large fleet never run one). The
change listeners added before are handed to the tree then; until then
nothing can change in it.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

from twisted.internet import defer
from zope.interface import implementer

from proxier.datamodel.capabilities import (
    ChangeListener,
    ILocalWrites,
    INotifyingDataModel,
    IValidatingDataModel,
    ParametersOnly,
)
from proxier.datamodel.faults import CWMPFault, asFault
from proxier.datamodel.tree import PARAMETER_METHODS, TreeDataModel
from proxier.datamodel.values import ParameterValue
from proxier.interfaces import IDataModel

__all__ = ["HeldModel"]


@implementer(IDataModel, IValidatingDataModel, INotifyingDataModel, ILocalWrites)
class HeldModel(ParametersOnly):
    """
    @param tree: the objects themselves, or C{() → TreeDataModel} building
        them when first needed.
    @param beforeRead: C{(names) → Deferred} (never failing), run before a
        call that names a path (a read, or a write).
    @param checkValues: C{(values) → None}, raising a L{CWMPFault} to refuse.
    @param afterSet: C{(values) → None}, told of a SetParameterValues applied.
    """

    # slots: two a device (its diagnostics', its vendor logs'), issue 19
    __slots__ = ("_tree", "_build", "_listeners", "_beforeRead", "_checkValues", "_afterSet")

    def __init__(self, tree: Union[TreeDataModel, Callable[[], TreeDataModel]], *,
                 beforeRead: Optional[Callable[[Sequence[str]], Any]] = None,
                 checkValues: Optional[Callable[[Sequence[ParameterValue]], None]] = None,
                 afterSet: Optional[Callable[[Sequence[ParameterValue]], None]] = None) -> None:
        self._tree: Optional[TreeDataModel] = tree if isinstance(tree, TreeDataModel) else None
        self._build: Optional[Callable[[], TreeDataModel]] = None if self._tree is not None else tree
        # those added before the tree is built (a tuple: one or two, none once it is; issue 19)
        self._listeners: tuple[ChangeListener, ...] = ()
        self._beforeRead = beforeRead
        self._checkValues = checkValues
        self._afterSet = afterSet

    @property
    def built(self) -> bool:
        """Whether the tree exists (it is built at the first call that needs it)."""
        return self._tree is not None

    @property
    def tree(self) -> TreeDataModel:
        if self._tree is None:
            assert self._build is not None
            tree = self._build()
            self._tree, self._build = tree, None
            for listener in self._listeners:
                tree.addChangeListener(listener)
            self._listeners = ()
        return self._tree

    def supportedMethods(self) -> frozenset:
        return PARAMETER_METHODS

    def _read(self, names: Sequence[str], then: Callable[[], defer.Deferred]) -> defer.Deferred:
        if self._beforeRead is None:
            return then()
        d = defer.maybeDeferred(self._beforeRead, list(names))
        d.addErrback(lambda f: self.tree.log.failure("refreshing before a read failed", f))
        return d.addCallback(lambda _: then())

    def getParameterNames(self, path: str, nextLevel: bool) -> defer.Deferred:
        return self._read([path], lambda: self.tree.getParameterNames(path, nextLevel))

    def getParameterValues(self, names: Sequence[str]) -> defer.Deferred:
        return self._read(names, lambda: self.tree.getParameterValues(names))

    def getParameterAttributes(self, names: Sequence[str]) -> defer.Deferred:
        return self._read(names, lambda: self.tree.getParameterAttributes(names))

    def _checked(self, values: Sequence[ParameterValue], then: Callable[[], defer.Deferred]) -> defer.Deferred:
        if self._checkValues is not None:
            try:
                self._checkValues(values)
            except CWMPFault as fault:
                return defer.fail(fault)
            except Exception as e:
                self.tree.log.failure("checking SetParameterValues failed")
                return defer.fail(asFault(e))
        return then()

    def validateParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._read([v.name for v in values],
                          lambda: self._checked(values, lambda: self.tree.validateParameterValues(values)))

    def setParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._set(values, self.tree.setParameterValues)

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        """L{ILocalWrites}: the same checks and hooks; the tree reports the change."""
        return self._set(values, self.tree.setParameterValuesLocally)

    def _set(self, values: Sequence[ParameterValue], apply: Callable[[Sequence[ParameterValue]], defer.Deferred]
             ) -> defer.Deferred:
        d = self._read([v.name for v in values], lambda: self._checked(values, lambda: apply(values)))
        if self._afterSet is not None:
            def applied(status: Any) -> Any:
                try:
                    self._afterSet(values)
                except Exception:
                    self.tree.log.failure("after SetParameterValues")
                return status

            d.addCallback(applied)
        return d

    def validateParameterAttributes(self, changes: Sequence[Any]) -> defer.Deferred:
        return self._read([c.name for c in changes], lambda: self.tree.validateParameterAttributes(changes))

    def setParameterAttributes(self, changes: Sequence[Any]) -> defer.Deferred:
        return self._read([c.name for c in changes], lambda: self.tree.setParameterAttributes(changes))

    def addObject(self, path: str) -> defer.Deferred:
        return self._read([path], lambda: self.tree.addObject(path))

    def deleteObject(self, path: str) -> defer.Deferred:
        return self._read([path], lambda: self.tree.deleteObject(path))

    def addChangeListener(self, listener: ChangeListener) -> None:
        if self._tree is None:
            self._listeners += (listener,)
        else:
            self._tree.addChangeListener(listener)

    def removeChangeListener(self, listener: ChangeListener) -> None:
        if self._tree is None:
            index = self._listeners.index(listener)  # ValueError when unknown, as a list's remove()
            self._listeners = self._listeners[:index] + self._listeners[index + 1:]
        else:
            self._tree.removeChangeListener(listener)
