"""Tests for L{proxier.upnp.netif}: the host's interfaces and their subnets."""

from __future__ import annotations

import ipaddress
import socket

from twisted.trial import unittest

from proxier.upnp.netif import NetworkInterface, listInterfaces, selectInterfaces


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
        """With no names: up, multicast, addressed, not loopback — the WAN included, as configured nothing else."""
        chosen, problems = selectInterfaces([LO, LAN, WAN, DOWN, NOMC, BARE])
        self.assertEqual([i.name for i in chosen], ["br-lan", "eth0"])
        self.assertEqual(problems, [])

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
