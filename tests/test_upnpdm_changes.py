"""
Tests for L{proxier.upnpdm.changes}: TR-330 Table 1's "4 VALUE CHANGE" row —
ConfigurationUpdate, the parameters with EventOnChange, the cached values,
and the ACS's own changes left out — against the simulator's CMS and its
real events; what is found reaches the listeners of the device's model,
and nothing is detected while nobody listens.
"""

from __future__ import annotations

from typing import Sequence

from twisted.internet import task
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from proxier.datamodel.capabilities import ILocalWrites, INotifyingDataModel
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.proxy.gate import ActionGate
from proxier.store import Store
from proxier.upnpdm.changes import ChangeWatcher
from proxier.upnpdm.errors import refusedByDevice
from proxier.upnpdm.model import CMSDataModel
from proxier.upnpdm.profile import candidates, capabilities, probe
from proxier.upnpdm.state import DeviceState
from tests.test_upnpdm_fakes import SimUPnPDevice


class WatcherTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.device = SimUPnPDevice(self.clock)
        self.sim = self.device.sim
        self.gate = ActionGate(lambda: self.device, self.clock, refused=refusedByDevice)
        [candidate], _ = candidates(self.device.description)
        self.profile = self.successResultOf(probe(self.gate.call, candidate,
                                                  capabilities(candidate, self.device.scpd), "2.17"))
        self.store = Store.open(self.mktemp())
        self.reports: list[tuple[list[ParameterValue], bool]] = []
        self.build()
        # the device's CMS events, as GENA would deliver them
        self.sim.cms.addListener(lambda variables: self.watcher.eventReceived(variables))

    def build(self) -> None:
        self.state = DeviceState(self.store.document("device"))
        self.model = CMSDataModel(self.profile, self.gate, self.state, clock=self.clock)
        self.watcher = ChangeWatcher(self.model, self.state)
        self.model.addChangeListener(self.listener)

    def listener(self, values: Sequence[ParameterValue], active: bool) -> None:
        """As the endpoint listens on the device's model (INotifyingDataModel)."""
        self.reports.append((list(values), active))

    def swept(self) -> None:
        self.successResultOf(self.watcher.sweep())

    def names(self) -> list[list[str]]:
        return [[v.name for v in values] for values, _ in self.reports]


class SweepTests(WatcherTestCase):
    def test_watchSet(self) -> None:
        """The sweep watches exactly the parameters whose EventOnChange is on, with their values now."""
        self.swept()
        self.assertEqual(sorted(self.state.baselines.values), [
            "/BBF/DeviceInfo/ProvisioningCode", "/BBF/DeviceInfo/SoftwareVersion",
            "/BBF/Ethernet/Interface/0/Enable", "/BBF/Ethernet/Interface/0/Status",
            "/BBF/Hosts/Host/0/HostName", "/BBF/Hosts/Host/1/HostName", "/BBF/Hosts/HostNumberOfEntries",
            "/BBF/Time/NTPServer1"])
        self.assertEqual(self.state.baselines.values["/BBF/Time/NTPServer1"], "pool.ntp.org")
        self.assertEqual(self.reports, [])
        self.assertTrue(self.watcher.swept)

    def test_checkBeforeSweepSweeps(self) -> None:
        """A check asked for before any sweep is a sweep."""
        self.successResultOf(self.watcher.check())
        self.assertEqual(self.watcher.counts["sweeps"], 1)


class ChangeTests(WatcherTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.swept()

    def test_localChangeReported(self) -> None:
        """The device's own change: ConfigurationUpdate → exactly that parameter, passive by default."""
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "ntp.local")
        self.assertEqual(self.reports, [([ParameterValue("Device.Time.NTPServer1", "ntp.local")], False)])
        self.assertEqual(self.state.baselines.values["/BBF/Time/NTPServer1"], "ntp.local")

    def test_activeNotification(self) -> None:
        """A parameter the ACS set to active notification is reported active."""
        self.successResultOf(self.model.setParameterAttributes([AttributeChange("Device.Time.NTPServer1", True, 2)]))
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "ntp.local")
        self.assertEqual(self.reports[-1][1], True)

    def test_withoutEventOnChangeNoEvent(self) -> None:
        """A change of a parameter without EventOnChange sends no event and is not reported."""
        self.sim.cms.setLocal("/BBF/Time/NTPServer2", "x")
        self.assertEqual(self.reports, [])

    def test_acsChangeLeftOut(self) -> None:
        """A value the ACS set itself is not reported back (Table 1: "excluding ... the ACS")."""
        self.successResultOf(self.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "acs.example")]))
        self.assertEqual(self.reports, [])
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "after")
        self.assertEqual(self.names(), [["Device.Time.NTPServer1"]])

    def test_localWriteReported(self) -> None:
        """
        A value set on the gateway (the local console, ILocalWrites) goes to
        the device as the ACS's would, and is reported as the device's own
        change where the ACS's is not.
        """
        verifyObject(ILocalWrites, self.model)
        self.assertEqual(self.successResultOf(self.model.setParameterValuesLocally(
            [ParameterValue("Device.Time.NTPServer1", "console.example")])), 0)
        self.assertEqual(self.reports, [([ParameterValue("Device.Time.NTPServer1", "console.example")], False)])
        [read] = self.successResultOf(self.model.getParameterValues(["Device.Time.NTPServer1"]))
        self.assertEqual(read.value, "console.example")

    def test_acsAddAndDeleteLeftOut(self) -> None:
        """AddObject and DeleteObject change HostNumberOfEntries, which is then not reported."""
        number, _ = self.successResultOf(self.model.addObject("Device.Hosts.Host."))
        self.successResultOf(self.model.deleteObject(f"Device.Hosts.Host.{number}."))
        self.assertEqual(self.reports, [])

    def test_newInstanceWatched(self) -> None:
        """An instance the device adds: the count is reported, and the new instance's parameters watched."""
        self.sim.cms.addLocalInstance("/BBF/Hosts/Host/", [("HostName", "printer")])
        self.assertEqual(self.names(), [["Device.Hosts.HostNumberOfEntries"]])
        self.assertIn("/BBF/Hosts/Host/2/HostName", self.state.baselines.values)
        self.sim.cms.setLocal("/BBF/Hosts/Host/2/HostName", "printer-2")
        self.assertEqual(self.names()[-1], ["Device.Hosts.Host.3.HostName"])

    def test_deletedInstance(self) -> None:
        """An instance the device deletes: its parameters are no longer watched, the count is reported."""
        self.sim.cms.deleteLocalInstance("/BBF/Hosts/Host/0/")
        self.assertNotIn("/BBF/Hosts/Host/0/HostName", self.state.baselines.values)
        self.assertEqual(self.names(), [["Device.Hosts.HostNumberOfEntries"]])

    def test_severalAtOnce(self) -> None:
        """Several parameters changed in one event are reported together."""
        self.sim.cms.setLocalValues([("/BBF/Time/NTPServer1", "a"), ("/BBF/Ethernet/Interface/0/Status", "Down")])
        [names] = self.names()
        self.assertEqual(sorted(names), ["Device.Ethernet.Interface.1.Status", "Device.Time.NTPServer1"])

    def test_changedWhileDown(self) -> None:
        """A change made while the proxier was down is reported by the first check after it starts again."""
        self.watcher.stop()
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "changed-while-down")
        self.build()
        self.swept()
        self.assertEqual(self.reports[-1][0], [ParameterValue("Device.Time.NTPServer1", "changed-while-down")])

    def test_stoppedWhileWaitingForTheLock(self) -> None:
        """
        A check waiting for the model's lock (a SetParameterValues the device
        answers slowly) when the proxier stops: once the withdrawn write lets
        go of the lock, the device is asked nothing and no timer is left.
        """
        self.device.delay = 1.0
        written = self.model.setParameterValues([ParameterValue("Device.Time.NTPServer1", "ntp.acs")])
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "ntp.local")  # its event: a check, waiting for the lock
        self.assertEqual(self.watcher.state_, "running")
        asked = dict(self.gate.counts)
        self.watcher.stop()
        self.gate.cancelAll("the proxier stops")
        self.failureResultOf(written)
        self.clock.advance(1)  # the device's late answer to the withdrawn write
        self.assertEqual(self.gate.counts, asked)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_sameValueOfItsType(self) -> None:
        """Values are compared as values of their type: '1' and 'true' are the same boolean."""
        self.assertTrue(self.model.sameValue("/BBF/Ethernet/Interface/0/Enable", "1", "true"))
        self.assertTrue(self.model.sameValue("/BBF/Ethernet/Interface/0/MaxBitRate", "07", "7"))
        self.assertFalse(self.model.sameValue("/BBF/Time/NTPServer1", "a", "A"))

    def test_coalesced(self) -> None:
        """Events while a check runs make one more check, not one each."""
        self.device.delay = 1.0
        self.watcher.check()
        for _ in range(5):
            self.watcher.check()
        self.clock.advance(1)
        self.clock.advance(1)
        self.clock.advance(1)
        self.assertEqual(self.watcher.counts["checks"], 3)
        self.assertEqual(self.watcher.state_, "idle")

    def test_schemaEvents(self) -> None:
        """A changed SupportedParametersUpdate makes the model learn again; the first one seen does not."""
        self.watcher.eventReceived([("SupportedParametersUpdate", "1,2024-01-01T00:00:00Z")])
        sweeps = self.watcher.counts["sweeps"]
        self.watcher.eventReceived([("SupportedParametersUpdate", "2,2024-01-01T00:00:01Z")])
        self.assertEqual(self.watcher.counts["sweeps"], sweeps + 1)
        self.watcher.eventReceived([("AttributeValuesUpdate", "1,x")])
        self.watcher.eventReceived([("AttributeValuesUpdate", "2,x")])
        self.assertEqual(self.watcher.counts["sweeps"], sweeps + 2)

    def test_failureLogged(self) -> None:
        """A device that stops answering: the check fails with a log line and the watcher stays usable."""
        self.device.unreachable = True
        self.successResultOf(self.watcher.check())
        self.assertEqual(self.watcher.state_, "idle")
        self.device.unreachable = False
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "back")
        self.assertEqual(self.names(), [["Device.Time.NTPServer1"]])


class ListeningTests(WatcherTestCase):
    """No listener, no detection: a check waits for the first one, so nothing is lost or told twice."""

    def setUp(self) -> None:
        super().setUp()
        self.swept()
        self.model.removeChangeListener(self.listener)

    def test_modelNotifies(self) -> None:
        """The device's model is what the endpoint listens to; a listener that fails does not stop the others."""
        self.assertTrue(INotifyingDataModel.providedBy(self.model))
        self.model.addChangeListener(lambda values, active: 1 / 0)
        self.model.addChangeListener(self.listener)
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "ntp.local")
        self.assertEqual(self.names(), [["Device.Time.NTPServer1"]])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_putOffUntilListened(self) -> None:
        """
        A change while nobody listens: no check runs, its baseline stays (on
        disk too); the first listener gets it, once — a second listener
        brings no second report.
        """
        checks = self.watcher.counts["checks"]
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "ntp.local")
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "ntp.later")
        self.assertEqual(self.watcher.counts["checks"], checks)
        self.assertTrue(self.watcher.waiting)
        self.assertEqual(DeviceState(self.store.document("device")).baselines.values["/BBF/Time/NTPServer1"],
                         "pool.ntp.org")
        self.model.addChangeListener(self.listener)
        self.assertEqual(self.reports, [([ParameterValue("Device.Time.NTPServer1", "ntp.later")], False)])
        self.assertFalse(self.watcher.waiting)
        self.model.addChangeListener(lambda values, active: self.reports.append((list(values), active)))
        self.assertEqual(len(self.reports), 1)

    def test_listenerLeavesDuringTheRead(self) -> None:
        """The only listener goes while the values are read: the baselines stay, the next listener hears it."""
        self.model.addChangeListener(self.listener)
        self.device.delay = 1.0
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "ntp.local")
        self.model.removeChangeListener(self.listener)
        self.clock.advance(1)
        self.assertEqual(self.reports, [])
        self.assertEqual(self.state.baselines.values["/BBF/Time/NTPServer1"], "pool.ntp.org")
        self.model.addChangeListener(self.listener)
        self.clock.advance(1)
        self.assertEqual(self.names(), [["Device.Time.NTPServer1"]])
        self.assertEqual(self.state.baselines.values["/BBF/Time/NTPServer1"], "ntp.local")

    def test_sweepDoneWithoutListener(self) -> None:
        """A sweep (a device's discovery) completes without a listener: only its check waits."""
        self.sim.cms.setLocal("/BBF/Time/NTPServer1", "ntp.local")
        self.successResultOf(self.watcher.sweep())
        self.assertEqual(self.reports, [])
        self.model.addChangeListener(self.listener)
        self.assertEqual(self.names(), [["Device.Time.NTPServer1"]])


class ResetTests(WatcherTestCase):
    def test_workFromBeforeAResetDropped(self) -> None:
        """
        A sweep under way when the device is reset stores nothing: what it read belongs to before the
        reset (here its last GetValues answers with a value from before), and the sweep asked for after
        the reset learns the device afresh.
        """
        from proxier.sim import cmsxml as devicexml

        self.device.hang.add("GetValues")
        self.watcher.sweep()
        [held] = self.device.pending
        self.state.factoryReset()
        self.watcher.reset()
        self.watcher.sweep()
        self.device.hang.clear()
        held.callback({"ParameterValueList": devicexml.parameterValueList(
            [("/BBF/Time/NTPServer1", "stale-from-before-the-reset")])})
        self.assertEqual(self.reports, [])
        self.assertEqual(self.state.baselines.values["/BBF/Time/NTPServer1"], "pool.ntp.org")
        self.assertEqual(self.watcher.state_, "idle")
        self.assertTrue(self.watcher.swept)
