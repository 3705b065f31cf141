# -*- test-case-name: tests.test_upnp_gena -*-
"""
GENA eventing messages (UDA 1.1 §4): the header fields of SUBSCRIBE, renewal,
UNSUBSCRIBE and event NOTIFY, and the C{<e:propertyset>} body of an event.

Sans-IO and for both sides: the control point formats subscriptions and
parses events; the simulated devices of L{proxier.sim} parse subscriptions
and format events. Parsing a request that UDA says must be refused raises
L{GENAError} carrying the HTTP status to answer with (400 or 412).

Devices disagree on details (INTEROP.md, GENA): TIMEOUT comes as
C{Second-N}, C{Second-infinite}, a bare C{N}, or not at all; a SID may lack
its C{uuid:} prefix. SEQ counts from 0 and wraps from 2**32-1 to 1
(L{nextSEQ}).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Union

from lxml import etree

from proxier import xmlsafe
from proxier.asciinum import parseUnsigned
from proxier.sharing import InternTable
from proxier.upnp._xmlutil import children, innerValue, localName, parseBody

__all__ = [
    "EVENT_NS",
    "NT_EVENT",
    "NTS_PROPCHANGE",
    "DEFAULT_TIMEOUT",
    "MAX_SEQ",
    "MAX_BODY_BYTES",
    "INFINITE",
    "Timeout",
    "GENAError",
    "parseTimeout",
    "formatTimeout",
    "parseSID",
    "parseSEQ",
    "nextSEQ",
    "parseCallback",
    "formatCallback",
    "encodePropertySet",
    "decodePropertySet",
    "Subscribe",
    "Renew",
    "Unsubscribe",
    "SubscribeResponse",
    "EventMessage",
    "parseSubscriptionRequest",
    "parseSubscribeResponse",
    "parseEventMessage",
    "normalizeHeaders",
]

EVENT_NS = "urn:schemas-upnp-org:event-1-0"
NT_EVENT = "upnp:event"
NTS_PROPCHANGE = "upnp:propchange"
#: UDA 1.1 §4.1.1 recommends at least 1800 s.
DEFAULT_TIMEOUT = 1800
#: UDA 1.1 §4.3.2: SEQ is a 32-bit unsigned counter that wraps to 1.
MAX_SEQ = 2**32 - 1
#: The largest event body accepted.
MAX_BODY_BYTES = 256 * 1024
_MAX_SID = 256
_MAX_CALLBACKS = 8
_MAX_URL = 1024


class _Infinite:
    """The C{Second-infinite} subscription duration."""

    _instance: Optional["_Infinite"] = None

    def __new__(cls) -> "_Infinite":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "INFINITE"


INFINITE = _Infinite()
Timeout = Union[int, _Infinite]


class GENAError(ValueError):
    """
    A GENA message to refuse.

    @ivar status: the HTTP status to answer with (400 Bad Request or 412
        Precondition Failed, as UDA 1.1 §4 prescribes).
    """

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status}: {reason}")


#: The durations granted, one int each (past 256 an int is an object; every subscription keeps its grant, and
#: a model's devices grant the same: issue 19).
_durations: InternTable[int] = InternTable(limit=256)

_TIMEOUT = re.compile(r"^(?:second-?)?[ \t]*([0-9]{1,10}|infinite)$", re.IGNORECASE | re.ASCII)  # ASCII digits only


def parseTimeout(value: Optional[str], default: Optional[Timeout] = None) -> Optional[Timeout]:
    """
    A TIMEOUT value: C{Second-1800}, C{second-1800}, C{1800} → 1800;
    C{Second-infinite} → L{INFINITE}; absent or empty → C{default}.

    @raise GENAError: (400) anything else.
    """
    if value is None or not value.strip():
        return default
    match = _TIMEOUT.match(value.strip())
    if not match:
        raise GENAError(400, f"TIMEOUT {value[:40]!r} is not Second-N or Second-infinite")
    if match.group(1).lower() == "infinite":
        return INFINITE
    return _durations(int(match.group(1)))


def formatTimeout(timeout: Timeout) -> str:
    """L{INFINITE} → C{Second-infinite}; N → C{Second-N}."""
    if timeout is INFINITE:
        return "Second-infinite"
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0:
        raise ValueError(f"not a subscription duration: {timeout!r}")
    return f"Second-{timeout}"


def parseSID(value: Optional[str]) -> str:
    """
    A SID, as given (C{uuid:} prefix or not).

    @raise GENAError: (412) missing, empty, too long or holding white space
        or control characters.
    """
    sid = (value or "").strip()
    if not sid:
        raise GENAError(412, "missing SID")
    if len(sid) > _MAX_SID or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in sid):
        raise GENAError(412, "malformed SID")
    return sid


def parseSEQ(value: Optional[str]) -> int:
    """
    A SEQ value.

    @raise GENAError: (400) missing, not a number, or beyond 32 bits.
    """
    text = (value or "").strip()
    if not text:
        raise GENAError(400, "missing SEQ")
    try:
        return parseUnsigned(text, MAX_SEQ, maxDigits=10, what="SEQ")
    except ValueError:  # '²' passed isdigit() and failed int(): an HTTP 500 before
        raise GENAError(400, f"SEQ {text[:20]!r} is not a 32-bit counter") from None


def nextSEQ(seq: int) -> int:
    """The SEQ after C{seq}: +1, and from 2**32-1 to 1 (0 is only the initial event)."""
    return 1 if seq >= MAX_SEQ else seq + 1


def parseCallback(value: Optional[str]) -> tuple[str, ...]:
    """
    The URLs of a CALLBACK value (C{<http://a/b><http://c/d>}); only HTTP
    URLs are kept.

    @raise GENAError: (412) none usable.
    """
    urls = []
    for candidate in re.findall(r"<([^<>]*)>", value or "")[:_MAX_CALLBACKS]:
        candidate = candidate.strip()
        if candidate.lower().startswith("http://") and len(candidate) <= _MAX_URL and not any(
            c.isspace() for c in candidate
        ):
            urls.append(candidate)
    if not urls:
        raise GENAError(412, "CALLBACK holds no http:// URL")
    return tuple(urls)


def formatCallback(urls: Iterable[str]) -> str:
    urls = list(urls)
    if not urls:
        raise ValueError("a subscription needs a callback URL")
    for url in urls:
        if any(c in url for c in "<>\r\n ") or not url.lower().startswith("http://"):
            raise ValueError(f"not a callback URL: {url!r}")
    return "".join(f"<{url}>" for url in urls)


def normalizeHeaders(headers: Any) -> dict[str, str]:
    """
    Header fields with lower-case names, first value of each: from a
    mapping, pairs, or anything with C{getAllRawHeaders()} (a Twisted
    C{Headers}); names and values may be bytes.
    """
    if hasattr(headers, "getAllRawHeaders"):
        pairs: Iterable[tuple[Any, Any]] = ((k, v[0]) for k, v in headers.getAllRawHeaders() if v)
    elif isinstance(headers, Mapping):
        pairs = headers.items()
    else:
        pairs = headers
    out: dict[str, str] = {}
    for name, value in pairs:
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        out.setdefault(str(name).lower(), str(value))
    return out


# Bodies


def encodePropertySet(variables: Union[Mapping[str, object], Iterable[tuple[str, object]]]) -> bytes:
    """An event body: one C{<e:property>} per variable, in order."""
    from proxier.upnp.soap import formatValue

    pairs = variables.items() if isinstance(variables, Mapping) else variables
    root = etree.Element(f"{{{EVENT_NS}}}propertyset", nsmap={"e": EVENT_NS})
    for name, value in pairs:
        prop = etree.SubElement(root, f"{{{EVENT_NS}}}property")
        if ":" in name:
            raise ValueError(f"{name!r} is not a state variable name")
        etree.SubElement(prop, name).text = formatValue(value)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def decodePropertySet(data: bytes, maxBytes: int = MAX_BODY_BYTES) -> list[tuple[str, str]]:
    """
    The C{(variable, value)} pairs of an event body, in order (a value
    holding inline XML comes back serialized). An empty propertyset (GUPnP's
    first event) is an empty list.

    @raise GENAError: (400) not a propertyset, malformed, too big or hostile.
    """
    try:
        root = parseBody(data, maxBytes)
    except xmlsafe.XMLRejected as e:
        raise GENAError(400, f"event body: {e}") from None
    if localName(root) != "propertyset":
        raise GENAError(400, f"event body is {localName(root)!r}, not propertyset")
    out = []
    for prop in children(root, "property"):
        for variable in children(prop):
            out.append((localName(variable), innerValue(variable)))
    return out


# Requests and responses


@dataclass(frozen=True)
class Subscribe:
    """
    A first SUBSCRIBE.

    @ivar timeout: the duration asked for; C{None} sends no TIMEOUT.
    @ivar stateVariables: UDA 1.1 STATEVAR (empty: every evented variable).
    """

    callbacks: tuple[str, ...]
    timeout: Optional[Timeout] = DEFAULT_TIMEOUT
    stateVariables: tuple[str, ...] = ()

    def headers(self) -> list[tuple[str, str]]:
        out = [("CALLBACK", formatCallback(self.callbacks)), ("NT", NT_EVENT)]
        if self.timeout is not None:
            out.append(("TIMEOUT", formatTimeout(self.timeout)))
        if self.stateVariables:
            out.append(("STATEVAR", ",".join(self.stateVariables)))
        return out


@dataclass(frozen=True)
class Renew:
    """A renewal SUBSCRIBE (SID, no NT or CALLBACK)."""

    sid: str
    timeout: Optional[Timeout] = DEFAULT_TIMEOUT

    def headers(self) -> list[tuple[str, str]]:
        out = [("SID", self.sid)]
        if self.timeout is not None:
            out.append(("TIMEOUT", formatTimeout(self.timeout)))
        return out


@dataclass(frozen=True)
class Unsubscribe:
    sid: str

    def headers(self) -> list[tuple[str, str]]:
        return [("SID", self.sid)]


@dataclass(frozen=True)
class SubscribeResponse:
    """
    A publisher's 200 answer to SUBSCRIBE or renewal.

    @ivar timeout: the duration granted; C{None} when the device sent none.
    @ivar acceptedStateVariables: UDA 1.1 ACCEPTED-STATEVAR, if sent.
    """

    sid: str
    timeout: Optional[Timeout]
    acceptedStateVariables: tuple[str, ...] = ()
    server: str = ""

    def headers(self) -> list[tuple[str, str]]:
        out = [("SID", self.sid)]
        if self.timeout is not None:
            out.append(("TIMEOUT", formatTimeout(self.timeout)))
        if self.acceptedStateVariables:
            out.append(("ACCEPTED-STATEVAR", ",".join(self.acceptedStateVariables)))
        if self.server:
            out.append(("SERVER", self.server))
        return out


@dataclass(frozen=True)
class EventMessage:
    """An event NOTIFY: its SID, SEQ and variables."""

    sid: str
    seq: int
    variables: tuple[tuple[str, str], ...]

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("CONTENT-TYPE", 'text/xml; charset="utf-8"'),
            ("NT", NT_EVENT),
            ("NTS", NTS_PROPCHANGE),
            ("SID", self.sid),
            ("SEQ", str(self.seq)),
        ]

    def body(self) -> bytes:
        return encodePropertySet(self.variables)


def _stateVariables(value: Optional[str]) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())[:256]


def parseSubscriptionRequest(method: str, headers: Any) -> Union[Subscribe, Renew, Unsubscribe]:
    """
    What a SUBSCRIBE or UNSUBSCRIBE asks for (the publisher side). A TIMEOUT
    that is absent reads as C{None} (the publisher picks).

    @raise GENAError: with the status UDA 1.1 §4.1 prescribes.
    """
    h = normalizeHeaders(headers)
    method = method.upper()
    hasSID = "sid" in h
    if method == "UNSUBSCRIBE":
        if hasSID and ("nt" in h or "callback" in h):
            raise GENAError(400, "UNSUBSCRIBE with SID and NT or CALLBACK")
        return Unsubscribe(parseSID(h.get("sid")))
    if method != "SUBSCRIBE":
        raise GENAError(400, f"{method[:20]} is not a subscription method")
    timeout = parseTimeout(h.get("timeout"))
    if hasSID:
        if "nt" in h or "callback" in h:
            raise GENAError(400, "SUBSCRIBE with SID and NT or CALLBACK")
        return Renew(parseSID(h["sid"]), timeout)
    if h.get("nt", "").strip() != NT_EVENT:
        raise GENAError(412, "SUBSCRIBE without NT: upnp:event")
    return Subscribe(parseCallback(h.get("callback")), timeout, _stateVariables(h.get("statevar")))


def parseSubscribeResponse(headers: Any) -> SubscribeResponse:
    """
    The publisher's answer (the subscriber side): SID and granted TIMEOUT,
    each in any of the forms devices send.

    @raise GENAError: no usable SID, or a TIMEOUT that is not one.
    """
    h = normalizeHeaders(headers)
    return SubscribeResponse(
        sid=parseSID(h.get("sid")),
        timeout=parseTimeout(h.get("timeout")),
        acceptedStateVariables=_stateVariables(h.get("accepted-statevar")),
        server=h.get("server", ""),
    )


def parseEventMessage(headers: Any, body: bytes, maxBytes: int = MAX_BODY_BYTES) -> EventMessage:
    """
    An event NOTIFY (the subscriber side), checked in the order of UDA 1.1
    §4.3.1: NT and NTS present (else 400) and right (else 412), SID present
    (else 412), SEQ a number (else 400), a propertyset body (else 400).
    Whether the SID is one we hold is the caller's check (412).
    """
    h = normalizeHeaders(headers)
    if "nt" not in h or "nts" not in h:
        raise GENAError(400, "NOTIFY without NT or NTS")
    if h["nt"].strip() != NT_EVENT or h["nts"].strip() != NTS_PROPCHANGE:
        raise GENAError(412, "NOTIFY with NT/NTS other than upnp:event/upnp:propchange")
    sid = parseSID(h.get("sid"))
    seq = parseSEQ(h.get("seq"))
    return EventMessage(sid, seq, tuple(decodePropertySet(body, maxBytes)))
