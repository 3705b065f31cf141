# -*- test-case-name: tests.test_upnpdm_diag -*-
"""
The BasicManagement and SoftwareManagement side of one Virtual CWMP Device
(TR-330 §4.3.2, §4.4, §4.5, §4.7): which parts its SCPDs allow, the
objects they add to its model, and the device's news they are fed.

    VirtualDevice ── DeviceManagement
                       ├── DiagnosticsService  BMS Ping/Traceroute/NSLookup → Device.IP.Diagnostics.*,
                       │                        Device.DNS.Diagnostics.NSLookupDiagnostics. (§4.5)
                       ├── LogsService         BMS GetLogURIs/GetLogInfo → Device.DeviceInfo.VendorLogFile.{i},
                       │                        Upload "4 Vendor Log File <i>" (§4.4)
                       └── FirmwareService     SMS Update → Download "1 Firmware Upgrade Image",
                                                TransferComplete, AutonomousTransferComplete (§4.7)

The overlays go in the device's C{overlays} (mounted over its CMS model);
Download and Upload are offered through the CMS model's transfer hook, so
that the endpoint lists them only when the device can do them (and
ScheduleDownload never: §4.7.1.1 recommends a CPE Proxier not implement it).
Each part keeps its own durable document in the device's store.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from twisted.internet.defer import Deferred, fail

from proxier.store import Store
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import diagnostics
from proxier.upnpdm.diagcontrol import DiagnosticsService
from proxier.upnpdm.link import IDLE_LIMIT, IDLE_POLL

__all__ = ["DeviceManagement", "DeviceLinkOf"]

_SERVICES = {"bms": "BasicManagement", "sms": "SoftwareManagement", "cms": "ConfigurationManagement"}


class DeviceLinkOf:
    """The L{DeviceLink<proxier.upnpdm.link.DeviceLink>} of a L{VirtualDevice<proxier.upnpdm.device.VirtualDevice>}."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self.clock = device.clock
        self.log = device.log
        self.idlePoll = IDLE_POLL
        self.idleLimit = IDLE_LIMIT

    @property
    def online(self) -> bool:
        return bool(self.device.online)

    def _service(self, service: str) -> Any:
        return self.device.profile.candidate.services.get(_SERVICES[service])

    def has(self, service: str, action: str) -> bool:
        caps = self.device.profile.capabilities
        return self._service(service) is not None and action in getattr(caps, service)

    def call(self, service: str, action: str, arguments: Optional[dict] = None) -> Deferred:
        target = self._service(service)
        if target is None:
            return fail(UPnPError(401, f"the device has no {_SERVICES[service]} service"))
        return self.device.gate.call(target, action, arguments or {})

    def inSession(self) -> bool:
        return any(getattr(o, "inSession", False) for o in list(self.device._observers))

    def idle(self) -> Deferred:
        started = self.clock.seconds()
        timer: list[Any] = [None]

        def cancel(_: Deferred) -> None:
            if timer[0] is not None and timer[0].active():
                timer[0].cancel()

        waiting: Deferred = Deferred(cancel)

        def look() -> None:
            timer[0] = None
            if not self.inSession():
                waiting.callback(None)
            elif self.clock.seconds() - started >= self.idleLimit:
                self.log.warn("a session has lasted {s:g} s; what waited for its end goes ahead", s=self.idleLimit)
                waiting.callback(None)
            else:
                timer[0] = self.clock.callLater(self.idlePoll, look)

        # one turn later at the least: the answer to the request that asked is on its way first
        timer[0] = self.clock.callLater(0, look)
        return waiting

    def tell(self, method: str, *args: Any) -> None:
        self.device._tell(method, *args)


class DeviceManagement:
    """
    The management parts of one Virtual CWMP Device, made from what its
    profile's capabilities offer.

    @param store: the device's own store (a child of the protocol's store);
        each part keeps its document there.
    """

    def __init__(self, device: Any, store: Store, *, uploadAgent: Optional[Callable[[], Any]] = None,
                 fetchLog: Optional[Callable[..., Deferred]] = None) -> None:
        self.device = device
        self.link = DeviceLinkOf(device)
        self.log = device.log
        caps = device.profile.capabilities
        self.parts: list[Any] = []
        self.diagnostics: Optional[DiagnosticsService] = None
        kinds = diagnostics.supportedKinds(caps.bms) if device.profile.candidate.bms is not None else ()
        if kinds:
            self.diagnostics = DiagnosticsService(kinds, self.link, store.document("diagnostics"),
                                                  store.child("diagnostics-tree"))
            self.parts.append(self.diagnostics)
            device.overlays.extend(self.diagnostics.mounts)
            self.log.info("diagnostics offered: {kinds}", kinds=", ".join(k.path for k in kinds))
        self._bmsId = device.profile.candidate.bms.serviceId if device.profile.candidate.bms else None
        self._smsId = device.profile.candidate.sms.serviceId if device.profile.candidate.sms else None

    # -- the device's news ---------------------------------------------------------------

    def eventReceived(self, service: Any, variables: Sequence[tuple[str, str]]) -> None:
        if service.serviceId == self._bmsId:
            for part in self.parts:
                if hasattr(part, "bmsEvent"):
                    part.bmsEvent(variables)
            if self.diagnostics is not None:
                self.diagnostics.eventReceived(variables)
        elif service.serviceId == self._smsId:
            for part in self.parts:
                if hasattr(part, "smsEvent"):
                    part.smsEvent(variables)

    def stateMayBeStale(self, service: Any) -> None:
        if service.serviceId == self._bmsId and self.diagnostics is not None:
            self.diagnostics.stateMayBeStale()
        for part in self.parts:
            if hasattr(part, "serviceMayBeStale"):
                part.serviceMayBeStale(service.serviceId == self._smsId, service.serviceId == self._bmsId)

    def deviceReady(self, rebooted: bool, aliveTime: Optional[float] = None) -> None:
        """The device is online (first seen this run, back, or booted); C{aliveTime}: when it announced itself."""
        for part in self.parts:
            if hasattr(part, "deviceReady"):
                if aliveTime is not None and getattr(part, "wantsAliveTime", False):
                    part.deviceReady(rebooted, aliveTime)
                else:
                    part.deviceReady(rebooted)

    def observed(self) -> None:
        """An observer (the endpoint) listens now: what is owed to it is told."""
        for part in self.parts:
            if hasattr(part, "observed"):
                part.observed()

    def stop(self) -> None:
        for part in self.parts:
            part.stop()
