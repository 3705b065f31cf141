"""
Tests for the proxier's footprint (issue 19): a started proxier imports only
what its configured protocols need — a UPnP-only one no printer service nor
any device-management code before a device comes, a printer-only one no
UPnP control point — and bench/bench_footprint.py runs to its end.

Each start is a child process: this one has imported everything already.
"""

from __future__ import annotations

import os
import subprocess
import sys

from twisted.trial import unittest

from tests._helpers import TOP, subprocessEnv

# Start the tree as twistd would (tap's options and service, the config given),
# then print the project's modules imported; no reactor runs, nothing is sent.
_START = """
import os, sys
from proxier import tap
options = tap.Options()
options.parseOptions(["--config", sys.argv[1]])
tap.makeService(options).startService()
print(" ".join(sorted(m for m in sys.modules if m.startswith("proxier"))))
sys.stdout.flush()
os._exit(0)
"""

#: What a proxier with no device never needs: each protocol's service and the
#: management of a device (built with the first device).
PRINTER_SERVICE = ("proxier.printer.proxy", "proxier.printer.poller", "proxier.printer.snmpclient",
                   "proxier.printer.snmpprobe", "proxier.printer.devicemodel")
#: What listing the printer protocol's keys never needs: its IPP client and codecs, its SNMP codec.
PRINTER_CODECS = ("proxier.printer.ippclient", "proxier.printer.ipp", "proxier.printer.ipptags",
                  "proxier.printer.snmp")
DEVICE_MANAGEMENT = ("proxier.upnpdm.management", "proxier.upnpdm.firmware", "proxier.upnpdm.logs",
                     "proxier.upnpdm.bmsdiagnostics", "proxier.upnpdm.httpfiles", "proxier.proxy.diagnostics")
UPNP = ("proxier.upnpdm.proxy", "proxier.upnp.controlpoint", "proxier.upnp.dps.security", "proxier.upnpdm.model")
#: What a UPnP control point needs only once a DeviceProtection device is introduced: the WPS registrar.
DPS_INTRODUCTION = ("proxier.upnp.dps.wps",)


class ImportsTests(unittest.TestCase):
    timeout = 120

    def started(self, enabled: str) -> set[str]:
        """The project modules a proxier with C{[protocols] enabled = enabled} imported once started."""
        folder = os.path.abspath(self.mktemp())
        os.makedirs(folder)
        config = os.path.join(folder, "proxier.conf")
        with open(config, "w") as f:
            f.write(f"[acs]\nurl = http://127.0.0.1:9/acs\n[connection_request]\nport = 0\n"
                    f"[lan]\nssdp_mode = unicast-loopback\nssdp_port = 0\n[console]\nenable = false\n"
                    f"[state]\ndirectory = {folder}/state\n[log]\nlevel = error\nfile = {folder}/log\n"
                    f"[demo]\nenable = no\n[protocols]\nenabled = {enabled}\n")
        result = subprocess.run([sys.executable, "-c", _START, config], capture_output=True, text=True, timeout=100,
                                env=subprocessEnv(), cwd=TOP, stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 0, result.stderr)
        return set(result.stdout.split())

    def test_upnpOnly(self) -> None:
        """
        UPnP-DM only, no device yet: its control point runs; no printer
        service nor printer codec (the [printer] keys are listed all the
        same), no device management, no WPS registrar.
        """
        modules = self.started("UPnP-DM")
        self.assertIn("proxier.upnpdm.proxy", modules)
        self.assertIn("proxier.printer.settings", modules)
        self.assertEqual(modules & set(PRINTER_SERVICE + PRINTER_CODECS + DEVICE_MANAGEMENT + DPS_INTRODUCTION), set())

    def test_printerOnly(self) -> None:
        """The printer protocol only: its service runs; no UPnP control point, CMS model or DPS."""
        modules = self.started("X_000000_IPP")
        self.assertIn("proxier.printer.proxy", modules)
        self.assertEqual(modules & set(UPNP + DEVICE_MANAGEMENT), set())


class BenchTests(unittest.TestCase):
    timeout = 240

    def test_runs(self) -> None:
        """
        bench_footprint with no device, one and two: each line's figures, the
        bytes a device adds over none and, for two, over one.
        """
        result = subprocess.run(
            [sys.executable, os.path.join(TOP, "bench", "bench_footprint.py"), "--sizes", "0,1,2", "--settle", "0",
             "--window", "1", "--timeout", "120"],
            capture_output=True, text=True, timeout=200, env=subprocessEnv(), cwd=TOP, stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("configuration as shipped; RSS 0 s after the last BOOTSTRAP", result.stdout)
        self.assertIn("N =     0: RSS", result.stdout)
        self.assertIn("KiB a device over N = 0; bootstrapped in", result.stdout)
        self.assertIn("KiB a device over N = 0,", result.stdout)
        self.assertIn("KiB a device over N = 1; bootstrapped in", result.stdout)
        self.assertEqual(result.stdout.count("; no search round in the window"), 3)

    def test_searchRounds(self) -> None:
        """
        A window ending before the earliest second round holds none; one
        longer than the latest interval holds one at least; between, perhaps.
        """
        from bench.bench_footprint import searchRounds

        self.assertEqual(searchRounds(40, 100, 300), "no search round in the window")
        self.assertEqual(searchRounds(40, 269, 300), "no search round in the window")
        self.assertEqual(searchRounds(40, 271, 300), "perhaps a search round in the window")
        self.assertEqual(searchRounds(40, 370, 300), "a search round or more in the window")
        self.assertEqual(searchRounds(40, 70, 10), "a search round or more in the window")
