"""
Tests for L{proxier.console}: every API endpoint in memory (treq's
C{StubTreq} over the console's resource, a L{task.Clock}), the page, refused
credentials, CSRF refusals, bad input, an unknown device, the body cap of
the guarded site, the bind rule and the C{[console]} section.
"""

from __future__ import annotations

import ipaddress
import json
import os
from typing import Any, Optional

from treq.testing import StubTreq
from twisted.internet import defer, ssl, task
from twisted.internet import reactor as liveReactor
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial import unittest
from twisted.web.client import Agent, ResponseFailed, ResponseNeverReceived, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from proxier import config as configmod
from proxier.console.api import CSRF_HEADER, MAX_VALUES, MODEL_TIMEOUT, ConsoleAPI, EmbeddedPresentation
from proxier.console.server import ConsoleRoot, ConsoleService, checkListenAddress
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.values import AttributeChange, DeviceIdentity, ParameterValue
from proxier.httpauth import DigestClient, DigestServer, parseChallenges
from proxier.interfaces import IDataModel, IDeviceAttention, PendingDevice
from proxier.lan.netif import NetworkInterface
from proxier.log import DeviceLogger
from tests._helpers import LogCapture
from tests._memproto import Thing, thingTree

PROXIER = DeviceIdentity("Example Gateways", "00D09E", "Gateway", "GW-1")
URL = "http://127.0.0.1"


class FakeEndpoint:
    """What the console reads of an endpoint: identity, model, its snapshot."""

    def __init__(self, identity: DeviceIdentity, model: Any, path: bytes) -> None:
        self.identity = identity
        self.model = model
        self.connectionRequestPath = path
        self.log = DeviceLogger(identity)
        self.online = True
        #: keys of the snapshot a test changes
        self.changed: dict[str, Any] = {}

    def snapshot(self) -> dict:
        return {"acsURL": "http://acs.example/", "online": self.online, "inSession": False, "sessions": 2,
                "retryCount": 0, "pendingEvents": ["4 VALUE CHANGE"], "pendingValueChanges": [], "transfers": [],
                "lastSession": None, **self.changed}


class FakeDevice:
    proxyProtocol = "X_000000_MemoryDevice"
    discoveryProtocol = "X_000000_Memory"
    host = "memory"

    def __init__(self, identity: DeviceIdentity, online: bool = True) -> None:
        self.identity = identity
        self.key = identity.key
        self.online = online


@implementer(IDeviceAttention)
class AttentiveDevice(FakeDevice):
    """A device that says what a person must do about it."""

    def __init__(self, identity: DeviceIdentity, notices: list) -> None:
        super().__init__(identity)
        self._notices = notices

    def notices(self) -> tuple:
        return tuple(self._notices)


class FakeSource:
    def __init__(self) -> None:
        self.identity = PROXIER
        self.own = FakeEndpoint(PROXIER, TreeDataModel(thingTree(Thing("GW-1"))), b"/own")
        self.pairs: dict[str, tuple[FakeDevice, FakeEndpoint]] = {}
        #: the devices found but not proxied (IPendingDevices.pending of the protocols)
        self.waiting: list[PendingDevice] = []
        #: the devices shown as embedded objects of the own tree (TreeSource.embedded)
        self.shown: list[EmbeddedPresentation] = []
        #: what the running tree would tell of the proxier (TreeSource.notices)
        self.told: list[tuple[str, str, str]] = []

    def add(self, serial: str, model: Any = None, online: bool = True) -> tuple[FakeDevice, FakeEndpoint]:
        thing = Thing(serial)
        device = FakeDevice(thing.identity, online)
        endpoint = FakeEndpoint(thing.identity, model if model is not None else TreeDataModel(thingTree(thing)),
                                b"/cr-" + serial.encode())
        self.pairs[device.key] = (device, endpoint)
        return device, endpoint

    def ownEndpoint(self) -> Any:
        return self.own

    def devices(self) -> list:
        return list(self.pairs.values())

    def device(self, key: str) -> Optional[tuple]:
        return self.pairs.get(key)

    def embedded(self) -> list:
        return list(self.shown)

    def pending(self) -> list:
        return list(self.waiting)

    def notices(self) -> list:
        return list(self.told)

    def connectionRequestURL(self, endpoint: Any) -> str:
        return "http://127.0.0.1:7547" + endpoint.connectionRequestPath.decode()


@implementer(IDataModel)
class ReadOnlyModel:
    """A model that cannot tell a local write from the ACS's (no ILocalWrites); its reads may hang."""

    def __init__(self, tree: TreeDataModel) -> None:
        self.tree = tree
        self.hang = False
        self.sets: list = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tree, name)

    def getParameterValues(self, names: Any) -> defer.Deferred:
        return defer.Deferred() if self.hang else self.tree.getParameterValues(names)

    def setParameterValues(self, values: Any) -> defer.Deferred:
        self.sets.append(values)
        return self.tree.setParameterValues(values)


class ConsoleTestCase(unittest.TestCase):
    credentials = ("", "")

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.source = FakeSource()
        self.device, self.endpoint = self.source.add("MEM-0001")
        self.api = ConsoleAPI(self.source, self.clock)
        self.digest = DigestServer("proxier console", clock=self.clock.seconds)
        self.root = ConsoleRoot(self.api, self.credentials, self.digest)
        self.http = StubTreq(self.root)

    def fetch(self, method: str, path: str, *, body: Any = None, headers: Optional[dict] = None,
              raw: Optional[bytes] = None) -> tuple[int, Any, Any]:
        """One request; the status, the body (JSON decoded when it is JSON) and the response."""
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        d = self.http.request(method, URL + path, data=data, headers=hdrs)
        self.http.flush()
        response = self.successResultOf(d)
        content = self.successResultOf(response.content())
        if (response.headers.getRawHeaders("content-type") or [""])[0].startswith("application/json"):
            content = json.loads(content)
        return response.code, content, response

    def token(self) -> str:
        code, body, _ = self.fetch("GET", "/api/session")
        self.assertEqual(code, 200)
        return body["csrf"]

    def write(self, key: str, values: list, **headers: str) -> tuple[int, Any, Any]:
        hdrs = {CSRF_HEADER.decode(): self.token()}
        hdrs.update(headers)
        return self.fetch("POST", f"/api/devices/{key}/values", body={"values": values}, headers=hdrs)


class ReadTests(ConsoleTestCase):
    def test_status(self) -> None:
        """GET /api/status: the proxier's identity, version, ACS URL, uptime, device counts and its endpoint."""
        self.source.add("MEM-0002", online=False)
        self.clock.advance(42)
        code, body, response = self.fetch("GET", "/api/status")
        self.assertEqual(code, 200)
        self.assertEqual(body["identity"]["serialNumber"], "GW-1")
        self.assertEqual((body["acsURL"], body["uptime"], body["devices"], body["online"]),
                         ("http://acs.example/", 42, 2, 1))
        self.assertEqual(body["endpoint"]["connectionRequestURL"], "http://127.0.0.1:7547/own")
        self.assertEqual(response.headers.getRawHeaders("cache-control"), ["no-store"])
        self.assertIn("frame-ancestors 'none'", response.headers.getRawHeaders("content-security-policy")[0])
        self.assertEqual(body["notices"], [])

    def test_statusNotices(self) -> None:
        """
        GET /api/status: the proxier's own notices — its endpoint's last
        session (failed, faults answered) and what the tree tells — most
        pressing first, in the shape of a device's.
        """
        self.source.own.changed = {"retryCount": 2, "lastSession": {
            "started": 1.0, "ended": 3.0, "ok": False, "reason": "cannot reach http://acs.example/: refused",
            "events": ["2 PERIODIC"], "faults": [{"method": "GetParameterValues", "code": 9005, "string": "x"}]}}
        self.source.told = [("info", "embedded mode: waiting", ""), ("action", "press it", "")]
        code, body, _ = self.fetch("GET", "/api/status")
        self.assertEqual(code, 200)
        self.assertEqual([n["kind"] for n in body["notices"]], ["action", "warning", "warning", "info"])
        self.assertEqual(body["notices"][0], {"kind": "action", "text": "press it", "since": ""})
        self.assertIn("failed (2 failed in a row): cannot reach", body["notices"][1]["text"])
        self.assertEqual(body["notices"][1]["since"], "1970-01-01T00:00:03+00:00")
        self.assertIn("GetParameterValues 9005 x", body["notices"][2]["text"])
        self.source.own.changed = {"acsURL": ""}
        self.source.told = []
        code, body, _ = self.fetch("GET", "/api/status")
        self.assertEqual([(n["kind"], n["text"][:10]) for n in body["notices"]], [("action", "no ACS URL")])

    def test_devices(self) -> None:
        """GET /api/devices: each device by key with identity, protocol, online, CR URL, and its endpoint's state."""
        self.source.add("MEM-0002", model=ReadOnlyModel(TreeDataModel(thingTree(Thing("MEM-0002")))), online=False)
        code, body, _ = self.fetch("GET", "/api/devices")
        self.assertEqual(code, 200)
        rows = body["devices"]
        self.assertEqual([r["key"] for r in rows], ["000000-Thing-MEM-0001", "000000-Thing-MEM-0002"])
        first, second = rows
        self.assertEqual((first["protocol"], first["discovery"], first["online"], first["writable"]),
                         ("X_000000_MemoryDevice", "X_000000_Memory", True, True))
        self.assertEqual((second["online"], second["writable"]), (False, False))
        self.assertEqual(first["connectionRequestURL"], "http://127.0.0.1:7547/cr-MEM-0001")
        self.assertEqual(first["cwmp"]["pendingEvents"], ["4 VALUE CHANGE"])
        self.assertEqual(first["identity"]["serialNumber"], "MEM-0001")

    def test_notices(self) -> None:
        """
        A device providing IDeviceAttention has its notices in its entry, as
        given; one that does not has none, and neither is asked per protocol.
        """
        attentive = AttentiveDevice(Thing("MEM-0002").identity, [
            ("action", "DeviceProtection: press the device's WPS/introduction button", "2026-12-06T13:00:00+00:00"),
            ("info", "diagnostics IPPing running (asked by the ACS)", "")])
        self.source.pairs[attentive.key] = (attentive, self.endpoint)
        code, body, _ = self.fetch("GET", "/api/devices")
        self.assertEqual(code, 200)
        plain, second = body["devices"]
        self.assertEqual(plain["notices"], [])
        self.assertEqual(second["notices"], [
            {"kind": "action", "text": "DeviceProtection: press the device's WPS/introduction button",
             "since": "2026-12-06T13:00:00+00:00"},
            {"kind": "info", "text": "diagnostics IPPing running (asked by the ACS)", "since": ""}])

    def test_pending(self) -> None:
        """
        GET /api/devices: the devices found but not proxied (yet) are listed
        apart, by protocol and key, marked not proxied, with their state,
        why and notices; they are no device of the parameter browser.
        """
        button = ("action", "DeviceProtection: press the device's WPS/introduction button (before 13:05 UTC) to let "
                            "the proxier manage it", "2026-12-06T13:00:00+00:00")
        self.source.waiting = [
            PendingDevice("uuid:b", "Living room box (SIM-DM)", "UPnP-DM", "192.0.2.7", "waiting",
                          "DeviceProtection held: it grants the proxier nothing beyond Public", (button,)),
            PendingDevice("198.51.100.9", "198.51.100.9", "X_000000_SNMP", "198.51.100.9", "refused",
                          "it tells no serial number nor other identity")]
        code, body, _ = self.fetch("GET", "/api/devices")
        self.assertEqual(code, 200)
        self.assertEqual([(r["key"], r["proxied"]) for r in body["devices"]], [(self.device.key, True)])
        self.assertEqual(body["pending"], [
            {"key": "uuid:b", "label": "Living room box (SIM-DM)", "protocol": "UPnP-DM", "host": "192.0.2.7",
             "state": "waiting", "why": "DeviceProtection held: it grants the proxier nothing beyond Public",
             "proxied": False, "notices": [{"kind": button[0], "text": button[1], "since": button[2]}]},
            {"key": "198.51.100.9", "label": "198.51.100.9", "protocol": "X_000000_SNMP", "host": "198.51.100.9",
             "state": "refused", "why": "it tells no serial number nor other identity", "proxied": False,
             "notices": []}])
        code, body, _ = self.fetch("GET", "/api/devices/uuid:b/names?path=Device.")
        self.assertEqual((code, body["error"]["code"]), (404, 9005))

    def test_names(self) -> None:
        """GET names: GetParameterNames through the endpoint's model, next level or the whole subtree."""
        code, body, _ = self.fetch("GET", f"/api/devices/{self.device.key}/names?path=Device.X_000000_Thing.&next=1")
        self.assertEqual(code, 200)
        self.assertIn({"name": "Device.X_000000_Thing.Label", "writable": True}, body["names"])
        self.assertIn({"name": "Device.X_000000_Thing.Temperature", "writable": False}, body["names"])
        self.assertNotIn("Device.X_000000_Thing.Setpoint.1.Enable", [n["name"] for n in body["names"]])
        code, body, _ = self.fetch("GET", "/api/devices/self/names?path=")
        self.assertEqual(code, 200)
        self.assertEqual(body["names"][0]["name"], "Device.")

    def test_values(self) -> None:
        """GET values: one GetParameterValues of every path given, through the same model, with the xsi:type."""
        code, body, _ = self.fetch("GET", f"/api/devices/{self.device.key}/values?path=Device.DeviceInfo.SerialNumber"
                                   "&path=Device.X_000000_Thing.Temperature")
        self.assertEqual(code, 200)
        self.assertEqual(body["values"], [
            {"name": "Device.DeviceInfo.SerialNumber", "value": "MEM-0001", "type": "xsd:string"},
            {"name": "Device.X_000000_Thing.Temperature", "value": "20", "type": "xsd:int"}])

    def test_unknownDevice(self) -> None:
        """An unknown device is 404 whatever is asked of it, with a JSON error."""
        for method, path in (("GET", "/api/devices/nope/names?path=Device."),
                             ("GET", "/api/devices/000000-Thing-MEM-9/values?path=Device."),
                             ("POST", "/api/devices/nope/values")):
            code, body, _ = self.fetch(method, path)
            self.assertEqual(code, 404, path)
            self.assertIn("no such device", body["error"]["string"])

    def test_badPaths(self) -> None:
        """Garbage and traversal paths are 400 with the CWMP 9005 text; a path the model lacks, its fault."""
        key = self.device.key
        for path in ("../../etc/passwd", "Device..X", "Device.%00", "/etc/passwd", "Device.X.[a", "x" * 2000):
            code, body, _ = self.fetch("GET", f"/api/devices/{key}/values?path={path}")
            self.assertEqual((code, body["error"]["code"]), (400, 9005), path)
            self.assertTrue(body["error"]["string"].startswith("Invalid parameter name ("), body)
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/values?path=Device.Nope")
        self.assertEqual((code, body["error"]["code"]), (400, 9005))
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/values")
        self.assertEqual((code, body["error"]["code"]), (400, 9005))
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/names?path=Device.&path=Device.")
        self.assertEqual((code, body["error"]["code"]), (400, 9003))
        many = "&".join(["path=Device.DeviceInfo.SerialNumber"] * (MAX_VALUES + 1))
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/values?{many}")
        self.assertEqual((code, body["error"]["code"]), (400, 9004))

    def test_routes(self) -> None:
        """An unknown API is 404, a wrong method 405, both JSON; an unknown page is 404."""
        self.assertEqual(self.fetch("GET", "/api/nope")[0], 404)
        self.assertEqual(self.fetch("DELETE", f"/api/devices/{self.device.key}/values")[0], 405)
        self.assertEqual(self.fetch("POST", f"/api/devices/{self.device.key}/names")[0], 405)
        for path in ("/static/../server.py", "/static/nope.js", "/index.htm", "/static/", "/../etc/passwd"):
            self.assertEqual(self.fetch("GET", path)[0], 404, path)
        self.assertEqual(self.fetch("POST", "/")[0], 405)

    def test_page(self) -> None:
        """The page and its two files are served from the package, with their types."""
        for path, kind in (("/", "text/html"), ("/static/console.js", "text/javascript"),
                           ("/static/console.css", "text/css")):
            code, body, response = self.fetch("GET", path)
            self.assertEqual(code, 200, path)
            self.assertTrue(response.headers.getRawHeaders("content-type")[0].startswith(kind))
            self.assertTrue(body)

    def test_modelTimeout(self) -> None:
        """A device that does not answer: 504 with a 9002 once the model timeout passed."""
        model = ReadOnlyModel(TreeDataModel(thingTree(Thing("MEM-0003"))))
        device, _ = self.source.add("MEM-0003", model=model)
        model.hang = True
        d = self.http.get(URL + f"/api/devices/{device.key}/values?path=Device.")
        self.http.flush()
        self.assertNoResult(d)
        self.clock.advance(MODEL_TIMEOUT)
        self.http.flush()
        response = self.successResultOf(d)
        self.assertEqual(response.code, 504)
        self.assertEqual(json.loads(self.successResultOf(response.content()))["error"]["code"], 9002)

    def test_hostChecked(self) -> None:
        """A Host that names another site (DNS rebinding) is refused; addresses and localhost are not."""
        for host, code in (("evil.example", 421), ("evil.example:80", 421), ("", 421), ("localhost:8547", 200),
                           ("127.0.0.1:8547", 200), ("[::1]:8547", 200), ("10.0.0.1", 200)):
            self.assertEqual(self.fetch("GET", "/api/status", headers={"Host": host})[0], code, host)


class WriteTests(ConsoleTestCase):
    def test_write(self) -> None:
        """
        POST values sets through the model's local write (the type looked up
        when not given), is logged with who made it, and a parameter with
        Notification on is reported to the model's listeners — where the
        same write by the ACS is not.
        """
        model = self.endpoint.model
        heard: list = []
        model.addChangeListener(lambda values, active: heard.append([(v.name, v.value) for v in values]))
        self.successResultOf(model.setParameterAttributes([AttributeChange("Device.X_000000_Thing.Label", True, 1)]))
        self.successResultOf(model.setParameterValues([ParameterValue("Device.X_000000_Thing.Label", "by the ACS")]))
        self.assertEqual(heard, [])
        logs = LogCapture(self)
        code, body, _ = self.write(self.device.key, [{"name": "Device.X_000000_Thing.Label", "value": "hall"}])
        self.assertEqual((code, body), (200, {"status": 0, "via": "virtual"}))
        self.assertEqual(model.getLocal("Device.X_000000_Thing.Label"), "hall")
        self.assertEqual(heard, [[("Device.X_000000_Thing.Label", "hall")]])
        lines = [e for e in logs.events if "console:" in e.get("log_format", "")]
        self.assertEqual([(e["user"], e["names"]) for e in lines], [("loopback", "Device.X_000000_Thing.Label")])

    def test_faults(self) -> None:
        """A write the model refuses is a 4xx with its CWMP fault, per parameter; nothing is applied."""
        key = self.device.key
        code, body, _ = self.write(key, [{"name": "Device.X_000000_Thing.Label", "value": "x"},
                                         {"name": "Device.DeviceInfo.SerialNumber", "value": "y"}])
        self.assertEqual((code, body["error"]["code"]), (400, 9003))
        self.assertEqual(body["error"]["parameterFaults"],
                         [{"name": "Device.DeviceInfo.SerialNumber", "code": 9008,
                           "string": "Attempt to set a non-writable parameter"}])
        self.assertEqual(self.endpoint.model.getLocal("Device.X_000000_Thing.Label"), "")
        code, body, _ = self.write(key, [{"name": "Device.X_000000_Thing.Label", "value": "x" * 65}])
        self.assertEqual(body["error"]["parameterFaults"][0]["code"], 9007)

    def test_badBodies(self) -> None:
        """Bodies that are not a list of name/value strings, objects, too many values: 400 with a fault."""
        key = self.device.key
        token = self.token()
        headers = {CSRF_HEADER.decode(): token, "Content-Type": "application/json"}
        rows = [
            (b"not json", 9003), (b'"values"', 9003), (b'{"values": []}', 9003), (b'{"values": [1]}', 9003),
            (b'{"values": [{"name": "Device.X_000000_Thing.Label", "value": 5}]}', 9003),
            (b'{"values": [{"name": "Device.X_000000_Thing.", "value": "x"}]}', 9005),
            (b'{"values": [{"name": "../x", "value": "x"}]}', 9005),
            (json.dumps({"values": [{"name": "Device.X_000000_Thing.Label", "value": "x"}] * (MAX_VALUES + 1)})
             .encode(), 9004),
            (b"\xff\xfe", 9003),
        ]
        for raw, fault in rows:
            code, body, _ = self.fetch("POST", f"/api/devices/{key}/values", raw=raw, headers=headers)
            self.assertEqual((code, body["error"]["code"]), (400, fault), raw[:60])

    def test_csrf(self) -> None:
        """A write without the session's token, with a wrong one, not as JSON, or from another origin: 403."""
        key = self.device.key
        values = {"values": [{"name": "Device.X_000000_Thing.Label", "value": "csrf"}]}
        token = self.token()
        for headers in ({}, {CSRF_HEADER.decode(): "wrong"},
                        {CSRF_HEADER.decode(): token, "Content-Type": "text/plain"},
                        {CSRF_HEADER.decode(): token, "Content-Type": "application/x-www-form-urlencoded"},
                        {CSRF_HEADER.decode(): token, "Origin": "http://evil.example"}):
            code, body, _ = self.fetch("POST", f"/api/devices/{key}/values", body=values, headers=headers)
            self.assertEqual((code, body["error"]["code"]), (403, 9001), headers)
        self.assertEqual(self.endpoint.model.getLocal("Device.X_000000_Thing.Label"), "")
        code, _, _ = self.fetch("POST", f"/api/devices/{key}/values", body=values,
                                headers={CSRF_HEADER.decode(): token, "Origin": "http://127.0.0.1"})
        self.assertEqual(code, 200)

    def test_modelWithoutLocalWrites(self) -> None:
        """A model that cannot tell a local write from the ACS's is not written at all: 403, 9001."""
        model = ReadOnlyModel(TreeDataModel(thingTree(Thing("MEM-0004"))))
        device, _ = self.source.add("MEM-0004", model=model)
        code, body, _ = self.write(device.key, [{"name": "Device.X_000000_Thing.Label", "value": "x"}])
        self.assertEqual((code, body["error"]["code"]), (403, 9001))
        self.assertEqual(model.sets, [])


class CredentialTests(ConsoleTestCase):
    credentials = ("alice", "s3cret")

    def authorized(self, path: str, password: str = "s3cret", method: str = "GET") -> tuple[int, Any, Any]:
        code, _, response = self.fetch(method, path)
        self.assertEqual(code, 401)
        challenge = DigestClient.pick(parseChallenges(response.headers.getRawHeaders("www-authenticate")))
        client = DigestClient("alice", password, challenge)
        return self.fetch(method, path, headers={"Authorization": client.authorization(method, path)})

    def test_refused(self) -> None:
        """Without an answer, with a wrong password or with Basic: 401 with a Digest challenge; nothing shown."""
        for headers in ({}, {"Authorization": "Basic YWxpY2U6czNjcmV0"}):
            code, body, response = self.fetch("GET", "/api/devices", headers=headers)
            self.assertEqual(code, 401)
            self.assertNotIn(b"MEM-0001", body)
            self.assertTrue(response.headers.getRawHeaders("www-authenticate")[0].startswith("Digest "))
        code, _, _ = self.authorized("/api/devices", password="wrong")
        self.assertEqual(code, 401)
        self.assertEqual(self.fetch("GET", "/")[0], 401)

    def test_accepted(self) -> None:
        """The right Digest answer opens the API; the session names the user, and so does a write's log line."""
        code, _, response = self.fetch("GET", "/api/session")
        client = DigestClient("alice", "s3cret",
                              DigestClient.pick(parseChallenges(response.headers.getRawHeaders("www-authenticate"))))

        def auth(method: str, path: str) -> dict:
            return {"Authorization": client.authorization(method, path)}

        code, body, _ = self.fetch("GET", "/api/session", headers=auth("GET", "/api/session"))
        self.assertEqual((code, body["user"]), (200, "alice"))
        code, devices, _ = self.fetch("GET", "/api/devices", headers=auth("GET", "/api/devices"))
        self.assertEqual((code, len(devices["devices"])), (200, 1))
        logs = LogCapture(self)
        path = f"/api/devices/{self.device.key}/values"
        headers = dict(auth("POST", path), **{CSRF_HEADER.decode(): body["csrf"]})
        code, _, _ = self.fetch("POST", path, body={"values": [{"name": "Device.X_000000_Thing.Label", "value": "a"}]},
                                headers=headers)
        self.assertEqual(code, 200)
        self.assertEqual([e["user"] for e in logs.events if "console:" in e.get("log_format", "")], ["alice"])


class GuardTests(unittest.TestCase):
    def test_oversizedBody(self) -> None:
        """A body over the cap is refused by the guarded site (413) before the API sees it."""
        reactor = MemoryReactorClock()
        section = configmod.load(None).replace("console", enable=True, port=0)
        service = ConsoleService(section, FakeSource(), reactor=reactor, interfaces=lambda: [], wan=lambda: [])
        channel = service.site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
        transport = StringTransport()
        channel.makeConnection(transport)
        channel.dataReceived(b"POST /api/devices/x/values HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 413 "))


LAN = NetworkInterface("br-lan", 3, addresses=(ipaddress.ip_interface("192.168.1.1/24"),
                                               ipaddress.ip_interface("fd00::1/64")))
WAN = NetworkInterface("eth0", 2, addresses=(ipaddress.ip_interface("203.0.113.7/24"),))
GUEST = NetworkInterface("br-guest", 4, addresses=(ipaddress.ip_interface("192.168.9.1/24"),))
LOOPBACK = NetworkInterface("lo", 1, loopback=True, addresses=(ipaddress.ip_interface("127.0.0.1/8"),))


class BindRuleTests(unittest.TestCase):
    def test_rule(self) -> None:
        """Loopback, or an address a LAN interface holds (named in [lan], else any but the WAN); never a wildcard."""
        interfaces = [LOOPBACK, LAN, WAN, GUEST]
        rows = [
            ("127.0.0.1", (), None), ("::1", (), None), ("127.0.0.2", ("br-lan",), None),
            ("192.168.1.1", (), None), ("fd00::1", ("br-lan",), None), ("192.168.9.1", (), None),
            ("192.168.9.1", ("br-lan",), "not one of the [lan] interfaces"),
            ("203.0.113.7", (), "holds a default route"), ("203.0.113.7", ("eth0",), None),
            ("0.0.0.0", ("br-lan",), "would serve the WAN"), ("::", (), "would serve the WAN"),
            ("192.168.1.77", (), "no interface of this machine holds"),
        ]
        for address, names, why in rows:
            verdict = checkListenAddress(address, names, interfaces, {"eth0"})
            if why is None:
                self.assertIsNone(verdict, address)
            else:
                self.assertIn(why, verdict or "", (address, names))

    def test_portTakenInTheSameInstant(self) -> None:
        """
        A port another process bound in the same instant (listen() refused
        with EADDRINUSE, not bind()) is a ConfigError naming [console] port,
        as a port taken before is: the demo then takes a free one.
        """
        import errno

        class Racing(MemoryReactorClock):
            def listenTCP(self, port: int, factory: Any, backlog: int = 50, interface: str = "") -> Any:
                raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))

        config = configmod.load(None).replace("console", enable=True, listen_address="127.0.0.1")
        service = ConsoleService(config, FakeSource(), reactor=Racing(), interfaces=lambda: [LAN, WAN],
                                 wan=lambda: ["eth0"])
        with self.assertRaises(configmod.ConfigError) as caught:
            service.listen()
        self.assertIn("[console] port", str(caught.exception))
        self.assertIn("Address already in use", str(caught.exception))

    def test_refusedAtStart(self) -> None:
        """The service refuses to listen where the rule says no, with a ConfigError naming the key."""
        config = configmod.load(None).replace("console", enable=True, listen_address="203.0.113.7",
                                              credentials=("a", "b"))
        reactor = MemoryReactorClock()
        service = ConsoleService(config, FakeSource(), reactor=reactor, interfaces=lambda: [LAN, WAN],
                                 wan=lambda: ["eth0"])
        with self.assertRaises(configmod.ConfigError) as caught:
            service.startService()
        self.assertIn("[console] listen_address", str(caught.exception))
        self.assertEqual(reactor.tcpServers, [])
        config = config.replace("console", listen_address="192.168.1.1")
        service = ConsoleService(config, FakeSource(), reactor=reactor, interfaces=lambda: [LAN, WAN],
                                 wan=lambda: ["eth0"])
        service.startService()
        self.assertEqual(reactor.tcpServers[0][3], "192.168.1.1")
        self.assertEqual(service.url(), f"http://192.168.1.1:{service.port}/")
        service.stopService()


def throwawayCertificate(folder: str) -> tuple[str, str, bytes]:
    """A self-signed certificate for 127.0.0.1 and its key, written in C{folder}: their paths and the PEM."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from proxier.sim.dps import makeCertificate

    certificate, key = makeCertificate("proxier console", addresses=("127.0.0.1",))
    os.makedirs(folder)
    cert, keyPath = os.path.join(folder, "console.pem"), os.path.join(folder, "console.key")
    pem = certificate.public_bytes(Encoding.PEM)
    with open(cert, "wb") as f:
        f.write(pem)
    with open(keyPath, "wb") as f:
        f.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return cert, keyPath, pem


@implementer(IPolicyForHTTPS)
class _TrustOnly:
    """An HTTPS client policy trusting the one certificate given (the console's throwaway one)."""

    def __init__(self, pem: bytes) -> None:
        self.root = ssl.Certificate.loadPEM(pem)

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        return ssl.optionsForClientTLS(hostname.decode("ascii"), trustRoot=self.root)


class TLSTests(unittest.TestCase):
    """[console] certificate and key: the port speaks HTTPS only (on loopback, a certificate made here)."""

    def setUp(self) -> None:
        self.cert, self.key, self.pem = throwawayCertificate(self.mktemp())

    def service(self, **console: Any) -> ConsoleService:
        config = configmod.load(None).replace("console", enable=True, port=0, **console)
        service = ConsoleService(config, FakeSource(), reactor=liveReactor, interfaces=lambda: [LOOPBACK],
                                 wan=lambda: [])
        service.startService()
        self.addCleanup(service.stopService)
        return service

    @defer.inlineCallbacks
    def test_httpsOnly(self) -> None:
        """The console answers over HTTPS (its URL says https); plain HTTP on that port gets no answer."""
        service = self.service(certificate=self.cert, key=self.key)
        self.assertEqual(service.url(), f"https://127.0.0.1:{service.port}/")
        agent = Agent(liveReactor, contextFactory=_TrustOnly(self.pem))
        response = yield agent.request(b"GET", service.url().encode() + b"api/status",
                                       Headers({b"Host": [f"127.0.0.1:{service.port}".encode()]}))
        body = json.loads((yield readBody(response)))
        self.assertEqual((response.code, body["identity"]["serialNumber"]), (200, "GW-1"))
        plain = Agent(liveReactor).request(b"GET", f"http://127.0.0.1:{service.port}/api/status".encode())
        yield self.assertFailure(plain, ResponseNeverReceived, ResponseFailed)
        yield task.deferLater(liveReactor, 0.05, lambda: None)  # the refused connection closes

    def test_plainWithout(self) -> None:
        """Without certificate and key the console is plain HTTP, as before."""
        self.assertEqual(self.service().url()[:7], "http://")

    def test_unusableFilesRefused(self) -> None:
        """A key that is not one: refused at start with a ConfigError naming [console] certificate."""
        with open(self.key, "w") as f:
            f.write("garbage")
        with self.assertRaises(configmod.ConfigError) as caught:
            self.service(certificate=self.cert, key=self.key)
        self.assertIn("[console] certificate", str(caught.exception))


class SectionTests(unittest.TestCase):
    def load(self, text: str) -> configmod.Config:
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(text)
        return configmod.load(path)

    def test_defaults(self) -> None:
        """Off by default, on loopback, no credentials."""
        console = configmod.load(None)["console"]
        self.assertEqual((console["enable"], console["listen_address"], console["credentials"]),
                         (False, "127.0.0.1", ("", "")))

    def test_credentialsRequiredOffLoopback(self) -> None:
        """Enabled on a LAN address without credentials: refused, naming [console] credentials."""
        with self.assertRaises(configmod.ConfigError) as caught:
            self.load("[console]\nenable = true\nlisten_address = 192.168.1.1\n")
        self.assertIn("[console] credentials", str(caught.exception))
        config = self.load("[console]\nenable = true\nlisten_address = 192.168.1.1\ncredentials = me:p:w\n")
        self.assertEqual(config["console"]["credentials"], ("me", "p:w"))

    def test_wildcardRefused(self) -> None:
        """A wildcard listen_address is refused at load, naming the key; so are malformed credentials."""
        for address in ("0.0.0.0", "::"):
            with self.assertRaises(configmod.ConfigError) as caught:
                self.load(f"[console]\nlisten_address = {address}\ncredentials = a:b\n")
            self.assertIn("[console] listen_address", str(caught.exception))
        for credentials in ("nocolon", ":p", "u:"):
            with self.assertRaises(configmod.ConfigError) as caught:
                self.load(f"[console]\ncredentials = {credentials}\n")
            self.assertIn("[console] credentials", str(caught.exception))
