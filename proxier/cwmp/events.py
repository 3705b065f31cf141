# -*- test-case-name: tests.test_cwmp_events -*-
"""
The durable CWMP state of one endpoint: what it still owes the ACS, and what
it knows of it.

 - Inform events not yet delivered, with the rules of TR-069 3.2.1 (Table 7)
   for when each is cleared: most by the InformResponse of the Inform that
   carried them; "7 TRANSFER COMPLETE" / "M Download" ... only when the
   TransferComplete RPC is acknowledged (likewise "9 REQUEST DOWNLOAD" and
   "10 AUTONOMOUS TRANSFER COMPLETE" with theirs); "6 CONNECTION REQUEST"
   dropped when the session that carried it failed (it is never retried).
 - The parameters of "4 VALUE CHANGE" (the latest value of each).
 - The TransferComplete, AutonomousTransferComplete and RequestDownload RPCs
   the CPE still has to send. A TransferComplete is taken once per transfer:
   the same (CommandKey, method) told again, while it is queued or after it
   was (the last L{MAX_COMPLETED_TRANSFERS} are remembered), is dropped
   unless a transfer of that key is in progress (a protocol that cannot know
   whether it told the endpoint before a crash tells it again).
 - The ACS URL that was bootstrapped, the RPCs each ACS said it supports,
   the session retry count, the Reboot waiting for the device to come back,
   actions due after a session, scheduled Informs, transfers in progress.

All of it is one document of L{proxier.store}, changed with
L{Document.saveSoon<proxier.store.Document.saveSoon>}: written off the
reactor thread, coalesced, in the order of the changes, and on disk before
anyone can depend on it — a later change of any document (the caller of an
IDeviceObserver method dropping its own record) lands after it, and the
session waits for L{Store.durable<proxier.store.Store.durable>} before each
message to the ACS. So a SIGKILL at any point loses nothing the ACS was told
or acknowledged, and redelivers only what TR-069 lets a CPE redeliver (what
was sent but not yet acknowledged).

When the disk refuses a save (full, read-only, failing), memory goes ahead of
it rather than the change being refused: an event or a TransferComplete the
CPE owes the ACS is still delivered by this process, and an acknowledgement
still clears it here (after a restart it would at worst be sent again, which
TR-069 allows). The failure is logged once by the store, and the latest state
is saved again every L{proxier.store.RETRY_INTERVAL} seconds until a save
succeeds (L{EndpointState.durable} says whether it has).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any, Iterable, Optional, Sequence

from proxier.cwmp import messages as m
from proxier.datamodel._tr106time import UNKNOWN_TIME, formatDateTime, parseDateTime
from proxier.datamodel.values import AutonomousTransferResult, ParameterValue, TransferResult
from proxier.sharing import InternTable, internText
from proxier.store import Document, Retrier

__all__ = [
    "EndpointState",
    "InformContent",
    "SINGLE_EVENTS",
    "MAX_EVENTS",
    "MAX_QUEUED_EVENTS",
    "MAX_QUEUED_RPCS",
    "MAX_SCHEDULED_INFORMS",
    "MAX_VALUE_CHANGES",
    "MAX_REMEMBERED_ACS",
    "MAX_COMPLETED_TRANSFERS",
]

# TR-069 Amendment 5, Table 7 (Inform event codes): the events of which an
# Inform carries at most one, whatever caused them.
SINGLE_EVENTS = frozenset({
    "0 BOOTSTRAP", "1 BOOT", "2 PERIODIC", "3 SCHEDULED", "4 VALUE CHANGE", "5 KICKED",
    "6 CONNECTION REQUEST", "7 TRANSFER COMPLETE", "8 DIAGNOSTICS COMPLETE", "9 REQUEST DOWNLOAD",
    "10 AUTONOMOUS TRANSFER COMPLETE", "11 DU STATE CHANGE COMPLETE", "12 AUTONOMOUS DU STATE CHANGE COMPLETE",
    "13 WAKEUP", "14 HEARTBEAT",
})

MAX_EVENTS = 64  # EventStruct entries in one Inform (cwmp-1-2.xsd, EventList maxOccurs)
# Queued events kept: leaves room in an Inform for the events of queued RPCs
# (three codes, and one "M <method>" per TransferComplete).
MAX_QUEUED_EVENTS = MAX_EVENTS - 4 - 16  # "4 VALUE CHANGE", three RPC events, sixteen "M <method>"
MAX_QUEUED_RPCS = 16  # TransferComplete (etc.) waiting, as TR-069 bounds the transfer queue
MAX_SCHEDULED_INFORMS = 16
MAX_VALUE_CHANGES = 1024
MAX_REMEMBERED_ACS = 4  # GetRPCMethods answers kept, most recent ACS URLs first
MAX_COMPLETED_TRANSFERS = 64  # (CommandKey, method) of TransferCompletes taken, to drop a repeat
_FORMAT = 2  # 1: without "completedTransfers"


@dataclass(frozen=True)
class InformContent:
    """What one Inform carries from this state, and the handles to clear it afterwards."""

    events: tuple[m.EventStruct, ...]
    valueChanges: tuple[ParameterValue, ...]
    eventIds: frozenset[int]


def _time(value: datetime.datetime) -> str:
    return formatDateTime(value)


def _untime(raw: Any) -> datetime.datetime:
    return parseDateTime(raw) if raw else UNKNOWN_TIME


def _resultToJSON(result: TransferResult) -> dict:
    return {"commandKey": result.commandKey, "method": result.method, "faultCode": result.faultCode,
            "faultString": result.faultString, "startTime": _time(result.startTime),
            "completeTime": _time(result.completeTime)}


def _resultFromJSON(raw: dict) -> TransferResult:
    return TransferResult(str(raw["commandKey"]), str(raw["method"]), int(raw["faultCode"]), str(raw["faultString"]),
                          _untime(raw["startTime"]), _untime(raw["completeTime"]))


def _autonomousToJSON(result: AutonomousTransferResult) -> dict:
    return {"announceURL": result.announceURL, "transferURL": result.transferURL, "isDownload": result.isDownload,
            "fileType": result.fileType, "fileSize": result.fileSize, "targetFileName": result.targetFileName,
            "faultCode": result.faultCode, "faultString": result.faultString,
            "startTime": _time(result.startTime), "completeTime": _time(result.completeTime)}


def _autonomousFromJSON(raw: dict) -> AutonomousTransferResult:
    return AutonomousTransferResult(
        str(raw["announceURL"]), str(raw["transferURL"]), bool(raw["isDownload"]), str(raw["fileType"]),
        int(raw["fileSize"]), str(raw["targetFileName"]), int(raw["faultCode"]), str(raw["faultString"]),
        _untime(raw["startTime"]), _untime(raw["completeTime"]))


def _empty() -> dict:
    return {
        "format": _FORMAT,
        "seq": 0,
        "bootstrappedURL": None,
        "acsMethods": [],  # [[url, [methods]]], most recent first
        "retryCount": 0,
        "events": [],  # [{"id", "code", "commandKey"}]
        "valueChanges": [],  # [[name, value, type]]
        "rpcs": [],  # [{"id", "kind", "faults", ...}]
        "rebootCommandKey": None,
        "afterSession": [],  # [["reboot", commandKey] | ["factoryReset"]]
        "scheduledInforms": [],  # [{"at": seconds, "commandKey"}]
        "transfers": [],  # in progress: [{"commandKey", "method", "fileType", "fileSize", "targetFileName", "startAt"}]
        "completedTransfers": [],  # [[commandKey, method]] of TransferCompletes taken, oldest first
    }


def _upgrade(payload: Any) -> None:
    """Bring a document of an earlier format to this one, in place."""
    if isinstance(payload, dict) and payload.get("format") == 1:
        payload["completedTransfers"] = []
        payload["format"] = 2


def _validate(payload: Any) -> None:
    _upgrade(payload)
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError("not a CWMP endpoint state")
    expected = _empty()
    for key, default in expected.items():
        if key not in payload:
            raise KeyError(key)
        if default is not None and not isinstance(payload[key], type(default)):
            raise TypeError(f"{key} has the wrong type")
    for event in payload["events"]:
        int(event["id"]), str(event["code"]), str(event["commandKey"])
    for rpc in payload["rpcs"]:
        _rpcFromJSON(rpc)
    for commandKey, method in payload["completedTransfers"]:
        str(commandKey), str(method)


def _rpcFromJSON(raw: dict) -> m.Message:
    kind = raw["kind"]
    if kind == "TransferComplete":
        return m.TransferComplete(_resultFromJSON(raw["result"]))
    if kind == "AutonomousTransferComplete":
        return m.AutonomousTransferComplete(_autonomousFromJSON(raw["result"]))
    if kind == "RequestDownload":
        return m.RequestDownload(str(raw["fileType"]), tuple((str(a), str(b)) for a, b in raw["args"]))
    raise ValueError(f"unknown queued RPC {kind!r}")


# The ACS's methods, one tuple for the endpoints told the same (issue 19).
_methodLists: InternTable[tuple[str, ...]] = InternTable()
# and the (URL, methods) pairs of every ACS an endpoint remembers: a fleet's are the same
_acsMethodTables: InternTable[tuple[tuple[str, tuple[str, ...]], ...]] = InternTable()


def _shareACSMethods(entries: Sequence[Sequence]) -> Sequence[Sequence]:
    """C{entries} ((URL, methods) pairs) as the tuple every endpoint told the same holds; unshared when malformed."""
    try:
        return _acsMethodTables(tuple((internText(url), _methodLists(tuple(methods))) for url, methods in entries))
    except (TypeError, ValueError):  # a document edited by hand: kept as it is, as before
        return entries

# The Inform event each queued RPC goes with (TR-069 Table 7).
_RPC_EVENTS = {
    "TransferComplete": "7 TRANSFER COMPLETE",
    "AutonomousTransferComplete": "10 AUTONOMOUS TRANSFER COMPLETE",
    "RequestDownload": "9 REQUEST DOWNLOAD",
}


class EndpointState:
    """
    The durable CWMP state of one endpoint (see the module docstring). Every
    mutating method saves before it returns.

    Its lists hold the empty tuple rather than a list of their own while
    they are empty, as most are for most endpoints (issue 19: one state per
    device): an empty one may be a tuple, one with entries is a list (the
    ACS's methods: a tuple of pairs, the method names shared).

    @ivar dropped: what the last call had to drop to stay within its caps, for
        the caller to log (texts).
    """

    # slots, and the document's fields as attributes rather than a dict: one per endpoint, so per device (issue 19)
    __slots__ = ("_document", "_saver", "dropped", "_seq", "_bootstrappedURL", "_acsMethods", "_retryCount",
                 "_events", "_valueChanges", "_rpcs", "_rebootCommandKey", "_afterSession", "_scheduledInforms",
                 "_transfers", "_completedTransfers")

    def __init__(self, document: Document, clock: Any = None) -> None:
        """
        @param clock: schedules the next attempt after a failed save (None:
            the next change saves again).
        """
        self._document = document
        data = document.load(default=None, validate=_validate) or _empty()
        self._seq: int = data["seq"]
        bootstrappedURL = data["bootstrappedURL"]
        # the URL of the fleet's ACS: one string for every endpoint (issue 19)
        self._bootstrappedURL: Optional[str] = (internText(bootstrappedURL) if isinstance(bootstrappedURL, str)
                                                else bootstrappedURL)
        self._acsMethods: Sequence[Sequence] = _shareACSMethods(data["acsMethods"] or ())
        self._retryCount: int = data["retryCount"]
        self._events: Sequence[dict] = data["events"] or ()
        self._valueChanges: Sequence[list] = data["valueChanges"] or ()
        self._rpcs: Sequence[dict] = data["rpcs"] or ()
        self._rebootCommandKey: Optional[str] = data["rebootCommandKey"]
        self._afterSession: Sequence[list] = data["afterSession"] or ()
        self._scheduledInforms: Sequence[dict] = data["scheduledInforms"] or ()
        self._transfers: Sequence[dict] = data["transfers"] or ()
        self._completedTransfers: Sequence[list] = data["completedTransfers"] or ()
        self._saver = Retrier(document, self._payload, clock, coalesce=True)
        self.dropped: tuple[str, ...] = ()

    @property
    def durable(self) -> bool:
        """Whether what is in memory is on disk (False after a failed save, until one succeeds)."""
        return not self._saver.pending

    def stop(self) -> None:
        """No more attempts to save (the endpoint is going away)."""
        self._saver.stop()

    def _payload(self) -> dict:
        """The document (see L{_empty})."""
        return {
            "format": _FORMAT,
            "seq": self._seq,
            "bootstrappedURL": self._bootstrappedURL,
            "acsMethods": self._acsMethods,
            "retryCount": self._retryCount,
            "events": self._events,
            "valueChanges": self._valueChanges,
            "rpcs": self._rpcs,
            "rebootCommandKey": self._rebootCommandKey,
            "afterSession": self._afterSession,
            "scheduledInforms": self._scheduledInforms,
            "transfers": self._transfers,
            "completedTransfers": self._completedTransfers,
        }

    def _save(self) -> None:
        self._saver.save()

    def _id(self) -> int:
        self._seq += 1
        return self._seq

    # -- events --------------------------------------------------------------

    def queueEvent(self, code: str, commandKey: str = "") -> None:
        """
        Queue an Inform event (one of each single event; "M ..." events once
        per CommandKey); saved when that changed anything (a BOOTSTRAP still
        waiting is asked for again at every attempt).
        """
        self.dropped = ()
        if self._addEvent(code, commandKey):
            self._save()

    def queueEvents(self, events: Iterable[tuple[str, str]]) -> None:
        """Queue several events in one save."""
        self.dropped = ()
        for code, commandKey in events:
            self._addEvent(code, commandKey)
        self._save()

    def _addEvent(self, code: str, commandKey: str) -> bool:
        """Whether the events changed."""
        events = self._events = self._events or []
        for event in events:
            if event["code"] == code and (code in SINGLE_EVENTS or event["commandKey"] == commandKey):
                if event["commandKey"] == commandKey:
                    return False
                event["commandKey"] = commandKey
                return True
        events.append({"id": self._id(), "code": code, "commandKey": commandKey})
        while len(events) > MAX_QUEUED_EVENTS:
            # the oldest "M ..." event goes first; single events are few
            victim = next((e for e in events if e["code"].startswith("M ")), events[0])
            events.remove(victim)
            self.dropped += (f"event {victim['code']} {victim['commandKey']!r}",)
        return True

    def events(self) -> list[m.EventStruct]:
        """The events waiting (queued ones, then those of queued RPCs), as an Inform would carry them."""
        return list(self.informContent().events)

    def addValueChanges(self, values: Sequence[ParameterValue]) -> None:
        """Remember the new values of changed parameters (they bring "4 VALUE CHANGE")."""
        self.dropped = ()
        changes = self._valueChanges = self._valueChanges or []
        index = {c[0]: c for c in changes}
        for value in values:
            if value.name in index:
                index[value.name][1:] = [value.value, value.type]
            else:
                entry = [value.name, value.value, value.type]
                changes.append(entry)
                index[value.name] = entry
        while len(changes) > MAX_VALUE_CHANGES:
            self.dropped += (f"value change of {changes.pop(0)[0]}",)
        self._save()

    def valueChanges(self) -> list[ParameterValue]:
        return [ParameterValue(n, v, t) for n, v, t in self._valueChanges]

    # -- queued RPCs -----------------------------------------------------------

    def _queueRPC(self, entry: dict) -> None:
        self.dropped = ()
        entry.update(id=self._id(), faults=0)
        rpcs = self._rpcs = [*self._rpcs, entry]
        sameKind = [r for r in rpcs if r["kind"] == entry["kind"]]
        if len(sameKind) > MAX_QUEUED_RPCS:
            rpcs.remove(sameKind[0])
            self.dropped += (f"{sameKind[0]['kind']} {sameKind[0].get('result', {}).get('commandKey', '')!r}",)
        self._save()

    def addTransferComplete(self, result: TransferResult) -> bool:
        """
        Queue a TransferComplete (with "7 TRANSFER COMPLETE" and its "M
        <method>" event), once per transfer: the same (CommandKey, method)
        again, queued or taken before (within the last
        L{MAX_COMPLETED_TRANSFERS}), is a repeat and changes nothing, unless
        a transfer of that key is in progress (L{transferStarted}). A
        CommandKey longer than CWMP allows (32) is cut (and reported in
        C{dropped}): the ACS gave at most 32 characters.

        @return: whether it was queued (C{False}: a repeat, dropped).
        """
        self.dropped = ()
        cut = len(result.commandKey) > 32
        if cut:
            result = replace(result, commandKey=result.commandKey[:32])
        key = [result.commandKey, result.method]
        started = next((t for t in self._transfers if [t["commandKey"], t["method"]] == key), None)
        if started is None and (key in self._completedTransfers or any(
                r["kind"] == "TransferComplete" and [r["result"]["commandKey"], r["result"]["method"]] == key
                for r in self._rpcs)):
            return False
        if started is not None:
            self._transfers = [t for t in self._transfers if t is not started]
        completed = [k for k in self._completedTransfers if k != key] + [key]
        self._completedTransfers = completed[-MAX_COMPLETED_TRANSFERS:]
        self._queueRPC({"kind": "TransferComplete", "result": _resultToJSON(result)})
        if cut:
            self.dropped += ("the end of an over-long CommandKey",)
        return True

    def addAutonomousTransferComplete(self, result: AutonomousTransferResult) -> None:
        self._queueRPC({"kind": "AutonomousTransferComplete", "result": _autonomousToJSON(result)})

    def addRequestDownload(self, fileType: str, args: Sequence[tuple[str, str]] = ()) -> None:
        self._queueRPC({"kind": "RequestDownload", "fileType": fileType, "args": [list(a) for a in args]})

    def queuedRPCs(self) -> list[tuple[int, m.Message]]:
        """The RPCs the CPE still has to send, oldest first, with their handles."""
        return [(r["id"], _rpcFromJSON(r)) for r in self._rpcs]

    def rpcDelivered(self, rpcId: int) -> None:
        """The ACS acknowledged the RPC: it (and its event) are done."""
        self._rpcs = [r for r in self._rpcs if r["id"] != rpcId]
        self._save()

    def rpcDropped(self, rpcId: int) -> None:
        """The RPC can never be delivered (the ACS does not support it)."""
        self.rpcDelivered(rpcId)

    def rpcFaulted(self, rpcId: int, limit: int) -> bool:
        """
        Count a fault for the RPC; at C{limit} faults it is dropped.

        @return: whether it was dropped.
        """
        for rpc in self._rpcs:
            if rpc["id"] == rpcId:
                rpc["faults"] += 1
                if rpc["faults"] >= limit:
                    self._rpcs = [r for r in self._rpcs if r is not rpc]
                    self._save()
                    return True
                self._save()
        return False

    def dropRPCs(self, kind: str) -> list[m.Message]:
        """Drop every queued RPC of a kind (the ACS does not support it); return them for the log."""
        dropped = [r for r in self._rpcs if r["kind"] == kind]
        if dropped:
            self._rpcs = [r for r in self._rpcs if r["kind"] != kind]
            self._save()
        return [_rpcFromJSON(r) for r in dropped]

    # -- Informs ---------------------------------------------------------------

    def informContent(self, withheld: frozenset[str] = frozenset()) -> InformContent:
        """
        The events and value changes the next Inform carries. The events of
        queued RPCs of the kinds in C{withheld} are left out: their RPCs wait
        for a later session (see L{withheldKinds}).
        """
        events: list[m.EventStruct] = []
        ids = set()
        for event in self._events[:MAX_QUEUED_EVENTS]:
            events.append(m.EventStruct(event["code"], event["commandKey"]))
            ids.add(event["id"])
        seen = {e.code for e in events}
        if self._valueChanges and "4 VALUE CHANGE" not in seen:
            # "4 VALUE CHANGE" lasts as long as changed values wait.
            events.append(m.EventStruct("4 VALUE CHANGE", ""))
            seen.add("4 VALUE CHANGE")
        for rpc in self._rpcs:
            if rpc["kind"] in withheld:
                continue
            code = _RPC_EVENTS[rpc["kind"]]
            if code not in seen:
                events.append(m.EventStruct(code, ""))
                seen.add(code)
            if rpc["kind"] == "TransferComplete":
                method = rpc["result"]["method"]
                if method:
                    marker = m.EventStruct(f"M {method}", rpc["result"]["commandKey"])
                    if marker not in events:
                        events.append(marker)
        # at most 44 queued + "4 VALUE CHANGE" + 3 RPC events + 16 "M <method>" = MAX_EVENTS
        return InformContent(tuple(events), tuple(self.valueChanges()), frozenset(ids))

    def informAcknowledged(self, content: InformContent, url: str) -> None:
        """
        The ACS acknowledged an Inform with C{content}: its events are
        delivered (a BOOTSTRAP, for C{url}), and so are its value changes
        unless the value changed again since.
        """
        self._events = [e for e in self._events if e["id"] not in content.eventIds] or ()
        delivered = {(v.name, v.value, v.type) for v in content.valueChanges}
        self._valueChanges = [c for c in self._valueChanges if tuple(c) not in delivered] or ()
        if any(e.code == "0 BOOTSTRAP" for e in content.events):
            self._bootstrappedURL = internText(url)
        self._save()

    def informFailed(self, content: InformContent) -> None:
        """The Inform was not acknowledged: its "6 CONNECTION REQUEST" is dropped, never retried."""
        before = len(self._events)
        self._events = [e for e in self._events
                        if not (e["id"] in content.eventIds and e["code"] == "6 CONNECTION REQUEST")] or ()
        if len(self._events) != before:
            self._save()

    def withheldKinds(self, url: str) -> frozenset[str]:
        """
        The queued RPCs an Inform to C{url} must not announce yet: while the
        ACS has not said what it supports, an AutonomousTransferComplete or
        a RequestDownload (which an ACS need not support) is announced only
        in a session after its GetRPCMethods — never an event whose RPC
        would then be dropped.
        """
        if self.acsMethods(url) is not None:
            return frozenset()
        return frozenset(r["kind"] for r in self._rpcs if r["kind"] not in m.ACS_REQUIRED_METHODS)

    def hasPending(self) -> bool:
        """Whether anything waits to be delivered."""
        content = self.informContent()
        return bool(content.events)

    # -- the ACS ---------------------------------------------------------------

    @property
    def bootstrappedURL(self) -> Optional[str]:
        return self._bootstrappedURL

    def acsMethods(self, url: str) -> Optional[frozenset[str]]:
        """What the ACS at C{url} said it supports, or C{None} when it was never asked."""
        for known, methods in self._acsMethods:
            if known == url:
                return frozenset(methods)
        return None

    def setACSMethods(self, url: str, methods: Iterable[str]) -> None:
        entries = [e for e in self._acsMethods if e[0] != url]
        # shared: every device of the ACS is told the same names
        entries.insert(0, (internText(url), _methodLists(tuple(sorted({internText(m) for m in methods})))))
        self._acsMethods = _shareACSMethods(tuple(entries[:MAX_REMEMBERED_ACS]))
        self._save()

    @property
    def retryCount(self) -> int:
        return self._retryCount

    def setRetryCount(self, count: int) -> None:
        if count != self._retryCount:
            self._retryCount = count
            self._save()

    # -- after the session, and later ------------------------------------------

    @property
    def rebootCommandKey(self) -> Optional[str]:
        """The CommandKey of a Reboot the ACS asked for, until the device is back."""
        return self._rebootCommandKey

    def rebootRequested(self, commandKey: str) -> None:
        """A Reboot was accepted: remember its CommandKey and run it after the session."""
        self._rebootCommandKey = commandKey
        self._afterSession = [*self._afterSession, ["reboot", commandKey]]
        self._save()

    def booted(self) -> None:
        """The device booted: "1 BOOT", and "M Reboot" when the ACS had asked for it."""
        self.dropped = ()
        self._addEvent("1 BOOT", "")
        if self._rebootCommandKey is not None:
            self._addEvent("M Reboot", self._rebootCommandKey)
            self._rebootCommandKey = None
        self._save()

    def rebootAbandoned(self) -> None:
        """The device refused to reboot: no "M Reboot" will ever come."""
        self._rebootCommandKey = None
        self._save()

    def factoryResetRequested(self) -> None:
        self._afterSession = [*self._afterSession, ["factoryReset"]]
        self._save()

    def afterSession(self) -> list[list[str]]:
        """The actions due now that the session ended (Reboot, FactoryReset), in order."""
        return [list(a) for a in self._afterSession]

    def afterSessionDone(self, count: int) -> None:
        self._afterSession = self._afterSession[count:]
        self._save()

    def scheduleInform(self, at: float, commandKey: str) -> None:
        self.dropped = ()
        scheduled = self._scheduledInforms = [*self._scheduledInforms, {"at": at, "commandKey": commandKey}]
        scheduled.sort(key=lambda s: s["at"])
        while len(scheduled) > MAX_SCHEDULED_INFORMS:
            victim = scheduled.pop()
            self.dropped += (f"ScheduleInform {victim['commandKey']!r}",)
        self._save()

    def scheduledInforms(self) -> list[tuple[float, str]]:
        return [(s["at"], s["commandKey"]) for s in self._scheduledInforms]

    def scheduledInformDue(self, now: float) -> list[str]:
        """Move every ScheduleInform due at C{now} into the events; return their CommandKeys."""
        due = [s for s in self._scheduledInforms if s["at"] <= now]
        if not due:
            return []
        self._scheduledInforms = [s for s in self._scheduledInforms if s["at"] > now]
        self._addEvent("3 SCHEDULED", "")
        for s in due:
            self._addEvent("M ScheduleInform", s["commandKey"])
        self._save()
        return [s["commandKey"] for s in due]

    def transferStarted(self, method: str, commandKey: str, fileType: str, fileSize: int, targetFileName: str,
                        startAt: float) -> None:
        """A Download/Upload goes on after its response (Status 1)."""
        started = {"method": method, "commandKey": commandKey, "fileType": fileType, "fileSize": fileSize,
                   "targetFileName": targetFileName, "startAt": startAt}
        self._transfers = [*self._transfers, started][-MAX_QUEUED_RPCS:]
        self._save()

    def transfers(self) -> list[dict]:
        return [dict(t) for t in self._transfers]
