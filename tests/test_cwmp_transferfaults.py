"""
Tests for L{proxier.cwmp.transferfaults} (issue 17.6): the table of the
FaultCodes each CWMP namespace allows in a TransferComplete is the schemas'
own (every code from 0 and 8990 to 10009 validated against cwmp-1-0.xsd,
cwmp-1-1.xsd, cwmp-1-2.xsd, cwmp-1-3.xsd and cwmp-1-4.xsd), TR-330 Table 3's
9027 is sent where the ACS's namespace allows it and 9017 otherwise, and the
session sends a TransferComplete in the namespace the ACS answered the
Inform in, valid under the matching schema.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from lxml import etree
from twisted.trial import unittest

from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.cwmp import transferfaults
from proxier.cwmp.session import CPESession, Send
from proxier.cwmp.transferfaults import NS_1_0, NS_1_1, NS_1_2, faultCodeFor, forNamespace
from proxier.datamodel.values import AutonomousTransferResult, DeviceIdentity, TransferResult
from proxier.upnpdm.firmware import ERROR_DESCRIPTIONS, TABLE_3_DISK_FULL, UPDATE_ERRORS
from tests._helpers import SHARED

REF = os.path.join(SHARED, "ref", "cwmp") + os.sep
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_LOCAL = {
    SOAP_ENV: REF + "soap/soap-envelope.xsd",
    "http://schemas.xmlsoap.org/soap/encoding/": REF + "soap/soap-encoding.xsd",
}
# Each schema file, and the namespace it defines (1-3 and 1-4 keep 1-2's).
SCHEMAS = {
    "cwmp-1-0.xsd": NS_1_0,
    "cwmp-1-1.xsd": NS_1_1,
    "cwmp-1-2.xsd": NS_1_2,
    "cwmp-1-3.xsd": NS_1_2,
    "cwmp-1-4.xsd": NS_1_2,
}


class _Resolver(etree.Resolver):
    def resolve(self, url, pubid, context):  # type: ignore[override]
        if url in _LOCAL:
            return self.resolve_filename(_LOCAL[url], context)
        for prefix in ("http://www.broadband-forum.org/cwmp/", "https://www.broadband-forum.org/cwmp/"):
            if url.startswith(prefix):
                return self.resolve_filename(REF + url[len(prefix):], context)
        return None


_compiled: dict[str, etree.XMLSchema] = {}


def schema(name: str) -> etree.XMLSchema:
    """One schema file of ../shared/ref/cwmp, compiled once, nothing fetched."""
    if name not in _compiled:
        parser = etree.XMLParser(no_network=True)
        parser.resolvers.add(_Resolver())
        _compiled[name] = etree.XMLSchema(etree.parse(REF + name, parser))
    return _compiled[name]


def rpcValid(envelope: bytes, schemaName: str) -> bool:
    """Whether the RPC element of C{envelope}, as a document of its own, is valid under C{schemaName}."""
    body = etree.fromstring(envelope).find(f"{{{SOAP_ENV}}}Body")
    document = etree.ElementTree(etree.fromstring(etree.tostring(body[0])))
    return schema(schemaName).validate(document)


def transferComplete(code: int, method: str = "Download") -> m.TransferComplete:
    return m.TransferComplete(TransferResult("k", method, code, "the device's words"))


def autonomous(code: int) -> m.AutonomousTransferComplete:
    return m.AutonomousTransferComplete(AutonomousTransferResult(
        "http://127.0.0.1/a", "", True, "1 Firmware Upgrade Image", faultCode=code, faultString="x"))


class TableTests(unittest.TestCase):
    """ALLOWED is what each schema file allows, code by code."""

    def test_tableIsTheSchemas(self) -> None:
        """Each code of 0 and 8990-10009, in a TransferComplete of each namespace, is valid just when ALLOWED says."""
        for name, namespace in SCHEMAS.items():
            for code in [0] + list(range(8990, 10010)):
                valid = rpcValid(codec.encode(m.Envelope(transferComplete(code), id="1", namespace=namespace)), name)
                self.assertEqual(valid, transferfaults.allowed(code, namespace), f"{name} {code}")

    def test_autonomousAsTransferComplete(self) -> None:
        """AutonomousTransferComplete takes the same codes (the 1-0 namespace has no such RPC)."""
        for name, namespace in SCHEMAS.items():
            if namespace == NS_1_0:
                continue
            for code in (0, 9013, 9017, 9021, 9027, 9032, 9033):
                valid = rpcValid(codec.encode(m.Envelope(autonomous(code), id="1", namespace=namespace)), name)
                self.assertEqual(valid, transferfaults.allowed(code, namespace), f"{name} {code}")


class ChoiceTests(unittest.TestCase):
    """What is sent for each code the proxier keeps, in each namespace."""

    def test_diskFull(self) -> None:
        """TR-330 Table 3's 9027: as it is in cwmp-1-1, 9017 in cwmp-1-2 (CWMP 1.2-1.4), 9010 in cwmp-1-0."""
        self.assertEqual(ERROR_DESCRIPTIONS["Error_DiskFull"], TABLE_3_DISK_FULL)
        self.assertEqual(TABLE_3_DISK_FULL, 9027)
        self.assertEqual(faultCodeFor(9027, NS_1_1), 9027)
        self.assertEqual(faultCodeFor(9027, NS_1_2), 9017)
        self.assertEqual(faultCodeFor(9027, NS_1_0), 9010)
        self.assertEqual(faultCodeFor(9027, "urn:dslforum-org:cwmp-1-9"), 9017)  # newer: as the newest known

    def test_otherCodes(self) -> None:
        """A code a namespace lacks goes as the generic download or upload failure; an allowed one as it is."""
        self.assertEqual(faultCodeFor(9015, NS_1_2), 9015)
        self.assertEqual(faultCodeFor(9015, NS_1_0), 9010)
        self.assertEqual(faultCodeFor(9015, NS_1_0, isDownload=False), 9011)
        self.assertEqual(faultCodeFor(9013, NS_1_1), 9010)
        self.assertEqual(faultCodeFor(9001, NS_1_0), 9001)

    def test_everyFirmwareCodeValidInEveryNamespace(self) -> None:
        """Every code the firmware module keeps, sent through forNamespace, is valid under each schema file."""
        codes = {c for c, _ in UPDATE_ERRORS.values()} | set(ERROR_DESCRIPTIONS.values()) | {9002, 9010}
        for name, namespace in SCHEMAS.items():
            for code in sorted(codes):
                for message in (transferComplete(code), transferComplete(code, "Upload")) + (
                        (autonomous(code),) if namespace != NS_1_0 else ()):
                    sent = forNamespace(message, namespace)
                    self.assertTrue(rpcValid(codec.encode(m.Envelope(sent, id="1", namespace=namespace)), name),
                                    f"{name}: {message.name} {code} sent as {sent.result.faultCode}")
                    self.assertEqual(sent.result.faultString, message.result.faultString)

    def test_otherMessagesUnchanged(self) -> None:
        """Anything but a TransferComplete passes as it is."""
        message = m.GetRPCMethods()
        self.assertIs(forNamespace(message, NS_1_0), message)
        message = transferComplete(9017)
        self.assertIs(forNamespace(message, NS_1_2), message)


class _Delegate:
    """The endpoint's queue, as the session asks it: one request to send."""

    def __init__(self, request: m.Message) -> None:
        self.requests = [request]

    def informAcknowledged(self, response: m.InformResponse) -> None:
        pass

    def nextRequest(self) -> Optional[m.Message]:
        return self.requests[0] if self.requests else None

    def requestDelivered(self, request: m.Message, response: m.Message) -> None:
        self.requests.remove(request)

    def requestFailed(self, request: m.Message, fault: Any) -> None:
        self.requests.remove(request)


class SessionTests(unittest.TestCase):
    """The session sends the TransferComplete in the ACS's namespace, with a FaultCode it allows."""

    def sentTransferComplete(self, namespace: str) -> bytes:
        request = transferComplete(TABLE_3_DISK_FULL)
        delegate = _Delegate(request)
        session = CPESession(delegate)
        session.start(m.Inform(DeviceIdentity("Acme", "001122", "Box", "S1")))
        answer = codec.encode(m.Envelope(m.InformResponse(), id="1", namespace=namespace))
        [send] = [a for a in session.httpResponse(200, answer, "text/xml") if isinstance(a, Send)]
        return send.body

    def test_sentPerNamespace(self) -> None:
        """9027 to an ACS speaking cwmp-1-1, 9017 to one speaking cwmp-1-2, each valid under its schema files."""
        for namespace, expected, files in ((NS_1_1, 9027, ["cwmp-1-1.xsd"]),
                                           (NS_1_2, 9017, ["cwmp-1-2.xsd", "cwmp-1-3.xsd", "cwmp-1-4.xsd"]),
                                           (NS_1_0, 9010, ["cwmp-1-0.xsd"])):
            body = self.sentTransferComplete(namespace)
            envelope = codec.decode(body)
            self.assertEqual(envelope.namespace, namespace)
            self.assertEqual(envelope.body.result.faultCode, expected)
            for name in files:
                self.assertTrue(rpcValid(body, name), f"{name}: {body[:400]!r}")
