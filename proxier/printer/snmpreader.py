# -*- test-case-name: tests.test_printer_snmpreader -*-
"""
The SNMP side of one printer (PRINTERS.md §5, §6): its polls, its writes
with their read-back, and its resets — each one turn of the printer's one
gate, so a SET and its read-back are never split by a poll (or an IPP
operation of the same printer).

    PrinterPoller ──fetch(full)──▶ gate ──"SNMP" Fetch──▶ SNMPReader.fetch ──▶ SNMPClient
                                        ──"SNMP" Write──▶ SNMPReader.write (SET, then GET back)
                                        ──"SNMP" Reset──▶ SNMPReader.reset (SET prtGeneralReset)
                                        ──"SNMP" Probe──▶ SNMPReader.probe (which SETs are accepted)

A cheap poll GETs sysUpTime, hrPrinterStatus, hrDeviceStatus,
hrPrinterDetectedErrorState and prtGeneralConfigChanges and walks the
supplies and the marker life counts; a full poll walks every subtree
L{snmpsource.read} looks in, each walk bounded by the client's rows and
time. The answer (L{SNMPAnswer}) is the printer's last full walk updated by
the cheap reads since, in the vocabulary L{PrinterPoller} knows:
C{printer-up-time} is sysUpTime in seconds — unwrapped, so that its wrap
after 2**32 ticks (~497 days) is not taken for a restart, while a restart
(L{snmpsource.restarted}) still makes it go back: "1 BOOT" — and
C{printer-config-change-time} is prtGeneralConfigChanges, so that a
moved counter makes the poller walk in full at once.

L{SNMPPart} is that side on a device: its poller, its readings, what the
agent let us set (probed once walked), told to the device that owns it —
an L{SNMPPrinterDevice<proxier.printer.snmpdevice.SNMPPrinterDevice>}, or
the IPP L{PrinterDevice<proxier.printer.device.PrinterDevice>} of the same
printer.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from twisted.internet.defer import Deferred, fail, inlineCallbacks
from zope.interface import implementer

from proxier.printer import mib, snmp, snmpsource
from proxier.printer.ippsource import Readings
from proxier.printer.poller import IPollObserver, Phase, PollSlots, PrinterPoller
from proxier.printer.settings import PrinterSettings
from proxier.printer.snmpclient import (
    NoAccess, NoSuchName, NotWritable, ReadOnly, SNMPClient, SNMPNotWritten, SNMPStatusError,
)

__all__ = ["SERVICE", "PROBED", "CHEAP_SCALARS", "CHEAP_SUBTREES", "SNMPAnswer", "SNMPReader", "SNMPTarget", "Targets",
           "answered", "refusedBy", "notWritable", "SNMPPart"]

#: The gate's service name of SNMP actions.
SERVICE = "SNMP"
#: The objects a cheap poll GETs (instance: hrDeviceIndex, except sysUpTime.0).
CHEAP_SCALARS = ("hrPrinterStatus", "hrDeviceStatus", "hrPrinterDetectedErrorState", "prtGeneralConfigChanges")
#: The subtrees a cheap poll walks: what changes by itself.
CHEAP_SUBTREES = ("prtMarkerSuppliesTable", "prtMarkerLifeCount")
#: The objects whose SET is tried once the printer is walked (L{SNMPReader.probe}).
PROBED = tuple(snmpsource.WRITES.values()) + ("prtGeneralReset",)
_SYSTEM = frozenset(("sysContact", "sysLocation"))
_UPTIME = mib.OID["sysUpTime"] + (0,)
_TICKS = 2**32


def notWritable(error: BaseException) -> bool:
    """
    Whether a SET's failure says the object is not writable (9008) rather
    than that the write failed (9001): notWritable, readOnly, noAccess, v1's
    noSuchName, or snmpsim's noSuchInstance under status 0.
    """
    return isinstance(error, (SNMPNotWritten, NotWritable, ReadOnly, NoAccess, NoSuchName))


def answered(failure: Any) -> bool:
    """An SNMP error-status, or a SET answered with exceptions, is the printer's answer all the same."""
    return failure.check(SNMPStatusError, SNMPNotWritten) is not None


class SNMPAnswer:
    """
    A poll's answer: the varbinds (instance OID -> plain value) as last
    read, and what the poller asks of it with C{get(name)}.
    """

    def __init__(self, varbinds: Mapping[tuple[int, ...], Any], upTime: Optional[int], device: int) -> None:
        self.varbinds = dict(varbinds)
        self.upTime = upTime
        self.device = device

    def get(self, name: str) -> Any:
        if name == "printer-up-time":
            return self.upTime
        if name == "printer-config-change-time":
            return self.varbinds.get(mib.OID["prtGeneralConfigChanges"] + (self.device,))
        return None

    def readings(self) -> Any:
        """The PrintService values of this answer (L{snmpsource.read})."""
        return snmpsource.read(self.varbinds, self.device)


class SNMPReader:
    """
    @param client: the printer's L{SNMPClient}.
    @param clock: for the up-time's unwrapping (seconds between answers).
    """

    def __init__(self, client: SNMPClient, clock: Any) -> None:
        self.client = client
        self.clock = clock
        self.device = 1  # hrDeviceIndex: the Printer-MIB examples' until a full walk tells
        self.varbinds: dict[tuple[int, ...], Any] = {}
        self._ticks: Optional[int] = None  # the last sysUpTime and when it was read
        self._at = 0.0
        self._wraps = 0

    @property
    def where(self) -> str:
        """The agent's address and port, for log lines (never its community)."""
        return f"{self.client.host}:{self.client.port}"

    # -- polls -----------------------------------------------------------------------------

    @inlineCallbacks
    def fetch(self, full: bool) -> Any:
        """One poll: an L{SNMPAnswer} (the walk is taken only once every part of it answered)."""
        if full:
            found: dict[tuple[int, ...], Any] = {}
            for subtree in snmpsource.SUBTREES:
                rows = yield self.client.walk(subtree)
                found.update(snmpsource.plain(rows))
            self.device = snmpsource.printerIndex(found) or 1
            self.varbinds = found
        else:
            oids = [_UPTIME] + [mib.OID[name] + (self.device,) for name in CHEAP_SCALARS]
            got = yield self.client.get(oids)
            walked = {}
            for name in CHEAP_SUBTREES:
                walked[mib.OID[name]] = yield self.client.walk(mib.OID[name])
            for subtree, rows in walked.items():
                for oid in [o for o in self.varbinds if snmp.inSubtree(o, subtree)]:
                    del self.varbinds[oid]
                self.varbinds.update(snmpsource.plain(rows))
            self._take(got)
        return SNMPAnswer(self.varbinds, self._upTime(self.varbinds.get(_UPTIME)), self.device)

    def _take(self, bindings: Iterable[snmp.VarBind]) -> None:
        """GET answers over the last walk: a missing object (an exception) is gone."""
        for binding in bindings:
            if binding.value.isException:
                self.varbinds.pop(binding.oid, None)
            else:
                self.varbinds.update(snmpsource.plain([binding]))

    def _upTime(self, ticks: Any) -> Optional[int]:
        """sysUpTime in seconds, counting its wraps; after a restart it goes back as the printer's did."""
        if not isinstance(ticks, int) or isinstance(ticks, bool):
            return None
        now = self.clock.seconds()
        if self._ticks is not None and ticks < self._ticks:
            if snmpsource.restarted(self._ticks // 100, ticks // 100, now - self._at):
                self._wraps = 0
            else:
                self._wraps += 1
        self._ticks, self._at = ticks, now
        return (ticks + self._wraps * _TICKS) // 100

    # -- writes ----------------------------------------------------------------------------

    @inlineCallbacks
    def write(self, varBinds: Sequence[snmp.VarBind]) -> Any:
        """
        SET with the write community, then GET of the same objects (the
        read-back PRINTERS.md §5 asks for, through the protocol that
        wrote); fires with the readings of the last walk updated by it.
        A SET answered with exceptions under status 0 (snmpsim's answer to
        a read-only object) is still read back, then fails with
        L{SNMPNotWritten}: the caller tells what did not take.
        """
        refused: Optional[SNMPNotWritten] = None
        try:
            yield self.client.set(varBinds)
        except SNMPNotWritten as e:
            refused = e
        got = yield self.client.get([b.oid for b in varBinds])
        self._take(got)
        if refused is not None:
            raise refused
        return snmpsource.read(self.varbinds, self.device)

    @inlineCallbacks
    def probe(self) -> Any:
        """
        Which of L{PROBED} this printer lets the write community set
        (PRINTERS.md §5: a SET accepted at probe time): each one the last
        walk read is SET to the value it has (for prtGeneralReset that is
        notResetting(3), which RFC 3805 says has no effect); fires with the
        names accepted. A SET refused (an error-status, or exceptions under
        status 0) is an object not writable; no answer fails the probe.
        """
        writable = set()
        for name in PROBED:
            oid = mib.OID[name] + ((0,) if name in _SYSTEM else (self.device,))
            value = self.varbinds.get(oid)
            if isinstance(value, bytes):
                binding = snmp.VarBind(oid, snmp.Value(snmp.OCTET_STRING, value))
            elif isinstance(value, int) and not isinstance(value, bool):
                binding = snmp.VarBind(oid, snmp.Value(snmp.INTEGER, value))
            else:
                continue
            try:
                yield self.client.set([binding])
            except (SNMPStatusError, SNMPNotWritten):
                continue
            writable.add(name)
        return frozenset(writable)

    def reset(self, rpc: str) -> Deferred:
        """SET prtGeneralReset for C{rpc} (L{snmpsource.RESETS}: Reboot, FactoryReset)."""
        return self.client.set([snmpsource.resetWrite(rpc, self.device)])


class SNMPTarget:
    """What the gate calls for C{SNMP} actions: Fetch, Write, Reset on the printer's L{SNMPReader}."""

    def __init__(self, reader: SNMPReader) -> None:
        self.reader = reader

    def callAction(self, service: str, action: str, arguments: Mapping[str, Any], timeout: float) -> Deferred:
        if action == "Fetch":
            return self.reader.fetch(arguments["full"])
        if action == "Write":
            return self.reader.write(arguments["varBinds"])
        if action == "Reset":
            return self.reader.reset(arguments["rpc"])
        if action == "Probe":
            return self.reader.probe()
        return fail(ValueError(f"no SNMP action {action!r}"))


class Targets:
    """One gate for every protocol of a printer: each action goes to its service's target."""

    def __init__(self, targets: Mapping[str, Any]) -> None:
        self.targets = dict(targets)

    def callAction(self, service: str, action: str, arguments: Mapping[str, Any], timeout: float) -> Deferred:
        target = self.targets.get(service)
        if target is None:
            return fail(ValueError(f"no {service} on this printer"))
        return target.callAction(service, action, arguments, timeout)


def refusedBy(*checks: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """A gate's C{refused}: a failure any protocol counts as its printer's answer."""
    return lambda failure: any(check(failure) for check in checks)


@implementer(IPollObserver)
class SNMPPart:
    """
    @param call: C{call(action, arguments, timeout)} → Deferred: an
        L{SNMPTarget} action in the owner's gate.
    @param owner: told C{snmpPolled()}, C{snmpSilent(reason)},
        C{snmpAnswering()}, C{snmpRestarted(expected, factoryReset)}
        (C{factoryReset}: the restart is the factory reset the proxier asked for).
    @param found: the full answer that found the printer, or None (known
        from an earlier run: nothing read yet).
    @param bootTime: the boot time kept from an earlier run.

    @ivar readings: the PrintService values of its last answer (None
        before one).
    @ivar writable: the objects of L{snmpreader.PROBED} it let us set.
    """

    def __init__(self, url: str, reader: SNMPReader, call: Callable[..., Deferred], slots: PollSlots,
                 settings: PrinterSettings, clock: Any, owner: Any, log: Any, *,
                 found: Optional[SNMPAnswer] = None, bootTime: Optional[float] = None,
                 random: Optional[Callable[[], float]] = None) -> None:
        self.url = url
        self.reader = reader
        self.call = call
        self.owner = owner
        self.log = log
        self.settings = settings
        self.readings: Optional[Readings] = found.readings() if found is not None else None
        self.writable: frozenset = frozenset()
        self._probing = False
        self._probed = False
        self._asked: Optional[str] = None  # the reset last asked for (RESETS), until the restart is found
        extra = {"random": random} if random is not None else {}
        self.poller = PrinterPoller(self._fetch, self, slots, clock, interval=settings.pollInterval,
                                    fullInterval=settings.fullPollInterval,
                                    offlineAfter=settings.offlineAfterFailures, bootTime=bootTime, log=log, **extra)
        if found is not None:
            self.poller.seed(found)

    @property
    def settable(self) -> frozenset:
        """The paths SNMP can write on this printer."""
        return snmpsource.settablePaths(self.writable)

    @property
    def resetOffered(self) -> bool:
        return "prtGeneralReset" in self.writable

    def start(self) -> None:
        self.poller.start()
        if self.readings is not None:
            self._probe()

    def stop(self) -> None:
        if self.poller.phase is not Phase.STOPPED:
            self.poller.stop()

    def _fetch(self, full: bool) -> Deferred:
        # a full walk is many requests: bounded by the client's walk time rather than one request's
        timeout = self.reader.client.walkTimeout if full else None
        return self.call("Fetch", {"full": full}, timeout)

    def _probe(self) -> None:
        if self._probed or self._probing:
            return
        self._probing = True

        def probed(names: frozenset) -> None:
            self._probed = True
            if names != self.writable:
                self.log.info("SNMP sets accepted: {names}", names=", ".join(sorted(names)) or "none")
            self.writable = names
            self.owner.snmpPolled()

        def failed(failure: Any) -> None:
            self.log.info("the SNMP write probe got no answer ({why}); again after the next full walk",
                          why=failure.getErrorMessage())

        d = self.call("Probe", {}, None)
        d.addCallbacks(probed, failed)
        d.addBoth(lambda _: setattr(self, "_probing", False))

    # -- IPollObserver ------------------------------------------------------------------------

    def polled(self, attributes: SNMPAnswer, full: bool) -> None:
        self.readings = attributes.readings()
        self.owner.snmpPolled()
        if full:
            self._probe()

    def silent(self, reason: str) -> None:
        self.owner.snmpSilent(reason)

    def answering(self) -> None:
        self.owner.snmpAnswering()

    def restarted(self, expected: bool) -> None:
        factoryReset = expected and self._asked == "FactoryReset"
        self._asked = None
        self.owner.snmpRestarted(expected, factoryReset)

    # -- writes ----------------------------------------------------------------------------

    def write(self, varBinds: Sequence[snmp.VarBind]) -> Deferred:
        """SET and read back (one gate turn); fires with the readings read back, also taken as its readings."""
        def readBack(readings: Readings) -> Readings:
            self.readings = readings
            return readings

        return self.call("Write", {"varBinds": list(varBinds)}, None).addCallback(readBack)

    def reset(self, rpc: str) -> Deferred:
        """prtGeneralReset for C{rpc}; the restart that follows is found by the polls, as the one asked for."""
        def sent(_: Any) -> None:
            self._asked = rpc
            self.poller.expectRestart()
            self.poller.pollNow()

        return self.call("Reset", {"rpc": rpc}, None).addCallback(sent)
