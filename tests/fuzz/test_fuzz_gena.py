"""
Fuzz GENA (L{proxier.upnp.gena}): an event NOTIFY (headers and
propertyset), a SUBSCRIBE/UNSUBSCRIBE and a publisher's answer are read, or
refused with L{GENAError} (its 400 or 412), opening no file and no
connection; SEQ and TIMEOUT numbers are read from ASCII digits only
(issue 11, item 4).
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.upnp import gena
from tests.fuzz._harness import HEADER_TOKENS, XML_TOKENS, Target, assertFuzzClean, splitHead

SID = "uuid:6f2a1c7e-0000-4000-8000-000000000001"
_TOKENS = XML_TOKENS + HEADER_TOKENS + (
    b"<e:propertyset", b"<e:property>", b"</e:property>", b'xmlns:e="urn:schemas-upnp-org:event-1-0"',
    b"SEQ: 4294967295", b"SEQ: 4294967296", b"NT: upnp:event", b"NTS: upnp:propchange", b"STATEVAR: ",
    b"ACCEPTED-STATEVAR: ", b"SUBSCRIBE", b"UNSUBSCRIBE", b"Second-4294967296",
)


def _foreignDigits(text: str) -> bool:
    return any(c.isdigit() and not "0" <= c <= "9" for c in text)


def _headers(data: bytes) -> tuple[str, list[tuple[bytes, bytes]], dict[str, str], bytes]:
    start, fields, body = splitHead(data)
    return start.decode("latin-1"), fields, gena.normalizeHeaders(fields), body


def _checkTimeout(timeout: object, text: str) -> None:
    assert timeout is None or timeout is gena.INFINITE or (type(timeout) is int and timeout >= 0), repr(timeout)
    assert not (type(timeout) is int and _foreignDigits(text)), f"TIMEOUT {text!r} read as {timeout}"


def parseNotify(data: bytes) -> None:
    """L{gena.parseEventMessage} on the fields and body of a NOTIFY, as the callback server hands them over."""
    _, fields, h, body = _headers(data)
    message = gena.parseEventMessage(fields, body)
    assert type(message.seq) is int and 0 <= message.seq <= gena.MAX_SEQ, repr(message.seq)
    assert not _foreignDigits(h.get("seq", "")), f"SEQ {h.get('seq')!r} read as {message.seq}"
    gena.nextSEQ(message.seq)
    for name, value in message.variables:
        assert isinstance(name, str) and isinstance(value, str)


def parseSubscription(data: bytes) -> None:
    """A SUBSCRIBE or UNSUBSCRIBE (the publisher side) or a 200 answer (the subscriber side)."""
    start, fields, h, _ = _headers(data)
    if start.startswith("HTTP/"):
        answer = gena.parseSubscribeResponse(fields)
        _checkTimeout(answer.timeout, h.get("timeout", ""))
        return
    request = gena.parseSubscriptionRequest(start.split(" ", 1)[0], fields)
    timeout = getattr(request, "timeout", None)
    _checkTimeout(timeout, h.get("timeout", ""))
    if timeout is not None:
        gena.formatTimeout(timeout)
    if isinstance(request, gena.Subscribe):
        gena.formatCallback(request.callbacks)


def _notifySeeds() -> list[bytes]:
    message = gena.EventMessage(SID, 7, (("SystemUpdateID", "12"), ("ConfigurationUpdate", "2026-12-06T09:00:00Z,3"),
                                         ("AttributeValuesUpdate", "<cms:x>&amp;</cms:x>")))
    head = "".join(f"{k}: {v}\r\n" for k, v in message.headers()).encode()
    return [
        b"NOTIFY /event/1 HTTP/1.1\r\nHOST: 127.0.0.1:4004\r\n" + head + b"\r\n" + message.body(),
        b"NOTIFY / HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nSID: " + SID.encode()
        + b"\r\nSEQ: 0\r\n\r\n" + gena.encodePropertySet({}),
        b"NOTIFY / HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nSID: " + SID.encode()
        + b"\r\nSEQ: 4294967295\r\n\r\n<?xml version=\"1.0\"?>\n"
        b"<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">"
        b"<e:property><SystemUpdateID>3</SystemUpdateID></e:property></e:propertyset>",
    ]


def _subscriptionSeeds() -> list[bytes]:
    answer = gena.SubscribeResponse(SID, 1800, ("A", "B"), "Linux/6.1 UPnP/1.1 GUPnP/1.6.3")
    return [
        b"SUBSCRIBE /event/1 HTTP/1.1\r\nHOST: 127.0.0.1:4004\r\nCALLBACK: <http://127.0.0.1:5000/cb>"
        b"<http://[::1]:5000/cb>\r\nNT: upnp:event\r\nTIMEOUT: Second-1800\r\nSTATEVAR: A,B\r\n\r\n",
        b"SUBSCRIBE /event/1 HTTP/1.1\r\nSID: " + SID.encode() + b"\r\nTIMEOUT: Second-infinite\r\n\r\n",
        b"UNSUBSCRIBE /event/1 HTTP/1.1\r\nSID: " + SID.encode() + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in answer.headers()).encode() + b"\r\n",
        b"HTTP/1.1 200 OK\r\nsid: " + SID.encode() + b"\r\ntimeout: 300\r\n\r\n",
    ]


TARGETS = [
    Target("gena-notify", __name__, parseNotify, (gena.GENAError,), _notifySeeds, _TOKENS, xml=True),
    Target("gena-subscription", __name__, parseSubscription, (gena.GENAError,), _subscriptionSeeds, _TOKENS),
]


class GENAFuzzTests(unittest.TestCase):
    def test_notify(self) -> None:
        """
        Mutated event NOTIFYs are read or refused with L{gena.GENAError},
        within a second each, opening no file and no connection, their SEQ
        a 32-bit counter written in ASCII digits.
        """
        assertFuzzClean(self, TARGETS[0])

    def test_subscription(self) -> None:
        """
        Mutated SUBSCRIBE, renewal, UNSUBSCRIBE and their answers are read
        or refused with L{gena.GENAError}, within a second each, a TIMEOUT
        read from ASCII digits only.
        """
        assertFuzzClean(self, TARGETS[1])
