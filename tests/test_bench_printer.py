"""
Tests for the printer benchmarks (issue 13 and issue 14, "Measured"): the
fake printers of C{bench/_ippresponder.py} and C{bench/_snmpresponder.py}
answer as a printer does, and each benchmark script runs to its end with
tiny sizes and prints every figure it promises (the figures themselves
are not checked: they are measurements).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock
from twisted.trial import unittest
from treq.testing import StubTreq

from bench._ippresponder import FakePrinters, recordedAttributes
from bench._snmpresponder import MAC, SERIAL, UPTIME, FakeSNMPPrinters
from proxier.lan.httpclient import Requester
from proxier.lan.urlpolicy import URLPolicy
from proxier.printer import ippclient, mib, snmp
from proxier.printer.ippclient import IPPClient, IPPProtocolError, IPPStatusError
from proxier.printer.snmpclient import SNMPClient, SNMPNotWritten, SNMPProtocol, SNMPTimeout
from proxier.printer.snmpreader import SNMPReader
from tests import _snmprec
from tests._helpers import runBench


def _refuseResolve(host: str) -> Any:
    raise AssertionError(f"no name may be resolved in this test ({host})")


class ResponderTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.printers = FakePrinters(3, self.clock)
        self.stub = StubTreq(self.printers)

    def client(self, n: Any, path: str = "/ipp/print/") -> IPPClient:
        policy = URLPolicy(_refuseResolve, schemes=("http", "https"))
        requester = Requester(self.stub, self.clock, policy, userAgent=ippclient.USER_AGENT)
        return IPPClient(f"ipp://127.0.0.1:8631{path}{n}", requester=requester, policy=policy)

    def result(self, d: Any) -> Any:
        out: list = []
        d.addBoth(out.append)
        self.stub.flush()
        self.assertEqual(len(out), 1, "the operation did not finish")
        return out[0]

    def test_everyAttribute(self) -> None:
        """
        A full read holds every attribute of the recorded ippeveprinter
        answer; each printer has a printer-uuid of its own and an up-time
        that counts.
        """
        self.clock.advance(7)
        group = self.result(self.client(2).getPrinterAttributes())
        self.assertLessEqual({a.name for a in recordedAttributes()}, {a.name for a in group})
        self.assertEqual(group.get("printer-up-time"), 8)
        self.assertEqual(group.get("printer-make-and-model"), "ExampleCo MFP 4000 Color")
        uuids = {self.result(self.client(n).getPrinterAttributes()).get("printer-uuid") for n in range(3)}
        self.assertEqual(len(uuids), 3)

    def test_requested(self) -> None:
        """A partial read answers what was asked for, nothing else."""
        group = self.result(self.client(0).getPrinterAttributes(("printer-state", "printer-up-time", "nothing")))
        self.assertEqual(sorted(a.name for a in group), ["printer-state", "printer-up-time"])

    def test_otherOperationsAndPaths(self) -> None:
        """
        Another operation is server-error-operation-not-supported; a printer
        beyond the count, or another path, is not found.
        """
        refused = self.result(self.client(0).createPrinterSubscription())
        self.assertIsInstance(refused.value, IPPStatusError)
        self.assertEqual(refused.value.status, 0x0501)
        for client in (self.client(3), self.client(0, "/ipp/printer/"), self.client("x")):
            self.assertIsInstance(self.result(client.getPrinterAttributes()).value, IPPProtocolError)


class SNMPResponderTests(unittest.TestCase):
    """The fake SNMP printers, through the proxier's own reader and client on a fake transport."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(100)
        self.printers = FakeSNMPPrinters(3, self.clock.seconds)
        self.protocol = SNMPProtocol(self.clock)
        self.protocol.makeConnection(self)  # type: ignore[arg-type]

    def write(self, datagram: bytes, addr: tuple[str, int]) -> None:
        """The transport's: printer C{n} is port 1000 + n, its answer comes back at once."""
        reply = self.printers.answer(addr[1] - 1000, datagram)
        if reply is not None:
            self.clock.callLater(0, self.protocol.datagramReceived, reply, addr)

    def client(self, n: int, **kwargs: Any) -> SNMPClient:
        return SNMPClient(self.protocol, "127.0.0.1", 1000 + n, timeout=1.0, retries=0, **kwargs)

    def result(self, d: Any) -> Any:
        self.clock.advance(0)
        return self.successResultOf(d)

    def test_walk(self) -> None:
        """
        A full walk reads the recording, but for a serial number and a MAC
        of each printer's own and the up-time, which runs on.
        """
        recorded = _snmprec.load("printer-mfp4000.snmprec")
        walks = []
        for n in range(3):
            reader = SNMPReader(self.client(n), self.clock)
            self.result(reader.fetch(True))
            walks.append(reader.varbinds)
        self.assertEqual(len({walk[SERIAL] for walk in walks}), 3)
        self.assertEqual(len({walk[MAC] for walk in walks}), 3)
        self.assertEqual(walks[0][UPTIME], recorded[UPTIME])
        for walk in walks:
            self.assertGreater(len(walk), 100)
            self.assertEqual({k: v for k, v in walk.items() if k not in (SERIAL, MAC)},
                             {k: recorded[k] for k in walk if k not in (SERIAL, MAC)})
        self.clock.advance(5)
        self.assertEqual(self.result(self.client(0).get([UPTIME]))[0].value.value, recorded[UPTIME] + 500)
        self.assertEqual(self.printers.received, self.printers.sent)

    def test_set(self) -> None:
        """
        A writable object is set; another is refused as snmpsim does
        (noSuchInstance); a wrong community is not answered.
        """
        contact = mib.OID["sysContact"] + (0,)
        descr = mib.OID["sysDescr"] + (0,)
        written = self.result(self.client(1).set([snmp.VarBind(contact, snmp.Value(snmp.OCTET_STRING, b"me"))]))
        self.assertEqual(written[0].value.value, b"me")
        refused = self.client(1).set([snmp.VarBind(descr, snmp.Value(snmp.OCTET_STRING, b"no"))])
        self.clock.advance(0)
        self.assertEqual(self.failureResultOf(refused, SNMPNotWritten).value.varBinds[0].value.tag,
                         snmp.NO_SUCH_INSTANCE)
        self.assertEqual(self.result(self.client(1).get([contact]))[0].value.value, b"me")
        self.assertNotEqual(self.result(self.client(0).get([contact]))[0].value.value, b"me")
        d = self.client(0, community=b"private").get([contact])
        self.clock.advance(2)
        self.failureResultOf(d, SNMPTimeout)
        self.assertEqual(self.printers.received, self.printers.sent + 1)


class ScriptTests(unittest.TestCase):
    """Each script as it is run by hand, with tiny sizes, on this interpreter."""

    timeout = 180

    def test_gpv(self) -> None:
        """bench_printer_gpv: the three timings, their ratio, the parts, and the CWMP sessions."""
        out = runBench(self, "bench_printer_gpv.py", "--rounds", "3", "--sessions", "1")
        for line in ("-> 223 parameter values", "raw        median", "fresh GPV  median", "cached GPV median",
                     "ratio of medians fresh GPV / raw", "of which ippsource.read",
                     "through CWMP with the fake ACS (1 sessions, 223 values each)"):
            self.assertIn(line, out)

    def test_fleet(self) -> None:
        """bench_printer_fleet: every printer bootstrapped and online; CPU, polls and memory figures."""
        out = runBench(self, "bench_printer_fleet.py", "--count", "2", "--window", "1")
        for line in ("2 printers: every BOOTSTRAP session done", "0 offline after the window", "polls/s",
                     "% of one core", "at the default period (60 s, 900 s)", "KiB a printer",
                     "tracemalloc, 10 devices"):
            self.assertIn(line, out)

    def test_snmpFleet(self) -> None:
        """bench_printer_snmp_fleet: every printer bootstrapped and online; CPU, polls, memory and packet figures."""
        out = runBench(self, "bench_printer_snmp_fleet.py", "--count", "2", "--window", "1")
        for line in ("2 printers: every BOOTSTRAP session done", "0 offline after the window", "packets until then",
                     "polls/s", "% of one core", "packets in the window", "at the default period (60 s, 900 s)",
                     "KiB a printer", "one full poll (walk)", "one cheap poll", "tracemalloc, 10 devices"):
            self.assertIn(line, out)
