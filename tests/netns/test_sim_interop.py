"""
The simulated devices against third-party control points, with real
multicast — only inside the test run's own network namespace.

The simulator runs in this process, in multicast mode, on one end of a veth
pair; the other end sits in a second namespace this module creates, where
async-upnp-client's C{upnp-client} (its tracker ignores loopback LOCATIONs,
hence the veth) and a GUPnP 1.6 control point (a short python3-gi script run
with Debian's /usr/bin/python3) find the device, call actions with XML
arguments, and receive ConfigurationUpdate events.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from typing import Any, Optional

from twisted.internet import defer, reactor, task
from twisted.internet.protocol import DatagramProtocol, ProcessProtocol
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool

from proxier.sim import cmsxml
from proxier.sim.fleet import MULTICAST, Fleet, FleetOptions
from proxier.upnp import ssdp

from tests import _helpers
from tests._helpers import TOP
from tests.netns.isolation import requireIsolatedNamespace
from tests.netns.vethpair import vethPair

SUFFIX = os.getpid() % 10000
SUBNET = 100 + os.getpid() % 100
NAMESPACE = f"pxsim{os.getpid()}"
VETH_HERE = f"vethps{SUFFIX}d"
VETH_THERE = f"vethps{SUFFIX}c"
HERE = f"10.251.{SUBNET}.2"
THERE = f"10.251.{SUBNET}.1"
NS = 'xmlns:cms="urn:schemas-upnp-org:dm:cms"'

GUPNP_CONTROL_POINT = r'''
import sys, gi
gi.require_version("GUPnP", "1.6")
gi.require_version("GSSDP", "1.6")
from gi.repository import GLib, GObject, Gio, GSSDP, GUPnP
interface, address, udn, paths = sys.argv[1:5]
context = GUPnP.Context.new_full(interface, Gio.InetAddress.new_from_string(address), 0, GSSDP.UDAVersion.VERSION_1_1)
cp = GUPnP.ControlPoint.new(context, "urn:schemas-upnp-org:service:ConfigurationManagement:2")
loop = GLib.MainLoop()
def available(cp, proxy):
    if proxy.get_udn() != udn:
        return
    action = GUPnP.ServiceProxyAction.new_from_list("GetValues", ["Parameters"], [GObject.Value(GObject.TYPE_STRING, paths)])
    proxy.call_action(action, None)
    ok, values = action.get_result_list(["ParameterValueList"], [GObject.TYPE_STRING])
    print("RESULT", values[0].replace("\n", " "), flush=True)
    loop.quit()
cp.connect("service-proxy-available", available)
cp.set_active(True)
GLib.timeout_add_seconds(20, loop.quit)
loop.run()
'''


def peerBin(name: str) -> str:
    for directory in (os.environ.get("PROXIER_PEER_BIN", ""), os.path.join(TOP, ".venv", "bin"),
                      os.path.dirname(sys.executable)):
        candidate = os.path.join(directory, name)
        if directory and os.access(candidate, os.X_OK):
            return candidate
    raise unittest.SkipTest(f"{name} is not installed (pip install async-upnp-client)")


class Lines(ProcessProtocol):
    """Collects a child's output lines; parses the JSON ones."""

    def __init__(self) -> None:
        self.buffer = b""
        self.lines: list[str] = []
        self.stderr = b""
        self.ended: defer.Deferred = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self.lines.append(line.decode("utf-8", "replace"))

    def errReceived(self, data: bytes) -> None:
        self.stderr = (self.stderr + data)[-8192:]

    def processEnded(self, reason: Any) -> None:
        self.ended.callback(getattr(reason.value, "exitCode", None))

    def objects(self) -> list[dict]:
        out = []
        for line in self.lines:
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out


waitFor = partial(_helpers.waitFor, timeout=20.0, step=0.1)


class InteropTestCase(unittest.TestCase):
    """A namespace pair, the simulator on this side, third-party control points on the other."""

    timeout = 120

    def setUp(self) -> defer.Deferred:
        requireIsolatedNamespace()
        vethPair(self, NAMESPACE, VETH_HERE, VETH_THERE, HERE, THERE)
        self.agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        self.fleet = Fleet(FleetOptions(count=2, host=HERE, prefixLength=24, ssdpMode=MULTICAST,
                                        interfaceAddress=HERE, downtime=0.5), reactor=reactor, agent=self.agent)
        self.fleet.startService()
        self.addCleanup(self.fleet.stopService)
        self.device = self.fleet.devices[1]
        return task.deferLater(reactor, 1.0, lambda: None)  # the veth link comes up, announcements go out

    def spawn(self, *command: str, limit: float = 60) -> Lines:
        """
        Run C{command} in the other namespace (C{ip netns exec} execs it, so
        the PID is the command's); killed by PID after C{limit} seconds and
        in the cleanup.
        """
        protocol = Lines()
        argv = ["ip", "netns", "exec", NAMESPACE, *command]
        process = reactor.spawnProcess(protocol, argv[0], argv, env=dict(os.environ, PYTHONPATH=TOP))

        def kill() -> None:
            if not protocol.ended.called:
                try:
                    process.signalProcess("KILL")
                except Exception:
                    pass

        timer = reactor.callLater(limit, kill)
        protocol.ended.addBoth(lambda result: (timer.cancel() if timer.active() else None, result)[1])

        def stop() -> Optional[defer.Deferred]:
            kill()
            if protocol.ended.called:
                return None
            return protocol.ended

        self.addCleanup(stop)
        return protocol

    @defer.inlineCallbacks
    def runThere(self, *command: str) -> Any:
        protocol = self.spawn(*command)
        code = yield protocol.ended
        return code, protocol


class AsyncUPnPClientTests(InteropTestCase):
    @defer.inlineCallbacks
    def test_search(self) -> None:
        """upnp-client search finds both devices by their type, at their veth LOCATIONs."""
        code, out = yield self.runThere(peerBin("upnp-client"), "--timeout", "4", "search", "--bind", THERE,
                                   "--search_target", "urn:schemas-upnp-org:device:ManageableDevice:2")
        self.assertEqual(code, 0, out.stderr)
        found = {o.get("usn", o.get("USN", "")).split("::")[0]: o.get("location", o.get("LOCATION"))
                 for o in out.objects()}
        for device in self.fleet.devices:
            self.assertEqual(found.get(device.udn), device.location)

    @defer.inlineCallbacks
    def test_getAndSetValues(self) -> None:
        """upnp-client calls GetValues and SetValues with XML arguments and gets the device's answers."""
        client = peerBin("upnp-client")
        paths = f"<cms:ContentPathList {NS}><ContentPath>/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/</ContentPath>" \
                "</cms:ContentPathList>"
        code, out = yield self.runThere(client, "call-action", self.device.location, "ConfigurationManagement/GetValues",
                                   f"Parameters={paths}")
        self.assertEqual(code, 0, out.stderr)
        result = out.objects()[-1]["out_parameters"]["ParameterValueList"]
        values = dict(cmsxml.parseParameterValueList(result))
        self.assertEqual(values["/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber"],
                         self.device.identity.serialNumber)
        setting = cmsxml.parameterValueList([("/BBF/Time/NTPServer1", "interop.example")])
        code, out = yield self.runThere(client, "call-action", self.device.location, "ConfigurationManagement/SetValues",
                                   f"ParameterValueList={setting}")
        self.assertEqual(code, 0, out.stderr)
        self.assertEqual(out.objects()[-1]["out_parameters"], {"Status": "ChangesApplied"})
        self.assertEqual(self.device.model.value("/BBF/Time/NTPServer1"), "interop.example")

    @defer.inlineCallbacks
    def test_subscribe(self) -> None:
        """upnp-client subscribe gets the initial event, then a ConfigurationUpdate when a value changes."""
        out = self.spawn(peerBin("upnp-client"), "subscribe", self.device.location, "ConfigurationManagement")

        def updates() -> list:
            return [o["state_variables"]["ConfigurationUpdate"] for o in out.objects()
                    if "ConfigurationUpdate" in o.get("state_variables", {})]

        yield waitFor(lambda: updates())
        self.assertEqual(len(self.device.publishers["cms"].subscriptions), 1)
        self.device.cms.setLocal("/BBF/Time/NTPServer1", "evented.example")
        yield waitFor(lambda: len(updates()) >= 2)
        self.assertEqual(updates()[-1].split(",")[0], str(self.device.cms.version))


class GUPnPControlPointTests(InteropTestCase):
    @defer.inlineCallbacks
    def test_getValues(self) -> None:
        """A GUPnP control point finds the device by search and calls GetValues with an XML argument."""
        if subprocess.run(["/usr/bin/python3", "-c", "import gi; gi.require_version('GUPnP', '1.6')"],
                          capture_output=True, timeout=30).returncode != 0:
            raise unittest.SkipTest("python3-gi with GUPnP 1.6 is not installed")
        script = self.mktemp()
        with open(script, "w") as f:
            f.write(GUPNP_CONTROL_POINT)
        paths = f"<cms:ContentPathList {NS}><ContentPath>/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber" \
                "</ContentPath></cms:ContentPathList>"
        code, out = yield self.runThere("/usr/bin/python3", script, VETH_THERE, THERE, self.device.udn, paths)
        results = [line[len("RESULT "):] for line in out.lines if line.startswith("RESULT ")]
        self.assertEqual(len(results), 1, out.stderr)
        self.assertEqual(cmsxml.parseParameterValueList(results[0]),
                         [("/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber", self.device.identity.serialNumber)])


class Listener(DatagramProtocol):
    def __init__(self) -> None:
        self.messages: list = []

    def datagramReceived(self, data: bytes, address: tuple) -> None:
        try:
            self.messages.append((ssdp.parse(data), address))
        except ssdp.SSDPError:
            pass


class MulticastModeTests(unittest.TestCase):
    """The fleet's multicast mode on loopback (no veth): the group sees NOTIFYs and searches are answered."""

    @defer.inlineCallbacks
    def test_group(self) -> None:
        """Alive goes to 239.255.255.250:1900; an M-SEARCH to the group is answered unicast; stop says byebye."""
        requireIsolatedNamespace()
        listener = Listener()
        group = reactor.listenMulticast(1900, listener, listenMultiple=True)
        self.addCleanup(group.stopListening)
        group.joinGroup(ssdp.IPV4_GROUP, "127.0.0.1")
        searcher = Listener()
        searchPort = reactor.listenUDP(0, searcher, interface="127.0.0.1")
        self.addCleanup(searchPort.stopListening)
        fleet = Fleet(FleetOptions(count=1, ssdpMode=MULTICAST, interfaceAddress="127.0.0.1"), reactor=reactor,
                      agent=Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))
        fleet.startService()
        yield waitFor(lambda: [m for m, _ in listener.messages if isinstance(m, ssdp.Notify) and m.nts == ssdp.ALIVE])
        alive = next(m for m, _ in listener.messages if isinstance(m, ssdp.Notify))
        self.assertEqual((alive.host, alive.searchPort), ("239.255.255.250:1900", None))
        searchPort.write(ssdp.Search(st="ssdp:all", mx=1).toBytes(), (ssdp.IPV4_GROUP, 1900))
        yield waitFor(lambda: [m for m, _ in searcher.messages if isinstance(m, ssdp.SearchResponse)], timeout=5)
        self.assertEqual({m.udn for m, _ in searcher.messages}, {fleet.devices[0].udn})
        yield fleet.stopService()
        yield waitFor(lambda: [m for m, _ in listener.messages if getattr(m, "nts", "") == ssdp.BYEBYE], timeout=5)
