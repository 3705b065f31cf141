# -*- test-case-name: tests.test_upnpdm_model -*-
"""
What a CWMP name of a Virtual CWMP Device stands for: a node of the
device's BBF tree (read through CMS), a C{Device.DeviceInfo.} parameter the
device's BBF model lacks and the profile maps to the Common Objects
(C{mapped}), or a value the proxier holds itself (C{constants}: the
profile's, and the extra sources the device's management adds, such as
VendorLogFileNumberOfEntries, refreshed before a read that touches them).

Kept apart from the RPCs because every read RPC (GetParameterNames,
GetParameterValues, GetParameterAttributes) and SetParameterAttributes start
by this same routing of each name they are given, and the three sources
answer in one order: the device's nodes, then the mapped ones, then the
constants, in tree order (L{treeOrder}).

A name routes without a Deferred (L{NameRouting.resolveNow}) unless an
instance alias or an instance number not known yet makes the proxier read
the device: a GetParameterValues of many names costs one Deferred, not
one per name (L{NameRouting.resolveAll}).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping, Optional, Sequence

from twisted.internet.defer import Deferred, fail, gatherResults, inlineCallbacks, maybeDeferred, succeed

from proxier.asciinum import isUnsigned
from proxier.datamodel import paths as cwmppaths
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import ParameterValue
from proxier.upnpdm.cmsnames import NameResolver, checkName
from proxier.upnpdm.cmspaths import CWMP_ROOT, MAX_CMS_PATH
from proxier.upnpdm.cmswalk import TreeWalker
from proxier.upnpdm.profile import DeviceProfile

__all__ = ["NameRouting", "treeOrder"]


def treeOrder(name: str) -> tuple:
    """Sort key putting names in tree order, instance numbers (ASCII digits: '²' is a name) numerically."""
    return tuple((0, int(p), "") if isUnsigned(p) else (1, 0, p) for p in name.split("."))


#: What the names of a request routed from remembered pieces alone stand for, by their model's
#: translator and the names: C{(plan, instance look-ups)}, the look-ups C{(table, segment, UPnP
#: number)} each. Shared by every device of a model (issue 19: an ACS asks the same names again and
#: again, and a fleet's devices mostly number their instances alike): a device whose look-ups give
#: the same numbers, holding none of the names itself, has the same plan. Bounded (plans of at most
#: L{_MAX_PLAN_NAMES} names), then forgotten.
_plans: dict[tuple[Any, tuple[str, ...]], tuple[tuple[tuple[str, Optional[str]], ...], tuple]] = {}
_MAX_PLANS = 32
_MAX_PLAN_NAMES = 256


@lru_cache(maxsize=64)
def _withObjects(held: tuple[str, ...]) -> frozenset[str]:
    """
    The names of C{held}, the object paths holding them and the root
    (C{""} too): the names that touch one of them, one set lookup each
    rather than a prefix check against every one. Remembered: a source's
    names are fixed.
    """
    out = {"", CWMP_ROOT}
    for name in held:
        out.add(name)
        end = name.find(".")
        while end != -1:
            out.add(name[: end + 1])
            end = name.find(".", end + 1)
    return frozenset(out)


class NameRouting:
    """
    The routing of one device's names.

    @ivar profile: the device's profile (replaced when it is probed again).
    @ivar extraConstants: the sources of proxier-held values that change,
        added by the device's management: each with C{names} (the names it
        holds, a tuple that never changes), C{values()} (C{{name:
        ParameterValue}} of those names) and C{refresh()}.
    """

    def __init__(self, profile: DeviceProfile, names: NameResolver, walker: TreeWalker) -> None:
        self.profile = profile
        self.names = names
        self.walker = walker
        self.extraConstants: list[Any] = []

    @property
    def constants(self) -> Mapping[str, ParameterValue]:
        """The profile's constants, and the values the extra sources hold now."""
        if not self.extraConstants:
            return self.profile.constants
        merged = dict(self.profile.constants)
        for source in self.extraConstants:
            merged.update(source.values())
        return merged

    def localUnder(self, name: str, held: Mapping[str, ParameterValue]) -> tuple[list[str], list[str]]:
        """The constants of C{held} (L{constants}, read once) and the mapped parameters at or below C{name}."""
        constants = [n for n in held if cwmppaths.isPrefix(name, n)]
        mapped = [n for n in self.names.translator.mapped if cwmppaths.isPrefix(name, n)]
        return constants, mapped

    def deviceCovers(self, name: str) -> bool:
        """Whether C{name} is in (or above) the device's own BBF tree."""
        return self.profile.inBBF(name)

    def touchedSources(self, names: Sequence[str]) -> list[Any]:
        """
        The extra sources whose parameters C{names} touch (at, below or
        above them), by their names alone: a request touching none routes
        by the profile's constants, without their values.
        """
        return [source for source in self.extraConstants
                if not _withObjects(source.names).isdisjoint(names)]

    def refreshLocal(self, names: Sequence[str]) -> Deferred:
        """
        Refresh the extra sources whose parameters C{names} touch (at, below
        or above them); fires when they are done (never fails: a source
        answers from what it knows).
        """
        return self.refresh(self.touchedSources(names))

    @staticmethod
    def refresh(sources: Sequence[Any]) -> Deferred:
        """Refresh C{sources}; fires when they are done (never fails: a source answers from what it knows)."""
        due = [maybeDeferred(source.refresh).addErrback(lambda f: None) for source in sources]
        return gatherResults(due) if due else succeed(None)

    @inlineCallbacks
    def resolve(self, name: str, held: Mapping[str, ParameterValue]) -> Any:
        """
        What one requested name stands for, in the answer's order:
        C{[(cwmpName, cmsPath)]}; C{cmsPath} is C{None} for a value the
        proxier holds, and for a partial path the device covers it is the
        CMS partial path (ending in C{/}) beside the partial path asked.
        """
        checkName(name)
        if "[" in name:
            name = yield self.names.numbered(name)
        plan = self._resolveNumbered(name, held)
        if plan is None:  # an instance not known yet: read its table
            plan = self._resolveNumbered(name, held, (yield self.names.toCMS(name)))
        return plan

    def resolveNow(self, name: str, held: Mapping[str, ParameterValue]) -> Optional[list[tuple[str, Optional[str]]]]:
        """
        L{resolve} from what the proxier knows, without a Deferred: C{None}
        when the device must be read first (an instance alias, an instance
        number not known yet).

        @raise CWMPFault: 9005, as L{resolve} fails.
        """
        checkName(name)
        if "[" in name:
            return None
        return self._resolveNumbered(name, held)

    def resolveAll(self, names: Sequence[str], held: Mapping[str, ParameterValue]) -> Deferred:
        """
        L{resolve} of each name, the plans joined in order: synchronously
        up to the first name that needs the device, then one by one as
        L{resolve} does (so the device is read in the same order as before,
        and a fault stops at the same name).
        """
        plan: list[tuple[str, Optional[str]]] = []
        try:
            done = self._resolveKnown(names, held, plan)
        except Exception:
            return fail()
        if done < len(names):
            return self._resolveRest(plan, names[done:], held)
        return succeed(plan)

    def resolveAllNow(self, names: Sequence[str],
                      held: Mapping[str, ParameterValue]) -> Optional[list[tuple[str, Optional[str]]]]:
        """
        L{resolveAll} from what the proxier knows, without a Deferred: C{None}
        when a name needs the device first.

        @raise CWMPFault: 9005, as L{resolveAll} fails, at the same name.
        """
        translator = self.names.translator
        keyOf = self.names.state.instances.keyOf
        try:
            key = (translator, tuple(names))
            found = _plans.get(key)
        except TypeError:  # a name that is not text: faulted below
            key, found = None, None
        if found is not None:
            # the plan of these names, valid for this device when it numbers the same and holds none of them
            if held.keys().isdisjoint(key[1]) and all(keyOf(table, segment) == upnp  # type: ignore[index]
                                                     for table, segment, upnp in found[1]):
                return list(found[0])
        plan: list[tuple[str, Optional[str]]] = []
        lookups: list = []
        if self._resolveKnown(names, held, plan, lookups) < len(names):
            return None
        if key is not None and len(plan) <= _MAX_PLAN_NAMES and None not in lookups:
            if len(_plans) >= _MAX_PLANS:
                _plans.clear()
            _plans[key] = (tuple(plan), tuple(dict.fromkeys(lookups)))
        return plan

    def _resolveKnown(self, names: Sequence[str], held: Mapping[str, ParameterValue],
                      plan: list[tuple[str, Optional[str]]], lookups: Optional[list] = None) -> int:
        """
        Add to C{plan} what the names stand for up to the first one that
        needs the device; how many were. C{lookups}, when given, gets the
        instance look-ups of the names routed from remembered pieces
        (C{(table, segment, UPnP number)}), and C{None} for a name routed
        otherwise.
        """
        translator = self.names.translator
        mapped = translator.mapped
        # a parameter of the device's own tree asked before (the usual request, asked again): its CMS path
        # from the pieces remembered, its instances looked up, no check or parse again (issue 19)
        remembered = translator.parameters
        keyOf = self.names.state.instances.keyOf
        toCMSNow = self.names.toCMSNow
        for index, name in enumerate(names):
            pieces = remembered.get(name)
            if pieces is not None and name not in held:
                cms = pieces[0]
                for at in range(1, len(pieces), 2):
                    number = keyOf(cms, pieces[at])  # type: ignore[arg-type]
                    if number is None:
                        break
                    if lookups is not None:
                        lookups.append((cms, pieces[at], number))
                    cms += f"{number}{pieces[at + 1]}"
                else:
                    if len(cms) < MAX_CMS_PATH:
                        plan.append((name, cms))
                        continue
            if lookups is not None:
                lookups.append(None)
                # an instance not known (yet), a path too long: as below, which says what to do
            if name and name[-1] != "." and "[" not in name and name not in held and name not in mapped:
                # a parameter of the device's own tree (the usual request): L{resolveNow} in short
                checkName(name)
                cms = toCMSNow(name)
                if cms is None:
                    return index
                plan.append((name, cms))
                translator.rememberParameter(name)
                continue
            found = self.resolveNow(name, held)
            if found is None:
                return index
            plan.extend(found)
        return len(names)

    @inlineCallbacks
    def _resolveRest(self, plan: list, names: Sequence[str], held: Mapping[str, ParameterValue]) -> Any:
        for name in names:
            plan.extend((yield self.resolve(name, held)))
        return plan

    def _resolveNumbered(self, name: str, held: Mapping[str, ParameterValue],
                         cms: Optional[str] = None) -> Optional[list[tuple[str, Optional[str]]]]:
        """
        L{resolve} of a checked name without aliases; C{cms} its CMS path
        when already read, else C{None} is answered when it needs the device.
        """
        if name == "":
            name = CWMP_ROOT
        if name in held:
            return [(name, None)]
        mapped = self.names.translator.mapped
        if name in mapped:
            return [(name, mapped[name])]
        if not name.endswith("."):
            if cms is None:
                cms = self.names.toCMSNow(name)
            return None if cms is None else [(name, cms)]
        constants, mappedBelow = self.localUnder(name, held)
        covered = self.deviceCovers(name)
        if not (covered or constants or mappedBelow):
            raise CWMPFault(9005, f"Invalid parameter name ({name} is not in this device's model)")
        plan: list[tuple[str, Optional[str]]] = []
        if covered:
            if cms is None:
                cms = self.names.toCMSNow(name)
                if cms is None:
                    return None
            plan.append((name, cms))
        plan.extend((n, mapped[n]) for n in mappedBelow)
        plan.extend((n, None) for n in sorted(constants, key=treeOrder))
        return plan

    @inlineCallbacks
    def expandParameters(self, name: str) -> Any:
        """C{[(cwmpName, cmsPath or None for a constant)]} of the parameters at and below C{name}."""
        out: list[tuple[str, Optional[str]]] = []
        for cwmp, cms in (yield self.resolve(name, self.constants)):
            if cms is None or not cms.endswith("/"):
                out.append((cwmp, cms))
                continue
            for path in (yield self.walker.parametersBelow(cms)):
                below = self.names.toCWMP(path)
                if below is not None:
                    out.append((below, path))
        return out
