# -*- test-case-name: tests.test_printer_device -*-
"""
One IPP printer as one Virtual CWMP Device (TR-069 Annex J; PRINTERS.md §1,
§5, §6), on the shared core's L{ProxiedDevice}.

    PrinterPoller ──IPollObserver──▶ PrinterDevice ──IDeviceObserver──▶ the CWMP endpoint
          │ fetch                        │ (offline / online / "1 BOOT")
          ▼                              ▼
      ActionGate ──callAction──▶ IPPTarget ──▶ IPPClient ──▶ the printer
          ▲
          └── PrinterModel (IDataModel): SetParameterValues, Reboot

Every IPP operation on the printer — polls, writes, the restart, the
ippget events that make a poll come at once (L{proxier.printer.events}) — goes
through its one L{ActionGate} (one at a time), so a write and its read-back
are never interleaved with a poll. Whether the printer answers is the
poller's to say (C{offline_after_failures} polls in a row), not the gate's.

Its data model is L{PrinterModel<proxier.printer.devicemodel.PrinterModel>}:
its values are the printer's last answers (a full read, updated by the
cheap ones since) as L{proxier.printer.ippsource} reads them; after each
answer the model compares them with its baselines, which is where "4 VALUE
CHANGE" comes from — never while the printer is silent.

A printer known from an earlier run starts offline until it answers; one
found now starts online with the answer that found it.

When an SNMP entry of the proxier is the same printer (PRINTERS.md §8,
L{proxier.printer.sources}), the device takes it (L{attachSNMP}): one
printer, one device. Its SNMP polls, writes and resets are turns of the
same gate (L{SNMPPart<proxier.printer.snmpreader.SNMPPart>}); its readings
are both sources' merged (IPP preferred, except what PRINTERS.md §4 names
SNMP for); each path is written through the protocol
L{sources.writeProtocol} names; it is offline only when neither protocol
answers; a restart is IPP's to find (printer-up-time) unless IPP tells no
up-time; Reboot goes through IPP where offered, else prtGeneralReset, which
also offers FactoryReset. The restart after a FactoryReset the ACS asked
for is reported as "0 BOOTSTRAP" (a CPE back in its factory state
bootstraps), any other as "1 BOOT".
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from twisted.internet.defer import Deferred, fail
from twisted.python.failure import Failure
from zope.interface import implementer

from proxier.datamodel.values import DeviceIdentity
from proxier.printer import ews, ipp, ippsource, snmp, snmpreader, sources
from proxier.printer.devicemodel import PrinterModel, PrinterModels
from proxier.printer.events import IPPEvents
from proxier.printer.ippclient import OP_CUPS_ADD_MODIFY_PRINTER, IPPClient, IPPStatusError
from proxier.printer.poller import CHEAP_ATTRIBUTES, Health, IPollObserver, Phase, PollSlots, PrinterPoller
from proxier.printer.settings import DISCOVERY_PROTOCOL, PROXY_PROTOCOL, PrinterSettings
from proxier.proxy.device import DeviceStatus, ProxiedDevice
from proxier.proxy.gate import ActionGate

__all__ = ["PrinterDevice", "IPPTarget", "SERVICE", "QUEUE_LIMIT", "validateState"]

#: The service operations the gate is given (its C{service} argument).
SERVICE = "IPP"
#: Actions waiting for one printer at most (polls and the ACS's requests).
QUEUE_LIMIT = 16
#: What a CUPS queue writes with CUPS-Add-Modify-Printer: the job-template defaults of the demo table.
_CUPS_DEFAULTS = frozenset(path for path, attribute in ippsource.WRITES.items() if attribute.endswith("-default"))


class IPPTarget:
    """
    What the gate calls: one IPP operation, by name, on the printer's
    client; or C{Run}, an exchange with its web server (L{PrinterDevice.inTurn}).
    """

    def __init__(self, client: IPPClient) -> None:
        self.client = client

    def callAction(self, service: str, action: str, arguments: Mapping[str, Any], timeout: float) -> Deferred:
        if action == "Run":
            return arguments["run"]()
        if action == "Get-Printer-Attributes":
            return self.client.getPrinterAttributes(arguments["requested"])
        if action == "Set-Printer-Attributes":
            return self.client.setPrinterAttributes(arguments["attributes"])
        if action == "CUPS-Add-Modify-Printer":
            return self.client.cupsAddModifyPrinter(arguments["attributes"])
        if action == "Restart":
            return self.client.restart(arguments["printer"])
        if action == "Create-Printer-Subscriptions":
            return self.client.createPrinterSubscription(arguments["events"], arguments["lease"])
        if action == "Get-Notifications":
            return self.client.getNotifications(arguments["id"], arguments["sequence"])
        if action == "Renew-Subscription":
            return self.client.renewSubscription(arguments["id"], arguments["lease"])
        if action == "Cancel-Subscription":
            return self.client.cancelSubscription(arguments["id"])
        return fail(ValueError(f"no IPP action {action!r}"))


def _answered(failure: Failure) -> bool:
    """An IPP error status is the printer's answer all the same."""
    return failure.check(IPPStatusError) is not None


class _Attributes:
    """The printer's attributes as last read: a full read, updated by the partial ones since."""

    def __init__(self) -> None:
        self.byName: dict[str, ipp.Attribute] = {}

    def update(self, group: Iterable[ipp.Attribute], requested: Optional[Sequence[str]]) -> None:
        """
        @param requested: the attributes a partial read asked for (those it
            did not get are gone); None for a full read, which replaces all.
        """
        if requested is None:
            self.byName = {}
        else:
            for name in requested:
                self.byName.pop(name, None)
        for attribute in group:
            self.byName[attribute.name] = attribute

    def group(self) -> ipp.AttributeGroup:
        return ipp.AttributeGroup(0x04, self.byName.values())


@implementer(IPollObserver)
class PrinterDevice(PrinterModels, ProxiedDevice):
    """
    @param client: the printer's L{IPPClient}.
    @param store: the device's own store (its tree's state and its boot time).
    @param slots: the fleet's L{PollSlots}.
    @param found: the answer that found the printer (a full Get-Printer-
        Attributes), or None for a printer known from an earlier run.
    @param identify: C{identify(readings)} → the L{DeviceIdentity} a full
        answer's L{Readings<proxier.printer.ippsource.Readings>} name (None
        when they name none).
    @param replaced: C{replaced(device, attributes)} when a full answer
        names another identity: another printer answers at this URL; this
        device stops and hears nothing more.
    @param embedded: the proxier runs on this printer as its own CWMP CPE
        (its model then answers as a CPE does, see L{PrinterModel}).
    @param ewsAdapters: the EWS adapters its model looks it up in (none
        shipped, PRINTERS.md §9).
    @param adminURL: the DNS-SD C{adminurl} of the printer's discovery
        record, for discovery to give: its C{MoreInfoUri} where the printer
        tells no C{printer-more-info}.

    @ivar readings: the PrintService values of the printer's last answers
        (IPP's and, with an SNMP source, SNMP's merged).
    @ivar ippReadings: IPP's alone.
    @ivar ippSettable: the paths IPP can write on this printer (its
        C{printer-settable-attributes-supported}, as last read in full).
    @ivar snmp: its L{SNMPPart<proxier.printer.snmpreader.SNMPPart>}, or None.
    """

    proxyProtocol = PROXY_PROTOCOL
    discoveryProtocol = DISCOVERY_PROTOCOL

    def __init__(self, identity: DeviceIdentity, url: str, client: IPPClient, store: Any, slots: PollSlots,
                 settings: PrinterSettings, clock: Any, *, found: Optional[ipp.AttributeGroup] = None,
                 identify: Optional[Callable[[Any], Optional[DeviceIdentity]]] = None,
                 replaced: Optional[Callable[["PrinterDevice", Any], None]] = None,
                 random: Optional[Callable[[], float]] = None, embedded: bool = False,
                 ewsAdapters: Sequence[Any] = ews.ADAPTERS, adminURL: str = "") -> None:
        # known from an earlier run only: offline until it answers
        super().__init__(identity, DeviceStatus.ONLINE if found is not None else DeviceStatus.OFFLINE)
        self.url = url
        self.client = client
        self.clock = clock
        self.settings = settings
        self.identify = identify
        self.replaced = replaced
        self.adminURL = adminURL
        self.host = client.origin.source
        self.attributes = _Attributes()
        self.readings = self.ippReadings = ippsource.Readings()
        self.ippSettable: frozenset = frozenset()
        self.snmp: Optional[snmpreader.SNMPPart] = None
        self._resetAsked: Optional[str] = None  # Reboot / FactoryReset asked for, until its restart is found
        self._random = random
        self._slots = slots
        self.cupsQueue = False  # its operations-supported lists CUPS-Add-Modify-Printer
        self._problems: frozenset = frozenset()
        self._state = store.document("printer")
        self._bootTime = self._state.load(default={}, validate=validateState).get("bootTime")
        self.gate = ActionGate(self._target, clock, refused=snmpreader.refusedBy(_answered, snmpreader.answered),
                               timeout=settings.requestTimeout,
                               concurrency=1, queueLimit=QUEUE_LIMIT, offlineAfter=settings.offlineAfterFailures,
                               name=str(identity))
        extra = {"random": random} if random is not None else {}
        self.poller = PrinterPoller(self._fetch, self, slots, clock, interval=settings.pollInterval,
                                    fullInterval=settings.fullPollInterval,
                                    offlineAfter=settings.offlineAfterFailures, bootTime=self._bootTime,
                                    log=self.log, **extra)
        self.events = IPPEvents(lambda action, arguments: self.gate.call(SERVICE, action, arguments),
                                self.poller.pollNow, clock, interval=settings.pollInterval,
                                retry=settings.fullPollInterval, log=self.log)
        if found is not None:
            self.poller.seed(found)
            self._read(found, None)
            self._saveBootTime()
        self.modelStore = store
        self.model = PrinterModel(self, store.child("datamodel"), embedded=embedded, adapters=ewsAdapters)
        if found is not None:
            self.lastRead = clock.seconds()

    @property
    def settable(self) -> frozenset:
        """The paths this printer can write, through either protocol."""
        return self.ippSettable | (self.snmp.settable if self.snmp is not None else frozenset())

    @property
    def hasSNMP(self) -> bool:
        return self.snmp is not None

    def _target(self) -> snmpreader.Targets:
        targets: dict[str, Any] = {SERVICE: IPPTarget(self.client)}
        if self.snmp is not None:
            targets[snmpreader.SERVICE] = snmpreader.SNMPTarget(self.snmp.reader)
        return snmpreader.Targets(targets)

    def attachSNMP(self, url: str, reader: snmpreader.SNMPReader,
                   found: Optional[snmpreader.SNMPAnswer] = None) -> None:
        """
        The printer's SNMP entry is this printer: its polls, writes and
        resets join this device (started with it, or at once when it runs).
        """
        if self.snmp is not None:
            raise RuntimeError(f"{self.identity} has an SNMP source already")
        extra = {"random": self._random} if self._random is not None else {}
        self.snmp = snmpreader.SNMPPart(
            url, reader, lambda action, arguments, timeout: self.gate.call(snmpreader.SERVICE, action, arguments,
                                                                             timeout=timeout),
            self._slots, self.settings, self.clock, self, self.log, found=found, **extra)
        self.log.info("its SNMP agent at {where} is the same printer: one device", where=reader.where)
        self._merge()
        self.refreshModels()
        if self.poller.phase is not Phase.STOPPED:
            self.snmp.start()

    def _merge(self) -> None:
        self.readings = sources.merge(self.ippReadings, self.snmp.readings if self.snmp is not None else None)

    # -- the polls ------------------------------------------------------------------------

    def start(self) -> None:
        self.poller.start()
        self.events.start()
        if self.snmp is not None:
            self.snmp.start()

    def stop(self) -> Deferred:
        """
        No more polls; what waits for the printer is dropped, and its event
        subscription cancelled.

        @return: a Deferred firing (never failing) once the printer answered
            the cancellation, or could not.
        """
        if self.poller.phase is not Phase.STOPPED:
            self.poller.stop()
        if self.snmp is not None:
            self.snmp.stop()
        self.gate.cancelAll("the device stops")
        return self.events.stop()

    def _fetch(self, full: bool) -> Deferred:
        requested = ("all",) if full else CHEAP_ATTRIBUTES
        return self.gate.call(SERVICE, "Get-Printer-Attributes", {"requested": requested})

    def _read(self, attributes: Any, requested: Optional[Sequence[str]],
              readings: Optional[ippsource.Readings] = None) -> None:
        """
        Take an answer (to C{requested}; None: a full read): the attributes
        merged, the readings made again, their problems logged once.

        @param readings: a full answer's readings when they are made
            already (a full read replaces every attribute: they are the
            merged attributes' too).
        """
        self.attributes.update(attributes, requested)
        group = self.attributes.group()
        if readings is None or requested is not None:
            readings = ippsource.read(group, self.adminURL)
        self.ippReadings = readings
        self._merge()
        if requested is None:
            self.cupsQueue = OP_CUPS_ADD_MODIFY_PRINTER in group.getAll("operations-supported")
            self.ippSettable = ippsource.settablePaths(group) | (_CUPS_DEFAULTS if self.cupsQueue else frozenset())
        problems = frozenset(self.readings.problems)
        for problem in sorted(problems - self._problems):
            self.log.info("left out: {problem}", problem=problem)
        self._problems = problems

    # -- IPollObserver ----------------------------------------------------------------------

    def polled(self, attributes: Any, full: bool) -> None:
        readings = None
        if full and self.identify is not None and self.replaced is not None:
            readings = ippsource.read(attributes, self.adminURL)  # made once: the identity's, then the device's
            identity = self.identify(readings)
            if identity is not None and identity != self.identity:
                self.stop()
                self.replaced(self, attributes)
                return
        self._read(attributes, None if full else CHEAP_ATTRIBUTES, readings)
        self._saveBootTime()
        self.refreshModels()

    def silent(self, reason: str) -> None:
        if self.snmp is None or self.snmp.poller.health is Health.OFFLINE:
            self._moveTo(DeviceStatus.OFFLINE, reason)
        else:
            self.log.info("IPP does not answer ({reason}); SNMP does: online", reason=reason)

    def answering(self) -> None:
        self._moveTo(DeviceStatus.ONLINE)

    def restarted(self, expected: bool) -> None:
        factoryReset = expected and self._resetAsked == "FactoryReset"
        self._resetAsked = None
        self._restarted(expected, factoryReset, "printer-up-time")

    def _restarted(self, expected: bool, factoryReset: bool, seen: str) -> None:
        if factoryReset:
            self.log.info("back from the factory reset asked for: \"0 BOOTSTRAP\" follows")
            self._tellFactoryReset()
        else:
            self.log.info("restarted ({why}): \"1 BOOT\" follows", why="as asked" if expected else seen)
            self._tellBooted()

    # -- its SNMP part's news ---------------------------------------------------------------

    def snmpPolled(self) -> None:
        self._merge()
        self.refreshModels()

    def snmpSilent(self, reason: str) -> None:
        if self.poller.health is Health.OFFLINE:
            self._moveTo(DeviceStatus.OFFLINE, reason)
        else:
            self.log.info("SNMP does not answer ({reason}); IPP does: online", reason=reason)

    def snmpAnswering(self) -> None:
        self._moveTo(DeviceStatus.ONLINE)

    def snmpRestarted(self, expected: bool, factoryReset: bool) -> None:
        if self.attributes.byName.get("printer-up-time") is not None:
            return  # printer-up-time tells the same restart: one event
        self._resetAsked = None
        self._restarted(expected, factoryReset, "sysUpTime")

    def _saveBootTime(self) -> None:
        bootTime = self.poller.bootTime
        if bootTime is not None and bootTime != self._bootTime:
            self._state.save({"bootTime": bootTime})
            self._bootTime = bootTime

    # -- what the model asks ------------------------------------------------------------------

    def restartOffered(self) -> bool:
        return self._ippRestart() or self.factoryResetOffered()

    def _ippRestart(self) -> bool:
        return IPPClient.restartOperation(self.attributes.group()) is not None

    def factoryResetOffered(self) -> bool:
        """prtGeneralReset took a SET (IPP has no factory reset)."""
        return self.snmp is not None and self.snmp.resetOffered

    def factoryReset(self) -> Deferred:
        """prtGeneralReset resetToFactoryDefaults; its restart, found next, is "0 BOOTSTRAP"."""
        assert self.snmp is not None

        def sent(_: Any) -> None:
            self._resetAsked = "FactoryReset"
            self.poller.expectRestart()
            self.poller.pollNow()

        return self.snmp.reset("FactoryReset").addCallback(sent)

    def writeProtocol(self, path: str) -> Optional[str]:
        """Which protocol writes C{path} on this printer (None: neither)."""
        return sources.writeProtocol(path, self.ippSettable, self.snmp.settable if self.snmp is not None else ())

    def writeSNMP(self, varBinds: Sequence[snmp.VarBind]) -> Deferred:
        """SET and read back through SNMP; fires with SNMP's readings read back, merged into the device's."""
        assert self.snmp is not None

        def readBack(readings: ippsource.Readings) -> ippsource.Readings:
            self._merge()
            return readings

        return self.snmp.write(varBinds).addCallback(readBack)

    def reboot(self) -> Deferred:
        """
        Restart-Printer / Restart-System, else prtGeneralReset
        powerCycleReset; the restart is found by the polls that follow.
        """
        if not self._ippRestart() and self.snmp is not None:
            d = self.snmp.reset("Reboot")
        else:
            d = self.gate.call(SERVICE, "Restart", {"printer": self.attributes.group()})

        def sent(_: Any) -> None:
            self._resetAsked = "Reboot"
            self.poller.expectRestart()
            self.poller.pollNow()

        return d.addCallback(sent)

    def write(self, attributes: Sequence[ipp.Attribute]) -> Deferred:
        """
        Set-Printer-Attributes — for a job-template default of a CUPS
        queue, CUPS-Add-Modify-Printer (cupsd lists no C{*-default} as
        settable: PRINTERS.md §4) — then the same attributes read back (one
        gate turn each); fires with the read-back attributes, also taken as
        the device's readings.
        """
        names = [a.name for a in attributes]
        cups = self.cupsQueue and all(name.endswith("-default") for name in names)
        operation = "CUPS-Add-Modify-Printer" if cups else "Set-Printer-Attributes"
        d = self.gate.call(SERVICE, operation, {"attributes": list(attributes)})
        d.addCallback(lambda _: self.gate.call(SERVICE, "Get-Printer-Attributes", {"requested": names}))

        def readBack(group: Any) -> Any:
            self._read(group, names)
            return group

        return d.addCallback(readBack)

    def inTurn(self, run: Callable[[], Deferred]) -> Deferred:
        """C{run()}, an exchange with the printer's web server, in the printer's turn at its gate."""
        return self.gate.call(SERVICE, "Run", {"run": run})

    def ewsClient(self, base: str) -> ews.EWSClient:
        """The client of its web server at C{base}: its IPP client's requester, origin and credentials."""
        return ews.EWSClient(base, self.client.requester, self.client.origin, credentials=self.client.credentials,
                             timeout=self.settings.requestTimeout)


def validateState(payload: Any) -> None:
    """A printer device's own state: its boot time."""
    if not isinstance(payload, dict):
        raise ValueError("not a mapping")
    bootTime = payload.get("bootTime")
    if bootTime is not None and not isinstance(bootTime, (int, float)):
        raise ValueError("bootTime is not a number")
