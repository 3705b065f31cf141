# -*- test-case-name: tests.test_lan_urlpolicy -*-
"""
Which URLs taken from a device the proxier may fetch or post to.

A forged SSDP packet costs nothing, and its LOCATION is a URL the control
point would otherwise fetch at once: without a policy, anyone on the LAN (or
a compromised device) could make the gateway request its own admin pages, a
cloud metadata service, or a host on another network. So every URL derived
from a device — LOCATION, URLBase, SCPDURL, controlURL, eventSubURL, every
redirect — passes L{URLPolicy.check} first (INTEROP.md, Security):

 - it is C{http} (C{https} where asked for: DeviceProtection), with no user
   information;
 - its host, once resolved, is the address the device was heard from (for
   UPnP, the SSDP packet's source) or an address within the receiving
   interface's subnets, but never one of the
   receiving interface's own addresses (the gateway's admin pages, its
   Connection Request port);
 - and never loopback, link-local IPv4, multicast, unspecified, broadcast or
   a name resolving to one of those (an IPv6 link-local address is allowed
   only when it is the source itself, and is reached through the receiving
   interface).

In the unicast-loopback mode (demo and tests outside a namespace) the rule is
the reverse: loopback addresses only.

The check yields a L{Target} whose C{connectURL} names the checked address,
so that a name cannot resolve to something else between check and connect
(DNS rebinding); the original host goes in the Host header.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, fail, succeed

from proxier.lan.netif import NetworkInterface
from proxier.sharing import InternTable, internText

__all__ = ["URLRefused", "Origin", "Target", "URLPolicy", "addressRefusal", "formatHost", "normalizeAddress"]

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

MAX_URL_LENGTH = 2048
_RESERVED_V4 = (
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("255.255.255.255/32"),
)


#: Port numbers, shared by the targets that name them (L{URLPolicy._target}).
_ports: InternTable[int] = InternTable()


class URLRefused(Exception):
    """A device URL the policy refuses; C{str()} says why, for a log line."""


@dataclass(frozen=True, slots=True)
class Origin:
    """
    Where a device was heard: what its URLs are checked against.

    @ivar source: the address the device was heard from (no zone): for UPnP,
        the SSDP packet's source.
    @ivar interface: the receiving interface (C{None} in unicast-loopback mode).
    @ivar loopbackMode: the unicast-loopback mode: loopback only.
    """

    source: str
    interface: Optional[NetworkInterface] = None
    loopbackMode: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """
    A checked URL (slots: about ten per device, issue 19; a device's targets
    share its address and Host header strings, L{URLPolicy._target}).

    @ivar url: the URL as the device gave it.
    @ivar connectURL: the same URL with the checked address as host.
    @ivar hostHeader: the Host header (the original host, never a zone id).
    @ivar address: the checked address (no zone).
    @ivar scope: the interface name an IPv6 link-local address is reached
        through, else C{""}.
    """

    url: str
    connectURL: str
    hostHeader: str
    address: str
    port: int
    scheme: str = "http"
    scope: str = ""


def normalizeAddress(address: Union[str, IPAddress]) -> IPAddress:
    """An IP address without its zone, an IPv4-mapped IPv6 address as the IPv4 one it is (a policy sees one form)."""
    ip = ipaddress.ip_address(str(address).partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def addressRefusal(address: Union[str, IPAddress], origin: Origin) -> Optional[str]:
    """Why a device URL may not point at C{address}, or C{None} when it may."""
    ip = normalizeAddress(address)
    if origin.loopbackMode:
        return None if ip.is_loopback else f"{ip} is not a loopback address (unicast-loopback mode)"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if ip.version == 4 and ip.is_link_local:
        return f"{ip} is an IPv4 link-local address"
    if ip.version == 4 and any(ip in net for net in _RESERVED_V4):
        return f"{ip} is a reserved or broadcast address"
    interface = origin.interface
    if interface is not None and any(ip == a.ip for a in interface.addresses):
        # its admin pages, its Connection Request port: never a device's (issue 11 item 6)
        return f"{ip} is an address of this gateway ({interface.name})"
    networks = [a.network for a in interface.addresses if a.version == ip.version] if interface else []
    if ip.version == 4 and any(ip == net.broadcast_address and net.prefixlen < 31 for net in networks):
        return f"{ip} is the subnet's broadcast address"
    try:
        source = normalizeAddress(origin.source)
    except ValueError:
        source = None
    if ip == source:
        return None
    if ip.version == 6 and ip.is_link_local:
        return f"{ip} is link-local and not the announcing host {origin.source}"
    if any(ip in net for net in networks if not (net.version == 6 and net.network_address.is_link_local)):
        return None
    where = f" on {interface.name}" if interface else ""
    return f"{ip} is neither the announcing host {origin.source} nor on the receiving interface's subnet{where}"


def formatHost(address: str) -> str:
    """An address as it goes in a URL or Host header: IPv6 in brackets, no zone."""
    address = address.partition("%")[0]
    return f"[{address}]" if ":" in address else address


Resolver = Callable[[str], "Deferred[Sequence[str]]"]


class URLPolicy:
    """
    Checks device URLs (see the module docstring).

    @param resolve: name → Deferred list of addresses; by default
        C{getaddrinfo} in the reactor's thread pool, bounded by
        C{resolveTimeout}.
    """

    def __init__(
        self,
        resolve: Optional[Resolver] = None,
        *,
        reactor: Any = None,
        resolveTimeout: float = 5.0,
        schemes: Sequence[str] = ("http",),
    ) -> None:
        if resolve is None:
            if reactor is None:
                from twisted.internet import reactor as _reactor

                reactor = _reactor
            resolve = _threadedResolver(reactor, resolveTimeout)
        self._resolve = resolve
        self.schemes = tuple(schemes)

    def check(self, url: str, origin: Origin, schemes: Optional[Sequence[str]] = None) -> "Deferred[Target]":
        """
        Check one URL.

        @param schemes: the schemes allowed here (default: the policy's).
        @return: a Deferred firing with a L{Target}, or failing with
            L{URLRefused}.
        """
        try:
            scheme, host, port, rest = _split(url, schemes or self.schemes)
        except URLRefused:
            return fail()
        try:
            ipaddress.ip_address(host.partition("%")[0])
        except ValueError:
            pass
        else:
            try:
                return succeed(self._target(url, scheme, host.partition("%")[0], host, port, rest, origin))
            except URLRefused:
                return fail()
        if origin.loopbackMode and host.lower() not in ("localhost",):
            return fail(URLRefused(f"{url[:200]}: only loopback addresses are allowed (unicast-loopback mode)"))
        d = self._resolve(host)

        def resolved(addresses: Sequence[str]) -> Target:
            addresses = list(dict.fromkeys(addresses))
            if not addresses:
                raise URLRefused(f"{url[:200]}: {host} does not resolve")
            for address in addresses:  # one bad address taints the name
                reason = addressRefusal(address, origin)
                if reason is not None:
                    raise URLRefused(f"{url[:200]}: {host} resolves to {reason}")
            return self._target(url, scheme, addresses[0], host, port, rest, origin)

        def failed(f: Any) -> Any:
            if f.check(URLRefused):
                return f
            raise URLRefused(f"{url[:200]}: cannot resolve {host}: {f.getErrorMessage()}")

        return d.addCallbacks(resolved, failed)

    def checkAddressLiteral(self, url: str, origin: Origin, schemes: Optional[Sequence[str]] = None) -> Target:
        """
        Check a URL whose host is an address, at once (no resolution).

        @raise URLRefused: refused, or the host is a name.
        """
        scheme, host, port, rest = _split(url, schemes or self.schemes)
        try:
            ipaddress.ip_address(host.partition("%")[0])
        except ValueError:
            raise URLRefused(f"{url[:200]}: {host} is a name, not an address") from None
        return self._target(url, scheme, host.partition("%")[0], host, port, rest, origin)

    def _target(self, url: str, scheme: str, address: str, host: str, port: int, rest: str, origin: Origin) -> Target:
        reason = addressRefusal(address, origin)
        if reason is not None:
            raise URLRefused(f"{url[:200]}: {reason}")
        ip = normalizeAddress(address)
        scope = ""
        if ip.version == 6 and ip.is_link_local and origin.interface is not None:
            scope = origin.interface.name
        default = 443 if scheme == "https" else 80
        hostPart = formatHost(host)
        hostHeader = hostPart if port == default else f"{hostPart}:{port}"
        connectURL = f"{scheme}://{formatHost(str(ip))}:{port}{rest}"
        # a device's URLs (about ten) name one host: one string each for its address and Host header, one
        # int for its port (past 256 each is an object); a URL that names its address and port is its own
        # connectURL (issue 19)
        return Target(url, url if connectURL == url else connectURL, internText(hostHeader), internText(str(ip)),
                      _ports(port), internText(scheme), scope)


def _split(url: str, schemes: Sequence[str]) -> tuple[str, str, int, str]:
    """scheme, host (no brackets), port, path+query — or URLRefused."""
    if len(url) > MAX_URL_LENGTH:
        raise URLRefused(f"URL longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise URLRefused(f"{url[:200]!r}: white space or control characters in URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise URLRefused(f"{url[:200]}: not a valid URL ({e})") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise URLRefused(f"{url[:200]}: scheme {scheme or '(none)'} is not {' or '.join(schemes)}")
    if "@" in parts.netloc:
        raise URLRefused(f"{url[:200]}: user information in URL")
    host = (parts.hostname or "").strip()
    if not host:
        raise URLRefused(f"{url[:200]}: no host")
    if not host.isascii():
        raise URLRefused(f"{url[:200]!r}: a host name that is not ASCII")
    if port == 0:
        raise URLRefused(f"{url[:200]}: port 0")
    if port is None:
        port = 443 if scheme == "https" else 80
    rest = parts.path or "/"
    if parts.query:
        rest += "?" + parts.query
    return scheme, host, port, rest


def _threadedResolver(reactor: Any, timeout: float) -> Resolver:
    from twisted.internet.threads import deferToThreadPool

    def resolve(host: str) -> "Deferred[Sequence[str]]":
        def lookup() -> list[str]:
            infos = socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)
            return [info[4][0] for info in infos]

        d = deferToThreadPool(reactor, reactor.getThreadPool(), lookup)
        return d.addTimeout(timeout, reactor)

    return resolve
