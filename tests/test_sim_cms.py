"""Tests for L{proxier.sim.cms}: ConfigurationManagement:2 actions, evented state and local changes."""

from __future__ import annotations

from twisted.internet import task
from twisted.trial import unittest

from proxier.sim import cmsxml
from proxier.sim.cms import CHANGES_APPLIED, CHANGES_COMMITTED, ConfigurationManagement, formatTime
from proxier.sim.errors import ActionError

from tests.test_sim_fakes import IDENTITY, invoke, makeModel

NS = 'xmlns:cms="urn:schemas-upnp-org:dm:cms"'


def contentPaths(*paths: str) -> str:
    return f"<cms:ContentPathList {NS}>" + "".join(f"<ContentPath>{p}</ContentPath>" for p in paths) + "</cms:ContentPathList>"


def values(*pairs: tuple[str, str]) -> str:
    return cmsxml.parameterValueList(pairs)


def attributePaths(*paths: str) -> str:
    return f"<cms:NodeAttributePathList {NS}>" + "".join(
        f"<NodeAttributePath>{p}</NodeAttributePath>" for p in paths) + "</cms:NodeAttributePathList>"


class CMSTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.cms = ConfigurationManagement(makeModel(self.clock), self.clock)
        self.events: list[list[tuple[str, str]]] = []
        self.cms.addListener(self.events.append)

    def code(self, action: str, **arguments) -> int:
        with self.assertRaises(ActionError) as caught:
            invoke(self.cms, action, **arguments)
        return caught.exception.code

    def get(self, *paths: str) -> dict[str, str]:
        out = invoke(self.cms, "GetValues", Parameters=contentPaths(*paths))
        return dict(cmsxml.parseParameterValueList(out["ParameterValueList"]))

    def eventNames(self) -> list[str]:
        return [name for event in self.events for name, _ in event]


class ReadActionTests(CMSTestCase):
    def test_supportedDataModels(self) -> None:
        """GetSupportedDataModels announces the UPnP DM Common Objects at /UPnP/DM/ and the BBF model at /BBF/."""
        out = invoke(self.cms, "GetSupportedDataModels")["SupportedDataModels"]
        root = cmsxml.parseDocument(out, "SupportedDataModels")
        locations = {s.findtext("Location"): s.findtext("URI") for s in root.findall("SubTree")}
        self.assertEqual(set(locations), {"/UPnP/DM/", "/BBF/"})
        self.assertTrue(locations["/UPnP/DM/"].startswith("urn:schemas-upnp-org:dm:"))
        self.assertTrue(locations["/BBF/"].startswith("urn:broadband-forum-org:tr-181-2-"))

    def test_getValues(self) -> None:
        """GetValues answers the identity TR-330 needs, and 703 for a name that does not exist."""
        got = self.get("/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber", "/BBF/Hosts/Host/1/")
        self.assertEqual(got["/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber"], IDENTITY.serialNumber)
        self.assertEqual(got["/BBF/Hosts/Host/1/HostName"], "phone")
        self.assertEqual(self.code("GetValues", Parameters=contentPaths("/BBF/Nope")), 703)
        self.assertEqual(self.code("GetValues", Parameters=contentPaths("BBF")), 701)
        self.assertEqual(self.code("GetValues", Parameters="<ContentPathList>"), 702)

    def test_supportedParametersAndInstances(self) -> None:
        """GetSupportedParameters and GetInstances answer the StructurePath and InstancePath lists."""
        out = invoke(self.cms, "GetSupportedParameters", StartingNode="/BBF/Hosts/", SearchDepth=1)["Result"]
        root = cmsxml.parseDocument(out, "StructurePathList")
        self.assertEqual([e.text for e in root], ["/BBF/Hosts/HostNumberOfEntries", "/BBF/Hosts/Host/#/"])
        out = invoke(self.cms, "GetInstances", StartingNode="/BBF/Hosts/Host/", SearchDepth=1)["Result"]
        root = cmsxml.parseDocument(out, "InstancePathList")
        self.assertEqual([e.text for e in root], ["/BBF/Hosts/Host/0/", "/BBF/Hosts/Host/1/"])
        self.assertEqual(self.code("GetInstances", StartingNode="/BBF/Nope/", SearchDepth=0), 703)

    def test_getSelectedValues(self) -> None:
        """GetSelectedValues returns the parameters of the instances the filter selects."""
        def selected(start: str, filter: str) -> dict:
            out = invoke(self.cms, "GetSelectedValues", StartingNode=start, Filter=filter)["ParameterValueList"]
            return dict(cmsxml.parseParameterValueList(out))

        active = selected("/BBF/Hosts/Host/#/", "Active=1")
        self.assertEqual({p for p in active if p.endswith("HostName")}, {"/BBF/Hosts/Host/0/HostName"})
        self.assertEqual(len(selected("/BBF/Hosts/Host/#/", "")), 12)
        both = selected("/BBF/Hosts/Host/#/", "Active=true and HostName!='phone'")
        self.assertIn("/BBF/Hosts/Host/0/Alias", both)
        self.assertEqual(selected("/BBF/Hosts/Host/#/", 'HostName="nobody"'), {})
        self.assertEqual(selected("/BBF/Hosts/Host/#/HostName", ""),
                         {"/BBF/Hosts/Host/0/HostName": "laptop", "/BBF/Hosts/Host/1/HostName": "phone"})
        self.assertEqual(self.code("GetSelectedValues", StartingNode="/BBF/Hosts/Host/#/", Filter="Active"), 701)
        self.assertEqual(self.code("GetSelectedValues", StartingNode="/BBF/Hosts/Host/#/", Filter="Nope=1"), 703)
        self.assertEqual(self.code("GetSelectedValues", StartingNode="/BBF/Hosts/Host/#/", Filter="9x=1"), 701)

    def test_getAttributes(self) -> None:
        """GetAttributes answers every attribute of each node, or the one named after '#'; '#' instances expand."""
        out = invoke(self.cms, "GetAttributes", Parameters=attributePaths(
            "/BBF/Time/NTPServer1", "/BBF/Hosts/Host/#/HostName#EventOnChange"))["NodeAttributeValueList"]
        root = cmsxml.parseDocument(out, "NodeAttributeValueList")
        nodes = [[(c.tag, c.text) for c in node] for node in root]
        self.assertEqual(nodes[0], [("NodeAttributePath", "/BBF/Time/NTPServer1"), ("Access", "readWrite"),
                                    ("Type", "string"), ("EventOnChange", "1"), ("Version", "2")])
        self.assertEqual(nodes[1], [("NodeAttributePath", "/BBF/Hosts/Host/0/HostName#EventOnChange"),
                                    ("EventOnChange", "1")])
        self.assertEqual(len(nodes), 3)
        self.assertEqual(self.code("GetAttributes", Parameters=attributePaths("/BBF/Time/NTPServer1#Colour")), 703)

    def test_aclData(self) -> None:
        """GetACLData gives read roles for every node and the Admin write role for writable ones."""
        out = invoke(self.cms, "GetACLData", StartingNodes=f"<cms:StructurePathList {NS}><StructurePath>"
                     "/BBF/Time/NTPServer1</StructurePath><StructurePath>/BBF/DeviceInfo/SerialNumber"
                     "</StructurePath></cms:StructurePathList>")["ACL"]
        root = cmsxml.parseDocument(out, "ACLData")
        self.assertEqual([n.findtext("WriteRoles") or "" for n in root], ["Admin", ""])


class WriteActionTests(CMSTestCase):
    def test_setValuesApplied(self) -> None:
        """SetValues writes, answers ChangesApplied, raises the version and events ConfigurationUpdate."""
        out = invoke(self.cms, "SetValues", ParameterValueList=values(("/BBF/Time/NTPServer1", "ntp.example")))
        self.assertEqual(out, {"Status": CHANGES_APPLIED})
        self.assertEqual(self.get("/BBF/Time/NTPServer1"), {"/BBF/Time/NTPServer1": "ntp.example"})
        self.assertEqual(invoke(self.cms, "GetCurrentConfigurationVersion"), {"StateVariableValue": "1"})
        update = f"1,{formatTime(self.clock.seconds())}"
        self.assertEqual(self.events, [[("ConfigurationUpdate", update)]])
        self.assertEqual(invoke(self.cms, "GetConfigurationUpdate"), {"StateVariableValue": update})

    def test_noEventWithoutEventOnChange(self) -> None:
        """A change of a parameter without EventOnChange raises the version but sends no event (TR-330 Table 1)."""
        invoke(self.cms, "SetValues", ParameterValueList=values(("/BBF/Time/NTPServer2", "b.example")))
        self.assertEqual(self.cms.version, 1)
        self.assertEqual(self.events, [])
        invoke(self.cms, "SetAttributes", NodeAttributeValueList=cmsxml.nodeAttributeValueList(
            [("/BBF/Time/NTPServer2", {"EventOnChange": "1"})]))
        self.assertEqual(self.eventNames(), ["AttributeValuesUpdate"])
        invoke(self.cms, "SetValues", ParameterValueList=values(("/BBF/Time/NTPServer2", "c.example")))
        self.assertEqual(self.eventNames()[-1], "ConfigurationUpdate")
        self.assertEqual(self.cms.version, 3)

    def test_setValuesErrorsChangeNothing(self) -> None:
        """A failed SetValues (706 here) leaves the version and the values alone, and sends nothing."""
        self.assertEqual(self.code("SetValues", ParameterValueList=values(
            ("/BBF/Time/NTPServer1", "x.example"), ("/BBF/DeviceInfo/SerialNumber", "X"))), 706)
        self.assertEqual(self.cms.version, 0)
        self.assertEqual(self.events, [])
        self.assertEqual(self.code("SetValues", ParameterValueList=f"<cms:ParameterValueList {NS}/>"), 701)

    def test_changesCommitted(self) -> None:
        """In committed mode writes are read back at once, InconsistentStatus is on until they are applied."""
        self.cms.changeStatus = CHANGES_COMMITTED
        out = invoke(self.cms, "SetValues", ParameterValueList=values(("/BBF/Time/NTPServer1", "c.example")))
        self.assertEqual(out, {"Status": CHANGES_COMMITTED})
        self.assertEqual(self.get("/BBF/Time/NTPServer1"), {"/BBF/Time/NTPServer1": "c.example"})
        self.assertEqual(invoke(self.cms, "GetInconsistentStatus"), {"StateVariableValue": "1"})
        self.cms.busyWhileApplying = True
        self.assertEqual(self.code("SetValues", ParameterValueList=values(("/BBF/Time/NTPServer1", "d"))), 708)
        self.clock.advance(self.cms.applyDelay)
        self.assertEqual(invoke(self.cms, "GetInconsistentStatus"), {"StateVariableValue": "0"})
        self.assertIn(("InconsistentStatus", "1"), [v for e in self.events for v in e])
        self.assertEqual(self.events[-1], [("InconsistentStatus", "0")])

    def test_createAndDeleteInstance(self) -> None:
        """CreateInstance returns the new InstancePath; DeleteInstance removes it; both event the table."""
        init = f"<cms:ParameterInitialValueList {NS}><Parameter><RelativePath>HostName</RelativePath><Value>tv" \
               "</Value></Parameter></cms:ParameterInitialValueList>"
        out = invoke(self.cms, "CreateInstance", MultiInstanceName="/BBF/Hosts/Host/", ChildrenInitialization=init)
        self.assertEqual(out, {"InstanceIdentifier": "/BBF/Hosts/Host/2/", "Status": CHANGES_APPLIED})
        self.assertEqual(self.get("/BBF/Hosts/Host/2/HostName"), {"/BBF/Hosts/Host/2/HostName": "tv"})
        self.assertEqual(invoke(self.cms, "DeleteInstance", InstanceIdentifier="/BBF/Hosts/Host/2/"),
                         {"Status": CHANGES_APPLIED})
        self.assertEqual(self.eventNames(), ["ConfigurationUpdate", "ConfigurationUpdate"])
        self.assertEqual(self.code("DeleteInstance", InstanceIdentifier="/BBF/Hosts/Host/2/"), 703)
        self.assertEqual(self.code("CreateInstance", MultiInstanceName="/BBF/Ethernet/Interface/",
                                   ChildrenInitialization=""), 706)

    def test_alarms(self) -> None:
        """With AlarmsEnabled, a change of an AlarmOnChange parameter puts its value in ConfigurationUpdate."""
        self.cms.setLocal("/BBF/Ethernet/Interface/0/Status", "Down")
        self.assertEqual(self.events[-1][0][1].count(","), 1)
        self.assertEqual(invoke(self.cms, "GetAlarmsEnabled"), {"StateVariableValue": "0"})
        invoke(self.cms, "SetAlarmsEnabled", StateVariableValue="1")
        self.assertEqual(self.events[-1], [("AlarmsEnabled", "1")])
        self.cms.setLocal("/BBF/Ethernet/Interface/0/Status", "Up")
        version, when, alarms = self.events[-1][0][1].split(",", 2)
        self.assertEqual(version, str(self.cms.version))
        self.assertEqual(cmsxml.parseParameterValueList(alarms), [("/BBF/Ethernet/Interface/0/Status", "Up")])

    def test_alarmAlone(self) -> None:
        """An alarmed parameter whose EventOnChange is off still events when alarms are enabled."""
        invoke(self.cms, "SetAttributes", NodeAttributeValueList=cmsxml.nodeAttributeValueList(
            [("/BBF/Ethernet/Interface/0/Status", {"EventOnChange": "0"})]))
        self.cms.setLocal("/BBF/Ethernet/Interface/0/Status", "Down")
        self.assertEqual(self.eventNames(), ["AttributeValuesUpdate"])
        self.cms.alarmsEnabled = True
        self.cms.setLocal("/BBF/Ethernet/Interface/0/Status", "Up")
        self.assertEqual(self.eventNames()[-1], "ConfigurationUpdate")

    def test_setAttributes(self) -> None:
        """SetAttributes changes EventOnChange, counts AttributeValuesUpdate, refuses fixed attributes with 706."""
        out = invoke(self.cms, "SetAttributes", NodeAttributeValueList=f"<cms:NodeAttributeValueList {NS}><Node>"
                     "<NodeAttributePath>/BBF/Time/NTPServer1#EventOnChange</NodeAttributePath><Value>0</Value>"
                     "</Node></cms:NodeAttributeValueList>")
        self.assertEqual(out, {"Status": CHANGES_APPLIED})
        self.assertFalse(self.cms.model.eventOnChangeOf("/BBF/Time/NTPServer1"))
        self.assertTrue(invoke(self.cms, "GetAttributeValuesUpdate")["StateVariableValue"].startswith("1,"))
        self.assertEqual(self.code("SetAttributes", NodeAttributeValueList=cmsxml.nodeAttributeValueList(
            [("/BBF/Time/NTPServer1", {"Type": "int"})])), 706)

    def test_stateVariableGetters(self) -> None:
        """Each Get... of a state variable answers its value."""
        now = formatTime(self.clock.seconds())
        self.assertEqual(invoke(self.cms, "GetSupportedDataModelsUpdate"), {"StateVariableValue": f"1,{now}"})
        self.assertEqual(invoke(self.cms, "GetSupportedParametersUpdate"), {"StateVariableValue": f"1,{now}"})
        self.assertEqual(invoke(self.cms, "GetConfigurationUpdate"), {"StateVariableValue": f"0,{now}"})
        self.assertEqual(invoke(self.cms, "GetAttributeValuesUpdate"), {"StateVariableValue": f"0,{now}"})

    def test_initialEventValues(self) -> None:
        """The initial event lists every evented CMS variable the SCPD has."""
        self.assertEqual([n for n, _ in self.cms.eventedValues()],
                         ["ConfigurationUpdate", "SupportedDataModelsUpdate", "SupportedParametersUpdate",
                          "AttributeValuesUpdate", "InconsistentStatus", "AlarmsEnabled"])


class LocalChangeTests(CMSTestCase):
    def test_setLocal(self) -> None:
        """The device's user changes a value: version, event and listeners, as for a control point's change."""
        heard = []
        self.cms.onChange(lambda changes, local: heard.append((changes.values, local)))
        self.cms.setLocal("/BBF/Time/NTPServer1", "local.example")
        self.assertEqual(self.get("/BBF/Time/NTPServer1"), {"/BBF/Time/NTPServer1": "local.example"})
        self.assertEqual(self.eventNames(), ["ConfigurationUpdate"])
        self.assertEqual(heard, [(["/BBF/Time/NTPServer1"], True)])
        self.assertRaises(ActionError, self.cms.setLocal, "/BBF/Time/Enable", "perhaps")

    def test_localInstances(self) -> None:
        """A host appears and leaves by itself: instances and counter change, events follow."""
        path = self.cms.addLocalInstance("/BBF/Hosts/Host/", [("HostName", "printer")])
        self.assertEqual(self.get("/BBF/Hosts/HostNumberOfEntries"), {"/BBF/Hosts/HostNumberOfEntries": "3"})
        self.cms.deleteLocalInstance(path)
        self.assertEqual(self.get("/BBF/Hosts/HostNumberOfEntries"), {"/BBF/Hosts/HostNumberOfEntries": "2"})
        self.assertEqual(self.eventNames(), ["ConfigurationUpdate", "ConfigurationUpdate"])

    def test_factoryReset(self) -> None:
        """A baseline reset restores the factory values and counts as a change."""
        self.cms.setLocal("/BBF/Time/NTPServer1", "x.example")
        self.cms.alarmsEnabled = True
        self.cms.factoryReset()
        self.assertEqual(self.get("/BBF/Time/NTPServer1"), {"/BBF/Time/NTPServer1": "pool.ntp.org"})
        self.assertFalse(self.cms.alarmsEnabled)
        self.assertEqual(self.cms.version, 2)

    def test_versionWraps(self) -> None:
        """CurrentConfigurationVersion is a ui4: after 2**32-1 comes 0."""
        self.cms.version = 2**32 - 1
        self.cms.setLocal("/BBF/Time/NTPServer1", "w.example")
        self.assertEqual(self.cms.version, 0)
