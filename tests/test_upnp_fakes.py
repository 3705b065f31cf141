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

from proxier.upnp import description as D, gena, soap
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
