# -*- test-case-name: tests.test_upnpdm_diag -*-
"""
TR-330 §4.3.2 and §4.5, sans-IO: the Device:2 diagnostics objects a Virtual
CWMP Device gets for the BasicManagement:2 tests its device offers, and how
each maps onto BMS.

    Device.IP.Diagnostics.IPPing.               ↔ BMS Ping        / GetPingResult
    Device.IP.Diagnostics.TraceRoute.           ↔ BMS Traceroute  / GetTracerouteResult
    Device.DNS.Diagnostics.NSLookupDiagnostics. ↔ BMS NSLookup    / GetNSLookupResult

Everything here is data and pure functions — the objects' parameters with
TR-181's names, types, access and notification facts (L{KINDS}); which test
parameter feeds which BMS argument; which BMS result feeds which result
parameter; the BMS Status → DiagnosticsState tables (L{STATUS_MAPS}); the
test timer of Figure 6's notes (L{testSeconds}); the parsing of the BMS
answers a device gives (bounded, and tolerant of a device that lies); and
the durable record of one diagnostic (L{Record}). The state machine that
drives a test lives in L{proxier.upnpdm.diagcontrol}.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping, Optional, Sequence

from proxier import xmlsafe
from proxier.asciinum import parseUnsigned
from proxier.datamodel.declarations import CAN_DENY, NORMAL
from proxier.datamodel.types import DataType, ListOf, String, UnsignedInt

__all__ = [
    "Phase",
    "TRANSITIONS",
    "IllegalTransition",
    "ParamDef",
    "TableDef",
    "Kind",
    "KINDS",
    "KIND_BY_KEY",
    "STATUS_MAPS",
    "diagnosticsState",
    "supportedKinds",
    "testArguments",
    "testSeconds",
    "parseResult",
    "Outcome",
    "Record",
    "RecordError",
    "parseIDList",
    "MAX_ROWS",
    "MIN_TEST_SECONDS",
    "MAX_TEST_SECONDS",
    "TEST_GRACE",
]

#: Result rows kept (route hops, NSLookup answers): a device that lies about
#: them cannot grow the proxier's state beyond this.
MAX_ROWS = 64
#: The test timer is never shorter or longer than these (seconds).
MIN_TEST_SECONDS = 5.0
MAX_TEST_SECONDS = 3600.0
#: Seconds added to the computed duration: the device's own latency in
#: starting the test and in eventing its end.
TEST_GRACE = 10.0

_DIAGNOSTICS_STATE_BASE = ("None", "Requested", "Canceled", "Complete")


@dataclass(frozen=True)
class ParamDef:
    """
    One parameter of a diagnostics object, as TR-181 2.17 declares it.

    @ivar argument: the BMS test action's input argument this test parameter
        feeds (C{""}: none — BMS has no equivalent, the value is kept and
        shown but the device decides).
    @ivar result: the key of the result value it shows (C{""}: none).
    @ivar initial: the value of a writable parameter before the ACS sets it.
    """

    name: str
    type: DataType
    writable: bool = False
    activeNotify: str = NORMAL
    argument: str = ""
    result: str = ""
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
    One diagnostics object and its BMS test.

    @ivar key: a short stable name (the durable record's key).
    @ivar path: the object's CWMP path, where it is mounted.
    @ivar testType: the BMS C{A_ARG_TYPE_TestType} value (GetTestInfo C{Type}).
    @ivar action: the BMS action starting the test.
    @ivar resultAction: the BMS action reading its result.
    @ivar target: the test parameter that must not be empty when the test is
        requested (TR-181: errors in the test parameters are found "prior to
        or at the same time as" the request).
    """

    key: str
    path: str
    testType: str
    action: str
    resultAction: str
    parameters: tuple[ParamDef, ...]
    target: str
    table: Optional[TableDef] = None

    @property
    def writable(self) -> tuple[ParamDef, ...]:
        return tuple(p for p in self.parameters if p.writable)

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


# TR-181 Device:2.17 (tr-181-2-17-0-cwmp-full.xml) Device.IP.Diagnostics.IPPing.,
# with BasicManagement:2 Ping / GetPingResult (TR-330 §4.3.2.1). Names, types,
# access and activeNotify are checked against the standard's XML by
# tests.test_upnpdm_diag_tr181, row by row.
IPPING = Kind(
    key="IPPing",
    path="Device.IP.Diagnostics.IPPing.",
    testType="Ping",
    action="Ping",
    resultAction="GetPingResult",
    target="Host",
    parameters=(
        ParamDef("DiagnosticsState", _state("Error", "Error_CannotResolveHostName", "Error_NoRouteToHost",
                                            "Error_Internal", "Error_Other"), True, initial="None"),
        ParamDef("Interface", String(256), True, initial=""),
        ParamDef("ProtocolVersion", String(enumeration=("Any", "IPv4", "IPv6")), True, initial="Any"),
        ParamDef("Host", String(256), True, argument="Host", initial=""),
        ParamDef("NumberOfRepetitions", UnsignedInt(1), True, argument="NumberOfRepetitions", initial=3),
        ParamDef("Timeout", UnsignedInt(1), True, argument="Timeout", initial=1000),
        ParamDef("DataBlockSize", UnsignedInt(1, 65535), True, argument="DataBlockSize", initial=56),
        ParamDef("DSCP", UnsignedInt(0, 63), True, argument="DSCP", initial=0),
        ParamDef("IPAddressUsed", String(45), result="IPAddressUsed"),
        ParamDef("SuccessCount", UnsignedInt(), activeNotify=CAN_DENY, result="SuccessCount"),
        ParamDef("FailureCount", UnsignedInt(), activeNotify=CAN_DENY, result="FailureCount"),
        ParamDef("AverageResponseTime", UnsignedInt(), activeNotify=CAN_DENY, result="AverageResponseTime"),
        ParamDef("MinimumResponseTime", UnsignedInt(), activeNotify=CAN_DENY, result="MinimumResponseTime"),
        ParamDef("MaximumResponseTime", UnsignedInt(), result="MaximumResponseTime"),
        ParamDef("AverageResponseTimeDetailed", UnsignedInt(), activeNotify=CAN_DENY,
                 result="AverageResponseTimeDetailed"),
        ParamDef("MinimumResponseTimeDetailed", UnsignedInt(), activeNotify=CAN_DENY,
                 result="MinimumResponseTimeDetailed"),
        ParamDef("MaximumResponseTimeDetailed", UnsignedInt(), result="MaximumResponseTimeDetailed"),
    ),
)

# TR-181 Device:2.17 Device.IP.Diagnostics.TraceRoute. and its RouteHops.{i}.,
# with BMS:2 Traceroute / GetTracerouteResult. BMS has no NumberOfTries: it is
# kept, counted in the test timer, and the device uses its own.
TRACEROUTE = Kind(
    key="TraceRoute",
    path="Device.IP.Diagnostics.TraceRoute.",
    testType="Traceroute",
    action="Traceroute",
    resultAction="GetTracerouteResult",
    target="Host",
    parameters=(
        ParamDef("DiagnosticsState", _state("Error", "Error_CannotResolveHostName", "Error_NoRouteToHost",
                                            "Error_MaxHopCountExceeded", "Error_Internal", "Error_Other"),
                 True, initial="None"),
        ParamDef("Interface", String(256), True, initial=""),
        ParamDef("ProtocolVersion", String(enumeration=("Any", "IPv4", "IPv6")), True, initial="Any"),
        ParamDef("Host", String(256), True, argument="Host", initial=""),
        ParamDef("NumberOfTries", UnsignedInt(1, 3), True, initial=3),
        ParamDef("Timeout", UnsignedInt(1), True, argument="Timeout", initial=5000),
        ParamDef("DataBlockSize", UnsignedInt(1, 65535), True, argument="DataBlockSize", initial=38),
        ParamDef("DSCP", UnsignedInt(0, 63), True, argument="DSCP", initial=0),
        ParamDef("MaxHopCount", UnsignedInt(1, 64), True, argument="MaxHopCount", initial=30),
        ParamDef("IPAddressUsed", String(45), result="IPAddressUsed"),
        ParamDef("ResponseTime", UnsignedInt(), activeNotify=CAN_DENY, result="ResponseTime"),
    ),
    table=TableDef("RouteHops", "RouteHopsNumberOfEntries", (
        ParamDef("Host", String(256), activeNotify=CAN_DENY, result="Host"),
        ParamDef("HostAddress", String(), activeNotify=CAN_DENY, result="HostAddress"),
        ParamDef("ErrorCode", UnsignedInt(), activeNotify=CAN_DENY, result="ErrorCode"),
        # BMS:2 HopHosts carries no round-trip times: the list stays empty
        # rather than report every response as lost (an item of 0).
        ParamDef("RTTimes", ListOf(UnsignedInt(), minItems=1, maxItems=3), result="RTTimes"),
    )),
)

# BasicManagement:2 A_ARG_TYPE_NSLookupResult's Result/Status and AnswerType,
# which TR-181 Result.{i}.Status and AnswerType enumerate alike.
_RESULT_STATUS = ("Success", "Error_DNSServerNotAvailable", "Error_HostNameNotResolved", "Error_Timeout",
                  "Error_Other")
_ANSWER_TYPES = ("None", "Authoritative", "NonAuthoritative")

# TR-181 Device:2.17 Device.DNS.Diagnostics.NSLookupDiagnostics. and its
# Result.{i}., with BMS:2 NSLookup / GetNSLookupResult (the Result argument is
# a bms:NSLookupResult document with one Result element per repetition).
NSLOOKUP = Kind(
    key="NSLookup",
    path="Device.DNS.Diagnostics.NSLookupDiagnostics.",
    testType="NSLookup",
    action="NSLookup",
    resultAction="GetNSLookupResult",
    target="HostName",
    parameters=(
        ParamDef("DiagnosticsState", _state("Error_DNSServerNotResolved", "Error_Internal", "Error_Other"), True,
                 activeNotify=CAN_DENY, initial="None"),
        ParamDef("Interface", String(256), True, initial=""),
        ParamDef("HostName", String(256), True, argument="HostName", initial=""),
        ParamDef("DNSServer", String(256), True, argument="DNSServer", initial=""),
        ParamDef("Timeout", UnsignedInt(), True, argument="Timeout", initial=1000),
        ParamDef("NumberOfRepetitions", UnsignedInt(), True, argument="NumberOfRepetitions", initial=1),
        ParamDef("SuccessCount", UnsignedInt(), activeNotify=CAN_DENY, result="SuccessCount"),
    ),
    table=TableDef("Result", "ResultNumberOfEntries", (
        ParamDef("Status", String(enumeration=_RESULT_STATUS), activeNotify=CAN_DENY, result="Status"),
        ParamDef("AnswerType", String(enumeration=_ANSWER_TYPES), activeNotify=CAN_DENY, result="AnswerType"),
        ParamDef("HostNameReturned", String(256), result="HostNameReturned"),
        ParamDef("IPAddresses", ListOf(String(45), maxItems=10), activeNotify=CAN_DENY, result="IPAddresses"),
        ParamDef("DNSServerIP", String(45), activeNotify=CAN_DENY, result="DNSServerIP"),
        ParamDef("ResponseTime", UnsignedInt(), activeNotify=CAN_DENY, result="ResponseTime"),
    )),
)

KINDS: tuple[Kind, ...] = (IPPING, TRACEROUTE, NSLOOKUP)
KIND_BY_KEY: Mapping[str, Kind] = {k.key: k for k in KINDS}

# BasicManagement:2 A_ARG_TYPE_PingStatus / _TracerouteStatus / _NSLookupStatus
# (the Status of Get…Result) → TR-181 2.17 DiagnosticsState. A status a device
# makes up is Error_Other (see diagnosticsState).
STATUS_MAPS: Mapping[str, Mapping[str, str]] = {
    "IPPing": {
        "Success": "Complete",
        "Error_CannotResolveHostName": "Error_CannotResolveHostName",
        "Error_Internal": "Error_Internal",
        "Error_Other": "Error_Other",
    },
    "TraceRoute": {
        "Success": "Complete",
        "Error_CannotResolveHostName": "Error_CannotResolveHostName",
        "Error_MaxHopCountExceeded": "Error_MaxHopCountExceeded",
        "Error_Internal": "Error_Internal",
        "Error_Other": "Error_Other",
    },
    "NSLookup": {
        "Success": "Complete",
        "Error_DNSServerNotResolved": "Error_DNSServerNotResolved",
        "Error_Internal": "Error_Internal",
        "Error_Other": "Error_Other",
    },
}

#: What every diagnostic that cannot be carried out ends in (TR-330 Figure 6).
ERROR_OTHER = "Error_Other"


def diagnosticsState(kind: Kind, status: str) -> str:
    """The DiagnosticsState a BMS result C{status} means (L{STATUS_MAPS}; Error_Other for any other)."""
    return STATUS_MAPS[kind.key].get(status.strip(), ERROR_OTHER)


def supportedKinds(actions: frozenset) -> tuple[Kind, ...]:
    """
    The diagnostics objects a device's BMS SCPD supports (TR-330 §4.3.2.1):
    the test action and its result action, and a way to tell that a test
    ended — GetActiveTestIDs or GetTestInfo.
    """
    if not ({"GetActiveTestIDs", "GetTestInfo"} & actions):
        return ()
    return tuple(k for k in KINDS if k.action in actions and k.resultAction in actions)


def testArguments(kind: Kind, config: Mapping[str, Any]) -> dict[str, Any]:
    """The BMS test action's input arguments from the test parameters (in the SCPD's order)."""
    return {p.argument: config[p.name] for p in kind.parameters if p.argument}


def testSeconds(kind: Kind, config: Mapping[str, Any]) -> float:
    """
    The test timer of TR-330 Figure 6 ("based on the type of test, number of
    repetitions, test parameters"): the longest the test may take when every
    probe times out, plus L{TEST_GRACE}, within [L{MIN_TEST_SECONDS},
    L{MAX_TEST_SECONDS}].
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


# ---- the device's answers -----------------------------------------------------------------

_CSV_ID = re.compile(r"[ \t]*[0-9]{1,10}[ \t]*\Z")


def parseIDList(text: str, limit: int = 4096) -> Optional[set[int]]:
    """
    A BMS/SMS ID list (C{TestIDs}, C{ActiveTestIDs}, C{OperationIDs}: ui4
    values separated by commas), or None when it is not one.
    """
    if not isinstance(text, str) or len(text) > limit * 11:
        return None
    if not text.strip():
        return set()
    ids = set()
    for part in text.split(","):
        if not _CSV_ID.match(part) or int(part) > 2**32 - 1:
            return None
        ids.add(int(part))
    return ids


def _uint(text: Any, limit: int = 2**32 - 1) -> int:
    """A ui4 from the device's text (ASCII digits); anything else (a device that lies) is 0."""
    try:
        return parseUnsigned(str(text).strip(" \t\r\n"), limit)
    except ValueError:
        return 0


def _clean(text: Any, limit: int) -> str:
    cleaned = "".join(c for c in str(text) if c.isprintable()).strip()
    return cleaned[:limit]


@dataclass(frozen=True)
class Outcome:
    """
    What a finished test gave: the DiagnosticsState, the device's
    AdditionalInfo, the result values (by L{ParamDef.result} key) and the
    rows of the result table.
    """

    state: str
    additionalInfo: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    rows: tuple[Mapping[str, Any], ...] = ()


def parseResult(kind: Kind, answer: Mapping[str, str]) -> Outcome:
    """The outcome of a test from its Get…Result output arguments."""
    state = diagnosticsState(kind, str(answer.get("Status", "")))
    info = _clean(answer.get("AdditionalInfo", ""), 256)
    if kind.key == "IPPing":
        average, minimum, maximum = (_uint(answer.get(n)) for n in (
            "AverageResponseTime", "MinimumResponseTime", "MaximumResponseTime"))
        values = {
            "IPAddressUsed": "",
            "SuccessCount": _uint(answer.get("SuccessCount")),
            "FailureCount": _uint(answer.get("FailureCount")),
            "AverageResponseTime": average,
            "MinimumResponseTime": minimum,
            "MaximumResponseTime": maximum,
            # BMS gives milliseconds; TR-181's Detailed values are microseconds
            "AverageResponseTimeDetailed": min(average * 1000, 2**32 - 1),
            "MinimumResponseTimeDetailed": min(minimum * 1000, 2**32 - 1),
            "MaximumResponseTimeDetailed": min(maximum * 1000, 2**32 - 1),
        }
        return Outcome(state, info, values)
    if kind.key == "TraceRoute":
        rows = tuple(_hop(h) for h in _hosts(str(answer.get("HopHosts", ""))))
        values = {"IPAddressUsed": "", "ResponseTime": _uint(answer.get("ResponseTime"))}
        return Outcome(state, info, values, rows)
    rows = parseNSLookupResult(str(answer.get("Result", "")))
    return Outcome(state, info, {"SuccessCount": _uint(answer.get("SuccessCount"))}, rows)


def _hosts(text: str) -> list[str]:
    hosts = [_clean(h, 256) for h in text.split(",")[:MAX_ROWS]]
    return [h for h in hosts if h]


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return ""


def _hop(host: str) -> Mapping[str, Any]:
    # HostAddress holds the hop's address when it is one (TR-181: "the last IP
    # address of the host returned for this hop"); Host is what BMS gave
    return {"Host": host, "HostAddress": _address(host), "ErrorCode": 0, "RTTimes": ()}


def parseNSLookupResult(document: str) -> tuple[Mapping[str, Any], ...]:
    """
    The rows of a BMS:2 C{NSLookupResult} document (one C{Result} element per
    repetition). A document that is not one gives no rows; values that break
    TR-181's types are cleaned (an unknown Status is Error_Other, an unknown
    AnswerType None, addresses beyond ten dropped).
    """
    if not document.strip():
        return ()
    try:
        root = xmlsafe.parse(document, maxBytes=256 * 1024)
    except xmlsafe.XMLRejected:
        return ()
    rows = []
    for element in root:
        if not isinstance(element.tag, str) or element.tag.rpartition("}")[2] != "Result":
            continue
        fields = {child.tag.rpartition("}")[2]: (child.text or "")
                  for child in element if isinstance(child.tag, str)}
        status = fields.get("Status", "").strip()
        answer = fields.get("AnswerType", "").strip()
        addresses = tuple(a for a in (_clean(x, 45) for x in fields.get("IPAddresses", "").split(",")) if a)[:10]
        rows.append({
            "Status": status if status in _RESULT_STATUS else "Error_Other",
            "AnswerType": answer if answer in _ANSWER_TYPES else "None",
            "HostNameReturned": _clean(fields.get("HostNameReturned", ""), 256),
            "IPAddresses": addresses,
            "DNSServerIP": _clean(fields.get("DNSServerIP", ""), 45),
            "ResponseTime": _uint(fields.get("ResponseTime", "")),
        })
        if len(rows) >= MAX_ROWS:
            break
    return tuple(rows)


# ---- the durable record ----------------------------------------------------------------

class Phase(str, Enum):
    """
    The phases of one diagnostic (see L{proxier.upnpdm.diagcontrol.Diagnostic});
    each is saved by its value.
    """

    IDLE = "idle"
    WAITING = "waiting"
    SENDING = "sending"
    RUNNING = "running"
    COLLECTING = "collecting"


#: The phases' saved values.
PHASES = tuple(phase.value for phase in Phase)

#: The moves a diagnostic's phase may make (TR-330 §4.5 Figure 6, as
#: L{proxier.upnpdm.diagcontrol.Diagnostic} drives it): phase → the phases it
#: may go to. Any phase under way goes back to idle (an end, or the ACS's new
#: request or Canceled); idle goes only to waiting (a request).
TRANSITIONS: Mapping[Phase, frozenset] = {
    Phase.IDLE: frozenset({Phase.WAITING}),
    # the session or the device is awaited (again, after a retry delay);
    # the test action goes out
    Phase.WAITING: frozenset({Phase.WAITING, Phase.SENDING, Phase.IDLE}),
    # the action failed (retry) or was in flight at a restart; its TestID came
    Phase.SENDING: frozenset({Phase.WAITING, Phase.RUNNING, Phase.IDLE}),
    # a poll says it still runs; it ended on the device
    Phase.RUNNING: frozenset({Phase.RUNNING, Phase.COLLECTING, Phase.IDLE}),
    # the result read again (after a restart); GetTestInfo says it still runs
    Phase.COLLECTING: frozenset({Phase.COLLECTING, Phase.RUNNING, Phase.IDLE}),
}


class IllegalTransition(RuntimeError):
    """A diagnostic's phase was asked to make a move L{TRANSITIONS} refuses (a bug)."""


class RecordError(ValueError):
    """A stored record that cannot be used."""


@dataclass
class Record:
    """
    Everything the proxier keeps about one diagnostics object, saved before
    anyone is told: the test parameters the ACS set, the DiagnosticsState, the
    phase of the test under way (and its TestID), and the last results.

    @ivar generation: counts requests, so that an answer about an earlier
        request is recognised and ignored.
    @ivar notify: "8 DIAGNOSTICS COMPLETE" is owed to the endpoint (set with
        the final state, cleared once told).
    @ivar cancel: TestIDs of tests the ACS terminated, to cancel on the device.
    """

    kind: Kind
    config: dict[str, Any]
    state: str = "None"
    phase: Phase = Phase.IDLE
    generation: int = 0
    testId: Optional[int] = None
    requestedAt: float = 0.0
    sentAt: float = 0.0
    attempts: int = 0
    polls: int = 0
    notify: bool = False
    cancel: list[int] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    additionalInfo: str = ""

    @classmethod
    def fresh(cls, kind: Kind) -> "Record":
        return cls(kind, kind.initialConfig())

    @property
    def pending(self) -> bool:
        """A test is requested and not yet over."""
        return self.phase != Phase.IDLE

    def moveTo(self, phase: Phase) -> None:
        """
        Go to C{phase}.

        @raise IllegalTransition: when L{TRANSITIONS} does not allow the move
            (the phase is left as it was).
        """
        current = Phase(self.phase)
        if phase not in TRANSITIONS[current]:
            raise IllegalTransition(f"{self.kind.key}: no move from {current.value} to {Phase(phase).value}")
        self.phase = phase

    def toJSON(self) -> dict:
        return {
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.config.items()},
            "state": self.state, "phase": Phase(self.phase).value, "generation": self.generation, "testId": self.testId,
            "requestedAt": self.requestedAt, "sentAt": self.sentAt, "attempts": self.attempts, "polls": self.polls,
            "notify": self.notify, "cancel": list(self.cancel),
            "values": dict(self.values),
            "rows": [{k: (list(v) if isinstance(v, tuple) else v) for k, v in row.items()} for row in self.rows],
            "additionalInfo": self.additionalInfo,
        }

    @classmethod
    def fromJSON(cls, kind: Kind, raw: Any) -> "Record":
        """
        @raise RecordError: when C{raw} is not a record of C{kind} whose every
            value fits TR-181's type (a hand edit, a bug of another version).
        """
        try:
            record = cls(kind, kind.initialConfig())
            for name, value in dict(raw["config"]).items():
                param = kind.parameter(name)
                if not param.writable or name == "DiagnosticsState":
                    raise RecordError(f"{name} is not a test parameter")
                param.type.check(value)
                record.config[name] = value
            state = raw["state"]
            kind.parameter("DiagnosticsState").type.check(state)
            record.state = state
            if raw["phase"] not in PHASES:
                raise RecordError(f"unknown phase {raw['phase']!r}")
            record.phase = Phase(raw["phase"])
            record.generation = int(raw["generation"])
            record.testId = None if raw["testId"] is None else int(raw["testId"])
            record.requestedAt = float(raw["requestedAt"])
            record.sentAt = float(raw["sentAt"])
            record.attempts = int(raw["attempts"])
            record.polls = int(raw["polls"])
            record.notify = bool(raw["notify"])
            record.cancel = [int(i) for i in raw["cancel"]][:16]
            record.additionalInfo = str(raw["additionalInfo"])[:256]
            results = {p.result: p for p in kind.parameters if p.result}
            for key, value in dict(raw["values"]).items():
                param = results[key]
                param.type.check(value)
                record.values[key] = value
            columns = {c.result: c for c in kind.table.columns} if kind.table else {}
            for row in list(raw["rows"])[:MAX_ROWS]:
                clean: dict[str, Any] = {}
                for key, value in dict(row).items():
                    column = columns[key]
                    if isinstance(column.type, ListOf):
                        value = tuple(value)
                        if value:
                            column.type.check(value)
                    else:
                        column.type.check(value)
                    clean[key] = value
                record.rows.append(clean)
        except RecordError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise RecordError(f"{kind.key}: {e}") from None
        return record


def rowsFor(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Result rows as the record keeps them: copies, at most L{MAX_ROWS}."""
    return [dict(row) for row in rows[:MAX_ROWS]]
