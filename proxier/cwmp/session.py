# -*- test-case-name: tests.test_cwmp_session -*-
"""
One CWMP session, CPE side, as a sans-IO state machine (TR-069 3.7.1).

The machine never touches the network or a data model. It is fed "start with
this Inform", "the ACS answered this HTTP response", "the POST failed" and
"here is the answer to the ACS's request", and says what to do next: send
these bytes (C{b""} for the empty POST), ask the data model this request, or
the session ended (well, or not, and why). Which CPE requests to send, and
what to do when the ACS acknowledged or refused one, is asked of a
L{SessionDelegate} (the endpoint's durable queue), synchronously, so that
what was acknowledged is saved before the next byte goes out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Protocol, Union

from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.cwmp import transferfaults
from proxier.datamodel.faults import CWMPFault

__all__ = [
    "CPESession",
    "SessionDelegate",
    "Send",
    "Dispatch",
    "Ended",
    "Action",
    "MAX_RETRY_REQUESTS",
    "MAX_EXCHANGES",
]

# How often one request answered with 8005 "Retry request" is sent again in
# the same session before it waits for a later one.
MAX_RETRY_REQUESTS = 3
# The most HTTP exchanges one session may take (an ACS that never ends one).
MAX_EXCHANGES = 5000


@dataclass(frozen=True)
class Send:
    """POST C{body} to the ACS (C{b""}: the empty POST)."""

    body: bytes


@dataclass(frozen=True)
class Dispatch:
    """Answer the ACS's C{request}: call L{CPESession.respond} with a response or a L{CWMPFault}."""

    request: m.Message


@dataclass(frozen=True)
class Ended:
    """
    The session is over.

    @ivar ok: it ended normally (TR-069 3.7.1.4), which resets the retry count.
    @ivar informAcknowledged: the ACS answered the Inform with an
        InformResponse (its events were delivered).
    @ivar retryAfter: seconds the ACS asked to wait (503 + Retry-After).
    """

    ok: bool
    reason: str
    informAcknowledged: bool = False
    retryAfter: Optional[float] = None


Action = Union[Send, Dispatch, Ended]


class SessionDelegate(Protocol):
    """What the session asks of the endpoint that runs it."""

    def informAcknowledged(self, response: m.InformResponse) -> None:
        """The ACS answered the Inform: its events are delivered (save that now)."""

    def nextRequest(self) -> Optional[m.Message]:
        """The next CPE request to send in this session, or C{None}. Never the same one twice."""

    def requestDelivered(self, request: m.Message, response: m.Message) -> None:
        """The ACS answered C{request} with C{response}."""

    def requestFailed(self, request: m.Message, fault: CWMPFault) -> None:
        """The ACS refused C{request} (or its answer was unusable); C{fault} says how."""


class CPESession:
    """
    The CPE side of one CWMP session.

    States:
     - C{new}: not started.
     - C{informing}: the Inform is sent; waiting for the InformResponse.
       8005 sends it again (at most L{MAX_RETRY_REQUESTS} times); anything
       else but an InformResponse fails the session.
     - C{requesting}: a CPE request (TransferComplete, GetRPCMethods, ...) is
       sent; waiting for its response. A fault, or an answer that cannot be
       parsed (INTEROP §CWMP 4), is that request's failure and the session
       goes on; 8005 sends it again (bounded). When the ACS holds requests
       (C{cwmp:HoldRequests}) or the delegate has none left, the empty POST
       follows.
     - C{listening}: the empty POST, or a response to the ACS, is sent;
       waiting for the ACS's next request. An empty answer (204, or 200
       without body) ends the session — unless requests were held back,
       which are then sent (an empty answer carries no HoldRequests).
     - C{serving}: an ACS request was handed out (L{Dispatch}); waiting for
       L{respond}. Requests that cannot be served are answered here and now:
       unknown methods with 9000, malformed arguments with 9003.
     - C{ended}: L{Ended} was returned; every further input is refused.

    Transitions to C{ended} with C{ok=False}: a POST that failed, an HTTP
    status other than 200/204 (500 is read as a SOAP fault where it carries
    one), an unreadable envelope outside the C{requesting} state, a fault to
    the Inform, more than L{MAX_EXCHANGES} exchanges.
    """

    def __init__(self, delegate: SessionDelegate, *, sessionTimeout: Optional[int] = None,
                 idPrefix: Optional[str] = None, log: object = None,
                 maxExchanges: int = MAX_EXCHANGES, lowercaseSessionTimeout: bool = True) -> None:
        self.delegate = delegate
        self.state = "new"
        self.namespace = m.DEFAULT_NAMESPACE
        self.holdRequests = False
        self.informAcknowledged = False
        self._sessionTimeout = sessionTimeout
        self._lowercaseSessionTimeout = lowercaseSessionTimeout  # INTEROP §CWMP 6, see codec.encode
        self._idPrefix = idPrefix if idPrefix is not None else os.urandom(4).hex()
        self._ids = 0
        self._log = log
        self._maxExchanges = maxExchanges
        self._exchanges = 0
        self._inform: Optional[m.Inform] = None
        self._request: Optional[m.Message] = None
        self._requestEnvelope: Optional[m.Envelope] = None
        self._retries = 0
        self._serving: Optional[m.Envelope] = None
        self.served = 0

    # -- helpers -------------------------------------------------------------

    def _warn(self, format: str, **kw: object) -> None:
        if self._log is not None:
            self._log.warn(format, **kw)  # type: ignore[attr-defined]

    def _nextId(self) -> str:
        self._ids += 1
        return f"{self._idPrefix}.{self._ids}"

    def _end(self, ok: bool, reason: str, retryAfter: Optional[float] = None) -> list[Action]:
        self.state = "ended"
        return [Ended(ok, reason, self.informAcknowledged, retryAfter)]

    def _sendRequest(self, request: m.Message) -> list[Action]:
        self.state = "requesting"
        self._request = request
        self._retries = 0
        self._requestEnvelope = self._envelopeOf(request)
        return [Send(codec.encode(self._requestEnvelope))]

    def _envelopeOf(self, request: m.Message) -> m.Envelope:
        """
        A request's envelope in the namespace the ACS answered the Inform in,
        its content as that namespace allows (a TransferComplete FaultCode:
        L{transferfaults}).
        """
        return m.Envelope(transferfaults.forNamespace(request, self.namespace), id=self._nextId(),
                          namespace=self.namespace)

    def _listen(self) -> list[Action]:
        self.state = "listening"
        return [Send(b"")]

    def _afterRequests(self) -> list[Action]:
        """Send the next CPE request, or the empty POST when none (or when held)."""
        if not self.holdRequests:
            request = self.delegate.nextRequest()
            if request is not None:
                return self._sendRequest(request)
        return self._listen()

    # -- inputs --------------------------------------------------------------

    def start(self, inform: m.Inform) -> list[Action]:
        """Begin the session with C{inform}."""
        if self.state != "new":
            raise RuntimeError(f"start() in state {self.state}")
        self.state = "informing"
        self._inform = inform
        self._retries = 0
        return [Send(self._encodeInform())]

    def _encodeInform(self) -> bytes:
        return codec.encode(m.Envelope(self._inform, id=self._nextId(), sessionTimeout=self._sessionTimeout,
                                       supportedVersions=codec.SUPPORTED_VERSIONS),
                            lowercaseSessionTimeout=self._lowercaseSessionTimeout)

    def transportFailed(self, reason: str) -> list[Action]:
        """The last POST got no HTTP answer (connection, timeout, TLS, size)."""
        if self.state == "ended":
            return []
        return self._end(False, reason)

    def httpResponse(self, status: int, body: bytes, contentType: Optional[str] = None,
                     retryAfter: Optional[float] = None) -> list[Action]:
        """The ACS answered the last POST."""
        if self.state not in ("informing", "requesting", "listening"):
            raise RuntimeError(f"an HTTP response in state {self.state}")
        self._exchanges += 1
        if self._exchanges > self._maxExchanges:
            return self._end(False, f"more than {self._maxExchanges} exchanges in one session")
        empty = not body.strip()
        if status == 503:
            return self._end(False, "the ACS is unavailable (503)", retryAfter)
        if status == 401:
            return self._end(False, "the ACS refused the credentials (401)")
        if status not in (200, 204) and not (status == 500 and not empty):
            return self._end(False, f"the ACS answered HTTP {status}")
        if self.state == "informing":
            return self._onInformAnswer(body, empty, contentType)
        if self.state == "requesting":
            return self._onRequestAnswer(body, empty, contentType)
        return self._onACSMessage(body, empty, contentType, status)

    def _onInformAnswer(self, body: bytes, empty: bool, contentType: Optional[str]) -> list[Action]:
        if empty:
            return self._end(False, "the ACS answered the Inform with an empty body")
        try:
            envelope = codec.decode(body, contentType)
        except codec.DecodeError as e:
            return self._end(False, f"unreadable answer to the Inform: {e}")
        answer = envelope.body
        if isinstance(answer, m.SOAPFault):
            if answer.fault.code == 8005 and self._retries < MAX_RETRY_REQUESTS:
                self._retries += 1
                return [Send(self._encodeInform())]
            return self._end(False, f"the ACS refused the Inform: {answer.fault}")
        if not isinstance(answer, m.InformResponse):
            name = answer.name if answer is not None else "an empty envelope"
            return self._end(False, f"the ACS answered the Inform with {name}")
        self.informAcknowledged = True
        self.namespace = envelope.namespace
        self.holdRequests = bool(envelope.holdRequests)
        self.delegate.informAcknowledged(answer)
        return self._afterRequests()

    def _onRequestAnswer(self, body: bytes, empty: bool, contentType: Optional[str]) -> list[Action]:
        request = self._request
        assert request is not None and self._requestEnvelope is not None
        if empty:
            return self._requestRefused(request, CWMPFault(8002, "the ACS answered with an empty body"))
        try:
            envelope = codec.decode(body, contentType)
        except codec.DecodeError as e:
            fault = codec.salvageFault(body) or CWMPFault(8002, f"unreadable answer: {e}")
            self._warn("unreadable answer to {method} ({reason}); taken as fault {code}",
                       method=request.name, reason=str(e), code=fault.code)
            return self._requestRefused(request, fault)
        answer = envelope.body
        self.holdRequests = bool(envelope.holdRequests)
        if isinstance(answer, m.SOAPFault):
            if answer.fault.code == 8005 and self._retries < MAX_RETRY_REQUESTS:
                self._retries += 1
                self._requestEnvelope = self._envelopeOf(request)
                return [Send(codec.encode(self._requestEnvelope))]
            return self._requestRefused(request, answer.fault)
        if answer is not None and answer.name == request.name + "Response":
            if envelope.id is not None and envelope.id != self._requestEnvelope.id:
                self._warn("the ACS answered {method} with ID {got}, not {sent}", method=request.name,
                           got=envelope.id, sent=self._requestEnvelope.id)
            self._request = None
            self.delegate.requestDelivered(request, answer)
            return self._afterRequests()
        if answer is not None and answer.isRequest:
            # The ACS did not answer but asked: take it as holding our requests.
            self._warn("the ACS sent {got} instead of answering {method}", got=answer.name, method=request.name)
            self._request = None
            self.delegate.requestFailed(request, CWMPFault(8002, f"the ACS sent {answer.name} instead"))
            self.holdRequests = True
            return self._serve(envelope)
        got = answer.name if answer is not None else "an empty envelope"
        return self._requestRefused(request, CWMPFault(8002, f"the ACS answered {request.name} with {got}"))

    def _requestRefused(self, request: m.Message, fault: CWMPFault) -> list[Action]:
        self._request = None
        self.delegate.requestFailed(request, fault)
        return self._afterRequests()

    def _onACSMessage(self, body: bytes, empty: bool, contentType: Optional[str], status: int) -> list[Action]:
        if empty:
            if self.holdRequests:
                self.holdRequests = False
                request = self.delegate.nextRequest()
                if request is not None:
                    return self._sendRequest(request)
            return self._end(True, "the ACS has no more requests")
        if status != 200:
            return self._end(False, f"the ACS answered HTTP {status} with a body")
        try:
            envelope = codec.decode(body, contentType)
        except codec.DecodeError as e:
            if e.fault is not None and e.method in m.CPE_METHODS:
                self._warn("answering {method} with fault {code}: {reason}", method=e.method, code=e.fault.code,
                           reason=e.reason)
                return self._reply(m.SOAPFault(e.fault), e.id, e.namespace or self.namespace)
            return self._end(False, f"unreadable request from the ACS: {e}")
        if envelope.body is None:
            return self._end(True, "the ACS sent an empty envelope")
        return self._serve(envelope)

    def _serve(self, envelope: m.Envelope) -> list[Action]:
        request = envelope.body
        assert request is not None
        if envelope.holdRequests is not None:
            self.holdRequests = envelope.holdRequests
        if isinstance(request, m.UnknownMethod) or (request.isRequest and request.name not in m.CPE_METHODS):
            method = request.method if isinstance(request, m.UnknownMethod) else request.name
            self._warn("the ACS asked for {method}, which this CPE does not serve", method=method)
            return self._reply(m.SOAPFault(CWMPFault(9000)), envelope.id, envelope.namespace)
        if not request.isRequest:
            return self._end(False, f"the ACS sent {request.name} when a request was expected")
        self.state = "serving"
        self._serving = envelope
        return [Dispatch(request)]

    def _reply(self, message: m.Message, id: Optional[str], namespace: str) -> list[Action]:
        self.state = "listening"
        self.served += 1
        return [Send(codec.encode(m.Envelope(message, id=id, namespace=namespace)))]

    def respond(self, answer: Union[m.Message, CWMPFault]) -> list[Action]:
        """The answer to the request of the last L{Dispatch}: a response, or a fault."""
        if self.state != "serving" or self._serving is None:
            raise RuntimeError(f"respond() in state {self.state}")
        envelope, self._serving = self._serving, None
        message = m.SOAPFault(answer) if isinstance(answer, CWMPFault) else answer
        try:
            encoded = codec.encode(m.Envelope(message, id=envelope.id, namespace=envelope.namespace))
        except (TypeError, ValueError, AttributeError) as e:
            # A data model answered something that cannot be put on the wire.
            self._warn("cannot encode the answer to {method}: {error}", method=envelope.body.name,  # type: ignore
                       error=str(e))
            encoded = codec.encode(m.Envelope(m.SOAPFault(CWMPFault(9002)), id=envelope.id,
                                              namespace=envelope.namespace))
        self.state = "listening"
        self.served += 1
        return [Send(encoded)]
