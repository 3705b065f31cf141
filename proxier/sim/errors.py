# -*- test-case-name: tests.test_sim_errors -*-
"""
The errors a simulated device answers to an action, as data.

A service action fails by raising L{ActionError}; the SOAP layer turns it into
a C{UPnPError} fault. The codes and their texts live in the tables below, one
per specification, so that a test walks every row and so that a code the
device sends always carries the text its specification gives it.
"""

from __future__ import annotations

from typing import Mapping, Optional

from proxier.upnp import soap

__all__ = [
    "ActionError",
    "UDA_ERRORS",
    "CMS_ERRORS",
    "BMS_ERRORS",
    "SMS_ERRORS",
    "errorDescription",
]

# UPnP Device Architecture 1.1, §3.2.2: the SOAP codec's table, so that a
# device and the control point give a code the same text.
UDA_ERRORS: Mapping[int, str] = soap.UDA_ERRORS

# ConfigurationManagement:2 error codes 701-709, as TR-330 Table 2 ("UPnP
# Error Codes Mapping for CWMP Faults", §4.6.9) lists them, plus 707, which
# CMS:2 defines for a SetValues naming one parameter twice and which TR-330
# leaves to its "not specified" row.
CMS_ERRORS: Mapping[int, str] = {
    701: "Invalid Argument Syntax",
    702: "Invalid XML Argument",
    703: "No Such Name",
    704: "Invalid Value Type",
    705: "Invalid Value",
    706: "Read Only Violation",
    707: "Multiple Set",
    708: "Resource Temporarily Unavailable",
    709: "Resources Exceeded",
}

# BasicManagement:2 test and log error codes. 706-709 are the codes the one
# open BMS:2 implementation (GNOME rygel, BasicManagement service) answers;
# 703 is the "Test active" TR-330 §4.5.1 names for a result asked while the
# test still runs (the device answers it, or 708, as its knob says); 704 and
# 705 concern logs.
BMS_ERRORS: Mapping[int, str] = {
    703: "Test Active",
    704: "Invalid LogURI",
    705: "Log Not Configurable",
    706: "No Such Test",
    707: "Wrong Test Type",
    708: "Invalid Test State",
    709: "State Precludes Cancel",
}

# SoftwareManagement:2 error codes. TR-330 Table 3 ("Error Case Mappings for
# Firmware Update Operation", §4.7.1.2) names 701, 702, 704, 705 and 710 for
# Update(); 703, 706 and 707 are the SMS:2 codes for the DUType, EUID and
# OperationID arguments of the other actions.
SMS_ERRORS: Mapping[int, str] = {
    701: "Invalid URI",
    702: "HandleDependencies request not honored",
    703: "Invalid DUType",
    704: "Already in a transitory state",
    705: "Invalid DUID",
    706: "Invalid EUID",
    707: "Invalid OperationID",
    710: "NewDUURI not supported",
}


def errorDescription(code: int, serviceTable: Optional[Mapping[int, str]] = None) -> str:
    """The standard text of C{code}: the service's own table first, then UDA's."""
    if serviceTable is not None and code in serviceTable:
        return serviceTable[code]
    return UDA_ERRORS.get(code, "Action Failed")


class ActionError(Exception):
    """
    An action failed: the device answers a C{UPnPError} with C{code} and
    C{description}.

    @ivar code: the UPnP errorCode (401, 402, 501, 600-606, 700-799).
    @ivar description: the errorDescription.
    @ivar detail: why, for the device's own log only (never sent).
    """

    def __init__(
        self,
        code: int,
        description: str = "",
        detail: str = "",
        *,
        table: Optional[Mapping[int, str]] = None,
    ) -> None:
        self.code = int(code)
        self.description = description or errorDescription(self.code, table)
        self.detail = detail
        super().__init__(self.code, self.description)

    def __str__(self) -> str:
        text = f"UPnP error {self.code} ({self.description})"
        return f"{text}: {self.detail}" if self.detail else text

    def __repr__(self) -> str:
        return f"ActionError({self.code!r}, {self.description!r}, {self.detail!r})"


def cmsError(code: int, detail: str = "") -> ActionError:
    """A ConfigurationManagement error with its CMS:2 text."""
    return ActionError(code, detail=detail, table=CMS_ERRORS)


def bmsError(code: int, detail: str = "") -> ActionError:
    """A BasicManagement error with its BMS:2 text."""
    return ActionError(code, detail=detail, table=BMS_ERRORS)


def smsError(code: int, detail: str = "") -> ActionError:
    """A SoftwareManagement error with its SMS:2 text."""
    return ActionError(code, detail=detail, table=SMS_ERRORS)


__all__ += ["cmsError", "bmsError", "smsError"]
