# -*- test-case-name: tests.test_proxy_device -*-
"""
The half of a proxied device that is the same whatever its protocol: its
identity and key, its observers (the CWMP endpoint) and what it tells them,
and whether it answers now. A protocol subclasses L{ProxiedDevice} and
supplies its data model and its reasons to go offline or online.

Its states (L{DeviceStatus}), and what each move tells the observers
(TR-069 J.2.3):

    online ──────────── offline, restarting   deviceOffline (CR 503, no sessions)
    offline, restarting ─ online              deviceOnline (sessions resume)
    offline ──────────── restarting           nothing: the ACS already heard it left

A restarting device stays restarting until it is back, however its
requests fare meanwhile: the restart it announced, not its silence, is what
its return reports. Any other move is refused and logged.

What the endpoint must hear even before it observes (a boot found when the
proxier starts) waits, bounded, until the first observer comes. Value
changes are not device events: the device's data model reports them to its
listeners (L{INotifyingDataModel
<proxier.datamodel.capabilities.INotifyingDataModel>}), and detects none
while nobody listens.
"""

from __future__ import annotations

import hashlib
from enum import Enum
from typing import Any, Callable, Mapping

from twisted.logger import LogLevel
from zope.interface import implementer

from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IDeviceAttention, IDeviceObserver, IProxiedDevice
from proxier.log import DeviceLogger

__all__ = ["ProxiedDevice", "DeviceStatus", "TRANSITIONS", "MAX_PENDING_EVENTS", "deviceKey", "MAX_KEY"]

#: Events kept for the first observer at most; later ones are dropped (logged).
MAX_PENDING_EVENTS = 64

#: The longest device key: it names files (C{endpoint-<key>}, C{device-<key>}) of at most 128 characters.
MAX_KEY = 100

#: One event for the device's observers: called with each of them (an L{IDeviceObserver}).
ObserverCall = Callable[[IDeviceObserver], Any]


class DeviceStatus(Enum):
    """Whether a proxied device answers now."""

    #: it answers: sessions may run
    ONLINE = "online"
    #: it is gone or its requests go unanswered
    OFFLINE = "offline"
    #: it announced a reboot or a reset and left: its return reports which
    RESTARTING = "restarting"


#: The moves between statuses, and whether the observers hear of it; any other move is refused.
TRANSITIONS: Mapping[tuple[DeviceStatus, DeviceStatus], bool] = {
    (DeviceStatus.ONLINE, DeviceStatus.OFFLINE): True,
    (DeviceStatus.ONLINE, DeviceStatus.RESTARTING): True,
    (DeviceStatus.OFFLINE, DeviceStatus.ONLINE): True,
    (DeviceStatus.RESTARTING, DeviceStatus.ONLINE): True,
    (DeviceStatus.OFFLINE, DeviceStatus.RESTARTING): False,
}


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


@implementer(IProxiedDevice, IDeviceAttention)
class ProxiedDevice:
    """
    A device presented to the ACS as a Virtual CWMP Device; online when made,
    unless told otherwise (a device known only from an earlier run is
    offline until it answers: its first answer is a move the observers hear).

    Subclasses set L{proxyProtocol} and L{discoveryProtocol}, and give
    L{host} when they know it.

    @ivar status: a L{DeviceStatus}, changed only by L{_moveTo}.
    @ivar log: log lines naming the device, in the subclass's namespace.
    @ivar diagnostics: the L{DiagnosticsService<proxier.proxy.diagnostics.DiagnosticsService>}
        the proxier holds for it, or None.
    """

    # slots: one per device (issue 19), so that a subclass may keep its own in slots too; host and
    # diagnostics stay class defaults a subclass overrides (a property, or its own attribute)
    __slots__ = ("identity", "key", "log", "status", "_observers", "_pending")

    proxyProtocol: str
    discoveryProtocol: str
    host = ""
    diagnostics: Any = None

    def __init__(self, identity: DeviceIdentity, status: DeviceStatus = DeviceStatus.ONLINE) -> None:
        self.identity = identity
        self.key = deviceKey(identity)
        self.log = DeviceLogger(identity, namespace=type(self).__module__)
        self.status = status
        # a tuple: one observer (its endpoint) for most of its life (issue 19)
        self._observers: tuple[IDeviceObserver, ...] = ()
        # what waits for the first observer (a tuple: empty for good once it came, issue 19)
        self._pending: tuple[tuple[str, ObserverCall], ...] = ()

    @property
    def online(self) -> bool:
        return self.status is DeviceStatus.ONLINE

    @property
    def observers(self) -> tuple[IDeviceObserver, ...]:
        """Who is told now, first added first."""
        return self._observers

    def addObserver(self, observer: Any) -> None:
        """
        Tell C{observer} (an L{IDeviceObserver}; anything else is a TypeError)
        from now on; the first one hears at once what waited for it, in order.
        """
        observer = IDeviceObserver(observer)
        self._observers += (observer,)
        pending, self._pending = self._pending, ()
        for what, call in pending:
            self._tellOne(observer, what, call)

    def removeObserver(self, observer: Any) -> None:
        if observer in self._observers:
            index = self._observers.index(observer)
            self._observers = self._observers[:index] + self._observers[index + 1:]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identity} {self.status.value}>"

    def notices(self) -> tuple[tuple[str, str, str], ...]:
        """
        L{IDeviceAttention}: the part every protocol shares, the diagnostics
        under way; a protocol adds its own before them.
        """
        return tuple(self.diagnostics.notices()) if self.diagnostics is not None else ()

    # -- status ------------------------------------------------------------------------------

    def _moveTo(self, status: DeviceStatus, reason: str = "") -> bool:
        """
        Go to C{status} if L{TRANSITIONS} allows it, telling the observers
        when the move says so.

        @param reason: why it goes offline, for the log line.
        @return: whether the status changed (staying where it is is no move).
        """
        if status is self.status:
            return False
        told = TRANSITIONS.get((self.status, status))
        if told is None:
            self.log.info("stays {status}, not {refused} ({reason})", status=self.status.value,
                          refused=status.value, reason=reason or "no reason given")
            return False
        self.status = status
        if told and status is DeviceStatus.ONLINE:
            self.log.info("online")
            self._tell("deviceOnline", lambda o: o.deviceOnline(self))
        elif told:
            self.log.info("offline ({reason})", reason=reason)
            self._tell("deviceOffline", lambda o: o.deviceOffline(self))
        return True

    # -- what the observers hear (TR-330 Table 1) -----------------------------------------------

    def _tellBooted(self) -> None:
        """It rebooted: "1 BOOT"."""
        self._tell("deviceBooted", lambda o: o.deviceBooted(self))

    def _tellFactoryReset(self) -> None:
        """It was reset to its factory state: "0 BOOTSTRAP"."""
        self._tell("deviceFactoryReset", lambda o: o.deviceFactoryReset(self))

    def _tellDiagnosticsComplete(self) -> None:
        """A diagnostic the ACS asked for ended: "8 DIAGNOSTICS COMPLETE"."""
        self._tell("diagnosticsComplete", lambda o: o.diagnosticsComplete(self))

    def _tellTransferComplete(self, result: Any) -> None:
        """A transfer the ACS asked for ended: "7 TRANSFER COMPLETE"."""
        self._tell("transferComplete", lambda o: o.transferComplete(self, result))

    def _tellAutonomousTransferComplete(self, result: Any) -> None:
        """A transfer the ACS did not ask for ended: "10 AUTONOMOUS TRANSFER COMPLETE"."""
        self._tell("autonomousTransferComplete", lambda o: o.autonomousTransferComplete(self, result))

    def _tell(self, what: str, call: ObserverCall) -> None:
        """
        Tell every observer C{call(observer)} (an L{IDeviceObserver} method);
        kept until the first observer comes when there is none yet.

        @param what: the event's name, for log lines.
        """
        if not self._observers:
            if len(self._pending) < MAX_PENDING_EVENTS:
                self._pending += ((what, call),)
            else:
                self.log.error("no observer yet and {n} events waiting: {method} dropped", n=len(self._pending),
                               method=what)
            return
        for observer in self._observers:
            self._tellOne(observer, what, call)

    def _tellOne(self, observer: IDeviceObserver, what: str, call: ObserverCall) -> None:
        try:
            call(observer)
        except Exception:
            self.log.failure("an observer failed in {method}", method=what, level=LogLevel.error)
