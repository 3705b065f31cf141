"""
TR-330 §4.7.1 end to end over real loopback sockets: the proxier's tree, a
simulated UPnP DM device (its SMS fetching images over HTTP from a file
server on 127.0.0.1), the fake ACS — every CWMP message validated against
the BBF schema. A Download that reboots the device, every row of Table 3,
ScheduleDownload refused, and updates by another control point under each
AutonomousTransferCompletePolicy and with an ACS that lacks the RPC.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet import defer
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.cwmp.fakeacs import GENIEACS_METHODS
from proxier.cwmp.transferfaults import faultCodeFor
from proxier.datamodel.values import ParameterValue, TransferRequest
from proxier.sim import firmware as simfirmware
from proxier.upnpdm.firmware import ERROR_DESCRIPTIONS, UPDATE_ERRORS
from tests.test_upnpdm_e2e import Lab, answers, events, sleep, waitFor
from tests.test_upnpdm_transfer_support import FileServer

POLICY = "Device.ManagementServer.AutonomousTransferCompletePolicy."


def images(testCase: unittest.TestCase) -> tuple[FileServer, str]:
    server = FileServer()
    base = server.listen(testCase)
    server.files["/fw-2.0.0.bin"] = simfirmware.makeImage("2.0.0")
    server.files["/fw-3.0.0.bin"] = simfirmware.makeImage("3.0.0")
    server.files["/fw-corrupt.bin"] = simfirmware.makeImage("2.1.0", corrupt=True)
    return server, base


def firmwareDownload(key: str, url: str) -> m.Download:
    return m.Download(TransferRequest("Download", key, "1 Firmware Upgrade Image", url))


class FirmwareE2ETests(unittest.TestCase):
    timeout = 180

    @defer.inlineCallbacks
    def download(self, lab: Lab, key: str, url: str) -> Any:
        """A Download in one session (Status 1); then the session with its TransferComplete, returned."""
        before = len(lab.sessions())
        session = yield lab.session([firmwareDownload(key, url)])
        [answer] = answers(session)
        self.assertIsInstance(answer, m.DownloadResponse)
        self.assertEqual(answer.status, 1)
        yield waitFor(lambda: any(self.completeOf(s, key) for s in lab.sessions()[before + 1:]),
                      what=f"the TransferComplete of {key}")
        yield waitFor(lab.ended(0, len(lab.sessions())))
        session = [s for s in lab.sessions()[before + 1:] if self.completeOf(s, key)][0]
        return session, self.completeOf(session, key)

    @staticmethod
    def completeOf(session: Any, key: str) -> Optional[Any]:
        for message in session.received:
            if isinstance(message, m.TransferComplete) and message.result.commandKey == key:
                return message.result
        return None

    @defer.inlineCallbacks
    def test_downloadReboots(self) -> None:
        """
        The image is installed by a reboot that forgets the OperationID: "1 BOOT", "7 TRANSFER COMPLETE",
        "M Download" with the CommandKey, fault 0, and the new SoftwareVersion in the Inform.
        """
        server, base = images(self)
        lab = yield Lab(self).start()
        session, result = yield self.download(lab, "fw-1", base + "/fw-2.0.0.bin")
        self.assertEqual(result.faultCode, 0)
        self.assertIn("7 TRANSFER COMPLETE", events(session))
        self.assertEqual([e.commandKey for e in session.inform.events if e.code == "M Download"], ["fw-1"])
        self.assertIn("1 BOOT", [e for s in lab.sessions()[2:] for e in events(s)])
        self.assertLess(result.startTime, result.completeTime)
        self.assertEqual([("GET", "/fw-2.0.0.bin")], [(m_, p) for m_, p, _ in server.requests])
        yield waitFor(lambda: lab.sim().softwareVersion == "2.0.0")
        after = yield lab.session([m.GetParameterValues(("Device.DeviceInfo.SoftwareVersion",))])
        self.assertEqual(answers(after)[0].parameters[0].value, "2.0.0")

    @defer.inlineCallbacks
    def test_table3(self) -> None:
        """
        Every row of TR-330 Table 3, made by the device, reaches the ACS as its TransferComplete FaultCode
        (the ACS sends each next Download in the session that brings the previous TransferComplete, and in no other).
        """
        server, base = images(self)
        lab = yield Lab(self).start()
        sms = lab.sim().sms
        sms.rebootAfterUpdate = False
        plan: list[tuple[str, Any, int]] = []

        def updateError(code: int) -> Any:
            return lambda: setattr(sms, "updateError", code)

        def outcome(description: str) -> Any:
            def apply() -> None:
                sms.updateError = None
                sms.updateOutcome = description
                sms.updateOutcomeInfo = f"the device says {description}"
            return apply

        for code, (fault, _) in UPDATE_ERRORS.items():
            plan.append((f"u{code}", updateError(code), fault))
        for description, fault in ERROR_DESCRIPTIONS.items():
            plan.append((description[6:], outcome(description), fault))
        sent: list[Any] = []

        def script(session: Any, last: Any) -> Any:
            if len(sent) == len(plan) or (sent and sent[-1] is session):
                return None
            # only once the previous update has ended: a session of another cause (the "4 VALUE CHANGE"
            # of SoftwareVersion after a successful row) must not change the outcome of an update in progress
            if sent and not self.completeOf(session, plan[len(sent) - 1][0]):
                return None
            key, apply, _ = plan[len(sent)]
            apply()
            sent.append(session)
            return firmwareDownload(key, base + "/fw-2.0.0.bin")

        lab.acs.script(script, lab.name())
        status = yield lab.connectionRequest()
        self.assertEqual(status, 200)
        yield waitFor(lambda: all(any(self.completeOf(s, key) for s in lab.sessions()) for key, _, _ in plan),
                      timeout=120, what="every TransferComplete")
        for key, _, fault in plan:
            [result] = [self.completeOf(s, key) for s in lab.sessions() if self.completeOf(s, key)]
            self.assertEqual(result.faultCode, faultCodeFor(fault, m.DEFAULT_NAMESPACE), key)
            if key.startswith("u"):
                self.assertIn(key[1:], result.faultString)
            else:
                self.assertEqual(result.faultString, "" if not fault else f"the device says Error_{key}")

    @defer.inlineCallbacks
    def diskFull(self, namespace: Optional[str]) -> Any:
        """A Download the device ends with Error_DiskFull, the ACS speaking C{namespace}: its TransferComplete."""
        server, base = images(self)
        lab = yield Lab(self, namespace=namespace).start()
        sms = lab.sim().sms
        sms.rebootAfterUpdate = False
        sms.updateOutcome = "Error_DiskFull"
        sms.updateOutcomeInfo = "no room for the image"
        session, result = yield self.download(lab, "full", base + "/fw-2.0.0.bin")
        self.assertEqual(result.faultString, "no room for the image")
        self.assertEqual(session.namespace, namespace or m.DEFAULT_NAMESPACE)
        return result

    @defer.inlineCallbacks
    def test_diskFullNamespace12(self) -> None:
        """
        Issue 17.6: TR-330 Table 3's 9027 for Error_DiskFull is not in the
        cwmp-1-2 namespace's TransferComplete FaultCodes (CWMP 1.2-1.4):
        9017 is sent, valid under cwmp-1-4.xsd (the fake ACS validates).
        """
        result = yield self.diskFull(None)
        self.assertEqual(result.faultCode, 9017)

    @defer.inlineCallbacks
    def test_diskFullNamespace11(self) -> None:
        """Issue 17.6: an ACS speaking cwmp-1-1 gets Table 3's 9027 itself, valid under cwmp-1-1.xsd."""
        result = yield self.diskFull("urn:dslforum-org:cwmp-1-1")
        self.assertEqual(result.faultCode, 9027)

    @defer.inlineCallbacks
    def test_scheduleDownloadNotOffered(self) -> None:
        """§4.7.1.1: ScheduleDownload is answered 9000 and not listed in GetRPCMethods; Download is."""
        lab = yield Lab(self).start()
        request = TransferRequest("ScheduleDownload", "s", "1 Firmware Upgrade Image", "http://127.0.0.1:9/x")
        session = yield lab.session([m.GetRPCMethods(), m.ScheduleDownload(request, (m.TimeWindow(0, 3600, "1 At Any Time", "", -1),))])
        methods, scheduled = answers(session)
        self.assertIn("Download", methods.methods)
        self.assertIn("Upload", methods.methods)
        self.assertNotIn("ScheduleDownload", methods.methods)
        self.assertEqual(scheduled.fault.code, 9000)


class AutonomousE2ETests(unittest.TestCase):
    timeout = 180

    @defer.inlineCallbacks
    def setPolicy(self, lab: Lab, enable: bool, results: str = "Both") -> Any:
        yield lab.session([m.SetParameterValues((
            ParameterValue(POLICY + "Enable", "true" if enable else "false", "xsd:boolean"),
            ParameterValue(POLICY + "ResultTypeFilter", results),
            ParameterValue(POLICY + "FileTypeFilter", "1 Firmware Upgrade Image")), "policy")])

    @defer.inlineCallbacks
    def updateByAnotherControlPoint(self, lab: Lab, url: str) -> Any:
        """Another control point updates the firmware; wait until the proxier has seen it end."""
        device = lab.upnpdm.devices[lab.sim().identity.deviceIdentity.key]
        lab.sim().sms.rebootAfterUpdate = False
        lab.sim().sms.startAutonomousUpdate(url)
        yield waitFor(lambda: bool(device.management.firmware.autonomous), what="the update followed")
        yield waitFor(lambda: not device.management.firmware.autonomous, what="the update's end seen")
        yield sleep(1.0)

    @staticmethod
    def autonomous(lab: Lab) -> list:
        return [msg.result for s in lab.sessions() for msg in s.received
                if isinstance(msg, m.AutonomousTransferComplete)]

    @defer.inlineCallbacks
    def test_policyOn(self) -> None:
        """Policy enabled for firmware: "10 AUTONOMOUS TRANSFER COMPLETE" and the RPC with §4.7.1.3's fields."""
        server, base = images(self)
        lab = yield Lab(self).start()
        yield self.setPolicy(lab, True)
        yield self.updateByAnotherControlPoint(lab, base + "/fw-3.0.0.bin")
        yield waitFor(lambda: bool(self.autonomous(lab)), what="the AutonomousTransferComplete")
        [result] = self.autonomous(lab)
        self.assertEqual((result.announceURL, result.transferURL, result.isDownload, result.fileType,
                          result.targetFileName, result.faultCode),
                         ("", base + "/fw-3.0.0.bin", True, "1 Firmware Upgrade Image", "", 0))
        self.assertEqual(result.fileSize, len(server.files["/fw-3.0.0.bin"]))
        session = [s for s in lab.sessions() if "10 AUTONOMOUS TRANSFER COMPLETE" in events(s)]
        self.assertEqual(len(session), 1)

    @defer.inlineCallbacks
    def test_policyOff(self) -> None:
        """Policy disabled (the default): nothing reported, nothing left queued."""
        server, base = images(self)
        lab = yield Lab(self).start()
        yield self.updateByAnotherControlPoint(lab, base + "/fw-2.0.0.bin")
        self.assertEqual(self.autonomous(lab), [])
        self.assertNotIn("10 AUTONOMOUS TRANSFER COMPLETE", [e for s in lab.sessions() for e in events(s)])
        self.assertEqual(lab.endpoint().state.queuedRPCs(), [])

    @defer.inlineCallbacks
    def test_filteredByResult(self) -> None:
        """ResultTypeFilter Failure: a successful update is not reported; a failed one is (9018)."""
        server, base = images(self)
        lab = yield Lab(self).start()
        yield self.setPolicy(lab, True, results="Failure")
        yield self.updateByAnotherControlPoint(lab, base + "/fw-2.0.0.bin")
        self.assertEqual(self.autonomous(lab), [])
        yield self.updateByAnotherControlPoint(lab, base + "/fw-corrupt.bin")
        yield waitFor(lambda: bool(self.autonomous(lab)), what="the failure reported")
        self.assertEqual([r.faultCode for r in self.autonomous(lab)], [9018])

    @defer.inlineCallbacks
    def test_acsWithoutTheRPC(self) -> None:
        """An ACS without AutonomousTransferComplete (GenieACS's methods): never sent, nothing piles up."""
        server, base = images(self)
        lab = yield Lab(self, methods=GENIEACS_METHODS).start()
        yield self.setPolicy(lab, True)
        yield self.updateByAnotherControlPoint(lab, base + "/fw-2.0.0.bin")
        yield self.updateByAnotherControlPoint(lab, base + "/fw-3.0.0.bin")
        yield sleep(1.0)
        self.assertEqual(self.autonomous(lab), [])
        self.assertEqual(lab.endpoint().state.queuedRPCs(), [])
        self.assertFalse(lab.endpoint().state.hasPending())
