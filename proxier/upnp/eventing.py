# -*- test-case-name: tests.test_upnp_eventing -*-
"""
GENA on the subscriber side (UDA 1.1 §4): one subscription per evented
service, kept alive by renewals, and one callback HTTP server for all of them.

A L{Subscription} is an explicit state machine (states in its docstring),
driven by an injected clock and requester, that tells its owner two things:
variables that changed (C{eventReceived}) and "what you know may be stale,
read the state again by actions" (C{stateMayBeStale}) — after a SEQ gap, after
a subscription had to be made again, and on each tick of the polling that
replaces eventing for devices that refuse SUBSCRIBE.

The L{CallbackServer} gives each subscription an unguessable path (a fresh
one for each new SUBSCRIBE), answers NOTIFY at once, accepts it only for the
SID held on that path and from the device's own addresses, keeps a short
backlog for events that arrive before the SUBSCRIBE answer, and listens only
on the local addresses devices need (never on a wildcard address).

GENA never sends an event twice, so an event the server could not take is
state lost unless it is read again: a connection refused or cut before its
NOTIFY was served (L{proxier.httpguard} tells which, with the path when it
came), an initial event that does not come, a first event other than SEQ 0
and a SEQ gap all end in C{stateMayBeStale} for the subscriptions concerned.
A burst (1,000 devices subscribed at once each send their initial event)
waits for a slot rather than being refused (C{maxWaiting}).
"""

from __future__ import annotations

import ipaddress
import random
import secrets
from typing import Any, Callable, Optional, Protocol as TypingProtocol

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import server
from twisted.web.resource import Resource

from proxier.httpguard import GuardedSite
from proxier.upnp import gena
from proxier.upnp.gena import INFINITE, EventMessage, GENAError, Subscribe, Timeout, nextSEQ
from proxier.lan.httpclient import HTTPFailure, Requester
from proxier.lan.urlpolicy import Origin, Target, URLRefused, formatHost
from proxier.timers import TimerQueue

__all__ = [
    "ISubscriptionOwner",
    "Subscription",
    "SubscriptionTerms",
    "CallbackServer",
    "renewDelay",
    "ASSUMED_TIMEOUT",
    "RETRY_DELAYS",
]

#: A device that grants no TIMEOUT is renewed as if it had granted this much.
ASSUMED_TIMEOUT = 300
#: Seconds between SUBSCRIBE attempts for a device that refused, growing.
RETRY_DELAYS = (30, 60, 120, 300, 600, 1800)
#: More SEQ gaps than this within GAP_WINDOW seconds: stop trusting events, poll.
MAX_GAPS = 5
GAP_WINDOW = 600
#: Seconds after the SUBSCRIBE answer by which the initial event (SEQ 0) is due; none: the state is read.
INITIAL_EVENT_DUE = 30.0
#: At most one re-read for lost events per subscription in this many seconds (more losses meanwhile: one after).
LOST_INTERVAL = 10.0
_MAX_ANSWER = 64 * 1024


class ISubscriptionOwner(TypingProtocol):
    """Who hears of a subscription's events (the control point, for one device)."""

    def eventReceived(self, subscription: "Subscription", variables: list[tuple[str, str]]) -> None:
        """Evented variables, in order (the initial event holds all of them)."""

    def stateMayBeStale(self, subscription: "Subscription", reason: str) -> None:
        """
        Events may have been missed: re-read the state by actions. C{reason}:
        C{"seq-gap"}, C{"resubscribed"}, C{"poll"}, C{"lost"} (a NOTIFY
        refused or cut by the callback server) or C{"no-initial-event"}.
        """

    def unreachable(self, subscription: "Subscription", why: str) -> None:
        """
        A SUBSCRIBE or renewal got no answer at all (refused, timed out): the
        device may have left without its byebye. Optional for owners.
        """


def renewDelay(granted: Timeout, rng: random.Random) -> float:
    """
    When to renew a subscription granted for C{granted} seconds: about half of
    it with jitter (40-50 %), never later than 10 s before it ends, never
    sooner than 1 s. An infinite grant is renewed as a 1800 s one, to notice
    a device that forgot it.
    """
    seconds = float(gena.DEFAULT_TIMEOUT if granted is INFINITE else granted)
    delay = seconds * rng.uniform(0.4, 0.5)
    if seconds > 20:
        delay = min(delay, seconds - 10)
    return max(1.0, delay)


#: What a subscription logs to unless given its device's logger (the namespace its class attribute had).
_subscriptionLog = Logger(namespace=f"{__name__}.Subscription")


class SubscriptionTerms:
    """
    What the subscriptions of one control point share: its callback server,
    requester and clock, the TIMEOUT asked for, the poll interval, the
    requests' deadline and the renewals' random source (one object for all,
    rather than seven attributes in each: issue 19, several a device).
    """

    __slots__ = ("server", "requester", "clock", "requestedTimeout", "pollInterval", "requestTimeout", "rng")

    def __init__(
        self,
        server: "CallbackServer",
        requester: Requester,
        clock: Any,
        *,
        requestedTimeout: Timeout = gena.DEFAULT_TIMEOUT,
        pollInterval: float = 300.0,
        requestTimeout: float = 10.0,
        rng: Optional[random.Random] = None,
    ) -> None:
        self.server = server
        self.requester = requester
        self.clock = clock
        self.requestedTimeout = requestedTimeout
        self.pollInterval = pollInterval
        self.requestTimeout = requestTimeout
        self.rng = rng or random.Random()


class Subscription:
    """
    One subscription to one service's events.

    States:
     - C{idle}: nothing held yet (before L{start}).
     - C{subscribing}: SUBSCRIBE sent on a fresh path; events arriving on that
       path are kept in the server's backlog until the SID is known.
     - C{subscribed}: SID held; the renewal timer runs.
     - C{renewing}: renewal sent; events still accepted for the SID.
     - C{polling}: SUBSCRIBE failed or was refused, or events proved
       unreliable; the owner is asked to poll every C{pollInterval} seconds
       and SUBSCRIBE is tried again after L{RETRY_DELAYS}.
     - C{closed}: L{stop} was called (UNSUBSCRIBE sent, best effort).

    Transitions: C{start}: idle→subscribing. SUBSCRIBE answered 200:
    subscribing→subscribed (backlog replayed; C{stateMayBeStale("resubscribed")}
    unless it is the very first). SUBSCRIBE failed: subscribing→polling.
    Renewal timer: subscribed→renewing. Renewal answered 200: →subscribed;
    refused (412, 404, any failure): →subscribing on a new path. SEQ gap:
    UNSUBSCRIBE, →subscribing, C{stateMayBeStale("seq-gap")}; too many gaps:
    →polling. Retry timer: polling→subscribing. C{stop}: any→closed.

    @ivar sid: the SID held, or C{None}.
    @ivar granted: the duration the device granted (after the quirks).
    """

    # slots: several per device, each with some twenty attributes (issue 19)
    __slots__ = (
        "terms", "eventTarget", "origin", "owner", "localAddress", "scope", "label", "log", "state", "sid",
        "granted", "token", "expectedSeq", "subscribedOnce", "retries", "renewals", "gaps", "_generation", "_timer",
        "_pollTimer", "_initialTimer", "_lostAt", "_lostCall", "_settled",
    )

    def __init__(
        self,
        terms: "SubscriptionTerms",
        eventTarget: Target,
        origin: Origin,
        owner: ISubscriptionOwner,
        *,
        localAddress: str,
        scope: str = "",
        label: str = "",
        log: Any = None,
    ) -> None:
        self.terms = terms
        self.eventTarget = eventTarget
        self.origin = origin
        self.owner = owner
        self.localAddress = localAddress
        self.scope = scope
        self.label = label or eventTarget.url
        self.log = log if log is not None else _subscriptionLog
        self.state = "idle"
        self.sid: Optional[str] = None
        self.granted: Optional[Timeout] = None
        self.token: Optional[str] = None
        self.expectedSeq: Optional[int] = None
        self.subscribedOnce = False
        self.retries = 0
        self.renewals = 0
        self.gaps: tuple[float, ...] = ()
        self._generation = 0
        self._timer: Any = None
        self._pollTimer: Any = None
        self._initialTimer: Any = None
        self._lostAt: Optional[float] = None
        self._lostCall: Any = None
        self._settled: tuple[Deferred, ...] = ()  # who waits for start() to settle

    # what the device may send from

    @property
    def peers(self) -> frozenset[str]:
        return frozenset({self.eventTarget.address, self.origin.source.partition("%")[0]})

    # inputs

    def start(self) -> "Deferred[str]":
        """
        Subscribe. The Deferred fires with the state once it settles
        (C{"subscribed"} or C{"polling"}); it never fails.
        """
        if self.state != "idle":
            return succeed(self.state)
        d: Deferred[str] = Deferred()
        self._settled += (d,)
        self._subscribe()
        return d

    def stop(self, unsubscribe: bool = True) -> "Deferred[None]":
        """
        Stop for good: timers cancelled, path released, and UNSUBSCRIBE sent
        (best effort, bounded) unless C{unsubscribe} is false (the device is
        gone or rebooted: it forgot the SID).
        """
        if self.state == "closed":
            return succeed(None)
        sid = self.sid
        self._enter("closed")
        self._release()
        self._settle()
        if sid is None or not unsubscribe:
            return succeed(None)
        return self._unsubscribe(sid)

    def renewNow(self) -> bool:
        """
        Renew at once instead of when the timer says (an operator's "refresh",
        and the interop tests, which cannot wait half of a peer's grant).

        @return: whether a renewal was sent (only in state C{subscribed}).
        """
        if self.state != "subscribed":
            return False
        self._cancel("_timer")
        self._renew()
        return True

    def eventArrived(self, message: EventMessage) -> None:
        """A NOTIFY for our SID (the server checked path, SID and sender)."""
        if self.state not in ("subscribed", "renewing") or message.sid != self.sid:
            return
        self._cancel("_initialTimer")
        if self.expectedSeq is None:
            if message.seq != 0:
                # the initial event (all the variables) was lost: this one is taken as the start, the rest read
                self.log.info("{label}: first event has SEQ {seq}, not 0; its state is read again", label=self.label,
                              seq=message.seq)
                generation = self._generation
                self.owner.stateMayBeStale(self, "seq-gap")
                if generation != self._generation:
                    return
        elif message.seq != self.expectedSeq:
            if message.seq == _previous(self.expectedSeq):
                return  # the same event delivered twice
            self._gap(message.seq)
            return
        self.expectedSeq = nextSEQ(message.seq)
        self.owner.eventReceived(self, list(message.variables))

    def eventsMayBeLost(self, why: str) -> None:
        """
        A NOTIFY that may have been this subscription's was refused or cut
        (L{CallbackServer}): the owner re-reads the state, at most once per
        L{LOST_INTERVAL} — a loss within it gets one re-read at its end, so
        that one always begins after the loss.
        """
        if self.state in ("idle", "closed") or self._lostCall is not None:
            return
        now = self.terms.clock.seconds()
        if self._lostAt is not None and now - self._lostAt < LOST_INTERVAL:
            self._lostCall = self.terms.server.timers.callLater(self._lostAt + LOST_INTERVAL - now, self._lostNow, why)
            return
        self._lostNow(why)

    def _lostNow(self, why: str) -> None:
        self._lostCall = None
        if self.state in ("idle", "closed"):
            return
        self._lostAt = self.terms.clock.seconds()
        self.log.info("{label}: an event NOTIFY may have been lost ({why}); its state is read again",
                      label=self.label, why=why)
        self.owner.stateMayBeStale(self, "lost")

    # the machine

    def _enter(self, state: str) -> None:
        self._generation += 1
        self.state = state
        self._cancel("_timer")
        self._cancel("_initialTimer")
        if state not in ("polling", "subscribing"):  # polling goes on while SUBSCRIBE is retried
            self._cancel("_pollTimer")

    def _cancel(self, name: str) -> None:
        timer = getattr(self, name)
        if timer is not None and timer.active():
            timer.cancel()
        setattr(self, name, None)

    def _settle(self) -> None:
        waiting, self._settled = self._settled, ()
        for d in waiting:
            d.callback(self.state)

    def _release(self) -> None:
        if self.token is not None:
            self.terms.server.unregister(self.token)
            self.token = None
        self.sid = None
        self.expectedSeq = None
        if self.state == "closed":
            self._cancel("_lostCall")

    def _subscribe(self) -> None:
        old = self.sid
        self._release()
        if old is not None:
            self._unsubscribe(old)
        self._enter("subscribing")
        generation = self._generation
        self.token = self.terms.server.register(self)
        try:
            url = self.terms.server.callbackURL(self.localAddress, self.token, self.scope)
        except Exception as e:  # cannot listen on that address
            self.log.warn("{label}: no callback server for {address}: {error}", label=self.label,
                          address=self.localAddress, error=e)
            self._failed(generation, f"no callback address: {e}")
            return
        request = Subscribe((url,), self.terms.requestedTimeout)
        d = self.terms.requester.request(
            "SUBSCRIBE", self.eventTarget, self.origin, headers=request.headers(),
            timeout=self.terms.requestTimeout, maxBytes=_MAX_ANSWER,
        )
        d.addCallbacks(self._subscribeAnswered, self._requestFailed, (generation,), None, (generation,))

    def _subscribeAnswered(self, result: Any, generation: int) -> None:
        if generation != self._generation:
            return
        if result.code != 200:
            self._failed(generation, f"SUBSCRIBE answered HTTP {result.code}")
            return
        try:
            answer = gena.parseSubscribeResponse(result.headers)
        except GENAError as e:
            self._failed(generation, f"SUBSCRIBE answer unusable: {e.reason}")
            return
        self._enter("subscribed")
        self.sid = answer.sid
        self.expectedSeq = None
        self.retries = 0
        self.granted = answer.timeout if answer.timeout is not None else ASSUMED_TIMEOUT
        if isinstance(self.granted, int) and self.granted < 2:
            self.granted = 2
        self._timer = self.terms.server.timers.callLater(renewDelay(self.granted, self.terms.rng), self._renew)
        self._initialTimer = self.terms.server.timers.callLater(INITIAL_EVENT_DUE, self._noInitialEvent)
        self.log.debug("{label}: subscribed, SID {sid}, {granted}", label=self.label, sid=self.sid,
                       granted=self.granted)
        first = not self.subscribedOnce
        self.subscribedOnce = True
        generation = self._generation
        assert self.token is not None
        backlog = self.terms.server.drainBacklog(self.token, answer.sid)
        # every call out may stop or restart this subscription: check after each
        self._settle()
        if generation != self._generation:
            return
        if not first:
            self.owner.stateMayBeStale(self, "resubscribed")
        for message in backlog:
            if generation != self._generation:
                return
            self.eventArrived(message)

    def _noInitialEvent(self) -> None:
        self._initialTimer = None
        if self.state in ("subscribed", "renewing") and self.expectedSeq is None:
            self.log.info("{label}: no initial event {due:g} s after subscribing; its state is read instead",
                          label=self.label, due=INITIAL_EVENT_DUE)
            self.owner.stateMayBeStale(self, "no-initial-event")

    def _requestFailed(self, failure: Failure, generation: int) -> None:
        if generation != self._generation:
            return
        failure.trap(HTTPFailure, URLRefused)
        why = failure.getErrorMessage()
        self._failed(generation, why)
        if self.subscribedOnce and failure.check(HTTPFailure):
            self._unreachable(why)

    def _unreachable(self, why: str) -> None:
        tell = getattr(self.owner, "unreachable", None)
        if tell is not None:
            tell(self, why)

    def _failed(self, generation: int, why: str) -> None:
        if generation != self._generation:
            return
        delay = RETRY_DELAYS[min(self.retries, len(RETRY_DELAYS) - 1)]
        self.retries += 1
        self.log.info("{label}: {why}; polling every {poll:g} s, SUBSCRIBE again in {delay} s",
                      label=self.label, why=why, poll=self.terms.pollInterval, delay=delay)
        self._release()
        self._enter("polling")
        self._timer = self.terms.server.timers.callLater(delay, self._retry)
        if self._pollTimer is None:
            self._pollTimer = self.terms.server.timers.callLater(self.terms.pollInterval, self._poll)
        self._settle()

    def _retry(self) -> None:
        self._timer = None
        if self.state == "polling":
            self._subscribe()

    def _poll(self) -> None:
        self._pollTimer = None
        if self.state not in ("polling", "subscribing"):
            return
        self._pollTimer = self.terms.server.timers.callLater(self.terms.pollInterval, self._poll)
        self.owner.stateMayBeStale(self, "poll")

    def _renew(self) -> None:
        self._timer = None
        if self.state != "subscribed" or self.sid is None:
            return
        sid = self.sid
        self.state = "renewing"
        generation = self._generation
        d = self.terms.requester.request(
            "SUBSCRIBE", self.eventTarget, self.origin,
            headers=gena.Renew(sid, self.terms.requestedTimeout).headers(),
            timeout=self.terms.requestTimeout, maxBytes=_MAX_ANSWER,
        )
        d.addCallbacks(self._renewAnswered, self._renewFailed, (generation, sid), None, (generation,))

    def _renewAnswered(self, result: Any, generation: int, sid: str) -> None:
        if generation != self._generation or self.state != "renewing":
            return
        if result.code == 200:
            try:
                answer = gena.parseSubscribeResponse(result.headers)
            except GENAError:
                answer = gena.SubscribeResponse(sid, None)
            if answer.sid == sid:
                self.state = "subscribed"
                self.renewals += 1
                self.granted = answer.timeout if answer.timeout is not None else ASSUMED_TIMEOUT
                if isinstance(self.granted, int) and self.granted < 2:
                    self.granted = 2
                self._timer = self.terms.server.timers.callLater(renewDelay(self.granted, self.terms.rng), self._renew)
                self.log.debug("{label}: renewed, {granted}", label=self.label, granted=self.granted)
                return
            why = "renewal answered with another SID"
        else:
            why = f"renewal answered HTTP {result.code}"
        self.log.info("{label}: {why}; subscribing again", label=self.label, why=why)
        self._subscribe()

    def _renewFailed(self, failure: Failure, generation: int) -> None:
        if generation != self._generation or self.state != "renewing":
            return
        failure.trap(HTTPFailure, URLRefused)
        why = failure.getErrorMessage()
        self.log.info("{label}: renewal failed ({why}); subscribing again", label=self.label, why=why)
        generation = self._generation
        self._subscribe()
        if failure.check(HTTPFailure) and generation + 1 == self._generation:
            self._unreachable(why)

    def _gap(self, seq: int) -> None:
        now = self.terms.clock.seconds()
        self.gaps = tuple(t for t in self.gaps if now - t < GAP_WINDOW) + (now,)
        self.log.info("{label}: event SEQ {seq} where {expected} was due; subscribing again",
                      label=self.label, seq=seq, expected=self.expectedSeq)
        generation = self._generation
        self.owner.stateMayBeStale(self, "seq-gap")
        if generation != self._generation:  # the owner stopped or restarted it meanwhile
            return
        if len(self.gaps) > MAX_GAPS:
            self._failed(generation, f"{len(self.gaps)} SEQ gaps in {GAP_WINDOW} s")
            return
        self._subscribe()

    def _unsubscribe(self, sid: str) -> "Deferred[None]":
        d = self.terms.requester.request(
            "UNSUBSCRIBE", self.eventTarget, self.origin, headers=gena.Unsubscribe(sid).headers(),
            timeout=min(self.terms.requestTimeout, 5.0), maxBytes=_MAX_ANSWER,
        )
        return d.addBoth(lambda _: None)


def _previous(seq: int) -> int:
    return gena.MAX_SEQ if seq == 1 else seq - 1


class _NotifyResource(Resource):
    isLeaf = True

    def __init__(self, callbacks: "CallbackServer") -> None:
        super().__init__()
        self.callbacks = callbacks

    def render(self, request: server.Request) -> bytes:
        if request.method != b"NOTIFY":
            request.setResponseCode(405)
            return b""
        status = self.callbacks.notify(request.path, request.getClientAddress(), request.requestHeaders,
                                       request.content.read())
        request.setResponseCode(status)
        return b""


class _CallbackSite(GuardedSite):
    """The callback server's guard: a loopback peer's quota is the whole server's (L{CallbackServer})."""

    def peerQuota(self, peer: str) -> int:
        try:
            if ipaddress.ip_address(peer.partition("%")[0]).is_loopback:
                return self.maxConnections + self.maxWaiting
        except ValueError:
            pass
        return self.maxPerPeer


class CallbackServer:
    """
    The HTTP server devices send events to.

    @param listenTCP: C{(port, factory, interface) → IListeningPort}.
    @param port: the TCP port on every address (0: any free one each).
    @param requestTimeout: seconds a device has to send a whole NOTIFY;
        C{maxConnections} and C{maxPerPeer} bound the connections open at
        once, a new one taking the place of the oldest still sending its
        request (L{proxier.httpguard}: slowloris, issue 11); past them up to
        C{maxWaiting} more wait, unread, for a slot (a burst of initial
        events). A loopback peer is the machine itself — in unicast-loopback
        mode a whole fleet of simulated devices on one address —: it counts
        against the total only, as the devices of a LAN each do.
    """

    log = Logger()

    def __init__(
        self,
        clock: Any,
        listenTCP: Callable[..., Any],
        *,
        port: int = 0,
        backlogSeconds: float = 5.0,
        maxBacklog: int = 16,
        maxBody: int = gena.MAX_BODY_BYTES,
        idleTimeout: float = 30.0,
        requestTimeout: float = 10.0,
        maxConnections: int = 64,
        maxPerPeer: int = 16,
        maxWaiting: int = 1024,
        tokenBytes: int = 18,
    ) -> None:
        self.clock = clock
        self.listenTCP = listenTCP
        self.port = port
        self.backlogSeconds = backlogSeconds
        self.maxBacklog = maxBacklog
        self.tokenBytes = tokenBytes
        self.site = _CallbackSite(_NotifyResource(self), clock=clock, name="GENA callback server",
                                  maxConnections=maxConnections, maxPerPeer=maxPerPeer, requestTimeout=requestTimeout,
                                  maxBody=maxBody, idleTimeout=idleTimeout, maxWaiting=maxWaiting)
        self.site.lost = self._lost
        self.listeners: dict[str, Any] = {}
        #: the subscriptions' timers (renewals, retries, polls), on one reactor call: several per device (issue 19)
        self.timers = TimerQueue(clock)
        self.subscriptions: dict[str, Subscription] = {}
        self.backlog: dict[str, list[tuple[float, EventMessage]]] = {}
        #: C{lost}: NOTIFY connections refused or cut before being served (each may be an event lost)
        self.counts = {"accepted": 0, "backlogged": 0, "refused": 0, "lost": 0}

    # listening

    def callbackURL(self, localAddress: str, token: str, scope: str = "") -> str:
        """
        The callback URL for a path token, listening on C{localAddress} first
        if not yet (C{scope}: the interface of an IPv6 link-local address).
        """
        port = self.listeners.get(localAddress)
        if port is None:
            interface = f"{localAddress}%{scope}" if scope and localAddress.lower().startswith("fe80") else localAddress
            # the kernel's accept queue is where a burst waits before the reactor takes it in
            backlog = max(50, min(4096, self.site.maxWaiting))
            port = self.listenTCP(self.port, self.site, backlog=backlog, interface=interface)
            self.listeners[localAddress] = port
            self.log.info("GENA callback server listening on {address} port {port}",
                          address=localAddress, port=port.getHost().port)
        return f"http://{formatHost(localAddress)}:{port.getHost().port}/gena/{token}"

    def stop(self) -> "Deferred[Any]":
        from twisted.internet.defer import gatherResults

        if self.listeners:  # a warning if events may have been lost (the benchmarks read it): their state was read
            (self.log.warn if self.counts["lost"] else self.log.info)(
                "GENA callback server stops: {accepted} events taken, {lost} NOTIFY connections refused or cut, "
                "{queued} made to wait for a slot", accepted=self.counts["accepted"], lost=self.counts["lost"],
                queued=self.site.counts["queued"])
        listeners, self.listeners = list(self.listeners.values()), {}
        return gatherResults([succeed(None)] + [d for d in (p.stopListening() for p in listeners) if d is not None])

    # subscriptions

    def register(self, subscription: Subscription) -> str:
        token = secrets.token_urlsafe(self.tokenBytes)
        self.subscriptions[token] = subscription
        return token

    def unregister(self, token: str) -> None:
        self.subscriptions.pop(token, None)
        self.backlog.pop(token, None)

    def drainBacklog(self, token: str, sid: str) -> list[EventMessage]:
        """The events kept for a path that carry C{sid}, in SEQ order; the rest dropped."""
        now = self.clock.seconds()
        kept = self.backlog.pop(token, [])
        fresh = [m for t, m in kept if now - t <= self.backlogSeconds and m.sid == sid]
        return sorted(fresh, key=lambda m: m.seq)

    def notify(self, path: bytes, peer: Any, headers: Any, body: bytes) -> int:
        """
        One NOTIFY: the status to answer with (200, or 400/403/412). Called by
        the resource; public for tests and benchmarks.
        """
        token = path.decode("latin-1").rpartition("/")[2] if path.startswith(b"/gena/") else ""
        subscription = self.subscriptions.get(token)
        host = getattr(peer, "host", "")
        if subscription is None:
            return self._refuse(412, "unknown callback path", host)
        if host.partition("%")[0] not in subscription.peers:
            return self._refuse(403, f"NOTIFY for {subscription.label} from {host}, not the device", host)
        try:
            message = gena.parseEventMessage(headers, body, self.site.maxBody)
        except GENAError as e:
            return self._refuse(e.status, f"{subscription.label}: {e.reason}", host)
        if subscription.state == "subscribing":
            kept = self.backlog.setdefault(token, [])
            if len(kept) >= self.maxBacklog:
                return self._refuse(412, f"{subscription.label}: backlog full", host)
            kept.append((self.clock.seconds(), message))
            self.counts["backlogged"] += 1
            return 200
        if message.sid != subscription.sid:
            return self._refuse(412, f"{subscription.label}: SID {message.sid[:60]} is not ours", host)
        self.counts["accepted"] += 1
        subscription.eventArrived(message)
        return 200

    def _lost(self, address: str, target: Optional[bytes], what: str) -> None:
        """
        The guard closed a connection from C{address} before its NOTIFY was
        served: the subscription of its path, if that came, else every
        subscription the address may send for, may have lost an event.
        """
        self.counts["lost"] += 1
        address = address.partition("%")[0]
        subscription = None
        if target is not None and target.startswith(b"/gena/"):
            subscription = self.subscriptions.get(target.decode("latin-1").rpartition("/")[2])
        if subscription is not None and address in subscription.peers:
            subscription.eventsMayBeLost(f"NOTIFY {what}")
            return
        for subscription in list(self.subscriptions.values()):
            if address in subscription.peers:
                subscription.eventsMayBeLost(f"a NOTIFY connection from {address} {what}")

    def _refuse(self, status: int, why: str, host: str) -> int:
        self.counts["refused"] += 1
        self.log.debug("GENA NOTIFY refused with {status}: {why}", status=status, why=why)
        return status
