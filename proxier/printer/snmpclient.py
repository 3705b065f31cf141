# -*- test-case-name: tests.test_printer_snmpclient -*-
"""
SNMPv1/v2c manager requests over UDP (RFC 3416, RFC 3417), on a plain
L{DatagramProtocol} and the injected clock; messages through L{snmp}.

B{One socket for every target}: L{SNMPProtocol} owns one unconnected UDP
socket and matches each answer to its request by request-id, then checks
that it came from the address and port the request went to, in a
Response PDU, with the request's version and community; anything else is
dropped and logged at debug. Why not a connected socket per target: a
fleet of hundreds of printers (issue 14's bench has 200) would hold as many
descriptors, a GetBulk answer would need a socket per walk, and the checks
that a connected socket leaves to the kernel are explicit here, where the
tests can see them. The cost: an ICMP port-unreachable is not reported on
an unconnected socket, so a closed port is a timeout. Request-ids are
unique across targets (one counter from a random start), so a late answer
to an earlier run or target never matches a new request.

L{SNMPClient} is one target: C{get}, C{getNext}, C{getBulk}, C{walk} (GETBULK
on v2c, GETNEXT on v1; a bound on the rows and on the time) and C{set}
(with the write community). Each request is sent again, with the same
request-id, after each C{timeout} without an answer, C{retries} times, so
a late answer to an earlier try still counts. A datagram is only ever sent
to one unicast address: broadcast and multicast are refused here, and the
socket never has SO_BROADCAST.

Failures are L{SNMPClientError}s whose text is a log line: L{SNMPTimeout},
L{SNMPProtocolError} (an answer that breaks the protocol), one
L{SNMPStatusError} subclass per error-status (L{NoSuchName}, L{NotWritable},
...), L{SNMPNotWritten} (a SET answered with error-status 0 but an
exception in a binding — snmpsim's answer to a read-only OID: the read-back
that decides what happened belongs to the device layer) and
L{SNMPWalkLimit}. In v2c, a GET of a missing object is not an error: its
binding holds noSuchObject or noSuchInstance, for the caller.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, replace
from typing import Any, Optional, Sequence

from twisted.internet.defer import Deferred, fail, inlineCallbacks
from twisted.internet.interfaces import IDelayedCall, IListeningPort
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from proxier.printer import snmp
from proxier.printer.snmp import Message, PDU, VarBind

__all__ = [
    "SNMPProtocol", "SNMPClient", "listen", "SNMP_PORT",
    "SNMPClientError", "SNMPTimeout", "SNMPProtocolError", "SNMPStatusError", "SNMPNotWritten", "SNMPWalkLimit",
    "TooBig", "NoSuchName", "BadValue", "ReadOnly", "GenErr", "NoAccess", "WrongType", "WrongLength",
    "WrongEncoding", "WrongValue", "NoCreation", "InconsistentValue", "ResourceUnavailable", "CommitFailed",
    "UndoFailed", "AuthorizationError", "NotWritable", "InconsistentName",
]

SNMP_PORT = 161
# Twisted reads at most 8192 octets of a datagram by default; a GetBulk answer may be larger.
MAX_DATAGRAM = 65535


class SNMPClientError(Exception):
    """A request failed; C{str()} is a log line."""


class SNMPTimeout(SNMPClientError):
    """No matching answer after every try."""


class SNMPProtocolError(SNMPClientError):
    """An answer that breaks the protocol (bindings that do not match the request, a walk that goes back)."""


class SNMPStatusError(SNMPClientError):
    """
    The agent answered with a non-zero error-status.

    @ivar status: the error-status; L{statusName} its RFC 3416 name.
    @ivar index: the error-index (1-based; 0: no binding named).
    @ivar oid: the OID of the binding the index names, if any.
    """

    status = 0

    def __init__(self, operation: str, status: int, index: int, varBinds: Sequence[VarBind]) -> None:
        self.status = status
        self.statusName = snmp.errorStatusName(status)
        self.index = index
        self.oid = varBinds[index - 1].oid if 0 < index <= len(varBinds) else None
        where = f" at {snmp.formatOID(self.oid)}" if self.oid is not None else ""
        super().__init__(f"{operation}: {self.statusName}{where}")


class TooBig(SNMPStatusError): status = 1
class NoSuchName(SNMPStatusError): status = 2
class BadValue(SNMPStatusError): status = 3
class ReadOnly(SNMPStatusError): status = 4
class GenErr(SNMPStatusError): status = 5
class NoAccess(SNMPStatusError): status = 6
class WrongType(SNMPStatusError): status = 7
class WrongLength(SNMPStatusError): status = 8
class WrongEncoding(SNMPStatusError): status = 9
class WrongValue(SNMPStatusError): status = 10
class NoCreation(SNMPStatusError): status = 11
class InconsistentValue(SNMPStatusError): status = 12
class ResourceUnavailable(SNMPStatusError): status = 13
class CommitFailed(SNMPStatusError): status = 14
class UndoFailed(SNMPStatusError): status = 15
class AuthorizationError(SNMPStatusError): status = 16
class NotWritable(SNMPStatusError): status = 17
class InconsistentName(SNMPStatusError): status = 18


_STATUS_ERRORS = {cls.status: cls for cls in SNMPStatusError.__subclasses__()}


def statusError(operation: str, status: int, index: int, varBinds: Sequence[VarBind]) -> SNMPStatusError:
    """The L{SNMPStatusError} subclass of C{status}."""
    return _STATUS_ERRORS.get(status, SNMPStatusError)(operation, status, index, varBinds)


class SNMPNotWritten(SNMPClientError):
    """
    A SET answered with error-status 0 whose bindings hold exceptions
    (noSuchObject, noSuchInstance): those were not written.

    @ivar refused: the answer's bindings that hold an exception.
    @ivar varBinds: the whole answer.
    """

    def __init__(self, varBinds: Sequence[VarBind]) -> None:
        self.varBinds = list(varBinds)
        self.refused = [b for b in varBinds if b.value.isException]
        names = ", ".join(f"{snmp.formatOID(b.oid)} ({b.value.typeName})" for b in self.refused[:8])
        super().__init__(f"SetRequest: not written: {names}")


class SNMPWalkLimit(SNMPClientError):
    """A walk stopped at its row or time bound; C{rows} holds what it had."""

    def __init__(self, message: str, rows: Sequence[VarBind]) -> None:
        super().__init__(message)
        self.rows = list(rows)


@dataclass
class _Pending:
    address: tuple[str, int]
    version: int
    community: bytes
    datagram: bytes
    tries: int
    timeout: float
    deferred: "Deferred[Message]"
    sent: int = 0
    call: Optional[IDelayedCall] = None


def _unicast(host: str) -> str:
    """The host as the socket reports it (compressed), when it is one unicast IP address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise SNMPClientError(f"{host[:80]!r} is not an IP address (names are resolved before SNMP)") from None
    if address.is_multicast or address.is_unspecified or address == ipaddress.IPv4Address("255.255.255.255"):
        raise SNMPClientError(f"{host}: SNMP requests go to one unicast address only")
    return address.compressed


class SNMPProtocol(DatagramProtocol):
    """
    The one UDP socket of the SNMP requests, and the requests in flight
    by request-id (see the module docstring).

    @param clock: times the tries (default: the reactor).
    @param firstRequestId: the first request-id (default: random).
    """

    log = Logger()

    def __init__(self, clock: Any = None, limits: snmp.Limits = snmp.DEFAULT_LIMITS,
                 firstRequestId: Optional[int] = None) -> None:
        if clock is None:
            from twisted.internet import reactor as clock
        self.clock = clock
        self.limits = limits
        self._nextId = firstRequestId if firstRequestId is not None else random.SystemRandom().randrange(1, 1 << 30)
        self._pending: dict[int, _Pending] = {}

    def _newRequestId(self) -> int:
        while True:
            requestId = self._nextId
            self._nextId = self._nextId % 0x7FFFFFFF + 1  # 1..2**31-1
            if requestId not in self._pending:
                return requestId

    def request(self, host: str, port: int, message: Message, timeout: float, retries: int) -> "Deferred[Message]":
        """
        Send C{message} (its request-id replaced by a fresh one) to
        C{host}:C{port}; the matching Response, or L{SNMPTimeout} after
        C{retries} more tries of C{timeout} seconds each. Cancelling the
        Deferred forgets the request.
        """
        if self.transport is None:
            return fail(SNMPClientError("the SNMP socket is not open"))
        try:
            address = (_unicast(host), port)
            requestId = self._newRequestId()
            message = replace(message, pdu=replace(message.pdu, requestId=requestId))
            datagram = snmp.encode(message)
        except (SNMPClientError, snmp.SNMPError) as e:
            return fail(e if isinstance(e, SNMPClientError) else SNMPClientError(f"{message.pdu.name}: {e}"))
        if len(datagram) > self.limits.maxMessage:
            return fail(SNMPClientError(f"{message.pdu.name}: {len(datagram)} octets, more than "
                                        f"{self.limits.maxMessage}"))
        d: "Deferred[Message]" = Deferred(lambda _: self._forget(requestId))
        self._pending[requestId] = _Pending(address, message.version, message.community, datagram, retries + 1,
                                            timeout, d)
        self._send(requestId)
        return d

    def _send(self, requestId: int) -> None:
        pending = self._pending[requestId]
        pending.sent += 1
        pending.call = self.clock.callLater(pending.timeout, self._expire, requestId)
        try:
            self.transport.write(pending.datagram, pending.address)
        except OSError as e:  # no route, EACCES: the same as no answer, the next try may fare better
            self.log.debug("SNMP request {id} to {address}: {error}", id=requestId, address=pending.address, error=e)

    def _expire(self, requestId: int) -> None:
        pending = self._pending[requestId]
        pending.call = None
        if pending.sent < pending.tries:
            self._send(requestId)
            return
        del self._pending[requestId]
        host, port = pending.address
        pending.deferred.errback(SNMPTimeout(f"no answer from {host}:{port} to {pending.sent} tries of "
                                             f"{pending.timeout:g} s"))

    def _forget(self, requestId: int) -> None:
        pending = self._pending.pop(requestId, None)
        if pending is not None and pending.call is not None and pending.call.active():
            pending.call.cancel()

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        try:
            message = snmp.decode(datagram, self.limits)
        except snmp.SNMPError as e:
            self.log.debug("SNMP: dropped a malformed datagram from {address}: {reason}", address=addr, reason=str(e))
            return
        requestId = message.pdu.requestId
        pending = self._pending.get(requestId)
        why = None
        if message.pdu.tag != snmp.RESPONSE:
            why = f"a {message.pdu.name}, not a Response"
        elif pending is None:
            why = f"request-id {requestId} is not one in flight"
        elif (_normal(addr[0]), addr[1]) != pending.address:
            why = f"request {requestId} went to {pending.address[0]}:{pending.address[1]}"
        elif message.version != pending.version or message.community != pending.community:
            why = f"not the version and community of request {requestId}"
        if why is not None or pending is None:
            self.log.debug("SNMP: dropped an answer from {address}: {why}", address=addr, why=why)
            return
        del self._pending[requestId]
        if pending.call is not None and pending.call.active():
            pending.call.cancel()
        pending.deferred.callback(message)

    def stopProtocol(self) -> None:
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if p.call is not None and p.call.active():
                p.call.cancel()
            p.deferred.errback(SNMPClientError("the SNMP socket was closed"))


def _normal(host: str) -> str:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).compressed
    except ValueError:
        return host


def listen(reactor: Any, protocol: SNMPProtocol, interface: str = "") -> IListeningPort:
    """
    Open the protocol's socket on an ephemeral port (C{interface} C{"::"}
    for IPv6 targets), reading datagrams of any size.
    """
    return reactor.listenUDP(0, protocol, interface=interface, maxPacketSize=MAX_DATAGRAM)


class SNMPClient:
    """
    The SNMP requests to one agent.

    @param protocol: the shared socket.
    @param host: the agent's IP address (a name is resolved by the caller).
    @param community: the read community.
    @param writeCommunity: the community of SET (default: C{community}).
    @param version: L{snmp.V1} or L{snmp.V2C}.
    @param timeout: seconds per try.
    @param retries: tries after the first.
    @param maxRepetitions: rows asked for per GETBULK of a walk.
    @param maxRows: the rows a walk may take.
    @param walkTimeout: the seconds a walk may take; checked before each
        request, so a walk ends at most one request's tries after it.
    """

    def __init__(self, protocol: SNMPProtocol, host: str, port: int = SNMP_PORT, *, community: bytes = b"public",
                 writeCommunity: Optional[bytes] = None, version: int = snmp.V2C, timeout: float = 2.0,
                 retries: int = 2, maxRepetitions: int = 16, maxRows: int = 10000, walkTimeout: float = 60.0) -> None:
        if version not in (snmp.V1, snmp.V2C):
            raise ValueError(f"SNMP version {version} is not v1 (0) or v2c (1)")
        self.protocol = protocol
        self.host = host
        self.port = port
        self.community = community
        self.writeCommunity = writeCommunity if writeCommunity is not None else community
        self.version = version
        self.timeout = timeout
        self.retries = retries
        self.maxRepetitions = maxRepetitions
        self.maxRows = maxRows
        self.walkTimeout = walkTimeout

    def __repr__(self) -> str:
        return f"<SNMPClient v{'1' if self.version == snmp.V1 else '2c'} {self.host}:{self.port}>"

    # ------------------------------------------------------------ requests

    def get(self, oids: Sequence[tuple[int, ...]]) -> "Deferred[list[VarBind]]":
        """GetRequest: the answer's bindings, one per OID, in order (v2c: exceptions for missing ones)."""
        return self._call(snmp.GET, [VarBind(tuple(o)) for o in oids])

    def getNext(self, oids: Sequence[tuple[int, ...]]) -> "Deferred[list[VarBind]]":
        """GetNextRequest: the binding after each OID."""
        return self._call(snmp.GET_NEXT, [VarBind(tuple(o)) for o in oids])

    def getBulk(self, oids: Sequence[tuple[int, ...]], nonRepeaters: int = 0,
                maxRepetitions: int = 16) -> "Deferred[list[VarBind]]":
        """GetBulkRequest (v2c only): the answer's bindings, as many as the agent gave."""
        if self.version == snmp.V1:
            return fail(SNMPClientError("GetBulkRequest is not in SNMPv1"))
        return self._call(snmp.GET_BULK, [VarBind(tuple(o)) for o in oids], nonRepeaters, maxRepetitions)

    def set(self, varBinds: Sequence[VarBind]) -> "Deferred[list[VarBind]]":
        """
        SetRequest with the write community: the answer's bindings;
        L{SNMPNotWritten} when error-status 0 comes with exceptions in them.
        """
        def written(answer: list[VarBind]) -> list[VarBind]:
            if any(b.value.isException for b in answer):
                raise SNMPNotWritten(answer)
            return answer

        return self._call(snmp.SET, list(varBinds), community=self.writeCommunity).addCallback(written)

    def _call(self, tag: int, varBinds: list[VarBind], errorStatus: int = 0, errorIndex: int = 0,
              community: Optional[bytes] = None) -> "Deferred[list[VarBind]]":
        message = Message(self.version, community if community is not None else self.community,
                          PDU(tag, 0, errorStatus, errorIndex, tuple(varBinds)))
        d = self.protocol.request(self.host, self.port, message, self.timeout, self.retries)
        return d.addCallback(self._answer, message.pdu)

    def _answer(self, answer: Message, request: PDU) -> list[VarBind]:
        pdu = answer.pdu
        if pdu.errorStatus:
            raise statusError(f"{self.host}:{self.port} {request.name}", pdu.errorStatus, pdu.errorIndex,
                              request.varBinds)
        bindings = list(pdu.varBinds)
        if request.tag == snmp.GET_BULK:
            repeaters = len(request.varBinds) - min(request.errorStatus, len(request.varBinds))
            most = len(request.varBinds) - repeaters + repeaters * request.errorIndex
            if len(bindings) > most:
                raise SNMPProtocolError(f"{self.host}:{self.port} GetBulkRequest: {len(bindings)} bindings, more "
                                        f"than the {most} asked for")
        elif len(bindings) != len(request.varBinds):
            raise SNMPProtocolError(f"{self.host}:{self.port} {request.name}: {len(bindings)} bindings for "
                                    f"{len(request.varBinds)} asked")
        elif request.tag != snmp.GET_NEXT and [b.oid for b in bindings] != [b.oid for b in request.varBinds]:
            raise SNMPProtocolError(f"{self.host}:{self.port} {request.name}: the answer names other OIDs")
        return bindings

    # ------------------------------------------------------------ walk

    @inlineCallbacks
    def walk(self, subtree: tuple[int, ...], maxRows: Optional[int] = None) -> Any:
        """
        Every binding under C{subtree}, in order: GETBULK on v2c (halving
        max-repetitions on tooBig), GETNEXT on v1 (whose noSuchName is the
        end of the MIB).

        @raise SNMPWalkLimit: (in the Deferred) more than C{maxRows} rows
            (default L{maxRows}), or past L{walkTimeout}.
        @raise SNMPProtocolError: an agent that answers an OID not after
            the one asked for (it would loop), or an exception other than
            endOfMibView.
        """
        subtree = tuple(subtree)
        limit = self.maxRows if maxRows is None else maxRows
        clock = self.protocol.clock
        deadline = clock.seconds() + self.walkTimeout
        rows: list[VarBind] = []
        current = subtree
        repetitions = max(1, self.maxRepetitions)
        where = f"{self.host}:{self.port} walk of {snmp.formatOID(subtree)}"
        while True:
            if clock.seconds() >= deadline:
                raise SNMPWalkLimit(f"{where}: past {self.walkTimeout:g} s after {len(rows)} rows", rows)
            try:
                if self.version == snmp.V1:
                    answer = yield self.getNext([current])
                else:
                    answer = yield self.getBulk([current], 0, min(repetitions, limit - len(rows) + 1))
            except NoSuchName:
                if self.version == snmp.V1:
                    return rows
                raise
            except TooBig:
                if repetitions == 1:
                    raise
                repetitions //= 2
                continue
            if not answer:
                raise SNMPProtocolError(f"{where}: an answer without bindings")
            for binding in answer:
                if binding.value.tag == snmp.END_OF_MIB_VIEW or not snmp.inSubtree(binding.oid, subtree):
                    return rows
                if binding.oid <= current:
                    raise SNMPProtocolError(f"{where}: {snmp.formatOID(binding.oid)} does not follow "
                                            f"{snmp.formatOID(current)}")
                if binding.value.isException:
                    raise SNMPProtocolError(f"{where}: {binding.value.typeName} at {snmp.formatOID(binding.oid)}")
                if len(rows) >= limit:
                    raise SNMPWalkLimit(f"{where}: more than {limit} rows", rows)
                rows.append(binding)
                current = binding.oid

