# -*- test-case-name: tests.test_cwmp_connreq -*-
"""
The Connection Request server (TR-069 3.2.2): the ACS asks an endpoint for a
session with an HTTP GET on the endpoint's Connection Request URL.

One port serves every endpoint; each has a path of its own (192 random bits,
kept in the state directory, so it does not change across restarts) and
credentials of its own (ManagementServer.ConnectionRequestUsername/Password).
The ACS authenticates with Digest (MD5, C{qop=auth}); the digest C{uri} must
be the request-target exactly as sent, query included (INTEROP §CWMP 7).
Basic is not accepted: it would send the password in clear to a plain-HTTP
port, and the ACSes this proxier meets (GenieACS among them) use Digest
whenever it is offered.

Answers, all at once (GenieACS waits 2 s; the session runs afterwards): 404
for an unknown path (nothing else revealed), 401 with a challenge, 503 when
the endpoint's device is offline (TR-069 Annex J, J.2.3) or when more
requests than C{rate_limit} asked it for a session within C{rate_window}
(TR-069 3.2.2: 503 without Retry-After), 200 when accepted. Only requests
that authenticate are counted, and not those that arrive during a session:
the running session is followed by one more, which serves them. Unauthenticated
requests cost no state (stateless nonces); bodies are not kept; connections
are bounded in number, per peer and in the time to send a request
(L{proxier.httpguard}).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import socket
from collections import deque
from typing import Any, Mapping, Optional, Protocol

from twisted.logger import Logger
from twisted.web.resource import Resource

from proxier.httpauth import MAX_HEADER, DigestServer
from proxier.httpguard import BoundedRequest, GuardedSite
from proxier.store import Document

__all__ = [
    "ConnectionRequestServer",
    "ConnectionRequestResource",
    "IConnectionRequestTarget",
    "connectionRequestPath",
    "ensureCredentials",
    "localAddressToward",
    "formatURL",
    "REALM",
]

REALM = "proxier"
MAX_BODY = 1024  # a Connection Request has no body; a few bytes are tolerated
_PATH = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


class IConnectionRequestTarget(Protocol):
    """
    What the server needs of an endpoint: the Connection Request part of
    L{ICWMPEndpoint<proxier.interfaces.ICWMPEndpoint>} (L{CWMPEndpoint}
    provides it).
    """

    connectionRequestPath: bytes
    online: bool
    inSession: bool
    log: Any

    def connectionRequested(self) -> bool: ...

    def connectionRequestCredentials(self) -> tuple[str, str]: ...


def connectionRequestPath(document: Document) -> bytes:
    """
    The endpoint's Connection Request path (C{b"/<token>"}): the one saved in
    C{document}, or a new one of 192 random bits, saved before it is returned.
    """

    def validate(payload: Any) -> None:
        if not isinstance(payload, dict) or not _PATH.match(str(payload.get("path", ""))):
            raise ValueError("not a Connection Request path")

    saved = document.load(default=None, validate=validate)
    if saved is None:
        saved = {"path": secrets.token_urlsafe(24)}
        # coalesced: the ACS hears of it in an Inform, which waits for the disk (proxier.store)
        document.saveSoon(lambda: saved)
    return b"/" + saved["path"].encode("ascii")


def ensureCredentials(settings: Any, section: Mapping[str, Any]) -> None:
    """
    Give an endpoint the Connection Request credentials the
    C{[connection_request]} section asks for: its own random ones (made once,
    kept in its settings), or the shared ones of the config — taken when the
    config's pair is new, so that credentials the ACS set later are kept.
    """
    if section["credentials"] == "shared":
        # taken when the config names a new pair, not at every start: the
        # ACS may have set others since (issue 17 item 7)
        settings.adopt(connectionRequestUsername=section["username"],
                       connectionRequestPassword=section["password"])
    elif not settings.connectionRequestUsername or not settings.connectionRequestPassword:
        settings.setSoon(connectionRequestUsername="cr-" + secrets.token_hex(6),
                         connectionRequestPassword=secrets.token_urlsafe(18))


def formatURL(host: str, port: int, path: bytes) -> str:
    """C{http://host:port/path}, with brackets around an IPv6 address."""
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"http://{host}:{port}{path.decode('ascii')}"


def localAddressToward(address: str) -> Optional[str]:
    """
    The local address the system routes from towards the IP C{address}, or
    C{None}. Connecting a UDP socket only picks a route: no packet is sent.
    """
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    except ValueError:
        return None
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        s.connect((address, 7547))
        local = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return local.split("%", 1)[0]


class _DiscardedBody(BoundedRequest):
    """A Connection Request has no body: a few bytes are counted and dropped, more end the connection (413)."""

    keepBody = False


class ConnectionRequestResource(Resource):
    """The one resource of the server: every path is looked up among the endpoints."""

    isLeaf = True
    log = Logger()

    def __init__(self, digest: DigestServer, clock: Any, *, rateLimit: int = 10, rateWindow: float = 60.0) -> None:
        """
        @param rateLimit: Connection Requests per endpoint that may start a
            session within C{rateWindow} seconds (0: no limit).
        """
        super().__init__()
        self.endpoints: dict[bytes, IConnectionRequestTarget] = {}
        self.rateLimit = rateLimit
        self.rateWindow = rateWindow
        self._digest = digest
        self._clock = clock
        self._lastWarning: dict[bytes, float] = {}
        self._started: dict[bytes, deque[float]] = {}  # per path: when accepted requests started a session

    def forget(self, path: bytes) -> None:
        """Drop what is kept about the endpoint at C{path} (it was unregistered)."""
        self._lastWarning.pop(path, None)
        self._started.pop(path, None)

    def _overRate(self, path: bytes) -> bool:
        if self.rateLimit <= 0:
            return False
        times = self._started.get(path)
        if times is None:
            return False
        now = self._clock.seconds()
        while times and times[0] <= now - self.rateWindow:
            times.popleft()
        return len(times) >= self.rateLimit

    def _plain(self, request: Any, code: int, text: bytes = b"") -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        request.setHeader(b"Cache-Control", b"no-store")
        return text

    def _challenge(self, request: Any, stale: bool = False) -> bytes:
        request.setHeader(b"WWW-Authenticate", self._digest.challenge(stale=stale).encode("ascii"))
        return self._plain(request, 401, b"authentication required\n")

    def _refused(self, path: bytes, endpoint: Any, why: str) -> None:
        """Log a refused request: a warning now and then, debug otherwise (no log flood from a scanner)."""
        now = self._clock.seconds()
        if now - self._lastWarning.get(path, -1e9) >= 10:
            self._lastWarning[path] = now
            endpoint.log.warn("Connection Request refused: {why}", why=why)
        else:
            self.log.debug("Connection Request refused: {why}", why=why)

    def render(self, request: Any) -> bytes:
        endpoint = self.endpoints.get(request.path)
        if endpoint is None:
            return self._plain(request, 404, b"not found\n")
        if request.method not in (b"GET", b"HEAD"):
            request.setHeader(b"Allow", b"GET")
            return self._plain(request, 405, b"use GET\n")
        header = request.getHeader(b"authorization")
        if header is None:
            return self._challenge(request)
        if len(header) > MAX_HEADER:
            return self._plain(request, 400, b"header too long\n")
        username, password = endpoint.connectionRequestCredentials()
        verdict = self._digest.check(
            request.method.decode("ascii"), request.uri.decode("latin-1"), header.decode("latin-1"),
            lambda user: password if username and user == username else None,
        )
        if verdict.busy:
            self._refused(request.path, endpoint, verdict.reason)
            return self._plain(request, 503, b"busy\n")
        if not verdict.ok:
            self._refused(request.path, endpoint, verdict.reason)
            return self._challenge(request, stale=verdict.stale)
        if not endpoint.online:
            self._refused(request.path, endpoint, "the device is offline")
            return self._plain(request, 503, b"device offline\n")
        # TR-069 3.2.2: a request that arrives during a session is accepted
        # (the endpoint follows the running session with one more, which
        # carries "6 CONNECTION REQUEST") and not counted against the limit:
        # counting it made an ACS that polls a firmware update by Connection
        # Requests see 503, "device offline" (issue 17).
        inSession = bool(endpoint.inSession)
        if not inSession and self._overRate(request.path):
            self._refused(request.path, endpoint,
                          f"more than {self.rateLimit} sessions asked for in {self.rateWindow:g} s")
            return self._plain(request, 503, b"busy\n")  # no Retry-After (TR-069 3.2.2)
        if not endpoint.connectionRequested():
            self._refused(request.path, endpoint, "the endpoint refused it")
            return self._plain(request, 503, b"busy\n")
        if not inSession and self.rateLimit > 0:
            self._started.setdefault(request.path, deque()).append(self._clock.seconds())
        return self._plain(request, 200)


class ConnectionRequestServer:
    """
    The Connection Request HTTP server of all endpoints.

    @ivar port: the TCP port it listens on (known after L{startListening}).
    @ivar urlHost: the host put in Connection Request URLs.
    """

    def __init__(self, *, reactor: Any = None, listenAddress: str = "127.0.0.1", port: int = 7547,
                 urlHost: str = "", realm: str = REALM, maxConnections: int = 64, maxPerPeer: int = 32,
                 requestTimeout: float = 10.0, idleTimeout: float = 10.0, rateLimit: int = 10,
                 rateWindow: float = 60.0, digest: Optional[DigestServer] = None) -> None:
        """
        @param maxConnections: connections open at once; past it a new one
            takes the slot of the oldest one still sending its request.
        @param maxPerPeer: the same, for the connections of one address (of
            one IPv6 /64: a host on the WAN may use any address of its /64).
        @param requestTimeout: seconds a client has to send a whole request.
        @param rateLimit: Connection Requests per endpoint that may start a
            session within C{rateWindow} seconds; more get 503 (0: no limit).
        """
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self._reactor = reactor
        self.listenAddress = listenAddress
        self.port = port
        self.urlHost = urlHost or listenAddress
        self.digest = digest or DigestServer(realm, clock=reactor.seconds)
        self.resource = ConnectionRequestResource(self.digest, reactor, rateLimit=rateLimit, rateWindow=rateWindow)
        self.site = GuardedSite(self.resource, clock=reactor, name="Connection Request server",
                                maxConnections=maxConnections, maxPerPeer=maxPerPeer, ipv6PeerPrefix=64,
                                requestTimeout=requestTimeout,
                                maxBody=MAX_BODY, idleTimeout=idleTimeout)
        self.site.requestFactory = _DiscardedBody
        self.factory = self.site
        self._listening: Any = None

    def register(self, endpoint: IConnectionRequestTarget) -> None:
        """Serve C{endpoint} at its path from now on."""
        path = endpoint.connectionRequestPath
        if not path.startswith(b"/") or path in (b"/", b""):
            raise ValueError(f"not a Connection Request path: {path!r}")
        other = self.resource.endpoints.get(path)
        if other is not None and other is not endpoint:
            raise ValueError("two endpoints with the same Connection Request path")
        self.resource.endpoints[path] = endpoint

    def unregister(self, endpoint: IConnectionRequestTarget) -> None:
        if self.resource.endpoints.get(endpoint.connectionRequestPath) is endpoint:
            del self.resource.endpoints[endpoint.connectionRequestPath]
            self.resource.forget(endpoint.connectionRequestPath)

    def url(self, path: bytes) -> str:
        """The Connection Request URL of the endpoint at C{path}."""
        return formatURL(self.urlHost, self.port, path)

    def startListening(self) -> Any:
        """Listen on C{listenAddress}:C{port} (0: any free port, then known in C{port})."""
        self._listening = self._reactor.listenTCP(self.port, self.factory, interface=self.listenAddress)
        self.port = self._listening.getHost().port
        return self._listening

    @property
    def listening(self) -> bool:
        """Whether the port is bound."""
        return self._listening is not None

    def stopListening(self) -> Any:
        listening, self._listening = self._listening, None
        if listening is None:
            return None
        return listening.stopListening()
