"""
Tests for L{proxier.upnpdm.state}: what a Virtual CWMP Device keeps across
restarts, written only when it changed, and a damaged document read as no
state.
"""

from __future__ import annotations

import os

from twisted.trial import unittest

from proxier.store import Store
from proxier.proxy.baselines import MAX_WATCHED
from proxier.upnpdm.state import DeviceState


class StateTests(unittest.TestCase):
    def setUp(self) -> None:
        self.store = Store.open(self.mktemp())
        self.document = self.store.document("device-X")

    def test_roundTrip(self) -> None:
        """Instance maps, notifications, baselines, BOOTIDs and an announcement survive a restart."""
        state = DeviceState(self.document)
        self.assertFalse(state.known)
        state.instances.sync("/BBF/Hosts/Host/", [0, 1])
        state.baselines.setAttributes("Device.Time.NTPServer1", 2)
        state.baselines.watch("/BBF/Time/NTPServer1", "pool.ntp.org")
        state.setBootId("uuid:a", 17)
        state.setAnnouncement("AboutToReboot")
        state.flush()
        again = DeviceState(self.store.document("device-X"))
        self.assertTrue(again.known)
        self.assertEqual(again.instances.known("/BBF/Hosts/Host/"), {0: 1, 1: 2})
        self.assertEqual(again.baselines.attributes, {"Device.Time.NTPServer1": (2, ())})
        self.assertEqual(again.baselines.values, {"/BBF/Time/NTPServer1": "pool.ntp.org"})
        self.assertEqual(again.bootIds, {"uuid:a": 17})
        self.assertEqual(again.announcement, "AboutToReboot")

    def test_documentOfEarlierVersions(self) -> None:
        """A document written before the baselines were shared (same keys) reads as it did, and is written back alike."""
        payload = {
            "instances": {"/BBF/Hosts/Host/": {"highest": 2, "numbers": [[0, 1], [1, 2]]}},
            "notifications": {"Device.Time.NTPServer1": 2, "Device.Hosts.Host.1.HostName": 1},
            "values": {"/BBF/Time/NTPServer1": "pool.ntp.org"},
            "bootIds": {"uuid:a": 17},
            "announcement": "",
        }
        self.document.save(payload)
        state = DeviceState(self.document)
        self.assertEqual(state.baselines.attributes, {"Device.Time.NTPServer1": (2, ()),
                                                      "Device.Hosts.Host.1.HostName": (1, ())})
        self.assertEqual(state.baselines.values, {"/BBF/Time/NTPServer1": "pool.ntp.org"})
        state.changed()
        state.flush()
        self.assertEqual(self.store.document("device-X").load(), payload)

    def test_flushOnlyWhenChanged(self) -> None:
        """Nothing changed: nothing written."""
        state = DeviceState(self.document)
        state.flush()
        self.assertFalse(os.path.exists(self.document.path))
        self.assertIsNone(state._retrier, "a saver made with nothing to save (issue 19)")
        state.stop()
        state.baselines.setAttributes("Device.X", 0)  # removing what is not there is no change
        state.baselines.unwatch("/BBF/X")
        state.flush()
        self.assertFalse(os.path.exists(self.document.path))
        state.baselines.watch("/BBF/X", "1")
        self.assertTrue(state.flush())
        self.assertTrue(os.path.exists(self.document.path))
        self.assertTrue(state.flush())
        os.remove(self.document.path)
        self.assertTrue(state.flush())
        self.assertFalse(os.path.exists(self.document.path))
        state.instances.assign("/BBF/T/", 0)
        state.flush()
        self.assertTrue(os.path.exists(self.document.path))

    def test_forgetBelowAndFactoryReset(self) -> None:
        """A deleted instance's notifications and baselines go; a factory reset clears all but BOOTIDs."""
        state = DeviceState(self.document)
        state.baselines.setAttributes("Device.Hosts.Host.2.HostName", 1)
        state.baselines.setAttributes("Device.Hosts.Host.20.HostName", 1)
        state.baselines.watch("/BBF/Hosts/Host/1/HostName", "a")
        state.baselines.forgetBelow("Device.Hosts.Host.2.", "/BBF/Hosts/Host/1/")
        self.assertEqual(list(state.baselines.attributes), ["Device.Hosts.Host.20.HostName"])
        self.assertEqual(state.baselines.values, {})
        state.setBootId("uuid:a", 3)
        state.instances.assign("/BBF/T/", 0)
        state.factoryReset()
        self.assertEqual((state.baselines.attributes, state.baselines.values, state.instances.tables()), ({}, {}, []))
        self.assertEqual(state.bootIds, {"uuid:a": 3})

    def test_watchCap(self) -> None:
        """The watch set is bounded."""
        state = DeviceState(self.document)
        for i in range(MAX_WATCHED):
            self.assertTrue(state.baselines.watch(f"/BBF/P{i}", "v"))
        self.assertFalse(state.baselines.watch("/BBF/One-too-many", "v"))
        self.assertTrue(state.baselines.watch("/BBF/P0", "w"))

    def test_badAnnouncement(self) -> None:
        """Only the two Table 1 announcements (or none) are kept."""
        self.assertRaises(ValueError, DeviceState(self.document).setAnnouncement, "AboutToExplode")

    def test_damagedDocument(self) -> None:
        """A document that fails validation is moved aside and read as no state."""
        self.document.save({"instances": {}, "notifications": {"X": 7}, "values": {}, "bootIds": {},
                            "announcement": ""})
        state = DeviceState(self.document)
        self.assertEqual(state.baselines.attributes, {})
        self.assertTrue(any(".corrupt-" in name for name in os.listdir(self.store.path)))
        self.flushLoggedErrors()
