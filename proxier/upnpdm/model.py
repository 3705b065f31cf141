# -*- test-case-name: tests.test_upnpdm_model -*-
"""
The data model of one Virtual CWMP Device, over the device's
ConfigurationManagement service (TR-330 §4.6), as an L{IDataModel}.

Each CWMP RPC becomes the CMS actions §4.6 gives, through the device's
L{ActionGate<proxier.proxy.gate.ActionGate>}, with paths converted by
L{Translator<proxier.upnpdm.cmspaths.Translator>} and instance numbers by the
device's L{UPnPInstances<proxier.upnpdm.instances.UPnPInstances>}:

 - GetParameterNames (§4.6.2.1): a parameter → GetAttributes of it; an
   object with NextLevel true → GetSupportedParameters (depth 1); a table
   with NextLevel true → GetInstances (depth 1); an object with NextLevel
   false → GetInstances and GetSupportedParameters (depth 0). Writable
   comes from each node's Access attribute — gated by the actions the SCPD
   offers (§4.3.1: no SetValues, no writable parameter) — and a 703 from
   GetAttributes is 9005. Attributes are kept per StructurePath (the
   "entire object model held in the CPE Proxier" of the notes), so a node
   is asked about once.
 - GetParameterValues (§4.6.3.1): one GetValues for every path asked; each
   value typed from the CMS Type attribute (L{proxier.upnpdm.cmstypes.fromCMSType}) and written as
   CWMP writes that type (booleans C{true}/C{false}) — except where TR-181
   defines the parameter: its type and facets win, the value converted or
   refused (L{proxier.datamodel.standard}; issue 17.3). SetParameterValues
   checks TR-181's type and facets too, before the device's.
 - SetParameterValues (§4.6.4.1): names, access and types checked first
   (9005, 9008, 9006, 9007 with per-parameter details), then one SetValues,
   atomic on the device; its Status relayed (L{STATUS}); a refusal mapped
   by Table 2, per parameter when there was one parameter, "without
   details" when there were several.
 - Get/SetParameterAttributes (§4.6.5): Notification ↔ EventOnChange, the
   passive/active level the ACS chose kept by the proxier; AccessList
   always empty and never settable (9003); a partial path expanded by the
   §4.6.5 steps; when one SetAttributes of several fails, those already
   changed are set back to the attributes they had (§4.6.5.2.1).
 - AddObject / DeleteObject (§4.6.6, §4.6.7): CreateInstance /
   DeleteInstance, the UPnP instance mapped to a CWMP number that is never
   reused, Status relayed; an instance alias (§4.6.8, TR-069 3.6.1) is
   initialized through ChildrenInitialization and resolved from a cache of
   the table's C{Alias} values.
 - Reboot / FactoryReset: BMS Reboot / BaselineReset (offered only when
   the SCPD has them; otherwise the endpoint answers 9000).
 - Download / Upload: handed to the device's management (C{transferHandlers}:
   firmware over SMS, logs over BMS — L{proxier.upnpdm.management}); offered
   only when it set a handler.

The C{Device.DeviceInfo.} parameters the device's BBF model lacks come from
the Common Objects (the profile's C{mapped}, through the same actions) or
from the proxier (C{constants}: read-only; the profile's never change, those
of C{extraConstants} — VendorLogFileNumberOfEntries — are refreshed before a
read that touches them).

Every failure reaches the caller as a CWMPFault (L{proxier.upnpdm.errors}).

This module is the facade: the RPCs' wrapping (faults, the durable flush),
GetParameterValues, Reboot/FactoryReset/transfers and the ACS's marks; the
rest is in the modules it composes, one idea each: C{cmsschema} (what the
device's answers taught: Type, Access, kinds, EventOnChange), C{cmsnames}
(CWMP ↔ CMS paths, instance numbers, aliases), C{cmsrouting} (device,
Common Objects or proxier-held), C{cmswalk} (tree walks), C{cmsvalues}
(typing), C{cmslisting} (GetParameterNames), C{cmswrites}
(SetParameterValues), C{cmsattributes} (Get/SetParameterAttributes),
C{cmsobjects} (AddObject/DeleteObject).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from twisted.internet.defer import (
    CancelledError,
    Deferred,
    DeferredLock,
    fail,
    maybeDeferred,
    succeed,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from proxier.datamodel.capabilities import ChangeListener, ILocalWrites, INotifyingDataModel
from proxier.datamodel.faults import CWMPFault, asFault
from proxier.datamodel.tree import MAX_REQUEST_ITEMS, PARAMETER_METHODS
from proxier.datamodel.types import DataType
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.interfaces import IDataModel
from proxier.proxy.gate import ActionGate, GateFull, NoAnswer
from proxier.upnp.actions import ActionError
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import cmsxml
from proxier.upnpdm.cmsattributes import NotificationAttributes
from proxier.upnpdm.cmslisting import NameListing
from proxier.upnpdm.cmsnames import NameResolver
from proxier.upnpdm.cmsobjects import TableInstances
from proxier.upnpdm.cmspaths import CWMP_ROOT, CMSPathError, Translator, translatorFor
from proxier.upnpdm.cmsrouting import NameRouting
from proxier.upnpdm.cmsschema import CMSSchema, NodeInfo, chunks
from proxier.upnpdm.cmsvalues import ValueTyping
from proxier.upnpdm.cmswalk import MAX_NODES, TreeWalker
from proxier.upnpdm.cmswrites import ValueWrites
from proxier.upnpdm.cmsxml import CMSDocumentError
from proxier.upnpdm.errors import faultFor, noAnswerFault
from proxier.upnpdm.profile import DeviceProfile
from proxier.upnpdm.state import DeviceState

__all__ = [
    "CMSDataModel",
    "STATUS",
    "PARAMETER_METHODS",
    "BATCH",
]

# The RPCs whose success includes state the proxier holds (instance maps,
# Notification levels): answered only once that state is on disk.
_HELD_WRITES = frozenset({"SetParameterValues", "SetParameterAttributes", "AddObject", "DeleteObject"})

# TR-330 §4.6.4.1 (and, by its note, §4.6.5.2.1, §4.6.6.1, §4.6.7.1): the
# Status of every CMS write → the CWMP Status.
STATUS: Mapping[str, int] = {
    "ChangesApplied": 0,
    "ChangesCommitted": 1,
}

#: The most paths one CMS action carries (longer lists go in several actions).
BATCH = 256
#: The most names one request may hold.
MAX_REQUEST = MAX_REQUEST_ITEMS
#: Seconds after which a change the ACS made no longer hides the device's own.
ACS_MARK_SECONDS = 60.0


@implementer(IDataModel, INotifyingDataModel, ILocalWrites)
class CMSDataModel:
    """
    One device's CMS model as an L{IDataModel}: the CWMP RPCs, composed of
    the device's schema cache (L{CMSSchema}), CWMP ↔ CMS name resolution
    (L{NameResolver}), the routing of a name to the device, the Common
    Objects or the proxier's own values (L{NameRouting}), tree walks
    (L{TreeWalker}) and value typing (L{ValueTyping}).

    @ivar schema: StructurePath → L{NodeInfo}, learned from GetAttributes
        (the L{CMSSchema}'s C{nodes}).
    @ivar tables: StructurePaths of tables (C{/BBF/Hosts/Host/}) seen in
        GetSupportedParameters answers.
    @ivar eventOnChange: concrete CMS parameter path → its EventOnChange, as
        last read.
    @ivar aliases: CMS table → {alias: UPnP instance}, as last read.
    @ivar lock: held by writes and by value-change checks, so that a check
        never compares a value read before an ACS write with the value the
        write set.

    Its value changes (L{INotifyingDataModel}) are found by the device's
    L{ChangeWatcher<proxier.upnpdm.changes.ChangeWatcher>}, which reports
    them here (L{tellChanges}) and, like a tree, detects nothing while
    nobody listens: the durable baselines keep what changed meanwhile, and
    the first listener brings the check that was put off (L{whenListened}).
    """

    log = Logger()

    #: Where this model mounts in the Virtual CWMP Device (TR-330 §4.6.1).
    mountPoint = CWMP_ROOT

    def __init__(
        self,
        profile: DeviceProfile,
        gate: ActionGate,
        state: DeviceState,
        *,
        clock: Any,
        log: Any = None,
        batch: int = BATCH,
        onReboot: Optional[Callable[[str], None]] = None,
        onFactoryReset: Optional[Callable[[], None]] = None,
    ) -> None:
        if log is not None:
            self.log = log
        self.gate = gate
        self.state = state
        self.clock = clock
        self.batch = max(1, batch)
        self.onReboot = onReboot
        self.onFactoryReset = onFactoryReset
        self.knowledge = CMSSchema(self.cms)
        self.schema = self.knowledge.nodes
        self.tables = self.knowledge.tables
        self.objects = self.knowledge.objects
        self.eventOnChange = self.knowledge.eventOnChange
        self.names = NameResolver(self.cms, self.knowledge, state, translatorFor(profile.root, profile.mapped))
        self.aliases = self.names.aliases
        self.walker = TreeWalker(self.cms, self.knowledge, state)
        self.typing = ValueTyping(self.knowledge, self.log)
        self.routing = NameRouting(profile, self.names, self.walker)
        self.attributes = NotificationAttributes(self)
        self.tableInstances = TableInstances(self)
        self.writes = ValueWrites(self)
        self.listing = NameListing(self)
        self.lock = DeferredLock()
        self._listeners: list[ChangeListener] = []
        self._whenListened: list[Callable[[], None]] = []
        # what the device's management adds (issue 7): the Download/Upload
        # handlers (and, in extraConstants, proxier-held values that change)
        self.transferHandlers: dict[str, Callable[[Any], Any]] = {}
        self.setProfile(profile)

    # ---- configuration -----------------------------------------------------------------

    def setProfile(self, profile: DeviceProfile) -> None:
        """The device was probed (again): its models, services and capabilities."""
        self.profile = profile
        self.routing.profile = profile
        self.names.translator = translatorFor(profile.root, profile.mapped)
        self.caps = profile.capabilities
        self.knowledge.learnStructure(profile.rootStructure)

    @property
    def translator(self) -> Translator:
        """The profile's CWMP ↔ CMS path translator."""
        return self.names.translator

    def invalidateSchema(self) -> None:
        """The supported parameters or attributes may have changed: learn them again."""
        self.knowledge.forget()
        self.aliases.clear()
        self.knowledge.learnStructure(self.profile.rootStructure)

    # ---- actions -----------------------------------------------------------------------------

    def cms(self, action: str, **arguments: object) -> Deferred:
        """A CMS action through the gate; a UPnPError names its action."""
        d = self.gate.call(self.profile.candidate.cms, action, arguments)

        def named(failure: Failure) -> Failure:
            if failure.check(UPnPError) and not getattr(failure.value, "action", ""):
                failure.value.action = action
            return failure

        return d.addErrback(named)

    def _asFault(self, failure: Failure, rpc: str) -> Failure:
        """Whatever went wrong, as the CWMP fault to answer."""
        if failure.check(CWMPFault, CancelledError):
            return failure
        error = failure.value
        if failure.check(UPnPError):
            return Failure(faultFor(error.code, error.description, getattr(error, "action", ""), rpc))
        if failure.check(GateFull):
            self.log.warn("{rpc}: {why}", rpc=rpc, why=str(error))
            return Failure(CWMPFault(9004, f"Resources exceeded ({error})"))
        if failure.check(ActionError, NoAnswer):
            return Failure(noAnswerFault(str(error)))
        if failure.check(CMSDocumentError, CMSPathError):
            self.log.warn("{rpc}: the device's answer is unusable: {why}", rpc=rpc, why=str(error))
            return Failure(noAnswerFault(f"unusable answer ({error})"))
        if failure.check(OverflowError):
            self.log.warn("{rpc}: {why}", rpc=rpc, why=str(error))
            return Failure(CWMPFault(9004, f"Resources exceeded ({error})"))
        self.log.failure("{rpc} failed", failure, rpc=rpc)
        return Failure(asFault(error))

    def _rpc(self, rpc: str, method: Callable[..., Any], *args: Any) -> Deferred:
        d = maybeDeferred(method, *args)
        d.addErrback(self._asFault, rpc)

        def flushed(result: Any) -> Any:
            if rpc not in _HELD_WRITES or isinstance(result, Failure):
                self.state.flush()
                return result
            if not self.state.flush():
                # what the proxier holds of this change (instance numbers,
                # Notification) is not on disk: not a success (issue 17 item 7);
                # kept in memory and saved again later, so the ACS's retry finds it
                return Failure(CWMPFault(9002, "Internal error (the change could not be saved)"))
            # a sweep during the RPC may have handed instance numbers to the store's writer
            return self.state.durable().addCallbacks(
                lambda _: result,
                lambda _: Failure(CWMPFault(9002, "Internal error (the change could not be saved)")))

        return d.addBoth(flushed)

    # ---- paths, the schema, walks: the parts this model is composed of ----------------------

    def toCWMP(self, cms: str) -> Optional[str]:
        """The CWMP path of a CMS path the device gave, or None (L{NameResolver.toCWMP})."""
        return self.names.toCWMP(cms)

    def toCMS(self, name: str) -> Deferred:
        """The CMS path of a CWMP path (L{NameResolver.toCMS}); 9005 when there is none."""
        return self.names.toCMS(name)

    def refreshTable(self, table: str, aliases: bool = False) -> Deferred:
        """Read a table's instances (and their aliases) again: GetInstances, depth 1."""
        return self.names.refreshTable(table, aliases)

    def getAttributes(self, paths: Sequence[str]) -> Deferred:
        """GetAttributes of C{paths}, in batches, learned by the schema: C{{path: attributes}}."""
        return self.knowledge.getAttributes(paths, self.batch)

    def nodeInfos(self, paths: Sequence[str]) -> Deferred:
        """The L{NodeInfo} of each concrete path, asking the device of those not known yet."""
        return self.knowledge.nodeInfos(paths, self.profile.root, self.batch)

    def kindOf(self, path: str, info: Optional[NodeInfo] = None) -> str:
        """C{"leaf"}, C{"instance"}, C{"table"} or C{"object"}, from the path and what is known."""
        return self.knowledge.kindOf(path, info)

    def kindKnown(self, path: str) -> bool:
        """Whether L{kindOf} knows C{path}'s kind without asking the device."""
        return self.knowledge.kindKnown(path, self.profile.root)

    def children(self, cms: str) -> Deferred:
        """The concrete children of an object or instance (L{TreeWalker.children})."""
        return self.walker.children(cms)

    def listTable(self, table: str) -> Deferred:
        """A table's instances, in order (GetInstances, depth 1; the map follows)."""
        return self.names.refreshTable(table)

    def subtree(self, cms: str) -> Deferred:
        """Every node at and below a partial path, in tree order, concrete (L{TreeWalker.subtree})."""
        return self.walker.subtree(cms)

    def parametersBelow(self, cms: str) -> Deferred:
        """The concrete parameter paths at and below a CMS path."""
        return self.walker.parametersBelow(cms)

    def dataType(self, cms: str) -> DataType:
        """The TR-106 type of a CMS parameter (L{ValueTyping.dataType})."""
        return self.typing.dataType(cms)

    def typed(self, name: str, cms: str, text: str) -> Optional[ParameterValue]:
        """A device value as CWMP writes it, or None when TR-181 refuses it (L{ValueTyping.typed})."""
        return self.typing.typed(name, cms, text)

    def sameValue(self, cms: str, a: str, b: str) -> bool:
        """Whether two texts of a parameter are the same value of its type."""
        return self.typing.sameValue(cms, a, b)

    # ---- what the proxier holds itself (constants, Common Objects fallbacks) ---------------------

    @property
    def extraConstants(self) -> list[Any]:
        """The sources of proxier-held values the device's management adds (L{NameRouting.extraConstants})."""
        return self.routing.extraConstants

    @property
    def constants(self) -> Mapping[str, ParameterValue]:
        """The profile's constants, and the values the extra sources hold now."""
        return self.routing.constants

    # ---- IDataModel: reads -----------------------------------------------------------------------

    def supportedMethods(self) -> frozenset:
        methods = set(PARAMETER_METHODS)
        if self.caps.canReboot:
            methods.add("Reboot")
        if self.caps.canBaselineReset:
            methods.add("FactoryReset")
        methods.update(self.transferHandlers)
        return frozenset(methods)

    def getParameterNames(self, path: str, nextLevel: bool) -> Deferred:
        return self._rpc("GetParameterNames", self.listing.get, path, bool(nextLevel))

    def getParameterValues(self, names: Sequence[str]) -> Deferred:
        return self._rpc("GetParameterValues", self._gpv, list(names))

    def _gpv(self, names: list[str]) -> Any:
        """
        Plain callbacks, not a generator: where nothing waits on the device
        but its one GetValues, the names are routed and the answer typed
        synchronously (issue 19: a Deferred per request, not per name).
        """
        if len(names) > MAX_REQUEST:
            raise CWMPFault(9004, f"Resources exceeded (more than {MAX_REQUEST} names)")
        due = self.routing.touchedSources(names) if self.extraConstants else []
        if due:
            # built once: with extra sources it is a merge
            return self.routing.refresh(due).addCallback(lambda _: self._gpvRouted(names, self.constants))
        # the extra sources' values change nothing for names that touch none of them
        return self._gpvRouted(names, self.profile.constants)

    def _gpvRouted(self, names: list[str], held: Mapping[str, ParameterValue]) -> Deferred:
        plan = self.routing.resolveAllNow(names, held)
        if plan is None:
            return self.routing.resolveAll(names, held).addCallback(self._gpvPlanned, held)
        return self._gpvPlanned(plan, held)

    def _gpvPlanned(self, plan: list[tuple[str, Optional[str]]], held: Mapping[str, ParameterValue]) -> Deferred:
        contents = list(dict.fromkeys([cms for _, cms in plan if cms is not None]))
        # a parameter asked by its name is answered under it, not translated back (but a Common Objects one)
        reverse = self.names.translator.reverse
        known = {cms: name for name, cms in plan if cms is not None and cms[-1] != "/" and cms not in reverse}
        return self._readValues(contents, known).addCallback(self._gpvAnswer, plan, held)

    @staticmethod
    def _gpvAnswer(values: list, plan: list[tuple[str, Optional[str]]],
                   held: Mapping[str, ParameterValue]) -> list[ParameterValue]:
        byPath = {path: value for path, value, _ in values}
        out: list[ParameterValue] = []
        seen: set[str] = set()
        for name, cms in plan:
            if cms is not None and cms[-1] != "/":
                # a parameter (the usual request): its value, if the device gave one
                value = byPath.get(cms)
                if value is not None and value.name not in seen:  # None: refused by its TR-181 type (logged)
                    seen.add(value.name)
                    out.append(value)
                continue
            if cms is None:
                found = [held[name]]
            else:
                found = [value for path, value, _ in values if path.startswith(cms)]
            for value in found:
                if value is None:
                    continue  # refused by its TR-181 type (logged): not sent
                if value.name not in seen:
                    seen.add(value.name)
                    out.append(value)
        return out

    def readValues(self, contents: Sequence[str]) -> Deferred:
        """
        GetValues of CMS content paths (in batches), typed: C{[(cmsPath,
        ParameterValue)]} in the device's order, for the parameters in the
        Virtual CWMP Device, with the device's own text: C{[(cmsPath,
        ParameterValue, text)]}. The ParameterValue is C{None} for a value
        its TR-181 type refuses (L{typed}): it is not sent.
        """
        return self._readValues(contents)

    def _readValues(self, contents: Sequence[str], known: Mapping[str, str] = {}) -> Deferred:
        """
        L{readValues}: one GetValues after another (callbacks), then the
        Types not known yet, then typing; C{known} gives the CWMP names of
        CMS paths already translated.
        """
        raw: list[tuple[str, str]] = []
        pending = chunks(list(contents), self.batch)
        pending.reverse()

        def readNext() -> Any:
            while pending:
                chunk = pending.pop()
                if chunk:
                    d = self.cms("GetValues", Parameters=cmsxml.contentPathList(chunk))
                    return d.addCallback(answered, chunk)
            return self._typedValues(raw, known)

        def answered(answer: Mapping[str, str], chunk: Sequence[str]) -> Any:
            exact = {c for c in chunk if c[-1] != "/"}
            prefixes = tuple(c for c in chunk if c[-1] == "/")
            pairs = cmsxml.parseParameterValueList(answer.get("ParameterValueList", ""))
            if not prefixes:  # parameters only (the usual request): what was asked, an exact path ends in no "/"
                raw.extend([pair for pair in pairs if pair[0] in exact])
            else:
                for path, value in pairs:
                    if path.endswith("/"):
                        continue
                    if path in exact or path.startswith(prefixes):
                        raw.append((path, value))
            if len(raw) > MAX_NODES:
                raise OverflowError(f"more than {MAX_NODES} values")
            return readNext()

        try:
            result = readNext()
        except Exception:
            return fail()
        return result if isinstance(result, Deferred) else succeed(result)

    def _typedValues(self, raw: list[tuple[str, str]], known: Mapping[str, str]) -> Any:
        """
        The values read, typed, once the device told the Type of each
        (asked only of those not known yet: then a Deferred).
        """
        typed = self.typing.typedKnown(raw, known, self.names.toCWMP, self.profile.root)
        if typed is not None:
            return typed
        return self.nodeInfos([p for p, _ in raw]).addCallback(
            lambda _: self.typing.typedAll(raw, known, self.names.toCWMP))

    # ---- IDataModel: SetParameterValues (L{ValueWrites}) ---------------------------------------------

    def setParameterValues(self, values: Sequence[ParameterValue]) -> Deferred:
        return self._rpc("SetParameterValues", self.writes.set, list(values))

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> Deferred:
        """L{ILocalWrites}: the same SetValues, left for the change watcher to report as the device's own change."""
        return self._rpc("SetParameterValues", self.writes.set, list(values), False)

    def checkParameterValues(self, values: Sequence[ParameterValue]) -> Deferred:
        """What a SetParameterValues of C{values} would fault with (names, access, types), nothing set: None if none."""
        d = maybeDeferred(self.writes.check, list(values))
        return d.addCallbacks(lambda _: None, self._asFault, errbackArgs=("SetParameterValues",))

    def statusOf(self, text: str, action: str) -> int:
        """The CWMP Status of a CMS write's Status (L{STATUS}; an unknown one is taken as committed)."""
        status = STATUS.get(text.strip())
        if status is None:
            self.log.warn("{action} answered Status {status!r}: taken as committed, applied later",
                          action=action, status=text[:40])
            return 1
        return status

    # ---- IDataModel: attributes (L{NotificationAttributes}) -----------------------------------------

    def notificationOf(self, name: str, eventOnChange: bool) -> int:
        """The CWMP Notification of a parameter whose EventOnChange is C{eventOnChange}."""
        return self.attributes.notificationOf(name, eventOnChange)

    def getParameterAttributes(self, names: Sequence[str]) -> Deferred:
        return self._rpc("GetParameterAttributes", self.attributes.get, list(names))

    def setParameterAttributes(self, changes: Sequence[AttributeChange]) -> Deferred:
        return self._rpc("SetParameterAttributes", self.attributes.set, list(changes))

    # ---- IDataModel: objects (L{TableInstances}) ------------------------------------------------------

    def addObject(self, path: str) -> Deferred:
        return self._rpc("AddObject", self.tableInstances.add, path)

    def deleteObject(self, path: str) -> Deferred:
        return self._rpc("DeleteObject", self.tableInstances.delete, path)

    # ---- what the ACS changed lately ------------------------------------------------------------------


    def markACSChange(self, paths: Iterable[str]) -> None:
        """
        A change at C{paths} (or below, for a path ending in C{/}) is the
        ACS's own for L{ACS_MARK_SECONDS} (TR-330 Table 1: "excluding those
        with a recent modification from the ACS"), or until the next check
        saw it (L{Baselines.markACS<proxier.proxy.baselines.Baselines.markACS>}).
        """
        self.state.baselines.markACS(paths, until=self.clock.seconds() + ACS_MARK_SECONDS)

    # ---- INotifyingDataModel -------------------------------------------------------------------------

    def addChangeListener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)
        waiting, self._whenListened = self._whenListened, []
        for callback in waiting:
            callback()

    def removeChangeListener(self, listener: ChangeListener) -> None:
        self._listeners.remove(listener)

    @property
    def listened(self) -> bool:
        """Whether someone hears this model's value changes now."""
        return bool(self._listeners)

    def whenListened(self, callback: Callable[[], None]) -> None:
        """Call C{callback} once, when a listener is next added."""
        self._whenListened.append(callback)

    def tellChanges(self, values: Sequence[ParameterValue], active: bool) -> None:
        """The device's parameters with EventOnChange changed by themselves: tell the listeners."""
        for listener in list(self._listeners):
            try:
                listener(values, active)
            except Exception:
                self.log.failure("a change listener failed")

    # ---- IDataModel: Reboot, FactoryReset, transfers ---------------------------------------------------

    def reboot(self, commandKey: str) -> Deferred:
        if not self.caps.canReboot or self.profile.candidate.bms is None:
            return fail(CWMPFault(9000, "Method not supported (the device offers no BMS Reboot)"))
        if self.onReboot is not None:
            self.onReboot(commandKey)
        d = self.gate.call(self.profile.candidate.bms, "Reboot", {})
        d.addCallback(lambda answer: None)
        return d.addErrback(self._asFault, "Reboot")

    def factoryReset(self) -> Deferred:
        if not self.caps.canBaselineReset or self.profile.candidate.bms is None:
            return fail(CWMPFault(9000, "Method not supported (the device offers no BMS BaselineReset)"))
        if self.onFactoryReset is not None:
            self.onFactoryReset()
        d = self.gate.call(self.profile.candidate.bms, "BaselineReset", {})
        d.addCallback(lambda answer: None)
        return d.addErrback(self._asFault, "FactoryReset")

    def download(self, request: Any) -> Deferred:
        """SoftwareManagement firmware updates (TR-330 §4.7), when the device's management offers them."""
        return self._transfer("Download", request)

    def upload(self, request: Any) -> Deferred:
        """BasicManagement log uploads (TR-330 §4.4), when the device's management offers them."""
        return self._transfer("Upload", request)

    def _transfer(self, rpc: str, request: Any) -> Deferred:
        handler = self.transferHandlers.get(rpc)
        if handler is None:
            return fail(CWMPFault(9000, f"Method not supported ({rpc})"))
        d = maybeDeferred(handler, request)
        return d.addErrback(self._asFault, rpc)
