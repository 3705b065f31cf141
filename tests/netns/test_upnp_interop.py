"""
The control point against devices on third-party UPnP stacks — GUPnP, rygel,
miniupnpd, async-upnp-client — over IPv4 and IPv6, with real multicast,
inside a namespace of the test run's own (tests/peers/lab.py).

For each: found within one search cycle, description parsed, an action
invoked and its result or UPnPError decoded, a subscription held across a
renewal, byebye noticed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections import deque

from twisted.internet import defer, reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial import unittest
from twisted.trial.unittest import SkipTest

from proxier import config as C
from proxier.upnp import description as D
from proxier.upnp.controlpoint import ControlPoint, UPnPError
from proxier.upnp.settings import SECTION
from tests.netns.isolation import requireIsolatedNamespace
from tests.peers.lab import Lab
from tests._waiter import Waiter, watch

from .._helpers import SHARED, TOP, waitFor

TEMPLATES = os.path.join(SHARED, "ref", "upnp-dm", "service-templates")
PEERS = os.path.join(TOP, "tests", "peers")
SYSTEM_PYTHON = "/usr/bin/python3"
WAIT = 30.0


def peerPython() -> str:
    """The Python that has async-upnp-client: the venv's (PROXIER_PEER_BIN), or this one."""
    binDir = os.environ.get("PROXIER_PEER_BIN") or os.path.join(TOP, ".venv", "bin")
    for candidate in (os.path.join(binDir, "python"), sys.executable):
        if os.path.exists(candidate):
            return candidate
    raise SkipTest("no Python with async-upnp-client")


class InteropMixin:
    """What every peer's tests share: the lab, the control point, the checks."""

    def setUp(self) -> None:
        requireIsolatedNamespace()
        self.recentLog: deque[str] = deque(maxlen=30)  # what the control point said last, for a failure message
        observer = lambda event: self.recentLog.append(formatEvent(event) or "")  # noqa: E731
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)

    def controlPoint(self, lab: Lab, ipv6: bool, **upnp: object) -> tuple[ControlPoint, Waiter]:
        config = C.load(None, [SECTION]).replace(
            "lan", interfaces=(lab.cpIf,), ipv6=ipv6, ssdp_mode="multicast", ssdp_port=1900, search_interval=60,
        )
        upnp.setdefault("subscription_timeout", 30)
        config = config.replace("upnp", **upnp)
        cp = ControlPoint(config, reactor=reactor)
        return cp, watch(self, cp)

    def waitUntil(self, predicate, timeout: float = WAIT):  # noqa: ANN001, ANN201
        """Poll a condition, bounded."""
        return waitFor(predicate, timeout, step=0.2)

    @inlineCallbacks
    def found(self, cp: ControlPoint, waiter: Waiter, udn: str):  # noqa: ANN201
        """The device is ready within the first search cycle."""
        _, device = yield waiter.wait("ready", timeout=WAIT)
        self.assertEqual(device.udn, udn.lower())
        self.assertLessEqual(cp.discovery.stats["rounds"], 1, "found only after more than one search cycle")
        return device

    @inlineCallbacks
    def renewed(self, device, serviceType: str):  # noqa: ANN001, ANN201
        """Every subscription of the service type survives one renewal with the same SID."""
        subs = [s for s in device.subscriptions if s.owner.service.serviceType.startswith(serviceType)]
        self.assertTrue(subs, f"no subscription to {serviceType}")
        for sub in subs:
            yield self.waitUntil(lambda: sub.state == "subscribed")
            sid = sub.sid
            self.assertTrue(sub.renewNow())
            yield self.waitUntil(lambda: sub.renewals >= 1 and sub.state == "subscribed")
            self.assertEqual(sub.sid, sid)
        return subs

    @inlineCallbacks
    def byebyeOnStop(self, peer, waiter: Waiter):  # noqa: ANN001, ANN201
        """
        The peer, sent TERM, exits by itself within 20 s (it sends its
        byebyes while it shuts down, which takes a busy machine a while), and
        the control point loses the device to its byebye.
        """
        yield peer.stop(timeout=20.0)
        self.assertFalse(peer.killed, f"{peer.name} did not exit within 20 s of TERM: {peer.tail()}")
        try:
            _, _, reason = yield waiter.wait("gone", timeout=WAIT)
        except defer.TimeoutError:
            self.fail(f"no byebye heard within {WAIT:g} s of {peer.name} ending ({peer.exitReason}): "
                      f"{peer.tail()}\ncontrol point, last lines:\n" + "\n".join(self.recentLog))
        self.assertEqual(reason, "byebye")

    @inlineCallbacks
    def upnpError(self, device, service, action: str, arguments: dict, code: int):  # noqa: ANN001, ANN201
        try:
            yield device.callAction(service, action, arguments)
        except UPnPError as e:
            self.assertEqual(e.code, code)
            return e
        self.fail(f"{action} did not fail with {code}")


class GUPnPTests(InteropMixin, unittest.TestCase):
    """A ConfigurationManagement:2 device on GUPnP 1.6 (tests/peers/gupnp_device.py)."""

    UDN = "uuid:9a3d5b6e-0c1f-4d2a-8e7b-000000000001"

    def setUp(self) -> None:
        super().setUp()
        if not os.path.exists(SYSTEM_PYTHON):
            raise SkipTest("no /usr/bin/python3 for python3-gi")

    @inlineCallbacks
    def scenario(self, family: str):  # noqa: ANN201
        ipv6 = family != "ipv4"
        lab = Lab(self, reactor, ipv4=not ipv6)
        address = {"ipv4": lab.devV4, "ula": lab.devV6, "link-local": lab.devLinkLocal}[family]
        peer = lab.spawn("gupnp", [SYSTEM_PYTHON, os.path.join(PEERS, "gupnp_device.py"), "--interface", lab.devIf,
                                   "--address", address, "--templates", TEMPLATES, "--udn", self.UDN])
        line = yield peer.waitFor("READY")
        self.assertIn(f"[{address}]" if ipv6 else address, line)
        yield deferLater(reactor, 1.0, lambda: None)  # its own alive burst is over: we must search
        cp, waiter = self.controlPoint(lab, ipv6)
        device = yield self.found(cp, waiter, self.UDN)
        self.assertEqual(device.host, address)
        self.assertEqual(device.description.device.modelName, "gupnp-dm")
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        self.assertIn("GetValues", device.scpd(cms).actionNames)
        self.assertEqual(device.bootId, 1)
        version = yield device.callAction(cms, "GetCurrentConfigurationVersion")
        self.assertEqual(version, {"CurrentVersion": "1"})
        models = yield device.callAction(cms, "GetSupportedDataModels")
        self.assertIn("/UPnP/DM/", models["SupportedDataModels"])
        yield self.upnpError(device, cms, "GetValues", {"Parameters": "<x/>"}, 703)
        subs = yield self.renewed(device, "urn:schemas-upnp-org:service:ConfigurationManagement")
        self.assertEqual(subs[0].granted, 300)  # asked for 30; GUPnP grants its fixed 300, which is honoured
        peer.signal("USR1")  # a configuration change, evented
        event = yield waiter.wait("event")
        while not dict(event[3]).get("ConfigurationUpdate", "").startswith("2,"):
            event = yield waiter.wait("event")
        self.assertEqual(dict(event[3])["ConfigurationUpdate"], "2,/UPnP/DM/DeviceInfo/FriendlyName")
        yield peer.stop()
        if family == "ula":
            return  # GUPnP sends no multicast from a ULA context: its byebye never comes (seen in the others)
        _, _, reason = yield waiter.wait("gone")
        self.assertEqual(reason, "byebye")

    def test_ipv4(self) -> None:
        """GUPnP over IPv4: found by search, described, actions and 703 decoded, renewal held, event, byebye."""
        return self.scenario("ipv4")

    def test_ipv6LinkLocal(self) -> None:
        """GUPnP on an IPv6 link-local context (FF02::C): reached through the interface scope, events to a link-local callback, byebye."""
        return self.scenario("link-local")

    def test_ipv6ULA(self) -> None:
        """GUPnP on an IPv6 ULA context (FF05::C): found by a site-local search, actions, renewal, events."""
        return self.scenario("ula")


class RygelTests(InteropMixin, unittest.TestCase):
    """rygel's BasicManagement:2 (diagnostics=true), a real GUPnP-based device."""

    def setUp(self) -> None:
        super().setUp()
        if shutil.which("rygel") is None:
            raise SkipTest("rygel is not installed (tools/install-test-peers)")

    def startRygel(self, lab: Lab, ipv6: bool):  # noqa: ANN201
        home = tempfile.mkdtemp(prefix="pxt-rygel-")
        self.addCleanup(shutil.rmtree, home, True)
        for sub in ("config", "cache", "data", "runtime", "media/music"):
            os.makedirs(os.path.join(home, sub), mode=0o700, exist_ok=True)
        with open(os.path.join(home, "media", "music", "note.txt"), "w") as f:
            f.write("content for MediaExport")
        with open(os.path.join(PEERS, "rygel.conf")) as f:
            conf = f.read().replace("@MEDIA@", os.path.join(home, "media")).replace("@IPV6@", str(ipv6).lower())
        confPath = os.path.join(home, "config", "rygel.conf")
        with open(confPath, "w") as f:
            f.write(conf)
        env = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, "config"),
               "XDG_CACHE_HOME": os.path.join(home, "cache"), "XDG_DATA_HOME": os.path.join(home, "data"),
               "XDG_RUNTIME_DIR": os.path.join(home, "runtime"), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        return lab.spawn("rygel", ["rygel", "-c", confPath], env=env)

    @inlineCallbacks
    def scenario(self, ipv6: bool):  # noqa: ANN201
        lab = Lab(self, reactor, ipv4=not ipv6)
        peer = self.startRygel(lab, ipv6)
        # MediaExport harvests, then the device is announced. Over IPv6 the control point starts after
        # rygel's alive burst: rygel is found by its ULA context's answer to the search or by its link-local
        # context's next alive, whichever comes first; found at the ULA, every later multicast from it (the
        # byebyes too) comes from the link-local address
        yield deferLater(reactor, 6.0 if ipv6 else 2.0, lambda: None)
        cp, waiter = self.controlPoint(lab, ipv6)
        _, device = yield waiter.wait("ready", timeout=WAIT)
        self.assertLessEqual(cp.discovery.stats["rounds"], 1, "found only after more than one search cycle")
        self.assertEqual(":" in device.host, ipv6)
        bms = device.services(D.BASIC_MANAGEMENT_2)[0][1]
        scpd = device.scpd(bms)
        self.assertTrue({"Ping", "GetPingResult", "GetTestIDs", "GetDeviceStatus"} <= scpd.actionNames)
        status = yield device.callAction(bms, "GetDeviceStatus")
        self.assertIn("DeviceStatus", status)
        ping = yield device.callAction(bms, "Ping", {"Host": lab.cpV6 if ipv6 else lab.cpV4, "NumberOfRepetitions": 1,
                                                     "Timeout": 1000, "DataBlockSize": 32, "DSCP": 0})
        self.assertTrue(ping["TestID"].isdigit())
        yield self.upnpError(device, bms, "GetPingResult", {"TestID": 4000000}, 706)
        yield self.renewed(device, "urn:schemas-upnp-org:service:BasicManagement")
        yield self.byebyeOnStop(peer, waiter)

    def test_ipv4(self) -> None:
        """rygel over IPv4: BMS:2 found, described, GetDeviceStatus and Ping answered, 706 decoded, renewal held, byebye."""
        return self.scenario(ipv6=False)

    def test_ipv6(self) -> None:
        """
        rygel over IPv6 (ULA and link-local contexts): the same, with an
        IPv6-only control point — also when it was described at its ULA
        and says byebye from its link-local address only.
        """
        return self.scenario(ipv6=True)

    @inlineCallbacks
    def test_dualStack(self) -> None:
        """rygel announcing on IPv4, IPv6 ULA and link-local at once is described once, not at every announcement."""
        lab = Lab(self, reactor)
        self.startRygel(lab, ipv6=True)
        cp, waiter = self.controlPoint(lab, ipv6=True)
        _, device = yield waiter.wait("ready", timeout=WAIT)
        for _ in range(3):
            cp.searchNow()
            yield deferLater(reactor, 2.5, lambda: None)  # MX 2: every context answers
        entry = cp.tracker.get(device.udn)
        self.assertGreaterEqual(len(entry.seenFrom), 2)  # heard on several addresses
        self.assertEqual(cp.tracker.counts["fetches"], 1)
        self.assertFalse([c for c in waiter.calls if c[0] in ("changed", "gone")])


class MiniUPnPdTests(InteropMixin, unittest.TestCase):
    """miniupnpd: IGD:2 with a plain-HTTP DeviceProtection:1 stub and max-age=120."""

    UDN = "uuid:9f0865b3-f5da-4ad5-85b7-7404637fdf37"

    def setUp(self) -> None:
        super().setUp()
        if not os.path.exists("/usr/sbin/miniupnpd"):
            raise SkipTest("miniupnpd is not installed (tools/install-test-peers)")

    def startMiniupnpd(self, lab: Lab):  # noqa: ANN201
        folder = tempfile.mkdtemp(prefix="pxt-miniupnpd-")
        self.addCleanup(shutil.rmtree, folder, True)
        with open(os.path.join(PEERS, "miniupnpd.conf")) as f:
            conf = f.read().replace("@EXT@", lab.extIf).replace("@LAN@", lab.devIf)
        path = os.path.join(folder, "miniupnpd.conf")
        with open(path, "w") as f:
            f.write(conf)
        return lab.spawn("miniupnpd", ["/usr/sbin/miniupnpd", "-f", path, "-d", "-P", os.path.join(folder, "pid")])

    @inlineCallbacks
    def scenario(self, ipv6: bool):  # noqa: ANN201
        lab = Lab(self, reactor, ipv4=not ipv6, extraDeviceLink=True)
        peer = self.startMiniupnpd(lab)
        yield deferLater(reactor, 1.5, lambda: None)
        cp, waiter = self.controlPoint(lab, ipv6)
        device = yield self.found(cp, waiter, self.UDN)
        self.assertEqual(":" in device.host, ipv6)
        entry = cp.tracker.get(self.UDN)
        self.assertEqual(entry.maxAge, 120)
        self.assertEqual(device.configId, 1337)
        self.assertEqual(device.description.device.deviceType, "urn:schemas-upnp-org:device:InternetGatewayDevice:2")
        self.assertEqual(len(device.description.devices()), 3)
        dp = device.services(D.DEVICE_PROTECTION_1)[0][1]
        protocols = yield device.callAction(dp, "GetSupportedProtocols")
        self.assertIn("<Name>WPS</Name>", protocols["ProtocolList"])
        roles = yield device.callAction(dp, "GetAssignedRoles")
        self.assertIn("Public", roles["RoleList"])
        yield self.upnpError(device, dp, "GetRolesForAction", {"DeviceUDN": self.UDN, "ServiceId": "x",
                                                               "ActionName": "y"}, 401)  # refused unsent: not in its SCPD
        yield self.upnpError(device, dp, "SendSetupMessage", {"ProtocolType": "NoSuchProtocol", "InMessage": ""}, 600)
        yield peer.stop()
        # miniupnpd sometimes exits before its byebyes are out: then its renewal gets no answer (granted
        # 30 s, renewed at 12-15 s), the device is probed, and lost as unreachable
        _, _, reason = yield waiter.wait("gone", timeout=60)
        self.assertIn(reason, ("byebye", "unreachable"))

    @inlineCallbacks
    def test_killedWithoutByebye(self) -> None:
        """miniupnpd killed (no byebye): its renewal gets no answer, it is probed, and lost as unreachable well before max-age."""
        lab = Lab(self, reactor, ipv6=False, extraDeviceLink=True)
        peer = self.startMiniupnpd(lab)
        cp, waiter = self.controlPoint(lab, ipv6=False)
        _, device = yield waiter.wait("ready", timeout=WAIT)
        peer.signal("KILL")
        yield peer.ended
        _, gone, reason = yield waiter.wait("gone", timeout=60)
        self.assertEqual((gone.udn, reason), (self.UDN, "unreachable"))

    def test_ipv4(self) -> None:
        """miniupnpd over IPv4: found (max-age 120), IGD described with embedded devices, DP actions, 401 decoded, byebye."""
        return self.scenario(ipv6=False)

    def test_ipv6(self) -> None:
        """miniupnpd over IPv6: the same."""
        return self.scenario(ipv6=True)


class AsyncUPnPClientTests(InteropMixin, unittest.TestCase):
    """async_upnp_client.server: bare TIMEOUT, SIDs without uuid:, 412 for unknown SIDs."""

    UDN = "uuid:5d5e8f40-3c2b-4b9a-9a51-0000000000a1"

    def startDevice(self, lab: Lab, ipv6: bool):  # noqa: ANN201
        python = peerPython()
        address = lab.devV6 if ipv6 else lab.devV4
        argv = [python, os.path.join(PEERS, "aioupnp_device.py"), "--address", address]
        if ipv6:
            argv += ["--scope", str(lab.devIndex())]
        return lab.spawn("aioupnp", argv)

    @inlineCallbacks
    def scenario(self, ipv6: bool):  # noqa: ANN201
        lab = Lab(self, reactor, ipv4=not ipv6)
        peer = self.startDevice(lab, ipv6)
        yield peer.waitFor("READY")
        cp, waiter = self.controlPoint(lab, ipv6)
        device = yield self.found(cp, waiter, self.UDN)
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        version = yield device.callAction(cms, "GetCurrentConfigurationVersion")
        self.assertEqual(version, {"CurrentVersion": "1"})
        yield self.upnpError(device, cms, "GetValues", {"Parameters": "<x/>"}, 703)
        sub = device.subscriptions[0]
        yield self.waitUntil(lambda: sub.state == "subscribed")
        self.assertFalse(sub.sid.startswith("uuid:"))
        self.assertEqual(sub.granted, 30)  # asked for 30, answered with a bare "30"
        _, _, _, variables = yield waiter.wait("event")
        self.assertEqual(dict(variables)["ConfigurationUpdate"], "1,")
        yield self.waitUntil(lambda: sub.renewals >= 1, timeout=25)  # by its own timer, at 12-15 s
        self.assertEqual(sub.state, "subscribed")
        peer.signal("USR1")
        _, _, _, variables = yield waiter.wait("event")
        self.assertEqual(dict(variables)["ConfigurationUpdate"], "2,/UPnP/DM/")
        yield self.byebyeOnStop(peer, waiter)

    def test_ipv4(self) -> None:
        """async_upnp_client.server over IPv4: found, actions and 703, quirky SID/TIMEOUT held across a real renewal, events, byebye."""
        return self.scenario(ipv6=False)

    def test_ipv6(self) -> None:
        """async_upnp_client.server over IPv6: the same."""
        return self.scenario(ipv6=True)

    @inlineCallbacks
    def test_unknownSIDOnRenewal(self) -> None:
        """A renewal the device answers 412 (it forgot the SID) leads to a new subscription, and stale state is signalled."""
        lab = Lab(self, reactor, ipv6=False)
        peer = self.startDevice(lab, ipv6=False)
        yield peer.waitFor("READY")
        cp, waiter = self.controlPoint(lab, ipv6=False)
        device = yield self.found(cp, waiter, self.UDN)
        sub = device.subscriptions[0]
        yield self.waitUntil(lambda: sub.state == "subscribed")
        old = sub.sid
        sub.sid = "not-a-sid-it-knows"
        self.assertTrue(sub.renewNow())
        yield self.waitUntil(lambda: sub.state == "subscribed" and sub.sid not in (old, "not-a-sid-it-knows"))
        _, _, _, reason = yield waiter.wait("stale")
        self.assertEqual(reason, "resubscribed")
