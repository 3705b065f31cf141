# -*- test-case-name: tests.test_upnpdm_model -*-
"""
SetParameterValues of one device (TR-330 §4.6.4.1): names, access and
types checked first — 9005, 9008, 9006, 9007 with per-parameter details,
TR-181's type and facets before the device's (issue 17.3) — then one
SetValues, atomic on the device; its Status relayed; a refusal mapped by
Table 2, per parameter when there was one parameter, "without details"
when there were several. Each parameter set is marked as the ACS's own
change, and a watched one takes the value set as its baseline (set back
when the device refuses) — unless the write is not the ACS's (the local
console, L{ILocalWrites<proxier.datamodel.capabilities.ILocalWrites>}):
then neither, and the change watcher reports it as the device's own.

Kept apart from the reads because it is the model's one write of values,
with its own order of checks and its own undo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from twisted.internet.defer import inlineCallbacks

from proxier.datamodel import paths as cwmppaths
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault
from proxier.datamodel.tree import MAX_REQUEST_ITEMS as MAX_REQUEST
from proxier.datamodel.values import ParameterValue
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import cmsxml
from proxier.upnpdm.cmspaths import structureOf, tableOf
from proxier.upnpdm.cmsschema import NodeInfo
from proxier.upnpdm.errors import cwmpCodeFor, faultFor

if TYPE_CHECKING:  # pragma: no cover
    from proxier.upnpdm.model import CMSDataModel

__all__ = ["ValueWrites", "MAX_NAME_PROBES"]

#: GetAttributes of one parameter at a time, to find which names of a
#: SetParameterValues do not exist, at most this many times.
MAX_NAME_PROBES = 32


class ValueWrites:
    """The SetParameterValues of one L{CMSDataModel}, under its lock."""

    def __init__(self, model: "CMSDataModel") -> None:
        self.model = model

    @inlineCallbacks
    def set(self, values: list[ParameterValue], byACS: bool = True) -> Any:
        """
        SetParameterValues of C{values}: the Status, or a CWMPFault with
        per-parameter details.

        @param byACS: whether the ACS made it (never reported back), or
            someone else (reported where Notification is on).
        """
        plan = yield self.check(values)
        yield self.model.lock.acquire()
        try:
            status = yield self._applyValues(plan, byACS)
        finally:
            self.model.lock.release()
        return status

    @inlineCallbacks
    def check(self, values: list[ParameterValue]) -> Any:
        """
        The checks of L{set} alone, nothing written (the Embedded Object
        Mechanism checks at once and writes later): C{[(value, CMS path,
        device text)]}, or the CWMPFault L{set} would fail with.
        """
        if not values:
            raise CWMPFault(9003, "Invalid arguments (no parameter to set)")
        if len(values) > MAX_REQUEST:
            raise CWMPFault(9004, f"Resources exceeded (more than {MAX_REQUEST} parameters)")
        names = [v.name for v in values]
        if len(set(names)) != len(names):
            raise CWMPFault(9003, "Invalid arguments (a parameter appears twice)")
        faults: dict[str, SetParameterValuesFault] = {}
        targets: dict[str, str] = {}
        held = self.model.constants
        for pv in values:
            reason = cwmppaths.check(pv.name)
            if reason or pv.name.endswith("."):
                faults[pv.name] = SetParameterValuesFault(pv.name, 9005)
            elif pv.name in held:
                faults[pv.name] = SetParameterValuesFault(pv.name, 9008)
            else:
                try:
                    targets[pv.name] = yield self.model.names.toCMS(pv.name)
                except CWMPFault as fault:
                    faults[pv.name] = SetParameterValuesFault(pv.name, fault.code, fault.string)
        named: dict[str, str] = {}
        for name, cms in targets.items():
            if cms in named:
                # by number and by alias (TR-069 A.3.2.1: a parameter given twice is 9003)
                raise CWMPFault(9003, f"Invalid arguments ({named[cms]} and {name} are the same parameter)")
            named[cms] = name
        infos = yield self._infosForSet(list(targets.items()), faults)
        plan: list[tuple[ParameterValue, str, str]] = []
        for pv in values:
            if pv.name in faults or pv.name not in targets:
                continue
            cms = targets[pv.name]
            info = infos[cms]
            if self.model.kindOf(cms, info) != "leaf":
                faults[pv.name] = SetParameterValuesFault(pv.name, 9005)
            elif not info.writable or not self.model.caps.canSetValues:
                faults[pv.name] = SetParameterValuesFault(pv.name, 9008)
            else:
                dataType = self.model.dataType(cms)
                try:
                    text = self.model.typing.deviceText(pv, dataType)
                except CWMPFault as fault:
                    faults[pv.name] = SetParameterValuesFault(pv.name, fault.code, fault.string)
                    continue
                plan.append((pv, cms, text))
        if faults:
            raise CWMPFault(9003, parameterFaults=[faults[n] for n in names if n in faults])
        return plan

    @inlineCallbacks
    def _infosForSet(self, targets: list[tuple[str, str]], faults: dict[str, SetParameterValuesFault]) -> Any:
        """The NodeInfo of each target; names whose node does not exist get 9005."""
        try:
            infos = yield self.model.nodeInfos([cms for _, cms in targets])
            return infos
        except UPnPError as e:
            if e.code != 703:
                raise
        # some name does not exist: find which, one at a time (bounded)
        unknown = [(n, c) for n, c in targets if structureOf(c) not in self.model.schema]
        if len(unknown) > MAX_NAME_PROBES:
            raise CWMPFault(9005, "Invalid parameter name (the device does not know some of them)")
        for name, cms in unknown:
            try:
                yield self.model.getAttributes([cms])
            except UPnPError as e:
                if e.code != 703:
                    raise
                faults[name] = SetParameterValuesFault(name, 9005)
        return {cms: self.model.schema.get(structureOf(cms)) or NodeInfo() for _, cms in targets}

    @inlineCallbacks
    def _applyValues(self, plan: list[tuple[ParameterValue, str, str]], byACS: bool) -> Any:
        previous: dict[str, Optional[str]] = {}
        for _, cms, _ in plan:
            if cms.endswith("/Alias"):  # the alias cache of its table is stale now
                self.model.aliases.pop(tableOf(cms[: -len("Alias")]), None)
        if byACS:
            self.model.markACSChange([cms for _, cms, _ in plan])
        baselines = self.model.state.baselines
        for pv, cms, text in plan:
            if byACS and cms in baselines.values:
                previous[cms] = baselines.values[cms]
                baselines.watch(cms, text)
        try:
            answer = yield self.model.cms("SetValues", ParameterValueList=cmsxml.parameterValueList(
                (cms, text) for _, cms, text in plan))
        except UPnPError as e:
            for cms, old in previous.items():
                if old is not None:
                    baselines.watch(cms, old)
            code = cwmpCodeFor(e.code, "SetParameterValues")
            if len(plan) == 1 and code in (9005, 9006, 9007, 9008):
                fault = faultFor(e.code, e.description, "SetValues", "SetParameterValues")
                raise CWMPFault(9003, parameterFaults=[SetParameterValuesFault(plan[0][0].name, code, fault.string)])
            # TR-330 §4.6.4.1 note: several parameters → "a failure without details"
            raise faultFor(e.code, e.description, "SetValues", "SetParameterValues") from None
        return self.model.statusOf(answer.get("Status", ""), "SetValues")
