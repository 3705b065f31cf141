# -*- test-case-name: tests.test_upnpdm_model -*-
"""
GetParameterAttributes and SetParameterAttributes of one device (TR-330
§4.6.5): the CWMP Notification is the device's EventOnChange, with the
passive/active level the ACS chose kept by the proxier (in the device's
L{Baselines<proxier.proxy.baselines.Baselines>}, part of its
L{DeviceState<proxier.upnpdm.state.DeviceState>}); AccessList always empty
and never settable (9003); a partial path expanded by the §4.6.5 steps;
when one SetAttributes of several fails, those already changed are set
back (§4.6.5.2.1); the parameters whose EventOnChange is now on are
watched, their value now the baseline.

Kept apart from the value RPCs because it is the one part of the model
that owns notification state: what the proxier keeps of each parameter's
Notification and which values it watches for changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Sequence

from twisted.internet.defer import inlineCallbacks

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.tree import MAX_REQUEST_ITEMS as MAX_REQUEST
from proxier.datamodel.values import AttributeChange, Notification, ParameterAttributes
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import cmsxml
from proxier.upnpdm.cmsnames import checkName
from proxier.upnpdm.cmsschema import chunks
from proxier.upnpdm.cmsxml import CMSDocumentError

if TYPE_CHECKING:  # pragma: no cover
    from proxier.upnpdm.model import CMSDataModel

__all__ = ["NotificationAttributes", "FORCED_ACTIVE"]

# TR-181 2.17 (tr-181-2-17-0-cwmp-full.xml), the parameters with
# activeNotify="forceEnabled": their Notification is always active (2); the
# ACS cannot lower it (9009).
FORCED_ACTIVE = frozenset({
    "Device.DeviceInfo.SoftwareVersion",
    "Device.DeviceInfo.ProvisioningCode",
})


class NotificationAttributes:
    """
    The attribute RPCs of one L{CMSDataModel}, over its schema cache's
    C{eventOnChange}, its lock (held while attributes change, as by value
    writes) and its device state.
    """

    def __init__(self, model: "CMSDataModel") -> None:
        self.model = model
        self.log = model.log

    def notificationOf(self, name: str, eventOnChange: bool) -> int:
        """The CWMP Notification of a parameter whose EventOnChange is C{eventOnChange}."""
        if not eventOnChange:
            return Notification.OFF
        if name in FORCED_ACTIVE:
            return Notification.ACTIVE
        return self._level(name, Notification.PASSIVE)

    def _level(self, name: str, default: int) -> int:
        """The level the ACS chose for C{name}, or C{default} when it chose none."""
        entry = self.model.state.baselines.attributesOf(name)
        return entry[0] if entry is not None else default

    @inlineCallbacks
    def get(self, names: list[str]) -> Any:
        """GetParameterAttributes of C{names}: C{[ParameterAttributes]}."""
        if len(names) > MAX_REQUEST:
            raise CWMPFault(9004, f"Resources exceeded (more than {MAX_REQUEST} names)")
        expanded: list[tuple[str, Optional[str]]] = []
        for name in names:
            expanded.extend((yield self.model.routing.expandParameters(name)))
        device = [cms for _, cms in expanded if cms is not None]
        attributes = yield self.model.getAttributes(device)
        out: list[ParameterAttributes] = []
        seen: set[str] = set()
        for name, cms in expanded:
            if name in seen:
                continue
            seen.add(name)
            if cms is None:
                level = self._level(name, Notification.OFF)
                out.append(ParameterAttributes(name, level, ()))
                continue
            if cms not in attributes:
                raise CMSDocumentError(f"GetAttributes did not answer for {cms}")
            level = self.notificationOf(name, self.model.eventOnChange.get(cms, False))
            out.append(ParameterAttributes(name, level, ()))
        return out

    @inlineCallbacks
    def set(self, changes: list[AttributeChange]) -> Any:
        """SetParameterAttributes of C{changes}; fires with None once applied."""
        if len(changes) > MAX_REQUEST:
            raise CWMPFault(9004, f"Resources exceeded (more than {MAX_REQUEST} changes)")
        for change in changes:
            if change.accessListChange:
                # TR-330 §4.6.5.2.1: "The CPE Proxier sends a 9003 error response when the CWMP
                # SetParameterAttributes request attempts to set the AccessList value."
                raise CWMPFault(9003, "Invalid arguments (AccessList cannot be set on a UPnP DM device)")
            if change.notificationChange and change.notification not in Notification.ALL:
                raise CWMPFault(9003, f"Invalid arguments (Notification {change.notification} is not supported)")
        # (name, cms, level, explicit) for every parameter the request touches
        wanted: dict[str, tuple[Optional[str], int, bool]] = {}
        for change in changes:
            if not change.notificationChange:
                checkName(change.name)
                continue
            explicit = not change.name.endswith(".") and change.name != ""
            for name, cms in (yield self.model.routing.expandParameters(change.name)):
                if name in FORCED_ACTIVE and change.notification != Notification.ACTIVE:
                    if explicit:
                        raise CWMPFault(9009, f"Notification request rejected ({name} is always active)")
                    continue
                wanted[name] = (cms, change.notification, explicit)
        device = [cms for cms, _, _ in wanted.values() if cms is not None]
        yield self.model.lock.acquire()
        try:
            current = yield self.model.getAttributes(device)
            plan: list[tuple[str, str, bool, bool]] = []  # (name, cms, new EventOnChange, explicit)
            for name, (cms, level, explicit) in wanted.items():
                if cms is None:
                    continue
                if cms not in current:
                    raise CMSDocumentError(f"GetAttributes did not answer for {cms}")
                on = level != Notification.OFF
                if self.model.eventOnChange.get(cms, False) != on:
                    plan.append((name, cms, on, explicit))
            if plan and not self.model.caps.canSetAttributes:
                explicitOnes = [n for n, _, _, e in plan if e]
                if explicitOnes:
                    raise CWMPFault(9009, f"Notification request rejected (the device cannot change "
                                          f"EventOnChange of {explicitOnes[0]})")
                skipped = {n for n, _, _, _ in plan}
                plan = []
                for name in skipped:
                    wanted.pop(name, None)
            refused = yield self._apply(plan)
            for name in refused:
                wanted.pop(name, None)
            for name, (cms, level, _) in wanted.items():
                self.model.state.baselines.setAttributes(name, level if name not in FORCED_ACTIVE else 0)
            yield self._rebaseline([cms for name, (cms, level, _) in wanted.items() if cms is not None])
        finally:
            self.model.lock.release()
        return None

    @inlineCallbacks
    def _apply(self, plan: list[tuple[str, str, bool, bool]]) -> Any:
        """
        SetAttributes for C{plan}, in batches; when one fails, the batches
        already applied are set back (§4.6.5.2.1). A batch of parameters a
        partial path named that is refused with 706 (an EventOnChange the
        device keeps fixed) is tried one by one, and those refused are left
        as they are. Returns the names left unchanged.
        """
        done: list[tuple[str, str, bool, bool]] = []
        refused: list[str] = []
        try:
            for batch in chunks(plan, self.model.batch):
                if not batch:
                    continue
                try:
                    yield self._setAttributes(batch)
                    done.extend(batch)
                except UPnPError as e:
                    if e.code != 706 or any(explicit for _, _, _, explicit in batch):
                        raise
                    for one in batch:
                        try:
                            yield self._setAttributes([one])
                            done.append(one)
                        except UPnPError as single:
                            if single.code != 706:
                                raise
                            refused.append(one[0])
                            self.log.info("{name}: the device keeps EventOnChange fixed; left as it is", name=one[0])
        except Exception:
            if done:
                self.log.warn("SetAttributes failed: setting back {n} parameter(s) already changed", n=len(done))
                try:
                    yield self._setAttributes([(n, c, not on, e) for n, c, on, e in done])
                except Exception as undo:
                    self.log.error("setting the attributes back failed: {why}", why=str(undo))
            raise
        return refused

    @inlineCallbacks
    def _setAttributes(self, batch: Sequence[tuple[str, str, bool, bool]]) -> Any:
        answer = yield self.model.cms("SetAttributes", NodeAttributeValueList=cmsxml.nodeAttributeValueList(
            (cms, "EventOnChange", "1" if on else "0") for _, cms, on, _ in batch))
        # committed = applied (§4.6.5.2.1)
        self.model.statusOf(answer.get("Status", "ChangesApplied"), "SetAttributes")
        for _, cms, on, _ in batch:
            self.model.eventOnChange[cms] = on
        return None

    @inlineCallbacks
    def _rebaseline(self, paths: Sequence[str]) -> Any:
        """Watch the parameters whose EventOnChange is now on (their value now is the baseline); unwatch the others."""
        baselines = self.model.state.baselines
        fresh = []
        for cms in paths:
            if self.model.eventOnChange.get(cms, False):
                if cms not in baselines.values:
                    fresh.append(cms)
            else:
                baselines.unwatch(cms)
        if fresh:
            for path, _, text in (yield self.model.readValues(fresh)):
                baselines.watch(path, text)
        return None
