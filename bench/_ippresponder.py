"""
A fleet of fake IPP printers on one loopback port, for the printer
benchmarks: printer C{n} is C{ipp://127.0.0.1:<port>/ipp/print/<n>}.

Each is the simulator's in-process printer (L{proxier.sim.ippprinter}:
Get-Printer-Attributes with requested-attributes, Set-Printer-Attributes,
server-error-operation-not-supported for the rest, as ippeveprinter 2.4
answers the ippget subscriptions) whose attributes are the
Get-Printer-Attributes answer recorded from the real ippeveprinter (MFP
4000 attribute file, C{tests/fixtures/ipp/ippeveprinter-mfp4000-attributes.ipp}),
with a name, a printer-uuid and an up-time of its own (the recorded
printer-uri-supported is left as it was recorded).

Run alone it serves in its own process (so that its CPU is not the
proxier's) and prints C{port <n>} once listening:

    PYTHONPATH=. python bench/_ippresponder.py --count 100 [--port 8631]
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from twisted.web.resource import Resource

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from proxier.printer import ipp  # noqa: E402
from proxier.sim.ippprinter import IPPPrinter, IPPPrinterResource  # noqa: E402

__all__ = ["RECORDED", "FakePrinters", "recordedAttributes", "listen"]

RECORDED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixtures", "ipp",
                        "ippeveprinter-mfp4000-attributes.ipp")


def recordedAttributes() -> list[ipp.Attribute]:
    """The printer group of the recorded ippeveprinter answer."""
    with open(RECORDED, "rb") as f:
        group = ipp.decode(f.read()).group(0x04)
    assert group is not None
    return list(group)


class FakePrinters(Resource):
    """C{count} printers at C{/ipp/print/<n>}; any other path is not found."""

    isLeaf = True

    def __init__(self, count: int, clock: Any) -> None:
        super().__init__()
        own = ("printer-up-time", "printer-state-change-time", "printer-config-change-time")  # counted by each
        attributes = [a for a in recordedAttributes() if a.name not in own]
        self.printers = [IPPPrinterResource(IPPPrinter(clock, attributes, name=f"BenchMFP{n}")) for n in range(count)]

    def render_POST(self, request: Any) -> bytes:
        head, _, number = request.path.rpartition(b"/")
        if head != b"/ipp/print" or not number.isdigit() or int(number) >= len(self.printers):
            request.setResponseCode(404)
            return b"no such printer\n"
        return self.printers[int(number)].render_POST(request)


def listen(reactor: Any, count: int, port: int = 0) -> tuple[Any, FakePrinters]:
    """The printers listening on C{port} (0: a free one) of 127.0.0.1: the listening port and the resource."""
    from twisted.web.server import Site

    printers = FakePrinters(count, reactor)
    site = Site(printers)
    site.noisy = False
    return reactor.listenTCP(port, site, interface="127.0.0.1", backlog=256), printers


def main() -> None:
    from twisted.internet import reactor
    from twisted.logger import LogLevel, LogLevelFilterPredicate, FilteringLogObserver, globalLogBeginner
    from twisted.logger import textFileLogObserver

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--port", type=int, default=0, help="0: a free one")
    arguments = parser.parse_args()
    globalLogBeginner.beginLoggingTo([FilteringLogObserver(textFileLogObserver(sys.stderr), [
        LogLevelFilterPredicate(LogLevel.warn)])], redirectStandardIO=False)
    port, _ = listen(reactor, arguments.count, arguments.port)
    print(f"port {port.getHost().port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
