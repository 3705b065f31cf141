"""
Tests for L{proxier.console.ctl} (C{proxier-ctl}): its commands against a
real console server on a free 127.0.0.1 port of the test's reactor, with
Digest credentials, the console found through a config file. The command
blocks (urllib), so it runs on a thread while the reactor serves it.
"""

from __future__ import annotations

import io
import json
from typing import Any

from twisted.internet import defer, reactor, threads
from twisted.trial import unittest

from proxier import config as configmod
from proxier.console import ctl
from proxier.console.api import EmbeddedPresentation
from proxier.console.server import ConsoleService
from proxier.interfaces import PendingDevice
from tests._memproto import Thing
from tests.test_console import AttentiveDevice, FakeDevice, FakeSource, throwawayCertificate

USER, PASSWORD = "installer", "s3cret"


class CtlTests(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.source = FakeSource()
        self.device, self.endpoint = self.source.add("MEM-0001")
        self.source.add("MEM-0002", online=False)
        config = configmod.load(None).replace("console", enable=True, port=0, credentials=(USER, PASSWORD))
        self.service = ConsoleService(config, self.source, reactor=reactor, interfaces=lambda: [], wan=lambda: [])
        self.service.listen()
        self.addCleanup(self.service.stopService)
        self.config = self.writeConfig(credentials=f"{USER}:{PASSWORD}")

    def writeConfig(self, credentials: str, port: Any = None, extra: str = "") -> str:
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"[console]\nenable = yes\nport = {port if port is not None else self.service.port}\n"
                    f"credentials = {credentials}\n{extra}")
        return path

    @defer.inlineCallbacks
    def ctl(self, *argv: str, config: Any = None) -> Any:
        """The command's exit status, standard output and standard error."""
        out, err = io.StringIO(), io.StringIO()
        code = yield threads.deferToThread(ctl.main, ["--config", config or self.config, *argv], out, err)
        return code, out.getvalue(), err.getvalue()

    @defer.inlineCallbacks
    def test_status(self) -> None:
        """status: the proxier's identity, ACS, devices online, as a two-column table; --json the API's answer."""
        code, out, err = yield self.ctl("status")
        self.assertEqual((code, err), (0, ""))
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^proxier +Example Gateways Gateway GW-1 \(version .+\)$")
        self.assertIn("ACS                 http://acs.example/", lines)
        self.assertIn("devices             2 (1 online, 0 as embedded objects), 0 found not proxied (yet)", lines)
        self.assertIn("waiting             4 VALUE CHANGE", lines)
        self.assertFalse([line for line in lines if line.startswith(("action:", "warning:", "info:"))], lines)
        code, out, err = yield self.ctl("--json", "status")
        self.assertEqual(code, 0)
        self.assertEqual((json.loads(out)["devices"], json.loads(out)["identity"]["serialNumber"]), (2, "GW-1"))

    @defer.inlineCallbacks
    def test_statusNotices(self) -> None:
        """status: the proxier's notices under the table, one a line with its kind, in the API's order."""
        self.source.own.changed = {"acsURL": ""}
        self.source.told = [("warning", "state cannot be saved in /var/lib/proxier", "")]
        code, out, err = yield self.ctl("status")
        self.assertEqual((code, err), (0, ""))
        lines = out.splitlines()
        self.assertIn("ACS                 (none)", lines)
        self.assertTrue(lines[-2].startswith("action: no ACS URL: set url in the [acs] section"), lines)
        self.assertEqual(lines[-1], "warning: state cannot be saved in /var/lib/proxier")

    @defer.inlineCallbacks
    def test_devices(self) -> None:
        """devices: one row per device by key, protocol, state, what waits, the last session."""
        code, out, err = yield self.ctl("devices")
        self.assertEqual((code, err), (0, ""))
        header, first, second = out.splitlines()
        self.assertEqual(header.split("  ")[0], "DEVICE")
        self.assertEqual(first.split(), ["000000-Thing-MEM-0001", "X_000000_MemoryDevice", "online", "4", "VALUE",
                                         "CHANGE", "none", "yet", "-"])
        self.assertEqual(second.split()[:3], ["000000-Thing-MEM-0002", "X_000000_MemoryDevice", "offline"])
        code, out, _ = yield self.ctl("--json", "devices")
        self.assertEqual([d["key"] for d in json.loads(out)["devices"]],
                         ["000000-Thing-MEM-0001", "000000-Thing-MEM-0002"])

    @defer.inlineCallbacks
    def test_pending(self) -> None:
        """
        devices: the devices found but not proxied (yet) in a table of their
        own under the devices' — key, protocol, state, address, what, why —
        then what someone must do about them, actions first.
        """
        self.source.waiting = [
            PendingDevice("uuid:b", "Living room box", "UPnP-DM", "192.0.2.7", "waiting", "DeviceProtection held",
                          (("info", "DeviceProtection: introduction failed", ""),
                           ("action", "DeviceProtection: press the device's WPS/introduction button", ""))),
            PendingDevice("lan0/Office printer", "Office printer", "X_000000_IPP", "", "refused",
                          "it tells no serial number nor other identity")]
        code, out, err = yield self.ctl("devices")
        self.assertEqual((code, err), (0, ""))
        lines = out.splitlines()
        start = lines.index("")
        self.assertEqual([line.split("  ")[0] for line in lines[:start]],
                         ["DEVICE", "000000-Thing-MEM-0001", "000000-Thing-MEM-0002"])
        header, box, office, *notices = lines[start + 1:]
        self.assertEqual(header.split(), ["NOT", "PROXIED", "(YET)", "PROTOCOL", "STATE", "ADDRESS", "WHAT", "WHY"])
        self.assertEqual([cell.strip() for cell in box.split("  ") if cell.strip()],
                         ["uuid:b", "UPnP-DM", "waiting", "192.0.2.7", "Living room box", "DeviceProtection held"])
        self.assertEqual([cell.strip() for cell in office.split("  ") if cell.strip()][:4],
                         ["lan0/Office printer", "X_000000_IPP", "refused", "-"])
        self.assertEqual(notices, ["uuid:b: action: DeviceProtection: press the device's WPS/introduction button",
                                   "uuid:b: info: DeviceProtection: introduction failed"])
        code, out, _ = yield self.ctl("--json", "devices")
        self.assertEqual([(p["key"], p["proxied"]) for p in json.loads(out)["pending"]],
                         [("uuid:b", False), ("lan0/Office printer", False)])

    def embed(self, serial: str, withEndpoint: bool) -> Any:
        """A device shown as embedded objects: its rows are the own tree's DeviceInfo. and X_000000_Thing."""
        device = self.source.add(serial)[0] if withEndpoint else FakeDevice(Thing(serial).identity)
        self.source.shown.append(EmbeddedPresentation(device, "Device.DeviceInfo.", "Device.X_000000_Thing.",
                                                      "Retrying", "attempt 1 failed (9002 Internal error)", None))
        return device

    @defer.inlineCallbacks
    def test_embedded(self) -> None:
        """
        A device shown as embedded objects alone: listed with no session,
        where its objects are and its CommandProcessed, its Retrying a
        notice; status counts it; get reads the proxier's tree under its
        rows, set writes there ("in the proxier's copy" for Status 1). A
        device presented both ways: get --embedded reads its rows.
        """
        alone = self.embed("MEM-0003", withEndpoint=False)
        both = self.embed("MEM-0004", withEndpoint=True)
        code, out, err = yield self.ctl("status")
        self.assertIn("devices             4 (3 online, 2 as embedded objects), 0 found not proxied (yet)",
                      out.splitlines())
        code, out, err = yield self.ctl("devices")
        self.assertEqual((code, err), (0, ""))
        row = next(line for line in out.splitlines() if line.startswith(alone.key))
        self.assertEqual([cell.strip() for cell in row.split("  ") if cell.strip()],
                         [alone.key, "X_000000_MemoryDevice", "online", "- (the proxier's endpoint)", "-",
                          "Device.X_000000_Thing. (Device.DeviceInfo.) Retrying, not synced yet"])
        self.assertIn(f"{alone.key}: info: what the ACS set is not on the device yet: attempt 1 failed (9002 "
                      "Internal error)", out.splitlines())
        code, out, err = yield self.ctl("get", alone.key, "Device.X_000000_Thing.Label",
                                        "Device.DeviceInfo.SerialNumber")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual([line.split()[:2] for line in out.splitlines()],
                         [["Device.X_000000_Thing.Label", "xsd:string"], ["Device.DeviceInfo.SerialNumber", "GW-1"]])
        code, out, err = yield self.ctl("get", alone.key, "Device.ManagementServer.")
        self.assertEqual(code, 1)
        self.assertIn("fault 9005: Invalid parameter name (Device.ManagementServer. is not in", err)
        code, out, err = yield self.ctl("get", both.key, "Device.DeviceInfo.SerialNumber")
        self.assertEqual(out.split()[:2], ["Device.DeviceInfo.SerialNumber", "MEM-0004"])
        code, out, err = yield self.ctl("get", "--embedded", both.key, "Device.DeviceInfo.SerialNumber")
        self.assertEqual(out.split()[:2], ["Device.DeviceInfo.SerialNumber", "GW-1"])
        code, out, err = yield self.ctl("set", "--embedded", both.key, "Device.X_000000_Thing.Label", "roof")
        self.assertEqual((code, out, err), (0, "set\n", ""))
        self.assertEqual(self.source.own.model.getLocal("Device.X_000000_Thing.Label"), "roof")

    @defer.inlineCallbacks
    def test_get(self) -> None:
        """get: name, value and type per parameter, through the model; a partial path reads what is below it."""
        code, out, err = yield self.ctl("get", self.device.key, "Device.DeviceInfo.SerialNumber",
                                        "Device.X_000000_Thing.Temperature")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual([line.split() for line in out.splitlines()],
                         [["Device.DeviceInfo.SerialNumber", "MEM-0001", "xsd:string"],
                          ["Device.X_000000_Thing.Temperature", "20", "xsd:int"]])
        code, out, _ = yield self.ctl("get", "self", "Device.DeviceInfo.")
        self.assertEqual(code, 0)
        self.assertIn(["Device.DeviceInfo.SerialNumber", "GW-1", "xsd:string"],
                      [line.split() for line in out.splitlines()])

    @defer.inlineCallbacks
    def test_set(self) -> None:
        """set: a local write (CSRF token first, then the POST, both under Digest), read back by get."""
        code, out, err = yield self.ctl("set", self.device.key, "Device.X_000000_Thing.Label", "hall way")
        self.assertEqual((code, out, err), (0, "set\n", ""))
        self.assertEqual(self.endpoint.model.getLocal("Device.X_000000_Thing.Label"), "hall way")
        code, out, _ = yield self.ctl("get", self.device.key, "Device.X_000000_Thing.Label")
        self.assertEqual(out.split(), ["Device.X_000000_Thing.Label", "hall", "way", "xsd:string"])

    @defer.inlineCallbacks
    def test_faults(self) -> None:
        """The console's CWMP faults are printed, per parameter where given, with status 1."""
        code, out, err = yield self.ctl("set", self.device.key, "Device.DeviceInfo.SerialNumber", "x")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("proxier-ctl: fault 9003", err)
        self.assertIn("Device.DeviceInfo.SerialNumber: fault 9008", err)
        code, out, err = yield self.ctl("get", "000000-Thing-NOPE", "Device.")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("fault 9005: Invalid parameter name (no such device)", err)

    @defer.inlineCallbacks
    def test_wrongCredentials(self) -> None:
        """Credentials the console refuses: status 1, the server's 401 said."""
        code, out, err = yield self.ctl("status", config=self.writeConfig(credentials=f"{USER}:wrong"))
        self.assertEqual((code, out), (1, ""))
        self.assertIn("HTTP 401", err)

    @defer.inlineCallbacks
    def test_unreachable(self) -> None:
        """No console listening: status 3 and a line saying where it looked and what to check."""
        port = self.service.port
        yield self.service.stopService()
        code, out, err = yield self.ctl("status")
        self.assertEqual((code, out), (3, ""))
        self.assertIn(f"cannot reach the console at http://127.0.0.1:{port}/", err)
        self.assertIn("[console] enable = yes", err)

    @defer.inlineCallbacks
    def test_url(self) -> None:
        """--url overrides the config's address; a plugin's section in the file does not stop it being read."""
        config = self.writeConfig(credentials=f"{USER}:{PASSWORD}", port=1, extra="[upnp]\nanything = 1\n")
        code, out, err = yield self.ctl("--url", self.service.url(), "devices", config=config)
        self.assertEqual((code, err), (0, ""))
        self.assertIn("000000-Thing-MEM-0001", out)

    @defer.inlineCallbacks
    def test_badConfig(self) -> None:
        """A config mistake in a core section: status 2 and the key named."""
        code, out, err = yield self.ctl("status", config=self.writeConfig(credentials="nocolon"))
        self.assertEqual((code, out), (2, ""))
        self.assertIn("proxier-ctl: ", err)
        self.assertIn("credentials", err)


class CtlTLSTests(unittest.TestCase):
    """A console serving HTTPS: proxier-ctl finds it from [console] certificate and trusts that certificate."""

    timeout = 60

    @defer.inlineCallbacks
    def test_https(self) -> None:
        """status over https; devices lists each device's notices under the table, actions first."""
        cert, key, _ = throwawayCertificate(self.mktemp())
        source = FakeSource()
        source.add("MEM-0001")
        attentive = AttentiveDevice(Thing("MEM-0002").identity, [
            ("info", "DeviceProtection: role granted: Admin", ""),
            ("action", "DeviceProtection: press the device's WPS/introduction button", "")])
        source.pairs[attentive.key] = (attentive, source.pairs["000000-Thing-MEM-0001"][1])
        config = configmod.load(None).replace("console", enable=True, port=0, certificate=cert, key=key)
        service = ConsoleService(config, source, reactor=reactor, interfaces=lambda: [], wan=lambda: [])
        service.listen()
        self.addCleanup(service.stopService)
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"[console]\nenable = yes\nport = {service.port}\ncertificate = {cert}\nkey = {key}\n")
        out, err = io.StringIO(), io.StringIO()
        code = yield threads.deferToThread(ctl.main, ["--config", path, "devices"], out, err)
        self.assertEqual((code, err.getvalue()), (0, ""))
        self.assertEqual(out.getvalue().splitlines()[-2:], [
            "000000-Thing-MEM-0002: action: DeviceProtection: press the device's WPS/introduction button",
            "000000-Thing-MEM-0002: info: DeviceProtection: role granted: Admin"])
