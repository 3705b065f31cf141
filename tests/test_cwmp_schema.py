"""
Tests for L{proxier.cwmp.schema}: what a strict ACS checks of every message
(the envelope, the RPC, the fault detail, and each header: a declared one
must be valid, any other must not carry C{mustUnderstand}).
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.cwmp.schema import schemaDirectory, validationErrors
from proxier.datamodel.values import DeviceIdentity
from tests.cwmpxsd import REF

IDENTITY = DeviceIdentity("ACME", "00D09E", "GW", "SN1")
NS = 'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2"'


def envelope(header: str) -> bytes:
    return (f'<soapenv:Envelope {NS}><soapenv:Header>{header}</soapenv:Header>'
            '<soapenv:Body><cwmp:GetRPCMethods/></soapenv:Body></soapenv:Envelope>').encode()


class HeaderRuleTests(unittest.TestCase):
    def test_declaredHeadersValidated(self) -> None:
        """A header the schema declares is validated: a SessionTimeout that is no number is an error."""
        self.assertEqual(validationErrors(envelope('<cwmp:SessionTimeout>30</cwmp:SessionTimeout>'), REF), [])
        errors = validationErrors(envelope('<cwmp:SessionTimeout>soon</cwmp:SessionTimeout>'), REF)
        self.assertTrue(any("SessionTimeout" in e and "'soon'" in e for e in errors), errors)

    def test_undeclaredHeaders(self) -> None:
        """
        A header no schema declares (GenieACS's lower-case sessionTimeout, a
        foreign one) passes the lax Header rule without mustUnderstand, and is
        an error with mustUnderstand true.
        """
        for header in ('<cwmp:sessionTimeout>30</cwmp:sessionTimeout>',
                       '<cwmp:sessionTimeout soapenv:mustUnderstand="0">30</cwmp:sessionTimeout>',
                       '<x:Trace xmlns:x="urn:example">1</x:Trace>'):
            self.assertEqual(validationErrors(envelope(header), REF), [], header)
        for header in ('<cwmp:sessionTimeout soapenv:mustUnderstand="1">30</cwmp:sessionTimeout>',
                       '<x:Trace xmlns:x="urn:example" soapenv:mustUnderstand="1">1</x:Trace>'):
            errors = validationErrors(envelope(header), REF)
            self.assertEqual(len(errors), 1, header)
            self.assertIn("declared by no schema", errors[0])

    def test_invalidRPC(self) -> None:
        """The RPC element is validated on its own (the envelope schema is lax about the Body)."""
        body = envelope("").replace(b"<cwmp:GetRPCMethods/>", b"<cwmp:GetParameterNames/>")
        self.assertTrue(any("RPC GetParameterNames" in e for e in validationErrors(body, REF)))

    def test_schemaDirectory(self) -> None:
        """Beside this checkout the schemas are found without configuration."""
        self.assertIsNotNone(schemaDirectory())
        inform = codec.encode(m.Envelope(m.Inform(IDENTITY), id="1", sessionTimeout=30))
        self.assertEqual(validationErrors(inform), [])
