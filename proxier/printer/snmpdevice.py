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
from dataclasses import dataclass
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence

from twisted.internet.defer import Deferred, fail, succeed

from proxier.datamodel.values import DeviceIdentity
from proxier.printer import snmp, sources
from proxier.printer.device import validateState
from proxier.printer.devicemodel import PrinterModel, PrinterModels
from proxier.printer.ippsource import Readings
from proxier.printer.lifecycle import PrinterLifecycle
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


class SNMPPrinterDevice(PrinterModels, ProxiedDevice):
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
        self.modelStore = store
        self.model = PrinterModel(self, store.child("datamodel"))
        if found is not None:
            self.lastRead = clock.seconds()

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
        self.refreshModels()

    def snmpSilent(self, reason: str) -> None:
        self.silent(reason)

    def silent(self, reason: str) -> None:
        """Offline: its agent does not answer, or the SNMP probe lost it (L{PrinterLifecycle})."""
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


@dataclass(frozen=True)
class ProbedPrinter:
    """A printer the SNMP probe found: a candidate of L{PrinterLifecycle}, the same one at the same address."""

    entry: SNMPEntry
    snmpAddress = None  # it has a URL: asked over SNMP itself

    @property
    def key(self) -> str:
        return self.entry.host

    @property
    def label(self) -> str:
        return self.entry.where  # never the community

    @property
    def url(self) -> str:
        return self.entry.url


class Walked(NamedTuple):
    """An entry's agent walked: the reader that did it (the device's from then on) and the answer."""

    reader: SNMPReader
    answer: SNMPAnswer


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

    Until an entry is known it is listed in L{unknown}, for the service's
    pending devices (the console): being walked, silent (asked again every
    C{poll_interval}), answering but waiting one poll interval for an IPP
    printer to be the same printer, or refused (no identity, or one that
    cannot be kept) — as the IPP entries are.

    The printers the SNMP probe (L{SNMPProbe}: C{[printer] snmp_targets},
    and the DNS-SD candidates L{probeAddress} is given) finds are entries
    too, made at run time (DiscoveryProtocol C{X_000000_SNMP}), and the
    candidates (L{ProbedPrinter}, by address) of a L{PrinterLifecycle}, the
    one DNS-SD's printers go through: each is walked, then joins the IPP
    device of its printer or is a device of its own, as a static entry.
    One the probe loses is stopped and offline, and forgotten after
    C{forget_after} (its state kept); found again, under any community, it
    is walked again and made anew.

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
        self.devices: dict[str, SNMPPrinterDevice] = {}  # the entries of [printer] printers of their own, by URL
        self.joined: dict[str, Any] = {}  # entry -> the IPP device it is the SNMP source of
        self._probes: dict[str, Any] = {}  # entry of [printer] printers -> the next walk's call
        self._waiting: dict[str, tuple[Walked, Any, Deferred]] = {}  # walked, no IPP match yet: call, what it fires
        #: the entries of [printer] printers not known yet, by URL: (state, why), as PrinterService.unknown
        self.unknown: dict[str, tuple[str, str]] = {}
        self.probePort = self.settings.snmpPort
        self.probe: Optional[SNMPProbe] = None
        self.probed: dict[str, SNMPEntry] = {}  # the entries made for what the probe found, by URL
        self.lifecycle = PrinterLifecycle(
            self.clock, probe=self._walkProbed, makeDevice=self._makeProbed, appeared=self._appeared,
            removed=lambda device: self.service.context.deviceRemoved(device), held=self._joinedTo,
            forgetAfter=self.settings.forgetAfter, retry=self.settings.pollInterval, source="the SNMP probe",
            gone=LOST_REASON, heldAs="the SNMP source of its IPP device",
            identities="prtGeneralSerialNumber, MAC")
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
        for address in list(self.lifecycle.candidates):
            if address not in kept:
                self.lost(address)

    def stop(self) -> list[Deferred]:
        self.running = False
        if self.probe is not None:
            self.probe.stop()
            self.probe = None
        stopped = self.lifecycle.stop()
        for call in [*self._probes.values(), *(waited[1] for waited in self._waiting.values())]:
            if call is not None and call.active():
                call.cancel()
        self._probes.clear()
        self._waiting.clear()
        self.unknown.clear()
        stopped += [device.stop() for device in self.devices.values()]
        if self.port is not None:
            stopped.append(self.port.stopListening() or succeed(None))
            self.port = None
        return stopped

    # -- the printers the SNMP probe finds: the lifecycle's candidates -------------------------

    def _entryAt(self, address: str, community: bytes) -> SNMPEntry:
        host = f"[{address}]" if ":" in address else address
        url = f"snmp://{community.decode('latin-1')}@{host}:{self.probePort}"
        return SNMPEntry(url, address, self.probePort, community, snmp.V2C)

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
        """The probe found a printer (again, or under another community): the lifecycle's candidate."""
        if not self.running:
            return
        entry = self._entryAt(address, community)
        self.probed[entry.url] = entry
        self.lifecycle.found(ProbedPrinter(entry))

    def lost(self, address: str) -> None:
        """
        The probe lost a printer: its own device stops, offline, forgotten
        after forget_after (the lifecycle's); the SNMP source of an IPP
        device it joined stays that device's, told silent by the device's
        own polls.
        """
        candidate = self.lifecycle.candidates.get(address)
        if candidate is not None:
            self.lifecycle.lost(candidate)

    def _walkProbed(self, candidate: ProbedPrinter) -> Deferred:
        """Who a printer the probe found is: the IPP device's it is the SNMP source of already, or walked."""
        joined = self.joined.get(candidate.url)
        if joined is not None:
            return succeed((joined.identity, None))
        return self._walk(candidate.entry, self._reader(candidate.entry))

    def _joinedTo(self, identity: DeviceIdentity) -> bool:
        """The printer is an IPP device's, its entry that device's SNMP source (L{_walk} joined it)."""
        return any(device.identity == identity for device in self.joined.values())

    def _makeProbed(self, candidate: ProbedPrinter, identity: DeviceIdentity, walked: Walked,
                    replaced: Callable[[Any], None]) -> Optional[SNMPPrinterDevice]:
        """The device of a printer the probe found, kept as a static entry's is (its identity never changes)."""
        if not self._keep(candidate.entry, identity):
            return None
        device = self._device(candidate.entry, identity, walked.reader, walked.answer)
        if device is not None:
            device.discoveryProtocol = SNMP_DISCOVERY_PROTOCOL
        return device

    # -- finding which printer an entry is ----------------------------------------------------

    def _walk(self, entry: SNMPEntry, reader: SNMPReader) -> Deferred:
        """
        Which printer an entry's agent is: a Deferred firing with
        C{(identity or None, Walked)}. The same printer as an IPP device
        joins it (the identity is that device's); while an IPP printer of
        the config has not answered, it has one poll_interval to be it.
        """
        d = reader.fetch(True)
        d.addCallback(self._walked, entry, reader)
        return d

    def _walked(self, answer: SNMPAnswer, entry: SNMPEntry, reader: SNMPReader) -> Any:
        walked = Walked(reader, answer)
        if not self.running:
            return None, walked
        device = self._match(answer.readings())
        if device is None and self._ippPending():
            if entry.url in self.unknown:
                self.unknown[entry.url] = ("probing", "it answers; an IPP printer of [printer] printers has one poll "
                                                      "interval to answer as the same printer")
            self.service.log.info("{where} answers; an IPP printer has not yet: one poll interval for it to be "
                                  "the same printer", where=entry.where)
            call = self.clock.callLater(self.settings.pollInterval, self._decide, entry)
            waiting: Deferred = Deferred(lambda d: self._unwait(entry.url))
            self._waiting[entry.url] = (walked, call, waiting)
            return waiting
        return self._decided(entry, walked, device)

    def _unwait(self, url: str) -> None:
        waited = self._waiting.pop(url, None)
        if waited is not None and waited[1].active():
            waited[1].cancel()

    def _decide(self, entry: SNMPEntry) -> None:
        walked, _, waiting = self._waiting.pop(entry.url)
        waiting.callback(self._decided(entry, walked, self._match(walked.answer.readings())))

    def _decided(self, entry: SNMPEntry, walked: Walked, device: Any) -> tuple[Optional[DeviceIdentity], Walked]:
        if device is not None:
            self._join(device, entry, walked.reader, walked.answer)
            return device.identity, walked
        return snmpIdentity(walked.answer.readings(), self.settings.oui), walked

    def _probe(self, entry: SNMPEntry, reader: SNMPReader) -> None:
        """Walk an entry of [printer] printers not known yet; again every poll_interval until it answers."""
        self._probes.pop(entry.url, None)
        self.unknown[entry.url] = ("probing", "walking its agent to learn who it is")
        d = self._walk(entry, reader)
        d.addCallbacks(self._probed, self._probeFailed, (entry,), errbackArgs=(entry, reader))
        d.addErrback(lambda f: self.service.log.failure("an SNMP probe's answer could not be taken", f))

    def _probeFailed(self, failure: Any, entry: SNMPEntry, reader: SNMPReader) -> None:
        if not self.running:
            return
        self.service.log.info("{where} does not answer yet ({why}); asking again in {n:g} s", where=entry.where,
                              why=failure.getErrorMessage(), n=self.settings.pollInterval)
        self.unknown[entry.url] = ("waiting", f"it does not answer ({failure.getErrorMessage()}); asked again every "
                                              f"{self.settings.pollInterval:g} s")
        self._probes[entry.url] = self.clock.callLater(self.settings.pollInterval, self._probe, entry, reader)

    def _probed(self, result: tuple[Optional[DeviceIdentity], Walked], entry: SNMPEntry) -> None:
        identity, walked = result
        if not self.running:
            return
        if entry.url in self.joined:
            self.unknown.pop(entry.url, None)
            return
        if identity is None:
            self.service.log.warn("{where} tells no prtGeneralSerialNumber nor MAC: not proxied", where=entry.where)
            self.unknown[entry.url] = ("refused", "it tells no prtGeneralSerialNumber nor MAC")
        elif self._keep(entry, identity):
            self._own(entry, identity, walked.reader, walked.answer)
            if entry.url in self.devices:
                self.unknown.pop(entry.url, None)
            else:
                self.unknown[entry.url] = ("refused", "its state cannot be read (the log says why)")
        else:
            self.unknown[entry.url] = ("refused", "what it is cannot be kept in the state directory (the log says "
                                                  "why)")

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
        for url, (walked, call, waiting) in list(self._waiting.items()):
            if sources.samePrinter(keys, sources.matchKeys(walked.answer.readings())):
                call.cancel()
                del self._waiting[url]
                waiting.callback(self._decided(self._entry(url), walked, device))
                return
        for own in [*self.devices.values(), *(printer.device for printer in self.lifecycle.printers.values())]:
            if own.snmp.readings is not None and sources.samePrinter(keys, sources.matchKeys(own.snmp.readings)):
                own.log.warn("its IPP side answers now at {url}: this device goes, the printer is {identity}",
                             url=device.url, identity=str(device.identity))
                if self.devices.get(own.url) is own:
                    own.stop()
                    del self.devices[own.url]
                    self.service.context.deviceRemoved(own)
                else:  # one the probe found (lost maybe, stopped already)
                    self.lifecycle.release(own.identity, "the SNMP source of its IPP device from now on")
                self._join(device, self._entry(own.url), own.snmp.reader, None)
                return

    def ippGone(self, device: Any) -> None:
        """
        An IPP device went (another printer answers at its URL): its SNMP
        entry is found again (the lifecycle's candidate, while the probe
        finds it).
        """
        for url, joined in list(self.joined.items()):
            if joined is device:
                del self.joined[url]
                entry = self._entry(url)
                candidate = self.lifecycle.candidates.get(entry.host)
                if candidate is not None and candidate.url == url:
                    self.lifecycle.found(candidate)
                elif url not in self.probed:
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

    def _device(self, entry: SNMPEntry, identity: DeviceIdentity, reader: SNMPReader,
                answer: Optional[SNMPAnswer]) -> Optional[SNMPPrinterDevice]:
        extra = {"random": self.service.random} if self.service.random is not None else {}
        try:
            store = self.service.store.child("printer-" + deviceKey(identity))
            return SNMPPrinterDevice(identity, entry.url, reader, store, self.service.slots, self.settings,
                                     self.clock, found=answer, **extra)
        except StoreError as e:
            DeviceLogger(identity).error("SNMP printer at {where} not proxied: {why}", where=entry.where, why=str(e))
            return None

    def _own(self, entry: SNMPEntry, identity: DeviceIdentity, reader: SNMPReader,
             answer: Optional[SNMPAnswer]) -> None:
        device = self._device(entry, identity, reader, answer)
        if device is None:
            return
        self.devices[entry.url] = device
        DeviceLogger(identity).info("SNMP printer at {where}", where=entry.where)
        self._appeared(device)

    def _appeared(self, device: SNMPPrinterDevice) -> None:
        self.service.context.deviceAppeared(device)
        device.start()
