# -*- test-case-name: tests.test_printer_device -*-
"""
The printer protocol's service: one Virtual CWMP Device per printer listed
in C{[printer] printers} (PRINTERS.md §8, static entries).

    PrinterService (named "X_000000_IPP")
      ├── per URL not yet known: a probe (Get-Printer-Attributes, again every poll_interval)
      ├── PrinterDevice × n ──deviceAppeared──▶ the proxier
      └── SNMPPrinters: per snmp:// entry, the SNMP source of the IPP device of the
          same printer, or an SNMPPrinterDevice of its own (L{proxier.printer.snmpdevice})

A printer's identity (PRINTERS.md §4) comes from its first answer and is
kept by URL in the protocol's store, so that a printer known from an
earlier run is proxied at once — offline until it answers — and never
bootstraps again. A printer whose answer names another identity than the
one kept (it was replaced behind the same address) becomes that new device
from then on; the old one is removed.

With C{[printer] discovery = dns-sd} the printers DNS-SD finds on the LAN
are proxied too (L{proxier.printer.finder}); a printer also listed here is
that entry's one device. With C{[printer] snmp_targets} (or DNS-SD's
candidates that may speak SNMP only) the printers an SNMP probe finds are
too (L{SNMPPrinters}, DiscoveryProtocol C{X_000000_SNMP}).

Until a printer is a device the service lists it as pending
(L{IPendingDevices}): an entry of C{[printer] printers} not known yet
(being asked, silent, telling no identity), and the candidates DNS-SD and
the SNMP probe found that are no device (their lifecycles'
L{pending<proxier.printer.lifecycle.PrinterLifecycle.pending>}), for the
local console.

The service registers, in the tree's registry, the adapters from
L{PrinterDevice} and L{SNMPPrinterDevice} to L{IDataModel} (a Virtual CWMP
Device's model) and to L{IEmbeddedObjects} (its
C{Device.Services.PrintService.{i}.} row in the proxier's own tree, with
C{[printer] mechanism = embedded} or C{both}: TR-069 Annex J.3).

With C{[printer] embedded} set the proxier runs on that one printer as its
own CWMP CPE (PRINTERS.md §11) and the plugin makes an
L{EmbeddedPrinterService} instead: the same device and model, offered to the
tree as L{IEmbeddedDevice} rather than reported as a Virtual CWMP Device.
"""

from __future__ import annotations

from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.logger import Logger
from zope.interface import implementer

from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IDataModel, IEmbeddedDevice, IPendingDevices, IProxierContext, IReloadable, PendingDevice
from proxier.log import DeviceLogger
from proxier.printer import ipp, ippsource
from proxier.printer.device import PrinterDevice
from proxier.printer.ippclient import IPPClient
from proxier.printer.pinning import CertificatePins
from proxier.printer.poller import PollSlots
from proxier.printer.settings import DNS_SD, PROXY_PROTOCOL, SNMP_PROXY_PROTOCOL, PrinterSettings, snmpEntry
from proxier.printer.snmpdevice import SNMPPrinterDevice, SNMPPrinters
from proxier.proxy.device import deviceKey
from proxier.proxy.embeddedobjects import IEmbeddedObjects
from proxier.store import StoreError

__all__ = ["PrinterService", "EmbeddedPrinterService", "identityOf", "SERVICE_NAME", "EMBEDDED_WAIT"]

SERVICE_NAME = PROXY_PROTOCOL
_FIELD = 64  # DeviceIdStruct fields: at most 64 characters
#: Seconds the embedded CPE waits at start for its printer to tell who it is before it takes the identity
#: the printer told at an earlier run (a printer whose IPP server starts late, or hangs, still reaches its ACS).
EMBEDDED_WAIT = 120.0


def identityOf(readings: ippsource.Readings, oui: str) -> Optional[DeviceIdentity]:
    """
    The Virtual CWMP Device's identity from a printer's readings
    (L{ippsource.Identity}: PRINTERS.md §4) and the configured OUI; None
    when the printer tells no serial number, device ID SN nor printer-uuid.
    """
    found = readings.identity
    if found is None or not found.serialNumber:
        return None
    return DeviceIdentity(found.manufacturer[:_FIELD], oui, found.productClass[:_FIELD], found.serialNumber[:_FIELD])


def _validateKnown(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise ValueError("not a mapping")
    for url, fields in payload.items():
        if not isinstance(fields, list) or len(fields) != 4 or not all(isinstance(f, str) for f in fields):
            raise ValueError(f"{url}: not four identity fields")


def _public(url: Optional[str]) -> tuple[str, str]:
    """A URL without its user information (a password, an SNMP community), and its host."""
    if not url:
        return "", ""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl(), parts.hostname or ""


@implementer(IReloadable, IPendingDevices)
class PrinterService(Service):
    """
    What the printer plugin's C{makeService} returns.

    @param clientFactory: C{(url, credentials, timeout) → IPPClient}
        (tests give one on a fake printer); by default a client on the
        reactor with the protocol's certificate pins.
    @param snmpClientFactory: C{(entry, writeCommunity) → SNMPClient} for
        the C{snmp://} entries (L{SNMPPrinters}).
    @param discovery: C{(service) → DNSSDDiscovery}, made at start when
        C{[printer] discovery = dns-sd} (tests give one on a fake browser).
    """

    log = Logger()

    def __init__(self, context: IProxierContext, *,
                 clientFactory: Optional[Callable[..., IPPClient]] = None,
                 random: Optional[Callable[[], float]] = None,
                 snmpClientFactory: Optional[Callable[..., Any]] = None,
                 discovery: Optional[Callable[["PrinterService"], Any]] = None) -> None:
        super().__init__()
        self.setName(SERVICE_NAME)
        self.context = context
        self.clock = context.reactor
        self.settings = PrinterSettings.fromConfig(context.config, context.deviceTimeout)
        self.store = context.store
        self.random = random
        self.slots = PollSlots(self.settings.maxConcurrentPolls)
        self.pins = CertificatePins(self.store.document("ipps-pins"))
        self.clientFactory = clientFactory or self._makeClient
        self.devices: dict[str, PrinterDevice] = {}  # by URL
        self._known = self.store.document("printers")
        self._probes: dict[str, Any] = {}
        #: the entries of [printer] printers not known yet, by URL: (state, why) (L{pending})
        self.unknown: dict[str, tuple[str, str]] = {}
        self._discoveryFactory = discovery
        self.discovery: Any = None
        self.snmpPrinters = SNMPPrinters(self, clientFactory=snmpClientFactory)
        context.registry.registerAdapter(_dataModelOf, (PrinterDevice,), IDataModel)
        context.registry.registerAdapter(_dataModelOf, (SNMPPrinterDevice,), IDataModel)
        context.registry.registerAdapter(_embeddedObjectsOf, (PrinterDevice,), IEmbeddedObjects)
        context.registry.registerAdapter(_embeddedObjectsOf, (SNMPPrinterDevice,), IEmbeddedObjects)

    def _makeClient(self, url: str, credentials: Any, timeout: float) -> IPPClient:
        return IPPClient(url, reactor=self.clock, credentials=credentials, pins=self.pins, timeout=timeout)

    def _client(self, url: str) -> IPPClient:
        return self.clientFactory(url, self.settings.credentialsFor(url), self.settings.requestTimeout)

    # -- the service ------------------------------------------------------------------------

    def startService(self) -> None:
        super().startService()
        for url in self.settings.strayCredentials():
            self.log.warn("[printer] credentials are given for {url}, which [printer] printers does not list",
                          url=url)
        if self.settings.embeddedSNMP:
            self.log.warn("[printer] embedded_snmp is set without [printer] embedded: it is not read")
        known = self._loadKnown()
        for url in self.settings.ippPrinters:
            fields = known.get(url)
            if fields is not None:
                self._appear(url, DeviceIdentity(*fields), self._client(url), None)
            else:
                self._probe(url, self._client(url))
        self.snmpPrinters.start()
        if self.settings.discovery == DNS_SD:
            from proxier.printer.finder import DNSSDDiscovery

            self.discovery = (self._discoveryFactory or DNSSDDiscovery)(self)
            self.discovery.start()

    def stopService(self) -> Any:
        for call in self._probes.values():
            if call.active():
                call.cancel()
        self._probes.clear()
        stopped = [device.stop() for device in self.devices.values()] + self.snmpPrinters.stop()
        if self.discovery is not None:
            stopped += self.discovery.stop()
            self.discovery = None
        super().stopService()
        return DeferredList(stopped)

    def _loadKnown(self) -> dict[str, list]:
        try:
            return self._known.load(default={}, validate=_validateKnown)
        except StoreError as e:
            self.log.error("the printers known from earlier runs cannot be read ({why}): each is found again",
                           why=str(e))
            return {}

    def ippDevices(self) -> list[PrinterDevice]:
        """The IPP devices running now: the static entries' and those DNS-SD found (an SNMP entry may join one)."""
        return [*self.devices.values(), *(self.discovery.devices() if self.discovery is not None else ())]

    def pending(self) -> list[PendingDevice]:
        """
        L{IPendingDevices}: the entries of C{[printer] printers} not known
        yet (C{ipp://}, then C{snmp://}), then the candidates of DNS-SD and
        of the SNMP probe that are no device — each named by its URL or
        address, never with a password nor a community.
        """
        out = []
        for unknown, protocol in ((self.unknown, PROXY_PROTOCOL), (self.snmpPrinters.unknown, SNMP_PROXY_PROTOCOL)):
            for url, (state, why) in sorted(unknown.items()):
                shown, host = _public(url)
                out.append(PendingDevice(shown, shown, protocol, host, state, why))
        lifecycles = [(self.discovery.lifecycle, PROXY_PROTOCOL)] if self.discovery is not None else []
        lifecycles.append((self.snmpPrinters.lifecycle, SNMP_PROXY_PROTOCOL))
        for lifecycle, protocol in lifecycles:
            for candidate, state, why in lifecycle.pending():
                out.append(PendingDevice(candidate.key, candidate.label, protocol, _public(candidate.url)[1], state,
                                         why))
        return out

    def configReloaded(self, config: Any) -> None:
        """SIGHUP: DNS-SD follows the new C{[lan]} interfaces, the SNMP probe the new C{snmp_*} keys."""
        if self.discovery is not None:
            self.discovery.configReloaded(config)
        self.snmpPrinters.configReloaded(PrinterSettings.fromConfig(config, self.context.deviceTimeout))

    # -- finding a printer -------------------------------------------------------------------

    def _probe(self, url: str, client: IPPClient) -> None:
        """Ask a printer not known yet who it is; again every poll_interval until it says."""
        self._probes.pop(url, None)
        self.unknown[url] = ("probing", "asking it who it is")
        d = client.getPrinterAttributes()
        d.addCallback(self._probed, url, client)
        d.addErrback(self._probeFailed, url, client)

    def _probed(self, group: ipp.AttributeGroup, url: str, client: IPPClient) -> None:
        if not self.running:
            return
        identity = identityOf(ippsource.read(group), self.settings.oui)
        if identity is None:
            self.log.warn("{url} tells no serial number, device ID SN nor printer-uuid: not proxied", url=url)
            self.unknown[url] = ("refused", "it tells no serial number, device ID SN nor printer-uuid")
            return
        known = self._loadKnown()
        known[url] = [identity.manufacturer, identity.oui, identity.productClass, identity.serialNumber]
        try:
            self._known.save(known)
        except StoreError as e:
            self.log.error("{url}: its identity cannot be kept ({why}): not proxied", url=url, why=str(e))
            self.unknown[url] = ("refused", f"its identity cannot be kept ({e})")
            return
        self._appear(url, identity, client, group)

    def _probeFailed(self, failure: Any, url: str, client: IPPClient) -> None:
        if not self.running:
            return
        self.log.info("{url} does not answer yet ({why}); asking again in {n:g} s", url=url,
                      why=failure.getErrorMessage(), n=self.settings.pollInterval)
        self.unknown[url] = ("waiting", f"it does not answer ({failure.getErrorMessage()}); asked again every "
                                        f"{self.settings.pollInterval:g} s")
        self._probes[url] = self.clock.callLater(self.settings.pollInterval, self._probe, url, client)

    def _appear(self, url: str, identity: DeviceIdentity, client: IPPClient,
                found: Optional[ipp.AttributeGroup]) -> None:
        self.unknown.pop(url, None)
        if self.discovery is not None:  # one printer, one device: the static entry's
            self.discovery.lifecycle.release(identity)
        extra = {"random": self.random} if self.random is not None else {}
        try:
            store = self.store.child("printer-" + deviceKey(identity))
            device = PrinterDevice(identity, url, client, store, self.slots, self.settings, self.clock, found=found,
                                   identify=lambda readings: identityOf(readings, self.settings.oui),
                                   replaced=self._replaced, **extra)
        except StoreError as e:  # state that cannot be read is not replaced by a blank one
            DeviceLogger(identity).error("IPP printer at {url} not proxied: {why}", url=url, why=str(e))
            return
        self.devices[url] = device
        DeviceLogger(identity).info("IPP printer at {url}", url=url)
        self.context.deviceAppeared(device)
        device.start()
        if found is not None:
            self.snmpPrinters.ippAnswered(device)

    def _replaced(self, device: PrinterDevice, group: ipp.AttributeGroup) -> None:
        """Its answer names another printer: the old device goes, the new one is found from this answer."""
        identity = identityOf(ippsource.read(group), self.settings.oui)
        device.log.warn("the printer at {url} now says it is {identity}: proxied as that device from now on",
                        url=device.url, identity=str(identity))
        device.stop()
        self.devices.pop(device.url, None)
        self.context.deviceRemoved(device)
        self.snmpPrinters.ippGone(device)
        self._probed(group, device.url, device.client)


@implementer(IEmbeddedDevice)
class EmbeddedPrinterService(PrinterService):
    """
    The printer service of embedded mode: the one printer at C{[printer]
    embedded} is the proxier's own CWMP CPE (PRINTERS.md §11).

    Its identity is the printer's (§4), learnt from its first answer: the
    CPE never informs with one it made up. The printer is asked at start
    and again every C{poll_interval} until it answers, each try logged;
    after L{EMBEDDED_WAIT} seconds without an answer the identity it told
    at an earlier run, kept by URL as for any printer, is taken (the device
    then starts offline, as a known printer does); with none kept, the CPE
    keeps waiting, and says so.

    The identity is fixed for the run: a CWMP DeviceId never changes under
    the ACS, and the endpoint's durable state is that identity's. A printer
    that later names another identity goes offline (sessions wait,
    Connection Requests get 503) with an error saying that a restart makes
    the CPE that printer's, which then bootstraps as a new CPE.

    C{[printer] printers} is not proxied in this mode (said in the log).
    C{[printer] embedded_snmp}, the printer's own agent, is its device's
    SNMP source from the start (merged as a printer listed both ways is,
    L{PrinterDevice.attachSNMP}): the configuration says it is this
    printer, so it is not matched.
    """

    def __init__(self, context: IProxierContext, *, wait: float = EMBEDDED_WAIT, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        self.wait = wait
        self.device: Optional[PrinterDevice] = None
        self._waiters: list[Deferred] = []
        self._bound: Any = None

    def identified(self) -> Deferred:
        d: Deferred = Deferred()
        if self.device is not None:
            d.callback(self.device)
        else:
            self._waiters.append(d)
        return d

    def startService(self) -> None:
        Service.startService(self)
        url = self.settings.embedded
        if self.settings.printers:
            self.log.warn("[printer] embedded is set: the proxier is the CWMP CPE of the printer at {url}, so the "
                          "{n} printer(s) of [printer] printers are not proxied", url=url,
                          n=len(self.settings.printers))
        if self.settings.discovery == DNS_SD:
            self.log.warn("[printer] embedded is set: the proxier is the CWMP CPE of the printer at {url}, so "
                          "[printer] discovery = dns-sd finds no printer", url=url)
        for stray in self.settings.strayCredentials():
            self.log.warn("[printer] credentials are given for {url}, which [printer] embedded does not name",
                          url=stray)
        self.log.info("embedded mode: waiting for the printer at {url} to tell who it is; the CWMP CPE informs the "
                      "ACS only then", url=url)
        self._bound = self.clock.callLater(self.wait, self._waitedLong)
        self._probe(url, self._client(url))

    def stopService(self) -> Any:
        if self._bound is not None and self._bound.active():
            self._bound.cancel()
        self._bound = None
        return super().stopService()

    def pending(self) -> list[PendingDevice]:
        """None: the proxier is its printer's own CWMP CPE, no Virtual CWMP Device is pending."""
        return []

    def _probeFailed(self, failure: Any, url: str, client: IPPClient) -> None:
        if not self.running or self.device is not None:
            return
        self.log.warn("embedded mode: the printer at {url} does not answer yet ({why}); the CWMP CPE waits for it, "
                      "asking again in {n:g} s", url=url, why=failure.getErrorMessage(), n=self.settings.pollInterval)
        self._probes[url] = self.clock.callLater(self.settings.pollInterval, self._probe, url, client)

    def _probed(self, group: ipp.AttributeGroup, url: str, client: IPPClient) -> None:
        if self.device is not None:  # the identity kept from an earlier run was taken meanwhile
            return
        super()._probed(group, url, client)
        if self.running and self.device is None:  # it tells no identity (logged): ask again
            self._probes[url] = self.clock.callLater(self.settings.pollInterval, self._probe, url, client)

    def _waitedLong(self) -> None:
        """L{EMBEDDED_WAIT} passed with no answer: the identity of an earlier run, if one is kept."""
        self._bound = None
        url = self.settings.embedded
        if self.device is not None or not self.running:
            return
        fields = self._loadKnown().get(url)
        if fields is None:
            self.log.error("embedded mode: the printer at {url} has not told who it is in {n:g} s and no identity "
                           "of it is known from an earlier run: the CWMP CPE does not inform until it answers",
                           url=url, n=self.wait)
            return
        call = self._probes.pop(url, None)
        if call is not None and call.active():
            call.cancel()
        self.log.warn("embedded mode: the printer at {url} has not answered in {n:g} s: the CWMP CPE starts with "
                      "the identity it told at an earlier run, offline until it answers", url=url, n=self.wait)
        self._appear(url, DeviceIdentity(*fields), self._client(url), None)

    def _appear(self, url: str, identity: DeviceIdentity, client: IPPClient,
                found: Optional[ipp.AttributeGroup]) -> None:
        extra = {"random": self.random} if self.random is not None else {}
        try:
            store = self.store.child("printer-" + deviceKey(identity))
            device = PrinterDevice(identity, url, client, store, self.slots, self.settings, self.clock, found=found,
                                   identify=lambda readings: identityOf(readings, self.settings.oui),
                                   replaced=self._replaced, embedded=True, **extra)
        except StoreError as e:
            DeviceLogger(identity).error("embedded mode: the printer's state cannot be read ({why}): the CWMP CPE "
                                         "does not start", why=str(e))
            return
        if self._bound is not None and self._bound.active():
            self._bound.cancel()
        self._bound = None
        if self.settings.embeddedSNMP:
            entry = snmpEntry(self.settings.embeddedSNMP)
            device.attachSNMP(entry.url, self.snmpPrinters._reader(entry))
        self.device = device
        self.devices[url] = device
        DeviceLogger(identity).info("embedded mode: the proxier is the CWMP CPE of the IPP printer at {url}", url=url)
        device.start()
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(device)

    def _replaced(self, device: PrinterDevice, group: ipp.AttributeGroup) -> None:
        """Another identity at the URL: kept for the run (see the class), the device stopped and offline."""
        identity = identityOf(ippsource.read(group), self.settings.oui)
        device.silent(f"it now says it is {identity}")
        device.log.error("the printer at {url} now says it is {identity}: this CWMP CPE keeps the identity it "
                         "started with and stays offline; restart the proxier to make it that printer's CPE",
                         url=device.url, identity=str(identity))


def _dataModelOf(device: PrinterDevice) -> Any:
    return device.model


def _embeddedObjectsOf(device: PrinterDevice) -> Any:
    return device.embeddedObjects()

