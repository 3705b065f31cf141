# -*- test-case-name: tests.test_sim_web -*-
"""
The HTTP face of a simulated device (twisted.web resources):

    <prefix>description.xml          GET          device description
    <prefix><svc>/scpd.xml           GET          SCPD (svc: bms, cms, sms, ...)
    <prefix><svc>/control            POST         SOAP actions (UDA 1.1 §3.2)
    <prefix><svc>/event              SUBSCRIBE / UNSUBSCRIBE (UDA 1.1 §4.1)
    <prefix>logs/<name>              GET          the BMS log files

Actions are decoded and answered with the project's SOAP codec
(L{proxier.upnp.soap}): a body that is not an action request is answered
400; an action of another service type (a C{:1} call to a C{:2} service is
accepted), or a SOAPACTION that does not match the body, 401 as a UPnPError;
whatever the service raises, its UPnPError with HTTP 500. Bodies beyond
L{MAX_REQUEST_BYTES} are refused with 413 before they are parsed.

A device that is not up (rebooting, off) answers 503 to everything. Knobs
of the device make it slow to answer actions, or refuse every SUBSCRIBE.

L{FleetResource} serves many devices on one port, each under
C{/dev<index>/} — the alternative to one port per device.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.web import resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from proxier.asciinum import parseUnsigned
from proxier.sim.device import UP, SimulatedDevice
from proxier.sim.errors import ActionError
from proxier.sim.service import ActionContext, Service
from proxier.sim.ssdp import SERVER
from proxier.upnp import gena, soap, ssdp

__all__ = ["DeviceResource", "FleetResource", "MAX_REQUEST_BYTES", "makeSite"]

#: The largest request body a device reads (a big CMS SetValues fits).
MAX_REQUEST_BYTES = soap.MAX_BODY_BYTES
_XML = b'text/xml; charset="utf-8"'


def _common(request: Any) -> None:
    request.setHeader(b"server", SERVER.encode("ascii"))


def _plain(request: Any, status: int, text: str) -> bytes:
    _common(request)
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
    return text.encode("utf-8") + b"\n"


def _peer(request: Any) -> str:
    address = request.getClientAddress()
    return getattr(address, "host", "") or ""


class _DeviceLeaf(resource.Resource):
    isLeaf = True

    def __init__(self, device: SimulatedDevice) -> None:
        super().__init__()
        self.device = device

    def render(self, request: Any) -> Any:
        if self.device.state != UP:
            request.setHeader(b"retry-after", b"5")
            return _plain(request, 503, "device unavailable (rebooting or off)")
        return super().render(request)


class _Description(_DeviceLeaf):
    def render_GET(self, request: Any) -> bytes:
        _common(request)
        request.setHeader(b"content-type", _XML)
        return self.device.description()


class _SCPD(_DeviceLeaf):
    def __init__(self, device: SimulatedDevice, service: Service) -> None:
        super().__init__(device)
        self.service = service

    def render_GET(self, request: Any) -> bytes:
        _common(request)
        request.setHeader(b"content-type", _XML)
        return self.device.scpd(self.service.shortName) or b""


class _BoundedRequest(Request):
    """A request that keeps at most L{MAX_REQUEST_BYTES} of its body (the rest is counted, not stored)."""

    received = 0
    stored = 0

    def handleContentChunk(self, data: bytes) -> None:
        self.received += len(data)
        room = MAX_REQUEST_BYTES + 1 - self.stored
        if room > 0:
            kept = data[:room]
            self.stored += len(kept)
            super().handleContentChunk(kept)


class _QuietSite(Site):
    """A Site that neither announces its factory nor writes an access line per request (a thousand devices)."""

    noisy = False

    def log(self, request: Any) -> None:
        pass


def makeSite(root: resource.Resource, timeout: float = 30) -> Site:
    """
    The Site a device (or a fleet on one port) is served with: bounded
    request bodies, an idle timeout, and no access log.
    """
    return _QuietSite(root, requestFactory=_BoundedRequest, timeout=timeout)


def _readBody(request: Any) -> Optional[bytes]:
    """The body, or None when it is (or says it is) bigger than allowed."""
    length = request.getHeader(b"content-length")
    if length is not None:
        try:  # ASCII digits only: int() took b"1_0" and b"-1"
            if parseUnsigned(length.strip(b" \t")) > MAX_REQUEST_BYTES:
                return None
        except ValueError:
            return None
    body = request.content.read(MAX_REQUEST_BYTES + 1) if request.content is not None else b""
    return None if len(body) > MAX_REQUEST_BYTES else body


def _sameService(asked: str, offered: str) -> bool:
    """Whether a call in namespace C{asked} may be served by C{offered} (same type, not newer)."""
    if asked == offered:
        return True
    a, o = ssdp.parseType(asked), ssdp.parseType(offered)
    return a is not None and o is not None and (a.domain, a.kind, a.name) == (o.domain, o.kind, o.name) \
        and a.version <= o.version


class _Control(_DeviceLeaf):
    """SOAP actions of one service."""

    def __init__(self, device: SimulatedDevice, service: Service) -> None:
        super().__init__(device)
        self.service = service

    def render_POST(self, request: Any) -> bytes:
        body = _readBody(request)
        if body is None:
            return _plain(request, 413, f"body larger than {MAX_REQUEST_BYTES} bytes")
        header = request.getHeader(b"soapaction")
        try:
            call = soap.decodeRequest(body)
        except soap.SOAPError as e:
            self.device.log.info("{service}: refused a control request from {peer}: {reason}",
                                 service=self.service.shortName, peer=_peer(request), reason=str(e))
            return _plain(request, 400, f"not a UPnP action request: {e}")
        offered = self.service.serviceType.serviceType
        try:
            if header is not None:
                try:
                    headerType, headerAction = soap.parseSOAPAction(header.decode("latin-1"))
                except soap.SOAPError as e:
                    raise ActionError(401, detail=str(e)) from None
                if (headerType, headerAction) != (call.serviceType, call.action):
                    raise ActionError(401, detail="SOAPACTION does not match the body")
            if not _sameService(call.serviceType, offered):
                raise ActionError(401, detail=f"{call.serviceType} is not served here")
            context = ActionContext(peer=_peer(request), secure=bool(request.isSecure()),
                                    certificate=_peerCertificate(request))
            out = self.service.invoke(call.action, call.arguments, context)
        except ActionError as e:
            self.device.log.info("{service} {action} from {peer}: {error}", service=self.service.shortName,
                                 action=call.action, peer=_peer(request), error=str(e))
            _common(request)
            request.setResponseCode(500)
            request.setHeader(b"content-type", _XML)
            request.setHeader(b"ext", b"")
            return self._answer(request, soap.encodeFault(e.code, e.description))
        self.device.log.debug("{service} {action} from {peer}", service=self.service.shortName,
                              action=call.action, peer=_peer(request))
        _common(request)
        request.setHeader(b"content-type", _XML)
        request.setHeader(b"ext", b"")
        return self._answer(request, soap.encodeResponse(call.serviceType, call.action, out))

    def _answer(self, request: Any, body: bytes) -> Any:
        """The body now, or after the device's L{actionDelay<SimulatedDevice.actionDelay>}."""
        delay = self.device.actionDelay
        if delay <= 0:
            return body

        def finish() -> None:
            request.write(body)
            request.finish()

        later = self.device.clock.callLater(delay, finish)
        request.notifyFinish().addErrback(lambda _: later.cancel() if later.active() else None)
        return NOT_DONE_YET


def _peerCertificate(request: Any) -> Optional[bytes]:
    """The DER certificate a control point showed on the TLS port, if any."""
    if not request.isSecure():
        return None
    getter = getattr(request.transport, "getPeerCertificate", None)
    certificate = getter() if getter is not None else None
    if certificate is None:
        return None
    from cryptography.hazmat.primitives.serialization import Encoding

    return certificate.to_cryptography().public_bytes(Encoding.DER)


class _Event(_DeviceLeaf):
    """GENA subscriptions to one service."""

    def __init__(self, device: SimulatedDevice, service: Service) -> None:
        super().__init__(device)
        self.service = service

    def _publisher(self):
        return self.device.publishers.get(self.service.shortName)

    def render_SUBSCRIBE(self, request: Any) -> bytes:
        refusal = self.device.subscriptionRefusal
        if refusal is not None:
            return _plain(request, refusal, "this device does not accept subscriptions")
        return self._handle(request, "SUBSCRIBE")

    def render_UNSUBSCRIBE(self, request: Any) -> bytes:
        return self._handle(request, "UNSUBSCRIBE")

    def _handle(self, request: Any, method: str) -> bytes:
        publisher = self._publisher()
        if publisher is None:
            return _plain(request, 503, "this device sends no events")
        try:
            message = gena.parseSubscriptionRequest(method, request.requestHeaders)
            if isinstance(message, gena.Subscribe):
                answer = publisher.subscribe(message, _peer(request))
                request.notifyFinish().addCallbacks(
                    lambda _: publisher.start(answer.sid),
                    lambda _: publisher.forget(answer.sid),  # the answer never reached the subscriber
                )
            elif isinstance(message, gena.Renew):
                answer = publisher.renew(message)
            else:
                publisher.unsubscribe(message)
                answer = None
        except gena.GENAError as e:
            self.device.log.info("{service} {method} from {peer} refused: {reason}",
                                 service=self.service.shortName, method=method, peer=_peer(request),
                                 reason=e.reason)
            return _plain(request, e.status, e.reason)
        _common(request)
        if answer is not None:
            for name, value in answer.headers():
                if name != "SERVER":
                    request.setHeader(name.lower().encode("ascii"), value.encode("latin-1"))
        request.setHeader(b"content-length", b"0")
        return b""


class _Logs(_DeviceLeaf):
    def render_GET(self, request: Any) -> bytes:
        name = request.postpath[0].decode("utf-8", "replace") if request.postpath else ""
        log = self.device.bms.logs.get(name)
        if log is None or len(request.postpath) != 1:
            return _plain(request, 404, "no such log")
        _common(request)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return log.content()


class _ServiceResource(resource.Resource):
    def __init__(self, device: SimulatedDevice, service: Service) -> None:
        super().__init__()
        self.putChild(b"scpd.xml", _SCPD(device, service))
        self.putChild(b"control", _Control(device, service))
        self.putChild(b"event", _Event(device, service))


class _Missing(resource.Resource):
    isLeaf = True

    def render(self, request: Any) -> bytes:
        return _plain(request, 404, "not found")


class DeviceResource(resource.Resource):
    """Everything one device serves, from its path prefix down."""

    def __init__(self, device: SimulatedDevice) -> None:
        super().__init__()
        self.device = device
        self._description = _Description(device)
        self._logs = _Logs(device)
        self._services: dict[bytes, resource.Resource] = {}

    def getChild(self, name: bytes, request: Any) -> resource.Resource:
        if name == b"description.xml":
            return self._description
        if name == b"logs":
            return self._logs
        service = self.device.service(name.decode("ascii", "replace"))
        if service is None:
            return _Missing()
        child = self._services.get(name)
        if child is None:
            child = self._services[name] = _ServiceResource(self.device, service)
        return child

    def render(self, request: Any) -> bytes:
        return _plain(request, 404, "not found")


class FleetResource(resource.Resource):
    """Many devices on one port: device I{n} under C{/dev<n>/}."""

    def __init__(self) -> None:
        super().__init__()
        self._devices: dict[bytes, DeviceResource] = {}

    def add(self, name: str, device: SimulatedDevice) -> None:
        self._devices[name.encode("ascii")] = DeviceResource(device)

    def getChild(self, name: bytes, request: Any) -> resource.Resource:
        return self._devices.get(name) or _Missing()

    def render(self, request: Any) -> bytes:
        return _plain(request, 404, "not found")
