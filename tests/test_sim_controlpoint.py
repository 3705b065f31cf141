"""
The simulated devices seen by the project's own control point
(L{proxier.upnp.controlpoint}), both in unicast-loopback mode on 127.0.0.1:
discovery, actions, ConfigurationUpdate events, and the announcements TR-330
Table 1 maps to "1 BOOT" and "0 BOOTSTRAP".
"""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks, succeed
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from zope.interface import implementer

from proxier import config as C
from proxier.sim import cmsxml
from proxier.sim.fleet import Fleet, FleetOptions
from proxier.upnp import description as D
from proxier.upnp.controlpoint import ControlPoint, IUPnPDeviceObserver
from proxier.upnp.settings import SECTION

WAIT = 15.0
NS = 'xmlns:cms="urn:schemas-upnp-org:dm:cms"'


@implementer(IUPnPDeviceObserver)
class Waiter:
    """Records the control point's calls; a test waits (bounded) for the next one of a kind."""

    def __init__(self) -> None:
        self.calls: list = []
        self.waiting: list[tuple[str, Deferred]] = []

    def wait(self, kind: str) -> Deferred:
        for call in self.calls:
            if call[0] == kind:
                self.calls.remove(call)
                return succeed(call)
        d: Deferred = Deferred()
        self.waiting.append((kind, d))
        return d.addTimeout(WAIT, reactor)

    def _record(self, *call: object) -> None:
        for kind, d in list(self.waiting):
            if kind == call[0]:
                self.waiting.remove((kind, d))
                d.callback(call)
                return
        self.calls.append(call)

    def deviceReady(self, device):  # noqa: ANN001, ANN201
        self._record("ready", device)

    def deviceChanged(self, device, change):  # noqa: ANN001, ANN201
        self._record("changed", device, change)

    def deviceGone(self, device, reason):  # noqa: ANN001, ANN201
        self._record("gone", device, reason)

    def announcement(self, device, value):  # noqa: ANN001, ANN201
        self._record("announcement", device, value)

    def eventReceived(self, device, service, variables):  # noqa: ANN001, ANN201
        self._record("event", device, service, variables)

    def stateMayBeStale(self, device, service, reason):  # noqa: ANN001, ANN201
        self._record("stale", device, service, reason)


class ControlPointTests(unittest.TestCase):
    timeout = 60

    def setUp(self) -> None:
        config = C.load(None, [SECTION]).replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
        self.cp = ControlPoint(config, reactor=reactor)
        self.observer = Waiter()
        self.cp.addObserver(self.observer)
        self.cp.startService()
        self.addCleanup(self.cp.stopService)
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
        self.device.downtime = 3.0
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
