# -*- test-case-name: tests.test_printer_supplies -*-
"""
Tests for L{proxier.printer.supplies}: PWG 5100.13 rows as the MFP 4000
fixture (and ippeveprinter) sends them, the special levels, and hostile
rows refused with L{SupplyError}.
"""

from __future__ import annotations

import random

from twisted.trial import unittest

from proxier.printer import supplies as S
from proxier.printer.supplies import Level, SupplyError

TONER = b"index=1;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;level=8;colorantname=black;"
TRAY = "type=sheetFeedManual;mediafeed=110000;mediaxfeed=85000;maxcapacity=100;level=-2;status=0;name=Tray 1"
BIN = "type=unRemovableBin;maxcapacity=250;remaining=-3;status=0;stackingorder=firstToLast;pagedelivery=faceDown;name=Standard Bin"


class RowTests(unittest.TestCase):
    """The one parser."""

    def test_parse(self) -> None:
        """Keys and values in order; the trailing ';' is optional."""
        row = S.parseRow(TONER)
        self.assertEqual(list(row), ["index", "class", "type", "unit", "maxcapacity", "level", "colorantname"])
        self.assertEqual(row["colorantname"], "black")
        self.assertEqual(S.parseRow(TONER.rstrip(b";")), row)
        self.assertEqual(S.parseRow("name=a=b")["name"], "a=b")
        self.assertEqual(S.parseRow("name=")["name"], "")

    def test_refused(self) -> None:
        """Malformed rows are SupplyErrors with a reason."""
        cases = [
            (b"", "empty row"),
            (b";", "empty row"),
            (b"a=1;;b=2", "no '='"),
            (b"a", "no '='"),
            (b"=1", "not a word"),
            (b"a b=1", "not a word"),
            (b"a=1;a=2", "repeated"),
            (b"a=\xff", "not UTF-8"),
            (b"a=\x00", "control character"),
            ("a=\x7f", "control character"),
            (b"a=" + b"x" * 1100, "exceeds"),
            ("a=" + "x" * 1100, "exceeds"),
            (3, "not int"),
        ]
        for data, reason in cases:
            with self.assertRaises(SupplyError) as caught:
                S.parseRow(data)
            self.assertIn(reason, str(caught.exception), data)


class LevelTests(unittest.TestCase):
    """-1/-2/-3 set the Basis, never a level."""

    def test_levels(self) -> None:
        """0 and up are Actual; -1/-2/-3 are Other/Unknown/NotEmpty with value 0; below is an error."""
        self.assertEqual(S.level(0), Level(0, "Actual"))
        self.assertEqual(S.level(55), Level(55, "Actual"))
        self.assertEqual(S.level(-1), Level(0, "Other"))
        self.assertEqual(S.level(-2), Level(0, "Unknown"))
        self.assertEqual(S.level(-3), Level(0, "NotEmpty"))
        self.assertRaises(SupplyError, S.level, -4)


class KindTests(unittest.TestCase):
    """Supplies, input and output trays from the MFP 4000 fixture's rows."""

    def test_supply(self) -> None:
        """A printer-supply row."""
        supply = S.supply(S.parseRow(TONER), 5)
        self.assertEqual(supply, S.Supply(index=1, marker=1, type="Toner", supplyClass="SupplyThatIsConsumed",
                                          unit="Percent", maxCapacity=Level(100, "Actual"), level=Level(8, "Actual"),
                                          colorantName="black"))

    def test_supplyDefaults(self) -> None:
        """Without index= the position is the index; absent labels and levels are Unknown."""
        supply = S.supply(S.parseRow("type=wasteToner;marker=2"), 3)
        self.assertEqual((supply.index, supply.marker, supply.type), (3, 2, "WasteToner"))
        self.assertEqual((supply.supplyClass, supply.unit), ("Unknown", "Unknown"))
        self.assertEqual(supply.level, Level(0, "Unknown"))

    def test_inputTray(self) -> None:
        """A printer-input-tray row: type, levels, status bits."""
        tray = S.inputTray(S.parseRow(TRAY))
        self.assertEqual(tray, S.InputTray(type="SheetFeedManual", unit="Unknown", maxCapacity=Level(100, "Actual"),
                                           level=Level(0, "Unknown"), states=("AvailableAndIdle",), name="Tray 1"))
        self.assertEqual(S.inputTray(S.parseRow("status=9;unit=sheets")).states, ("UnavailableAndOnRequest", "WarningAlerts"))
        self.assertEqual(S.inputTray(S.parseRow("unit=sheets")).states, ("Unknown",))

    def test_outputTray(self) -> None:
        """A printer-output-tray row: remaining -3 is NotEmpty, unRemovableBin the SM's UnremovableBin."""
        tray = S.outputTray(S.parseRow(BIN))
        self.assertEqual(tray, S.OutputTray(type="UnremovableBin", unit="Unknown", maxCapacity=Level(250, "Actual"),
                                            remaining=Level(0, "NotEmpty"), states=("AvailableAndIdle",),
                                            name="Standard Bin"))

    def test_badValues(self) -> None:
        """Bad numbers, labels and status values are SupplyErrors."""
        for text in ("index=0", "index=x", "marker=0", "level=-9", "level=1.5", "level=99999999999",
                     "maxcapacity= 1", "type=Toner", "class=", "unit=per cent"):
            self.assertRaises(SupplyError, S.supply, S.parseRow(text), 1)
        for text in ("status=7", "status=200", "status=-1", "level=-4"):
            self.assertRaises(SupplyError, S.inputTray, S.parseRow(text))

    def test_fuzz(self) -> None:
        """Random bytes and mutated fixture rows give a row or a SupplyError, nothing else."""
        rng = random.Random(5100)
        seeds = [TONER, TRAY.encode(), BIN.encode()]
        for _ in range(3000):
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randint(1, 6)):
                at = rng.randrange(len(data) + 1)
                data[at:at + rng.randint(0, 3)] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 3)))
            try:
                row = S.parseRow(bytes(data))
            except SupplyError:
                continue
            for kind in (lambda r: S.supply(r, 1), S.inputTray, S.outputTray):
                try:
                    kind(row)
                except SupplyError:
                    pass
