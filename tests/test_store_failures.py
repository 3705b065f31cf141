"""
Durable state when the disk fails (issue 11 item 7).

A state file that exists but cannot be read is never taken for "no state"
(defaults would overwrite it at the next save): L{Document.load} raises
L{StoreError}, and the proxier refuses to start with that one line.

A save that fails (disk full, read-only file system) keeps memory and disk
consistent, in the one of two ways that fits the change:

 - a change the ACS asked for (ManagementServer settings, a tree-kept value,
   a Notification) is undone in memory and its RPC fails with 9002: what
   the callers see is what is on disk, and the ACS tries again;
 - what the proxier holds on its own behalf (a device's state) stays in
   memory, known not to be durable (an RPC that depends on it is not
   answered with success), and is saved again later with a clock.

Either way the failure is one error line per document, however many saves
fail, and a line when it is saved again. Reads and writes are injected
(we run as root: chmod 000 would not stop a read).
"""

from __future__ import annotations

import errno
import os

from twisted.internet import task
from twisted.trial import unittest

from proxier import store as storemod
from proxier.config import load
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.journal import writeFile
from proxier.store import RETRY_INTERVAL, Retrier, Store, StoreError
from proxier.upnpdm.state import DeviceState
from tests._helpers import LogCapture
from tests.test_datamodel_tree import Device, sampleTree
from tests.test_upnpdm_model import ModelTestCase


class Disk:
    """The file I/O of a store, made to fail on demand with an C{errno}."""

    def __init__(self) -> None:
        self.readError = 0
        self.writeError = 0
        self.writes = 0

    def read(self, path: str) -> bytes:
        if self.readError:
            raise OSError(self.readError, os.strerror(self.readError), path)
        return storemod._readFile(path)

    def write(self, path: str, body: bytes) -> None:
        self.writes += 1
        if self.writeError:
            raise OSError(self.writeError, os.strerror(self.writeError), path)
        writeFile(path, body)


def onDisk(document: storemod.Document) -> object:
    """What a fresh reader of the document finds (no injected failure)."""
    return Store(os.path.dirname(document.path)).document(document.name).load()


class UnreadableTests(unittest.TestCase):
    """A state file that cannot be read is refused, never replaced."""

    def setUp(self) -> None:
        self.disk = Disk()
        self.store = Store.open(self.mktemp(), read=self.disk.read, write=self.disk.write)

    def test_ioErrorRefused(self) -> None:
        """EIO and EACCES: StoreError naming the file and the reason; the file is left as it was."""
        document = self.store.document("management-server")
        document.save({"secret": "kept"})
        with open(document.path, "rb") as f:
            before = f.read()
        for code in (errno.EIO, errno.EACCES):
            self.disk.readError = code
            with self.assertRaises(StoreError) as caught:
                document.load(default={})
            self.assertIn(document.path, str(caught.exception))
            self.assertIn(os.strerror(code), str(caught.exception))
            self.assertNotIn("\n", str(caught.exception))
        with open(document.path, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(os.listdir(self.store.path), ["management-server.json"])

    def test_directoryInItsPlace(self) -> None:
        """A directory where the file should be (EISDIR, no injection) is refused too."""
        document = self.store.document("values")
        os.mkdir(document.path)
        self.assertRaises(StoreError, document.load, {})

    def test_settingsRefuseToStart(self) -> None:
        """An endpoint's settings that cannot be read stop the endpoint (and so the start) instead of defaults."""
        document = self.store.document("ms")
        settings = EndpointSettings(document, load(None)["acs"])
        settings.set(connectionRequestUsername="acs-user")
        self.disk.readError = errno.EIO
        self.assertRaises(StoreError, EndpointSettings, document, load(None)["acs"])
        self.disk.readError = 0
        self.assertEqual(EndpointSettings(document, load(None)["acs"]).connectionRequestUsername, "acs-user")


class FailedSaveTests(unittest.TestCase):
    """A save that fails: logged once per document, retried, memory and disk consistent."""

    def setUp(self) -> None:
        self.disk = Disk()
        self.store = Store.open(self.mktemp(), read=self.disk.read, write=self.disk.write)
        self.log = LogCapture(self)

    def test_loggedOncePerDocument(self) -> None:
        """Three failed saves of one document: one error line; another document gets its own; success is said."""
        a, b = self.store.document("a"), self.store.document("b")
        a.save(1)
        self.disk.writeError = errno.ENOSPC
        for n in range(3):
            self.assertRaises(OSError, a.save, 2 + n)
        self.assertRaises(OSError, b.save, 1)
        self.assertEqual(len(self.log.errors()), 2)
        self.assertEqual(onDisk(a), 1)
        self.assertEqual([n for n in os.listdir(self.store.path) if n.endswith(".tmp")], [])
        self.disk.writeError = 0
        a.save(9)
        self.assertEqual(onDisk(a), 9)
        self.assertTrue(any("saved again" in e["log_format"] for e in self.log.events))
        self.disk.writeError = errno.EROFS
        self.assertRaises(OSError, a.save, 10)
        self.assertEqual(len(self.log.errors()), 3)  # failing again after a success is news

    def test_retrier(self) -> None:
        """Retrier: a failed save is tried again every RETRY_INTERVAL with the latest state, until it succeeds."""
        clock = task.Clock()
        document = self.store.document("device")
        state = {"n": 1}
        retrier = Retrier(document, lambda: dict(state), clock)
        self.disk.writeError = errno.ENOSPC
        self.assertFalse(retrier.save())
        self.assertTrue(retrier.pending)
        state["n"] = 2
        clock.advance(RETRY_INTERVAL)
        self.assertTrue(retrier.pending)
        self.assertEqual(self.disk.writes, 2)
        self.disk.writeError = 0
        clock.advance(RETRY_INTERVAL)
        self.assertFalse(retrier.pending)
        self.assertEqual(onDisk(document), {"n": 2})
        clock.advance(RETRY_INTERVAL * 10)
        self.assertEqual(self.disk.writes, 3)
        self.assertEqual(clock.getDelayedCalls(), [])
        self.assertEqual(len(self.log.errors()), 1)

    def test_settingsUndone(self) -> None:
        """
        ManagementServer settings the ACS sets while the disk is full: set()
        fails, memory still holds what the disk holds, observers hear nothing;
        once the disk has room the same set() works.
        """
        document = self.store.document("ms")
        settings = EndpointSettings(document, load(None)["acs"])
        settings.set(connectionRequestUsername="old", parameterKey="k0")
        heard = []
        settings.observe(lambda *change: heard.append(change))
        self.disk.writeError = errno.ENOSPC
        self.assertRaises(OSError, settings.set, connectionRequestUsername="new", parameterKey="k1")
        self.assertEqual((settings.connectionRequestUsername, settings.parameterKey), ("old", "k0"))
        self.assertEqual(onDisk(document)["values"]["connectionRequestUsername"], "old")
        self.assertEqual(heard, [])
        self.disk.writeError = 0
        settings.set(connectionRequestUsername="new", parameterKey="k1")
        self.assertEqual(onDisk(document)["values"]["connectionRequestUsername"], "new")

    def test_settingsStartOnReadOnlyDisk(self) -> None:
        """A brand-new endpoint on a read-only disk still starts, on its config (logged once)."""
        self.disk.writeError = errno.EROFS
        settings = EndpointSettings(self.store.document("ms"), dict(load(None)["acs"], url="http://192.0.2.1/acs"))
        self.assertEqual(settings.url, "http://192.0.2.1/acs")
        self.assertEqual(len(self.log.errors()), 1)

    def test_treeValueAndAttributeUndone(self) -> None:
        """
        A tree-kept persisted value and a Notification set while the disk is
        read-only: 9002, and the model still answers the old value and level.
        """
        device = Device()
        model = TreeDataModel(sampleTree(device), self.store.child("tree"))
        device.model = model
        self.successResultOf(model.setParameterValues([ParameterValue("Device.Info.Name", "before", "xsd:string")]))
        self.disk.writeError = errno.EROFS
        fault = self.failureResultOf(model.setParameterValues(
            [ParameterValue("Device.Info.Name", "after", "xsd:string")]), CWMPFault).value
        self.assertEqual(fault.code, 9002)
        self.assertEqual(model.getLocal("Device.Info.Name"), "before")
        fault = self.failureResultOf(model.setParameterAttributes(
            [AttributeChange("Device.Info.Name", True, 2)]), CWMPFault).value
        self.assertEqual(fault.code, 9002)
        [attributes] = self.successResultOf(model.getParameterAttributes(["Device.Info.Name"]))
        self.assertEqual(attributes.notification, 0)
        self.flushLoggedErrors(OSError)


class DeviceStateTests(unittest.TestCase):
    """A device's state kept in memory ahead of a failing disk, and saved again."""

    def test_flushRetried(self) -> None:
        """flush() says False while the disk is full, keeps the change, and the clock saves it later."""
        disk = Disk()
        store = Store.open(self.mktemp(), read=disk.read, write=disk.write)
        clock = task.Clock()
        state = DeviceState(store.document("device"), clock=clock)
        state.instances.assign("/BBF/Hosts/Host/", 2)
        disk.writeError = errno.ENOSPC
        self.assertFalse(state.flush())
        self.assertIsNone(onDisk(store.document("device")))
        self.assertFalse(state.flush())  # still not durable: the mark is kept
        disk.writeError = 0
        clock.advance(RETRY_INTERVAL)
        self.assertEqual(DeviceState(store.document("device")).instances.number("/BBF/Hosts/Host/", 2),
                         state.instances.number("/BBF/Hosts/Host/", 2))


class HeldWritesTests(ModelTestCase):
    """The upnpdm model answers no success for a change whose proxier-held part is not on disk."""

    def test_notificationNotSaved(self) -> None:
        """SetParameterAttributes on a full disk: 9002; saved (and so kept) once the disk has room."""
        disk = Disk()
        self.store._root.write = disk.write
        disk.writeError = errno.ENOSPC
        fault = self.fault(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer1", True, 2)]))
        self.assertEqual(fault.code, 9002)
        self.assertIsNone(onDisk(self.store.document("device")))
        disk.writeError = 0
        self.ok(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer1", True, 2)]))
        self.assertEqual(DeviceState(self.store.document("device")).baselines.attributes,
                         {"Device.Time.NTPServer1": (2, ())})

    def test_addObjectNotSaved(self) -> None:
        """AddObject on a full disk: 9002 rather than a number that a restart could give to another instance."""
        disk = Disk()
        self.store._root.write = disk.write
        disk.writeError = errno.ENOSPC
        self.assertEqual(self.fault(self.model.addObject("Device.Hosts.Host.")).code, 9002)


class TransferQueueTests(unittest.TestCase):
    """The transfer queue on a failing disk: not accepted unless saved; its later saves retried."""

    def setUp(self) -> None:
        from twisted.logger import Logger

        from proxier.proxy.transfers import TransferQueue

        self.disk = Disk()
        self.store = Store.open(self.mktemp(), read=self.disk.read, write=self.disk.write)
        self.clock = task.Clock()
        link = type("Link", (), {"clock": self.clock, "log": Logger()})()
        self.queue = TransferQueue(link, self.store.document("transfers"))

    def request(self, key: str):
        from proxier.datamodel.values import TransferRequest

        return TransferRequest("Upload", key, "4 Vendor Log File 1", "http://198.51.100.1/up", delaySeconds=60)

    def test_notAcceptedUnlessSaved(self) -> None:
        """A Download/Upload that cannot be saved is 9002 (no Status 1), and memory holds what the disk does."""
        self.disk.writeError = errno.ENOSPC
        with self.assertRaises(CWMPFault) as caught:
            self.queue.add("upload", self.request("k1"))
        self.assertEqual(caught.exception.code, 9002)
        self.assertEqual(self.queue.jobs, [])
        self.disk.writeError = 0
        self.queue.add("upload", self.request("k2"))
        self.assertEqual([j["commandKey"] for j in onDisk(self.store.document("transfers"))["jobs"]], ["k2"])

    def test_laterSaveRetried(self) -> None:
        """A change of an accepted transfer that fails to save is saved again by the clock."""
        job = self.queue.add("upload", self.request("k"))
        self.disk.writeError = errno.EROFS
        job["data"]["attempts"] = 1
        self.queue.save()
        self.assertNotIn("attempts", onDisk(self.store.document("transfers"))["jobs"][0]["data"])
        self.disk.writeError = 0
        self.clock.advance(RETRY_INTERVAL)
        self.assertEqual(onDisk(self.store.document("transfers"))["jobs"][0]["data"]["attempts"], 1)
        self.queue.stop()


class EndpointStateTests(unittest.TestCase):
    """The CWMP endpoint's outbox on a failing disk: memory goes ahead, nothing raises, the clock saves it."""

    def test_eventKeptAndSavedLater(self) -> None:
        """
        An event queued while the disk is full is not refused (the device's
        observer call does not fail) and is still owed to the ACS; one error
        line, and the clock writes it once the disk has room.
        """
        from proxier.cwmp.events import EndpointState

        log = LogCapture(self)
        disk = Disk()
        store = Store.open(self.mktemp(), read=disk.read, write=disk.write)
        clock = task.Clock()
        state = EndpointState(store.document("cwmp-state"), clock)
        disk.writeError = errno.ENOSPC
        state.queueEvent("4 VALUE CHANGE")
        state.queueEvent("8 DIAGNOSTICS COMPLETE")
        self.assertEqual([e.code for e in state.events()], ["4 VALUE CHANGE", "8 DIAGNOSTICS COMPLETE"])
        self.assertFalse(state.durable)
        self.assertIsNone(onDisk(store.document("cwmp-state")))
        self.assertEqual(len(log.errors()), 1, log.errors())
        disk.writeError = 0
        clock.advance(RETRY_INTERVAL)
        self.assertTrue(state.durable)
        self.assertEqual([e.code for e in EndpointState(store.document("cwmp-state")).events()],
                         ["4 VALUE CHANGE", "8 DIAGNOSTICS COMPLETE"])
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_stopEndsAttempts(self) -> None:
        """An endpoint going away leaves no save scheduled behind it."""
        from proxier.cwmp.events import EndpointState

        disk = Disk()
        store = Store.open(self.mktemp(), read=disk.read, write=disk.write)
        clock = task.Clock()
        state = EndpointState(store.document("cwmp-state"), clock)
        disk.writeError = errno.EROFS
        state.queueEvent("4 VALUE CHANGE")
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        state.stop()
        self.assertEqual(clock.getDelayedCalls(), [])
