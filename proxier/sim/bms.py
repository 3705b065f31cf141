# -*- test-case-name: tests.test_sim_bms -*-
"""
BasicManagement:2 of a simulated device: reboot and baseline reset, the
device status, the Ping / NSLookup / Traceroute tests with simulated results
(L{proxier.sim.diagnostics}), and the device's logs.

A test is an explicit state machine (BMS:2 A_ARG_TYPE_TestState)::

    Requested ──start──▶ InProgress ──finish──▶ Completed
        │                    │
        └──────cancel────────┴──────────────▶ Canceled

It is Requested when asked; it starts after L{startDelay} (or, in
SequenceMode, when the test before it ended); it completes after the time
L{diagnostics.testDuration} gives. C{TestIDs} (every test still known, the
oldest forgotten beyond L{MAX_TESTS}) and C{ActiveTestIDs} (Requested or
InProgress) are evented — TR-330 Table 1 maps an ActiveTestIDs event that
drops a test to "8 DIAGNOSTICS COMPLETE".

Reboot and BaselineReset are answered first and carried out by the device
(L{BMSDevice}) right after: its byebye with the announcement, the pause, the
alive with a new BOOTID.

Errors (BMS:2, as the rygel implementation answers them): 706 no such test,
707 a result action for another test type, 708 a result of a canceled test,
709 CancelTest of a test that ended; a result asked while the test is still
active is answered L{resultWhileActiveError} — 703 ("Test active", TR-330
§4.5.1) or 708 (rygel). Unknown LogURI 704, SetLogInfo of a log that is not
configurable 705.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

from proxier.sim import diagnostics
from proxier.sim.cms import formatTime
from proxier.sim.errors import BMS_ERRORS, ActionError, bmsError
from proxier.sim.logs import LOG_LEVELS, DeviceLog
from proxier.sim.service import Service
from proxier.sim.servicetypes import BMS2

__all__ = ["BasicManagement", "BMSDevice", "Test", "REQUESTED", "IN_PROGRESS", "CANCELED", "COMPLETED", "MAX_TESTS"]

REQUESTED = "Requested"
IN_PROGRESS = "InProgress"
CANCELED = "Canceled"
COMPLETED = "Completed"
_ACTIVE = (REQUESTED, IN_PROGRESS)

#: Tests remembered; beyond, the oldest ended test is forgotten.
MAX_TESTS = 32
_MAX_UI4 = 2**32 - 1

# Which result action reads which test type.
_RESULT_ACTIONS = {"GetPingResult": "Ping", "GetNSLookupResult": "NSLookup", "GetTracerouteResult": "Traceroute"}


class BMSDevice(Protocol):
    """What BasicManagement asks of its device."""

    def requestReboot(self, reason: str = "", delay: Optional[float] = None) -> None:
        """Reboot, soon (after the action's response is out), or after C{delay} seconds."""

    def requestBaselineReset(self) -> None:
        """Reset to factory state and reboot, soon."""

    def logURL(self, name: str) -> str:
        """The HTTP URL at which the log C{name} is served."""


@dataclass
class Test:
    """One diagnostic test and where it stands."""

    id: int
    type: str
    arguments: dict
    state: str = REQUESTED
    result: Any = None
    timer: Any = field(default=None, repr=False)


class BasicManagement(Service):
    """
    The BMS:2 service of one device.

    @ivar deviceStatus: the first field of DeviceStatus (C{"OK"}, C{"Error"}...).
    @ivar rebootStatus: what Reboot answers: C{"RebootNow"}, or C{"RebootLater"}
        (the device then reboots L{rebootLaterDelay} seconds later).
    @ivar rules: the L{diagnostics.DiagnosticsRules} (per-host failures, speed).
    @ivar logs: the device's logs by name.
    """

    serviceType = BMS2
    shortName = "bms"
    errorTable = BMS_ERRORS

    startDelay = 0.05

    def __init__(self, device: BMSDevice, clock: Any, *, log: Any = None) -> None:
        super().__init__()
        self.device = device
        self.clock = clock
        if log is not None:
            self.log = log
        self.rules = diagnostics.DiagnosticsRules()
        self.resultWhileActiveError = 703
        self.rebootStatus = "RebootNow"
        self.rebootLaterDelay = 30.0
        self.sequenceMode = False
        self.deviceStatus = "OK"
        self._statusTime = clock.seconds()
        self._tests: dict[int, Test] = {}
        self._nextId = 1
        now = clock.seconds
        self.logs: dict[str, DeviceLog] = {
            "system": DeviceLog("system", now, formatTime, maxSize=32768, persistent=True),
            "boot": DeviceLog("boot", now, formatTime, maxSize=8192, level="Debug", configurable=False,
                              persistent=False),
        }

    # -- evented state -----------------------------------------------------

    def value_DeviceStatus(self) -> str:
        return f"{self.deviceStatus},{formatTime(self._statusTime)}"

    def value_SequenceMode(self) -> bool:
        return self.sequenceMode

    def value_TestIDs(self) -> str:
        return ",".join(str(i) for i in self._tests)

    def value_ActiveTestIDs(self) -> str:
        return ",".join(str(t.id) for t in self._tests.values() if t.state in _ACTIVE)

    def value_LogURIs(self) -> str:
        return ",".join(log.uri for log in self.logs.values())

    def setDeviceStatus(self, status: str) -> None:
        """The device's own view of its health changes (C{"OK"}, C{"Error"}...)."""
        if "," in status or not status:
            raise ValueError("a device status is one word")
        self.deviceStatus = status
        self._statusTime = self.clock.seconds()
        self.changed("DeviceStatus")

    def record(self, level: str, text: str) -> None:
        """A line for every log that takes it."""
        for log in self.logs.values():
            log.append(level, text)

    def halt(self) -> None:
        """The device goes down: every test is lost."""
        for test in self._tests.values():
            if test.timer is not None and test.timer.active():
                test.timer.cancel()
        self._tests.clear()

    def rebooted(self) -> None:
        """The device booted: no tests, the status is fresh, volatile logs are empty."""
        self.halt()
        self._statusTime = self.clock.seconds()
        for log in self.logs.values():
            log.rebooted()

    # -- reboot --------------------------------------------------------------

    def action_Reboot(self) -> dict:
        self.record("Notice", f"reboot requested by a control point ({self.rebootStatus})")
        later = self.rebootStatus == "RebootLater"
        self.device.requestReboot("reboot requested by a control point", self.rebootLaterDelay if later else None)
        return {"RebootStatus": self.rebootStatus}

    def action_BaselineReset(self) -> dict:
        self.record("Notice", "baseline reset requested by a control point")
        self.device.requestBaselineReset()
        return {}

    def action_GetDeviceStatus(self) -> dict:
        return {"DeviceStatus": self.value_DeviceStatus()}

    def action_SetSequenceMode(self, NewSequenceMode: bool) -> dict:
        old = self.sequenceMode
        if old != NewSequenceMode:
            self.sequenceMode = NewSequenceMode
            self.changed("SequenceMode")
            if not NewSequenceMode:
                self._startWaiting()
        return {"OldSequenceMode": old}

    def action_GetSequenceMode(self) -> dict:
        return {"SequenceMode": self.sequenceMode}

    # -- tests ---------------------------------------------------------------

    def action_Ping(self, Host: str, NumberOfRepetitions: int, Timeout: int, DataBlockSize: int, DSCP: int) -> dict:
        self._checkHost(Host)
        return {"TestID": self._request("Ping", dict(Host=Host, NumberOfRepetitions=NumberOfRepetitions,
                                                      Timeout=Timeout, DataBlockSize=DataBlockSize, DSCP=DSCP))}

    def action_NSLookup(self, HostName: str, DNSServer: str, NumberOfRepetitions: int, Timeout: int) -> dict:
        self._checkHost(HostName)
        return {"TestID": self._request("NSLookup", dict(HostName=HostName, DNSServer=DNSServer,
                                                          NumberOfRepetitions=NumberOfRepetitions, Timeout=Timeout))}

    def action_Traceroute(self, Host: str, Timeout: int, DataBlockSize: int, MaxHopCount: int, DSCP: int) -> dict:
        self._checkHost(Host)
        return {"TestID": self._request("Traceroute", dict(Host=Host, Timeout=Timeout, DataBlockSize=DataBlockSize,
                                                            MaxHopCount=MaxHopCount, DSCP=DSCP))}

    @staticmethod
    def _checkHost(host: str) -> None:
        if not host.strip() or len(host) > 256 or any(c.isspace() or ord(c) < 32 for c in host.strip()):
            raise ActionError(402, detail=f"{host[:40]!r} is not a host")

    def _request(self, kind: str, arguments: dict) -> int:
        testId = self._nextId
        self._nextId = 1 if self._nextId >= _MAX_UI4 else self._nextId + 1
        test = Test(testId, kind, arguments)
        self._tests[testId] = test
        self._forgetOld()
        self.record("Informational", f"{kind} test {testId} requested for {next(iter(arguments.values()))}")
        if not (self.sequenceMode and self._running()):
            test.timer = self.clock.callLater(self.startDelay, self._start, test)
        self.changed("TestIDs", "ActiveTestIDs")
        return testId

    def _running(self) -> bool:
        return any(t.state == IN_PROGRESS or (t.timer is not None and t.timer.active())
                   for t in self._tests.values() if t.state in _ACTIVE)

    def _forgetOld(self) -> None:
        while len(self._tests) > MAX_TESTS:
            ended = next((i for i, t in self._tests.items() if t.state not in _ACTIVE), None)
            if ended is None:
                break
            del self._tests[ended]

    def _start(self, test: Test) -> None:
        test.state = IN_PROGRESS
        test.timer = self.clock.callLater(diagnostics.testDuration(test.type, test.arguments, self.rules),
                                          self._finish, test)

    def _finish(self, test: Test) -> None:
        a = test.arguments
        if test.type == "Ping":
            test.result = diagnostics.ping(a["Host"], a["NumberOfRepetitions"], a["Timeout"],
                                           a["DataBlockSize"], self.rules)
        elif test.type == "NSLookup":
            test.result = diagnostics.nslookup(a["HostName"], a["DNSServer"], a["NumberOfRepetitions"],
                                               a["Timeout"], self.rules)
        else:
            test.result = diagnostics.traceroute(a["Host"], a["Timeout"], a["DataBlockSize"],
                                                 a["MaxHopCount"], self.rules)
        test.state = COMPLETED
        test.timer = None
        self.record("Informational", f"{test.type} test {test.id} completed: {test.result.status}")
        self.changed("ActiveTestIDs")
        self._startWaiting()

    def _startWaiting(self) -> None:
        """Requested tests that wait start: all of them, or in SequenceMode the next one when none runs."""
        if self.sequenceMode and self._running():
            return
        for test in self._tests.values():
            if test.state == REQUESTED and (test.timer is None or not test.timer.active()):
                test.timer = self.clock.callLater(self.startDelay, self._start, test)
                if self.sequenceMode:
                    return

    def _test(self, testId: int) -> Test:
        test = self._tests.get(testId)
        if test is None:
            raise bmsError(706, f"no test {testId}")
        return test

    def _result(self, action: str, testId: int) -> Any:
        test = self._test(testId)
        if test.type != _RESULT_ACTIONS[action]:
            raise bmsError(707, f"test {testId} is a {test.type} test")
        if test.state in _ACTIVE:
            raise bmsError(self.resultWhileActiveError, f"test {testId} is {test.state}")
        if test.state == CANCELED:
            raise bmsError(708, f"test {testId} was canceled")
        return test.result

    def action_GetPingResult(self, TestID: int) -> dict:
        r = self._result("GetPingResult", TestID)
        return {"Status": r.status, "AdditionalInfo": r.additionalInfo, "SuccessCount": r.successCount,
                "FailureCount": r.failureCount, "AverageResponseTime": r.average,
                "MinimumResponseTime": r.minimum, "MaximumResponseTime": r.maximum}

    def action_GetNSLookupResult(self, TestID: int) -> dict:
        r = self._result("GetNSLookupResult", TestID)
        return {"Status": r.status, "AdditionalInfo": r.additionalInfo, "SuccessCount": r.successCount,
                "Result": r.result}

    def action_GetTracerouteResult(self, TestID: int) -> dict:
        r = self._result("GetTracerouteResult", TestID)
        return {"Status": r.status, "AdditionalInfo": r.additionalInfo, "ResponseTime": r.responseTime,
                "HopHosts": r.hopHosts}

    def action_GetTestIDs(self) -> dict:
        return {"TestIDs": self.value_TestIDs()}

    def action_GetActiveTestIDs(self) -> dict:
        return {"TestIDs": self.value_ActiveTestIDs()}

    def action_GetTestInfo(self, TestID: int) -> dict:
        test = self._test(TestID)
        return {"Type": test.type, "State": test.state}

    def action_CancelTest(self, TestID: int) -> dict:
        test = self._test(TestID)
        if test.state not in _ACTIVE:
            raise bmsError(709, f"test {TestID} is {test.state}")
        if test.timer is not None and test.timer.active():
            test.timer.cancel()
        test.timer = None
        test.state = CANCELED
        self.record("Informational", f"{test.type} test {test.id} canceled")
        self.changed("ActiveTestIDs")
        self._startWaiting()
        return {}

    def testState(self, testId: int) -> Optional[str]:
        """The state of a test, or None (for tests and the demo)."""
        test = self._tests.get(testId)
        return test.state if test is not None else None

    # -- logs --------------------------------------------------------------

    def _log(self, uri: str) -> DeviceLog:
        for log in self.logs.values():
            if log.uri == uri.strip():
                return log
        raise bmsError(704, f"no log {uri[:80]!r}")

    def action_GetLogURIs(self) -> dict:
        return {"LogURIs": self.value_LogURIs()}

    def action_GetLogInfo(self, LogURI: str) -> dict:
        log = self._log(LogURI)
        return {"Configurable": log.configurable, "Enabled": log.enabled, "LogLevel": log.level,
                "LogURL": self.device.logURL(log.name), "MaxSize": log.maxSize,
                "LastChange": formatTime(log.lastChange)}

    def action_SetLogInfo(self, LogURI: str, Enabled: bool, LogLevel: str) -> dict:
        log = self._log(LogURI)
        if not log.configurable:
            raise bmsError(705, f"log {log.name} cannot be configured")
        if LogLevel not in LOG_LEVELS:
            raise ActionError(601, detail=f"{LogLevel!r} is not a log level")
        log.configure(Enabled, LogLevel)
        return {}
