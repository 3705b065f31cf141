"""Tests for L{proxier.sim.ssdp}: the device side of SSDP (UDA 1.1 §1)."""

from __future__ import annotations

import random

from twisted.internet import task
from twisted.trial import unittest

from proxier.sim.ssdp import ALIVE, ANNOUNCING, IDLE, MAX_PENDING_ANSWERS, ROUND_SPACING, Advertiser, SearchResponder
from proxier.upnp import ssdp

from tests.test_sim_fakes import RecordingSender, makeDevice

UDN = "uuid:00000000-0000-0000-0000-000000000001"
TYPES = [
    "urn:schemas-upnp-org:service:BasicManagement:2",
    "urn:schemas-upnp-org:service:ConfigurationManagement:2",
    "urn:schemas-upnp-org:service:SoftwareManagement:2",
]


class StubDevice:
    udn = UDN
    deviceType = "urn:schemas-upnp-org:device:ManageableDevice:2"
    location = "http://192.168.1.20:49200/description.xml"
    secureLocation = ""
    bootId = 7
    configId = 3

    def serviceTypes(self):
        return TYPES


class AdvertiserTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.sender = RecordingSender()
        self.device = StubDevice()
        self.advertiser = Advertiser(self.device, self.sender, self.clock, maxAge=1800, random=random.Random(1))

    def test_targets(self) -> None:
        """The root device, its UDN, its type and each service type are announced, in UDA order."""
        self.assertEqual([nt for nt, _ in self.advertiser.targets()],
                         ["upnp:rootdevice", UDN, self.device.deviceType] + TYPES)
        self.assertEqual(self.advertiser.targets()[0][1], f"{UDN}::upnp:rootdevice")
        self.assertEqual(self.advertiser.targets()[1][1], UDN)

    def test_threeAliveRoundsThenAlive(self) -> None:
        """start() sends the alive round three times a little apart, and again (three times) before half the max-age."""
        self.advertiser.start()
        self.assertEqual(self.advertiser.state, ANNOUNCING)
        self.assertEqual(len(self.sender.notifies), 6)
        self.clock.advance(ROUND_SPACING * 2 + ROUND_SPACING)
        self.assertEqual(len(self.sender.notifies), 18)
        self.assertEqual(self.advertiser.state, ALIVE)
        first = self.sender.notifies[0]
        self.assertEqual((first.nts, first.location, first.maxAge, first.bootId, first.configId),
                         (ssdp.ALIVE, self.device.location, 1800, 7, 3))
        self.assertIn("UPnP/1.1", first.server)
        refreshes = [c.getTime() - self.clock.seconds() for c in self.clock.getDelayedCalls()]
        self.assertEqual(len(refreshes), 1)
        self.assertTrue(1800 / 4 <= refreshes[0] < 900, refreshes)
        self.clock.advance(900)
        self.assertEqual(len(self.sender.notifies), 18 + 6)
        self.clock.advance(1)
        self.assertEqual(len(self.sender.notifies), 18 + 18)

    def test_refreshKeepsGoing(self) -> None:
        """Refreshes repeat for as long as the device lives: never a gap of half the max-age."""
        self.advertiser.start()
        times = []
        for _ in range(20):
            self.clock.advance(60)
            times.append(len(self.sender.notifies))
        self.assertGreater(times[-1], times[0])
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)

    def test_byebyeWithAnnouncements(self) -> None:
        """stop() sends byebye for every target with one Announcement.dm.upnp.org line per announcement."""
        self.advertiser.start()
        self.sender.clear()
        self.advertiser.stop("AboutToBaselineReset", "AboutToReboot")
        self.assertEqual(self.advertiser.state, IDLE)
        self.assertEqual(self.sender.kinds(), [ssdp.BYEBYE] * 6)
        byebye = self.sender.notifies[0]
        self.assertEqual(byebye.announcement, "AboutToBaselineReset")
        self.assertEqual((byebye.location, byebye.bootId), ("", 7))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.sender.clear()
        self.advertiser.stop()
        self.assertEqual(self.sender.notifies, [])

    def test_rawByebye(self) -> None:
        """On the wire, a byebye before a reboot carries the announcement header TR-330 Table 1 maps."""
        raw = []
        self.advertiser.sender = type("S", (), {"sendNotify": lambda s, d: raw.append(d), "sendTo": None})()
        self.advertiser.state = ALIVE
        self.advertiser.stop("AboutToReboot")
        self.assertIn(b"\r\nAnnouncement.dm.upnp.org: AboutToReboot\r\n", raw[0])
        self.assertIn(b"NTS: ssdp:byebye", raw[0])
        raw.clear()
        self.advertiser.stop("AboutToBaselineReset", "AboutToReboot")
        self.assertIn(b"\r\nAnnouncement.dm.upnp.org: AboutToBaselineReset\r\n"
                      b"Announcement.dm.upnp.org: AboutToReboot\r\n", raw[0])

    def test_silence(self) -> None:
        """A power cut sends nothing and stops the refreshes."""
        self.advertiser.start()
        self.sender.clear()
        self.advertiser.silence()
        self.clock.advance(3600)
        self.assertEqual(self.sender.notifies, [])

    def test_update(self) -> None:
        """update() sends ssdp:update for every target with the current BOOTID and NEXTBOOTID."""
        self.advertiser.update(8)
        self.assertEqual(self.sender.kinds(), [ssdp.UPDATE] * 6)
        self.assertEqual((self.sender.notifies[0].bootId, self.sender.notifies[0].nextBootId), (7, 8))

    def test_headers(self) -> None:
        """SEARCHPORT and SECURELOCATION go on alive when the device has them."""
        self.advertiser.searchPort = 50000
        self.device.secureLocation = "https://192.168.1.20:49201/description.xml"
        self.advertiser.start()
        self.assertEqual(self.sender.notifies[0].searchPort, 50000)
        self.assertEqual(self.sender.notifies[0].secureLocation, self.device.secureLocation)

    def search(self, st: str) -> list[ssdp.SearchResponse]:
        return [ssdp.parse(a) for a in self.advertiser.answers(ssdp.Search(st=st))]

    def test_answers(self) -> None:
        """Searches are answered for matching targets only, an older version with the ST searched for."""
        self.advertiser.start()
        self.assertEqual(len(self.search("ssdp:all")), 6)
        self.assertEqual([r.st for r in self.search("upnp:rootdevice")], ["upnp:rootdevice"])
        self.assertEqual([r.usn for r in self.search(UDN)], [UDN])
        older = self.search("urn:schemas-upnp-org:service:ConfigurationManagement:1")
        self.assertEqual([(r.st, r.usn) for r in older],
                         [("urn:schemas-upnp-org:service:ConfigurationManagement:1",
                           f"{UDN}::urn:schemas-upnp-org:service:ConfigurationManagement:1")])
        self.assertEqual(self.search("urn:schemas-upnp-org:service:ConfigurationManagement:3"), [])
        self.assertEqual(self.search("urn:schemas-upnp-org:device:MediaServer:1"), [])
        self.assertEqual(self.search("uuid:other"), [])
        answer = self.search("urn:schemas-upnp-org:device:ManageableDevice:1")[0]
        self.assertEqual((answer.location, answer.bootId, answer.configId, answer.maxAge),
                         (self.device.location, 7, 3, 1800))

    def test_idleAnswersNothing(self) -> None:
        """A device that is not announcing answers no search."""
        self.assertEqual(self.search("ssdp:all"), [])


class ResponderTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.sender = RecordingSender()
        self.devices = [makeDevice(self.clock, index=i)[0] for i in range(3)]
        for device in self.devices:
            device.advertiser.sender = self.sender
        self.responder = SearchResponder(lambda: [d.advertiser for d in self.devices], self.sender, self.clock,
                                         multicast=True, random=random.Random(2))

    def test_mxDelay(self) -> None:
        """Every device answers, unicast to the searcher, each within MX seconds."""
        search = ssdp.Search(st="upnp:rootdevice", mx=3).toBytes()
        self.responder.datagramReceived(search, ("192.168.1.5", 40000))
        self.assertEqual(self.sender.unicast, [])
        self.clock.advance(3)
        self.assertEqual(len(self.sender.unicast), 3)
        self.assertEqual({a for _, a in self.sender.unicast}, {("192.168.1.5", 40000)})
        self.assertEqual({m.udn for m, _ in self.sender.unicast}, {d.udn for d in self.devices})

    def test_bigMXCapped(self) -> None:
        """An MX above 5 is treated as 5."""
        self.responder.datagramReceived(ssdp.Search(st="ssdp:all", mx=120).toBytes(), ("192.168.1.5", 40000))
        self.clock.advance(5)
        self.assertEqual(len(self.sender.unicast), 18)

    def test_unicastWithoutMX(self) -> None:
        """A unicast search without MX is answered at once; a multicast one without MX is dropped."""
        self.responder.datagramReceived(ssdp.Search(st="upnp:rootdevice", mx=None, host="192.168.1.20:1900").toBytes(),
                                        ("192.168.1.5", 40000))
        self.clock.advance(0)
        self.assertEqual(len(self.sender.unicast), 3)
        self.responder.datagramReceived(ssdp.Search(st="upnp:rootdevice", mx=None).toBytes(), ("192.168.1.5", 40000))
        self.clock.advance(10)
        self.assertEqual(len(self.sender.unicast), 3)
        self.assertEqual(self.responder.dropped, 1)

    def test_garbageAndOthers(self) -> None:
        """Garbage is dropped and counted; other devices' NOTIFYs and answers are ignored."""
        self.responder.datagramReceived(b"\x00garbage", ("192.168.1.5", 1))
        self.responder.datagramReceived(ssdp.Notify(ssdp.ALIVE, UDN, UDN, location="http://x/").toBytes(), ("192.168.1.5", 1))
        self.clock.advance(10)
        self.assertEqual((self.responder.dropped, self.sender.unicast), (1, []))

    def test_flood(self) -> None:
        """Searches that would queue more than the cap of answers are dropped, not queued."""
        self.assertEqual(self.responder.maxPending, MAX_PENDING_ANSWERS)
        self.responder.maxPending = 100
        search = ssdp.Search(st="ssdp:all", mx=5).toBytes()
        for _ in range(10):
            self.responder.datagramReceived(search, ("192.168.1.5", 40000))
        self.assertEqual(self.responder.pending, 90)
        self.assertEqual(self.responder.dropped, 5)
        self.clock.advance(5)
        self.assertEqual(self.responder.pending, 0)

    def test_stopDropsWaitingAnswers(self) -> None:
        """An answer sent is no longer held; stop cancels those still waiting, and nothing more is sent."""
        self.responder.datagramReceived(ssdp.Search(st="ssdp:all", mx=5).toBytes(), ("192.168.1.5", 40000))
        self.clock.advance(2.5)
        sent = len(self.sender.unicast)
        self.assertTrue(0 < sent < 18)
        self.assertEqual(len(self.responder._scheduled), 18 - sent)
        self.responder.stop()
        self.assertEqual((self.responder._scheduled, self.responder.pending), ({}, 0))
        self.clock.advance(10)
        self.assertEqual(len(self.sender.unicast), sent)

    def test_sendErrorsLogged(self) -> None:
        """A send that fails is logged, not raised."""
        def refuse(datagram, address):
            raise OSError(101, "Network is unreachable")

        self.sender.sendTo = refuse
        self.responder.datagramReceived(ssdp.Search(st="upnp:rootdevice", mx=1).toBytes(), ("192.168.1.5", 40000))
        self.clock.advance(1)
        self.assertEqual(self.responder.answered, 3)
