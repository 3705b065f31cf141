"""
A safety net under the whole test suite: outside the test run's own network
namespace, no test may join a multicast group, enable broadcast, or send a
datagram to a multicast or broadcast address. The socket calls that would do
so raise instead, so a test (or the code under test) that forgets to use the
unicast-loopback mode fails loudly here rather than sending a packet off this
machine. Inside the namespace (C{tests.netns.isolation} says it is isolated)
everything is allowed.
"""

from __future__ import annotations

import ipaddress
import socket

__all__ = ["install", "MulticastRefused"]

_MEMBERSHIP = {
    (socket.IPPROTO_IP, getattr(socket, "IP_ADD_MEMBERSHIP", -1)),
    (socket.IPPROTO_IPV6, getattr(socket, "IPV6_JOIN_GROUP", -1)),
    (socket.SOL_SOCKET, socket.SO_BROADCAST),
}


class MulticastRefused(OSError):
    """A test tried to reach the network beyond this machine."""


def _isolated() -> bool:
    from tests.netns.isolation import isolationProblem

    return isolationProblem() is None


def _forbiddenDestination(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return False
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ip = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return str(host) in ("<broadcast>",)
    if ip.is_multicast:
        return True
    return isinstance(ip, ipaddress.IPv4Address) and (ip == ipaddress.IPv4Address("255.255.255.255"))


def install() -> None:
    """Wrap the socket calls; idempotent."""
    cls = socket.socket
    if getattr(cls, "_proxierGuarded", False):
        return
    setsockopt, sendto = cls.setsockopt, cls.sendto

    def guardedSetsockopt(self, level, option, *args):  # type: ignore[no-untyped-def]
        if (level, option) in _MEMBERSHIP and not _isolated():
            raise MulticastRefused(
                "tests may not join multicast groups or broadcast outside their own network namespace")
        return setsockopt(self, level, option, *args)

    def guardedSendto(self, data, *args):  # type: ignore[no-untyped-def]
        if args and _forbiddenDestination(args[-1]) and not _isolated():
            raise MulticastRefused(
                f"tests may not send to {args[-1][0]} outside their own network namespace")
        return sendto(self, data, *args)

    cls.setsockopt = guardedSetsockopt  # type: ignore[method-assign]
    cls.sendto = guardedSendto  # type: ignore[method-assign]
    cls._proxierGuarded = True  # type: ignore[attr-defined]
