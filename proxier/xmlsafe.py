# -*- test-case-name: tests.test_xmlsafe -*-
"""
The project's one XML parser factory.

Everything the proxier parses comes from the network (an ACS, a device on the
LAN, a device's SOAP argument holding another document), so every parse goes
through L{parse}: no DTD, no entities, no network, no XInclude, a size cap,
and nothing but UTF-8/UTF-16/declared encodings. A document that tries any of
those is refused with L{XMLRejected} before any expansion can happen.
"""

from __future__ import annotations

from lxml import etree

__all__ = ["XMLRejected", "parse", "makeParser", "DEFAULT_MAX_BYTES"]

DEFAULT_MAX_BYTES = 1 << 20  # 1 MiB: bigger than any CWMP envelope or UPnP DM answer we need


class XMLRejected(ValueError):
    """The bytes are not a document the proxier accepts: malformed, too big or hostile."""


def makeParser(*, recover: bool = False) -> etree.XMLParser:
    """
    A parser with every external and expanding feature off. Parsers are not
    thread-safe and cheap to make, so each parse makes its own.
    """
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_pis=True,
        collect_ids=False,
        recover=recover,
    )


def parse(data: bytes | str, maxBytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """
    Parse one document from untrusted bytes.

    @param data: the document. A C{str} is encoded as UTF-8 first, after an
        XML declaration naming another encoding is dropped.
    @param maxBytes: refuse anything longer.
    @raise XMLRejected: with a short reason fit for a log line.
    @return: the root element.
    """
    if isinstance(data, str):
        data = _dropDeclaration(data).encode("utf-8")
    if len(data) > maxBytes:
        raise XMLRejected(f"document of {len(data)} bytes exceeds the {maxBytes}-byte cap")
    if not data.strip():
        raise XMLRejected("empty document")
    try:
        root = etree.fromstring(data, parser=makeParser())
    except etree.XMLSyntaxError as e:
        raise XMLRejected(f"not well-formed XML: {e}") from None
    except ValueError as e:  # lxml refuses some inputs (unicode with declaration...)
        raise XMLRejected(f"unparseable XML: {e}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XMLRejected("document type declarations are not accepted")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise XMLRejected("entity references are not accepted")
    return root


def _dropDeclaration(text: str) -> str:
    """A C{str} has no encoding left to declare; lxml refuses it when declared."""
    stripped = text.lstrip()
    if stripped.startswith("<?xml"):
        end = stripped.find("?>")
        if end != -1:
            return stripped[end + 2 :]
    return text
