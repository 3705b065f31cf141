# -*- test-case-name: tests.test_upnpdm_e2e -*-
"""
Benchmark (b) of the TR-330 proxy module: with N = 10, 100, 1000 simulated
UPnP DM devices, the time until every Virtual CWMP Device has finished its
BOOTSTRAP session with the fake ACS, and the proxier's peak resident size
and CPU seconds over that time.

Three processes, all on 127.0.0.1 (unicast-loopback SSDP, nothing leaves
the machine), so the figures are the proxier's own:

 - this one: the fake ACS, counting the devices' BOOTSTRAP sessions;
 - the simulated devices (C{python -m proxier.sim.main}), started first,
   answering searches on a known port;
 - the proxier (twistd), started last: the clock runs from its start. It
   searches the fleet's port at once ([upnp] loopback_search_ports) and
   every 10 s, describes the devices, probes each one's identity, learns
   its model and bootstraps it.

Peak RSS is the kernel's VmHWM of the proxier process; CPU is its user +
system time, both read when the last BOOTSTRAP session ended, with the
simulated fleet's CPU time then (it runs every device in one process: near
the wall time, the fleet is what the run waits for, not the proxier). The GENA
NOTIFY connections refused or cut (events whose state had to be read again)
are counted to the proxier's exit, from its log.

A gateway's flash takes 5-20 ms per fsync: C{--fsync-delays 0,0.01} runs
each size again with the proxier started through L{bench._slowfsync}, which
sleeps that long before every fsync (and every sync of the file system at a
journal checkpoint), and reports those syncs and the bytes they made durable
per device (counted to the proxier's exit, its shutdown included).

    PYTHONPATH=. .venv/bin/python bench/bench_upnpdm_scale.py [--sizes 10,100,1000] [--timeout 900] \
        [--fsync-delays 0,0.01]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from twisted.internet import defer, task

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import FleetProcesses, bootstrapped  # noqa: E402


@defer.inlineCallbacks
def measure(reactor: Any, count: int, timeout: float, profile: str = "", fsyncDelay: float = 0.0) -> Any:
    lan = FleetProcesses(reactor, count, f"bench-scale-{count}-", {
        "lan": {"search_interval": "10", "max_devices": str(count + 64)}, "upnp": {"max_pending": "64"}})
    lan.startFleet()
    started = time.monotonic()
    lan.startProxier(fsyncDelay, profile)
    wanted = lan.wanted
    result: dict = {}
    try:
        while True:
            done = bootstrapped(lan.acs, wanted)
            peak, cpu = lan.proxierUsage()
            if len(done) == count:
                result = {"seconds": time.monotonic() - started, "peak": peak, "cpu": cpu, "fleet": lan.fleetCPU()}
                break
            if time.monotonic() - started > timeout:
                result = {"seconds": None, "peak": peak, "cpu": cpu, "fleet": lan.fleetCPU(), "done": len(done)}
                break
            yield task.deferLater(reactor, 0.1, lambda: None)
    finally:
        yield lan.stop()
    result["fsyncs"], result["bytes"] = lan.fsyncCounts()
    result["lostNotifies"] = lostNotifies(lan.workdir)
    return result


def lostNotifies(workdir: str) -> int:
    """
    NOTIFY connections the proxier's GENA callback server refused or cut (each
    an event whose state had to be read again), from the warning it logs when
    it stops; 0 when it logged none.
    """
    import re

    lost = 0
    with open(os.path.join(workdir, "proxier.log"), encoding="utf-8", errors="replace") as f:
        for line in f:
            match = re.search(r"GENA callback server stops: \d+ events taken, (\d+) NOTIFY", line)
            if match:
                lost = int(match.group(1))
    return lost


@defer.inlineCallbacks
def run(reactor: Any, sizes: list[int], timeout: float, profile: str = "", fsyncDelays: tuple[float, ...] = (0.0,)
        ) -> Any:
    print(f"proxier UPnP-DM: N simulated devices → every Virtual CWMP Device's BOOTSTRAP session done "
          f"(Python {sys.version.split()[0]}, Twisted {__import__('twisted').__version__}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
    for count in sizes:
        for delay in fsyncDelays:
            result = yield measure(reactor, count, timeout, profile and f"{profile}.{count}", delay)
            label = f"  N = {count:>5}, fsync +{delay * 1000:4.0f} ms"
            if result["seconds"] is None:
                print(f"{label}: only {result['done']} of {count} within {timeout:.0f} s; "
                      f"peak RSS {result['peak'] / 2**20:6.1f} MiB, CPU {result['cpu']:6.1f} s")
            else:
                print(f"{label}: all BOOTSTRAP sessions done in {result['seconds']:6.1f} s; proxier peak RSS "
                      f"{result['peak'] / 2**20:6.1f} MiB, CPU {result['cpu']:6.1f} s")
            print(f"{' ' * len(label)}  simulated fleet CPU {result['fleet']:6.1f} s; {result['lostNotifies']} GENA NOTIFY "
                  f"connections refused or cut")
            if result["fsyncs"] is not None:
                print(f"{' ' * len(label)}  {result['fsyncs'] / count:6.1f} fsyncs, "
                      f"{result['bytes'] / count / 1024:8.1f} KiB made durable per device (to exit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--profile", default="", metavar="FILE",
                        help="cProfile the proxier (twistd --profile) into FILE.<N>; the figures then include its cost")
    parser.add_argument("--fsync-delays", default="0", metavar="SECONDS,...",
                        help="run each size with fsync made this much slower (a gateway's flash: 0.005-0.02)")
    arguments = parser.parse_args()
    sizes = [int(s) for s in arguments.sizes.split(",") if s]
    delays = tuple(float(s) for s in arguments.fsync_delays.split(",") if s)
    task.react(run, (sizes, arguments.timeout, os.path.abspath(arguments.profile) if arguments.profile else "",
                     delays))


if __name__ == "__main__":
    main()
