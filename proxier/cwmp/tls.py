# -*- test-case-name: tests.test_cwmp_transport -*-
"""
HTTPS towards the ACS: the trust root and client certificate the C{[acs]}
section names, and the HTTP agent every endpoint's sessions share.

The ACS certificate is verified against C{ca_file} (or the platform's trust
store) and its name against the URL's host through service-identity, by
L{twisted.internet.ssl.optionsForClientTLS} (TR-069 3.4.3: the CPE MUST
verify the ACS certificate). An optional client certificate authenticates the
CPE. Keys and certificates are read through Twisted's own loaders; pyOpenSSL
is used for nothing else.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from twisted.internet import ssl
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from proxier.pem import certificateBlocks

__all__ = ["ACSTLSPolicy", "loadTrustRoot", "loadClientCertificate", "makeACSAgent", "TLSConfigError"]


class TLSConfigError(ValueError):
    """A CA file, certificate or key that cannot be used; the text names the file."""


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(1 << 20)
    except OSError as e:
        raise TLSConfigError(f"{path}: {e.strerror}") from None


def loadTrustRoot(caFile: str = "") -> Any:
    """
    The trust root for ACS certificates: every certificate in the PEM file
    C{caFile}, or the platform's trust store when it is empty.
    """
    if not caFile:
        return ssl.platformTrust()
    blocks = certificateBlocks(_read(caFile))
    if not blocks:
        raise TLSConfigError(f"{caFile}: no PEM certificate in it")
    try:
        return ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(b) for b in blocks])
    except Exception as e:
        raise TLSConfigError(f"{caFile}: unreadable certificate ({e})") from None


def loadClientCertificate(certificateFile: str = "", keyFile: str = "") -> Optional[ssl.PrivateCertificate]:
    """The CPE's client certificate with its key, or C{None} when not configured."""
    if not certificateFile:
        return None
    pem = _read(certificateFile) + b"\n" + _read(keyFile)
    try:
        return ssl.PrivateCertificate.loadPEM(pem)
    except Exception as e:
        raise TLSConfigError(f"{certificateFile} / {keyFile}: unusable certificate or key ({e})") from None


@implementer(IPolicyForHTTPS)
class ACSTLSPolicy:
    """Verify the ACS against C{trustRoot} and its URL's host name; present C{clientCertificate}."""

    def __init__(self, trustRoot: Any, clientCertificate: Optional[ssl.PrivateCertificate] = None) -> None:
        self.trustRoot = trustRoot
        self.clientCertificate = clientCertificate

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        name = hostname.decode("idna") if isinstance(hostname, bytes) else hostname
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1]
        return ssl.optionsForClientTLS(name, trustRoot=self.trustRoot, clientCertificate=self.clientCertificate)


def makeACSAgent(reactor: Any, acs: Mapping[str, Any], *, pool: Optional[HTTPConnectionPool] = None) -> Agent:
    """
    The agent for all sessions to the ACS, from the C{[acs]} config section
    (C{ca_file}, C{client_certificate}, C{client_key}, C{request_timeout}).

    @raise TLSConfigError: when a file cannot be used.
    """
    policy = ACSTLSPolicy(loadTrustRoot(acs.get("ca_file", "")),
                          loadClientCertificate(acs.get("client_certificate", ""), acs.get("client_key", "")))
    if pool is None:
        pool = HTTPConnectionPool(reactor, persistent=True)
        pool.maxPersistentPerHost = 4
        pool.cachedConnectionTimeout = 60
    return Agent(reactor, contextFactory=policy, pool=pool, connectTimeout=acs.get("request_timeout", 30))
