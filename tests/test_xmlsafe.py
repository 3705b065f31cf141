"""Tests for L{proxier.xmlsafe}: the one parser every untrusted document goes through."""

from __future__ import annotations

from twisted.trial import unittest

from proxier.xmlsafe import XMLRejected, parse

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<foo>&xxe;</foo>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY % ext SYSTEM "http://127.0.0.1:1/evil.dtd"> %ext; ]>
<foo/>"""


class ParseTests(unittest.TestCase):
    def test_plain(self) -> None:
        """An ordinary namespaced document parses."""
        root = parse(b'<a xmlns="urn:x"><b>text</b></a>')
        self.assertEqual(root.tag, "{urn:x}a")
        self.assertEqual(root[0].text, "text")

    def test_entityBombs(self) -> None:
        """Entity expansion, external entities and parameter entities are all refused."""
        for doc in (BILLION_LAUGHS, EXTERNAL, PARAMETER_ENTITY):
            self.assertRaises(XMLRejected, parse, doc)

    def test_externalDTD(self) -> None:
        """A document naming an external DTD is refused without fetching it."""
        self.assertRaises(XMLRejected, parse, b'<!DOCTYPE a SYSTEM "http://127.0.0.1:1/a.dtd"><a/>')

    def test_undefinedEntity(self) -> None:
        """An undefined entity reference is malformed."""
        self.assertRaises(XMLRejected, parse, b"<a>&nbsp;</a>")

    def test_predefinedEntities(self) -> None:
        """The five predefined entities and character references still work."""
        self.assertEqual(parse(b"<a>&lt;&amp;&gt;&quot;&apos;&#233;</a>").text, "<&>\"'\u00e9")

    def test_sizeCap(self) -> None:
        """A document over the cap is refused before parsing."""
        doc = b"<a>" + b"x" * 2000 + b"</a>"
        e = self.assertRaises(XMLRejected, parse, doc, 1000)
        self.assertIn("exceeds the 1000-byte cap", str(e))
        self.assertEqual(len(parse(doc, 4000).text), 2000)

    def test_malformed(self) -> None:
        """Malformed and empty input is XMLRejected, not an lxml exception."""
        for doc in (b"", b"   ", b"<a>", b"<a></b>", b"\x00\x01", b"<a xmlns:p='u'><q:b/></a>"):
            self.assertRaises(XMLRejected, parse, doc)

    def test_declaredEncoding(self) -> None:
        """Bytes in a declared encoding are decoded by it."""
        doc = '<?xml version="1.0" encoding="ISO-8859-1"?><a>\u00e9t\u00e9</a>'.encode("latin-1")
        self.assertEqual(parse(doc).text, "\u00e9t\u00e9")
        self.assertEqual(parse("<a>\u00e9</a>".encode("utf-16")).text, "\u00e9")

    def test_textInput(self) -> None:
        """A str, even one declaring an encoding, parses."""
        self.assertEqual(parse('<?xml version="1.0" encoding="UTF-8"?><a>\u00e9</a>').text, "\u00e9")

    def test_oneParserAThread(self) -> None:
        """
        A thread's documents are parsed by one parser (issue 19), made as
        L{makeParser} makes them; a document refused leaves nothing behind
        for the next; another thread has its own.
        """
        import threading

        from proxier import xmlsafe

        made: list = []
        self.patch(xmlsafe, "_parsers", threading.local())
        self.patch(xmlsafe, "makeParser", lambda: made.append(xmlsafe.etree.XMLParser()) or made[-1])
        for doc in (b"<a><b>1</b></a>", b"<a><b>1</a>", b'<!DOCTYPE a SYSTEM "x"><a/>', b"<a>&e;</a>", b"<c>2</c>"):
            try:
                root = parse(doc)
            except XMLRejected:
                continue
            self.assertEqual("".join(root.itertext()), "1" if root.tag == "a" else "2")
        self.assertEqual(len(made), 1)
        other = threading.Thread(target=parse, args=(b"<a/>",))
        other.start()
        other.join()
        self.assertEqual(len(made), 2)
        self.assertIsNot(made[0], made[1])

    def test_entityReferenceRefused(self) -> None:
        """An entity reference left as a node (not expanded, no DTD) is refused, wherever it is."""
        for doc in (b"<a>&e;</a>", b"<a><b>x&e;y</b></a>", b"<a b='&amp;'>&undefined;</a>"):
            self.assertRaises(XMLRejected, parse, doc)

    def test_processingInstructionsDropped(self) -> None:
        """Processing instructions inside the document are dropped."""
        root = parse(b"<a><?php evil()?><b/></a>")
        self.assertEqual([c.tag for c in root], ["b"])


class HostileTests(unittest.TestCase):
    """
    Documents that would make libxml2 open a file or spin: refused before it
    reads them, with nothing opened (seen by L{tests.hostilexml.Tripwire}).
    """

    def setUp(self) -> None:
        from tests.hostilexml import tripwireFor

        self.trip = tripwireFor(self)

    def assertRefusedUnopened(self, document: bytes | str, reason: str = "") -> None:
        """No canary was opened, and C{document} is refused (with C{reason} in the message)."""
        try:
            parse(document)
        except XMLRejected as e:
            refusal: Exception | None = e
        else:
            refusal = None
        self.assertEqual(self.trip.touched(), [])
        self.assertIsInstance(refusal, XMLRejected)
        self.assertIn(reason, str(refusal))

    def test_parameterEntityOpensNothing(self) -> None:
        """
        An external parameter entity naming a local file is refused and the
        file is not opened (lxml 6 / libxml2 2.14 opened it, then failed).
        """
        self.assertRefusedUnopened(
            f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{self.trip.url()}"> %p;]><r/>'.encode(), "markup declaration")

    def test_externalSubsetOpensNothing(self) -> None:
        """An external DTD subset naming a local file is refused unopened (both libxml2 2.9 and 2.14 opened it)."""
        self.assertRefusedUnopened(f'<!DOCTYPE r SYSTEM "{self.trip.url()}"><r/>'.encode(), "markup declaration")
        self.assertRefusedUnopened(f'<!DOCTYPE r SYSTEM "{self.trip.url()}"><r/>', "markup declaration")

    def test_hiddenByEncoding(self) -> None:
        """A DOCTYPE a byte search would miss (UTF-16 with or without BOM, after a declaration) is found."""
        doc = f'<!DOCTYPE r SYSTEM "{self.trip.url()}"><r/>'
        for data in (
            doc.encode("utf-16"),
            doc.encode("utf-16-le"),
            ('<?xml version="1.0" encoding="UTF-16"?>' + doc).encode("utf-16-be"),
            b"\xfe\xff" + ('<?xml version="1.0" encoding="UTF-16BE"?>' + doc).encode("utf-16-be"),
            ('<?xml version="1.0" encoding="windows-1252"?>\n' + doc).encode("cp1252"),
            b"\xef\xbb\xbf" + doc.encode(),
        ):
            self.assertRefusedUnopened(data, "markup declaration")

    def test_unreadableEncodings(self) -> None:
        """UTF-32, EBCDIC, UTF-7 and unknown encodings are refused unread, whatever they hold."""
        doc = f'<!DOCTYPE r SYSTEM "{self.trip.url()}"><r/>'
        for data, reason in (
            (doc.encode("utf-32"), "UTF-32"),
            (doc.encode("utf-32-le"), "UTF-32"),
            (doc.encode("utf-32-be"), "UTF-32"),
            (('<?xml version="1.0" encoding="IBM037"?>' + doc).encode("cp037"), "EBCDIC"),
            (b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE r SYSTEM +ACI-' + self.trip.url().encode()
             + b"+ACIAPg-<r/>", "'utf-7' is not accepted"),
            (b'<?xml version="1.0" encoding="x-unknown"?><r/>', "'x-unknown' is not accepted"),
            (b'<?xml version="1.0" encoding="Shift_JIS"?><r/>', "'shift-jis' is not accepted"),
        ):
            self.assertRefusedUnopened(data, reason)

    def test_contradictoryEncodings(self) -> None:
        """A byte order mark and a declaration that disagree are refused: which one libxml2 believes is not our guess."""
        self.assertRefusedUnopened('<?xml version="1.0" encoding="UTF-8"?><r/>'.encode("utf-16"), "declaring 'utf-8'")
        self.assertRefusedUnopened(b'\xef\xbb\xbf<?xml version="1.0" encoding="ISO-8859-1"?><r/>', "declaring")
        self.assertRefusedUnopened(b'<?xml version="1.0" encoding="UTF-16"?><r/>', "'utf-16' is not accepted")

    def test_acceptedEncodings(self) -> None:
        """The encodings a device or an ACS uses still parse, declared or not."""
        for data in (
            '<r>\u00e9</r>'.encode("utf-16-le"),
            '<?xml version="1.0" encoding="UTF-16"?><r>\u00e9</r>'.encode("utf-16"),
            b"\xfe\xff" + '<?xml version="1.0" encoding="utf-16be"?><r>\u00e9</r>'.encode("utf-16-be"),
            b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?><r>\xc3\xa9</r>',
            b"<?xml version='1.0' encoding='windows-1252'?>\n<r>\xe9</r>",
            b'<?xml version="1.0" encoding="iso-8859-15"?><r>\xe9</r>',
            b'<?xml version="1.0" encoding="US-ASCII"?><r>&#233;</r>',
        ):
            self.assertEqual(parse(data).text, "\u00e9", data)

    def test_resolverRefusesEverything(self) -> None:
        """
        The parser itself refuses every external resource, so a document that
        got past the screening would still open nothing.
        """
        from lxml import etree

        from proxier.xmlsafe import makeParser

        for doc in (f'<!DOCTYPE r SYSTEM "{self.trip.url()}"><r/>',
                    f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{self.trip.url()}"> %p;]><r/>',
                    f'<!DOCTYPE r PUBLIC "-//X//Y" "{self.trip.url()}"><r/>',
                    f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{self.trip.http()}"> %p;]><r/>'):
            try:
                etree.fromstring(doc.encode(), makeParser())
            except (XMLRejected, etree.XMLSyntaxError):
                pass
            self.assertEqual(self.trip.touched(), [], doc)

    def test_resolverRaises(self) -> None:
        """When the resolver is asked, its refusal is what the caller sees."""
        from lxml import etree

        from proxier.xmlsafe import makeParser

        e = self.assertRaises(XMLRejected, etree.fromstring,
                              f'<!DOCTYPE r SYSTEM "{self.trip.url()}"><r/>'.encode(), makeParser())
        self.assertIn("external resource", str(e))

    def test_controlCharacters(self) -> None:
        """A NUL that could make libxml2 read UTF-16 where the scan read ISO-8859-1 is refused."""
        self.assertRefusedUnopened(
            '<?xml version="1.0" encoding="ISO-8859-1"?><\x00!\x00D\x00O\x00C\x00T\x00Y\x00P\x00E\x00'.encode("latin-1"),
            "U+0000")
        self.assertRefusedUnopened("<r>\x01</r>", "U+0001")

    def test_loneSurrogate(self) -> None:
        """A str with a lone surrogate is refused, not a UnicodeEncodeError."""
        self.assertRefusedUnopened("<r>\ud800</r>", "surrogate")

    def test_attributeCap(self) -> None:
        """
        An element with more than MAX_ATTRIBUTES attributes is refused before
        libxml2 2.9 spends quadratic time on it; at the cap it parses, and
        '=' in values or text does not count.
        """
        from proxier.xmlsafe import MAX_ATTRIBUTES

        def element(n: int) -> str:
            return "<a " + " ".join(f"a{i}='x'" for i in range(n)) + "/>"

        self.assertEqual(len(parse(element(MAX_ATTRIBUTES)).attrib), MAX_ATTRIBUTES)
        self.assertRefusedUnopened(element(MAX_ATTRIBUTES + 1), f"more than {MAX_ATTRIBUTES} attributes")
        self.assertRefusedUnopened("<a v='>' " + element(MAX_ATTRIBUTES + 1)[3:], "attributes")
        self.assertRefusedUnopened(
            "<a " + " ".join(f"xmlns:p{i}='urn:{i}'" for i in range(MAX_ATTRIBUTES + 1)) + "/>", "attributes")
        self.assertEqual(len(parse("<r a='=" + "=" * 1000 + "'>" + "x=y " * 1000 + "</r>").text), 4000)

    def test_markupInCommentRefused(self) -> None:
        """A markup declaration is refused even where libxml2 would not read it (a comment): the scan knows no context."""
        self.assertRefusedUnopened(b"<r><!-- <!ENTITY x 'y'> --></r>", "markup declaration")
