"""Tests for L{proxier.sim.diagnostics}: deterministic simulated Ping, NSLookup and Traceroute results."""

from __future__ import annotations

from lxml import etree
from twisted.trial import unittest

from proxier.sim import diagnostics as d
from proxier.upnp import xmlstring

RULES = d.DiagnosticsRules()


class PingTests(unittest.TestCase):
    def test_deterministic(self) -> None:
        """The same host gives the same result every time; different hosts usually differ."""
        a = d.ping("example.com", 4, 1000, 32, RULES)
        self.assertEqual(a, d.ping("EXAMPLE.com ", 4, 1000, 32, RULES))
        self.assertEqual((a.status, a.successCount, a.failureCount), ("Success", 4, 0))
        self.assertTrue(1 <= a.minimum <= a.average <= a.maximum <= 50)
        others = {d.ping(f"host{i}.example", 1, 1000, 32, RULES).average for i in range(20)}
        self.assertGreater(len(others), 3)

    def test_rules(self) -> None:
        """'.invalid' names do not resolve; documentation addresses never answer; configured failures fail."""
        self.assertEqual(d.ping("nowhere.invalid", 3, 1000, 32, RULES).status, "Error_CannotResolveHostName")
        silent = d.ping("192.0.2.7", 3, 1000, 32, RULES)
        self.assertEqual((silent.status, silent.successCount, silent.failureCount), ("Success", 0, 3))
        self.assertEqual(d.ping("2001:db8::1", 2, 1000, 32, RULES).failureCount, 2)
        rules = d.DiagnosticsRules(failures={"bad.example": "Error_Internal"})
        self.assertEqual(d.ping("bad.example", 1, 1000, 32, rules).status, "Error_Internal")

    def test_limits(self) -> None:
        """Zero means the default; beyond the limits the test ends in Error_Other saying why."""
        self.assertEqual(d.ping("a.example", 0, 0, 32, RULES).successCount, 1)
        over = d.ping("a.example", d.MAX_REPETITIONS + 1, 1000, 32, RULES)
        self.assertEqual(over.status, "Error_Other")
        self.assertIn("NumberOfRepetitions", over.additionalInfo)
        self.assertIn("Timeout", d.ping("a.example", 1, d.MAX_TIMEOUT_MS + 1, 32, RULES).additionalInfo)


class NSLookupTests(unittest.TestCase):
    def test_result(self) -> None:
        """A lookup answers a bms:NSLookupResult document with one Result per repetition."""
        r = d.nslookup("www.example.com", "", 2, 1000, RULES)
        self.assertEqual((r.status, r.successCount), ("Success", 2))
        root = xmlstring.decode(r.result)
        self.assertEqual(etree.QName(root).namespace, d.BMS_NS)
        results = root.findall("Result")
        self.assertEqual(len(results), 2)
        self.assertEqual(results[0].findtext("Status"), "Success")
        self.assertEqual(results[0].findtext("HostNameReturned"), "www.example.com")
        self.assertEqual(results[0].findtext("IPAddresses").split(","), d.resolve("www.example.com"))
        self.assertEqual(results[0].findtext("DNSServerIP"), "192.168.1.1")

    def test_failures(self) -> None:
        """An unknown name fails per result; an unreachable DNS server fails the test; limits end it."""
        r = d.nslookup("gone.invalid", "10.0.0.53", 1, 1000, RULES)
        self.assertEqual((r.status, r.successCount), ("Success", 0))
        self.assertEqual(xmlstring.decode(r.result).findtext("Result/Status"), "Error_HostNameNotResolved")
        self.assertEqual(d.nslookup("a.example", "dns.invalid", 1, 1000, RULES).status, "Error_DNSServerNotResolved")
        self.assertEqual(d.nslookup("a.example", "198.51.100.53", 1, 1000, RULES).status, "Error_DNSServerNotResolved")
        self.assertEqual(d.nslookup("a.example", "", 500, 1000, RULES).status, "Error_Other")


class TracerouteTests(unittest.TestCase):
    def test_path(self) -> None:
        """A traceroute lists 3 to 8 hops ending at the host's address."""
        r = d.traceroute("www.example.com", 1000, 40, 30, RULES)
        hops = r.hopHosts.split(",")
        self.assertEqual(r.status, "Success")
        self.assertTrue(3 <= len(hops) <= 8)
        self.assertEqual(hops[-1], d.resolve("www.example.com")[0])
        self.assertGreater(r.responseTime, 0)

    def test_failures(self) -> None:
        """Too few hops, a silent host, an unknown name, a limit: the BMS:2 statuses."""
        self.assertEqual(d.traceroute("www.example.com", 1000, 40, 1, RULES).status, "Error_MaxHopCountExceeded")
        silent = d.traceroute("203.0.113.9", 1000, 40, 30, RULES)
        self.assertEqual(silent.status, "Error_MaxHopCountExceeded")
        self.assertNotIn("203.0.113.9", silent.hopHosts)
        self.assertEqual(d.traceroute("x.invalid", 1000, 40, 30, RULES).status, "Error_CannotResolveHostName")
        self.assertEqual(d.traceroute("a.example", 1000, 40, 65, RULES).status, "Error_Other")

    def test_duration(self) -> None:
        """A test lasts a fraction of a second per repetition or four hops."""
        rules = d.DiagnosticsRules(secondsPerStep=0.5)
        self.assertEqual(d.testDuration("Ping", {"NumberOfRepetitions": 4}, rules), 2.0)
        self.assertEqual(d.testDuration("NSLookup", {"NumberOfRepetitions": 0}, rules), 0.5)
        self.assertEqual(d.testDuration("Traceroute", {"MaxHopCount": 8}, rules), 1.5)
