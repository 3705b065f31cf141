# -*- test-case-name: tests.test_console -*-
"""
The console's JSON API (README.rst, "The local console"): what the proxier
and each Virtual CWMP Device are doing, and a parameter browser reading and
writing through the very model the ACS's RPCs use — so what the console
shows is what the ACS would get, and a write is refused with the CWMP fault
the ACS would see.

Devices are reached through the shared interfaces only (L{IProxiedDevice},
the optional L{IDeviceAttention} for what a person must do, L{ICWMPEndpoint}
and its model): nothing here knows a protocol. So are the devices a
protocol found but does not proxy (yet) — the one whose owner must press
its button first, the printer that tells no identity — from each protocol
service providing L{IPendingDevices}: listed beside the devices, marked not
proxied, with what a person must do. A device proxied by the Embedded Object
Mechanism (TR-069 Annex J.3) has no endpoint of its own, only rows of the
proxier's own tree (L{EmbeddedPresentation}): it is listed like the others,
and its parameter browser is the proxier's own endpoint under those rows —
what the ACS reads there, written through the same SetParameterValues path
(into the proxier's synchronized copy, pushed down afterwards). A device
presented both ways is listed once, with both. A write is
made with L{ILocalWrites}, never as the ACS's: where Notification is on the
ACS hears of it as "4 VALUE CHANGE" (TR-069 A.3.2.4).

Writes need the session's token in an C{X-Proxier-CSRF} header and a JSON
body (C{Content-Type: application/json}): a page of another origin can send
neither without a CORS preflight, which is never answered, and cannot read
the token (GET /api/session) either.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, Optional, Protocol, Sequence

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.server import NOT_DONE_YET

from proxier._version import __version__
from proxier.console.events import EventHub
from proxier.console.notices import (
    Notice,
    commandNotices,
    consoleNotices,
    embeddedNotices,
    ordered,
    sessionNotices,
    stateNotices,
    unpresentedNotices,
)
from proxier.datamodel import paths
from proxier.datamodel.capabilities import ILocalWrites
from proxier.datamodel.faults import CWMPFault, asFault
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.interfaces import IDeviceAttention, IPendingDevices, PendingDevice

__all__ = ["ConsoleAPI", "ConsoleSource", "TreeSource", "EmbeddedPresentation", "OWN_KEY", "CSRF_HEADER",
           "MODEL_TIMEOUT", "MAX_VALUES", "VIRTUAL", "EMBEDDED", "BOTH"]

#: the key of the proxier's own endpoint in the API's URLs (a device key always holds a "-")
OWN_KEY = "self"
CSRF_HEADER = b"X-Proxier-CSRF"
#: seconds a read or write through a model may take before the console answers 504
MODEL_TIMEOUT = 30.0
#: parameters one write may set, and the longest path the API looks at
MAX_VALUES = 64
MAX_PATH = 1024

#: how a device is presented to the ACS (the values of the protocols' [section] mechanism, TR-069 Annex J)
VIRTUAL, EMBEDDED, BOTH = "virtual", "embedded", "both"

# The HTTP status of a CWMP fault (every other code, the caller's mistakes, is 400).
_FAULT_STATUS = {9000: 405, 9001: 403, 9002: 502, 9008: 403}


@dataclass(frozen=True)
class EmbeddedPresentation:
    """
    A device proxied by the Embedded Object Mechanism, as its rows of the
    proxier's own tree show it when looked at: plain data, no protocol.

    @ivar device: the L{IProxiedDevice}.
    @ivar row: its C{Device.ManagementServer.EmbeddedDevice.{i}.} row.
    @ivar reference: the row its objects are (C{Reference}, with its dot:
        C{Device.Services.PrintService.2.}).
    @ivar lastSyncTime: seconds (the clock's), or None: not synchronized since the proxier started.
    """

    device: Any
    row: str
    reference: str
    commandProcessed: str
    commandProcessingErrMsg: str
    lastSyncTime: Optional[float]

    @property
    def roots(self) -> tuple[str, str]:
        """The own tree's objects its parameter browser shows: its EmbeddedDevice row, then its objects."""
        return (self.row, self.reference)


class ConsoleSource(Protocol):
    """
    What the console reads: the proxier's own endpoint, each device with its
    endpoint, the devices presented as embedded objects.
    """

    identity: DeviceIdentity

    def ownEndpoint(self) -> Any: ...

    def devices(self) -> list[tuple[Any, Any]]: ...

    def device(self, key: str) -> Optional[tuple[Any, Any]]: ...

    def embedded(self) -> Sequence[EmbeddedPresentation]: ...

    def pending(self) -> Sequence[PendingDevice]: ...

    def notices(self) -> Sequence[Notice]:
        """What the running proxier knows a person must put right, beyond its own endpoint's sessions."""

    def connectionRequestURL(self, endpoint: Any) -> str: ...


class TreeSource:
    """L{ConsoleSource} over a running L{ProxierService<proxier.service.ProxierService>}."""

    def __init__(self, tree: Any) -> None:
        self._tree = tree
        self.identity = tree.identity

    def ownEndpoint(self) -> Any:
        return self._tree.ownEndpoint

    def devices(self) -> list[tuple[Any, Any]]:
        """Every device of the directory that has an endpoint (a device no model fits has none)."""
        endpoints = self._tree.cwmp.manager.endpoints
        return [(d, endpoints[d.key]) for d in self._tree.directory.devices() if d.key in endpoints]

    def device(self, key: str) -> Optional[tuple[Any, Any]]:
        device = self._tree.directory.get(key)
        endpoint = self._tree.cwmp.manager.endpoints.get(key)
        return (device, endpoint) if device is not None and endpoint is not None else None

    def embedded(self) -> list[EmbeddedPresentation]:
        """
        The rows of the own model's embedded objects (an
        L{EmbeddingProxierModel<proxier.datamodel.gateway.EmbeddingProxierModel>}
        has them; a model without, as in embedded mode, none), as they are now.
        """
        own = self._tree.ownEndpoint
        objects = getattr(own.model, "embeddedObjects", None) if own is not None else None
        if objects is None:
            return []
        return [EmbeddedPresentation(row.device, f"{objects.rowsTable}{row.number}.", row.reference,
                                     row.synced.state, row.synced.errorMessage, row.synced.lastSyncTime())
                for row in objects.rows.values() if row.number is not None]

    def pending(self) -> list[PendingDevice]:
        """What each protocol service providing L{IPendingDevices} found and does not proxy (yet)."""
        found: list[PendingDevice] = []
        for service in self._tree:
            if IPendingDevices.providedBy(service):
                found.extend(service.pending())
        return found

    def notices(self) -> list[Notice]:
        """
        State held in memory only (an endpoint whose last save failed),
        devices meant to be Virtual CWMP Devices that have no endpoint, a
        console served in plain HTTP off loopback, embedded mode still
        waiting for its device (L{proxier.console.notices}).
        """
        tree = self._tree
        own = tree.ownEndpoint
        endpoints = tree.cwmp.manager.endpoints
        undurable = [OWN_KEY] if own is not None and not own.state.durable else []
        undurable += sorted(key for key, e in endpoints.items() if e is not own and not e.state.durable)
        out = stateNotices(tree.store.path, undurable)
        out += unpresentedNotices(d.key for d in tree.virtualDirectory.devices() if d.key not in endpoints)
        out += consoleNotices(tree.config["console"])
        if tree.embedded is not None:
            out += embeddedNotices(identified=own is not None)
        return out

    def connectionRequestURL(self, endpoint: Any) -> str:
        return self._tree.cwmp.server.url(endpoint.connectionRequestPath)


class BadRequest(Exception):
    """The request is wrong (400, or C{status}), with a CWMP fault to show for it."""

    def __init__(self, fault: CWMPFault, status: int = 400) -> None:
        super().__init__(fault)
        self.fault = fault
        self.status = status


def _identity(identity: DeviceIdentity) -> dict[str, str]:
    return {"manufacturer": identity.manufacturer, "oui": identity.oui, "productClass": identity.productClass,
            "serialNumber": identity.serialNumber, "key": identity.key}


def _notices(device: Any) -> list[dict[str, str]]:
    """What a person must know or do about C{device} (L{IDeviceAttention}, optional): none when it says nothing."""
    if not IDeviceAttention.providedBy(device):
        return []
    return [{"kind": kind, "text": text, "since": since} for kind, text, since in device.notices()]


def pendingJSON(pending: PendingDevice) -> dict[str, Any]:
    """A device found but not proxied, as the API shows it: C{proxied} false, no endpoint, no parameters."""
    return {"key": pending.key, "label": pending.label, "protocol": pending.protocol, "host": pending.host,
            "state": pending.state, "why": pending.why, "proxied": False,
            "notices": [{"kind": kind, "text": text, "since": since} for kind, text, since in pending.notices]}


def embeddedJSON(shown: EmbeddedPresentation, writable: bool) -> dict[str, Any]:
    """A device's embedded objects: its rows and how the last commands went (TR-181 EmbeddedDevice)."""
    return {"row": shown.row, "reference": shown.reference, "commandProcessed": shown.commandProcessed,
            "commandProcessingErrMsg": shown.commandProcessingErrMsg, "lastSyncTime": shown.lastSyncTime,
            "writable": writable}


class _Target:
    """
    What a parameter browser request reads and writes: an endpoint's whole
    model, or (C{roots}) the proxier's own endpoint under a device's rows.
    """

    def __init__(self, endpoint: Any, roots: Optional[Sequence[str]] = None, key: str = OWN_KEY) -> None:
        self.endpoint = endpoint
        self.model = endpoint.model
        self.roots = tuple(roots) if roots is not None else None
        self.key = key

    @property
    def via(self) -> str:
        return EMBEDDED if self.roots is not None else VIRTUAL

    def check(self, path: str) -> None:
        """9005 for a path outside the device's rows (the rest of the own tree is the proxier's)."""
        if self.roots is not None and not any(path.startswith(root) for root in self.roots):
            raise BadRequest(CWMPFault(9005, f"Invalid parameter name ({path} is not in {self.key}'s rows: "
                                             f"{' or '.join(self.roots)})"))

    def expand(self, path: str) -> list[str]:
        """A path asked: the empty one is the device's rows, for a device shown by its rows."""
        if path or self.roots is None:
            self.check(path)
            return [path]
        return list(self.roots)


def faultJSON(fault: CWMPFault) -> dict[str, Any]:
    out: dict[str, Any] = {"code": fault.code, "string": fault.string}
    if fault.parameterFaults:
        out["parameterFaults"] = [{"name": f.parameterName, "code": f.faultCode, "string": f.faultString}
                                  for f in fault.parameterFaults]
    return out


class ConsoleAPI:
    """
    Everything under C{/api/}, on a L{ConsoleSource}; each request handled by
    L{render} with the user the server authenticated.

    @param clock: for uptime and the model timeout.
    """

    log = Logger()

    def __init__(self, source: ConsoleSource, clock: Any, *, timeout: float = MODEL_TIMEOUT) -> None:
        self.source = source
        self.clock = clock
        self.timeout = timeout
        self.started = clock.seconds()
        self.csrfToken = secrets.token_urlsafe(24)
        self.events = EventHub(source, clock)

    # ---- HTTP ------------------------------------------------------------------------

    def render(self, request: Any, segments: Sequence[bytes], user: str) -> Any:
        """Answer C{request} for C{/api/<segments>} on behalf of C{user} (a name, or C{"loopback"})."""
        if list(segments) == [b"events"] and request.method == b"GET":
            return self.events.render(request)  # a stream, not one JSON answer
        d = defer.maybeDeferred(self._route, request, [s.decode("ascii", "replace") for s in segments], user)
        done: list[bool] = []

        def answered(result: tuple[int, Any]) -> None:
            status, payload = result
            if not done:
                done.append(True)
                request.write(self._json(request, status, payload))
                request.finish()

        def failed(failure: Any) -> None:
            if failure.check(BadRequest):
                error = failure.value
                answered((error.status, {"error": faultJSON(error.fault)}))
            elif failure.check(CWMPFault):
                fault = failure.value
                answered((_FAULT_STATUS.get(fault.code, 400), {"error": faultJSON(fault)}))
            elif failure.check(defer.TimeoutError, defer.CancelledError):
                answered((504, {"error": faultJSON(CWMPFault(
                    9002, f"Internal error (the device did not answer in {self.timeout:g} s)"))}))
            else:
                self.log.failure("console request {uri} failed", failure, uri=request.uri)
                answered((500, {"error": faultJSON(asFault(failure.value))}))

        d.addCallbacks(answered, failed)
        if not done:
            def gone(_: Any) -> None:
                done.append(True)  # nothing may be written to a lost connection
                d.cancel()  # and nobody waits on the device any more

            request.notifyFinish().addErrback(gone)
        return NOT_DONE_YET

    @staticmethod
    def _json(request: Any, status: int, payload: Any) -> bytes:
        request.setResponseCode(status)
        request.setHeader(b"Content-Type", b"application/json; charset=utf-8")
        request.setHeader(b"Cache-Control", b"no-store")
        return json.dumps(payload, sort_keys=True).encode("utf-8")

    def _route(self, request: Any, segments: list[str], user: str) -> Any:
        method = request.method
        if segments == ["status"] and method == b"GET":
            return (200, self.status())
        if segments == ["session"] and method == b"GET":
            return (200, {"user": user, "csrf": self.csrfToken})
        if segments == ["devices"] and method == b"GET":
            return (200, {"devices": self.devices(), "pending": self.pending()})
        if len(segments) == 3 and segments[0] == "devices" and segments[2] in ("names", "values"):
            target = self._target(segments[1], request)
            if segments[2] == "names" and method == b"GET":
                return self._names(target, request)
            if segments[2] == "values" and method == b"GET":
                return self._values(target, request)
            if segments[2] == "values" and method == b"POST":
                return self._set(target, request, user)
            raise BadRequest(CWMPFault(9000, "Method not supported (use GET, or POST for values)"), 405)
        raise BadRequest(CWMPFault(9000, "Method not supported (no such API)"), 404)

    # ---- what is shown ---------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """
        The proxier itself: identity, version, ACS, uptime, how many devices
        (online; of them, how many are shown as embedded objects), how many
        found are not proxied (yet), and what an installer must know about
        it (C{notices}, most pressing first, as a device's).
        """
        own = self.source.ownEndpoint()  # None in embedded mode until the device is identified
        devices = self._proxied()
        notices = sessionNotices(own.snapshot()) if own is not None else []
        return {
            "identity": _identity(own.identity if own is not None else self.source.identity),
            "version": __version__,
            "acsURL": own.snapshot()["acsURL"] if own is not None else "",
            "uptime": int(self.clock.seconds() - self.started),
            "devices": len(devices),
            "online": sum(1 for device, _, _ in devices if device.online),
            "embedded": sum(1 for _, _, shown in devices if shown is not None),
            "pending": len(self.source.pending()),
            "endpoint": self._endpointJSON(own) if own is not None else None,
            "notices": [{"kind": kind, "text": text, "since": since}
                        for kind, text, since in ordered([*notices, *self.source.notices()])],
        }

    def _proxied(self) -> list[tuple[Any, Any, Optional[EmbeddedPresentation]]]:
        """Every device proxied, once, by key: (device, its endpoint or None, its embedded objects or None)."""
        pairs = {device.key: (device, endpoint) for device, endpoint in self.source.devices()}
        shown = {p.device.key: p for p in self.source.embedded()}
        return [(*(pairs[key] if key in pairs else (shown[key].device, None)), shown.get(key))
                for key in sorted(pairs.keys() | shown)]

    def devices(self) -> list[dict[str, Any]]:
        """
        Every device proxied, by key: a Virtual CWMP Device with its endpoint
        (C{cwmp}), one shown as the own tree's objects with its rows
        (C{embedded}), one presented both ways with both.
        """
        out = []
        own = self.source.ownEndpoint()
        for device, endpoint, shown in self._proxied():
            mechanism = BOTH if endpoint is not None and shown is not None else VIRTUAL if shown is None else EMBEDDED
            row = {"key": device.key, "identity": _identity(device.identity), "protocol": device.proxyProtocol,
                   "discovery": device.discoveryProtocol, "host": device.host, "online": bool(device.online),
                   "proxied": True, "mechanism": mechanism}
            row["notices"] = _notices(device)
            if endpoint is not None:
                row.update(self._endpointJSON(endpoint))
            else:  # no endpoint of its own: the ACS reaches it through the proxier's
                row.update({"connectionRequestURL": "", "writable": False, "cwmp": None})
            row["embedded"] = None
            if shown is not None:
                row["embedded"] = embeddedJSON(shown, own is not None and ILocalWrites.providedBy(own.model))
                row["notices"] += [{"kind": kind, "text": text, "since": since} for kind, text, since
                                   in commandNotices(shown.commandProcessed, shown.commandProcessingErrMsg)]
            out.append(row)
        return out

    def pending(self) -> list[dict[str, Any]]:
        """The devices found but not proxied (yet), by protocol and key."""
        return [pendingJSON(p) for p in sorted(self.source.pending(), key=lambda p: (p.protocol, p.key))]

    def _endpointJSON(self, endpoint: Any) -> dict[str, Any]:
        snapshot = endpoint.snapshot()
        return {"connectionRequestURL": self.source.connectionRequestURL(endpoint),
                "writable": ILocalWrites.providedBy(endpoint.model), "cwmp": snapshot}

    # ---- the parameter browser ----------------------------------------------------------------

    def _target(self, key: str, request: Any) -> _Target:
        """
        The model a parameter browser request of device C{key} goes to: its
        endpoint's, or (C{via=embedded}, the default for a device with no
        endpoint) the proxier's own under its rows.
        """
        unknown = BadRequest(CWMPFault(9005, "Invalid parameter name (no such device)"), 404)
        via = request.args.get(b"via", [b""])
        if len(via) != 1 or via[0] not in (b"", VIRTUAL.encode(), EMBEDDED.encode()):
            raise BadRequest(CWMPFault(9003, "Invalid arguments (via is virtual or embedded, once)"))
        if key == OWN_KEY:
            own = self.source.ownEndpoint()
            if own is None or via[0] == EMBEDDED.encode():
                raise unknown
            return _Target(own)
        found = self.source.device(key)
        if via[0] == EMBEDDED.encode() or (not via[0] and (found is None or found[1] is None)):
            own = self.source.ownEndpoint()
            shown = next((p for p in self.source.embedded() if p.device.key == key), None)
            if shown is None or own is None:
                raise unknown
            return _Target(own, shown.roots, key)
        if found is None or found[1] is None:
            raise unknown
        return _Target(found[1], key=key)

    @staticmethod
    def _path(request: Any, allowEmpty: bool) -> str:
        raw = request.args.get(b"path", [b""])
        if len(raw) != 1:
            raise BadRequest(CWMPFault(9003, "Invalid arguments (give path once)"))
        return _checkedPath(raw[0], allowEmpty)

    @staticmethod
    def _paths(request: Any) -> list[str]:
        """The C{path}s of a read of values: one to L{MAX_VALUES}, as one GetParameterValues asks them."""
        raw = request.args.get(b"path", [])
        if len(raw) > MAX_VALUES:
            raise BadRequest(CWMPFault(9004, f"Resources exceeded (more than {MAX_VALUES} paths)"))
        return [_checkedPath(r, allowEmpty=False) for r in raw or [b""]]

    def _bounded(self, d: defer.Deferred) -> defer.Deferred:
        return d.addTimeout(self.timeout, self.clock)

    @defer.inlineCallbacks
    def _names(self, target: _Target, request: Any) -> Any:
        path = self._path(request, allowEmpty=True)
        nextLevel = request.args.get(b"next", [b"0"])[0] in (b"1", b"true")
        if not path and nextLevel and target.roots is not None:  # the device's rows, as objects of one level
            names = [{"name": root, "writable": False} for root in target.roots]
        else:
            names = []
            for asked in target.expand(path):
                infos = yield self._bounded(defer.maybeDeferred(target.model.getParameterNames, asked, nextLevel))
                names += [{"name": i.name, "writable": bool(i.writable)} for i in infos]
        return (200, {"path": path, "next": nextLevel, "via": target.via, "names": names})

    @defer.inlineCallbacks
    def _values(self, target: _Target, request: Any) -> Any:
        names = self._paths(request)
        asked = [name for path in names for name in target.expand(path)]
        values = yield self._bounded(defer.maybeDeferred(target.model.getParameterValues, asked))
        return (200, {"paths": names, "via": target.via,
                      "values": [{"name": v.name, "value": v.value, "type": v.type} for v in values]})

    def _checkWrite(self, request: Any) -> None:
        """CSRF: the session's token in a header, a JSON body, and no foreign Origin."""
        contentType = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
        token = request.getHeader(CSRF_HEADER) or b""
        if contentType != b"application/json" or not hmac.compare_digest(token, self.csrfToken.encode("ascii")):
            raise BadRequest(CWMPFault(9001, "Request denied (a write needs Content-Type: application/json and "
                                             "the X-Proxier-CSRF token of GET /api/session)"), 403)
        origin = request.getHeader(b"origin")
        host = request.getHeader(b"host")
        if origin is not None and origin.split(b"://", 1)[-1] != host:
            raise BadRequest(CWMPFault(9001, "Request denied (a write from another origin)"), 403)

    @staticmethod
    def _parseValues(body: bytes) -> list[dict[str, str]]:
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BadRequest(CWMPFault(9003, "Invalid arguments (the body is not JSON)")) from None
        items = document.get("values") if isinstance(document, dict) else None
        if not isinstance(items, list) or not items:
            raise BadRequest(CWMPFault(9003, 'Invalid arguments (give {"values": [{"name": ..., "value": ...}]})'))
        if len(items) > MAX_VALUES:
            raise BadRequest(CWMPFault(9004, f"Resources exceeded (more than {MAX_VALUES} parameters)"))
        out = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) \
                    or not isinstance(item.get("value"), str) or not isinstance(item.get("type", ""), str):
                raise BadRequest(CWMPFault(9003, "Invalid arguments (each value: name and value as strings, "
                                                 "type optional)"))
            name = _checkedPath(item["name"].encode("utf-8"), allowEmpty=False)
            if paths.isPartial(name):
                raise BadRequest(CWMPFault(9005, f"Invalid parameter name ({name} is an object)"))
            out.append({"name": name, "value": item["value"], "type": item.get("type", "")})
        return out

    @defer.inlineCallbacks
    def _set(self, target: _Target, request: Any, user: str) -> Any:
        self._checkWrite(request)
        request.content.seek(0)
        items = self._parseValues(request.content.read())
        for item in items:
            target.check(item["name"])
        endpoint, model = target.endpoint, target.model
        if not ILocalWrites.providedBy(model):
            raise CWMPFault(9001, "Request denied (this device's model cannot tell a local write from the ACS's, "
                                  "so the ACS would not hear of it)")
        untyped = [i["name"] for i in items if not i["type"]]
        types: dict[str, str] = {}
        if untyped:
            # the type the model answers with, as the ACS would give it
            current = yield self._bounded(defer.maybeDeferred(model.getParameterValues, untyped))
            types = {v.name: v.type for v in current}
        values = [ParameterValue(i["name"], i["value"], i["type"] or types.get(i["name"], "xsd:string"))
                  for i in items]
        names = ", ".join(v.name for v in values)
        if target.roots is not None:
            names += f" (the embedded objects of {target.key})"
        try:
            status = yield self._bounded(defer.maybeDeferred(model.setParameterValuesLocally, values))
        except CWMPFault as fault:
            endpoint.log.info("console: {user} could not set {names}: {fault}", user=user, names=names,
                              fault=str(fault))
            raise
        endpoint.log.info("console: {user} set {names}", user=user, names=names)
        return (200, {"status": status, "via": target.via})


def _checkedPath(raw: bytes, allowEmpty: bool) -> str:
    """A CWMP path from a query or a body, or BadRequest with the 9005 text of why not."""
    if len(raw) > MAX_PATH:
        raise BadRequest(CWMPFault(9005, f"Invalid parameter name (longer than {MAX_PATH} characters)"))
    try:
        path = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(CWMPFault(9005, "Invalid parameter name (not UTF-8)")) from None
    if not path:
        if allowEmpty:
            return path
        raise BadRequest(CWMPFault(9005, "Invalid parameter name (a path is required)"))
    reason = paths.check(path)
    if reason:
        raise BadRequest(CWMPFault(9005, f"Invalid parameter name ({reason})"))
    return path
