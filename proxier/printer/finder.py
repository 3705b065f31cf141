# -*- test-case-name: tests.test_printer_finder -*-
"""
Printers found by DNS-SD become Virtual CWMP Devices (PRINTERS.md §8; issue
14 item 4): C{[printer] discovery = dns-sd}.

    Browser (lan/mdns, per LAN interface) ──InstanceEvent──▶ CandidateTracker (printer/discovery)
        ──found / changed / lost──▶ PrinterLifecycle ──probe, make──▶ PrinterDevice ──▶ the proxier

L{PrinterLifecycle<proxier.printer.lifecycle.PrinterLifecycle>} is the
life of the printers DNS-SD finds (the SNMP probe's go through one too):
a candidate is an advertisement; gone, back, moved and forgotten are
its, and here:

 - an IPP candidate (C{_ipp._tcp}, C{_ipps._tcp}) is asked who it is
   (Get-Printer-Attributes at its URL; again every C{retry} seconds while
   it is advertised and silent): the same printer advertised twice (IPP
   and IPPS, two interfaces) is one device, and a printer also listed in
   C{[printer] printers} is that static entry's device (C{held}; a static
   entry that identifies a printer discovery proxies first takes it over,
   L{PrinterLifecycle.release<proxier.printer.lifecycle.PrinterLifecycle.release>});
 - a printer whose last advertisement is gone (goodbye, TTL, its interface
   gone) is offline, then forgotten after C{forget_after} seconds, its
   state kept: back, it is the same Virtual CWMP Device and never
   bootstraps again;
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

from typing import Any, Callable, Optional, Sequence

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.config import Config
from proxier.datamodel.values import DeviceIdentity
from proxier.lan.netif import NetworkInterface, defaultRouteInterfaces, listInterfaces, selectInterfaces
from proxier.log import DeviceLogger
from proxier.printer import ippsource
from proxier.printer.device import PrinterDevice
from proxier.printer.discovery import SERVICE_TYPES, CandidateTracker, PrinterCandidate
from proxier.printer.lifecycle import PrinterLifecycle
from proxier.printer.proxy import PrinterService, identityOf
from proxier.proxy.device import deviceKey
from proxier.store import StoreError

__all__ = ["DNSSDDiscovery"]


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
