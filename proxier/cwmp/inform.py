# -*- test-case-name: tests.test_cwmp_endpoint -*-
"""
The parameters of an endpoint's Inform (TR-069 3.7.1.1, A.3.3.1): the
forced-inform parameters its model declares (L{IForcedInform}) and the
changed values with their values now.

Split out of L{CWMPEndpoint<proxier.cwmp.endpoint.CWMPEndpoint>} (issue
12.5): it knows the model and how to bound a call to it, nothing of the
session or its scheduling.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet import defer
from twisted.internet.defer import Deferred

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import ParameterValue
from proxier.interfaces import IForcedInform

__all__ = ["InformParameters"]


class InformParameters:
    """
    Reads the parameters an Inform carries from one data model.

    Which forced-inform parameters the model has is learned on the first
    Inform (asked together; on 9005 one by one) and kept until L{forget}.

    @param rpcs: the endpoint's L{RPCDispatcher<proxier.cwmp.dispatch.RPCDispatcher>}:
        its model (an L{IDataModel<proxier.interfaces.IDataModel>}), its log,
        and C{bounded}, which turns a model call's Deferred into one that
        fires with its result or a L{CWMPFault} in its place, within the
        device timeout. Read from it rather than kept twice (issue 19).
    """

    # slots: one per endpoint, so per device (issue 19)
    __slots__ = ("_rpcs", "_forcedNames")

    def __init__(self, rpcs: Any) -> None:
        self._rpcs = rpcs
        self._forcedNames: Optional[tuple[str, ...]] = None

    @property
    def model(self) -> Any:
        return self._rpcs.model

    @property
    def log(self) -> Any:
        return self._rpcs.log

    def _bounded(self, d: Deferred) -> Deferred:
        return self._rpcs.bounded(d)  # type: ignore[no-any-return]

    def forget(self) -> None:
        """Learn again which forced-inform parameters the model has (for the next ACS)."""
        self._forcedNames = None

    def parameters(self, valueChanges: tuple[ParameterValue, ...]) -> Deferred:
        """
        The Inform's ParameterList: the forced-inform parameters (those the
        changes carry left out), then the changed ones. Never fails;
        cancellable. Without changes (a BOOTSTRAP, a BOOT, a PERIODIC...)
        the forced ones alone, not gathered with an empty list (issue 19:
        two Deferreds and an inlineCallbacks call an Inform).
        """
        if not valueChanges:
            return self._forcedParameters()  # type: ignore[no-any-return]

        def merged(results: list) -> list:
            forced, current = results
            changed = {v.name for v in current}
            return [p for p in forced if p.name not in changed] + list(current)

        gathered = defer.gatherResults([self._forcedParameters(), self._currentValues(valueChanges)])
        return gathered.addCallback(merged)

    @defer.inlineCallbacks
    def _currentValues(self, valueChanges: tuple[ParameterValue, ...]) -> Any:
        """
        The changed parameters with their values now: a passive change waits
        for the next Inform, and the value may have moved again meanwhile (the
        ACS itself may have set it). Where the model cannot say in time, the
        value recorded with the change is sent. Never fails.
        """
        if not valueChanges:
            return []
        names = [v.name for v in valueChanges]
        answer = yield self._bounded(defer.maybeDeferred(self.model.getParameterValues, names))
        if isinstance(answer, CWMPFault):
            return list(valueChanges)
        fresh = {v.name: v for v in answer if isinstance(v, ParameterValue)}
        return [fresh.get(v.name, v) for v in valueChanges]

    @defer.inlineCallbacks
    def _forcedParameters(self) -> Any:
        """
        The forced-inform parameters the model declares (L{IForcedInform})
        and has (asked together, else one by one); never fails.
        """
        declared: tuple[str, ...] = tuple(self.model.forcedInform) if IForcedInform.providedBy(self.model) else ()
        names = self._forcedNames or declared
        if not names:
            return []
        answer = yield self._bounded(defer.maybeDeferred(self.model.getParameterValues, list(names)))
        if not isinstance(answer, CWMPFault):
            return [v for v in answer if isinstance(v, ParameterValue)]
        if answer.code != 9005 or self._forcedNames is not None:
            self.log.warn("forced inform parameters unavailable ({fault}); the Inform goes without",
                          fault=str(answer))
            return []
        answers = yield defer.gatherResults([
            self._bounded(defer.maybeDeferred(self.model.getParameterValues, [name])) for name in declared
        ])
        values: list[ParameterValue] = []
        found = []
        timedOut = False
        for name, one in zip(declared, answers):
            if isinstance(one, CWMPFault):
                timedOut = timedOut or one.code == 9002
                continue
            found.append(name)
            values.extend(v for v in one if isinstance(v, ParameterValue))
        if not timedOut:
            self._forcedNames = tuple(found)
        return values
