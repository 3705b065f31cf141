# -*- test-case-name: tests.test_sim_gena -*-
"""
The publisher side of GENA (UDA 1.1 §4) for one service of a simulated
device, on the project's own codec (L{proxier.upnp.gena}).

 - SUBSCRIBE: the CALLBACK URLs must point at the subscriber's own network
   (the device's subnet — or loopback for a device on loopback); else 412.
   The TIMEOUT asked for is granted up to L{Publisher.maxTimeout}
   (C{Second-infinite} and none at all get the maximum). Beyond
   L{Publisher.maxSubscriptions}, 503.
 - The initial event carries every evented variable, with SEQ 0, and goes
   out only after the SUBSCRIBE answer (L{Publisher.start}).
 - Renewal and UNSUBSCRIBE of an unknown or expired SID: 412.
 - Each change of evented variables is one NOTIFY per subscription, SEQ
   counting up and wrapping to 1; a subscription has one NOTIFY in flight at
   a time, later changes wait and are merged, so events arrive in order.
   Variables the service type marks as moderated are sent at most once per
   their period, the last value winning (UDA 1.1 §4.3.2).
 - A NOTIFY that no callback URL takes counts as a failure; after
   L{Publisher.maxFailures} in a row the subscription is dropped.
 - A reboot forgets every subscription (L{Publisher.dropAll}).

The NOTIFY itself goes out through an injected L{Notifier}.
"""

from __future__ import annotations

import ipaddress
import uuid as _uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, Sequence
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from proxier.upnp import gena

__all__ = ["Publisher", "Subscription", "Notifier", "CallbackPolicy"]


class Notifier(Protocol):
    """Sends one event NOTIFY; fires with the HTTP status, or fails."""

    def __call__(self, url: str, headers: Sequence[tuple[str, str]], body: bytes) -> Deferred: ...


class CallbackPolicy:
    """
    Which callback URLs a device accepts: an IP literal inside one of
    C{networks} (the device's own subnets), and only when the subscriber
    itself is inside the same one.
    """

    def __init__(self, networks: Sequence[Any]) -> None:
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]

    def accepts(self, url: str, subscriber: str) -> bool:
        try:
            parts = urlsplit(url)
            parts.port
            host = ipaddress.ip_address((parts.hostname or "").split("%")[0])
            peer = ipaddress.ip_address(subscriber.split("%")[0])
        except ValueError:
            return False
        if getattr(peer, "ipv4_mapped", None) is not None:
            peer = peer.ipv4_mapped
        return any(host in network and peer in network for network in self.networks)


@dataclass
class Subscription:
    """One subscriber."""

    sid: str
    callbacks: tuple[str, ...]
    timeout: int
    expiry: Any = None
    seq: int = 0
    started: bool = False
    inflight: bool = False
    pending: dict[str, str] = field(default_factory=dict)
    failures: int = 0


class Publisher:
    """
    The subscriptions to one service and their events.

    @ivar maxTimeout: the longest subscription granted, in seconds.
    @ivar notifyTimeout: seconds a NOTIFY may take.
    """

    log = Logger()

    def __init__(
        self,
        service: Any,
        clock: Any,
        notifier: Notifier,
        policy: CallbackPolicy,
        *,
        maxTimeout: int = 1800,
        maxSubscriptions: int = 32,
        maxFailures: int = 5,
        log: Any = None,
        newSID: Callable[[], str] = lambda: f"uuid:{_uuid.uuid4()}",
    ) -> None:
        self.service = service
        self.clock = clock
        self.notifier = notifier
        self.policy = policy
        self.maxTimeout = maxTimeout
        self.maxSubscriptions = maxSubscriptions
        self.maxFailures = maxFailures
        self.newSID = newSID
        if log is not None:
            self.log = log
        self.subscriptions: dict[str, Subscription] = {}
        self._moderation = {
            v.name: v.moderation for v in service.serviceType.stateVariables.values() if v.moderation > 0
        }
        self._lastSent: dict[str, float] = {}
        self._held: dict[str, str] = {}
        self._flush: Any = None
        self._toLose = 0
        self._inflight: set[Deferred] = set()
        self.sent = 0
        service.addListener(self._changed)

    # -- subscriptions ----------------------------------------------------

    def _grant(self, asked: Optional[gena.Timeout]) -> int:
        if asked is None or asked is gena.INFINITE:
            return self.maxTimeout
        return max(1, min(int(asked), self.maxTimeout))

    def subscribe(self, request: gena.Subscribe, subscriber: str) -> gena.SubscribeResponse:
        """
        A first SUBSCRIBE from C{subscriber} (its address).

        @raise gena.GENAError: 412 (no acceptable callback), 503 (too many).
        """
        callbacks = tuple(url for url in request.callbacks if self.policy.accepts(url, subscriber))
        if not callbacks:
            raise gena.GENAError(412, f"no CALLBACK URL on the subscriber's network ({subscriber})")
        if len(self.subscriptions) >= self.maxSubscriptions:
            raise gena.GENAError(503, f"{len(self.subscriptions)} subscriptions already")
        sid = self.newSID()
        sub = Subscription(sid, callbacks, self._grant(request.timeout))
        sub.pending = dict(self.service.eventedValues())
        sub.expiry = self.clock.callLater(sub.timeout, self._expire, sid)
        self.subscriptions[sid] = sub
        self.log.debug("subscription {sid} from {subscriber} for {timeout} s", sid=sid,
                       subscriber=subscriber, timeout=sub.timeout)
        return gena.SubscribeResponse(sid, sub.timeout)

    def start(self, sid: str) -> None:
        """The SUBSCRIBE answer is out: send the initial event."""
        sub = self.subscriptions.get(sid)
        if sub is not None and not sub.started:
            sub.started = True
            self._deliver(sub)

    def forget(self, sid: str) -> None:
        """Drop a subscription whose SUBSCRIBE answer could not be delivered."""
        sub = self.subscriptions.pop(sid, None)
        if sub is not None:
            self._forget(sub)

    def renew(self, request: gena.Renew) -> gena.SubscribeResponse:
        """@raise gena.GENAError: 412 for a SID this service does not hold."""
        sub = self.subscriptions.get(request.sid)
        if sub is None:
            raise gena.GENAError(412, f"no subscription {request.sid[:60]}")
        sub.timeout = self._grant(request.timeout)
        if sub.expiry is not None and sub.expiry.active():
            sub.expiry.reset(sub.timeout)
        else:
            sub.expiry = self.clock.callLater(sub.timeout, self._expire, sub.sid)
        return gena.SubscribeResponse(sub.sid, sub.timeout)

    def unsubscribe(self, request: gena.Unsubscribe) -> None:
        """@raise gena.GENAError: 412 for a SID this service does not hold."""
        sub = self.subscriptions.pop(request.sid, None)
        if sub is None:
            raise gena.GENAError(412, f"no subscription {request.sid[:60]}")
        self._forget(sub)

    def _expire(self, sid: str) -> None:
        sub = self.subscriptions.pop(sid, None)
        if sub is not None:
            sub.expiry = None
            self.log.debug("subscription {sid} expired", sid=sid)

    def _forget(self, sub: Subscription) -> None:
        if sub.expiry is not None and sub.expiry.active():
            sub.expiry.cancel()
        sub.expiry = None

    def dropAll(self) -> None:
        """The device rebooted: no subscription survives."""
        for sub in self.subscriptions.values():
            self._forget(sub)
        self.subscriptions.clear()
        if self._flush is not None and self._flush.active():
            self._flush.cancel()
        self._flush = None
        self._held.clear()
        self._lastSent.clear()
        inflight, self._inflight = self._inflight, set()
        for d in inflight:
            d.cancel()

    def loseEvents(self, count: int = 1) -> None:
        """
        Let the next C{count} events go unsent (their SEQ is used all the
        same): a subscriber sees a gap, as after a lost NOTIFY.
        """
        self._toLose += count

    # -- events -----------------------------------------------------------

    def _changed(self, values: list[tuple[str, str]]) -> None:
        now = self.clock.seconds()
        immediate: list[tuple[str, str]] = []
        for name, value in values:
            period = self._moderation.get(name)
            if period is None:
                immediate.append((name, value))
            elif name not in self._held and now - self._lastSent.get(name, -period) >= period:
                self._lastSent[name] = now
                immediate.append((name, value))
            else:
                self._held[name] = value
                due = self._lastSent.get(name, now) + period
                if self._flush is None or not self._flush.active():
                    self._flush = self.clock.callLater(max(0.0, due - now), self._release)
        if immediate:
            self._dispatch(immediate)

    def _release(self) -> None:
        self._flush = None
        now = self.clock.seconds()
        held, self._held = self._held, {}
        for name in held:
            self._lastSent[name] = now
        if held:
            self._dispatch(list(held.items()))

    def _dispatch(self, values: list[tuple[str, str]]) -> None:
        for sub in list(self.subscriptions.values()):
            sub.pending.update(values)
            if sub.started:
                self._deliver(sub)

    def _deliver(self, sub: Subscription) -> None:
        if sub.inflight or not sub.pending or self.subscriptions.get(sub.sid) is not sub:
            return
        message = gena.EventMessage(sub.sid, sub.seq, tuple(sub.pending.items()))
        sub.pending = {}
        sub.inflight = True
        if self._toLose > 0 and message.seq > 0:
            self._toLose -= 1
            self.log.debug("event {seq} of {sid} lost on purpose", seq=message.seq, sid=sub.sid)
            self._next(sub)
            return
        self._send(sub, message, 0)

    def _send(self, sub: Subscription, message: gena.EventMessage, index: int) -> None:
        url = sub.callbacks[index]
        try:
            d = self.notifier(url, message.headers(), message.body())
        except Exception as e:  # a notifier must not raise, but never let it wedge a subscription
            from twisted.internet.defer import fail

            d = fail(e)
        self._inflight.add(d)

        def done(result: Any) -> Any:
            self._inflight.discard(d)
            return result

        d.addBoth(done)
        d.addCallbacks(self._sent, self._notSent, callbackArgs=(sub, message, index),
                       errbackArgs=(sub, message, index))

    def _sent(self, status: int, sub: Subscription, message: gena.EventMessage, index: int) -> None:
        if not 200 <= int(status) < 300:
            self._notSent(f"HTTP {status}", sub, message, index)
            return
        sub.failures = 0
        self.sent += 1
        self._next(sub)

    def _notSent(self, reason: Any, sub: Subscription, message: gena.EventMessage, index: int) -> None:
        if self.subscriptions.get(sub.sid) is not sub:
            return  # unsubscribed, expired or dropped meanwhile: nobody to tell
        text = reason.getErrorMessage() if hasattr(reason, "getErrorMessage") else str(reason)
        if index + 1 < len(sub.callbacks) and self.subscriptions.get(sub.sid) is sub:
            self._send(sub, message, index + 1)
            return
        sub.failures += 1
        self.log.info("event {seq} of {sid} not delivered to {url}: {reason}", seq=message.seq, sid=sub.sid,
                      url=sub.callbacks[index], reason=text)
        if sub.failures >= self.maxFailures and self.subscriptions.get(sub.sid) is sub:
            self.log.warn("subscription {sid} dropped after {n} undelivered events", sid=sub.sid,
                          n=sub.failures)
            del self.subscriptions[sub.sid]
            self._forget(sub)
            return
        self._next(sub)

    def _next(self, sub: Subscription) -> None:
        sub.seq = gena.nextSEQ(sub.seq)
        sub.inflight = False
        self._deliver(sub)
