"""Tests for L{proxier.httpbody.requestWithin}: one request bounded as a whole, its body capped."""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet import task
from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.python.failure import Failure
from twisted.trial import unittest
from twisted.web.client import ResponseDone, ResponseNeverReceived
from twisted.web.http_headers import Headers

from proxier.httpbody import Answer, describe, requestWithin


class Refused(Exception):
    """The caller's own error, for every way the request can fail."""


class _Transport:
    def __init__(self) -> None:
        self.stopped = False

    def stopProducing(self) -> None:
        self.stopped = True


class _Response:
    """A response whose body is written by the test through C{protocol}."""

    def __init__(self, code: int = 200, length: Any = None) -> None:
        self.code = code
        self.headers = Headers({b"X-Seen": [b"yes"]})
        self.length = length
        self.transport = _Transport()
        self.protocol: Any = None

    def deliverBody(self, protocol: Any) -> None:
        self.protocol = protocol
        protocol.makeConnection(self.transport)


class _Agent:
    """Answers each request with the Deferred the test gives; records what was asked."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[tuple[Any, ...]] = []

    def request(self, method: bytes, uri: bytes, headers: Any = None, bodyProducer: Any = None) -> Deferred:
        self.requests.append((method, uri, headers, bodyProducer))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def call(agent: Any, clock: task.Clock, body: Optional[bytes] = b"data", **kw: Any) -> Deferred:
    options: dict[str, Any] = dict(
        clock=clock, timeout=10.0, maxBytes=8,
        timedOut=lambda: Refused("timed out"),
        failed=lambda e: Refused(f"failed: {describe(e)}"),
        tooLarge=lambda reason: Refused(f"too large: {reason}"),
        cutShort=lambda reason: Refused(f"cut short: {reason}"),
    )
    options.update(kw)
    return requestWithin(agent, b"PUT", b"http://192.0.2.1/f", Headers(), body, **options)


class RequestWithinTests(unittest.TestCase):
    def test_answer(self) -> None:
        """The status, headers and whole body come back; the body is sent with its length; no timer is left."""
        clock = task.Clock()
        response = _Response()
        agent = _Agent(succeed(response))
        d = call(agent, clock)
        self.assertEqual(agent.requests[0][3].length, 4)
        response.protocol.dataReceived(b"ok")
        response.protocol.connectionLost(Failure(ResponseDone()))
        answer = self.successResultOf(d)
        self.assertEqual((answer.status, answer.body), (200, b"ok"))
        self.assertEqual(answer.headers.getRawHeaders(b"X-Seen"), [b"yes"])
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_noBody(self) -> None:
        """C{None}: no body producer at all."""
        agent = _Agent(Deferred())
        call(agent, task.Clock(), body=None)
        self.assertIsNone(agent.requests[0][3])

    def test_deadlineCoversTheBody(self) -> None:
        """
        A body still trickling at the deadline: the connection is dropped and
        the caller's timeout error is the result, not a half body.
        """
        clock = task.Clock()
        response = _Response()
        d = call(_Agent(succeed(response)), clock)
        response.protocol.dataReceived(b"ab")
        clock.advance(9.9)
        self.assertNoResult(d)
        clock.advance(0.1)
        self.assertTrue(response.transport.stopped)
        self.assertEqual(str(self.failureResultOf(d, Refused).value), "timed out")

    def test_deadlineWithoutAnswer(self) -> None:
        """No response at all by the deadline: the request is cancelled, the caller's timeout error results."""
        clock = task.Clock()
        cancelled = []
        d = call(_Agent(Deferred(lambda _: cancelled.append(True))), clock)
        clock.advance(10)
        self.assertEqual(cancelled, [True])
        self.assertEqual(str(self.failureResultOf(d, Refused).value), "timed out")

    def test_bodyCap(self) -> None:
        """A body over the cap fails with the caller's tooLarge error, as made, and the connection is dropped."""
        response = _Response()
        d = call(_Agent(succeed(response)), task.Clock())
        response.protocol.dataReceived(b"123456789")
        self.assertTrue(response.transport.stopped)
        self.assertTrue(str(self.failureResultOf(d, Refused).value).startswith("too large: "))

    def test_bodyDoesNotMatter(self) -> None:
        """With bodyMatters=False, a body that cannot be read leaves the status standing (body None)."""
        d = call(_Agent(succeed(_Response(201, length=100))), task.Clock(), bodyMatters=False)
        answer = self.successResultOf(d)
        self.assertEqual(answer, Answer(201, answer.headers, None))

    def test_callerCancels(self) -> None:
        """A cancellation by the caller stays a CancelledError, even wrapped by the agent, and the timer goes."""
        clock = task.Clock()
        inner: Deferred = Deferred(lambda d: d.errback(ResponseNeverReceived([Failure(CancelledError())])))
        d = call(_Agent(inner), clock)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_failures(self) -> None:
        """
        An agent raising at once gives the caller's cannotStart error (failed
        without one); a failed request gives failed, with the reasons the
        agent wraps (L{describe}).
        """
        d = call(_Agent(ValueError("bad URL")), task.Clock(), cannotStart=lambda e: Refused(f"cannot: {e}"))
        self.assertEqual(str(self.failureResultOf(d, Refused).value), "cannot: bad URL")
        d = call(_Agent(ValueError("bad URL")), task.Clock())
        self.assertEqual(str(self.failureResultOf(d, Refused).value), "failed: bad URL")
        refused = ResponseNeverReceived([Failure(ConnectionRefusedError("refused"))])
        d = call(_Agent(fail(refused)), task.Clock())
        self.assertEqual(str(self.failureResultOf(d, Refused).value), "failed: refused")


class ReaderCycleTests(unittest.TestCase):
    """
    The body reader, its Deferred and its transport let go of each other once
    the body ended: what they held is freed by reference counts, not left to
    the cyclic collector (issue 19: one reader a request).
    """

    def setUp(self) -> None:
        import gc

        if gc.isenabled():
            gc.disable()
            self.addCleanup(gc.enable)

    def read(self, end: Any) -> tuple[Any, Deferred]:
        import weakref

        from proxier.httpbody import readBody

        response = _Response()
        d = readBody(response, 8, tooLarge=Refused, cutShort=Refused)
        reader = weakref.ref(response.protocol)
        end(response.protocol)
        response.protocol = None
        return reader, d

    def test_bodyEnded(self) -> None:
        """A whole body, one cut short, one over the cap: the reader is gone as soon as the answer ends."""
        def whole(protocol: Any) -> None:
            protocol.dataReceived(b"abc")
            protocol.connectionLost(Failure(ResponseDone()))

        def cut(protocol: Any) -> None:
            protocol.connectionLost(Failure(ResponseNeverReceived([])))

        def over(protocol: Any) -> None:
            protocol.dataReceived(b"123456789")
            protocol.connectionLost(Failure(ResponseDone()))

        for end, wanted in ((whole, b"abc"), (cut, Refused), (over, Refused)):
            reader, d = self.read(end)
            if wanted is Refused:
                self.failureResultOf(d, Refused)
            else:
                self.assertEqual(self.successResultOf(d), wanted)
            del d  # (its canceller is the reader's: the caller's Deferred keeps it, not the other way round)
            self.assertIsNone(reader(), end.__name__)

    def test_cancelled(self) -> None:
        """Cancelled, the connection is dropped, and once it is lost the reader is gone too."""
        import weakref

        from proxier.httpbody import readBody

        response = _Response()
        d = readBody(response, 8, tooLarge=Refused, cutShort=Refused)
        protocol, response.protocol = response.protocol, None
        reader = weakref.ref(protocol)
        d.cancel()
        self.assertTrue(response.transport.stopped)
        self.failureResultOf(d, CancelledError)
        protocol.connectionLost(Failure(ResponseDone()))
        del protocol, d
        self.assertIsNone(reader())
