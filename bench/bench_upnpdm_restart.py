# -*- test-case-name: tests.test_bench_upnpdm -*-
"""
Benchmark of a gateway restarted among known devices (issue 19): with N =
100, 1000 simulated UPnP DM devices the proxier has bootstrapped before,
the time from the proxier's new start until all N Virtual CWMP Devices are
back online, with the configuration as shipped — the same processes as
C{bench_upnpdm_scale.py} (L{bench._harness.FleetProcesses}): the fake ACS
here, the fleet and the proxier in processes of their own, all on
127.0.0.1.

Nothing is tuned: C{[lan] search_interval} (300 s), C{[upnp] max_pending}
(32) and the rest are the defaults. Only what a loopback run needs is set
(unicast-loopback SSDP, its ports, the fleet's search port), C{[lan]
max_devices} when N comes near its default of 256 (a gateway fronting that
many devices must say so: FleetProcesses sees to both), and the console on
a free loopback port, whose
C{GET /api/status} says how many devices are online (asked every quarter
of a second).

First run: the proxier starts on an empty state and every device
bootstraps ("0 BOOTSTRAP" sessions ended with the fake ACS): that time is
printed too. Then the proxier is stopped (SIGTERM) and started again on
the same state, while the devices stay up: the clock runs from that start
until N devices are online, with the times at which half of them and 90 %
were.

    PYTHONPATH=. .venv/bin/python bench/bench_upnpdm_restart.py [--sizes 100,1000] [--timeout 900]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from twisted.internet import defer, task

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import FleetProcesses, bootstrapped, freeTCPPort  # noqa: E402

#: seconds between two looks at the console
POLL = 0.25


@defer.inlineCallbacks
def online(url: str) -> Any:
    """How many devices the console says are online (0 while it does not answer yet)."""
    import treq

    try:
        response = yield treq.get(url, persistent=False)
        body = yield response.json()
    except Exception:  # not listening yet: the proxier is starting
        return 0
    return body["online"] if response.code == 200 else 0


@defer.inlineCallbacks
def measure(reactor: Any, count: int, timeout: float) -> Any:
    port = freeTCPPort()
    lan = FleetProcesses(reactor, count, f"bench-restart-{count}-", {"console": {"enable": "true", "port": str(port)}})
    status = f"http://127.0.0.1:{port}/api/status"
    result: dict = {"count": count}
    try:
        lan.startFleet()
        started = time.monotonic()
        lan.startProxier()
        wanted = lan.wanted
        while len(bootstrapped(lan.acs, wanted)) < count:
            lan.proxierUsage()
            if time.monotonic() - started > timeout:
                result["first"] = None
                result["bootstrapped"] = len(bootstrapped(lan.acs, wanted))
                return result
            yield task.deferLater(reactor, POLL, lambda: None)
        result["first"] = time.monotonic() - started
        lan.stopProxier()
        started = time.monotonic()
        lan.startProxier()
        marks: dict[float, float] = {}
        while True:
            lan.proxierUsage()
            n = yield online(status)
            elapsed = time.monotonic() - started
            for share in (0.5, 0.9, 1.0):
                if n >= share * count:
                    marks.setdefault(share, elapsed)
            if n >= count or elapsed > timeout:
                break
            yield task.deferLater(reactor, POLL, lambda: None)
        result["marks"], result["online"] = marks, n
        result["peak"], result["cpu"] = lan.proxierUsage()
    finally:
        yield lan.stop()
    return result


def report(result: dict, timeout: float) -> str:
    count = result["count"]
    if result["first"] is None:
        return f"  N = {count:>5}: only {result['bootstrapped']} of {count} bootstrapped within {timeout:.0f} s"
    line = f"  N = {count:>5}: first run, all bootstrapped in {result['first']:6.1f} s; restarted, "
    marks = result["marks"]
    if 1.0 not in marks:
        return line + f"only {result['online']} of {count} online within {timeout:.0f} s"
    return line + (f"all online in {marks[1.0]:6.1f} s (half in {marks[0.5]:5.1f} s, 90 % in {marks[0.9]:5.1f} s); "
                   f"proxier peak RSS {result['peak'] / 2**20:6.1f} MiB, CPU {result['cpu']:6.1f} s")


@defer.inlineCallbacks
def run(reactor: Any, sizes: list[int], timeout: float) -> Any:
    print(f"proxier UPnP-DM restarted among N known devices, configuration as shipped → all N online "
          f"(Python {sys.version.split()[0]}, Twisted {__import__('twisted').__version__}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
    for count in sizes:
        result = yield measure(reactor, count, timeout)
        print(report(result, timeout), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds each phase may take")
    arguments = parser.parse_args()
    task.react(run, ([int(s) for s in arguments.sizes.split(",") if s], arguments.timeout))


if __name__ == "__main__":
    main()
