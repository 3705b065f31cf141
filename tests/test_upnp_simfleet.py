"""
The control point against the project's own simulated UPnP DM devices
(L{proxier.sim.fleet}), on loopback in unicast-loopback mode: the pair the
demo runs. Skipped when the simulator is not importable.
"""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.defer import TimeoutError, inlineCallbacks
from twisted.internet.task import deferLater
from twisted.trial import unittest
from twisted.trial.unittest import SkipTest

from proxier import config as C
from proxier.upnp import description as D, xmlstring
from proxier.upnp.controlpoint import ControlPoint
from proxier.upnp.settings import SECTION

from ._waiter import watch


class SimFleetTests(unittest.TestCase):
    def setUp(self) -> None:
        try:
            from proxier.sim.fleet import Fleet, FleetOptions
        except ImportError as e:
            raise SkipTest(f"the simulator is not available: {e}")
        # runs last: lets connections closed during the cleanups finish closing (no dirty reactor)
        self.addCleanup(deferLater, reactor, 0.2, lambda: None)
        config = C.load(None, [SECTION]).replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
        self.cp = ControlPoint(config, reactor=reactor)
        self.waiter = watch(self, self.cp)
        # a reboot keeps a device down 6 s: well past the tracker's 2 s byebye grace, even when a stalled
        # process reads the byebye late (the fleet and the control point share one reactor: after a stall of
        # the whole downtime the alive is sent before the byebye is read, and a reboot looks like a quick one)
        self.fleet = Fleet(FleetOptions(count=3, controlPoint=self.cp.ssdpAddress, downtime=6.0), reactor=reactor)
        self.fleet.startService()
        self.addCleanup(self.fleet.stopService)

    @inlineCallbacks
    def test_fleet(self) -> None:
        """Three simulated devices are described and subscribed; CMS answers; a reboot is announced, then they are back."""
        ready = []
        for _ in range(3):
            _, device = yield self.waiter.wait("ready")
            ready.append(device)
        self.assertEqual({d.udn for d in ready}, {d.udn.lower() for d in self.fleet.devices})
        device = ready[0]
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        self.assertEqual(device.subscriptionState(cms), "subscribed")
        models = yield device.callAction(cms, "GetSupportedDataModels")
        document = xmlstring.decode(models["SupportedDataModels"])
        self.assertIn("/UPnP/DM/", [e.text for e in document.iter("Location")])
        bms = device.services(D.BASIC_MANAGEMENT_2)[0][1]
        bootId = device.bootId
        yield device.callAction(bms, "Reboot")
        _, _, value = yield self.waiter.wait("announcement")
        self.assertEqual(value, "AboutToReboot")
        try:
            _, gone, reason = yield self.waiter.wait("gone")
        except TimeoutError:
            heard = [(c[0], str(c[2])) for c in self.waiter.calls if c[0] != "event"]
            self.fail(f"not gone after AboutToReboot; heard instead: {heard}")
        self.assertEqual((gone.udn, reason), (device.udn, "byebye"))
        _, back = yield self.waiter.wait("ready")
        self.assertEqual(back.udn, device.udn)
        self.assertNotEqual(back.bootId, bootId)

    @inlineCallbacks
    def test_quickReboot(self) -> None:
        """A device back within the byebye grace is not gone: it changed, with a new BOOTID (TR-330: 1 BOOT)."""
        for _ in range(3):
            yield self.waiter.wait("ready")
        simulated = self.fleet.devices[1]
        simulated.downtime = 0.3
        device = self.cp.device(simulated.udn)
        bootId = device.bootId
        simulated.reboot()
        _, _, value = yield self.waiter.wait("announcement")
        self.assertEqual(value, "AboutToReboot")
        _, changed, change = yield self.waiter.wait("changed")
        self.assertEqual(changed.udn, device.udn)
        self.assertTrue(change.bootId)
        self.assertNotEqual(changed.bootId, bootId)
        self.assertFalse([c for c in self.waiter.calls if c[0] == "gone"])
