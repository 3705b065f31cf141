# -*- test-case-name: tests.test_upnpdm_diag -*-
"""
What the diagnostics, log and firmware parts of a Virtual CWMP Device ask of
it — one narrow face, so that each part is a state machine over a clock and
this link, tested with the simulator's real services behind it.

 - actions to the device's BasicManagement, SoftwareManagement and
   ConfigurationManagement services, through the device's action gate (the
   one door: queue, deadline, failure counting, DeviceProtection's policy);
 - whether the device answers now;
 - L{DeviceLink.idle}: a Deferred firing once no CWMP session of the device
   runs — TR-330 §4.5.1, "it is suggested the test is not executed until
   the session completes", and the same for a firmware update that would
   reboot the device under the ACS's feet (the endpoint signals each
   session's end: L{proxier.interfaces.ISessionNotifier});
 - telling the endpoint (L{proxier.interfaces.IDeviceObserver}), one method
   per event the parts have.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

from twisted.internet.defer import Deferred

from proxier.datamodel.values import AutonomousTransferResult, TransferResult

__all__ = ["DeviceLink", "IDLE_LIMIT"]

#: The longest wait for a session to end (the endpoint's own cap on a
#: session's length); past it the work goes ahead.
IDLE_LIMIT = 1800.0


class DeviceLink(Protocol):
    """The Virtual CWMP Device as its management parts see it."""

    clock: Any
    log: Any

    @property
    def online(self) -> bool:
        """Whether the device answers now."""

    def has(self, service: str, action: str) -> bool:
        """Whether the device's C{service} (C{"bms"}, C{"sms"}, C{"cms"}) offers C{action} (its SCPD)."""

    def call(self, service: str, action: str, arguments: Optional[dict] = None) -> Deferred:
        """
        One action through the device's gate: fires with the output
        arguments (text), fails with L{UPnPError<proxier.upnp.soap.UPnPError>}
        (refused), L{ActionError<proxier.upnp.actions.ActionError>} or
        L{NoAnswer<proxier.proxy.gate.NoAnswer>} (no answer) or
        L{GateFull<proxier.proxy.gate.GateFull>}.
        """

    def idle(self) -> Deferred:
        """Fires (never fails) once no CWMP session of the device runs; cancellable."""

    def observers(self) -> list[Any]:
        """The device's observers now (L{IDeviceObserver}s; empty until the endpoint observes)."""

    def diagnosticsComplete(self) -> None:
        """Tell the endpoint: L{IDeviceObserver.diagnosticsComplete}."""

    def transferComplete(self, result: TransferResult) -> None:
        """Tell the endpoint: L{IDeviceObserver.transferComplete}."""

    def autonomousTransferComplete(self, result: AutonomousTransferResult) -> None:
        """Tell the endpoint: L{IDeviceObserver.autonomousTransferComplete}."""
