"""
Fakes shared by the UPnP control point tests (no tests of their own): a UPnP
DM device as a C{twisted.web} resource tree, to be served in memory by
C{treq.testing.StubTreq}, and an observer that records what it is told.
"""

from __future__ import annotations

import os
from typing import Callable, Optional

from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from proxier.upnp import description as D, gena, soap, ssdp
from proxier.upnp.description import Device, DeviceDescription, Service, parseSCPD

from ._helpers import SHARED

TEMPLATES = os.path.join(SHARED, "ref", "upnp-dm", "service-templates")

ROOT_UDN = "uuid:0badcafe-0000-4000-8000-000000000001"


def templateSCPD(name: str, optional: tuple[str, ...] = ()) -> bytes:
    with open(os.path.join(TEMPLATES, name + ".service-template.xml"), "rb") as f:
        return parseSCPD(f.read()).select(optional).toBytes()


def dmDescription(host: str = "192.168.1.20", port: int = 49152, udn: str = ROOT_UDN) -> DeviceDescription:
    """A ManageableDevice:2 root with CMS:2 and BMS:2, relative URLs."""
    base = f"http://{host}:{port}"
    return DeviceDescription(
        device=Device(
            deviceType=D.MANAGEABLE_DEVICE_2,
            udn=udn,
            friendlyName="Fake DM device",
            manufacturer="proxier tests",
            modelName="fake",
            serialNumber="FAKE-1",
            services=(
                Service(D.CONFIGURATION_MANAGEMENT_2, "urn:upnp-org:serviceId:CMS", "/cms.xml", "/control/cms",
                        "/event/cms"),
                Service(D.BASIC_MANAGEMENT_2, "urn:upnp-org:serviceId:BMS", "/bms.xml", "/control/bms",
                        "/event/bms"),
                Service("urn:schemas-upnp-org:service:ContentDirectory:1", "urn:upnp-org:serviceId:CDS",
                        "/cds.xml", "/control/cds", ""),
            ),
        ),
        location=f"{base}/desc.xml",
    )


class Publisher:
    """The event side of one fake service: grants subscriptions, counts requests."""

    def __init__(self, granted: Optional[str] = "Second-300") -> None:
        self.granted = granted
        self.requests: list[tuple[bytes, dict]] = []
        self.sids: set[str] = set()
        self.counter = 0
        self.refuse: Optional[int] = None  # answer every SUBSCRIBE with this status
        self.refuseRenew: Optional[int] = None
        self.hold = False  # keep the next SUBSCRIBE pending
        self.held: list = []
        self.sidPrefix = "uuid:sid-"
        self.onSubscribe: Optional[Callable] = None  # (publisher, sid, callbacks) after a first SUBSCRIBE
        self.callbacks: dict[str, tuple] = {}
        self.seqs: dict[str, int] = {}

    def render(self, request) -> bytes:  # noqa: ANN001
        headers = gena.normalizeHeaders(request.requestHeaders)
        self.requests.append((request.method, headers))
        if request.method == b"UNSUBSCRIBE":
            self.sids.discard(headers.get("sid", ""))
            return b""
        if self.refuse is not None:
            request.setResponseCode(self.refuse)
            return b""
        if "sid" in headers:
            if self.refuseRenew is not None:
                request.setResponseCode(self.refuseRenew)
                return b""
            if headers["sid"] not in self.sids:
                request.setResponseCode(412)
                return b""
            sid = headers["sid"]
        else:
            self.counter += 1
            sid = f"{self.sidPrefix}{self.counter}"
            self.sids.add(sid)
            self.callbacks[sid] = gena.parseCallback(headers.get("callback"))
            if self.onSubscribe is not None:
                self.onSubscribe(self, sid, self.callbacks[sid])
        request.setHeader(b"SID", sid.encode())
        if self.granted is not None:
            request.setHeader(b"TIMEOUT", self.granted.encode())
        if self.hold:
            self.held.append(request)
            return NOT_DONE_YET
        return b""


class FakeDMDevice(Resource):
    """
    Serves a description, SCPDs, control URLs (answers from C{handlers}) and
    event URLs (L{Publisher}s).

    @ivar handlers: action name → callable(arguments) returning the output
        arguments, or raising L{soap.UPnPError}.
    @ivar faultStatus: the HTTP status faults go with (500; some devices: 200).
    """

    isLeaf = True

    def __init__(self, description: Optional[DeviceDescription] = None) -> None:
        super().__init__()
        self.description = description or dmDescription()
        self.documents = {
            b"/desc.xml": self.description.toBytes(),
            b"/cms.xml": templateSCPD("ConfigurationManagement-2", ("SetValues",)),
            b"/bms.xml": templateSCPD("BasicManagement-2", ("Reboot",)),
            b"/cds.xml": b"<scpd/>",
        }
        self.handlers: dict[str, Callable[[dict], dict]] = {}
        self.faultStatus = 500
        self.publishers = {b"/event/cms": Publisher(), b"/event/bms": Publisher()}
        self.log: list[tuple[bytes, bytes]] = []
        self.lastControl: Optional[tuple[dict, bytes]] = None

    def render(self, request) -> bytes:  # noqa: ANN001
        path = request.path
        self.log.append((request.method, path))
        if path in self.publishers and request.method in (b"SUBSCRIBE", b"UNSUBSCRIBE"):
            return self.publishers[path].render(request)
        if request.method == b"GET" and path in self.documents:
            request.setHeader(b"content-type", b'text/xml; charset="utf-8"')
            return self.documents[path]
        if request.method == b"POST" and path.startswith(b"/control/"):
            body = request.content.read()
            headers = gena.normalizeHeaders(request.requestHeaders)
            self.lastControl = (headers, body)
            call = soap.decodeRequest(body, headers.get("soapaction"))
            handler = self.handlers.get(call.action)
            try:
                if handler is None:
                    raise soap.UPnPError(401)
                out = handler(call.arguments)
            except soap.UPnPError as e:
                request.setResponseCode(self.faultStatus)
                request.setHeader(b"content-type", b'text/xml; charset="utf-8"')
                return soap.encodeFault(e.code, e.description)
            request.setHeader(b"content-type", b'text/xml; charset="utf-8"')
            return soap.encodeResponse(call.serviceType, call.action, out)
        request.setResponseCode(404)
        return b""


# A device served for real on loopback (end-to-end tests and the benchmark).


class LoopbackDevice:
    """
    A UPnP DM device on 127.0.0.1: HTTP (description, SCPDs, control, GENA
    with real NOTIFYs to the subscriber's callback) and an SSDP socket that
    announces to a control point's loopback port and answers unicast searches.
    """

    def __init__(self, reactor, httpClient, index: int = 0) -> None:  # noqa: ANN001
        self.reactor = reactor
        self.httpClient = httpClient
        self.udn = f"uuid:0badcafe-0000-4000-8000-{index:012x}"
        self.resource: Optional[FakeDMDevice] = None
        self.http = None
        self.udp = None
        self.bootId = 1
        self.configId = 1
        self.sent: list = []
        self.sendErrors: list = []
        self.pending: list = []
        self.left = False  # said byebye: answers no search until it announces again

    def start(self) -> None:
        from twisted.internet.protocol import DatagramProtocol
        from twisted.web.server import Site

        placeholder = FakeDMDevice(dmDescription("127.0.0.1", 1, self.udn))
        site = Site(placeholder)
        site.noisy = False
        self.http = self.reactor.listenTCP(0, site, interface="127.0.0.1")
        port = self.http.getHost().port
        placeholder.description = dmDescription("127.0.0.1", port, self.udn)
        placeholder.documents[b"/desc.xml"] = placeholder.description.toBytes()
        for publisher in placeholder.publishers.values():
            publisher.onSubscribe = self._initialEvent
        self.resource = placeholder
        device = self

        class SSDP(DatagramProtocol):
            def datagramReceived(self, data: bytes, addr) -> None:  # noqa: ANN001
                try:
                    message = ssdp.parse(data)
                except ssdp.SSDPError:
                    return
                if isinstance(message, ssdp.Search) and not device.left:
                    for nt in device.types():
                        if ssdp.searchTargetMatches(message.st, nt):
                            answer = ssdp.SearchResponse(st=nt, usn=device.usn(nt), location=device.location,
                                                         maxAge=1800, bootId=device.bootId, configId=device.configId,
                                                         server="Linux UPnP/1.1 loopback-device/1")
                            self.transport.write(answer.toBytes(), addr)

        self.udp = self.reactor.listenUDP(0, SSDP(), interface="127.0.0.1")

    @property
    def location(self) -> str:
        return f"http://127.0.0.1:{self.http.getHost().port}/desc.xml"

    @property
    def ssdpPort(self) -> int:
        return self.udp.getHost().port

    def types(self) -> list[str]:
        return ["upnp:rootdevice", self.udn, D.MANAGEABLE_DEVICE_2, D.CONFIGURATION_MANAGEMENT_2,
                D.BASIC_MANAGEMENT_2]

    def usn(self, nt: str) -> str:
        return self.udn if nt == self.udn else f"{self.udn}::{nt}"

    def announce(self, to: tuple[str, int], nts: str = ssdp.ALIVE, **kw: object) -> None:
        self.left = nts == ssdp.BYEBYE
        for nt in self.types():
            message = ssdp.Notify(nts=nts, nt=nt, usn=self.usn(nt),
                                  location=self.location if nts != ssdp.BYEBYE else "",
                                  maxAge=1800 if nts == ssdp.ALIVE else None, bootId=self.bootId,
                                  configId=self.configId, host=ssdp.hostHeader(*to),
                                  server="Linux UPnP/1.1 loopback-device/1" if nts == ssdp.ALIVE else "", **kw)
            self.udp.write(message.toBytes(), to)

    def _initialEvent(self, publisher: "Publisher", sid: str, callbacks: tuple) -> None:
        self.reactor.callLater(0, self.sendEvent, publisher, sid, callbacks[0],
                               (("ConfigurationUpdate", ""), ("SupportedDataModelsUpdate", "")))

    def sendEvent(self, publisher: "Publisher", sid: str, url: str, variables: tuple) -> None:
        seq = publisher.seqs.get(sid, 0)
        publisher.seqs[sid] = gena.nextSEQ(seq)
        message = gena.EventMessage(sid, seq, variables)
        d = self.httpClient.request("NOTIFY", url, headers=dict(message.headers(), Connection="close"),
                                    data=message.body(), timeout=10)
        self.pending.append(d)
        d.addCallbacks(lambda r: self.sent.append((url, seq, r.code)), self.sendErrors.append)
        d.addBoth(lambda _: self.pending.remove(d))

    def stop(self) -> list:
        """Stop listening and abandon NOTIFYs still on their way."""
        for d in list(self.pending):
            d.cancel()
        return [p.stopListening() for p in (self.http, self.udp) if p is not None]
