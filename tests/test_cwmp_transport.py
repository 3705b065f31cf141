"""
Tests for L{proxier.cwmp.transport} and L{proxier.cwmp.tls}: cookies,
authentication, redirects, timeouts and caps against in-memory resources, and
HTTPS with certificates made in the test against real loopback servers.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Callable, Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from treq.testing import RequestTraversalAgent
from twisted.internet import defer, ssl, task
from twisted.python.failure import Failure
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from proxier.httpauth import DigestServer, parseAuthorization
from proxier.cwmp.tls import ACSTLSPolicy, loadTrustRoot, makeACSAgent
from proxier.cwmp.transport import MAX_REDIRECTS, ACSHTTPSession, TransportError
from proxier.pem import TLSConfigError, loadCertificateAndKey
from tests._helpers import fired

ACS = "http://acs.example.net:7547/acs"


@dataclass
class Seen:
    uri: bytes
    headers: dict
    body: bytes


class Scripted(Resource):
    """A resource whose every POST is recorded and answered by C{handler(request, n)}."""

    isLeaf = True

    def __init__(self, handler: Callable) -> None:
        super().__init__()
        self.handler = handler
        self.seen: list[Seen] = []

    def render_POST(self, request):  # type: ignore[no-untyped-def]
        headers = {k.decode().lower(): [v.decode() for v in vs] for k, vs in request.requestHeaders.getAllRawHeaders()}
        self.seen.append(Seen(request.uri, headers, request.content.read()))
        return self.handler(request, len(self.seen))


def ok(request, n):  # type: ignore[no-untyped-def]
    request.setHeader(b"Content-Type", b"text/xml")
    return b"<answer/>"


class HeaderAndCookieTests(unittest.TestCase):
    def session(self, resource: Resource, **kw) -> ACSHTTPSession:  # type: ignore[no-untyped-def]
        return ACSHTTPSession(RequestTraversalAgent(resource), kw.pop("url", ACS), clock=task.Clock(), **kw)

    def test_postHeaders(self) -> None:
        """A POST with a body carries the CWMP content type, its length and no Expect."""
        resource = Scripted(ok)
        answer = fired(self.session(resource).post(b"<Envelope/>"))
        self.assertEqual((answer.status, answer.body), (200, b"<answer/>"))
        seen = resource.seen[0]
        self.assertEqual(seen.body, b"<Envelope/>")
        self.assertEqual(seen.headers["content-type"], ['text/xml; charset="utf-8"'])
        self.assertEqual(seen.headers["content-length"], ["11"])
        self.assertEqual(seen.headers["soapaction"], ['""'])
        self.assertIn("proxier/", seen.headers["user-agent"][0])
        self.assertNotIn("expect", seen.headers)
        self.assertNotIn("transfer-encoding", seen.headers)
        self.assertNotIn("authorization", seen.headers)
        self.assertNotIn("accept-encoding", seen.headers)

    def test_emptyPost(self) -> None:
        """The empty POST says Content-Length: 0, with neither content type nor SOAPAction."""
        resource = Scripted(ok)
        fired(self.session(resource).post(b""))
        seen = resource.seen[0]
        self.assertEqual(seen.headers["content-length"], ["0"])
        self.assertEqual(seen.body, b"")
        self.assertNotIn("content-type", seen.headers)
        self.assertNotIn("soapaction", seen.headers)

    def test_cookiesKeptForTheSession(self) -> None:
        """
        Cookies set by the ACS are echoed on every later POST of the session
        (each on a new connection here), updated when the ACS changes them,
        and never reach another session.
        """
        def handler(request, n):  # type: ignore[no-untyped-def]
            if n == 1:
                request.addCookie(b"session", b"s1", path=b"/")
                request.addCookie(b"node", b"a", path=b"/")
            if n == 3:
                request.addCookie(b"session", b"s2", path=b"/")
            return b""

        resource = Scripted(handler)
        agent = RequestTraversalAgent(resource)
        first = ACSHTTPSession(agent, ACS, clock=task.Clock())
        for body in (b"<Inform/>", b"", b"<r/>", b""):
            fired(first.post(body))
        cookies = [sorted(s.headers.get("cookie", [""])[0].split("; ")) for s in resource.seen]
        self.assertEqual(cookies, [[""], ["node=a", "session=s1"], ["node=a", "session=s1"], ["node=a", "session=s2"]])
        fired(ACSHTTPSession(agent, ACS, clock=task.Clock()).post(b"<Inform/>"))
        self.assertNotIn("cookie", resource.seen[-1].headers)

    def test_jarAskedOnlyWhenThereIsACookie(self) -> None:
        """
        Until the ACS sets a cookie, the session's jar is neither looked up
        for a POST nor handed an answer (issue 19); the answer that sets one
        is, and so is every later POST.
        """
        def handler(request, n):  # type: ignore[no-untyped-def]
            if n == 2:
                request.addCookie(b"session", b"s1", path=b"/")
            return b""

        resource = Scripted(handler)
        session = ACSHTTPSession(RequestTraversalAgent(resource), ACS, clock=task.Clock())
        asked: list[str] = []
        for name in ("add_cookie_header", "extract_cookies"):
            original = getattr(session.cookies, name)
            setattr(session.cookies, name, lambda *a, name=name, original=original: (asked.append(name), original(*a))[1])
        fired(session.post(b"<Inform/>"))
        self.assertEqual(asked, [])
        fired(session.post(b""))
        self.assertEqual(asked, ["extract_cookies"])
        fired(session.post(b""))
        self.assertEqual(asked, ["extract_cookies", "add_cookie_header", "extract_cookies"])
        self.assertEqual(resource.seen[-1].headers.get("cookie"), ["session=s1"])


class AuthenticationTests(unittest.TestCase):
    def digestResource(self, password: str = "pw", lifetime: float = 300,
                       clock: Optional[Callable[[], float]] = None) -> tuple[Scripted, DigestServer]:
        server = DigestServer("acs", secret=b"s" * 32, nonceLifetime=lifetime, **({"clock": clock} if clock else {}))

        def handler(request, n):  # type: ignore[no-untyped-def]
            header = request.getHeader(b"authorization")
            if header:
                verdict = server.check("POST", request.uri.decode(), header.decode(), {"cpe": password}.get)
                if verdict.ok:
                    return b"<ok/>"
                request.setResponseCode(401)
                request.setHeader(b"WWW-Authenticate", server.challenge(stale=verdict.stale).encode())
                return b""
            request.setResponseCode(401)
            request.setHeader(b"WWW-Authenticate", b'Basic realm="old", ' + server.challenge().encode())
            return b""

        return Scripted(handler), server

    def test_digest(self) -> None:
        """
        A Digest challenge is answered (preferred over Basic), and later POSTs
        of the session answer it ahead of time with the next nonce count.
        """
        resource, _ = self.digestResource()
        session = ACSHTTPSession(RequestTraversalAgent(resource), ACS + "?x=1", "cpe", "pw", clock=task.Clock())
        self.assertEqual(fired(session.post(b"<Inform/>")).status, 200)
        self.assertEqual(fired(session.post(b"")).status, 200)
        self.assertEqual(len(resource.seen), 3)
        self.assertNotIn("authorization", resource.seen[0].headers)
        params = [parseAuthorization(s.headers["authorization"][0]).params for s in resource.seen[1:]]
        self.assertEqual([p["nc"] for p in params], ["00000001", "00000002"])
        self.assertEqual(params[0]["uri"], "/acs?x=1")

    def test_digestWrongPassword(self) -> None:
        """Refused credentials end in the 401 after one retry, never a loop."""
        resource, _ = self.digestResource(password="other")
        answer = fired(ACSHTTPSession(RequestTraversalAgent(resource), ACS, "cpe", "pw", clock=task.Clock())
                        .post(b"<Inform/>"))
        self.assertEqual(answer.status, 401)
        self.assertEqual(len(resource.seen), 2)

    def test_staleNonce(self) -> None:
        """An expired nonce (stale=true) is answered again with the new nonce, transparently."""
        now = [1000.0]
        resource, _ = self.digestResource(lifetime=10, clock=lambda: now[0])
        session = ACSHTTPSession(RequestTraversalAgent(resource), ACS, "cpe", "pw", clock=task.Clock())
        self.assertEqual(fired(session.post(b"<Inform/>")).status, 200)
        now[0] += 60
        self.assertEqual(fired(session.post(b"")).status, 200)
        self.assertEqual(len(resource.seen), 4)  # challenge, answer, stale, answer

    def test_basic(self) -> None:
        """A Basic-only ACS gets Basic credentials after its challenge, then on every POST."""
        def handler(request, n):  # type: ignore[no-untyped-def]
            if request.getHeader(b"authorization") != b"Basic Y3BlOnB3":
                request.setResponseCode(401)
                request.setHeader(b"WWW-Authenticate", b'Basic realm="acs"')
            return b""

        resource = Scripted(handler)
        session = ACSHTTPSession(RequestTraversalAgent(resource), ACS, "cpe", "pw", clock=task.Clock())
        self.assertEqual(fired(session.post(b"<Inform/>")).status, 200)
        self.assertEqual(fired(session.post(b"")).status, 200)
        self.assertEqual([("authorization" in s.headers) for s in resource.seen], [False, True, True])

    def test_withoutCredentials(self) -> None:
        """Without credentials a 401 is simply the answer."""
        resource, _ = self.digestResource()
        answer = fired(ACSHTTPSession(RequestTraversalAgent(resource), ACS, clock=task.Clock()).post(b"<x/>"))
        self.assertEqual(answer.status, 401)
        self.assertEqual(len(resource.seen), 1)

    def test_unanswerableChallenge(self) -> None:
        """A challenge in a scheme the client does not speak ends in the 401."""
        def handler(request, n):  # type: ignore[no-untyped-def]
            request.setResponseCode(401)
            request.setHeader(b"WWW-Authenticate", b"Negotiate")
            return b""

        resource = Scripted(handler)
        answer = fired(ACSHTTPSession(RequestTraversalAgent(resource), ACS, "u", "p", clock=task.Clock()).post(b"x"))
        self.assertEqual(answer.status, 401)
        self.assertEqual(len(resource.seen), 1)


class RedirectTests(unittest.TestCase):
    def test_redirectKeptForTheSession(self) -> None:
        """A 302, then a relative 307, are followed with the same body; later POSTs go to the last URL."""
        def handler(request, n):  # type: ignore[no-untyped-def]
            if request.uri == b"/acs":
                request.setResponseCode(302)
                request.setHeader(b"Location", b"http://acs2.example.net/cwmp/a")
            elif request.uri == b"/cwmp/a":
                request.setResponseCode(307)
                request.setHeader(b"Location", b"b?node=2")
            return b"<ok/>"

        resource = Scripted(handler)
        session = ACSHTTPSession(RequestTraversalAgent(resource), ACS, clock=task.Clock())
        answer = fired(session.post(b"<Inform/>"))
        self.assertEqual(answer.status, 200)
        self.assertEqual(session.url, "http://acs2.example.net/cwmp/b?node=2")
        self.assertEqual(answer.url, session.url)
        fired(session.post(b""))
        self.assertEqual([s.uri for s in resource.seen], [b"/acs", b"/cwmp/a", b"/cwmp/b?node=2", b"/cwmp/b?node=2"])
        self.assertEqual([s.body for s in resource.seen[:3]], [b"<Inform/>"] * 3)

    def test_redirectToOtherSchemesRefused(self) -> None:
        """A redirect to anything but http(s) fails the POST."""
        for location in (b"ftp://acs.example.net/", b"file:///etc/passwd", b"javascript:alert(1)", b"gopher:x"):
            def handler(request, n, location=location):  # type: ignore[no-untyped-def]
                request.setResponseCode(301)
                request.setHeader(b"Location", location)
                return b""

            session = ACSHTTPSession(RequestTraversalAgent(Scripted(handler)), ACS, clock=task.Clock())
            with self.assertRaises(TransportError, msg=location) as caught:
                fired(session.post(b"x"))
            self.assertIn("refused redirect", str(caught.exception))
            self.assertEqual(session.url, ACS)

    def test_noDowngradeToPlainHTTP(self) -> None:
        """A redirect from HTTPS to plain HTTP is refused (the session would travel in clear)."""
        def handler(request, n):  # type: ignore[no-untyped-def]
            request.setResponseCode(302)
            request.setHeader(b"Location", b"http://acs.example.net/acs")
            return b""

        session = ACSHTTPSession(RequestTraversalAgent(Scripted(handler)), "https://acs.example.net/acs",
                                 clock=task.Clock())
        with self.assertRaises(TransportError) as caught:
            fired(session.post(b"x"))
        self.assertIn("plain HTTP", str(caught.exception))

    def test_redirectLoop(self) -> None:
        """A redirect loop stops after a bounded number of hops."""
        def handler(request, n):  # type: ignore[no-untyped-def]
            request.setResponseCode(302)
            request.setHeader(b"Location", b"/acs")
            return b""

        resource = Scripted(handler)
        with self.assertRaises(TransportError):
            fired(ACSHTTPSession(RequestTraversalAgent(resource), ACS, clock=task.Clock()).post(b"x"))
        self.assertEqual(len(resource.seen), MAX_REDIRECTS + 1)

    def test_basicCredentialsStayWithTheirHost(self) -> None:
        """Basic credentials given to one host are not sent to the host a redirect names."""
        def handler(request, n):  # type: ignore[no-untyped-def]
            host = request.getHeader(b"host")
            if host == b"acs.example.net:7547" and not request.getHeader(b"authorization"):
                request.setResponseCode(401)
                request.setHeader(b"WWW-Authenticate", b'Basic realm="a"')
            elif host == b"acs.example.net:7547":
                request.setResponseCode(302)
                request.setHeader(b"Location", b"http://elsewhere.example.net/")
            return b""

        resource = Scripted(handler)
        fired(ACSHTTPSession(RequestTraversalAgent(resource), ACS, "u", "p", clock=task.Clock()).post(b"x"))
        self.assertEqual([("authorization" in s.headers) for s in resource.seen], [False, True, False])


class LimitTests(unittest.TestCase):
    def test_noAnswerTimesOut(self) -> None:
        """An ACS that never answers fails the POST after the request timeout, not before."""
        clock = task.Clock()
        resource = Scripted(lambda request, n: NOT_DONE_YET)
        d = ACSHTTPSession(RequestTraversalAgent(resource), ACS, clock=clock, requestTimeout=30).post(b"x")
        clock.advance(29)
        self.assertNoResult(d)
        clock.advance(1)
        failure = self.failureResultOf(d, TransportError)
        self.assertIn("30 s", str(failure.value))

    def test_bodyThatNeverEndsTimesOut(self) -> None:
        """Headers without the end of the body also end in the timeout."""
        clock = task.Clock()

        def handler(request, n):  # type: ignore[no-untyped-def]
            request.write(b"<partial")
            return NOT_DONE_YET

        agent = RequestTraversalAgent(Scripted(handler))
        d = ACSHTTPSession(agent, ACS, clock=clock, requestTimeout=5).post(b"x")
        agent.flush()
        self.assertNoResult(d)
        clock.advance(5)
        self.failureResultOf(d, TransportError)

    def test_bodyCap(self) -> None:
        """A body over the cap fails the POST, declared or not."""
        for declared in (True, False):
            def handler(request, n, declared=declared):  # type: ignore[no-untyped-def]
                if declared:
                    request.setHeader(b"Content-Length", b"5000")
                    return b"x" * 5000
                for _ in range(5):
                    request.write(b"x" * 1000)
                request.finish()
                return NOT_DONE_YET

            agent = RequestTraversalAgent(Scripted(handler))
            d = ACSHTTPSession(agent, ACS, clock=task.Clock(), maxBody=4096).post(b"x")
            agent.flush()
            failure = self.failureResultOf(d, TransportError)
            self.assertIn("4096", str(failure.value))

    def test_unusableURL(self) -> None:
        """A URL the agent cannot use fails the POST with a TransportError, not an exception."""
        for url in ("http://[::1", "ftp://acs.example.net/", "acs.example.net"):
            session = ACSHTTPSession(RequestTraversalAgent(Scripted(ok)), url, clock=task.Clock())
            with self.assertRaises(TransportError, msg=url):
                fired(session.post(b"x"))

    def test_internationalURL(self) -> None:
        """A URL with non-ASCII characters is sent encoded, and its digest uri is the encoded target."""
        resource = Scripted(ok)
        fired(ACSHTTPSession(RequestTraversalAgent(resource), "http://acs.example.net/été?x=ü",
                              clock=task.Clock()).post(b"x"))
        self.assertEqual(resource.seen[0].uri, b"/%C3%A9t%C3%A9?x=%C3%BC")

    def test_urlWorkedOutOnce(self) -> None:
        """
        Sessions POSTing to the same URL (every endpoint's) have it worked out
        once, and sent the same; an unusable URL fails each time.
        """
        from proxier.cwmp.transport import _toURI

        _toURI.cache_clear()
        for _ in range(3):
            resource = Scripted(ok)
            fired(ACSHTTPSession(RequestTraversalAgent(resource), "http://acs.example.net/été?x=ü",
                                  clock=task.Clock()).post(b"x"))
            self.assertEqual(resource.seen[0].uri, b"/%C3%A9t%C3%A9?x=%C3%BC")
        self.assertEqual((_toURI.cache_info().misses, _toURI.cache_info().hits), (1, 2))
        for _ in range(2):
            with self.assertRaises(TransportError):
                fired(ACSHTTPSession(RequestTraversalAgent(Scripted(ok)), "http://[::1", clock=task.Clock()).post(b"x"))

    def test_cancel(self) -> None:
        """Cancelling a POST in flight stops it."""
        agent = RequestTraversalAgent(Scripted(lambda request, n: NOT_DONE_YET))
        d = ACSHTTPSession(agent, ACS, clock=task.Clock()).post(b"x")
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)

    def test_connectionRefused(self) -> None:
        """No listener: the POST fails with a TransportError naming the URL."""
        from twisted.internet import reactor

        port = reactor.listenTCP(0, Site(Resource()), interface="127.0.0.1")
        number = port.getHost().port
        d = defer.maybeDeferred(port.stopListening)

        def post(_):  # type: ignore[no-untyped-def]
            agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False), connectTimeout=5)
            return ACSHTTPSession(agent, f"http://127.0.0.1:{number}/acs", requestTimeout=5).post(b"x")

        d.addCallback(post)
        return self.assertFailure(d, TransportError)


# --- TLS with certificates made here -----------------------------------------


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def makeCertificate(common: str, issuer: Optional[tuple] = None, names: tuple = (), ca: bool = False) -> tuple:
    """A (certificate, key) pair, self-signed or signed by C{issuer} = (certificate, key)."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.utcnow()
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common))
               .issuer_name(issuer[0].subject if issuer else _name(common))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        alt = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    certificate = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    return certificate, key


def pem(certificate, key=None) -> bytes:  # type: ignore[no-untyped-def]
    data = certificate.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    return data


class TLSTests(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = self.mktemp()
        os.makedirs(self.dir)
        self.ca = makeCertificate("Test ACS CA", ca=True)
        self.caFile = self.write("ca.pem", pem(self.ca[0]))

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def serve(self, certificate: tuple, clientCA: Optional[tuple] = None) -> int:
        from twisted.internet import reactor

        server = ssl.PrivateCertificate.loadPEM(pem(*certificate))
        if clientCA is None:
            options = server.options()
        else:
            options = server.options(ssl.Certificate.loadPEM(pem(clientCA[0])))
        resource = Scripted(ok)
        self.resource = resource
        port = reactor.listenSSL(0, Site(resource), options, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port.getHost().port

    def post(self, port: int, host: str = "localhost", **acs) -> defer.Deferred:  # type: ignore[no-untyped-def]
        from twisted.internet import reactor

        pool = HTTPConnectionPool(reactor, persistent=False)
        agent = makeACSAgent(reactor, dict({"ca_file": self.caFile, "request_timeout": 10}, **acs), pool=pool)
        return ACSHTTPSession(agent, f"https://{host}:{port}/acs", requestTimeout=10).post(b"<Inform/>")

    @defer.inlineCallbacks
    def test_verifiedServer(self) -> None:
        """An ACS certificate signed by the configured CA, for the URL's host, is accepted."""
        port = self.serve(makeCertificate("localhost", self.ca, ("localhost",)))
        answer = yield self.post(port)
        self.assertEqual(answer.status, 200)
        self.assertEqual(self.resource.seen[0].body, b"<Inform/>")

    @defer.inlineCallbacks
    def test_wrongNameRefused(self) -> None:
        """A certificate of the right CA but for another name is refused."""
        port = self.serve(makeCertificate("acs.example.net", self.ca, ("acs.example.net",)))
        yield self.assertFailure(self.post(port), TransportError)
        self.assertEqual(getattr(self, "resource").seen, [])

    @defer.inlineCallbacks
    def test_untrustedRefused(self) -> None:
        """A self-signed certificate (not from the configured CA) is refused."""
        port = self.serve(makeCertificate("localhost", None, ("localhost",)))
        yield self.assertFailure(self.post(port), TransportError)

    @defer.inlineCallbacks
    def test_clientCertificate(self) -> None:
        """An ACS that demands a client certificate gets the configured one; without it, no session."""
        clientCA = makeCertificate("Test CPE CA", ca=True)
        port = self.serve(makeCertificate("localhost", self.ca, ("localhost",)), clientCA=clientCA)
        yield self.assertFailure(self.post(port), TransportError)
        certificate, key = makeCertificate("CPE 00D09E-GW-1", clientCA)
        certFile = self.write("cpe.pem", pem(certificate))
        keyFile = self.write("cpe.key", pem(certificate, key)[len(pem(certificate)):])
        answer = yield self.post(port, client_certificate=certFile, client_key=keyFile)
        self.assertEqual(answer.status, 200)

    def test_configErrors(self) -> None:
        """Missing or unusable files raise a TLSConfigError naming the file."""
        with self.assertRaises(TLSConfigError) as caught:
            loadTrustRoot(os.path.join(self.dir, "missing.pem"))
        self.assertIn("missing.pem", str(caught.exception))
        self.assertRaises(TLSConfigError, loadTrustRoot, self.write("empty.pem", b"nothing here"))
        self.assertRaises(TLSConfigError, loadCertificateAndKey, self.caFile, self.write("bad.key", b"garbage"))
        self.assertIsNone(loadCertificateAndKey("", ""))
        self.assertIsNotNone(loadTrustRoot(""))  # the platform store

    def test_policyStripsIPv6Brackets(self) -> None:
        """The policy makes a connection creator for IPv6 literal hosts too."""
        policy = ACSTLSPolicy(loadTrustRoot(self.caFile))
        self.assertIsNotNone(policy.creatorForNetloc(b"[::1]", 443))
        self.assertIsNotNone(policy.creatorForNetloc(b"acs.example.net", 443))


class HostileAnswerTests(unittest.TestCase):
    """
    Headers of a broken or hostile ACS end the POST cleanly: a TransportError
    that says what, or the answer as it is — never another exception, which
    would crash the session.
    """

    def post(self, handler: Callable, username: str = "", password: str = "") -> tuple[Scripted, object]:
        resource = Scripted(handler)
        session = ACSHTTPSession(RequestTraversalAgent(resource), ACS, username, password, clock=task.Clock())
        d = session.post(b"<Inform/>")
        results: list = []
        d.addBoth(results.append)
        self.assertEqual(len(results), 1, "the POST ended")
        return resource, results[0]

    def test_unreadableLocation(self) -> None:
        """
        A Location that is no URL (an unclosed IPv6 bracket raised ValueError
        from urljoin before), holds a bad port, or controls and spaces, or is
        empty (a redirect to itself), is a refused redirect.
        """
        for location in (b"http://[::1", b"http://[fe80::1%zz/acs", b"http://acs.example.net:99999/acs",
                         b"http://acs.example.net:\xc2\xb2/acs", b"http://acs.example.net:\xd9\xa1/acs",
                         b"http://acs.example.net/a\x00b", b"http://acs.example.net/a b", b"http://acs.example.net/\x7f",
                         b"\x00", b"//[::1", b" "):
            def handler(request, n, location=location):  # type: ignore[no-untyped-def]
                request.setResponseCode(302)
                request.setHeader(b"Location", location)
                return b""

            resource, result = self.post(handler)
            self.assertIsInstance(result, Failure, location)
            self.assertTrue(result.check(TransportError), (location, result))
            self.assertIn("refused redirect", str(result.value))
            self.assertEqual(len(resource.seen), 1)

    def test_hostileChallenges(self) -> None:
        """WWW-Authenticate values that cannot be answered end in the 401, never in an exception."""
        for challenge in (b"Digest", b'Digest nonce="', b"Digest nonce=\xff\xfe, algorithm=\xc3\xbc",
                          b'Digest realm="\x00", nonce="n\x00", qop="auth"', b"Digest " + b"a=b, " * 2000,
                          b'Digest nonce="n", algorithm="SHA-512"', b'Digest nonce="n", qop="x"', b",,,", b"=",
                          b'Basic realm="\xff"'):
            def handler(request, n, challenge=challenge):  # type: ignore[no-untyped-def]
                request.setResponseCode(401)
                request.setHeader(b"WWW-Authenticate", challenge)
                return b""

            resource, result = self.post(handler, "cpe", "pw")
            if isinstance(result, Failure):
                self.assertTrue(result.check(TransportError), (challenge, result))
            else:
                self.assertEqual(result.status, 401, challenge)  # type: ignore[attr-defined]
            self.assertLessEqual(len(resource.seen), 3)

    def test_hostileCookies(self) -> None:
        """Set-Cookie values no cookie jar expects are ignored or kept; the answer still arrives."""
        for cookie in (b"a=b; Max-Age=" + b"9" * 300, b"a=b; Max-Age=\xc2\xb2", b"a=b; Expires=Mon, 01 Jan 99999 00:00:00",
                       b"a=b; Expires=\xff", b"\xff=\xfe", b"=; ;=", b"a=b; Domain=..", b"a=b; Path=\x00",
                       b"a=" + b"x" * 5000, b"a=b; Version=\xd9\xa1"):
            def handler(request, n, cookie=cookie):  # type: ignore[no-untyped-def]
                request.setHeader(b"Set-Cookie", cookie)
                return b"<ok/>"

            _, result = self.post(handler)
            self.assertFalse(isinstance(result, Failure), (cookie, result))
            self.assertEqual(result.status, 200)  # type: ignore[attr-defined]


class RawAnswerTests(unittest.TestCase):
    """Answers no twisted.web resource would write, from a loopback server that sends canned bytes."""

    ANSWERS = (
        b"HTTP/1.1 \xc2\xb200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 2\xd9\xa100 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 99999999999999999999 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: \xc2\xb2\r\n\r\nxx",
        b"HTTP/1.1 200 OK\r\nContent-Length: \xd9\xa1\r\n\r\nx",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\nx",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nx",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\xc2\xb2\r\nxx\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=\x00\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 503 Busy\r\nRetry-After: \xb3\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 401 No\r\nWWW-Authenticate: Digest nonce=\"\xff\x00\"\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nSet-Cookie: \xff\xfe=\x00; Max-Age=\xc2\xb2\r\nContent-Length: 0\r\n\r\n",
    )

    def test_neverAnotherException(self) -> None:
        """
        Every broken status line, Content-Length, chunk size or header ends the
        POST with a TransportError or an answer — never another exception.
        """
        from twisted.internet import reactor
        from twisted.internet.protocol import Factory, Protocol

        answers = list(self.ANSWERS)
        outcomes: list = []

        class Canned(Protocol):
            def connectionMade(self) -> None:
                self.transport.write(answers[len(outcomes)])
                self.transport.loseConnection()

        port = reactor.listenTCP(0, Factory.forProtocol(Canned), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        url = f"http://127.0.0.1:{port.getHost().port}/acs"

        @defer.inlineCallbacks
        def postAll():  # type: ignore[no-untyped-def]
            for answer in answers:
                agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False), connectTimeout=5)
                session = ACSHTTPSession(agent, url, "cpe", "pw", requestTimeout=5)
                try:
                    result = yield session.post(b"<Inform/>")
                except TransportError as e:
                    outcomes.append(e)
                except Exception as e:  # noqa: BLE001 - the point of the test
                    outcomes.append(e)
                    self.fail(f"{answer!r} raised {e!r}")
                else:
                    outcomes.append(result)
                    result.header("Retry-After")
                    result.header("Content-Type")

        d = postAll()
        d.addCallback(lambda _: self.assertEqual(len(outcomes), len(answers)))
        return d
