"""
Tests for L{proxier.upnpdm.model}: every parameter RPC of TR-330 §4.6
against the simulator's real ConfigurationManagement code (sans-IO, on a
clock), checking both the CWMP answer and the CMS actions sent.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.internet.defer import CancelledError
from twisted.trial import unittest

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import AttributeChange, ParameterAttributes, ParameterInfo, ParameterValue
from proxier.interfaces import IDataModel
from proxier.proxy.gate import ActionGate
from proxier.sim import cmsxml as devicexml
from proxier.sim.cms import CHANGES_COMMITTED
from proxier.sim.device import Identity, SimulatedDevice
from proxier.store import Store
from proxier.upnpdm import errors
from proxier.upnpdm.model import STATUS, CMSDataModel
from proxier.upnpdm.profile import candidates, capabilities, probe
from proxier.upnpdm.state import DeviceState
from tests.test_upnpdm_fakes import SimUPnPDevice, schema


class ModelTestCase(unittest.TestCase):
    """A model over one simulated device, probed; the actions it sends recorded from here on."""

    disabled: tuple[str, ...] = ()

    def setUp(self) -> None:
        self.clock = task.Clock()
        sim = SimulatedDevice(Identity.forIndex(0), schema(), self.clock)
        for action in self.disabled:
            service = sim.bms if action in ("Reboot", "BaselineReset") else sim.cms
            service.disableAction(action)
        sim.setLocation("http://127.0.0.1:49000")
        sim.powerOn()
        self.sim = sim
        self.device = SimUPnPDevice(self.clock, sim=sim)
        self.gate = ActionGate(lambda: self.device, self.clock, refused=errors.refusedByDevice, timeout=30)
        [candidate], _ = candidates(self.device.description)
        caps = capabilities(candidate, self.device.scpd)
        self.profile = self.successResultOf(probe(self.gate.call, candidate, caps, "2.17"))
        self.store = Store.open(self.mktemp())
        self.state = DeviceState(self.store.document("device"))
        self.reboots: list = []
        self.model = CMSDataModel(self.profile, self.gate, self.state, clock=self.clock,
                                  onReboot=self.reboots.append, onFactoryReset=lambda: self.reboots.append("reset"))
        self.device.calls.clear()

    def ok(self, d: Any) -> Any:
        return self.successResultOf(d)

    def fault(self, d: Any) -> CWMPFault:
        return self.failureResultOf(d, CWMPFault).value

    def sent(self, action: str) -> list[dict]:
        return [args for _, a, args in self.device.calls if a == action]


class GetParameterNamesTests(ModelTestCase):
    """TR-330 §4.6.2.1, its steps, considerations and examples."""

    def test_providesIDataModel(self) -> None:
        """The model is an IDataModel offering the parameter RPCs, Reboot and FactoryReset."""
        self.assertTrue(IDataModel.providedBy(self.model))
        self.assertTrue({"GetParameterNames", "SetParameterAttributes", "AddObject", "Reboot",
                         "FactoryReset"} <= self.model.supportedMethods())
        self.assertNotIn("Download", self.model.supportedMethods())

    def test_exampleParameter(self) -> None:
        """Example "ParameterPath is a parameter": GetAttributes of it (step 3), Writable from Access."""
        infos = self.ok(self.model.getParameterNames("Device.Hosts.Host.1.IPAddress", True))
        self.assertEqual(infos, [ParameterInfo("Device.Hosts.Host.1.IPAddress", True)])
        [args] = self.sent("GetAttributes")
        self.assertEqual(devicexml.parseNodeAttributePathList(args["Parameters"]), ["/BBF/Hosts/Host/0/IPAddress"])

    def test_exampleSingleInstanceObject(self) -> None:
        """Example "single instance object node": GetSupportedParameters(depth 1), then GetAttributes."""
        infos = self.ok(self.model.getParameterNames("Device.Hosts.", True))
        self.assertEqual(infos, [ParameterInfo("Device.Hosts.HostNumberOfEntries", False),
                                 ParameterInfo("Device.Hosts.Host.", True)])
        [args] = self.sent("GetSupportedParameters")
        self.assertEqual(args, {"StartingNode": "/BBF/Hosts/", "SearchDepth": 1})
        self.assertEqual(self.sent("GetInstances"), [])
        self.assertEqual(len(self.sent("GetAttributes")), 1)

    def test_exampleMultiInstanceObject(self) -> None:
        """Example "multiple instance object, NextLevel true": GetInstances(depth 1), no GetSupportedParameters."""
        self.ok(self.model.getParameterNames("Device.Hosts.", True))  # learns Host. is a table
        self.device.calls.clear()
        infos = self.ok(self.model.getParameterNames("Device.Hosts.Host.", True))
        self.assertEqual(infos, [ParameterInfo("Device.Hosts.Host.1.", True), ParameterInfo("Device.Hosts.Host.2.", True)])
        self.assertEqual(self.sent("GetInstances"), [{"StartingNode": "/BBF/Hosts/Host/", "SearchDepth": 1}])
        self.assertEqual(self.sent("GetSupportedParameters"), [])

    def test_exampleObjectNextLevelFalse(self) -> None:
        """Example "object and NextLevel false": GetInstances and GetSupportedParameters at depth 0."""
        infos = self.ok(self.model.getParameterNames("Device.Hosts.", False))
        names = [i.name for i in infos]
        self.assertEqual(names[:4], ["Device.Hosts.", "Device.Hosts.HostNumberOfEntries", "Device.Hosts.Host.",
                                     "Device.Hosts.Host.1."])
        self.assertEqual(names[4:10], [f"Device.Hosts.Host.1.{p}" for p in
                                       ("Alias", "PhysAddress", "IPAddress", "HostName", "Active",
                                        "LeaseTimeRemaining")])
        self.assertEqual(names[10], "Device.Hosts.Host.2.")
        self.assertEqual(len(names), 17)
        writable = {i.name: i.writable for i in infos}
        self.assertFalse(writable["Device.Hosts."])
        self.assertTrue(writable["Device.Hosts.Host.2.HostName"])
        self.assertFalse(writable["Device.Hosts.Host.2.LeaseTimeRemaining"])
        self.assertEqual(self.sent("GetSupportedParameters"), [{"StartingNode": "/BBF/Hosts/", "SearchDepth": 0}])
        self.assertEqual(self.sent("GetInstances"), [{"StartingNode": "/BBF/Hosts/", "SearchDepth": 0}])

    def test_attributesAskedOncePerStructure(self) -> None:
        """Attributes are kept per StructurePath: the same question again asks the device nothing new."""
        self.ok(self.model.getParameterNames("Device.Hosts.", False))
        asked = len(self.sent("GetAttributes"))
        self.ok(self.model.getParameterNames("Device.Hosts.", False))
        self.assertEqual(len(self.sent("GetAttributes")), asked)

    def test_whole(self) -> None:
        """Device. NextLevel false: the whole model, the proxier's DeviceInfo additions, in tree order."""
        infos = self.ok(self.model.getParameterNames("Device.", False))
        names = [i.name for i in infos]
        self.assertEqual(names[0], "Device.")
        self.assertEqual(len(names), len(set(names)))
        for name in ["Device.RootDataModelVersion", "Device.DeviceInfo.SupportedDataModel.1.URN",
                     "Device.Ethernet.Interface.1.Stats.BytesSent", "Device.Time.NTPServer1"]:
            self.assertIn(name, names)
        self.assertLess(names.index("Device.DeviceInfo.SupportedDataModel.1.URN"), names.index("Device.Time."))

    def test_rootNextLevel(self) -> None:
        """Device. NextLevel true: the top objects and RootDataModelVersion."""
        names = [i.name for i in self.ok(self.model.getParameterNames("Device.", True))]
        self.assertEqual(names, ["Device.DeviceInfo.", "Device.Time.", "Device.Ethernet.", "Device.Hosts.",
                                 "Device.RootDataModelVersion"])

    def test_deviceInfoNextLevel(self) -> None:
        """Device.DeviceInfo. NextLevel true adds the SupportedDataModel table the device lacks."""
        names = [i.name for i in self.ok(self.model.getParameterNames("Device.DeviceInfo.", True))]
        self.assertIn("Device.DeviceInfo.SupportedDataModel.", names)
        self.assertIn("Device.DeviceInfo.SupportedDataModelNumberOfEntries", names)
        self.assertNotIn("Device.DeviceInfo.SupportedDataModel.1.", names)

    def test_noSuchName(self) -> None:
        """Step 5: GetAttributes answering 703 is 9005; an instance that does not exist is 9005."""
        self.assertEqual(self.fault(self.model.getParameterNames("Device.Hosts.Host.1.Nope", False)).code, 9005)
        self.assertEqual(self.fault(self.model.getParameterNames("Device.Hosts.Host.9.", True)).code, 9005)
        self.assertEqual(self.fault(self.model.getParameterNames("Device.Nope.", True)).code, 9005)
        self.assertEqual(self.fault(self.model.getParameterNames("Device..X", True)).code, 9005)
        self.assertEqual(self.fault(self.model.getParameterNames("Other.", True)).code, 9005)

    def test_instanceNextLevel(self) -> None:
        """An instance with NextLevel true: its parameters (and it is checked to exist)."""
        infos = self.ok(self.model.getParameterNames("Device.Hosts.Host.2.", True))
        self.assertEqual(len(infos), 6)
        self.assertEqual(infos[0], ParameterInfo("Device.Hosts.Host.2.Alias", True))

    def test_constantsAndMapped(self) -> None:
        """A constant is read-only; a parameter mapped to the Common Objects has their Access."""
        self.assertEqual(self.ok(self.model.getParameterNames("Device.DeviceInfo.SupportedDataModel.1.URN", False)),
                         [ParameterInfo("Device.DeviceInfo.SupportedDataModel.1.URN", False)])
        names = [i.name for i in self.ok(self.model.getParameterNames("Device.DeviceInfo.SupportedDataModel.", False))]
        self.assertEqual(names[:2], ["Device.DeviceInfo.SupportedDataModel.", "Device.DeviceInfo.SupportedDataModel.1."])


class WritableGatingTests(ModelTestCase):
    """TR-330 §4.3.1: without SetValues / CreateInstance / DeleteInstance, nothing is writable."""

    disabled = ("SetValues", "CreateInstance", "DeleteInstance", "SetAttributes")

    def test_readOnlyWithoutWriteActions(self) -> None:
        """Every parameter and table is reported not writable, whatever its Access."""
        infos = self.ok(self.model.getParameterNames("Device.", False))
        self.assertEqual([i.name for i in infos if i.writable], [])

    def test_refusedWithoutWriteActions(self) -> None:
        """SetParameterValues → 9008 per parameter; AddObject / DeleteObject → 9001; nothing sent."""
        fault = self.fault(self.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "x")]))
        self.assertEqual(fault.parameterFaults[0].faultCode, 9008)
        self.assertEqual(self.fault(self.model.addObject("Device.Hosts.Host.")).code, 9001)
        self.assertEqual(self.fault(self.model.deleteObject("Device.Hosts.Host.1.")).code, 9001)
        for action in ("SetValues", "CreateInstance", "DeleteInstance"):
            self.assertEqual(self.sent(action), [])

    def test_notificationWithoutSetAttributes(self) -> None:
        """A Notification needing an EventOnChange change is refused 9009; one that does not is kept."""
        fault = self.fault(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer2", True, 1)]))
        self.assertEqual(fault.code, 9009)
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer1", True, 2)]))
        self.assertEqual(self.ok(self.model.getParameterAttributes(["Device.Time.NTPServer1"])),
                         [ParameterAttributes("Device.Time.NTPServer1", 2)])


class GetParameterValuesTests(ModelTestCase):
    def test_typed(self) -> None:
        """Values with the xsi:type of their CMS Type; booleans written true/false (§4.6.3.1)."""
        values = self.ok(self.model.getParameterValues(["Device.Hosts.Host.1.Active", "Device.Time.NTPServer1",
                                                        "Device.Ethernet.Interface.1.MaxBitRate",
                                                        "Device.Ethernet.Interface.1.Stats.BytesSent"]))
        self.assertEqual(values, [
            ParameterValue("Device.Hosts.Host.1.Active", "true", "xsd:boolean"),
            ParameterValue("Device.Time.NTPServer1", "pool.ntp.org", "xsd:string"),
            ParameterValue("Device.Ethernet.Interface.1.MaxBitRate", "-1", "xsd:int"),
            ParameterValue("Device.Ethernet.Interface.1.Stats.BytesSent", "1048576", "xsd:unsignedLong"),
        ])
        self.assertEqual(len(self.sent("GetValues")), 1)

    def test_oneGetValuesForEverything(self) -> None:
        """Several names and partial paths: one GetValues with their content paths, in the order asked."""
        self.ok(self.model.getParameterValues(["Device.Time.", "Device.Hosts.Host.1.HostName"]))
        self.device.calls.clear()
        values = self.ok(self.model.getParameterValues(["Device.Time.", "Device.Hosts.Host.1.HostName"]))
        [args] = self.sent("GetValues")
        self.assertEqual(devicexml.parseContentPathList(args["Parameters"]), ["/BBF/Time/", "/BBF/Hosts/Host/0/HostName"])
        self.assertEqual(values[0].name, "Device.Time.Enable")
        self.assertEqual(values[-1], ParameterValue("Device.Hosts.Host.1.HostName", "laptop"))
        self.assertEqual(self.sent("GetAttributes"), [])  # types known from the first call

    def test_dateTime(self) -> None:
        """A dateTime is written in UTC with Z."""
        [value] = self.ok(self.model.getParameterValues(["Device.Time.CurrentLocalTime"]))
        self.assertEqual(value.type, "xsd:dateTime")
        self.assertTrue(value.value.endswith("Z"))

    def test_deviceInfo(self) -> None:
        """DeviceInfo. holds the device's values, the proxier's SupportedDataModel rows and the rest."""
        values = {v.name: v for v in self.ok(self.model.getParameterValues(["Device.DeviceInfo."]))}
        self.assertEqual(values["Device.DeviceInfo.SerialNumber"].value, "SIM000000")
        self.assertEqual(values["Device.DeviceInfo.SupportedDataModel.1.URN"].value,
                         "urn:broadband-forum-org:tr-181-2-17-0")
        self.assertEqual(values["Device.DeviceInfo.UpTime"].type, "xsd:unsignedInt")

    def test_rootDataModelVersion(self) -> None:
        """RootDataModelVersion comes from the TR-181 URI without asking the device."""
        self.assertEqual(self.ok(self.model.getParameterValues(["Device.RootDataModelVersion"])),
                         [ParameterValue("Device.RootDataModelVersion", "2.17", "xsd:string")])
        self.assertEqual(self.device.calls, [])

    def test_noSuchName(self) -> None:
        """703 → 9005 (Table 2), also for an instance that does not exist."""
        self.assertEqual(self.fault(self.model.getParameterValues(["Device.Time.Nope"])).code, 9005)
        self.assertEqual(self.fault(self.model.getParameterValues(["Device.Hosts.Host.7.HostName"])).code, 9005)

    def test_lyingDeviceValue(self) -> None:
        """
        A value that is not of its TR-181 type is refused (and logged), never
        sent as an invalid typed value nor as a string (issue 17.3).
        """
        self.ok(self.model.getParameterValues(["Device.Hosts.Host.1.Active"]))

        def lie(action: str, out: dict) -> dict:
            if action == "GetValues":
                out["ParameterValueList"] = devicexml.parameterValueList([("/BBF/Hosts/Host/0/Active", "maybe"),
                                                                          ("/Elsewhere/X", "1")])
            return out

        self.device.rewrite = lie
        values = self.ok(self.model.getParameterValues(["Device.Hosts.Host.1.Active"]))
        self.assertEqual(values, [])

    def test_unusableAnswer(self) -> None:
        """An answer that is not a CMS document is 9002 (no usable answer)."""
        self.device.rewrite = lambda action, out: {"ParameterValueList": "<junk"}
        fault = self.fault(self.model.getParameterValues(["Device.Time.Enable"]))
        self.assertEqual(fault.code, 9002)

    def test_hungDevice(self) -> None:
        """A device that does not answer: 9002 once the action's deadline passes."""
        self.device.hang.add("GetValues")
        d = self.model.getParameterValues(["Device.Time.Enable"])
        self.clock.advance(30)
        self.assertEqual(self.fault(d).code, 9002)

    def test_cancelled(self) -> None:
        """Cancelling the RPC (the endpoint's own deadline) cancels the action under way."""
        self.device.hang.add("GetValues")
        d = self.model.getParameterValues(["Device.Time.Enable"])
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertEqual(self.gate.busy, 0)


class RoutingTests(ModelTestCase):
    """How a GetParameterValues routes its names (L{proxier.upnpdm.cmsrouting})."""

    def test_knownNamesWithoutADeferredEach(self) -> None:
        """
        Names the proxier can route from what it knows are routed without a
        Deferred each (nor L{NameRouting.resolve}), to the same plan.
        """
        names = ["Device.Hosts.Host.1.HostName", "Device.Time.", "Device.DeviceInfo.SupportedDataModel.1.URN", ""]
        self.ok(self.model.getParameterValues(names[:1]))  # Host.1 known from here on
        held = self.model.constants
        expected = []
        for name in names:
            expected.extend(self.ok(self.model.routing.resolve(name, held)))
        resolved: list = []
        self.patch(self.model.routing, "resolve", lambda name, held: resolved.append(name))
        self.device.calls.clear()
        d = self.model.routing.resolveAll(names, held)
        self.assertEqual(self.ok(d), expected)
        self.assertEqual(self.device.calls, [])
        values = self.ok(self.model.getParameterValues(names))
        self.assertEqual(resolved, [])
        self.assertIn(ParameterValue("Device.Hosts.Host.1.HostName", "laptop"), values)

    def test_unknownInstanceThenOneByOne(self) -> None:
        """
        A name whose instance is not known yet reads its table, and the
        names after it route after that read, in the order asked.
        """
        values = self.ok(self.model.getParameterValues(["Device.Time.Enable", "Device.Hosts.Host.2.HostName",
                                                        "Device.Hosts.Host.1.HostName"]))
        self.assertEqual([v.name for v in values], ["Device.Time.Enable", "Device.Hosts.Host.2.HostName",
                                                     "Device.Hosts.Host.1.HostName"])
        self.assertEqual([a for _, a, _ in self.device.calls][:2], ["GetInstances", "GetValues"])

    def test_extraSourceRefreshedWhenTouched(self) -> None:
        """
        A source of proxier-held values is refreshed before a read of one of
        its names, of an object holding one, or of the root; not for a name
        beside them, even one its names start with; a GetParameterValues
        touching none of them does not ask its values.
        """
        refreshed: list[int] = []
        asked: list[int] = []

        class Source:
            names = ("Device.DeviceInfo.VendorLogFile.1.Name", "Device.DeviceInfo.VendorLogFileNumberOfEntries")

            def values(self) -> dict:
                asked.append(1)
                return {"Device.DeviceInfo.VendorLogFile.1.Name": ParameterValue("x", "y"),
                        "Device.DeviceInfo.VendorLogFileNumberOfEntries": ParameterValue("x", "1")}

            def refresh(self) -> None:
                refreshed.append(1)

        self.model.routing.extraConstants.append(Source())
        for names, expected in [(["Device.Time.Enable"], 0), (["Device.DeviceInfo.VendorLogFile.1.Name"], 1),
                                (["Device.Time.", "Device.DeviceInfo."], 1), (["Device.DeviceInfo.VendorLogFile."], 1),
                                (["Device."], 1), ([""], 1), (["Device.DeviceInfo.VendorLogFile.1.Na"], 0),
                                (["Device.DeviceInfo.VendorLog"], 0), (["Device.DeviceInfo.VendorLogFile.1"], 0)]:
            del refreshed[:]
            self.ok(self.model.routing.refreshLocal(names))
            self.assertEqual(len(refreshed), expected, names)
        del refreshed[:]
        self.ok(self.model.getParameterValues(["Device.Time.Enable", "Device.DeviceInfo.Manufacturer"]))
        self.assertEqual((refreshed, asked), ([], []))
        values = self.ok(self.model.getParameterValues(["Device.DeviceInfo.VendorLogFileNumberOfEntries"]))
        self.assertEqual((len(refreshed), values), (1, [ParameterValue("x", "1")]))

    def test_answerUnderTheNameAsked(self) -> None:
        """
        A parameter asked by its name is answered under that name, the
        device's path not translated back (issue 19); the answers of a
        partial path are, and the same values come.
        """
        names = ["Device.Hosts.Host.1.HostName", "Device.Time."]
        expected = self.ok(self.model.getParameterValues(names))
        translated: list[str] = []
        toCWMP = self.model.names.toCWMP
        self.patch(self.model.names, "toCWMP", lambda path: translated.append(path) or toCWMP(path))
        self.assertEqual(self.ok(self.model.getParameterValues(names)), expected)
        self.assertEqual(expected[0], ParameterValue("Device.Hosts.Host.1.HostName", "laptop"))
        self.assertNotIn("/BBF/Hosts/Host/0/HostName", translated)
        self.assertIn("/BBF/Time/Enable", translated)

    def test_namesAskedAgainRemembered(self) -> None:
        """
        A parameter routed once is routed again from the pieces its model's
        translator remembered (issue 19), neither checked nor translated
        again, to the same plan; its instance looked up each time: gone from
        the device, the name reads its table again and faults as before.
        """
        from proxier.upnpdm import cmsrouting

        names = ["Device.Hosts.Host.1.HostName", "Device.Time.Enable", "Device.DeviceInfo.SerialNumber"]
        held = self.model.constants
        self.ok(self.model.getParameterValues(names))  # Host.1 known from here on
        first = self.model.routing.resolveAllNow(names, held)
        self.assertIsNotNone(first)
        self.assertIn("Device.Hosts.Host.1.HostName", self.model.names.translator.parameters)
        checked: list[str] = []
        self.patch(cmsrouting, "checkName", checked.append)
        self.assertEqual(self.model.routing.resolveAllNow(names, held), first)
        self.assertEqual(checked, [])
        self.sim.cms.deleteLocalInstance("/BBF/Hosts/Host/0/")
        self.ok(self.model.getParameterNames("Device.Hosts.Host.", True))
        self.device.calls.clear()
        self.assertIsNone(self.model.routing.resolveAllNow(names, held))
        self.assertEqual(self.fault(self.model.getParameterValues(names)).code, 9005)
        self.assertEqual(self.sent("GetInstances"), [{"StartingNode": "/BBF/Hosts/Host/", "SearchDepth": 1}])

    def test_plansSharedByDevicesNumberingAlike(self) -> None:
        """
        The plan of a request's names is remembered for every device of the
        model (issue 19): another device numbering the instances alike gets
        it without routing a name; not a device holding one of the names
        itself, nor one numbering differently; bounded.
        """
        from proxier.upnpdm import cmsrouting

        self.patch(cmsrouting, "_plans", {})
        names = ["Device.Hosts.Host.1.HostName", "Device.Hosts.Host.1.IPAddress", "Device.Time.Enable"]
        self.ok(self.model.getParameterValues(names))
        other = CMSDataModel(self.profile, self.gate, DeviceState(self.store.document("other")), clock=self.clock)
        self.ok(other.getParameterValues(names))  # Host.1 known to it too
        held = self.model.constants
        routed: list = []
        resolveKnown = other.routing._resolveKnown
        self.patch(other.routing, "_resolveKnown", lambda *a: routed.append(a[0]) or resolveKnown(*a))
        expected = [("Device.Hosts.Host.1.HostName", "/BBF/Hosts/Host/0/HostName"),
                    ("Device.Hosts.Host.1.IPAddress", "/BBF/Hosts/Host/0/IPAddress"),
                    ("Device.Time.Enable", "/BBF/Time/Enable")]
        self.assertEqual(self.model.routing.resolveAllNow(names, held), expected)  # each name remembered
        self.assertEqual(self.model.routing.resolveAllNow(names, held), expected)  # all from remembered: a plan
        self.assertEqual(other.routing.resolveAllNow(names, held), expected)
        self.assertEqual(routed, [])
        constant = ParameterValue("Device.Time.Enable", "true", "xsd:boolean")
        self.assertEqual(other.routing.resolveAllNow(names, dict(held, **{"Device.Time.Enable": constant})),
                         expected[:2] + [("Device.Time.Enable", None)])
        self.assertEqual(routed, [names])
        self.sim.cms.deleteLocalInstance("/BBF/Hosts/Host/0/")
        self.ok(other.getParameterNames("Device.Hosts.Host.", True))  # Host.1 retired for the other alone
        self.assertIsNone(other.routing.resolveAllNow(names, held))
        self.assertEqual(self.model.routing.resolveAllNow(names, held), expected)
        self.patch(cmsrouting, "_MAX_PLANS", 1)
        self.model.routing.resolveAllNow(names[2:], held)
        self.assertEqual([key[1] for key in cmsrouting._plans], [tuple(names[2:])])
        self.patch(cmsrouting, "_MAX_PLAN_NAMES", 2)
        self.model.routing.resolveAllNow(names, held)
        self.assertEqual([key[1] for key in cmsrouting._plans], [tuple(names[2:])])

    def test_faultStopsAtTheSameName(self) -> None:
        """A name outside the model faults before an alias after it is read from the device."""
        fault = self.fault(self.model.getParameterValues(["Other.Thing", "Device.Hosts.Host.[cpe-x].HostName"]))
        self.assertEqual(fault.code, 9005)
        self.assertEqual(self.device.calls, [])
        fault = self.fault(self.model.getParameterValues(["Device.Time.Enable", "Device..Bad"]))
        self.assertEqual(fault.code, 9005)
        self.assertEqual(self.device.calls, [])


class Table2Tests(ModelTestCase):
    """Every row of TR-330 Table 2, as the device answers it to GetValues, reaches the ACS as its fault."""

    def test_everyRow(self) -> None:
        """For each row (and a code past the table), the device's error gives the row's CWMP fault."""
        codes = [(row.low, row.fault or errors.NOT_SPECIFIED_FAULT) for row in errors.TABLE_2]
        codes = [(606, 9002) if code == 606 else (code, fault) for code, fault in codes]
        codes.append((707, 9001))
        codes.append((612, 9001))
        for code, expected in codes:
            with self.subTest(code=code):
                self.sim.cms.injectFault(code, "GetValues")
                fault = self.fault(self.model.getParameterValues(["Device.Time.Enable"]))
                self.assertEqual(fault.code, expected)
                self.assertIn(f"UPnP error {code}", fault.string)


class SetParameterValuesTests(ModelTestCase):
    def test_applied(self) -> None:
        """One SetValues with every parameter; ChangesApplied → 0; booleans sent as 1/0 (§4.6.4.1)."""
        status = self.ok(self.model.setParameterValues([
            ParameterValue("Device.Time.NTPServer1", "ntp.example", "xsd:string"),
            ParameterValue("Device.Time.Enable", "false", "xsd:boolean"),
        ]))
        self.assertEqual(status, 0)
        [args] = self.sent("SetValues")
        self.assertEqual(devicexml.parseParameterValueList(args["ParameterValueList"]),
                         [("/BBF/Time/NTPServer1", "ntp.example"), ("/BBF/Time/Enable", "0")])
        self.assertEqual(self.sim.model.value("/BBF/Time/NTPServer1"), "ntp.example")

    def test_committed(self) -> None:
        """ChangesCommitted → Status 1."""
        self.sim.cms.changeStatus = CHANGES_COMMITTED
        self.assertEqual(self.ok(self.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "a")])), 1)

    def test_statusTable(self) -> None:
        """The Status table is §4.6.4.1's two rows."""
        self.assertEqual(dict(STATUS), {"ChangesApplied": 0, "ChangesCommitted": 1})

    def test_checkedBeforeSending(self) -> None:
        """Unknown name, read-only, wrong type, bad value: 9003 with each parameter's fault, nothing sent."""
        fault = self.fault(self.model.setParameterValues([
            ParameterValue("Device.Time.Nope", "x"),
            ParameterValue("Device.Time.Status", "Disabled", "xsd:string"),
            ParameterValue("Device.Time.Enable", "1", "xsd:dateTime"),
            ParameterValue("Device.Ethernet.Interface.1.MaxBitRate", "fast", "xsd:int"),
            ParameterValue("Device.Time.NTPServer1", "ok"),
            ParameterValue("Device.DeviceInfo.SupportedDataModel.1.URN", "x"),
            ParameterValue("Device.Time.", "x"),
        ]))
        self.assertEqual(fault.code, 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults], [
            ("Device.Time.Nope", 9005), ("Device.Time.Status", 9008), ("Device.Time.Enable", 9006),
            ("Device.Ethernet.Interface.1.MaxBitRate", 9007),
            ("Device.DeviceInfo.SupportedDataModel.1.URN", 9008), ("Device.Time.", 9005)])
        self.assertEqual(self.sent("SetValues"), [])

    def test_deviceRefusesOne(self) -> None:
        """The device refuses a single parameter (705, too long): 9003 naming it with 9007."""
        fault = self.fault(self.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "x" * 100)]))
        self.assertEqual(fault.code, 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults],
                         [("Device.Time.NTPServer1", 9007)])

    def test_deviceRefusesSeveral(self) -> None:
        """Several parameters and the device refuses: a failure without details (§4.6.4.1 note), nothing set."""
        self.sim.cms.injectFault(705, "SetValues")  # values TR-181 allows, refused by the device itself
        fault = self.fault(self.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "a"),
                                                          ParameterValue("Device.Time.NTPServer2", "b")]))
        self.assertEqual((fault.code, fault.parameterFaults), (9007, ()))
        self.assertEqual(self.sim.model.value("/BBF/Time/NTPServer2"), "")

    def test_unknownStatus(self) -> None:
        """A Status the device invents is taken as committed (applied later)."""
        self.device.rewrite = lambda action, out: dict(out, Status="Maybe") if action == "SetValues" else out
        self.assertEqual(self.ok(self.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "a")])), 1)

    def test_viaMappedAndAlias(self) -> None:
        """A Common Objects fallback and an alias path are set through the same SetValues."""
        self.ok(self.model.setParameterValues([ParameterValue("Device.Hosts.Host.[cpe-phone].HostName", "tablet")]))
        self.assertEqual(self.sim.model.value("/BBF/Hosts/Host/1/HostName"), "tablet")

    def test_duplicateName(self) -> None:
        """A name given twice is 9003."""
        fault = self.fault(self.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "a"),
                                                          ParameterValue("Device.Time.NTPServer1", "b")]))
        self.assertEqual(fault.code, 9003)


class AttributeTests(ModelTestCase):
    """TR-330 §4.6.5: Notification ↔ EventOnChange."""

    def test_getFromEventOnChange(self) -> None:
        """EventOnChange on → passive by default; off → 0; AccessList always empty; partial paths expanded."""
        attributes = self.ok(self.model.getParameterAttributes(["Device.Time."]))
        byName = {a.name: a for a in attributes}
        self.assertEqual(byName["Device.Time.NTPServer1"], ParameterAttributes("Device.Time.NTPServer1", 1, ()))
        self.assertEqual(byName["Device.Time.NTPServer2"].notification, 0)
        self.assertEqual(len(attributes), 6)

    def test_forcedActive(self) -> None:
        """SoftwareVersion (TR-181 forceEnabled) reads active, and cannot be lowered (9009)."""
        [a] = self.ok(self.model.getParameterAttributes(["Device.DeviceInfo.SoftwareVersion"]))
        self.assertEqual(a.notification, 2)
        fault = self.fault(self.model.setParameterAttributes([AttributeChange("Device.DeviceInfo.SoftwareVersion",
                                                                              True, 1)]))
        self.assertEqual(fault.code, 9009)

    def test_setLevelKept(self) -> None:
        """Active on a parameter whose EventOnChange is on already: no SetAttributes, the level kept durably."""
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer1", True, 2)]))
        self.assertEqual(self.sent("SetAttributes"), [])
        self.assertEqual(self.ok(self.model.getParameterAttributes(["Device.Time.NTPServer1"]))[0].notification, 2)
        self.assertEqual(DeviceState(self.store.document("device")).baselines.attributes, {"Device.Time.NTPServer1": (2, ())})

    def test_setTurnsEventOnChangeOnAndOff(self) -> None:
        """Notification on → SetAttributes EventOnChange 1 and the value watched; off → 0 and unwatched."""
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer2", True, 1)]))
        [args] = self.sent("SetAttributes")
        self.assertEqual(devicexml.parseNodeAttributeValueList(args["NodeAttributeValueList"]),
                         [("/BBF/Time/NTPServer2", "EventOnChange", "1")])
        self.assertTrue(self.sim.model.eventOnChangeOf("/BBF/Time/NTPServer2"))
        self.assertIn("/BBF/Time/NTPServer2", self.state.baselines.values)
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer2", True, 0)]))
        self.assertFalse(self.sim.model.eventOnChangeOf("/BBF/Time/NTPServer2"))
        self.assertNotIn("/BBF/Time/NTPServer2", self.state.baselines.values)

    def test_accessList(self) -> None:
        """Setting the AccessList is 9003 (§4.6.5.2.1), and nothing is sent."""
        fault = self.fault(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer1", False, 0,
                                                                              True, ("Subscriber",))]))
        self.assertEqual(fault.code, 9003)
        self.assertEqual(self.device.calls, [])

    def test_fixedEventOnChange(self) -> None:
        """An explicit parameter whose EventOnChange the device keeps fixed: 706 → 9009."""
        fault = self.fault(self.model.setParameterAttributes([AttributeChange("Device.Time.CurrentLocalTime",
                                                                              True, 1)]))
        self.assertEqual(fault.code, 9009)

    def test_partialPathSkipsFixed(self) -> None:
        """A partial path sets what it can; parameters with a fixed EventOnChange are left as they are."""
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Time.", True, 1)]))
        self.assertTrue(self.sim.model.eventOnChangeOf("/BBF/Time/NTPServer2"))
        self.assertTrue(self.sim.model.eventOnChangeOf("/BBF/Time/Enable"))
        self.assertFalse(self.sim.model.eventOnChangeOf("/BBF/Time/CurrentLocalTime"))
        levels = {a.name: a.notification for a in self.ok(self.model.getParameterAttributes(["Device.Time."]))}
        self.assertEqual(levels["Device.Time.CurrentLocalTime"], 0)
        self.assertEqual(levels["Device.Time.Enable"], 1)

    def test_rollbackWhenOneSetAttributesFails(self) -> None:
        """§4.6.5.2.1: when a later SetAttributes fails, the earlier ones are set back; the fault is mapped."""
        self.model.batch = 1
        calls = {"n": 0}
        original = self.sim.cms.action_SetAttributes

        def failSecond(NodeAttributeValueList: str) -> dict:
            calls["n"] += 1
            if calls["n"] == 2:
                from proxier.sim.errors import cmsError

                raise cmsError(709, "full")
            return original(NodeAttributeValueList)

        self.sim.cms.action_SetAttributes = failSecond
        fault = self.fault(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer2", True, 1),
                                                              AttributeChange("Device.Time.Enable", True, 1)]))
        self.assertEqual(fault.code, 9004)
        self.assertEqual(len(self.sent("SetAttributes")), 3)
        self.assertFalse(self.sim.model.eventOnChangeOf("/BBF/Time/NTPServer2"))
        self.assertFalse(self.sim.model.eventOnChangeOf("/BBF/Time/Enable"))
        self.assertEqual(self.state.baselines.attributes, {})


class ObjectTests(ModelTestCase):
    """TR-330 §4.6.6-§4.6.8: AddObject, DeleteObject, aliases."""

    def test_addObject(self) -> None:
        """CreateInstance; the new UPnP instance 2 is CWMP 3; Status relayed; the number is durable."""
        number, status = self.ok(self.model.addObject("Device.Hosts.Host."))
        self.assertEqual((number, status), (3, 0))
        self.assertEqual(self.sent("CreateInstance"), [{"MultiInstanceName": "/BBF/Hosts/Host/",
                                                        "ChildrenInitialization": ""}])
        self.assertEqual(DeviceState(self.store.document("device")).instances.number("/BBF/Hosts/Host/", 2), 3)
        self.assertEqual(self.ok(self.model.getParameterValues(["Device.Hosts.Host.3.Active"]))[0].value, "true")

    def test_addObjectCommitted(self) -> None:
        """CreateInstance's ChangesCommitted → Status 1."""
        self.sim.cms.changeStatus = CHANGES_COMMITTED
        self.assertEqual(self.ok(self.model.addObject("Device.Hosts.Host."))[1], 1)

    def test_deleteObject(self) -> None:
        """DeleteInstance; Status relayed; the number retired, never given again."""
        self.assertEqual(self.ok(self.model.deleteObject("Device.Hosts.Host.2.")), 0)
        self.assertEqual(self.sent("DeleteInstance"), [{"InstanceIdentifier": "/BBF/Hosts/Host/1/"}])
        self.assertEqual(self.fault(self.model.getParameterValues(["Device.Hosts.Host.2."])).code, 9005)
        self.assertEqual(self.ok(self.model.addObject("Device.Hosts.Host."))[0], 3)
        self.sim.cms.changeStatus = CHANGES_COMMITTED
        self.assertEqual(self.ok(self.model.deleteObject("Device.Hosts.Host.3.")), 1)

    def test_aliasAddressing(self) -> None:
        """An alias path reads the instance whose Alias it is; AddObject with an alias initializes it."""
        [value] = self.ok(self.model.getParameterValues(["Device.Hosts.Host.[cpe-phone].HostName"]))
        self.assertEqual(value, ParameterValue("Device.Hosts.Host.2.HostName", "phone"))
        number, _ = self.ok(self.model.addObject("Device.Hosts.Host.[cpe-tv]."))
        [args] = self.sent("CreateInstance")
        self.assertEqual(devicexml.parseParameterInitialValueList(args["ChildrenInitialization"]), [("Alias", "cpe-tv")])
        self.assertEqual(self.sim.model.value("/BBF/Hosts/Host/2/Alias"), "cpe-tv")
        self.assertEqual(number, 3)
        self.assertEqual(self.fault(self.model.addObject("Device.Hosts.Host.[cpe-tv].")).code, 9007)
        self.assertEqual(self.fault(self.model.getParameterValues(["Device.Hosts.Host.[nope].HostName"])).code, 9005)

    def test_aliasWithoutAliasColumn(self) -> None:
        """A table without Alias: an alias path is 9005, AddObject with an alias 9003."""
        self.assertEqual(self.fault(self.model.getParameterValues(["Device.Ethernet.Interface.[x].Name"])).code, 9005)
        self.assertEqual(self.fault(self.model.addObject("Device.Ethernet.Interface.[x].")).code, 9003)

    def test_refusals(self) -> None:
        """Not a table, read-only table (706 → 9008), no such instance, wrong path shapes."""
        self.assertEqual(self.fault(self.model.addObject("Device.Time.")).code, 9005)
        self.assertEqual(self.fault(self.model.addObject("Device.Ethernet.Interface.")).code, 9008)
        self.assertEqual(self.fault(self.model.deleteObject("Device.Hosts.Host.9.")).code, 9005)
        self.assertEqual(self.fault(self.model.deleteObject("Device.Hosts.Host.")).code, 9005)
        self.assertEqual(self.fault(self.model.addObject("Device.Hosts.Host")).code, 9005)
        self.assertEqual(self.fault(self.model.addObject("Device.DeviceInfo.SupportedDataModel.")).code, 9001)

    def test_tableFull(self) -> None:
        """A full table (709) is 9004."""
        self.sim.cms.injectFault(709, "CreateInstance")
        self.assertEqual(self.fault(self.model.addObject("Device.Hosts.Host.")).code, 9004)

    def test_lyingInstanceIdentifier(self) -> None:
        """An InstanceIdentifier outside the table is 9002, and no number is given."""
        self.device.rewrite = lambda action, out: dict(out, InstanceIdentifier="/BBF/Time/") \
            if action == "CreateInstance" else out
        self.assertEqual(self.fault(self.model.addObject("Device.Hosts.Host.")).code, 9002)
        self.assertEqual(self.state.instances.known("/BBF/Hosts/Host/"), {})

    def test_instanceNumbersAfterDeviceDeletes(self) -> None:
        """The device deletes an instance by itself: its CWMP number is retired at the next listing."""
        self.ok(self.model.getParameterNames("Device.Hosts.", False))
        self.sim.cms.deleteLocalInstance("/BBF/Hosts/Host/0/")
        self.sim.cms.addLocalInstance("/BBF/Hosts/Host/", [("HostName", "new")])
        names = [i.name for i in self.ok(self.model.getParameterNames("Device.Hosts.Host.", True))]
        self.assertEqual(names, ["Device.Hosts.Host.2.", "Device.Hosts.Host.3."])


class RebootTests(ModelTestCase):
    def test_reboot(self) -> None:
        """Reboot → BMS Reboot; the device is told a reboot is coming first."""
        self.ok(self.model.reboot("ck"))
        self.assertEqual(self.reboots, ["ck"])
        self.assertEqual(self.device.actions("bms"), ["Reboot"])

    def test_factoryReset(self) -> None:
        """FactoryReset → BMS BaselineReset."""
        self.ok(self.model.factoryReset())
        self.assertEqual(self.device.actions("bms"), ["BaselineReset"])

    def test_transfersNotYet(self) -> None:
        """Download and Upload are 9000 (issue 7)."""
        self.assertEqual(self.fault(self.model.download(None)).code, 9000)
        self.assertEqual(self.fault(self.model.upload(None)).code, 9000)


class WithoutRebootTests(ModelTestCase):
    disabled = ("Reboot", "BaselineReset")

    def test_notOffered(self) -> None:
        """No BMS Reboot / BaselineReset: not in supportedMethods, and 9000 if asked anyway."""
        self.assertFalse({"Reboot", "FactoryReset"} & self.model.supportedMethods())
        self.assertEqual(self.fault(self.model.reboot("")).code, 9000)
        self.assertEqual(self.fault(self.model.factoryReset()).code, 9000)


class AliasChangeTests(ModelTestCase):
    def test_aliasChangedByTheACS(self) -> None:
        """After the ACS sets a new Alias the old one no longer resolves, the new one does."""
        self.ok(self.model.getParameterValues(["Device.Hosts.Host.[cpe-phone].HostName"]))
        self.ok(self.model.setParameterValues([ParameterValue("Device.Hosts.Host.2.Alias", "cpe-tablet")]))
        self.assertEqual(self.fault(self.model.getParameterValues(["Device.Hosts.Host.[cpe-phone].HostName"])).code,
                         9005)
        [value] = self.ok(self.model.getParameterValues(["Device.Hosts.Host.[cpe-tablet].HostName"]))
        self.assertEqual(value.name, "Device.Hosts.Host.2.HostName")


class AliasAnswersTests(ModelTestCase):
    """
    Every RPC by alias answers under the instance numbers (TR-181
    ManagementServer.InstanceMode's default, InstanceNumber, the only mode
    the proxier offers), and what the proxier keeps of a parameter is kept
    under that name.
    """

    def test_readsNameTheNumber(self) -> None:
        """GetParameterNames (a parameter, an object, both levels) and GetParameterAttributes by alias, as by number."""
        for alias, number in (("Device.Hosts.Host.[cpe-phone].HostName", "Device.Hosts.Host.2.HostName"),
                              ("Device.Hosts.Host.[cpe-phone].", "Device.Hosts.Host.2.")):
            self.assertEqual(self.ok(self.model.getParameterNames(alias, False)),
                             self.ok(self.model.getParameterNames(number, False)), alias)
            self.assertEqual(self.ok(self.model.getParameterNames(alias, True)),
                             self.ok(self.model.getParameterNames(number, True)), alias)
            self.assertEqual(self.ok(self.model.getParameterAttributes([alias])),
                             self.ok(self.model.getParameterAttributes([number])), alias)
        self.assertEqual(self.ok(self.model.getParameterNames("Device.Hosts.Host.[cpe-phone].", False))[0],
                         ParameterInfo("Device.Hosts.Host.2.", True))

    def test_notificationByAlias(self) -> None:
        """
        SetParameterAttributes by alias keeps the Notification under the
        instance number: GetParameterAttributes by number reads Active (it
        was kept under the alias text, and read Passive).
        """
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Hosts.Host.[cpe-phone].HostName", True, 2)]))
        [attributes] = self.ok(self.model.getParameterAttributes(["Device.Hosts.Host.2.HostName"]))
        self.assertEqual(attributes.notification, 2)
        self.assertNotIn("Device.Hosts.Host.[cpe-phone].HostName", self.state.baselines.attributes)

    def test_sameParameterTwice(self) -> None:
        """
        One parameter by alias and by number in one SetParameterValues is
        9003 (TR-069 A.3.2.1), and nothing is sent to the device (it
        answered 707 Multiple Set, a 9001).
        """
        fault = self.fault(self.model.setParameterValues([
            ParameterValue("Device.Hosts.Host.[cpe-phone].HostName", "a"),
            ParameterValue("Device.Hosts.Host.2.HostName", "b")]))
        self.assertEqual(fault.code, 9003)
        self.assertEqual(self.sent("SetValues"), [])


class TreeOrderTests(unittest.TestCase):
    def test_unicodeDigitsAreNames(self) -> None:
        """
        Tree order sorts ASCII instance numbers numerically and anything else
        as a name: a segment of Unicode digits ('²' passed isdigit() and
        raised ValueError from int(), failing the whole RPC) sorts after the
        numbers, and never raises.
        """
        from proxier.upnpdm.cmsrouting import treeOrder

        names = ["Device.X.10", "Device.X.²", "Device.X.2", "Device.X.١", "Device.X.B"]
        self.assertEqual(sorted(names, key=treeOrder),
                         ["Device.X.2", "Device.X.10", "Device.X.B", "Device.X.²", "Device.X.١"])
