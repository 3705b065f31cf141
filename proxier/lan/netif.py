# -*- test-case-name: tests.test_lan_netif -*-
"""
The host's network interfaces: name, index, flags and addresses with their
prefixes — what a discovery listener (SSDP) needs to join groups per interface, and
what the URL policy needs to know a device's subnet.

L{listInterfaces} reads them with C{getifaddrs(3)} through ctypes (the
standard library has no portable call for it). Everything that uses the list
takes it as an argument, so tests hand in made-up interfaces.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence, Union

__all__ = [
    "NetworkInterface",
    "listInterfaces",
    "selectInterfaces",
    "IPInterface",
    "defaultRouteInterfaces",
    "parseIPv4Routes",
    "parseIPv6Routes",
]

IPInterface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]

_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000


@dataclass(frozen=True)
class NetworkInterface:
    """
    @ivar addresses: each address with its prefix (C{ipaddress.ip_interface}).
    """

    name: str
    index: int
    up: bool = True
    loopback: bool = False
    multicast: bool = True
    addresses: tuple[IPInterface, ...] = field(default=())

    def addressesOf(self, family: int) -> tuple[IPInterface, ...]:
        version = 4 if family == socket.AF_INET else 6
        return tuple(a for a in self.addresses if a.version == version)

    def isOnLink(self, address: Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address]) -> bool:
        """
        Whether a packet from C{address} can have come from this link: within
        one of the interface's prefixes, or (IPv6) link-local.
        """
        ip = ipaddress.ip_address(str(address).partition("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.version == 6 and ip.is_link_local:
            return True
        return any(ip in a.network for a in self.addresses if a.version == ip.version)

    def localAddressFor(self, peer: str) -> Optional[str]:
        """
        The address of this interface a peer should use to reach us: one in
        the peer's subnet, else the first of its family (link-local last for
        IPv6 peers that are not link-local themselves).
        """
        ip = ipaddress.ip_address(peer.partition("%")[0])
        same = [a for a in self.addresses if a.version == ip.version]
        for a in same:
            if ip in a.network and not (ip.version == 6 and a.ip.is_link_local and not ip.is_link_local):
                return str(a.ip)
        if ip.version == 6:
            same.sort(key=lambda a: a.ip.is_link_local != ip.is_link_local)
        return str(same[0].ip) if same else None


class _SockAddr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("data", ctypes.c_ubyte * 14)]


class _SockAddrIn(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("port", ctypes.c_uint16), ("addr", ctypes.c_ubyte * 4)]


class _SockAddrIn6(ctypes.Structure):
    _fields_ = [
        ("family", ctypes.c_ushort),
        ("port", ctypes.c_uint16),
        ("flowinfo", ctypes.c_uint32),
        ("addr", ctypes.c_ubyte * 16),
        ("scope", ctypes.c_uint32),
    ]


class _IfAddrs(ctypes.Structure):
    pass


_IfAddrs._fields_ = [
    ("next", ctypes.POINTER(_IfAddrs)),
    ("name", ctypes.c_char_p),
    ("flags", ctypes.c_uint),
    ("addr", ctypes.POINTER(_SockAddr)),
    ("netmask", ctypes.POINTER(_SockAddr)),
    ("ifu", ctypes.POINTER(_SockAddr)),
    ("data", ctypes.c_void_p),
]


def _address(pointer: "ctypes._Pointer[_SockAddr]") -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    if not pointer:
        return None
    family = pointer.contents.family
    if family == socket.AF_INET:
        raw = ctypes.cast(pointer, ctypes.POINTER(_SockAddrIn)).contents.addr
        return ipaddress.IPv4Address(bytes(raw))
    if family == socket.AF_INET6:
        raw6 = ctypes.cast(pointer, ctypes.POINTER(_SockAddrIn6)).contents.addr
        return ipaddress.IPv6Address(bytes(raw6))
    return None


def _prefix(mask: Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]], version: int) -> int:
    if mask is None:
        return 32 if version == 4 else 128
    return bin(int(mask)).count("1")


_LIBC: list = []


def _libc() -> ctypes.CDLL:
    """libc, found once: find_library runs ldconfig, and the interfaces are listed every check interval."""
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True))
    return _LIBC[0]


def listInterfaces() -> list[NetworkInterface]:
    """
    The interfaces of this network namespace, from C{getifaddrs(3)}.

    @raise OSError: the call failed.
    """
    libc = _libc()
    head = ctypes.POINTER(_IfAddrs)()
    if libc.getifaddrs(ctypes.byref(head)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, "getifaddrs failed")
    found: dict[str, dict] = {}
    try:
        node = head
        while node:
            entry = node.contents
            name = entry.name.decode("utf-8", "replace")
            info = found.setdefault(name, {"flags": entry.flags, "addresses": []})
            info["flags"] |= entry.flags
            ip = _address(entry.addr)
            if ip is not None:
                mask = _address(entry.netmask)
                info["addresses"].append(ipaddress.ip_interface(f"{ip}/{_prefix(mask, ip.version)}"))
            node = entry.next
    finally:
        libc.freeifaddrs(head)
    result = []
    for name, info in found.items():
        try:
            index = socket.if_nametoindex(name)
        except OSError:
            continue
        flags = info["flags"]
        result.append(
            NetworkInterface(
                name=name,
                index=index,
                up=bool(flags & _IFF_UP),
                loopback=bool(flags & _IFF_LOOPBACK),
                multicast=bool(flags & _IFF_MULTICAST),
                addresses=tuple(info["addresses"]),
            )
        )
    return sorted(result, key=lambda i: i.index)


_RTF_UP = 0x1
_RTF_REJECT = 0x200


def parseIPv4Routes(text: str) -> set[str]:
    """
    The interfaces holding an IPv4 default route, from the text of
    C{/proc/net/route} (a header line, then C{Iface Destination Gateway Flags
    RefCnt Use Metric Mask ...} in hexadecimal). Lines that do not parse are
    skipped.
    """
    found = set()
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            flags = int(fields[3], 16)
        except ValueError:
            continue
        if fields[1] == "00000000" and fields[7] == "00000000" and flags & _RTF_UP and not flags & _RTF_REJECT:
            found.add(fields[0])
    return found


def parseIPv6Routes(text: str) -> set[str]:
    """
    The interfaces holding an IPv6 default route (::/0), from the text of
    C{/proc/net/ipv6_route} (destination, prefix length, source, source
    prefix, next hop, metric, refcount, use, flags, device). Unreachable
    routes (on C{lo}, or flagged reject) are not a way out.
    """
    found = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10:
            continue
        try:
            flags = int(fields[8], 16)
        except ValueError:
            continue
        if fields[0] == "0" * 32 and fields[1] == "00" and fields[9] != "lo" and not flags & _RTF_REJECT:
            found.add(fields[9])
    return found


def defaultRouteInterfaces(ipv4Path: str = "/proc/net/route", ipv6Path: str = "/proc/net/ipv6_route") -> set[str]:
    """
    The interfaces that hold a default route (IPv4 or IPv6): the WAN side of
    a gateway, where discovery must never run unless named. A table that
    cannot be read counts as empty.
    """
    found: set[str] = set()
    for path, parse in ((ipv4Path, parseIPv4Routes), (ipv6Path, parseIPv6Routes)):
        try:
            with open(path, encoding="ascii", errors="replace") as f:
                found |= parse(f.read(1 << 20))
        except OSError:
            pass
    return found


def selectInterfaces(
    interfaces: Iterable[NetworkInterface], names: Sequence[str] = (), wan: Iterable[str] = ()
) -> tuple[list[NetworkInterface], list[str]]:
    """
    The interfaces to discover on (the C{[lan] interfaces} rule): those named,
    or when none is named, every interface that is up, supports multicast,
    has an address, is not loopback and does not hold a default route.

    @param wan: the interfaces holding a default route
        (L{defaultRouteInterfaces}); left out unless named.
    @return: the interfaces, and a line per named interface that cannot be
        used (missing, down, without multicast or address) for the log.
    """
    interfaces = list(interfaces)
    problems: list[str] = []
    if not names:
        wan = set(wan)
        chosen = [i for i in interfaces
                  if i.up and i.multicast and i.addresses and not i.loopback and i.name not in wan]
        return chosen, problems
    byName = {i.name: i for i in interfaces}
    chosen = []
    for name in names:
        i = byName.get(name)
        if i is None:
            problems.append(f"interface {name} does not exist")
        elif not i.up:
            problems.append(f"interface {name} is down")
        elif not i.multicast:
            problems.append(f"interface {name} does not support multicast")
        elif not i.addresses:
            problems.append(f"interface {name} has no address")
        else:
            chosen.append(i)
    return chosen, problems
