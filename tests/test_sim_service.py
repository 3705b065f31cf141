"""Tests for L{proxier.sim.service}: UPnP action dispatch (UDA 1.1 §3.2.2) and evented variables."""

from __future__ import annotations

from typing import Any

from twisted.trial import unittest

from proxier.sim.errors import UDA_ERRORS, ActionError
from proxier.sim.service import MAX_STRING_ARGUMENT, ActionContext, Service, convertArgument, formatArgument
from proxier.sim.servicetypes import BMS2, StateVariable

from tests._helpers import LogCapture


class Probe(Service):
    """A BasicManagement with a few actions, to exercise the base class."""

    serviceType = BMS2
    shortName = "probe"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.status = "OK,2024-01-01T00:00:00Z"

    def action_GetDeviceStatus(self) -> dict:
        return {"DeviceStatus": self.status}

    def action_Ping(self, Host, NumberOfRepetitions, Timeout, DataBlockSize, DSCP) -> dict:
        self.calls.append(("Ping", (Host, NumberOfRepetitions, Timeout, DataBlockSize, DSCP)))
        return {"TestID": 5}

    def action_SetSequenceMode(self, NewSequenceMode) -> dict:
        self.calls.append(("SetSequenceMode", NewSequenceMode))
        return {"OldSequenceMode": NewSequenceMode}

    def action_CancelTest(self, TestID) -> dict:
        raise RuntimeError("a bug")

    def action_GetTestIDs(self) -> dict:
        return {}

    def action_SetLogInfo(self, LogURI, Enabled, LogLevel) -> dict:
        return {}

    def value_DeviceStatus(self) -> str:
        return self.status

    def value_SequenceMode(self) -> bool:
        return False


PING = dict(Host="192.0.2.1", NumberOfRepetitions="3", Timeout="1000", DataBlockSize="32", DSCP="0")


def code(test: unittest.TestCase, f, *args) -> int:
    with test.assertRaises(ActionError) as caught:
        f(*args)
    return caught.exception.code


class InvokeTests(unittest.TestCase):
    def setUp(self) -> None:
        self.service = Probe()

    def test_convertsArguments(self) -> None:
        """In-arguments arrive typed after their related state variable; out-arguments go out as text."""
        out = self.service.invoke("Ping", PING)
        self.assertEqual(out, [("TestID", "5")])
        self.assertEqual(self.service.calls, [("Ping", ("192.0.2.1", 3, 1000, 32, 0))])
        self.assertEqual(self.service.invoke("SetSequenceMode", {"NewSequenceMode": "true"}),
                         [("OldSequenceMode", "1")])

    def test_implementedActions(self) -> None:
        """Only actions with a method are offered, in template order; a disabled optional one is not."""
        self.assertEqual(self.service.implementedActions(),
                         ["GetDeviceStatus", "SetSequenceMode", "Ping", "GetTestIDs", "CancelTest", "SetLogInfo"])
        self.service.disableAction("Ping")
        self.assertNotIn("Ping", self.service.implementedActions())
        self.assertEqual(code(self, self.service.invoke, "Ping", PING), 401)
        self.assertRaises(ValueError, self.service.disableAction, "GetDeviceStatus")
        self.assertRaises(ValueError, self.service.disableAction, "Fly")

    def test_udaErrors(self) -> None:
        """Unknown action 401; missing, extra or mistyped argument 402; out of the allowed list or range 601."""
        s = self.service
        self.assertEqual(code(self, s.invoke, "Fly", {}), 401)
        self.assertEqual(code(self, s.invoke, "Reboot", {}), 401)  # in the template, not implemented
        self.assertEqual(code(self, s.invoke, "Ping", dict(PING, Extra="1")), 402)
        self.assertEqual(code(self, s.invoke, "Ping", {k: v for k, v in PING.items() if k != "DSCP"}), 402)
        self.assertEqual(code(self, s.invoke, "Ping", dict(PING, Timeout="soon")), 402)
        self.assertEqual(code(self, s.invoke, "Ping", dict(PING, NumberOfRepetitions="-1")), 402)
        self.assertEqual(code(self, s.invoke, "Ping", dict(PING, DSCP="64")), 601)
        self.assertEqual(code(self, s.invoke, "SetSequenceMode", {"NewSequenceMode": "maybe"}), 402)
        self.assertEqual(code(self, s.invoke, "SetLogInfo", {"LogURI": "u", "Enabled": "1", "LogLevel": "Loud"}), 601)
        self.assertEqual(s.calls, [])

    def test_stringTooLong(self) -> None:
        """A string argument beyond the cap is 605."""
        self.assertEqual(code(self, self.service.invoke, "Ping", dict(PING, Host="h" * (MAX_STRING_ARGUMENT + 1))), 605)

    def test_authorizer(self) -> None:
        """The role check sees the service, the action and the caller; a refusal is 606 and nothing runs."""
        seen = []

        def authorizer(serviceId: str, action: str, context: ActionContext) -> bool:
            seen.append((serviceId, action, context.peer, context.secure))
            return action != "Ping"

        self.service.authorizer = authorizer
        context = ActionContext(peer="192.168.1.5", secure=True)
        self.assertEqual(code(self, self.service.invoke, "Ping", PING, context), 606)
        self.assertEqual(self.service.invoke("GetDeviceStatus", {}, context), [("DeviceStatus", self.service.status)])
        self.assertEqual(seen[0], (BMS2.serviceId, "Ping", "192.168.1.5", True))
        self.assertEqual(self.service.calls, [])

    def test_bugIs501(self) -> None:
        """A method that raises something else is 501 Action Failed, logged with its traceback."""
        log = LogCapture(self)
        self.assertEqual(code(self, self.service.invoke, "CancelTest", {"TestID": "1"}), 501)
        self.assertTrue(log.errors())
        self.flushLoggedErrors(RuntimeError)

    def test_missingOutArgument(self) -> None:
        """A method that forgets an out-argument is 501, not a malformed answer."""
        log = LogCapture(self)
        self.assertEqual(code(self, self.service.invoke, "GetTestIDs", {}), 501)
        self.assertTrue(log.errors())

    def test_injectedFaults(self) -> None:
        """Injected faults hit the action named (or any), as many times as asked, after argument checks."""
        s = self.service
        s.injectFault(708, "GetDeviceStatus", count=2)
        self.assertEqual(code(self, s.invoke, "GetDeviceStatus", {}), 708)
        self.assertEqual(code(self, s.invoke, "Ping", dict(PING, DSCP="x")), 402)
        self.assertEqual(code(self, s.invoke, "GetDeviceStatus", {}), 708)
        self.assertEqual(len(s.invoke("GetDeviceStatus", {})), 1)
        s.injectFault(501, count=None)
        for _ in range(3):
            self.assertEqual(code(self, s.invoke, "Ping", PING), 501)
        s.clearFaults()
        self.assertEqual(s.invoke("Ping", PING), [("TestID", "5")])

    def test_errorTexts(self) -> None:
        """A UDA code carries its UDA text (the table walked row by row)."""
        for number, text in UDA_ERRORS.items():
            self.assertEqual(ActionError(number).description, text)


class ConvertTests(unittest.TestCase):
    def test_integerTypes(self) -> None:
        """Each UDA integer type takes its own range and refuses beyond with 402."""
        for dataType, (low, high) in (("ui1", (0, 255)), ("ui2", (0, 65535)), ("ui4", (0, 2**32 - 1)),
                                      ("i1", (-128, 127)), ("i2", (-32768, 32767)), ("i4", (-(2**31), 2**31 - 1))):
            variable = StateVariable("X", dataType)
            self.assertEqual(convertArgument(variable, str(low)), low)
            self.assertEqual(convertArgument(variable, f" {high} "), high)
            for bad in (str(low - 1), str(high + 1), "1.0", ""):
                self.assertEqual(code(self, convertArgument, variable, bad), 402, (dataType, bad))

    def test_formatArgument(self) -> None:
        """Booleans go out as 1/0, None as empty, the rest as text."""
        self.assertEqual([formatArgument(v) for v in (True, False, None, 7, "x")], ["1", "0", "", "7", "x"])


class EventTests(unittest.TestCase):
    def test_changedTellsListeners(self) -> None:
        """A change of evented variables reaches every listener with their current values; others are ignored."""
        service = Probe()
        heard: list = []
        service.addListener(heard.append)
        service.changed("DeviceStatus", "NotEvented")
        self.assertEqual(heard, [[("DeviceStatus", "OK,2024-01-01T00:00:00Z")]])
        service.changed("NotEvented")
        self.assertEqual(len(heard), 1)
        service.removeListener(heard.append)
        service.changed("DeviceStatus")
        self.assertEqual(len(heard), 1)

    def test_eventedVariables(self) -> None:
        """The evented variables are those the SCPD lists as evented (optional ones only when used)."""
        self.assertEqual(Probe().eventedVariables(), ["DeviceStatus", "SequenceMode", "TestIDs"])
