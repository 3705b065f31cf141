# -*- test-case-name: tests.test_upnpdm_model -*-
"""
AddObject and DeleteObject of one device (TR-330 §4.6.6, §4.6.7):
CreateInstance / DeleteInstance, the UPnP instance mapped to a CWMP number
that is never reused, the Status relayed; an instance alias (§4.6.8,
TR-069 3.6.1) initialized through ChildrenInitialization. The table's
C{...NumberOfEntries} and the instance are marked as the ACS's own change,
and a watched counter takes its new value as baseline, so that no later
check reports the ACS's own change.

Kept apart from the parameter RPCs because it is the one part of the
model that changes the shape of the device's tree, and with it the
proxier's instance map, alias cache and watched values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional

from twisted.internet.defer import Deferred, inlineCallbacks

from proxier.datamodel import paths as cwmppaths
from proxier.datamodel.faults import CWMPFault
from proxier.proxy.gate import GateFull, NoAnswer
from proxier.upnp.actions import ActionError
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import cmsxml
from proxier.upnpdm.cmsnames import checkName, isInstanceOf
from proxier.upnpdm.cmspaths import CWMP_ROOT, instanceNumberOf, structureOf, tableOf
from proxier.upnpdm.cmsxml import CMSDocumentError

if TYPE_CHECKING:  # pragma: no cover
    from proxier.upnpdm.model import CMSDataModel

__all__ = ["TableInstances"]


class TableInstances:
    """The object RPCs of one L{CMSDataModel}, under its lock."""

    def __init__(self, model: "CMSDataModel") -> None:
        self.model = model
        self.log = model.log

    @staticmethod
    def _counters(table: str) -> list[str]:
        """The C{...NumberOfEntries} parameter that counts a table (TR-106 naming), and the table itself."""
        name = table.rstrip("/").rsplit("/", 1)[-1]
        parent = table[: len(table) - len(name) - 1]
        return [parent + name + "NumberOfEntries", table]

    @inlineCallbacks
    def add(self, path: str) -> Any:
        """AddObject of C{path} (a table, or C{Table.[alias].}): C{(instance number, Status)}."""
        if not path.endswith(".") or path in ("", CWMP_ROOT):
            raise CWMPFault(9005, "Invalid parameter name (AddObject takes a table path ending in '.')")
        checkName(path)
        parsed = cwmppaths.parse(path)
        alias: Optional[str] = None
        tablePath = path
        if isinstance(parsed.last, cwmppaths.Alias):
            alias = str(parsed.last)
            tablePath = parsed.parent.text
        elif not isinstance(parsed.last, str):
            raise CWMPFault(9005, f"Invalid parameter name ({path} is an instance, not a table)")
        if any(n.startswith(tablePath) for n in self.model.constants):
            raise CWMPFault(9001, f"Request denied ({tablePath} is held by the proxier, read-only)")
        if not self.model.routing.deviceCovers(tablePath):
            raise CWMPFault(9005, f"Invalid parameter name ({tablePath} is not a table of this device)")
        if not self.model.caps.canCreateInstance:
            # TR-330 §4.3.1: without CreateInstance the device's tables are read-only
            raise CWMPFault(9001, "Request denied (the device offers no CMS CreateInstance)")
        table = yield self.model.names.toCMS(tablePath)
        if self.model.kindOf(table) != "table":
            yield self.model.getAttributes([table])
            if self.model.kindOf(table) != "table":
                raise CWMPFault(9005, f"Invalid parameter name ({tablePath} is not a multi-instance object)")
        initial: list[tuple[str, str]] = []
        if alias is not None:
            yield self.model.refreshTable(table, aliases=True)
            if structureOf(table) + "#/Alias" not in self.model.schema:
                columns = yield self._columns(table)
                if "Alias" not in columns:
                    raise CWMPFault(9003, f"Invalid arguments ({tablePath} has no Alias)")
            if alias in self.model.aliases.get(table, {}):
                raise CWMPFault(9007, f"Invalid parameter value (alias {alias!r} is already used)")
            initial.append(("Alias", alias))
        yield self.model.lock.acquire()
        try:
            self.model.markACSChange(self._counters(table))
            answer = yield self.model.cms("CreateInstance", MultiInstanceName=table,
                                    ChildrenInitialization=cmsxml.parameterInitialValueList(initial))
            identifier = answer.get("InstanceIdentifier", "").strip()
            if identifier and not identifier.endswith("/"):
                identifier += "/"
            if not isInstanceOf(identifier, table):
                self.log.warn("CreateInstance in {table} answered InstanceIdentifier {id!r}, not an instance of it",
                              table=table, id=identifier[:120])
                raise CMSDocumentError(f"InstanceIdentifier {identifier[:80]!r} is not an instance of {table}")
            upnp = instanceNumberOf(identifier)
            self.model.state.instances.retire(table, upnp)  # a new instance: a number seen before is not reused
            number = self.model.state.instances.assign(table, upnp)
            if alias is not None:
                self.model.aliases.setdefault(table, {})[alias] = upnp
            status = self.model.statusOf(answer.get("Status", ""), "CreateInstance")
            self.model.markACSChange([identifier])
            yield self._rebaselineCounters(table)
        finally:
            self.model.lock.release()
        return (number, status)

    def _columns(self, table: str) -> Deferred:
        """The names of a table's parameters (GetSupportedParameters of its instances, depth 1)."""
        structure = structureOf(table) + "#/"
        d = self.model.cms("GetSupportedParameters", StartingNode=structure, SearchDepth=1)

        def names(answer: Mapping[str, str]) -> set[str]:
            return {s[len(structure):] for s in cmsxml.parseStructurePathList(answer.get("Result", ""))
                    if s.startswith(structure)}

        return d.addCallback(names)

    @inlineCallbacks
    def delete(self, path: str) -> Any:
        """DeleteObject of C{path} (an instance, by number or alias): its Status."""
        if not path.endswith(".") or path in ("", CWMP_ROOT):
            raise CWMPFault(9005, "Invalid parameter name (DeleteObject takes an instance path ending in '.')")
        checkName(path)
        parsed = cwmppaths.parse(path)
        if isinstance(parsed.last, str) and not isinstance(parsed.last, cwmppaths.Alias):
            raise CWMPFault(9005, f"Invalid parameter name ({path} is not an instance)")
        if any(n.startswith(path) for n in self.model.constants):  # as AddObject says of the table
            raise CWMPFault(9001, f"Request denied ({path} is held by the proxier, read-only)")
        if not self.model.routing.deviceCovers(path):
            raise CWMPFault(9005, f"Invalid parameter name ({path} is not an instance of this device)")
        if not self.model.caps.canDeleteInstance:
            raise CWMPFault(9001, "Request denied (the device offers no CMS DeleteInstance)")
        instance = yield self.model.names.toCMS(path)
        table = tableOf(instance)
        yield self.model.lock.acquire()
        try:
            self.model.markACSChange(self._counters(table) + [instance])
            answer = yield self.model.cms("DeleteInstance", InstanceIdentifier=instance)
            status = self.model.statusOf(answer.get("Status", ""), "DeleteInstance")
            cwmpName = self.model.toCWMP(instance) or path
            self.model.state.instances.retire(table, instanceNumberOf(instance))
            self.model.state.baselines.forgetBelow(cwmpName, instance)
            for alias, number in list(self.model.aliases.get(table, {}).items()):
                if number == instanceNumberOf(instance):
                    del self.model.aliases[table][alias]
            for cms in [p for p in self.model.eventOnChange if p.startswith(instance)]:
                del self.model.eventOnChange[cms]
            yield self._rebaselineCounters(table)
        finally:
            self.model.lock.release()
        return status

    @inlineCallbacks
    def _rebaselineCounters(self, table: str) -> Any:
        """
        The ACS added or deleted an instance: the table's watched
        C{...NumberOfEntries} takes its new value as baseline now, durably,
        so that no later check (after a restart too) reports the ACS's own change.
        """
        watched = [p for p in self._counters(table) if p in self.model.state.baselines.values]
        if not watched:
            return None
        try:
            for path, _, text in (yield self.model.readValues(watched)):
                self.model.state.baselines.watch(path, text)
        except (UPnPError, ActionError, NoAnswer, CMSDocumentError, GateFull) as e:
            self.log.info("could not read {paths} after the change: {why}", paths=", ".join(watched), why=str(e))
        return None
