"""
The devices a protocol found but does not proxy (yet), as the local console
lists them (L{IPendingDevices} through L{TreeSource}): a simulated
DeviceProtection device that grants the proxier nothing beyond Public is
listed as waiting, with the "action" to press its button, until its owner
does; then it is a proxied device and leaves the list (the proxier's whole
service tree, the simulated device over TLS on 127.0.0.1, the fake ACS).
Printers: an entry being asked, one that does not answer, a printer DNS-SD
finds that tells no identity (sans-IO, in-memory printers); an C{snmp://}
entry being walked, silent, then a device (the in-memory agent).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from proxier.console.api import ConsoleAPI, TreeSource
from proxier.interfaces import IPendingDevices
from proxier.lan.mdns import APPEARED, GONE
from proxier.sim.device import Identity, SimulatedDevice
from proxier.store import Store
from proxier.upnpdm.profile import candidates
from proxier.upnpdm.proxy import UPnPDMProxy
from proxier.upnpdm.settings import ProxySettings
from tests._fakeprinter import TEXT, FakeClient, FakePrinter, attribute
from tests.test_dps_e2e import DPSLab
from tests import test_printer_finder as finder
from tests.test_printer_finder import A, HALL, OFFICE, URL_B
from tests.test_printer_snmpdevice import SNMP_ONLY, _AgentCase
from tests.test_printer_snmpdevice import ServiceTests as SNMPServiceTests
from tests.test_upnpdm_e2e import waitFor
from tests.test_upnpdm_fakes import SimUPnPDevice, schema


class UPnPDMPendingTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_waitingForTheButtonThenProxied(self) -> None:
        """
        Held by DeviceProtection (Public only, push-button introduction
        offered): pending, "waiting", its notice the action of pressing the
        device's button, and no device; once the button is pressed and a role
        granted, a proxied device and no longer pending.
        """
        lab = DPSLab(self, upnp={"dps_introduction": "pbc", "dps_introduction_timeout": 60})
        lab.startTree()
        api = ConsoleAPI(TreeSource(lab.tree), reactor)
        self.assertEqual(api.pending(), [])
        lab.startFleet()
        udn = lab.sim().udn.lower()
        yield waitFor(lambda: udn in lab.controlPoint.security.introductions, what="the introduction")
        [row] = api.pending()
        self.assertEqual((row["key"], row["protocol"], row["host"], row["state"], row["proxied"]),
                         (udn, "UPnP-DM", "127.0.0.1", "waiting", False))
        self.assertIn("nothing beyond Public", row["why"])
        self.assertEqual(row["label"], "Simulated device 0 (proxier-sim ManageableDevice)")
        action = row["notices"][0]
        self.assertEqual(action["kind"], "action")
        self.assertIn("press the device's WPS/introduction button", action["text"])
        self.assertTrue(action["since"])
        self.assertEqual(api.devices(), [])
        lab.secure[0].pressButton()
        yield waitFor(lab.ended(0, 1), what="the BOOTSTRAP session")
        [device] = api.devices()
        self.assertEqual((device["identity"]["serialNumber"], device["proxied"]), ("SIM000000", True))
        self.assertEqual(api.pending(), [])


class UPnPDMStandingTests(unittest.TestCase):
    def test_refused(self) -> None:
        """A logical device the proxy refuses stands refused, with the reason it logged; none is reported."""
        clock = task.Clock()
        appeared: list = []
        proxy = UPnPDMProxy(appeared.append, Store.open(self.mktemp()), ProxySettings(requireReboot=True), clock)
        sim = SimulatedDevice(Identity.forIndex(0), schema(), clock)
        sim.bms.disableAction("Reboot")
        sim.setLocation("http://127.0.0.1:49000")
        sim.powerOn()
        upnp = SimUPnPDevice(clock, sim=sim)
        proxy.deviceReady(upnp)
        [candidate] = candidates(upnp.description)[0]
        self.assertEqual((appeared, proxy.deviceOf(upnp, candidate)), ([], None))
        state, why = proxy.standing(upnp, candidate)
        self.assertEqual(state, "refused")
        self.assertIn("require_reboot", why)


class PrinterPendingTests(unittest.TestCase):
    """
    The printer service's pending printers (L{PrinterService.pending}), with
    DNS-SD on a L{task.Clock} and in-memory printers (the setting of
    L{tests.test_printer_finder.ServiceTests}).
    """

    setUp = finder.ServiceTests.setUp
    _browser = finder.ServiceTests._browser
    service = finder.ServiceTests.service

    def test_pending(self) -> None:
        """
        A [printer] printers entry that does not answer waits, and says so;
        a printer DNS-SD finds that tells no identity is refused, and why;
        one that answers is a device, not pending. The entry answering makes
        it a device; the refused one lost, nothing is pending.
        """
        static = "ipp://192.168.1.20/ipp/print"
        self.printers[static].up = False
        self.printers[URL_B] = FakePrinter(self.clock, [attribute("printer-make-and-model", TEXT, "Nameless")])
        service = self.service()
        self.assertTrue(IPendingDevices.providedBy(service))
        assert self.browser is not None
        self.browser.hear(APPEARED, OFFICE)
        self.browser.hear(APPEARED, HALL)
        [device] = self.directory.devices()
        self.assertEqual(device.identity, A)
        waiting, refused = service.pending()
        self.assertEqual((waiting.key, waiting.label, waiting.protocol, waiting.host, waiting.state),
                         (static, static, "X_000000_IPP", "192.168.1.20", "waiting"))
        self.assertIn("does not answer", waiting.why)
        self.assertEqual((refused.protocol, refused.host, refused.state, refused.notices),
                         ("X_000000_IPP", "192.168.1.21", "refused", ()))
        self.assertIn("Hall", refused.label)
        self.assertIn("tells no serial number", refused.why)
        self.printers[static].up = True
        self.clock.advance(self.config["printer"]["poll_interval"])
        self.assertEqual([d.url for d in self.directory.devices()], [static])
        self.assertEqual([p.state for p in service.pending()], ["refused"])
        self.browser.hear(GONE, HALL)
        self.assertEqual(service.pending(), [])

    def test_noPassword(self) -> None:
        """A pending entry is named without the user information of its URL."""
        from proxier.printer.proxy import _public

        self.assertEqual(_public("ipps://admin:s3cret@192.168.1.20/ipp/print"),
                         ("ipps://192.168.1.20/ipp/print", "192.168.1.20"))
        self.assertEqual(_public("snmp://public@[fd00::20]:161"), ("snmp://[fd00::20]:161", "fd00::20"))

    def test_probing(self) -> None:
        """
        An entry of [printer] printers being asked who it is (no answer
        yet): probing; once it answers, a device and no longer pending.
        """
        from zope.interface.registry import Components

        from proxier.config import load
        from proxier.printer.proxy import PrinterService
        from proxier.printer.settings import SECTION
        from proxier.service import ProtocolContext
        from proxier.store import Store

        static = "ipp://192.168.1.20/ipp/print"
        printer = self.printers[static]
        held: defer.Deferred = defer.Deferred()

        class Asked(FakeClient):
            """Its first Get-Printer-Attributes answered when the test says."""

            def getPrinterAttributes(self, requested: Any = ("all",)) -> defer.Deferred:
                if not held.called:
                    return held
                return super().getPrinterAttributes(requested)

        config = load(None, [SECTION]).replace("printer", printers=(static,))
        context = ProtocolContext(self.clock, Components(), config, Store.open(self.mktemp()), self.directory)
        service = PrinterService(context, clientFactory=lambda url, c, t: Asked(printer, url), random=lambda: 0.0)
        service.startService()
        self.addCleanup(service.stopService)
        [asked] = service.pending()
        self.assertEqual((asked.key, asked.protocol, asked.host, asked.state, asked.why),
                         (static, "X_000000_IPP", "192.168.1.20", "probing", "asking it who it is"))
        held.callback(printer.group(("all",)))
        self.assertEqual([d.url for d in self.directory.devices()], [static])
        self.assertEqual(service.pending(), [])


class SNMPPendingTests(_AgentCase):
    """
    An C{snmp://} entry of C{[printer] printers} not known yet, pending as an
    C{ipp://} one is (L{SNMPPrinters.unknown<proxier.printer.snmpdevice.SNMPPrinters>}):
    the printer service with the in-memory agent of L{tests.test_printer_snmpdevice}.
    """

    ENTRY = "snmp://public@127.0.0.1:161"

    def setUp(self) -> None:
        super().setUp()
        self.stateDir = self.mktemp()

    service = SNMPServiceTests.service
    stop = SNMPServiceTests.stop

    def test_silentEntry(self) -> None:
        """
        Walked: probing; silent: waiting, why, and asked again every
        poll_interval; named without its community. Once it answers, its own
        device (X_000000_SNMP) and no longer pending.
        """
        self.transport.silent = True
        service = self.service((self.ENTRY,))
        self.addCleanup(self.stop, service)
        [walked] = service.pending()
        self.assertEqual((walked.key, walked.label, walked.protocol, walked.host, walked.state),
                         ("snmp://127.0.0.1:161", "snmp://127.0.0.1:161", "X_000000_SNMP", "127.0.0.1", "probing"))
        self.clock.pump([1.0] * 5)
        [silent] = service.pending()
        self.assertEqual((silent.key, silent.state), ("snmp://127.0.0.1:161", "waiting"))
        self.assertIn("it does not answer", silent.why)
        self.assertIn("asked again every 60 s", silent.why)
        self.assertNotIn("public", repr(service.pending()))
        self.assertEqual(self.directory.devices(), [])
        self.transport.silent = False
        self.clock.pump([60.0] + [1.0] * 5)
        [device] = self.directory.devices()
        self.assertEqual((device.identity, device.proxyProtocol), (SNMP_ONLY, "X_000000_SNMP"))
        self.assertEqual(service.pending(), [])
