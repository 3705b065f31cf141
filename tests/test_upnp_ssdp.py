"""Tests for L{proxier.upnp.ssdp}: the SSDP codec, both directions."""

from __future__ import annotations

import email.utils

from twisted.trial import unittest

from proxier.upnp import ssdp
from proxier.upnp.ssdp import (
    ALIVE,
    DEFAULT_MAX_AGE,
    BYEBYE,
    UPDATE,
    Notify,
    Search,
    SearchResponse,
    SSDPError,
    UPnPType,
    parse,
    parseCacheControl,
    parseType,
    searchTargetMatches,
    splitUSN,
)

UDN = "uuid:4d696e69-444c-164e-9d41-000c29f0a1b2"
CMS2 = "urn:schemas-upnp-org:service:ConfigurationManagement:2"

# A GUPnP 1.6 alive, as captured (header order and case as sent).
GUPNP_ALIVE = (
    b"NOTIFY * HTTP/1.1\r\n"
    b"Host: 239.255.255.250:1900\r\n"
    b"Cache-Control: max-age=1800\r\n"
    b"Location: http://10.251.0.2:41597/desc.xml\r\n"
    b"Server: Linux/6.1 UPnP/1.1 GUPnP/1.6.3\r\n"
    b"NTS: ssdp:alive\r\n"
    b"NT: " + CMS2.encode() + b"\r\n"
    b"USN: " + UDN.encode() + b"::" + CMS2.encode() + b"\r\n"
    b"BOOTID.UPNP.ORG: 7\r\n"
    b"CONFIGID.UPNP.ORG: 2\r\n"
    b"\r\n"
)

MINIUPNPD_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"CACHE-CONTROL: max-age=120\r\n"
    b"ST: urn:schemas-upnp-org:service:DeviceProtection:1\r\n"
    b"USN: uuid:9f0865b3-f5da-4ad5-85b7-7404637fdf37::urn:schemas-upnp-org:service:DeviceProtection:1\r\n"
    b"EXT:\r\n"
    b"SERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\n"
    b"LOCATION: http://10.251.1.2:5000/rootDesc.xml\r\n"
    b"OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"
    b"01-NLS: 1\r\n"
    b"BOOTID.UPNP.ORG: 1\r\n"
    b"CONFIGID.UPNP.ORG: 1337\r\n"
    b"\r\n"
)


class NotifyParseTests(unittest.TestCase):
    def test_alive(self) -> None:
        """A real alive parses into every field it carries."""
        m = parse(GUPNP_ALIVE)
        self.assertIsInstance(m, Notify)
        self.assertEqual(m.nts, ALIVE)
        self.assertEqual(m.nt, CMS2)
        self.assertEqual(m.usn, f"{UDN}::{CMS2}")
        self.assertEqual(m.udn, UDN)
        self.assertEqual(m.location, "http://10.251.0.2:41597/desc.xml")
        self.assertEqual(m.maxAge, 1800)
        self.assertEqual(m.maxAgeSource, "cache-control")
        self.assertEqual((m.bootId, m.configId, m.nextBootId), (7, 2, None))
        self.assertEqual(m.server, "Linux/6.1 UPnP/1.1 GUPnP/1.6.3")
        self.assertEqual(m.host, "239.255.255.250:1900")

    def test_byebyeWithAnnouncement(self) -> None:
        """A byebye needs no LOCATION and carries the UPnP DM announcement."""
        data = (
            b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n"
            b"NTS: ssdp:byebye\r\nUSN: " + UDN.encode() + b"::upnp:rootdevice\r\n"
            b"BOOTID.UPNP.ORG: 7\r\nCONFIGID.UPNP.ORG: 2\r\n"
            b"ANNOUNCEMENT.DM.UPNP.ORG: AboutToReboot\r\n\r\n"
        )
        m = parse(data)
        self.assertEqual((m.nts, m.location, m.maxAge), (BYEBYE, "", None))
        self.assertEqual(m.announcement, ssdp.ABOUT_TO_REBOOT)

    def test_update(self) -> None:
        """An ssdp:update carries the next BOOTID."""
        data = (
            b"NOTIFY * HTTP/1.1\r\nHOST: [FF02::C]:1900\r\nLOCATION: http://[fe80::2]:80/d.xml\r\n"
            b"NT: " + UDN.encode() + b"\r\nNTS: ssdp:update\r\nUSN: " + UDN.encode() + b"\r\n"
            b"BOOTID.UPNP.ORG: 7\r\nCONFIGID.UPNP.ORG: 2\r\nNEXTBOOTID.UPNP.ORG: 8\r\n"
            b"SEARCHPORT.UPNP.ORG: 49200\r\n\r\n"
        )
        m = parse(data)
        self.assertEqual((m.nts, m.bootId, m.nextBootId, m.searchPort), (UPDATE, 7, 8, 49200))
        self.assertEqual(m.host, "[FF02::C]:1900")

    def test_secureLocation(self) -> None:
        """SECURELOCATION.UPNP.ORG is read (DeviceProtection devices)."""
        m = parse(GUPNP_ALIVE.replace(b"\r\n\r\n", b"\r\nSECURELOCATION.UPNP.ORG: https://10.251.0.2:443/d.xml\r\n\r\n"))
        self.assertEqual(m.secureLocation, "https://10.251.0.2:443/d.xml")

    def test_http10AndHeaderCase(self) -> None:
        """HTTP/1.0, a lower-case method and header names in any case are accepted."""
        data = GUPNP_ALIVE.replace(b"NOTIFY * HTTP/1.1", b"notify * HTTP/1.0")
        data = data.replace(b"NTS:", b"nts:").replace(b"Location:", b"lOcAtIoN:").replace(b"USN:", b"usn  :")
        m = parse(data)
        self.assertEqual((m.nts, m.location, m.udn), (ALIVE, "http://10.251.0.2:41597/desc.xml", UDN))

    def test_bareLineFeeds(self) -> None:
        """Lines ending in a bare LF parse like CRLF lines."""
        m = parse(GUPNP_ALIVE.replace(b"\r\n", b"\n"))
        self.assertEqual((m.nts, m.bootId), (ALIVE, 7))

    def test_trailingGarbage(self) -> None:
        """Bytes after the header block, trailing NULs and junk lines are ignored."""
        data = GUPNP_ALIVE + b"\x01\x02garbage\r\nNTS: ssdp:byebye\r\n" + b"\x00" * 20
        data = data.replace(b"BOOTID", b"this line has no colon\r\nBOOTID", 1)
        m = parse(data)
        self.assertEqual((m.nts, m.bootId), (ALIVE, 7))
        self.assertEqual(parse(GUPNP_ALIVE.rstrip(b"\r\n") + b"\r\n\x00\x00").nts, ALIVE)

    def test_noBlankLine(self) -> None:
        """A datagram that never ends its header block still parses."""
        self.assertEqual(parse(GUPNP_ALIVE.rstrip(b"\r\n")).configId, 2)

    def test_firstHeaderWins(self) -> None:
        """A repeated known header keeps its first value."""
        data = GUPNP_ALIVE.replace(b"BOOTID.UPNP.ORG: 7\r\n", b"BOOTID.UPNP.ORG: 7\r\nBOOTID.UPNP.ORG: 9\r\n")
        self.assertEqual(parse(data).bootId, 7)

    def test_folding(self) -> None:
        """An obsolete folded continuation line is joined to its header."""
        data = GUPNP_ALIVE.replace(b"Server: Linux/6.1 UPnP/1.1", b"Server: Linux/6.1\r\n UPnP/1.1")
        self.assertEqual(parse(data).server, "Linux/6.1 UPnP/1.1 GUPnP/1.6.3")

    def test_unknownHeadersKept(self) -> None:
        """Headers the codec does not know are kept, in order, with their case."""
        m = parse(MINIUPNPD_RESPONSE)
        self.assertEqual(m.extra, (("OPT", '"http://schemas.upnp.org/upnp/1/0/"; ns=01'), ("01-NLS", "1")))

    def test_malformedIds(self) -> None:
        """BOOTID/CONFIGID/SEARCHPORT out of range or not numbers read as absent."""
        for bad in (b"-1", b"x", b"2147483648", b"99999999999", b""):
            data = GUPNP_ALIVE.replace(b"BOOTID.UPNP.ORG: 7", b"BOOTID.UPNP.ORG: " + bad)
            self.assertIsNone(parse(data).bootId, bad)
        for bad in (b"1900", b"70000", b"abc"):
            data = GUPNP_ALIVE.replace(b"\r\n\r\n", b"\r\nSEARCHPORT.UPNP.ORG: " + bad + b"\r\n\r\n")
            self.assertIsNone(parse(data).searchPort, bad)
        self.assertEqual(parse(GUPNP_ALIVE.replace(b"BOOTID.UPNP.ORG: 7", b"BOOTID.UPNP.ORG: 2147483647")).bootId, 2**31 - 1)

    def test_unicodeDigitsInNumbers(self) -> None:
        """
        BOOTID, CONFIGID, NEXTBOOTID and SEARCHPORT of Unicode digits (which
        isdigit() took and int() refused: a ValueError out of parse) are an
        SSDPError: the packet is dropped, its reason logged by the socket.
        """
        for name in (b"BOOTID.UPNP.ORG", b"CONFIGID.UPNP.ORG", b"NEXTBOOTID.UPNP.ORG", b"SEARCHPORT.UPNP.ORG"):
            for bad in ("①", "²", "١٢", "５００００"):
                lines = [line for line in GUPNP_ALIVE.split(b"\r\n") if not line.startswith(name + b":")]
                data = b"\r\n".join(lines).replace(b"\r\n\r\n", b"\r\n" + name + b": " + bad.encode() + b"\r\n\r\n")
                e = self.assertRaises(SSDPError, parse, data)
                self.assertIn(name.decode(), str(e))
        # A Latin-1 superscript arrives as U+FFFD: not ASCII either.
        self.assertRaises(SSDPError, parse, GUPNP_ALIVE.replace(b"BOOTID.UPNP.ORG: 7", b"BOOTID.UPNP.ORG: \xb2"))

    def test_unicodeDigitsElsewhere(self) -> None:
        """An MX of Unicode digits is refused; a type version or max-age of them is no number."""
        base = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\n"
        for bad in ("²", "①", "٣"):
            self.assertRaises(SSDPError, parse, base + b"MX: " + bad.encode() + b"\r\n\r\n")
            self.assertIsNone(parseType("urn:schemas-upnp-org:service:ConnectionManager:" + bad))
            self.assertIsNone(parseCacheControl("max-age=" + bad))
        self.assertEqual(parseCacheControl("max-age=1800"), 1800)

    def test_expiresOverflow(self) -> None:
        """An EXPIRES whose fields overflow (OverflowError before) is no date: the default max-age."""
        data = GUPNP_ALIVE.replace(b"CACHE-CONTROL", b"X-CC").replace(
            b"\r\n\r\n", b"\r\nEXPIRES: Mon, 01 Jan 99999999999999999999 00:00:00 GMT\r\n\r\n")
        self.assertEqual(parse(data, now=1_700_000_000).maxAge, DEFAULT_MAX_AGE)

    def test_rejected(self) -> None:
        """Messages missing what they cannot do without are SSDPError."""
        cases = {
            "no NTS": GUPNP_ALIVE.replace(b"NTS: ssdp:alive\r\n", b""),
            "bad NTS": GUPNP_ALIVE.replace(b"ssdp:alive", b"ssdp:hello"),
            "no NT": GUPNP_ALIVE.replace(b"NT: " + CMS2.encode() + b"\r\n", b""),
            "no USN": GUPNP_ALIVE.replace(b"USN:", b"XUSN:"),
            "USN not uuid": GUPNP_ALIVE.replace(b"USN: uuid:", b"USN: "),
            "USN empty uuid": GUPNP_ALIVE.replace(b"USN: " + UDN.encode(), b"USN: uuid:"),
            "alive without LOCATION": GUPNP_ALIVE.replace(b"Location:", b"X-Location:"),
            "unknown method": GUPNP_ALIVE.replace(b"NOTIFY *", b"SUBSCRIBE *"),
            "not HTTP": GUPNP_ALIVE.replace(b"HTTP/1.1", b"FTP/1.1", 1),
            "no star": GUPNP_ALIVE.replace(b"NOTIFY *", b"NOTIFY /"),
            "empty": b"",
            "blank": b"\r\n\r\n",
            "NULs": b"\x00" * 100,
            "error response": b"HTTP/1.1 404 Not Found\r\n\r\n",
        }
        for what, data in cases.items():
            self.assertRaises(SSDPError, parse, data)

    def test_sizeCaps(self) -> None:
        """An oversized datagram or one with too many header lines is refused."""
        big = GUPNP_ALIVE.replace(b"\r\n\r\n", b"\r\nX-Pad: " + b"a" * ssdp.MAX_DATAGRAM_BYTES + b"\r\n\r\n")
        self.assertIn("cap", str(self.assertRaises(SSDPError, parse, big)))
        many = GUPNP_ALIVE.replace(b"\r\n\r\n", b"\r\n" + b"X-A: 1\r\n" * (ssdp.MAX_HEADER_LINES + 1) + b"\r\n")
        self.assertRaises(SSDPError, parse, many)
        longUSN = GUPNP_ALIVE.replace(b"USN: uuid:", b"USN: uuid:" + b"a" * 600)
        self.assertRaises(SSDPError, parse, longUSN)

    def test_invalidUTF8(self) -> None:
        """Bytes that are not UTF-8 do not crash the parser."""
        m = parse(GUPNP_ALIVE.replace(b"GUPnP/1.6.3", b"\xff\xfe\xc3"))
        self.assertIn("\ufffd", m.server)


# CACHE-CONTROL values seen in the field → max-age (INTEROP.md, SSDP).
CACHE_CONTROL_ROWS = (
    ("max-age=1800", 1800),
    ("max-age = 1800", 1800),
    ("MAX-AGE=60", 60),
    ('max-age="300"', 300),
    ("no-cache, max-age=900", 900),
    ('no-cache="Ext", max-age = 5000', 5000),
    ("max-age=120, must-revalidate", 120),
    ("public;max-age=66", 66),
    ("no-cache", None),
    ("s-max-age=10", None),
    ("max-age=", None),
    ("max-age=abc", None),
)


class MaxAgeTests(unittest.TestCase):
    def test_cacheControlRows(self) -> None:
        """Every CACHE-CONTROL form in the table gives its max-age."""
        for value, expected in CACHE_CONTROL_ROWS:
            self.assertEqual(parseCacheControl(value), expected, value)

    def test_cacheControlInMessages(self) -> None:
        """Each table row inside a NOTIFY resolves, falling back to the default."""
        for value, expected in CACHE_CONTROL_ROWS:
            m = parse(GUPNP_ALIVE.replace(b"max-age=1800", value.encode()))
            self.assertEqual(m.maxAge, expected if expected is not None else ssdp.DEFAULT_MAX_AGE, value)

    def test_expiresWithDate(self) -> None:
        """Without CACHE-CONTROL, EXPIRES minus DATE is the max-age, whatever our clock says."""
        data = GUPNP_ALIVE.replace(
            b"Cache-Control: max-age=1800\r\n",
            b"Expires: Thu, 01 Jan 1970 01:00:00 GMT\r\nDate: Thu, 01 Jan 1970 00:50:00 GMT\r\n",
        )
        m = parse(data, now=10**9)
        self.assertEqual((m.maxAge, m.maxAgeSource), (600, "expires"))

    def test_expiresAgainstNow(self) -> None:
        """Without DATE, EXPIRES is compared with the caller's clock."""
        now = 1_700_000_000.0
        expires = email.utils.formatdate(now + 900, usegmt=True).encode()
        data = GUPNP_ALIVE.replace(b"Cache-Control: max-age=1800\r\n", b"EXPIRES: " + expires + b"\r\n")
        self.assertEqual(parse(data, now=now).maxAge, 900)
        self.assertEqual(parse(data).maxAgeSource, "default")

    def test_expiresUnusable(self) -> None:
        """A past, malformed or unanchored EXPIRES falls back to 1800 s."""
        for expires in (b"yesterday", b"Thu, 01 Jan 1970 00:00:00 GMT", b""):
            data = GUPNP_ALIVE.replace(b"Cache-Control: max-age=1800\r\n", b"Expires: " + expires + b"\r\n")
            m = parse(data, now=1_700_000_000.0)
            self.assertEqual((m.maxAge, m.maxAgeSource), (1800, "default"), expires)

    def test_missingCacheControl(self) -> None:
        """No CACHE-CONTROL and no EXPIRES: 1800 s."""
        m = parse(GUPNP_ALIVE.replace(b"Cache-Control: max-age=1800\r\n", b""))
        self.assertEqual((m.maxAge, m.maxAgeSource), (1800, "default"))

    def test_cacheControlWithoutMaxAgeUsesExpires(self) -> None:
        """A CACHE-CONTROL without max-age does not hide a usable EXPIRES."""
        data = GUPNP_ALIVE.replace(
            b"Cache-Control: max-age=1800\r\n",
            b"Cache-Control: no-cache\r\nExpires: Thu, 01 Jan 1970 00:02:00 GMT\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
        )
        self.assertEqual(parse(data).maxAge, 120)


class SearchTests(unittest.TestCase):
    def test_parse(self) -> None:
        """An M-SEARCH parses, with MX and the UDA 2.0 extension headers kept."""
        data = (
            b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
            b"MX: 3\r\nST: ssdp:all\r\nUSER-AGENT: test/1 UPnP/1.1 x/1\r\nCPFN.UPNP.ORG: proxier\r\n\r\n"
        )
        m = parse(data)
        self.assertEqual(m, Search(st="ssdp:all", mx=3, userAgent="test/1 UPnP/1.1 x/1",
                                   extra=(("CPFN.UPNP.ORG", "proxier"),)))
        self.assertEqual(m.effectiveMX, 3)

    def test_mxForms(self) -> None:
        """MX missing → None; huge → kept but effectively 5; not a number → refused."""
        base = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: ssdp:discover\r\nST: upnp:rootdevice\r\n"
        missing = parse(base + b"\r\n")
        self.assertEqual((missing.mx, missing.effectiveMX), (None, None))
        huge = parse(base + b"MX: 4000000000\r\n\r\n")
        self.assertEqual((huge.mx, huge.effectiveMX), (4000000000, 5))
        self.assertEqual(parse(base + b"MX: 0\r\n\r\n").effectiveMX, 0)
        for bad in (b"-1", b"2.5", b"x", b"99999999999"):
            self.assertRaises(SSDPError, parse, base + b"MX: " + bad + b"\r\n\r\n")

    def test_manRequired(self) -> None:
        """An M-SEARCH without the discover MAN, or without ST, is refused."""
        self.assertRaises(SSDPError, parse, b"M-SEARCH * HTTP/1.1\r\nMX: 1\r\nST: ssdp:all\r\n\r\n")
        self.assertRaises(SSDPError, parse, b"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:update\"\r\nST: ssdp:all\r\n\r\n")
        self.assertRaises(SSDPError, parse, b"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n\r\n")

    def test_serialize(self) -> None:
        """A search serializes with HOST, MAN, MX, ST in that order."""
        data = Search(st=CMS2, mx=2, userAgent="proxier/1 UPnP/1.1 proxier/1").toBytes()
        self.assertEqual(
            data,
            b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\n"
            b"ST: " + CMS2.encode() + b"\r\nUSER-AGENT: proxier/1 UPnP/1.1 proxier/1\r\n\r\n",
        )

    def test_roundTrip(self) -> None:
        """Every search shape survives serialize → parse."""
        for search in (
            Search(st="ssdp:all"),
            Search(st=UDN, mx=None, host="127.0.0.1:40000"),
            Search(st=CMS2, mx=5, host=ssdp.hostHeader("ff05::c"), extra=(("TCPPORT.UPNP.ORG", "4000"),)),
        ):
            self.assertEqual(parse(search.toBytes()), search)


class SearchResponseTests(unittest.TestCase):
    def test_parse(self) -> None:
        """A miniupnpd answer parses."""
        m = parse(MINIUPNPD_RESPONSE)
        self.assertIsInstance(m, SearchResponse)
        self.assertEqual(m.st, "urn:schemas-upnp-org:service:DeviceProtection:1")
        self.assertEqual(m.nt, m.st)
        self.assertEqual(m.udn, "uuid:9f0865b3-f5da-4ad5-85b7-7404637fdf37")
        self.assertEqual((m.maxAge, m.bootId, m.configId), (120, 1, 1337))
        self.assertEqual(m.location, "http://10.251.1.2:5000/rootDesc.xml")

    def test_http10(self) -> None:
        """An HTTP/1.0 answer with odd header case parses."""
        m = parse(MINIUPNPD_RESPONSE.replace(b"HTTP/1.1 200 OK", b"HTTP/1.0 200 OK").replace(b"LOCATION", b"Location"))
        self.assertEqual(m.location, "http://10.251.1.2:5000/rootDesc.xml")

    def test_required(self) -> None:
        """An answer without ST, USN or LOCATION is refused."""
        for name in (b"ST:", b"USN:", b"LOCATION:"):
            self.assertRaises(SSDPError, parse, MINIUPNPD_RESPONSE.replace(name, b"X-" + name))

    def test_roundTrip(self) -> None:
        """A search answer survives serialize → parse, EXT and DATE included."""
        r = SearchResponse(
            st=CMS2, usn=f"{UDN}::{CMS2}", location="http://127.0.0.1:4000/d.xml", maxAge=100,
            server="x/1 UPnP/1.1 y/1", bootId=3, configId=4, searchPort=50000,
            secureLocation="https://127.0.0.1:4001/d.xml", date="Thu, 01 Jan 1970 00:00:00 GMT",
        )
        data = r.toBytes()
        self.assertIn(b"\r\nEXT:\r\n", data)
        self.assertEqual(parse(data), r)


class NotifySerializeTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """Alive, byebye (with announcement) and update survive serialize → parse."""
        for n in (
            Notify(nts=ALIVE, nt=CMS2, usn=f"{UDN}::{CMS2}", location="http://10.0.0.2/d.xml", maxAge=1800,
                   server="Linux/6 UPnP/1.1 proxier-sim/1", bootId=1, configId=1),
            Notify(nts=BYEBYE, nt="upnp:rootdevice", usn=f"{UDN}::upnp:rootdevice", bootId=1, configId=1,
                   announcement=ssdp.ABOUT_TO_BASELINE_RESET),
            Notify(nts=UPDATE, nt=UDN, usn=UDN, location="http://10.0.0.3/d.xml", bootId=1, configId=1,
                   nextBootId=2, host=ssdp.hostHeader(ssdp.IPV6_LINK_LOCAL_GROUP)),
            Notify(nts=ALIVE, nt=UDN, usn=UDN, location="http://10.0.0.2/d.xml", maxAge=60,
                   secureLocation="https://10.0.0.2:4443/d.xml", searchPort=49200,
                   extra=(("X-Vendor", "1"),)),
        ):
            parsed = parse(n.toBytes())
            self.assertEqual(parsed, n)

    def test_layout(self) -> None:
        """An alive is laid out as UDA shows it, CRLF-terminated."""
        n = Notify(nts=ALIVE, nt=UDN, usn=UDN, location="http://10.0.0.2/d.xml", server="s", bootId=5, configId=6)
        self.assertEqual(
            n.toBytes(),
            b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
            b"LOCATION: http://10.0.0.2/d.xml\r\nNT: " + UDN.encode() + b"\r\nNTS: ssdp:alive\r\n"
            b"SERVER: s\r\nUSN: " + UDN.encode() + b"\r\nBOOTID.UPNP.ORG: 5\r\nCONFIGID.UPNP.ORG: 6\r\n\r\n",
        )

    def test_headerInjectionRefused(self) -> None:
        """A value holding CR, LF or NUL, or a bad header name, is refused when serializing."""
        for bad in ("http://x/\r\nNTS: ssdp:byebye", "a\nb", "a\x00"):
            self.assertRaises(ValueError, Notify(nts=ALIVE, nt=UDN, usn=UDN, location=bad).toBytes)
        self.assertRaises(ValueError, Search(st="ssdp:all", extra=(("Bad Name", "x"),)).toBytes)
        self.assertRaises(ValueError, Notify(nts="ssdp:hello", nt=UDN, usn=UDN, location="x").toBytes)

    def test_tooBigRefused(self) -> None:
        """A message that would exceed the datagram cap is refused when serializing."""
        n = Notify(nts=ALIVE, nt=UDN, usn=UDN, location="http://x/" + "a" * ssdp.MAX_DATAGRAM_BYTES)
        self.assertRaises(ValueError, n.toBytes)

    def test_hostHeader(self) -> None:
        """HOST values: IPv4 as is, IPv6 upper-case in brackets."""
        self.assertEqual(ssdp.hostHeader(ssdp.IPV4_GROUP), "239.255.255.250:1900")
        self.assertEqual(ssdp.hostHeader(ssdp.IPV6_SITE_LOCAL_GROUP), "[FF05::C]:1900")
        self.assertEqual(ssdp.hostHeader("127.0.0.1", 4000), "127.0.0.1:4000")


class TypeTests(unittest.TestCase):
    def test_splitUSN(self) -> None:
        """A USN splits into UDN and type."""
        self.assertEqual(splitUSN(f"{UDN}::{CMS2}"), (UDN, CMS2))
        self.assertEqual(splitUSN(f"{UDN}::upnp:rootdevice"), (UDN, "upnp:rootdevice"))
        self.assertEqual(splitUSN(f" {UDN} "), (UDN, ""))

    def test_parseType(self) -> None:
        """Device and service types parse; anything else is None."""
        self.assertEqual(parseType(CMS2), UPnPType("schemas-upnp-org", "service", "ConfigurationManagement", 2))
        self.assertEqual(str(parseType(CMS2)), CMS2)
        one, two = parseType(CMS2), parseType(" " + CMS2)  # the parts of equal types are shared (issue 19)
        self.assertIs(one.domain, two.domain)
        self.assertIs(one.name, two.name)
        self.assertEqual(parseType("urn:dslforum-org:device:InternetGatewayDevice:1").kind, "device")
        for bad in ("upnp:rootdevice", UDN, "urn:x:thing:Y:1", "urn:x:service:Y:z", "urn::service:Y:1",
                    "urn:x:service::1", "urn:x:service:Y"):
            self.assertIsNone(parseType(bad), bad)

    def test_searchTargetMatches(self) -> None:
        """The UDA 1.1 §1.3.2 matching rules, row by row."""
        rows = (
            ("ssdp:all", CMS2, True),
            ("ssdp:all", UDN, True),
            ("upnp:rootdevice", "upnp:rootdevice", True),
            ("upnp:rootdevice", CMS2, False),
            (UDN, UDN.upper().replace("UUID", "uuid"), True),
            (UDN, "uuid:other", False),
            ("urn:schemas-upnp-org:service:ConfigurationManagement:1", CMS2, True),
            (CMS2, CMS2, True),
            ("urn:schemas-upnp-org:service:ConfigurationManagement:3", CMS2, False),
            ("urn:schemas-upnp-org:service:BasicManagement:2", CMS2, False),
            ("urn:schemas-upnp-org:device:ConfigurationManagement:2", CMS2, False),
            ("urn:example-com:service:ConfigurationManagement:2", CMS2, False),
        )
        for st, nt, expected in rows:
            self.assertEqual(searchTargetMatches(st, nt), expected, (st, nt))
