"""Tests for L{proxier.upnp.gena}: the GENA codec, both sides."""

from __future__ import annotations

from lxml import etree
from twisted.trial import unittest
from twisted.web.http_headers import Headers

from proxier.upnp import gena
from proxier.upnp.gena import (
    INFINITE,
    EventMessage,
    GENAError,
    Renew,
    Subscribe,
    SubscribeResponse,
    Unsubscribe,
    decodePropertySet,
    encodePropertySet,
    formatCallback,
    formatTimeout,
    nextSEQ,
    parseCallback,
    parseEventMessage,
    parseSEQ,
    parseSID,
    parseSubscribeResponse,
    parseSubscriptionRequest,
    parseTimeout,
)

SID = "uuid:6f2a1c7e-0000-4000-8000-000000000001"

# TIMEOUT forms seen in the field (INTEROP.md, GENA) → parsed value.
TIMEOUT_ROWS = (
    ("Second-1800", 1800),
    ("second-300", 300),
    ("SECOND-0", 0),
    ("Second-infinite", INFINITE),
    ("Second-INFINITE", INFINITE),
    ("infinite", INFINITE),
    ("1800", 1800),
    (" 1800 ", 1800),
    ("Second- 60", 60),
    ("Second60", 60),
    ("", None),
    (None, None),
)


class TimeoutTests(unittest.TestCase):
    def test_rows(self) -> None:
        """Every TIMEOUT form in the table parses to its value."""
        for text, expected in TIMEOUT_ROWS:
            if expected is INFINITE or expected is None:
                self.assertIs(parseTimeout(text), expected, text)
            else:
                self.assertEqual(parseTimeout(text), expected, text)

    def test_shared(self) -> None:
        """Equal durations parse to one int (issue 19: each subscription keeps its grant)."""
        self.assertIs(parseTimeout("Second-" + str(1800 + len(TIMEOUT_ROWS))), parseTimeout(f"{1800 + len(TIMEOUT_ROWS)}"))

    def test_default(self) -> None:
        """A missing TIMEOUT reads as the caller's default."""
        self.assertEqual(parseTimeout(None, 1800), 1800)
        self.assertIs(parseTimeout("", INFINITE), INFINITE)

    def test_malformed(self) -> None:
        """Anything else is a 400."""
        for bad in ("Second--1", "Minute-5", "Second-1.5", "Second-abc", "Second-99999999999"):
            self.assertEqual(self.assertRaises(GENAError, parseTimeout, bad).status, 400, bad)

    def test_unicodeDigits(self) -> None:
        """Only ASCII digits are a duration: Second-١٢٣ and Second-²  are a 400, not 123 or 2."""
        for bad in ("Second-\u0661\u0662\u0663", "Second-\u00b2", "\uff11\uff12"):
            self.assertEqual(self.assertRaises(GENAError, parseTimeout, bad).status, 400, ascii(bad))

    def test_format(self) -> None:
        """Durations format as Second-N / Second-infinite, and parse back."""
        self.assertEqual(formatTimeout(1800), "Second-1800")
        self.assertEqual(formatTimeout(INFINITE), "Second-infinite")
        for value in (0, 5, 1800, INFINITE):
            self.assertEqual(parseTimeout(formatTimeout(value)), value)
        for bad in (-1, True, "1800", None):
            self.assertRaises(ValueError, formatTimeout, bad)

    def test_infiniteSingleton(self) -> None:
        """INFINITE is one object with a readable repr."""
        self.assertIs(type(INFINITE)(), INFINITE)
        self.assertEqual(repr(INFINITE), "INFINITE")


class FieldTests(unittest.TestCase):
    def test_sid(self) -> None:
        """SIDs are taken as given, with or without uuid:; missing or malformed ones are 412."""
        self.assertEqual(parseSID(" " + SID + " "), SID)
        self.assertEqual(parseSID("6f2a1c7e-no-prefix"), "6f2a1c7e-no-prefix")
        for bad in (None, "", "  ", "uuid:a b", "uuid:\x01", "x" * 300):
            self.assertEqual(self.assertRaises(GENAError, parseSID, bad).status, 412)

    def test_seq(self) -> None:
        """SEQ is a 32-bit counter; missing or malformed is 400."""
        self.assertEqual(parseSEQ("0"), 0)
        self.assertEqual(parseSEQ(" 4294967295 "), gena.MAX_SEQ)
        for bad in (None, "", "-1", "x", "4294967296", "1.0"):
            self.assertEqual(self.assertRaises(GENAError, parseSEQ, bad).status, 400)

    def test_seqUnicodeDigits(self) -> None:
        """A SEQ of Unicode digits ('²' passed isdigit() and failed int(): HTTP 500) is a 400, like any bad SEQ."""
        for bad in ("²", "①", "١٢", "１", "1_0", "+1", "9" * 300):
            e = self.assertRaises(GENAError, parseSEQ, bad)
            self.assertEqual(e.status, 400, bad)
            self.assertIn("SEQ", e.reason)

    def test_nextSEQ(self) -> None:
        """SEQ counts 0, 1, 2, ... and wraps from 2**32-1 to 1, never back to 0."""
        self.assertEqual([nextSEQ(s) for s in (0, 1, 41, gena.MAX_SEQ - 1, gena.MAX_SEQ)], [1, 2, 42, gena.MAX_SEQ, 1])

    def test_callback(self) -> None:
        """CALLBACK URLs are read in order; non-HTTP ones are dropped; none usable is 412."""
        self.assertEqual(parseCallback("<http://10.0.0.1:4000/a><http://[fd00::1]:4000/a>"),
                         ("http://10.0.0.1:4000/a", "http://[fd00::1]:4000/a"))
        self.assertEqual(parseCallback("<https://x/><http://y/>"), ("http://y/",))
        for bad in (None, "", "http://x/", "<ftp://x/>", "<http://a b/>", "<>"):
            self.assertEqual(self.assertRaises(GENAError, parseCallback, bad).status, 412, bad)
        self.assertEqual(len(parseCallback("<http://x/>" * 50)), 8)

    def test_formatCallback(self) -> None:
        """Callback URLs format in angle brackets; unsafe ones are refused."""
        self.assertEqual(formatCallback(["http://a/1", "http://b/2"]), "<http://a/1><http://b/2>")
        for bad in ([], ["http://a/<x>"], ["http://a/\r\n"], ["ftp://a/"]):
            self.assertRaises(ValueError, formatCallback, bad)

    def test_normalizeHeaders(self) -> None:
        """Mappings, pairs, bytes and Twisted Headers all normalize to lower-case str names, first value."""
        expected = {"sid": SID, "seq": "3"}
        self.assertEqual(gena.normalizeHeaders({"SID": SID, "Seq": "3"}), expected)
        self.assertEqual(gena.normalizeHeaders([(b"SID", SID.encode()), (b"SEQ", b"3"), (b"sid", b"other")]), expected)
        self.assertEqual(gena.normalizeHeaders(Headers({b"SID": [SID.encode()], b"SEQ": [b"3", b"4"]})), expected)


class PropertySetTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """Variables round-trip in order, values escaped, booleans as 1/0."""
        body = encodePropertySet([("ConfigurationUpdate", "12,/BBF/<x>"), ("AlarmsEnabled", True), ("Empty", "")])
        self.assertEqual(decodePropertySet(body), [("ConfigurationUpdate", "12,/BBF/<x>"), ("AlarmsEnabled", "1"), ("Empty", "")])

    def test_shape(self) -> None:
        """The body is e:propertyset / e:property / unqualified variable."""
        root = etree.fromstring(encodePropertySet({"A": "1"}))
        self.assertEqual(root.tag, f"{{{gena.EVENT_NS}}}propertyset")
        self.assertEqual(root[0].tag, f"{{{gena.EVENT_NS}}}property")
        self.assertEqual(root[0][0].tag, "A")

    def test_emptyPropertySet(self) -> None:
        """GUPnP's first event, an empty propertyset, is no variables."""
        self.assertEqual(decodePropertySet(b'<?xml version="1.0"?><e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"/>'), [])

    def test_sloppyBodies(self) -> None:
        """No namespace, several variables in one property, white space, NULs, inline XML."""
        body = (b"\n<propertyset><property><A>1</A><B>2</B></property>\n<property><C><x y='1'/></C></property>"
                b"</propertyset>\x00")
        pairs = decodePropertySet(body)
        self.assertEqual([n for n, _ in pairs], ["A", "B", "C"])
        self.assertEqual(etree.fromstring(pairs[2][1]).get("y"), "1")

    def test_rejected(self) -> None:
        """Malformed, hostile, oversized or foreign bodies are 400."""
        for bad in (b"", b"<propertyset>", b"<html/>",
                    b'<!DOCTYPE p [<!ENTITY e "x">]><propertyset><property><A>&e;</A></property></propertyset>'):
            self.assertEqual(self.assertRaises(GENAError, decodePropertySet, bad).status, 400)
        big = encodePropertySet({"A": "x" * 3000})
        self.assertRaises(GENAError, decodePropertySet, big, 1000)

    def test_badName(self) -> None:
        """A prefixed variable name is refused when encoding."""
        self.assertRaises(ValueError, encodePropertySet, {"a:b": "1"})


class SubscriptionRequestTests(unittest.TestCase):
    def test_subscribeRoundTrip(self) -> None:
        """A first SUBSCRIBE formats and parses back, STATEVAR included."""
        s = Subscribe(("http://10.0.0.1:4000/gena/abc",), 300, ("ConfigurationUpdate", "AlarmsEnabled"))
        self.assertEqual(dict(s.headers())["NT"], "upnp:event")
        self.assertEqual(parseSubscriptionRequest("SUBSCRIBE", s.headers()), s)
        self.assertEqual(parseSubscriptionRequest("subscribe", Subscribe(("http://x/",), INFINITE).headers()).timeout, INFINITE)

    def test_subscribeWithoutTimeout(self) -> None:
        """A SUBSCRIBE without TIMEOUT parses with timeout None (the publisher picks)."""
        s = Subscribe(("http://x/",), None)
        self.assertNotIn("TIMEOUT", dict(s.headers()))
        self.assertIsNone(parseSubscriptionRequest("SUBSCRIBE", s.headers()).timeout)

    def test_renewAndUnsubscribe(self) -> None:
        """Renewals and UNSUBSCRIBE round-trip."""
        self.assertEqual(parseSubscriptionRequest("SUBSCRIBE", Renew(SID, 1800).headers()), Renew(SID, 1800))
        self.assertEqual(parseSubscriptionRequest("UNSUBSCRIBE", Unsubscribe(SID).headers()), Unsubscribe(SID))

    def test_refusals(self) -> None:
        """The UDA 1.1 §4.1 refusals, row by row, with their status."""
        rows = (
            ("SUBSCRIBE", {"SID": SID, "NT": "upnp:event"}, 400),
            ("SUBSCRIBE", {"SID": SID, "CALLBACK": "<http://x/>"}, 400),
            ("SUBSCRIBE", {"CALLBACK": "<http://x/>"}, 412),
            ("SUBSCRIBE", {"CALLBACK": "<http://x/>", "NT": "upnp:other"}, 412),
            ("SUBSCRIBE", {"NT": "upnp:event"}, 412),
            ("SUBSCRIBE", {"NT": "upnp:event", "CALLBACK": "http://x/"}, 412),
            ("SUBSCRIBE", {"NT": "upnp:event", "CALLBACK": "<http://x/>", "TIMEOUT": "Hour-1"}, 400),
            ("SUBSCRIBE", {"SID": ""}, 412),
            ("UNSUBSCRIBE", {}, 412),
            ("UNSUBSCRIBE", {"SID": SID, "NT": "upnp:event"}, 400),
            ("NOTIFY", {"SID": SID}, 400),
        )
        for method, headers, status in rows:
            e = self.assertRaises(GENAError, parseSubscriptionRequest, method, headers)
            self.assertEqual(e.status, status, (method, headers))

    def test_subscribeResponse(self) -> None:
        """Answers parse in every form devices send: bare TIMEOUT, SID without uuid:, no TIMEOUT."""
        r = SubscribeResponse(SID, 300, ("A",), "x/1 UPnP/1.1 y/1")
        self.assertEqual(parseSubscribeResponse(r.headers()), r)
        quirky = parseSubscribeResponse({"sid": "abc-123", "timeout": "1800"})
        self.assertEqual((quirky.sid, quirky.timeout), ("abc-123", 1800))
        self.assertIsNone(parseSubscribeResponse({"SID": SID}).timeout)
        self.assertRaises(GENAError, parseSubscribeResponse, {"TIMEOUT": "Second-1"})


class EventMessageTests(unittest.TestCase):
    def test_roundTrip(self) -> None:
        """An event formats (headers and body) and parses back."""
        m = EventMessage(SID, 0, (("ConfigurationUpdate", "1,/BBF/Device/X"),))
        self.assertEqual(parseEventMessage(m.headers(), m.body()), m)
        self.assertEqual(dict(m.headers())["NTS"], "upnp:propchange")

    def test_refusals(self) -> None:
        """The UDA 1.1 §4.3.1 refusals, row by row, with their status."""
        body = encodePropertySet({"A": "1"})
        good = {"NT": "upnp:event", "NTS": "upnp:propchange", "SID": SID, "SEQ": "1"}
        rows = (
            ({k: v for k, v in good.items() if k != "NT"}, body, 400),
            ({k: v for k, v in good.items() if k != "NTS"}, body, 400),
            (dict(good, NT="upnp:other"), body, 412),
            (dict(good, NTS="ssdp:alive"), body, 412),
            ({k: v for k, v in good.items() if k != "SID"}, body, 412),
            ({k: v for k, v in good.items() if k != "SEQ"}, body, 400),
            (dict(good, SEQ="x"), body, 400),
            (good, b"<nope/>", 400),
            (good, b"", 400),
        )
        for headers, data, status in rows:
            e = self.assertRaises(GENAError, parseEventMessage, headers, data)
            self.assertEqual(e.status, status, headers)
        self.assertEqual(parseEventMessage(good, body).seq, 1)
