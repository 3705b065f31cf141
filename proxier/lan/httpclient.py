# -*- test-case-name: tests.test_lan_httpclient -*-
"""
HTTP towards devices: one request with a deadline, a body cap, the Host
header the URL policy computed, an explicit Content-Length, and redirects
followed only after the policy checked them again.

It sits on an injected client with treq's C{HTTPClient.request}:
L{DeviceHTTPClient}, which sends what treq's would on Twisted's C{Agent}
alone, on every system (treq is not in OpenWrt's packages feed, and the
wire must not depend on whether it is installed).
L{makeHTTPClient} makes the default one: a non-persistent
pool unless given one (the control point's keeps connections to devices
alive: L{proxier.lan.keepalive}) and an endpoint factory that reaches IPv6
link-local devices through the interface they were heard on, and that the
DeviceProtection work can give a TLS connection creator per device
(L{EndpointFactory.tls}).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional
from urllib.parse import urljoin

from twisted.internet.defer import CancelledError, Deferred, TimeoutError as DeferredTimeout, maybeDeferred
from twisted.python.failure import Failure
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

from proxier import httpbody
from proxier._version import __version__
from proxier.lan.urlpolicy import Origin, Target, URLPolicy, URLRefused

__all__ = [
    "HTTPFailure",
    "HTTPTimeout",
    "BodyTooLarge",
    "HTTPResult",
    "Requester",
    "EndpointFactory",
    "makeHTTPClient",
    "DeviceHTTPClient",
    "readBody",
    "ipv6HostName",
    "addressFromHostName",
    "USER_AGENT",
]

#: UDA 1.1 §2.2: "OS/version UPnP/1.1 product/version".
USER_AGENT = f"Linux UPnP/1.1 proxier/{__version__}"
_REDIRECTS = (301, 302, 303, 307, 308)


class HTTPFailure(Exception):
    """A request to a device did not give a usable answer; C{str()} says why."""


class HTTPTimeout(HTTPFailure):
    """No complete answer within the deadline."""


class BodyTooLarge(HTTPFailure):
    """The body exceeded its cap; the connection was dropped."""


@dataclass(frozen=True)
class HTTPResult:
    """
    @ivar url: the URL finally answered (after redirects), as the device gave it.
    @ivar peer: the address that answered.
    """

    code: int
    headers: Headers
    body: bytes
    url: str
    peer: str = ""

    def header(self, name: str) -> Optional[str]:
        values = self.headers.getRawHeaders(name.encode("latin-1"))
        return values[0].decode("latin-1") if values else None


def readBody(response: Any, maxBytes: int) -> "Deferred[bytes]":
    """
    The whole body of a response, or L{BodyTooLarge} as soon as it exceeds
    C{maxBytes} (a declared length over the cap fails at once). Cancelling
    the Deferred drops the connection.
    """
    return httpbody.readBody(response, maxBytes, tooLarge=BodyTooLarge, cutShort=HTTPFailure)


class Requester:
    """
    Makes requests to devices.

    @param client: a treq C{HTTPClient} (or anything with its C{request}).
    @param clock: for deadlines.
    @param policy: checks every redirect.
    @param endpoints: the client's L{EndpointFactory}, if it has one, told
        the interface of each IPv6 link-local target.
    """

    def __init__(
        self,
        client: Any,
        clock: Any,
        policy: URLPolicy,
        *,
        endpoints: Optional["EndpointFactory"] = None,
        userAgent: str = USER_AGENT,
    ) -> None:
        self.client = client
        self.clock = clock
        self.policy = policy
        self.endpoints = endpoints
        self.userAgent = userAgent

    def request(
        self,
        method: str,
        target: Target,
        origin: Origin,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: Optional[bytes] = None,
        timeout: float,
        maxBytes: int,
        redirects: int = 0,
    ) -> "Deferred[HTTPResult]":
        """
        One request, with its redirects, all within C{timeout} seconds.

        @param redirects: how many redirects to follow (each checked by the
            policy); a redirect beyond that is returned as it is.
        @return: a Deferred firing with the L{HTTPResult} whatever its status,
            or failing with L{HTTPTimeout}, L{BodyTooLarge}, L{URLRefused} (a
            redirect) or L{HTTPFailure}.
        """
        extra = list(headers)
        # a client that raises at once (a URL its library cannot carry) fails the Deferred instead
        d = maybeDeferred(self._attempt, method, target, origin, extra, body, maxBytes, redirects)

        def timedOut(result: Any, seconds: float) -> Failure:
            # whatever the cancelled request failed with, the reason is the deadline
            return Failure(HTTPTimeout(f"{method} {target.url[:200]}: no answer within {seconds:g} s"))

        d.addTimeout(timeout, self.clock, onTimeoutCancel=timedOut)

        def translate(f: Failure) -> Failure:
            if f.check(DeferredTimeout):
                return Failure(HTTPTimeout(f"{method} {target.url[:200]}: no answer within {timeout:g} s"))
            if f.check(HTTPFailure, URLRefused, CancelledError):
                return f
            return Failure(HTTPFailure(f"{method} {target.url[:200]}: {f.getErrorMessage() or f.type.__name__}"))

        return d.addErrback(translate)

    def _attempt(
        self,
        method: str,
        target: Target,
        origin: Origin,
        extra: list[tuple[str, str]],
        body: Optional[bytes],
        maxBytes: int,
        redirects: int,
    ) -> "Deferred[HTTPResult]":
        if target.scope and self.endpoints is not None:
            self.endpoints.scopes[target.address] = target.scope
        url = target.connectURL
        if ":" in target.address:  # treq cannot carry an IPv6 literal (hyperlink#68): name it
            url = url.replace(f"[{target.address}]", ipv6HostName(target.address), 1)
        raw = Headers()
        raw.setRawHeaders(b"Host", [target.hostHeader.encode("ascii")])
        raw.setRawHeaders(b"User-Agent", [self.userAgent.encode("ascii")])
        for name, value in extra:
            raw.addRawHeader(name.encode("latin-1"), value.encode("utf-8"))
        # a body is sent with the Content-Length Twisted computes from its
        # known length: never chunked (INTEROP.md, Description and SOAP)
        d = self.client.request(method, url, headers=raw, data=body, allow_redirects=False, unbuffered=True)

        def got(response: Any) -> "Deferred[HTTPResult]":
            return readBody(response, maxBytes).addCallback(
                lambda data: HTTPResult(response.code, response.headers, data, target.url, target.address)
            )

        d.addCallback(got)

        def redirect(result: HTTPResult) -> Any:
            location = result.header("Location")
            if result.code not in _REDIRECTS or not location:
                return result
            again, data = ("GET", None) if result.code == 303 else (method, body)
            checked = self.policy.check(urljoin(target.url, location.strip()), origin)
            return checked.addCallback(lambda t: self._attempt(again, t, origin, extra, data, maxBytes, redirects - 1))

        if redirects > 0:
            d.addCallback(redirect)
        return d


_V6_SUFFIX = ".ipv6.invalid"


def ipv6HostName(address: str) -> str:
    """
    A host name standing for an IPv6 address in a URL handed to treq, which
    cannot carry IPv6 literals (its URL library IDNA-encodes every host,
    hyperlink issue 68). The C{.invalid} top-level domain never resolves
    (RFC 2606); L{EndpointFactory} maps the name back to the address.
    """
    return "v6-" + ipaddress.IPv6Address(address.partition("%")[0]).packed.hex() + _V6_SUFFIX


def addressFromHostName(name: str) -> Optional[str]:
    """The IPv6 address an L{ipv6HostName} stands for, or C{None}."""
    name = name.lower()
    if not (name.startswith("v6-") and name.endswith(_V6_SUFFIX)):
        return None
    try:
        return str(ipaddress.IPv6Address(bytes.fromhex(name[3:-len(_V6_SUFFIX)])))
    except ValueError:
        return None


@implementer(IAgentEndpointFactory)
class EndpointFactory:
    """
    Endpoints for the default HTTP client.

    @ivar scopes: IPv6 link-local address → the interface to reach it through.
    @ivar tls: C{(host, port) → IOpenSSLClientConnectionCreator} for C{https}
        URLs (DeviceProtection sets it per device); C{None}: https refused.
    """

    def __init__(self, reactor: Any, connectTimeout: float = 10.0) -> None:
        self.reactor = reactor
        self.connectTimeout = connectTimeout
        self.scopes: dict[str, str] = {}
        self.tls: Optional[Callable[[str, int], Any]] = None

    def endpointForURI(self, uri: Any) -> Any:
        from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint, wrapClientTLS
        from twisted.web.error import SchemeNotSupported

        host = uri.host.decode("ascii")
        host = addressFromHostName(host) or host
        if ":" in host:
            scope = self.scopes.get(host)
            address = f"{host}%{scope}" if scope else host
            endpoint: Any = TCP6ClientEndpoint(self.reactor, address, uri.port, timeout=self.connectTimeout)
        else:
            endpoint = TCP4ClientEndpoint(self.reactor, host, uri.port, timeout=self.connectTimeout)
        if uri.scheme == b"https":
            creator = self.tls(host, uri.port) if self.tls is not None else None
            if creator is None:
                raise SchemeNotSupported(f"no TLS identity for {host}:{uri.port}")
            return wrapClientTLS(creator, endpoint)
        if uri.scheme != b"http":
            raise SchemeNotSupported(f"unsupported scheme {uri.scheme!r}")
        return endpoint


#: A URL that hyperlink's URI form leaves as it is, character for character:
#: http(s), a lower-case host name or IPv4 address, a port without leading
#: zero, a path, a query not empty, only characters of RFC 3986 that are
#: never encoded and upper-case percent escapes. (Not a default port, which
#: hyperlink drops: checked apart.) What a device's description gives is
#: almost always such a URL.
_AS_IS = re.compile(
    r"(?P<scheme>https?)://(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)"
    r"(?::(?P<port>[1-9][0-9]{0,4}))?"
    r"/(?:[A-Za-z0-9._~!$'()*+,;=:@/-]|%[0-9A-F]{2})*"
    r"(?:\?(?:[A-Za-z0-9._~!$'()*+,;=:@/?&-]|%[0-9A-F]{2})+)?")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _treqURI(url: str) -> bytes:
    """
    The request URI treq makes of C{url} (hyperlink's URI form: an IRI's
    path percent-encoded, its host IDNA-encoded, a default port dropped).
    Working it out for every request was a fifth of treq's cost: a URL it
    would leave as it is is taken as it is, any other one worked out once.
    """
    plain = _AS_IS.fullmatch(url)
    if plain is not None:
        port = plain["port"]
        if port is None or (int(port) <= 65535 and int(port) != _DEFAULT_PORTS[plain["scheme"]]):
            return url.encode("ascii")
    return _hyperlinkURI(url)


@functools.lru_cache(maxsize=1024)
def _hyperlinkURI(url: str) -> bytes:
    import hyperlink

    return hyperlink.EncodedURL.from_text(url).to_uri().to_text().encode("ascii")


class DeviceHTTPClient:
    """
    The L{Requester}'s one call of treq's C{HTTPClient.request}, the same
    request on the wire — the URI treq makes of the URL, C{Accept-Encoding:
    gzip} and a gzip answer inflated, the cookies devices set kept in one jar
    and sent back — on Twisted's C{Agent} alone. What treq sends is what the
    proxier sent to devices while treq was its client, and what devices have
    been tried with; sending it without treq keeps it the same where treq is
    not installed (OpenWrt) and saves treq's work per request (issue 19: the
    URL parsed and encoded again, cookie jars made and merged, agents wrapped
    anew and the response wrapped were a tenth of the proxier's time
    bootstrapping 1,000 devices). The response is the agent's own
    C{IResponse}.
    """

    def __init__(self, agent: Any) -> None:
        from http.cookiejar import CookieJar

        from twisted.web.client import ContentDecoderAgent, GzipDecoder

        self.cookies = CookieJar()
        self.agent = ContentDecoderAgent(httpbody.cookieAgent(agent, self.cookies), [(b"gzip", GzipDecoder)])

    def request(self, method: str, url: str, *, headers: Optional[Headers] = None, data: Optional[bytes] = None,
                allow_redirects: bool = False, unbuffered: bool = True) -> "Deferred[Any]":
        if allow_redirects or not unbuffered:
            raise ValueError("DeviceHTTPClient follows no redirect and buffers nothing (the Requester does both)")
        producer = httpbody.BytesProducer(data) if data is not None else None
        return self.agent.request(method.encode("ascii").upper(), _treqURI(url),
                                  headers if headers is not None else Headers(), producer)


def makeHTTPClient(reactor: Any, connectTimeout: float = 10.0, *,
                   pool: Any = None) -> tuple[DeviceHTTPClient, EndpointFactory]:
    """
    The default client: a L{DeviceHTTPClient} on an C{Agent}, and its
    L{EndpointFactory} (returned too, for the L{Requester}).

    @param pool: the C{Agent}'s connection pool (a
        L{DevicePool<proxier.lan.keepalive.DevicePool>}); C{None}: a
        non-persistent one, a new connection for every request.
    """
    from twisted.web.client import Agent, HTTPConnectionPool

    endpoints = EndpointFactory(reactor, connectTimeout)
    if pool is None:
        pool = HTTPConnectionPool(reactor, persistent=False)
    agent = Agent.usingEndpointFactory(reactor, endpoints, pool=pool)
    return DeviceHTTPClient(agent), endpoints
