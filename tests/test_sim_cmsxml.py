"""Tests for L{proxier.sim.cmsxml}: the CMS:2 XML-in-string documents, read and written by a device."""

from __future__ import annotations

import html

from lxml import etree
from twisted.trial import unittest

from proxier.sim import cmsxml
from proxier.sim.cmstree import DataModelSpec
from proxier.sim.errors import ActionError
from proxier.upnp import soap, xmlstring

NS = 'xmlns:cms="urn:schemas-upnp-org:dm:cms"'


def code(test: unittest.TestCase, f, *args) -> int:
    with test.assertRaises(ActionError) as caught:
        f(*args)
    return caught.exception.code


class ReadTests(unittest.TestCase):
    def test_contentPathList(self) -> None:
        """A ContentPathList gives its paths in order, white space trimmed, with or without a declaration."""
        doc = f'<?xml version="1.0" encoding="UTF-8"?>\n<cms:ContentPathList {NS}>' \
              '<ContentPath> /BBF/Time/ </ContentPath><ContentPath>/UPnP/DM/</ContentPath></cms:ContentPathList>'
        self.assertEqual(cmsxml.parseContentPathList(doc), ["/BBF/Time/", "/UPnP/DM/"])

    def test_anyNamespace(self) -> None:
        """The root element is matched by its local name whatever namespace a control point gives it."""
        for root in ('<ContentPathList>', '<x:ContentPathList xmlns:x="urn:schemas-upnp-org:dm:ConfigurationManagement">'):
            end = "</ContentPathList>" if root == "<ContentPathList>" else "</x:ContentPathList>"
            self.assertEqual(cmsxml.parseContentPathList(root + "<ContentPath>/BBF/</ContentPath>" + end), ["/BBF/"])

    def test_escapedTwice(self) -> None:
        """A document escaped once too often (a sloppy control point) still reads."""
        doc = f'<cms:ContentPathList {NS}><ContentPath>/BBF/</ContentPath></cms:ContentPathList>'
        self.assertEqual(cmsxml.parseContentPathList(html.escape(doc)), ["/BBF/"])

    def test_parameterValueList(self) -> None:
        """A ParameterValueList gives (path, value) pairs; values keep their spaces; an empty Value is ''."""
        doc = f'<cms:ParameterValueList {NS}><Parameter><ParameterPath>/BBF/Time/NTPServer1</ParameterPath>' \
              '<Value> a b </Value></Parameter><Parameter><ParameterPath>/BBF/Time/NTPServer2</ParameterPath>' \
              '<Value/></Parameter></cms:ParameterValueList>'
        self.assertEqual(cmsxml.parseParameterValueList(doc),
                         [("/BBF/Time/NTPServer1", " a b "), ("/BBF/Time/NTPServer2", "")])

    def test_initialValues(self) -> None:
        """ChildrenInitialization takes RelativePath (or ParameterPath) pairs; an empty argument is no values."""
        doc = f'<cms:ParameterInitialValueList {NS}><Parameter><RelativePath>HostName</RelativePath>' \
              '<Value>tv</Value></Parameter></cms:ParameterInitialValueList>'
        self.assertEqual(cmsxml.parseParameterInitialValueList(doc), [("HostName", "tv")])
        alt = doc.replace("RelativePath", "ParameterPath").replace("ParameterInitialValueList", "ParameterValueList")
        self.assertEqual(cmsxml.parseParameterInitialValueList(alt), [("HostName", "tv")])
        self.assertEqual(cmsxml.parseParameterInitialValueList("  "), [])

    def test_nodeAttributePaths(self) -> None:
        """GetAttributes' list reads in order; a '#Attribute' suffix is split off, a '#' instance wildcard is not."""
        doc = f'<cms:NodeAttributePathList {NS}><NodeAttributePath>/BBF/Time/NTPServer1#EventOnChange</NodeAttributePath>' \
              '<NodeAttributePath>/BBF/Hosts/Host/#/</NodeAttributePath></cms:NodeAttributePathList>'
        paths = cmsxml.parseNodeAttributePathList(doc)
        self.assertEqual([cmsxml.splitAttributePath(p) for p in paths],
                         [("/BBF/Time/NTPServer1", "EventOnChange"), ("/BBF/Hosts/Host/#/", None)])

    def test_nodeAttributeValues(self) -> None:
        """SetAttributes reads attributes as elements after a plain path, or one Value after a '#Attribute' path."""
        doc = f'<cms:NodeAttributeValueList {NS}><Node><NodeAttributePath>/BBF/Time/NTPServer1</NodeAttributePath>' \
              '<EventOnChange>0</EventOnChange></Node><Node><NodeAttributePath>/BBF/Time/NTPServer2#EventOnChange' \
              '</NodeAttributePath><Value>1</Value></Node></cms:NodeAttributeValueList>'
        self.assertEqual(cmsxml.parseNodeAttributeValueList(doc),
                         [("/BBF/Time/NTPServer1", "EventOnChange", "0"), ("/BBF/Time/NTPServer2", "EventOnChange", "1")])

    def test_pathListAnyRoot(self) -> None:
        """GetACLData's StartingNodes may be a StructurePathList or ContentPathList."""
        for root, entry in (("StructurePathList", "StructurePath"), ("ContentPathList", "ContentPath")):
            doc = f"<cms:{root} {NS}><{entry}>/BBF/</{entry}></cms:{root}>"
            self.assertEqual(cmsxml.parsePathList(doc), ["/BBF/"])

    def test_invalidXMLArgument(self) -> None:
        """Everything that is not the expected document is 702 Invalid XML Argument."""
        entity = '<!DOCTYPE x [<!ENTITY e "boom">]><cms:ContentPathList ' + NS + '><ContentPath>&e;</ContentPath></cms:ContentPathList>'
        cases = [
            (cmsxml.parseContentPathList, ""),
            (cmsxml.parseContentPathList, "/BBF/Time/"),
            (cmsxml.parseContentPathList, f"<cms:ContentPathList {NS}><ContentPath>"),
            (cmsxml.parseContentPathList, f"<cms:ParameterValueList {NS}/>"),
            (cmsxml.parseContentPathList, f"<cms:ContentPathList {NS}><Path>/BBF/</Path></cms:ContentPathList>"),
            (cmsxml.parseContentPathList, f"<cms:ContentPathList {NS}><ContentPath><b>x</b></ContentPath></cms:ContentPathList>"),
            (cmsxml.parseContentPathList, entity),
            (cmsxml.parseParameterValueList, f"<cms:ParameterValueList {NS}><Parameter><Value>x</Value></Parameter></cms:ParameterValueList>"),
            (cmsxml.parseParameterValueList, f"<cms:ParameterValueList {NS}><Parameter><ParameterPath>/a</ParameterPath><Value>1</Value><Extra/></Parameter></cms:ParameterValueList>"),
            (cmsxml.parseNodeAttributeValueList, f"<cms:NodeAttributeValueList {NS}><Node><EventOnChange>1</EventOnChange></Node></cms:NodeAttributeValueList>"),
            (cmsxml.parseNodeAttributeValueList, f"<cms:NodeAttributeValueList {NS}><Node><NodeAttributePath>/a</NodeAttributePath></Node></cms:NodeAttributeValueList>"),
            (cmsxml.parseNodeAttributeValueList, f"<cms:NodeAttributeValueList {NS}><Node><NodeAttributePath>/a#Access</NodeAttributePath></Node></cms:NodeAttributeValueList>"),
        ]
        for parse, text in cases:
            self.assertEqual(code(self, parse, text), 702, text)

    def test_tooManyEntries(self) -> None:
        """More entries than a device takes in one document is 709 Resources Exceeded."""
        doc = f"<cms:ContentPathList {NS}>" + "<ContentPath>/BBF/</ContentPath>" * (cmsxml.MAX_ENTRIES + 1) + "</cms:ContentPathList>"
        self.assertEqual(code(self, cmsxml.parseContentPathList, doc), 709)
        self.assertEqual(len(cmsxml.parseContentPathList(doc.replace("<ContentPath>/BBF/</ContentPath>", "", 1))),
                         cmsxml.MAX_ENTRIES)


class WriteTests(unittest.TestCase):
    def parse(self, text: str) -> etree._Element:
        root = xmlstring.decode(text)
        self.assertEqual(etree.QName(root).namespace, cmsxml.CMS_NS)
        self.assertTrue(text.startswith('<?xml version="1.0" encoding="UTF-8"?>'))
        return root

    def test_supportedDataModels(self) -> None:
        """SupportedDataModels lists each SubTree's URI, Location, URL and Description (optional ones left out when empty)."""
        root = self.parse(cmsxml.supportedDataModels([DataModelSpec("urn:a", "/A/", "http://x/a", "A"),
                                                      DataModelSpec("urn:b", "/B/")]))
        subTrees = root.findall("SubTree")
        self.assertEqual([[c.tag for c in s] for s in subTrees], [["URI", "Location", "URL", "Description"], ["URI", "Location"]])
        self.assertEqual(subTrees[1].findtext("Location"), "/B/")

    def test_listsRoundTrip(self) -> None:
        """Path lists and value lists a device writes read back to what was written — and survive SOAP."""
        values = [("/BBF/Time/NTPServer1", "a <b> & 'c'"), ("/BBF/Time/NTPServer2", "")]
        text = cmsxml.parameterValueList(values)
        body = soap.encodeResponse("urn:schemas-upnp-org:service:ConfigurationManagement:2", "GetValues",
                                   {"ParameterValueList": text})
        carried = soap.decodeResponse(body, "GetValues")["ParameterValueList"]
        self.assertEqual(cmsxml.parseParameterValueList(carried), values)
        root = self.parse(cmsxml.structurePathList(["/BBF/", "/BBF/Hosts/Host/#/"]))
        self.assertEqual([e.text for e in root.findall("StructurePath")], ["/BBF/", "/BBF/Hosts/Host/#/"])
        root = self.parse(cmsxml.instancePathList(["/BBF/Hosts/Host/0/"]))
        self.assertEqual([e.text for e in root.findall("InstancePath")], ["/BBF/Hosts/Host/0/"])

    def test_nodeAttributeValueList(self) -> None:
        """Attributes come as one element each, after the node's path, in the order given."""
        root = self.parse(cmsxml.nodeAttributeValueList([("/BBF/Time/NTPServer1", {"Access": "readWrite", "Version": "2"})]))
        node = root.find("Node")
        self.assertEqual([(c.tag, c.text) for c in node],
                         [("NodeAttributePath", "/BBF/Time/NTPServer1"), ("Access", "readWrite"), ("Version", "2")])

    def test_aclData(self) -> None:
        """ACLData gives each node's read and write roles."""
        root = self.parse(cmsxml.aclData([("/BBF/", "Public,Basic,Admin", "")]))
        self.assertEqual([(c.tag, c.text or "") for c in root.find("Node")],
                         [("NodePath", "/BBF/"), ("ReadRoles", "Public,Basic,Admin"), ("WriteRoles", "")])
