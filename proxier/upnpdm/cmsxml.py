# -*- test-case-name: tests.test_upnpdm_cmsxml -*-
"""
The XML documents ConfigurationManagement passes in string arguments, as a
control point writes and reads them. Sans-IO: Python values in, argument
text out, and back.

Written exactly as the CMS:2 examples and the project's simulated devices
write them (L{proxier.sim.cmsxml} documents the shapes): the root element
qualified in C{urn:schemas-upnp-org:dm:cms} (prefix C{cms}), its children
unqualified::

    GetValues        Parameters          <cms:ContentPathList><ContentPath>/BBF/Time/</ContentPath>...
    GetAttributes    Parameters          <cms:NodeAttributePathList><NodeAttributePath>..</NodeAttributePath>...
    SetValues        ParameterValueList  <cms:ParameterValueList><Parameter><ParameterPath>..</ParameterPath>
                                                                            <Value>..</Value></Parameter>...
    SetAttributes    NodeAttributeValueList <cms:NodeAttributeValueList><Node>
                                              <NodeAttributePath>/BBF/Time/NTPServer1#EventOnChange</NodeAttributePath>
                                              <Value>1</Value></Node>...
    CreateInstance   ChildrenInitialization <cms:ParameterInitialValueList><Parameter>
                                              <RelativePath>Alias</RelativePath><Value>..</Value></Parameter>...

Read leniently (INTEROP.md, "Description and SOAP"): any namespace or none,
on the root and on the children; white space around paths; the inner
document escaped, inline or with its own declaration (L{xmlstring.decode});
unknown elements skipped; an attribute node written either as
C{path#Attribute} with a C{<Value>} or as a plain path with one element per
attribute. What is not such a document, or lists more than L{MAX_ENTRIES}
entries, is refused with L{CMSDocumentError} — a device that answers that
is not telling the proxier anything it can use.
"""

from __future__ import annotations

import re
from itertools import islice
from sys import intern
from typing import Iterable, Optional

from lxml import etree

from proxier.sharing import internText
from proxier.upnp import cmsdoc, xmlstring
from proxier.upnp.cmsdoc import CMS_NS, DataModelEntry, parameterValueList, splitAttributePath

__all__ = [
    "CMS_NS",
    "MAX_ENTRIES",
    "CMSDocumentError",
    "DataModelEntry",
    "contentPathList",
    "nodeAttributePathList",
    "parameterValueList",
    "nodeAttributeValueList",
    "parameterInitialValueList",
    "parseSupportedDataModels",
    "parseStructurePathList",
    "parseInstancePathList",
    "parseParameterValueList",
    "parseNodeAttributeValueList",
    "splitAttributePath",
]

#: The most entries one answer may list (a whole data model of a large
#: device fits; a runaway answer does not).
MAX_ENTRIES = 20000
#: The largest inner document read (the SOAP layer caps the body as well).
MAX_DOCUMENT_BYTES = xmlstring.MAX_DOCUMENT_BYTES


class CMSDocumentError(ValueError):
    """An argument is not the CMS document it should be; C{str()} fits a log line."""


# ---- writing (on L{proxier.upnp.cmsdoc}, which also writes SetValues' C{ParameterValueList}) ----


def contentPathList(paths: Iterable[str]) -> str:
    """GetValues' C{Parameters}."""
    return cmsdoc.pathList("ContentPathList", "ContentPath", paths)


def nodeAttributePathList(paths: Iterable[str]) -> str:
    """GetAttributes' C{Parameters}."""
    return cmsdoc.pathList("NodeAttributePathList", "NodeAttributePath", paths)


def nodeAttributeValueList(changes: Iterable[tuple[str, str, str]]) -> str:
    """SetAttributes' C{NodeAttributeValueList}: C{(path, attribute, value)} triples."""
    document = cmsdoc.newDocument("NodeAttributeValueList")
    for path, attribute, value in changes:
        node = etree.SubElement(document, "Node")
        cmsdoc.addText(node, "NodeAttributePath", f"{path}#{attribute}")
        cmsdoc.addText(node, "Value", value)
    return cmsdoc.serialize(document)


def parameterInitialValueList(pairs: Iterable[tuple[str, str]]) -> str:
    """CreateInstance's C{ChildrenInitialization}; empty text when there is nothing to set."""
    pairs = list(pairs)
    if not pairs:
        return ""
    return cmsdoc.parameterList("ParameterInitialValueList", "RelativePath", pairs)


# ---- reading ---------------------------------------------------------------------------


def _text(element: Optional[etree._Element]) -> str:
    if element is None:
        return ""
    if not len(element):  # the usual leaf: its text is all there is (no comment or child inside)
        return element.text or ""
    return "".join(element.itertext())


def _document(value: str, *roots: str) -> etree._Element:
    if not isinstance(value, str):
        raise CMSDocumentError("the argument is not text")
    try:
        root = xmlstring.decode(value, MAX_DOCUMENT_BYTES)
    except xmlstring.XMLStringError as e:
        raise CMSDocumentError(str(e)) from None
    if cmsdoc.localName(root) not in roots:
        raise CMSDocumentError(f"<{cmsdoc.localName(root)[:40]}> where <{'> or <'.join(roots)}> was expected")
    return root


# lxml finds the children of a local name in any namespace or none ("{*}name")
# itself: a device's answer of thousands of entries is not walked in Python.


def _entries(root: etree._Element, name: str) -> list[etree._Element]:
    entries = list(islice(root.iterchildren(f"{{*}}{name}"), MAX_ENTRIES + 1))
    if len(entries) > MAX_ENTRIES:
        raise CMSDocumentError(f"more than {MAX_ENTRIES} <{name}> entries")
    return entries  # lenient: an element we do not know is skipped


def _field(node: etree._Element, *names: str) -> Optional[etree._Element]:
    return next(node.iterchildren(*(f"{{*}}{name}" for name in names)), None)


def parseSupportedDataModels(value: str) -> list[DataModelEntry]:
    """GetSupportedDataModels' C{SupportedDataModels}; entries without URI or Location are skipped."""
    root = _document(value, "SupportedDataModels")
    out = []
    for subTree in _entries(root, "SubTree"):
        uri = _text(_field(subTree, "URI")).strip()
        location = _text(_field(subTree, "Location")).strip()
        if not uri or not location:
            continue
        out.append(DataModelEntry(uri, location, _text(_field(subTree, "URL")).strip(),
                                  _text(_field(subTree, "Description")).strip(),
                                  _text(_field(subTree, "UUID")).strip()))
    return out


def _paths(value: str, root: str, entry: str) -> list[str]:
    document = _document(value, root)
    return [p for p in (_text(node).strip() for node in _entries(document, entry)) if p]


def parseStructurePathList(value: str) -> list[str]:
    """GetSupportedParameters' C{Result}."""
    return _paths(value, "StructurePathList", "StructurePath")


def parseInstancePathList(value: str) -> list[str]:
    """GetInstances' C{Result}."""
    return _paths(value, "InstancePathList", "InstancePath")


# A <Parameter> entry as the CMS:2 examples and the simulated devices write it, nothing else inside:
# its ParameterPath's text and its Value's, neither holding markup nor a carriage return (which the
# parser would turn into a line feed).
_PLAIN_ENTRY = re.compile(
    r"<Parameter><ParameterPath>([^<\r]*+)</ParameterPath><Value>([^<\r]*+)</Value></Parameter>")
# the references a well-formed document without a DTD can hold, and what they stand for
_REFERENCE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9A-Fa-f]+));", re.ASCII)
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _dereference(match: re.Match) -> str:
    name, decimal, hexadecimal = match.groups()
    if name:
        return _ENTITIES[name]
    return chr(int(decimal) if decimal else int(hexadecimal, 16))


def _plainEntries(value: str) -> Optional[list[tuple[str, str]]]:
    """
    The C{(path text, value text)} of every entry of a ParameterValueList
    the hardened parser has already read (so well-formed, no DTD, no entity
    but XML's own) when every element in it but the root is such a plain
    entry: read off the text by one regular expression, not walked node by
    node (issue 19: the walk was half the reading of a device's answer).
    C{None} when the document is any other shape: the walk reads it.

    Why the texts are the parser's, when the root's two tags, the
    declaration (dropped before the parser, holding no other C{<}) and six
    a match account for every C{<} of the text: in a well-formed document
    a C{<} starts a tag, a comment, a CDATA section or a processing
    instruction, or lies inside one of the last three; a match's C{<} are
    never such a start (each is followed by one of its own tag names), so
    each of those would leave a C{<} unaccounted for, as would any tag but
    the root's and the matches'. So the matches are the root's children,
    in order, and their texts hold no markup: only XML's own references,
    read as the parser reads them.
    """
    # what the parser was given: the value itself, but for white space and a byte order mark around
    # it, and the declaration dropped (L{xmlsafe.parse}); not a document escaped twice
    head = value.strip().lstrip("\ufeff").lstrip(" \t\r\n")
    if head[:1] != "<":
        return None
    declaration = 1 if head.startswith("<?xml") and head[5:6] in (" ", "\t", "\r", "\n") else 0
    pairs = _PLAIN_ENTRY.findall(value)
    if value.count("<") != 2 + declaration + 6 * len(pairs):
        return None
    if "&" in value:
        pairs = [(_REFERENCE.sub(_dereference, path), _REFERENCE.sub(_dereference, text)) for path, text in pairs]
    return pairs


def parseParameterValueList(value: str) -> list[tuple[str, str]]:
    """
    GetValues' C{ParameterValueList}: C{(path, value)} pairs in order; a
    missing Value is empty. The paths are shared strings (L{internText}):
    the values a device's watcher keeps are by path, the same for every
    device of a model (issue 19).
    """
    document = _document(value, "ParameterValueList")
    plain = _plainEntries(value)
    if plain is not None:
        if len(plain) > MAX_ENTRIES:
            raise CMSDocumentError(f"more than {MAX_ENTRIES} <Parameter> entries")
        out = [(intern(path.strip()), text) for path, text in plain]  # internText, without a call more
        for path, _ in out:
            if not path:
                raise CMSDocumentError("a <Parameter> without <ParameterPath>")
        return out
    out = []
    for node in _entries(document, "Parameter"):
        # its first ParameterPath and first Value in any namespace or none, as
        # iterchildren("{*}...") finds them, in one pass over its (two) children:
        # two lxml look-ups an entry were half the walk (issue 19)
        pathField = valueField = None
        for field in node:
            tag = field.tag
            if not isinstance(tag, str):  # a comment or processing instruction
                continue
            if pathField is None and (tag == "ParameterPath" or tag.endswith("}ParameterPath")):
                pathField = field
            elif valueField is None and (tag == "Value" or tag.endswith("}Value")):
                valueField = field
        path = _text(pathField).strip()
        if not path:
            raise CMSDocumentError("a <Parameter> without <ParameterPath>")
        out.append((internText(path), _text(valueField)))
    return out


def parseNodeAttributeValueList(value: str) -> list[tuple[str, dict[str, str]]]:
    """
    GetAttributes' C{NodeAttributeValueList}: C{(path, {attribute: value})}
    per node, in order; a node given as C{path#Attribute} and C{<Value>}
    folds into the same entry as the other attributes of that path.
    """
    document = _document(value, "NodeAttributeValueList")
    out: list[tuple[str, dict[str, str]]] = []
    index: dict[str, int] = {}
    for node in _entries(document, "Node"):
        fields = list(cmsdoc.children(node))
        if not fields or cmsdoc.localName(fields[0]) not in ("NodeAttributePath", "NodePath"):
            raise CMSDocumentError("a <Node> that does not start with <NodeAttributePath>")
        path, attribute = splitAttributePath(_text(fields[0]).strip())
        if not path:
            raise CMSDocumentError("a <Node> with an empty path")
        attributes: dict[str, str] = {}
        if attribute is not None:
            valueField = _field(node, "Value")
            attributes[attribute] = _text(valueField).strip()
        else:
            for field in fields[1:]:
                attributes[cmsdoc.localName(field)] = _text(field).strip()
        if path in index:
            out[index[path]][1].update(attributes)
        else:
            index[path] = len(out)
            out.append((path, attributes))
    return out
