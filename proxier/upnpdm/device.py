# -*- test-case-name: tests.test_upnpdm_device -*-
"""
One Virtual CWMP Device (TR-069 Annex J): a L{ProxiedDevice} made of one
UPnP DM logical device — or of several that share its identity (TR-330
§4.1.1: "devices sharing a UUID or Common Objects on one physical device"
are one CWMP device) — and what it tells its observers (the CWMP endpoint),
per TR-330 Table 1:

    announcement AboutToReboot ─┐                        ┌─ deviceBooted ("1 BOOT" [+ "M Reboot"])
    announcement AboutToBaselineReset ─ kept (durably) ──┤─ deviceFactoryReset ("0 BOOTSTRAP")
    a new BOOTID without either ─┘     until it is back  └─ deviceBooted ("1 BOOT")
    gone (byebye, expiry, unreachable) or actions unanswered ── deviceOffline (CR 503, no sessions)
    back (ready again, or answering)                       ── deviceOnline (J.2.3: sessions resume)
    CMS ConfigurationUpdate ── a check ── the listeners of its data model ("4 VALUE CHANGE")

Its states (L{DeviceStatus}):

 - C{online}: a member is ready and its actions are answered;
 - C{offline}: no member is ready, or actions went unanswered
   (C{offline_after_failures} in a row); while a member is still known the
   device is probed every C{online_probe_interval} seconds with a cheap CMS
   action, and the first answer brings it back;
 - C{restarting}: it announced AboutToReboot / AboutToBaselineReset and left;
   like offline, but the next ready reports the boot or the reset.

Its identity, its observers and what it tells them are
L{proxier.proxy.device}'s; this module reads the UPnP side. Value changes
are no device event: they reach the endpoint the way every model's do, as
the model's own (L{INotifyingDataModel
<proxier.datamodel.capabilities.INotifyingDataModel>}).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from twisted.internet.defer import Deferred

from proxier.datamodel.composite import CompositeDataModel
from proxier.proxy.device import DeviceStatus, ProxiedDevice
from proxier.proxy.gate import ActionGate
from proxier.upnp.ssdp import ABOUT_TO_BASELINE_RESET, ABOUT_TO_REBOOT
from proxier.upnpdm.changes import ChangeWatcher
from proxier.upnpdm.model import CMSDataModel
from proxier.upnpdm.profile import Candidate, DeviceProfile
from proxier.upnpdm.settings import ProxySettings
from proxier.upnpdm.state import DeviceState

__all__ = ["VirtualDevice", "Member", "PROXY_PROTOCOL", "DISCOVERY_PROTOCOL"]

PROXY_PROTOCOL = "UPnP-DM"  # TR-181 ManagementServer.VirtualDevice.{i}.ProxyProtocol
DISCOVERY_PROTOCOL = "UPnP"  # TR-181 ...DiscoveryProtocol


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


class VirtualDevice(ProxiedDevice):
    """
    @ivar overlays: C{(path, model)} mounts of objects the proxier holds
        for this device over its own model (TR-330 §4.3.2) — issue 7's
        diagnostics objects go here; L{dataModel} mounts them.
    @ivar followers: other CMS models of the device, each with its own
        state and change watcher (L{proxier.upnpdm.embedded.CMSFollower}:
        its embedded objects'), told what the model and its watcher are
        told: a new profile, a schema or a state gone stale, events, the stop.

    @param onMembers: called with the device once it is made and after
        every change of its members, so that an index of devices by member
        (the proxy module's) never goes stale.
    """

    # slots: one per device, and its __dict__ of fifteen attributes was ~0.6 KB (issue 19)
    __slots__ = ("clock", "state", "_onMembers", "_members", "_memberUPnPs", "expected", "probeInterval",
                 "overlays", "followers", "_probe", "_composite", "gate", "model", "watcher", "management")

    proxyProtocol = PROXY_PROTOCOL
    discoveryProtocol = DISCOVERY_PROTOCOL

    def __init__(self, profile: DeviceProfile, member: Member, state: DeviceState, *, clock: Any,
                 gateFactory: Callable[..., ActionGate], probeInterval: float = 60.0,
                 store: Any = None, uploadAgent: Optional[Callable[[], Any]] = None,
                 settings: Optional[ProxySettings] = None,
                 onMembers: Optional[Callable[["VirtualDevice"], None]] = None) -> None:
        super().__init__(profile.identity)
        self.clock = clock
        self.state = state
        self._onMembers: Optional[Callable[["VirtualDevice"], None]] = None
        self._setMembers((member,))
        self.expected = ""  # "reboot" / "reset": the proxier asked for it
        self.probeInterval = probeInterval
        self.overlays: tuple[tuple[str, Any], ...] = ()  # a tuple: made once, by its management (issue 19)
        self.followers: tuple[Any, ...] = ()  # rarely any: the empty tuple is shared (issue 19)
        self._probe: Any = None
        self._composite: Optional[CompositeDataModel] = None
        self.gate = gateFactory(self._target, onUnreachable=self._unreachable, onAnswer=self._answering,
                                name=str(self.identity))
        self.model = CMSDataModel(profile, self.gate, state, clock=clock, log=self.log,
                                  onReboot=self._rebootAsked, onFactoryReset=self._resetAsked)
        self.watcher = ChangeWatcher(self.model, state, log=self.log)
        self._logProfile(profile)
        # BMS diagnostics and logs, SMS firmware (issue 7): with a store of the device's own
        self.management: Any = None
        if store is not None:
            from proxier.upnpdm.management import DeviceManagement

            self.management = DeviceManagement(self, store, uploadAgent=uploadAgent,
                                               settings=settings or ProxySettings())
        self._onMembers = onMembers  # made: from now on its members are worth indexing
        if onMembers is not None:
            onMembers(self)

    # -- IProxiedDevice ----------------------------------------------------------------

    @property
    def diagnostics(self) -> Any:  # type: ignore[override]
        """The BMS diagnostics the proxier holds for it (issue 7), or None."""
        return self.management.diagnostics if self.management is not None else None

    def notices(self) -> tuple[tuple[str, str, str], ...]:
        """
        L{IDeviceAttention<proxier.interfaces.IDeviceAttention>}: each
        member's DeviceProtection (the control point's layer says what its
        state asks of a person: a certificate to accept, a button to press,
        the role granted), then the diagnostics under way, and a member
        reached one request per connection because it mishandled
        keep-alive (why, for whoever wonders why it is slow); what must be
        done first.
        """
        out: list[tuple[str, str, str]] = []
        for member in self.members:
            layer = getattr(getattr(member.upnp, "controlPoint", None), "security", None)
            if layer is not None and getattr(member.upnp, "security", None) is not None:
                out.extend(layer.notices(member.upnp))
            fallback = getattr(member.upnp, "keepAliveFallback", "")
            if fallback:
                out.append(("info", f"reached one request per connection: it {fallback}", ""))
        out.extend(super().notices())
        order = {"action": 0, "warning": 1}
        return tuple(sorted(out, key=lambda notice: order.get(notice[0], 2)))

    @property
    def profile(self) -> DeviceProfile:
        return self.model.profile

    @property
    def host(self) -> str:
        member = self._member()
        return member.upnp.host if member is not None else ""

    def addObserver(self, observer: Any) -> None:
        """As L{ProxiedDevice.addObserver}; then its management parts may send what waited for an endpoint."""
        super().addObserver(observer)
        if self.management is not None:
            self.management.observed()

    def dataModel(self) -> Any:
        """The device's IDataModel: its CMS model, mounted where it says, with the overlays when there are any."""
        if not self.overlays:
            return self.model
        if self._composite is None:
            self._composite = CompositeDataModel([(self.model.mountPoint, self.model)] + list(self.overlays),
                                                 log=self.log)
        return self._composite

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

    @property
    def members(self) -> tuple[Member, ...]:
        """The UPnP logical devices it is made of, in the order they joined."""
        return self._members

    def hasMember(self, upnp: Any) -> bool:
        return upnp in self._memberUPnPs

    def removeMember(self, upnp: Any, udn: str) -> None:
        """The logical device C{udn} of C{upnp} is no longer one of this device's (it says another identity now)."""
        self._setMembers(tuple(m for m in self._members if not (m.upnp is upnp and m.udn == udn)))

    def _setMembers(self, members: tuple[Member, ...]) -> None:
        """Every change of members goes here: what L{hasMember} reads and the C{onMembers} hook follow."""
        self._members = members
        # a tuple (a member or two): a set would cost 216 bytes a device (issue 19)
        self._memberUPnPs = tuple(m.upnp for m in members)
        if self._onMembers is not None:
            self._onMembers(self)

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
            member = Member(upnp, candidate)
            self._setMembers(tuple(m for m in self._members if m.udn != candidate.udn) + (member,))
        else:
            member.candidate = candidate
        if profile.candidate.udn == self.profile.candidate.udn or not self._othersReady(member):
            if profile != self.profile:
                self.model.setProfile(profile)
                self._follow("setProfile", profile)
        return self._booted(upnp, member)

    def _othersReady(self, member: Member) -> bool:
        return any(m.ready for m in self.members if m is not member)

    def _booted(self, upnp: Any, member: Member) -> Deferred:
        """
        Decide what the (re)appearance means (TR-330 Table 1); learn the
        device's model again (a sweep, which also finds the values that
        changed meanwhile, or leaves them for the endpoint's first listening
        when it is not listening yet); then tell the endpoint — so that its
        first session finds the model warm, and changes found now travel
        with the "1 BOOT" or the next Inform.
        """
        announced = announcementKind(self.state.announcement)
        bootId = upnp.bootId
        previous = self.state.bootIds.get(member.udn)
        rebooted = bootId is not None and previous is not None and bootId != previous
        self.state.setBootId(member.udn, bootId)
        self.state.setAnnouncement("")
        event: Optional[Callable[[], None]] = None
        if announced == ABOUT_TO_BASELINE_RESET:
            self.log.info("back after a baseline reset: its caches are rebuilt, \"0 BOOTSTRAP\" follows")
            self.state.factoryReset()
            self._follow("factoryReset")
            event = self._tellFactoryReset
        elif announced == ABOUT_TO_REBOOT or rebooted:
            why = "as announced" if announced else f"BOOTID {previous} → {bootId}"
            self.log.info("rebooted ({why}): \"1 BOOT\" follows", why=why)
            event = self._tellBooted
        if event is not None:
            self.expected = ""
            self.model.invalidateSchema()
            self.watcher.reset()
            self._follow("restarted")
        self.state.flushSoon()  # before the endpoint hears of the boot (the order of the store's writes)

        alive = _aliveTime(upnp, self.clock)

        def tell(_: Any) -> None:
            if event is not None:
                event()
            self._setOnline()
            if self.management is not None:
                self.management.deviceReady(event is not None, alive)

        self._follow("sweep")
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
            self._follow("setProfile", profile)
        if change.configId:
            self.model.invalidateSchema()
            self._follow("invalidateSchema")
        if (change.bootId and not change.update) or self.state.announcement:
            self._booted(upnp, member)
            return
        bootId = upnp.bootId
        self.state.setBootId(member.udn, bootId)
        self.state.flush()
        self._setOnline(True)
        self.watcher.check()
        self._follow("check")

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
        self._follow("reset")
        self.log.info("announced {kind}", kind=kind)

    def memberGone(self, upnp: Any, reason: str) -> None:
        """A member left (byebye, expiry, unreachable, no longer a DM device)."""
        if not self.hasMember(upnp):
            return
        if any(m.ready for m in self.members if m.upnp is not upnp):
            self.log.info("one of its UPnP devices left ({reason}); another still serves it", reason=reason)
            return
        self.gate.cancelAll("the device left")
        self._setOffline(DeviceStatus.RESTARTING if self.state.announcement else DeviceStatus.OFFLINE, reason)

    def eventReceived(self, upnp: Any, service: Any, variables: Sequence[tuple[str, str]]) -> None:
        if self.state.announcement:
            return  # restarting: once it is back, a sweep learns it afresh (events until then are moot)
        if service.serviceId == self.profile.candidate.cms.serviceId and upnp is self._target():
            self.watcher.eventReceived(variables)
            self._follow("eventReceived", variables)
        elif self.management is not None and upnp is self._target():
            self.management.eventReceived(service, variables)

    def stateMayBeStale(self, upnp: Any, service: Any, reason: str) -> None:
        if self.state.announcement:
            return
        if service.serviceId == self.profile.candidate.cms.serviceId and upnp is self._target():
            self.watcher.check()
            self._follow("check")
        elif self.management is not None and upnp is self._target():
            self.management.stateMayBeStale(service)

    def stop(self) -> None:
        if self.management is not None:
            self.management.stop()
        self.watcher.stop()
        self._follow("stop")
        self._stopProbe()
        self.gate.cancelAll("the proxier stops")
        self.state.flush()

    def _follow(self, what: str, *args: Any) -> None:
        """Tell each follower what its model, watcher or state is told (L{followers})."""
        for follower in self.followers:
            getattr(follower, what)(*args)

    # -- online / offline --------------------------------------------------------------------

    def _setOnline(self, _: bool = True) -> None:
        self._stopProbe()
        self._moveTo(DeviceStatus.ONLINE)

    def _setOffline(self, status: DeviceStatus, reason: str) -> None:
        """Offline or restarting; probed while a member is still known."""
        self._moveTo(status, reason)
        if self._target() is not None:
            self._armProbe()

    def _unreachable(self) -> None:
        self.log.warn("{n} actions in a row got no answer", n=self.gate.failuresInARow)
        self._setOffline(DeviceStatus.OFFLINE, "its actions go unanswered")

    def _answering(self) -> None:
        if not self.online and self._target() is not None:
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
        if self.online or self._target() is None:
            return
        d = self.model.cms("GetCurrentConfigurationVersion")
        d.addCallbacks(lambda _: None, lambda f: None)
        d.addCallback(lambda _: self._armProbe() if not self.online else None)

    # -- the model's hooks -----------------------------------------------------------------------

    def _rebootAsked(self, commandKey: str) -> None:
        self.expected = "reboot"

    def _resetAsked(self) -> None:
        self.expected = "reset"
