"""
Tests for L{proxier.upnpdm.instances}: UPnP instance numbers → CWMP instance
numbers that start at 1 and are never reused, and their durable form (the
shared map's own rules are in L{tests.test_proxy_instances}).
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.proxy.instances import MAX_INSTANCES
from proxier.upnpdm.instances import UPnPInstances

HOST = "/BBF/Hosts/Host/"


class NumberingTests(unittest.TestCase):
    def setUp(self) -> None:
        self.map = UPnPInstances()

    def test_freshDeviceReadsNaturally(self) -> None:
        """TR-330 §4.6.1: UPnP 0, 1, 2 are CWMP 1, 2, 3."""
        self.assertEqual([self.map.assign(HOST, n) for n in (0, 1, 2)], [1, 2, 3])
        self.assertEqual(self.map.keyOf(HOST, 2), 1)
        self.assertEqual(self.map.number(HOST, 2), 3)
        self.assertTrue(self.map.dirty)

    def test_stable(self) -> None:
        """Asking again gives the same number."""
        first = self.map.assign(HOST, 4)
        self.assertEqual(self.map.assign(HOST, 4), first)

    def test_neverReused(self) -> None:
        """A retired number is never given again, even to the UPnP number it had."""
        self.map.sync(HOST, [0, 1])
        self.assertEqual(self.map.retire(HOST, 1), 2)
        self.assertIsNone(self.map.keyOf(HOST, 2))
        self.assertEqual(self.map.assign(HOST, 1), 3)
        self.assertEqual(self.map.assign(HOST, 2), 4)

    def test_syncRetiresTheMissing(self) -> None:
        """A complete listing assigns the new and retires those gone."""
        self.map.sync(HOST, [0, 1, 2])
        retired = self.map.sync(HOST, [0, 2, 5])
        self.assertEqual(retired, [2])
        self.assertEqual(self.map.known(HOST), {0: 1, 2: 3, 5: 6})

    def test_retireForgetsNestedTables(self) -> None:
        """An instance gone takes the tables below it along."""
        self.map.assign("/BBF/A/", 0)
        self.map.assign("/BBF/A/0/B/", 0)
        self.map.retire("/BBF/A/", 0)
        self.assertEqual(self.map.tables(), ["/BBF/A/"])

    def test_forgetTablesBelow(self) -> None:
        """After a complete listing below a prefix, tables not listed hold nothing."""
        self.map.sync(HOST, [0, 1])
        self.map.assign("/BBF/Other/", 0)
        self.map.forgetTablesBelow("/BBF/Hosts/", keep=())
        self.assertEqual(self.map.known(HOST), {})
        self.assertEqual(self.map.known("/BBF/Other/"), {0: 1})
        self.assertEqual(self.map.assign(HOST, 0), 3)

    def test_reset(self) -> None:
        """A factory reset starts every table afresh."""
        self.map.sync(HOST, [0, 1])
        self.map.retire(HOST, 0)
        self.map.reset()
        self.assertEqual(self.map.assign(HOST, 0), 1)

    def test_caps(self) -> None:
        """A table cannot grow without bound."""
        for n in range(MAX_INSTANCES):
            self.map.assign(HOST, n)
        self.assertRaises(OverflowError, self.map.assign, HOST, MAX_INSTANCES)


class PersistenceTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """toJSON/fromJSON keep numbers and the high-water mark (no reuse after a restart)."""
        original = UPnPInstances()
        original.sync(HOST, [0, 1, 2])
        original.retire(HOST, 2)
        data = original.toJSON()
        self.assertFalse(original.dirty)
        restored = UPnPInstances.fromJSON(data)
        self.assertEqual(restored.known(HOST), {0: 1, 1: 2})
        self.assertEqual(restored.assign(HOST, 7), 8)
        self.assertEqual(restored.assign(HOST, 2), 9)

    def test_refused(self) -> None:
        """Data this class did not write is refused with ValueError."""
        bad = [
            [], {"no-slash": {"highest": 1, "numbers": []}}, {HOST: {"highest": 1}},
            {HOST: {"highest": 1, "numbers": [[0, 2]]}}, {HOST: {"highest": 3, "numbers": [[0, 1], [1, 1]]}},
            {HOST: {"highest": 3, "numbers": [[-1, 1]]}}, {HOST: {"highest": 3, "numbers": [[True, 1]]}},
        ]
        for data in bad:
            with self.subTest(data=data):
                self.assertRaises(ValueError, UPnPInstances.fromJSON, data)
