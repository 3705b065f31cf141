# -*- test-case-name: tests.test_upnpdm_errors -*-
"""
UPnP errors → CWMP faults (TR-330 §4.6.9, Table 2), as data.

Every CMS action the proxy module sends for an ACS request can fail in three
ways, and each has one answer for the ACS:

 - the device refused (a C{UPnPError}): the row of L{TABLE_2} for its code,
   an exact row before a range, and the table's note for every code it does
   not list ("For UPnP errors not specified or discussed in this document
   (e.g. 613-699, 800-899 etc.), CPE Proxier return 9001");
 - the device gave no usable answer (a timeout, a refused connection, a
   malformed body, an answer that lies about what was asked): 9002 Internal
   error — the proxier could not learn the outcome;
 - the proxier's own queue for the device is full: 9004 Resources exceeded.

The fault string names the UPnP error the device gave, cleaned and bounded,
so that an operator reading the ACS's log sees both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from twisted.python.failure import Failure

from proxier.datamodel.faults import CWMPFault, faultString
from proxier.upnp.soap import UPnPError

__all__ = [
    "Row",
    "TABLE_2",
    "rowFor",
    "NOT_SPECIFIED_FAULT",
    "RPC_REFINEMENTS",
    "cwmpCodeFor",
    "faultFor",
    "noAnswerFault",
    "cleanText",
    "refusedByDevice",
    "describeError",
]


@dataclass(frozen=True)
class Row:
    """
    One row of Table 2: the UPnP errorCode (or the range C{low}-C{high}),
    the table's Error Description, and the CWMP fault code (C{None} where
    the table gives "--").
    """

    low: int
    high: int
    description: str
    fault: Optional[int]

    @property
    def isRange(self) -> bool:
        return self.low != self.high

    def covers(self, code: int) -> bool:
        return self.low <= code <= self.high


# TR-330 Issue 1, §4.6.9, Table 2 "UPnP Error Codes Mapping for CWMP Faults",
# row by row and in the table's order (UDA 2.0 codes, then the CMS codes
# 701-709). Two rows overlap on 606 ("Action not authorized" → 9002, and
# "606-612 Reserved (for DeviceSecurity)" → 9001): the exact row wins, as
# the table lists it first and by itself. 403 is "(Do Not Use)" with no
# fault: a device must not send it, and one that does gets the note's 9001.
TABLE_2: tuple[Row, ...] = (
    Row(401, 401, "Invalid Action", 9001),
    Row(402, 402, "Invalid Args", 9003),
    Row(403, 403, "(Do Not Use)", None),
    Row(501, 501, "Action Failed", 9001),
    Row(600, 600, "Argument Value Invalid", 9003),
    Row(601, 601, "Argument Value Out of Range", 9003),
    Row(602, 602, "Optional Action Not Implemented", 9001),
    Row(603, 603, "Out of Memory", 9004),
    Row(604, 604, "Human Intervention Required", 9001),
    Row(606, 606, "Action not authorized", 9002),
    Row(605, 605, "String Argument Too Long", 9003),
    Row(606, 612, "Reserved (for DeviceSecurity)", 9001),
    Row(613, 699, "TBD", 9001),
    Row(701, 701, "Invalid Argument Syntax", 9003),
    Row(702, 702, "Invalid XML Argument", 9003),
    Row(703, 703, "No Such Name", 9005),
    Row(704, 704, "Invalid Value Type", 9006),
    Row(705, 705, "Invalid Value", 9007),
    Row(706, 706, "Read Only Violation", 9008),
    Row(708, 708, "Resource Temporarily Unavailable", 9004),
    Row(709, 709, "Resources Exceeded", 9004),
    Row(800, 899, "TBD", 9001),
)

#: Table 2's note: every UPnP error it does not specify.
NOT_SPECIFIED_FAULT = 9001

# Where TR-069 itself names a different fault for one RPC than Table 2's
# generic row, that RPC's own rule wins. TR-069 Amendment 5 A.3.2.4 gives
# SetParameterAttributes 9009 "Notification request rejected" for a
# notification the CPE will not take; Table 2's 9008 ("Attempt to set a
# non-writable parameter") is about values. So a CMS SetAttributes refused
# with 706 (the device's EventOnChange is fixed) is answered 9009.
RPC_REFINEMENTS: Mapping[str, Mapping[int, int]] = {
    "SetParameterAttributes": {9008: 9009},
}

_EXACT = {row.low: row for row in TABLE_2 if not row.isRange}
_RANGES = tuple(row for row in TABLE_2 if row.isRange)


def rowFor(code: int) -> Optional[Row]:
    """The row of Table 2 that governs UPnP error C{code}, or C{None}."""
    row = _EXACT.get(code)
    if row is not None:
        return row
    for row in _RANGES:
        if row.covers(code):
            return row
    return None


def cwmpCodeFor(code: int, rpc: str = "") -> int:
    """
    The CWMP fault code for UPnP error C{code} answered to an action made
    for the CWMP RPC C{rpc}.
    """
    row = rowFor(code)
    fault = row.fault if row is not None and row.fault is not None else NOT_SPECIFIED_FAULT
    return RPC_REFINEMENTS.get(rpc, {}).get(fault, fault)


def cleanText(text: object, limit: int = 120) -> str:
    """Device-supplied text made fit for a fault string or a log line."""
    cleaned = "".join(c if c.isprintable() else " " for c in str(text)).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def faultFor(code: int, description: str = "", action: str = "", rpc: str = "") -> CWMPFault:
    """
    The fault to answer the ACS when the device refused C{action} with UPnP
    error C{code} (C{description}: its errorDescription).
    """
    cwmp = cwmpCodeFor(code, rpc)
    detail = f"UPnP error {code}"
    if description:
        detail += f" {cleanText(description, 80)}"
    if action:
        detail = f"{action}: {detail}"
    return CWMPFault(cwmp, f"{faultString(cwmp)} ({detail})")


def noAnswerFault(why: str, action: str = "") -> CWMPFault:
    """9002: the device gave no usable answer (C{why}, for the fault string)."""
    text = cleanText(why, 100)
    if action and not text.startswith(action):
        text = f"{action}: {text}"
    return CWMPFault(9002, f"{faultString(9002)} (the device gave no usable answer: {text})")


def refusedByDevice(failure: Failure) -> bool:
    """
    What the action gate (L{proxier.proxy.gate}) is told of UPnP: a
    UPnPError is the device's answer (it refused; it is reachable); an
    ActionError or anything else is no usable answer.
    """
    return failure.check(UPnPError) is not None


def describeError(error: BaseException) -> str:
    """Why a call to the device failed, for a log line or a FaultString (a UPnPError by its code)."""
    if isinstance(error, UPnPError):
        return f"UPnP error {error.code} {error.description}".strip()
    return str(error) or type(error).__name__
