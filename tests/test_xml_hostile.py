"""
The hostile-XML corpus (L{tests.hostilexml}) against every XML entry point of
the product: each refuses with its documented error (or its documented clean
refusal), raises nothing else, opens no file and connects nowhere.

Opens are seen by inotify on the canary directory, connections by a
listener on 127.0.0.1; L{StraceTests} runs the whole matrix again in a child
under strace and requires that no file is named and no socket made at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Callable, Optional
from xml.sax.saxutils import escape

from twisted.trial import unittest

from proxier import demo, xmlsafe
from proxier.cwmp import codec, schema
from proxier.printer import model as printermodel
from proxier.sim import cmsxml as simcmsxml
from proxier.sim.errors import ActionError
from proxier.upnp import description, gena, soap, xmlstring
from proxier.upnp.dps import codec as dpscodec
from proxier.upnpdm import bmsdiagnostics, cmsxml
from tests._helpers import subprocessEnv
from tests.hostilexml import INERT, PAYLOAD, REFUSED, Hostile, Tripwire, corpus, tripwireFor

_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_CMS = "urn:schemas-upnp-org:dm:cms"
_DPS = "urn:schemas-upnp-org:gw:DeviceProtection"


def _envelope(body: str) -> str:
    return f'<s:Envelope xmlns:s="{_SOAP}" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>{body}</s:Body></s:Envelope>'


DESCRIPTION = (
    '<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>'
    "<device><deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>"
    f"<friendlyName>{PAYLOAD}</friendlyName><manufacturer>m</manufacturer><modelName>n</modelName>"
    "<UDN>uuid:00000000-0000-0000-0000-000000000001</UDN></device></root>"
)
SCPD = (
    '<scpd xmlns="urn:schemas-upnp-org:service-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>'
    "<actionList><action><name>GetX</name><argumentList><argument><name>X</name><direction>out</direction>"
    f"<relatedStateVariable>X</relatedStateVariable></argument></argumentList></action></actionList>"
    f'<serviceStateTable><stateVariable sendEvents="no"><name>X</name><dataType>string</dataType>'
    f"<defaultValue>{PAYLOAD}</defaultValue></stateVariable></serviceStateTable></scpd>"
)
RESPONSE = _envelope(f'<u:GetXResponse xmlns:u="urn:schemas-upnp-org:service:X:1"><X>{PAYLOAD}</X></u:GetXResponse>')
REQUEST = _envelope(f'<u:SetX xmlns:u="urn:schemas-upnp-org:service:X:1"><X>{PAYLOAD}</X></u:SetX>')
FAULT = _envelope(
    "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
    '<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>501</errorCode>'
    f"<errorDescription>{PAYLOAD}</errorDescription></UPnPError></detail></s:Fault>"
)
PROPERTYSET = f'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><X>{PAYLOAD}</X></e:property></e:propertyset>'
NOTIFY_HEADERS = {"NT": "upnp:event", "NTS": "upnp:propchange", "SID": "uuid:1", "SEQ": "0"}
PARAMETER_VALUES = (
    f'<cms:ParameterValueList xmlns:cms="{_CMS}"><Parameter><ParameterPath>/UPnP/DM/X</ParameterPath>'
    f"<Value>{PAYLOAD}</Value></Parameter></cms:ParameterValueList>"
)
STRUCTURE_PATHS = f'<cms:StructurePathList xmlns:cms="{_CMS}"><StructurePath>/UPnP/{PAYLOAD}</StructurePath></cms:StructurePathList>'
CONTENT_PATHS = f'<cms:ContentPathList xmlns:cms="{_CMS}"><ContentPath>/UPnP/{PAYLOAD}</ContentPath></cms:ContentPathList>'
IDENTITY = f'<Identity xmlns="{_DPS}"><User><Name>u{PAYLOAD}</Name></User></Identity>'
ACL = f'<ACL xmlns="{_DPS}"><Identities/><Roles><Role><Name>Admin{PAYLOAD}</Name></Role></Roles></ACL>'
NSLOOKUP = (
    '<bms:NSLookupResult xmlns:bms="urn:schemas-upnp-org:dm:bms"><Result><Status>Success</Status>'
    f"<AnswerType>Authoritative</AnswerType><HostNameReturned>h{PAYLOAD}</HostNameReturned>"
    "<IPAddresses>192.0.2.1</IPAddresses><DNSServerIP>192.0.2.53</DNSServerIP><ResponseTime>1</ResponseTime>"
    "</Result></bms:NSLookupResult>"
)
CWMP = (
    f'<soap:Envelope xmlns:soap="{_SOAP}" xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap:Header>'
    f'<cwmp:ID soap:mustUnderstand="1">id{PAYLOAD}</cwmp:ID></soap:Header>'
    "<soap:Body><cwmp:GetRPCMethods/></soap:Body></soap:Envelope>"
)

PRINT_SERVICE = (
    '<dm:document xmlns:dm="urn:broadband-forum-org:cwmp:datamodel-1-8" spec="urn:x">'
    f"<description>{PAYLOAD}</description>"
    '<model name="PrintService:1.0"><parameter name="PrintServiceNumberOfEntries" access="readOnly">'
    "<syntax><unsignedInt/></syntax></parameter>"
    '<object name="PrintService.{i}." access="readOnly" minEntries="0" maxEntries="unbounded"'
    ' numEntriesParameter="PrintServiceNumberOfEntries"/></model></dm:document>'
)


@dataclass(frozen=True)
class Entry:
    """
    One XML entry point.

    @ivar call: takes the document (bytes, or text when C{text}).
    @ivar errors: the exceptions its documentation promises.
    @ivar refused: for an entry point that refuses by what it returns
        (C{decodeFault}'s C{None}, C{parseNSLookupResult}'s C{()}), whether a
        result is that refusal.
    @ivar textual: it reads text, not bytes (a str argument, or bytes it
        decodes itself by a charset): hostility that lies only in the byte
        encoding does not reach it.
    """

    name: str
    template: str
    call: Callable[[Any], Any]
    errors: tuple[type[BaseException], ...]
    text: bool = False
    refused: Optional[Callable[[Any], bool]] = None
    textual: bool = False

    def feed(self, hostile: Hostile) -> Any:
        """Hand C{hostile}, built on this entry's template, to the entry point."""
        if self.text:
            return self.call(hostile.text(self.template))
        return self.call(hostile.document(self.template))

    def kind(self, hostile: Hostile) -> str:
        """What this entry point must make of C{hostile}."""
        if hostile.bytesOnly and (self.text or self.textual):
            return INERT
        return hostile.kind


def _responseThenCMS(text: str) -> list[str]:
    """A device's GetSupportedParameters answer: the SOAP response, then the XML-in-string it carries."""
    envelope = _envelope(f'<u:GetSupportedParametersResponse xmlns:u="urn:schemas-upnp-org:service:ConfigurationManagement:2">'
                         f"<Result>{escape(text)}</Result></u:GetSupportedParametersResponse>")
    return cmsxml.parseStructurePathList(soap.decodeResponse(envelope.encode("utf-8"), "GetSupportedParameters")["Result"])


ENTRIES = (
    Entry("xmlsafe.parse (bytes)", f'<r xmlns="urn:x"><v>{PAYLOAD}</v></r>', xmlsafe.parse, (xmlsafe.XMLRejected,)),
    Entry("xmlsafe.parse (text)", f'<r xmlns="urn:x"><v>{PAYLOAD}</v></r>', xmlsafe.parse, (xmlsafe.XMLRejected,), text=True),
    Entry("description.parseDeviceDescription", DESCRIPTION,
          lambda data: description.parseDeviceDescription(data, "http://192.0.2.1:49152/d.xml"), (description.DescriptionError,)),
    Entry("description.parseSCPD", SCPD, description.parseSCPD, (description.DescriptionError,)),
    Entry("soap.decodeResponse", RESPONSE, lambda data: soap.decodeResponse(data, "GetX"), (soap.SOAPError,)),
    Entry("soap.decodeFault", FAULT, soap.decodeFault, (), refused=lambda result: result is None),
    Entry("soap.decodeRequest", REQUEST, soap.decodeRequest, (soap.SOAPError,)),
    Entry("gena.parseEventMessage (NOTIFY body)", PROPERTYSET,
          lambda data: gena.parseEventMessage(NOTIFY_HEADERS, data), (gena.GENAError,)),
    Entry("xmlstring.decode", f"<r>{PAYLOAD}</r>", xmlstring.decode, (xmlstring.XMLStringError,), text=True),
    Entry("upnpdm.cmsxml.parseParameterValueList", PARAMETER_VALUES, cmsxml.parseParameterValueList,
          (cmsxml.CMSDocumentError,), text=True),
    Entry("SOAP response carrying upnpdm.cmsxml.parseStructurePathList", STRUCTURE_PATHS, _responseThenCMS,
          (cmsxml.CMSDocumentError, soap.SOAPError), text=True),
    Entry("cwmp.codec.decode", CWMP, codec.decode, (codec.DecodeError,)),
    Entry("cwmp.codec.decode (charset=utf-8)", CWMP, lambda data: codec.decode(data, "text/xml; charset=utf-8"),
          (codec.DecodeError,), textual=True),
    Entry("cwmp.codec.decode (charset=iso-8859-1)", CWMP, lambda data: codec.decode(data, "text/xml; charset=iso-8859-1"),
          (codec.DecodeError,), textual=True),
    Entry("dps.parseIdentity (text)", IDENTITY, dpscodec.parseIdentity, (dpscodec.DPSError,), text=True),
    Entry("dps.parseACL (bytes)", ACL, dpscodec.parseACL, (dpscodec.DPSError,)),
    Entry("upnpdm.bmsdiagnostics.parseNSLookupResult", NSLOOKUP, bmsdiagnostics.parseNSLookupResult, (), text=True,
          refused=lambda rows: rows == ()),
    Entry("sim.cmsxml.parseContentPathList", CONTENT_PATHS, simcmsxml.parseContentPathList, (ActionError,), text=True),
    Entry("cwmp.schema.validationErrors (the fake ACS's check)", CWMP, schema.validationErrors, (),
          refused=lambda errors: errors != []),
    Entry("printer.model.parseDocument", PRINT_SERVICE, printermodel.parseDocument, (printermodel.DocumentError,)),
    Entry("demo.describeArguments", PARAMETER_VALUES, lambda text: demo.describeArguments({"A": text}), (), text=True,
          refused=lambda shown: shown == "(a document)"),
)


def outcome(entry: Entry, hostile: Hostile) -> tuple[str, str]:
    """C{("accepted" | "refused" | "crashed", detail)} for one document at one entry point."""
    try:
        result = entry.feed(hostile)
    except entry.errors as e:
        return "refused", str(e)[:120]
    except BaseException as e:  # noqa: B902 - anything else is the defect looked for
        return "crashed", f"{type(e).__name__}: {str(e)[:200]}"
    if entry.refused is not None and entry.refused(result):
        return "refused", repr(result)[:60]
    return "accepted", ""


def runMatrix(trip: Tripwire) -> list[str]:
    """Every corpus document at every entry point; the problems found, one line each."""
    problems = []
    trip.touched()
    for hostile in corpus(trip):
        for entry in ENTRIES:
            result, detail = outcome(entry, hostile)
            kind = entry.kind(hostile)
            if result == "crashed":
                problems.append(f"{entry.name} / {hostile.name}: crashed: {detail}")
            elif kind == REFUSED and result != "refused":
                problems.append(f"{entry.name} / {hostile.name}: accepted")
            for touch in trip.touched():
                problems.append(f"{entry.name} / {hostile.name}: {touch}")
    return problems


class TripwireTests(unittest.TestCase):
    """The tripwire sees what it must, or the other tests prove nothing."""

    def setUp(self) -> None:
        self.trip = tripwireFor(self)

    def test_seesOpenAndConnect(self) -> None:
        """Opening a canary and connecting to the listener both show up, once."""
        import socket

        with open(os.path.join(self.trip.directory, "canary.txt")):
            pass
        with socket.create_connection(("127.0.0.1", self.trip.port), timeout=5):
            pass
        touched = self.trip.touched()
        self.assertEqual(len([t for t in touched if t.startswith("open of") and t.endswith("canary.txt")]), 1, touched)
        self.assertEqual(len([t for t in touched if t.startswith("connection from 127.0.0.1")]), 1, touched)
        self.assertEqual(self.trip.touched(), [])

    def test_seesLibxml2(self) -> None:
        """A parser that loads DTDs is caught opening the canary a corpus document names."""
        from lxml import etree

        hostile = next(h for h in corpus(self.trip) if h.name == "external DTD, file")
        etree.fromstring(hostile.document("<r/>"), etree.XMLParser(load_dtd=True, no_network=True))
        self.assertTrue(any(t.endswith("canary.dtd") for t in self.trip.touched()))


class CorpusTests(unittest.TestCase):
    """Every corpus document at every entry point."""

    def setUp(self) -> None:
        self.trip = tripwireFor(self)

    def test_templatesAccepted(self) -> None:
        """Each entry point accepts its template with a harmless payload, so a refusal below is the hostility's doing."""
        plain = Hostile("plain", INERT, payload="x")
        declared = Hostile("declared", INERT, payload="\u00e9", encoding="latin-1",
                           declaration='<?xml version="1.0" encoding="ISO-8859-1"?>')
        utf16 = Hostile("utf-16", INERT, payload="\u00e9", encoding="utf-16")
        for entry in ENTRIES:
            for hostile in (plain, declared, utf16):
                if hostile is not plain and entry.textual:
                    continue  # its charset, not the document, says how to read it
                self.assertEqual(outcome(entry, hostile), ("accepted", ""), f"{entry.name} / {hostile.name}")

    def test_corpus(self) -> None:
        """
        No document makes any entry point raise anything but its documented
        error, open a canary or connect to the listener; every hostile one is
        refused; deep nesting and huge text are refused or parsed within caps.
        """
        problems = runMatrix(self.trip)
        self.assertEqual(problems, [], "\n".join(problems))

    def test_everyEntryPointCovered(self) -> None:
        """Every module that parses through xmlsafe has an entry point here (a new one must be added)."""
        top = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "proxier")
        users = set()
        for directory, _dirs, files in os.walk(top):
            for name in files:
                if name.endswith(".py") and name != "xmlsafe.py":
                    with open(os.path.join(directory, name), encoding="utf-8") as f:
                        source = f.read()
                    if re.search(r"\bxmlsafe\.parse\(|\bparseBody\(|\bxmlstring\.decode\(", source):
                        users.add(os.path.relpath(os.path.join(directory, name), top))
        covered = {"demo.py", "upnp/_xmlutil.py", "upnp/description.py", "upnp/soap.py", "upnp/gena.py", "upnp/xmlstring.py",
                   "upnpdm/cmsxml.py", "cwmp/codec.py", "cwmp/schema.py", "upnp/dps/codec.py", "upnpdm/bmsdiagnostics.py", "sim/cmsxml.py",
                   "printer/model.py"}
        self.assertEqual(users - covered, set(), "XML entry points without a corpus entry")

    def test_noOtherParser(self) -> None:
        """No module of the product parses XML but through xmlsafe (lxml's parse functions, the stdlib's, objectify)."""
        top = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "proxier")
        pattern = re.compile(
            r"etree\.(?:fromstring|XML|parse|iterparse|XMLParser|XMLPullParser|HTMLParser|fromstringlist)\b"
            r"|lxml\.(?:objectify|html)|\bxml\.(?:dom|sax|etree|parsers)\b|import\s+(?:expat|minidom)"
        )
        found = []
        for directory, _dirs, files in os.walk(top):
            for name in files:
                if name.endswith(".py") and name != "xmlsafe.py":
                    path = os.path.join(directory, name)
                    with open(path, encoding="utf-8") as f:
                        for number, line in enumerate(f, 1):
                            if pattern.search(line) and (os.path.relpath(path, top), line.strip()) not in _TRUSTED_PARSES:
                                found.append(f"{os.path.relpath(path, top)}:{number}: {line.strip()}")
        self.assertEqual(found, [], "parse outside input with proxier.xmlsafe.parse (a trusted local file may be"
                         " listed in _TRUSTED_PARSES, with the reason):\n" + "\n".join(found))


# Parses that do not read outside input, by (file, line).
_TRUSTED_PARSES = {
    # the BBF CWMP schemas, local files, with a resolver confined to their directory
    ("cwmp/schema.py", "parser = etree.XMLParser(no_network=True)"),
    ("cwmp/schema.py", "tree = etree.parse(os.path.join(directory, CWMP_NAMESPACES[namespace]), parser)"),
}


class StraceTests(unittest.TestCase):
    """The whole matrix again in a child under strace: not one file named, not one socket made."""

    def test_noFileNoNetwork(self) -> None:
        """
        Between two markers, while the child runs the matrix (a second time,
        so that lazy imports are done), strace sees no file system call
        (open, stat, access...) and no network call (socket, connect...).
        """
        strace = shutil.which("strace") or "/usr/bin/strace"
        if not os.access(strace, os.X_OK):
            raise unittest.SkipTest("strace is not installed")
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        log = os.path.join(directory, "strace.log")
        try:
            child = subprocess.run(
                [strace, "-f", "-qq", "-e", "trace=%file,%network", "-o", log,
                 sys.executable, "-m", "tests.test_xml_hostile", os.path.join(directory, "canaries")],
                env=subprocessEnv(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
            )
        except subprocess.TimeoutExpired:
            self.fail("the corpus did not finish in 300 s under strace")
        if child.returncode != 0 and b"ptrace" in child.stderr.lower():
            raise unittest.SkipTest(f"strace cannot trace here: {child.stderr[-200:]!r}")
        self.assertEqual(child.returncode, 0, child.stderr.decode(errors="replace")[-2000:])
        self.assertIn(b"problems: 0", child.stdout, child.stdout.decode(errors="replace")[-2000:])
        with open(log, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        begin = [i for i, line in enumerate(lines) if _BEGIN in line]
        end = [i for i, line in enumerate(lines) if _END in line]
        self.assertTrue(begin and end, "markers not seen: strace did not trace the child")
        calls = [line for line in lines[begin[0] + 1 : end[-1]]
                 if not line.startswith("+++") and not _TRIPWIRE_ACCEPT.search(line)]
        self.assertEqual(calls, [], "\n".join(calls[:40]))


# The tripwire's own look at its listener, which finds nothing (any connection
# it accepted is reported by the matrix).
_TRIPWIRE_ACCEPT = re.compile(r"^\d+ +accept4?\(.*= -1 EAGAIN")
_BEGIN = "/nonexistent/hostile-xml-corpus-begin"
_END = "/nonexistent/hostile-xml-corpus-end"


def _marker(path: str) -> None:
    try:
        os.stat(path)
    except OSError:
        pass


def main(directory: str) -> int:
    """The child of L{StraceTests}: the matrix once to warm up, then again between markers."""
    trip = Tripwire(directory)
    first = runMatrix(trip)
    _marker(_BEGIN)
    second = runMatrix(trip)
    _marker(_END)
    trip.close()
    problems = first + second
    print("\n".join(problems))
    print(f"problems: {len(problems)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
