"""Tests for L{proxier.upnp.xmlstring}: XML documents in string arguments."""

from __future__ import annotations

import html

from lxml import etree
from twisted.trial import unittest

from proxier.upnp import soap, xmlstring
from proxier.upnp.xmlstring import XMLStringError, decode, decodeOptional, encode

CMS_NS = "urn:schemas-upnp-org:dm:cms"
DOC = (
    f'<cms:ContentPathList xmlns:cms="{CMS_NS}">'
    "<ContentPath>/UPnP/DM/DeviceInfo/</ContentPath><ContentPath>/BBF/Device/X&amp;Y</ContentPath>"
    "</cms:ContentPathList>"
)


def paths(root: etree._Element) -> list[str]:
    return [e.text for e in root.iter("ContentPath")]


class EncodeTests(unittest.TestCase):
    def test_element(self) -> None:
        """An element becomes its serialized text; the SOAP layer escapes it on the wire."""
        text = encode(etree.fromstring(DOC))
        self.assertEqual(paths(etree.fromstring(text)), ["/UPnP/DM/DeviceInfo/", "/BBF/Device/X&Y"])
        body = soap.encodeRequest("urn:x:service:Y:1", "GetValues", {"Parameters": text})
        self.assertIn(b"&lt;cms:ContentPathList", body)
        self.assertNotIn(b"<cms:ContentPathList", body)

    def test_textAndBytes(self) -> None:
        """Text and bytes are taken as they are, stripped; a declaration is added on request, once."""
        self.assertEqual(encode("  " + DOC + "\n"), DOC)
        self.assertEqual(encode(DOC.encode()), DOC)
        declared = encode(DOC, declaration=True)
        self.assertTrue(declared.startswith('<?xml version="1.0" encoding="UTF-8"?><cms:'))
        self.assertEqual(encode(declared, declaration=True), declared)


class DecodeTests(unittest.TestCase):
    """Each form INTEROP.md lists decodes to the same document."""

    def assertDecodes(self, value: str) -> None:
        root = decode(value)
        self.assertEqual(root.tag, f"{{{CMS_NS}}}ContentPathList")
        self.assertEqual(paths(root), ["/UPnP/DM/DeviceInfo/", "/BBF/Device/X&Y"])

    def test_escapedOnTheWire(self) -> None:
        """The normal case: escaped text, unescaped by the SOAP decoder."""
        body = soap.encodeResponse("urn:x:service:Y:1", "GetValues", {"V": DOC})
        self.assertDecodes(soap.decodeResponse(body, "GetValues")["V"])

    def test_inlineElements(self) -> None:
        """Inline child elements, handed over serialized by the SOAP decoder."""
        body = (
            '<Envelope><Body><GetValuesResponse><V>' + DOC + "</V></GetValuesResponse></Body></Envelope>"
        ).encode()
        self.assertDecodes(soap.decodeResponse(body, "GetValues")["V"])

    def test_embeddedDeclaration(self) -> None:
        """An embedded <?xml?> declaration, even one naming another encoding."""
        self.assertDecodes('<?xml version="1.0" encoding="UTF-8"?>' + DOC)
        self.assertDecodes("<?xml version='1.0' encoding='ISO-8859-1'?>\n" + DOC)

    def test_surroundingWhitespace(self) -> None:
        """White space and line breaks around the document and its declaration."""
        self.assertDecodes("\n\t  " + '<?xml version="1.0"?>' + "\n  " + DOC + "  \r\n")

    def test_escapedTwice(self) -> None:
        """A document escaped once more than needed."""
        self.assertDecodes("  " + html.escape(DOC, quote=False))

    def test_nonASCII(self) -> None:
        """Non-ASCII text survives encode → SOAP → decode."""
        doc = f'<cms:ParameterValueList xmlns:cms="{CMS_NS}"><Value>Küche ☕</Value></cms:ParameterValueList>'
        body = soap.encodeRequest("urn:x:service:Y:1", "SetValues", {"V": encode(doc, declaration=True)})
        self.assertEqual(decode(soap.decodeRequest(body).arguments["V"]).findtext("Value"), "Küche ☕")

    def test_rejected(self) -> None:
        """Empty, malformed and hostile documents are XMLStringError."""
        for bad in (
            "",
            "   ",
            "not xml",
            "<a>",
            '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
            "<a>&undefined;</a>",
        ):
            self.assertRaises(XMLStringError, decode, bad)

    def test_sizeCap(self) -> None:
        """A document over the cap is refused."""
        big = "<a>" + "x" * 2000 + "</a>"
        self.assertRaises(XMLStringError, decode, big, 1000)
        self.assertEqual(len(decode(big, 4000).text), 2000)

    def test_optional(self) -> None:
        """decodeOptional maps an empty value to None and decodes the rest."""
        self.assertIsNone(decodeOptional(" \n"))
        self.assertEqual(paths(decodeOptional(DOC)), ["/UPnP/DM/DeviceInfo/", "/BBF/Device/X&Y"])
        self.assertRaises(XMLStringError, decodeOptional, "<a")

    def test_errorIsValueError(self) -> None:
        """XMLStringError is a ValueError, so callers can map it as bad input."""
        self.assertTrue(issubclass(xmlstring.XMLStringError, ValueError))
