# -*- test-case-name: tests.test_sim_fleet -*-
"""
Benchmark of the simulated UPnP DM devices: memory per device and actions
per second with 1, 100 and 1000 devices in one process.

Each size runs in a fresh child process (so the memory figures are that
fleet's own): it starts the fleet on 127.0.0.1 in unicast-loopback mode
(NOTIFYs to a sink socket of its own), waits for the power-on
announcements, reads its resident size, then for a few seconds calls CMS
GetValues over real loopback HTTP on devices picked at random, a fixed
number of calls in flight, from a client in the same process (so the CPU
figure covers both sides). It also times the same action without HTTP
(Service.invoke), the device logic alone.

    PYTHONPATH=. .venv/bin/python bench/bench_sim.py [--sizes 1,100,1000] [--seconds 5] [--concurrency 16]
        [--shared-port]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time
from typing import Any

PATHS = '<cms:ContentPathList xmlns:cms="urn:schemas-upnp-org:dm:cms"><ContentPath>/UPnP/DM/DeviceInfo/' \
        'PhysicalDevice/DeviceID/</ContentPath><ContentPath>/BBF/Time/</ContentPath></cms:ContentPathList>'
CMS = "urn:schemas-upnp-org:service:ConfigurationManagement:2"


def rss() -> int:
    """This process's resident set size, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def openFiles() -> int:
    return len(os.listdir("/proc/self/fd"))


def child(size: int, seconds: float, concurrency: int, shared: bool) -> dict:
    """One fleet of C{size} devices, measured; returns the figures."""
    from treq.client import HTTPClient
    from twisted.internet import defer, reactor, task
    from twisted.internet.protocol import DatagramProtocol
    from twisted.web.client import Agent, HTTPConnectionPool

    from proxier.sim.fleet import Fleet, FleetOptions
    from proxier.sim.service import ActionContext
    from proxier.upnp import soap

    out: dict[str, Any] = {"devices": size}

    class Sink(DatagramProtocol):
        received = 0

        def datagramReceived(self, data: bytes, address: Any) -> None:
            Sink.received += 1

    @defer.inlineCallbacks
    def run(_: Any) -> Any:
        sink = reactor.listenUDP(0, Sink(), interface="127.0.0.1")
        gc.collect()
        before, filesBefore = rss(), openFiles()
        started = time.perf_counter()
        fleet = Fleet(FleetOptions(count=size, controlPoint=("127.0.0.1", sink.getHost().port), sharedPort=shared),
                      reactor=reactor)
        fleet.startService()
        out["startSeconds"] = round(time.perf_counter() - started, 3)
        yield task.deferLater(reactor, 1.0, lambda: None)
        gc.collect()
        after = rss()
        out["rssMiB"] = round(after / 2**20, 1)
        out["bytesPerDevice"] = (after - before) // size
        out["filesPerDevice"] = round((openFiles() - filesBefore) / size, 2)
        out["notifiesReceived"] = Sink.received

        device = fleet.devices[0]
        n = 2000
        begin = time.perf_counter()
        for _ in range(n):
            device.cms.invoke("GetValues", {"Parameters": PATHS}, ActionContext())
        out["invokePerSecond"] = round(n / (time.perf_counter() - begin))

        pool = HTTPConnectionPool(reactor, persistent=True)
        pool.maxPersistentPerHost = concurrency
        client = HTTPClient(Agent(reactor, pool=pool))
        body = soap.encodeRequest(CMS, "GetValues", {"Parameters": PATHS})
        headers = {"SOAPACTION": soap.soapActionHeader(CMS, "GetValues"), "Content-Type": soap.CONTENT_TYPE}
        picker = random.Random(1)
        done = {"ok": 0, "failed": 0}
        deadline = time.perf_counter() + seconds
        cpuBefore = resource.getrusage(resource.RUSAGE_SELF)

        @defer.inlineCallbacks
        def worker() -> Any:
            while time.perf_counter() < deadline:
                target = fleet.devices[picker.randrange(size)]
                try:
                    response = yield client.post(target.baseURL + "cms/control", data=body, headers=headers)
                    content = yield response.content()
                    soap.decodeResponse(content, "GetValues")
                    done["ok"] += 1
                except Exception:
                    done["failed"] += 1

        begin = time.perf_counter()
        yield defer.DeferredList([worker() for _ in range(concurrency)])
        elapsed = time.perf_counter() - begin
        cpuAfter = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpuAfter.ru_utime - cpuBefore.ru_utime) + (cpuAfter.ru_stime - cpuBefore.ru_stime)
        out["httpActionsPerSecond"] = round(done["ok"] / elapsed)
        out["httpFailures"] = done["failed"]
        out["cpuMillisecondsPerAction"] = round(1000 * cpu / max(done["ok"], 1), 3)
        yield pool.closeCachedConnections()
        yield fleet.stopService()
        yield sink.stopListening()
        print(json.dumps(out), flush=True)

    task.react(lambda reactor: run(None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--shared-port", action="store_true")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child is not None:
        try:
            child(arguments.child, arguments.seconds, arguments.concurrency, arguments.shared_port)
        except SystemExit:
            pass
        return
    import twisted

    print(f"proxier-sim benchmark — Python {sys.version.split()[0]}, Twisted {twisted.__version__}, "
          f"{os.cpu_count()} CPUs; {arguments.seconds:g} s of GetValues per size, "
          f"{arguments.concurrency} in flight, {'one shared port' if arguments.shared_port else 'a port per device'}")
    header = ("devices", "start s", "RSS MiB", "KiB/device", "fds/device", "invoke/s", "HTTP actions/s",
              "CPU ms/action", "failures")
    print("  ".join(f"{h:>14}" for h in header))
    for size in (int(s) for s in arguments.sizes.split(",")):
        command = [sys.executable, __file__, "--child", str(size), "--seconds", str(arguments.seconds),
                   "--concurrency", str(arguments.concurrency)] + (["--shared-port"] if arguments.shared_port else [])
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        lines = [l for l in result.stdout.splitlines() if l.startswith("{")]
        if result.returncode != 0 or not lines:
            print(f"{size}: failed\n{result.stderr[-2000:]}")
            continue
        figures = json.loads(lines[-1])
        row = (figures["devices"], figures["startSeconds"], figures["rssMiB"],
               round(figures["bytesPerDevice"] / 1024, 1), figures["filesPerDevice"], figures["invokePerSecond"],
               figures["httpActionsPerSecond"], figures["cpuMillisecondsPerAction"], figures["httpFailures"])
        print("  ".join(f"{v:>14}" for v in row))


if __name__ == "__main__":
    main()
