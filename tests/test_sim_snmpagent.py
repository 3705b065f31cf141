"""
The in-memory SNMP agent (L{proxier.sim.snmpagent}): request octets in,
answer octets out through our codec, for v1 and v2c, each PDU type, the
end of the MIB view, SETs of writable and read-only objects, communities,
tooBig and the running sysUpTime.
"""

from __future__ import annotations

from typing import Optional

from twisted.internet.task import Clock
from twisted.trial import unittest

from proxier.printer import mib, snmp
from proxier.printer.snmp import Message, PDU, Value, VarBind
from proxier.sim.snmpagent import SNMPAgent

DESCR = mib.OID["sysDescr"] + (0,)
UPTIME = mib.OID["sysUpTime"] + (0,)
CONTACT = mib.OID["sysContact"] + (0,)
MISSING = mib.OID["sysServices"] + (1,)
LAST = (1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 1, 1)
VALUES = {
    DESCR: Value(snmp.OCTET_STRING, b"ExampleCo MFP 4000"),
    UPTIME: Value(snmp.TIMETICKS, 500),
    CONTACT: Value(snmp.OCTET_STRING, b"helpdesk@example.net"),
    LAST: Value(snmp.INTEGER, 7),
}


def ask(agent: SNMPAgent, tag: int, oids: list, version: int = snmp.V2C, community: bytes = b"public",
        status: int = 0, index: int = 0, values: Optional[list] = None) -> Optional[PDU]:
    """The agent's answer PDU to one request (its request-id checked), or None."""
    bindings = tuple(VarBind(o, v) for o, v in zip(oids, values)) if values else tuple(VarBind(o) for o in oids)
    reply = agent.answer(snmp.encode(Message(version, community, PDU(tag, 42, status, index, bindings))))
    if reply is None:
        return None
    answer = snmp.decode(reply)
    assert (answer.version, answer.community, answer.pdu.tag, answer.pdu.requestId) == (
        version, community, snmp.RESPONSE, 42), answer
    return answer.pdu


class GetTests(unittest.TestCase):
    def setUp(self) -> None:
        self.agent = SNMPAgent(VALUES, writable=(CONTACT,))

    def test_getV2c(self) -> None:
        """v2c: a value per binding; an unknown one is noSuchInstance under error-status 0."""
        pdu = ask(self.agent, snmp.GET, [DESCR, MISSING])
        self.assertEqual((pdu.errorStatus, pdu.errorIndex), (0, 0))
        self.assertEqual(pdu.varBinds, (VarBind(DESCR, VALUES[DESCR]), VarBind(MISSING, Value(snmp.NO_SUCH_INSTANCE))))

    def test_getV1(self) -> None:
        """v1: an unknown binding is noSuchName (2) at its index, the request's bindings sent back."""
        pdu = ask(self.agent, snmp.GET, [DESCR, MISSING, (1, 3, 6, 1, 9)], version=snmp.V1)
        self.assertEqual((pdu.errorStatus, pdu.errorIndex), (2, 2))
        self.assertEqual(pdu.varBinds[1:], (VarBind(MISSING), VarBind((1, 3, 6, 1, 9))))

    def test_getNext(self) -> None:
        """GETNEXT: the following OID in order, for each binding."""
        pdu = ask(self.agent, snmp.GET_NEXT, [(1, 3, 6, 1), UPTIME])
        self.assertEqual(pdu.varBinds, (VarBind(DESCR, VALUES[DESCR]), VarBind(CONTACT, VALUES[CONTACT])))

    def test_getNextEnd(self) -> None:
        """Past the last OID: endOfMibView in v2c; noSuchName at its index in v1."""
        pdu = ask(self.agent, snmp.GET_NEXT, [LAST])
        self.assertEqual((pdu.errorStatus, pdu.varBinds), (0, (VarBind(LAST, Value(snmp.END_OF_MIB_VIEW)),)))
        pdu = ask(self.agent, snmp.GET_NEXT, [DESCR, LAST], version=snmp.V1)
        self.assertEqual((pdu.errorStatus, pdu.errorIndex), (2, 2))

    def test_getBulk(self) -> None:
        """GETBULK: the non-repeaters once, then rows of the rest, ending once every column is past the end."""
        pdu = ask(self.agent, snmp.GET_BULK, [(1, 3, 6, 1), UPTIME], status=1, index=5)
        self.assertEqual([b.oid for b in pdu.varBinds], [DESCR, CONTACT, LAST, LAST])
        self.assertEqual(pdu.varBinds[-1].value, Value(snmp.END_OF_MIB_VIEW))
        pdu = ask(self.agent, snmp.GET_BULK, [DESCR], status=0, index=2)
        self.assertEqual([b.oid for b in pdu.varBinds], [UPTIME, CONTACT])

    def test_valuesChange(self) -> None:
        """An OID added to or removed from the values is walked (or not) from then on."""
        ask(self.agent, snmp.GET_NEXT, [DESCR])
        del self.agent.values[UPTIME]
        self.agent.values[MISSING] = Value(snmp.INTEGER, 72)
        pdu = ask(self.agent, snmp.GET_BULK, [DESCR], index=2)
        self.assertEqual([b.oid for b in pdu.varBinds], [CONTACT, MISSING])

    def test_tooBig(self) -> None:
        """More bindings than maxBindings: tooBig (1), the request's bindings sent back."""
        self.agent.maxBindings = 2
        pdu = ask(self.agent, snmp.GET_BULK, [DESCR], index=3)
        self.assertEqual((pdu.errorStatus, pdu.varBinds), (1, (VarBind(DESCR),)))

    def test_silent(self) -> None:
        """No answer to an unknown community, a datagram that is not SNMP, or a PDU an agent does not take."""
        self.assertIsNone(ask(self.agent, snmp.GET, [DESCR], community=b"other"))
        self.assertIsNone(self.agent.answer(b"\x30\x03garbage"))
        self.assertIsNone(ask(self.agent, snmp.RESPONSE, [DESCR]))
        self.assertEqual([r.community for r in self.agent.requests], [b"other", b"public"])


class SetTests(unittest.TestCase):
    def setUp(self) -> None:
        self.agent = SNMPAgent(VALUES, writable=(CONTACT,))

    def set(self, oid: tuple, value: Value, **kwargs) -> Optional[PDU]:
        return ask(self.agent, snmp.SET, [oid], community=kwargs.pop("community", b"private"), values=[value],
                   **kwargs)

    def test_writable(self) -> None:
        """A SET of a writable OID takes the value and echoes it; the read community may not SET."""
        new = Value(snmp.OCTET_STRING, b"ops@example.org")
        self.assertIsNone(self.set(CONTACT, new, community=b"public"))
        self.assertEqual(self.agent.values[CONTACT], VALUES[CONTACT])
        for version in (snmp.V1, snmp.V2C):
            pdu = self.set(CONTACT, new, version=version)
            self.assertEqual((pdu.errorStatus, pdu.varBinds), (0, (VarBind(CONTACT, new),)))
        self.assertEqual(self.agent.values[CONTACT], new)

    def test_readOnlySnmpsim(self) -> None:
        """A read-only OID, as snmpsim: noSuchInstance under error-status 0, the value unchanged."""
        pdu = self.set(DESCR, Value(snmp.OCTET_STRING, b"other"))
        self.assertEqual((pdu.errorStatus, pdu.varBinds), (0, (VarBind(DESCR, Value(snmp.NO_SUCH_INSTANCE)),)))
        self.assertEqual(self.agent.values[DESCR], VALUES[DESCR])

    def test_readOnlyNotWritable(self) -> None:
        """readOnly "notWritable": error-status 17 at the binding's index."""
        self.agent.readOnly = "notWritable"
        pdu = self.set(DESCR, Value(snmp.OCTET_STRING, b"other"))
        self.assertEqual((pdu.errorStatus, pdu.errorIndex), (17, 1))
        self.assertEqual(self.agent.values[DESCR], VALUES[DESCR])


class UptimeTests(unittest.TestCase):
    def test_runsOn(self) -> None:
        """With a clock, sysUpTime runs on from its value, and from 0 after a restart; without, it stays."""
        clock = Clock()
        agent = SNMPAgent(VALUES, seconds=clock.seconds, record=False)
        clock.advance(2.5)
        self.assertEqual(ask(agent, snmp.GET, [UPTIME]).varBinds[0].value, Value(snmp.TIMETICKS, 750))
        agent.restart()
        clock.advance(1)
        self.assertEqual(ask(agent, snmp.GET, [UPTIME]).varBinds[0].value, Value(snmp.TIMETICKS, 100))
        self.assertIsNone(agent.requests)
        self.assertEqual(ask(SNMPAgent(VALUES), snmp.GET, [UPTIME]).varBinds[0].value, VALUES[UPTIME])
