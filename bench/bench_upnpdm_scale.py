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
system time, both read when the last BOOTSTRAP session ended.

A gateway's flash takes 5-20 ms per fsync: C{--fsync-delays 0,0.01} runs
each size again with the proxier started through L{bench._slowfsync}, which
sleeps that long before every fsync, and reports the fsyncs and the bytes
they made durable per device (counted to the proxier's exit, its shutdown
included).

    PYTHONPATH=. .venv/bin/python bench/bench_upnpdm_scale.py [--sizes 10,100,1000] [--timeout 900] \
        [--fsync-delays 0,0.01]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from twisted.internet import defer, task

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import processCPUSeconds  # noqa: E402

def procStatus(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


@defer.inlineCallbacks
def measure(reactor: Any, count: int, timeout: float, profile: str = "", fsyncDelay: float = 0.0) -> Any:
    from twisted.web.server import Site

    from proxier.cwmp.fakeacs import FakeACS
    from tests._helpers import freeSearchPort, freeUDPPort, subprocessEnv

    acs = FakeACS(clock=reactor, validator=None)  # its schema validation is not what is measured
    acsPort = reactor.listenTCP(0, Site(acs), interface="127.0.0.1")
    workdir = tempfile.mkdtemp(prefix=f"bench-scale-{count}-")
    ssdpPort = freeUDPPort()
    searchPort = freeSearchPort(52000, 7)  # OSError: no free port for the fleet's searches
    config = os.path.join(workdir, "proxier.conf")
    with open(config, "w") as f:
        f.write(f"""[acs]
url = http://127.0.0.1:{acsPort.getHost().port}/acs
periodic_inform_enable = false
[connection_request]
port = 0
[lan]
ssdp_mode = unicast-loopback
ssdp_port = {ssdpPort}
search_interval = 10
max_devices = {count + 64}
[upnp]
loopback_search_ports = {searchPort}
max_pending = 64
[state]
directory = {workdir}/state
[log]
level = warn
file = {workdir}/proxier.log
[demo]
enable = no
""")
    fleet = subprocess.Popen(
        [sys.executable, "-m", "proxier.sim.main", "--count", str(count), "--control-point", f"127.0.0.1:{ssdpPort}",
         "--search-port", str(searchPort), "--log-level", "error", "--stagger", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=subprocessEnv(), cwd=workdir, text=True)
    assert fleet.stdout is not None
    fleet.stdout.readline()  # its first line: the fleet is up
    counts = os.path.join(workdir, "fsyncs")
    env = dict(subprocessEnv(), PROXIER_BENCH_FSYNC_DELAY=str(fsyncDelay), PROXIER_BENCH_FSYNC_COUNT=counts)
    started = time.monotonic()
    proxier = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_slowfsync.py"), "--nodaemon",
         "--pidfile="]
        + ([f"--profile={profile}", "--profiler=cprofile", "--savestats"] if profile else [])
        + ["proxier", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    wanted = {f"02C0DE-SimDM-SIM{i:06d}" for i in range(count)}
    done: set[str] = set()
    peak = 0
    result: dict = {}
    try:
        while True:
            for session in acs.sessions:
                if session.device in wanted and session.ended and session.ok and any(
                        e.code == "0 BOOTSTRAP" for e in session.inform.events):
                    done.add(session.device)
            try:
                peak = max(peak, procStatus(proxier.pid, "VmHWM"))
                cpu = processCPUSeconds(proxier.pid)
            except OSError:
                raise SystemExit(f"the proxier exited ({proxier.poll()}); see {workdir}/proxier.log")
            if len(done) == count:
                result = {"seconds": time.monotonic() - started, "peak": peak, "cpu": cpu}
                break
            if time.monotonic() - started > timeout:
                result = {"seconds": None, "peak": peak, "cpu": cpu, "done": len(done)}
                break
            yield task.deferLater(reactor, 0.1, lambda: None)
    finally:
        for child in (proxier, fleet):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in (proxier, fleet):
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)
        if fleet.stdout is not None:
            fleet.stdout.close()
        yield acsPort.stopListening()
    try:
        with open(counts) as f:
            result["fsyncs"], result["bytes"] = (int(n) for n in f.read().split())
    except (OSError, ValueError):
        result["fsyncs"] = result["bytes"] = None
    return result


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
