"""
Tests for TR-330 §4.7.1 (L{proxier.upnpdm.firmware}): Table 3 as data, the
Download's validation, the firmware update driven through the simulator's
real SoftwareManagement:2 (on a clock: fetch, install, the reboot that
forgets OperationIDs), updates started by other control points, and the
proxier dying at each step.
"""

from __future__ import annotations

import datetime
from typing import Any

from twisted.internet import defer
from twisted.trial import unittest

from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.cwmp.transferfaults import faultCodeFor
from proxier.datamodel.values import TransferRequest, TransferResult
from proxier.proxy import transfers
from proxier.sim import firmware as simfirmware
from proxier.sim.sms import ERROR_DESCRIPTIONS as SMS_ERROR_DESCRIPTIONS
from proxier.upnpdm import firmware
from proxier.upnpdm.firmware import (
    ERROR_DESCRIPTIONS,
    TABLE_3_DISK_FULL,
    UPDATE_ERRORS,
    checkDownload,
    resultOf,
    updateRefused,
)
from proxier.upnpdm.settings import UPDATE_LIMIT, ProxySettings
from tests.cwmpxsd import assertValidCWMP
from tests.test_upnpdm_transfer_support import ManagedDevice

BASE = "http://127.0.0.1:8000/"
IMAGES = {
    BASE + "fw-2.0.0.bin": simfirmware.makeImage("2.0.0"),
    BASE + "fw-corrupt.bin": simfirmware.makeImage("2.1.0", corrupt=True),
    BASE + "fw-needs.bin": simfirmware.makeImage("3.0.0", requires="2.5.0"),
    BASE + "fw-3.0.0.bin": simfirmware.makeImage("3.0.0"),
}


def download(key: str = "fw-1", url: str = BASE + "fw-2.0.0.bin", fileType: str = firmware.FIRMWARE,
             delay: int = 0, username: str = "", password: str = "") -> TransferRequest:
    return TransferRequest("Download", key, fileType, url, username, password, fileSize=0, delaySeconds=delay)


def fetcher(uri: str, maxBytes: int) -> defer.Deferred:
    if uri in IMAGES:
        return defer.succeed(IMAGES[uri])
    return defer.fail(ConnectionRefusedError(f"nothing at {uri}"))


def serveImages(device: Any) -> None:
    """The simulated device fetches images from these URLs (its HTTP client, faked)."""
    device.members[0].upnp.sim.setFetcher(fetcher)


def near(testCase: unittest.TestCase, value: float, expected: float, within: float) -> None:
    """C{value} is C{expected} give or take C{within} (the test clock's steps)."""
    testCase.assertLessEqual(abs(value - expected), within, f"{value} is not {expected} ± {within}")


def validTransferComplete(testCase: unittest.TestCase, code: int, text: str = "x") -> None:
    envelope = m.Envelope(m.TransferComplete(TransferResult("k", "Download", code, text)), id="1")
    assertValidCWMP(testCase, codec.encode(envelope))


class Table3Tests(unittest.TestCase):
    """TR-330 Table 3, row by row."""

    def test_updateErrorRows(self) -> None:
        """SMS::Update() rows 701, 702, 704, 705, 710: each is 9001, its FaultString naming the code and text."""
        self.assertEqual(sorted(UPDATE_ERRORS), [701, 702, 704, 705, 710])
        for code, (fault, text) in UPDATE_ERRORS.items():
            self.assertEqual(fault, 9001)
            got = updateRefused(code, "the device's words")
            self.assertEqual(got[0], 9001)
            self.assertIn(f"{code} {text}", got[1])
            self.assertIn("the device's words", got[1])

    def test_otherUpdateError(self) -> None:
        """An Update error Table 3 does not list: 9001 (Table 2's note)."""
        self.assertEqual(updateRefused(501, "")[0], 9001)

    def test_errorDescriptionRows(self) -> None:
        """Every GetOperationInfo ErrorDescription row; AdditionalInfo is the FaultString of a failure."""
        expected = {"Error_None": 0, "Error_ConcurrentAccess": 9001, "Error_MissingDependency": 9001,
                    "Error_Network": 9015, "Error_CorruptedFile": 9018, "Error_DiskFull": TABLE_3_DISK_FULL,
                    "Error_Other": 9001}
        self.assertEqual(dict(ERROR_DESCRIPTIONS), expected)
        self.assertEqual(sorted(ERROR_DESCRIPTIONS), sorted(SMS_ERROR_DESCRIPTIONS))
        for description, code in ERROR_DESCRIPTIONS.items():
            state = "Completed" if code == 0 else "Error"
            self.assertEqual(resultOf(state, description, "details"), (code, "details" if code else ""))

    def test_diskFullChoice(self) -> None:
        """
        Error_DiskFull: Table 3's 9027 makes an invalid TransferComplete in
        the cwmp-1-2 namespace (CWMP 1.2-1.4), so it goes there as 9017
        (issue 17.6; the other namespaces: tests.test_cwmp_transferfaults).
        """
        self.assertEqual(TABLE_3_DISK_FULL, 9027)
        with self.assertRaises(AssertionError):
            validTransferComplete(self, TABLE_3_DISK_FULL)
        self.assertEqual(faultCodeFor(TABLE_3_DISK_FULL, m.DEFAULT_NAMESPACE), 9017)
        validTransferComplete(self, 9017)

    def test_everyCodeValidates(self) -> None:
        """
        Every FaultCode the firmware module can put in a TransferComplete,
        as the session sends it in the default namespace, validates.
        """
        codes = {c for c, _ in UPDATE_ERRORS.values()} | set(ERROR_DESCRIPTIONS.values()) | {9002, 9010}
        for code in codes:
            validTransferComplete(self, faultCodeFor(code, m.DEFAULT_NAMESPACE))

    def test_oddAnswers(self) -> None:
        """The table's "Error Other" spelling; an unknown description; Error with Error_None; empty AdditionalInfo."""
        self.assertEqual(resultOf("Error", "Error Other", "x"), (9001, "x"))
        self.assertEqual(resultOf("Error", "Error_Bananas", "")[0], firmware.UNKNOWN_ERROR_FAULT)
        self.assertEqual(resultOf("Error", "Error_None", "")[0], 9001)
        self.assertEqual(resultOf("Error", "Error_Network", ""), (9015, "Error_Network"))
        self.assertEqual(len(resultOf("Error", "Error_Other", "y" * 1000)[1]), 256)


class CheckDownloadTests(unittest.TestCase):
    def test_accepted(self) -> None:
        """A firmware Download over http or https passes."""
        checkDownload(download())
        checkDownload(download(url="https://files.example/fw.bin"))

    def test_refused(self) -> None:
        """9001 for other FileTypes and credentials; 9013 for other schemes; 9003 for no host or user info."""
        for request, code in ((download(fileType="3 Vendor Configuration File"), 9001),
                              (download(fileType="X 00D0F5 Bundle"), 9001),
                              (download(url="ftp://files.example/fw.bin"), 9013),
                              (download(url="tftp://h/fw"), 9013),
                              (download(url="http:///fw.bin"), 9003),
                              (download(url="http://u:p@files.example/fw.bin"), 9003),
                              (download(username="u", password="p"), 9001)):
            fault = self.assertRaises(firmware.CWMPFault, checkDownload, request)
            self.assertEqual(fault.code, code, request)


class FirmwareCase(unittest.TestCase):
    def setUp(self) -> None:
        self.lab = ManagedDevice(self, setup=serveImages)
        self.sim = self.lab.sim
        self.sim.sms.rebootAfterUpdate = False
        self.lab.clock.advance(1000)

    @property
    def model(self) -> Any:
        return self.lab.model

    def accept(self, request: TransferRequest) -> None:
        self.lab.observer.inSession = True
        self.assertIsNone(self.lab.ok(self.model.download(request)))

    def endSession(self, seconds: float = 5.0) -> None:
        self.lab.observer.inSession = False
        self.lab.advance(seconds)

    def completes(self) -> list[TransferResult]:
        return [c[1] for c in self.lab.told("transferComplete")]

    def at(self, seconds: float) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


class DownloadTests(FirmwareCase):
    def test_success(self) -> None:
        """
        §4.7.1.1-2: Status 1; Update(0, URL, false) after the session; the OperationID's end in the event →
        GetOperationInfo → TransferComplete 0; StartTime when the ID appeared, CompleteTime when it left.
        """
        self.assertIn("Download", self.model.supportedMethods())
        self.assertNotIn("ScheduleDownload", self.model.supportedMethods())
        self.accept(download())
        self.lab.advance(2.0)
        self.assertNotIn("Update", self.lab.calls("sms"), "sent during the session")
        self.lab.observer.inSession = False
        sessionEnd = self.lab.clock.seconds()
        self.lab.advance(0.3)
        [arguments] = [args for s, a, args in self.lab.upnp.calls if a == "Update"]
        self.assertEqual(arguments, {"DUID": 0, "NewDUURI": BASE + "fw-2.0.0.bin", "HandleDependencies": False})
        self.lab.advance(3.0)
        [result] = self.completes()
        self.assertEqual((result.commandKey, result.method, result.faultCode, result.faultString),
                         ("fw-1", "Download", 0, ""))
        self.assertTrue(sessionEnd <= result.startTime.timestamp() <= sessionEnd + 0.3)
        # the operation ran from the Update to the end of the install, as the device timed it (± the
        # test clock's steps)
        near(self, (result.completeTime - result.startTime).total_seconds(),
             self.sim.sms.startDelay + self.sim.sms.installDelay, 0.11)
        self.assertEqual(self.sim.softwareVersion, "2.0.0")
        self.assertIn("GetOperationInfo", self.lab.calls("sms"))

    def test_idleHoldsNothingOfItsOwn(self) -> None:
        """
        Until its first update, a device's firmware service has no saver and shares its empty work and deadline
        mappings (issue 19); a Download makes them, and the stop lets them go.
        """
        firmware = self.lab.device.management.firmware
        self.assertIsNone(firmware._saver)
        self.assertIs(firmware._busy, firmware._deadlines)
        self.accept(download())
        self.lab.observer.inSession = False
        self.lab.advance(0.3)
        self.assertIsNotNone(firmware._saver)
        self.assertEqual(len(firmware._deadlines), 1)
        self.assertIsNot(firmware._busy, firmware._deadlines)
        firmware.stop()
        self.assertEqual((dict(firmware._busy), dict(firmware._deadlines)), ({}, {}))

    def test_delaySeconds(self) -> None:
        """DelaySeconds: Update only that long after the request (and after the session)."""
        self.accept(download(delay=60))
        self.lab.observer.inSession = False
        self.lab.advance(50.0, step=1.0)
        self.assertNotIn("Update", self.lab.calls("sms"))
        self.lab.advance(15.0, step=1.0)
        self.assertIn("Update", self.lab.calls("sms"))

    def test_refusedUpFront(self) -> None:
        """The checks of checkDownload answer the ACS at once; nothing is queued."""
        self.assertEqual(self.lab.fault(self.model.download(download(url="ftp://h/x"))).code, 9013)
        self.assertEqual(self.lab.device.management.queue.jobs, [])

    def test_queueFull(self) -> None:
        """Beyond MAX_TRANSFERS Downloads queued: 9004."""
        for i in range(transfers.MAX_TRANSFERS):
            self.accept(download(key=f"k{i}", delay=10**6))
        self.assertEqual(self.lab.fault(self.model.download(download(key="over"))).code, 9004)

    def test_eventsLost(self) -> None:
        """Without OperationIDs events the GetOperationIDs poll finds the end (CompleteTime: that poll)."""
        self.lab.lose.add("sms")
        self.accept(download())
        self.endSession(5.0)
        self.assertEqual(self.completes(), [])
        self.lab.advance(firmware.POLL_INTERVAL, step=1.0)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 0)
        self.assertIn("GetOperationIDs", self.lab.calls("sms"))

    def test_updateAnswerLost(self) -> None:
        """
        Update taken by the device but its answer lost: the operation (seen appearing in OperationIDs, and
        over by the time the proxier asks again) is adopted, not asked for twice.
        """
        def lose(action: str, out: dict) -> dict:
            if action == "Update":
                self.lab.upnp.rewrite = None
                raise ConnectionResetError("answer lost")
            return out

        self.lab.upnp.rewrite = lose
        self.accept(download())
        self.endSession(firmware.RETRY_DELAY + 10)
        self.assertEqual(self.lab.calls("sms").count("Update"), 1)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 0)

    def test_updateNeverAnswered(self) -> None:
        """Update never answered: asked ATTEMPTS times, then 9002."""
        self.lab.upnp.hang.add("Update")
        self.accept(download())
        self.endSession((firmware.RETRY_DELAY + 12) * firmware.ATTEMPTS)
        self.assertEqual(self.lab.calls("sms").count("Update"), firmware.ATTEMPTS)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 9002)

    def test_neverEnds(self) -> None:
        """An operation that never ends: 9002 after UPDATE_LIMIT, once."""
        self.sim.sms.installDelay = 10**7
        self.accept(download())
        self.endSession(UPDATE_LIMIT + 10)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 9002)

    def test_updateLimitFromConfig(self) -> None:
        """C{[upnp] firmware_update_limit} bounds the wait: 9002 once it has passed, not before."""
        self.lab = ManagedDevice(self, setup=serveImages, settings=ProxySettings(firmwareUpdateLimit=600))
        self.sim = self.lab.sim
        self.sim.sms.installDelay = 10**7
        self.lab.clock.advance(1000)
        self.accept(download())
        self.endSession(590)
        self.assertEqual(self.completes(), [])
        self.endSession(20)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 9002)
        self.assertIn("600 s", result.faultString)

    def test_lyingOperationID(self) -> None:
        """An OperationID that is not one: 9002, logged."""
        self.lab.upnp.rewrite = lambda action, out: dict(out, OperationID="soon") if action == "Update" else out
        self.accept(download())
        self.endSession(1.0)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 9002)


def _updateErrorRow(code: int) -> Any:
    def test(self: FirmwareCase) -> None:
        self.sim.sms.updateError = code
        self.accept(download())
        self.endSession(1.0)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 9001)
        self.assertIn(f"{code} {UPDATE_ERRORS[code][1]}", result.faultString)

    test.__doc__ = f"Table 3: SMS Update answers {code} ({UPDATE_ERRORS[code][1]}) → TransferComplete 9001 at once."
    return test


def _descriptionRow(description: str, code: int) -> Any:
    def test(self: FirmwareCase) -> None:
        self.sim.sms.updateOutcome = description
        self.sim.sms.updateOutcomeInfo = f"forced {description}"
        self.accept(download())
        self.endSession(4.0)
        [result] = self.completes()
        self.assertEqual(result.faultCode, code)
        self.assertEqual(result.faultString, "" if code == 0 else f"forced {description}")

    test.__doc__ = (f"Table 3: GetOperationInfo ErrorDescription {description} → TransferComplete {code}, "
                    "AdditionalInfo as FaultString.")
    return test


class Table3RowsThroughTheSimulator(FirmwareCase):
    """TR-330 Table 3, every row, each made by the simulated device (knobs updateError and updateOutcome)."""


for _code in UPDATE_ERRORS:
    setattr(Table3RowsThroughTheSimulator, f"test_update{_code}", _updateErrorRow(_code))
for _description, _fault in ERROR_DESCRIPTIONS.items():
    setattr(Table3RowsThroughTheSimulator, f"test_{_description}", _descriptionRow(_description, _fault))


class NaturalFailuresTests(FirmwareCase):
    def test_corruptImage(self) -> None:
        """A corrupted image (the device's own check): Error_CorruptedFile → 9018 with the device's reason."""
        self.accept(download(url=BASE + "fw-corrupt.bin"))
        self.endSession(4.0)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 9018)
        self.assertIn("sha256", result.faultString)

    def test_unreachableServer(self) -> None:
        """The device cannot fetch the image: Error_Network → 9015."""
        self.accept(download(url=BASE + "missing.bin"))
        self.endSession(4.0)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 9015)

    def test_missingDependency(self) -> None:
        """An image needing another version first: Error_MissingDependency → 9001."""
        self.accept(download(url=BASE + "fw-needs.bin"))
        self.endSession(4.0)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 9001)


class RebootTests(FirmwareCase):
    def setUp(self) -> None:
        super().setUp()
        self.sim.sms.rebootAfterUpdate = True

    def test_rebootForgetsTheOperation(self) -> None:
        """
        Figure 8 exception 2: the device installs by rebooting and forgets the OperationID; the version
        (GetDUInfo) changed → success; CompleteTime is the ssdp:alive's time; "1 BOOT" told as well.
        """
        self.accept(download())
        self.lab.observer.inSession = False
        self.lab.advance(0.3)
        self.lab.advance(self.sim.sms.startDelay + self.sim.sms.installDelay + self.sim.rebootDelay + 0.1)
        self.assertEqual(self.sim.state, "down")
        self.assertEqual(self.completes(), [])
        self.lab.advance(self.sim.downtime)
        self.lab.advance(2.0)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 0)
        near(self, result.completeTime.timestamp(), self.sim.bootTime, 0.001)  # the alive that brought it back
        self.assertIn(("deviceBooted",), self.lab.observer.calls)
        self.assertEqual(self.sim.softwareVersion, "2.0.0")

    def test_rolledBack(self) -> None:
        """The device reboots but still runs the old version (rolled back): 9010, saying so."""
        self.accept(download())
        self.lab.observer.inSession = False
        self.lab.advance(0.3 + self.sim.sms.startDelay + self.sim.sms.installDelay + 0.05)
        self.assertIsNotNone(self.sim.sms.pendingImage)
        self.sim.sms.pendingImage = None  # the new image fails at boot; the old one runs on
        self.lab.advance(self.sim.rebootDelay + self.sim.downtime + 2.0)
        [result] = self.completes()
        self.assertEqual(result.faultCode, 9010)
        self.assertIn("1.0.0", result.faultString)


class AutonomousTests(FirmwareCase):
    def autonomous(self) -> list:
        return [c[1] for c in self.lab.told("autonomousTransferComplete")]

    def test_followedAndReported(self) -> None:
        """
        §4.7.1.3: another control point's Update of DUID 0 is followed from its OperationIDs event and
        reported with AnnounceURL "", TransferURL = DUURI, IsDownload, the firmware FileType, the data
        model's Size, TargetFileName "", StartTime/CompleteTime as observed.
        """
        started = self.lab.clock.seconds()
        self.sim.sms.startAutonomousUpdate(BASE + "fw-2.0.0.bin")
        self.lab.advance(3.0)
        [result] = self.autonomous()
        self.assertEqual((result.announceURL, result.transferURL, result.isDownload, result.fileType,
                          result.targetFileName, result.faultCode),
                         ("", BASE + "fw-2.0.0.bin", True, "1 Firmware Upgrade Image", "", 0))
        self.assertEqual(result.fileSize, len(IMAGES[BASE + "fw-2.0.0.bin"]))
        near(self, result.startTime.timestamp(), started, 0.1)
        self.assertGreater(result.completeTime, result.startTime)
        self.assertEqual(self.completes(), [])
        self.assertEqual(self.lab.device.management.firmware.autonomous, [])

    def test_failureReported(self) -> None:
        """An autonomous update that fails: its Table 3 code and AdditionalInfo."""
        self.sim.sms.startAutonomousUpdate(BASE + "fw-corrupt.bin")
        self.lab.advance(3.0)
        [result] = self.autonomous()
        self.assertEqual(result.faultCode, 9018)

    def test_sizeOfUnicodeDigits(self) -> None:
        """
        A DU Size of Unicode digits ('²' passed isdigit() and raised ValueError
        from int(), losing the report) is no size: the update is reported,
        with FileSize 0; a size of 30 digits is capped at 2^32-1.
        """
        import re

        for size, expected in (("²", 0), ("١٢", 0), ("9" * 30, 2**32 - 1)):
            def rewrite(action: str, out: dict, size: str = size) -> dict:
                if action == "GetValues" and "Software/DU/0/Size" in out.get("ParameterValueList", ""):
                    out = dict(out, ParameterValueList=re.sub(
                        r"(DU/0/Size</ParameterPath>\s*<Value>)[^<]*", lambda m: m.group(1) + size,
                        out["ParameterValueList"]))
                return out

            self.lab.upnp.rewrite = rewrite
            before = len(self.autonomous())
            self.sim.sms.startAutonomousUpdate(BASE + "fw-2.0.0.bin")
            self.lab.advance(3.0)
            results = self.autonomous()
            self.assertEqual(len(results), before + 1, size)
            self.assertEqual(results[-1].fileSize, expected, size)
            self.lab.upnp.rewrite = lambda action, out: out

    def test_withReboot(self) -> None:
        """An autonomous update that reboots the device: the version tells the outcome; CompleteTime the alive."""
        self.sim.sms.rebootAfterUpdate = True
        self.sim.sms.startAutonomousUpdate(BASE + "fw-3.0.0.bin")
        self.lab.advance(self.sim.sms.startDelay + self.sim.sms.installDelay + self.sim.rebootDelay
                         + self.sim.downtime + 2.0)
        [result] = self.autonomous()
        self.assertEqual((result.faultCode, result.transferURL), (0, BASE + "fw-3.0.0.bin"))

    def test_ownUpdateIsNotAutonomous(self) -> None:
        """The proxier's own Update is never reported as autonomous."""
        self.accept(download())
        self.endSession(4.0)
        self.assertEqual(len(self.completes()), 1)
        self.assertEqual(self.autonomous(), [])

    def test_otherOperationsIgnored(self) -> None:
        """An operation that is not an Update of DUID 0 (Start of EU 0) is asked about once and not followed."""
        self.sim.sms.action_Start(0, False)
        self.lab.advance(2.0)
        self.sim.sms.startAutonomousUpdate(BASE + "fw-2.0.0.bin")
        self.lab.advance(3.0)
        self.assertEqual(len(self.autonomous()), 1)
        self.assertEqual(self.lab.calls("sms").count("GetOperationInfo"), 1 + 1 + 1)  # Start; Update; its end

    def test_survivesRestart(self) -> None:
        """Followed before a proxier restart, reported after it, once, with the StartTime seen before."""
        self.sim.sms.installDelay = 30.0
        started = self.lab.clock.seconds()
        self.sim.sms.startAutonomousUpdate(BASE + "fw-2.0.0.bin")
        self.lab.advance(1.0)
        self.assertEqual(len(self.lab.device.management.firmware.autonomous), 1)
        again = self.lab.restartProxier()
        again.advance(35.0, step=0.5)
        [result] = [c[1] for c in again.told("autonomousTransferComplete")]
        near(self, result.startTime.timestamp(), started, 0.1)
        self.assertEqual(self.autonomous(), [])

    def test_forgottenAfterLimit(self) -> None:
        """An autonomous update whose end is never seen is forgotten after AUTONOMOUS_LIMIT, unreported."""
        self.sim.sms.installDelay = 10**7
        self.sim.sms.startAutonomousUpdate(BASE + "fw-2.0.0.bin")
        self.lab.advance(1.0)
        self.assertEqual(len(self.lab.device.management.firmware.autonomous), 1)
        self.lab.advance(firmware.AUTONOMOUS_LIMIT + 2 * firmware.POLL_INTERVAL, step=60.0)
        self.assertEqual(self.lab.device.management.firmware.autonomous, [])
        self.assertEqual(self.autonomous(), [])

    def test_bounded(self) -> None:
        """More simultaneous autonomous updates than MAX_AUTONOMOUS are not all followed (nothing piles up)."""
        firmwareService = self.lab.device.management.firmware
        firmwareService.operationIDs(set(range(100, 100 + 3 * firmware.MAX_AUTONOMOUS)), self.lab.clock.seconds())
        self.lab.advance(1.0)
        self.assertLessEqual(len(firmwareService.autonomous), firmware.MAX_AUTONOMOUS)


class DurabilityTests(FirmwareCase):
    """The proxier dies at each step of a Download: the TransferComplete still comes, once."""

    def restart(self) -> ManagedDevice:
        again = self.lab.restartProxier(setup=serveImages)
        return again

    def once(self, lab: ManagedDevice) -> TransferResult:
        results = [c[1] for c in lab.told("transferComplete")]
        self.assertEqual(len(results), 1, results)
        self.assertEqual(self.completes(), [])
        return results[0]

    def test_killedWhileWaiting(self) -> None:
        """Killed during the DelaySeconds: the new proxier updates once, after the delay, and reports."""
        self.accept(download(delay=30))
        self.lab.observer.inSession = False
        self.lab.advance(10.0)
        again = self.restart()
        again.advance(10.0)
        self.assertEqual(again.calls("sms").count("Update"), 0)
        again.advance(15.0)
        self.assertEqual(again.calls("sms").count("Update"), 1)
        self.assertEqual(self.once(again).faultCode, 0)

    def test_killedDuringUpdate(self) -> None:
        """Killed with Update unanswered: the device never took it, so the new proxier sends it, once."""
        self.lab.upnp.hang.add("Update")
        self.accept(download())
        self.endSession(0.5)
        again = self.restart()
        again.advance(5.0)
        self.assertEqual(again.calls("sms").count("Update"), 1)
        self.assertEqual(self.once(again).faultCode, 0)

    def test_killedAfterUpdateTaken(self) -> None:
        """Killed after the device took Update but before its answer was saved: adopted, not sent twice."""
        self.sim.sms.installDelay = 20.0
        self.updateTakenAnswerLost()
        again = self.restart()
        again.advance(25.0, step=0.5)
        self.assertEqual(again.calls("sms").count("Update"), 0)
        self.assertEqual(self.once(again).faultCode, 0)

    def test_killedAfterUpdateTakenThenRebooted(self) -> None:
        """
        Killed after the device took Update but before its answer was saved, and the device installed by
        rebooting meanwhile (forgetting the OperationID): the new version says it worked — not sent twice.
        """
        self.sim.sms.rebootAfterUpdate = True
        updates = self.countUpdates()
        self.updateTakenAnswerLost()
        self.installedWhileStopped()
        again = self.restart()
        again.advance(5.0)
        self.assertEqual(len(updates), 1)
        self.assertEqual(self.once(again).faultCode, 0)

    def test_killedDuringUpdateNotTaken(self) -> None:
        """The same restart when the device never took the Update (same version): it is sent, once."""
        self.lab.upnp.hang.add("Update")
        updates = self.countUpdates()
        self.accept(download())
        self.endSession(0.5)
        self.lab.stopProxier()
        self.assertEqual((updates, self.sim.softwareVersion), ([], "1.0.0"))
        again = self.restart()
        again.advance(5.0)
        self.assertEqual(len(updates), 1)
        self.assertEqual(self.once(again).faultCode, 0)

    def installedWhileStopped(self) -> None:
        """The proxier stops; meanwhile the device installs the image and reboots (forgetting the OperationID)."""
        self.lab.stopProxier()
        self.lab.advance(self.sim.sms.startDelay + self.sim.sms.installDelay + self.sim.rebootDelay
                         + self.sim.downtime + 1.0)
        self.assertEqual(self.sim.softwareVersion, "2.0.0")

    def updateTakenAnswerLost(self) -> None:
        """A Download whose Update the device took, but whose answer never made it to the proxier's disk."""
        self.accept(download())
        self.lab.observer.inSession = False
        self.lab.advance(0.3)
        jobs = self.lab.device.management.queue.jobs
        jobs[0]["data"].update(step="updating", operationId=None)
        self.lab.device.management.queue.save()

    def countUpdates(self) -> list:
        """The URIs of every SMS Update the simulated device itself is asked for, whichever proxier asks."""
        updates: list = []
        original = self.sim.sms.update

        def counted(duid: int, uri: str, handleDependencies: bool = False) -> Any:
            updates.append(uri)
            return original(duid, uri, handleDependencies)

        self.sim.sms.update = counted  # type: ignore[method-assign]
        return updates

    def test_killedWhileOperating(self) -> None:
        """Killed while the operation runs: the new proxier follows the same OperationID to its end."""
        self.sim.sms.installDelay = 20.0
        self.accept(download())
        self.endSession(2.0)
        again = self.restart()
        again.advance(25.0, step=0.5)
        self.assertEqual(again.calls("sms").count("Update"), 0)
        result = self.once(again)
        self.assertEqual(result.faultCode, 0)
        self.assertLess(result.startTime, self.at(again.clock.seconds() - 20))

    def test_rebootedWhileDown(self) -> None:
        """The device installed and rebooted while the proxier was down: the version says it worked."""
        self.sim.sms.rebootAfterUpdate = True
        self.accept(download())
        self.endSession(0.4)
        self.installedWhileStopped()
        again = self.restart()
        again.advance(3.0)
        self.assertEqual(self.once(again).faultCode, 0)

    def test_killedBeforeReporting(self) -> None:
        """Ended with no endpoint listening, then killed: the new proxier reports it, once."""
        lab = ManagedDevice(self, setup=serveImages, observe=False)
        lab.sim.sms.rebootAfterUpdate = False
        lab.clock.advance(1000)
        lab.ok(lab.model.download(download()))
        lab.advance(4.0)
        self.assertEqual(lab.device.management.queue.jobs[0]["phase"], "reporting")
        again = lab.restartProxier(setup=serveImages)
        self.assertEqual(len(again.told("transferComplete")), 1)
        self.assertEqual(again.device.management.queue.jobs, [])
