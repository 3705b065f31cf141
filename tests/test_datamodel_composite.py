"""Tests for L{proxier.datamodel.composite}: routing, merging, insertion (TR-330 Figure 7), atomic sets."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from proxier.datamodel.capabilities import ILocalWrites, INotifyingDataModel, IValidatingDataModel
from proxier.datamodel import composite
from proxier.datamodel.composite import CompositeDataModel, Mount
from proxier.datamodel.declarations import Object, Parameter, Table
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import Boolean, String, UnsignedInt
from proxier.datamodel.values import AttributeChange, ParameterAttributes, ParameterInfo, ParameterValue
from proxier.interfaces import IDataModel, IForcedInform
from tests._helpers import LogCapture, ModelCalls


def deviceTree(withDeviceInfo: bool = True, shadow: bool = False) -> TreeDataModel:
    """A proxied device's own model: DeviceInfo and a Hosts table (and, if asked, its own ManagementServer)."""
    children: list = []
    if withDeviceInfo:
        children.append(Object("DeviceInfo",
                               Parameter("Manufacturer", String(64), value="Acme"),
                               Parameter("FriendlyName", String(64), value="tv", writable=True)))
    children.append(Object("Hosts", Table("Host", Parameter("IPAddress", String(45), writable=True), writable=True)))
    if shadow:
        children.append(Object("ManagementServer", Parameter("URL", String(), value="http://device-says/")))
    return TreeDataModel(Object("Device", Parameter("Enabled", Boolean(), value=True, writable=True), *children),
                         handlers={"Reboot": lambda key: None, "Download": lambda request: None})


def localTree(cls: type[TreeDataModel] = TreeDataModel) -> TreeDataModel:
    """The proxier-held overlay: ManagementServer and DeviceInfo.ProxierInfo."""
    return cls(Object(
        "Device",
        Object("ManagementServer",
               Parameter("URL", String(256), value="http://acs/", writable=True),
               Parameter("PeriodicInformInterval", UnsignedInt(1), value=60, writable=True),
               Parameter("ParameterKey", String(32))),
        Object("DeviceInfo", Object("ProxierInfo", Parameter("ProductClass", String(64), value="Gateway"))),
    ), handlers={"Reboot": lambda key: None})


@implementer(IForcedInform)
class ForcedTree(TreeDataModel):
    """A tree that declares forced-inform parameters, as the proxier's own does (a tree has slots: a subclass)."""

    forcedInform: tuple[str, ...] = ()


@implementer(IDataModel)
class Plain:
    """
    A model that cannot validate or notify (as a device proxy might be):
    it forwards to a tree, records calls, and can be held (slow) or broken.
    """

    def __init__(self, tree: TreeDataModel) -> None:
        self.tree = tree
        self.calls: list = []
        self.held: list[defer.Deferred] | None = None
        self.breakWith: Exception | None = None
        self.answerExtra: list = []
        self.cancelled = 0

    def _forward(self, name: str, *args: Any) -> defer.Deferred:
        self.calls.append((name, args))
        if self.breakWith is not None:
            raise self.breakWith
        d = getattr(self.tree, name)(*args)
        if self.answerExtra:
            d.addCallback(lambda result: result + self.answerExtra)
        if self.held is not None:
            waiting: defer.Deferred = defer.Deferred(lambda _: setattr(self, "cancelled", self.cancelled + 1))
            self.held.append(waiting)
            return waiting.addCallback(lambda _: d)
        return d

    def supportedMethods(self):
        return self.tree.supportedMethods()

    def getParameterNames(self, path, nextLevel):
        return self._forward("getParameterNames", path, nextLevel)

    def getParameterValues(self, names):
        return self._forward("getParameterValues", names)

    def setParameterValues(self, values):
        return self._forward("setParameterValues", values)

    def getParameterAttributes(self, names):
        return self._forward("getParameterAttributes", names)

    def setParameterAttributes(self, changes):
        return self._forward("setParameterAttributes", changes)

    def addObject(self, path):
        return self._forward("addObject", path)

    def deleteObject(self, path):
        return self._forward("deleteObject", path)

    def reboot(self, commandKey):
        return self._forward("reboot", commandKey)

    def factoryReset(self):
        return self._forward("factoryReset")

    def download(self, request):
        return self._forward("download", request)

    def upload(self, request):
        return self._forward("upload", request)


class _Garbage:
    """Answers every call with None, as a broken proxy might."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args: defer.succeed(None)


class CompositeTestCase(ModelCalls, unittest.TestCase):
    def setUp(self) -> None:
        self.device = deviceTree()
        self.local = localTree()
        self.model = self.compose(self.device, self.local)

    def compose(self, device: Any, local: Any) -> CompositeDataModel:
        return CompositeDataModel([("Device.", device), ("Device.ManagementServer.", local),
                                   ("Device.DeviceInfo.ProxierInfo.", local)])


def routedBy(case: unittest.TestCase, model: CompositeDataModel) -> list[str]:
    """The names C{model} routes from now on, for the rest of the test (composites have slots: the class is patched)."""
    routed: list[str] = []
    route = CompositeDataModel.route

    def recorded(self: CompositeDataModel, name: str) -> Any:
        if self is model:
            routed.append(name)
        return route(self, name)

    case.patch(CompositeDataModel, "route", recorded)
    return routed


class ConstructionTests(CompositeTestCase):
    def test_interfaces(self) -> None:
        """A composite of validating models provides IDataModel, IValidatingDataModel and INotifyingDataModel."""
        verifyObject(IDataModel, self.model)
        verifyObject(IValidatingDataModel, self.model)
        verifyObject(INotifyingDataModel, self.model)

    def test_forcedInform(self) -> None:
        """
        The composite's forced-inform parameters are its own, then those its
        models declare (IForcedInform), each once; none when nobody declares any.
        """
        self.assertEqual(self.model.forcedInform, ())
        local = localTree(ForcedTree)
        local.forcedInform = ("Device.ManagementServer.URL", "Device.RootDataModelVersion")
        model = CompositeDataModel([("Device.", self.device), ("Device.ManagementServer.", local)],
                                   forcedInform=("Device.RootDataModelVersion",))
        verifyObject(IForcedInform, model)
        self.assertEqual(model.forcedInform, ("Device.RootDataModelVersion", "Device.ManagementServer.URL"))

    def test_notValidatingWithPlainModel(self) -> None:
        """With a model that cannot validate, the composite does not claim it can."""
        model = self.compose(Plain(self.device), self.local)
        self.assertFalse(IValidatingDataModel.providedBy(model))
        self.assertTrue(IDataModel.providedBy(model))

    def test_badMounts(self) -> None:
        """Mounts must be object paths of fixed objects, distinct, with models providing IDataModel."""
        for mounts in ([], [("Device", self.device)], [("Device.A.1.", self.device)], [("Device.[a].", self.device)],
                       [("Device.", self.device), ("Device.", self.local)], [("Device..", self.device)]):
            with self.assertRaises(ValueError, msg=mounts):
                CompositeDataModel(mounts)
        with self.assertRaises(TypeError):
            CompositeDataModel([("Device.", object())])
        self.assertIn("Device.", repr(Mount("Device.", self.device)))

    def test_route(self) -> None:
        """Names go to the longest mount prefix holding them."""
        rows = [
            ("Device.Enabled", "Device."), ("Device.ManagementServer.URL", "Device.ManagementServer."),
            ("Device.ManagementServer.", "Device.ManagementServer."), ("Device.DeviceInfo.", "Device."),
            ("Device.DeviceInfo.ProxierInfo.ProductClass", "Device.DeviceInfo.ProxierInfo."),
            ("Device.ManagementServerX", "Device."),
        ]
        for name, prefix in rows:
            self.assertEqual(self.model.route(name).prefix, prefix, name)
        self.assertIsNone(self.model.route("Other.X"))
        self.assertIsNone(self.model.route(""))
        self.assertEqual([m.prefix for m in self.model.mounts()],
                         ["Device.", "Device.ManagementServer.", "Device.DeviceInfo.ProxierInfo."])

    def test_supportedMethods(self) -> None:
        """The composite serves the union of what its models serve."""
        self.assertIn("Download", self.model.supportedMethods())
        self.assertIn("Reboot", self.model.supportedMethods())
        self.assertIn("GetParameterNames", self.model.supportedMethods())
        self.assertNotIn("Upload", self.model.supportedMethods())


class NamesTests(CompositeTestCase):
    def test_figure7(self) -> None:
        """GPN(Device., false) lists the device's tree with the proxier-held objects inserted where they belong."""
        names = self.names("Device.", False)
        self.assertEqual(names, [
            "Device.",
            "Device.Enabled",
            "Device.DeviceInfo.",
            "Device.DeviceInfo.Manufacturer",
            "Device.DeviceInfo.FriendlyName",
            "Device.DeviceInfo.ProxierInfo.",
            "Device.DeviceInfo.ProxierInfo.ProductClass",
            "Device.Hosts.",
            "Device.Hosts.HostNumberOfEntries",
            "Device.Hosts.Host.",
            "Device.ManagementServer.",
            "Device.ManagementServer.URL",
            "Device.ManagementServer.PeriodicInformInterval",
            "Device.ManagementServer.ParameterKey",
        ])
        self.assertEqual(self.names("", False), names)

    def test_nextLevel(self) -> None:
        """NextLevel true lists a mount as a child of its parent, after the owner's own children."""
        self.assertEqual(self.names("Device.", True), ["Device.Enabled", "Device.DeviceInfo.", "Device.Hosts.",
                                                       "Device.ManagementServer."])
        self.assertEqual(self.names("Device.DeviceInfo.", True), [
            "Device.DeviceInfo.Manufacturer", "Device.DeviceInfo.FriendlyName", "Device.DeviceInfo.ProxierInfo."])
        self.assertEqual(self.ok(self.model.getParameterNames("", True)), [ParameterInfo("Device.", False)])
        self.assertEqual(self.names("Device.ManagementServer.", True), [
            "Device.ManagementServer.URL", "Device.ManagementServer.PeriodicInformInterval",
            "Device.ManagementServer.ParameterKey"])

    def test_writableKept(self) -> None:
        """Each model's Writable is kept as it said."""
        infos = {i.name: i.writable for i in self.ok(self.model.getParameterNames("Device.", False))}
        self.assertTrue(infos["Device.ManagementServer.URL"])
        self.assertFalse(infos["Device.ManagementServer.ParameterKey"])
        self.assertTrue(infos["Device.Hosts.Host."])
        self.assertFalse(infos["Device.ManagementServer."])

    def test_parameter(self) -> None:
        """A parameter name goes to its model alone; NextLevel true on it is that model's 9003."""
        self.assertEqual(self.ok(self.model.getParameterNames("Device.ManagementServer.URL", False)),
                         [ParameterInfo("Device.ManagementServer.URL", True)])
        self.fault(self.model.getParameterNames("Device.ManagementServer.URL", True), 9003)

    def test_missingIntermediate(self) -> None:
        """When the device has no DeviceInfo, the object leading to ProxierInfo is listed all the same."""
        model = self.compose(deviceTree(withDeviceInfo=False), self.local)
        names = [i.name for i in self.ok(model.getParameterNames("Device.", False))]
        self.assertIn("Device.DeviceInfo.", names)
        self.assertEqual(names.index("Device.DeviceInfo.") + 1, names.index("Device.DeviceInfo.ProxierInfo."))
        self.assertEqual([i.name for i in self.ok(model.getParameterNames("Device.DeviceInfo.", False))],
                         ["Device.DeviceInfo.", "Device.DeviceInfo.ProxierInfo.",
                          "Device.DeviceInfo.ProxierInfo.ProductClass"])
        self.assertEqual([i.name for i in self.ok(model.getParameterNames("Device.DeviceInfo.", True))],
                         ["Device.DeviceInfo.ProxierInfo."])
        self.assertIn("Device.DeviceInfo.", [i.name for i in self.ok(model.getParameterNames("Device.", True))])
        self.assertEqual({v.name for v in self.ok(model.getParameterValues(["Device.DeviceInfo."]))},
                         {"Device.DeviceInfo.ProxierInfo.ProductClass"})

    def test_overlayWins(self) -> None:
        """What the device says about a path the overlay is mounted at is dropped: the overlay answers."""
        model = self.compose(deviceTree(shadow=True), self.local)
        values = {v.name: v.value for v in self.ok(model.getParameterValues(["Device."]))}
        self.assertEqual(values["Device.ManagementServer.URL"], "http://acs/")
        names = [i.name for i in self.ok(model.getParameterNames("Device.", False))]
        self.assertEqual(names.count("Device.ManagementServer.URL"), 1)
        self.assertEqual(names.count("Device.ManagementServer."), 1)

    def test_unknown(self) -> None:
        """Unknown names give 9005, also outside every mount and for bad syntax."""
        for path in ("Device.Nope.", "Other.", "Device.ManagementServer.Nope", "Device..", "Other.X"):
            self.fault(self.model.getParameterNames(path, False), 9005)

    def test_strayNamesDropped(self) -> None:
        """Names a lying model answers outside what it was asked are dropped and logged."""
        device = Plain(self.device)
        device.answerExtra = [ParameterInfo("Elsewhere.X", True)]
        model = self.compose(device, self.local)
        logs = LogCapture(self)
        names = [i.name for i in self.ok(model.getParameterNames("Device.Hosts.", False))]
        self.assertNotIn("Elsewhere.X", names)
        self.assertTrue(any("outside" in e.get("log_format", "") for e in logs.events))


class ValuesTests(CompositeTestCase):
    def test_merged(self) -> None:
        """GPV on Device. merges the device's values with the overlay's."""
        values = self.values("Device.")
        self.assertEqual(values["Device.DeviceInfo.Manufacturer"], "Acme")
        self.assertEqual(values["Device.ManagementServer.URL"], "http://acs/")
        self.assertEqual(values["Device.DeviceInfo.ProxierInfo.ProductClass"], "Gateway")
        self.assertEqual(len(values), 8)
        got = self.ok(self.model.getParameterValues(["Device."]))
        names = [v.name for v in got]
        self.assertLess(names.index("Device.DeviceInfo.ProxierInfo.ProductClass"),
                        names.index("Device.Hosts.HostNumberOfEntries"))
        self.assertEqual(got[0].type, "xsd:boolean")

    def test_parametersRoutedOnce(self) -> None:
        """
        Parameter names are routed once each (their answers are not routed
        again), yet a model's answer for a name another model owns is still
        dropped, an answer named otherwise still routed, and a bad or
        unknown name is 9005.
        """
        self.patch(composite, "_layouts", {})  # routes remembered by earlier composites of this layout forgotten
        device = Plain(deviceTree(shadow=True))
        device.answerExtra = [ParameterValue("Device.ManagementServer.URL", "http://device-says/"),
                              ParameterValue("Device.DeviceInfo.ProxierInfo.ProductClass", "Device")]
        model = self.compose(device, self.local)
        routed = routedBy(self, model)
        asked = ["Device.Enabled", "Device.ManagementServer.URL", "Device.Enabled", "Device.DeviceInfo."]
        values = [(v.name, v.value) for v in self.ok(model.getParameterValues(asked))]
        self.assertEqual(values, [("Device.Enabled", "true"), ("Device.Enabled", "true"),
                                  ("Device.DeviceInfo.Manufacturer", "Acme"), ("Device.DeviceInfo.FriendlyName", "tv"),
                                  ("Device.DeviceInfo.ProxierInfo.ProductClass", "Gateway"),
                                  ("Device.ManagementServer.URL", "http://acs/")])
        self.assertEqual((routed.count("Device.Enabled"), routed.count("Device.ManagementServer.URL")), (1, 1))
        self.assertIn("Device.DeviceInfo.ProxierInfo.ProductClass", routed)
        for bad in ("Device..Enabled", "Other.X", "Device.Hosts.Host.0.IPAddress"):
            self.fault(model.getParameterValues(["Device.Enabled", bad]), 9005)

    def test_parametersOfOneMount(self) -> None:
        """
        Parameters all of one mount (the usual request) are asked of its
        model alone, in order, duplicates kept; only names asked are kept of
        its answer, the others dropped with a warning, whoever owns them;
        its fault is the answer.
        """
        device = Plain(deviceTree(shadow=True))
        device.answerExtra = [ParameterValue("Device.ManagementServer.URL", "http://device-says/"),
                              ParameterValue("Device.Hosts.HostNumberOfEntries", "9")]
        model = self.compose(device, self.local)
        logs = LogCapture(self)
        asked = ["Device.Enabled", "Device.DeviceInfo.Manufacturer", "Device.Enabled"]
        values = [(v.name, v.value) for v in self.ok(model.getParameterValues(asked))]
        self.assertEqual(values, [("Device.Enabled", "true"), ("Device.DeviceInfo.Manufacturer", "Acme"),
                                  ("Device.Enabled", "true")])
        self.assertEqual([e["count"] for e in logs.events if "not asked" in e.get("log_format", "")], [2])
        device.answerExtra = []
        self.fault(model.getParameterValues(["Device.Enabled", "Device.Nothing"]), 9005)

    def test_subtreeRoutedOnce(self) -> None:
        """
        What a model answers for a subtree no other model is mounted in is
        not routed name by name; where one is (an overlay below), each name
        is, and the overlay's still win.
        """
        self.patch(composite, "_layouts", {})  # routes remembered by earlier composites of this layout forgotten
        device = Plain(deviceTree(shadow=True))
        model = self.compose(device, self.local)
        routed = routedBy(self, model)
        values = [v.name for v in self.ok(model.getParameterValues(["Device.Hosts.", "Device.Enabled"]))]
        self.assertEqual(values, ["Device.Hosts.HostNumberOfEntries", "Device.Enabled"])
        self.assertEqual(routed, ["Device.Hosts.", "Device.Enabled"])
        del routed[:]
        values = {v.name: v.value for v in self.ok(model.getParameterValues(["Device."]))}
        self.assertEqual(values["Device.ManagementServer.URL"], "http://acs/")
        self.assertIn("Device.ManagementServer.URL", routed)
        self.assertIn("Device.DeviceInfo.Manufacturer", routed)

    def test_names(self) -> None:
        """A list of names is answered by one call per model, with every name."""
        device = Plain(self.device)
        model = self.compose(device, self.local)
        values = {v.name: v.value for v in self.ok(model.getParameterValues(
            ["Device.Enabled", "Device.ManagementServer.URL", "Device.DeviceInfo.Manufacturer"]))}
        self.assertEqual(values, {"Device.Enabled": "true", "Device.ManagementServer.URL": "http://acs/",
                                  "Device.DeviceInfo.Manufacturer": "Acme"})
        self.assertEqual(device.calls, [("getParameterValues",
                                         (["Device.Enabled", "Device.DeviceInfo.Manufacturer"],))])

    def test_unknown(self) -> None:
        """Any unknown name fails the request with 9005."""
        self.fault(self.model.getParameterValues(["Device.Enabled", "Device.Nope"]), 9005)
        self.fault(self.model.getParameterValues(["Nowhere.X"]), 9005)
        self.fault(self.model.getParameterValues(["Device.ManagementServer.Nope"]), 9005)

    def test_bareException(self) -> None:
        """A sub-model raising a bare exception becomes 9002, never a crash."""
        device = Plain(self.device)
        device.breakWith = RuntimeError("device bug")
        model = self.compose(device, self.local)
        self.fault(model.getParameterValues(["Device."]), 9002)
        self.fault(model.getParameterNames("Device.", False), 9002)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 2)

    def test_garbageAnswer(self) -> None:
        """A model answering something that is not a list of results gives 9002, logged, never a bare exception."""
        device = Plain(self.device)
        model = self.compose(device, self.local)
        device.tree = _Garbage()  # type: ignore[assignment]
        self.fault(model.getParameterValues(["Device."]), 9002)
        self.fault(model.getParameterNames("Device.", False), 9002)
        self.assertEqual(len(self.flushLoggedErrors(TypeError, AttributeError)), 2)

    def test_slowModelNotSerialised(self) -> None:
        """A slow device does not hold back the call to the overlay; the answer comes when both answered."""
        device = Plain(self.device)
        device.held = []
        local = Plain(self.local)
        model = self.compose(device, local)
        d = model.getParameterValues(["Device."])
        self.assertNoResult(d)
        self.assertEqual(len(device.calls), 1)
        self.assertEqual(len(local.calls), 1)
        device.held[0].callback(None)
        self.assertEqual(len(self.ok(d)), 8)

    def test_cancel(self) -> None:
        """Cancelling the composite's answer cancels the calls under way."""
        device = Plain(self.device)
        device.held = []
        model = self.compose(device, self.local)
        d = model.getParameterNames("Device.", False)
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        self.assertEqual(device.cancelled, 1)


class SetValuesTests(CompositeTestCase):
    def spv(self, model: Any, *triples) -> defer.Deferred:
        return model.setParameterValues([ParameterValue(*t) for t in triples])

    def test_acrossModels(self) -> None:
        """Values for several models are all applied; the status is the highest."""
        self.assertEqual(self.ok(self.spv(self.model, ("Device.Enabled", "false", "xsd:boolean"),
                                          ("Device.ManagementServer.URL", "http://new/", "xsd:string"))), 0)
        self.assertEqual(self.values("Device.Enabled", "Device.ManagementServer.URL"),
                         {"Device.Enabled": "false", "Device.ManagementServer.URL": "http://new/"})

    def test_atomicMergedFaults(self) -> None:
        """A bad value in any model applies nothing anywhere; every model's faults come in one 9003, in order."""
        fault = self.fault(self.spv(self.model,
                                    ("Device.Enabled", "false", "xsd:boolean"),
                                    ("Device.ManagementServer.PeriodicInformInterval", "0", "xsd:unsignedInt"),
                                    ("Device.DeviceInfo.Manufacturer", "x", "xsd:string"),
                                    ("Device.ManagementServer.URL", "http://new/", "xsd:string"),
                                    ("Nowhere.X", "1", "xsd:string")), 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults], [
            ("Device.ManagementServer.PeriodicInformInterval", 9007),
            ("Device.DeviceInfo.Manufacturer", 9008),
            ("Nowhere.X", 9005)])
        self.assertEqual(self.values("Device.Enabled", "Device.ManagementServer.URL"),
                         {"Device.Enabled": "true", "Device.ManagementServer.URL": "http://acs/"})

    def test_validateOnly(self) -> None:
        """validateParameterValues checks every model and changes nothing."""
        self.assertIsNone(self.ok(self.model.validateParameterValues(
            [ParameterValue("Device.Enabled", "0", "xsd:boolean"),
             ParameterValue("Device.ManagementServer.URL", "x", "xsd:string")])))
        self.assertEqual(self.values("Device.Enabled"), {"Device.Enabled": "true"})
        fault = self.fault(self.model.validateParameterValues(
            [ParameterValue("Device.ManagementServer.ParameterKey", "x", "xsd:string")]), 9003)
        self.assertEqual(fault.parameterFaults, (SetParameterValuesFault("Device.ManagementServer.ParameterKey", 9008),))

    def test_singleModelFaultUnchanged(self) -> None:
        """When one model had every parameter, its own fault is answered as it is."""
        fault = self.fault(self.spv(self.model, ("Device.ManagementServer.ParameterKey", "x", "xsd:string")), 9003)
        self.assertEqual(fault.parameterFaults,
                         (SetParameterValuesFault("Device.ManagementServer.ParameterKey", 9008),))

    def test_duplicate(self) -> None:
        """The same name twice gives 9003 and nothing is asked of any model."""
        device = Plain(self.device)
        model = self.compose(device, self.local)
        self.fault(self.spv(model, ("Device.Enabled", "0", "xsd:boolean"), ("Device.Enabled", "1", "xsd:boolean")),
                   9003)
        self.assertEqual(device.calls, [])

    def test_objectName(self) -> None:
        """An object path in SetParameterValues is a 9005 for that entry."""
        fault = self.fault(self.spv(self.model, ("Device.ManagementServer.", "x", "xsd:string"),
                                    ("Device.Enabled", "0", "xsd:boolean")), 9003)
        self.assertEqual(fault.parameterFaults, (SetParameterValuesFault("Device.ManagementServer.", 9005),))

    def test_plainModelAppliedFirst(self) -> None:
        """A model that cannot validate is applied only after the others validated, and before they apply."""
        device = Plain(self.device)
        model = self.compose(device, self.local)
        fault = self.fault(self.spv(model, ("Device.Enabled", "false", "xsd:boolean"),
                                    ("Device.ManagementServer.PeriodicInformInterval", "0", "xsd:unsignedInt")),
                           9003)
        self.assertEqual(device.calls, [])
        self.assertEqual(fault.parameterFaults[0].faultCode, 9007)
        # the device refuses: the overlay is left untouched
        fault = self.fault(self.spv(model, ("Device.DeviceInfo.Manufacturer", "x", "xsd:string"),
                                    ("Device.ManagementServer.URL", "http://new/", "xsd:string")), 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults],
                         [("Device.DeviceInfo.Manufacturer", 9008)])
        self.assertEqual(self.local.getLocal("Device.ManagementServer.URL"), "http://acs/")
        # both fine: both applied
        self.assertEqual(self.ok(self.spv(model, ("Device.Enabled", "false", "xsd:boolean"),
                                          ("Device.ManagementServer.URL", "http://new/", "xsd:string"))), 0)
        self.assertEqual(self.local.getLocal("Device.ManagementServer.URL"), "http://new/")
        self.assertEqual(self.device.getLocal("Device.Enabled"), False)

    def test_plainModelGenericFault(self) -> None:
        """A plain model failing with a plain fault gives per-parameter entries with that code."""
        device = Plain(self.device)
        device.breakWith = CWMPFault(9002, "device timeout")
        model = self.compose(device, self.local)
        fault = self.fault(self.spv(model, ("Device.Enabled", "false", "xsd:boolean"),
                                    ("Device.ManagementServer.URL", "http://new/", "xsd:string")), 9003)
        self.assertEqual(fault.parameterFaults, (SetParameterValuesFault("Device.Enabled", 9002, "device timeout"),))
        alone = self.fault(self.spv(model, ("Device.Enabled", "false", "xsd:boolean")), 9002)
        self.assertEqual(alone.string, "device timeout")

    def test_twoPlainModelsRefused(self) -> None:
        """Two models that cannot validate cannot be set atomically together: 9001, nothing applied."""
        device = Plain(self.device)
        local = Plain(self.local)
        model = self.compose(device, local)
        self.fault(self.spv(model, ("Device.Enabled", "false", "xsd:boolean"),
                            ("Device.ManagementServer.URL", "http://new/", "xsd:string")), 9001)
        self.assertEqual(device.calls + local.calls, [])
        self.assertEqual(self.ok(self.spv(model, ("Device.Enabled", "false", "xsd:boolean"))), 0)
        self.flushLoggedErrors()


class AttributeTests(CompositeTestCase):
    def test_partialPathFansOut(self) -> None:
        """SPA on Device. reaches every model; GPA on Device. merges their answers."""
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.", True, 1)]))
        attrs = {a.name: a.notification for a in self.ok(self.model.getParameterAttributes(["Device."]))}
        self.assertEqual(attrs["Device.Enabled"], 1)
        self.assertEqual(attrs["Device.ManagementServer.URL"], 1)
        self.assertEqual(attrs["Device.DeviceInfo.ProxierInfo.ProductClass"], 1)
        self.assertEqual(len(attrs), 8)

    def test_atomic(self) -> None:
        """A refused change in one model leaves the others unchanged."""
        self.fault(self.model.setParameterAttributes([AttributeChange("Device.Enabled", True, 1),
                                                      AttributeChange("Device.ManagementServer.Nope", True, 1)]),
                   9005)
        self.assertEqual(self.ok(self.model.getParameterAttributes(["Device.Enabled"])),
                         [ParameterAttributes("Device.Enabled", 0)])
        self.fault(self.model.setParameterAttributes([AttributeChange("Elsewhere.", True, 1)]), 9005)
        self.fault(self.model.validateParameterAttributes([AttributeChange("Device.Enabled", True, 5)]), 9003)

    def test_plainModel(self) -> None:
        """With a plain device model the overlay validates first, then the device applies, then the overlay."""
        device = Plain(self.device)
        model = self.compose(device, self.local)
        self.fault(model.setParameterAttributes([AttributeChange("Device.", True, 1),
                                                 AttributeChange("Device.ManagementServer.URL", True, 9)]), 9003)
        self.assertEqual(device.calls, [])
        self.assertIsNone(self.ok(model.setParameterAttributes([AttributeChange("Device.", True, 2)])))
        self.assertEqual(self.ok(self.device.getParameterAttributes(["Device.Enabled"]))[0].notification, 2)


class ObjectAndMethodTests(CompositeTestCase):
    def test_objects(self) -> None:
        """AddObject and DeleteObject go to the model the path routes to."""
        self.assertEqual(self.ok(self.model.addObject("Device.Hosts.Host.")), (1, 0))
        self.assertEqual(self.ok(self.model.deleteObject("Device.Hosts.Host.1.")), 0)
        self.fault(self.model.addObject("Device.ManagementServer."), 9003)
        self.fault(self.model.addObject("Nowhere."), 9005)
        self.fault(self.model.deleteObject("Device..", ), 9005)

    def test_methods(self) -> None:
        """Reboot and Download go to the first model that serves them; others give 9000."""
        device = Plain(self.device)
        model = self.compose(device, self.local)
        self.ok(model.reboot("ck"))
        self.assertEqual(device.calls, [("reboot", ("ck",))])
        self.ok(model.download(object()))
        self.fault(model.upload(object()), 9000)
        self.fault(model.factoryReset(), 9000)


class ChangeTests(CompositeTestCase):
    def test_forwarded(self) -> None:
        """Changes reported by any model reach the composite's listeners; shadowed names are dropped."""
        device = deviceTree(shadow=True)
        model = self.compose(device, self.local)
        seen = []
        listener = lambda values, active: seen.append(([v.name for v in values], active))  # noqa: E731
        model.addChangeListener(listener)
        self.ok(self.local.setParameterAttributes([AttributeChange("Device.ManagementServer.URL", True, 2)]))
        self.local.setLocal("Device.ManagementServer.URL", "http://moved/")
        self.ok(device.setParameterAttributes([AttributeChange("Device.", True, 1)]))
        device.setLocal("Device.ManagementServer.URL", "http://shadowed/")
        device.setLocal("Device.Enabled", False)
        self.assertEqual(seen, [(["Device.ManagementServer.URL"], True), (["Device.Enabled"], False)])
        model.removeChangeListener(listener)
        device.setLocal("Device.Enabled", True)
        self.assertEqual(len(seen), 2)

    def test_heldUntilListened(self) -> None:
        """
        The composite listens on its models only while it has listeners: a
        change made while nobody listens (before the endpoint starts) stays
        against the model's baseline and is reported once someone listens,
        instead of being taken as the new reference unheard.
        """
        device = deviceTree()
        model = self.compose(device, self.local)
        self.ok(device.setParameterAttributes([AttributeChange("Device.Enabled", True, 1)]))
        device.setLocal("Device.Enabled", False)
        seen = []
        model.addChangeListener(lambda values, active: seen.append(([v.name for v in values], active)))
        self.assertEqual(seen, [])
        device.poll()
        self.assertEqual(seen, [(["Device.Enabled"], False)])

    def test_localWrites(self) -> None:
        """
        A composite of models that take local writes takes them too
        (ILocalWrites), each model its part, all or nothing: the parts with
        Notification on are reported, where the same write by the ACS is
        not; with a model that cannot tell, the composite does not claim to.
        """
        verifyObject(ILocalWrites, self.model)
        seen = []
        self.model.addChangeListener(lambda values, active: seen.append([(v.name, v.value) for v in values]))
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Enabled", True, 1),
                                                   AttributeChange("Device.ManagementServer.URL", True, 1)]))
        self.ok(self.model.setParameterValues([ParameterValue("Device.Enabled", "false", "xsd:boolean")]))
        self.assertEqual(seen, [])
        self.ok(self.model.setParameterValuesLocally([
            ParameterValue("Device.Enabled", "true", "xsd:boolean"),
            ParameterValue("Device.ManagementServer.URL", "http://local/", "xsd:string")]))
        self.assertEqual(sorted(sum(seen, [])), [("Device.Enabled", "true"),
                                                 ("Device.ManagementServer.URL", "http://local/")])
        self.fault(self.model.setParameterValuesLocally([
            ParameterValue("Device.Enabled", "false", "xsd:boolean"),
            ParameterValue("Device.ManagementServer.ParameterKey", "k", "xsd:string")]), 9003)
        self.assertEqual(self.device.getLocal("Device.Enabled"), True)
        self.assertFalse(ILocalWrites.providedBy(self.compose(Plain(self.device), self.local)))

    def test_listenerFailure(self) -> None:
        """A failing listener is logged and does not stop the model."""
        def broken(values, active):
            raise RuntimeError("bug")

        self.model.addChangeListener(broken)
        self.ok(self.device.setParameterAttributes([AttributeChange("Device.Enabled", True, 1)]))
        self.device.setLocal("Device.Enabled", False)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


class CoverageTests(unittest.TestCase):
    def test_sameAsIsPrefix(self) -> None:
        """
        The composite's fast coverage check agrees with paths.isPrefix on
        every pair of a varied set of paths without aliases.
        """
        from proxier.datamodel import paths
        from proxier.datamodel.composite import _coverage

        names = ["", "Device.", "Device.A.", "Device.A.B", "Device.A.B.", "Device.A.BC", "Device.AB.",
                 "Device.A.1.", "Device.A.1.X", "Device.A.10.X", "Device.A.[cpe-1].X", "Device.A.[cpe-1].",
                 "Other.", "Other.X"]
        plain = [n for n in names if "[" not in n]
        # both ways of checking: a few object paths at once, and many walked by the name's depth
        for few in (composite._FEW_PREFIXES, 0):
            self.patch(composite, "_FEW_PREFIXES", few)
            for size in range(0, 4):
                for start in range(len(plain)):
                    asked = plain[start:start + size]
                    covers = _coverage(asked)
                    for name in names:
                        if name == "":
                            continue
                        self.assertEqual(covers(name), any(paths.isPrefix(a, name) for a in asked),
                                         (few, asked, name))

    def test_routeRemembered(self) -> None:
        """
        A name routes as the object holding it, remembered: the same mount as
        the deepest mount path holding the name, for parameters, objects,
        alias paths and names outside every mount, also once the memory was
        emptied at its cap.
        """
        from proxier.datamodel import paths

        def tree() -> TreeDataModel:
            return TreeDataModel(Object("Device", Parameter("X", String())))

        model = CompositeDataModel([("Device.", tree()), ("Device.ManagementServer.", tree()),
                                    ("Device.DeviceInfo.ProxierInfo.", tree())])
        names = ["Device.X", "Device.", "Device.ManagementServer.", "Device.ManagementServer.URL",
                 "Device.ManagementServerX.URL", "Device.DeviceInfo.ProxierInfo.A.1.B", "Device.DeviceInfo.X",
                 "Device.A.[x.y].B", "Other.X", "Other.", "X"]
        self.patch(composite, "_MAX_ROUTES", 3)
        for _ in range(2):
            for name in names:
                expected = next((m for m in sorted(model.mounts(), key=lambda m: -m.depth)
                                 if paths.isPrefix(m.prefix, name)), None)
                self.assertIs(model.route(name), expected, name)

    def test_routesShared(self) -> None:
        """
        Composites of the same mount paths share the routes they remember
        (issue 19: one table, not one a device): a parameter one routed is
        not routed by the other, and answers the other's own mount; a bad
        name is never remembered, a 9005 each time.
        """
        def tree() -> TreeDataModel:
            return TreeDataModel(Object("Device", Parameter("X", String())))

        self.patch(composite, "_layouts", {})
        first, second = [CompositeDataModel([("Device.", tree()), ("Device.ManagementServer.", tree())])
                         for _ in range(2)]
        other = CompositeDataModel([("Device.", tree())])
        self.successResultOf(first.getParameterValues(["Device.X"]))
        routed = routedBy(self, second)
        [value] = self.successResultOf(second.getParameterValues(["Device.X"]))
        self.assertEqual(routed, [])
        self.assertIs(second._parameterRoute("Device.X").model, second.mounts()[0].model)
        self.assertIsNot(second._routes, other._routes)
        for _ in range(2):
            self.assertEqual(self.failureResultOf(second.getParameterValues(["Device..X"]), CWMPFault).value.code, 9005)
        self.assertNotIn("Device..X", second._routes.parameters)

    def test_requestsRemembered(self) -> None:
        """
        The names of a request one mount answers for are remembered for the
        layout (issue 19): asked again, of this composite or another of the
        same mount paths, they are not routed one by one, and the other's own
        mount answers; a request of two mounts, or with a bad name, is not
        remembered, nor one of too many names; past the bound all are
        forgotten at once.
        """
        def tree() -> TreeDataModel:
            return TreeDataModel(Object("Device", Parameter("X", String()), Parameter("Y", String()),
                                        Object("ManagementServer", Parameter("URL", String()))))

        self.patch(composite, "_layouts", {})
        first, second = [CompositeDataModel([("Device.", tree()), ("Device.ManagementServer.", tree())])
                         for _ in range(2)]
        self.successResultOf(first.getParameterValues(["Device.X", "Device.Y"]))
        self.assertEqual(list(first._routes.requests), [("Device.X", "Device.Y")])
        remembered: list[str] = []
        self.patch(second._routes, "parameters", _Recording(second._routes.parameters, remembered))
        self.assertEqual(len(self.successResultOf(second.getParameterValues(["Device.X", "Device.Y"]))), 2)
        self.assertEqual(remembered, [])
        self.assertIs(second._singleMount(["Device.X", "Device.Y"]), second.mounts()[0])
        self.successResultOf(second.getParameterValues(["Device.X", "Device.ManagementServer.URL"]))
        self.failureResultOf(second.getParameterValues(["Device.X", "Device..X"]), CWMPFault)
        self.assertEqual(list(first._routes.requests), [("Device.X", "Device.Y")])
        self.patch(composite, "_MAX_REQUESTS", 1)
        self.successResultOf(second.getParameterValues(["Device.Y"]))
        self.assertEqual(list(first._routes.requests), [("Device.Y",)])
        self.patch(composite, "_MAX_REQUEST_NAMES", 1)
        self.successResultOf(second.getParameterValues(["Device.X", "Device.Y"]))
        self.assertEqual(list(first._routes.requests), [("Device.Y",)])

    def test_aliasCoversOneInstanceByNumber(self) -> None:
        """
        A path asked with instance aliases covers the names of one instance
        under its instance number (the form every answer uses): in the
        middle, at the end and nested; the first name covered fixes the
        number, so another instance's rows are strays; the alias form itself
        and other tables are not covered, and the resolved path is the
        asked one with the numbers.
        """
        from proxier.datamodel.composite import _coverage

        covers = _coverage(["Device.A.[cpe-1].X"])
        self.assertEqual(covers.resolve("Device.A.[cpe-1].X"), None)
        self.assertFalse(covers("Device.A.[cpe-1].X"))
        self.assertFalse(covers("Device.A.1.Y"))
        self.assertFalse(covers("Device.A.1.X.Z"))
        self.assertFalse(covers("Device.AB.1.X"))
        self.assertTrue(covers("Device.A.10.X"))
        self.assertFalse(covers("Device.A.1.X"))  # another instance than the first answer's
        self.assertEqual(covers.resolve("Device.A.[cpe-1].X"), "Device.A.10.X")
        covers = _coverage(["Device.A.[a].B.[b].", "Device.C.", "Device.A.2.X"])
        self.assertTrue(covers("Device.C.Y"))
        self.assertTrue(covers("Device.A.2.X"))
        self.assertFalse(covers("Device.A.2.B."))
        self.assertTrue(covers("Device.A.3.B.7."))
        self.assertTrue(covers("Device.A.3.B.7.Y"))
        self.assertFalse(covers("Device.A.3.B.8.Y"))
        self.assertFalse(covers("Device.A.3.B.Y"))
        self.assertEqual(covers.resolve("Device.A.[a].B.[b]."), "Device.A.3.B.7.")
        self.assertEqual(covers.resolve("Device.C."), "Device.C.")


def aliasTrees() -> tuple[TreeDataModel, TreeDataModel]:
    """
    A device with nested tables that have an Alias (Hosts.Host.{i}.Port.{i}.)
    and a proxier-held table with one (DeviceInfo.VendorLogFile.{i}.).
    """
    device = TreeDataModel(Object("Device", Object("Hosts", Table(
        "Host", Parameter("Name", String(64), writable=True),
        Table("Port", Parameter("Number", UnsignedInt(), writable=True), writable=True, alias=True),
        writable=True, alias=True))))
    held = TreeDataModel(Object("Device", Object("DeviceInfo", Table(
        "VendorLogFile", Parameter("Name", String(64), writable=True), writable=True, alias=True))))
    return device, held


class AliasTests(ModelCalls, unittest.TestCase):
    """
    Instance aliases (TR-069 3.6.1) through the composite, at every depth:
    every RPC by alias answers as by instance number, with the names under
    the instance numbers (TR-181 ManagementServer.InstanceMode's default,
    InstanceNumber, the only mode the proxier offers).
    """

    def setUp(self) -> None:
        device, held = aliasTrees()
        self.model = CompositeDataModel([("Device.", device), ("Device.DeviceInfo.VendorLogFile.", held)])
        for path in ("Device.Hosts.Host.[lan].", "Device.Hosts.Host.[wan].", "Device.Hosts.Host.[wan].Port.[http].",
                     "Device.Hosts.Host.[wan].Port.[ssh].", "Device.DeviceInfo.VendorLogFile.[syslog]."):
            self.ok(self.model.addObject(path))
        self.ok(self.model.setParameterValues([ParameterValue("Device.Hosts.Host.2.Port.2.Number", "22", "xsd:unsignedInt"),
                                               ParameterValue("Device.DeviceInfo.VendorLogFile.1.Name", "syslog")]))

    # the same instance, by alias and by number, at every depth and both ends
    PAIRS = [
        ("Device.Hosts.Host.[wan].Name", "Device.Hosts.Host.2.Name"),
        ("Device.Hosts.Host.[wan].", "Device.Hosts.Host.2."),
        ("Device.Hosts.Host.[wan].Port.", "Device.Hosts.Host.2.Port."),
        ("Device.Hosts.Host.[wan].Port.[ssh].", "Device.Hosts.Host.2.Port.2."),
        ("Device.Hosts.Host.[wan].Port.[ssh].Number", "Device.Hosts.Host.2.Port.2.Number"),
        ("Device.Hosts.Host.2.Port.[ssh].Number", "Device.Hosts.Host.2.Port.2.Number"),
        ("Device.Hosts.Host.[wan].Port.2.", "Device.Hosts.Host.2.Port.2."),
        ("Device.DeviceInfo.VendorLogFile.[syslog].", "Device.DeviceInfo.VendorLogFile.1."),
        ("Device.DeviceInfo.VendorLogFile.[syslog].Name", "Device.DeviceInfo.VendorLogFile.1.Name"),
    ]

    def test_readsAsByNumber(self) -> None:
        """GetParameterValues, GetParameterAttributes and GetParameterNames (both levels) by alias answer as by number."""
        for alias, number in self.PAIRS:
            self.assertEqual(self.ok(self.model.getParameterValues([alias])),
                             self.ok(self.model.getParameterValues([number])), alias)
            self.assertTrue(self.ok(self.model.getParameterValues([alias])), alias)
            self.assertEqual(self.ok(self.model.getParameterAttributes([alias])),
                             self.ok(self.model.getParameterAttributes([number])), alias)
            self.assertEqual(self.ok(self.model.getParameterNames(alias, False)),
                             self.ok(self.model.getParameterNames(number, False)), alias)
            if number.endswith("."):
                self.assertEqual(self.ok(self.model.getParameterNames(alias, True)),
                                 self.ok(self.model.getParameterNames(number, True)), alias)

    def test_manyNamesAtOnce(self) -> None:
        """One GetParameterValues with alias paths of both models and a number path, in the order asked."""
        values = self.ok(self.model.getParameterValues(["Device.DeviceInfo.VendorLogFile.[syslog].Name",
                                                        "Device.Hosts.Host.[wan].Port.[ssh].Number",
                                                        "Device.Hosts.Host.[lan].Name"]))
        self.assertEqual([(v.name, v.value) for v in values],
                         [("Device.DeviceInfo.VendorLogFile.1.Name", "syslog"),
                          ("Device.Hosts.Host.2.Port.2.Number", "22"), ("Device.Hosts.Host.1.Name", "")])

    def test_setsByAlias(self) -> None:
        """SetParameterValues and SetParameterAttributes by nested alias reach the instance the numbers name."""
        self.assertEqual(self.ok(self.model.setParameterValues([
            ParameterValue("Device.Hosts.Host.[wan].Port.[http].Number", "80", "xsd:unsignedInt"),
            ParameterValue("Device.DeviceInfo.VendorLogFile.[syslog].Name", "messages")])), 0)
        self.assertEqual(self.values("Device.Hosts.Host.2.Port.1.Number", "Device.DeviceInfo.VendorLogFile.1.Name"),
                         {"Device.Hosts.Host.2.Port.1.Number": "80", "Device.DeviceInfo.VendorLogFile.1.Name": "messages"})
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Hosts.Host.[wan].Port.[http].Number", True, 2),
                                                   AttributeChange("Device.DeviceInfo.VendorLogFile.[syslog].", True, 1)]))
        attributes = {a.name: a.notification for a in self.ok(self.model.getParameterAttributes(
            ["Device.Hosts.Host.2.Port.", "Device.DeviceInfo.VendorLogFile.1."]))}
        self.assertEqual(attributes, {"Device.Hosts.Host.2.Port.1.Alias": 0, "Device.Hosts.Host.2.Port.1.Number": 2,
                                      "Device.Hosts.Host.2.Port.2.Alias": 0, "Device.Hosts.Host.2.Port.2.Number": 0,
                                      "Device.DeviceInfo.VendorLogFile.1.Alias": 1,
                                      "Device.DeviceInfo.VendorLogFile.1.Name": 1})

    def test_sameParameterByAliasAndNumber(self) -> None:
        """One parameter given by alias and by number in one SetParameterValues is 9003 (given twice); nothing set."""
        fault = self.fault(self.model.setParameterValues([
            ParameterValue("Device.Hosts.Host.[wan].Port.[ssh].Number", "2222", "xsd:unsignedInt"),
            ParameterValue("Device.Hosts.Host.2.Port.2.Number", "22", "xsd:unsignedInt")]), 9003)
        self.assertIn("same parameter", fault.string)
        self.assertEqual(self.values("Device.Hosts.Host.2.Port.2.Number"), {"Device.Hosts.Host.2.Port.2.Number": "22"})

    def test_objectsByAlias(self) -> None:
        """AddObject in a table below an alias, with an alias; DeleteObject by nested alias and in the held table."""
        self.assertEqual(self.ok(self.model.addObject("Device.Hosts.Host.[lan].Port.[dns].")), (1, 0))
        self.assertEqual(self.values("Device.Hosts.Host.1.Port.1.Alias"), {"Device.Hosts.Host.1.Port.1.Alias": "dns"})
        self.assertEqual(self.ok(self.model.addObject("Device.Hosts.Host.[wan].Port.")), (3, 0))
        self.assertEqual(self.ok(self.model.deleteObject("Device.Hosts.Host.[wan].Port.[http].")), 0)
        self.assertEqual(self.names("Device.Hosts.Host.2.Port.", True),
                         ["Device.Hosts.Host.2.Port.2.", "Device.Hosts.Host.2.Port.3."])
        self.assertEqual(self.ok(self.model.deleteObject("Device.DeviceInfo.VendorLogFile.[syslog].")), 0)
        self.assertEqual(self.names("Device.DeviceInfo.VendorLogFile.", True), [])

    def test_unknownAlias(self) -> None:
        """
        An alias no instance has, at the end, in the middle or nested, is
        9005 (Invalid parameter name) on every RPC; in SetParameterValues
        for that parameter, inside a 9003.
        """
        for path in ("Device.Hosts.Host.[nope].", "Device.Hosts.Host.[nope].Name", "Device.Hosts.Host.[nope].Port.",
                     "Device.Hosts.Host.[wan].Port.[nope].", "Device.Hosts.Host.[lan].Port.[ssh].Number",
                     "Device.DeviceInfo.VendorLogFile.[nope].Name"):
            self.fault(self.model.getParameterValues([path]), 9005)
            self.fault(self.model.getParameterAttributes([path]), 9005)
            self.fault(self.model.getParameterNames(path, False), 9005)
            self.fault(self.model.setParameterAttributes([AttributeChange(path, True, 1)]), 9005)
            if path.endswith("."):
                self.fault(self.model.deleteObject(path), 9005)
            else:
                fault = self.fault(self.model.setParameterValues([ParameterValue(path, "x")]), 9003)
                self.assertEqual([(f.parameterName, f.faultCode) for f in fault.parameterFaults], [(path, 9005)])
        self.fault(self.model.addObject("Device.Hosts.Host.[nope].Port."), 9005)


class _Recording(dict):
    """A dict that notes the keys looked up with C{get}."""

    def __init__(self, content: dict, noted: list) -> None:
        super().__init__(content)
        self.noted = noted

    def get(self, key: Any, default: Any = None) -> Any:
        self.noted.append(key)
        return super().get(key, default)
