"""
Fuzz what an ACS sends back: the CWMP envelope (L{proxier.cwmp.codec.decode}
with the HTTP Content-Type and its charset) and the HTTP answer's header
fields as the session reads them (L{proxier.cwmp.transport}: Set-Cookie,
WWW-Authenticate, Location; L{proxier.cwmp.retry.parseRetryAfter};
Content-Type). An answer is used, or refused with L{codec.DecodeError} or
L{TransportError}, opening no file and no connection; a Retry-After is a
number of seconds within bounds or absent (issue 11, item 3); a URL an
ACS redirects to passes L{proxier.outbound.TargetPolicy} only when it
names no address the proxier must not reach, however spelt (item 6).
"""

from __future__ import annotations

import ipaddress
import math
import os
import socket

from urllib.parse import urlsplit

from twisted.internet import defer, task
from twisted.python.failure import Failure
from twisted.trial import unittest
from twisted.web.client import ResponseDone
from twisted.web.http_headers import Headers

from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.cwmp.retry import MAX_RETRY_AFTER, parseRetryAfter
from proxier.cwmp.transport import ACSHTTPSession, TransportError
from proxier.outbound import TargetPolicy, TargetRefused
from tests.fuzz._harness import HEADER_TOKENS, SHARED, XML_TOKENS, Target, assertFuzzClean, splitHead

_NOW = 1_780_000_000.0
_TOKENS = XML_TOKENS + HEADER_TOKENS + (
    b"<cwmp:ID", b'soap-env:mustUnderstand="1"', b"<cwmp:HoldRequests>", b"<cwmp:SessionTimeout>",
    b"<cwmp:UseCWMPVersion>", b"urn:dslforum-org:cwmp-1-", b'soap-enc:arrayType="xsd:string[', b"]",
    b'soap-enc:arrayType="cwmp:ParameterValueStruct[2]"', b"<FaultCode>", b"<FaultString>", b"<soap-env:Fault>",
    b"<faultcode>", b"<cwmp:Fault>", b"<SetParameterValuesFault>", b"<MaxEnvelopes>", b"<DelaySeconds>",
    b"<FileSize>", b"<WindowStart>", b"<StartTime>", b"<CompleteTime>", b"<ParameterKey>", b"<Notification>",
    b"<NextLevel>", b"xsi:type=\"xsd:int\"", b"xsi:type=\"xsd:base64\"", b"xsi:type=\"xsd:boolean\"",
    b"text/xml", b'text/xml; charset="iso-8859-1"', b"text/xml;charset=", b"; charset=utf-8",
    b"Digest realm=\"acs\", qop=\"auth\", nonce=\"", b"Basic realm=\"x\"", b"stale=true", b"algorithm=SHA-256",
    b"session=abc; Path=/; Max-Age=", b"; Expires=Wed, 09 Jun 99999 10:18:14 GMT", b"; Domain=", b"; Secure",
    b"; HttpOnly", b"; Max-Age=99999999999999999999", b"Location: http://127.0.0.1:1/acs", b"Location: //",
    b"Location: file:///etc/passwd", b"Location: http://[::1", b"HTTP/1.1 302 Found", b"HTTP/1.1 401 Unauthorized",
    b"HTTP/1.1 503 Service Unavailable", b"HTTP/1.1 204 No Content",
)


def decodeEnvelope(data: bytes) -> None:
    """
    L{codec.decode} with the Content-Type of the first line (C{-}: none), as
    the session decodes an ACS answer; an unreadable one goes through
    L{codec.salvageFault} as the session does.
    """
    line, _, body = data.partition(b"\n")
    contentType = None if line == b"-" else line
    try:
        envelope = codec.decode(body, contentType)
    except codec.DecodeError as e:
        str(e)
        codec.salvageFault(body)
        raise
    assert envelope.sessionTimeout is None or type(envelope.sessionTimeout) is int, envelope.sessionTimeout


class _Transport:
    def stopProducing(self) -> None:
        pass


class _Response:
    """An IResponse holding a fuzzed answer."""

    version = (b"HTTP", 1, 1)
    previousResponse = None
    request = None

    def __init__(self, code: int, phrase: bytes, headers: Headers, body: bytes) -> None:
        self.code = code
        self.phrase = phrase
        self.headers = headers
        self.length = len(body)
        self._body = body

    def deliverBody(self, protocol) -> None:  # type: ignore[no-untyped-def]
        protocol.makeConnection(_Transport())
        protocol.dataReceived(self._body)
        protocol.connectionLost(Failure(ResponseDone()))

    def setPreviousResponse(self, response) -> None:  # type: ignore[no-untyped-def]
        self.previousResponse = response


class _Agent:
    """Answers every request with the same fuzzed response (an ACS that always says the same)."""

    def __init__(self, response: _Response) -> None:
        self.response = response
        self.requests = 0

    def request(self, method, uri, headers=None, bodyProducer=None):  # type: ignore[no-untyped-def]
        self.requests += 1
        assert self.requests < 20, "the session keeps asking"
        return defer.succeed(self.response)


def _answer(data: bytes) -> _Response:
    start, fields, body = splitHead(data)
    words = start.split(b" ", 2)
    try:
        code = int(words[1]) if len(words) > 1 and words[1].isdigit() and len(words[1]) == 3 else 200
    except ValueError:
        code = 200
    headers = Headers()
    for name, value in fields:
        try:
            headers.addRawHeader(name, value)
        except Exception:  # a field Twisted's HTTP client would not have handed over
            continue
    return _Response(code, words[2] if len(words) > 2 else b"", headers, body)


def answerACS(data: bytes) -> None:
    """
    One POST answered with the fuzzed HTTP response, through the session's
    own transport (cookies, challenges, redirects), then the Retry-After
    and the body read as the endpoint reads them.
    """
    clock = task.Clock()
    clock.advance(_NOW)
    session = ACSHTTPSession(_Agent(_answer(data)), "http://127.0.0.1:7547/acs", "cpe", "secret", clock=clock)
    out: list = []
    session.post(b"<x/>").addBoth(out.append)
    assert out, "the POST did not finish"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    result = out[0]
    retryAfter = parseRetryAfter(result.header("Retry-After"), clock.seconds())
    assert retryAfter is None or (isinstance(retryAfter, float) and not math.isnan(retryAfter)
                                  and 0 <= retryAfter <= MAX_RETRY_AFTER), f"Retry-After read as {retryAfter!r}"
    if result.status == 200 and result.body:
        codec.decode(result.body, result.header("Content-Type"))
    session.post(b"")  # the cookies the answer set are sent back


_GATEWAY = ("192.168.1.1", "fe80::1", "2001:db8::1")


def _resolve(host: str) -> defer.Deferred:
    """
    What a resolver would answer, without asking one: C{inet_aton}'s reading
    of the name when it has one (C{0x7f.1} is 127.0.0.1 to getaddrinfo too),
    else a documentation address; a name with C{fail} in it does not resolve.
    """
    try:
        return defer.succeed([socket.inet_ntoa(socket.inet_aton(host))])
    except (OSError, ValueError):
        pass
    if "fail" in host:
        return defer.fail(OSError("no such name"))
    return defer.succeed(["192.0.2.7", "2001:db8:ffff::7"])


_POLICY = TargetPolicy(("lab.example",), ownAddresses=lambda: _GATEWAY, resolve=_resolve)


def _refusedAddress(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text.strip("[]").partition("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast
            or str(ip) in ("255.255.255.255",) + _GATEWAY)


def checkTarget(data: bytes) -> None:
    """
    L{TargetPolicy.check} on a URL an ACS could redirect to (name lookups
    answered by L{_resolve}): allowed, or refused with L{TargetRefused};
    never allowed when its host is a loopback, link-local, unspecified,
    multicast or broadcast address or one of the gateway's, spelt any way
    C{getaddrinfo} reads it.
    """
    url = data.decode("utf-8", "replace")
    quick = _POLICY.quickRefusal(url)
    assert quick is None or isinstance(quick, str)
    out: list = []
    _POLICY.check(url, cameFrom="http://acs.example.net:7547/acs").addBoth(out.append)
    assert out, "the check did not finish"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    host = urlsplit(url).hostname or ""
    if host.rstrip(".") in ("lab.example", "acs.example.net"):
        return
    try:
        seen = socket.inet_ntoa(socket.inet_aton(host))
    except (OSError, ValueError):
        seen = host
    assert not _refusedAddress(seen), f"{url!r} allowed, its host {host!r} is {seen}"
    assert quick is None, f"{url!r} allowed by check, refused at once: {quick}"


def _urlSeeds() -> list[bytes]:
    return [
        b"http://acs2.example.net:7547/acs?x=1", b"https://[2001:db8::5]:7547/acs", b"http://127.0.0.1:7547/",
        b"http://192.168.1.1/admin", b"http://[fe80::1%25eth0]:80/", b"http://localhost./", b"http://0x7f.1/",
        b"http://[::ffff:127.0.0.1]/", b"http://lab.example:8080/up", b"http://fail.example/",
        b"http://169.254.169.254/",
        b"http://user:pw@files.example.org:21/log?a=b#c", b"http://acs.example.net:7547/other",
    ]


def _envelopeSeeds() -> list[bytes]:
    from tests.test_cwmp_codec import GENIE_ID, SAMPLES, envelopeText

    out = []
    for i, message in enumerate(SAMPLES):
        body = codec.encode(m.Envelope(message, id=f"id-{i}"))
        out.append((b'text/xml; charset="utf-8"' if i % 3 else b"-") + b"\n" + body)
    out.append(b"text/xml\n" + envelopeText(
        '<cwmp:SetParameterValues><ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[1]">'
        '<ParameterValueStruct><Name>Device.T</Name><Value xsi:type="xsd:dateTime">2025-01-01T00:00:00.000Z'
        "</Value></ParameterValueStruct></ParameterList><ParameterKey></ParameterKey></cwmp:SetParameterValues>",
        namespace=m.CWMP_1_2, header=GENIE_ID + "<cwmp:HoldRequests>0</cwmp:HoldRequests>"))
    out.append(b"text/xml; charset=iso-8859-1\n" + envelopeText(
        "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
        header=GENIE_ID).replace(b"UTF-8", b"ISO-8859-1"))
    examples = os.path.join(SHARED, "ref", "cwmp", "examples")
    for name in sorted(os.listdir(examples)):
        with open(os.path.join(examples, name), "rb") as f:
            out.append(b"-\n" + f.read())
    return out


def _answerSeeds() -> list[bytes]:
    from tests.test_cwmp_codec import GENIE_ID, envelopeText

    inform = envelopeText("<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
                          header=GENIE_ID)
    return [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nSet-Cookie: session=abc123; Path=/; "
        b"HttpOnly\r\nContent-Length: " + str(len(inform)).encode() + b"\r\n\r\n" + inform,
        b"HTTP/1.1 204 No Content\r\nSet-Cookie: a=b; Max-Age=60; Domain=127.0.0.1\r\n\r\n",
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n\r\n",
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: Sun, 06 Dec 2026 10:00:00 GMT\r\n\r\n",
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"acs\", qop=\"auth\", "
        b"nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", "
        b"algorithm=MD5\r\nWWW-Authenticate: Basic realm=\"acs\"\r\n\r\n",
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:7548/acs2\r\nSet-Cookie: s=1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=undefined\r\n\r\n" + inform,
    ]


TARGETS = [
    Target("cwmp-envelope", __name__, decodeEnvelope, (codec.DecodeError,), _envelopeSeeds, _TOKENS, xml=True),
    Target("cwmp-http", __name__, answerACS, (codec.DecodeError, TransportError), _answerSeeds, _TOKENS, xml=True),
    Target("outbound-url", __name__, checkTarget, (TargetRefused,), _urlSeeds, _TOKENS + (
        b"http://", b"https://", b"[", b"]", b"%25", b"@", b"::ffff:", b"127.", b"0x7f", b"0177.0.0.1", b"2130706433",
        b"localhost", b".localhost", b"[::]", b"0.0.0.0", b"255.255.255.255", b"fe80::", b"ff02::1", b"224.0.0.1",
        b"192.168.1.1", b"169.254.", b"\\", b"\t", b"#@", b"?@")),
]


class CWMPFuzzTests(unittest.TestCase):
    def test_seedsValid(self) -> None:
        """
        The envelopes the mutations start from that our codec wrote (every
        RPC of L{SAMPLES}) are valid CWMP, and each seed decodes.
        """
        from tests.cwmpxsd import assertValidCWMP
        from tests.test_cwmp_codec import SAMPLES

        seeds = _envelopeSeeds()
        for seed in seeds[: len(SAMPLES)]:
            assertValidCWMP(self, seed.partition(b"\n")[2])
        for seed in seeds:
            decodeEnvelope(seed)

    def test_envelope(self) -> None:
        """
        Mutated envelopes of every RPC (ours, GenieACS's, the reference
        examples) with mutated Content-Types decode or fail with
        L{codec.DecodeError}, within a second each, opening no file and no
        connection.
        """
        assertFuzzClean(self, TARGETS[0])

    def test_httpAnswer(self) -> None:
        """
        Mutated ACS answers (status, Set-Cookie, WWW-Authenticate, Location,
        Retry-After, Content-Type, body) go through the session's transport
        and decoding, or fail with L{TransportError} or
        L{codec.DecodeError}; a Retry-After reads as absent or as seconds
        within L{MAX_RETRY_AFTER}.
        """
        assertFuzzClean(self, TARGETS[1])

    def test_redirectTargets(self) -> None:
        """
        Mutated URLs an ACS could redirect the session to are allowed or
        refused with L{TargetRefused}, and never allowed when they name
        loopback, link-local, unspecified, multicast or broadcast addresses
        or the gateway's own, however spelt.
        """
        assertFuzzClean(self, TARGETS[2])
