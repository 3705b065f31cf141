# -*- test-case-name: tests.test_upnp_controlpoint -*-
"""
The UPnP control point as a service: what the UPnP DM protocol plugin (the
TR-330 module) starts, observes and calls.

    ControlPoint (MultiService)
      ├── Discovery      SSDP sockets and search rounds   → DeviceTracker
      ├── DeviceTracker  found / changed / lost / announcement
      ├── per device: UPnPDevice (description, SCPDs, callAction)
      │               + one GENA Subscription per evented DM service
      └── CallbackServer (GENA NOTIFY), ActionClient, DescriptionFetcher

Observers (L{IUPnPDeviceObserver}) hear, per device: ready (described and
subscribed — or polling where the device refuses eventing), changed (a new
LOCATION, BOOTID, CONFIGID, an ssdp:update: described and subscribed again),
gone (byebye, expiry, unreachable), announcements (AboutToReboot,
AboutToBaselineReset), events, and "state may be stale" (read it again by
actions: after a SEQ gap, a new subscription, or on each polling tick).

Before observers hear of a device it passes the DeviceProtection layer
(L{proxier.upnp.dps.security}): a device announcing SECURELOCATION.UPNP.ORG is
talked to over TLS from then on, its certificate pinned, its roles read
(C{UPnPDevice.security}); a quarantined or refused device is never shown,
and neither is one that grants the proxier nothing beyond Public (TR-330
§2.4) until it does.

Everything comes from the configuration (L{Settings}); the reactor, the
clock, the HTTP client, the listen functions and the interface list can be
injected, so the whole service runs in tests against in-memory devices.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any, Callable, Optional, Sequence, Union
from urllib.parse import urlsplit

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred, DeferredList, gatherResults, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Interface, implementer

from proxier.config import Config
from proxier.interfaces import IReloadable
from proxier.log import DeviceLogger
from proxier.sharing import internText
from proxier.upnp import ssdp
from proxier.upnp.actions import ActionClient, ActionError
from proxier.upnp.dps.cpidentity import IdentityKeeper
from proxier.upnp.description import SCPD, Device, DeviceDescription, Service as UPnPService
from proxier.upnp.discovery import Discovery
from proxier.upnp.eventing import CallbackServer, Subscription, SubscriptionTerms
from proxier.upnp.fetcher import DescriptionFetcher, DeviceInfo, isDMService
from proxier.lan.httpclient import EndpointFactory, Requester, makeHTTPClient
from proxier.lan.keepalive import DevicePool
from proxier.lan.netif import NetworkInterface, defaultRouteInterfaces, listInterfaces, selectInterfaces
from proxier.upnp.dps.security import HELD, QUARANTINED, REFUSED, DeviceSecurity, SecurityManager
from proxier.upnp.settings import Settings
from proxier.upnp.soap import UPnPError
from proxier.upnp.tracker import Change, DeviceTracker, TrackedDevice
from proxier.lan.urlpolicy import URLPolicy

__all__ = ["IUPnPDeviceObserver", "UPnPDevice", "ControlPoint", "UPnPError", "ActionError", "Change"]


class IUPnPDeviceObserver(Interface):
    """
    Who hears about UPnP devices (the TR-330 module). Calls never wait: an
    observer that needs to talk to the device starts that itself.
    """

    def deviceReady(device):
        """
        A device is described and its evented DM services are subscribed (or
        polled): first discovery, or back after being gone.

        @type device: L{UPnPDevice}
        """

    def deviceChanged(device, change):
        """
        The device announced a change and was described and subscribed again.
        C{change.bootId} or C{change.update}: it rebooted or moved (TR-330
        Table 1 "1 BOOT" when no AboutToReboot came first); C{change.configId}:
        its description changed.

        @type change: L{Change<proxier.upnp.tracker.Change>}
        """

    def deviceGone(device, reason):
        """
        The device left: C{"byebye"}, C{"expired"} (max-age passed),
        C{"unreachable"} (its description could not be fetched again) or
        C{"no longer a UPnP DM device"}. Its actions fail from now on.
        """

    def announcement(device, value):
        """
        C{Announcement.dm.upnp.org} on a byebye (C{"AboutToReboot"},
        C{"AboutToBaselineReset"}), once per value and BOOTID, before
        L{deviceGone}. TR-330 Table 1: keep it for the next L{deviceReady}.
        """

    def eventReceived(device, service, variables):
        """
        A GENA event: C{variables} is a list of C{(name, value)}, the initial
        event holding every evented variable.

        @type service: L{proxier.upnp.description.Service}
        """

    def stateMayBeStale(device, service, reason):
        """
        Events of C{service} may have been missed: read the state again by
        actions. C{reason}: C{"seq-gap"}, C{"resubscribed"}, C{"poll"}
        (the device refuses subscriptions and is polled instead), C{"lost"}
        (a NOTIFY refused or cut by the callback server) or
        C{"no-initial-event"}.
        """


class UPnPDevice:
    """
    One described UPnP device (a root device and its embedded devices), as
    observers see it.

    States: C{describing} (never shown to observers), C{securing} (the
    DeviceProtection layer decides), C{held} (not shown: quarantined,
    refused, or granting nothing beyond Public), C{subscribing}, C{ready},
    C{gone}.

    @ivar udn: the root UDN (lower case).
    @ivar info: the latest L{DeviceInfo} (description, SCPDs, checked URLs).
    @ivar bootId: BOOTID.UPNP.ORG as last announced (C{None}: a UDA 1.0 device).
    @ivar configId: CONFIGID.UPNP.ORG as last announced.
    @ivar secureLocation: SECURELOCATION.UPNP.ORG (DeviceProtection), or C{""}.
    @ivar log: a L{DeviceLogger} naming the device; an observer that learns
        its CWMP identity may C{rebind} it.
    @ivar security: its L{DeviceSecurity<proxier.upnp.dps.security.DeviceSecurity>}:
        whether it is talked to over TLS, and what the proxier's roles allow
        (C{security.allows(serviceType, action)}).
    """

    # slots: one per device (issue 19)
    __slots__ = (
        "controlPoint", "udn", "state", "log", "subscriptions", "generation", "shown", "security", "info",
        "location", "origin", "bootId", "configId", "secureLocation", "server",
    )

    def __init__(self, controlPoint: "ControlPoint", entry: TrackedDevice) -> None:
        self.controlPoint = controlPoint
        self.udn = entry.udn
        self.state = "describing"
        self.log = DeviceLogger(self._name(entry))
        # its evented services' subscriptions (or pollers), each knowing its service by its owner (a tuple: a
        # dict and its (UDN, serviceId) keys cost ~0.4 KB a device, issue 19)
        self.subscriptions: tuple[Union[Subscription, _Poller], ...] = ()
        self.generation = 0
        self.shown = False  # observers were told deviceReady
        self.security = DeviceSecurity()
        self._update(entry)

    def _name(self, entry: TrackedDevice) -> str:
        return f"{entry.udn} at {entry.origin.source}"

    def _update(self, entry: TrackedDevice) -> None:
        assert entry.info is not None
        self.info: DeviceInfo = entry.info
        self.location = entry.location
        self.origin = entry.origin
        self.bootId = entry.bootId
        self.configId = entry.configId
        self.secureLocation = entry.secureLocation
        self.server = entry.server

    @property
    def description(self) -> DeviceDescription:
        return self.info.description

    @property
    def host(self) -> str:
        """The address the device is reached at."""
        return self.origin.source.partition("%")[0]

    @property
    def online(self) -> bool:
        return self.state in ("subscribing", "ready")

    @property
    def keepAliveFallback(self) -> str:
        """
        Why requests to the device (at its description's port) go one per
        connection, without keep-alive: it mishandled keep-alive
        (L{DevicePool.fallbacks}). C{""}: they keep connections alive, or
        the control point was given a client of its own.
        """
        pool = self.controlPoint.pool
        if pool is None:
            return ""
        try:
            port = urlsplit(self.location).port or 80
        except ValueError:
            return ""
        return pool.fallbackFor(self.host, port)

    def services(self, serviceType: Optional[str] = None) -> list[tuple[Device, UPnPService]]:
        """Every (device, service), or those of a type (same or newer version)."""
        pairs = self.description.services()
        if serviceType is None:
            return pairs
        return [(d, s) for d, s in pairs if ssdp.searchTargetMatches(serviceType, s.serviceType)]

    def scpd(self, service: UPnPService) -> Optional[SCPD]:
        """
        The SCPD of one of its services as the proxier may use it: for a
        DeviceProtection device, the actions the proxier's roles forbid are
        left out, so that observers neither offer nor invoke them (TR-330
        §4.8: an action the role forbids is refused up front, never a 606 at
        run time). L{fullSCPD} is what the device describes.
        """
        full = self.fullSCPD(service)
        security = self.security
        if full is None or not security.secure:
            return full
        allowed = tuple(a for a in full.actions if security.allows(service.serviceType, a.name))
        return full if len(allowed) == len(full.actions) else replace(full, actions=allowed)

    def fullSCPD(self, service: UPnPService) -> Optional[SCPD]:
        """The SCPD of one of its services as the device describes it."""
        for d, s in self.description.services():
            if s is service or (s.serviceId == service.serviceId and s.controlURL == service.controlURL):
                return self.info.scpd(d, s)
        return None

    def subscriptionState(self, service: UPnPService) -> Optional[str]:
        """C{"subscribed"}, C{"renewing"}, C{"polling"}, ... or C{None} (no eventing for it)."""
        for d, s in self.description.services():
            if s is service or (s.serviceId == service.serviceId and s.controlURL == service.controlURL):
                udn = d.udn.lower()
                for sub in self.subscriptions:
                    if sub.owner.udn == udn and sub.owner.service.serviceId == s.serviceId:
                        return sub.state
                return None
        return None

    def callAction(
        self,
        service: UPnPService,
        action: str,
        arguments: Optional[dict[str, object]] = None,
        timeout: Optional[float] = None,
    ) -> "Deferred[dict[str, str]]":
        """
        Invoke an action of one of this device's services.

        @param timeout: seconds (default: C{[upnp] action_timeout}).
        @return: Deferred firing with the output arguments (name → text, in
            order), or failing with L{UPnPError} (the device refused, or the
            SCPD says the call is wrong) or L{ActionError} (no usable answer,
            or the device is gone).
        """
        if self.state == "gone":
            return _failed(ActionError(f"{action}: the device is gone"))
        security = self.security
        if security.state in (HELD, QUARANTINED, REFUSED):
            return _failed(ActionError(f"{action}: not sent: DeviceProtection {security.state} ({security.reason})"))
        if security.secure and not security.allows(service.serviceType, action):
            roles = " ".join(sorted(security.roles))
            return _failed(UPnPError(401, f"{action} is not allowed to the proxier by the device's DeviceProtection "
                                          f"roles ({roles}) (checked by the proxier; not sent)"))
        target = self.info.target(service.controlURL)
        if target is None:
            return _failed(ActionError(f"{action}: {service.serviceType} has no usable control URL"))
        d = self.controlPoint.actions.callAction(
            target, self.origin, service.serviceType, action, arguments or {},
            scpd=self.scpd(service), timeout=timeout,
        )

        def logged(f: Failure) -> Failure:
            if f.check(ActionError):
                self.log.warn("{action}: {why}", action=action, why=f.getErrorMessage())
            elif f.check(UPnPError):
                self.log.info("{action}: {error}", action=action, error=f.value)
            return f

        return d.addErrback(logged)

    def __repr__(self) -> str:
        return f"<UPnPDevice {self.udn} {self.state} {self.location}>"


def _deviceCAs(path: str) -> tuple[Any, ...]:
    """The certificates of C{[upnp] dps_device_ca_file}, or a ConfigError naming it."""
    if not path:
        return ()
    from proxier.config import ConfigError
    from proxier.upnp.dps.tls import loadCAFile

    try:
        return tuple(loadCAFile(path))
    except (OSError, ValueError) as e:
        raise ConfigError(None, "upnp", "dps_device_ca_file", f"{path}: {e}") from None


def _failed(error: Exception) -> Deferred:
    from twisted.internet.defer import fail

    return fail(error)


class _Poller:
    """
    The polling of an evented DM service that cannot be subscribed to at all
    (no usable event URL, or no local address the device could reach): the
    owner is asked to re-read its state every C{interval} seconds.
    """

    __slots__ = ("owner", "clock", "interval", "state", "timer")

    def __init__(self, owner: "_ServiceEvents", clock: Any, interval: float) -> None:
        self.owner, self.clock, self.interval = owner, clock, interval
        self.state = "polling"
        self.timer = clock.callLater(interval, self._tick)

    def _tick(self) -> None:
        self.timer = self.clock.callLater(self.interval, self._tick)
        self.owner.stateMayBeStale(self, "poll")

    def stop(self, unsubscribe: bool = True) -> "Deferred[None]":
        self.state = "closed"
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        return succeed(None)


class _ServiceEvents:
    """Forwards one subscription's news to the observers, with its device and service."""

    __slots__ = ("controlPoint", "device", "udn", "service", "generation")  # one per evented service of each device

    def __init__(self, controlPoint: "ControlPoint", device: UPnPDevice, udn: str, service: UPnPService,
                 generation: int):
        self.controlPoint = controlPoint
        self.device = device
        self.udn = udn  # of the (root or embedded) device that has the service, in lower case
        self.service = service
        self.generation = generation

    def eventReceived(self, subscription: Any, variables: list[tuple[str, str]]) -> None:
        if self.generation == self.device.generation:
            self.controlPoint._tell("eventReceived", self.device, self.service, variables)

    def stateMayBeStale(self, subscription: Any, reason: str) -> None:
        if self.generation == self.device.generation:
            self.controlPoint._tell("stateMayBeStale", self.device, self.service, reason)

    def unreachable(self, subscription: Any, why: str) -> None:
        if self.generation == self.device.generation:
            self.device.log.info("event subscription got no answer ({why}): is it still there?", why=why)
            self.controlPoint.tracker.probe(self.device.udn)


class _TrackerEvents:
    """The tracker's listener: keeps those four methods off the ControlPoint's public face."""

    def __init__(self, controlPoint: "ControlPoint") -> None:
        self.controlPoint = controlPoint

    def deviceFound(self, entry: TrackedDevice) -> None:
        self.controlPoint._deviceFound(entry)

    def deviceChanged(self, entry: TrackedDevice, change: Change) -> None:
        self.controlPoint._deviceChanged(entry, change)

    def deviceLost(self, entry: TrackedDevice, reason: str) -> None:
        self.controlPoint._deviceLost(entry, reason)

    def announcementReceived(self, entry: TrackedDevice, value: str) -> None:
        self.controlPoint._announcementReceived(entry, value)


@implementer(IReloadable)
class ControlPoint(MultiService):
    """
    The UPnP control point (see the module docstring). A C{MultiService}: the
    protocol plugin may hang its own services under it.

    @param config: the validated configuration (C{[lan]} and, if present,
        the UPnP section).
    @param interfaces: the host's interfaces, or a function returning them
        (default: L{listInterfaces}, read at start and at every check).
    @param defaultRoutes: a function returning the names of the interfaces
        that hold a default route, left out of discovery unless named
        (default: L{defaultRouteInterfaces} when C{interfaces} is not given,
        else none).
    @param httpClient: a treq C{HTTPClient} for every request to devices
        (default: L{makeHTTPClient} on a L{DevicePool}, kept in C{pool}:
        connections kept alive; then C{endpoints} is its factory).
    @param resolve: name → Deferred list of addresses (URL policy).
    @param store: where DeviceProtection keeps its identity, pins,
        quarantine and introduction status (C{None}: in memory).
    @param identity: an L{IdentityKeeper<proxier.upnp.dps.cpidentity.IdentityKeeper>}
        to use instead of one made from the settings.
    @param commonName: the common name of a generated certificate.
    @raise ConfigError: C{[upnp] dps_device_ca_file} cannot be read.
    """

    log = Logger()

    def __init__(
        self,
        config: Union[Config, Settings],
        *,
        reactor: Any = None,
        clock: Any = None,
        httpClient: Any = None,
        endpoints: Optional[EndpointFactory] = None,
        interfaces: Union[None, Sequence[NetworkInterface], Callable[[], Sequence[NetworkInterface]]] = None,
        defaultRoutes: Optional[Callable[[], Any]] = None,
        listenUDP: Optional[Callable[..., Any]] = None,
        listenMulticast: Optional[Callable[..., Any]] = None,
        adoptDatagramPort: Optional[Callable[..., Any]] = None,
        listenTCP: Optional[Callable[..., Any]] = None,
        socketFactory: Optional[Callable[..., Any]] = None,
        resolve: Optional[Callable[[str], Deferred]] = None,
        rng: Optional[random.Random] = None,
        sectionName: str = "upnp",
        store: Any = None,
        identity: Any = None,
        commonName: str = "proxier",
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as _reactor

            reactor = _reactor
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        self.settings = config if isinstance(config, Settings) else Settings.fromConfig(config, sectionName)
        s = self.settings
        self.loopbackMode = s.ssdpMode == "unicast-loopback"
        self.rng = rng or random.Random()
        self.pool: Optional[DevicePool] = None
        if httpClient is None:
            self.pool = DevicePool(self.clock)
            httpClient, endpoints = makeHTTPClient(reactor, connectTimeout=min(10.0, float(s.actionTimeout)),
                                                   pool=self.pool)
        self.httpClient = httpClient
        self.endpoints = endpoints
        self.policy = URLPolicy(resolve, reactor=reactor)
        self.requester = Requester(httpClient, self.clock, self.policy, endpoints=endpoints)
        self.fetcher = DescriptionFetcher(self.requester, self.policy, timeout=s.descriptionTimeout,
                                          maxBytes=s.descriptionMaxBytes)
        self.actions = ActionClient(self.requester, timeout=s.actionTimeout, maxBytes=s.actionMaxBytes)
        self.callbacks = CallbackServer(self.clock, listenTCP or reactor.listenTCP, port=s.callbackPort,
                                        requestTimeout=s.callbackRequestTimeout,
                                        maxConnections=s.callbackMaxConnections, maxPerPeer=s.callbackMaxPerPeer,
                                        maxWaiting=s.callbackMaxWaiting)
        #: what every event subscription shares (the settings it takes are not reloaded)
        self.subscriptionTerms = SubscriptionTerms(self.callbacks, self.requester, self.clock,
                                                   requestedTimeout=s.subscriptionTimeout, pollInterval=s.pollInterval,
                                                   requestTimeout=s.descriptionTimeout, rng=self.rng)
        self.tracker = DeviceTracker(self._fetchDescription, _TrackerEvents(self), self.clock,
                                     maxDevices=s.maxDevices, maxPending=s.maxPending)
        self.security = SecurityManager(self, s, store, identity or IdentityKeeper(s, store, self.clock,
                                                                                   commonName=commonName),
                                        caCertificates=_deviceCAs(s.dpsDeviceCAFile))
        if interfaces is None:
            self._listInterfaces: Callable[[], Sequence[NetworkInterface]] = listInterfaces
            self._defaultRoutes: Callable[[], Any] = defaultRoutes or defaultRouteInterfaces
        else:
            fixed = interfaces
            self._listInterfaces = fixed if callable(fixed) else (lambda: list(fixed))  # type: ignore[misc]
            self._defaultRoutes = defaultRoutes or set
        self._interfaceReport: Any = None
        self._interfaceCheck: Any = None
        self._listen = {
            "listenUDP": listenUDP or getattr(reactor, "listenUDP", None),
            "listenMulticast": listenMulticast or getattr(reactor, "listenMulticast", None),
            "adoptDatagramPort": adoptDatagramPort or getattr(reactor, "adoptDatagramPort", None),
        }
        self._socketFactory = socketFactory
        self.discovery: Optional[Discovery] = None
        self.observers: list[Any] = []
        self.byUDN: dict[str, UPnPDevice] = {}
        super().__init__()

    # the public side

    def addObserver(self, observer: Any) -> None:
        """Tell C{observer} (an L{IUPnPDeviceObserver}) from now on; it first hears of every device ready now."""
        self.observers.append(observer)
        for device in list(self.byUDN.values()):
            if device.state == "ready":
                self._tellOne(observer, "deviceReady", device)

    def removeObserver(self, observer: Any) -> None:
        if observer in self.observers:
            self.observers.remove(observer)

    def devices(self) -> list[UPnPDevice]:
        """The devices known now (subscribing or ready)."""
        return list(self.byUDN.values())

    def device(self, udn: str) -> Optional[UPnPDevice]:
        entry = self.tracker.get(udn)
        return self.byUDN.get(entry.udn) if entry is not None else None

    def searchNow(self) -> None:
        """Search at once (the periodic rounds go on)."""
        if self.discovery is not None:
            self.discovery.searchNow()

    @property
    def ssdpAddress(self) -> Optional[tuple[str, int]]:
        """Where the SSDP socket listens in unicast-loopback mode (devices announce there)."""
        return self.discovery.address if self.discovery is not None else None

    # service

    def startService(self) -> None:
        super().startService()
        self.security.start()
        s = self.settings
        interfaces: list[NetworkInterface] = []
        if not self.loopbackMode:
            interfaces = self._lanInterfaces() or []
        extra = {"socketFactory": self._socketFactory} if self._socketFactory is not None else {}
        self.discovery = Discovery(
            self._received, self.clock, mode=s.ssdpMode, interfaces=interfaces, ipv6=s.ipv6,
            ssdpPort=s.ssdpPort, searchInterval=s.searchInterval, mx=s.searchMX, copies=s.searchCopies,
            loopbackPorts=s.loopbackSearchPorts, rng=self.rng, **self._listen, **extra,
        )
        self.discovery.start()
        if not self.loopbackMode and s.interfaceCheckInterval:
            self._interfaceCheck = self.clock.callLater(s.interfaceCheckInterval, self._periodicCheck)

    def _lanInterfaces(self) -> Optional[list[NetworkInterface]]:
        """
        The interfaces to discover on now (the C{[lan] interfaces} rule, the
        WAN left out), or C{None} when they cannot be read. What is wrong is
        logged when it changes, not at every check.
        """
        s = self.settings
        try:
            available = list(self._listInterfaces())
            wan = set() if s.interfaces else set(self._defaultRoutes())
        except OSError as e:
            self.log.error("cannot list the network interfaces: {error}", error=e)
            return None
        chosen, problems = selectInterfaces(available, s.interfaces, wan)
        eligible = {i.name for i in selectInterfaces(available)[0]}
        leftOut = tuple(sorted(wan & eligible))
        report = (tuple(problems), leftOut, tuple(i.name for i in chosen))
        if report != self._interfaceReport:
            self._interfaceReport = report
            for problem in problems:
                self.log.error("[lan] interfaces: {problem}", problem=problem)
            if leftOut:
                self.log.info("no discovery on {wan}: it holds the default route (the WAN); name it in "
                              "[lan] interfaces to discover there anyway", wan=", ".join(leftOut))
            if chosen:
                self.log.info("discovering UPnP devices on {names}", names=", ".join(i.name for i in chosen))
            else:
                self.log.error("no LAN interface to discover UPnP devices on yet; "
                               "discovery starts when one comes up")
        return chosen

    def checkInterfaces(self) -> bool:
        """
        Look at the interfaces again (periodically, and on SIGHUP): discover
        on one that came up, stop on one that went away.

        @return: whether the interfaces discovered on changed.
        """
        if self.discovery is None or self.loopbackMode or not self.running:
            return False
        chosen = self._lanInterfaces()
        if chosen is None:
            return False
        return self.discovery.setInterfaces(chosen)

    def configReloaded(self, config: Config) -> None:
        """
        SIGHUP (L{ProxierService.reload<proxier.service.ProxierService.reload>}):
        take the new C{[lan] interfaces} and C{interface_check_interval}, and
        look at the interfaces at once (the OpenWrt hotplug script reloads on
        every interface that comes up).
        """
        lan = config["lan"]
        interval = lan.get("interface_check_interval", self.settings.interfaceCheckInterval)
        self.settings = replace(self.settings, interfaces=tuple(lan["interfaces"]), interfaceCheckInterval=interval)
        if self._interfaceCheck is not None and self._interfaceCheck.active():
            self._interfaceCheck.cancel()
        self._interfaceCheck = None
        if self.running and not self.loopbackMode and interval:
            self._interfaceCheck = self.clock.callLater(interval, self._periodicCheck)
        self.checkInterfaces()

    def _periodicCheck(self) -> None:
        self._interfaceCheck = None
        if not self.running:
            return
        try:
            self.checkInterfaces()
        except Exception:
            self.log.failure("checking the network interfaces failed", Failure())
        self._interfaceCheck = self.clock.callLater(self.settings.interfaceCheckInterval, self._periodicCheck)

    def stopService(self) -> "Deferred[Any]":
        if self._interfaceCheck is not None and self._interfaceCheck.active():
            self._interfaceCheck.cancel()
        self._interfaceCheck = None
        children = super().stopService()
        self.security.stop()
        self.tracker.stop()
        waits: list[Deferred] = []
        if self.discovery is not None:
            waits.extend(self.discovery.stop())
        for device in list(self.byUDN.values()):
            waits.extend(self._stopSubscriptions(device, unsubscribe=True))
            device.state = "gone"
        self.byUDN.clear()
        waits.append(self.callbacks.stop())
        waits.append(children)
        stopped = DeferredList([d for d in waits if isinstance(d, Deferred)], consumeErrors=True)
        if self.pool is not None:  # after the UNSUBSCRIBEs, which may have used them
            pool = self.pool
            stopped.addCallback(lambda _: pool.closeCachedConnections())
        return stopped

    def _received(self, message: ssdp.Message, origin: Any) -> None:
        self.tracker.received(message, origin)

    def _fetchDescription(self, location: str, origin: Any) -> "Deferred[DeviceInfo]":
        """The tracker's fetch, through the DeviceProtection layer (TLS, or nothing for a quarantined device)."""
        return self.security.fetch(self.fetcher.fetch, location, origin, self.tracker.byLocation.get(location))

    # what the tracker says (through _TrackerEvents)

    def _deviceFound(self, entry: TrackedDevice) -> None:
        device = UPnPDevice(self, entry)
        self.byUDN[entry.udn] = device
        device.log.info("described: {name} ({model}), {n} service(s)", name=device.description.device.friendlyName,
                        model=device.description.device.modelName, n=len(device.description.services()))
        self._secure(device, lambda: self._subscribeAll(device, lambda: self._ready(device)))

    def _secure(self, device: UPnPDevice, then: Callable[[], None]) -> None:
        """Let the DeviceProtection layer decide; then subscribe (and show), or hold the device."""
        device.state = "securing"

        def decided(show: bool) -> None:
            if self.byUDN.get(device.udn) is not device or device.state != "securing":
                return
            if show:
                then()
            else:
                self._hold(device)

        self.security.admit(device).addCallback(decided)

    def _hold(self, device: UPnPDevice) -> None:
        """Not shown (quarantined, refused, or nothing granted): observers that knew it hear it is gone."""
        self._stopSubscriptions(device, unsubscribe=device.security.state != QUARANTINED)
        device.state = "held"
        if device.shown:
            device.shown = False
            security = device.security
            self._tell("deviceGone", device, f"DeviceProtection {security.state}: {security.reason}")

    def _securityChanged(self, device: UPnPDevice, readmit: bool = False) -> None:
        """
        The DeviceProtection layer changed its mind (an introduction
        succeeded, a certificate changed, the proxier's certificate was
        renewed): show, hold, or decide again.
        """
        if self.byUDN.get(device.udn) is not device or device.state == "gone":
            return
        if readmit:
            shown = device.shown
            self._stopSubscriptions(device, unsubscribe=True)
            after = (lambda: self._tell("deviceChanged", device, Change())) if shown else (lambda: self._ready(device))
            self._secure(device, lambda: self._subscribeAll(device, after))
            return
        if not device.security.proxiable:
            self._hold(device)
        elif device.state == "held":
            self._subscribeAll(device, lambda: self._ready(device))

    def _ready(self, device: UPnPDevice) -> None:
        device.shown = True
        self._tell("deviceReady", device)

    def _deviceChanged(self, entry: TrackedDevice, change: Change) -> None:
        device = self.byUDN.get(entry.udn)
        if device is None:
            self._deviceFound(entry)
            return
        rebooted = change.bootId or change.update
        self._stopSubscriptions(device, unsubscribe=not rebooted)
        device._update(entry)
        device.log.info("described again after {change}", change=change)
        if device.shown:
            self._secure(device, lambda: self._subscribeAll(device, lambda: self._tell("deviceChanged", device, change)))
        else:  # changed before it was ever ready: it is simply ready
            self._secure(device, lambda: self._subscribeAll(device, lambda: self._ready(device)))

    def _deviceLost(self, entry: TrackedDevice, reason: str) -> None:
        device = self.byUDN.pop(entry.udn, None)
        if device is None:
            return
        self._stopSubscriptions(device, unsubscribe=False)
        self.security.forget(device)
        device.state = "gone"
        device.log.info("gone ({reason})", reason=reason)
        if device.shown:
            self._tell("deviceGone", device, reason)

    def _announcementReceived(self, entry: TrackedDevice, value: str) -> None:
        device = self.byUDN.get(entry.udn)
        if device is not None:
            self._tell("announcement", device, value)

    # subscriptions

    def _localAddress(self, device: UPnPDevice, targetAddress: str) -> tuple[Optional[str], str]:
        if self.loopbackMode or device.origin.interface is None:
            return ("::1" if ":" in targetAddress else "127.0.0.1"), ""
        interface = device.origin.interface
        local = interface.localAddressFor(targetAddress)
        scope = interface.name if local is not None and local.lower().startswith("fe80") else ""
        return local, scope

    def _subscribeAll(self, device: UPnPDevice, then: Callable[[], None]) -> None:
        device.generation += 1
        generation = device.generation
        device.state = "subscribing"
        starts = []
        s = self.settings
        for d, service in device.description.services():
            if not isDMService(service):
                continue
            scpd = device.info.scpd(d, service)
            if scpd is not None and not scpd.eventedVariables:
                continue
            events = _ServiceEvents(self, device, internText(d.udn.lower()), service, generation)
            target = device.info.target(service.eventSubURL) if service.eventSubURL else None
            local, scope = self._localAddress(device, target.address) if target is not None else (None, "")
            if target is None or local is None:
                device.log.warn("{service}: evented, but no usable event URL or local address: polled instead",
                                service=service.serviceType)
                device.subscriptions += (_Poller(events, self.clock, s.pollInterval),)
                continue
            sub = Subscription(
                self.subscriptionTerms, target, device.origin, events, localAddress=local, scope=scope,
                label=internText(f"{service.serviceType.rpartition(':service:')[2]} events"), log=device.log,
            )
            device.subscriptions += (sub,)
            starts.append(sub.start())

        def settled(_: Any) -> None:
            if device.generation != generation or device.state != "subscribing":
                return
            device.state = "ready"
            then()

        gatherResults(starts + [succeed(None)]).addCallback(settled)

    def _stopSubscriptions(self, device: UPnPDevice, unsubscribe: bool) -> list[Deferred]:
        subs, device.subscriptions = device.subscriptions, ()
        device.generation += 1
        return [sub.stop(unsubscribe=unsubscribe) for sub in subs]

    # observers

    def _tell(self, method: str, *args: Any) -> None:
        for observer in list(self.observers):
            self._tellOne(observer, method, *args)

    def _tellOne(self, observer: Any, method: str, *args: Any) -> None:
        try:
            getattr(observer, method)(*args)
        except Exception:
            self.log.failure("UPnP device observer failed in {method}", Failure(), method=method)
