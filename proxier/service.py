# -*- test-case-name: tests.test_service -*-
"""
The service tree of one running proxier.

    ProxierService (MultiService)
      ├── CWMPService: the Connection Request server and the endpoints —
      │     the proxier's own (its Device:2 tree) and one Virtual CWMP
      │     Device per proxied device
      └── one service per enabled protocol plugin (discovery + control)

In embedded mode a protocol service provides L{IEmbeddedDevice}: the
proxier runs on that one device as its own CWMP CPE. Only that service
runs; the own endpoint waits for the device's identity and then serves the
device's model with ManagementServer mounted into it; no Virtual CWMP
Device, no VirtualDevice table, no ProxierInfo.

The tree owns the registry, the store and the L{DeviceDirectory}: protocols
report devices there, and whoever needs to know (the endpoints, the
proxier's own VirtualDevice table) listens to it. Each protocol's section
says by its C{mechanism} key how its devices are presented (TR-069 Annex
J): as Virtual CWMP Devices (C{virtual}, the default), as objects of the
proxier's own tree (C{embedded}: the Embedded Object Mechanism, Annex J.3,
L{proxier.proxy.embeddedobjects} — not embedded mode), or both; the CWMP
service and the VirtualDevice table hear only of the devices meant for
Virtual CWMP Devices (L{DirectoryView}), the own tree's embedded objects
only of the others. A Virtual CWMP Device's
model is the protocol's own (the registry adapts the device to
L{IDataModel}) with the proxier-held ManagementServer and
DeviceInfo.ProxierInfo objects mounted into it (TR-069 Annex J, TR-330
§4.3.2).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Protocol, Sequence

from twisted.application.internet import TimerService
from twisted.application.service import MultiService
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer
from zope.interface.registry import Components

from proxier._version import __version__
from proxier.config import Config, ConfigError
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import (
    IDataModel,
    IEmbeddedDevice,
    IProxiedDevice,
    IProxierContext,
    IProxyProtocol,
    IReloadable,
)
from proxier.log import DeviceLogger
from proxier.proxy.embeddedobjects import (
    BOTH,
    EMBEDDED,
    VIRTUAL,
    DirectoryView,
    EmbeddedObjectsSpec,
    IEmbeddedObjects,
    mechanismOf,
)
from proxier.registry import makeRegistry
from proxier.sdnotify import Notifier
from proxier.store import Store, Writer

__all__ = ["ProxierService", "DeviceDirectory", "ProtocolContext", "IDeviceListener", "ownIdentity"]


# How often the proxier's own tree looks for parameters that changed by themselves.
POLL_INTERVAL = 60.0


class IDeviceListener(Protocol):
    """Who wants to hear of devices appearing and being removed."""

    def deviceAppeared(self, device: IProxiedDevice) -> None: ...

    def deviceRemoved(self, device: IProxiedDevice) -> None: ...


class DeviceDirectory:
    """
    The devices the protocols reported, keyed by L{IProxiedDevice.key}.

    A listener added late is told of the devices already known, so the order
    in which the parts of the tree start does not matter.
    """

    def __init__(self) -> None:
        self._devices: dict[str, IProxiedDevice] = {}
        self._listeners: list[IDeviceListener] = []

    def __len__(self) -> int:
        return len(self._devices)

    def devices(self) -> list[IProxiedDevice]:
        return list(self._devices.values())

    def get(self, key: str) -> Optional[IProxiedDevice]:
        return self._devices.get(key)

    def addListener(self, listener: IDeviceListener) -> None:
        self._listeners.append(listener)
        for device in list(self._devices.values()):
            listener.deviceAppeared(device)

    def removeListener(self, listener: IDeviceListener) -> None:
        self._listeners.remove(listener)

    def deviceAppeared(self, device: IProxiedDevice) -> None:
        log = DeviceLogger(device.identity)
        if device.key in self._devices:
            if self._devices[device.key] is not device:
                log.warn("a second {protocol} device reported the same key {key}; ignored",
                         protocol=device.proxyProtocol, key=device.key)
            return
        self._devices[device.key] = device
        log.info("proxying {protocol} device at {host}", protocol=device.proxyProtocol, host=device.host)
        for listener in list(self._listeners):
            listener.deviceAppeared(device)

    def deviceRemoved(self, device: IProxiedDevice) -> None:
        if self._devices.get(device.key) is not device:
            return
        del self._devices[device.key]
        DeviceLogger(device.identity).info("no longer proxied")
        for listener in list(self._listeners):
            listener.deviceRemoved(device)


@implementer(IProxierContext)
class ProtocolContext:
    """What one protocol plugin gets from the tree (see L{IProxierContext})."""

    def __init__(self, reactor: Any, registry: Components, config: Config, store: Store,
                 directory: DeviceDirectory) -> None:
        from proxier.cwmp.endpoint import deviceTimeout

        self.reactor = reactor
        self.registry = registry
        self.config = config
        self.store = store
        self.deviceTimeout = deviceTimeout(config["acs"]["session_timeout"])
        self._directory = directory
        self._acsAgent: Any = None

    @property
    def acsAgent(self) -> Any:
        """One-off requests only (a pool of its own, no persistent connections): see L{IProxierContext}."""
        if self._acsAgent is None:
            from twisted.web.client import HTTPConnectionPool

            from proxier.cwmp.tls import makeACSAgent

            self._acsAgent = makeACSAgent(self.reactor, self.config["acs"],
                                          pool=HTTPConnectionPool(self.reactor, persistent=False))
        return self._acsAgent

    def deviceAppeared(self, device: IProxiedDevice) -> None:
        self._directory.deviceAppeared(device)

    def deviceRemoved(self, device: IProxiedDevice) -> None:
        self._directory.deviceRemoved(device)


def ownIdentity(deviceSection: Any, machineIdPath: str = "/etc/machine-id", boardJSON: str = "/etc/board.json",
                sysClassNet: str = "/sys/class/net") -> DeviceIdentity:
    """
    The proxier's own DeviceIdentity from the C{[device]} section; an empty
    serial number is derived from the machine id (stable across restarts and
    reinstalls of the proxier), else from the base MAC address (OpenWrt has
    no machine id), else from the host name (L{proxier.hostid}).
    """
    from proxier.hostid import serialNumber

    serial = deviceSection["serial_number"] or serialNumber(machineIdPath, boardJSON, sysClassNet)
    return DeviceIdentity(
        deviceSection["manufacturer"], deviceSection["oui"], deviceSection["product_class"], serial
    )


class ProxierService(MultiService):
    """
    The root of one proxier.

    @ivar registry: this tree's adapter registry.
    @ivar directory: the devices reported so far.
    @ivar identity: the proxier's own DeviceIdentity.
    @ivar cwmp: the L{CWMPService} (Connection Requests and endpoints).
    @ivar logObserver: the observer the C{[log]} section asks for, installed
        by L{setServiceParent} in a twistd application (see L{proxier.tap}).
    """

    log = Logger()

    def __init__(
        self,
        config: Config,
        store: Store,
        protocols: Sequence[IProxyProtocol] = (),
        *,
        reactor: Any = None,
        registry: Optional[Components] = None,
        agent: Any = None,
        notifier: Optional[Notifier] = None,
    ) -> None:
        """
        @param agent: the HTTP agent towards the ACS (default: one made from
            the C{[acs]} section's TLS settings).
        @param notifier: tells systemd READY/RELOADING/STOPPING/WATCHDOG
            (default: from C{$NOTIFY_SOCKET}; nothing without it).
        @raise ConfigError: when the C{[acs]} TLS files cannot be used.
        """
        from proxier.cwmp.service import CWMPService
        from proxier.datamodel.gateway import proxierModel

        super().__init__()
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self.reactor = reactor
        self.config = config
        self.store = store
        self.registry = registry if registry is not None else makeRegistry()
        self.directory = DeviceDirectory()
        self.protocols = list(protocols)
        self.logObserver: Any = None
        self.identity = ownIdentity(config["device"])
        #: install a SIGHUP handler that calls L{reload} (the daemon's runners set it; tests call reload)
        self.handleSIGHUP = False
        #: the L{Writer} of the store's coalesced changes while the tree runs (the daemon's makeService
        #: sets it; None: every change is written at once, as tests with a fake clock want)
        self.writer: Optional[Writer] = None
        self.notifier = notifier if notifier is not None else Notifier()
        self._watchdog: Any = None
        self._previousSIGHUP: Any = None
        self._frozen = False  # what the process held at start is out of the collector's walks (_freezeStartup)
        self._running = config  # the configuration in force, for SIGHUP to compare with
        #: ProxyProtocol value → "virtual", "embedded" or "both" (the protocols' [section] mechanism)
        self.mechanisms = mechanismOf(self.protocols, config)
        for protocol in self.protocols:
            offers = getattr(protocol, "embeddedObjects", None)
            if self.mechanisms.get(protocol.name, VIRTUAL) != VIRTUAL and not offers:
                self.log.warn("{protocol} offers no embedded objects (TR-069 Annex J.3) yet: its devices are "
                              "Virtual CWMP Devices", protocol=protocol.name)
                for name in (protocol.name, *getattr(protocol, "otherProxyProtocols", ())):
                    self.mechanisms[name] = VIRTUAL
        #: the devices presented as Virtual CWMP Devices, and those as the own tree's embedded objects
        self.virtualDirectory = DirectoryView(self.directory, lambda d: self._mechanism(d) in (VIRTUAL, BOTH))
        self.embeddedDirectory = DirectoryView(self.directory, lambda d: self._mechanism(d) in (EMBEDDED, BOTH))

        self.cwmp = CWMPService(config, store, self.virtualDirectory, self._virtualDeviceModel,
                                reactor=reactor, agent=agent)
        self.cwmp.setServiceParent(self)

        services = [(protocol, protocol.makeService(ProtocolContext(
            reactor, self.registry, config, store.child(_storeName(protocol.name)), self.directory)))
            for protocol in self.protocols]
        embedded = [(protocol, service) for protocol, service in services if IEmbeddedDevice.providedBy(service)]
        #: the protocol service whose device the proxier is the own CWMP CPE of (embedded mode), or None
        self.embedded: Any = None
        #: the proxier's own endpoint; in embedded mode None until the device told its identity
        self.ownEndpoint: Any = None
        if embedded:
            protocol, self.embedded = embedded[0]
            for other, _ in services:
                if other is not protocol:
                    self.log.warn("embedded mode ({embedded}): the {protocol} protocol is not started, as the "
                                  "proxier is one device's own CWMP CPE and proxies none",
                                  embedded=protocol.name, protocol=other.name)
            self.protocols = [protocol]
            self.embedded.setServiceParent(self)
            self.embedded.identified().addCallback(self._embeddedIdentified)
            return

        embeddedSpecs = [_embeddedSpec(p, config) for p in self.protocols if getattr(p, "embeddedObjects", None)
                         and self.mechanisms.get(p.name, VIRTUAL) in (EMBEDDED, BOTH)]

        def ownModel(settings: Any, connectionRequestURL: Callable[[], str], endpointStore: Store) -> Any:
            return proxierModel(self.identity, config["device"], settings, connectionRequestURL, endpointStore,
                                directory=self.virtualDirectory, clock=reactor, reportForcedInform=True,
                                protocols=self.protocols, embedded=embeddedSpecs,
                                embeddedDirectory=self.embeddedDirectory,
                                adaptEmbedded=lambda device: self.registry.queryAdapter(device, IEmbeddedObjects))

        self.ownEndpoint = self.cwmp.addOwnEndpoint(self.identity, ownModel)
        poller = TimerService(POLL_INTERVAL, self.ownEndpoint.model.poll)
        poller.clock = reactor
        poller.setServiceParent(self)
        objects = getattr(self.ownEndpoint.model, "embeddedObjects", None)
        if objects is not None:  # its synchronized copies push what the ACS set while the tree runs
            objects.setServiceParent(self)
        for _, service in services:
            service.setServiceParent(self)

    def _mechanism(self, device: IProxiedDevice) -> str:
        return self.mechanisms.get(device.proxyProtocol, VIRTUAL)

    def _embeddedIdentified(self, device: IProxiedDevice) -> None:
        """
        Embedded mode: the device told who it is; the proxier's own endpoint
        is made with its identity and its model, and hears its events.
        """
        from proxier.datamodel.gateway import embeddedDeviceModel

        deviceModel = self.registry.queryAdapter(device, IDataModel)
        if deviceModel is None:
            self.log.error("embedded mode: no data model for {protocol} devices is registered; no CWMP CPE",
                           protocol=device.proxyProtocol)
            return

        def ownModel(settings: Any, connectionRequestURL: Callable[[], str], endpointStore: Store) -> Any:
            return embeddedDeviceModel(deviceModel, settings, connectionRequestURL, endpointStore,
                                       reportForcedInform=True)

        self.identity = device.identity
        self.ownEndpoint = self.cwmp.addOwnEndpoint(device.identity, ownModel, key=device.key,
                                                    online=bool(device.online))
        device.addObserver(self.ownEndpoint)
        DeviceLogger(device.identity).info("embedded mode: the proxier's CWMP CPE has this device's identity "
                                           "(protocol {protocol}, at {host})", protocol=device.proxyProtocol,
                                           host=device.host)

    def _virtualDeviceModel(self, device: IProxiedDevice, settings: Any,
                            connectionRequestURL: Callable[[], str], store: Store) -> Any:
        """
        The whole data model of a Virtual CWMP Device: the protocol's model of
        the device, with the proxier-held ManagementServer (bound to this
        endpoint's settings) and DeviceInfo.ProxierInfo mounted into it,
        its state in C{store}, the endpoint's own (the same object: opening
        it again was a directory made and listed again, issue 19).

        @raise LookupError: when no installed protocol can model the device.
        """
        from proxier.datamodel.gateway import virtualDeviceLocalModel, virtualDeviceModel

        deviceModel = self.registry.queryAdapter(device, IDataModel)
        if deviceModel is None:
            raise LookupError(f"no data model for {device.proxyProtocol} devices is registered")
        local = virtualDeviceLocalModel(self.identity, device.proxyProtocol, settings, connectionRequestURL,
                                        store, reportForcedInform=True)
        return virtualDeviceModel(deviceModel, local)

    def privilegedStartService(self) -> None:
        """twistd binds ports here (as root, before dropping privileges)."""
        try:
            super().privilegedStartService()
        except ConfigError as e:
            raise SystemExit(f"proxier: {e}") from None

    def setServiceParent(self, parent: Any) -> None:
        """
        In a twistd application, also hand twistd the configured log observer:
        twistd asks the application for an ILogObserver component before it
        starts logging.
        """
        super().setServiceParent(parent)
        from twisted.logger import ILogObserver

        if self.logObserver is not None and hasattr(parent, "setComponent"):
            if parent.getComponent(ILogObserver, None) is None:
                parent.setComponent(ILogObserver, self.logObserver)

    def startService(self) -> None:
        self.log.info(
            "proxier {version} starting: state in {state}, protocols: {protocols}",
            version=__version__,
            state=self.store.path,
            protocols=", ".join(p.name for p in self.protocols) or "none",
        )
        if self.writer is not None:
            self.store.writeWith(self.writer)
        self._freezeStartup()
        try:
            super().startService()
        except ConfigError as e:
            raise SystemExit(f"proxier: {e}") from None
        self.reactor.callLater(0, self._reportIdle)
        self.reactor.callLater(0, self._ready)
        if self.handleSIGHUP:
            self._installSIGHUP()

    def stopService(self) -> Any:
        self.notifier.stopping()
        if self._watchdog is not None and self._watchdog.running:
            self._watchdog.stop()
        self._watchdog = None
        self._restoreSIGHUP()
        stopped = defer.maybeDeferred(super().stopService)
        stopped.addBoth(self._thawStartup)
        writer = self.writer
        if writer is not None and self.store.writer is writer:

            def flush(result: Any) -> Any:
                # what the stopping services saved last is on disk before the process ends
                def written(_: Any) -> Any:
                    self.store.writeWith(None)
                    return result

                return writer.stop().addCallback(written)

            stopped.addBoth(flush)
        return stopped

    def _freezeStartup(self) -> None:
        """
        Collect once, then leave what the process holds at start (Twisted,
        lxml, the configuration, the tree: objects that live as long as the
        process) out of every later walk of the cyclic garbage collector
        (C{gc.freeze}). Devices coming up make objects by the million, and
        each full collection walked every object held, those of the start
        included (issue 19). Shipped twistd on Debian 12's libraries, where
        each HTTP exchange still leaves a reference cycle, 1,000 devices,
        single runs: 32.9 s to BOOTSTRAP with 27.6 KiB a device as CPython
        collects; 29.9 s with 27.7 KiB with this. Spacing the collections
        instead (the youngest generation every 2,000 new objects) took
        29.7 s but 31.1 KiB a device: garbage in cycles waited longer and
        left the heap fragmented. A collector turned off is left alone.
        """
        import gc

        if gc.isenabled():
            gc.collect()
            gc.freeze()
            self._frozen = True

    def _thawStartup(self, result: Any) -> Any:
        """What L{_freezeStartup} left out is walked again once the tree stopped."""
        import gc

        if self._frozen:
            gc.unfreeze()
            self._frozen = False
        return result

    def _ready(self) -> None:
        """The ports are bound and the reactor runs: tell systemd, and start the watchdog beat it asked for."""
        if not self.running:
            return
        self.notifier.ready("running")
        if self.notifier.watchdogSeconds and self._watchdog is None:
            from twisted.internet.task import LoopingCall

            self._watchdog = LoopingCall(self.notifier.watchdog)
            self._watchdog.clock = self.reactor
            self._watchdog.start(self.notifier.watchdogSeconds / 2, now=True)

    # SIGHUP: reload the configuration

    def _installSIGHUP(self) -> None:
        import signal

        def received(signum: int, frame: Any) -> None:
            self.reactor.callFromThread(self.reload)  # a signal handler does no work itself

        self._previousSIGHUP = signal.signal(signal.SIGHUP, received)

    def _restoreSIGHUP(self) -> None:
        import signal

        if self._previousSIGHUP is not None:
            signal.signal(signal.SIGHUP, self._previousSIGHUP)
            self._previousSIGHUP = None

    def reload(self) -> list[tuple[str, str]]:
        """
        Read the config file again (SIGHUP) and apply what can change while
        running (the keys declared L{reloadable<proxier.config.Key.reloadable>}:
        the C{[log]} section, the C{[lan]} interfaces and their check interval,
        a plugin's own such as the printer's SNMP probe; the interfaces are
        looked at at once in any case). Every other change is named in one line as taking effect at
        the next restart. A file with mistakes changes nothing: its mistakes
        are logged, the running configuration stays.

        @return: the keys applied.
        """
        from proxier import config as configmod

        self.notifier.reloading()
        try:
            path = self.config.path
            sections = [p.configSection for p in self.protocols if p.configSection is not None]
            try:
                new = configmod.load(path, sections, required=path is not None)
            except ConfigError as e:
                for line in str(e).splitlines():
                    self.log.error("SIGHUP: {problem}", problem=line)
                self.log.error("SIGHUP: {path} has mistakes; nothing reloaded, the running configuration stays",
                               path=path)
                return []
            changed = _changedKeys(self._running, new)
            reloadable = configmod.reloadableKeys(list(configmod.CORE_SECTIONS) + sections)
            applied = [k for k in changed if k in reloadable]
            if any(section == "log" for section, _ in applied) and hasattr(self.logObserver, "reconfigure"):
                try:
                    self.logObserver.reconfigure(new["log"])
                except OSError as e:
                    self.log.error("SIGHUP: [log] file {file} cannot be opened ({error}); logging stays as it was",
                                   file=new["log"]["file"], error=e)
                    applied = [k for k in applied if k[0] != "log"]
            for service in _walk(self):
                if IReloadable.providedBy(service) and service is not self:
                    try:
                        IReloadable(service).configReloaded(new)
                    except Exception:
                        self.log.failure("SIGHUP: {service} failed to apply the new configuration",
                                         service=type(service).__name__)
            self._running = _merge(self._running, new, applied)
            later = [k for k in changed if k not in applied]
            self.log.info("SIGHUP: {path} reloaded; {applied}", path=path or "(defaults)",
                          applied="applied: " + ", ".join(f"[{s}] {k}" for s, k in applied) if applied
                          else "nothing to apply now")
            if later:
                self.log.warn("SIGHUP: changed, but used only at start, so they take effect at the next restart: "
                              "{keys}", keys=", ".join(f"[{s}] {k}" for s, k in later))
            return applied
        finally:
            self.notifier.ready("running")

    def _reportIdle(self) -> None:
        if self.running and self.embedded is None and not len(self.directory):
            self.log.info("no devices found yet; discovery goes on")


def _changedKeys(old: Config, new: Config) -> list[tuple[str, str]]:
    changed = []
    for section in new.sections():
        before = old[section] if section in old else {}
        for key, value in new[section].items():
            if before.get(key) != value:
                changed.append((section, key))
    return changed


def _merge(old: Config, new: Config, applied: list[tuple[str, str]]) -> Config:
    """The configuration in force after a reload: the old one with the applied keys taken from the new."""
    merged = old
    for section, key in applied:
        merged = merged.replace(section, **{key: new[section][key]})
    return merged


def _walk(service: Any) -> list[Any]:
    """A service and every service under it."""
    found = [service]
    for child in list(getattr(service, "services", [])):
        found.extend(_walk(child))
    return found


def _embeddedSpec(protocol: IProxyProtocol, config: Config) -> EmbeddedObjectsSpec:
    """
    A protocol's C{embeddedObjects}: an EmbeddedObjectsSpec, or a function
    of the config giving one (a table named with C{[device] oui}).
    """
    spec = protocol.embeddedObjects  # type: ignore[attr-defined]
    return spec if isinstance(spec, EmbeddedObjectsSpec) else spec(config)


def _storeName(protocolName: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in protocolName)
    return "protocol-" + safe
