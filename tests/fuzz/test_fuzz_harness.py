"""
Tests for the fuzz harness itself (L{tests.fuzz._harness}, L{tests.fuzz._tool}):
that a crash, a hang, a file open and a connect are each found and pinned
on the input that caused them, that a documented error and a slow moment
of a loaded machine are not, and that the inputs depend on the seed only.
"""

from __future__ import annotations

import io
import os
import socket
import sys

from twisted.trial import unittest

from tests.fuzz import _harness, _tool
from tests.fuzz._harness import Mutator, Target, fuzz


class Documented(ValueError):
    """The error the fake parsers below promise."""


def _parser(data: bytes) -> None:
    """A fake parser: C{crash} raises KeyError, C{bad} the documented error, C{sub} a subclass of it."""
    if b"crash" in data:
        {}["missing"]
    if b"bad" in data:
        raise Documented("refused")
    if b"plain" in data:
        raise ValueError("not the documented class")


class _Sub(Documented):
    pass


def _escaping(data: bytes) -> None:
    """A fake XML parser that opens a file or connects when asked to."""
    if b"open" in data:
        with open("/etc/hostname", "rb"):
            pass
    if b"connect" in data:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.connect(("127.0.0.1", 1))
            except OSError:
                pass


def _sleeping(data: bytes) -> None:
    """A parser that takes 2 s on C{slow} (a hang by the issue's definition)."""
    import time

    if b"slow" in data:
        time.sleep(2)


def _once(data: bytes) -> None:
    """Slow (1.5 s) the first time it sees C{once} only: a loaded machine's hiccup, not a hang."""
    import time

    flag = os.path.join(os.environ["PROXIER_FUZZ_TEST_DIR"], "seen")
    if b"once" in data and not os.path.exists(flag):
        open(flag, "w").close()
        time.sleep(1.5)


def _dying(data: bytes) -> None:
    """A parser that kills its process on C{die} (as a segfault in C code would)."""
    import signal

    if b"die" in data:
        os.kill(os.getpid(), signal.SIGSEGV)


def _seeds() -> list[bytes]:
    return [b"fine", b"also fine"]


TARGETS = [
    Target("test-parser", __name__, _parser, (Documented,), _seeds, (b"crash", b"bad")),
    Target("test-escaping", __name__, _escaping, (), _seeds, xml=True),
    Target("test-sleeping", __name__, _sleeping, (), _seeds),
    Target("test-once", __name__, _once, (), _seeds),
    Target("test-dying", __name__, _dying, (), _seeds),
]


class MutatorTests(unittest.TestCase):
    def test_deterministic(self) -> None:
        """The same seed gives the same inputs (seeds first), another seed others."""
        seeds = [b"NOTIFY * HTTP/1.1\r\nBOOTID.UPNP.ORG: 7\r\n\r\n", b"<a><b>1</b></a>"]
        first = Mutator(seeds, [b"<!DOCTYPE"], 1).inputs(500)
        self.assertEqual(first, Mutator(seeds, [b"<!DOCTYPE"], 1).inputs(500))
        self.assertEqual(first[:2], seeds)
        self.assertNotEqual(first, Mutator(seeds, [b"<!DOCTYPE"], 2).inputs(500))
        self.assertGreater(len(set(first)), 400)

    def test_tokensAndBounds(self) -> None:
        """Mutants carry the family's tokens and the generic ones (Unicode digits), and stay under the size cap."""
        inputs = Mutator([b"SEQ: 12\r\n"], [b"<!DOCTYPE"], 3).inputs(3000)
        self.assertTrue(any(b"<!DOCTYPE" in i for i in inputs))
        self.assertTrue(any("\u00b2".encode() in i for i in inputs))
        self.assertTrue(all(len(i) <= Mutator.MAX_INPUT for i in inputs))


class HarnessTests(unittest.TestCase):
    def run_(self, target: Target, inputs: list[bytes], **kw) -> _harness.Report:  # type: ignore[no-untyped-def]
        return fuzz(target, seconds=30, maxInputs=len(inputs), seed=1, inputs=inputs, **kw)

    def test_crashesAndDocumentedErrors(self) -> None:
        """
        An undocumented exception is a crash pinned on its input, with the
        place and traceback; the documented class and its subclasses are
        not, a plain ValueError where a subclass of it is documented is.
        """
        report = self.run_(TARGETS[0], [b"fine", b"bad", b"xx crash", b"ok", b"plain"])
        self.assertEqual(report.inputs, 5)
        self.assertEqual(report.documented, 1)
        self.assertEqual([(f.index, f.data) for f in report.crashes], [(2, b"xx crash"), (4, b"plain")])
        crash = report.crashes[0]
        self.assertIn("KeyError", crash.error)
        self.assertIn("test_fuzz_harness.py", crash.trace)
        self.assertIn("b'xx crash'", report.describe())
        self.assertEqual((report.hangs, report.escapes), ([], []))

    def test_childDies(self) -> None:
        """A child killed by an input (SIGSEGV) is a crash pinned on that input; the run goes on in a new child."""
        report = self.run_(TARGETS[4], [b"fine", b"die", b"fine", b"fine"])
        self.assertEqual([(f.index, f.data) for f in report.crashes], [(1, b"die")], report.describe())
        self.assertIn("signal 11", report.crashes[0].error)
        self.assertEqual(report.inputs, 4)

    def test_fileOpenAndConnect(self) -> None:
        """Under strace, a file opened and a connect tried after start are found, each with its input."""
        if not os.access(_harness.STRACE, os.X_OK):
            raise unittest.SkipTest(f"{_harness.STRACE} is not installed: XML targets run unwatched")
        report = self.run_(TARGETS[1], [b"fine", b"open", b"fine", b"connect", b"fine"])
        self.assertTrue(report.watched)
        self.assertEqual(report.crashes, [])
        found = {(f.index, f.data): f.error for f in report.escapes}
        self.assertEqual(sorted(found), [(1, b"open"), (3, b"connect")], report.describe())
        self.assertIn("/etc/hostname", found[(1, b"open")])
        self.assertIn("connect", found[(3, b"connect")])

    def test_hang(self) -> None:
        """An input still running after a second, and again when tried alone, is a hang; the run goes on after it."""
        report = self.run_(TARGETS[2], [b"fine", b"slow", b"fine", b"fine"])
        self.assertEqual([(f.index, f.data) for f in report.hangs], [(1, b"slow")], report.describe())
        self.assertEqual(report.inputs, 4)  # the slow one finished when alone
        self.assertEqual(report.crashes, [])

    def test_slowOnceIsNoHang(self) -> None:
        """An input slow only once (a loaded machine) is tried again alone and is not reported."""
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        self.patch(os, "environ", dict(os.environ, PROXIER_FUZZ_TEST_DIR=directory))
        report = self.run_(TARGETS[3], [b"fine", b"once", b"fine"])
        self.assertEqual(report.findings, [], report.describe())
        self.assertEqual(report.suspectedHangs, 1)
        self.assertEqual(report.inputs, 3)


class ToolTests(unittest.TestCase):
    def test_allTargets(self) -> None:
        """tools/fuzz knows every family's targets, each name once."""
        names = [t.name for t in _tool.allTargets()]
        self.assertEqual(len(names), len(set(names)))
        for name in ("ssdp", "description", "scpd", "soap-response", "soap-request", "gena-notify",
                     "gena-subscription", "xmlstring", "cms", "cwmp-envelope", "cwmp-http", "digest-challenge",
                     "digest-authorization", "datetime", "types", "asciinum", "dps-documents", "wps", "outbound-url",
                     "ipp-message"):
            self.assertIn(name, names)

    def test_seedsAreUsable(self) -> None:
        """
        Every family's seeds run without a crash, and some are accepted
        (mutations of valid inputs reach past the first check; a policy
        target also seeds with what it must refuse).
        """
        for target in _tool.allTargets():
            seeds = list(target.seeds())
            accepted = 0
            for seed in seeds:
                try:
                    target.function(seed)
                except target.documented:
                    continue
                accepted += 1
            self.assertGreater(accepted, len(seeds) // 3, f"{target.name}: {accepted} of {len(seeds)} accepted")

    def test_minimize(self) -> None:
        """A crash is cut down to a small input that still crashes the same way."""
        data = b"x" * 20 + b"crash" + b"y" * 20
        report = fuzz(TARGETS[0], seconds=30, maxInputs=1, seed=1, inputs=[data])
        small = _tool.minimize(TARGETS[0], report.crashes[0], seed=1)
        self.assertEqual(small, b"crash")

    def test_main(self) -> None:
        """tools/fuzz's main saves a finding, prints the summary table and exits 1 when it found something."""
        directory = self.mktemp()
        self.patch(_tool, "allTargets", lambda: [TARGETS[0]])
        out = io.StringIO()
        self.patch(sys, "stdout", out)
        code = _tool.main(["--seconds", "2", "--inputs", "3000", "--seed", "5", "--crashes", directory])
        self.assertEqual(code, 1)
        printed = out.getvalue().splitlines()
        self.assertTrue(any(line.startswith("test-parser") and "3000" in line for line in printed), printed)
        saved = os.listdir(os.path.join(directory, "test-parser"))
        self.assertTrue(any(name.endswith(".bin") for name in saved))
