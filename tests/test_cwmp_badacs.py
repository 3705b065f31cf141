"""
Tests for L{proxier.cwmp.endpoint} against an ACS whose answers are broken
(issue 11, item 3): a charset no codec reads, a charset with a NUL, a
Retry-After of non-ASCII digits, of hundreds of digits or a date out of
range, a dateTime beyond 9999. Each must end the session as a protocol error
with a log line that says what — never as "session crashed" — keep the
events for the next session, count a lost session against the RPC it held
(C{sessionLost}), and retry on the TR-069 schedule, an unreadable
Retry-After being treated as absent.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from treq.testing import RequestTraversalAgent
from twisted.internet import task
from twisted.logger import LogLevel, formatEvent
from twisted.trial import unittest
from twisted.web.resource import Resource

from proxier.config import load
from proxier.cwmp.endpoint import MAX_RPC_FAULTS, CWMPEndpoint
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.retry import MAX_RETRY_AFTER
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel.values import DeviceIdentity, TransferResult
from proxier.store import Store
from tests._helpers import LogCapture
from tests.cwmpxsd import assertValidCWMP
from tests.test_cwmp_endpoint import ACS_URL, FakeModel

IDENTITY = DeviceIdentity("ACME", "00D09E", "MediaServer", "SN-BAD")

_HUGE_YEAR = (
    b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">1'
    b"</cwmp:ID></soap-env:Header><soap-env:Body><cwmp:DownloadResponse><Status>1</Status>"
    b"<StartTime>99999999999-01-01T00:00:00Z</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime>"
    b"</cwmp:DownloadResponse></soap-env:Body></soap-env:Envelope>"
)


def _header(name: bytes, value: bytes, status: Optional[int] = None) -> Callable[[Any, bytes], bytes]:
    def spoil(request: Any, body: bytes) -> bytes:
        if status is not None:
            request.setResponseCode(status)
        request.responseHeaders.setRawHeaders(name, [value])
        return body

    return spoil


def _body(data: bytes) -> Callable[[Any, bytes], bytes]:
    def spoil(request: Any, body: bytes) -> bytes:
        request.setHeader(b"Content-Type", b"text/xml")
        return data

    return spoil


# Each broken answer: what it is, how the fake ACS spoils its answer, and
# whether the retry then follows the TR-069 schedule (else: the day's cap).
CASES: tuple[tuple[str, Callable[[Any, bytes], bytes], bool], ...] = (
    ("charset=undefined", _header(b"Content-Type", b"text/xml; charset=undefined"), True),
    ("charset with NUL", _header(b"Content-Type", b'text/xml; charset="utf\x00-8"'), True),
    ("charset=punycode", _header(b"Content-Type", b"text/xml; charset=punycode"), True),
    ("Retry-After \\xb3", _header(b"Retry-After", b"\xb3", status=503), True),
    ("Retry-After Arabic-Indic", _header(b"Retry-After", "١٢٠".encode(), status=503), True),
    ("Retry-After date out of range", _header(b"Retry-After", b"Mon, 01 Jan 2020 99999999999999999999:00:00 GMT",
                                              status=503), True),
    ("Retry-After 300 digits", _header(b"Retry-After", b"9" * 300, status=503), False),
    ("dateTime beyond 9999", _body(_HUGE_YEAR), True),
)


class Spoiler(Resource):
    """The fake ACS, with every answer (or only the answers to C{only}) spoilt by C{spoil}."""

    isLeaf = True

    def __init__(self, acs: FakeACS, spoil: Callable[[Any, bytes], bytes], only: Optional[bytes] = None) -> None:
        super().__init__()
        self.acs = acs
        self.spoil = spoil
        self.only = only
        self.spoilt = 0

    def render(self, request: Any) -> Any:
        received = request.content.read()
        request.content.seek(0)
        answer = self.acs.render(request)
        if not isinstance(answer, bytes) or (self.only is not None and self.only not in received):
            return answer
        self.spoilt += 1
        return self.spoil(request, answer)


class BrokenACSTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.logs = LogCapture(self)

    def make(self, spoil: Callable[[Any, bytes], bytes], only: Optional[bytes] = None) -> tuple[CWMPEndpoint, Spoiler]:
        store = Store.open(self.mktemp()).child("endpoint")
        acs = FakeACS(clock=self.clock, validator=lambda body: assertValidCWMP(self, body))
        resource = Spoiler(acs, spoil, only)
        settings = EndpointSettings(store.document("management-server"),
                                    dict(load(None)["acs"], url=ACS_URL, periodic_inform_enable=False),
                                    connectionRequestUsername="cr", connectionRequestPassword="pw")
        endpoint = CWMPEndpoint(IDENTITY, FakeModel(), settings, store, agent=RequestTraversalAgent(resource),
                                reactor=self.clock, random=lambda: 0.0)
        self.addCleanup(endpoint.stop)
        self.addCleanup(lambda: self.assertEqual(acs.validationErrors, []))
        return endpoint, resource

    def lines(self, level: LogLevel = LogLevel.warn) -> list[str]:
        return [formatEvent(e) for e in self.logs.atLeast(level)]

    def assertNoCrash(self, what: str) -> None:
        crashes = [line for line in self.lines() if "crashed" in line or "unusable answer" in line]
        self.assertEqual(crashes, [], what)
        self.assertEqual(self.flushLoggedErrors(), [], what)

    def test_everyAnswerBroken(self) -> None:
        """
        An ACS that always answers so: each session fails as a protocol error
        with a log line naming the session's failure, the BOOTSTRAP stays
        queued, RetryCount grows, and the retries come at 5 s then 10 s
        (TR-069 Table 3, random part at its low end) — or at the day's cap
        for a Retry-After of hundreds of digits, which is read as "long".
        """
        for what, spoil, schedule in CASES:
            endpoint, resource = self.make(spoil)
            endpoint.start()
            self.clock.advance(0)
            self.assertEqual(resource.spoilt, 1, what)
            self.assertEqual(endpoint.state.retryCount, 1, what)
            self.assertEqual([e.code for e in endpoint.state.events()], ["0 BOOTSTRAP"], what)
            failed = [line for line in self.lines() if "session failed" in line]
            self.assertEqual(len(failed), 1, (what, self.lines()))
            self.assertRegex(failed[0], r"; trying again in \d+ s \(retry 1\) if there is still an event or request "
                                        "to deliver to the ACS$", "said plainly")
            self.assertNoCrash(what)
            waits = (5, 10) if schedule else (MAX_RETRY_AFTER, MAX_RETRY_AFTER)
            for count, wait in enumerate(waits, start=2):
                self.clock.advance(wait - 0.5)
                self.assertEqual(resource.spoilt, count - 1, (what, count))
                self.clock.advance(0.5)
                self.assertEqual(resource.spoilt, count, (what, count))
                self.assertEqual(endpoint.state.retryCount, count, what)
            self.assertEqual([e.code for e in endpoint.state.events()], ["0 BOOTSTRAP"], what)
            self.assertNoCrash(what)
            endpoint.stop()
            self.logs.events.clear()

    def test_brokenAnswerToAQueuedRPC(self) -> None:
        """
        When only the answer to a TransferComplete is broken, each session
        that carried it counts against it (a fault, or C{sessionLost} when the
        session ended): after MAX_RPC_FAULTS it is dropped with an error line,
        and the endpoint's sessions succeed again — the broken answer does not
        block delivery for ever.
        """
        for what, spoil, _ in CASES:
            endpoint, resource = self.make(spoil, only=b"TransferComplete>")
            endpoint.start()
            self.clock.advance(0)
            endpoint.transferComplete(None, TransferResult("poison", "Download"))
            self.clock.advance(0)
            for _ in range(MAX_RPC_FAULTS + 2):
                endpoint.requestSession("2 PERIODIC")
                self.clock.advance(MAX_RETRY_AFTER + 1)
            self.assertEqual(resource.spoilt, MAX_RPC_FAULTS, what)
            self.assertEqual(endpoint.state.queuedRPCs(), [], what)
            self.assertEqual(endpoint.state.retryCount, 0, what)
            dropped = [line for line in self.lines(LogLevel.error) if "dropped" in line]
            self.assertEqual(len(dropped), 1, (what, self.lines()))
            self.assertNoCrash(what)
            endpoint.stop()
            self.logs.events.clear()

    def test_unforeseenErrorIsAProtocolError(self) -> None:
        """
        Should a parser still raise on some answer nobody foresaw, the session
        ends as a failed one, logged with its traceback, and is accounted for
        like any lost session: the RPC it held is dropped after
        MAX_RPC_FAULTS, not retried for ever.
        """
        from proxier.cwmp import endpoint as endpointModule

        real = endpointModule.parseRetryAfter

        def parseRetryAfter(value: Optional[str], now: float) -> Optional[float]:
            if value == "boom":
                raise RuntimeError("a parser bug")
            return real(value, now)

        self.patch(endpointModule, "parseRetryAfter", parseRetryAfter)
        endpoint, resource = self.make(_header(b"Retry-After", b"boom"), only=b"TransferComplete>")
        endpoint.start()
        self.clock.advance(0)
        endpoint.transferComplete(None, TransferResult("poison", "Download"))
        self.clock.advance(0)
        for _ in range(MAX_RPC_FAULTS + 2):
            endpoint.requestSession("2 PERIODIC")
            self.clock.advance(6000)
        self.assertEqual(resource.spoilt, MAX_RPC_FAULTS)
        self.assertEqual(endpoint.state.queuedRPCs(), [])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), MAX_RPC_FAULTS)
        failed = [line for line in self.lines() if "session failed (unusable answer from the ACS" in line]
        self.assertEqual(len(failed), MAX_RPC_FAULTS)
        self.assertFalse([line for line in self.lines() if "crashed" in line])
