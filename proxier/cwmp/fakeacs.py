# -*- test-case-name: tests.test_cwmp_fakeacs -*-
"""
A scriptable ACS, for the tests and the demo: a L{twisted.web} resource that
speaks CWMP with the proxier's own codec.

It is as strict as a real ACS (GenieACS's C{lib/cwmp.ts}) on what ties a
session together: a session is its cookie (a later POST without it is
refused) and its TCP connection — a request arriving on the connection of
another session that is still running, or a session's request arriving on a
new connection while its own is still open, gets 400 "Invalid session" with
C{Connection: close}, and both sessions end (recorded in
C{invalidSessions}). A session may move to a new connection once its own is
closed or closing (a C{Connection: close} either way, a drop). It can answer
chosen responses with C{Connection: close}, and validates every message it
receives against the BBF schemas (L{proxier.cwmp.schema}) when they are on
this machine, or with the validator it is given.

It records every message both ways (parsed and raw), answers Informs and the
CPE's requests, and runs a script of requests per device: a list, or a
callable that picks the next request from the last response. Behaviours of
GenieACS (INTEROP §CWMP) can be switched on: an RPC it does not support
answered 8000 in a fault that is not namespace-well-formed, sessions dropped
after 30 s idle unless the Inform set a session timeout, 204 with
C{Connection: close} at the end of a session. It can demand Digest
authentication and perform Connection Requests the way GenieACS does (GET,
no credentials first, then Digest, 2 s timeout).
"""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from proxier.cwmp import codec
from proxier.cwmp import messages as m
from proxier.httpauth import DigestClient, DigestServer, parseChallenges
from proxier.cwmp.schema import InvalidCWMP, schemaDirectory, validationErrors
from proxier.datamodel.faults import CWMPFault

__all__ = ["FakeACS", "ACSSession", "Exchange", "connectionRequest", "GENIEACS_METHODS", "ALL_ACS_METHODS"]

# What GenieACS answers to GetRPCMethods (INTEROP §CWMP 5).
GENIEACS_METHODS = ("Inform", "GetRPCMethods", "TransferComplete")
ALL_ACS_METHODS = ("Inform", "GetRPCMethods", "TransferComplete", "AutonomousTransferComplete", "RequestDownload")

_GENIEACS_NAMESPACES = (m.CWMP_1_0, m.CWMP_1_1, m.CWMP_1_2, "urn:dslforum-org:cwmp-1-3")
_CWMP_NAMESPACE = re.compile(rb"""xmlns(?::[\w.-]+)?\s*=\s*["'](urn:dslforum-org:cwmp-[^"']*)["']""")

COOKIE = b"fakeacs-session"
GENIEACS_IDLE = 30.0

Script = Union[list, Callable[["ACSSession", Optional[m.Message]], Optional[m.Message]]]
SCHEMA = object()  # FakeACS(validator=SCHEMA): validate against the BBF schemas when they are here


def schemaValidator(body: bytes) -> None:
    """Raise L{InvalidCWMP} unless C{body} is valid under the BBF CWMP schemas."""
    errors = validationErrors(body)
    if errors:
        raise InvalidCWMP(errors)


@dataclass
class Exchange:
    """One message of a session: C{"cpe"} (received) or C{"acs"} (sent), parsed and raw."""

    direction: str
    envelope: Optional[m.Envelope]
    raw: bytes


@dataclass
class ACSSession:
    """What the ACS saw of one session of one device."""

    device: str
    token: str
    inform: m.Inform
    namespace: str
    sessionTimeout: Optional[int]
    lastSeen: float
    exchanges: list = field(default_factory=list)
    responses: list = field(default_factory=list)  # (request sent, what the CPE answered)
    pending: Optional[m.Message] = None
    ended: bool = False
    ok: bool = False
    sequence: int = 0
    connections: list = field(default_factory=list)  # the connection (number) of every request, in order
    invalid: Optional[str] = None  # why the ACS declared it an invalid session
    channel: Any = field(default=None, repr=False, compare=False)  # weak reference to its connection

    @property
    def received(self) -> list[m.Message]:
        """Every message the CPE sent in this session, in order (None for empty POSTs)."""
        return [e.envelope.body if e.envelope is not None else None for e in self.exchanges if e.direction == "cpe"]


class FakeACS(Resource):
    """
    The ACS. Attributes may be changed between sessions by a test.

    @ivar methods: what it answers to GetRPCMethods and accepts from the CPE.
    @ivar genieacs: behave as GenieACS on the points of INTEROP §CWMP.
    @ivar idleTimeout: with C{genieacs}, seconds after which an idle session
        is dropped unless its Inform set C{cwmp:sessionTimeout}.
    @ivar holdRequests: send C{cwmp:HoldRequests} true with the InformResponse.
    @ivar informFaults: faults to answer the next Informs with, in order.
    @ivar requestFaults: per CPE method, faults to answer its next calls with.
    @ivar unavailable: C{(status, retryAfter)} to answer every Inform with.
    @ivar silent: never answer (the request hangs until the client gives up).
    @ivar validator: called with every body received; what it raises is kept
        in C{validationErrors} and answered with HTTP 500. By default the BBF
        schemas (when this machine has them, else nothing).
    @ivar closeResponses: the responses of each session (counted from 1,
        the InformResponse) sent with C{Connection: close}.
    @ivar invalidSessions: a line per request refused as "Invalid session"
        for being on another session's connection.
    @ivar connections: how many TCP connections requests came on.
    @ivar sessions: every session, in the order they began.
    @ivar hung: requests left unanswered while C{silent}.
    """

    isLeaf = True
    log = Logger()

    def __init__(self, *, clock: Any = None, genieacs: bool = False, methods: tuple[str, ...] = ALL_ACS_METHODS,
                 username: str = "", password: str = "", namespace: Optional[str] = None,
                 validator: Any = SCHEMA, idleTimeout: float = GENIEACS_IDLE) -> None:
        super().__init__()
        if clock is None:
            from twisted.internet import reactor as clock  # type: ignore[no-redef]
        self.clock = clock
        self.genieacs = genieacs
        self.methods = tuple(GENIEACS_METHODS if genieacs and methods is ALL_ACS_METHODS else methods)
        self.namespace = namespace
        if validator is SCHEMA:
            validator = schemaValidator if schemaDirectory() is not None else None
            if validator is None:
                self.log.info("no BBF CWMP schemas on this machine: the fake ACS does not validate messages")
        self.validator: Optional[Callable[[bytes], None]] = validator
        self.idleTimeout = idleTimeout
        self.validationErrors: list[str] = []
        self.holdRequests = False
        self.informFaults: list[CWMPFault] = []
        self.requestFaults: dict[str, list[CWMPFault]] = {}
        self.unavailable: Optional[tuple[int, Optional[int]]] = None
        self.silent = False
        self.hung: list = []
        self.sessions: list[ACSSession] = []
        self.rawRequests: list[tuple[dict, bytes]] = []
        self.closeResponses: set[int] = set()
        self.invalidSessions: list[str] = []
        self.connections = 0
        self._connections: "weakref.WeakKeyDictionary[Any, _Connection]" = weakref.WeakKeyDictionary()
        self._scripts: dict[Optional[str], Script] = {}
        self._byToken: dict[str, ACSSession] = {}
        self._digest = DigestServer("fakeacs", clock=lambda: self.clock.seconds()) if username else None
        self._credentials = (username, password)

    # -- scripting -------------------------------------------------------------

    def script(self, requests: Script, device: Optional[str] = None) -> None:
        """
        What to ask in the next sessions of C{device} (C{"OUI-ProductClass-
        SerialNumber"}; C{None}: any device without a script of its own): a
        list (consumed across sessions) or a callable C{(session, lastResponse)
        -> request or None}.
        """
        self._scripts[device] = requests if callable(requests) else list(requests)

    def sessionsFor(self, device: str) -> list[ACSSession]:
        return [s for s in self.sessions if s.device == device]

    def _nextRequest(self, session: ACSSession, last: Optional[m.Message]) -> Optional[m.Message]:
        script = self._scripts.get(session.device, self._scripts.get(None))
        if script is None:
            return None
        if callable(script):
            return script(session, last)
        return script.pop(0) if script else None

    # -- HTTP --------------------------------------------------------------------

    def render_POST(self, request: Any) -> Any:
        body = request.content.read()
        headers = {k.decode("latin-1").lower(): [v.decode("latin-1") for v in vs]
                   for k, vs in request.requestHeaders.getAllRawHeaders()}
        self.rawRequests.append((headers, body))
        if self.silent:
            self.hung.append(request)
            return NOT_DONE_YET
        if self._digest is not None and not self._authenticated(request):
            return b""
        namespaces = {ns.decode("latin-1") for ns in _CWMP_NAMESPACE.findall(body)}
        if self.genieacs and namespaces - set(_GENIEACS_NAMESPACES):
            request.setResponseCode(400)  # before anything else, as GenieACS's lib/soap.ts
            return b"Unrecognized CWMP version"
        if body.strip() and self.validator is not None:
            try:
                self.validator(body)
            except BaseException as e:  # a test's assertion, whatever its type
                self.validationErrors.append(str(e))
                request.setResponseCode(500)
                return b"invalid CWMP"
        session = self._sessionOf(request)
        envelope = None
        if body.strip():
            try:
                envelope = codec.decode(body, request.getHeader(b"content-type"))
            except codec.DecodeError as e:
                request.setResponseCode(400)
                return f"unreadable envelope: {e}".encode()
        isInform = envelope is not None and isinstance(envelope.body, m.Inform)
        refused = self._checkConnection(request, None if isInform else session)
        if refused:
            return refused
        if isInform:
            return self._inform(request, envelope, body)  # type: ignore[arg-type]
        if session is None:
            request.setResponseCode(400)
            return b"Invalid session"
        self._bind(request, session)
        session.lastSeen = self.clock.seconds()
        session.exchanges.append(Exchange("cpe", envelope, body))
        message = envelope.body if envelope is not None else None
        if message is not None and message.isRequest:
            return self._cpeRequest(request, session, envelope)  # type: ignore[arg-type]
        if session.pending is not None:
            session.responses.append((session.pending, message))
            session.pending = None
        return self._next(request, session, message)

    # -- connections (GenieACS binds a session to its TCP connection) -----------------

    def _connection(self, request: Any) -> Optional["_Connection"]:
        """What this ACS knows of the TCP connection C{request} came on (C{None}: no channel to tell)."""
        channel = getattr(request, "channel", None)
        if channel is None:
            return None
        try:
            connection = self._connections.get(channel)
        except TypeError:  # not weakly referenceable: cannot be told apart
            return None
        if connection is None:
            self.connections += 1
            connection = self._connections[channel] = _Connection(self.connections)
        return connection

    def _checkConnection(self, request: Any, session: Optional[ACSSession]) -> Optional[bytes]:
        """
        Refuse, as GenieACS does (400 "Invalid session", the connection
        closed, both sessions ended), a request on the connection of another
        session still running, and a request of C{session} on a new
        connection while its own is open.
        """
        connection = self._connection(request)
        if connection is None:
            return None
        bound = connection.session
        if bound is not None and not bound.ended and bound is not session:
            what = f"a request of {session.device}'s session" if session is not None else "a request of no session"
            reason = f"{what} on connection {connection.number}, which belongs to {bound.device}'s session"
        elif session is not None and not session.ended and session.channel is not None:
            own = session.channel()
            if own is None or own is request.channel or _closing(own):
                return None
            reason = (f"{session.device}'s session continued on connection {connection.number} while its own "
                      f"connection {session.connections[-1]} is open")
        else:
            return None
        for ended in (bound, session):
            if ended is not None and not ended.ended:
                ended.ended, ended.ok, ended.invalid = True, False, reason
        self.invalidSessions.append(reason)
        self.log.warn("Invalid session: {reason}", reason=reason)
        request.setResponseCode(400)
        _closeAfter(request)
        return b"Invalid session"

    def _bind(self, request: Any, session: ACSSession) -> None:
        """C{session}'s request came on this connection: it is the session's connection now."""
        connection = self._connection(request)
        if connection is None:
            return
        connection.session = session
        session.channel = weakref.ref(request.channel)
        session.connections.append(connection.number)

    def _authenticated(self, request: Any) -> bool:
        header = request.getHeader(b"authorization")
        assert self._digest is not None
        if header:
            username, password = self._credentials
            verdict = self._digest.check("POST", request.uri.decode("latin-1"), header.decode("latin-1"),
                                         lambda user: password if user == username else None)
            if verdict.ok:
                return True
            stale = verdict.stale
        else:
            stale = False
        request.setResponseCode(401)
        request.setHeader(b"WWW-Authenticate", self._digest.challenge(stale=stale).encode())
        return False

    def _sessionOf(self, request: Any) -> Optional[ACSSession]:
        token = request.getCookie(COOKIE)
        session = self._byToken.get(token.decode("latin-1")) if token else None
        if session is None:
            return None
        if session.ended:
            # After the ACS's empty answer a CPE may still send what it held
            # back (TR-069 3.7.1.4); GenieACS has forgotten the session then.
            if self.genieacs or not session.ok:
                return None
            session.ended = session.ok = False
        if self.genieacs:
            idle = session.sessionTimeout or self.idleTimeout
            if self.clock.seconds() - session.lastSeen > idle:
                session.ended = True
                self.log.info("dropped the idle session of {device}", device=session.device)
                return None
        return session

    def _reply(self, request: Any, session: ACSSession, message: Optional[m.Message], id: Optional[str],
               **headers: Any) -> bytes:
        if message is None:
            session.exchanges.append(Exchange("acs", None, b""))
            request.setResponseCode(204 if self.genieacs else 200)
            self._maybeClose(request, session, last=True)
            return b""
        data = codec.encode(m.Envelope(message, id=id, namespace=session.namespace, **headers))
        session.exchanges.append(Exchange("acs", codec.decode(data), data))
        request.setHeader(b"Content-Type", b'text/xml; charset="utf-8"')
        self._maybeClose(request, session)
        return data

    def _maybeClose(self, request: Any, session: ACSSession, last: bool = False) -> None:
        """C{Connection: close} on the chosen responses, and (as GenieACS) on the last of a session."""
        sent = sum(1 for e in session.exchanges if e.direction == "acs")
        if sent in self.closeResponses or (last and self.genieacs):
            _closeAfter(request)

    def _inform(self, request: Any, envelope: m.Envelope, body: bytes) -> bytes:
        inform = envelope.body
        assert isinstance(inform, m.Inform)
        if self.genieacs and envelope.namespace not in _GENIEACS_NAMESPACES:
            request.setResponseCode(400)
            return b"Unrecognized CWMP version"
        if self.unavailable is not None:
            status, retryAfter = self.unavailable
            request.setResponseCode(status)
            if retryAfter is not None:
                request.setHeader(b"Retry-After", str(retryAfter).encode())
            return b""
        device = str(inform.deviceId)
        token = os.urandom(12).hex()
        namespace = self.namespace or envelope.namespace
        session = ACSSession(device, token, inform, namespace, envelope.sessionTimeout, self.clock.seconds())
        session.exchanges.append(Exchange("cpe", envelope, body))
        self.sessions.append(session)
        self._byToken[token] = session
        self._bind(request, session)
        request.addCookie(COOKIE, token.encode(), path=b"/")
        if self.informFaults:
            session.ended = True
            fault = self.informFaults.pop(0)
            request.setResponseCode(500)
            return self._reply(request, session, m.SOAPFault(fault), envelope.id)
        extra = {"holdRequests": True} if self.holdRequests else {}
        return self._reply(request, session, m.InformResponse(1), envelope.id, **extra)

    def _cpeRequest(self, request: Any, session: ACSSession, envelope: m.Envelope) -> bytes:
        message = envelope.body
        assert message is not None
        if message.name not in self.methods or message.name not in m.ACS_METHODS:
            if self.genieacs:
                return self._brokenFault(request, session, envelope.id)
            return self._reply(request, session, m.SOAPFault(CWMPFault(8000)), envelope.id)
        faults = self.requestFaults.get(message.name)
        if faults:
            return self._reply(request, session, m.SOAPFault(faults.pop(0)), envelope.id)
        response: m.Message
        if isinstance(message, m.GetRPCMethods):
            response = m.GetRPCMethodsResponse(self.methods)
        else:
            response = m.MESSAGE_TYPES[message.name + "Response"]()
        return self._reply(request, session, response, envelope.id)

    def _brokenFault(self, request: Any, session: ACSSession, id: Optional[str]) -> bytes:
        """GenieACS's answer to an RPC it does not know: a fault element that is not namespace-well-formed."""
        data = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<soap-env:Envelope '
            'xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" '
            'xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:cwmp="{session.namespace}"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">{id or ""}'
            "</cwmp:ID></soap-env:Header><soap-env:Body><soap-env:Body:Fault><faultcode>Server</faultcode>"
            "<faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultCode>8000</FaultCode>"
            "<FaultString>Method not supported</FaultString></cwmp:Fault></detail></soap-env:Body:Fault>"
            "</soap-env:Body></soap-env:Envelope>"
        ).encode()
        session.exchanges.append(Exchange("acs", None, data))
        request.setHeader(b"Content-Type", b'text/xml; charset="utf-8"')
        self._maybeClose(request, session)
        return data

    def _next(self, request: Any, session: ACSSession, last: Optional[m.Message]) -> bytes:
        nextRequest = self._nextRequest(session, last)
        if nextRequest is None:
            session.ended = True
            session.ok = True
            return self._reply(request, session, None, None)
        session.sequence += 1
        session.pending = nextRequest
        return self._reply(request, session, nextRequest, f"acs-{session.sequence}")

    # -- Connection Requests -------------------------------------------------------

    def connectionRequest(self, url: str, username: str, password: str, agent: Any = None,
                          timeout: float = 2.0) -> defer.Deferred:
        """Ask the CPE at C{url} for a session, as GenieACS does; fires with the final HTTP status."""
        return connectionRequest(url, username, password, agent=agent, clock=self.clock, timeout=timeout)


@dataclass
class _Connection:
    """One TCP connection to the ACS: its number, and the session it belongs to (the last one on it)."""

    number: int
    session: Optional[ACSSession] = None


def _closing(channel: Any) -> bool:
    """Whether a server connection is closed or will close after its current answer."""
    if not getattr(channel, "persistent", True):
        return True
    transport = getattr(channel, "transport", None)
    while transport is not None:
        if getattr(transport, "disconnected", False) or getattr(transport, "disconnecting", False):
            return True
        transport = getattr(transport, "transport", None)
    return False


def _closeAfter(request: Any) -> None:
    """Answer C{request} with C{Connection: close}, and close its connection after the answer."""
    request.setHeader(b"Connection", b"close")
    channel = getattr(request, "channel", None)
    if channel is not None:
        channel.persistent = False


def connectionRequest(url: str, username: str, password: str, *, agent: Any = None, clock: Any = None,
                      timeout: float = 2.0) -> defer.Deferred:
    """
    A Connection Request as GenieACS makes it: GET C{url} without credentials;
    on a 401 with a Digest challenge, GET again answering it (the digest
    C{uri} is the path with its query). Fires with the final status, or fails
    when there is no answer within C{timeout} seconds.
    """
    from treq.client import HTTPClient

    if clock is None:
        from twisted.internet import reactor as clock  # type: ignore[no-redef]
    if agent is None:
        from twisted.web.client import Agent, HTTPConnectionPool

        agent = Agent(clock, pool=HTTPConnectionPool(clock, persistent=False))
    client = HTTPClient(agent)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    @defer.inlineCallbacks
    def attempt() -> Any:
        response = yield client.get(url, allow_redirects=False)
        yield response.content()
        if response.code != 401:
            return response.code
        challenges = parseChallenges(
            [v.decode("latin-1") for v in response.headers.getRawHeaders(b"WWW-Authenticate", [])])
        chosen = DigestClient.pick(challenges)
        if chosen is None:
            return response.code
        digest = DigestClient(username, password, chosen)
        response = yield client.get(url, allow_redirects=False,
                                    headers={b"Authorization": [digest.authorization("GET", target).encode()]})
        yield response.content()
        return response.code

    d = attempt()
    d.addTimeout(timeout, clock)
    return d
