"""
A firmware Download survives the proxier being killed (SIGKILL: no cleanup,
no last save) at several points between the DownloadResponse and the
TransferComplete: a new proxier started on the same state directory still
delivers the TransferComplete — exactly once — and the device is asked to
update exactly once.

The proxier runs as its own process (twistd, as on a gateway); the
simulated device (its SMS fetching the image over HTTP), the file server
and the fake ACS run here, everything on 127.0.0.1 with SSDP in
unicast-loopback mode. Every CWMP message the proxier sends is validated
against the BBF schema.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from functools import partial
from typing import Any, Optional

from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.server import Site

from proxier.cwmp import messages as m
from proxier.cwmp.fakeacs import FakeACS
from proxier.datamodel.values import TransferRequest
from proxier.sim import firmware as simfirmware
from proxier.sim.fleet import Fleet, FleetOptions
from tests import _helpers
from tests._helpers import freeUDPPort, subprocessEnv
from tests.cwmpxsd import assertValidCWMP
from tests.test_upnpdm_transfer_support import FileServer

DEVICE = "02C0DE-SimDM-SIM000000"
WAIT = 60.0

waitFor = partial(_helpers.waitFor, timeout=WAIT, step=0.05)


class KillLab:
    """The proxier as a child process (killable), and the device, file server and ACS here."""

    def __init__(self, testCase: unittest.TestCase) -> None:
        self.testCase = testCase
        self.workdir = os.path.abspath(testCase.mktemp())
        os.makedirs(self.workdir)
        self.acs = FakeACS(clock=reactor, validator=lambda body: assertValidCWMP(testCase, body))
        port = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        testCase.addCleanup(port.stopListening)
        testCase.addCleanup(lambda: testCase.assertEqual(self.acs.validationErrors, []))
        self.files = FileServer()
        self.filesURL = self.files.listen(testCase)
        self.files.files["/fw-2.0.0.bin"] = simfirmware.makeImage("2.0.0")
        self.ssdpPort = freeUDPPort()
        # the device first, on a search port of its own choosing (bound, so no other test can take it
        # meanwhile); the proxier's config then names that port
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        self.fleet = Fleet(FleetOptions(count=1, controlPoint=("127.0.0.1", self.ssdpPort), downtime=1.0),
                           reactor=reactor, agent=agent)
        self.fleet.startService()
        testCase.addCleanup(self.fleet.stopService)
        self.searchPort = self.fleet.searchAddress[1]
        self.config = os.path.join(self.workdir, "proxier.conf")
        with open(self.config, "w") as f:
            f.write(f"""[acs]
url = http://127.0.0.1:{port.getHost().port}/acs
periodic_inform_enable = false
retry_minimum_wait = 1
retry_interval_multiplier = 1000
[connection_request]
port = 0
[lan]
ssdp_mode = unicast-loopback
ssdp_port = {self.ssdpPort}
search_interval = 10
[upnp]
loopback_search_ports = {self.searchPort}
online_probe_interval = 5
[state]
directory = {self.workdir}/state
[log]
level = info
file = {self.workdir}/proxier.log
[demo]
enable = no
""")
        self.child: Optional[subprocess.Popen] = None
        self.starts = 0
        testCase.addCleanup(self.stopChild)
        self.sim = self.fleet.devices[0]
        self.updates: list[str] = []
        original = self.sim.sms.update

        def counted(duid: int, uri: str, handleDependencies: bool = False) -> Any:
            operation = original(duid, uri, handleDependencies)
            self.updates.append(uri)
            return operation

        self.sim.sms.update = counted  # type: ignore[method-assign]

    def startChild(self) -> None:
        self.starts += 1
        log = open(os.path.join(self.workdir, f"stdout-{self.starts}.log"), "wb")
        self.child = subprocess.Popen(
            [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "--nodaemon", "--pidfile=",
             "proxier", "--config", self.config],
            stdout=log, stderr=subprocess.STDOUT, env=subprocessEnv(), cwd=self.workdir)
        log.close()

    def kill(self) -> None:
        """SIGKILL: the proxier gets no chance to clean up or save anything more."""
        assert self.child is not None
        self.child.send_signal(signal.SIGKILL)
        self.child.wait(timeout=30)
        self.child = None

    def stopChild(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)
            try:
                self.child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait(timeout=10)
        self.child = None

    def sessions(self) -> list:
        return self.acs.sessionsFor(DEVICE)

    def transferCompletes(self, key: str) -> list:
        return [msg.result for s in self.sessions() for msg in s.received
                if isinstance(msg, m.TransferComplete) and msg.result.commandKey == key]

    def downloadAnswered(self, key: str) -> bool:
        return any(isinstance(request, m.Download) and request.request.commandKey == key
                   and isinstance(answer, m.DownloadResponse) for s in self.sessions() for request, answer in s.responses)

    @defer.inlineCallbacks
    def downloadInBootstrap(self, key: str, delay: int = 0) -> Any:
        """Start the proxier; the ACS asks for the Download in the BOOTSTRAP session; wait for Status 1."""
        self.acs.script([m.Download(TransferRequest("Download", key, "1 Firmware Upgrade Image",
                                                    self.filesURL + "/fw-2.0.0.bin", delaySeconds=delay))], DEVICE)
        self.startChild()
        yield waitFor(lambda: self.downloadAnswered(key), what="the DownloadResponse")
        [response] = [a for s in self.sessions() for r, a in s.responses if isinstance(a, m.DownloadResponse)]
        self.testCase.assertEqual(response.status, 1)

    @defer.inlineCallbacks
    def restartAndAwait(self, key: str) -> Any:
        """A new proxier on the same state: the TransferComplete arrives; a while later still only once."""
        self.startChild()
        yield waitFor(lambda: bool(self.transferCompletes(key)), what="the TransferComplete after the restart")
        yield task.deferLater(reactor, 3.0, lambda: None)
        results = self.transferCompletes(key)
        self.testCase.assertEqual(len(results), 1, results)
        self.testCase.assertEqual(len(self.updates), 1, self.updates)
        self.testCase.assertNotIn("0 BOOTSTRAP", [e.code for s in self.sessions()[1:] for e in s.inform.events])
        return results[0]


class KillTests(unittest.TestCase):
    timeout = 240

    @defer.inlineCallbacks
    def test_killedDuringDelay(self) -> None:
        """Killed while the Download waits out its DelaySeconds: updated once after the restart, reported once."""
        lab = KillLab(self)
        lab.sim.sms.rebootAfterUpdate = False
        yield lab.downloadInBootstrap("during-delay", delay=4)
        lab.kill()
        self.assertEqual(lab.updates, [])
        result = yield lab.restartAndAwait("during-delay")
        self.assertEqual(result.faultCode, 0)

    @defer.inlineCallbacks
    def test_killedDuringUpdate(self) -> None:
        """Killed while the device installs: the new proxier follows the same operation; reported once."""
        lab = KillLab(self)
        lab.sim.sms.rebootAfterUpdate = False
        lab.sim.sms.installDelay = 6.0
        yield lab.downloadInBootstrap("during-update")
        yield waitFor(lambda: lab.sim.sms.value_OperationIDs() != "", what="the update under way")
        yield task.deferLater(reactor, 0.5, lambda: None)
        lab.kill()
        result = yield lab.restartAndAwait("during-update")
        self.assertEqual(result.faultCode, 0)

    @defer.inlineCallbacks
    def test_deviceRebootsWhileProxierDead(self) -> None:
        """Killed; the device installs by rebooting meanwhile (forgetting the operation): the version tells — 0."""
        lab = KillLab(self)
        yield lab.downloadInBootstrap("reboot-while-dead")
        yield waitFor(lambda: lab.sim.sms.value_OperationIDs() != "", what="the update under way")
        lab.kill()
        yield waitFor(lambda: lab.sim.boots == 2 and lab.sim.state == "up", what="the device's reboot")
        self.assertEqual(lab.sim.softwareVersion, "2.0.0")
        result = yield lab.restartAndAwait("reboot-while-dead")
        self.assertEqual(result.faultCode, 0)

    @defer.inlineCallbacks
    def test_killedWithTransferCompleteUnacknowledged(self) -> None:
        """Killed while the TransferComplete waits for an ACS that refuses sessions: delivered once after."""
        lab = KillLab(self)
        lab.sim.sms.rebootAfterUpdate = False
        yield lab.downloadInBootstrap("unacknowledged")
        lab.acs.unavailable = (503, 1)
        yield waitFor(lambda: any(b"7 TRANSFER COMPLETE" in body for _, body in lab.acs.rawRequests),
                      what="an Inform with the TRANSFER COMPLETE refused")
        lab.kill()
        lab.acs.unavailable = None
        result = yield lab.restartAndAwait("unacknowledged")
        self.assertEqual(result.faultCode, 0)
