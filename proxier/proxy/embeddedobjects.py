# -*- test-case-name: tests.test_proxy_embeddedobjects -*-
"""
The Embedded Object Mechanism (TR-069 Annex J.3): a proxied device shown as
objects of the proxier's own tree, beside (or instead of) a Virtual CWMP
Device of its own (Annex J.2).

Not to be confused with "embedded mode" (C{[printer] embedded},
L{IEmbeddedDevice<proxier.interfaces.IEmbeddedDevice>}), where the proxier
runs I{on} one device as that device's own CWMP CPE and proxies nothing.
Here the proxier is the gateway; each device proxied this way gets

 - a row of its protocol's table in the proxier's own tree — a printer a
   C{Device.Services.PrintService.{i}.} row, a UPnP DM device a vendor
   table's row such as C{Device.X_<OUI>_UPnPDM.{i}.} — whose number is
   durable and never given to another device;
 - a C{Device.ManagementServer.EmbeddedDevice.{i}.} row (TR-181) saying
   which row that is (C{Reference}) and how the last commands went.

How to use it (a protocol, then the service tree):

 1. The protocol plugin names its table: C{embeddedObjects =
    EmbeddedObjectsSpec("Device.Services.PrintService.", urns)} on its
    L{IProxyProtocol<proxier.interfaces.IProxyProtocol>}, and registers an
    adapter from its device class to L{IEmbeddedObjects} giving a
    L{DeviceObjects}: which path of the device's own model one row stands
    for (C{inner}: C{"Device.Services.PrintService.1."}, or C{"Device."} for
    a whole CMS tree) and the model answering for it — a model of its own,
    with its own Notification attributes, not the Virtual CWMP Device's.
 2. The C{mechanism} key of the protocol's section (L{mechanismKey}) says
    C{virtual}, C{embedded} or C{both}; L{DirectoryView} hands each part of
    the tree only the devices meant for it.
 3. L{EmbeddedObjects} listens to the devices meant for it and fills one
    L{EmbeddedObjectTable} per table (each mounted in the own tree's
    composite at its table path) and the EmbeddedDevice rows.

Every RPC reaching a row goes through L{RemappedModel} (the own tree's
names to the device model's, and back) and L{SyncedModel}, the
synchronized copy TR-181 describes: reads serve the copy (the device
model's last readings, and what the ACS set that is not on the device
yet), a SetParameterValues is checked at once (a bad value is still 9007)
and pushed down afterwards, C{CommandProcessed} going Pending → Retrying →
Success or Error (L{RETRY_DELAYS}). Value changes of the device reach the
own endpoint as "4 VALUE CHANGE" like any of its own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

from twisted.application.service import Service
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Attribute, Interface, implementer

from proxier.asciinum import isUnsigned
from proxier.config import Key, choice
from proxier.datamodel import paths
from proxier.datamodel.capabilities import (
    ChangeListener,
    ILocalWrites,
    INotifyingDataModel,
    IValidatingDataModel,
    ParametersOnly,
)
from proxier.datamodel.declarations import APPLIED_LATER
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault, asFault
from proxier.datamodel.tree import PARAMETER_METHODS
from proxier.datamodel.values import AttributeChange, ParameterInfo, ParameterValue
from proxier.interfaces import IDataModel, IDeviceObserver
from proxier.proxy.instances import InstanceMap

__all__ = [
    "VIRTUAL", "EMBEDDED", "BOTH", "MECHANISMS", "mechanismKey", "mechanismOf",
    "IEmbeddedObjects", "DeviceObjects", "EmbeddedObjectsSpec",
    "RemappedModel", "SyncedModel", "EmbeddedObjectTable", "EmbeddedObjects", "DirectoryView",
    "PENDING", "RETRYING", "SUCCESS", "ERROR", "RETRY_DELAYS",
]

VIRTUAL = "virtual"
EMBEDDED = "embedded"
BOTH = "both"
MECHANISMS = (VIRTUAL, EMBEDDED, BOTH)

#: TR-181 EmbeddedDevice.{i}.CommandProcessed.
PENDING, RETRYING, SUCCESS, ERROR = "Pending", "Retrying", "Success", "Error"
#: Seconds before each new attempt to push what the ACS set to a device that answered with a fault; after
#: the last, CommandProcessed is Error. Time offline does not count: the push waits for the device.
RETRY_DELAYS = (10.0, 30.0, 90.0, 270.0)
#: Faults that say the values themselves are wrong for the device: trying again cannot help.
_FINAL_FAULTS = frozenset({9003, 9005, 9006, 9007, 9008})

_log = Logger()


def mechanismKey(what: str) -> Key:
    """The C{mechanism} key of a protocol's config section (C{what}: "UPnP DM devices", "printers")."""
    return Key("mechanism", choice(*MECHANISMS), VIRTUAL,
               f"How {what} are presented to the ACS (TR-069 Annex J): virtual, each as a Virtual CWMP "
               "Device of its own; embedded, as objects of the proxier's own tree (the Embedded Object "
               "Mechanism, Annex J.3: a row of the protocol's table and a "
               "Device.ManagementServer.EmbeddedDevice.{i} row); both, each device both ways. Not to be "
               "confused with [printer] embedded, the proxier running on one printer.")


def mechanismOf(protocols: Sequence[Any], config: Any) -> dict[str, str]:
    """
    ProxyProtocol value → mechanism, from each protocol's section (a
    protocol whose section has no C{mechanism} key: L{VIRTUAL}).
    """
    found: dict[str, str] = {}
    for protocol in protocols:
        section = getattr(protocol.configSection, "name", None)
        values = config[section] if section is not None and section in config else {}
        mechanism = values.get("mechanism", VIRTUAL)
        for name in (protocol.name, *getattr(protocol, "otherProxyProtocols", ())):
            found[name] = mechanism
    return found


# ---- what a protocol gives ---------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddedObjectsSpec:
    """
    A protocol's table in the proxier's own tree (the C{embeddedObjects}
    attribute of its plugin).

    @ivar table: the table path, ending in C{.} (C{Device.Services.PrintService.}).
    @ivar supportedDataModels: C{(urn, features)} of the data models its rows
        follow: the proxier's C{DeviceInfo.SupportedDataModel} lists them,
        and each EmbeddedDevice row references them.
    """

    table: str
    supportedDataModels: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def numberOfEntries(self) -> str:
        """The full name of the table's C{...NumberOfEntries} parameter (in the table's parent)."""
        return self.table[:-1] + "NumberOfEntries"


class IEmbeddedObjects(Interface):
    """What a protocol adapts its device to, for the Embedded Object Mechanism."""

    table = Attribute("The table path its row goes in (an L{EmbeddedObjectsSpec.table}).")
    inner = Attribute("The object path of the device model one row stands for (ends in '.').")
    model = Attribute("The IDataModel (validating) answering for C{inner}: its own attributes and baselines.")
    urns = Attribute("The URNs of the data models the row follows (of the spec's supportedDataModels).")

    def synchronized():
        """The last time (seconds, the clock's) the model's copy was read from the device, or None."""


@implementer(IEmbeddedObjects)
class DeviceObjects:
    """The plain L{IEmbeddedObjects} a protocol's adapter returns."""

    def __init__(self, table: str, inner: str, model: Any, urns: Sequence[str] = (),
                 synchronized: Callable[[], Optional[float]] = lambda: None) -> None:
        self.table = table
        self.inner = inner
        self.model = model
        self.urns = tuple(urns)
        self._synchronized = synchronized

    def synchronized(self) -> Optional[float]:
        return self._synchronized()


# ---- the path adaptor -----------------------------------------------------------------------


@implementer(IDataModel, IValidatingDataModel, INotifyingDataModel, ILocalWrites)
class RemappedModel(ParametersOnly):
    """
    A model answering for C{inner} shown at C{outer}: every name asked is
    renamed into the model's, every name answered back; what the model
    answers outside C{inner} is dropped. Generic: a printer's
    C{Device.Services.PrintService.1.} as the own tree's
    C{Device.Services.PrintService.3.}, a CMS tree's C{Device.} as
    C{Device.X_<OUI>_UPnPDM.2.}.
    """

    def __init__(self, model: Any, inner: str, outer: str) -> None:
        for path in (inner, outer):
            if not paths.isPartial(path):
                raise ValueError(f"not an object path: {path!r}")
        self.model = model
        self.inner = inner
        self.outer = outer
        self._listeners: dict[Any, ChangeListener] = {}

    def toInner(self, name: str) -> str:
        if not name.startswith(self.outer):
            raise CWMPFault(9005, f"Invalid parameter name ({name} does not exist)")
        return self.inner + name[len(self.outer):]

    def toOuter(self, name: str) -> Optional[str]:
        return self.outer + name[len(self.inner):] if name.startswith(self.inner) else None

    def _fault(self, failure: Failure) -> Failure:
        fault = asFault(failure.value)
        renamed = [SetParameterValuesFault(self.toOuter(f.parameterName) or f.parameterName, f.faultCode,
                                           f.faultString) for f in fault.parameterFaults]
        return Failure(CWMPFault(fault.code, fault.string.replace(self.inner, self.outer), renamed))

    def _call(self, method: Callable[..., Any], inner: Callable[[], Any], *more: Any) -> defer.Deferred:
        """
        C{method(inner(), *more)}, its faults renamed back; C{inner} renames
        what the ACS asked into the model's names, and a name outside
        C{outer} fails the call without asking the model.
        """
        try:
            renamed = inner()
        except CWMPFault as fault:
            return defer.fail(fault)
        return defer.maybeDeferred(method, renamed, *more).addErrback(self._fault)

    def _outValues(self, values: Sequence[Any]) -> list[Any]:
        out = []
        for v in values:
            name = self.toOuter(v.name)
            if name is not None:
                out.append(dataclasses.replace(v, name=name))
        return out

    def supportedMethods(self) -> frozenset:
        return frozenset(self.model.supportedMethods()) & PARAMETER_METHODS

    def getParameterNames(self, path: str, nextLevel: bool) -> defer.Deferred:
        return self._call(self.model.getParameterNames, lambda: self.toInner(path), nextLevel).addCallback(
            self._outValues)

    def getParameterValues(self, names: Sequence[str]) -> defer.Deferred:
        return self._call(self.model.getParameterValues, lambda: [self.toInner(n) for n in names]).addCallback(
            self._outValues)

    def getParameterAttributes(self, names: Sequence[str]) -> defer.Deferred:
        return self._call(self.model.getParameterAttributes, lambda: [self.toInner(n) for n in names]).addCallback(
            self._outValues)

    def _values(self, method: str, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._call(getattr(self.model, method),
                          lambda: [ParameterValue(self.toInner(v.name), v.value, v.type) for v in values])

    def validateParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._values("validateParameterValues", values)

    def setParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._values("setParameterValues", values)

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._values("setParameterValuesLocally", values)

    def _changes(self, method: str, changes: Sequence[AttributeChange]) -> defer.Deferred:
        return self._call(getattr(self.model, method), lambda: [_renamed(c, self.toInner(c.name)) for c in changes])

    def validateParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        return self._changes("validateParameterAttributes", changes)

    def setParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        return self._changes("setParameterAttributes", changes)

    def addObject(self, path: str) -> defer.Deferred:
        return self._call(self.model.addObject, lambda: self.toInner(path))

    def deleteObject(self, path: str) -> defer.Deferred:
        return self._call(self.model.deleteObject, lambda: self.toInner(path))

    def addChangeListener(self, listener: ChangeListener) -> None:
        def renamed(values: Sequence[ParameterValue], active: bool) -> None:
            out = self._outValues(values)
            if out:
                listener(out, active)

        self._listeners[listener] = renamed
        if INotifyingDataModel.providedBy(self.model):
            self.model.addChangeListener(renamed)

    def removeChangeListener(self, listener: ChangeListener) -> None:
        renamed = self._listeners.pop(listener, None)
        if renamed is not None and INotifyingDataModel.providedBy(self.model):
            self.model.removeChangeListener(renamed)


def _renamed(change: AttributeChange, name: str) -> AttributeChange:
    return AttributeChange(name, change.notificationChange, change.notification, change.accessListChange,
                           change.accessList)


# ---- the synchronized copy -------------------------------------------------------------------


@implementer(IDataModel, IValidatingDataModel, INotifyingDataModel, ILocalWrites, IDeviceObserver)
class SyncedModel(ParametersOnly):
    """
    The proxier's synchronized copy of one device's objects (TR-181
    EmbeddedDevice: CommandProcessed, LastSyncTime). Reads serve the device
    model (which answers from the device's last readings) with what was
    accepted and is not on the device yet laid over it. A
    SetParameterValues is checked by the device model at once, accepted
    (Status 1: committed, applied later) and pushed down after the
    response: on a fault the push is tried again after each of
    L{RETRY_DELAYS}, except for faults that say the values are wrong
    (L{_FINAL_FAULTS}: Error at once); while the device is offline it waits
    for the device, without using up attempts. What could not be pushed is
    dropped from the copy (CommandProcessed Error, the reason in
    C{errorMessage}). What is accepted and not on the device yet is kept in
    C{document} (when given) as soon as it is accepted, and pushed again
    after a restart of the proxier. A model that cannot validate
    (no L{IValidatingDataModel}) has every value accepted: a wrong one ends
    as Error.

    It pushes only while it runs (L{start}, L{stop}: the service tree's
    lifetime, C{running} at first): stopped, no timer is left, and a push
    the stop cut off is held again, for the next start.

    It observes the device (L{IDeviceObserver}) for it coming back.

    @ivar state: CommandProcessed (L{SUCCESS} until a command comes).
    @ivar errorMessage: CommandProcessingErrMsg.
    """

    def __init__(self, model: Any, device: Any, clock: Any, *,
                 synchronized: Callable[[], Optional[float]] = lambda: None,
                 changed: Callable[[], None] = lambda: None, document: Any = None,
                 delays: Sequence[float] = RETRY_DELAYS, log: Any = None, running: bool = True) -> None:
        self.model = model
        self.device = device
        self.clock = clock
        self.delays = tuple(delays)
        self.log = log if log is not None else getattr(device, "log", _log)
        self._synchronized = synchronized
        self._changed = changed
        self.state = SUCCESS
        self.errorMessage = ""
        self._lastPush: Optional[float] = None  # when a push last succeeded
        self._pending: dict[str, tuple[ParameterValue, bool]] = {}  # name -> (value, by the ACS)
        self._inFlight: dict[str, tuple[ParameterValue, bool]] = {}
        self._attempts = 0
        self._timer: Any = None
        self._stopped = True
        self._document = document
        if document is not None:
            for name, value, xsiType, byACS in document.load(default=[], validate=_validatePending):
                self._pending[name] = (ParameterValue(name, value, xsiType), byACS)
            if self._pending:
                self.state = PENDING
        if running:
            self.start()

    def _save(self) -> None:
        """What is not on the device yet, durably (the values in flight too: they may not have taken)."""
        if self._document is not None:
            held = {**self._inFlight, **self._pending}
            self._document.save([[v.name, v.value, v.type, byACS] for v, byACS in held.values()])

    # -- the state the EmbeddedDevice row shows -------------------------------------------------

    def lastSyncTime(self) -> Optional[float]:
        """The later of the last reading of the device and the last push it took; None: never since start."""
        times = [t for t in (self._synchronized(), self._lastPush) if t is not None]
        return max(times) if times else None

    def _moveTo(self, state: str, message: str = "") -> None:
        if (state, message) != (self.state, self.errorMessage):
            self.state, self.errorMessage = state, message[:1024]
            self._changed()

    # -- reads ------------------------------------------------------------------------------------

    def supportedMethods(self) -> frozenset:
        return frozenset(self.model.supportedMethods()) & PARAMETER_METHODS

    def getParameterNames(self, path: str, nextLevel: bool) -> defer.Deferred:
        return defer.maybeDeferred(self.model.getParameterNames, path, nextLevel)

    def getParameterValues(self, names: Sequence[str]) -> defer.Deferred:
        def overlay(values: Sequence[ParameterValue]) -> list[ParameterValue]:
            held = {**self._inFlight, **self._pending}
            if not held:
                return list(values)
            return [ParameterValue(v.name, held[v.name][0].value, v.type) if v.name in held else v for v in values]

        return defer.maybeDeferred(self.model.getParameterValues, names).addCallback(overlay)

    def getParameterAttributes(self, names: Sequence[str]) -> defer.Deferred:
        return defer.maybeDeferred(self.model.getParameterAttributes, names)

    def validateParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        return defer.maybeDeferred(self.model.validateParameterAttributes, changes)

    def setParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        return defer.maybeDeferred(self.model.setParameterAttributes, changes)

    def addObject(self, path: str) -> defer.Deferred:
        """Not deferred: the ACS needs the device's instance number in the answer."""
        return defer.maybeDeferred(self.model.addObject, path)

    def deleteObject(self, path: str) -> defer.Deferred:
        return defer.maybeDeferred(self.model.deleteObject, path)

    def addChangeListener(self, listener: ChangeListener) -> None:
        if INotifyingDataModel.providedBy(self.model):
            self.model.addChangeListener(listener)

    def removeChangeListener(self, listener: ChangeListener) -> None:
        if INotifyingDataModel.providedBy(self.model):
            self.model.removeChangeListener(listener)

    # -- writes: into the copy, then down to the device ---------------------------------------------

    def validateParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        if not IValidatingDataModel.providedBy(self.model):
            return defer.succeed(None)
        return defer.maybeDeferred(self.model.validateParameterValues, values)

    def setParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._accept(values, byACS=True)

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._accept(values, byACS=False)

    def _accept(self, values: Sequence[ParameterValue], byACS: bool) -> defer.Deferred:
        def accepted(_: Any) -> int:
            for value in values:
                self._pending[value.name] = (value, byACS)
            self._save()
            self._attempts = 0
            self._moveTo(PENDING)
            self._cancelTimer()
            if not self._stopped:
                self._timer = self.clock.callLater(0, self._push)  # after the response
            return APPLIED_LATER

        return self.validateParameterValues(values).addCallback(accepted)

    def _cancelTimer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _push(self) -> None:
        self._timer = None
        if self._stopped or self._inFlight or not self._pending:
            return
        if not self.device.online:
            self._moveTo(RETRYING, "the device is offline; the values go down once it answers")
            return
        batch, self._pending = self._pending, {}
        self._inFlight = batch
        byACS = [v for v, acs in batch.values() if acs]
        locally = [v for v, acs in batch.values() if not acs]
        d: defer.Deferred = defer.succeed(None)
        if byACS:
            d.addCallback(lambda _: self.model.setParameterValues(byACS))
        if locally:
            d.addCallback(lambda _: self.model.setParameterValuesLocally(locally))
        d.addCallbacks(self._pushDone, self._pushFailed)

    def _pushDone(self, _: Any) -> None:
        self._inFlight = {}
        self._save()
        self._attempts = 0
        self._lastPush = self.clock.seconds()
        if self._pending:
            if not self._stopped:
                self._push()
            return
        self._moveTo(SUCCESS)
        self.log.info("embedded objects: the values set are on the device")

    def _pushFailed(self, failure: Failure) -> None:
        fault = asFault(failure.value)
        batch, self._inFlight = self._inFlight, {}
        why = "; ".join([f"{fault.code} {fault.string}"] + [f"{f.parameterName}: {f.faultCode} {f.faultString}"
                                                          for f in fault.parameterFaults])[:900]
        self._pending = {**batch, **self._pending}  # what came since is newer
        if self._stopped:
            return  # held (and on disk) for the next start
        final = fault.code in _FINAL_FAULTS
        if not final and self._attempts < len(self.delays):
            delay = self.delays[self._attempts]
            self._attempts += 1
            self._moveTo(RETRYING, f"attempt {self._attempts} failed ({why}); trying again in {delay:g} s")
            self.log.info("embedded objects: pushing the values set failed ({why}); again in {delay} s",
                          why=why, delay=delay)
            self._timer = self.clock.callLater(delay, self._push)
            return
        attempts = self._attempts + 1
        self._attempts = 0
        for name, (value, _) in batch.items():
            if self._pending.get(name, (None,))[0] is value:
                del self._pending[name]
        self._save()
        self.log.warn("embedded objects: the device did not take {names} ({why}); dropped from the copy",
                      names=sorted(batch), why=why)
        self._moveTo(ERROR, f"{', '.join(sorted(batch))[:200]}: {why}" +
                     (f" (after {attempts} attempts)" if not final else ""))
        if self._pending and not self._stopped:  # set since: a command of its own
            self._timer = self.clock.callLater(0, self._push)

    # -- IDeviceObserver -----------------------------------------------------------------------

    def deviceOnline(self, device: Any) -> None:
        if self._pending and not self._inFlight:
            self._cancelTimer()
            self._push()

    def deviceOffline(self, device: Any) -> None:
        pass

    def deviceBooted(self, device: Any) -> None:
        pass

    def deviceFactoryReset(self, device: Any) -> None:
        pass

    def diagnosticsComplete(self, device: Any) -> None:
        pass

    def transferComplete(self, device: Any, result: Any) -> None:
        pass

    def autonomousTransferComplete(self, device: Any, result: Any) -> None:
        pass

    def start(self) -> None:
        """Push again: what was held (since a stop, or on disk since the last run) goes down now."""
        if not self._stopped:
            return
        self._stopped = False
        if self._pending and not self._inFlight:
            self._timer = self.clock.callLater(0, self._push)

    def stop(self) -> None:
        """
        The service tree stops, or the device is no longer proxied this way:
        nothing more is pushed and no timer is left; what is not on the
        device yet stays held, in memory and on disk.
        """
        self._stopped = True
        self._cancelTimer()


# ---- the table in the own tree ------------------------------------------------------------------


@implementer(IDataModel, IValidatingDataModel, INotifyingDataModel, ILocalWrites)
class EmbeddedObjectTable(ParametersOnly):
    """
    One table of the own tree (C{Device.Services.PrintService.}) whose rows
    are devices' models (each a L{RemappedModel} answering for its row
    path): mounted in the own tree's composite at the table path, it
    answers the table itself (GetParameterNames lists the rows) and routes
    each name to its row. Rows come and go with the devices (L{add},
    L{remove}); the ACS cannot add or delete them.
    """

    def __init__(self, table: str) -> None:
        if not paths.isPartial(table):
            raise ValueError(f"not an object path: {table!r}")
        self.table = table
        self._rows: dict[int, Any] = {}
        self._listeners: list[ChangeListener] = []
        self._forwarders: dict[int, ChangeListener] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def numbers(self) -> list[int]:
        return sorted(self._rows)

    def rowPath(self, number: int) -> str:
        return f"{self.table}{number}."

    def add(self, number: int, model: Any) -> None:
        if number in self._rows:
            raise KeyError(f"{self.rowPath(number)} is there already")
        self._rows[number] = model
        forward = self._forwarder()
        self._forwarders[number] = forward
        if self._listeners:
            model.addChangeListener(forward)

    def remove(self, number: int) -> None:
        model = self._rows.pop(number, None)
        forward = self._forwarders.pop(number, None)
        if model is not None and forward is not None and self._listeners:
            model.removeChangeListener(forward)

    def _forwarder(self) -> ChangeListener:
        def forward(values: Sequence[ParameterValue], active: bool) -> None:
            for listener in list(self._listeners):
                try:
                    listener(values, active)
                except Exception:
                    _log.failure("a change listener failed")

        return forward

    # -- routing --------------------------------------------------------------------------------

    def _number(self, name: str) -> Optional[int]:
        """The row a name lies in; None for the table itself; 9005 for anything else."""
        if name == self.table:
            return None
        if name.startswith(self.table):
            head = name[len(self.table):].split(".", 1)
            if len(head) == 2 and isUnsigned(head[0]) and int(head[0]) in self._rows:
                return int(head[0])
        raise CWMPFault(9005, f"Invalid parameter name ({name} does not exist)")

    def _expand(self, name: str) -> list[tuple[Any, str]]:
        number = self._number(name)
        if number is None:
            return [(self._rows[n], self.rowPath(n)) for n in sorted(self._rows)]
        return [(self._rows[number], name)]

    # -- reads ------------------------------------------------------------------------------------

    def supportedMethods(self) -> frozenset:
        return PARAMETER_METHODS

    def getParameterNames(self, path: str, nextLevel: bool) -> defer.Deferred:
        try:
            number = self._number(path)
        except CWMPFault as fault:
            return defer.fail(fault)
        if number is not None:
            return defer.maybeDeferred(self._rows[number].getParameterNames, path, nextLevel)
        if nextLevel:
            return defer.succeed([ParameterInfo(self.rowPath(n), False) for n in sorted(self._rows)])
        calls = [defer.maybeDeferred(self._rows[n].getParameterNames, self.rowPath(n), False)
                 for n in sorted(self._rows)]
        return _all(calls).addCallback(lambda lists: [ParameterInfo(self.table, False)] + _flat(lists))

    def getParameterValues(self, names: Sequence[str]) -> defer.Deferred:
        return self._read(names, "getParameterValues")

    def getParameterAttributes(self, names: Sequence[str]) -> defer.Deferred:
        return self._read(names, "getParameterAttributes")

    def _read(self, names: Sequence[str], method: str) -> defer.Deferred:
        try:
            calls = [defer.maybeDeferred(getattr(model, method), [asked])
                     for name in names for model, asked in self._expand(name)]
        except CWMPFault as fault:
            return defer.fail(fault)
        return _all(calls).addCallback(_flat)

    # -- writes -------------------------------------------------------------------------------------

    def _byRow(self, items: Sequence[Any], rename: Callable[[Any, str], Any]) -> list[tuple[Any, list[Any]]]:
        groups: dict[int, tuple[Any, list[Any]]] = {}
        for item in items:
            for model, asked in self._expand(item.name):
                groups.setdefault(id(model), (model, []))[1].append(rename(item, asked))
        return list(groups.values())

    def _validate(self, groups: list[tuple[Any, list[Any]]], method: str) -> defer.Deferred:
        calls = [defer.maybeDeferred(getattr(model, method), items) for model, items in groups]
        return defer.DeferredList(calls, consumeErrors=True).addCallback(
            lambda results: _raiseMerged([(items, r) for (ok, r), (_, items) in zip(results, groups) if not ok]))

    def _apply(self, items: Sequence[Any], validate: str, apply: str,
               rename: Callable[[Any, str], Any]) -> defer.Deferred:
        try:
            groups = self._byRow(items, rename)
        except CWMPFault as fault:
            return defer.fail(fault)

        def applyAll(_: Any) -> defer.Deferred:
            calls = [defer.maybeDeferred(getattr(model, apply), part) for model, part in groups]
            return _all(calls).addCallback(lambda results: max([r for r in results if r is not None], default=None))

        return self._validate(groups, validate).addCallback(applyAll)

    def validateParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        try:
            groups = self._byRow(values, lambda v, _: v)
        except CWMPFault as fault:
            return defer.fail(fault)
        return self._validate(groups, "validateParameterValues")

    def setParameterValues(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._apply(values, "validateParameterValues", "setParameterValues", lambda v, _: v)

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> defer.Deferred:
        return self._apply(values, "validateParameterValues", "setParameterValuesLocally", lambda v, _: v)

    def validateParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        try:
            groups = self._byRow(changes, _renamed)
        except CWMPFault as fault:
            return defer.fail(fault)
        return self._validate(groups, "validateParameterAttributes")

    def setParameterAttributes(self, changes: Sequence[AttributeChange]) -> defer.Deferred:
        return self._apply(changes, "validateParameterAttributes", "setParameterAttributes",
                           _renamed).addCallback(lambda _: None)

    def addObject(self, path: str) -> defer.Deferred:
        try:
            number = self._number(path)
        except CWMPFault as fault:
            return defer.fail(fault)
        if number is None:
            return defer.fail(CWMPFault(9001, f"Request denied (the rows of {self.table} are the devices "
                                              "proxied; they come and go with them)"))
        return defer.maybeDeferred(self._rows[number].addObject, path)

    def deleteObject(self, path: str) -> defer.Deferred:
        try:
            number = self._number(path)
        except CWMPFault as fault:
            return defer.fail(fault)
        if number is None or path == self.rowPath(number):
            return defer.fail(CWMPFault(9001, f"Request denied (the rows of {self.table} are the devices "
                                              "proxied; they come and go with them)"))
        return defer.maybeDeferred(self._rows[number].deleteObject, path)

    def addChangeListener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)
        if len(self._listeners) == 1:
            for number, model in self._rows.items():
                model.addChangeListener(self._forwarders[number])

    def removeChangeListener(self, listener: ChangeListener) -> None:
        self._listeners.remove(listener)
        if not self._listeners:
            for number, model in self._rows.items():
                model.removeChangeListener(self._forwarders[number])


def _all(calls: Sequence[defer.Deferred]) -> defer.Deferred:
    """The results in order, or the first call's fault."""
    def first(failure: Failure) -> Failure:
        failure.trap(defer.FirstError)
        return failure.value.subFailure  # type: ignore[union-attr]

    return defer.gatherResults(list(calls), consumeErrors=True).addErrback(first)


def _flat(lists: Sequence[Sequence[Any]]) -> list[Any]:
    return [item for part in lists for item in part]


def _raiseMerged(failed: Sequence[tuple[Sequence[Any], Failure]]) -> None:
    """One row's fault as it is; several rows' in one 9003 with every parameter's."""
    if not failed:
        return None
    if len(failed) == 1:
        raise asFault(failed[0][1].value)
    perName: list[SetParameterValuesFault] = []
    for items, failure in failed:
        fault = asFault(failure.value)
        if fault.parameterFaults:
            perName.extend(fault.parameterFaults)
        else:
            perName.extend(SetParameterValuesFault(i.name, fault.code, fault.string) for i in items
                           if isinstance(i, ParameterValue))
    raise CWMPFault(9003, parameterFaults=perName) if perName else asFault(failed[0][1].value)


# ---- the devices ------------------------------------------------------------------------------------


class EmbeddedObjects(Service):
    """
    Keeps the own tree's embedded objects in step with the devices meant
    for the mechanism (a L{DeviceDirectory<proxier.service.DeviceDirectory>}
    listener, through a L{DirectoryView}): for each, a row of its protocol's
    L{EmbeddedObjectTable} (durable numbers, by device key, never reused:
    an L{InstanceMap} saved in C{store}'s C{numbers}) and a C{Device.ManagementServer.EmbeddedDevice.{i}.}
    row of C{tree}, whose C{data} is the device's L{EmbeddedRow}; what the
    ACS set that is not on a device yet is kept in C{store} too (C{pending-<key>}).

    A service of the proxier's tree: the rows' synchronized copies push
    what the ACS set only while it runs, so none has a timer once it
    stopped; what they hold is pushed again at the next start.

    @param tree: the own TreeDataModel (with the EmbeddedDevice table and
        the tables' C{...NumberOfEntries}).
    @param tables: table path → L{EmbeddedObjectTable}.
    @param adapt: device → L{IEmbeddedObjects} or None (the registry's adapter).
    """

    log = Logger()

    def __init__(self, tree: Any, tables: Mapping[str, EmbeddedObjectTable], adapt: Callable[[Any], Any],
                 store: Any, clock: Any, *, rowsTable: str = "Device.ManagementServer.EmbeddedDevice.",
                 delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.tree = tree
        self.tables = dict(tables)
        self.adapt = adapt
        self.store = store
        self.document = store.document("numbers")
        self.clock = clock
        self.rowsTable = rowsTable
        self.delays = delays
        self.rows: dict[str, EmbeddedRow] = {}  # by device key
        self.numbers = InstanceMap.fromJSON(self.document.load(default={}, validate=_validateNumbers))

    def startService(self) -> None:
        super().startService()
        for row in list(self.rows.values()):
            row.synced.start()

    def stopService(self) -> None:
        super().stopService()
        for row in list(self.rows.values()):
            row.synced.stop()

    def attach(self, directory: Any) -> None:
        directory.addListener(self)

    def deviceAppeared(self, device: Any) -> None:
        if device.key in self.rows:
            return
        objects = self.adapt(device)
        if objects is None:
            self.log.error("no embedded objects for {protocol} devices; {device} is not shown",
                           protocol=device.proxyProtocol, device=str(device.identity))
            return
        table = self.tables.get(objects.table)
        if table is None:
            self.log.error("{device}: its table {table} is not in the own tree; not shown",
                           device=str(device.identity), table=objects.table)
            return
        number = self.numbers.assign(objects.table, device.key)
        self.numbers.forgetAbsent(objects.table, set(table.numbers()) | {number})
        self.document.save(self.numbers.toJSON())
        row = EmbeddedRow(device, objects, table.rowPath(number))
        row.synced = SyncedModel(objects.model, device, self.clock, synchronized=objects.synchronized,
                                 changed=lambda: self._rowChanged(row), delays=self.delays,
                                 document=self.store.document("pending-" + device.key), running=bool(self.running))
        table.add(number, RemappedModel(row.synced, objects.inner, row.reference))
        device.addObserver(row.synced)
        self.rows[device.key] = row
        row.number = self.tree.addInstance(self.rowsTable, key=device.key, data=row)
        self.tree.changed(objects.table[:-1] + "NumberOfEntries")
        self.log.info("{path} is {device} (embedded objects)", path=row.reference, device=str(device.identity))

    def deviceRemoved(self, device: Any) -> None:
        row = self.rows.pop(device.key, None)
        if row is None:
            return
        table = self.tables[row.objects.table]
        table.remove(int(row.reference[len(table.table):-1]))
        device.removeObserver(row.synced)
        row.synced.stop()
        self.tree.removeInstance(self.rowsTable, key=device.key)
        self.tree.changed(row.objects.table[:-1] + "NumberOfEntries")

    def _rowChanged(self, row: "EmbeddedRow") -> None:
        if row.number is not None and self.rows.get(row.device.key) is row:
            self.tree.changed(f"{self.rowsTable}{row.number}.")


class EmbeddedRow:
    """What one EmbeddedDevice row shows: its device, its objects, its row path, its synchronized copy."""

    def __init__(self, device: Any, objects: Any, reference: str) -> None:
        self.device = device
        self.objects = objects
        self.reference = reference
        self.synced: Any = None
        self.number: Optional[int] = None  # of its EmbeddedDevice row


def _validateNumbers(payload: Any) -> None:
    InstanceMap.fromJSON(payload)


def _validatePending(payload: Any) -> None:
    if not isinstance(payload, list) or not all(
            isinstance(item, list) and len(item) == 4 and all(isinstance(f, str) for f in item[:3])
            and isinstance(item[3], bool) for item in payload):
        raise ValueError("not a list of [name, value, type, byACS]")


# ---- routing devices -----------------------------------------------------------------------------


class DirectoryView:
    """
    The devices of a L{DeviceDirectory<proxier.service.DeviceDirectory>}
    one part of the tree is meant for (C{wanted(device)}): the CWMP
    service's Virtual CWMP Devices, the embedded objects. Listeners hear of
    those alone.
    """

    def __init__(self, directory: Any, wanted: Callable[[Any], bool]) -> None:
        self._directory = directory
        self._wanted = wanted
        self._listeners: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self.devices())

    def devices(self) -> list[Any]:
        return [d for d in self._directory.devices() if self._wanted(d)]

    def get(self, key: str) -> Any:
        device = self._directory.get(key)
        return device if device is not None and self._wanted(device) else None

    def addListener(self, listener: Any) -> None:
        view = _Filtered(listener, self._wanted)
        self._listeners[id(listener)] = view
        self._directory.addListener(view)

    def removeListener(self, listener: Any) -> None:
        self._directory.removeListener(self._listeners.pop(id(listener)))


class _Filtered:
    def __init__(self, listener: Any, wanted: Callable[[Any], bool]) -> None:
        self.listener = listener
        self.wanted = wanted

    def deviceAppeared(self, device: Any) -> None:
        if self.wanted(device):
            self.listener.deviceAppeared(device)

    def deviceRemoved(self, device: Any) -> None:
        if self.wanted(device):
            self.listener.deviceRemoved(device)
