"""Tests for L{proxier.printer.discovery}: DNS-SD service instances as printer candidates (sans-IO)."""

from __future__ import annotations

from dataclasses import replace

from twisted.trial import unittest

from proxier.lan.mdns import APPEARED, CHANGED, GONE, InstanceEvent, ServiceInstance, parseTXT
from proxier.printer import discovery
from proxier.printer.discovery import (IPP, IPPS, LPD, PDL_DATASTREAM, CandidateRefused, CandidateTracker,
                                       PrinterCandidate, candidateOf)

from ._helpers import LogCapture
from .test_lan_urlpolicy import LAN

UUID = "6a7e1b2c-0d3f-4e5a-9b8c-7d6e5f4a3b2c"


def instance(serviceType: str = IPP, *txt: bytes, port: int = 631, addresses: tuple = ("192.168.1.20",),
             name: str = "Office", source: str = "192.168.1.20") -> ServiceInstance:
    strings = txt or (b"rp=ipp/print", b"UUID=" + UUID.upper().encode(), b"adminurl=http://printer.local/",
                      b"note=Room 7", b"ty=ExampleCo LaserJet 4000")
    return ServiceInstance(interface="br-lan", name=f"{name}.{serviceType}", instance=name, serviceType=serviceType,
                           host="printer.local", port=port, txt=parseTXT(strings), addresses=addresses,
                           source=source)


def candidate(i: ServiceInstance) -> PrinterCandidate:
    return candidateOf(i, LAN)


def refused(i: ServiceInstance) -> CandidateRefused:
    try:
        candidateOf(i, LAN)
    except CandidateRefused as e:
        return e
    raise AssertionError(f"{i} is a candidate")


class CandidateTests(unittest.TestCase):
    def test_ipp(self) -> None:
        """An _ipp._tcp printer: its URL from address, port and rp; UUID as printer-uuid; adminurl, note, ty."""
        self.assertEqual(candidate(instance()), PrinterCandidate(
            key="br-lan/office._ipp._tcp.local", name="Office", serviceType=IPP, interface="br-lan",
            host="printer.local", port=631, address="192.168.1.20", ippURL="ipp://192.168.1.20:631/ipp/print",
            snmpAddress=None, uuid=f"urn:uuid:{UUID}", adminURL="http://printer.local/", location="Room 7",
            makeAndModel="ExampleCo LaserJet 4000", discoveryProtocol="X_000000_DNS-SD"))

    def test_eachType(self) -> None:
        """Row by row: the IPP types give an ipp/ipps URL, the raw and LPD types an SNMP probe address."""
        rows = (
            (IPP, "ipp://192.168.1.20:631/ipp/print", None),
            (IPPS, "ipps://192.168.1.20:631/ipp/print", None),
            (PDL_DATASTREAM, None, "192.168.1.20"),
            (LPD, None, "192.168.1.20"),
        )
        self.assertEqual([t for t, _, _ in rows], list(discovery.SERVICE_TYPES))
        for serviceType, url, snmp in rows:
            c = candidate(instance(serviceType))
            self.assertEqual((c.ippURL, c.snmpAddress, c.serviceType, c.uuid), (url, snmp, serviceType,
                                                                                 f"urn:uuid:{UUID}"), serviceType)

    def test_resourcePath(self) -> None:
        """rp: absent is the root, slashes trimmed, characters escaped; a dot segment, query or control is refused."""
        rows = (
            ((), "ipp://192.168.1.20:631/"),
            ((b"rp=",), "ipp://192.168.1.20:631/"),
            ((b"rp=/ipp/print/",), "ipp://192.168.1.20:631/ipp/print"),
            ((b"rp=printers/Caf\xc3\xa9",), "ipp://192.168.1.20:631/printers/Caf%C3%A9"),
            ((b"rp=ipp/print", b"rp=other"), "ipp://192.168.1.20:631/ipp/print"),
        )
        for txt, url in rows:
            self.assertEqual(candidate(instance(IPP, *(txt or (b"ty=x",)))).ippURL, url, txt)
        for bad in (b"rp=../admin", b"rp=a/./b", b"rp=a?b", b"rp=a#b", b"rp=a b", b"rp=a\x01", b"rp=a%2e",
                    b"rp=" + b"x" * 256):
            refused(instance(IPP, bad))

    def test_addresses(self) -> None:
        """
        The URL policy against the responder and the interface: IPv4 first,
        then routable IPv6 on the subnet, then the responder's own
        link-local with its zone; never loopback, multicast, 169.254, the
        gateway's own address, the broadcast, off the subnet, or another
        host's link-local.
        """
        rows = (
            (("fd12:3456::20", "192.168.1.20"), "192.168.1.20", "192.168.1.20", "ipp://192.168.1.20:631/ipp/print"),
            (("fe80::20", "fd12:3456::20"), "192.168.1.20", "fd12:3456::20", "ipp://[fd12:3456::20]:631/ipp/print"),
            (("fe80::20",), "fe80::20", "fe80::20%br-lan", "ipp://[fe80::20%25br-lan]:631/ipp/print"),
            (("127.0.0.1", "169.254.1.1", "224.0.0.1", "0.0.0.0", "::1", "10.0.0.9", "192.168.1.1", "192.168.1.255",
              "192.168.1.30"), "192.168.1.20", "192.168.1.30", "ipp://192.168.1.30:631/ipp/print"),
            (("8.8.8.8",), "8.8.8.8", "8.8.8.8", "ipp://8.8.8.8:631/ipp/print"),  # the responder itself
        )
        for addresses, source, address, url in rows:
            c = candidate(instance(IPP, b"rp=ipp/print", addresses=addresses, source=source))
            self.assertEqual((c.address, c.ippURL), (address, url), addresses)
        for addresses in ((), ("127.0.0.1",), ("192.168.1.1",), ("8.8.8.8",), ("fe80::99",), ("not an address",)):
            self.assertIn("no usable address", str(refused(instance(IPP, b"rp=x", addresses=addresses))))

    def test_portZeroAndOtherTypes(self) -> None:
        """Port 0 (Bonjour's placeholder) and a type that is not a printer's give no candidate."""
        for serviceType in discovery.SERVICE_TYPES:
            refused(instance(serviceType, port=0))
        refused(instance("_http._tcp.local"))

    def test_uuid(self) -> None:
        """UUID: bare or urn:uuid:, any case, becomes urn:uuid:<lower>; anything else is no UUID."""
        for value, expected in ((UUID.upper(), f"urn:uuid:{UUID}"), (f"urn:uuid:{UUID}", f"urn:uuid:{UUID}"),
                                ("not-a-uuid", None), ("", None)):
            c = candidate(instance(IPP, b"rp=x", b"UUID=" + value.encode()))
            self.assertEqual(c.uuid, expected, value)
        self.assertIsNone(candidate(instance(IPP, b"rp=x")).uuid)

    def test_adminURL(self) -> None:
        """adminurl: an http(s) URL with a host and no credentials, else nothing."""
        for value, expected in (("https://10.0.0.9/ews", "https://10.0.0.9/ews"),
                                ("http://printer.local:8080/", "http://printer.local:8080/"),
                                ("javascript:alert(1)", None), ("ftp://10.0.0.9/", None),
                                ("http://user:pw@10.0.0.9/", None), ("http:///nohost", None),
                                ("http://10.0.0.9:99999/", None), ("http://a b/", None)):
            c = candidate(instance(IPP, b"rp=x", b"adminurl=" + value.encode()))
            self.assertEqual(c.adminURL, expected, value)

    def test_texts(self) -> None:
        """note and ty: UTF-8, control characters removed, cut at 255, empty is none; a boolean key is none."""
        c = candidate(instance(IPP, b"note=Salle 3\x00\x1b[2J \xc3\xa9", b"ty=" + b"M" * 300))
        self.assertEqual((c.location, c.makeAndModel), ("Salle 3[2J \u00e9", "M" * 255))
        c = candidate(instance(IPP, b"note=", b"ty"))
        self.assertEqual((c.location, c.makeAndModel), (None, None))

    def test_key(self) -> None:
        """The key names the interface and the instance, in lower case: one per advertisement."""
        self.assertEqual(candidate(instance(IPPS, name="Lab B")).key, "br-lan/lab b._ipps._tcp.local")


class TrackerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.calls: list = []
        self.logs = LogCapture(self)
        self.interfaces = {"br-lan": LAN}
        self.tracker = CandidateTracker(lambda c: self.calls.append(("found", c)),
                                        lambda c: self.calls.append(("changed", c)),
                                        lambda c: self.calls.append(("lost", c)), self.interfaces.get)

    def test_lifecycle(self) -> None:
        """Appeared is found; a change in what the candidate says is changed; gone is lost."""
        first = instance()
        self.tracker(InstanceEvent(APPEARED, first))
        self.tracker(InstanceEvent(CHANGED, replace(first, txt=parseTXT([b"rp=ipp/print", b"note=Room 8"]))))
        self.tracker(InstanceEvent(GONE, first))
        self.assertEqual([(kind, c.location) for kind, c in self.calls],
                         [("found", "Room 7"), ("changed", "Room 8"), ("lost", "Room 8")])
        self.assertEqual(self.tracker.candidates, {})

    def test_changeThatChangesNothing(self) -> None:
        """An instance change the candidate does not show (a TXT key not read) is not told."""
        first = instance()
        self.tracker(InstanceEvent(APPEARED, first))
        self.tracker(InstanceEvent(CHANGED, replace(first, txt=first.txt + (("pdl", b"application/pdf"),))))
        self.assertEqual([kind for kind, _ in self.calls], ["found"])

    def test_refusedInstance(self) -> None:
        """An instance that is no candidate is logged, not found; one that stops being one is lost."""
        self.tracker(InstanceEvent(APPEARED, instance(port=0)))
        self.assertEqual(self.calls, [])
        self.assertEqual(len([e for e in self.logs.events if "no printer candidate" in e.get("log_format", "")]), 1)
        self.tracker(InstanceEvent(CHANGED, instance()))
        self.tracker(InstanceEvent(CHANGED, instance(port=0)))
        self.assertEqual([kind for kind, _ in self.calls], ["found", "lost"])

    def test_interfaceNoLongerBrowsed(self) -> None:
        """An instance heard on an interface no longer browsed on is no candidate (its policy cannot be checked)."""
        self.tracker(InstanceEvent(APPEARED, instance()))
        del self.interfaces["br-lan"]
        self.tracker(InstanceEvent(CHANGED, instance(IPP, b"rp=ipp/print", b"note=x")))
        self.assertEqual([kind for kind, _ in self.calls], ["found", "lost"])

    def test_goneUnknown(self) -> None:
        """Gone for an instance never found tells nothing."""
        self.tracker(InstanceEvent(GONE, instance()))
        self.assertEqual(self.calls, [])
