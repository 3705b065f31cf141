"""Tests for L{proxier.sim.errors}: the UPnP error tables, walked row by row."""

from __future__ import annotations

from twisted.trial import unittest

from proxier.sim import errors as E
from proxier.upnp import soap

# TR-330 Table 2 ("UPnP Error Codes Mapping for CWMP Faults", §4.6.9): the
# UDA and CMS codes and descriptions it lists (403 "Do Not Use" left out).
TR330_TABLE_2 = {
    401: "Invalid Action", 402: "Invalid Args", 501: "Action Failed", 600: "Argument Value Invalid",
    601: "Argument Value Out of Range", 602: "Optional Action Not Implemented", 603: "Out of Memory",
    604: "Human Intervention Required", 605: "String Argument Too Long", 606: "Action not authorized",
    701: "Invalid Argument Syntax", 702: "Invalid XML Argument", 703: "No Such Name", 704: "Invalid Value Type",
    705: "Invalid Value", 706: "Read Only Violation", 708: "Resource Temporarily Unavailable",
    709: "Resources Exceeded",
}

# TR-330 Table 3 ("Error Case Mappings for Firmware Update Operation"): the
# SMS::Update() error codes and their descriptions.
TR330_TABLE_3_UPDATE = {
    701: "Invalid URI", 702: "HandleDependencies request not honored", 704: "Already in a transitory state",
    705: "Invalid DUID", 710: "NewDUURI not supported",
}


class TableTests(unittest.TestCase):
    def test_table2RowByRow(self) -> None:
        """Every code of TR-330 Table 2 is answered with the description the table gives it."""
        for code, text in TR330_TABLE_2.items():
            table = E.CMS_ERRORS if code >= 700 else None
            self.assertEqual(E.ActionError(code, table=table).description, text, code)

    def test_table3RowByRow(self) -> None:
        """Every SMS::Update() code of TR-330 Table 3 is answered with its description."""
        for code, text in TR330_TABLE_3_UPDATE.items():
            self.assertEqual(E.smsError(code).description, text, code)

    def test_udaAgreesWithTheCodec(self) -> None:
        """The device's UDA texts are the SOAP codec's, code for code."""
        for code, text in E.UDA_ERRORS.items():
            self.assertEqual(soap.UDA_ERRORS[code], text, code)

    def test_serviceCodesAreActionSpecific(self) -> None:
        """Service tables hold only action-specific codes (700-799)."""
        for table in (E.CMS_ERRORS, E.BMS_ERRORS, E.SMS_ERRORS):
            self.assertTrue(all(700 <= code <= 799 for code in table))

    def test_fallbacks(self) -> None:
        """A service code missing from its table falls back to UDA, then to 'Action Failed'."""
        self.assertEqual(E.errorDescription(402, E.CMS_ERRORS), "Invalid Args")
        self.assertEqual(E.errorDescription(799, E.CMS_ERRORS), "Action Failed")
        self.assertEqual(E.bmsError(706).description, "No Such Test")

    def test_detailStaysLocal(self) -> None:
        """The detail of an error is for the device's log: str() shows it, the description does not carry it."""
        error = E.cmsError(703, "no node 'X' below /BBF/")
        self.assertEqual((error.code, error.description), (703, "No Such Name"))
        self.assertIn("no node", str(error))
        self.assertNotIn("no node", error.description)
        self.assertIn("703", repr(error))
