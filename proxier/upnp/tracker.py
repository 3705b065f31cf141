# -*- test-case-name: tests.test_upnp_tracker -*-
"""
Which devices are on the LAN, keyed by UDN (TR-330 §4.1.1; INTEROP.md, SSDP).

The tracker turns a stream of SSDP messages into a few facts for its
listener: a device was found (its description and SCPDs fetched), it changed
(a new LOCATION, BOOTID or CONFIGID, or an C{ssdp:update}: everything fetched
again), it announced something (C{Announcement.dm.upnp.org} on a byebye:
TR-330 Table 1 needs AboutToReboot and AboutToBaselineReset), or it is gone
(byebye, max-age expiry, or no longer reachable).

A device heard from several addresses (dual stack, IPv6 link-local and ULA,
several interfaces) announces one LOCATION per address: the tracker keeps
using the one it described, and takes another only when the device announces
from the address in use, or when that address has gone quiet for half a
max-age. A forged announcement from another host therefore cannot steer a live
device elsewhere. Likewise a byebye from another address of a device alive
at the one in use does not remove it at once: after the grace its
description is read again where it is in use (a few times, the wait
doubling), and it is gone when that fails. rygel, for one, multicasts only
from its IPv6 link-local address while its ULA answers searches too, and a
device described at the ULA would otherwise never be seen to leave. A byebye
followed at once by an alive (a re-announcement) is not a departure. When
the address in use says byebye, an alive from another address within the
grace does not cancel the departure (a multi-homed device shuts its
addresses down one by one, and may answer a search from one while the other
has left): if that address is one the device was heard from before and has
not said byebye too by the end of the grace, the device moves there;
otherwise it is gone.

It is built to survive a hostile LAN: announcements only create an entry
when they are about a type worth fetching (the UPnP DM types and root
devices); entries are capped (C{[lan] max_devices}), and so are entries still
being fetched, overall and per source address; new devices beyond those
wait for a free slot, in a bounded queue (L{proxier.upnp.admission}); each
new device costs at most a bounded number of description fetches, after
which its (location, UDN) is remembered as failed for a while; a
description must contain the UDN that announced it; and repeated log lines
about refused packets are rate-limited.

Every lookup is by index (C{entries} and C{byUDN} by UDN, C{byLocation} by
the LOCATION fetched; each entry knows the keys it is indexed under), and the
slots are counted as entries start and end their first fetch: the cost of a
message does not grow with the number of devices.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol as TypingProtocol, Union

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.log import DeviceLogger, RateLimitedLog
from proxier.sharing import internText
from proxier.timers import TimerQueue
from proxier.upnp import ssdp
from proxier.upnp.admission import LOOPBACK, MAX_WAITING, MAX_WAITING_PER_SOURCE, Admission
from proxier.upnp.fetcher import DeviceInfo, isDMService
from proxier.upnp.ssdp import Notify, SearchResponse, parseType
from proxier.lan.urlpolicy import Origin

__all__ = ["TrackedDevice", "Change", "DeviceTracker", "ITrackerListener", "isInteresting"]

Sighting = Union[Notify, SearchResponse]

#: The types whose announcement makes a new device worth fetching.
INTERESTING_NAMES = frozenset(
    {"ManageableDevice", "BasicManagement", "ConfigurationManagement", "SoftwareManagement", "DeviceProtection"}
)
#: max-age is clamped into this range (a hostile or broken device cannot make
#: us forget it every second or remember it for ever).
MIN_MAX_AGE = 10
MAX_MAX_AGE = 86400
#: An entry expires this fraction after its max-age (re-announcements jitter).
EXPIRY_GRACE = 0.1
#: Source addresses remembered per device.
MAX_SOURCES = 8
#: Seconds between two probes of one device (see L{DeviceTracker.probe}).
PROBE_INTERVAL = 30.0
#: Looks at the address in use after another address's byebye, the grace
#: doubling between them: a device still shutting down is not "still there".
CHECKS_AFTER_BYEBYE = 4


def isInteresting(nt: str) -> bool:
    """Whether an announcement of C{nt} is worth a description fetch."""
    if nt.strip() == ssdp.ROOT_DEVICE:
        return True
    parsed = parseType(nt)
    return parsed is not None and parsed.domain == "schemas-upnp-org" and parsed.name in INTERESTING_NAMES


@dataclass(frozen=True, slots=True)
class Change:
    """What changed about a device, as its announcements show."""

    location: bool = False
    bootId: bool = False
    configId: bool = False
    update: bool = False
    embedded: bool = False

    def __or__(self, other: "Change") -> "Change":
        return Change(*(a or b for a, b in zip(self.astuple(), other.astuple())))

    def astuple(self) -> tuple[bool, ...]:
        return (self.location, self.bootId, self.configId, self.update, self.embedded)

    def __bool__(self) -> bool:
        return any(self.astuple())

    def __str__(self) -> str:
        names = ("LOCATION", "BOOTID", "CONFIGID", "ssdp:update", "embedded device byebye")
        return ", ".join(n for n, v in zip(names, self.astuple()) if v) or "nothing"


#: No change: what an entry holds while nothing is pending (one for all: a Change is immutable).
NO_CHANGE = Change()


#: The time of a probe never made (one float for every device).
_NEVER = float("-inf")


class TrackedDevice:
    """
    One device (a root device and its embedded devices), keyed by its root
    UDN once the description is known.

    States:
     - C{fetching}: first heard; description being fetched.
     - C{ready}: described; the listener was told (found or changed).
     - C{refreshing}: a change was announced; fetching again.
     - C{ignored}: described, but without any UPnP DM service: kept (so it is
       not fetched again) until its announcements expire.

    @ivar udn: the root UDN in lower case (the announcing UDN until described).
    @ivar info: the latest L{DeviceInfo}, or C{None} before the first.
    @ivar slot: the source whose first-fetch slot it holds (while
        C{fetching}), or C{None}.
    @ivar indexedLocation: the LOCATION it was last indexed under.
    """

    # slots: one per device, some thirty attributes (issue 19)
    __slots__ = (
        "udn", "announcedUDN", "location", "origin", "state", "bootId", "configId", "secureLocation", "server",
        "searchPort", "maxAge", "lastSeen", "info", "udns", "pending", "failures", "lastAnnouncement", "fetches",
        "generation", "expiry", "retry", "leaving", "embeddedLeaving", "fallback", "checking", "checks", "doubted",
        "lastProbe", "slot", "indexedLocation", "log", "seenFrom",
    )

    def __init__(self, udn: str, location: str, origin: Origin, message: Sighting, now: float) -> None:
        self.udn = udn
        self.announcedUDN = udn
        self.location = location
        self.origin = origin
        self.state = "fetching"
        self.bootId = message.bootId
        self.configId = message.configId
        self.secureLocation = message.secureLocation
        self.server = internText(message.server)  # the same for every device of a model
        self.searchPort = message.searchPort
        self.maxAge = _clamp(message.maxAge)
        self.lastSeen = now
        self.info: Optional[DeviceInfo] = None
        self.udns: tuple[str, ...] = (udn,)  # the UDNs it is indexed under (a tuple: a set costs 216 bytes)
        self.pending = NO_CHANGE
        self.failures = 0
        self.lastAnnouncement: Optional[tuple[str, Optional[int]]] = None
        self.fetches = 0
        self.generation = 0
        self.expiry: Any = None
        self.retry: Any = None
        self.leaving: Any = None
        self.embeddedLeaving: Any = None
        # while leaving: the (location, origin) of another address heard alive since the byebye
        self.fallback: Optional[tuple[str, Origin]] = None
        # a byebye came from another address: the address in use is looked at after the grace
        self.checking: Any = None
        self.checks = 0  # looks taken since that byebye
        self.doubted = False  # a look is under way: a failure means the device left
        self.lastProbe = _NEVER
        self.slot: Optional[str] = None
        self.indexedLocation: Optional[str] = None
        self.log = DeviceLogger(f"{udn} at {origin.source}")
        # the source addresses it was heard from, and when, the least recently heard first (a multi-homed or
        # dual-stack device announces a LOCATION per address): (address, time) pairs, mostly one (a dict of one
        # is 184 bytes a device, issue 19)
        self.seenFrom: tuple[tuple[str, float], ...] = ((_host(origin.source), now),)

    @property
    def description(self) -> Any:
        return self.info.description if self.info is not None else None

    def __repr__(self) -> str:
        return f"<TrackedDevice {self.udn} {self.state} {self.location}>"


def _host(address: str) -> str:
    return address.partition("%")[0]


def _heardAt(seenFrom: tuple[tuple[str, float], ...], source: str) -> Optional[float]:
    """When a device was last heard from C{source}, or C{None}."""
    for address, when in seenFrom:
        if address == source:
            return when
    return None


def _heard(seenFrom: tuple[tuple[str, float], ...], source: str, now: float,
           inPlace: bool = False) -> tuple[tuple[str, float], ...]:
    """
    C{seenFrom} with C{source} heard at C{now}: the most recently heard (the
    last), the least recently heard beyond L{MAX_SOURCES} dropped — or, with
    C{inPlace}, a known source's time updated where it stands.
    """
    if inPlace and _heardAt(seenFrom, source) is not None:
        return tuple((address, now if address == source else when) for address, when in seenFrom)
    return _unheard(seenFrom, source)[-(MAX_SOURCES - 1):] + ((source, now),)


def _unheard(seenFrom: tuple[tuple[str, float], ...], source: str) -> tuple[tuple[str, float], ...]:
    """C{seenFrom} without C{source}."""
    return tuple(pair for pair in seenFrom if pair[0] != source)


def _source(origin: Origin) -> str:
    """Whose fetch slots a device's first fetch takes: its address's, or this host's own (no cap)."""
    return LOOPBACK if origin.loopbackMode else _host(origin.source)


def _sameLocation(message: Sighting, location: str) -> Sighting:
    """The message as if it named C{location} (its other fields still count)."""
    from dataclasses import replace

    return replace(message, location=location)


def _clamp(maxAge: Optional[int]) -> int:
    return max(MIN_MAX_AGE, min(MAX_MAX_AGE, maxAge if maxAge is not None else ssdp.DEFAULT_MAX_AGE))


class ITrackerListener(TypingProtocol):
    def deviceFound(self, device: TrackedDevice) -> None:
        """A new device is described (C{device.info})."""

    def deviceChanged(self, device: TrackedDevice, change: Change) -> None:
        """A known device was described again after C{change}."""

    def deviceLost(self, device: TrackedDevice, reason: str) -> None:
        """The device is gone: C{"byebye"}, C{"expired"} or C{"unreachable"}."""

    def announcementReceived(self, device: TrackedDevice, value: str) -> None:
        """An C{Announcement.dm.upnp.org} value on a byebye (once per value and BOOTID)."""


class DeviceTracker:
    """
    @param fetch: C{(location, origin) → Deferred[DeviceInfo]}.
    @param maxDevices: the most entries, all states together.
    @param maxPending: the most entries still in their first fetch.
    @param maxPendingPerSource: the most of those announced by one source
        address, so that one host cannot hold every slot.
    @param newAttempts: fetches a new device gets before it is dropped (a
        forged announcement costs little, so few), C{newRetryDelay} apart.
    @param fetchAttempts: fetches a described device gets when a refresh
        fails, C{retryDelay} apart, before it is lost as unreachable.
    @param failedFor: seconds a failed (location, UDN) is not fetched again.
    @param maxWaiting: new devices kept waiting for a free fetch slot (the
        least recently heard are dropped beyond it); C{maxWaitingPerSource}
        of them for one source address at most. Each waits until its
        announcement's max-age runs out.
    @param byebyeGrace: seconds a byebye waits before the device is gone: an
        alive within them was a re-announcement (GSSDP and others send
        byebye before alive), not a departure.
    """

    log = Logger()

    def __init__(
        self,
        fetch: Callable[[str, Origin], "Deferred[DeviceInfo]"],
        listener: ITrackerListener,
        clock: Any,
        *,
        maxDevices: int = 256,
        maxPending: int = 32,
        maxPendingPerSource: int = 4,
        newAttempts: int = 2,
        newRetryDelay: float = 2.0,
        fetchAttempts: int = 3,
        retryDelay: float = 10.0,
        failedFor: float = 60.0,
        failedCacheSize: int = 1024,
        maxWaiting: int = MAX_WAITING,
        maxWaitingPerSource: int = MAX_WAITING_PER_SOURCE,
        byebyeGrace: float = 2.0,
        interesting: Callable[[str], bool] = isInteresting,
    ) -> None:
        self.fetch = fetch
        self.listener = listener
        self.clock = clock
        #: the devices' max-age deadlines, one per device for as long as it is known, on one reactor call
        #: (a Timer costs a fourth of a DelayedCall, and is pushed back as cheaply: issue 19)
        self.timers = TimerQueue(clock)
        self.maxDevices = maxDevices
        self.admission = Admission(min(maxPending, maxDevices), maxPendingPerSource, maxWaiting=maxWaiting,
                                   maxWaitingPerSource=maxWaitingPerSource)
        self.newAttempts = newAttempts
        self.newRetryDelay = newRetryDelay
        self.fetchAttempts = fetchAttempts
        self.retryDelay = retryDelay
        self.failedFor = failedFor
        self.failedCacheSize = failedCacheSize
        self.interesting = interesting
        self.entries: dict[str, TrackedDevice] = {}
        self.byUDN: dict[str, TrackedDevice] = {}
        self.byLocation: dict[str, TrackedDevice] = {}
        self.failed: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.byebyeGrace = byebyeGrace
        self._drainCall: Any = None
        self.limited = RateLimitedLog(clock, self.log)
        self.counts = {"dropped-full": 0, "dropped-pending": 0, "dropped-failed": 0, "fetches": 0, "waited": 0}
        self.stopped = False

    # queries

    def devices(self) -> list[TrackedDevice]:
        return list(self.entries.values())

    def get(self, udn: str) -> Optional[TrackedDevice]:
        return self.byUDN.get(udn.lower())

    @property
    def pendingCount(self) -> int:
        """Entries in their first fetch."""
        return self.admission.fetching

    @property
    def waiting(self) -> dict:
        """The new devices waiting for a fetch slot, by UDN, in the order first heard."""
        return self.admission.waiting

    # input

    def received(self, message: ssdp.Message, origin: Origin) -> None:
        """One parsed SSDP message from an on-link source (the listener checked that)."""
        if self.stopped or isinstance(message, ssdp.Search):
            return
        udn = message.udn.lower()
        if isinstance(message, Notify) and message.nts == ssdp.BYEBYE:
            self._byebye(udn, message, origin)
        elif isinstance(message, Notify) and message.nts == ssdp.UPDATE:
            self._update(udn, message, origin)
        else:
            self._alive(udn, message, origin)

    def probe(self, udn: str) -> bool:
        """
        Something suggests the device left without a byebye (its event
        subscription got no answer): fetch its description again. If that
        works nothing is told; if it keeps failing the device is lost as
        C{"unreachable"}. At most once per L{PROBE_INTERVAL} per device.

        @return: whether a probe was started.
        """
        entry = self.byUDN.get(udn.lower())
        now = self.clock.seconds()
        if entry is None or entry.state != "ready" or now - entry.lastProbe < PROBE_INTERVAL:
            return False
        entry.lastProbe = now
        entry.state = "refreshing"
        entry.failures = 0
        self._fetch(entry)
        return True

    def stop(self) -> None:
        """Forget everything without telling the listener (the service stops)."""
        self.stopped = True
        if self._drainCall is not None and self._drainCall.active():
            self._drainCall.cancel()
        self._drainCall = None
        self.admission.clear()
        for entry in list(self.entries.values()):
            self._cancelTimers(entry)
            entry.generation += 1
        self.entries.clear()
        self.byUDN.clear()
        self.byLocation.clear()

    # the machine

    def _lookup(self, udn: str, location: str = "") -> Optional[TrackedDevice]:
        entry = self.byUDN.get(udn)
        if entry is None and location:
            candidate = self.byLocation.get(location)
            if candidate is not None and candidate.state == "fetching":
                entry = candidate  # another UDN of a description not yet read
        return entry

    def _alive(self, udn: str, message: Sighting, origin: Origin) -> None:
        now = self.clock.seconds()
        entry = self._lookup(udn, message.location)
        if entry is not None:
            source, inUse = _host(origin.source), _host(entry.origin.source)
            if entry.leaving is not None and source != inUse and message.location != entry.location:
                if _heardAt(entry.seenFrom, source) is not None:  # heard from before: decided when the grace ends
                    entry.fallback = (message.location, origin)
                return
            self._cancel(entry, "leaving")  # said byebye, and is back at once: it only re-announced
            entry.fallback = None
            if source == inUse:
                self._cancel(entry, "checking")  # the address in use speaks: it is there
                entry.checks = 0
            self._cancel(entry, "embeddedLeaving")
            self._seen(entry, message, now)
            entry.seenFrom = _heard(entry.seenFrom, source, now)
            change = NO_CHANGE
            if message.location != entry.location:
                if source == inUse or now - (_heardAt(entry.seenFrom, inUse) or 0.0) > entry.maxAge / 2:
                    change |= Change(location=True)  # moved, or the address in use went quiet
                else:
                    message = _sameLocation(message, entry.location)  # another address of a multi-homed device
            if message.bootId is not None and entry.bootId is not None and message.bootId != entry.bootId:
                change |= Change(bootId=True)
            if message.configId is not None and entry.configId is not None and message.configId != entry.configId:
                change |= Change(configId=True)
            if change:
                entry.log.info("announced a change ({change}): describing it again", change=change)
                if change.location:
                    entry.location = message.location
                    self._setOrigin(entry, origin)
                entry.bootId = message.bootId
                entry.configId = message.configId
                entry.secureLocation = message.secureLocation
                self._changed(entry, change)
            else:
                if entry.bootId is None:
                    entry.bootId = message.bootId
                if entry.configId is None:
                    entry.configId = message.configId
            return
        if not self.interesting(message.nt):
            return
        self._admit(udn, message, origin, now)

    def _admit(self, udn: str, message: Sighting, origin: Origin, now: float) -> None:
        """A new device: fetch it now, or wait for a free slot, or drop it."""
        if self._refused(udn, message, origin, now):
            self.admission.discard(udn)
            return
        source = _source(origin)
        if not self.admission.mayStart(source):
            self._wait(udn, message, origin, source, now)
            return
        self.admission.discard(udn)
        self._start(udn, message, origin, now)

    def _refused(self, udn: str, message: Sighting, origin: Origin, now: float) -> bool:
        """Whether a new device is dropped: the tracker is full, or it failed not long ago."""
        if len(self.entries) >= self.maxDevices:
            self.counts["dropped-full"] += 1
            self.limited.warn("full", "{count} devices tracked ([lan] max_devices): announcement of {udn} from "
                              "{source} dropped", count=len(self.entries), udn=udn[:80], source=origin.source)
            return True
        failedUntil = self.failed.get((message.location, udn))
        if failedUntil is not None:
            if failedUntil > now:
                self.counts["dropped-failed"] += 1
                return True
            del self.failed[(message.location, udn)]
        return False

    def _start(self, udn: str, message: Sighting, origin: Origin, now: float) -> None:
        udn = internText(udn)  # the one string of the device's UDN: its description's parts are keyed by it (issue 19)
        entry = TrackedDevice(udn, message.location, origin, message, now)
        self.entries[udn] = entry
        self.byUDN[udn] = entry
        self._take(entry)
        self._armExpiry(entry)
        entry.log.info("discovered ({nt}) at {location}", nt=message.nt[:120], location=message.location[:200])
        self._fetch(entry)

    def _wait(self, udn: str, message: Sighting, origin: Origin, source: str, now: float) -> None:
        """Keep a new device's announcement until a fetch slot frees, as long as its max-age says it is there."""
        if udn not in self.waiting:
            self.counts["waited"] += 1
        dropped = self.admission.wait(udn, message, origin, source, now + _clamp(message.maxAge) * (1 + EXPIRY_GRACE))
        if dropped:
            self.counts["dropped-pending"] += len(dropped)
            if dropped[0].udn == udn:
                self.limited.warn("pending-source", "{count} new devices from {source} waiting to be described: "
                                  "its further announcements are dropped", count=self.admission.maxWaitingPerSource,
                                  source=source)
            else:
                self.limited.warn("pending", "{count} new devices waiting to be described: the least recently heard "
                                  "are dropped", count=self.admission.maxWaiting)
        self._scheduleDrain()

    def _scheduleDrain(self) -> None:
        if self.waiting and self._drainCall is None and not self.stopped:
            self._drainCall = self.clock.callLater(0, self._drain)

    def _drain(self) -> None:
        """Start fetches for waiting devices, in turn, while slots are free (lapsed and known ones dropped)."""
        self._drainCall = None
        now = self.clock.seconds()
        while (waiting := self.admission.next()) is not None:
            if waiting.until < now:
                self.counts["dropped-pending"] += 1
            elif self._lookup(waiting.udn, waiting.message.location) is None and not self._refused(
                    waiting.udn, waiting.message, waiting.origin, now):
                self._start(waiting.udn, waiting.message, waiting.origin, now)

    def _take(self, entry: TrackedDevice) -> None:
        """The entry starts a first fetch: it holds a slot of its source."""
        if entry.slot is None:
            entry.slot = _source(entry.origin)
            self.admission.started(entry.slot)

    def _release(self, entry: TrackedDevice) -> None:
        """The entry's first fetch ended: its slot goes to whoever waits."""
        if entry.slot is not None:
            self.admission.finished(entry.slot)
            entry.slot = None
            self._scheduleDrain()

    def _setOrigin(self, entry: TrackedDevice, origin: Origin) -> None:
        """The entry is reached at another address now: a slot it holds is that source's."""
        entry.origin = origin
        if entry.slot is not None and entry.slot != _source(origin):
            self._release(entry)
            self._take(entry)

    def _seen(self, entry: TrackedDevice, message: Sighting, now: float) -> None:
        entry.lastSeen = now
        entry.maxAge = _clamp(message.maxAge)
        entry.server = internText(message.server) if message.server else entry.server
        if message.searchPort is not None:
            entry.searchPort = message.searchPort
        self._armExpiry(entry)

    def _update(self, udn: str, message: Notify, origin: Origin) -> None:
        entry = self._lookup(udn)
        if entry is None:
            return
        if message.nextBootId is None:
            self.limited.warn("update", "ssdp:update from {source} for {udn} without NEXTBOOTID.UPNP.ORG: dropped",
                              source=origin.source, udn=udn[:80])
            return
        entry.log.info("ssdp:update: BOOTID {old} → {new}, LOCATION {location}", old=entry.bootId,
                       new=message.nextBootId, location=message.location[:200])
        change = Change(update=True, location=message.location != entry.location)
        entry.location = message.location
        self._setOrigin(entry, origin)
        entry.seenFrom = _heard(entry.seenFrom, _host(origin.source), self.clock.seconds(), inPlace=True)
        entry.bootId = message.nextBootId
        if message.configId is not None:
            entry.configId = message.configId
        entry.lastSeen = self.clock.seconds()
        self._armExpiry(entry)
        self._changed(entry, change)

    def _byebye(self, udn: str, message: Notify, origin: Origin) -> None:
        if self.admission.discard(udn) is not None:
            self.log.debug("{udn} said byebye while waiting to be described: no longer waiting", udn=udn[:80])
        entry = self._lookup(udn)
        if entry is None:
            return
        if message.announcement and entry.state != "ignored":
            value = message.announcement.strip()
            key = (value, message.bootId if message.bootId is not None else entry.bootId)
            if entry.lastAnnouncement != key:
                entry.lastAnnouncement = key
                entry.log.info("announced {value}", value=value[:60])
                if entry.state in ("ready", "refreshing"):
                    self._tell("announcementReceived", entry, value)
        source, inUse = _host(origin.source), _host(entry.origin.source)
        if entry.fallback is not None and _host(entry.fallback[1].source) == source:
            entry.fallback = None  # the other address is leaving too
        if source != inUse and self.clock.seconds() - (_heardAt(entry.seenFrom, inUse) or 0.0) <= entry.maxAge / 2:
            # one address of a multi-homed device left; is the one in use still there? Any on-link address may
            # ask (rygel's link-local byebyes come from an address a control point that joined after its alive
            # burst never heard otherwise); what a stranger's byebyes cost is bounded by _check
            entry.seenFrom = _unheard(entry.seenFrom, source)
            if entry.checking is not None and entry.checking.active():
                entry.checking.reset(self.byebyeGrace)  # a burst of byebyes (one per NT): look after the last
            elif entry.state == "ready":
                entry.log.debug("byebye from {source}: looking whether it is still at {inUse}", source=source,
                                inUse=inUse)
                entry.checks = 0
                entry.checking = self.clock.callLater(self.byebyeGrace, self._check, entry)
            return
        if udn == entry.udn or entry.state == "fetching":
            self._cancel(entry, "embeddedLeaving")
            if entry.leaving is None:  # many stacks say byebye just before alive: wait a moment
                entry.leaving = self.clock.callLater(self.byebyeGrace, self._left, entry)
        elif entry.leaving is None and entry.embeddedLeaving is None:
            # a device going away says byebye for its embedded devices first: wait for the root's
            entry.embeddedLeaving = self.clock.callLater(self.byebyeGrace, self._embeddedLeft, entry, udn)

    def _left(self, entry: TrackedDevice) -> None:
        entry.leaving = None
        fallback, entry.fallback = entry.fallback, None
        if self.entries.get(entry.udn) is not entry:
            return
        if fallback is None:
            self._lose(entry, "byebye")
            return
        entry.seenFrom = _unheard(entry.seenFrom, _host(entry.origin.source))
        entry.location = fallback[0]
        self._setOrigin(entry, fallback[1])
        entry.log.info("said byebye at one address, still alive at {location}: describing it there",
                       location=fallback[0][:200])
        self._changed(entry, Change(location=True))

    def _check(self, entry: TrackedDevice) -> None:
        """
        Another address said byebye: read the description where it is in
        use. A round of L{CHECKS_AFTER_BYEBYE} looks starts at most once
        per L{PROBE_INTERVAL}.
        """
        entry.checking = None
        now = self.clock.seconds()
        if self.entries.get(entry.udn) is not entry or entry.state != "ready":
            return
        if entry.checks == 0 and now - entry.lastProbe < PROBE_INTERVAL:
            return
        entry.lastProbe = now
        entry.checks += 1
        entry.doubted = True
        entry.state = "refreshing"
        entry.failures = 0
        self._fetch(entry)

    def _embeddedLeft(self, entry: TrackedDevice, udn: str) -> None:
        entry.embeddedLeaving = None
        if self.entries.get(entry.udn) is entry:
            entry.log.info("embedded device {udn} said byebye: describing again", udn=udn)
            self._changed(entry, Change(embedded=True))

    def _changed(self, entry: TrackedDevice, change: Change) -> None:
        entry.pending |= change
        if entry.state in ("ready", "ignored"):
            entry.state = "refreshing" if entry.state == "ready" else "fetching"
            if entry.state == "fetching":
                self._take(entry)
            entry.failures = 0
            self._fetch(entry)
        elif entry.retry is not None:  # waiting to retry: go now, with the new location
            self._cancel(entry, "retry")
            self._fetch(entry)

    def _fetch(self, entry: TrackedDevice) -> None:
        entry.generation += 1
        generation = entry.generation
        location = entry.location
        entry.fetches += 1
        self.counts["fetches"] += 1
        self._indexLocation(entry, location)
        d = self.fetch(location, entry.origin)
        d.addCallbacks(self._fetched, self._fetchFailed, (entry, generation, location), None,
                       (entry, generation, location))
        d.addErrback(lambda f: entry.log.failure("tracker bug", f))

    def _indexLocation(self, entry: TrackedDevice, location: str) -> None:
        old = entry.indexedLocation
        if old is not None and old != location and self.byLocation.get(old) is entry:
            del self.byLocation[old]
        self.byLocation[location] = entry
        entry.indexedLocation = location

    def _fetched(self, info: DeviceInfo, entry: TrackedDevice, generation: int, location: str) -> None:
        if generation != entry.generation or self.entries.get(entry.udn) is not entry:
            return
        udns = tuple(dict.fromkeys(info.udns))
        if entry.announcedUDN not in udns and entry.udn not in udns:
            self._fetchFailed(Failure(ValueError(f"the description at {location[:200]} does not describe "
                                                 f"{entry.announcedUDN}")), entry, generation, location)
            return
        rootUDN = info.description.device.udn.lower()
        if rootUDN != entry.udn:
            other = self.entries.get(rootUDN)
            if other is not None and other is not entry:
                self._forget(entry)
                self._changed(other, Change(location=other.location != location))
                return
            del self.entries[entry.udn]
            entry.udn = rootUDN = internText(rootUDN)
            self.entries[rootUDN] = entry
            entry.log.rebind(f"{rootUDN} at {entry.origin.source}")
        for old in entry.udns:
            if old in udns:
                continue
            if self.byUDN.get(old) is entry:
                del self.byUDN[old]
        for u in udns:
            if self.byUDN.get(u) not in (None, entry):
                continue  # another tracked device claims that UDN; keep the first
            self.byUDN[u] = entry
        entry.udns = udns
        entry.info = info
        entry.failures = 0
        doubted, entry.doubted = entry.doubted, False
        for problem in info.problems:
            entry.log.warn("{problem}", problem=problem)
        previous = entry.state
        change, entry.pending = entry.pending, NO_CHANGE
        if not any(isDMService(s) for _, s in info.description.services()):
            if previous != "ignored":
                entry.log.info("no UPnP DM service: ignored until its announcements expire")
            if previous == "refreshing":
                entry.state = "ignored"
                self._tell("deviceLost", entry, "no longer a UPnP DM device")
            entry.state = "ignored"
            self._release(entry)
            return
        if location != entry.location:  # moved again while we were fetching
            entry.pending = change
            entry.state = "refreshing" if previous == "refreshing" else "fetching"
            self._fetch(entry)
            return
        entry.state = "ready"
        self._release(entry)
        if doubted and 0 < entry.checks < CHECKS_AFTER_BYEBYE:
            entry.checking = self.clock.callLater(self.byebyeGrace * 2 ** entry.checks, self._check, entry)
        if previous == "refreshing" and not change:
            entry.log.debug("probed: still there")
        elif previous == "refreshing":
            self._tell("deviceChanged", entry, change)
        else:
            self._tell("deviceFound", entry)

    def _fetchFailed(self, failure: Failure, entry: TrackedDevice, generation: int, location: str) -> None:
        if generation != entry.generation or self.entries.get(entry.udn) is not entry:
            return
        entry.failures += 1
        why = failure.getErrorMessage() or failure.type.__name__
        new = entry.state == "fetching"
        if entry.state == "refreshing" and (entry.pending.embedded or entry.doubted):
            # embedded devices, or another of its addresses, said byebye, and it no longer answers: it left
            # (its own byebye was lost, or came from that other address)
            entry.log.info("described again after byebyes {where}, but {why}: gone",
                           where="of embedded devices" if entry.pending.embedded else "from another address", why=why)
            self._lose(entry, "byebye")
            return
        attempts, delay = (self.newAttempts, self.newRetryDelay) if new else (self.fetchAttempts, self.retryDelay)
        if entry.failures < attempts and location == entry.location:
            entry.log.info("description fetch failed ({why}); trying again in {delay:g} s", why=why, delay=delay)
            entry.retry = self.clock.callLater(delay, self._retry, entry)
            return
        if entry.state == "refreshing":
            entry.log.warn("description fetch failed {n} times ({why}): unreachable", n=entry.failures, why=why)
            self._lose(entry, "unreachable")
            return
        entry.log.warn("description fetch failed ({why}): not tracked for {seconds:g} s", why=why,
                       seconds=self.failedFor)
        self._remember(location, entry.announcedUDN)
        self._forget(entry)

    def _retry(self, entry: TrackedDevice) -> None:
        entry.retry = None
        if self.entries.get(entry.udn) is entry:
            self._fetch(entry)

    def _remember(self, location: str, udn: str) -> None:
        self.failed[(location, udn)] = self.clock.seconds() + self.failedFor
        self.failed.move_to_end((location, udn))
        while len(self.failed) > self.failedCacheSize:
            self.failed.popitem(last=False)

    def _armExpiry(self, entry: TrackedDevice) -> None:
        """
        Push the device's max-age deadline back. Every answer to a search and
        every alive does this (about three a device a search), so the running
        timer is moved rather than cancelled and made anew: a later time is
        one assignment (L{Timer.reset<proxier.timers.Timer.reset>}), where
        each cancelled timer stays in the heap until the heap is rebuilt
        (issue 19: at 1,000 devices, the bulk of the idle proxier's timer
        work).
        """
        delay = entry.maxAge * (1 + EXPIRY_GRACE)
        if entry.expiry is not None and entry.expiry.active():
            entry.expiry.reset(delay)
        else:
            entry.expiry = self.timers.callLater(delay, self._expired, entry)

    def _expired(self, entry: TrackedDevice) -> None:
        entry.expiry = None
        if self.entries.get(entry.udn) is entry:
            entry.log.info("no announcement for {age} s (max-age): gone", age=entry.maxAge)
            self._lose(entry, "expired")

    def _lose(self, entry: TrackedDevice, reason: str) -> None:
        told = entry.state in ("ready", "refreshing")
        self._forget(entry)
        if told:
            self._tell("deviceLost", entry, reason)

    def _forget(self, entry: TrackedDevice) -> None:
        self._cancelTimers(entry)
        entry.generation += 1
        if self.entries.get(entry.udn) is entry:
            del self.entries[entry.udn]
        for udn in entry.udns:
            if self.byUDN.get(udn) is entry:
                del self.byUDN[udn]
        if entry.indexedLocation is not None and self.byLocation.get(entry.indexedLocation) is entry:
            del self.byLocation[entry.indexedLocation]
        self._release(entry)

    def _cancelTimers(self, entry: TrackedDevice) -> None:
        self._cancel(entry, "expiry")
        self._cancel(entry, "retry")
        self._cancel(entry, "leaving")
        self._cancel(entry, "embeddedLeaving")
        self._cancel(entry, "checking")

    def _cancel(self, entry: TrackedDevice, name: str) -> None:
        timer = getattr(entry, name)
        if timer is not None and timer.active():
            timer.cancel()
        setattr(entry, name, None)

    def _tell(self, method: str, entry: TrackedDevice, *args: Any) -> None:
        try:
            getattr(self.listener, method)(entry, *args)
        except Exception:
            entry.log.failure(f"the device listener failed in {method}", Failure())
