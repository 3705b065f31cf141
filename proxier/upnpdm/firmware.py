# -*- test-case-name: tests.test_upnpdm_firmware -*-
"""
TR-330 §4.7.1: the device's firmware through SoftwareManagement (DUID 0).

 - §4.7.1.1: the ACS's Download with FileType "1 Firmware Upgrade Image" is
   validated (L{checkDownload}: 9001, 9003, 9013 up front), answered with
   Status 1 and queued durably (L{proxier.proxy.transfers}); once its
   DelaySeconds passed and the session is over, SMS C{Update(DUID 0,
   NewDUURI = the URL, HandleDependencies 0)}; the OperationID is kept with
   the CommandKey. ScheduleDownload is not offered (the guideline's
   recommendation): the endpoint answers 9000 and does not list it.
 - §4.7.1.2: the end is seen in the C{OperationIDs} event (or by polling
   GetOperationIDs); GetOperationInfo gives the result, mapped by Table 3
   (L{UPDATE_ERRORS}, L{ERROR_DESCRIPTIONS}; AdditionalInfo is the
   FaultString); StartTime is when the OperationID was first seen in
   OperationIDs, CompleteTime when it was first seen gone. A device that
   rebooted to install (Figure 8, exception 2) forgets its OperationIDs:
   then the running version (GetDUInfo, else the SMS data model, else the
   Common Objects) is compared with the one before, and CompleteTime is the
   time of the ssdp:alive that brought it back.
 - §4.7.1.3: an Update another control point started (an OperationID the
   proxier did not ask for, whose GetOperationInfo is Action "Update" on
   TargetedIDs 0) is followed the same way and reported as an
   AutonomousTransferComplete (AnnounceURL "", TransferURL from GetDUInfo's
   DUURI or the data model, IsDownload, "1 Firmware Upgrade Image",
   FileSize from the data model or 0, TargetFileName ""); the endpoint
   applies the Virtual CWMP Device's AutonomousTransferCompletePolicy and
   drops it for an ACS without the RPC.

Every wait is bounded (C{[upnp] firmware_update_limit}, L{UPDATE_LIMIT<proxier.upnpdm.settings.UPDATE_LIMIT>} by
default); the autonomous updates followed are few (L{MAX_AUTONOMOUS}) and
kept durably with their StartTime.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping, Optional, Sequence
from urllib.parse import urlsplit

from twisted.internet.defer import CancelledError, Deferred, inlineCallbacks
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from zope.interface import implementer

from proxier.asciinum import isUnsigned
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import AutonomousTransferResult, TransferRequest
from proxier.proxy.transfers import ITransferHandler, faultText, timeOf
from proxier.store import Document, Retrier
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import cmsxml
from proxier.upnpdm.bmsdiagnostics import parseIDList
from proxier.upnpdm.errors import describeError
from proxier.upnpdm.settings import UPDATE_LIMIT

__all__ = [
    "FIRMWARE",
    "UPDATE_ERRORS",
    "ERROR_DESCRIPTIONS",
    "TABLE_3_DISK_FULL",
    "resultOf",
    "updateRefused",
    "checkDownload",
    "FirmwareService",
    "POLL_INTERVAL",
    "MAX_AUTONOMOUS",
]

FIRMWARE = "1 Firmware Upgrade Image"

_NOTHING: Mapping[Any, Any] = MappingProxyType({})  # an idle service's work and deadlines, shared (read-only)

# TR-330 Issue 1, §4.7.1.2, Table 3 "Error Case Mappings for Firmware Update
# Operation", the SMS::Update() rows: the UPnP error of Update → the
# TransferComplete FaultCode ("Use 9001 since 9003 is not supported by the
# RPC"), with the table's text.
UPDATE_ERRORS: Mapping[int, tuple[int, str]] = {
    701: (9001, "Invalid URI"),
    702: (9001, "HandleDependencies request not honored"),
    704: (9001, "Already in a transitory state"),
    705: (9001, "Invalid DUID"),
    710: (9001, "NewDUURI not supported"),
}

#: What Table 3 gives for Error_DiskFull: 9027 "System Resources Exceeded".
#: Kept as the outcome; the session that carries the TransferComplete sends
#: it as the ACS's negotiated namespace allows (proxier.cwmp.transferfaults):
#: 9027 itself in the cwmp-1-1 namespace (its schema allows 9014-9899), 9017
#: "Download failure: unable to complete download" in cwmp-1-2 — which CWMP
#: 1.2, 1.3 and 1.4 all use: cwmp-1-3.xsd and cwmp-1-4.xsd include
#: cwmp-1-2.xsd's TransferCompleteFaultStruct unchanged (0, 9001, 9002,
#: 9010-9012, 9014-9020, 9033-9899), so no 1.x version after 1.1 allows
#: 9027 — and 9010 "Download failure" in cwmp-1-0, which knows no specific
#: download failure (so 9015 and 9018 below go as 9010 there too).
TABLE_3_DISK_FULL = 9027

# TR-330 Table 3, the SMS::GetOperationInfo() rows: ErrorDescription → the
# TransferComplete FaultCode (0: success), as the table gives it (what is
# sent depends on the ACS's namespace: see TABLE_3_DISK_FULL). "Error Other"
# is the table's spelling of SMS:2's Error_Other; both are accepted
# (ERROR_ALIASES).
ERROR_DESCRIPTIONS: Mapping[str, int] = {
    "Error_None": 0,
    "Error_ConcurrentAccess": 9001,
    "Error_MissingDependency": 9001,
    "Error_Network": 9015,
    "Error_CorruptedFile": 9018,
    "Error_DiskFull": TABLE_3_DISK_FULL,
    "Error_Other": 9001,
}
ERROR_ALIASES: Mapping[str, str] = {"Error Other": "Error_Other"}
#: An ErrorDescription SMS:2 does not define is a failure like Error_Other.
UNKNOWN_ERROR_FAULT = 9001

#: Seconds between two GetOperationIDs while an update is followed (events may be lost).
POLL_INTERVAL = 60.0
#: Times Update (or the reading of the outcome) is asked when the device does not answer.
ATTEMPTS = 3
RETRY_DELAY = 30.0
#: Updates by other control points followed at once, at most.
MAX_AUTONOMOUS = 4
#: OperationIDs remembered as seen (when first seen) or as not being firmware updates.
MAX_REMEMBERED = 64
#: Seconds after which an autonomous update whose end was never seen is forgotten (the state stays bounded).
AUTONOMOUS_LIMIT = 86400.0


def resultOf(operationState: str, errorDescription: str, additionalInfo: str) -> tuple[int, str]:
    """
    The TransferComplete FaultCode and FaultString of a GetOperationInfo
    answer (Table 3): the ErrorDescription's code; the AdditionalInfo as
    FaultString when it failed (else the ErrorDescription itself).
    """
    description = ERROR_ALIASES.get(errorDescription.strip(), errorDescription.strip())
    code = ERROR_DESCRIPTIONS.get(description, UNKNOWN_ERROR_FAULT)
    if operationState.strip() == "Error" and code == 0:
        code = UNKNOWN_ERROR_FAULT  # Error with Error_None: a device that contradicts itself failed
    if code == 0:
        return 0, ""
    info = faultText(additionalInfo)
    return code, info or faultText(description or "Error_Other")


def updateRefused(code: int, description: str) -> tuple[int, str]:
    """The TransferComplete of an Update the device refused (Table 3; other UPnP errors: 9001, Table 2's note)."""
    fault, text = UPDATE_ERRORS.get(code, (9001, ""))
    detail = faultText(description, 120)
    what = f"{code} {text}" if text else str(code)
    return fault, faultText(f"SMS Update refused: {what}" + (f" ({detail})" if detail else ""))


def checkDownload(request: TransferRequest) -> None:
    """
    §4.7.1.1 step 1: validate the Download.

    @raise CWMPFault: 9001 for a FileType UPnP DM cannot take (only firmware,
        "Upload or Download of Configuration files is not supported") or
        credentials SMS Update cannot carry; 9013 for a URL scheme other
        than http/https; 9003 for a URL without host or with user
        information (TR-069 A.3.2.8 forbids it).
    """
    if request.fileType != FIRMWARE:
        raise CWMPFault(9001, f"Request denied (UPnP DM devices take {FIRMWARE!r} only, not "
                              f"{request.fileType[:64]!r})")
    try:
        parts = urlsplit(request.url)
        parts.port
    except ValueError:
        raise CWMPFault(9003, "Invalid arguments (the URL is not valid)") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise CWMPFault(9013, f"Unsupported protocol for file transfer ({parts.scheme or 'no scheme'}: http and "
                              "https only)")
    if not parts.hostname:
        raise CWMPFault(9003, "Invalid arguments (the URL names no host)")
    if parts.username or parts.password:
        raise CWMPFault(9003, "Invalid arguments (the URL must not hold user information)")
    if request.username or request.password:
        raise CWMPFault(9001, "Request denied (SMS Update cannot pass the file server's Username and Password "
                              "to the device)")


@implementer(ITransferHandler)
class FirmwareService:
    """
    Firmware updates of one device: the ACS's Downloads (a handler of the
    device's L{TransferQueue<proxier.proxy.transfers.TransferQueue>}) and
    the updates other control points start.

    A Download's steps (in its job's C{data["step"]}, durable):
     - C{"reading"}: the version before is read;
     - C{"updating"}: Update is in flight (after a restart: the device is
       asked whether it took it — an Update of DUID 0 the proxier does not
       know is taken as this one — else Update is sent again);
     - C{"operating"}: the OperationID is known; its leaving OperationIDs
       (event or poll), or the device's reboot, ends the wait;
     - C{"concluding"}: GetOperationInfo (or, when the device forgot the
       operation, the version compared) gives the outcome; then the queue
       reports it.

    An autonomous update's phases (in this service's own document):
    C{"running"} → C{"concluding"} → C{"reporting"} (told, then forgotten).
    """

    # slots: one per device, issue 19
    __slots__ = ("link", "updateLimit", "clock", "log", "queue", "common", "_document", "_saver", "autonomous",
                 "notFirmware", "firstSeen", "_examining", "_busy", "_deadlines", "_poll", "_stopped")

    wantsAliveTime = True
    unreachable = (9002, "Internal error (the device was not reachable to start the update)")

    def __init__(self, link: Any, queue: Any, document: Document, commonObjects: str, *,
                 updateLimit: float = UPDATE_LIMIT) -> None:
        self.link = link
        self.updateLimit = updateLimit
        self.clock = link.clock
        self.log = link.log
        self.queue = queue
        self.common = commonObjects
        self._document = document
        self._saver: Optional[Retrier] = None  # made by the first save (issue 19: most devices never update)
        stored = document.load(default=None, validate=_validate)
        self.autonomous: list[dict] = list(stored["autonomous"]) if stored else []
        self.notFirmware: list[int] = list(stored["notFirmware"]) if stored else []
        self.firstSeen: dict[int, float] = {}
        # a tuple (an ID or two, rebound): the empty tuple is one object for every device, a set costs 216 bytes
        self._examining: tuple[int, ...] = ()
        # the shared empty mapping until the first update (issue 19: two empty dicts a device)
        self._busy: Mapping[Any, Deferred] = _NOTHING
        self._deadlines: Mapping[int, Any] = _NOTHING
        self._poll: Any = None
        self._stopped = False

    def _payload(self) -> dict:
        return {"autonomous": self.autonomous, "notFirmware": self.notFirmware[-MAX_REMEMBERED:]}

    def _save(self) -> None:
        if self._saver is None:
            self._saver = Retrier(self._document, self._payload, self.clock)
        self._saver.save()  # a failure is logged once by the store and tried again with the clock

    # -- the ACS's Download -----------------------------------------------------------------------

    def download(self, request: TransferRequest) -> None:
        """§4.7.1.1 steps 1-2: validated, accepted (None: Status 1), queued."""
        checkDownload(request)
        self.queue.add("firmware", request, step="reading", operationId=None, startTime=None, versionBefore="",
                       uriBefore="", attempts=0, completeTime=None, acceptedAt=None)
        return None

    def _jobs(self, step: Optional[str] = None) -> list[dict]:
        return [j for j in self.queue.ofKind("firmware", "running") if step is None or j["data"].get("step") == step]

    def run(self, job: dict) -> None:
        """The queue's handler: start a Download, or resume it after a restart."""
        step = job["data"].get("step")
        self._armDeadline(job)
        if step == "reading":
            self._do(job, self._update(job))
        elif step == "updating":
            self._do(job, self._adoptOrUpdate(job))
        elif step == "operating":
            self._armPoll(now=True)
        elif step == "concluding":
            self._do(job, self._conclude(job, job["data"].get("completeTime") or self.clock.seconds()))

    def jobDeviceReady(self, job: dict, rebooted: bool, aliveTime: float) -> None:
        """The device is back while a Download runs: a reboot may have ended it (Figure 8, exception 2)."""
        step = job["data"].get("step")
        if rebooted and step in ("operating", "concluding"):
            self.log.info("the device rebooted during the firmware update: its outcome is read now")
            self._do(job, self._conclude(job, aliveTime, rebooted=True))
        elif step == "operating":
            self._armPoll(now=True)

    def _do(self, key: Any, work: Deferred) -> None:
        """Run C{work} for C{key} (a job or an autonomous entry), one at a time; failures logged, never lost."""
        if self._busy is _NOTHING:
            self._busy = {}
        self._busy[id(key)] = work  # type: ignore[index]

        def done(result: Any) -> None:
            if self._busy.get(id(key)) is work:
                del self._busy[id(key)]  # type: ignore[attr-defined]
            if isinstance(result, Failure) and not result.check(CancelledError):
                self.log.failure("the firmware update's follow-up failed", result)
                if key in self.queue.jobs and key.get("phase") == "running":
                    self._finish(key, 9002, "Internal error (the update could not be followed)",
                                      key["data"].get("startTime"), self.clock.seconds())

        work.addBoth(done)

    def _armDeadline(self, job: dict) -> None:
        if job["id"] in self._deadlines:
            return
        start = job["data"].get("acceptedAt") or self.clock.seconds()
        if job["data"].get("acceptedAt") is None:
            job["data"]["acceptedAt"] = start
            self.queue.save()
        delay = max(0.0, start + self.updateLimit - self.clock.seconds())
        if self._deadlines is _NOTHING:
            self._deadlines = {}
        self._deadlines[job["id"]] = self.clock.callLater(delay, self._expired, job)  # type: ignore[index]

    def _finish(self, job: dict, code: int, why: str, startTime: Optional[float],
                completeTime: Optional[float]) -> None:
        call = self._deadlines.get(job["id"])
        self._forgetDeadline(job)
        if call is not None and call.active():
            call.cancel()
        self.queue.finish(job, code, why, startTime, completeTime)

    def _forgetDeadline(self, job: dict) -> None:
        if job["id"] in self._deadlines:
            del self._deadlines[job["id"]]  # type: ignore[attr-defined]

    def _expired(self, job: dict) -> None:
        self._forgetDeadline(job)
        if job in self.queue.jobs and job["phase"] == "running":
            self._finish(job, 9002, f"Internal error (the device did not report the update's end within "
                                         f"{self.updateLimit:g} s)", job["data"].get("startTime"), self.clock.seconds())

    # -- the steps ------------------------------------------------------------------------------

    @inlineCallbacks
    def version(self) -> Any:
        """The running firmware's version and URI: GetDUInfo(0), else the SMS data model, else the Common Objects."""
        if self.link.has("sms", "GetDUInfo"):
            try:
                info = yield self.link.call("sms", "GetDUInfo", {"DUID": 0})
                return faultText(info.get("DUVersion", ""), 64), str(info.get("DUURI", "")).strip()[:1024]
            except UPnPError as e:
                self.log.info("GetDUInfo(0) refused ({why}); the data model is read instead", why=describeError(e))
        values = yield self._readModel(["Software/DU/0/Version", "Software/DU/0/URI", "DeviceInfo/SoftwareVersion"])
        version = values.get("Software/DU/0/Version") or values.get("DeviceInfo/SoftwareVersion", "")
        return faultText(version, 64), values.get("Software/DU/0/URI", "")[:1024]

    @inlineCallbacks
    def _readModel(self, relative: Sequence[str]) -> Any:
        """Values of the SMS data model / Common Objects (relative to their location); what fails is absent."""
        out: dict[str, str] = {}
        for path in relative:
            try:
                answer = yield self.link.call("cms", "GetValues",
                                              {"Parameters": cmsxml.contentPathList([self.common + path])})
                for name, value in cmsxml.parseParameterValueList(answer.get("ParameterValueList", "")):
                    if name == self.common + path:
                        out[path] = value
            except CancelledError:
                raise
            except Exception:
                continue  # refused, unusable or unanswered: absent
        return out

    @inlineCallbacks
    def _update(self, job: dict) -> Any:
        data = job["data"]
        data["step"] = "reading"
        try:
            data["versionBefore"], data["uriBefore"] = yield self.version()
        except UPnPError:
            pass
        except CancelledError:
            raise
        except Exception as e:
            self.log.info("the firmware version could not be read before the update ({why})", why=describeError(e))
        data["step"] = "updating"
        self.queue.save()
        yield self._sendUpdate(job)

    @inlineCallbacks
    def _sendUpdate(self, job: dict) -> Any:
        data = job["data"]
        while True:
            data["sentAt"] = self.clock.seconds()
            self.queue.save()
            try:
                answer = yield self.link.call("sms", "Update", {"DUID": 0, "NewDUURI": job["url"],
                                                                 "HandleDependencies": False})
                break
            except UPnPError as e:
                code, why = updateRefused(e.code, e.description)
                self._finish(job, code, why, data.get("startTime"), self.clock.seconds())
                return
            except CancelledError:
                raise
            except Exception as e:
                if self.link.online:
                    data["attempts"] += 1  # an outage of the device is bounded by the update limit instead
                self.queue.save()
                if data["attempts"] >= ATTEMPTS:
                    self._finish(job, 9002, f"Internal error (SMS Update got no answer: {describeError(e)})",
                                      data.get("startTime"), self.clock.seconds())
                    return
                self.log.info("SMS Update got no answer ({why}); asked again in {s:g} s", why=describeError(e),
                              s=RETRY_DELAY)
                yield deferLater(self.clock, RETRY_DELAY)
                taken = yield self._takenMeanwhile(job)
                if taken:
                    return
        ids = parseIDList(str(answer.get("OperationID", "")))
        if ids is None or len(ids) != 1:
            self.log.warn("SMS Update answered OperationID {id!r}, not an ID", id=str(answer.get("OperationID"))[:40])
            self._finish(job, 9002, "Internal error (the device's OperationID is unusable)",
                              data.get("startTime"), self.clock.seconds())
            return
        self._operating(job, ids.pop())

    def _operating(self, job: dict, operationId: int) -> None:
        data = job["data"]
        now = self.clock.seconds()
        data["operationId"] = operationId
        data["startTime"] = min(self.firstSeen.get(operationId, now), now)
        data["step"] = "operating"
        self.queue.save()
        self.autonomous = [a for a in self.autonomous if a["operationId"] != operationId]
        self._save()
        self.log.info("firmware update from {url} under way: OperationID {id} (CommandKey {key!r})",
                      url=job["url"][:120], id=operationId, key=job["commandKey"])
        self._armPoll(now=True)

    @inlineCallbacks
    def _adoptOrUpdate(self, job: dict) -> Any:
        """After a restart during Update: the operation the device started for it, if any; else Update again."""
        taken = yield self._takenMeanwhile(job)
        if not taken:
            yield self._sendUpdate(job)

    @inlineCallbacks
    def _takenMeanwhile(self, job: dict) -> Any:
        """Whether the device took this job's Update whose answer was lost: adopted, or installed already."""
        adopted = yield self._adopt(job)
        if adopted:
            return True
        installed = yield self._installedMeanwhile(job)
        return installed

    @inlineCallbacks
    def _installedMeanwhile(self, job: dict) -> Any:
        """
        Whether an Update whose answer was lost (the proxier restarted, or
        the device went away) was taken and installed by a reboot that made
        the device forget its OperationID: the version (or URI) differs from
        the one read before the Update. Then the job ends in success — the
        device is never asked to install the same image twice.
        """
        data = job["data"]
        before, uriBefore = data.get("versionBefore", ""), data.get("uriBefore", "")
        if not before and not uriBefore:
            return False
        try:
            version, uri = yield self.version()
        except CancelledError:
            raise
        except Exception:
            return False
        if not _installed(version, uri, before, uriBefore, job["url"]):
            return False
        self.log.info("firmware {old} → {new} while the Update's answer was lost: the device installed it "
                      "(and forgot the operation); not sent again", old=before or "?", new=version or "?")
        self._finish(job, 0, "", data.get("sentAt"), self.clock.seconds())
        return True

    @inlineCallbacks
    def _adopt(self, job: dict) -> Any:
        """
        Whether the device took this job's Update after all: an Update of
        DUID 0 nobody else is known to own, running now or seen appearing
        in OperationIDs since the Update was sent, is this job's.
        """
        sentAt = job["data"].get("sentAt")
        ids = {i for i, seen in self.firstSeen.items() if sentAt is not None and seen >= sentAt}
        if self.link.has("sms", "GetOperationIDs"):
            try:
                answer = yield self.link.call("sms", "GetOperationIDs")
            except CancelledError:
                raise
            except Exception:
                answer = {}
            ids |= parseIDList(str(answer.get("OperationIDs", ""))) or set()
        known = {a["operationId"] for a in self.autonomous} | {
            j["data"].get("operationId") for j in self.queue.ofKind("firmware")}
        for operationId in sorted(ids - known):
            try:
                info = yield self.link.call("sms", "GetOperationInfo", {"OperationID": operationId})
            except Exception:
                continue
            if _isFirmwareUpdate(info):
                self.log.info("the device's OperationID {id} is this Download's Update (sent before a restart or "
                              "a lost answer)", id=operationId)
                self._operating(job, operationId)
                return True
        return False

    @inlineCallbacks
    def _conclude(self, job: dict, completeTime: float, rebooted: bool = False) -> Any:
        """The operation left OperationIDs (or the device rebooted): its outcome, then the TransferComplete."""
        data = job["data"]
        if data.get("step") != "concluding":
            data["step"] = "concluding"
            data["completeTime"] = completeTime
            self.queue.save()
        outcome, _ = yield self._outcome(data["operationId"], data.get("versionBefore", ""),
                                         data.get("uriBefore", ""), job["url"])
        if outcome is None:
            if rebooted or not self.link.online:
                return  # the device is away: the next deviceReady (or the deadline) goes on
            data["step"] = "operating"
            self.queue.save()
            self._armPoll()
            return
        code, why = outcome
        self._finish(job, code, why, data.get("startTime"), data.get("completeTime", completeTime))

    @inlineCallbacks
    def _outcome(self, operationId: Optional[int], versionBefore: str, uriBefore: str,
                 url: Optional[str]) -> Any:
        """
        C{(outcome, running)}: the outcome C{(faultCode, faultString)} from
        GetOperationInfo, or from the version when the device forgot the
        operation (None: not over yet, or unknown for now); C{running}: the
        C{(version, URI)} read to decide it (None: not read).
        """
        if operationId is not None:
            try:
                info = yield self.link.call("sms", "GetOperationInfo", {"OperationID": operationId})
            except UPnPError as e:
                self.log.info("GetOperationInfo({id}) refused ({why}): the device forgot it; the version tells",
                              id=operationId, why=describeError(e))
            except CancelledError:
                raise
            except Exception as e:
                self.log.info("GetOperationInfo({id}) got no answer ({why})", id=operationId, why=describeError(e))
                return None, None
            else:
                if _isFirmwareUpdate(info):
                    state = str(info.get("OperationState", "")).strip()
                    if state in ("Requested", "InProgress"):
                        return None, None
                    return resultOf(state, str(info.get("ErrorDescription", "")),
                                    str(info.get("AdditionalInfo", ""))), None
                self.log.info("OperationID {id} now names another operation: the device forgot the update",
                              id=operationId)
        try:
            version, uri = yield self.version()
        except CancelledError:
            raise
        except Exception as e:
            self.log.info("the firmware version could not be read ({why})", why=describeError(e))
            return None, None
        if not version and not uri:
            return None, None
        if _installed(version, uri, versionBefore, uriBefore, url):
            self.log.info("firmware {old} → {new}: the update succeeded", old=versionBefore or "?", new=version or "?")
            return (0, ""), (version, uri)
        return (9010, faultText(f"File transfer failure (the device still runs {version or 'the same firmware'}: the "
                             "update did not take effect, or was rolled back)")), (version, uri)

    # -- OperationIDs ---------------------------------------------------------------------------

    def smsEvent(self, variables: Sequence[tuple[str, str]]) -> None:
        for name, value in variables:
            if name == "OperationIDs":
                ids = parseIDList(value)
                if ids is None:
                    self.log.warn("OperationIDs {value!r} is not an ID list; ignored", value=value[:60])
                    continue
                self.operationIDs(ids, self.clock.seconds())

    def operationIDs(self, ids: set[int], at: float) -> None:
        """The device's current OperationIDs (an event or GetOperationIDs), as seen at C{at}."""
        for operationId in ids:
            if operationId not in self.firstSeen:
                self.firstSeen[operationId] = at
        while len(self.firstSeen) > MAX_REMEMBERED:
            del self.firstSeen[next(iter(self.firstSeen))]
        for job in self._jobs("operating"):
            if job["data"]["operationId"] not in ids and id(job) not in self._busy:
                self._do(job, self._conclude(job, at))
        for entry in [a for a in self.autonomous if a["phase"] == "running"]:
            if entry["operationId"] not in ids and id(entry) not in self._busy:
                self._do(entry, self._concludeAutonomous(entry, at))
        if self._jobs("updating") or self._jobs("reading"):
            return  # an unknown ID may be the Update under way: examined at the next look
        ours = {j["data"].get("operationId") for j in self.queue.ofKind("firmware")}
        tracked = {a["operationId"] for a in self.autonomous}
        for operationId in sorted(ids - ours - tracked - set(self.notFirmware) - set(self._examining)):
            self._examine(operationId, at)
        self._armPoll()

    def _prune(self) -> None:
        """Forget autonomous updates whose end was not seen within AUTONOMOUS_LIMIT."""
        now = self.clock.seconds()
        stale = [a for a in self.autonomous if a["phase"] != "reporting" and now - a["startTime"] > AUTONOMOUS_LIMIT]
        for entry in stale:
            self.log.warn("the update by another control point (OperationID {id}) never ended as far as the proxier "
                          "saw; not reported", id=entry["operationId"])
            self.autonomous.remove(entry)
        if stale:
            self._save()

    def _armPoll(self, now: bool = False) -> None:
        """Poll GetOperationIDs while an update is followed (events may be lost)."""
        if self._stopped:
            return
        self._prune()
        following = self._jobs("operating") or any(a["phase"] == "running" for a in self.autonomous)
        if self._poll is not None and self._poll.active():
            if not now:
                return
            self._poll.cancel()
        self._poll = None
        if following or now:
            self._poll = self.clock.callLater(0 if now else POLL_INTERVAL, self._pollNow)

    def _pollNow(self) -> None:
        self._poll = None
        if self._stopped or not self.link.online:
            self._armPoll()
            return
        if self.link.has("sms", "GetOperationIDs"):
            d = self.link.call("sms", "GetOperationIDs")
            d.addCallback(lambda answer: self._polled(str(answer.get("OperationIDs", ""))))
        else:
            # no GetOperationIDs: ask about each operation followed
            d = self._pollEach()
        d.addErrback(lambda f: None if f.check(CancelledError) else self.log.info(
            "polling the firmware operations failed ({why})", why=describeError(f.value)))
        d.addBoth(lambda _: self._armPoll())

    def _polled(self, value: str) -> None:
        ids = parseIDList(value)
        if ids is None:
            self.log.warn("GetOperationIDs answered {value!r}, not an ID list", value=value[:60])
            return
        self.operationIDs(ids, self.clock.seconds())

    @inlineCallbacks
    def _pollEach(self) -> Any:
        active = set()
        followed = [j["data"]["operationId"] for j in self._jobs("operating")] + [
            a["operationId"] for a in self.autonomous if a["phase"] == "running"]
        for operationId in followed:
            try:
                info = yield self.link.call("sms", "GetOperationInfo", {"OperationID": operationId})
            except UPnPError:
                continue
            if str(info.get("OperationState", "")).strip() in ("Requested", "InProgress"):
                active.add(operationId)
        self.operationIDs(active, self.clock.seconds())

    # -- updates by other control points (§4.7.1.3) --------------------------------------------

    def _examine(self, operationId: int, at: float) -> None:
        self._examining += (operationId,)
        d = self.link.call("sms", "GetOperationInfo", {"OperationID": operationId})

        @inlineCallbacks
        def answered(info: Mapping[str, str]) -> Any:
            if not _isFirmwareUpdate(info):
                self.notFirmware.append(operationId)
                self._save()
                return
            if any(a["operationId"] == operationId for a in self.autonomous):
                return
            if len(self.autonomous) >= MAX_AUTONOMOUS:
                self.log.warn("already following {n} updates by other control points; OperationID {id} is not "
                              "followed", n=len(self.autonomous), id=operationId)
                return
            try:
                versionBefore, uriBefore = yield self.version()
            except Exception:
                versionBefore, uriBefore = "", ""
            entry = {"operationId": operationId, "startTime": self.firstSeen.get(operationId, at),
                     "versionBefore": versionBefore, "uriBefore": uriBefore, "phase": "running",
                     "completeTime": None, "result": None}
            self.autonomous.append(entry)
            self._save()
            self.log.info("another control point updates the firmware: OperationID {id} followed", id=operationId)
            state = str(info.get("OperationState", "")).strip()
            if state not in ("Requested", "InProgress"):
                self._do(entry, self._concludeAutonomous(entry, self.clock.seconds()))
            self._armPoll()

        d.addCallback(answered)
        d.addErrback(lambda f: None if f.check(CancelledError) else self.log.info(
            "GetOperationInfo({id}) failed ({why})", id=operationId, why=describeError(f.value)))
        d.addBoth(lambda _: self._notExamining(operationId))

    def _notExamining(self, operationId: int) -> None:
        self._examining = tuple(i for i in self._examining if i != operationId)

    @inlineCallbacks
    def _concludeAutonomous(self, entry: dict, completeTime: float, rebooted: bool = False) -> Any:
        if entry["phase"] == "running":
            entry["phase"] = "concluding"
            entry["completeTime"] = completeTime
            self._save()
        outcome, running = yield self._outcome(entry["operationId"], entry["versionBefore"], entry["uriBefore"],
                                               None)
        if outcome is None:
            if rebooted or not self.link.online:
                return
            entry["phase"] = "running"
            self._save()
            self._armPoll()
            return
        code, why = outcome
        uri = ""
        if running is not None:
            uri = running[1]  # read just now to decide the outcome
        else:
            try:
                _, uri = yield self.version()
            except Exception:
                pass
        size = 0
        values = yield self._readModel(["Software/DU/0/Size"])
        text = values.get("Software/DU/0/Size", "").strip(" \t\r\n")
        if isUnsigned(text, maxDigits=len(text)):  # '²' passed isdigit() and raised ValueError from int()
            size = min(int(text), 2**32 - 1) if len(text) <= 10 else 2**32 - 1
        entry["phase"] = "reporting"
        entry["result"] = {"transferURL": uri if len(uri) <= 1024 else "", "fileSize": size, "faultCode": code,
                           "faultString": why}
        self._save()
        self.log.info("the firmware update by another control point ended: {what}",
                      what="success" if not code else f"{code} {why}")
        self._reportAutonomous(entry)

    def _reportAutonomous(self, entry: dict) -> None:
        if not self.link.observers():
            return  # told once the endpoint observes
        r = entry["result"]
        result = AutonomousTransferResult(
            announceURL="", transferURL=r["transferURL"], isDownload=True, fileType=FIRMWARE,
            fileSize=r["fileSize"], targetFileName="", faultCode=r["faultCode"], faultString=r["faultString"],
            startTime=timeOf(entry["startTime"]), completeTime=timeOf(entry["completeTime"]))
        self.link.autonomousTransferComplete(result)
        self.autonomous.remove(entry)
        self._save()

    # -- the device --------------------------------------------------------------------------------

    def deviceReady(self, rebooted: bool, aliveTime: Optional[float] = None) -> None:
        at = aliveTime if aliveTime is not None else self.clock.seconds()
        for entry in list(self.autonomous):
            if entry["phase"] == "concluding" or (rebooted and entry["phase"] == "running"):
                if id(entry) not in self._busy:
                    self._do(entry, self._concludeAutonomous(entry, at if rebooted else entry.get("completeTime")
                                                             or at, rebooted=rebooted))
        self._armPoll(now=True)

    def observed(self) -> None:
        for entry in [a for a in self.autonomous if a["phase"] == "reporting"]:
            self._reportAutonomous(entry)

    def serviceMayBeStale(self) -> None:
        self._armPoll(now=True)

    def stop(self) -> None:
        self._stopped = True
        if self._saver is not None:
            self._saver.stop()
        if self._poll is not None and self._poll.active():
            self._poll.cancel()
        self._poll = None
        for call in self._deadlines.values():
            if call.active():
                call.cancel()
        self._deadlines = _NOTHING
        for work in list(self._busy.values()):
            work.cancel()
        self._busy = _NOTHING


def _isFirmwareUpdate(info: Mapping[str, str]) -> bool:
    """§4.7.1.3 step 2: Action "Update" and the first of TargetedIDs is 0."""
    targets = [t.strip() for t in str(info.get("TargetedIDs", "")).split(",")]
    return str(info.get("Action", "")).strip() == "Update" and targets[0] == "0"


def _installed(version: str, uri: str, versionBefore: str, uriBefore: str, url: Optional[str]) -> bool:
    """Whether the running firmware is not the one before the update: another version, or the update's URI."""
    return bool((version and versionBefore and version != versionBefore) or (url and uri == url and uriBefore != url))


def _validate(payload: Any) -> None:
    if not isinstance(payload, dict) or not isinstance(payload.get("autonomous"), list):
        raise ValueError("not a firmware document")
    for entry in payload["autonomous"]:
        int(entry["operationId"]), float(entry["startTime"]), str(entry["versionBefore"]), str(entry["uriBefore"])
        if entry["phase"] not in ("running", "concluding", "reporting"):
            raise ValueError("unknown phase")
        if entry["phase"] == "reporting":
            int(entry["result"]["faultCode"]), str(entry["result"]["faultString"]), int(entry["result"]["fileSize"])
    for value in payload["notFirmware"]:
        int(value)
