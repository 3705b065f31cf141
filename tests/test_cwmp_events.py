"""
Tests for L{proxier.cwmp.events}: the durable event queue and ACS knowledge
of one endpoint — TR-069 Table 7 clearing rules, caps, and survival of every
change across a restart (a new L{EndpointState} on the same document).
"""

from __future__ import annotations

import datetime
import json
import os

from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.cwmp.events import (
    MAX_COMPLETED_TRANSFERS,
    MAX_EVENTS,
    MAX_QUEUED_EVENTS,
    MAX_QUEUED_RPCS,
    MAX_REMEMBERED_ACS,
    MAX_SCHEDULED_INFORMS,
    EndpointState,
)
from proxier.datamodel.values import AutonomousTransferResult, ParameterValue, TransferResult
from proxier.store import Store

T0 = datetime.datetime(2025, 3, 1, 10, 0, tzinfo=datetime.timezone.utc)
ACS = "http://acs.example.net/cwmp"


class StateTests(unittest.TestCase):
    def setUp(self) -> None:
        self.store = Store.open(self.mktemp())
        self.state = EndpointState(self.store.document("cwmp"))

    def restart(self) -> EndpointState:
        self.state = EndpointState(self.store.document("cwmp"))
        return self.state

    def codes(self, state: EndpointState | None = None) -> list[tuple[str, str]]:
        return [(e.code, e.commandKey) for e in (state or self.state).events()]

    def test_freshState(self) -> None:
        """A new endpoint owes nothing, bootstrapped nothing, knows no ACS."""
        self.assertEqual(self.state.events(), [])
        self.assertFalse(self.state.hasPending())
        self.assertIsNone(self.state.bootstrappedURL)
        self.assertIsNone(self.state.acsMethods(ACS))
        self.assertEqual(self.state.retryCount, 0)

    def test_singleEventsOnce(self) -> None:
        """Single events are queued once; M events once per CommandKey; all survive a restart."""
        for code, key in (("1 BOOT", ""), ("1 BOOT", ""), ("2 PERIODIC", ""), ("M ScheduleInform", "a"),
                          ("M ScheduleInform", "b"), ("M ScheduleInform", "a")):
            self.state.queueEvent(code, key)
        expected = [("1 BOOT", ""), ("2 PERIODIC", ""), ("M ScheduleInform", "a"), ("M ScheduleInform", "b")]
        self.assertEqual(self.codes(), expected)
        self.assertEqual(self.codes(self.restart()), expected)

    def test_acknowledgeClearsWhatWasSent(self) -> None:
        """The InformResponse clears the events of that Inform, not those queued after it was built."""
        self.state.queueEvents([("1 BOOT", ""), ("2 PERIODIC", "")])
        content = self.state.informContent()
        self.state.queueEvent("6 CONNECTION REQUEST")
        self.state.informAcknowledged(content, ACS)
        self.assertEqual(self.codes(self.restart()), [("6 CONNECTION REQUEST", "")])

    def test_bootstrapRemembered(self) -> None:
        """A delivered BOOTSTRAP records the ACS URL it was delivered to, durably."""
        self.state.queueEvent("0 BOOTSTRAP")
        content = self.state.informContent()
        self.state.informAcknowledged(content, ACS)
        self.assertEqual(self.restart().bootstrappedURL, ACS)
        self.state.queueEvent("1 BOOT")
        self.state.informAcknowledged(self.state.informContent(), "http://other/")
        self.assertEqual(self.state.bootstrappedURL, ACS)

    def test_connectionRequestNotRetried(self) -> None:
        """A failed Inform drops its "6 CONNECTION REQUEST" and keeps every other event."""
        self.state.queueEvents([("6 CONNECTION REQUEST", ""), ("1 BOOT", ""), ("M Reboot", "r")])
        content = self.state.informContent()
        self.state.informFailed(content)
        self.assertEqual(self.codes(self.restart()), [("1 BOOT", ""), ("M Reboot", "r")])

    def test_valueChanges(self) -> None:
        """
        Value changes keep the latest value per parameter and "4 VALUE CHANGE";
        a value that changed again after the Inform was built stays pending.
        """
        self.state.addValueChanges([ParameterValue("Device.A", "1"), ParameterValue("Device.B", "x")])
        self.state.addValueChanges([ParameterValue("Device.A", "2", "xsd:unsignedInt")])
        content = self.state.informContent()
        self.assertEqual(content.valueChanges, (ParameterValue("Device.A", "2", "xsd:unsignedInt"),
                                                ParameterValue("Device.B", "x")))
        self.assertEqual([e.code for e in content.events], ["4 VALUE CHANGE"])
        self.state.addValueChanges([ParameterValue("Device.B", "y")])
        self.state.informAcknowledged(content, ACS)
        state = self.restart()
        self.assertEqual(state.valueChanges(), [ParameterValue("Device.B", "y")])
        self.assertEqual(self.codes(state), [("4 VALUE CHANGE", "")])
        state.informAcknowledged(state.informContent(), ACS)
        self.assertFalse(state.hasPending())

    def test_transferCompleteKeptUntilAcknowledged(self) -> None:
        """
        A TransferComplete brings "7 TRANSFER COMPLETE" and "M Download" into
        every Inform until the RPC itself is acknowledged, across restarts.
        """
        self.state.addTransferComplete(TransferResult("ck1", "Download", 0, "", T0, T0))
        self.state.addTransferComplete(TransferResult("ck2", "Upload", 9011, "failed", T0, T0))
        content = self.state.informContent()
        self.assertEqual([(e.code, e.commandKey) for e in content.events],
                         [("7 TRANSFER COMPLETE", ""), ("M Download", "ck1"), ("M Upload", "ck2")])
        self.state.informAcknowledged(content, ACS)
        state = self.restart()
        (first, tc1), (second, tc2) = state.queuedRPCs()
        self.assertEqual(tc1, m.TransferComplete(TransferResult("ck1", "Download", 0, "", T0, T0)))
        self.assertEqual(tc2.result.faultCode, 9011)
        state.rpcDelivered(first)
        self.assertEqual(self.codes(self.restart()), [("7 TRANSFER COMPLETE", ""), ("M Upload", "ck2")])
        self.state.rpcDelivered(second)
        self.assertFalse(self.restart().hasPending())

    def test_otherQueuedRPCs(self) -> None:
        """AutonomousTransferComplete and RequestDownload carry their events and round-trip the store."""
        atc = AutonomousTransferResult("http://a/", "http://t/", False, "2 Vendor Log File", 5, "log", 0, "", T0, T0)
        self.state.addAutonomousTransferComplete(atc)
        self.state.addRequestDownload("3 Vendor Configuration File", [("Version", "2")])
        state = self.restart()
        self.assertEqual([r for _, r in state.queuedRPCs()],
                         [m.AutonomousTransferComplete(atc),
                          m.RequestDownload("3 Vendor Configuration File", (("Version", "2"),))])
        self.assertEqual(self.codes(state), [("10 AUTONOMOUS TRANSFER COMPLETE", ""), ("9 REQUEST DOWNLOAD", "")])
        self.assertEqual(state.dropRPCs("AutonomousTransferComplete"), [m.AutonomousTransferComplete(atc)])
        self.assertEqual(self.codes(self.restart()), [("9 REQUEST DOWNLOAD", "")])

    def test_longCommandKeyCut(self) -> None:
        """A TransferComplete whose CommandKey is over 32 characters is queued with it cut, and says so."""
        self.state.addTransferComplete(TransferResult("k" * 40, "Download"))
        self.assertEqual(self.state.queuedRPCs()[0][1].result.commandKey, "k" * 32)
        self.assertTrue(self.state.dropped)

    def test_rpcFaultLimit(self) -> None:
        """An RPC the ACS keeps faulting is dropped at the limit, not before."""
        self.state.addTransferComplete(TransferResult("ck", "Download"))
        ((rpcId, _),) = self.state.queuedRPCs()
        self.assertFalse(self.state.rpcFaulted(rpcId, 3))
        self.assertFalse(self.restart().rpcFaulted(rpcId, 3))
        self.assertTrue(self.restart().rpcFaulted(rpcId, 3))
        self.assertEqual(self.state.queuedRPCs(), [])

    def test_transferStartedThenCompleted(self) -> None:
        """A transfer in progress is listed until its TransferComplete is queued."""
        self.state.transferStarted("Download", "ck", "1 Firmware Upgrade Image", 10, "fw", 100.0)
        self.assertEqual(self.restart().transfers()[0]["commandKey"], "ck")
        self.state.addTransferComplete(TransferResult("ck", "Download"))
        self.assertEqual(self.restart().transfers(), [])

    def test_transferCompleteOncePerTransfer(self) -> None:
        """
        A TransferComplete told again for the same (CommandKey, method) —
        while queued, after it was delivered, after a restart — is dropped
        (False) and changes nothing; another method or key is another
        transfer, and a new transfer of the same key (transferStarted)
        brings a new one, also when two of that key run at once.
        """
        self.state.transferStarted("Download", "ck", "1 Firmware Upgrade Image", 10, "fw", 100.0)
        self.assertTrue(self.state.addTransferComplete(TransferResult("ck", "Download")))
        self.assertFalse(self.state.addTransferComplete(TransferResult("ck", "Download", 9010, "again")))
        self.assertFalse(self.restart().addTransferComplete(TransferResult("ck", "Download")))
        self.assertTrue(self.state.addTransferComplete(TransferResult("ck", "Upload")))
        self.assertTrue(self.state.addTransferComplete(TransferResult("other", "Download")))
        ids = [i for i, _ in self.state.queuedRPCs()]
        self.assertEqual([(r.result.commandKey, r.result.method, r.result.faultCode) for _, r in self.state.queuedRPCs()],
                         [("ck", "Download", 0), ("ck", "Upload", 0), ("other", "Download", 0)])
        for rpcId in ids:
            self.state.rpcDelivered(rpcId)
        self.assertFalse(self.restart().addTransferComplete(TransferResult("ck", "Download")), "delivered, remembered")
        self.assertEqual(self.state.queuedRPCs(), [])
        self.assertFalse(self.state.hasPending())
        for _ in range(2):
            self.state.transferStarted("Download", "ck", "1 Firmware Upgrade Image", 10, "fw", 200.0)
        self.assertTrue(self.state.addTransferComplete(TransferResult("ck", "Download")))
        self.assertEqual(len(self.state.transfers()), 1, "one of the two ended")
        self.assertTrue(self.restart().addTransferComplete(TransferResult("ck", "Download")))
        self.assertFalse(self.state.addTransferComplete(TransferResult("ck", "Download")))
        self.assertEqual(len(self.state.queuedRPCs()), 2)
        self.assertEqual(self.state.transfers(), [])

    def test_completedTransfersBounded(self) -> None:
        """The memory of TransferCompletes taken keeps the last MAX_COMPLETED_TRANSFERS; older keys are new again."""
        for i in range(MAX_COMPLETED_TRANSFERS + 1):
            self.assertTrue(self.state.addTransferComplete(TransferResult(f"k{i}", "Download")))
            for rpcId, _ in self.state.queuedRPCs():
                self.state.rpcDelivered(rpcId)
        state = self.restart()
        self.assertFalse(state.addTransferComplete(TransferResult("k1", "Download")))
        self.assertTrue(state.addTransferComplete(TransferResult("k0", "Download")))

    def test_formatOneDocumentLoads(self) -> None:
        """
        A state document of format 1 (written before the memory of
        TransferCompletes) is read with everything it held, and upgraded.
        """
        payload = {
            "format": 1, "seq": 3, "bootstrappedURL": ACS, "acsMethods": [[ACS, ["Inform", "TransferComplete"]]],
            "retryCount": 2, "events": [{"id": 1, "code": "1 BOOT", "commandKey": ""}],
            "valueChanges": [["Device.X", "1", "xsd:string"]],
            "rpcs": [{"kind": "TransferComplete", "id": 2, "faults": 0,
                      "result": {"commandKey": "ck", "method": "Download", "faultCode": 0, "faultString": "",
                                 "startTime": "0001-01-01T00:00:00Z", "completeTime": "0001-01-01T00:00:00Z"}}],
            "rebootCommandKey": None, "afterSession": [], "scheduledInforms": [],
            "transfers": [{"method": "Upload", "commandKey": "up", "fileType": "4 Vendor Log File 1", "fileSize": 0,
                           "targetFileName": "", "startAt": 5.0}],
        }
        self.store.document("cwmp").save(payload)
        state = self.restart()
        self.assertEqual(state.bootstrappedURL, ACS)
        self.assertEqual(state.retryCount, 2)
        self.assertEqual(self.codes(state), [("1 BOOT", ""), ("4 VALUE CHANGE", ""), ("7 TRANSFER COMPLETE", ""),
                                             ("M Download", "ck")])
        self.assertEqual(state.transfers()[0]["commandKey"], "up")
        self.assertFalse(state.addTransferComplete(TransferResult("ck", "Download")), "the queued one counts")
        self.assertTrue(state.addTransferComplete(TransferResult("up", "Upload")))
        self.assertEqual(self.store.document("cwmp").load()["format"], 2)
        self.assertEqual(len(self.restart().queuedRPCs()), 2)

    def test_unusedQueuesShared(self) -> None:
        """
        Queues never used, or emptied, hold the one empty tuple (issue 19);
        the first entry makes a list of the state's own, saved as the
        document's list. The ACS's methods are shared between endpoints.
        """
        other = EndpointState(self.store.document("other"))
        self.assertIs(self.state._afterSession, other._afterSession)
        self.state.afterSessionDone(0)
        self.state.factoryResetRequested()
        self.state.scheduleInform(5.0, "k")
        self.assertEqual((self.state.afterSession(), other.afterSession(), other.scheduledInforms()),
                         ([["factoryReset"]], [], []))
        saved = self.store.document("cwmp").load()
        self.assertEqual((saved["afterSession"], saved["scheduledInforms"], saved["rpcs"]),
                         ([["factoryReset"]], [{"at": 5.0, "commandKey": "k"}], []))
        self.state.queueEvent("1 BOOT")
        self.state.addValueChanges([ParameterValue("Device.X", "1", "xsd:string")])
        self.state.informAcknowledged(self.state.informContent(), ACS)
        self.assertEqual((self.codes(), self.state.valueChanges()), ([], []))
        self.assertIs(self.state._events, other._events)
        self.assertIs(self.state._valueChanges, other._valueChanges)
        for state in (self.state, other):
            state.setACSMethods(ACS, ["TransferComplete", "Inform"])
        self.assertIs(self.state._acsMethods[0][1], other._acsMethods[0][1])
        self.assertIs(self.state._acsMethods, other._acsMethods)
        # read back after a restart, they are shared again
        again, otherAgain = self.restart(), EndpointState(self.store.document("other"))
        self.assertIs(again._acsMethods, otherAgain._acsMethods)
        self.assertEqual(again.acsMethods(ACS), frozenset({"TransferComplete", "Inform"}))

    def test_bootstrappedURLShared(self) -> None:
        """The URL the endpoints bootstrapped with is one string for all, as told and as read back (issue 19)."""
        for state in (self.state, EndpointState(self.store.document("other"))):
            state.queueEvent("0 BOOTSTRAP")
            state.informAcknowledged(state.informContent(), "".join(["http://acs.example.net", "/cwmp"]))
        urls = [EndpointState(self.store.document(n)).bootstrappedURL for n in ("cwmp", "other")]
        self.assertEqual(urls, [ACS, ACS])
        self.assertIs(urls[0], urls[1])

    def test_malformedACSMethodsKept(self) -> None:
        """ACS methods a hand-edited document holds in another shape are kept as they are, as before."""
        self.state.setRetryCount(2)
        saved = self.store.document("cwmp").load()
        saved["acsMethods"] = [[ACS, ["Inform"], "extra"]]
        self.store.document("cwmp").save(saved)
        state = self.restart()
        self.assertEqual(state._acsMethods, [[ACS, ["Inform"], "extra"]])
        state.setRetryCount(3)
        self.assertEqual(self.store.document("cwmp").load()["acsMethods"], [[ACS, ["Inform"], "extra"]])

    def test_documentFields(self) -> None:
        """The document holds format 2's fields and values, as the state keeps them (no other key)."""
        self.state.queueEvent("1 BOOT")
        self.state.setRetryCount(3)
        self.state.setACSMethods(ACS, ["Inform"])
        saved = self.store.document("cwmp").load()
        self.assertEqual(sorted(saved), ["acsMethods", "afterSession", "bootstrappedURL", "completedTransfers",
                                         "events", "format", "rebootCommandKey", "retryCount", "rpcs",
                                         "scheduledInforms", "seq", "transfers", "valueChanges"])
        self.assertEqual((saved["format"], saved["seq"], saved["retryCount"], saved["acsMethods"], saved["events"]),
                         (2, 1, 3, [[ACS, ["Inform"]]], [{"id": 1, "code": "1 BOOT", "commandKey": ""}]))

    def test_acsMethods(self) -> None:
        """What each ACS supports is remembered per URL, the most recent few."""
        self.state.setACSMethods(ACS, ["Inform", "GetRPCMethods", "TransferComplete"])
        self.assertEqual(self.restart().acsMethods(ACS), frozenset({"Inform", "GetRPCMethods", "TransferComplete"}))
        for i in range(MAX_REMEMBERED_ACS):
            self.state.setACSMethods(f"http://acs{i}/", ["Inform"])
        self.assertIsNone(self.restart().acsMethods(ACS))
        self.assertEqual(self.state.acsMethods("http://acs0/"), frozenset({"Inform"}))

    def test_retryCount(self) -> None:
        """The retry count survives a restart."""
        self.state.setRetryCount(4)
        self.assertEqual(self.restart().retryCount, 4)

    def test_reboot(self) -> None:
        """
        A Reboot's CommandKey waits (durably) for the device to boot, which
        queues "1 BOOT" and "M Reboot"; the reboot itself is due after the session.
        """
        self.state.rebootRequested("rk")
        state = self.restart()
        self.assertEqual(state.rebootCommandKey, "rk")
        self.assertEqual(state.afterSession(), [["reboot", "rk"]])
        state.afterSessionDone(1)
        self.assertEqual(self.codes(), [])
        state.booted()
        state = self.restart()
        self.assertEqual(self.codes(state), [("1 BOOT", ""), ("M Reboot", "rk")])
        self.assertIsNone(state.rebootCommandKey)
        self.assertEqual(state.afterSession(), [])

    def test_bootWithoutReboot(self) -> None:
        """A boot nobody asked for is "1 BOOT" alone; an abandoned Reboot leaves no "M Reboot"."""
        self.state.rebootRequested("rk")
        self.state.rebootAbandoned()
        self.state.booted()
        self.assertEqual(self.codes(self.restart()), [("1 BOOT", "")])

    def test_factoryResetAfterSession(self) -> None:
        """A FactoryReset is due after the session, durably, in order with a Reboot."""
        self.state.factoryResetRequested()
        self.state.rebootRequested("x")
        self.assertEqual(self.restart().afterSession(), [["factoryReset"], ["reboot", "x"]])

    def test_scheduledInforms(self) -> None:
        """ScheduleInforms wait durably, then become "3 SCHEDULED" + "M ScheduleInform" when due."""
        self.state.scheduleInform(200.0, "b")
        self.state.scheduleInform(100.0, "a")
        state = self.restart()
        self.assertEqual(state.scheduledInforms(), [(100.0, "a"), (200.0, "b")])
        self.assertEqual(state.scheduledInformDue(50.0), [])
        self.assertEqual(state.scheduledInformDue(150.0), ["a"])
        state = self.restart()
        self.assertEqual(self.codes(state), [("3 SCHEDULED", ""), ("M ScheduleInform", "a")])
        self.assertEqual(state.scheduledInforms(), [(200.0, "b")])

    def test_caps(self) -> None:
        """Queues are capped, the oldest going first and being reported in dropped."""
        for i in range(MAX_SCHEDULED_INFORMS + 2):
            self.state.scheduleInform(float(i), f"s{i}")
        self.assertEqual(len(self.state.scheduledInforms()), MAX_SCHEDULED_INFORMS)
        for i in range(MAX_QUEUED_EVENTS + 5):
            self.state.queueEvent("M X_VENDOR_Thing", str(i))
        self.assertTrue(self.state.dropped)
        self.assertEqual(len(self.state._payload()["events"]), MAX_QUEUED_EVENTS)
        for i in range(MAX_QUEUED_RPCS + 3):
            self.state.addTransferComplete(TransferResult(f"t{i}", "Download"))
        self.assertEqual(len(self.state.queuedRPCs()), MAX_QUEUED_RPCS)
        self.assertEqual(self.state.queuedRPCs()[0][1].result.commandKey, "t3")
        self.assertLessEqual(len(self.state.informContent().events), MAX_EVENTS)

    def test_corruptDocument(self) -> None:
        """A document that is not this state is quarantined by the store and read as a fresh state."""
        self.state.queueEvent("1 BOOT")
        path = self.store.document("cwmp").path
        with open(path) as f:
            wrapper = json.load(f)
        wrapper["payload"]["events"] = "not a list"
        from proxier.store import _digest

        wrapper["sha256"] = _digest(wrapper["payload"])
        with open(path, "w") as f:
            json.dump(wrapper, f)
        state = self.restart()
        self.assertEqual(state.events(), [])
        self.assertTrue(any(".corrupt-" in n for n in os.listdir(self.store.path)))
        self.flushLoggedErrors()
