"""
Tests for C{tools/pwgsm2tr106}, the PWG SM -> TR-106 translator, and for the
document it generates, C{proxier/printer/data/printservice.xml} (issue 13.1,
PRINTERS.md section 3): valid against the BBF DM schema, byte-identical to a
fresh translation, every path of the slides' demo table and of PRINTERS.md
section 4 present with the right access, the structural rules, the
decisions of the control file, and the translator's handling of the XSD
constructs on a small synthetic schema of our own.
"""

from __future__ import annotations

import configparser
import importlib.machinery
import importlib.util
import io
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr

from lxml import etree
from twisted.trial import unittest

from tests._helpers import SHARED, TOP

TOOL = os.path.join(TOP, "tools", "pwgsm2tr106")
DATA = os.path.join(TOP, "proxier", "printer", "data")
DOCUMENT = os.path.join(DATA, "printservice.xml")
CONTROL = os.path.join(DATA, "pwgsm2tr106.control")
SM_DIR = os.path.join(SHARED, "ref", "pwg", "semantic-model")
CWMP_DIR = os.path.join(SHARED, "ref", "cwmp")
ROOT = "PrintService.{i}."
MOUNT = "Device.Services."


def loadTool():
    """The translator, imported from its script (it is a build tool, not part of the package)."""
    loader = importlib.machinery.SourceFileLoader("pwgsm2tr106", TOOL)
    spec = importlib.util.spec_from_loader("pwgsm2tr106", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


tool = loadTool()


def requireShared(what: str) -> None:
    """Skip, with the reason, when the reference files beside the checkout are absent."""
    directory = {"sm": SM_DIR, "cwmp": CWMP_DIR}[what]
    if not os.path.isdir(directory):
        raise unittest.SkipTest(f"{directory} is absent: the reference schemas live in ../shared beside a checkout")


_schemas: dict = {}


def dmSchema() -> etree.XMLSchema:
    requireShared("cwmp")
    if "dm" not in _schemas:
        _schemas["dm"] = tool.dmSchema(CWMP_DIR)
    return _schemas["dm"]


def readModel(data: bytes) -> dict:
    """Every path of a DM document -> its <object> or <parameter> element."""
    root = etree.fromstring(data)
    out = {}
    for obj in root.iterfind("model/object"):
        out[obj.get("name")] = obj
        for p in obj.iterfind("parameter"):
            out[obj.get("name") + p.get("name")] = p
    return out


with open(DOCUMENT, "rb") as _f:
    COMMITTED = _f.read()
MODEL = readModel(COMMITTED)


# The PWG CWMP BOF slides' demo table ("Data Model and source of data",
# seeds/003, 2012) and PRINTERS.md section 4, row by row: (demo row, the
# path as the slides print it (a suffix, "..." cut), our path relative to
# PrintService.{i}., the access the model declares). Two departures,
# documented in PRINTERS.md section 4: Default Orientation is
# OrientationRequested (the slides' FeedOrientation is LongEdgeFirst/
# ShortEdgeFirst), and the slides' SubunitStatus.SubUnitState is spelt
# SubunitStates.SubunitState in the SM XSDs.
DEMO_TABLE = (
    ("Serial Number", "PrintServiceStatus.SerialNumber", "PrintServiceStatus.SerialNumber", "readOnly"),
    ("Device Description", "PrintServiceDescription.ServiceInfo", "PrintServiceDescription.ServiceInfo",
     "readWrite"),
    ("Memory Capacity", "PrintServiceConfiguration.Storages.Storage.{i}.StorageStatus.StorageSize",
     "PrintServiceConfiguration.Storages.Storage.{i}.StorageStatus.StorageSize", "readOnly"),
    ("Contact", "PrintServiceDescription.OwnerVCard", "PrintServiceDescription.OwnerVCard", "readWrite"),
    ("Location", "PrintServiceDescription.ServiceLocation", "PrintServiceDescription.ServiceLocation", "readWrite"),
    ("MAC Address", "InterfaceStatus.InterfacePhysicalAddress",
     "PrintServiceConfiguration.Interfaces.Interface.{i}.InterfaceStatus.InterfacePhysicalAddress", "readOnly"),
    ("Front Panel Display", "ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText",
     "PrintServiceConfiguration.Consoles.Console.{i}.ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText",
     "readOnly"),
    ("Printer Color", "PrintServiceDescription.ColorSupported", "PrintServiceDescription.ColorSupported", "readOnly"),
    ("Printer Status", "PrintServiceStatus.State", "PrintServiceStatus.State", "readOnly"),
    ("Printer Status (reasons)", None, "PrintServiceStatus.StateReasons.StateReason", "readOnly"),
    ("Toner Levels", "MarkerSupplies.MarkerSupply.MarkerSupplyDescription.MarkerSupplyCurrentLevel",
     "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyDescription."
     "MarkerSupplyCurrentLevel", "readOnly"),
    ("Toner Levels (capacity)", None,
     "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyDescription."
     "MarkerSupplyMaxCapacity", "readOnly"),
    ("Toner Levels (level basis)", None,
     "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyDescription."
     "MarkerSupplyCurrentLevelBasis", "readOnly"),
    ("Toner Levels (capacity basis)", None,
     "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyDescription."
     "MarkerSupplyMaxCapacityBasis", "readOnly"),
    ("Toner Levels (type)", None,
     "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyStatus."
     "MarkerSupplyType", "readOnly"),
    ("Toner Levels (class)", None,
     "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyStatus."
     "MarkerSupplyClass", "readOnly"),
    ("Toner Levels (unit)", None,
     "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.MarkerSupplyStatus."
     "MarkerSupplyCapacityUnit", "readOnly"),
    ("Tray status", "InputTrayStatus.SubunitStatus.SubUnitState",
     "PrintServiceConfiguration.InputTrays.InputTray.{i}.InputTrayStatus.SubunitStates.SubunitState", "readOnly"),
    ("General Page Count", "PrintServiceCounters.MediasUsed.MediaUsed.{i}.MediaUsedTotalSheets",
     "PrintServiceStatus.PrintServiceCounters.MediasUsed.MediaUsed.{i}.MediaUsedTotalSheets", "readOnly"),
    ("General Page Count (impressions)", None, "PrintServiceStatus.PrintServiceCounters.WorkTotals.Impressions",
     "readOnly"),
    ("Default Orientation", "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.FeedOrientation",
     "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.OrientationRequested", "readWrite"),
    ("Default Number of sides", "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Sides",
     "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Sides", "readWrite"),
    ("Default Print Resolution", "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Resolution.Units",
     "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Resolution.Units", "readWrite"),
    ("Default Print Resolution (cross-feed)", None,
     "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Resolution.CrossFeedDir", "readWrite"),
    ("Default Print Resolution (feed)", None,
     "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Resolution.FeedDir", "readWrite"),
    ("Default number of copies", "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Copies",
     "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Copies", "readWrite"),
    # PRINTERS.md section 9: the EWS address.
    ("EWS address", None, "PrintServiceDescription.MoreInfoUri", "readOnly"),
)

# The slides' paths that the model spells otherwise (PRINTERS.md section 4).
DEPARTURES = {
    "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.FeedOrientation":
        "the slides' FeedOrientation is LongEdgeFirst/ShortEdgeFirst, not portrait/landscape",
    "InputTrayStatus.SubunitStatus.SubUnitState": "the SM XSDs spell it SubunitStates.SubunitState",
}



# Validates stdin against cwmp-datamodel-1-15.xsd (XSD 1.1) in the directory
# named by argv[1]; prints the first errors, one a line.
_VALIDATE_11 = """
import os, sys, xmlschema
directory = sys.argv[1]
locations = {"urn:broadband-forum-org:cwmp:datamodel-report-1-0":
             os.path.join(directory, "cwmp-datamodel-report-1-0.xsd")}
schema = xmlschema.XMLSchema11(os.path.join(directory, "cwmp-datamodel-1-15.xsd"), locations=locations, allow="local")
for error in list(schema.iter_errors(sys.stdin.buffer.read().decode("ascii")))[:5]:
    print(f"{error.path}: {error.reason}")
"""

class CommittedDocumentTests(unittest.TestCase):
    """The committed document, as the runtime reads it."""

    def test_schemaValid(self) -> None:
        """The committed document validates against the BBF DM schema cwmp-datamodel-1-8.xsd."""
        schema = dmSchema()
        valid = schema.validate(etree.fromstring(COMMITTED))
        self.assertTrue(valid, "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log))

    def test_schemaValidNewest(self) -> None:
        """
        With only its namespace changed, the document is valid against the
        newest DM schema too (cwmp-datamodel-1-15.xsd, XSD 1.1: the test
        extra's xmlschema; Debian 12 has none, so it is skipped there).
        The check runs in a child interpreter: once treq.testing is imported
        (other test modules do), zope.interface leaves a C{__provides__} on
        collections.abc classes that xmlschema's cached-property sweep trips on.
        """
        requireShared("cwmp")
        if importlib.util.find_spec("xmlschema") is None:
            raise unittest.SkipTest("xmlschema (the test extra) is not installed: no XSD 1.1 validator")
        document = COMMITTED.replace(b"cwmp:datamodel-1-8", b"cwmp:datamodel-1-15").replace(
            b"cwmp-datamodel-1-8.xsd", b"cwmp-datamodel-1-15.xsd")
        child = subprocess.run([sys.executable, "-c", _VALIDATE_11, CWMP_DIR], input=document,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        self.assertEqual(child.returncode, 0, child.stderr.decode(errors="replace")[-2000:])
        self.assertEqual(child.stdout.decode("utf-8").splitlines(), [])

    def test_schemaRefusesBrokenDocument(self) -> None:
        """The validation used above is real: the same document with a bogus access value is refused."""
        schema = dmSchema()
        broken = COMMITTED.replace(b'access="readOnly"', b'access="sometimes"', 1)
        self.assertFalse(schema.validate(etree.fromstring(broken)))

    def test_model(self) -> None:
        """One service model PrintService:1.0 (isService): PrintServiceNumberOfEntries, the PrintService.{i}. table."""
        root = etree.fromstring(COMMITTED)
        models = root.findall("model")
        self.assertEqual([(m.get("name"), m.get("isService")) for m in models], [("PrintService:1.0", "true")])
        self.assertEqual(models[0].find("parameter").get("name"), "PrintServiceNumberOfEntries")
        top = MODEL[ROOT]
        self.assertEqual((top.get("minEntries"), top.get("maxEntries"), top.get("numEntriesParameter")),
                         ("0", "unbounded", "PrintServiceNumberOfEntries"))
        self.assertTrue(all(name.startswith(ROOT) for name in MODEL))

    def test_demoTable(self) -> None:
        """
        Every row of the slides' demo table and of PRINTERS.md section 4 is a
        parameter of the model, with the access the table gives it.
        """
        for row, slides, path, access in DEMO_TABLE:
            full = ROOT + path
            self.assertIn(full, MODEL, f"{row}: {MOUNT}{full} is not in the model")
            element = MODEL[full]
            self.assertEqual(element.tag, "parameter", row)
            self.assertEqual(element.get("access"), access, f"{row}: {full}")

    def test_slidesPaths(self) -> None:
        """
        Each path the slides print ends one of our paths (their "..." is a
        prefix cut, their "MarkerSupply." a table row), except the two
        departures PRINTERS.md documents.
        """
        for row, slides, path, access in DEMO_TABLE:
            if slides is None or slides in DEPARTURES:
                continue
            pattern = re.escape(slides).replace(r"MarkerSupply\.", r"MarkerSupply\.\{i\}\.")
            self.assertTrue(any(re.search(r"(^|\.)" + pattern + "$", name) for name in MODEL),
                            f"{row}: no path ends with {slides}")
        self.assertFalse(any(name.endswith("SubunitStatus.SubUnitState") for name in MODEL))
        # Why Default Orientation is not the slides' FeedOrientation: that one is the feed edge.
        feed = MODEL[ROOT + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.FeedOrientation"]
        types = {d.get("name"): d for d in etree.fromstring(COMMITTED).iterfind("dataType")}
        self.assertEqual([e.get("value") for e in types[feed.find("syntax/dataType").get("ref")].iter("enumeration")],
                         ["LongEdgeFirst", "ShortEdgeFirst"])

    def test_onlyTheControlFilesWritablePaths(self) -> None:
        """Exactly the demo table's Read-Write rows are readWrite; every object is readOnly."""
        writable = sorted(n for n, e in MODEL.items() if e.tag == "parameter" and e.get("access") == "readWrite")
        expected = sorted(ROOT + path for row, slides, path, access in DEMO_TABLE if access == "readWrite")
        self.assertEqual(writable, expected)
        self.assertEqual({e.get("access") for e in MODEL.values() if e.tag == "object"}, {"readOnly"})

    def test_lists(self) -> None:
        """A repeated simple SM element is a list-valued parameter (front panel lines, tray states, state reasons)."""
        for path in ("PrintServiceConfiguration.Consoles.Console.{i}.ConsoleDescription.ConsoleDisplayBuffer."
                     "ConsoleDisplayText",
                     "PrintServiceConfiguration.InputTrays.InputTray.{i}.InputTrayStatus.SubunitStates.SubunitState",
                     "PrintServiceStatus.StateReasons.StateReason"):
            self.assertIsNotNone(MODEL[ROOT + path].find("syntax/list"), path)
        self.assertIsNone(MODEL[ROOT + "PrintServiceDescription.ServiceLocation"].find("syntax/list"))

    def test_tables(self) -> None:
        """
        Every table X.{i}. sits under its wrapper with XNumberOfEntries there
        (an unsignedInt), and a uniqueKey names a parameter of the row.
        """
        tables = [name for name in MODEL if name.endswith(".{i}.") and name != ROOT]
        self.assertIn(ROOT + "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}.", tables)
        for name in tables:
            obj = MODEL[name]
            row = name[:-len(".{i}.")].rsplit(".", 1)[1]
            wrapper = name[:-len(row + ".{i}.")]
            count = obj.get("numEntriesParameter")
            self.assertEqual(count, row + "NumberOfEntries", name)
            self.assertIn(wrapper + count, MODEL, name)
            self.assertIsNotNone(MODEL[wrapper + count].find("syntax/unsignedInt"), name)
            self.assertEqual(obj.get("maxEntries"), "unbounded", name)
            for ref in obj.iterfind("uniqueKey/parameter"):
                self.assertIn(name + ref.get("ref"), MODEL, name)
        supply = MODEL[ROOT + "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}."]
        self.assertEqual([p.get("ref") for p in supply.iterfind("uniqueKey/parameter")], ["MarkerSupplyStatus.Id"])

    def test_types(self) -> None:
        """SM counters are unsignedInt (control file [types]); sizes and enumerations come from the SM."""
        self.assertIsNotNone(MODEL[ROOT + "PrintServiceStatus.PrintServiceCounters.MediasUsed.MediaUsed.{i}."
                                          "MediaUsedTotalSheets"].find("syntax/unsignedInt"))
        self.assertIsNotNone(MODEL[ROOT + "PrintServiceStatus.ImpressionsCompleted"].find("syntax/unsignedInt"))
        self.assertEqual(MODEL[ROOT + "PrintServiceDescription.ServiceLocation"].find("syntax/string/size")
                         .get("maxLength"), "127")
        self.assertIsNotNone(MODEL[ROOT + "PrintServiceDescription.ColorSupported"].find("syntax/boolean"))
        root = etree.fromstring(COMMITTED)
        types = {d.get("name"): d for d in root.iterfind("dataType")}
        ref = MODEL[ROOT + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.OrientationRequested"]
        values = [e.get("value") for e in types[ref.find("syntax/dataType").get("ref")].iterfind("string/enumeration")]
        self.assertEqual(values, ["Landscape", "None", "Portrait", "ReverseLandscape", "ReversePortrait"])
        ref = MODEL[ROOT + "PrintServiceConfiguration.InputTrays.InputTray.{i}.InputTrayStatus.SubunitStates."
                           "SubunitState"]
        values = {e.get("value") for e in types[ref.find("syntax/dataType").get("ref")].iterfind("string/enumeration")}
        # PRINTERS.md section 4's PrtSubUnitStatusTC table names these exactly.
        self.assertLessEqual({"AvailableAndIdle", "AvailableAndStandby", "AvailableAndActive", "AvailableAndBusy",
                              "UnavailableAndOnRequest", "UnavailableAndBroken", "Unknown", "WarningAlerts",
                              "CriticalAlerts", "Offline", "Transitioning"}, values)

    def test_unionsNoteVendorValues(self) -> None:
        """A union with a *ExtensionPattern member (StateReason) says that vendor values are X_<VENDOR>_."""
        root = etree.fromstring(COMMITTED)
        types = {d.get("name"): d for d in root.iterfind("dataType")}
        reason = MODEL[ROOT + "PrintServiceStatus.StateReasons.StateReason"]
        dataType = types[reason.find("syntax/dataType").get("ref")]
        self.assertIn("X_<VENDOR>_", dataType.findtext("description"))
        self.assertIn("X_<VENDOR>_", reason.findtext("description"))
        self.assertIn("MediaJam", {e.get("value") for e in dataType.iterfind("string/enumeration")})

    def test_excluded(self) -> None:
        """The control file's exclusions (Power*, capabilities, jobs, access modes, condition history) are absent."""
        for name in MODEL:
            for part in name.split("."):
                self.assertFalse(part.startswith("Power") or part in (
                    "JobTable", "PrintServiceCapabilities", "PrintServiceCapabilitiesReady", "AccessModes",
                    "ConditionHistory"), name)

    def test_pathRefs(self) -> None:
        """By-value associations are pathRefs to the rows' own table, not copies of the rows."""
        base = ROOT + "PrintServiceConfiguration.Finishers.Finisher.{i}.FinisherStatus.FinisherAssociatedMediaPaths"
        self.assertNotIn(base + ".", MODEL)
        ref = MODEL[base].find("syntax/string/pathRef")
        self.assertEqual(ref.get("targetParent"), ".PrintServiceConfiguration.MediaPaths.MediaPath.")
        self.assertIsNotNone(MODEL[base].find("syntax/list"))

    def test_descriptionsOurOwn(self) -> None:
        """
        Every description is one of our one-liners plus SM mapping hints
        ("see prtMarkerSuppliesLevel in [RFC3805]"): no other schema text.
        """
        ours = re.compile(
            r"^(?:One [a-z0-9 ]+ \(a row of the PWG SM element \w+\)\."
            r"|The [a-z0-9 ]+ group \(PWG SM element \w+\)\."
            r"|The [a-z0-9 ]+ \(PWG SM element \w+\)\."
            r"|The number of entries in the \w+ table\."
            r"|The values of the PWG SM's \w+\."
            r"|The parameters the proxier fills for a printer \(the [\w:]+ rows of the control file\)\.)"
            r"(?: SM mapping hint: (?:see|similar to) [^.]*? in \[[A-Za-z0-9-]+\](?: and \[[A-Za-z0-9-]+\])?\.)*"
            r"(?: Path of the associated \.[\w.]+\{i\}\. row \(the SM holds the row itself\)\.)?"
            r"(?: Other values are vendor extensions, written X_<VENDOR>_\.\.\. \(TR-106 section 3\.3\)\.)?"
            r"(?: A comma-separated list\.)?$")
        root = etree.fromstring(COMMITTED)
        descriptions = [d.text for d in root.iter("description") if d.getparent() is not root]
        self.assertGreater(len(descriptions), 1000)
        for text in descriptions:
            self.assertRegex(text, ours)
        level = MODEL[ROOT + "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}."
                             "MarkerSupplyDescription.MarkerSupplyCurrentLevel"]
        self.assertIn("SM mapping hint: see prtMarkerSuppliesLevel in [RFC3805].", level.findtext("description"))

    def test_profile(self) -> None:
        """The Demo:1 profile names every demo-table row, with its access as the requirement, and nothing else."""
        (profile,) = etree.fromstring(COMMITTED).iterfind("model/profile")
        self.assertEqual(profile.get("name"), "Demo:1")
        listed = {}
        for obj in profile.iterfind("object"):
            self.assertIn(obj.get("ref"), MODEL)
            for p in obj.iterfind("parameter"):
                listed[obj.get("ref") + p.get("ref")] = p.get("requirement")
        for row, slides, path, access in DEMO_TABLE:
            self.assertEqual(listed.get(ROOT + path), access, row)
        for path, requirement in listed.items():
            self.assertEqual(MODEL[path].get("access"), requirement, path)

    def test_asciiOnly(self) -> None:
        """The document is printable ASCII (TR-106's rule for DM instance documents)."""
        self.assertTrue(all(b in (9, 10) or 32 <= b < 127 for b in COMMITTED))


class ControlFileTests(unittest.TestCase):
    """The control file: each decision written down with its reason."""

    def test_slidesQuestionsAnswered(self) -> None:
        """The slides' open questions (access, notification, choice, union, naming, descriptions) are decisions."""
        cp = configparser.ConfigParser(allow_no_value=True, interpolation=None, delimiters=("=",))
        cp.optionxform = str  # type: ignore[assignment,method-assign]
        cp.read(CONTROL, encoding="utf-8")
        self.assertLessEqual({"access", "activeNotify", "forcedInform", "choice", "union", "naming", "descriptions"},
                             set(cp["decisions"]))

    def test_everyDecisionCommented(self) -> None:
        """Every entry of [decisions] has a comment just above it, and every section opens with one."""
        with open(CONTROL, encoding="utf-8") as f:
            lines = f.read().splitlines()
        section = None
        for i, line in enumerate(lines):
            if line.startswith("["):
                section = line
                self.assertTrue(lines[i + 1].startswith("#"), f"{line} has no comment")
            elif section == "[decisions]" and line and not line.startswith("#"):
                self.assertTrue(lines[i - 1].startswith("#"), f"decision {line!r} has no comment")


class TranslationTests(unittest.TestCase):
    """A fresh translation from ../shared/ref."""

    def test_byteEqual(self) -> None:
        """Translating the SM again gives the committed document byte for byte (on this stack's lxml)."""
        requireShared("sm")
        document, log = tool.translate(SM_DIR, CONTROL)
        if document != COMMITTED:
            self.fail("proxier/printer/data/printservice.xml is stale or the translation is not deterministic: "
                      "run tools/pwgsm2tr106 and commit its output")

    def test_mainWritesValidDocument(self) -> None:
        """The command line writes the document after validating it, and exits 0."""
        requireShared("sm")
        requireShared("cwmp")
        out = self.mktemp()
        self.assertEqual(tool.main(["--sm", SM_DIR, "--cwmp", CWMP_DIR, "-o", out]), 0)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), COMMITTED)

    def test_unknownRootIsAClearError(self) -> None:
        """A control file whose root element is not in the SM fails with one clear line and exit status 1."""
        requireShared("sm")
        control = self.mktemp()
        with open(CONTROL, encoding="utf-8") as f:
            text = f.read().replace("element = PrintService", "element = NoSuchService")
        with open(control, "w", encoding="utf-8") as f:
            f.write(text)
        err = io.StringIO()
        out = self.mktemp()
        with redirect_stderr(err):
            status = tool.main(["--sm", SM_DIR, "--control", control, "-o", out])
        self.assertEqual(status, 1)
        self.assertIn("root element NoSuchService not in the SM", err.getvalue())
        self.assertFalse(os.path.exists(out))


# A synthetic SM-like schema of our own (no PWG text): every XSD construct the
# translator handles, in two files (an include).
SYNTHETIC_MAIN = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns="http://www.pwg.org/schemas/2016/01/sm" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:pwg="http://www.pwg.org/schemas/2016/01/sm" targetNamespace="http://www.pwg.org/schemas/2016/01/sm"
    elementFormDefault="qualified">
  <xs:include schemaLocation="Types.xsd"/>
  <xs:complexType name="BaseType">
    <xs:sequence>
      <xs:element name="Inherited" type="xs:boolean"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="PrintServiceType">
    <xs:complexContent>
      <xs:extension base="BaseType">
        <xs:sequence>
          <xs:element ref="Widgets" minOccurs="0"/>
          <xs:choice>
            <xs:element name="Left" type="xs:int"/>
            <xs:element name="Right" type="xs:string"/>
          </xs:choice>
          <xs:group ref="Grouped"/>
          <xs:element name="Tags" type="xs:NMTOKEN" maxOccurs="unbounded"/>
          <xs:element name="Colour">
            <xs:simpleType>
              <xs:union memberTypes="ColourWKV pwg:KeywordNsExtensionPattern"/>
            </xs:simpleType>
          </xs:element>
          <xs:element name="Note">
            <xs:complexType>
              <xs:simpleContent>
                <xs:extension base="ShortString"><xs:attribute name="MustHonor" type="xs:boolean"/></xs:extension>
              </xs:simpleContent>
            </xs:complexType>
          </xs:element>
          <xs:element name="Hidden" type="xs:string"/>
          <xs:element name="Loop" type="LoopType" minOccurs="0"/>
          <xs:any namespace="##other" minOccurs="0" maxOccurs="unbounded"/>
        </xs:sequence>
      </xs:extension>
    </xs:complexContent>
  </xs:complexType>
  <xs:complexType name="LoopType">
    <xs:sequence>
      <xs:element name="Depth" type="xs:unsignedInt"/>
      <xs:element name="Loop" type="LoopType" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:group name="Grouped">
    <xs:sequence>
      <xs:element name="FromGroup" type="xs:positiveInteger"/>
    </xs:sequence>
  </xs:group>
  <xs:element name="Widgets">
    <xs:complexType>
      <xs:sequence>
        <xs:element ref="Widget" maxOccurs="unbounded"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <!-- widget count -->
  <!-- see wdgCount in [RFC9999] -->
  <xs:element name="WidgetCount" type="xs:int"/>
  <xs:element name="Widget">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Id" type="xs:int"/>
        <xs:element ref="WidgetCount"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="PrintService" type="PrintServiceType"/>
</xs:schema>
"""

SYNTHETIC_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns="http://www.pwg.org/schemas/2016/01/sm" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    targetNamespace="http://www.pwg.org/schemas/2016/01/sm" elementFormDefault="qualified">
  <xs:simpleType name="ColourWKV">
    <xs:restriction base="xs:NMTOKEN">
      <xs:enumeration value="Red"/>
      <xs:enumeration value="Blue "/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="KeywordNsExtensionPattern">
    <xs:restriction base="xs:NMTOKEN">
      <xs:maxLength value="255"/>
      <xs:pattern value="\\w+:[\\w_\\-\\.]+"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="ShortString">
    <xs:restriction base="xs:string">
      <xs:maxLength value="12"/>
    </xs:restriction>
  </xs:simpleType>
</xs:schema>
"""

SYNTHETIC_CONTROL = """
[model]
root = PrintService
model = PrintService:1.0
spec = urn:x-proxier:test
file = test.xml
element = PrintService
[decisions]
# the test's own
access = readOnly
[exclude]
Hidden
[writable]
Note
[types]
*Count = unsignedInt
[pathref]
[keys]
Id
[canDeny]
*Count
"""


class ProfileErrorTests(unittest.TestCase):
    """A profile row the model lacks stops the translation."""

    def test_missingProfilePath(self) -> None:
        """A [profile] path that is not in the model is a TranslationError naming it, not a silent omission."""
        requireShared("sm")
        control = self.mktemp()
        with open(CONTROL, encoding="utf-8") as f:
            text = f.read().replace("PrintServiceDescription.ServiceLocation\n",
                                    "PrintServiceDescription.ServiceLocation\nPrintServiceDescription.NoSuchThing\n")
        with open(control, "w", encoding="utf-8") as f:
            f.write(text)
        error = self.assertRaises(tool.TranslationError, tool.translate, SM_DIR, control)
        self.assertIn("PrintService.{i}.PrintServiceDescription.NoSuchThing", str(error))


class SyntheticSchemaTests(unittest.TestCase):
    """The translator's rules, on a schema of our own (runs without ../shared)."""

    def translate(self) -> dict:
        directory = self.mktemp()
        os.makedirs(directory)
        for name, text in (("PrintService.xsd", SYNTHETIC_MAIN), ("Types.xsd", SYNTHETIC_TYPES)):
            with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
                f.write(text)
        control = os.path.join(directory, "test.control")
        with open(control, "w", encoding="utf-8") as f:
            f.write(SYNTHETIC_CONTROL)
        document, log = tool.translate(directory, control)
        self.log = log
        self.document = document
        return readModel(document)

    def test_structure(self) -> None:
        """Extension bases first, choice branches both kept, groups inlined, xs:any dropped, exclusions applied."""
        model = self.translate()
        names = [p.get("name") for p in model[ROOT].iterfind("parameter")]
        self.assertEqual(names[:1], ["Inherited"])
        self.assertLessEqual({"Left", "Right", "FromGroup", "Tags", "Colour", "Note"}, set(names))
        self.assertNotIn("Hidden", names)

    def test_repeatedComplexIsTable(self) -> None:
        """A repeated complex element is X.{i}. under its wrapper, with XNumberOfEntries and the Id as uniqueKey."""
        model = self.translate()
        table = model[ROOT + "Widgets.Widget.{i}."]
        self.assertEqual(table.get("numEntriesParameter"), "WidgetNumberOfEntries")
        self.assertIn(ROOT + "Widgets.WidgetNumberOfEntries", model)
        self.assertEqual([p.get("ref") for p in table.iterfind("uniqueKey/parameter")], ["Id"])
        self.assertEqual(model[ROOT + "Widgets."].get("minEntries"), "0")

    def test_repeatedSimpleIsList(self) -> None:
        """A repeated simple element is a list-valued parameter."""
        model = self.translate()
        self.assertIsNotNone(model[ROOT + "Tags"].find("syntax/list"))

    def test_unionAndFacets(self) -> None:
        """A union with an extension pattern: a dataType with the trimmed enumerations and the vendor note."""
        model = self.translate()
        root = etree.fromstring(self.document)
        (dataType,) = root.findall("dataType")
        self.assertEqual(model[ROOT + "Colour"].find("syntax/dataType").get("ref"), dataType.get("name"))
        self.assertEqual([e.get("value") for e in dataType.iterfind("string/enumeration")], ["Blue", "Red"])
        self.assertIn("X_<VENDOR>_", dataType.findtext("description"))
        self.assertEqual(model[ROOT + "Note"].find("syntax/string/size").get("maxLength"), "12")
        self.assertEqual(model[ROOT + "Note"].get("access"), "readWrite")
        self.assertEqual(model[ROOT + "FromGroup"].find("syntax/unsignedInt/range").get("minInclusive"), "1")
        self.assertIsNotNone(model[ROOT + "Left"].find("syntax/int"))

    def test_overridesHintsNotification(self) -> None:
        """Type overrides, canDeny and the SM's mapping hint (a comment before the declaration) reach the parameter."""
        model = self.translate()
        count = model[ROOT + "Widgets.Widget.{i}.WidgetCount"]
        self.assertIsNotNone(count.find("syntax/unsignedInt"))
        self.assertEqual(count.get("activeNotify"), "canDeny")
        self.assertEqual(count.findtext("description"),
                         "The widget count (PWG SM element WidgetCount). SM mapping hint: see wdgCount in [RFC9999].")

    def test_recursionCut(self) -> None:
        """A type that contains itself is cut at its second occurrence, and the cut is logged."""
        model = self.translate()
        self.assertIn(ROOT + "Loop.Depth", model)
        self.assertNotIn(ROOT + "Loop.Loop.", model)
        self.assertIn("Loop.Loop: recursive, cut", self.log)

    def test_validAndDeterministic(self) -> None:
        """The synthetic document is valid against the DM schema and the same on a second run."""
        self.translate()
        first = self.document
        self.translate()
        self.assertEqual(first, self.document)
        schema = dmSchema()
        self.assertTrue(schema.validate(etree.fromstring(first)),
                        "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log))


class RuntimeIndependenceTests(unittest.TestCase):
    """The translator is a build tool."""

    def test_packageDoesNotImportTheTool(self) -> None:
        """No module of the proxier package mentions the translator's module (runtime reads only its output)."""
        for directory, _, files in os.walk(os.path.join(TOP, "proxier")):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(directory, name), encoding="utf-8") as f:
                        self.assertNotIn("import pwgsm2tr106", f.read(), name)
