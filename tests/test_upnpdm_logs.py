"""
Tests for TR-330 §4.4 (L{proxier.upnpdm.logs}): the device's BMS logs as
C{Device.DeviceInfo.VendorLogFile.{i}.}, refreshed before reads, and the
ACS's Upload of one — over the simulator's real BasicManagement:2 and its
logs, on a clock, with the file server side faked (its HTTP is tested in
tests.test_upnpdm_transfer, and end to end in tests.test_upnpdm_transfer_e2e).
"""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import AttributeChange, ParameterValue, TransferRequest
from proxier.proxy import transfers
from proxier.sim.logs import DeviceLog
from proxier.sim.cms import formatTime
from proxier.upnpdm import logs
from proxier.upnpdm.httpfiles import TransferFailed
from proxier.upnpdm.logs import COUNT, TABLE, instanceOf, logName, parseLogURIs
from tests.test_upnpdm_transfer_support import FakeUploader, ManagedDevice, simLogFetcher


def upload(key: str = "up-1", fileType: str = "4 Vendor Log File 1", url: str = "http://acs.example/logs/1",
           username: str = "", password: str = "", delay: int = 0) -> TransferRequest:
    return TransferRequest("Upload", key, fileType, url, username, password, delaySeconds=delay)


class ParsingTests(unittest.TestCase):
    def test_parseLogURIs(self) -> None:
        """LogURIs: comma separated, escaped commas kept, blanks and duplicates dropped, bounded."""
        self.assertEqual(parseLogURIs("urn:a, urn:b,,urn:a"), ["urn:a", "urn:b"])
        self.assertEqual(parseLogURIs(r"urn:x\,y,urn:z"), ["urn:x,y", "urn:z"])
        self.assertEqual(parseLogURIs(""), [])
        self.assertEqual(len(parseLogURIs(",".join(f"urn:{i}" for i in range(100)))), logs.MAX_LOGS)
        self.assertEqual(parseLogURIs("urn:" + "x" * 2000 + ",urn:ok"), ["urn:ok"])

    def test_logName(self) -> None:
        """Names are unique by instance, derived from the LogURI's last part, at most 64 characters."""
        self.assertEqual(logName(1, "urn:proxier-sim:log:system"), "/upnp-dm/log/1/system")
        self.assertEqual(logName(12, "http://dev/logs/a b/"), "/upnp-dm/log/12/a_b")
        self.assertLessEqual(len(logName(3, "urn:" + "z" * 200)), 64)

    def test_instanceOf(self) -> None:
        """FileType "4 Vendor Log File <i>" names an instance that exists; bare, only when there is one log."""
        self.assertEqual(instanceOf("4 Vendor Log File 2", [1, 2]), 2)
        self.assertIsNone(instanceOf("4 Vendor Log File 3", [1, 2]))
        self.assertEqual(instanceOf("4 Vendor Log File", [5]), 5)
        self.assertIsNone(instanceOf("4 Vendor Log File", [1, 2]))
        for other in ("3 Vendor Configuration File", "4 Vendor Log File 01", "4 Vendor Log File x",
                      "X 00D0F5 Log", "4 vendor log file 1"):
            self.assertIsNone(instanceOf(other, [1]), other)


def fakes(uploader: FakeUploader) -> Any:
    """Put the fake device fetch and the fake uploader in place before the device is ready."""

    def setup(device: Any) -> None:
        device.management.link.fetcher = simLogFetcher(device.management.link.device.members[0].upnp.sim)
        device.management.logs.uploader = uploader

    return setup


class LogsCase(unittest.TestCase):
    def setUp(self) -> None:
        self.uploader = FakeUploader()
        self.lab = ManagedDevice(self, setup=fakes(self.uploader))
        self.sim = self.lab.sim
        self.service = self.lab.device.management.logs
        self.lab.clock.advance(100)

    @property
    def model(self) -> Any:
        return self.lab.model

    def refreshed(self) -> dict[str, str]:
        self.lab.clock.advance(logs.REFRESH_TTL + 1)
        return self.lab.values(TABLE)

    def uploadOK(self, request: TransferRequest) -> None:
        self.lab.observer.inSession = True
        self.assertIsNone(self.lab.ok(self.model.upload(request)))

    def transferred(self) -> list:
        return [c[1] for c in self.lab.told("transferComplete")]


class TableTests(LogsCase):
    def test_rows(self) -> None:
        """One row per log of GetLogURIs, from GetLogInfo: Name allocated, MaximumSize, Persistent false at first."""
        values = self.lab.values(TABLE)
        self.assertEqual(values[TABLE + "1.Name"], "/upnp-dm/log/1/system")
        self.assertEqual(values[TABLE + "1.MaximumSize"], "32768")
        self.assertEqual(values[TABLE + "2.Name"], "/upnp-dm/log/2/boot")
        self.assertEqual(values[TABLE + "2.MaximumSize"], "8192")
        self.assertEqual(values[TABLE + "1.Persistent"], "false")
        self.assertEqual(values[TABLE + "1.Alias"], "cpe-1")

    def test_countInDeviceInfo(self) -> None:
        """VendorLogFileNumberOfEntries is in the device's DeviceInfo (names and values), counting the rows."""
        self.assertEqual(self.lab.values(COUNT), {COUNT: "2"})
        names = [i.name for i in self.lab.ok(self.model.getParameterNames("Device.DeviceInfo.", True))]
        self.assertIn(COUNT, names)
        self.assertIn(TABLE, names)
        self.assertEqual(self.lab.values("Device.DeviceInfo.")[COUNT], "2")

    def test_logsComeAndGo(self) -> None:
        """A log added on the device appears on the next read; one removed goes; one back gets its old number."""
        self.lab.values(TABLE)
        self.sim.bms.logs["audit"] = DeviceLog("audit", self.lab.clock.seconds, formatTime)
        values = self.refreshed()
        self.assertEqual(values[TABLE + "3.Name"], "/upnp-dm/log/3/audit")
        self.assertEqual(self.lab.values(COUNT), {COUNT: "3"})
        system = self.sim.bms.logs.pop("system")
        values = self.refreshed()
        self.assertNotIn(TABLE + "1.Name", values)
        self.assertEqual(self.lab.values(COUNT), {COUNT: "2"})
        self.sim.bms.logs["system"] = system
        values = self.refreshed()
        self.assertEqual(values[TABLE + "1.Name"], "/upnp-dm/log/1/system")

    def test_refreshSharedWithinTTL(self) -> None:
        """Reads within REFRESH_TTL share one GetLogURIs; the next after it asks again."""
        self.lab.values(TABLE)
        self.lab.values(TABLE + "1.Name")
        self.lab.values(COUNT)
        self.assertEqual(self.lab.calls("bms").count("GetLogURIs"), 1)
        self.refreshed()
        self.assertEqual(self.lab.calls("bms").count("GetLogURIs"), 2)

    def test_hungDeviceAnsweredFromWhatIsKnown(self) -> None:
        """A device that does not answer GetLogURIs: the read is answered after REFRESH_BUDGET, from the cache."""
        self.lab.values(TABLE)
        self.lab.clock.advance(logs.REFRESH_TTL + 1)
        self.lab.upnp.hang.add("GetLogURIs")
        d = self.model.getParameterValues([TABLE + "1.Name"])
        self.assertNoResult(d)
        self.lab.clock.advance(logs.REFRESH_BUDGET)
        self.assertEqual(self.lab.ok(d), [ParameterValue(TABLE + "1.Name", "/upnp-dm/log/1/system")])

    def test_lyingDevice(self) -> None:
        """A refused GetLogInfo hides that log; a LogURIs that is not a list changes nothing; no fault reaches the ACS."""
        self.sim.bms.injectFault(704, "GetLogInfo", count=1)
        values = self.lab.values(TABLE)
        self.assertEqual(len([n for n in values if n.endswith(".Name")]), 1)
        self.lab.upnp.rewrite = lambda action, out: {"LogURIs": "\x00\x01"} if action == "GetLogURIs" else out
        values = self.refreshed()
        self.assertEqual(len([n for n in values if n.endswith(".Name")]), 0)

    def test_unicodeDigitsInMaxSize(self) -> None:
        """A MaxSize of Unicode digits ('١٢٣', which int() read as 123) or '1_000' is no number: 0, like any lie."""
        for bad in ("١٢٣", "1_000", "²"):
            self.lab.upnp.rewrite = lambda action, out, bad=bad: dict(out, MaxSize=bad) if action == "GetLogInfo" else out
            values = self.refreshed()
            sizes = [v for n, v in values.items() if n.endswith(".MaximumSize")]
            self.assertTrue(sizes)
            self.assertEqual(set(sizes), {"0"}, bad)

    def test_aliasWrittenOnce(self) -> None:
        """Alias: the ACS writes it once (kept across a restart), a second write is 9008."""
        self.lab.values(TABLE)
        self.assertEqual(self.lab.ok(self.model.setParameterValues([ParameterValue(TABLE + "1.Alias", "main")])), 0)
        fault = self.lab.fault(self.model.setParameterValues([ParameterValue(TABLE + "1.Alias", "again")]))
        self.assertEqual(fault.parameterFaults[0].faultCode, 9008)
        again = self.lab.restartProxier()
        self.assertEqual(again.values(TABLE + "1.Alias"), {TABLE + "1.Alias": "main"})

    def test_writesBeforeAnyRead(self) -> None:
        """
        A write that is a session's first call finds the rows, as a read
        would (issue 17): SetParameterValues and SetParameterAttributes by
        number and by alias apply, DeleteObject is 9001 (read-only table),
        not 9005 (no such row) because nothing had refreshed the table yet.
        """
        self.assertEqual(self.lab.ok(self.model.setParameterValues([ParameterValue(TABLE + "[cpe-1].Alias", "main")])), 0)
        self.assertEqual(self.lab.values(TABLE + "[main].Alias"), {TABLE + "1.Alias": "main"})
        fresh = ManagedDevice(self, setup=fakes(FakeUploader()))
        self.assertIsNone(fresh.ok(fresh.model.setParameterAttributes([AttributeChange(TABLE + "[cpe-2].Name", True, 1)])))
        fresh = ManagedDevice(self, setup=fakes(FakeUploader()))
        self.assertEqual(fresh.fault(fresh.model.deleteObject(TABLE + "1.")).code, 9001)
        fresh = ManagedDevice(self, setup=fakes(FakeUploader()))
        self.assertEqual(fresh.ok(fresh.model.setParameterValues([ParameterValue(TABLE + "2.Alias", "boot")])), 0)

    def test_readableOffline(self) -> None:
        """The device offline: the table answers from what the proxier knows."""
        self.lab.values(TABLE)
        self.lab.upnp.unreachable = True
        self.lab.clock.advance(logs.REFRESH_TTL + 1)
        self.assertEqual(self.lab.values(COUNT), {COUNT: "2"})


class UploadTests(LogsCase):
    def test_success(self) -> None:
        """
        §4.4.2: Status 1; after the session GetLogInfo, the log read from the device, sent with the Upload's
        credentials; TransferComplete with the CommandKey, no fault, StartTime ≤ CompleteTime.
        """
        self.sim.bms.record("Warning", "something worth reading")
        self.uploadOK(upload(username="cpe", password="pw"))
        self.lab.advance(1.0)
        self.assertEqual(self.uploader.uploads, [], "sent during the session")
        self.lab.observer.inSession = False
        self.lab.advance(1.0)
        [(url, body, user, password)] = self.uploader.uploads
        self.assertEqual((url, user, password), ("http://acs.example/logs/1", "cpe", "pw"))
        self.assertEqual(body, self.sim.bms.logs["system"].content())
        self.assertIn(b"something worth reading", body)
        [result] = self.transferred()
        self.assertEqual((result.commandKey, result.method, result.faultCode, result.faultString),
                         ("up-1", "Upload", 0, ""))
        self.assertLessEqual(result.startTime, result.completeTime)
        self.assertEqual(self.lab.device.management.queue.jobs, [])

    def test_delaySeconds(self) -> None:
        """DelaySeconds: the upload waits that long after the request."""
        self.uploadOK(upload(delay=30))
        self.lab.observer.inSession = False
        self.lab.advance(20.0, step=1.0)
        self.assertEqual(self.uploader.uploads, [])
        self.lab.advance(11.0, step=1.0)
        self.assertEqual(len(self.uploader.uploads), 1)

    def test_checkedUpFront(self) -> None:
        """9011 at once for another FileType, an instance that is not there, a URL that is not http(s)."""
        for request in (upload(fileType="3 Vendor Configuration File"), upload(fileType="4 Vendor Log File 9"),
                        upload(url="ftp://acs.example/x"), upload(url="http://u:p@acs.example/x")):
            self.assertEqual(self.lab.fault(self.model.upload(request)).code, 9011, request)
        self.assertEqual(self.lab.device.management.queue.jobs, [])

    def test_queueFull(self) -> None:
        """Beyond MAX_TRANSFERS uploads waiting: 9004."""
        for i in range(transfers.MAX_TRANSFERS):
            self.uploadOK(upload(key=f"k{i}", delay=1000))
        self.assertEqual(self.lab.fault(self.model.upload(upload(key="over"))).code, 9004)

    def test_deviceSideFails(self) -> None:
        """The log cannot be read from the device: TransferComplete 9011 (§4.4.2), nothing uploaded."""
        self.lab.device.management.link.fetcher = lambda url: __import__("twisted.internet.defer").internet.defer.fail(
            TransferFailed(9011, "the device answered 500 for its log"))
        self.uploadOK(upload())
        self.lab.observer.inSession = False
        self.lab.advance(1.0)
        [result] = self.transferred()
        self.assertEqual(result.faultCode, 9011)
        self.assertIn("500", result.faultString)
        self.assertEqual(self.uploader.uploads, [])

    def test_logGoneBeforeUpload(self) -> None:
        """The log disappeared between the request and the upload (GetLogInfo 704): 9011."""
        self.uploadOK(upload())
        del self.sim.bms.logs["system"]
        self.lab.observer.inSession = False
        self.lab.advance(1.0)
        [result] = self.transferred()
        self.assertEqual(result.faultCode, 9011)

    def test_deviceUnreachableRetriedThenFails(self) -> None:
        """
        GetLogInfo unanswered: asked again (the device's outages meanwhile not counted, but bounded by
        OFFLINE_WAIT), at most UPLOAD_ATTEMPTS times while it answers other actions, then 9011.
        """
        self.uploadOK(upload())
        self.lab.upnp.hang.add("GetLogInfo")
        self.lab.observer.inSession = False
        self.lab.advance(logs.OFFLINE_WAIT + logs.UPLOAD_ATTEMPTS * (logs.UPLOAD_RETRY + 10) + 30, step=1.0)
        [result] = self.transferred()
        self.assertEqual(result.faultCode, 9011)
        asked = self.lab.calls("bms").count("GetLogInfo")
        self.assertLessEqual(asked, 1 + logs.UPLOAD_ATTEMPTS + logs.OFFLINE_WAIT / logs.UPLOAD_RETRY + 1)

    def test_acsSideFails(self) -> None:
        """The file server refuses the credentials: 9012; fails otherwise: 9011 — each in the TransferComplete."""
        for failure, expected in ((TransferFailed(9012, "refused"), 9012), (TransferFailed(9011, "500"), 9011)):
            self.uploader.failure = failure
            self.uploadOK(upload(key=f"k{expected}"))
            self.lab.observer.inSession = False
            self.lab.advance(1.0)
        self.assertEqual([(r.commandKey, r.faultCode) for r in self.transferred()], [("k9012", 9012), ("k9011", 9011)])

    def test_persistentObserved(self) -> None:
        """
        §4.4.1 Persistent: false until seen; after a reboot the log kept across it (system) becomes true and
        the one purged (boot) false — learnt at once after the reboot, from the logs read before it.
        """
        for i in (1, 2):
            self.uploadOK(upload(key=f"k{i}", fileType=f"4 Vendor Log File {i}"))
        self.lab.observer.inSession = False
        self.lab.advance(2.0)
        self.assertEqual(len(self.uploader.uploads), 2)
        self.lab.reboot()
        self.lab.advance(1.0)
        values = self.refreshed()
        self.assertEqual((values[TABLE + "1.Persistent"], values[TABLE + "2.Persistent"]), ("true", "false"))


class UploadDurabilityTests(LogsCase):
    def test_queuedBeforeRestart(self) -> None:
        """Accepted, then the proxier dies before the upload: the new one uploads once and reports once."""
        self.uploadOK(upload())
        uploader = FakeUploader()
        again = self.lab.restartProxier(setup=fakes(uploader))
        again.advance(1.0)
        self.assertEqual(len(uploader.uploads), 1)
        self.assertEqual(len(again.told("transferComplete")), 1)
        self.assertEqual(self.transferred(), [])

    def test_killedMidUpload(self) -> None:
        """The proxier dies while the upload is under way: uploaded again after the restart, reported once."""
        self.uploader.hold = True
        self.uploadOK(upload())
        self.lab.observer.inSession = False
        self.lab.advance(1.0)
        self.assertEqual(len(self.uploader.uploads), 1)
        uploader = FakeUploader()
        again = self.lab.restartProxier(setup=fakes(uploader))
        again.advance(1.0)
        self.assertEqual(len(uploader.uploads), 1)
        [result] = [c[1] for c in again.told("transferComplete")]
        self.assertEqual((result.commandKey, result.faultCode), ("up-1", 0))
        self.assertEqual(self.transferred(), [])

    def test_noEndpointYet(self) -> None:
        """Ended with no endpoint listening: told once the endpoint observes."""
        lab = ManagedDevice(self, observe=False, setup=fakes(FakeUploader()))
        lab.clock.advance(100)
        lab.ok(lab.model.upload(upload()))
        lab.advance(1.0)
        self.assertEqual(len(lab.device.management.queue.jobs), 1)
        lab.device.addObserver(lab.observer)
        self.assertEqual(len(lab.told("transferComplete")), 1)
        self.assertEqual(lab.device.management.queue.jobs, [])


class OffersTests(unittest.TestCase):
    def test_uploadListedOnlyWithLogs(self) -> None:
        """Upload is offered when BMS has GetLogURIs and GetLogInfo; without them there is no table and 9000."""
        lab = ManagedDevice(self)
        self.assertIn("Upload", lab.model.supportedMethods())
        lab = ManagedDevice(self, disabled=("GetLogURIs",))
        self.assertNotIn("Upload", lab.model.supportedMethods())
        self.assertNotIn(TABLE, [p for p, _ in lab.device.overlays])
        self.assertEqual(lab.fault(lab.model.upload(upload())).code, 9000)
        self.assertIsInstance(lab.fault(lab.model.getParameterValues([COUNT])), CWMPFault)
