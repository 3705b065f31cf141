# -*- test-case-name: tests.test_upnpdm_diag -*-
"""
The BasicManagement and SoftwareManagement side of one Virtual CWMP Device
(TR-330 §4.3.2, §4.4, §4.5, §4.7): which parts its SCPDs allow, the
objects they add to its model, and the device's news they are fed.

    VirtualDevice ── DeviceManagement
                       ├── DiagnosticsService  Device.IP.Diagnostics.*, Device.DNS.Diagnostics.NSLookupDiagnostics.
                       │                        (the core's, §4.5) run as BMS Ping/Traceroute/NSLookup (BMSTestRunner)
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

from functools import lru_cache
from typing import Any, Callable, Optional, Sequence

from twisted.internet.defer import Deferred, fail
from zope.interface import implementer

from proxier.interfaces import ISessionNotifier, ISessionObserver
from proxier.proxy.diagnostics import DiagnosticsService
from proxier.proxy.transfers import TransferQueue
from proxier.store import Store
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import bmsdiagnostics
from proxier.upnpdm.firmware import FirmwareService
from proxier.upnpdm.httpfiles import TransferFailed, Uploader, fetchFromDevice
from proxier.upnpdm.link import IDLE_LIMIT
from proxier.upnpdm.logs import LogsService
from proxier.outbound import TargetPolicy
from proxier.upnpdm.settings import ProxySettings

__all__ = ["DeviceManagement", "DeviceLinkOf"]

_SERVICES = {"bms": "BasicManagement", "sms": "SoftwareManagement", "cms": "ConfigurationManagement"}


@lru_cache(maxsize=8)
def _uploadTargets(localTargets: tuple) -> TargetPolicy:
    """The policy the ACS's file servers must pass: configuration only, so one serves every device (issue 19)."""
    return TargetPolicy(localTargets)


class DeviceLinkOf:
    """The L{DeviceLink<proxier.upnpdm.link.DeviceLink>} of a L{VirtualDevice<proxier.upnpdm.device.VirtualDevice>}."""

    __slots__ = ("device", "settings", "clock", "log", "idleLimit", "fetcher")  # one per device

    def __init__(self, device: Any, settings: ProxySettings) -> None:
        self.device = device
        self.settings = settings
        self.clock = device.clock
        self.log = device.log
        self.idleLimit = IDLE_LIMIT
        self.fetcher: Optional[Callable[[str], Deferred]] = None

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

    def fetch(self, url: str) -> Deferred:
        """Read C{url} from the device over HTTP (its own host only, bounded): a log (TR-330 §4.4.2)."""
        if self.fetcher is not None:
            return self.fetcher(url)
        target = self.device._target()
        if target is None:
            return fail(TransferFailed(9011, "the device is not reachable now"))
        return fetchFromDevice(target, url, maxBytes=self.settings.logMaxBytes,
                               timeout=self.settings.logFetchTimeout)

    def observers(self) -> list[Any]:
        return list(self.device.observers)

    @property
    def bootId(self) -> Optional[int]:
        """BOOTID.UPNP.ORG of the UPnP device actions go to now (None: unknown)."""
        target = self.device._target()
        return target.bootId if target is not None else None

    def _endpoints(self) -> list[Any]:
        """The observers that run CWMP sessions for this device (its endpoint)."""
        return [o for o in self.device.observers if ISessionNotifier.providedBy(o)]

    def inSession(self) -> bool:
        return any(e.inSession for e in self._endpoints())

    def idle(self) -> Deferred:
        return _Idle(self).waiting

    def diagnosticsComplete(self) -> None:
        self.device._tellDiagnosticsComplete()

    def transferComplete(self, result: Any) -> None:
        self.device._tellTransferComplete(result)

    def autonomousTransferComplete(self, result: Any) -> None:
        self.device._tellAutonomousTransferComplete(result)


@implementer(ISessionObserver)
class _Idle:
    """
    One wait for the end of the device's CWMP session: checked one turn
    later (the answer to the request that asked is on its way first), then
    at each session end its endpoints signal, at most C{link.idleLimit}
    seconds.
    """

    def __init__(self, link: DeviceLinkOf) -> None:
        self.link = link
        self.waiting: Deferred = Deferred(lambda _: self._done())
        self._watched: list[Any] = []
        self._limit: Any = None
        self._first: Any = link.clock.callLater(0, self._look)

    def _look(self) -> None:
        self._first = None
        if not self.link.inSession():
            self._done()
            self.waiting.callback(None)
            return
        for endpoint in self.link._endpoints():
            if endpoint not in self._watched:
                endpoint.addSessionObserver(self)
                self._watched.append(endpoint)
        if self._limit is None:
            self._limit = self.link.clock.callLater(self.link.idleLimit, self._tooLong)

    def sessionEnded(self, endpoint: Any) -> None:
        if not self.waiting.called:
            self._look()

    def _tooLong(self) -> None:
        self._limit = None
        self.link.log.warn("a session has lasted {s:g} s; what waited for its end goes ahead", s=self.link.idleLimit)
        self._done()
        self.waiting.callback(None)

    def _done(self) -> None:
        for call in (self._first, self._limit):
            if call is not None and call.active():
                call.cancel()
        self._first = self._limit = None
        for endpoint in self._watched:
            endpoint.removeSessionObserver(self)
        self._watched = []


class DeviceManagement:
    """
    The management parts of one Virtual CWMP Device, made from what its
    profile's capabilities offer.

    @param store: the device's own store (a child of the protocol's store);
        each part keeps its document there.
    @param uploadAgent: C{() → IAgent} for uploads to the ACS's file servers.
    @param settings: the C{[upnp]} limits on transfers (log size, timeouts,
        how long a firmware update may take).

    @ivar queue: the transfers the ACS asked for (L{TransferQueue}).
    """

    __slots__ = ("device", "link", "log", "queue", "diagnostics", "logs", "firmware", "_bmsId", "_smsId")  # issue 19

    def __init__(self, device: Any, store: Store, *, settings: ProxySettings,
                 uploadAgent: Optional[Callable[[], Any]] = None) -> None:
        self.device = device
        self.link = DeviceLinkOf(device, settings)
        self.log = device.log
        caps = device.profile.capabilities
        candidate = device.profile.candidate
        model = device.model
        self.queue = TransferQueue(self.link, store.document("transfers"))
        self.diagnostics: Optional[DiagnosticsService] = None
        self.logs: Optional[LogsService] = None
        kinds = bmsdiagnostics.supportedKinds(caps.bms) if candidate.bms is not None else ()
        if kinds:
            self.diagnostics = DiagnosticsService(kinds, bmsdiagnostics.BMSTestRunner(self.link), self.link,
                                                  store.document("diagnostics"), lambda: store.child("diagnostics-tree"))
            device.overlays += tuple(self.diagnostics.mounts)
            self.log.info("diagnostics offered: {kinds}", kinds=", ".join(k.path for k in kinds))
        if candidate.bms is not None and {"GetLogURIs", "GetLogInfo"} <= caps.bms:
            self.logs = LogsService(self.link, store.document("logs"), store.child("logs-tree"), self.queue,
                                    fetch=self.link.fetch,
                                    uploader=Uploader(uploadAgent, self.link.clock, timeout=settings.uploadTimeout,
                                                      targets=_uploadTargets(settings.localTargets)))
            device.overlays += tuple(self.logs.mounts)
            model.extraConstants.append(self.logs.count)
            model.transferHandlers["Upload"] = self.logs.upload
            self.queue.handlers["upload"] = self.logs
            self.log.info("vendor logs offered (Upload \"4 Vendor Log File <i>\")")
        self.firmware: Optional[FirmwareService] = None
        if candidate.sms is not None and {"Update", "GetOperationInfo"} <= caps.sms:
            self.firmware = FirmwareService(self.link, self.queue, store.document("firmware"),
                                            device.profile.commonObjects, updateLimit=settings.firmwareUpdateLimit)
            self.queue.handlers["firmware"] = self.firmware
            model.transferHandlers["Download"] = self.firmware.download
            self.log.info("firmware updates offered (Download \"1 Firmware Upgrade Image\")")
        self._bmsId = candidate.bms.serviceId if candidate.bms is not None else None
        self._smsId = candidate.sms.serviceId if candidate.sms is not None else None

    # -- the device's news ---------------------------------------------------------------

    def eventReceived(self, service: Any, variables: Sequence[tuple[str, str]]) -> None:
        if service.serviceId == self._bmsId:
            if self.diagnostics is not None:
                for active in bmsdiagnostics.activeTestIDs(variables, self.log):
                    self.diagnostics.testsActive(active)
            if self.logs is not None:
                self.logs.bmsEvent(variables)
        elif service.serviceId == self._smsId and self.firmware is not None:
            self.firmware.smsEvent(variables)

    def stateMayBeStale(self, service: Any) -> None:
        if service.serviceId == self._bmsId and self.diagnostics is not None:
            self.diagnostics.stateMayBeStale()
        elif service.serviceId == self._smsId and self.firmware is not None:
            self.firmware.serviceMayBeStale()

    def deviceReady(self, rebooted: bool, aliveTime: Optional[float] = None) -> None:
        """The device is online (first seen this run, back, or booted); C{aliveTime}: when it announced itself."""
        if self.diagnostics is not None:
            self.diagnostics.deviceReady(rebooted)
        if self.logs is not None:
            self.logs.deviceReady(rebooted)
        if self.firmware is not None:
            self.firmware.deviceReady(rebooted, aliveTime)
        self.queue.deviceReady(rebooted, aliveTime)

    def observed(self) -> None:
        """An observer (the endpoint) listens now: what is owed to it is told."""
        if self.diagnostics is not None:
            self.diagnostics.observed()
        if self.firmware is not None:
            self.firmware.observed()
        self.queue.observed()

    def stop(self) -> None:
        if self.diagnostics is not None:
            self.diagnostics.stop()
        if self.logs is not None:
            self.logs.stop()
        if self.firmware is not None:
            self.firmware.stop()
        self.queue.stop()
