"""
Tests for L{proxier.sdnotify} and the service tree's use of it: the
datagrams systemd would read, on an AF_UNIX socket the test binds itself.
"""

from __future__ import annotations

import os
import socket
import tempfile

from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest

from proxier.config import load
from proxier.sdnotify import Notifier
from proxier.service import ProxierService
from proxier.store import Store
from tests._helpers import LogCapture


class Listener:
    """What systemd is here: a datagram socket bound in a fresh temporary directory."""

    def __init__(self, testCase: unittest.TestCase) -> None:
        directory = tempfile.mkdtemp(prefix="notify")  # short: AF_UNIX paths are at most 107 bytes
        self.path = os.path.join(directory, "s")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        testCase.addCleanup(self.sock.close)
        testCase.addCleanup(lambda: (os.unlink(self.path), os.rmdir(directory)))

    def received(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return out


class NotifierTests(unittest.TestCase):
    def test_sends(self) -> None:
        """Each state is one datagram of KEY=value lines on $NOTIFY_SOCKET."""
        listener = Listener(self)
        notifier = Notifier({"NOTIFY_SOCKET": listener.path})
        self.assertTrue(notifier.ready("running"))
        self.assertTrue(notifier.watchdog())
        self.assertTrue(notifier.reloading())
        self.assertTrue(notifier.stopping())
        got = listener.received()
        self.assertEqual(got[:2], ["READY=1\nSTATUS=running", "WATCHDOG=1"])
        self.assertRegex(got[2], r"^RELOADING=1\nMONOTONIC_USEC=\d+$")
        self.assertEqual(got[3], "STOPPING=1")

    def test_abstractAddress(self) -> None:
        """An address starting with @ is an abstract socket (a leading NUL)."""
        name = f"proxier-test-{os.getpid()}-{id(self)}"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind("\0" + name)
        self.assertTrue(Notifier({"NOTIFY_SOCKET": "@" + name}).ready())
        self.assertEqual(sock.recv(100), b"READY=1")

    def test_withoutSystemd(self) -> None:
        """No $NOTIFY_SOCKET (procd, a shell): nothing is sent, nothing fails; a relative path is ignored too."""
        for env in ({}, {"NOTIFY_SOCKET": ""}, {"NOTIFY_SOCKET": "relative/path"}):
            notifier = Notifier(env)
            self.assertFalse(notifier.enabled)
            self.assertFalse(notifier.ready())

    def test_failureLoggedOnce(self) -> None:
        """A socket that is gone: the send fails quietly, with one warning, never an exception."""
        logs = LogCapture(self)
        notifier = Notifier({"NOTIFY_SOCKET": "/nonexistent/notify"})
        self.assertFalse(notifier.ready())
        self.assertFalse(notifier.watchdog())
        self.assertEqual(len([e for e in logs.events if "cannot tell systemd" in e.get("log_format", "")]), 1)

    def test_watchdogInterval(self) -> None:
        """WATCHDOG_USEC gives the interval, unless WATCHDOG_PID names another process."""
        self.assertEqual(Notifier({"WATCHDOG_USEC": "30000000"}, pid=7).watchdogSeconds, 30.0)
        self.assertEqual(Notifier({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"}, pid=7).watchdogSeconds, 30.0)
        self.assertIsNone(Notifier({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"}, pid=7).watchdogSeconds)
        self.assertIsNone(Notifier({"WATCHDOG_USEC": "0"}).watchdogSeconds)
        self.assertIsNone(Notifier({"WATCHDOG_USEC": "٣٠"}).watchdogSeconds)


class ServiceNotifyTests(unittest.TestCase):
    def test_readyWatchdogStopping(self) -> None:
        """The tree says READY once the reactor runs, beats WATCHDOG every half interval, and STOPPING at stop."""
        listener = Listener(self)
        clock = MemoryReactorClock()
        notifier = Notifier({"NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "20000000"})
        service = ProxierService(load(None).replace("connection_request", port=0), Store.open(self.mktemp()), [],
                                 reactor=clock, notifier=notifier)
        service.startService()
        self.assertEqual(listener.received(), [], "not ready before the reactor runs")
        clock.advance(0)
        self.assertEqual(listener.received(), ["READY=1\nSTATUS=running", "WATCHDOG=1"])
        clock.advance(10)
        clock.advance(10)
        self.assertEqual(listener.received(), ["WATCHDOG=1", "WATCHDOG=1"])
        service.stopService()
        self.assertEqual(listener.received(), ["STOPPING=1"])
        clock.advance(60)
        self.assertEqual(listener.received(), [], "no beat after the stop")
