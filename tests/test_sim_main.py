"""Tests for L{proxier.sim.main}: the C{proxier-sim} command."""

from __future__ import annotations

import json
import subprocess
import sys

from twisted.internet import defer, reactor, threads
from twisted.internet.protocol import DatagramProtocol
from twisted.trial import unittest

from proxier.sim import main
from proxier.upnp import ssdp

from tests._helpers import subprocessEnv

OPTIONS = ("--count", "--host", "--prefix-length", "--http-port", "--shared-port", "--ssdp-mode",
           "--control-point", "--search-port", "--interface-address", "--max-age", "--data", "--seed",
           "--stagger", "--downtime", "--log-level", "--quit-after")


def run(*arguments: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proxier.sim.main", *arguments], capture_output=True,
                          timeout=timeout, env=subprocessEnv(), text=True)


class ParserTests(unittest.TestCase):
    def test_helpDocumentsEveryOption(self) -> None:
        """--help documents every option and the two SSDP modes."""
        result = run("--help")
        self.assertEqual(result.returncode, 0)
        for option in OPTIONS:
            self.assertIn(option, result.stdout)
        self.assertIn("unicast-loopback", result.stdout)
        self.assertIn("network namespace", result.stdout)

    def test_defaults(self) -> None:
        """By default: one device on 127.0.0.1, unicast-loopback towards 127.0.0.1:1900, no stagger."""
        options = main.optionsFrom(main.parser().parse_args([]))
        self.assertEqual((options.count, options.host, options.ssdpMode, options.controlPoint, options.stagger),
                         (1, "127.0.0.1", "unicast-loopback", ("127.0.0.1", 1900), 0.0))

    def test_bigFleetsStagger(self) -> None:
        """Beyond 100 devices, power-on is spread over ten seconds unless told otherwise."""
        self.assertAlmostEqual(main.optionsFrom(main.parser().parse_args(["--count", "1000"])).stagger, 0.01)
        self.assertEqual(main.optionsFrom(main.parser().parse_args(["--count", "1000", "--stagger", "0"])).stagger, 0)

    def test_refusals(self) -> None:
        """Bad values are refused with exit status 2 and a message naming the option."""
        for arguments in (["--count", "0"], ["--control-point", "nowhere"], ["--ssdp-mode", "multicast"],
                          ["--control-point", "127.0.0.1:70000"]):
            result = run(*arguments)
            self.assertEqual(result.returncode, 2, arguments)
            self.assertIn("proxier-sim", result.stderr)

    def test_numbersASCII(self) -> None:
        """--count and the control point's port are ASCII digits: int() took '١٢' as 12."""
        import argparse

        for bad in ("١٢", "²", "1_0", "+3", "0"):
            self.assertRaises(argparse.ArgumentTypeError, main._positive, bad)
            self.assertRaises(argparse.ArgumentTypeError, main._hostPort, "127.0.0.1:" + (bad if bad != "0" else "0"))
        self.assertEqual(main._positive("12"), 12)
        self.assertEqual(main._hostPort("[::1]:4000"), ("::1", 4000))

    def test_badDataFile(self) -> None:
        """A data file that is not a data model stops the start with one line naming it."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("{}")
        result = run("--data", path)
        self.assertEqual(result.returncode, 2)
        self.assertIn(path, result.stderr)


class Listener(DatagramProtocol):
    def __init__(self) -> None:
        self.messages: list = []

    def datagramReceived(self, data: bytes, address: tuple) -> None:
        self.messages.append(ssdp.parse(data))


class RunTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_runsAndStops(self) -> None:
        """The command runs its devices on loopback, says where, announces them to the control point, and says
        byebye when it stops."""
        listener = Listener()
        port = reactor.listenUDP(0, listener, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        result = yield threads.deferToThread(
            run, "--count", "2", "--control-point", f"127.0.0.1:{port.getHost().port}", "--quit-after", "1.5",
            "--log-level", "warn")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        self.assertEqual(lines[0]["devices"], 2)
        self.assertEqual([line["serialNumber"] for line in lines[1:]], ["SIM000000", "SIM000001"])
        kinds = {m.nts for m in listener.messages if isinstance(m, ssdp.Notify)}
        self.assertEqual(kinds, {ssdp.ALIVE, ssdp.BYEBYE})
        self.assertEqual({m.location for m in listener.messages if m.nts == ssdp.ALIVE},
                         {line["location"] for line in lines[1:]})
