"""Tests for the value types and faults of the IDataModel contract, and TR-106 dateTime."""

from __future__ import annotations

import datetime

from twisted.trial import unittest

from proxier.datamodel._tr106time import UNKNOWN_TIME, formatDateTime, parseDateTime
from proxier.datamodel.faults import CPE_FAULTS, CWMPFault, SetParameterValuesFault, asFault
from proxier.datamodel.values import DeviceIdentity, TransferRequest, TransferResult

UTC = datetime.timezone.utc


class FaultTests(unittest.TestCase):
    def test_defaultText(self) -> None:
        """A fault without text gets the standard one."""
        self.assertEqual(CWMPFault(9005).string, "Invalid parameter name")
        self.assertEqual(CWMPFault(9899).string, "Fault 9899")
        self.assertEqual(sorted(CPE_FAULTS), list(range(9000, 9033)))

    def test_parameterFaults(self) -> None:
        """SetParameterValues faults carry per-parameter details, with standard texts."""
        fault = CWMPFault(9003, parameterFaults=[SetParameterValuesFault("Device.X", 9008)])
        self.assertEqual(fault.parameterFaults[0].faultString, "Attempt to set a non-writable parameter")
        self.assertEqual(fault, CWMPFault(9003, parameterFaults=[SetParameterValuesFault("Device.X", 9008)]))

    def test_asFault(self) -> None:
        """Any exception becomes 9002 naming only its type; a fault stays itself."""
        self.assertEqual(asFault(KeyError("secret path")).string, "Internal error (KeyError)")
        fault = CWMPFault(9001)
        self.assertIs(asFault(fault), fault)

    def test_raisable(self) -> None:
        """A fault can be raised, caught and its traceback dropped (as Failure does)."""
        try:
            raise CWMPFault(9002)
        except CWMPFault as e:
            e.__traceback__ = None
            self.assertEqual(str(e), "CWMP fault 9002: Internal error")


class IdentityTests(unittest.TestCase):
    def test_key(self) -> None:
        """The key is OUI-ProductClass-Serial, with unsafe characters replaced."""
        self.assertEqual(DeviceIdentity("M", "00D0F5", "Media Box/2", "A:1").key, "00D0F5-Media_Box_2-A_1")
        self.assertEqual(str(DeviceIdentity("M", "00D0F5", "Media Box/2", "A:1")), "00D0F5-Media Box/2-A:1")

    def test_sharedText(self) -> None:
        """Each caller of a device's key or name gets the one string (issue 19: a device's parts each keep it)."""
        one, other = DeviceIdentity("M", "00D0F5", "Box", "SN-1"), DeviceIdentity("M", "00D0F5", "Box", "SN-1")
        self.assertIs(one.key, other.key)
        self.assertIs(str(one), str(other))

    def test_transferDirection(self) -> None:
        """The method names the direction."""
        self.assertFalse(TransferRequest("Upload", "k", "4 Vendor Log File 1", "http://acs/").isDownload)
        self.assertTrue(TransferResult("k", "ScheduleDownload").isDownload)


class DateTimeTests(unittest.TestCase):
    def test_parse(self) -> None:
        """Fractions, offsets, no offset (UTC) and the unknown time all parse."""
        self.assertEqual(parseDateTime("2024-05-01T10:00:00Z"), datetime.datetime(2024, 5, 1, 10, tzinfo=UTC))
        self.assertEqual(
            parseDateTime("2024-05-01T10:00:00.25+02:00"), datetime.datetime(2024, 5, 1, 8, 0, 0, 250000, tzinfo=UTC)
        )
        self.assertEqual(parseDateTime("2024-05-01T10:00:00"), datetime.datetime(2024, 5, 1, 10, tzinfo=UTC))
        self.assertEqual(parseDateTime("0001-01-01T00:00:00Z"), UNKNOWN_TIME)
        self.assertEqual(parseDateTime("2016-12-31T23:59:60Z").second, 59)

    def test_reject(self) -> None:
        """Things that are not dateTimes are ValueError."""
        for bad in ["", "2024-05-01", "2024-13-01T00:00:00Z", "yesterday", "2024-05-01T10:00:00+25:00"]:
            self.assertRaises(ValueError, parseDateTime, bad)

    def test_rejectOverflowAndUnicodeDigits(self) -> None:
        """
        A year beyond 9999 (an OverflowError before: 11 digits do not fit a C
        int) and digits that are not ASCII (which \\d took) are ValueError.
        """
        for bad in ["99999999999-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "9" * 5000 + "-01-01T00:00:00Z",
                    "-0001-01-01T00:00:00Z", "١٢٣٤-01-01T00:00:00Z", "2024-0²-01T00:00:00Z",
                    "2024-05-01T10:00:00.٥Z", "2024-05-01T10:00:00+0١:00", "２０２４-05-01T10:00:00Z"]:
            e = self.assertRaises(ValueError, parseDateTime, bad)
            self.assertLess(len(str(e)), 120, "the message shows a shortened text")

    def test_extremesStillParse(self) -> None:
        """The edges of the range still parse: 9999-12-31 with a negative offset, 0001-01-01 with a positive one."""
        self.assertEqual(parseDateTime("9999-12-31T23:59:59-23:59").year, 9999)
        self.assertEqual(parseDateTime("0001-01-01T00:00:00+23:59").year, 1)

    def test_format(self) -> None:
        """Output is UTC with Z and no fraction; the unknown time is kept."""
        self.assertEqual(
            formatDateTime(datetime.datetime(2024, 5, 1, 10, 0, 0, 999, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))),
            "2024-05-01T08:00:00Z",
        )
        self.assertEqual(formatDateTime(UNKNOWN_TIME), "0001-01-01T00:00:00Z")
