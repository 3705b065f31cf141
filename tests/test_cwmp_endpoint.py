"""
Tests for L{proxier.cwmp.endpoint}: an endpoint with a faithful in-memory
data model talks to the fake ACS through treq's in-memory agent, on a
L{task.Clock}: every RPC and fault, the ParameterKey, Reboot and
FactoryReset after the session, a hung device answered 9002 in time, offline
and back online, restarts from the same store, exactly-once delivery of what
is queued, retries and their schedule, periodic and scheduled Informs. Every
message the endpoint sends is validated against the CWMP schema by the ACS.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Optional

from treq.testing import RequestTraversalAgent
from twisted.internet import defer, task
from twisted.logger import LogLevel
from twisted.trial import unittest
from zope.interface import alsoProvides, implementer
from zope.interface.verify import verifyObject

from proxier.config import load
from proxier.cwmp import messages as m
from proxier.cwmp.endpoint import CWMPEndpoint, deviceTimeout
from proxier.cwmp.fakeacs import GENIEACS_METHODS, FakeACS
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel.capabilities import INotifyingDataModel
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault
from proxier.datamodel.standard import FORCED_INFORM
from proxier.datamodel.values import (
    AttributeChange,
    AutonomousTransferResult,
    DeviceIdentity,
    ParameterAttributes,
    ParameterInfo,
    ParameterValue,
    TransferRequest,
    TransferResult,
)
from proxier.interfaces import (
    IACSAgent,
    ICWMPEndpoint,
    IDataModel,
    IDeviceObserver,
    IForcedInform,
    ISessionAgent,
    ISessionNotifier,
    ISessionObserver,
)
from proxier.store import Store
from tests._helpers import LogCapture
from tests.cwmpxsd import assertValidCWMP

ACS_URL = "http://acs.example.net:7547/acs"
IDENTITY = DeviceIdentity("ACME", "00D09E", "MediaServer", "SN-1")
DEVICE = str(IDENTITY)
UTC = datetime.timezone.utc
T0 = datetime.datetime(2025, 3, 1, 10, 0, tzinfo=UTC)

ALL_METHODS = frozenset({
    "GetParameterNames", "GetParameterValues", "SetParameterValues", "GetParameterAttributes",
    "SetParameterAttributes", "AddObject", "DeleteObject", "Reboot", "FactoryReset", "Download", "Upload",
})


@implementer(IDataModel)
class FakeModel:
    """
    A small but faithful IDataModel: typed parameters, read-only ones, one
    table, attributes, all-or-nothing SetParameterValues with per-parameter
    faults; every call recorded; named methods can be made to hang. Its
    root is Device:2: it declares TR-181's forced-inform parameters
    (L{IForcedInform}) unless told other ones (C{declared}), or none
    (C{declared=None}: it does not provide L{IForcedInform}); C{forced} are
    those of them it has. It reports value changes as a proxied device's
    model does (L{INotifyingDataModel}: L{changed} tells its listeners),
    unless made with C{notifying=False}.
    """

    def __init__(self, methods: frozenset = ALL_METHODS, forced: tuple = FORCED_INFORM,
                 declared: Optional[tuple] = FORCED_INFORM, notifying: bool = True) -> None:
        self.methods = methods
        if declared is not None:
            self.forcedInform = declared
            alsoProvides(self, IForcedInform)
        self.listeners: list[Any] = []
        if notifying:
            alsoProvides(self, INotifyingDataModel)
        self.params: dict[str, list] = {
            "Device.RootDataModelVersion": ["2.17", "xsd:string", False],
            "Device.DeviceInfo.HardwareVersion": ["hw1", "xsd:string", False],
            "Device.DeviceInfo.SoftwareVersion": ["sw1", "xsd:string", False],
            "Device.DeviceInfo.ProvisioningCode": ["", "xsd:string", True],
            "Device.DeviceInfo.UpTime": ["100", "xsd:unsignedInt", False],
            "Device.ManagementServer.ParameterKey": ["", "xsd:string", False],
            "Device.ManagementServer.ConnectionRequestURL": ["http://127.0.0.1:7547/x", "xsd:string", False],
            "Device.ManagementServer.AliasBasedAddressing": ["false", "xsd:boolean", False],
            "Device.X_Test.Level": ["5", "xsd:unsignedInt", True],
        }
        for name in FORCED_INFORM:
            if name not in forced:
                del self.params[name]
        self.table: dict[int, str] = {}
        self.nextInstance = 1
        self.attributes: dict[str, int] = {}
        self.calls: list[tuple] = []
        self.hang: set[str] = set()
        self.hangNames: set[str] = set()  # getParameterValues hangs when asked one of these
        self.cancelled: list[str] = []
        self.transferAnswer: Any = None
        self.broken: set[str] = set()

    def _call(self, name: str, *args: Any) -> Optional[defer.Deferred]:
        self.calls.append((name,) + args)
        if name in self.hang:
            return defer.Deferred(lambda d: self.cancelled.append(name))
        if name in self.broken:
            raise ValueError("driver bug")
        return None

    def supportedMethods(self) -> frozenset:
        return self.methods

    def addChangeListener(self, listener: Any) -> None:
        self.listeners.append(listener)

    def removeChangeListener(self, listener: Any) -> None:
        self.listeners.remove(listener)

    def changed(self, values: list, active: bool) -> None:
        """Parameters changed by themselves: the listeners hear it."""
        for listener in list(self.listeners):
            listener(values, active)

    def _all(self) -> dict[str, list]:
        names = dict(self.params)
        for i, value in self.table.items():
            names[f"Device.X_Test.Table.{i}.Name"] = [value, "xsd:string", True]
        return names

    def getParameterNames(self, path: str, nextLevel: bool) -> Any:
        hung = self._call("getParameterNames", path, nextLevel)
        if hung:
            return hung
        names = self._all()
        if path in names:
            if nextLevel:
                raise CWMPFault(9003)
            return defer.succeed([ParameterInfo(path, names[path][2])])
        if path and not path.endswith("."):
            raise CWMPFault(9005)
        below = [n for n in names if n.startswith(path)]
        if path and not below:
            raise CWMPFault(9005)
        objects = sorted({n[: i + 1] for n in below for i, c in enumerate(n) if c == "." and i >= len(path)})
        entries = [ParameterInfo(o, o == "Device.X_Test.Table.") for o in objects] + \
                  [ParameterInfo(n, names[n][2]) for n in sorted(below)]
        if nextLevel:
            depth = path.count(".")
            entries = [e for e in entries if e.name.rstrip(".").count(".") == depth]
        elif path:
            entries.insert(0, ParameterInfo(path, False))
        return defer.succeed(entries)

    def getParameterValues(self, names: list) -> Any:
        hung = self._call("getParameterValues", tuple(names))
        if hung:
            return hung
        if self.hangNames & set(names):
            return defer.Deferred(lambda d: self.cancelled.append("getParameterValues"))
        every = self._all()
        result = []
        for name in names:
            matched = [n for n in every if n == name or (name.endswith(".") and n.startswith(name))]
            if not matched:
                raise CWMPFault(9005, f"no parameter {name}")
            result.extend(ParameterValue(n, every[n][0], every[n][1]) for n in matched)
        return defer.succeed(result)

    def setParameterValues(self, values: list) -> Any:
        hung = self._call("setParameterValues", tuple(values))
        if hung:
            return hung
        faults = []
        for v in values:
            if v.name not in self.params:
                faults.append(SetParameterValuesFault(v.name, 9005))
            elif not self.params[v.name][2]:
                faults.append(SetParameterValuesFault(v.name, 9008))
            elif self.params[v.name][1] == "xsd:unsignedInt" and not v.value.isdigit():
                faults.append(SetParameterValuesFault(v.name, 9007))
        if faults:
            raise CWMPFault(9003, "", faults)
        for v in values:
            self.params[v.name][0] = v.value
        return defer.succeed(0)

    def getParameterAttributes(self, names: list) -> Any:
        self._call("getParameterAttributes", tuple(names))
        return defer.succeed([ParameterAttributes(n, self.attributes.get(n, 0)) for n in names])

    def setParameterAttributes(self, changes: list) -> Any:
        self._call("setParameterAttributes", tuple(changes))
        for c in changes:
            if c.notificationChange:
                if c.notification > 2:
                    raise CWMPFault(9003)
                self.attributes[c.name] = c.notification
        return defer.succeed(None)

    def addObject(self, path: str) -> Any:
        self._call("addObject", path)
        if path != "Device.X_Test.Table.":
            raise CWMPFault(9005)
        instance = self.nextInstance
        self.nextInstance += 1
        self.table[instance] = ""
        return defer.succeed((instance, 0))

    def deleteObject(self, path: str) -> Any:
        self._call("deleteObject", path)
        try:
            del self.table[int(path.split(".")[-2])]
        except (KeyError, ValueError):
            raise CWMPFault(9005) from None
        return defer.succeed(0)

    def reboot(self, commandKey: str) -> Any:
        return self._call("reboot", commandKey) or defer.succeed(None)

    def factoryReset(self) -> Any:
        return self._call("factoryReset") or defer.succeed(None)

    def download(self, request: TransferRequest) -> Any:
        hung = self._call("download", request)
        if hung:
            return hung
        if isinstance(self.transferAnswer, CWMPFault):
            raise self.transferAnswer
        return defer.succeed(self.transferAnswer)

    def upload(self, request: TransferRequest) -> Any:
        self._call("upload", request)
        return defer.succeed(self.transferAnswer)


class EndpointTestCase(unittest.TestCase):
    """An endpoint, its store and settings, a fake ACS that validates what it gets, one clock."""

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.root = Store.open(self.mktemp())
        self.store = self.root.child("endpoint-test")
        self.acsConfig = dict(load(None)["acs"], url=ACS_URL, periodic_inform_enable=False)
        self.acs = FakeACS(clock=self.clock, validator=lambda body: assertValidCWMP(self, body))
        self.agent = RequestTraversalAgent(self.acs)
        self.model = FakeModel()
        self.endpoints: list[CWMPEndpoint] = []
        self.addCleanup(self.checkValid)

    def checkValid(self) -> None:
        for endpoint in self.endpoints:
            endpoint.stop()
        self.assertEqual(self.acs.validationErrors, [])

    def makeSettings(self, acs: Optional[dict] = None) -> EndpointSettings:
        return EndpointSettings(self.store.document("management-server"), acs or self.acsConfig,
                                connectionRequestUsername="cr", connectionRequestPassword="pw")

    def make(self, start: bool = True, boot: bool = False, model: Any = None, acs: Optional[dict] = None,
             **kw: Any) -> CWMPEndpoint:
        self.settings = self.makeSettings(acs)
        endpoint = CWMPEndpoint(IDENTITY, model or self.model, self.settings, self.store, agent=self.agent,
                                reactor=self.clock, boot=boot, random=lambda: 0.0, **kw)
        self.endpoints.append(endpoint)
        if start:
            endpoint.start()
            self.clock.advance(0)
        return endpoint

    def restart(self, endpoint: CWMPEndpoint, **kw: Any) -> CWMPEndpoint:
        """Stop C{endpoint} and make a new one from the same store (a restart of the proxier)."""
        endpoint.stop()
        self.endpoints.remove(endpoint)
        return self.make(**kw)

    def events(self, session: Any) -> list[tuple[str, str]]:
        return [(e.code, e.commandKey) for e in session.inform.events]

    def sent(self, session: Any, name: str) -> list:
        return [msg for msg in session.received if msg is not None and msg.name == name]

    def answers(self, session: Any) -> list:
        return [answer for _, answer in session.responses]


class LifecycleTests(EndpointTestCase):
    def test_interfaces(self) -> None:
        """The endpoint provides ICWMPEndpoint and IDeviceObserver."""
        endpoint = self.make(start=False)
        verifyObject(ICWMPEndpoint, endpoint)
        verifyObject(IDeviceObserver, endpoint)

    def test_sessionConfigShared(self) -> None:
        """
        Endpoints made alike (a fleet's) share how their sessions run (issue
        19); one with another agent or timeout has its own.
        """
        random = lambda: 0.0  # noqa: E731
        endpoints = [CWMPEndpoint(IDENTITY, self.model, self.makeSettings(), self.store, agent=self.agent,
                                  reactor=self.clock, random=random, sessionTimeout=s) for s in (30, 30, 40, 40)]
        self.endpoints.extend(endpoints)
        configs = [e._config for e in endpoints]
        self.assertIs(configs[0], configs[1])
        self.assertIsNot(configs[1], configs[2])
        self.assertIs(configs[2], configs[3])
        self.assertEqual((configs[0].sessionTimeout, configs[0].deviceTimeout, configs[2].deviceTimeout),
                         (30, 25.0, 35.0))
        other = CWMPEndpoint(IDENTITY, self.model, self.makeSettings(), self.store, agent=object(),
                             reactor=self.clock, random=random, sessionTimeout=40)
        self.endpoints.append(other)
        self.assertIsNot(other._config, configs[3])

    def test_firstContact(self) -> None:
        """
        The first session of a new endpoint carries "0 BOOTSTRAP" (and "1 BOOT"
        for a booting one), the identity, the forced-inform parameters and the
        session timeout; GetRPCMethods is asked and remembered; it ends well.
        """
        self.make(boot=True)
        (session,) = self.acs.sessions
        self.assertEqual(self.events(session), [("1 BOOT", ""), ("0 BOOTSTRAP", "")])
        self.assertEqual(session.inform.deviceId, IDENTITY)
        self.assertEqual([p.name for p in session.inform.parameters], list(FORCED_INFORM))
        self.assertEqual(session.inform.retryCount, 0)
        self.assertEqual(session.sessionTimeout, 30)
        self.assertEqual(self.sent(session, "GetRPCMethods"), [m.GetRPCMethods()])
        self.assertTrue(session.ended and session.ok)
        endpoint = self.endpoints[0]
        self.assertEqual(endpoint.state.bootstrappedURL, ACS_URL)
        self.assertEqual(endpoint.state.acsMethods(ACS_URL), frozenset(self.acs.methods))
        self.assertFalse(endpoint.inSession)

    def test_restartDoesNotBootstrapAgain(self) -> None:
        """
        After a restart from the same store: no second BOOTSTRAP and no second
        GetRPCMethods; the proxier's own endpoint reports "1 BOOT" alone; a
        virtual device's endpoint with nothing to say stays quiet.
        """
        endpoint = self.make(boot=True)
        endpoint = self.restart(endpoint, boot=True)
        second = self.acs.sessions[1]
        self.assertEqual(self.events(second), [("1 BOOT", "")])
        self.assertEqual(self.sent(second, "GetRPCMethods"), [])
        self.restart(endpoint, boot=False)
        self.assertEqual(len(self.acs.sessions), 2)

    def test_bootOncePerProcess(self) -> None:
        """Stopping and starting the same endpoint object is no boot: "1 BOOT" comes once."""
        endpoint = self.make(boot=True)
        endpoint.stop()
        endpoint.start()
        self.clock.advance(60)
        self.assertEqual(len(self.acs.sessions), 1)

    def test_ownRebootReported(self) -> None:
        """The proxier's own endpoint asked to Reboot reports "1 BOOT" + "M Reboot" when it starts again."""
        endpoint = self.make(boot=True)
        self.acs.script([m.Reboot("self-reboot")], DEVICE)
        endpoint.requestSession("6 CONNECTION REQUEST")
        self.clock.advance(0)
        self.assertIn(("reboot", "self-reboot"), self.model.calls)
        self.restart(endpoint, boot=True)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("1 BOOT", ""), ("M Reboot", "self-reboot")])

    def test_acsURLChangeBootstraps(self) -> None:
        """A new ACS URL brings "0 BOOTSTRAP" and a new GetRPCMethods, to the new URL."""
        endpoint = self.make()
        self.settings.set(url="http://acs2.example.net/cwmp")
        self.clock.advance(0)
        second = self.acs.sessions[1]
        self.assertEqual(self.events(second), [("0 BOOTSTRAP", "")])
        self.assertEqual(self.sent(second, "GetRPCMethods"), [m.GetRPCMethods()])
        self.assertEqual(endpoint.state.bootstrappedURL, "http://acs2.example.net/cwmp")
        headers, _ = self.acs.rawRequests[-1]
        self.assertEqual(headers["host"], ["acs2.example.net"])

    def test_urlChangeDuringBootstrap(self) -> None:
        """
        The ACS URL changes while the Inform carrying "0 BOOTSTRAP" to the old
        one is on its way: the old ACS acknowledges it, and the new ACS still
        gets a BOOTSTRAP of its own.
        """
        self.model.hang.add("getParameterValues")
        endpoint = self.make()
        self.assertTrue(endpoint.inSession)
        self.settings.set(url="http://acs2.example.net/cwmp")
        self.clock.advance(deviceTimeout(30))  # the Inform goes, to the old URL, without parameters
        self.clock.advance(deviceTimeout(30))  # and the next session's Inform, to the new one
        first, second = self.acs.sessions
        self.assertEqual(self.events(first), [("0 BOOTSTRAP", "")])
        self.assertEqual(self.events(second), [("0 BOOTSTRAP", "")])
        hosts = [h["host"][0] for h, body in self.acs.rawRequests if b"<cwmp:Inform>" in body]
        self.assertEqual(hosts, ["acs.example.net:7547", "acs2.example.net"])
        self.assertEqual(endpoint.state.bootstrappedURL, "http://acs2.example.net/cwmp")

    def test_factoryResetOfTheDevice(self) -> None:
        """A device reset to its factory state bootstraps again."""
        endpoint = self.make()
        endpoint.deviceFactoryReset(None)
        self.clock.advance(0)
        self.assertEqual(self.events(self.acs.sessions[1]), [("0 BOOTSTRAP", "")])

    def test_noACSURL(self) -> None:
        """Without an ACS URL no session starts; the events wait; one warning says why."""
        logs = LogCapture(self)
        endpoint = self.make(acs=dict(self.acsConfig, url=""))
        endpoint.requestSession("2 PERIODIC")
        self.clock.advance(10)
        self.assertEqual(self.acs.sessions, [])
        self.assertEqual([e.code for e in endpoint.state.events()], ["2 PERIODIC"])
        warnings = [e["log_format"] for e in logs.events if "no ACS URL" in e.get("log_format", "")]
        self.assertEqual(len(warnings), 1)
        self.assertIn("[acs] url", warnings[0], "the line names the key an operator sets")

    def test_diagnosticsComplete(self) -> None:
        """A finished diagnostic starts a session with "8 DIAGNOSTICS COMPLETE"."""
        endpoint = self.make()
        endpoint.diagnosticsComplete(None)
        self.clock.advance(0)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("8 DIAGNOSTICS COMPLETE", "")])

    def test_stopDuringSession(self) -> None:
        """stop() ends a session waiting on a silent ACS, and the endpoint stays stopped."""
        endpoint = self.make(start=False)
        self.acs.silent = True
        endpoint.start()
        self.clock.advance(0)
        self.assertTrue(endpoint.inSession)
        done = endpoint.stop()
        self.successResultOf(done)
        self.assertFalse(endpoint.inSession)
        self.clock.advance(3600)
        self.assertEqual(len(self.acs.hung), 1)

    def test_sessionEndedSignalled(self) -> None:
        """
        Session observers hear each session's end, after it (endpoint out of
        its session), whether it succeeded, failed or was cut off by stop();
        a removed observer hears nothing more.
        """
        endpoint = self.make(start=False)
        verifyObject(ISessionNotifier, endpoint)
        ended: list[bool] = []

        @implementer(ISessionObserver)
        class Watcher:
            def sessionEnded(self, which: Any) -> None:
                ended.append(which.inSession)
                self.endpoint = which

        watcher = Watcher()
        verifyObject(ISessionObserver, watcher)
        endpoint.addSessionObserver(watcher)
        endpoint.addSessionObserver(watcher)  # once only
        endpoint.start()
        self.clock.advance(0)
        self.assertEqual(len(self.acs.sessions), 1)
        self.assertEqual(ended, [False])
        self.assertIs(watcher.endpoint, endpoint)
        self.acs.silent = True
        endpoint.requestSession("6 CONNECTION REQUEST")
        self.clock.advance(0)
        self.assertTrue(endpoint.inSession)
        self.assertEqual(ended, [False])
        self.successResultOf(endpoint.stop())
        self.assertEqual(ended, [False, False])
        endpoint.removeSessionObserver(watcher)
        endpoint.removeSessionObserver(watcher)  # not there: ignored
        self.acs.silent = False
        endpoint.start()
        endpoint.requestSession("6 CONNECTION REQUEST")
        self.clock.advance(0)
        self.assertEqual(len(self.acs.sessions), 2)  # the silent ACS's session is not among them
        self.assertFalse(endpoint.inSession)
        self.assertEqual(ended, [False, False])

    def test_sessionAgentDeclared(self) -> None:
        """
        Each session runs on its own agent from an IACSAgent and closes it
        at its end; an agent that merely has methods of those names is used
        as it is, for every session, and never closed.
        """
        log: list[str] = []
        fakeACS = self.agent

        @implementer(ISessionAgent)
        class Session:
            def __init__(self, n: int) -> None:
                self.n = n

            def request(self, *args: Any, **kw: Any) -> Any:
                log.append(f"request {self.n}")
                return fakeACS.request(*args, **kw)

            def close(self) -> Any:
                log.append(f"close {self.n}")
                return defer.succeed(None)

        class Agents:
            def request(self, *args: Any, **kw: Any) -> Any:
                log.append("one-off")
                return fakeACS.request(*args, **kw)

            def sessionAgent(self) -> Session:
                log.append("sessionAgent")
                return Session(len([e for e in log if e == "sessionAgent"]))

        self.agent = Agents()
        endpoint = self.make()
        self.assertEqual(len(self.acs.sessions), 1)
        self.assertEqual(set(log), {"one-off"}, "undeclared: the agent itself")
        self.successResultOf(endpoint.stop())
        log.clear()
        alsoProvides(self.agent, IACSAgent)
        verifyObject(IACSAgent, self.agent)
        verifyObject(ISessionAgent, Session(0))
        endpoint = self.make()
        for _ in range(2):
            endpoint.requestSession("6 CONNECTION REQUEST")
            self.clock.advance(0)
        self.assertEqual(len(self.acs.sessions), 3)
        self.assertEqual([e for e in log if not e.startswith("request")], ["sessionAgent", "close 1", "sessionAgent",
                                                                         "close 2"])
        self.assertEqual({e for e in log if e.startswith("request")}, {"request 1", "request 2"})

    def test_sessionDurationBound(self) -> None:
        """A session longer than its bound is cut off and counts as failed."""
        endpoint = self.make(start=False, maxSessionDuration=10.0)
        self.acs.silent = True
        endpoint.start()
        self.clock.advance(0)
        self.assertTrue(endpoint.inSession)
        self.clock.advance(10)
        self.assertFalse(endpoint.inSession)
        self.assertEqual(endpoint.state.retryCount, 1)


class RPCTests(EndpointTestCase):
    def ask(self, *requests: m.Message, model: Any = None) -> Any:
        """One session (after the first contact) in which the ACS asks C{requests}; the CPE's answers."""
        endpoint = self.make(model=model)
        self.acs.script(list(requests), DEVICE)
        endpoint.requestSession("6 CONNECTION REQUEST")
        self.clock.advance(0)
        self.endpoint = endpoint
        return self.answers(self.acs.sessions[-1])

    def test_getRPCMethods(self) -> None:
        """GetRPCMethods lists the model's methods, GetRPCMethods, ScheduleInform and the queue RPCs."""
        (answer,) = self.ask(m.GetRPCMethods())
        self.assertEqual(set(answer.methods), ALL_METHODS | {"GetRPCMethods", "ScheduleInform",
                                                             "GetQueuedTransfers", "GetAllQueuedTransfers"})
        model = FakeModel(methods=frozenset({"GetParameterValues", "Kicked"}))
        (answer,) = self.ask(m.GetRPCMethods(), model=model)
        self.assertEqual(set(answer.methods), {"GetParameterValues", "GetRPCMethods", "ScheduleInform"})

    def test_parameterRPCs(self) -> None:
        """GetParameterNames/Values and Get/SetParameterAttributes answer from the model."""
        gpn, gpv, spa, gpa = self.ask(
            m.GetParameterNames("Device.DeviceInfo.", True),
            m.GetParameterValues(("Device.X_Test.Level", "Device.DeviceInfo.")),
            m.SetParameterAttributes((AttributeChange("Device.X_Test.Level", True, 2),)),
            m.GetParameterAttributes(("Device.X_Test.Level",)),
        )
        self.assertEqual([p.name for p in gpn.parameters][:2], ["Device.DeviceInfo.HardwareVersion",
                                                                 "Device.DeviceInfo.ProvisioningCode"])
        self.assertEqual(gpv.parameters[0], ParameterValue("Device.X_Test.Level", "5", "xsd:unsignedInt"))
        self.assertEqual(spa, m.SetParameterAttributesResponse())
        self.assertEqual(gpa.parameters, (ParameterAttributes("Device.X_Test.Level", 2),))

    def test_setParameterValuesAndParameterKey(self) -> None:
        """SPV applies and then sets ManagementServer.ParameterKey; a refused SPV leaves it alone."""
        ok, refused = self.ask(
            m.SetParameterValues((ParameterValue("Device.X_Test.Level", "7", "xsd:unsignedInt"),), "key-1"),
            m.SetParameterValues((ParameterValue("Device.X_Test.Level", "x"),
                                  ParameterValue("Device.DeviceInfo.UpTime", "1")), "key-2"),
        )
        self.assertEqual(ok, m.SetParameterValuesResponse(0))
        self.assertEqual(self.model.params["Device.X_Test.Level"][0], "7")
        self.assertEqual(refused.fault.code, 9003)
        self.assertEqual(refused.fault.parameterFaults, (
            SetParameterValuesFault("Device.X_Test.Level", 9007), SetParameterValuesFault("Device.DeviceInfo.UpTime", 9008)))
        self.assertEqual(self.settings.parameterKey, "key-1")
        self.assertEqual(self.makeSettings().parameterKey, "key-1")  # persisted

    def test_duplicateNamesInSPV(self) -> None:
        """A parameter twice in one SetParameterValues is 9003, and the model is not asked."""
        (answer,) = self.ask(m.SetParameterValues((ParameterValue("Device.X_Test.Level", "1"),
                                                   ParameterValue("Device.X_Test.Level", "2")), "k"))
        self.assertEqual(answer.fault.code, 9003)
        self.assertNotIn("setParameterValues", [c[0] for c in self.model.calls])

    def test_objects(self) -> None:
        """AddObject and DeleteObject answer with instance and status and set the ParameterKey."""
        added, deleted, missing = self.ask(m.AddObject("Device.X_Test.Table.", "k-add"),
                                           m.DeleteObject("Device.X_Test.Table.1.", "k-del"),
                                           m.DeleteObject("Device.X_Test.Table.9.", "k-missing"))
        self.assertEqual(added, m.AddObjectResponse(1, 0))
        self.assertEqual(deleted, m.DeleteObjectResponse(0))
        self.assertEqual(missing.fault.code, 9005)
        self.assertEqual(self.settings.parameterKey, "k-del")

    def test_rebootAfterSession(self) -> None:
        """
        Reboot is answered at once and run after the session; "M Reboot" waits
        until the device reports its boot, then comes with "1 BOOT".
        """
        (answer,) = self.ask(m.Reboot("rk-1"))
        self.assertEqual(answer, m.RebootResponse())
        self.assertIn(("reboot", "rk-1"), self.model.calls)
        self.assertEqual(self.endpoint.state.rebootCommandKey, "rk-1")
        count = len(self.acs.sessions)
        self.clock.advance(60)
        self.assertEqual(len(self.acs.sessions), count)
        self.endpoint.deviceBooted(None)
        self.clock.advance(0)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("1 BOOT", ""), ("M Reboot", "rk-1")])

    def test_rebootCalledOnlyAfterTheSession(self) -> None:
        """The model's reboot is not called while the session that asked for it still runs."""
        seen = []

        def script(session: Any, last: Any) -> Any:
            seen.append([c[0] for c in self.model.calls])
            return [m.Reboot("r"), m.GetRPCMethods(), None][len(seen) - 1]

        endpoint = self.make()
        self.acs.script(script, DEVICE)
        endpoint.requestSession("6 CONNECTION REQUEST")
        self.clock.advance(0)
        self.assertNotIn("reboot", seen[-1])
        self.assertIn(("reboot", "r"), self.model.calls)

    def test_failedRebootAbandoned(self) -> None:
        """A device that refuses to reboot leaves no "M Reboot" waiting."""
        self.model.broken.add("reboot")
        self.ask(m.Reboot("rk"))
        self.assertIsNone(self.endpoint.state.rebootCommandKey)
        self.flushLoggedErrors(ValueError)

    def test_factoryResetAfterSession(self) -> None:
        """FactoryReset is answered at once and the model is reset after the session."""
        (answer,) = self.ask(m.FactoryReset())
        self.assertEqual(answer, m.FactoryResetResponse())
        self.assertEqual(self.model.calls[-1], ("factoryReset",))

    def test_downloadGoesOn(self) -> None:
        """
        A Download the device carries on with is Status 1 and listed by
        GetQueuedTransfers; its completion brings a TransferComplete with
        "7 TRANSFER COMPLETE" and "M Download", acknowledged once.
        """
        request = TransferRequest("Download", "dl-1", "1 Firmware Upgrade Image", "http://f/fw.bin", fileSize=9)
        dl, queued, every = self.ask(m.Download(request), m.GetQueuedTransfers(), m.GetAllQueuedTransfers())
        self.assertEqual(dl.status, 1)
        self.assertEqual(queued.transfers, (m.QueuedTransfer("dl-1", 2),))
        self.assertEqual(every.transfers, (m.AllQueuedTransfer("dl-1", 2, True, "1 Firmware Upgrade Image", 9, ""),))
        self.assertEqual(self.model.calls[-1], ("download", request))
        self.endpoint.transferComplete(None, TransferResult("dl-1", "Download", 0, "", T0, T0))
        self.clock.advance(0)
        session = self.acs.sessions[-1]
        self.assertEqual(self.events(session), [("7 TRANSFER COMPLETE", ""), ("M Download", "dl-1")])
        (tc,) = self.sent(session, "TransferComplete")
        self.assertEqual((tc.result.commandKey, tc.result.startTime), ("dl-1", T0))
        self.endpoint.requestSession("2 PERIODIC")
        self.clock.advance(0)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("2 PERIODIC", "")])
        self.assertEqual(self.sent(self.acs.sessions[-1], "TransferComplete"), [])
        logs = LogCapture(self)
        sessions = len(self.acs.sessions)
        self.endpoint.transferComplete(None, TransferResult("dl-1", "Download", 0, "", T0, T0))  # told again
        self.clock.advance(60)
        self.assertEqual(len(self.acs.sessions), sessions, "a repeat asks for no session")
        self.assertEqual(self.endpoint.state.queuedRPCs(), [])
        self.assertTrue(any("repeat dropped" in str(e.get("log_format")) and e["log_level"] == LogLevel.debug
                            for e in logs.events))

    def test_transferDoneAtOnce(self) -> None:
        """A transfer already over is Status 0 with its times; a failed one is its fault."""
        self.model.transferAnswer = TransferResult("u", "Upload", 0, "", T0, T0)
        (answer,) = self.ask(m.Upload(TransferRequest("Upload", "u", "2 Vendor Log File", "http://f/")))
        self.assertEqual(answer, m.UploadResponse(0, T0, T0))
        self.model.transferAnswer = TransferResult("d", "Download", 9016, "no such file", T0, T0)
        (answer,) = self.ask(m.Download(TransferRequest("Download", "d", "1 Firmware Upgrade Image", "http://f/")))
        self.assertEqual((answer.fault.code, answer.fault.string), (9016, "no such file"))

    def test_scheduleInform(self) -> None:
        """ScheduleInform brings "3 SCHEDULED" and "M ScheduleInform" after the delay; 0 is 9003."""
        ok, zero = self.ask(m.ScheduleInform(300, "si-1"), m.ScheduleInform(0, "si-0"))
        self.assertEqual(ok, m.ScheduleInformResponse())
        self.assertEqual(zero.fault.code, 9003)
        count = len(self.acs.sessions)
        self.clock.advance(299)
        self.assertEqual(len(self.acs.sessions), count)
        self.clock.advance(1)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("3 SCHEDULED", ""), ("M ScheduleInform", "si-1")])

    def test_scheduleInformSurvivesRestart(self) -> None:
        """A ScheduleInform still waiting when the proxier restarts fires after the restart."""
        self.ask(m.ScheduleInform(300, "si"))
        self.restart(self.endpoint)
        self.clock.advance(300)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("3 SCHEDULED", ""), ("M ScheduleInform", "si")])

    def test_notSupported(self) -> None:
        """RPCs the model does not list, and CancelTransfer, are 9000; the session goes on."""
        model = FakeModel(methods=frozenset({"GetParameterValues"}))
        answers = self.ask(m.Download(TransferRequest("Download", "", "1 Firmware Upgrade Image", "http://f/")),
                           m.CancelTransfer("x"), m.Reboot("r"), m.GetParameterValues(("Device.X_Test.Level",)),
                           model=model)
        self.assertEqual([getattr(a, "fault", None) and a.fault.code for a in answers[:3]], [9000, 9000, 9000])
        self.assertEqual(answers[3].name, "GetParameterValuesResponse")
        self.assertEqual([c[0] for c in model.calls if c[0] != "getParameterValues"], [])

    def test_modelFaults(self) -> None:
        """A model's CWMPFault goes to the ACS as is; a bare exception becomes 9002 and is logged."""
        unknown, = self.ask(m.GetParameterValues(("Device.Nope",)))
        self.assertEqual(unknown.fault.code, 9005)
        self.model.broken.add("getParameterNames")
        broken, = self.ask(m.GetParameterNames("Device.", False))
        self.assertEqual(broken.fault.code, 9002)
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_snapshot(self) -> None:
        """
        snapshot() says, as plain data, what waits for the ACS and how the
        last session went: its Inform's events and the faults it answered.
        """
        self.ask(m.GetParameterValues(("Device.Nope",)))
        snapshot = self.endpoint.snapshot()
        last = snapshot["lastSession"]
        self.assertEqual((last["ok"], last["events"]), (True, ["6 CONNECTION REQUEST"]))
        self.assertEqual([(f["method"], f["code"]) for f in last["faults"]], [("GetParameterValues", 9005)])
        self.assertEqual((snapshot["pendingEvents"], snapshot["inSession"], snapshot["online"]), ([], False, True))
        self.assertEqual(snapshot["acsURL"], self.endpoint.settings.url)
        self.endpoint.requestSession("6 CONNECTION REQUEST")
        self.endpoint.deviceOffline(None)
        self.assertEqual(self.endpoint.snapshot()["pendingEvents"], ["6 CONNECTION REQUEST"])
        self.assertFalse(self.endpoint.snapshot()["online"])
        json.dumps(self.endpoint.snapshot())

    def test_hungDeviceAnswered9002InTime(self) -> None:
        """
        A device that never answers: the ACS gets 9002 when the device
        timeout (inside the session timeout) expires, the call is cancelled,
        and the session goes on to its normal end.
        """
        endpoint = self.make()
        self.model.hangNames.add("Device.X_Test.Level")
        self.acs.script([m.GetParameterValues(("Device.X_Test.Level",)), m.GetRPCMethods()], DEVICE)
        endpoint.requestSession("6 CONNECTION REQUEST")
        self.clock.advance(0)
        session = self.acs.sessions[-1]
        self.assertEqual(session.responses, [])
        self.clock.advance(deviceTimeout(30) - 0.1)
        self.assertEqual(session.responses, [])
        self.clock.advance(0.1)
        (gpv, grm) = self.answers(session)
        self.assertEqual(gpv.fault.code, 9002)
        self.assertEqual(grm.name, "GetRPCMethodsResponse")
        self.assertEqual(self.model.cancelled, ["getParameterValues"])
        self.assertTrue(session.ok)
        self.assertLess(deviceTimeout(30), 30)

    def test_hungDeviceDuringInform(self) -> None:
        """A device that does not answer for the forced parameters delays the Inform only boundedly."""
        self.model.hang.add("getParameterValues")
        self.make()
        self.assertEqual(self.acs.sessions, [])
        self.clock.advance(deviceTimeout(30))
        (session,) = self.acs.sessions
        self.assertEqual(session.inform.parameters, ())


class InformParameterTests(EndpointTestCase):
    def test_forcedSubset(self) -> None:
        """A model without some forced parameters: the Inform carries those it has, found once."""
        model = FakeModel(forced=FORCED_INFORM[:3])
        endpoint = self.make(model=model)
        self.assertEqual([p.name for p in self.acs.sessions[0].inform.parameters], list(FORCED_INFORM[:3]))
        endpoint.requestSession("2 PERIODIC")
        self.clock.advance(0)
        self.assertEqual([p.name for p in self.acs.sessions[1].inform.parameters], list(FORCED_INFORM[:3]))
        gpvCalls = [c for c in model.calls if c[0] == "getParameterValues"]
        self.assertEqual(len(gpvCalls), 1 + len(FORCED_INFORM) + 1)

    def test_forcedFromTheModel(self) -> None:
        """
        The forced-inform parameters are the ones the model declares, whatever
        its root: the endpoint knows no Device: path of its own.
        """
        model = FakeModel(declared=("Device.X_Test.Level", "Device.DeviceInfo.UpTime"))
        self.make(model=model)
        (session,) = self.acs.sessions
        self.assertEqual([(p.name, p.value) for p in session.inform.parameters],
                         [("Device.X_Test.Level", "5"), ("Device.DeviceInfo.UpTime", "100")])
        self.assertEqual([c for c in model.calls if c[0] == "getParameterValues"],
                         [("getParameterValues", ("Device.X_Test.Level", "Device.DeviceInfo.UpTime"))])

    def test_noForcedDeclared(self) -> None:
        """A model that declares no forced-inform parameters is not asked for any; its Inform carries none."""
        model = FakeModel(declared=None)
        self.assertFalse(IForcedInform.providedBy(model))
        endpoint = self.make(model=model)
        (session,) = self.acs.sessions
        self.assertEqual(session.inform.parameters, ())
        model.changed([ParameterValue("Device.X_Test.Level", "6", "xsd:unsignedInt")], True)
        self.clock.advance(0)
        self.assertEqual([(p.name, p.value) for p in self.acs.sessions[1].inform.parameters],
                         [("Device.X_Test.Level", "5")])
        self.assertEqual([c for c in model.calls if c[0] == "getParameterValues"],
                         [("getParameterValues", ("Device.X_Test.Level",))])

    def test_valueChanges(self) -> None:
        """
        Passive changes wait for the next session; active ones start one; the
        Inform carries "4 VALUE CHANGE" with the latest values, delivered once.
        """
        endpoint = self.make()
        self.model.changed([ParameterValue("Device.X_Test.Level", "6", "xsd:unsignedInt")], False)
        self.clock.advance(60)
        self.assertEqual(len(self.acs.sessions), 1)
        self.model.params["Device.X_Test.Level"][0] = "8"
        self.model.params["Device.DeviceInfo.SoftwareVersion"][0] = "sw2"
        self.model.changed([ParameterValue("Device.X_Test.Level", "8", "xsd:unsignedInt"),
                                      ParameterValue("Device.DeviceInfo.SoftwareVersion", "sw2")], True)
        self.clock.advance(0)
        session = self.acs.sessions[1]
        self.assertEqual(self.events(session), [("4 VALUE CHANGE", "")])
        names = {p.name: p.value for p in session.inform.parameters}
        self.assertEqual(names["Device.X_Test.Level"], "8")
        self.assertEqual(names["Device.DeviceInfo.SoftwareVersion"], "sw2")
        self.assertEqual(len(session.inform.parameters), len(FORCED_INFORM) + 1)
        endpoint.requestSession("2 PERIODIC")
        self.clock.advance(0)
        self.assertEqual(self.events(self.acs.sessions[2]), [("2 PERIODIC", "")])

    def test_valueChangeReadAtInform(self) -> None:
        """
        A passive change waits for the next Inform; by then the value moved
        again, and the Inform carries the value as it is then, not the one
        recorded with the change.
        """
        endpoint = self.make()
        self.model.params["Device.X_Test.Level"][0] = "6"
        self.model.changed([ParameterValue("Device.X_Test.Level", "6", "xsd:unsignedInt")], False)
        self.model.params["Device.X_Test.Level"][0] = "7"
        endpoint.requestSession("2 PERIODIC")
        self.clock.advance(0)
        session = self.acs.sessions[-1]
        self.assertEqual(sorted(self.events(session)), [("2 PERIODIC", ""), ("4 VALUE CHANGE", "")])
        self.assertIn(ParameterValue("Device.X_Test.Level", "7", "xsd:unsignedInt"), session.inform.parameters)

    def test_valueChangeDeviceSilent(self) -> None:
        """
        When the device does not answer in time for the fresh value, the value
        recorded with the change goes, after the bounded wait.
        """
        endpoint = self.make()
        self.model.changed([ParameterValue("Device.X_Test.Level", "6", "xsd:unsignedInt")], False)
        self.model.hangNames.add("Device.X_Test.Level")
        endpoint.requestSession("2 PERIODIC")
        self.clock.advance(0)
        sessions = len(self.acs.sessions)
        self.clock.advance(deviceTimeout(30))
        self.assertEqual(len(self.acs.sessions), sessions + 1)
        session = self.acs.sessions[-1]
        self.assertIn(ParameterValue("Device.X_Test.Level", "6", "xsd:unsignedInt"), session.inform.parameters)

    def test_modelChangeListener(self) -> None:
        """
        A model that reports changes itself (declares INotifyingDataModel) is
        listened to while the endpoint runs, and only then: the one route by
        which value changes reach the endpoint.
        """
        model = FakeModel(notifying=False)
        undeclared = self.make(start=False, model=model)
        undeclared.start()
        self.assertEqual(model.listeners, [], "methods of that name are no contract: nothing declared")
        self.successResultOf(undeclared.stop())
        self.assertEqual(self.model.listeners, [])
        endpoint = self.make(start=False)
        self.assertEqual(self.model.listeners, [])
        endpoint.start()
        self.clock.advance(0)
        (listener,) = self.model.listeners
        self.model.params["Device.ManagementServer.ConnectionRequestURL"][0] = "http://10.0.0.2:7547/x"
        listener([ParameterValue("Device.ManagementServer.ConnectionRequestURL", "http://10.0.0.2:7547/x")], True)
        self.clock.advance(0)
        session = self.acs.sessions[-1]
        self.assertEqual(self.events(session), [("4 VALUE CHANGE", "")])
        self.assertIn(ParameterValue("Device.ManagementServer.ConnectionRequestURL", "http://10.0.0.2:7547/x"),
                      session.inform.parameters)
        endpoint.stop()
        self.assertEqual(self.model.listeners, [])

    def test_activeNotificationThrottle(self) -> None:
        """DefaultActiveNotificationThrottle spaces sessions for active changes."""
        endpoint = self.make()
        self.settings.set(defaultActiveNotificationThrottle=120)
        self.model.changed([ParameterValue("Device.X_Test.Level", "1")], True)
        self.clock.advance(0)
        self.assertEqual(len(self.acs.sessions), 2)
        self.model.changed([ParameterValue("Device.X_Test.Level", "2")], True)
        self.clock.advance(119)
        self.assertEqual(len(self.acs.sessions), 2)
        self.clock.advance(1)
        self.assertEqual(len(self.acs.sessions), 3)


class OnlineTests(EndpointTestCase):
    def test_offlineThenOnline(self) -> None:
        """
        Offline: Connection Requests refused, no session, events kept (also
        across a restart); back online: one session delivers what waited.
        """
        endpoint = self.make()
        endpoint.deviceOffline(None)
        self.assertFalse(endpoint.online)
        self.assertFalse(endpoint.connectionRequested())
        endpoint.transferComplete(None, TransferResult("t", "Download"))
        self.model.changed([ParameterValue("Device.X_Test.Level", "6", "xsd:unsignedInt")], True)
        self.clock.advance(3600)
        self.assertEqual(len(self.acs.sessions), 1)
        endpoint = self.restart(endpoint, online=False)
        self.clock.advance(3600)
        self.assertEqual(len(self.acs.sessions), 1)
        endpoint.deviceOnline(None)
        self.clock.advance(0)
        session = self.acs.sessions[1]
        self.assertEqual(sorted(self.events(session)), [("4 VALUE CHANGE", ""), ("7 TRANSFER COMPLETE", ""),
                                                        ("M Download", "t")])
        self.assertEqual(len(self.sent(session, "TransferComplete")), 1)

    def test_diagnosticsCompleteWhileOffline(self) -> None:
        """
        A diagnostic whose results the proxier holds is reported even while the
        device is offline (TR-330 §4.5.1, Figure 6 notes: no link test needed;
        the ACS reads the results from the proxier); Connection Requests stay
        refused.
        """
        endpoint = self.make()
        endpoint.deviceOffline(None)
        endpoint.diagnosticsComplete(None)
        self.clock.advance(0)
        self.assertEqual(len(self.acs.sessions), 2)
        self.assertEqual(self.events(self.acs.sessions[1]), [("8 DIAGNOSTICS COMPLETE", "")])
        self.assertFalse(endpoint.connectionRequested())
        endpoint.requestSession("2 PERIODIC")
        self.clock.advance(3600)
        self.assertEqual(len(self.acs.sessions), 2)

    def test_connectionRequestDuringSession(self) -> None:
        """Connection Requests during a session queue exactly one more session after it."""
        endpoint = self.make()
        self.model.hang.add("getParameterNames")
        self.acs.script([m.GetParameterNames("Device.", False)], DEVICE)
        endpoint.requestSession("6 CONNECTION REQUEST")
        self.clock.advance(0)
        self.assertTrue(endpoint.inSession)
        self.assertTrue(endpoint.connectionRequested())
        self.assertTrue(endpoint.connectionRequested())
        self.clock.advance(deviceTimeout(30))
        self.assertEqual(len(self.acs.sessions), 3)
        self.assertEqual(self.events(self.acs.sessions[2]), [("6 CONNECTION REQUEST", "")])
        self.clock.advance(60)
        self.assertEqual(len(self.acs.sessions), 3)

    def test_connectionRequestsCoalesced(self) -> None:
        """
        Many Connection Requests before the session starts are all accepted
        and make one session (TR-069 3.2.2); the limit on how many may start
        sessions is the server's (tests.test_cwmp_connreq).
        """
        endpoint = self.make()
        self.clock.advance(0)
        before = len(self.acs.sessions)
        self.assertEqual([endpoint.connectionRequested() for _ in range(30)], [True] * 30)
        self.clock.advance(0)
        self.assertEqual(len(self.acs.sessions), before + 1)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("6 CONNECTION REQUEST", "")])


class RetryTests(EndpointTestCase):
    def test_connectionRequestNotRetried(self) -> None:
        """A session for a Connection Request that fails is not retried; its event is gone."""
        endpoint = self.make()
        self.acs.unavailable = (503, None)
        before = len(self.acs.rawRequests)
        self.assertTrue(endpoint.connectionRequested())
        self.clock.advance(0)
        self.assertEqual(endpoint.state.events(), [])
        self.assertEqual(endpoint.state.retryCount, 1)
        self.clock.advance(86400 * 2)
        self.assertEqual(len(self.acs.rawRequests), before + 1)  # the failed Inform, never again

    def test_retryScheduleAndCount(self) -> None:
        """
        Failed sessions are retried at m·(k/1000)^(n-1) (the random part at its
        low end here), each Inform carrying the RetryCount; success resets it.
        """
        self.acs.unavailable = (503, None)
        endpoint = self.make()
        informs = lambda: [s for s in self.acs.rawRequests if b"<cwmp:Inform>" in s[1]]  # noqa: E731
        self.assertEqual(len(informs()), 1)
        for count, wait in ((1, 5), (2, 10), (3, 20), (4, 40)):
            self.assertEqual(endpoint.state.retryCount, count)
            self.clock.advance(wait - 0.5)
            self.assertEqual(len(informs()), count)
            self.clock.advance(0.5)
            self.assertEqual(len(informs()), count + 1)
            self.assertIn(f"<RetryCount>{count}</RetryCount>".encode(), informs()[-1][1])
        self.acs.unavailable = None
        self.clock.advance(80)  # the fifth retry: 80..160 s
        self.assertEqual(endpoint.state.retryCount, 0)
        self.assertEqual(self.acs.sessions[-1].inform.retryCount, 5)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("0 BOOTSTRAP", "")])

    def test_retryAfter(self) -> None:
        """503 with Retry-After: the next attempt waits what the ACS asked."""
        self.acs.unavailable = (503, 120)
        endpoint = self.make()
        self.acs.unavailable = None
        self.clock.advance(119)
        self.assertEqual(len(self.acs.sessions), 0)
        self.clock.advance(1)
        self.assertEqual(len(self.acs.sessions), 1)
        self.assertEqual(endpoint.state.retryCount, 0)

    def test_connectionRequestBypassesBackOff(self) -> None:
        """A Connection Request runs at once even while a retry waits; other events wait for the retry."""
        self.acs.unavailable = (503, 600)
        endpoint = self.make()
        self.acs.unavailable = None
        endpoint.diagnosticsComplete(None)
        self.clock.advance(1)
        self.assertEqual(len(self.acs.sessions), 0)
        endpoint.connectionRequested()
        self.clock.advance(0)
        self.assertEqual(len(self.acs.sessions), 1)
        self.assertIn(("6 CONNECTION REQUEST", ""), self.events(self.acs.sessions[0]))

    def test_transferCompleteExactlyOnceAcrossFaultsAndRestarts(self) -> None:
        """
        A TransferComplete the ACS refuses once stays queued (across a restart)
        and is delivered in a later session, then never again.
        """
        endpoint = self.make()
        self.acs.requestFaults["TransferComplete"] = [CWMPFault(8002)]
        endpoint.transferComplete(None, TransferResult("ck", "Download"))
        self.clock.advance(0)
        self.assertEqual(len(self.sent(self.acs.sessions[1], "TransferComplete")), 1)
        endpoint = self.restart(endpoint)
        self.assertEqual(len(self.sent(self.acs.sessions[2], "TransferComplete")), 1)
        self.assertEqual(self.events(self.acs.sessions[2]), [("7 TRANSFER COMPLETE", ""), ("M Download", "ck")])
        endpoint = self.restart(endpoint)
        endpoint.requestSession("2 PERIODIC")
        self.clock.advance(0)
        total = sum(len(self.sent(s, "TransferComplete")) for s in self.acs.sessions)
        self.assertEqual(total, 2)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("2 PERIODIC", "")])

    def test_poisonRPCDropped(self) -> None:
        """
        A TransferComplete the ACS cannot take — answered with an HTTP 500
        error page, or with a 503 that ends the session — is dropped after
        MAX_RPC_FAULTS tries, never blocking the endpoint for ever; sessions
        then succeed again.
        """
        from proxier.cwmp.endpoint import MAX_RPC_FAULTS

        for status in (500, 503):
            self.acs.sessions.clear()
            endpoint = self.make()
            original = self.acs._cpeRequest

            def choke(request: Any, session: Any, envelope: Any, status: int = status) -> Any:
                if envelope.body.name == "TransferComplete":
                    request.setResponseCode(status)
                    return b"internal error"
                return original(request, session, envelope)

            self.acs._cpeRequest = choke
            endpoint.transferComplete(None, TransferResult(f"poison{status}", "Download"))  # one transfer each
            self.clock.advance(0)
            for _ in range(MAX_RPC_FAULTS + 2):
                endpoint.requestSession("2 PERIODIC")
                self.clock.advance(6000)
            tries = sum(len(self.sent(s, "TransferComplete")) for s in self.acs.sessions)
            self.assertEqual(tries, MAX_RPC_FAULTS, status)
            self.assertEqual(endpoint.state.queuedRPCs(), [])
            self.assertEqual(endpoint.state.retryCount, 0)
            self.assertTrue(self.acs.sessions[-1].ok)
            self.acs._cpeRequest = original
            self.restart(endpoint, start=False)

    def test_eventCodesChecked(self) -> None:
        """requestSession refuses what TR-069 does not allow as an event code or CommandKey."""
        endpoint = self.make()
        for code in ("BOOT", "M", "7", "M Reboot extra", "x" * 65):
            self.assertRaises(ValueError, endpoint.requestSession, code)
        self.assertRaises(ValueError, endpoint.requestSession, "M X_VENDOR_Thing", "k" * 33)
        endpoint.requestSession("X 00D09E Vendor Event")
        self.clock.advance(0)
        self.assertEqual(self.events(self.acs.sessions[-1]), [("X 00D09E Vendor Event", "")])

    def test_retryRequestWithin8005(self) -> None:
        """8005 to a TransferComplete sends it again in the same session."""
        endpoint = self.make()
        self.acs.requestFaults["TransferComplete"] = [CWMPFault(8005)]
        endpoint.transferComplete(None, TransferResult("ck", "Download"))
        self.clock.advance(0)
        self.assertEqual(len(self.sent(self.acs.sessions[1], "TransferComplete")), 2)
        self.assertEqual(endpoint.state.queuedRPCs(), [])

    def test_silentACSTimesOutThenRetries(self) -> None:
        """An ACS that never answers: the request timeout fails the session; the retry follows."""
        self.acs.silent = True
        endpoint = self.make(requestTimeout=30.0)
        self.clock.advance(30)
        self.assertEqual(endpoint.state.retryCount, 1)
        self.acs.silent = False
        self.clock.advance(5)
        self.assertEqual(len(self.acs.sessions), 1)
        self.assertEqual(self.acs.sessions[0].inform.retryCount, 1)


class ACSSupportTests(EndpointTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.acs.genieacs = True
        self.acs.methods = GENIEACS_METHODS
        self.acsConfig = dict(self.acsConfig)

    def enablePolicy(self) -> None:
        self.settings.set(autonomousTransferCompletePolicyEnable=True,
                          autonomousTransferCompletePolicyFileTypeFilter="1 Firmware Upgrade Image")

    def test_autonomousUnsupportedDropped(self) -> None:
        """
        With an ACS that lacks AutonomousTransferComplete (GenieACS), the RPC
        is never sent: dropped once the ACS said so, refused at once later.
        """
        endpoint = self.make(start=False)
        self.enablePolicy()
        atc = AutonomousTransferResult("", "http://f/fw", True, "1 Firmware Upgrade Image")
        endpoint.autonomousTransferComplete(None, atc)
        endpoint.start()
        self.clock.advance(0)
        (session,) = self.acs.sessions
        self.assertEqual(self.sent(session, "AutonomousTransferComplete"), [])
        self.assertNotIn("10 AUTONOMOUS TRANSFER COMPLETE", [c for c, _ in self.events(session)])  # never announced
        self.assertEqual(endpoint.state.queuedRPCs(), [])
        endpoint.autonomousTransferComplete(None, atc)
        self.assertEqual(endpoint.state.queuedRPCs(), [])
        self.clock.advance(3600)
        self.assertEqual(len(self.acs.sessions), 1)

    def test_autonomousAnnouncedOnceTheACSSaidSo(self) -> None:
        """
        Queued before the first session with an ACS that was never asked: that Inform does not announce
        "10 AUTONOMOUS TRANSFER COMPLETE" (the RPC might be unsupported); once GetRPCMethods says it is
        supported, the next session announces it and delivers it.
        """
        self.acs.methods = GENIEACS_METHODS + ("AutonomousTransferComplete",)
        endpoint = self.make(start=False)
        self.enablePolicy()
        endpoint.autonomousTransferComplete(None, AutonomousTransferResult("", "u", True, "1 Firmware Upgrade Image"))
        endpoint.start()
        self.clock.advance(0)
        first, second = self.acs.sessions
        self.assertNotIn("10 AUTONOMOUS TRANSFER COMPLETE", [c for c, _ in self.events(first)])
        self.assertEqual(self.sent(first, "AutonomousTransferComplete"), [])
        self.assertIn("10 AUTONOMOUS TRANSFER COMPLETE", [c for c, _ in self.events(second)])
        self.assertEqual(len(self.sent(second, "AutonomousTransferComplete")), 1)
        self.assertEqual(endpoint.state.queuedRPCs(), [])
        self.clock.advance(3600)
        self.assertEqual(len(self.acs.sessions), 2)

    def test_brokenFaultDropsAndRemembers(self) -> None:
        """
        An ACS that claims AutonomousTransferComplete but answers it with
        GenieACS's broken 8000 fault: dropped, remembered as unsupported,
        the session ends well.
        """
        self.acs.methods = GENIEACS_METHODS + ("AutonomousTransferComplete",)
        endpoint = self.make()
        self.acs.methods = GENIEACS_METHODS
        self.enablePolicy()
        endpoint.autonomousTransferComplete(None, AutonomousTransferResult("", "u", True, "1 Firmware Upgrade Image"))
        self.clock.advance(0)
        session = self.acs.sessions[1]
        self.assertEqual(len(self.sent(session, "AutonomousTransferComplete")), 1)
        self.assertTrue(session.ok)
        self.assertEqual(endpoint.state.queuedRPCs(), [])
        self.assertNotIn("AutonomousTransferComplete", endpoint.state.acsMethods(ACS_URL))

    def test_autonomousPolicy(self) -> None:
        """AutonomousTransferCompletePolicy filters by enable, transfer type, result and file type."""
        endpoint = self.make(start=False)
        atc = AutonomousTransferResult("", "u", True, "1 Firmware Upgrade Image")
        cases = [
            ({}, "disabled"),
            ({"autonomousTransferCompletePolicyEnable": True}, "FileTypeFilter"),
            ({"autonomousTransferCompletePolicyFileTypeFilter": "2 Web Content, 1 Firmware Upgrade Image"}, ""),
            ({"autonomousTransferCompletePolicyTransferTypeFilter": "Upload"}, "TransferTypeFilter"),
            ({"autonomousTransferCompletePolicyTransferTypeFilter": "Download",
              "autonomousTransferCompletePolicyResultTypeFilter": "Failure"}, "ResultTypeFilter"),
            ({"autonomousTransferCompletePolicyResultTypeFilter": "Success"}, ""),
        ]
        for change, expected in cases:
            self.settings.set(**change)
            why = endpoint._autonomousFiltered(atc)
            self.assertIn(expected, why) if expected else self.assertEqual(why, "")

    def test_holdRequests(self) -> None:
        """
        An ACS that holds the CPE's requests: the TransferComplete waits while
        the ACS asks, and goes once the ACS has nothing more, in the same session.
        """
        self.acs.genieacs = False
        endpoint = self.make()
        self.acs.holdRequests = True
        self.acs.script([m.GetRPCMethods()], DEVICE)
        endpoint.transferComplete(None, TransferResult("h", "Download"))
        self.clock.advance(0)
        (_, session) = self.acs.sessions
        names = [msg.name if msg is not None else None for msg in session.received]
        self.assertEqual(names, ["Inform", None, "GetRPCMethodsResponse", "TransferComplete", None])
        self.assertTrue(session.ok)
        self.assertEqual(endpoint.state.queuedRPCs(), [])

    def test_requiredMethodsAssumed(self) -> None:
        """An ACS whose GetRPCMethods leaves out TransferComplete still gets it (every ACS must support it)."""
        self.acs.methods = ("Inform", "GetRPCMethods")
        endpoint = self.make()
        self.assertIn("TransferComplete", endpoint.state.acsMethods(ACS_URL))
        self.acs.methods = GENIEACS_METHODS
        endpoint.transferComplete(None, TransferResult("k", "Download"))
        self.clock.advance(0)
        self.assertEqual(len(self.sent(self.acs.sessions[-1], "TransferComplete")), 1)

    def test_requestDownload(self) -> None:
        """RequestDownload goes only to an ACS that supports it."""
        self.acs.methods = GENIEACS_METHODS + ("RequestDownload",)
        endpoint = self.make()
        endpoint.requestDownload("3 Vendor Configuration File", (("Version", "1"),))
        self.clock.advance(0)
        session = self.acs.sessions[1]
        self.assertEqual(self.events(session), [("9 REQUEST DOWNLOAD", "")])
        self.assertEqual(self.sent(session, "RequestDownload"),
                         [m.RequestDownload("3 Vendor Configuration File", (("Version", "1"),))])
        endpoint.state.setACSMethods(ACS_URL, GENIEACS_METHODS)
        endpoint.requestDownload("3 Vendor Configuration File")
        self.assertEqual(endpoint.state.queuedRPCs(), [])


class PeriodicTests(EndpointTestCase):
    def test_periodicInforms(self) -> None:
        """Periodic Informs follow the interval; a new interval reschedules; disabling stops them."""
        endpoint = self.make(acs=dict(self.acsConfig, periodic_inform_enable=True, periodic_inform_interval=600))
        self.clock.advance(600)
        self.assertEqual(self.events(self.acs.sessions[1]), [("2 PERIODIC", "")])
        self.settings.set(periodicInformInterval=60)
        self.clock.advance(60)
        self.assertEqual(len(self.acs.sessions), 3)
        self.settings.set(periodicInformEnable=False)
        self.clock.advance(6000)
        self.assertEqual(len(self.acs.sessions), 3)
        self.assertTrue(endpoint.running)

    def test_periodicInformTimePhase(self) -> None:
        """With PeriodicInformTime the Informs fall on its grid."""
        now = self.clock.seconds()
        phase = datetime.datetime.fromtimestamp(now + 90, UTC)
        self.make(acs=dict(self.acsConfig, periodic_inform_enable=True, periodic_inform_interval=3600,
                           periodic_inform_time=phase.strftime("%Y-%m-%dT%H:%M:%SZ")))
        self.clock.advance(89)
        self.assertEqual(len(self.acs.sessions), 1)
        self.clock.advance(1)
        self.assertEqual(len(self.acs.sessions), 2)
        self.clock.advance(3600)
        self.assertEqual(len(self.acs.sessions), 3)
