# -*- test-case-name: tests.test_httpbody,tests.test_lan_httpclient,tests.test_cwmp_transport,tests.test_sim_httpclient,tests.test_upnpdm_transfer -*-
"""
HTTP bodies over Twisted's C{IAgent}, both ways, for every HTTP client here
(towards the ACS and its file servers, towards devices, the simulated
devices' own), and one request bounded as a whole.

A response body is read up to a cap, because the peer may be hostile or
broken: past the cap, or when a declared length is already over it, the
connection is dropped instead of buffering. A request body is known in
advance, so it goes with its length: C{Content-Length}, never chunked.

L{requestWithin} makes one request and reads its answer within a deadline
that covers both (a peer that trickles its body does not hold the caller
past it): at the deadline the request is cancelled — the connection dropped
— and the caller's own error says so; a cancellation by the caller stays a
C{CancelledError}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web import client
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

__all__ = ["readBody", "BytesProducer", "Answer", "requestWithin", "describe", "cookieAgent"]


class _Bounded(Protocol):
    def __init__(self, maxBytes: int, tooLarge: Callable[[str], Exception],
                 cutShort: Optional[Callable[[str], Exception]]) -> None:
        self.finished: Optional[Deferred] = Deferred(self._cancel)
        self._maxBytes = maxBytes
        self._tooLarge = tooLarge
        self._cutShort = cutShort
        self._parts: list[bytes] = []
        self._size = 0
        self._done = False

    def _cancel(self, _: Deferred) -> None:
        # done first: dropping the connection must not fire the Deferred with half a body
        self._done = True
        if self.transport is not None:
            self.transport.stopProducing()

    def dataReceived(self, data: bytes) -> None:
        if self._done:
            return
        self._size += len(data)
        if self._size > self._maxBytes:
            self._done = True
            finished = self.finished
            self.transport.stopProducing()
            if finished is not None:
                finished.errback(self._tooLarge(f"response body larger than {self._maxBytes} bytes"))
            return
        self._parts.append(data)

    def connectionLost(self, reason: Optional[Failure] = None) -> None:  # type: ignore[override]
        # The reader, its Deferred (whose canceller is the reader's) and its transport (a wrapper
        # that is the reader's transport) hold each other: let go, so that the answer and what the
        # callbacks kept are freed at once, not by the cyclic collector (issue 19: every request).
        finished, self.finished, self.transport = self.finished, None, None
        if self._done:
            return
        self._done = True
        if reason is None or reason.check(ResponseDone, PotentialDataLoss):  # PotentialDataLoss: HTTP/1.0, no length
            finished.callback(b"".join(self._parts))
        elif self._cutShort is not None:
            finished.errback(self._cutShort(f"response body cut short: {reason.getErrorMessage()}"))
        else:
            finished.errback(reason)


class _Discard(Protocol):
    def connectionMade(self) -> None:
        self.transport.stopProducing()


def readBody(response: Any, maxBytes: int, *, tooLarge: Callable[[str], Exception],
             cutShort: Optional[Callable[[str], Exception]] = None) -> Deferred:
    """
    The whole body of C{response}, failing with C{tooLarge(reason)} as soon
    as it exceeds C{maxBytes} (at once when its declared length does), and
    with C{cutShort(reason)} — or, without one, the connection's own failure
    — when the body ends early. Cancelling the Deferred drops the connection.
    """
    length = getattr(response, "length", None)
    if isinstance(length, int) and length > maxBytes:
        try:
            response.deliverBody(_Discard())
        except Exception:  # the response may already be consumed; nothing to do
            pass
        return fail(tooLarge(f"declared response body of {length} bytes exceeds {maxBytes}"))
    reader = _Bounded(maxBytes, tooLarge, cutShort)
    finished = reader.finished
    assert finished is not None  # (the reader lets go of it once the body ended)
    response.deliverBody(reader)
    return finished


@implementer(IBodyProducer)
class BytesProducer:
    """A request body held in memory: written at once, with its length (so Content-Length, never chunked)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.length = len(data)

    def startProducing(self, consumer: Any) -> Deferred:
        consumer.write(self.data)
        return succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


@dataclass(frozen=True)
class Answer:
    """A response read whole: its status, headers and body (C{None}: a body that did not matter and failed)."""

    status: int
    headers: Any
    body: Optional[bytes]


def _cancelled(failure: Failure) -> bool:
    """Whether a request failed because it was cancelled (the agent wraps the CancelledError)."""
    if failure.check(CancelledError):
        return True
    reasons = getattr(failure.value, "reasons", None) or ()
    return any(isinstance(r, Failure) and r.check(CancelledError) for r in reasons)


def describe(error: BaseException) -> str:
    """An agent's failure as one line: the reasons it wraps (C{ResponseNeverReceived}...), else the error."""
    reasons = getattr(error, "reasons", None)
    if reasons:
        return "; ".join(r.getErrorMessage() if isinstance(r, Failure) else str(r) for r in reasons)
    return str(error) or type(error).__name__


def requestWithin(agent: Any, method: bytes, uri: bytes, headers: Any, body: Optional[bytes], *,
                  clock: Any, timeout: float, maxBytes: int,
                  timedOut: Callable[[], Exception], failed: Callable[[BaseException], Exception],
                  tooLarge: Callable[[str], Exception], cutShort: Optional[Callable[[str], Exception]] = None,
                  cannotStart: Optional[Callable[[BaseException], Exception]] = None,
                  bodyMatters: bool = True) -> "Deferred[Answer]":
    """
    One request through C{agent} (C{body} sent with its length; C{None}: no
    body) and its answer's body read up to C{maxBytes}, all within
    C{timeout} seconds of C{clock}.

    @param timedOut: the error when the deadline passes (the request is
        cancelled: the connection dropped).
    @param failed: the error for any other failure of the request, given
        what went wrong; C{cannotStart} (default: C{failed}), for an error
        the agent raises at once (a URL it cannot use).
    @param tooLarge: the error for a body over C{maxBytes}; C{cutShort}, for
        a body that ends early (see L{readBody}).
    @param bodyMatters: C{False}: only the status counts; a body that cannot
        be read (too large, cut short, still coming at the deadline) leaves
        the answer standing, with C{body} None.
    @return: a Deferred firing with the L{Answer}, or failing with one of the
        caller's errors, or with C{CancelledError} when the caller cancels it.
    """
    try:
        d = agent.request(method, uri, headers, BytesProducer(body) if body is not None else None)
    except Exception as e:  # a URL the agent cannot even start with
        return fail((cannotStart or failed)(e))
    made: list[BaseException] = []  # the errors tooLarge and cutShort made: the caller's own, passed on

    def overLimit(reason: str) -> Exception:
        made.append(tooLarge(reason))
        return made[-1]

    def endedEarly(reason: str) -> Exception:
        assert cutShort is not None
        made.append(cutShort(reason))
        return made[-1]

    def answered(response: Any) -> Deferred:
        reading = readBody(response, maxBytes, tooLarge=overLimit, cutShort=endedEarly if cutShort else None)
        if not bodyMatters:
            reading.addErrback(lambda failure: None)
        return reading.addCallback(lambda data: Answer(response.code, response.headers, data))

    d.addCallback(answered)
    expired: list[bool] = []

    def expire() -> None:
        expired.append(True)
        d.cancel()

    timer = clock.callLater(timeout, expire)

    def finished(result: Any) -> Any:
        if timer.active():
            timer.cancel()
        if not isinstance(result, Failure) or any(result.value is e for e in made):
            return result
        if expired:
            return Failure(timedOut())
        if _cancelled(result):
            return Failure(CancelledError())
        return Failure(failed(result.value))

    return d.addBoth(finished)


# Twisted 23.8 renamed its stand-in for urllib's request (Debian 12 has 22.4); private names, so a
# Twisted without either (or without CookieAgent._extractCookies) gets CookieAgent itself (cookieAgent)
_FakeRequest = getattr(client, "_FakeStdlibRequest", None) or getattr(client, "_FakeUrllib2Request", None)


class _JarAgent(client.CookieAgent):
    """L{cookieAgent}'s agent."""

    def request(self, method: bytes, uri: bytes, headers: Any = None, bodyProducer: Any = None) -> Deferred:
        if len(self.cookieJar):
            return super().request(method, uri, headers, bodyProducer)
        d = self._agent.request(method, uri, headers if headers is not None else Headers(), bodyProducer)
        return d.addCallback(self._extractIfSet, uri)

    def _extractIfSet(self, response: Any, uri: bytes) -> Any:
        if response.headers.hasHeader(b"set-cookie") or response.headers.hasHeader(b"set-cookie2"):
            return self._extractCookies(response, _FakeRequest(uri))
        return response


def cookieAgent(agent: Any, jar: Any) -> Any:
    """
    Twisted's C{CookieAgent} on C{jar}, which does its work only when there
    is some: while the jar is empty a request has no cookie to carry, and
    an answer without C{Set-Cookie} (or C{Set-Cookie2}) has none to keep —
    nearly every device and answer, and an ACS's but its first. Its
    stand-in for a urllib request parses the URL again, and with the jar's
    look-ups and sweeps it was ~3 % of the proxier's time bootstrapping
    1,000 devices; on Twisted 22.4 (Debian 12) its stand-in for a response
    makes a class for each answer, left to the cyclic collector (issue 19).
    Whatever it does otherwise is C{CookieAgent}'s own, so the cookies kept
    and sent stay the same. It leans on private names of Twisted's: one
    that lacks them gets C{CookieAgent} as it is, slower, not a failure.
    """
    if _FakeRequest is None or not hasattr(client.CookieAgent, "_extractCookies"):
        return client.CookieAgent(agent, jar)
    return _JarAgent(agent, jar)
