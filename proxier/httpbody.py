# -*- test-case-name: tests.test_lan_httpclient,tests.test_cwmp_transport,tests.test_sim_httpclient -*-
"""
HTTP bodies over Twisted's C{IAgent}, both ways, for every HTTP client here
(towards the ACS, towards devices, the simulated devices' own).

A response body is read up to a cap, because the peer may be hostile or
broken: past the cap, or when a declared length is already over it, the
connection is dropped instead of buffering. A request body is known in
advance, so it goes with its length: C{Content-Length}, never chunked.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

__all__ = ["readBody", "BytesProducer"]


class _Bounded(Protocol):
    def __init__(self, maxBytes: int, tooLarge: Callable[[str], Exception],
                 cutShort: Optional[Callable[[str], Exception]]) -> None:
        self.finished: Deferred = Deferred(self._cancel)
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
            self.transport.stopProducing()
            self.finished.errback(self._tooLarge(f"response body larger than {self._maxBytes} bytes"))
            return
        self._parts.append(data)

    def connectionLost(self, reason: Optional[Failure] = None) -> None:  # type: ignore[override]
        if self._done:
            return
        self._done = True
        if reason is None or reason.check(ResponseDone, PotentialDataLoss):  # PotentialDataLoss: HTTP/1.0, no length
            self.finished.callback(b"".join(self._parts))
        elif self._cutShort is not None:
            self.finished.errback(self._cutShort(f"response body cut short: {reason.getErrorMessage()}"))
        else:
            self.finished.errback(reason)


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
    response.deliverBody(reader)
    return reader.finished


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
