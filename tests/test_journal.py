"""
Tests for L{proxier.journal}: the group commit of the store's writer
(issue 19) — the record codec, the replay at start after a power loss, and
the journal kept whole through failed appends and process kills.
"""

from __future__ import annotations

import errno
import os
import random
import textwrap
from typing import Any, Optional

from twisted.internet import defer, task
from twisted.trial import unittest

from proxier import journal
from proxier.journal import JOURNAL, Journal, decodeRecords, encodeRecord
from proxier.store import Store, StoreError, Writer, _encode
from tests._helpers import LogCapture, killedWhileWriting


class CodecTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """Records decode to their entries, deletions included; their lengths add up."""
        one = encodeRecord([("a.json", b'{"x":1}'), ("endpoint-1/cwmp-state.json", b"")])
        two = encodeRecord([("a.json", None)])
        records, length, problem = decodeRecords(one + two)
        self.assertEqual(records, [[("a.json", b'{"x":1}'), ("endpoint-1/cwmp-state.json", b"")], [("a.json", None)]])
        self.assertEqual((length, problem), (len(one) + len(two), None))
        self.assertEqual(decodeRecords(b""), ([], 0, None))

    def test_tornTailIgnored(self) -> None:
        """A record cut short anywhere (a crash during its append) is left out, and is not a problem."""
        one = encodeRecord([("a.json", b"1")])
        two = encodeRecord([("b.json", b"x" * 100)])
        for cut in range(1, len(two)):
            records, length, problem = decodeRecords(one + two[:cut])
            self.assertEqual((records, length, problem), ([[("a.json", b"1")]], len(one), None), cut)

    def test_damageIsAProblem(self) -> None:
        """A whole record that fails its checksum, or no record where one should start, is reported; what follows is not read."""
        one = encodeRecord([("a.json", b"1")])
        two = encodeRecord([("b.json", b"2")])
        flipped = bytearray(two)
        flipped[-1] ^= 1
        records, length, problem = decodeRecords(one + bytes(flipped) + one)
        self.assertEqual((records, length), ([[("a.json", b"1")]], len(one)))
        self.assertIn("checksum", problem)
        records, _, problem = decodeRecords(one + b"garbage and more garbage, past a header's length")
        self.assertIn("no record", problem)

    def test_malformedPayload(self) -> None:
        """A payload whose checksum holds but whose entries do not add up is a problem, never an exception."""
        import hashlib
        import struct

        for payload in (b"\x00", b"\x00\x05ab", b"\x00\x01a\x00\x00\x00\x09xx", b"\x00\x01\xff\xff\xff\xff\xff",
                        b"\x00\x01a\xff\xff\xff\xfe"):
            data = struct.pack(">4sI32s", b"PXJ1", len(payload), hashlib.sha256(payload).digest()) + payload
            records, length, problem = decodeRecords(data)
            self.assertEqual((records, length), ([], 0), payload)
            self.assertIn("malformed", problem)


class PowerLossDisk(journal.Disk):
    """
    The disk of a gateway that loses power right after each commit: the
    journal's fsync'd records survive, the documents written in place
    without an fsync never reach the flash.
    """

    def place(self, path: str, body: Optional[bytes]) -> None:
        pass


class ReplayTests(unittest.TestCase):
    def journalWith(self, path: str, *records: list) -> None:
        with open(os.path.join(path, JOURNAL), "wb") as f:
            for entries in records:
                f.write(encodeRecord(entries))

    def test_powerLossAfterCommit(self) -> None:
        """
        Changes committed (their durable() fired) but never written in place
        are there after the power comes back: the store's open replays the
        journal and empties it.
        """
        path = self.mktemp()
        store = Store.open(path)
        store.document("gone").save(0)
        clock = task.Clock()
        store.writeWith(Writer(clock, inThread=defer.maybeDeferred, disk=PowerLossDisk()))
        store.child("endpoint-1").document("cwmp-state").saveSoon(lambda: {"events": ["0 BOOTSTRAP"]})
        store.document("management-server").saveSoon(lambda: {"n": 1})
        store.document("management-server").saveSoon(lambda: {"n": 2})
        store.document("gone").delete()
        self.successResultOf(store.durable())
        self.assertIsNone(Store(path).document("management-server").load())  # as the flash has it
        log = LogCapture(self)
        again = Store.open(path)
        self.assertEqual(again.child("endpoint-1").document("cwmp-state").load(), {"events": ["0 BOOTSTRAP"]})
        self.assertEqual(again.document("management-server").load(), {"n": 2})
        self.assertIsNone(again.document("gone").load())
        self.assertEqual(os.path.getsize(os.path.join(path, JOURNAL)), 0)
        self.assertTrue(any("replayed from the journal" in e.get("log_format", "") for e in log.events))
        self.assertEqual(log.errors(), [])

    def test_tornRecordNotReplayed(self) -> None:
        """A record the crash cut short was never acknowledged: the documents keep their state before it."""
        path = self.mktemp()
        Store.open(path).document("a").save(1)
        torn = encodeRecord([("a.json", _encode(3))])
        self.journalWith(path, [("a.json", _encode(2))])
        with open(os.path.join(path, JOURNAL), "ab") as f:
            f.write(torn[:-4])
        self.assertEqual(Store.open(path).document("a").load(), 2)
        self.assertEqual(os.path.getsize(os.path.join(path, JOURNAL)), 0)

    def test_damagedJournalMovedAside(self) -> None:
        """A damaged record: the records before it are replayed, the journal moved aside for a human, one error line."""
        path = self.mktemp()
        Store.open(path)
        damaged = bytearray(encodeRecord([("b.json", _encode(2))]))
        damaged[-2] ^= 0x20  # bit rot in a whole record
        self.journalWith(path, [("a.json", _encode(1))])
        with open(os.path.join(path, JOURNAL), "ab") as f:
            f.write(bytes(damaged) + encodeRecord([("c.json", _encode(3))]))
        log = LogCapture(self)
        store = Store.open(path)
        self.assertEqual(store.document("a").load(), 1)
        self.assertIsNone(store.document("b").load())
        self.assertIsNone(store.document("c").load())
        self.assertFalse(os.path.exists(os.path.join(path, JOURNAL)))
        self.assertEqual(len([n for n in os.listdir(path) if n.startswith(JOURNAL + ".corrupt-")]), 1)
        self.assertEqual(len(log.errors()), 1)

    def test_pathsOutsideRefused(self) -> None:
        """A journal is not trusted to name anything but a document of the state directory."""
        for bad in ("../outside.json", "/tmp/abs.json", "endpoint-1/../../x.json", "notes.txt", ".hidden.json",
                    "a/.journal.json", "x.tmp.json"):
            path = self.mktemp()
            Store.open(path)
            self.journalWith(path, [("ok.json", _encode(1))], [(bad, _encode(2))])
            log = LogCapture(self)
            store = Store.open(path)
            self.assertEqual(store.document("ok").load(), 1, bad)
            self.assertEqual(sorted(n for n in os.listdir(path) if not n.startswith(JOURNAL)), ["ok.json"], bad)
            self.assertFalse(os.path.exists(os.path.join(os.path.dirname(os.path.abspath(path)), "outside.json")))
            self.assertEqual(len(log.errors()), 1, bad)

    def test_unreadableJournalRefusesToStart(self) -> None:
        """A journal that is there but cannot be read may hold acknowledged state: the store is not opened."""
        path = self.mktemp()
        os.makedirs(os.path.join(path, JOURNAL))
        e = self.assertRaises(StoreError, Store.open, path)
        self.assertIn("journal", str(e))


class JournalTests(unittest.TestCase):
    def test_failedAppendLeavesNoTornRecord(self) -> None:
        """An append the disk refuses half way is cut back: the next record follows the last good one."""

        class HalfFull(journal.Disk):
            full = False

            def append(self, fd: int, data: bytes) -> None:
                if self.full:
                    os.write(fd, data[: len(data) // 2])
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                super().append(fd, data)

        path = self.mktemp()
        os.makedirs(path)
        disk = HalfFull()
        j = Journal(path, disk)
        j.append([("a.json", b"1")])
        disk.full = True
        self.assertRaises(OSError, j.append, [("b.json", b"2")])
        disk.full = False
        j.append([("c.json", b"3")])
        with open(j.path, "rb") as f:
            records, length, problem = decodeRecords(f.read())
        self.assertEqual(records, [[("a.json", b"1")], [("c.json", b"3")]])
        self.assertEqual((length, problem), (j.size, None))

    def test_checkpointAtTheLimit(self) -> None:
        """Once the journal passes LIMIT, a checkpoint syncs the file system once and empties it."""
        from tests.test_store_writer import Disk

        path = self.mktemp()
        store = Store.open(path)
        disk = Disk()
        clock = task.Clock()
        store.writeWith(Writer(clock, inThread=defer.maybeDeferred, disk=disk))
        big = "x" * 4096
        n = 0
        while disk.checkpoints == 0:
            n += 1
            store.child(f"endpoint-{n}").document("cwmp-state").saveSoon(lambda n=n: {"n": n, "pad": big})
            self.successResultOf(store.durable())
            self.assertLess(n, 2 * journal.LIMIT // 4096)
        self.assertGreater(n, journal.LIMIT // 8192)
        self.assertEqual(os.path.getsize(os.path.join(path, JOURNAL)), 0)
        self.assertEqual(len(disk.commits), n)
        self.assertEqual(Store.open(path).child("endpoint-3").document("cwmp-state").load(), {"n": 3, "pad": big})


class PlacementTests(unittest.TestCase):
    """A document committed but refused in place (the disk full) is kept in the journal, not lost."""

    def test_misplacedKeptUntilPlaced(self) -> None:
        from tests.test_store_writer import Disk

        path = self.mktemp()
        store = Store.open(path)
        disk = Disk()
        clock = task.Clock()
        writer = Writer(clock, inThread=defer.maybeDeferred, disk=disk)
        store.writeWith(writer)
        log = LogCapture(self)
        disk.unplaceable.add("device")
        doc = store.document("device")
        doc.saveSoon(lambda: {"v": 1})
        self.successResultOf(store.durable())  # committed: durable
        self.assertFalse(doc.failing)
        self.assertEqual(doc.load(), {"v": 1})  # newer than its file
        self.assertIsNone(Store(path).document("device").load())
        doc.saveSoon(lambda: {"v": 2})
        self.successResultOf(store.durable())
        self.assertEqual(len([e for e in log.events if "could not be written in place" in e.get("log_format", "")]), 1)
        self.assertEqual(Store.open(path).document("device").load(), {"v": 2})  # replayed, as after a crash
        disk.unplaceable.clear()
        self.successResultOf(writer.stop())
        self.assertEqual(Store(path).document("device").load(), {"v": 2})
        self.assertEqual(os.path.getsize(os.path.join(path, JOURNAL)), 0)

    def test_journalKeptWhileMisplaced(self) -> None:
        """No checkpoint empties the journal while a committed document is not in place."""
        from tests.test_store_writer import Disk

        path = self.mktemp()
        store = Store.open(path)
        disk = Disk()
        writer = Writer(task.Clock(), inThread=defer.maybeDeferred, disk=disk)
        store.writeWith(writer)
        disk.unplaceable.add("device")
        store.document("device").saveSoon(lambda: {"v": 1})
        self.successResultOf(writer.stop())
        self.assertEqual(disk.checkpoints, 0)
        self.assertGreater(os.path.getsize(os.path.join(path, JOURNAL)), 0)
        self.assertEqual(Store.open(path).document("device").load(), {"v": 1})


WRITER = textwrap.dedent(
    """
    import sys
    from twisted.internet import defer, reactor
    from proxier.store import Store, Writer
    store = Store.open(sys.argv[1])
    store.writeWith(Writer(reactor))
    first, second = store.document("first"), store.child("endpoint-1").document("second")
    start = int(sys.argv[2])

    @defer.inlineCallbacks
    def run():
        i = start
        while True:
            i += 1
            # second follows first: on disk it may never be ahead of it
            first.saveSoon(lambda i=i: {"n": i, "pad": "x" * ((i * 7919) % 20000)})
            second.saveSoon(lambda i=i: {"n": i})
            if i % 3 == 0:
                yield store.durable()
                sys.stdout.write(f"{i}\\n")
                sys.stdout.flush()
            else:
                yield task.deferLater(reactor, 0, lambda: None)

    from twisted.internet import task
    reactor.callWhenRunning(run)
    reactor.run()
    """
)


class KillTests(unittest.TestCase):
    """A process writing through the journal, killed at random points, loses nothing it reported durable."""

    ROUNDS = 20

    def test_killedWriter(self) -> Any:
        """
        Twenty times: a writer changes two documents in turn through the
        journal, waiting for the disk every third change, and is SIGKILLed
        at a random moment; reopened, both hold at least what it last
        reported durable, the second never ahead of the first, checksums
        good.
        """
        path = self.mktemp()
        Store.open(path)
        rng = random.Random(4321)
        last = 0
        log = LogCapture(self)
        for _ in range(self.ROUNDS):
            reported = killedWhileWriting(self, WRITER, [path, str(last)], rng.uniform(0, 0.05))
            store = Store.open(path)
            one = store.document("first").load()
            two = store.child("endpoint-1").document("second").load()
            self.assertGreaterEqual(one["n"], reported[-1])
            self.assertLessEqual(two["n"], one["n"])
            self.assertGreaterEqual(two["n"], reported[-1])
            self.assertEqual(one["pad"], "x" * ((one["n"] * 7919) % 20000))
            last = one["n"]
        self.assertEqual(log.errors(), [])
        self.assertFalse([n for n in os.listdir(path) if "corrupt" in n])
