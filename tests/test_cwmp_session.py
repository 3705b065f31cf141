"""
Tests for L{proxier.cwmp.session}: every transition of the CPE session state
machine, driven with envelopes as an ACS sends them and a recording delegate;
every byte the machine emits is validated against the CWMP schema.
"""

from __future__ import annotations

from typing import Optional

from twisted.trial import unittest

from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.cwmp.session import MAX_RETRY_REQUESTS, CPESession, Dispatch, Ended, Send
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import DeviceIdentity, ParameterValue, TransferResult
from tests.cwmpxsd import assertValidCWMP

INFORM = m.Inform(DeviceIdentity("ACME", "00D09E", "GW", "SN1"), (m.EventStruct("1 BOOT"),),
                  parameters=(ParameterValue("Device.RootDataModelVersion", "2.17"),))
TC = m.TransferComplete(TransferResult("ck", ""))  # as on the wire: no method
GRM = m.GetRPCMethods()


class Delegate:
    """Records what the session tells the endpoint; hands out queued requests once each."""

    def __init__(self, *requests: m.Message) -> None:
        self.queue = list(requests)
        self.calls: list[tuple] = []

    def informAcknowledged(self, response: m.InformResponse) -> None:
        self.calls.append(("acknowledged", response))

    def nextRequest(self) -> Optional[m.Message]:
        request = self.queue.pop(0) if self.queue else None
        self.calls.append(("next", request))
        return request

    def requestDelivered(self, request: m.Message, response: m.Message) -> None:
        self.calls.append(("delivered", request, response))

    def requestFailed(self, request: m.Message, fault: CWMPFault) -> None:
        self.calls.append(("failed", request, fault.code))


def acs(body: Optional[m.Message], id: Optional[str] = None, namespace: str = m.CWMP_1_2, **headers) -> bytes:
    """An envelope as an ACS would send it."""
    return codec.encode(m.Envelope(body, id=id, namespace=namespace, **headers))


class SessionTests(unittest.TestCase):
    def setUp(self) -> None:
        self.delegate = Delegate()

    def make(self, *requests: m.Message, **kw) -> CPESession:  # type: ignore[no-untyped-def]
        self.delegate = Delegate(*requests)
        return CPESession(self.delegate, sessionTimeout=30, idPrefix="t", **kw)

    def sent(self, actions: list) -> m.Envelope:
        """The one Send in C{actions}, validated and decoded."""
        self.assertEqual(len(actions), 1, actions)
        self.assertIsInstance(actions[0], Send)
        body = actions[0].body
        if not body:
            return m.Envelope(None)
        assertValidCWMP(self, body)
        return codec.decode(body)

    def assertEmptyPost(self, actions: list) -> None:
        self.assertEqual(actions, [Send(b"")])

    def informed(self, session: CPESession, **headers) -> list:  # type: ignore[no-untyped-def]
        envelope = self.sent(session.start(INFORM))
        return session.httpResponse(200, acs(m.InformResponse(1), id=envelope.id, **headers))

    def test_inform(self) -> None:
        """The session opens with a valid Inform carrying ID, session timeout and versions."""
        session = self.make()
        envelope = self.sent(session.start(INFORM))
        self.assertEqual(envelope.body, INFORM)
        self.assertEqual((envelope.id, envelope.sessionTimeout), ("t.1", 30))
        self.assertEqual(envelope.supportedVersions, codec.SUPPORTED_VERSIONS)
        self.assertEqual(envelope.namespace, m.CWMP_1_2)
        self.assertEqual(session.state, "informing")
        self.assertRaises(RuntimeError, session.start, INFORM)

    def test_lowercaseSessionTimeoutOff(self) -> None:
        """Asked so, the Inform carries only the declared cwmp:SessionTimeout, not GenieACS's spelling."""
        body = self.make(lowercaseSessionTimeout=False).start(INFORM)[0].body
        assertValidCWMP(self, body)
        self.assertNotIn(b"cwmp:sessionTimeout", body)
        self.assertEqual(codec.decode(body).sessionTimeout, 30)
        self.assertIn(b"cwmp:sessionTimeout", self.make().start(INFORM)[0].body)

    def test_shortestSession(self) -> None:
        """Inform, InformResponse, empty POST, 204: a successful session."""
        session = self.make()
        self.assertEmptyPost(self.informed(session))
        self.assertEqual(self.delegate.calls, [("acknowledged", m.InformResponse(1)), ("next", None)])
        self.assertEqual(session.state, "listening")
        self.assertEqual(session.httpResponse(204, b""), [Ended(True, "the ACS has no more requests", True)])
        self.assertEqual(session.state, "ended")

    def test_emptyOKEnds(self) -> None:
        """A 200 with an empty (or blank) body ends the session like a 204."""
        session = self.make()
        self.informed(session)
        (ended,) = session.httpResponse(200, b"\r\n")
        self.assertTrue(ended.ok)

    def test_cpeRequests(self) -> None:
        """After the InformResponse, the CPE's requests go one by one, then the empty POST."""
        session = self.make(GRM, TC)
        envelope = self.sent(self.informed(session))
        self.assertEqual(envelope.body, GRM)
        response = m.GetRPCMethodsResponse(("Inform", "TransferComplete"))
        envelope = self.sent(session.httpResponse(200, acs(response, id=envelope.id)))
        self.assertEqual(envelope.body, TC)
        self.assertEmptyPost(session.httpResponse(200, acs(m.TransferCompleteResponse(), id=envelope.id)))
        self.assertEqual([c[0] for c in self.delegate.calls],
                         ["acknowledged", "next", "delivered", "next", "delivered", "next"])
        self.assertEqual(self.delegate.calls[2], ("delivered", GRM, response))

    def test_acsRequests(self) -> None:
        """ACS requests are dispatched and answered with the ACS's ID, until the empty answer."""
        session = self.make()
        self.informed(session)
        request = m.GetParameterValues(("Device.DeviceInfo.SerialNumber",))
        actions = session.httpResponse(200, acs(request, id="acs-7"))
        self.assertEqual(actions, [Dispatch(request)])
        self.assertEqual(session.state, "serving")
        self.assertRaises(RuntimeError, session.httpResponse, 200, b"")
        envelope = self.sent(session.respond(m.GetParameterValuesResponse(
            (ParameterValue("Device.DeviceInfo.SerialNumber", "SN1"),))))
        self.assertEqual(envelope.id, "acs-7")
        self.assertEqual(envelope.body.name, "GetParameterValuesResponse")
        self.assertEqual(session.state, "listening")
        (ended,) = session.httpResponse(204, b"")
        self.assertTrue(ended.ok)
        self.assertEqual(session.served, 1)

    def test_faultAnswer(self) -> None:
        """A CWMPFault given to respond() goes out as a valid SOAP fault with the request's ID."""
        session = self.make()
        self.informed(session)
        session.httpResponse(200, acs(m.SetParameterValues((ParameterValue("Device.X", "1"),), "k"), id="9"))
        envelope = self.sent(session.respond(CWMPFault(9005)))
        self.assertEqual((envelope.id, envelope.body.fault.code), ("9", 9005))

    def test_acsNamespaceKept(self) -> None:
        """An ACS that speaks cwmp-1-0 gets the CPE's requests and answers in cwmp-1-0."""
        session = self.make(TC)
        envelope = self.sent(self.informed(session, namespace=m.CWMP_1_0))
        self.assertEqual(envelope.namespace, m.CWMP_1_0)
        self.assertEmptyPost(session.httpResponse(200, acs(m.TransferCompleteResponse(), id=envelope.id,
                                                           namespace=m.CWMP_1_0)))
        session.httpResponse(200, acs(m.GetRPCMethods(), id="a", namespace=m.CWMP_1_0))
        envelope = self.sent(session.respond(m.GetRPCMethodsResponse(("GetRPCMethods",))))
        self.assertEqual(envelope.namespace, m.CWMP_1_0)

    def test_holdRequests(self) -> None:
        """
        HoldRequests in the InformResponse holds the CPE's requests back; the
        ACS's empty answer releases them; the session then ends normally.
        """
        session = self.make(TC)
        self.assertEmptyPost(self.informed(session, holdRequests=True))
        self.assertEqual(self.delegate.calls, [("acknowledged", m.InformResponse(1))])
        request = m.GetRPCMethods()
        self.assertEqual(session.httpResponse(200, acs(request, id="1", holdRequests=True)), [Dispatch(request)])
        self.sent(session.respond(m.GetRPCMethodsResponse(("GetRPCMethods",))))
        envelope = self.sent(session.httpResponse(204, b""))
        self.assertEqual(envelope.body, TC)
        self.assertEmptyPost(session.httpResponse(200, acs(m.TransferCompleteResponse(), id=envelope.id)))
        (ended,) = session.httpResponse(204, b"")
        self.assertTrue(ended.ok)

    def test_holdRequestsWithNothingHeld(self) -> None:
        """With requests held but none pending, the ACS's empty answer ends the session."""
        session = self.make()
        self.informed(session, holdRequests=True)
        (ended,) = session.httpResponse(204, b"")
        self.assertTrue(ended.ok)

    def test_retryInformOn8005(self) -> None:
        """8005 to the Inform sends it again with a new ID, at most MAX_RETRY_REQUESTS times."""
        session = self.make()
        envelope = self.sent(session.start(INFORM))
        ids = [envelope.id]
        for _ in range(MAX_RETRY_REQUESTS):
            envelope = self.sent(session.httpResponse(500, acs(m.SOAPFault(CWMPFault(8005)), id=envelope.id)))
            self.assertEqual(envelope.body, INFORM)
            ids.append(envelope.id)
        self.assertEqual(len(set(ids)), len(ids))
        (ended,) = session.httpResponse(500, acs(m.SOAPFault(CWMPFault(8005)), id=envelope.id))
        self.assertFalse(ended.ok)
        self.assertFalse(ended.informAcknowledged)

    def test_retryRequestOn8005(self) -> None:
        """8005 to a CPE request sends it again (bounded); then it fails with 8005 and the session goes on."""
        session = self.make(TC)
        envelope = self.sent(self.informed(session))
        for _ in range(MAX_RETRY_REQUESTS):
            envelope = self.sent(session.httpResponse(200, acs(m.SOAPFault(CWMPFault(8005)), id=envelope.id)))
            self.assertEqual(envelope.body, TC)
        self.assertEmptyPost(session.httpResponse(200, acs(m.SOAPFault(CWMPFault(8005)), id=envelope.id)))
        self.assertIn(("failed", TC, 8005), self.delegate.calls)

    def test_informRefused(self) -> None:
        """Any other fault, an empty body, or another message in reply to the Inform fails the session."""
        for answer in (acs(m.SOAPFault(CWMPFault(8003))), b"", acs(m.GetRPCMethods()), acs(None), b"<junk"):
            session = self.make()
            session.start(INFORM)
            (ended,) = session.httpResponse(200, answer)
            self.assertIsInstance(ended, Ended)
            self.assertFalse(ended.ok, answer)
            self.assertFalse(ended.informAcknowledged)
            self.assertNotIn("acknowledged", [c[0] for c in self.delegate.calls])

    def test_genieACSBrokenFault(self) -> None:
        """
        GenieACS's namespace-broken fault to an RPC it does not know fails that
        request with the 8000 it carries; the session goes on (INTEROP §CWMP 4).
        """
        atc = m.AutonomousTransferComplete()
        session = self.make(atc, TC)
        envelope = self.sent(self.informed(session))
        broken = (
            '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">'
            f"{envelope.id}</cwmp:ID></soap-env:Header><soap-env:Body><soap-env:Body:Fault><faultcode>Server"
            "</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultCode>8000</FaultCode>"
            "<FaultString>Method not supported</FaultString></cwmp:Fault></detail></soap-env:Body:Fault>"
            "</soap-env:Body></soap-env:Envelope>").encode()
        envelope = self.sent(session.httpResponse(200, broken))
        self.assertEqual(envelope.body, TC)
        self.assertIn(("failed", atc, 8000), self.delegate.calls)

    def test_unusableAnswersToRequests(self) -> None:
        """Garbage, an empty body or the wrong response fail the request with 8002; the session goes on."""
        for answer in (b"<html>proxy error</html>", b"", acs(m.InformResponse(1))):
            session = self.make(TC)
            self.informed(session)
            self.assertEmptyPost(session.httpResponse(200, answer))
            self.assertIn(("failed", TC, 8002), self.delegate.calls)

    def test_faultWithHTTP500(self) -> None:
        """A SOAP fault sent with HTTP 500 (SOAP 1.1 style) is read as the request's fault."""
        session = self.make(TC)
        envelope = self.sent(self.informed(session))
        self.assertEmptyPost(session.httpResponse(500, acs(m.SOAPFault(CWMPFault(8002)), id=envelope.id)))
        self.assertIn(("failed", TC, 8002), self.delegate.calls)

    def test_requestInsteadOfResponse(self) -> None:
        """An ACS that asks instead of answering: the CPE request waits, the ACS request is served."""
        session = self.make(TC, GRM)
        self.informed(session)
        request = m.GetParameterNames("Device.", True)
        self.assertEqual(session.httpResponse(200, acs(request, id="x")), [Dispatch(request)])
        self.assertIn(("failed", TC, 8002), self.delegate.calls)
        self.sent(session.respond(m.GetParameterNamesResponse(())))
        envelope = self.sent(session.httpResponse(204, b""))  # now the held GetRPCMethods goes
        self.assertEqual(envelope.body, GRM)

    def test_unknownMethod(self) -> None:
        """An RPC the CPE does not know, or an ACS method, is answered 9000 with its ID."""
        for body in (acs(m.Inform(), id="u1"),
                     codec.encode(m.Envelope(m.GetRPCMethods(), id="u1")).replace(b"GetRPCMethods", b"ChangeDUState")):
            session = self.make()
            self.informed(session)
            envelope = self.sent(session.httpResponse(200, body))
            self.assertEqual((envelope.id, envelope.body.fault.code), ("u1", 9000))
            self.assertEqual(session.state, "listening")

    def test_invalidArguments(self) -> None:
        """A request with malformed arguments is answered 9003 with its ID; the session goes on."""
        session = self.make()
        self.informed(session)
        body = (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-0">'
                b'<e:Header><c:ID e:mustUnderstand="1">bad</c:ID></e:Header><e:Body><c:GetParameterNames>'
                b"<ParameterPath>Device.</ParameterPath><NextLevel>perhaps</NextLevel></c:GetParameterNames>"
                b"</e:Body></e:Envelope>")
        envelope = self.sent(session.httpResponse(200, body))
        self.assertEqual((envelope.id, envelope.body.fault.code, envelope.namespace), ("bad", 9003, m.CWMP_1_0))
        (ended,) = session.httpResponse(204, b"")
        self.assertTrue(ended.ok)

    def test_hostileRequestEndsSession(self) -> None:
        """An entity bomb or other unreadable envelope from the ACS ends the session as failed."""
        session = self.make()
        self.informed(session)
        bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>&b;</e:Body></e:Envelope>')
        (ended,) = session.httpResponse(200, bomb)
        self.assertFalse(ended.ok)
        self.assertTrue(ended.informAcknowledged)

    def test_emptyEnvelopeEnds(self) -> None:
        """An envelope with an empty Body from the ACS means it has nothing more."""
        session = self.make()
        self.informed(session)
        (ended,) = session.httpResponse(200, acs(None, id="z"))
        self.assertTrue(ended.ok)

    def test_unexpectedResponseFromACS(self) -> None:
        """A response or fault where a request was expected fails the session."""
        session = self.make()
        self.informed(session)
        (ended,) = session.httpResponse(200, acs(m.TransferCompleteResponse()))
        self.assertFalse(ended.ok)

    def test_httpStatuses(self) -> None:
        """503 (with its Retry-After), 401, 404 and 500 without a body fail the session, in any state."""
        for status, retryAfter in ((503, 120.0), (401, None), (404, None), (500, None), (302, None)):
            for informed in (False, True):
                session = self.make()
                if informed:
                    self.informed(session)
                else:
                    session.start(INFORM)
                (ended,) = session.httpResponse(status, b"", retryAfter=retryAfter)
                self.assertFalse(ended.ok)
                self.assertEqual(ended.retryAfter, retryAfter if status == 503 else None)
                self.assertEqual(ended.informAcknowledged, informed)

    def test_transportFailure(self) -> None:
        """A POST without answer ends the session; later inputs are ignored or refused."""
        session = self.make()
        session.start(INFORM)
        (ended,) = session.transportFailed("no answer within 30 s")
        self.assertEqual(ended, Ended(False, "no answer within 30 s", False))
        self.assertEqual(session.transportFailed("again"), [])
        self.assertRaises(RuntimeError, session.httpResponse, 200, b"")
        self.assertRaises(RuntimeError, session.respond, CWMPFault(9002))

    def test_exchangeBound(self) -> None:
        """An ACS that never ends the session is cut off after the exchange bound."""
        session = self.make(maxExchanges=5)
        self.informed(session)
        for _ in range(4):
            (action,) = session.httpResponse(200, acs(m.GetRPCMethods(), id="l"))
            self.assertIsInstance(action, Dispatch)
            session.respond(m.GetRPCMethodsResponse(("GetRPCMethods",)))
        (ended,) = session.httpResponse(200, acs(m.GetRPCMethods(), id="l"))
        self.assertFalse(ended.ok)
        self.assertIn("exchanges", ended.reason)

    def test_unencodableAnswer(self) -> None:
        """An answer that cannot be encoded (a model returned garbage) goes out as 9002."""
        session = self.make()
        self.informed(session)
        session.httpResponse(200, acs(m.GetParameterValues(("Device.",)), id="g"))
        envelope = self.sent(session.respond(m.GetParameterValuesResponse((object(),))))  # type: ignore[arg-type]
        self.assertEqual((envelope.id, envelope.body.fault.code), ("g", 9002))
