"""Tests for L{proxier.sim.logs}: a simulated device's log files."""

from __future__ import annotations

from twisted.internet import task
from twisted.trial import unittest

from proxier.sim.cms import formatTime
from proxier.sim.logs import LOG_LEVELS, DeviceLog


class DeviceLogTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.log = DeviceLog("system", self.clock.seconds, formatTime, maxSize=200)

    def test_linesAndLevel(self) -> None:
        """Lines at or above the log level are kept with their time and level; others are dropped."""
        self.assertTrue(self.log.append("Error", "disk full"))
        self.assertFalse(self.log.append("Debug", "noise"))
        self.assertEqual(self.log.content(), b"1970-01-01T00:00:00Z ERROR disk full\n")
        self.log.configure(True, "Debug")
        self.assertTrue(self.log.append("Debug", "now kept"))
        self.assertEqual(len(self.log), 2)

    def test_levelsRowByRow(self) -> None:
        """Every BMS:2 log level keeps itself and the more severe ones, nothing less severe."""
        for index, level in enumerate(LOG_LEVELS):
            self.log.clear()
            self.log.configure(True, level)
            kept = [l for l in LOG_LEVELS if self.log.append(l, l)]
            self.assertEqual(kept, list(LOG_LEVELS[: index + 1]))

    def test_maxSize(self) -> None:
        """The oldest lines go when the log would exceed MaxSize; a line breaks no line."""
        for i in range(20):
            self.clock.advance(1)
            self.log.append("Error", f"line {i}\nwith a break")
        self.assertLessEqual(self.log.size, 200)
        lines = self.log.content().splitlines()
        self.assertTrue(lines[-1].endswith(b"line 19 with a break"))
        self.assertNotIn(b"line 0 ", self.log.content())

    def test_disabled(self) -> None:
        """A disabled log records nothing; its configuration change is its last change."""
        self.clock.advance(5)
        self.log.configure(False, "Error")
        self.assertEqual(self.log.lastChange, 5)
        self.assertFalse(self.log.append("Emergency", "x"))
        self.assertRaises(ValueError, self.log.configure, True, "Loud")

    def test_persistence(self) -> None:
        """A reboot empties a volatile log and keeps a persistent one."""
        volatile = DeviceLog("boot", self.clock.seconds, formatTime, persistent=False)
        for log in (self.log, volatile):
            log.append("Error", "before")
            log.rebooted()
        self.assertEqual(len(self.log), 1)
        self.assertEqual(len(volatile), 0)
        self.assertEqual(self.log.uri, "urn:proxier-sim:log:system")
