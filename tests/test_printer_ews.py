# -*- test-case-name: tests.test_printer_ews -*-
"""
Tests for L{proxier.printer.ews}, the EWS seam (PRINTERS.md §9): adapters
written here, since none is shipped — one for a fake web server on
L{treq.testing.StubTreq} (forms read by GET and written by POST, a write
that does not take, redirects, oversize and hostile pages, Digest), and one
for the real ippeveprinter's C{/supplies} form (started by
L{tests.peers.printers}; skipped with the reason when absent).
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional
from urllib.parse import parse_qsl

from treq.testing import StubTreq
from twisted.logger import Logger, formatEvent
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial import unittest
from twisted.web.resource import Resource
from zope.interface import implementer
from zope.interface.verify import verifyObject

from proxier import httpauth
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.types import String, UnsignedInt
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.lan.httpclient import Requester
from proxier.lan.urlpolicy import Origin, URLPolicy
from proxier.printer import ews
from proxier.printer.device import PrinterDevice
from proxier.printer.ippclient import Credentials
from proxier.printer.poller import PollSlots
from proxier.printer.settings import PrinterSettings
from proxier.store import Store
from tests._fakeprinter import URL, FakeClient, FakePrinter
from tests._helpers import LogCapture
from tests.peers import printers

_INPUT = re.compile(r'<input name="([A-Za-z0-9_]+)"[^>]*?value="([^"]*)"')


def formValues(page: ews.Page) -> dict[str, str]:
    """The named inputs of a form and their values (the test adapters' scraping: never the core's)."""
    return dict(_INPUT.findall(page.text()))


@implementer(ews.IEWSAdapter)
class SettingsAdapter:
    """A vendor's C{/settings} form: the SMTP server and the sleep delay, read by GET, written by POST."""

    name = "test-settings"
    parameters = (
        ews.EWSParameter("X_ACME_SMTPServer", String(64), writable=True),
        ews.EWSParameter("X_ACME_SleepMinutes", UnsignedInt(maximum=240), writable=True),
        ews.EWSParameter("X_ACME_Firmware", String(32)),
    )

    def matches(self, makeAndModel: str) -> bool:
        return makeAndModel.startswith("Acme ")

    @defer.inlineCallbacks
    def read(self, web: ews.EWSClient) -> Any:
        page = yield web.get("/settings")
        form = formValues(page)
        return {"X_ACME_SMTPServer": form["smtp"], "X_ACME_SleepMinutes": int(form["sleep"]),
                "X_ACME_Firmware": form.get("firmware", "")}

    def write(self, web: ews.EWSClient, changes: Mapping[str, Any]) -> Any:
        fields = {"X_ACME_SMTPServer": "smtp", "X_ACME_SleepMinutes": "sleep"}
        return web.post("/settings", [(fields[name], str(value)) for name, value in changes.items()])


class FakeEWS(Resource):
    """
    A printer's web server: C{/settings} shows the form (GET) and takes it
    (POST); C{ignored} fields are answered 200 and not taken; C{redirect}
    answers every request with a 302 there; C{page} replaces the form's
    bytes; C{digest} demands Digest.
    """

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.settings = {"smtp": "mail.example", "sleep": "15", "firmware": "1.2"}
        self.ignored: set[str] = set()
        self.redirect: Optional[str] = None
        self.page: Optional[bytes] = None
        self.digest: Optional[httpauth.DigestServer] = None
        self.requests: list[tuple[str, str, bytes]] = []

    def render(self, request: Any) -> bytes:
        body = request.content.read()
        self.requests.append((request.method.decode(), request.uri.decode(), body))
        if self.digest is not None:
            header = (request.getHeader(b"authorization") or b"").decode("latin-1")
            result = self.digest.check(request.method.decode(), request.uri.decode(), header,
                                       {"admin": "s3cret"}.get)
            if not result.ok:
                request.setResponseCode(401)
                request.setHeader(b"WWW-Authenticate", self.digest.challenge().encode())
                return b""
        if self.redirect is not None and request.path != b"/landed":
            request.setResponseCode(302)
            request.setHeader(b"Location", self.redirect.encode())
            return b""
        if request.method == b"POST":
            for key, value in parse_qsl(body.decode()):
                if key in self.settings and key not in self.ignored:
                    self.settings[key] = value
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        if self.page is not None:
            return self.page
        inputs = "".join(f'<input name="{k}" size="20" value="{v}">' for k, v in self.settings.items())
        return f"<html><body><form method='POST' action='/settings'>{inputs}</form></body></html>".encode()


def _noResolve(host: str) -> Any:
    raise AssertionError(f"no name may be resolved in this test ({host})")


class Base(unittest.TestCase):
    def setUp(self) -> None:
        self.server = FakeEWS()
        self.stub = StubTreq(self.server)
        self.clock = Clock()
        self.log = LogCapture(self)
        self.logger = Logger(namespace="tests.ews")

    def logged(self, text: str) -> list[str]:
        return [formatEvent(e) for e in self.log.events if text in formatEvent(e)]

    def client(self, base: str = "http://127.0.0.1:8080/", credentials: Any = None) -> ews.EWSClient:
        policy = URLPolicy(_noResolve, schemes=("http", "https"))
        requester = Requester(self.stub, self.clock, policy)
        return ews.EWSClient(base, requester, Origin("127.0.0.1", None, loopbackMode=True), credentials=credentials,
                             timeout=5)

    def settings(self, **kw: Any) -> ews.EWSSettings:
        return ews.EWSSettings(SettingsAdapter(), self.client(**kw), lambda run: run(), self.logger)

    def result(self, d: defer.Deferred) -> Any:
        results: list = []
        d.addBoth(results.append)
        self.stub.flush()
        self.assertEqual(len(results), 1, "the request did not finish")
        return results[0]

    def failure(self, d: defer.Deferred, *types: type) -> Any:
        outcome = self.result(d)
        self.assertTrue(hasattr(outcome, "check") and outcome.check(*types), f"not a {types} failure: {outcome!r}")
        return outcome.value


class LookupTests(unittest.TestCase):
    """Adapters by make and model; none shipped; vendor names only."""

    def test_noneShipped(self) -> None:
        """PRINTERS.md §9: ship none by default — no printer gets EWS parameters from the core."""
        self.assertEqual(ews.ADAPTERS, ())
        self.assertIsNone(ews.lookup("Acme Laser 9"))

    def test_firstMatch(self) -> None:
        adapter = SettingsAdapter()
        verifyObject(ews.IEWSAdapter, adapter)
        self.assertIs(ews.lookup("Acme Laser 9", (adapter,)), adapter)
        self.assertIsNone(ews.lookup("ExampleCo MFP 4000 Color", (adapter,)))
        self.assertIsNone(ews.lookup("", (adapter,)))

    def test_vendorNames(self) -> None:
        """TR-106 §3.3: X_<VENDOR>_<name>; anything else is refused when the adapter is written."""
        ews.EWSParameter("X_000000_Level", UnsignedInt())
        ews.EWSParameter("X_example.com_Level", UnsignedInt())
        for bad in ("Level", "X_Level", "X__Level", "X_ACME_", "X_ACME_Smtp.Server", "X_ACME_a b"):
            self.assertRaises(ValueError, ews.EWSParameter, bad, UnsignedInt())

    def test_objectName(self) -> None:
        """Mounted as the plugin's vendor object, PrintService.1.X_000000_EWS."""
        self.assertEqual(ews.OBJECT, "X_000000_EWS")


class ClientTests(Base):
    """The requests an adapter can make: the printer's own host only, bounded, authenticated."""

    def test_getAndPost(self) -> None:
        """GET a page; POST a form (urlencoded, with its Content-Type); the page's charset decodes its text."""
        web = self.client()
        page = self.result(web.get("/settings", [("tab", "mail")]))
        self.assertEqual((page.code, page.url), (200, "http://127.0.0.1:8080/settings?tab=mail"))
        self.assertEqual(formValues(page)["smtp"], "mail.example")
        self.result(web.post("/settings", [("smtp", "relay.example"), ("sleep", "30")]))
        self.assertEqual(self.server.requests[-1], ("POST", "/settings", b"smtp=relay.example&sleep=30"))
        self.assertEqual(self.server.settings["smtp"], "relay.example")

    def test_redirectOnTheHostFollowed(self) -> None:
        """A form's answer redirected on the printer itself: followed with a GET, as a browser does."""
        self.server.redirect = "/landed"
        page = self.result(self.client().post("/settings", [("smtp", "relay.example")]))
        self.assertEqual(page.url, "http://127.0.0.1:8080/landed")
        self.assertEqual([r[:2] for r in self.server.requests], [("POST", "/settings"), ("GET", "/landed")])

    def test_redirectElsewhereRefused(self) -> None:
        """
        A redirect to another host is refused — also one the LAN policy
        would allow (another loopback address in loopback mode) — and never
        requested.
        """
        for elsewhere in ("http://127.0.0.2:8080/landed", "http://192.0.2.9/landed", "http://user@127.0.0.1/x"):
            self.server.requests.clear()
            self.server.redirect = elsewhere
            error = self.failure(self.client().get("/settings"), ews.EWSError)
            self.assertIn(elsewhere.split("/")[2].split("@")[-1], str(error))
            self.assertEqual(len(self.server.requests), 1)

    def test_baseElsewhereRefused(self) -> None:
        """A MoreInfoUri naming another host is not the printer's web server: nothing is requested."""
        error = self.failure(self.client("http://127.0.0.9/").get("/settings"), ews.EWSError)
        self.assertIn("not the printer's own host", str(error))
        self.assertEqual(self.server.requests, [])

    def test_redirectLoop(self) -> None:
        self.server.redirect = "/settings"
        self.assertIn("redirects", str(self.failure(self.client().get("/settings"), ews.EWSError)))

    def test_oversizePage(self) -> None:
        """A page over the cap is a clear error; nothing of it reaches the adapter."""
        self.server.page = b"<html>" + b"A" * ews.MAX_PAGE
        error = self.failure(self.client().get("/settings"), ews.EWSError)
        self.assertIn("bytes", str(error))

    def test_httpError(self) -> None:
        """A status other than 2xx is an error naming it."""

        class Broken(Resource):
            isLeaf = True

            def render(self, request: Any) -> bytes:
                request.setResponseCode(500)
                return b"oops"

        self.stub = StubTreq(Broken())
        self.assertIn("HTTP 500", str(self.failure(self.client().get("/settings"), ews.EWSError)))

    def test_digest(self) -> None:
        """The config's credentials answer a Digest challenge; the next request answers it at once."""
        self.server.digest = httpauth.DigestServer("printer", clock=lambda: 1000.0)
        web = self.client(credentials=Credentials("admin", "s3cret"))
        self.assertEqual(formValues(self.result(web.get("/settings")))["sleep"], "15")
        self.result(web.get("/settings"))
        self.assertEqual(len(self.server.requests), 3)  # the challenge once, then two answered
        refused = self.failure(self.client().get("/settings"), ews.EWSError)
        self.assertIn("HTTP 401 (credentials refused or missing)", str(refused))

    def test_basicNotInTheClear(self) -> None:
        """A Basic challenge over plain http is not answered: the password never crosses the LAN in the clear."""

        class Basic(Resource):
            isLeaf = True
            seen: list = []

            def render(self, request: Any) -> bytes:
                self.seen.append(request.getHeader(b"authorization"))
                request.setResponseCode(401)
                request.setHeader(b"WWW-Authenticate", b'Basic realm="ews"')
                return b""

        resource = Basic()
        self.stub = StubTreq(resource)
        error = self.failure(self.client(credentials=Credentials("admin", "s3cret")).get("/"), ews.EWSError)
        self.assertIn("401", str(error))
        self.assertEqual(resource.seen, [None])


class SettingsTests(Base):
    """The data-model side: values read, writes read back (PRINTERS.md §5), faults."""

    def test_declaration(self) -> None:
        """The adapter's parameters in X_000000_EWS, writable as declared, never actively notified."""
        settings = self.settings()
        declared = settings.declaration(lambda node, value: None)
        self.assertEqual(declared.name, "X_000000_EWS")
        self.assertEqual([(p.name, p.writable, p.activeNotify) for p in declared.children], [
            ("X_ACME_SMTPServer", True, "canDeny"), ("X_ACME_SleepMinutes", True, "canDeny"),
            ("X_ACME_Firmware", False, "canDeny")])
        self.assertEqual(declared.children[1].get(None), 0)  # not read yet: the type's empty value

    def test_read(self) -> None:
        settings = self.settings()
        self.assertEqual(self.result(settings.read()), {
            "X_ACME_SMTPServer": "mail.example", "X_ACME_SleepMinutes": 15, "X_ACME_Firmware": "1.2"})
        self.assertEqual(settings.values["X_ACME_SleepMinutes"], 15)

    def test_write(self) -> None:
        """Written by POST, read back by GET; the earlier values are returned (to restore on a later failure)."""
        settings = self.settings()
        earlier = self.result(settings.write({"X_ACME_SMTPServer": "relay.example", "X_ACME_SleepMinutes": 30}))
        self.assertEqual(earlier, {"X_ACME_SMTPServer": "mail.example", "X_ACME_SleepMinutes": 15})
        self.assertEqual(self.server.settings, {"smtp": "relay.example", "sleep": "30", "firmware": "1.2"})
        self.assertEqual(settings.values["X_ACME_SleepMinutes"], 30)
        self.assertEqual([r[0] for r in self.server.requests], ["GET", "POST", "GET"])

    def test_writeNotTaken(self) -> None:
        """
        The server answers 200 and keeps the old sleep delay: 9001 naming
        it, and the SMTP server that did take is written back.
        """
        self.server.ignored = {"sleep"}
        settings = self.settings()
        fault = self.failure(settings.write({"X_ACME_SMTPServer": "relay.example", "X_ACME_SleepMinutes": 30}),
                             CWMPFault)
        self.assertEqual(fault.code, 9001)
        self.assertIn("X_ACME_SleepMinutes", fault.string)
        self.assertNotIn("X_ACME_SMTPServer", fault.string)
        self.assertEqual(self.server.settings["smtp"], "mail.example")
        self.assertEqual(self.server.requests[-1], ("POST", "/settings", b"smtp=mail.example"))
        self.assertTrue(self.logged("did not take"))

    def test_writeRedirectedElsewhere(self) -> None:
        """A write whose page redirects to another host: 9001 saying so, nothing sent there."""
        self.server.redirect = "http://127.0.0.2/login"
        fault = self.failure(self.settings().write({"X_ACME_SleepMinutes": 30}), CWMPFault)
        self.assertEqual(fault.code, 9001)
        self.assertIn("not the printer's own host", fault.string)

    def test_hostilePages(self) -> None:
        """
        A page the adapter cannot read (garbage, a form without the field)
        is a clear EWSError on a read and 9001 on a write, never a crash; an
        oversize page likewise.
        """
        for page in (b"\xff\xfe\x00garbage<<<", b"<input name='smtp' value='x'>", b"<html>" + b"x" * ews.MAX_PAGE):
            self.server.page = page
            settings = self.settings()
            error = self.failure(settings.read(), ews.EWSError)
            self.assertTrue(str(error))
            fault = self.failure(settings.write({"X_ACME_SleepMinutes": 30}), CWMPFault)
            self.assertEqual(fault.code, 9001)
            self.assertIn("printer web server", fault.string)

    def test_failuresAreEWSErrors(self) -> None:
        """
        An adapter that raises at once, or a turn at the printer's gate that
        never comes (its timeout), is an EWSError saying which.
        """
        from proxier.proxy.gate import ActionTimeout

        class Raising(SettingsAdapter):
            def read(self, web: ews.EWSClient) -> Any:
                raise KeyError("smtp")

        settings = ews.EWSSettings(Raising(), self.client(), lambda run: run(), self.logger)
        self.assertIn("cannot read the pages (KeyError", str(self.failure(settings.read(), ews.EWSError)))
        late = ews.EWSSettings(SettingsAdapter(), self.client(), lambda run: defer.fail(ActionTimeout("Run: 10 s")),
                               self.logger)
        self.assertIn("no turn to read the printer's web server (Run: 10 s)",
                      str(self.failure(late.read(), ews.EWSError)))
        self.assertEqual(self.server.requests, [])

    def test_valuesThatDoNotFit(self) -> None:
        """A value outside its type (or a name the adapter does not declare) is left out and logged."""
        settings = self.settings()
        self.server.settings["sleep"] = "9999"
        self.server.settings["smtp"] = "s" * 100
        self.assertEqual(self.result(settings.read()), {"X_ACME_Firmware": "1.2"})
        self.assertEqual(len(self.logged("left out")), 2)


class SuppliesAdapter:
    """
    ippeveprinter's C{/supplies} form, as a vendor adapter would map it:
    the black toner level as C{X_000000_BlackTonerLevel}. The form's method
    is GET, and ippeveprinter answers 400 to any POST but IPP's, so the
    write submits the form by GET — every slot, or the others vanish.
    """

    name = "ippeveprinter-supplies"
    parameters = (ews.EWSParameter("X_000000_BlackTonerLevel", UnsignedInt(maximum=100), writable=True),)

    def matches(self, makeAndModel: str) -> bool:
        return "MFP 4000" in makeAndModel

    @defer.inlineCallbacks
    def read(self, web: ews.EWSClient) -> Any:
        form = formValues((yield web.get("/supplies")))
        return {"X_000000_BlackTonerLevel": int(form["supply0"])}

    @defer.inlineCallbacks
    def write(self, web: ews.EWSClient, changes: Mapping[str, Any]) -> Any:
        form = formValues((yield web.get("/supplies")))
        form["supply0"] = str(changes["X_000000_BlackTonerLevel"])
        yield web.get("/supplies", sorted(form.items()))


class IppeveprinterTests(unittest.TestCase):
    """The seam against the real ippeveprinter's web pages on 127.0.0.1."""

    timeout = 60

    @defer.inlineCallbacks
    def test_blackLevel(self) -> Any:
        """Read through the form, written, read back; IPP's printer-supply tells the same level."""
        from twisted.internet import reactor

        from proxier.printer.ippclient import IPPClient

        printer = printers.startPrinter(self)
        ipp = IPPClient(printer.url, reactor=reactor, timeout=10)
        adapter = SuppliesAdapter()
        described = yield ipp.getPrinterAttributes(["printer-make-and-model"])
        self.assertIs(ews.lookup(described.get("printer-make-and-model"), (adapter,)), adapter)
        web = ews.EWSClient(f"http://127.0.0.1:{printer.port}/", ipp.requester, ipp.origin, timeout=10)
        settings = ews.EWSSettings(adapter, web, lambda run: run(), Logger(namespace="tests.ews"))
        self.assertEqual((yield settings.read()), {"X_000000_BlackTonerLevel": 8})
        earlier = yield settings.write({"X_000000_BlackTonerLevel": 42})
        self.assertEqual(earlier, {"X_000000_BlackTonerLevel": 8})
        self.assertEqual(settings.values, {"X_000000_BlackTonerLevel": 42})
        supplies = yield ipp.getPrinterAttributes(["printer-supply"])
        rows = [bytes(v).decode() for v in supplies.getAll("printer-supply")]
        self.assertIn("level=42;", rows[0])
        self.assertIn("level=55;", rows[1])  # the cyan slot sent unchanged


@implementer(ews.IEWSAdapter)
class MFPAdapter(SettingsAdapter):
    """The same form, for the fake MFP 4000 of L{tests._fakeprinter}."""

    def matches(self, makeAndModel: str) -> bool:
        return makeAndModel == "ExampleCo MFP 4000 Color"


class ModelTests(Base):
    """
    The device model mounts X_000000_EWS only where an adapter matches;
    GetParameterValues reads the web server, SetParameterValues writes it
    through the printer's gate, all or nothing with the IPP writes.
    """

    EWS = "Device.Services.PrintService.1.X_000000_EWS."

    def setUp(self) -> None:
        super().setUp()
        self.clock.advance(1_000_000)
        self.printer = FakePrinter(self.clock)
        self.printer.set("printer-more-info", 0x45, "http://127.0.0.1:8080/")
        self.ipp = FakeClient(self.printer)
        self.ipp.origin = Origin("127.0.0.1", None, loopbackMode=True)
        self.ipp.requester = Requester(self.stub, self.clock, URLPolicy(_noResolve, schemes=("http", "https")))
        self.ipp.credentials = None
        self.state = Store.open(self.mktemp())
        self.slots = PollSlots(4)

    def device(self, adapters: Any = None, found: bool = True, adminURL: str = "") -> PrinterDevice:
        group = self.printer.group(("all",)) if found else None
        identity = DeviceIdentity("ExampleCo", "000000", "ExampleCo MFP 4000 Color", "EX4000-0001")
        device = PrinterDevice(identity, URL, self.ipp, self.state.child("printer"), self.slots,
                               PrinterSettings(printers=(URL,), requestTimeout=10), self.clock, found=group,
                               random=lambda: 0.0,
                               ewsAdapters=(MFPAdapter(),) if adapters is None else adapters, adminURL=adminURL)
        device.start()
        self.addCleanup(device.stop)
        return device

    def names(self, device: Any) -> list[str]:
        return [i.name for i in self.result(device.model.getParameterNames("Device.Services.PrintService.1.", True))]

    def gpv(self, device: Any, *names: str) -> Any:
        return self.result(device.model.getParameterValues(list(names)))

    def spv(self, device: Any, *pairs: tuple[str, str, str]) -> defer.Deferred:
        return device.model.setParameterValues([ParameterValue(n, v, t) for n, v, t in pairs])

    def test_mountedOnlyWhereAnAdapterMatches(self) -> None:
        self.assertIn(self.EWS, self.names(self.device()))
        self.assertNotIn(self.EWS, self.names(self.device(adapters=())))
        self.assertNotIn(self.EWS, self.names(self.device(adapters=(SettingsAdapter(),))))  # "Acme " only
        self.assertEqual(self.server.requests, [])  # naming reads nothing

    def test_matchedOnceTheMakeAndModelIsKnown(self) -> None:
        """A printer known from an earlier run has no make and model until it answers: then it is mounted."""
        device = self.device(found=False)
        self.assertNotIn(self.EWS, self.names(device))
        self.clock.advance(0)
        self.assertIn(self.EWS, self.names(device))

    def test_moreInfo(self) -> None:
        """
        MoreInfoUri is the printer's printer-more-info; without it, the
        adminurl its discovery record gave, which is then the web server's
        address too.
        """
        more = "Device.Services.PrintService.1.PrintServiceDescription.MoreInfoUri"
        device = self.device()
        self.assertEqual(self.gpv(device, more)[0].value, "http://127.0.0.1:8080/")
        self.assertEqual(device.model.ews.client.base, "http://127.0.0.1:8080/")
        del self.printer.attributes["printer-more-info"]
        device = self.device(adminURL="http://127.0.0.1:8080/admin/")
        self.assertEqual(self.gpv(device, more)[0].value, "http://127.0.0.1:8080/admin/")
        self.assertEqual(device.model.ews.client.base, "http://127.0.0.1:8080/admin/")
        self.assertEqual(self.gpv(self.device(), more)[0].value, "")
        self.assertEqual(self.device().model.ews.client.base, "http://127.0.0.1/")  # the printer's host

    def test_getReadsTheWebServer(self) -> None:
        """Each GetParameterValues that reaches X_000000_EWS reads the pages again (through the gate)."""
        device = self.device()
        sent = device.gate.counts["sent"]
        values = {v.name: v.value for v in self.gpv(device, self.EWS)}
        self.assertEqual(device.gate.counts["sent"], sent + 1)
        self.assertEqual(values, {self.EWS + "X_ACME_SMTPServer": "mail.example",
                                  self.EWS + "X_ACME_SleepMinutes": "15", self.EWS + "X_ACME_Firmware": "1.2"})
        self.server.settings["sleep"] = "20"
        values = {v.name: v.value for v in self.gpv(device, "Device.Services.PrintService.1.")}
        self.assertEqual(values[self.EWS + "X_ACME_SleepMinutes"], "20")
        self.gpv(device, "Device.DeviceInfo.SerialNumber")
        self.assertEqual(len(self.server.requests), 2)  # not for a GPV elsewhere

    def test_getFailure(self) -> None:
        """
        The web server fails: 9002 for names in X_000000_EWS; a GPV of a
        path above it still answers, with the values last read.
        """
        device = self.device()
        self.gpv(device, self.EWS)
        self.server.page = b"<html>" + b"x" * ews.MAX_PAGE
        fault = self.failure(device.model.getParameterValues([self.EWS + "X_ACME_SleepMinutes"]), CWMPFault)
        self.assertEqual(fault.code, 9002)
        values = {v.name: v.value for v in self.gpv(device, "Device.Services.PrintService.1.")}
        self.assertEqual(values[self.EWS + "X_ACME_SleepMinutes"], "15")

    def test_set(self) -> None:
        """Written and read back; the read-only one is 9008 without a request."""
        device = self.device()
        self.assertEqual(self.result(self.spv(device, (self.EWS + "X_ACME_SleepMinutes", "45", "xsd:unsignedInt"))), 0)
        self.assertEqual(self.server.settings["sleep"], "45")
        sent = len(self.server.requests)
        fault = self.failure(self.spv(device, (self.EWS + "X_ACME_Firmware", "2", "xsd:string")), CWMPFault)
        self.assertEqual(fault.code, 9003)
        self.assertEqual(fault.parameterFaults[0].faultCode, 9008)
        self.assertEqual(len(self.server.requests), sent)

    def test_setNotTakenAllOrNothing(self) -> None:
        """
        ServiceLocation (IPP) and the sleep delay (EWS) in one request; the
        web server does not take its value: 9001, and ServiceLocation is
        written back to what it was.
        """
        self.printer.set("printer-settable-attributes-supported", 0x44, "printer-location")
        device = self.device()
        self.server.ignored = {"sleep"}
        fault = self.failure(self.spv(
            device, ("Device.Services.PrintService.1.PrintServiceDescription.ServiceLocation", "Room 9", "xsd:string"),
            (self.EWS + "X_ACME_SleepMinutes", "45", "xsd:unsignedInt")), CWMPFault)
        self.assertEqual(fault.code, 9001)
        self.assertEqual(self.printer.attributes["printer-location"].values[0].value, "Room 1")
        self.assertEqual(self.server.settings["sleep"], "15")
