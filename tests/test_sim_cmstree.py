"""Tests for L{proxier.sim.cmstree}: the CMS:2 data-model engine of a simulated device."""

from __future__ import annotations

import copy
import json

from twisted.trial import unittest

from proxier.sim.cmstree import LEAF_TYPES, Model, Schema, SchemaError, parsePath
from proxier.sim.errors import ActionError
from proxier.sim.fleet import DEFAULT_DATA_FILE

from tests.test_sim_fakes import IDENTITY, makeModel, schema


def code(test: unittest.TestCase, f, *args, **kw) -> int:
    """The CMS error code C{f} fails with."""
    with test.assertRaises(ActionError) as caught:
        f(*args, **kw)
    return caught.exception.code


def document() -> dict:
    with open(DEFAULT_DATA_FILE, encoding="utf-8") as f:
        return json.load(f)


class SchemaTests(unittest.TestCase):
    def test_packagedFile(self) -> None:
        """The packaged data file loads: both data models, the placeholders a device fills, its bindings."""
        s = schema()
        self.assertEqual([m.location for m in s.dataModels], ["/UPnP/DM/", "/BBF/"])
        self.assertTrue(s.dataModels[0].uri.startswith("urn:schemas-upnp-org:dm:"))
        self.assertEqual(s.placeholders, set(IDENTITY.substitutions()))
        self.assertEqual(s.byStructurePath("/BBF/Hosts/Host/#/").kind, "table")
        self.assertEqual(s.byStructurePath("/BBF/Hosts/Host/#/HostName").access, "readWrite")
        self.assertIn("firmwareURI", s.bindings)

    def test_commonObjects(self) -> None:
        """The identity sits where INTEROP.md says devices put it: /UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/."""
        for name in ("ManufacturerOUI", "ProductClass", "SerialNumber"):
            node = schema().byStructurePath(f"/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/{name}")
            self.assertEqual((node.kind, node.access), ("leaf", "readOnly"))

    def broken(self, mutate) -> str:
        doc = document()
        mutate(doc)
        with self.assertRaises(SchemaError) as caught:
            Schema.fromDocument(doc)
        return str(caught.exception)

    def test_rejections(self) -> None:
        """Each kind of mistake in a data file is refused with a message naming it."""
        cases = [
            (lambda d: d.update(format="other"), "not a proxier-sim-datamodel/1"),
            (lambda d: d.update(nodes=[]), "non-empty list"),
            (lambda d: d["nodes"].append({"path": "/Nope/X", "type": "string"}), "must be declared before"),
            (lambda d: d["nodes"].append({"path": "/BBF/X", "type": "float"}), "type must be"),
            (lambda d: d["nodes"].append({"path": "/BBF/DeviceInfo/Manufacturer", "type": "string"}), "declared twice"),
            (lambda d: d["nodes"].append({"path": "/BBF/Y", "type": "string", "colour": 1}), "unknown keys"),
            (lambda d: d["nodes"].append({"path": "/BBF/Z", "type": "string", "access": "rw"}), "access must be"),
            (lambda d: d["nodes"].append({"path": "/BBF/Hosts/Host/Q", "type": "string"}), "below its '#'"),
            (lambda d: d["nodes"].append({"path": "/BBF/#/Q", "type": "string"}), "not a table"),
            (lambda d: d["nodes"].append({"path": "/BBF/9x", "type": "string"}), "not a valid node name"),
            (lambda d: d["nodes"].append({"path": "/BBF/O/", "eventOnChange": True}), "parameters and tables only"),
            (lambda d: d["nodes"].append({"path": "/BBF/N", "type": "string", "countOf": "Host"}),
             "read-only unsigned"),
            (lambda d: d["nodes"].append({"path": "/BBF/Hosts/C", "type": "unsignedInt", "countOf": "Nope"}),
             "not a sibling table"),
            (lambda d: d["nodes"].append({"path": "/BBF/D", "type": "string", "dynamic": "now", "access": "readWrite"}),
             "dynamic parameter is read-only"),
            (lambda d: d["instances"].update({"/BBF/Time/": [{}]}), "not a table"),
            (lambda d: d["instances"]["/BBF/Hosts/Host/"].append({"Colour": "red"}), "unknown parameter"),
            (lambda d: d.update(dataModels=[{"uri": "urn:x", "location": "/Nowhere/"}]), "not in the tree"),
            (lambda d: d.update(dataModels=[]), "at least one data model"),
            (lambda d: d.update(bindings={"x": "/BBF/Hosts/"}), "not a parameter"),
        ]
        for mutate, expected in cases:
            self.assertIn(expected, self.broken(mutate))

    def test_fromFileErrors(self) -> None:
        """A missing or non-JSON file is a SchemaError naming the file."""
        missing = self.mktemp()
        self.assertIn(missing, str(self.assertRaises(SchemaError, Schema.fromFile, missing)))
        bad = self.mktemp()
        with open(bad, "w") as f:
            f.write("{")
        self.assertIn("not JSON", str(self.assertRaises(SchemaError, Schema.fromFile, bad)))

    def test_missingSubstitution(self) -> None:
        """A device must supply every placeholder the file uses."""
        subs = IDENTITY.substitutions()
        del subs["serialNumber"]
        self.assertRaises(ValueError, Model, schema(), subs)


class PathTests(unittest.TestCase):
    def test_grammar(self) -> None:
        """Paths split into segments; a trailing '/' marks an object, table or instance."""
        self.assertEqual(parsePath("/BBF/Hosts/Host/1/HostName"), (["BBF", "Hosts", "Host", "1", "HostName"], False))
        self.assertEqual(parsePath("/BBF/Hosts/"), (["BBF", "Hosts"], True))
        self.assertEqual(parsePath(" /BBF/ "), (["BBF"], True))
        self.assertEqual(parsePath("/"), ([], True))
        self.assertEqual(parsePath("/BBF/Hosts/Host/#/", allowWildcard=True), (["BBF", "Hosts", "Host", "#"], True))

    def test_syntaxErrors(self) -> None:
        """What is not a CMS path is 701 Invalid Argument Syntax."""
        for bad in ("BBF/Hosts/", "/BBF//Hosts/", "/BBF/Hosts/Host/01/", "/BBF/Ho.sts/", "/BBF/#/", "",
                    "/" + "a/" * 40, "/x" * 600, None):
            self.assertEqual(code(self, parsePath, bad), 701, bad)


class ReadTests(unittest.TestCase):
    def setUp(self) -> None:
        self.model = makeModel()

    def test_resolveKinds(self) -> None:
        """A path resolves to a parameter, an object, a table or an instance."""
        m = self.model
        self.assertEqual(m.resolve("/BBF/Hosts/Host/0/HostName").kind, "leaf")
        self.assertEqual(m.resolve("/BBF/Hosts/").kind, "object")
        self.assertEqual(m.resolve("/BBF/Hosts/Host/").kind, "table")
        self.assertEqual(m.resolve("/BBF/Hosts/Host/1/").kind, "instance")
        self.assertEqual(m.resolve("/").path, "/")

    def test_resolveNoSuchName(self) -> None:
        """Names and instances that do not exist, and the wrong ending, are 703 No Such Name."""
        for bad in ("/BBF/Nope", "/BBF/Hosts/Host/7/", "/BBF/Hosts/Host/0/Nope", "/BBF/Hosts",
                    "/BBF/Hosts/Host/0/HostName/", "/BBF/Hosts/Host/0/HostName/X", "/BBF/Hosts/Host/x/"):
            self.assertEqual(code(self, self.model.resolve, bad), 703, bad)
        self.assertEqual(code(self, self.model.resolve, "/BBF/Hosts/Host/#/"), 701)

    def test_identityValues(self) -> None:
        """A device's factory values carry its own identity."""
        values = dict(self.model.getValues(["/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/"]))
        self.assertEqual(values, {
            "/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/ManufacturerOUI": IDENTITY.oui,
            "/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/ProductClass": IDENTITY.productClass,
            "/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber": IDENTITY.serialNumber,
        })

    def test_getValuesShapes(self) -> None:
        """A parameter, an object, a table, an instance and a '#' pattern each give their parameters, in tree order."""
        m = self.model
        self.assertEqual(m.getValues(["/BBF/Hosts/Host/1/HostName"]), [("/BBF/Hosts/Host/1/HostName", "phone")])
        table = [p for p, _ in m.getValues(["/BBF/Hosts/Host/"])]
        self.assertEqual(table[0], "/BBF/Hosts/Host/0/Alias")
        self.assertEqual(len(table), 12)
        self.assertEqual([p for p, _ in m.getValues(["/BBF/Hosts/"])], ["/BBF/Hosts/HostNumberOfEntries"] + table)
        self.assertEqual(len(m.getValues(["/BBF/Hosts/Host/0/"])), 6)
        self.assertEqual(m.getValues(["/BBF/Hosts/Host/#/HostName"]),
                         [("/BBF/Hosts/Host/0/HostName", "laptop"), ("/BBF/Hosts/Host/1/HostName", "phone")])
        self.assertEqual(len(m.getValues(["/BBF/Hosts/Host/#/"])), 12)

    def test_getValuesDeduplicates(self) -> None:
        """Overlapping content paths list each parameter once, in the order first asked."""
        values = self.model.getValues(["/BBF/Time/NTPServer1", "/BBF/Time/"])
        paths = [p for p, _ in values]
        self.assertEqual(paths[0], "/BBF/Time/NTPServer1")
        self.assertEqual(len(paths), len(set(paths)))

    def test_wildcardNoMatch(self) -> None:
        """A valid '#' pattern naming no instance today answers nothing; an invalid one is 703."""
        self.model.deleteInstance("/BBF/Hosts/Host/0/", local=True)
        self.model.deleteInstance("/BBF/Hosts/Host/1/", local=True)
        self.assertEqual(self.model.getValues(["/BBF/Hosts/Host/#/HostName"]), [])
        self.assertEqual(code(self, self.model.getValues, ["/BBF/Hosts/Host/#/Nope"]), 703)

    def test_dynamicAndCounters(self) -> None:
        """UpTime comes from the device's clock, NumberOfEntries from the table."""
        m = self.model
        self.assertEqual(m.value("/UPnP/DM/DeviceInfo/UpTime"), "0")
        self.assertEqual(m.value("/BBF/Hosts/HostNumberOfEntries"), "2")
        self.assertEqual(m.value("/BBF/Time/CurrentLocalTime"), "2024-01-01T00:00:00Z")

    def test_supportedParametersDepth(self) -> None:
        """GetSupportedParameters lists StructurePaths to the depth asked (0: all); a table counts as one level."""
        m = self.model
        self.assertEqual(m.supportedParameters("/BBF/Hosts/", 1), ["/BBF/Hosts/HostNumberOfEntries", "/BBF/Hosts/Host/#/"])
        full = m.supportedParameters("/BBF/Hosts/", 0)
        self.assertIn("/BBF/Hosts/Host/#/HostName", full)
        self.assertEqual(m.supportedParameters("/BBF/Hosts/Host/#/", 1)[0], "/BBF/Hosts/Host/#/Alias")
        self.assertEqual(m.supportedParameters("/BBF/Hosts/Host/", 1), m.supportedParameters("/BBF/Hosts/Host/#/", 1))
        self.assertEqual(m.supportedParameters("/BBF/Time/NTPServer1", 0), ["/BBF/Time/NTPServer1"])
        two = m.supportedParameters("/BBF/Ethernet/", 2)
        self.assertIn("/BBF/Ethernet/Interface/#/Stats/", two)
        self.assertNotIn("/BBF/Ethernet/Interface/#/Stats/BytesSent", two)
        self.assertIn("/BBF/Ethernet/Interface/#/Stats/BytesSent", m.supportedParameters("/BBF/Ethernet/", 3))
        self.assertEqual(code(self, m.supportedParameters, "/BBF/Nope/", 0), 703)
        self.assertEqual(code(self, m.supportedParameters, "BBF", 0), 701)

    def test_instancesDepth(self) -> None:
        """GetInstances lists the InstancePaths below a partial path, 0-based, to the depth asked."""
        m = self.model
        self.assertEqual(m.instances("/BBF/Hosts/Host/", 1), ["/BBF/Hosts/Host/0/", "/BBF/Hosts/Host/1/"])
        self.assertEqual(m.instances("/BBF/Hosts/", 1), ["/BBF/Hosts/Host/0/", "/BBF/Hosts/Host/1/"])
        self.assertEqual(m.instances("/BBF/", 1), [])
        self.assertEqual(m.instances("/BBF/", 0), ["/BBF/Ethernet/Interface/0/", "/BBF/Hosts/Host/0/", "/BBF/Hosts/Host/1/"])
        self.assertEqual(m.instances("/BBF/Time/", 0), [])
        self.assertEqual(code(self, m.instances, "/BBF/Time/NTPServer1", 0), 701)
        self.assertEqual(code(self, m.instances, "/BBF/Nope/", 0), 703)


class WriteTests(unittest.TestCase):
    def setUp(self) -> None:
        self.model = makeModel()

    def test_setValuesAtomic(self) -> None:
        """SetValues applies all or nothing: one bad value leaves every value as it was."""
        m = self.model
        before = m.getValues(["/BBF/Time/"])
        self.assertEqual(code(self, m.setValues, [("/BBF/Time/NTPServer1", "a.example"), ("/BBF/Time/Enable", "maybe")]), 704)
        self.assertEqual(m.getValues(["/BBF/Time/"]), before)
        changes = m.setValues([("/BBF/Time/NTPServer1", "a.example"), ("/BBF/Time/Enable", "false")])
        self.assertEqual(changes.values, ["/BBF/Time/NTPServer1", "/BBF/Time/Enable"])
        self.assertEqual(m.value("/BBF/Time/Enable"), "0")

    def test_unchangedValueIsNoChange(self) -> None:
        """Writing the value a parameter already has changes nothing."""
        self.assertFalse(self.model.setValues([("/BBF/Time/NTPServer1", "pool.ntp.org")]))

    def test_setValuesErrors(self) -> None:
        """Each way a SetValues can be wrong gets its CMS:2 code (TR-330 Table 2)."""
        m = self.model
        cases = [
            ([("/BBF/Time/Nope", "x")], 703),
            ([("/BBF/Time/", "x")], 703),
            ([("/BBF/Time", "x")], 703),
            ([("BBF/Time/NTPServer1", "x")], 701),
            ([("/BBF/DeviceInfo/SerialNumber", "x")], 706),
            ([("/BBF/Hosts/HostNumberOfEntries", "3")], 706),
            ([("/BBF/Time/NTPServer1", "a"), ("/BBF/Time/NTPServer1", "b")], 707),
            ([("/BBF/Time/NTPServer1", "x" * 65)], 705),
            ([("/BBF/Ethernet/Interface/0/MaxBitRate", "-2")], 705),
            ([("/BBF/Ethernet/Interface/0/MaxBitRate", "fast")], 704),
            ([("/BBF/Ethernet/Interface/0/MaxBitRate", str(2**31))], 705),
        ]
        for pairs, expected in cases:
            self.assertEqual(code(self, m.setValues, pairs), expected, pairs)

    def test_localWritesReadOnly(self) -> None:
        """The device's own user may change read-only values, never computed ones."""
        self.model.setValues([("/BBF/Time/Status", "Error")], local=True)
        self.assertEqual(self.model.value("/BBF/Time/Status"), "Error")
        self.assertEqual(code(self, self.model.setValues, [("/BBF/Time/Status", "Bogus")], local=True), 705)
        self.assertEqual(code(self, self.model.setValues, [("/UPnP/DM/DeviceInfo/UpTime", "5")], local=True), 706)

    def test_typesRowByRow(self) -> None:
        """Every parameter type accepts its values (canonicalized) and refuses others with 704."""
        m = self.model
        node = m.resolve("/BBF/Time/NTPServer1").node
        cases = {
            "boolean": ([("true", "1"), ("0", "0"), ("FALSE", "0")], ["2", "yes", ""]),
            "int": ([("-5", "-5"), ("+7", "7")], ["1.5", "x", "", "١٢", "1_0", "²"]),
            "unsignedInt": ([("0", "0"), ("4294967295", "4294967295")], ["-1x", "a", "①"]),
            "long": ([("-9223372036854775808", "-9223372036854775808")], ["9e9", "٩"]),
            "unsignedLong": ([("18446744073709551615", "18446744073709551615")], ["0x10"]),
            "dateTime": ([("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"), ("0001-01-01T00:00:00", "0001-01-01T00:00:00")],
                         ["yesterday", "2024-05-01"]),
            "base64": ([("aGVsbG8=", "aGVsbG8=")], ["not base64!"]),
            "hexBinary": ([("00ff", "00ff"), ("", "")], ["0f0", "zz"]),
            "string": ([("anything", "anything")], []),
        }
        self.assertEqual(set(cases), set(LEAF_TYPES))
        for type_, (good, bad) in cases.items():
            probe = copy.copy(node)
            probe.type, probe.maxLength, probe.enumeration = type_, None, ()
            for text, canonical in good:
                self.assertEqual(m.checkValue(probe, text), canonical, (type_, text))
            for text in bad:
                self.assertEqual(code(self, m.checkValue, probe, text), 704, (type_, text))
        probe = copy.copy(node)
        probe.type = "unsignedInt"
        self.assertEqual(code(self, m.checkValue, probe, "-1"), 705)
        self.assertEqual(code(self, m.checkValue, probe, "4294967296"), 705)
        self.assertEqual(code(self, m.checkValue, probe, 5), 704)
        self.assertEqual(code(self, m.checkValue, node, "x" * 5000), 705)

    def test_createInstance(self) -> None:
        """CreateInstance numbers from 0 up, never reuses a number, fills defaults and given values, counts."""
        m = self.model
        path, changes = m.createInstance("/BBF/Hosts/Host/", [("HostName", "tv"), ("Active", "false")])
        self.assertEqual(path, "/BBF/Hosts/Host/2/")
        self.assertEqual(changes.created, ["/BBF/Hosts/Host/2/"])
        self.assertEqual(changes.values, ["/BBF/Hosts/HostNumberOfEntries"])
        self.assertEqual(m.value("/BBF/Hosts/Host/2/HostName"), "tv")
        self.assertEqual(m.value("/BBF/Hosts/Host/2/Active"), "0")
        self.assertEqual(m.value("/BBF/Hosts/Host/2/LeaseTimeRemaining"), "-1")
        self.assertEqual(m.value("/BBF/Hosts/HostNumberOfEntries"), "3")
        m.deleteInstance("/BBF/Hosts/Host/2/")
        self.assertEqual(m.createInstance("/BBF/Hosts/Host/#/")[0], "/BBF/Hosts/Host/3/")

    def test_createInstanceErrors(self) -> None:
        """A wrong table, a read-only table or column, a bad value, a full table: 703/706/704/709; nothing is created."""
        m = self.model
        cases = [
            ("/BBF/Hosts/", [], 703),
            ("/BBF/Nope/", [], 703),
            ("/BBF/Ethernet/Interface/", [], 706),
            ("/BBF/Hosts/Host/", [("LeaseTimeRemaining", "5")], 706),
            ("/BBF/Hosts/Host/", [("Nope", "5")], 703),
            ("/BBF/Hosts/Host/", [("Active", "perhaps")], 704),
            ("/BBF/Hosts/Host/", [("HostName", "a"), ("HostName", "b")], 707),
            ("/BBF/Hosts/Host/", [("", "b")], 701),
        ]
        for table, initial, expected in cases:
            self.assertEqual(code(self, m.createInstance, table, initial), expected, (table, initial))
        self.assertEqual(m.instanceNumbers("/BBF/Hosts/Host/"), [0, 1])
        for _ in range(30):
            m.createInstance("/BBF/Hosts/Host/")
        self.assertEqual(code(self, m.createInstance, "/BBF/Hosts/Host/"), 709)

    def test_nestedRelativePath(self) -> None:
        """Initial values may name parameters inside an instance's objects."""
        path, _ = self.model.createInstance("/BBF/Ethernet/Interface/", [("Stats/BytesSent", "9")], local=True)
        self.assertEqual(self.model.value(path + "Stats/BytesSent"), "9")

    def test_deleteInstance(self) -> None:
        """DeleteInstance removes the instance and all below it; wrong paths are 703, read-only tables 706."""
        m = self.model
        changes = m.deleteInstance("/BBF/Hosts/Host/0/")
        self.assertEqual(changes.deleted, ["/BBF/Hosts/Host/0/"])
        self.assertEqual(m.instanceNumbers("/BBF/Hosts/Host/"), [1])
        self.assertEqual(code(self, m.resolve, "/BBF/Hosts/Host/0/HostName"), 703)
        self.assertEqual(code(self, m.deleteInstance, "/BBF/Hosts/Host/0/"), 703)
        self.assertEqual(code(self, m.deleteInstance, "/BBF/Hosts/Host/"), 703)
        self.assertEqual(code(self, m.deleteInstance, "/BBF/Ethernet/Interface/0/"), 706)

    def test_attributes(self) -> None:
        """Each node kind reports its CMS attributes; AlarmOnChange only where supported."""
        m = self.model
        self.assertEqual(m.attributes(m.resolve("/BBF/Time/NTPServer1")),
                         {"Access": "readWrite", "Type": "string", "EventOnChange": "1", "Version": "2"})
        self.assertEqual(m.attributes(m.resolve("/BBF/Ethernet/Interface/0/Status"))["AlarmOnChange"], "1")
        self.assertEqual(m.attributes(m.resolve("/BBF/Hosts/Host/"))["Type"], "MultiInstance")
        self.assertEqual(m.attributes(m.resolve("/BBF/Hosts/Host/0/")),
                         {"Access": "readWrite", "Type": "Instance", "Version": "2"})
        self.assertEqual(m.attributes(m.resolve("/UPnP/DM/")), {"Access": "readOnly", "Type": "SingleInstance", "Version": "1"})

    def test_setAttributes(self) -> None:
        """EventOnChange/AlarmOnChange change where writable; all or nothing; others are refused."""
        m = self.model
        self.assertEqual(m.setAttributes([("/BBF/Time/NTPServer2", "EventOnChange", "true")]), ["/BBF/Time/NTPServer2"])
        self.assertTrue(m.eventOnChangeOf("/BBF/Time/NTPServer2"))
        self.assertEqual(m.setAttributes([("/BBF/Time/NTPServer2", "EventOnChange", "1")]), [])
        cases = [
            ([("/BBF/Time/NTPServer1", "Access", "readOnly")], 706),
            ([("/BBF/DeviceInfo/SerialNumber", "EventOnChange", "1")], 706),
            ([("/BBF/Time/NTPServer1", "Colour", "1")], 703),
            ([("/BBF/Time/NTPServer1", "EventOnChange", "2")], 704),
            ([("/BBF/Time/NTPServer1", "EventOnChange", "0"), ("/BBF/Time/NTPServer1", "EventOnChange", "1")], 707),
            ([("/BBF/Time/NTPServer1", "EventOnChange", "0"), ("/BBF/Nope", "EventOnChange", "1")], 703),
        ]
        for changes, expected in cases:
            self.assertEqual(code(self, m.setAttributes, changes), expected, changes)
        self.assertTrue(m.eventOnChangeOf("/BBF/Time/NTPServer1"))
        m.setAttributes([("/BBF/Ethernet/Interface/0/Status", "AlarmOnChange", "0")])
        self.assertFalse(m.alarmOnChangeOf("/BBF/Ethernet/Interface/0/Status"))

    def test_factoryReset(self) -> None:
        """A factory reset restores values, instances, numbering and attributes."""
        m = self.model
        m.setValues([("/BBF/Time/NTPServer1", "x.example")])
        m.deleteInstance("/BBF/Hosts/Host/0/")
        m.createInstance("/BBF/Hosts/Host/")
        m.setAttributes([("/BBF/Time/NTPServer1", "EventOnChange", "0")])
        m.factoryReset()
        self.assertEqual(m.value("/BBF/Time/NTPServer1"), "pool.ntp.org")
        self.assertEqual(m.instanceNumbers("/BBF/Hosts/Host/"), [0, 1])
        self.assertEqual(m.createInstance("/BBF/Hosts/Host/")[0], "/BBF/Hosts/Host/2/")
        self.assertTrue(m.eventOnChangeOf("/BBF/Time/NTPServer1"))

    def test_placeholderValues(self) -> None:
        """A firmware update finds every value derived from the version, in tables too, and keeps it over a reset."""
        m = self.model
        m.setSubstitution("softwareVersion", "2.0.0")
        found = dict(m.placeholderValues("softwareVersion"))
        self.assertEqual(set(found), {
            "/UPnP/DM/DeviceInfo/SoftwareVersion", "/UPnP/DM/DeviceInfo/OperatingSystem/SoftwareVersion",
            "/UPnP/DM/Software/DU/0/Version", "/BBF/DeviceInfo/SoftwareVersion",
        })
        self.assertEqual(set(found.values()), {"2.0.0"})
        m.factoryReset()
        self.assertEqual(m.value("/BBF/DeviceInfo/SoftwareVersion"), "2.0.0")

    def test_footprint(self) -> None:
        """A device holds only its own values: about a hundred entries, not a copy of the schema."""
        self.assertLess(self.model.memoryFootprint(), 150)
