# -*- test-case-name: tests.test_cwmp_service -*-
"""
The CWMP part of the service tree: the Connection Request server, the HTTP
agent towards the ACS, and one endpoint per proxied device.

    CWMPService (MultiService)
      ├── ConnectionRequestServer    one port for every endpoint
      └── EndpointManager            listens to the DeviceDirectory:
            ├── CWMPEndpoint          the proxier's own (addOwnEndpoint)
            └── CWMPEndpoint × n      one per device, model from makeModel()

What a device's endpoint means (its data model) is not decided here: the
service is given C{makeModel(device, settings, connectionRequestURL, store)}
— the TR-330 module composes the device's own model with the proxier-held
ManagementServer bound to C{settings}. Each endpoint keeps its durable state
in C{store}, C{store.child("endpoint-<device.key>")}
(L{EndpointManager.storeFor}; the makeModel keeps the model's own state
there too), which outlives the device's removal, so a device that comes
back never bootstraps again.
"""

from __future__ import annotations

import errno

import ipaddress
import socket
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from twisted.application.service import MultiService
from twisted.internet import defer
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import CannotListenError
from twisted.logger import Logger

from proxier.config import Config, ConfigError
from proxier.cwmp.connreq import ConnectionRequestServer, connectionRequestPath, ensureCredentials, localAddressToward
from proxier.cwmp.endpoint import CWMPEndpoint
from proxier.cwmp.settings import EndpointSettings
from proxier.cwmp.tls import makeACSAgent
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IForcedInform, IRebaselining
from proxier.log import DeviceLogger
from proxier.outbound import TargetPolicy
from proxier.pem import TLSConfigError
from proxier.store import Store
from proxier.timers import TimerQueue

__all__ = ["CWMPService", "EndpointManager", "urlHostFor", "OWN_ENDPOINT", "MakeModel"]

MakeModel = Callable[[Any, EndpointSettings, Callable[[], str], Store], Any]
OWN_ENDPOINT = "self"  # the store name of the proxier's own endpoint: "endpoint-self"
_WILDCARDS = ("0.0.0.0", "::")


#: The TR-069 parameter (A.3.3.1, forced inform) the Connection Request server owns, by its name below the root.
CONNECTION_REQUEST_URL = "ManagementServer.ConnectionRequestURL"


def rebaselineConnectionRequestURL(model: Any) -> None:
    """
    Take a model's Connection Request URL as its reference value without
    reporting it. The model names the parameter in its forced-inform list
    (L{IForcedInform}); a model that does not detect changes
    (L{IRebaselining}) or has no such parameter is left alone.
    """
    if not (IRebaselining.providedBy(model) and IForcedInform.providedBy(model)):
        return
    names = [name for name in model.forcedInform
             if name == CONNECTION_REQUEST_URL or name.endswith("." + CONNECTION_REQUEST_URL)]
    if names:
        model.rebaseline(*names)


def urlHostFor(listenAddress: str, urlHost: str, acsURL: str, resolve: Callable[[str], Deferred],
               timeout: float = 5.0, clock: Any = None) -> Deferred:
    """
    The host to put in Connection Request URLs (C{[connection_request]
    url_host}): as configured; else the listen address; else, listening on
    every address, the local address of the route towards the ACS (its name
    resolved with C{resolve}, bounded by C{timeout}); else the host name.
    """
    if urlHost:
        return succeed(urlHost)
    if listenAddress not in _WILDCARDS:
        return succeed(listenAddress)
    fallback = socket.gethostname()
    host = urlsplit(acsURL).hostname if acsURL else None
    if not host:
        return succeed(fallback)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        d = defer.maybeDeferred(resolve, host)
        if clock is not None:
            d.addTimeout(timeout, clock)
        d.addCallback(lambda address: localAddressToward(address) or fallback)
        d.addErrback(lambda _: fallback)
        return d
    return succeed(localAddressToward(host) or fallback)


class _ConnectionRequestURL:
    """C{() → str}: an endpoint's Connection Request URL as the server gives it now (its host is known late)."""

    __slots__ = ("_server", "_path")  # one per device (issue 19): a closure was four times its size

    def __init__(self, server: ConnectionRequestServer, path: bytes) -> None:
        self._server = server
        self._path = path

    def __call__(self) -> str:
        return self._server.url(self._path)


class EndpointManager:
    """
    One L{CWMPEndpoint} per device of the L{DeviceDirectory} (it listens to
    it), plus the proxier's own.

    @ivar endpoints: by device key.
    """

    log = Logger()

    def __init__(self, config: Config, store: Store, server: ConnectionRequestServer, agent: Any,
                 makeModel: MakeModel, *, reactor: Any) -> None:
        self._config = config
        self._store = store
        self._server = server
        self._agent = agent
        self._makeModel = makeModel
        self._reactor = reactor
        self._running = False
        self.endpoints: dict[str, CWMPEndpoint] = {}
        self._devices: dict[str, Any] = {}
        # where an ACS redirect may lead: the same check for every endpoint, one object (issue 19)
        self._targets = TargetPolicy(config["acs"]["local_targets"], reactor=reactor)
        # the endpoints' periodic and scheduled Informs on one reactor call (issue 19: a DelayedCall a device)
        self._timers = TimerQueue(reactor)

    def _prepare(self, key: str) -> tuple[Store, bytes, EndpointSettings]:
        store = self.storeFor(key)
        path = connectionRequestPath(store.document("connection-request"))
        settings = EndpointSettings(store.document("management-server"), self._config["acs"])
        ensureCredentials(settings, self._config["connection_request"])
        return store, path, settings

    def _endpoint(self, identity: DeviceIdentity, model: Any, settings: EndpointSettings, store: Store,
                  path: bytes, boot: bool, online: bool) -> CWMPEndpoint:
        acs = self._config["acs"]
        return CWMPEndpoint(identity, model, settings, store, agent=self._agent, reactor=self._reactor, boot=boot,
                            connectionRequestPath=path, sessionTimeout=acs["session_timeout"],
                            lowercaseSessionTimeout=acs["lowercase_session_timeout"],
                            requestTimeout=acs["request_timeout"], online=online,
                            targets=self._targets, timers=self._timers)

    def _add(self, key: str, endpoint: CWMPEndpoint) -> None:
        self.endpoints[key] = endpoint
        self._server.register(endpoint)
        if self._running:
            endpoint.start()

    def storeFor(self, key: str) -> Store:
        """The durable store of the endpoint of device C{key} (made on demand)."""
        return self._store.child("endpoint-" + key)

    def addOwnEndpoint(self, identity: DeviceIdentity,
                       makeModel: Callable[[EndpointSettings, Callable[[], str], Store], Any], *,
                       key: str = OWN_ENDPOINT, online: bool = True) -> CWMPEndpoint:
        """
        The proxier's own endpoint (it reports "1 BOOT" at every start):
        C{makeModel(settings, connectionRequestURL, store)} gives its Device:2
        model (C{store}: the endpoint's own, C{endpoint-self}). It may be
        added once the endpoints run (it then starts at once).

        @param key: names its state (C{endpoint-<key>}): the proxier's own,
            or in embedded mode that of the device the proxier runs on, so
            that another device's identity never inherits it.
        @param online: whether sessions may run from the start.
        """
        store, path, settings = self._prepare(key)
        model = makeModel(settings, _ConnectionRequestURL(self._server, path), store)
        endpoint = self._endpoint(identity, model, settings, store, path, boot=True, online=online)
        self._add(key, endpoint)
        return endpoint

    def deviceAppeared(self, device: Any) -> None:
        if device.key in self.endpoints or device.key == OWN_ENDPOINT:
            return
        log = DeviceLogger(device.identity)
        try:
            store, path, settings = self._prepare(device.key)
            model = self._makeModel(device, settings, _ConnectionRequestURL(self._server, path), store)
            endpoint = self._endpoint(device.identity, model, settings, store, path, boot=False,
                                      online=bool(device.online))
        except Exception:
            log.failure("cannot present this device to the ACS; skipped")
            return
        self._devices[device.key] = device
        device.addObserver(endpoint)
        self._add(device.key, endpoint)
        log.info("CWMP endpoint ready; Connection Request URL {url}", url=self._server.url(path))

    def deviceRemoved(self, device: Any) -> None:
        endpoint = self.endpoints.pop(device.key, None)
        if endpoint is None:
            return
        self._devices.pop(device.key, None)
        device.removeObserver(endpoint)
        self._server.unregister(endpoint)
        endpoint.stop()

    def start(self) -> None:
        self._running = True
        for endpoint in list(self.endpoints.values()):
            endpoint.start()

    def stop(self) -> Deferred:
        self._running = False
        return defer.DeferredList([e.stop() for e in self.endpoints.values()], consumeErrors=True)


class CWMPService(MultiService):
    """
    The Connection Request server and every endpoint.

    @ivar server: the L{ConnectionRequestServer}.
    @ivar manager: the L{EndpointManager}.
    @ivar ready: fires once the Connection Request URL host is known and the
        endpoints started (after L{startService}).
    """

    log = Logger()

    def __init__(self, config: Config, store: Store, directory: Any, makeModel: MakeModel, *,
                 reactor: Any = None, agent: Any = None) -> None:
        """
        @param directory: the tree's L{proxier.service.DeviceDirectory}.
        @raise ConfigError: when a TLS file of the C{[acs]} section cannot be used.
        """
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self._reactor = reactor
        self._config = config
        self._directory = directory
        cr = config["connection_request"]
        self.server = ConnectionRequestServer(reactor=reactor, listenAddress=cr["listen_address"], port=cr["port"],
                                              urlHost=cr["url_host"], rateLimit=cr["rate_limit"],
                                              rateWindow=cr["rate_window"], maxConnections=cr["max_connections"],
                                              maxPerPeer=cr["max_connections_per_peer"],
                                              requestTimeout=cr["request_timeout"])
        if agent is None:
            try:
                agent = makeACSAgent(reactor, config["acs"])
            except TLSConfigError as e:
                raise ConfigError(config.path, "acs", None, str(e)) from None
        self.manager = EndpointManager(config, store, self.server, agent, makeModel, reactor=reactor)
        self.ready: Optional[Deferred] = None
        self._listening = False

    def addOwnEndpoint(self, identity: DeviceIdentity,
                       makeModel: Callable[[EndpointSettings, Callable[[], str], Store], Any], *,
                       key: str = OWN_ENDPOINT, online: bool = True) -> CWMPEndpoint:
        """See L{EndpointManager.addOwnEndpoint}."""
        return self.manager.addOwnEndpoint(identity, makeModel, key=key, online=online)

    def listen(self) -> None:
        """
        Bind the Connection Request port, once (twistd calls this early, from
        L{privilegedStartService}, so that a port below 1024 can be had).

        @raise ConfigError: when the port cannot be had.
        """
        if self.server.listening:
            return
        cr = self._config["connection_request"]
        try:
            self.server.startListening()
        except CannotListenError as e:
            reason = e.socketError
            if getattr(reason, "errno", None) == errno.EADDRINUSE:
                problem = (f"port {cr['port']} on {cr['listen_address']} is already in use by another program "
                           "(the gateway's own CWMP client? choose another port)")
            elif getattr(reason, "errno", None) == errno.EACCES:
                problem = f"no permission to listen on port {cr['port']} (below 1024: run as root or choose another)"
            else:
                why = getattr(reason, "strerror", None) or reason
                problem = f"cannot listen on {cr['listen_address']} port {cr['port']}: {why}"
            raise ConfigError(self._config.path, "connection_request", "port", problem) from None

    def privilegedStartService(self) -> None:
        self.listen()
        super().privilegedStartService()

    def startService(self) -> None:
        """
        Listen for Connection Requests, then start the endpoints.

        @raise ConfigError: when the Connection Request port cannot be had.
        """
        cr = self._config["connection_request"]
        self.listen()
        super().startService()
        self.log.info("Connection Requests on {address} port {port}", address=cr["listen_address"],
                      port=self.server.port)
        self.ready = urlHostFor(cr["listen_address"], cr["url_host"], self._config["acs"]["url"],
                                self._reactor.resolve, clock=self._reactor)
        self.ready.addCallback(self._go)

    def _go(self, host: str) -> None:
        self.server.urlHost = host
        if not self.running:
            return
        # The ConnectionRequestURLs became final now, before any Inform: that is
        # no change the ACS could have seen. Where it lives is the model's word
        # (its forced-inform list names it, under whatever root it mounts).
        for endpoint in self.manager.endpoints.values():
            rebaselineConnectionRequestURL(endpoint.model)
        self.manager.start()
        self._directory.addListener(self.manager)
        self._listening = True

    def stopService(self) -> Deferred:
        super().stopService()
        if self._listening:
            self._listening = False
            self._directory.removeListener(self.manager)
        d = self.manager.stop()
        d.addBoth(lambda _: self.server.stopListening())
        return d
