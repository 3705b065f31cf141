# -*- test-case-name: tests.netns.test_sim_interop,tests.netns.test_upnpdm_multicast -*-
"""
A second network namespace joined to the test run's own by a veth pair, for
the tests that put a whole party (third-party control points, a simulator
process) on the far side of a real link. Call it after
L{tests.netns.isolation.requireIsolatedNamespace}.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from twisted.trial import unittest

__all__ = ["sh", "vethPair"]


def sh(*command: str) -> None:
    """Run a command (bounded); fail on a non-zero exit."""
    subprocess.run(command, check=True, timeout=30, capture_output=True)


def vethPair(testCase: unittest.TestCase, namespace: str, hereIf: str, thereIf: str, here: str,
             there: str) -> None:
    """
    Make C{namespace} (leftovers of an earlier run removed first), joined by
    C{hereIf} (C{here}/24, up) to C{thereIf} in it (C{there}/24, up, the
    multicast route 224.0.0.0/4 through it, loopback up); the namespace is
    deleted, and the pair with it, at the end of the test.
    """
    if os.geteuid() != 0 or shutil.which("ip") is None:
        raise unittest.SkipTest("needs root and iproute2 to make a namespace pair")
    for leftover in (("ip", "netns", "del", namespace), ("ip", "link", "del", hereIf)):
        subprocess.run(leftover, timeout=30, capture_output=True)
    sh("ip", "netns", "add", namespace)
    testCase.addCleanup(sh, "ip", "netns", "del", namespace)
    sh("ip", "link", "add", hereIf, "type", "veth", "peer", "name", thereIf, "netns", namespace)
    sh("ip", "addr", "add", f"{here}/24", "dev", hereIf)
    sh("ip", "link", "set", hereIf, "up")
    sh("ip", "-n", namespace, "link", "set", "lo", "up")
    sh("ip", "-n", namespace, "addr", "add", f"{there}/24", "dev", thereIf)
    sh("ip", "-n", namespace, "link", "set", thereIf, "up")
    sh("ip", "-n", namespace, "route", "add", "224.0.0.0/4", "dev", thereIf)
