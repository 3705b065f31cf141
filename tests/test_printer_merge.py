# -*- test-case-name: tests.test_printer_merge -*-
"""
Tests for L{proxier.printer.sources}: which sources are one printer
(PRINTERS.md §8), which source each row comes from when both answer (§4),
and which protocol writes a path (§5) — on the recorded MFP 4000 answers of
both protocols.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.printer import ippsource, snmpsource, sources
from proxier.printer.ippsource import DESCRIPTION, INPUT_TRAY, STATE_REASONS, STATUS, SUPPLY, Readings
from proxier.printer.sources import IPP, SNMP, MatchKeys, matchKeys, merge, samePrinter, writeProtocol
from tests import _snmprec

CONTACT = DESCRIPTION + "OwnerVCard"
LOCATION = DESCRIPTION + "ServiceLocation"


def snmpReadings() -> Readings:
    return snmpsource.read(_snmprec.load("printer-mfp4000.snmprec"))


def ippReadings(**values: object) -> Readings:
    readings = Readings(identity=ippsource.Identity("ExampleCo", "MFP 4000", "MFP 4000", "EXC4K-2024-000123",
                                                    "2.11.3", 5))
    readings.values.update({STATUS + "SerialNumber": "EXC4K-2024-000123", STATUS + "State": "Idle",
                            STATUS + "ServiceUuid": "urn:uuid:0AA0", LOCATION: "Room 12 (IPP)", **values})
    readings.rows[SUPPLY] = {(1, 1): {"MarkerSupplyDescription.MarkerSupplyCurrentLevel": 40}}
    readings.problems.append("printer-foo: odd")
    return readings


class MatchTests(unittest.TestCase):
    def test_keys(self) -> None:
        """IPP tells its UUID and serial number; SNMP its serial number and MAC; fallbacks are no keys."""
        self.assertEqual(matchKeys(ippReadings()), MatchKeys("urn:uuid:0aa0", "EXC4K-2024-000123", ""))
        self.assertEqual(matchKeys(snmpReadings()), MatchKeys("", "EXC4K-2024-000123", "00:02:a5:c0:ff:ee"))
        self.assertEqual(matchKeys(None), MatchKeys())
        uuidOnly = Readings(identity=ippsource.Identity("", "", "", "0aa0", "", None))  # serial from the UUID
        self.assertEqual(matchKeys(uuidOnly).serial, "")

    def test_order(self) -> None:
        """The first kind both tell decides: UUID, then serial number, then MAC."""
        self.assertTrue(samePrinter(MatchKeys("u1", "s1", "m1"), MatchKeys("u1", "s2", "m2")))
        self.assertFalse(samePrinter(MatchKeys("u1", "s1", "m1"), MatchKeys("u2", "s1", "m1")))
        self.assertTrue(samePrinter(MatchKeys("u1", "s1", ""), MatchKeys("", "s1", "m1")))
        self.assertFalse(samePrinter(MatchKeys("u1", "s1", "m1"), MatchKeys("", "s2", "m1")))
        self.assertTrue(samePrinter(MatchKeys("", "", "m1"), MatchKeys("u2", "", "m1")))
        self.assertFalse(samePrinter(MatchKeys("u1", "", ""), MatchKeys("", "s1", "m1")))
        self.assertFalse(samePrinter(MatchKeys(), MatchKeys()))

    def test_recordings(self) -> None:
        """The MFP 4000 seen by IPP and by SNMP is one printer (by its serial number)."""
        self.assertTrue(samePrinter(matchKeys(ippReadings()), matchKeys(snmpReadings())))
        other = ippReadings(**{STATUS + "SerialNumber": "OTHER"})
        self.assertFalse(samePrinter(matchKeys(other), matchKeys(snmpReadings())))


class MergeTests(unittest.TestCase):
    def test_onlyOne(self) -> None:
        """One source alone is the printer's readings as they are; none is empty readings."""
        ipp, snmp = ippReadings(), snmpReadings()
        self.assertIs(merge(ipp, None), ipp)
        self.assertIs(merge(None, snmp), snmp)
        self.assertEqual(merge(None, None), Readings())

    def test_ippPreferred(self) -> None:
        """Where both answer, IPP's value; what only SNMP tells is there too."""
        merged = merge(ippReadings(), snmpReadings())
        self.assertEqual(merged.values[LOCATION], "Room 12 (IPP)")
        self.assertEqual(merged.values[STATUS + "State"], "Idle")
        self.assertEqual(merged.values[DESCRIPTION + "ServiceInfo"], snmpReadings().values[DESCRIPTION + "ServiceInfo"])
        self.assertEqual(merged.identity, ippReadings().identity)
        self.assertEqual(merged.problems[0], "IPP: printer-foo: odd")

    def test_snmpFirst(self) -> None:
        """Contact is sysContact even where IPP tells printer-contact-col; SNMP's own tables are SNMP's."""
        snmp = snmpReadings()
        merged = merge(ippReadings(**{CONTACT: "BEGIN:VCARD (IPP)"}), snmp)
        self.assertEqual(merged.values[CONTACT], "helpdesk@example.net")
        for table in (snmpsource.STORAGE, snmpsource.INTERFACE, snmpsource.CONSOLE):
            self.assertTrue(snmp.rows[table])
            self.assertEqual(merged.rows[table], snmp.rows[table])
        contactless = merge(ippReadings(), Readings())
        self.assertNotIn(CONTACT, contactless.values)

    def test_tablesWhole(self) -> None:
        """A table comes whole from one source: IPP's when it has rows, else SNMP's — never rows of both."""
        snmp = snmpReadings()
        self.assertGreater(len(snmp.rows[SUPPLY]), 1)
        merged = merge(ippReadings(), snmp)
        self.assertEqual(merged.rows[SUPPLY], ippReadings().rows[SUPPLY])
        self.assertEqual(merged.rows[INPUT_TRAY], snmp.rows[INPUT_TRAY])

    def test_stateReasonsGoWithState(self) -> None:
        """IPP's state without reasons takes no reasons of SNMP's (they describe another reading)."""
        snmp = snmpReadings()
        snmp.values[STATE_REASONS] = ["MarkerSupplyLow"]
        self.assertNotIn(STATE_REASONS, merge(ippReadings(), snmp).values)
        self.assertEqual(merge(ippReadings(**{STATE_REASONS: []}), snmp).values[STATE_REASONS], [])


class WriteProtocolTests(unittest.TestCase):
    def test_rules(self) -> None:
        """Contact through SNMP only; Location through IPP where settable, else SNMP; else not writable."""
        self.assertEqual(writeProtocol(CONTACT, {CONTACT}, {CONTACT}), SNMP)
        self.assertIsNone(writeProtocol(CONTACT, {CONTACT}, ()))
        self.assertEqual(writeProtocol(LOCATION, {LOCATION}, {LOCATION}), IPP)
        self.assertEqual(writeProtocol(LOCATION, (), {LOCATION}), SNMP)
        self.assertIsNone(writeProtocol(LOCATION, (), ()))
        self.assertEqual(sources.SNMP_FIRST & set(ippsource.WRITES), frozenset())
