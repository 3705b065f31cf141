"""Tests for L{proxier.sim.gena}: the GENA publisher of a simulated service (UDA 1.1 §4)."""

from __future__ import annotations

from twisted.internet import task
from twisted.trial import unittest

from proxier.sim.bms import BasicManagement
from proxier.sim.cms import ConfigurationManagement
from proxier.sim.gena import CallbackPolicy, Publisher
from proxier.upnp import gena

from tests.test_sim_fakes import RecordingNotifier, makeModel

CB = "http://192.168.1.5:8058/cb"
PEER = "192.168.1.5"
POLICY = CallbackPolicy(["192.168.1.0/24"])


class StubDevice:
    def requestReboot(self, reason: str = "", delay=None) -> None: ...

    def requestBaselineReset(self) -> None: ...

    def logURL(self, name: str) -> str:
        return "http://192.168.1.20/logs/" + name


class PublisherTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.service = BasicManagement(StubDevice(), self.clock)
        self.notifier = RecordingNotifier()
        self.publisher = Publisher(self.service, self.clock, self.notifier, POLICY, maxTimeout=1800)

    def subscribe(self, timeout=300, callbacks=(CB,), peer=PEER) -> gena.SubscribeResponse:
        answer = self.publisher.subscribe(gena.Subscribe(tuple(callbacks), timeout), peer)
        self.publisher.start(answer.sid)
        return answer

    def status(self, f, *args) -> int:
        with self.assertRaises(gena.GENAError) as caught:
            f(*args)
        return caught.exception.status


class SubscribeTests(PublisherTestCase):
    def test_initialEvent(self) -> None:
        """The initial event, SEQ 0, carries every evented variable, and only after start()."""
        answer = self.publisher.subscribe(gena.Subscribe((CB,), 300), PEER)
        self.assertEqual(self.notifier.sent, [])
        self.publisher.start(answer.sid)
        url, message = self.notifier.sent[0]
        self.assertEqual((url, message.sid, message.seq), (CB, answer.sid, 0))
        self.assertEqual([n for n, _ in message.variables], self.service.eventedVariables())
        self.assertTrue(answer.sid.startswith("uuid:"))

    def test_timeoutGranted(self) -> None:
        """The duration asked is granted up to the maximum; infinite and none get the maximum."""
        self.assertEqual(self.subscribe(300).timeout, 300)
        self.assertEqual(self.subscribe(100000).timeout, 1800)
        self.assertEqual(self.subscribe(gena.INFINITE).timeout, 1800)
        self.assertEqual(self.subscribe(None).timeout, 1800)
        self.assertEqual(self.subscribe(0).timeout, 1)

    def test_callbackPolicy(self) -> None:
        """Callbacks off the subscriber's subnet, or named instead of numbered, are refused with 412."""
        for callbacks, peer in (
            (("http://10.0.0.5/cb",), PEER),
            (("http://127.0.0.1/cb",), PEER),
            (("http://printer.lan/cb",), PEER),
            ((CB,), "10.0.0.9"),
            (("http://169.254.169.254/latest",), PEER),
        ):
            self.assertEqual(self.status(self.publisher.subscribe, gena.Subscribe(callbacks, 300), peer), 412)
        answer = self.subscribe(callbacks=("http://10.0.0.5/cb", CB))
        self.assertEqual(self.publisher.subscriptions[answer.sid].callbacks, (CB,))

    def test_loopbackPolicy(self) -> None:
        """A device on loopback takes loopback callbacks from loopback subscribers."""
        policy = CallbackPolicy(["127.0.0.1/8"])
        self.assertTrue(policy.accepts("http://127.0.0.1:9000/cb", "127.0.0.1"))
        self.assertTrue(policy.accepts("http://127.0.0.1:9000/cb", "::ffff:127.0.0.1"))
        self.assertFalse(policy.accepts("http://127.0.0.1:99999/cb", "127.0.0.1"))
        self.assertFalse(policy.accepts("http://[::1]/cb", "127.0.0.1"))

    def test_tooMany(self) -> None:
        """Beyond the subscription cap, 503."""
        self.publisher.maxSubscriptions = 2
        self.subscribe()
        self.subscribe()
        self.assertEqual(self.status(self.publisher.subscribe, gena.Subscribe((CB,), 300), PEER), 503)

    def test_renewAndExpiry(self) -> None:
        """A renewal restarts the clock; without one the subscription expires and its SID is unknown (412)."""
        sid = self.subscribe(100).sid
        self.clock.advance(90)
        self.assertEqual(self.publisher.renew(gena.Renew(sid, 100)).timeout, 100)
        self.clock.advance(90)
        self.assertIn(sid, self.publisher.subscriptions)
        self.clock.advance(11)
        self.assertNotIn(sid, self.publisher.subscriptions)
        self.assertEqual(self.status(self.publisher.renew, gena.Renew(sid, 100)), 412)

    def test_forget(self) -> None:
        """A subscription whose answer never got out is dropped without an event."""
        answer = self.publisher.subscribe(gena.Subscribe((CB,), 300), PEER)
        self.publisher.forget(answer.sid)
        self.publisher.start(answer.sid)
        self.assertEqual((self.publisher.subscriptions, self.notifier.sent), ({}, []))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_unsubscribe(self) -> None:
        """UNSUBSCRIBE ends the subscription; a second one, or an unknown SID, is 412."""
        sid = self.subscribe().sid
        self.publisher.unsubscribe(gena.Unsubscribe(sid))
        self.assertEqual(self.status(self.publisher.unsubscribe, gena.Unsubscribe(sid)), 412)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.service.changed("DeviceStatus")
        self.assertEqual(len(self.notifier.sent), 1)


class EventTests(PublisherTestCase):
    def test_seqCounts(self) -> None:
        """Each change is one NOTIFY per subscriber with only the changed variables; SEQ counts up per subscriber."""
        a, b = self.subscribe().sid, self.subscribe().sid
        self.service.setDeviceStatus("Error")
        self.service.setDeviceStatus("OK")
        for sid in (a, b):
            events = self.notifier.events(sid)
            self.assertEqual([e.seq for e in events], [0, 1, 2])
            self.assertEqual([n for n, _ in events[1].variables], ["DeviceStatus"])
            self.assertTrue(events[2].variables[0][1].startswith("OK,"))

    def test_seqWraps(self) -> None:
        """After SEQ 2**32-1 comes 1 (0 belongs to the initial event)."""
        sid = self.subscribe().sid
        self.publisher.subscriptions[sid].seq = gena.MAX_SEQ
        self.service.setDeviceStatus("Error")
        self.service.setDeviceStatus("OK")
        self.assertEqual([e.seq for e in self.notifier.events(sid)][-2:], [gena.MAX_SEQ, 1])

    def test_oneInFlightMerged(self) -> None:
        """While a NOTIFY is out, changes wait and merge into one; events stay in order."""
        self.notifier.manual = True
        sid = self.subscribe().sid
        self.service.setDeviceStatus("Error")
        self.service.setDeviceStatus("Warning")
        self.assertEqual(len(self.notifier.sent), 1)
        self.notifier.pending.pop(0).callback(200)
        self.assertEqual(len(self.notifier.sent), 2)
        self.assertEqual(self.notifier.sent[1][1].variables[0][1].split(",")[0], "Warning")
        self.notifier.pending.pop(0).callback(200)
        self.assertEqual([e.seq for e in self.notifier.events(sid)], [0, 1])

    def test_changesBeforeStart(self) -> None:
        """Changes between the SUBSCRIBE answer and the initial event end up in the initial event."""
        answer = self.publisher.subscribe(gena.Subscribe((CB,), 300), PEER)
        self.service.setDeviceStatus("Error")
        self.publisher.start(answer.sid)
        self.assertEqual(len(self.notifier.sent), 1)
        self.assertTrue(dict(self.notifier.sent[0][1].variables)["DeviceStatus"].startswith("Error,"))

    def test_fallbackAndDrop(self) -> None:
        """A failing callback URL falls back to the next; when all fail repeatedly, the subscription is dropped."""
        other = "http://192.168.1.6/cb"
        self.notifier.failing.add(CB)
        sid = self.subscribe(callbacks=(CB, other)).sid
        self.assertEqual([u for u, _ in self.notifier.sent], [CB, other])
        self.notifier.failing.add(other)
        for n in range(self.publisher.maxFailures):
            self.service.setDeviceStatus(f"E{n}")
        self.assertNotIn(sid, self.publisher.subscriptions)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_httpErrorIsFailure(self) -> None:
        """A subscriber answering other than 2xx has not taken the event; SEQ still moves on."""
        self.notifier.status = 412
        sid = self.subscribe().sid
        self.service.setDeviceStatus("Error")
        self.assertEqual([e.seq for e in self.notifier.events(sid)], [0, 1])
        self.assertEqual(self.publisher.subscriptions[sid].failures, 2)

    def test_notifierThatRaises(self) -> None:
        """A notifier raising instead of failing its Deferred counts as a failed delivery."""
        def broken(url, headers, body):
            raise ValueError("bug")

        self.publisher.notifier = broken
        sid = self.subscribe().sid
        self.assertEqual(self.publisher.subscriptions[sid].failures, 1)

    def test_lostEvents(self) -> None:
        """Events lost on purpose leave a SEQ gap the subscriber can see; the initial event is never lost."""
        self.publisher.loseEvents(2)
        sid = self.subscribe().sid
        for status in ("E1", "E2", "E3"):
            self.service.setDeviceStatus(status)
        self.assertEqual([e.seq for e in self.notifier.events(sid)], [0, 3])

    def test_dropAll(self) -> None:
        """A reboot forgets every subscription and timer."""
        self.subscribe()
        self.publisher.dropAll()
        self.assertEqual(self.publisher.subscriptions, {})
        self.assertEqual(self.clock.getDelayedCalls(), [])


class ModerationTests(unittest.TestCase):
    def test_configurationUpdateModerated(self) -> None:
        """ConfigurationUpdate goes out at once, then at most once a second with the last value of a burst."""
        clock = task.Clock()
        clock.advance(100)
        cms = ConfigurationManagement(makeModel(clock), clock)
        notifier = RecordingNotifier()
        publisher = Publisher(cms, clock, notifier, POLICY)
        sid = publisher.subscribe(gena.Subscribe((CB,), 300), PEER).sid
        publisher.start(sid)
        for name in ("a", "b", "c"):
            cms.setLocal("/BBF/Time/NTPServer1", f"{name}.example")
        events = notifier.events(sid)
        self.assertEqual(len(events), 2)
        self.assertEqual(events[1].variables[0][1].split(",")[0], "1")
        clock.advance(1.0)
        events = notifier.events(sid)
        self.assertEqual(len(events), 3)
        self.assertEqual(events[2].variables, (("ConfigurationUpdate", cms.value_ConfigurationUpdate()),))
        self.assertEqual(events[2].variables[0][1].split(",")[0], "3")
        cms.action_SetAlarmsEnabled(True)
        self.assertEqual(notifier.events(sid)[-1].variables, (("AlarmsEnabled", "1"),))
        clock.advance(5)
        cms.setLocal("/BBF/Time/NTPServer1", "d.example")
        self.assertEqual(len(notifier.events(sid)), 5)
