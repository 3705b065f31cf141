# -*- test-case-name: tests.test_upnp_discovery,tests.test_lan_mdns -*-
"""
Multicast sockets on one LAN interface, for every protocol that listens to
a group there (SSDP, mDNS).

Twisted's C{joinGroup} is IPv4 only, so an IPv6 group socket is made here
and adopted by the reactor. Each socket hears only the group it joined
(C{IP(V6)_MULTICAST_ALL} off: without it Linux delivers every group any
socket of the host joined on that port).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from typing import Any, Callable, Optional

__all__ = ["IP_MULTICAST_ALL", "IPV6_MULTICAST_ALL", "openIPv6GroupSocket", "setSocketOption"]

IP_MULTICAST_ALL = getattr(socket, "IP_MULTICAST_ALL", 49)
IPV6_MULTICAST_ALL = 29  # <linux/in6.h>; the socket module does not name it


def openIPv6GroupSocket(group: str, port: int, ifindex: int, socketFactory: Callable[..., Any] = socket.socket,
                        *, hops: Optional[int] = None) -> Any:
    """
    A non-blocking IPv6 UDP socket bound to C{group}:C{port} on one
    interface, member of C{group} there, hearing no other membership.

    @param hops: when given, the socket also multicasts through that
        interface with this hop limit (mDNS sends from its group socket).
    """
    s = socketFactory(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0)
        except OSError:
            pass  # kernels before 4.20: the group binding still filters by group
        scope = ifindex if ipaddress.IPv6Address(group).is_link_local or group.lower().startswith("ff02") else 0
        s.bind((group, port, 0, scope))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                     socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", ifindex))
        if hops is not None:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hops)
        s.setblocking(False)
    except BaseException:
        s.close()
        raise
    return s


def setSocketOption(port: Any, level: int, option: int, value: int) -> None:
    """Set an option on a listening port's socket where it has one and the kernel takes it (best effort)."""
    sock = getattr(port, "socket", None)
    if sock is None:
        return
    try:
        sock.setsockopt(level, option, value)
    except OSError:
        pass
