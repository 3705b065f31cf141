# -*- test-case-name: tests.test_console_events -*-
"""
The console's live updates: C{GET /api/events}, a stream of Server-Sent
Events (the HTML standard's C{text/event-stream}) telling the page what
changed, so that it refreshes then rather than polling.

Nothing here subscribes to a device or an endpoint (the console knows no
protocol and adds no hook to the CWMP side): while at least one client
listens, every L{PERIOD} seconds the hub takes what the API shows — each
device's online state and its endpoint's C{snapshot()}, the
CommandProcessed of a device shown as embedded objects (the source's
C{embedded()}), and the devices found but not proxied (the source's
C{pending()}) — and sends what differs
from its last look (L{changes}, L{pendingChanges}). A session that comes and goes
within one period is seen when it ended.

Value changes take the models' own route instead: while a client listens
the hub is a change listener of each endpoint's model
(L{INotifyingDataModel}), the one way a change with Notification on takes
to the endpoint, so that it is told as it happens — also a change with
active notification, which a session started at once hands to the ACS
before any look would see it held. A change of the proxier's own endpoint
inside a device's embedded objects is told for the proxier and for that
device. The hub stops listening with its last
client (the endpoint listens anyway while it runs, so its models detect
changes with or without the console).

Events (each C{data} is a JSON object with the device's C{key}, C{"self"}
for the proxier's own endpoint):

 - C{device}: C{what} C{appeared} (with C{online}) or C{removed} (a device
   shown as embedded objects alone too: it has no sessions);
 - C{online}, C{offline};
 - C{session}: C{what} C{start}, or C{end} with C{ok}, C{reason} and the
   Inform's C{events};
 - C{value-change}: the C{names} of parameters with Notification on that
   changed by themselves or from the console (what the ACS hears as
   "4 VALUE CHANGE"), and whether any of them is C{active}; C{via}
   C{embedded} for a device's embedded objects (the names are the own
   tree's);
 - C{embedded}: a device's EmbeddedDevice row changed its
   C{commandProcessed} (with C{commandProcessingErrMsg});
 - C{pending}: a device found but not proxied (its C{key} and C{protocol}
   as C{/api/devices} lists it under C{pending}) C{appeared}, C{changed}
   (its state, why or notices; with its C{state}) or is C{gone} — gone
   from that list, as it is once proxied (a C{device} event tells that).

A comment line every L{HEARTBEAT} seconds of silence keeps proxies and
NATs from dropping the connection, and shows a dead client at the next
write. At most L{MAX_CLIENTS} streams are open (each holds a connection
of the guarded site for as long as it lasts); one more is answered 503 and
the page polls instead. The guard's whole-request deadline bounds reading
a request, not the answer: a stream lasts as long as its client.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional, Sequence

from twisted.logger import Logger
from twisted.web.server import NOT_DONE_YET

from proxier.datamodel.capabilities import INotifyingDataModel

__all__ = ["EventHub", "endpoints", "look", "changes", "lookPending", "pendingChanges", "PERIOD", "HEARTBEAT",
           "MAX_CLIENTS", "RETRY"]

#: seconds between two looks at the devices while a client listens
PERIOD = 1.0
#: seconds of silence after which a comment line is sent
HEARTBEAT = 15.0
#: event streams open at once
MAX_CLIENTS = 4
#: milliseconds a browser waits before it reconnects a lost stream
RETRY = 5000

#: the key of the proxier's own endpoint (L{proxier.console.api.OWN_KEY})
_OWN = "self"


def endpoints(source: Any) -> list[tuple[str, bool, Any]]:
    """The proxier's own endpoint and each device's, as (key, online, endpoint)."""
    found: list[tuple[str, bool, Any]] = []
    own = source.ownEndpoint()
    if own is not None:
        found.append((_OWN, bool(own.online), own))
    found += [(device.key, bool(device.online), endpoint) for device, endpoint in source.devices()]
    return found


def look(source: Any) -> dict[str, dict[str, Any]]:
    """
    What is compared, by device key: online, in session, sessions started,
    last session, and for a device shown as embedded objects how its
    commands went (a device with no endpoint of its own has no session).
    """
    out = {}
    for key, online, endpoint in endpoints(source):
        snapshot = endpoint.snapshot()
        out[key] = {"online": online, "inSession": bool(snapshot["inSession"]), "sessions": snapshot["sessions"],
                    "lastSession": snapshot["lastSession"] or {}}
    for shown in source.embedded():
        key = shown.device.key
        seen = out.setdefault(key, {"online": bool(shown.device.online), "inSession": False, "sessions": 0,
                                    "lastSession": {}})
        seen["embedded"] = {"commandProcessed": shown.commandProcessed,
                            "commandProcessingErrMsg": shown.commandProcessingErrMsg}
    return out


def changes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The events that take C{before} to C{after} (two L{look}s), devices removed first, then by key."""
    events: list[tuple[str, dict[str, Any]]] = [("device", {"key": key, "what": "removed"})
                                                for key in sorted(before.keys() - after.keys())]
    for key in sorted(after):
        now, was = after[key], before.get(key)
        if was is None:
            events.append(("device", {"key": key, "what": "appeared", "online": now["online"]}))
            continue
        if now["online"] != was["online"]:
            events.append(("online" if now["online"] else "offline", {"key": key}))
        if now["sessions"] > was["sessions"]:
            events.append(("session", {"key": key, "what": "start"}))
        last = now["lastSession"]
        if last and last.get("ended") != was["lastSession"].get("ended"):
            events.append(("session", {"key": key, "what": "end", "ok": bool(last.get("ok")),
                                       "reason": last.get("reason", ""), "events": list(last.get("events", []))}))
        if now.get("embedded") and now["embedded"] != was.get("embedded"):
            events.append(("embedded", {"key": key, **now["embedded"]}))
    return events


def lookPending(source: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """What is compared of the devices found but not proxied, by (protocol, key): state, why, notices."""
    return {(p.protocol, p.key): {"state": p.state, "why": p.why, "notices": [list(n) for n in p.notices]}
            for p in source.pending()}


def pendingChanges(before: dict[tuple[str, str], dict[str, Any]],
                   after: dict[tuple[str, str], dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The C{pending} events that take C{before} to C{after} (two L{lookPending}s), those gone first."""
    events: list[tuple[str, dict[str, Any]]] = [("pending", {"key": key, "protocol": protocol, "what": "gone"})
                                                for protocol, key in sorted(before.keys() - after.keys())]
    for protocol, key in sorted(after):
        was, now = before.get((protocol, key)), after[(protocol, key)]
        if was != now:
            what = "appeared" if was is None else "changed"
            events.append(("pending", {"key": key, "protocol": protocol, "what": what, "state": now["state"]}))
    return events


def encode(event: str, data: dict[str, Any]) -> bytes:
    """One event as the stream carries it (JSON has no newline: one data line)."""
    return b"event: " + event.encode("ascii") + b"\ndata: " + json.dumps(data, sort_keys=True).encode("utf-8") + \
        b"\n\n"


class EventHub:
    """
    The open event streams of one console, and the look that feeds them.

    @param source: a L{ConsoleSource<proxier.console.api.ConsoleSource>}.
    @param clock: the reactor's time and calls.
    """

    log = Logger()

    def __init__(self, source: Any, clock: Any, *, maxClients: int = MAX_CLIENTS, period: float = PERIOD,
                 heartbeat: float = HEARTBEAT) -> None:
        self.source = source
        self.clock = clock
        self.maxClients = maxClients
        self.period = period
        self.heartbeat = heartbeat
        self.clients: list[Any] = []
        self._last: dict[str, dict[str, Any]] = {}
        self._lastPending: dict[tuple[str, str], dict[str, Any]] = {}
        self._lastWrite = 0.0
        self._timer: Any = None
        #: by device key: the model the hub listens on, and its listener
        self._watched: dict[str, tuple[Any, Callable[..., None]]] = {}

    def render(self, request: Any) -> Any:
        """Open a stream on C{request}, or answer 503 when L{maxClients} are open."""
        if len(self.clients) >= self.maxClients:
            request.setResponseCode(503)
            request.setHeader(b"Content-Type", b"application/json; charset=utf-8")
            request.setHeader(b"Retry-After", b"60")
            return json.dumps({"error": {"code": 9004, "string": f"Resources exceeded ({self.maxClients} event "
                                                                 "streams open: poll /api/devices instead)"}},
                              sort_keys=True).encode("utf-8")
        request.setHeader(b"Content-Type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"Cache-Control", b"no-store")
        if not self.clients:
            self._last = self._look() or {}
            self._lastPending = self._lookPending() or {}
            self._watch()
            self._schedule()
        self.clients.append(request)
        request.notifyFinish().addBoth(lambda _: self._forget(request))
        # the headers and this go at once: the browser's EventSource is open
        request.write(b"retry: %d\n\n" % RETRY)
        self._lastWrite = self.clock.seconds()
        return NOT_DONE_YET

    def stop(self) -> None:
        """End every stream (the console stops)."""
        for request in list(self.clients):
            self._forget(request)
            request.finish()

    def _forget(self, request: Any) -> None:
        if request in self.clients:
            self.clients.remove(request)
        if not self.clients:
            self._unwatch(set(self._watched))
            if self._timer is not None:
                if self._timer.active():
                    self._timer.cancel()
                self._timer = None

    def _schedule(self) -> None:
        self._timer = self.clock.callLater(self.period, self._tick)

    def _look(self) -> Optional[dict[str, dict[str, Any]]]:
        try:
            return look(self.source)
        except Exception:
            self.log.failure("console: the look at the devices for the event streams failed")
            return None

    def _lookPending(self) -> Optional[dict[tuple[str, str], dict[str, Any]]]:
        try:
            return lookPending(self.source)
        except Exception:
            self.log.failure("console: the look at the devices not proxied for the event streams failed")
            return None

    def _watch(self) -> None:
        """Listen on the model of each endpoint there is now, no longer on those gone (or replaced)."""
        try:
            models = {key: endpoint.model for key, _, endpoint in endpoints(self.source)
                      if INotifyingDataModel.providedBy(endpoint.model)}
        except Exception:
            self.log.failure("console: listing the devices' models for the event streams failed")
            return
        self._unwatch({key for key, (model, _) in self._watched.items() if models.get(key) is not model})
        for key, model in models.items():
            if key not in self._watched:
                listener = self._listener(key)
                try:
                    model.addChangeListener(listener)
                except Exception:
                    self.log.failure("console: listening on the model of {key} failed", key=key)
                    continue
                self._watched[key] = (model, listener)

    def _unwatch(self, keys: set[str]) -> None:
        for key in keys:
            model, listener = self._watched.pop(key)
            try:
                model.removeChangeListener(listener)
            except (KeyError, ValueError):
                pass  # the model was reset without it

    def _listener(self, key: str) -> Callable[[Sequence[Any], bool], None]:
        def changed(values: Sequence[Any], active: bool) -> None:
            names = [value.name for value in values]
            if names and self.clients:
                told = [encode("value-change", {"key": key, "names": names, "active": bool(active)})]
                if key == _OWN:
                    told += self._embeddedChanges(names, active)
                self._send(b"".join(told))

        return changed

    def _embeddedChanges(self, names: Sequence[str], active: bool) -> list[bytes]:
        """The own endpoint's changed names inside a device's embedded objects, told for that device."""
        try:
            shown = list(self.source.embedded())
        except Exception:
            self.log.failure("console: listing the embedded objects for the event streams failed")
            return []
        told = []
        for presentation in shown:
            inside = [name for name in names if name.startswith(presentation.roots)]
            if inside:
                told.append(encode("value-change", {"key": presentation.device.key, "names": inside,
                                                    "active": bool(active), "via": "embedded"}))
        return told

    def _tick(self) -> None:
        self._timer = None
        self._watch()
        events: list[tuple[str, dict[str, Any]]] = []
        now = self._look()
        if now is not None:
            events, self._last = changes(self._last, now), now
        pending = self._lookPending()
        if pending is not None:
            events, self._lastPending = events + pendingChanges(self._lastPending, pending), pending
        if events:
            self._send(b"".join(encode(name, data) for name, data in events))
        if self.clients and self.clock.seconds() - self._lastWrite >= self.heartbeat:
            self._send(b": heartbeat\n\n")
        if self.clients:
            self._schedule()

    def _send(self, data: bytes) -> None:
        self._lastWrite = self.clock.seconds()
        for request in list(self.clients):
            request.write(data)
