"""Tests for L{proxier.sim.sms}: SoftwareManagement:2 firmware operations and every outcome of TR-330 Table 3."""

from __future__ import annotations

from twisted.internet import task
from twisted.trial import unittest

from proxier.sim import sms as S
from proxier.sim.errors import ActionError
from proxier.sim.firmware import makeImage

from tests.test_sim_fakes import FakeFetcher, invoke

URI = "http://192.168.1.5:8080/fw/2.0.0.bin"


class StubDevice:
    def __init__(self) -> None:
        self.softwareVersion = "1.0.0"
        self.fetcher = FakeFetcher()
        self.reboots: list[str] = []
        self.installed: list[tuple[str, str, int]] = []

    def fetch(self, uri: str):
        return self.fetcher(uri, 8 * 1024 * 1024 + 1)

    def requestReboot(self, reason: str) -> None:
        self.reboots.append(reason)

    def firmwareInstalled(self, version: str, uri: str, size: int) -> None:
        self.softwareVersion = version
        self.installed.append((version, uri, size))


class SMSTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.device = StubDevice()
        self.sms = S.SoftwareManagement(self.device, self.clock)
        self.sms.rebootAfterUpdate = False
        self.events: list[list[tuple[str, str]]] = []
        self.sms.addListener(self.events.append)
        self.device.fetcher.files[URI] = makeImage("2.0.0", requires="1.0.0")

    def code(self, action: str, **arguments) -> int:
        with self.assertRaises(ActionError) as caught:
            invoke(self.sms, action, **arguments)
        return caught.exception.code

    def update(self, uri: str = URI) -> int:
        return int(invoke(self.sms, "Update", DUID=0, NewDUURI=uri, HandleDependencies=False)["OperationID"])

    def info(self, operationId: int) -> dict:
        return invoke(self.sms, "GetOperationInfo", OperationID=operationId)

    def finish(self) -> None:
        self.clock.advance(self.sms.startDelay)
        self.clock.advance(self.sms.installDelay)

    def operationIDsEvents(self) -> list[str]:
        return [value for event in self.events for name, value in event if name == "OperationIDs"]


class UpdateTests(SMSTestCase):
    def test_success(self) -> None:
        """Update of DUID 0: Requested, InProgress, Completed with Error_None; OperationIDs events in and out."""
        opId = self.update()
        self.assertEqual(self.info(opId), {"OperationState": "Requested", "TargetedIDs": "0", "Action": "Update",
                                           "ErrorDescription": "Error_None", "AdditionalInfo": ""})
        self.assertEqual(invoke(self.sms, "GetOperationIDs"), {"OperationIDs": str(opId)})
        self.clock.advance(self.sms.startDelay)
        self.assertEqual(self.info(opId)["OperationState"], "InProgress")
        self.assertEqual(invoke(self.sms, "GetDUInfo", DUID=0)["DUState"], "Installing")
        self.assertEqual(invoke(self.sms, "GetRunningEUIDs"), {"RunningEUIDs": ""})
        self.clock.advance(self.sms.installDelay)
        self.assertEqual(self.info(opId)["OperationState"], "Completed")
        self.assertEqual(self.device.installed, [("2.0.0", URI, len(self.device.fetcher.files[URI]))])
        self.assertEqual(self.operationIDsEvents(), [str(opId), ""])
        self.assertEqual(invoke(self.sms, "GetOperationIDs"), {"OperationIDs": ""})
        du = invoke(self.sms, "GetDUInfo", DUID=0)
        self.assertEqual((du["DUVersion"], du["DUState"], du["DUURI"], du["DUType"]), ("2.0.0", "Installed", URI, "Firmware"))
        self.assertEqual(invoke(self.sms, "GetEUInfo", EUID=0)["EURunningState"], "Running")

    def test_updateErrorsTable3(self) -> None:
        """Update() refuses with each code of TR-330 Table 3: 701, 702, 704, 705, 710."""
        self.assertEqual(self.code("Update", DUID=3, NewDUURI=URI, HandleDependencies=False), 705)
        self.assertEqual(self.code("Update", DUID=0, NewDUURI="not a uri", HandleDependencies=False), 701)
        self.assertEqual(self.code("Update", DUID=0, NewDUURI="http://h:99999/x", HandleDependencies=False), 701)
        self.assertEqual(self.code("Update", DUID=0, NewDUURI="ftp://h/x", HandleDependencies=False), 710)
        self.assertEqual(self.code("Update", DUID=0, NewDUURI=URI, HandleDependencies=True), 702)
        self.update()
        self.assertEqual(self.code("Update", DUID=0, NewDUURI=URI, HandleDependencies=False), 704)

    def test_forcedUpdateErrors(self) -> None:
        """The updateError knob makes Update() fail with any code of Table 3."""
        for forced in (701, 702, 704, 705, 710):
            self.sms.updateError = forced
            self.assertEqual(self.code("Update", DUID=0, NewDUURI=URI, HandleDependencies=False), forced)

    def test_honorsDependencies(self) -> None:
        """A device that handles dependencies accepts HandleDependencies=1."""
        self.sms.honorsDependencies = True
        self.assertTrue(int(invoke(self.sms, "Update", DUID=0, NewDUURI=URI, HandleDependencies=True)["OperationID"]))

    def outcome(self, uri: str) -> dict:
        opId = self.update(uri)
        self.finish()
        return self.info(opId)

    def test_errorDescriptionsTable3(self) -> None:
        """Each ErrorDescription of TR-330 Table 3 comes from a natural cause, with an AdditionalInfo."""
        f = self.device.fetcher.files
        f["http://192.168.1.5/corrupt"] = makeImage("2.0.0", corrupt=True)
        f["http://192.168.1.5/needs"] = makeImage("3.0.0", requires="2.5.0")
        f["http://192.168.1.5/big"] = makeImage("2.0.0", payload=b"x" * 1000)
        f["http://192.168.1.5/gone"] = ConnectionRefusedError("refused")
        self.sms.diskFree = 500
        for uri, description in (("http://192.168.1.5/corrupt", "Error_CorruptedFile"),
                                 ("http://192.168.1.5/needs", "Error_MissingDependency"),
                                 ("http://192.168.1.5/big", "Error_DiskFull"),
                                 ("http://192.168.1.5/gone", "Error_Network")):
            result = self.outcome(uri)
            self.assertEqual((result["OperationState"], result["ErrorDescription"]), ("Error", description), uri)
            self.assertTrue(result["AdditionalInfo"])
        self.assertEqual(self.device.installed, [])

    def test_tooBigForTheFetcher(self) -> None:
        """An image the fetcher stops reading for its size is Error_DiskFull too."""
        self.device.fetcher.files[URI] = b"x" * (8 * 1024 * 1024 + 2)
        self.assertEqual(self.outcome(URI)["ErrorDescription"], "Error_DiskFull")

    def test_forcedOutcomes(self) -> None:
        """The updateOutcome knob produces every ErrorDescription of the SMS:2 list, Error_None included."""
        for description in S.ERROR_DESCRIPTIONS:
            self.sms.updateOutcome = description
            result = self.outcome(URI)
            expected = "Completed" if description == "Error_None" else "Error"
            self.assertEqual((result["OperationState"], result["ErrorDescription"]), (expected, description))
        self.sms.updateOutcome = "Error_Other"
        self.sms.updateOutcomeInfo = "flash write failed"
        self.assertEqual(self.outcome(URI)["AdditionalInfo"], "flash write failed")

    def test_rebootAfterUpdate(self) -> None:
        """With rebootAfterUpdate, a good image asks for a reboot; after it the version runs, the ID is forgotten."""
        self.sms.rebootAfterUpdate = True
        opId = self.update()
        self.finish()
        self.assertEqual(len(self.device.reboots), 1)
        self.assertEqual(self.device.installed, [])
        self.assertEqual(self.info(opId)["OperationState"], "InProgress")
        self.sms.halt()
        self.sms.rebooted()
        self.assertEqual(self.device.installed[0][0], "2.0.0")
        self.assertEqual(self.code("GetOperationInfo", OperationID=opId), 707)
        self.assertEqual(invoke(self.sms, "GetDUInfo", DUID=0)["DUVersion"], "2.0.0")

    def test_lostInReboot(self) -> None:
        """An operation lost in a reboot does not wake up when its download ends later."""
        opId = self.update("http://192.168.1.5/slow")
        self.clock.advance(self.sms.startDelay)
        waiting = self.device.fetcher.waiting["http://192.168.1.5/slow"]
        self.sms.halt()
        waiting.callback(makeImage("2.0.0"))
        self.clock.advance(10)
        self.assertEqual(self.device.installed, [])
        self.assertEqual(self.code("GetOperationInfo", OperationID=opId), 707)

    def test_autonomousUpdate(self) -> None:
        """An update started by another control point is an Update on target 0, visible in OperationIDs."""
        opId = self.sms.startAutonomousUpdate(URI)
        self.assertEqual(self.info(opId)["Action"], "Update")
        self.assertEqual(self.operationIDsEvents(), [str(opId)])
        self.finish()
        self.assertEqual(self.info(opId)["OperationState"], "Completed")


class OtherActionTests(SMSTestCase):
    def test_identifiers(self) -> None:
        """The firmware is DU 0 and EU 0, active and running."""
        for action, name in (("GetDUIDs", "DUIDs"), ("GetEUIDs", "EUIDs"), ("GetActiveEUIDs", "ActiveEUIDs"),
                             ("GetRunningEUIDs", "RunningEUIDs")):
            self.assertEqual(invoke(self.sms, action), {name: "0"})
        self.assertEqual(invoke(self.sms, "GetErrorEUIDs"), {"ErrorEUIDs": ""})
        self.assertEqual(invoke(self.sms, "GetEUInfo", EUID=0),
                         {"EUName": "firmware", "EUVersion": "1.0.0", "EURequestedState": "Active",
                          "EURunningState": "Running"})
        self.assertEqual(self.code("GetDUInfo", DUID=1), 705)
        self.assertEqual(self.code("GetEUInfo", EUID=1), 706)
        self.assertEqual(self.code("GetOperationInfo", OperationID=42), 707)

    def test_firmwareOnlyOperations(self) -> None:
        """Install, Uninstall, Start and Stop create operations that end at once, as a firmware-only device would."""
        ids = {
            "Install": invoke(self.sms, "Install", DUURI=URI, DUType="Application", HandleDependencies=False),
            "Uninstall": invoke(self.sms, "Uninstall", DUID=0, HandleDependencies=False),
            "Start": invoke(self.sms, "Start", EUID=0, HandleDependencies=False),
            "Stop": invoke(self.sms, "Stop", EUID=0, HandleDependencies=False),
        }
        self.clock.advance(self.sms.startDelay)
        for action, out in ids.items():
            info = self.info(int(out["OperationID"]))
            self.assertEqual(info["Action"], action)
            expected = "Completed" if action == "Start" else "Error"
            self.assertEqual(info["OperationState"], expected)
        self.assertEqual(self.code("Uninstall", DUID=2, HandleDependencies=False), 705)
        self.assertEqual(self.code("Start", EUID=2, HandleDependencies=False), 706)
        self.assertEqual(self.code("Stop", EUID=0, HandleDependencies=True), 702)
        self.assertEqual(self.code("Install", DUURI=URI, DUType="Bogus", HandleDependencies=False), 601)

    def test_rememberedOperations(self) -> None:
        """Ended operations are remembered up to a cap, oldest forgotten first."""
        first = int(invoke(self.sms, "Start", EUID=0, HandleDependencies=False)["OperationID"])
        self.clock.advance(1)
        for _ in range(S.MAX_OPERATIONS):
            invoke(self.sms, "Start", EUID=0, HandleDependencies=False)
        self.assertEqual(self.code("GetOperationInfo", OperationID=first), 707)
