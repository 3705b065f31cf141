# -*- test-case-name: tests.test_printer_ippclient -*-
"""
Tests for L{proxier.printer.ippclient} and L{proxier.printer.pinning}: a
fake printer on L{treq.testing.StubTreq} driven by a L{task.Clock}, then
the real C{ippeveprinter} (and a private C{cupsd} queue in front of it) on
127.0.0.1 when the binaries exist.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from treq.testing import StubTreq
from twisted.internet import defer
from twisted.internet.interfaces import IOpenSSLContextFactory
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher
from twisted.trial import unittest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from zope.interface import implementer

from proxier import httpauth
from proxier.lan.httpclient import Requester
from proxier.lan.urlpolicy import URLPolicy
from proxier.printer import ipp, ippclient
from proxier.printer.ipp import Attribute, AttributeGroup, IPPMessage, Value
from proxier.printer.ippclient import (
    Credentials,
    IPPClient,
    IPPClientError,
    IPPProtocolError,
    IPPStatusError,
    IPPTransportError,
)
from proxier.printer.pinning import CertificatePins, spkiHash
from proxier.store import Store
from tests.peers import printers

URL = "ipp://127.0.0.1:8631/ipp/print"
SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared")
FIXTURES = os.path.join(SHARED, "fixtures", "ipp")


def printerAnswer(request: IPPMessage, status: int = 0, printer: Optional[list] = None,
                  extra: bytes = b"") -> bytes:
    """A printer's answer to C{request}: the same request-id, charset and language, a printer group."""
    groups = [AttributeGroup(0x01, [
        Attribute("attributes-charset", (Value(0x47, "utf-8"),)),
        Attribute("attributes-natural-language", (Value(0x48, "en"),)),
    ] + ([Attribute("status-message", (Value(0x41, "Operation not supported."),))] if status else []))]
    if printer is not None:
        groups.append(AttributeGroup(0x04, printer))
    return ipp.encode(IPPMessage(status, request.requestId, groups)) + extra


class FakePrinter(Resource):
    """
    An IPP printer: decodes each request with our codec, records it, and
    answers with C{self.answer(request) → (HTTP code, headers, body)}.
    """

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[IPPMessage, dict]] = []
        self.pending: list = []
        self.answer: Callable[[IPPMessage, dict], Any] = lambda m, h: (200, {}, printerAnswer(m, printer=[
            Attribute("printer-location", (Value(0x41, "Room 1"),)),
            Attribute("printer-state", (Value(0x23, 3),)),
        ]))

    def render_POST(self, request: Any) -> Any:
        headers = {k.decode().lower(): [v.decode() for v in vs] for k, vs in request.requestHeaders.getAllRawHeaders()}
        message = ipp.decode(request.content.read())
        self.requests.append((message, headers))
        answer = self.answer(message, headers)
        if answer is None:
            self.pending.append(request)
            return NOT_DONE_YET
        code, extra, body = answer
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"application/ipp")
        for name, value in extra.items():
            request.setHeader(name.encode(), value.encode())
        return body


def _refuseResolve(host: str) -> Any:
    raise AssertionError(f"no name may be resolved in this test ({host})")


class ClientTests(unittest.TestCase):
    def setUp(self) -> None:
        self.printer = FakePrinter()
        self.stub = StubTreq(self.printer)
        self.clock = Clock()
        self.policy = URLPolicy(_refuseResolve, schemes=("http", "https"))
        self.events: list = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def client(self, url: str = URL, **kw: Any) -> IPPClient:
        requester = Requester(self.stub, self.clock, self.policy, userAgent=ippclient.USER_AGENT)
        return IPPClient(url, requester=requester, policy=self.policy, **kw)

    def run_(self, d: defer.Deferred) -> Any:
        results: list = []
        d.addBoth(results.append)
        self.stub.flush()
        self.assertEqual(len(results), 1, "the operation did not finish")
        return results[0]

    def logged(self, text: str) -> list:
        from twisted.logger import formatEvent

        return [formatEvent(e) for e in self.events if text in formatEvent(e)]

    def test_getPrinterAttributes(self) -> None:
        """
        Get-Printer-Attributes is one POST of application/ipp to the path,
        with charset, language, printer-uri, requesting-user-name and the
        requested attributes; the printer group of the answer is returned.
        """
        printer = self.run_(self.client().getPrinterAttributes(["printer-location", "printer-state"]))
        self.assertEqual(printer.get("printer-location"), "Room 1")
        self.assertEqual(printer.get("printer-state"), 3)
        request, headers = self.printer.requests[0]
        self.assertEqual(request.code, 0x000B)
        self.assertEqual(headers["content-type"], ["application/ipp"])
        self.assertEqual(headers["host"], ["127.0.0.1:8631"])
        self.assertEqual([a.name for a in request.operation][:4],
                         ["attributes-charset", "attributes-natural-language", "printer-uri", "requesting-user-name"])
        self.assertEqual(request.operation.get("printer-uri"), URL)
        self.assertEqual(request.operation.getAll("requested-attributes"), ["printer-location", "printer-state"])
        self.assertGreaterEqual(request.requestId, 1)

    def test_requestIdsIncrease(self) -> None:
        """Each request of one client has a new request-id (RFC 8011 §4.1.2), wrapping within 1..2**31-1."""
        client = self.client()
        self.run_(client.getPrinterAttributes())
        self.run_(client.getPrinterAttributes())
        self.assertEqual([m.requestId for m, _ in self.printer.requests], [1, 2])
        client._requestId = 0x7FFFFFFF
        self.assertEqual(client.nextRequestId(), 1)

    def test_duplicatesLogged(self) -> None:
        """A duplicate attribute in the answer keeps its first value and is logged, naming it."""
        # a second, empty printer-organization appended by hand before the end tag (ippeveprinter's)
        base = printerAnswer(IPPMessage(0, 1), printer=[Attribute("printer-organization", (Value(0x41, "ExampleCo"),))])
        dup = b"\x41\x00\x14printer-organization\x00\x00"
        self.printer.answer = lambda m, h: (200, {}, base[:4] + m.requestId.to_bytes(4, "big") + base[8:-1] + dup + b"\x03")
        printer = self.run_(self.client().getPrinterAttributes())
        self.assertEqual(printer.get("printer-organization"), "ExampleCo")
        self.assertEqual(len(self.logged("duplicate attribute printer-organization")), 1)

    def test_foreignRequestIdLogged(self) -> None:
        """An answer whose request-id is not the request's is used, and the mismatch logged."""
        self.printer.answer = lambda m, h: (200, {}, printerAnswer(IPPMessage(0, m.requestId + 41), printer=[]))
        self.run_(self.client().getPrinterAttributes())
        self.assertEqual(len(self.logged("the answer names request-id 42, not ours")), 1)

    def test_statusMessageWithLanguage(self) -> None:
        """A status-message sent as textWithLanguage gives its text in L{IPPStatusError.message}."""
        def answer(m: IPPMessage, h: dict) -> Any:
            return 200, {}, ipp.encode(IPPMessage(0x0413, m.requestId, [AttributeGroup(0x01, [
                Attribute("status-message", (Value(0x35, ipp.TextWithLanguage("fr", "non modifiable")),))])]))

        self.printer.answer = answer
        f = self.run_(self.client().setPrinterAttributes([Attribute("printer-location", (Value(0x41, "L"),))]))
        self.assertEqual((f.value.statusName, f.value.message), ("client-error-attributes-not-settable", "non modifiable"))

    def test_subscriptionRequests(self) -> None:
        """
        Create-Printer-Subscriptions sends ippget as a keyword with the
        events and lease in a subscription group and reads the id and lease
        granted; Get-Notifications asks from a sequence number without
        waiting and returns the event groups and the printer's interval.
        """
        def answer(m: IPPMessage, h: dict) -> Any:
            if m.code == 0x16:
                groups = [AttributeGroup(0x06, [Attribute("notify-subscription-id", (Value(0x21, 12),)),
                                                Attribute("notify-lease-duration", (Value(0x21, 600),))])]
            else:
                groups = [AttributeGroup(0x07, [Attribute("notify-sequence-number", (Value(0x21, n),)),
                                                Attribute("notify-subscribed-event", (Value(0x44, "printer-state-changed"),))])
                          for n in (3, 4)]
            operation = AttributeGroup(0x01, [Attribute("attributes-charset", (Value(0x47, "utf-8"),)),
                                              Attribute("notify-get-interval", (Value(0x21, 30),))])
            return 200, {}, ipp.encode(IPPMessage(0, m.requestId, [operation, *groups]))

        self.printer.answer = answer
        client = self.client()
        subscription = self.run_(client.createPrinterSubscription(["printer-config-changed"], lease=3600))
        self.assertEqual(subscription, ippclient.Subscription(12, 600))
        create = self.printer.requests[0][0]
        self.assertEqual(create.code, 0x16)
        self.assertEqual(create.group(0x06)["notify-pull-method"].values, (Value(0x44, "ippget"),))
        self.assertEqual(create.group(0x06).getAll("notify-events"), ["printer-config-changed"])
        self.assertEqual(create.group(0x06).get("notify-lease-duration"), 3600)
        notifications = self.run_(client.getNotifications(12, 3))
        self.assertEqual((notifications.interval, len(notifications.events)), (30, 2))
        self.assertEqual(notifications.sequenceAfter(3), 5)
        self.assertEqual(ippclient.Notifications(30, []).sequenceAfter(3), 3)
        get = self.printer.requests[1][0]
        self.assertEqual((get.code, get.operation.get("notify-subscription-ids"), get.operation.get("notify-sequence-numbers"),
                          get.operation.get("notify-wait")), (0x1C, 12, 3, False))

    def test_subscriptionWithoutId(self) -> None:
        """A successful Create-Printer-Subscriptions answer without a subscription id is a protocol error."""
        self.printer.answer = lambda m, h: (200, {}, printerAnswer(m))
        f = self.run_(self.client().createPrinterSubscription())
        self.assertIsInstance(f.value, IPPProtocolError)

    def test_setRefusedIsStatus(self) -> None:
        """
        A printer refusing Set-Printer-Attributes (ippeveprinter's
        server-error-operation-not-supported) fails with L{IPPStatusError}
        carrying the status and the printer's message.
        """
        self.printer.answer = lambda m, h: (200, {}, printerAnswer(m, status=0x0501))
        f = self.run_(self.client().setPrinterAttributes([Attribute("printer-location", (Value(0x41, "Lab"),))]))
        self.assertIsInstance(f.value, IPPStatusError)
        self.assertEqual((f.value.status, f.value.statusName), (0x0501, "server-error-operation-not-supported"))
        self.assertEqual(f.value.message, "Operation not supported.")
        self.assertIn("Set-Printer-Attributes: server-error-operation-not-supported", str(f.value))
        request = self.printer.requests[0][0]
        self.assertEqual(request.code, 0x0013)
        self.assertEqual(request.group(0x04).get("printer-location"), "Lab")

    def test_setAccepted(self) -> None:
        """A successful status (below 0x0400, ignored-or-substituted included) is the answer."""
        self.printer.answer = lambda m, h: (200, {}, printerAnswer(m, status=0x0001))
        response = self.run_(self.client().setPrinterAttributes([Attribute("printer-location", (Value(0x41, "L"),))]))
        self.assertEqual(response.code, 0x0001)

    def test_cupsAddModifyPrinter(self) -> None:
        """CUPS-Add-Modify-Printer is operation 0x4003 with the attributes in a printer group."""
        self.printer.answer = lambda m, h: (200, {}, printerAnswer(m))
        self.run_(self.client("ipp://127.0.0.1:8632/printers/TestQ").cupsAddModifyPrinter(
            [Attribute("sides-default", (Value(0x44, "one-sided"),))]))
        request = self.printer.requests[0][0]
        self.assertEqual(request.code, 0x4003)
        self.assertEqual(request.operation.get("printer-uri"), "ipp://127.0.0.1:8632/printers/TestQ")
        self.assertEqual(request.group(0x04).get("sides-default"), "one-sided")

    def test_restartWhereOffered(self) -> None:
        """
        Restart-Printer when operations-supported lists it, else
        Restart-System (with system-uri), else a clear refusal without a request.
        """
        self.printer.answer = lambda m, h: (200, {}, printerAnswer(m))
        client = self.client()
        both = AttributeGroup(4, [Attribute("operations-supported", (Value(0x23, 0x0B), Value(0x23, 0x29), Value(0x23, 0x60)))])
        system = AttributeGroup(4, [Attribute("operations-supported", (Value(0x23, 0x0B), Value(0x23, 0x60)))])
        neither = AttributeGroup(4, [Attribute("operations-supported", (Value(0x23, 0x0B),))])
        self.run_(client.restart(both))
        self.run_(client.restart(system))
        f = self.run_(client.restart(neither))
        self.assertIsInstance(f.value, IPPClientError)
        self.assertIn("neither Restart-Printer nor Restart-System", str(f.value))
        codes = [(m.code, m.operation.get("printer-uri"), m.operation.get("system-uri")) for m, _ in self.printer.requests]
        self.assertEqual(codes, [(0x29, URL, None), (0x60, None, URL)])

    def test_httpErrorAndMalformed(self) -> None:
        """A non-200 HTTP answer and a malformed IPP body fail with L{IPPProtocolError}, the latter logged."""
        self.printer.answer = lambda m, h: (500, {}, b"oops")
        f = self.run_(self.client().getPrinterAttributes())
        self.assertIsInstance(f.value, IPPProtocolError)
        self.assertIn("HTTP 500", str(f.value))
        self.printer.answer = lambda m, h: (200, {}, b"\x02\x00\x00\x00\x00\x00\x00\x01\x04\x44\x00")
        f = self.run_(self.client().getPrinterAttributes())
        self.assertIsInstance(f.value, IPPProtocolError)
        self.assertIn("malformed IPP answer: truncated", str(f.value))
        self.assertEqual(len(self.logged("a malformed IPP answer")), 1)

    def test_bodyCap(self) -> None:
        """An answer over C{maxBytes} fails with L{IPPTransportError}, not decoded."""
        self.printer.answer = lambda m, h: (200, {}, printerAnswer(m, printer=[
            Attribute("printer-info", (Value(0x41, "x" * 5000),))]))
        f = self.run_(self.client(maxBytes=1000).getPrinterAttributes())
        self.assertIsInstance(f.value, IPPTransportError)

    def test_timeout(self) -> None:
        """A printer that never answers: L{IPPTransportError} when the clock passes the timeout."""
        self.printer.answer = lambda m, h: None
        results: list = []
        self.client(timeout=5).getPrinterAttributes().addBoth(results.append)
        self.stub.flush()
        self.assertEqual(results, [])
        self.clock.advance(5.1)
        self.assertIsInstance(results[0].value, IPPTransportError)
        self.assertIn("no answer within 5 s", str(results[0].value))

    def test_refusedURL(self) -> None:
        """A printer URL the policy refuses (loopback mode, a non-loopback address) makes no request."""
        from proxier.lan.urlpolicy import Origin

        f = self.run_(self.client("ipp://192.0.2.7/ipp/print", origin=Origin("127.0.0.1", None, True)).getPrinterAttributes())
        self.assertIsInstance(f.value, IPPTransportError)
        self.assertEqual(self.printer.requests, [])

    def test_notAnIPPURL(self) -> None:
        """Only ipp:// and ipps:// URLs with a host, without user information, make a client."""
        for url in ("http://127.0.0.1/ipp/print", "ipp:///x", "ipp://u:p@127.0.0.1/ipp/print", "ipp://127.0.0.1:x/"):
            self.assertRaises(IPPClientError, ippclient.httpURL, url)
        self.assertEqual(ippclient.httpURL("ipps://printer.lan/ipp/print"),
                         ("https://printer.lan:631/ipp/print", "ipps://printer.lan:631/ipp/print"))

    def test_digest(self) -> None:
        """
        A 401 with a Digest challenge is answered once with the configured
        credentials (L{proxier.httpauth}); the next request answers at
        once, counting nc up; the password is never sent.
        """
        server = httpauth.DigestServer("CUPS", secret=b"s" * 32, clock=lambda: 1_700_000_000.0)

        def answer(m: IPPMessage, h: dict) -> Any:
            header = (h.get("authorization") or [""])[0]
            if not header or not server.check("POST", "/ipp/print", header, {"admin": "pw"}.get).ok:
                return 401, {"www-authenticate": server.challenge()}, b""
            return 200, {}, printerAnswer(m, printer=[])

        self.printer.answer = answer
        client = self.client(credentials=Credentials("admin", "pw"))
        self.run_(client.getPrinterAttributes())
        self.run_(client.getPrinterAttributes())
        sent = [(h.get("authorization") or [""])[0] for _, h in self.printer.requests]
        self.assertEqual(len(sent), 3)
        self.assertEqual(sent[0], "")
        self.assertIn("nc=00000001", sent[1])
        self.assertIn("nc=00000002", sent[2])
        self.assertFalse(any("pw" in s.split("response=")[0] for s in sent))
        self.assertEqual(repr(client.credentials), "Credentials('admin', ...)")

    def test_wrongPassword(self) -> None:
        """Credentials refused: one retry only, then L{IPPProtocolError} saying so."""
        server = httpauth.DigestServer("CUPS", secret=b"s" * 32, clock=lambda: 1_700_000_000.0)
        self.printer.answer = lambda m, h: (401, {"www-authenticate": server.challenge()}, b"")
        f = self.run_(self.client(credentials=Credentials("admin", "wrong")).getPrinterAttributes())
        self.assertIsInstance(f.value, IPPProtocolError)
        self.assertIn("credentials refused", str(f.value))
        self.assertEqual(len(self.printer.requests), 2)

    def test_basicOnlyOverIPPS(self) -> None:
        """A Basic challenge over plain ipp:// is not answered (the password would cross the LAN in clear)."""
        self.printer.answer = lambda m, h: (401, {"www-authenticate": 'Basic realm="CUPS"'}, b"")
        f = self.run_(self.client(credentials=Credentials("admin", "pw")).getPrinterAttributes())
        self.assertIsInstance(f.value, IPPProtocolError)
        self.assertEqual(len(self.printer.requests), 1)
        self.assertEqual(len(self.logged("Basic over plain ipp://")), 1)

    def test_basicOverIPPS(self) -> None:
        """Over ipps:// a Basic challenge is answered with the configured credentials."""
        def answer(m: IPPMessage, h: dict) -> Any:
            if h.get("authorization") != [httpauth.basicAuthorization("admin", "pw")]:
                return 401, {"www-authenticate": 'Basic realm="CUPS"'}, b""
            return 200, {}, printerAnswer(m, printer=[])

        self.printer.answer = answer
        self.run_(self.client("ipps://127.0.0.1:8631/ipp/print", credentials=Credentials("admin", "pw"))
                  .getPrinterAttributes())
        self.assertEqual(len(self.printer.requests), 2)


def _selfSigned(commonName: str = "printer") -> tuple[bytes, bytes]:
    """A throw-away self-signed certificate and key (PEM), as a printer makes its own."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, commonName)])
    now = datetime.datetime(2026, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


class PinningTests(unittest.TestCase):
    def test_firstUsePinsThenHolds(self) -> None:
        """
        The first key seen for host:port is pinned durably (a new
        L{CertificatePins} on the same store agrees); another key is then
        refused and recorded; after L{CertificatePins.forget} it pins again.
        """
        from cryptography import x509

        store = Store.open(self.mktemp())
        a = spkiHash(x509.load_pem_x509_certificate(_selfSigned()[0]))
        b = spkiHash(x509.load_pem_x509_certificate(_selfSigned()[0]))
        pins = CertificatePins(store.document("ipps-pins"))
        self.assertTrue(pins.check("127.0.0.1:631", a))
        again = CertificatePins(store.document("ipps-pins"))
        self.assertEqual(again.pinned("127.0.0.1:631"), a)
        self.assertTrue(again.check("127.0.0.1:631", a))
        self.assertFalse(again.check("127.0.0.1:631", b))
        self.assertEqual(again.mismatches["127.0.0.1:631"], (a, b))
        self.assertTrue(again.check("127.0.0.1:632", b))  # another port is another printer
        again.forget("127.0.0.1:631")
        self.assertTrue(CertificatePins(store.document("ipps-pins")).check("127.0.0.1:631", b))

    def test_samePinForRenewedCertificate(self) -> None:
        """The SPKI is what is pinned: a new certificate on the same key has the same hash."""
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization

        certPEM, keyPEM = _selfSigned()
        key = serialization.load_pem_private_key(keyPEM, None)
        cert = x509.load_pem_x509_certificate(certPEM)
        renewed = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(cert.issuer)
                   .public_key(key.public_key()).serial_number(2)
                   .not_valid_before(datetime.datetime(2027, 1, 1)).not_valid_after(datetime.datetime(2030, 1, 1))
                   .sign(key, hashes.SHA256()))
        self.assertEqual(spkiHash(renewed), spkiHash(cert))

    def test_corruptStoreStartsEmpty(self) -> None:
        """A pins document of the wrong shape is set aside by the store (not trusted), and nothing is pinned."""
        store = Store.open(self.mktemp())
        store.document("ipps-pins").save({"127.0.0.1:631": 5})
        self.assertIsNone(CertificatePins(store.document("ipps-pins")).pinned("127.0.0.1:631"))


@implementer(IOpenSSLContextFactory)
class _ServerContext:
    """A server TLS context from PEM files (pyOpenSSL's C{SSL} module only: no C{OpenSSL.crypto})."""

    def __init__(self, certPath: str, keyPath: str) -> None:
        from OpenSSL import SSL

        self.context = SSL.Context(SSL.TLS_METHOD)
        self.context.use_certificate_file(certPath)
        self.context.use_privatekey_file(keyPath)

    def getContext(self) -> Any:
        return self.context


class LoopbackTLSTests(unittest.TestCase):
    """L{PinnedTLS} in a real handshake with a Twisted TLS server on 127.0.0.1 (no third-party peer needed)."""

    timeout = 60

    def setUp(self) -> None:
        from twisted.internet import reactor
        from twisted.web.server import Site

        directory = self.mktemp()
        os.makedirs(directory)
        certPEM, keyPEM = _selfSigned("127.0.0.1")
        certPath, keyPath = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        for path, data in ((certPath, certPEM), (keyPath, keyPEM)):
            with open(path, "wb") as f:
                f.write(data)
        from cryptography import x509

        self.expected = spkiHash(x509.load_pem_x509_certificate(certPEM))
        self.printer = FakePrinter()
        site = Site(self.printer)
        self.port = reactor.listenSSL(0, site, _ServerContext(certPath, keyPath), interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.url = f"ipps://127.0.0.1:{self.port.getHost().port}/ipp/print"
        self.key = f"127.0.0.1:{self.port.getHost().port}"

    def client(self, pins: CertificatePins) -> IPPClient:
        from twisted.internet import reactor

        return IPPClient(self.url, reactor=reactor, pins=pins, timeout=20)

    @defer.inlineCallbacks
    def test_pinnedOnFirstUseAndKept(self) -> Any:
        """
        The first handshake pins the server's SPKI hash in the store
        document; a later client reading the same document connects again.
        """
        store = Store.open(self.mktemp())
        printer = yield self.client(CertificatePins(store.document("ipps-pins"))).getPrinterAttributes()
        self.assertEqual(printer.get("printer-location"), "Room 1")
        again = CertificatePins(store.document("ipps-pins"))
        self.assertEqual(again.pinned(self.key), self.expected)
        yield self.client(again).getPrinterAttributes()
        self.assertEqual(again.mismatches, {})
        self.assertEqual(len(self.printer.requests), 2)

    @defer.inlineCallbacks
    def test_otherKeyRefused(self) -> Any:
        """A server whose key is not the pinned one is refused before any request reaches it."""
        pins = CertificatePins()
        pins.check(self.key, "ab" * 32)
        try:
            yield self.client(pins).getPrinterAttributes()
        except IPPTransportError:
            pass
        else:
            self.fail("the handshake with another key succeeded")
        self.assertEqual(pins.mismatches[self.key], ("ab" * 32, self.expected))
        self.assertEqual(self.printer.requests, [])

    @defer.inlineCallbacks
    def test_ippsWithoutPinsRefused(self) -> Any:
        """Without a pin store an ipps:// printer is not reached at all (no unverified TLS)."""
        from twisted.internet import reactor

        try:
            yield IPPClient(self.url, reactor=reactor, timeout=20).getPrinterAttributes()
        except IPPTransportError as e:
            self.assertIn("no TLS identity", str(e))
        else:
            self.fail("an ipps:// printer was reached without pinning")
        self.assertEqual(self.printer.requests, [])


class _RealPeer:
    """Clients of the real peers of L{tests.peers.printers}, which a test starts."""

    timeout = 120  # trial's bound on each test; every step inside has its own

    def realClient(self: Any, url: str, **kw: Any) -> IPPClient:
        from twisted.internet import reactor

        # the default requester's pool keeps no connection open (non-persistent)
        return IPPClient(url, reactor=reactor, timeout=20, **kw)


class IppeveprinterTests(_RealPeer, unittest.TestCase):
    def setUp(self) -> None:
        peer = printers.startPrinter(self)
        self.port, self.url = peer.port, peer.url

    @defer.inlineCallbacks
    def test_readAttributes(self) -> Any:
        """
        Get-Printer-Attributes of a real ippeveprinter reads through our
        codec with the MFP 4000 file's values and their types: text,
        boolean, keyword, enum, resolution, rangeOfInteger, octetString rows,
        and the operations it offers.
        """
        printer = yield self.realClient(self.url).getPrinterAttributes()
        self.assertEqual(printer.get("printer-location"), "Room 1")
        self.assertEqual(printer.get("printer-make-and-model"), "ExampleCo MFP 4000 Color")
        self.assertIs(printer.get("color-supported"), True)
        self.assertEqual(printer.get("sides-default"), "two-sided-long-edge")
        self.assertEqual(printer.get("orientation-requested-default"), 3)
        self.assertEqual(printer.get("printer-resolution-default"), ipp.Resolution(600, 600, 3))
        self.assertEqual(printer.get("copies-supported"), (1, 999))
        self.assertEqual(printer.getAll("marker-levels"), [8, 55])
        supplies = printer.getAll("printer-supply")
        self.assertEqual(len(supplies), 2)
        self.assertTrue(supplies[0].startswith(b"index=1;class=supplyThatIsConsumed;type=toner;"))
        self.assertIn(printer.get("printer-state"), (3, 4, 5))
        self.assertIsInstance(printer.get("printer-up-time"), int)
        offered = printer.getAll("operations-supported")
        self.assertIn(0x000B, offered)
        self.assertIsNone(IPPClient.restartOperation(printer) if 0x29 not in offered and 0x60 not in offered else None)

    @defer.inlineCallbacks
    def test_requestedAttributesOnly(self) -> Any:
        """A request naming two attributes gets those two (the request's keywords were read right)."""
        printer = yield self.realClient(self.url).getPrinterAttributes(["printer-location", "printer-state"])
        self.assertEqual(sorted(a.name for a in printer), ["printer-location", "printer-state"])

    @defer.inlineCallbacks
    def test_setRefusedAsStatus(self) -> Any:
        """
        ippeveprinter refuses Set-Printer-Attributes: the refusal arrives
        as L{IPPStatusError} with its IPP status, and the location is unchanged.
        """
        client = self.realClient(self.url)
        try:
            yield client.setPrinterAttributes([Attribute("printer-location", (Value(0x41, "Lab 7"),))])
        except IPPStatusError as e:
            self.assertEqual(e.statusName, "server-error-operation-not-supported")
        else:
            self.fail("ippeveprinter accepted Set-Printer-Attributes")
        printer = yield client.getPrinterAttributes(["printer-location"])
        self.assertEqual(printer.get("printer-location"), "Room 1")

    @defer.inlineCallbacks
    def test_subscriptionsRefused(self) -> Any:
        """ippeveprinter 2.4 refuses ippget subscriptions: an IPP status the caller can fall back on."""
        try:
            yield self.realClient(self.url).createPrinterSubscription()
        except IPPStatusError as e:
            self.assertEqual(e.statusName, "server-error-operation-not-supported")
        else:
            self.fail("ippeveprinter accepted a subscription")

    @defer.inlineCallbacks
    def test_ippsPinnedOnFirstUse(self) -> Any:
        """
        Over ipps:// the printer's self-signed key is pinned at the first
        connection and accepted again; a client whose pin differs refuses
        the printer (L{IPPTransportError}) and records both hashes.
        """
        url = f"ipps://127.0.0.1:{self.port}/ipp/print"
        pins = CertificatePins()
        printer = yield self.realClient(url, pins=pins).getPrinterAttributes(["printer-location"])
        self.assertEqual(printer.get("printer-location"), "Room 1")
        key = f"127.0.0.1:{self.port}"
        pinned = pins.pinned(key)
        self.assertRegex(pinned, "^[0-9a-f]{64}$")
        yield self.realClient(url, pins=pins).getPrinterAttributes(["printer-location"])
        self.assertEqual(pins.mismatches, {})
        other = CertificatePins()
        other.check(key, "0" * 64)
        try:
            yield self.realClient(url, pins=other).getPrinterAttributes(["printer-location"])
        except IPPTransportError:
            pass
        else:
            self.fail("a printer presenting another key was accepted")
        self.assertEqual(other.mismatches[key], ("0" * 64, pinned))


class RealDuplicateTests(_RealPeer, unittest.TestCase):
    def setUp(self) -> None:
        # with printer-organization in its -a file, ippeveprinter 2.4 sends it, then its own empty one
        self.port = printers.startPrinter(self, extra='ATTR text printer-organization "ExampleCo"\n').port
        self.events: list = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    @defer.inlineCallbacks
    def test_firstValueWins(self) -> Any:
        """
        ippeveprinter's real duplicate (printer-organization "ExampleCo",
        then an empty one): the first value is kept, the duplicate is
        named in the answer and logged once.
        """
        from twisted.logger import formatEvent

        client = self.realClient(f"ipp://127.0.0.1:{self.port}/ipp/print")
        response = yield client.call(ippclient.OP_GET_PRINTER_ATTRIBUTES,
                                     [("requested-attributes", [Value(0x44, "all")])])
        self.assertEqual(response.duplicates, [(0x04, "printer-organization")])
        self.assertEqual(response.group(0x04).getAll("printer-organization"), ["ExampleCo"])
        lines = [formatEvent(e) for e in self.events if "duplicate attribute" in formatEvent(e)]
        self.assertEqual(len(lines), 1)
        self.assertIn("printer-organization in printer-attributes-tag", lines[0])


class CupsQueueTests(_RealPeer, unittest.TestCase):
    def setUp(self) -> None:
        printers.skipUnlessQueue()
        self.url = printers.startQueue(self, printers.startPrinter(self))

    @defer.inlineCallbacks
    def test_setLocationReadBack(self) -> Any:
        """
        Through a cupsd queue, Set-Printer-Attributes printer-location is
        accepted (it is in printer-settable-attributes-supported) and reads back.
        """
        client = self.realClient(self.url)
        before = yield client.getPrinterAttributes(["printer-location", "printer-settable-attributes-supported"])
        self.assertIn("printer-location", before.getAll("printer-settable-attributes-supported"))
        response = yield client.setPrinterAttributes([Attribute("printer-location", (Value(0x41, "Lab 7"),))])
        self.assertLess(response.code, 0x0400)
        after = yield client.getPrinterAttributes(["printer-location"])
        self.assertEqual(after.get("printer-location"), "Lab 7")

    @defer.inlineCallbacks
    def test_ippgetSubscription(self) -> Any:
        """
        On cupsd an ippget subscription to printer-config-changed is
        granted; a location change is then among its notifications; it
        renews and cancels (a cancelled one is no longer known).
        """
        client = self.realClient(self.url)
        subscription = yield client.createPrinterSubscription(["printer-config-changed"], lease=600)
        self.assertGreater(subscription.identifier, 0)
        yield client.setPrinterAttributes([Attribute("printer-location", (Value(0x41, "Lab 9"),))])
        notifications = yield client.getNotifications(subscription.identifier, 1)
        events = [e.get("notify-subscribed-event") for e in notifications.events]
        self.assertIn("printer-config-changed", events)
        self.assertGreater(notifications.sequenceAfter(1), 1)
        self.assertIsInstance(notifications.interval, int)
        yield client.renewSubscription(subscription.identifier, 600)
        yield client.cancelSubscription(subscription.identifier)
        try:
            yield client.getNotifications(subscription.identifier, 1)
        except IPPStatusError as e:
            self.assertTrue(e.statusName.startswith("client-error-"), e.statusName)
        else:
            self.fail("a cancelled subscription still answered")

    @defer.inlineCallbacks
    def test_cupsAddModifyPrinter(self) -> Any:
        """CUPS-Add-Modify-Printer changes the queue's printer-info, read back through Get-Printer-Attributes."""
        client = self.realClient(self.url)
        yield client.cupsAddModifyPrinter([Attribute("printer-info", (Value(0x41, "Second floor MFP"),))])
        after = yield client.getPrinterAttributes(["printer-info"])
        self.assertEqual(after.get("printer-info"), "Second floor MFP")
