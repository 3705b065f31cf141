# -*- test-case-name: tests.test_printer_snmpdevice -*-
"""
A printer's SNMP source on a Virtual CWMP Device (PRINTERS.md §4-§6, §8):
L{SNMPPart}, the polls, probe, writes and resets of one SNMP agent, each a
turn of the device's one gate; and L{SNMPPrinterDevice}, the device of a
printer that speaks only SNMP. An IPP L{PrinterDevice
<proxier.printer.device.PrinterDevice>} takes an L{SNMPPart} too when
its SNMP entry is the same printer (L{proxier.printer.sources}): one
printer, one device.

    SNMPPart ── PrinterPoller ──fetch──▶ the owner's gate ──"SNMP"──▶ SNMPReader ──▶ SNMPClient
        │ snmpPolled / snmpSilent / snmpAnswering / snmpRestarted
        ▼
      owner (SNMPPrinterDevice, or the IPP PrinterDevice it merged into)

What the SNMP polls mean is the IPP poller's, on the reader's answers
(L{proxier.printer.snmpreader}): offline after C{offline_after_failures}
polls in a row, "1 BOOT" when sysUpTime went back, a full walk when
prtGeneralConfigChanges moved or C{full_poll_interval} passed.

Writable (§5) is what the agent accepted at probe time: after the first
full walk, sysContact, sysLocation and prtGeneralReset are each SET to the
value they have (L{SNMPReader.probe}); Contact and Location are then
writable, and Reboot/FactoryReset offered through prtGeneralReset (the
restart after a FactoryReset is "0 BOOTSTRAP"). A probe without an answer
is tried again after the next full walk.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Mapping, Optional, Sequence

from twisted.internet.defer import Deferred, fail, succeed

from proxier.datamodel.values import DeviceIdentity
from proxier.printer import snmp, sources
from proxier.printer.device import validateState
from proxier.printer.devicemodel import PrinterModel
from proxier.printer.ippsource import Readings
from proxier.printer.poller import PollSlots
from proxier.log import DeviceLogger
from proxier.printer.settings import (
    DISCOVERY_PROTOCOL, DNS_SD, SNMP_DISCOVERY_PROTOCOL, SNMP_PROXY_PROTOCOL, VENDOR, PrinterSettings, SNMPEntry,
    snmpEntry,
)
from proxier.printer.snmpclient import SNMPClient, SNMPProtocol, listen
from proxier.printer.snmpprobe import SNMPProbe, isPrinter
from proxier.printer.snmpreader import SERVICE, SNMPAnswer, SNMPPart, SNMPReader, SNMPTarget, Targets, answered
from proxier.proxy.device import DeviceStatus, ProxiedDevice, deviceKey
from proxier.proxy.gate import ActionGate
from proxier.store import StoreError

__all__ = ["SNMPPrinterDevice", "SNMPPrinters", "snmpIdentity", "knownKey", "QUEUE_LIMIT", "LOST_REASON"]

_FIELD = 64  # DeviceIdStruct fields: at most 64 characters
#: Actions waiting for one printer at most (polls and the ACS's requests).
QUEUE_LIMIT = 16
#: Why a printer the SNMP probe found is offline (its log line).
LOST_REASON = "it no longer answers the SNMP probe as a printer"


class SNMPPrinterDevice(ProxiedDevice):
    """
    A printer that speaks only SNMP, as a Virtual CWMP Device
    (C{X_000000_SNMP}): the model of an IPP printer's device, filled by
    SNMP alone.

    @param found: the full answer that found it, or None (known from an
        earlier run: offline until it answers).
    """

    proxyProtocol = SNMP_PROXY_PROTOCOL
    discoveryProtocol = DISCOVERY_PROTOCOL
    hasSNMP = True

    def __init__(self, identity: DeviceIdentity, url: str, reader: SNMPReader, store: Any, slots: PollSlots,
                 settings: PrinterSettings, clock: Any, *, found: Optional[SNMPAnswer] = None,
                 random: Optional[Callable[[], float]] = None) -> None:
        super().__init__(identity, DeviceStatus.ONLINE if found is not None else DeviceStatus.OFFLINE)
        self.url = url
        self.host = reader.client.host
        self.clock = clock
        self.settings = settings
        self._state = store.document("printer")
        self._bootTime = self._state.load(default={}, validate=validateState).get("bootTime")
        self.gate = ActionGate(lambda: Targets({SERVICE: SNMPTarget(reader)}), clock, refused=answered,
                               timeout=settings.requestTimeout, concurrency=1, queueLimit=QUEUE_LIMIT,
                               offlineAfter=settings.offlineAfterFailures, name=str(identity))
        self.snmp = SNMPPart(url, reader, self._call, slots, settings, clock, self, self.log, found=found,
                             bootTime=self._bootTime, random=random)
        self._saveBootTime()
        self.model = PrinterModel(self, store.child("datamodel"))

    def _call(self, action: str, arguments: Mapping[str, Any], timeout: Optional[float]) -> Deferred:
        return self.gate.call(SERVICE, action, arguments, timeout=timeout)

    @property
    def readings(self) -> Readings:
        return self.snmp.readings if self.snmp.readings is not None else Readings()

    @property
    def settable(self) -> frozenset:
        return self.snmp.settable

    def start(self) -> None:
        self.snmp.start()

    def stop(self) -> Deferred:
        """No more polls; what waits for the printer is dropped."""
        self.snmp.stop()
        self.gate.cancelAll("the device stops")
        return succeed(None)

    # -- the SNMP part's news ---------------------------------------------------------------

    def snmpPolled(self) -> None:
        self._saveBootTime()
        self.model.refresh()

    def snmpSilent(self, reason: str) -> None:
        self._moveTo(DeviceStatus.OFFLINE, reason)

    def snmpAnswering(self) -> None:
        self._moveTo(DeviceStatus.ONLINE)

    def snmpRestarted(self, expected: bool, factoryReset: bool) -> None:
        if factoryReset:
            self.log.info("back from the factory reset asked for: \"0 BOOTSTRAP\" follows")
            self._tellFactoryReset()
            return
        self.log.info("restarted ({why}): \"1 BOOT\" follows", why="as asked" if expected else "sysUpTime")
        self._tellBooted()

    def _saveBootTime(self) -> None:
        bootTime = self.snmp.poller.bootTime
        if bootTime is not None and bootTime != self._bootTime:
            self._state.save({"bootTime": bootTime})
            self._bootTime = bootTime

    # -- what the model asks ----------------------------------------------------------------

    def writeProtocol(self, path: str) -> Optional[str]:
        return sources.writeProtocol(path, (), self.settable)

    def writeSNMP(self, varBinds: Sequence[snmp.VarBind]) -> Deferred:
        return self.snmp.write(varBinds)

    def write(self, attributes: Sequence[Any]) -> Deferred:
        return fail(RuntimeError("this printer speaks no IPP"))

    def restartOffered(self) -> bool:
        return self.snmp.resetOffered

    def reboot(self) -> Deferred:
        return self.snmp.reset("Reboot")

    def factoryResetOffered(self) -> bool:
        return self.snmp.resetOffered

    def factoryReset(self) -> Deferred:
        return self.snmp.reset("FactoryReset")




def snmpIdentity(readings: Readings, oui: str) -> Optional[DeviceIdentity]:
    """
    The identity of an SNMP-only printer (PRINTERS.md §4): ManufacturerOUI
    the configured one, else (left at the default) the OUI of its MAC;
    serial number prtGeneralSerialNumber, else the MAC (L{snmpsource.Identity});
    None when it tells neither.
    """
    found = readings.identity
    if found is None or not found.serialNumber:
        return None
    mac = getattr(found, "oui", "")
    chosen = oui if oui != VENDOR or not mac else mac
    return DeviceIdentity(found.manufacturer[:_FIELD], chosen, found.productClass[:_FIELD], found.serialNumber[:_FIELD])


def knownKey(entry: SNMPEntry) -> str:
    """An entry's key in the store: its address and a digest of its community (which is a password)."""
    return f"{entry.where}#{hashlib.sha256(entry.community).hexdigest()[:16]}"


class SNMPPrinters:
    """
    The C{snmp://} entries of C{[printer] printers}, for the printer
    service (L{proxier.printer.proxy.PrinterService}): each entry's agent
    is walked until it answers; then it is the SNMP source of the IPP
    device of the same printer (L{sources.samePrinter} on the IPP readings),
    or a device of its own (L{SNMPPrinterDevice}).

    An IPP printer that has not answered yet has one C{poll_interval} to
    do so before an SNMP entry with no IPP match becomes a device of its
    own, so that a printer listed both ways does not show up as two
    devices at start. One that answers later still takes the SNMP entry
    of its printer: the SNMP-only device is then removed (logged).

    What each entry turned out to be is kept in the protocol's store, like
    the IPP printers' identities: at the next start it is at once the SNMP
    source of the IPP device it joined, or its own device again — offline
    until it answers.

    The printers the SNMP probe (L{SNMPProbe}: C{[printer] snmp_targets},
    and the DNS-SD candidates L{probeAddress} is given) finds are entries
    too, made at run time (DiscoveryProtocol C{X_000000_SNMP}): each joins
    the IPP device of its printer or is a device of its own, as a static
    entry. One the probe loses is stopped and offline, and forgotten after
    C{forget_after} (its state kept, as for a printer DNS-SD lost); found
    again, it is walked again and made anew.

    @param clientFactory: C{(entry, writeCommunity) → SNMPClient} (tests
        give one on an in-memory agent); by default a client on one UDP
        socket of the reactor's, opened when there is an entry.
    """

    def __init__(self, service: Any, *, clientFactory: Optional[Callable[..., SNMPClient]] = None) -> None:
        self.service = service
        self.settings: PrinterSettings = service.settings
        self.clock = service.clock
        self.clientFactory = clientFactory or self._makeClient
        self.protocol: Optional[SNMPProtocol] = None
        self.port: Any = None
        self.devices: dict[str, SNMPPrinterDevice] = {}  # by entry
        self.joined: dict[str, Any] = {}  # entry -> the IPP device it is the SNMP source of
        self._probes: dict[str, Any] = {}  # entry -> the next probe's call
        self._waiting: dict[str, tuple[SNMPReader, SNMPAnswer, Any]] = {}  # answered, no IPP match yet
        self.probePort = self.settings.snmpPort
        self.probe: Optional[SNMPProbe] = None
        self.discovered: dict[str, str] = {}  # address -> the entry the probe found there
        self.probed: dict[str, SNMPEntry] = {}  # the entries made for what the probe found, by URL
        self._forget: dict[str, Any] = {}  # entry -> the forget call of its device, offline since it was lost
        self.running = False

    def _makeClient(self, entry: SNMPEntry, writeCommunity: Optional[bytes]) -> SNMPClient:
        if self.protocol is None:
            self.protocol = SNMPProtocol(self.clock)
            self.port = listen(self.clock, self.protocol)
        return SNMPClient(self.protocol, entry.host, entry.port, community=entry.community,
                          writeCommunity=writeCommunity, version=entry.version)

    def _reader(self, entry: SNMPEntry) -> SNMPReader:
        return SNMPReader(self.clientFactory(entry, self.settings.writeCommunityFor(entry.url)), self.clock)

    def start(self) -> None:
        self.running = True
        known = self.service._loadKnown()
        for entry in self.settings.snmpPrinters:
            fields = known.get(knownKey(entry))
            if fields is None:
                self._probe(entry, self._reader(entry))
                continue
            identity = DeviceIdentity(*fields)
            device = next((d for d in self.service.devices.values() if d.identity == identity), None)
            if device is not None and not device.hasSNMP:
                self._join(device, entry, self._reader(entry), None)
            else:
                self._own(entry, identity, self._reader(entry), None)
        self._startProbe(self.settings)

    def _startProbe(self, settings: PrinterSettings) -> None:
        self.probePort = settings.snmpPort
        if not settings.snmpCommunities:
            if settings.snmpTargets:
                self.service.log.error("[printer] snmp_communities is empty: snmp_targets are not probed")
            return
        if settings.snmpTargets or settings.discovery == DNS_SD:
            self.probe = SNMPProbe(self.clock, self._ask, settings.snmpCommunities, found=self.found,
                                   lost=self.lost, rate=settings.snmpProbeRate,
                                   interval=settings.snmpProbeInterval, targets=settings.snmpTargets)
            self.probe.start()

    def configReloaded(self, settings: PrinterSettings) -> None:
        """
        SIGHUP: the probe takes the new snmp_targets, snmp_communities,
        rate and interval at once. A printer found at an address still
        probed, with a community still listed, stays as it is; one at an
        address no longer probed is lost.
        """
        if not self.running:
            return
        old = self.probe
        if old is not None:
            old.stop()
        self.probe = None
        self._startProbe(settings)
        new = self.probe
        kept = {}
        if new is not None and old is not None:
            for address in sorted(old.extra):
                new.add(address)
            probed = set(new.targets) | new.extra
            kept = {a: c for a, c in old.printers.items() if a in probed and c in new.communities}
            new.printers.update(kept)
        for address in list(self.discovered):
            if address not in kept:
                self.lost(address)

    def stop(self) -> list[Deferred]:
        self.running = False
        if self.probe is not None:
            self.probe.stop()
            self.probe = None
        calls = [*self._probes.values(), *(w[2] for w in self._waiting.values()), *self._forget.values()]
        for call in calls:
            if call is not None and call.active():
                call.cancel()
        self._probes.clear()
        self._waiting.clear()
        stopped = [device.stop() for url, device in self.devices.items() if url not in self._forget]
        self._forget.clear()
        if self.port is not None:
            stopped.append(self.port.stopListening() or succeed(None))
            self.port = None
        return stopped

    # -- the printers the SNMP probe finds ---------------------------------------------------

    def _entryAt(self, address: str, community: bytes) -> SNMPEntry:
        host = f"[{address}]" if ":" in address else address
        url = f"snmp://{community.decode('latin-1')}@{host}:{self.probePort}"
        return SNMPEntry(url, address, self.probePort, community)

    def _entry(self, url: str) -> SNMPEntry:
        """An entry by its URL: the probe's as made (its community may not parse back), else the config's."""
        return self.probed.get(url) or snmpEntry(url)

    def _ask(self, address: str, community: bytes) -> Deferred:
        return isPrinter(self.clientFactory(self._entryAt(address, community), None))

    def probeAddress(self, address: str) -> None:
        """A DNS-SD candidate that may speak SNMP only: probed with the others."""
        if self.probe is not None:
            self.probe.add(address)

    def unprobeAddress(self, address: str) -> None:
        """That candidate is no longer advertised: no longer probed (a printer found there is lost)."""
        if self.probe is not None:
            self.probe.discard(address)

    def found(self, address: str, community: bytes) -> None:
        """The probe found a printer (or found it again): walked, then joined or its own device."""
        if not self.running:
            return
        self.lost(address, quiet=True)
        entry = self._entryAt(address, community)
        self.discovered[address] = entry.url
        self.probed[entry.url] = entry
        if entry.url in self.joined:  # its IPP device's SNMP source still: its polls tell it answers
            return
        for url in [u for u in self._forget if self._entry(u).host == address]:
            self._forget.pop(url).cancel()  # offline since it was lost: a new device from the new walk
            old = self.devices.pop(url)
            old.log.info("back: answers the SNMP probe at {where}", where=entry.where)
            self.service.context.deviceRemoved(old)
        self._probe(entry, self._reader(entry))

    def lost(self, address: str, quiet: bool = False) -> None:
        """
        The probe lost a printer: its own device stops, offline, forgotten
        after forget_after; the SNMP source of an IPP device it joined stays
        that device's, told silent by the device's own polls.
        """
        url = self.discovered.pop(address, None)
        if url is None:
            return
        call = self._probes.pop(url, None) or self._waiting.pop(url, (None, None, None))[2]
        if call is not None and call.active():
            call.cancel()
        device = self.devices.get(url)
        if device is not None and url not in self._forget:
            if quiet:  # the same printer under another community: the old entry goes now
                del self.devices[url]
                device.stop()
                self.service.context.deviceRemoved(device)
                return
            device.stop()
            device.snmpSilent(LOST_REASON)
            self._forget[url] = self.clock.callLater(self.settings.forgetAfter, self._forgotten, url)

    def _forgotten(self, url: str) -> None:
        del self._forget[url]
        device = self.devices.pop(url)
        device.log.info("lost by the SNMP probe {n:g} s ago: forgotten (its state is kept for its return)",
                        n=self.settings.forgetAfter)
        self.service.context.deviceRemoved(device)

    # -- finding which printer an entry is ----------------------------------------------------

    def _probe(self, entry: SNMPEntry, reader: SNMPReader) -> None:
        """Walk an entry's agent not known yet; again every poll_interval until it answers."""
        self._probes.pop(entry.url, None)
        d = reader.fetch(True)
        d.addCallbacks(self._probed, self._probeFailed, (entry, reader), errbackArgs=(entry, reader))
        d.addErrback(lambda f: self.service.log.failure("an SNMP probe's answer could not be taken", f))

    def _probeFailed(self, failure: Any, entry: SNMPEntry, reader: SNMPReader) -> None:
        if not self.running:
            return
        self.service.log.info("{where} does not answer yet ({why}); asking again in {n:g} s", where=entry.where,
                              why=failure.getErrorMessage(), n=self.settings.pollInterval)
        self._probes[entry.url] = self.clock.callLater(self.settings.pollInterval, self._probe, entry, reader)

    def _probed(self, answer: SNMPAnswer, entry: SNMPEntry, reader: SNMPReader) -> None:
        if not self.running:
            return
        device = self._match(answer.readings())
        if device is not None:
            self._join(device, entry, reader, answer)
        elif self._ippPending():
            self.service.log.info("{where} answers; an IPP printer has not yet: one poll interval for it to be "
                                  "the same printer", where=entry.where)
            call = self.clock.callLater(self.settings.pollInterval, self._decide, entry)
            self._waiting[entry.url] = (reader, answer, call)
        else:
            self._alone(entry, reader, answer)

    def _decide(self, entry: SNMPEntry) -> None:
        reader, answer, _ = self._waiting.pop(entry.url)
        device = self._match(answer.readings())
        if device is not None:
            self._join(device, entry, reader, answer)
        else:
            self._alone(entry, reader, answer)

    def _match(self, readings: Readings) -> Any:
        """The IPP device of the same printer (PRINTERS.md §8), if one answered already."""
        keys = sources.matchKeys(readings)
        for device in self.service.ippDevices():
            if not device.hasSNMP and device.ippReadings.identity is not None:
                if sources.samePrinter(sources.matchKeys(device.ippReadings), keys):
                    return device
        return None

    def _ippPending(self) -> bool:
        """An IPP printer of the config has not answered in this run."""
        urls = self.settings.ippPrinters
        return any(url not in self.service.devices or self.service.devices[url].ippReadings.identity is None
                   for url in urls)

    def ippAnswered(self, device: Any) -> None:
        """
        An IPP device answered in full (found, or polled): an entry waiting
        for it, or an SNMP-only device of the same printer, becomes its SNMP
        source.
        """
        if not self.running or device.hasSNMP:
            return
        keys = sources.matchKeys(device.ippReadings)
        for url, (reader, answer, call) in list(self._waiting.items()):
            if sources.samePrinter(keys, sources.matchKeys(answer.readings())):
                call.cancel()
                del self._waiting[url]
                self._join(device, self._entry(url), reader, answer)
                return
        for url, own in list(self.devices.items()):
            if own.snmp.readings is not None and sources.samePrinter(keys, sources.matchKeys(own.snmp.readings)):
                forget = self._forget.pop(url, None)  # lost by the probe: stopped already
                if forget is not None:
                    forget.cancel()
                own.log.warn("its IPP side answers now at {url}: this device goes, the printer is {identity}",
                             url=device.url, identity=str(device.identity))
                own.stop()
                del self.devices[url]
                self.service.context.deviceRemoved(own)
                self._join(device, self._entry(url), own.snmp.reader, None)
                return

    def ippGone(self, device: Any) -> None:
        """An IPP device went (another printer answers at its URL): its SNMP entry is found again."""
        for url, joined in list(self.joined.items()):
            if joined is device:
                del self.joined[url]
                entry = self._entry(url)
                self._probe(entry, self._reader(entry))

    # -- what an entry becomes ------------------------------------------------------------------

    def _keep(self, entry: SNMPEntry, identity: DeviceIdentity) -> bool:
        known = self.service._loadKnown()
        known[knownKey(entry)] = [identity.manufacturer, identity.oui, identity.productClass, identity.serialNumber]
        try:
            self.service._known.save(known)
        except StoreError as e:
            self.service.log.error("{where}: what it is cannot be kept ({why})", where=entry.where, why=str(e))
            return False
        return True

    def _join(self, device: Any, entry: SNMPEntry, reader: SNMPReader, answer: Optional[SNMPAnswer]) -> None:
        self._keep(entry, device.identity)
        self.joined[entry.url] = device
        device.attachSNMP(entry.url, reader, answer)

    def _alone(self, entry: SNMPEntry, reader: SNMPReader, answer: SNMPAnswer) -> None:
        identity = snmpIdentity(answer.readings(), self.settings.oui)
        if identity is None:
            self.service.log.warn("{where} tells no prtGeneralSerialNumber nor MAC: not proxied", where=entry.where)
            return
        if self._keep(entry, identity):
            self._own(entry, identity, reader, answer)

    def _own(self, entry: SNMPEntry, identity: DeviceIdentity, reader: SNMPReader,
             answer: Optional[SNMPAnswer]) -> None:
        extra = {"random": self.service.random} if self.service.random is not None else {}
        try:
            store = self.service.store.child("printer-" + deviceKey(identity))
            device = SNMPPrinterDevice(identity, entry.url, reader, store, self.service.slots, self.settings,
                                       self.clock, found=answer, **extra)
        except StoreError as e:
            DeviceLogger(identity).error("SNMP printer at {where} not proxied: {why}", where=entry.where, why=str(e))
            return
        if entry.url in self.discovered.values():
            device.discoveryProtocol = SNMP_DISCOVERY_PROTOCOL
        self.devices[entry.url] = device
        DeviceLogger(identity).info("SNMP printer at {where}", where=entry.where)
        self.service.context.deviceAppeared(device)
        device.start()
