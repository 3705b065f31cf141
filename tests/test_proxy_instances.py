"""
Tests for L{proxier.proxy.instances}: native keys → CWMP instance numbers
that are never reused, for every proxied device and the trees the proxier
holds, and their durable form.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.proxy.instances import MAX_TABLES, SMALL_TABLE, InstanceMap

ROWS = "Device.Rows."


class NumberingTests(unittest.TestCase):
    def setUp(self) -> None:
        self.map = InstanceMap()

    def test_nextNumberWithoutPreference(self) -> None:
        """Without a preferred number, a new key gets one more than the highest ever given; a known key its own."""
        self.assertEqual([self.map.assign(ROWS, k) for k in ("a", "b", "a")], [1, 2, 1])
        self.assertEqual((self.map.keyOf(ROWS, 2), self.map.number(ROWS, "b")), ("b", 2))
        self.assertTrue(self.map.dirty)

    def test_preferred(self) -> None:
        """A preferred number is taken only when it is above every number given."""
        self.assertEqual(self.map.assign(ROWS, "a", preferred=5), 5)
        self.assertEqual(self.map.assign(ROWS, "b", preferred=3), 6)

    def test_freshNumbersAreNeverKeys(self) -> None:
        """An instance without key takes the next number (announced by following()); keys come after it."""
        self.assertEqual(self.map.following(ROWS), 1)
        self.assertEqual(self.map.fresh(ROWS), 1)
        self.assertEqual(self.map.following(ROWS), 2)
        self.assertEqual(self.map.assign(ROWS, "a"), 2)
        self.assertIsNone(self.map.keyOf(ROWS, 1))

    def test_retireNeverReuses(self) -> None:
        """A retired key's number is never given again, not even to the same key; tables inside it go."""
        self.map.assign(ROWS, "a")
        self.map.assign("Device.Rows.1.Sub.", "x")
        self.assertEqual(self.map.retire(ROWS, "a", below="Device.Rows.1."), 1)
        self.assertEqual(self.map.tables(), [ROWS])
        self.assertEqual(self.map.assign(ROWS, "a"), 2)
        self.assertIsNone(self.map.retire(ROWS, "nope"))

    def test_keyOfFollowsChanges(self) -> None:
        """The number → key index, made at the first keyOf, follows the keys given and retired after it."""
        self.map.assign(ROWS, "a")
        self.assertEqual(self.map.keyOf(ROWS, 1), "a")
        self.map.assign(ROWS, "b")
        self.map.retire(ROWS, "a")
        self.map.sync(ROWS, ["b", "c"])
        self.assertEqual([self.map.keyOf(ROWS, n) for n in (1, 2, 3)], [None, "b", "c"])
        restored = InstanceMap.fromJSON(self.map.toJSON())
        self.assertEqual([restored.keyOf(ROWS, n) for n in (1, 2, 3)], [None, "b", "c"])

    def test_forgetAbsent(self) -> None:
        """Keys of absent instances are kept up to a number, the oldest dropped first (their numbers stay used)."""
        for key in "abcd":
            self.map.assign(ROWS, key)
        self.map.forgetAbsent(ROWS, present={4}, keep=2)
        self.assertEqual(self.map.known(ROWS), {"b": 2, "c": 3, "d": 4})
        self.assertEqual(self.map.assign(ROWS, "a"), 5)
        self.map.forgetAbsent("Device.Other.", present=())

    def test_forgetTables(self) -> None:
        """Tables inside a deleted instance are forgotten; a table below a listed prefix but not listed is emptied."""
        self.map.assign("/A/", 0)
        self.map.assign("/A/0/B/", 0)
        self.map.assign("/C/", 0)
        self.map.forgetTablesBelow("/A/", keep=["/A/"])
        self.assertEqual(self.map.known("/A/0/B/"), {})
        self.map.forgetTables("/A/")
        self.assertEqual(self.map.tables(), ["/C/"])

    def test_tableCap(self) -> None:
        """The number of tables is bounded."""
        for n in range(MAX_TABLES):
            self.map.fresh(f"Device.T{n}.")
        self.assertRaises(OverflowError, self.map.fresh, "Device.Last.")
        self.assertRaises(OverflowError, self.map.assign, "Device.Last.", "a")


class CompactTests(unittest.TestCase):
    """Small tables as flat tuples, no table dict until a table is made (issue 19): the same numbers as a dict gave."""

    def test_noTablesShared(self) -> None:
        """Maps with no table share one empty mapping; a table made in one is seen by no other."""
        one, other = InstanceMap(), InstanceMap.fromJSON({})
        self.assertIs(one._tables, other._tables)
        one.assign(ROWS, "a")
        self.assertEqual((one.tables(), other.tables(), InstanceMap().tables()), ([ROWS], [], []))
        one.reset()
        self.assertEqual(one.tables(), [])

    def test_smallAndGrown(self) -> None:
        """A table keeps every key's number, order and retirement through its growth past SMALL_TABLE and back."""
        numbers = InstanceMap()
        keys = [f"k{i}" for i in range(SMALL_TABLE)] + [7, "k9", 8]
        given = [numbers.assign(ROWS, key) for key in keys[:SMALL_TABLE]]
        self.assertIsInstance(numbers._tables[ROWS]._numbers, tuple)
        self.assertEqual(numbers.retire(ROWS, "k3"), 4)
        self.assertEqual((numbers.number(ROWS, "k3"), numbers.keyOf(ROWS, 4), numbers.retire(ROWS, "k3")),
                         (None, None, None))
        self.assertEqual(numbers.keyOf(ROWS, 5), "k4")
        given.append(numbers.assign(ROWS, 7))
        self.assertIsInstance(numbers._tables[ROWS]._numbers, tuple)  # one retired: room for one more
        given += [numbers.assign(ROWS, key) for key in keys[SMALL_TABLE + 1:]]
        self.assertIsInstance(numbers._tables[ROWS]._numbers, dict)
        numbers.assign(ROWS, "k10")
        self.assertEqual(given, list(range(1, len(keys) + 1)))
        self.assertEqual((numbers.keyOf(ROWS, 10), numbers.keyOf(ROWS, 11), numbers.number(ROWS, "8")), ("k9", 8, None))
        expected = [[k, n] for k, n in zip(keys, given) if k != "k3"] + [["k10", 12]]
        self.assertEqual(numbers.toJSON()[ROWS]["numbers"], expected)
        again = InstanceMap.fromJSON(numbers.toJSON())
        self.assertEqual(again.known(ROWS), numbers.known(ROWS))
        self.assertEqual(again.toJSON(), numbers.toJSON())
        again.forgetAbsent(ROWS, present={1, 9}, keep=0)
        self.assertEqual((again.known(ROWS), again.following(ROWS), again.retire(ROWS, 7)), ({"k0": 1, 7: 9}, 13, 9))


class PersistenceTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """Keys (text or numbers), their order, and the high-water mark survive toJSON/fromJSON."""
        original = InstanceMap()
        for key in ("zeta", "alpha"):
            original.assign(ROWS, key)
        original.fresh(ROWS)
        original.assign("/BBF/T/", 4, preferred=5)
        data = original.toJSON()
        self.assertFalse(original.dirty)
        self.assertEqual(data[ROWS], {"highest": 3, "numbers": [["zeta", 1], ["alpha", 2]]})
        restored = InstanceMap.fromJSON(data)
        self.assertEqual(restored.known(ROWS), {"zeta": 1, "alpha": 2})
        self.assertEqual(restored.fresh(ROWS), 4)
        self.assertEqual(restored.number("/BBF/T/", 4), 5)

    def test_refused(self) -> None:
        """Data this class did not write is refused with ValueError."""
        bad = [
            [], {"Device.X": {"highest": 1, "numbers": []}}, {ROWS: {"highest": "1", "numbers": []}},
            {ROWS: {"highest": 1, "numbers": [["a", 2]]}}, {ROWS: {"highest": 2, "numbers": [["a", 1], ["a", 2]]}},
            {ROWS: {"highest": 2, "numbers": [[None, 1]]}}, {ROWS: {"highest": 2, "numbers": [["a", True]]}},
        ]
        for data in bad:
            with self.subTest(data=data):
                self.assertRaises(ValueError, InstanceMap.fromJSON, data)
