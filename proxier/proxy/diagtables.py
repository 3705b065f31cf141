# -*- test-case-name: tests.test_proxy_diagnostics -*-
"""
The TR-181 diagnostics objects the proxier holds for a device (TR-330
§4.3.2), whatever protocol runs the tests behind them: each object's
parameters with TR-181's names, types, access and notification facts
(L{KINDS}), and the test timer of TR-330 Figure 6's notes
(L{testSeconds}). Data and pure functions; L{proxier.proxy.diagnostics}
drives the tests, and a protocol maps them onto its own (BMS tests:
L{proxier.upnpdm.bmsdiagnostics}).

    Device.IP.Diagnostics.IPPing.
    Device.IP.Diagnostics.TraceRoute.               RouteHops.{i}.
    Device.DNS.Diagnostics.NSLookupDiagnostics.     Result.{i}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from proxier.datamodel.declarations import CAN_DENY, NORMAL
from proxier.datamodel.types import DataType, ListOf, String, UnsignedInt

__all__ = [
    "ParamDef",
    "TableDef",
    "Kind",
    "IPPING",
    "TRACEROUTE",
    "NSLOOKUP",
    "KINDS",
    "KIND_BY_KEY",
    "RESULT_STATUS",
    "ANSWER_TYPES",
    "ERROR_OTHER",
    "testSeconds",
    "MIN_TEST_SECONDS",
    "MAX_TEST_SECONDS",
    "TEST_GRACE",
]

#: The test timer is never shorter or longer than these (seconds).
MIN_TEST_SECONDS = 5.0
MAX_TEST_SECONDS = 3600.0
#: Seconds added to the computed duration: the device's own latency in
#: starting the test and in telling its end.
TEST_GRACE = 10.0

_DIAGNOSTICS_STATE_BASE = ("None", "Requested", "Canceled", "Complete")

#: What every diagnostic that cannot be carried out ends in (TR-330 Figure 6).
ERROR_OTHER = "Error_Other"


@dataclass(frozen=True)
class ParamDef:
    """
    One parameter of a diagnostics object, as TR-181 2.17 declares it: a
    writable one is a test parameter (DiagnosticsState aside), a read-only
    one a result, kept under its name.

    @ivar initial: the value of a writable parameter before the ACS sets it.
    """

    name: str
    type: DataType
    writable: bool = False
    activeNotify: str = NORMAL
    initial: Any = None


@dataclass(frozen=True)
class TableDef:
    """A result table (TR-181 C{RouteHops.{i}.}, C{Result.{i}.}): its name and the columns of a row."""

    name: str
    numberOfEntries: str
    columns: tuple[ParamDef, ...]


@dataclass(frozen=True)
class Kind:
    """
    One diagnostics object.

    @ivar key: a short stable name (the durable record's key).
    @ivar path: the object's CWMP path, where it is mounted.
    @ivar target: the test parameter that must not be empty when the test is
        requested (TR-181: errors in the test parameters are found "prior to
        or at the same time as" the request).
    """

    key: str
    path: str
    parameters: tuple[ParamDef, ...]
    target: str
    table: Optional[TableDef] = None

    @property
    def writable(self) -> tuple[ParamDef, ...]:
        return tuple(p for p in self.parameters if p.writable)

    @property
    def results(self) -> tuple[ParamDef, ...]:
        """The result parameters (read-only), besides the table."""
        return tuple(p for p in self.parameters if not p.writable)

    def parameter(self, name: str) -> ParamDef:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def initialConfig(self) -> dict[str, Any]:
        """The test parameters' values before the ACS sets any (DiagnosticsState aside)."""
        return {p.name: p.initial for p in self.writable if p.name != "DiagnosticsState"}


def _state(*errors: str) -> String:
    # TR-181 2.17 DiagnosticsState: the dataType's values, then the object's own errors
    return String(enumeration=_DIAGNOSTICS_STATE_BASE + errors)


# TR-181 Device:2.17 (tr-181-2-17-0-cwmp-full.xml) Device.IP.Diagnostics.IPPing.
# Names, types, access and activeNotify are checked against the standard's XML
# by tests.test_proxy_diagnostics, row by row.
IPPING = Kind(
    key="IPPing",
    path="Device.IP.Diagnostics.IPPing.",
    target="Host",
    parameters=(
        ParamDef("DiagnosticsState", _state("Error", "Error_CannotResolveHostName", "Error_NoRouteToHost",
                                            "Error_Internal", "Error_Other"), True, initial="None"),
        ParamDef("Interface", String(256), True, initial=""),
        ParamDef("ProtocolVersion", String(enumeration=("Any", "IPv4", "IPv6")), True, initial="Any"),
        ParamDef("Host", String(256), True, initial=""),
        ParamDef("NumberOfRepetitions", UnsignedInt(1), True, initial=3),
        ParamDef("Timeout", UnsignedInt(1), True, initial=1000),
        ParamDef("DataBlockSize", UnsignedInt(1, 65535), True, initial=56),
        ParamDef("DSCP", UnsignedInt(0, 63), True, initial=0),
        ParamDef("IPAddressUsed", String(45)),
        ParamDef("SuccessCount", UnsignedInt(), activeNotify=CAN_DENY),
        ParamDef("FailureCount", UnsignedInt(), activeNotify=CAN_DENY),
        ParamDef("AverageResponseTime", UnsignedInt(), activeNotify=CAN_DENY),
        ParamDef("MinimumResponseTime", UnsignedInt(), activeNotify=CAN_DENY),
        ParamDef("MaximumResponseTime", UnsignedInt()),
        ParamDef("AverageResponseTimeDetailed", UnsignedInt(), activeNotify=CAN_DENY),
        ParamDef("MinimumResponseTimeDetailed", UnsignedInt(), activeNotify=CAN_DENY),
        ParamDef("MaximumResponseTimeDetailed", UnsignedInt()),
    ),
)

# TR-181 Device:2.17 Device.IP.Diagnostics.TraceRoute. and its RouteHops.{i}.
TRACEROUTE = Kind(
    key="TraceRoute",
    path="Device.IP.Diagnostics.TraceRoute.",
    target="Host",
    parameters=(
        ParamDef("DiagnosticsState", _state("Error", "Error_CannotResolveHostName", "Error_NoRouteToHost",
                                            "Error_MaxHopCountExceeded", "Error_Internal", "Error_Other"),
                 True, initial="None"),
        ParamDef("Interface", String(256), True, initial=""),
        ParamDef("ProtocolVersion", String(enumeration=("Any", "IPv4", "IPv6")), True, initial="Any"),
        ParamDef("Host", String(256), True, initial=""),
        ParamDef("NumberOfTries", UnsignedInt(1, 3), True, initial=3),
        ParamDef("Timeout", UnsignedInt(1), True, initial=5000),
        ParamDef("DataBlockSize", UnsignedInt(1, 65535), True, initial=38),
        ParamDef("DSCP", UnsignedInt(0, 63), True, initial=0),
        ParamDef("MaxHopCount", UnsignedInt(1, 64), True, initial=30),
        ParamDef("IPAddressUsed", String(45)),
        ParamDef("ResponseTime", UnsignedInt(), activeNotify=CAN_DENY),
    ),
    table=TableDef("RouteHops", "RouteHopsNumberOfEntries", (
        ParamDef("Host", String(256), activeNotify=CAN_DENY),
        ParamDef("HostAddress", String(), activeNotify=CAN_DENY),
        ParamDef("ErrorCode", UnsignedInt(), activeNotify=CAN_DENY),
        # a device that gives no round-trip times (BMS:2 HopHosts) leaves the
        # list empty rather than report every response as lost (an item of 0)
        ParamDef("RTTimes", ListOf(UnsignedInt(), minItems=1, maxItems=3)),
    )),
)

# TR-181 NSLookupDiagnostics.Result.{i}.Status and AnswerType (BasicManagement:2
# A_ARG_TYPE_NSLookupResult's Result/Status and AnswerType enumerate them alike).
RESULT_STATUS = ("Success", "Error_DNSServerNotAvailable", "Error_HostNameNotResolved", "Error_Timeout",
                 "Error_Other")
ANSWER_TYPES = ("None", "Authoritative", "NonAuthoritative")

# TR-181 Device:2.17 Device.DNS.Diagnostics.NSLookupDiagnostics. and its Result.{i}.
NSLOOKUP = Kind(
    key="NSLookup",
    path="Device.DNS.Diagnostics.NSLookupDiagnostics.",
    target="HostName",
    parameters=(
        ParamDef("DiagnosticsState", _state("Error_DNSServerNotResolved", "Error_Internal", "Error_Other"), True,
                 activeNotify=CAN_DENY, initial="None"),
        ParamDef("Interface", String(256), True, initial=""),
        ParamDef("HostName", String(256), True, initial=""),
        ParamDef("DNSServer", String(256), True, initial=""),
        ParamDef("Timeout", UnsignedInt(), True, initial=1000),
        ParamDef("NumberOfRepetitions", UnsignedInt(), True, initial=1),
        ParamDef("SuccessCount", UnsignedInt(), activeNotify=CAN_DENY),
    ),
    table=TableDef("Result", "ResultNumberOfEntries", (
        ParamDef("Status", String(enumeration=RESULT_STATUS), activeNotify=CAN_DENY),
        ParamDef("AnswerType", String(enumeration=ANSWER_TYPES), activeNotify=CAN_DENY),
        ParamDef("HostNameReturned", String(256)),
        ParamDef("IPAddresses", ListOf(String(45), maxItems=10), activeNotify=CAN_DENY),
        ParamDef("DNSServerIP", String(45), activeNotify=CAN_DENY),
        ParamDef("ResponseTime", UnsignedInt(), activeNotify=CAN_DENY),
    )),
)

KINDS: tuple[Kind, ...] = (IPPING, TRACEROUTE, NSLOOKUP)
KIND_BY_KEY: Mapping[str, Kind] = {k.key: k for k in KINDS}


def testSeconds(kind: Kind, config: Mapping[str, Any]) -> float:
    """
    The test timer of TR-330 Figure 6 ("based on the type of test, number of
    repetitions, test parameters"): the longest the test may take when every
    probe times out, plus L{TEST_GRACE}, within [L{MIN_TEST_SECONDS},
    L{MAX_TEST_SECONDS}]. TraceRoute's NumberOfTries counts even where the
    device uses its own (BMS has no such argument).
    """
    timeout = max(1, int(config.get("Timeout") or 1000)) / 1000.0
    if kind.key == "IPPing":
        # one echo a second (the usual pace), each waiting at most Timeout
        seconds = int(config.get("NumberOfRepetitions") or 1) * max(1.0, timeout)
    elif kind.key == "TraceRoute":
        seconds = int(config.get("MaxHopCount") or 30) * int(config.get("NumberOfTries") or 3) * timeout
    else:
        seconds = max(1, int(config.get("NumberOfRepetitions") or 1)) * timeout
    return min(MAX_TEST_SECONDS, max(MIN_TEST_SECONDS, seconds + TEST_GRACE))
