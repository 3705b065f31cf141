"""
The devices a protocol found but does not proxy (yet), as the local console
lists them (L{IPendingDevices} through L{TreeSource}): a simulated
DeviceProtection device that grants the proxier nothing beyond Public is
listed as waiting, with the "action" to press its button, until its owner
does; then it is a proxied device and leaves the list. The proxier's whole
service tree, the simulated device over TLS on 127.0.0.1, the fake ACS.
"""

from __future__ import annotations

from twisted.internet import defer, reactor
from twisted.trial import unittest

from proxier.console.api import ConsoleAPI, TreeSource
from tests.test_dps_e2e import DPSLab
from tests.test_upnpdm_e2e import waitFor


class UPnPDMPendingTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_waitingForTheButtonThenProxied(self) -> None:
        """
        Held by DeviceProtection (Public only, push-button introduction
        offered): pending, "waiting", its notice the action of pressing the
        device's button, and no device; once the button is pressed and a role
        granted, a proxied device and no longer pending.
        """
        lab = DPSLab(self, upnp={"dps_introduction": "pbc", "dps_introduction_timeout": 60})
        lab.startTree()
        api = ConsoleAPI(TreeSource(lab.tree), reactor)
        self.assertEqual(api.pending(), [])
        lab.startFleet()
        udn = lab.sim().udn.lower()
        yield waitFor(lambda: udn in lab.controlPoint.security.introductions, what="the introduction")
        [row] = api.pending()
        self.assertEqual((row["key"], row["protocol"], row["host"], row["state"], row["proxied"]),
                         (udn, "UPnP-DM", "127.0.0.1", "waiting", False))
        self.assertIn("nothing beyond Public", row["why"])
        self.assertEqual(row["label"], "Simulated device 0 (proxier-sim ManageableDevice)")
        action = row["notices"][0]
        self.assertEqual(action["kind"], "action")
        self.assertIn("press the device's WPS/introduction button", action["text"])
        self.assertTrue(action["since"])
        self.assertEqual(api.devices(), [])
        lab.secure[0].pressButton()
        yield waitFor(lab.ended(0, 1), what="the BOOTSTRAP session")
        [device] = api.devices()
        self.assertEqual((device["identity"]["serialNumber"], device["proxied"]), ("SIM000000", True))
        self.assertEqual(api.pending(), [])
