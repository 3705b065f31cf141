# -*- test-case-name: tests.test_printer_device -*-
"""
The printer protocol's service: one Virtual CWMP Device per printer listed
in C{[printer] printers} (PRINTERS.md §8, static entries).

    PrinterService (named "X_000000_IPP")
      ├── per URL not yet known: a probe (Get-Printer-Attributes, again every poll_interval)
      └── PrinterDevice × n ──deviceAppeared──▶ the proxier

A printer's identity (PRINTERS.md §4) comes from its first answer and is
kept by URL in the protocol's store, so that a printer known from an
earlier run is proxied at once — offline until it answers — and never
bootstraps again. A printer whose answer names another identity than the
one kept (it was replaced behind the same address) becomes that new device
from then on; the old one is removed.

The service registers, in the tree's registry, the adapter from
L{PrinterDevice} to L{IDataModel}.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from twisted.application.service import Service
from twisted.internet.defer import DeferredList
from twisted.logger import Logger

from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IDataModel, IProxierContext
from proxier.log import DeviceLogger
from proxier.printer import ipp, ippsource
from proxier.printer.device import PrinterDevice
from proxier.printer.ippclient import IPPClient
from proxier.printer.pinning import CertificatePins
from proxier.printer.poller import PollSlots
from proxier.printer.settings import PROXY_PROTOCOL, PrinterSettings
from proxier.proxy.device import deviceKey
from proxier.store import StoreError

__all__ = ["PrinterService", "identityOf", "SERVICE_NAME"]

SERVICE_NAME = PROXY_PROTOCOL
_FIELD = 64  # DeviceIdStruct fields: at most 64 characters


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


class PrinterService(Service):
    """
    What the printer plugin's C{makeService} returns.

    @param clientFactory: C{(url, credentials, timeout) → IPPClient}
        (tests give one on a fake printer); by default a client on the
        reactor with the protocol's certificate pins.
    """

    log = Logger()

    def __init__(self, context: IProxierContext, *,
                 clientFactory: Optional[Callable[..., IPPClient]] = None,
                 random: Optional[Callable[[], float]] = None) -> None:
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
        context.registry.registerAdapter(_dataModelOf, (PrinterDevice,), IDataModel)

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
        known = self._loadKnown()
        for url in self.settings.printers:
            fields = known.get(url)
            if fields is not None:
                self._appear(url, DeviceIdentity(*fields), self._client(url), None)
            else:
                self._probe(url, self._client(url))

    def stopService(self) -> Any:
        for call in self._probes.values():
            if call.active():
                call.cancel()
        self._probes.clear()
        stopped = [device.stop() for device in self.devices.values()]
        super().stopService()
        return DeferredList(stopped)

    def _loadKnown(self) -> dict[str, list]:
        try:
            return self._known.load(default={}, validate=_validateKnown)
        except StoreError as e:
            self.log.error("the printers known from earlier runs cannot be read ({why}): each is found again",
                           why=str(e))
            return {}

    # -- finding a printer -------------------------------------------------------------------

    def _probe(self, url: str, client: IPPClient) -> None:
        """Ask a printer not known yet who it is; again every poll_interval until it says."""
        self._probes.pop(url, None)
        d = client.getPrinterAttributes()
        d.addCallback(self._probed, url, client)
        d.addErrback(self._probeFailed, url, client)

    def _probed(self, group: ipp.AttributeGroup, url: str, client: IPPClient) -> None:
        if not self.running:
            return
        identity = identityOf(ippsource.read(group), self.settings.oui)
        if identity is None:
            self.log.warn("{url} tells no serial number, device ID SN nor printer-uuid: not proxied", url=url)
            return
        known = self._loadKnown()
        known[url] = [identity.manufacturer, identity.oui, identity.productClass, identity.serialNumber]
        try:
            self._known.save(known)
        except StoreError as e:
            self.log.error("{url}: its identity cannot be kept ({why}): not proxied", url=url, why=str(e))
            return
        self._appear(url, identity, client, group)

    def _probeFailed(self, failure: Any, url: str, client: IPPClient) -> None:
        if not self.running:
            return
        self.log.info("{url} does not answer yet ({why}); asking again in {n:g} s", url=url,
                      why=failure.getErrorMessage(), n=self.settings.pollInterval)
        self._probes[url] = self.clock.callLater(self.settings.pollInterval, self._probe, url, client)

    def _appear(self, url: str, identity: DeviceIdentity, client: IPPClient,
                found: Optional[ipp.AttributeGroup]) -> None:
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

    def _replaced(self, device: PrinterDevice, group: ipp.AttributeGroup) -> None:
        """Its answer names another printer: the old device goes, the new one is found from this answer."""
        identity = identityOf(ippsource.read(group), self.settings.oui)
        device.log.warn("the printer at {url} now says it is {identity}: proxied as that device from now on",
                        url=device.url, identity=str(identity))
        device.stop()
        self.devices.pop(device.url, None)
        self.context.deviceRemoved(device)
        self._probed(group, device.url, device.client)


def _dataModelOf(device: PrinterDevice) -> Any:
    return device.model

