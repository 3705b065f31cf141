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
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault
from proxier.datamodel.values import ParameterInfo, ParameterValue
from tests._helpers import TOP, processRuns, subprocessEnv

DEVICES = 2
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "--nodaemon", "--pidfile=", "proxier"]
NAMES = [f"02C0DE-SimDM-SIM{i:06d}" for i in range(DEVICES)]
#: how the demo's short lines name each device, padded to its column
LABELS = [f"{demo.deviceLabel('SimDM', f'SIM{i:06d}'):<{demo.LABEL_WIDTH}}" for i in range(DEVICES)]


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

    def __init__(self, testCase: unittest.TestCase, config: str, log: str = "") -> None:
        #: the demo's log file ([log] file), where every exchange is told in full
        self.log = log
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

    def logged(self) -> str:
        with open(self.log, encoding="utf-8") as f:
            return f.read()

    def checkShort(self, testCase: unittest.TestCase) -> None:
        """Every line about a device is one short line: within the width, no XML, no full path of a document."""
        for line in self.lines:
            if line.startswith(("CWMP ", "UPnP ")):
                testCase.assertLessEqual(len(line), demo.WIDTH, line)
                testCase.assertNotIn("<", line.replace("←", ""), line)
                testCase.assertNotIn("Access='", line)


def consoleDevices(url: str) -> list[dict]:
    """The devices the console at C{url} lists (no proxy of the environment: it is on loopback)."""
    import json
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url + "api/devices", timeout=10) as response:
        return json.loads(response.read())["devices"]


def walkedAndRebooted(lines: list[str]) -> bool:
    text = "\n".join(lines)
    return all(f"demo {label} walk done" in text and f"CWMP {label} ← Inform 1 BOOT, M Reboot 'demo-reboot'" in text
               for label in LABELS)


class DemoProcessTests(unittest.TestCase):
    timeout = 300

    def setUp(self) -> None:
        self.state = os.path.abspath(self.mktemp())
        self.config = os.path.abspath(self.mktemp())
        self.log = os.path.abspath(self.mktemp())
        with open(self.config, "w") as f:
            # no [acs] url: the demo, as with no configuration at all; every exchange in full in the log
            f.write(f"[state]\ndirectory = {self.state}\n[demo]\ndevices = {DEVICES}\n"
                    f"[log]\nlevel = debug\nfile = {self.log}\n")

    def checkWalk(self, run: DemoRun, firstEvents: str) -> None:
        """Each exchange of the walk, both sides, one short line each; the log has them in full."""
        text = run.text()
        logged = run.logged()
        run.checkShort(self)
        for name, label in zip(NAMES, LABELS):
            serial = name.rsplit("-", 1)[1]
            with self.subTest(device=name):
                self.assertIn(f"CWMP {label} ← Inform {firstEvents}", text)
                for exchange in ("GetParameterNames Device.DeviceInfo. next level → 14 names",
                                 f"GetParameterValues → SerialNumber='{serial}', SoftwareVersion='1.0.0', ",
                                 "SetParameterValues NTPServer1='ntp.demo.example' → Status 0",
                                 "AddObject Device.Hosts.Host. → instance ",
                                 f"SetParameterAttributes {demo.TRY_PARAMETER.rpartition('.')[2]} Notification=2 → "
                                 "done",
                                 "Reboot 'demo-reboot' → done"):
                    self.assertIn(f"CWMP {label} {exchange}", text)
                # the UPnP side of the same walk
                for action in ("SetValues NTPServer1='ntp.demo.example' → Status=ChangesApplied (",
                               "CreateInstance MultiInstanceName=/BBF/Hosts/Host/ → InstanceIdentifier=",
                               "Reboot → RebootStatus="):
                    self.assertIn(f"UPnP {label} {action}", text)
                # and in full, in the log
                self.assertIn(f"{name}: GetParameterValues Device.DeviceInfo.SerialNumber, "
                              "Device.DeviceInfo.SoftwareVersion, Device.Time.NTPServer1, "
                              f"Device.Hosts.HostNumberOfEntries → Device.DeviceInfo.SerialNumber = '{serial}', ",
                              logged)
                self.assertIn(f"{name}: ConfigurationManagement SetValues /BBF/Time/NTPServer1 = "
                              "'ntp.demo.example' → ", logged)
                self.assertIn(f"{name}: SetParameterAttributes {demo.TRY_PARAMETER} Notification=2 → ", logged)

    def test_demoTwice(self) -> None:
        """
        First run: each simulated device bootstraps, is walked (both sides printed) and reboots
        ("1 BOOT" + "M Reboot"); only loopback sockets; Ctrl-C ends it cleanly. Second run on the same
        state: no BOOTSTRAP (the ACS URL is the same), each device is walked again.
        """
        run = DemoRun(self, self.config, self.log)
        self.assertTrue(run.waitFor(walkedAndRebooted), run.text()[-3000:])
        console = re.match(r"demo console at (http://127\.0\.0\.1:\d+/) — open it in a browser", run.lines[0])
        self.assertIsNotNone(console, run.lines[:3])
        self.assertEqual(sorted(d["key"] for d in consoleDevices(console.group(1))), NAMES)
        self.assertTrue(run.waitFor(lambda lines: any("every exchange in full: [log] level = debug" in line
                                                      for line in lines), timeout=10), run.text()[-2000:])
        self.assertIn(f"demo   in a browser: {console.group(1)} ", run.text())
        self.assertIn("demo every device walked. Try next:", run.text())
        self.assertIn(f" --url {console.group(1)} set {NAMES[0]} {demo.TRY_PARAMETER} ", run.text())
        addresses = boundAddresses(run.child.pid)
        self.assertTrue(addresses)
        for protocol, host, port in addresses:
            self.assertTrue(isLoopback(host), f"{protocol} socket on {host}:{port}")
        self.checkWalk(run, "0 BOOTSTRAP")
        self.assertIn(run.stop(), (0, -signal.SIGINT))
        self.assertIn("demo stopped", run.text())
        self.assertNotIn("Traceback", run.text())
        self.assertNotIn("Traceback", run.logged())
        first = run.text()

        again = DemoRun(self, self.config, self.log)
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
        """What the log gets of requests, answers and actions: in full (a limit lists some), no XML."""
        self.assertEqual(demo.describeRequest(m.AddObject("Device.Hosts.Host.", "k")), "AddObject Device.Hosts.Host.")
        self.assertEqual(demo.describeResponse(m.GetParameterValuesResponse((ParameterValue("A.B", "1"),))),
                         "A.B = '1'")
        self.assertEqual(demo.describeResponse(m.SOAPFault(CWMPFault(9005))),
                         "Fault 9005 Invalid parameter name")
        answer = m.GetParameterNamesResponse(tuple(ParameterInfo(f"A.{i}", i == 0) for i in range(6)))
        self.assertEqual(demo.describeResponse(answer, 4), "6 names: A.0 (writable), A.1, A.2, A.3, … (6 in all)")
        self.assertEqual(demo.describeResponse(answer), "6 names: A.0 (writable), A.1, A.2, A.3, A.4, A.5")
        from proxier.upnpdm import cmsxml

        described = demo.describeArguments({"ParameterValueList": cmsxml.parameterValueList([("/BBF/A", "x")])})
        self.assertEqual(described, "/BBF/A = 'x'")
        self.assertEqual(demo.describeArguments({"StartingNode": "/BBF/", "SearchDepth": 1}),
                         "StartingNode=/BBF/ SearchDepth=1")

    def test_briefForms(self) -> None:
        """
        What the terminal gets: parameters by their last names, values cut,
        answers as counts and statuses, documents as their paths' last names
        (no attribute of theirs), a few listed and the others counted.
        """
        from proxier.upnpdm import cmsxml

        ntp = ParameterValue("Device.Time.NTPServer1", "ntp." + "x" * 40, "xsd:string")
        self.assertEqual(demo.briefRequest(m.SetParameterValues((ntp,), "k")),
                         "SetParameterValues NTPServer1='ntp." + "x" * 19 + "…'")
        self.assertEqual(demo.briefRequest(m.GetParameterNames("Device.DeviceInfo.", True)),
                         "GetParameterNames Device.DeviceInfo. next level")
        self.assertEqual(demo.briefRequest(m.Reboot("demo-reboot")), "Reboot 'demo-reboot'")
        # several parameters: their object when they have one, else none named
        row = "Device.ManagementServer.EmbeddedDevice.2."
        self.assertEqual(demo.briefRequest(m.GetParameterValues((row + "CommandProcessed", row + "LastSyncTime"))),
                         "GetParameterValues EmbeddedDevice.2.")
        self.assertEqual(demo.briefRequest(m.GetParameterValues(("Device.DeviceInfo.SerialNumber",
                                                                 "Device.Time.NTPServer1"))), "GetParameterValues")
        values = tuple(ParameterValue(f"Device.DeviceInfo.P{i}", str(i)) for i in range(5))
        self.assertEqual(demo.briefResponse(m.GetParameterValuesResponse(values)),
                         "P0='0', P1='1', P2='2', … (5 in all)")
        self.assertEqual(demo.briefResponse(m.AddObjectResponse(3, 0)), "instance 3")
        self.assertEqual(demo.briefResponse(m.SetParameterValuesResponse(1)), "Status 1")
        self.assertEqual(demo.briefResponse(m.RebootResponse()), "done")
        fault = CWMPFault(9003, parameterFaults=(SetParameterValuesFault("Device.A.Location", 9008, "x"),))
        self.assertEqual(demo.briefResponse(m.SOAPFault(fault)), "Fault 9003 (Location: 9008)")
        self.assertEqual(demo.briefResponse(m.SOAPFault(CWMPFault(9005))), "Fault 9005 Invalid parameter name")
        attributes = ("<cms:ParameterAttributeList xmlns:cms='urn:schemas-upnp-org:dm:cms'>" + "".join(
            f"<Parameter><ParameterPath>/BBF/DeviceInfo/P{i}</ParameterPath><Access>readOnly</Access>"
            f"<Type>string</Type></Parameter>" for i in range(36)) + "</cms:ParameterAttributeList>")
        self.assertEqual(demo.briefArguments({"ParameterAttributeList": attributes}), "P0, P1, … (36 in all)")
        self.assertEqual(demo.briefArguments({"ParameterValueList": cmsxml.parameterValueList(
            [("/BBF/Time/NTPServer1", "ntp.demo.example")])}), "NTPServer1='ntp.demo.example'")
        self.assertEqual(demo.briefArguments({"StartingNode": "/BBF/Hosts/Host/", "SearchDepth": 0}),
                         "StartingNode=/BBF/Hosts/Host/ SearchDepth=0")
        self.assertEqual(demo.briefArguments({"Instances": "<x><p>/BBF/Hosts/Host/2/</p></x>"}), "Host/2/")

    def test_labels(self) -> None:
        """Devices are told apart in a short column: the product class's last words that fit, the serial's start."""
        self.assertEqual(demo.deviceLabel("SimDM", "SIM000001"), "SimDM SIM000001")
        self.assertEqual(demo.deviceLabel("ExampleCo Demo MFP", "2d8d486a-f569-54aa-9c94-f82bf8e9787a"),
                         "Demo MFP 2d8d486a")
        self.assertEqual(demo.deviceLabel("AVeryLongProductClassName", "S1"), "AVeryLongProdu… S1")
        for label in (demo.deviceLabel("A" * 40, "B" * 40), demo.deviceLabel("Gateway", "3D1219C7C4C5404A")):
            self.assertLessEqual(len(label), demo.LABEL_WIDTH, label)
        self.assertEqual(demo.nameLabel("02C0DE-SimDM-SIM000001"), "SimDM SIM000001")
        self.assertEqual(demo.keyLabel("000000-ExampleCo_Demo_MFP-2d8d486a-f569"), "Demo MFP 2d8d486a")
        self.assertEqual(demo.nameLabel("probe of uuid:fe078e06-2d37-52e2-aad0-4350f5993eae"), "probe fe078e06")

    def test_printerLines(self) -> None:
        """
        A device's line is cut to the width, what follows it (the time
        taken) kept whole; the full text goes to the log at debug level.
        """
        import io

        from twisted.logger import LogLevel

        from tests._helpers import LogCapture

        log = LogCapture(self)
        out = io.StringIO()
        printer = demo.Printer(out)
        printer.exchange("UPnP", "SimDM SIM000001", "GetValues " + "P, " * 60, "the whole of it", tail="(7 ms)")
        printer.line("demo", "stopped")
        first, second = out.getvalue().splitlines()
        self.assertEqual(len(first), demo.WIDTH)
        self.assertTrue(first.startswith(f"UPnP {'SimDM SIM000001':<{demo.LABEL_WIDTH}} GetValues P, P, "), first)
        self.assertTrue(first.endswith("… (7 ms)"), first)
        self.assertEqual(second, "demo stopped")
        [event] = [e for e in log.events if e.get("detail") == "the whole of it"]
        self.assertEqual((event["log_level"], event["label"], event["side"]),
                         (LogLevel.debug, "SimDM SIM000001", "UPnP"))

    def test_oneLinePerExchange(self) -> None:
        """
        The demo ACS prints one line per CWMP exchange — the request with
        its answer — naming the device by its label, and the Inform that
        opens a session; the whole exchange goes to the log.
        """
        import io
        from types import SimpleNamespace

        from twisted.internet import task

        from proxier.datamodel.values import DeviceIdentity
        from tests._helpers import LogCapture

        log = LogCapture(self)
        out = io.StringIO()
        acs = demo.DemoACS(demo.Printer(out), clock=task.Clock(), walk=demo.WALK[:2])
        identity = DeviceIdentity("Simulated", "02C0DE", "SimDM", "SIM000001")
        inform = m.Inform(deviceId=identity, events=(m.EventStruct("1 BOOT", ""),))
        session = SimpleNamespace(device=str(identity), inform=inform)
        first = acs._script(session, None)
        self.assertIsInstance(first, m.GetParameterNames)
        second = acs._script(session, m.GetParameterNamesResponse((ParameterInfo("Device.DeviceInfo.A", False),)))
        self.assertIsInstance(second, m.GetParameterValues)
        serial = ParameterValue("Device.DeviceInfo.SerialNumber", "SIM000001")
        self.assertIsNone(acs._script(session, m.GetParameterValuesResponse((serial,))))
        label = f"{'SimDM SIM000001':<{demo.LABEL_WIDTH}}"
        self.assertEqual(out.getvalue().splitlines(), [
            f"CWMP {label} ← Inform 1 BOOT",
            f"CWMP {label} GetParameterNames Device.DeviceInfo. next level → 1 names",
            f"CWMP {label} GetParameterValues → SerialNumber='SIM000001'",
            f"demo {label} walk done ({demo.WALK_DONE})"])
        details = [e["detail"] for e in log.events if "detail" in e]
        self.assertIn("02C0DE-SimDM-SIM000001: GetParameterValues Device.DeviceInfo.SerialNumber, "
                      "Device.DeviceInfo.SoftwareVersion, Device.Time.NTPServer1, Device.Hosts.HostNumberOfEntries "
                      "→ Device.DeviceInfo.SerialNumber = 'SIM000001'", details)

    def test_embeddedWalk(self) -> None:
        """
        A device shown as embedded objects is walked in the gateway's
        sessions: the EmbeddedDevice rows listed, each row and the row its
        Reference names read, a value set through it; in a later session
        (the gateway is wanted once it is due) CommandProcessed and
        LastSyncTime are read until Success, then the walk is done. A row
        not read from its device yet waits; a walked one is not asked again.
        """
        import io
        from types import SimpleNamespace

        from twisted.internet import task

        from proxier.datamodel.values import DeviceIdentity
        from proxier.printer.settings import PROXY_PROTOCOL

        out = io.StringIO()
        clock = task.Clock()
        acs = demo.DemoACS(demo.Printer(out), clock=clock)
        gateway = DeviceIdentity("proxier", "000000", "Gateway", "3D1219C7C4C5404A")
        acs.proxier = str(gateway)
        printer, later = "000000-ExampleCo_Demo_MFP-a3dd5eb6-ed2b", "02C0DE-SimDM-SIM000000"
        keys = [printer]
        acs.embedded = lambda: keys
        self.assertEqual(acs.gatewayWanted(), "embedded objects to walk")
        rows = demo.EMBEDDED_ROWS
        service = "Device.Services.PrintService.1"
        location = f"{service}.PrintServiceDescription.ServiceLocation"

        def session(events: str = "6 CONNECTION REQUEST") -> SimpleNamespace:
            inform = m.Inform(deviceId=gateway, events=(m.EventStruct(events, ""),))
            return SimpleNamespace(device=acs.proxier, inform=inform)

        def row(number: int, key: str, reference: str, protocol: str, synced: str) -> m.Message:
            values = (("ProxiedDeviceID", key), ("Reference", reference), ("ProxyProtocol", protocol),
                      ("CommandProcessed", "Success"), ("LastSyncTime", synced))
            return m.GetParameterValuesResponse(tuple(ParameterValue(f"{rows}{number}.{name}", value)
                                                      for name, value in values))

        first = session()
        self.assertEqual(acs._script(first, None), m.GetParameterNames(rows, True))
        listed = m.GetParameterNamesResponse((ParameterInfo(f"{rows}1.", False), ParameterInfo(f"{rows}2.", False)))
        self.assertEqual(acs._script(first, listed), m.GetParameterNames(f"{rows}1.", False))
        self.assertEqual(acs._script(first, m.GetParameterNamesResponse(())), m.GetParameterValues((f"{rows}1.",)))
        self.assertEqual(acs._script(first, row(1, printer, service, PROXY_PROTOCOL, "2026-12-06T16:00:00Z")),
                         m.GetParameterNames(service + ".", False))
        self.assertEqual(acs._script(first, m.GetParameterNamesResponse(())), m.GetParameterValues((service + ".",)))
        request = acs._script(first, m.GetParameterValuesResponse((ParameterValue(location, "Front office"),)))
        self.assertEqual(request, m.SetParameterValues((ParameterValue(location, demo.DEMO_LOCATION, "xsd:string"),),
                                                       "demo-embedded"))
        # row 2: its device not read yet (Unknown Time), so nothing more of it now
        self.assertEqual(acs._script(first, m.SetParameterValuesResponse(1)), m.GetParameterNames(f"{rows}2.", False))
        self.assertEqual(acs._script(first, m.GetParameterNamesResponse(())), m.GetParameterValues((f"{rows}2.",)))
        self.assertIsNone(acs._script(first, row(2, later, "Device.X_000000_UPnPDM.1", "UPnP-DM",
                                                 "0001-01-01T00:00:00Z")))
        self.assertEqual(acs.gatewayWanted(), "")  # the printer's set is not due yet; the other is not ready
        clock.advance(demo.READ_BACK)
        self.assertEqual(acs.gatewayWanted(), "a set to read back")
        readBack = m.GetParameterValues((f"{rows}1.CommandProcessed", f"{rows}1.CommandProcessingErrMsg",
                                         f"{rows}1.LastSyncTime"))

        def state(value: str) -> m.Message:
            return m.GetParameterValuesResponse((ParameterValue(f"{rows}1.CommandProcessed", value),
                                                 ParameterValue(f"{rows}1.LastSyncTime", "2026-12-06T16:00:02Z")))

        second = session()
        self.assertEqual(acs._script(second, None), readBack)
        self.assertIsNone(acs._script(second, state("Pending")))
        self.assertEqual(acs.embeddedWalked, set())
        clock.advance(demo.READ_BACK)
        third = session()
        self.assertEqual(acs._script(third, None), readBack)
        self.assertIsNone(acs._script(third, state("Success")))
        self.assertEqual(acs.embeddedWalked, {printer})
        self.assertEqual(acs.embeddedRows[printer], (f"{rows}1.", service, PROXY_PROTOCOL))
        self.assertEqual(acs.gatewayWanted(), "")
        # the other device is ready now: only its row is read (the printer's is known by its number)
        keys.append(later)
        fourth = session()
        self.assertEqual(acs._script(fourth, None), m.GetParameterNames(rows, True))
        self.assertEqual(acs._script(fourth, listed), m.GetParameterNames(f"{rows}2.", False))
        acs._script(fourth, m.GetParameterNamesResponse(()))
        acs._script(fourth, row(2, later, "Device.X_000000_UPnPDM.1", "UPnP-DM", "2026-12-06T16:00:05Z"))
        acs._script(fourth, m.GetParameterNamesResponse(()))
        request = acs._script(fourth, m.GetParameterValuesResponse(()))
        self.assertEqual(request.parameters, (ParameterValue("Device.X_000000_UPnPDM.1.Time.NTPServer1",
                                                             demo.EMBEDDED_NTP, "xsd:string"),))
        self.assertIsNone(acs._script(fourth, m.SOAPFault(CWMPFault(9003, parameterFaults=[SetParameterValuesFault(
            "Device.X_000000_UPnPDM.1.Time.NTPServer1", 9008, "")]))))
        self.assertEqual(acs.embeddedWalked, {printer, later})

        gatewayLabel = f"{'Gateway 3D1219C7':<{demo.LABEL_WIDTH}}"
        printerLabel = f"{'Demo MFP a3dd5eb6':<{demo.LABEL_WIDTH}}"
        lines = out.getvalue().splitlines()
        for line in (
                f"CWMP {gatewayLabel} GetParameterNames {rows} next level → 2 names",
                f"CWMP {gatewayLabel} GetParameterValues EmbeddedDevice.1. → "
                "ProxiedDeviceID='000000-ExampleCo_Demo_M…', Reference='D…",
                f"CWMP {gatewayLabel} GetParameterValues PrintService.1. → ServiceLocation='Front office'",
                f"CWMP {gatewayLabel} SetParameterValues ServiceLocation='Demo lab, shelf 2' → Status 1",
                f"CWMP {gatewayLabel} GetParameterValues EmbeddedDevice.1. → CommandProcessed='Pending', "
                "LastSyncTime='2026-12-06T16:…",
                f"demo {printerLabel} walk done as embedded objects, in the gateway's sessions (EmbeddedDevice.1. and "
                "PrintService.1. read, ServiceLocation set, CommandProcessed Success)",
                f"demo {'SimDM SIM000000':<{demo.LABEL_WIDTH}} walk done as embedded objects, in the gateway's "
                "sessions (EmbeddedDevice.2. and X_000000_UPnPDM.1. read, NTPServer1 not set: Fault 9003 "
                "(NTPServer1: 9008))"):
            self.assertIn(line, lines)
        self.assertEqual(sum("walk done" in line for line in lines), 2)

    def test_expectedWalks(self) -> None:
        """The demo waits for a walk of each device per way it is shown: virtual, embedded, or both."""
        from proxier.printer.settings import PROXY_PROTOCOL

        self.assertEqual(demo.expectedWalks({}, 3, True), (4, 0))
        self.assertEqual(demo.expectedWalks({"UPnP-DM": "both", PROXY_PROTOCOL: "embedded"}, 2, True), (2, 3))
        self.assertEqual(demo.expectedWalks({"UPnP-DM": "embedded", PROXY_PROTOCOL: "embedded"}, 2, False), (0, 2))

    def test_oneLinePerAction(self) -> None:
        """A UPnP action is one line once answered (nothing when it leaves), with its time; a failure says so."""
        import io
        from types import SimpleNamespace

        from twisted.python.failure import Failure

        from proxier.upnpdm import cmsxml

        out = io.StringIO()
        actions = demo.ActionPrinter(demo.Printer(out))
        gate = SimpleNamespace(name="02C0DE-SimDM-SIM000001")
        cms = SimpleNamespace(serviceType="urn:schemas-upnp-org:service:ConfigurationManagement:2")
        asked = {"ParameterValueList": cmsxml.parameterValueList([("/BBF/Time/NTPServer1", "ntp.demo.example")])}
        actions.actionStarted(gate, cms, "SetValues", asked)
        self.assertEqual(out.getvalue(), "")
        actions.actionEnded(gate, cms, "SetValues", asked, {"Status": "ChangesApplied"}, 0.007)
        actions.actionEnded(gate, cms, "GetValues", {}, Failure(ValueError("no answer")), 0.5)
        label = f"{'SimDM SIM000001':<{demo.LABEL_WIDTH}}"
        self.assertEqual(out.getvalue().splitlines(), [
            f"UPnP {label} SetValues NTPServer1='ntp.demo.example' → Status=ChangesApplied (7 ms)",
            f"UPnP {label} GetValues → failed: no answer (500 ms)"])

    def test_tryNext(self) -> None:
        """Once walked, the demo says where the console is, the proxier-ctl commands for a device, and what to watch."""
        lines = demo.tryNextLines("http://127.0.0.1:8547/", "02C0DE-SimDM-SIM000000", "SimDM SIM000000", "proxier-ctl")
        text = "\n".join(lines)
        self.assertEqual(lines[0], "every device walked. Try next:")
        self.assertIn("in a browser: http://127.0.0.1:8547/", text)
        self.assertIn("proxier-ctl --url http://127.0.0.1:8547/ devices", text)
        self.assertIn("proxier-ctl --url http://127.0.0.1:8547/ get 02C0DE-SimDM-SIM000000 Device.Time.", text)
        self.assertIn(f"proxier-ctl --url http://127.0.0.1:8547/ set 02C0DE-SimDM-SIM000000 {demo.TRY_PARAMETER} ",
                      text)
        self.assertIn("'CWMP SimDM SIM000000 ← Inform 4 VALUE CHANGE'", text)
        self.assertIn("[log] level = debug", lines[-1])
        self.assertEqual(demo.tryNextLines("", "K", "L", "c")[1:], lines[-1:])

    def test_tryNextEmbedded(self) -> None:
        """
        With a device shown as embedded objects, the hint reads its rows
        with proxier-ctl --embedded (its key quoted for the shell); with no
        simulated device a Virtual CWMP Device, no lines about one.
        """
        embedded = ("000000-ExampleCo Demo MFP-a3dd", "Demo MFP a3dd", "Device.ManagementServer.EmbeddedDevice.3.",
                    "Device.Services.PrintService.1")
        lines = demo.tryNextLines("http://127.0.0.1:8547/", "", "", "proxier-ctl", embedded)
        text = "\n".join(lines)
        self.assertIn("a device shown as embedded objects (Demo MFP a3dd)", text)
        self.assertIn("proxier-ctl --url http://127.0.0.1:8547/ get --embedded '000000-ExampleCo Demo MFP-a3dd' "
                      "Device.ManagementServer.EmbeddedDevice.3. Device.Services.PrintService.1.", text)
        self.assertIn("EmbeddedDevice.3.CommandProcessed", text)
        self.assertNotIn(demo.TRY_PARAMETER, text)
        both = "\n".join(demo.tryNextLines("http://127.0.0.1:8547/", "02C0DE-SimDM-SIM000000", "SimDM SIM000000",
                                           "proxier-ctl", embedded))
        self.assertIn(f"set 02C0DE-SimDM-SIM000000 {demo.TRY_PARAMETER} ", both)
        self.assertIn("get --embedded ", both)

    def test_ctlCommand(self) -> None:
        """proxier-ctl as this Python runs it: the script beside it when there is one, else the module."""
        folder = os.path.abspath(self.mktemp())
        os.makedirs(folder)
        python = os.path.join(folder, "python3")
        self.assertEqual(demo.ctlCommand(python), f"{python} -m proxier.console.ctl")
        script = os.path.join(folder, "proxier-ctl")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(script, 0o755)
        self.assertEqual(demo.ctlCommand(python), script)


PRINTER = "000000-ExampleCo Demo MFP-"
#: the printer's short lines: its label (the start of its serial number, a UUID), padded to its column
PRINTER_LINE = r"CWMP Demo MFP [0-9a-f]{8} +"
LEVEL = "MarkerSupply.2.MarkerSupplyDescription.MarkerSupplyCurrentLevel"


def printerChanged(lines: list[str]) -> bool:
    """The printer walked, and an Inform of it with "4 VALUE CHANGE" for the black toner level."""
    return any("walk done (the demo rows read" in line for line in lines) and any(
        re.match(PRINTER_LINE + "← Inform 4 VALUE CHANGE; changed MarkerSupplyCurrentLevel='", line)
        for line in lines)


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
        log = os.path.abspath(self.mktemp())
        with open(config, "w") as f:
            f.write(f"[state]\ndirectory = {state}\n[demo]\ndevices = 0\nprinter = {kind}\n"
                    f"[log]\nlevel = debug\nfile = {log}\n")
        run = DemoRun(self, config, log)
        self.assertTrue(run.waitFor(printerChanged), run.text()[-3000:])
        return run

    def checkWalk(self, run: DemoRun) -> None:
        """The walk in short lines; every demo-table row read, and the change, in full in the log."""
        text = run.text()
        logged = run.logged()
        run.checkShort(self)
        self.assertRegex(text, PRINTER_LINE + "GetParameterValues → SerialNumber='")
        for row in ("Device.DeviceInfo.SerialNumber = '", "PrintServiceDescription.ServiceLocation = 'Front office'",
                    "PrintServiceDescription.ColorSupported = 'true'", "PrintServiceStatus.State = 'Idle'",
                    f"{LEVEL} = '", "InputTray.2.InputTrayDescription.InputTrayCurrentLevel = '275'",
                    "PrintDocumentProcessing.OrientationRequested = 'Portrait'",
                    "PrintDocumentProcessing.Sides = 'TwoSidedLongEdge'",
                    "PrintDocumentProcessing.Resolution.CrossFeedDir = '600'", "PrintDocumentProcessing.Copies = '1'"):
            with self.subTest(row=row):
                self.assertIn(row, logged)
        self.assertRegex(text, PRINTER_LINE + "SetParameterValues ServiceLocation='Demo lab, shelf 2' → ")
        self.assertRegex(text, PRINTER_LINE + "SetParameterAttributes MarkerSupplyCurrentLevel Notification=2 → done")
        self.assertIn("SetParameterValues Device.Services.PrintService.1.PrintServiceDescription.ServiceLocation = "
                      "'Demo lab, shelf 2'", logged)
        self.assertRegex(logged, rf"Inform from {PRINTER}[-0-9a-f]+: 4 VALUE CHANGE .*; changed: "
                                 rf"Device\.Services\.PrintService\.1\.\S+{LEVEL} = '7\d'")

    def stop(self, run: DemoRun) -> None:
        self.assertIn(run.stop(), (0, -signal.SIGINT))
        self.assertIn("demo stopped", run.text())
        self.assertNotIn("Traceback", run.text())
        self.assertNotIn("Traceback", run.logged())

    def test_fakePrinter(self) -> None:
        """The in-process fake printer: the location is set and read back as set."""
        run = self.start("fake")
        self.assertIn("printer: the in-process fake IPP printer at ipp://127.0.0.1:", run.text())
        self.checkWalk(run)
        self.assertRegex(run.text(), PRINTER_LINE + r"SetParameterValues ServiceLocation='Demo lab, shelf 2' → "
                                     r"Status 0\n" + PRINTER_LINE + "GetParameterValues ServiceLocation → "
                                     "ServiceLocation='Demo lab, shelf 2'")
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
        self.assertRegex(run.text(), PRINTER_LINE + r"SetParameterValues ServiceLocation='Demo lab, shelf 2' → "
                                     r"Fault 9003 \(ServiceLocation: 9008\)\n" + PRINTER_LINE +
                                     "GetParameterValues ServiceLocation → ServiceLocation='Front office'")
        self.assertIn("Fault 9003 Invalid arguments (ServiceLocation: 9008 Attempt to set a non-writable parameter)",
                      run.logged())
        self.assertRegex(run.text(), r"black toner set to 7\d % through ippeveprinter's /supplies form \(HTTP 200\)")
        self.stop(run)
        for pid in started.groups():
            self.assertFalse(processRuns(int(pid)), f"PID {pid} still runs after the demo stopped")


class DemoEmbeddedTests(unittest.TestCase):
    """
    The demo with the printer shown as embedded objects only and the UPnP
    DM device both ways: each walked, the embedded ones in the gateway's
    sessions, and then what to try next (it waited for a printer's Virtual
    CWMP Device that never comes, before).
    """

    timeout = 300

    def test_walkedInTheGatewaysSessions(self) -> None:
        state = os.path.abspath(self.mktemp())
        config = os.path.abspath(self.mktemp())
        log = os.path.abspath(self.mktemp())
        with open(config, "w") as f:
            f.write(f"[state]\ndirectory = {state}\n[demo]\ndevices = 1\nprinter = fake\n"
                    "[upnp]\nmechanism = both\n[printer]\nmechanism = embedded\n"
                    f"[log]\nlevel = debug\nfile = {log}\n")
        run = DemoRun(self, config, log)
        self.assertTrue(run.waitFor(lambda lines: any("every exchange in full: [log] level = debug" in line
                                                      for line in lines)), run.text()[-3000:])
        text = run.text()
        run.checkShort(self)
        gateway = r"CWMP Gateway [0-9A-F]{8} +"
        self.assertRegex(text, gateway + r"GetParameterNames Device\.ManagementServer\.EmbeddedDevice\. next level")
        self.assertRegex(text, gateway + r"SetParameterValues ServiceLocation='Demo lab, shelf 2' → Status 1")
        self.assertRegex(text, gateway + r"GetParameterValues EmbeddedDevice\.\d\. → CommandProcessed='Success'")
        self.assertRegex(text, r"demo Demo MFP [0-9a-f]{8} +walk done as embedded objects, in the gateway's "
                               r"sessions \(EmbeddedDevice\.\d\. and PrintService\.1\. read, ServiceLocation set, "
                               r"CommandProcessed Success\)")
        self.assertIn(f"demo {LABELS[0]} walk done (", text)
        self.assertIn(f"demo {LABELS[0]} walk done as embedded objects", text)
        self.assertNotRegex(text, r"CWMP Demo MFP")  # no Virtual CWMP Device of the printer
        self.assertIn("demo every device walked. Try next:", text)
        self.assertRegex(text, r" get --embedded 000000-ExampleCo_Demo_MFP-\S+ "
                               r"Device\.ManagementServer\.EmbeddedDevice\.\d\. Device\.Services\.PrintService\.1\.")
        self.assertIn(run.stop(), (0, -signal.SIGINT))
        self.assertNotIn("Traceback", run.text())
        self.assertNotIn("Traceback", run.logged())
