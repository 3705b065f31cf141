# -*- test-case-name: tests.test_console -*-
"""
The console's HTTP server: the C{[console]} section, where it may listen,
who may use it, and the page with its API behind one guarded site.

Where it listens (the rule checked at start, README.rst "The local
console"): a loopback address, or an address that a LAN interface holds
now — one named in C{[lan] interfaces}, or when none is named, one that is
up, not loopback and holds no default route (the WAN's). A wildcard is
never taken: it would serve the WAN too. A later move of the address is
not followed; the next start checks again.

Who: with C{credentials}, HTTP Digest (MD5, C{qop=auth}, the Connection
Request server's L{DigestServer}: no password in clear on a plain-HTTP
port) for every request, page included; without (allowed on loopback
only), every local user, named C{loopback} in the log. Whatever the
credentials, the C{Host} header must name an address or C{localhost}: a
page of another site whose name was made to resolve to this address (DNS
rebinding) sends its own name and is refused.

TLS: with C{certificate} and C{key} (PEM files, read as the ACS client
certificate is: L{proxier.pem.loadCertificateAndKey}) the port speaks HTTPS
only, TLS 1.2 or later; a plain HTTP request there gets no answer. Without
them it is plain HTTP (loopback, or Digest on the LAN side).

Connections, request time and body size are bounded by
L{proxier.httpguard} as on the proxier's other servers.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any, Callable, Iterable, Mapping, Optional

from twisted.application.service import Service
from twisted.internet.error import CannotListenError
from twisted.logger import Logger
from twisted.web.resource import Resource

from proxier import deferredtls
from proxier.config import ConfigError
from proxier.console.api import ConsoleAPI, ConsoleSource, TreeSource
from proxier.httpauth import MAX_HEADER, DigestServer
from proxier.httpguard import GuardedSite
from proxier.pem import TLSConfigError, loadCertificateAndKey

__all__ = ["ConsoleRoot", "ConsoleService", "addConsole", "checkListenAddress", "REALM", "MAX_BODY", "STATIC"]

REALM = "proxier console"
MAX_BODY = 64 * 1024  # the largest write the API takes (MAX_VALUES values)
#: the files of the page, the only ones served (no path is ever joined from a request)
STATIC = {
    b"index.html": "text/html; charset=utf-8",
    b"console.css": "text/css; charset=utf-8",
    b"console.js": "text/javascript; charset=utf-8",
}
_STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
_SECURITY_HEADERS = (
    (b"Content-Security-Policy", b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"X-Frame-Options", b"DENY"),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Referrer-Policy", b"no-referrer"),
)


def checkListenAddress(address: str, lanNames: Iterable[str], interfaces: Iterable[Any],
                       wan: Iterable[str]) -> Optional[str]:
    """
    Why the console may not listen on C{address}, or None when it may (the
    module's rule).

    @param interfaces: L{NetworkInterface<proxier.lan.netif.NetworkInterface>}s as they are now.
    @param wan: names of the interfaces holding a default route.
    """
    ip = ipaddress.ip_address(address)
    if ip.is_loopback:
        return None
    if ip.is_unspecified:
        return f"{address} would serve the WAN too"
    names = set(lanNames)
    wanNames = set(wan)
    for interface in interfaces:
        if any(a.ip == ip for a in interface.addresses):
            if interface.loopback:
                return None
            if names and interface.name not in names:
                return f"{address} is on {interface.name}, not one of the [lan] interfaces ({', '.join(sorted(names))})"
            if not names and interface.name in wanNames:
                return f"{address} is on {interface.name}, which holds a default route (the WAN)"
            return None
    return f"no interface of this machine holds {address}"


class ConsoleRoot(Resource):
    """Every path of the console: the Host check and authentication first, then the page or the API."""

    isLeaf = True
    log = Logger()

    def __init__(self, api: ConsoleAPI, credentials: tuple[str, str], digest: DigestServer) -> None:
        super().__init__()
        self.api = api
        self._user, self._password = credentials
        self._digest = digest

    def _plain(self, request: Any, code: int, text: bytes) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        request.setHeader(b"Cache-Control", b"no-store")
        return text

    @staticmethod
    def _hostAllowed(host: Optional[bytes]) -> bool:
        """Whether the C{Host} header names an address or localhost (and so no other site's name)."""
        if not host:
            return False
        text = host.decode("latin-1")
        if text.startswith("["):
            name = text[1:].partition("]")[0]
        else:
            name = text.rpartition(":")[0] if text.count(":") == 1 else text
        if name.lower() in ("localhost", "localhost."):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    def _authenticate(self, request: Any) -> tuple[Optional[str], bytes]:
        """The user, or None and the refusal to answer (401 with a challenge, 400, or 503 busy)."""
        if not self._user:
            return "loopback", b""
        header = request.getHeader(b"authorization")
        stale = False
        if header is not None:
            if len(header) > MAX_HEADER:
                return None, self._plain(request, 400, b"header too long\n")
            verdict = self._digest.check(request.method.decode("ascii", "replace"), request.uri.decode("latin-1"),
                                         header.decode("latin-1"),
                                         lambda user: self._password if user == self._user else None)
            if verdict.ok:
                return verdict.username, b""
            if verdict.busy:
                return None, self._plain(request, 503, b"busy\n")
            self.log.info("console: refused {peer}: {why}", peer=getattr(request.getClientAddress(), "host", "?"),
                          why=verdict.reason)
            stale = verdict.stale
        request.setHeader(b"WWW-Authenticate", self._digest.challenge(stale=stale).encode("ascii"))
        return None, self._plain(request, 401, b"authentication required\n")

    def render(self, request: Any) -> Any:
        for name, value in _SECURITY_HEADERS:
            request.setHeader(name, value)
        if not self._hostAllowed(request.getHeader(b"host")):
            return self._plain(request, 421, b"use this server's address (or localhost) in the URL\n")
        user, refusal = self._authenticate(request)
        if user is None:
            return refusal
        segments = request.path.split(b"/")[1:]
        if segments[:1] == [b"api"]:
            return self.api.render(request, segments[1:], user)
        if request.method not in (b"GET", b"HEAD"):
            request.setHeader(b"Allow", b"GET")
            return self._plain(request, 405, b"use GET\n")
        name = b"index.html" if segments in ([b""], [b"index.html"]) else (
            segments[1] if len(segments) == 2 and segments[0] == b"static" else None)
        if name not in STATIC:
            return self._plain(request, 404, b"not found\n")
        try:
            with open(os.path.join(_STATIC_DIR, name.decode("ascii")), "rb") as f:
                body = f.read()
        except OSError:
            return self._plain(request, 404, b"not installed\n")
        request.setHeader(b"Content-Type", STATIC[name].encode("ascii"))
        request.setHeader(b"Cache-Control", b"no-cache")
        return body


class ConsoleService(Service):
    """
    The console's port, from the C{[console]} section (and C{[lan]
    interfaces} for the bind rule).

    @param interfaces: C{() → [NetworkInterface]} (default: the host's).
    @param wan: C{() → names of interfaces holding a default route}.
    """

    name = "console"
    log = Logger()

    def __init__(self, config: Any, source: ConsoleSource, *, reactor: Any = None,
                 interfaces: Optional[Callable[[], Iterable[Any]]] = None,
                 wan: Optional[Callable[[], Iterable[str]]] = None) -> None:
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self._reactor = reactor
        self._config = config
        self.section: Mapping[str, Any] = config["console"]
        if interfaces is None or wan is None:
            from proxier.lan import netif

            interfaces = interfaces or netif.listInterfaces
            wan = wan or netif.defaultRouteInterfaces
        self._interfaces = interfaces
        self._wan = wan
        self.api = ConsoleAPI(source, reactor)
        self.digest = DigestServer(REALM, clock=reactor.seconds)
        self.resource = ConsoleRoot(self.api, self.section["credentials"], self.digest)
        self.site = GuardedSite(self.resource, clock=reactor, name="console", maxConnections=32, maxPerPeer=16,
                                requestTimeout=10.0, maxBody=MAX_BODY, idleTimeout=60.0)
        self.port: Optional[int] = None
        self._listening: Any = None
        self._tls: Any = None

    def listen(self) -> None:
        """
        Bind the port (once).

        @raise ConfigError: naming the key — an address the rule refuses, or
            a port that cannot be had.
        """
        if self._listening is not None:
            return
        address = self.section["listen_address"]
        why = checkListenAddress(address, self._config["lan"]["interfaces"], self._interfaces(), self._wan())
        if why is not None:
            raise ConfigError(self._config.path, "console", "listen_address",
                              f"{why}: the console listens on loopback or a LAN address only")
        tls = self._tlsOptions()
        try:
            if tls is not None:
                self._listening = self._reactor.listenSSL(self.section["port"], self.site, tls, interface=address)
            else:
                self._listening = self._reactor.listenTCP(self.section["port"], self.site, interface=address)
        except (CannotListenError, OSError) as e:
            # bind() refused: CannotListenError; listen() refused, another process having bound the
            # port in the same instant (both with SO_REUSEADDR): the OSError itself
            reason = e.socketError if isinstance(e, CannotListenError) else (e.strerror or str(e))
            raise ConfigError(self._config.path, "console", "port",
                              f"cannot listen on {address} port {self.section['port']}: {reason}") from None
        self.port = self._listening.getHost().port

    def _tlsOptions(self) -> Any:
        """
        The server's TLS options from C{certificate} and C{key}, or None (plain HTTP).

        @raise ConfigError: naming C{certificate} when the files cannot be used.
        """
        try:
            served = loadCertificateAndKey(self.section["certificate"], self.section["key"])
        except TLSConfigError as e:
            raise ConfigError(self._config.path, "console", "certificate", str(e)) from None
        if served is None:
            return None
        self._tls = served
        ssl = deferredtls.ssl()
        return ssl.CertificateOptions(privateKey=served.privateKey.original, certificate=served.original,
                                      raiseMinimumTo=ssl.TLSVersion.TLSv1_2)

    def url(self) -> str:
        """Where a browser finds the console."""
        address = self.section["listen_address"]
        host = f"[{address}]" if ":" in address else address
        return f"{'https' if self._tls is not None else 'http'}://{host}:{self.port}/"

    def privilegedStartService(self) -> None:
        self.listen()
        super().privilegedStartService()

    def startService(self) -> None:
        self.listen()
        super().startService()
        self.log.info("console on {url}{who}", url=self.url(),
                      who=" (Digest credentials asked)" if self.section["credentials"][0] else
                      " (no credentials: loopback only)")

    def stopService(self) -> Any:
        super().stopService()
        self.api.events.stop()
        listening, self._listening = self._listening, None
        return listening.stopListening() if listening is not None else None


def addConsole(tree: Any) -> ConsoleService:
    """Serve the console of C{tree} (a L{ProxierService<proxier.service.ProxierService>}), as a child of it."""
    service = ConsoleService(tree.config, TreeSource(tree), reactor=tree.reactor)
    service.setServiceParent(tree)
    return service
