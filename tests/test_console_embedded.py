"""
The local console and the devices proxied by the Embedded Object Mechanism
(TR-069 Annex J.3), in memory (L{tests.test_console}'s fake source, StubTreq,
a L{task.Clock}): such a device has no endpoint of its own, only rows of the
proxier's own tree (here the own tree's C{Device.DeviceInfo.} stands for its
EmbeddedDevice row and C{Device.X_000000_Thing.} for its objects). Listed
once with its rows and CommandProcessed, counted by the status, browsed and
written in the own tree under its rows only, its changes in the event
stream. The real own tree with a printer: L{tests.test_console_e2e}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.trial import unittest
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from proxier.console.api import EmbeddedPresentation
from proxier.console.events import EventHub, changes, look
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.interfaces import PendingDevice
from tests._helpers import LogCapture, fired
from tests._memproto import Thing
from tests.test_console import ConsoleTestCase, FakeDevice
from tests.test_console_events import LiveSource, parse

ROW = "Device.DeviceInfo."
OBJECTS = "Device.X_000000_Thing."
LABEL = OBJECTS + "Label"


class EmbeddedConsoleTests(ConsoleTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alone = FakeDevice(Thing("MEM-0009").identity, online=False)
        self.source.shown.append(self.shown(self.alone))

    @staticmethod
    def shown(device: Any, state: str = "Success", message: str = "") -> EmbeddedPresentation:
        return EmbeddedPresentation(device, ROW, OBJECTS, state, message, 1_700_000_000.0)

    def test_listed(self) -> None:
        """
        /api/devices: a device shown as embedded objects alone, with no
        endpoint nor session, its rows, CommandProcessed and LastSyncTime;
        one presented both ways once, with both; an Error a warning notice.
        /api/status counts them, and the devices found but not proxied.
        """
        self.source.shown.append(self.shown(self.device, "Error", "9007 Invalid parameter value"))
        self.source.waiting = [PendingDevice("snmp://192.0.2.9:161", "snmp://192.0.2.9:161", "X_000000_SNMP",
                                             "192.0.2.9", "waiting", "it does not answer")]
        code, body, _ = self.fetch("GET", "/api/devices")
        self.assertEqual(code, 200)
        both, alone = body["devices"]
        self.assertEqual((both["key"], both["mechanism"]), (self.device.key, "both"))
        self.assertEqual(both["cwmp"]["sessions"], 2)
        self.assertEqual(both["embedded"]["commandProcessed"], "Error")
        self.assertEqual([(n["kind"], n["text"]) for n in both["notices"]],
                         [("warning", "what the ACS set last could not be put on the device and was dropped: "
                                      "9007 Invalid parameter value")])
        self.assertEqual((alone["key"], alone["mechanism"], alone["online"], alone["proxied"], alone["cwmp"],
                          alone["connectionRequestURL"], alone["notices"]),
                         (self.alone.key, "embedded", False, True, None, "", []))
        self.assertEqual(alone["embedded"], {"row": ROW, "reference": OBJECTS, "commandProcessed": "Success",
                                             "commandProcessingErrMsg": "", "lastSyncTime": 1_700_000_000.0,
                                             "writable": True})
        code, status, _ = self.fetch("GET", "/api/status")
        self.assertEqual((status["devices"], status["online"], status["embedded"], status["pending"]), (2, 1, 2, 1))

    def test_browse(self) -> None:
        """
        Its parameter browser is the own tree under its rows: the top level
        lists the rows, below them the own tree's names and values (what the
        ACS reads there); anything else of the own tree is 9005. A device
        presented both ways is its Virtual CWMP Device unless via=embedded.
        """
        key = self.alone.key
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/names?next=1")
        self.assertEqual((code, body["via"], body["names"]), (200, "embedded", [
            {"name": ROW, "writable": False}, {"name": OBJECTS, "writable": False}]))
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/names?next=1&path={OBJECTS}")
        self.assertIn({"name": LABEL, "writable": True}, body["names"])
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/names")
        self.assertEqual([n["name"] for n in body["names"]][:2], [ROW, ROW + "Manufacturer"])
        self.assertIn(LABEL, [n["name"] for n in body["names"]])
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/values?path={ROW}SerialNumber")
        self.assertEqual(body["values"], [{"name": ROW + "SerialNumber", "value": "GW-1", "type": "xsd:string"}])
        for path in ("Device.ManagementServer.", "Device.", "Device.DeviceInfoX."):
            code, body, _ = self.fetch("GET", f"/api/devices/{key}/values?path={path}")
            self.assertEqual((code, body["error"]["code"]), (400, 9005), path)
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/values?path={ROW}SerialNumber&via=virtual")
        self.assertEqual((code, body["error"]["code"]), (404, 9005))
        code, body, _ = self.fetch("GET", f"/api/devices/{self.device.key}/values?path={ROW}SerialNumber&via=embedded")
        self.assertEqual((code, body["error"]["code"]), (404, 9005))  # a Virtual CWMP Device alone
        code, body, _ = self.fetch("GET", f"/api/devices/{key}/values?path={ROW}SerialNumber&via=both")
        self.assertEqual((code, body["error"]["code"]), (400, 9003))
        self.source.shown.append(self.shown(self.device))
        code, body, _ = self.fetch("GET", f"/api/devices/{self.device.key}/values?path={ROW}SerialNumber")
        self.assertEqual((body["via"], body["values"][0]["value"]), ("virtual", "MEM-0001"))
        code, body, _ = self.fetch("GET", f"/api/devices/{self.device.key}/values?path={ROW}SerialNumber&via=embedded")
        self.assertEqual((body["via"], body["values"][0]["value"]), ("embedded", "GW-1"))

    def test_write(self) -> None:
        """
        A write through its rows goes to the own endpoint's model as a local
        write (logged with the user and the device); a name outside its rows
        is 9005 and nothing is written.
        """
        logs = LogCapture(self)
        code, body, _ = self.write(self.alone.key, [{"name": LABEL, "value": "attic"}])
        self.assertEqual((code, body), (200, {"status": 0, "via": "embedded"}))
        self.assertEqual(self.source.own.model.getLocal(LABEL), "attic")
        lines = [e for e in logs.events if "console:" in e.get("log_format", "")]
        self.assertEqual([(e["user"], e["names"]) for e in lines],
                         [("loopback", f"{LABEL} (the embedded objects of {self.alone.key})")])
        code, body, _ = self.write(self.alone.key, [{"name": LABEL, "value": "cellar"},
                                                    {"name": "Device.ManagementServer.PeriodicInformInterval",
                                                     "value": "60"}])
        self.assertEqual((code, body["error"]["code"]), (400, 9005))
        self.assertEqual(self.source.own.model.getLocal(LABEL), "attic")


class EmbeddedEventsTests(unittest.TestCase):
    """The event stream: such a device appears, its CommandProcessed changes, its values change."""

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.source = LiveSource()
        LiveSource.live(self.source.own)
        self.alone = FakeDevice(Thing("MEM-0009").identity)
        self.hub = EventHub(self.source, self.clock)

    def test_look(self) -> None:
        """A device with no endpoint appears (no session); its CommandProcessed changing is an event."""
        before = look(self.source)
        self.source.shown = [EmbeddedConsoleTests.shown(self.alone)]
        after = look(self.source)
        self.assertEqual(changes(before, after), [("device", {"key": self.alone.key, "what": "appeared",
                                                              "online": True})])
        self.source.shown = [EmbeddedConsoleTests.shown(self.alone, "Retrying", "offline")]
        self.assertEqual(changes(after, look(self.source)), [
            ("embedded", {"key": self.alone.key, "commandProcessed": "Retrying",
                          "commandProcessingErrMsg": "offline"})])
        self.assertEqual(changes(after, after), [])

    def test_valueChange(self) -> None:
        """A change of the own tree inside its rows is told for the proxier and for the device."""
        self.source.shown = [EmbeddedConsoleTests.shown(self.alone)]
        request = DummyRequest([b"api", b"events"])
        self.assertEqual(self.hub.render(request), NOT_DONE_YET)
        model = self.source.own.model
        fired(model.setParameterAttributes([AttributeChange(LABEL, True, 1)]))
        fired(model.setParameterValuesLocally([ParameterValue(LABEL, "porch")]))
        self.assertEqual(parse(request.written[-1]), [
            ("value-change", {"key": "self", "names": [LABEL], "active": False}),
            ("value-change", {"key": self.alone.key, "names": [LABEL], "active": False, "via": "embedded"})])

