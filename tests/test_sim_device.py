"""Tests for L{proxier.sim.device}: one simulated device's identity and life (TR-330 Table 1 behaviours)."""

from __future__ import annotations

from twisted.trial import unittest

from proxier.sim.device import DOWN, OFF, UP, Identity
from proxier.sim.errors import ActionError
from proxier.sim.firmware import makeImage
from proxier.sim.service import ActionContext, Service
from proxier.sim.servicetypes import BMS2
from proxier.upnp import gena, ssdp

from tests.test_sim_fakes import invoke, makeDevice

FW = "http://192.168.1.5:8080/fw.bin"


class IdentityTests(unittest.TestCase):
    def test_forIndex(self) -> None:
        """Each index gets its own stable UDN, serial number and MAC address; overrides apply."""
        a, b = Identity.forIndex(0), Identity.forIndex(1)
        self.assertNotEqual(a.udn, b.udn)
        self.assertEqual(Identity.forIndex(1), b)
        self.assertNotEqual(Identity.forIndex(1, "other").udn, b.udn)
        self.assertEqual((b.serialNumber, b.macAddress), ("SIM000001", "02:c0:de:00:00:01"))
        self.assertTrue(a.udn.startswith("uuid:"))
        self.assertEqual(Identity.forIndex(2, productClass="Camera").productClass, "Camera")
        self.assertEqual(str(b.deviceIdentity), "02C0DE-SimDM-SIM000001")


class LifeTests(unittest.TestCase):
    def setUp(self) -> None:
        self.device, self.clock, self.sender, self.notifier, self.fetcher = makeDevice()
        self.clock.advance(1)  # the three alive rounds of power-on are out

    def settle(self, seconds: float = 10) -> None:
        self.clock.pump([0.1] * int(seconds * 10))

    def subscribe(self, shortName: str = "cms") -> str:
        publisher = self.device.publishers[shortName]
        sid = publisher.subscribe(gena.Subscribe(("http://192.168.1.5/cb",), 300), "192.168.1.5").sid
        publisher.start(sid)
        return sid

    def test_powerOn(self) -> None:
        """Power-on: UP, a BOOTID, alive announcements with the location and CONFIGID."""
        self.assertEqual(self.device.state, UP)
        alive = self.sender.notifies[0]
        self.assertEqual((alive.nts, alive.bootId, alive.configId, alive.location),
                         (ssdp.ALIVE, self.device.bootId, self.device.configId, self.device.location))
        self.assertGreater(self.device.bootId, 0)
        self.assertIn(b"boot 1", self.device.bms.logs["boot"].content())

    def test_rebootSequence(self) -> None:
        """BMS Reboot: answer first, byebye AboutToReboot after the delay, 503 while down, alive with a new BOOTID."""
        sid = self.subscribe()
        before = self.device.bootId
        self.device.cms.setLocal("/BBF/Time/NTPServer1", "kept.example")
        self.assertEqual(invoke(self.device.bms, "Reboot"), {"RebootStatus": "RebootNow"})
        self.assertEqual(self.device.state, UP)
        self.assertEqual(self.device.model.value("/UPnP/DM/DeviceInfo/OperatingSystem/WillReboot"), "1")
        self.sender.clear()
        self.clock.advance(self.device.rebootDelay)
        self.assertEqual(self.device.state, DOWN)
        self.assertEqual(set(self.sender.kinds()), {ssdp.BYEBYE})
        self.assertEqual({n.announcement for n in self.sender.notifies}, {"AboutToReboot"})
        self.assertEqual(self.device.publishers["cms"].subscriptions, {})
        self.sender.clear()
        self.clock.advance(self.device.downtime)
        self.assertEqual(self.device.state, UP)
        self.assertEqual(set(self.sender.kinds()), {ssdp.ALIVE})
        self.assertGreater(self.device.bootId, before)
        self.assertEqual(self.sender.notifies[0].bootId, self.device.bootId)
        self.assertEqual(self.device.model.value("/BBF/Time/NTPServer1"), "kept.example")
        self.assertEqual(self.device.model.value("/UPnP/DM/DeviceInfo/OperatingSystem/WillReboot"), "0")
        self.assertEqual(self.device.model.value("/UPnP/DM/DeviceInfo/UpTime"), "0")
        self.assertRaises(gena.GENAError, self.device.publishers["cms"].renew, gena.Renew(sid, 300))

    def test_rebootLater(self) -> None:
        """A device answering RebootLater goes down only after its later delay."""
        self.device.bms.rebootStatus = "RebootLater"
        self.device.bms.rebootLaterDelay = 20
        invoke(self.device.bms, "Reboot")
        self.clock.advance(19)
        self.assertEqual(self.device.state, UP)
        self.clock.advance(1)
        self.assertEqual(self.device.state, DOWN)

    def test_rebootOnce(self) -> None:
        """Two reboot requests in a row make one reboot."""
        self.device.requestReboot()
        self.device.requestReboot()
        self.sender.clear()
        self.settle()
        self.assertEqual(self.sender.kinds().count(ssdp.BYEBYE), 6)
        self.assertEqual(self.device.boots, 2)

    def test_baselineReset(self) -> None:
        """BaselineReset: byebye with AboutToBaselineReset (and AboutToReboot), factory values, a new BOOTID."""
        self.device.cms.setLocal("/BBF/Time/NTPServer1", "gone.example")
        self.device.cms.addLocalInstance("/BBF/Hosts/Host/")
        before = self.device.bootId
        invoke(self.device.bms, "BaselineReset")
        self.sender.clear()
        self.clock.advance(self.device.rebootDelay)
        byebye = self.sender.notifies[0]
        self.assertEqual(byebye.announcement, "AboutToBaselineReset")
        self.assertEqual(self.device.model.value("/BBF/Time/NTPServer1"), "pool.ntp.org")
        self.assertEqual(self.device.model.instanceNumbers("/BBF/Hosts/Host/"), [0, 1])
        self.clock.advance(self.device.downtime)
        self.assertEqual(self.device.state, UP)
        self.assertGreater(self.device.bootId, before)

    def test_baselineResetWithoutReboot(self) -> None:
        """A device whose reset does not reboot announces AboutToBaselineReset alone."""
        raw = []
        self.device.advertiser.sender = type("S", (), {"sendNotify": lambda s, d: raw.append(d)})()
        self.device.baselineResetReboots = False
        self.device.baselineReset()
        self.assertIn(b"Announcement.dm.upnp.org: AboutToBaselineReset\r\n", raw[0])
        self.assertNotIn(b"AboutToReboot", raw[0])

    def test_powerOffAndCut(self) -> None:
        """Power-off says byebye; a power cut says nothing; both leave the device OFF."""
        self.sender.clear()
        self.device.powerOff()
        self.assertEqual((self.device.state, set(self.sender.kinds())), (OFF, {ssdp.BYEBYE}))
        self.assertEqual(self.sender.notifies[0].announcement, "")
        self.device.powerOn()
        self.sender.clear()
        self.device.powerCut()
        self.clock.advance(3600)
        self.assertEqual((self.device.state, self.sender.notifies), (OFF, []))
        self.device.reboot()
        self.assertEqual(self.device.state, OFF)

    def test_offDuringReboot(self) -> None:
        """A device switched off while rebooting stays off."""
        self.device.reboot()
        self.device.powerOff()
        self.settle()
        self.assertEqual(self.device.state, OFF)

    def test_changeLocation(self) -> None:
        """A new address: ssdp:update with NEXTBOOTID, then alive with that BOOTID at the new LOCATION."""
        before = self.device.bootId
        self.sender.clear()
        self.device.changeLocation("http://192.168.2.20:49200", "192.168.2.20/24")
        update = self.sender.notifies[0]
        self.assertEqual((update.nts, update.bootId), (ssdp.UPDATE, before))
        self.assertEqual(update.nextBootId, self.device.bootId)
        alive = next(n for n in self.sender.notifies if n.nts == ssdp.ALIVE)
        self.assertEqual((alive.bootId, alive.location), (update.nextBootId, "http://192.168.2.20:49200/description.xml"))
        self.assertTrue(self.device.policy.accepts("http://192.168.2.5/cb", "192.168.2.5"))
        self.assertTrue(self.device.fetchAllowed("http://192.168.2.5/fw"))

    def test_firmwareUpdateWithReboot(self) -> None:
        """A firmware update: AboutToReboot, a new BOOTID, the new version everywhere, the OperationID forgotten."""
        self.fetcher.files[FW] = makeImage("2.0.0")
        sid = self.subscribe("sms")
        opId = int(invoke(self.device.sms, "Update", DUID=0, NewDUURI=FW, HandleDependencies=False)["OperationID"])
        self.sender.clear()
        self.settle()
        self.assertIn("AboutToReboot", {n.announcement for n in self.sender.notifies})
        self.assertEqual(self.device.state, UP)
        self.assertEqual(self.device.softwareVersion, "2.0.0")
        for path in ("/UPnP/DM/DeviceInfo/SoftwareVersion", "/BBF/DeviceInfo/SoftwareVersion",
                     "/UPnP/DM/Software/DU/0/Version"):
            self.assertEqual(self.device.model.value(path), "2.0.0")
        self.assertEqual(self.device.model.value("/UPnP/DM/Software/DU/0/URI"), FW)
        self.assertEqual(invoke(self.device.sms, "GetDUInfo", DUID=0)["DUVersion"], "2.0.0")
        self.assertRaises(ActionError, invoke, self.device.sms, "GetOperationInfo", OperationID=opId)
        events = [dict(e.variables) for e in self.notifier.events(sid)]
        self.assertEqual(events[0]["OperationIDs"], "")
        self.assertEqual(events[1].get("OperationIDs"), str(opId))
        self.assertNotIn("", [e.get("OperationIDs") for e in events[1:]])
        self.assertIn(b"firmware 1.0.0 replaced by 2.0.0", self.device.bms.logs["system"].content())

    def test_firmwareUpdateWithoutReboot(self) -> None:
        """Without a reboot, the update completes in place and the version changes at once."""
        self.device.sms.rebootAfterUpdate = False
        self.fetcher.files[FW] = makeImage("1.1.0")
        opId = int(invoke(self.device.sms, "Update", DUID=0, NewDUURI=FW, HandleDependencies=False)["OperationID"])
        bootId = self.device.bootId
        self.settle(3)
        self.assertEqual(invoke(self.device.sms, "GetOperationInfo", OperationID=opId)["OperationState"], "Completed")
        self.assertEqual((self.device.bootId, self.device.model.value("/BBF/DeviceInfo/SoftwareVersion")), (bootId, "1.1.0"))

    def test_fetchOnlyNearby(self) -> None:
        """Firmware is fetched only from loopback or the device's subnet, by IP literal; else Error_Network."""
        self.assertTrue(self.device.fetchAllowed("http://127.0.0.1:8000/fw"))
        self.assertTrue(self.device.fetchAllowed("http://192.168.1.200/fw"))
        for uri in ("http://10.0.0.1/fw", "http://files.example/fw", "http://169.254.169.254/", "http://[fe80::1]/"):
            self.assertFalse(self.device.fetchAllowed(uri), uri)
        self.device.sms.rebootAfterUpdate = False
        opId = int(invoke(self.device.sms, "Update", DUID=0, NewDUURI="http://10.0.0.1/fw",
                          HandleDependencies=False)["OperationID"])
        self.settle(2)
        info = invoke(self.device.sms, "GetOperationInfo", OperationID=opId)
        self.assertEqual(info["ErrorDescription"], "Error_Network")
        self.assertIn("neither loopback nor on this subnet", info["AdditionalInfo"])
        self.assertEqual(self.fetcher.asked, [])

    def test_addService(self) -> None:
        """A service added later is described and announced, and changes CONFIGID."""
        class Extra(Service):
            serviceType = BMS2
            shortName = "extra"

            def action_GetDeviceStatus(self) -> dict:
                return {"DeviceStatus": "OK,x"}

        configId = self.device.configId
        self.sender.clear()
        self.device.addService(Extra())
        self.assertEqual(self.device.configId, configId + 1)
        self.assertIn(b"/extra/control", self.device.description())
        self.assertEqual(self.sender.notifies[0].configId, configId + 1)
        self.assertIn("extra", self.device.publishers)
        self.assertRaises(ValueError, self.device.addService, Extra())

    def test_authorizer(self) -> None:
        """The role check reaches every service: a refused action is 606."""
        self.device.setAuthorizer(lambda serviceId, action, context: not action.startswith("Set"))
        for service in self.device.services:
            self.assertIsNot(service.authorizer, None)
        with self.assertRaises(ActionError) as caught:
            self.device.cms.invoke("SetAlarmsEnabled", {"StateVariableValue": "1"}, ActionContext(peer="x"))
        self.assertEqual(caught.exception.code, 606)

    def test_secureLocation(self) -> None:
        """A secure location is announced as SECURELOCATION.UPNP.ORG."""
        self.device.secureLocation = "https://192.168.1.20:49201/description.xml"
        self.sender.clear()
        self.device.reboot()
        self.settle(5)
        alive = next(n for n in self.sender.notifies if n.nts == ssdp.ALIVE)
        self.assertEqual(alive.secureLocation, self.device.secureLocation)

    def test_uptime(self) -> None:
        """UpTime counts from the last boot."""
        self.clock.advance(41)
        self.assertEqual(self.device.model.value("/BBF/DeviceInfo/UpTime"), "42")
        self.assertEqual(self.device.logURL("system"), "http://192.168.1.20:49200/logs/system")
