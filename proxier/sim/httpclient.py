# -*- test-case-name: tests.test_sim_httpclient -*-
"""
The two HTTP requests a simulated device makes, bounded in time and size:

 - L{Notifier}: a GENA event NOTIFY to a subscriber's callback URL;
 - L{Fetcher}: the GET of a firmware image (SoftwareManagement Update).

Both take an C{IAgent} (an C{Agent} with its connection pool; a fleet shares
one), not treq: treq cannot write an IPv6 literal host (C{http://[::1]:N/}),
which a device on IPv6 must call back. Neither follows redirects.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from twisted.internet.defer import Deferred, fail
from twisted.python.failure import Failure
from twisted.web.http_headers import Headers

from proxier import httpbody

__all__ = ["Notifier", "Fetcher", "TooBig", "HTTPStatusError", "readBody", "request"]


class TooBig(Exception):
    """The body is longer than allowed."""


class HTTPStatusError(Exception):
    """The server answered something other than 200."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(f"HTTP {code}")


def readBody(response: Any, maxBytes: int, clock: Any, timeout: float) -> Deferred:
    """The body of C{response}, at most C{maxBytes}, within C{timeout} seconds."""

    def expired(result: Any, seconds: float) -> Failure:
        return Failure(TimeoutError(f"body not received within {seconds} s"))

    return httpbody.readBody(response, maxBytes, tooLarge=TooBig).addTimeout(timeout, clock, onTimeoutCancel=expired)


def request(agent: Any, clock: Any, method: bytes, url: str, headers: Sequence[tuple[str, str]] = (),
            body: Optional[bytes] = None, timeout: float = 30.0) -> Deferred:
    """
    One request through C{agent}; fires with the response (headers read),
    or fails — cancelled after C{timeout} seconds.
    """
    try:
        target = url.encode("ascii")
    except UnicodeEncodeError:
        return fail(ValueError(f"{url[:80]!r} is not an ASCII URL"))
    raw = Headers()
    for name, value in headers:
        raw.addRawHeader(name.encode("ascii"), value.encode("latin-1"))
    d = agent.request(method, target, raw, httpbody.BytesProducer(body) if body is not None else None)
    timer = clock.callLater(timeout, d.cancel)

    def done(result: Any) -> Any:
        if timer.active():
            timer.cancel()
        return result

    return d.addBoth(done)


class Notifier:
    """Sends event NOTIFYs; fires with the HTTP status."""

    def __init__(self, agent: Any, clock: Any, *, timeout: float = 5.0) -> None:
        self.agent = agent
        self.clock = clock
        self.timeout = timeout

    def __call__(self, url: str, headers: Sequence[tuple[str, str]], body: bytes) -> Deferred:
        d = request(self.agent, self.clock, b"NOTIFY", url, headers, body, self.timeout)

        def answered(response: Any) -> Deferred:
            return readBody(response, 64 * 1024, self.clock, self.timeout).addCallback(lambda _: response.code)

        return d.addCallback(answered)


class Fetcher:
    """GETs a firmware image; fires with its bytes (at most C{maxBytes}), fails otherwise."""

    def __init__(self, agent: Any, clock: Any, *, timeout: float = 30.0) -> None:
        self.agent = agent
        self.clock = clock
        self.timeout = timeout

    def __call__(self, url: str, maxBytes: int) -> Deferred:
        d = request(self.agent, self.clock, b"GET", url, (), None, self.timeout)

        def answered(response: Any) -> Any:
            if response.code != 200:
                readBody(response, 64 * 1024, self.clock, self.timeout).addErrback(lambda _: None)
                raise HTTPStatusError(response.code)
            return readBody(response, maxBytes, self.clock, self.timeout)

        return d.addCallback(answered)
