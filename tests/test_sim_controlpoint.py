"""
The simulated devices seen by the project's own control point
(L{proxier.upnp.controlpoint}), both in unicast-loopback mode on 127.0.0.1:
discovery, actions, ConfigurationUpdate events, and the announcements TR-330
Table 1 maps to "1 BOOT" and "0 BOOTSTRAP".
"""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool

from proxier import config as C
from proxier.sim import cmsxml
from proxier.sim.fleet import Fleet, FleetOptions
from proxier.upnp import description as D
from proxier.upnp.controlpoint import ControlPoint
from proxier.upnp.settings import SECTION
from tests._waiter import watch

WAIT = 15.0
NS = 'xmlns:cms="urn:schemas-upnp-org:dm:cms"'


class ControlPointTests(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        config = C.load(None, [SECTION]).replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
        self.cp = ControlPoint(config, reactor=reactor)
        self.observer = watch(self, self.cp, timeout=WAIT)
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        self.fleet = Fleet(FleetOptions(count=1, controlPoint=self.cp.ssdpAddress, downtime=0.5),
                           reactor=reactor, agent=agent)
        self.fleet.startService()
        self.addCleanup(self.fleet.stopService)
        self.device = self.fleet.devices[0]

    @inlineCallbacks
    def readyDevice(self):
        _, device = yield self.observer.wait("ready")
        self.assertEqual(device.udn, self.device.udn)
        return device

    @inlineCallbacks
    def test_discoveredAndControlled(self) -> None:
        """The control point finds the device, reads its identity by GetValues, and gets ConfigurationUpdate."""
        device = yield self.readyDevice()
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        paths = f"<cms:ContentPathList {NS}><ContentPath>/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/</ContentPath>" \
                "</cms:ContentPathList>"
        result = yield device.callAction(cms, "GetValues", {"Parameters": paths})
        values = dict(cmsxml.parseParameterValueList(result["ParameterValueList"]))
        self.assertEqual(values["/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber"],
                         self.device.identity.serialNumber)
        while True:
            _, _, service, variables = yield self.observer.wait("event")
            if "ConfigurationUpdate" in dict(variables) and service.serviceType == D.CONFIGURATION_MANAGEMENT_2:
                break
        self.device.cms.setLocal("/BBF/Time/NTPServer1", "cp.example")
        while True:
            _, _, service, variables = yield self.observer.wait("event")
            update = dict(variables).get("ConfigurationUpdate", "")
            if update.startswith(f"{self.device.cms.version},"):
                break

    @inlineCallbacks
    def test_rebootAnnounced(self) -> None:
        """
        A BMS Reboot that keeps the device away longer than the tracker's
        byebye grace: the control point hears AboutToReboot, loses the device,
        and finds it again.
        """
        self.device.downtime = 6.0  # well past the 2 s grace, even when a loaded machine delays the byebye
        device = yield self.readyDevice()
        bms = device.services(D.BASIC_MANAGEMENT_2)[0][1]
        result = yield device.callAction(bms, "Reboot")
        self.assertEqual(result, {"RebootStatus": "RebootNow"})
        _, _, value = yield self.observer.wait("announcement")
        self.assertEqual(value, "AboutToReboot")
        _, _, reason = yield self.observer.wait("gone")
        self.assertEqual(reason, "byebye")
        yield self.readyDevice()

    @inlineCallbacks
    def test_quickRebootAnnounced(self) -> None:
        """
        A reboot quicker than the byebye grace (the alive comes back at once):
        the control point hears AboutToReboot and then sees the same device
        with a new BOOTID, fetched again, rather than losing it.
        """
        device = yield self.readyDevice()
        bms = device.services(D.BASIC_MANAGEMENT_2)[0][1]
        yield device.callAction(bms, "Reboot")
        _, _, value = yield self.observer.wait("announcement")
        self.assertEqual(value, "AboutToReboot")
        _, again, change = yield self.observer.wait("changed")
        self.assertTrue(change.bootId, change)
        self.assertEqual(again.udn, self.device.udn)
        self.assertNotIn("gone", [c[0] for c in self.observer.calls])

    @inlineCallbacks
    def test_baselineResetAnnounced(self) -> None:
        """A BMS BaselineReset: the control point hears AboutToBaselineReset (TR-330 "0 BOOTSTRAP")."""
        device = yield self.readyDevice()
        bms = device.services(D.BASIC_MANAGEMENT_2)[0][1]
        yield device.callAction(bms, "BaselineReset")
        _, _, value = yield self.observer.wait("announcement")
        self.assertEqual(value, "AboutToBaselineReset")
        _, again, change = yield self.observer.wait("changed")  # back within the byebye grace
        self.assertTrue(change.bootId, change)
        self.assertEqual(again.udn, self.device.udn)
