"""
The TR-330 proxy module with real multicast SSDP, inside the test run's own
network namespace: the proxier's tree here, in C{multicast} mode on one end
of a veth pair; two simulated UPnP DM devices in a second namespace on the
other end (their own process, multicast mode); the fake ACS on 127.0.0.1.

Checked over the wire: discovery by announcement and search, the "0
BOOTSTRAP" of each Virtual CWMP Device, a session driven by a Connection
Request, and a Reboot whose byebye (AboutToReboot) and alive cross the veth
as multicast — "1 BOOT" + "M Reboot".

Run as root: PYTHONPATH=. unshare --net -- tools/in-netns .venv/bin/python -m twisted.trial tests.netns.test_upnpdm_multicast
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial
from typing import Callable

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web.client import HTTPConnectionPool
from twisted.web.server import Site

from proxier.config import load
from proxier.cwmp import messages as m
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.tls import makeACSAgent
from proxier.plugins.upnpdm import upnpdm
from proxier.service import ProxierService
from proxier.store import Store
from tests import _helpers
from tests._helpers import TOP, subprocessEnv
from tests.cwmpxsd import assertValidCWMP
from tests.netns.isolation import requireIsolatedNamespace
from tests.netns.vethpair import sh, vethPair

NAMESPACE = f"pxt-upnpdm{os.getpid()}"  # /run/netns is shared: one name per run
VETH_HERE = "vethdm0"
VETH_THERE = "vethdm1"
HERE = "10.252.0.1"
THERE = "10.252.0.2"
NAMES = ["02C0DE-SimDM-SIM000000", "02C0DE-SimDM-SIM000001"]

waitFor = partial(_helpers.waitFor, timeout=40.0, step=0.05)


class MulticastTests(unittest.TestCase):
    timeout = 180

    def setUp(self) -> None:
        requireIsolatedNamespace()
        vethPair(self, NAMESPACE, VETH_HERE, VETH_THERE, HERE, THERE)
        sh("ip", "route", "replace", "224.0.0.0/4", "dev", VETH_HERE)
        # tools/in-netns routes the group to lo for the other multicast tests: put that back
        self.addCleanup(subprocess.run, ["ip", "route", "replace", "224.0.0.0/4", "dev", "lo"], timeout=30,
                        capture_output=True)
        self.acs = FakeACS(clock=reactor, validator=lambda body: assertValidCWMP(self, body))
        port = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(lambda: self.assertEqual(self.acs.validationErrors, []))
        config = load(None, [upnpdm.configSection])
        config = config.replace("acs", url=f"http://127.0.0.1:{port.getHost().port}/acs",
                                periodic_inform_enable=False)
        config = config.replace("connection_request", port=0)
        config = config.replace("lan", ssdp_mode="multicast", interfaces=(VETH_HERE,), ipv6=False,
                                search_interval=10)
        config = config.replace("demo", enable="no")
        agent = makeACSAgent(reactor, config["acs"], pool=HTTPConnectionPool(reactor, persistent=False))
        self.tree = ProxierService(config, Store.open(self.mktemp()), [upnpdm], reactor=reactor, agent=agent)
        self.tree.startService()
        self.addCleanup(self.tree.stopService)
        argv = ["ip", "netns", "exec", NAMESPACE, sys.executable, "-m", "proxier.sim.main", "--count", "2",
                "--host", THERE, "--prefix-length", "24", "--ssdp-mode", "multicast", "--interface-address", THERE,
                "--downtime", "1", "--log-level", "warn"]
        self.fleet = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                      env=subprocessEnv(), cwd=TOP)
        self.addCleanup(self._stopFleet)

    def _stopFleet(self) -> None:
        # "ip netns exec" execs the command: this PID is the fleet's
        if self.fleet.poll() is None:
            self.fleet.terminate()
            try:
                self.fleet.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.fleet.kill()
                self.fleet.wait(timeout=10)

    def sessions(self, name: str) -> list:
        return self.acs.sessionsFor(name)

    def ended(self, name: str, count: int) -> Callable[[], bool]:
        return lambda: len(self.sessions(name)) >= count and all(s.ended for s in self.sessions(name)[:count])

    @defer.inlineCallbacks
    def test_discoveredManagedRebooted(self) -> None:
        """
        Both devices, found over multicast, bootstrap; a Connection Request starts a session that reads
        and reboots one; its AboutToReboot byebye and its alive cross the veth: "1 BOOT" + "M Reboot".
        """
        for name in NAMES:
            yield waitFor(self.ended(name, 1), what=f"the BOOTSTRAP of {name}")
            self.assertEqual([e.code for e in self.sessions(name)[0].inform.events], ["0 BOOTSTRAP"])
        device = self.tree.getServiceNamed("UPnP-DM").devices[NAMES[1]]
        self.assertEqual(device.host, THERE)
        endpoint = self.tree.cwmp.manager.endpoints[NAMES[1]]
        self.acs.script([m.GetParameterValues(("Device.DeviceInfo.SerialNumber",)), m.Reboot("over-multicast")],
                        NAMES[1])
        username, password = endpoint.connectionRequestCredentials()
        status = yield self.acs.connectionRequest(self.tree.cwmp.server.url(endpoint.connectionRequestPath),
                                                  username, password)
        self.assertEqual(status, 200)
        yield waitFor(self.ended(NAMES[1], 2), what="the session")
        gpv, reboot = [answer for _, answer in self.sessions(NAMES[1])[1].responses]
        self.assertEqual([p.value for p in gpv.parameters], ["SIM000001"])
        self.assertIsInstance(reboot, m.RebootResponse)
        yield waitFor(self.ended(NAMES[1], 3), what="the BOOT session")
        self.assertEqual(sorted(e.code for e in self.sessions(NAMES[1])[2].inform.events), ["1 BOOT", "M Reboot"])
