# -*- test-case-name: tests.test_xmlsafe,tests.test_xml_hostile -*-
"""
The project's one XML parser factory.

Everything the proxier parses comes from the network (an ACS, a device on the
LAN, a device's SOAP argument holding another document), so every parse goes
through L{parse}: no DTD, no entities, no network, no XInclude, a size cap,
and nothing but UTF-8/UTF-16/declared encodings. A document that tries any of
those is refused with L{XMLRejected} before any expansion can happen.

The parser's own switches are not enough: libxml2 2.14 (lxml 6) opens a
local file named by an external DTD subset or an external parameter entity
even with C{load_dtd=False}, and libxml2 2.9 (Debian 12's lxml 4.9) does so
for an external subset. So there are two fences, each sufficient alone:

 1. Before libxml2 sees a byte, the document is decoded the way XML 1.0
    Appendix F says a parser finds its encoding (byte order mark, the first
    four bytes, then the declaration), only in encodings where that can be
    done reliably (L{_CODECS}; UTF-16 by its mark or its C{<} start); any
    markup declaration (C{<!DOCTYPE}, C{<!ENTITY}, ...) anywhere in the text
    refuses the document. libxml2 is then given that very text, re-encoded
    as UTF-8 with the declaration dropped, so it cannot read the bytes in
    another encoding than the one scanned.
 2. Every parser carries a resolver (L{_RefuseAll}) that refuses every
    external resource, so nothing is opened or fetched even if the first
    fence were passed.
"""

from __future__ import annotations

import re
import threading
from typing import Optional

from lxml import etree

__all__ = ["XMLRejected", "parse", "makeParser", "DEFAULT_MAX_BYTES", "MAX_ATTRIBUTES"]

DEFAULT_MAX_BYTES = 1 << 20  # 1 MiB: bigger than any CWMP envelope or UPnP DM answer we need


class XMLRejected(ValueError):
    """The bytes are not a document the proxier accepts: malformed, too big or hostile."""


class _RefuseAll(etree.Resolver):
    """Refuses every external resource (DTD, entity, XInclude...): nothing is opened or fetched."""

    def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def]
        raise XMLRejected(f"external resource {str(url)[:80]!r} refused")


def makeParser(*, recover: bool = False) -> etree.XMLParser:
    """
    A parser with every external and expanding feature off, and a resolver
    that refuses every external resource. Parsers are not thread-safe: each
    thread has its own (L{parse} keeps one a thread). Only L{parse} screens
    the document first: parse untrusted bytes with it, not with this parser.
    """
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_pis=True,
        collect_ids=False,
        recover=recover,
    )
    parser.resolvers.add(_RefuseAll())
    return parser


def parse(data: bytes | str, maxBytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """
    Parse one document from untrusted bytes.

    @param data: the document. A C{str} is taken as the text itself: an XML
        declaration at its start (after white space) is dropped, whatever
        encoding it names.
    @param maxBytes: refuse anything longer.
    @raise XMLRejected: with a short reason fit for a log line.
    @return: the root element.
    """
    if isinstance(data, str):
        if len(data) > maxBytes:
            raise XMLRejected(f"document of {len(data)} characters exceeds the {maxBytes}-byte cap")
        text = _dropDeclaration(data.lstrip("\ufeff").lstrip(" \t\r\n"), data)
    else:
        if len(data) > maxBytes:
            raise XMLRejected(f"document of {len(data)} bytes exceeds the {maxBytes}-byte cap")
        text = _decode(data)
    if not text.strip():
        raise XMLRejected("empty document")
    _screen(text)
    try:
        source = text.encode("utf-8")
    except UnicodeEncodeError:
        raise XMLRejected("text with a lone surrogate") from None
    controls = source.translate(None, _NOT_CONTROL)
    if controls:
        raise XMLRejected(f"character U+{controls[0]:04X} is not allowed in XML")
    if isinstance(data, str) and len(source) > maxBytes:
        raise XMLRejected(f"document of {len(source)} bytes exceeds the {maxBytes}-byte cap")
    try:
        root = etree.fromstring(source, parser=_parser())
    except XMLRejected:
        raise
    except etree.XMLSyntaxError as e:
        raise XMLRejected(f"not well-formed XML: {e}") from None
    except ValueError as e:  # lxml refuses some inputs
        raise XMLRejected(f"unparseable XML: {e}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XMLRejected("document type declarations are not accepted")
    if "&" in text:  # an entity reference is written with one (a cheap test of a big answer: issue 19)
        for _ in root.iter(etree.Entity):  # lxml finds them: no Python proxy for every node of a big answer
            raise XMLRejected("entity references are not accepted")
    return root


_parsers = threading.local()


def _parser() -> etree.XMLParser:
    """
    This thread's parser of L{makeParser}, made at its first parse: the
    same settings every time, and lxml resets a parser's state at each
    document (issue 19: a new parser was a tenth of parsing a small answer).
    """
    try:
        return _parsers.parser  # type: ignore[no-any-return]
    except AttributeError:
        parser = _parsers.parser = makeParser()
        return parser


# ---- screening ------------------------------------------------------------------------

# Markup declarations live only in a DTD; refused anywhere, even in a comment
# or a CDATA section: no document the proxier reads has a reason to carry one,
# and a scan that ignores context cannot be led astray by one.
_DECLARATION_MARKUP = re.compile(r"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE | re.ASCII)
# The bytes of the UTF-8 handed to libxml2 that are not C0 controls XML 1.0
# excludes (deleted by bytes.translate, which is fast: what is left is the
# refusal). libxml2 refuses them anyway, but a NUL could first make its own
# encoding detection read UTF-16 where the screening read something else.
_NOT_CONTROL = bytes(b for b in range(256) if b >= 0x20 or b in (0x09, 0x0A, 0x0D))


#: The most attributes (namespace declarations included) one element may
#: have. libxml2 2.9 (Debian 12) checks each new attribute against all the
#: element's earlier ones: 80 000 attributes in 870 kB keep it busy 90 s.
MAX_ATTRIBUTES = 256
# A start tag with more than MAX_ATTRIBUTES attributes, possessive and atomic
# throughout: at each "<" it costs at most that tag's length, never a
# backtrack. It stops at the first attribute libxml2 would stop at too.
_CROWDED_START_TAG = re.compile(
    r"""<[^\s<>!?/="']++(?>(?:\s++[^\s<>=/"']++\s*+=\s*+(?:"[^"<]*+"|'[^'<]*+')){%d})""" % (MAX_ATTRIBUTES + 1)
)


def _screen(text: str) -> None:
    # the search only where a markup declaration's "!" is (a cheap test of a big answer: issue 19)
    found = _DECLARATION_MARKUP.search(text) if "!" in text else None
    if found:
        raise XMLRejected(f"markup declaration {found.group()[:20]!r} refused (no DTD is accepted)")
    if text.count("=") > MAX_ATTRIBUTES:
        crowded = _CROWDED_START_TAG.search(text)
        if crowded:
            raise XMLRejected(f"an element with more than {MAX_ATTRIBUTES} attributes"
                              f" ({crowded.group()[:30]!r}...)")


# ---- encodings (XML 1.0 Appendix F) ---------------------------------------------------

# The encodings a document may declare, by normalised name (lower case, "_"
# read as "-"), and the Python codec that reads them: ASCII supersets with one
# byte per character, where a markup declaration can be found reliably.
_CODECS = {"utf-8": "utf-8", "utf8": "utf-8", "us-ascii": "ascii", "ascii": "ascii",
           "latin1": "iso8859-1", "latin-1": "iso8859-1"}
_CODECS.update({f"iso-8859-{n}": f"iso8859-{n}" for n in (*range(1, 12), 13, 14, 15, 16)})
_CODECS.update({f"iso8859-{n}": f"iso8859-{n}" for n in (*range(1, 12), 13, 14, 15, 16)})
_CODECS.update({f"windows-{n}": f"cp{n}" for n in range(1250, 1259)})
_CODECS.update({f"cp{n}": f"cp{n}" for n in range(1250, 1259)})
_UTF16 = {"utf-16": None, "utf16": None, "utf-16le": "utf-16-le", "utf-16be": "utf-16-be", "utf-16-le": "utf-16-le",
          "utf-16-be": "utf-16-be"}

# The first four bytes of a document in an encoding refused here.
_REFUSED_STARTS = (
    (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xff\xfe", "UCS-4"),
    (b"\xfe\xff\x00\x00", "UCS-4"), (b"\x00\x00\x00\x3c", "UTF-32"), (b"\x3c\x00\x00\x00", "UTF-32"),
    (b"\x00\x00\x3c\x00", "UCS-4"), (b"\x00\x3c\x00\x00", "UCS-4"), (b"\x4c\x6f\xa7\x94", "EBCDIC"),
    (b"+/v", "UTF-7"),
)

_XML_DECLARATION = re.compile(r"<\?xml[ \t\r\n][^<>]{0,200}?\?>", re.ASCII)
_ENCODING = re.compile(r"""[ \t\r\n]encoding[ \t\r\n]*=[ \t\r\n]*(["'])([^"']{0,40})\1""", re.ASCII)


def _declaredEncoding(text: str) -> Optional[str]:
    """The encoding the XML declaration at the start of C{text} names, normalised; C{None} if none."""
    if not text.startswith("<?xml"):
        return None
    declaration = _XML_DECLARATION.match(text)
    if declaration is None:
        if text[5:6] in (" ", "\t", "\r", "\n"):
            raise XMLRejected("unterminated or overlong XML declaration")
        return None  # <?xml-stylesheet...>: a processing instruction, libxml2 judges it
    found = _ENCODING.search(declaration.group())
    return found.group(2).strip().lower().replace("_", "-") if found else None


def _decode(data: bytes) -> str:
    """
    The text of C{data}, read in the encoding XML 1.0 Appendix F finds;
    L{XMLRejected} for an encoding not accepted or bytes not in it.
    """
    head = data[:4]
    for start, name in _REFUSED_STARTS:
        if head.startswith(start):
            raise XMLRejected(f"{name} documents are not accepted")
    if head.startswith(b"\xef\xbb\xbf"):
        family, body = "utf-8", data[3:]
    elif head.startswith(b"\xfe\xff"):
        family, body = "utf-16-be", data[2:]
    elif head.startswith(b"\xff\xfe"):
        family, body = "utf-16-le", data[2:]
    elif head[:1] == b"<" and head[1:2] == b"\x00":
        family, body = "utf-16-le", data
    elif head[:1] == b"\x00" and head[1:2] == b"<":
        family, body = "utf-16-be", data
    else:
        family, body = None, data
    if family is None:
        declared = _declaredEncoding(data[:256].decode("latin-1"))
        codec = "utf-8" if declared is None else _CODECS.get(declared)
        if codec is None:
            raise XMLRejected(f"encoding {declared!r} is not accepted")
        text = _decodeAs(body, codec, declared or "utf-8")
        return _dropDeclaration(text, text)
    text = _decodeAs(body, family, family)
    declared = _declaredEncoding(text)
    if declared is not None:
        accepted = ("utf-8",) if family == "utf-8" else (None, family)
        if (_CODECS.get(declared) if family == "utf-8" else _UTF16.get(declared, "?")) not in accepted:
            raise XMLRejected(f"a {family.upper()} document declaring {declared!r}")
    return _dropDeclaration(text, text)


def _decodeAs(body: bytes, codec: str, name: str) -> str:
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as e:
        raise XMLRejected(f"not {name}: {e.reason} at byte {e.start}") from None
    return text


def _dropDeclaration(stripped: str, original: str) -> str:
    """
    C{original} without the XML declaration C{stripped} (a suffix of it)
    starts with: the text is handed to libxml2 as UTF-8, so no declared
    encoding may remain to mislead it.
    """
    if stripped.startswith("<?xml") and stripped[5:6] in (" ", "\t", "\r", "\n"):
        declaration = _XML_DECLARATION.match(stripped)
        if declaration is None:
            raise XMLRejected("unterminated or overlong XML declaration")
        return stripped[declaration.end():]
    return original
