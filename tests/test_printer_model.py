# -*- test-case-name: tests.test_printer_model -*-
"""
Tests for L{proxier.printer.model}: the PrintService tree built from the
committed DM Instance document, its types and access, bindings checked at
build time, pruning, and the document's cost.
"""

from __future__ import annotations

import random
import time
import tracemalloc

from twisted.trial import unittest

from proxier.datamodel import types as T
from proxier.datamodel.declarations import CAN_DENY, NORMAL, Table
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.values import ParameterValue
from proxier.printer import model
from proxier.printer.model import Binding, BindingError, DocumentError

PS = "Device.Services.PrintService.1."
DESCRIPTION = "PrintServiceDescription."
SUPPLY = "PrintServiceConfiguration.Markers.Marker.{i}.MarkerSupplies.MarkerSupply.{i}."
LEVEL = SUPPLY + "MarkerSupplyDescription.MarkerSupplyCurrentLevel"


def _tree(bindings: dict, prune: bool = True) -> TreeDataModel:
    tree = TreeDataModel(model.declare(bindings, prune=prune))
    tree.addInstance(model.SERVICE_TABLE, key="1")
    return tree


def _everyRow(tree: TreeDataModel) -> TreeDataModel:
    """One row in every table of the document, so that every path has an instance 1."""
    for path in sorted(model.document().tables, key=lambda p: p.count(".")):
        if path:
            tree.addInstance(PS + path[: -len("{i}.")].replace("{i}", "1"))
    return tree


def _paramNames(tree: TreeDataModel) -> set:
    return {i.name for i in tree._getParameterNames("Device.Services.", False) if not i.name.endswith(".")}


def _objectNames(tree: TreeDataModel) -> set:
    return {i.name for i in tree._getParameterNames("Device.Services.", False) if i.name.endswith(".")}


def _concrete(path: str) -> str:
    return PS + path.replace("{i}", "1")


class DocumentTests(unittest.TestCase):
    """The packaged document as this module reads it."""

    def test_counts(self) -> None:
        """236 objects (the service instance included) and 1043 parameters below it (1044 with PrintServiceNumberOfEntries)."""
        doc = model.document()
        self.assertEqual(doc.model, "PrintService:1.0")
        self.assertEqual(len(doc.objects), 236)
        self.assertEqual(len(doc.parameters), 1043)

    def test_parsedOnce(self) -> None:
        """The document is parsed once per process, not per printer."""
        self.assertIs(model.document(), model.document())

    def test_rootConstant(self) -> None:
        """Every path hangs below the one root constant's table."""
        self.assertEqual(model.SERVICE_TABLE, "Device.Services." + model.ROOT + ".")
        self.assertEqual(model.document().root.name, model.ROOT)
        self.assertTrue(model.document().root.table)

    def test_slidesPaths(self) -> None:
        """The slides' paths are parameters of the document."""
        doc = model.document()
        for path in (
            DESCRIPTION + "ServiceLocation",
            LEVEL,
            "PrintServiceConfiguration.Consoles.Console.{i}.ConsoleDescription.ConsoleDisplayBuffer.ConsoleDisplayText",
            "PrintServiceConfiguration.InputTrays.InputTray.{i}.InputTrayStatus.SubunitStates.SubunitState",
            "PrintServiceStatus.PrintServiceCounters.MediasUsed.MediaUsed.{i}.MediaUsedTotalSheets",
        ):
            self.assertIn(path, doc.parameters)

    def test_tables(self) -> None:
        """Tables carry their NumberOfEntries name and uniqueKey."""
        tables = model.document().tables
        self.assertEqual(len(tables), 33)  # 32 below the instance, and PrintService itself
        supply = tables[SUPPLY]
        self.assertEqual(supply.numberOfEntries, "MarkerSupplyNumberOfEntries")
        self.assertEqual(supply.uniqueKey, ("MarkerSupplyStatus.Id",))
        self.assertEqual(tables[""].numberOfEntries, "PrintServiceNumberOfEntries")
        self.assertEqual(tables[""].uniqueKey, ("PrintServiceStatus.Id",))


class TypeTests(unittest.TestCase):
    """Types, facets and access come from the document."""

    def setUp(self) -> None:
        self.tree = _everyRow(_tree({}, prune=False))

    def param(self, path: str):
        return self.tree.parameter(_concrete(path))

    def test_stringSize(self) -> None:
        """ServiceLocation is a string(127) (the SM's maxLength)."""
        self.assertEqual(self.param(DESCRIPTION + "ServiceLocation").type, T.String(127))

    def test_enumeration(self) -> None:
        """A WKV type reference becomes a string with its enumeration."""
        dataType = self.param("PrintServiceStatus.State").type
        self.assertIsInstance(dataType, T.String)
        self.assertIn("Idle", dataType.enumeration)
        self.assertIn("Stopped", dataType.enumeration)

    def test_rangeAndInt(self) -> None:
        """Resolution's CrossFeedDir is an int with minInclusive 1."""
        dataType = self.param("PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing.Resolution.CrossFeedDir").type
        self.assertEqual(dataType, T.Int(ranges=((1, None),)))
        self.assertRaises(ValueError, dataType.parse, "0")

    def test_list(self) -> None:
        """A repeated simple element is a list of its item type."""
        dataType = self.param("PrintServiceConfiguration.InputTrays.InputTray.{i}.InputTrayStatus.SubunitStates.SubunitState").type
        self.assertIsInstance(dataType, T.ListOf)
        self.assertIn("WarningAlerts", dataType.item.enumeration)
        self.assertEqual(dataType.format(("UnavailableAndOnRequest", "WarningAlerts")), "UnavailableAndOnRequest,WarningAlerts")

    def test_otherBases(self) -> None:
        """boolean, dateTime, unsignedInt, pathRef strings and patterns keep their TR-106 types."""
        self.assertEqual(self.param(DESCRIPTION + "ColorSupported").type, T.Boolean())
        self.assertEqual(self.param(DESCRIPTION + "ServiceConfigChangeDateTime").type, T.DateTime())
        self.assertEqual(self.param("PrintServiceStatus.ImpressionsCompleted").type, T.UnsignedInt())
        paths_ = self.param("PrintServiceConfiguration.Finishers.Finisher.{i}.FinisherStatus.FinisherAssociatedMediaPaths").type
        self.assertEqual(paths_, T.ListOf(T.String()))
        version = self.param(DESCRIPTION + "VersionsSupported.Version").type
        self.assertEqual(version.item.patterns, (r"[0-9]+\.[0-9]+",))

    def test_activeNotify(self) -> None:
        """canDeny comes from the document (page counters); others, supply levels included, are normal."""
        self.assertEqual(self.param("PrintServiceStatus.ImpressionsCompleted").activeNotify, CAN_DENY)
        self.assertEqual(self.param(LEVEL).activeNotify, NORMAL)
        self.assertEqual(self.param(DESCRIPTION + "ServiceLocation").activeNotify, NORMAL)

    def test_everyParameterServed(self) -> None:
        """The unpruned tree serves exactly the document's parameters (plus the table counters the engine makes), none writable."""
        doc = model.document()
        expected = {_concrete(p) for p in doc.parameters} | {"Device.Services.PrintServiceNumberOfEntries"}
        names = self.tree._getParameterNames("Device.Services.", False)
        self.assertEqual({i.name for i in names if not i.name.endswith(".")}, expected)
        self.assertEqual([i.name for i in names if i.writable], [])
        objects = {_concrete(p) for p in doc.objects} | {"Device.Services.", "Device.Services.PrintService."}
        objects |= {PS + o.path[: -len("{i}.")].replace("{i}", "1") for o in doc.tables.values() if o.path}
        self.assertEqual({i.name for i in names if i.name.endswith(".")}, objects)

    def test_typesMatchDocument(self) -> None:
        """Every served parameter's type is the document's."""
        for path, spec in model.document().parameters.items():
            self.assertEqual(self.param(path).type, spec.type, path)

    def test_unboundReadsEmpty(self) -> None:
        """An unbound parameter reads as its type's empty value, even an enumerated one."""
        values = self.tree._getParameterValues([_concrete("PrintServiceStatus.State"), _concrete("PrintServiceStatus.Id"),
                                                _concrete(DESCRIPTION + "ColorSupported")])
        self.assertEqual([v.value for v in values], ["", "0", "false"])


class BindingTests(unittest.TestCase):
    """Code binds getters and setters to paths; a wrong binding fails at build time."""

    def test_unknownPath(self) -> None:
        """A path the document lacks raises when the tree is built."""
        with self.assertRaises(BindingError) as caught:
            model.declare({"PrintServiceDescription.ServiceLocations": Binding(lambda n: "")})
        self.assertIn("ServiceLocations", str(caught.exception))

    def test_concretePath(self) -> None:
        """Bindings use the document's {i} spelling, not instance numbers."""
        self.assertRaises(BindingError, model.declare,
                          {"PrintServiceConfiguration.Markers.Marker.1.MarkerSupplies.MarkerSupply.1."
                           "MarkerSupplyDescription.MarkerSupplyCurrentLevel": Binding(lambda n: 0)})

    def test_objectPath(self) -> None:
        """An object path is not a parameter."""
        self.assertRaises(BindingError, model.declare, {DESCRIPTION: Binding(lambda n: "")})

    def test_counter(self) -> None:
        """A table's NumberOfEntries is the engine's."""
        self.assertRaises(BindingError, model.declare,
                          {"PrintServiceConfiguration.Markers.MarkerNumberOfEntries": Binding(lambda n: 1)})

    def test_setterOnReadOnly(self) -> None:
        """A setter (or a check) on a parameter the document makes read-only is refused."""
        self.assertRaises(BindingError, model.declare, {LEVEL: Binding(lambda n: 0, lambda n, v: None)})
        self.assertRaises(BindingError, model.declare, {LEVEL: Binding(lambda n: 0, check=lambda n, v: None)})

    def test_notABinding(self) -> None:
        """Only Binding values are accepted."""
        self.assertRaises(BindingError, model.declare, {LEVEL: (lambda n: 0)})

    def test_readAndWrite(self) -> None:
        """A bound getter is read, a bound setter makes the parameter Writable and is called with the parsed value."""
        written = []
        state = {"location": "Lab"}

        def setLocation(node, value):
            written.append((node.instance, value))
            state["location"] = value

        tree = _tree({DESCRIPTION + "ServiceLocation": Binding(lambda n: state["location"], setLocation),
                      DESCRIPTION + "ServiceInfo": Binding(lambda n: "Printer")})
        path = PS + DESCRIPTION + "ServiceLocation"
        writable = {i.name: i.writable for i in tree._getParameterNames(PS + DESCRIPTION, True)}
        self.assertTrue(writable[path])
        self.assertFalse(writable[PS + DESCRIPTION + "ServiceInfo"])
        self.assertFalse(writable[PS + DESCRIPTION + "OwnerVCard"])
        tree._setParameterValues([ParameterValue(path, "Room 2")])
        self.assertEqual(written, [(1, "Room 2")])
        self.assertEqual(tree.getLocal(path), "Room 2")

    def test_facetsOnWrite(self) -> None:
        """The document's facets refuse a bad value (9007) before the setter runs."""
        written = []
        tree = _tree({DESCRIPTION + "ServiceLocation": Binding(lambda n: "", lambda n, v: written.append(v))})
        with self.assertRaises(CWMPFault) as caught:
            tree._setParameterValues([ParameterValue(PS + DESCRIPTION + "ServiceLocation", "x" * 128)])
        self.assertEqual([f.faultCode for f in caught.exception.parameterFaults], [9007])
        self.assertEqual(written, [])

    def test_sharedDeclarations(self) -> None:
        """Unbound declarations are shared between trees; a binding of one tree never shows in another."""
        path = DESCRIPTION + "ServiceLocation"
        bound = model.declare({path: Binding(lambda n: "A")})
        unbound = model.declare({LEVEL: Binding(lambda n: 0)})
        again = model.declare({LEVEL: Binding(lambda n: 1)})
        status = [next(c for c in d.children[0].children[0].children if c.name == "PrintServiceStatus")
                  for d in (bound, unbound, again)]
        self.assertIs(status[1], status[2])
        self.assertIs(status[0], status[1])
        tree = TreeDataModel(model.declare({LEVEL: Binding(lambda n: 0), path: Binding(lambda n: "B")}))
        tree.addInstance(model.SERVICE_TABLE)
        self.assertEqual(tree.getLocal(PS + path), "B")
        tree = _tree({LEVEL: Binding(lambda n: 0)})
        self.assertEqual(tree.getLocal(PS + path), "")

    def test_rowGetter(self) -> None:
        """A getter in a table row sees the row's data."""
        tree = _tree({LEVEL: Binding(lambda node: node.data["level"])})
        tree.addInstance(PS + "PrintServiceConfiguration.Markers.Marker.", key="1", data={})
        tree.addInstance(PS + "PrintServiceConfiguration.Markers.Marker.1.MarkerSupplies.MarkerSupply.",
                         key="7", data={"level": 42})
        self.assertEqual(tree.getLocal(_concrete(LEVEL)), 42)


class PruneTests(unittest.TestCase):
    """An unfilled optional object is absent."""

    def test_pruned(self) -> None:
        """Only the bound paths' optional ancestors are there, with the mandatory objects of what stays."""
        tree = _tree({DESCRIPTION + "ServiceLocation": Binding(lambda n: "")})
        objects = _objectNames(tree)
        self.assertIn(PS + DESCRIPTION, objects)
        self.assertIn(PS + "PrintServiceStatus.", objects)  # minEntries 1
        self.assertNotIn(PS + "PrintServiceConfiguration.", objects)
        self.assertNotIn(PS + "PrintServiceDefaults.", objects)
        self.assertLess(len(_paramNames(tree)), 100)

    def test_boundTableKept(self) -> None:
        """A table with a bound parameter is there, with its counter; its siblings are not."""
        tree = _tree({LEVEL: Binding(lambda n: 0)})
        names = _paramNames(tree)
        self.assertIn(PS + "PrintServiceConfiguration.Markers.MarkerNumberOfEntries", names)
        self.assertNotIn(PS + "PrintServiceConfiguration.InputTrays.InputTrayNumberOfEntries", names)
        self.assertNotIn(PS + "PrintServiceConfiguration.Consoles.ConsoleNumberOfEntries", names)

    def test_unprunedIsWhole(self) -> None:
        """prune=False keeps every object of the document."""
        table = model.printServiceTable({}, prune=False)
        self.assertIsInstance(table, Table)
        self.assertEqual(table.numberOfEntries, "PrintServiceNumberOfEntries")


_DOC = (
    '<dm:document xmlns:dm="urn:broadband-forum-org:cwmp:datamodel-1-8" spec="urn:x">'
    '<dataType name="W"><string><enumeration value="A"/><enumeration value="B"/></string></dataType>'
    '<model name="PrintService:1.0" isService="true">'
    '<parameter name="PrintServiceNumberOfEntries" access="readOnly"><syntax><unsignedInt/></syntax></parameter>'
    '<object name="PrintService.{i}." access="readOnly" minEntries="0" maxEntries="unbounded"'
    ' numEntriesParameter="PrintServiceNumberOfEntries">'
    '<uniqueKey><parameter ref="S.Id"/></uniqueKey></object>'
    '<object name="PrintService.{i}.S." access="readOnly" minEntries="1" maxEntries="1">'
    '<parameter name="Id" access="readOnly"><syntax><int/></syntax></parameter>'
    '<parameter name="W" access="readWrite" activeNotify="canDeny"><syntax><dataType ref="W"/></syntax></parameter>'
    '<parameter name="RowNumberOfEntries" access="readOnly"><syntax><unsignedInt/></syntax></parameter>'
    "</object>"
    '<object name="PrintService.{i}.S.Row.{i}." access="readOnly" minEntries="0" maxEntries="unbounded"'
    ' numEntriesParameter="RowNumberOfEntries">'
    '<parameter name="N" access="readOnly"><syntax><list/><string><size maxLength="8"/></string></syntax></parameter>'
    "</object>"
    "</model></dm:document>"
)


class ParseTests(unittest.TestCase):
    """parseDocument on small documents, and what it refuses."""

    def test_small(self) -> None:
        """A small document builds a tree with its own types and tables."""
        doc = model.parseDocument(_DOC)
        self.assertEqual(set(doc.parameters), {"S.Id", "S.W", "S.RowNumberOfEntries", "S.Row.{i}.N"})
        self.assertEqual(doc.parameters["S.W"].type, T.String(enumeration=("A", "B")))
        self.assertTrue(doc.parameters["S.W"].writable)
        tree = TreeDataModel(model.declare({"S.W": Binding(lambda n: "A", lambda n, v: None)}, doc=doc, prune=False))
        tree.addInstance(model.SERVICE_TABLE)
        tree.addInstance(PS + "S.Row.", data=None)
        self.assertEqual(tree.getLocal(PS + "S.RowNumberOfEntries"), 1)
        self.assertEqual(tree.getLocal(PS + "S.Row.1.N"), ())

    def assertRefused(self, document: str, reason: str) -> None:
        with self.assertRaises(DocumentError) as caught:
            model.parseDocument(document)
        self.assertIn(reason, str(caught.exception))

    def test_refused(self) -> None:
        """Broken documents raise DocumentError with a reason, never anything else."""
        cases = [
            ("<dm:document", "not well-formed"),
            ('<!DOCTYPE d [<!ENTITY e "x">]><d/>', "declaration"),
            ("<other/>", "not a DM document"),
            (_DOC.replace("</model>", "</model><model/>"), "2 models"),
            (_DOC.replace('name="PrintService.{i}.S."', 'name="Other.{i}.S."'), "is not below"),
            (_DOC.replace('access="readOnly" minEntries="1"', 'access="readWrite" minEntries="1"'), "not supported"),
            (_DOC.replace('access="readOnly"><syntax><int/>', 'access="sometimes"><syntax><int/>'), "access"),
            (_DOC.replace('activeNotify="canDeny"', 'activeNotify="loud"'), "activeNotify"),
            (_DOC.replace('ref="W"', 'ref="Nope"'), "unknown named data type"),
            (_DOC.replace('<syntax><int/></syntax>', ""), "0 syntax"),
            (_DOC.replace('minEntries="1" maxEntries="1"', 'minEntries="1" maxEntries="x"'), "bad entry count"),
            (_DOC.replace('minEntries="1" maxEntries="1"', 'minEntries="1" maxEntries="2"'), "single object"),
            (_DOC.replace(' numEntriesParameter="RowNumberOfEntries"', ""), "without numEntriesParameter"),
            (_DOC.replace('name="RowNumberOfEntries"', 'name="Rows"'), "is not an unsignedInt of its parent"),
            (_DOC.replace('ref="S.Id"', 'ref="S.Key"'), "uniqueKey"),
            (_DOC.replace('name="PrintService.{i}.S.Row.{i}."', 'name="PrintService.{i}.T.Row.{i}."'), "before its parent"),
            (_DOC.replace('name="Id"', 'name="1d"'), "bad parameter name"),
            (_DOC.replace('name="PrintService.{i}.S."', 'name="PrintService.{i}.{i}."'), "bad name"),
            (_DOC.replace('name="W" access', 'name="Row" access'), "used twice"),
            (_DOC.replace("<string><size", '<string><pattern value="("/><size'), "S.Row.{i}.N"),
            (_DOC.replace('name="N"', 'name="Id"').replace('name="PrintService.{i}.S.Row.{i}."', 'name="PrintService.{i}.S."'),
             "declared twice"),
            (_DOC.replace("<parameter name=\"RowNumberOfEntries\"", "<parameter name=\"W\""), "declared twice"),
            (_DOC.replace('<object name="PrintService.{i}." access="readOnly" minEntries="0" maxEntries="unbounded"'
                          ' numEntriesParameter="PrintServiceNumberOfEntries">'
                          '<uniqueKey><parameter ref="S.Id"/></uniqueKey></object>', ""), "comes before its parent"),
        ]
        for document, reason in cases:
            self.assertRefused(document, reason)

    def test_fuzz(self) -> None:
        """Mutated documents are refused with DocumentError or build a tree; nothing else escapes."""
        rng = random.Random(106)
        accepted = 0
        for _ in range(1500):
            text = list(_DOC)
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(text))
                text[at:at + rng.randint(0, 2)] = rng.choice(['"', ".", "{i}.", "0", "unbounded", "x", "", "<", "W", "1"])
            try:
                doc = model.parseDocument("".join(text))
            except DocumentError:
                continue
            accepted += 1
            TreeDataModel(model.declare({}, doc=doc, prune=False))
        self.assertGreater(accepted, 0)

    def test_tooBig(self) -> None:
        """The size cap applies to this parse too."""
        self.assertRefused("<d>" + " " * model.MAX_DOCUMENT_BYTES + "</d>", "exceeds")


class CostTests(unittest.TestCase):
    """What one printer's tree costs once the document is parsed (the figures in the module docstring)."""

    def test_buildCost(self) -> None:
        """A whole tree with one instance and one row in each table builds in well under a second and 2 MiB."""
        model.document()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            start = time.perf_counter()
            tree = _everyRow(_tree({}, prune=False))
            elapsed = time.perf_counter() - start
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        self.assertEqual(len(_paramNames(tree)), 1044)
        self.assertLess(elapsed, 1.0)  # tracemalloc slows it ~5x; ~10 ms without
        self.assertLess(used, 2 << 20)
