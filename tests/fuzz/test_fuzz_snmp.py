"""
Fuzz the SNMP codec (L{proxier.printer.snmp}): an agent's datagram is read
into an L{snmp.Message} or refused with L{snmp.SNMPError}, never another
exception; what was read encodes again and reads back to the same message
(the fake agent of the unit tests relies on both directions agreeing).
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.printer import snmp
from tests.fuzz._harness import Target, assertFuzzClean

# Tags of every type and PDU, lengths that lie (indefinite, long forms, huge), OID sub-identifiers.
_TOKENS = (
    b"\x30", b"\x02\x01\x00", b"\x02\x01\x01", b"\x04\x00", b"\x05\x00", b"\x06\x00", b"\x06\x01\x2b",
    b"\x40\x04\x7f\x00\x00\x01", b"\x41\x05\x00\xff\xff\xff\xff", b"\x42", b"\x43", b"\x44", b"\x46\x09\x00",
    b"\x80\x00", b"\x81\x00", b"\x82\x00", b"\xa0", b"\xa2", b"\xa3", b"\xa4", b"\xa5", b"\xa7", b"\xa8",
    b"\x80", b"\x81\xff", b"\x82\xff\xff", b"\x84\xff\xff\xff\xff", b"\x85", b"\x1f", b"\xff\xff\xff\xff\x7f",
    b"\x8f\xff\xff\xff\x7f", b"\x80\x80\x80",
)


def roundTrip(data: bytes) -> None:
    """L{snmp.decode}; then encode → decode gives the same message."""
    message = snmp.decode(data)
    again = snmp.decode(snmp.encode(message))
    assert again == message, (again, message)


def _seeds() -> list[bytes]:
    from tests import test_printer_snmp as vectors

    return [vectors.NETSNMP_GET, vectors.SNMPSIM_GET_ANSWER, vectors.SNMPSIM_SET_ANSWER, vectors.SNMPSIM_BULK_ANSWER,
            vectors.PYSNMP_RESPONSE, vectors.PYSNMP_BULK, vectors.PYSNMP_V1_SET, vectors.PYSNMP_TRAP,
            vectors.PYSNMP_V1_ERROR]


TARGETS = [
    Target("snmp-message", __name__, roundTrip, (snmp.SNMPError,), _seeds, _TOKENS),
]


class SNMPFuzzTests(unittest.TestCase):
    def test_message(self) -> None:
        """
        Mutated SNMPv1/v2c requests, responses and traps (every value type,
        the v2 exceptions, long-form lengths) are decoded — and then encode
        and decode back to the same message — or refused with
        L{snmp.SNMPError}, within a second each.
        """
        assertFuzzClean(self, TARGETS[0])
