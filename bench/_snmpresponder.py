"""
A fleet of fake SNMP printers on loopback UDP ports, for the SNMP printer
benchmark: printer C{n} is C{snmp://public@127.0.0.1:<port n>}, one socket
each (the proxier tells its SNMP entries apart by address and port).

Each answers as the MFP 4000 recording
(C{tests/fixtures/snmp/printer-mfp4000.snmprec}) with a serial number
(prtGeneralSerialNumber) and a MAC (ifPhysAddress) of its own and a
sysUpTime that runs on from the recorded one: GET, GETNEXT and GETBULK
(RFC 3416 §4.2.3) over the sorted recording, SET of the recording's
writable (writecache) objects: L{proxier.sim.snmpagent.SNMPAgent}. One community,
C{public}, reads and writes; another is not answered (RFC 3584 §4.1).
Every datagram received and answer sent is counted.

Run alone it serves in its own process (so that its CPU is not the
proxier's), prints C{ports <p0> <p1> ...} once listening, answers a
C{counts} line on its stdin with C{counts <received> <sent>}, and ends when
its stdin is closed:

    PYTHONPATH=. python bench/_snmpresponder.py --count 200
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable, Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from proxier.printer import mib, snmp  # noqa: E402
from proxier.printer.snmp import Value  # noqa: E402
from proxier.sim.snmpagent import SNMPAgent  # noqa: E402
from tests import _snmprec  # noqa: E402

__all__ = ["RECORDED", "COMMUNITY", "UPTIME", "SERIAL", "MAC", "recordedValues", "FakeSNMPPrinters", "serve"]

RECORDED = os.path.join(_snmprec.FIXTURES, "printer-mfp4000.snmprec")
COMMUNITY = b"public"
UPTIME = mib.OID["sysUpTime"] + (0,)
SERIAL = mib.OID["prtGeneralSerialNumber"] + (1,)
MAC = mib.OID["ifPhysAddress"] + (1,)


def recordedValues() -> tuple[dict[tuple[int, ...], Value], frozenset]:
    """The recording's values with their BER tags, and its writable (writecache) objects."""
    values, writable = {}, set()
    with open(RECORDED, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                oid, tag, text = line.rstrip("\n").split("|", 2)
                key = snmp.parseOID(oid)
                values[key] = Value(int(tag.partition(":")[0].rstrip("x")), _snmprec.value(tag, text))
                if tag.endswith(":writecache"):
                    writable.add(key)
    return values, frozenset(writable)


class FakeSNMPPrinters:
    """
    C{count} agents serving the recording, sans-IO: L{answer} takes printer
    C{n}'s datagram and gives its answer (or None), its sysUpTime read from
    C{seconds()}.
    """

    def __init__(self, count: int, seconds: Callable[[], float]) -> None:
        values, self.writable = recordedValues()
        self.printers = []
        for n in range(count):
            own = dict(values)
            own[SERIAL] = Value(snmp.OCTET_STRING, f"EXC4K-BENCH-{n:06d}".encode())
            own[MAC] = Value(snmp.OCTET_STRING, bytes.fromhex("0002a5") + n.to_bytes(3, "big"))
            self.printers.append(SNMPAgent(own, self.writable, community=COMMUNITY, writeCommunity=COMMUNITY,
                                           maxBindings=None, record=False, seconds=seconds))
        self.received = self.sent = 0

    def answer(self, n: int, datagram: bytes) -> Optional[bytes]:
        self.received += 1
        reply = self.printers[n].answer(datagram)
        if reply is not None:
            self.sent += 1
        return reply


def serve(reactor: Any, count: int) -> list[int]:
    """The printers on C{count} ports of 127.0.0.1, the counts on stdin/stdout: the ports."""
    from twisted.internet import stdio
    from twisted.internet.protocol import DatagramProtocol
    from twisted.protocols.basic import LineReceiver

    printers = FakeSNMPPrinters(count, time.monotonic)

    class Agent(DatagramProtocol):
        def __init__(self, n: int) -> None:
            self.n = n

        def datagramReceived(self, datagram: bytes, addr: Any) -> None:
            reply = printers.answer(self.n, datagram)
            if reply is not None:
                self.transport.write(reply, addr)

    class Control(LineReceiver):
        delimiter = b"\n"

        def lineReceived(self, line: bytes) -> None:
            if line.strip() == b"counts":
                self.sendLine(f"counts {printers.received} {printers.sent}".encode())

        def connectionLost(self, reason: Any = None) -> None:
            reactor.stop()  # stdin closed: the benchmark is done, or gone

    ports = [reactor.listenUDP(0, Agent(n), interface="127.0.0.1").getHost().port for n in range(count)]
    stdio.StandardIO(Control(), reactor=reactor)
    return ports


def main() -> None:
    from twisted.internet import reactor

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    arguments = parser.parse_args()
    ports = serve(reactor, arguments.count)
    print("ports " + " ".join(map(str, ports)), flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
