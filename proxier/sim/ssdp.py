# -*- test-case-name: tests.test_sim_ssdp -*-
"""
The device side of SSDP (UDA 1.1 §1), on the project's own codec
(L{proxier.upnp.ssdp}).

L{Advertiser} announces one device. Its states::

    IDLE ──start()──▶ ANNOUNCING ──3 rounds sent──▶ ALIVE ──refresh: 3 rounds──▶ ALIVE
      ▲                   │                           │
      └────stop()─────────┴───────────stop()──────────┘   (byebye sent)

C{start()} sends the alive round (C{upnp:rootdevice}, the UDN, the device
type, each service type) three times a little apart — UDP is lossy — then
refreshes it at a random time before half the max-age is over.
C{stop(announcement)} sends byebye, with C{Announcement.dm.upnp.org:
AboutToReboot} / C{AboutToBaselineReset} when the device is about to reboot
or reset (BMS:2 §2.4.1, TR-330 Table 1). C{update(nextBootId)} sends
C{ssdp:update} with NEXTBOOTID when the device's network identity changes.

L{SearchResponder} is one UDP endpoint answering M-SEARCH for every device
of a process: each device whose advertised types match the ST (a C{:2}
device answers a C{:1} search, with the ST searched for) answers unicast to
the searcher, after a random delay within MX (at once for a unicast search
without MX; a multicast search without MX is dropped, UDA 1.1 §1.3.2).
Answers are capped so that a flood of searches cannot make the process
flood the network.

Sans-IO but for the clock: datagrams go out through an L{SSDPSender}.
"""

from __future__ import annotations

import itertools
import random as _random
from typing import Any, Callable, Iterable, Optional, Protocol, Sequence

from twisted.logger import Logger

from proxier.upnp import ssdp

__all__ = [
    "Advertiser",
    "SearchResponder",
    "SSDPSender",
    "AdvertisedDevice",
    "IDLE",
    "ANNOUNCING",
    "ALIVE",
    "SERVER",
]

IDLE = "idle"
ANNOUNCING = "announcing"
ALIVE = "alive"

#: The SERVER value of every simulated device (UDA 1.1: OS/version UPnP/1.1 product/version).
SERVER = "Linux/6 UPnP/1.1 proxier-sim/1.0"

#: BMS:2 §2.4.1: the header of a DM announcement on byebye.
ANNOUNCEMENT_HEADER = "Announcement.dm.upnp.org"

#: Seconds between the three copies of the first alive round.
ROUND_SPACING = 0.15
#: Most search answers waiting to be sent, over all devices.
MAX_PENDING_ANSWERS = 20000


class SSDPSender(Protocol):
    """Where an advertiser's datagrams go."""

    def sendNotify(self, datagram: bytes) -> None:
        """To the control points: the multicast group, or the loopback control point."""

    def sendTo(self, datagram: bytes, address: tuple) -> None:
        """Unicast, to one searcher."""


class AdvertisedDevice(Protocol):
    """What an advertiser needs to know of its device."""

    udn: str
    deviceType: str
    location: str
    secureLocation: str
    bootId: int
    configId: int

    def serviceTypes(self) -> Sequence[str]: ...


class Advertiser:
    """
    Announces one device (see the module docstring for its states).

    @ivar maxAge: the CACHE-CONTROL max-age of its announcements.
    @ivar searchPort: SEARCHPORT.UPNP.ORG, when searches are answered on a
        port other than 1900.
    """

    log = Logger()

    def __init__(
        self,
        device: AdvertisedDevice,
        sender: SSDPSender,
        clock: Any,
        *,
        maxAge: int = 1800,
        host: str = ssdp.hostHeader(ssdp.IPV4_GROUP),
        searchPort: Optional[int] = None,
        random: Optional[_random.Random] = None,
    ) -> None:
        self.device = device
        self.sender = sender
        self.clock = clock
        self.maxAge = maxAge
        self.host = host
        self.searchPort = searchPort
        self.random = random or _random.Random()
        self.state = IDLE
        self._timers: list[Any] = []
        self.sent = 0

    # -- what is announced -------------------------------------------------

    def targets(self) -> list[tuple[str, str]]:
        """C{(NT, USN)} of every announcement of the device, in UDA order."""
        udn = self.device.udn
        out = [
            (ssdp.ROOT_DEVICE, f"{udn}::{ssdp.ROOT_DEVICE}"),
            (udn, udn),
            (self.device.deviceType, f"{udn}::{self.device.deviceType}"),
        ]
        for serviceType in self.device.serviceTypes():
            out.append((serviceType, f"{udn}::{serviceType}"))
        return out

    def _notify(self, nts: str, nt: str, usn: str, **extra: Any) -> bytes:
        device = self.device
        return ssdp.Notify(
            nts=nts,
            nt=nt,
            usn=usn,
            location=device.location if nts != ssdp.BYEBYE else "",
            maxAge=self.maxAge if nts == ssdp.ALIVE else None,
            server=SERVER if nts != ssdp.BYEBYE else "",
            bootId=device.bootId,
            configId=device.configId,
            searchPort=self.searchPort if nts != ssdp.BYEBYE else None,
            secureLocation=(device.secureLocation or "") if nts != ssdp.BYEBYE else "",
            host=self.host,
            **extra,
        ).toBytes()

    def _round(self, nts: str, **extra: Any) -> None:
        for nt, usn in self.targets():
            self.sender.sendNotify(self._notify(nts, nt, usn, **extra))
            self.sent += 1

    # -- transitions ------------------------------------------------------

    def start(self) -> None:
        """IDLE → ANNOUNCING: three alive rounds a little apart, then ALIVE."""
        self._cancel()
        self.state = ANNOUNCING
        self._burst()

    def _burst(self) -> None:
        """The alive round, three times a little apart (UDP is lossy), then the next refresh."""
        self._round(ssdp.ALIVE)
        for copy in (1, 2):
            delay = copy * ROUND_SPACING + self.random.uniform(0, ROUND_SPACING / 3)
            self._later(delay, self._copy, copy == 2)

    def _copy(self, last: bool) -> None:
        self._round(ssdp.ALIVE)
        if last:
            self.state = ALIVE
            self._scheduleRefresh()

    def _scheduleRefresh(self) -> None:
        """Re-announce at a random time in the second quarter of max-age (before half of it)."""
        delay = self.random.uniform(self.maxAge / 4, self.maxAge / 2 - max(1.0, self.maxAge / 20))
        self._later(max(delay, 0.5), self._burst)

    def stop(self, *announcements: str) -> None:
        """
        → IDLE: byebye for every target, with an C{Announcement.dm.upnp.org}
        header line per announcement (C{"AboutToReboot"}; a baseline reset
        that reboots sends C{"AboutToBaselineReset"} then C{"AboutToReboot"},
        TR-330 Table 1: "will also include ... AboutToReboot").
        """
        self._cancel()
        if self.state != IDLE or announcements:
            first = announcements[0] if announcements else ""
            extra = tuple((ANNOUNCEMENT_HEADER, a) for a in announcements[1:])
            self._round(ssdp.BYEBYE, announcement=first, extra=extra)
        self.state = IDLE

    def silence(self) -> None:
        """→ IDLE without a word (a power cut)."""
        self._cancel()
        self.state = IDLE

    def update(self, nextBootId: int) -> None:
        """C{ssdp:update} for every target: the device's BOOTID becomes C{nextBootId}."""
        self._round(ssdp.UPDATE, nextBootId=nextBootId)

    def _later(self, delay: float, f: Callable, *args: Any) -> None:
        self._timers = [t for t in self._timers if t.active()]
        self._timers.append(self.clock.callLater(delay, f, *args))

    def _cancel(self) -> None:
        for timer in self._timers:
            if timer.active():
                timer.cancel()
        self._timers = []

    # -- searches ---------------------------------------------------------

    def answers(self, search: ssdp.Search, date: str = "") -> list[bytes]:
        """
        This device's answers to a search: one per matching target, with
        the ST searched for (UDA 1.1 §1.3.3; for C{ssdp:all}, every target).
        """
        if self.state == IDLE:
            return []
        out = []
        device = self.device
        for nt, usn in self.targets():
            if not ssdp.searchTargetMatches(search.st, nt):
                continue
            st = nt if search.st.strip() == ssdp.ALL else search.st.strip()
            if st != nt:
                usn = f"{device.udn}::{st}"
            out.append(
                ssdp.SearchResponse(
                    st=st,
                    usn=usn,
                    location=device.location,
                    maxAge=self.maxAge,
                    server=SERVER,
                    bootId=device.bootId,
                    configId=device.configId,
                    searchPort=self.searchPort,
                    secureLocation=device.secureLocation or "",
                    date=date,
                ).toBytes()
            )
        return out


class SearchResponder:
    """
    Answers M-SEARCH datagrams for a set of advertisers (one UDP endpoint
    for a whole fleet).

    @param multicast: whether searches may arrive on the multicast group
        (then one without MX, addressed to the group, is dropped).
    """

    log = Logger()

    def __init__(
        self,
        advertisers: Callable[[], Iterable[Advertiser]],
        sender: SSDPSender,
        clock: Any,
        *,
        multicast: bool = False,
        random: Optional[_random.Random] = None,
        date: Callable[[], str] = lambda: "",
    ) -> None:
        self.advertisers = advertisers
        self.sender = sender
        self.clock = clock
        self.multicast = multicast
        self.random = random or _random.Random()
        self.date = date
        self.pending = 0
        self.dropped = 0
        self.answered = 0
        self.maxPending = MAX_PENDING_ANSWERS
        # answers waiting, by a number of their own: each leaves as it is
        # sent (a fleet of 1,000 has thousands waiting after one search, and
        # a sweep of them all per answer sent was quadratic)
        self._scheduled: dict[int, Any] = {}
        self._numbers = itertools.count()

    def datagramReceived(self, data: bytes, address: tuple) -> None:
        """One datagram from the network: answer it if it is a search."""
        try:
            message = ssdp.parse(data)
        except ssdp.SSDPError as e:
            self.dropped += 1
            self.log.debug("dropped SSDP datagram from {address}: {reason}", address=address, reason=str(e))
            return
        if not isinstance(message, ssdp.Search):
            return  # other devices' NOTIFYs and answers: not ours to handle
        toGroup = message.host.strip().lower().startswith((ssdp.IPV4_GROUP, "[ff0"))
        mx = message.effectiveMX
        if mx is None and self.multicast and toGroup:
            self.dropped += 1
            self.log.debug("dropped multicast M-SEARCH without MX from {address}", address=address)
            return
        answers = [a for adv in self.advertisers() for a in adv.answers(message, self.date())]
        if not answers:
            return
        if self.pending + len(answers) > self.maxPending:
            self.dropped += 1
            self.log.warn(
                "M-SEARCH from {address} dropped: {pending} answers already waiting",
                address=address, pending=self.pending,
            )
            return
        for answer in answers:
            delay = self.random.uniform(0, mx) if mx else 0.0
            self.pending += 1
            number = next(self._numbers)
            self._scheduled[number] = self.clock.callLater(delay, self._send, number, answer, address)

    def stop(self) -> None:
        """Drop the answers not sent yet (the endpoint is closing)."""
        for call in self._scheduled.values():
            call.cancel()
        self._scheduled.clear()
        self.pending = 0

    def _send(self, number: int, answer: bytes, address: tuple) -> None:
        del self._scheduled[number]
        self.pending -= 1
        self.answered += 1
        try:
            self.sender.sendTo(answer, address)
        except OSError as e:
            self.log.warn("cannot answer {address}: {reason}", address=address, reason=e.strerror or str(e))
