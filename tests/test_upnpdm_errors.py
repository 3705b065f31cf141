"""
Tests for L{proxier.upnpdm.errors}: TR-330 Table 2 walked row by row, the
note's rule for codes the table does not list, and the faults built from
device errors.
"""

from __future__ import annotations

from twisted.python.failure import Failure
from twisted.trial import unittest

from proxier.datamodel.faults import CPE_FAULTS, CWMPFault
from proxier.proxy.gate import ActionTimeout
from proxier.sim.errors import CMS_ERRORS, UDA_ERRORS
from proxier.upnp.actions import ActionError
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import errors

# TR-330 Issue 1 §4.6.9 Table 2, typed in again from the text (code or range,
# CWMP fault; None for "--"), independently of the module's table.
EXPECTED = [
    (401, 401, 9001), (402, 402, 9003), (403, 403, None), (501, 501, 9001), (600, 600, 9003),
    (601, 601, 9003), (602, 602, 9001), (603, 603, 9004), (604, 604, 9001), (606, 606, 9002),
    (605, 605, 9003), (606, 612, 9001), (613, 699, 9001), (701, 701, 9003), (702, 702, 9003),
    (703, 703, 9005), (704, 704, 9006), (705, 705, 9007), (706, 706, 9008), (708, 708, 9004),
    (709, 709, 9004), (800, 899, 9001),
]


class Table2Tests(unittest.TestCase):
    def test_tableAsTyped(self) -> None:
        """The table holds exactly Table 2's rows, in its order, with its fault codes."""
        self.assertEqual([(r.low, r.high, r.fault) for r in errors.TABLE_2], EXPECTED)

    def test_everyRowMapsItsCodes(self) -> None:
        """Each row: every code it covers maps to its fault (the exact 606 row over the 606-612 range)."""
        for row in errors.TABLE_2:
            for code in range(row.low, row.high + 1):
                with self.subTest(code=code, row=row.description):
                    expected = row.fault if row.fault is not None else errors.NOT_SPECIFIED_FAULT
                    if row.isRange and code == 606:
                        expected = 9002  # the exact row wins
                    self.assertEqual(errors.cwmpCodeFor(code), expected)
                    self.assertIn(errors.cwmpCodeFor(code), CPE_FAULTS)

    def test_rowDescriptionsMatchTheSpecifications(self) -> None:
        """Each single-code row names its error as UDA or CMS:2 does (403 and 606's DeviceSecurity row aside)."""
        for row in errors.TABLE_2:
            if row.isRange or row.low == 403:
                continue
            with self.subTest(code=row.low):
                known = CMS_ERRORS.get(row.low) or UDA_ERRORS.get(row.low)
                self.assertEqual(row.description.lower(), known.lower())

    def test_notSpecifiedIs9001(self) -> None:
        """The note: codes Table 2 does not list (707 Multiple Set, 700, 710-799, 900+, 0) give 9001."""
        for code in (0, 400, 500, 502, 700, 707, 710, 750, 799, 900, 65535):
            with self.subTest(code=code):
                self.assertIsNone(errors.rowFor(code))
                self.assertEqual(errors.cwmpCodeFor(code), 9001)

    def test_doNotUse403(self) -> None:
        """403 "(Do Not Use)" has no fault of its own: the note's 9001."""
        self.assertIsNone(errors.rowFor(403).fault)
        self.assertEqual(errors.cwmpCodeFor(403), 9001)

    def test_setParameterAttributesRefinement(self) -> None:
        """SetParameterAttributes: a 706 (fixed EventOnChange) is 9009, TR-069's notification refusal."""
        self.assertEqual(errors.cwmpCodeFor(706, "SetParameterAttributes"), 9009)
        self.assertEqual(errors.cwmpCodeFor(706, "SetParameterValues"), 9008)
        self.assertEqual(errors.cwmpCodeFor(703, "SetParameterAttributes"), 9005)


class FaultTests(unittest.TestCase):
    def test_faultNamesTheUPnPError(self) -> None:
        """The fault's code is Table 2's; its string keeps the standard text and names the UPnP error."""
        fault = errors.faultFor(703, "No Such Name", "GetValues")
        self.assertIsInstance(fault, CWMPFault)
        self.assertEqual(fault.code, 9005)
        self.assertEqual(fault.string, "Invalid parameter name (GetValues: UPnP error 703 No Such Name)")

    def test_deviceTextCleaned(self) -> None:
        """Control characters and overlong descriptions from a device do not reach the ACS as they are."""
        fault = errors.faultFor(501, "bad\x00\x1b[31mthing" + "x" * 500)
        self.assertNotIn("\x00", fault.string)
        self.assertNotIn("\x1b", fault.string)
        self.assertLess(len(fault.string), 200)

    def test_noAnswer(self) -> None:
        """No usable answer is 9002, saying why."""
        fault = errors.noAnswerFault("GetValues: no answer within 30 s")
        self.assertEqual(fault.code, 9002)
        self.assertIn("no answer within 30 s", fault.string)


class CallFailureTests(unittest.TestCase):
    def test_refusedByDevice(self) -> None:
        """
        For the action gate, only a UPnPError is the device's answer (it is
        reachable); an ActionError, the gate's own timeout or anything else
        is none.
        """
        self.assertTrue(errors.refusedByDevice(Failure(UPnPError(703, "No Such Name"))))
        for error in (ActionError("connection refused"), ActionTimeout("no answer"), ValueError("malformed")):
            self.assertFalse(errors.refusedByDevice(Failure(error)), error)

    def test_describeError(self) -> None:
        """A failed call in a log line or FaultString: a UPnPError by its code and description, else its text."""
        self.assertEqual(errors.describeError(UPnPError(714, "No such entry in array")),
                         "UPnP error 714 No such entry in array")
        self.assertEqual(errors.describeError(ActionError("connection refused")), "connection refused")
        self.assertEqual(errors.describeError(ActionTimeout()), "ActionTimeout")
