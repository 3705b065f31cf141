"""
UPnP DM devices through the Embedded Object Mechanism (TR-069 Annex J.3,
L{proxier.upnpdm.embedded}): the whole service tree with C{[upnp]
mechanism} set, simulated UPnP DM devices (L{proxier.sim.fleet.Fleet}) and
the fake ACS on loopback, as L{tests.test_upnpdm_e2e} runs them — every
CWMP message validated against the BBF schema. Each device is a
C{Device.X_000000_UPnPDM.{i}.} row of the proxier's own tree and a
C{Device.ManagementServer.EmbeddedDevice.{i}.} row; the mapping tests of
its Virtual CWMP Device have their counterparts here, through the row.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet import defer
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.proxy.embeddedobjects import SUCCESS
from proxier.upnpdm.embedded import DATA_MODEL, CMSCopy, EmbeddedCMS, tableOf
from tests import tr181
from tests.test_upnpdm_e2e import Lab, answers, events, faultCode, waitFor

TABLE = tableOf("000000")
ROW = TABLE + "1."
EMBEDDED = "Device.ManagementServer.EmbeddedDevice.1."
NTP = ROW + "Time.NTPServer1"


class EmbeddedLab(Lab):
    """The UPnP DM lab with C{[upnp] mechanism} set; sessions of the proxier's own endpoint."""

    def __init__(self, testCase: unittest.TestCase, mechanism: str, count: int = 1) -> None:
        super().__init__(testCase, count)
        self.mechanism = mechanism
        self.upnpOptions = {"mechanism": mechanism}

    @defer.inlineCallbacks
    def start(self) -> Any:
        """Tree and fleet up; the proxier bootstrapped, each device a row (and a Virtual CWMP Device with both)."""
        self.startTree()
        self.startFleet()
        yield waitFor(self.ownEnded(1), what="the proxier's BOOTSTRAP session")
        yield waitFor(lambda: len(self.objects().rows) == self.count, what="the rows")
        for index in range(self.count):
            [follower] = self.device(index).followers
            yield waitFor(lambda: follower.watcher.swept and follower.watcher.state_ == "idle" and follower.copy.held,
                          what=f"the row's model of device {index} learnt, its copy read")
        if self.mechanism == "both":
            for index in range(self.count):
                yield waitFor(self.ended(index, 1), what=f"the BOOTSTRAP session of device {index}")
        return self

    def objects(self) -> Any:
        return self.tree.ownEndpoint.model.embeddedObjects

    def own(self) -> str:
        return str(self.tree.identity)

    def ownSessions(self) -> list:
        return self.acs.sessionsFor(self.own())

    def ownEnded(self, count: int) -> Callable[[], bool]:
        return lambda: len(self.ownSessions()) >= count and all(s.ended for s in self.ownSessions()[:count])

    @defer.inlineCallbacks
    def ownSession(self, requests: Any) -> Any:
        """A Connection Request to the proxier's own endpoint and a session running C{requests}."""
        before = len(self.ownSessions())
        self.acs.script(requests, self.own())
        endpoint = self.tree.ownEndpoint
        username, password = endpoint.connectionRequestCredentials()
        status = yield self.acs.connectionRequest(self.tree.cwmp.server.url(endpoint.connectionRequestPath),
                                                  username, password)
        self.testCase.assertEqual(status, 200)
        yield waitFor(self.ownEnded(before + 1), what="the proxier's session")
        return self.ownSessions()[before]

    def values(self, session: Any) -> dict[str, str]:
        return {p.name: p.value for answer in answers(session) if isinstance(answer, m.GetParameterValuesResponse)
                for p in answer.parameters}


class RowTests(unittest.TestCase):
    """mechanism = embedded: the device is rows of the proxier's own tree, never a Virtual CWMP Device."""

    timeout = 90

    @defer.inlineCallbacks
    def test_rows(self) -> Any:
        """
        The EmbeddedDevice row (Reference, ProxiedDeviceID, ProxyProtocol,
        DiscoveryProtocol, Host, SupportedDataModel declared by the
        proxier), the vendor table's count, the device's CMS tree in its row
        (DeviceInfo., its other objects, no ManagementServer.), no endpoint
        and no VirtualDevice row; the device's tree learnt once, by the
        row's model (its Virtual CWMP Device's unused model never sweeps).
        """
        lab = yield EmbeddedLab(self, "embedded").start()
        key = lab.sim().identity.deviceIdentity.key
        self.assertNotIn(key, lab.tree.cwmp.manager.endpoints)
        [follower] = lab.device().followers
        self.assertEqual((lab.device().watcher.counts["sweeps"], follower.watcher.counts["sweeps"]), (0, 1))
        self.assertEqual(lab.sessions(), [])
        session = yield lab.ownSession([
            m.GetParameterValues(("Device.ManagementServer.", "Device.X_000000_UPnPDMNumberOfEntries",
                                  "Device.DeviceInfo.SupportedDataModel.", ROW + "DeviceInfo.SerialNumber")),
            m.GetParameterNames(ROW, True),
            m.GetParameterNames("Device.", True),
            m.GetParameterNames(ROW, False),
        ])
        values = lab.values(session)
        _, row, top, everything = answers(session)
        self.assertEqual(values["Device.ManagementServer.VirtualDeviceNumberOfEntries"], "0")
        self.assertEqual(values["Device.ManagementServer.EmbeddedDeviceNumberOfEntries"], "1")
        self.assertEqual(values["Device.X_000000_UPnPDMNumberOfEntries"], "1")
        self.assertEqual(values[EMBEDDED + "Reference"], ROW[:-1])
        self.assertEqual(values[EMBEDDED + "ProxiedDeviceID"], key)
        self.assertEqual(values[EMBEDDED + "ProxyProtocol"], "UPnP-DM")
        self.assertEqual(values[EMBEDDED + "DiscoveryProtocol"], "UPnP")
        self.assertEqual(values[EMBEDDED + "Host"], "")  # references to Device.Hosts.Host rows: the proxier has none
        self.assertEqual(values[EMBEDDED + "CommandProcessed"], "Success")
        self.assertNotEqual(values[EMBEDDED + "LastSyncTime"], "0001-01-01T00:00:00Z")
        [reference] = values[EMBEDDED + "SupportedDataModel"].split(",")
        self.assertEqual(values[reference + ".URN"], DATA_MODEL[0])
        self.assertEqual(values[ROW + "DeviceInfo.SerialNumber"], "SIM000000")
        names = {p.name for p in row.parameters}
        self.assertIn(ROW + "DeviceInfo.", names)
        self.assertIn(ROW + "Time.", names)
        self.assertIn(ROW + "Hosts.", names)
        self.assertNotIn(ROW + "ManagementServer.", names)
        everything = {p.name for p in everything.parameters}
        self.assertIn(ROW + "Hosts.Host.2.IPAddress", everything)
        held = ["DeviceInfo.ProxierInfo."] + [path[len("Device."):] for path, _ in lab.device().overlays]
        self.assertGreater(len(held), 1)  # the diagnostics objects the proxier holds for its Virtual CWMP Device
        self.assertEqual([n for n in everything if n[len(ROW):].startswith(tuple(held))], [])
        self.assertNotIn(ROW + "DeviceInfo.VendorLogFileNumberOfEntries", everything)  # nor what counts them
        self.assertIn(ROW + "DeviceInfo.SupportedDataModelNumberOfEntries", everything)
        self.assertIn(TABLE, {p.name for p in top.parameters})

    @defer.inlineCallbacks
    def test_namesAndValues(self) -> Any:
        """The GetParameterNames examples of TR-330 §4.6.2.1 through the row, writable as the CMS says."""
        lab = yield EmbeddedLab(self, "embedded").start()
        session = yield lab.ownSession([
            m.GetParameterNames(ROW + "Hosts.Host.1.IPAddress", False),
            m.GetParameterNames(ROW + "Hosts.", True),
            m.GetParameterNames(ROW + "Hosts.Host.", True),
            m.GetParameterNames(ROW + "Hosts.", False),
            m.GetParameterValues((ROW + "Hosts.HostNumberOfEntries", ROW + "Hosts.Host.2.")),
        ])
        parameter, single, multi, subtree, read = answers(session)
        self.assertEqual([(p.name, p.writable) for p in parameter.parameters], [(ROW + "Hosts.Host.1.IPAddress", True)])
        self.assertEqual([(p.name, p.writable) for p in single.parameters],
                         [(ROW + "Hosts.HostNumberOfEntries", False), (ROW + "Hosts.Host.", True)])
        self.assertEqual([p.name for p in multi.parameters], [ROW + "Hosts.Host.1.", ROW + "Hosts.Host.2."])
        self.assertEqual(len(subtree.parameters), 17)
        values = {p.name: p.value for p in read.parameters}
        self.assertEqual(values[ROW + "Hosts.HostNumberOfEntries"], "2")
        self.assertTrue(all(name.startswith(ROW + "Hosts.Host.2.") for name in values if "NumberOf" not in name))

    @defer.inlineCallbacks
    def test_writes(self) -> Any:
        """
        SetParameterValues through the row: Status 1, read back, on the
        device once pushed, CommandProcessed Success; a bad value 9007, a
        read-only parameter 9008 and an unknown one 9005 at once, the device
        untouched; AddObject/DeleteObject of the device's table with its
        numbers; SetParameterAttributes then GetParameterAttributes.
        """
        lab = yield EmbeddedLab(self, "embedded").start()
        ntp2 = ROW + "Time.NTPServer2"
        session = yield lab.ownSession([
            m.SetParameterValues((ParameterValue(ntp2, "ntp.example"),), "k1"),
            m.GetParameterValues((ntp2,)),
            m.SetParameterValues((ParameterValue(ROW + "Time.Enable", "maybe"),), "k2"),
            m.SetParameterValues((ParameterValue(ROW + "Hosts.HostNumberOfEntries", "5"),), "k3"),
            m.SetParameterValues((ParameterValue(ROW + "Time.NoSuchThing", "1"),), "k4"),
            m.AddObject(ROW + "Hosts.Host.", "k5"),
            m.SetParameterAttributes((AttributeChange(NTP, True, 2),)),
            m.GetParameterAttributes((NTP,)),
        ])
        spv, read, bad, readOnly, unknown, add, spa, gpa = answers(session)
        self.assertEqual(spv, m.SetParameterValuesResponse(1))
        self.assertEqual([p.value for p in read.parameters], ["ntp.example"])
        for answer, name, code in ((bad, ROW + "Time.Enable", 9007),
                                   (readOnly, ROW + "Hosts.HostNumberOfEntries", 9008),
                                   (unknown, ROW + "Time.NoSuchThing", 9005)):
            self.assertEqual(faultCode(answer), 9003)
            self.assertEqual([(f.parameterName, f.faultCode) for f in answer.fault.parameterFaults], [(name, code)])
        self.assertEqual(add, m.AddObjectResponse(3, 0))
        self.assertIsInstance(spa, m.SetParameterAttributesResponse)
        self.assertEqual([(p.name, p.notification) for p in gpa.parameters], [(NTP, 2)])
        [row] = lab.objects().rows.values()
        yield waitFor(lambda: row.synced.state == SUCCESS, what="the push")
        self.assertEqual(lab.sim().cms.model.value("/BBF/Time/NTPServer2"), "ntp.example")
        [follower] = lab.device().followers
        self.assertEqual(follower.copy.values["Device.Time.NTPServer2"].value, "ntp.example")  # the push's
        asked = dict(lab.device().gate.counts)
        failure = yield self.assertFailure(row.synced.validateParameterValues([
            ParameterValue("Device.Time.NTPServer2", "ntp.other"), ParameterValue("Device.Time.Nothing", "1")]),
            CWMPFault)
        self.assertEqual([(f.parameterName, f.faultCode) for f in failure.parameterFaults],
                         [("Device.Time.Nothing", 9005)])
        self.assertEqual(lab.device().gate.counts, asked)  # the learnt schema and the copy: the device not asked
        self.assertEqual(lab.sim().cms.model.value("/BBF/Time/Enable"), "1")
        session = yield lab.ownSession([m.DeleteObject(ROW + "Hosts.Host.3.", "k6"),
                                        m.GetParameterNames(ROW + "Hosts.Host.", True),
                                        m.DeleteObject(ROW, "k7")])
        delete, names, refused = answers(session)
        self.assertEqual(delete, m.DeleteObjectResponse(0))
        self.assertEqual([p.name for p in names.parameters], [ROW + "Hosts.Host.1.", ROW + "Hosts.Host.2."])
        self.assertEqual(faultCode(refused), 9001)

    @defer.inlineCallbacks
    def test_valueChange(self) -> Any:
        """Active notification set through the row: the device's own change is "4 VALUE CHANGE" of the proxier."""
        lab = yield EmbeddedLab(self, "embedded").start()
        yield lab.ownSession([m.SetParameterAttributes((AttributeChange(NTP, True, 2),))])
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "ntp.lan")
        yield waitFor(lab.ownEnded(3), what="the VALUE CHANGE session")
        change = lab.ownSessions()[2]
        self.assertEqual(events(change), ["4 VALUE CHANGE"])
        self.assertIn(ParameterValue(NTP, "ntp.lan"), change.inform.parameters)
        self.assertEqual([p.name for p in change.inform.parameters if p.name.startswith(TABLE)], [NTP])
        asked = dict(lab.device().gate.counts)
        values = yield lab.tree.ownEndpoint.model.getParameterValues([NTP])
        self.assertEqual([v.value for v in values], ["ntp.lan"])  # the change is in the copy,
        self.assertEqual(lab.device().gate.counts, asked)  # which answered without the device

    @defer.inlineCallbacks
    def test_offlineRetryingThenSuccess(self) -> Any:
        """
        The device gone: its row still answers GetParameterNames, Values and
        Attributes from the proxier's copy, LastSyncTime the time of its last
        reading; a value set is accepted and waits (Retrying); back, it is
        pushed (Success) and the copy has it.
        """
        lab = yield EmbeddedLab(self, "embedded").start()
        device = lab.device()
        serial = ROW + "DeviceInfo.SerialNumber"
        session = yield lab.ownSession([m.GetParameterValues((EMBEDDED + "LastSyncTime", ROW + "Time."))])
        before = lab.values(session)
        self.assertNotEqual(before[EMBEDDED + "LastSyncTime"], "0001-01-01T00:00:00Z")
        lab.sim().powerOff()
        yield waitFor(lambda: not device.online, what="the device offline")
        session = yield lab.ownSession([
            m.SetParameterValues((ParameterValue(NTP, "later.example"),), "k"),
            m.SetParameterValues((ParameterValue(ROW + "Time.Enable", "maybe"),), "k2"),
            m.SetParameterValues((ParameterValue(ROW + "Time.NoSuchThing", "1"), ParameterValue(NTP, "x")), "k3"),
        ])
        accepted, bad, unknown = answers(session)  # checked against what the proxier learnt: no device needed
        self.assertEqual(accepted, m.SetParameterValuesResponse(1))
        for answer, name, code in ((bad, ROW + "Time.Enable", 9007), (unknown, ROW + "Time.NoSuchThing", 9005)):
            self.assertEqual(faultCode(answer), 9003)
            self.assertEqual([(f.parameterName, f.faultCode) for f in answer.fault.parameterFaults], [(name, code)])
        session = yield lab.ownSession([m.GetParameterValues((EMBEDDED + "CommandProcessed",
                                                              EMBEDDED + "LastSyncTime", ROW + "Time.", serial)),
                                        m.GetParameterNames(ROW + "Time.", True),
                                        m.GetParameterAttributes((NTP,)),
                                        m.GetParameterValues((ROW + "Time.NoSuchThing",))])
        values = lab.values(session)
        self.assertEqual((values[EMBEDDED + "CommandProcessed"], values[EMBEDDED + "LastSyncTime"]),
                         ("Retrying", before[EMBEDDED + "LastSyncTime"]))
        self.assertEqual({n: v for n, v in values.items() if n.startswith(ROW + "Time.")},
                         {n: "later.example" if n == NTP else v for n, v in before.items() if n.startswith(ROW)})
        self.assertEqual(values[serial], "SIM000000")
        _, names, attributes, unknown = answers(session)
        self.assertIn(NTP, [p.name for p in names.parameters])
        self.assertEqual([p.name for p in attributes.parameters], [NTP])
        self.assertEqual(faultCode(unknown), 9005)
        lab.sim().powerOn()
        [row] = lab.objects().rows.values()
        yield waitFor(lambda: row.synced.state == SUCCESS, what="the push")
        self.assertEqual(lab.sim().cms.model.value("/BBF/Time/NTPServer1"), "later.example")
        [follower] = device.followers
        self.assertEqual(follower.copy.values["Device.Time.NTPServer1"].value, "later.example")  # the push's
        session = yield lab.ownSession([m.GetParameterValues((EMBEDDED + "CommandProcessed",
                                                              EMBEDDED + "CommandProcessingErrMsg", NTP))])
        self.assertEqual(lab.values(session), {EMBEDDED + "CommandProcessed": "Success",
                                               EMBEDDED + "CommandProcessingErrMsg": "", NTP: "later.example"})

    @defer.inlineCallbacks
    def test_heldAcrossAStop(self) -> Any:
        """
        A push the tree's stop cut off (a slow device): no retry is left
        waiting on a timer and the value stays on disk; the proxier started
        again pushes it.
        """
        from twisted.internet import reactor

        lab = yield EmbeddedLab(self, "embedded").start()
        lab.sim().actionDelay = 1.0
        yield lab.ownSession([m.SetParameterValues((ParameterValue(NTP, "kept.example"),), "k")])
        [row] = lab.objects().rows.values()
        yield waitFor(lambda: row.synced._inFlight, what="the push on its way")
        objects = lab.objects()
        yield lab.tree.stopService()
        self.assertEqual([c for c in reactor.getDelayedCalls() if getattr(c.func, "__self__", None) is row.synced], [])
        self.assertEqual([name for name, *_ in objects.store.document("pending-" + lab.device().key).load()],
                         ["Device.Time.NTPServer1"])
        lab.sim().actionDelay = 0.0
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "meanwhile")
        lab.startTree()
        yield waitFor(lambda: len(lab.objects().rows) == 1, what="the row again")
        [row] = lab.objects().rows.values()
        yield waitFor(lambda: row.synced.state == SUCCESS and not row.synced._pending, what="the push after the start")
        self.assertEqual(lab.sim().cms.model.value("/BBF/Time/NTPServer1"), "kept.example")

    @defer.inlineCallbacks
    def test_removed(self) -> Any:
        """The device no longer proxied: both rows go; back, the same numbers."""
        lab = yield EmbeddedLab(self, "embedded").start()
        device = lab.device()
        lab.tree.directory.deviceRemoved(device)
        own = lab.tree.ownEndpoint.model
        values = yield own.getParameterValues(["Device.ManagementServer.EmbeddedDeviceNumberOfEntries",
                                               "Device.X_000000_UPnPDMNumberOfEntries"])
        self.assertEqual({v.value for v in values}, {"0"})
        failure = yield self.assertFailure(own.getParameterValues([NTP]), CWMPFault)
        self.assertEqual(failure.code, 9005)
        observers = list(device.gate.observers)
        lab.tree.directory.deviceAppeared(device)
        values = yield own.getParameterValues([EMBEDDED + "Reference"])
        self.assertEqual([v.value for v in values], [ROW[:-1]])
        self.assertEqual(device.gate.observers, observers)  # its embedded objects made once

    @defer.inlineCallbacks
    def test_deviceRPCsRefused(self) -> Any:
        """
        Reboot, FactoryReset, Download and Upload name no object: they are
        the proxier's own (TR-069 Annex J.3), never the device's — its row
        refuses them (9000) and the device is never asked.
        """
        lab = yield EmbeddedLab(self, "embedded").start()
        [row] = lab.objects().rows.values()
        asked = dict(lab.device().gate.counts)
        model = row.objects.model
        for call in (lambda: model.reboot("k"), model.factoryReset, lambda: model.download(None),
                     lambda: model.upload(None), lambda: row.synced.reboot("k")):
            failure = yield self.assertFailure(call(), CWMPFault)
            self.assertEqual(failure.code, 9000)
        self.assertEqual(lab.device().gate.counts, asked)


class CopyTests(unittest.TestCase):
    """L{CMSCopy} sans-IO, over a plain tree as the row's model: its answers are the model's."""

    def setUp(self) -> None:
        from twisted.internet.task import Clock

        from proxier.datamodel.declarations import Object, Parameter, Table
        from proxier.datamodel.tree import TreeDataModel
        from proxier.datamodel.types import Boolean, String
        from proxier.store import Store

        root = Object("Device", Object("Time", Parameter("Enable", Boolean(), writable=True, value=True),
                                       Parameter("NTPServer1", String(64), writable=True, value="pool")),
                      Object("Hosts", Table("Host", Parameter("IPAddress", String(45)))))
        self.model = TreeDataModel(root, Store.open(self.mktemp()))
        self.model.addInstance("Device.Hosts.Host.", key="a", values={"IPAddress": "10.0.0.1"})
        self.clock = Clock()
        self.clock.advance(100)
        self.copy = CMSCopy(self.model, self.clock)

    def same(self, method: str, *args: Any) -> None:
        asked = {"getParameterNames": "getParameterNames", "read": "getParameterValues"}[method]
        self.assertEqual(getattr(self.copy, method)(*args), self.successResultOf(getattr(self.model, asked)(*args)))

    def test_answersAsTheModel(self) -> None:
        """Names (a subtree, a level, a table, a parameter), values and attributes; 9005 for what is not there."""
        self.assertFalse(self.copy.covers(["Device."]))
        self.successResultOf(self.copy.refresh())
        self.assertEqual((self.copy.held, self.copy.at), (True, 100))
        for path, nextLevel in (("Device.", False), ("Device.", True), ("Device.Hosts.Host.", True),
                                ("Device.Time.NTPServer1", False), ("Device.Hosts.", False)):
            self.same("getParameterNames", path, nextLevel)
        self.same("read", ["Device.Time.", "Device.Hosts.Host.1.IPAddress"])
        self.assertEqual(self.copy.read(["Device.Time."], True),
                         self.successResultOf(self.model.getParameterAttributes(["Device.Time."])))
        for call in (lambda: self.copy.read(["Device.Time.Nothing"]), lambda: self.copy.read(["Device.Nothing."]),
                     lambda: self.copy.getParameterNames("Device.Hosts.Host.2.", True)):
            self.assertEqual(self.assertRaises(CWMPFault, call).code, 9005)
        self.assertFalse(self.copy.covers(["Device.Hosts.Host.[a]."]))  # an alias: the model resolves it

    def test_keptUpToDate(self) -> None:
        """
        An object read again is spliced in (a new row and its count), a change
        taken; LastSyncTime only moves with a whole reading.
        """
        self.successResultOf(self.copy.refresh())
        self.model.addInstance("Device.Hosts.Host.", key="b", values={"IPAddress": "10.0.0.2"})
        self.clock.advance(5)
        self.successResultOf(self.copy.refresh("Device.Hosts."))
        self.same("getParameterNames", "Device.", False)
        self.same("read", ["Device."])
        self.assertEqual(self.copy.at, 100)
        self.copy.changed([ParameterValue("Device.Time.NTPServer1", "lan", "xsd:string"),
                           ParameterValue("Device.Time.NotCopied", "x", "xsd:string")])
        self.assertEqual(self.copy.read(["Device.Time.NTPServer1"]),
                         [ParameterValue("Device.Time.NTPServer1", "lan", "xsd:string")])
        self.model.setLocal("Device.Time.NTPServer1", "pushed")
        self.assertTrue(self.successResultOf(self.copy.reread(["Device.Time.NTPServer1"])))
        self.same("read", ["Device."])
        self.successResultOf(self.copy.refresh())
        self.assertEqual(self.copy.at, 105)

    def test_readingOvertakenByAWrite(self) -> None:
        """
        A reading that a write reached the device during (its values read
        before it) is read again, not taken: the copy never holds the value
        the write replaced (a faster device made it a race the tests lost).
        """
        from twisted.internet import defer

        model, gates = self.model, [defer.Deferred()]

        class Slowed:
            """The model, its first attributes answered once the gate opens."""

            getParameterNames = model.getParameterNames
            getParameterValues = model.getParameterValues

            def getParameterAttributes(self, names: Any) -> defer.Deferred:
                return gates.pop().addCallback(lambda _: model.getParameterAttributes(names)) if gates else \
                    model.getParameterAttributes(names)

        copy, gate = CMSCopy(Slowed(), self.clock), gates[0]
        reading = copy.refresh()
        self.model.setLocal("Device.Time.NTPServer1", "pushed")
        self.assertFalse(self.successResultOf(copy.reread(["Device.Time.NTPServer1"])))  # not held yet
        gate.callback(None)
        self.successResultOf(reading)
        self.assertEqual([v.value for v in copy.read(["Device.Time.NTPServer1"])], ["pushed"])

    def test_bounded(self) -> None:
        """A tree larger than the copy's limit is not copied: its reads are the model's."""
        copy = CMSCopy(self.model, self.clock, limit=5)
        self.successResultOf(copy.refresh())
        self.assertFalse(copy.covers(["Device."]))
        self.assertEqual((copy.names, copy.values, copy.at), (None, {}, None))


class MechanismTests(unittest.TestCase):
    timeout = 90

    def test_attributesChecked(self) -> None:
        """What a SetParameterAttributes needs no device to refuse is refused before any row changes (9003)."""
        model = EmbeddedCMS(None)  # type: ignore[arg-type]
        for change in (AttributeChange(NTP, True, 3), AttributeChange(NTP, False, 0, True, ("Subscriber",)),
                       AttributeChange(NTP, False, 0, True, ())):
            self.assertEqual(self.failureResultOf(model.validateParameterAttributes([change]), CWMPFault).value.code,
                             9003)
        self.assertIsNone(self.successResultOf(model.validateParameterAttributes([
            AttributeChange(NTP, True, 2), AttributeChange(NTP + "X", True, 0)])))

    @defer.inlineCallbacks
    def test_both(self) -> Any:
        """
        mechanism = both: the device bootstraps as a Virtual CWMP Device
        and is a row; Notification set on the row is the row's alone, and a
        change reaches the proxier's endpoint with the row's name.
        """
        lab = yield EmbeddedLab(self, "both").start()
        self.assertGreater(lab.device().watcher.counts["sweeps"], 0)  # its Virtual CWMP Device's model learnt too
        yield lab.ownSession([m.SetParameterAttributes((AttributeChange(NTP, True, 2),))])
        session = yield lab.session([m.GetParameterAttributes(("Device.Time.NTPServer1",))])
        [attributes] = answers(session)
        self.assertNotEqual(attributes.parameters[0].notification, 2)
        session = yield lab.ownSession([m.GetParameterValues(("Device.ManagementServer.VirtualDeviceNumberOfEntries",
                                                              "Device.ManagementServer.EmbeddedDeviceNumberOfEntries",
                                                              ROW + "DeviceInfo.SerialNumber"))])
        self.assertEqual(set(lab.values(session).values()), {"1", "SIM000000"})
        sessions = len(lab.ownSessions())
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "both.lan")
        yield waitFor(lab.ownEnded(sessions + 1), what="the VALUE CHANGE session")
        change = lab.ownSessions()[sessions]
        self.assertEqual(events(change), ["4 VALUE CHANGE"])
        self.assertIn(ParameterValue(NTP, "both.lan"), change.inform.parameters)

    @defer.inlineCallbacks
    def test_bothAfterReboot(self) -> Any:
        """
        mechanism = both, the device restarts by itself: its Virtual CWMP
        Device informs "1 BOOT"; the row's own model learns it again and
        still reports the change of a parameter it watches.
        """
        lab = yield EmbeddedLab(self, "both").start()
        yield lab.ownSession([m.SetParameterAttributes((AttributeChange(NTP, True, 2),))])
        lab.sim().reboot("the user pressed the button")
        yield waitFor(lab.ended(0, 2), what="the BOOT session")
        self.assertEqual(events(lab.sessions()[1]), ["1 BOOT"])
        [follower] = lab.device().followers
        yield waitFor(lambda: follower.watcher.swept and follower.watcher.state_ == "idle", what="the row's sweep")
        sessions = len(lab.ownSessions())
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "after.reboot")
        yield waitFor(lab.ownEnded(sessions + 1), what="the VALUE CHANGE session")
        self.assertIn(ParameterValue(NTP, "after.reboot"), lab.ownSessions()[sessions].inform.parameters)

    @defer.inlineCallbacks
    def test_restartKeepsTheRowsOwnState(self) -> Any:
        """
        mechanism = both, the proxier restarts: the row's number, its
        Notification and its baselines are its own and kept (a change made
        meanwhile is "4 VALUE CHANGE" of the proxier with the row's name),
        the Virtual CWMP Device's Notification untouched by them.
        """
        lab = yield EmbeddedLab(self, "both").start()
        yield lab.ownSession([m.SetParameterAttributes((AttributeChange(NTP, True, 2),))])
        yield lab.tree.stopService()
        lab.sim().cms.setLocal("/BBF/Time/NTPServer1", "changed-while-down")
        sessions = len(lab.ownSessions())
        lab.startTree()

        def reported() -> bool:
            return any(ParameterValue(NTP, "changed-while-down") in s.inform.parameters
                       for s in lab.ownSessions()[sessions:] if s.ended)

        yield waitFor(reported, what="the change made meanwhile, reported to the proxier's endpoint")
        session = yield lab.ownSession([m.GetParameterAttributes((NTP,)),
                                        m.GetParameterValues((EMBEDDED + "Reference",))])
        attributes, reference = answers(session)
        self.assertEqual([p.notification for p in attributes.parameters], [2])
        self.assertEqual([p.value for p in reference.parameters], [ROW[:-1]])
        yield waitFor(lambda: lab.device().key in lab.tree.cwmp.manager.endpoints, what="the Virtual CWMP Device")
        session = yield lab.session([m.GetParameterAttributes(("Device.Time.NTPServer1",))])
        self.assertNotEqual(answers(session)[0].parameters[0].notification, 2)

    @defer.inlineCallbacks
    def test_virtual(self) -> Any:
        """mechanism = virtual (the default): a Virtual CWMP Device, no vendor table, no EmbeddedDevice table."""
        lab = yield Lab(self).start()
        session = yield lab.session([m.GetParameterNames("Device.", True)])
        self.assertIn("Device.ManagementServer.", {p.name for p in answers(session)[0].parameters})
        names = yield lab.tree.ownEndpoint.model.getParameterNames("Device.", False)
        names = {i.name for i in names}
        self.assertIn("Device.ManagementServer.VirtualDevice.1.", names)
        self.assertFalse([n for n in names if "EmbeddedDevice" in n or "X_000000_UPnPDM" in n])


class OwnTreeTR181Tests(tr181.ConformanceChecks, unittest.TestCase):
    """The own tree with a UPnP DM row: every standard name, type and access TR-181 2.17's."""

    timeout = 90

    def setUp(self) -> None:
        if not tr181.available():
            raise unittest.SkipTest(f"{tr181.TR181_FULL} is not here")
        self.standard = tr181.load()

    def walk(self, model: Any) -> list:
        # the vendor table (TR-106 §3.3) is the proxier's; its rows are the device's own tree
        return [i for i in self.successResultOf(model.getParameterNames("", False)) if ".X_" not in i.name]

    @defer.inlineCallbacks
    def test_ownTree(self) -> Any:
        lab = yield EmbeddedLab(self, "embedded").start()
        self.checkEmbeddedDevice(lab.tree.ownEndpoint.model.tree, EMBEDDED)


class MixedTests(unittest.TestCase):
    """A UPnP DM simulator and an in-memory printer, both embedded, on one proxier."""

    timeout = 90

    @defer.inlineCallbacks
    def test_printerBeside(self) -> Any:
        """
        Each its table and its EmbeddedDevice row, both data models
        declared, neither a Virtual CWMP Device; one SetParameterValues
        over both rows taken by both; GetRPCMethods the proxier's own.
        """
        from twisted.internet import reactor

        from proxier.plugins.upnpdm import upnpdm
        from proxier.printer.model import DATA_MODEL as PRINTER_DATA_MODEL
        from proxier.service import ProxierService
        from tests._e2e import startProxier
        from tests._fakeprinter import URL, FakePrinter
        from tests.test_printer_plugin import FakePrinterProtocol

        fake = FakePrinter(reactor)

        class MixedLab(EmbeddedLab):
            def startTree(self) -> ProxierService:
                sections = {"lan": {"ssdp_mode": "unicast-loopback", "ssdp_port": 0},
                            "upnp": {"online_probe_interval": 5, "mechanism": "embedded"},
                            "printer": {"printers": (URL,), "mechanism": "embedded"}}
                self.tree = startProxier(self.testCase, [upnpdm, FakePrinterProtocol(fake)], self.acsURL, self.state,
                                         sections)
                return self.tree

        lab = MixedLab(self, "embedded")
        lab.startTree()
        lab.startFleet()
        yield waitFor(lab.ownEnded(1), what="the proxier's BOOTSTRAP session")
        yield waitFor(lambda: len(lab.objects().rows) == 2, what="both rows")
        self.assertEqual(list(lab.tree.cwmp.manager.endpoints), ["self"])  # the proxier's own alone
        location = "Device.Services.PrintService.1.PrintServiceDescription.ServiceLocation"
        session = yield lab.ownSession([
            m.GetParameterValues(("Device.ManagementServer.EmbeddedDevice.", "Device.DeviceInfo.SupportedDataModel.",
                                  "Device.ManagementServer.VirtualDeviceNumberOfEntries")),
            m.SetParameterValues((ParameterValue(location, "Mixed"), ParameterValue(NTP, "mixed.lan")), "k"),
            m.GetParameterValues((location, NTP)),
            m.GetRPCMethods(),
        ])
        values = lab.values(session)
        self.assertEqual(set(answers(session)[3].methods), {
            "GetRPCMethods", "ScheduleInform", "GetParameterNames", "GetParameterValues", "SetParameterValues",
            "GetParameterAttributes", "SetParameterAttributes", "AddObject", "DeleteObject"})
        self.assertEqual(values["Device.ManagementServer.VirtualDeviceNumberOfEntries"], "0")
        references = sorted(v for n, v in values.items() if n.endswith(".Reference"))
        self.assertEqual(references, ["Device.Services.PrintService.1", ROW[:-1]])
        urns = {v for n, v in values.items()
                if n.startswith("Device.DeviceInfo.SupportedDataModel.") and n.endswith(".URN")}
        self.assertLessEqual({DATA_MODEL[0], PRINTER_DATA_MODEL[0]}, urns)
        self.assertEqual(answers(session)[1], m.SetParameterValuesResponse(1))
        self.assertEqual((values[location], values[NTP]), ("Mixed", "mixed.lan"))
        yield waitFor(lambda: lab.sim().cms.model.value("/BBF/Time/NTPServer1") == "mixed.lan", what="the push")
        yield waitFor(lambda: fake.attributes["printer-location"].value == "Mixed", what="the printer's push")
        yield waitFor(lambda: {r.synced.state for r in lab.objects().rows.values()} == {SUCCESS}, what="both pushed")
