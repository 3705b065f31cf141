"""
Fuzz the SSDP codec (L{proxier.upnp.ssdp}): any datagram from the LAN is
either a message or an L{SSDPError}, and the numbers of a message are the
plain integers the tracker compares (issue 11: C{²} is not a BOOTID).
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.upnp import ssdp
from tests.fuzz._harness import HEADER_TOKENS, Target, assertFuzzClean

_NOW = 1_780_000_000.0
_MAX_ID = 2**31 - 1


def _number(value: object, low: int, high: int, what: str) -> None:
    if value is None:
        return
    assert type(value) is int and low <= value <= high, f"{what} {value!r} is not an integer in {low}..{high}"


def parseDatagram(data: bytes) -> None:
    """L{ssdp.parse}, then what the tracker and the responder do with the message."""
    message = ssdp.parse(data, now=_NOW)
    if isinstance(message, ssdp.Search):
        _number(message.mx, 0, 9999999999, "MX")
        _number(message.effectiveMX, 0, ssdp.MAX_MX, "effective MX")
        ssdp.parseType(message.st)
        ssdp.searchTargetMatches(message.st, ssdp.ROOT_DEVICE)
        ssdp.searchTargetMatches(message.st, "urn:schemas-upnp-org:device:ManageableDevice:2")
        return
    assert message.udn.lower().startswith("uuid:"), f"UDN {message.udn!r}"
    _number(message.maxAge, 0, 10**12, "max-age")
    for name in ("bootId", "configId", "nextBootId"):
        _number(getattr(message, name, None), 0, _MAX_ID, name)
    _number(message.searchPort, 49152, 65535, "SEARCHPORT")
    ssdp.parseType(message.nt)
    ssdp.searchTargetMatches("ssdp:all", message.nt)
    ssdp.searchTargetMatches("urn:schemas-upnp-org:device:ManageableDevice:1", message.nt)
    ssdp.splitUSN(message.usn)


def _seeds() -> list[bytes]:
    from tests.test_upnp_ssdp import GUPNP_ALIVE, MINIUPNPD_RESPONSE

    udn = "uuid:4d696e69-444c-164e-9d41-000c29f0a1b2"
    dm = "urn:schemas-upnp-org:device:ManageableDevice:2"
    return [
        GUPNP_ALIVE,
        MINIUPNPD_RESPONSE,
        ssdp.Notify(ssdp.ALIVE, dm, f"{udn}::{dm}", "http://127.0.0.1:4004/d.xml", maxAge=1800,
                    server="Linux/6.1 UPnP/1.1 proxier-sim/1", bootId=7, configId=2, searchPort=49200,
                    secureLocation="https://127.0.0.1:4443/d.xml").toBytes(),
        ssdp.Notify(ssdp.BYEBYE, udn, udn, bootId=7, configId=2,
                    announcement="AboutToReboot").toBytes(),
        ssdp.Notify(ssdp.UPDATE, ssdp.ROOT_DEVICE, f"{udn}::upnp:rootdevice", "http://[fe80::2]:80/d.xml",
                    bootId=7, configId=2, nextBootId=8, host=ssdp.hostHeader("ff02::c")).toBytes(),
        ssdp.Search(dm, mx=3, userAgent="Linux/6.1 UPnP/2.0 proxier/1").toBytes(),
        ssdp.Search("ssdp:all", mx=None, extra=(("TCPPORT.UPNP.ORG", "4004"),)).toBytes(),
        ssdp.SearchResponse(dm, f"{udn}::{dm}", "http://127.0.0.1:4004/d.xml", maxAge=100, bootId=1,
                            configId=3, date="Sun, 06 Dec 2026 09:00:00 GMT").toBytes(),
        b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
        b"USN: " + udn.encode() + b"::upnp:rootdevice\r\nLOCATION: http://127.0.0.1/d.xml\r\n"
        b"EXPIRES: Sun, 06 Dec 2026 10:00:00 GMT\r\nDATE: Sun, 06 Dec 2026 09:00:00 GMT\r\n\r\n",
    ]


TARGETS = [
    Target("ssdp", __name__, parseDatagram, (ssdp.SSDPError,), _seeds, HEADER_TOKENS),
]


class SSDPFuzzTests(unittest.TestCase):
    def test_ssdp(self) -> None:
        """
        Mutated NOTIFY, M-SEARCH and search answers parse or fail with
        L{ssdp.SSDPError}, within a second each, with integer identifiers.
        """
        assertFuzzClean(self, TARGETS[0])
