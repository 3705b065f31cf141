# -*- test-case-name: tests.test_bench_printer -*-
"""
Benchmark of the SNMP printers at scale (issue 14, "Measured"): 200 fake
SNMP printers, static C{snmp://} entries of one printer service: the time
to find and bootstrap them all, the CPU share of one core at the default
poll period, the resident memory in all and per printer, what one
printer's device, model and tree hold (tracemalloc), and the UDP packets
of a poll.

Two processes, everything on 127.0.0.1:

 - the printers: bench/_snmpresponder.py in a process of its own (its CPU
   is not the proxier's), one UDP port per printer, each serving the MFP
   4000 recording with a serial number and a MAC of its own and a
   running sysUpTime; it counts the datagrams it receives and the answers
   it sends;
 - this one: the proxier's service tree with the printer plugin (one SNMP
   socket, per entry a reader, action gate, poller, model and CWMP
   endpoint) and the fake ACS.

First a tree without printers is started, its gateway's session done,
and stopped, and one SNMP printer's device built and dropped: the modules,
the shared declarations and the tree's fixed part (whose freed memory the
next tree reuses) are then not counted. The resident size is read, and
the tree with the 200 entries started: the time given is from that start
until the fake ACS has ended every printer's "0 BOOTSTRAP" session (each
entry is walked in full at once, the walks not bounded by
max_concurrent_polls; then the probe's SETs; a device per printer).

The default period (poll_interval 60 s, full_poll_interval 900 s) is
compressed six times — 10 s and 150 s, the same ratio — over a window of
170 s from the moment every BOOTSTRAP session is done, which holds the
burst of full walks (one full period after the printers were found) once;
the output gives the counts of cheap and full polls, to compare with the
default's mix (one full walk in fifteen polls). The CPU share at the
default period is the measured one divided by six. The CPU is this
process's user + system time over the window; the resident memory is
VmRSS after the window minus VmRSS before the tree with the printers
started (the fake ACS's record of the sessions, a few KiB each, is
counted); per printer it is that delta over the count. The packets are
counted at the responder: in all until every BOOTSTRAP is done, over the
window per poll, and for one cheap and one full poll of printer 0 made
afterwards by a reader of the benchmark's own. The tracemalloc figure is
taken on ten devices built from the recording and never started: SNMP
client and reader, device (gate, poller), readings, model with the
PrintService tree, and of that what proxier/datamodel allocated.

    PYTHONPATH=. .venv/bin/python bench/bench_printer_snmp_fleet.py [--count 200] [--window 170] [--profile FILE]
    PYTHONPATH=. /usr/bin/python3 bench/bench_printer_snmp_fleet.py

Last measured (2 cores shared with other work; 200 printers, window 170 s: about 3000 cheap and 200 full polls),
.venv (Python 3.11.7, Twisted 26.10) / Debian 12 (Python 3.11.2, Twisted 22.4):

  every BOOTSTRAP session done                    6.6 / 6.5 s after the tree started (10.0 / 10.2 s before
                                                  the tree's batch(): one write of a poll's rows)
  CPU until then                                  5.2 / 5.2 s: 26 / 26 ms a printer
  packets until then, a printer                   31.4 requests, 31.4 answers (the walk, the probe's SETs, a cheap poll)
  polls/s at 10 s / 150 s                         18.81 / 18.82
  CPU at 10 s / 150 s                             5.00 / 5.03 % of one core, 2.66 / 2.67 ms a poll
  the printers' process, CPU                      2.6 / 2.1 % of one core
  CPU at the default 60 s / 900 s                 0.83 / 0.84 % of one core, 3.14 polls/s
  packets a poll, in the window                   7.0 requests, 7.0 answers (one datagram each way, no retry)
  one cheap poll / one full walk                  6 / 22 requests and as many answers (the walk: 183 objects)
  resident, 200 printers                          65.4 / 64.3 MiB: 335 / 329 KiB a printer
  tracemalloc, one printer                        173 KiB (client, reader, device, model, tree), 92 KiB of it the tree

The largest single cost of the boot is the models' first build: the tree
saves its tables document (written and fsync'd) at every row it adds
(tree.addInstance -> _saveTables), 35 times a printer — 7017 of the
boot's store writes, 5.3 s of its 18 s under cProfile. A poll is the decoding of its answers
(snmp.decode) and the readings read again whole (snmpsource.read) and
compared with the tree, as the IPP printers' are.
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
#: A full period and two poll intervals hold the burst of full walks once.
WINDOW = FULL_POLL_INTERVAL + 2 * POLL_INTERVAL
SAMPLES = 10


class Responder:
    """The fake printers' process: its ports, and its counts asked for on its stdin."""

    def __init__(self, count: int) -> None:
        from tests._helpers import subprocessEnv

        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_snmpresponder.py")
        self.process = subprocess.Popen([sys.executable, script, "--count", str(count)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=subprocessEnv(), text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("ports "):
            self.stop()
            raise SystemExit(f"the fake SNMP printers did not start ({line!r})")
        self.ports = [int(p) for p in line.split()[1:]]

    def counts(self) -> tuple[int, int]:
        """The datagrams received and the answers sent so far (the reactor waits the few ms this takes)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("counts\n")
        self.process.stdin.flush()
        word, received, sent = self.process.stdout.readline().split()
        assert word == "counts"
        return int(received), int(sent)

    def stop(self) -> None:
        """Its stdin closed, it ends; killed if it does not within 10 s."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process.stdout.close()


class PollCount:
    """Counts the SNMP answers the devices are handed (SNMPPart.polled), full and cheap."""

    def __init__(self) -> None:
        from proxier.printer.snmpreader import SNMPPart

        self.full = self.cheap = 0
        original = SNMPPart.polled
        count = self

        def polled(part: Any, attributes: Any, full: bool) -> None:
            if full:
                count.full += 1
            else:
                count.cheap += 1
            original(part, attributes, full)

        SNMPPart.polled = polled  # type: ignore[method-assign]


def packets(before: tuple[int, int], after: tuple[int, int], per: float = 1) -> str:
    return f"{(after[0] - before[0]) / per:6.1f} requests, {(after[1] - before[1]) / per:6.1f} answers"


@defer.inlineCallbacks
def onePoll(reactor: Any, responder: Responder) -> Any:
    """The packets of one full and one cheap poll of printer 0, by a reader of this benchmark's own."""
    from proxier.printer.snmpclient import SNMPClient, SNMPProtocol, listen
    from proxier.printer.snmpreader import SNMPReader

    protocol = SNMPProtocol(reactor)
    port = listen(reactor, protocol, "127.0.0.1")
    try:
        reader = SNMPReader(SNMPClient(protocol, "127.0.0.1", responder.ports[0]), reactor)
        start = responder.counts()
        yield reader.fetch(True)
        full = responder.counts()
        yield reader.fetch(False)
        cheap = responder.counts()
    finally:
        yield port.stopListening()
    print(f"  one full poll (walk)  {packets(start, full)}, {len(reader.varbinds)} objects")
    print(f"  one cheap poll        {packets(full, cheap)}")


@defer.inlineCallbacks
def fleet(reactor: Any, count: int, window: float, profile: str) -> Any:
    from twisted.web.server import Site

    from proxier.cwmp.fakeacs import FakeACS
    from tests._helpers import waitFor

    acs = FakeACS(clock=reactor, validator=None)  # its schema validation is not what is measured
    acsPort = reactor.listenTCP(0, Site(acs), interface="127.0.0.1")
    acsURL = f"http://127.0.0.1:{acsPort.getHost().port}/acs"
    responder = Responder(count)
    tree = None
    try:
        first, _ = startWithPrinters(reactor, acsURL, "bench-printer-snmp-empty-", ())
        yield waitFor(lambda: acs.sessions and all(s.ended for s in acs.sessions), 60, "the gateway's session")
        yield first.stopService()
        oneDevice(reactor, tempStore(), 10**6)  # the modules' and the shared declarations' first use
        gc.collect()
        before = residentBytes()
        quiet = responder.counts()
        polls = PollCount()
        urls = tuple(f"snmp://public@127.0.0.1:{port}" for port in responder.ports)
        started, bootCPU = time.monotonic(), time.process_time()
        tree, service = startWithPrinters(reactor, acsURL, "bench-printer-snmp-fleet-", urls,
                                          poll_interval=POLL_INTERVAL, full_poll_interval=FULL_POLL_INTERVAL)
        devices = service.snmpPrinters.devices

        def bootstrapped() -> bool:
            if len(devices) < count:
                return False
            return all(any(s.ended and s.ok and any(e.code == "0 BOOTSTRAP" for e in s.inform.events)
                           for s in acs.sessionsFor(str(device.identity))) for device in devices.values())

        yield waitFor(bootstrapped, 600, f"the BOOTSTRAP sessions of {count} printers", step=0.1)
        booted, bootCPU = time.monotonic() - started, time.process_time() - bootCPU
        sessions = len(acs.sessions)
        atBoot = responder.counts()
        polls.full = polls.cheap = 0
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu, printersCPU, wall = time.process_time(), processCPUSeconds(responder.process.pid), time.monotonic()
        samples = []
        for _ in range(SAMPLES):
            yield task.deferLater(reactor, window / SAMPLES, lambda: None)
            samples.append(residentBytes())
        wall = time.monotonic() - wall
        cpu = time.process_time() - cpu
        printersCPU = processCPUSeconds(responder.process.pid) - printersCPU
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        after = residentBytes()
        atEnd = responder.counts()
        offline = sum(1 for device in devices.values() if not device.online)
        pollCount = polls.cheap + polls.full
        print(f"  {count} printers: every BOOTSTRAP session done {booted:5.1f} s after the tree started "
              f"(CPU {bootCPU:5.2f} s, {bootCPU / count * 1000:5.1f} ms a printer); {offline} offline after the "
              f"window; {len(acs.sessions) - sessions} sessions in the window")
        print(f"  packets until then: {packets(quiet, atBoot, count)} a printer")
        share = cpu / wall
        if profiler is not None:
            print(f"  (profiled: the CPU figures include cProfile's cost; the profile is in {profile})")
        print(f"  window {wall:5.1f} s at poll_interval {POLL_INTERVAL} s, full_poll_interval {FULL_POLL_INTERVAL} s: "
              f"{pollCount / wall:5.2f} polls/s ({polls.cheap} cheap, {polls.full} full), "
              f"CPU {cpu:5.2f} s = {share * 100:5.2f} % of one core "
              f"({cpu / max(1, pollCount) * 1000:5.2f} ms a poll); the printers' process "
              f"{printersCPU / wall * 100:5.2f} %")
        print(f"  packets in the window: {packets(atBoot, atEnd, max(1, pollCount))} a poll")
        print(f"  at the default period (60 s, 900 s): {pollCount / wall / COMPRESSION:5.2f} polls/s, "
              f"CPU {share / COMPRESSION * 100:5.2f} % of one core")
        print(f"  resident: {before / 2**20:6.1f} MiB before the tree with the printers, {after / 2**20:6.1f} MiB "
              f"after the window (samples {min(samples) / 2**20:5.1f}-{max(samples) / 2**20:5.1f}): "
              f"{(after - before) / 2**20:6.1f} MiB, {(after - before) / count / 1024:6.1f} KiB a printer")
        yield onePoll(reactor, responder)
    finally:
        responder.stop()
        if tree is not None:
            yield tree.stopService()
        yield acsPort.stopListening()


def tempStore() -> Any:
    from proxier.store import Store

    return Store.open(tempfile.mkdtemp(prefix="bench-printer-snmp-memory-"))


def oneDevice(reactor: Any, store: Any, n: int) -> Any:
    """
    An SNMP-only printer's device (client, reader, device, model, tree)
    built from the recording with serial number C{n}, never started; its
    state in C{store}'s child, as the printer service keeps it.
    """
    from bench._snmpresponder import SERIAL, UPTIME, recordedValues
    from proxier.printer import snmp, snmpsource
    from proxier.printer.poller import PollSlots
    from proxier.printer.settings import VENDOR, PrinterSettings
    from proxier.printer.snmpclient import SNMPClient, SNMPProtocol
    from proxier.printer.snmpdevice import SNMPPrinterDevice, snmpIdentity
    from proxier.printer.snmpreader import SNMPAnswer, SNMPReader

    values, _ = recordedValues()
    values[SERIAL] = snmp.Value(snmp.OCTET_STRING, f"EXC4K-BENCH-{n:06d}".encode())
    varbinds = snmpsource.plain(snmp.VarBind(oid, value) for oid, value in values.items())
    answer = SNMPAnswer(varbinds, values[UPTIME].value // 100, snmpsource.printerIndex(varbinds) or 1)
    identity = snmpIdentity(answer.readings(), VENDOR)
    assert identity is not None
    reader = SNMPReader(SNMPClient(SNMPProtocol(reactor), "127.0.0.1", 10000 + n % 50000), reactor)
    return SNMPPrinterDevice(identity, f"snmp://127.0.0.1:{10000 + n % 50000}", reader,
                             store.child(f"printer-{n}"), PollSlots(4), PrinterSettings(), reactor, found=answer)


def treeMemory(reactor: Any, devices: int = 10) -> None:
    """What one printer's client, reader, device, model and tree hold, by tracemalloc, over C{devices} of them."""
    store = tempStore()
    total, datamodel = memoryPerDevice(lambda n: oneDevice(reactor, store, n), devices)
    print(f"  tracemalloc, {devices} devices built from the recording: {total / 1024:6.1f} KiB a "
          f"printer (SNMP client and reader, device, readings, model, tree), of which "
          f"{datamodel / 1024:6.1f} KiB allocated in proxier/datamodel (the tree)")


@defer.inlineCallbacks
def run(reactor: Any, count: int, window: float, profile: str) -> Any:
    warningsOnly()
    print(f"proxier printer: {count} fake SNMP printers proxied, polled (Python {sys.version.split()[0]}, Twisted "
          f"{__import__('twisted').__version__}, {os.cpu_count()} CPUs)")
    yield fleet(reactor, count, window, profile)
    treeMemory(reactor)


def main() -> None:
    reactFleet(run, __doc__, 200, float(WINDOW))


if __name__ == "__main__":
    main()
