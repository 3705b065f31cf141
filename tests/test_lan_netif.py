"""Tests for L{proxier.lan.netif}: the host's interfaces and their subnets."""

from __future__ import annotations

import ipaddress
import socket

from twisted.trial import unittest

from proxier.lan.netif import (
    NetworkInterface,
    defaultRouteInterfaces,
    listInterfaces,
    parseIPv4Routes,
    parseIPv6Routes,
    selectInterfaces,
)


def iface(name: str, index: int, *addresses: str, **kw: bool) -> NetworkInterface:
    return NetworkInterface(name, index, addresses=tuple(ipaddress.ip_interface(a) for a in addresses), **kw)


LAN = iface("br-lan", 5, "192.168.1.1/24", "fd12:3456::1/64", "fe80::1/64")
WAN = iface("eth0", 4, "203.0.113.7/24")
LO = iface("lo", 1, "127.0.0.1/8", "::1/128", loopback=True, multicast=False)
DOWN = iface("eth1", 6, "10.1.0.1/24", up=False)
NOMC = iface("tun0", 7, "10.2.0.1/24", multicast=False)
BARE = iface("eth2", 8)


class ListTests(unittest.TestCase):
    def test_listsLoopback(self) -> None:
        """getifaddrs through ctypes finds loopback with its address, flags and index."""
        found = {i.name: i for i in listInterfaces()}
        self.assertIn("lo", found)
        lo = found["lo"]
        self.assertTrue(lo.loopback and lo.up)
        self.assertEqual(lo.index, socket.if_nametoindex("lo"))
        self.assertIn(ipaddress.ip_interface("127.0.0.1/8"), lo.addresses)


class SelectTests(unittest.TestCase):
    def test_default(self) -> None:
        """With no names: up, multicast, addressed, not loopback — and not an interface holding a default route."""
        chosen, problems = selectInterfaces([LO, LAN, WAN, DOWN, NOMC, BARE])
        self.assertEqual([i.name for i in chosen], ["br-lan", "eth0"])
        self.assertEqual(problems, [])
        chosen, problems = selectInterfaces([LO, LAN, WAN, DOWN, NOMC, BARE], wan={"eth0"})
        self.assertEqual([i.name for i in chosen], ["br-lan"])
        self.assertEqual(problems, [])

    def test_namedWANIsUsed(self) -> None:
        """An interface the operator names is used even when it holds the default route (their explicit choice)."""
        chosen, problems = selectInterfaces([LAN, WAN], ["eth0"], wan={"eth0"})
        self.assertEqual([i.name for i in chosen], ["eth0"])
        self.assertEqual(problems, [])


# /proc/net/route and /proc/net/ipv6_route as a Linux gateway shows them.
ROUTE_V4 = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0171A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0071A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
br-lan\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
wg0\t00000000\t00000000\t0000\t0\t0\t0\t00000000\t0\t0\t0
tun0\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0
bad line
eth9\t00000000\t00000000\tZZ\t0\t0\t0\t00000000\t0\t0\t0
"""
ROUTE_V6 = """\
fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     br-lan
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000002 00000000 00000003     pppoe-wan
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       eth5
short line
"""


class DefaultRouteTests(unittest.TestCase):
    def test_ipv4(self) -> None:
        """The IPv4 default route: destination and mask 0, flag RTF_UP, not reject; other routes and junk skipped."""
        self.assertEqual(parseIPv4Routes(ROUTE_V4), {"eth0"})

    def test_ipv6(self) -> None:
        """The IPv6 default route ::/0; the unreachable ones (on lo, or flagged reject) are no way out."""
        self.assertEqual(parseIPv6Routes(ROUTE_V6), {"pppoe-wan"})

    def test_files(self) -> None:
        """Both tables are read; a missing one counts as empty."""
        v4 = self.mktemp()
        v6 = self.mktemp()
        with open(v4, "w") as f:
            f.write(ROUTE_V4)
        with open(v6, "w") as f:
            f.write(ROUTE_V6)
        self.assertEqual(defaultRouteInterfaces(v4, v6), {"eth0", "pppoe-wan"})
        self.assertEqual(defaultRouteInterfaces(v4, v6 + ".missing"), {"eth0"})
        self.assertEqual(defaultRouteInterfaces(v4 + ".missing", v6 + ".missing"), set())

    def test_named(self) -> None:
        """Named interfaces are used; each unusable one is reported with its reason."""
        chosen, problems = selectInterfaces([LO, LAN, WAN, DOWN, NOMC, BARE], ["br-lan", "eth1", "tun0", "eth2", "wlan9"])
        self.assertEqual([i.name for i in chosen], ["br-lan"])
        self.assertEqual(problems, [
            "interface eth1 is down",
            "interface tun0 does not support multicast",
            "interface eth2 has no address",
            "interface wlan9 does not exist",
        ])


class SubnetTests(unittest.TestCase):
    def test_onLink(self) -> None:
        """On-link: within a prefix of the interface, or IPv6 link-local; not elsewhere."""
        for address, expected in (
            ("192.168.1.77", True),
            ("192.168.2.1", False),
            ("fd12:3456::99", True),
            ("fd12:3457::1", False),
            ("fe80::2", True),
            ("fe80::2%br-lan", True),
            ("::ffff:192.168.1.9", True),
            ("8.8.8.8", False),
        ):
            self.assertEqual(LAN.isOnLink(address), expected, address)

    def test_localAddressFor(self) -> None:
        """The callback address offered to a peer is in its subnet and family."""
        self.assertEqual(LAN.localAddressFor("192.168.1.50"), "192.168.1.1")
        self.assertEqual(LAN.localAddressFor("fd12:3456::50"), "fd12:3456::1")
        self.assertEqual(LAN.localAddressFor("fe80::50%br-lan"), "fe80::1")
        self.assertEqual(LAN.localAddressFor("10.9.9.9"), "192.168.1.1")
        self.assertEqual(LAN.localAddressFor("2001:db8::1"), "fd12:3456::1")
        self.assertIsNone(WAN.localAddressFor("fd00::1"))

    def test_addressesOf(self) -> None:
        """Addresses by family."""
        self.assertEqual([str(a.ip) for a in LAN.addressesOf(socket.AF_INET)], ["192.168.1.1"])
        self.assertEqual(len(LAN.addressesOf(socket.AF_INET6)), 2)
