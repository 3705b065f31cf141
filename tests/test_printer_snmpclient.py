# -*- test-case-name: tests.test_printer_snmpclient -*-
"""
Tests for L{proxier.printer.snmpclient}: the in-memory agent of
L{proxier.sim.snmpagent}, fed through a fake transport with C{datagramReceived}, on a
L{task.Clock} (PRINTERS.md §10 [A]); then interop with snmpsim on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from twisted.internet import reactor, task, threads
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger
from twisted.trial import unittest

from proxier.printer import snmp
from proxier.printer.snmp import Message, PDU, Value, VarBind, parseOID
from proxier.printer.snmpclient import (
    NoSuchName,
    NotWritable,
    SNMPClient,
    SNMPClientError,
    SNMPNotWritten,
    SNMPProtocol,
    SNMPProtocolError,
    SNMPStatusError,
    SNMPTimeout,
    SNMPWalkLimit,
    TooBig,
    listen,
    statusError,
)
from proxier.sim.snmpagent import SNMPAgent
from tests.peers import snmp as peer

AGENT = ("127.0.0.1", 161)
SYS_DESCR = parseOID("1.3.6.1.2.1.1.1.0")
SYS_CONTACT = parseOID("1.3.6.1.2.1.1.4.0")
SUPPLIES = parseOID("1.3.6.1.2.1.43.11.1.1")


def printerValues() -> dict[tuple[int, ...], Value]:
    values = {
        SYS_DESCR: Value(snmp.OCTET_STRING, b"ExampleCo MFP 4000"),
        parseOID("1.3.6.1.2.1.1.3.0"): Value(snmp.TIMETICKS, 8640000),
        SYS_CONTACT: Value(snmp.OCTET_STRING, b"helpdesk@example.net"),
        parseOID("1.3.6.1.2.1.43.10.2.1.4.1.1"): Value(snmp.COUNTER32, 123456),
    }
    for i in range(1, 6):  # prtMarkerSuppliesLevel and MaxCapacity of five supplies
        values[SUPPLIES + (9, 1, i)] = Value(snmp.INTEGER, 10 * i)
        values[SUPPLIES + (8, 1, i)] = Value(snmp.INTEGER, 100)
    return values


class FakeTransport:
    """
    What the protocol writes to: each datagram is recorded and, for an
    address with an agent, its answer comes back through
    C{datagramReceived} C{delay} seconds later (never while writing).
    """

    def __init__(self, clock: task.Clock, protocol: SNMPProtocol) -> None:
        self.clock = clock
        self.protocol = protocol
        self.sent: list[tuple[bytes, tuple[str, int]]] = []
        self.agents: dict[tuple[str, int], SNMPAgent] = {}
        self.delay = 0.0
        self.silent = False

    def write(self, datagram: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((datagram, addr))
        agent = self.agents.get(addr)
        if agent is None or self.silent:
            return
        reply = agent.answer(datagram)
        if reply is not None:
            self.clock.callLater(self.delay, self.protocol.datagramReceived, reply, addr)


class ClientTestsMixin:
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.protocol = SNMPProtocol(self.clock, firstRequestId=1000)
        self.events: list[dict] = []
        self.protocol.log = Logger(observer=self.events.append)
        self.transport = FakeTransport(self.clock, self.protocol)
        self.protocol.makeConnection(self.transport)  # type: ignore[arg-type]
        self.agent = SNMPAgent(printerValues(), writable=(SYS_CONTACT,))
        self.transport.agents[AGENT] = self.agent

    def client(self, **kwargs: Any) -> SNMPClient:
        kwargs.setdefault("writeCommunity", b"private")
        return SNMPClient(self.protocol, *AGENT, **kwargs)

    def result(self, d: Any) -> Any:
        self.clock.advance(0)
        return self.successResultOf(d)  # type: ignore[attr-defined]

    def failure(self, d: Any, *kinds: type) -> Any:
        self.clock.advance(0)
        return self.failureResultOf(d, *kinds).value  # type: ignore[attr-defined]


class RequestTests(ClientTestsMixin, unittest.TestCase):
    def test_get(self) -> None:
        """A GET is one datagram to the agent with a fresh request-id; the bindings come back in order."""
        answer = self.result(self.client().get([SYS_DESCR, SYS_CONTACT]))
        self.assertEqual([b.value.value for b in answer], [b"ExampleCo MFP 4000", b"helpdesk@example.net"])
        [(datagram, address)] = self.transport.sent
        self.assertEqual(address, AGENT)
        request = snmp.decode(datagram)
        self.assertEqual((request.version, request.community, request.pdu.tag, request.pdu.requestId),
                         (snmp.V2C, b"public", snmp.GET, 1000))
        self.result(self.client().get([SYS_DESCR]))
        self.assertEqual(snmp.decode(self.transport.sent[1][0]).pdu.requestId, 1001)

    def test_getMissing(self) -> None:
        """A missing object: noSuchInstance in its binding on v2c, L{NoSuchName} naming it on v1."""
        missing = parseOID("1.3.6.1.2.1.1.99.0")
        answer = self.result(self.client().get([SYS_DESCR, missing]))
        self.assertEqual(answer[1], VarBind(missing, Value(snmp.NO_SUCH_INSTANCE)))
        error = self.failure(self.client(version=snmp.V1).get([SYS_DESCR, missing]), NoSuchName)
        self.assertEqual((error.status, error.index, error.oid), (2, 2, missing))
        self.assertEqual(str(error), "127.0.0.1:161 GetRequest: noSuchName at 1.3.6.1.2.1.1.99.0")

    def test_getNext(self) -> None:
        answer = self.result(self.client().getNext([parseOID("1.3.6.1.2.1.1")]))
        self.assertEqual(answer, [VarBind(SYS_DESCR, Value(snmp.OCTET_STRING, b"ExampleCo MFP 4000"))])

    def test_timeoutAndRetries(self) -> None:
        """
        No answer: the same datagram (same request-id) is sent again after
        each timeout, C{retries} times, then L{SNMPTimeout}.
        """
        self.transport.silent = True
        d = self.client(timeout=2.0, retries=2).get([SYS_DESCR])
        self.clock.advance(1.9)
        self.assertEqual(len(self.transport.sent), 1)
        self.clock.advance(0.1)
        self.assertEqual(len(self.transport.sent), 2)
        self.clock.advance(2.0)
        self.assertEqual(len(self.transport.sent), 3)
        self.assertNoResult(d)
        self.clock.advance(2.0)
        error = self.failureResultOf(d, SNMPTimeout).value
        self.assertEqual(str(error), "no answer from 127.0.0.1:161 to 3 tries of 2 s")
        self.assertEqual(len({datagram for datagram, _ in self.transport.sent}), 1)
        self.assertEqual(self.protocol._pending, {})
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_lateAnswerToFirstTry(self) -> None:
        """An answer to the first try arriving during the second still matches (the request-id is kept)."""
        self.transport.delay = 3.0
        d = self.client(timeout=2.0, retries=1).get([SYS_DESCR])
        self.clock.advance(3.0)
        self.assertEqual(self.successResultOf(d)[0].oid, SYS_DESCR)
        self.assertEqual(len(self.transport.sent), 2)
        self.clock.advance(10)  # the second try's answer is dropped: nothing waits for it
        self.assertIn("is not one in flight", self.events[-1]["why"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_strangersDropped(self) -> None:
        """
        Answers from another address or port, with another request-id,
        community or version, or that are not a Response, or not SNMP,
        are dropped (logged at debug) and the request still waits for its own.
        """
        self.transport.silent = True
        d = self.client().get([SYS_DESCR])
        real = self.agent.answer(self.transport.sent[0][0])
        assert real is not None
        message = snmp.decode(real)

        def variant(**changes: Any) -> bytes:
            pdu = dict(changes.pop("pdu", {}))
            return snmp.encode(Message(changes.get("version", message.version),
                                       changes.get("community", message.community),
                                       PDU(pdu.get("tag", snmp.RESPONSE), pdu.get("requestId", 1000), 0, 0,
                                           message.pdu.varBinds)))

        self.protocol.datagramReceived(real, ("127.0.0.2", 161))
        self.protocol.datagramReceived(real, ("127.0.0.1", 1161))
        self.protocol.datagramReceived(variant(pdu={"requestId": 999}), AGENT)
        self.protocol.datagramReceived(variant(community=b"other"), AGENT)
        self.protocol.datagramReceived(variant(version=snmp.V1), AGENT)
        self.protocol.datagramReceived(variant(pdu={"tag": snmp.TRAP_V2}), AGENT)
        self.protocol.datagramReceived(b"\x30\x03\x02\x01", AGENT)
        self.assertNoResult(d)
        reasons = [e.get("why") or e.get("reason") for e in self.events]
        self.assertEqual(reasons, [
            "request 1000 went to 127.0.0.1:161", "request 1000 went to 127.0.0.1:161",
            "request-id 999 is not one in flight", "not the version and community of request 1000",
            "not the version and community of request 1000", "a SNMPv2-Trap, not a Response",
            "octet 0: the message of 3 octets, 2 left",
        ])
        self.assertTrue(all(e["log_level"].name == "debug" for e in self.events))
        self.protocol.datagramReceived(real, AGENT)
        self.assertEqual(self.successResultOf(d)[0].oid, SYS_DESCR)

    def test_unicastOnly(self) -> None:
        """Broadcast, multicast, the unspecified address and names are refused before anything is sent."""
        for host in ("255.255.255.255", "224.0.0.1", "ff02::1", "0.0.0.0", "printer.example"):
            client = SNMPClient(self.protocol, host)
            self.failureResultOf(client.get([SYS_DESCR]), SNMPClientError)
        self.assertEqual(self.transport.sent, [])

    def test_cancelAndClose(self) -> None:
        """A cancelled request is forgotten with its timer; closing the socket fails what is in flight."""
        self.transport.silent = True
        d = self.client().get([SYS_DESCR])
        d.cancel()
        self.failureResultOf(d)
        self.assertEqual((self.protocol._pending, self.clock.getDelayedCalls()), ({}, []))
        d = self.client().get([SYS_DESCR])
        self.protocol.doStop()
        self.assertIn("closed", str(self.failureResultOf(d, SNMPClientError).value))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_badAnswers(self) -> None:
        """An answer naming other OIDs, or with more GetBulk bindings than asked, breaks the protocol."""
        self.transport.silent = True
        d = self.client().get([SYS_DESCR])
        self.protocol.datagramReceived(snmp.encode(Message(snmp.V2C, b"public", PDU(snmp.RESPONSE, 1000, 0, 0, (
            VarBind(SYS_CONTACT, Value(snmp.NULL)),)))), AGENT)
        self.assertIn("other OIDs", str(self.failureResultOf(d, SNMPProtocolError).value))
        d = self.client().getBulk([SYS_DESCR], 0, 1)
        self.protocol.datagramReceived(snmp.encode(Message(snmp.V2C, b"public", PDU(snmp.RESPONSE, 1001, 0, 0, (
            VarBind(SYS_CONTACT), VarBind(SYS_CONTACT + (1,)))))), AGENT)
        self.assertIn("more than the 1 asked for", str(self.failureResultOf(d, SNMPProtocolError).value))
        self.failureResultOf(self.client(version=snmp.V1).getBulk([SYS_DESCR]), SNMPClientError)

    def test_statusErrors(self) -> None:
        """Each error-status has its class; an unknown one is the base class."""
        for status in range(1, 19):
            error = statusError("GetRequest", status, 0, [])
            self.assertEqual((type(error).status, error.statusName), (status, snmp.ERROR_STATUS[status]))
            self.assertIsInstance(error, SNMPStatusError)
        self.assertIs(type(statusError("x", 99, 0, [])), SNMPStatusError)
        self.assertIs(type(statusError("x", 17, 1, [VarBind(SYS_DESCR)])), NotWritable)


class SetTests(ClientTestsMixin, unittest.TestCase):
    def test_set(self) -> None:
        """A SET goes with the write community and is read back."""
        new = Value(snmp.OCTET_STRING, b"ops@example.net")
        self.assertEqual(self.result(self.client().set([VarBind(SYS_CONTACT, new)])), [VarBind(SYS_CONTACT, new)])
        self.assertEqual(self.agent.requests[-1].community, b"private")
        self.assertEqual(self.result(self.client().get([SYS_CONTACT]))[0].value, new)
        self.assertEqual(self.agent.requests[-1].community, b"public")

    def test_readOnlySnmpsim(self) -> None:
        """
        snmpsim's way: error-status 0 with noSuchInstance in the binding —
        L{SNMPNotWritten} names what was not written.
        """
        error = self.failure(self.client().set([VarBind(SYS_DESCR, Value(snmp.OCTET_STRING, b"x"))]), SNMPNotWritten)
        self.assertEqual(error.refused, [VarBind(SYS_DESCR, Value(snmp.NO_SUCH_INSTANCE))])
        self.assertEqual(str(error), "SetRequest: not written: 1.3.6.1.2.1.1.1.0 (noSuchInstance)")

    def test_readOnlyNotWritable(self) -> None:
        """An agent's notWritable is L{NotWritable} naming the binding."""
        self.agent.readOnly = "notWritable"
        error = self.failure(self.client().set([VarBind(SYS_CONTACT, Value(snmp.OCTET_STRING, b"a")),
                                                VarBind(SYS_DESCR, Value(snmp.OCTET_STRING, b"x"))]), NotWritable)
        self.assertEqual((error.index, error.oid), (2, SYS_DESCR))

    def test_wrongWriteCommunity(self) -> None:
        """An agent does not answer a SET with the read community: a timeout."""
        d = self.client(writeCommunity=b"public", retries=0).set([VarBind(SYS_CONTACT, Value(snmp.OCTET_STRING, b""))])
        self.clock.advance(2)
        self.failureResultOf(d, SNMPTimeout)


class WalkTests(ClientTestsMixin, unittest.TestCase):
    def suppliesRows(self) -> list[tuple[int, ...]]:
        return sorted(o for o in printerValues() if snmp.inSubtree(o, SUPPLIES))

    def test_walkBulk(self) -> None:
        """v2c: GETBULK with max-repetitions, until the first OID outside the subtree."""
        rows = self.result(self.client(maxRepetitions=4).walk(SUPPLIES))
        self.assertEqual([b.oid for b in rows], self.suppliesRows())
        requests = [snmp.decode(d).pdu for d, _ in self.transport.sent]
        self.assertEqual([(p.tag, p.errorStatus, p.errorIndex) for p in requests], [(snmp.GET_BULK, 0, 4)] * 3)

    def test_walkV1(self) -> None:
        """v1: GETNEXT one row at a time; noSuchName at the end of the MIB ends the walk."""
        rows = self.result(self.client(version=snmp.V1).walk(parseOID("1.3.6.1.2.1.43")))
        self.assertEqual(len(rows), 11)
        self.assertEqual(len(self.transport.sent), 12)
        self.assertEqual({snmp.decode(d).pdu.tag for d, _ in self.transport.sent}, {snmp.GET_NEXT})

    def test_walkEndOfMibView(self) -> None:
        """v2c: endOfMibView ends the walk."""
        rows = self.result(self.client().walk(parseOID("1.3.6.1.2.1.43.11")))
        self.assertEqual(len(rows), 10)

    def test_walkRowBound(self) -> None:
        """More rows than the bound: L{SNMPWalkLimit} with the rows taken, after asking for only one more."""
        error = self.failure(self.client(maxRepetitions=50).walk(SUPPLIES, maxRows=4), SNMPWalkLimit)
        self.assertEqual([b.oid for b in error.rows], self.suppliesRows()[:4])
        self.assertEqual(snmp.decode(self.transport.sent[0][0]).pdu.errorIndex, 5)

    def test_walkTimeBound(self) -> None:
        """A walk that takes longer than C{walkTimeout} stops with what it had."""
        self.transport.delay = 1.0
        d = self.client(maxRepetitions=1, walkTimeout=2.5).walk(SUPPLIES)
        self.clock.pump([1.0] * 5)
        error = self.failureResultOf(d, SNMPWalkLimit).value
        self.assertEqual(len(error.rows), 3)
        self.assertIn("past 2.5 s after 3 rows", str(error))

    def test_walkTooBig(self) -> None:
        """tooBig halves max-repetitions until the answer fits."""
        self.agent.maxBindings = 3
        rows = self.result(self.client(maxRepetitions=16).walk(SUPPLIES))
        self.assertEqual(len(rows), 10)
        asked = [snmp.decode(d).pdu.errorIndex for d, _ in self.transport.sent]
        self.assertEqual(asked[:4], [16, 8, 4, 2])
        self.agent.maxBindings = 0
        self.failure(self.client(maxRepetitions=2).walk(SUPPLIES), TooBig)

    def test_walkLoop(self) -> None:
        """An agent answering an OID not after the one asked (it would loop forever) breaks the protocol."""
        self.transport.silent = True
        d = self.client().walk(SUPPLIES)
        self.protocol.datagramReceived(snmp.encode(Message(snmp.V2C, b"public", PDU(snmp.RESPONSE, 1000, 0, 0, (
            VarBind(SUPPLIES + (9, 1, 1), Value(snmp.INTEGER, 1)), VarBind(SUPPLIES + (8, 1, 1), Value(snmp.INTEGER, 1)),
        )))), AGENT)
        self.assertIn("does not follow", str(self.failureResultOf(d, SNMPProtocolError).value))


class SnmpsimTests(unittest.TestCase):
    """
    Interop with snmpsim on 127.0.0.1 (PRINTERS.md §10), a fresh one per
    test: the MFP 4000 fixture and the partial walk of a real Brother.
    """

    def setUp(self) -> None:
        reason = peer.missing()
        if reason:
            raise unittest.SkipTest(reason)
        directory = self.mktemp()
        os.makedirs(directory)
        self.port = peer.startSnmpsim(self, directory)
        self.protocol = SNMPProtocol()
        listening = listen(reactor, self.protocol, "127.0.0.1")
        self.addCleanup(listening.stopListening)

    def client(self, community: str = "printer-mfp4000", **kwargs: Any) -> SNMPClient:
        kwargs.setdefault("timeout", 3.0)
        return SNMPClient(self.protocol, "127.0.0.1", self.port, community=community.encode(), **kwargs)

    def fixtureOIDs(self, community: str, subtree: tuple[int, ...]) -> list[tuple[int, ...]]:
        return [oid for oid, _, _ in peer.records(community) if snmp.inSubtree(oid, subtree)]

    def fixtureRows(self, community: str, subtree: tuple[int, ...]) -> list[VarBind]:
        """The recording's INTEGER and OCTET STRING rows (the types of the supplies table) as bindings."""
        rows = []
        for oid, kind, text in peer.records(community):
            if snmp.inSubtree(oid, subtree):
                self.assertIn(kind, ("2", "4"))
                rows.append(VarBind(oid, Value(snmp.INTEGER, int(text)) if kind == "2"
                                    else Value(snmp.OCTET_STRING, text.encode())))
        return rows

    @inlineCallbacks
    def test_getSysDescr(self) -> Any:
        """GET sysDescr.0 from both recordings, on v2c and v1."""
        [mfp] = yield self.client().get([SYS_DESCR])
        self.assertEqual(mfp.value, Value(snmp.OCTET_STRING, b"ExampleCo MFP 4000 Color; FW 2.11.3; Printer-MIB v2"))
        [brother] = yield self.client("brother-mfc-l2710dw", version=snmp.V1).get([SYS_DESCR])
        self.assertEqual(brother.value.tag, snmp.OCTET_STRING)
        self.assertIn(b"Brother", brother.value.value)

    @inlineCallbacks
    def test_walkSupplies(self) -> Any:
        """
        prtMarkerSuppliesTable: GETBULK (v2c) and GETNEXT (v1) walks give
        the recording's rows in order, as net-snmp's snmpbulkwalk does.
        """
        for community in peer.COMMUNITIES:
            bulk = yield self.client(community, maxRepetitions=10).walk(SUPPLIES)
            self.assertEqual(bulk, self.fixtureRows(community, SUPPLIES))
            nexts = yield self.client(community, version=snmp.V1).walk(SUPPLIES)
            self.assertEqual(nexts, bulk)
        self.assertEqual(len(self.fixtureOIDs("printer-mfp4000", SUPPLIES)), 56)
        walker = shutil.which("snmpbulkwalk")
        if walker is not None:
            out = yield threads.deferToThread(subprocess.run, [
                walker, "-v2c", "-On", "-Oq", "-c", "printer-mfp4000", f"127.0.0.1:{self.port}",
                snmp.formatOID(SUPPLIES)], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
            self.assertEqual([snmp.parseOID(line.split()[0]) for line in out.stdout.splitlines()],
                             self.fixtureOIDs("printer-mfp4000", SUPPLIES))

    @inlineCallbacks
    def test_setSysContact(self) -> Any:
        """SET sysContact.0 (a writecache record) with the write community, then read it back."""
        client = self.client(writeCommunity=b"printer-mfp4000")
        new = Value(snmp.OCTET_STRING, b"ops@example.net")
        written = yield client.set([VarBind(SYS_CONTACT, new)])
        self.assertEqual(written, [VarBind(SYS_CONTACT, new)])
        [back] = yield client.get([SYS_CONTACT])
        self.assertEqual(back.value, new)

    @inlineCallbacks
    def test_setReadOnly(self) -> Any:
        """
        SET of read-only sysDescr.0: snmpsim answers noSuchInstance under
        error-status 0 — L{SNMPNotWritten} — and the value is unchanged.
        """
        client = self.client()
        try:
            yield client.set([VarBind(SYS_DESCR, Value(snmp.OCTET_STRING, b"x"))])
        except SNMPNotWritten as e:
            self.assertEqual(e.refused, [VarBind(SYS_DESCR, Value(snmp.NO_SUCH_INSTANCE))])
        else:
            self.fail("the SET of a read-only OID was not refused")
        [back] = yield client.get([SYS_DESCR])
        self.assertEqual(back.value.value, b"ExampleCo MFP 4000 Color; FW 2.11.3; Printer-MIB v2")

    @inlineCallbacks
    def test_wrongCommunityTimesOut(self) -> Any:
        """snmpsim does not answer an unknown community: a timeout after every try."""
        started = reactor.seconds()
        try:
            yield self.client("nobody-here", timeout=0.3, retries=1).get([SYS_DESCR])
        except SNMPTimeout:
            self.assertGreaterEqual(reactor.seconds() - started, 0.6)
        else:
            self.fail("an unknown community was answered")
