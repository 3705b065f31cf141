# -*- test-case-name: tests.test_outbound -*-
"""
Which hosts the proxier itself may reach on the ACS's behalf.

Some URLs reach the proxier from the ACS rather than from its operator: the
file server of an Upload, which the proxier PUTs a device's log to, and the
target of an HTTP redirect during a session. Followed blindly they make the
gateway a client of whatever they name: its own admin pages and Connection
Request port (on loopback or on its own LAN and WAN addresses), a link-local
metadata service, a host on the LAN behind it. So such a URL may not name

 - a loopback, link-local (IPv4 169.254/16, IPv6 fe80::/10), unspecified,
   multicast or broadcast address, or a name of this host (C{localhost},
   C{*.localhost});
 - any address of the gateway's own interfaces;

unless its host is one the operator allows for a lab (C{[acs]
local_targets}: the demo and the tests run their ACS and file servers on
127.0.0.1). A name is resolved and each of its addresses checked (no answer:
refused); the ACS URL itself is the operator's, not checked here, and a
redirect to the same host and port it came from reaches nothing new.

A Download URL is not checked here: the device fetches it, not the proxier
(L{proxier.upnpdm.firmware} checks its form and scheme only).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Callable, Iterable, Optional, Sequence
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, fail, succeed

from proxier.lan.urlpolicy import normalizeAddress
from proxier.sharing import internFrozenset

__all__ = ["TargetPolicy", "TargetRefused", "gatewayAddresses", "LOCAL_NAMES"]

#: Names that mean this host whatever DNS says (RFC 6761 §6.3).
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


class TargetRefused(Exception):
    """A URL the proxier will not reach on the ACS's behalf; C{str()} says why."""


def gatewayAddresses() -> frozenset:
    """Every address of every interface of this host (no zone), as C{ipaddress} objects."""
    from proxier.lan.netif import listInterfaces

    try:
        interfaces = listInterfaces()
    except OSError:
        return frozenset()
    return frozenset(a.ip for i in interfaces for a in i.addresses)


class TargetPolicy:
    """
    The check (see the module docstring).

    @param allowed: hosts (names or addresses, as the URL spells them)
        allowed whatever they are — the C{[acs] local_targets} key.
    @param ownAddresses: gives the gateway's own addresses (default: its
        interfaces, read at each check: addresses change).
    @param resolve: name → Deferred list of addresses; by default
        C{getaddrinfo} in the reactor's thread pool, bounded by
        C{resolveTimeout}.
    """

    __slots__ = ("allowed", "_own", "_resolve", "_reactor", "_resolveTimeout")

    def __init__(self, allowed: Iterable[str] = (), *, ownAddresses: Optional[Callable[[], Iterable[Any]]] = None,
                 resolve: Optional[Callable[[str], Deferred]] = None, reactor: Any = None,
                 resolveTimeout: float = 10.0) -> None:
        # slots and one shared set of allowed hosts: a policy per device (issue 19)
        self.allowed = internFrozenset(_hostKey(h) for h in allowed if h.strip())
        self._own = ownAddresses or gatewayAddresses
        self._resolve = resolve
        self._reactor = reactor
        self._resolveTimeout = resolveTimeout

    def addressRefusal(self, address: str) -> Optional[str]:
        """Why the proxier may not connect to the IP C{address} for the ACS, or None."""
        ip = normalizeAddress(address)
        if ip.is_loopback:
            return f"{ip} is a loopback address"
        if ip.is_link_local:
            return f"{ip} is a link-local address"
        if ip.is_unspecified:
            return f"{ip} is the unspecified address"
        if ip.is_multicast:
            return f"{ip} is a multicast address"
        if ip == _BROADCAST:
            return f"{ip} is the broadcast address"
        own = set()
        for a in self._own():
            try:
                own.add(normalizeAddress(str(a)))
            except ValueError:
                continue
        if ip in own:
            return f"{ip} is an address of this gateway"
        return None

    def quickRefusal(self, url: str) -> Optional[str]:
        """
        Why C{url} is refused, as far as that is known without resolving a
        name (an address, C{localhost}), or None — for an RPC that answers at
        once; L{check} is still made before connecting.
        """
        d = self.check(url, resolve=False)
        refused: list[str] = []
        d.addErrback(lambda f: refused.append(str(f.value)) if f.check(TargetRefused) else None)
        return refused[0] if refused else None

    def check(self, url: str, cameFrom: Optional[str] = None, *, resolve: bool = True) -> Deferred:
        """
        Whether the proxier may send to C{url} for the ACS.

        @param cameFrom: the URL a redirect came from: the same host and port
            are not checked again.
        @return: Deferred firing with None, or failing with L{TargetRefused}.
        """
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            parts.port  # noqa: B018 - read for its ValueError on a port that is no number or out of range
        except ValueError as e:
            return fail(TargetRefused(f"{url[:200]!r} is not a valid URL ({e})"))
        if not host:
            return fail(TargetRefused(f"{url[:200]!r} names no host"))
        key = _hostKey(host)
        if key in self.allowed:
            return succeed(None)
        if cameFrom is not None and _sameOrigin(url, cameFrom):
            return succeed(None)
        try:
            normalizeAddress(host)
        except ValueError:
            pass
        else:
            reason = self.addressRefusal(host)
            return succeed(None) if reason is None else fail(TargetRefused(f"{url[:200]}: {reason}"))
        if key in LOCAL_NAMES or key.endswith(".localhost"):
            return fail(TargetRefused(f"{url[:200]}: {host} names this host"))
        if not resolve:
            return succeed(None)
        d = self._resolver()(host)

        def resolved(addresses: Sequence[str]) -> None:
            if not addresses:
                raise TargetRefused(f"{url[:200]}: {host} does not resolve")
            for address in addresses:  # one bad address taints the name
                reason = self.addressRefusal(address)
                if reason is not None:
                    raise TargetRefused(f"{url[:200]}: {host} resolves to {reason}")
            return None

        def failed(f: Any) -> Any:
            if f.check(TargetRefused):
                return f
            raise TargetRefused(f"{url[:200]}: cannot resolve {host}: {f.getErrorMessage() or f.type.__name__}")

        return d.addCallbacks(resolved, failed)

    def _resolver(self) -> Callable[[str], Deferred]:
        if self._resolve is None:
            reactor = self._reactor
            if reactor is None:
                from twisted.internet import reactor  # type: ignore[no-redef]
            self._resolve = _threadedResolver(reactor, self._resolveTimeout)
        return self._resolve


def _hostKey(host: str) -> str:
    host = host.strip().lower().strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(host.partition("%")[0]))
    except ValueError:
        return host


def _sameOrigin(url: str, other: str) -> bool:
    try:
        a, b = urlsplit(url), urlsplit(other)
        default = {"http": 80, "https": 443}
        return (_hostKey(a.hostname or "") == _hostKey(b.hostname or "")
                and (a.port or default.get(a.scheme.lower())) == (b.port or default.get(b.scheme.lower())))
    except ValueError:
        return False


def _threadedResolver(reactor: Any, timeout: float) -> Callable[[str], Deferred]:
    from twisted.internet.threads import deferToThreadPool

    def resolve(host: str) -> Deferred:
        def lookup() -> list[str]:
            return [info[4][0] for info in socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)]

        d = deferToThreadPool(reactor, reactor.getThreadPool(), lookup)
        return d.addTimeout(timeout, reactor)

    return resolve
