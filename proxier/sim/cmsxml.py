# -*- test-case-name: tests.test_sim_cmsxml -*-
"""
The XML documents ConfigurationManagement:2 passes in string arguments, as a
device reads and writes them. Sans-IO: text in, Python values out, and back.

Every document is in the namespace C{urn:schemas-upnp-org:dm:cms}, its root
element qualified (prefix C{cms}), its children unqualified, as the CMS:2
examples and every implementation found write them (UPnP forum sensor
management devicelib, libupnp-based CMS control points, devolo's gateway
notes)::

    <cms:ContentPathList>        <ContentPath>/BBF/Hosts/</ContentPath>...
    <cms:StructurePathList>      <StructurePath>/BBF/Hosts/Host/#/HostName</StructurePath>...
    <cms:InstancePathList>       <InstancePath>/BBF/Hosts/Host/0/</InstancePath>...
    <cms:ParameterValueList>     <Parameter><ParameterPath>..</ParameterPath><Value>..</Value></Parameter>...
    <cms:NodeAttributePathList>  <NodeAttributePath>/BBF/Time/NTPServer1</NodeAttributePath>...
    <cms:NodeAttributeValueList> <Node><NodeAttributePath>..</NodeAttributePath>
                                       <Access>readWrite</Access><Type>string</Type>
                                       <EventOnChange>1</EventOnChange><Version>2</Version></Node>...
    <cms:SupportedDataModels>    <SubTree><URI>..</URI><Location>..</Location>
                                          <URL>..</URL><Description>..</Description></SubTree>...
    <cms:ParameterInitialValueList> <Parameter><RelativePath>HostName</RelativePath><Value>..</Value></Parameter>...
    <cms:ACLData>                <Node><NodePath>/BBF/</NodePath><ReadRoles>..</ReadRoles>
                                       <WriteRoles>..</WriteRoles></Node>...

A NodeAttributePath may end in C{#<Attribute>} (C{/BBF/Time/NTPServer1#EventOnChange})
to ask for, or set, one attribute; SetAttributes then carries the value in a
C{<Value>} element, and also accepts the attribute as its own element
(C{<EventOnChange>1</EventOnChange>}) after a plain path.

Reading is lenient where senders differ (any namespace or none on the root,
white space around values, a C{ParameterPath} where a C{RelativePath} is
expected); what is not one of these documents is refused with CMS error 702
(Invalid XML Argument), a document listing more entries than a device takes
with 709 (Resources Exceeded).
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Sequence

from lxml import etree

from proxier.sim.cmstree import DataModelSpec
from proxier.sim.errors import cmsError
from proxier.upnp import cmsdoc, xmlstring
from proxier.upnp.cmsdoc import CMS_NS, SCHEMA_LOCATION, parameterValueList, splitAttributePath

__all__ = [
    "CMS_NS",
    "SCHEMA_LOCATION",
    "MAX_ENTRIES",
    "ATTRIBUTE_NAMES",
    "parseDocument",
    "parseContentPathList",
    "parseNodeAttributePathList",
    "parseParameterValueList",
    "parseNodeAttributeValueList",
    "parseParameterInitialValueList",
    "parsePathList",
    "splitAttributePath",
    "supportedDataModels",
    "structurePathList",
    "instancePathList",
    "parameterValueList",
    "nodeAttributeValueList",
    "aclData",
]

#: The most entries one document may carry (paths, parameters, nodes).
MAX_ENTRIES = 1024

#: The node attributes a NodeAttributePath may name after C{#}.
ATTRIBUTE_NAMES = ("Access", "Type", "EventOnChange", "AlarmOnChange", "Version")


def _text(element: etree._Element) -> str:
    if any(True for _ in cmsdoc.children(element)):
        raise cmsError(702, f"<{cmsdoc.localName(element)}> holds elements where text is expected")
    return "".join(element.itertext())


def parseDocument(value: str, *roots: str) -> etree._Element:
    """
    The document a string argument carries, whose root is one of C{roots}.

    @raise ActionError: 702 when it is empty, not well-formed, hostile or
        has another root.
    """
    try:
        root = xmlstring.decode(value)
    except xmlstring.XMLStringError as e:
        raise cmsError(702, str(e)) from None
    if cmsdoc.localName(root) not in roots:
        raise cmsError(702, f"root element <{cmsdoc.localName(root)[:40]}> is not <{'> or <'.join(roots)}>")
    return root


def _entries(root: etree._Element, name: str) -> list[etree._Element]:
    entries = []
    for node in cmsdoc.children(root):
        if cmsdoc.localName(node) != name:
            raise cmsError(702, f"<{cmsdoc.localName(node)[:40]}> in <{cmsdoc.localName(root)}>, where <{name}> is expected")
        entries.append(node)
        if len(entries) > MAX_ENTRIES:
            raise cmsError(709, f"more than {MAX_ENTRIES} <{name}> elements")
    return entries


def _pathList(value: str, root: str, entry: str) -> list[str]:
    document = parseDocument(value, root)
    return [_text(node).strip() for node in _entries(document, entry)]


def parseContentPathList(value: str) -> list[str]:
    """GetValues' C{Parameters}: the ContentPaths, in order."""
    return _pathList(value, "ContentPathList", "ContentPath")


def parseNodeAttributePathList(value: str) -> list[str]:
    """GetAttributes' C{Parameters}: the NodeAttributePaths, in order."""
    return _pathList(value, "NodeAttributePathList", "NodeAttributePath")


def parsePathList(value: str) -> list[str]:
    """
    A list of paths whatever its element names (GetACLData's StartingNodes:
    a C{StructurePathList}, C{ContentPathList} or C{ACLDataPathList}).
    """
    document = parseDocument(value, "StructurePathList", "ContentPathList", "ACLDataPathList", "NodePathList")
    entries = list(cmsdoc.children(document))
    if len(entries) > MAX_ENTRIES:
        raise cmsError(709, f"more than {MAX_ENTRIES} paths")
    return [_text(node).strip() for node in entries]


def _pairs(document: etree._Element, pathNames: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for node in _entries(document, "Parameter"):
        path: Optional[str] = None
        value: Optional[str] = None
        for field in cmsdoc.children(node):
            name = cmsdoc.localName(field)
            if name in pathNames and path is None:
                path = _text(field).strip()
            elif name == "Value" and value is None:
                value = _text(field)
            else:
                raise cmsError(702, f"unexpected <{name[:40]}> in <Parameter>")
        if path is None or value is None:
            raise cmsError(702, f"<Parameter> without <{pathNames[0]}> or <Value>")
        pairs.append((path, value))
    return pairs


def parseParameterValueList(value: str) -> list[tuple[str, str]]:
    """SetValues' C{ParameterValueList}: C{(ParameterPath, Value)} pairs, in order."""
    return _pairs(parseDocument(value, "ParameterValueList"), ("ParameterPath",))


def parseParameterInitialValueList(value: str) -> list[tuple[str, str]]:
    """
    CreateInstance's C{ChildrenInitialization}: C{(RelativePath, Value)}
    pairs. An empty argument initializes nothing.
    """
    if not value.strip():
        return []
    document = parseDocument(value, "ParameterInitialValueList", "ParameterValueList")
    return _pairs(document, ("RelativePath", "ParameterPath"))


def parseNodeAttributeValueList(value: str) -> list[tuple[str, str, str]]:
    """
    SetAttributes' C{NodeAttributeValueList}: C{(path, attribute, value)}
    triples, in order.
    """
    document = parseDocument(value, "NodeAttributeValueList")
    triples = []
    for node in _entries(document, "Node"):
        fields = list(cmsdoc.children(node))
        if not fields or cmsdoc.localName(fields[0]) not in ("NodeAttributePath", "NodePath"):
            raise cmsError(702, "<Node> does not start with <NodeAttributePath>")
        path, attribute = splitAttributePath(_text(fields[0]).strip())
        rest = fields[1:]
        if attribute is not None:
            if len(rest) != 1 or cmsdoc.localName(rest[0]) != "Value":
                raise cmsError(702, f"<Node> for {path}#{attribute} needs exactly one <Value>")
            triples.append((path, attribute, _text(rest[0]).strip()))
            continue
        if not rest:
            raise cmsError(702, f"<Node> for {path} sets no attribute")
        for field in rest:
            triples.append((path, cmsdoc.localName(field), _text(field).strip()))
        if len(triples) > MAX_ENTRIES:
            raise cmsError(709, f"more than {MAX_ENTRIES} attributes")
    return triples


# Writing (on L{proxier.upnp.cmsdoc}, which also writes GetValues' and
# GetSelectedValues' output, and an alarm list: L{parameterValueList})


def supportedDataModels(models: Iterable[DataModelSpec]) -> str:
    """GetSupportedDataModels' output."""
    document = cmsdoc.newDocument("SupportedDataModels")
    for model in models:
        subTree = etree.SubElement(document, "SubTree")
        cmsdoc.addText(subTree, "URI", model.uri)
        if model.uuid:
            cmsdoc.addText(subTree, "UUID", model.uuid)
        cmsdoc.addText(subTree, "Location", model.location)
        if model.url:
            cmsdoc.addText(subTree, "URL", model.url)
        if model.description:
            cmsdoc.addText(subTree, "Description", model.description)
    return cmsdoc.serialize(document)


def structurePathList(paths: Iterable[str]) -> str:
    """GetSupportedParameters' output."""
    return cmsdoc.pathList("StructurePathList", "StructurePath", paths)


def instancePathList(paths: Iterable[str]) -> str:
    """GetInstances' output."""
    return cmsdoc.pathList("InstancePathList", "InstancePath", paths)


def nodeAttributeValueList(nodes: Iterable[tuple[str, Mapping[str, str]]]) -> str:
    """GetAttributes' output: each node's path and its attributes, in order."""
    document = cmsdoc.newDocument("NodeAttributeValueList")
    for path, attributes in nodes:
        node = etree.SubElement(document, "Node")
        cmsdoc.addText(node, "NodeAttributePath", path)
        for name, value in attributes.items():
            cmsdoc.addText(node, name, value)
    return cmsdoc.serialize(document)


def aclData(nodes: Iterable[tuple[str, str, str]]) -> str:
    """GetACLData's output: C{(path, readRoles, writeRoles)} per node."""
    document = cmsdoc.newDocument("ACLData")
    for path, readRoles, writeRoles in nodes:
        node = etree.SubElement(document, "Node")
        cmsdoc.addText(node, "NodePath", path)
        cmsdoc.addText(node, "ReadRoles", readRoles)
        cmsdoc.addText(node, "WriteRoles", writeRoles)
    return cmsdoc.serialize(document)
