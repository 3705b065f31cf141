"""
Test support for the BMS/SMS parts of a Virtual CWMP Device (diagnostics,
logs, firmware): a L{VirtualDevice} with its management over the
simulator's real services, on a L{task.Clock} — and tests that the support
behaves as the real things do.

L{ManagedDevice} builds the Virtual CWMP Device the way the proxy module
does (probe, profile, gate, durable state, the device's own store), bridges
the simulated services' GENA events to it (so ActiveTestIDs and
OperationIDs events arrive as the control point would deliver them, and a
test can lose them), and plays the endpoint with an observer that can be
"in a session".
"""

from __future__ import annotations

import base64
from typing import Any, Optional

from twisted.internet import defer, task
from twisted.trial import unittest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site
from zope.interface import implementer

from proxier.httpauth import DigestServer

from proxier.datamodel.faults import CWMPFault
from proxier.interfaces import ISessionNotifier
from proxier.proxy.gate import ActionGate
from proxier.sim.device import Identity, SimulatedDevice
from proxier.store import Store
from proxier.upnpdm.device import Member, VirtualDevice
from proxier.upnpdm.errors import refusedByDevice
from proxier.upnpdm.profile import candidates, capabilities, probe
from proxier.upnpdm.settings import ProxySettings
from proxier.upnpdm.state import DeviceState
from tests.test_upnpdm_fakes import RecordingObserver, SimUPnPDevice, schema


@implementer(ISessionNotifier)
class SessionObserver(RecordingObserver):
    """
    The endpoint as the device sees it: records what it is told, and may be
    in a session (setting C{inSession} false ends it: its session observers
    are told, as the endpoint tells them).
    """

    def __init__(self) -> None:
        super().__init__()
        self._inSession = False
        self.sessionObservers: list[Any] = []

    @property
    def inSession(self) -> bool:
        return self._inSession

    @inSession.setter
    def inSession(self, value: bool) -> None:
        ended = self._inSession and not value
        self._inSession = value
        if ended:
            for observer in list(self.sessionObservers):
                observer.sessionEnded(self)

    def addSessionObserver(self, observer: Any) -> None:
        if observer not in self.sessionObservers:
            self.sessionObservers.append(observer)

    def removeSessionObserver(self, observer: Any) -> None:
        if observer in self.sessionObservers:
            self.sessionObservers.remove(observer)


class ManagedDevice:
    """
    One simulated device and its Virtual CWMP Device (with management), on
    a clock.

    @ivar lose: names of services (C{"bms"}, C{"sms"}) whose events are lost.
    """

    def __init__(self, testCase: unittest.TestCase, *, disabled: tuple[str, ...] = (),
                 storePath: Optional[str] = None, clock: Optional[task.Clock] = None,
                 sim: Optional[SimulatedDevice] = None, uploadAgent: Any = None, observe: bool = True,
                 setup: Optional[Any] = None, settings: Optional[ProxySettings] = None) -> None:
        self.testCase = testCase
        self.settings = settings
        self.clock = clock or task.Clock()
        if sim is None:
            sim = SimulatedDevice(Identity.forIndex(0), schema(), self.clock)
            for action in disabled:
                for service in (sim.bms, sim.sms, sim.cms):
                    if action in service.implementedActions():
                        service.disableAction(action)
            sim.setLocation("http://127.0.0.1:49000")
            sim.downtime = 3.0
            sim.powerOn()
        self.sim = sim
        self.storePath = storePath or testCase.mktemp()
        self.uploadAgent = uploadAgent
        self.setup = setup
        self._start(observe)

    def _start(self, observe: bool) -> None:
        """A Virtual CWMP Device for the simulated device, on the state in C{storePath}, hearing its events."""
        self.store = Store.open(self.storePath)
        self.lose: set[str] = set()
        self.upnp = SimUPnPDevice(self.clock, sim=self.sim)
        self.observer = SessionObserver()
        self.device = self._make(self.upnp)
        self._bridged = False
        self._bridge()
        self._follow()
        if observe:
            self.device.addObserver(self.observer)

    def _follow(self) -> None:
        """
        The simulated device's own going down and coming up (a reboot it
        decides on, after a firmware install) reach the Virtual CWMP Device
        as the control point tells them: the byebye's announcement and the
        device gone, then found again. Only the newest lab of a device hears.
        """
        sim = self.sim
        labs = getattr(sim, "_testLabs", None)
        if labs is None:
            labs = sim._testLabs = []
            goDown, boot = sim._goDown, sim._boot

            def wrappedDown(*announcements: str) -> None:
                goDown(*announcements)
                if labs:
                    labs[-1]._wentDown(announcements)

            def wrappedBoot() -> None:
                wasDown = sim.state != "up"
                boot()
                if labs and wasDown:
                    labs[-1]._cameUp()

            sim._goDown, sim._boot = wrappedDown, wrappedBoot
        labs.append(self)

    def _wentDown(self, announcements: tuple) -> None:
        if self.upnp.state == "gone":
            return
        for value in announcements:
            self.device.announced(self.upnp, value)
        self.upnp.state = "gone"
        self.device.memberGone(self.upnp, "byebye")

    def _cameUp(self) -> None:
        self.comeBack()

    def _profile(self, upnp: SimUPnPDevice) -> tuple[Any, Any]:
        gate = ActionGate(lambda: upnp, self.clock, refused=refusedByDevice)
        [candidate], _ = candidates(upnp.description)
        return candidate, self.testCase.successResultOf(
            probe(gate.call, candidate, capabilities(candidate, upnp.scpd), "2.17"))

    def _make(self, upnp: SimUPnPDevice) -> VirtualDevice:
        candidate, profile = self._profile(upnp)
        state = DeviceState(self.store.document("device"))
        gateFactory = lambda target, **kw: ActionGate(target, self.clock, refused=refusedByDevice, timeout=10,
                                                      offlineAfter=2, **kw)
        device = VirtualDevice(profile, Member(upnp, candidate), state, clock=self.clock, gateFactory=gateFactory,
                               probeInterval=30, store=self.store.child("manage"),
                               uploadAgent=(lambda: self.uploadAgent) if self.uploadAgent is not None else None,
                               settings=self.settings)
        if self.setup is not None:
            self.setup(device)  # what a test puts in place before the device is first ready
        device.attached(upnp, candidate, profile)
        return device

    def _bridge(self) -> None:
        """Deliver the simulated services' events to the Virtual CWMP Device (GENA, without sockets)."""
        if self._bridged:
            return
        self._bridged = True
        for short in ("bms", "sms", "cms"):
            service = getattr(self.sim, short)
            service.addListener(lambda values, short=short: self._deliver(short, values))

    def _deliver(self, short: str, values: list) -> None:
        if short in self.lose or self.upnp.state == "gone":
            return
        name = {"bms": "BasicManagement", "sms": "SoftwareManagement", "cms": "ConfigurationManagement"}[short]
        self.device.eventReceived(self.upnp, self.upnp.service(name), values)

    @property
    def model(self) -> Any:
        return self.device.dataModel()

    def ok(self, d: Any) -> Any:
        return self.testCase.successResultOf(d)

    def fault(self, d: Any) -> CWMPFault:
        return self.testCase.failureResultOf(d, CWMPFault).value

    def values(self, *names: str) -> dict[str, str]:
        return {v.name: v.value for v in self.ok(self.model.getParameterValues(list(names)))}

    def calls(self, short: str) -> list[str]:
        return self.upnp.actions(short)

    def told(self, kind: str) -> list[tuple]:
        return [c for c in self.observer.calls if c[0] == kind]

    def advance(self, seconds: float, step: float = 0.05) -> None:
        """Let C{seconds} pass in small steps (timers that arm timers fire in turn)."""
        self.clock.pump([step] * int(round(seconds / step)))

    def reboot(self) -> None:
        """The device reboots (byebye AboutToReboot, gone, back with a new BOOTID after its downtime)."""
        self.sim.reboot("test reboot")
        self.clock.advance(self.sim.downtime)

    def comeBack(self) -> None:
        """The device is found again (a new control-point view of it)."""
        self.upnp = SimUPnPDevice(self.clock, sim=self.sim)
        candidate, profile = self._profile(self.upnp)
        self.device.attached(self.upnp, candidate, profile)

    def stopProxier(self) -> None:
        """The proxier stops (or dies): this Virtual CWMP Device hears nothing more of the device."""
        if not getattr(self, "_stopped", False):
            self._stopped = True
            self.device.stop()
        self.lose = {"bms", "sms", "cms"}
        if self in getattr(self.sim, "_testLabs", []):
            self.sim._testLabs.remove(self)

    def restartProxier(self, observe: bool = True, setup: Optional[Any] = None) -> "ManagedDevice":
        """
        The proxier stops (without cleanup) and a new one starts on the same
        state: a new Virtual CWMP Device for the same simulated device.
        """
        self.stopProxier()  # the old one hears nothing more
        again = ManagedDevice.__new__(ManagedDevice)
        again.testCase = self.testCase
        again.clock = self.clock
        again.sim = self.sim
        again.storePath = self.storePath
        again.uploadAgent = self.uploadAgent
        again.setup = setup if setup is not None else self.setup
        again.settings = self.settings
        again._start(observe)
        return again


class FileServer(Resource):
    """
    A file server on 127.0.0.1 as an ACS names one for Upload and Download:
    it stores what is PUT or POSTed, serves what it holds with GET, and can
    demand credentials (Basic or Digest), refuse PUT (405), fail (any
    status) or hang.

    @ivar files: path → bytes.
    @ivar requests: C{(method, path, headers)} of every request.
    """

    isLeaf = True

    def __init__(self, *, username: str = "", password: str = "", scheme: str = "digest",
                 refusePut: bool = False, status: Optional[int] = None, hang: bool = False) -> None:
        super().__init__()
        self.username = username
        self.password = password
        self.scheme = scheme
        self.refusePut = refusePut
        self.status = status
        self.hang = hang
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.hung: list = []
        self._digest = DigestServer("files", clock=lambda: __import__("time").time())

    def listen(self, testCase: unittest.TestCase) -> str:
        """Listen on 127.0.0.1 (port 0) until the test ends; the base URL."""
        from twisted.internet import reactor

        port = reactor.listenTCP(0, Site(self), interface="127.0.0.1")
        testCase.addCleanup(port.stopListening)
        testCase.addCleanup(self._release)
        return f"http://127.0.0.1:{port.getHost().port}"

    def _release(self) -> None:
        for request in self.hung:
            if not request.finished and not request._disconnected:
                request.setResponseCode(500)
                request.finish()
        self.hung = []

    def _authorized(self, request: Any, method: str) -> bool:
        if not (self.username or self.password):
            return True
        header = (request.getHeader(b"authorization") or b"").decode("latin-1")
        if self.scheme == "basic":
            expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if header == expected:
                return True
            request.setHeader(b"WWW-Authenticate", b'Basic realm="files"')
            return False
        if header:
            verdict = self._digest.check(method, request.uri.decode("latin-1"), header,
                                         lambda user: self.password if user == self.username else None)
            if verdict.ok:
                return True
        request.setHeader(b"WWW-Authenticate", self._digest.challenge().encode())
        return False

    def render(self, request: Any) -> Any:
        method = request.method.decode("ascii")
        path = request.path.decode("latin-1")
        headers = {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1")
                   for k, v in request.requestHeaders.getAllRawHeaders()}
        self.requests.append((method, path, headers))
        if self.hang:
            self.hung.append(request)
            return NOT_DONE_YET
        if self.status is not None:
            request.setResponseCode(self.status)
            return b""
        if method == "GET":
            if path not in self.files:
                request.setResponseCode(404)
                return b"no such file"
            return self.files[path]
        if method not in ("PUT", "POST"):
            request.setResponseCode(405)
            return b""
        if not self._authorized(request, method):
            request.setResponseCode(401)
            return b"credentials please"
        if method == "PUT" and self.refusePut:
            request.setResponseCode(405)
            request.setHeader(b"Allow", b"POST")
            return b""
        self.files[path] = request.content.read()
        request.setResponseCode(201 if method == "PUT" else 200)
        return b""


class FakeUploader:
    """An uploader that records what it is asked and answers as told (C{failure}: a TransferFailed)."""

    def __init__(self) -> None:
        self.targets = None  # no file server is refused before the upload
        self.uploads: list[tuple[str, bytes, str, str]] = []
        self.failure: Any = None
        self.pending: Optional[defer.Deferred] = None
        self.hold = False

    def upload(self, url: str, body: bytes, username: str = "", password: str = "", **kw: Any) -> defer.Deferred:
        self.uploads.append((url, body, username, password))
        if self.hold:
            self.pending = defer.Deferred()
            return self.pending
        if self.failure is not None:
            return defer.fail(self.failure)
        return defer.succeed(None)


def simLogFetcher(sim: SimulatedDevice) -> Any:
    """A device fetch that serves the simulated device's logs by their LogURL (as its HTTP server does)."""

    def fetch(url: str) -> defer.Deferred:
        for name, log in sim.bms.logs.items():
            if url == sim.logURL(name):
                return defer.succeed(log.content())
        from proxier.upnpdm.httpfiles import TransferFailed

        return defer.fail(TransferFailed(9011, f"the device answered 404 for {url}"))

    return fetch


class SupportTests(unittest.TestCase):
    def test_managedDeviceHasItsParts(self) -> None:
        """The Virtual CWMP Device gets its management (diagnostics offered by the simulator's BMS) and overlays."""
        lab = ManagedDevice(self)
        self.assertIsNotNone(lab.device.management)
        self.assertIsNotNone(lab.device.management.diagnostics)
        self.assertIn("Device.IP.Diagnostics.IPPing.", [path for path, _ in lab.device.overlays])

    def test_eventsBridgedAndLost(self) -> None:
        """A simulated service's event reaches the device; with its service in C{lose}, it does not."""
        lab = ManagedDevice(self)
        seen: list = []
        self.patch(type(lab.device.management), "eventReceived", lambda management, service, values: seen.append(values))
        lab.sim.bms.changed("ActiveTestIDs")
        self.assertEqual(seen, [[("ActiveTestIDs", "")]])
        lab.lose.add("bms")
        lab.sim.bms.changed("ActiveTestIDs")
        self.assertEqual(len(seen), 1)

    def test_rebootIsTold(self) -> None:
        """A reboot of the simulated device reaches the observer as "1 BOOT" (deviceBooted)."""
        lab = ManagedDevice(self)
        lab.reboot()
        self.assertIn(("deviceBooted",), lab.observer.calls)
        self.assertTrue(lab.device.online)
