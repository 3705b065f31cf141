# -*- test-case-name: tests.test_datamodel_composite -*-
"""
One data model made of several, each mounted at a path.

A Virtual CWMP Device is the proxied device's own model (TR-330 §4.6) with
objects the proxier holds itself "inserted" where they belong (TR-330
§4.3.2 and Figure 7): its C{Device.ManagementServer.}, its
C{Device.DeviceInfo.ProxierInfo.}, later diagnostics objects such as
C{Device.IP.Diagnostics.IPPing.}. L{CompositeDataModel} makes that one
L{IDataModel}:

 - every name goes to the model mounted at its longest prefix, and every
   name a model answers must route back to it (what a model says about a
   path another model is mounted at is dropped, so overlays win);
 - GetParameterNames/Values/Attributes on an object merge the owner's answer
   with those of every model mounted below it, with the objects leading to
   a mount listed when the owner does not list them, and each mounted block
   placed after its parent's entries;
 - SetParameterValues and SetParameterAttributes stay all-or-nothing: models
   that can (L{IValidatingDataModel}) check first, the one model that cannot
   (if any) is applied first, then the others; per-parameter faults of every
   model come back merged in one 9003;
 - independent calls to sub-models run at the same time, so one slow device
   model does not serialise the overlay's answers (and cancelling the
   composite's Deferred cancels the calls under way).

Mount paths are absolute: a model mounted at C{Device.ManagementServer.}
answers with full names such as C{Device.ManagementServer.URL}.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Optional, Sequence

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import alsoProvides, implementer

from proxier.datamodel import paths
from proxier.datamodel.capabilities import ChangeListener, ILocalWrites, INotifyingDataModel, IValidatingDataModel
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault, asFault
from proxier.datamodel.values import AttributeChange, ParameterInfo, ParameterValue
from proxier.interfaces import IDataModel, IForcedInform
from proxier.sharing import InternTable

__all__ = ["CompositeDataModel", "Mount"]


class Mount:
    """One model mounted at one object path."""

    __slots__ = ("prefix", "model", "depth")

    def __init__(self, prefix: str, model: Any) -> None:
        parsed = paths.parse(prefix)
        if not parsed.partial:
            raise ValueError(f"a mount path is an object path ending in '.': {prefix!r}")
        if parsed.hasAlias or any(isinstance(s, int) for s in parsed.segments):
            raise ValueError(f"a mount path names a fixed object, not an instance: {prefix!r}")
        if not IDataModel.providedBy(model):
            raise TypeError(f"{model!r} does not provide IDataModel")
        self.prefix = prefix
        self.model = model
        self.depth = len(parsed.segments)

    def __repr__(self) -> str:
        return f"Mount({self.prefix!r}, {self.model!r})"


def _gather(calls: Sequence[defer.Deferred]) -> defer.Deferred:
    """
    Fire with the list of results (or L{Failure}s) once every call ended.
    Cancelling the result cancels every call still under way.
    """
    results: list[Any] = [None] * len(calls)
    remaining = [len(calls)]
    cancelled = [False]

    def cancel(_: defer.Deferred) -> None:
        cancelled[0] = True
        for call in calls:
            call.cancel()

    done: defer.Deferred = defer.Deferred(cancel)
    if not calls:
        done.callback(results)
        return done

    def collect(result: Any, index: int) -> None:
        results[index] = result
        remaining[0] -= 1
        if remaining[0] == 0 and not done.called and not cancelled[0]:
            done.callback(results)

    for index, call in enumerate(calls):
        call.addBoth(collect, index)
    return done


def _firstFault(results: Iterable[Any]) -> Optional[CWMPFault]:
    for result in results:
        if isinstance(result, Failure):
            return asFault(result.value)
    return None


@implementer(IDataModel, INotifyingDataModel, IForcedInform)
class CompositeDataModel:
    """
    An L{IDataModel} made of models mounted at object paths.

    It provides L{IValidatingDataModel} too when every model mounted does,
    and L{ILocalWrites} likewise.

    @param mounts: C{(path, model)} pairs; a model may be mounted at several
        paths. The order matters only for the non-parameter RPCs (Reboot,
        FactoryReset, Download, Upload), which go to the first model that
        lists them in its C{supportedMethods()}.
    @param forcedInform: the forced-inform parameters of the root the
        composite presents (L{IForcedInform}); those the mounted models
        declare follow, each name once.
    """

    # slots: two a Virtual CWMP Device of a UPnP DM device with overlays (issue 19); __provides__ for alsoProvides
    __slots__ = ("_log", "_mounts", "_byDepth", "_routes", "_nested", "_models", "forcedInform", "_listeners",
                 "_forwarders", "__provides__", "__weakref__")

    _defaultLog = Logger()

    def __init__(self, mounts: Sequence[tuple[str, Any]], *, forcedInform: Sequence[str] = (),
                 log: Any = None) -> None:
        self._log = log
        self._mounts = tuple(Mount(prefix, model) for prefix, model in mounts)
        if not self._mounts:
            raise ValueError("a composite needs at least one model")
        prefixes = [m.prefix for m in self._mounts]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError("two models mounted at the same path")
        # longest prefix first: the first match of a name is its route
        self._byDepth = tuple(sorted(self._mounts, key=lambda m: -m.depth))
        self._routes = _routesOf(tuple(m.prefix for m in self._byDepth))
        # the mount paths with another mount inside them (mostly none: the one empty tuple)
        self._nested = tuple(m.prefix for m in self._mounts if self._below(m.prefix))
        models: list[Any] = []
        for mount in self._mounts:
            if not any(mount.model is m for m in models):
                models.append(mount.model)
        self._models = tuple(models)
        if all(IValidatingDataModel.providedBy(m) for m in self._models):
            alsoProvides(self, IValidatingDataModel)
        if all(ILocalWrites.providedBy(m) for m in self._models):
            alsoProvides(self, ILocalWrites)
        names = list(forcedInform)
        for model in self._models:
            if IForcedInform.providedBy(model):
                names.extend(n for n in model.forcedInform if n not in names)
        self.forcedInform: tuple[str, ...] = _forcedInforms(tuple(names))
        self._listeners: list[ChangeListener] = []
        # Listening on the mounted models only while someone listens here: a
        # model that detects changes without a listener keeps its baselines,
        # so what changes before the endpoint listens is reported once it does.
        self._forwarders = tuple(_Forwarder(self, model) for model in self._models
                                 if INotifyingDataModel.providedBy(model))

    @property
    def log(self) -> Any:
        """The logger given, or the class's."""
        return self._log if self._log is not None else self._defaultLog

    # ---- routing ---------------------------------------------------------------------

    def route(self, name: str) -> Optional[Mount]:
        """
        The mount that answers for C{name}, or None. Mounts are object paths,
        so a name routes as the object holding it; those routes are
        remembered (a GetParameterValues of a subtree routes every answered
        name, and they share a few objects).
        """
        if "[" in name:
            return self._route(name)
        key = name[: name.rfind(".") + 1]
        objects = self._routes.objects
        index = objects.get(key)
        if index is None:
            if len(objects) >= _MAX_ROUTES:
                objects.clear()
            index = objects[key] = self._routeIndex(key)
        return self._byDepth[index] if index >= 0 else None

    def _route(self, name: str) -> Optional[Mount]:
        index = self._routeIndex(name)
        return self._byDepth[index] if index >= 0 else None

    def _routeIndex(self, name: str) -> int:
        """The index in C{_byDepth} of the mount answering for C{name}, -1 for none."""
        for index, mount in enumerate(self._byDepth):
            if paths.isPrefix(mount.prefix, name):
                return index
        return -1

    def _parameterRoute(self, name: str) -> Optional[Mount]:
        """
        The mount answering for the parameter C{name} without aliases, as
        L{route}, once the name is checked (9005 when it is not a valid path
        or no mount answers for it): both remembered together, as an ACS
        asks the same names again and again of every device.
        """
        parameters = self._routes.parameters
        index = parameters.get(name)
        if index is None:
            self._check(name)
            owner = self.route(name)
            if owner is None:
                raise CWMPFault(9005, f"Invalid parameter name ({name} does not exist)")
            if len(parameters) >= _MAX_ROUTES:
                parameters.clear()
            parameters[name] = self._byDepth.index(owner)
            return owner
        return self._byDepth[index]

    def mounts(self) -> list[Mount]:
        """The mounts, in the order given."""
        return list(self._mounts)

    def _below(self, path: str) -> list[Mount]:
        """The mounts strictly inside the object C{path}, shallowest first, then by path."""
        inside = [m for m in self._mounts if m.prefix != path and paths.isPrefix(path, m.prefix)]
        return sorted(inside, key=lambda m: (m.depth, m.prefix))

    def _check(self, name: str) -> None:
        reason = paths.check(name)
        if reason:
            raise CWMPFault(9005, f"Invalid parameter name ({reason})")

    def _queries(self, name: str) -> list[tuple[Mount, str, bool]]:
        """
        The (mount, path, isOwner) calls that answer for C{name}: its owner
        with the name itself, and for an object every mount below it with
        its own path.

        @raise CWMPFault: 9005 when no model answers for C{name}.
        """
        self._check(name)
        owner = self.route(name)
        queries: list[tuple[Mount, str, bool]] = []
        if owner is not None:
            queries.append((owner, name, True))
        if paths.isPartial(name):
            queries.extend((m, m.prefix, False) for m in self._below(name))
        if not queries:
            raise CWMPFault(9005, f"Invalid parameter name ({name} does not exist)")
        return queries

    def _keep(self, mount: Mount, asked: str, names: Iterable[str], covers: Optional["_Coverage"] = None) -> list[bool]:
        """
        Which names a mount answered are its own and inside what it was
        asked (for a path asked with aliases: under its instance numbers).
        """
        if covers is None:
            covers = _coverage([asked])
        keep = []
        stray = 0
        for name in names:
            inside = covers(name)
            keep.append(inside and self.route(name) is mount)
            if not inside:
                stray += 1
        if stray:
            self.log.warn("model at {prefix} answered {count} names outside {asked}; dropped",
                          prefix=mount.prefix, count=stray, asked=asked)
        return keep

    # ---- IDataModel: reads ------------------------------------------------------------------

    def supportedMethods(self) -> frozenset:
        methods: set[str] = set()
        for model in self._models:
            methods |= set(model.supportedMethods())
        return frozenset(methods)

    def getParameterNames(self, path: str, nextLevel: bool) -> defer.Deferred:
        try:
            self._check(path)
            owner = self.route(path)
            below = self._below(path) if paths.isPartial(path) else []
            if owner is None and not below:
                raise CWMPFault(9005, f"Invalid parameter name ({path} does not exist)")
        except CWMPFault as fault:
            return defer.fail(fault)
        covers = _coverage([path])
        calls = []
        if owner is not None:
            calls.append(_call(owner.model.getParameterNames, path, nextLevel))
        # next level: a mount below is either listed as a child, or leads to one
        if not nextLevel:
            calls.extend(_call(m.model.getParameterNames, m.prefix, False) for m in below)

        def merge(results: list) -> list[ParameterInfo]:
            ownerResult: list = []
            if owner is not None:
                first = results.pop(0)
                if isinstance(first, Failure):
                    fault = asFault(first.value)
                    # the owner may not know an object that only leads to mounts
                    if not (fault.code == 9005 and below):
                        raise fault
                else:
                    ownerResult = self._filterInfos(owner, path, first, covers)
            fault = _firstFault(results)
            if fault is not None:
                raise fault
            if nextLevel:
                return self._nextLevel(path, ownerResult, below)
            merged = list(ownerResult)
            present = {i.name for i in merged}
            # a path asked with aliases is listed under its instance numbers
            itself = covers.resolve(path)
            if itself and itself not in present:
                merged.insert(0, ParameterInfo(itself, False))
                present.add(itself)
            for mount, infos in zip(below, results):
                block = [ParameterInfo(o, False) for o in _between(path, mount.prefix) if o not in present]
                block += [i for i in self._filterInfos(mount, mount.prefix, infos) if i.name not in present]
                present.update(i.name for i in block)
                _insert(merged, block, mount.prefix)
            return merged

        return _gather(calls).addCallback(merge).addErrback(_faultOnly)

    def _filterInfos(self, mount: Mount, asked: str, infos: Sequence[ParameterInfo],
                     covers: Optional["_Coverage"] = None) -> list[ParameterInfo]:
        keep = self._keep(mount, asked, (i.name for i in infos), covers)
        return [i for i, k in zip(infos, keep) if k]

    def _nextLevel(self, path: str, ownerResult: list, below: list[Mount]) -> list[ParameterInfo]:
        merged = list(ownerResult)
        present = {i.name for i in merged}
        depth = len(paths.parse(path).segments)
        for mount in below:
            child = _prefixAt(mount.prefix, depth + 1)
            if child not in present:
                merged.append(ParameterInfo(child, False))
                present.add(child)
        return merged

    def getParameterValues(self, names: Sequence[str]) -> defer.Deferred:
        return self._readMany(names, "getParameterValues")

    def getParameterAttributes(self, names: Sequence[str]) -> defer.Deferred:
        return self._readMany(names, "getParameterAttributes")

    def _readMany(self, names: Sequence[str], method: str) -> defer.Deferred:
        """
        One call per model with every path it answers for, all at once;
        merged in order. What a model answers is routed again (overlays
        win) unless every path it was asked routes to one mount with no
        mount below it (a list of parameters, a subtree with no overlay):
        then its answers inside them are that mount's.
        """
        try:
            single = self._singleMount(names)
        except CWMPFault as fault:
            return defer.fail(fault)
        if single is not None:
            # its one call's own Deferred carries the answer (issue 19: no gathering of one; cancelling
            # it cancels the call, as cancelling the gathering did)
            asked = list(names)
            return _call(getattr(single.model, method), asked).addCallback(self._onlyAsked, asked).addErrback(
                _faultOnly)
        try:
            plan: dict[int, tuple[Any, list[str]]] = {}
            order: list[int] = []
            # owner queries for objects that only lead to mounts: the owner
            # may not know them, and that is no fault
            intermediate: set[tuple[int, str]] = set()
            # the mount each parameter asked routes to, which its answer routes to too
            owners: dict[str, Mount] = {}
            # per model, the one mount all it was asked routes to, with no mount below (None: not so)
            sole: dict[int, Optional[Mount]] = {}

            def ask(mount: Mount, asked: str, whole: bool) -> int:
                key = id(mount.model)
                if key not in plan:
                    plan[key] = (mount.model, [])
                    order.append(key)
                    sole[key] = mount if whole else None
                elif not whole or sole[key] is not mount:
                    sole[key] = None
                plan[key][1].append(asked)
                return key

            for name in names:
                if name and name[-1] != ".":
                    # a parameter (the usual request): its owner alone answers, routed once
                    if "[" in name:
                        self._check(name)
                        owner = owners.get(name) or self.route(name)
                        if owner is None:
                            raise CWMPFault(9005, f"Invalid parameter name ({name} does not exist)")
                    else:
                        owner = self._parameterRoute(name)
                    owners[name] = owner
                    ask(owner, name, "[" not in name)
                    continue
                queries = self._queries(name)
                for mount, asked, isOwner in queries:
                    if isOwner:
                        key = ask(mount, asked, len(queries) == 1 and "[" not in asked)
                        if len(queries) > 1:
                            intermediate.add((key, asked))
                    else:
                        ask(mount, asked, mount.prefix not in self._nested)
        except CWMPFault as fault:
            return defer.fail(fault)
        batches = [plan[key] for key in order]
        calls = [_call(getattr(model, method), asked) for model, asked in batches]

        def merge(results: list) -> list:
            for index, ((model, asked), result) in enumerate(zip(batches, results)):
                if isinstance(result, Failure):
                    fault = asFault(result.value)
                    if fault.code == 9005 and all((id(model), a) in intermediate for a in asked):
                        results[index] = []
                    else:
                        raise fault
            merged: list = []
            for key, (model, asked), items in zip(order, batches, results):
                groups: dict[int, tuple[Mount, list]] = {}
                stray = 0
                covers = _coverage(asked)
                only = sole[key]
                if only is not None:
                    # everything it was asked is one mount's, none below it: its answers inside them are that mount's
                    kept = [item for item in items if covers(item.name)]
                    if len(kept) < len(items):
                        self.log.warn("a model answered {count} names it was not asked; dropped",
                                      count=len(items) - len(kept))
                    _insert(merged, kept, only.prefix)
                    continue
                for item in items:
                    if not covers(item.name):
                        stray += 1
                        continue
                    mount = only or owners.get(item.name) or self.route(item.name)
                    if mount is None or mount.model is not model:
                        continue
                    groups.setdefault(id(mount), (mount, []))[1].append(item)
                if stray:
                    self.log.warn("a model answered {count} names it was not asked; dropped", count=stray)
                for mount, kept in groups.values():
                    _insert(merged, kept, mount.prefix)
            return merged

        return _gather(calls).addCallback(merge).addErrback(_faultOnly)

    def _singleMount(self, names: Sequence[str]) -> Optional[Mount]:
        """
        The one mount that answers for every name, when each is a parameter
        without aliases (the usual GetParameterValues), else None: what
        L{_readMany} asks it is all it keeps of the answer.

        @raise CWMPFault: 9005 for the first name that is not valid or that no mount answers for.
        """
        routes = self._routes
        asked = tuple(names)
        try:
            index = routes.requests.get(asked)  # asked before, by this device or another of the layout
        except TypeError:  # a name that is not text: faulted below
            index = None
        if index is not None:
            return self._byDepth[index]
        single = None
        remembered = routes.parameters
        for name in names:
            if not name or name[-1] == "." or "[" in name:
                return None
            index = remembered.get(name)
            mount = self._byDepth[index] if index is not None else self._parameterRoute(name)
            if single is None:
                single = mount
            elif mount is not single:
                return None
        if single is not None and len(asked) <= _MAX_REQUEST_NAMES:
            if len(routes.requests) >= _MAX_REQUESTS:
                routes.requests.clear()
            routes.requests[asked] = self._byDepth.index(single)
        return single

    def _onlyAsked(self, result: list, asked: list[str]) -> list:
        """L{_readMany}'s merge of the one model asked only parameters of one mount: what it answered of them."""
        if type(result) is list and [item.name for item in result] == asked:
            # each name asked answered in turn (the usual answer): all of it, a list of its own as before
            # (issue 19: no set made)
            return result[:]
        exact = set(asked)
        kept = [item for item in result if item.name in exact]
        if len(kept) < len(result):
            self.log.warn("a model answered {count} names it was not asked; dropped", count=len(result) - len(kept))
        return kept

    # ---- IDataModel: SetParameterValues ---------------------------------------------------

    def _groupValues(self, values: Sequence[ParameterValue]) -> tuple[list, list[SetParameterValuesFault]]:
        seen: set[str] = set()
        for pv in values:
            if pv.name in seen:
                raise CWMPFault(9003, f"Invalid arguments ({pv.name} appears more than once)")
            seen.add(pv.name)
        groups: dict[int, tuple[Any, list[ParameterValue]]] = {}
        order: list[int] = []
        faults: list[SetParameterValuesFault] = []
        for pv in values:
            reason = paths.check(pv.name)
            mount = None if reason or paths.isPartial(pv.name) else self.route(pv.name)
            if mount is None:
                faults.append(SetParameterValuesFault(pv.name, 9005))
                continue
            key = id(mount.model)
            if key not in groups:
                groups[key] = (mount.model, [])
                order.append(key)
            groups[key][1].append(pv)
        return [groups[k] for k in order], faults

    def validateParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        try:
            groups, faults = self._groupValues(values)
        except CWMPFault as fault:
            return defer.fail(fault)
        return self._validateGroups(values, groups, faults, "validateParameterValues")

    def _validateGroups(self, values: Sequence[Any], groups: list, faults: list, method: str) -> defer.Deferred:
        validating = [(m, vs) for m, vs in groups if IValidatingDataModel.providedBy(m)]
        calls = [_call(getattr(m, method), vs) for m, vs in validating]

        def merge(results: list) -> None:
            failed = [(vs, r.value) for (m, vs), r in zip(validating, results) if isinstance(r, Failure)]
            if not failed and not faults:
                return None
            if method == "validateParameterAttributes":
                raise asFault(failed[0][1])
            raise _mergeFaults(values, faults, failed)

        return _gather(calls).addCallback(merge)

    def setParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._setValues(values, "setParameterValues")

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        """L{ILocalWrites} (provided when every model mounted does): each model applies its part locally."""
        return self._setValues(values, "setParameterValuesLocally")

    def _setValues(self, values: Sequence[ParameterValue], apply: str) -> defer.Deferred:
        try:
            groups, faults = self._groupValues(values)
            others = [(m, vs) for m, vs in groups if not IValidatingDataModel.providedBy(m)]
            if len(others) > 1:
                self.log.error("SetParameterValues spans {count} models that cannot validate; refused",
                               count=len(others))
                raise CWMPFault(9001, "Request denied (the parameters cannot be set all at once)")
        except CWMPFault as fault:
            return defer.fail(fault)
        return self._apply(values, groups, faults, "validateParameterValues", apply)

    def _apply(self, request: Sequence[Any], groups: list, faults: list, validate: str, apply: str) -> defer.Deferred:
        validated = self._validateGroups(request, groups, faults, validate)
        others = [(m, items) for m, items in groups if not IValidatingDataModel.providedBy(m)]
        checked = [(m, items) for m, items in groups if IValidatingDataModel.providedBy(m)]

        def applyOthers(_: None) -> defer.Deferred:
            if not others:
                return defer.succeed([])
            model, items = others[0]

            def failed(failure: Failure) -> None:
                fault = asFault(failure.value)
                if apply != "setParameterAttributes" and len(groups) > 1:
                    raise _mergeFaults(request, [], [(items, fault)])
                raise fault

            return _call(getattr(model, apply), items).addCallbacks(lambda r: [r], failed)

        def applyChecked(first: list) -> defer.Deferred:
            calls = [_call(getattr(m, apply), items) for m, items in checked]

            def done(results: list) -> Any:
                fault = _firstFault(results)
                if fault is not None:
                    # validated a moment ago: only a race or a bug gets here
                    self.log.error("a model failed to apply what it had validated: {fault}", fault=fault)
                    raise fault
                statuses = [r for r in first + results if r is not None]
                return max(statuses) if statuses else None

            return _gather(calls).addCallback(done)

        return validated.addCallback(applyOthers).addCallback(applyChecked).addErrback(_faultOnly)

    # ---- IDataModel: SetParameterAttributes ------------------------------------------------

    def _groupChanges(self, changes: Sequence[AttributeChange]) -> list:
        groups: dict[int, tuple[Any, list[AttributeChange]]] = {}
        order: list[int] = []
        for change in changes:
            for mount, asked, _ in self._queries(change.name):
                key = id(mount.model)
                if key not in groups:
                    groups[key] = (mount.model, [])
                    order.append(key)
                groups[key][1].append(_renamed(change, asked))
        return [groups[k] for k in order]

    def validateParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        try:
            groups = self._groupChanges(changes)
        except CWMPFault as fault:
            return defer.fail(fault)
        return self._validateGroups(changes, groups, [], "validateParameterAttributes")

    def setParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        try:
            groups = self._groupChanges(changes)
            others = [(m, cs) for m, cs in groups if not IValidatingDataModel.providedBy(m)]
            if len(others) > 1:
                self.log.error("SetParameterAttributes spans {count} models that cannot validate; refused",
                               count=len(others))
                raise CWMPFault(9001, "Request denied (the attributes cannot be set all at once)")
        except CWMPFault as fault:
            return defer.fail(fault)
        return self._apply(changes, groups, [], "validateParameterAttributes", "setParameterAttributes").addCallback(
            lambda _: None
        )

    # ---- IDataModel: objects and the rest ---------------------------------------------------

    def _routeObject(self, path: str) -> Any:
        self._check(path)
        mount = self.route(path)
        if mount is None:
            raise CWMPFault(9005, f"Invalid parameter name ({path} does not exist)")
        return mount.model

    def addObject(self, path: str) -> defer.Deferred:
        try:
            model = self._routeObject(path)
        except CWMPFault as fault:
            return defer.fail(fault)
        return _call(model.addObject, path)

    def deleteObject(self, path: str) -> defer.Deferred:
        try:
            model = self._routeObject(path)
        except CWMPFault as fault:
            return defer.fail(fault)
        return _call(model.deleteObject, path)

    def _method(self, rpc: str, method: str, *args: Any) -> defer.Deferred:
        for model in self._models:
            if rpc in model.supportedMethods():
                return _call(getattr(model, method), *args)
        return defer.fail(CWMPFault(9000, f"Method not supported ({rpc})"))

    def reboot(self, commandKey: str) -> defer.Deferred:
        return self._method("Reboot", "reboot", commandKey)

    def factoryReset(self) -> defer.Deferred:
        return self._method("FactoryReset", "factoryReset")

    def download(self, request: Any) -> defer.Deferred:
        return self._method("Download", "download", request)

    def upload(self, request: Any) -> defer.Deferred:
        return self._method("Upload", "upload", request)

    # ---- value changes ----------------------------------------------------------------------

    def _tell(self, model: Any, values: Sequence[ParameterValue], active: bool) -> None:
        """A mounted model's value changes: those that route back to it, to every listener."""
        own = [v for v in values if (m := self.route(v.name)) is not None and m.model is model]
        if not own:
            return
        for listener in list(self._listeners):
            try:
                listener(own, active)
            except Exception:
                self.log.failure("a change listener failed")

    def addChangeListener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)
        if len(self._listeners) == 1:
            for forward in self._forwarders:
                forward.model.addChangeListener(forward)

    def removeChangeListener(self, listener: ChangeListener) -> None:
        self._listeners.remove(listener)
        if not self._listeners:
            for forward in self._forwarders:
                forward.model.removeChangeListener(forward)


class _Forwarder:
    """
    The listener a composite adds to one mounted model (L{CompositeDataModel._tell}):
    an object of two slots rather than a closure, a few a device (issue 19).
    """

    __slots__ = ("composite", "model")

    def __init__(self, composite: CompositeDataModel, model: Any) -> None:
        self.composite = composite
        self.model = model

    def __call__(self, values: Sequence[ParameterValue], active: bool) -> None:
        self.composite._tell(self.model, values, active)


# ---- helpers ------------------------------------------------------------------------------

#: Object paths whose route a layout of mounts remembers, and parameter names
#: likewise (then it starts afresh).
_MAX_ROUTES = 4096
#: Requests whose one mount a layout remembers (then it starts afresh), of at most so many names.
_MAX_REQUESTS = 32
_MAX_REQUEST_NAMES = 256
#: The layouts of mounts whose routes are remembered (then every layout starts afresh).
_MAX_LAYOUTS = 64


class _Routes:
    """
    The routes remembered for one layout of mounts (their paths, deepest
    first), shared by every composite of that layout — every Virtual CWMP
    Device's, every UPnP DM device's with the same overlays (issue 19: one
    table, not one a device): an object path → the index of its mount (-1:
    none); a parameter name already checked → its mount's index; the names
    of a request (a GetParameterValues asked again and again) whose
    parameters one mount answers for → its index.
    """

    __slots__ = ("objects", "parameters", "requests")

    def __init__(self) -> None:
        self.objects: dict[str, int] = {}
        self.parameters: dict[str, int] = {}
        self.requests: dict[tuple[str, ...], int] = {}


_layouts: dict[tuple[str, ...], _Routes] = {}


def _routesOf(layout: tuple[str, ...]) -> _Routes:
    """The routes of the layout of mounts C{layout} (their paths, deepest first)."""
    routes = _layouts.get(layout)
    if routes is None:
        if len(_layouts) >= _MAX_LAYOUTS:
            _layouts.clear()
        routes = _layouts[layout] = _Routes()
    return routes
#: Up to this many object paths asked, a name's coverage is one str.startswith.
_FEW_PREFIXES = 32


_log = Logger()

#: The forced-inform names of composites, one tuple for the composites that have the same (issue 19).
_forcedInforms: InternTable[tuple[str, ...]] = InternTable()


def _call(method: Callable[..., Any], *args: Any) -> defer.Deferred:
    """Call a sub-model; anything but a Deferred failing with a CWMPFault becomes one."""
    try:
        result = method(*args)
    except CWMPFault as fault:
        return defer.fail(fault)
    except Exception as e:
        _log.failure("a data model raised a bare exception")
        return defer.fail(asFault(e))
    if not isinstance(result, defer.Deferred):
        return defer.succeed(result)

    def fault(failure: Failure) -> Failure:
        if not failure.check(CWMPFault, defer.CancelledError):
            _log.failure("a data model failed with a bare exception", failure)
            return Failure(asFault(failure.value))
        return failure

    return result.addErrback(fault)


def _faultOnly(failure: Failure) -> Failure:
    """
    Whatever went wrong while merging (a model answering something that is
    not a list of results, ...) reaches the caller as a CWMPFault, logged.
    """
    if failure.check(CWMPFault, defer.CancelledError):
        return failure
    _log.failure("merging the answers of the models failed", failure)
    return Failure(asFault(failure.value))


def _between(outer: str, inner: str) -> list[str]:
    """The object paths strictly between C{outer} and C{inner} (both partial)."""
    depthOuter = len(paths.parse(outer).segments)
    depthInner = len(paths.parse(inner).segments)
    return [_prefixAt(inner, d) for d in range(depthOuter + 1, depthInner)]


def _prefixAt(path: str, depth: int) -> str:
    """The object path made of the first C{depth} segments of C{path}."""
    parts = path.split(".")
    return ".".join(parts[:depth]) + "."


def _insert(merged: list, block: list, prefix: str) -> None:
    """Put C{block} after the last entry of its parent object's subtree (or at the end)."""
    if not block:
        return
    parent = paths.parent(prefix)
    position = None
    for index in range(len(merged) - 1, -1, -1):
        if paths.isPrefix(parent, merged[index].name) if parent else True:
            position = index + 1
            break
    if position is None:
        merged.extend(block)
    else:
        merged[position:position] = block


def _renamed(change: AttributeChange, name: str) -> AttributeChange:
    if change.name == name:
        return change
    return AttributeChange(name, change.notificationChange, change.notification, change.accessListChange,
                           change.accessList)


def _mergeFaults(values: Sequence[ParameterValue], faults: list[SetParameterValuesFault],
                 failed: Sequence[tuple[Sequence[ParameterValue], Any]]) -> CWMPFault:
    """One 9003 with the per-parameter faults of every model, in the order of the request."""
    if not faults and len(failed) == 1 and len(failed[0][0]) == len(values):
        # one model alone had every parameter: its own fault says it best
        return asFault(failed[0][1])
    perName: dict[str, SetParameterValuesFault] = {f.parameterName: f for f in faults}
    for items, error in failed:
        fault = asFault(error)
        if fault.code == 9003 and fault.parameterFaults:
            for pf in fault.parameterFaults:
                perName.setdefault(pf.parameterName, pf)
        else:
            for pv in items:
                perName.setdefault(pv.name, SetParameterValuesFault(pv.name, fault.code, fault.string))
    ordered = [perName[pv.name] for pv in values if pv.name in perName]
    return CWMPFault(9003, parameterFaults=ordered)


def _coverage(asked: Sequence[str]) -> "_Coverage":
    """
    C{name -> bool}: whether C{name} is one of C{asked} or lies under one of
    its object paths (as L{paths.isPrefix}), in time proportional to the
    name's depth rather than to the number of paths asked. A path asked
    with instance aliases covers the names of the instance the alias stands
    for, under its instance number (see L{_AliasPath}).
    """
    return _Coverage(asked)


class _Coverage:
    """
    What L{_coverage} returns: callable on a name; L{resolve} an asked path.
    A path asked with aliases joins the plain ones once an answer showed
    its numbers, so each name costs its depth plus, at most, the aliases
    not resolved yet.
    """

    __slots__ = ("_all", "_exact", "_objects", "_prefixes", "_aliased", "_pending")

    def __init__(self, asked: Sequence[str]) -> None:
        self._exact: set[str] = set()
        self._objects: set[str] = set()
        self._aliased: dict[str, _AliasPath] = {}
        for path in asked:
            if "[" in path:
                if path not in self._aliased:
                    self._aliased[path] = _AliasPath(path)
            else:
                self._exact.add(path)
                if not path or path[-1] == ".":
                    self._objects.add(path)
        self._pending = list(self._aliased.values())
        self._all = "" in self._exact
        self._prefixes = self._fewPrefixes()

    def _fewPrefixes(self) -> Optional[tuple[str, ...]]:
        # a few object paths (the usual request) are checked at once by str.startswith
        return tuple(self._objects) if len(self._objects) <= _FEW_PREFIXES else None

    def __call__(self, name: str) -> bool:
        if self._all or name in self._exact:
            return True
        if self._prefixes is not None:
            if name.startswith(self._prefixes):
                return True
            return bool(self._pending) and self._aliasCovers(name)
        end = name.find(".")
        while end != -1:
            if name[: end + 1] in self._objects:
                return True
            end = name.find(".", end + 1)
        return self._aliasCovers(name)

    def _aliasCovers(self, name: str) -> bool:
        for index, alias in enumerate(self._pending):
            if alias.covers(name):
                del self._pending[index]
                resolved = alias.resolved()
                self._exact.add(resolved)
                if paths.isPartial(resolved):
                    self._objects.add(resolved)
                    self._prefixes = self._fewPrefixes()
                return True
        return False

    def resolve(self, path: str) -> Optional[str]:
        """
        C{path} as the answer names it: itself, or for a path with aliases
        the same path under the instance numbers the answers showed (None
        when no answer showed them).
        """
        alias = self._aliased.get(path)
        return path if alias is None else alias.resolved()


class _AliasPath:
    """
    A path asked with instance aliases (TR-069 3.6.1): C{Device.Hosts.Host.[cpe-tv].HostName}.

    Models answer under instance numbers (C{Device.Hosts.Host.2.HostName}):
    TR-181 C{ManagementServer.InstanceMode} says whether a CPE returns path
    names with instance numbers or aliases, and its factory default,
    C{InstanceNumber}, is the only mode the proxier offers (it has no
    C{InstanceMode}, and C{AliasBasedAddressing} is false). An alias
    segment matches one instance number; the first answer covered fixes
    it, so a model answering rows of two instances for one alias is caught
    as a stray.
    """

    __slots__ = ("_pattern", "_segments", "_partial", "_numbers")

    def __init__(self, asked: str) -> None:
        parsed = paths.parse(asked)
        self._segments = parsed.segments
        self._partial = parsed.partial
        self._numbers: Optional[tuple[str, ...]] = None
        parts = [r"([1-9][0-9]*)" if isinstance(s, paths.Alias) else re.escape(str(s)) for s in parsed.segments]
        self._pattern = re.compile(r"\.".join(parts) + (r"\." if parsed.partial else r"\Z"))

    def covers(self, name: str) -> bool:
        match = self._pattern.match(name)
        if match is None:
            return False
        numbers = match.groups()
        if self._numbers is None:
            self._numbers = numbers
        return numbers == self._numbers

    def resolved(self) -> Optional[str]:
        if self._numbers is None:
            return None
        numbers = iter(self._numbers)
        segments = [next(numbers) if isinstance(s, paths.Alias) else str(s) for s in self._segments]
        return ".".join(segments) + ("." if self._partial else "")
