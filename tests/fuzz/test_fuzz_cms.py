"""
Fuzz the XML-in-string arguments of ConfigurationManagement
(L{proxier.upnp.xmlstring}, L{proxier.upnpdm.cmsxml}, the CMS paths they
hold: L{proxier.upnpdm.cmspaths}): a document a device returns inside a
SOAP argument is read or refused with the module's error, opening no file
and no connection.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.sim import cmsxml as simcms
from proxier.upnp import cmsdoc, xmlstring
from proxier.upnpdm import cmspaths, cmsxml
from tests.fuzz._harness import XML_TOKENS, Target, assertFuzzClean

CMS_NS = "urn:schemas-upnp-org:dm:cms"
_TOKENS = XML_TOKENS + (
    b"&lt;", b"&amp;lt;", b"&lt;!DOCTYPE", b'xmlns:cms="urn:schemas-upnp-org:dm:cms"', b"<cms:", b"</cms:",
    b"<Parameter>", b"<ParameterPath>", b"<Value>", b"<Node>", b"<NodeAttributePath>", b"<SubTree>", b"<URI>",
    b"<Location>", b"/BBF/Device/", b"/UPnP/DM/", b"/#/", b"/0/", b"/4294967296/", b"/\xc2\xb2/", b"#EventOnChange",
    b"//", b"/./", b"/../",
)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def decodeArgument(data: bytes) -> None:
    """L{xmlstring.decode}, as every action client reads an XML argument."""
    root = xmlstring.decode(_text(data))
    xmlstring.encode(root)


_PARSERS = (
    (cmsxml.parseStructurePathList, True),
    (cmsxml.parseInstancePathList, False),
)


def parseCMSDocument(data: bytes) -> None:
    """
    Every reader of L{proxier.upnpdm.cmsxml}, then L{cmspaths.parse} on
    each path they gave; L{cmsxml.CMSDocumentError} when none of them
    accepted the document.
    """
    value = _text(data)
    paths: list[tuple[str, bool]] = []
    accepted = 0
    for parser, wildcard in _PARSERS:
        try:
            paths += [(p, wildcard) for p in parser(value)]
        except cmsxml.CMSDocumentError:
            continue
        accepted += 1
    for pairs in (cmsxml.parseParameterValueList, cmsxml.parseNodeAttributeValueList):
        try:
            paths += [(path, False) for path, _ in pairs(value)]  # type: ignore[operator]
        except cmsxml.CMSDocumentError:
            continue
        accepted += 1
    try:
        for entry in cmsxml.parseSupportedDataModels(value):
            assert entry.uri and entry.location
        accepted += 1
    except cmsxml.CMSDocumentError:
        pass
    for path, wildcard in paths:
        try:
            parsed = cmspaths.parse(path, wildcard=wildcard)
        except cmspaths.CMSPathError:
            continue
        cmspaths.structureOf(parsed.text)
        cmsdoc.splitAttributePath(parsed.text)
        if parsed.partial and parsed.segments and type(parsed.segments[-1]) is int:
            assert cmspaths.instanceNumberOf(parsed.text) == parsed.segments[-1]
    if not accepted:
        raise cmsxml.CMSDocumentError("no reader accepted the document")


def _seeds() -> list[str]:
    from tests.test_upnp_soap import PVL
    from tests.test_upnp_xmlstring import DOC

    return [
        DOC,
        PVL,
        "&lt;cms:StructurePathList xmlns:cms=&quot;urn:schemas-upnp-org:dm:cms&quot;&gt;"
        "&lt;StructurePath&gt;/BBF/Device/&lt;/StructurePath&gt;&lt;/cms:StructurePathList&gt;",
        simcms.supportedDataModels([cmsdoc.DataModelEntry("urn:broadband-forum-org:tr-181-2-17-0", "/BBF/",
                                                          "http://127.0.0.1:1/tr-181.xml", "TR-181")]),
        simcms.structurePathList(["/BBF/Device/", "/BBF/Device/Hosts/Host/#/", "/BBF/Device/Hosts/Host/#/IPAddress"]),
        simcms.instancePathList(["/BBF/Device/Hosts/Host/1/", "/BBF/Device/Hosts/Host/42/"]),
        simcms.nodeAttributeValueList([("/BBF/Device/Time/NTPServer1", {"Version": "1", "EventOnChange": "1"}),
                                       ("/UPnP/DM/DeviceInfo/", {"AccessRole": "Public"})]),
        cmsdoc.parameterValueList([("/BBF/Device/Time/NTPServer1", "a<b>&'\"c"), ("/UPnP/DM/X", "")]),
        cmsxml.nodeAttributeValueList([("/BBF/Device/Time/NTPServer1", "EventOnChange", "1")]),
        cmsxml.contentPathList(["/BBF/Device/Time/", "/BBF/Device/Hosts/Host/1/IPAddress"]),
        cmsxml.parameterInitialValueList([("/BBF/Device/Hosts/Host/#/Alias", "x")]),
    ]


def _bytesSeeds() -> list[bytes]:
    return [s.encode("utf-8") for s in _seeds()]


TARGETS = [
    Target("xmlstring", __name__, decodeArgument, (xmlstring.XMLStringError,), _bytesSeeds, _TOKENS, xml=True),
    Target("cms", __name__, parseCMSDocument, (cmsxml.CMSDocumentError,), _bytesSeeds, _TOKENS, xml=True),
]


class CMSFuzzTests(unittest.TestCase):
    def test_xmlString(self) -> None:
        """
        Mutated XML-in-string arguments (escaped once or twice) decode or
        fail with L{xmlstring.XMLStringError}, within a second each, opening
        no file and no connection.
        """
        assertFuzzClean(self, TARGETS[0])

    def test_cmsDocuments(self) -> None:
        """
        Mutated CMS documents (path lists, value lists, attribute lists,
        data models) are read or refused with L{cmsxml.CMSDocumentError},
        and each path they hold parses or fails with
        L{cmspaths.CMSPathError}, within a second each, opening no file and
        no connection.
        """
        assertFuzzClean(self, TARGETS[1])
