"""Tests for L{proxier.store}: atomic, validated, self-healing durable state."""

from __future__ import annotations

import json
import os
import random
import textwrap

from twisted.internet.task import Clock
from twisted.trial import unittest

from proxier.store import Store, StoreError, Writer

from tests._helpers import LogCapture, killedWhileWriting


class StoreTests(unittest.TestCase):
    def setUp(self) -> None:
        self.path = self.mktemp()
        self.store = Store.open(self.path)

    def test_roundTrip(self) -> None:
        """What is saved is what is loaded, in a private (0600) file."""
        doc = self.store.document("events")
        doc.save({"queue": ["0 BOOTSTRAP", "1 BOOT"], "n": 3})
        self.assertEqual(doc.load(), {"queue": ["0 BOOTSTRAP", "1 BOOT"], "n": 3})
        self.assertEqual(os.stat(doc.path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o700)

    def test_missingIsDefault(self) -> None:
        """A document never saved loads as the default."""
        self.assertEqual(self.store.document("nothing").load(default={"a": 1}), {"a": 1})

    def test_saveReplaces(self) -> None:
        """A second save replaces the first and leaves no temporary file."""
        doc = self.store.document("key")
        doc.save(1)
        doc.save(2)
        self.assertEqual(doc.load(), 2)
        self.assertEqual(sorted(os.listdir(self.path)), ["key.json"])

    def test_corruptMovedAside(self) -> None:
        """
        A file that is not JSON is logged, moved aside for a human, and read as
        the default; the next save works.
        """
        log = LogCapture(self)
        doc = self.store.document("params")
        with open(doc.path, "wb") as f:
            f.write(b'{"format": "proxier-state-1", "payload": {"a": 1')
        self.assertEqual(doc.load(default="dflt"), "dflt")
        self.assertFalse(os.path.exists(doc.path))
        aside = [n for n in os.listdir(self.path) if n.startswith("params.json.corrupt-")]
        self.assertEqual(len(aside), 1)
        self.assertEqual(len(log.errors()), 1)
        self.assertIn("corrupt", log.errors()[0]["log_format"])
        doc.save({"a": 2})
        self.assertEqual(doc.load(), {"a": 2})

    def test_checksumMismatch(self) -> None:
        """A well-formed file whose payload was altered is not trusted."""
        doc = self.store.document("params")
        doc.save({"ParameterKey": "abc"})
        with open(doc.path) as f:
            wrapper = json.load(f)
        wrapper["payload"]["ParameterKey"] = "evil"
        with open(doc.path, "w") as f:
            json.dump(wrapper, f)
        LogCapture(self)
        self.assertIsNone(doc.load())

    def test_validatorRejects(self) -> None:
        """A payload the caller's validator refuses is treated as corrupt."""
        doc = self.store.document("queue")
        doc.save({"events": "not-a-list"})

        def validate(payload: dict) -> None:
            if not isinstance(payload["events"], list):
                raise ValueError("events must be a list")

        log = LogCapture(self)
        self.assertEqual(doc.load(default={"events": []}, validate=validate), {"events": []})
        self.assertIn("events must be a list", log.errors()[0]["reason"])

    def test_wrongFormat(self) -> None:
        """Some other JSON file in the directory is not taken for state."""
        doc = self.store.document("x")
        with open(doc.path, "w") as f:
            json.dump({"hello": "world"}, f)
        LogCapture(self)
        self.assertIsNone(doc.load())

    def test_badNames(self) -> None:
        """Names that could escape the directory or clash with files are refused."""
        for name in ["../x", "a/b", "", ".hidden", "x.json", "a" * 200, "x.tmp"]:
            self.assertRaises(ValueError, self.store.document, name)
            self.assertRaises(ValueError, self.store.child, name)

    def test_children(self) -> None:
        """Child stores are subdirectories, listed by name."""
        child = self.store.child("endpoint-1")
        child.document("d").save(True)
        self.store.child("endpoint-2")
        self.assertEqual(self.store.children(), ["endpoint-1", "endpoint-2"])
        self.assertEqual(Store(child.path).document("d").load(), True)

    def test_childPaths(self) -> None:
        """A child's path, and its documents', are its parent's absolute directory and its name, at any depth."""
        store = Store.open(os.path.relpath(self.path))
        grandchild = store.child("endpoint-1").child("datamodel")
        self.assertEqual(grandchild.path, os.path.join(os.path.abspath(self.path), "endpoint-1", "datamodel"))
        self.assertTrue(os.path.isdir(grandchild.path))
        self.assertEqual(grandchild.document("values").path, os.path.join(grandchild.path, "values.json"))

    def test_childrenShareTheTop(self) -> None:
        """
        A child store reads, writes, stamps and coalesces as the top store
        does, through the one object they share rather than copies of its
        own (issue 19); a writer set from a child is the top's.
        """
        reads: list[str] = []
        written: list[str] = []

        def read(path: str) -> bytes:
            reads.append(path)
            raise FileNotFoundError(path)

        def write(path: str, data: bytes) -> None:
            written.append(path)
            with open(path, "wb") as f:
                f.write(data)

        store = Store.open(self.path, read=read, write=write, clock=lambda: 0.0)
        grandchild = store.child("endpoint-1").child("datamodel")
        self.assertIs(grandchild._root, store._root)
        self.assertEqual(Store.__slots__, ("_up", "_name", "_failing"))
        grandchild.document("values").save(1)
        self.assertIsNone(grandchild.document("values").load())
        self.assertEqual((len(written), reads), (1, [grandchild.document("values").path]))
        writer = Writer(Clock())
        grandchild.writeWith(writer)
        self.assertIs(store.writer, writer)
        self.assertTrue(store.child("endpoint-2").document("d").coalesced)

    def test_staleTemporarySwept(self) -> None:
        """A temporary file left by a killed writer is removed on open."""
        stale = os.path.join(self.path, ".params.99999.tmp")
        with open(stale, "w") as f:
            f.write("half")
        Store.open(self.path)
        self.assertFalse(os.path.exists(stale))

    def test_openUnwritable(self) -> None:
        """A state directory that cannot be written is a StoreError with a reason."""
        if os.geteuid() == 0:
            # root writes anywhere; /proc refuses even root
            self.assertRaises(StoreError, Store.open, "/proc/proxier-state")
        else:
            os.chmod(self.path, 0o500)
            self.addCleanup(os.chmod, self.path, 0o700)
            self.assertRaises(StoreError, Store.open, self.path)

    def test_openNotDirectory(self) -> None:
        """A state path that is a file is a StoreError."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("x")
        e = self.assertRaises(StoreError, Store.open, path)
        self.assertIn("not a directory", str(e))


WRITER = textwrap.dedent(
    """
    import sys
    from proxier.store import Store
    doc = Store.open(sys.argv[1]).document("state")
    i = int(sys.argv[2])
    while True:
        i += 1
        # varying sizes, so that a torn write would show
        doc.save({"n": i, "pad": "x" * ((i * 7919) % 20000)})
        sys.stdout.write(f"{i}\\n")
        sys.stdout.flush()
    """
)


class KillTests(unittest.TestCase):
    """
    A writer killed with SIGKILL at random points never leaves a document that
    is neither the old nor the new one.
    """

    ROUNDS = 30

    def test_killedWriter(self) -> None:
        """
        Thirty times: start a writer, let it save for a random moment, SIGKILL
        it; the document then holds exactly the last save the writer reported
        or the one it was making, and never fails its checksum.
        """
        path = self.mktemp()
        Store.open(path)
        rng = random.Random(1234)
        last = 0
        log = LogCapture(self)
        for _ in range(self.ROUNDS):
            reported = killedWhileWriting(self, WRITER, [path, str(last)], rng.uniform(0, 0.03))
            payload = Store(path).document("state").load()
            self.assertIsNotNone(payload)
            self.assertIn(payload["n"], (reported[-1], reported[-1] + 1))
            self.assertEqual(payload["pad"], "x" * ((payload["n"] * 7919) % 20000))
            last = payload["n"]
        self.assertEqual(log.errors(), [])
        self.assertFalse([n for n in os.listdir(path) if "corrupt" in n])
