"""
The demo as a user runs it (L{proxier.demo}, C{tools/run-demo}): twistd
with no ACS configured, as a child process, for a bounded time. Its printed
walk is checked for every simulated device, every socket it opens is on
loopback, Ctrl-C ends it cleanly, and a second run on the same state
directory does not bootstrap the devices again.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Optional

from twisted.trial import unittest

from proxier import demo
from proxier.config import load
from proxier.cwmp import messages as m
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import ParameterInfo, ParameterValue
from tests._helpers import TOP, processRuns, subprocessEnv

DEVICES = 2
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "--nodaemon", "--pidfile=", "proxier"]
NAMES = [f"02C0DE-SimDM-SIM{i:06d}" for i in range(DEVICES)]


def socketInodes(pid: int) -> set[str]:
    inodes = set()
    fdDir = f"/proc/{pid}/fd"
    for fd in os.listdir(fdDir):
        try:
            target = os.readlink(os.path.join(fdDir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def _address(hexAddress: str) -> tuple[str, int]:
    host, port = hexAddress.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        text = ".".join(str(b) for b in reversed(raw))
    else:
        words = [raw[i:i + 4][::-1].hex() for i in range(0, 16, 4)]
        import ipaddress

        text = str(ipaddress.IPv6Address(bytes.fromhex("".join(words))))
    return text, int(port, 16)


def boundAddresses(pid: int) -> list[tuple[str, str, int]]:
    """(protocol, local address, port) of every TCP listener and bound UDP socket of process C{pid}."""
    inodes = socketInodes(pid)
    found = []
    for protocol in ("tcp", "tcp6", "udp", "udp6"):
        try:
            with open(f"/proc/net/{protocol}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 10 or fields[9] not in inodes:
                continue
            host, port = _address(fields[1])
            listening = protocol.startswith("udp") or fields[3] == "0A"
            if listening and port:
                found.append((protocol, host, port))
    return found


def isLoopback(host: str) -> bool:
    import ipaddress

    address = ipaddress.ip_address(host)
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class DemoRun:
    """One demo process, its output read line by line on a thread (so every wait is bounded)."""

    def __init__(self, testCase: unittest.TestCase, config: str) -> None:
        self.child = subprocess.Popen(TWISTD + ["--config", config], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, env=subprocessEnv(), cwd=TOP)
        testCase.addCleanup(self.kill)
        self.lines: list[str] = []
        self._queue: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def waitFor(self, predicate, timeout: float = 90.0) -> bool:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while not predicate(self.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                line = self._queue.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                continue
            if line is None:
                return predicate(self.lines)
            self.lines.append(line.rstrip("\n"))
        return True

    def stop(self) -> int:
        """Ctrl-C, then wait (bounded) for the process to end and its output to close."""
        self.child.send_signal(signal.SIGINT)
        code = self.child.wait(timeout=30)
        self.waitFor(lambda lines: False, timeout=5)
        return code

    def kill(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait(timeout=10)
        if self.child.stdout is not None:
            self.child.stdout.close()

    def text(self) -> str:
        return "\n".join(self.lines)


def consoleDevices(url: str) -> list[dict]:
    """The devices the console at C{url} lists (no proxy of the environment: it is on loopback)."""
    import json
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url + "api/devices", timeout=10) as response:
        return json.loads(response.read())["devices"]


def walkedAndRebooted(lines: list[str]) -> bool:
    text = "\n".join(lines)
    return all(f"{name}: walk done" in text and f"Inform from {name}: 1 BOOT, M Reboot 'demo-reboot'" in text
               for name in NAMES)


class DemoProcessTests(unittest.TestCase):
    timeout = 300

    def setUp(self) -> None:
        self.state = os.path.abspath(self.mktemp())
        self.config = os.path.abspath(self.mktemp())
        with open(self.config, "w") as f:
            # no [acs] url: the demo, as with no configuration at all
            f.write(f"[state]\ndirectory = {self.state}\n[demo]\ndevices = {DEVICES}\n")

    def checkWalk(self, run: DemoRun, firstEvents: str) -> None:
        text = run.text()
        for name in NAMES:
            with self.subTest(device=name):
                self.assertIn(f"Inform from {name}: {firstEvents}", text)
                for request in ("GetParameterNames Device.DeviceInfo.", "GetParameterValues Device.DeviceInfo.SerialNumber",
                                "SetParameterValues Device.Time.NTPServer1 = 'ntp.demo.example'",
                                "AddObject Device.Hosts.Host.", "Reboot (CommandKey 'demo-reboot')"):
                    self.assertIn(f"→ {name}: {request}", text)
                self.assertIn(f"← {name}: SetParameterValuesResponse Status 0", text)
                self.assertRegex(text, rf"← {name}: AddObjectResponse instance \d+, Status 0")
                serial = name.rsplit("-", 1)[1]
                self.assertIn(f"Device.DeviceInfo.SerialNumber = '{serial}'", text)
                # the UPnP side of the same walk
                self.assertIn(f"UPnP   → {name}: ConfigurationManagement SetValues /BBF/Time/NTPServer1 = "
                              "'ntp.demo.example'", text)
                self.assertIn(f"UPnP   → {name}: ConfigurationManagement CreateInstance MultiInstanceName="
                              "/BBF/Hosts/Host/", text)
                self.assertIn(f"UPnP   → {name}: BasicManagement Reboot", text)
                self.assertIn(f"→ {name}: SetParameterAttributes {demo.TRY_PARAMETER} Notification=2", text)

    def test_demoTwice(self) -> None:
        """
        First run: each simulated device bootstraps, is walked (both sides printed) and reboots
        ("1 BOOT" + "M Reboot"); only loopback sockets; Ctrl-C ends it cleanly. Second run on the same
        state: no BOOTSTRAP (the ACS URL is the same), each device is walked again.
        """
        run = DemoRun(self, self.config)
        self.assertTrue(run.waitFor(walkedAndRebooted), run.text()[-3000:])
        console = re.match(r"demo   console at (http://127\.0\.0\.1:\d+/) — open it in a browser", run.lines[0])
        self.assertIsNotNone(console, run.lines[:3])
        self.assertEqual(sorted(d["key"] for d in consoleDevices(console.group(1))), NAMES)
        tryNext = f"demo     open {console.group(1)} and pick a device"
        self.assertTrue(run.waitFor(lambda lines: any(line.startswith(tryNext) for line in lines), timeout=10),
                        run.text()[-2000:])
        self.assertIn("demo   every device walked. Try next:", run.text())
        addresses = boundAddresses(run.child.pid)
        self.assertTrue(addresses)
        for protocol, host, port in addresses:
            self.assertTrue(isLoopback(host), f"{protocol} socket on {host}:{port}")
        self.checkWalk(run, "0 BOOTSTRAP")
        self.assertIn(run.stop(), (0, -signal.SIGINT))
        self.assertIn("demo   stopped", run.text())
        self.assertNotIn("Traceback", run.text())
        first = run.text()

        again = DemoRun(self, self.config)
        self.assertTrue(again.waitFor(walkedAndRebooted), again.text()[-3000:])
        self.checkWalk(again, "1 BOOT")
        self.assertNotIn("0 BOOTSTRAP", again.text())
        self.assertEqual(first.split("demo ACS at ")[1].split(",")[0], again.text().split("demo ACS at ")[1].split(",")[0])
        self.assertIn(again.stop(), (0, -signal.SIGINT))
        self.assertNotIn("Traceback", again.text())


class DemoPartsTests(unittest.TestCase):
    """The demo's pieces, in process."""

    def test_demoConfigStaysOnLoopback(self) -> None:
        """The demo's configuration: SSDP unicast on loopback, Connection Requests on 127.0.0.1, the demo ACS."""
        config = demo.demoConfig(load(None).replace("connection_request", listen_address="0.0.0.0"),
                                 "http://127.0.0.1:1/acs")
        self.assertEqual((config["lan"]["ssdp_mode"], config["lan"]["ssdp_port"]), ("unicast-loopback", 0))
        self.assertEqual(config["connection_request"]["listen_address"], "127.0.0.1")
        self.assertEqual(config["acs"]["url"], "http://127.0.0.1:1/acs")
        self.assertEqual((config["console"]["enable"], config["console"]["listen_address"],
                          config["console"]["credentials"]), (True, "127.0.0.1", ("", "")))

    def test_consoleOnAFreePortWhenTaken(self) -> None:
        """The demo's console takes a free port when its configured one is taken, and says where."""
        from twisted.application.service import MultiService
        from twisted.internet import reactor
        from twisted.web.resource import Resource
        from twisted.web.server import Site

        taken = reactor.listenTCP(0, Site(Resource()), interface="127.0.0.1")
        self.addCleanup(taken.stopListening)
        tree = MultiService()
        tree.config = demo.demoConfig(load(None).replace("console", port=taken.getHost().port),
                                      "http://127.0.0.1:1/acs")
        tree.identity = None
        console = demo._addConsole(tree, reactor)
        self.addCleanup(console.stopService)
        self.assertNotEqual(console.port, taken.getHost().port)
        self.assertEqual(console.url(), f"http://127.0.0.1:{console.port}/")
        self.assertIs(console.parent, tree)

    def test_withoutTheSimulator(self) -> None:
        """
        Where the simulator is not installed (the Debian gateway package
        without proxier-sim), asking for the demo stops with one line naming
        [demo] enable and the package to install, not an ImportError
        traceback; nothing listens.
        """
        from twisted.internet.task import Clock

        from proxier.config import ConfigError
        from proxier.plugins.upnpdm import upnpdm
        from proxier.store import Store

        saved = sys.modules.pop("proxier.sim.fleet", None)

        def restore() -> None:
            del sys.modules["proxier.sim.fleet"]
            if saved is not None:
                sys.modules["proxier.sim.fleet"] = saved

        sys.modules["proxier.sim.fleet"] = None  # type: ignore[assignment]  # import raises ImportError
        self.addCleanup(restore)
        clock = Clock()
        store = Store.open(self.mktemp())
        with self.assertRaises(ConfigError) as raised:
            demo.makeDemoService(load(None), store, [upnpdm], reactor=clock)
        line = str(raised.exception)
        self.assertIn("[demo] enable", line)
        self.assertIn("proxier-sim", line)
        self.assertNotIn("\n", line)

    def test_descriptions(self) -> None:
        """What the demo prints of requests, answers and actions: short, readable, no XML."""
        self.assertEqual(demo.describeRequest(m.AddObject("Device.Hosts.Host.", "k")), "AddObject Device.Hosts.Host.")
        self.assertEqual(demo.describeResponse(m.GetParameterValuesResponse((ParameterValue("A.B", "1"),))),
                         "A.B = '1'")
        self.assertEqual(demo.describeResponse(m.SOAPFault(CWMPFault(9005))),
                         "Fault 9005 Invalid parameter name")
        names = demo.describeResponse(m.GetParameterNamesResponse(tuple(ParameterInfo(f"A.{i}", i == 0)
                                                                        for i in range(6))))
        self.assertEqual(names, "6 names: A.0 (writable), A.1, A.2, A.3, … (6 in all)")
        from proxier.upnpdm import cmsxml

        described = demo.describeArguments({"ParameterValueList": cmsxml.parameterValueList([("/BBF/A", "x")])})
        self.assertEqual(described, "/BBF/A = 'x'")
        self.assertEqual(demo.describeArguments({"StartingNode": "/BBF/", "SearchDepth": 1}),
                         "StartingNode=/BBF/ SearchDepth=1")


PRINTER = "000000-ExampleCo Demo MFP-"
LEVEL = "MarkerSupply.2.MarkerSupplyDescription.MarkerSupplyCurrentLevel"


def printerChanged(lines: list[str]) -> bool:
    """The printer walked, and an Inform of it with "4 VALUE CHANGE" for the black toner level."""
    return any("walk done (the demo rows read" in line for line in lines) and any(
        f"Inform from {PRINTER}" in line and "4 VALUE CHANGE" in line and LEVEL in line for line in lines)


class DemoPrinterPortTests(unittest.TestCase):
    def test_keptOrBelowTheEphemeralRange(self) -> None:
        """
        The printer's port of the last run is kept while it is free; a busy
        one is replaced by a port below the kernel's ephemeral range (which
        no outgoing connection takes before the printer listens), saved for
        the next run.
        """
        import socket

        from proxier.store import Store

        store = Store.open(self.mktemp())
        first = demo._printerPort(store)
        self.assertLess(first, demo._ephemeralLow())
        self.assertEqual(demo._printerPort(store), first)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
            busy.bind(("127.0.0.1", first))
            busy.listen(1)
            second = demo._printerPort(store)
        self.assertNotEqual(second, first)
        self.assertLess(second, demo._ephemeralLow())
        self.assertEqual(demo._printerPort(store), second)

    def test_ephemeralLow(self) -> None:
        """The range's first port is read as ASCII digits; an unreadable file gives Linux's default."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("40000\t60999\n")
        self.assertEqual(demo._ephemeralLow(path), 40000)
        with open(path, "w") as f:
            f.write("\uff14\uff10000 60999\n")
        self.assertEqual(demo._ephemeralLow(path), 32768)
        self.assertEqual(demo._ephemeralLow(path + ".none"), 32768)


class DemoPrinterTests(unittest.TestCase):
    """
    The demo's printer (no UPnP device here): started on 127.0.0.1, walked
    by the demo ACS — the demo-table rows read, the location set and read
    back, active notification on the black toner level — and its level's
    drop reported as "4 VALUE CHANGE" in a session the device starts by
    itself; Ctrl-C stops it.
    """

    timeout = 300

    def start(self, kind: str) -> DemoRun:
        state = os.path.abspath(self.mktemp())
        config = os.path.abspath(self.mktemp())
        with open(config, "w") as f:
            f.write(f"[state]\ndirectory = {state}\n[demo]\ndevices = 0\nprinter = {kind}\n")
        run = DemoRun(self, config)
        self.assertTrue(run.waitFor(printerChanged), run.text()[-3000:])
        return run

    def checkWalk(self, run: DemoRun) -> None:
        text = run.text()
        for row in ("Device.DeviceInfo.SerialNumber = '", "PrintServiceDescription.ServiceLocation = 'Front office'",
                    "PrintServiceDescription.ColorSupported = 'true'", "PrintServiceStatus.State = 'Idle'",
                    f"{LEVEL} = '", "InputTray.2.InputTrayDescription.InputTrayCurrentLevel = '275'",
                    "PrintDocumentProcessing.OrientationRequested = 'Portrait'",
                    "PrintDocumentProcessing.Sides = 'TwoSidedLongEdge'",
                    "PrintDocumentProcessing.Resolution.CrossFeedDir = '600'", "PrintDocumentProcessing.Copies = '1'"):
            with self.subTest(row=row):
                self.assertRegex(text, rf"← {PRINTER}[-0-9a-f]+: (\S+\.)?{re.escape(row)}")
        self.assertIn("SetParameterValues Device.Services.PrintService.1.PrintServiceDescription.ServiceLocation = "
                      "'Demo lab, shelf 2'", text)
        self.assertIn(f"{LEVEL} Notification=2", text)
        self.assertRegex(text, rf"Inform from {PRINTER}[-0-9a-f]+: 4 VALUE CHANGE .*; changed: "
                               rf"Device\.Services\.PrintService\.1\.\S+{LEVEL} = '7\d'")

    def stop(self, run: DemoRun) -> None:
        self.assertIn(run.stop(), (0, -signal.SIGINT))
        self.assertIn("demo   stopped", run.text())
        self.assertNotIn("Traceback", run.text())

    def test_fakePrinter(self) -> None:
        """The in-process fake printer: the location is set and read back as set."""
        run = self.start("fake")
        self.assertIn("printer: the in-process fake IPP printer at ipp://127.0.0.1:", run.text())
        self.checkWalk(run)
        self.assertRegex(run.text(), rf"← {PRINTER}[-0-9a-f]+: SetParameterValuesResponse Status 0\n.*\n"
                                     rf".*← {PRINTER}[-0-9a-f]+: PrintServiceDescription.ServiceLocation = "
                                     "'Demo lab, shelf 2'")
        self.assertIn("black toner now 7", run.text())
        for protocol, host, port in boundAddresses(run.child.pid):
            self.assertTrue(isLoopback(host), f"{protocol} socket on {host}:{port}")
        self.stop(run)

    def test_ippeveprinter(self) -> None:
        """
        A real ippeveprinter: it lets no attribute be set, so the location
        write is refused (9003 with 9008) and reads back unchanged; its
        level drops through its /supplies form; after Ctrl-C neither it
        nor its D-Bus bus runs.
        """
        from proxier.sim.ippeveprinter import binaries

        if binaries() is None:
            raise unittest.SkipTest("ippeveprinter or dbus-daemon is not installed (tools/install-test-peers)")
        run = self.start("ippeveprinter")
        started = re.search(r"a real ippeveprinter \(PID (\d+), its private D-Bus bus PID (\d+)\)", run.text())
        self.assertIsNotNone(started, run.text()[-3000:])
        self.checkWalk(run)
        self.assertRegex(run.text(), rf"← {PRINTER}[-0-9a-f]+: Fault 9003 Invalid arguments \(ServiceLocation: "
                                     rf"9008 Attempt to set a non-writable parameter\)\n.*\n"
                                     rf".*← {PRINTER}[-0-9a-f]+: PrintServiceDescription.ServiceLocation = "
                                     "'Front office'")
        self.assertRegex(run.text(), r"black toner set to 7\d % through ippeveprinter's /supplies form \(HTTP 200\)")
        self.stop(run)
        for pid in started.groups():
            self.assertFalse(processRuns(int(pid)), f"PID {pid} still runs after the demo stopped")
