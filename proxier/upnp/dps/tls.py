# -*- test-case-name: tests.test_dps_tls -*-
"""
TLS towards DeviceProtection devices: the client side of every connection
to a device that announced SECURELOCATION.UPNP.ORG (TR-330 §2.3: "the
communication between the Control Point function of a CPE Proxier and a
Proxied Device is secured via TLS").

Each connection gets a pyOpenSSL context of its own (through Twisted's
L{IOpenSSLClientConnectionCreator}, which the control point's HTTP endpoint
factory wraps around the TCP endpoint):

 - TLS 1.2 or newer only (a device offering only TLS 1.0/1.1 fails the
   handshake), renegotiation and compression off, and a cipher list of
   forward-secret AEAD suites first, then the RSA-key-exchange AES suites
   older DeviceProtection stacks need (DeviceProtection:1 dates from the
   TLS 1.0 era); never NULL, export, DES, 3DES, RC4, MD5 or anonymous
   suites;
 - the proxier's certificate and key (L{proxier.upnp.dps.cpidentity}) as the
   client certificate — the device knows the proxier by it;
 - the device's certificate judged by L{DeviceTrust} inside the handshake,
   so that a refused device never receives a byte of HTTP: it must be
   within its validity period; it must not name another device (a UUID in
   its common name or as a C{uuid:} URI in its subjectAltName must be the
   device's UDN); then either it chains to a CA of C{[upnp]
   dps_device_ca_file} (carrier-provisioned devices) and names the
   address the device is reached at (service-identity), or it is the
   certificate pinned for that UDN on first use (the usual self-signed
   case). A certificate that differs from the pin is the verdict
   C{"pin-mismatch"}: the security layer quarantines the device.

Nothing here talks to the network by itself; L{DeviceTrust.verify} is a
plain function of the presented chain, tested on its own.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.logger import Logger
from zope.interface import implementer

from proxier.upnp.dps.cpidentity import Credentials, fingerprint, notAfter, notBefore

__all__ = [
    "CIPHERS",
    "Verdict",
    "DeviceTrust",
    "ClientTLS",
    "loadCAFile",
    "certificateUDNs",
    "describeTLSFailure",
]

_log = Logger()

#: OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are all acceptable).
CIPHERS = (
    "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:ECDHE+AES:RSA+AESGCM:RSA+AES"
    ":!aNULL:!eNULL:!NULL:!EXPORT:!LOW:!DES:!3DES:!RC4:!MD5:!PSK:!SRP:!DSS:!CAMELLIA:!SEED:!IDEA"
)


@dataclass(frozen=True)
class Verdict:
    """
    What was decided about one presented certificate.

    @ivar kind: C{"ok"}, C{"pin-mismatch"}, C{"expired"}, C{"not-yet-valid"},
        C{"claims"} (it names another device or address) or
        C{"no-certificate"}.
    @ivar how: for C{"ok"}: C{"ca"} (chains to a configured device CA),
        C{"pinned"} (matches the pin) or C{"first-use"} (no pin yet).
    """

    kind: str
    reason: str = ""
    fingerprint: str = ""
    der: bytes = b""
    how: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def certificateUDNs(certificate: Any) -> set[str]:
    """The UDNs a certificate claims: a C{uuid:} common name or C{uuid:} URIs in its subjectAltName."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    claims: set[str] = set()
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        value = str(attribute.value).strip().lower()
        if value.startswith("uuid:"):
            claims.add(value)
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return claims
    for uri in names.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.lower().startswith("uuid:"):
            claims.add(uri.strip().lower())
    return claims


def loadCAFile(path: str) -> list[Any]:
    """The certificates of a PEM CA file (for L{DeviceTrust}); C{ValueError} when none."""
    from proxier.upnp.dps.cpidentity import _loadAll

    with open(path, "rb") as f:
        return _loadAll(f.read(4 * 1024 * 1024))


class DeviceTrust:
    """
    What one device's certificate must be (see the module docstring).

    @ivar udn: the device's root UDN (lower case).
    @ivar address: the address it is reached at (service-identity checks it
        for CA-signed certificates).
    @ivar pinned: the fingerprint pinned for this UDN, or C{None} (first use).
    @ivar verdict: the last verdict (read by the security layer after a
        handshake failed).
    @ivar presented: the DER of the last certificate the device presented.
    """

    def __init__(self, udn: str, address: str, *, pinned: Optional[str] = None, caCertificates: Sequence[Any] = (),
                 now: Callable[[], float]) -> None:
        self.udn = udn.lower()
        self.address = address
        self.pinned = pinned
        self.caCertificates = list(caCertificates)
        self.now = now
        self.verdict: Optional[Verdict] = None
        self.presented = b""

    def verify(self, chain: Sequence[Any], chainVerified: bool) -> Verdict:
        """
        Judge a presented chain (C{cryptography} certificates, leaf first).

        @param chainVerified: OpenSSL verified the chain against the
            configured device CAs without error.
        """
        from cryptography.hazmat.primitives.serialization import Encoding

        verdict = self._judge(chain, chainVerified)
        if chain:
            self.presented = chain[0].public_bytes(Encoding.DER)
        self.verdict = verdict
        return verdict

    def _judge(self, chain: Sequence[Any], chainVerified: bool) -> Verdict:
        from cryptography.hazmat.primitives.serialization import Encoding

        if not chain:
            return Verdict("no-certificate", "the device presented no certificate")
        leaf = chain[0]
        der = leaf.public_bytes(Encoding.DER)
        fp = fingerprint(der)
        now = datetime.datetime.fromtimestamp(self.now(), datetime.timezone.utc)
        if now > notAfter(leaf):
            return Verdict("expired", f"its certificate expired on {notAfter(leaf).isoformat()}", fp, der)
        if now < notBefore(leaf):
            return Verdict("not-yet-valid", f"its certificate is valid only from {notBefore(leaf).isoformat()}",
                           fp, der)
        claims = certificateUDNs(leaf)
        if claims and self.udn not in claims:
            return Verdict("claims", f"its certificate names {', '.join(sorted(claims))}, not {self.udn}", fp, der)
        if chainVerified and self.caCertificates:
            refusal = self._identityRefusal(leaf)
            if refusal:
                return Verdict("claims", refusal, fp, der)
            return Verdict("ok", "", fp, der, "ca")
        if self.pinned is None:
            return Verdict("ok", "", fp, der, "first-use")
        if fp != self.pinned:
            return Verdict("pin-mismatch", f"its certificate {fp} is not the one pinned ({self.pinned})", fp, der)
        return Verdict("ok", "", fp, der, "pinned")

    def _identityRefusal(self, leaf: Any) -> str:
        """
        A CA-signed device certificate must name what the device is reached
        at: an address among its iPAddress entries (compared exactly, RFC
        6125; service-identity 18.1 fails on certificates that also carry
        the uuid: URIs DeviceProtection devices use), a host name through
        service-identity.
        """
        from cryptography import x509

        try:
            wanted = ipaddress.ip_address(self.address.partition("%")[0])
        except ValueError:
            from service_identity import VerificationError
            from service_identity.cryptography import verify_certificate_hostname

            try:
                verify_certificate_hostname(leaf, self.address)
            except VerificationError as e:
                return f"its CA-signed certificate does not name {self.address} ({e})"
            except Exception as e:  # a certificate service-identity cannot read names nothing usable
                return f"its CA-signed certificate names no usable identity ({type(e).__name__})"
            return ""
        try:
            names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            addresses = names.get_values_for_type(x509.IPAddress)
        except x509.ExtensionNotFound:
            addresses = []
        if wanted not in addresses:
            named = ", ".join(str(a) for a in addresses) or "no address"
            return f"its CA-signed certificate names {named}, not {wanted}"
        return ""


def _useCertificate(context: Any, certificate: Any) -> None:
    """pyOpenSSL 24.3+ takes cryptography objects (and deprecates its own); 23.0 needs X509."""
    try:
        context.use_certificate(certificate)
    except TypeError:
        from OpenSSL.crypto import X509

        context.use_certificate(X509.from_cryptography(certificate))


def _usePrivateKey(context: Any, key: Any) -> None:
    try:
        context.use_privatekey(key)
    except TypeError:
        from OpenSSL.crypto import PKey

        context.use_privatekey(PKey.from_cryptography_key(key))


def _addChain(context: Any, certificate: Any) -> None:
    try:
        context.add_extra_chain_cert(certificate)
    except TypeError:
        from OpenSSL.crypto import X509

        context.add_extra_chain_cert(X509.from_cryptography(certificate))


def _addCA(context: Any, certificate: Any) -> None:
    store = context.get_cert_store()
    try:
        store.add_cert(certificate)
    except TypeError:
        from OpenSSL.crypto import X509

        store.add_cert(X509.from_cryptography(certificate))


@implementer(IOpenSSLClientConnectionCreator)
class _Creator:
    def __init__(self, tls: "ClientTLS", trust: DeviceTrust, onVerdict: Optional[Callable[[Verdict], None]]) -> None:
        self.tls = tls
        self.trust = trust
        self.onVerdict = onVerdict

    def clientConnectionForTLS(self, tlsProtocol: Any) -> Any:
        from OpenSSL import SSL

        connection = SSL.Connection(self.tls.context(self.trust, self.onVerdict), None)
        connection.set_app_data(tlsProtocol)
        return connection


class ClientTLS:
    """
    The TLS client side towards devices.

    @ivar credentials: what the proxier presents (replaced on renewal).
    @ivar caCertificates: the configured device CAs (C{cryptography} certificates).
    """

    def __init__(self, credentials: Credentials, caCertificates: Sequence[Any] = (), *,
                 ciphers: str = CIPHERS) -> None:
        self.credentials = credentials
        self.caCertificates = list(caCertificates)
        self.ciphers = ciphers

    def context(self, trust: DeviceTrust, onVerdict: Optional[Callable[[Verdict], None]] = None) -> Any:
        """A fresh context for one connection to the device C{trust} describes."""
        from OpenSSL import SSL

        context = SSL.Context(SSL.TLS_METHOD)
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.set_options(SSL.OP_NO_COMPRESSION | SSL.OP_NO_RENEGOTIATION | SSL.OP_NO_TICKET)
        context.set_cipher_list(self.ciphers.encode("ascii"))
        _useCertificate(context, self.credentials.certificate)
        _usePrivateKey(context, self.credentials.key)
        for certificate in self.credentials.chain:
            _addChain(context, certificate)
        context.check_privatekey()
        for certificate in self.caCertificates:
            _addCA(context, certificate)
        chain: dict[int, Any] = {}
        failed: set[int] = set()

        def verify(connection: Any, x509: Any, errno: int, depth: int, ok: int) -> bool:
            try:
                chain[depth] = x509.to_cryptography()
            except Exception:
                return False
            if not ok:
                failed.add(depth)
            if depth != 0:
                return True  # the decision is taken on the leaf, with the whole chain seen
            ordered = [chain[d] for d in sorted(chain)]
            try:  # never raise inside OpenSSL's callback: a certificate that cannot be judged is refused
                verdict = trust.verify(ordered, chainVerified=not failed)
            except Exception as e:
                verdict = Verdict("claims", f"its certificate cannot be read ({type(e).__name__}: {e})")
                trust.verdict = verdict
            if onVerdict is not None:
                try:
                    onVerdict(verdict)
                except Exception:
                    _log.failure("a TLS verdict listener failed")
            return verdict.ok

        context.set_verify(SSL.VERIFY_PEER, verify)
        return context

    def creator(self, trust: DeviceTrust, onVerdict: Optional[Callable[[Verdict], None]] = None) -> Any:
        """An L{IOpenSSLClientConnectionCreator} for connections to one device."""
        return _Creator(self, trust, onVerdict)


def describeTLSFailure(text: str) -> str:
    """A short reason for a failed TLS connection, from OpenSSL's words, for a log line."""
    lowered = text.lower()
    if "wrong version number" in lowered or "packet length too long" in lowered or "record layer failure" in lowered \
            or "http request" in lowered:
        return "it does not speak TLS there (plain HTTP where TLS was announced?)"
    if "unsupported protocol" in lowered or "no protocols available" in lowered or "version too low" in lowered \
            or "protocol version" in lowered:
        return "it offers no TLS version the proxier accepts (TLS 1.2 or newer): a downgrade refused"
    if "no shared cipher" in lowered or "handshake failure" in lowered or "no cipher" in lowered:
        return "it offers no cipher suite the proxier accepts (NULL, export and weak suites are refused)"
    if "certificate verify failed" in lowered:
        return "its certificate was refused"
    if "no answer within" in lowered:
        return ("no TLS answer in time (a plain HTTP server where TLS was announced, or nothing listening): "
                + text[:160])
    return text[:200]
