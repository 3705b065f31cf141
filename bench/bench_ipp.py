# -*- test-case-name: tests.test_printer_ipp -*-
"""
Benchmark of the IPP codec and client (L{proxier.printer.ipp},
L{proxier.printer.ippclient}), printing figures:

 (a) decode and encode of a whole Get-Printer-Attributes answer
     (C{requested-attributes=all}) of a real ippeveprinter with the MFP 4000
     attribute file, and of a synthetic answer 20 times as large;
 (b) a whole Get-Printer-Attributes through the client (HTTP on loopback,
     decode included) against that ippeveprinter.

ippeveprinter and dbus-daemon must be installed (tools/install-test-peers).

    PYTHONPATH=. .venv/bin/python bench/bench_ipp.py [--rounds 200]
    PYTHONPATH=. /usr/bin/python3 bench/bench_ipp.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import Cleanups, percentile, reactWithRounds  # noqa: E402
from proxier.printer import ipp, ippclient  # noqa: E402
from tests.peers import printers  # noqa: E402


def line(label: str, values: list[float]) -> None:
    print(f"  {label:<58} median {statistics.median(values):8.3f} ms   p95 {percentile(values, 0.95):8.3f} ms"
          f"   n={len(values)}")


def timings(function: Any, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def _run(reactor: Any, rounds: int) -> None:
    reason = printers.missing("ippeveprinter", "dbus-daemon", "ippeveprinter-mfp4000.conf")
    if reason:
        print(f"skipped: {reason}")
        return
    peers = Cleanups()
    directory = tempfile.mkdtemp(prefix="proxier-bench-ipp-")
    peers.addCleanup(shutil.rmtree, directory, True)
    try:
        env = printers.startBus(peers, directory)
        port = printers.startIppeveprinter(peers, directory, env)
        client = ippclient.IPPClient(f"ipp://127.0.0.1:{port}/ipp/print", reactor=reactor)
        raw: list = []
        original = client.requester.request

        def keep(*a: Any, **kw: Any) -> Any:
            return original(*a, **kw).addCallback(lambda r: raw.append(r.body) or r)

        client.requester.request = keep  # type: ignore[method-assign]
        await client.getPrinterAttributes()
        client.requester.request = original  # type: ignore[method-assign]
        answer = raw[0]
        message = ipp.decode(answer)
        count = sum(len(g) for g in message.groups)
        print(f"(a) codec, {sys.version.split()[0]}")
        line(f"decode, ippeveprinter answer ({len(answer)} bytes, {count} attributes)",
             timings(lambda: ipp.decode(answer), rounds))
        line("encode, the same", timings(lambda: ipp.encode(message), rounds))
        big = ipp.IPPMessage(0, 1, [message.groups[0]] + [
            ipp.AttributeGroup(0x04, [ipp.Attribute(f"{a.name}-{i}", a.values) for i in range(20) for a in message.groups[1]])
        ])
        bigWire = ipp.encode(big)
        line(f"decode, synthetic answer ({len(bigWire)} bytes, {count * 20} attributes)",
             timings(lambda: ipp.decode(bigWire), max(rounds // 10, 5)))
        print("(b) Get-Printer-Attributes through the client (loopback HTTP + decode)")
        samples = []
        for requested in (("all",), ("printer-state", "printer-state-reasons", "printer-up-time")):
            samples = []
            for _ in range(rounds):
                start = time.perf_counter()
                await client.getPrinterAttributes(requested)
                samples.append((time.perf_counter() - start) * 1000)
            line(f"requested-attributes={','.join(requested)}", samples)
    finally:
        peers.run()


def main(reactor: Any, rounds: int) -> Any:
    from twisted.internet.defer import Deferred

    return Deferred.fromCoroutine(_run(reactor, rounds))


if __name__ == "__main__":
    reactWithRounds(main, __doc__ or "", 200)
