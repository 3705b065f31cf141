"""
End to end over real loopback sockets: the proxier's whole service tree
with the UPnP-DM plugin (control point in unicast-loopback mode), simulated
UPnP DM devices (L{proxier.sim.fleet.Fleet}) and the fake ACS — every CWMP
message the proxier sends validated against the BBF schema.

Covered: TR-330 Table 1 (the rows issue 6 covers: 0 BOOTSTRAP, 1 BOOT + M
Reboot, 4 VALUE CHANGE — also across a lost or refused NOTIFY —, offline/online), Table 2 (one test per row, the
device made to answer each code), the GetParameterNames examples of §4.6.2
and Figure 7, the Status mappings of SetParameterValues, AddObject,
DeleteObject and SetParameterAttributes, a restart of the proxier, a
restart of a device, and ten devices at once with one of them hung.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Optional

from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.server import Site

from proxier.config import load
from proxier.cwmp import messages as m
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.tls import makeACSAgent
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.plugins.upnpdm import upnpdm
from proxier.service import ProxierService
from proxier.sim.cms import CHANGES_APPLIED, CHANGES_COMMITTED
from proxier.sim.fleet import Fleet, FleetOptions
from proxier.store import Store
from proxier.upnpdm import errors
from tests import _helpers
from tests.cwmpxsd import assertValidCWMP

WAIT = 30.0

waitFor = partial(_helpers.waitFor, timeout=WAIT)


def sleep(seconds: float) -> defer.Deferred:
    return task.deferLater(reactor, seconds, lambda: None)


class Lab:
    """The proxier tree, a fleet of simulated devices and the fake ACS, on 127.0.0.1."""

    def __init__(self, testCase: unittest.TestCase, count: int = 1, **acs: Any) -> None:
        self.testCase = testCase
        self.count = count
        self.acs = FakeACS(clock=reactor, validator=lambda body: assertValidCWMP(testCase, body), **acs)
        port = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        testCase.addCleanup(port.stopListening)
        self.acsURL = f"http://127.0.0.1:{port.getHost().port}/acs"
        self.state = testCase.mktemp()
        self.tree: Optional[ProxierService] = None
        self.fleet: Optional[Fleet] = None
        self.sessionTimeout = 30
        self.actionTimeout = 10
        self.upnpOptions: dict = {}  # more [upnp] settings
        testCase.addCleanup(self._validated)

    def _validated(self) -> None:
        self.testCase.assertEqual(self.acs.validationErrors, [])

    def startTree(self) -> ProxierService:
        config = load(None, [upnpdm.configSection])
        config = config.replace("acs", url=self.acsURL, periodic_inform_enable=False,
                                session_timeout=self.sessionTimeout, retry_minimum_wait=1,
                                retry_interval_multiplier=1000, local_targets=("127.0.0.1",))
        config = config.replace("connection_request", port=0)
        config = config.replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
        config = config.replace("demo", enable="no")
        config = config.replace("upnp", action_timeout=self.actionTimeout, online_probe_interval=5,
                                **self.upnpOptions)
        store = Store.open(self.state)
        agent = makeACSAgent(reactor, config["acs"], pool=HTTPConnectionPool(reactor, persistent=False))
        tree = ProxierService(config, store, [upnpdm], reactor=reactor, agent=agent)
        tree.startService()
        self.tree = tree
        self.testCase.addCleanup(self._stopTree, tree)
        if self.fleet is not None:
            self.fleet.setControlPoint(self.controlPoint.ssdpAddress)
        return tree

    def _stopTree(self, tree: ProxierService) -> Any:
        if tree.running:
            return tree.stopService()
        return None

    @property
    def controlPoint(self) -> Any:
        return self.tree.getServiceNamed("UPnP-DM").controlPoint

    @property
    def upnpdm(self) -> Any:
        return self.tree.getServiceNamed("UPnP-DM")

    def startFleet(self, **options: Any) -> Fleet:
        """The simulated devices, started (more L{FleetOptions} in C{options})."""
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        self.fleet = Fleet(FleetOptions(count=self.count, controlPoint=self.controlPoint.ssdpAddress, downtime=1.0,
                                        **options), reactor=reactor, agent=agent)
        self.fleet.startService()
        self.testCase.addCleanup(self.fleet.stopService)
        return self.fleet

    @defer.inlineCallbacks
    def start(self) -> Any:
        """Tree and fleet up; every device bootstrapped."""
        self.startTree()
        self.startFleet()
        for index in range(self.count):
            yield waitFor(self.ended(index, 1), what=f"the BOOTSTRAP session of device {index}")
        return self

    def sim(self, index: int = 0) -> Any:
        return self.fleet.devices[index]

    def name(self, index: int = 0) -> str:
        return str(self.sim(index).identity.deviceIdentity)

    def sessions(self, index: int = 0) -> list:
        return self.acs.sessionsFor(self.name(index))

    def ended(self, index: int, count: int) -> Callable[[], bool]:
        return lambda: len(self.sessions(index)) >= count and all(s.ended for s in self.sessions(index)[:count])

    def endpoint(self, index: int = 0) -> Any:
        return self.tree.cwmp.manager.endpoints[self.sim(index).identity.deviceIdentity.key]

    def device(self, index: int = 0) -> Any:
        return self.upnpdm.devices[self.sim(index).identity.deviceIdentity.key]

    def connectionRequest(self, index: int = 0) -> defer.Deferred:
        endpoint = self.endpoint(index)
        username, password = endpoint.connectionRequestCredentials()
        return self.acs.connectionRequest(self.tree.cwmp.server.url(endpoint.connectionRequestPath),
                                          username, password)

    @defer.inlineCallbacks
    def session(self, requests: Any, index: int = 0) -> Any:
        """A Connection Request and a session running C{requests}; returns the session."""
        before = len(self.sessions(index))
        self.acs.script(requests, self.name(index))
        status = yield self.connectionRequest(index)
        self.testCase.assertEqual(status, 200)
        yield waitFor(self.ended(index, before + 1), what="the session")
        return self.sessions(index)[before]


def events(session: Any) -> list[str]:
    return sorted(e.code for e in session.inform.events)


def answers(session: Any) -> list:
    return [answer for _, answer in session.responses]


def faultCode(answer: Any) -> Optional[int]:
    return answer.fault.code if isinstance(answer, m.SOAPFault) else None


class Table1Tests(unittest.TestCase):
    """TR-330 Table 1, the rows of issue 6, as the ACS sees them."""

    timeout = 120

    @defer.inlineCallbacks
    def test_bootstrapOnFirstDiscovery(self) -> None:
        """
        "0 BOOTSTRAP" when first discovered: the Virtual CWMP Device informs with the identity of its
        Common Objects, its forced-inform versions and its own Connection Request URL; the proxier's own
        model lists it in VirtualDevice.{i} (VirtualDeviceNumberOfEntries 1).
        """
        lab = yield Lab(self).start()
        [first] = lab.sessions()
        self.assertEqual(events(first), ["0 BOOTSTRAP"])
        identity = first.inform.deviceId
        self.assertEqual((identity.manufacturer, identity.oui, identity.productClass, identity.serialNumber),
                         ("proxier", "02C0DE", "SimDM", "SIM000000"))
        informed = {p.name: p for p in first.inform.parameters}
        self.assertEqual(informed["Device.DeviceInfo.SoftwareVersion"],
                         ParameterValue("Device.DeviceInfo.SoftwareVersion", "1.0.0"))
        self.assertEqual(informed["Device.DeviceInfo.HardwareVersion"].value, "HW-1")
        self.assertEqual(informed["Device.RootDataModelVersion"].value, "2.17")
        self.assertEqual(informed["Device.ManagementServer.ConnectionRequestURL"].value,
                         lab.tree.cwmp.server.url(lab.endpoint().connectionRequestPath))
        own = lab.tree.ownEndpoint.model
        values = {v.name: v.value for v in self.successResultOf(own.getParameterValues([
            "Device.ManagementServer.VirtualDeviceNumberOfEntries", "Device.ManagementServer.VirtualDevice.1."]))}
        self.assertEqual(values["Device.ManagementServer.VirtualDeviceNumberOfEntries"], "1")
        self.assertEqual(values["Device.ManagementServer.VirtualDevice.1.SerialNumber"], "SIM000000")
        self.assertEqual(values["Device.ManagementServer.VirtualDevice.1.ProxyProtocol"], "UPnP-DM")

    @defer.inlineCallbacks
    def test_rebootRPC(self) -> None:
        """
        "1 BOOT" + "M Reboot": the ACS's Reboot → BMS Reboot after the session → byebye AboutToReboot →
        alive → a session with both events and the CommandKey; offline meanwhile.
        """
        lab = yield Lab(self).start()
        session = yield lab.session([m.Reboot("reboot-1")])
        self.assertIsInstance(answers(session)[0], m.RebootResponse)
        yield waitFor(lambda: lab.sim().boots == 2, what="the device's second boot")
        yield waitFor(lab.ended(0, 3), what="the BOOT session")
        boot = lab.sessions()[2]
        self.assertEqual(events(boot), ["1 BOOT", "M Reboot"])
        self.assertEqual([e.commandKey for e in boot.inform.events if e.code == "M Reboot"], ["reboot-1"])

    @defer.inlineCallbacks
    def test_deviceRebootsByItself(self) -> None:
        """A device restart nobody asked for: "1 BOOT" alone."""
        lab = yield Lab(self).start()
        lab.sim().reboot("the user pressed the button")
        yield waitFor(lab.ended(0, 2), what="the BOOT session")
        self.assertEqual(events(lab.sessions()[1]), ["1 BOOT"])

    @defer.inlineCallbacks
    def test_factoryResetRPC(self) -> None:
        """
        "0 BOOTSTRAP" after FactoryReset: BMS BaselineReset → AboutToBaselineReset → alive → BOOTSTRAP,
        and the caches rebuilt: the instance added before is gone and numbering starts afresh.
        """
        lab = yield Lab(self).start()
        session = yield lab.session([m.AddObject("Device.Hosts.Host.", "k"), m.FactoryReset()])
        self.assertEqual(answers(session)[0], m.AddObjectResponse(3, 0))
        yield waitFor(lab.ended(0, 3), what="the BOOTSTRAP session after the reset")
        self.assertEqual(events(lab.sessions()[2]), ["0 BOOTSTRAP"])
        session = yield lab.session([m.GetParameterNames("Device.Hosts.Host.", True), m.AddObject("Device.Hosts.Host.",
                                                                                                   "k2")])
        names, added = answers(session)
        self.assertEqual([p.name for p in names.parameters], ["Device.Hosts.Host.1.", "Device.Hosts.Host.2."])
        self.assertEqual(added, m.AddObjectResponse(3, 0))

    @defer.inlineCallbacks
    def test_valueChangeActive(self) -> None:
        """
        "4 VALUE CHANGE": the ACS sets active notification; the device's own change is informed at once,
        with exactly that parameter and its new value.
        """
        lab = yield Lab(self).start()
        yield lab.session([m.SetParameterAttributes((AttributeChange("Device.Time.NTPServer1", True, 2),))])
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "ntp.lan")
        yield waitFor(lab.ended(0, 3), what="the VALUE CHANGE session")
        change = lab.sessions()[2]
        self.assertEqual(events(change), ["4 VALUE CHANGE"])
        informed = [p for p in change.inform.parameters if not p.name.startswith(("Device.ManagementServer.",
                                                                                   "Device.DeviceInfo.",
                                                                                   "Device.RootDataModelVersion"))]
        self.assertEqual(informed, [ParameterValue("Device.Time.NTPServer1", "ntp.lan")])

    @defer.inlineCallbacks
    def test_valueChangePassiveAndACSChangesLeftOut(self) -> None:
        """
        Passive notification waits for the next session; a change the ACS made itself is never reported.
        """
        lab = yield Lab(self).start()
        yield lab.session([m.SetParameterValues((ParameterValue("Device.Hosts.Host.1.HostName", "by-acs"),), "k")])
        lab.sim().cms.setLocal("/BBF/Hosts/Host/1/HostName", "by-user")
        yield sleep(1.0)
        self.assertEqual(len(lab.sessions()), 2, "passive: no session of its own")
        session = yield lab.session([])
        self.assertEqual(events(session), ["4 VALUE CHANGE", "6 CONNECTION REQUEST"])
        self.assertIn(ParameterValue("Device.Hosts.Host.2.HostName", "by-user"), session.inform.parameters)
        self.assertNotIn("Device.Hosts.Host.1.HostName", [p.name for p in session.inform.parameters])

    @defer.inlineCallbacks
    def test_lostEvent(self) -> None:
        """
        A ConfigurationUpdate NOTIFY is lost (a SEQ gap): the change it carried is still reported, with
        the next one, once the device's state is read again.
        """
        lab = yield Lab(self).start()
        yield lab.session([m.SetParameterAttributes((AttributeChange("Device.Time.NTPServer1", True, 2),
                                                     AttributeChange("Device.Hosts.Host.1.HostName", True, 2)))])
        lab.sim().publishers["cms"].loseEvents(1)
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "lost.example")
        yield sleep(0.5)
        self.assertEqual(len(lab.sessions()), 2, "nothing heard of the lost event yet")
        lab.sim().cms.setLocal("/BBF/Hosts/Host/0/HostName", "renamed")
        yield waitFor(lambda: len(lab.sessions()) >= 3 and lab.sessions()[2].ended, what="the VALUE CHANGE session")
        reported = [s for s in lab.sessions()[2:] if "4 VALUE CHANGE" in events(s)]
        values = {p.name: p.value for s in reported for p in s.inform.parameters}
        self.assertEqual(values["Device.Time.NTPServer1"], "lost.example")
        self.assertEqual(values["Device.Hosts.Host.1.HostName"], "renamed")

    @defer.inlineCallbacks
    def test_refusedEvent(self) -> None:
        """
        The callback server has no room for a NOTIFY (every slot held, none
        may wait): the connection is refused before a byte of it is read, so
        the device's state is read again and the change it carried is
        reported all the same (GENA does not send an event twice; issue 19).
        """
        from twisted.internet.protocol import ClientFactory, Protocol

        lab = yield Lab(self).start()
        yield lab.session([m.SetParameterAttributes((AttributeChange("Device.Time.NTPServer1", True, 2),))])
        callbacks = lab.controlPoint.callbacks
        site = callbacks.site
        self.patch(site, "maxConnections", 4)
        self.patch(site, "maxWaiting", 0)
        self.patch(site, "grace", 3600.0)  # the silent holders below are never pushed out
        holders: list = []
        factory = ClientFactory.forProtocol(Protocol)
        port = callbacks.listeners["127.0.0.1"].getHost().port
        for _ in range(4):
            holders.append(reactor.connectTCP("127.0.0.1", port, factory))
        self.addCleanup(lambda: [h.disconnect() for h in holders])
        yield waitFor(lambda: site.openConnections == 4, what="the callback server full")
        lost = callbacks.counts["lost"]
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "refused.example")
        yield waitFor(lambda: callbacks.counts["lost"] > lost, what="the NOTIFY refused")
        yield waitFor(lab.ended(0, 3), what="the VALUE CHANGE session")
        change = lab.sessions()[2]
        self.assertEqual(events(change), ["4 VALUE CHANGE"])
        self.assertIn(ParameterValue("Device.Time.NTPServer1", "refused.example"), change.inform.parameters)
        self.assertEqual(site.counts["refused"], callbacks.counts["lost"])

    @defer.inlineCallbacks
    def test_offlineAndOnline(self) -> None:
        """
        TR-069 J.2.3: the device leaves (byebye) → its Connection Requests are answered 503; back → 200.
        """
        lab = yield Lab(self).start()
        lab.sim().powerOff()
        yield waitFor(lambda: not lab.endpoint().online, what="the endpoint offline")
        status = yield lab.connectionRequest()
        self.assertEqual(status, 503)
        lab.sim().powerOn()
        yield waitFor(lambda: lab.endpoint().online, what="the endpoint online again")
        status = yield lab.connectionRequest()
        self.assertEqual(status, 200)
        yield waitFor(lab.ended(0, 2))

    @defer.inlineCallbacks
    def test_acsURLChanged(self) -> None:
        """Table 1 "0 BOOTSTRAP": the ACS changes the Virtual CWMP Device's ACS URL → BOOTSTRAP there."""
        lab = yield Lab(self).start()
        newURL = lab.acsURL + "/other"
        yield lab.session([m.SetParameterValues((ParameterValue("Device.ManagementServer.URL", newURL),), "k")])
        yield waitFor(lab.ended(0, 3), what="the BOOTSTRAP to the new URL")
        self.assertEqual(events(lab.sessions()[2]), ["0 BOOTSTRAP"])


def _row(code: int, expected: int) -> Callable:
    @defer.inlineCallbacks
    def test(self: Any) -> Any:
        lab = yield Lab(self).start()
        asked = []

        def script(session: Any, last: Any) -> Any:
            if asked:
                return None
            asked.append(True)
            lab.sim().cms.injectFault(code, "GetValues")  # now, not before the Inform's own reads
            return m.GetParameterValues(("Device.Time.Enable",))

        session = yield lab.session(script)
        [answer] = answers(session)
        self.assertEqual(faultCode(answer), expected)

    test.__doc__ = (f"Table 2: the device answers GetValues with UPnP error {code}; the ACS's "
                    f"GetParameterValues gets CWMP fault {expected}.")
    return test


class Table2Tests(unittest.TestCase):
    """TR-330 Table 2, one test per row (and the note's rule), through a real session."""

    timeout = 60


for _row_ in errors.TABLE_2:
    _code = _row_.low
    _expected = 9002 if _code == 606 else (_row_.fault or errors.NOT_SPECIFIED_FAULT)
    setattr(Table2Tests, f"test_row{_row_.low}" + (f"to{_row_.high}" if _row_.isRange else ""), _row(_code, _expected))
    if _row_.isRange and _row_.high != _code:
        setattr(Table2Tests, f"test_row{_row_.low}to{_row_.high}_last", _row(_row_.high, _row_.fault))
setattr(Table2Tests, "test_notSpecified707", _row(707, errors.NOT_SPECIFIED_FAULT))


class ParameterNamesTests(unittest.TestCase):
    """The GetParameterNames examples of TR-330 §4.6.2.1 and Figure 7, in one session."""

    timeout = 60

    @defer.inlineCallbacks
    def test_examples(self) -> None:
        """
        A parameter; a single-instance object (NextLevel true); a multi-instance object (NextLevel true);
        an object with NextLevel false; the root with the proxier-held objects inserted (Figure 7).
        """
        lab = yield Lab(self).start()
        session = yield lab.session([
            m.GetParameterNames("Device.Hosts.Host.1.IPAddress", False),
            m.GetParameterNames("Device.Hosts.", True),
            m.GetParameterNames("Device.Hosts.Host.", True),
            m.GetParameterNames("Device.Hosts.", False),
            m.GetParameterNames("Device.", False),
            m.GetParameterNames("", True),
        ])
        parameter, single, multi, subtree, root, top = [a.parameters for a in answers(session)]
        self.assertEqual([(p.name, p.writable) for p in parameter], [("Device.Hosts.Host.1.IPAddress", True)])
        self.assertEqual([(p.name, p.writable) for p in single],
                         [("Device.Hosts.HostNumberOfEntries", False), ("Device.Hosts.Host.", True)])
        self.assertEqual([p.name for p in multi], ["Device.Hosts.Host.1.", "Device.Hosts.Host.2."])
        self.assertEqual(len(subtree), 17)
        names = [p.name for p in root]
        for inserted in ["Device.ManagementServer.", "Device.ManagementServer.ConnectionRequestURL",
                         "Device.DeviceInfo.ProxierInfo.", "Device.DeviceInfo.ProxierInfo.ProxyProtocol"]:
            self.assertIn(inserted, names)
        self.assertIn("Device.Hosts.Host.2.Active", names)
        self.assertLess(names.index("Device.DeviceInfo.SerialNumber"), names.index("Device.DeviceInfo.ProxierInfo."))
        self.assertEqual([p.name for p in top], ["Device."])


class StatusTests(unittest.TestCase):
    """The Status of SetParameterValues, AddObject and DeleteObject (§4.6.4.1 and its note), and SPA."""

    timeout = 60

    @defer.inlineCallbacks
    def test_statusMappings(self) -> None:
        """ChangesApplied → 0 and ChangesCommitted → 1 for each write; SetParameterAttributes answered either way."""
        lab = yield Lab(self).start()
        for status, expected in ((CHANGES_APPLIED, 0), (CHANGES_COMMITTED, 1)):
            lab.sim().cms.changeStatus = status
            session = yield lab.session([
                m.SetParameterValues((ParameterValue("Device.Time.NTPServer2", f"s{expected}"),), "k"),
                m.AddObject("Device.Hosts.Host.", "k"),
                m.SetParameterAttributes((AttributeChange("Device.Time.NTPServer2", True, 1),)),
            ])
            spv, add, spa = answers(session)
            self.assertEqual(spv, m.SetParameterValuesResponse(expected))
            self.assertEqual(add.status, expected)
            self.assertIsInstance(spa, m.SetParameterAttributesResponse)
            session = yield lab.session([m.DeleteObject(f"Device.Hosts.Host.{add.instanceNumber}.", "k")])
            self.assertEqual(answers(session), [m.DeleteObjectResponse(expected)])


class RestartTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_proxierRestart(self) -> None:
        """
        The proxier restarts on its state: no second BOOTSTRAP, the instance numbers it gave are kept, a
        change the device made meanwhile is reported, and an event the ACS had not taken is delivered.
        """
        lab = yield Lab(self).start()
        session = yield lab.session([m.AddObject("Device.Hosts.Host.", "k"),
                                     m.DeleteObject("Device.Hosts.Host.1.", "k"),
                                     m.SetParameterAttributes((AttributeChange("Device.Time.NTPServer1", True, 2),))])
        self.assertEqual(answers(session), [m.AddObjectResponse(3, 0), m.DeleteObjectResponse(0),
                                            m.SetParameterAttributesResponse()])
        yield lab.tree.stopService()
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "changed-while-down")
        lab.startTree()
        yield waitFor(lambda: len(lab.sessions()) >= 3, what="the session with the change made meanwhile")
        yield waitFor(lab.ended(0, 3))
        after = lab.sessions()[2]
        self.assertEqual(events(after), ["4 VALUE CHANGE"])
        changed = [p for p in after.inform.parameters if p.name.startswith(("Device.Time.", "Device.Hosts."))]
        self.assertEqual(changed, [ParameterValue("Device.Time.NTPServer1", "changed-while-down")])
        session = yield lab.session([m.GetParameterNames("Device.Hosts.Host.", True)])
        self.assertEqual([p.name for p in answers(session)[0].parameters],
                         ["Device.Hosts.Host.2.", "Device.Hosts.Host.3."])
        self.assertNotIn("0 BOOTSTRAP", [e for s in lab.sessions()[1:] for e in events(s)])

    @defer.inlineCallbacks
    def test_pendingEventDelivered(self) -> None:
        """A value change the ACS could not take before the restart is informed after it."""
        lab = yield Lab(self).start()
        lab.acs.unavailable = (503, 60)
        lab.device().state.baselines.setAttributes("Device.Time.NTPServer1", 2)
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "pending")
        yield waitFor(lambda: len(lab.acs.rawRequests) >= 3, what="the refused Inform")
        yield lab.tree.stopService()
        lab.acs.unavailable = None
        lab.startTree()
        yield waitFor(lambda: any("4 VALUE CHANGE" in events(s) for s in lab.sessions()[1:]),
                      what="the pending VALUE CHANGE")
        delivered = [s for s in lab.sessions()[1:] if "4 VALUE CHANGE" in events(s)][0]
        self.assertIn(ParameterValue("Device.Time.NTPServer1", "pending"), delivered.inform.parameters)
        self.assertNotIn("0 BOOTSTRAP", events(delivered))


class IsolationTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_tenDevicesOneHung(self) -> None:
        """
        Ten devices; one hangs. All ten are asked at once: the nine answer and end their sessions while
        the hung one still waits, and the hung one answers the ACS with 9002 inside its session (the ACS,
        GenieACS-like, drops a session idle past its timeout: it was not dropped).
        """
        lab = Lab(self, count=10, genieacs=True)
        lab.sessionTimeout = 6
        lab.actionTimeout = 4
        yield lab.start()
        lab.sim(9).actionDelay = 120.0
        for index in range(10):
            lab.acs.script([m.GetParameterValues(("Device.Time.", "Device.DeviceInfo.SerialNumber"))], lab.name(index))
        statuses = yield defer.gatherResults([lab.connectionRequest(i) for i in range(10)])
        self.assertEqual(statuses, [200] * 10)
        yield waitFor(lambda: all(lab.ended(i, 2)() for i in range(9)), what="the nine sessions")
        hung = lab.sessions(9)
        self.assertFalse(len(hung) >= 2 and hung[1].ended, "the hung device's session ended before the others")
        for index in range(9):
            [answer] = answers(lab.sessions(index)[1])
            self.assertIsInstance(answer, m.GetParameterValuesResponse)
        yield waitFor(lab.ended(9, 2), what="the hung device's session")
        session = lab.sessions(9)[1]
        self.assertTrue(session.ok)
        self.assertEqual([faultCode(a) for a in answers(session)], [9002])
