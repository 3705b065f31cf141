"""Tests for L{proxier.lan.urlpolicy}: which device URLs may be used."""

from __future__ import annotations

import ipaddress

from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial import unittest

from proxier.lan.netif import NetworkInterface
from proxier.lan.urlpolicy import Origin, Target, URLPolicy, URLRefused, addressRefusal, formatHost

LAN = NetworkInterface(
    "br-lan", 5,
    addresses=tuple(ipaddress.ip_interface(a) for a in ("192.168.1.1/24", "fd12:3456::1/64", "fe80::1/64")),
)
FROM_DEVICE = Origin("192.168.1.20", LAN)
FROM_V6 = Origin("fe80::20", LAN)
LOOPBACK = Origin("127.0.0.1", None, loopbackMode=True)

# (address, origin, allowed?) — INTEROP.md, Security, row by row.
ADDRESS_ROWS = (
    ("192.168.1.20", FROM_DEVICE, True),       # the announcing host
    ("192.168.1.30", FROM_DEVICE, True),       # another host on the receiving subnet
    ("192.168.2.30", FROM_DEVICE, False),      # another subnet
    ("10.0.0.1", FROM_DEVICE, False),
    ("127.0.0.1", FROM_DEVICE, False),         # loopback
    ("127.9.9.9", FROM_DEVICE, False),
    ("::1", FROM_DEVICE, False),
    ("169.254.169.254", FROM_DEVICE, False),   # link-local IPv4 (cloud metadata)
    ("239.255.255.250", FROM_DEVICE, False),   # multicast
    ("ff02::c", FROM_DEVICE, False),
    ("0.0.0.0", FROM_DEVICE, False),           # unspecified
    ("::", FROM_DEVICE, False),
    ("255.255.255.255", FROM_DEVICE, False),   # broadcast
    ("192.168.1.255", FROM_DEVICE, False),     # subnet broadcast
    ("0.1.2.3", FROM_DEVICE, False),           # "this network"
    ("::ffff:127.0.0.1", FROM_DEVICE, False),  # mapped loopback
    ("::ffff:192.168.1.30", FROM_DEVICE, True),
    ("fd12:3456::20", FROM_DEVICE, True),      # ULA on the interface's prefix
    ("fd12:9999::20", FROM_DEVICE, False),
    ("fe80::20", FROM_V6, True),               # link-local: only the source itself
    ("fe80::21", FROM_V6, False),
    ("fe80::20", FROM_DEVICE, False),
    ("192.168.1.1", FROM_DEVICE, False),       # the gateway's own addresses, on any port (issue 11 item 6)
    ("fd12:3456::1", FROM_DEVICE, False),
    ("fe80::1", Origin("fe80::1", LAN), False),  # even when a packet claims to come from there
    ("192.168.1.1", Origin("192.168.1.1", LAN), False),
    ("127.0.0.1", LOOPBACK, True),             # unicast-loopback mode: loopback only
    ("::1", LOOPBACK, True),
    ("192.168.1.20", LOOPBACK, False),
    ("169.254.169.254", LOOPBACK, False),
)


def resolverOf(table: dict) -> object:
    calls = []

    def resolve(host: str) -> Deferred:
        calls.append(host)
        if host not in table:
            return fail(OSError("Name or service not known"))
        return succeed(table[host])

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


class AddressTests(unittest.TestCase):
    def test_rows(self) -> None:
        """Each address is allowed or refused as the table says, with a reason when refused."""
        for address, origin, allowed in ADDRESS_ROWS:
            reason = addressRefusal(address, origin)
            self.assertEqual(reason is None, allowed, (address, origin.source, reason))
            if reason is not None:
                ip = ipaddress.ip_address(address)
                self.assertIn(str(getattr(ip, "ipv4_mapped", None) or ip), reason)

    def test_formatHost(self) -> None:
        """Hosts in URLs: IPv6 bracketed without zone, IPv4 as is."""
        self.assertEqual(formatHost("fe80::1%eth0"), "[fe80::1]")
        self.assertEqual(formatHost("10.0.0.1"), "10.0.0.1")


class CheckTests(unittest.TestCase):
    def check(self, url: str, origin: Origin = FROM_DEVICE, policy: URLPolicy = None, **kw: object) -> object:
        policy = policy or URLPolicy(resolverOf({}))
        results: list = []
        policy.check(url, origin, **kw).addBoth(results.append)
        return results[0]

    def test_literal(self) -> None:
        """An address URL yields a Target whose Host header keeps the port."""
        t = self.check("http://192.168.1.20:49152/desc.xml?x=1#frag")
        self.assertEqual(t, Target("http://192.168.1.20:49152/desc.xml?x=1#frag",
                                   "http://192.168.1.20:49152/desc.xml?x=1", "192.168.1.20:49152",
                                   "192.168.1.20", 49152))

    def test_deviceTargetsShare(self) -> None:
        """
        A device's URLs share its address, Host header and port objects, and
        a URL naming its address and port is its own connectURL (issue 19:
        about ten targets per device).
        """
        control = self.check("http://192.168.1.20:" + str(49152) + "/control")
        events = self.check("http://192.168.1.20:" + str(49152) + "/events")
        self.assertIs(control.address, events.address)
        self.assertIs(control.hostHeader, events.hostHeader)
        self.assertIs(control.port, events.port)
        self.assertIs(control.connectURL, control.url)
        self.assertEqual(self.check("http://192.168.1.20:49152/d?q#f").connectURL, "http://192.168.1.20:49152/d?q")

    def test_defaultPortAndPath(self) -> None:
        """No port means 80 (not repeated in Host); no path means /."""
        t = self.check("http://192.168.1.20")
        self.assertEqual((t.connectURL, t.hostHeader, t.port), ("http://192.168.1.20:80/", "192.168.1.20", 80))

    def test_linkLocalV6(self) -> None:
        """A link-local source gets the receiving interface as scope; a zone in the URL is ignored."""
        t = self.check("http://[fe80::20%25eth9]:8080/d.xml", FROM_V6)
        self.assertEqual((t.address, t.scope, t.hostHeader, t.connectURL),
                         ("fe80::20", "br-lan", "[fe80::20]:8080", "http://[fe80::20]:8080/d.xml"))
        self.assertEqual(self.check("http://[fd12:3456::20]/d.xml").scope, "")

    def test_refusedURLs(self) -> None:
        """Bad schemes, user info, ports, control characters and forbidden hosts fail with URLRefused."""
        for url in (
            "https://192.168.1.20/d.xml",
            "file:///etc/passwd",
            "ftp://192.168.1.20/",
            "http://user:pw@192.168.1.20/",
            "http://192.168.1.20:0/",
            "http://192.168.1.20:99999/",
            "http:///nohost",
            "http://192.168.1.20/a b",
            "http://192.168.1.20/\r\nX: y",
            "http://bücher.lan/desc.xml",
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.9.9.9/",
            "http://" + "a" * 3000,
        ):
            result = self.check(url)
            self.assertTrue(hasattr(result, "check") and result.check(URLRefused), url)

    def test_httpsWhereAllowed(self) -> None:
        """https is accepted where the caller allows it (SECURELOCATION), with 443 as default port."""
        t = self.check("https://192.168.1.20/d.xml", schemes=("https",))
        self.assertEqual((t.scheme, t.port, t.connectURL), ("https", 443, "https://192.168.1.20:443/d.xml"))

    def test_names(self) -> None:
        """A name is resolved; the target connects to the checked address and keeps the name in Host."""
        resolve = resolverOf({"printer.lan": ["192.168.1.40"], "evil.lan": ["192.168.1.41", "127.0.0.1"],
                              "far.lan": ["10.0.0.1"], "empty.lan": []})
        policy = URLPolicy(resolve)
        t = self.check("http://printer.lan:8000/d.xml", policy=policy)
        self.assertEqual((t.connectURL, t.hostHeader, t.address),
                         ("http://192.168.1.40:8000/d.xml", "printer.lan:8000", "192.168.1.40"))
        for url in ("http://evil.lan/", "http://far.lan/", "http://empty.lan/", "http://unknown.lan/"):
            result = self.check(url, policy=policy)
            self.assertTrue(result.check(URLRefused), url)
        self.assertIn("127.0.0.1", str(self.check("http://evil.lan/", policy=policy).value))

    def test_loopbackModeNames(self) -> None:
        """In unicast-loopback mode only localhost is resolved; other names are refused unresolved."""
        resolve = resolverOf({"localhost": ["127.0.0.1", "::1"], "lan.host": ["127.0.0.1"]})
        policy = URLPolicy(resolve)
        self.assertEqual(self.check("http://localhost:9/", LOOPBACK, policy).address, "127.0.0.1")
        self.assertTrue(self.check("http://lan.host:9/", LOOPBACK, policy).check(URLRefused))
        self.assertEqual(resolve.calls, ["localhost"])

    def test_checkAddressLiteral(self) -> None:
        """The synchronous check accepts address URLs and refuses names and forbidden addresses."""
        policy = URLPolicy(resolverOf({}))
        self.assertEqual(policy.checkAddressLiteral("http://192.168.1.30/x", FROM_DEVICE).address, "192.168.1.30")
        self.assertRaises(URLRefused, policy.checkAddressLiteral, "http://host.lan/x", FROM_DEVICE)
        self.assertRaises(URLRefused, policy.checkAddressLiteral, "http://127.0.0.1/x", FROM_DEVICE)
