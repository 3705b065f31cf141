"""
Proof that the seam works (issue 12 item 6): a protocol plugin that lives
only in the tests (L{tests._memproto}: in-memory devices with a small
declared tree) is proxied end to end — a real L{ProxierService} chosen by
C{[protocols] enabled}, the fake ACS over loopback HTTP — with nothing in
C{cwmp/} or C{datamodel/} written for it. Each device bootstraps as a
Virtual CWMP Device, answers the parameter RPCs, reports a change made
while the proxier was down, reboots, and is listed in the gateway's
C{ManagementServer.VirtualDevice.{i}}. Every CWMP message both ways is
validated against the BBF schema.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.faults import SetParameterValuesFault
from proxier.datamodel.values import AttributeChange, DeviceIdentity, ParameterAttributes, ParameterValue
from tests import _e2e
from tests._e2e import answers, events, waitFor
from tests._memproto import DISCOVERY_PROTOCOL, PROXY_PROTOCOL, THING, Bench, MemoryProtocol, Thing

COUNT = 3
PROXIER = DeviceIdentity("proxier", "000000", "Gateway", "GW-MEMORY-1")


class Lab(_e2e.Lab):
    """The proxier tree with the memory protocol only, its bench of devices, and the fake ACS on 127.0.0.1."""

    def __init__(self, testCase: unittest.TestCase, count: int = COUNT) -> None:
        self.bench = Bench(count)
        super().__init__(testCase, [MemoryProtocol(self.bench)], PROXIER)

    def devices(self) -> list[DeviceIdentity]:
        return [thing.identity for thing in self.bench.things]

    def thing(self, index: int = 0) -> Thing:
        return self.bench.things[index]


def names(answer: m.GetParameterNamesResponse) -> dict[str, bool]:
    return {p.name: p.writable for p in answer.parameters}


class BootstrapTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_eachDeviceBootstrapsAndIsListed(self) -> None:
        """
        Every in-memory device bootstraps ("0 BOOTSTRAP" alone: it did not
        reboot) as a Virtual CWMP Device of its own identity, with the
        forced-inform parameters its tree has and the proxier-held ones; the
        gateway lists each in ManagementServer.VirtualDevice.{i} with the
        plugin's ProxyProtocol and DiscoveryProtocol.
        """
        lab = yield Lab(self).start()
        for thing in lab.bench.things:
            [session] = lab.sessions(thing.identity)
            self.assertEqual(events(session), ["0 BOOTSTRAP"])
            self.assertEqual(session.inform.deviceId, thing.identity)
            informed = {p.name: p.value for p in session.inform.parameters}
            self.assertEqual(informed["Device.DeviceInfo.SoftwareVersion"], "1.0")
            self.assertEqual(informed["Device.RootDataModelVersion"], "2.17")
            self.assertEqual(informed["Device.ManagementServer.ConnectionRequestURL"],
                             lab.tree.cwmp.server.url(lab.endpoint(thing.identity).connectionRequestPath))
        self.assertEqual([p.name for p in lab.tree.protocols], [PROXY_PROTOCOL])

        table = "Device.ManagementServer.VirtualDevice."
        session = yield lab.session([m.GetParameterValues((table,))], PROXIER)
        [answer] = answers(session)
        values = {p.name: p.value for p in answer.parameters}
        rows = sorted({name[len(table):].split(".")[0] for name in values})
        self.assertEqual(rows, [str(n) for n in range(1, COUNT + 1)])
        listed = {(values[f"{table}{row}.SerialNumber"], values[f"{table}{row}.ProxyProtocol"],
                   values[f"{table}{row}.DiscoveryProtocol"]) for row in rows}
        self.assertEqual(listed, {(thing.identity.serialNumber, PROXY_PROTOCOL, DISCOVERY_PROTOCOL)
                                  for thing in lab.bench.things})


class ParameterRPCTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_names(self) -> None:
        """
        GetParameterNames of the whole tree (the device's own names with the
        proxier-held ManagementServer and ProxierInfo mounted into it) and
        one level at a time, with the real Writable.
        """
        lab = yield Lab(self, count=1).start()
        who = lab.thing().identity
        session = yield lab.session([
            m.GetParameterNames("", False),
            m.GetParameterNames("Device.", True),
            m.GetParameterNames(THING, True),
            m.GetParameterNames(THING + "Temperature", False),
        ], who)
        whole, top, thing, one = [names(answer) for answer in answers(session)]
        for name, writable in [(THING + "Temperature", False), (THING + "Label", True),
                               (THING + "SetpointNumberOfEntries", False), (THING + "Setpoint.", True),
                               ("Device.DeviceInfo.SerialNumber", False),
                               ("Device.DeviceInfo.ProxierInfo.ProxyProtocol", False),
                               ("Device.ManagementServer.PeriodicInformInterval", True)]:
            self.assertEqual(whole.get(name), writable, name)
        self.assertTrue({"Device.DeviceInfo.", "Device.ManagementServer.", THING} <= set(top), top)
        self.assertEqual([name for name in top if "." in name[len("Device."):].rstrip(".")], [], "one level only")
        self.assertEqual(thing, {THING + "Temperature": False, THING + "Label": True,
                                 THING + "SetpointNumberOfEntries": False, THING + "Setpoint.": True})
        self.assertEqual(one, {THING + "Temperature": False})

    @defer.inlineCallbacks
    def test_valuesAndObjects(self) -> None:
        """
        GetParameterValues reads the device's own reading; SetParameterValues
        sets the writable parameter (and the ParameterKey) and refuses the
        read-only reading with 9008; AddObject adds a Setpoint row, which is
        set through its Alias, and DeleteObject removes it.
        """
        lab = yield Lab(self, count=1).start()
        who = lab.thing().identity
        lab.thing().temperature = 23
        session = yield lab.session([
            m.GetParameterValues((THING + "Temperature", THING + "Label")),
            m.SetParameterValues((ParameterValue(THING + "Label", "kitchen"),), "pk-1"),
            m.SetParameterValues((ParameterValue(THING + "Label", "hall"),
                                  ParameterValue(THING + "Temperature", "30", "xsd:int")), "pk-2"),
            m.AddObject(THING + "Setpoint.", "pk-3"),
        ], who)
        gpv, spv, refused, add = answers(session)
        self.assertEqual(list(gpv.parameters), [ParameterValue(THING + "Temperature", "23", "xsd:int"),
                                                ParameterValue(THING + "Label", "")])
        self.assertEqual(spv, m.SetParameterValuesResponse(0))
        self.assertIsInstance(refused, m.SOAPFault)
        self.assertEqual(refused.fault.code, 9003)
        self.assertEqual(list(refused.fault.parameterFaults),
                         [SetParameterValuesFault(THING + "Temperature", 9008)])
        self.assertEqual(add, m.AddObjectResponse(1, 0))

        session = yield lab.session([
            m.SetParameterValues((ParameterValue(THING + "Setpoint.1.Alias", "night"),
                                  ParameterValue(THING + "Setpoint.1.Enable", "true", "xsd:boolean")), "pk-4"),
            m.SetParameterValues((ParameterValue(THING + "Setpoint.[night].Temperature", "17", "xsd:int"),), "pk-5"),
            m.GetParameterValues((THING,)),
            m.DeleteObject(THING + "Setpoint.[night].", "pk-6"),
            m.GetParameterValues((THING + "SetpointNumberOfEntries", "Device.ManagementServer.ParameterKey")),
        ], who)
        named, viaAlias, gpv, delete, after = answers(session)
        self.assertEqual((named, viaAlias), (m.SetParameterValuesResponse(0), m.SetParameterValuesResponse(0)))
        self.assertEqual({p.name: p.value for p in gpv.parameters}, {
            THING + "Temperature": "23",
            THING + "Label": "kitchen",
            THING + "SetpointNumberOfEntries": "1",
            THING + "Setpoint.1.Alias": "night",
            THING + "Setpoint.1.Enable": "true",
            THING + "Setpoint.1.Temperature": "17",
        })
        self.assertEqual(delete, m.DeleteObjectResponse(0))
        self.assertEqual({p.name: p.value for p in after.parameters}, {
            THING + "SetpointNumberOfEntries": "0", "Device.ManagementServer.ParameterKey": "pk-6"})

    @defer.inlineCallbacks
    def test_attributes(self) -> None:
        """
        SetParameterAttributes on the device's parameters, read back with
        GetParameterAttributes; active notification of the polled reading
        makes the device's own change a "4 VALUE CHANGE" session of its own.
        """
        lab = yield Lab(self, count=1).start()
        who = lab.thing().identity
        session = yield lab.session([
            m.SetParameterAttributes((AttributeChange(THING + "Temperature", True, 2),
                                      AttributeChange(THING + "Label", True, 1, True, ("Subscriber",)))),
            m.GetParameterAttributes((THING + "Temperature", THING + "Label")),
        ], who)
        spa, gpa = answers(session)
        self.assertEqual(spa, m.SetParameterAttributesResponse())
        self.assertEqual(list(gpa.parameters), [ParameterAttributes(THING + "Temperature", 2),
                                                ParameterAttributes(THING + "Label", 1, ("Subscriber",))])
        before = len(lab.sessions(who))
        lab.thing().temperature = 26
        yield waitFor(lab.ended(who, before + 1), what="the VALUE CHANGE session")
        change = lab.sessions(who)[before]
        self.assertEqual(events(change), ["4 VALUE CHANGE"])
        self.assertIn(ParameterValue(THING + "Temperature", "26", "xsd:int"), change.inform.parameters)


class LifeTests(unittest.TestCase):
    timeout = 60

    @defer.inlineCallbacks
    def test_reboot(self) -> None:
        """
        The ACS's Reboot takes the device away after the session; it comes
        back booted: "1 BOOT" + "M Reboot" with the ACS's CommandKey.
        """
        lab = yield Lab(self, count=1).start()
        who = lab.thing().identity
        session = yield lab.session([m.Reboot("reboot-1")], who)
        self.assertEqual(answers(session), [m.RebootResponse()])
        yield waitFor(lab.ended(who, 3), what="the BOOT session")
        boot = lab.sessions(who)[2]
        self.assertEqual(events(boot), ["1 BOOT", "M Reboot"])
        self.assertEqual([e.commandKey for e in boot.inform.events if e.code == "M Reboot"], ["reboot-1"])
        self.assertEqual(lab.thing().boots, 2)

    @defer.inlineCallbacks
    def test_valueChangedWhileProxierDown(self) -> None:
        """
        The ACS turns active notification on for the polled reading; the
        proxier stops; the device's reading changes; a new proxier on the
        same state directory does not bootstrap the device again and reports
        the new value ("4 VALUE CHANGE"); the instance it gave stays.
        """
        lab = yield Lab(self, count=1).start()
        who = lab.thing().identity
        session = yield lab.session([
            m.SetParameterAttributes((AttributeChange(THING + "Temperature", True, 2),)),
            m.AddObject(THING + "Setpoint.", "pk-1"),
            m.SetParameterValues((ParameterValue(THING + "Label", "attic"),), "pk-2"),
        ], who)
        self.assertEqual(answers(session)[1:], [m.AddObjectResponse(1, 0), m.SetParameterValuesResponse(0)])
        yield lab.tree.stopService()
        lab.thing().temperature = 31
        lab.startTree()
        yield waitFor(lab.ended(who, 3), what="the session with the change made meanwhile")
        after = lab.sessions(who)[2]
        self.assertEqual(events(after), ["4 VALUE CHANGE"])
        self.assertIn(ParameterValue(THING + "Temperature", "31", "xsd:int"), after.inform.parameters)
        session = yield lab.session([m.GetParameterValues((THING + "Label", THING + "SetpointNumberOfEntries"))],
                                    who)
        self.assertEqual({p.name: p.value for p in answers(session)[0].parameters},
                         {THING + "Label": "attic", THING + "SetpointNumberOfEntries": "1"})
        self.assertNotIn("0 BOOTSTRAP", [e for s in lab.sessions(who)[1:] for e in events(s)])
