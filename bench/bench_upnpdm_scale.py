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

    PYTHONPATH=. .venv/bin/python bench/bench_upnpdm_scale.py [--sizes 10,100,1000] [--timeout 900]
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
def measure(reactor: Any, count: int, timeout: float, profile: str = "") -> Any:
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
    started = time.monotonic()
    proxier = subprocess.Popen(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "--nodaemon", "--pidfile="]
        + ([f"--profile={profile}", "--profiler=cprofile", "--savestats"] if profile else [])
        + ["proxier", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=subprocessEnv(), cwd=workdir)
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
    return result


@defer.inlineCallbacks
def run(reactor: Any, sizes: list[int], timeout: float, profile: str = "") -> Any:
    print(f"proxier UPnP-DM: N simulated devices → every Virtual CWMP Device's BOOTSTRAP session done "
          f"(Python {sys.version.split()[0]}, Twisted {__import__('twisted').__version__}, "
          f"{os.cpu_count()} CPUs)")
    for count in sizes:
        result = yield measure(reactor, count, timeout, profile and f"{profile}.{count}")
        if result["seconds"] is None:
            print(f"  N = {count:>5}: only {result['done']} of {count} within {timeout:.0f} s; "
                  f"peak RSS {result['peak'] / 2**20:6.1f} MiB, CPU {result['cpu']:6.1f} s")
        else:
            print(f"  N = {count:>5}: all BOOTSTRAP sessions done in {result['seconds']:6.1f} s; proxier peak RSS "
                  f"{result['peak'] / 2**20:6.1f} MiB, CPU {result['cpu']:6.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--profile", default="", metavar="FILE",
                        help="cProfile the proxier (twistd --profile) into FILE.<N>; the figures then include its cost")
    arguments = parser.parse_args()
    sizes = [int(s) for s in arguments.sizes.split(",") if s]
    task.react(run, (sizes, arguments.timeout, os.path.abspath(arguments.profile) if arguments.profile else ""))


if __name__ == "__main__":
    main()
