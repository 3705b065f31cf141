# -*- test-case-name: tests.test_sim_snmpagent -*-
"""
An SNMP agent in memory, for the tests of the SNMP printer code and the
SNMP printer benchmark's fleet: GET, GETNEXT, GETBULK (RFC 3416 §4.2.3)
and SET over a table of values, with v1's errors (noSuchName) and v2c's
exceptions (noSuchInstance, endOfMibView) where each version has them.

L{SNMPAgent} is sans-IO (request datagram in, answer datagram out, on the
codec of L{proxier.printer.snmp}); whoever holds it carries the datagrams.
"""

from __future__ import annotations

import bisect
from typing import Callable, Iterable, Optional

from proxier.printer import mib, snmp
from proxier.printer.snmp import Message, PDU, Value, VarBind

__all__ = ["SNMPAgent"]

OID = tuple[int, ...]
UPTIME = mib.OID["sysUpTime"] + (0,)


class SNMPAgent:
    """
    An agent answering over C{values}; a community it does not know is not
    answered (RFC 3584 §4.1), nor is a datagram it cannot decode.

    @ivar values: OID -> value, what the agent serves (SETs change it).
    @ivar writable: the OIDs a SET may change.
    @ivar community: reads only; C{writeCommunity} reads and writes.
    @ivar readOnly: how a SET of an OID not in C{writable} is refused:
        C{"snmpsim"} (noSuchInstance under error-status 0, as snmpsim does)
        or C{"notWritable"} (error-status 17).
    @ivar maxBindings: answers with more bindings are tooBig (a stand-in for
        an agent's message size); None: no bound.
    @ivar requests: every request decoded, in order; None where not kept
        (a fleet serving a long benchmark).
    @ivar seconds: if given, sysUpTime runs on from its value in C{values}
        by this clock, as a printer's does (L{restart} sets it back to 0).
    """

    def __init__(self, values: dict[OID, Value], writable: Iterable[OID] = (), community: bytes = b"public",
                 writeCommunity: bytes = b"private", readOnly: str = "snmpsim", maxBindings: Optional[int] = 64,
                 record: bool = True, seconds: Optional[Callable[[], float]] = None) -> None:
        self.values = dict(values)
        self.writable = set(writable)
        self.community = community
        self.writeCommunity = writeCommunity
        self.readOnly = readOnly
        self.maxBindings = maxBindings
        self.requests: Optional[list[Message]] = [] if record else None
        self.seconds = seconds
        if seconds is not None:
            self.booted = seconds() - self.values[UPTIME].value / 100
        self._keys: list[OID] = []  # sorted, of _keySet: sorted again when the OIDs of values change
        self._keySet: frozenset = frozenset()

    def restart(self) -> None:
        """The agent boots again: its sysUpTime starts from 0."""
        assert self.seconds is not None, "an agent without a clock has no uptime to restart"
        self.booted = self.seconds()

    def _nextBinding(self, oid: OID, version: int) -> Optional[VarBind]:
        """The binding following C{oid}; past the last, endOfMibView (v2c) or None (v1: noSuchName)."""
        if self.values.keys() != self._keySet:
            self._keySet = frozenset(self.values)
            self._keys = sorted(self._keySet)
        i = bisect.bisect_right(self._keys, oid)
        if i < len(self._keys):
            return VarBind(self._keys[i], self.values[self._keys[i]])
        return None if version == snmp.V1 else VarBind(oid, Value(snmp.END_OF_MIB_VIEW))

    def answer(self, datagram: bytes) -> Optional[bytes]:
        """The answer to one request datagram, or None where the agent stays silent."""
        try:
            request = snmp.decode(datagram)
        except snmp.SNMPError:
            return None
        if self.requests is not None:
            self.requests.append(request)
        pdu, version = request.pdu, request.version
        if request.community not in ((self.writeCommunity,) if pdu.tag == snmp.SET else
                                     (self.community, self.writeCommunity)):
            return None
        if self.seconds is not None:
            self.values[UPTIME] = Value(snmp.TIMETICKS, int((self.seconds() - self.booted) * 100) % 2**32)
        status, index, out = 0, 0, []
        if pdu.tag == snmp.GET:
            for i, b in enumerate(pdu.varBinds, 1):
                if b.oid in self.values:
                    out.append(VarBind(b.oid, self.values[b.oid]))
                elif version == snmp.V1:
                    status, index = status or 2, index or i
                    out.append(b)
                else:
                    out.append(VarBind(b.oid, Value(snmp.NO_SUCH_INSTANCE)))
        elif pdu.tag == snmp.GET_NEXT:
            for i, b in enumerate(pdu.varBinds, 1):
                found = self._nextBinding(b.oid, version)
                if found is None:
                    status, index = status or 2, index or i
                out.append(found or b)
        elif pdu.tag == snmp.GET_BULK:  # error-status is non-repeaters, error-index max-repetitions
            nonRepeaters = min(pdu.errorStatus, len(pdu.varBinds))
            out = [self._nextBinding(b.oid, version) for b in pdu.varBinds[:nonRepeaters]]  # type: ignore[misc]
            current = [b.oid for b in pdu.varBinds[nonRepeaters:]]
            for _ in range(pdu.errorIndex):
                row = [self._nextBinding(oid, version) for oid in current]
                out += row  # type: ignore[arg-type]
                current = [b.oid for b in row]  # type: ignore[union-attr]
                if all(b.value.tag == snmp.END_OF_MIB_VIEW for b in row):  # type: ignore[union-attr]
                    break
        elif pdu.tag == snmp.SET:
            for i, b in enumerate(pdu.varBinds, 1):
                if b.oid in self.writable:
                    self.values[b.oid] = b.value
                    out.append(b)
                elif self.readOnly == "snmpsim":
                    out.append(VarBind(b.oid, Value(snmp.NO_SUCH_INSTANCE)))
                else:
                    status, index = status or 17, index or i
                    out.append(b)
        else:
            return None
        if self.maxBindings is not None and len(out) > self.maxBindings:
            status, index, out = 1, 0, list(pdu.varBinds)
        return snmp.encode(Message(version, request.community, PDU(snmp.RESPONSE, pdu.requestId, status, index,
                                                                   tuple(out))))
