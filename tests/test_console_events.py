"""
Tests for L{proxier.console.events}: what changes become which events, the
streams in memory (L{DummyRequest}, a L{task.Clock}) — heartbeats, the bound
on clients, the end — and one stream through the console's guarded site on
a fake connection, which outlives the site's request deadline and idle
timeout.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet import task
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from proxier import config as configmod
from proxier.console.events import HEARTBEAT, MAX_CLIENTS, EventHub, changes, lookPending, pendingChanges
from proxier.console.server import ConsoleService
from tests._fakehttp import FakeConnection
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.interfaces import PendingDevice
from tests._helpers import fired
from tests._memproto import Thing, thingTree
from tests.test_console import FakeSource

TEMPERATURE = "Device.X_000000_Thing.Temperature"
LABEL = "Device.X_000000_Thing.Label"


def parse(stream: bytes) -> list[tuple[str, Any]]:
    """The events of a stream's text, in order (comments and retry left out)."""
    out = []
    for block in stream.decode("utf-8").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith((":", "retry")))
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


class LiveSource(FakeSource):
    """A FakeSource whose endpoints' snapshots the test changes."""

    def add(self, serial: str, model: Any = None, online: bool = True) -> Any:
        device, endpoint = super().add(serial, model, online)
        self.live(endpoint)
        return device, endpoint

    @staticmethod
    def live(endpoint: Any) -> None:
        state = dict(endpoint.snapshot(), pendingValueChanges=[], sessions=0)
        endpoint.state = state
        endpoint.snapshot = lambda: dict(state)


class ChangesTests(unittest.TestCase):
    def test_changes(self) -> None:
        """Each difference of two looks is its event: devices, online, sessions."""
        base = {"online": True, "inSession": False, "sessions": 3, "lastSession": {}}
        before = {"a": base, "b": base}
        ended = {"started": 10.0, "ended": 11.0, "ok": False, "reason": "HTTP 500", "events": ["2 PERIODIC"]}
        after = {"a": dict(base, online=False, sessions=4, lastSession=ended), "c": dict(base, online=False)}
        self.assertEqual(changes(before, after), [
            ("device", {"key": "b", "what": "removed"}),
            ("offline", {"key": "a"}),
            ("session", {"key": "a", "what": "start"}),
            ("session", {"key": "a", "what": "end", "ok": False, "reason": "HTTP 500", "events": ["2 PERIODIC"]}),
            ("device", {"key": "c", "what": "appeared", "online": False}),
        ])
        self.assertEqual(changes(after, after), [])

    def test_pendingChanges(self) -> None:
        """A device found but not proxied appearing, changing (state, why or notices) or gone is one event."""
        button = ("action", "press the device's button", "")
        held = PendingDevice("uuid:a", "A", "UPnP-DM", "192.0.2.1", "waiting", "held", (button,))
        probed = PendingDevice("uuid:b", "B", "UPnP-DM", "192.0.2.2", "probing", "asking it who it is")
        silent = PendingDevice("192.0.2.3", "192.0.2.3", "X_000000_SNMP", "192.0.2.3", "probing", "walking")
        source = FakeSource()
        source.waiting = [held, probed, silent]
        before = lookPending(source)
        source.waiting = [held._replace(notices=()), silent._replace(state="refused"),
                        PendingDevice("uuid:c", "C", "UPnP-DM", "", "probing", "")]
        self.assertEqual(pendingChanges(before, lookPending(source)), [
            ("pending", {"key": "uuid:b", "protocol": "UPnP-DM", "what": "gone"}),
            ("pending", {"key": "uuid:a", "protocol": "UPnP-DM", "what": "changed", "state": "waiting"}),
            ("pending", {"key": "uuid:c", "protocol": "UPnP-DM", "what": "appeared", "state": "probing"}),
            ("pending", {"key": "192.0.2.3", "protocol": "X_000000_SNMP", "what": "changed", "state": "refused"}),
        ])
        self.assertEqual(pendingChanges(before, before), [])


class HubTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1000)
        self.source = LiveSource()
        LiveSource.live(self.source.own)
        self.device, self.endpoint = self.source.add("MEM-0001")
        self.hub = EventHub(self.source, self.clock)

    def open(self) -> DummyRequest:
        request = DummyRequest([b"api", b"events"])
        self.assertEqual(self.hub.render(request), NOT_DONE_YET)
        return request

    def test_stream(self) -> None:
        """
        The stream opens with its retry line; what changed is sent within a
        period: a device appearing, going offline, a session.
        """
        request = self.open()
        self.assertEqual(request.responseHeaders.getRawHeaders(b"content-type"), [b"text/event-stream; charset=utf-8"])
        self.assertEqual(request.written, [b"retry: 5000\n\n"])
        self.clock.advance(1)
        self.assertEqual(len(request.written), 1)  # nothing changed: nothing sent
        other, _ = self.source.add("MEM-0002")
        self.device.online = False
        self.endpoint.state.update(sessions=1)
        self.clock.advance(1)
        self.assertEqual(parse(b"".join(request.written)), [
            ("offline", {"key": self.device.key}),
            ("session", {"key": self.device.key, "what": "start"}),
            ("device", {"key": other.key, "what": "appeared", "online": True}),
        ])
        self.source.own.state.update(lastSession={"ended": 1001.5, "ok": True, "reason": "done", "events": []})
        self.clock.advance(1)
        self.assertEqual(parse(request.written[-1]), [
            ("session", {"key": "self", "what": "end", "ok": True, "reason": "done", "events": []})])

    def test_valueChanges(self) -> None:
        """
        Value changes come from the models' change route, as they happen (no
        look waited for): a reading that changed by itself with active
        notification — which a session started at once would hand to the
        ACS before any look saw it held — and a passive one set from the
        console, of a device that appeared after the stream opened. The hub
        listens only while a client does.
        """
        thing = Thing("MEM-0003")
        model = TreeDataModel(thingTree(thing))
        fired(model.setParameterAttributes([AttributeChange(TEMPERATURE, True, 2)]))
        device, _ = self.source.add("MEM-0003", model=model)
        self.assertEqual(len(model._listeners), 0)
        request = self.open()
        self.assertEqual(len(model._listeners), 1)
        thing.temperature = 31
        model.changed(TEMPERATURE)
        self.assertEqual(parse(request.written[-1]), [
            ("value-change", {"key": device.key, "names": [TEMPERATURE], "active": True})])
        later = Thing("MEM-0004")
        laterModel = TreeDataModel(thingTree(later))
        fired(laterModel.setParameterAttributes([AttributeChange(LABEL, True, 1)]))
        added, _ = self.source.add("MEM-0004", model=laterModel)
        self.clock.advance(1)
        fired(laterModel.setParameterValuesLocally([ParameterValue(LABEL, "set at the gateway")]))
        self.assertEqual(parse(request.written[-1]), [
            ("value-change", {"key": added.key, "names": [LABEL], "active": False})])
        del self.source.pairs[added.key]
        self.clock.advance(1)
        self.assertEqual(len(laterModel._listeners), 0, "a device gone is not listened on")
        request.finish()
        self.assertEqual(len(model._listeners), 0, "no client, no listener")
        thing.temperature = 32
        model.changed(TEMPERATURE)
        self.assertEqual([name for name, _ in parse(b"".join(request.written))],
                         ["value-change", "device", "value-change", "device"], "the second change is not sent")

    def test_pending(self) -> None:
        """
        A device found but not proxied is told as it appears and changes;
        once proxied, it is gone from the pending list and a device appeared.
        """
        request = self.open()
        found = PendingDevice("uuid:sim", "Simulated device 2", "UPnP-DM", "127.0.0.1", "probing",
                              "asking it who it is")
        self.source.waiting = [found]
        self.clock.advance(1)
        self.assertEqual(parse(request.written[-1]), [
            ("pending", {"key": "uuid:sim", "protocol": "UPnP-DM", "what": "appeared", "state": "probing"})])
        self.source.waiting = [found._replace(state="waiting", notices=(("action", "press its button", ""),))]
        self.clock.advance(1)
        self.assertEqual(parse(request.written[-1]), [
            ("pending", {"key": "uuid:sim", "protocol": "UPnP-DM", "what": "changed", "state": "waiting"})])
        self.source.waiting = []
        proxied, _ = self.source.add("MEM-0002")
        self.clock.advance(1)
        self.assertEqual(parse(request.written[-1]), [
            ("device", {"key": proxied.key, "what": "appeared", "online": True}),
            ("pending", {"key": "uuid:sim", "protocol": "UPnP-DM", "what": "gone"})])

    def test_heartbeat(self) -> None:
        """A comment line after HEARTBEAT seconds of silence, not before."""
        request = self.open()
        self.clock.pump([1.0] * int(HEARTBEAT - 1))
        self.assertEqual(len(request.written), 1)
        self.clock.pump([1.0, 1.0])
        self.assertEqual(request.written[1:], [b": heartbeat\n\n"])

    def test_bounded(self) -> None:
        """
        MAX_CLIENTS streams at once: one more is 503 with a JSON fault; a
        stream that ends frees its place; with none left nobody looks.
        """
        streams = [self.open() for _ in range(MAX_CLIENTS)]
        refused = DummyRequest([b"api", b"events"])
        body = self.hub.render(refused)
        self.assertEqual(refused.responseCode, 503)
        self.assertEqual(json.loads(body)["error"]["code"], 9004)
        streams[0].finish()  # the client went away
        self.open()
        self.device.online = False
        self.clock.advance(1)
        self.assertNotIn(b"offline", b"".join(streams[0].written))
        self.assertIn(b"event: offline", b"".join(streams[1].written))
        self.hub.stop()
        self.assertTrue(all(s.finished for s in streams[1:]))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_lookFails(self) -> None:
        """A snapshot that raises is logged; the stream goes on."""
        request = self.open()
        self.endpoint.snapshot = lambda: 1 / 0
        self.clock.advance(1)
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        self.assertEqual(len(self.hub.clients), 1)
        self.assertFalse(request.finished)


class ThroughTheSiteTests(unittest.TestCase):
    def test_longStream(self) -> None:
        """
        GET /api/events through the console's guarded site: the stream is not
        cut by the request deadline (10 s) nor the idle timeout (60 s) — they
        bound reading a request — and carries heartbeats and events.
        """
        reactor = MemoryReactorClock()
        source = LiveSource()
        LiveSource.live(source.own)
        device, _ = source.add("MEM-0001")
        config = configmod.load(None).replace("console", enable=True, port=0)
        service = ConsoleService(config, source, reactor=reactor, interfaces=lambda: [], wan=lambda: [])
        client = FakeConnection(service.site, "127.0.0.1")
        client.send(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:8547\r\n\r\n")
        head = client.received()
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
        self.assertIn(b"text/event-stream", head)
        silent = FakeConnection(service.site, "127.0.0.2")  # the bounds do run on this clock
        silent.send(b"GET /api/ev")
        for _ in range(300):
            reactor.advance(1)
        self.assertTrue(silent.closing)
        self.assertFalse(client.closing)
        device.online = False
        reactor.advance(1)
        text = client.received()
        self.assertIn(b": heartbeat", text)
        self.assertIn(b'event: offline\ndata: {"key": "%s"}\n\n' % device.key.encode(), text)
        service.api.events.stop()
        self.assertTrue(client.received().endswith(b"0\r\n\r\n"))  # the chunked stream's end
