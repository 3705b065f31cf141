"""
Tests for the printer benchmarks (issue 13, "Measured"): the fake printers
of C{bench/_ippresponder.py} answer as a printer does, and each benchmark
script runs to its end with tiny sizes and prints every figure it
promises (the figures themselves are not checked: they are measurements).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from twisted.internet.task import Clock
from twisted.trial import unittest
from treq.testing import StubTreq

from bench._ippresponder import FakePrinters, recordedAttributes
from proxier.lan.httpclient import Requester
from proxier.lan.urlpolicy import URLPolicy
from proxier.printer import ippclient
from proxier.printer.ippclient import IPPClient, IPPProtocolError, IPPStatusError
from tests._helpers import TOP, subprocessEnv


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


class ScriptTests(unittest.TestCase):
    """Each script as it is run by hand, with tiny sizes, on this interpreter."""

    timeout = 180

    def run_(self, script: str, *arguments: str) -> str:
        result = subprocess.run([sys.executable, os.path.join(TOP, "bench", script), *arguments], capture_output=True,
                                text=True, timeout=150, env=subprocessEnv(), cwd=TOP, stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stderr, "")
        return result.stdout

    def test_gpv(self) -> None:
        """bench_printer_gpv: the three timings, their ratio, the parts, and the CWMP sessions."""
        out = self.run_("bench_printer_gpv.py", "--rounds", "3", "--sessions", "1")
        for line in ("-> 223 parameter values", "raw        median", "fresh GPV  median", "cached GPV median",
                     "ratio of medians fresh GPV / raw", "of which ippsource.read",
                     "through CWMP with the fake ACS (1 sessions, 223 values each)"):
            self.assertIn(line, out)

    def test_fleet(self) -> None:
        """bench_printer_fleet: every printer bootstrapped and online; CPU, polls and memory figures."""
        out = self.run_("bench_printer_fleet.py", "--count", "2", "--window", "1")
        for line in ("2 printers: every BOOTSTRAP session done", "0 offline after the window", "polls/s",
                     "% of one core", "at the default period (60 s, 900 s)", "KiB a printer",
                     "tracemalloc, 10 devices"):
            self.assertIn(line, out)
