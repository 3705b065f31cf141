"""
Instance aliases (TR-069 3.6.1) end to end, issue 17 ("every object answers
every RPC at every depth"): over real loopback sockets, the proxier's tree
with a simulated UPnP DM device and the fake ACS (every CWMP message
validated against the BBF schema), each parameter RPC by alias — on the
device's own table (C{Device.Hosts.Host.{i}.}) and on a table the proxier
holds over it (C{Device.DeviceInfo.VendorLogFile.{i}.}) — answers what the
same request by instance number answers.

Answers name instances by number: TR-181 C{ManagementServer.InstanceMode}
says whether a CPE returns path names with instance numbers or aliases, its
factory default is C{InstanceNumber}, and the proxier offers no other mode
(it has no InstanceMode, and AliasBasedAddressing is false).

The sim's device has no table with an Alias inside another one; nested
aliases are covered in L{tests.test_datamodel_composite.AliasTests}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.values import AttributeChange, ParameterValue
from tests.test_upnpdm_e2e import Lab, answers, faultCode

# the same instances by alias and by number: the device's own table, and a
# table the proxier holds (the device's logs)
PAIRS = [
    ("Device.Hosts.Host.[cpe-phone].HostName", "Device.Hosts.Host.2.HostName"),
    ("Device.Hosts.Host.[cpe-phone].", "Device.Hosts.Host.2."),
    ("Device.DeviceInfo.VendorLogFile.[cpe-1].Name", "Device.DeviceInfo.VendorLogFile.1.Name"),
    ("Device.DeviceInfo.VendorLogFile.[cpe-1].", "Device.DeviceInfo.VendorLogFile.1."),
]


class AliasE2ETests(unittest.TestCase):
    """Every RPC that takes a path, by alias, through the whole Virtual CWMP Device."""

    timeout = 120

    @defer.inlineCallbacks
    def byAliasAndNumber(self, request: Any) -> Any:
        """
        One session asking C{request(path)} for each alias and number of
        L{PAIRS}; the answers as C{[(byAlias, byNumber)]}.
        """
        lab = yield Lab(self).start()
        requests = [request(path) for pair in PAIRS for path in pair]
        session = yield lab.session(requests)
        got = answers(session)
        self.assertEqual(len(got), len(requests))
        return list(zip(got[0::2], got[1::2]))

    @defer.inlineCallbacks
    def test_getParameterValues(self) -> None:
        """
        GetParameterValues by alias answers the values by number — the
        reported case: Device.Hosts.Host.[cpe-phone].HostName answered an
        empty list (the composite dropped the answer, named by number, as
        not asked).
        """
        pairs = yield self.byAliasAndNumber(lambda path: m.GetParameterValues((path,)))
        for (alias, number), (byAlias, byNumber) in zip(PAIRS, pairs):
            self.assertIsInstance(byNumber, m.GetParameterValuesResponse, number)
            self.assertTrue(byNumber.parameters, number)
            self.assertEqual(byAlias, byNumber, alias)
        self.assertEqual([(v.name, v.value) for v in pairs[0][0].parameters], [("Device.Hosts.Host.2.HostName", "phone")])

    @defer.inlineCallbacks
    def test_getParameterNames(self) -> None:
        """
        GetParameterNames by alias, NextLevel false and true, answers as by
        number: the object itself and every name under its instance number,
        never under the alias.
        """
        for nextLevel in (False, True):
            pairs = yield self.byAliasAndNumber(lambda path: m.GetParameterNames(path, nextLevel))
            for (alias, number), (byAlias, byNumber) in zip(PAIRS, pairs):
                if not alias.endswith(".") and nextLevel:
                    continue  # a parameter with NextLevel true: compared below with false
                self.assertIsInstance(byNumber, m.GetParameterNamesResponse, number)
                self.assertTrue(byNumber.parameters, number)
                self.assertEqual(byAlias, byNumber, (alias, nextLevel))
                self.assertFalse([i.name for i in byAlias.parameters if "[" in i.name])

    @defer.inlineCallbacks
    def test_getParameterAttributes(self) -> None:
        """GetParameterAttributes by alias answers as by number."""
        pairs = yield self.byAliasAndNumber(lambda path: m.GetParameterAttributes((path,)))
        for (alias, number), (byAlias, byNumber) in zip(PAIRS, pairs):
            self.assertIsInstance(byNumber, m.GetParameterAttributesResponse, number)
            self.assertTrue(byNumber.parameters, number)
            self.assertEqual(byAlias, byNumber, alias)

    @defer.inlineCallbacks
    def test_setParameterAttributes(self) -> None:
        """
        SetParameterAttributes by alias (a device parameter Active, the
        held row Passive) is what GetParameterAttributes by number then
        reads (the device's Notification was kept under the alias text,
        and read back Passive by number).
        """
        lab = yield Lab(self).start()
        session = yield lab.session([
            m.SetParameterAttributes((AttributeChange("Device.Hosts.Host.[cpe-phone].HostName", True, 2),
                                      AttributeChange("Device.DeviceInfo.VendorLogFile.[cpe-1].", True, 1))),
            m.GetParameterAttributes(("Device.Hosts.Host.2.HostName", "Device.DeviceInfo.VendorLogFile.1.")),
        ])
        done, read = answers(session)
        self.assertIsInstance(done, m.SetParameterAttributesResponse)
        notifications = {a.name: a.notification for a in read.parameters}
        self.assertEqual(notifications["Device.Hosts.Host.2.HostName"], 2)
        self.assertEqual(notifications["Device.DeviceInfo.VendorLogFile.1.Name"], 1)

    @defer.inlineCallbacks
    def test_setParameterValues(self) -> None:
        """
        SetParameterValues by alias sets the instance the alias names (the
        device's HostName; the held row's own Alias, after which the new
        alias addresses it and the old one is 9005); one parameter given by
        alias and by number in one request is 9003 (TR-069 A.3.2.1: a
        parameter given twice), not the device's 707 "Multiple Set" sent
        as 9001.
        """
        lab = yield Lab(self).start()
        session = yield lab.session([
            m.SetParameterValues((ParameterValue("Device.Hosts.Host.[cpe-phone].HostName", "tablet"),
                                  ParameterValue("Device.DeviceInfo.VendorLogFile.[cpe-1].Alias", "syslog")), "k1"),
            m.GetParameterValues(("Device.Hosts.Host.2.HostName", "Device.DeviceInfo.VendorLogFile.[syslog].Alias")),
            m.GetParameterValues(("Device.DeviceInfo.VendorLogFile.[cpe-1].Name",)),
            m.SetParameterValues((ParameterValue("Device.Hosts.Host.[cpe-phone].HostName", "a"),
                                  ParameterValue("Device.Hosts.Host.2.HostName", "b")), "k2"),
        ])
        done, read, gone, twice = answers(session)
        self.assertIsInstance(done, m.SetParameterValuesResponse)
        self.assertEqual([(v.name, v.value) for v in read.parameters],
                         [("Device.Hosts.Host.2.HostName", "tablet"), ("Device.DeviceInfo.VendorLogFile.1.Alias", "syslog")])
        self.assertEqual(faultCode(gone), 9005)
        self.assertEqual(faultCode(twice), 9003)

    @defer.inlineCallbacks
    def test_addAndDeleteObject(self) -> None:
        """
        AddObject with an alias makes an instance that the alias then
        addresses in every read (named by the number AddObject answered);
        DeleteObject by that alias removes it, after which the alias is
        9005. On the held read-only table, DeleteObject by alias is 9001,
        as by number.
        """
        lab = yield Lab(self).start()
        session = yield lab.session([
            m.AddObject("Device.Hosts.Host.[cpe-tv].", "k1"),
            m.GetParameterValues(("Device.Hosts.Host.[cpe-tv].",)),
            m.GetParameterNames("Device.Hosts.Host.[cpe-tv].", False),
            m.DeleteObject("Device.Hosts.Host.[cpe-tv].", "k2"),
            m.GetParameterValues(("Device.Hosts.Host.[cpe-tv].Alias",)),
            m.DeleteObject("Device.DeviceInfo.VendorLogFile.[cpe-1].", "k3"),
            m.DeleteObject("Device.DeviceInfo.VendorLogFile.1.", "k4"),
        ])
        added, values, names, deleted, gone, heldAlias, heldNumber = answers(session)
        self.assertIsInstance(added, m.AddObjectResponse)
        row = f"Device.Hosts.Host.{added.instanceNumber}."
        self.assertIn(ParameterValue(row + "Alias", "cpe-tv"), values.parameters)
        self.assertTrue(all(v.name.startswith(row) for v in values.parameters))
        self.assertEqual(names.parameters[0].name, row)
        self.assertTrue(all(i.name.startswith(row) for i in names.parameters))
        self.assertIsInstance(deleted, m.DeleteObjectResponse)
        self.assertEqual(faultCode(gone), 9005)
        self.assertEqual((faultCode(heldAlias), faultCode(heldNumber)), (9001, 9001))

    @defer.inlineCallbacks
    def test_unknownAlias(self) -> None:
        """
        An alias no instance has, on the device's table or the held one, is
        9005 (Invalid parameter name) on every RPC that takes a path; in
        SetParameterValues, a 9003 naming that parameter with 9005.
        """
        lab = yield Lab(self).start()
        requests = []
        for table in ("Device.Hosts.Host.", "Device.DeviceInfo.VendorLogFile."):
            row = table + "[nope]."
            requests += [
                m.GetParameterValues((row,)), m.GetParameterValues((row + "Alias",)),
                m.GetParameterNames(row, False), m.GetParameterNames(row + "Alias", False),
                m.GetParameterAttributes((row + "Alias",)),
                m.SetParameterAttributes((AttributeChange(row + "Alias", True, 1),)),
                m.DeleteObject(row, "k"),
                m.SetParameterValues((ParameterValue(row + "Alias", "other"),), "k"),
            ]
        session = yield lab.session(requests)
        got = answers(session)
        self.assertEqual(len(got), len(requests))
        for request, answer in zip(requests, got):
            if isinstance(request, m.SetParameterValues):
                self.assertEqual(faultCode(answer), 9003, request)
                self.assertEqual([(f.parameterName, f.faultCode) for f in answer.fault.parameterFaults],
                                 [(request.parameters[0].name, 9005)])
            else:
                self.assertEqual(faultCode(answer), 9005, request)
