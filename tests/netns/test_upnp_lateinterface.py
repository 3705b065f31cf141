"""
Discovery on an interface that appears after the start (issue 16): the
proxier's tree starts in C{multicast} mode with C{[lan] interfaces} empty
while this namespace has only loopback; then a veth pair comes up, with two
simulated UPnP DM devices in a second namespace on its far end. Within the
next C{interface_check_interval} the control point opens its sockets on the
new interface, searches, and both devices BOOTSTRAP — no restart, no
"discovery is off".

Run as root: PYTHONPATH=. unshare --net -- tools/in-netns .venv/bin/python -m twisted.trial tests.netns.test_upnp_lateinterface
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial

from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from twisted.web.client import HTTPConnectionPool
from twisted.web.server import Site

from proxier.config import load
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.tls import makeACSAgent
from proxier.plugins.upnpdm import upnpdm
from proxier.service import ProxierService
from proxier.store import Store
from tests import _helpers
from tests._helpers import TOP, LogCapture, subprocessEnv
from tests.cwmpxsd import assertValidCWMP
from tests.netns.isolation import requireIsolatedNamespace
from tests.netns.vethpair import sh, vethPair

NAMESPACE = f"pxt-late{os.getpid()}"  # /run/netns is shared: one name per run
VETH_HERE = "vethlt0"
VETH_THERE = "vethlt1"
HERE = "10.253.0.1"
THERE = "10.253.0.2"
NAMES = ["02C0DE-SimDM-SIM000000", "02C0DE-SimDM-SIM000001"]

waitFor = partial(_helpers.waitFor, timeout=40.0, step=0.05)


class LateInterfaceTests(unittest.TestCase):
    timeout = 180

    def setUp(self) -> None:
        requireIsolatedNamespace()
        self.logs = LogCapture(self)
        self.acs = FakeACS(clock=reactor, validator=lambda body: assertValidCWMP(self, body))
        port = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(lambda: self.assertEqual(self.acs.validationErrors, []))
        config = load(None, [upnpdm.configSection])
        config = config.replace("acs", url=f"http://127.0.0.1:{port.getHost().port}/acs",
                                periodic_inform_enable=False)
        config = config.replace("connection_request", port=0)
        config = config.replace("lan", ssdp_mode="multicast", interfaces=(), ipv6=False, search_interval=60,
                                interface_check_interval=1)
        config = config.replace("demo", enable="no")
        agent = makeACSAgent(reactor, config["acs"], pool=HTTPConnectionPool(reactor, persistent=False))
        self.tree = ProxierService(config, Store.open(self.mktemp()), [upnpdm], reactor=reactor, agent=agent)
        self.fleet: subprocess.Popen | None = None

    def _stopFleet(self) -> None:
        # "ip netns exec" execs the command: this PID is the fleet's
        if self.fleet is not None and self.fleet.poll() is None:
            self.fleet.terminate()
            try:
                self.fleet.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.fleet.kill()
                self.fleet.wait(timeout=10)

    def lines(self) -> list[str]:
        from twisted.logger import formatEvent

        return [formatEvent(e) for e in self.logs.events]

    @defer.inlineCallbacks
    def test_bridgeComesUpLater(self) -> None:
        """Started with no LAN interface, the proxier discovers on the veth that comes up later; both devices BOOTSTRAP."""
        self.tree.startService()
        self.addCleanup(self.tree.stopService)
        controlPoint = self.tree.getServiceNamed("UPnP-DM").controlPoint
        self.assertEqual(controlPoint.discovery.ports, [], "nothing to discover on yet")
        self.assertTrue(any("no LAN interface to discover UPnP devices on yet" in l for l in self.lines()))
        yield task.deferLater(reactor, 1.5, lambda: None)  # a periodic check passes with nothing new
        self.assertEqual(controlPoint.discovery.ports, [])

        vethPair(self, NAMESPACE, VETH_HERE, VETH_THERE, HERE, THERE)
        sh("ip", "route", "replace", "224.0.0.0/4", "dev", VETH_HERE)
        self.addCleanup(subprocess.run, ["ip", "route", "replace", "224.0.0.0/4", "dev", "lo"], timeout=30,
                        capture_output=True)
        argv = ["ip", "netns", "exec", NAMESPACE, sys.executable, "-m", "proxier.sim.main", "--count", "2",
                "--host", THERE, "--prefix-length", "24", "--ssdp-mode", "multicast", "--interface-address", THERE,
                "--log-level", "warn"]
        self.fleet = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                      env=subprocessEnv(), cwd=TOP)
        self.addCleanup(self._stopFleet)

        yield waitFor(lambda: any(i.name == VETH_HERE for i in controlPoint.discovery.interfaces),
                      what=f"discovery on {VETH_HERE}")
        self.assertTrue(any(f"discovering UPnP devices on {VETH_HERE}" in l for l in self.lines()), self.lines())
        for name in NAMES:
            yield waitFor(lambda name=name: bool(self.acs.sessionsFor(name)) and self.acs.sessionsFor(name)[0].ended,
                          what=f"the BOOTSTRAP of {name}")
            self.assertEqual([e.code for e in self.acs.sessionsFor(name)[0].inform.events], ["0 BOOTSTRAP"])
        self.assertEqual(self.tree.getServiceNamed("UPnP-DM").devices[NAMES[0]].host, THERE)
