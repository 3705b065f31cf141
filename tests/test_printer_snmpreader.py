# -*- test-case-name: tests.test_printer_snmpreader -*-
"""
Tests for L{proxier.printer.snmpreader}: the SNMP polls of one printer
against an in-memory agent serving the MFP 4000 recording (fed back through
C{datagramReceived} on a L{task.Clock}), the up-time's wrap and restart
through the real L{PrinterPoller} ("1 BOOT"), writes read back, resets.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import task
from twisted.trial import unittest
from zope.interface import implementer

from proxier.printer import mib, snmp, snmpsource
from proxier.printer.ippsource import DESCRIPTION, STATUS, SUPPLY
from proxier.printer.poller import IPollObserver, PollSlots, PrinterPoller
from proxier.printer.snmp import Value
from proxier.printer.snmpclient import SNMPClient, SNMPNotWritten, SNMPProtocol, SNMPTimeout
from proxier.printer.snmpreader import SERVICE, SNMPReader, SNMPTarget, Targets, answered, refusedBy
from proxier.sim.snmpagent import SNMPAgent
from tests import _snmprec
from tests.test_printer_snmpclient import AGENT, FakeTransport

CONTACT = mib.OID["sysContact"] + (0,)
LOCATION = mib.OID["sysLocation"] + (0,)
CHANGES = mib.OID["prtGeneralConfigChanges"] + (1,)
RESET = mib.OID["prtGeneralReset"] + (1,)


def recorded(name: str = "printer-mfp4000.snmprec") -> dict[tuple[int, ...], Value]:
    """The recording's values with their BER tags (snmprec tags are the tag numbers, writecache aside)."""
    values = {}
    with open(os.path.join(_snmprec.FIXTURES, name), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                oid, tag, text = line.rstrip("\n").split("|", 2)
                number = int(tag.partition(":")[0].rstrip("x"))
                values[snmp.parseOID(oid)] = Value(number, _snmprec.value(tag, text))
    return values


class ReaderTestsMixin:
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.protocol = SNMPProtocol(self.clock, firstRequestId=1)
        self.transport = FakeTransport(self.clock, self.protocol)
        self.protocol.makeConnection(self.transport)  # type: ignore[arg-type]
        self.agent = SNMPAgent(recorded(), writable=(CONTACT, RESET), seconds=self.clock.seconds)
        self.transport.agents[AGENT] = self.agent
        self.client = SNMPClient(self.protocol, *AGENT, writeCommunity=b"private", timeout=1.0, retries=1)
        self.reader = SNMPReader(self.client, self.clock)

    def result(self, d: Any) -> Any:
        self.clock.advance(0)
        return self.successResultOf(d)  # type: ignore[attr-defined]

    def set(self, oid: tuple[int, ...], value: Any, tag: int = snmp.INTEGER) -> None:
        self.agent.values[oid] = Value(tag, value)


class PollTests(ReaderTestsMixin, unittest.TestCase):
    def test_full(self) -> None:
        """A full poll walks every subtree snmpsource reads: its readings are the recording's."""
        answer = self.result(self.reader.fetch(True))
        self.assertEqual(answer.readings(), snmpsource.read(_snmprec.load("printer-mfp4000.snmprec")))
        self.assertEqual(answer.get("printer-up-time"), 86400)
        self.assertEqual(answer.get("printer-config-change-time"), 12)
        self.assertIsNone(answer.get("printer-state-change-time"))

    def test_cheap(self) -> None:
        """A cheap poll GETs the state and the change counter and walks the supplies: little, and over the last walk."""
        self.result(self.reader.fetch(True))
        before = len(self.agent.requests)
        supply = mib.OID["prtMarkerSuppliesLevel"] + (1, 1)
        self.set(supply, 7)
        self.set(mib.OID["hrPrinterStatus"] + (1,), 4)  # printing
        self.set(LOCATION, b"moved", snmp.OCTET_STRING)  # a configuration change: not read by a cheap poll
        answer = self.result(self.reader.fetch(False))
        readings = answer.readings()
        self.assertEqual(readings.values[STATUS + "State"], "Processing")
        self.assertEqual(readings.rows[SUPPLY][(1, 1)]["MarkerSupplyDescription.MarkerSupplyCurrentLevel"], 7)
        self.assertEqual(readings.values[DESCRIPTION + "ServiceLocation"], "Building A, Floor 2, Copy Room")
        self.assertLessEqual(len(self.agent.requests) - before, 6)
        walked = {b.oid for r in self.agent.requests[before:] for b in r.pdu.varBinds}
        self.assertNotIn(mib.OID["system"], walked)

    def test_cheapGone(self) -> None:
        """A supply no longer walked, an object no longer answered: gone from the readings."""
        self.result(self.reader.fetch(True))
        for oid in [o for o in self.agent.values if snmp.inSubtree(o, mib.OID["prtMarkerSuppliesEntry"])
                    and o[-1] == 2]:
            del self.agent.values[oid]
        del self.agent.values[mib.OID["hrPrinterDetectedErrorState"] + (1,)]
        answer = self.result(self.reader.fetch(False))
        self.assertNotIn((1, 2), answer.readings().rows[SUPPLY])
        self.assertNotIn(mib.OID["hrPrinterDetectedErrorState"] + (1,), answer.varbinds)

    def test_silent(self) -> None:
        """No answer: the poll fails (the poller counts it)."""
        self.transport.silent = True
        d = self.reader.fetch(True)
        self.clock.pump([1.0] * 3)
        self.failureResultOf(d, SNMPTimeout)

    def test_upTimeWrap(self) -> None:
        """sysUpTime's wrap after 2**32 ticks is counted, not taken for a restart."""
        self.agent.booted = self.clock.seconds() - (2**32 - 100) / 100
        self.assertEqual(self.result(self.reader.fetch(True)).get("printer-up-time"), (2**32 - 100) // 100)
        self.clock.advance(60)
        self.assertEqual(self.result(self.reader.fetch(False)).get("printer-up-time"), (2**32 + 5900) // 100)
        self.clock.advance(60)
        self.agent.restart()
        self.assertEqual(self.result(self.reader.fetch(False)).get("printer-up-time"), 0)


@implementer(IPollObserver)
class Observer:
    def __init__(self) -> None:
        self.heard: list[Any] = []

    def polled(self, attributes: Any, full: bool) -> None:
        self.heard.append(("polled", full))

    def silent(self, reason: str) -> None:
        self.heard.append(("silent",))

    def answering(self) -> None:
        self.heard.append(("answering",))

    def restarted(self, expected: bool) -> None:
        self.heard.append(("restarted", expected))


class PollerTests(ReaderTestsMixin, unittest.TestCase):
    """The reader as the fetch of the printer poller IPP devices have."""

    def poller(self) -> tuple[PrinterPoller, Observer]:
        observer = Observer()
        poller = PrinterPoller(self.reader.fetch, observer, PollSlots(1), self.clock, interval=60, fullInterval=900,
                               offlineAfter=2, random=lambda: 0.0)
        poller.start()
        self.clock.advance(0)
        return poller, observer

    def test_restart(self) -> None:
        """sysUpTime going back is a restart: "1 BOOT" (restarted), then the full walk."""
        poller, observer = self.poller()
        self.assertEqual(observer.heard, [("polled", True), ("answering",)])
        self.clock.advance(60)
        self.assertEqual(observer.heard[-1], ("polled", False))
        self.agent.restart()
        del observer.heard[:]
        self.clock.advance(60)
        self.assertEqual(observer.heard, [("restarted", False), ("polled", True)])
        poller.stop()

    def test_configChanged(self) -> None:
        """prtGeneralConfigChanges moved: the cheap poll is followed at once by a full walk."""
        poller, observer = self.poller()
        self.set(CHANGES, 13, snmp.COUNTER32)
        del observer.heard[:]
        self.clock.advance(60)
        self.assertEqual(observer.heard, [("polled", True)])
        poller.stop()

    def test_offline(self) -> None:
        """Polls without an answer: silent once, after offlineAfter of them."""
        poller, observer = self.poller()
        self.transport.silent = True
        del observer.heard[:]
        for _ in range(4):
            self.clock.pump([60.0] + [1.0] * 3)
        self.assertEqual(observer.heard, [("silent",)])
        poller.stop()


class WriteTests(ReaderTestsMixin, unittest.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.result(self.reader.fetch(True))

    def test_written(self) -> None:
        """A SET then a GET of the same object: the readings read back."""
        varBinds = snmpsource.encodeWrites({DESCRIPTION + "OwnerVCard": "ops@example.org"})
        readings = self.result(self.reader.write(varBinds))
        self.assertEqual(readings.values[DESCRIPTION + "OwnerVCard"], "ops@example.org")
        self.assertEqual([r.pdu.tag for r in self.agent.requests[-2:]], [snmp.SET, snmp.GET])
        self.assertEqual(self.reader.varbinds[CONTACT], b"ops@example.org")

    def test_notWritten(self) -> None:
        """snmpsim's answer to a read-only object (noSuchInstance, status 0): read back, then SNMPNotWritten."""
        varBinds = snmpsource.encodeWrites({DESCRIPTION + "ServiceLocation": "elsewhere"})
        d = self.reader.write(varBinds)
        self.clock.advance(0)
        self.failureResultOf(d, SNMPNotWritten)
        self.assertEqual(self.agent.requests[-1].pdu.tag, snmp.GET)
        self.assertEqual(self.reader.varbinds[LOCATION], b"Building A, Floor 2, Copy Room")

    def test_reset(self) -> None:
        """Reboot sets prtGeneralReset to powerCycleReset(4), FactoryReset to resetToFactoryDefaults(6)."""
        self.result(self.reader.reset("Reboot"))
        self.assertEqual(self.agent.values[RESET], Value(snmp.INTEGER, 4))
        self.result(self.reader.reset("FactoryReset"))
        self.assertEqual(self.agent.values[RESET], Value(snmp.INTEGER, 6))


class TargetTests(ReaderTestsMixin, unittest.TestCase):
    def test_dispatch(self) -> None:
        """The gate's target: SNMP actions to the reader, other services to theirs, unknown ones refused."""
        calls = []

        class Other:
            def callAction(self, service: str, action: str, arguments: Any, timeout: float) -> Any:
                calls.append((service, action))
                return "ipp"

        targets = Targets({SERVICE: SNMPTarget(self.reader), "IPP": Other()})
        answer = self.result(targets.callAction(SERVICE, "Fetch", {"full": True}, 10))
        self.assertEqual(answer.get("printer-up-time"), 86400)
        self.assertEqual(targets.callAction("IPP", "Get-Printer-Attributes", {}, 10), "ipp")
        self.failureResultOf(targets.callAction("LPD", "x", {}, 10), ValueError)
        self.failureResultOf(targets.callAction(SERVICE, "x", {}, 10), ValueError)

    def test_answered(self) -> None:
        """An error-status or a SET not written is the printer's answer; a timeout is not."""
        d = self.reader.write(snmpsource.encodeWrites({DESCRIPTION + "ServiceLocation": "x"}))
        self.clock.advance(0)
        self.assertTrue(answered(self.failureResultOf(d)))
        self.transport.silent = True
        d = self.reader.fetch(False)
        self.clock.pump([1.0] * 3)
        failure = self.failureResultOf(d)
        self.assertFalse(answered(failure))
        self.assertTrue(refusedBy(lambda f: False, lambda f: True)(failure))
