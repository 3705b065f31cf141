"""
Tests for L{proxier.store.Writer}: coalesced durable writes, off the reactor
thread, in the order of the changes, with a barrier for whoever must not go
ahead of the disk (issue 19).

The thread is injected: run at once, or held until the test lets it go (a
disk as slow as the test wants). File writes are injected too, to record
their order and to fail on demand.
"""

from __future__ import annotations

import errno
import os
import re
from typing import Any, Callable

from twisted.internet import defer, task
from twisted.internet.defer import Deferred
from twisted.trial import unittest

from proxier import journal
from proxier import store as storemod
from proxier.store import RETRY_INTERVAL, WRITE_WINDOW, Retrier, Store, Writer
from tests._helpers import LogCapture

_TMP_NAME = re.compile(r"^\.(.+)\.[0-9]+\.tmp$")


class Disk(journal.Disk):
    """
    Records which documents are written in place, in order, and the
    documents of each journal record (the commits). A commit holding a
    document named in C{failing} fails (the disk full as it is written), as
    does a plain store's save of it (L{write}); a document named in
    C{unplaceable} is committed but cannot be written in place.
    """

    def __init__(self) -> None:
        self.written: list[str] = []
        self.commits: list[list[str]] = []
        self.failing: set[str] = set()
        self.unplaceable: set[str] = set()
        self.checkpoints = 0

    def write(self, path: str, body: bytes) -> None:
        """A plain store's write (no writer): written and fsync'd."""
        name = _TMP_NAME.match(os.path.basename(path)).group(1)  # type: ignore[union-attr]
        if name in self.failing:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        self.written.append(name)
        journal.writeFile(path, body)

    def append(self, fd: int, data: bytes) -> None:
        records, _, _ = journal.decodeRecords(data)
        names = [os.path.basename(path)[:-5] for path, _ in records[0]]
        if self.failing.intersection(names):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "journal")
        self.commits.append(names)
        super().append(fd, data)

    def place(self, path: str, body: Any) -> None:
        name = os.path.basename(path)[:-5]
        if name in self.unplaceable:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        if body is not None:
            self.written.append(name)
        super().place(path, body)

    def syncFilesystem(self, directory: str) -> None:
        self.checkpoints += 1
        super().syncFilesystem(directory)


class HeldThread:
    """A writer's thread that runs nothing until the test releases it."""

    def __init__(self) -> None:
        self.held: list[tuple[Callable[[], Any], Deferred]] = []

    def __call__(self, f: Callable[[], Any]) -> Deferred:
        d: Deferred = Deferred()
        self.held.append((f, d))
        return d

    def release(self) -> None:
        f, d = self.held.pop(0)
        d.callback(f())


class WriterTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.disk = Disk()
        self.store = Store.open(self.mktemp(), write=self.disk.write)
        self.thread: Any = lambda f: defer.maybeDeferred(f)
        self.writer = Writer(self.clock, inThread=lambda f: self.thread(f), disk=self.disk)
        self.store.writeWith(self.writer)

    def hold(self) -> HeldThread:
        self.thread = HeldThread()
        return self.thread


class CoalescingTests(WriterTestCase):
    def test_manyChangesOneWrite(self) -> None:
        """Changes of one document within the window are one write, of the last; nothing is written before."""
        doc = self.store.document("cwmp-state")
        for n in range(10):
            doc.saveSoon(lambda n=n: {"n": n})
        self.clock.advance(WRITE_WINDOW - 0.01)
        self.assertEqual(self.disk.written, [])
        self.clock.advance(0.01)
        self.assertEqual(self.disk.written, ["cwmp-state"])
        self.assertEqual(Store(self.store.path).document("cwmp-state").load(), {"n": 9})

    def test_snapshotTakenOnce(self) -> None:
        """The payload of consecutive changes is built once, when it is written (the tables' numbers: O(N) each)."""
        doc = self.store.document("tables")
        calls = []

        def snapshot() -> dict:
            calls.append(1)
            return {"rows": len(calls)}

        for _ in range(5):
            doc.saveSoon(snapshot)
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(len(calls), 1)

    def test_loadSeesWaitingChange(self) -> None:
        """A document loaded again before its change is written loads the change, not the older file."""
        doc = self.store.document("device")
        doc.save({"v": 1})
        doc.saveSoon(lambda: {"v": 2})
        self.assertEqual(self.store.document("device").load(), {"v": 2})
        self.assertEqual(Store(self.store.path).document("device").load(), {"v": 1})

    def test_loadSeesChangeBeingWritten(self) -> None:
        """A change handed to the thread and not yet on disk is what a load returns too."""
        thread = self.hold()
        doc = self.store.document("device")
        doc.saveSoon(lambda: {"v": 3})
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(len(thread.held), 1)
        self.assertEqual(self.store.document("device").load(), {"v": 3})

    def test_childStoresShareTheWriter(self) -> None:
        """
        A child store made before or after writeWith hands its changes to
        the same writer, one commit for both; a writer writes one state
        directory.
        """
        before = Store.open(self.mktemp(), write=self.disk.write)
        child = before.child("endpoint-a")
        self.assertRaises(ValueError, before.writeWith, self.writer)
        before.writeWith(Writer(self.clock, inThread=defer.maybeDeferred, disk=self.disk))
        child.document("x").saveSoon(lambda: 1)
        before.child("endpoint-b").document("y").saveSoon(lambda: 2)
        self.assertEqual(self.disk.written, [])
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(self.disk.written, ["x", "y"])
        self.assertEqual(self.disk.commits, [["x", "y"]])

    def test_withoutWriterAtOnce(self) -> None:
        """Without a writer, saveSoon saves before it returns, raising as save does."""
        plain = Store.open(self.mktemp(), write=self.disk.write)
        plain.document("a").saveSoon(lambda: 1)
        self.assertEqual(self.disk.written, ["a"])
        self.disk.failing.add("b")
        self.assertRaises(OSError, plain.document("b").saveSoon, lambda: 2)
        self.assertIsNone(self.successResultOf(plain.durable()))


class OrderTests(WriterTestCase):
    def test_batchIsOneCommit(self) -> None:
        """
        The changes of a batch are one record of the journal, one fsync
        however many documents changed, each document's last state once
        (the record is all or nothing, so B's state never lands without the
        A it may depend on); then each is written in place.
        """
        a, b = self.store.document("a"), self.store.document("b")
        a.saveSoon(lambda: 1)
        b.saveSoon(lambda: 1)
        a.saveSoon(lambda: 2)
        for n in range(20):
            self.store.child(f"endpoint-{n}").document("cwmp-state").saveSoon(lambda n=n: {"n": n})
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(self.disk.commits, [["a", "b"] + ["cwmp-state"] * 20])
        self.assertEqual(self.disk.written, ["a", "b"] + ["cwmp-state"] * 20)
        self.assertEqual(Store(self.store.path).document("a").load(), 2)
        self.assertEqual(Store(self.store.path).child("endpoint-7").document("cwmp-state").load(), {"n": 7})

    def test_frozenWhenAnotherDocumentChanges(self) -> None:
        """
        A change is taken (its snapshot called) when another document
        changes after it: what is written for it is its state then, not a
        later one that would land on disk before the other document's change.
        """
        a, b = self.store.document("a"), self.store.document("b")
        state = {"v": 1}
        a.saveSoon(lambda: dict(state))
        b.saveSoon(lambda: "b")
        state["v"] = 2  # changed, not yet saved again
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(Store(self.store.path).document("a").load(), {"v": 1})

    def test_saveWritesWhatWaitsFirst(self) -> None:
        """A plain save (an ACS's change) writes the changes made before it first, then itself, before returning."""
        self.store.document("a").saveSoon(lambda: 1)
        self.store.document("b").save(2)
        self.assertEqual(self.disk.written, ["a", "b"])
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(self.disk.written, ["a", "b"])

    def test_saveReplacesItsOwnWaitingChange(self) -> None:
        """A plain save of the document whose change waits last replaces it: one write."""
        doc = self.store.document("management-server")
        doc.saveSoon(lambda: {"init": True})
        doc.save({"credentials": True})
        self.assertEqual(self.disk.written, ["management-server"])
        self.assertEqual(Store(self.store.path).document("management-server").load(), {"credentials": True})

    def test_saveWaitsForTheThread(self) -> None:
        """
        A plain save while the thread holds a batch writes the rest of that
        batch itself, in order; the thread then finds nothing left.
        """
        thread = self.hold()
        self.store.document("a").saveSoon(lambda: 1)
        self.store.document("b").saveSoon(lambda: 1)
        self.clock.advance(WRITE_WINDOW)
        self.store.document("c").save(1)
        self.assertEqual(self.disk.written, ["a", "b", "c"])
        self.assertEqual(self.disk.commits, [["a", "b", "c"]])
        thread.release()
        self.assertEqual(self.disk.written, ["a", "b", "c"])

    def test_delete(self) -> None:
        """A delete writes what waits before it and drops its own waiting change."""
        doc = self.store.document("gone")
        doc.save(1)
        self.store.document("a").saveSoon(lambda: 1)
        doc.saveSoon(lambda: 2)
        doc.delete()
        self.clock.advance(WRITE_WINDOW)
        self.assertFalse(os.path.exists(doc.path))
        self.assertEqual(self.disk.written, ["gone", "a"])
        self.assertIsNone(doc.load())


class BarrierTests(WriterTestCase):
    def test_durableWaitsForTheDisk(self) -> None:
        """
        durable() starts the write at once (no window) and fires only when
        the thread has written every change made before it.
        """
        thread = self.hold()
        self.store.child("endpoint-x").document("cwmp-state").saveSoon(lambda: 1)
        d = self.store.durable()
        self.assertEqual(len(thread.held), 1)
        self.assertNoResult(d)
        self.store.document("later").saveSoon(lambda: 2)  # after the barrier: not waited for
        thread.release()
        self.assertIsNone(self.successResultOf(d))
        self.assertEqual(self.disk.written, ["cwmp-state"])

    def test_durableWithNothingWaiting(self) -> None:
        """With everything on disk, durable() has fired already."""
        self.assertIsNone(self.successResultOf(self.store.durable()))
        self.store.document("a").saveSoon(lambda: 1)
        self.clock.advance(WRITE_WINDOW)
        self.assertIsNone(self.successResultOf(self.store.durable()))

    def test_childBarrier(self) -> None:
        """A child store's durable() waits for every change made so far, in any store (a prefix of the order)."""
        thread = self.hold()
        one, two = self.store.child("endpoint-1"), self.store.child("endpoint-2")
        two.document("s").saveSoon(lambda: 2)
        d = one.durable()
        self.assertNoResult(d)
        thread.release()
        self.assertIsNone(self.successResultOf(d))
        self.assertEqual(self.disk.written, ["s"])

    def test_documentDurable(self) -> None:
        """Document.durable() fires when its changes so far are on disk."""
        doc = self.store.document("a")
        doc.saveSoon(lambda: 1)
        d = doc.durable()
        self.assertIsNone(self.successResultOf(d))
        self.assertEqual(self.disk.written, ["a"])

    def test_changesDuringAWriteGoNext(self) -> None:
        """Changes made while the thread writes go in the next batch, at once when someone waits for them."""
        thread = self.hold()
        self.store.document("a").saveSoon(lambda: 1)
        first = self.store.durable()
        self.store.document("b").saveSoon(lambda: 1)
        second = self.store.durable()
        thread.release()
        self.successResultOf(first)
        self.assertNoResult(second)
        self.assertEqual(len(thread.held), 1)  # b, without waiting for the window
        thread.release()
        self.successResultOf(second)
        self.assertEqual(self.disk.written, ["a", "b"])


class ApartTests(WriterTestCase):
    """Documents changed apart: out of the order, written at a bounded rate or when their store is waited for."""

    def test_mergedWhereverItWaits(self) -> None:
        """A change apart merges into its waiting one across other documents' changes: one write."""
        table = self.store.document("tables")
        for n in range(5):
            table.saveSoon(lambda n=n: {"rows": n}, apart=True)
            self.store.document(f"doc{n}").saveSoon(lambda: 1)
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(self.disk.written.count("tables"), 1)
        self.assertEqual(Store(self.store.path).document("tables").load(), {"rows": 4})

    def test_delayGrowsWithSize(self) -> None:
        """Once written, a document apart is written again at the earliest its size / APART_RATE later."""
        table = self.store.document("tables")
        big = {"rows": "x" * (4 * storemod.APART_RATE)}
        table.saveSoon(lambda: big, apart=True)
        self.clock.advance(WRITE_WINDOW)
        self.assertEqual(self.disk.written, ["tables"])
        table.saveSoon(lambda: dict(big, n=1), apart=True)
        self.clock.advance(3.9)
        self.assertEqual(self.disk.written, ["tables"])
        self.clock.advance(0.2)
        self.assertEqual(self.disk.written, ["tables", "tables"])

    def test_storeBarrierTakesIt(self) -> None:
        """durable() of its store (or of a parent) writes it now; that of another store does not wait for it."""
        own, other = self.store.child("endpoint-self"), self.store.child("endpoint-x")
        own.child("datamodel").document("tables").saveSoon(lambda: 1, apart=True)
        self.assertIsNone(self.successResultOf(other.durable()))
        self.assertEqual(self.disk.written, [])
        self.assertIsNone(self.successResultOf(own.durable()))
        self.assertEqual(self.disk.written, ["tables"])

    def test_saveReplacesIt(self) -> None:
        """A plain save of the document drops its change apart (the save is newer)."""
        table = self.store.document("tables")
        table.saveSoon(lambda: 1, apart=True)
        table.save(2)
        self.clock.advance(10)
        self.assertEqual(self.disk.written, ["tables"])
        self.assertEqual(table.load(), 2)

    def test_loadAndStop(self) -> None:
        """A load sees the change apart; stop() writes it."""
        table = self.store.document("tables")
        table.saveSoon(lambda: {"n": 1}, apart=True)
        self.assertEqual(self.store.document("tables").load(), {"n": 1})
        self.successResultOf(self.writer.stop())
        self.assertEqual(Store(self.store.path).document("tables").load(), {"n": 1})
        self.assertEqual(self.clock.getDelayedCalls(), [])


class FailureTests(WriterTestCase):
    def test_failedWriteRetried(self) -> None:
        """
        A write that fails errbacks the Deferreds waiting with the OSError,
        is logged once, keeps later changes behind it (the order), and is
        tried again every RETRY_INTERVAL until it succeeds ("saved again").
        """
        log = LogCapture(self)
        self.disk.failing.add("a")
        a, b = self.store.document("a"), self.store.document("b")
        a.saveSoon(lambda: 1)
        b.saveSoon(lambda: 1)
        failure = self.failureResultOf(self.store.durable(), OSError)
        self.assertEqual(failure.value.errno, errno.ENOSPC)
        self.assertTrue(a.failing)
        self.assertEqual(self.disk.written, [])
        self.clock.advance(RETRY_INTERVAL)
        self.assertEqual(self.disk.written, [])
        self.assertEqual(len(log.errors()), 1)
        self.assertIn("could not be saved", log.errors()[0]["log_format"])
        self.disk.failing.clear()
        self.clock.advance(RETRY_INTERVAL)
        self.assertEqual(self.disk.written, ["a", "b"])
        self.assertFalse(a.failing)
        self.assertTrue(any("saved again" in e["log_format"] for e in log.events))
        self.assertIsNone(self.successResultOf(self.store.durable()))

    def test_durableTriesAgainAtOnce(self) -> None:
        """While a write fails, a new durable() tries again now rather than at the retry."""
        self.disk.failing.add("a")
        self.store.document("a").saveSoon(lambda: 1)
        self.failureResultOf(self.store.durable(), OSError)
        self.disk.failing.clear()
        self.assertIsNone(self.successResultOf(self.store.durable()))
        self.assertEqual(self.disk.written, ["a"])

    def test_retryNotFailedEarly(self) -> None:
        """While a retry runs, a waiter is not failed with the error of the attempt before it."""
        thread = self.hold()
        self.disk.failing.add("a")
        self.store.document("a").saveSoon(lambda: 1)
        first = self.store.durable()
        thread.release()
        self.failureResultOf(first, OSError)
        self.disk.failing.clear()
        second = self.store.durable()  # the retry, held
        self.writer._fire()  # as the thread does when a change someone waits for is written
        self.assertNoResult(second)
        thread.release()
        self.assertIsNone(self.successResultOf(second))

    def test_saveRaisesWhenWhatWaitsFails(self) -> None:
        """
        A plain save behind a change that cannot be written raises OSError
        and writes nothing of its own (the ACS's change is undone; the order
        holds).
        """
        self.disk.failing.add("a")
        self.store.document("a").saveSoon(lambda: 1)
        self.assertRaises(OSError, self.store.document("b").save, 2)
        self.assertEqual(self.disk.written, [])
        self.assertIsNone(self.store.document("b").load())

    def test_saveOwnFailure(self) -> None:
        """
        A plain save whose commit fails raises OSError and nothing of it is
        on disk; the changes made before it, committed with it, were not
        either: they are written at the retry, without it.
        """
        self.disk.failing.add("b")
        self.store.document("a").saveSoon(lambda: 1)
        self.assertRaises(OSError, self.store.document("b").save, 2)
        self.assertEqual(self.disk.written, [])
        self.clock.advance(RETRY_INTERVAL)
        self.assertEqual(self.disk.written, ["a"])
        self.assertIsNone(Store(self.store.path).document("b").load())

    def test_retrierPending(self) -> None:
        """A coalescing Retrier is pending while the writer fails to write its document."""
        self.disk.failing.add("state")
        state = {"n": 1}
        retrier = Retrier(self.store.document("state"), lambda: state, self.clock, coalesce=True)
        self.assertTrue(retrier.save())
        self.assertFalse(retrier.pending)
        self.clock.advance(WRITE_WINDOW)
        self.assertTrue(retrier.pending)
        self.disk.failing.clear()
        self.clock.advance(RETRY_INTERVAL)
        self.assertFalse(retrier.pending)
        self.assertEqual(Store(self.store.path).document("state").load(), {"n": 1})


class StopTests(WriterTestCase):
    def test_stopWritesEverything(self) -> None:
        """stop() writes every change at once, those made while it writes included, and fires."""
        thread = self.hold()
        self.store.document("a").saveSoon(lambda: 1)
        d = self.writer.stop()
        self.store.document("b").saveSoon(lambda: 2)
        self.assertNoResult(d)
        thread.release()
        self.assertNoResult(d)  # b goes in a second batch
        thread.release()
        self.assertNoResult(d)  # then the documents are made durable in place, the journal emptied
        self.assertEqual(self.disk.checkpoints, 0)
        thread.release()
        self.assertIsNone(self.successResultOf(d))
        self.assertEqual(self.disk.written, ["a", "b"])
        self.assertEqual(self.disk.checkpoints, 1)
        self.assertEqual(os.path.getsize(os.path.join(self.store.path, journal.JOURNAL)), 0)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_stopWhenTheDiskFails(self) -> None:
        """A disk that refuses the last writes is logged; stop() still fires."""
        log = LogCapture(self)
        self.disk.failing.add("a")
        self.store.document("a").saveSoon(lambda: 1)
        self.assertIsNone(self.successResultOf(self.writer.stop()))
        self.assertTrue(any("not saved at exit" in e.get("log_format", "") for e in log.errors()))
        self.assertEqual(self.clock.getDelayedCalls(), [])


class OldFileTests(unittest.TestCase):
    # A document as the code before the writer wrote it (the format did not change).
    OLD = (b'{"format":"proxier-state-1","payload":{"events":[{"code":"0 BOOTSTRAP"}]},'
           b'"sha256":"ff2a4e5c9e6e3c1a2a7f0f5ad1f1c9d6c04cf43b60d36e0f8a5d5b2d2f7e8c11"}')

    def test_oldFileRead(self) -> None:
        """A file saved by the previous code loads through a store with a writer, and is replaced by a change."""
        path = self.mktemp()
        store = Store.open(path)
        payload = {"events": [{"code": "0 BOOTSTRAP"}]}
        body = self.OLD.replace(b"ff2a4e5c9e6e3c1a2a7f0f5ad1f1c9d6c04cf43b60d36e0f8a5d5b2d2f7e8c11",
                                storemod._digest(payload).encode("ascii"))
        with open(os.path.join(store.path, "cwmp-state.json"), "wb") as f:
            f.write(body)
        clock = task.Clock()
        store.writeWith(Writer(clock, inThread=lambda f: defer.maybeDeferred(f)))
        doc = store.document("cwmp-state")
        self.assertEqual(doc.load(), payload)
        doc.saveSoon(lambda: {"events": []})
        self.successResultOf(store.durable())
        self.assertEqual(Store(store.path).document("cwmp-state").load(), {"events": []})


class ThreadTests(unittest.TestCase):
    def test_realThread(self) -> Any:
        """With the reactor's own threads: the change is on disk when durable() fires; stop() ends the thread."""
        from twisted.internet import reactor

        store = Store.open(self.mktemp())
        writer = Writer(reactor)
        store.writeWith(writer)
        for n in range(20):
            store.child(f"endpoint-{n % 3}").document("cwmp-state").saveSoon(lambda n=n: {"n": n})

        @defer.inlineCallbacks
        def check() -> Any:
            yield store.durable()
            for n in range(3):
                last = max(m for m in range(20) if m % 3 == n)
                self.assertEqual(Store(store.path).child(f"endpoint-{n}").document("cwmp-state").load(),
                                 {"n": last})
            yield writer.stop()

        return check()


    def test_reactorStopEndsTheThread(self) -> None:
        """
        A process whose reactor stops without the writer's stop() (the
        shutdown trigger ends the thread) exits: the trigger once failed
        removing itself and left the thread running, so the exit hung.
        """
        import subprocess
        import sys

        code = (
            "import tempfile\n"
            "from twisted.internet import reactor\n"
            "from proxier.store import Store, Writer\n"
            "s = Store(tempfile.mkdtemp())\n"
            "s.writeWith(Writer(reactor))\n"
            "s.document('a').saveSoon(lambda: {'x': 1})\n"
            "reactor.callWhenRunning(lambda: s.durable().addBoth(lambda _: reactor.stop()))\n"
            "reactor.run()\n"
        )
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, PYTHONPATH=root)
        try:
            done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("the process did not exit once its reactor stopped")
        self.assertEqual(done.returncode, 0, done.stderr.decode("utf-8", "replace"))
        self.assertNotIn(b"Traceback", done.stderr)
