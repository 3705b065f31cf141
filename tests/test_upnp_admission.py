"""Tests for L{proxier.upnp.admission}: fetch slots and the line of new devices waiting for one."""

from __future__ import annotations

from twisted.trial import unittest

from proxier.upnp.admission import LOOPBACK, Admission


class AdmissionTests(unittest.TestCase):
    def setUp(self) -> None:
        self.admission = Admission(maxPending=3, maxPerSource=2, maxWaiting=100, maxWaitingPerSource=50)

    def wait(self, udn: str, source: str) -> list:
        return self.admission.wait(udn, f"announcement of {udn}", None, source, until=1000.0)

    def drain(self) -> list[str]:
        """Admit while anyone may start, each admitted taking its slot."""
        out = []
        while (waiting := self.admission.next()) is not None:
            self.admission.started(waiting.source)
            out.append(waiting.udn)
        return out

    def test_slots(self) -> None:
        """maxPending overall and maxPerSource per source; this host's own devices have no per-source cap."""
        a = self.admission
        a.started("10.0.0.1")
        a.started("10.0.0.1")
        self.assertEqual((a.mayStart("10.0.0.1"), a.mayStart("10.0.0.2"), a.mayStart(LOOPBACK)), (False, True, True))
        a.started("10.0.0.2")
        self.assertFalse(a.mayStart("10.0.0.3"))
        a.finished("10.0.0.1")
        self.assertEqual((a.fetching, a.mayStart("10.0.0.1")), (2, True))
        b = Admission(maxPending=5, maxPerSource=1)
        for _ in range(4):
            b.started(LOOPBACK)
        self.assertTrue(b.mayStart(LOOPBACK))

    def test_orderFirstHeard(self) -> None:
        """Waiting devices go in the order first heard; one heard again keeps its place with its latest announcement."""
        a = self.admission
        for _ in range(3):
            a.started(LOOPBACK)
        for udn in ("u1", "u2", "u3"):
            self.wait(udn, LOOPBACK)
        a.wait("u1", "again", None, LOOPBACK, until=2000.0)
        self.assertFalse(a.mayStart(LOOPBACK))
        self.assertEqual(self.drain(), [])
        a.finished(LOOPBACK)
        a.finished(LOOPBACK)
        first = a.next()
        self.assertEqual((first.udn, first.message, first.until), ("u1", "again", 2000.0))
        a.started(LOOPBACK)
        self.assertEqual(self.drain(), ["u2"])
        self.assertEqual(list(a.waiting), ["u3"])

    def test_fullSourceParked(self) -> None:
        """A source with all its slots taken holds up nobody; its line goes on when one of its fetches ends."""
        a = self.admission
        a.started("A")
        a.started("A")
        self.wait("a1", "A")
        self.wait("a2", "A")
        self.wait("b1", "B")
        self.assertFalse(a.mayStart("C"))  # b1, heard first, goes before a newcomer of C
        self.assertEqual(self.drain(), ["b1"])
        a.finished("B")
        self.assertTrue(a.mayStart("C"))
        a.finished("A")
        self.assertEqual(self.drain(), ["a1"])
        self.assertEqual(list(a.waiting), ["a2"])

    def test_discard(self) -> None:
        """A device discarded at the head of its line, in its middle, or alone: the rest go on in order."""
        a = self.admission
        for _ in range(3):
            a.started(LOOPBACK)
        for udn, source in (("a1", "A"), ("a2", "A"), ("a3", "A"), ("b1", "B"), ("c1", "C")):
            self.wait(udn, source)
        self.assertEqual(a.discard("a1").udn, "a1")
        self.assertEqual(a.discard("b1").udn, "b1")
        self.assertIsNone(a.discard("b1"))
        for _ in range(3):
            a.finished(LOOPBACK)
        self.assertEqual(self.drain(), ["a2", "a3", "c1"])
        self.assertEqual((a.waiting, a._lines, a._parked), ({}, {}, set()))

    def test_movesLine(self) -> None:
        """A waiting device heard from another address waits in that address's line, as a newcomer."""
        a = self.admission
        for _ in range(3):
            a.started(LOOPBACK)
        self.wait("x", "A")
        self.wait("y", "B")
        self.wait("x", "C")
        self.assertEqual(a.waiting["x"].source, "C")
        for _ in range(3):
            a.finished(LOOPBACK)
        self.assertEqual(self.drain(), ["y", "x"])

    def test_bounds(self) -> None:
        """Beyond maxWaitingPerSource a source's newcomers are refused; beyond maxWaiting the least recently heard go."""
        a = Admission(maxPending=1, maxPerSource=1, maxWaiting=5, maxWaitingPerSource=3)
        a.started("A")
        refused = [a.wait(f"a{i}", "", None, "A", 10.0) for i in range(5)]
        self.assertEqual([[w.udn for w in r] for r in refused], [[], [], [], ["a3"], ["a4"]])
        for i in range(2):
            self.assertEqual(a.wait(f"b{i}", "", None, "B", 10.0), [])
        a.wait("a0", "", None, "A", 10.0)
        self.assertEqual([w.udn for w in a.wait("c0", "", None, "C", 10.0)], ["a1"])
        self.assertEqual(list(a.waiting), ["a0", "a2", "b0", "b1", "c0"])

    def test_clear(self) -> None:
        """clear() forgets every slot and waiting device."""
        a = self.admission
        a.started("A")
        self.wait("a1", "A")
        a.clear()
        self.assertEqual((a.fetching, a.waiting, a.mayStart("A"), a.next()), (0, {}, True, None))
