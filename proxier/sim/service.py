# -*- test-case-name: tests.test_sim_service -*-
"""
What every simulated UPnP service shares: turning a decoded action request
into a call of the service's own method, and its evented state variables.

A service is a subclass of L{Service} naming its L{ServiceType} and defining
one method per action it implements, C{action_<ActionName>}, whose keyword
arguments are the action's in-arguments (already converted from text to
int, bool or str after their related state variable) and which returns a
mapping of its out-arguments. L{Service.invoke} does the UPnP part (UDA 1.1
§3.2.2):

 - an action the service does not implement, or one switched off → 401;
 - missing or unexpected arguments, or a value not of its type → 402;
 - a value outside its allowed list or range → 601, a string too long → 605;
 - a role check that refuses the control point → 606 (see L{Authorizer});
 - whatever the method raises as L{ActionError} → that code;
 - anything else the method raises → 501, logged with its traceback.

Sans-IO: no sockets here, and no reactor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Protocol

from twisted.logger import Logger

from proxier.sim.errors import ActionError
from proxier.sim.servicetypes import Action, ServiceType, StateVariable

__all__ = [
    "Service",
    "ActionContext",
    "Authorizer",
    "allowAll",
    "MAX_STRING_ARGUMENT",
    "formatArgument",
]

#: The longest string argument accepted (605 beyond): the largest CMS
#: document a control point may send.
MAX_STRING_ARGUMENT = 512 * 1024

# UDA 1.1 §2.5 "Data types" of integers, with their ranges.
_INTEGER_TYPES: Mapping[str, tuple[int, int]] = {
    "ui1": (0, 2**8 - 1),
    "ui2": (0, 2**16 - 1),
    "ui4": (0, 2**32 - 1),
    "ui8": (0, 2**64 - 1),
    "i1": (-(2**7), 2**7 - 1),
    "i2": (-(2**15), 2**15 - 1),
    "i4": (-(2**31), 2**31 - 1),
    "i8": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
}
_INTEGER = re.compile(r"^[+-]?[0-9]{1,20}$")


@dataclass(frozen=True)
class ActionContext:
    """
    Who invokes an action, for a role check.

    @ivar peer: the control point's address.
    @ivar secure: whether the request came over the TLS port.
    @ivar certificate: the control point's certificate (DER) on the TLS port.
    """

    peer: str = ""
    secure: bool = False
    certificate: Optional[bytes] = None


class Authorizer(Protocol):
    """
    The hook DeviceProtection plugs into: may this control point invoke that
    action? A refusal is answered 606 (Action not authorized).
    """

    def __call__(self, serviceId: str, action: str, context: ActionContext) -> bool: ...


def allowAll(serviceId: str, action: str, context: ActionContext) -> bool:
    """The authorizer of a device without DeviceProtection: everyone may do everything."""
    return True


def formatArgument(value: Any) -> str:
    """An out-argument as UPnP writes it: booleans C{1}/C{0}, the rest as text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return ""
    return str(value)


def convertArgument(variable: StateVariable, text: str) -> Any:
    """
    An in-argument's text as the Python value its state variable's type says.

    @raise ActionError: 402 (wrong type), 601 (outside the allowed list or
        range), 605 (too long).
    """
    dataType = variable.dataType
    if dataType in _INTEGER_TYPES:
        stripped = text.strip()
        if not _INTEGER.match(stripped):
            raise ActionError(402, detail=f"{text[:40]!r} is not a {dataType}")
        number = int(stripped)
        low, high = _INTEGER_TYPES[dataType]
        if not low <= number <= high:
            raise ActionError(402, detail=f"{number} does not fit a {dataType}")
        if variable.valueRange is not None and not variable.valueRange[0] <= number <= variable.valueRange[1]:
            raise ActionError(601, detail=f"{number} is outside {variable.valueRange}")
        return number
    if dataType == "boolean":
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes"):
            return True
        if lowered in ("0", "false", "no"):
            return False
        raise ActionError(402, detail=f"{text[:40]!r} is not a boolean")
    if len(text) > MAX_STRING_ARGUMENT:
        raise ActionError(605, detail=f"string argument of {len(text)} characters")
    if variable.allowed and text not in variable.allowed:
        raise ActionError(601, detail=f"{text[:40]!r} is not one of {', '.join(variable.allowed)}")
    return text


class Service:
    """
    A simulated service.

    @cvar serviceType: the L{ServiceType} this class implements.
    @cvar shortName: the URL path segment of its SCPD, control and event URLs.
    @ivar disabledActions: optional actions this device pretends not to
        implement (left out of the SCPD, answered 401).
    @ivar authorizer: the role check (L{allowAll} until DeviceProtection
        replaces it).
    """

    serviceType: ServiceType
    shortName: str = ""
    errorTable: Optional[Mapping[int, str]] = None
    log = Logger()

    def __init__(self) -> None:
        self.disabledActions: set[str] = set()
        self.authorizer: Authorizer = allowAll
        self._listeners: list[Callable[[list[tuple[str, str]]], None]] = []
        self._faults: list[list[Any]] = []

    # -- the actions ------------------------------------------------------

    def implementedActions(self) -> list[str]:
        """The actions this device offers, in service-template order."""
        return [
            name for name in self.serviceType.actions
            if name not in self.disabledActions and callable(getattr(self, "action_" + name, None))
        ]

    def disableAction(self, name: str) -> None:
        """Pretend not to implement the optional action C{name}."""
        action = self.serviceType.actions.get(name)
        if action is None or not action.optional:
            raise ValueError(f"{name} is not an optional action of {self.serviceType.serviceType}")
        self.disabledActions.add(name)

    def injectFault(self, code: int, action: Optional[str] = None, count: Optional[int] = 1) -> None:
        """
        Make the next C{count} invocations of C{action} (of any action when
        C{None}; every one from now on when C{count} is C{None}) fail with
        UPnP error C{code} — a knob for tests of how a control point copes.
        """
        self._faults.append([action, int(code), count])

    def clearFaults(self) -> None:
        self._faults.clear()

    def _injectedFault(self, name: str) -> Optional[int]:
        for fault in self._faults:
            action, code, count = fault
            if action is None or action == name:
                if count is not None:
                    fault[2] = count - 1
                    if fault[2] <= 0:
                        self._faults.remove(fault)
                return code
        return None

    def invoke(
        self, name: str, arguments: Mapping[str, str], context: ActionContext = ActionContext()
    ) -> list[tuple[str, str]]:
        """
        Run an action.

        @return: the out-arguments, in SCPD order, as text.
        @raise ActionError: the UPnPError to answer.
        """
        action = self.serviceType.actions.get(name)
        if action is None or name not in self.implementedActions():
            raise ActionError(401, detail=f"{self.serviceType.serviceType} has no action {name[:60]!r}")
        if not self.authorizer(self.serviceType.serviceId, name, context):
            raise ActionError(606, detail=f"{context.peer or 'the control point'} may not invoke {name}")
        kwargs = self._inArguments(action, arguments)
        injected = self._injectedFault(name)
        if injected is not None:
            raise ActionError(injected, detail=f"fault injected into {name}", table=self.errorTable)
        method = getattr(self, "action_" + name)
        try:
            result = method(**kwargs)
        except ActionError:
            raise
        except Exception:
            self.log.failure("action {action} of {service} failed", action=name,
                             service=self.shortName)
            raise ActionError(501, detail=f"{name} failed inside the device") from None
        return self._outArguments(action, result or {})

    def _inArguments(self, action: Action, arguments: Mapping[str, str]) -> dict[str, Any]:
        expected = [a.name for a in action.inArguments]
        given = list(arguments)
        missing = [n for n in expected if n not in arguments]
        unexpected = [n for n in given if n not in expected]
        if missing or unexpected:
            raise ActionError(
                402, detail=f"{action.name}: missing {missing or 'none'}, unexpected {unexpected or 'none'}"
            )
        out: dict[str, Any] = {}
        for argument in action.inArguments:
            variable = self.serviceType.stateVariables[argument.relatedStateVariable]
            out[argument.name] = convertArgument(variable, arguments[argument.name])
        return out

    def _outArguments(self, action: Action, result: Mapping[str, Any]) -> list[tuple[str, str]]:
        out = []
        for argument in action.outArguments:
            if argument.name not in result:
                self.log.error("action {action} returned no {argument}", action=action.name,
                               argument=argument.name)
                raise ActionError(501, detail=f"{action.name} returned no {argument.name}")
            out.append((argument.name, formatArgument(result[argument.name])))
        return out

    # -- evented state variables ------------------------------------------

    def eventedVariables(self) -> list[str]:
        """The evented variables this device's SCPD lists."""
        from proxier.sim.scpd import usedStateVariables

        return [v.name for v in usedStateVariables(self) if v.evented]

    def stateVariableValue(self, name: str) -> Any:
        """The current value of an evented state variable (subclasses define C{value_<Name>})."""
        return getattr(self, "value_" + name)()

    def eventedValues(self, names: Optional[Iterable[str]] = None) -> list[tuple[str, str]]:
        """C{(name, value)} of evented variables (all of them by default): the initial event."""
        chosen = self.eventedVariables() if names is None else list(names)
        return [(n, formatArgument(self.stateVariableValue(n))) for n in chosen]

    def addListener(self, listener: Callable[[list[tuple[str, str]]], None]) -> None:
        """Tell C{listener} the new values of evented variables when they change."""
        self._listeners.append(listener)

    def removeListener(self, listener: Callable[[list[tuple[str, str]]], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def changed(self, *names: str) -> None:
        """Evented variables C{names} changed: tell the listeners (GENA)."""
        evented = set(self.eventedVariables())
        values = [(n, formatArgument(self.stateVariableValue(n))) for n in names if n in evented]
        if not values:
            return
        for listener in list(self._listeners):
            listener(values)
