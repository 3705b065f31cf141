"""
Tests for L{proxier.console.notices}: what the proxier tells an installer
about itself, each notice from the plain data it reads, in the
C{(kind, text, since)} shape of a device's notices.
"""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest

from proxier import config as configmod
from proxier.console.notices import (
    consoleNotices,
    embeddedNotices,
    ordered,
    sessionNotices,
    stateNotices,
    unpresentedNotices,
)

ACS = "https://acs.example.net/cwmp"
ENDED = 1_796_562_000.0  # 2026-12-06T13:00:00Z


def snapshot(**kw: Any) -> dict[str, Any]:
    """An own endpoint's snapshot as ICWMPEndpoint.snapshot gives it, changed by C{kw}."""
    base = {"acsURL": ACS, "online": True, "inSession": False, "sessions": 1, "retryCount": 0, "pendingEvents": [],
            "pendingValueChanges": [], "transfers": [], "lastSession": None, "durable": True}
    base.update(kw)
    return base


def session(ok: bool = True, reason: str = "done", faults: tuple = ()) -> dict[str, Any]:
    return {"started": ENDED - 2, "ended": ENDED, "ok": ok, "reason": reason, "events": ["2 PERIODIC"],
            "faults": list(faults)}


class SessionTests(unittest.TestCase):
    def test_quiet(self) -> None:
        """An ACS URL and no session yet, or a last session that went well: nothing to say."""
        self.assertEqual(sessionNotices(snapshot()), [])
        self.assertEqual(sessionNotices(snapshot(lastSession=session())), [])

    def test_noACSURL(self) -> None:
        """No ACS URL: one action saying which key to set, and nothing about sessions that cannot run."""
        [(kind, text, since)] = sessionNotices(snapshot(acsURL="", lastSession=session(False, "boom")))
        self.assertEqual((kind, since), ("action", ""))
        self.assertIn("[acs]", text)
        self.assertIn("set url", text)

    def test_failed(self) -> None:
        """
        The last session failed (the ACS unreachable, or refusing): a warning
        naming the ACS and the reason, since when it was known, and how many
        failed in a row once there are several.
        """
        [(kind, text, since)] = sessionNotices(snapshot(
            retryCount=1, lastSession=session(False, "cannot reach https://acs.example.net/cwmp: refused")))
        self.assertEqual((kind, since), ("warning", "2026-12-06T13:00:00+00:00"))
        self.assertIn(f"the last session with the ACS at {ACS} failed: cannot reach", text)
        self.assertNotIn("in a row", text)
        [(_, text, _)] = sessionNotices(snapshot(
            retryCount=4, lastSession=session(False, "the ACS refused the credentials (401)")))
        self.assertIn("failed (4 failed in a row): the ACS refused the credentials (401)", text)

    def test_faults(self) -> None:
        """
        The faults the proxier answered the ACS in the last session (ok or
        not): the first few named, the others counted.
        """
        faults = [{"method": "GetParameterValues", "code": 9005, "string": f"Invalid parameter name {n}"}
                  for n in range(5)]
        [(kind, text, since)] = sessionNotices(snapshot(lastSession=session(faults=faults)))
        self.assertEqual((kind, since), ("warning", "2026-12-06T13:00:00+00:00"))
        self.assertIn("answered the ACS with 5 fault(s): GetParameterValues 9005 Invalid parameter name 0; ", text)
        self.assertIn("name 2; and 2 more", text)
        self.assertNotIn("name 3", text)
        failed = sessionNotices(snapshot(retryCount=1, lastSession=session(False, "HTTP 500", faults[:1])))
        self.assertEqual([k for k, _, _ in failed], ["warning", "warning"])


class ConsoleTests(unittest.TestCase):
    def section(self, **kw: str) -> Any:
        return configmod.load(None).replace("console", **kw)["console"]

    def test_plainOnLAN(self) -> None:
        """
        Served on a LAN address without a certificate: a warning naming the
        address and the keys that give HTTPS; on loopback, or with a
        certificate, nothing.
        """
        [(kind, text, since)] = consoleNotices(self.section(listen_address="192.168.1.1"))
        self.assertEqual((kind, since), ("warning", ""))
        self.assertIn("plain HTTP on 192.168.1.1", text)
        self.assertIn("[console] certificate and key", text)
        self.assertEqual(consoleNotices(self.section(listen_address="fd00::1", certificate="/etc/c.pem")), [])
        self.assertEqual(consoleNotices(self.section()), [])
        self.assertEqual(consoleNotices(self.section(listen_address="::1")), [])


class StateTests(unittest.TestCase):
    def test_undurable(self) -> None:
        """State held in memory only: one warning naming the directory and the endpoints; none when all is saved."""
        self.assertEqual(stateNotices("/var/lib/proxier", []), [])
        [(kind, text, since)] = stateNotices("/var/lib/proxier", ["self", "00D0F5-Widget-A"])
        self.assertEqual((kind, since), ("warning", ""))
        self.assertIn("cannot be saved in /var/lib/proxier", text)
        self.assertIn("self; 00D0F5-Widget-A run on what is in memory", text)
        self.assertIn("every 30 s", text)


class DeviceTests(unittest.TestCase):
    def test_unpresented(self) -> None:
        """Devices found that have no endpoint: counted, named in order (a few), pointing at the log."""
        self.assertEqual(unpresentedNotices([]), [])
        [(kind, text, _)] = unpresentedNotices(["d", "b", "a", "c"])
        self.assertEqual(kind, "warning")
        self.assertIn("4 device(s) found but not presented to the ACS", text)
        self.assertIn("the log says why): a; b; c; and 1 more", text)

    def test_embedded(self) -> None:
        """Embedded mode says it waits for the device's identity, until it has it."""
        [(kind, text, _)] = embeddedNotices(identified=False)
        self.assertEqual(kind, "info")
        self.assertIn("waiting for the device", text)
        self.assertEqual(embeddedNotices(identified=True), [])


class OrderTests(unittest.TestCase):
    def test_ordered(self) -> None:
        """Actions first, then warnings, then information; each kind keeps the order it was given in."""
        notices = [("info", "i", ""), ("warning", "w1", ""), ("action", "a", ""), ("warning", "w2", "")]
        self.assertEqual([t for _, t, _ in ordered(notices)], ["a", "w1", "w2", "i"])


class TreeSourceTests(unittest.TestCase):
    """L{TreeSource.notices} over a real service tree (not started: nothing listens, nothing is sent)."""

    def test_tree(self) -> None:
        """
        A tree whose own state cannot be saved, with a device no endpoint
        presents, and its console on a LAN address in plain HTTP: each is
        told, naming the state directory, the device and the address.
        """
        import errno

        from twisted.internet.testing import MemoryReactorClock

        from proxier.console.api import TreeSource
        from proxier.service import ProxierService
        from proxier.store import Store
        from tests._helpers import LogCapture
        from tests.test_service import FakeDevice
        from tests.test_store_failures import Disk

        disk = Disk()
        store = Store.open(self.mktemp(), write=disk.write)
        config = configmod.load(None).replace("connection_request", port=0)
        tree = ProxierService(config, store, [], reactor=MemoryReactorClock())
        source = TreeSource(tree)
        self.assertEqual(source.notices(), [])

        device = FakeDevice("A")
        tree.directory.deviceAppeared(device)
        LogCapture(self)  # the failed save's error line
        disk.writeError = errno.ENOSPC
        tree.ownEndpoint.requestSession("2 PERIODIC")
        tree.config = config.replace("console", listen_address="192.168.1.1")
        kinds = [(kind, text.split(" ")[0]) for kind, text, _ in source.notices()]
        self.assertEqual(kinds, [("warning", "state"), ("warning", "1"), ("warning", "the")])
        state, unpresented, console = (text for _, text, _ in source.notices())
        self.assertIn(f"cannot be saved in {store.path}", state)
        self.assertIn("self run on what is in memory", state)
        self.assertIn(device.key, unpresented)
        self.assertIn("192.168.1.1", console)
