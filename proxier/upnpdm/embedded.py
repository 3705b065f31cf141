# -*- test-case-name: tests.test_upnpdm_embedded -*-
"""
UPnP DM devices as objects of the proxier's own tree: the Embedded Object
Mechanism (TR-069 Annex J.3, L{proxier.proxy.embeddedobjects}), chosen by
C{[upnp] mechanism = embedded} or C{both}.

A UPnP DM device's objects are a C{Device.} tree of their own (TR-330 §4.6),
which cannot merge into the gateway's (two C{Device.DeviceInfo.}); so each
device is a row of a vendor table (TR-106 §3.3) named with the proxier's
own OUI (C{[device] oui}): C{Device.X_<OUI>_UPnPDM.{i}.}, declared in the
proxier's C{DeviceInfo.SupportedDataModel} (L{DATA_MODEL}). The row holds
the device's whole CMS tree below its C{Device.} root as TR-330 maps it —
C{DeviceInfo.} (its Common Objects and the values the proxier holds for it)
and every other object its models have: C{Device.X_<OUI>_UPnPDM.2.DeviceInfo.SerialNumber}
is the device's C{Device.DeviceInfo.SerialNumber}. Each parameter is
writable as the CMS's Access says (none when the SCPD offers no
SetValues). What a Virtual CWMP Device adds is not there:
C{ManagementServer.} (the proxier's own endpoint has it) and the
diagnostics objects the proxier holds for the device.

The row's model is a CMS model of the device of its own (L{CMSFollower}:
a L{CMSDataModel} over the device's gate and profile, told what the
device's model is told), seen through L{EmbeddedCMS}, which adds the
checks the synchronized copy makes before it accepts a value. Its state is
a document of its own (C{embedded-<key>} of the protocol's store): its
Notification levels, the values it compares, its instance numbers; and it
has its own change watcher. So the row shows the CMS tree alone — not the
values the device's management adds to its Virtual CWMP Device's model
(C{DeviceInfo.VendorLogFileNumberOfEntries} beside the log files it holds)
— and, with C{both}, what the ACS asks of the row's notifications never
reaches the Virtual CWMP Device, nor the other way round, except for
EventOnChange, the device's one attribute behind both (TR-330 §4.6.5).

The values the device reports (its GENA events, read by the change
watcher) reach the proxier's own endpoint as "4 VALUE CHANGE" of the
row's names. Reads serve the proxier's synchronized copy of the tree
(L{CMSCopy}: its names, values and attributes), with what the ACS set and
the device does not have yet laid over them, so the row answers while the
device is offline: the copy is read whole when the row's model is learnt
(each sweep: L{CopyingWatcher}) — LastSyncTime — and kept
up to date by what the proxier sees change: the device's value changes
(GENA), a push, the ACS's attributes, AddObject and DeleteObject. A
SetParameterValues is checked against the schema the model learnt,
without asking the device once it is known.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from twisted.internet.defer import Deferred, fail, inlineCallbacks, succeed
from twisted.logger import Logger
from zope.interface import implementer

from proxier.datamodel import paths
from proxier.datamodel.capabilities import (
    ChangeListener,
    ILocalWrites,
    INotifyingDataModel,
    IValidatingDataModel,
    ParametersOnly,
)
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault, asFault
from proxier.datamodel.values import AttributeChange, Notification, ParameterAttributes, ParameterInfo, ParameterValue
from proxier.interfaces import IDataModel
from proxier.proxy.embeddedobjects import DeviceObjects, EmbeddedObjectsSpec
from proxier.upnpdm.changes import ChangeWatcher
from proxier.upnpdm.cmspaths import CWMP_ROOT
from proxier.upnpdm.model import CMSDataModel
from proxier.upnpdm.state import DeviceState

__all__ = ["DATA_MODEL", "MAX_COPY", "tableOf", "specOf", "CMSCopy", "EmbeddedCMS", "CMSFollower", "embeddedObjects"]

#: The vendor table's data model: (URN, features), a row in the proxier's DeviceInfo.SupportedDataModel that
#: each EmbeddedDevice row of a UPnP DM device references (the device's own models are in its row's DeviceInfo.).
DATA_MODEL = ("urn:x-proxier:upnpdm-embedded-1-0", ("UPnPDM:1.0",))

#: The most names (objects and parameters) a row's copy holds. Its cost a parameter: its ParameterInfo,
#: ParameterValue and ParameterAttributes (the name in each), about 850 bytes in CPython, so at most about
#: 4 MB a device (a simulated device's 55 names: about 45 KB). A larger tree is not copied: its row asks the device.
MAX_COPY = 5_000

_log = Logger()


def tableOf(oui: str) -> str:
    """The vendor table of the proxier with ManufacturerOUI C{oui} (TR-106 §3.3: C{X_<OUI>_})."""
    return f"Device.X_{oui.upper()}_UPnPDM."


def specOf(config: Any) -> EmbeddedObjectsSpec:
    """The UPnP DM table of the proxier's own tree, named with its C{[device] oui}."""
    return EmbeddedObjectsSpec(tableOf(config["device"]["oui"]), (DATA_MODEL,))


class CMSCopy:
    """
    The proxier's synchronized copy of one device's CMS tree, as its row's
    model answered it: every name (GetParameterNames of C{Device.}, in its
    order), value and attribute. L{refresh} reads it whole (C{at}: the row's
    LastSyncTime) or one object again; L{changed} and L{reread} take what
    the proxier saw change. Not L{held} (never read, or larger than
    L{MAX_COPY}): its reads are the model's.
    """

    def __init__(self, model: Any, clock: Any, *, log: Any = None, limit: int = MAX_COPY) -> None:
        self.model = model
        self.clock = clock
        self.log = log if log is not None else _log
        self.limit = limit
        self.names: Optional[list[ParameterInfo]] = None
        self.values: dict[str, ParameterValue] = {}
        self.attributes: dict[str, ParameterAttributes] = {}
        self.at: Optional[float] = None  # the last whole reading
        self._objects: set[str] = set()
        self._whole = 0  # whole readings started: only the last one started is kept
        self._writes = 0  # writes read back (L{reread}): a reading a write overtook is read again

    @property
    def held(self) -> bool:
        return self.names is not None

    def covers(self, names: Sequence[str]) -> bool:
        """Whether the copy answers for C{names} (not an instance alias, which only the model resolves)."""
        return self.held and not any("[" in name for name in names)

    # -- reading the device's tree -------------------------------------------------------------------

    @inlineCallbacks
    def refresh(self, below: str = CWMP_ROOT) -> Any:
        """
        Read the object C{below} again (its names, values and attributes);
        C{Device.}: the whole tree, the time of which is LastSyncTime.
        Fires when done; a reading that failed leaves the copy as it was.
        """
        whole = below == CWMP_ROOT
        if not whole and not self.held:
            return None
        if whole:
            self._whole += 1
        started = self._whole
        while True:
            writes = self._writes
            try:
                names = yield self.model.getParameterNames(below, False)
                kept = len(names) + (0 if whole else sum(1 for i in self.names or () if not i.name.startswith(below)))
                if kept > self.limit:
                    self.log.warn("{n} names: more than the {limit} a row's copy holds; its reads ask the device",
                                  n=kept, limit=self.limit)
                    self._drop()
                    return None
                values = yield self.model.getParameterValues([below])
                attributes = yield self.model.getParameterAttributes([below])
            except CWMPFault as fault:
                self.log.info("the row's copy of {path} was not read again ({code} {why})", path=below,
                              code=fault.code, why=fault.string)
                return None
            if writes == self._writes:
                break
            # a write reached the device while it was read: what was read may be older than the write
        if whole:
            if started != self._whole:
                return None  # a newer reading is under way
            self.names = list(names)
            self.values = {v.name: v for v in values}
            self.attributes = {a.name: a for a in attributes}
            self.at = self.clock.seconds()
        elif self.names is not None:
            self.names = _spliced(self.names, below, names)
            self.values = {v.name: v for v in _spliced(list(self.values.values()), below, values)}
            self.attributes = {a.name: a for a in _spliced(list(self.attributes.values()), below, attributes)}
        self._objects = {i.name for i in self.names or () if i.name.endswith(".")}
        return None

    def _drop(self) -> None:
        self.names, self.values, self.attributes, self._objects = None, {}, {}, set()

    def changed(self, values: Sequence[ParameterValue]) -> None:
        """Values the device changed (what its change watcher found)."""
        for value in values:
            if value.name in self.values:
                self.values[value.name] = value

    @inlineCallbacks
    def reread(self, names: Sequence[str], attributes: bool = False) -> Any:
        """
        The values (or attributes) of C{names} read again after the proxier
        changed them on the device. Fires with whether they were read (the
        model may need the device). A reading under way (L{refresh}) reads
        again: what it read may be older than the change.
        """
        self._writes += 1
        if not self.covers(names):
            return False
        try:
            if attributes:
                found = yield self.model.getParameterAttributes(list(names))
            else:
                found = yield self.model.getParameterValues(list(names))
        except CWMPFault:
            return False
        table: dict[str, Any] = self.attributes if attributes else self.values
        for item in found:
            if item.name in table:
                table[item.name] = item
        return True

    # -- answering from it -----------------------------------------------------------------------------

    def getParameterNames(self, path: str, nextLevel: bool) -> list[ParameterInfo]:
        path = path or CWMP_ROOT
        if not path.endswith("."):
            found = [i for i in self.names or () if i.name == path]
            if not found:
                raise _unknown(path)
            return found
        below = [i for i in self.names or () if i.name.startswith(path)]
        if not below:
            raise _unknown(path)
        if nextLevel:
            return [i for i in below if i.name != path and "." not in i.name[len(path):-1]]
        return below

    def read(self, names: Sequence[str], attributes: bool = False) -> list[Any]:
        table: dict[str, Any] = self.attributes if attributes else self.values
        out: list[Any] = []
        for name in names:
            name = name or CWMP_ROOT
            if name.endswith("."):
                if name != CWMP_ROOT and name not in self._objects:
                    raise _unknown(name)
                out.extend(v for n, v in table.items() if n.startswith(name))
            elif name in table:
                out.append(table[name])
            else:
                raise _unknown(name)
        return out


def _unknown(name: str) -> CWMPFault:
    return CWMPFault(9005, f"Invalid parameter name ({name} is not in this device's model)")


def _spliced(items: Sequence[Any], below: str, fresh: Sequence[Any]) -> list[Any]:
    """C{items} with those named below C{below} replaced by C{fresh}, where they stood (or at the end)."""
    out: list[Any] = []
    placed = False
    for item in items:
        if item.name.startswith(below):
            if not placed:
                out.extend(fresh)
                placed = True
            continue
        out.append(item)
    if not placed:
        out.extend(fresh)
    return out


@implementer(IDataModel, IValidatingDataModel, INotifyingDataModel, ILocalWrites)
class EmbeddedCMS(ParametersOnly):
    """
    A device's L{CMSDataModel} as the synchronized copy wants it: reads
    answered by its L{CMSCopy} once held (the model's otherwise), kept up
    to date by every write that reached the device; a SetParameterValues
    checked without writing (names, access, types: the faults the device's
    Virtual CWMP Device would answer), a SetParameterAttributes checked for
    what needs no device (a Notification value, an AccessList, which is
    never settable: 9003, as the model answers them); the rest is the
    model's.
    """

    def __init__(self, model: CMSDataModel, copy: Optional[CMSCopy] = None) -> None:
        self.model = model
        self.copy = copy if copy is not None else CMSCopy(model, getattr(model, "clock", None))
        self._listeners: dict[Any, ChangeListener] = {}

    def supportedMethods(self) -> frozenset:
        return self.model.supportedMethods()

    def getParameterNames(self, path: str, nextLevel: bool) -> Deferred:
        if self.copy.covers([path]):
            return _answered(self.copy.getParameterNames, path, nextLevel)
        return self.model.getParameterNames(path, nextLevel)

    def getParameterValues(self, names: Sequence[str]) -> Deferred:
        if self.copy.covers(names):
            return _answered(self.copy.read, names)
        return self.model.getParameterValues(names)

    def getParameterAttributes(self, names: Sequence[str]) -> Deferred:
        if self.copy.covers(names):
            return _answered(self.copy.read, names, True)
        return self.model.getParameterAttributes(names)

    def validateParameterValues(self, values: Sequence[ParameterValue]) -> Deferred:
        """
        The model's checks, from the schema it learnt (the device is asked
        only about what it does not know yet); with the copy held, a name
        not in it is 9005 without asking the device either — whether it is
        offline or not.
        """
        names = [v.name for v in values]
        unknown = [n for n in names if n not in self.copy.values]
        if not unknown or not self.copy.covers(names) or len(set(names)) != len(names):
            return self.model.checkParameterValues(values)
        known = [v for v in values if v.name in self.copy.values]

        def faulted(failure: Any) -> None:
            perName: dict[str, SetParameterValuesFault] = {}
            if failure is not None:
                fault = asFault(failure.value)
                if not fault.parameterFaults:
                    raise fault  # the request's own fault (9004, ...)
                perName = {f.parameterName: f for f in fault.parameterFaults}
            perName.update((n, SetParameterValuesFault(n, 9005, f"Invalid parameter name ({n} is not in this "
                                                                "device's model)")) for n in unknown)
            raise CWMPFault(9003, parameterFaults=[perName[n] for n in names if n in perName])

        checked = self.model.checkParameterValues(known) if known else succeed(None)
        return checked.addCallbacks(lambda _: faulted(None), faulted)

    def setParameterValues(self, values: Sequence[ParameterValue]) -> Deferred:
        return self.model.setParameterValues(values).addCallback(self._pushed, values)

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> Deferred:
        return self.model.setParameterValuesLocally(values).addCallback(self._pushed, values)

    def _pushed(self, status: Any, values: Sequence[ParameterValue]) -> Deferred:
        """The device took C{values}: the copy reads them back (as the device words them), else takes them."""
        def taken(read: bool) -> Any:
            if not read:
                for value in values:
                    old = self.copy.values.get(value.name)
                    if old is not None:
                        self.copy.values[value.name] = ParameterValue(value.name, value.value, old.type)
            return status

        return self.copy.reread([v.name for v in values]).addCallback(taken)

    def validateParameterAttributes(self, changes: Sequence[AttributeChange]) -> Deferred:
        for change in changes:
            if change.notificationChange and change.notification not in Notification.ALL:
                return fail(CWMPFault(9003, f"Invalid arguments (Notification {change.notification} is not "
                                            "supported)"))
            if change.accessListChange:
                return fail(CWMPFault(9003, "Invalid arguments (AccessList cannot be set on a UPnP DM device)"))
        return succeed(None)

    def setParameterAttributes(self, changes: Sequence[AttributeChange]) -> Deferred:
        return self.model.setParameterAttributes(changes).addCallback(
            lambda result: self.copy.reread([c.name for c in changes], attributes=True).addCallback(
                lambda _: result))

    def addObject(self, path: str) -> Deferred:
        """Answered once the copy has the table (and its count) again: the ACS may read the new row next."""
        return self.model.addObject(path).addCallback(self._resized, paths.parent(path))

    def deleteObject(self, path: str) -> Deferred:
        return self.model.deleteObject(path).addCallback(self._resized, paths.parent(paths.parent(path)))

    def _resized(self, result: Any, holder: str) -> Deferred:
        return self.copy.refresh(holder or CWMP_ROOT).addCallback(lambda _: result)

    def addChangeListener(self, listener: ChangeListener) -> None:
        """The device's value changes reach the copy first, then C{listener} (the own endpoint, through the row)."""
        def taken(values: Sequence[ParameterValue], active: bool) -> None:
            self.copy.changed(values)
            listener(values, active)

        self._listeners[listener] = taken
        self.model.addChangeListener(taken)

    def removeChangeListener(self, listener: ChangeListener) -> None:
        self.model.removeChangeListener(self._listeners.pop(listener))


def _answered(method: Any, *args: Any) -> Deferred:
    try:
        return succeed(method(*args))
    except CWMPFault as fault:
        return fail(fault)


class CopyingWatcher(ChangeWatcher):
    """
    The row's change watcher: each of its sweeps — the device found, back
    or rebooted, its supported parameters or attributes changed, a table
    resized — ends with a whole reading of the copy (LastSyncTime), in
    turn with its checks.
    """

    def __init__(self, model: CMSDataModel, state: DeviceState, copy: CMSCopy, *, log: Any = None) -> None:
        super().__init__(model, state, log=log)
        self.copy = copy

    @inlineCallbacks
    def _sweep(self) -> Any:
        yield super()._sweep()
        if not self.stopped:
            yield self.copy.refresh()


class CMSFollower:
    """
    A second CMS model of one L{VirtualDevice<proxier.upnpdm.device.VirtualDevice>}
    (its embedded objects'): the device's gate and profile, a state of its
    own in C{document}, a change watcher of its own; one of the device's
    C{followers}, told what its model, watcher and state are.
    """

    def __init__(self, device: Any, document: Any) -> None:
        self.state = DeviceState(document, clock=device.clock)
        self.model = CMSDataModel(device.profile, device.gate, self.state, clock=device.clock, log=device.log)
        self.copy = CMSCopy(self.model, device.clock, log=device.log)
        self.watcher = CopyingWatcher(self.model, self.state, self.copy, log=device.log)

    def setProfile(self, profile: Any) -> None:
        self.model.setProfile(profile)

    def invalidateSchema(self) -> None:
        self.model.invalidateSchema()

    def factoryReset(self) -> None:
        self.state.factoryReset()
        self.state.flushSoon()

    def restarted(self) -> None:
        """The device rebooted or was reset: its schema learnt again, what was read before dropped."""
        self.model.invalidateSchema()
        self.watcher.reset()

    def reset(self) -> None:
        self.watcher.reset()

    def sweep(self) -> Deferred:
        return self.watcher.sweep()

    def check(self) -> Deferred:
        return self.watcher.check()

    def eventReceived(self, variables: Sequence[tuple[str, str]]) -> None:
        self.watcher.eventReceived(variables)

    def stop(self) -> None:
        self.watcher.stop()
        self.state.flush()


def embeddedObjects(device: Any, table: str, store: Any) -> DeviceObjects:
    """
    The L{IEmbeddedObjects<proxier.proxy.embeddedobjects.IEmbeddedObjects>}
    of a device: a L{CMSFollower}'s model (its state C{embedded-<key>} of
    C{store}) and copy, its whole C{Device.} tree one row of C{table}. Made
    once a device.
    """
    follower = CMSFollower(device, store.document("embedded-" + device.key[:100]))
    device.followers += (follower,)
    follower.sweep()
    return DeviceObjects(table, CWMP_ROOT, EmbeddedCMS(follower.model, follower.copy), (DATA_MODEL[0],),
                         synchronized=lambda: follower.copy.at)
