"""
Tests for L{proxier.printer.events}: ippget events only make the next poll
come now — every transition, sans-IO with L{task.Clock} and scripted IPP
answers.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred
from twisted.trial import unittest

from proxier.printer import ipp
from proxier.printer.events import LEASE, MIN_INTERVAL, TRANSITIONS, IPPEvents, State
from proxier.printer.ippclient import IPPStatusError, IPPTransportError, Notifications, Subscription


def status(code: int) -> IPPStatusError:
    return IPPStatusError(0x0016, ipp.IPPMessage(code, 1, [ipp.AttributeGroup(0x01, [])]))


def event(sequence: int) -> ipp.AttributeGroup:
    return ipp.AttributeGroup(0x07, [ipp.Attribute("notify-sequence-number", (ipp.Value(0x21, sequence),))])


class EventsTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.calls: list[tuple[str, dict, Deferred]] = []
        self.polls = 0
        self.events = IPPEvents(self.call, self.pollNow, self.clock, interval=60, retry=900)

    def call(self, action: str, arguments: Any) -> Deferred:
        d: Deferred = Deferred()
        self.calls.append((action, dict(arguments), d))
        return d

    def pollNow(self) -> None:
        self.polls += 1

    def answer(self, action: str, result: Any) -> dict:
        """Answer the oldest pending call, which must be C{action}; returns its arguments."""
        name, arguments, d = self.calls.pop(0)
        self.assertEqual(name, action)
        (d.errback if isinstance(result, Exception) else d.callback)(result)
        return arguments

    def subscribed(self) -> None:
        self.events.start()
        self.answer("Create-Printer-Subscriptions", Subscription(7, 3600))

    def test_table(self) -> None:
        """An event a state does not list is a bug and raises."""
        self.assertRaises(RuntimeError, self.events._move, "due")
        self.assertEqual({s for s, _ in TRANSITIONS} | set(TRANSITIONS.values()) | {State.IDLE}, set(State))

    def test_subscribeAndFetch(self) -> None:
        """
        Subscribed to printer-state-changed and printer-config-changed; the
        notifications come at the printer's notify-get-interval (bounded);
        events make the poll come now, an empty answer does not.
        """
        self.events.start()
        arguments = self.answer("Create-Printer-Subscriptions", Subscription(7, 3600))
        self.assertEqual(arguments, {"events": ("printer-state-changed", "printer-config-changed"), "lease": LEASE})
        self.assertEqual(self.events.state, State.SUBSCRIBED)
        self.clock.advance(60)
        self.assertEqual(self.answer("Get-Notifications", Notifications(1, [])), {"id": 7, "sequence": 1})
        self.assertEqual(self.polls, 0)
        self.assertEqual(self.events.wait, MIN_INTERVAL)
        self.clock.advance(MIN_INTERVAL)
        self.answer("Get-Notifications", Notifications(1, [event(1), event(2)]))
        self.assertEqual((self.polls, self.events.sequence), (1, 3))
        self.clock.advance(MIN_INTERVAL)
        self.assertEqual(self.answer("Get-Notifications", Notifications(600, [])), {"id": 7, "sequence": 3})
        self.assertEqual(self.events.wait, 60, "never less often than the polls")

    def test_refused(self) -> None:
        """A printer without events (an IPP status): polling alone, asked again after the retry time."""
        self.events.start()
        self.answer("Create-Printer-Subscriptions", status(0x0501))
        self.assertEqual(self.events.state, State.UNSUPPORTED)
        self.clock.advance(899)
        self.assertEqual(self.calls, [])
        self.clock.advance(1)
        self.assertEqual(self.events.state, State.SUBSCRIBING)
        self.answer("Create-Printer-Subscriptions", Subscription(8, 3600))
        self.assertEqual(self.events.state, State.SUBSCRIBED)

    def test_unanswered(self) -> None:
        """No answer to the subscription: tried again after a poll interval."""
        self.events.start()
        self.answer("Create-Printer-Subscriptions", IPPTransportError("refused"))
        self.assertEqual(self.events.state, State.BACKOFF)
        self.clock.advance(60)
        self.assertEqual(self.calls[0][0], "Create-Printer-Subscriptions")

    def test_fetchUnanswered(self) -> None:
        """A Get-Notifications without answer keeps the subscription and asks again later."""
        self.subscribed()
        self.clock.advance(60)
        self.answer("Get-Notifications", IPPTransportError("timeout"))
        self.assertEqual(self.events.state, State.SUBSCRIBED)
        self.clock.advance(60)
        self.assertEqual(self.answer("Get-Notifications", Notifications(None, [])), {"id": 7, "sequence": 1})

    def test_lost(self) -> None:
        """The printer no longer knows the subscription (it restarted): poll now and subscribe again."""
        self.subscribed()
        self.clock.advance(60)
        self.answer("Get-Notifications", status(0x0406))
        self.assertEqual((self.events.state, self.polls), (State.SUBSCRIBING, 1))
        self.answer("Create-Printer-Subscriptions", Subscription(9, 3600))
        self.clock.advance(60)
        self.assertEqual(self.answer("Get-Notifications", Notifications(None, [])), {"id": 9, "sequence": 1})

    def test_renewal(self) -> None:
        """The lease is renewed at half its time; a renewal the printer refuses means the subscription is gone."""
        self.events = IPPEvents(self.call, self.pollNow, self.clock, interval=5000, retry=900)
        self.subscribed()
        self.clock.advance(1800)
        self.assertEqual(self.answer("Renew-Subscription", None), {"id": 7, "lease": LEASE})
        self.clock.advance(1800)
        self.answer("Renew-Subscription", status(0x0406))
        self.assertEqual((self.events.state, self.polls), (State.SUBSCRIBING, 1))

    def test_stop(self) -> None:
        """Stopping cancels the timers and the subscription; a stopped machine hears no late answer."""
        self.subscribed()
        self.clock.advance(60)
        stopped = self.events.stop()
        self.assertEqual(self.calls.pop(0)[0], "Get-Notifications")  # cancelled
        self.assertEqual(self.answer("Cancel-Subscription", None), {"id": 7})
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(self.successResultOf(stopped), None)
        self.assertEqual(self.events.state, State.IDLE)

    def test_stopBeforeGranted(self) -> None:
        """Stopped while subscribing: nothing to cancel, and the late grant is ignored."""
        self.events.start()
        self.successResultOf(self.events.stop())
        self.assertEqual(self.events.state, State.IDLE)
        self.assertEqual(len(self.calls), 1, "only the subscription asked for, which was cancelled")
