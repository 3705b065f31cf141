# -*- test-case-name: tests.test_printer_snmpprobe -*-
"""
Tests for L{proxier.printer.snmpprobe}: the probe's rate, addresses,
community order and printer test against in-memory agents
(L{proxier.sim.snmpagent}, through L{tests.test_printer_snmpclient}'s
transport) on a L{task.Clock}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.trial import unittest

from proxier.printer import mib, snmp
from proxier.printer.settings import snmpTargets
from proxier.printer.snmp import Value
from proxier.printer.snmpclient import SNMPClient, SNMPProtocol
from proxier.printer.snmpprobe import SNMPProbe, addresses, isPrinter
from proxier.sim.snmpagent import SNMPAgent
from tests.test_printer_snmpclient import FakeTransport


def agentValues(deviceType: str = "hrDevicePrinter") -> dict[tuple[int, ...], Value]:
    return {
        mib.OID["sysObjectID"] + (0,): Value(snmp.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 2435)),
        mib.OID["hrDeviceType"] + (1,): Value(snmp.OBJECT_IDENTIFIER, mib.OID["hrDeviceProcessor"]),
        mib.OID["hrDeviceType"] + (2,): Value(snmp.OBJECT_IDENTIFIER, mib.OID[deviceType]),
        mib.OID["hrDeviceType"][:-1] + (3, 1): Value(snmp.OCTET_STRING, b"after the column"),
    }


class AddressTests(unittest.TestCase):
    def test_noNetworkNorBroadcast(self) -> None:
        """A range's network and broadcast addresses are never probed; a single address is itself."""
        self.assertEqual(list(addresses(["192.0.2.0/29", "192.0.2.9/32", "192.0.2.1"])),
                         [f"192.0.2.{i}" for i in range(1, 7)] + ["192.0.2.9"])
        self.assertEqual(list(addresses(["2001:db8::/126"])), ["2001:db8::1", "2001:db8::2", "2001:db8::3"])

    def test_cap(self) -> None:
        """More than a /22 in all is refused (naming the limit); a /22 is taken."""
        self.assertEqual(snmpTargets("10.0.0.0/22"), ("10.0.0.0/22",))
        for value in ("10.0.0.0/21", "10.0.0.0/22 10.1.0.0/32", "2001:db8::/64"):
            self.assertRaisesRegex(ValueError, "more than 1024 addresses", snmpTargets, value)
        for value in ("224.0.0.1", "ff02::1", "255.255.255.255", "0.0.0.0"):
            self.assertRaisesRegex(ValueError, "unicast addresses only", snmpTargets, value)


class ProbeTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.protocol = SNMPProtocol(self.clock, firstRequestId=1000)
        self.transport = FakeTransport(self.clock, self.protocol)
        self.protocol.makeConnection(self.transport)  # type: ignore[arg-type]
        self.events: list[tuple[Any, ...]] = []

    def agent(self, host: str, **kwargs: Any) -> SNMPAgent:
        deviceType = kwargs.pop("deviceType", "hrDevicePrinter")
        agent = SNMPAgent(agentValues(deviceType), **kwargs)
        self.transport.agents[(host, 161)] = agent
        return agent

    def probe(self, targets: list[str], communities: tuple[bytes, ...] = (b"public",), **kwargs: Any) -> SNMPProbe:
        def ask(address: str, community: bytes) -> Any:
            return isPrinter(SNMPClient(self.protocol, address, community=community, timeout=1.0, retries=0))

        probe = SNMPProbe(self.clock, ask, communities, targets=targets,
                          found=lambda a, c: self.events.append(("found", a, c)),
                          lost=lambda a: self.events.append(("lost", a)), **kwargs)
        probe.start()
        self.addCleanup(probe.stop)
        return probe

    def sentTo(self) -> list[str]:
        return [address for _, (address, _) in self.transport.sent]

    def test_rate(self) -> None:
        """At most rate probes start each second; every address is probed once a round."""
        self.probe(["192.0.2.0/27"], rate=10, interval=600)  # 30 addresses, none answering
        starts: dict[str, float] = {}
        for _ in range(400):
            for address in self.sentTo():
                starts.setdefault(address, self.clock.seconds())
            self.clock.advance(0.01)
        times = sorted(starts.values())
        self.assertEqual(len(times), 30)
        self.assertTrue(all(b - a >= 0.1 - 1e-9 for a, b in zip(times, times[1:])), times)
        self.assertNotIn("192.0.2.0", starts)
        self.assertNotIn("192.0.2.31", starts)

    def test_printerOrNot(self) -> None:
        """An agent whose hrDeviceTable lists a printer is found; another answering agent is not."""
        self.agent("192.0.2.1")
        self.agent("192.0.2.2", deviceType="hrDeviceNetwork")
        self.probe(["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        self.clock.pump([0.1] * 50)
        self.assertEqual(self.events, [("found", "192.0.2.1", b"public")])

    def test_communityOrder(self) -> None:
        """The communities are tried in order; the first one answered is the printer's."""
        agent = self.agent("192.0.2.1", community=b"second", writeCommunity=b"w")
        self.probe(["192.0.2.1"], (b"first", b"second", b"third"))
        self.clock.pump([0.1] * 50)
        self.assertEqual(self.events, [("found", "192.0.2.1", b"second")])
        self.assertEqual([r.community for r in agent.requests][:2], [b"first", b"second"])
        self.assertNotIn(b"third", [r.community for r in agent.requests])

    def test_lost(self) -> None:
        """A printer found that no longer answers at the next round is lost; back later, found again."""
        self.agent("192.0.2.1")
        probe = self.probe(["192.0.2.1"], interval=60)
        self.clock.pump([0.5] * 10)
        self.assertEqual(self.events, [("found", "192.0.2.1", b"public")])
        self.transport.silent = True
        self.clock.pump([1] * 60)
        self.assertEqual(self.events[1:], [("lost", "192.0.2.1")])
        self.assertEqual(probe.printers, {})
        self.transport.silent = False
        self.clock.pump([1] * 60)
        self.assertEqual(self.events[2:], [("found", "192.0.2.1", b"public")])

    def test_addedAddress(self) -> None:
        """A DNS-SD candidate's address is probed with the communities; discarded, its printer is lost."""
        self.agent("192.0.2.5")
        probe = self.probe([])
        probe.add("192.0.2.5")
        self.clock.pump([0.1] * 20)
        self.assertEqual(self.events, [("found", "192.0.2.5", b"public")])
        probe.discard("192.0.2.5")
        self.assertEqual(self.events[1:], [("lost", "192.0.2.5")])
