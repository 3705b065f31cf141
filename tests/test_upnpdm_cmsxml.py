"""
Tests for L{proxier.upnpdm.cmsxml}: the documents the proxy module writes
are read by the simulated device's parser, the documents the simulated
device writes are read by the proxy module, and what other devices send —
or a hostile one — is read leniently or refused cleanly.
"""

from __future__ import annotations

import html

from twisted.trial import unittest

from proxier.sim import cmsxml as device
from proxier.sim.cmstree import DataModelSpec
from proxier.upnp import cmsdoc
from proxier.upnpdm import cmsxml

NS = 'xmlns:cms="urn:schemas-upnp-org:dm:cms"'


class WritingTests(unittest.TestCase):
    """What the proxier writes, as a device reads it."""

    def test_contentPathList(self) -> None:
        """GetValues' Parameters round-trip through the device's parser."""
        paths = ["/BBF/Time/", "/BBF/Hosts/Host/1/IPAddress"]
        self.assertEqual(device.parseContentPathList(cmsxml.contentPathList(paths)), paths)

    def test_nodeAttributePathList(self) -> None:
        """GetAttributes' Parameters round-trip."""
        paths = ["/BBF/Time/NTPServer1", "/BBF/Hosts/Host/"]
        self.assertEqual(device.parseNodeAttributePathList(cmsxml.nodeAttributePathList(paths)), paths)

    def test_parameterValueList(self) -> None:
        """SetValues' list keeps values exactly, markup characters included."""
        pairs = [("/BBF/Time/NTPServer1", "a<b>&'\"c"), ("/BBF/Time/Enable", "1"), ("/BBF/X", "")]
        self.assertEqual(device.parseParameterValueList(cmsxml.parameterValueList(pairs)), pairs)

    def test_nodeAttributeValueList(self) -> None:
        """SetAttributes' list is the path#Attribute form with a Value."""
        changes = [("/BBF/Time/NTPServer1", "EventOnChange", "1"), ("/BBF/Time/Enable", "EventOnChange", "0")]
        self.assertEqual(device.parseNodeAttributeValueList(cmsxml.nodeAttributeValueList(changes)), changes)

    def test_parameterInitialValueList(self) -> None:
        """CreateInstance's initialization; nothing to set is an empty argument."""
        self.assertEqual(device.parseParameterInitialValueList(
            cmsxml.parameterInitialValueList([("Alias", "cpe-tv")])), [("Alias", "cpe-tv")])
        self.assertEqual(cmsxml.parameterInitialValueList([]), "")

    def test_pathListAsTheTreeWritesIt(self) -> None:
        """A path list, written as text, is character for character the document lxml writes of it."""
        lists = [[], [""], ["/BBF/Time/", "/BBF/Hosts/Host/1/IPAddress"],
                 ["a&b<c>d\r\ne\"f'g ]]>", "\x00\x1f\ud800\ufffe", "\u00e9\U0001f600\t", "&amp;"]]
        for paths in lists:
            for root, entry in (("ContentPathList", "ContentPath"), ("NodeAttributePathList", "NodeAttributePath")):
                with self.subTest(paths=paths, root=root):
                    document = cmsdoc.newDocument(root)
                    for path in paths:
                        cmsdoc.addText(document, entry, path)
                    self.assertEqual(cmsdoc.pathList(root, entry, paths), cmsdoc.serialize(document))

    def test_characterXMLCannotCarryIsDropped(self) -> None:
        """A value with a character XML 1.0 cannot hold is written without it rather than failing."""
        text = cmsxml.parameterValueList([("/BBF/X", "a\x00b\x1fc")])
        self.assertEqual(device.parseParameterValueList(text), [("/BBF/X", "abc")])


class ReadingTests(unittest.TestCase):
    """What devices answer, as the proxier reads it."""

    def test_supportedDataModels(self) -> None:
        """The device's SupportedDataModels: URI, Location, URL and Description."""
        text = device.supportedDataModels([DataModelSpec("urn:x", "/X/", "http://u", "d"),
                                           DataModelSpec("urn:y", "/Y/")])
        self.assertEqual(cmsxml.parseSupportedDataModels(text),
                         [cmsxml.DataModelEntry("urn:x", "/X/", "http://u", "d"), cmsxml.DataModelEntry("urn:y", "/Y/")])

    def test_supportedDataModelsUUID(self) -> None:
        """A SubTree's CMS:2 UUID is read as the device gives it, spaces trimmed; none is empty."""
        given = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
        text = device.supportedDataModels([DataModelSpec("urn:x", "/X/", uuid=given), DataModelSpec("urn:y", "/Y/")])
        self.assertEqual([e.uuid for e in cmsxml.parseSupportedDataModels(text)], [given, ""])
        text = (f"<cms:SupportedDataModels {NS}><SubTree><URI>urn:a</URI><Location>/A/</Location>"
                f"<UUID> bogus </UUID></SubTree></cms:SupportedDataModels>")
        self.assertEqual(cmsxml.parseSupportedDataModels(text), [cmsxml.DataModelEntry("urn:a", "/A/", uuid="bogus")])

    def test_supportedDataModelsWithoutURIOrLocation(self) -> None:
        """A SubTree without URI or Location is skipped, not fatal."""
        text = (f"<cms:SupportedDataModels {NS}><SubTree><URI>urn:a</URI></SubTree>"
                "<SubTree><URI> urn:b </URI><Location> /B/ </Location></SubTree></cms:SupportedDataModels>")
        self.assertEqual(cmsxml.parseSupportedDataModels(text), [cmsxml.DataModelEntry("urn:b", "/B/")])

    def test_pathLists(self) -> None:
        """StructurePathList and InstancePathList, as the device writes them."""
        self.assertEqual(cmsxml.parseStructurePathList(device.structurePathList(["/A/#/B", "/A/"])), ["/A/#/B", "/A/"])
        self.assertEqual(cmsxml.parseInstancePathList(device.instancePathList(["/A/0/", "/A/3/"])), ["/A/0/", "/A/3/"])

    def test_parameterValueList(self) -> None:
        """GetValues' answer keeps order, markup and white space inside values."""
        pairs = [("/BBF/A", " x&<y> "), ("/BBF/B", "")]
        self.assertEqual(cmsxml.parseParameterValueList(device.parameterValueList(pairs)), pairs)

    def test_nodeAttributeValueList(self) -> None:
        """GetAttributes' answer, one attribute per element."""
        text = device.nodeAttributeValueList([("/BBF/A", {"Access": "readWrite", "Type": "string",
                                                          "EventOnChange": "1"})])
        self.assertEqual(cmsxml.parseNodeAttributeValueList(text),
                         [("/BBF/A", {"Access": "readWrite", "Type": "string", "EventOnChange": "1"})])

    def test_nodeAttributeValueListHashForm(self) -> None:
        """Nodes as path#Attribute with a Value fold into one entry per path."""
        text = (f"<cms:NodeAttributeValueList {NS}>"
                "<Node><NodeAttributePath>/BBF/A#Access</NodeAttributePath><Value>readOnly</Value></Node>"
                "<Node><NodeAttributePath>/BBF/A#Type</NodeAttributePath><Value>int</Value></Node>"
                "<Node><NodeAttributePath>/BBF/T/#/</NodeAttributePath><Access>readWrite</Access></Node>"
                "</cms:NodeAttributeValueList>")
        self.assertEqual(cmsxml.parseNodeAttributeValueList(text),
                         [("/BBF/A", {"Access": "readOnly", "Type": "int"}), ("/BBF/T/#/", {"Access": "readWrite"})])

    def test_lenient(self) -> None:
        """No namespace, another namespace, a declaration, surrounding white space, unknown elements, comments, order."""
        variants = [
            "<ParameterValueList><Parameter><ParameterPath>/A</ParameterPath><Value>1</Value></Parameter>"
            "</ParameterValueList>",
            '\n  <?xml version="1.0"?><x:ParameterValueList xmlns:x="urn:other"><x:Parameter><x:ParameterPath>/A'
            "</x:ParameterPath><x:Value>1</x:Value><Extra/></x:Parameter><Junk/></x:ParameterValueList>  ",
            html.escape(f"<cms:ParameterValueList {NS}><Parameter><ParameterPath> /A </ParameterPath>"
                        "<Value>1</Value></Parameter></cms:ParameterValueList>"),
            "<ParameterValueList><!-- c --><Parameter><Value><!-- c -->1</Value><ParameterPath>/<!-- c -->A"
            "</ParameterPath><Value>2</Value></Parameter></ParameterValueList>",
            # fields among a comment, a processing instruction, look-alikes; the first of each counts
            '<ParameterValueList><Parameter><!-- c --><?pi x?><ValueX>0</ValueX><y:Value xmlns:y="urn:y">1</y:Value>'
            "<Path>/B</Path><ParameterPath>/A</ParameterPath><ParameterPath>/C</ParameterPath><Value>3</Value>"
            "</Parameter></ParameterValueList>",
        ]
        for text in variants:
            with self.subTest(text=text[:40]):
                self.assertEqual(cmsxml.parseParameterValueList(text), [("/A", "1")])

    def test_plainEntriesAsTheWalk(self) -> None:
        """
        A ParameterValueList of plain entries only is read off its text
        (issue 19), and reads as the walk of its nodes reads it: references,
        white space, a declaration, a byte order mark, another namespace, text
        between entries. Any other shape is left to the walk: an entry with
        more inside, a carriage return, a comment, CDATA or a processing
        instruction (which may hold what looks like an entry), a document
        escaped twice.
        """
        entry = "<Parameter><ParameterPath>{}</ParameterPath><Value>{}</Value></Parameter>"
        plain = [
            f"<cms:ParameterValueList {NS}>" + entry.format("/A", "1") + entry.format(" /B/0/C ", "")
            + entry.format("/D", "a &amp; b &lt;c&gt; &quot;&apos; &#233;&#x20AC; ]&gt;") + "</cms:ParameterValueList>",
            '\ufeff \n<?xml version="1.0" encoding="ISO-8859-1"?>\n<ParameterValueList xmlns="urn:other">\n'
            + entry.format("/A", " x\ty\n ") + "\n text\n" + entry.format("/B", "&#13;") + "</ParameterValueList>\n",
            "<ParameterValueList></ParameterValueList>",
        ]
        walked = [
            "<ParameterValueList>" + entry.format("/A", "1\r\n2") + "</ParameterValueList>",
            "<ParameterValueList>" + entry.format("/A", "1") + "<Parameter><ParameterPath>/B</ParameterPath>"
            "<Value>2</Value><Extra/></Parameter></ParameterValueList>",
            "<ParameterValueList><!--" + entry.format("/X", "0") + "-->" + entry.format("/A", "1") + "<B/>"
            "</ParameterValueList>",
            "<ParameterValueList><?pi " + entry.format("/X", "0") + "?>" + entry.format("/A", "1")
            + "</ParameterValueList>",
            "<?xml-stylesheet " + entry.format("/X", "0") + "?><ParameterValueList>" + entry.format("/A", "1")
            + "</ParameterValueList>",
            "<ParameterValueList>" + entry.format("/A", "<![CDATA[1]]>") + "</ParameterValueList>",
            "&lt;ParameterValueList&gt;&lt;!--" + entry.format("/X", "0") + "--&gt;<B></B>"
            + html.escape(entry.format("/A", "1")) + "&lt;/ParameterValueList&gt;",
            "<ParameterValueList><x:Parameter xmlns:x='urn:x'><x:ParameterPath>/A</x:ParameterPath><x:Value>1</x:Value>"
            "</x:Parameter></ParameterValueList>",
        ]
        # anything else put anywhere in a plain document: what reads at all reads as the walk reads it
        inserts = ["<!-- c -->", "<?pi x?>", "<![CDATA[x]]>", "<X/>", "<X>y</X>", "<!--" + entry.format("/X", "0") + "-->",
                   "<?pi " + entry.format("/X", "0") + "?>", "<![CDATA[" + entry.format("/X", "0") + "]]>"]
        base = '<?xml version="1.0"?><ParameterValueList>' + entry.format("/A", "1") + entry.format("/B", "2") \
            + "</ParameterValueList>"
        for at in [i for i, c in enumerate(base) if c == "<"] + [base.index("1<"), base.index("2<")]:
            for insert in inserts:
                text = base[:at] + insert + base[at:]
                try:
                    read = cmsxml.parseParameterValueList(text)
                except cmsxml.CMSDocumentError:
                    continue
                walk = self.patch(cmsxml, "_plainEntries", lambda value: None)
                self.assertEqual(read, cmsxml.parseParameterValueList(text), text)
                walk.restore()
                self.assertIsNone(cmsxml._plainEntries(text), text)
        for text, expected in [(t, True) for t in plain] + [(t, False) for t in walked]:
            with self.subTest(text=text[:60]):
                self.assertEqual(cmsxml._plainEntries(text) is not None, expected)
                read = cmsxml.parseParameterValueList(text)
                walk = self.patch(cmsxml, "_plainEntries", lambda value: None)
                self.assertEqual(read, cmsxml.parseParameterValueList(text))
                walk.restore()
                self.assertTrue(read or text.startswith("<ParameterValueList></"))

    def test_refused(self) -> None:
        """Empty, malformed, hostile or wrongly rooted documents are refused with CMSDocumentError."""
        bad = [
            "", "   ", "<ParameterValueList>", "not xml at all",
            '<!DOCTYPE x [<!ENTITY e "boom">]><ParameterValueList>&e;</ParameterValueList>',
            "<StructurePathList/>",
            "<ParameterValueList><Parameter><Value>1</Value></Parameter></ParameterValueList>",
        ]
        for text in bad:
            with self.subTest(text=text[:40]):
                self.assertRaises(cmsxml.CMSDocumentError, cmsxml.parseParameterValueList, text)
        self.assertRaises(cmsxml.CMSDocumentError, cmsxml.parseParameterValueList, None)  # type: ignore[arg-type]

    def test_entryCap(self) -> None:
        """A document listing more than MAX_ENTRIES entries is refused."""
        entries = "".join("<InstancePath>/A/%d/</InstancePath>" % i for i in range(cmsxml.MAX_ENTRIES + 1))
        self.assertRaises(cmsxml.CMSDocumentError, cmsxml.parseInstancePathList,
                          f"<InstancePathList>{entries}</InstancePathList>")

    def test_splitAttributePath(self) -> None:
        """path#Attribute splits; an instance wildcard's # does not."""
        self.assertEqual(cmsxml.splitAttributePath("/A/B#Type"), ("/A/B", "Type"))
        self.assertEqual(cmsxml.splitAttributePath("/A/#/"), ("/A/#/", None))
        self.assertEqual(cmsxml.splitAttributePath("/A/#/B"), ("/A/#/B", None))
