# -*- test-case-name: tests.test_datamodel_values -*-
"""
CWMP fault codes (TR-069 Amendment 5, A.5.1) and the one exception every
data model fails with.

An L{IDataModel<proxier.interfaces.IDataModel>} never lets a bare exception
reach a CWMP session: it fails its Deferred with L{CWMPFault}, which the codec
renders as a SOAP Fault with a C{cwmp:Fault} detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

__all__ = [
    "CPE_FAULTS",
    "ACS_FAULTS",
    "CWMPFault",
    "SetParameterValuesFault",
    "faultString",
    "asFault",
]

# TR-069 Amendment 5, Table 64 "Fault codes" (CPE side), as also listed in
# the documentation of CPEFaultCodeType in cwmp-1-2.xsd.
CPE_FAULTS: dict[int, str] = {
    9000: "Method not supported",
    9001: "Request denied (no reason specified)",
    9002: "Internal error",
    9003: "Invalid arguments",
    9004: "Resources exceeded",
    9005: "Invalid parameter name",
    9006: "Invalid parameter type",
    9007: "Invalid parameter value",
    9008: "Attempt to set a non-writable parameter",
    9009: "Notification request rejected",
    9010: "File transfer failure",
    9011: "Upload failure",
    9012: "File transfer server authentication failure",
    9013: "Unsupported protocol for file transfer",
    9014: "File transfer failure: unable to join multicast group",
    9015: "File transfer failure: unable to contact file server",
    9016: "File transfer failure: unable to access file",
    9017: "File transfer failure: unable to complete download",
    9018: "File transfer failure: file corrupted or otherwise unusable",
    9019: "File transfer failure: file authentication failure",
    9020: "File transfer failure: unable to complete download within specified time windows",
    9021: "Cancelation of file transfer not permitted in current transfer state",
    9022: "Invalid UUID Format",
    9023: "Unknown Execution Environment",
    9024: "Disabled Execution Environment",
    9025: "Deployment Unit to Execution Environment Mismatch",
    9026: "Duplicate Deployment Unit",
    9027: "System Resources Exceeded",
    9028: "Unknown Deployment Unit",
    9029: "Invalid Deployment Unit State",
    9030: "Invalid Deployment Unit Update - Downgrade not permitted",
    9031: "Invalid Deployment Unit Update - Version not specified",
    9032: "Invalid Deployment Unit Update - Version already exists",
}

# TR-069 Amendment 5, Table 63 (ACS side); 8006 comes with cwmp-1-4.xsd.
ACS_FAULTS: dict[int, str] = {
    8000: "Method not supported",
    8001: "Request denied (no reason specified)",
    8002: "Internal error",
    8003: "Invalid arguments",
    8004: "Resources exceeded",
    8005: "Retry request",
    8006: "ACS version incompatible",
}


def faultString(code: int) -> str:
    """The standard text for C{code}, or a generic one for vendor codes."""
    return CPE_FAULTS.get(code) or ACS_FAULTS.get(code) or f"Fault {code}"


@dataclass(frozen=True)
class SetParameterValuesFault:
    """One entry of the SetParameterValuesFault list of a 9003 fault."""

    parameterName: str
    faultCode: int
    faultString: str = ""

    def __post_init__(self) -> None:
        if not self.faultString:
            object.__setattr__(self, "faultString", faultString(self.faultCode))


class CWMPFault(Exception):
    """
    A CWMP fault: what a data model or the session answers instead of a
    response.

    @ivar code: the fault code (9000-9899 from a CPE, 8000-8899 from an ACS).
    @ivar string: a human-readable text; defaults to the standard one.
    @ivar parameterFaults: per-parameter details; only SetParameterValues
        faults (code 9003) carry them.
    """

    def __init__(
        self,
        code: int,
        string: str = "",
        parameterFaults: Sequence[SetParameterValuesFault] = (),
    ) -> None:
        self.code = int(code)
        self.string = string or faultString(self.code)
        self.parameterFaults = tuple(parameterFaults)
        super().__init__(self.code, self.string)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CWMPFault):
            return NotImplemented
        return (self.code, self.string, self.parameterFaults) == (
            other.code,
            other.string,
            other.parameterFaults,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.string, self.parameterFaults))

    def __repr__(self) -> str:
        return f"CWMPFault({self.code!r}, {self.string!r}, {list(self.parameterFaults)!r})"

    def __str__(self) -> str:
        return f"CWMP fault {self.code}: {self.string}"


def asFault(error: BaseException, default: int = 9002) -> CWMPFault:
    """
    The CWMP fault to answer for C{error}: itself when it is one, else
    C{default} (9002 Internal error) carrying the exception's type name, so
    that no Python detail beyond that reaches the ACS.
    """
    if isinstance(error, CWMPFault):
        return error
    return CWMPFault(default, f"{faultString(default)} ({type(error).__name__})")
