# -*- test-case-name: tests.test_cwmp_transport,tests.test_cwmp_connections -*-
"""
HTTPS towards the ACS: the trust root and client certificate the C{[acs]}
section names, and the HTTP agents towards the ACS.

A CWMP session owns its TCP connection (INTEROP §CWMP 6, TR-069 3.4.1): an
ACS such as GenieACS binds a session to the connection it began on, and a
request of one session arriving on another session's connection gets 400
"Invalid session" and ends both. So L{ACSAgent.sessionAgent} gives every
session an agent with a connection pool of its own (at most one persistent
connection, never shared), closed when the session ends; a connection the
ACS closes (C{Connection: close}, a drop) is replaced by a new one of the
same session. The L{ACSAgent} itself still serves one-off requests (file
transfers) over a pool of their own.

The ACS certificate is verified against C{ca_file} (or the platform's trust
store) and its name against the URL's host through service-identity, by
L{twisted.internet.ssl.optionsForClientTLS} (TR-069 3.4.3: the CPE MUST
verify the ACS certificate). An optional client certificate authenticates the
CPE. Keys and certificates are read through Twisted's own loaders; pyOpenSSL
is used for nothing else. With an http:// ACS they are read at the first
https connection (a transfer, a redirect, a new URL), so that pyOpenSSL is
not loaded for nothing (L{proxier.deferredtls}); the files are still checked
at start as far as that needs no pyOpenSSL (readable, holding PEM blocks).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from proxier import deferredtls
from proxier.interfaces import IACSAgent, ISessionAgent
from proxier.pem import TLSConfigError, certificateBlocks, loadCertificateAndKey, readPEM

__all__ = ["ACSTLSPolicy", "ACSAgent", "SessionAgent", "loadTrustRoot", "makeACSAgent"]


def loadTrustRoot(caFile: str = "") -> Any:
    """
    The trust root for ACS certificates: every certificate in the PEM file
    C{caFile}, or the platform's trust store when it is empty.
    """
    ssl = deferredtls.ssl()
    if not caFile:
        return ssl.platformTrust()
    blocks = _trustBlocks(caFile)
    try:
        return ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(b) for b in blocks])
    except Exception as e:
        raise TLSConfigError(f"{caFile}: unreadable certificate ({e})") from None


def _trustBlocks(caFile: str) -> list[bytes]:
    blocks = certificateBlocks(readPEM(caFile))
    if not blocks:
        raise TLSConfigError(f"{caFile}: no PEM certificate in it")
    return blocks


@implementer(IPolicyForHTTPS)
class ACSTLSPolicy:
    """
    Verify the ACS against C{trustRoot} and its URL's host name; present
    C{clientCertificate} (a L{twisted.internet.ssl.PrivateCertificate}).

    @param load: when given, makes C{(trustRoot, clientCertificate)} at the
        first https connection (L{TLSConfigError}: that connection fails).
    """

    def __init__(self, trustRoot: Any = None, clientCertificate: Any = None, *,
                 load: Optional[Callable[[], tuple[Any, Any]]] = None) -> None:
        self.trustRoot = trustRoot
        self.clientCertificate = clientCertificate
        self._load = load

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        if self._load is not None:
            self.trustRoot, self.clientCertificate = self._load()
            self._load = None
        name = hostname.decode("idna") if isinstance(hostname, bytes) else hostname
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1]
        return deferredtls.ssl().optionsForClientTLS(name, trustRoot=self.trustRoot,
                                                     clientCertificate=self.clientCertificate)


@implementer(ISessionAgent)
class SessionAgent:
    """
    The L{IAgent} of one CWMP session: its own connection pool, holding at
    most one persistent connection, that no other session ever uses.

    @ivar pool: the session's L{HTTPConnectionPool}.
    """

    def __init__(self, reactor: Any, policy: IPolicyForHTTPS, connectTimeout: float, persistent: bool) -> None:
        self.pool = HTTPConnectionPool(reactor, persistent=persistent)
        self.pool.maxPersistentPerHost = 1
        self._agent = Agent(reactor, contextFactory=policy, pool=self.pool, connectTimeout=connectTimeout)

    def request(self, method: bytes, uri: bytes, headers: Any = None, bodyProducer: Any = None) -> Deferred:
        """See L{IAgent.request}."""
        return self._agent.request(method, uri, headers, bodyProducer)

    def close(self) -> Deferred:
        """Close the session's connection; fires once it is closed."""
        return self.pool.closeCachedConnections()


@implementer(IACSAgent)
class ACSAgent:
    """
    The agents towards the ACS, all with the TLS policy of the C{[acs]}
    section: L{sessionAgent} for each CWMP session, and L{request} for
    one-off requests (file transfers), over a pool of their own.
    """

    def __init__(self, reactor: Any, policy: IPolicyForHTTPS, connectTimeout: float,
                 pool: Optional[HTTPConnectionPool] = None) -> None:
        self._reactor = reactor
        self.policy = policy
        self._connectTimeout = connectTimeout
        self._sessionsPersistent = pool is None or bool(pool.persistent)
        if pool is None:
            pool = HTTPConnectionPool(reactor, persistent=True)
            pool.maxPersistentPerHost = 4
            pool.cachedConnectionTimeout = 60
        self.pool = pool
        self._agent = Agent(reactor, contextFactory=policy, pool=pool, connectTimeout=connectTimeout)

    def request(self, method: bytes, uri: bytes, headers: Any = None, bodyProducer: Any = None) -> Deferred:
        """A one-off request (never a CWMP session's: see L{sessionAgent})."""
        return self._agent.request(method, uri, headers, bodyProducer)

    def sessionAgent(self) -> SessionAgent:
        """
        A new agent for one CWMP session (its own connection; with a
        non-persistent pool given to L{makeACSAgent}, a new connection for
        every request, as tests ask).
        """
        return SessionAgent(self._reactor, self.policy, self._connectTimeout, self._sessionsPersistent)


def makeACSAgent(reactor: Any, acs: Mapping[str, Any], *, pool: Optional[HTTPConnectionPool] = None) -> ACSAgent:
    """
    The agents towards the ACS, from the C{[acs]} config section
    (C{ca_file}, C{client_certificate}, C{client_key}, C{request_timeout}).
    C{pool} serves one-off requests; when it is not persistent, sessions do
    not keep their connection either. The files are read now when the ACS's
    URL is https, else at the first https connection (see the module).

    @raise TLSConfigError: when a file cannot be used.
    """
    caFile, certificate, key = acs.get("ca_file", ""), acs.get("client_certificate", ""), acs.get("client_key", "")

    def load() -> tuple[Any, Any]:
        return loadTrustRoot(caFile), loadCertificateAndKey(certificate, key)

    if urlsplit(acs.get("url", "")).scheme.lower() == "https":
        policy = ACSTLSPolicy(*load())
    else:
        if caFile:
            _trustBlocks(caFile)
        if certificate:
            readPEM(certificate)
            readPEM(key)
        policy = ACSTLSPolicy(load=load)
    return ACSAgent(reactor, policy, acs.get("request_timeout", 30), pool)
