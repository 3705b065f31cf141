"""The suite's safety net (tests/_netguard.py) holds in the machine's own namespace."""

from __future__ import annotations

import socket

from twisted.internet import reactor
from twisted.internet.error import MulticastJoinError
from twisted.internet.protocol import DatagramProtocol
from twisted.trial import unittest

from tests._netguard import MulticastRefused
from tests.netns.isolation import isolationProblem


class GuardTests(unittest.TestCase):
    def setUp(self) -> None:
        if isolationProblem() is None:
            raise unittest.SkipTest("inside the private namespace everything is allowed")

    def test_joinRefused(self) -> None:
        """Twisted's joinGroup cannot join a group here."""
        port = reactor.listenMulticast(0, DatagramProtocol(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        d = port.joinGroup("239.255.255.250", "127.0.0.1")
        d = self.assertFailure(d, MulticastJoinError)  # Twisted wraps the socket error
        d.addCallback(lambda e: self.assertIn("outside their own network namespace", str(e)))
        return d

    def test_sendRefused(self) -> None:
        """A datagram to a multicast, IPv6 multicast or broadcast address is refused before it is sent."""
        for family, target in [(socket.AF_INET, ("239.255.255.250", 1900)),
                               (socket.AF_INET6, ("ff02::c", 1900, 0, 0)),
                               (socket.AF_INET, ("255.255.255.255", 9))]:
            s = socket.socket(family, socket.SOCK_DGRAM)
            self.addCleanup(s.close)
            self.assertRaises(MulticastRefused, s.sendto, b"M-SEARCH * HTTP/1.1\r\n\r\n", target)

    def test_unicastAllowed(self) -> None:
        """Unicast on loopback is untouched."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(s.close)
        s.sendto(b"x", ("127.0.0.1", 9))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
