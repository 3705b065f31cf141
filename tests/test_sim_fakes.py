"""
Fakes the simulator's tests share — a recording SSDP sender, a scriptable
GENA notifier and firmware fetcher, a device wired to them on a
L{task.Clock} — and the tests that prove the fakes themselves behave.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

from twisted.internet import task
from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial import unittest

from proxier.sim.cmstree import Model, Schema
from proxier.sim.device import Identity, SimulatedDevice
from proxier.sim.fleet import DEFAULT_DATA_FILE
from proxier.sim.service import Service
from proxier.upnp import gena, ssdp


@functools.lru_cache(maxsize=1)
def schema() -> Schema:
    """The packaged data model (loaded once for the whole run)."""
    return Schema.fromFile(DEFAULT_DATA_FILE)


IDENTITY = Identity.forIndex(7, "tests")


def makeModel(clock: Optional[task.Clock] = None, **overrides: str) -> Model:
    clock = clock or task.Clock()
    substitutions = dict(IDENTITY.substitutions(), **overrides)
    return Model(schema(), substitutions, {"uptime": lambda: str(int(clock.seconds())), "now": lambda: "2024-01-01T00:00:00Z"})


def invoke(service: Service, action: str, **arguments: Any) -> dict[str, str]:
    """Run an action with text arguments (as SOAP delivers them); out-arguments as a dict."""
    text = {k: ("1" if v is True else "0" if v is False else str(v)) for k, v in arguments.items()}
    return dict(service.invoke(action, text))


class RecordingSender:
    """An SSDP sender that keeps what it sends, parsed."""

    def __init__(self) -> None:
        self.notifies: list[ssdp.Notify] = []
        self.unicast: list[tuple[Any, tuple]] = []

    def sendNotify(self, datagram: bytes) -> None:
        message = ssdp.parse(datagram)
        assert isinstance(message, ssdp.Notify)
        self.notifies.append(message)

    def sendTo(self, datagram: bytes, address: tuple) -> None:
        self.unicast.append((ssdp.parse(datagram), address))

    def kinds(self) -> list[str]:
        return [n.nts for n in self.notifies]

    def clear(self) -> None:
        self.notifies.clear()
        self.unicast.clear()


class RecordingNotifier:
    """
    A GENA notifier: every NOTIFY is recorded, parsed; it succeeds with
    C{status} at once, or waits when C{manual} is set (fire C{pending}).
    """

    def __init__(self, status: int = 200, manual: bool = False) -> None:
        self.status = status
        self.manual = manual
        self.sent: list[tuple[str, gena.EventMessage]] = []
        self.pending: list[Deferred] = []
        self.failing: set[str] = set()

    def __call__(self, url: str, headers: Any, body: bytes) -> Deferred:
        message = gena.parseEventMessage(headers, body)
        self.sent.append((url, message))
        if url in self.failing:
            return fail(ConnectionRefusedError(url))
        if self.manual:
            d: Deferred = Deferred()
            self.pending.append(d)
            return d
        return succeed(self.status)

    def events(self, sid: Optional[str] = None) -> list[gena.EventMessage]:
        return [m for _, m in self.sent if sid is None or m.sid == sid]


class FakeFetcher:
    """A firmware fetcher: URIs map to bytes or to an exception; others wait."""

    def __init__(self) -> None:
        self.files: dict[str, Any] = {}
        self.asked: list[tuple[str, int]] = []
        self.waiting: dict[str, Deferred] = {}

    def __call__(self, uri: str, maxBytes: int) -> Deferred:
        self.asked.append((uri, maxBytes))
        content = self.files.get(uri)
        if content is None:
            d: Deferred = Deferred()
            self.waiting[uri] = d
            return d
        if isinstance(content, BaseException):
            return fail(content)
        if len(content) > maxBytes:
            from proxier.sim.httpclient import TooBig

            return fail(TooBig(f"more than {maxBytes} bytes"))
        return succeed(content)


def makeDevice(
    clock: Optional[task.Clock] = None, *, index: int = 7, address: str = "192.168.1.20/24", powerOn: bool = True
) -> tuple[SimulatedDevice, task.Clock, RecordingSender, RecordingNotifier, FakeFetcher]:
    """A device on a Clock, its SSDP, GENA and firmware I/O recorded."""
    clock = clock or task.Clock()
    clock.advance(1_700_000_000)
    sender, notifier, fetcher = RecordingSender(), RecordingNotifier(), FakeFetcher()
    device = SimulatedDevice(Identity.forIndex(index, "tests"), schema(), clock, address=address,
                             notifier=notifier, fetcher=fetcher)
    device.attachSSDP(sender, maxAge=1800)
    device.setLocation(f"http://{address.split('/')[0]}:49200")
    if powerOn:
        device.powerOn()
    return device, clock, sender, notifier, fetcher


class FakesTests(unittest.TestCase):
    def test_recordingSenderParses(self) -> None:
        """The recording sender keeps what a device announces, parsed by the project's SSDP codec."""
        device, clock, sender, _, _ = makeDevice()
        self.assertEqual(set(sender.kinds()), {ssdp.ALIVE})
        self.assertEqual(sender.notifies[0].location, "http://192.168.1.20:49200/description.xml")

    def test_notifierManual(self) -> None:
        """A manual notifier holds each NOTIFY until the test fires it."""
        notifier = RecordingNotifier(manual=True)
        message = gena.EventMessage("uuid:x", 0, (("A", "1"),))
        d = notifier("http://192.168.1.5/cb", message.headers(), message.body())
        self.assertNoResult(d)
        notifier.pending[0].callback(200)
        self.assertEqual(self.successResultOf(d), 200)
        self.assertEqual(notifier.events()[0].variables, (("A", "1"),))

    def test_fetcherOutcomes(self) -> None:
        """The fake fetcher gives bytes, fails, refuses what is too big, or waits."""
        fetcher = FakeFetcher()
        fetcher.files["http://a/ok"] = b"abc"
        fetcher.files["http://a/bad"] = ConnectionRefusedError("no")
        self.assertEqual(self.successResultOf(fetcher("http://a/ok", 10)), b"abc")
        self.failureResultOf(fetcher("http://a/bad", 10), ConnectionRefusedError)
        from proxier.sim.httpclient import TooBig

        self.failureResultOf(fetcher("http://a/ok", 2), TooBig)
        self.assertNoResult(fetcher("http://a/later", 10))
