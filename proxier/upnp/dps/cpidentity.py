# -*- test-case-name: tests.test_dps_identity -*-
"""
The proxier's identity as a DeviceProtection control point: a key pair and
an X.509 certificate, whose hash is the CPID devices know it by
(L{proxier.upnp.dps.codec.cpid}).

Two sources (TR-330 §4.8.1):

 - generated (the retail case): an RSA-2048 key and a self-signed
   certificate (RSA for the widest choice of TLS cipher suites among
   devices), made on first start and kept in the state directory through
   L{proxier.store} (written atomically, mode 0600, checksummed; a
   damaged document is moved aside and a new identity made). It is
   renewed C{[upnp] dps_renew_days} before it expires — which changes the
   CPID, so devices must grant the new one again (introduction), and the
   renewal says so in the log;
 - configured (the carrier case): a certificate signed by the operator's
   CA, its key and an optional chain, named in C{[upnp] dps_certificate},
   C{dps_private_key} and C{dps_certificate_chain}. Problems with the files
   stop the start with a L{ConfigError} naming the key; a certificate that
   expires within C{dps_renew_days} is warned about at start and daily, an
   expired one logged as an error (the proxier keeps running: the operator
   must be able to fix it remotely).
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Optional

from twisted.logger import Logger

from proxier.config import ConfigError
from proxier.pem import certificateBlocks
from proxier.upnp.dps.codec import cpid

__all__ = ["Credentials", "IdentityKeeper", "generateSelfSigned", "loadPEMFiles", "notAfter", "notBefore",
           "fingerprint", "DOCUMENT"]

DOCUMENT = "dps-identity"
_SECTION = "upnp"


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)


def notAfter(certificate: Any) -> datetime.datetime:
    """The end of a certificate's validity, timezone-aware (cryptography 38 and newer)."""
    value = getattr(certificate, "not_valid_after_utc", None)
    return _utc(value if value is not None else certificate.not_valid_after)


def notBefore(certificate: Any) -> datetime.datetime:
    value = getattr(certificate, "not_valid_before_utc", None)
    return _utc(value if value is not None else certificate.not_valid_before)


def fingerprint(der: bytes) -> str:
    """C{SHA256:AB:CD:...}: how certificates are named in logs and in C{dps_accept_certificates}."""
    return "SHA256:" + ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


@dataclass(frozen=True)
class Credentials:
    """
    What the proxier presents over TLS.

    @ivar certificate: a C{cryptography} certificate.
    @ivar key: its private key.
    @ivar chain: intermediate certificates sent along.
    @ivar generated: self-signed and kept in the state directory (else configured).
    """

    certificate: Any
    key: Any
    chain: tuple[Any, ...] = ()
    generated: bool = True

    @property
    def der(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        return self.certificate.public_bytes(Encoding.DER)

    @property
    def cpid(self) -> str:
        return cpid(self.der)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.der)

    @property
    def notAfter(self) -> datetime.datetime:
        return notAfter(self.certificate)

    @property
    def commonName(self) -> str:
        from cryptography.x509.oid import NameOID

        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else ""


def generateSelfSigned(commonName: str, days: int, now: datetime.datetime) -> Credentials:
    """A fresh RSA-2048 key and a self-signed certificate valid from a minute ago for C{days} days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, commonName[:64] or "proxier")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Credentials(certificate, key, (), True)


def _pem(credentials: Credentials) -> dict[str, str]:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return {
        "certificate": credentials.certificate.public_bytes(Encoding.PEM).decode("ascii"),
        "key": credentials.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode("ascii"),
    }


def _fromPEM(payload: Any) -> Credentials:
    """The stored identity; C{ValueError} for anything unusable (the store then moves it aside)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if not isinstance(payload, dict):
        raise ValueError("not an identity document")
    certificate = x509.load_pem_x509_certificate(str(payload["certificate"]).encode("ascii"))
    key = load_pem_private_key(str(payload["key"]).encode("ascii"), password=None)
    _checkPair(certificate, key)
    return Credentials(certificate, key, (), True)


def _checkPair(certificate: Any, key: Any) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    ours = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    theirs = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if ours != theirs:
        raise ValueError("the private key does not belong to the certificate")


def _read(path: str, key: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(1024 * 1024 + 1)
    except OSError as e:
        raise ConfigError(None, _SECTION, key, f"{path}: {e.strerror}") from None
    if len(data) > 1024 * 1024:
        raise ConfigError(None, _SECTION, key, f"{path}: larger than 1 MiB")
    return data


def loadPEMFiles(certificatePath: str, keyPath: str, chainPath: str = "") -> Credentials:
    """
    A configured identity.

    @raise ConfigError: naming the C{[upnp]} key whose file is missing,
        unreadable, not PEM, or whose key does not match the certificate.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if bool(certificatePath) != bool(keyPath):
        missing = "dps_private_key" if certificatePath else "dps_certificate"
        raise ConfigError(None, _SECTION, missing, "dps_certificate and dps_private_key go together")
    try:
        certificate = x509.load_pem_x509_certificate(_read(certificatePath, "dps_certificate"))
    except ValueError as e:
        raise ConfigError(None, _SECTION, "dps_certificate", f"{certificatePath}: not a PEM certificate ({e})") from None
    try:
        key = load_pem_private_key(_read(keyPath, "dps_private_key"), password=None)
    except (ValueError, TypeError) as e:
        raise ConfigError(None, _SECTION, "dps_private_key",
                          f"{keyPath}: not an unencrypted PEM private key ({e})") from None
    try:
        _checkPair(certificate, key)
    except ValueError as e:
        raise ConfigError(None, _SECTION, "dps_private_key", str(e)) from None
    chain: tuple[Any, ...] = ()
    if chainPath:
        data = _read(chainPath, "dps_certificate_chain")
        try:
            chain = tuple(_loadAll(data))
        except ValueError as e:
            raise ConfigError(None, _SECTION, "dps_certificate_chain", f"{chainPath}: {e}") from None
    return Credentials(certificate, key, chain, False)


def _loadAll(data: bytes) -> list[Any]:
    """Every certificate of a PEM bundle (cryptography 38 has no load_pem_x509_certificates)."""
    from cryptography import x509

    blocks = certificateBlocks(data)
    if not blocks:
        raise ValueError("no PEM certificate")
    if len(blocks) > 16:
        raise ValueError("more than 16 certificates")
    return [x509.load_pem_x509_certificate(block) for block in blocks]


class IdentityKeeper:
    """
    Keeps the proxier's credentials valid.

    States: C{unloaded} → (L{load}) C{ready}; each L{check} may renew a
    generated certificate (listeners told) or warn about a configured one.

    @param store: where a generated identity lives (a L{proxier.store.Store});
        C{None}: it lives in memory only (and a new one is made each start).
    @param clock: C{seconds()}.
    """

    log = Logger()

    def __init__(self, settings: Any, store: Any, clock: Any, *, commonName: str = "proxier") -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.commonName = commonName
        self.credentials: Optional[Credentials] = None
        self.state = "unloaded"
        self.listeners: list[Callable[[Credentials], None]] = []

    def _now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock.seconds(), datetime.timezone.utc)

    def load(self) -> Credentials:
        """
        The credentials to use now: the configured ones, or the stored
        generated ones (made, or renewed, as needed).

        @raise ConfigError: the configured files cannot be used.
        """
        s = self.settings
        if s.dpsCertificate or s.dpsPrivateKey:
            credentials = loadPEMFiles(s.dpsCertificate, s.dpsPrivateKey, s.dpsCertificateChain)
            self.credentials = credentials
            self.state = "ready"
            self.log.info("DeviceProtection identity: configured certificate {subject}, CPID {cpid}, valid until "
                          "{until}", subject=credentials.certificate.subject.rfc4514_string(),
                          cpid=credentials.cpid, until=credentials.notAfter.isoformat())
            self._warnExpiry(credentials)
            return credentials
        stored = None
        document = self.store.document(DOCUMENT) if self.store is not None else None
        if document is not None:
            payload = document.load(default=None, validate=_fromPEM)
            stored = _fromPEM(payload) if payload is not None else None
        if stored is not None and not self._dueForRenewal(stored):
            credentials = stored
        else:
            credentials = self._generate(document, renewing=stored)
        self.credentials = credentials
        self.state = "ready"
        self.log.info("DeviceProtection identity: self-signed certificate, CPID {cpid}, fingerprint {fp}, valid "
                      "until {until}", cpid=credentials.cpid, fp=credentials.fingerprint,
                      until=credentials.notAfter.isoformat())
        return credentials

    def _dueForRenewal(self, credentials: Credentials) -> bool:
        return notAfter(credentials.certificate) - self._now() <= datetime.timedelta(days=self.settings.dpsRenewDays)

    def _generate(self, document: Any, renewing: Optional[Credentials]) -> Credentials:
        credentials = generateSelfSigned(self.commonName, self.settings.dpsCertificateDays, self._now())
        if document is not None:
            document.save(_pem(credentials))
        if renewing is not None:
            self.log.warn("DeviceProtection certificate (CPID {old}) expires {when}: renewed, new CPID {new}; "
                          "devices know the proxier by its certificate and must grant the new one again "
                          "(introduction)", old=renewing.cpid, when=renewing.notAfter.isoformat(),
                          new=credentials.cpid)
        elif self.store is None:
            self.log.warn("DeviceProtection identity generated in memory only (no state directory): devices "
                          "will not recognise the proxier after a restart")
        return credentials

    def _warnExpiry(self, credentials: Credentials) -> None:
        left = credentials.notAfter - self._now()
        if left <= datetime.timedelta(0):
            self.log.error("[upnp] dps_certificate expired on {when}: devices will refuse it; install a renewed "
                           "certificate", when=credentials.notAfter.isoformat())
        elif left <= datetime.timedelta(days=self.settings.dpsRenewDays):
            self.log.warn("[upnp] dps_certificate expires on {when} ({days} days): install a renewed certificate",
                          when=credentials.notAfter.isoformat(), days=left.days)

    def check(self) -> Optional[Credentials]:
        """
        The daily check: renew a generated certificate that is due (its new
        credentials returned and the listeners told), warn about a
        configured one that is due.
        """
        credentials = self.credentials
        if credentials is None:
            return None
        if not credentials.generated:
            self._warnExpiry(credentials)
            return None
        if not self._dueForRenewal(credentials):
            return None
        document = self.store.document(DOCUMENT) if self.store is not None else None
        renewed = self._generate(document, renewing=credentials)
        self.credentials = renewed
        for listener in list(self.listeners):
            try:
                listener(renewed)
            except Exception:
                self.log.failure("an identity listener failed")
        return renewed
