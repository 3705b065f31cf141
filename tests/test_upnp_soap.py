"""Tests for L{proxier.upnp.soap}: UPnP control messages, both sides."""

from __future__ import annotations

from lxml import etree
from twisted.trial import unittest

from proxier.upnp import soap, xmlstring
from proxier.upnp.soap import (
    ActionRequest,
    SOAPError,
    UPnPError,
    decodeFault,
    decodeRequest,
    decodeResponse,
    encodeFault,
    encodeRequest,
    encodeResponse,
    parseSOAPAction,
    soapActionHeader,
)

CMS2 = "urn:schemas-upnp-org:service:ConfigurationManagement:2"
BMS2 = "urn:schemas-upnp-org:service:BasicManagement:2"

PVL = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<cms:ParameterValueList xmlns:cms="urn:schemas-upnp-org:dm:cms" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<Parameter><ParameterPath>/BBF/Device/X</ParameterPath><Value>a&lt;b</Value></Parameter>"
    "</cms:ParameterValueList>"
)

# What GUPnP sends for a fault (captured), and a fault inside HTTP 200 from a sloppy device.
GUPNP_FAULT = b"""<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>703</errorCode><errorDescription>No such name</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>"""


class HeaderTests(unittest.TestCase):
    def test_soapAction(self) -> None:
        """SOAPACTION is the quoted serviceType#action, and parses back with or without quotes."""
        value = soapActionHeader(CMS2, "GetValues")
        self.assertEqual(value, f'"{CMS2}#GetValues"')
        self.assertEqual(parseSOAPAction(value), (CMS2, "GetValues"))
        self.assertEqual(parseSOAPAction(f" {CMS2}#GetValues "), (CMS2, "GetValues"))

    def test_soapActionMalformed(self) -> None:
        """A SOAPACTION without '#', or with nothing on one side, is SOAPError."""
        for bad in ('"urn:x"', '"#GetValues"', f'"{CMS2}#"', ""):
            self.assertRaises(SOAPError, parseSOAPAction, bad)
        self.assertRaises(ValueError, soapActionHeader, CMS2, "Get Values")

    def test_errorTable(self) -> None:
        """The UDA errorCode table has the codes TR-330 Table 2 maps, each with its name."""
        for code in (401, 402, 501, 600, 601, 602, 603, 604, 605, 606):
            self.assertTrue(soap.UDA_ERRORS[code])
        for code, name in soap.UDA_ERRORS.items():
            self.assertEqual(decodeFault(encodeFault(code)), UPnPError(code, name))


class RequestTests(unittest.TestCase):
    def test_encodeShape(self) -> None:
        """A request is an s:Envelope with encodingStyle, the action in the service namespace, unqualified arguments in order."""
        body = encodeRequest(CMS2, "GetSupportedParameters", [("StartingNode", "/BBF/"), ("SearchDepth", 2)])
        self.assertTrue(body.startswith(b"<?xml version='1.0' encoding='utf-8'?>"))
        root = etree.fromstring(body)
        self.assertEqual(root.tag, f"{{{soap.ENVELOPE_NS}}}Envelope")
        self.assertEqual(root.get(f"{{{soap.ENVELOPE_NS}}}encodingStyle"), soap.ENCODING_STYLE)
        action = root[0][0]
        self.assertEqual(action.tag, f"{{{CMS2}}}GetSupportedParameters")
        self.assertEqual([(a.tag, a.text) for a in action], [("StartingNode", "/BBF/"), ("SearchDepth", "2")])

    def test_roundTrip(self) -> None:
        """A request with an XML argument decodes to the same arguments, escaped on the wire."""
        args = {"ParameterValueList": PVL, "Empty": "", "Flag": True}
        body = encodeRequest(CMS2, "SetValues", args)
        self.assertIn(b"&lt;cms:ParameterValueList", body)
        decoded = decodeRequest(body, soapActionHeader(CMS2, "SetValues"))
        self.assertEqual(decoded, ActionRequest(CMS2, "SetValues", {"ParameterValueList": PVL, "Empty": "", "Flag": "1"}))
        self.assertEqual(list(decoded.arguments), ["ParameterValueList", "Empty", "Flag"])

    def test_soapActionMismatch(self) -> None:
        """A SOAPACTION naming another action or service than the body is refused."""
        body = encodeRequest(CMS2, "GetValues", {"Parameters": ""})
        self.assertRaises(SOAPError, decodeRequest, body, soapActionHeader(CMS2, "SetValues"))
        self.assertRaises(SOAPError, decodeRequest, body, soapActionHeader(BMS2, "GetValues"))

    def test_requestWithoutNamespace(self) -> None:
        """A request whose action element has no namespace is refused (no service type)."""
        body = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetValues/></s:Body></s:Envelope>'
        self.assertRaises(SOAPError, decodeRequest, body)

    def test_badNames(self) -> None:
        """Names that are not XML names and values XML cannot hold are refused when encoding."""
        self.assertRaises(ValueError, encodeRequest, CMS2, "Get Values")
        self.assertRaises(ValueError, encodeRequest, CMS2, "GetValues", {"a b": "x"})
        self.assertRaises(ValueError, encodeRequest, CMS2, "GetValues", {"p:x": "x"})
        self.assertRaises(ValueError, encodeRequest, CMS2, "GetValues", {"X": "\x00"})

    def test_formatValue(self) -> None:
        """Booleans go as 1/0, None as empty, numbers as decimal text."""
        self.assertEqual([soap.formatValue(v) for v in (True, False, None, 7, "x")], ["1", "0", "", "7", "x"])

    def test_parseBoolean(self) -> None:
        """Every UPnP boolean spelling parses; anything else is ValueError."""
        for text, value in (("1", True), ("true", True), ("YES", True), (" 0 ", False), ("False", False), ("no", False)):
            self.assertEqual(soap.parseBoolean(text), value)
        self.assertRaises(ValueError, soap.parseBoolean, "2")


class ResponseTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """A response round-trips with its arguments in order."""
        body = encodeResponse(CMS2, "GetValues", [("ParameterValueList", PVL)])
        self.assertEqual(etree.fromstring(body)[0][0].tag, f"{{{CMS2}}}GetValuesResponse")
        self.assertEqual(decodeResponse(body, "GetValues"), {"ParameterValueList": PVL})

    def test_wrongNamespace(self) -> None:
        """A response in another service's namespace (or none at all) is accepted."""
        body = encodeResponse("urn:schemas-upnp-org:service:ConfigurationManagement:1", "GetValues", {"A": "1"})
        self.assertEqual(decodeResponse(body, "GetValues"), {"A": "1"})
        bare = b"<Envelope><Body><GetValuesResponse><A>1</A><B/></GetValuesResponse></Body></Envelope>"
        self.assertEqual(decodeResponse(bare, "GetValues"), {"A": "1", "B": ""})

    def test_whitespaceAndNuls(self) -> None:
        """A pretty-printed response with leading white space and trailing NULs decodes."""
        body = b"\r\n  " + etree.tostring(
            etree.fromstring(encodeResponse(BMS2, "GetDeviceStatus", {"DeviceStatus": "OK,2012-01-01T00:00:00"})),
            pretty_print=True, xml_declaration=True, encoding="utf-8",
        ) + b"\x00\x00\n"
        self.assertEqual(decodeResponse(body, "GetDeviceStatus"), {"DeviceStatus": "OK,2012-01-01T00:00:00"})

    def test_inlineXML(self) -> None:
        """An argument holding inline elements comes out as that XML's text, parseable by xmlstring."""
        body = (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b'<u:GetValuesResponse xmlns:u="' + CMS2.encode() + b'"><ParameterValueList>\n  '
            b'<cms:ParameterValueList xmlns:cms="urn:schemas-upnp-org:dm:cms"><Parameter>'
            b"<ParameterPath>/A</ParameterPath><Value>1</Value></Parameter></cms:ParameterValueList>\n"
            b"</ParameterValueList></u:GetValuesResponse></s:Body></s:Envelope>"
        )
        value = decodeResponse(body, "GetValues")["ParameterValueList"]
        doc = xmlstring.decode(value)
        self.assertEqual(doc.tag, "{urn:schemas-upnp-org:dm:cms}ParameterValueList")
        self.assertEqual(doc.findtext("Parameter/Value"), "1")

    def test_commentsIgnored(self) -> None:
        """A comment inside an argument does not turn plain text into XML."""
        body = b"<Envelope><Body><XResponse><A>a<!-- c -->b</A></XResponse></Body></Envelope>"
        self.assertEqual(decodeResponse(body, "X"), {"A": "ab"})

    def test_mismatchedAction(self) -> None:
        """A response to another action, or a non-response, is SOAPError."""
        body = encodeResponse(CMS2, "GetInstances", {})
        self.assertRaises(SOAPError, decodeResponse, body, "GetValues")
        self.assertRaises(SOAPError, decodeResponse, encodeRequest(CMS2, "GetValues", {}))
        self.assertEqual(decodeResponse(body), {})

    def test_faultRaised(self) -> None:
        """A fault body raises UPnPError — as decodeResponse sees it in an HTTP 200 too."""
        e = self.assertRaises(UPnPError, decodeResponse, GUPNP_FAULT, "GetValues")
        self.assertEqual((e.code, e.description, e.faultString), (703, "No such name", "UPnPError"))
        self.assertEqual(str(e), "UPnPError 703: No such name")

    def test_errorCodeASCII(self) -> None:
        """An errorCode of Unicode digits ('٧٠٣', which int() read as 703), '7_03' or beyond ui2 is malformed: 501."""
        for bad in ("٧٠٣", "7_03", "+703", "²", "70300000"):
            body = GUPNP_FAULT.replace(b"<errorCode>703</errorCode>", f"<errorCode>{bad}</errorCode>".encode())
            e = self.assertRaises(UPnPError, decodeResponse, body, "GetValues")
            self.assertEqual(e.code, 501, bad)
            self.assertIn("malformed errorCode", e.description)
        body = GUPNP_FAULT.replace(b"<errorCode>703</errorCode>", b"<errorCode>\n 703 </errorCode>")
        self.assertEqual(self.assertRaises(UPnPError, decodeResponse, body, "GetValues").code, 703)

    def test_malformed(self) -> None:
        """Bodies that are not envelopes, hostile or empty are SOAPError, never a crash."""
        for body in (
            b"",
            b"not xml",
            b"<html><body>500</body></html>",
            b"<Envelope/>",
            b"<Envelope><Body/></Envelope>",
            b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Envelope><Body><XResponse>&a;</XResponse></Body></Envelope>',
        ):
            self.assertRaises(SOAPError, decodeResponse, body, "X")
            self.assertIsNone(decodeFault(body))

    def test_sizeCap(self) -> None:
        """A body over the cap is refused before parsing."""
        body = encodeResponse(CMS2, "GetValues", {"A": "x" * 5000})
        self.assertRaises(SOAPError, decodeResponse, body, "GetValues", 1000)
        self.assertEqual(len(decodeResponse(body, "GetValues", 10000)["A"]), 5000)


class FaultTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """encodeFault → decodeFault gives back code and description; non-faults give None."""
        self.assertEqual(decodeFault(encodeFault(706, "Read-only violation")), UPnPError(706, "Read-only violation"))
        self.assertEqual(decodeFault(encodeFault(401)), UPnPError(401, "Invalid Action"))
        self.assertEqual(decodeFault(encodeFault(799)).description, "")
        self.assertIsNone(decodeFault(encodeResponse(CMS2, "GetValues", {})))

    def test_faultShape(self) -> None:
        """The fault is laid out as UDA 1.1 §3.2.2 shows it."""
        root = etree.fromstring(encodeFault(402))
        fault = root[0][0]
        self.assertEqual(fault.tag, f"{{{soap.ENVELOPE_NS}}}Fault")
        self.assertEqual(fault.findtext("faultcode"), "s:Client")
        self.assertEqual(fault.findtext("faultstring"), "UPnPError")
        error = fault.find(f"detail/{{{soap.CONTROL_NS}}}UPnPError")
        self.assertEqual(error.findtext(f"{{{soap.CONTROL_NS}}}errorCode"), "402")

    def test_sloppyFaults(self) -> None:
        """Faults without UPnPError detail, with a namespaced detail, or a bad code still become UPnPError."""
        noDetail = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
                    b"<faultcode>s:Server</faultcode><faultstring>boom</faultstring></s:Fault></s:Body></s:Envelope>")
        self.assertEqual(decodeFault(noDetail), UPnPError(501, "boom"))
        nsDetail = GUPNP_FAULT.replace(b"<detail>", b"<s:detail>").replace(b"</detail>", b"</s:detail>")
        self.assertEqual(decodeFault(nsDetail), UPnPError(703, "No such name"))
        badCode = GUPNP_FAULT.replace(b"<errorCode>703", b"<errorCode>abc")
        self.assertEqual(decodeFault(badCode).code, 501)
        self.assertIn("abc", decodeFault(badCode).description)
