"""
Fuzz the UPnP SOAP codec (L{proxier.upnp.soap}): an action response, a
fault or an action request from the LAN decodes, or fails with L{SOAPError}
(a fault: L{UPnPError}), opening no file and no connection.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.upnp import soap
from tests.fuzz._harness import XML_TOKENS, Target, assertFuzzClean

CMS2 = "urn:schemas-upnp-org:service:ConfigurationManagement:2"
BMS2 = "urn:schemas-upnp-org:service:BasicManagement:2"

_TOKENS = XML_TOKENS + (
    b"<s:Fault>", b"<faultcode>s:Client</faultcode>", b"<detail>", b"<UPnPError>", b"<errorCode>", b"</errorCode>",
    b"<errorDescription>", b'xmlns="urn:schemas-upnp-org:control-1-0"', b"<s:Body>", b"</s:Body>", b"<s:Header>",
    b"Response", b"&lt;cms:", b"&amp;lt;", b'"' + CMS2.encode() + b'#GetValues"', b"#",
)


def _checkError(error: soap.UPnPError) -> None:
    assert type(error.code) is int, f"errorCode {error.code!r}"
    str(error)


def decodeResponse(data: bytes) -> None:
    """L{soap.decodeResponse} as the action client calls it, and L{soap.decodeFault} on the same body."""
    try:
        arguments = soap.decodeResponse(data, "GetValues")
    except soap.UPnPError as e:
        _checkError(e)
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in arguments.items())
    fault = soap.decodeFault(data)
    if fault is not None:
        _checkError(fault)


def decodeRequest(data: bytes) -> None:
    """L{soap.decodeRequest} as the simulated device's control URL calls it, the SOAPACTION header first."""
    header, _, body = data.partition(b"\n")
    soapAction = header.decode("latin-1")
    request = soap.decodeRequest(body, soapAction if soapAction != "-" else None)
    assert isinstance(request.serviceType, str) and isinstance(request.action, str)


def _responseSeeds() -> list[bytes]:
    from tests.test_upnp_soap import GUPNP_FAULT, PVL

    return [
        soap.encodeResponse(CMS2, "GetValues", [("ParameterValueList", PVL)]),
        soap.encodeResponse(BMS2, "GetDeviceStatus", [("DeviceStatus", "OK,2026-12-06T09:00:00Z")]),
        soap.encodeResponse(CMS2, "GetValues", []),
        soap.encodeFault(402),
        soap.encodeFault(703, "No such name"),
        GUPNP_FAULT,
    ]


def _requestSeeds() -> list[bytes]:
    from tests.test_upnp_soap import PVL

    return [
        soap.soapActionHeader(CMS2, "SetValues").encode() + b"\n"
        + soap.encodeRequest(CMS2, "SetValues", [("ParameterValueList", PVL)]),
        soap.soapActionHeader(CMS2, "GetSupportedParameters").encode() + b"\n"
        + soap.encodeRequest(CMS2, "GetSupportedParameters", [("StartingNode", "/BBF/"), ("SearchDepth", 2)]),
        b"-\n" + soap.encodeRequest(BMS2, "Reboot"),
    ]


TARGETS = [
    Target("soap-response", __name__, decodeResponse, (soap.SOAPError,), _responseSeeds, _TOKENS, xml=True),
    Target("soap-request", __name__, decodeRequest, (soap.SOAPError,), _requestSeeds, _TOKENS, xml=True),
]


class SOAPFuzzTests(unittest.TestCase):
    def test_response(self) -> None:
        """
        Mutated action responses and faults (ours, GUPnP's) decode, or fail
        with L{soap.SOAPError} or L{soap.UPnPError} whose code is an
        integer, within a second each, opening no file and no connection.
        """
        assertFuzzClean(self, TARGETS[0])

    def test_request(self) -> None:
        """
        Mutated action requests with their SOAPACTION decode or fail with
        L{soap.SOAPError}, within a second each, opening no file and no
        connection.
        """
        assertFuzzClean(self, TARGETS[1])
