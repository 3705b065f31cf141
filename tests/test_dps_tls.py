"""
Tests for L{proxier.upnp.dps.tls}: the proxier's TLS client towards devices,
over real loopback handshakes with the simulated device's TLS server
(L{proxier.sim.dps.ServerTLS}) and its bad-peer knobs, and L{DeviceTrust}'s
verdicts on their own.
"""

from __future__ import annotations

import datetime
import time

from OpenSSL import SSL
from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, wrapClientTLS
from twisted.internet.interfaces import IHandshakeListener
from twisted.trial import unittest
from zope.interface import implementer

from proxier.sim.dps import ServerTLS, TLSKnobs, makeCertificate
from proxier.upnp.dps import codec
from proxier.upnp.dps.cpidentity import Credentials, fingerprint, generateSelfSigned
from proxier.upnp.dps.tls import CIPHERS, ClientTLS, DeviceTrust, certificateUDNs, describeTLSFailure

UDN = "uuid:11111111-2222-5333-8444-555555555555"
NOW = datetime.datetime.now(datetime.timezone.utc)
_CREDENTIALS: list[Credentials] = []


def credentials() -> Credentials:
    if not _CREDENTIALS:
        _CREDENTIALS.append(generateSelfSigned("proxier-test", 365, NOW))
    return _CREDENTIALS[0]


def der(certificate):
    from cryptography.hazmat.primitives.serialization import Encoding

    return certificate.public_bytes(Encoding.DER)


class _Server(protocol.Protocol):
    def connectionMade(self):
        self.factory.connections.append(self)

    def dataReceived(self, data):
        self.factory.received.append(data)
        self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    def connectionLost(self, reason):
        self.factory.lost += 1


@implementer(IHandshakeListener)
class _Client(protocol.Protocol):
    def __init__(self):
        self.done = defer.Deferred()
        self.version = None

    def connectionMade(self):
        self.transport.write(b"ping")

    def handshakeCompleted(self):
        self.version = self.transport.getHandle().get_protocol_version_name()

    def dataReceived(self, data):
        if not self.done.called:
            self.done.callback(("ok", self.version))
        self.transport.loseConnection()

    def connectionLost(self, reason):
        if not self.done.called:
            self.done.callback(("failed", reason.getErrorMessage()))


class HandshakeTests(unittest.TestCase):
    """Real handshakes on 127.0.0.1 between the proxier's client and a simulated device's server."""

    def serve(self, certificate=None, knobs=None, plain=False):
        if certificate is None:
            certificate = makeCertificate(UDN, uris=(UDN,))
        factory = protocol.Factory.forProtocol(_Server)
        factory.connections, factory.received, factory.lost = [], [], 0
        if plain:
            port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        else:
            port = reactor.listenSSL(0, factory, ServerTLS(certificate[0], certificate[1], knobs or TLSKnobs()),
                                     interface="127.0.0.1")
        self.addCleanup(port.stopListening)

        def closeAll():
            for p in factory.connections:
                if p.transport is not None and p.transport.connected:
                    p.transport.abortConnection()

        self.addCleanup(closeAll)
        return port.getHost().port, factory, certificate

    @defer.inlineCallbacks
    def connect(self, port, trust, cas=()):
        verdicts = []
        tls = ClientTLS(credentials(), cas)
        endpoint = wrapClientTLS(tls.creator(trust, verdicts.append), TCP4ClientEndpoint(reactor, "127.0.0.1", port,
                                                                                             timeout=5))
        client = _Client()
        connected = yield endpoint.connect(protocol.Factory.forProtocol(lambda: client))
        result = yield client.done.addTimeout(10, reactor)
        connected.transport.abortConnection() if connected.transport is not None else None
        return result, verdicts

    def trust(self, **kw):
        return DeviceTrust(UDN, "127.0.0.1", now=time.time, **kw)

    @defer.inlineCallbacks
    def test_firstUseThenPinned(self):
        """A device's certificate is accepted on first use, and again when it is the one pinned; TLS ≥ 1.2."""
        port, server, (certificate, _) = self.serve()
        (outcome, version), verdicts = yield self.connect(port, self.trust())
        self.assertEqual(outcome, "ok")
        self.assertIn(version, ("TLSv1.2", "TLSv1.3"))
        self.assertEqual((verdicts[-1].kind, verdicts[-1].how), ("ok", "first-use"))
        self.assertEqual(verdicts[-1].fingerprint, fingerprint(der(certificate)))
        (outcome, _), verdicts = yield self.connect(port, self.trust(pinned=fingerprint(der(certificate))))
        self.assertEqual((outcome, verdicts[-1].how), ("ok", "pinned"))
        self.assertEqual(server.received, [b"ping", b"ping"])

    @defer.inlineCallbacks
    def test_clientCertificatePresented(self):
        """The device sees the proxier's certificate: its CPID is the proxier's."""
        seen = []

        class Recording(_Server):
            def dataReceived(self, data):
                seen.append(self.transport.getPeerCertificate().to_cryptography())
                _Server.dataReceived(self, data)

        certificate = makeCertificate(UDN, uris=(UDN,))
        factory = protocol.Factory.forProtocol(Recording)
        factory.connections, factory.received, factory.lost = [], [], 0
        port = reactor.listenSSL(0, factory, ServerTLS(certificate[0], certificate[1], TLSKnobs()),
                                 interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        (outcome, _), _ = yield self.connect(port.getHost().port, self.trust())
        self.assertEqual(outcome, "ok")
        self.assertEqual(codec.cpid(der(seen[0])), credentials().cpid)

    @defer.inlineCallbacks
    def test_pinMismatch(self):
        """Another certificate than the pinned one: the handshake fails, the verdict says so, no data reaches it."""
        port, server, _ = self.serve()
        (outcome, why), verdicts = yield self.connect(port, self.trust(pinned="SHA256:00"))
        self.assertEqual(outcome, "failed")
        self.assertEqual(verdicts[-1].kind, "pin-mismatch")
        self.assertEqual(server.received, [])

    @defer.inlineCallbacks
    def test_expired(self):
        """An expired device certificate is refused in the handshake."""
        expired = makeCertificate(UDN, uris=(UDN,), start=NOW - datetime.timedelta(days=30), days=10)
        port, server, _ = self.serve(expired)
        (outcome, _), verdicts = yield self.connect(port, self.trust())
        self.assertEqual((outcome, verdicts[-1].kind), ("failed", "expired"))
        self.assertEqual(server.received, [])

    @defer.inlineCallbacks
    def test_namesAnotherDevice(self):
        """A certificate naming another UDN (a device lying about who it is) is refused."""
        other = makeCertificate("uuid:99999999-2222-5333-8444-555555555555")
        port, server, _ = self.serve(other)
        (outcome, _), verdicts = yield self.connect(port, self.trust())
        self.assertEqual((outcome, verdicts[-1].kind), ("failed", "claims"))
        self.assertEqual(server.received, [])

    @defer.inlineCallbacks
    def test_downgradeToOldTLS(self):
        """A device offering only TLS 1.0/1.1 fails the handshake: nothing older than TLS 1.2 is accepted."""
        port, server, _ = self.serve(knobs=TLSKnobs(maxVersion=SSL.TLS1_1_VERSION))
        (outcome, why), _ = yield self.connect(port, self.trust())
        self.assertEqual(outcome, "failed")
        self.assertIn("TLS 1.2", describeTLSFailure(why))
        self.assertEqual(server.received, [])

    @defer.inlineCallbacks
    def test_nullCiphers(self):
        """A device offering only NULL cipher suites fails the handshake."""
        port, server, _ = self.serve(makeCertificate(UDN, rsa=True), TLSKnobs(ciphers="NULL-SHA256:@SECLEVEL=0"))
        (outcome, why), _ = yield self.connect(port, self.trust())
        self.assertEqual(outcome, "failed")
        self.assertIn("cipher", describeTLSFailure(why))
        self.assertEqual(server.received, [])

    @defer.inlineCallbacks
    def test_plainHTTPWhereTLSWasAnnounced(self):
        """A plain TCP server where TLS was announced fails the handshake; no HTTP request goes out in clear."""
        port, server, _ = self.serve(plain=True)
        (outcome, why), verdicts = yield self.connect(port, self.trust())
        self.assertEqual(outcome, "failed")
        self.assertEqual(verdicts, [])
        self.assertTrue(all(not d.startswith(b"ping") for d in server.received))

    @defer.inlineCallbacks
    def test_unjudgeableCertificate(self):
        """A verdict that cannot be reached (the judge raises) refuses the certificate; nothing escapes the callback."""
        port, server, _ = self.serve()

        class Broken(DeviceTrust):
            def _judge(self, chain, chainVerified):
                raise ValueError("a certificate extension that cannot be parsed")

        trust = Broken(UDN, "127.0.0.1", now=time.time)
        (outcome, _), verdicts = yield self.connect(port, trust)
        self.assertEqual((outcome, verdicts[-1].kind), ("failed", "claims"))
        self.assertIn("cannot be read", verdicts[-1].reason)
        self.assertEqual(server.received, [])

    @defer.inlineCallbacks
    def test_caSignedDevice(self):
        """A device certificate from a configured device CA is trusted by it when it names the device's address."""
        ca = makeCertificate("Operator Device CA", ca=True)
        signed = makeCertificate("device", issuer=ca, addresses=("127.0.0.1",), uris=(UDN,))
        port, _, _ = self.serve(signed)
        (outcome, _), verdicts = yield self.connect(port, self.trust(caCertificates=[ca[0]]), cas=[ca[0]])
        self.assertEqual((outcome, verdicts[-1].how), ("ok", "ca"))

    @defer.inlineCallbacks
    def test_caSignedForAnotherAddress(self):
        """A CA-signed certificate naming another address is refused (service-identity)."""
        ca = makeCertificate("Operator Device CA", ca=True)
        signed = makeCertificate("device", issuer=ca, addresses=("10.0.0.9",))
        port, server, _ = self.serve(signed)
        (outcome, _), verdicts = yield self.connect(port, self.trust(caCertificates=[ca[0]]), cas=[ca[0]])
        self.assertEqual((outcome, verdicts[-1].kind), ("failed", "claims"))
        self.assertEqual(server.received, [])

    @defer.inlineCallbacks
    def test_unknownCAFallsBackToPin(self):
        """A certificate from another CA than the configured ones is treated as self-signed: pinned on first use."""
        ca, other = makeCertificate("Operator Device CA", ca=True), makeCertificate("Other CA", ca=True)
        signed = makeCertificate("device", issuer=other, addresses=("10.0.0.9",))
        port, _, _ = self.serve(signed)
        (outcome, _), verdicts = yield self.connect(port, self.trust(caCertificates=[ca[0]]), cas=[ca[0]])
        self.assertEqual((outcome, verdicts[-1].how), ("ok", "first-use"))


class ContextTests(unittest.SynchronousTestCase):
    """The client context's settings."""

    def test_settings(self):
        """TLS 1.2 minimum, no renegotiation, no compression, the proxier's certificate loaded."""
        context = ClientTLS(credentials()).context(DeviceTrust(UDN, "127.0.0.1", now=time.time))
        options = context.set_options(0)
        self.assertTrue(options & SSL.OP_NO_RENEGOTIATION)
        self.assertTrue(options & SSL.OP_NO_COMPRESSION)
        connection = SSL.Connection(context, None)
        names = connection.get_cipher_list()
        for weak in ("NULL", "RC4", "DES-CBC3", "EXP", "MD5", "ADH", "AECDH"):
            self.assertFalse([n for n in names if weak in n], weak)
        self.assertIn("AES128-SHA", names)  # the RSA suite older DeviceProtection stacks need

    def test_cipherStringRefusesWeak(self):
        """The cipher string itself excludes NULL, export, RC4, DES, MD5 and anonymous suites."""
        for token in ("!aNULL", "!eNULL", "!EXPORT", "!RC4", "!DES", "!3DES", "!MD5"):
            self.assertIn(token, CIPHERS)


class TrustTests(unittest.SynchronousTestCase):
    """L{DeviceTrust.verify} on its own."""

    def trust(self, **kw):
        return DeviceTrust(UDN, "127.0.0.1", now=lambda: NOW.timestamp(), **kw)

    def test_noCertificate(self):
        """A device that presents no certificate is refused."""
        self.assertEqual(self.trust().verify([], False).kind, "no-certificate")

    def test_notYetValid(self):
        """A certificate whose validity starts tomorrow is refused."""
        future = makeCertificate(UDN, start=NOW + datetime.timedelta(days=1))[0]
        self.assertEqual(self.trust().verify([future], False).kind, "not-yet-valid")

    def test_presentedKept(self):
        """The last presented certificate and verdict are kept for the security layer."""
        certificate = makeCertificate(UDN)[0]
        trust = self.trust()
        verdict = trust.verify([certificate], False)
        self.assertEqual(trust.presented, der(certificate))
        self.assertIs(trust.verdict, verdict)

    def test_udnClaims(self):
        """UDNs are read from a uuid: common name and from uuid: URIs; a matching claim passes."""
        certificate = makeCertificate(UDN.upper(), uris=(UDN, "https://example.invalid/"))[0]
        self.assertEqual(certificateUDNs(certificate), {UDN})
        self.assertTrue(self.trust().verify([certificate], False).ok)
        self.assertEqual(certificateUDNs(makeCertificate("plain name")[0]), set())

    def test_caSignedWithoutAddress(self):
        """A CA-verified certificate without any address or name is refused."""
        ca = makeCertificate("CA", ca=True)
        signed = makeCertificate("device", issuer=ca)[0]
        verdict = self.trust(caCertificates=[ca[0]]).verify([signed, ca[0]], True)
        self.assertEqual(verdict.kind, "claims")

    def test_caSignedHostName(self):
        """A device reached by name: service-identity checks the CA-signed certificate's DNS names."""
        ca = makeCertificate("CA", ca=True)
        signed = makeCertificate("device", issuer=ca, names=("device.lan.example",))[0]
        good = DeviceTrust(UDN, "device.lan.example", now=lambda: NOW.timestamp(), caCertificates=[ca[0]])
        bad = DeviceTrust(UDN, "other.lan.example", now=lambda: NOW.timestamp(), caCertificates=[ca[0]])
        self.assertEqual(good.verify([signed], True).how, "ca")
        self.assertEqual(bad.verify([signed], True).kind, "claims")

    def test_describeFailures(self):
        """OpenSSL's words become a short reason for the log."""
        self.assertIn("plain HTTP", describeTLSFailure("[('SSL routines', '', 'wrong version number')]"))
        self.assertIn("TLS 1.2", describeTLSFailure("tlsv1 alert protocol version"))
        self.assertIn("cipher", describeTLSFailure("sslv3 alert handshake failure"))
        self.assertIn("no TLS answer", describeTLSFailure("GET https://x/: no answer within 2 s"))
        self.assertEqual(describeTLSFailure("something else"), "something else")
