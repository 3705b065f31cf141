"""
Tests for L{proxier.proxy.heldmodel}: a write to objects the proxier holds
— by the ACS or on the gateway (ILocalWrites) — goes through the same
whole-request check and after-set hook, and only the local one is reported.
"""

from __future__ import annotations

from twisted.trial import unittest
from zope.interface.verify import verifyObject

from proxier.datamodel.capabilities import ILocalWrites
from proxier.datamodel.declarations import Object, Parameter
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import String
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.proxy.heldmodel import HeldModel
from tests._helpers import ModelCalls

HOST = "Device.Held.Host"


class LocalWriteTests(ModelCalls, unittest.TestCase):
    def setUp(self) -> None:
        self.tree = TreeDataModel(Object("Device", Object("Held", Parameter("Host", String(64), writable=True))))
        self.applied: list = []
        self.read: list = []
        self.model = HeldModel(self.tree, beforeRead=self.read.append, checkValues=self.check,
                               afterSet=self.applied.append)
        self.reports: list = []
        self.model.addChangeListener(lambda values, active: self.reports.append([(v.name, v.value) for v in values]))
        self.ok(self.model.setParameterAttributes([AttributeChange(HOST, True, 1)]))

    def check(self, values: list) -> None:
        if any(v.value == "refused" for v in values):
            raise CWMPFault(9007, "Invalid parameter value (refused)")

    def test_localWrite(self) -> None:
        """A local write is checked, refreshed before, told after, and reported; the ACS's is not reported."""
        verifyObject(ILocalWrites, self.model)
        self.ok(self.model.setParameterValues([ParameterValue(HOST, "acs.example")]))
        self.assertEqual(self.reports, [])
        self.ok(self.model.setParameterValuesLocally([ParameterValue(HOST, "local.example")]))
        self.assertEqual(self.reports, [[(HOST, "local.example")]])
        self.assertEqual([[v.value for v in values] for values in self.applied], [["acs.example"], ["local.example"]])
        self.assertEqual(self.read[-1], [HOST])

    def test_localWriteChecked(self) -> None:
        """The whole-request check refuses a local write as it refuses the ACS's: nothing applied or reported."""
        self.fault(self.model.setParameterValuesLocally([ParameterValue(HOST, "refused")]), 9007)
        self.assertEqual((self.reports, self.applied), ([], []))
        self.assertEqual(self.tree.getLocal(HOST), "")


class BuiltWhenUsedTests(ModelCalls, unittest.TestCase):
    def test_builtAtFirstCall(self) -> None:
        """Given a builder, the tree is made at the first call, once; listeners added before are handed to it."""
        made: list = []

        def build() -> TreeDataModel:
            made.append(TreeDataModel(Object("Device", Object("Held", Parameter("Host", String(64), writable=True)))))
            return made[-1]

        model = HeldModel(build)
        self.assertFalse(hasattr(model, "__dict__"))  # slots: two a device (issue 19)
        reports: list = []
        gone: list = []
        model.addChangeListener(lambda values, active: reports.append([(v.name, v.value) for v in values]))
        model.addChangeListener(gone.append)
        model.removeChangeListener(gone.append)
        self.assertRaises(ValueError, model.removeChangeListener, gone.append)  # as a tree answers an unknown one
        self.assertEqual((made, model.built), ([], False))
        self.ok(model.setParameterAttributes([AttributeChange(HOST, True, 1)]))
        self.assertEqual((len(made), model.built), (1, True))
        self.ok(model.setParameterValuesLocally([ParameterValue(HOST, "local.example")]))
        self.assertEqual(len(made), 1)
        self.assertEqual((reports, gone), ([[(HOST, "local.example")]], []))
