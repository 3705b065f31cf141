"""The multicast tests' guard, checked where it matters: inside the namespace."""

from __future__ import annotations

import os

from twisted.trial import unittest

from tests.netns.isolation import isolationProblem, requireIsolatedNamespace


class IsolationTests(unittest.TestCase):
    def test_isolated(self) -> None:
        """Inside the run's namespace there is no route out and only loopback."""
        requireIsolatedNamespace()
        self.assertIsNone(isolationProblem())
        with open("/proc/net/route") as f:
            routes = [line.split()[0] for line in f.readlines()[1:]]
        self.assertEqual(set(routes), {"lo"})  # 224.0.0.0/4 on loopback, nothing else

    def test_refusesWithoutMarker(self) -> None:
        """Without the marker the guard refuses, whatever the namespace."""
        self.patch(os, "environ", {})
        self.assertIn("not inside", isolationProblem())
