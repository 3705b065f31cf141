# -*- test-case-name: tests.test_upnp_soap -*-
"""
UPnP control messages (UDA 1.1 §3.2): SOAP 1.1 action requests, their
responses, and UPnPError faults — encoded and decoded, for both sides.

The control point encodes requests and decodes responses; the simulated
devices of L{proxier.sim} decode requests and encode responses and faults.
Decoding tolerates what devices do (INTEROP.md, Description and SOAP): a
response in the wrong namespace, white space and trailing NULs, arguments
put inline as XML instead of escaped, a fault inside an HTTP 200. Every body
goes through L{proxier.xmlsafe} with a size cap.

Argument values are text: callers format and parse typed values (helpers:
L{formatValue}, L{parseBoolean}). Arguments keep their order, which UPnP
requires to be the SCPD's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Union

from lxml import etree

from proxier import xmlsafe
from proxier.asciinum import parseUnsigned
from proxier.upnp._xmlutil import child, children, childText, innerValue, localName, namespace, parseBody

__all__ = [
    "ENVELOPE_NS",
    "ENCODING_STYLE",
    "CONTROL_NS",
    "CONTENT_TYPE",
    "MAX_BODY_BYTES",
    "UDA_ERRORS",
    "UPnPError",
    "SOAPError",
    "ActionRequest",
    "Arguments",
    "soapActionHeader",
    "parseSOAPAction",
    "encodeRequest",
    "decodeRequest",
    "encodeResponse",
    "decodeResponse",
    "encodeFault",
    "decodeFault",
    "formatValue",
    "parseBoolean",
]

ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ENCODING_STYLE = "http://schemas.xmlsoap.org/soap/encoding/"
CONTROL_NS = "urn:schemas-upnp-org:control-1-0"
#: UDA 1.1 §3.2.1: the Content-Type of every control message.
CONTENT_TYPE = 'text/xml; charset="utf-8"'
#: The largest body decoded (a CMS answer listing a whole data model fits).
MAX_BODY_BYTES = xmlsafe.DEFAULT_MAX_BYTES

# UPnP Device Architecture 1.1, §3.2.2 "Action error response", table of
# errorCode values (401-612 defined by UDA; 600-699 common action errors;
# 700-799 action-specific, defined by each service).
UDA_ERRORS: dict[int, str] = {
    401: "Invalid Action",
    402: "Invalid Args",
    403: "Out of Sync",
    501: "Action Failed",
    600: "Argument Value Invalid",
    601: "Argument Value Out of Range",
    602: "Optional Action Not Implemented",
    603: "Out of Memory",
    604: "Human Intervention Required",
    605: "String Argument Too Long",
    606: "Action not authorized",
    607: "Signature failure",
    608: "Signature missing",
    609: "Not encrypted",
    610: "Invalid sequence",
    611: "Invalid control URL",
    612: "No such session",
}

Arguments = Union[Mapping[str, object], Iterable[tuple[str, object]]]


class UPnPError(Exception):
    """
    A device answered an action with a UPnPError (or a SOAP fault without
    one, reported as 501 Action Failed).

    @ivar code: the errorCode.
    @ivar description: the errorDescription (may be empty).
    @ivar faultString: the SOAP faultstring, for logs.
    """

    def __init__(self, code: int, description: str = "", faultString: str = "UPnPError") -> None:
        self.code = code
        self.description = description
        self.faultString = faultString
        super().__init__(code, description)

    def __str__(self) -> str:
        return f"UPnPError {self.code}: {self.description or UDA_ERRORS.get(self.code, 'no description')}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UPnPError) and (self.code, self.description) == (other.code, other.description)

    def __hash__(self) -> int:
        return hash((self.code, self.description))


class SOAPError(ValueError):
    """The body is not a control message we can use; C{str()} fits a log line."""


@dataclass(frozen=True)
class ActionRequest:
    """
    A decoded action request (the device side).

    @ivar serviceType: the namespace of the action element.
    @ivar action: the action name.
    @ivar arguments: name → value, in the order sent.
    """

    serviceType: str
    action: str
    arguments: dict[str, str] = field(default_factory=dict)


def formatValue(value: object) -> str:
    """An argument value as UPnP writes it: booleans as C{1}/C{0}, the rest as text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return ""
    return str(value)


def parseBoolean(text: str) -> bool:
    """A UPnP boolean (UDA 1.1 §2.5: C{0/1}, C{false/true}, C{no/yes})."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ValueError(f"{text[:40]!r} is not a UPnP boolean")


def soapActionHeader(serviceType: str, action: str) -> str:
    """The SOAPACTION value: C{"<serviceType>#<action>"}, quoted."""
    _checkName(action)
    return f'"{serviceType}#{action}"'


def parseSOAPAction(value: str) -> tuple[str, str]:
    """
    C{'"urn:...:1#GetValues"'} → C{("urn:...:1", "GetValues")}; quotes optional.

    @raise SOAPError: no C{#} or nothing after it.
    """
    text = value.strip().strip('"').strip()
    serviceType, sep, action = text.rpartition("#")
    if not sep or not serviceType or not action:
        raise SOAPError(f"SOAPACTION {value[:80]!r} is not \"<serviceType>#<action>\"")
    return serviceType, action


def _checkName(name: str) -> None:
    try:
        etree.QName(name)
    except ValueError:
        raise ValueError(f"{name!r} is not an XML name") from None
    if ":" in name:
        raise ValueError(f"{name!r} is not an XML name without prefix")


def _items(arguments: Arguments) -> list[tuple[str, str]]:
    pairs = arguments.items() if isinstance(arguments, Mapping) else arguments
    return [(str(k), formatValue(v)) for k, v in pairs]


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{ENVELOPE_NS}}}Envelope", nsmap={"s": ENVELOPE_NS})
    envelope.set(f"{{{ENVELOPE_NS}}}encodingStyle", ENCODING_STYLE)
    body = etree.SubElement(envelope, f"{{{ENVELOPE_NS}}}Body")
    return envelope, body


def _actionElement(body: etree._Element, serviceType: str, name: str, arguments: Arguments) -> None:
    _checkName(name)
    element = etree.SubElement(body, f"{{{serviceType}}}{name}", nsmap={"u": serviceType})
    for argName, value in _items(arguments):
        _checkName(argName)
        etree.SubElement(element, argName).text = value


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def encodeRequest(serviceType: str, action: str, arguments: Arguments = ()) -> bytes:
    """
    The body of an action request.

    @raise ValueError: a name that is not an XML name, or a value holding a
        character XML cannot carry.
    """
    envelope, body = _envelope()
    _actionElement(body, serviceType, action, arguments)
    return _serialize(envelope)


def encodeResponse(serviceType: str, action: str, arguments: Arguments = ()) -> bytes:
    """The body of a successful action response (C{<u:ActionResponse>})."""
    envelope, body = _envelope()
    _actionElement(body, serviceType, action + "Response", arguments)
    return _serialize(envelope)


def encodeFault(code: int, description: Optional[str] = None) -> bytes:
    """
    The body of an action error response (sent with HTTP 500).

    @param description: defaults to the UDA name of the code, if it has one.
    """
    if description is None:
        description = UDA_ERRORS.get(code, "")
    envelope, body = _envelope()
    fault = etree.SubElement(body, f"{{{ENVELOPE_NS}}}Fault")
    etree.SubElement(fault, "faultcode").text = "s:Client"
    etree.SubElement(fault, "faultstring").text = "UPnPError"
    detail = etree.SubElement(fault, "detail")
    error = etree.SubElement(detail, f"{{{CONTROL_NS}}}UPnPError", nsmap={None: CONTROL_NS})
    etree.SubElement(error, f"{{{CONTROL_NS}}}errorCode").text = str(int(code))
    etree.SubElement(error, f"{{{CONTROL_NS}}}errorDescription").text = description
    return _serialize(envelope)


def _bodyChild(data: bytes, maxBytes: int) -> etree._Element:
    """The one element inside the SOAP Body (namespaces not checked: devices get them wrong)."""
    try:
        root = parseBody(data, maxBytes)
    except xmlsafe.XMLRejected as e:
        raise SOAPError(f"not a SOAP envelope: {e}") from None
    if localName(root) != "Envelope":
        raise SOAPError(f"root element is {localName(root)!r}, not Envelope")
    body = child(root, "Body")
    if body is None:
        raise SOAPError("SOAP envelope without Body")
    inner = next(children(body), None)
    if inner is None:
        raise SOAPError("empty SOAP Body")
    return inner


def _faultFrom(element: etree._Element) -> UPnPError:
    faultString = childText(element, "faultstring")
    detail = child(element, "detail")
    error = child(detail, "UPnPError") if detail is not None else None
    if error is None:
        return UPnPError(501, faultString or "SOAP fault without UPnPError", faultString)
    codeText = childText(error, "errorCode")
    description = childText(error, "errorDescription")
    try:  # a ui2 (UDA 1.1 §3.2.2): ASCII digits, '١٢' or '1_0' are not one
        code = parseUnsigned(codeText.strip(" \t\r\n"), 65535, maxDigits=5, what="errorCode")
    except ValueError:
        return UPnPError(501, f"malformed errorCode {codeText[:20]!r}: {description}"[:256], faultString)
    return UPnPError(code, description[:1024], faultString)


def decodeFault(data: bytes, maxBytes: int = MAX_BODY_BYTES) -> Optional[UPnPError]:
    """The UPnPError a body carries, or C{None} when it is not a fault."""
    try:
        inner = _bodyChild(data, maxBytes)
    except SOAPError:
        return None
    if localName(inner) != "Fault":
        return None
    return _faultFrom(inner)


def _arguments(element: etree._Element) -> dict[str, str]:
    arguments: dict[str, str] = {}
    for node in children(element):
        arguments.setdefault(localName(node), innerValue(node))
    return arguments


def decodeResponse(
    data: bytes, action: Optional[str] = None, maxBytes: int = MAX_BODY_BYTES
) -> dict[str, str]:
    """
    The output arguments of an action response, in order.

    @param action: the action called; when given, the response element must
        be C{<action>Response} (in any namespace, any case).
    @raise UPnPError: the body is a fault — whatever the HTTP status was.
    @raise SOAPError: the body is not a usable response.
    """
    inner = _bodyChild(data, maxBytes)
    name = localName(inner)
    if name == "Fault":
        raise _faultFrom(inner)
    if action is not None and name.lower() != (action + "Response").lower():
        raise SOAPError(f"response element {name!r} does not answer {action!r}")
    if action is None and not name.endswith("Response"):
        raise SOAPError(f"{name!r} is not an action response")
    return _arguments(inner)


def decodeRequest(data: bytes, soapAction: Optional[str] = None, maxBytes: int = MAX_BODY_BYTES) -> ActionRequest:
    """
    An action request (the device side).

    @param soapAction: the SOAPACTION header; when given, it must name the
        same service type and action as the body.
    @raise SOAPError: not a request, or the header and body disagree.
    """
    inner = _bodyChild(data, maxBytes)
    serviceType, action = namespace(inner), localName(inner)
    if not serviceType:
        raise SOAPError(f"action element {action!r} has no service type namespace")
    if soapAction is not None:
        headerType, headerAction = parseSOAPAction(soapAction)
        if (headerType, headerAction) != (serviceType, action):
            raise SOAPError(f"SOAPACTION {soapAction[:120]!r} does not match the body's {serviceType}#{action}")
    return ActionRequest(serviceType, action, _arguments(inner))
