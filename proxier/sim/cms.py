# -*- test-case-name: tests.test_sim_cms -*-
"""
ConfigurationManagement:2 of a simulated device: every action of the service
template over the device's L{Model<proxier.sim.cmstree.Model>}, its evented
state, and the "local" changes the device's own user makes.

State variables (CMS:2 §2.2) and the forms this device gives them:

 - C{CurrentConfigurationVersion} (ui4): counts every change of the
   configuration (values, instances, attributes), whoever made it.
 - C{ConfigurationUpdate} (evented): C{"<version>,<dateTime>"} of the last
   change that touched a node whose EventOnChange is on; when AlarmsEnabled
   is on and parameters with AlarmOnChange changed, a third field holds their
   C{ParameterValueList} (as in the libupnp CMS control point sample).
   Changes to nodes without EventOnChange raise the version but send no
   event — TR-330 Table 1 ("4 VALUE CHANGE").
 - C{SupportedDataModelsUpdate}, C{SupportedParametersUpdate},
   C{AttributeValuesUpdate} (evented): C{"<count>,<dateTime>"} of the last
   change of the supported models, the supported tree, the attributes.
 - C{InconsistentStatus} (evented): on while committed changes are being
   applied (see L{ConfigurationManagement.changeStatus}).
 - C{AlarmsEnabled} (evented): Get/SetAlarmsEnabled.

Knobs for tests: L{changeStatus} (C{"ChangesApplied"}, or
C{"ChangesCommitted"} with the changes applied L{applyDelay} seconds later),
L{busyWhileApplying} (708 while applying), and the fault injection every
service has (L{Service.injectFault<proxier.sim.service.Service.injectFault>}).

GetSelectedValues' C{Filter} is read as conditions on the parameters of
each node the StartingNode names, joined by C{and}::

    Active=1 and HostName!='laptop'

An empty filter selects every node.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Callable, Iterable, Sequence

from proxier.sim import cmsxml
from proxier.sim.cmstree import READ_WRITE, Changes, Model, Ref, parsePath
from proxier.sim.errors import CMS_ERRORS, ActionError, cmsError
from proxier.sim.service import Service
from proxier.sim.servicetypes import CMS2

__all__ = ["ConfigurationManagement", "CHANGES_APPLIED", "CHANGES_COMMITTED", "formatTime", "MAX_RESULTS"]

CHANGES_APPLIED = "ChangesApplied"
CHANGES_COMMITTED = "ChangesCommitted"

#: The most parameters one GetValues answers (709 Resources Exceeded beyond).
MAX_RESULTS = 8192
_MAX_UI4 = 2**32 - 1

_CONDITION = re.compile(
    r"""^\s*([A-Za-z_][A-Za-z0-9_/]*)\s*(!=|=)\s*(?:'([^']*)'|"([^"]*)"|([^\s'"]*))\s*$"""
)


def formatTime(seconds: float) -> str:
    """A POSIX time as a UPnP dateTime in UTC (C{2024-05-01T12:00:00Z})."""
    moment = datetime.datetime.fromtimestamp(int(seconds), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ConfigurationManagement(Service):
    """
    The CMS:2 service of one device.

    @ivar model: the device's data-model tree.
    @ivar version: CurrentConfigurationVersion.
    @ivar changeStatus: what SetValues, SetAttributes, CreateInstance and
        DeleteInstance answer: C{"ChangesApplied"} (done), or
        C{"ChangesCommitted"} (readable at once, applied L{applyDelay}
        seconds later, InconsistentStatus on meanwhile).
    """

    serviceType = CMS2
    shortName = "cms"
    errorTable = CMS_ERRORS

    def __init__(self, model: Model, clock: Any, *, log: Any = None) -> None:
        super().__init__()
        self.model = model
        self.clock = clock
        if log is not None:
            self.log = log
        self.version = 0
        self.changeStatus = CHANGES_APPLIED
        self.applyDelay = 2.0
        self.busyWhileApplying = False
        self.alarmsEnabled = False
        self.inconsistent = False
        self._applying: Any = None
        self._changeListeners: list[Callable[[Changes, bool], None]] = []
        now = formatTime(clock.seconds())
        self._configurationUpdate = f"0,{now}"
        self._supportedDataModelsUpdate = f"1,{now}"
        self._supportedParametersUpdate = f"1,{now}"
        self._attributeCount = 0
        self._attributeValuesUpdate = f"0,{now}"

    # -- evented state ---------------------------------------------------

    def value_ConfigurationUpdate(self) -> str:
        return self._configurationUpdate

    def value_SupportedDataModelsUpdate(self) -> str:
        return self._supportedDataModelsUpdate

    def value_SupportedParametersUpdate(self) -> str:
        return self._supportedParametersUpdate

    def value_AttributeValuesUpdate(self) -> str:
        return self._attributeValuesUpdate

    def value_InconsistentStatus(self) -> bool:
        return self.inconsistent

    def value_AlarmsEnabled(self) -> bool:
        return self.alarmsEnabled

    def _bumpVersion(self) -> str:
        self.version = 0 if self.version >= _MAX_UI4 else self.version + 1
        return formatTime(self.clock.seconds())

    def _record(self, changes: Changes, local: bool = False) -> None:
        """A configuration change happened: raise the version, event if it matters."""
        if not changes:
            return
        for listener in list(self._changeListeners):
            listener(changes, local)
        now = self._bumpVersion()
        evented = any(self.model.eventOnChangeOf(path) for path in changes.values)
        for instance in changes.created + changes.deleted:
            if self.model.eventOnChangeOf(self.model.tableOf(instance)):
                evented = True
        alarmed = [(p, self.model.value(p)) for p in changes.values if self.model.alarmOnChangeOf(p)]
        if evented or (self.alarmsEnabled and alarmed):
            update = f"{self.version},{now}"
            if self.alarmsEnabled and alarmed:
                update += "," + cmsxml.parameterValueList(alarmed)
            self._configurationUpdate = update
            self.changed("ConfigurationUpdate")

    def _status(self) -> str:
        """The Status of a write: applied, or committed and applied later."""
        if self.changeStatus != CHANGES_COMMITTED:
            return CHANGES_APPLIED
        if self._applying is not None and self._applying.active():
            self._applying.reset(self.applyDelay)
        else:
            self._applying = self.clock.callLater(self.applyDelay, self._applied)
        if not self.inconsistent:
            self.inconsistent = True
            self.changed("InconsistentStatus")
        return CHANGES_COMMITTED

    def _applied(self) -> None:
        self._applying = None
        if self.inconsistent:
            self.inconsistent = False
            self.changed("InconsistentStatus")

    def _checkAvailable(self) -> None:
        if self.busyWhileApplying and self.inconsistent:
            raise cmsError(708, "still applying the last committed changes")

    def stop(self) -> None:
        """The device powers off or reboots: pending applies are done."""
        if self._applying is not None and self._applying.active():
            self._applying.cancel()
        self._applying = None
        self.inconsistent = False

    def factoryReset(self) -> None:
        """BaselineReset: the tree back to its factory state (a change of configuration)."""
        self.stop()
        self.model.factoryReset()
        self.alarmsEnabled = False
        now = self._bumpVersion()
        self._configurationUpdate = f"{self.version},{now}"

    # -- the device's own user --------------------------------------------

    def setLocal(self, path: str, value: str) -> None:
        """
        The device's user (or its firmware) changes one value — read-only
        ones too. Events follow as for any change.

        @raise ActionError: the path is not a parameter or the value not of
            its type (a mistake in the test).
        """
        self.setLocalValues([(path, value)])

    def setLocalValues(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Several local changes at once (one version, one event)."""
        changes = self.model.setValues(list(pairs), local=True)
        self._record(changes, local=True)

    def addLocalInstance(self, tablePath: str, values: Iterable[tuple[str, str]] = ()) -> str:
        """The device adds an instance by itself (a new host appears); returns its path."""
        path, changes = self.model.createInstance(tablePath, list(values), local=True)
        self._record(changes, local=True)
        return path

    def deleteLocalInstance(self, instancePath: str) -> None:
        """The device removes an instance by itself."""
        changes = self.model.deleteInstance(instancePath, local=True)
        self._record(changes, local=True)

    def onChange(self, listener: Callable[[Changes, bool], None]) -> None:
        """Tell C{listener(changes, local)} of every configuration change (the device logs them)."""
        self._changeListeners.append(listener)

    # -- actions: reading --------------------------------------------------

    def action_GetSupportedDataModels(self) -> dict:
        return {"SupportedDataModels": cmsxml.supportedDataModels(self.model.schema.dataModels)}

    def action_GetSupportedParameters(self, StartingNode: str, SearchDepth: int) -> dict:
        return {"Result": cmsxml.structurePathList(self.model.supportedParameters(StartingNode, SearchDepth))}

    def action_GetInstances(self, StartingNode: str, SearchDepth: int) -> dict:
        return {"Result": cmsxml.instancePathList(self.model.instances(StartingNode, SearchDepth))}

    def action_GetValues(self, Parameters: str) -> dict:
        paths = cmsxml.parseContentPathList(Parameters)
        values = self.model.getValues(paths)
        if len(values) > MAX_RESULTS:
            raise cmsError(709, f"{len(values)} parameters exceed the {MAX_RESULTS} one answer holds")
        return {"ParameterValueList": cmsxml.parameterValueList(values)}

    def action_GetSelectedValues(self, StartingNode: str, Filter: str) -> dict:
        conditions = _parseFilter(Filter)
        refs = self.model.expand(StartingNode)
        out: list[tuple[str, str]] = []
        for ref in refs:
            if ref.kind == "leaf":
                if not conditions:
                    out.append((ref.path, self.model.value(ref.path)))
                continue
            if self._matches(ref, conditions):
                out.extend((leaf, self.model.value(leaf)) for leaf in self.model.leaves(ref))
            if len(out) > MAX_RESULTS:
                raise cmsError(709, f"more than {MAX_RESULTS} parameters selected")
        return {"ParameterValueList": cmsxml.parameterValueList(out)}

    def _matches(self, ref: Ref, conditions: list[tuple[str, str, str]]) -> bool:
        for relative, operator, expected in conditions:
            path = ref.path + relative
            try:
                target = self.model.resolve(path)
            except ActionError:
                raise cmsError(703, f"the filter names {relative!r}, which {ref.path} does not have") from None
            if target.kind != "leaf":
                raise cmsError(703, f"the filter names {relative!r}, which is not a parameter")
            actual = self.model.value(target.path)
            if target.node.type == "boolean":
                try:
                    expected = self.model.checkValue(target.node, expected)
                except ActionError:
                    pass
            if (actual == expected) != (operator == "="):
                return False
        return True

    def action_GetAttributes(self, Parameters: str) -> dict:
        nodes = []
        for text in cmsxml.parseNodeAttributePathList(Parameters):
            path, attribute = cmsxml.splitAttributePath(text)
            for ref in self.model.expand(path):
                attributes = self.model.attributes(ref)
                if attribute is not None:
                    if attribute not in attributes:
                        raise cmsError(703, f"{ref.path} has no attribute {attribute!r}")
                    attributes = {attribute: attributes[attribute]}
                nodes.append((ref.path if attribute is None else f"{ref.path}#{attribute}", attributes))
        return {"NodeAttributeValueList": cmsxml.nodeAttributeValueList(nodes)}

    def action_GetConfigurationUpdate(self) -> dict:
        return {"StateVariableValue": self._configurationUpdate}

    def action_GetCurrentConfigurationVersion(self) -> dict:
        return {"StateVariableValue": self.version}

    def action_GetSupportedDataModelsUpdate(self) -> dict:
        return {"StateVariableValue": self._supportedDataModelsUpdate}

    def action_GetSupportedParametersUpdate(self) -> dict:
        return {"StateVariableValue": self._supportedParametersUpdate}

    def action_GetAttributeValuesUpdate(self) -> dict:
        return {"StateVariableValue": self._attributeValuesUpdate}

    def action_GetInconsistentStatus(self) -> dict:
        return {"StateVariableValue": self.inconsistent}

    def action_GetAlarmsEnabled(self) -> dict:
        return {"StateVariableValue": self.alarmsEnabled}

    def action_SetAlarmsEnabled(self, StateVariableValue: bool) -> dict:
        if self.alarmsEnabled != StateVariableValue:
            self.alarmsEnabled = StateVariableValue
            self.changed("AlarmsEnabled")
        return {}

    def action_GetACLData(self, StartingNodes: str) -> dict:
        entries = []
        for path in cmsxml.parsePathList(StartingNodes):
            for ref in self.model.expand(path):
                writable = ref.kind in ("leaf", "table", "instance") and ref.node.access == READ_WRITE
                entries.append((ref.path, "Public,Basic,Admin", "Admin" if writable else ""))
        return {"ACL": cmsxml.aclData(entries)}

    # -- actions: writing --------------------------------------------------

    def action_SetValues(self, ParameterValueList: str) -> dict:
        self._checkAvailable()
        pairs = cmsxml.parseParameterValueList(ParameterValueList)
        if not pairs:
            raise cmsError(701, "SetValues with no parameter")
        changes = self.model.setValues(pairs)
        self._record(changes)
        return {"Status": self._status()}

    def action_CreateInstance(self, MultiInstanceName: str, ChildrenInitialization: str) -> dict:
        self._checkAvailable()
        initial = cmsxml.parseParameterInitialValueList(ChildrenInitialization)
        path, changes = self.model.createInstance(MultiInstanceName, initial)
        self._record(changes)
        return {"InstanceIdentifier": path, "Status": self._status()}

    def action_DeleteInstance(self, InstanceIdentifier: str) -> dict:
        self._checkAvailable()
        changes = self.model.deleteInstance(InstanceIdentifier)
        self._record(changes)
        return {"Status": self._status()}

    def action_SetAttributes(self, NodeAttributeValueList: str) -> dict:
        self._checkAvailable()
        triples = cmsxml.parseNodeAttributeValueList(NodeAttributeValueList)
        changed = self.model.setAttributes(triples)
        if changed:
            now = self._bumpVersion()
            self._attributeCount = 0 if self._attributeCount >= _MAX_UI4 else self._attributeCount + 1
            self._attributeValuesUpdate = f"{self._attributeCount},{now}"
            self.changed("AttributeValuesUpdate")
        return {"Status": self._status()}


def _parseFilter(text: str) -> list[tuple[str, str, str]]:
    """
    The conditions of a GetSelectedValues filter: C{(relativePath, "=" or
    "!=", value)}.

    @raise ActionError: 701 when the filter is not of that form.
    """
    text = text.strip()
    if not text:
        return []
    if len(text) > 4096:
        raise cmsError(701, "filter longer than 4096 characters")
    conditions = []
    for part in re.split(r"\s+and\s+", text, flags=re.IGNORECASE):
        match = _CONDITION.match(part)
        if not match:
            raise cmsError(701, f"filter condition {part[:60]!r} is not Name=value or Name!=value")
        name, operator = match.group(1), match.group(2)
        value = next(v for v in match.group(3, 4, 5) if v is not None)
        try:
            parsePath("/" + name)
        except ActionError:
            raise cmsError(701, f"{name!r} is not a relative parameter path") from None
        conditions.append((name, operator, value))
    return conditions
