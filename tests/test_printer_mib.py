"""
Tests for C{tools/gen-printer-mib} and the module it generates,
C{proxier/printer/mib.py} (PRINTERS.md section 7: no MIB compilation at run
time): byte-identical to a fresh generation from C{../shared/ref/pwg/mibs}
(skipped, with the reason, without it), the OIDs of PRINTERS.md's demo
table, the labels the conversions and writes use, and the parser's handling
of SMI text on a small module of our own.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys

from twisted.trial import unittest

from proxier.printer import mib
from tests._helpers import SHARED, TOP, subprocessEnv

TOOL = os.path.join(TOP, "tools", "gen-printer-mib")
MIBS = os.path.join(SHARED, "ref", "pwg", "mibs")
GENERATED = os.path.join(TOP, "proxier", "printer", "mib.py")


def loadTool():
    """The generator, imported from its script (a build tool, not part of the package)."""
    loader = importlib.machinery.SourceFileLoader("gen_printer_mib", TOOL)
    spec = importlib.util.spec_from_loader("gen_printer_mib", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


tool = loadTool()


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


class GeneratedTests(unittest.TestCase):
    """The committed module is what the generator makes of the MIB text."""

    def setUp(self) -> None:
        if not os.path.isdir(MIBS):
            raise unittest.SkipTest(f"{MIBS} is absent: the MIB modules live in ../shared beside a checkout")

    def test_byteEqual(self) -> None:
        """Generating again from ../shared/ref/pwg/mibs gives proxier/printer/mib.py byte for byte."""
        with open(GENERATED, encoding="utf-8") as f:
            self.assertEqual(tool.render(tool.parse(MIBS)), f.read())

    def test_script(self) -> None:
        """The script writes the same text to stdout with -o -."""
        out = subprocess.run([sys.executable, TOOL, "--mibs", MIBS, "-o", "-"], capture_output=True, check=True,
                             env=subprocessEnv()).stdout.decode("utf-8")
        with open(GENERATED, encoding="utf-8") as f:
            self.assertEqual(out, f.read())


class DemoTableTests(unittest.TestCase):
    """The OIDs PRINTERS.md section 4 and 5 name, and the labels the sources use."""

    def test_demoOIDs(self) -> None:
        """Each demo-table object has the numeric OID PRINTERS.md gives (without the instance)."""
        expected = {
            "prtGeneralSerialNumber": "1.3.6.1.2.1.43.5.1.1.17",
            "prtGeneralReset": "1.3.6.1.2.1.43.5.1.1.3",
            "prtGeneralConfigChanges": "1.3.6.1.2.1.43.5.1.1.1",
            "hrDeviceDescr": "1.3.6.1.2.1.25.3.2.1.3",
            "hrMemorySize": "1.3.6.1.2.1.25.2.2",
            "sysContact": "1.3.6.1.2.1.1.4",
            "sysLocation": "1.3.6.1.2.1.1.6",
            "sysUpTime": "1.3.6.1.2.1.1.3",
            "ifPhysAddress": "1.3.6.1.2.1.2.2.1.6",
            "prtConsoleDisplayBufferText": "1.3.6.1.2.1.43.16.5.1.2",
            "prtMarkerProcessColorants": "1.3.6.1.2.1.43.10.2.1.6",
            "hrPrinterStatus": "1.3.6.1.2.1.25.3.5.1.1",
            "hrPrinterDetectedErrorState": "1.3.6.1.2.1.25.3.5.1.2",
            "prtMarkerSuppliesTable": "1.3.6.1.2.1.43.11.1",
            "prtMarkerSuppliesLevel": "1.3.6.1.2.1.43.11.1.1.9",
            "prtInputStatus": "1.3.6.1.2.1.43.8.2.1.11",
            "prtMarkerLifeCount": "1.3.6.1.2.1.43.10.2.1.4",
            "prtMarkerCounterUnit": "1.3.6.1.2.1.43.10.2.1.3",
            "hrDevicePrinter": "1.3.6.1.2.1.25.3.1.5",
            "hrStorageRam": "1.3.6.1.2.1.25.2.1.2",
        }
        self.assertEqual({name: mib.OID[name] for name in expected}, {n: oid(t) for n, t in expected.items()})

    def test_access(self) -> None:
        """sysContact, sysLocation and prtGeneralReset are read-write; so is the serial number, which we do not write."""
        for name in ("sysContact", "sysLocation", "prtGeneralReset", "prtGeneralSerialNumber"):
            self.assertEqual(mib.ACCESS[name], "read-write", name)
        for name in ("hrMemorySize", "ifPhysAddress", "hrPrinterStatus", "sysUpTime"):
            self.assertEqual(mib.ACCESS[name], "read-only", name)

    def test_labels(self) -> None:
        """The labels the conversions and writes use, under the object's enumeration."""
        self.assertEqual(mib.LABELS[mib.ENUM["prtGeneralReset"]][4], "powerCycleReset")
        self.assertEqual(mib.LABELS[mib.ENUM["prtGeneralReset"]][6], "resetToFactoryDefaults")
        self.assertEqual(mib.LABELS[mib.ENUM["hrDeviceStatus"]][5], "down")
        self.assertEqual(mib.LABELS[mib.ENUM["hrPrinterStatus"]], {1: "other", 2: "unknown", 3: "idle", 4: "printing",
                                                                   5: "warmup"})
        units = mib.LABELS[mib.ENUM["prtMarkerCounterUnit"]]
        self.assertEqual((units[7], units[8]), ("impressions", "sheets"))
        self.assertEqual(mib.LABELS[mib.ENUM["prtMarkerSuppliesType"]][3], "toner")
        self.assertEqual(mib.ENUM["prtMarkerSuppliesType"], "PrtMarkerSuppliesTypeTC")
        self.assertIn("PrtOutputTypeTC", mib.LABELS)

    def test_onlyWhatIsRead(self) -> None:
        """Conformance groups, IANAifType's labels and unselected subtrees are not in the module."""
        self.assertNotIn("prtGeneralGroup", mib.OID)
        self.assertNotIn("hrDiskStorageTable", mib.OID)
        self.assertNotIn("prtAlertTable", mib.OID)
        self.assertNotIn("ifType", mib.ENUM)
        self.assertNotIn("ifInOctets", mib.OID)

    def test_dataOnly(self) -> None:
        """The generated module imports nothing of the project: it is data."""
        with open(GENERATED, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn("import proxier", text)
        self.assertNotIn("from proxier", text)


SMALL = """
TEST-MIB DEFINITIONS ::= BEGIN
IMPORTS MODULE-IDENTITY, OBJECT-TYPE, mib-2 FROM SNMPv2-SMI;

-- a MACRO body is skipped, even with names that look like definitions
FOO MACRO ::= BEGIN
    thing OBJECT IDENTIFIER ::= { iso 99 }
END

testMIB MODULE-IDENTITY
    LAST-UPDATED "200001010000Z"
    DESCRIPTION "a string with ::= { iso 7 } and -- no comment"
    ::= { testRoot 1 }   -- testRoot comes later

testRoot OBJECT IDENTIFIER ::= { iso(1) org(3) 99 }

TestStateTC ::= TEXTUAL-CONVENTION
    STATUS current
    DESCRIPTION "states"
    SYNTAX INTEGER { on(1), -- inline comment -- off(2) }

testTable OBJECT-TYPE
    SYNTAX SEQUENCE OF TestEntry
    MAX-ACCESS not-accessible
    ::= { testMIB 2 }
testEntry OBJECT-TYPE
    SYNTAX TestEntry
    MAX-ACCESS not-accessible
    INDEX { testIndex }
    ::= { testTable 1 }
TestEntry ::= SEQUENCE { testIndex Integer32, testState TestStateTC }
testIndex OBJECT-TYPE SYNTAX Integer32 (1..10) MAX-ACCESS not-accessible ::= { testEntry 1 }
testState OBJECT-TYPE SYNTAX TestStateTC MAX-ACCESS read-write ::= { testEntry 2 }
testMode OBJECT-TYPE
    SYNTAX INTEGER { slow(1), fast(3) }
    MAX-ACCESS read-only
    ::= { testMIB 3 }
testGroup OBJECT-GROUP OBJECTS { testState } STATUS current DESCRIPTION "g" ::= { testMIB 9 }
END
"""


class ParserTests(unittest.TestCase):
    """The parser on SMI text of our own (runs without ../shared)."""

    def setUp(self) -> None:
        self.module = tool.Module()
        self.module.read(SMALL)
        self.module.resolve()

    def test_oids(self) -> None:
        """Forward parents, iso(1) org(3) forms; strings, comments and MACRO bodies read as nothing."""
        self.assertEqual(self.module.oid["testRoot"], (1, 3, 99))
        self.assertEqual(self.module.oid["testMIB"], (1, 3, 99, 1))
        self.assertEqual(self.module.oid["testState"], (1, 3, 99, 1, 2, 1, 2))
        self.assertNotIn("thing", self.module.oid)
        self.assertNotIn("testGroup", self.module.oid)

    def test_enumerations(self) -> None:
        """A textual convention's and an object's own INTEGER enumerations, and the object's syntax and access."""
        self.assertEqual(self.module.conventions["TestStateTC"], {1: "on", 2: "off"})
        self.assertEqual(self.module.inline["testMode"], {1: "slow", 3: "fast"})
        self.assertEqual(self.module.syntax["testState"], "TestStateTC")
        self.assertEqual(self.module.access["testState"], "read-write")

    def test_errors(self) -> None:
        """A parent never defined, a conflicting second definition, and a label twice are errors."""
        module = tool.Module()
        module.read("a OBJECT IDENTIFIER ::= { nowhere 1 }")
        self.assertRaises(tool.MIBError, module.resolve)
        module = tool.Module()
        module.read("a OBJECT IDENTIFIER ::= { iso 1 }\na OBJECT IDENTIFIER ::= { iso 2 }")
        self.assertRaises(tool.MIBError, module.resolve)
        module = tool.Module()
        self.assertRaises(tool.MIBError, module.read, "T ::= TEXTUAL-CONVENTION SYNTAX INTEGER { a(1), b(1) }")
        self.assertRaises(tool.MIBError, tool.Module().read, 'x OBJECT IDENTIFIER ::= { iso "never closed }')
