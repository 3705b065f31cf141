# -*- test-case-name: tests.test_upnp_soap -*-
"""
Small XML helpers the UPnP codecs share: namespace-blind lookups (devices get
namespaces wrong), cleaning of bodies devices pad with NULs and white space,
and the text of an element that may hold inline XML.
"""

from __future__ import annotations

from typing import Iterator, Optional

from lxml import etree

from proxier import xmlsafe

__all__ = ["localName", "children", "child", "childText", "innerValue", "parseBody"]


def localName(element: etree._Element) -> str:
    """The tag without its namespace."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def namespace(element: etree._Element) -> str:
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].partition("}")[0]
    return ""


def children(element: etree._Element, name: Optional[str] = None) -> Iterator[etree._Element]:
    """Element children (comments skipped), optionally only those of a local name."""
    for node in element.iterchildren(tag=etree.Element):
        if name is None or localName(node) == name:
            yield node


def child(element: etree._Element, name: str) -> Optional[etree._Element]:
    """The first child element of that local name, in any namespace."""
    for node in children(element, name):
        return node
    return None


def childText(element: etree._Element, name: str, default: str = "") -> str:
    """The stripped text of the first child of that local name."""
    node = child(element, name)
    if node is None:
        return default
    return (innerValue(node) or "").strip()


def innerValue(element: etree._Element) -> str:
    """
    The value an element carries: its text, or, when it holds child elements
    (a device that put an XML argument inline instead of escaping it), the
    serialized inner XML, namespace declarations in scope included.
    """
    if any(True for _ in children(element)):
        parts = [element.text or ""]
        for node in element:
            if isinstance(node.tag, str):
                parts.append(etree.tostring(node, encoding="unicode", with_tail=True))
            else:
                parts.append(node.tail or "")
        return "".join(parts)
    parts = [element.text or ""]
    for node in element:  # comments: keep only the text around them
        parts.append(node.tail or "")
    return "".join(parts)


def parseBody(data: bytes, maxBytes: int) -> etree._Element:
    """
    Parse a device's body with the hardened parser, after dropping the
    trailing NUL bytes and white space some devices send (not from a UTF-16
    body, whose last character ends in a NUL byte).

    @raise xmlsafe.XMLRejected: malformed, too big or hostile.
    """
    if len(data) > maxBytes:
        raise xmlsafe.XMLRejected(f"document of {len(data)} bytes exceeds the {maxBytes}-byte cap")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(data) > 1 and b"\x00" in data[:2] and b"<" in data[:2]):
        return xmlsafe.parse(data, maxBytes=maxBytes)
    return xmlsafe.parse(data.rstrip(b"\x00 \t\r\n").lstrip(b" \t\r\n"), maxBytes=maxBytes)
