# -*- test-case-name: tests.test_datamodel_composite -*-
"""
What a data model may offer beyond L{IDataModel<proxier.interfaces.IDataModel>}.

A L{CompositeDataModel<proxier.datamodel.composite.CompositeDataModel>} is
made of several models and must keep SetParameterValues and
SetParameterAttributes all-or-nothing across them: it asks each model to
validate first (L{IValidatingDataModel}) and applies only when every one
agreed. Value changes of parameters with Notification on come from models
that can tell (L{INotifyingDataModel}); the endpoint listens on its model.
A write made on the gateway itself (the local console) is not the ACS's:
a model that can tell the two apart offers it (L{ILocalWrites}).
A model of parameters alone refuses the device RPCs (L{ParametersOnly}).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from twisted.internet import defer
from zope.interface import Interface

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import ParameterValue

__all__ = ["IValidatingDataModel", "INotifyingDataModel", "ILocalWrites", "ChangeListener", "ParametersOnly"]

# listener(values, active): the new values of parameters with Notification
# on that changed by themselves; active is True when any of them has
# active notification (2).
ChangeListener = Callable[[Sequence[ParameterValue], bool], None]


class IValidatingDataModel(Interface):
    """A model that can check a request without applying it."""

    def validateParameterValues(values):
        """
        Check a SetParameterValues request as L{IDataModel.setParameterValues}
        would, changing nothing.

        @param values: L{ParameterValue}s as the ACS sent them.
        @return: Deferred firing with None when applying them would succeed,
            or failing with the L{CWMPFault} C{setParameterValues} would give
            (9003 with one SetParameterValuesFault per bad parameter).
        """

    def validateParameterAttributes(changes):
        """
        Check a SetParameterAttributes request, changing nothing.

        @return: Deferred firing with None, or failing with the L{CWMPFault}
            C{setParameterAttributes} would give.
        """


class INotifyingDataModel(Interface):
    """A model that reports value changes of parameters with Notification on."""

    def addChangeListener(listener):
        """
        Call C{listener(values, active)} (a L{ChangeListener}) whenever
        parameters with Notification 1 or 2 changed value by themselves.
        Changes the ACS made with SetParameterValues are never reported.
        """

    def removeChangeListener(listener):
        """Stop calling C{listener}."""


class ILocalWrites(Interface):
    """
    A model that takes SetParameterValues from someone other than the ACS
    (the local console). TR-069 A.3.2.4: a parameter with Notification on is
    reported when its value changes for any reason but the ACS's own write —
    so such a write must not be taken for the ACS's, which is never reported
    back (L{INotifyingDataModel}).
    """

    def setParameterValuesLocally(values):
        """
        As L{IDataModel.setParameterValues<proxier.interfaces.IDataModel.setParameterValues>}
        (all or nothing, the same Status and faults), but the change is not
        the ACS's: parameters with Notification on that it changes are told
        to the change listeners as changes of their own (at once, or when
        the model next sees the device's value).

        @param values: L{ParameterValue}s, each with its C{xsi:type}.
        """


class ParametersOnly:
    """
    The device RPCs of a model that serves the parameter RPCs alone (a
    device's objects held or copied by the proxier, not the device): Reboot,
    FactoryReset, Download and Upload fail with 9000 (Method not supported).
    """

    __slots__ = ()  # no state: a subclass may keep its own in slots (issue 19)

    def reboot(self, commandKey: str) -> defer.Deferred:
        return defer.fail(CWMPFault(9000))

    def factoryReset(self) -> defer.Deferred:
        return defer.fail(CWMPFault(9000))

    def download(self, request: Any) -> defer.Deferred:
        return defer.fail(CWMPFault(9000))

    def upload(self, request: Any) -> defer.Deferred:
        return defer.fail(CWMPFault(9000))
