"""
Test doubles for the UPnP DM proxy module, and tests that they behave as
the real things do.

L{SimUPnPDevice} stands where the control point's L{UPnPDevice} stands: the
description and SCPDs are the simulator's own documents, parsed by the
control point's parsers, and every action runs the simulator's real
ConfigurationManagement / BasicManagement code, sans-IO, with its errors
turned into the L{UPnPError} the SOAP client raises. Only the sockets are
missing, so the proxy module's logic runs under a L{task.Clock}.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from twisted.internet import task
from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial import unittest
from zope.interface import implementer

from proxier.datamodel.values import ParameterValue
from proxier.interfaces import IDeviceObserver
from proxier.log import DeviceLogger
from proxier.sim.cmstree import Schema
from proxier.sim.device import Identity, SimulatedDevice
from proxier.sim.errors import ActionError as SimActionError
from proxier.sim.fleet import DEFAULT_DATA_FILE
from proxier.upnp.actions import ActionError
from proxier.upnp.description import Service, parseDeviceDescription, parseSCPD
from proxier.upnp.soap import UPnPError, formatValue

_SCHEMA: Optional[Schema] = None


def schema() -> Schema:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = Schema.fromFile(DEFAULT_DATA_FILE)
    return _SCHEMA


class SimUPnPDevice:
    """
    A control point's view of one simulated device, in memory.

    @ivar calls: C{(serviceShortName, action, arguments)} of every action.
    @ivar hang: action names that never answer (until cancelled).
    @ivar unreachable: every action fails as if the device did not answer.
    @ivar delay: seconds each answer takes (on the clock).
    @ivar rewrite: C{(action, outArguments) → outArguments}: what a lying
        device answers instead.
    """

    def __init__(self, clock: Any, index: int = 0, *, sim: Optional[SimulatedDevice] = None,
                 host: str = "127.0.0.1", **overrides: str) -> None:
        self.clock = clock
        if sim is None:
            sim = SimulatedDevice(Identity.forIndex(index, **overrides), schema(), clock)
            sim.setLocation(f"http://{host}:{49000 + index}")
            sim.powerOn()
        self.sim = sim
        self.udn = sim.udn.lower()
        self.host = host
        self.controlPoint = None  # no HTTP to the simulated device: fetchFromDevice answers 9011
        self.state = "ready"
        self.bootId = sim.bootId
        self.log = DeviceLogger(f"{self.udn} at {host}")
        self.description = parseDeviceDescription(sim.description(), sim.location)
        self._scpds = {}
        for simService in sim.services:
            self._scpds[simService.serviceType.serviceType] = parseSCPD(sim.scpd(simService.shortName))
        self.calls: list[tuple[str, str, dict]] = []
        self.hang: set[str] = set()
        self.unreachable = False
        self.delay = 0.0
        self.rewrite: Optional[Any] = None
        self.pending: list[Deferred] = []

    @property
    def online(self) -> bool:
        return self.state in ("subscribing", "ready")

    def services(self, serviceType: Optional[str] = None) -> list:
        pairs = self.description.services()
        return [(d, s) for d, s in pairs if serviceType is None or s.serviceType.startswith(serviceType.rsplit(":", 1)[0])]

    def service(self, name: str) -> Service:
        """The description's service whose type names C{name} (C{"ConfigurationManagement"}...)."""
        for _, s in self.description.services():
            if f":service:{name}:" in s.serviceType:
                return s
        raise KeyError(name)

    def scpd(self, service: Service) -> Any:
        return self._scpds.get(service.serviceType)

    def _simService(self, service: Service) -> Any:
        for simService in self.sim.services:
            if simService.serviceType.serviceType == service.serviceType:
                return simService
        raise KeyError(service.serviceType)

    def callAction(self, service: Service, action: str, arguments: Optional[Mapping[str, object]] = None,
                   timeout: Optional[float] = None) -> Deferred:
        arguments = dict(arguments or {})
        simService = self._simService(service)
        self.calls.append((simService.shortName, action, arguments))
        if self.state == "gone":
            return fail(ActionError(f"{action}: the device is gone"))
        if self.unreachable:
            return fail(ActionError(f"{action}: connection refused"))
        if action in self.hang:
            d: Deferred = Deferred()
            self.pending.append(d)
            return d
        try:
            out = dict(simService.invoke(action, {k: formatValue(v) for k, v in arguments.items()}))
            if self.rewrite is not None:
                out = self.rewrite(action, out)
            result: Any = succeed(out)
        except SimActionError as e:
            result = fail(UPnPError(e.code, e.description))
        if self.delay:
            later: Deferred = Deferred()
            self.clock.callLater(self.delay, lambda: result.chainDeferred(later))
            return later
        return result

    def actions(self, shortName: str = "cms") -> list[str]:
        """The action names called on one service, in order."""
        return [a for s, a, _ in self.calls if s == shortName]


@implementer(IDeviceObserver)
class RecordingObserver:
    """
    An IDeviceObserver that records every call (as the endpoint would get
    them), and the value changes of the device's model when listening on it
    as the endpoint does (L{changed}, an INotifyingDataModel change listener).
    """

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def kinds(self) -> list[str]:
        return [c[0] for c in self.calls]

    def deviceOnline(self, device: Any) -> None:
        self.calls.append(("deviceOnline",))

    def deviceOffline(self, device: Any) -> None:
        self.calls.append(("deviceOffline",))

    def deviceBooted(self, device: Any) -> None:
        self.calls.append(("deviceBooted",))

    def deviceFactoryReset(self, device: Any) -> None:
        self.calls.append(("deviceFactoryReset",))

    def changed(self, values: Any, active: bool) -> None:
        self.calls.append(("valueChange", tuple(values), active))

    def diagnosticsComplete(self, device: Any) -> None:
        self.calls.append(("diagnosticsComplete",))

    def transferComplete(self, device: Any, result: Any) -> None:
        self.calls.append(("transferComplete", result))

    def autonomousTransferComplete(self, device: Any, result: Any) -> None:
        self.calls.append(("autonomousTransferComplete", result))


class SimUPnPDeviceTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.device = SimUPnPDevice(self.clock)

    def test_describedByTheControlPointsParsers(self) -> None:
        """The description and SCPDs are the simulator's documents, read by the control point's parsers."""
        types = {s.serviceType for _, s in self.device.description.services()}
        self.assertIn("urn:schemas-upnp-org:service:ConfigurationManagement:2", types)
        cms = self.device.service("ConfigurationManagement")
        self.assertIn("GetValues", self.device.scpd(cms).actionNames)

    def test_actionRunsTheSimulator(self) -> None:
        """An action runs the simulator's code and answers its out-arguments as text."""
        cms = self.device.service("ConfigurationManagement")
        answer = self.successResultOf(self.device.callAction(cms, "GetCurrentConfigurationVersion"))
        self.assertEqual(answer, {"StateVariableValue": "0"})
        self.assertEqual(self.device.actions(), ["GetCurrentConfigurationVersion"])

    def test_refusalIsUPnPError(self) -> None:
        """A simulator ActionError reaches the caller as the control point's UPnPError, code kept."""
        cms = self.device.service("ConfigurationManagement")
        self.device.sim.cms.injectFault(709, "GetValues")
        failure = self.failureResultOf(self.device.callAction(cms, "GetValues", {"Parameters": "x"}), UPnPError)
        self.assertEqual(failure.value.code, 709)

    def test_hangAndDelay(self) -> None:
        """A hung action never answers; a delayed one answers on the clock."""
        cms = self.device.service("ConfigurationManagement")
        self.device.hang.add("GetValues")
        self.assertNoResult(self.device.callAction(cms, "GetValues", {"Parameters": "x"}))
        self.device.delay = 2.0
        d = self.device.callAction(cms, "GetCurrentConfigurationVersion")
        self.assertNoResult(d)
        self.clock.advance(2.0)
        self.assertEqual(self.successResultOf(d), {"StateVariableValue": "0"})

    def test_rewrite(self) -> None:
        """A lying device's answers are what the rewrite hook says."""
        cms = self.device.service("ConfigurationManagement")
        self.device.rewrite = lambda action, out: {"StateVariableValue": "lie"}
        answer = self.successResultOf(self.device.callAction(cms, "GetCurrentConfigurationVersion"))
        self.assertEqual(answer, {"StateVariableValue": "lie"})

    def test_unreachable(self) -> None:
        """An unreachable device fails every action with ActionError (no answer)."""
        self.device.unreachable = True
        cms = self.device.service("ConfigurationManagement")
        self.failureResultOf(self.device.callAction(cms, "GetCurrentConfigurationVersion"), ActionError)

    def test_recordingObserver(self) -> None:
        """The recording observer keeps each call with its arguments, value changes heard as a listener among them."""
        observer = RecordingObserver()
        observer.changed([ParameterValue("Device.X", "1")], True)
        observer.deviceBooted(None)
        self.assertEqual(observer.kinds(), ["valueChange", "deviceBooted"])
        self.assertEqual(observer.calls[0][2], True)
