"""
Tests for L{proxier.proxy.baselines}: the one store of notification
attributes and value baselines, and the one change detector.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.datamodel.values import Notification, ParameterValue
from proxier.proxy.baselines import Baselines, Observed, sameText


def seen(path: str, text: str, notification: int = Notification.PASSIVE) -> Observed:
    return Observed(path, text, ParameterValue(path, text, "xsd:string"), notification)


def sameNumber(path: str, old: str, new: str) -> bool:
    return int(old) == int(new)


class AttributeTests(unittest.TestCase):
    def test_defaultKeptAsNothing(self) -> None:
        """The parameter's default without an AccessList is no entry; anything else is one; dirty only on a change."""
        baselines = Baselines()
        baselines.setAttributes("Device.A", Notification.OFF)
        self.assertEqual((baselines.attributes, baselines.dirty), ({}, False))
        baselines.setAttributes("Device.A", Notification.ACTIVE)
        self.assertEqual(baselines.attributesOf("Device.A"), (2, ()))
        self.assertTrue(baselines.dirty)
        baselines.dirty = False
        baselines.setAttributes("Device.A", Notification.ACTIVE)
        self.assertFalse(baselines.dirty)
        baselines.setAttributes("Device.A", Notification.ACTIVE, ["Subscriber"], default=Notification.ACTIVE)
        self.assertEqual(baselines.attributesOf("Device.A"), (2, ("Subscriber",)))
        baselines.setAttributes("Device.A", Notification.ACTIVE, (), default=Notification.ACTIVE)
        self.assertIsNone(baselines.attributesOf("Device.A"))
        self.assertTrue(baselines.dirty)

    def test_emptyUntilWritten(self) -> None:
        """
        Baselines without entries hold no table of their own (issue 19);
        the first write makes one, which no other Baselines sees, and a copy
        or a reset leaves the original's entries alone.
        """
        first, second = Baselines(), Baselines()
        self.assertIs(first.values, second.values)
        self.assertIs(first.attributes, second.attributes)
        first.watch("Device.A", "1")
        first.setAttributes("Device.A", Notification.ACTIVE)
        self.assertEqual((dict(second.values), dict(second.attributes)), ({}, {}))
        copy = first.copy()
        copy.factoryReset()
        second.factoryReset()
        second.unwatch("Device.A")
        self.assertEqual((dict(first.values), dict(first.attributes)), ({"Device.A": "1"}, {"Device.A": (2, ())}))
        self.assertEqual((dict(copy.values), dict(copy.attributes), dict(Baselines().values)), ({}, {}, {}))

    def test_forgetBelowAndFactoryReset(self) -> None:
        """A deleted instance's attributes and baselines go (by their own prefixes); a reset clears all."""
        baselines = Baselines({"Device.H.2.N": (1, ()), "Device.H.20.N": (1, ())},
                              {"/BBF/H/1/N": "a", "/BBF/H/10/N": "b"})
        baselines.forgetBelow("Device.H.2.", "/BBF/H/1/")
        self.assertEqual(list(baselines.attributes), ["Device.H.20.N"])
        self.assertEqual(list(baselines.values), ["/BBF/H/10/N"])
        baselines.forgetBelow("Device.H.20.")
        self.assertEqual(baselines.attributes, {})
        baselines.markACS(["X"])
        baselines.factoryReset()
        self.assertEqual((baselines.attributes, baselines.values, baselines.markedByACS("X")), ({}, {}, False))

    def test_copyIsIndependent(self) -> None:
        """A copy set back undoes what changed after it was taken."""
        baselines = Baselines({"Device.A": (1, ())}, {"Device.A": "1"})
        kept = baselines.copy()
        baselines.setAttributes("Device.A", Notification.OFF)
        baselines.unwatch("Device.A")
        self.assertEqual((kept.attributesOf("Device.A"), kept.values), ((1, ()), {"Device.A": "1"}))


class WatchTests(unittest.TestCase):
    def test_cap(self) -> None:
        """The watch set is bounded; a watched path may still move."""
        baselines = Baselines(limit=2)
        self.assertTrue(baselines.watch("A", "1"))
        self.assertTrue(baselines.watch("B", "1"))
        self.assertFalse(baselines.watch("C", "1"))
        self.assertTrue(baselines.watch("A", "2"))
        found = baselines.detect([seen("D", "1")], sameText)
        self.assertEqual(found.refused, ["D"])

    def test_dirtyOnlyOnChange(self) -> None:
        """Watching the same text again, or unwatching what is not watched, is no change."""
        baselines = Baselines(values={"A": "1"})
        baselines.watch("A", "1")
        baselines.unwatch("B")
        self.assertFalse(baselines.dirty)
        baselines.unwatch("A")
        self.assertTrue(baselines.dirty)


class DetectTests(unittest.TestCase):
    def test_changedReportedAndRebaselined(self) -> None:
        """A value differing from its baseline is reported once and becomes the baseline; equal values are not."""
        baselines = Baselines(values={"A": "1", "B": "x"})
        found = baselines.detect([seen("A", "2"), seen("B", "x")], sameText)
        self.assertEqual(found.values, [ParameterValue("A", "2", "xsd:string")])
        self.assertEqual((found.active, found.moved), (False, ["A"]))
        self.assertEqual(baselines.values["A"], "2")
        self.assertEqual(baselines.detect([seen("A", "2")], sameText).values, [])

    def test_typedComparison(self) -> None:
        """The owner's comparison decides: the same value written differently is no change (and no new baseline)."""
        baselines = Baselines(values={"N": "07"})
        self.assertEqual(baselines.detect([seen("N", "7")], sameNumber).moved, [])
        self.assertEqual(baselines.values["N"], "07")

    def test_active(self) -> None:
        """One active parameter among the changes makes the report active."""
        baselines = Baselines(values={"A": "1", "B": "1"})
        found = baselines.detect([seen("A", "2"), seen("B", "2", Notification.ACTIVE)], sameText)
        self.assertTrue(found.active)
        self.assertEqual(len(found.values), 2)

    def test_adopt(self) -> None:
        """A path without baseline takes its value as one, unreported — or stays unwatched when not adopted."""
        baselines = Baselines()
        self.assertEqual(baselines.detect([seen("A", "1")], sameText, adopt=False).values, [])
        self.assertEqual(baselines.values, {})
        self.assertEqual(baselines.detect([seen("A", "1")], sameText).values, [])
        self.assertEqual(baselines.values, {"A": "1"})

    def test_noValueToSend(self) -> None:
        """A change with no value to send (refused by its type) moves the baseline but is not reported."""
        baselines = Baselines(values={"A": "1"})
        found = baselines.detect([Observed("A", "bad", None, Notification.ACTIVE)], sameText)
        self.assertEqual((found.values, found.active, found.moved), ([], False, ["A"]))
        self.assertEqual(baselines.values["A"], "bad")

    def test_acsMarks(self) -> None:
        """
        A change the ACS made (exactly there, or below a partial path it
        marked) becomes the baseline unreported; marks end at their time or
        when cleared.
        """
        baselines = Baselines(values={"A": "1", "/T/1/N": "1", "Device.T.1.N": "1", "B": "1"})
        baselines.markACS(["A", "/T/", "Device.T."], until=10.0)
        found = baselines.detect([seen("A", "2"), seen("/T/1/N", "2"), seen("Device.T.1.N", "2"), seen("B", "2")],
                                 sameText, now=5.0)
        self.assertEqual([v.name for v in found.values], ["B"])
        self.assertEqual(found.moved, ["A", "/T/1/N", "Device.T.1.N", "B"])
        self.assertEqual(baselines.values["A"], "2")
        self.assertTrue(baselines.markedByACS("A", now=10.0))
        self.assertFalse(baselines.markedByACS("A", now=10.5))
        baselines.markACS(["B"])
        self.assertTrue(baselines.markedByACS("B", now=1e12))
        baselines.clearMarks()
        self.assertFalse(baselines.markedByACS("B"))
        self.assertFalse(baselines.markedByACS("AB"))
