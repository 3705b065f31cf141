# -*- test-case-name: tests.test_upnpdm_logs -*-
"""
TR-330 §4.4: the device's BasicManagement logs as the Virtual CWMP Device's
C{Device.DeviceInfo.VendorLogFile.{i}.}, and the ACS's Upload of one.

§4.4.1: the table is made from GetLogURIs and GetLogInfo, and refreshed
before a GetParameterNames/Values/Attributes that touches it — "since BMS
allows logs to be added and removed at run time" — within a budget: what
cannot be learnt in time is answered from what is known (never a fault,
never a hung session). Each LogURI keeps its instance number for good
(also across restarts, and when it comes back after it was gone).

 - C{Name}: a name the proxier allocates, unique across current and future
   logs: C{/upnp-dm/log/<instance>/<the LogURI's last part>} (at most 64).
 - C{MaximumSize}: GetLogInfo's C{MaxSize}.
 - C{Persistent}: false until observed (§4.4.1: "observe if the log content
   is purged after the device rebooted"): the last line of each log read is
   remembered (a digest) with the device's BOOTID; the first read after a
   reboot says whether it survived — at the next upload, or at once after
   the reboot when that is still unknown.
 - C{Alias}: C{cpe-<i>} until the ACS writes it, once (TR-181
   writeOnceReadOnly); kept per LogURI.
 - C{Device.DeviceInfo.VendorLogFileNumberOfEntries} lives in the device's
   own C{DeviceInfo} object, so it is added to the CMS model as a
   proxier-held value (L{CountSource}).

§4.4.2: an Upload with FileType "4 Vendor Log File <i>" is checked (9011 up
front: another FileType, an instance that is not there, a URL that is not
http/https), accepted with Status 1 and queued (L{proxier.proxy.transfers});
once the session is over, GetLogInfo gives the log's URL, the log is read
from the device (L{proxier.upnpdm.httpfiles}) and sent to the ACS's URL;
then "7 TRANSFER COMPLETE", "M Upload" and the TransferComplete — 9011 when
the device side failed, 9011/9012 when the file server did.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Callable, Optional, Sequence

from twisted.internet.defer import CancelledError, Deferred, inlineCallbacks, succeed
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from zope.interface import implementer

from proxier.asciinum import isUnsigned, parseUnsigned
from proxier.datamodel import paths
from proxier.datamodel.declarations import Object, Parameter, Table
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import Boolean, String, UnsignedInt
from proxier.datamodel.values import ParameterValue, TransferRequest
from proxier.proxy.heldmodel import HeldModel
from proxier.proxy.transfers import ITransferHandler
from proxier.store import Document, Retrier, Store
from proxier.upnp.soap import UPnPError
from proxier.upnpdm.errors import describeError
from proxier.upnpdm.httpfiles import TransferFailed, Uploader, checkUploadURL

__all__ = [
    "LogsService",
    "CountSource",
    "TABLE",
    "COUNT",
    "MAX_LOGS",
    "REFRESH_TTL",
    "REFRESH_BUDGET",
    "UPLOAD_ATTEMPTS",
    "parseLogURIs",
    "logName",
    "instanceOf",
]

TABLE = "Device.DeviceInfo.VendorLogFile."
COUNT = "Device.DeviceInfo.VendorLogFileNumberOfEntries"
#: Logs shown at most (a device listing more is shown its first ones).
MAX_LOGS = 32
#: The longest LogURI taken.
MAX_URI = 1024
#: Seconds a refresh is taken as current (one session's GPN and GPV share it).
REFRESH_TTL = 5.0
#: Seconds a read waits for a refresh before answering from what is known.
REFRESH_BUDGET = 5.0
#: Times the device is asked for a log's URL when it does not answer.
UPLOAD_ATTEMPTS = 3
UPLOAD_RETRY = 10.0
#: Seconds an Upload under way waits for a device that went away.
OFFLINE_WAIT = 600.0
#: The bytes of a log's tail remembered (as a digest) to tell whether it survived a reboot.
TAIL_BYTES = 512

# TR-069 A.3.2.9 / TR-330 §4.4: "4 Vendor Log File <i>" names VendorLogFile.<i>.
_FILE_TYPE = re.compile(r"^4 Vendor Log File(?: ([1-9][0-9]{0,9}))?$")
_NAME_PART = re.compile(r"[^A-Za-z0-9._-]+")


def parseLogURIs(text: str) -> list[str]:
    """
    A BMS C{LogURIs} value: URIs separated by commas (a comma inside a URI
    escaped as C{\\,}, UPnP's CSV rule), empty items dropped, each at most
    L{MAX_URI} long, at most L{MAX_LOGS}.
    """
    items: list[str] = []
    current: list[str] = []
    escaped = False
    for char in str(text):
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    out: list[str] = []
    for item in items:
        item = item.strip()
        if item and len(item) <= MAX_URI and item.isprintable() and item not in out:
            out.append(item)
        if len(out) >= MAX_LOGS:
            break
    return out


def logName(instance: int, uri: str) -> str:
    """The Name the proxier gives a log (unique: its instance number is never reused)."""
    prefix = f"/upnp-dm/log/{instance}/"
    tail = _NAME_PART.sub("_", re.split(r"[/:]", uri.rstrip("/:"))[-1]).strip("_") or "log"
    return (prefix + tail)[:64]


def instanceOf(fileType: str, known: Sequence[int]) -> Optional[int]:
    """
    The VendorLogFile instance an Upload's FileType names, or None: C{"4
    Vendor Log File <i>"}, or C{"4 Vendor Log File"} alone when the device
    has exactly one log.
    """
    match = _FILE_TYPE.match(fileType)
    if match is None:
        return None
    if match.group(1) is None:
        return known[0] if len(known) == 1 else None
    number = int(match.group(1))
    return number if number in known else None


def _tail(data: bytes) -> Optional[str]:
    """A digest of the log's last complete line (None: no line yet)."""
    lines = [line for line in data[-(TAIL_BYTES * 4):].split(b"\n") if line.strip()]
    if not lines:
        return None
    return hashlib.sha256(lines[-1][-TAIL_BYTES:]).hexdigest()


def _holds(data: bytes, digest: str) -> bool:
    """Whether one of C{data}'s lines has the remembered digest."""
    return any(hashlib.sha256(line[-TAIL_BYTES:]).hexdigest() == digest for line in data.split(b"\n") if line.strip())


class CountSource:
    """C{VendorLogFileNumberOfEntries} as a proxier-held value of the device's CMS model."""

    #: What it holds (a read touching none of it neither refreshes it nor asks its values).
    names = (COUNT,)

    __slots__ = ("service",)  # one per device (issue 19)

    def __init__(self, service: "LogsService") -> None:
        self.service = service

    def values(self) -> dict[str, ParameterValue]:
        return {COUNT: ParameterValue(COUNT, str(len(self.service.tree.instances(TABLE))), "xsd:unsignedInt")}

    def refresh(self) -> Deferred:
        return self.service.refresh()


@implementer(ITransferHandler)
class LogsService:
    """
    The VendorLogFile table of one device and the Uploads of its logs.

    @param fetch: C{(url) → Deferred[bytes]} reading a log from the device
        (its own host only, bounded).
    @param uploader: the L{Uploader} to the ACS's file servers.
    """

    # slots: one per device, issue 19
    __slots__ = ("link", "clock", "log", "queue", "fetch", "uploader", "_document", "_saver", "logs", "order",
                 "tree", "model", "count", "_refreshing", "_waiters", "_fresh", "_observeAfterBoot", "_running")

    unreachable = (9011, "Upload failure (the device was not reachable to read its log)")

    def __init__(self, link: Any, document: Document, treeStore: Optional[Store], queue: Any,
                 fetch: Callable[[str], Deferred], uploader: Uploader) -> None:
        self.link = link
        self.clock = link.clock
        self.log = link.log
        self.queue = queue
        self.fetch = fetch
        self.uploader = uploader
        self._document = document
        self._saver: Optional[Retrier] = None  # made by the first save (issue 19: most devices' logs never change)
        stored = document.load(default={}, validate=_validate)
        self.logs: dict[str, dict] = {uri: dict(entry) for uri, entry in stored.get("logs", {}).items()}
        self.order: list[str] = [uri for uri in stored.get("order", []) if uri in self.logs]
        self.tree = TreeDataModel(_ROOT, treeStore, log=link.log)
        self._show()
        self.tree.startNotifications()
        self.model = HeldModel(self.tree, beforeRead=self._beforeRead, checkValues=self._checkValues,
                               afterSet=self._afterSet)
        self.count = CountSource(self)
        self._refreshing: Optional[Deferred] = None
        self._waiters: tuple[tuple[Deferred, Any], ...] = ()  # mostly none: the empty tuple is shared
        self._fresh = float("-inf")
        self._observeAfterBoot = False
        self._running: Optional[dict[int, Deferred]] = None  # a dict from the first Upload (issue 19)

    @property
    def mounts(self) -> list[tuple[str, Any]]:
        return [(TABLE, self.model)]

    def _payload(self) -> dict:
        return {"logs": self.logs, "order": self.order}

    def _save(self) -> None:
        if self._saver is None:
            self._saver = Retrier(self._document, self._payload, self.clock)
        self._saver.save()  # a failure is logged once by the store and tried again with the clock

    # -- the table ---------------------------------------------------------------------------

    def _show(self) -> None:
        """The tree's rows follow L{order}: one per log, numbered by LogURI for good."""
        present = set(self.tree.instances(TABLE))
        wanted: dict[int, str] = {}
        with self.tree.batch():  # the rows of one listing written once
            for uri in self.order:
                entry = self.logs[uri]
                number = entry.get("instance")
                if number is None or number not in present:
                    values = {"Alias": entry["alias"]} if entry.get("alias") else None
                    number = self.tree.addInstance(TABLE, key=uri, data=entry, values=values)
                    if entry.get("instance") != number:
                        entry["instance"] = number
                        entry["name"] = logName(number, uri)
                else:
                    self.tree.node(f"{TABLE}{number}.").data = entry
                wanted[number] = uri
            for number in present - set(wanted):
                self.tree.removeInstance(TABLE, number)

    def uriOf(self, instance: int) -> Optional[str]:
        for uri in self.order:
            if self.logs[uri].get("instance") == instance:
                return uri
        return None

    def refresh(self) -> Deferred:
        """
        Learn the device's logs again (unless done within L{REFRESH_TTL});
        fires when done, or after L{REFRESH_BUDGET} seconds with the refresh
        still going on. Never fails.
        """
        if self.clock.seconds() - self._fresh < REFRESH_TTL:
            return succeed(None)
        waiting: Deferred = Deferred()
        timer = self.clock.callLater(REFRESH_BUDGET, self._release, waiting)
        self._waiters += ((waiting, timer),)
        if self._refreshing is None:
            self._refreshing = self._refresh()
            self._refreshing.addBoth(self._refreshed)
        return waiting

    def _beforeRead(self, names: Sequence[str]) -> Deferred:
        return self.refresh()

    def _release(self, waiting: Deferred) -> None:
        """A read waited its budget: it is answered from what is known."""
        self._waiters = tuple((w, t) for w, t in self._waiters if w is not waiting)
        if not waiting.called:
            waiting.callback(None)

    def _refreshed(self, result: Any) -> None:
        self._refreshing = None
        if isinstance(result, Failure) and not result.check(CancelledError):
            self.log.failure("refreshing the log table failed", result)
        waiters, self._waiters = self._waiters, ()
        for waiting, timer in waiters:
            if timer.active():
                timer.cancel()
            if not waiting.called:
                waiting.callback(None)

    @inlineCallbacks
    def _refresh(self) -> Any:
        if not self.link.online:
            return
        try:
            answer = yield self.link.call("bms", "GetLogURIs")
        except Exception as e:
            self.log.info("GetLogURIs failed ({why}); the log table stays as it was", why=describeError(e))
            return
        uris = parseLogURIs(str(answer.get("LogURIs", "")))
        infos: dict[str, Optional[dict]] = {}
        for uri in uris:
            try:
                infos[uri] = yield self.link.call("bms", "GetLogInfo", {"LogURI": uri})
            except UPnPError as e:
                self.log.info("GetLogInfo of {uri} refused ({why}); not shown", uri=uri[:80], why=describeError(e))
            except Exception as e:
                infos[uri] = None  # no answer: what is known of it stays
                self.log.info("GetLogInfo of {uri} got no answer ({why})", uri=uri[:80], why=describeError(e))
        changed = [u for u in uris if u in infos] != self.order
        order = []
        for uri in uris:
            if uri not in infos:
                continue
            info = infos[uri]
            entry = self.logs.get(uri)
            if entry is None:
                if info is None:
                    continue
                entry = self.logs[uri] = {"alias": None, "aliasSet": False, "persistent": None, "tail": None,
                                          "tailBoot": None, "maxSize": 0, "instance": None, "name": ""}
                changed = True
            if info is not None:
                maxSize = _uint(info.get("MaxSize", ""))
                if entry["maxSize"] != maxSize:
                    entry["maxSize"] = maxSize
                    changed = True
            order.append(uri)
        self.order = order
        # forget what is known of logs gone for good, beyond a bound
        for uri in [u for u in self.logs if u not in order][: max(0, len(self.logs) - 4 * MAX_LOGS)]:
            del self.logs[uri]
        self._fresh = self.clock.seconds()
        if changed:
            self._show()
            self._save()
            self.tree.changed(TABLE)
            self.log.info("vendor logs: {logs}", logs=", ".join(self.order) or "none")

    def _checkValues(self, values: Sequence[ParameterValue]) -> None:
        """TR-181 VendorLogFile.{i}.Alias is writeOnceReadOnly: written once by the ACS, then read-only."""
        faults = []
        for value in values:
            number = _aliasInstance(value.name)
            if number is None:
                continue
            uri = self.uriOf(number)
            if uri is not None and self.logs[uri].get("aliasSet"):
                faults.append(SetParameterValuesFault(value.name, 9008, "Attempt to set a non-writable parameter "
                                                                        "(Alias was written once already)"))
        if faults:
            raise CWMPFault(9003, parameterFaults=faults)

    def _afterSet(self, values: Sequence[ParameterValue]) -> None:
        changed = False
        for value in values:
            number = _aliasInstance(value.name)
            uri = self.uriOf(number) if number is not None else None
            if uri is not None:
                self.logs[uri]["alias"] = self.tree.getLocal(value.name)
                self.logs[uri]["aliasSet"] = True
                changed = True
        if changed:
            self._save()

    # -- Persistent -------------------------------------------------------------------------

    def _observe(self, uri: str, data: bytes) -> None:
        """A log read: did it survive the reboot since it was last read? Remember its tail for the next time."""
        entry = self.logs.get(uri)
        if entry is None:
            return
        boot = self.link.bootId
        before = (entry.get("persistent"), entry.get("tail"))
        if entry.get("tail") and entry.get("tailBoot") is not None and boot is not None and entry["tailBoot"] != boot:
            entry["persistent"] = _holds(data, entry["tail"])
            self.log.info("log {uri} {what} the reboot: Persistent {value}", uri=uri[:80],
                          what="survived" if entry["persistent"] else "was purged by",
                          value="true" if entry["persistent"] else "false")
        entry["tail"] = _tail(data)
        entry["tailBoot"] = boot
        if (entry.get("persistent"), entry.get("tail")) != before:
            self._save()
            self.tree.changed(TABLE)

    def deviceReady(self, rebooted: bool) -> None:
        self._fresh = float("-inf")
        if rebooted:
            self._observeAfterBoot = True
        if self._observeAfterBoot and self.link.online:
            self._observeAfterBoot = False
            for uri in list(self.order):
                entry = self.logs[uri]
                if entry.get("persistent") is None and entry.get("tail"):
                    self._readToObserve(uri)

    def _readToObserve(self, uri: str) -> None:
        d = self.link.call("bms", "GetLogInfo", {"LogURI": uri})
        d.addCallback(lambda info: self.fetch(str(info.get("LogURL", ""))))
        d.addCallback(lambda data: self._observe(uri, data))
        d.addErrback(lambda f: self.log.info("reading log {uri} after the reboot failed ({why})", uri=uri[:80],
                                             why=describeError(f.value)))

    def bmsEvent(self, variables: Sequence[tuple[str, str]]) -> None:
        if any(name == "LogURIs" for name, _ in variables):
            self._fresh = float("-inf")

    # -- Upload --------------------------------------------------------------------------------

    @inlineCallbacks
    def upload(self, request: TransferRequest) -> Any:
        """
        The ACS's Upload (TR-330 §4.4.2 steps 1-2): checked (9011), accepted
        (None: Status 1) and queued.
        """
        yield self.refresh()
        instance = instanceOf(request.fileType, self.tree.instances(TABLE))
        if instance is None:
            raise CWMPFault(9011, f"Upload failure ({request.fileType[:64]!r} is not a vendor log file of this device)")
        uri = self.uriOf(instance)
        if uri is None:
            raise CWMPFault(9011, f"Upload failure (no VendorLogFile.{instance})")
        targets = self.uploader.targets  # a local file server is refused at once (9011)
        reason = checkUploadURL(request.url) or (targets.quickRefusal(request.url) if targets is not None else None)
        if reason is not None:
            raise CWMPFault(9011, f"Upload failure ({reason})")
        self.queue.add("upload", request, logURI=uri, instance=instance, attempts=0)
        return None

    def run(self, job: dict) -> None:
        """The queue's handler: carry one Upload out (fresh, or again after a restart)."""
        d = self._upload(job)
        if self._running is None:
            self._running = {}
        running = self._running
        running[job["id"]] = d
        d.addBoth(lambda r: (running.pop(job["id"], None), r)[1])
        d.addErrback(lambda f: None if f.check(CancelledError) else self._crashed(job, f))

    def _crashed(self, job: dict, failure: Failure) -> None:
        self.log.failure("the Upload failed", failure)
        self.queue.finish(job, 9011, "Upload failure (internal error)", job["data"].get("startTime"),
                          self.clock.seconds())

    @inlineCallbacks
    def _upload(self, job: dict) -> Any:
        data = job["data"]
        uri = data["logURI"]
        if data.get("startTime") is None:
            data["startTime"] = self.clock.seconds()
            self.queue.save()
        while True:
            try:
                info = yield self.link.call("bms", "GetLogInfo", {"LogURI": uri})
                break
            except UPnPError as e:
                self.queue.finish(job, 9011, f"Upload failure (the device refused GetLogInfo of its log: {describeError(e)})",
                                  data["startTime"], self.clock.seconds())
                return
            except CancelledError:
                raise
            except Exception as e:
                if self.link.online or data.get("attempts", 0) == 0:
                    data["attempts"] = data.get("attempts", 0) + 1
                else:
                    data["offline"] = data.get("offline", 0) + 1  # the device is away: waited for, bounded
                self.queue.save()
                if data["attempts"] >= UPLOAD_ATTEMPTS or data.get("offline", 0) * UPLOAD_RETRY > OFFLINE_WAIT:
                    self.queue.finish(job, 9011, f"Upload failure (the device did not answer: {describeError(e)})",
                                      data["startTime"], self.clock.seconds())
                    return
                self.log.info("GetLogInfo got no answer ({why}); the Upload tries again", why=describeError(e))
                yield deferLater(self.clock, UPLOAD_RETRY)
        url = str(info.get("LogURL", "")).strip()
        try:
            body = yield self.fetch(url)
        except CancelledError:
            raise
        except TransferFailed as e:
            self.queue.finish(job, 9011, f"Upload failure ({e.reason})", data["startTime"], self.clock.seconds())
            return
        except Exception as e:
            self.queue.finish(job, 9011, f"Upload failure (the log could not be read: {describeError(e)})",
                              data["startTime"], self.clock.seconds())
            return
        self._observe(uri, body)
        try:
            yield self.uploader.upload(job["url"], body, job["username"], job["password"])
        except TransferFailed as e:
            what = "Upload failure" if e.code == 9011 else "File transfer server authentication failure"
            self.queue.finish(job, e.code, f"{what} ({e.reason})", data["startTime"], self.clock.seconds())
            return
        self.log.info("log {uri} ({n} bytes) uploaded", uri=uri[:80], n=len(body))
        self.queue.finish(job, 0, "", data["startTime"], self.clock.seconds())

    def jobDeviceReady(self, job: dict, rebooted: bool, aliveTime: float) -> None:
        """An Upload's log was read before it runs on: the device coming back changes nothing."""

    def stop(self) -> None:
        if self._saver is not None:
            self._saver.stop()
        if self._running is not None:
            for d in list(self._running.values()):
                d.cancel()
            self._running.clear()
        if self._refreshing is not None:
            self._refreshing.cancel()
        for waiting, timer in self._waiters:
            if timer.active():
                timer.cancel()
        self._waiters = ()


def _root() -> Object:
    """Device.DeviceInfo.VendorLogFile.{i}. with TR-181 2.17's parameters (checked by tests.test_upnpdm_logs_tr181)."""
    return Object("Device", Object("DeviceInfo", Table(
        "VendorLogFile",
        Parameter("Name", String(64), get=lambda node: node.data.get("name", "")),
        Parameter("MaximumSize", UnsignedInt(), get=lambda node: node.data.get("maxSize", 0)),
        Parameter("Persistent", Boolean(), get=lambda node: bool(node.data.get("persistent"))),
        alias=True, numberOfEntries=None)))


#: One declaration for every device's table (issue 19): what a row holds is its node's C{data}.
_ROOT = _root()


def _aliasInstance(name: str) -> Optional[int]:
    if not name.startswith(TABLE) or not name.endswith(".Alias"):
        return None
    middle = name[len(TABLE):-len(".Alias")]
    return int(middle) if isUnsigned(middle, maxDigits=10) else None


def _uint(text: Any) -> int:
    """A ui4 from the device's text (ASCII digits); anything else is 0."""
    try:
        return parseUnsigned(str(text).strip(" \t\r\n"), 2**32 - 1)
    except ValueError:
        return 0


def _validate(payload: Any) -> None:
    if not isinstance(payload, dict) or not isinstance(payload.get("logs", {}), dict):
        raise ValueError("not a log table")
    for uri, entry in payload.get("logs", {}).items():
        if not isinstance(uri, str) or not isinstance(entry, dict):
            raise ValueError("bad log entry")
        int(entry["maxSize"])
        if entry.get("instance") is not None:
            int(entry["instance"])
        if entry.get("alias") is not None and paths.aliasError(str(entry["alias"])):
            raise ValueError("bad alias")
    if not isinstance(payload.get("order", []), list):
        raise ValueError("bad order")
