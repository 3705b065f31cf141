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

    def test_processingInstructionsDropped(self) -> None:
        """Processing instructions inside the document are dropped."""
        root = parse(b"<a><?php evil()?><b/></a>")
        self.assertEqual([c.tag for c in root], ["b"])
