# -*- test-case-name: tests.test_upnp_xmlstring -*-
"""
XML documents carried in string arguments.

ConfigurationManagement, SoftwareManagement and DeviceProtection pass whole
XML documents (C{<cms:ParameterValueList>}, ...) as the value of a string
argument. On the wire such a value must be escaped (C{&lt;cms:...}); the
SOAP encoder does that, so L{encode} only turns a document into text.

Devices are less tidy when they answer (INTEROP.md): the inner document may
come escaped (the normal case), as inline child elements of the argument
element (L{proxier.upnp.soap} hands those over serialized), with its own
C{<?xml ...?>} declaration, surrounded by white space, or escaped twice.
L{decode} accepts all of those and parses the result with the same hardened
parser as everything else, with its own size cap.
"""

from __future__ import annotations

import html
from typing import Optional, Union

from lxml import etree

from proxier import xmlsafe

__all__ = ["XMLStringError", "encode", "decode", "decodeOptional", "MAX_DOCUMENT_BYTES"]

#: The largest inner document accepted.
MAX_DOCUMENT_BYTES = xmlsafe.DEFAULT_MAX_BYTES


class XMLStringError(ValueError):
    """The argument does not hold an acceptable XML document."""


def encode(document: Union[etree._Element, bytes, str], *, declaration: bool = False) -> str:
    """
    The text to pass as the argument's value (the SOAP layer escapes it).

    @param document: an element, or a document already serialized.
    @param declaration: put C{<?xml version="1.0" encoding="UTF-8"?>} first
        (UPnP DM examples do; devices must accept both).
    """
    if isinstance(document, etree._Element):
        text = etree.tostring(document, encoding="unicode")
    elif isinstance(document, bytes):
        text = document.decode("utf-8")
    else:
        text = document
    text = text.strip()
    if declaration and not text.startswith("<?xml"):
        text = '<?xml version="1.0" encoding="UTF-8"?>' + text
    return text


def decode(value: str, maxBytes: int = MAX_DOCUMENT_BYTES) -> etree._Element:
    """
    The document an argument value holds.

    @raise XMLStringError: empty, malformed, too big or hostile.
    """
    text = value.strip()
    if not text:
        raise XMLStringError("empty XML argument")
    if text.startswith("&lt;"):  # escaped twice by the sender
        text = html.unescape(text).strip()
    if len(text) > maxBytes:  # characters; the byte check below is the real one
        raise XMLStringError(f"XML argument longer than {maxBytes} bytes")
    try:
        return xmlsafe.parse(text, maxBytes=maxBytes)
    except xmlsafe.XMLRejected as e:
        raise XMLStringError(str(e)) from None


def decodeOptional(value: str, maxBytes: int = MAX_DOCUMENT_BYTES) -> Optional[etree._Element]:
    """Like L{decode}, but an empty (or white-space) value is C{None}."""
    if not value.strip():
        return None
    return decode(value, maxBytes)
