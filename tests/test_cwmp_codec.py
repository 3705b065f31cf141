"""
Tests for L{proxier.cwmp.codec}: every CWMP message round-trips and validates
against the BBF schema; real-world variants decode; hostile and malformed
input becomes a L{DecodeError}, never a crash.
"""

from __future__ import annotations

import datetime

from proxier.cwmp import messages as m
from proxier.datamodel.faults import CWMPFault, SetParameterValuesFault
from proxier.datamodel.values import (
    UNKNOWN_TIME,
    AttributeChange,
    AutonomousTransferResult,
    DeviceIdentity,
    ParameterAttributes,
    ParameterInfo,
    ParameterValue,
    TransferRequest,
    TransferResult,
)


UTC = datetime.timezone.utc
T0 = datetime.datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)
T1 = datetime.datetime(2025, 3, 1, 10, 5, 30, tzinfo=UTC)
IDENTITY = DeviceIdentity("Example & Co <Labs>", "00D09E", "MediaServer", "SN-0001")

_DOWNLOAD = TransferRequest(
    "Download", "ck-dl", "1 Firmware Upgrade Image", "http://files.example.net/fw.bin", "user", "p&ss",
    1234567, "fw.bin", 5, "http://ok.example.net/", "http://ko.example.net/",
)
_UPLOAD = TransferRequest("Upload", "ck-ul", "2 Vendor Log File", "http://files.example.net/up", "u", "p",
                          delaySeconds=3)
_SCHEDULED = TransferRequest("ScheduleDownload", "ck-sd", "1 Firmware Upgrade Image",
                             "https://files.example.net/fw2.bin", "", "", 42, "fw2.bin")

SAMPLES: list[m.Message] = [
    m.GetRPCMethods(),
    m.GetRPCMethodsResponse(("GetRPCMethods", "GetParameterNames", "GetParameterValues")),
    m.GetParameterNames("Device.DeviceInfo.", True),
    m.GetParameterNamesResponse((ParameterInfo("Device.DeviceInfo.", False),
                                 ParameterInfo("Device.DeviceInfo.ProvisioningCode", True))),
    m.GetParameterValues(("Device.DeviceInfo.SerialNumber", "Device.ManagementServer.")),
    m.GetParameterValuesResponse((
        ParameterValue("Device.DeviceInfo.SerialNumber", "SN <1> & 2", "xsd:string"),
        ParameterValue("Device.DeviceInfo.UpTime", "3600", "xsd:unsignedInt"),
        ParameterValue("Device.ManagementServer.PeriodicInformEnable", "true", "xsd:boolean"),
        ParameterValue("Device.ManagementServer.PeriodicInformTime", "2025-01-01T00:00:00Z", "xsd:dateTime"),
        ParameterValue("Device.X_Vendor.Delta", "-5", "xsd:int"),
        ParameterValue("Device.X_Vendor.Blob", "AAEC", "xsd:base64Binary"),
        ParameterValue("Device.X_Vendor.Hex", "00ff", "xsd:hexBinary"),
        ParameterValue("Device.X_Vendor.Long", "-9000000000", "xsd:long"),
        ParameterValue("Device.X_Vendor.Empty", "", "xsd:string"),
    )),
    m.SetParameterValues((ParameterValue("Device.ManagementServer.PeriodicInformInterval", "600", "xsd:unsignedInt"),
                          ParameterValue("Device.DeviceInfo.ProvisioningCode", " spaced ", "xsd:string")), "pk-1"),
    m.SetParameterValuesResponse(1),
    m.GetParameterAttributes(("Device.DeviceInfo.",)),
    m.GetParameterAttributesResponse((
        ParameterAttributes("Device.DeviceInfo.SoftwareVersion", 2, ()),
        ParameterAttributes("Device.DeviceInfo.ProvisioningCode", 1, ("Subscriber",)),
    )),
    m.SetParameterAttributes((
        AttributeChange("Device.DeviceInfo.ProvisioningCode", True, 1, True, ("Subscriber",)),
        AttributeChange("Device.ManagementServer.", False, 0, False, ()),
    )),
    m.SetParameterAttributesResponse(),
    m.AddObject("Device.X_Vendor.Table.", "pk-2"),
    m.AddObjectResponse(7, 0),
    m.DeleteObject("Device.X_Vendor.Table.7.", "pk-3"),
    m.DeleteObjectResponse(1),
    m.Reboot("ck-reboot"),
    m.RebootResponse(),
    m.Download(_DOWNLOAD),
    m.DownloadResponse(0, T0, T1),
    m.Upload(_UPLOAD),
    m.UploadResponse(1),
    m.FactoryReset(),
    m.FactoryResetResponse(),
    m.ScheduleInform(60, "ck-si"),
    m.ScheduleInformResponse(),
    m.ScheduleDownload(_SCHEDULED, (m.TimeWindow(0, 3600, "1 At Any Time", "", -1),
                                    m.TimeWindow(7200, 9000, "4 Confirmation Needed", "Update?", 3))),
    m.ScheduleDownloadResponse(),
    m.GetQueuedTransfers(),
    m.GetQueuedTransfersResponse((m.QueuedTransfer("ck-dl", 2), m.QueuedTransfer("ck-x", 1))),
    m.GetAllQueuedTransfers(),
    m.GetAllQueuedTransfersResponse((m.AllQueuedTransfer("ck-dl", 2, True, "1 Firmware Upgrade Image", 10, "fw.bin"),
                                     m.AllQueuedTransfer("ck-ul", 1, False, "2 Vendor Log File"))),
    m.CancelTransfer("ck-dl"),
    m.CancelTransferResponse(),
    m.Inform(IDENTITY, (m.EventStruct("0 BOOTSTRAP"), m.EventStruct("1 BOOT"), m.EventStruct("M Reboot", "ck-r")),
             1, T0, 3, (ParameterValue("Device.RootDataModelVersion", "2.17"),
                        ParameterValue("Device.ManagementServer.AliasBasedAddressing", "false", "xsd:boolean"))),
    m.InformResponse(1),
    m.TransferComplete(TransferResult("ck-dl", "", 9010, "Download failed: 404", T0, T1)),
    m.TransferCompleteResponse(),
    m.AutonomousTransferComplete(AutonomousTransferResult(
        "http://announce.example.net/", "http://files.example.net/fw.bin", True, "1 Firmware Upgrade Image",
        100, "fw.bin", 0, "", T0, T1)),
    m.AutonomousTransferCompleteResponse(),
    m.RequestDownload("3 Vendor Configuration File", (("Version", "1.2"), ("Profile", "home"))),
    m.RequestDownloadResponse(),
    m.SOAPFault(CWMPFault(9003, "Invalid arguments", (
        SetParameterValuesFault("Device.ManagementServer.PeriodicInformInterval", 9007),
        SetParameterValuesFault("Device.DeviceInfo.SerialNumber", 9008, "read-only"),
    ))),
]

import time

from lxml import etree
from twisted.trial import unittest

from proxier.cwmp import codec
from proxier.cwmp.codec import DecodeError, decode, encode
from tests.cwmpxsd import assertValidCWMP

SOAP = codec.SOAP_ENV

# Where each array of each message lives and the soapenc:arrayType it must
# carry: (message name, path of the array element from the RPC element, type).
ARRAY_TYPES = [
    ("GetRPCMethodsResponse", "MethodList", "xsd:string[3]"),
    ("GetParameterNamesResponse", "ParameterList", "cwmp:ParameterInfoStruct[2]"),
    ("GetParameterValues", "ParameterNames", "xsd:string[2]"),
    ("GetParameterValuesResponse", "ParameterList", "cwmp:ParameterValueStruct[9]"),
    ("SetParameterValues", "ParameterList", "cwmp:ParameterValueStruct[2]"),
    ("GetParameterAttributes", "ParameterNames", "xsd:string[1]"),
    ("GetParameterAttributesResponse", "ParameterList", "cwmp:ParameterAttributeStruct[2]"),
    ("GetParameterAttributesResponse", "ParameterList/ParameterAttributeStruct[2]/AccessList", "xsd:string[1]"),
    ("SetParameterAttributes", "ParameterList", "cwmp:SetParameterAttributesStruct[2]"),
    ("SetParameterAttributes", "ParameterList/SetParameterAttributesStruct[2]/AccessList", "xsd:string[0]"),
    ("ScheduleDownload", "TimeWindowList", "cwmp:TimeWindowStruct[2]"),
    ("GetQueuedTransfersResponse", "TransferList", "cwmp:QueuedTransferStruct[2]"),
    ("GetAllQueuedTransfersResponse", "TransferList", "cwmp:AllQueuedTransferStruct[2]"),
    ("Inform", "Event", "cwmp:EventStruct[3]"),
    ("Inform", "ParameterList", "cwmp:ParameterValueStruct[2]"),
    ("RequestDownload", "FileTypeArg", "cwmp:ArgStruct[2]"),
]


def sample(name: str) -> m.Message:
    return next(s for s in SAMPLES if s.name == name)


def envelopeText(body: str, namespace: str = "urn:dslforum-org:cwmp-1-0", header: str = "",
                 envPrefix: str = "soap-env") -> bytes:
    """An envelope written the way GenieACS writes them (lib/soap.ts)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{envPrefix}:Envelope '
        f'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
        f'xmlns:{envPrefix}="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:cwmp="{namespace}"><{envPrefix}:Header>{header}</{envPrefix}:Header>'
        f"<{envPrefix}:Body>{body}</{envPrefix}:Body></{envPrefix}:Envelope>"
    ).encode("utf-8")


GENIE_ID = '<cwmp:ID soap-env:mustUnderstand="1">1a2b3c</cwmp:ID>'


class RoundTripTests(unittest.TestCase):
    def test_samplesCoverEveryMessage(self) -> None:
        """The samples hold every message type the codec knows, and a SOAP fault."""
        names = {s.name for s in SAMPLES}
        self.assertEqual(names - {"Fault"}, set(m.MESSAGE_TYPES))
        self.assertIn("Fault", names)

    def test_everyMessageRoundTripsAndValidates(self) -> None:
        """
        Each message, encoded with an ID, is a valid cwmp-1-4 envelope (RPC
        element included) and decodes back to an equal message.
        """
        for message in SAMPLES:
            data = encode(m.Envelope(message, id="id-42"))
            assertValidCWMP(self, data, message.name)
            envelope = decode(data)
            expected = message
            if isinstance(message, m.TransferComplete):  # the wire does not say which RPC asked
                self.assertEqual(message.result.method, "")
            if isinstance(message, m.SOAPFault):
                expected = m.SOAPFault(message.fault, codec.faultType(message.fault.code))
            self.assertEqual(envelope.body, expected, message.name)
            self.assertEqual(envelope.id, "id-42")
            self.assertEqual(envelope.namespace, m.CWMP_1_2)

    def test_olderNamespaces(self) -> None:
        """
        Answering an ACS that spoke cwmp-1-0 or cwmp-1-1, every message is
        valid against that namespace's own schema and keeps the namespace.
        """
        for namespace in (m.CWMP_1_0, m.CWMP_1_1):
            for message in SAMPLES:
                if message.name in ("AutonomousTransferComplete", "AutonomousTransferCompleteResponse",
                                    "RequestDownload", "RequestDownloadResponse", "ScheduleDownload",
                                    "ScheduleDownloadResponse", "CancelTransfer", "CancelTransferResponse",
                                    "GetAllQueuedTransfers", "GetAllQueuedTransfersResponse") \
                        and namespace == m.CWMP_1_0:
                    continue  # these RPCs came with Amendment 2 (cwmp-1-1)
                if message.name in ("ScheduleDownload", "ScheduleDownloadResponse", "CancelTransfer",
                                    "CancelTransferResponse") and namespace == m.CWMP_1_1:
                    continue  # and these with Amendment 3 (cwmp-1-2)
                if message.name == "GetAllQueuedTransfersResponse" and namespace == m.CWMP_1_1:
                    continue  # cwmp-1-1 lists no upload file types in AllQueuedTransferStruct
                data = encode(m.Envelope(message, id="7", namespace=namespace))
                assertValidCWMP(self, data, f"{message.name} in {namespace}")
                self.assertEqual(decode(data).namespace, namespace)

    def test_arrayTypes(self) -> None:
        """Every SOAP-ENC array carries the arrayType of its items and their count."""
        for name, path, expected in ARRAY_TYPES:
            root = etree.fromstring(encode(m.Envelope(sample(name))))
            rpc = root.find(f"{{{SOAP}}}Body")[0]
            array = rpc.find(path)
            self.assertIsNotNone(array, f"{name}/{path}")
            self.assertEqual(array.get(f"{{{codec.SOAP_ENC}}}arrayType"), expected, f"{name}/{path}")

    def test_xsiTypeAlwaysPrefixed(self) -> None:
        """A value type given without prefix is sent as xsd:TYPE; every value has one."""
        message = m.GetParameterValuesResponse((ParameterValue("Device.A", "1", "unsignedInt"),
                                                ParameterValue("Device.B", "x", "")))
        data = encode(m.Envelope(message))
        assertValidCWMP(self, data)
        root = etree.fromstring(data)
        types = [v.get(f"{{{codec.XSI}}}type") for v in root.iter("Value")]
        self.assertEqual(types, ["xsd:unsignedInt", "xsd:string"])

    def test_faultTypes(self) -> None:
        """Each CWMP fault code is sent with the SOAP faultcode TR-069 Tables 63/64 give it."""
        for code, expected in codec.FAULT_TYPES.items():
            data = encode(m.Envelope(m.SOAPFault(CWMPFault(code)), id="1"))
            assertValidCWMP(self, data, str(code))
            root = etree.fromstring(data)
            self.assertEqual(root.find(f".//{{{SOAP}}}Fault/faultcode").text, expected, code)
            self.assertEqual(decode(data).body.fault, CWMPFault(code))
        self.assertEqual(codec.faultType(9850), "Server")

    def test_faultcodeOverride(self) -> None:
        """An explicit faultcode is kept."""
        data = encode(m.Envelope(m.SOAPFault(CWMPFault(9002), "Client")))
        self.assertEqual(decode(data).body.faultcode, "Client")

    def test_invalidXMLCharactersReplaced(self) -> None:
        """Control characters a device returned are replaced, and the envelope stays valid."""
        message = m.GetParameterValuesResponse((ParameterValue("Device.A", "bad\x00\x07value\ufffe", "xsd:string"),))
        data = encode(m.Envelope(message))
        assertValidCWMP(self, data)
        self.assertEqual(decode(data).body.parameters[0].value, "bad\ufffd\ufffdvalue\ufffd")

    def test_headers(self) -> None:
        """Every CWMP header round-trips, with the mustUnderstand the schema fixes."""
        envelope = m.Envelope(m.InformResponse(1), id="x", holdRequests=True, sessionTimeout=45,
                              supportedVersions="1.0,1.4", useVersion="1.4", noMoreRequests=False)
        data = encode(envelope)
        assertValidCWMP(self, data)
        self.assertEqual(decode(data), envelope)
        root = etree.fromstring(data)
        mu = {etree.QName(h).localname: h.get(f"{{{SOAP}}}mustUnderstand") for h in root.find(f"{{{SOAP}}}Header")}
        self.assertEqual(mu, {"ID": "1", "HoldRequests": "1", "SessionTimeout": "0", "sessionTimeout": None,
                              "SupportedCWMPVersions": "0", "UseCWMPVersion": "1", "NoMoreRequests": "0"})

    def test_lowercaseSessionTimeout(self) -> None:
        """
        The lower-case cwmp:sessionTimeout GenieACS reads (INTEROP §CWMP 6) goes
        beside the declared cwmp:SessionTimeout with the same value and no
        mustUnderstand, and the envelope stays valid under the schema's lax
        Header rule (undeclared headers allowed only without mustUnderstand);
        switched off, only the declared one goes.
        """
        inform = m.Envelope(m.Inform(IDENTITY), id="1", sessionTimeout=40)
        for lowercase, expected in ((True, {"SessionTimeout": ("40", "0"), "sessionTimeout": ("40", None)}),
                                    (False, {"SessionTimeout": ("40", "0")})):
            data = encode(inform, lowercaseSessionTimeout=lowercase)
            assertValidCWMP(self, data)
            header = etree.fromstring(data).find(f"{{{SOAP}}}Header")
            found = {etree.QName(h).localname: (h.text, h.get(f"{{{SOAP}}}mustUnderstand")) for h in header
                     if etree.QName(h).localname.lower() == "sessiontimeout"}
            self.assertEqual(found, expected)
            self.assertEqual(decode(data).sessionTimeout, 40)

    def test_noHeaderWithoutID(self) -> None:
        """An envelope without ID or other header has no Header element and is valid."""
        data = encode(m.Envelope(m.GetRPCMethods()))
        assertValidCWMP(self, data)
        self.assertIsNone(etree.fromstring(data).find(f"{{{SOAP}}}Header"))
        self.assertIsNone(decode(data).id)

    def test_emptyBody(self) -> None:
        """An envelope with an empty Body encodes, validates and decodes to no message."""
        data = encode(m.Envelope(None, id="9"))
        assertValidCWMP(self, data)
        self.assertEqual(decode(data), m.Envelope(None, id="9"))

    def test_unknownMethodNotEncodable(self) -> None:
        """An UnknownMethod is only ever decoded."""
        self.assertRaises(TypeError, encode, m.Envelope(m.UnknownMethod("Kicked", m.CWMP_1_2)))

    def test_utf8Declaration(self) -> None:
        """The bytes are UTF-8 and say so."""
        data = encode(m.Envelope(m.Reboot("é")))
        self.assertTrue(data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>"))
        self.assertIn("é".encode("utf-8"), data)


class RealWorldTests(unittest.TestCase):
    def test_genieACSRequests(self) -> None:
        """Requests as GenieACS writes them (cwmp-1-0, soap-env prefixes, NextLevel 1) decode."""
        gpn = decode(envelopeText("<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath>"
                                  "<NextLevel>1</NextLevel></cwmp:GetParameterNames>", header=GENIE_ID))
        self.assertEqual(gpn.body, m.GetParameterNames("Device.", True))
        self.assertEqual(gpn.id, "1a2b3c")
        self.assertEqual(gpn.namespace, m.CWMP_1_0)
        gpv = decode(envelopeText('<cwmp:GetParameterValues><ParameterNames soap-enc:arrayType="xsd:string[2]">'
                                  "<string>Device.A</string><string>Device.B.</string></ParameterNames>"
                                  "</cwmp:GetParameterValues>", header=GENIE_ID))
        self.assertEqual(gpv.body, m.GetParameterValues(("Device.A", "Device.B.")))
        spv = decode(envelopeText(
            '<cwmp:SetParameterValues><ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[2]">'
            '<ParameterValueStruct><Name>Device.A</Name><Value xsi:type="xsd:boolean">1</Value></ParameterValueStruct>'
            '<ParameterValueStruct><Name>Device.T</Name><Value xsi:type="xsd:dateTime">2025-01-01T00:00:00.000Z'
            "</Value></ParameterValueStruct></ParameterList><ParameterKey></ParameterKey></cwmp:SetParameterValues>",
            namespace=m.CWMP_1_2, header=GENIE_ID))
        self.assertEqual(spv.body, m.SetParameterValues((ParameterValue("Device.A", "1", "xsd:boolean"),
                                                         ParameterValue("Device.T", "2025-01-01T00:00:00.000Z",
                                                                        "xsd:dateTime")), ""))
        dl = decode(envelopeText(
            "<cwmp:Download><CommandKey>ck</CommandKey><FileType>1 Firmware Upgrade Image</FileType>"
            "<URL>http://acs:7567/fw.bin</URL><Username></Username><Password></Password><FileSize>10</FileSize>"
            "<TargetFileName>fw.bin</TargetFileName><DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL>"
            "<FailureURL></FailureURL></cwmp:Download>", header=GENIE_ID))
        self.assertEqual(dl.body.request, TransferRequest("Download", "ck", "1 Firmware Upgrade Image",
                                                          "http://acs:7567/fw.bin", fileSize=10,
                                                          targetFileName="fw.bin"))
        ir = decode(envelopeText("<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
                                 header=GENIE_ID))
        self.assertEqual(ir.body, m.InformResponse(1))

    def test_otherPrefixesAndQualifiedArguments(self) -> None:
        """SOAP-ENV/c prefixes, a default namespace and qualified argument elements decode alike."""
        data = (b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
                b'<SOAP-ENV:Header><c:ID xmlns:c="urn:dslforum-org:cwmp-1-1" SOAP-ENV:mustUnderstand="1">5</c:ID>'
                b'</SOAP-ENV:Header><SOAP-ENV:Body><GetParameterNames xmlns="urn:dslforum-org:cwmp-1-1">'
                b"<ParameterPath>Device.</ParameterPath><NextLevel>false</NextLevel></GetParameterNames>"
                b"</SOAP-ENV:Body></SOAP-ENV:Envelope>")
        envelope = decode(data)
        self.assertEqual(envelope, m.Envelope(m.GetParameterNames("Device.", False), id="5", namespace=m.CWMP_1_1))

    def test_whitespace(self) -> None:
        """A pretty-printed envelope decodes: names trimmed, values kept exactly."""
        data = b"""
  <?xml version="1.0"?>
  <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2"
              xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    <s:Header>
      <cwmp:ID s:mustUnderstand="1"> 12 </cwmp:ID>
    </s:Header>
    <s:Body>
      <cwmp:SetParameterValues>
        <ParameterList>
          <ParameterValueStruct>
            <Name>
              Device.DeviceInfo.ProvisioningCode
            </Name>
            <Value xsi:type="xsd:string">  two spaces  </Value>
          </ParameterValueStruct>
        </ParameterList>
        <ParameterKey>k 1</ParameterKey>
      </cwmp:SetParameterValues>
    </s:Body>
  </s:Envelope>
"""
        envelope = decode(data)
        self.assertEqual(envelope.id, " 12 ")
        self.assertEqual(envelope.body, m.SetParameterValues(
            (ParameterValue("Device.DeviceInfo.ProvisioningCode", "  two spaces  "),), "k 1"))

    def test_missingOptionalPieces(self) -> None:
        """Arguments real ACSes leave out take their defaults; arrays need no arrayType."""
        cases = [
            ("<cwmp:SetParameterValues><ParameterList><ParameterValueStruct><Name>Device.A</Name>"
             "<Value>x</Value></ParameterValueStruct></ParameterList></cwmp:SetParameterValues>",
             m.SetParameterValues((ParameterValue("Device.A", "x", "xsd:string"),), "")),
            ("<cwmp:Download><FileType>1 Firmware Upgrade Image</FileType><URL>http://f/x</URL></cwmp:Download>",
             m.Download(TransferRequest("Download", "", "1 Firmware Upgrade Image", "http://f/x"))),
            ("<cwmp:Upload><CommandKey>u</CommandKey><FileType>2 Vendor Log File</FileType><URL>http://f/</URL>"
             "</cwmp:Upload>", m.Upload(TransferRequest("Upload", "u", "2 Vendor Log File", "http://f/"))),
            ("<cwmp:InformResponse/>", m.InformResponse(1)),
            ("<cwmp:AddObject><ObjectName>Device.T.</ObjectName></cwmp:AddObject>", m.AddObject("Device.T.", "")),
            ("<cwmp:Reboot/>", m.Reboot("")),
            ("<cwmp:GetParameterNames><NextLevel>0</NextLevel></cwmp:GetParameterNames>",
             m.GetParameterNames("", False)),
            ("<cwmp:SetParameterAttributes><ParameterList><SetParameterAttributesStruct><Name>Device.A</Name>"
             "<NotificationChange>1</NotificationChange><Notification>2</Notification>"
             "</SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>",
             m.SetParameterAttributes((AttributeChange("Device.A", True, 2),))),
            ("<cwmp:TransferCompleteResponse/>", m.TransferCompleteResponse()),
            ("<cwmp:GetRPCMethodsResponse><MethodList/></cwmp:GetRPCMethodsResponse>", m.GetRPCMethodsResponse(())),
        ]
        for body, expected in cases:
            self.assertEqual(decode(envelopeText(body, namespace=m.CWMP_1_2)).body, expected, body)

    def test_booleans(self) -> None:
        """Booleans are read as true/false/1/0 in any case."""
        for text, expected in (("true", True), ("TRUE", True), ("1", True), (" 1 ", True),
                               ("false", False), ("False", False), ("0", False)):
            body = f"<cwmp:GetParameterNames><ParameterPath/><NextLevel>{text}</NextLevel></cwmp:GetParameterNames>"
            self.assertIs(decode(envelopeText(body)).body.nextLevel, expected, text)

    def test_valueTypes(self) -> None:
        """xsi:type is read through its prefix (xsd, soap-enc, old XSI namespace); no type is a string."""
        data = (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-2"'
                b' xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:s="http://www.w3.org/2001/XMLSchema"'
                b' xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:j="http://www.w3.org/1999/XMLSchema-instance"'
                b' xmlns:v="urn:vendor"><e:Body><c:GetParameterValuesResponse><ParameterList>'
                b'<ParameterValueStruct><Name>A</Name><Value i:type="s:int">1</Value></ParameterValueStruct>'
                b'<ParameterValueStruct><Name>B</Name><Value i:type="enc:string">b</Value></ParameterValueStruct>'
                b'<ParameterValueStruct><Name>C</Name><Value j:type="s:boolean">0</Value></ParameterValueStruct>'
                b'<ParameterValueStruct><Name>D</Name><Value>d</Value></ParameterValueStruct>'
                b'<ParameterValueStruct><Name>E</Name><Value i:type="v:thing">e</Value></ParameterValueStruct>'
                b'<ParameterValueStruct><Name>F</Name><Value i:type="unsignedInt">7</Value></ParameterValueStruct>'
                b"</ParameterList></c:GetParameterValuesResponse></e:Body></e:Envelope>")
        types = [p.type for p in decode(data).body.parameters]
        self.assertEqual(types, ["xsd:int", "xsd:string", "xsd:boolean", "xsd:string", "v:thing", "xsd:unsignedInt"])

    def test_dateTimes(self) -> None:
        """Dates with fractions, offsets, the unknown time or nothing at all decode."""
        for text, expected in (("2025-03-01T10:00:00Z", T0), ("2025-03-01T11:00:00.123+01:00",
                                                               T0.replace(microsecond=123000)),
                               ("0001-01-01T00:00:00Z", UNKNOWN_TIME), ("", UNKNOWN_TIME)):
            body = (f"<cwmp:DownloadResponse><Status>0</Status><StartTime>{text}</StartTime>"
                    f"<CompleteTime>{text}</CompleteTime></cwmp:DownloadResponse>")
            self.assertEqual(decode(envelopeText(body)).body.startTime, expected, text)

    def test_headerVariants(self) -> None:
        """Both spellings of the session timeout header are read; bad header values are ignored."""
        for header, expected in (
            ('<cwmp:sessionTimeout>40</cwmp:sessionTimeout>', {"sessionTimeout": 40}),
            ('<cwmp:SessionTimeout soap-env:mustUnderstand="0">41</cwmp:SessionTimeout>', {"sessionTimeout": 41}),
            ('<cwmp:SessionTimeout>soon</cwmp:SessionTimeout>', {}),
            ('<cwmp:HoldRequests soap-env:mustUnderstand="1">1</cwmp:HoldRequests>', {"holdRequests": True}),
            ('<cwmp:HoldRequests>perhaps</cwmp:HoldRequests>', {}),
            ("<cwmp:NoMoreRequests>1</cwmp:NoMoreRequests>", {"noMoreRequests": True}),
            ('<cwmp:UseCWMPVersion soap-env:mustUnderstand="1">1.4</cwmp:UseCWMPVersion>', {"useVersion": "1.4"}),
            ('<x:Other xmlns:x="urn:vendor" soap-env:mustUnderstand="1">9</x:Other>', {}),
        ):
            envelope = decode(envelopeText("<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
                                           header=header))
            self.assertEqual(envelope, m.Envelope(m.InformResponse(1), namespace=m.CWMP_1_0, **expected), header)

    def test_missingID(self) -> None:
        """A request without cwmp:ID decodes with id None."""
        envelope = decode(envelopeText("<cwmp:GetRPCMethods/>"))
        self.assertEqual(envelope, m.Envelope(m.GetRPCMethods(), namespace=m.CWMP_1_0))

    def test_laterNamespace(self) -> None:
        """A namespace of a later CWMP version (cwmp-1-4, as some ACSes send) is accepted."""
        envelope = decode(envelopeText("<cwmp:GetRPCMethods/>", namespace="urn:dslforum-org:cwmp-1-4"))
        self.assertEqual(envelope.body, m.GetRPCMethods())
        self.assertEqual(envelope.namespace, "urn:dslforum-org:cwmp-1-4")

    def test_faults(self) -> None:
        """An ACS fault with a prefixed faultcode and an SPV fault list decode."""
        envelope = decode(envelopeText(
            "<soap-env:Fault><faultcode>soap-env:Server</faultcode><faultstring>CWMP fault</faultstring><detail>"
            "<cwmp:Fault><FaultCode>8005</FaultCode><FaultString>Retry request</FaultString></cwmp:Fault></detail>"
            "</soap-env:Fault>", header=GENIE_ID))
        self.assertEqual(envelope.body, m.SOAPFault(CWMPFault(8005, "Retry request"), "Server"))
        self.assertEqual(envelope.namespace, m.CWMP_1_0)
        spv = decode(envelopeText(
            "<soap-env:Fault><faultcode>Client</faultcode><faultstring>CWMP fault</faultstring><detail>"
            "<cwmp:Fault><FaultCode>9003</FaultCode><FaultString>Invalid arguments</FaultString>"
            "<SetParameterValuesFault><ParameterName>Device.A</ParameterName><FaultCode>9007</FaultCode>"
            "</SetParameterValuesFault></cwmp:Fault></detail></soap-env:Fault>"))
        self.assertEqual(spv.body.fault.parameterFaults, (SetParameterValuesFault("Device.A", 9007),))


class UnknownAndInvalidTests(unittest.TestCase):
    def test_unknownRPC(self) -> None:
        """An RPC the codec does not know decodes as UnknownMethod, with its ID."""
        envelope = decode(envelopeText("<cwmp:ChangeDUState><Operations/></cwmp:ChangeDUState>", header=GENIE_ID))
        self.assertEqual(envelope.body, m.UnknownMethod("ChangeDUState", m.CWMP_1_0))
        self.assertEqual(envelope.id, "1a2b3c")

    def test_wrongNamespace(self) -> None:
        """An RPC outside any CWMP namespace is an unknown method, whatever its name."""
        envelope = decode(envelopeText('<x:GetRPCMethods xmlns:x="urn:dslforum-org:cwmp-2-0"/>', header=GENIE_ID))
        self.assertEqual(envelope.body, m.UnknownMethod("GetRPCMethods", "urn:dslforum-org:cwmp-2-0"))
        bare = decode(envelopeText("<GetRPCMethods/>"))
        self.assertEqual(bare.body, m.UnknownMethod("GetRPCMethods", ""))

    def test_invalidArguments(self) -> None:
        """Malformed arguments of a request give a DecodeError carrying 9003, the ID and the namespace."""
        cases = [
            "<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel>maybe</NextLevel>"
            "</cwmp:GetParameterNames>",
            "<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath></cwmp:GetParameterNames>",
            "<cwmp:GetParameterValues/>",
            "<cwmp:ScheduleInform><DelaySeconds>-1</DelaySeconds><CommandKey/></cwmp:ScheduleInform>",
            "<cwmp:ScheduleInform><DelaySeconds>ten</DelaySeconds></cwmp:ScheduleInform>",
            f"<cwmp:Reboot><CommandKey>{'k' * 33}</CommandKey></cwmp:Reboot>",
            "<cwmp:SetParameterValues><ParameterList><ParameterValueStruct><Name>Device.A</Name>"
            "</ParameterValueStruct></ParameterList></cwmp:SetParameterValues>",
            "<cwmp:SetParameterAttributes><ParameterList><SetParameterAttributesStruct><Name>A</Name>"
            "<Notification>7</Notification></SetParameterAttributesStruct></ParameterList>"
            "</cwmp:SetParameterAttributes>",
            "<cwmp:Download><FileType>1 Firmware Upgrade Image</FileType></cwmp:Download>",
            f"<cwmp:AddObject><ObjectName>Device.{'x' * 260}.</ObjectName></cwmp:AddObject>",
            "<cwmp:ScheduleDownload><FileType>1 Firmware Upgrade Image</FileType><URL>http://f/</URL>"
            "<TimeWindowList/></cwmp:ScheduleDownload>",
            "<cwmp:Inform><Event/></cwmp:Inform>",
        ]
        for body in cases:
            with self.assertRaises(DecodeError, msg=body) as caught:
                decode(envelopeText(body, header=GENIE_ID))
            error = caught.exception
            self.assertEqual(error.fault.code, 9003, body)
            self.assertEqual(error.id, "1a2b3c")
            self.assertEqual(error.namespace, m.CWMP_1_0)
            self.assertTrue(error.method)

    def test_faultWithoutDetail(self) -> None:
        """A SOAP fault without a cwmp:Fault detail is a DecodeError (no fault to answer)."""
        with self.assertRaises(DecodeError) as caught:
            decode(envelopeText("<soap-env:Fault><faultcode>Server</faultcode><faultstring>oops</faultstring>"
                                "</soap-env:Fault>", header=GENIE_ID))
        self.assertIsNone(caught.exception.fault)
        self.assertEqual(caught.exception.method, "Fault")
        self.assertEqual(caught.exception.id, "1a2b3c")


class HostileInputTests(unittest.TestCase):
    def assertRejected(self, data: bytes, contentType: str | None = None) -> DecodeError:
        with self.assertRaises(DecodeError) as caught:
            decode(data, contentType)
        self.assertIsNone(caught.exception.fault)
        self.assertTrue(str(caught.exception))
        return caught.exception

    def test_entityBomb(self) -> None:
        """A billion-laughs envelope is refused before any expansion."""
        data = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i else b"&lol;") * 10)
                           for i in range(1, 10))
                + b']><soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
                  b"<soap-env:Body>&lol9;</soap-env:Body></soap-env:Envelope>")
        started = time.process_time()
        self.assertRejected(data)
        self.assertLess(time.process_time() - started, 5)  # a guard against a hang, not a benchmark

    def test_externalEntity(self) -> None:
        """An external entity (file disclosure) is refused."""
        data = (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
                b"<soap-env:Body>&x;</soap-env:Body></soap-env:Envelope>")
        error = self.assertRejected(data)
        self.assertNotIn("root:", str(error))

    def test_hugeBody(self) -> None:
        """A 10 MB body is refused by size before parsing."""
        data = envelopeText("<cwmp:GetRPCMethods/>" + " " * (10 << 20))
        self.assertIn("cap", str(self.assertRejected(data)))

    def test_notAnEnvelope(self) -> None:
        """Non-XML, other roots, SOAP 1.2 and Body-less envelopes are refused."""
        for data in (b"", b"   ", b"hello", b"<a><b></a>", b"<html><body>ACS error</body></html>",
                     b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>',
                     b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/></e:Envelope>'):
            self.assertRejected(data)

    def test_genieACSBrokenFault(self) -> None:
        """
        GenieACS's answer to an RPC it does not know (INTEROP §CWMP 4) is not
        namespace-well-formed: decoding refuses it, salvageFault reads 8000.
        """
        data = envelopeText(
            "<soap-env:Body:Fault><faultcode>Server</faultcode><faultstring>CWMP fault</faultstring><detail>"
            "<cwmp:Fault><FaultCode>8000</FaultCode><FaultString>Method not supported</FaultString></cwmp:Fault>"
            "</detail></soap-env:Body:Fault>", namespace=m.CWMP_1_2, header=GENIE_ID)
        self.assertRejected(data)
        self.assertEqual(codec.salvageFault(data), CWMPFault(8000, "Method not supported"))

    def test_salvageNothing(self) -> None:
        """salvageFault finds nothing in garbage or beyond its 64 KiB window."""
        self.assertIsNone(codec.salvageFault(b"<html>502 Bad Gateway</html>"))
        self.assertIsNone(codec.salvageFault(b" " * (65 << 10) + b"<FaultCode>8000</FaultCode>"))
        self.assertEqual(codec.salvageFault(b"<c:FaultCode> 8005 </c:FaultCode>").code, 8005)


class CharsetTests(unittest.TestCase):
    BODY = "<cwmp:Reboot><CommandKey>Café</CommandKey></cwmp:Reboot>"

    def test_contentTypeCharset(self) -> None:
        """A Latin-1 body without declaration is read by the Content-Type charset."""
        data = envelopeText(self.BODY).decode("utf-8").replace('<?xml version="1.0" encoding="UTF-8"?>\n', "")
        envelope = decode(data.encode("latin-1"), 'text/xml; charset="ISO-8859-1"')
        self.assertEqual(envelope.body.commandKey, "Café")

    def test_declarationCharset(self) -> None:
        """Without a charset parameter, the XML declaration names the encoding."""
        data = envelopeText(self.BODY).decode("utf-8").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
        self.assertEqual(decode(data.encode("latin-1"), "text/xml").body.commandKey, "Café")

    def test_headerWinsOverDeclaration(self) -> None:
        """A UTF-8 charset in the header wins over a declaration that says otherwise."""
        data = envelopeText(self.BODY).replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
        self.assertEqual(decode(data, "text/xml; charset=utf-8").body.commandKey, "Café")

    def test_utf16(self) -> None:
        """A UTF-16 body with a byte order mark decodes."""
        data = envelopeText(self.BODY).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        self.assertEqual(decode(data.encode("utf-16")).body.commandKey, "Café")

    def test_badCharsets(self) -> None:
        """An unknown charset, or bytes that are not in the named one, are refused."""
        self.assertRaises(DecodeError, decode, envelopeText(self.BODY), "text/xml; charset=x-klingon")
        self.assertRaises(DecodeError, decode, b"\xff\xfe\xfa" + envelopeText(self.BODY), "text/xml; charset=utf-8")

    def test_hostileCharsets(self) -> None:
        """
        Charsets that made decode raise something else than DecodeError (a
        crashed session) are refused with DecodeError: a codec that always
        fails (UnicodeError), a NUL in the name (ValueError), codecs that are
        no charset of a document (bytes-to-bytes, escapes, host names), a
        name of a thousand characters.
        """
        data = envelopeText(self.BODY)
        for charset in ("undefined", "utf\x00-8", '"utf\x00"', "punycode", "idna", "unicode_escape",
                        "raw-unicode-escape", "utf-7", "rot13", "hex", "base64", "zlib", "uu", "a" * 1000,
                        "utf-8\u00e9", "utf 8"):
            e = self.assertRaises(DecodeError, decode, data, f"text/xml; charset={charset}")
            self.assertIn("charset", str(e))
            self.assertLess(len(str(e)), 120)

    def test_charsetNamesStillRead(self) -> None:
        """Real charset names in their usual spellings still decode."""
        for charset in ("utf-8", "UTF-8", "utf8", '"utf-8"', "'utf-8'", "us-ascii", "ISO-8859-1", "latin1",
                        "windows-1252"):
            body = envelopeText("<cwmp:Reboot><CommandKey>k</CommandKey></cwmp:Reboot>")
            body = body.replace(b'<?xml version="1.0" encoding="UTF-8"?>\n', b"")
            self.assertEqual(decode(body, f"text/xml; charset={charset}").body.commandKey, "k", charset)


class OutOfRangeValueTests(unittest.TestCase):
    def test_hugeYear(self) -> None:
        """
        A dateTime beyond 9999 in any RPC (OverflowError out of decode before)
        is an invalid argument: a DecodeError, with fault 9003 for a request.
        """
        response = ("<cwmp:DownloadResponse><Status>1</Status><StartTime>99999999999-01-01T00:00:00Z</StartTime>"
                    "<CompleteTime>0001-01-01T00:00:00Z</CompleteTime></cwmp:DownloadResponse>")
        e = self.assertRaises(DecodeError, decode, envelopeText(response))
        self.assertIn("year out of range", str(e))
        request = ("<cwmp:TransferComplete><CommandKey>k</CommandKey><FaultStruct><FaultCode>0</FaultCode>"
                   "<FaultString></FaultString></FaultStruct><StartTime>2024-01-01T00:00:00Z</StartTime>"
                   "<CompleteTime>99999999999-01-01T00:00:00Z</CompleteTime></cwmp:TransferComplete>")
        e = self.assertRaises(DecodeError, decode, envelopeText(request))
        self.assertEqual(e.fault.code, 9003)

    def test_unicodeDigitsInIntegers(self) -> None:
        """Integer arguments are ASCII digits: '²', '١' and '1_0' are 9003, not values."""
        for text in ("²", "١", "1_0", "５", "\u00a05"):
            body = f"<cwmp:ScheduleInform><DelaySeconds>{text}</DelaySeconds><CommandKey>k</CommandKey>" \
                   "</cwmp:ScheduleInform>"
            e = self.assertRaises(DecodeError, decode, envelopeText(body))
            self.assertEqual(e.fault.code, 9003, text)
        body = "<cwmp:ScheduleInform><DelaySeconds>\n 5 \t</DelaySeconds><CommandKey>k</CommandKey></cwmp:ScheduleInform>"
        self.assertEqual(decode(envelopeText(body)).body.delaySeconds, 5)

    def test_sessionTimeoutASCII(self) -> None:
        """A cwmp:SessionTimeout header of Unicode digits is ignored, as any unreadable one is."""
        header = '<cwmp:SessionTimeout xmlns:cwmp="urn:dslforum-org:cwmp-1-0">١٢</cwmp:SessionTimeout>'
        envelope = decode(envelopeText("<cwmp:GetRPCMethods/>", header=header))
        self.assertIsNone(envelope.sessionTimeout)
