# -*- test-case-name: tests.test_printer_ippclient -*-
"""
Trust on first use for IPPS printers.

A printer's certificate is nearly always self-signed (ippeveprinter and
CUPS make their own; office printers ship one), so no CA can vouch for it.
What the proxier can promise is that the printer it talks to tomorrow is
the one it talked to today: at the first TLS connection to C{host:port} the
SHA-256 of the certificate's SubjectPublicKeyInfo is recorded in a durable
document (L{proxier.store}); later connections must present the same key,
else the handshake is refused and the mismatch logged with both hashes. A
re-keyed printer is accepted again after the operator removes its pin
(L{CertificatePins.forget}). The SPKI, not the whole certificate, is pinned,
so a printer that renews its certificate on the same key stays trusted.
"""

from __future__ import annotations

import hashlib
from typing import Any, Optional

from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.logger import Logger
from zope.interface import implementer

__all__ = ["CertificatePins", "PinnedTLS", "spkiHash"]


def spkiHash(certificate: Any) -> str:
    """The hex SHA-256 of a certificate's DER SubjectPublicKeyInfo (C{cryptography} or pyOpenSSL X509)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if hasattr(certificate, "to_cryptography"):
        certificate = certificate.to_cryptography()
    der = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


class CertificatePins:
    """
    C{"host:port"} → pinned SPKI hash, kept in a store document.

    @param document: a L{proxier.store.Document}, or C{None} to keep the pins
        in memory only (tests).
    @ivar mismatches: C{key → (pinned, presented)} of the last refusal per key.
    """

    log = Logger()

    def __init__(self, document: Any = None) -> None:
        self._document = document
        self.mismatches: dict[str, tuple[str, str]] = {}
        loaded = document.load({}, validate=self._validate) if document is not None else {}
        self._pins: dict[str, str] = dict(loaded)

    @staticmethod
    def _validate(payload: Any) -> None:
        if not isinstance(payload, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in payload.items()):
            raise ValueError("not a map of host:port to SPKI hashes")

    def pinned(self, key: str) -> Optional[str]:
        return self._pins.get(key)

    def check(self, key: str, presented: str) -> bool:
        """
        Whether C{presented} is acceptable for C{key}: it is the pinned hash,
        or nothing was pinned yet (then it is pinned now, durably).
        """
        pinned = self._pins.get(key)
        if pinned is None:
            self._pins[key] = presented
            self._save()
            self.log.info("IPPS {key}: certificate key pinned on first use (SPKI SHA-256 {spki})", key=key,
                          spki=presented)
            return True
        if pinned == presented:
            return True
        self.mismatches[key] = (pinned, presented)
        self.log.error("IPPS {key}: the printer presents another key (SPKI SHA-256 {presented}, pinned {pinned}); "
                       "refused. If the printer was re-keyed, remove its pin", key=key, presented=presented,
                       pinned=pinned)
        return False

    def forget(self, key: str) -> None:
        """Drop a pin: the next connection pins again."""
        if self._pins.pop(key, None) is not None:
            self._save()

    def _save(self) -> None:
        if self._document is not None:
            try:
                self._document.save(dict(self._pins))
            except OSError:
                pass  # the store logged it; the pin holds in memory for this run

    def creator(self, host: str, port: int) -> "PinnedTLS":
        """A TLS connection creator for C{host:port} (the L{EndpointFactory.tls} signature)."""
        return PinnedTLS(self, f"{host}:{port}", host)


@implementer(IOpenSSLClientConnectionCreator)
class PinnedTLS:
    """A client TLS connection that accepts the server's key only through L{CertificatePins.check}."""

    def __init__(self, pins: CertificatePins, key: str, serverName: str) -> None:
        self.pins = pins
        self.key = key
        self.serverName = serverName

    def _verify(self, connection: Any, certificate: Any, errno: int, depth: int, ok: int) -> bool:
        if depth != 0:
            return True  # the chain means nothing here: only the leaf's key is pinned
        try:
            presented = spkiHash(certificate)
        except Exception:  # an unreadable key is no key
            return False
        return self.pins.check(self.key, presented)

    def clientConnectionForTLS(self, tlsProtocol: Any) -> Any:
        import ipaddress

        from OpenSSL import SSL

        context = SSL.Context(SSL.TLS_METHOD)
        context.set_options(SSL.OP_NO_SSLv2 | SSL.OP_NO_SSLv3 | SSL.OP_NO_TLSv1 | SSL.OP_NO_TLSv1_1)
        context.set_verify(SSL.VERIFY_PEER, self._verify)
        connection = SSL.Connection(context, None)
        connection.set_app_data(tlsProtocol)
        try:
            ipaddress.ip_address(self.serverName)
        except ValueError:
            connection.set_tlsext_host_name(self.serverName.encode("idna"))
        connection.set_connect_state()
        return connection
