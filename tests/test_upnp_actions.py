"""Tests for L{proxier.upnp.actions}: invoking actions and decoding every outcome."""

from __future__ import annotations

from twisted.internet.task import Clock
from twisted.trial import unittest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from treq.testing import StubTreq

from proxier.upnp import description as D, soap, xmlstring
from proxier.upnp.actions import ActionClient, ActionError, orderArguments
from proxier.upnp.description import parseSCPD
from proxier.lan.httpclient import Requester
from proxier.upnp.soap import UPnPError
from proxier.lan.urlpolicy import Origin, URLPolicy

from .test_upnp_fakes import FakeDMDevice, templateSCPD
from .test_lan_urlpolicy import LAN, resolverOf

ORIGIN = Origin("192.168.1.20", LAN)
CMS = D.CONFIGURATION_MANAGEMENT_2
PVL = '<cms:ParameterValueList xmlns:cms="urn:schemas-upnp-org:dm:cms"><Parameter><ParameterPath>/A</ParameterPath><Value>1</Value></Parameter></cms:ParameterValueList>'
CPL = '<cms:ContentPathList xmlns:cms="urn:schemas-upnp-org:dm:cms"><ContentPath>/A</ContentPath></cms:ContentPathList>'


class Raw(Resource):
    """Answers every POST with a fixed status and body (or never)."""

    isLeaf = True

    def __init__(self, code: int, body: bytes, never: bool = False) -> None:
        super().__init__()
        self.code, self.body, self.never = code, body, never
        self.methods: list = []

    def render(self, request):  # noqa: ANN001
        self.methods.append((request.method, dict(request.requestHeaders.getAllRawHeaders())))
        if self.never:
            return NOT_DONE_YET
        if request.method == b"POST" and self.code == 405:
            request.setResponseCode(405)
            return b""
        request.setResponseCode(200 if request.method == b"M-POST" else self.code)
        return self.body


class ActionTests(unittest.TestCase):
    def setUp(self) -> None:
        self.device = FakeDMDevice()
        self.clock = Clock()
        self.use(self.device)
        self.scpd = parseSCPD(templateSCPD("ConfigurationManagement-2", ("SetValues",)))

    def use(self, resource: Resource) -> None:
        self.stub = StubTreq(resource)
        self.policy = URLPolicy(resolverOf({}))
        self.client = ActionClient(Requester(self.stub, self.clock, self.policy), timeout=7)
        self.control = self.policy.checkAddressLiteral("http://192.168.1.20:49152/control/cms", ORIGIN)

    def call(self, action: str, arguments: dict, **kw: object) -> object:
        results: list = []
        self.client.callAction(self.control, ORIGIN, CMS, action, arguments, **kw).addBoth(results.append)
        self.stub.flush()
        return results[0] if results else None

    def test_result(self) -> None:
        """Output arguments come back in order, an XML-in-string one parseable."""
        self.device.handlers["GetValues"] = lambda args: {"ParameterValueList": PVL}
        out = self.call("GetValues", {"Parameters": CPL}, scpd=self.scpd)
        self.assertEqual(list(out), ["ParameterValueList"])
        self.assertEqual(xmlstring.decode(out["ParameterValueList"]).findtext("Parameter/Value"), "1")

    def test_requestShape(self) -> None:
        """The POST carries the INTEROP.md headers: Content-Type, SOAPACTION, Host without zone, Content-Length."""
        self.device.handlers["GetValues"] = lambda args: {"ParameterValueList": ""}
        self.call("GetValues", {"Parameters": CPL})
        headers, body = self.device.lastControl
        self.assertEqual(headers["content-type"], 'text/xml; charset="utf-8"')
        self.assertEqual(headers["soapaction"], f'"{CMS}#GetValues"')
        self.assertEqual(headers["host"], "192.168.1.20:49152")
        self.assertEqual(headers["content-length"], str(len(body)))
        self.assertIn(b"&lt;cms:ContentPathList", body)

    def test_upnpErrorIn500(self) -> None:
        """A fault in an HTTP 500 fails with the device's UPnPError."""
        def refuse(args: dict) -> dict:
            raise UPnPError(703, "No such name")
        self.device.handlers["GetValues"] = refuse
        self.assertEqual(self.call("GetValues", {"Parameters": CPL}).value, UPnPError(703, "No such name"))

    def test_upnpErrorIn200(self) -> None:
        """A fault inside an HTTP 200 is a UPnPError too."""
        def refuse(args: dict) -> dict:
            raise UPnPError(706, "Read-only violation")
        self.device.handlers["SetValues"] = refuse
        self.device.faultStatus = 200
        self.assertEqual(self.call("SetValues", {"ParameterValueList": PVL}).value.code, 706)

    def test_unknownActionAnswered401(self) -> None:
        """An action the device does not handle comes back as its 401."""
        self.assertEqual(self.call("GetInstances", {"StartingNode": "/", "SearchDepth": 0}).value.code, 401)

    def test_checkedAgainstSCPD(self) -> None:
        """With the SCPD: arguments reordered, unknown actions (401) and bad arguments (402) refused unsent."""
        seen = []
        self.device.handlers["GetSupportedParameters"] = lambda args: seen.append(list(args)) or {"Result": ""}
        self.call("GetSupportedParameters", {"SearchDepth": 1, "StartingNode": "/"}, scpd=self.scpd)
        self.assertEqual(seen, [["StartingNode", "SearchDepth"]])
        self.device.log.clear()
        self.assertEqual(self.call("CreateInstance", {}, scpd=self.scpd).value.code, 401)
        self.assertEqual(self.call("GetValues", {}, scpd=self.scpd).value.code, 402)
        e = self.call("GetValues", {"Parameters": "", "Extra": 1}, scpd=self.scpd).value
        self.assertEqual(e.code, 402)
        self.assertIn("unknown Extra", e.description)
        self.assertEqual(self.device.log, [])

    def test_orderArguments(self) -> None:
        """orderArguments follows the SCPD's in-argument order and names what is missing."""
        self.assertEqual(orderArguments(self.scpd, "GetInstances", {"SearchDepth": 0, "StartingNode": "/"}),
                         [("StartingNode", "/"), ("SearchDepth", 0)])
        e = self.assertRaises(UPnPError, orderArguments, self.scpd, "GetInstances", {"StartingNode": "/"})
        self.assertEqual(e.code, 402)
        self.assertIn("missing SearchDepth", e.description)

    def test_unencodable(self) -> None:
        """A value XML cannot carry is refused as 402 before sending."""
        self.assertEqual(self.call("GetValues", {"Parameters": "\x00"}).value.code, 402)

    def test_malformedAnswer(self) -> None:
        """A 200 that is not a response, or a 500 without UPnPError, is ActionError."""
        self.use(Raw(200, b"<html>hello</html>"))
        self.assertTrue(self.call("GetValues", {"Parameters": ""}).check(ActionError))
        self.use(Raw(500, b"Internal Server Error"))
        result = self.call("GetValues", {"Parameters": ""})
        self.assertTrue(result.check(ActionError))
        self.assertIn("HTTP 500", str(result.value))

    def test_answerCap(self) -> None:
        """An answer over the cap is ActionError."""
        self.use(Raw(200, soap.encodeResponse(CMS, "GetValues", {"ParameterValueList": "x" * 5000})))
        self.client.maxBytes = 1000
        self.assertTrue(self.call("GetValues", {"Parameters": ""}).check(ActionError))

    def test_timeout(self) -> None:
        """No answer within the deadline is ActionError; a per-call timeout overrides the default."""
        self.use(Raw(200, b"", never=True))
        results: list = []
        self.client.callAction(self.control, ORIGIN, CMS, "GetValues", {"Parameters": ""}, timeout=2).addBoth(results.append)
        self.stub.flush()
        self.clock.advance(2.1)
        self.assertTrue(results[0].check(ActionError))
        self.assertIn("within 2 s", str(results[0].value))

    def test_mpostFallback(self) -> None:
        """A 405 to POST is retried once as M-POST with MAN and 01-SOAPACTION (UDA 1.0 devices)."""
        raw = Raw(405, soap.encodeResponse(CMS, "GetValues", {"ParameterValueList": "ok"}))
        self.use(raw)
        self.assertEqual(self.call("GetValues", {"Parameters": ""}), {"ParameterValueList": "ok"})
        self.assertEqual([m for m, _ in raw.methods], [b"POST", b"M-POST"])
        self.assertEqual(raw.methods[1][1][b"01-Soapaction"], [f'"{CMS}#GetValues"'.encode()])
