"""
The console end to end (issue 15): a real L{ProxierService} with the
in-memory test protocol (L{tests._memproto}), the fake ACS on 127.0.0.1 and
the console on a loopback port, spoken to over HTTP. A value set from the
console where the ACS asked for Notification reaches the ACS as "4 VALUE
CHANGE" in the next Inform, with the new value (TR-069 A.3.2.4); the same
parameter set by the ACS itself is not reported back. So too for a printer
(the real printer plugin polling the demo's IPP printer,
L{proxier.sim.ippprinter}, on 127.0.0.1): the console's write goes through
Set-Printer-Attributes and its read-back. A printer presented both ways
(C{[printer] mechanism = both}): listed once, with its Virtual CWMP Device
and its rows of the proxier's own tree; browsed and written there, the
value pushed down to the printer, CommandProcessed back to Success.
"""

from __future__ import annotations

import json
from typing import Any

import treq
from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool

from proxier.console.api import CSRF_HEADER
from proxier.console.server import addConsole
from proxier.cwmp import messages as m
from proxier.datamodel.values import AttributeChange, DeviceIdentity, ParameterValue
from proxier.sim import ippprinter
from tests import _e2e
from tests._e2e import events, waitFor
from tests._memproto import THING, Bench, MemoryProtocol
from tests.test_printer_interop import LOCATION
from tests.test_printer_interop import Lab as PrinterLab
from tests.test_proxy_embeddedobjects import Lab as EmbeddedLab
from tests.test_printer_plugin import PRINTER

PROXIER = DeviceIdentity("proxier", "000000", "Gateway", "GW-CONSOLE-1")
LABEL = THING + "Label"


class Lab(_e2e.Lab):
    """One in-memory device, the console enabled on a free loopback port."""

    def __init__(self, testCase: unittest.TestCase) -> None:
        self.bench = Bench(1)
        super().__init__(testCase, [MemoryProtocol(self.bench)], PROXIER,
                         sections={"console": {"enable": True, "port": 0}})

    def devices(self) -> list[DeviceIdentity]:
        return [thing.identity for thing in self.bench.things]


class ConsoleWriteTests(unittest.TestCase):
    timeout = 60

    def client(self, console: Any) -> Any:
        """C{call(method, path, **kwargs)}: the console's API over HTTP; fires with the status and the JSON."""
        http = treq.client.HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))
        base = console.url() + "api/"

        @defer.inlineCallbacks
        def call(method: str, path: str, **kwargs: Any) -> Any:
            response = yield http.request(method, base + path, **kwargs)
            body = yield response.content()
            return response.code, json.loads(body)

        return call

    @defer.inlineCallbacks
    def test_printerConsoleWrite(self) -> None:
        """
        A printer is written from the console as any device: the ACS turns
        Notification on for ServiceLocation, the console sets it (200, the
        printer now has it), and the next Inform carries "4 VALUE CHANGE"
        with the console's value.
        """
        with open(ippprinter.DEMO_ATTRIBUTES) as f:
            printer = ippprinter.IPPPrinter(reactor, ippprinter.readAttributeFile(f.read()), location="Room 1")
        port = ippprinter.listen(reactor, printer)
        self.addCleanup(port.stopListening)
        lab = PrinterLab(self, f"ipp://127.0.0.1:{port.getHost().port}/ipp/print")
        lab.sections["console"] = {"enable": True, "port": 0}
        yield lab.start()
        call = self.client(addConsole(lab.tree))
        yield lab.session([m.SetParameterAttributes((AttributeChange(LOCATION, True, 1),))], lab.printer)
        code, session = yield call("GET", "session")
        code, answer = yield call("POST", f"devices/{lab.printer.key}/values",
                                  data=json.dumps({"values": [{"name": LOCATION, "value": "Lab 7"}]}).encode(),
                                  headers={"Content-Type": "application/json",
                                           CSRF_HEADER.decode(): session["csrf"]})
        self.assertEqual((code, answer), (200, {"status": 0, "via": "virtual"}))
        self.assertEqual(printer.attributes["printer-location"].value, "Lab 7")
        after = yield lab.session([], lab.printer)
        self.assertEqual(events(after), ["4 VALUE CHANGE", "6 CONNECTION REQUEST"])
        self.assertIn(ParameterValue(LOCATION, "Lab 7", "xsd:string"), after.inform.parameters)

    @defer.inlineCallbacks
    def test_consoleWriteIsValueChange(self) -> None:
        """
        The ACS turns Notification on for a parameter; the console lists the
        device and sets the parameter (with the session's CSRF token); the
        next session's Inform carries "4 VALUE CHANGE" with the console's
        value. The ACS's own write of it afterwards brings no VALUE CHANGE.
        """
        lab = yield Lab(self).start()
        call = self.client(addConsole(lab.tree))
        device = lab.devices()[0]
        yield lab.session([m.SetParameterAttributes((AttributeChange(LABEL, True, 1),))], device)
        code, listed = yield call("GET", "devices")
        self.assertEqual(code, 200)
        [row] = listed["devices"]
        self.assertEqual((row["key"], row["online"], row["writable"]), (device.key, True, True))
        self.assertEqual(row["cwmp"]["lastSession"]["events"], ["6 CONNECTION REQUEST"])
        code, session = yield call("GET", "session")
        code, answer = yield call("POST", f"devices/{device.key}/values",
                                  data=json.dumps({"values": [{"name": LABEL, "value": "set at the gateway"}]}).encode(),
                                  headers={"Content-Type": "application/json",
                                           CSRF_HEADER.decode(): session["csrf"]})
        self.assertEqual((code, answer), (200, {"status": 0, "via": "virtual"}))
        code, listed = yield call("GET", "devices")
        self.assertIn("4 VALUE CHANGE", listed["devices"][0]["cwmp"]["pendingEvents"])

        after = yield lab.session([], device)
        self.assertEqual(events(after), ["4 VALUE CHANGE", "6 CONNECTION REQUEST"])
        self.assertIn(ParameterValue(LABEL, "set at the gateway", "xsd:string"), after.inform.parameters)

        yield lab.session([m.SetParameterValues((ParameterValue(LABEL, "set by the ACS"),), "k1")], device)
        again = yield lab.session([m.GetParameterValues((LABEL,))], device)
        self.assertEqual(events(again), ["6 CONNECTION REQUEST"])
        self.assertEqual(_e2e.answers(again)[0].parameters, (ParameterValue(LABEL, "set by the ACS", "xsd:string"),))
        code, values = yield call("GET", f"devices/{device.key}/values?path={LABEL}")
        self.assertEqual(values["values"][0]["value"], "set by the ACS")

    @defer.inlineCallbacks
    def test_embeddedObjects(self) -> None:
        """
        [printer] mechanism = both: the printer listed once, "both", with
        its endpoint and its rows (EmbeddedDevice.1, PrintService.1),
        counted by the status; its location read through its rows (what the
        ACS reads there) and set there: Status 1, the value in the proxier's
        copy at once, on the printer once pushed, CommandProcessed Success
        and LastSyncTime shown.
        """
        lab = EmbeddedLab(self, "both")
        lab.sections["console"] = {"enable": True, "port": 0}
        yield lab.start()
        call = self.client(addConsole(lab.tree))
        row, service = "Device.ManagementServer.EmbeddedDevice.1.", "Device.Services.PrintService.1."
        location = service + "PrintServiceDescription.ServiceLocation"
        code, listed = yield call("GET", "devices")
        [device] = listed["devices"]
        self.assertEqual((device["key"], device["mechanism"], device["embedded"]["row"],
                          device["embedded"]["reference"], device["embedded"]["commandProcessed"]),
                         (PRINTER.key, "both", row, service, "Success"))
        self.assertTrue(device["cwmp"]["sessions"])
        code, status = yield call("GET", "status")
        self.assertEqual((status["devices"], status["embedded"], status["pending"]), (1, 1, 0))
        code, names = yield call("GET", f"devices/{PRINTER.key}/names?via=embedded&next=1")
        self.assertEqual([n["name"] for n in names["names"]], [row, service])
        code, values = yield call("GET", f"devices/{PRINTER.key}/values?via=embedded&path={location}"
                                         f"&path={row}Reference")
        self.assertEqual([v["value"] for v in values["values"]], ["Room 1", service[:-1]])
        code, session = yield call("GET", "session")
        code, answer = yield call("POST", f"devices/{PRINTER.key}/values?via=embedded",
                                  data=json.dumps({"values": [{"name": location, "value": "Lab 3"}]}).encode(),
                                  headers={"Content-Type": "application/json", CSRF_HEADER.decode(): session["csrf"]})
        self.assertEqual((code, answer), (200, {"status": 1, "via": "embedded"}))
        code, values = yield call("GET", f"devices/{PRINTER.key}/values?via=embedded&path={location}")
        self.assertEqual(values["values"][0]["value"], "Lab 3")
        yield waitFor(lambda: lab.printer.attributes["printer-location"].value == "Lab 3", what="the push")
        code, listed = yield call("GET", "devices")
        self.assertEqual(listed["devices"][0]["embedded"]["commandProcessed"], "Success")
        self.assertTrue(listed["devices"][0]["embedded"]["lastSyncTime"])
