"""Tests for L{proxier.datamodel.tree}: every parameter RPC and fault of TR-069 A.3.2 on a declared tree."""

from __future__ import annotations

import datetime
import os

from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from proxier.datamodel.capabilities import INotifyingDataModel, IValidatingDataModel
from proxier.datamodel.declarations import (
    APPLIED_LATER,
    CAN_DENY,
    FORCE_DEFAULT_ENABLED,
    FORCE_ENABLED,
    Batch,
    Object,
    Parameter,
    Table,
)
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault
from proxier.datamodel.tree import PARAMETER_METHODS, TreeDataModel
from proxier.datamodel.types import Boolean, DateTime, Int, String, UnsignedInt
from proxier.datamodel.values import AttributeChange, ParameterAttributes, ParameterInfo, ParameterValue
from proxier.interfaces import IDataModel, IRebaselining
from proxier.store import Store
from tests._helpers import LogCapture, ModelCalls

UTC = datetime.timezone.utc


class Device:
    """The outside state the sample tree's getters and setters read and write."""

    def __init__(self) -> None:
        self.level = 3
        self.count = 7
        self.uptime = 100
        self.failWith: Exception | None = None
        self.later = False
        self.setCalls: list = []
        self.batchCalls: list = []
        self.model: TreeDataModel | None = None
        self.poke = False

    def getLevel(self, node):
        if self.failWith is not None:
            raise self.failWith
        return self.level

    def setLevel(self, node, value):
        self.setCalls.append(("Level", value))
        self.level = value
        if self.poke and self.model is not None:
            self.model.changed("Device.Info.Level")
        return APPLIED_LATER if self.later else None

    def checkLevel(self, node, value):
        if value == 9:
            raise ValueError("nine is unlucky")

    def setBroken(self, node, value):
        raise RuntimeError("the device fell over")

    def applyBatch(self, changes):
        self.batchCalls.append(sorted((key, value) for _, key, value in changes))
        for _, key, value in changes:
            setattr(self, key, value)


def sampleTree(device: Device, **tableOptions) -> Object:
    batch = Batch(device.applyBatch)
    device.a = "a0"
    device.b = 0
    return Object(
        "Device",
        Parameter("RootDataModelVersion", String(32), value="2.17", forcedInform=True),
        Object(
            "Info",
            Parameter("Name", String(16), value="box", writable=True, persist=True),
            Parameter("Level", UnsignedInt(0, 10), get=device.getLevel, set=device.setLevel, check=device.checkLevel),
            Parameter("Count", UnsignedInt(), get=lambda node: device.count),
            Parameter("Secret", String(), value="s3", writable=True, hidden=True),
            Parameter("Flag", Boolean(), value=False, writable=True),
            Parameter("When", DateTime(), writable=True, persist=True),
            Parameter("UpTime", UnsignedInt(), get=lambda node: device.uptime, activeNotify=CAN_DENY),
            Parameter("Version", String(), value="1", activeNotify=FORCE_ENABLED, forcedInform=True),
            Parameter("URL", String(), value="", writable=True, activeNotify=FORCE_DEFAULT_ENABLED),
            Parameter("Broken", Int(), get=lambda node: 0, set=device.setBroken),
            Parameter("A", String(), get=lambda node: device.a, set=batch.field("a")),
            Parameter("B", Int(), get=lambda node: device.b, set=batch.field("b")),
        ),
        Table(
            "Host",
            Parameter("Name", String(32), writable=True, persist=True),
            Parameter("Port", UnsignedInt(1, 65535), value=80, writable=True, persist=True),
            Table("Sub", Parameter("X", Int(), writable=True), writable=True),
            writable=True,
            alias=True,
            persist=True,
            maxEntries=3,
            **tableOptions,
        ),
        Table("Ro", Parameter("Key", String(), get=lambda node: node.data)),
    )


class TreeTestCase(ModelCalls, unittest.TestCase):
    def setUp(self) -> None:
        self.device = Device()
        self.storePath = self.mktemp()
        self.model = self.make()

    def make(self, **options) -> TreeDataModel:
        tableOptions = options.pop("tableOptions", {})
        model = TreeDataModel(sampleTree(self.device, **tableOptions), Store.open(self.storePath).child("tree"),
                              **options)
        self.device.model = model
        return model

    def spv(self, *triples) -> defer.Deferred:
        return self.model.setParameterValues([ParameterValue(*t) for t in triples])


class InterfaceTests(TreeTestCase):
    def test_provides(self) -> None:
        """The tree provides IDataModel and the optional validating and notifying interfaces completely."""
        verifyObject(IDataModel, self.model)
        verifyObject(IValidatingDataModel, self.model)
        verifyObject(INotifyingDataModel, self.model)
        verifyObject(IRebaselining, self.model)

    def test_supportedMethods(self) -> None:
        """It lists the parameter RPCs, plus the handlers it was given."""
        self.assertEqual(self.model.supportedMethods(), PARAMETER_METHODS)
        model = TreeDataModel(Object("Device"), handlers={"Reboot": lambda key: None})
        self.assertEqual(model.supportedMethods(), PARAMETER_METHODS | {"Reboot"})
        self.assertIn("AddObject", PARAMETER_METHODS)
        self.assertNotIn("GetRPCMethods", PARAMETER_METHODS)

    def test_handlers(self) -> None:
        """Reboot and friends go to handlers; without one the answer is 9000; a failing one gives 9002."""
        calls = []
        model = TreeDataModel(Object("Device"), handlers={
            "Reboot": calls.append,
            "FactoryReset": lambda: defer.succeed("reset"),
            "Download": lambda request: 1 / 0,
            "Upload": lambda request: defer.fail(CWMPFault(9011)),
        })
        self.assertIsNone(self.ok(model.reboot("ck")))
        self.assertEqual(calls, ["ck"])
        self.assertEqual(self.ok(model.factoryReset()), "reset")
        self.fault(model.download(object()), 9002)
        self.fault(model.upload(object()), 9011)
        self.flushLoggedErrors(ZeroDivisionError)
        for call in (lambda: self.model.reboot("k"), self.model.factoryReset,
                     lambda: self.model.download(None), lambda: self.model.upload(None)):
            self.fault(call(), 9000)
        with self.assertRaises(ValueError):
            TreeDataModel(Object("Device"), handlers={"ScheduleInform": lambda: None})


class DeclarationTests(unittest.TestCase):
    def test_badDeclarations(self) -> None:
        """Mistakes in a declaration are refused when it is made, not when the ACS asks."""
        with self.assertRaises(ValueError):
            Parameter("1x", String())
        with self.assertRaises(ValueError):
            Parameter("X", String(), activeNotify="always")
        with self.assertRaises(ValueError):
            Parameter("X", String(), set=lambda n, v: None)
        with self.assertRaises(ValueError):
            Parameter("X", String(), get=lambda n: "", value="a")
        with self.assertRaises(ValueError):
            Parameter("X", String(), get=lambda n: "", writable=True)
        with self.assertRaises(ValueError):
            Parameter("X", String(3), value="abcd")
        with self.assertRaises(ValueError):
            Object("A", Parameter("X", String()), Parameter("X", Int()))
        with self.assertRaises(ValueError):
            Object("A", Table("T"), Parameter("TNumberOfEntries", UnsignedInt()))
        with self.assertRaises(TypeError):
            Object("A", "X")
        with self.assertRaises(ValueError):
            Object("A.B")
        with self.assertRaises(ValueError):
            Table("9")
        with self.assertRaises(TypeError):
            TreeDataModel([Table("T")])  # type: ignore[list-item]

    def test_defaults(self) -> None:
        """A parameter the tree keeps is read-only unless said; one with a setter is writable."""
        self.assertFalse(Parameter("X", String()).writable)
        self.assertTrue(Parameter("X", String(), writable=True).writable)
        self.assertTrue(Parameter("X", String(), get=lambda n: "", set=lambda n, v: None).writable)
        self.assertFalse(Parameter("X", String(), get=lambda n: "", set=lambda n, v: None, writable=False).writable)


class GetParameterNamesTests(TreeTestCase):
    def test_rootNextLevel(self) -> None:
        """The empty path with NextLevel true lists the top object only."""
        self.assertEqual(self.ok(self.model.getParameterNames("", True)), [ParameterInfo("Device.", False)])

    def test_rootAll(self) -> None:
        """The empty path with NextLevel false lists every object and parameter, objects with a trailing dot."""
        self.ok(self.model.addObject("Device.Host."))
        names = self.names("", False)
        self.assertEqual(names[0], "Device.")
        self.assertIn("Device.Info.", names)
        self.assertIn("Device.Info.Name", names)
        self.assertIn("Device.Host.1.Sub.", names)
        self.assertIn("Device.HostNumberOfEntries", names)
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(names.index("Device.Info.") + 1, names.index("Device.Info.Name"))

    def test_objectNextLevel(self) -> None:
        """NextLevel true on an object lists its immediate children only, in declaration order."""
        self.assertEqual(
            self.names("Device.", True),
            ["Device.RootDataModelVersion", "Device.Info.", "Device.HostNumberOfEntries", "Device.Host.",
             "Device.RoNumberOfEntries", "Device.Ro."],
        )

    def test_objectSubtreeIncludesItself(self) -> None:
        """NextLevel false on an object lists the object itself first, then everything below it."""
        names = self.names("Device.Info.", False)
        self.assertEqual(names[0], "Device.Info.")
        self.assertEqual(len(names), 13)
        self.assertTrue(all(n.startswith("Device.Info.") for n in names))

    def test_parameter(self) -> None:
        """A parameter with NextLevel false gives itself with its Writable; NextLevel true gives 9003."""
        self.assertEqual(self.ok(self.model.getParameterNames("Device.Info.Name", False)),
                         [ParameterInfo("Device.Info.Name", True)])
        self.assertEqual(self.ok(self.model.getParameterNames("Device.Info.Count", False)),
                         [ParameterInfo("Device.Info.Count", False)])
        self.fault(self.model.getParameterNames("Device.Info.Name", True), 9003)

    def test_writable(self) -> None:
        """Writable is real: setters and ACS-writable values are writable, tables when the ACS may add rows."""
        infos = {i.name: i.writable for i in self.ok(self.model.getParameterNames("", False))}
        self.assertTrue(infos["Device.Info.Level"])
        self.assertFalse(infos["Device.Info.Count"])
        self.assertFalse(infos["Device.Info."])
        self.assertTrue(infos["Device.Host."])
        self.assertFalse(infos["Device.Ro."])
        self.assertFalse(infos["Device.HostNumberOfEntries"])
        self.assertFalse(infos["Device.RootDataModelVersion"])

    def test_tables(self) -> None:
        """A table lists its instances (deletable when the ACS may delete) and, with NextLevel false, their contents."""
        self.ok(self.model.addObject("Device.Host."))
        self.ok(self.model.addObject("Device.Host."))
        self.model.addInstance("Device.Ro.", key="k", data="v")
        self.assertEqual(self.ok(self.model.getParameterNames("Device.Host.", True)),
                         [ParameterInfo("Device.Host.1.", True), ParameterInfo("Device.Host.2.", True)])
        self.assertEqual(self.ok(self.model.getParameterNames("Device.Ro.", True)),
                         [ParameterInfo("Device.Ro.1.", False)])
        names = self.names("Device.Host.", False)
        self.assertEqual(names[:2], ["Device.Host.", "Device.Host.1."])
        self.assertIn("Device.Host.2.Sub.", names)
        self.assertEqual(self.names("Device.Host.2.", True),
                         ["Device.Host.2.Alias", "Device.Host.2.Name", "Device.Host.2.Port",
                          "Device.Host.2.SubNumberOfEntries", "Device.Host.2.Sub."])
        self.assertEqual(self.names("Device.Host.2.", False)[0], "Device.Host.2.")

    def test_unknown(self) -> None:
        """Unknown names, bad syntax and a parameter named as an object (or the reverse) give 9005."""
        for path in ("Device.Nope.", "Device.Nope", "Device.Info", "Device.Info.Name.", "Device..",
                     "Device.Host.1.", "Device.Host.0.", "Other.", "Device.Info.1.", "Device.Host.[x].",
                     "Device.Info.[x].", "Device.Host.Name"):
            self.fault(self.model.getParameterNames(path, False), 9005)


class GetParameterValuesTests(TreeTestCase):
    def test_values(self) -> None:
        """Names and partial paths give values as wire text with the parameter's xsi:type."""
        got = self.ok(self.model.getParameterValues(["Device.Info.Level", "Device.Info.Flag"]))
        self.assertEqual(got, [ParameterValue("Device.Info.Level", "3", "xsd:unsignedInt"),
                               ParameterValue("Device.Info.Flag", "false", "xsd:boolean")])
        values = self.values("Device.Info.")
        self.assertEqual(values["Device.Info.When"], "0001-01-01T00:00:00Z")
        self.assertEqual(values["Device.Info.Name"], "box")
        self.assertEqual(len(values), 12)

    def test_everything(self) -> None:
        """The empty path gives every parameter, table contents included."""
        self.model.addInstance("Device.Ro.", data="hello")
        values = self.values("")
        self.assertEqual(values["Device.RootDataModelVersion"], "2.17")
        self.assertEqual(values["Device.Ro.1.Key"], "hello")
        self.assertEqual(values["Device.RoNumberOfEntries"], "1")
        self.assertEqual(values["Device.HostNumberOfEntries"], "0")

    def test_hidden(self) -> None:
        """A hidden parameter (a password) reads back as an empty string."""
        self.assertEqual(self.values("Device.Info.Secret"), {"Device.Info.Secret": ""})
        self.assertEqual(self.model.getLocal("Device.Info.Secret"), "s3")

    def test_unknown(self) -> None:
        """Any unknown name fails the whole request with 9005."""
        self.fault(self.model.getParameterValues(["Device.Info.Name", "Device.Info.Nope"]), 9005)
        self.fault(self.model.getParameterValues(["Device.Info"]), 9005)

    def test_duplicatesAndEmpty(self) -> None:
        """A name asked twice is answered twice; no names give no values."""
        got = self.ok(self.model.getParameterValues(["Device.Info.Name", "Device.Info.Name"]))
        self.assertEqual(len(got), 2)
        self.assertEqual(self.ok(self.model.getParameterValues([])), [])

    def test_getterFails(self) -> None:
        """A getter's own fault is answered; any other exception becomes 9002 and is logged."""
        self.device.failWith = CWMPFault(9001)
        self.fault(self.model.getParameterValues(["Device.Info.Level"]), 9001)
        self.device.failWith = KeyError("secret detail")
        fault = self.fault(self.model.getParameterValues(["Device.Info."]), 9002)
        self.assertNotIn("secret", fault.string)
        self.assertEqual(len(self.flushLoggedErrors(KeyError)), 1)

    def test_valueNotFittingItsType(self) -> None:
        """A getter returning a value its type cannot format gives 9002, logged."""
        self.device.count = "seven"
        logs = LogCapture(self)
        self.fault(self.model.getParameterValues(["Device.Info.Count"]), 9002)
        self.assertTrue(any("does not fit" in e.get("log_format", "") for e in logs.errors()))

    def test_requestCap(self) -> None:
        """A request with more entries than the cap gives 9004."""
        from proxier.datamodel import tree

        self.patch(tree, "MAX_REQUEST_ITEMS", 2)
        self.fault(self.model.getParameterValues(["Device.Info.Name"] * 3), 9004)
        self.patch(tree, "MAX_RESULT_ITEMS", 5)
        self.fault(self.model.getParameterValues([""]), 9004)
        self.fault(self.model.getParameterNames("", False), 9004)


class SetParameterValuesTests(TreeTestCase):
    def test_apply(self) -> None:
        """Valid values are applied (kept or through setters) and the status is 0."""
        self.assertEqual(self.ok(self.spv(("Device.Info.Name", "gw", "xsd:string"),
                                          ("Device.Info.Level", "5", "xsd:unsignedInt"),
                                          ("Device.Info.Flag", "1", "xsd:boolean"))), 0)
        self.assertEqual(self.values("Device.Info.Name", "Device.Info.Level", "Device.Info.Flag"),
                         {"Device.Info.Name": "gw", "Device.Info.Level": "5", "Device.Info.Flag": "true"})
        self.assertEqual(self.device.level, 5)

    def test_allOrNothing(self) -> None:
        """One bad value fails the request with 9003 listing every bad parameter, and nothing is applied."""
        fault = self.fault(self.spv(
            ("Device.Info.Name", "changed", "xsd:string"),
            ("Device.Info.Nope", "x", "xsd:string"),
            ("Device.Info.Level", "true", "xsd:boolean"),
            ("Device.Info.Level2", "1", "xsd:int"),
            ("Device.Info.Flag", "maybe", "xsd:boolean"),
            ("Device.Info.Count", "1", "xsd:unsignedInt"),
            ("Device.Info.", "1", "xsd:string"),
        ), 9003)
        self.assertEqual(
            [(f.parameterName, f.faultCode) for f in fault.parameterFaults],
            [("Device.Info.Nope", 9005), ("Device.Info.Level", 9006), ("Device.Info.Level2", 9005),
             ("Device.Info.Flag", 9007), ("Device.Info.Count", 9008), ("Device.Info.", 9005)],
        )
        self.assertEqual(self.values("Device.Info.Name"), {"Device.Info.Name": "box"})
        self.assertEqual(self.device.setCalls, [])

    def test_faultCodes(self) -> None:
        """Each kind of bad entry gives its own per-parameter code."""
        rows = [
            (("Device.Info.Nope", "1", "xsd:string"), 9005),
            (("Device..Info", "1", "xsd:string"), 9005),
            (("Device.Info.Level", "11", "xsd:unsignedInt"), 9007),
            (("Device.Info.Level", "x", "xsd:string"), 9007),
            (("Device.Info.Level", "1", "xsd:dateTime"), 9006),
            (("Device.Info.Level", "9", "xsd:unsignedInt"), 9007),
            (("Device.Info.Count", "1", "xsd:unsignedInt"), 9008),
            (("Device.HostNumberOfEntries", "1", "xsd:unsignedInt"), 9008),
            (("Device.Info.Name", "x" * 17, "xsd:string"), 9007),
            (("Device.Info.When", "soon", "xsd:dateTime"), 9007),
        ]
        for triple, code in rows:
            fault = self.fault(self.spv(triple), 9003)
            self.assertEqual(fault.parameterFaults[0].faultCode, code, triple)
            self.assertEqual(fault.parameterFaults[0].parameterName, triple[0])
        fault = self.fault(self.spv(("Device.Info.Level", "9", "xsd:unsignedInt")), 9003)
        self.assertIn("nine is unlucky", fault.parameterFaults[0].faultString)

    def test_duplicate(self) -> None:
        """The same name twice in one request gives 9003 and applies nothing."""
        fault = self.fault(self.spv(("Device.Info.Name", "a", "xsd:string"), ("Device.Info.Name", "b", "xsd:string")),
                           9003)
        self.assertEqual(fault.parameterFaults, ())
        self.assertIn("more than once", fault.string)
        self.assertEqual(self.model.getLocal("Device.Info.Name"), "box")

    def test_appliedLater(self) -> None:
        """A setter that applies later makes the status 1."""
        self.device.later = True
        self.assertEqual(self.ok(self.spv(("Device.Info.Level", "4", "xsd:unsignedInt"))), 1)

    def test_rollback(self) -> None:
        """A setter failing while applying undoes what was applied before it, and gives 9002."""
        self.fault(self.spv(("Device.Info.Level", "5", "xsd:unsignedInt"),
                            ("Device.Info.Name", "new", "xsd:string"),
                            ("Device.Info.Broken", "1", "xsd:int")), 9002)
        self.assertEqual(self.device.level, 3)
        self.assertEqual(self.device.setCalls, [("Level", 5), ("Level", 3)])
        self.assertEqual(self.model.getLocal("Device.Info.Name"), "box")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_batch(self) -> None:
        """Setters of one batch are applied by one call, with all their values."""
        self.ok(self.spv(("Device.Info.A", "x", "xsd:string"), ("Device.Info.Level", "2", "xsd:unsignedInt"),
                         ("Device.Info.B", "5", "xsd:int")))
        self.assertEqual(self.device.batchCalls, [[("a", "x"), ("b", 5)]])
        self.assertEqual((self.device.a, self.device.b), ("x", 5))

    def test_batchRollback(self) -> None:
        """A batch applied before a failing setter is undone with the old values."""
        self.fault(self.spv(("Device.Info.A", "x", "xsd:string"), ("Device.Info.Broken", "1", "xsd:int")), 9002)
        self.assertEqual(self.device.batchCalls, [[("a", "x")], [("a", "a0")]])
        self.assertEqual(self.device.a, "a0")
        self.flushLoggedErrors(RuntimeError)

    def test_validateOnly(self) -> None:
        """validateParameterValues answers as SetParameterValues would, applying nothing."""
        self.assertIsNone(self.ok(self.model.validateParameterValues(
            [ParameterValue("Device.Info.Name", "ok", "xsd:string")])))
        self.assertEqual(self.model.getLocal("Device.Info.Name"), "box")
        fault = self.fault(self.model.validateParameterValues(
            [ParameterValue("Device.Info.Count", "1", "xsd:unsignedInt")]), 9003)
        self.assertEqual(fault.parameterFaults, (SetParameterValuesFault("Device.Info.Count", 9008),))

    def test_persisted(self) -> None:
        """Values marked persist survive a restart; the others start from their declaration."""
        self.ok(self.spv(("Device.Info.Name", "gw", "xsd:string"), ("Device.Info.Flag", "true", "xsd:boolean"),
                         ("Device.Info.When", "2024-01-02T03:04:05+01:00", "xsd:dateTime")))
        again = self.make()
        self.assertEqual(again.getLocal("Device.Info.Name"), "gw")
        self.assertEqual(again.getLocal("Device.Info.When"), datetime.datetime(2024, 1, 2, 2, 4, 5, tzinfo=UTC))
        self.assertEqual(again.getLocal("Device.Info.Flag"), False)

    def test_storedValueNoLongerValid(self) -> None:
        """A stored value the new declaration refuses is ignored with a warning, not a crash."""
        self.ok(self.spv(("Device.Info.Name", "sixteen-chars-ok", "xsd:string")))
        doc = Store.open(self.storePath).child("tree").document("values")
        doc.save(dict(doc.load(), **{"Device.Info.When": "garbage"}))
        again = self.make()
        self.assertEqual(again.getLocal("Device.Info.Name"), "sixteen-chars-ok")
        self.assertEqual(self.ok(again.getParameterValues(["Device.Info.When"]))[0].value, "0001-01-01T00:00:00Z")

    def test_corruptState(self) -> None:
        """Corrupt state documents are set aside and the tree starts from defaults."""
        child = os.path.join(self.storePath, "tree")
        for name in ("attributes", "values", "tables"):
            with open(os.path.join(child, name + ".json"), "w") as f:
                f.write("{not json")
        again = self.make()
        self.assertEqual(again.getLocal("Device.Info.Name"), "box")
        self.assertTrue(any(".corrupt-" in n for n in os.listdir(child)))
        self.flushLoggedErrors()

    def test_alias(self) -> None:
        """An Alias must be a valid alias and unique in its table, also within one request."""
        self.ok(self.model.addObject("Device.Host."))
        self.ok(self.model.addObject("Device.Host."))
        self.assertEqual(self.values("Device.Host.1.Alias"), {"Device.Host.1.Alias": "cpe-1"})
        self.ok(self.spv(("Device.Host.1.Alias", "lan", "xsd:string")))
        for triples in ([("Device.Host.2.Alias", "lan", "xsd:string")],
                        [("Device.Host.2.Alias", "9lan", "xsd:string")],
                        [("Device.Host.1.Alias", "x", "xsd:string"), ("Device.Host.2.Alias", "x", "xsd:string")]):
            fault = self.fault(self.spv(*triples), 9003)
            self.assertEqual(fault.parameterFaults[-1].faultCode, 9007)
        self.assertEqual(self.values("Device.Host.[lan].Port"), {"Device.Host.1.Port": "80"})
        self.ok(self.spv(("Device.Host.[lan].Port", "8080", "xsd:unsignedInt")))
        self.assertEqual(self.model.getLocal("Device.Host.1.Port"), 8080)


class AttributeTests(TreeTestCase):
    def spa(self, *changes: AttributeChange) -> defer.Deferred:
        return self.model.setParameterAttributes(list(changes))

    def attrs(self, name: str) -> dict[str, ParameterAttributes]:
        return {a.name: a for a in self.ok(self.model.getParameterAttributes([name]))}

    def test_defaults(self) -> None:
        """Notification is off by default, active for forceEnabled and forceDefaultEnabled parameters."""
        attrs = self.attrs("Device.Info.")
        self.assertEqual(attrs["Device.Info.Name"], ParameterAttributes("Device.Info.Name", 0, ()))
        self.assertEqual(attrs["Device.Info.Version"].notification, 2)
        self.assertEqual(attrs["Device.Info.URL"].notification, 2)
        self.assertEqual(len(attrs), 12)

    def test_setAndPersist(self) -> None:
        """Notification and AccessList set by the ACS survive a restart."""
        self.assertIsNone(self.ok(self.spa(
            AttributeChange("Device.Info.Name", True, 1, True, ("Subscriber",)),
            AttributeChange("Device.Info.Level", True, 2),
        )))
        again = self.make()
        attrs = {a.name: a for a in self.ok(again.getParameterAttributes(["Device.Info."]))}
        self.assertEqual(attrs["Device.Info.Name"], ParameterAttributes("Device.Info.Name", 1, ("Subscriber",)))
        self.assertEqual(attrs["Device.Info.Level"].notification, 2)

    def test_flags(self) -> None:
        """Only the attributes whose change flag is set are changed."""
        self.ok(self.spa(AttributeChange("Device.Info.Name", True, 1, True, ("Subscriber",))))
        self.ok(self.spa(AttributeChange("Device.Info.Name", False, 0, True, ())))
        self.assertEqual(self.attrs("Device.Info.Name")["Device.Info.Name"], ParameterAttributes("Device.Info.Name", 1))
        self.ok(self.spa(AttributeChange("Device.Info.Name", True, 0, False, ("Subscriber",))))
        self.assertEqual(self.attrs("Device.Info.Name")["Device.Info.Name"], ParameterAttributes("Device.Info.Name", 0))

    def test_partialPath(self) -> None:
        """A partial path sets every parameter below it, leaving forced and denied ones as they must be."""
        self.ok(self.spa(AttributeChange("Device.Info.", True, 2)))
        attrs = self.attrs("Device.Info.")
        self.assertEqual(attrs["Device.Info.Name"].notification, 2)
        self.assertEqual(attrs["Device.Info.UpTime"].notification, 0)
        self.ok(self.spa(AttributeChange("Device.", True, 0)))
        attrs = self.attrs("Device.Info.")
        self.assertEqual(attrs["Device.Info.Name"].notification, 0)
        self.assertEqual(attrs["Device.Info.Version"].notification, 2)
        self.assertEqual(attrs["Device.Info.URL"].notification, 0)

    def test_unsupportedNotification(self) -> None:
        """Notification values 3-6 (lightweight) and others are refused with 9003, and nothing changes."""
        for value in (3, 4, 5, 6, 7, -1):
            self.fault(self.spa(AttributeChange("Device.Info.Name", True, 1),
                                AttributeChange("Device.Info.Flag", True, value)), 9003)
        self.assertEqual(self.attrs("Device.Info.Name")["Device.Info.Name"].notification, 0)

    def test_accessList(self) -> None:
        """AccessList takes Subscriber only (empty entries are dropped); anything else gives 9003."""
        self.fault(self.spa(AttributeChange("Device.Info.Name", accessListChange=True, accessList=("Admin",))), 9003)
        self.ok(self.spa(AttributeChange("Device.Info.Name", accessListChange=True, accessList=("", "Subscriber"))))
        self.assertEqual(self.attrs("Device.Info.Name")["Device.Info.Name"].accessList, ("Subscriber",))

    def test_canDeny(self) -> None:
        """A parameter that denies active notification refuses 2 with 9009 but takes passive."""
        self.fault(self.spa(AttributeChange("Device.Info.UpTime", True, 2)), 9009)
        self.ok(self.spa(AttributeChange("Device.Info.UpTime", True, 1)))
        self.assertEqual(self.attrs("Device.Info.UpTime")["Device.Info.UpTime"].notification, 1)

    def test_forceEnabled(self) -> None:
        """A forceEnabled parameter stays active: turning it down gives 9009, asking active again is fine."""
        self.fault(self.spa(AttributeChange("Device.Info.Version", True, 0)), 9009)
        self.fault(self.spa(AttributeChange("Device.Info.Version", True, 1)), 9009)
        self.ok(self.spa(AttributeChange("Device.Info.Version", True, 2)))
        self.assertEqual(self.attrs("Device.Info.Version")["Device.Info.Version"].notification, 2)

    def test_forceDefaultEnabled(self) -> None:
        """A forceDefaultEnabled parameter is active until the ACS changes it, and the change persists."""
        self.ok(self.spa(AttributeChange("Device.Info.URL", True, 0)))
        self.assertEqual(self.attrs("Device.Info.URL")["Device.Info.URL"].notification, 0)
        again = self.make()
        self.assertEqual(self.ok(again.getParameterAttributes(["Device.Info.URL"]))[0].notification, 0)

    def test_allOrNothing(self) -> None:
        """A refused change leaves every other change of the request unapplied."""
        self.fault(self.spa(AttributeChange("Device.Info.Name", True, 1),
                            AttributeChange("Device.Info.Nope", True, 1)), 9005)
        self.fault(self.spa(AttributeChange("Device.Info.Name", True, 1),
                            AttributeChange("Device.Info.UpTime", True, 2)), 9009)
        self.assertEqual(self.attrs("Device.Info.Name")["Device.Info.Name"].notification, 0)
        self.assertIsNone(self.ok(self.model.validateParameterAttributes(
            [AttributeChange("Device.Info.Name", True, 1)])))
        self.assertEqual(self.attrs("Device.Info.Name")["Device.Info.Name"].notification, 0)
        self.fault(self.model.validateParameterAttributes([AttributeChange("Device.Info.UpTime", True, 2)]), 9009)

    def test_unknown(self) -> None:
        """Unknown names give 9005 in GetParameterAttributes too."""
        self.fault(self.model.getParameterAttributes(["Device.Info.Nope"]), 9005)


class ObjectTests(TreeTestCase):
    def test_addDelete(self) -> None:
        """AddObject returns new numbers (never reused after DeleteObject) and status 0; the count follows."""
        self.assertEqual(self.ok(self.model.addObject("Device.Host.")), (1, 0))
        self.assertEqual(self.ok(self.model.addObject("Device.Host.")), (2, 0))
        self.assertEqual(self.values("Device.HostNumberOfEntries"), {"Device.HostNumberOfEntries": "2"})
        self.assertEqual(self.ok(self.model.deleteObject("Device.Host.2.")), 0)
        self.assertEqual(self.ok(self.model.addObject("Device.Host.")), (3, 0))
        self.assertEqual(self.model.instances("Device.Host."), [1, 3])
        self.assertEqual(self.values("Device.Host.3.Port"), {"Device.Host.3.Port": "80"})

    def test_rowsSharedUntilKept(self) -> None:
        """
        A tree that keeps no rows holds the one shared empty mapping of them (issue 19); its first row kept is
        its own alone, and deleting it leaves none.
        """
        other = TreeDataModel(sampleTree(Device()), Store.open(self.mktemp()).child("tree"))
        self.assertIs(self.model._rows, other._rows)
        self.ok(self.model.addObject("Device.Host."))
        self.assertEqual((dict(self.model._rows), dict(other._rows)), ({"Device.Host.": [1]}, {}))
        self.ok(self.model.deleteObject("Device.Host.1."))
        self.assertEqual(dict(self.model._rows), {})

    def test_persisted(self) -> None:
        """Instances the ACS added, their values and the next number survive a restart."""
        self.ok(self.model.addObject("Device.Host."))
        self.ok(self.model.addObject("Device.Host."))
        self.ok(self.spv(("Device.Host.2.Name", "pc", "xsd:string"), ("Device.Host.2.Alias", "pc1", "xsd:string")))
        self.ok(self.model.deleteObject("Device.Host.1."))
        self.ok(self.model.addObject("Device.Host.2.Sub."))
        again = self.make()
        self.assertEqual(again.instances("Device.Host."), [2])
        self.assertEqual(again.getLocal("Device.Host.2.Name"), "pc")
        self.assertEqual(again.getLocal("Device.Host.2.Alias"), "pc1")
        self.assertEqual(self.successResultOf(again.addObject("Device.Host.")), (3, 0))
        # the Sub table is not persisted, but its numbering is
        self.assertEqual(again.instances("Device.Host.2.Sub."), [])
        self.assertEqual(self.successResultOf(again.addObject("Device.Host.2.Sub.")), (2, 0))

    def test_faults(self) -> None:
        """Unknown or non-object paths give 9005, objects that are not tables 9003, tables the ACS cannot grow 9001."""
        rows = [
            ("Device.Nope.", 9005), ("Device.Host", 9005), ("", 9005), ("Device..", 9005),
            ("Device.Info.", 9003), ("Device.", 9003), ("Device.Ro.", 9001),
        ]
        for path, code in rows:
            self.fault(self.model.addObject(path), code)
        self.ok(self.model.addObject("Device.Host."))
        self.model.addInstance("Device.Ro.", data="x")
        rows = [
            ("Device.Host.9.", 9005), ("Device.Host.1", 9005), ("", 9005), ("Device.Host.", 9003),
            ("Device.Info.", 9003), ("Device.Ro.1.", 9001), ("Device.Host.1.Sub.", 9003),
        ]
        for path, code in rows:
            self.fault(self.model.deleteObject(path), code)

    def test_maxEntries(self) -> None:
        """A table at its maximum refuses AddObject with 9004."""
        for _ in range(3):
            self.ok(self.model.addObject("Device.Host."))
        self.fault(self.model.addObject("Device.Host."), 9004)

    def test_hooks(self) -> None:
        """Add and delete hooks see the new or doomed instance, may refuse with a fault, or apply later."""
        seen = []

        def onAdd(node):
            seen.append(("add", node.path, node.instance))
            if len(seen) > 1:
                raise CWMPFault(9004)
            return APPLIED_LATER

        def onDelete(node):
            seen.append(("delete", node.path))
            raise CWMPFault(9001)

        self.model = self.make(tableOptions={"onAdd": onAdd, "onDelete": onDelete})
        self.assertEqual(self.ok(self.model.addObject("Device.Host.")), (1, 1))
        self.fault(self.model.addObject("Device.Host."), 9004)
        self.assertEqual(self.model.instances("Device.Host."), [1])
        self.fault(self.model.deleteObject("Device.Host.1."), 9001)
        self.assertEqual(self.model.instances("Device.Host."), [1])
        self.assertEqual(seen, [("add", "Device.Host.1.", 1), ("add", "Device.Host.2.", 2),
                                ("delete", "Device.Host.1.")])

    def test_hookCrash(self) -> None:
        """A hook that crashes gives 9002, logged, and adds nothing."""
        def onAdd(node):
            raise RuntimeError("boom")

        self.model = self.make(tableOptions={"onAdd": onAdd})
        self.fault(self.model.addObject("Device.Host."), 9002)
        self.assertEqual(self.model.instances("Device.Host."), [])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_aliasAdd(self) -> None:
        """AddObject with an alias segment names the new instance; a used alias gives 9007, no Alias 9003."""
        self.assertEqual(self.ok(self.model.addObject("Device.Host.[lan1].")), (1, 0))
        self.assertEqual(self.model.getLocal("Device.Host.1.Alias"), "lan1")
        self.fault(self.model.addObject("Device.Host.[lan1]."), 9007)
        self.fault(self.model.addObject("Device.Host.1.Sub.[x]."), 9003)
        self.assertEqual(self.ok(self.model.deleteObject("Device.Host.[lan1].")), 0)

    def test_deleteDropsAttributes(self) -> None:
        """Deleting an instance forgets the attributes of its parameters."""
        self.ok(self.model.addObject("Device.Host."))
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Host.1.Name", True, 1)]))
        self.ok(self.model.deleteObject("Device.Host.1."))
        doc = Store.open(self.storePath).child("tree").document("attributes").load()
        self.assertEqual(doc, {})

    def test_nested(self) -> None:
        """Tables inside instances are numbered per instance."""
        self.ok(self.model.addObject("Device.Host."))
        self.ok(self.model.addObject("Device.Host."))
        self.assertEqual(self.ok(self.model.addObject("Device.Host.1.Sub.")), (1, 0))
        self.assertEqual(self.ok(self.model.addObject("Device.Host.2.Sub.")), (1, 0))
        self.assertEqual(self.ok(self.model.addObject("Device.Host.2.Sub.")), (2, 0))
        self.assertEqual(self.values("Device.Host.2.SubNumberOfEntries"), {"Device.Host.2.SubNumberOfEntries": "2"})
        self.ok(self.spv(("Device.Host.2.Sub.2.X", "-4", "xsd:int")))
        self.assertEqual(self.model.getLocal("Device.Host.2.Sub.2.X"), -4)


class SharedDeclarationTests(unittest.TestCase, ModelCalls):
    """One declaration served by several trees (every device's, issue 19): each tree's values are its own."""

    def setUp(self) -> None:
        self.declaration = Object(
            "Device",
            Parameter("Name", String(16), value="box", writable=True, persist=True),
            Parameter("Owner", String(), get=lambda node: node.data["owner"]),
            Table("Host", Parameter("Port", UnsignedInt(), value=80, writable=True), writable=True, alias=True),
        )
        self.one = TreeDataModel(self.declaration, Store.open(self.mktemp()), data={"owner": "one"})
        self.two = TreeDataModel(self.declaration, Store.open(self.mktemp()), data={"owner": "two"})

    def test_ownValues(self) -> None:
        """What one tree keeps, its instances and their counts are not the other's."""
        self.ok(self.one.setParameterValues([ParameterValue("Device.Name", "first", "xsd:string")]))
        self.ok(self.one.addObject("Device.Host."))
        self.ok(self.one.setParameterValues([ParameterValue("Device.Host.1.Port", "8080", "xsd:unsignedInt")]))
        self.assertEqual(self.values("Device.", model=self.one), {
            "Device.Name": "first", "Device.Owner": "one", "Device.HostNumberOfEntries": "1",
            "Device.Host.1.Alias": "cpe-1", "Device.Host.1.Port": "8080"})
        self.assertEqual(self.values("Device.", model=self.two), {
            "Device.Name": "box", "Device.Owner": "two", "Device.HostNumberOfEntries": "0"})
        self.ok(self.two.addObject("Device.Host."))
        self.assertEqual(self.values("Device.Host.", model=self.two),
                         {"Device.Host.1.Alias": "cpe-1", "Device.Host.1.Port": "80"})

    def test_dataInsideInstances(self) -> None:
        """The tree's data is that of the objects outside instances; an instance's is what code attached to it."""
        self.assertEqual(self.one.node("Device.").data, {"owner": "one"})
        self.one.addInstance("Device.Host.", data="row")
        self.assertEqual(self.one.node("Device.Host.1.").data, "row")

    def test_aliases(self) -> None:
        """An alias one tree's instance takes is not taken in the other tree's table."""
        self.ok(self.one.addObject("Device.Host."))
        self.ok(self.two.addObject("Device.Host."))
        self.ok(self.one.setParameterValues([ParameterValue("Device.Host.1.Alias", "mine", "xsd:string")]))
        self.assertEqual(self.values("Device.Host.1.Alias", model=self.two), {"Device.Host.1.Alias": "cpe-1"})
        self.assertEqual(self.ok(self.two.addObject("Device.Host.[mine].")), (2, 0))


class CodeInstanceTests(TreeTestCase):
    def test_keysAreStable(self) -> None:
        """A key keeps its instance number when removed and added again, also after a restart; new keys get new numbers."""
        self.assertEqual(self.model.addInstance("Device.Ro.", key="a", data="A"), 1)
        self.assertEqual(self.model.addInstance("Device.Ro.", key="b", data="B"), 2)
        self.assertTrue(self.model.removeInstance("Device.Ro.", key="a"))
        self.assertFalse(self.model.removeInstance("Device.Ro.", key="a"))
        self.assertEqual(self.model.addInstance("Device.Ro.", key="c", data="C"), 3)
        self.assertEqual(self.model.addInstance("Device.Ro.", key="a", data="A2"), 1)
        self.assertEqual(self.values("Device.Ro.1.Key"), {"Device.Ro.1.Key": "A2"})
        again = self.make()
        self.assertEqual(again.instances("Device.Ro."), [])
        self.assertEqual(again.addInstance("Device.Ro.", key="c"), 3)
        self.assertEqual(again.addInstance("Device.Ro.", key="b"), 2)
        self.assertEqual(again.addInstance("Device.Ro.", key="d"), 4)
        self.assertEqual(again.instances("Device.Ro."), [2, 3, 4])

    def test_tablesOfTheFirstVersion(self) -> None:
        """
        A C{tables} document the tree wrote before its numbers were an
        InstanceMap (this one by that code: Host 1 of 3 deleted, two Subs in
        Host 2, keys a, b, c with b removed) loads as it did, and is written
        back in the new form.
        """
        document = Store.open(self.storePath).child("tree").document("tables")
        document.save({"Device.Host.": {"next": 4, "rows": [2, 3]}, "Device.Host.2.Sub.": {"next": 3},
                       "Device.Host.3.Sub.": {"next": 1}, "Device.Ro.": {"keys": {"a": 1, "b": 2, "c": 3}, "next": 4}})
        model = self.make()
        self.assertEqual(model.instances("Device.Host."), [2, 3])
        self.assertEqual(model.addInstance("Device.Ro.", key="b"), 2)
        self.assertEqual(model.addInstance("Device.Ro.", key="d"), 4)
        self.assertEqual(self.ok(model.addObject("Device.Host.2.Sub.")), (3, 0))
        self.assertEqual(self.ok(model.addObject("Device.Host.3.Sub.")), (1, 0))
        self.assertEqual(self.ok(model.deleteObject("Device.Host.3.")), 0)
        self.assertEqual(document.load()["version"], 2)
        again = self.make()
        self.assertEqual(again.instances("Device.Host."), [2])
        self.assertEqual(again.addInstance("Device.Ro.", key="a"), 1)
        self.assertEqual(self.ok(again.addObject("Device.Host.")), (4, 0))
        self.assertEqual(self.ok(again.addObject("Device.Host.2.Sub.")), (4, 0))

    def test_batch(self) -> None:
        """
        Rows added and removed from code inside a batch are written once, at
        its end (nested batches: at the outermost end), and survive a restart
        like rows added one by one; outside a batch each change is written.
        """
        from proxier.store import Document

        saved: list[str] = []
        original = Document.save
        self.patch(Document, "save", lambda doc, payload: (saved.append(doc.name), original(doc, payload))[1])
        with self.model.batch():
            for key in "abcdef":
                self.model.addInstance("Device.Ro.", key=key, data=key)
            with self.model.batch():
                self.model.removeInstance("Device.Ro.", key="b")
                self.model.addInstance("Device.Host.", values={"Name": "printer"})
            self.assertEqual(saved, [])
        self.assertEqual(sorted(saved), ["attributes", "tables", "values"])  # each once
        self.model.addInstance("Device.Ro.", key="g")
        self.assertEqual(saved[-1], "tables")
        again = self.make()
        self.assertEqual(again.instances("Device.Host."), [1])
        self.assertEqual(self.values("Device.Host.1.Name"), {"Device.Host.1.Name": "printer"})
        self.assertEqual(again.addInstance("Device.Ro.", key="b"), 2)
        self.assertEqual(again.addInstance("Device.Ro.", key="h"), 8)

    def test_errors(self) -> None:
        """Code mistakes raise at once: a non-table path, a key present twice, values of getter parameters."""
        with self.assertRaises(KeyError):
            self.model.addInstance("Device.Info.")
        self.model.addInstance("Device.Ro.", key="a")
        with self.assertRaises(KeyError):
            self.model.addInstance("Device.Ro.", key="a")
        with self.assertRaises(KeyError):
            self.model.addInstance("Device.Ro.", values={"Key": "x"})
        with self.assertRaises(KeyError):
            self.model.removeInstance("Device.Info.", 1)
        with self.assertRaises(KeyError):
            self.model.instances("Device.Info.")
        with self.assertRaises(KeyError):
            self.model.node("Device.Ro.")
        with self.assertRaises(KeyError):
            self.model.setLocal("Device.Info.Level", 1)
        with self.assertRaises(KeyError):
            self.model.setLocal("Device.Nope", 1)
        with self.assertRaises(ValueError):
            self.model.setLocal("Device.Info.Name", "x" * 17)

    def test_initialValues(self) -> None:
        """Code may give initial values of kept parameters; they are checked and persisted."""
        number = self.model.addInstance("Device.Host.", values={"Name": "printer", "Port": 631})
        self.assertEqual(self.values(f"Device.Host.{number}.Name"), {"Device.Host.1.Name": "printer"})
        with self.assertRaises(ValueError):
            self.model.addInstance("Device.Host.", values={"Port": 0})

    def test_nodeAccess(self) -> None:
        """node() gives the running object; its value() reads a parameter."""
        self.model.addInstance("Device.Ro.", data="payload")
        node = self.model.node("Device.Ro.1.")
        self.assertEqual((node.instance, node.data, node.value("Key")), (1, "payload", "payload"))
        self.assertEqual(self.model.node("Device.Info.").value("Name"), "box")


class ChangeTests(TreeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.reports: list = []
        self.model.addChangeListener(lambda values, active: self.reports.append((list(values), active)))

    def notify(self, path: str, value: int) -> None:
        self.ok(self.model.setParameterAttributes([AttributeChange(path, True, value)]))

    def test_poll(self) -> None:
        """poll() reports parameters with Notification on whose value changed since the last report."""
        self.notify("Device.Info.Level", 1)
        self.model.poll()
        self.assertEqual(self.reports, [])
        self.device.level = 8
        self.device.count = 99  # notification off: not reported
        self.model.poll()
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.Level", "8", "xsd:unsignedInt")], False)])
        self.model.poll()
        self.assertEqual(len(self.reports), 1)

    def test_active(self) -> None:
        """A change of a parameter with active notification is reported as active."""
        self.notify("Device.Info.Level", 2)
        self.notify("Device.Info.Count", 1)
        self.device.level = 1
        self.device.count = 1
        self.model.poll()
        values, active = self.reports[0]
        self.assertTrue(active)
        self.assertEqual({v.name for v in values}, {"Device.Info.Level", "Device.Info.Count"})

    def test_rebaseline(self) -> None:
        """
        rebaseline() takes the current value as the reference without a
        report; only a later change is reported.
        """
        self.notify("Device.Info.Level", 1)
        self.device.level = 3
        self.model.rebaseline("Device.Info.")
        self.model.poll()
        self.assertEqual(self.reports, [])
        self.device.level = 4
        self.model.poll()
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.Level", "4", "xsd:unsignedInt")], False)])

    def test_changed(self) -> None:
        """changed() checks the given names and subtrees only, and reports only real changes."""
        self.notify("Device.Info.", 1)
        self.device.level = 6
        self.device.uptime = 555
        self.model.changed("Device.Info.Level")
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.Level", "6", "xsd:unsignedInt")], False)])
        self.model.changed("Device.Info.")
        self.assertEqual(self.reports[1][0], [ParameterValue("Device.Info.UpTime", "555", "xsd:unsignedInt")])
        self.model.changed("Device.Info.")
        self.assertEqual(len(self.reports), 2)
        logs = LogCapture(self)
        self.model.changed("Device.Nope")
        self.assertTrue(logs.events)

    def test_setLocal(self) -> None:
        """A value code sets through the tree is reported when Notification is on."""
        self.model.setLocal("Device.Info.Flag", True)
        self.notify("Device.Info.Flag", 2)
        self.model.setLocal("Device.Info.Flag", False)
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.Flag", "false", "xsd:boolean")], True)])

    def test_acsChangesNotReported(self) -> None:
        """What the ACS set with SetParameterValues is not reported, even when code says it changed."""
        self.notify("Device.Info.", 2)
        self.device.poke = True
        self.ok(self.model.setParameterValues([ParameterValue("Device.Info.Level", "4", "xsd:unsignedInt"),
                                               ParameterValue("Device.Info.Name", "x", "xsd:string")]))
        self.model.poll()
        self.assertEqual(self.reports, [])
        self.device.level = 5
        self.model.poll()
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.Level", "5", "xsd:unsignedInt")], True)])

    def test_localWritesReported(self) -> None:
        """
        What the local console set (setParameterValuesLocally) is applied as
        the ACS's write would be, and reported at once where Notification is
        on (not where it is off); a refused one changes and reports nothing.
        """
        self.notify("Device.Info.Level", 1)
        status = self.ok(self.model.setParameterValuesLocally([
            ParameterValue("Device.Info.Level", "4", "xsd:unsignedInt"),
            ParameterValue("Device.Info.Name", "x", "xsd:string")]))
        self.assertEqual(status, 0)
        self.assertEqual(self.device.level, 4)
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.Level", "4", "xsd:unsignedInt")], False)])
        self.model.poll()
        self.assertEqual(len(self.reports), 1)
        self.fault(self.model.setParameterValuesLocally([
            ParameterValue("Device.Info.Level", "5", "xsd:unsignedInt"),
            ParameterValue("Device.Info.UpTime", "1", "xsd:unsignedInt")]), 9003)
        self.assertEqual(self.device.level, 4)
        self.assertEqual(len(self.reports), 1)

    def test_forcedInform(self) -> None:
        """Forced-inform parameters are not reported, unless the tree is told to."""
        self.notify("Device.RootDataModelVersion", 2)
        self.model.startNotifications()
        self.model.setLocal("Device.Info.Version", "2")
        self.model.setLocal("Device.RootDataModelVersion", "2.18")
        self.assertEqual(self.reports, [])
        model = TreeDataModel(sampleTree(Device()), reportForcedInform=True)
        seen = []
        model.addChangeListener(lambda values, active: seen.append(values))
        model.startNotifications()
        model.setLocal("Device.Info.Version", "2")
        self.assertEqual(seen, [[ParameterValue("Device.Info.Version", "2", "xsd:string")]])

    def test_forceDefault(self) -> None:
        """A forceDefaultEnabled parameter is reported, actively, without any attribute set."""
        self.model.startNotifications()
        self.model.setLocal("Device.Info.URL", "http://acs/")
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.URL", "http://acs/", "xsd:string")], True)])

    def test_hiddenReportedEmpty(self) -> None:
        """A hidden parameter's change is noticed but its value is not revealed."""
        self.notify("Device.Info.Secret", 1)
        self.model.setLocal("Device.Info.Secret", "new")
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.Secret", "", "xsd:string")], False)])

    def test_numberOfEntries(self) -> None:
        """Instances added or removed by code change NumberOfEntries, reported when Notification is on."""
        self.notify("Device.RoNumberOfEntries", 2)
        self.model.addInstance("Device.Ro.", key="a")
        self.model.addInstance("Device.Ro.", key="b")
        self.model.removeInstance("Device.Ro.", key="a")
        self.assertEqual([v[0][0].value for v in self.reports], ["1", "2", "1"])

    def test_acsAddObjectReported(self) -> None:
        """A count changed by the ACS's AddObject is reported like any change the ACS did not set directly."""
        self.notify("Device.HostNumberOfEntries", 1)
        self.ok(self.model.addObject("Device.Host."))
        self.assertEqual(self.reports, [([ParameterValue("Device.HostNumberOfEntries", "1", "xsd:unsignedInt")],
                                         False)])

    def test_turningOffForgets(self) -> None:
        """With Notification turned off nothing is reported; turned on again, the reference is the value then."""
        self.notify("Device.Info.Level", 1)
        self.notify("Device.Info.Level", 0)
        self.device.level = 9
        self.model.poll()
        self.notify("Device.Info.Level", 1)
        self.model.poll()
        self.assertEqual(self.reports, [])

    def test_listenerFailure(self) -> None:
        """A failing listener is logged; the others are still told; a removed listener is not."""
        seen = []

        def broken(values, active):
            raise RuntimeError("listener bug")

        self.model.addChangeListener(broken)
        self.model.addChangeListener(lambda values, active: seen.append(values))
        self.notify("Device.Info.Level", 1)
        self.device.level = 2
        self.model.poll()
        self.assertEqual(len(seen), 1)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.model.removeChangeListener(broken)
        self.device.level = 4
        self.model.poll()
        self.assertEqual(len(seen), 2)
        self.assertEqual(self.flushLoggedErrors(RuntimeError), [])

    def restart(self) -> TreeDataModel:
        """The proxier restarts: a new tree on the same store, started, with a listener."""
        self.model = self.make()
        self.model.startNotifications()
        self.model.addChangeListener(lambda values, active: self.reports.append((list(values), active)))
        return self.model

    def test_changeWhileDownReported(self) -> None:
        """A value that changed while the proxier was down is reported by the first poll after it starts again."""
        self.notify("Device.Info.Level", 2)
        self.model.startNotifications()
        self.device.level = 6
        self.restart().poll()
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.Level", "6", "xsd:unsignedInt")], True)])
        self.restart().poll()
        self.assertEqual(len(self.reports), 1)

    def test_acsChangeNotReportedAfterRestart(self) -> None:
        """What the ACS set stays unreported across a restart; a later change by others is reported."""
        self.notify("Device.Info.Level", 1)
        self.ok(self.model.setParameterValues([ParameterValue("Device.Info.Level", "4", "xsd:unsignedInt")]))
        self.restart().poll()
        self.assertEqual(self.reports, [])
        self.device.level = 5
        self.restart().changed("Device.Info.Level")
        self.assertEqual(self.reports, [([ParameterValue("Device.Info.Level", "5", "xsd:unsignedInt")], False)])

    def test_startKeepsStoredBaselines(self) -> None:
        """startNotifications fills only missing references: it does not take a changed value as the reference."""
        self.notify("Device.Info.Level", 1)
        self.device.level = 8
        model = self.make()
        model.startNotifications()
        model.startNotifications()
        seen: list = []
        model.addChangeListener(lambda values, active: seen.append(values))
        model.poll()
        self.assertEqual(seen, [[ParameterValue("Device.Info.Level", "8", "xsd:unsignedInt")]])

    def test_changeWaitsForAListener(self) -> None:
        """A change detected while no listener is there is not lost: the first detection with one reports it."""
        self.notify("Device.Info.Level", 1)
        model = self.make()
        self.device.level = 2
        model.poll()
        model.addChangeListener(lambda values, active: self.reports.append(list(values)))
        model.poll()
        self.assertEqual(self.reports, [[ParameterValue("Device.Info.Level", "2", "xsd:unsignedInt")]])

    def test_deletedInstanceForgotten(self) -> None:
        """A deleted instance's references go with its attributes, also on disk."""
        self.ok(self.model.addObject("Device.Host."))
        self.notify("Device.Host.1.Port", 1)
        self.ok(self.model.deleteObject("Device.Host.1."))
        self.ok(self.model.addObject("Device.Host."))
        self.restart().poll()
        self.assertEqual(self.reports, [])
        self.assertNotIn("Device.Host.1.Port", self.make()._baselines.values)

    def test_getterFaultSkipped(self) -> None:
        """A parameter whose getter fails is skipped by change detection, not reported nor crashed on."""
        self.notify("Device.Info.Level", 1)
        self.device.failWith = CWMPFault(9002)
        self.model.poll()
        self.assertEqual(self.reports, [])
