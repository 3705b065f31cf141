# -*- test-case-name: tests.test_cwmp_transport -*-
"""
The HTTP side of one CWMP session towards the ACS.

A CWMP session is a series of HTTP POSTs that the ACS ties together with
cookies (INTEROP §CWMP 2): L{ACSHTTPSession} keeps the session's own cookie
jar (never shared with another session or endpoint) and echoes it on every
POST, also over new TCP connections; answers 401 challenges with Basic or
Digest (TR-069 3.4.4) and keeps answering for the rest of the session; follows
301/302/307/308 redirects and keeps the new URL for the rest of the session
(never to anything but http/https, never from https down to http, never to
this gateway, loopback or link-local unless allowed — L{proxier.outbound} —,
at most a few per POST); bounds every POST,
body included, with a timeout and caps the response body
(L{proxier.httpbody.requestWithin}); sends
C{Content-Type: text/xml; charset="utf-8"} with a body, C{Content-Length: 0}
without one, and never C{Expect: 100-continue}.

It drives an injected L{IAgent} (a real L{twisted.web.client.Agent} with the
TLS policy of L{proxier.cwmp.tls}, or treq's in-memory
L{treq.testing.RequestTraversalAgent} in tests) rather than a
L{treq.HTTPClient}: treq's client always asks for gzip and inflates each chunk
without bound, and keeps one cookie jar per client — neither is acceptable
towards an ACS that may be hostile or shared by many endpoints.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

from hyperlink import URL
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.web.http_headers import Headers

from proxier._version import __version__
from proxier.cwmp.codec import MAX_ENVELOPE_BYTES
from proxier.httpauth import AuthenticationError, DigestClient, basicAuthorization, parseChallenges
from proxier.httpbody import cookieAgent, describe, requestWithin

__all__ = ["ACSHTTPSession", "HTTPResult", "TransportError", "MAX_REDIRECTS", "USER_AGENT"]

MAX_REDIRECTS = 5
USER_AGENT = f"proxier/{__version__} (CWMP CPE Proxier)"
_REDIRECTS = (301, 302, 307, 308)
# What no URL may hold (RFC 3986 has no place for controls or spaces; a
# Location that holds them is garbage or an attempt to smuggle a header).
_UNSAFE_URL = re.compile(r"[\x00-\x20\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What a cookie the jar can read never holds: anything but printable ASCII and tab.
_UNREADABLE_COOKIE = re.compile(rb"[^\t\x20-\x7e]")


@dataclass(frozen=True)
class HTTPResult:
    """What the ACS answered to one POST (after authentication and redirects)."""

    status: int
    headers: Headers
    body: bytes
    url: str

    def header(self, name: str) -> Optional[str]:
        """The first value of a response header, as text."""
        values = self.headers.getRawHeaders(name.encode("ascii"))
        return values[0].decode("latin-1") if values else None


class TransportError(Exception):
    """The POST got no usable HTTP answer: no connection, a timeout, a refused redirect, a body too big."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class _CookieFilter:
    """
    An agent that drops the C{Set-Cookie} values no cookie jar can read (not
    printable ASCII: the stdlib jar decodes them as ASCII and fails the whole
    POST) before L{CookieAgent} sees them. A broken cookie is ignored, as a
    browser ignores it; the answer still counts.
    """

    def __init__(self, agent: Any) -> None:
        self._agent = agent

    def request(self, *args: Any, **kw: Any) -> Deferred:
        return self._agent.request(*args, **kw).addCallback(self._filter)

    @staticmethod
    def _filter(response: Any) -> Any:
        for name in (b"Set-Cookie", b"Set-Cookie2"):
            values = response.headers.getRawHeaders(name)
            if values is None:
                continue
            kept = [v for v in values if not _UNREADABLE_COOKIE.search(v)]
            if len(kept) != len(values):
                response.headers.removeHeader(name)
                if kept:
                    response.headers.setRawHeaders(name, kept)
        return response


@functools.lru_cache(maxsize=64)
def _toURI(url: str) -> str:
    """
    C{url} as the agent takes it (IDNA host, percent-encoded path). An
    address literal's host is left alone: IDNA refuses the colons of an
    IPv6 one (C{http://[2001:db8::1]:7547/acs} failed every POST).
    Worked out once for a URL: every endpoint POSTs to the same one or
    two, and hyperlink's parse was ~1 % of the proxier's CPU bootstrapping
    1,000 devices (issue 19).
    """
    parsed = URL.from_text(url)
    try:
        ipaddress.ip_address(parsed.host.partition("%")[0])
    except ValueError:
        return parsed.to_uri().to_text()
    return parsed.replace(host="address.invalid").to_uri().replace(host=parsed.host).to_text()


def _requestTarget(url: str) -> str:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target


class ACSHTTPSession:
    """
    The HTTP exchanges of one CWMP session.

    @ivar url: the URL POSTs go to; a redirect changes it for the rest of the
        session.
    @ivar cookies: this session's cookie jar.
    """

    def __init__(
        self,
        agent: Any,
        url: str,
        username: str = "",
        password: str = "",
        *,
        clock: Any = None,
        requestTimeout: float = 30.0,
        maxBody: int = MAX_ENVELOPE_BYTES,
        userAgent: str = USER_AGENT,
        targets: Any = None,
    ) -> None:
        """
        @param targets: a L{proxier.outbound.TargetPolicy} every redirect's
            target must pass (the URL given here is the operator's, not
            checked); None: no such check.
        """
        if clock is None:
            from twisted.internet import reactor as clock  # type: ignore[no-redef]
        self.url = url
        self.cookies = CookieJar()
        self._agent = cookieAgent(_CookieFilter(agent), self.cookies)
        self._username = username
        self._password = password
        self._clock = clock
        self._timeout = requestTimeout
        self._maxBody = maxBody
        self._userAgent = userAgent.encode("latin-1", "replace")
        self._basic: Optional[str] = None
        self._digest: Optional[DigestClient] = None
        self._authHost: Optional[str] = None
        self._targets = targets

    def _headers(self, body: bytes, target: str) -> Headers:
        headers = Headers({b"User-Agent": [self._userAgent]})
        if body:
            headers.setRawHeaders(b"Content-Type", [b'text/xml; charset="utf-8"'])
            headers.setRawHeaders(b"SOAPAction", [b'""'])
        host = urlsplit(self.url).netloc
        if host == self._authHost:
            if self._digest is not None:
                value = self._digest.authorization("POST", target, body)
                headers.setRawHeaders(b"Authorization", [value.encode("utf-8")])
            elif self._basic is not None:
                headers.setRawHeaders(b"Authorization", [self._basic.encode("utf-8")])
        return headers

    def _exchange(self, body: bytes) -> Deferred:
        """One HTTP request and its whole body, bounded by the request timeout."""
        url = self.url

        def cannotStart(e: BaseException) -> TransportError:
            return TransportError(f"cannot POST to {url!r}: {describe(e)}")

        try:
            uri = _toURI(url)
            headers = self._headers(body, _requestTarget(uri))
            target = uri.encode("ascii")
        except Exception as e:  # a URL the agent cannot even start with
            return defer.fail(cannotStart(e))
        d = requestWithin(
            self._agent, b"POST", target, headers, body or None,
            clock=self._clock, timeout=self._timeout, maxBytes=self._maxBody,
            timedOut=lambda: TransportError(f"no answer from {url} within {self._timeout:g} s"),
            failed=lambda e: TransportError(f"POST to {url} failed: {describe(e)}"), cannotStart=cannotStart,
            tooLarge=TransportError, cutShort=TransportError)
        return d.addCallback(lambda answer: HTTPResult(answer.status, answer.headers, answer.body, url))

    @defer.inlineCallbacks
    def post(self, body: bytes) -> Any:
        """
        POST C{body} (C{b""} for an empty POST) and return the final
        L{HTTPResult} — any status, 401 included when the credentials are
        refused. Fails with L{TransportError} when there is no answer.
        """
        redirects = 0
        authTries = 0
        while True:
            result = yield self._exchange(body)
            if result.status == 401 and self._username and authTries < 2:
                if self._answerChallenge(result, firstTry=authTries == 0):
                    authTries += 1
                    continue
                return result
            if result.status in _REDIRECTS:
                location = result.header("Location")
                if location is None:
                    return result
                if redirects >= MAX_REDIRECTS:
                    raise TransportError(f"more than {MAX_REDIRECTS} redirects from {self.url}")
                if not location.strip(" \t\x00"):
                    raise TransportError(f"refused redirect from {self.url} without a Location")
                try:
                    target = urljoin(self.url, location.strip())
                    parts = urlsplit(target)
                    scheme, host, _ = parts.scheme.lower(), parts.hostname, parts.port
                except ValueError as e:  # "http://[::1", a port of "99999" or "²": no URL at all
                    raise TransportError(f"refused redirect from {self.url} to {location[:200]!r}: {e}") from None
                if scheme not in ("http", "https") or not host or _UNSAFE_URL.search(target):
                    raise TransportError(f"refused redirect from {self.url} to {target[:200]!r}")
                if scheme == "http" and urlsplit(self.url).scheme.lower() == "https":
                    raise TransportError(f"refused redirect from {self.url} to plain HTTP ({target!r})")
                if self._targets is not None:
                    try:
                        yield self._targets.check(target, cameFrom=self.url)
                    except Exception as e:  # TargetRefused: loopback, link-local, the gateway itself
                        raise TransportError(f"refused redirect from {self.url}: {e}") from None
                redirects += 1
                self.url = target
                continue
            return result

    def _answerChallenge(self, result: HTTPResult, firstTry: bool) -> bool:
        """Set up credentials for a retry; C{False} when retrying cannot help."""
        values = [v.decode("latin-1") for v in result.headers.getRawHeaders(b"WWW-Authenticate", [])]
        challenges = parseChallenges(values)
        digest = DigestClient.pick(challenges)
        host = urlsplit(self.url).netloc
        if digest is not None and any(_CONTROL.search(digest.params.get(k, "")) for k in ("realm", "nonce", "opaque")):
            digest = None  # it could not be sent back in an Authorization header
        if digest is not None:
            stale = digest.params.get("stale", "").lower() == "true"
            if not firstTry and not stale:
                return False
            try:
                self._digest = DigestClient(self._username, self._password, digest)
            except AuthenticationError:
                return False
            self._basic = None
            self._authHost = host
            return True
        if any(c.scheme == "basic" for c in challenges) and firstTry:
            self._basic = basicAuthorization(self._username, self._password)
            self._digest = None
            self._authHost = host
            return True
        return False

