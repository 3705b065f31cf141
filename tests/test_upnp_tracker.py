"""Tests for L{proxier.upnp.tracker}: the device tracker's state machine, with a fake fetch and a clock."""

from __future__ import annotations

from dataclasses import replace

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial import unittest

from proxier.upnp import description as D, ssdp
from proxier.upnp.description import Device, DeviceDescription, Service
from proxier.upnp.fetcher import DeviceInfo
from proxier.upnp.ssdp import Notify, SearchResponse
from proxier.upnp.tracker import (CHECKS_AFTER_BYEBYE, MAX_MAX_AGE, MAX_SOURCES, PROBE_INTERVAL, Change, DeviceTracker,
                                   _heard, _heardAt, _unheard, isInteresting)
from proxier.lan.urlpolicy import Origin
from proxier.sharing import internText

from ._helpers import LogCapture
from .test_upnp_fakes import ROOT_UDN, dmDescription
from .test_lan_urlpolicy import LAN

ORIGIN = Origin("192.168.1.20", LAN)
CMS = D.CONFIGURATION_MANAGEMENT_2
LOC = "http://192.168.1.20:49152/desc.xml"
EMBEDDED_UDN = "uuid:0badcafe-0000-4000-8000-0000000000e1"


def alive(udn: str = ROOT_UDN, nt: str = CMS, location: str = LOC, **kw: object) -> Notify:
    kw.setdefault("maxAge", 1800)
    kw.setdefault("bootId", 1)
    kw.setdefault("configId", 1)
    return Notify(nts=ssdp.ALIVE, nt=nt, usn=f"{udn}::{nt}", location=location, **kw)


def byebye(udn: str = ROOT_UDN, **kw: object) -> Notify:
    return Notify(nts=ssdp.BYEBYE, nt="upnp:rootdevice", usn=f"{udn}::upnp:rootdevice", **kw)


def withEmbedded(udn: str = ROOT_UDN) -> DeviceDescription:
    """A root (no services) with an embedded ManageableDevice carrying CMS."""
    inner = dmDescription().device
    return DeviceDescription(device=Device(deviceType="urn:schemas-upnp-org:device:Basic:1", udn=udn,
                                           devices=(replace(inner, udn=EMBEDDED_UDN),)))


def nonDM(udn: str = ROOT_UDN) -> DeviceDescription:
    return DeviceDescription(device=Device(deviceType="urn:schemas-upnp-org:device:MediaRenderer:1", udn=udn,
                                           services=(Service("urn:schemas-upnp-org:service:RenderingControl:1",
                                                             "x", "/a", "/b"),)))


class FakeFetch:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Origin, Deferred]] = []

    def __call__(self, location: str, origin: Origin) -> Deferred:
        d: Deferred = Deferred()
        self.calls.append((location, origin, d))
        return d

    def answer(self, description: DeviceDescription, index: int = -1) -> None:
        self.calls[index][2].callback(DeviceInfo(description, self.calls[index][1]))

    def fail(self, index: int = -1) -> None:
        self.calls[index][2].errback(OSError("connection refused"))


class Listener:
    def __init__(self) -> None:
        self.calls: list = []

    def deviceFound(self, device: object) -> None:
        self.calls.append(("found", device.udn))

    def deviceChanged(self, device: object, change: Change) -> None:
        self.calls.append(("changed", device.udn, str(change)))

    def deviceLost(self, device: object, reason: str) -> None:
        self.calls.append(("lost", device.udn, reason))

    def announcementReceived(self, device: object, value: str) -> None:
        self.calls.append(("announcement", device.udn, value))


def checkIndexes(case: unittest.TestCase, tracker: DeviceTracker) -> None:
    """The tracker's indexes and slot counts are what a scan of its entries finds (none stale, none missing)."""
    entries = list(tracker.entries.values())
    case.assertEqual({k: e.udn for k, e in tracker.entries.items()}, {e.udn: e.udn for e in entries})
    for udn, entry in tracker.byUDN.items():
        case.assertIn(entry, entries, udn)
        case.assertIn(udn, entry.udns)
    for entry in entries:
        case.assertIs(tracker.byUDN.get(entry.udn), entry)
    for location, entry in tracker.byLocation.items():
        case.assertIn(entry, entries, location)
        case.assertEqual(entry.indexedLocation, location)
    fetching = [e for e in entries if e.state == "fetching"]
    case.assertEqual(tracker.pendingCount, len(fetching))
    case.assertEqual([e.slot is not None for e in entries], [e.state == "fetching" for e in entries])
    case.assertEqual(sum(tracker.admission._fetchingFrom.values()), len(fetching))
    case.assertFalse(set(tracker.waiting) & set(tracker.byUDN))


class TrackerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.fetch = FakeFetch()
        self.listener = Listener()
        self.tracker = DeviceTracker(self.fetch, self.listener, self.clock, maxDevices=8, maxPending=4,
                                     maxPendingPerSource=4, newAttempts=2, newRetryDelay=2, fetchAttempts=3,
                                     retryDelay=10, failedFor=300)
        self.logs = LogCapture(self)

    def found(self, udn: str = ROOT_UDN) -> None:
        self.tracker.received(alive(udn), ORIGIN)
        self.fetch.answer(dmDescription(udn=udn))

    def foundDualStack(self) -> tuple[Origin, str]:
        """The device described at its IPv4 address, and heard at an IPv6 ULA too: that origin and LOCATION."""
        self.found()
        v6 = Origin("fd12:3456::20", LAN)
        v6Location = "http://[fd12:3456::20]:1/d.xml"
        self.tracker.received(alive(location=v6Location), v6)
        return v6, v6Location

    def test_interestingTypes(self) -> None:
        """DM device and service types (any version) and root devices are worth fetching; others not."""
        for nt, expected in (
            (CMS, True), ("urn:schemas-upnp-org:service:BasicManagement:1", True),
            (D.MANAGEABLE_DEVICE_2, True), (D.DEVICE_PROTECTION_1, True), ("upnp:rootdevice", True),
            ("urn:schemas-upnp-org:device:MediaRenderer:1", False), (ROOT_UDN, False),
            ("urn:example-com:service:ConfigurationManagement:2", False),
        ):
            self.assertEqual(isInteresting(nt), expected, nt)

    def test_found(self) -> None:
        """An alive of a DM type is fetched once; the described device is found and ready."""
        self.tracker.received(alive(), ORIGIN)
        self.assertEqual([(loc, o) for loc, o, _ in self.fetch.calls], [(LOC, ORIGIN)])
        self.assertEqual(self.listener.calls, [])
        self.fetch.answer(dmDescription())
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])
        entry = self.tracker.get(ROOT_UDN.upper().replace("UUID", "uuid"))
        self.assertEqual((entry.state, entry.bootId, entry.configId), ("ready", 1, 1))

    def test_searchResponse(self) -> None:
        """A search answer counts as an alive."""
        self.tracker.received(SearchResponse(st=CMS, usn=f"{ROOT_UDN}::{CMS}", location=LOC, maxAge=120), ORIGIN)
        self.fetch.answer(dmDescription())
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])
        self.assertEqual(self.tracker.get(ROOT_UDN).maxAge, 120)

    def test_uninteresting(self) -> None:
        """An alive of another type, or of a bare UDN, creates nothing."""
        self.tracker.received(alive(nt="urn:schemas-upnp-org:device:MediaRenderer:1"), ORIGIN)
        self.tracker.received(alive(nt=ROOT_UDN), ORIGIN)
        self.assertEqual((self.fetch.calls, self.tracker.devices()), ([], []))

    def test_burstFetchedOnce(self) -> None:
        """The burst of a device's announcements (root, embedded, services) costs one fetch."""
        self.tracker.received(alive(nt="upnp:rootdevice"), ORIGIN)
        self.tracker.received(alive(EMBEDDED_UDN), ORIGIN)
        self.tracker.received(alive(EMBEDDED_UDN, nt=D.BASIC_MANAGEMENT_2), ORIGIN)
        self.tracker.received(alive(), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 1)
        self.fetch.answer(withEmbedded())
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])
        self.assertIs(self.tracker.get(EMBEDDED_UDN), self.tracker.get(ROOT_UDN))
        self.tracker.received(alive(EMBEDDED_UDN), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 1)

    def test_keyedByRootUDN(self) -> None:
        """Discovered through an embedded device's UDN, the device is keyed by its root UDN."""
        self.tracker.received(alive(EMBEDDED_UDN), ORIGIN)
        self.fetch.answer(withEmbedded())
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])
        self.assertEqual([e.udn for e in self.tracker.devices()], [ROOT_UDN])
        # the one string of its UDN, which its description's parts share (issue 19)
        self.assertIs(self.tracker.get(ROOT_UDN).udn, internText(ROOT_UDN.lower()))

    def test_expiry(self) -> None:
        """Without re-announcement a device is gone after its max-age (plus grace); each alive extends it."""
        self.tracker.received(alive(maxAge=120), ORIGIN)
        self.fetch.answer(dmDescription())
        self.clock.advance(100)
        self.tracker.received(alive(maxAge=120), ORIGIN)
        self.clock.advance(131)
        self.assertEqual(self.listener.calls[-1], ("found", ROOT_UDN))
        self.clock.advance(1.1)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "expired"))
        self.assertEqual(self.tracker.devices(), [])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_expiryMovedNotRemade(self) -> None:
        """
        A sighting moves the running max-age timer (later or sooner) rather
        than cancelling it and making another: the reactor's heap keeps one
        call a device however often it answers a search.
        """
        self.tracker.received(alive(maxAge=120), ORIGIN)
        self.fetch.answer(dmDescription())
        timer = self.tracker.get(ROOT_UDN).expiry
        self.clock.advance(50)
        self.tracker.received(SearchResponse(st=CMS, usn=f"{ROOT_UDN}::{CMS}", location=LOC, maxAge=120), ORIGIN)
        self.assertIs(self.tracker.get(ROOT_UDN).expiry, timer)
        self.assertEqual(timer.getTime(), 50 + 132)
        self.tracker.received(alive(maxAge=20), ORIGIN)
        self.assertIs(self.tracker.get(ROOT_UDN).expiry, timer)
        self.clock.advance(22.1)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "expired"))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_maxAgeClamped(self) -> None:
        """A max-age of 1 s is taken as 10 s, an absurd one as a day."""
        self.tracker.received(alive(maxAge=1), ORIGIN)
        self.fetch.answer(dmDescription())
        self.clock.advance(10.9)
        self.assertEqual(len(self.listener.calls), 1)
        self.clock.advance(0.2)
        self.assertEqual(self.listener.calls[-1][2], "expired")
        self.tracker.received(alive(maxAge=10**9), ORIGIN)
        self.assertEqual(self.tracker.get(ROOT_UDN).maxAge, MAX_MAX_AGE)

    def test_changes(self) -> None:
        """A new LOCATION, BOOTID or CONFIGID is fetched again and reported as that change."""
        self.found()
        rows = (
            (alive(location="http://192.168.1.21:49152/desc.xml"), "LOCATION"),
            (alive(location="http://192.168.1.21:49152/desc.xml", bootId=2), "BOOTID"),
            (alive(location="http://192.168.1.21:49152/desc.xml", bootId=2, configId=5), "CONFIGID"),
        )
        for message, what in rows:
            self.tracker.received(message, ORIGIN)
            self.assertEqual(self.tracker.get(ROOT_UDN).state, "refreshing")
            self.fetch.answer(dmDescription())
            self.assertEqual(self.listener.calls[-1], ("changed", ROOT_UDN, what))
        self.assertEqual(len(self.fetch.calls), 4)
        self.tracker.received(rows[-1][0], ORIGIN)
        self.assertEqual(len(self.fetch.calls), 4)

    def test_multiHomed(self) -> None:
        """A dual-stack device announcing one LOCATION per address is not described again at each announcement."""
        self.found()
        v6 = Origin("fd12:3456::20", LAN)
        for _ in range(3):
            self.tracker.received(alive(location="http://[fd12:3456::20]:49152/desc.xml"), v6)
            self.tracker.received(alive(), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 1)
        entry = self.tracker.get(ROOT_UDN)
        self.assertEqual((entry.location, entry.origin), (LOC, ORIGIN))
        self.assertEqual([address for address, _ in entry.seenFrom], ["fd12:3456::20", "192.168.1.20"])
        self.tracker.received(alive(location="http://[fd12:3456::20]:49152/desc.xml", bootId=2), v6)
        self.assertEqual(self.fetch.calls[-1][0], LOC)  # a reboot heard on IPv6: described again where it was
        self.fetch.answer(dmDescription())
        self.assertEqual(self.listener.calls[-1], ("changed", ROOT_UDN, "BOOTID"))

    def test_addressInUseGoesQuiet(self) -> None:
        """When the address in use stops announcing for half a max-age, another address's LOCATION is taken."""
        self.tracker.received(alive(maxAge=100), ORIGIN)
        self.fetch.answer(dmDescription())
        other = Origin("192.168.1.21", LAN)
        self.clock.advance(51)
        self.tracker.received(alive(location="http://192.168.1.21:1/d.xml", maxAge=100), other)
        self.assertEqual(self.fetch.calls[-1][:2], ("http://192.168.1.21:1/d.xml", other))
        self.fetch.answer(dmDescription())
        self.assertEqual(self.listener.calls[-1], ("changed", ROOT_UDN, "LOCATION"))

    def test_forgedLocationFromAnotherHost(self) -> None:
        """Another host announcing a live device's UDN with its own LOCATION does not steer it there."""
        self.found()
        self.tracker.received(alive(location="http://192.168.1.66/evil.xml"), Origin("192.168.1.66", LAN))
        self.assertEqual(len(self.fetch.calls), 1)
        self.assertEqual(self.tracker.get(ROOT_UDN).location, LOC)

    def test_missingIdsAreNoChange(self) -> None:
        """A UDA 1.0 device without BOOTID/CONFIGID is not seen as changing."""
        self.tracker.received(alive(bootId=None, configId=None), ORIGIN)
        self.fetch.answer(dmDescription())
        self.tracker.received(alive(bootId=None, configId=None), ORIGIN)
        self.tracker.received(alive(bootId=4, configId=4), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 1)
        self.assertEqual(self.tracker.get(ROOT_UDN).bootId, 4)

    def test_update(self) -> None:
        """ssdp:update with NEXTBOOTID: described again; the next alive with that BOOTID is no change."""
        self.found()
        update = Notify(nts=ssdp.UPDATE, nt=CMS, usn=f"{ROOT_UDN}::{CMS}", location=LOC, bootId=1, configId=1,
                        nextBootId=2)
        self.tracker.received(update, ORIGIN)
        self.fetch.answer(dmDescription())
        self.assertEqual(self.listener.calls[-1], ("changed", ROOT_UDN, "ssdp:update"))
        self.tracker.received(alive(bootId=2), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 2)

    def test_updateWithoutNextBootId(self) -> None:
        """ssdp:update without NEXTBOOTID is dropped, with a warning."""
        self.found()
        self.tracker.received(Notify(nts=ssdp.UPDATE, nt=CMS, usn=ROOT_UDN, location=LOC), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 1)
        self.assertTrue(any("NEXTBOOTID" in e.get("log_format", "") for e in self.logs.events))

    def test_movedWhileFetching(self) -> None:
        """A device that moves while being described is described again at its new place."""
        self.tracker.received(alive(), ORIGIN)
        self.tracker.received(alive(location="http://192.168.1.21:1/d.xml"), ORIGIN)
        self.fetch.answer(dmDescription(), index=0)
        self.assertEqual(self.listener.calls, [])
        self.assertEqual(self.fetch.calls[-1][0], "http://192.168.1.21:1/d.xml")
        self.fetch.answer(dmDescription())
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])

    def test_byebye(self) -> None:
        """A byebye of the root UDN: gone; of an unknown UDN: nothing."""
        self.found()
        self.tracker.received(byebye("uuid:someone-else"), ORIGIN)
        self.tracker.received(byebye(), ORIGIN)
        self.clock.advance(1.9)
        self.assertEqual(self.listener.calls[-1], ("found", ROOT_UDN))
        self.clock.advance(0.1)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_byebyeThenAlive(self) -> None:
        """byebye followed at once by alive (GSSDP re-announcing) is not a departure."""
        self.found()
        self.tracker.received(byebye(), ORIGIN)
        self.clock.advance(0.5)
        self.tracker.received(alive(), ORIGIN)
        self.clock.advance(10)
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])
        self.assertEqual(len(self.fetch.calls), 1)

    def test_byebyeFromOtherAddress(self) -> None:
        """
        A byebye from another address of a device alive at the one in use
        does not remove it: 2 s after the last of a burst of byebyes its
        description is read again where it is in use, then again after 4, 8
        and 16 s; as it answers, nothing is told.
        """
        v6, _ = self.foundDualStack()
        for _ in range(7):  # one per NT, 120 ms apart: looked at 2 s after the last
            self.tracker.received(byebye(), v6)
            self.clock.advance(0.12)
        self.clock.advance(1.78)
        self.assertEqual(len(self.fetch.calls), 1)
        self.clock.advance(0.1)
        self.assertEqual(self.fetch.calls[-1][:2], (LOC, ORIGIN))
        for wait in (4, 8, 16, 32):  # looked at again, the wait doubling: CHECKS_AFTER_BYEBYE in all
            self.fetch.answer(dmDescription())
            self.clock.advance(wait)
        self.assertEqual(len(self.fetch.calls), 1 + CHECKS_AFTER_BYEBYE)
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])
        self.assertIsNone(self.tracker.get(ROOT_UDN).checking)  # and then no more
        self.assertNotIn("fd12:3456::20", [address for address, _ in self.tracker.get(ROOT_UDN).seenFrom])

    def test_byebyeFromAddressNeverHeard(self) -> None:
        """
        A control point that started after the device's alive burst and
        heard it only from its ULA: the byebyes come from its link-local
        address, never heard before, and the device has stopped: gone.
        """
        self.found()
        self.tracker.received(byebye(), Origin("fe80::20", LAN))
        self.clock.advance(2)
        self.fetch.fail()
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))

    def test_byebyesFromStranger(self) -> None:
        """
        A stranger's byebyes for the UDN every 3 s for 5 minutes, the device
        answering all along: at most CHECKS_AFTER_BYEBYE looks per
        PROBE_INTERVAL, and nothing lost.
        """
        self.found()
        stranger = Origin("192.168.1.66", LAN)
        for _ in range(100):
            self.tracker.received(byebye(), stranger)
            self.clock.advance(3)
            while not self.fetch.calls[-1][2].called:
                self.fetch.answer(dmDescription())
        looks = len(self.fetch.calls) - 1
        self.assertLessEqual(looks, CHECKS_AFTER_BYEBYE * (300 // PROBE_INTERVAL + 1))
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])

    def test_byebyeFloodFromOtherAddressIsBounded(self) -> None:
        """
        Its other address alternating alive and byebye every 3 s for 5
        minutes: at most CHECKS_AFTER_BYEBYE looks per PROBE_INTERVAL.
        """
        v6, v6Location = self.foundDualStack()
        for _ in range(100):
            self.tracker.received(byebye(), v6)
            self.clock.advance(1.5)
            self.tracker.received(alive(location=v6Location), v6)
            self.clock.advance(1.5)
            while not self.fetch.calls[-1][2].called:
                self.fetch.answer(dmDescription())
        looks = len(self.fetch.calls) - 1
        self.assertGreater(looks, 0)
        self.assertLessEqual(looks, CHECKS_AFTER_BYEBYE * (300 // PROBE_INTERVAL + 1))
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])

    def test_byebyeFromOtherAddressSlowShutdown(self) -> None:
        """The device still answers at the first look, not at the second (it took a while to stop): gone."""
        v6, _ = self.foundDualStack()
        self.tracker.received(byebye(), v6)
        self.clock.advance(2)
        self.fetch.answer(dmDescription())
        self.clock.advance(4)
        self.fetch.fail()
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))

    def test_byebyeFromOtherAddressAndGone(self) -> None:
        """
        Described at one address, its byebyes all from another (a stack
        sending every multicast packet from its IPv6 link-local address
        while a search answer came from its ULA), and the description no
        longer answers: gone, as byebye, at once.
        """
        v6, _ = self.foundDualStack()
        self.tracker.received(byebye(), v6)
        self.clock.advance(2)
        self.fetch.fail()
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_byebyeFromOtherAddressThenAliveInUse(self) -> None:
        """The address in use announces itself after another address's byebye: nothing is read again."""
        v6, _ = self.foundDualStack()
        self.tracker.received(byebye(), v6)
        self.clock.advance(1)
        self.tracker.received(alive(), ORIGIN)
        self.clock.advance(5)
        self.assertEqual(len(self.fetch.calls), 1)
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])

    def test_multiHomedShutsDownAddressByAddress(self) -> None:
        """
        The address in use says byebye, another address answers a search
        once more, then says byebye too (rygel stopping): the device is
        gone — the late alive does not keep it for ever.
        """
        v6, v6Location = self.foundDualStack()
        self.tracker.received(byebye(), ORIGIN)
        self.clock.advance(0.5)
        self.tracker.received(alive(location=v6Location), v6)
        self.tracker.received(byebye(), v6)
        self.clock.advance(1.5)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))
        self.assertIsNone(self.tracker.get(ROOT_UDN))
        self.assertEqual(len(self.fetch.calls), 1)

    def test_addressInUseLeavesOtherStays(self) -> None:
        """The address in use says byebye; another of its addresses is alive after it, and stays: it moves there."""
        v6, v6Location = self.foundDualStack()
        self.tracker.received(byebye(), ORIGIN)
        self.clock.advance(0.5)
        self.tracker.received(alive(location=v6Location), v6)
        self.assertEqual(len(self.fetch.calls), 1)  # nothing decided before the grace ends
        self.clock.advance(1.5)
        self.assertEqual(self.fetch.calls[-1][:2], (v6Location, v6))
        self.fetch.answer(dmDescription())
        self.clock.advance(10)
        self.assertEqual(self.listener.calls[1:], [("changed", ROOT_UDN, "LOCATION")])
        self.assertEqual(self.tracker.get(ROOT_UDN).location, v6Location)

    def test_strangerDuringByebyeGrace(self) -> None:
        """An alive for the UDN from an address the device was never heard from, during the grace: not taken; gone."""
        self.found()
        self.tracker.received(byebye(), ORIGIN)
        self.tracker.received(alive(location="http://192.168.1.66/evil.xml"), Origin("192.168.1.66", LAN))
        self.clock.advance(2)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))
        self.assertEqual(len(self.fetch.calls), 1)

    def test_multiHomedReannounces(self) -> None:
        """Both addresses say byebye then alive (GSSDP re-announcing on each context): no change, nothing fetched."""
        v6, v6Location = self.foundDualStack()
        for first, second in ((ORIGIN, v6), (v6, ORIGIN)):
            self.tracker.received(byebye(), first)
            self.tracker.received(byebye(), second)
            self.tracker.received(alive(location=v6Location), v6)
            self.tracker.received(alive(), ORIGIN)
            self.clock.advance(10)
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])
        self.assertEqual(len(self.fetch.calls), 1)
        self.assertEqual(self.tracker.get(ROOT_UDN).location, LOC)

    def test_announcement(self) -> None:
        """AboutToReboot on byebye is surfaced once per BOOTID before the device is gone, then found again."""
        self.found()
        for _ in range(3):
            self.tracker.received(byebye(announcement="AboutToReboot", bootId=1), ORIGIN)
        self.assertEqual(self.listener.calls[1:], [("announcement", ROOT_UDN, "AboutToReboot")])
        self.clock.advance(2)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))
        self.tracker.received(alive(bootId=2), ORIGIN)
        self.fetch.answer(dmDescription())
        self.assertEqual(self.listener.calls[-1], ("found", ROOT_UDN))

    def test_embeddedByebye(self) -> None:
        """A byebye of an embedded device alone makes the root be described again, after the grace."""
        self.tracker.received(alive(EMBEDDED_UDN), ORIGIN)
        self.fetch.answer(withEmbedded())
        self.tracker.received(byebye(EMBEDDED_UDN), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 1)
        self.clock.advance(2)
        self.fetch.answer(dmDescription())
        self.assertEqual(self.listener.calls[-1], ("changed", ROOT_UDN, "embedded device byebye"))
        self.assertIsNone(self.tracker.get(EMBEDDED_UDN))

    def test_indexesFollowTheDevice(self) -> None:
        """
        The UDN and LOCATION indexes follow a device through a new root UDN
        (announced by its embedded UDN), a move, an embedded device gone
        from its description and its byebye: none is left stale, none
        missing, at each step.
        """
        self.tracker.received(alive(EMBEDDED_UDN), ORIGIN)
        checkIndexes(self, self.tracker)
        self.fetch.answer(withEmbedded())
        self.assertEqual(set(self.tracker.byUDN), {ROOT_UDN, EMBEDDED_UDN})
        checkIndexes(self, self.tracker)
        moved = "http://192.168.1.20:50000/desc.xml"
        self.tracker.received(alive(location=moved), ORIGIN)
        self.assertEqual(set(self.tracker.byLocation), {moved})
        self.fetch.answer(dmDescription())
        self.assertEqual((set(self.tracker.byUDN), set(self.tracker.byLocation)), ({ROOT_UDN}, {moved}))
        self.assertIsNone(self.tracker.get(EMBEDDED_UDN))
        checkIndexes(self, self.tracker)
        self.tracker.received(byebye(), ORIGIN)
        self.clock.advance(2)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))
        self.assertEqual((self.tracker.entries, self.tracker.byUDN, self.tracker.byLocation), ({}, {}, {}))
        checkIndexes(self, self.tracker)

    def test_slotFollowsTheSource(self) -> None:
        """A new device that moves to another address while being described holds that source's slot, not the first's."""
        self.tracker.admission.maxPerSource = 1
        self.tracker.received(alive(), ORIGIN)
        other = Origin("192.168.1.21", LAN)
        self.tracker.received(alive(location="http://192.168.1.21:49152/desc.xml"), ORIGIN)
        self.tracker.received(ssdp.Notify(nts=ssdp.UPDATE, nt=CMS, usn=f"{ROOT_UDN}::{CMS}", bootId=1, nextBootId=2,
                                          location="http://192.168.1.21:49152/desc.xml"), other)
        checkIndexes(self, self.tracker)
        self.assertEqual(self.tracker.admission._fetchingFrom, {"192.168.1.21": 1})
        self.tracker.received(alive("uuid:next", location="http://192.168.1.20:2/d.xml"), ORIGIN)
        self.assertEqual(self.fetch.calls[-1][0], "http://192.168.1.20:2/d.xml")

    def test_leavingEmbeddedFirst(self) -> None:
        """A device leaving says byebye for its embedded devices, then its root: gone, with no fetch between."""
        self.tracker.received(alive(EMBEDDED_UDN), ORIGIN)
        self.fetch.answer(withEmbedded())
        self.tracker.received(byebye(EMBEDDED_UDN), ORIGIN)
        self.tracker.received(byebye(), ORIGIN)
        self.clock.advance(5)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))
        self.assertEqual(len(self.fetch.calls), 1)

    def test_rootByebyeLost(self) -> None:
        """Embedded byebyes, the root's lost, and the root no longer answering: gone as byebye at once, not after retries."""
        self.tracker.received(alive(EMBEDDED_UDN), ORIGIN)
        self.fetch.answer(withEmbedded())
        self.tracker.received(byebye(EMBEDDED_UDN), ORIGIN)
        self.clock.advance(2)
        self.fetch.fail()
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "byebye"))

    def test_probeStillThere(self) -> None:
        """A probe of a device that answers tells nobody anything."""
        self.found()
        self.assertTrue(self.tracker.probe(ROOT_UDN))
        self.assertEqual(self.tracker.get(ROOT_UDN).state, "refreshing")
        self.fetch.answer(dmDescription())
        self.assertEqual(self.listener.calls, [("found", ROOT_UDN)])
        self.assertEqual(self.tracker.get(ROOT_UDN).state, "ready")

    def test_probeGone(self) -> None:
        """A probe of a device that no longer answers ends, after the retries, in lost as unreachable."""
        self.found()
        self.tracker.probe(ROOT_UDN)
        for _ in range(3):
            self.fetch.fail()
            self.clock.advance(10)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "unreachable"))

    def test_probeRateLimited(self) -> None:
        """Probes of one device are at most one per PROBE_INTERVAL; unknown or busy devices are not probed."""
        from proxier.upnp.tracker import PROBE_INTERVAL

        self.assertFalse(self.tracker.probe("uuid:unknown"))
        self.found()
        self.assertTrue(self.tracker.probe(ROOT_UDN))
        self.assertFalse(self.tracker.probe(ROOT_UDN))  # busy
        self.fetch.answer(dmDescription())
        self.assertFalse(self.tracker.probe(ROOT_UDN))
        self.clock.advance(PROBE_INTERVAL)
        self.assertTrue(self.tracker.probe(ROOT_UDN))

    def test_newDeviceFailing(self) -> None:
        """A new device whose description fails is tried newAttempts times, then not again for a while."""
        self.tracker.received(alive(), ORIGIN)
        self.fetch.fail()
        self.clock.advance(1.9)
        self.assertEqual(len(self.fetch.calls), 1)
        self.clock.advance(0.1)
        self.fetch.fail()
        self.assertEqual((len(self.fetch.calls), self.tracker.devices()), (2, []))
        self.tracker.received(alive(), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 2)
        self.assertEqual(self.tracker.counts["dropped-failed"], 1)
        self.clock.advance(301)
        self.tracker.received(alive(), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 3)
        self.assertEqual(self.listener.calls, [])

    def test_perSourceCap(self) -> None:
        """One source may hold only maxPendingPerSource fetches; another source still gets its turn."""
        self.tracker.admission.maxPerSource = 2
        for i in range(4):
            self.tracker.received(alive(f"uuid:s{i}", location=f"http://192.168.1.20:{i + 1}/d.xml"), ORIGIN)
        self.assertEqual(len(self.fetch.calls), 2)
        other = Origin("192.168.1.21", LAN)
        self.tracker.received(alive("uuid:other", location="http://192.168.1.21/d.xml"), other)
        self.assertEqual(len(self.fetch.calls), 3)
        self.assertEqual(list(self.tracker.waiting), ["uuid:s2", "uuid:s3"])
        self.fetch.answer(dmDescription(udn="uuid:s0"), index=0)
        self.clock.advance(0)
        self.assertEqual(self.fetch.calls[-1][0], "http://192.168.1.20:3/d.xml")

    def test_refreshFailing(self) -> None:
        """A described device whose new description cannot be had is lost as unreachable."""
        self.found()
        self.tracker.received(alive(bootId=2), ORIGIN)
        for _ in range(3):
            self.fetch.fail()
            self.clock.advance(10)
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "unreachable"))

    def test_lyingDescription(self) -> None:
        """A description that does not contain the announcing UDN is a failure, not a device."""
        self.tracker.received(alive("uuid:forged"), ORIGIN)
        for _ in range(2):
            self.fetch.answer(dmDescription())
            self.clock.advance(2)
        self.assertEqual(len(self.fetch.calls), 2)
        self.assertEqual((self.listener.calls, self.tracker.devices()), ([], []))

    def test_nonDMIgnored(self) -> None:
        """A root device without DM services is kept as ignored: not reported, not fetched again."""
        self.tracker.received(alive(nt="upnp:rootdevice"), ORIGIN)
        self.fetch.answer(nonDM())
        self.tracker.received(alive(nt="upnp:rootdevice"), ORIGIN)
        self.assertEqual((self.listener.calls, len(self.fetch.calls)), ([], 1))
        self.assertEqual(self.tracker.get(ROOT_UDN).state, "ignored")
        self.tracker.received(byebye(announcement="AboutToReboot"), ORIGIN)
        self.assertEqual(self.listener.calls, [])

    def test_becomesNonDM(self) -> None:
        """A device that no longer offers DM services after a change is reported lost."""
        self.found()
        self.tracker.received(alive(configId=2), ORIGIN)
        self.fetch.answer(nonDM())
        self.assertEqual(self.listener.calls[-1], ("lost", ROOT_UDN, "no longer a UPnP DM device"))

    def test_caps(self) -> None:
        """New devices beyond maxPending wait for a slot and are then described; beyond maxDevices they are dropped."""
        for i in range(6):
            self.tracker.received(alive(f"uuid:d{i}", location=f"http://192.168.1.{30 + i}/d.xml"),
                                  Origin(f"192.168.1.{30 + i}", LAN))
        self.assertEqual((len(self.fetch.calls), len(self.tracker.waiting)), (4, 2))
        for i in range(4):
            self.fetch.answer(dmDescription(udn=f"uuid:d{i}"), index=i)
        self.clock.advance(0)
        self.assertEqual((len(self.fetch.calls), len(self.tracker.waiting)), (6, 0))
        for i in (4, 5):
            self.fetch.answer(dmDescription(udn=f"uuid:d{i}"), index=i)
        self.assertEqual(len(self.listener.calls), 6)
        for i in range(6, 12):
            self.tracker.received(alive(f"uuid:d{i}", location=f"http://192.168.1.{30 + i}/d.xml"),
                                  Origin(f"192.168.1.{30 + i}", LAN))
        self.clock.advance(0)
        self.assertEqual(len(self.tracker.devices()), 8)
        self.assertGreater(self.tracker.counts["dropped-full"], 0)

    def test_waitingKeptWhileItsMaxAgeRuns(self) -> None:
        """
        A device waits for a slot as long as its announcement's max-age says
        it is there (not a fixed while); one heard again keeps its place, and
        one whose max-age ran out unrenewed is dropped, not fetched late.
        """
        self.tracker.admission.maxPerSource = 1
        for name, maxAge in (("a", 1800), ("b", 1800), ("c", 100), ("d", 100)):
            self.tracker.received(alive(f"uuid:{name}", location=f"http://192.168.1.20:{name}/d.xml", maxAge=maxAge),
                                  ORIGIN)
        self.clock.advance(100)
        self.tracker.received(alive("uuid:d", location="http://192.168.1.20:d/d.xml", maxAge=100), ORIGIN)
        self.tracker.received(alive("uuid:b", location="http://192.168.1.20:b/d.xml"), ORIGIN)
        self.assertEqual(list(self.tracker.waiting), ["uuid:b", "uuid:c", "uuid:d"])
        self.clock.advance(50)  # c's max-age (and grace) ran out; d was heard again
        for name in "abd":
            self.fetch.answer(dmDescription(udn=f"uuid:{name}"))
            self.clock.advance(0)
        self.assertEqual([loc for loc, _, _ in self.fetch.calls],
                         [f"http://192.168.1.20:{name}/d.xml" for name in "abd"])
        self.assertEqual((self.tracker.waiting, self.tracker.counts["dropped-pending"]), ({}, 1))
        checkIndexes(self, self.tracker)

    def test_hundredWaitingAllDescribed(self) -> None:
        """
        100 new devices heard at once (NOTIFYs and search answers alike)
        with 4 fetch slots: every one is described as slots free, in the
        order heard, without another search or announcement.
        """
        self.tracker.maxDevices = 100
        for i in range(100):
            udn, location = f"uuid:dev-{i:03d}", f"http://192.168.1.{i + 100}:1/d.xml"
            origin = Origin(f"192.168.1.{i + 100}", LAN)
            if i % 2:
                self.tracker.received(alive(udn, location=location), origin)
            else:
                self.tracker.received(SearchResponse(st=CMS, usn=f"{udn}::{CMS}", location=location, maxAge=1800),
                                      origin)
        self.assertEqual((len(self.fetch.calls), len(self.tracker.waiting)), (4, 96))
        answered = 0
        while answered < len(self.fetch.calls):
            self.clock.advance(1)
            self.fetch.answer(dmDescription(udn=f"uuid:dev-{answered:03d}"), index=answered)
            answered += 1
            self.clock.advance(0)
            self.assertLessEqual(self.tracker.pendingCount, 4)
            checkIndexes(self, self.tracker)
        self.assertEqual([loc for loc, _, _ in self.fetch.calls],
                         [f"http://192.168.1.{i + 100}:1/d.xml" for i in range(100)])
        self.assertEqual(self.listener.calls, [("found", f"uuid:dev-{i:03d}") for i in range(100)])
        self.assertEqual((self.tracker.waiting, self.tracker.counts["dropped-pending"]), ({}, 0))

    def test_byebyeWhileWaiting(self) -> None:
        """A device that says byebye while waiting for a slot leaves the queue: it is never fetched."""
        for i in range(6):
            self.tracker.received(alive(f"uuid:d{i}", location=f"http://192.168.1.{30 + i}/d.xml"),
                                  Origin(f"192.168.1.{30 + i}", LAN))
        self.assertEqual(list(self.tracker.waiting), ["uuid:d4", "uuid:d5"])
        self.tracker.received(byebye("uuid:d4"), Origin("192.168.1.34", LAN))
        self.assertEqual(list(self.tracker.waiting), ["uuid:d5"])
        self.fetch.answer(dmDescription(udn="uuid:d0"), index=0)
        self.clock.advance(0)
        self.assertEqual(self.fetch.calls[-1][0], "http://192.168.1.35/d.xml")
        self.assertEqual((len(self.fetch.calls), self.tracker.waiting), (5, {}))
        self.clock.advance(10)
        self.assertEqual(len(self.fetch.calls), 5)

    def test_fullSourceHoldsUpNobody(self) -> None:
        """
        A source whose fetch slots are all taken waits in its own line: a
        device of another source heard after its waiting ones is fetched as
        soon as any slot frees; the first source's go when its own slots do.
        """
        self.tracker.admission.maxPerSource = 2
        for i in range(5):
            self.tracker.received(alive(f"uuid:s{i}", location=f"http://192.168.1.20:{i + 1}/d.xml"), ORIGIN)
        others = [Origin(f"192.168.1.{40 + i}", LAN) for i in range(3)]
        for i, origin in enumerate(others):
            self.tracker.received(alive(f"uuid:o{i}", location=f"http://{origin.source}/d.xml"), origin)
        self.assertEqual([loc for loc, _, _ in self.fetch.calls][2:],
                         ["http://192.168.1.40/d.xml", "http://192.168.1.41/d.xml"])
        self.fetch.answer(dmDescription(udn="uuid:o0"), index=2)
        self.clock.advance(0)
        self.assertEqual(self.fetch.calls[-1][0], "http://192.168.1.42/d.xml")
        self.fetch.answer(dmDescription(udn="uuid:s0"), index=0)
        self.clock.advance(0)
        self.assertEqual(self.fetch.calls[-1][0], "http://192.168.1.20:3/d.xml")
        self.assertEqual(list(self.tracker.waiting), ["uuid:s3", "uuid:s4"])
        checkIndexes(self, self.tracker)

    def test_loopbackNotCappedPerSource(self) -> None:
        """Devices on this host (unicast-loopback mode) share one source address: no per-source cap for them."""
        loop = Origin("127.0.0.1", None, loopbackMode=True)
        for i in range(4):
            self.tracker.received(alive(f"uuid:l{i}", location=f"http://127.0.0.1:{i + 1}/d.xml"), loop)
        self.assertEqual(len(self.fetch.calls), 4)

    def test_flood(self) -> None:
        """
        A flood of distinct USNs and locations from one host costs bounded
        fetches and memory: its first maxWaitingPerSource wait, the rest are
        dropped (one warning); a device of another host still gets its turn.
        """
        admission = self.tracker.admission
        admission.maxPerSource = 2
        for i in range(5000):
            self.tracker.received(alive(f"uuid:flood-{i}", location=f"http://192.168.1.{i % 200 + 2}:{i}/d.xml"),
                                  ORIGIN)
        self.assertEqual(len(self.fetch.calls), 2)
        self.assertEqual(len(self.tracker.entries), 2)
        self.assertEqual(len(self.tracker.waiting), admission.maxWaitingPerSource)
        self.assertEqual(list(self.tracker.waiting)[-1], f"uuid:flood-{2 + admission.maxWaitingPerSource - 1}")
        self.assertEqual(self.tracker.counts["dropped-pending"], 5000 - 2 - admission.maxWaitingPerSource)
        self.assertLessEqual(len(self.tracker.byUDN) + len(self.tracker.byLocation), 8)
        warnings = [e for e in self.logs.events if "waiting to be described" in e.get("log_format", "")]
        self.assertEqual(len(warnings), 1)
        honest = Origin("192.168.1.77", LAN)
        self.tracker.received(alive("uuid:honest", location="http://192.168.1.77/d.xml"), honest)
        self.assertEqual(self.fetch.calls[-1][0], "http://192.168.1.77/d.xml")
        for _ in range(700):  # every fetch fails at once: the waiting ones are tried, then nothing is left
            for index in range(len(self.fetch.calls)):
                if not self.fetch.calls[index][2].called:
                    self.fetch.fail(index)
            self.clock.advance(2)
        self.assertEqual((self.tracker.entries, self.tracker.waiting), ({}, {}))
        self.assertLessEqual(len(self.fetch.calls), 2 * (3 + admission.maxWaitingPerSource))
        self.assertLessEqual(len(self.tracker.failed), self.tracker.failedCacheSize)
        checkIndexes(self, self.tracker)

    def test_waitingBounded(self) -> None:
        """
        Beyond maxWaiting the least recently heard waiting devices are
        dropped (one warning), whatever their source: one heard again lately
        is kept, in its place.
        """
        self.tracker.admission.maxWaiting = 10
        origins = [Origin(f"192.168.1.{100 + i}", LAN) for i in range(23)]
        for i, origin in enumerate(origins[:14]):
            self.tracker.received(alive(f"uuid:w{i}", location=f"http://{origin.source}/d.xml"), origin)
        self.assertEqual(list(self.tracker.waiting), [f"uuid:w{i}" for i in range(4, 14)])
        self.tracker.received(alive("uuid:w4", location="http://192.168.1.104/d.xml"), origins[4])
        for i, origin in enumerate(origins[14:], 14):
            self.tracker.received(alive(f"uuid:w{i}", location=f"http://{origin.source}/d.xml"), origin)
        self.assertEqual(list(self.tracker.waiting), ["uuid:w4"] + [f"uuid:w{i}" for i in range(14, 23)])
        self.assertEqual(self.tracker.counts["dropped-pending"], 9)
        warnings = [e for e in self.logs.events if "least recently heard" in e.get("log_format", "")]
        self.assertEqual(len(warnings), 1)
        self.fetch.answer(dmDescription(udn="uuid:w0"), index=0)
        self.clock.advance(0)
        self.assertEqual(self.fetch.calls[-1][0], "http://192.168.1.104/d.xml")

    def test_listenerErrorContained(self) -> None:
        """A listener that raises is logged; the tracker goes on."""
        def boom(device: object) -> None:
            raise RuntimeError("observer bug")
        self.listener.deviceFound = boom
        self.found()
        self.assertEqual(self.tracker.get(ROOT_UDN).state, "ready")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_stop(self) -> None:
        """stop() cancels every timer and forgets every device, telling nobody; late answers are ignored."""
        self.tracker.received(alive(), ORIGIN)
        self.tracker.stop()
        self.fetch.answer(dmDescription())
        self.tracker.received(alive("uuid:other"), ORIGIN)
        self.assertEqual((self.listener.calls, self.clock.getDelayedCalls(), len(self.fetch.calls)), ([], [], 1))


class SeenFromTests(unittest.SynchronousTestCase):
    """The addresses a device was heard from: (address, time) pairs, the least recently heard first."""

    def test_heard(self) -> None:
        """Heard again, an address moves to the end; past MAX_SOURCES the least recently heard is dropped."""
        seen = ((f"10.0.0.{i}", float(i)) for i in range(MAX_SOURCES))
        seen = _heard(tuple(seen), "10.0.0.0", 100.0)
        self.assertEqual(seen[-1], ("10.0.0.0", 100.0))
        seen = _heard(seen, "10.0.0.99", 101.0)
        self.assertEqual(len(seen), MAX_SOURCES)
        self.assertEqual([a for a, _ in seen[:2]], ["10.0.0.2", "10.0.0.3"])  # 10.0.0.1 was the least recent
        self.assertEqual(_heardAt(seen, "10.0.0.99"), 101.0)
        self.assertIsNone(_heardAt(seen, "10.0.0.1"))

    def test_inPlace(self) -> None:
        """An ssdp:update updates a known address's time where it stands; an unknown one is added last."""
        seen = (("a", 1.0), ("b", 2.0))
        self.assertEqual(_heard(seen, "a", 5.0, inPlace=True), (("a", 5.0), ("b", 2.0)))
        self.assertEqual(_heard(seen, "c", 5.0, inPlace=True), (("a", 1.0), ("b", 2.0), ("c", 5.0)))
        self.assertEqual(_unheard(seen, "a"), (("b", 2.0),))
