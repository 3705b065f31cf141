# -*- test-case-name: tests.test_upnpdm_diag -*-
"""
TR-330 §4.3.2 and §4.5 (Table 3's diagnostics rows): the TR-181 diagnostics
objects of L{proxier.proxy.diagnostics} run as BasicManagement:2 tests —
which BMS action starts each, which reads its result, how the BMS Status
maps onto DiagnosticsState, how the device's answers (ID lists, result
arguments, the NSLookupResult document) are read, bounded and tolerant of a
device that lies.

    Device.IP.Diagnostics.IPPing.               ↔ BMS Ping        / GetPingResult
    Device.IP.Diagnostics.TraceRoute.           ↔ BMS Traceroute  / GetTracerouteResult
    Device.DNS.Diagnostics.NSLookupDiagnostics. ↔ BMS NSLookup    / GetNSLookupResult

L{BMSTestRunner} is the L{ITestRunner} of a UPnP DM device; the tables and
parsers are data and pure functions.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional, Sequence

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from zope.interface import implementer

from proxier import xmlsafe
from proxier.asciinum import parseUnsigned
from proxier.proxy.diagnostics import MAX_ROWS, ITestRunner, Outcome, TestFailed, TestStillRunning
from proxier.proxy.diagtables import (ANSWER_TYPES, ERROR_OTHER, IPPING, KINDS, NSLOOKUP, RESULT_STATUS, TRACEROUTE,
                                      Kind)
from proxier.upnp.soap import UPnPError
from proxier.upnpdm.link import DeviceLink

__all__ = [
    "BMSTest",
    "BMS_TESTS",
    "STATUS_MAPS",
    "BMSTestRunner",
    "diagnosticsState",
    "supportedKinds",
    "testArguments",
    "parseResult",
    "parseNSLookupResult",
    "parseIDList",
    "activeTestIDs",
]


@dataclass(frozen=True)
class BMSTest:
    """
    The BMS test behind one diagnostics object.

    @ivar testType: the BMS C{A_ARG_TYPE_TestType} value (GetTestInfo C{Type}).
    @ivar action: the BMS action starting the test.
    @ivar resultAction: the BMS action reading its result.
    @ivar arguments: the test action's input arguments, in the SCPD's order;
        each is fed by the TR-181 test parameter of the same name. The other
        test parameters have no BMS equivalent: they are kept and shown, and
        the device decides (TraceRoute's NumberOfTries, Interface,
        ProtocolVersion).
    """

    testType: str
    action: str
    resultAction: str
    arguments: tuple[str, ...]


# TR-330 §4.3.2.1: BasicManagement:2 Ping / GetPingResult, Traceroute /
# GetTracerouteResult, NSLookup / GetNSLookupResult (whose Result argument is a
# bms:NSLookupResult document with one Result element per repetition).
BMS_TESTS: Mapping[str, BMSTest] = {
    IPPING.key: BMSTest("Ping", "Ping", "GetPingResult",
                        ("Host", "NumberOfRepetitions", "Timeout", "DataBlockSize", "DSCP")),
    TRACEROUTE.key: BMSTest("Traceroute", "Traceroute", "GetTracerouteResult",
                            ("Host", "Timeout", "DataBlockSize", "DSCP", "MaxHopCount")),
    NSLOOKUP.key: BMSTest("NSLookup", "NSLookup", "GetNSLookupResult",
                          ("HostName", "DNSServer", "Timeout", "NumberOfRepetitions")),
}

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
    return tuple(k for k in KINDS if BMS_TESTS[k.key].action in actions and BMS_TESTS[k.key].resultAction in actions)


def testArguments(kind: Kind, config: Mapping[str, Any]) -> dict[str, Any]:
    """The BMS test action's input arguments from the test parameters (in the SCPD's order)."""
    return {name: config[name] for name in BMS_TESTS[kind.key].arguments}


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


def parseResult(kind: Kind, answer: Mapping[str, str]) -> Outcome:
    """The outcome of a test from its Get…Result output arguments (results by their TR-181 names)."""
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
            "Status": status if status in RESULT_STATUS else ERROR_OTHER,
            "AnswerType": answer if answer in ANSWER_TYPES else "None",
            "HostNameReturned": _clean(fields.get("HostNameReturned", ""), 256),
            "IPAddresses": addresses,
            "DNSServerIP": _clean(fields.get("DNSServerIP", ""), 45),
            "ResponseTime": _uint(fields.get("ResponseTime", "")),
        })
        if len(rows) >= MAX_ROWS:
            break
    return tuple(rows)


def activeTestIDs(variables: Sequence[tuple[str, str]], log: Any) -> Iterator[set[int]]:
    """The ActiveTestIDs of a BMS event; a value that is not an ID list is logged and skipped."""
    for name, value in variables:
        if name != "ActiveTestIDs":
            continue
        active = parseIDList(value)
        if active is None:
            log.warn("ActiveTestIDs {value!r} is not an ID list; ignored", value=value[:60])
            continue
        yield active


# ---- the runner ---------------------------------------------------------------------------

# BMS:2 errors of the result actions: 703 "test active" (TR-330 §4.5.1) and
# 708 (rygel answers a result of an active test with it); 706 no such test.
_STILL_ACTIVE = frozenset({703, 708})
_NO_SUCH_TEST = 706


def _describe(failure: Failure) -> str:
    if failure.check(UPnPError):
        return f"UPnP error {failure.value.code} {failure.value.description}".strip()
    return failure.getErrorMessage() or failure.type.__name__


def _refused(failure: Failure) -> Failure:
    """A UPnP error is the device's answer: the test cannot go on (Figure 6 "Fail")."""
    if failure.check(UPnPError):
        raise TestFailed(_describe(failure))
    return failure


@implementer(ITestRunner)
class BMSTestRunner:
    """
    The diagnostics' tests run on a device's BasicManagement:2 (TR-330 §4.5
    Figure 6): the test action, GetActiveTestIDs (else GetTestInfo) to see
    whether it still runs, GetTestInfo and the result action to read it,
    CancelTest.
    """

    __slots__ = ("link", "log", "_completed")  # one per device, issue 19

    def __init__(self, link: DeviceLink) -> None:
        self.link = link
        self.log = link.log
        # tests a GetTestInfo poll saw Completed: their result is read without asking GetTestInfo again
        # (a tuple, rebound: the empty tuple is one object for every device, a set costs 216 bytes: issue 19)
        self._completed: tuple[int, ...] = ()

    def start(self, kind: Kind, parameters: Mapping[str, Any]) -> Deferred:
        call = self.link.call("bms", BMS_TESTS[kind.key].action, testArguments(kind, parameters))

        def started(answer: Mapping[str, str]) -> int:
            testId = parseIDList(str(answer.get("TestID", "")))
            if not testId or len(testId) != 1:
                self.log.warn("{kind}: the device answered TestID {id!r}, not a test ID", kind=kind.key,
                              id=str(answer.get("TestID", ""))[:40])
                raise TestFailed("the device's TestID is unusable")
            return testId.pop()

        return call.addCallbacks(started, _refused)

    def poll(self, kind: Kind, testId: int) -> Deferred:
        if self.link.has("bms", "GetActiveTestIDs"):
            call = self.link.call("bms", "GetActiveTestIDs")

            def answered(answer: Mapping[str, str]) -> bool:
                active = parseIDList(str(answer.get("TestIDs", "")))
                if active is None:
                    raise ValueError("GetActiveTestIDs answered no ID list")
                return testId in active
        else:
            call = self.link.call("bms", "GetTestInfo", {"TestID": testId})

            def answered(answer: Mapping[str, str]) -> bool:
                running = self._running(kind, testId, answer)
                if not running and testId not in self._completed:
                    self._completed += (testId,)
                return running

        def failed(failure: Failure) -> Failure:
            if failure.check(UPnPError) and failure.value.code == _NO_SUCH_TEST:
                raise TestFailed("the device no longer knows the test")
            return failure

        return call.addCallbacks(answered, failed)

    def result(self, kind: Kind, testId: int) -> Deferred:
        if testId in self._completed or not self.link.has("bms", "GetTestInfo"):
            self._forget(testId)
            return self._readResult(kind, testId)
        call = self.link.call("bms", "GetTestInfo", {"TestID": testId})

        def answered(answer: Mapping[str, str]) -> Any:
            if self._running(kind, testId, answer):
                raise TestStillRunning()
            return self._readResult(kind, testId)

        return call.addCallbacks(answered, self._unreadable)

    def _readResult(self, kind: Kind, testId: int) -> Deferred:
        call = self.link.call("bms", BMS_TESTS[kind.key].resultAction, {"TestID": testId})

        def failed(failure: Failure) -> Failure:
            if failure.check(UPnPError) and failure.value.code in _STILL_ACTIVE \
                    and not self.link.has("bms", "GetTestInfo"):
                raise TestStillRunning()
            return self._unreadable(failure)

        return call.addCallbacks(lambda answer: parseResult(kind, answer), failed)

    @staticmethod
    def _unreadable(failure: Failure) -> Failure:
        if failure.check(UPnPError):
            raise TestFailed(f"the result could not be read ({_describe(failure)})")
        return failure

    def _running(self, kind: Kind, testId: int, answer: Mapping[str, str]) -> bool:
        """What GetTestInfo says of the test: still running (True) or completed (False); else it cannot go on."""
        state = str(answer.get("State", "")).strip()
        testType = str(answer.get("Type", "")).strip()
        if testType and testType != BMS_TESTS[kind.key].testType:
            raise TestFailed(f"the device says test {testId} is a {testType[:20]} test")
        if state in ("Requested", "InProgress"):
            return True
        if state == "Completed":
            return False
        if state == "Canceled":
            raise TestFailed("the test was canceled on the device")
        self.log.warn("{kind}: GetTestInfo answered State {state!r}", kind=kind.key, state=state[:20])
        raise ValueError(f"unknown test state {state[:20]!r}")

    def _forget(self, testId: int) -> None:
        self._completed = tuple(t for t in self._completed if t != testId)

    def canCancel(self) -> bool:
        return self.link.has("bms", "CancelTest")

    def cancel(self, testId: int) -> Deferred:
        self._forget(testId)
        return self.link.call("bms", "CancelTest", {"TestID": testId}).addErrback(_refused)
