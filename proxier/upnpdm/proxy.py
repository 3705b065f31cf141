# -*- test-case-name: tests.test_upnpdm_proxy -*-
"""
The UPnP-DM protocol's service: the control point, and the observer that
turns what it finds into Virtual CWMP Devices.

    UPnPDMService (MultiService, named "UPnP-DM")
      └── ControlPoint ──IUPnPDeviceObserver──▶ UPnPDMProxy
                                                  ├── per candidate logical device: probe (identity, models)
                                                  └── VirtualDevice × n ──deviceAppeared──▶ the proxier

A described UPnP device's logical devices with a ConfigurationManagement
service are probed (L{proxier.upnpdm.profile.probe}) through a gate of their
own, a few times if they do not answer; one that cannot be proxied is
logged with its UDN and address and left alone until it announces itself
again. Until a logical device is a reported Virtual CWMP Device the
service lists it as pending (L{IPendingDevices}: being probed, refused and
why, or held by DeviceProtection with what its owner must do), for the
local console. Logical devices that turn out to have the same identity — one
physical device announcing several UPnP devices, or the same device again
after it left — are one L{VirtualDevice}, reported to the proxier once per
run and kept (offline) when its UPnP devices leave: a device that comes
back resumes its endpoint, never bootstraps again.

The service registers, in the tree's registry, the adapters from
L{VirtualDevice} to L{IDataModel} that the CWMP side uses and to
L{IEmbeddedObjects} (its row of the proxier's own tree, with C{[upnp]
mechanism = embedded} or C{both}: L{proxier.upnpdm.embedded}).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from twisted.application.service import MultiService
from twisted.internet.defer import CancelledError, Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from proxier.datamodel.gateway import ROOT_DATA_MODEL_VERSION
from proxier.interfaces import IDataModel, IPendingDevices, IProxierContext, PendingDevice
from proxier.proxy.embeddedobjects import EMBEDDED, IEmbeddedObjects
from proxier.store import StoreError
from proxier.proxy.device import deviceKey
from proxier.proxy.gate import ActionGate, GateFull, NoAnswer
from proxier.upnp.actions import ActionError
from proxier.upnp.controlpoint import ControlPoint, IUPnPDeviceObserver
from proxier.upnp.dps.security import REFUSED
from proxier.upnp.soap import UPnPError
from proxier.upnpdm.cmsxml import CMSDocumentError
from proxier.upnpdm.device import PROXY_PROTOCOL, Member, VirtualDevice
from proxier.upnpdm.embedded import embeddedObjects, specOf
from proxier.upnpdm.errors import refusedByDevice
from proxier.upnpdm.profile import Candidate, ProbeRefused, candidates, capabilities, probe
from proxier.upnpdm.settings import SECTION, ProxySettings
from proxier.upnpdm.state import DeviceState

__all__ = ["UPnPDMService", "UPnPDMProxy", "SERVICE_NAME", "PROBE_RETRY"]

SERVICE_NAME = "UPnP-DM"
#: Seconds before a probe that got no usable answer is tried again (times the attempt).
PROBE_RETRY = 5.0


def _stateName(key: str) -> str:
    return "device-" + key[:100]


def _managementName(key: str) -> str:
    """The device's own store: its diagnostics, logs and transfers (issue 7)."""
    return "manage-" + key[:100]


@implementer(IUPnPDeviceObserver)
class UPnPDMProxy:
    """
    @param deviceAppeared: the proxier's C{deviceAppeared} (the context's).
    @param store: the protocol's store (a document per device).
    @param virtual: whether its devices are Virtual CWMP Devices (C{[upnp]
        mechanism} virtual or both). When not, a device's own change watcher
        never runs, as no endpoint listens to its model: only its embedded
        objects' model learns the device's tree (L{proxier.upnpdm.embedded}).

    @ivar devices: the Virtual CWMP Devices of this run, by key.
    @ivar reported: the keys of those reported to the proxier (their model learnt).
    @ivar actionObservers: told of every action to every device (the demo).
    """

    log = Logger()

    def __init__(self, deviceAppeared: Callable[[Any], None], store: Any, settings: ProxySettings, clock: Any,
                 *, defaultRootVersion: str = ROOT_DATA_MODEL_VERSION,
                 uploadAgent: Optional[Callable[[], Any]] = None, virtual: bool = True) -> None:
        self.deviceAppeared = deviceAppeared
        self.virtual = virtual
        self.store = store
        self.settings = settings
        self.clock = clock
        self.defaultRootVersion = defaultRootVersion
        self.uploadAgent = uploadAgent
        self.devices: dict[str, VirtualDevice] = {}
        # which devices have a member of a UPnP device, by its root UDN (VirtualDevice's onMembers keeps it;
        # mostly one: a tuple rather than a dict by key, issue 19), and the UDNs each device is indexed under
        self._byUPnP: dict[str, tuple[VirtualDevice, ...]] = {}
        self._indexed: dict[str, tuple[str, ...]] = {}
        self.reported: set[str] = set()
        self.actionObservers: list[Any] = []
        self.refused: dict[tuple[str, str], str] = {}
        self._probing: dict[tuple[str, str], Any] = {}
        self._retries: dict[tuple[str, str], Any] = {}
        self.stopped = False

    # -- gates ---------------------------------------------------------------------

    def makeGate(self, target: Callable[[], Any], **kw: Any) -> ActionGate:
        s = self.settings
        gate = ActionGate(target, self.clock, refused=refusedByDevice, timeout=s.actionTimeout,
                          concurrency=s.actionConcurrency, queueLimit=s.actionQueueLimit,
                          offlineAfter=s.offlineAfterFailures, **kw)
        gate.observers.extend(self.actionObservers)
        return gate

    def addActionObserver(self, observer: Any) -> None:
        self.actionObservers.append(observer)
        for device in self.devices.values():
            device.gate.observers.append(observer)

    # -- which devices a UPnP device belongs to -----------------------------------------

    def _devicesOf(self, upnp: Any) -> list[VirtualDevice]:
        """The Virtual CWMP Devices C{upnp} (that very object) is a member of, by index rather than by a scan."""
        return [d for d in self._byUPnP.get(upnp.udn, ()) if d.hasMember(upnp)]

    def _membersChanged(self, device: VirtualDevice) -> None:
        """The index follows a device's members (made, joined, replaced, or gone with another identity)."""
        now = frozenset(m.upnp.udn for m in device.members)
        before = frozenset(self._indexed.get(device.key, ()))
        for udn in before - now:
            devices = tuple(d for d in self._byUPnP[udn] if d.key != device.key)
            if devices:
                self._byUPnP[udn] = devices
            else:
                del self._byUPnP[udn]
        for udn in now - before:
            self._byUPnP[udn] = tuple(d for d in self._byUPnP.get(udn, ()) if d.key != device.key) + (device,)
        self._indexed[device.key] = tuple(now)  # kept as a tuple: a frozenset costs 216 bytes a device (issue 19)

    # -- IUPnPDeviceObserver ----------------------------------------------------------------

    def deviceReady(self, upnp: Any) -> None:
        self._examine(upnp, None)

    def deviceChanged(self, upnp: Any, change: Any) -> None:
        self._examine(upnp, change)

    def _examine(self, upnp: Any, change: Any) -> None:
        if self.stopped:
            return
        found, notes = candidates(upnp.description)
        for note in notes:
            upnp.log.info("{note}", note=note)
        if not found and not notes:
            upnp.log.debug("no UPnP DM service: not proxied")
        if not found:
            for device in self._devicesOf(upnp):
                device.memberGone(upnp, "no longer a UPnP DM device")
            return
        for candidate in found:
            self._probe(upnp, candidate, change, 1)

    def _probe(self, upnp: Any, candidate: Candidate, change: Any, attempt: int) -> None:
        key = (upnp.udn, candidate.udn)
        self._cancelRetry(key)
        caps = capabilities(candidate, upnp.scpd)
        if self.settings.requireReboot and not caps.canReboot:
            self._refuse(upnp, candidate, "it offers no BasicManagement Reboot, which [upnp] require_reboot asks for")
            return
        gate = self.makeGate(lambda: upnp if upnp.online else None, name=f"probe of {candidate.udn}")
        d = probe(gate.call, candidate, caps, self.defaultRootVersion)
        self._probing[key] = d
        d.addCallbacks(self._probed, self._probeFailed, (upnp, candidate, change), None,
                       (upnp, candidate, change, attempt))
        d.addErrback(lambda f: upnp.log.failure("probing {udn} failed", f, udn=candidate.udn))
        d.addBoth(lambda _: self._probing.pop(key, None) if self._probing.get(key) is d else None)

    def _refuse(self, upnp: Any, candidate: Candidate, why: str) -> None:
        key = (upnp.udn, candidate.udn)
        if self.refused.get(key) != why:
            self.refused[key] = why
            upnp.log.warn("{udn} at {host} is not proxied: {why}", udn=candidate.udn, host=upnp.host, why=why)
        for device in self._devicesOf(upnp):
            device.memberGone(upnp, why)

    def _probed(self, profile: Any, upnp: Any, candidate: Candidate, change: Any) -> None:
        if self.stopped or not upnp.online:
            return
        self.refused.pop((upnp.udn, candidate.udn), None)
        key = deviceKey(profile.identity)
        for other in self._devicesOf(upnp):
            if other.key != key and any(m.udn == candidate.udn for m in other.members if m.upnp is upnp):
                other.log.warn("its UPnP device {udn} now says it is {identity}", udn=candidate.udn,
                               identity=str(profile.identity))
                other.memberGone(upnp, "its identity changed")
                other.removeMember(upnp, candidate.udn)
        device = self.devices.get(key)
        if device is None:
            try:
                state = DeviceState(self.store.document(_stateName(key)), clock=self.clock)
                device = VirtualDevice(profile, Member(upnp, candidate), state, clock=self.clock,
                                       gateFactory=self.makeGate, probeInterval=self.settings.onlineProbeInterval,
                                       store=self.store.child(_managementName(key)), uploadAgent=self.uploadAgent,
                                       settings=self.settings, onMembers=self._membersChanged)
            except StoreError as e:  # a state file that cannot be read: not replaced by a blank one
                self._refuse(upnp, candidate, str(e))
                return
            if not self.virtual:
                device.watcher.stop()
            self.devices[key] = device
            if len(candidates(upnp.description)[0]) == 1:
                upnp.log.rebind(f"{profile.identity} ({upnp.udn} at {upnp.host})")

            def ready(_: Any) -> None:
                # its model learnt: the endpoint's first session finds it warm
                if not self.stopped:
                    self.reported.add(device.key)
                    self.deviceAppeared(device)

            device.attached(upnp, candidate, profile).addCallback(ready)
            return
        if change is not None and device.hasMember(upnp):
            device.changed(upnp, change, candidate, profile)
        else:
            device.attached(upnp, candidate, profile)

    def _probeFailed(self, failure: Failure, upnp: Any, candidate: Candidate, change: Any, attempt: int) -> None:
        if self.stopped or failure.check(CancelledError):
            return
        if failure.check(ProbeRefused):
            self._refuse(upnp, candidate, failure.getErrorMessage())
            return
        if not failure.check(UPnPError, ActionError, NoAnswer, CMSDocumentError, GateFull):
            failure.raiseException()
        why = failure.getErrorMessage()
        if failure.check(UPnPError):
            why = f"{getattr(failure.value, 'action', '') or 'an action'} refused: {why}"
        if attempt < self.settings.probeAttempts and upnp.online:
            upnp.log.info("asking {udn} for its identity failed ({why}); trying again", udn=candidate.udn, why=why)
            key = (upnp.udn, candidate.udn)
            self._retries[key] = self.clock.callLater(PROBE_RETRY * attempt, self._retry, upnp, candidate, change,
                                                      attempt + 1)
            return
        for device in self._devicesOf(upnp):
            # a known device described again but not answering: keep it, as it was
            if change is not None:
                device.changed(upnp, change)
                return
        self._refuse(upnp, candidate, f"it does not tell its identity ({why}); tried {attempt} times")

    def _retry(self, upnp: Any, candidate: Candidate, change: Any, attempt: int) -> None:
        self._retries.pop((upnp.udn, candidate.udn), None)
        if not self.stopped and upnp.online:
            self._probe(upnp, candidate, change, attempt)

    def _cancelRetry(self, key: tuple[str, str]) -> None:
        call = self._retries.pop(key, None)
        if call is not None and call.active():
            call.cancel()

    def deviceGone(self, upnp: Any, reason: str) -> None:
        for key in [k for k in self._retries if k[0] == upnp.udn]:
            self._cancelRetry(key)
        for key in [k for k in self._probing if k[0] == upnp.udn]:
            d = self._probing.pop(key, None)
            if d is not None:
                d.cancel()
        for device in self._devicesOf(upnp):
            device.memberGone(upnp, reason)

    def announcement(self, upnp: Any, value: str) -> None:
        for device in self._devicesOf(upnp):
            device.announced(upnp, value)

    def eventReceived(self, upnp: Any, service: Any, variables: Sequence[tuple[str, str]]) -> None:
        for device in self._devicesOf(upnp):
            device.eventReceived(upnp, service, variables)

    def stateMayBeStale(self, upnp: Any, service: Any, reason: str) -> None:
        for device in self._devicesOf(upnp):
            device.stateMayBeStale(upnp, service, reason)

    def deviceOf(self, upnp: Any, candidate: Candidate) -> Optional[VirtualDevice]:
        """The Virtual CWMP Device this logical device is a member of, if any."""
        for device in self._devicesOf(upnp):
            if any(m.upnp is upnp and m.udn == candidate.udn for m in device.members):
                return device
        return None

    def standing(self, upnp: Any, candidate: Candidate) -> tuple[str, str]:
        """
        Where a logical device of a UPnP device observers were shown stands
        while it is no Virtual CWMP Device (L{IPendingDevices}): C{(state, why)}.
        """
        key = (upnp.udn, candidate.udn)
        if key in self.refused:
            return ("refused", self.refused[key])
        if key in self._retries:
            return ("probing", "it did not tell its identity yet (see the log); asked again soon")
        return ("probing", "asking it who it is")

    def stop(self) -> None:
        self.stopped = True
        for key in list(self._retries):
            self._cancelRetry(key)
        for d in list(self._probing.values()):
            d.cancel()
        self._probing.clear()
        for device in self.devices.values():
            device.stop()


@implementer(IPendingDevices)
class UPnPDMService(MultiService):
    """
    What the UPnP-DM plugin's C{makeService} returns.

    @param controlPoint: a control point to use instead of one made from
        the configuration (tests).
    """

    log = Logger()

    def __init__(self, context: IProxierContext, *, controlPoint: Optional[ControlPoint] = None) -> None:
        super().__init__()
        self.setName(SERVICE_NAME)
        self.context = context
        self.settings = ProxySettings.fromConfig(context.config, context.deviceTimeout)
        if controlPoint is None:
            # the state directory keeps DeviceProtection's identity, pins and introductions: without it a
            # restart made a new identity, and every secured device had to be introduced again
            controlPoint = ControlPoint(context.config, reactor=context.reactor, store=context.store)
        self.controlPoint = controlPoint
        self.proxy = UPnPDMProxy(context.deviceAppeared, context.store, self.settings, context.reactor,
                                 uploadAgent=self._uploadAgent,
                                 virtual=SECTION.reader(context.config)("mechanism") != EMBEDDED)
        controlPoint.addObserver(self.proxy)
        controlPoint.setServiceParent(self)
        #: each device's embedded objects, by key: made once, whenever its row comes back
        self.embeddedObjects: dict[str, Any] = {}
        context.registry.registerAdapter(_dataModelOf, (VirtualDevice,), IDataModel)
        context.registry.registerAdapter(self._embeddedObjectsOf, (VirtualDevice,), IEmbeddedObjects)

    @property
    def devices(self) -> dict[str, VirtualDevice]:
        return self.proxy.devices

    def addActionObserver(self, observer: Any) -> None:
        """Hear of every action to every device (see L{proxier.proxy.gate.IActionObserver})."""
        self.proxy.addActionObserver(observer)

    def pending(self) -> list[PendingDevice]:
        """
        L{IPendingDevices}: each logical device with a ConfigurationManagement
        service the control point knows that is no reported Virtual CWMP
        Device — held by DeviceProtection (waiting for its owner: the
        layer's notices say to press its button, grant a role or accept its
        certificate; or refused), being secured or probed, or refused by the
        proxy (why). A device proxied before and held now is a device still:
        its own notices tell it.
        """
        layer = self.controlPoint.security
        out = []
        for upnp in self.controlPoint.devices():
            for candidate in candidates(upnp.description)[0]:
                device = self.proxy.deviceOf(upnp, candidate)
                if device is not None:
                    if device.key in self.proxy.reported:
                        continue
                    standing = ("probing", "reading its data model")
                elif upnp.shown:
                    standing = self.proxy.standing(upnp, candidate)
                elif upnp.state == "held":
                    security = upnp.security
                    standing = ("refused" if security.state == REFUSED else "waiting",
                                f"DeviceProtection {security.state}: {security.reason}")
                else:
                    standing = ("probing", "securing the connection and subscribing to its events")
                described = candidate.device
                label = described.friendlyName or described.modelName or candidate.udn
                if described.friendlyName and described.modelName and described.modelName not in label:
                    label += f" ({described.modelName})"
                out.append(PendingDevice(candidate.udn, label, PROXY_PROTOCOL, upnp.host, standing[0], standing[1],
                                         tuple(layer.notices(upnp))))
        return out

    def _embeddedObjectsOf(self, device: VirtualDevice) -> Any:
        """Its L{IEmbeddedObjects}: its row of the table C{[device] oui} names, a CMS model of its own."""
        objects = self.embeddedObjects.get(device.key)
        if objects is None:
            objects = embeddedObjects(device, specOf(self.context.config).table, self.context.store)
            self.embeddedObjects[device.key] = objects
        return objects

    def _uploadAgent(self) -> Any:
        """
        The HTTP agent log uploads go to the ACS's file server with (TR-330
        §4.4.2): the context's, made when first needed.
        """
        return self.context.acsAgent

    def startService(self) -> None:
        self.proxy.stopped = False
        super().startService()

    def stopService(self) -> Deferred:
        self.proxy.stop()
        return super().stopService()


def _dataModelOf(device: VirtualDevice) -> Any:
    return device.dataModel()
