"""
TR-181 2.17 conformance of every object and parameter the diagnostics and
log parts add to a Virtual CWMP Device (../shared/ref/datamodel/
tr-181-2-17-0-cwmp-full.xml): each name exists there, with TR-181's type
(base, xsi:type, list-ness; every facet for the writable ones), access and
notification facts, and every value answered parses with TR-181's own type
— walked row by row over the real trees, with rows in every table (a
traceroute and an NSLookup completed, the simulator's logs listed), with
the checks (L{tests.tr181.ConformanceChecks}) tests.test_datamodel_tr181
runs over the proxier's own trees. The diagnostics declarations themselves
(L{proxier.proxy.diagtables}) are checked row by row in
tests.test_proxy_diagnostics.
"""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest

from proxier.datamodel import paths
from proxier.datamodel.values import ParameterValue
from proxier.proxy import diagtables as d
from proxier.upnpdm.logs import COUNT
from tests import tr181
from tests.test_upnpdm_transfer_support import ManagedDevice

# Values a BMS device cannot give that TR-181 constrains: RouteHops.{i}.RTTimes
# has minItems 1, but BMS:2 HopHosts carries no round-trip times; the list is
# left empty rather than reporting every response lost (an item of 0).
NO_VALUE_FROM_BMS = frozenset({"Device.IP.Diagnostics.TraceRoute.RouteHops.{i}.RTTimes"})


class ConformanceTests(tr181.ConformanceChecks, unittest.TestCase):
    def setUp(self) -> None:
        if not tr181.available():
            raise unittest.SkipTest(f"{tr181.TR181_FULL} is not here")
        self.standard = tr181.load()
        self.lab = ManagedDevice(self)
        model = self.lab.model
        for kind, target in ((d.TRACEROUTE, "Host"), (d.NSLOOKUP, "HostName"), (d.IPPING, "Host")):
            self.lab.ok(model.setParameterValues([ParameterValue(kind.path + target, "example.com"),
                                                  ParameterValue(kind.path + "DiagnosticsState", "Requested")]))
        self.lab.advance(5.0)
        management = self.lab.device.management
        self.trees = [("diagnostics", management.diagnostics.tree), ("logs", management.logs.tree)]
        self.lab.values("Device.DeviceInfo.VendorLogFile.")  # the table is filled from the device

    def walk(self, tree: Any) -> list:
        return [i for i in self.lab.ok(tree.getParameterNames("", False)) if i.name.count(".") > 1]

    def test_everyTableHasRows(self) -> None:
        """The walk below is not empty: rows in RouteHops, Result and VendorLogFile."""
        names = [i.name for _, tree in self.trees for i in self.walk(tree)]
        for row in ("Device.IP.Diagnostics.TraceRoute.RouteHops.1.Host", "Device.DeviceInfo.VendorLogFile.1.Name",
                    "Device.DNS.Diagnostics.NSLookupDiagnostics.Result.1.Status"):
            self.assertIn(row, names)

    def test_namesExist(self) -> None:
        """Every object and parameter is a TR-181 2.17 name (rows as {i})."""
        self.checkNamesExist()
        self.assertIn(paths.schemaPath(COUNT), self.standard.parameters)

    def test_access(self) -> None:
        """Writable exactly where TR-181 says readWrite (or writeOnceReadOnly: Alias); tables read-only."""
        self.checkAccess()

    def test_types(self) -> None:
        """Each parameter has TR-181's type; writable ones every facet (enumerations, ranges, lengths)."""
        self.assertGreater(self.checkTypes(), 50)
        count = self.standard.parameters[paths.schemaPath(COUNT)].type()
        self.assertEqual(self.lab.ok(self.lab.model.getParameterValues([COUNT]))[0].type, count.xsiType)

    def test_notificationFacts(self) -> None:
        """activeNotify, forcedInform and hidden are TR-181's for every parameter."""
        self.checkNotificationFacts()

    def test_valuesFitTheirTypes(self) -> None:
        """Every value answered parses with TR-181's own type for it (but the one BMS cannot give)."""
        for label, tree in self.trees:
            for value in self.lab.ok(tree.getParameterValues([""])):
                schema = paths.schemaPath(value.name)
                dataType = self.standard.parameters[schema].type()
                self.assertEqual(value.type, dataType.xsiType, f"{label}: {value.name}")
                if schema in NO_VALUE_FROM_BMS:
                    self.assertEqual(value.value, "")
                    continue
                dataType.parse(value.value)
