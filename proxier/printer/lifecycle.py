# -*- test-case-name: tests.test_printer_finder,tests.test_printer_snmpdevice -*-
"""
The one lifecycle of the printers a finder finds at run time (PRINTERS.md
§8): those DNS-SD advertises (L{proxier.printer.finder}) and those the
SNMP probe finds (L{proxier.printer.snmpdevice.SNMPPrinters}). It is
sans-IO, keyed by identity (the device key), with the clock injected:

    (found) ──asked, answers──▶ PROXIED ──no candidate left──▶ OFFLINE ──forget_after──▶ forgotten
                                  ▲                              │
                                  └──── found again, answers ────┘

 - a candidate (an advertisement, an address the probe found a printer
   at) is identified by its C{key} and described in log lines by its
   C{label}, which never holds a password (an SNMP community); its C{url}
   is where a device made from it talks to the printer;
 - a candidate is asked who it is (again every C{retry} seconds while it
   is found and silent); its identity decides which printer it is: two
   candidates of the same printer are one device, and a printer another
   device of the service has (C{held}) gets none (L{PrinterLifecycle.release}
   takes back one made before);
 - a printer whose last candidate is lost is stopped and offline —
   Connection Requests 503, no session — and forgotten after
   C{forget_after} seconds: removed from the proxier (its endpoint and
   VirtualDevice row go). Its durable state stays, and the core keeps its
   VirtualDevice instance number by its key, so that a printer coming
   back, before or after, is the same Virtual CWMP Device: it never
   bootstraps again and no other device ever gets its number;
 - coming back (or found at another URL) makes a new device from the
   answer that found it, online; the old one is removed first (a device's
   client is bound to its URL), the endpoint then resumes from its state;
 - a DNS-SD candidate with no URL to ask (C{_pdl-datastream._tcp},
   C{_printer._tcp}) gives its C{snmpAddress} to the SNMP probe, and takes
   it back when no such candidate has it any more;
 - a candidate found now that is no device is L{pending}: being asked,
   silent, telling no identity (the local console lists it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.datamodel.values import DeviceIdentity
from proxier.log import DeviceLogger
from proxier.proxy.device import deviceKey

__all__ = ["Candidate", "PrinterLifecycle", "GONE_REASON"]

#: Why a printer whose DNS-SD advertisements are all gone is offline (its log line).
GONE_REASON = "its DNS-SD advertisement is gone"


class Candidate(Protocol):
    """What the lifecycle reads of a candidate."""

    @property
    def key(self) -> str:
        """Which candidate it is: found again under this key, it is the same one."""

    @property
    def label(self) -> str:
        """It, for a log line: never a password."""

    @property
    def url(self) -> Optional[str]:
        """Where a device made from it talks to the printer (compared, never logged); None: nothing to ask."""

    @property
    def snmpAddress(self) -> Optional[str]:
        """With no C{url}: the address the SNMP probe is given."""


@dataclass
class _Printer:
    """One printer found in this run: its device, the candidates of it found now, its forget timer."""

    identity: DeviceIdentity
    device: Any
    candidates: set[str] = field(default_factory=set)
    forget: Any = None  # the IDelayedCall while no candidate is left (OFFLINE)


class PrinterLifecycle:
    """
    See the module docstring.

    @param probe: C{probe(candidate)} → Deferred firing with C{(identity or
        None, answer)}: who the printer at the candidate's URL says it is.
    @param makeDevice: C{makeDevice(candidate, identity, answer, replaced)}
        → a device not started (online: it just answered), or None when it
        cannot be made (logged); C{replaced(device)} is for the device to
        call when its printer turns out to be another one.
    @param appeared: C{appeared(device)}: report it to the proxier and start it.
    @param removed: C{removed(device)}: the proxier forgets it (state kept).
    @param held: C{held(identity)}: another device of the service has it.
    @param snmpAdded: C{snmpAdded(address)}: a candidate with no URL has
        this address (probe it over SNMP).
    @param snmpRemoved: C{snmpRemoved(address)}: no such candidate has it now.
    @param forgetAfter: seconds a printer stays offline before it is removed.
    @param retry: seconds before a silent candidate is asked again.
    @param source: who finds the candidates, for log lines.
    @param gone: why a printer with no candidate left is offline.
    @param heldAs: what proxies a printer C{held} says another device has.
    @param identities: where an identity is read, for the log line of a
        printer that tells none.
    """

    log = Logger()

    def __init__(self, clock: Any, *, probe: Callable[[Any], Deferred],
                 makeDevice: Callable[..., Any], appeared: Callable[[Any], None], removed: Callable[[Any], None],
                 held: Callable[[DeviceIdentity], bool] = lambda identity: False,
                 snmpAdded: Callable[[str], None] = lambda address: None,
                 snmpRemoved: Callable[[str], None] = lambda address: None, forgetAfter: float = 86400.0,
                 retry: float = 60.0, source: str = "DNS-SD", gone: str = GONE_REASON,
                 heldAs: str = "the entry of [printer] printers",
                 identities: str = "printer-serial-number, device ID SN, printer-uuid") -> None:
        self.clock = clock
        self.probe, self.makeDevice = probe, makeDevice
        self.appeared, self.removed, self.held = appeared, removed, held
        self.snmpAdded, self.snmpRemoved = snmpAdded, snmpRemoved
        self.forgetAfter = forgetAfter
        self.retry = retry
        self.source, self.gone, self.heldAs, self.identities = source, gone, heldAs, identities
        self.printers: dict[str, _Printer] = {}  # by device key
        self.candidates: dict[str, Candidate] = {}  # found now, by candidate key
        self.identified: dict[str, str] = {}  # candidate key -> the device key it answered as
        self._asking: dict[str, Any] = {}  # candidate key -> the probe's Deferred or its retry timer
        self.snmpOnly: dict[str, str] = {}  # SNMP-only candidate key -> the address given to the probe
        self.unproxied: dict[str, tuple[str, str]] = {}  # candidate key -> (state, why) while it is no device
        self.running = True

    # -- the candidate events -----------------------------------------------------------------------

    def found(self, candidate: Candidate) -> None:
        self.candidates[candidate.key] = candidate
        if candidate.url is None:
            self._snmpOnly(candidate)
            return
        self._ask(candidate)

    def changed(self, candidate: Candidate) -> None:
        """A new URL (or SNMP address) is asked again (the printer is the answer's); nothing else changes it."""
        old = self.candidates.get(candidate.key)
        self.candidates[candidate.key] = candidate
        if old is None or (old.url, old.snmpAddress) != (candidate.url, candidate.snmpAddress):
            self.found(candidate)

    def lost(self, candidate: Candidate) -> None:
        self.candidates.pop(candidate.key, None)
        self.unproxied.pop(candidate.key, None)
        self._snmpOnlyGone(candidate.key)
        self._cancel(candidate.key)
        self._detach(candidate.key)

    # -- the candidates that may speak SNMP only --------------------------------------------------

    def _snmpOnly(self, candidate: Candidate) -> None:
        address = candidate.snmpAddress
        assert address is not None
        if self.snmpOnly.get(candidate.key) == address:
            return
        self._snmpOnlyGone(candidate.key)
        given = address in self.snmpOnly.values()
        self.snmpOnly[candidate.key] = address
        self.log.info("{source}: {label} may speak SNMP only: probed over SNMP", source=self.source,
                      label=candidate.label)
        if not given:
            self.snmpAdded(address)

    def _snmpOnlyGone(self, candidateKey: str) -> None:
        address = self.snmpOnly.pop(candidateKey, None)
        if address is not None and address not in self.snmpOnly.values():
            self.snmpRemoved(address)

    # -- asking a candidate who it is --------------------------------------------------------------

    def pending(self) -> list[tuple[Candidate, str, str]]:
        """
        The candidates found now that are no device, by key, each with its
        state and why (L{IPendingDevices<proxier.interfaces.IPendingDevices>}):
        C{probing} (being asked who it is), C{waiting} (silent: asked again
        later) or C{refused} (it tells no identity, or no device could be
        made of it). A candidate of a printer another device proxies, or
        one left to the SNMP probe, is none.
        """
        return [(self.candidates[key], state, why) for key, (state, why) in sorted(self.unproxied.items())
                if key in self.candidates and key not in self.identified]

    def _ask(self, candidate: Candidate) -> None:
        self._cancel(candidate.key)
        self.unproxied[candidate.key] = ("probing", "asking it who it is")
        d = maybeDeferred(self.probe, candidate)
        self._asking[candidate.key] = d
        d.addCallbacks(self._answered, self._silent, callbackArgs=(candidate, d), errbackArgs=(candidate, d))
        d.addErrback(lambda f: self.log.failure("{source}: taking {label}'s answer failed", f, source=self.source,
                                                label=candidate.label))

    def _current(self, candidate: Candidate, d: Any) -> bool:
        """The answer is to the candidate as found now (not a lost, changed or cancelled one)."""
        if self._asking.get(candidate.key) is not d:
            return False
        del self._asking[candidate.key]
        return self.running and self.candidates.get(candidate.key) == candidate

    def _silent(self, failure: Failure, candidate: Candidate, d: Any) -> None:
        if not self._current(candidate, d):
            return
        self.log.info("{source}: {label} does not answer ({why}); asking again in {n:g} s", source=self.source,
                      label=candidate.label, why=failure.getErrorMessage(), n=self.retry)
        self.unproxied[candidate.key] = ("waiting", f"it does not answer ({failure.getErrorMessage()}); asked "
                                                    f"again every {self.retry:g} s")
        self._asking[candidate.key] = self.clock.callLater(self.retry, self._retry, candidate)

    def _retry(self, candidate: Candidate) -> None:
        del self._asking[candidate.key]
        self._ask(candidate)

    def _answered(self, result: tuple[Optional[DeviceIdentity], Any], candidate: Candidate, d: Any) -> None:
        if not self._current(candidate, d):
            return
        identity, answer = result
        if identity is None:
            self.log.warn("{source}: {label} tells no serial number nor other identity ({identities}): not proxied",
                          source=self.source, label=candidate.label, identities=self.identities)
            self.unproxied[candidate.key] = ("refused", f"it tells no serial number nor other identity "
                                                        f"({self.identities})")
            self._detach(candidate.key)
            return
        key = deviceKey(identity)
        if self.identified.get(candidate.key) not in (None, key):
            self._detach(candidate.key)  # another printer now answers as this candidate
        if self.held(identity):
            self.unproxied.pop(candidate.key, None)
            DeviceLogger(identity).info("also found by {source} as {label}: proxied as {held}", source=self.source,
                                        label=candidate.label, held=self.heldAs)
            return
        printer = self.printers.get(key)
        self.identified[candidate.key] = key
        if printer is None:
            device = self.makeDevice(candidate, identity, answer, self._replaced)
            if device is None:
                del self.identified[candidate.key]
                self.unproxied[candidate.key] = ("refused", f"no device could be made of {identity} (see the log)")
                return
            self.unproxied.pop(candidate.key, None)
            self.printers[key] = _Printer(identity, device, {candidate.key})
            device.log.info("found by {source} as {label}", source=self.source, label=candidate.label)
            self.appeared(device)
            return
        printer.candidates.add(candidate.key)
        self.unproxied.pop(candidate.key, None)
        moved = printer.device.url != candidate.url and not any(
            self.candidates[k].url == printer.device.url for k in printer.candidates if k in self.candidates)
        if printer.forget is not None or moved:
            self._renew(printer, candidate, answer)

    def _renew(self, printer: _Printer, candidate: Candidate, answer: Any) -> None:
        """
        A new device for the printer (back, or at another URL) from the
        answer that found it again; the old one goes first. When none can
        be made (logged), the printer stays as it was.
        """
        device = self.makeDevice(candidate, printer.identity, answer, self._replaced)
        if device is None:
            return
        old = printer.device
        if printer.forget is not None:  # back: the old device stopped when it went
            printer.forget.cancel()
            printer.forget = None
            why = "back"
        else:
            old.stop()
            why = "moved"
        printer.device = device
        self.removed(old)
        device.log.info("{why}: found by {source} as {label}", why=why, source=self.source, label=candidate.label)
        self.appeared(device)

    # -- printers going -------------------------------------------------------------------------

    def _detach(self, candidateKey: str) -> None:
        """The candidate no longer finds the printer it answered as; that printer goes offline if none does."""
        key = self.identified.pop(candidateKey, None)
        printer = self.printers.get(key) if key is not None else None
        if printer is None:
            return
        printer.candidates.discard(candidateKey)
        if not printer.candidates and printer.forget is None:
            printer.device.stop()
            printer.device.silent(self.gone)
            printer.forget = self.clock.callLater(self.forgetAfter, self._forget, printer)

    def _forget(self, printer: _Printer) -> None:
        printer.forget = None
        del self.printers[deviceKey(printer.identity)]
        printer.device.log.info("lost by {source} {n:g} s ago: forgotten (its state is kept for its return)",
                                source=self.source, n=self.forgetAfter)
        self.removed(printer.device)

    def _replaced(self, device: Any) -> None:
        """
        Its printer's answer names another identity (the device stopped
        itself): it goes, and its candidates are asked again.
        """
        printer = self.printers.get(device.key)
        if printer is None or printer.device is not device:
            return
        del self.printers[device.key]
        if printer.forget is not None and printer.forget.active():
            printer.forget.cancel()
        self.removed(device)
        for candidateKey in sorted(printer.candidates):
            self.identified.pop(candidateKey, None)
            if candidateKey in self.candidates:
                self._ask(self.candidates[candidateKey])

    def release(self, identity: DeviceIdentity,
                why: str = "listed in [printer] printers: proxied as that entry from now on") -> None:
        """Another device of the service proxies this printer from now on: the lifecycle's device of it goes."""
        printer = self.printers.pop(deviceKey(identity), None)
        if printer is None:
            return
        if printer.forget is not None and printer.forget.active():
            printer.forget.cancel()
        else:
            printer.device.stop()
        for candidateKey in printer.candidates:
            self.identified.pop(candidateKey, None)
        printer.device.log.info("{why}", why=why)
        self.removed(printer.device)

    def stop(self) -> list[Deferred]:
        """Nothing more is asked or forgotten; returns the running devices' stop Deferreds."""
        self.running = False
        for key in list(self._asking):
            self._cancel(key)
        stopped = []
        for printer in self.printers.values():
            if printer.forget is not None:
                if printer.forget.active():
                    printer.forget.cancel()
            else:
                stopped.append(printer.device.stop())
        return [d for d in stopped if isinstance(d, Deferred)]

    def _cancel(self, candidateKey: str) -> None:
        asking = self._asking.pop(candidateKey, None)
        if isinstance(asking, Deferred):
            asking.cancel()
        elif asking is not None and asking.active():
            asking.cancel()
