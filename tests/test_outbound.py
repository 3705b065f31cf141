"""
Tests for L{proxier.outbound}: the hosts the proxier reaches on the ACS's
behalf (an Upload's file server, a redirect during a session), and the ACS
URL with an IPv6 literal (issue 11 item 6).

No request leaves for a refused address: the checks are tested on their
own, and where a request would go, a listener on 127.0.0.1 (or an
in-memory resource) shows it was never contacted. Names are resolved by an
injected table only.
"""

from __future__ import annotations

import ipaddress
import socket

from treq.testing import RequestTraversalAgent
from twisted.internet import defer, reactor, task
from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.resource import Resource
from twisted.web.server import Site

from proxier.config import load
from proxier.cwmp.transport import ACSHTTPSession, TransportError
from proxier.outbound import TargetPolicy, TargetRefused
from proxier.upnpdm.httpfiles import TransferFailed, Uploader
from tests.test_upnpdm_logs import LogsCase, upload
from tests.test_upnpdm_transfer_support import FileServer

OWN = ("192.168.1.1", "fd12:3456::1", "fe80::1", "203.0.113.7")

# (address, refused?) with the gateway's addresses OWN — the module docstring, row by row.
ADDRESS_ROWS = (
    ("198.51.100.20", False),      # a file server out there
    ("2001:db8::20", False),
    ("192.168.1.30", False),       # a host on the LAN that is not the gateway
    ("127.0.0.1", True),           # loopback
    ("127.8.8.8", True),
    ("::1", True),
    ("::ffff:127.0.0.1", True),    # mapped loopback
    ("169.254.169.254", True),     # link-local IPv4 (metadata services)
    ("fe80::20", True),            # link-local IPv6
    ("0.0.0.0", True),             # unspecified
    ("::", True),
    ("224.0.0.1", True),           # multicast
    ("ff02::1", True),
    ("255.255.255.255", True),     # broadcast
    ("192.168.1.1", True),         # the gateway's own LAN address (its admin pages)
    ("::ffff:192.168.1.1", True),
    ("fd12:3456::1", True),
    ("203.0.113.7", True),         # its WAN address (its Connection Request port)
)


def policy(allowed: tuple = (), names: dict = None) -> TargetPolicy:
    """A policy with the gateway's addresses OWN and names resolved from C{names} only."""
    table = dict(names or {})

    def resolve(host: str) -> Deferred:
        if host not in table:
            return fail(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
        return succeed(table[host])

    return TargetPolicy(allowed, ownAddresses=lambda: [ipaddress.ip_address(a) for a in OWN], resolve=resolve)


class PolicyTests(unittest.TestCase):
    """The check itself."""

    def refused(self, d: Deferred) -> str:
        return str(self.failureResultOf(d, TargetRefused).value)

    def test_rows(self) -> None:
        """Each address is refused or allowed as the table says, with the address in the reason."""
        p = policy()
        for address, refused in ADDRESS_ROWS:
            reason = p.addressRefusal(address)
            self.assertEqual(reason is not None, refused, (address, reason))
            host = f"[{address}]" if ":" in address else address
            d = p.check(f"http://{host}:8080/up")
            if refused:
                self.assertIn("address", self.refused(d))
            else:
                self.assertIsNone(self.successResultOf(d))

    def test_gatewayAddressesByDefault(self) -> None:
        """Without an injected list the gateway's addresses are its interfaces' (here: loopback at least)."""
        self.assertIsNotNone(TargetPolicy().addressRefusal("127.0.0.1"))

    def test_allowedShared(self) -> None:
        """Policies allowing the same hosts share one set of them (issue 19: a policy per device)."""
        self.assertIs(TargetPolicy(["Files.Lab.", "127.0.0.1"]).allowed,
                      TargetPolicy(["127.0.0.1", "files.lab"]).allowed)
        self.assertIs(TargetPolicy().allowed, TargetPolicy([" "]).allowed)

    def test_allowedHosts(self) -> None:
        """A host the operator allows (local_targets) passes, spelt as in the URL, and only that host."""
        p = policy(("127.0.0.1", "[::1]", "Files.Lab."))
        self.assertIsNone(self.successResultOf(p.check("http://127.0.0.1:9/x")))
        self.assertIsNone(self.successResultOf(p.check("http://[::1]:9/x")))
        self.assertIsNone(self.successResultOf(p.check("https://files.lab/x")))
        self.refused(p.check("http://127.0.0.2:9/x"))

    def test_localNames(self) -> None:
        """Names of this host are refused without asking DNS."""
        p = policy(names={"localhost": ["198.51.100.1"]})
        for url in ("http://localhost/x", "http://LOCALHOST.:80/x", "http://a.b.localhost/x",
                    "http://ip6-localhost/x"):
            self.assertIn("names this host", self.refused(p.check(url)))

    def test_names(self) -> None:
        """A name is checked through every address it resolves to; one bad address, or none, refuses it."""
        p = policy(names={"files.example": ["198.51.100.5"], "rebind.example": ["198.51.100.5", "127.0.0.1"],
                          "meta.example": ["169.254.169.254"], "gw.example": ["192.168.1.1"], "empty.example": []})
        self.assertIsNone(self.successResultOf(p.check("http://files.example/up")))
        self.assertIn("loopback", self.refused(p.check("http://rebind.example/up")))
        self.assertIn("link-local", self.refused(p.check("http://meta.example/up")))
        self.assertIn("this gateway", self.refused(p.check("http://gw.example/up")))
        self.assertIn("does not resolve", self.refused(p.check("http://empty.example/up")))
        self.assertIn("cannot resolve", self.refused(p.check("http://unknown.example/up")))

    def test_badURLs(self) -> None:
        """A URL without a host or with a bad port is refused, not an exception."""
        p = policy()
        for url in ("http:///x", "http://[::1/x", "http://h:99999/x"):
            self.refused(p.check(url))

    def test_sameOriginRedirect(self) -> None:
        """A redirect to the host and port it came from (the operator's ACS) is not checked again."""
        p = policy()
        self.assertIsNone(self.successResultOf(p.check("http://127.0.0.1:7547/other", cameFrom="http://127.0.0.1:7547/acs")))
        self.refused(p.check("http://127.0.0.1:80/admin", cameFrom="http://127.0.0.1:7547/acs"))

    def test_quickRefusal(self) -> None:
        """quickRefusal answers at once for addresses and local names, and leaves other names to check()."""
        p = policy()
        self.assertIn("loopback", p.quickRefusal("http://127.0.0.1:9/x"))
        self.assertIn("names this host", p.quickRefusal("http://localhost/x"))
        self.assertIsNone(p.quickRefusal("http://unknown.example/x"))
        self.assertIsNone(p.quickRefusal("http://198.51.100.5/x"))


class UploadTests(unittest.TestCase):
    """The Uploader never PUTs to a refused file server."""

    def uploader(self, targets: TargetPolicy = None) -> Uploader:
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        return Uploader(agent, reactor, timeout=10.0, targets=targets)

    @defer.inlineCallbacks
    def test_loopbackRefusedByDefault(self) -> None:
        """A file server on 127.0.0.1: 9011 by default, and the server never hears of it."""
        server = FileServer()
        base = server.listen(self)
        with self.assertRaises(TransferFailed) as caught:
            yield self.uploader().upload(base + "/logs/a.log", b"secret log")
        self.assertEqual(caught.exception.code, 9011)
        self.assertIn("loopback", str(caught.exception))
        self.assertEqual(server.requests, [])

    @defer.inlineCallbacks
    def test_labAllowance(self) -> None:
        """The same server with 127.0.0.1 in local_targets gets the file."""
        server = FileServer()
        base = server.listen(self)
        yield self.uploader(TargetPolicy(["127.0.0.1"])).upload(base + "/logs/a.log", b"log")
        self.assertEqual(server.files["/logs/a.log"], b"log")


class UploadRPCTests(LogsCase):
    """An Upload naming a local file server is answered 9011 at once (the fault the RPC calls for)."""

    def test_refusedInTheResponse(self) -> None:
        """Loopback, the gateway's own address, localhost: 9011 Upload failure; nothing queued or uploaded."""
        self.uploader.targets = policy()
        for url in ("http://127.0.0.1:8080/up", "http://192.168.1.1/cgi-bin/admin", "http://localhost/x",
                    "http://[fe80::1]:80/x"):
            fault = self.lab.fault(self.model.upload(upload(url=url)))
            self.assertEqual(fault.code, 9011, url)
            self.assertIn("Upload failure", str(fault))
        self.lab.clock.advance(100)
        self.assertEqual(self.uploader.uploads, [])


class Redirects(Resource):
    """An ACS that redirects its first POST to C{location}; every request is counted."""

    isLeaf = True

    def __init__(self, location: bytes) -> None:
        super().__init__()
        self.location = location
        self.requests: list[bytes] = []

    def render_POST(self, request) -> bytes:
        self.requests.append(request.uri)
        if len(self.requests) == 1:
            request.setResponseCode(302)
            request.setHeader(b"Location", self.location)
            return b""
        return b""


class RedirectTests(unittest.TestCase):
    """A redirect from the ACS is followed only to a target the policy allows."""

    def session(self, acs: Resource, targets: TargetPolicy) -> ACSHTTPSession:
        return ACSHTTPSession(RequestTraversalAgent(acs), "http://acs.example.net/acs", clock=task.Clock(),
                              targets=targets)

    def test_refused(self) -> None:
        """Redirects to loopback, link-local, the gateway, or a name of those fail the POST, unfollowed."""
        names = {"meta.example": ["169.254.169.254"]}
        for location in (b"http://127.0.0.1:8080/admin", b"http://[::1]/x", b"http://169.254.169.254/latest",
                         b"http://192.168.1.1/", b"http://meta.example/x", b"http://localhost/x"):
            acs = Redirects(location)
            failure = self.failureResultOf(self.session(acs, policy(names=names)).post(b""), TransportError)
            self.assertIn("refused redirect", str(failure.value))
            self.assertEqual(len(acs.requests), 1, location)

    def test_followed(self) -> None:
        """A redirect to another ACS host out there, or within the same one, is followed."""
        for location in (b"http://acs2.example.net/cwmp", b"/acs?node=2"):
            acs = Redirects(location)
            session = self.session(acs, policy(names={"acs2.example.net": ["198.51.100.9"]}))
            result = self.successResultOf(session.post(b""))
            self.assertEqual(result.status, 200)
            self.assertEqual(len(acs.requests), 2)


class IPv6ACSTests(unittest.TestCase):
    """An ACS URL with an IPv6 literal."""

    def test_configAccepts(self) -> None:
        """[acs] url = http://[2001:db8::1]:7547/acs is a valid ACS URL (nothing connects to it)."""
        config = load(None).replace("acs", url="http://[2001:db8::1]:7547/acs")
        self.assertEqual(config["acs"]["url"], "http://[2001:db8::1]:7547/acs")
        from proxier.config import url as parseURL

        self.assertEqual(parseURL("http", "https")("http://[2001:db8::1]:7547/acs"), "http://[2001:db8::1]:7547/acs")

    @defer.inlineCallbacks
    def test_postsOverIPv6Loopback(self) -> None:
        """The session's transport POSTs to http://[::1]:PORT/acs: a real listener on ::1 gets the body."""
        acs = Redirects(b"")
        acs.requests.append(b"(no redirect)")  # answer every POST 200
        bodies = []
        original = acs.render_POST

        def render(request):
            bodies.append(request.content.read())
            return original(request)

        acs.render_POST = render
        try:
            port = reactor.listenTCP(0, Site(acs), interface="::1")
        except Exception as e:  # no IPv6 loopback here
            raise unittest.SkipTest(f"no IPv6 loopback: {e}")
        self.addCleanup(port.stopListening)
        url = f"http://[::1]:{port.getHost().port}/acs"
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        session = ACSHTTPSession(agent, url, clock=reactor, requestTimeout=10, targets=TargetPolicy())
        result = yield session.post(b"<hello/>")
        self.assertEqual(result.status, 200)
        self.assertEqual(bodies, [b"<hello/>"])
        self.assertEqual(session.url, url)
