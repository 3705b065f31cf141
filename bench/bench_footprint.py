# -*- test-case-name: tests.test_footprint -*-
"""
Benchmark of the proxier's footprint on a gateway (issue 19): its idle
resident size with 0, 100 and 1,000 UPnP DM devices, the bytes each device
adds, and its idle CPU over a window once every device has bootstrapped.

The proxier runs as on a gateway: plain twistd on the configuration as
shipped (every installed protocol enabled, C{[lan] search_interval} 300 s,
C{[upnp] max_pending} 32...) but for what a run on loopback needs, the
same processes and configuration as C{bench_upnpdm_restart.py}
(L{bench._harness.FleetProcesses}): the fake ACS in this process, the
simulated devices (C{python -m proxier.sim.main}) and the proxier in
processes of their own, all on 127.0.0.1 (nothing leaves the machine).
What the proxier imports at start is counted. With C{--python} and
C{--tree} another interpreter (say Debian 12's C{/usr/bin/python3} and its
libraries) or another checkout (the code before a change: C{git worktree
add /tmp/before HASH}) runs the proxier; the fake ACS and the simulated
devices are always this checkout's and this interpreter's.

Each size also gives the bytes a device adds: over no device at all (what
the first device loads once, modules and tables, included) and, from the
second nonzero size on, over the size before it (one more device alone:
what the issue's "memory per extra device" is).

The resident size is the kernel's VmRSS of the proxier, read after the
last BOOTSTRAP session (or, with no device, the proxier's own) and
C{--settle} seconds more; the idle CPU is its user + system time over the
next C{--window} seconds. The proxier searches at its start, then every
C{search_interval} (jittered by 10 %): each line says whether the window
held a search round, whose answers from N devices are most of what an idle
proxier does. The default window of 60 s, once 1,000 devices bootstrapped
in about 30 s, holds none; one of 330 s holds at least one.

C{--search-interval 10} measures as the first figures of issue 19 did,
the devices answering a search every 10 s (30 times as often as shipped):
the cost of search rounds, per device, without waiting five minutes for
each.

    PYTHONPATH=. .venv/bin/python bench/bench_footprint.py [--sizes 0,100,1000] [--window 60]
        [--python /usr/bin/python3] [--tree /tmp/before] [--search-interval 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any, Optional

from twisted.internet import defer, task

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import FleetProcesses, bootstrapped, procStatus, processCPUSeconds  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def allBootstrapped(lan: FleetProcesses) -> bool:
    """Every simulated device bootstrapped; with none, the proxier itself."""
    if lan.count:
        return len(bootstrapped(lan.acs, lan.wanted)) == lan.count
    return bool(bootstrapped(lan.acs))


def searchRounds(start: float, end: float, interval: int) -> str:
    """
    Whether the proxier searched between C{start} and C{end} seconds after
    its start, from its rounds' jitter alone (each 0.9 to 1.1 intervals
    after the one before, the first at its start).
    """
    if end < 0.9 * interval:
        return "no search round in the window"
    if end - start >= 1.1 * interval:
        return "a search round or more in the window"
    return "perhaps a search round in the window"


@defer.inlineCallbacks
def measure(reactor: Any, count: int, python: str, tree: str, settle: float, window: float, timeout: float,
            searchInterval: Optional[int]) -> Any:
    sections = {"lan": {"search_interval": str(searchInterval)}} if searchInterval else {}
    lan = FleetProcesses(reactor, count, f"bench-footprint-{count}-", sections)
    try:
        if count:
            lan.startFleet()
        lan.startShippedProxier(python, tree)
        started = time.monotonic()
        while not allBootstrapped(lan):
            if lan.proxier.poll() is not None:
                raise SystemExit(f"the proxier exited ({lan.proxier.returncode}); see {lan.workdir}/proxier.log")
            if time.monotonic() - started > timeout:
                raise SystemExit(f"only {len(bootstrapped(lan.acs, lan.wanted))} of {count} devices bootstrapped "
                                 f"in {timeout:.0f} s")
            yield task.deferLater(reactor, 0.2, lambda: None)
        bootstrap = time.monotonic() - started
        yield task.deferLater(reactor, settle, lambda: None)
        resident = procStatus(lan.proxier.pid, "VmRSS")
        cpu = processCPUSeconds(lan.proxier.pid)
        windowStart = time.monotonic() - started
        yield task.deferLater(reactor, window, lambda: None)
        idleCPU = processCPUSeconds(lan.proxier.pid) - cpu
        return {"rss": resident, "rssAfter": procStatus(lan.proxier.pid, "VmRSS"), "idleCPU": idleCPU,
                "bootstrap": bootstrap, "window": (windowStart, time.monotonic() - started)}
    finally:
        yield lan.stop()


@defer.inlineCallbacks
def run(reactor: Any, sizes: list[int], python: str, tree: str, settle: float, window: float, timeout: float,
        searchInterval: Optional[int]) -> Any:
    from proxier.config import load

    shipped = load(None)["lan"]["search_interval"]
    interval = searchInterval or shipped
    version = subprocess.run([python, "-c", "import sys, twisted; print(sys.version.split()[0], twisted.__version__)"],
                             capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=tree)).stdout.split()
    print(f"proxier footprint: {python} (Python {version[0]}, Twisted {version[1]}), tree {tree}; configuration as "
          f"shipped" + (f" but a search every {interval} s (shipped: {shipped} s)" if interval != shipped else "")
          + f"; RSS {settle:.0f} s after the last BOOTSTRAP, idle CPU over the next {window:.0f} s")
    base = None
    previous: Optional[tuple[int, int]] = None
    for count in sizes:
        result = yield measure(reactor, count, python, tree, settle, window, timeout, searchInterval)
        line = (f"  N = {count:>5}: RSS {result['rss'] / 2**20:6.1f} MiB ({result['rssAfter'] / 2**20:6.1f} after the "
                f"window), idle CPU {result['idleCPU']:5.2f} s ({100 * result['idleCPU'] / window:4.1f} %)")
        if count == 0:
            base = result["rss"]
        elif base is not None:
            line += f", {(result['rss'] - base) / count / 1024:6.1f} KiB a device over N = 0"
        if previous is not None and previous[0] and count > previous[0]:
            # what one more device costs, without what the first device loads once (modules, tables)
            line += (f", {(result['rss'] - previous[1]) / (count - previous[0]) / 1024:6.1f} KiB a device over "
                     f"N = {previous[0]}")
        previous = (count, result["rss"])
        line += (f"; bootstrapped in {result['bootstrap']:.1f} s" if count else "")
        print(f"{line}; {searchRounds(*result['window'], interval)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="0,100,1000")
    parser.add_argument("--python", default=sys.executable, help="the interpreter running the proxier")
    parser.add_argument("--tree", default=TOP, help="the checkout whose proxier runs")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after the last BOOTSTRAP before reading")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of idle CPU measured")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--search-interval", type=int, default=None, metavar="SECONDS",
                        help="[lan] search_interval (default: as shipped)")
    arguments = parser.parse_args()
    sizes = [int(s) for s in arguments.sizes.split(",") if s]
    task.react(run, (sizes, arguments.python, os.path.abspath(arguments.tree), arguments.settle, arguments.window,
                     arguments.timeout, arguments.search_interval))


if __name__ == "__main__":
    main()
