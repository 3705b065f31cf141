# -*- test-case-name: tests.test_upnpdm_e2e -*-
"""
Benchmark of the proxier's footprint on a gateway (issue 19): its idle
resident size with 0, 100 and 1,000 UPnP DM devices, the bytes each device
adds, and its idle CPU over a window once every device has bootstrapped.

The proxier runs as in production (twistd, the default config but for the
ACS's URL, unicast-loopback SSDP on a free port and a fresh state folder;
every installed protocol enabled, as by default), so what it imports at
start is counted. With C{--python} and C{--tree} another interpreter (say
Debian 12's C{/usr/bin/python3} and its libraries) or another checkout
(the code before a change: C{git worktree add /tmp/before HASH}) runs the
proxier; the fake ACS and the simulated devices are always this checkout's
and this interpreter's.

Three processes on 127.0.0.1 (nothing leaves the machine): this one, the
fake ACS; the simulated devices (C{python -m proxier.sim.main}); the
proxier. The resident size is the kernel's VmRSS of the proxier, read after
the last BOOTSTRAP session (or, with no device, the proxier's own) and
C{--settle} seconds more; the idle CPU is its user + system time over the
next C{--window} seconds.

    PYTHONPATH=. .venv/bin/python bench/bench_footprint.py [--sizes 0,100,1000] [--window 60]
        [--python /usr/bin/python3] [--tree /tmp/before]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from twisted.internet import defer, task

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import processCPUSeconds, stopChildren  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def residentOf(pid: int) -> int:
    """Another process's resident set size now (its VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no VmRSS for {pid}")


@defer.inlineCallbacks
def measure(reactor: Any, count: int, python: str, tree: str, settle: float, window: float,
            timeout: float) -> Any:
    from twisted.web.server import Site

    from proxier.cwmp.fakeacs import FakeACS
    from tests._helpers import freeSearchPort, freeUDPPort, subprocessEnv

    acs = FakeACS(clock=reactor, validator=None)
    acsPort = reactor.listenTCP(0, Site(acs), interface="127.0.0.1")
    workdir = tempfile.mkdtemp(prefix=f"bench-footprint-{count}-")
    ssdpPort = freeUDPPort()
    searchPort = freeSearchPort(52100, 11)
    config = os.path.join(workdir, "proxier.conf")
    # the default config but for what a test on one machine needs; max_devices and max_pending so
    # that the N devices are all taken in the first search (what they hold is what is measured)
    with open(config, "w") as f:
        f.write(f"""[acs]
url = http://127.0.0.1:{acsPort.getHost().port}/acs
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
    children: list[subprocess.Popen] = []
    try:
        if count:
            fleet = subprocess.Popen(
                [sys.executable, "-m", "proxier.sim.main", "--count", str(count), "--control-point",
                 f"127.0.0.1:{ssdpPort}", "--search-port", str(searchPort), "--log-level", "error", "--stagger", "0"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=subprocessEnv(), cwd=workdir, text=True)
            children.append(fleet)
            assert fleet.stdout is not None
            fleet.stdout.readline()  # its first line: the fleet is up
        env = dict(os.environ, PYTHONPATH=tree)
        proxier = subprocess.Popen(
            [python, "-c", "from twisted.scripts.twistd import run; run()", "--nodaemon", "--pidfile=",
             "proxier", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env, cwd=workdir)
        children.insert(0, proxier)
        started = time.monotonic()
        wanted = {f"02C0DE-SimDM-SIM{i:06d}" for i in range(count)}
        while True:
            done = {s.device for s in acs.sessions if s.ended and s.ok
                    and any(e.code == "0 BOOTSTRAP" for e in s.inform.events)}
            if proxier.poll() is not None:
                raise SystemExit(f"the proxier exited ({proxier.returncode}); see {workdir}/proxier.log")
            if (wanted <= done) and (count or done):
                break
            if time.monotonic() - started > timeout:
                raise SystemExit(f"only {len(wanted & done)} of {count} devices bootstrapped in {timeout:.0f} s")
            yield task.deferLater(reactor, 0.2, lambda: None)
        bootstrapped = time.monotonic() - started
        yield task.deferLater(reactor, settle, lambda: None)
        resident = residentOf(proxier.pid)
        cpu = processCPUSeconds(proxier.pid)
        yield task.deferLater(reactor, window, lambda: None)
        idleCPU = processCPUSeconds(proxier.pid) - cpu
        return {"rss": resident, "rssAfter": residentOf(proxier.pid), "idleCPU": idleCPU, "bootstrap": bootstrapped}
    finally:
        stopChildren(children)
        for child in children:
            if child.stdout is not None:
                child.stdout.close()
        yield acsPort.stopListening()


@defer.inlineCallbacks
def run(reactor: Any, sizes: list[int], python: str, tree: str, settle: float, window: float, timeout: float) -> Any:
    version = subprocess.run([python, "-c", "import sys, twisted; print(sys.version.split()[0], twisted.__version__)"],
                             capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=tree)).stdout.split()
    print(f"proxier footprint: {python} (Python {version[0]}, Twisted {version[1]}), tree {tree}; "
          f"RSS {settle:.0f} s after the last BOOTSTRAP, idle CPU over the next {window:.0f} s")
    base = None
    for count in sizes:
        result = yield measure(reactor, count, python, tree, settle, window, timeout)
        line = (f"  N = {count:>5}: RSS {result['rss'] / 2**20:6.1f} MiB ({result['rssAfter'] / 2**20:6.1f} after the "
                f"window), idle CPU {result['idleCPU']:5.2f} s ({100 * result['idleCPU'] / window:4.1f} %)")
        if count == 0:
            base = result["rss"]
        elif base is not None:
            line += f", {(result['rss'] - base) / count / 1024:6.1f} KiB a device over N = 0"
        print(line + (f"; bootstrapped in {result['bootstrap']:.1f} s" if count else ""), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="0,100,1000")
    parser.add_argument("--python", default=sys.executable, help="the interpreter running the proxier")
    parser.add_argument("--tree", default=TOP, help="the checkout whose proxier runs")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after the last BOOTSTRAP before reading")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of idle CPU measured")
    parser.add_argument("--timeout", type=float, default=900.0)
    arguments = parser.parse_args()
    sizes = [int(s) for s in arguments.sizes.split(",") if s]
    task.react(run, (sizes, arguments.python, os.path.abspath(arguments.tree), arguments.settle, arguments.window,
                     arguments.timeout))


if __name__ == "__main__":
    main()
