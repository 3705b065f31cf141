# -*- test-case-name: tests.test_printer_plugin -*-
"""
Benchmark of the printer proxy at scale (issue 13, "Measured"): 100 fake
printers proxied by one printer service, polled: the CPU share of one core,
the resident memory in all and per printer, the polls per second, and what
one printer's device, model and tree hold (tracemalloc).

Two processes, everything on 127.0.0.1:

 - the printers: bench/_ippresponder.py in a process of its own (its CPU
   is not the proxier's), every printer on one port, each the simulator's
   in-process printer (proxier/sim/ippprinter) with the attributes of the
   Get-Printer-Attributes answer recorded from the real ippeveprinter (its
   own printer-uuid and printer-up-time); real HTTP, one connection per
   operation, as the proxier's IPP client makes them;
 - this one: the proxier's service tree with the printer plugin (real IPP
   clients, action gates, pollers, models, CWMP endpoints) and the fake
   ACS. The tree starts before the printers answer (its probes fail and
   are made again every poll_interval), so its own fixed part is in place
   when the resident size is first read; then the printers start, and
   every one's BOOTSTRAP session is done before the window.

The default period (poll_interval 60 s, full_poll_interval 900 s) is
compressed six times — 10 s and 150 s, the same ratio — over a window of
170 s from the moment every BOOTSTRAP session is done: the printers were
found together, so their full reads come in one burst a full period (and
up to a poll interval) after, which this window holds once; the output
gives the counts of cheap and full polls, to compare with the default's
mix (one full read in fifteen polls). The CPU share at the default period
is the measured one divided by six (the reactor's own idle cost,
negligible here, is divided with it). The CPU is
this process's user + system time over the window; the resident memory is
VmRSS after the window minus VmRSS before the printers answered (one
device built and dropped first, so that the modules' and the shared
declarations' first use is not counted; the fake ACS's record of the
printers' sessions, a few KiB each, is); per printer it is that delta
over the count. The tracemalloc figure is taken
afterwards, on ten devices built from the recorded answer and never
started: IPP client, device (gate, poller, events, readings) and its
model with the PrintService tree, and of that what proxier/datamodel
allocated (the tree).

    PYTHONPATH=. .venv/bin/python bench/bench_printer_fleet.py [--count 100] [--window 170] [--profile FILE]
    PYTHONPATH=. /usr/bin/python3 bench/bench_printer_fleet.py

Last measured (2 cores shared with other work; 100 printers, window 170 s: 1500 cheap and 100 full polls),
.venv (Python 3.11.7, Twisted 26.10) / Debian 12 (Python 3.11.2, Twisted 22.4):

  every BOOTSTRAP session done                    12.3 / 12.6 s after the printers answered (probes every 10 s)
  polls/s at 10 s / 150 s                         9.41 / 9.41
  CPU at 10 s / 150 s                             2.38 / 2.52 % of one core, 2.53 / 2.67 ms a poll
  CPU at the default 60 s / 900 s                 0.40 / 0.42 % of one core, 1.57 polls/s
  resident, 100 printers                          24.9 / 25.2 MiB: 255 / 258 KiB a printer
  tracemalloc, one printer                        168 KiB (client, device, model, tree), 62 KiB of it the tree

Handling a cheap answer costs the proxier what handling a full one does:
the merged attributes are read into PrintService values again whole
(ippsource.read of every attribute) and the whole tree is compared with
its baselines.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from twisted.internet import defer, task

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import (  # noqa: E402
    memoryPerDevice, processCPUSeconds, reactFleet, residentBytes, startWithPrinters, warningsOnly)

#: The default period (the [printer] keys' defaults) over the one measured.
COMPRESSION = 6
POLL_INTERVAL = 60 // COMPRESSION
FULL_POLL_INTERVAL = 900 // COMPRESSION
#: The printers are found together, so their full reads come in a burst one full period (and up to a poll
#: interval) after: a window of a full period and two poll intervals holds that burst once.
WINDOW = FULL_POLL_INTERVAL + 2 * POLL_INTERVAL
SAMPLES = 10


def startPrinters(count: int, port: int) -> subprocess.Popen:
    """The fake printers' process, serving them on C{port}."""
    from tests._helpers import subprocessEnv

    responder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ippresponder.py")
    process = subprocess.Popen([sys.executable, responder, "--count", str(count), "--port", str(port)],
                               stdout=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, env=subprocessEnv(), text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("port "):
        process.kill()
        process.wait(10)
        raise SystemExit(f"the fake printers did not start ({line!r})")
    return process


def stopPrinters(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


class PollCount:
    """Counts the answers the devices are handed (IPollObserver.polled), full and cheap."""

    def __init__(self) -> None:
        from proxier.printer.device import PrinterDevice

        self.full = self.cheap = 0
        original = PrinterDevice.polled
        count = self

        def polled(device: Any, attributes: Any, full: bool) -> None:
            if full:
                count.full += 1
            else:
                count.cheap += 1
            original(device, attributes, full)

        PrinterDevice.polled = polled  # type: ignore[method-assign]


@defer.inlineCallbacks
def fleet(reactor: Any, count: int, window: float, profile: str) -> Any:
    from twisted.web.server import Site

    from proxier.cwmp.fakeacs import FakeACS
    from tests._helpers import waitFor
    from tests.peers.printers import freePort

    acs = FakeACS(clock=reactor, validator=None)  # its schema validation is not what is measured
    acsPort = reactor.listenTCP(0, Site(acs), interface="127.0.0.1")
    port = freePort()
    urls = tuple(f"ipp://127.0.0.1:{port}/ipp/print/{n}" for n in range(count))
    polls = PollCount()
    # the printers are not there yet: the tree's fixed part (and the gateway's own session) comes first
    tree, service = startWithPrinters(reactor, f"http://127.0.0.1:{acsPort.getHost().port}/acs",
                                      "bench-printer-fleet-", urls, poll_interval=POLL_INTERVAL,
                                      full_poll_interval=FULL_POLL_INTERVAL)
    yield waitFor(lambda: acs.sessions and all(s.ended for s in acs.sessions), 60, "the gateway's session")
    yield task.deferLater(reactor, 1, lambda: None)
    oneDevice(reactor, service.store, 10**6)  # the modules' and the shared declarations' first use
    gc.collect()
    before = residentBytes()
    printers = startPrinters(count, port)
    try:
        started = time.monotonic()

        def bootstrapped() -> bool:
            if len(service.devices) < count:
                return False
            return all(any(s.ended and s.ok and any(e.code == "0 BOOTSTRAP" for e in s.inform.events)
                           for s in acs.sessionsFor(str(device.identity))) for device in service.devices.values())

        yield waitFor(bootstrapped, 600, f"the BOOTSTRAP sessions of {count} printers", step=0.5)
        booted = time.monotonic() - started  # the probes retry every poll_interval: up to that much later
        sessions = len(acs.sessions)
        polls.full = polls.cheap = 0
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu, printersCPU, wall = time.process_time(), processCPUSeconds(printers.pid), time.monotonic()
        samples = []
        for _ in range(SAMPLES):
            yield task.deferLater(reactor, window / SAMPLES, lambda: None)
            samples.append(residentBytes())
        wall = time.monotonic() - wall
        cpu = time.process_time() - cpu
        printersCPU = processCPUSeconds(printers.pid) - printersCPU
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        after = residentBytes()
        offline = sum(1 for device in service.devices.values() if not device.online)
        print(f"  {count} printers: every BOOTSTRAP session done {booted:5.1f} s after they started answering; "
              f"{offline} offline after the window; {len(acs.sessions) - sessions} sessions in the window")
        share = cpu / wall
        if profiler is not None:
            print(f"  (profiled: the CPU figures include cProfile's cost; the profile is in {profile})")
        print(f"  window {wall:5.1f} s at poll_interval {POLL_INTERVAL} s, full_poll_interval {FULL_POLL_INTERVAL} s: "
              f"{(polls.cheap + polls.full) / wall:5.2f} polls/s ({polls.cheap} cheap, {polls.full} full), "
              f"CPU {cpu:5.2f} s = {share * 100:5.2f} % of one core "
              f"({cpu / max(1, polls.cheap + polls.full) * 1000:5.2f} ms a poll); the printers' process "
              f"{printersCPU / wall * 100:5.2f} %")
        print(f"  at the default period (60 s, 900 s): {(polls.cheap + polls.full) / wall / COMPRESSION:5.2f} polls/s, "
              f"CPU {share / COMPRESSION * 100:5.2f} % of one core")
        print(f"  resident: {before / 2**20:6.1f} MiB before the printers answered, {after / 2**20:6.1f} MiB after the window "
              f"(samples {min(samples) / 2**20:5.1f}-{max(samples) / 2**20:5.1f}): "
              f"{(after - before) / 2**20:6.1f} MiB, {(after - before) / count / 1024:6.1f} KiB a printer")
    finally:
        stopPrinters(printers)
        yield tree.stopService()
        yield acsPort.stopListening()


def oneDevice(reactor: Any, store: Any, n: int) -> Any:
    """
    A printer's device (IPP client, device, model, tree) built from the
    recorded answer, never started; its state in C{store}'s child, as the
    printer service keeps it.
    """
    from bench._ippresponder import recordedAttributes
    from proxier.printer import ipp, ippsource
    from proxier.printer.device import PrinterDevice
    from proxier.printer.ippclient import IPPClient
    from proxier.printer.poller import PollSlots
    from proxier.printer.proxy import identityOf
    from proxier.printer.settings import PrinterSettings

    group = ipp.AttributeGroup(0x04, [a for a in recordedAttributes() if a.name != "printer-uuid"] + [
        ipp.Attribute("printer-uuid", (ipp.Value(0x45, f"urn:uuid:00000000-0000-4000-8000-{n:012d}"),))])
    url = f"ipp://127.0.0.1:631/ipp/print/{n}"
    return PrinterDevice(identityOf(ippsource.read(group), "000000"), url, IPPClient(url, reactor=reactor),
                         store.child(f"printer-{n}"), PollSlots(4), PrinterSettings(), reactor, found=group)


def treeMemory(reactor: Any, devices: int = 10) -> None:
    """What one printer's client, device, model and tree hold, by tracemalloc, over C{devices} of them."""
    from proxier.store import Store

    store = Store.open(tempfile.mkdtemp(prefix="bench-printer-memory-"))
    total, datamodel = memoryPerDevice(lambda n: oneDevice(reactor, store, n), devices)
    print(f"  tracemalloc, {devices} devices built from the recorded answer: {total / 1024:6.1f} KiB a "
          f"printer (IPP client, device, readings, model, tree), of which {datamodel / 1024:6.1f} KiB "
          f"allocated in proxier/datamodel (the tree)")


@defer.inlineCallbacks
def run(reactor: Any, count: int, window: float, profile: str) -> Any:
    warningsOnly()
    print(f"proxier printer: {count} fake printers proxied, polled (Python {sys.version.split()[0]}, Twisted "
          f"{__import__('twisted').__version__}, {os.cpu_count()} CPUs)")
    yield fleet(reactor, count, window, profile)
    treeMemory(reactor)


def main() -> None:
    reactFleet(run, __doc__, 100, float(WINDOW))


if __name__ == "__main__":
    main()
