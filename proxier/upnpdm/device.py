# -*- test-case-name: tests.test_upnpdm_device -*-
"""
One Virtual CWMP Device (TR-069 Annex J): an L{IProxiedDevice} made of one
UPnP DM logical device — or of several that share its identity (TR-330
§4.1.1: "devices sharing a UUID or Common Objects on one physical device"
are one CWMP device) — and what it tells its observers (the CWMP endpoint),
per TR-330 Table 1:

    announcement AboutToReboot ─┐                        ┌─ deviceBooted ("1 BOOT" [+ "M Reboot"])
    announcement AboutToBaselineReset ─ kept (durably) ──┤─ deviceFactoryReset ("0 BOOTSTRAP")
    a new BOOTID without either ─┘     until it is back  └─ deviceBooted ("1 BOOT")
    gone (byebye, expiry, unreachable) or actions unanswered ── deviceOffline (CR 503, no sessions)
    back (ready again, or answering)                       ── deviceOnline (J.2.3: sessions resume)
    CMS ConfigurationUpdate                                ── valuesChanged ("4 VALUE CHANGE")

Its states:

 - C{online}: a member is ready and its actions are answered;
 - C{offline}: no member is ready, or actions went unanswered
   (C{offline_after_failures} in a row); while a member is still known the
   device is probed every C{online_probe_interval} seconds with a cheap CMS
   action, and the first answer brings it back;
 - C{restarting}: it announced AboutToReboot / AboutToBaselineReset and left;
   like offline, but the next ready reports the boot or the reset.

What the endpoint must hear even before it observes (a boot found when
the proxier starts) waits, bounded, until the first observer comes.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Optional, Sequence

from twisted.internet.defer import Deferred
from twisted.logger import LogLevel
from zope.interface import implementer

from proxier.datamodel.composite import CompositeDataModel
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.interfaces import IDeviceObserver, IProxiedDevice
from proxier.log import DeviceLogger
from proxier.proxy.gate import ActionGate
from proxier.upnp.ssdp import ABOUT_TO_BASELINE_RESET, ABOUT_TO_REBOOT
from proxier.upnpdm.changes import ChangeWatcher
from proxier.upnpdm.model import CMSDataModel
from proxier.upnpdm.profile import Candidate, DeviceProfile
from proxier.upnpdm.settings import ProxySettings
from proxier.upnpdm.state import DeviceState

__all__ = ["VirtualDevice", "Member", "PROXY_PROTOCOL", "DISCOVERY_PROTOCOL", "MAX_PENDING_EVENTS", "deviceKey",
           "MAX_KEY"]

PROXY_PROTOCOL = "UPnP-DM"  # TR-181 ManagementServer.VirtualDevice.{i}.ProxyProtocol
DISCOVERY_PROTOCOL = "UPnP"  # TR-181 ...DiscoveryProtocol
MAX_PENDING_EVENTS = 64

#: One event for the device's observers: called with each of them (an L{IDeviceObserver}).
ObserverCall = Callable[[IDeviceObserver], Any]

#: The longest device key: it names files (C{endpoint-<key>}, C{device-<key>}) of at most 128 characters.
MAX_KEY = 100

ONLINE = "online"
OFFLINE = "offline"
RESTARTING = "restarting"


class Member:
    """One UPnP logical device this Virtual CWMP Device is made of."""

    __slots__ = ("upnp", "candidate")

    def __init__(self, upnp: Any, candidate: Candidate) -> None:
        self.upnp = upnp
        self.candidate = candidate

    @property
    def udn(self) -> str:
        return self.candidate.udn

    @property
    def ready(self) -> bool:
        return self.upnp.state == "ready"


def deviceKey(identity: DeviceIdentity) -> str:
    """
    The key of a Virtual CWMP Device: its identity's (C{OUI-ProductClass-
    SerialNumber}, file-system safe), stable across restarts; an identity
    too long for a file name keeps its first characters and a digest of all.
    """
    key = identity.key
    if len(key) <= MAX_KEY:
        return key
    return key[: MAX_KEY - 17] + "-" + hashlib.sha256(str(identity).encode("utf-8")).hexdigest()[:16]


def _aliveTime(upnp: Any, clock: Any) -> float:
    """
    When the device last announced itself (its ssdp:alive, as the control
    point's tracker saw it), or now when that is not known.
    """
    now = clock.seconds()
    try:
        seen = upnp.controlPoint.tracker.get(upnp.udn).lastSeen
    except AttributeError:
        return now
    return seen if isinstance(seen, (int, float)) and seen <= now else now


def announcementKind(value: str) -> str:
    """
    Which TR-330 Table 1 row an C{Announcement.dm.upnp.org} value asks for:
    a baseline reset wins over a reboot (a reset that reboots announces both).
    """
    words = {w.strip() for w in value.replace(",", " ").split()}
    if ABOUT_TO_BASELINE_RESET in words:
        return ABOUT_TO_BASELINE_RESET
    if ABOUT_TO_REBOOT in words:
        return ABOUT_TO_REBOOT
    return ""


@implementer(IProxiedDevice)
class VirtualDevice:
    """
    @ivar overlays: C{(path, model)} mounts of objects the proxier holds
        for this device over its own model (TR-330 §4.3.2) — issue 7's
        diagnostics objects go here; L{dataModel} mounts them.
    """

    proxyProtocol = PROXY_PROTOCOL
    discoveryProtocol = DISCOVERY_PROTOCOL

    def __init__(self, profile: DeviceProfile, member: Member, state: DeviceState, *, clock: Any,
                 gateFactory: Callable[..., ActionGate], probeInterval: float = 60.0,
                 store: Any = None, uploadAgent: Optional[Callable[[], Any]] = None,
                 settings: Optional[ProxySettings] = None) -> None:
        self.identity: DeviceIdentity = profile.identity
        self.key = deviceKey(self.identity)
        self.clock = clock
        self.log = DeviceLogger(self.identity)
        self.state = state
        self.members: list[Member] = [member]
        self.status = ONLINE
        self.expected = ""  # "reboot" / "reset": the proxier asked for it
        self.probeInterval = probeInterval
        self.overlays: list[tuple[str, Any]] = []
        self._observers: list[Any] = []
        self._pending: list[tuple[str, ObserverCall]] = []
        self._probe: Any = None
        self._composite: Optional[CompositeDataModel] = None
        self.gate = gateFactory(self._target, onUnreachable=self._unreachable, onAnswer=self._answering,
                                name=str(self.identity))
        self.model = CMSDataModel(profile, self.gate, state, clock=clock, log=self.log,
                                  onReboot=self._rebootAsked, onFactoryReset=self._resetAsked)
        self.watcher = ChangeWatcher(self.model, state, self._valuesChanged, log=self.log)
        self._logProfile(profile)
        # BMS diagnostics and logs, SMS firmware (issue 7): with a store of the device's own
        self.management: Any = None
        if store is not None:
            from proxier.upnpdm.management import DeviceManagement

            self.management = DeviceManagement(self, store, uploadAgent=uploadAgent,
                                               settings=settings or ProxySettings())

    # -- IProxiedDevice ----------------------------------------------------------------

    @property
    def profile(self) -> DeviceProfile:
        return self.model.profile

    @property
    def host(self) -> str:
        member = self._member()
        return member.upnp.host if member is not None else ""

    @property
    def online(self) -> bool:
        return self.status == ONLINE

    def addObserver(self, observer: Any) -> None:
        """Tell C{observer} (an L{IDeviceObserver}; anything else is a TypeError) from now on."""
        observer = IDeviceObserver(observer)
        self._observers.append(observer)
        pending, self._pending = self._pending, []
        for what, call in pending:
            self._tellOne(observer, what, call)
        if self.management is not None:
            self.management.observed()

    def removeObserver(self, observer: Any) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def dataModel(self) -> Any:
        """The device's IDataModel: its CMS model, with the overlays mounted when there are any."""
        if not self.overlays:
            return self.model
        if self._composite is None:
            self._composite = CompositeDataModel([("Device.", self.model)] + list(self.overlays), log=self.log)
        return self._composite

    def __repr__(self) -> str:
        return f"<VirtualDevice {self.identity} {self.status}>"

    # -- members -----------------------------------------------------------------------

    def _member(self) -> Optional[Member]:
        for member in self.members:
            if member.ready:
                return member
        return self.members[0] if self.members else None

    def _target(self) -> Any:
        """The UPnP device actions go to now (the first ready member)."""
        for member in self.members:
            if member.ready:
                return member.upnp
        return None

    def hasMember(self, upnp: Any) -> bool:
        return any(m.upnp is upnp for m in self.members)

    def _logProfile(self, profile: DeviceProfile) -> None:
        caps = profile.capabilities
        self.log.info("UPnP DM device {udn}: Device. at {root}, Common Objects at {common}",
                      udn=profile.candidate.udn, root=profile.root or "(none)", common=profile.commonObjects)
        missing = [what for what, ok in (
            ("SetValues: parameters read-only", caps.canSetValues),
            ("CreateInstance: no AddObject", caps.canCreateInstance),
            ("DeleteInstance: no DeleteObject", caps.canDeleteInstance),
            ("SetAttributes: Notification cannot change EventOnChange", caps.canSetAttributes),
            ("BMS Reboot: Reboot answered 9000", caps.canReboot),
            ("BMS BaselineReset: FactoryReset answered 9000", caps.canBaselineReset),
        ) if not ok]
        if missing:
            self.log.warn("the device offers no {missing}", missing="; no ".join(missing))
        for note in profile.notes:
            self.log.info("{note}", note=note)

    # -- what the proxy module tells it ------------------------------------------------------

    def attached(self, upnp: Any, candidate: Candidate, profile: DeviceProfile) -> Deferred:
        """
        A member is ready (first discovery of this run, a rediscovery after
        it left, or the rediscovery after a change), freshly probed.

        @return: a Deferred firing (never failing) once the device's model is
            learnt again and the endpoint told what the appearance means.
        """
        member = next((m for m in self.members if m.upnp is upnp and m.udn == candidate.udn), None)
        if member is None:
            # the same logical device under a new UPnPDevice object replaces the old one
            self.members = [m for m in self.members if m.udn != candidate.udn]
            member = Member(upnp, candidate)
            self.members.append(member)
        else:
            member.candidate = candidate
        if profile.candidate.udn == self.profile.candidate.udn or not self._othersReady(member):
            if profile != self.profile:
                self.model.setProfile(profile)
        return self._booted(upnp, member)

    def _othersReady(self, member: Member) -> bool:
        return any(m.ready for m in self.members if m is not member)

    def _booted(self, upnp: Any, member: Member) -> Deferred:
        """
        Decide what the (re)appearance means (TR-330 Table 1); learn the
        device's model again (a sweep, which also finds the values that
        changed meanwhile); then tell the endpoint — so that its first
        session finds the model warm, and changes found now travel with the
        "1 BOOT" or the next Inform.
        """
        announced = announcementKind(self.state.announcement)
        bootId = upnp.bootId
        previous = self.state.bootIds.get(member.udn)
        rebooted = bootId is not None and previous is not None and bootId != previous
        self.state.setBootId(member.udn, bootId)
        self.state.setAnnouncement("")
        event = ""
        call: ObserverCall = lambda o: o.deviceBooted(self)
        if announced == ABOUT_TO_BASELINE_RESET:
            self.log.info("back after a baseline reset: its caches are rebuilt, \"0 BOOTSTRAP\" follows")
            self.state.factoryReset()
            event = "deviceFactoryReset"
            call = lambda o: o.deviceFactoryReset(self)
        elif announced == ABOUT_TO_REBOOT or rebooted:
            why = "as announced" if announced else f"BOOTID {previous} → {bootId}"
            self.log.info("rebooted ({why}): \"1 BOOT\" follows", why=why)
            event = "deviceBooted"
        if event:
            self.expected = ""
            self.model.invalidateSchema()
            self.watcher.reset()
        self.state.flush()

        alive = _aliveTime(upnp, self.clock)

        def tell(_: Any) -> None:
            if event:
                self._tell(event, call)
            self._setOnline()
            if self.management is not None:
                self.management.deviceReady(bool(event), alive)

        return self.watcher.sweep().addCallback(tell)

    def changed(self, upnp: Any, change: Any, candidate: Optional[Candidate] = None,
                profile: Optional[DeviceProfile] = None) -> None:
        """
        A member announced a change and was described again (a new BOOTID:
        it rebooted without byebye, or said byebye and came back within the
        control point's grace; a new LOCATION; a new CONFIGID).
        """
        member = next((m for m in self.members if m.upnp is upnp), None)
        if member is None:
            return
        if candidate is not None:
            member.candidate = candidate
        if profile is not None and profile != self.profile and member.udn == self.profile.candidate.udn:
            self.model.setProfile(profile)
        if change.configId:
            self.model.invalidateSchema()
        if (change.bootId and not change.update) or self.state.announcement:
            self._booted(upnp, member)
            return
        bootId = upnp.bootId
        self.state.setBootId(member.udn, bootId)
        self.state.flush()
        self._setOnline(True)
        self.watcher.check()

    def announced(self, upnp: Any, value: str) -> None:
        """C{Announcement.dm.upnp.org} on a byebye: kept durably for the alive that follows."""
        kind = announcementKind(value)
        if not kind:
            self.log.info("announced {value!r}, which TR-330 Table 1 does not map", value=value[:60])
            return
        if kind == ABOUT_TO_REBOOT and self.state.announcement == ABOUT_TO_BASELINE_RESET:
            return  # a reset that reboots says both; the reset is what counts
        self.state.setAnnouncement(kind)
        self.state.flush()
        self.watcher.reset()  # what it reads now belongs to before the restart
        self.log.info("announced {kind}", kind=kind)

    def memberGone(self, upnp: Any, reason: str) -> None:
        """A member left (byebye, expiry, unreachable, no longer a DM device)."""
        if not self.hasMember(upnp):
            return
        if any(m.ready for m in self.members if m.upnp is not upnp):
            self.log.info("one of its UPnP devices left ({reason}); another still serves it", reason=reason)
            return
        self.gate.cancelAll("the device left")
        self._setOffline(RESTARTING if self.state.announcement else OFFLINE, reason)

    def eventReceived(self, upnp: Any, service: Any, variables: Sequence[tuple[str, str]]) -> None:
        if self.state.announcement:
            return  # restarting: once it is back, a sweep learns it afresh (events until then are moot)
        if service.serviceId == self.profile.candidate.cms.serviceId and upnp is self._target():
            self.watcher.eventReceived(variables)
        elif self.management is not None and upnp is self._target():
            self.management.eventReceived(service, variables)

    def stateMayBeStale(self, upnp: Any, service: Any, reason: str) -> None:
        if self.state.announcement:
            return
        if service.serviceId == self.profile.candidate.cms.serviceId and upnp is self._target():
            self.watcher.check()
        elif self.management is not None and upnp is self._target():
            self.management.stateMayBeStale(service)

    def stop(self) -> None:
        if self.management is not None:
            self.management.stop()
        self.watcher.stop()
        self._stopProbe()
        self.gate.cancelAll("the proxier stops")
        self.state.flush()

    # -- online / offline --------------------------------------------------------------------

    def _setOnline(self, _: bool = True) -> None:
        self._stopProbe()
        if self.status != ONLINE:
            self.status = ONLINE
            self.log.info("online")
            self._tell("deviceOnline", lambda o: o.deviceOnline(self))

    def _setOffline(self, status: str, reason: str) -> None:
        if self.status == ONLINE:
            self.status = status
            self.log.info("offline ({reason})", reason=reason)
            self._tell("deviceOffline", lambda o: o.deviceOffline(self))
        else:
            self.status = status
        if self._target() is not None:
            self._armProbe()

    def _unreachable(self) -> None:
        self.log.warn("{n} actions in a row got no answer", n=self.gate.failuresInARow)
        self._setOffline(OFFLINE, "its actions go unanswered")

    def _answering(self) -> None:
        if self.status != ONLINE and self._target() is not None:
            self._setOnline()
            if self.management is not None:
                self.management.deviceReady(False)

    def _armProbe(self) -> None:
        if self._probe is None or not self._probe.active():
            self._probe = self.clock.callLater(self.probeInterval, self._probeNow)

    def _stopProbe(self) -> None:
        if self._probe is not None and self._probe.active():
            self._probe.cancel()
        self._probe = None

    def _probeNow(self) -> None:
        """TR-330 §4.1.1: "Utilize any of the available UPnP CMS/BMS service queries" to see if it is back."""
        self._probe = None
        if self.status == ONLINE or self._target() is None:
            return
        d = self.model.cms("GetCurrentConfigurationVersion")
        d.addCallbacks(lambda _: None, lambda f: None)
        d.addCallback(lambda _: self._armProbe() if self.status != ONLINE else None)

    # -- the model's hooks -----------------------------------------------------------------------

    def _rebootAsked(self, commandKey: str) -> None:
        self.expected = "reboot"

    def _resetAsked(self) -> None:
        self.expected = "reset"

    def _valuesChanged(self, values: Sequence[ParameterValue], active: bool) -> None:
        values = list(values)
        self._tell("valuesChanged", lambda o: o.valuesChanged(self, values, active))

    # -- observers --------------------------------------------------------------------------

    def _tell(self, what: str, call: ObserverCall) -> None:
        """
        Tell every observer C{call(observer)} (an L{IDeviceObserver} method);
        kept until the first observer comes when there is none yet.

        @param what: the event's name, for log lines.
        """
        if not self._observers:
            if len(self._pending) < MAX_PENDING_EVENTS:
                self._pending.append((what, call))
            else:
                self.log.error("no observer yet and {n} events waiting: {method} dropped", n=len(self._pending),
                               method=what)
            return
        for observer in list(self._observers):
            self._tellOne(observer, what, call)

    def _tellOne(self, observer: IDeviceObserver, what: str, call: ObserverCall) -> None:
        try:
            call(observer)
        except Exception:
            self.log.failure("an observer failed in {method}", method=what, level=LogLevel.error)
