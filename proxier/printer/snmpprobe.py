# -*- test-case-name: tests.test_printer_snmpprobe -*-
"""
Printers found by unicast SNMP probes (PRINTERS.md §8; issue 14 item 4):
the addresses of C{[printer] snmp_targets}, and those of the DNS-SD
candidates that may speak SNMP only (C{_pdl-datastream._tcp},
C{_printer._tcp}).

    SNMPProbe ──(address, community) at snmp_probe_rate/s──▶ ask ──▶ printer? ──found / lost──▶ the caller

One probe of an address is a GET of sysObjectID (does the community
answer at all?) and a bounded walk of hrDeviceType: the address is a
printer when a row says hrDevicePrinter. The communities of
C{snmp_communities} are tried in order, each try one request of the rate
budget; the first one answered decides. A datagram only ever goes to one
unicast address: a range's network and broadcast addresses are left out
here (L{addresses}), and the client refuses broadcast and multicast
anyway. Every C{snmp_probe_interval} all addresses are probed again: a
printer found that no longer answers as one is C{lost}, for the caller's
lifecycle (offline, then forgotten). A community is a password: it is
never logged.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from twisted.internet.defer import Deferred, inlineCallbacks, maybeDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.printer import mib
from proxier.printer.snmpclient import SNMPClient, SNMPClientError, SNMPTimeout

__all__ = ["addresses", "isPrinter", "SNMPProbe", "HR_DEVICE_ROWS"]

#: hrDeviceTable rows a probe reads at most (a printer lists a few devices).
HR_DEVICE_ROWS = 64


def addresses(targets: Iterable[str]) -> Iterator[str]:
    """
    The unicast addresses of networks (C{192.0.2.0/24}, C{2001:db8::/126},
    C{192.0.2.7/32}), each once, in order: a range's network and broadcast
    addresses (IPv6: its Subnet-Router anycast) are never among them.
    """
    seen: set[str] = set()
    for target in targets:
        for address in ipaddress.ip_network(target, strict=False).hosts():
            text = address.compressed
            if text not in seen and not address.is_multicast:
                seen.add(text)
                yield text


@inlineCallbacks
def isPrinter(client: SNMPClient) -> Any:
    """
    Whether the agent says it is a printer (a Deferred): GET sysObjectID,
    then hrDeviceType's rows; an SNMPTimeout when the community is not
    answered.
    """
    yield client.get([mib.OID["sysObjectID"] + (0,)])
    try:
        rows = yield client.walk(mib.OID["hrDeviceType"], HR_DEVICE_ROWS)
    except SNMPTimeout:
        raise
    except SNMPClientError:  # answered, without a usable hrDeviceTable
        return False
    printer = mib.OID["hrDevicePrinter"]
    return any(row.value.value == printer for row in rows)


class SNMPProbe:
    """
    See the module docstring.

    @param ask: C{ask(address, community)} → Deferred firing with whether it
        is a printer; an L{SNMPTimeout} failure: that community is not
        answered there (the next one is tried).
    @param found: C{found(address, community)}: a printer not found before
        (or found again after it was lost, or answering to another
        community now).
    @param lost: C{lost(address)}: a printer found no longer answers as one.
    """

    log = Logger()

    def __init__(self, clock: Any, ask: Callable[[str, bytes], Deferred], communities: Sequence[bytes], *,
                 found: Callable[[str, bytes], None], lost: Callable[[str], None], rate: float = 10.0,
                 interval: float = 3600.0, targets: Sequence[str] = ()) -> None:
        if not communities:
            raise ValueError("no community to probe with")
        self.clock = clock
        self.ask = ask
        self.communities = tuple(communities)
        self.found, self.lost = found, lost
        self.spacing = 1.0 / rate
        self.interval = interval
        self.targets: tuple[str, ...] = tuple(addresses(targets))
        self.extra: set[str] = set()  # DNS-SD candidates' addresses
        self.printers: dict[str, bytes] = {}  # address -> the community it answered to as a printer
        self._queue: deque[tuple[str, int]] = deque()  # (address, index of the community to try)
        self._busy: set[str] = set()  # addresses queued or being asked
        self._next: Any = None  # the IDelayedCall of the next send
        self._round: Any = None  # the IDelayedCall of the next round
        self._lastSend: Optional[float] = None
        self.running = False

    def start(self) -> None:
        self.running = True
        self._newRound()

    def stop(self) -> None:
        self.running = False
        for call in (self._next, self._round):
            if call is not None and call.active():
                call.cancel()
        self._next = self._round = None
        self._queue.clear()
        self._busy.clear()

    def add(self, address: str) -> None:
        """Probe this address too (a DNS-SD candidate's), now and at each round."""
        address = ipaddress.ip_address(address).compressed
        if address not in self.extra:
            self.extra.add(address)
            self._enqueue(address)

    def discard(self, address: str) -> None:
        """No longer probe an address L{add}ed (unless a target); a printer there is lost."""
        address = ipaddress.ip_address(address).compressed
        self.extra.discard(address)
        if address not in self.targets and self.printers.pop(address, None) is not None:
            self.lost(address)

    # -- the rounds and the rate ------------------------------------------------------------------

    def _newRound(self) -> None:
        self._round = self.clock.callLater(self.interval, self._newRound)
        for address in (*self.targets, *sorted(self.extra - set(self.targets))):
            self._enqueue(address)

    def _enqueue(self, address: str, community: int = 0, first: bool = False) -> None:
        if not self.running or (community == 0 and address in self._busy):
            return
        self._busy.add(address)
        if first:
            self._queue.appendleft((address, community))
        else:
            self._queue.append((address, community))
        self._schedule()

    def _schedule(self) -> None:
        """The next send, no sooner than 1/rate seconds after the last."""
        if self._next is not None or not self._queue:
            return
        now = self.clock.seconds()
        wait = 0.0 if self._lastSend is None else max(0.0, self._lastSend + self.spacing - now)
        self._next = self.clock.callLater(wait, self._send)

    def _send(self) -> None:
        self._next = None
        address, index = self._queue.popleft()
        self._lastSend = self.clock.seconds()
        community = self.communities[index]
        d = maybeDeferred(self.ask, address, community)
        d.addCallbacks(self._answered, self._failed, (address, community), errbackArgs=(address, index))
        d.addErrback(lambda f: self.log.failure("SNMP probe of {address}: its answer could not be taken", f,
                                                address=address))
        self._schedule()

    # -- the answers -------------------------------------------------------------------------------

    def _answered(self, printer: bool, address: str, community: bytes) -> None:
        self._busy.discard(address)
        if not self.running:
            return
        if printer:
            if self.printers.get(address) != community:
                self.printers[address] = community
                self.log.info("SNMP probe: a printer answers at {address}", address=address)
                self.found(address, community)
        else:
            self._gone(address, "answers, but its hrDeviceTable lists no printer")

    def _failed(self, failure: Failure, address: str, index: int) -> None:
        if not self.running:
            self._busy.discard(address)
            return
        if failure.check(SNMPTimeout) and index + 1 < len(self.communities):
            self._enqueue(address, index + 1, first=True)  # the next community, before other addresses
            return
        self._busy.discard(address)
        why = "no answer" if failure.check(SNMPTimeout) else failure.getErrorMessage()
        self._gone(address, why)

    def _gone(self, address: str, why: str) -> None:
        if self.printers.pop(address, None) is not None:
            self.log.info("SNMP probe: the printer at {address} is gone ({why})", address=address, why=why)
            self.lost(address)
