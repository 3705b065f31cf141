"""
Tests for L{proxier.upnpdm.state}: what a Virtual CWMP Device keeps across
restarts, written only when it changed, and a damaged document read as no
state.
"""

from __future__ import annotations

import os

from twisted.trial import unittest

from proxier.store import Store
from proxier.upnpdm.state import MAX_WATCHED, DeviceState


class StateTests(unittest.TestCase):
    def setUp(self) -> None:
        self.store = Store.open(self.mktemp())
        self.document = self.store.document("device-X")

    def test_roundTrip(self) -> None:
        """Instance maps, notifications, baselines, BOOTIDs and an announcement survive a restart."""
        state = DeviceState(self.document)
        self.assertFalse(state.known)
        state.instances.sync("/BBF/Hosts/Host/", [0, 1])
        state.setNotification("Device.Time.NTPServer1", 2)
        state.watch("/BBF/Time/NTPServer1", "pool.ntp.org")
        state.setBootId("uuid:a", 17)
        state.setAnnouncement("AboutToReboot")
        state.flush()
        again = DeviceState(self.store.document("device-X"))
        self.assertTrue(again.known)
        self.assertEqual(again.instances.known("/BBF/Hosts/Host/"), {0: 1, 1: 2})
        self.assertEqual(again.notifications, {"Device.Time.NTPServer1": 2})
        self.assertEqual(again.values, {"/BBF/Time/NTPServer1": "pool.ntp.org"})
        self.assertEqual(again.bootIds, {"uuid:a": 17})
        self.assertEqual(again.announcement, "AboutToReboot")

    def test_flushOnlyWhenChanged(self) -> None:
        """Nothing changed: nothing written."""
        state = DeviceState(self.document)
        state.flush()
        self.assertFalse(os.path.exists(self.document.path))
        state.setNotification("Device.X", 0)  # removing what is not there is no change
        state.unwatch("/BBF/X")
        state.flush()
        self.assertFalse(os.path.exists(self.document.path))
        state.instances.assign("/BBF/T/", 0)
        state.flush()
        self.assertTrue(os.path.exists(self.document.path))

    def test_forgetBelowAndFactoryReset(self) -> None:
        """A deleted instance's notifications and baselines go; a factory reset clears all but BOOTIDs."""
        state = DeviceState(self.document)
        state.setNotification("Device.Hosts.Host.2.HostName", 1)
        state.setNotification("Device.Hosts.Host.20.HostName", 1)
        state.watch("/BBF/Hosts/Host/1/HostName", "a")
        state.forgetBelow("Device.Hosts.Host.2.", "/BBF/Hosts/Host/1/")
        self.assertEqual(list(state.notifications), ["Device.Hosts.Host.20.HostName"])
        self.assertEqual(state.values, {})
        state.setBootId("uuid:a", 3)
        state.instances.assign("/BBF/T/", 0)
        state.factoryReset()
        self.assertEqual((state.notifications, state.values, state.instances.tables()), ({}, {}, []))
        self.assertEqual(state.bootIds, {"uuid:a": 3})

    def test_watchCap(self) -> None:
        """The watch set is bounded."""
        state = DeviceState(self.document)
        for i in range(MAX_WATCHED):
            self.assertTrue(state.watch(f"/BBF/P{i}", "v"))
        self.assertFalse(state.watch("/BBF/One-too-many", "v"))
        self.assertTrue(state.watch("/BBF/P0", "w"))

    def test_badAnnouncement(self) -> None:
        """Only the two Table 1 announcements (or none) are kept."""
        self.assertRaises(ValueError, DeviceState(self.document).setAnnouncement, "AboutToExplode")

    def test_damagedDocument(self) -> None:
        """A document that fails validation is moved aside and read as no state."""
        self.document.save({"instances": {}, "notifications": {"X": 7}, "values": {}, "bootIds": {},
                            "announcement": ""})
        state = DeviceState(self.document)
        self.assertEqual(state.notifications, {})
        self.assertTrue(any(".corrupt-" in name for name in os.listdir(self.store.path)))
        self.flushLoggedErrors()
