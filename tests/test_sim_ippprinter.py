"""
The demo's printers (L{proxier.sim.ippprinter}, L{proxier.sim.ippeveprinter}):
the fake printer's answers as octets through our codec, its web glue and a
real IPPClient on loopback; ippeveprinter started, its level changed through
its /supplies form, stopped by PID (skipped with the reason where it is not
installed).
"""

from __future__ import annotations

import os
import time
from typing import Any

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial import unittest

from proxier.printer import ipp, ippsource
from proxier.printer.ippclient import OP_GET_PRINTER_ATTRIBUTES, OP_SET_PRINTER_ATTRIBUTES, IPPClient, IPPStatusError
from proxier.sim import ippeveprinter, ippprinter
from proxier.sim.ippprinter import AttributeFileError, IPPPrinter, readAttributeFile
from tests._helpers import processRuns

TEXT, KEYWORD = 0x41, 0x44


def demoAttributes() -> list[ipp.Attribute]:
    with open(ippprinter.DEMO_ATTRIBUTES) as f:
        return readAttributeFile(f.read())


def ask(printer: IPPPrinter, code: int, operation: list = (), groups: list = (), version: tuple = (2, 0)) -> Any:
    message = ipp.request(code, 7, [("printer-uri", ipp.Value(0x45, "ipp://127.0.0.1/ipp/print")), *operation],
                          groups)
    message.version = version
    return ipp.decode(printer.respond(ipp.encode(message)))


def setRequest(*attributes: ipp.Attribute) -> list:
    return [ipp.AttributeGroup(0x04, attributes)]


def text(name: str, value: str, tag: int = TEXT) -> ipp.Attribute:
    return ipp.Attribute(name, (ipp.Value(tag, value),))


class AttributeFileTests(unittest.TestCase):
    def test_demoFile(self) -> None:
        """The demo's file: every value typed; quoted values keep their commas; five supply rows in slot order."""
        found = {a.name: a for a in demoAttributes()}
        self.assertIs(found["color-supported"].value, True)
        self.assertEqual(found["copies-supported"].value, (1, 999))
        self.assertEqual(found["printer-resolution-default"].value, ipp.Resolution(600, 600, 3))
        self.assertEqual([v.value for v in found["orientation-requested-supported"].values], [3, 4, 5, 6])
        supplies = [v.value for v in found["printer-supply"].values]
        self.assertEqual([row.split(b";")[0] for row in supplies], [b"index=%d" % i for i in range(1, 6)])
        self.assertEqual(found["printer-supply-description"].values[1].value, "Black Toner")

    def test_quotedCommas(self) -> None:
        attribute, = readAttributeFile('# comment\n\nATTR text x "a, b",c\n')
        self.assertEqual([v.value for v in attribute.values], ["a, b", "c"])

    def test_refused(self) -> None:
        """Another directive, an unknown tag, a value that does not parse, an open quote: which line and why."""
        for line, why in (("GROUP printer", "line 1: not 'ATTR"), ("ATTR dateTime x 1", "known tag"),
                          ("ATTR boolean x yes", "x: 'yes' is not true or false"),
                          ("ATTR resolution x 600", "not a resolution"), ('ATTR text x "open', "not closed"),
                          ("ATTR integer x seven", "x:")):
            with self.subTest(line=line):
                with self.assertRaises(AttributeFileError) as raised:
                    readAttributeFile(line)
                self.assertIn(why, str(raised.exception))


class FakePrinterTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1000)
        self.printer = IPPPrinter(self.clock, demoAttributes(), name="Demo", location="Front office")

    def test_getAll(self) -> None:
        """Get-Printer-Attributes: the file's attributes and the printer's own; up-time counts from 1."""
        self.clock.advance(41)
        answer = ask(self.printer, OP_GET_PRINTER_ATTRIBUTES)
        self.assertEqual((answer.code, answer.requestId), (0, 7))
        group = answer.group(0x04)
        self.assertEqual(group.get("printer-up-time"), 42)
        self.assertEqual(group.get("printer-location"), "Front office")
        self.assertEqual(group.get("printer-make-and-model"), "ExampleCo Demo MFP")
        self.assertEqual(group.getAll("printer-settable-attributes-supported"), ["printer-location", "printer-info"])
        self.assertEqual(group.getAll("operations-supported"), [OP_GET_PRINTER_ATTRIBUTES, OP_SET_PRINTER_ATTRIBUTES])
        readings = ippsource.read(group)
        self.assertTrue(readings.identity.serialNumber)

    def test_requested(self) -> None:
        """requested-attributes: only those; printer-description is every one."""
        answer = ask(self.printer, OP_GET_PRINTER_ATTRIBUTES,
                     [("requested-attributes", [ipp.Value(KEYWORD, "printer-state"), ipp.Value(KEYWORD, "x")])])
        self.assertEqual([a.name for a in answer.group(0x04)], ["printer-state"])
        every = ask(self.printer, OP_GET_PRINTER_ATTRIBUTES,
                    [("requested-attributes", ipp.Value(KEYWORD, "printer-description"))])
        self.assertIn("printer-supply", every.group(0x04))

    def test_setLocation(self) -> None:
        """Set-Printer-Attributes of a settable attribute: taken, read back, config-change-time moved."""
        self.clock.advance(10)
        answer = ask(self.printer, OP_SET_PRINTER_ATTRIBUTES, groups=setRequest(text("printer-location", "Lab 7")))
        self.assertEqual(answer.code, 0)
        group = ask(self.printer, OP_GET_PRINTER_ATTRIBUTES).group(0x04)
        self.assertEqual(group.get("printer-location"), "Lab 7")
        self.assertEqual(group.get("printer-config-change-time"), 11)
        withLanguage = text("printer-info", ipp.TextWithLanguage("en", "Hall"), tag=0x35)
        self.assertEqual(ask(self.printer, OP_SET_PRINTER_ATTRIBUTES, groups=setRequest(withLanguage)).code, 0)
        self.assertEqual(ask(self.printer, OP_GET_PRINTER_ATTRIBUTES).group(0x04).get("printer-info"), "Hall")

    def test_setAllOrNothing(self) -> None:
        """One attribute not settable: client-error-attributes-not-settable naming it, and nothing is set."""
        answer = ask(self.printer, OP_SET_PRINTER_ATTRIBUTES,
                     groups=setRequest(text("printer-location", "Lab 7"), text("sides-default", "one-sided", KEYWORD)))
        self.assertEqual(answer.code, 0x0413)
        self.assertEqual([(a.name, a.tag) for a in answer.group(0x05)], [("sides-default", 0x15)])
        self.assertEqual(ask(self.printer, OP_GET_PRINTER_ATTRIBUTES).group(0x04).get("printer-location"),
                         "Front office")

    def test_setWrongType(self) -> None:
        """A settable attribute with a value that is not text: attributes-or-values-not-supported; so is none."""
        wrong = ipp.Attribute("printer-location", (ipp.Value(0x21, 3),))
        self.assertEqual(ask(self.printer, OP_SET_PRINTER_ATTRIBUTES, groups=setRequest(wrong)).code, 0x040B)
        self.assertEqual(ask(self.printer, OP_SET_PRINTER_ATTRIBUTES).code, 0x040B)

    def test_otherRequests(self) -> None:
        """Another operation, another major version, octets that are not IPP: each its status."""
        self.assertEqual(ask(self.printer, 0x0002).code, 0x0501)  # Print-Job
        self.assertEqual(ask(self.printer, OP_GET_PRINTER_ATTRIBUTES, version=(3, 0)).code, 0x0503)
        self.assertEqual(ipp.decode(self.printer.respond(b"\x02\x00")).code, 0x0400)

    def test_setLevel(self) -> None:
        """A supply row's level changes, the other rows stay; state-change-time moves; no such row: KeyError."""
        before = ask(self.printer, OP_GET_PRINTER_ATTRIBUTES).group(0x04).getAll("printer-supply")
        self.clock.advance(5)
        self.printer.setLevel(2, 74)
        group = ask(self.printer, OP_GET_PRINTER_ATTRIBUTES).group(0x04)
        after = group.getAll("printer-supply")
        self.assertEqual(after[1], before[1].replace(b"level=75", b"level=74"))
        self.assertEqual(after[:1] + after[2:], before[:1] + before[2:])
        self.assertEqual(group.get("printer-state-change-time"), 6)
        self.assertEqual((self.printer.level(2), self.printer.level(9)), (74, None))
        self.assertRaises(KeyError, self.printer.setLevel, 9, 1)


class OnLoopbackTests(unittest.TestCase):
    """The fake printer behind its web glue, with the proxier's own IPP client."""

    def setUp(self) -> None:
        from twisted.internet import reactor

        self.reactor = reactor
        self.printer = IPPPrinter(reactor, demoAttributes(), location="Front office")
        self.port = ippprinter.listen(reactor, self.printer)
        self.addCleanup(self.port.stopListening)
        self.url = f"ipp://127.0.0.1:{self.port.getHost().port}/ipp/print"

    @defer.inlineCallbacks
    def test_client(self) -> Any:
        """Read, write, read back; a refused write is the client's IPPStatusError."""
        client = IPPClient(self.url, reactor=self.reactor, timeout=5)
        group = yield client.getPrinterAttributes()
        self.assertEqual(group.get("printer-location"), "Front office")
        yield client.setPrinterAttributes([text("printer-location", "Lab 7")])
        group = yield client.getPrinterAttributes(["printer-location"])
        self.assertEqual([a.name for a in group], ["printer-location"])
        self.assertEqual(group.get("printer-location"), "Lab 7")
        with self.assertRaises(IPPStatusError):
            yield client.setPrinterAttributes([text("printer-make-and-model", "x")])

    @defer.inlineCallbacks
    def test_notIPP(self) -> Any:
        """A POST that is not application/ipp: 415."""
        from twisted.web.client import Agent, readBody
        from twisted.web.http_headers import Headers

        agent = Agent(self.reactor)
        http = self.url.replace("ipp://", "http://")
        response = yield agent.request(b"POST", http.encode(), Headers({b"content-type": [b"text/plain"]}))
        yield readBody(response)
        self.assertEqual(response.code, 415)


class IppevePrinterTests(unittest.TestCase):
    """The real ippeveprinter as the demo starts it."""

    def setUp(self) -> None:
        from twisted.internet import reactor

        if ippeveprinter.binaries() is None:
            raise unittest.SkipTest("ippeveprinter or dbus-daemon is not installed (tools/install-test-peers)")
        from tests.peers.printers import freePort

        self.reactor = reactor
        self.peer = ippeveprinter.IppevePrinter(reactor, freePort(), location="Front office")
        self.addCleanup(self.peer.stop)

    @defer.inlineCallbacks
    def test_levelThroughTheForm(self) -> Any:
        """Started, it serves the demo rows; a level set through /supplies changes that row only; stopped by PID."""
        url = yield self.peer.start()
        pids = self.peer.pids
        self.assertEqual(sorted(pids), ["bus", "printer"])
        directory = self.peer.directory
        client = IPPClient(url, reactor=self.reactor, timeout=5)
        group = yield client.getPrinterAttributes()
        self.assertEqual(group.get("printer-location"), "Front office")
        before = group.getAll("printer-supply")
        code = yield self.peer.setLevel(2, 74)
        self.assertEqual(code, 200)
        after = (yield client.getPrinterAttributes()).getAll("printer-supply")
        self.assertEqual(after, [before[0], before[1].replace(b"level=75", b"level=74"), *before[2:]])
        yield self.peer.stop()
        self.assertEqual(self.peer.pids, {})
        for pid in pids.values():
            self.assertFalse(processRuns(pid), pid)
        self.assertFalse(os.path.exists(directory))

    @defer.inlineCallbacks
    def test_startFails(self) -> Any:
        """A printer that exits at once: StartError with its last log line; its bus is stopped too."""
        printerPath, busPath = ippeveprinter.binaries()
        self.peer.paths = ("/bin/false", busPath)
        with self.assertRaises(ippeveprinter.StartError) as raised:
            yield self.peer.start()
        self.assertIn("ippeveprinter exited", str(raised.exception))
        self.assertEqual(self.peer.pids, {})

    @defer.inlineCallbacks
    def test_killedWhenItOutlivesTheTimeout(self) -> Any:
        """A process that ignores SIGTERM is killed after stopTimeout."""
        self.peer.paths = ("/bin/sh", ippeveprinter.binaries()[1])
        self.peer.stopTimeout = 0.5
        # as the printer: a shell that ignores SIGTERM and never listens
        self.peer.startTimeout = 1.0
        original = self.peer._spawn

        def spawn(key: str, path: str, argv: list, env: dict, *, stdout: bool) -> Any:
            if key == "printer":
                argv = ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]
            return original(key, path, argv, env, stdout=stdout)

        self.peer._spawn = spawn  # type: ignore[method-assign]
        started = self.reactor.seconds()
        with self.assertRaises(ippeveprinter.StartError):
            yield self.peer.start()
        self.assertEqual(self.peer.pids, {})
        self.assertLess(self.reactor.seconds() - started, 10)

    def test_goneWithAProxierKilledOutright(self) -> None:
        """
        The process that started the printer is killed with SIGKILL (no
        stopService): the printer and its bus end too (their parent-death
        signal).
        """
        import shutil
        import signal
        import subprocess
        import sys

        from tests._helpers import subprocessEnv
        from tests.peers.printers import freePort

        if shutil.which("setpriv") is None:
            raise unittest.SkipTest("setpriv (util-linux) is not installed")
        script = ("from twisted.internet import reactor\n"
                  "from proxier.sim.ippeveprinter import IppevePrinter\n"
                  f"p = IppevePrinter(reactor, {freePort()})\n"
                  "def up(url):\n"
                  "    print(p.pids['printer'], p.pids['bus'], p.directory, flush=True)\n"
                  "reactor.callWhenRunning(lambda: p.start().addCallback(up))\n"
                  "reactor.run()\n")
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                                 env=subprocessEnv(), stdin=subprocess.DEVNULL)
        self.addCleanup(lambda: child.poll() is None and (child.kill(), child.wait(10)))
        assert child.stdout is not None
        line = child.stdout.readline().split()
        self.addCleanup(child.stdout.close)
        self.assertEqual(len(line), 3, "the printer did not start")
        pids, directory = [int(p) for p in line[:2]], line[2]
        self.addCleanup(shutil.rmtree, directory, True)  # nobody was left to remove it
        self.addCleanup(lambda: [os.kill(pid, signal.SIGKILL) for pid in pids if processRuns(pid)])  # on a failure
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        deadline = time.monotonic() + 10
        while any(processRuns(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual([pid for pid in pids if processRuns(pid)], [])

