"""
A property of a whole Virtual CWMP Device (issue 17.2): every object and
parameter GetParameterNames lists answers every parameter RPC, at every
depth, and the answers agree with each other.

The device is built as the proxier builds it: the simulator's device behind
a L{VirtualDevice} with its management (diagnostics and vendor-log objects
mounted over the CMS model), inside the Virtual CWMP Device's composite with
the proxier-held C{Device.ManagementServer.} and C{DeviceInfo.ProxierInfo.}
(L{virtualDeviceModel}), on a L{task.Clock}. From the whole listing
(GetParameterNames of C{Device.}, NextLevel false) the walk asks, for every
name listed:

 - GetParameterNames with NextLevel false: an object lists exactly the names
   the whole listing has below it (with the same Writable flags), a
   parameter lists itself;
 - GetParameterNames with NextLevel true: an object lists exactly its
   children of the whole listing, a parameter itself;
 - GetParameterValues and GetParameterAttributes: an object gives exactly
   the parameters listed below it, a parameter itself;
 - SetParameterValues of a parameter's own value: a read-only one is
   refused with 9008 for that parameter, a writable one is never 9008 or
   9005.

Every name under an instance that has an Alias is asked again in its alias
form (C{Device.Hosts.Host.[cpe-phone].HostName}, TR-069 3.6.1) and must be
answered exactly as by number (issue 17).

No name listed is ever answered 9005. The whole tree's answers are encoded
as the endpoint would send them and validated against the CWMP schema.
"""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest

from proxier.config import load
from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel import paths
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.gateway import virtualDeviceLocalModel, virtualDeviceModel
from proxier.datamodel.values import AttributeChange, DeviceIdentity, ParameterInfo, ParameterValue
from proxier.store import Store
from tests.cwmpxsd import assertValidCWMP
from tests.test_upnpdm_transfer_support import ManagedDevice

PROXIER = DeviceIdentity("proxier", "00D0F5", "Gateway", "GW-0001")


def _depth(name: str) -> int:
    return len(paths.parse(name).segments)


class WholeDeviceWalkTests(unittest.TestCase):
    """Issue 17.2: GetParameterNames, GetParameterValues and GetParameterAttributes agree at every node."""

    disabled: tuple[str, ...] = ()

    def setUp(self) -> None:
        self.lab = ManagedDevice(self, disabled=self.disabled)
        store = Store.open(self.mktemp())
        acs = dict(load(None)["acs"], url="http://127.0.0.1:9/acs")
        self.settings = EndpointSettings(store.document("settings"), acs)
        local = virtualDeviceLocalModel(PROXIER, "UPnP-DM", self.settings, lambda: "http://127.0.0.1:7547/v1", store)
        self.model = virtualDeviceModel(self.lab.device.dataModel(), local)

    def ok(self, d: Any, what: str) -> Any:
        """The result of C{d}, which must have fired; a fault fails the test naming C{what}."""
        results: list = []
        d.addBoth(results.append)
        self.assertTrue(results, f"{what}: no answer")
        result = results[0]
        if hasattr(result, "value") and isinstance(result.value, Exception):
            self.fail(f"{what}: {result.value!r}")
        return result

    def parameterNextLevel(self, name: str, writable: bool) -> list:
        """
        GetParameterNames of a parameter with NextLevel true: the parameter
        itself (TR-330 §4.6.2.1's example, as the device's model answers) or
        9003 (TR-069 A.3.2.3, as the proxier's own trees answer); never 9005.
        """
        results: list = []
        self.model.getParameterNames(name, True).addBoth(results.append)
        self.assertTrue(results, f"GPN {name} true: no answer")
        result = results[0]
        if hasattr(result, "value") and isinstance(result.value, Exception):
            self.assertIsInstance(result.value, CWMPFault, f"GPN {name} true")
            self.assertEqual(result.value.code, 9003, f"GPN {name} true: {result.value!r}")
            return [ParameterInfo(name, writable)]
        return result

    def whole(self) -> list:
        infos = self.ok(self.model.getParameterNames("Device.", False), "GPN Device. false")
        names = [i.name for i in infos]
        self.assertEqual(len(names), len(set(names)), "a name listed twice")
        return infos

    def test_proxierHeldTableAtEveryDepth(self) -> None:
        """
        The reported case: C{Device.DeviceInfo.SupportedDataModel.1.}, listed
        under C{Device.DeviceInfo.}, answers GetParameterNames itself (the
        proxier holds it) instead of going to the device and answering 9005.
        """
        under = [i.name for i in self.ok(self.model.getParameterNames("Device.DeviceInfo.", False), "GPN")]
        self.assertIn("Device.DeviceInfo.SupportedDataModel.1.", under)
        infos = self.ok(self.model.getParameterNames("Device.DeviceInfo.SupportedDataModel.1.", True), "GPN")
        self.assertEqual(sorted(i.name for i in infos),
                         [f"Device.DeviceInfo.SupportedDataModel.1.{p}" for p in ("Features", "URL", "URN", "UUID")])
        asked = [args for _, a, args in self.lab.upnp.calls if a in ("GetInstances", "GetAttributes")]
        self.assertFalse([a for a in asked if "SupportedDataModel" in repr(a)],
                         "the device was asked about a table the proxier holds")

    def test_everyNodeAgrees(self) -> None:
        """Every object and parameter of the whole listing answers GPN (both levels), GPV and GPA consistently."""
        infos = self.whole()
        writable = {i.name: i.writable for i in infos}
        names = [i.name for i in infos]
        objects = [n for n in names if paths.isPartial(n)]
        parameters = [n for n in names if not paths.isPartial(n)]
        self.assertGreater(len(objects), 20)
        self.assertGreater(len(parameters), 100)
        for held in ("Device.ManagementServer.", "Device.DeviceInfo.ProxierInfo.", "Device.DeviceInfo.VendorLogFile.",
                     "Device.DeviceInfo.SupportedDataModel.1.", "Device.IP.Diagnostics.", "Device.DNS.Diagnostics."):
            self.assertIn(held, objects)  # the walk covers every kind of proxier-held object
        for name in names:
            below = [n for n in names if paths.isPrefix(name, n)] if paths.isPartial(name) else [name]
            listed = self.ok(self.model.getParameterNames(name, False), f"GPN {name} false")
            self.assertEqual(sorted(i.name for i in listed), sorted(below), f"GPN {name} false")
            for info in listed:
                self.assertEqual(info.writable, writable[info.name], f"Writable of {info.name} under {name}")
            if paths.isPartial(name):
                children = [n for n in below if n != name and _depth(n) == _depth(name) + 1]
                listed = self.ok(self.model.getParameterNames(name, True), f"GPN {name} true")
            else:
                children = [name]
                listed = self.parameterNextLevel(name, writable[name])
            self.assertEqual(sorted(i.name for i in listed), sorted(children), f"GPN {name} true")
            for info in listed:
                self.assertEqual(info.writable, writable[info.name], f"Writable of {info.name} next to {name}")
            leaves = sorted(n for n in below if not paths.isPartial(n))
            values = self.ok(self.model.getParameterValues([name]), f"GPV {name}")
            self.assertEqual(sorted(v.name for v in values), leaves, f"GPV {name}")
            attributes = self.ok(self.model.getParameterAttributes([name]), f"GPA {name}")
            self.assertEqual(sorted(a.name for a in attributes), leaves, f"GPA {name}")

    def aliasForms(self, infos: list) -> dict[str, str]:
        """
        C{{aliasForm: numberForm}} of every name listed under an instance
        that has an Alias (TR-069 3.6.1), with each such instance in the
        path written C{[alias]}: C{Device.Hosts.Host.[cpe-phone].HostName}.
        """
        values = {v.name: v.value for v in self.ok(self.model.getParameterValues(["Device."]), "GPV Device.")}
        aliases = {n[: -len("Alias")]: values[n] for n in values if n.endswith(".Alias")}
        forms: dict[str, str] = {}
        for info in infos:
            parts = info.name.split(".")
            changed = False
            for cut in range(len(parts) - 1, 0, -1):
                instance = ".".join(parts[:cut]) + "."
                if instance in aliases and parts[cut - 1].isdigit():
                    parts[cut - 1] = f"[{aliases[instance]}]"
                    changed = True
            if changed:
                forms[".".join(parts)] = info.name
        return forms

    def test_aliasFormsAgree(self) -> None:
        """
        Every name under an instance with an Alias answers by alias exactly
        as by number (issue 17): GPN (both levels), GPV and GPA give the
        same names — under the instance numbers — and the same writable
        flags, values and attributes; SPV of a parameter's own value by
        alias is refused (9008) or not exactly as by number, and a no-op
        SPA by alias succeeds.
        """
        infos = self.whole()
        forms = self.aliasForms(infos)
        for table in ("Device.Hosts.Host.", "Device.DeviceInfo.VendorLogFile."):
            self.assertTrue([a for a in forms if a.startswith(table + "[")], table)  # the walk covers both kinds
        writable = {i.name: i.writable for i in infos}
        checked = 0
        for alias, number in sorted(forms.items()):
            for nextLevel in (False, True):
                if nextLevel and not paths.isPartial(number):
                    continue  # a parameter with NextLevel true: see parameterNextLevel
                self.assertEqual(self.ok(self.model.getParameterNames(alias, nextLevel), f"GPN {alias} {nextLevel}"),
                                 self.ok(self.model.getParameterNames(number, nextLevel), f"GPN {number}"),
                                 f"GPN {alias} {nextLevel}")
            self.assertEqual(self.ok(self.model.getParameterValues([alias]), f"GPV {alias}"),
                             self.ok(self.model.getParameterValues([number]), f"GPV {number}"), f"GPV {alias}")
            self.assertEqual(self.ok(self.model.getParameterAttributes([alias]), f"GPA {alias}"),
                             self.ok(self.model.getParameterAttributes([number]), f"GPA {number}"), f"GPA {alias}")
            self.ok(self.model.setParameterAttributes([AttributeChange(alias, False, 0)]), f"SPA {alias}")
            if paths.isPartial(number):
                continue
            [current] = self.ok(self.model.getParameterValues([number]), f"GPV {number}")
            results: list = []
            self.model.setParameterValues([ParameterValue(alias, current.value, current.type)]).addBoth(results.append)
            self.assertTrue(results, f"SPV {alias}: no answer")
            checked += 1
            fault = getattr(results[0], "value", None)
            codes = {f.faultCode for f in fault.parameterFaults} if isinstance(fault, CWMPFault) else set()
            if writable[number]:
                self.assertFalse(codes & {9005, 9008}, f"{alias}: {fault}")
                self.assertNotIn(getattr(fault, "code", None), (9005, 9008), f"{alias}: {fault}")
            else:
                self.assertEqual(codes, {9008}, f"{alias} is read-only: {fault}")
        self.assertGreater(checked, 10)

    def test_writableAgreesWithSetParameterValues(self) -> None:
        """
        SetParameterValues of each parameter's own value: a parameter listed
        read-only is refused with 9008, a writable one never with 9008 or 9005.
        """
        infos = self.whole()
        values = {v.name: v for v in self.ok(self.model.getParameterValues(["Device."]), "GPV Device.")}
        for info in infos:
            if paths.isPartial(info.name):
                continue
            current = values[info.name]
            results: list = []
            self.model.setParameterValues([ParameterValue(info.name, current.value, current.type)]).addBoth(
                results.append)
            self.assertTrue(results, f"SPV {info.name}: no answer")
            result = results[0]
            fault = result.value if hasattr(result, "value") and isinstance(result.value, CWMPFault) else None
            codes = {f.faultCode for f in fault.parameterFaults} if fault is not None else set()
            if info.writable:
                self.assertFalse(codes & {9005, 9008}, f"{info.name} is listed writable but SPV says {fault}")
                self.assertNotIn(getattr(fault, "code", None), (9005, 9008), f"{info.name}: {fault}")
            else:
                self.assertIsNotNone(fault, f"{info.name} is listed read-only but SPV accepted it")
                self.assertEqual(codes, {9008}, f"{info.name} is read-only: {fault}")

    def test_attributesAndObjectsAnswer(self) -> None:
        """
        SetParameterAttributes changing nothing succeeds on every name
        listed; AddObject on a read-only table the proxier holds and
        DeleteObject on its rows are denied (9001), as for any read-only
        table, never "no such name" (9005).
        """
        infos = self.whole()
        for info in infos:
            self.ok(self.model.setParameterAttributes([AttributeChange(info.name, False, 0)]), f"SPA {info.name}")
        held = ["Device.DeviceInfo.SupportedDataModel.", "Device.DeviceInfo.VendorLogFile."]
        for table in held:
            self.assertEqual(self.fault(self.model.addObject(table)).code, 9001, f"AddObject {table}")
            rows = [i.name for i in infos if i.name.startswith(table) and _depth(i.name) == _depth(table) + 1]
            self.assertTrue(rows, table)
            for row in rows:
                self.assertEqual(self.fault(self.model.deleteObject(row)).code, 9001, f"DeleteObject {row}")

    def fault(self, d: Any) -> CWMPFault:
        results: list = []
        d.addBoth(results.append)
        self.assertTrue(results, "no answer")
        self.assertIsInstance(getattr(results[0], "value", None), CWMPFault)
        return results[0].value

    def test_wholeTreeAnswersAreValidCWMP(self) -> None:
        """The whole tree's GPN, GPV and GPA answers, encoded for the ACS, are valid under the CWMP schema."""
        infos = self.whole()
        values = self.ok(self.model.getParameterValues(["Device."]), "GPV Device.")
        attributes = self.ok(self.model.getParameterAttributes(["Device."]), "GPA Device.")
        for message in (m.GetParameterNamesResponse(tuple(infos)), m.GetParameterValuesResponse(tuple(values)),
                        m.GetParameterAttributesResponse(tuple(attributes))):
            assertValidCWMP(self, codec.encode(m.Envelope(message, id="1")), message.name)


class ReadOnlyDeviceWalkTests(WholeDeviceWalkTests):
    """
    The same walk over a device whose CMS offers no SetValues, CreateInstance
    or DeleteInstance (TR-330 §4.3.1: its parameters and tables read-only):
    Writable and SetParameterValues still agree everywhere.
    """

    disabled = ("SetValues", "CreateInstance", "DeleteInstance", "SetAttributes")
