"""Tests for L{proxier.lan.httpclient}: requests to devices with deadlines, caps and checked redirects."""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.trial import unittest
from twisted.web.client import URI
from twisted.web.error import SchemeNotSupported
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from treq.testing import StubTreq

from proxier.lan.httpclient import (
    BodyTooLarge,
    DeviceHTTPClient,
    EndpointFactory,
    HTTPFailure,
    HTTPTimeout,
    Requester,
    USER_AGENT,
    makeHTTPClient,
)
from proxier.lan.urlpolicy import Origin, URLPolicy, URLRefused

from .test_lan_urlpolicy import LAN, resolverOf

ORIGIN = Origin("192.168.1.20", LAN)
LOOPBACK = Origin("127.0.0.1", None, loopbackMode=True)


class FakeDevice(Resource):
    """A device web server: records requests, answers by path."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list = []
        self.pending: list = []

    def render(self, request):  # noqa: ANN001
        self.requests.append((request.method, request.uri, dict(request.requestHeaders.getAllRawHeaders()),
                              request.content.read()))
        path = request.path
        if path == b"/desc.xml":
            request.setHeader(b"content-type", b"text/xml")
            return b"<root/>"
        if path == b"/big":
            return b"x" * 5000
        if path == b"/redirect":
            request.setResponseCode(int(request.args.get(b"code", [b"302"])[0]))
            request.setHeader(b"location", request.args[b"to"][0])
            return b""
        if path == b"/loop":
            request.setResponseCode(302)
            request.setHeader(b"location", b"/loop")
            return b""
        if path == b"/slow":
            self.pending.append(request)
            return NOT_DONE_YET
        if path == b"/cookie":
            request.addCookie(b"session", b"s1", path=b"/")
            return b"set"
        if path == b"/gzip":
            import gzip

            request.setHeader(b"content-encoding", b"gzip")
            return gzip.compress(b"<root>inflated</root>")
        request.setResponseCode(404)
        return b"no"


class RequesterTests(unittest.TestCase):
    def setUp(self) -> None:
        self.device = FakeDevice()
        self.stub = StubTreq(self.device)
        self.clock = Clock()
        self.policy = URLPolicy(resolverOf({}))
        self.requester = Requester(self.stub, self.clock, self.policy)

    def run_(self, method: str, url: str, **kw: object) -> object:
        kw.setdefault("timeout", 10)
        kw.setdefault("maxBytes", 1000)
        target = self.policy.checkAddressLiteral(url, ORIGIN)
        results: list = []
        self.requester.request(method, target, ORIGIN, **kw).addBoth(results.append)
        self.stub.flush()
        return results[0] if results else None

    def test_get(self) -> None:
        """A GET returns status, headers and body; Host and User-Agent are ours."""
        result = self.run_("GET", "http://192.168.1.20:49152/desc.xml")
        self.assertEqual((result.code, result.body, result.header("Content-Type")), (200, b"<root/>", "text/xml"))
        self.assertEqual(result.url, "http://192.168.1.20:49152/desc.xml")
        method, uri, headers, _ = self.device.requests[0]
        self.assertEqual((method, uri), (b"GET", b"/desc.xml"))
        self.assertEqual(headers[b"Host"], [b"192.168.1.20:49152"])
        self.assertEqual(headers[b"User-Agent"], [USER_AGENT.encode()])

    def test_postHasContentLength(self) -> None:
        """A body goes with an explicit Content-Length, never chunked, and the caller's headers."""
        self.run_("POST", "http://192.168.1.20/desc.xml", body=b"<x/>", headers=[("SOAPACTION", '"a#b"')])
        _, _, headers, body = self.device.requests[0]
        self.assertEqual(body, b"<x/>")
        self.assertEqual(headers[b"Content-Length"], [b"4"])
        self.assertNotIn(b"Transfer-Encoding", headers)
        self.assertEqual(headers[b"Soapaction"], [b'"a#b"'])

    def test_statusReturned(self) -> None:
        """Non-2xx answers are results, not failures: the caller decides."""
        self.assertEqual(self.run_("GET", "http://192.168.1.20/nothing").code, 404)

    def test_bodyCap(self) -> None:
        """A body over the cap fails with BodyTooLarge."""
        self.assertTrue(self.run_("GET", "http://192.168.1.20/big").check(BodyTooLarge))
        self.assertEqual(len(self.run_("GET", "http://192.168.1.20/big", maxBytes=6000).body), 5000)

    def test_deadline(self) -> None:
        """No answer within the deadline fails with HTTPTimeout, and the request is abandoned."""
        target = self.policy.checkAddressLiteral("http://192.168.1.20/slow", ORIGIN)
        results: list = []
        self.requester.request("GET", target, ORIGIN, timeout=5, maxBytes=100).addBoth(results.append)
        self.stub.flush()
        self.assertEqual(results, [])
        self.clock.advance(4.9)
        self.assertEqual(results, [])
        self.clock.advance(0.2)
        self.assertTrue(results[0].check(HTTPTimeout))
        self.assertIn("within 5 s", str(results[0].value))

    def test_redirectFollowedAfterCheck(self) -> None:
        """A redirect within the policy is followed, relative or absolute, and the final URL reported."""
        result = self.run_("GET", "http://192.168.1.20/redirect?to=/desc.xml", redirects=2)
        self.assertEqual((result.code, result.body, result.url), (200, b"<root/>", "http://192.168.1.20/desc.xml"))
        result = self.run_("GET", "http://192.168.1.20/redirect?to=http://192.168.1.30/desc.xml&code=307", redirects=1)
        self.assertEqual(result.url, "http://192.168.1.30/desc.xml")

    def test_redirectRefused(self) -> None:
        """A redirect to loopback, metadata or another subnet fails with URLRefused, unfetched."""
        for where in ("http://127.0.0.1/admin", "http://169.254.169.254/latest", "http://10.0.0.1/x", "file:///etc/passwd"):
            self.device.requests.clear()
            result = self.run_("GET", "http://192.168.1.20/redirect?to=" + where, redirects=3)
            self.assertTrue(result.check(URLRefused), where)
            self.assertEqual(len(self.device.requests), 1)

    def test_redirectLimit(self) -> None:
        """Redirects beyond the limit come back as the redirect itself; none are followed by default."""
        result = self.run_("GET", "http://192.168.1.20/loop", redirects=3)
        self.assertEqual(result.code, 302)
        self.assertEqual(len(self.device.requests), 4)
        self.device.requests.clear()
        self.assertEqual(self.run_("GET", "http://192.168.1.20/redirect?to=/desc.xml").code, 302)
        self.assertEqual(len(self.device.requests), 1)

    def test_seeOtherBecomesGet(self) -> None:
        """A 303 after a POST is followed with a GET without body."""
        self.run_("POST", "http://192.168.1.20/redirect?to=/desc.xml&code=303", body=b"x", redirects=1)
        self.assertEqual([r[0] for r in self.device.requests], [b"POST", b"GET"])
        self.assertEqual(self.device.requests[1][3], b"")


class DeviceHTTPClientRequesterTests(RequesterTests):
    """
    Every Requester test again on L{DeviceHTTPClient} (the client used
    always), and what it sends checked against treq's own client.
    """

    def setUp(self) -> None:
        super().setUp()
        self.requester = Requester(DeviceHTTPClient(self.stub._agent), self.clock, self.policy)

    def exchanges(self) -> list:
        """A few requests (a cookie set, then sent back; an IRI; a body): what the device received."""
        self.run_("GET", "http://192.168.1.20:49152/cookie")
        self.run_("GET", "http://192.168.1.20:49152/desc.xml")
        self.run_("GET", "http://192.168.1.20:49152/d\u00e9sc.xml?a=b|{c}")
        self.run_("POST", "http://192.168.1.20:49152/desc.xml", body=b"<x/>", headers=[("SOAPACTION", '"a#b"')])
        self.run_("GET", "http://192.168.1.20:49152/gzip")
        return self.device.requests

    def test_sameRequestsAsTreq(self) -> None:
        """The device receives byte for byte what treq's client sends: URIs, headers (cookies, gzip asked), bodies."""
        ours = self.exchanges()
        self.device.requests = []
        self.requester = Requester(self.stub, self.clock, self.policy)
        theirs = self.exchanges()
        self.assertEqual(ours, theirs)
        self.assertEqual(ours[1][2][b"Cookie"], [b"session=s1"])
        self.assertEqual(ours[0][2][b"Accept-Encoding"], [b"gzip"])
        self.assertEqual(ours[2][1], b"/d%C3%A9sc.xml?a=b%7C%7Bc%7D")

    def test_emptyJarNotConsulted(self) -> None:
        """
        While no device set a cookie, a request is not looked up in the jar;
        an answer's Set-Cookie is kept all the same, and sent back after.
        """
        jar = self.requester.client.cookies
        consulted: list = []
        original = jar.add_cookie_header
        jar.add_cookie_header = lambda request: (consulted.append(request), original(request))[1]
        self.run_("GET", "http://192.168.1.20:49152/desc.xml")
        self.assertEqual((consulted, len(jar)), ([], 0))
        self.run_("GET", "http://192.168.1.20:49152/cookie")
        self.assertEqual((len(consulted), len(jar)), (0, 1))
        self.run_("GET", "http://192.168.1.20:49152/desc.xml")
        self.assertEqual(len(consulted), 1)
        self.assertEqual(self.device.requests[-1][2][b"Cookie"], [b"session=s1"])

    def test_cookieAgentWithoutTwistedsPrivateNames(self) -> None:
        """A Twisted without the private names the lighter cookie agent uses gets CookieAgent as it is."""
        from twisted.web.client import CookieAgent

        from proxier import httpbody

        self.assertIsInstance(httpbody.cookieAgent(object(), object()), httpbody._JarAgent)
        self.patch(httpbody, "_FakeRequest", None)
        agent = httpbody.cookieAgent(object(), object())
        self.assertIs(type(agent), CookieAgent)

    def test_gzipInflated(self) -> None:
        """A gzip answer is read inflated, as through treq."""
        self.assertEqual(self.run_("GET", "http://192.168.1.20/gzip").body, b"<root>inflated</root>")

    def test_uriAsTreqMakesIt(self) -> None:
        """
        The request URI is the one treq makes of the URL (hyperlink's URI
        form), whether the URL is taken as it is or worked out: thousands of
        URLs made of every kind of character a URL holds, default ports,
        leading zeros, empty queries, IRIs.
        """
        import random

        import hyperlink

        from proxier.lan.httpclient import _treqURI

        r = random.Random(19)
        characters = "aZ09._~!$'()*+,;=:@/-%?&# \u00e9|{"
        asIs = 0
        for _ in range(5000):
            url = (r.choice(["http", "https", "HTTP"]) + "://" + r.choice(["127.0.0.1", "dev-1.lan", "Dev.lan", "a"])
                   + r.choice(["", ":80", ":443", ":080", ":49152", ":0", ":70000"]))
            url += r.choice(["/", "/", "/", ""]) + "".join(r.choice(characters) if r.random() < 0.9 else "%" + r.choice("0aF") + r.choice("9eE")
                           for _ in range(r.randint(0, 12)))
            try:
                wanted = hyperlink.EncodedURL.from_text(url).to_uri().to_text().encode("ascii")
            except Exception as e:
                self.assertRaises(type(e), _treqURI, url)
                continue
            self.assertEqual(_treqURI(url), wanted, url)
            asIs += wanted == url.encode()
        self.assertGreater(asIs, 1000)

    def test_onlyWhatTheRequesterAsks(self) -> None:
        """Redirects and buffering are the Requester's: asking the client for them is a plain error."""
        client = DeviceHTTPClient(self.stub._agent)
        self.assertRaises(ValueError, client.request, "GET", "http://192.168.1.20/", allow_redirects=True)
        self.assertRaises(ValueError, client.request, "GET", "http://192.168.1.20/", unbuffered=False)

    def test_iri(self) -> None:
        """A non-ASCII path is sent percent-encoded."""
        self.run_("GET", "http://192.168.1.20/d\u00e9sc.xml")
        self.assertEqual(self.device.requests[0][1], b"/d%C3%A9sc.xml")


class HTTP10Server(Protocol):
    """Answers like an old embedded server: HTTP/1.0, no Content-Length, then closes."""

    def dataReceived(self, data: bytes) -> None:
        if b"\r\n\r\n" in data:
            self.transport.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<root>old</root>\x00")
            self.transport.loseConnection()


class RecordingServer(Protocol):
    """Keeps the head of the request it receives, answers 200 with a length, then closes."""

    def dataReceived(self, data: bytes) -> None:
        self.factory.received.append(data)
        if b"\r\n\r\n" in b"".join(self.factory.received):
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            self.transport.loseConnection()


class LoopbackTests(unittest.TestCase):
    """The default client against real loopback sockets."""

    def setUp(self) -> None:
        self.port = reactor.listenTCP(0, Factory.forProtocol(HTTP10Server), interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        client, endpoints = makeHTTPClient(reactor, connectTimeout=5)
        self.assertIsInstance(client, DeviceHTTPClient)
        self.policy = URLPolicy(resolverOf({}))
        self.requester = Requester(client, reactor, self.policy, endpoints=endpoints)

    def test_requestOnTheWire(self) -> None:
        """What a device receives: treq's request (an IRI percent-encoded, gzip asked), our Host and User-Agent."""
        factory = Factory.forProtocol(RecordingServer)
        factory.received = []  # type: ignore[attr-defined]
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        number = port.getHost().port
        target = self.policy.checkAddressLiteral(f"http://127.0.0.1:{number}/d\u00e9sc.xml?a=b|c", LOOPBACK)

        def check(result: object) -> None:
            head = b"".join(factory.received).partition(b"\r\n\r\n")[0].split(b"\r\n")  # type: ignore[attr-defined]
            self.assertEqual(head[0], b"GET /d%C3%A9sc.xml?a=b%7Cc HTTP/1.1")
            self.assertEqual(sorted(head[1:]), sorted([
                b"Connection: close", b"Host: 127.0.0.1:%d" % number, b"User-Agent: " + USER_AGENT.encode(),
                b"Accept-Encoding: gzip"]))

        return self.requester.request("GET", target, LOOPBACK, timeout=10, maxBytes=10).addCallback(check)

    def test_http10WithoutLength(self) -> None:
        """An HTTP/1.0 answer without Content-Length is read to the end of the connection."""
        target = self.policy.checkAddressLiteral(f"http://127.0.0.1:{self.port.getHost().port}/d.xml", LOOPBACK)
        d = self.requester.request("GET", target, LOOPBACK, timeout=10, maxBytes=1000)
        d.addCallback(lambda r: self.assertEqual((r.code, r.body), (200, b"<root>old</root>\x00")))
        return d

    def test_http10OverCap(self) -> None:
        """The cap holds for a body without length too."""
        target = self.policy.checkAddressLiteral(f"http://127.0.0.1:{self.port.getHost().port}/d.xml", LOOPBACK)
        d = self.requester.request("GET", target, LOOPBACK, timeout=10, maxBytes=5)
        return self.assertFailure(d, BodyTooLarge)

    def test_connectionRefused(self) -> None:
        """A closed port fails with HTTPFailure naming the URL."""
        probe = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
        number = probe.getHost().port
        d: Deferred = probe.stopListening()

        def go(_: object) -> Deferred:
            target = self.policy.checkAddressLiteral(f"http://127.0.0.1:{number}/d.xml", LOOPBACK)
            return self.assertFailure(
                self.requester.request("GET", target, LOOPBACK, timeout=10, maxBytes=5), HTTPFailure
            )

        return d.addCallback(go)


def withoutTreq(case: unittest.TestCase) -> None:
    """Makes treq unimportable until C{case} ends, as on OpenWrt, where it is not packaged."""
    import sys

    names = ["treq"] + [name for name in sys.modules if name.startswith("treq.")]
    saved = {name: sys.modules.get(name) for name in names}

    def restore() -> None:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module

    case.addCleanup(restore)
    for name in names:
        sys.modules[name] = None  # type: ignore[assignment]


class WithoutTreqLoopbackTests(LoopbackTests):
    """
    The loopback tests again with treq unimportable (OpenWrt): the same
    client, sending the same request, none of treq needed.
    """

    def setUp(self) -> None:
        withoutTreq(self)
        super().setUp()


class EndpointFactoryTests(unittest.TestCase):
    def test_scopes(self) -> None:
        """IPv6 link-local hosts are reached through their recorded interface; others as they are."""
        f = EndpointFactory(reactor, connectTimeout=3)
        f.scopes["fe80::2"] = "br-lan"
        ep = f.endpointForURI(URI.fromBytes(b"http://[fe80::2]:80/"))
        self.assertIsInstance(ep, TCP6ClientEndpoint)
        self.assertEqual(ep._host, "fe80::2%br-lan")
        self.assertEqual(f.endpointForURI(URI.fromBytes(b"http://[fd00::2]:80/"))._host, "fd00::2")
        self.assertIsInstance(f.endpointForURI(URI.fromBytes(b"http://10.0.0.1:80/")), TCP4ClientEndpoint)

    def test_tls(self) -> None:
        """https needs a TLS creator for that host and port; other schemes are refused."""
        f = EndpointFactory(reactor)
        self.assertRaises(SchemeNotSupported, f.endpointForURI, URI.fromBytes(b"https://10.0.0.1:443/"))
        asked = []
        f.tls = lambda host, port: asked.append((host, port)) or None
        self.assertRaises(SchemeNotSupported, f.endpointForURI, URI.fromBytes(b"https://10.0.0.1:443/"))
        self.assertEqual(asked, [("10.0.0.1", 443)])
        self.assertRaises(SchemeNotSupported, f.endpointForURI, URI.fromBytes(b"ftp://10.0.0.1:21/"))


class IPv6NameTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """An IPv6 address survives the synthetic host name treq can carry; other names are not addresses."""
        from proxier.lan.httpclient import addressFromHostName, ipv6HostName

        for address in ("fd51:1::2", "fe80::1", "::1", "2001:db8::8:800:200c:417a"):
            name = ipv6HostName(address)
            self.assertTrue(name.endswith(".ipv6.invalid") and ":" not in name)
            self.assertEqual(addressFromHostName(name.upper()), address)
        for other in ("example.com", "v6-zz.ipv6.invalid", "v6-00.ipv6.invalid", "10.0.0.1"):
            self.assertIsNone(addressFromHostName(other), other)

    def test_requestToIPv6(self) -> None:
        """A request to an IPv6 device goes through treq (no IDNA error) and keeps the literal in Host."""
        device = FakeDevice()
        stub = StubTreq(device)
        policy = URLPolicy(resolverOf({}))
        origin = Origin("fd12:3456::20", LAN)
        target = policy.checkAddressLiteral("http://[fd12:3456::20]:8080/desc.xml", origin)
        results: list = []
        Requester(stub, Clock(), policy).request("GET", target, origin, timeout=5, maxBytes=100).addBoth(results.append)
        stub.flush()
        self.assertEqual(results[0].code, 200)
        self.assertEqual(device.requests[0][2][b"Host"], [b"[fd12:3456::20]:8080"])

    def test_endpointForName(self) -> None:
        """The endpoint factory maps the synthetic name back, with the link-local scope."""
        from proxier.lan.httpclient import ipv6HostName

        f = EndpointFactory(reactor)
        f.scopes["fe80::2"] = "br-lan"
        ep = f.endpointForURI(URI.fromBytes(f"http://{ipv6HostName('fe80::2')}:80/".encode()))
        self.assertEqual(ep._host, "fe80::2%br-lan")


class RaisingClientTests(unittest.TestCase):
    def test_synchronousErrorBecomesFailure(self) -> None:
        """A client that raises instead of returning a Deferred gives a failed Deferred (HTTPFailure), not an exception."""
        class Raising:
            def request(self, *args: object, **kwargs: object) -> None:
                raise ValueError("cannot carry that URL")

        policy = URLPolicy(resolverOf({}))
        target = policy.checkAddressLiteral("http://192.168.1.20/d.xml", ORIGIN)
        results: list = []
        Requester(Raising(), Clock(), policy).request("GET", target, ORIGIN, timeout=1, maxBytes=10).addBoth(results.append)
        self.assertTrue(results[0].check(HTTPFailure))
        self.assertIn("cannot carry that URL", str(results[0].value))
