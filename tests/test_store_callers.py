"""
The callers of L{proxier.store}'s coalesced writes (issue 19): the CWMP
session sends nothing ahead of the disk, the service tree writes what waits
when it stops, and a device's bootstrap saves nothing twice.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.trial import unittest
from twisted.web.resource import Resource

from proxier.store import WRITE_WINDOW, Store, Writer
from tests.test_store_writer import Disk, HeldThread, WriterTestCase


class Counting(Resource):
    """Counts the POSTs that reach the ACS behind it."""

    isLeaf = True

    def __init__(self, acs: Any) -> None:
        super().__init__()
        self.acs = acs
        self.posts = 0

    def render_POST(self, request: Any) -> Any:
        self.posts += 1
        return self.acs.render(request)


class SessionBarrierTests(unittest.TestCase):
    """The CWMP session sends nothing to the ACS before what it depends on is on disk."""

    def test_noMessageAheadOfTheDisk(self) -> None:
        """
        With the writer's thread held, the Inform (its BOOTSTRAP event
        queued) and the POST after the InformResponse (the events it
        cleared) wait until the thread has written them; each goes as soon
        as it has.
        """
        from treq.testing import RequestTraversalAgent

        from proxier.config import load
        from proxier.cwmp.endpoint import CWMPEndpoint
        from proxier.cwmp.fakeacs import FakeACS
        from proxier.cwmp.settings import EndpointSettings
        from proxier.datamodel.values import DeviceIdentity
        from tests.test_cwmp_endpoint import FakeModel

        clock = task.Clock()
        clock.advance(1_700_000_000)
        thread = HeldThread()
        root = Store.open(self.mktemp())
        root.writeWith(Writer(clock, inThread=thread))
        store = root.child("endpoint-x")
        acs = Counting(FakeACS(clock=task.Clock(), validator=None))
        acsConfig = dict(load(None)["acs"], url="http://acs.example.net/acs", periodic_inform_enable=False)
        endpoint = CWMPEndpoint(DeviceIdentity("ACME", "00D09E", "Speaker", "K-1"), FakeModel(),
                                EndpointSettings(store.document("management-server"), acsConfig), store,
                                agent=RequestTraversalAgent(acs), reactor=clock, random=lambda: 0.0)
        endpoint.start()
        clock.advance(0)
        self.assertTrue(endpoint.inSession)
        self.assertEqual(acs.posts, 0)  # the BOOTSTRAP event is not on disk yet
        self.assertEqual(len(thread.held), 1)
        thread.release()
        clock.advance(0)
        self.assertEqual(acs.posts, 1)  # the Inform
        self.assertEqual(len(thread.held), 1)  # the events its InformResponse cleared
        self.assertEqual(Store(store.path).document("cwmp-state").load()["bootstrappedURL"], None)
        while thread.held:
            posts = acs.posts
            thread.release()
            clock.advance(0)
            self.assertEqual(acs.posts, posts + 1)
        clock.advance(60)
        self.assertFalse(endpoint.inSession)
        self.assertEqual(Store(store.path).document("cwmp-state").load()["bootstrappedURL"],
                         "http://acs.example.net/acs")
        endpoint.stop()


class ServiceTests(unittest.TestCase):
    def test_stopFlushes(self) -> None:
        """
        The service tree hands its writer to the store while it runs; its
        stopService fires only once the last changes are on disk, and later
        changes are written at once again.
        """
        from twisted.internet.testing import MemoryReactorClock

        from proxier.config import load
        from proxier.service import ProxierService

        clock = MemoryReactorClock()
        store = Store.open(self.mktemp())
        service = ProxierService(load(None).replace("connection_request", port=0), store, [], reactor=clock)
        thread = HeldThread()
        service.writer = Writer(clock, inThread=thread)
        service.startService()
        self.assertIs(store.writer, service.writer)
        store.child("endpoint-x").document("cwmp-state").saveSoon(lambda: {"last": True})
        stopped = service.stopService()
        self.assertNoResult(stopped)
        while thread.held:
            thread.release()
        self.successResultOf(stopped)
        self.assertEqual(Store(store.path).child("endpoint-x").document("cwmp-state").load(), {"last": True})
        self.assertIsNone(store.writer)


class BootstrapSavesTests(WriterTestCase):
    """The saves a device's bootstrap makes: none that changes nothing, code-added rows coalesced."""

    def test_bootstrapAskedAgainSavesNothing(self) -> None:
        """A BOOTSTRAP still waiting, queued again at each session attempt, is not saved again."""
        from proxier.cwmp.events import EndpointState

        plain = Store.open(self.mktemp(), write=self.disk.write)
        state = EndpointState(plain.document("cwmp-state"))
        state.queueEvent("0 BOOTSTRAP")
        state.queueEvent("0 BOOTSTRAP")
        state.queueEvent("M Download", "k")
        state.queueEvent("M Download", "k")
        self.assertEqual(self.disk.written, ["cwmp-state", "cwmp-state"])

    def test_rowsAddedByCodeApart(self) -> None:
        """
        Rows code adds by key one after the other (the VirtualDevice table
        as devices appear, each device's own state changing in between)
        cost one write of the table's numbers per delay, not one each; a
        session of the tree's endpoint (its store's barrier) has them
        written at once; the numbers survive a restart.
        """
        from proxier.datamodel.tree import TreeDataModel
        from tests.test_datamodel_tree import Device, sampleTree

        tree = TreeDataModel(sampleTree(Device()), self.store.child("endpoint-self").child("datamodel"))
        del self.disk.written[:]
        for n in range(50):
            tree.addInstance("Device.Ro.", key=f"device-{n}", data=n)
            self.store.child(f"endpoint-{n}").document("cwmp-state").saveSoon(lambda n=n: {"n": n})
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(self.disk.written.count("tables"), 1)
        self.assertEqual(self.disk.written.count("cwmp-state"), 50)
        tree.addInstance("Device.Ro.", key="device-50", data=50)
        self.successResultOf(self.store.child("endpoint-self").durable())
        self.assertEqual(self.disk.written.count("tables"), 2)
        again = TreeDataModel(sampleTree(Device()), Store(self.store.path).child("endpoint-self").child("datamodel"))
        self.assertEqual(again.addInstance("Device.Ro.", key="device-50"), 51)


class DeviceStateTests(WriterTestCase):
    """A UPnP DM device's state: what the proxier learns on its own is coalesced; an RPC still says whether it is on disk."""

    def test_flushSoon(self) -> None:
        """flushSoon hands the change to the writer (taken now); without a writer it is a flush."""
        from proxier.upnpdm.state import DeviceState

        state = DeviceState(self.store.document("device"))
        state.setBootId("uuid:a", 7)
        state.flushSoon()
        state.setBootId("uuid:a", 8)  # not flushed: not in what was handed over
        self.assertEqual(self.disk.written, [])
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(self.disk.written, ["device"])
        self.assertEqual(Store(self.store.path).document("device").load()["bootIds"], {"uuid:a": 7})
        plain = DeviceState(Store.open(self.mktemp(), write=self.disk.write).document("device"))
        plain.setBootId("uuid:b", 1)
        plain.flushSoon()
        self.assertEqual(self.disk.written, ["device", "device"])


class HeldWriteTests(unittest.TestCase):
    """An ACS's change to a UPnP DM device is answered only once what the proxier holds of it is on disk."""

    def setUp(self) -> None:
        from tests.test_upnpdm_model import ModelTestCase

        case = ModelTestCase()
        case.mktemp = self.mktemp  # type: ignore[method-assign]
        case.successResultOf = self.successResultOf  # type: ignore[method-assign]
        case.setUp()
        self.case = case
        self.disk = Disk()
        self.thread = HeldThread()
        case.store.writeWith(Writer(case.clock, inThread=self.thread, disk=self.disk))

    def test_answerWaitsForTheDisk(self) -> None:
        """
        A change flushSoon handed over (a sweep's instance numbers) is on
        disk before a SetParameterValues is answered; a disk that refuses it
        makes the answer 9002.
        """
        from proxier.datamodel.faults import CWMPFault
        from proxier.datamodel.values import ParameterValue

        case = self.case
        case.state.setBootId("uuid:a", 7)
        case.state.flushSoon()
        answer = case.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "a")])
        self.assertNoResult(answer)
        self.thread.release()
        self.assertIn(self.successResultOf(answer), (0, 1))
        self.disk.failing.add("device")
        case.state.setBootId("uuid:a", 8)
        case.state.flushSoon()
        answer = case.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "b")])
        self.thread.release()
        self.assertEqual(self.failureResultOf(answer, CWMPFault).value.code, 9002)


class HoldAfter:
    """A writer's thread that writes the first C{runs} batches, then none: the process dies with changes in memory."""

    def __init__(self, runs: int) -> None:
        self.runs = runs

    def __call__(self, f: Any) -> Any:
        from twisted.internet.defer import Deferred, maybeDeferred

        if self.runs <= 0:
            return Deferred()
        self.runs -= 1
        return maybeDeferred(f)


class KillWithWritesHeldTests(unittest.TestCase):
    """
    tests.test_cwmp_durability's kill tests with the writer's thread dying
    too: the process is killed after its writer wrote a number of batches,
    with what it had not written lost. Killed before the owed changes were
    written, the ACS heard nothing of them (the Inform waited for the disk):
    as if the process had died before they happened. Killed after the ACS
    answered a POST but before what its answer cleared was on disk, the next
    POST never left, and what that POST carried is delivered again — as
    when its answer is lost (test_cwmp_durability's table), which TR-069
    allows. Everything else exactly once.
    """

    def incarnation(self, store: Store, acs: Any, writer: Any = None, prepare: Any = None) -> tuple[Any, Any]:
        from treq.testing import RequestTraversalAgent

        from proxier.config import load
        from proxier.cwmp.endpoint import CWMPEndpoint
        from proxier.cwmp.settings import EndpointSettings
        from proxier.datamodel.values import DeviceIdentity
        from tests.test_cwmp_endpoint import FakeModel

        clock = task.Clock()
        clock.advance(1_700_000_000)
        root = Store(store.path)
        root.writeWith(Writer(clock, inThread=writer) if writer is not None else None)
        acsConfig = dict(load(None)["acs"], url="http://acs.example.net/acs", periodic_inform_enable=False)
        endpoint = CWMPEndpoint(DeviceIdentity("ACME", "00D09E", "Speaker", "K-1"), FakeModel(),
                                EndpointSettings(root.document("management-server"), acsConfig), root,
                                agent=RequestTraversalAgent(acs), reactor=clock, random=lambda: 0.0)
        endpoint.start()
        if prepare is not None:
            prepare(endpoint)
        clock.advance(0)
        return endpoint, clock

    def test_killedWithWritesPending(self) -> None:
        """Killed after 0, 1, 2 ... batches were written: nothing on disk lost, repeats only where an answer was."""
        from proxier.cwmp.fakeacs import FakeACS
        from proxier.datamodel.values import ParameterValue, TransferResult

        def owed(endpoint: Any) -> None:
            endpoint.diagnosticsComplete(None)
            endpoint.model.changed([ParameterValue("Device.X_Test.Level", "3", "xsd:unsignedInt")], False)
            endpoint.transferComplete(None, TransferResult("ck-1", "Download"))

        for runs in range(6):
            store = Store.open(self.mktemp())
            acs = FakeACS(clock=task.Clock(), validator=None)
            self.incarnation(store, acs)  # bootstrapped, the ACS's methods known, all on disk
            victim, _ = self.incarnation(store, acs, HoldAfter(runs), owed)
            killed = victim.inSession
            survivor, clock = self.incarnation(store, acs)
            clock.advance(3600)
            self.assertFalse(survivor.state.hasPending())
            later = acs.sessions[1:]
            events = sum(1 for s in later if any(e.code == "8 DIAGNOSTICS COMPLETE" for e in s.inform.events))
            changes = sum(1 for s in later if any(p.name == "Device.X_Test.Level" for p in s.inform.parameters))
            transfers = sum(1 for s in later for msg in s.received if msg is not None and msg.name == "TransferComplete")
            expected = {0: (0, 0, 0), 1: (2, 2, 1), 2: (1, 1, 2)}.get(runs, (1, 1, 1))
            self.assertEqual((events, changes, transfers), expected, f"killed after {runs} batches ({killed})")
            if runs == 0:
                self.assertEqual(len(acs.sessions), 1)  # the victim's Inform never left; nothing owed after
