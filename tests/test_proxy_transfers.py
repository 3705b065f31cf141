"""
Tests for L{proxier.proxy.transfers}: the durable queue of ACS-requested
transfers — waiting for the delay, the session's end and the device, one at
a time per kind, given up after WAIT_LIMIT, the outcome saved before it is
told, told once across restarts — on a clock, with a recording handler and
a fake link (no protocol).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, task
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import TransferRequest
from proxier.proxy import transfers
from proxier.proxy.transfers import ITransferHandler, TransferQueue
from proxier.store import Store


class FakeLink:
    def __init__(self, clock: task.Clock) -> None:
        from proxier.log import DeviceLogger

        self.clock = clock
        self.log = DeviceLogger("test device")
        self.online = True
        self.inSession = False
        self.told: list = []
        self._observers: list = [object()]

    def idle(self) -> defer.Deferred:
        d: defer.Deferred = defer.Deferred()

        def look() -> None:
            if self.inSession:
                self.clock.callLater(0.25, look)
            else:
                d.callback(None)

        self.clock.callLater(0, look)
        return d

    def observers(self) -> list:
        return self._observers

    def transferComplete(self, result: Any) -> None:
        self.told.append(("transferComplete", (result,)))


@implementer(ITransferHandler)
class RecordingHandler:
    unreachable = (9002, "the device was never reachable")

    def __init__(self) -> None:
        self.runs: list[dict] = []
        self.ready: list[tuple] = []
        self.stopped = 0

    def run(self, job: dict) -> None:
        self.runs.append(job)

    def jobDeviceReady(self, job: dict, rebooted: bool, aliveTime: float) -> None:
        self.ready.append((job["commandKey"], rebooted, aliveTime))

    def stop(self) -> None:
        self.stopped += 1


def request(key: str = "k1", delay: int = 0, method: str = "Download") -> TransferRequest:
    return TransferRequest(method, key, "1 Firmware Upgrade Image", "http://h/fw.bin", delaySeconds=delay)


class QueueTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_000_000)
        self.link = FakeLink(self.clock)
        self.path = self.mktemp()
        self.handler = RecordingHandler()
        self.queue = self.make()

    def make(self) -> TransferQueue:
        queue = TransferQueue(self.link, Store.open(self.path).document("transfers"), {"firmware": self.handler})
        return queue

    def test_waitsForDelayAndSession(self) -> None:
        """A job starts once its DelaySeconds passed, the device is ready, and no session runs."""
        self.link.inSession = True
        self.queue.add("firmware", request(delay=10))
        self.queue.deviceReady(False)
        self.clock.advance(11)
        self.assertEqual(self.handler.runs, [], "started during the session")
        self.link.inSession = False
        self.clock.advance(0.5)
        [job] = self.handler.runs
        self.assertEqual((job["phase"], job["commandKey"]), ("running", "k1"))

    def test_oneAtATimePerKind(self) -> None:
        """The second firmware job waits for the first to end."""
        self.queue.deviceReady(False)
        first = self.queue.add("firmware", request("a"))
        self.queue.add("firmware", request("b"))
        self.clock.advance(1)
        self.assertEqual([j["commandKey"] for j in self.handler.runs], ["a"])
        self.queue.finish(first, 0, "", 1.0, 2.0)
        self.clock.advance(1)
        self.assertEqual([j["commandKey"] for j in self.handler.runs], ["a", "b"])

    def test_queuedBehindDoesNotExpire(self) -> None:
        """A job waiting behind a long one of its kind is not given up as unreachable; it runs after it."""
        self.queue.deviceReady(False)
        first = self.queue.add("firmware", request("a"))
        self.queue.add("firmware", request("b"))
        self.clock.advance(transfers.WAIT_LIMIT + 100)
        self.assertEqual(self.link.told, [])
        self.queue.finish(first, 0, "", 1.0, 2.0)
        self.clock.advance(1)
        self.assertEqual([j["commandKey"] for j in self.handler.runs], ["a", "b"])

    def test_saverAtTheFirstSave(self) -> None:
        """A queue that never held a transfer has no saver (issue 19) and stops all the same; the first job makes it."""
        self.queue.deviceReady(False)
        self.clock.advance(100)
        self.assertIsNone(self.queue._saver)
        self.queue.add("firmware", request("a"))
        self.assertIsNotNone(self.queue._saver)
        self.assertEqual([j["commandKey"] for j in self.make().jobs], ["a"])
        idle = self.make()
        idle.stop()
        self.assertIsNone(idle._saver)

    def test_full(self) -> None:
        """Beyond MAX_TRANSFERS: 9004, nothing queued."""
        for i in range(transfers.MAX_TRANSFERS):
            self.queue.add("firmware", request(f"k{i}"))
        fault = self.assertRaises(CWMPFault, self.queue.add, "firmware", request("over"))
        self.assertEqual(fault.code, 9004)
        self.assertEqual(len(self.queue.jobs), transfers.MAX_TRANSFERS)

    def test_neverReachable(self) -> None:
        """A device that never answers: the job ends with its kind's unreachable fault after WAIT_LIMIT."""
        self.link.online = False
        self.queue.deviceReady(False)
        self.queue.add("firmware", request())
        self.clock.advance(transfers.WAIT_LIMIT + 1)
        [(method, (result,))] = self.link.told
        self.assertEqual((method, result.faultCode, result.commandKey), ("transferComplete", 9002, "k1"))
        self.assertEqual(self.queue.jobs, [])

    def test_finishSavedBeforeTold(self) -> None:
        """The outcome is durable before the endpoint hears it; the job is gone after."""
        self.queue.deviceReady(False)
        job = self.queue.add("firmware", request())
        seen = []
        self.link.transferComplete = lambda result: seen.append(Store.open(self.path).document("transfers").load())
        self.queue.finish(job, 9010, "bad\nthing\x00" + "x" * 400, 5.0, 6.0)
        [stored] = seen
        self.assertEqual(stored["jobs"][0]["phase"], "reporting")
        self.assertEqual(len(stored["jobs"][0]["result"]["faultString"]), 256)
        self.assertNotIn("\n", stored["jobs"][0]["result"]["faultString"])
        self.assertEqual(Store.open(self.path).document("transfers").load()["jobs"], [])

    def test_resumedAfterRestart(self) -> None:
        """A running job is handed to its handler again after a restart (once the device is ready)."""
        self.queue.deviceReady(False)
        self.queue.add("firmware", request())
        self.clock.advance(1)
        self.queue.stop()
        handler = RecordingHandler()
        queue = TransferQueue(self.link, Store.open(self.path).document("transfers"), {"firmware": handler})
        self.assertEqual(handler.runs, [])
        queue.deviceReady(False)
        self.assertEqual([j["commandKey"] for j in handler.runs], ["k1"])

    def test_handlerContract(self) -> None:
        """
        Handlers are ITransferHandlers, called through it: a running job's handler hears the device come
        back (not resumed twice), and stop() reaches every handler.
        """
        verifyObject(ITransferHandler, self.handler)
        self.queue.deviceReady(False)
        self.queue.add("firmware", request())
        self.clock.advance(1)
        self.assertEqual(len(self.handler.runs), 1)
        self.clock.advance(5)
        self.queue.deviceReady(True, 1_000_003.0)
        self.assertEqual(self.handler.ready, [("k1", True, 1_000_003.0)])
        self.assertEqual(len(self.handler.runs), 1)
        self.queue.stop()
        self.assertEqual(self.handler.stopped, 1)

    def test_reportingRecoveredOnce(self) -> None:
        """
        Killed between saving the outcome and the endpoint saving it: told again after the restart, once,
        and the job goes (the endpoint drops a repeat; nothing here reads the endpoint's state).
        """
        job = self.queue.add("firmware", request())
        self.link._observers = []
        self.queue.finish(job, 0, "", 1.0, 2.0)  # saved, not told: no observer
        link = FakeLink(self.clock)
        store = Store.open(self.mktemp())
        store.document("transfers").save(Store.open(self.path).document("transfers").load())
        queue = TransferQueue(link, store.document("transfers"), {"firmware": self.handler})
        queue.observed()
        queue.observed()
        self.assertEqual([(m, r.commandKey, r.method) for m, (r,) in link.told], [("transferComplete", "k1", "Download")])
        self.assertEqual(queue.jobs, [])

    def test_recoveryAgainstTheRealEndpointState(self) -> None:
        """
        Against the real endpoint state: whether or not it took the TransferComplete before the kill, the
        restarted queue tells it, and the ACS is owed exactly one TransferComplete.
        """
        from proxier.cwmp.events import EndpointState

        job = self.queue.add("firmware", request())
        self.link._observers = []
        self.queue.finish(job, 0, "", 1.0, 2.0)
        saved = Store.open(self.path).document("transfers").load()
        for taken in (False, True):
            endpointStore = Store.open(self.mktemp())
            state = EndpointState(endpointStore.document("cwmp-state"))
            state.transferStarted("Download", "k1", "1 Firmware Upgrade Image", 0, "", 0.0)
            if taken:
                from proxier.datamodel.values import TransferResult

                state.addTransferComplete(TransferResult("k1", "Download"))
            state = EndpointState(endpointStore.document("cwmp-state"))  # the restart
            link = FakeLink(self.clock)
            link.transferComplete = lambda result, state=state: state.addTransferComplete(result)  # type: ignore
            store = Store.open(self.mktemp())
            store.document("transfers").save(saved)
            TransferQueue(link, store.document("transfers"), {"firmware": self.handler}).observed()
            self.assertEqual([r.result.commandKey for _, r in state.queuedRPCs()], ["k1"], taken)
            self.assertEqual(state.transfers(), [], taken)

    def test_corruptDocument(self) -> None:
        """A transfers document that is not one is moved aside; the queue starts empty."""
        Store.open(self.path).document("transfers").save({"seq": 1, "jobs": [{"id": "x"}]})
        queue = self.make()
        self.assertEqual(queue.jobs, [])
