# -*- test-case-name: tests.test_lan_keepalive -*-
"""
Kept-alive HTTP connections to devices: the connection pool of the
control point's C{Agent} (issue 19: a new TCP connection for each of the
~20 requests of a device's bootstrap was 18 % of a 1,000-device one).

 - At most L{PER_DEVICE} idle connections per device (C{host:port}), closed
   after L{IDLE_TIMEOUT} seconds unused, and at most L{MAX_IDLE} idle
   connections in all: past it the least recently used one is closed, so a
   thousand devices never hold thousands of sockets.
 - A request on a reused connection that the device closed in between is
   sent once more on a new connection only when that cannot do twice what
   the device was asked: a GET or HEAD without a body (description, SCPD),
   or any request that provably never left (C{RequestNotSent}). A SOAP
   action or a GENA request that may have reached the device is never sent
   again; its failure is the caller's. Such a request also rides a reused
   connection only to a device that has already answered on one.
 - A device that mishandles keep-alive — answers without a length and ends
   the body by closing (or never), closes in the middle of an answer,
   closes kept connections right after answering without saying so, or
   answers C{Connection: close} every time — is logged once and from then
   on asked with C{Connection: close} on a connection of its own
   (L{DevicePool.fallbacks}).
 - https (DeviceProtection) is never kept alive: see L{DevicePool}.

Deadlines, body caps and the URL policy are the L{Requester}'s, per request
as before: a request cancelled or over its cap drops its connection, which
is then never reused.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional

from twisted.internet.defer import CancelledError, Deferred, DeferredList, succeed
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web._newclient import HTTP11ClientProtocol, RequestNotSent
from twisted.web.client import RequestTransmissionFailed, ResponseDone, ResponseNeverReceived
from twisted.web.http import PotentialDataLoss
from twisted.web.iweb import UNKNOWN_LENGTH, IResponse
from zope.interface import implementer

from proxier.lan.httpclient import addressFromHostName, ipv6HostName

__all__ = ["DevicePool", "PER_DEVICE", "MAX_IDLE", "IDLE_TIMEOUT"]

#: Idle connections kept per device: a bootstrap asks one thing at a time,
#: with now and then a second request (an event subscription) alongside.
PER_DEVICE = 2
#: Idle connections kept in all, whatever the number of devices: twice the
#: default [upnp] max_pending, the devices being described at once.
MAX_IDLE = 64
#: Seconds an idle connection is kept. Below the shortest keep-alive
#: timeout common on device web servers (Apache's and lighttpd's 5 s; GUPnP's
#: libsoup, aiohttp and Twisted keep longer), so the proxier, not the device,
#: closes an idle connection and a request rarely meets one being closed;
#: still longer than the gaps within a bootstrap or an ACS session.
IDLE_TIMEOUT = 4.0
#: A kept connection the device closes this soon after its answer: it closes
#: after answering without saying so. Such a close, or a stale connection,
#: counts against the device once it answers on a new connection (a device
#: going down closes its connections too); twice in a row, it is a fallback
#: device.
EARLY_CLOSE = 1.0
#: Devices remembered (their fallback flag, whether keep-alive was seen to work).
MAX_RECORDS = 4096
_STRIKES = 2  # early closes, stale connections, or consecutive "Connection: close" answers


@dataclass(eq=False, slots=True)
class _Device:
    """What the pool knows of one C{host:port} (slots: one per device, issue 19)."""

    name: str
    # oldest first; a tuple, mostly the shared empty one (the idle timeout is short; a list is 56 bytes a device)
    idle: tuple["_Connection", ...] = ()
    fallback: str = ""  # why it gets no kept-alive connection ("": it does)
    proven: bool = False  # it answered a request on a reused connection
    closes: int = 0  # consecutive "Connection: close" answers to a kept-alive request
    suspect: str = ""  # a kept connection it closed early or that was stale: a strike if it then answers
    strikes: int = 0  # such closes followed by an answer on a new connection, since it last answered on a kept one


class _Connection(HTTP11ClientProtocol):
    """An HTTP/1.1 client connection that tells the pool it is idle or lost."""

    def __init__(self, pool: "DevicePool", device: _Device) -> None:
        super().__init__(self._quiescent)
        self.pool = pool
        self.device = device
        self.kept = False  # the last answer left it reusable
        self.idleSince: Optional[float] = None
        self.timer: Any = None

    def _quiescent(self, _: Any) -> None:
        self.kept = True
        self.pool._put(self)

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        super().connectionLost(reason)
        self.pool._lost(self)


class _Factory(Factory):
    noisy = False  # a connection per device request: no "Starting factory" line for each

    def __init__(self, pool: "DevicePool", device: Optional[_Device]) -> None:
        self.pool = pool
        self.device = device

    def buildProtocol(self, addr: Any) -> HTTP11ClientProtocol:
        if self.device is None:  # never kept
            return HTTP11ClientProtocol()
        return _Connection(self.pool, self.device)


def _repeatable(request: Any) -> bool:
    """Whether sending C{request} twice cannot do twice what it asks (RFC 9110 §9.2.2, and no body to replay)."""
    return request.method in (b"GET", b"HEAD") and request.bodyProducer is None


def _cancelled(failure: Failure) -> bool:
    if failure.check(CancelledError):
        return True
    return any(isinstance(r, Failure) and r.check(CancelledError) for r in getattr(failure.value, "reasons", ()) or ())


class _Use:
    """
    One request on a connection the pool gave the C{Agent}: it downgrades
    the request for a fallback device, sends it again when that is safe, and
    watches how the device ends its answer.
    """

    def __init__(self, pool: "DevicePool", device: Optional[_Device], key: Any, endpoint: Any,
                 connection: Any, reused: bool) -> None:
        self.pool = pool
        self.device = device
        self.key = key
        self.endpoint = endpoint
        self.connection = connection
        self.reused = reused

    def request(self, request: Any) -> Deferred:
        device = self.device
        if device is None or device.fallback:
            request.persistent = False
        if self.reused and device is not None and not device.proven and not _repeatable(request):
            # keep-alive not yet seen to work there: a request that must not be sent twice takes a new connection
            self.pool._put(self.connection)
            return self.pool._fresh(self.key, self.endpoint, device, request)
        if isinstance(self.connection, _Connection):
            self.connection.kept = False
        d = self.connection.request(request)
        if request.persistent:
            d.addCallback(self._answered, request)
        if self.reused:
            d.addErrback(self._failed, request)
        return d

    def _answered(self, response: Any, request: Any) -> Any:
        device = self.device
        if device is not None and self.reused:  # keep-alive works there: strikes count only in a row
            device.proven = True
            device.strikes = 0
            device.suspect = ""
        elif device is not None and device.suspect:  # it is up: the close was its keep-alive's, not its going down
            reason, device.suspect = device.suspect, ""
            self.pool._strike(device, reason)
        return _Watched(response, lambda reason, stopped: self._ended(response, reason, stopped))

    def _ended(self, response: Any, reason: Failure, stopped: bool) -> None:
        """How the answer to a kept-alive request ended: what it says of the device's keep-alive."""
        device = self.device
        if device is None or device.fallback:
            return
        if stopped:  # the caller dropped it (deadline, cap): only an endless body of unknown length tells
            # (a chunked body that stalled is taken for one too: it costs that device only its keep-alive)
            if response.length is UNKNOWN_LENGTH:
                self.pool._fallback(device, "answered without Content-Length and did not close")
        elif reason.check(ResponseDone):
            if isinstance(self.connection, _Connection) and self.connection.kept:
                device.closes = 0
            else:
                device.closes += 1
                if device.closes >= _STRIKES and not device.proven:
                    self.pool._fallback(device, "answers Connection: close every time")
        elif reason.check(PotentialDataLoss):
            self.pool._fallback(device, "answers without Content-Length, ending the body by closing")
        else:
            self.pool._fallback(device, f"closed in the middle of an answer ({reason.getErrorMessage()})")

    def _failed(self, failure: Failure, request: Any) -> Any:
        """A request on a reused connection failed: the device closed it in between (a stale connection)?"""
        if _cancelled(failure) or not failure.check(RequestNotSent, RequestTransmissionFailed, ResponseNeverReceived):
            return failure
        if self.device is not None and not failure.check(RequestNotSent):
            self.device.suspect = "closes kept-alive connections before they are reused"
        if failure.check(RequestNotSent) or _repeatable(request):
            return self.pool._fresh(self.key, self.endpoint, self.device, request)
        return failure


@implementer(IResponse)
class _Watched:
    """A response whose body's end is reported, and whether the reader stopped it."""

    def __init__(self, response: Any, ended: Callable[[Failure, bool], None]) -> None:
        self._response = response
        self._ended = ended

    def __getattr__(self, name: str) -> Any:
        return getattr(self._response, name)

    def deliverBody(self, protocol: Any) -> None:
        self._response.deliverBody(_BodyWatch(protocol, self._ended))


class _BodyWatch(Protocol):
    def __init__(self, inner: Any, ended: Callable[[Failure, bool], None]) -> None:
        self.inner = inner
        self.ended = ended
        self.stopped = False

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport
        self.inner.makeConnection(self)  # the reader's transport: this, to see it stop the body

    def stopProducing(self) -> None:
        self.stopped = True
        self.transport.stopProducing()

    def pauseProducing(self) -> None:
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        self.transport.resumeProducing()

    def dataReceived(self, data: bytes) -> None:
        self.inner.dataReceived(data)

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        # the reader's transport is this watch, which holds the reader, and its report holds the
        # response: let go of both, so that they are freed at once, not by the cyclic collector (issue 19)
        inner, ended, self.inner, self.ended = self.inner, self.ended, None, None
        try:
            ended(reason, self.stopped)
        finally:
            inner.connectionLost(reason)


class DevicePool:
    """
    The C{HTTPConnectionPool} of the control point's C{Agent} (see the
    module docstring).

    https connections are not kept: DeviceProtection judges a device's
    certificate inside each handshake (pin, quarantine, an accepted new
    certificate) and the proxier presents its identity there (renewed, a new
    CPID); the device's roles are those of that TLS session (UserLogin binds
    a login to it). A kept TLS session would carry a verdict, an identity or
    roles past the change that ended them; and DeviceProtection devices are
    few.

    @ivar persistent: read by the C{Agent} for every request; a fallback
        device's requests are downgraded one by one.
    """

    persistent = True
    log = Logger()

    def __init__(self, clock: Any, *, perDevice: int = PER_DEVICE, maxIdle: int = MAX_IDLE,
                 idleTimeout: float = IDLE_TIMEOUT, maxRecords: int = MAX_RECORDS) -> None:
        self.clock = clock
        self.perDevice = perDevice
        self.maxIdle = maxIdle
        self.idleTimeout = idleTimeout
        self.maxRecords = maxRecords
        self._devices: OrderedDict[tuple[bytes, int], _Device] = OrderedDict()
        self._idle: OrderedDict[_Connection, None] = OrderedDict()  # least recently idle first

    @property
    def idle(self) -> int:
        """Idle connections held now."""
        return len(self._idle)

    def fallbacks(self) -> dict[str, str]:
        """C{host:port} → why that device gets no kept-alive connection."""
        return {d.name: d.fallback for d in self._devices.values() if d.fallback}

    def fallbackFor(self, address: str, port: int) -> str:
        """Why the device at C{address}, C{port} gets no kept-alive connection (C{""}: it does, or is unknown)."""
        host = ipv6HostName(address) if ":" in address else address
        record = self._devices.get((host.encode("ascii", "replace"), port))
        return record.fallback if record is not None else ""

    # what the Agent calls

    def getConnection(self, key: Any, endpoint: Any) -> Deferred:
        scheme, host, port = key
        if scheme != b"http":
            return self._connect(None, endpoint).addCallback(lambda c: _Use(self, None, key, endpoint, c, False))
        device = self._device(host, port)
        while device.idle:
            connection = device.idle[-1]  # the most recently used: the other one may time out
            self._unidle(connection)
            if connection.state == "QUIESCENT":
                return succeed(_Use(self, device, key, endpoint, connection, True))
        return self._connect(device, endpoint).addCallback(lambda c: _Use(self, device, key, endpoint, c, False))

    def closeCachedConnections(self) -> Deferred:
        """Close every idle connection; fires when they are closed."""
        waits = []
        for connection in list(self._idle):
            self._unidle(connection)
            waits.append(connection.abort())
        return DeferredList(waits, consumeErrors=True)

    # inside

    def _device(self, host: bytes, port: int) -> _Device:
        record = self._devices.get((host, port))
        if record is None:
            name = host.decode("ascii", "replace")
            address = addressFromHostName(name)
            record = _Device(f"[{address}]:{port}" if address else f"{name}:{port}")
            self._devices[(host, port)] = record
            while len(self._devices) > self.maxRecords:  # the least recently asked one holding no connection
                old = next((k for k, v in self._devices.items() if not v.idle), None)
                if old is None:
                    break
                del self._devices[old]
        else:
            self._devices.move_to_end((host, port))
        return record

    def _connect(self, device: Optional[_Device], endpoint: Any) -> Deferred:
        return endpoint.connect(_Factory(self, device))

    def _fresh(self, key: Any, endpoint: Any, device: Optional[_Device], request: Any) -> Deferred:
        """C{request} on a new connection (never sent again from there)."""
        return self._connect(device, endpoint).addCallback(
            lambda c: _Use(self, device, key, endpoint, c, False).request(request))

    def _put(self, connection: _Connection) -> None:
        """A connection the last answer left open and reusable: kept, within the bounds."""
        device = connection.device
        if device.fallback or connection.state != "QUIESCENT":
            connection.transport.loseConnection()
            return
        while len(device.idle) >= self.perDevice:
            self._drop(device.idle[0])
        device.idle += (connection,)
        self._idle[connection] = None
        connection.idleSince = self.clock.seconds()
        connection.timer = self.clock.callLater(self.idleTimeout, self._drop, connection)
        while len(self._idle) > self.maxIdle:
            self._drop(next(iter(self._idle)))

    def _unidle(self, connection: _Connection) -> None:
        self._idle.pop(connection, None)
        device = connection.device
        if connection in device.idle:
            device.idle = tuple(c for c in device.idle if c is not connection)
        if connection.timer is not None and connection.timer.active():
            connection.timer.cancel()
        connection.timer = None
        connection.idleSince = None

    def _drop(self, connection: _Connection) -> None:
        """Close an idle connection (timed out, over a bound, or the pool closing)."""
        self._unidle(connection)
        connection.transport.loseConnection()

    def _lost(self, connection: _Connection) -> None:
        since = connection.idleSince
        if since is None:
            return
        self._unidle(connection)
        if self.clock.seconds() - since < EARLY_CLOSE:
            connection.device.suspect = "closes kept-alive connections right after answering, without saying so"

    def _strike(self, device: _Device, reason: str) -> None:
        device.strikes += 1
        if device.strikes >= _STRIKES:
            self._fallback(device, reason)

    def _fallback(self, device: _Device, reason: str) -> None:
        if device.fallback:
            return
        device.fallback = reason
        for connection in device.idle:
            self._drop(connection)
        self.log.info("HTTP keep-alive given up for device {device}: it {reason}; "
                      "one connection per request from now on", device=device.name, reason=reason)
