"""
Issue 17.3: where TR-181 defines a parameter, its type and facets win over
the type a UPnP DM device gives it — in GetParameterValues, in the value
changes the Inform reports, and in the checks of SetParameterValues before
the device is touched.

The simulated device here is the project's own with some types and facets
changed the way real devices get them wrong (its ManufacturerOUI typed
hexBinary, as the GUPnP device GenieACS was tried with; counters typed
unsignedInt and long;
a boolean and a dateTime typed string; wider lengths and no enumeration),
and a vendor parameter TR-181 does not define.
"""

from __future__ import annotations

import copy
import json

from twisted.internet import task
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import ParameterValue
from proxier.proxy.gate import ActionGate
from proxier.sim.cmstree import Schema
from proxier.sim.device import Identity, SimulatedDevice
from proxier.sim.fleet import DEFAULT_DATA_FILE
from proxier.store import Store
from proxier.upnpdm.device import Member, VirtualDevice
from proxier.upnpdm.errors import refusedByDevice
from proxier.upnpdm.profile import candidates, capabilities, probe
from proxier.upnpdm.state import DeviceState
from tests.cwmpxsd import assertValidCWMP
from tests.test_upnpdm_fakes import RecordingObserver, SimUPnPDevice

# structure path → what this device says of it instead of the file's row
WRONG = {
    "/BBF/DeviceInfo/ManufacturerOUI": {"type": "hexBinary"},
    "/BBF/Ethernet/Interface/#/Stats/BytesSent": {"type": "unsignedInt"},
    "/BBF/Time/Enable": {"type": "string", "eventOnChange": True},
    "/BBF/Time/CurrentLocalTime": {"type": "string", "dynamic": None, "default": "2026-01-02T03:04:05Z"},
    "/BBF/Time/Status": {"enumeration": None},
    "/BBF/Time/NTPServer1": {"maxLength": 256},
    "/BBF/Hosts/Host/#/LeaseTimeRemaining": {"type": "long", "minimum": None},
}
VENDOR = {"path": "/BBF/DeviceInfo/X_ACME_Colour", "type": "hexBinary", "default": "00FF00", "version": "2"}


def wrongSchemaDocument(wrong: dict = WRONG) -> dict:
    """The simulator's data file with the rows changed as C{wrong} says (C{None}: dropped) and the vendor parameter."""
    with open(DEFAULT_DATA_FILE, encoding="utf-8") as f:
        document = json.load(f)
    document = copy.deepcopy(document)
    nodes = []
    for row in document["nodes"]:
        row = dict(row)
        for key, value in wrong.get(row["path"], {}).items():
            if value is None:
                row.pop(key, None)
            else:
                row[key] = value
        nodes.append(row)
        if row["path"] == "/BBF/DeviceInfo/ManufacturerOUI":
            nodes.append(dict(VENDOR))
    document["nodes"] = nodes
    return document


def wrongSchema() -> Schema:
    """The simulator's schema with the types of L{WRONG} and the vendor parameter."""
    return Schema.fromDocument(wrongSchemaDocument())


class TypesTestCase(unittest.TestCase):
    """A Virtual CWMP Device over the simulated device of L{wrongSchema}, on a clock; warnings recorded."""

    def setUp(self) -> None:
        self.clock = task.Clock()
        sim = SimulatedDevice(Identity.forIndex(0), wrongSchema(), self.clock)
        sim.setLocation("http://127.0.0.1:49000")
        sim.powerOn()
        self.sim = sim
        self.upnp = SimUPnPDevice(self.clock, sim=sim)
        gate = ActionGate(lambda: self.upnp, self.clock, refused=refusedByDevice)
        [candidate], _ = candidates(self.upnp.description)
        profile = self.successResultOf(probe(gate.call, candidate, capabilities(candidate, self.upnp.scpd), "2.17"))
        store = Store.open(self.mktemp())
        gateFactory = lambda target, **kw: ActionGate(target, self.clock, refused=refusedByDevice, timeout=10,
                                                      offlineAfter=2, **kw)
        self.device = VirtualDevice(profile, Member(self.upnp, candidate), DeviceState(store.document("device")),
                                    clock=self.clock, gateFactory=gateFactory, probeInterval=30)
        self.device.attached(self.upnp, candidate, profile)
        self.observer = RecordingObserver()
        self.device.addObserver(self.observer)
        self.device.dataModel().addChangeListener(self.observer.changed)
        self.model = self.device.model
        self.events: list[dict] = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def values(self, *names: str) -> dict[str, ParameterValue]:
        answer = self.successResultOf(self.model.getParameterValues(list(names)))
        assertValidCWMP(self, codec.encode(m.Envelope(m.GetParameterValuesResponse(tuple(answer)), id="1")))
        return {v.name: v for v in answer}

    def warnings(self, about: str) -> list[str]:
        out = []
        for event in self.events:
            if event.get("log_level") is not None and event["log_level"].name == "warn":
                text = event.get("log_format", "").format(**{k: v for k, v in event.items()})
                if about in text:
                    out.append(f"{event.get('log_namespace', '')} {event.get('device', '')} {text}")
        return out

    def setValue(self, path: str, text: str) -> None:
        """The device's own value changes (as if set on the device), announced by an event later."""
        self.sim.model.setValues([(path, text)], local=True)


class ValuesTests(TypesTestCase):
    """GetParameterValues sends TR-181's xsi:type and refuses what TR-181's type cannot hold."""

    def test_manufacturerOUIIsAString(self) -> None:
        """The reported case: the device says hexBinary, TR-181 string(6): sent as xsd:string."""
        oui = self.sim.identity.deviceIdentity.oui
        value = self.values("Device.DeviceInfo.ManufacturerOUI")["Device.DeviceInfo.ManufacturerOUI"]
        self.assertEqual((value.value, value.type), (oui, "xsd:string"))

    def test_eachTypeClass(self) -> None:
        """
        unsignedInt → unsignedLong, long → int, string → boolean, string →
        dateTime; a partial path the same as a name.
        """
        for asked in (["Device.Ethernet.Interface.1.Stats.BytesSent", "Device.Time.Enable",
                       "Device.Time.CurrentLocalTime", "Device.Hosts.Host.1.LeaseTimeRemaining"],
                      ["Device.Ethernet.", "Device.Hosts.", "Device.Time."]):
            values = self.values(*asked)
            self.assertEqual(values["Device.Ethernet.Interface.1.Stats.BytesSent"].type, "xsd:unsignedLong")
            self.assertEqual((values["Device.Time.Enable"].value, values["Device.Time.Enable"].type),
                             ("true", "xsd:boolean"))
            self.assertEqual((values["Device.Time.CurrentLocalTime"].value,
                              values["Device.Time.CurrentLocalTime"].type), ("2026-01-02T03:04:05Z", "xsd:dateTime"))
            self.assertEqual(values["Device.Hosts.Host.1.LeaseTimeRemaining"].type, "xsd:int")

    def test_vendorParameterKeepsTheDevicesType(self) -> None:
        """A parameter TR-181 does not define keeps the device's type."""
        value = self.values("Device.DeviceInfo.X_ACME_Colour")["Device.DeviceInfo.X_ACME_Colour"]
        self.assertEqual((value.value, value.type), ("00FF00", "xsd:hexBinary"))

    def test_refusedValues(self) -> None:
        """
        A value outside TR-181's enumeration, length, range or type is not
        sent — the rest of the answer is — and a warning names the device
        and the parameter, once while the value stays the same.
        """
        self.setValue("/BBF/Time/Status", "Sleeping")
        self.setValue("/BBF/Time/NTPServer1", "n" * 65)
        self.setValue("/BBF/Time/Enable", "perhaps")
        self.setValue("/BBF/Hosts/Host/0/LeaseTimeRemaining", "-7")
        values = self.values("Device.Time.", "Device.Hosts.Host.1.LeaseTimeRemaining")
        for refused in ("Device.Time.Status", "Device.Time.NTPServer1", "Device.Time.Enable",
                        "Device.Hosts.Host.1.LeaseTimeRemaining"):
            self.assertNotIn(refused, values)
            [line] = self.warnings(refused)
            self.assertIn("TR-181", line)
            self.assertIn(str(self.device.identity), line)
        self.assertIn("Device.Time.NTPServer2", values)
        self.values("Device.Time.")
        self.assertEqual(len(self.warnings("Device.Time.Status")), 1)
        self.setValue("/BBF/Time/Status", "Synchronized")
        self.assertEqual(self.values("Device.Time.Status")["Device.Time.Status"].value, "Synchronized")

    def test_typedTextsRemembered(self) -> None:
        """
        What a device's text of a parameter comes to is remembered, shared by
        every device (issue 19: devices answer the same texts read after
        read): read again, it is not converted again and comes the same, the
        one value made at the first read; a new text is converted; a refused
        one is still left out, warned once.
        """
        from proxier.upnpdm import cmsvalues

        self.patch(cmsvalues, "_TYPED", {})
        self.patch(cmsvalues, "_VALUES", {})
        converted: list[str] = []
        typedText = cmsvalues._typedText
        self.patch(cmsvalues, "_typedText", lambda *a: converted.append(a[2]) or typedText(*a))
        first = self.values("Device.Time.")
        count = len(converted)
        self.assertGreater(count, 3)
        again = self.values("Device.Time.")
        self.assertEqual(again, first)
        self.assertEqual(len(converted), count)
        self.assertTrue(all(again[name] is value for name, value in first.items()))
        self.setValue("/BBF/Time/NTPServer1", "ntp.example")
        self.setValue("/BBF/Time/Status", "Sleeping")
        for _ in range(2):
            values = self.values("Device.Time.NTPServer1", "Device.Time.Status")
            self.assertEqual(values["Device.Time.NTPServer1"].value, "ntp.example")
            self.assertNotIn("Device.Time.Status", values)
        self.assertEqual(converted[count:], ["ntp.example", "Sleeping"])
        self.assertEqual(len(self.warnings("Device.Time.Status")), 1)

    def test_typedInOnePass(self) -> None:
        """
        The values of a GetValues answer are typed in one pass as each alone
        is (issue 19): a refused one None, a path without a CWMP name left
        out; with a node the schema does not know yet, nothing is typed
        (the device is asked its Types first), but for the model's root.
        """
        self.values("Device.Time.", "Device.DeviceInfo.")
        typing = self.model.typing
        raw = [("/BBF/Time/NTPServer1", "ntp.example"), ("/BBF/Time/Enable", "perhaps"),
               ("/BBF/DeviceInfo/X_ACME_Colour", "0A0B"), ("/Elsewhere/X", "1"), ("/BBF/Time/LocalTimeZone", "CET")]
        toCWMP = self.model.names.toCWMP
        known = {"/BBF/Time/Enable": "Device.Time.Enable"}
        expected = [(path, typing.typed(known.get(path) or toCWMP(path), path, text), text) for path, text in raw
                    if (known.get(path) or toCWMP(path)) is not None]
        self.assertEqual(len(expected), 4)
        self.assertIsNone(expected[1][1])
        self.assertEqual(typing.typedAll(raw, known, toCWMP), expected)
        raw.remove(("/Elsewhere/X", "1"))  # not in the schema either
        self.assertEqual(typing.typedKnown(raw, known, toCWMP, "/BBF/"), expected)
        warned = len(self.events)
        unknown = raw + [("/BBF/Time/X_Unknown", "1")]
        self.assertIsNone(typing.typedKnown(unknown, known, toCWMP, "/BBF/"))
        self.assertEqual(len(self.events), warned)
        self.assertIsNotNone(typing.typedKnown(raw + [("/BBF/", "1")], known, toCWMP, "/BBF/"))

    def test_typeFollowsTheSchema(self) -> None:
        """
        The types read from CMS Type texts are remembered by text, shared by
        every device, not by parameter: a structure whose Type the schema
        learns anew is typed by the new one; a Type UPnP DM does not define
        is read as a string, warned about once, and not remembered.
        """
        from proxier.upnpdm import cmsvalues
        from proxier.upnpdm.cmsschema import NodeInfo

        name, structure = "Device.DeviceInfo.X_ACME_Colour", "/BBF/DeviceInfo/X_ACME_Colour"
        self.assertEqual(self.values(name)[name].type, "xsd:hexBinary")
        access = self.model.knowledge.nodes[structure].access
        self.model.knowledge.nodes[structure] = NodeInfo("string", access)
        self.assertEqual(self.values(name)[name], ParameterValue(name, "00FF00", "xsd:string"))
        self.model.knowledge.nodes[structure] = NodeInfo("colour", access)
        for _ in range(2):
            self.assertEqual(self.values(name)[name], ParameterValue(name, "00FF00", "xsd:string"))
        self.assertEqual(len(self.warnings("'colour'")), 1)
        self.assertNotIn("colour", cmsvalues._TYPES)
        self.assertLessEqual(len(cmsvalues._TYPES), cmsvalues._MAX_TYPES)


class ChangeTests(TypesTestCase):
    """The values an Inform reports (value changes) carry TR-181's type too."""

    def test_valueChangeTyped(self) -> None:
        """A watched parameter the device types string is reported as TR-181's boolean."""
        self.sim.cms.addListener(lambda variables: self.device.eventReceived(
            self.upnp, self.upnp.service("ConfigurationManagement"), variables))
        self.sim.cms.setLocal("/BBF/Time/Enable", "0")
        [call] = [c for c in self.observer.calls if c[0] == "valueChange"]
        self.assertEqual(list(call[1]), [ParameterValue("Device.Time.Enable", "false", "xsd:boolean")])

    def test_refusedChangeNotReported(self) -> None:
        """A change to a value TR-181's type refuses is not reported (and does not stop later reports)."""
        self.sim.cms.addListener(lambda variables: self.device.eventReceived(
            self.upnp, self.upnp.service("ConfigurationManagement"), variables))
        self.sim.cms.setLocal("/BBF/Time/Enable", "perhaps")
        self.assertEqual([c for c in self.observer.calls if c[0] == "valueChange"], [])
        self.sim.cms.setLocal("/BBF/Time/Enable", "0")
        [call] = [c for c in self.observer.calls if c[0] == "valueChange"]
        self.assertEqual(list(call[1]), [ParameterValue("Device.Time.Enable", "false", "xsd:boolean")])


class SetTests(TypesTestCase):
    """SetParameterValues checks TR-181's type and facets before the device is touched."""

    def sent(self) -> list:
        return [args for _, action, args in self.upnp.calls if action == "SetValues"]

    def test_checkedAgainstTR181First(self) -> None:
        """Too long for TR-181 (the device would take it), not a TR-181 boolean: 9007 each, no SetValues."""
        fault = self.failureResultOf(self.model.setParameterValues([
            ParameterValue("Device.Time.NTPServer1", "n" * 65, "xsd:string"),
            ParameterValue("Device.Time.Enable", "perhaps", "xsd:string"),
            ParameterValue("Device.Time.LocalTimeZone", "UTC"),
        ]), CWMPFault).value
        self.assertEqual(fault.code, 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults],
                         [("Device.Time.NTPServer1", 9007), ("Device.Time.Enable", 9007)])
        self.assertEqual(self.sent(), [])
        self.assertEqual(self.sim.model.value("/BBF/Time/LocalTimeZone"), "CET-1CEST,M3.5.0,M10.5.0/3")

    def test_typeByTR181(self) -> None:
        """xsd:boolean for a parameter TR-181 says is boolean is accepted though the device types it string."""
        self.assertEqual(self.successResultOf(self.model.setParameterValues([
            ParameterValue("Device.Time.Enable", "false", "xsd:boolean")])), 0)
        self.assertEqual(self.values("Device.Time.Enable")["Device.Time.Enable"],
                         ParameterValue("Device.Time.Enable", "false", "xsd:boolean"))
        fault = self.failureResultOf(self.model.setParameterValues([
            ParameterValue("Device.Time.Enable", "2026-01-02T03:04:05Z", "xsd:dateTime")]), CWMPFault).value
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults],
                         [("Device.Time.Enable", 9006)])

    def test_allowedValueReachesTheDevice(self) -> None:
        """A value TR-181 allows goes to the device as the device's type writes it."""
        self.successResultOf(self.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "n" * 64)]))
        self.assertEqual(self.sim.model.value("/BBF/Time/NTPServer1"), "n" * 64)
