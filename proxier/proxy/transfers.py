# -*- test-case-name: tests.test_proxy_transfers -*-
"""
The transfers the ACS asked of one Virtual CWMP Device — for a UPnP DM
device a Download of its firmware (TR-330 §4.7.1) or an Upload of one of
its logs (§4.4.2) — from the response with Status 1 to the TransferComplete
the endpoint owes the ACS, durably: a proxier killed at any point reports
each transfer after its restart, once.

A transfer (a "job", one JSON object in the device's C{transfers}
document) goes through three phases:

 - C{waiting}: accepted; waits for its start time (the request's
   DelaySeconds, counted from when it was received), for the session that
   asked to end, for the device to answer, and for the transfer of its kind
   before it (one at a time per kind, in order). A job the device keeps
   from starting for L{WAIT_LIMIT} seconds (counted from when nothing else
   held it back) ends with its kind's "unreachable" fault.
 - C{running}: its kind's handler carries it out, keeping what it needs in
   the job (saved through L{TransferQueue.save}); after a restart the handler
   is asked to resume it.
 - C{reporting}: the outcome is known and saved; it is told to the endpoint
   (L{IDeviceObserver.transferComplete}) and the job goes. If the proxier
   dies between saving the outcome and the endpoint saving its
   TransferComplete, the job is found in C{reporting} at the restart and
   told again: the endpoint takes one TransferComplete per (CommandKey,
   method) and drops the repeat — no second TransferComplete.

The queue knows no protocol: how a transfer of a kind is carried out is
its L{ITransferHandler}'s, what the device is doing its L{TransferLink}'s.
"""

from __future__ import annotations

import datetime
from typing import Any, Mapping, Optional, Protocol

from twisted.internet.defer import CancelledError, Deferred
from zope.interface import Attribute, Interface

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import UNKNOWN_TIME, TransferRequest, TransferResult
from proxier.store import Document, Retrier

__all__ = ["TransferQueue", "ITransferHandler", "TransferLink", "MAX_TRANSFERS", "WAIT_LIMIT", "timeOf",
           "faultText"]

#: Transfers a device may have queued or under way (TR-069: a full queue is 9004).
MAX_TRANSFERS = 8
#: Seconds past its start time a transfer may wait for the device.
WAIT_LIMIT = 3600.0
_PHASES = ("waiting", "running", "reporting")
_KEYS = {"id": int, "kind": str, "method": str, "commandKey": str, "fileType": str, "url": str, "username": str,
         "password": str, "receivedAt": (int, float), "startAt": (int, float), "phase": str, "data": dict}


def timeOf(seconds: Optional[float]) -> datetime.datetime:
    """A clock's seconds as a TransferComplete time (None: the unknown time)."""
    if seconds is None:
        return UNKNOWN_TIME
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def _validate(payload: Any) -> None:
    if not isinstance(payload, dict) or not isinstance(payload.get("jobs"), list):
        raise ValueError("not a transfers document")
    int(payload["seq"])
    for job in payload["jobs"]:
        for key, kind in _KEYS.items():
            if not isinstance(job[key], kind) or isinstance(job[key], bool):
                raise TypeError(f"{key} of a transfer has the wrong type")
        if job["phase"] not in _PHASES:
            raise ValueError(f"unknown phase {job['phase']!r}")
        if job["phase"] == "reporting":
            result = job["result"]
            int(result["faultCode"]), str(result["faultString"])


class ITransferHandler(Interface):
    """What carries out the transfers of one kind (a firmware Download, a log Upload)."""

    unreachable = Attribute("(faultCode, faultString): the end of a job the device kept from starting")

    def run(job):
        """Start a job, or resume a running one after a restart; it ends it with L{TransferQueue.finish}."""

    def jobDeviceReady(job, rebooted, aliveTime):
        """The device is back (C{rebooted} or not, alive since C{aliveTime}) while C{job} runs."""

    def stop():
        """No more work: cancel what runs (the jobs stay saved)."""


class TransferLink(Protocol):
    """What the queue asks of the Virtual CWMP Device whose transfers it keeps."""

    clock: Any
    log: Any

    @property
    def online(self) -> bool:
        """Whether the device answers now."""

    def idle(self) -> Deferred:
        """Fires (never fails) once no CWMP session of the device runs; cancellable."""

    def observers(self) -> list[Any]:
        """The device's observers now (empty until the endpoint observes)."""

    def transferComplete(self, result: TransferResult) -> None:
        """Tell the endpoint: L{IDeviceObserver.transferComplete<proxier.interfaces.IDeviceObserver>}."""


class TransferQueue:
    """
    The durable transfers of one device (see the module docstring).

    @param handlers: kind → L{ITransferHandler}.
    """

    # slots: one queue per device (issue 19)
    __slots__ = ("link", "clock", "log", "handlers", "_document", "_saver", "_seq", "jobs", "_resume", "_timer",
                 "_waiting", "_ready", "_stopped", "_arming")

    def __init__(self, link: TransferLink, document: Document,
                 handlers: Optional[Mapping[str, Any]] = None) -> None:
        self.link = link
        self.clock = link.clock
        self.log = link.log
        self.handlers: dict[str, Any] = dict(handlers or {})
        self._document = document
        # made by the first save: most devices' queues never hold a transfer (issue 19)
        self._saver: Optional[Retrier] = None
        stored = document.load(default=None, validate=_validate)
        self._seq = int(stored["seq"]) if stored else 0
        self.jobs: list[dict] = list(stored["jobs"]) if stored else []
        # the jobs a restart interrupted, run again when the device is ready (a tuple: mostly empty)
        self._resume = tuple(job["id"] for job in self.jobs if job["phase"] == "running")
        self._timer: Any = None
        self._waiting: Any = None
        self._ready = False
        self._stopped = False
        self._arming = False

    def _payload(self) -> dict:
        return {"seq": self._seq, "jobs": self.jobs}

    def save(self) -> None:
        """Write the queue; when that fails it stays in memory and is saved again later."""
        self._save()

    def _save(self) -> bool:
        if self._saver is None:
            # a failed save (logged once by the store) is tried again with the clock
            self._saver = Retrier(self._document, self._payload, self.clock)
        return self._saver.save()

    def ofKind(self, kind: str, phase: Optional[str] = None) -> list[dict]:
        return [j for j in self.jobs if j["kind"] == kind and (phase is None or j["phase"] == phase)]

    # -- accepting -------------------------------------------------------------------------

    def add(self, kind: str, request: TransferRequest, **data: Any) -> dict:
        """
        Accept a transfer (saved before the ACS hears Status 1).

        @raise CWMPFault: 9004 when L{MAX_TRANSFERS} are queued already;
            9002 when it cannot be saved.
        """
        if len(self.jobs) >= MAX_TRANSFERS:
            raise CWMPFault(9004, f"Resources exceeded ({MAX_TRANSFERS} transfers are queued already)")
        self._seq += 1
        now = self.clock.seconds()
        job = {"id": self._seq, "kind": kind, "method": request.method, "commandKey": request.commandKey,
               "fileType": request.fileType, "url": request.url, "username": request.username,
               "password": request.password, "receivedAt": now, "startAt": now + request.delaySeconds,
               "phase": "waiting", "data": dict(data)}
        self.jobs.append(job)
        if not self._save():
            # not on disk, so not accepted: a Status 1 would promise a
            # TransferComplete that a restart could forget
            self.jobs.remove(job)
            raise CWMPFault(9002, "Internal error (the transfer could not be saved)")
        self.log.info("{method} {fileType!r} (CommandKey {key!r}) accepted; starts in {delay} s at the earliest",
                      method=request.method, fileType=request.fileType, key=request.commandKey,
                      delay=request.delaySeconds)
        self._arm()
        return job

    # -- starting --------------------------------------------------------------------------

    def deviceReady(self, rebooted: bool, aliveTime: Optional[float] = None) -> None:
        self._ready = True
        for job in [j for j in self.jobs if j["phase"] == "running"]:
            handler = self.handlers[job["kind"]]
            if job["id"] in self._resume:
                self._resume = tuple(i for i in self._resume if i != job["id"])
                handler.run(job)
            else:
                handler.jobDeviceReady(job, rebooted, aliveTime if aliveTime is not None else self.clock.seconds())
        self._arm()

    def _arm(self) -> None:
        """Start what is due; arm the timer for what comes next."""
        if self._stopped or self._arming:
            return
        self._arming = True
        try:
            self._armNow()
        finally:
            self._arming = False

    def _armNow(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        now = self.clock.seconds()
        nextAt: Optional[float] = None
        for job in [j for j in self.jobs if j["phase"] == "waiting"]:
            if self._busy(job):
                continue  # the end of the job before it arms the queue again
            due = job["startAt"]
            if due <= now and "eligibleAt" not in job:
                job["eligibleAt"] = now  # from now on only the device keeps it waiting
                self.save()
            if due <= now and now >= job["eligibleAt"] + WAIT_LIMIT:
                code, why = self.handlers[job["kind"]].unreachable
                self.finish(job, code, why, None, now)
                continue
            if due <= now:
                if self._ready and self.link.online:
                    self._startWhenIdle()  # its start arms the queue again
                    continue
                at = job["eligibleAt"] + WAIT_LIMIT  # given up then (deviceReady starts it before)
            else:
                at = due
            nextAt = at if nextAt is None else min(nextAt, at)
        if nextAt is not None:
            self._timer = self.clock.callLater(max(0.0, nextAt - now), self._arm)

    def _busy(self, job: dict) -> bool:
        """One transfer of a kind at a time, oldest first."""
        for other in self.jobs:
            if other is job:
                return False
            if other["kind"] == job["kind"] and other["phase"] in ("waiting", "running"):
                return True
        return False

    def _startWhenIdle(self) -> None:
        if self._waiting is not None:
            return
        self._waiting = self.link.idle()

        def idle(_: Any) -> None:
            self._waiting = None
            self._start()

        def gone(failure: Any) -> None:
            self._waiting = None
            if not failure.check(CancelledError):
                self.log.failure("waiting for the session's end failed", failure)

        self._waiting.addCallbacks(idle, gone)

    def _start(self) -> None:
        if self._stopped:
            return
        now = self.clock.seconds()
        for job in [j for j in self.jobs if j["phase"] == "waiting"]:
            if job["startAt"] <= now and self.link.online and not self._busy(job):
                job["phase"] = "running"
                self.save()
                self.log.info("{method} {fileType!r} (CommandKey {key!r}) starts", method=job["method"],
                              fileType=job["fileType"], key=job["commandKey"])
                self.handlers[job["kind"]].run(job)
        self._arm()

    # -- the end ---------------------------------------------------------------------------

    def finish(self, job: dict, faultCode: int, faultString: str, startTime: Optional[float],
               completeTime: Optional[float]) -> None:
        """A transfer ended (C{faultCode} 0: done): saved, then told to the endpoint."""
        if job not in self.jobs or job["phase"] == "reporting":
            return
        job["phase"] = "reporting"
        job["result"] = {"faultCode": int(faultCode), "faultString": faultText(faultString) if faultCode else "",
                         "startTime": startTime, "completeTime": completeTime}
        self.save()
        if faultCode:
            self.log.warn("{method} (CommandKey {key!r}) failed: {code} {why}", method=job["method"],
                          key=job["commandKey"], code=faultCode, why=job["result"]["faultString"])
        else:
            self.log.info("{method} (CommandKey {key!r}) done", method=job["method"], key=job["commandKey"])
        self._report(job)
        self._arm()

    def observed(self) -> None:
        """The endpoint listens now: what is owed to it is told."""
        for job in [j for j in self.jobs if j["phase"] == "reporting"]:
            self._report(job)

    def _report(self, job: dict) -> None:
        if not self.link.observers():
            return  # told once the endpoint observes
        r = job["result"]
        result = TransferResult(job["commandKey"], job["method"], r["faultCode"], r["faultString"],
                                timeOf(r["startTime"]), timeOf(r["completeTime"]))
        self.link.transferComplete(result)
        self._forget(job)

    def _forget(self, job: dict) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
            self.save()

    def stop(self) -> None:
        self._stopped = True
        if self._saver is not None:
            self._saver.stop()
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            waiting.cancel()
        for handler in self.handlers.values():
            handler.stop()


def faultText(text: Any, limit: int = 256) -> str:
    """A FaultString: printable, at most 256 characters (cwmp-1-2.xsd)."""
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return cleaned[:limit]
