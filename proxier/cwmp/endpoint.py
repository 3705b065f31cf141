# -*- test-case-name: tests.test_cwmp_endpoint -*-
"""
A CWMP endpoint: one CPE identity towards the ACS (the proxier itself, or one
Virtual CWMP Device, TR-069 Annex J).

It decides when sessions run (events, periodic and scheduled Informs,
Connection Requests, retries with the TR-069 3.2.1.1 back-off, the device
going offline and online), runs them (the sans-IO L{CPESession} over an
L{ACSHTTPSession}), and answers the ACS's every request from its
L{IDataModel}, each device call bounded so the ACS hears an answer inside its
session timeout (INTEROP §CWMP 6). What it owes the ACS lives in an
L{EndpointState}, saved before anyone is told. It is the facade of its
parts: the ACS's requests are answered by an
L{RPCDispatcher<proxier.cwmp.dispatch.RPCDispatcher>}, what its Informs
carry is read by an L{InformParameters<proxier.cwmp.inform.InformParameters>},
the periodic and scheduled Informs fall due by an
L{InformTimers<proxier.cwmp.informtimers.InformTimers>}.

It is also the device's L{IDeviceObserver}: the proxy module reports boots,
reachability and transfers, and the endpoint turns them into Inform events.
Value changes come from the model alone: one that reports them
(L{INotifyingDataModel}: the proxier's own Device:2 tree, a proxied
device's model) is listened to while the endpoint runs.
"""

from __future__ import annotations

import datetime
import random as _random
import re
from typing import Any, Callable, NamedTuple, Optional

from twisted.internet import defer
from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure
from zope.interface import implementer

from proxier.cwmp import messages as m
from proxier.cwmp.dispatch import RPCDispatcher
from proxier.cwmp.events import EndpointState
from proxier.cwmp.inform import InformParameters
from proxier.cwmp.informtimers import InformTimers
from proxier.cwmp.retry import parseRetryAfter, retryDelay
from proxier.cwmp.session import CPESession, Dispatch, Ended, Send
from proxier.cwmp.settings import EndpointSettings
from proxier.cwmp.transport import ACSHTTPSession, TransportError
from proxier.datamodel.capabilities import INotifyingDataModel
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import (
    AutonomousTransferResult,
    DeviceIdentity,
    ParameterValue,
    TransferResult,
)
from proxier.interfaces import (
    IACSAgent,
    ICWMPEndpoint,
    IDeviceObserver,
    ISessionAgent,
    ISessionObserver,
)
from proxier.log import DeviceLogger
from proxier.store import Store

__all__ = [
    "CWMPEndpoint",
    "MAX_RPC_FAULTS",
    "deviceTimeout",
]


MAX_SHOWN_FAULTS = 20  # the faults of one session snapshot() keeps
MAX_RPC_FAULTS = 5  # failures (faults but 8000/8005, or sessions lost while it waited) before an RPC is dropped

# cwmp-1-2.xsd, EventCodeType: the patterns an event code must match.
_EVENT_CODE = re.compile(r"^(?:\d+( \S+)+|M \S+|X [0-9A-F]{6} .+|X \S+ .+)$")
CLOSE_TIMEOUT = 5.0  # seconds a session's end waits for its connection to close
_NOTHING_WITHHELD: frozenset[str] = frozenset()  # shared: frozenset() makes a new 216-byte set each time


def deviceTimeout(sessionTimeout: float) -> float:
    """
    How long a device call inside a session may take: the session timeout
    less a margin for the HTTP round trip, so that the ACS always hears an
    answer (a 9002 fault if need be) before it gives up on the session.
    """
    return max(1.0, sessionTimeout - min(5.0, sessionTimeout * 0.2))


class _SessionConfig(NamedTuple):
    """
    How an endpoint's sessions run, the same for every endpoint of the
    proxier: one tuple for all of them (issue 19: eight slots and a float
    each). Equal only with the same agent, target policy and random source.
    """

    agent: Any
    sessionTimeout: int
    lowercaseSessionTimeout: bool
    requestTimeout: float
    maxSessionDuration: float
    deviceTimeout: float
    random: Callable[[], float]
    targets: Any
    timers: Any


# the last one made, handed to the next endpoint when equal (the fleet's endpoints are made with the same)
_lastConfig: list[Optional[_SessionConfig]] = [None]


def _sessionConfig(config: _SessionConfig) -> _SessionConfig:
    last = _lastConfig[0]
    if last is not None and last == config:
        return last
    _lastConfig[0] = config
    return config


class _Outbox:
    """
    The L{SessionDelegate} of one session: hands out what the CPE owes the
    ACS (GetRPCMethods first when the ACS is new, then the queued
    TransferComplete & co. the ACS supports), and records the outcome.
    """

    def __init__(self, endpoint: "CWMPEndpoint", url: str, content: Any) -> None:
        self._endpoint = endpoint
        self._state = endpoint.state
        self._log = endpoint.log
        self.url = url
        self.content = content
        self._askedMethods = False
        self._sessionMethods: Optional[frozenset[str]] = None
        self._offered: set[int] = set()
        self._current: Optional[int] = None

    def informAcknowledged(self, response: m.InformResponse) -> None:
        self._state.informAcknowledged(self.content, self.url)

    def nextRequest(self) -> Optional[m.Message]:
        known = self._state.acsMethods(self.url)
        if known is None and not self._askedMethods:
            self._askedMethods = True
            self._current = None
            return m.GetRPCMethods()
        usable = known if known is not None else (self._sessionMethods or m.ACS_REQUIRED_METHODS)
        for rpcId, rpc in self._state.queuedRPCs():
            if rpcId in self._offered:
                continue
            if known is not None and rpc.name not in known:
                self._state.rpcDropped(rpcId)
                self._log.warn("the ACS does not support {method}; dropped {rpc}", method=rpc.name, rpc=rpc)
                continue
            if not self._announced(rpc):
                continue  # queued after this session's Inform (or held back by it): the next session, with its events
            if rpc.name not in usable:
                continue  # not known yet: wait for an ACS that says
            self._offered.add(rpcId)
            self._current = rpcId
            return rpc
        return None

    def _announced(self, rpc: m.Message) -> bool:
        """
        Whether this session's Inform carried the events of C{rpc} (TR-069
        A.3.3: a TransferComplete belongs to a session whose Inform holds "7
        TRANSFER COMPLETE" and its "M <method>" with the CommandKey; an
        AutonomousTransferComplete to one with "10 AUTONOMOUS TRANSFER
        COMPLETE"; a RequestDownload to one with "9 REQUEST DOWNLOAD").
        """
        codes = {e.code for e in self.content.events}
        if isinstance(rpc, m.TransferComplete):
            method = rpc.result.method
            if method and m.EventStruct(f"M {method}", rpc.result.commandKey) not in self.content.events:
                return False
            return "7 TRANSFER COMPLETE" in codes
        if isinstance(rpc, m.AutonomousTransferComplete):
            return "10 AUTONOMOUS TRANSFER COMPLETE" in codes
        if isinstance(rpc, m.RequestDownload):
            return "9 REQUEST DOWNLOAD" in codes
        return True

    def sessionLost(self) -> None:
        """
        The session failed while an RPC waited for its answer. It is counted
        like a fault: an RPC the ACS cannot swallow (it answers 500 or hangs
        up every time) must not block the endpoint's sessions for ever.
        """
        rpcId, self._current = self._current, None
        if rpcId is not None and self._state.rpcFaulted(rpcId, MAX_RPC_FAULTS):
            self._log.error("dropped a queued RPC: {n} sessions failed while it waited for the ACS",
                            n=MAX_RPC_FAULTS)

    def requestDelivered(self, request: m.Message, response: m.Message) -> None:
        if isinstance(request, m.GetRPCMethods):
            methods = frozenset(response.methods)  # type: ignore[attr-defined]
            missing = m.ACS_REQUIRED_METHODS - methods
            if missing:
                # TR-069 requires them of every ACS; an answer that leaves them
                # out is wrong, and dropping TransferCompletes would lose data.
                self._log.warn("the ACS's GetRPCMethods omits {missing}, which every ACS supports",
                               missing=", ".join(sorted(missing)))
                methods |= m.ACS_REQUIRED_METHODS
            self._state.setACSMethods(self.url, methods)
            self._log.info("the ACS at {url} supports {methods}", url=self.url, methods=", ".join(sorted(methods)))
            return
        if self._current is not None:
            self._state.rpcDelivered(self._current)
            self._current = None

    def requestFailed(self, request: m.Message, fault: CWMPFault) -> None:
        if isinstance(request, m.GetRPCMethods):
            if fault.code == 8000:
                self._state.setACSMethods(self.url, m.ACS_REQUIRED_METHODS)
            self._sessionMethods = m.ACS_REQUIRED_METHODS
            self._log.warn("GetRPCMethods refused by the ACS ({fault}); assuming the required methods only",
                           fault=str(fault))
            return
        rpcId, self._current = self._current, None
        if rpcId is None:
            return
        if fault.code == 8000:
            self._state.rpcDropped(rpcId)
            known = self._state.acsMethods(self.url)
            if known is not None:
                self._state.setACSMethods(self.url, known - {request.name})
            self._log.warn("the ACS answered {method} with 8000 (not supported); dropped it", method=request.name)
        elif fault.code == 8005:
            self._log.info("the ACS asked to retry {method} later", method=request.name)
        elif self._state.rpcFaulted(rpcId, MAX_RPC_FAULTS):
            self._log.error("dropped {method} after {n} faults, the last {fault}", method=request.name,
                            n=MAX_RPC_FAULTS, fault=str(fault))
        else:
            self._log.warn("the ACS refused {method} ({fault}); kept for the next session", method=request.name,
                           fault=str(fault))


@implementer(ICWMPEndpoint, IDeviceObserver)
class CWMPEndpoint:
    """
    One CWMP identity and its sessions.

    Its scheduling states:
     - stopped: before L{start} and after L{stop}; events are still queued.
     - idle: nothing to deliver, or waiting for a timer (a back-off retry,
       a periodic or scheduled Inform, the next reactor turn).
     - in session: one session runs; anything that asks for another marks
       one extra session to follow (never more than one).
     - offline: the device does not answer; no session starts,
       Connection Requests are refused (503), events wait.

    @ivar state: the durable L{EndpointState}.
    @ivar online: whether the device answers (TR-069 J.2.3).
    """

    # slots: one endpoint per device (issue 19: its instance dict was 1.6 KB)
    __slots__ = ("identity", "model", "settings", "connectionRequestPath", "online", "state", "log", "sessions",
                 "_store", "_clock", "_config", "_boot", "_running",
                 "_session", "_sessionObservers", "_again", "_withheld", "_againUrgent", "_timer", "_retryAt",
                 "_rpcs", "_inform", "_timers", "_inFlight", "_abort", "_lastActive", "_warnedNoURL",
                 "_lastSession", "_sessionStarted", "_sessionFaults")

    def __init__(
        self,
        identity: DeviceIdentity,
        model: Any,
        settings: EndpointSettings,
        store: Store,
        *,
        agent: Any,
        reactor: Any = None,
        boot: bool = False,
        connectionRequestPath: bytes = b"",
        sessionTimeout: int = 30,
        lowercaseSessionTimeout: bool = True,
        requestTimeout: float = 30.0,
        maxSessionDuration: float = 1800.0,
        online: bool = True,
        random: Callable[[], float] = _random.random,
        targets: Any = None,
        timers: Any = None,
    ) -> None:
        """
        @param targets: the L{proxier.outbound.TargetPolicy} an ACS redirect's
            target must pass (None: not checked).
        @param timers: a L{proxier.timers.TimerQueue} on C{reactor} for the
            periodic and scheduled Informs, shared by the endpoints (None:
            the reactor's own calls).
        """
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self.identity = identity
        self.model = model
        self.settings = settings
        self.connectionRequestPath = connectionRequestPath
        self.online = online
        self.state = EndpointState(store.document("cwmp-state"), reactor)
        self._store = store
        self.log = DeviceLogger(identity)
        self._clock = reactor
        self._boot = boot
        self._config = _sessionConfig(_SessionConfig(agent, sessionTimeout, lowercaseSessionTimeout, requestTimeout,
                                                     maxSessionDuration, deviceTimeout(sessionTimeout), random,
                                                     targets, timers))
        self._running = False
        self._session: Optional[Deferred] = None
        self._sessionObservers: tuple[ISessionObserver, ...] = ()
        self._again = False
        self._withheld = _NOTHING_WITHHELD  # RPC kinds the running session's Inform held back
        self._againUrgent = False
        self._timer: Any = None
        self._retryAt: Optional[float] = None
        self._rpcs = RPCDispatcher(model, settings, self.state, reactor, self._config.deviceTimeout, self.log,
                                   self._informScheduled)
        self._inform = InformParameters(self._rpcs)
        self._timers = InformTimers(reactor, settings, self.state, self._wantSession, self._config.timers)
        self._inFlight: Optional[Deferred] = None
        self._abort: Optional[str] = None
        self._lastActive: Optional[float] = None
        self._warnedNoURL = False
        self.sessions = 0
        # for snapshot(): how the last session went (started, ended, ok, reason, faults, event codes)
        self._lastSession: Optional[tuple[float, float, bool, str, tuple[dict[str, Any], ...], tuple[str, ...]]] = None
        self._sessionStarted = 0.0
        self._sessionFaults: tuple[dict[str, Any], ...] = ()  # the faults the running session answered
        settings.observe(self._settingChanged)

    # -- life ------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._running

    @property
    def inSession(self) -> bool:
        return self._session is not None

    def start(self) -> None:
        """Start: queue "1 BOOT"/"0 BOOTSTRAP" as due, arm the timers, run a session if anything waits."""
        if self._running:
            return
        self._running = True
        reference = self._clock.seconds()
        if self._boot:
            # A restart of the proxier is the reboot of its own CPE: a Reboot
            # it owed is done, and reported ("1 BOOT" + "M Reboot"). Once per
            # process: a stop and start of the service is no boot.
            self._boot = False
            self.state.afterSessionDone(len([a for a in self.state.afterSession() if a[0] == "reboot"]))
            self.state.booted()
        self._checkBootstrap()
        self._runAfterSession()
        if INotifyingDataModel.providedBy(self.model):
            self.model.addChangeListener(self._parametersChanged)
        self._timers.start(reference)
        self._wantSession()

    def stop(self) -> Deferred:
        """Stop: cancel the timers, end a running session; fires once it ended."""
        if self._running:
            if INotifyingDataModel.providedBy(self.model):
                try:
                    self.model.removeChangeListener(self._parametersChanged)
                except (KeyError, ValueError):
                    pass
        self._running = False
        self.state.stop()
        self._timers.stop()
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        session = self._session
        if session is None:
            return succeed(None)
        done: Deferred = Deferred()
        session.addBoth(lambda r: (done.callback(None), r)[1])
        self._abortSession("the endpoint stopped")
        return done

    def _checkBootstrap(self) -> None:
        url = self.settings.url
        if url and self.state.bootstrappedURL != url:
            self.state.queueEvent("0 BOOTSTRAP")

    # -- ICWMPEndpoint -----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """L{ICWMPEndpoint.snapshot}: what the endpoint is doing, as plain data."""
        return {
            "acsURL": self.settings.url,
            "online": bool(self.online),
            "inSession": self.inSession,
            "sessions": self.sessions,
            "retryCount": self.state.retryCount,
            "pendingEvents": [e.code for e in self.state.events()],
            "pendingValueChanges": [v.name for v in self.state.valueChanges()],
            "transfers": [t["method"] for t in self.state.transfers()],
            "lastSession": self._lastSessionSnapshot(),
        }

    def _lastSessionSnapshot(self) -> Optional[dict[str, Any]]:
        if self._lastSession is None:
            return None
        started, ended, ok, reason, faults, events = self._lastSession
        return {"started": started, "ended": ended, "ok": ok, "reason": reason, "faults": list(faults),
                "events": list(events)}

    def connectionRequestCredentials(self) -> tuple[str, str]:
        """The username and password the ACS must give in a Connection Request."""
        return self.settings.connectionRequestUsername, self.settings.connectionRequestPassword

    def connectionRequested(self) -> bool:
        """
        The ACS asked for a session ("6 CONNECTION REQUEST"). Returns at once:
        C{True} when accepted (the session runs soon, or right after the
        running one: TR-069 3.2.2), C{False} when refused (offline). How
        many may start a session is the Connection Request server's limit.
        """
        if not self.online:
            return False
        self.state.queueEvent("6 CONNECTION REQUEST")
        self.log.info("Connection Request accepted")
        self._wantSession(urgent=True)
        return True

    def requestSession(self, eventCode: str, commandKey: str = "") -> None:
        """
        Queue C{eventCode} (persisted) and start a session soon.

        @raise ValueError: for a code TR-069 does not allow (EventCodeType of
            cwmp-1-2.xsd) or a CommandKey over 32 characters: queued, it
            would spoil every Inform until delivered.
        """
        if len(eventCode) > 64 or not _EVENT_CODE.match(eventCode):
            raise ValueError(f"not a CWMP event code: {eventCode!r}")
        if len(commandKey) > 32:
            raise ValueError("a CommandKey has at most 32 characters")
        self.state.queueEvent(eventCode, commandKey)
        self._logDropped()
        self._wantSession(urgent=eventCode == "6 CONNECTION REQUEST")

    def addSessionObserver(self, observer: ISessionObserver) -> None:
        """Tell C{observer} each time a session ends."""
        if observer not in self._sessionObservers:
            self._sessionObservers += (observer,)

    def removeSessionObserver(self, observer: ISessionObserver) -> None:
        self._sessionObservers = tuple(o for o in self._sessionObservers if o != observer)

    def requestDownload(self, fileType: str, args: tuple[tuple[str, str], ...] = ()) -> None:
        """Ask the ACS for a file ("9 REQUEST DOWNLOAD" and a RequestDownload RPC, if the ACS supports it)."""
        known = self.state.acsMethods(self.settings.url)
        if known is not None and "RequestDownload" not in known:
            self.log.warn("the ACS does not support RequestDownload; not asking for {fileType}", fileType=fileType)
            return
        self.state.addRequestDownload(fileType, args)
        self._logDropped()
        self._wantSession()

    # -- IDeviceObserver -----------------------------------------------------------

    def deviceOnline(self, device: Any) -> None:
        if self.online:
            return
        self.online = True
        self.log.info("device online again; sessions resume")
        self._wantSession()

    def deviceOffline(self, device: Any) -> None:
        if not self.online:
            return
        self.online = False
        self.log.info("device offline; sessions wait, Connection Requests are refused")

    def deviceBooted(self, device: Any) -> None:
        self.state.booted()
        self._logDropped()
        self._wantSession()

    def deviceFactoryReset(self, device: Any) -> None:
        self.state.queueEvent("0 BOOTSTRAP")
        self._wantSession()

    def diagnosticsComplete(self, device: Any) -> None:
        self.state.queueEvent("8 DIAGNOSTICS COMPLETE")
        self._wantSession()

    def transferComplete(self, device: Any, result: TransferResult) -> None:
        known = self.state.acsMethods(self.settings.url)
        if known is not None and "TransferComplete" not in known:
            self.log.error("the ACS does not support TransferComplete; {key} not reported", key=result.commandKey)
            return
        if not self.state.addTransferComplete(result):
            self.log.debug("the TransferComplete of {method} CommandKey {key!r} was taken before; a repeat dropped",
                           method=result.method, key=result.commandKey)
            return
        self._logDropped()
        self._wantSession()

    def autonomousTransferComplete(self, device: Any, result: AutonomousTransferResult) -> None:
        why = self._autonomousFiltered(result)
        if why:
            self.log.debug("autonomous transfer of {url} not reported: {why}", url=result.transferURL, why=why)
            return
        self.state.addAutonomousTransferComplete(result)
        self._logDropped()
        self._wantSession()

    def _autonomousFiltered(self, result: AutonomousTransferResult) -> str:
        """Why ManagementServer.AutonomousTransferCompletePolicy (or the ACS) keeps C{result} back, or ""."""
        s = self.settings
        if not s.autonomousTransferCompletePolicyEnable:
            return "AutonomousTransferCompletePolicy is disabled"
        transfer = s.autonomousTransferCompletePolicyTransferTypeFilter
        if (transfer == "Upload" and result.isDownload) or (transfer == "Download" and not result.isDownload):
            return f"TransferTypeFilter is {transfer}"
        outcome = s.autonomousTransferCompletePolicyResultTypeFilter
        if (outcome == "Success" and result.faultCode) or (outcome == "Failure" and not result.faultCode):
            return f"ResultTypeFilter is {outcome}"
        types = [t.strip() for t in s.autonomousTransferCompletePolicyFileTypeFilter.split(",") if t.strip()]
        if not any(result.fileType == t or result.fileType.startswith(t + " ") for t in types):
            return "FileTypeFilter excludes it"
        known = self.state.acsMethods(s.url)
        if known is not None and "AutonomousTransferComplete" not in known:
            return "the ACS does not support AutonomousTransferComplete"
        return ""

    def _logDropped(self) -> None:
        for what in self.state.dropped:
            self.log.error("queue full: dropped {what}", what=what)
        self.state.dropped = ()

    # -- the model's change listener (INotifyingDataModel) ------------------------------

    def _parametersChanged(self, values: Any, active: bool) -> None:
        """Parameters with Notification on changed by themselves: "4 VALUE CHANGE", a session now when active."""
        values = [v for v in values if isinstance(v, ParameterValue)]
        if not values:
            return
        self.state.addValueChanges(values)
        self._logDropped()
        if active:
            throttle = self.settings.defaultActiveNotificationThrottle
            delay = 0.0
            now = self._clock.seconds()
            if throttle and self._lastActive is not None:
                delay = max(0.0, self._lastActive + throttle - now)
            self._lastActive = now + delay
            self._wantSession(delay=delay)

    # -- settings ----------------------------------------------------------------

    def _settingChanged(self, name: str, old: Any, new: Any) -> None:
        if name == "url":
            self.log.info("ACS URL changed to {url}", url=new)
            self._retryAt = None
            self._inform.forget()
            self._checkBootstrap()
            self._wantSession()
        elif name in ("periodicInformEnable", "periodicInformInterval", "periodicInformTime"):
            self._timers.armPeriodic()

    # -- timers --------------------------------------------------------------------

    def _informScheduled(self) -> None:
        """The ACS's ScheduleInform was recorded: log what the queue dropped, arm its timer."""
        self._logDropped()
        self._timers.armScheduled()

    def _mayRunSession(self) -> bool:
        """
        Whether a session may start now: the device is online, or what waits
        is a "8 DIAGNOSTICS COMPLETE" — its results are held by the proxier,
        so TR-330 §4.5.1 (the notes of Figure 6) needs no link to the device
        to deliver it; the ACS reads them from the proxier's cache.
        """
        if self.online:
            return True
        return any(e.code == "8 DIAGNOSTICS COMPLETE" for e in self.state.events())

    def _wantSession(self, urgent: bool = False, delay: float = 0.0) -> None:
        """Something waits for the ACS: run a session as soon as the rules allow."""
        if not self._running or not self._mayRunSession():
            return
        if not self.settings.url:
            if not self._warnedNoURL:
                self._warnedNoURL = True
                self.log.warn("no ACS URL: [acs] url in the config file is empty and the ACS has set no "
                              "ManagementServer.URL; nothing is sent, events wait until one is set")
            return
        if self._session is not None:
            self._again = True
            self._againUrgent = self._againUrgent or urgent
            return
        now = self._clock.seconds()
        at = now + delay
        if self._retryAt is not None and not urgent:
            at = max(at, self._retryAt)
        if self._timer is not None and self._timer.active():
            if self._timer.getTime() <= at:
                return
            self._timer.cancel()
        self._timer = self._clock.callLater(max(0.0, at - now), self._timerFired)

    def _timerFired(self) -> None:
        self._timer = None
        if not self._running or not self._mayRunSession() or not self.settings.url or self._session is not None:
            return
        self._checkBootstrap()
        if not self.state.hasPending():
            return
        self._startSession()

    # -- sessions ----------------------------------------------------------------------

    def _startSession(self) -> None:
        self._again = False
        self._againUrgent = False
        self._abort = None
        self.sessions += 1
        self._sessionStarted = self._clock.seconds()
        self._sessionFaults = ()
        limit = self._clock.callLater(self._config.maxSessionDuration, self._abortSession,
                                      f"session longer than {self._config.maxSessionDuration:g} s")
        # The session's own connection (INTEROP §CWMP 6: an ACS binds a
        # session to its TCP connection), closed when the session ends.
        shared = self._config.agent
        agent = shared.sessionAgent() if IACSAgent.providedBy(shared) else shared
        d = defer.maybeDeferred(self._runSession, agent)

        def closeConnection(result: Any) -> Any:
            if agent is shared or not ISessionAgent.providedBy(agent):
                return result
            closing = defer.maybeDeferred(agent.close)
            closing.addTimeout(CLOSE_TIMEOUT, self._clock)
            closing.addErrback(lambda f: self.log.warn("the session's connection did not close: {why}",
                                                       why=f.getErrorMessage()))
            closing.addCallback(lambda _: result)
            return closing

        def finished(result: Any) -> None:
            if limit.active():
                limit.cancel()
            self._sessionFinished(result)
            self._tellSessionEnded()

        self._session = d
        d.addBoth(closeConnection)
        d.addBoth(finished)

    def _abortSession(self, reason: str) -> None:
        if self._session is None:
            return
        self._abort = reason
        if self._inFlight is not None:
            self._inFlight.cancel()

    @defer.inlineCallbacks
    def _runSession(self, agent: Any = None) -> Any:
        url = self.settings.url
        self._checkBootstrap()  # the URL may have changed while a BOOTSTRAP to the old one was in flight
        self._withheld = self.state.withheldKinds(url)
        content = self.state.informContent(self._withheld)
        self._inFlight = self._inform.parameters(content.valueChanges)
        try:
            parameters = yield self._inFlight
        except defer.CancelledError:
            return Ended(False, self._abort or "cancelled"), None  # nothing was sent
        finally:
            self._inFlight = None
        inform = m.Inform(
            deviceId=self.identity,
            events=content.events,
            maxEnvelopes=1,
            currentTime=datetime.datetime.fromtimestamp(self._clock.seconds(), datetime.timezone.utc),
            retryCount=self.state.retryCount,
            parameters=tuple(parameters),
        )
        self.log.info("session to {url}: {events}", url=url, events=", ".join(e.code for e in content.events))
        http = ACSHTTPSession(agent if agent is not None else self._config.agent, url, self.settings.username,
                              self.settings.password, clock=self._clock, requestTimeout=self._config.requestTimeout,
                              targets=self._config.targets)
        outbox = _Outbox(self, url, content)
        session = CPESession(outbox, sessionTimeout=self._config.sessionTimeout, log=self.log,
                             lowercaseSessionTimeout=self._config.lowercaseSessionTimeout)
        actions = session.start(inform)
        while True:
            action = actions[0]
            if isinstance(action, Ended):
                if not action.ok:
                    outbox.sessionLost()
                return action, content
            if self._abort is not None:
                actions = session.transportFailed(self._abort)
                continue
            if isinstance(action, Send):
                # Nothing reaches the ACS before what it may depend on is on disk (proxier.store:
                # the barrier): the events its InformResponse cleared, the RPC it acknowledged, the
                # ParameterKey and instance numbers this answer reports. A disk that refuses it was
                # logged; memory goes ahead of it then, as it always did.
                self._inFlight = self._store.durable()
                try:
                    yield self._inFlight
                except defer.CancelledError:
                    actions = session.transportFailed(self._abort or "cancelled")
                    continue
                except OSError:
                    pass
                finally:
                    self._inFlight = None
                if self._abort is not None:
                    continue
                self._inFlight = http.post(action.body)
                try:
                    result = yield self._inFlight
                except TransportError as e:
                    actions = session.transportFailed(str(e))
                    continue
                except defer.CancelledError:
                    actions = session.transportFailed(self._abort or "cancelled")
                    continue
                finally:
                    self._inFlight = None
                try:
                    retryAfter = parseRetryAfter(result.header("Retry-After"), self._clock.seconds())
                    actions = session.httpResponse(result.status, result.body, result.header("Content-Type"),
                                                   retryAfter)
                except Exception as e:
                    # An answer no parser foresaw: a protocol error of this session (its outbox
                    # accounted for as any failed session's), never a crash that loses it.
                    self.log.failure("unusable answer from the ACS", Failure())
                    reason = f"unusable answer from the ACS ({type(e).__name__}: {e})"
                    actions = session.transportFailed(reason) or [Ended(False, reason)]
            elif isinstance(action, Dispatch):
                self._inFlight = self._rpcs.serve(action.request)
                try:
                    answer = yield self._inFlight
                except defer.CancelledError:
                    answer = CWMPFault(9002, "the session was aborted")
                finally:
                    self._inFlight = None
                if isinstance(answer, CWMPFault) and len(self._sessionFaults) < MAX_SHOWN_FAULTS:
                    self._sessionFaults += ({"method": type(action.request).__name__, "code": answer.code,
                                             "string": answer.string},)
                actions = session.respond(answer)

    def _sessionFinished(self, result: Any) -> None:
        self._session = None
        if isinstance(result, Failure):
            self.log.failure("session crashed", result)
            ended, content = Ended(False, f"internal error: {result.getErrorMessage()}"), None
        else:
            ended, content = result
        if content is not None and not ended.informAcknowledged:
            self.state.informFailed(content)
        codes = tuple(e.code for e in content.events) if content is not None else ()
        self._lastSession = (self._sessionStarted, self._clock.seconds(), ended.ok, ended.reason,
                             self._sessionFaults, codes)
        if ended.ok:
            self.state.setRetryCount(0)
            self._retryAt = None
            self.log.info("session ended: {reason}", reason=ended.reason)
        else:
            count = self.state.retryCount + 1
            self.state.setRetryCount(count)
            wait = ended.retryAfter
            if wait is None:
                wait = retryDelay(count, self.settings.retryMinimumWaitInterval,
                                  self.settings.retryIntervalMultiplier, self._config.random)
            self._retryAt = self._clock.seconds() + wait
            self.log.warn("session failed ({reason}); trying again in {wait:.0f} s (retry {count}) if there is "
                          "still an event or request to deliver to the ACS",
                          reason=ended.reason, count=count, wait=wait)
        self._runAfterSession()
        if not self._running:
            return
        again, self._again = self._again, False
        urgent, self._againUrgent = self._againUrgent, False
        withheld, self._withheld = self._withheld, _NOTHING_WITHHELD
        if ended.ok:
            if again or (withheld and self.state.acsMethods(self.settings.url) is not None
                         and any(rpc.name in withheld for _, rpc in self.state.queuedRPCs())):
                # the session asked GetRPCMethods: what its Inform held back (and the ACS supports) goes now
                self._wantSession(urgent=urgent)
        elif self.state.hasPending():
            self._wantSession(urgent=urgent)

    def _tellSessionEnded(self) -> None:
        for observer in self._sessionObservers:
            try:
                observer.sessionEnded(self)
            except Exception:
                self.log.failure("a session observer failed")

    def _runAfterSession(self) -> None:
        """Reboot and FactoryReset run once the session that asked for them is over (TR-069 A.3.2.9)."""
        due = self.state.afterSession()
        if not due:
            return
        self.state.afterSessionDone(len(due))
        for action in due:
            if action[0] == "reboot":
                commandKey = action[1]
                self.log.info("rebooting the device (CommandKey {key!r})", key=commandKey)
                d = defer.maybeDeferred(self.model.reboot, commandKey)
                d.addErrback(self._rebootFailed)
            elif action[0] == "factoryReset":
                self.log.info("resetting the device to its factory state")
                d = defer.maybeDeferred(self.model.factoryReset)
                d.addErrback(lambda f: self.log.error("factory reset failed: {why}", why=f.getErrorMessage()))

    def _rebootFailed(self, failure: Failure) -> None:
        self.log.error("reboot failed: {why}; no M Reboot will follow", why=failure.getErrorMessage())
        self.state.rebootAbandoned()

    # -- serving the ACS ----------------------------------------------------------------------

    def supportedMethods(self) -> frozenset[str]:
        """The CPE RPCs this endpoint answers (GetRPCMethodsResponse); any other gets 9000."""
        return self._rpcs.supportedMethods()
