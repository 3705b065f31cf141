"""
DNS-SD over real multicast, inside the test run's own network namespace: the
proxier's mDNS querier (L{proxier.lan.mdns.Browser}) on one end of a veth
pair, C{avahi-daemon} — a real RFC 6762 responder — in a second namespace on
the other end, announcing an C{_ipp._tcp} printer from a static service file.

avahi runs without D-Bus (C{enable-dbus=no}: a static service needs none),
as root without chroot, in a mount namespace of its own where a tmpfs on
C{/run} holds its PID file and the test's directory is bound over
C{/etc/avahi/services}: nothing of the machine's is touched. It is stopped
by its PID; SIGTERM makes it send its goodbyes.

Checked over the wire: the printer is found (PTR, SRV, TXT and addresses,
the instance name holding dots) as the printer candidate PRINTERS.md §8
wants, over IPv4 and IPv6; avahi's goodbye makes it go within seconds.
And the whole path (C{[printer] discovery = dns-sd}, L{proxier.printer.finder}):
the printer avahi announces is an in-process fake IPP printer
(L{proxier.sim.ippprinter}) whose socket is made inside the second namespace,
at avahi's address; it becomes a Virtual CWMP Device of the real tree,
bootstrapping to the fake ACS on this namespace's loopback, and goes offline
with avahi's goodbye.

Run as root: PYTHONPATH=. unshare --net -- tools/in-netns .venv/bin/python -m twisted.trial tests.netns.test_mdns_avahi
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import subprocess
from functools import partial
from typing import Any, Callable, Optional

from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from twisted.web.server import Site

from proxier.cwmp import messages as m
from proxier.datamodel.values import DeviceIdentity
from proxier.lan.mdns import Browser
from proxier.lan.netif import listInterfaces
from proxier.printer import discovery
from proxier.printer.discovery import CandidateTracker, PrinterCandidate
from proxier.plugins.printer import printer as printerPlugin
from proxier.printer import ippsource
from proxier.printer.proxy import identityOf
from proxier.sim.ippprinter import DEMO_ATTRIBUTES, IPPPrinter, IPPPrinterResource, readAttributeFile
from tests import _e2e, _helpers
from tests.netns.isolation import requireIsolatedNamespace
from tests.netns.vethpair import sh, vethPair

NAMESPACE = f"pxt-mdns{os.getpid()}"  # /run/netns is shared: one name per run
VETH_HERE = "vethmd0"
VETH_THERE = "vethmd1"
HERE = "10.253.0.1"
THERE = "10.253.0.2"
HERE6 = "fe80::5:1"
THERE6 = "fe80::5:2"
UUID = "6a7e1b2c-0d3f-4e5a-9b8c-7d6e5f4a3b2c"
NAME = "Lab Printer 2.1"

CONFIG = f"""[server]
host-name=pxt-printer
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces={VETH_THERE}
enable-dbus=no
ratelimit-interval-usec=1000000
ratelimit-burst=1000

[wide-area]
enable-wide-area=no

[publish]
publish-hinfo=no
publish-workstation=no
publish-aaaa-on-ipv4=yes
publish-a-on-ipv6=no
"""

SERVICE = f"""<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>{NAME}</name>
  <service>
    <type>_ipp._tcp</type>
    <port>8631</port>
    <txt-record>rp=ipp/print</txt-record>
    <txt-record>UUID={UUID}</txt-record>
    <txt-record>note=Room 7</txt-record>
    <txt-record>ty=ExampleCo LaserJet 4000</txt-record>
    <txt-record>adminurl=http://pxt-printer.local:8631/</txt-record>
  </service>
</service-group>
"""

# avahi in a mount namespace of its own: its PID file on a private /run, the test's services directory
START = ('mount -t tmpfs tmpfs /run && mkdir /run/avahi-daemon && mount --bind "$1" /etc/avahi/services && '
         'exec avahi-daemon -f "$2" --no-drop-root --no-chroot --no-rlimits --no-proc-title')

waitFor = partial(_helpers.waitFor, step=0.05)
_CLONE_NEWNET = 0x40000000


def listenInNamespace(namespace: str, address: str, port: int, factory: Site) -> Any:
    """
    A TCP port of this process's reactor whose socket lives in C{namespace}
    (made there with setns(2) on this thread, which then comes back): an
    in-process server reached at that namespace's C{address}.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
    try:
        if libc.setns(there, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {namespace}")
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, port))
            s.listen(16)
            s.setblocking(False)
        finally:
            if libc.setns(here, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(here)
        os.close(there)
    try:
        return reactor.adoptStreamPort(s.fileno(), socket.AF_INET, factory)
    finally:
        s.close()  # the reactor holds its own copy of the descriptor


class AvahiTests(unittest.TestCase):
    timeout = 90

    def setUp(self) -> None:
        requireIsolatedNamespace()
        for tool in ("avahi-daemon", "unshare", "mount"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"{tool} is not installed (tools/install-test-peers installs avahi-daemon)")
        vethPair(self, NAMESPACE, VETH_HERE, VETH_THERE, HERE, THERE)
        sh("ip", "addr", "add", f"{HERE6}/64", "dev", VETH_HERE, "nodad")
        sh("ip", "-n", NAMESPACE, "addr", "add", f"{THERE6}/64", "dev", VETH_THERE, "nodad")
        sh("ip", "route", "replace", "224.0.0.0/4", "dev", VETH_HERE)
        # tools/in-netns routes the group to lo for the other multicast tests: put that back
        self.addCleanup(subprocess.run, ["ip", "route", "replace", "224.0.0.0/4", "dev", "lo"], timeout=30,
                        capture_output=True)
        self.directory = os.path.abspath(self.mktemp())
        services = os.path.join(self.directory, "services")
        os.makedirs(services)
        with open(os.path.join(services, "printer.service"), "w") as f:
            f.write(SERVICE)
        self.config = os.path.join(self.directory, "avahi-daemon.conf")
        with open(self.config, "w") as f:
            f.write(CONFIG)
        self.services = services
        self.found: list[PrinterCandidate] = []
        self.lost: list[PrinterCandidate] = []
        self.current: dict[str, PrinterCandidate] = {}
        self.browser: Optional[Browser] = None
        self.avahi: Optional[subprocess.Popen] = None
        self.log = open(os.path.join(self.directory, "avahi.log"), "wb")
        self.addCleanup(self.log.close)

    def startBrowser(self) -> Browser:
        def found(candidate: PrinterCandidate) -> None:
            self.found.append(candidate)
            self.current[candidate.key] = candidate

        def changed(candidate: PrinterCandidate) -> None:
            self.current[candidate.key] = candidate

        def lost(candidate: PrinterCandidate) -> None:
            self.lost.append(candidate)
            del self.current[candidate.key]

        tracker = CandidateTracker(found, changed, lost,
                                   lambda name: self.browser.interfaceNamed(name) if self.browser else None)
        [interface] = [i for i in listInterfaces() if i.name == VETH_HERE]
        browser = Browser(discovery.SERVICE_TYPES, tracker, reactor, interfaces=[interface], ipv6=True,
                          listenMulticast=reactor.listenMulticast, adoptDatagramPort=reactor.adoptDatagramPort)
        self.browser = browser
        browser.start()
        self.addCleanup(lambda: defer.gatherResults(browser.stop()))
        self.assertEqual(len(browser.opened[VETH_HERE][2]), 2)  # IPv4 and IPv6 sockets
        return browser

    def startAvahi(self) -> None:
        # "ip netns exec", unshare and sh exec in turn: this PID is avahi-daemon's
        self.avahi = subprocess.Popen(
            ["ip", "netns", "exec", NAMESPACE, "unshare", "--mount", "--propagation", "private", "sh", "-c", START,
             "sh", self.services, self.config],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.addCleanup(self._stopAvahi)

    def foundAt(self, address: str) -> Callable[[], bool]:
        """Whether the printer is a candidate at C{address} (its IPv4 one wins once both are known)."""
        return lambda: any(c.address == address for c in self.current.values())

    def _stopAvahi(self) -> None:
        assert self.avahi is not None
        if self.avahi.poll() is None:
            self.avahi.terminate()
            try:
                self.avahi.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.avahi.kill()
                self.avahi.wait(timeout=10)

    def avahiLog(self) -> str:
        self.log.flush()
        with open(os.path.join(self.directory, "avahi.log"), errors="replace") as f:
            return f.read()[-3000:]

    @defer.inlineCallbacks
    def test_foundThenGoneWithTheGoodbye(self) -> None:
        """
        avahi's printer is found over the veth as an IPP candidate with its
        TXT keys and both its addresses; avahi stopped, its goodbye makes
        the candidate go within seconds (the TTLs are 75 minutes and 2).
        """
        browser = self.startBrowser()
        self.startAvahi()
        try:
            yield waitFor(self.foundAt(THERE), timeout=20, what="the printer announced by avahi")
        except AssertionError:
            self.fail(f"not found; avahi said:\n{self.avahiLog()}")
        [candidate] = self.current.values()
        self.assertEqual(
            (candidate.name, candidate.serviceType, candidate.host, candidate.port, candidate.ippURL, candidate.uuid,
             candidate.location, candidate.makeAndModel, candidate.adminURL, candidate.interface),
            (NAME, discovery.IPP, "pxt-printer.local", 8631, f"ipp://{THERE}:8631/ipp/print", f"urn:uuid:{UUID}",
             "Room 7", "ExampleCo LaserJet 4000", "http://pxt-printer.local:8631/", VETH_HERE))
        querier = browser.opened[VETH_HERE][1]
        [instance] = querier.instances.values()
        yield waitFor(lambda: THERE6 in querier.instances[next(iter(querier.instances))].addresses, timeout=10,
                      what="the printer's IPv6 address")
        self.assertEqual(instance.addresses[0], THERE)
        self.assertEqual(querier.stats["dropped"], 0)
        self._stopAvahi()
        stopped = reactor.seconds()
        yield waitFor(lambda: self.lost, timeout=10, what="the goodbye")
        self.assertLess(reactor.seconds() - stopped, 5)
        self.assertEqual([c.key for c in self.lost], [candidate.key])
        self.assertEqual(querier.instances, {})

    @defer.inlineCallbacks
    def test_foundByQuerying(self) -> None:
        """
        A printer announced before the querier started (avahi's
        announcements are over) is found through the querier's own queries:
        they leave from the interface's address, and avahi answers them.
        """
        self.startAvahi()
        yield waitFor(lambda: "successfully established" in self.avahiLog(), timeout=20, what="avahi's service")
        yield task.deferLater(reactor, 5, lambda: None)  # avahi announces three times, 1 s then 2 s apart
        started = reactor.seconds()
        browser = self.startBrowser()
        try:
            yield waitFor(self.foundAt(THERE), timeout=10, what="the printer, by querying")
        except AssertionError:
            self.fail(f"not found; avahi said:\n{self.avahiLog()}")
        self.assertLess(reactor.seconds() - started, 3)
        # told once, with the answers over IPv6 (AAAA only) and IPv4 (A and AAAA) together
        self.assertEqual([c.ippURL for c in self.found], [f"ipp://{THERE}:8631/ipp/print"])
        self.assertGreater(browser.opened[VETH_HERE][1].stats["queries"], 0)

    @defer.inlineCallbacks
    def test_proxiedAsVirtualDevice(self) -> None:
        """
        [printer] discovery = dns-sd on the veth: the printer avahi announces
        (a fake IPP printer at avahi's address, port 8631) is asked who it
        is and bootstraps as a Virtual CWMP Device with DiscoveryProtocol
        X_000000_DNS-SD and avahi's adminurl as MoreInfoUri; avahi's goodbye
        makes it offline (its Connection Requests 503).
        """
        with open(DEMO_ATTRIBUTES, encoding="utf-8") as f:
            printer = IPPPrinter(reactor, readAttributeFile(f.read()), name="Lab Printer")
        site = Site(IPPPrinterResource(printer))
        site.noisy = False
        port = listenInNamespace(NAMESPACE, THERE, 8631, site)
        self.addCleanup(port.stopListening)
        identity = identityOf(ippsource.read(printer.group()), "000000")
        assert identity is not None
        lab = _e2e.Lab(self, [printerPlugin], DeviceIdentity("proxier", "000000", "Gateway", "GW-MDNS-1"),
                       {"printer": {"discovery": "dns-sd"}, "lan": {"interfaces": (VETH_HERE,)}})
        yield lab.start()
        self.startAvahi()
        try:
            yield waitFor(lab.ended(identity, 1), timeout=30, what="the BOOTSTRAP of the printer avahi announces")
        except AssertionError:
            self.fail(f"not proxied; avahi said:\n{self.avahiLog()}")
        [session] = lab.sessions(identity)
        self.assertEqual(_e2e.events(session), ["0 BOOTSTRAP"])
        table = "Device.ManagementServer.VirtualDevice.1."
        session = yield lab.session([m.GetParameterValues((table + "DiscoveryProtocol", table + "SerialNumber"))],
                                    lab.proxier)
        self.assertEqual([p.value for p in _e2e.answers(session)[0].parameters],
                         ["X_000000_DNS-SD", identity.serialNumber])
        session = yield lab.session([m.GetParameterValues((
            "Device.Services.PrintService.1.PrintServiceDescription.MoreInfoUri",))], identity)
        self.assertEqual([p.value for p in _e2e.answers(session)[0].parameters], ["http://pxt-printer.local:8631/"])

        self._stopAvahi()
        endpoint = lab.endpoint(identity)
        yield waitFor(lambda: not endpoint.online, timeout=10, what="the printer offline after avahi's goodbye")
        status = yield lab.connectionRequest(identity)
        self.assertEqual(status, 503)
