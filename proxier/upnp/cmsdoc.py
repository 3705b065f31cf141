# -*- test-case-name: tests.test_upnpdm_cmsxml,tests.test_sim_cmsxml -*-
"""
What both ends share of the ConfigurationManagement:2 documents: how one is
written, the C{SubTree} entry of C{SupportedDataModels}, and the
C{path#Attribute} form of a NodeAttributePath.

A device (L{proxier.sim.cmsxml}) and a control point (L{proxier.upnpdm.cmsxml})
write the same documents the same way — the root qualified in
C{urn:schemas-upnp-org:dm:cms} (prefix C{cms}) with its schema location, the
children unqualified — so the writing is here, once. Reading stays with each
end: a device refuses what is not the document, a control point skips what it
does not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from lxml import etree

from proxier.upnp import xmlstring
from proxier.upnp._xmlutil import children, localName

__all__ = [
    "CMS_NS",
    "XSI_NS",
    "SCHEMA_LOCATION",
    "DataModelEntry",
    "newDocument",
    "addText",
    "xmlText",
    "serialize",
    "pathList",
    "parameterList",
    "parameterValueList",
    "splitAttributePath",
    "localName",
    "children",
]

CMS_NS = "urn:schemas-upnp-org:dm:cms"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{CMS_NS} http://www.upnp.org/schemas/dm/cms.xsd"

@dataclass(frozen=True)
class DataModelEntry:
    """One C{SubTree} of GetSupportedDataModels (C{uuid}: its CMS:2 C{UUID}, as the device gives it)."""

    uri: str
    location: str
    url: str = ""
    description: str = ""
    uuid: str = ""


# The characters XML 1.0 cannot carry (lxml refuses them).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xmlText(text: str) -> str:
    """C{text} without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", text)


def newDocument(name: str) -> etree._Element:
    """An empty document: its root C{cms:name}."""
    root = etree.Element(f"{{{CMS_NS}}}{name}", nsmap={"cms": CMS_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    return root


def addText(parent: etree._Element, name: str, text: str) -> etree._Element:
    """An unqualified child element holding C{text} (less what XML cannot carry)."""
    element = etree.SubElement(parent, name)
    element.text = xmlText(text)
    return element


def serialize(root: etree._Element) -> str:
    """The argument's text, with its XML declaration as the CMS:2 examples write it."""
    return xmlstring.encode(root, declaration=True)


# What libxml2 escapes in an element's text, and how.
_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
# A character that is escaped or that XML cannot carry: text without one is written as it is.
_NOT_PLAIN = re.compile("[^\t\n\u0020-\u0025\u0027-\u003b=\u003f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escapedText(text: str) -> str:
    """C{text} as libxml2 serializes it in an element, less what XML cannot carry (L{xmlText})."""
    text = xmlText(text)
    for character, escape in _TEXT_ESCAPES:
        text = text.replace(character, escape)
    return text


def pathList(root: str, entry: str, paths: Iterable[str]) -> str:
    """
    A list of paths: C{<cms:root><entry>path</entry>...}. Written as text,
    character for character what L{newDocument}, L{addText} and
    L{serialize} write (a GetValues of many names is asked often: no tree
    built for it); C{root} and C{entry} are the callers' own names.
    """
    paths = list(paths)
    start = (f'<?xml version="1.0" encoding="UTF-8"?><cms:{root} xmlns:cms="{CMS_NS}" xmlns:xsi="{XSI_NS}"'
             f' xsi:schemaLocation="{SCHEMA_LOCATION}"')
    if not paths:
        return f"{start}/>"
    if _NOT_PLAIN.search("".join(paths)) is not None:
        paths = [_escapedText(path) for path in paths]
    return f"{start}><{entry}>{f'</{entry}><{entry}>'.join(paths)}</{entry}></cms:{root}>"


def parameterList(root: str, pathName: str, pairs: Iterable[tuple[str, str]]) -> str:
    """A list of parameters: C{<cms:root><Parameter><pathName>path</pathName><Value>value</Value></Parameter>...}."""
    document = newDocument(root)
    for path, value in pairs:
        parameter = etree.SubElement(document, "Parameter")
        addText(parameter, pathName, path)
        addText(parameter, "Value", value)
    return serialize(document)


def parameterValueList(pairs: Iterable[tuple[str, str]]) -> str:
    """A C{ParameterValueList} of C{(ParameterPath, Value)} pairs."""
    return parameterList("ParameterValueList", "ParameterPath", pairs)


def splitAttributePath(text: str) -> tuple[str, Optional[str]]:
    """
    C{"/BBF/Time/NTPServer1#EventOnChange"} → the path and the attribute
    name; a plain path → C{(path, None)}. The C{"#"} of a StructurePath's
    instance wildcard (C{"/Host/#/"}) is not an attribute separator.
    """
    path, sep, attribute = text.rpartition("#")
    if sep and attribute and "/" not in attribute:
        return path, attribute
    return text, None
