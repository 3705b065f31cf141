# -*- test-case-name: tests.test_sim_sms -*-
"""
SoftwareManagement:2 of a simulated device, for its firmware: deployment unit
0 and its execution unit 0 (SMS:2 reserves the IDs 0 for firmware; TR-330
§4.7).

An operation is an explicit state machine (SMS:2 A_ARG_TYPE_OperationState)::

    Requested ──start──▶ InProgress ──installed──▶ Completed (Error_None)
                             │
                             └──failed──▶ Error (ErrorDescription, AdditionalInfo)

C{OperationIDs} (evented) lists the operations Requested or InProgress; an
operation that ended stays readable with GetOperationInfo until the device
reboots (TR-330 Table 1 rows "7 TRANSFER COMPLETE" and "10 AUTONOMOUS
TRANSFER COMPLETE").

An Update of DUID 0 fetches NewDUURI (through the device's bounded fetcher),
checks the image (L{proxier.sim.firmware}) and installs it. What can go
wrong, and the ErrorDescription each gives (TR-330 Table 3):

 - the fetch fails (refused, 404, timeout, too big, a host the device does
   not fetch from) → C{Error_Network};
 - the image is bigger than L{diskFree} → C{Error_DiskFull};
 - the image is not one, or its checksum fails → C{Error_CorruptedFile};
 - it C{requires} a version that is not installed → C{Error_MissingDependency};
 - L{updateOutcome} forces any of them, and C{Error_ConcurrentAccess} and
   C{Error_Other}, which nothing else produces.

Update itself fails (TR-330 Table 3) with 705 for a DUID other than 0, 701
for a NewDUURI that is not a URL, 710 for one that is not C{http://}, 702
when HandleDependencies is asked and L{honorsDependencies} is off, 704 while
another operation runs on DU 0; L{updateError} forces one of those.

With L{rebootAfterUpdate} on (the default), a good image is installed by
rebooting: the device announces AboutToReboot, comes back with a new BOOTID
and the new SoftwareVersion, and has forgotten every OperationID — the
operation never reaches Completed (TR-330 §4.7.1, "Exception Handling" 2).

L{startAutonomousUpdate} starts an update as another control point would.
Install, Uninstall, Start and Stop are answered for the firmware only: they
create operations that end at once (Start of the running EU 0 succeeds; the
others end in C{Error_Other} saying why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred

from proxier.sim import firmware
from proxier.sim.errors import SMS_ERRORS, smsError
from proxier.sim.httpclient import TooBig
from proxier.sim.service import Service
from proxier.sim.servicetypes import SMS2

__all__ = [
    "SoftwareManagement",
    "SMSDevice",
    "Operation",
    "ERROR_DESCRIPTIONS",
    "REQUESTED",
    "IN_PROGRESS",
    "COMPLETED",
    "ERROR",
]

REQUESTED = "Requested"
IN_PROGRESS = "InProgress"
COMPLETED = "Completed"
ERROR = "Error"

# SoftwareManagement:2 A_ARG_TYPE_ErrorDescription allowed values, which
# TR-330 Table 3 maps to TransferComplete faults.
ERROR_DESCRIPTIONS = (
    "Error_None",
    "Error_ConcurrentAccess",
    "Error_MissingDependency",
    "Error_Network",
    "Error_CorruptedFile",
    "Error_DiskFull",
    "Error_Other",
)

#: Ended operations remembered (the oldest forgotten beyond).
MAX_OPERATIONS = 32
_MAX_UI4 = 2**32 - 1


class SMSDevice(Protocol):
    """What SoftwareManagement asks of its device."""

    softwareVersion: str

    def fetch(self, uri: str) -> Deferred:
        """GET C{uri}, bounded in size and time; fires with bytes or fails with a reason."""

    def requestReboot(self, reason: str) -> None:
        """Reboot soon (announcing AboutToReboot)."""

    def firmwareInstalled(self, version: str, uri: str, size: int) -> None:
        """The running firmware is now C{version}: show it in the data model."""


@dataclass
class Operation:
    id: int
    action: str
    targetedIDs: str
    state: str = REQUESTED
    errorDescription: str = "Error_None"
    additionalInfo: str = ""
    uri: str = ""
    timer: Any = None


class SoftwareManagement(Service):
    """
    The SMS:2 service of one device.

    @ivar duState: DU 0's state (C{Installed}, or C{Installing} during an update).
    @ivar euRunning: EU 0's running state (C{Running}, C{Stopping}, C{Stopped}, C{Starting}).
    """

    serviceType = SMS2
    shortName = "sms"
    errorTable = SMS_ERRORS

    startDelay = 0.2
    installDelay = 1.0

    def __init__(self, device: SMSDevice, clock: Any, *, log: Any = None) -> None:
        super().__init__()
        self.device = device
        self.clock = clock
        if log is not None:
            self.log = log
        self.rebootAfterUpdate = True
        self.honorsDependencies = False
        self.diskFree = 8 * 1024 * 1024
        self.updateError: Optional[int] = None
        self.updateOutcome: Optional[str] = None
        self.updateOutcomeInfo = ""
        self.duState = "Installed"
        self.duURI = ""
        self.duSize = 0
        self.euRunning = "Running"
        self.pendingImage: Optional[tuple[str, str, int]] = None
        self._operations: dict[int, Operation] = {}
        self._nextId = 1
        self._listenersOfEnd: list[Callable[[Operation], None]] = []

    # -- evented state ----------------------------------------------------

    def value_OperationIDs(self) -> str:
        return ",".join(str(o.id) for o in self._operations.values() if o.state in (REQUESTED, IN_PROGRESS))

    def value_DUIDs(self) -> str:
        return "0"

    def value_EUIDs(self) -> str:
        return "0"

    def value_ActiveEUIDs(self) -> str:
        return "0"

    def value_RunningEUIDs(self) -> str:
        return "0" if self.euRunning == "Running" else ""

    def value_ErrorEUIDs(self) -> str:
        return ""

    def operation(self, operationId: int) -> Optional[Operation]:
        """An operation the device still remembers (for tests and the demo)."""
        return self._operations.get(operationId)

    def onOperationEnded(self, listener: Callable[[Operation], None]) -> None:
        self._listenersOfEnd.append(listener)

    def halt(self) -> None:
        """The device goes down: every operation is lost (none survives a reboot)."""
        for op in self._operations.values():
            if op.timer is not None and op.timer.active():
                op.timer.cancel()
            op.timer = None
        self._operations.clear()
        self.duState = "Installed"
        self.euRunning = "Running"

    def rebooted(self) -> None:
        """The device booted: an image installed before the reboot is now running."""
        self.halt()
        if self.pendingImage is not None:
            version, uri, size = self.pendingImage
            self.pendingImage = None
            self._install(version, uri, size)

    def _install(self, version: str, uri: str, size: int) -> None:
        self.duURI, self.duSize = uri, size
        self.device.firmwareInstalled(version, uri, size)

    # -- operations -------------------------------------------------------

    def _new(self, action: str, targets: str, uri: str = "") -> Operation:
        opId = self._nextId
        self._nextId = 1 if self._nextId >= _MAX_UI4 else self._nextId + 1
        op = Operation(opId, action, targets, uri=uri)
        self._operations[opId] = op
        while len(self._operations) > MAX_OPERATIONS:
            ended = next((i for i, o in self._operations.items() if o.state in (COMPLETED, ERROR)), None)
            if ended is None:
                break
            del self._operations[ended]
        self.changed("OperationIDs")
        return op

    def _end(self, op: Operation, description: str, info: str = "") -> None:
        op.state = COMPLETED if description == "Error_None" else ERROR
        op.errorDescription = description
        op.additionalInfo = info
        op.timer = None
        self.changed("OperationIDs")
        for listener in list(self._listenersOfEnd):
            listener(op)

    def _busy(self) -> bool:
        return any(o.state in (REQUESTED, IN_PROGRESS) for o in self._operations.values())

    def _checkDependencies(self, handleDependencies: bool) -> None:
        if handleDependencies and not self.honorsDependencies:
            raise smsError(702, "this device does not handle dependencies")

    def action_Update(self, DUID: int, NewDUURI: str, HandleDependencies: bool) -> dict:
        return {"OperationID": self.update(DUID, NewDUURI, HandleDependencies).id}

    def update(self, duid: int, uri: str, handleDependencies: bool = False) -> Operation:
        """Update() — from a control point, or from the device's own user."""
        if self.updateError is not None:
            raise smsError(self.updateError, "error forced by the updateError knob")
        if duid != 0:
            raise smsError(705, f"no deployment unit {duid}")
        parts = urlsplit(uri.strip())
        try:
            parts.port
        except ValueError:
            raise smsError(701, f"{uri[:80]!r} has a bad port") from None
        if not parts.scheme or not parts.hostname:
            raise smsError(701, f"{uri[:80]!r} is not a URL")
        if parts.scheme.lower() != "http":
            raise smsError(710, f"{parts.scheme}:// is not supported")
        self._checkDependencies(handleDependencies)
        if self._busy():
            raise smsError(704, "an operation on the firmware is under way")
        op = self._new("Update", "0", uri.strip())
        op.timer = self.clock.callLater(self.startDelay, self._startUpdate, op)
        return op

    def startAutonomousUpdate(self, uri: str) -> int:
        """Another control point (or the device's user) updates the firmware; returns the OperationID."""
        return self.update(0, uri).id

    def _startUpdate(self, op: Operation) -> None:
        op.state = IN_PROGRESS
        op.timer = None
        self.duState = "Installing"
        self.euRunning = "Stopped"
        self.changed("DUIDs", "EUIDs", "RunningEUIDs")
        d = self.device.fetch(op.uri)
        d.addCallbacks(self._fetched, self._fetchFailed, callbackArgs=(op,), errbackArgs=(op,))
        d.addErrback(self._broken, op)

    def _broken(self, failure: Any, op: Operation) -> None:
        self.log.failure("firmware update {id} failed inside the device", failure, id=op.id)
        if self._current(op):
            self._fail(op, "Error_Other", "internal error")

    def _current(self, op: Operation) -> bool:
        """Whether C{op} still runs (not ended, not lost in a reboot)."""
        return op.state == IN_PROGRESS and self._operations.get(op.id) is op

    def _fetchFailed(self, failure: Any, op: Operation) -> None:
        if not self._current(op):
            return
        reason = failure.getErrorMessage() if hasattr(failure, "getErrorMessage") else str(failure)
        if hasattr(failure, "check") and failure.check(TooBig):
            self._fail(op, "Error_DiskFull", f"image larger than the {self.diskFree} bytes free")
            return
        self._fail(op, "Error_Network", f"cannot fetch {op.uri}: {reason}")

    def _fetched(self, data: bytes, op: Operation) -> None:
        if not self._current(op):
            return
        if self.updateOutcome not in (None, "Error_None"):
            self._fail(op, self.updateOutcome, self.updateOutcomeInfo or f"{self.updateOutcome} (forced)")
            return
        if len(data) > self.diskFree:
            self._fail(op, "Error_DiskFull", f"image of {len(data)} bytes, {self.diskFree} free")
            return
        try:
            image = firmware.parseImage(data)
        except firmware.CorruptImage as e:
            self._fail(op, "Error_CorruptedFile", str(e))
            return
        if image.requires is not None and image.requires != self.device.softwareVersion:
            self._fail(op, "Error_MissingDependency",
                       f"{image.version} requires {image.requires}; {self.device.softwareVersion} is installed")
            return
        op.timer = self.clock.callLater(self.installDelay, self._installed, op, image.version, len(data))

    def _fail(self, op: Operation, description: str, info: str) -> None:
        self.duState = "Installed"
        self.euRunning = "Running"
        self._end(op, description, info)
        self.changed("DUIDs", "EUIDs", "RunningEUIDs")

    def _installed(self, op: Operation, version: str, size: int) -> None:
        if self.rebootAfterUpdate:
            self.pendingImage = (version, op.uri, size)
            op.timer = None
            self.device.requestReboot(f"firmware {version} installed")
            return
        self.duState = "Installed"
        self.euRunning = "Running"
        self._install(version, op.uri, size)
        self._end(op, "Error_None")
        self.changed("DUIDs", "EUIDs", "RunningEUIDs")

    def _quick(self, action: str, targets: str, description: str, info: str) -> int:
        """An operation the firmware-only device ends at once (soon after the response)."""
        op = self._new(action, targets)
        op.timer = self.clock.callLater(self.startDelay, self._end, op, description, info)
        return op.id

    def action_Install(self, DUURI: str, DUType: str, HandleDependencies: bool) -> dict:
        self._checkDependencies(HandleDependencies)
        return {"OperationID": self._quick(
            "Install", "", "Error_Other",
            "this device installs no deployment unit; its firmware is replaced with Update on DUID 0")}

    def action_Uninstall(self, DUID: int, HandleDependencies: bool) -> dict:
        if DUID != 0:
            raise smsError(705, f"no deployment unit {DUID}")
        self._checkDependencies(HandleDependencies)
        return {"OperationID": self._quick("Uninstall", "0", "Error_Other", "the firmware cannot be uninstalled")}

    def action_Start(self, EUID: int, HandleDependencies: bool) -> dict:
        if EUID != 0:
            raise smsError(706, f"no execution unit {EUID}")
        self._checkDependencies(HandleDependencies)
        return {"OperationID": self._quick("Start", "0", "Error_None", "the firmware is running")}

    def action_Stop(self, EUID: int, HandleDependencies: bool) -> dict:
        if EUID != 0:
            raise smsError(706, f"no execution unit {EUID}")
        self._checkDependencies(HandleDependencies)
        return {"OperationID": self._quick("Stop", "0", "Error_Other", "the firmware cannot be stopped")}

    def action_GetOperationInfo(self, OperationID: int) -> dict:
        op = self._operations.get(OperationID)
        if op is None:
            raise smsError(707, f"no operation {OperationID}")
        return {"OperationState": op.state, "TargetedIDs": op.targetedIDs, "Action": op.action,
                "ErrorDescription": op.errorDescription, "AdditionalInfo": op.additionalInfo}

    def action_GetOperationIDs(self) -> dict:
        return {"OperationIDs": self.value_OperationIDs()}

    def action_GetDUIDs(self) -> dict:
        return {"DUIDs": self.value_DUIDs()}

    def action_GetEUIDs(self) -> dict:
        return {"EUIDs": self.value_EUIDs()}

    def action_GetActiveEUIDs(self) -> dict:
        return {"ActiveEUIDs": self.value_ActiveEUIDs()}

    def action_GetRunningEUIDs(self) -> dict:
        return {"RunningEUIDs": self.value_RunningEUIDs()}

    def action_GetErrorEUIDs(self) -> dict:
        return {"ErrorEUIDs": self.value_ErrorEUIDs()}

    def action_GetDUInfo(self, DUID: int) -> dict:
        if DUID != 0:
            raise smsError(705, f"no deployment unit {DUID}")
        return {"DUName": "firmware", "DUVersion": self.device.softwareVersion, "DUType": "Firmware",
                "DUState": self.duState, "DUURI": self.duURI}

    def action_GetEUInfo(self, EUID: int) -> dict:
        if EUID != 0:
            raise smsError(706, f"no execution unit {EUID}")
        return {"EUName": "firmware", "EUVersion": self.device.softwareVersion, "EURequestedState": "Active",
                "EURunningState": self.euRunning}
