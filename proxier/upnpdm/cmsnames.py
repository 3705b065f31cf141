# -*- test-case-name: tests.test_upnpdm_alias_e2e -*-
"""
CWMP names ↔ one device's CMS paths: the profile's
L{Translator<proxier.upnpdm.cmspaths.Translator>} with the device's
L{UPnPInstances<proxier.upnpdm.instances.UPnPInstances>} for instance numbers
and a cache of each table's C{Alias} values for instance aliases (TR-330
§4.6.8, TR-069 3.6.1).

Kept apart because resolution is the only part of the model that may
read the device to answer "what is this name": an instance number or
alias not known yet makes it read that table (once) and try again.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from twisted.internet.defer import Deferred, inlineCallbacks

from proxier.datamodel import paths as cwmppaths
from proxier.datamodel.faults import CWMPFault
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import cmsxml
from proxier.upnpdm.cmspaths import NotInModel, Translator, UnknownInstance, instanceNumberOf, isInstanceSegment, \
    structureOf
from proxier.upnpdm.cmsschema import CMSSchema
from proxier.upnpdm.state import DeviceState

__all__ = ["NameResolver", "checkName", "isInstanceOf"]


def checkName(name: str) -> None:
    """
    @raise CWMPFault: 9005 when C{name} is not a valid CWMP path.
    """
    reason = cwmppaths.check(name)
    if reason:
        raise CWMPFault(9005, f"Invalid parameter name ({reason})")


def isInstanceOf(path: str, table: str) -> bool:
    """Whether the CMS path C{path} is an instance (C{.../Table/3/}) of C{table}."""
    if not path.startswith(table) or not path.endswith("/"):
        return False
    return isInstanceSegment(path[len(table):-1])


class NameResolver:
    """
    One device's name translation.

    @ivar translator: the profile's L{Translator} (replaced when the device is probed again).
    @ivar aliases: CMS table path → {alias: UPnP instance number}, as last read.
    """

    def __init__(self, cms: Callable[..., Deferred], schema: CMSSchema, state: DeviceState,
                 translator: Translator) -> None:
        self.cms = cms
        self.schema = schema
        self.state = state
        self.translator = translator
        self.aliases: dict[str, dict[str, int]] = {}

    def _lookup(self, table: str, segment: object) -> Optional[int]:
        if isinstance(segment, cwmppaths.Alias):
            return self.aliases.get(table, {}).get(str(segment))
        return self.state.instances.keyOf(table, segment)  # type: ignore[arg-type, return-value]

    def numberFor(self, table: str, upnp: int) -> int:
        """The CWMP instance number of UPnP instance C{upnp} of C{table} (assigned if new)."""
        return self.state.instances.assign(table, upnp)

    def toCWMP(self, cms: str) -> Optional[str]:
        """
        The CWMP path of a CMS path the device gave (numbering new
        instances), or None. Valid CWMP by construction: the translator
        takes only CMS node names that are TR-106 names, and caps the length.
        """
        return self.translator.toCWMP(cms, self.numberFor)

    def toCMS(self, name: str) -> Deferred:
        """
        The CMS path of a CWMP path; an instance number or alias not known
        yet makes the proxier read that table (once) and try again.

        @return: Deferred firing with the CMS path, failing with 9005 when
            there is no such path.
        """
        return self._toCMS(name)

    def toCMSNow(self, name: str) -> Optional[str]:
        """
        The CMS path of a CWMP path from what the proxier knows, without a
        Deferred: C{None} when an instance number or alias is not known yet
        (L{toCMS} reads the table).

        @raise CWMPFault: 9005 when the path is not in the device's model.
        """
        try:
            return self.translator.toCMS(name, self._lookup)
        except NotInModel:
            raise CWMPFault(9005, f"Invalid parameter name ({name} is not in this device's model)") from None
        except UnknownInstance:
            return None

    @inlineCallbacks
    def _toCMS(self, name: str) -> Any:
        refreshed: set[tuple[str, bool]] = set()
        while True:
            try:
                return self.translator.toCMS(name, self._lookup)
            except NotInModel:
                raise CWMPFault(9005, f"Invalid parameter name ({name} is not in this device's model)") from None
            except UnknownInstance as e:
                alias = isinstance(e.segment, cwmppaths.Alias)
                key = (e.tablePath, alias)
                if key in refreshed:
                    what = f"[{e.segment}]" if alias else str(e.segment)
                    raise CWMPFault(9005, f"Invalid parameter name (no instance {what} in {name})") from None
                refreshed.add(key)
                yield self.refreshTable(e.tablePath, aliases=alias)

    @inlineCallbacks
    def numbered(self, name: str) -> Any:
        """
        C{name} with each instance alias replaced by its instance number:
        the name answers carry (TR-181 C{ManagementServer.InstanceMode}'s
        default, C{InstanceNumber}, the only mode the proxier offers), and
        the one the proxier keeps state under (Notification). 9005 for an
        alias no instance has.
        """
        numbered = self.toCWMP((yield self._toCMS(name)))
        return name if numbered is None else numbered

    def refreshTable(self, table: str, aliases: bool = False) -> Deferred:
        """Read a table's instances (and their aliases) again: GetInstances, depth 1."""
        return self._refreshTable(table, aliases)

    @inlineCallbacks
    def _refreshTable(self, table: str, aliases: bool) -> Any:
        try:
            answer = yield self.cms("GetInstances", StartingNode=table, SearchDepth=1)
        except UPnPError as e:
            if e.code == 703:
                raise CWMPFault(9005, f"Invalid parameter name ({table} does not exist)") from None
            raise
        instances = [p for p in cmsxml.parseInstancePathList(answer.get("Result", ""))
                     if isInstanceOf(p, table)]
        self.state.instances.sync(table, [instanceNumberOf(p) for p in instances])
        self.schema.tables.add(structureOf(table))
        if aliases:
            yield self._readAliases(table, instances)
        return instances

    @inlineCallbacks
    def _readAliases(self, table: str, instances: Sequence[str]) -> Any:
        found: dict[str, int] = {}
        if instances:
            try:
                answer = yield self.cms("GetValues", Parameters=cmsxml.contentPathList(i + "Alias" for i in instances))
            except UPnPError as e:
                if e.code != 703:
                    raise
                self.aliases[table] = {}
                return None
            for path, value in cmsxml.parseParameterValueList(answer.get("ParameterValueList", "")):
                if path.endswith("/Alias") and isInstanceOf(path[: -len("Alias")], table):
                    found[value.strip()] = instanceNumberOf(path[: -len("Alias")])
        self.aliases[table] = found
        return None
