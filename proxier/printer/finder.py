# -*- test-case-name: tests.test_printer_finder -*-
"""
Printers found by DNS-SD become Virtual CWMP Devices (PRINTERS.md §8; issue
14 item 4): C{[printer] discovery = dns-sd}.

    Browser (lan/mdns, per LAN interface) ──InstanceEvent──▶ CandidateTracker (printer/discovery)
        ──found / changed / lost──▶ PrinterLifecycle ──probe, make──▶ PrinterDevice ──▶ the proxier

L{PrinterLifecycle} is the sans-IO state machine of the printers DNS-SD
finds, keyed by identity (the device key), with the clock injected:

    (advertised) ──probe answered──▶ PROXIED ──no advertisement left──▶ OFFLINE ──forget_after──▶ forgotten
                                        ▲                                  │
                                        └──── advertised and answers ──────┘

 - an IPP candidate (C{_ipp._tcp}, C{_ipps._tcp}) is asked who it is
   (Get-Printer-Attributes at its URL; again every C{retry} seconds while
   it is advertised and silent); its identity decides which printer it is:
   the same printer advertised twice (IPP and IPPS, two interfaces) is one
   device, and a printer also listed in C{[printer] printers} is that
   static entry's device (L{PrinterLifecycle.held}; a static entry that
   identifies a printer discovery proxies first takes it over,
   L{PrinterLifecycle.release});
 - a printer whose last advertisement is gone (goodbye, TTL, its interface
   gone) is stopped and offline — Connection Requests 503, no session — and
   forgotten after C{forget_after} seconds: removed from the proxier (its
   endpoint and VirtualDevice row go). Its durable state stays, and the core
   keeps its VirtualDevice instance number by its key, so that a printer
   coming back, before or after, is the same Virtual CWMP Device: it never
   bootstraps again and no other device ever gets its number;
 - coming back (or moving to another address) makes a new device from the
   answer that found it, online; the old one is removed first (a device's
   IPP client is bound to its URL), the endpoint then resumes from its state;
 - an C{snmp://} entry of C{[printer] printers} of the same printer
   (L{proxier.printer.snmpdevice}) joins the device found, as it joins a
   static entry's, and is found again when that device goes;
 - a C{_pdl-datastream._tcp} or C{_printer._tcp} candidate's address is
   given to the SNMP probe (L{proxier.printer.snmpprobe}, through
   L{SNMPPrinters.probeAddress<proxier.printer.snmpdevice.SNMPPrinters.probeAddress>}),
   and taken back when no such candidate advertises it any more: a
   printer found there is one of the probe's (DiscoveryProtocol
   C{X_000000_SNMP}).

L{DNSSDDiscovery} is the glue on a L{PrinterService}: the L{Browser} on the
C{[lan]} interfaces, looked at again every C{interface_check_interval} and
on SIGHUP as the UPnP control point does, and the lifecycle's probe and
device made with the service's clients, settings and store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.config import Config
from proxier.datamodel.values import DeviceIdentity
from proxier.lan.netif import NetworkInterface, defaultRouteInterfaces, listInterfaces, selectInterfaces
from proxier.log import DeviceLogger
from proxier.printer import ippsource
from proxier.printer.device import PrinterDevice
from proxier.printer.discovery import SERVICE_TYPES, CandidateTracker, PrinterCandidate
from proxier.printer.proxy import PrinterService, identityOf
from proxier.proxy.device import deviceKey
from proxier.store import StoreError

__all__ = ["PrinterLifecycle", "DNSSDDiscovery", "GONE_REASON"]

#: Why a printer whose advertisements are all gone is offline (its log line).
GONE_REASON = "its DNS-SD advertisement is gone"


@dataclass
class _Printer:
    """One printer DNS-SD found in this run: its device, the candidates advertising it now, its forget timer."""

    identity: DeviceIdentity
    device: Any
    candidates: set[str] = field(default_factory=set)
    forget: Any = None  # the IDelayedCall while no advertisement is left (OFFLINE)


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
    @param held: C{held(identity)}: a device of C{[printer] printers} has it.
    @param snmpAdded: C{snmpAdded(address)}: a candidate that may speak
        SNMP only advertises this address (probe it).
    @param snmpRemoved: C{snmpRemoved(address)}: no such candidate does now.
    @param forgetAfter: seconds a printer stays offline before it is removed.
    @param retry: seconds before a silent candidate is asked again.
    """

    log = Logger()

    def __init__(self, clock: Any, *, probe: Callable[[PrinterCandidate], Deferred],
                 makeDevice: Callable[..., Any], appeared: Callable[[Any], None], removed: Callable[[Any], None],
                 held: Callable[[DeviceIdentity], bool] = lambda identity: False,
                 snmpAdded: Callable[[str], None] = lambda address: None,
                 snmpRemoved: Callable[[str], None] = lambda address: None, forgetAfter: float = 86400.0,
                 retry: float = 60.0) -> None:
        self.clock = clock
        self.probe, self.makeDevice = probe, makeDevice
        self.appeared, self.removed, self.held = appeared, removed, held
        self.snmpAdded, self.snmpRemoved = snmpAdded, snmpRemoved
        self.forgetAfter = forgetAfter
        self.retry = retry
        self.printers: dict[str, _Printer] = {}  # by device key
        self.candidates: dict[str, PrinterCandidate] = {}  # advertised now, by candidate key
        self.identified: dict[str, str] = {}  # candidate key -> the device key it answered as
        self._asking: dict[str, Any] = {}  # candidate key -> the probe's Deferred or its retry timer
        self.snmpOnly: dict[str, str] = {}  # SNMP-only candidate key -> the address given to the probe
        self.running = True

    # -- the candidate events (CandidateTracker) --------------------------------------------------

    def found(self, candidate: PrinterCandidate) -> None:
        self.candidates[candidate.key] = candidate
        if candidate.ippURL is None:
            self._snmpOnly(candidate)
            return
        self._ask(candidate)

    def changed(self, candidate: PrinterCandidate) -> None:
        """A new URL (or SNMP address) is asked again (the printer is the answer's); nothing else changes it."""
        old = self.candidates.get(candidate.key)
        self.candidates[candidate.key] = candidate
        if old is None or (old.ippURL, old.snmpAddress) != (candidate.ippURL, candidate.snmpAddress):
            self.found(candidate)

    def lost(self, candidate: PrinterCandidate) -> None:
        self.candidates.pop(candidate.key, None)
        self._snmpOnlyGone(candidate.key)
        self._cancel(candidate.key)
        self._detach(candidate.key)

    # -- the candidates that may speak SNMP only --------------------------------------------------

    def _snmpOnly(self, candidate: PrinterCandidate) -> None:
        address = candidate.snmpAddress or candidate.address
        if self.snmpOnly.get(candidate.key) == address:
            return
        self._snmpOnlyGone(candidate.key)
        given = address in self.snmpOnly.values()
        self.snmpOnly[candidate.key] = address
        self.log.info("DNS-SD: {name} ({type}) at {address} may speak SNMP only: probed over SNMP",
                      name=candidate.name, type=candidate.serviceType, address=address)
        if not given:
            self.snmpAdded(address)

    def _snmpOnlyGone(self, candidateKey: str) -> None:
        address = self.snmpOnly.pop(candidateKey, None)
        if address is not None and address not in self.snmpOnly.values():
            self.snmpRemoved(address)

    # -- asking a candidate who it is --------------------------------------------------------------

    def _ask(self, candidate: PrinterCandidate) -> None:
        self._cancel(candidate.key)
        d = maybeDeferred(self.probe, candidate)
        self._asking[candidate.key] = d
        d.addCallbacks(self._answered, self._silent, callbackArgs=(candidate, d), errbackArgs=(candidate, d))
        d.addErrback(lambda f: self.log.failure("DNS-SD: taking {name}'s answer failed", f, name=candidate.name))

    def _current(self, candidate: PrinterCandidate, d: Any) -> bool:
        """The answer is to the candidate's current advertisement (not a lost, changed or cancelled one)."""
        if self._asking.get(candidate.key) is not d:
            return False
        del self._asking[candidate.key]
        return self.running and self.candidates.get(candidate.key) == candidate

    def _silent(self, failure: Failure, candidate: PrinterCandidate, d: Any) -> None:
        if not self._current(candidate, d):
            return
        self.log.info("DNS-SD: {name} at {url} does not answer ({why}); asking again in {n:g} s", name=candidate.name,
                      url=candidate.ippURL, why=failure.getErrorMessage(), n=self.retry)
        self._asking[candidate.key] = self.clock.callLater(self.retry, self._retry, candidate)

    def _retry(self, candidate: PrinterCandidate) -> None:
        del self._asking[candidate.key]
        self._ask(candidate)

    def _answered(self, result: tuple[Optional[DeviceIdentity], Any], candidate: PrinterCandidate, d: Any) -> None:
        if not self._current(candidate, d):
            return
        identity, answer = result
        if identity is None:
            self.log.warn("DNS-SD: {name} at {url} tells no serial number, device ID SN nor printer-uuid: not "
                          "proxied", name=candidate.name, url=candidate.ippURL)
            self._detach(candidate.key)
            return
        key = deviceKey(identity)
        if self.identified.get(candidate.key) not in (None, key):
            self._detach(candidate.key)  # another printer now answers this advertisement
        if self.held(identity):
            DeviceLogger(identity).info("also advertised by DNS-SD as {name} at {url}: proxied as the entry of "
                                        "[printer] printers", name=candidate.name, url=candidate.ippURL)
            return
        printer = self.printers.get(key)
        self.identified[candidate.key] = key
        if printer is None:
            device = self.makeDevice(candidate, identity, answer, self._replaced)
            if device is None:
                del self.identified[candidate.key]
                return
            self.printers[key] = _Printer(identity, device, {candidate.key})
            device.log.info("found by DNS-SD as {name} at {url}", name=candidate.name, url=candidate.ippURL)
            self.appeared(device)
            return
        printer.candidates.add(candidate.key)
        moved = printer.device.url != candidate.ippURL and not any(
            self.candidates[k].ippURL == printer.device.url for k in printer.candidates if k in self.candidates)
        if printer.forget is not None or moved:
            self._renew(printer, candidate, answer)

    def _renew(self, printer: _Printer, candidate: PrinterCandidate, answer: Any) -> None:
        """
        A new device for the printer (back, or at another address) from the
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
        device.log.info("{why}: advertised by DNS-SD as {name} at {url}", why=why, name=candidate.name,
                        url=candidate.ippURL)
        self.appeared(device)

    # -- printers going -------------------------------------------------------------------------

    def _detach(self, candidateKey: str) -> None:
        """The candidate no longer advertises the printer it answered as; that printer goes offline if none does."""
        key = self.identified.pop(candidateKey, None)
        printer = self.printers.get(key) if key is not None else None
        if printer is None:
            return
        printer.candidates.discard(candidateKey)
        if not printer.candidates and printer.forget is None:
            printer.device.stop()
            printer.device.silent(GONE_REASON)
            printer.forget = self.clock.callLater(self.forgetAfter, self._forget, printer)

    def _forget(self, printer: _Printer) -> None:
        printer.forget = None
        del self.printers[deviceKey(printer.identity)]
        printer.device.log.info("not advertised for {n:g} s: forgotten (its state is kept for its return)",
                                n=self.forgetAfter)
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

    def release(self, identity: DeviceIdentity) -> None:
        """A static entry of C{[printer] printers} is this printer: discovery's device of it goes."""
        printer = self.printers.pop(deviceKey(identity), None)
        if printer is None:
            return
        if printer.forget is not None and printer.forget.active():
            printer.forget.cancel()
        else:
            printer.device.stop()
        for candidateKey in printer.candidates:
            self.identified.pop(candidateKey, None)
        printer.device.log.info("listed in [printer] printers: proxied as that entry from now on")
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


class DNSSDDiscovery:
    """
    DNS-SD discovery for a L{PrinterService} (see the module docstring).

    @param browserFactory: C{(serviceTypes, listener, clock, interfaces)} →
        a L{Browser<proxier.lan.mdns.Browser>}; by default one on the
        service's reactor (tests give a fake).
    @param interfaces: a function returning the host's interfaces
        (default: L{listInterfaces}, the WAN left out as for SSDP).
    """

    log = Logger()

    def __init__(self, service: PrinterService, *, browserFactory: Optional[Callable[..., Any]] = None,
                 interfaces: Optional[Callable[[], Sequence[NetworkInterface]]] = None,
                 defaultRoutes: Optional[Callable[[], Any]] = None) -> None:
        self.service = service
        self.clock = service.clock
        lan = service.context.config["lan"]
        self.names: tuple[str, ...] = tuple(lan["interfaces"])
        self.checkInterval = float(lan["interface_check_interval"])
        self.ipv6 = bool(lan["ipv6"])
        self.browserFactory = browserFactory or self._browser
        self._listInterfaces = interfaces or listInterfaces
        self._defaultRoutes = defaultRoutes or (defaultRouteInterfaces if interfaces is None else set)
        self.lifecycle = PrinterLifecycle(self.clock, probe=self._probe, makeDevice=self._makeDevice,
                                          appeared=self._appeared, removed=self._removed,
                                          held=self._held, snmpAdded=service.snmpPrinters.probeAddress,
                                          snmpRemoved=service.snmpPrinters.unprobeAddress,
                                          forgetAfter=service.settings.forgetAfter,
                                          retry=service.settings.pollInterval)
        self.tracker = CandidateTracker(self.lifecycle.found, self.lifecycle.changed, self.lifecycle.lost,
                                        self._interfaceNamed)
        self.browser: Any = None
        self._report: Any = None
        self._check: Any = None

    def _browser(self, serviceTypes: Sequence[str], listener: Callable[..., None], clock: Any,
                 interfaces: Sequence[NetworkInterface]) -> Any:
        from proxier.lan.mdns import Browser

        reactor = self.service.context.reactor
        return Browser(serviceTypes, listener, clock, interfaces=interfaces, ipv6=self.ipv6,
                       listenMulticast=reactor.listenMulticast, adoptDatagramPort=reactor.adoptDatagramPort)

    def devices(self) -> list[PrinterDevice]:
        """The devices of the printers found and advertised now (not those offline, waiting to be forgotten)."""
        return [p.device for p in self.lifecycle.printers.values() if p.forget is None]

    def _interfaceNamed(self, name: str) -> Optional[NetworkInterface]:
        return self.browser.interfaceNamed(name) if self.browser is not None else None

    def start(self) -> None:
        self.browser = self.browserFactory(SERVICE_TYPES, self.tracker, self.clock, self._lanInterfaces() or [])
        self.browser.start()
        if self.checkInterval:
            self._check = self.clock.callLater(self.checkInterval, self._periodicCheck)

    def stop(self) -> list[Deferred]:
        if self._check is not None and self._check.active():
            self._check.cancel()
        self._check = None
        waits = list(self.browser.stop()) if self.browser is not None else []
        self.browser = None
        return [d for d in waits + self.lifecycle.stop() if isinstance(d, Deferred)]

    # -- the interfaces ---------------------------------------------------------------------------

    def _lanInterfaces(self) -> Optional[list[NetworkInterface]]:
        """The C{[lan] interfaces} rule, the WAN left out; what is wrong logged when it changes."""
        try:
            available = list(self._listInterfaces())
            wan = set() if self.names else set(self._defaultRoutes())
        except OSError as e:
            self.log.error("DNS-SD: cannot list the network interfaces: {error}", error=e)
            return None
        chosen, problems = selectInterfaces(available, self.names, wan)
        report = (tuple(problems), tuple(i.name for i in chosen))
        if report != self._report:
            self._report = report
            for problem in problems:
                self.log.error("[lan] interfaces: {problem}", problem=problem)
            if chosen:
                self.log.info("DNS-SD: finding printers on {names}", names=", ".join(i.name for i in chosen))
            else:
                self.log.error("DNS-SD: no LAN interface to find printers on yet; browsing starts when one comes up")
        return chosen

    def checkInterfaces(self) -> bool:
        """Browse on the interfaces as they are now; whether that changed anything."""
        chosen = self._lanInterfaces()
        if chosen is None or self.browser is None:
            return False
        return bool(self.browser.setInterfaces(chosen))

    def configReloaded(self, config: Config) -> None:
        """SIGHUP: the new C{[lan] interfaces} and C{interface_check_interval}, and a look at once."""
        lan = config["lan"]
        self.names = tuple(lan["interfaces"])
        self.checkInterval = float(lan["interface_check_interval"])
        if self._check is not None and self._check.active():
            self._check.cancel()
        self._check = None
        if self.browser is not None and self.checkInterval:
            self._check = self.clock.callLater(self.checkInterval, self._periodicCheck)
        self.checkInterfaces()

    def _periodicCheck(self) -> None:
        self._check = None
        try:
            self.checkInterfaces()
        except Exception:
            self.log.failure("DNS-SD: checking the network interfaces failed", Failure())
        self._check = self.clock.callLater(self.checkInterval, self._periodicCheck)

    # -- what the lifecycle asks of the service ---------------------------------------------------------

    def _held(self, identity: DeviceIdentity) -> bool:
        return any(device.identity == identity for device in self.service.devices.values())

    def _probe(self, candidate: PrinterCandidate) -> Deferred:
        assert candidate.ippURL is not None
        service = self.service
        d = service._client(candidate.ippURL).getPrinterAttributes()
        return d.addCallback(lambda group: (identityOf(ippsource.read(group), service.settings.oui), group))

    def _makeDevice(self, candidate: PrinterCandidate, identity: DeviceIdentity, answer: Any,
                    replaced: Callable[[Any], None]) -> Optional[PrinterDevice]:
        service = self.service
        url = candidate.ippURL
        assert url is not None
        extra = {"random": service.random} if service.random is not None else {}
        try:
            store = service.store.child("printer-" + deviceKey(identity))
            device = PrinterDevice(identity, url, service._client(url), store, service.slots, service.settings,
                                   self.clock, found=answer,
                                   identify=lambda readings: identityOf(readings, service.settings.oui),
                                   replaced=lambda device, group: replaced(device), adminURL=candidate.adminURL or "",
                                   **extra)
        except StoreError as e:  # state that cannot be read is not replaced by a blank one
            DeviceLogger(identity).error("IPP printer at {url} not proxied: {why}", url=url, why=str(e))
            return None
        device.discoveryProtocol = candidate.discoveryProtocol
        return device

    def _appeared(self, device: PrinterDevice) -> None:
        """Proxied, polled, and the SNMP entry of [printer] printers of the same printer, if any, joins it."""
        self.service.context.deviceAppeared(device)
        device.start()
        self.service.snmpPrinters.ippAnswered(device)

    def _removed(self, device: PrinterDevice) -> None:
        """No longer proxied; the SNMP entry that joined it, if any, is found again."""
        self.service.snmpPrinters.ippGone(device)
        self.service.context.deviceRemoved(device)
