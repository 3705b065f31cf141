# -*- test-case-name: tests.test_upnpdm_changes -*-
"""
UPnP CMS events → "4 VALUE CHANGE" (TR-330 Table 1, §4.6.5.2.1).

    "When the CPE Proxier receives the UPnP CMS Event with
    ConfigurationUpdate, the CPE Proxier queries all parameters with
    EventOnChange attribute set (excluding those with a recent modification
    from the ACS) and compare to a cached value to determine which have
    changed."

L{ChangeWatcher} keeps, in the device's durable state (its
L{Baselines<proxier.proxy.baselines.Baselines>}, the store and detector
every proxied device uses), the last value of every parameter whose
EventOnChange is on (the watch set), and runs two kinds of work, one at a
time, coalesced:

 - a I{sweep} learns which parameters have EventOnChange on (GetSupported-
   Parameters, GetInstances, GetAttributes of the whole model: the "entire
   object model held in the CPE Proxier" of §4.6.5's notes), takes the
   current value of parameters newly watched as their baseline, and ends
   with a check. It runs when the device is (re)discovered, when its
   supported parameters, data models or attributes change (the
   C{SupportedParametersUpdate}, C{SupportedDataModelsUpdate},
   C{AttributeValuesUpdate} events), and when a table's size changed (new
   instances may bring parameters to watch);
 - a I{check} reads the watched values (GetValues), compares each with its
   baseline as a value of its type, and reports those that changed — but
   not those the ACS itself just set, added or deleted (the model marks
   them) — with active notification when any of them has it. It runs on
   every C{ConfigurationUpdate} event and whenever the control point says
   the device's state may be stale (a SEQ gap, a new subscription, a
   polling tick).

What a check finds goes to the listeners of the device's model
(L{CMSDataModel.tellChanges}: the model is the endpoint's
L{INotifyingDataModel<proxier.datamodel.capabilities.INotifyingDataModel>}).
While nobody listens (the endpoint is not there yet, or stopped) a check
is put off, the baselines untouched, and runs when the first listener
comes: because the baselines are durable, a change made before anyone
listened — while the proxier was down, or before the endpoint started —
is reported then, once.

States: C{idle}; C{running} (a sweep or a check); with C{pending} C{"check"}
or C{"sweep"} asked for while running (a sweep includes a check); apart
from them, C{waiting}: a check was put off until the model has a listener.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from twisted.internet.defer import Deferred, inlineCallbacks, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.datamodel.values import Notification
from proxier.proxy.baselines import Observed
from proxier.proxy.gate import GateFull, NoAnswer
from proxier.upnp.actions import ActionError
from proxier.upnp.soap import UPnPError
from proxier.upnpdm.cmsxml import CMSDocumentError
from proxier.upnpdm.model import CMSDataModel
from proxier.upnpdm.state import DeviceState

__all__ = ["ChangeWatcher", "SCHEMA_VARIABLES", "ATTRIBUTE_VARIABLES", "CHANGE_VARIABLE"]

#: CMS:2 evented state variables whose change means the supported tree moved.
SCHEMA_VARIABLES = ("SupportedDataModelsUpdate", "SupportedParametersUpdate")
#: ... whose change means attributes (EventOnChange) changed.
ATTRIBUTE_VARIABLES = ("AttributeValuesUpdate",)
#: ... whose change means values of parameters with EventOnChange changed.
CHANGE_VARIABLE = "ConfigurationUpdate"


class ChangeWatcher:
    """
    @param schemaChanged: called when the device's data models changed (the
        device probes them again).
    """

    log = Logger()

    def __init__(self, model: CMSDataModel, state: DeviceState, *, log: Any = None,
                 schemaChanged: Optional[Callable[[], None]] = None) -> None:
        if log is not None:
            self.log = log
        self.model = model
        self.state = state
        self.schemaChanged = schemaChanged
        self.state_ = "idle"
        self.pending: Optional[str] = None
        self.waiting = False
        self.swept = False
        self.stopped = False
        self.generation = 0
        self.lastSeen: dict[str, str] = {}
        self.counts = {"sweeps": 0, "checks": 0, "reported": 0}
        self._waiters: tuple[Deferred, ...] = ()  # mostly none: the empty tuple is shared (issue 19)

    # -- asking for work ---------------------------------------------------------------

    def sweep(self) -> Deferred:
        """Learn the watch set again, then check. Fires when done (never fails)."""
        return self._want("sweep")

    def check(self) -> Deferred:
        """Compare the watched values now. Fires when done (never fails)."""
        return self._want("check" if self.swept else "sweep")

    def stop(self) -> None:
        self.stopped = True
        self.pending = None

    def reset(self) -> None:
        """
        The device rebooted or was reset: what a sweep or check under way
        read belongs to before, and is dropped; the next work is a sweep.
        """
        self.generation += 1
        self.swept = False
        if self.pending == "check":
            self.pending = "sweep"

    def _want(self, kind: str) -> Deferred:
        if self.stopped:
            return succeed(None)
        done: Deferred = Deferred()
        self._waiters += (done,)
        if self.state_ == "running":
            if self.pending != "sweep":
                self.pending = kind
            return done
        self._run(kind)
        return done

    def _run(self, kind: str) -> None:
        self.state_ = "running"
        d = self._sweep() if kind == "sweep" else self._check()
        d.addErrback(self._failed, kind)
        d.addBoth(self._ran)

    def _ran(self, _: Any) -> None:
        self.state_ = "idle"
        self.state.flushSoon()  # what a sweep learnt: no RPC waits on it, the next message to the ACS does
        kind, self.pending = self.pending, None
        if kind is not None and not self.stopped:
            self._run(kind)
            return
        waiters, self._waiters = self._waiters, ()
        for waiter in waiters:
            waiter.callback(None)

    def _failed(self, failure: Failure, kind: str) -> None:
        if self.stopped:
            return  # the proxier stops: the device's actions were withdrawn
        if failure.check(UPnPError, ActionError, NoAnswer, CMSDocumentError, GateFull):
            self.log.warn("value-change {kind} failed: {why}", kind=kind, why=failure.getErrorMessage())
        elif failure.check(Exception):
            self.log.failure("value-change {kind} failed", failure, kind=kind)

    # -- events -----------------------------------------------------------------------

    def eventReceived(self, variables: Sequence[tuple[str, str]]) -> None:
        """A CMS GENA event (the initial one holds every evented variable)."""
        values = dict(variables)
        schema = attributes = False
        for name in SCHEMA_VARIABLES + ATTRIBUTE_VARIABLES:
            if name not in values:
                continue
            previous = self.lastSeen.get(name)
            self.lastSeen[name] = values[name]
            if previous is not None and previous != values[name]:
                if name in SCHEMA_VARIABLES:
                    schema = True
                else:
                    attributes = True
        if schema:
            self.log.info("the device's supported parameters changed: learning them again")
            self.model.invalidateSchema()
            if self.schemaChanged is not None:
                self.schemaChanged()
            self.sweep()
        elif attributes:
            self.sweep()
        elif CHANGE_VARIABLE in values:
            previous = self.lastSeen.get(CHANGE_VARIABLE)
            self.lastSeen[CHANGE_VARIABLE] = values[CHANGE_VARIABLE]
            if previous != values[CHANGE_VARIABLE]:
                self.check()

    # -- the work ---------------------------------------------------------------------

    @inlineCallbacks
    def _sweep(self) -> Any:
        self.counts["sweeps"] += 1
        generation = self.generation
        model = self.model
        params: list[str] = []
        if model.profile.root is not None:
            nodes = yield model.subtree(model.profile.root)
            params = [n for n in nodes if not n.endswith("/")]
        params.extend(model.translator.mapped.values())
        params = list(dict.fromkeys(params))
        yield model.getAttributes(params)
        if generation != self.generation:
            return None  # the device restarted meanwhile: a new sweep follows
        watched = [p for p in params if model.eventOnChange.get(p, False)]
        keep = set(watched)
        baselines = self.state.baselines
        for path in [p for p in baselines.values if p not in keep]:
            baselines.unwatch(path)
        fresh = [p for p in watched if p not in baselines.values]
        if fresh:
            values = yield model.readValues(fresh)
            if generation != self.generation:
                return None
            for path, _, text in values:
                if not baselines.watch(path, text):
                    self.log.warn("more parameters with EventOnChange than the proxier watches; {path} is not",
                                  path=path)
        self.swept = True
        self.log.debug("watching {n} parameters with EventOnChange", n=len(baselines.values))
        yield self._check()

    def _putOff(self) -> None:
        """Nobody would hear what a check finds: the baselines stay, the check waits for a listener."""
        if not self.waiting:
            self.waiting = True
            self.model.whenListened(self._listened)

    def _listened(self) -> None:
        self.waiting = False
        self.check()

    @inlineCallbacks
    def _check(self) -> Any:
        model = self.model
        if not model.listened:
            self._putOff()
            return None
        self.counts["checks"] += 1
        generation = self.generation
        baselines = self.state.baselines
        yield model.lock.acquire()
        try:
            if self.stopped:
                return None  # stopped while a write held the lock (its action withdrawn): the device is not asked
            paths = list(baselines.values)
            if not paths or generation != self.generation:
                baselines.clearMarks()
                return None
            try:
                values = yield model.readValues(paths)
            except UPnPError as e:
                if e.code != 703:
                    raise
                # a watched parameter is gone (its instance deleted): learn the model again
                self.pending = "sweep"
                baselines.clearMarks()
                return None
            if generation != self.generation:
                return None
            if not model.listened:
                self._putOff()  # the listener left while the values were read
                return None
            # (a value None: refused by its TR-181 type, logged; its baseline moves, nothing is sent)
            found = baselines.detect(
                [Observed(path, text, value,
                          Notification.OFF if value is None else model.notificationOf(value.name, True))
                 for path, value, text in values],
                model.sameValue, now=model.clock.seconds(), adopt=False)
            changed, active = found.values, found.active
            resized = any(path.endswith("NumberOfEntries") for path in found.moved)
            for path in set(paths) - {path for path, _, _ in values}:
                baselines.unwatch(path)
                resized = True
            baselines.clearMarks()
            if resized and self.pending is None:
                self.pending = "sweep"
        finally:
            model.lock.release()
        if changed:
            self.counts["reported"] += len(changed)
            self.log.info("{n} value change(s): {names}", n=len(changed),
                          names=", ".join(v.name for v in changed[:8]) + (" ..." if len(changed) > 8 else ""))
            model.tellChanges(changed, active)
        return None
