# -*- test-case-name: tests.test_upnp_admission -*-
"""
Which new devices may have their description fetched now, and those that
wait for their turn (the device tracker's admission; sans-IO).

A first description fetch holds a slot: at most C{maxPending} at once, and at
most C{maxPerSource} for one source address, so that one host cannot hold
every slot (a host's own devices in unicast-loopback mode share the source
L{LOOPBACK}, which has no per-source cap).

A new device that finds no free slot waits: on a LAN of a thousand devices
all answer a search within the same few seconds, and the next search is
minutes away (C{[lan] search_interval}), so a device turned away would stay
unknown that long. Waiting devices are admitted in the order first heard as
soon as a slot frees. Each source has its own line, so that a source whose
slots are all taken holds up nobody else: the next admitted is the head of
the line first heard among the sources that may start a fetch (a heap of
the lines' heads; a line whose source is full is parked until one of its
fetches ends).

Waiting costs only memory (an announcement each), and a hostile LAN can
announce without end, so it is bounded: at most C{maxWaiting} devices wait,
the least recently heard dropped first beyond that, and one source may have
at most C{maxWaitingPerSource} of them, its newcomers refused beyond that.
A device heard again while it waits keeps its place.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional

__all__ = ["Admission", "Waiting", "LOOPBACK", "MAX_WAITING", "MAX_WAITING_PER_SOURCE"]

#: The source of this host's own devices (unicast-loopback mode): not capped per source.
LOOPBACK = ""
#: Devices waiting at most. Each holds a parsed announcement (one datagram: at most about 1.5 KiB of
#: fields) and its bookkeeping, so this bounds the queue near 8 MiB, which a gateway can spare, while
#: a LAN of a thousand devices (each announcing its root and an embedded UDN) fits twice over.
MAX_WAITING = 4096
#: Devices waiting for one source address at most: one host floods no more than this into the queue.
MAX_WAITING_PER_SOURCE = 512


@dataclass
class Waiting:
    """A new device's latest announcement, waiting for a fetch slot."""

    udn: str
    message: Any
    origin: Any
    source: str
    #: when its announcement's max-age runs out (the tracker drops it then, unfetched)
    until: float
    #: its place: the order in which waiting devices were first heard
    order: int


class Admission:
    """
    @ivar fetching: first fetches under way.
    @ivar waiting: the waiting devices by UDN, in the order first heard.
    """

    def __init__(self, maxPending: int, maxPerSource: int, *, maxWaiting: int = MAX_WAITING,
                 maxWaitingPerSource: int = MAX_WAITING_PER_SOURCE) -> None:
        self.maxPending = maxPending
        self.maxPerSource = maxPerSource
        self.maxWaiting = maxWaiting
        self.maxWaitingPerSource = maxWaitingPerSource
        self._order = itertools.count()
        self.clear()

    def clear(self) -> None:
        """Forget every waiting device and slot (the tracker stops)."""
        self.fetching = 0
        self.waiting: dict[str, Waiting] = {}
        self._fetchingFrom: dict[str, int] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()  # least recently heard first
        self._lines: dict[str, OrderedDict[str, None]] = {}  # by source, in the order first heard
        self._heads: list[tuple[int, str]] = []  # (order of a line's head, source); stale ones skipped
        self._parked: set[str] = set()  # sources with a line whose fetches are all taken

    # -- slots ------------------------------------------------------------------------------------

    def full(self, source: str) -> bool:
        """Whether C{source} holds all the fetches one source may."""
        return source != LOOPBACK and self._fetchingFrom.get(source, 0) >= self.maxPerSource

    def mayStart(self, source: str) -> bool:
        """Whether a new device of C{source} may be fetched now, passing nobody who waits and could be."""
        return self.fetching < self.maxPending and not self.full(source) and len(self._lines) == len(self._parked)

    def started(self, source: str) -> None:
        """A first fetch from C{source} holds a slot."""
        self.fetching += 1
        self._fetchingFrom[source] = self._fetchingFrom.get(source, 0) + 1

    def finished(self, source: str) -> None:
        """A first fetch from C{source} ended (described, ignored or forgotten): its slot is free."""
        self.fetching -= 1
        left = self._fetchingFrom[source] - 1
        if left:
            self._fetchingFrom[source] = left
        else:
            del self._fetchingFrom[source]
        if source in self._parked and not self.full(source):
            self._parked.discard(source)
            self._pushHead(source)

    # -- the waiting devices ------------------------------------------------------------------------

    def wait(self, udn: str, message: Any, origin: Any, source: str, until: float) -> list[Waiting]:
        """
        Keep a new device until a slot frees (one heard again keeps its
        place, with its latest announcement).

        @return: those dropped for it: the least recently heard beyond
            C{maxWaiting}, or itself when its source has
            C{maxWaitingPerSource} waiting already.
        """
        known = self.waiting.get(udn)
        if known is not None and known.source == source:
            known.message, known.origin, known.until = message, origin, until
            self._recent.move_to_end(udn)
            return []
        if known is not None:  # heard from another address: it waits in that source's line
            self.discard(udn)
        line = self._lines.get(source)
        if source != LOOPBACK and line is not None and len(line) >= self.maxWaitingPerSource:
            return [Waiting(udn, message, origin, source, until, -1)]
        waiting = Waiting(udn, message, origin, source, until, next(self._order))
        self.waiting[udn] = waiting
        self._recent[udn] = None
        if line is None:
            self._lines[source] = line = OrderedDict()
            if self.full(source):
                self._parked.add(source)
            else:
                heapq.heappush(self._heads, (waiting.order, source))
        line[udn] = None
        dropped = []
        while len(self.waiting) > self.maxWaiting:
            oldest = next(iter(self._recent))
            dropped.append(self.discard(oldest))
        return [w for w in dropped if w is not None]

    def discard(self, udn: str) -> Optional[Waiting]:
        """Forget a waiting device (it left, or is known now): what it was, or None."""
        waiting = self.waiting.pop(udn, None)
        if waiting is None:
            return None
        del self._recent[udn]
        line = self._lines[waiting.source]
        head = next(iter(line)) == udn
        del line[udn]
        if not line:
            del self._lines[waiting.source]
            self._parked.discard(waiting.source)
        elif head and waiting.source not in self._parked:
            self._pushHead(waiting.source)
        return waiting

    def next(self) -> Optional[Waiting]:
        """
        Take the device to admit now: the first heard of the sources that
        may start a fetch; None when no slot is free or nobody waiting may
        take one. Its slot is the caller's to take (L{started}).
        """
        while self.fetching < self.maxPending and self._heads:
            order, source = heapq.heappop(self._heads)
            line = self._lines.get(source)
            if line is None or source in self._parked or self.waiting[next(iter(line))].order != order:
                continue  # a stale head: the line went, or moved on
            if self.full(source):
                self._parked.add(source)
                continue
            return self.discard(next(iter(line)))
        return None

    def _pushHead(self, source: str) -> None:
        heapq.heappush(self._heads, (self.waiting[next(iter(self._lines[source]))].order, source))
