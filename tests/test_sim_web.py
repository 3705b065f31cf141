"""
Tests for L{proxier.sim.web}: a simulated device's HTTP face, served for real
on 127.0.0.1 and driven with treq and the project's SOAP and GENA codecs.
"""

from __future__ import annotations

from typing import Any

from treq.client import HTTPClient
from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from twisted.web import resource
from twisted.web.client import Agent, HTTPConnectionPool, ResponseNeverReceived
from twisted.web.server import Site

from proxier.sim import cmsxml
from proxier.sim.device import Identity, SimulatedDevice
from proxier.sim.httpclient import Notifier
from proxier.sim.web import MAX_REQUEST_BYTES, DeviceResource, FleetResource, makeSite
from proxier.upnp import gena, soap

from tests.test_sim_fakes import schema

CMS = "urn:schemas-upnp-org:service:ConfigurationManagement:2"
BMS = "urn:schemas-upnp-org:service:BasicManagement:2"
NS = 'xmlns:cms="urn:schemas-upnp-org:dm:cms"'


def client() -> HTTPClient:
    """An HTTP client that keeps no connection open after a response (so each test ends clean)."""
    return HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))


treq = client()


class Callback(resource.Resource):
    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.events: list[gena.EventMessage] = []
        self.waiting: list[defer.Deferred] = []

    def render_NOTIFY(self, request: Any) -> bytes:
        self.events.append(gena.parseEventMessage(request.requestHeaders, request.content.read()))
        waiting, self.waiting = self.waiting, []
        for d in waiting:
            reactor.callLater(0, d.callback, None)
        return b""

    def next(self) -> defer.Deferred:
        d: defer.Deferred = defer.Deferred()
        self.waiting.append(d)
        return d.addTimeout(5, reactor)


class WebTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.device = SimulatedDevice(Identity.forIndex(3, "web"), schema(), reactor, address="127.0.0.1/8",
                                      notifier=Notifier(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)), reactor,
                                                        timeout=2))
        self.device.rebootDelay = 0.05
        self.device.downtime = 0.3
        self.port = reactor.listenTCP(0, makeSite(DeviceResource(self.device), timeout=5), interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.device.setLocation(f"http://127.0.0.1:{self.port.getHost().port}")
        self.device.powerOn()
        self.addCleanup(self.device.powerOff)
        self.base = self.device.baseURL

    @defer.inlineCallbacks
    def call(self, shortName: str, serviceType: str, action: str, arguments: Any = (), **headers: Any):
        body = soap.encodeRequest(serviceType, action, arguments)
        h = {"SOAPACTION": soap.soapActionHeader(serviceType, action), "Content-Type": soap.CONTENT_TYPE}
        h.update(headers)
        response = yield treq.post(self.base + f"{shortName}/control", data=body, headers=h)
        content = yield response.content()
        return response.code, content


class DescriptionTests(WebTestCase):
    @defer.inlineCallbacks
    def test_description(self) -> None:
        """The description is served at the LOCATION as text/xml, naming the UDN; SCPDs at their URLs."""
        response = yield treq.get(self.device.location)
        body = yield response.content()
        self.assertEqual(response.code, 200)
        self.assertEqual(response.headers.getRawHeaders("content-type"), ['text/xml; charset="utf-8"'])
        self.assertIn(b"proxier-sim", response.headers.getRawHeaders("server")[0].encode())
        self.assertIn(self.device.identity.udn.encode(), body)
        for shortName in ("bms", "cms", "sms"):
            response = yield treq.get(self.base + f"{shortName}/scpd.xml")
            content = yield response.content()
            self.assertEqual(response.code, 200)
            self.assertIn(b"<scpd", content)

    @defer.inlineCallbacks
    def test_notFound(self) -> None:
        """Unknown paths, services and logs are 404; GET on a control URL is 405."""
        for path in ("nope", "zzz/control", "logs/nope", "logs/system/x"):
            response = yield treq.get(self.base + path)
            yield response.content()
            self.assertEqual(response.code, 404, path)
        response = yield treq.get(self.base + "cms/control")
        yield response.content()
        self.assertEqual(response.code, 405)

    @defer.inlineCallbacks
    def test_logs(self) -> None:
        """The logs GetLogInfo points at are served as text."""
        code, body = yield self.call("bms", BMS, "GetLogInfo", {"LogURI": "urn:proxier-sim:log:system"})
        url = soap.decodeResponse(body, "GetLogInfo")["LogURL"]
        response = yield treq.get(url)
        content = yield response.content()
        self.assertEqual(response.code, 200)
        self.assertIn(b"boot 1", content)


class ControlTests(WebTestCase):
    @defer.inlineCallbacks
    def test_getValues(self) -> None:
        """A CMS GetValues over SOAP answers the ParameterValueList document."""
        paths = f"<cms:ContentPathList {NS}><ContentPath>/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber" \
                "</ContentPath></cms:ContentPathList>"
        code, body = yield self.call("cms", CMS, "GetValues", {"Parameters": paths})
        self.assertEqual(code, 200)
        values = cmsxml.parseParameterValueList(soap.decodeResponse(body, "GetValues")["ParameterValueList"])
        self.assertEqual(values, [("/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber", "SIM000003")])

    @defer.inlineCallbacks
    def test_inlineXMLArgument(self) -> None:
        """A control point that puts the XML argument inline instead of escaping it is understood."""
        body = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                f'<u:GetValues xmlns:u="{CMS}"><Parameters><cms:ContentPathList {NS}><ContentPath>/BBF/Time/NTPServer1'
                '</ContentPath></cms:ContentPathList></Parameters></u:GetValues></s:Body></s:Envelope>').encode()
        response = yield treq.post(self.base + "cms/control", data=body,
                                   headers={"SOAPACTION": soap.soapActionHeader(CMS, "GetValues")})
        content = yield response.content()
        self.assertEqual(response.code, 200)
        self.assertIn("pool.ntp.org", soap.decodeResponse(content, "GetValues")["ParameterValueList"])

    @defer.inlineCallbacks
    def test_faults(self) -> None:
        """UPnPErrors come back with HTTP 500 and the code: 703, 402, 401 (unknown action or header mismatch)."""
        paths = f"<cms:ContentPathList {NS}><ContentPath>/BBF/Nope</ContentPath></cms:ContentPathList>"
        for arguments, action, headers, expected in (
            ({"Parameters": paths}, "GetValues", {}, 703),
            ({}, "GetValues", {}, 402),
            ({}, "Fly", {}, 401),
            ({}, "GetCurrentConfigurationVersion", {"SOAPACTION": soap.soapActionHeader(CMS, "GetValues")}, 401),
            ({}, "GetCurrentConfigurationVersion", {"SOAPACTION": '"garbage"'}, 401),
        ):
            code, body = yield self.call("cms", CMS, action, arguments, **headers)
            self.assertEqual((code, soap.decodeFault(body).code), (500, expected), action)

    @defer.inlineCallbacks
    def test_olderVersionAndOtherService(self) -> None:
        """A call in the :1 namespace is served by the :2 service; another service's type is 401."""
        code, body = yield self.call("cms", CMS.replace(":2", ":1"), "GetCurrentConfigurationVersion")
        self.assertEqual(code, 200)
        code, body = yield self.call("cms", BMS, "GetDeviceStatus")
        self.assertEqual((code, soap.decodeFault(body).code), (500, 401))

    @defer.inlineCallbacks
    def test_badBodies(self) -> None:
        """A body that is not an action request (malformed, entities, no action) is 400; one bigger than the cap 413."""
        laughs = (b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
                  b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetValues xmlns:u="'
                  + CMS.encode() + b'"><Parameters>&b;</Parameters></u:GetValues></s:Body></s:Envelope>')
        empty = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'
        for body, expected in ((b"<not xml", 400), (laughs, 400), (empty, 400),
                               (b"x" * (MAX_REQUEST_BYTES + 1), 413), (b"x" * (8 * MAX_REQUEST_BYTES), 413)):
            response = yield treq.post(self.base + "cms/control", data=body)
            yield response.content()
            self.assertEqual(response.code, expected)

    @defer.inlineCallbacks
    def test_slowDevice(self) -> None:
        """A slow device answers each action only after its delay."""
        self.device.actionDelay = 0.3
        started = reactor.seconds()
        code, body = yield self.call("cms", CMS, "GetCurrentConfigurationVersion")
        self.assertEqual(code, 200)
        self.assertGreaterEqual(reactor.seconds() - started, 0.25)

    @defer.inlineCallbacks
    def test_slowDeviceClientGone(self) -> None:
        """A client that gives up on a slow device leaves nothing pending behind."""
        self.device.actionDelay = 0.5
        d = self.call("cms", CMS, "GetCurrentConfigurationVersion")
        reactor.callLater(0.1, d.cancel)
        yield self.assertFailure(d, defer.CancelledError, ResponseNeverReceived)
        yield task.deferLater(reactor, 0.1, lambda: None)
        self.assertEqual([c for c in reactor.getDelayedCalls() if "finish" in repr(c)], [])

    @defer.inlineCallbacks
    def test_rebootThen503(self) -> None:
        """After Reboot is answered the device goes away (503), then comes back with a new BOOTID."""
        before = self.device.bootId
        code, body = yield self.call("bms", BMS, "Reboot")
        self.assertEqual(soap.decodeResponse(body, "Reboot"), {"RebootStatus": "RebootNow"})
        yield task.deferLater(reactor, 0.15, lambda: None)
        response = yield treq.get(self.device.location)
        yield response.content()
        self.assertEqual(response.code, 503)
        yield task.deferLater(reactor, 0.5, lambda: None)
        response = yield treq.get(self.device.location)
        yield response.content()
        self.assertEqual(response.code, 200)
        self.assertGreater(self.device.bootId, before)


class EventTests(WebTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.callback = Callback()
        self.cbPort = reactor.listenTCP(0, Site(self.callback), interface="127.0.0.1")
        self.addCleanup(self.cbPort.stopListening)
        self.callbackURL = f"http://127.0.0.1:{self.cbPort.getHost().port}/cb"

    def subscribe(self, **headers: str):
        h = {"CALLBACK": f"<{self.callbackURL}>", "NT": "upnp:event", "TIMEOUT": "Second-60"}
        h.update(headers)
        return treq.request("SUBSCRIBE", self.base + "cms/event", headers={k: v for k, v in h.items() if v})

    @defer.inlineCallbacks
    def test_subscribeEventRenewUnsubscribe(self) -> None:
        """SUBSCRIBE answers SID and TIMEOUT, the initial event follows, a change is evented, renew and
        UNSUBSCRIBE work, and the SID is then unknown (412)."""
        first = self.callback.next()
        response = yield self.subscribe()
        yield response.content()
        self.assertEqual(response.code, 200)
        answer = gena.parseSubscribeResponse(response.headers)
        self.assertEqual(answer.timeout, 60)
        yield first
        self.assertEqual((self.callback.events[0].sid, self.callback.events[0].seq), (answer.sid, 0))
        second = self.callback.next()
        self.device.cms.setLocal("/BBF/Time/NTPServer1", "web.example")
        yield second
        self.assertEqual(self.callback.events[1].seq, 1)
        self.assertEqual(self.callback.events[1].variables[0][0], "ConfigurationUpdate")
        response = yield treq.request("SUBSCRIBE", self.base + "cms/event",
                                      headers={"SID": answer.sid, "TIMEOUT": "Second-30"})
        yield response.content()
        self.assertEqual(gena.parseSubscribeResponse(response.headers).timeout, 30)
        response = yield treq.request("UNSUBSCRIBE", self.base + "cms/event", headers={"SID": answer.sid})
        yield response.content()
        self.assertEqual(response.code, 200)
        response = yield treq.request("UNSUBSCRIBE", self.base + "cms/event", headers={"SID": answer.sid})
        yield response.content()
        self.assertEqual(response.code, 412)

    @defer.inlineCallbacks
    def test_refusals(self) -> None:
        """No NT or CALLBACK: 412; SID with NT: 400; a callback off the device's network: 412."""
        for headers, expected in (({"NT": ""}, 412), ({"CALLBACK": ""}, 412),
                                  ({"SID": "uuid:x"}, 400), ({"CALLBACK": "<http://10.1.2.3/cb>"}, 412)):
            response = yield self.subscribe(**headers)
            yield response.content()
            self.assertEqual(response.code, expected, headers)
        response = yield treq.request("SUBSCRIBE", self.base + "cms/event", headers={"SID": "uuid:unknown"})
        yield response.content()
        self.assertEqual(response.code, 412)

    @defer.inlineCallbacks
    def test_deviceThatRefusesSubscriptions(self) -> None:
        """A device set to refuse SUBSCRIBE answers its status to every one (control points must poll)."""
        self.device.subscriptionRefusal = 501
        response = yield self.subscribe()
        yield response.content()
        self.assertEqual(response.code, 501)
        self.assertEqual(self.device.publishers["cms"].subscriptions, {})


class SharedPortTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_devicesUnderPrefixes(self) -> None:
        """On one port, each device answers under its own /dev<n>/ with URLs that stay under it."""
        fleet = FleetResource()
        devices = []
        port = reactor.listenTCP(0, makeSite(fleet), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        for index in range(2):
            device = SimulatedDevice(Identity.forIndex(index, "shared"), schema(), reactor, address="127.0.0.1/8")
            fleet.add(f"dev{index}", device)
            device.setLocation(f"http://127.0.0.1:{port.getHost().port}", f"/dev{index}/")
            device.powerOn()
            self.addCleanup(device.powerOff)
            devices.append(device)
        for device in devices:
            response = yield treq.get(device.location)
            body = yield response.content()
            self.assertIn(device.identity.udn.encode(), body)
            self.assertIn(device.pathPrefix.encode() + b"cms/control", body)
        response = yield treq.get(f"http://127.0.0.1:{port.getHost().port}/dev9/description.xml")
        yield response.content()
        self.assertEqual(response.code, 404)


class PeerCertificateTests(unittest.TestCase):
    def test_certificateForRoleChecks(self) -> None:
        """On the TLS port, the control point's certificate reaches the role check as DER; in clear, nothing."""
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509.oid import NameOID
        from OpenSSL import crypto

        from proxier.sim.web import _peerCertificate

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "control point")])
        now = datetime.datetime(2024, 1, 1)
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                       .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                       .sign(key, hashes.SHA256()))

        class Transport:
            def getPeerCertificate(self):
                return crypto.X509.from_cryptography(certificate)

        class Request:
            transport = Transport()

            def __init__(self, secure: bool) -> None:
                self.secure = secure

            def isSecure(self) -> bool:
                return self.secure

        self.assertEqual(_peerCertificate(Request(True)), certificate.public_bytes(Encoding.DER))
        self.assertIsNone(_peerCertificate(Request(False)))


class BoundedRequestTests(unittest.TestCase):
    def test_bodyNotStoredBeyondCap(self) -> None:
        """However much a client sends, a device stores one byte more than it accepts, and counts the rest."""
        from twisted.web.test.requesthelper import DummyChannel

        from proxier.sim.web import _BoundedRequest

        request = _BoundedRequest(DummyChannel())
        request.gotLength(None)
        for _ in range(5):
            request.handleContentChunk(b"x" * MAX_REQUEST_BYTES)
        request.content.seek(0, 2)
        self.assertEqual(request.content.tell(), MAX_REQUEST_BYTES + 1)
        self.assertEqual(request.received, 5 * MAX_REQUEST_BYTES)


class ReadBodyTests(unittest.TestCase):
    def test_contentLengthASCII(self) -> None:
        """A Content-Length that is not ASCII digits ('1_0', '-1', which int() took) is refused like a huge one."""
        import io

        from twisted.web.test.requesthelper import DummyRequest

        from proxier.sim.web import _readBody

        for length, expected in ((b"10", b"x" * 10), (b" 10 ", b"x" * 10), (b"1_0", None), (b"-1", None),
                                 (b"+10", None), ("١٠".encode(), None)):
            request = DummyRequest([b""])
            request.requestHeaders.setRawHeaders(b"content-length", [length])
            request.content = io.BytesIO(b"x" * 10)
            self.assertEqual(_readBody(request), expected, length)
