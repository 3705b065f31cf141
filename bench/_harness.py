"""
What the benchmark scripts share: a percentile of their timings, the
command line of those run for a number of rounds, cleanups of the peers a
script starts, its log kept to warnings (an unstarted log would keep
every event in memory), and the proxier's tree with the UPnP-DM plugin and
one simulated device on loopback, or with the printer plugin on given
printers; or, in processes of their own, a fleet of simulated devices and
the proxier (L{FleetProcesses}).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Optional

from twisted.internet import task

__all__ = ["percentile", "reactWithRounds", "reactFleet", "startWithOneDevice", "startWithPrinters", "Cleanups",
           "warningsOnly", "residentBytes", "processCPUSeconds", "memoryPerDevice", "profiled", "GPVCases",
           "gpvCases", "procStatus", "freeTCPPort", "bootstrapped", "FleetProcesses", "stopChildren"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Cleanups:
    """What L{tests.peers.printers} asks of a test case: cleanups, run last first."""

    def __init__(self) -> None:
        self.cleanups: list = []

    def addCleanup(self, f: Callable[..., Any], *a: Any) -> None:
        self.cleanups.append((f, a))

    def run(self) -> None:
        for f, a in reversed(self.cleanups):
            f(*a)


def warningsOnly() -> None:
    """Log warnings and worse to stderr, nothing else: before logging starts Twisted buffers every event."""
    import sys

    from twisted.logger import (FilteringLogObserver, LogLevel, LogLevelFilterPredicate, globalLogBeginner,
                                textFileLogObserver)

    globalLogBeginner.beginLoggingTo([FilteringLogObserver(textFileLogObserver(sys.stderr), [
        LogLevelFilterPredicate(LogLevel.warn)])], redirectStandardIO=False)


def residentBytes() -> int:
    """This process's resident set size now (the kernel's VmRSS)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def processCPUSeconds(pid: int) -> float:
    """User and system CPU seconds a process (another one: a peer's) used so far."""
    import os

    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memoryPerDevice(build: Callable[[int], Any], devices: int = 10) -> tuple[float, float]:
    """
    What one device holds, by tracemalloc over C{devices} built with
    C{build(n)} (one is built first, so that modules and shared
    declarations are not counted): bytes a device, and of them those
    allocated in C{proxier/datamodel} (its tree).
    """
    import gc
    import os
    import tracemalloc

    build(0)
    gc.collect()
    tracemalloc.start()
    first = tracemalloc.take_snapshot()
    kept = [build(n) for n in range(1, devices + 1)]
    gc.collect()
    second = tracemalloc.take_snapshot()
    tracemalloc.stop()
    del kept
    stats = second.compare_to(first, "filename")
    tree = f"{os.sep}proxier{os.sep}datamodel{os.sep}"
    total = sum(s.size_diff for s in stats)
    datamodel = sum(s.size_diff for s in stats if tree in s.traceback[0].filename)
    return total / devices, datamodel / devices


def profiled(call: Callable[[], Any], rounds: int, path: str, within: str = "", top: int = 15) -> Any:
    """
    C{rounds} more calls of C{call} (each a Deferred) under cProfile, saved
    to C{path}; its top functions by own time printed, only those whose
    file matches the regular expression C{within} when given (a peer
    simulated in this process is profiled too, but is not what the bench
    measures).
    """
    import cProfile
    import pstats

    from twisted.internet import defer

    @defer.inlineCallbacks
    def go() -> Any:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(rounds):
            yield call()
        profiler.disable()
        profiler.dump_stats(path)
        print(f"  profile of {rounds} calls (reactor waits included) in {path}; by own time"
              + (f", functions in {within!r}:" if within else ":"))
        stats = pstats.Stats(path).sort_stats("tottime")
        if within:
            stats.print_stats(within, top)
        else:
            stats.print_stats(top)

    return go()


def reactFleet(run: Callable[[Any, int, float, str], Any], doc: str, count: int, window: float) -> None:
    """Run C{run(reactor, count, window, profile)} to its end, with C{--count}, C{--window} and C{--profile}."""
    import os

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=count)
    parser.add_argument("--window", type=float, default=window, help="seconds measured")
    parser.add_argument("--profile", default="", metavar="FILE", help="cProfile the window into FILE")
    arguments = parser.parse_args()
    profile = os.path.abspath(arguments.profile) if arguments.profile else ""
    task.react(run, (arguments.count, arguments.window, profile))


def reactWithRounds(run: Callable[[Any, int], Any], doc: str, rounds: int) -> None:
    """Run C{run(reactor, rounds)} to its end, C{rounds} from C{--rounds} (the script's docstring is its help)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    arguments = parser.parse_args()
    task.react(run, (arguments.rounds,))


def startWithOneDevice(reactor: Any, acsURL: str, prefix: str) -> tuple[Any, Any, Any]:
    """
    The proxier's tree (unicast-loopback SSDP, its state in a new folder
    named from C{prefix}) informing the ACS at C{acsURL}, and a fleet of one
    simulated device told where its control point is: all started.

    @return: the tree, its UPnP-DM service and the fleet.
    """
    from twisted.web.client import Agent, HTTPConnectionPool

    from proxier.config import load
    from proxier.plugins.upnpdm import upnpdm
    from proxier.service import ProxierService
    from proxier.sim.fleet import Fleet, FleetOptions
    from proxier.store import Store

    config = load(None, [upnpdm.configSection])
    config = config.replace("acs", url=acsURL, periodic_inform_enable=False)
    config = config.replace("connection_request", port=0)
    config = config.replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
    config = config.replace("demo", enable="no")
    tree = ProxierService(config, Store.open(tempfile.mkdtemp(prefix=prefix)), [upnpdm], reactor=reactor)
    tree.startService()
    service = tree.getServiceNamed("UPnP-DM")
    fleet = Fleet(FleetOptions(count=1, controlPoint=service.controlPoint.ssdpAddress), reactor=reactor,
                  agent=Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=True)))
    fleet.startService()
    return tree, service, fleet


def startWithPrinters(reactor: Any, acsURL: str, prefix: str, printers: tuple[str, ...], **keys: Any) -> tuple[Any, Any]:
    """
    The proxier's tree with the printer plugin only (its state in a new
    folder named from C{prefix}), proxying C{printers} with the C{[printer]}
    C{keys} given, informing the ACS at C{acsURL}: started.

    @return: the tree and its printer service.
    """
    from proxier.config import load
    from proxier.plugins.printer import printer
    from proxier.printer.proxy import SERVICE_NAME
    from proxier.service import ProxierService
    from proxier.store import Store
    from proxier.tap import pluginSections

    config = load(None, pluginSections([printer]))
    config = config.replace("protocols", enabled=(printer.name,))
    config = config.replace("printer", printers=printers, **keys)
    config = config.replace("acs", url=acsURL, periodic_inform_enable=False)
    config = config.replace("connection_request", port=0)
    config = config.replace("demo", enable="no")
    tree = ProxierService(config, Store.open(tempfile.mkdtemp(prefix=prefix)), [printer], reactor=reactor)
    tree.startService()
    return tree, tree.getServiceNamed(SERVICE_NAME)


@dataclass
class GPVCases:
    """
    What the GetParameterValues benchmarks of a UPnP DM device ask, proxied
    and direct: per size, the CWMP names and the CMS GetValues argument
    (ContentPathList) of the same parameters.
    """

    key: str
    endpoint: Any  # the device's CWMP endpoint; its model is what the endpoint calls
    upnp: Any  # the control point's UPnP device, for the direct CMS call
    cms: Any  # its ConfigurationManagement service
    cases: dict[int, tuple[list[str], str]]

    def direct(self, size: int) -> Any:
        """The direct CMS GetValues of the parameters of C{size} (a Deferred of its answer)."""
        return self.upnp.callAction(self.cms, "GetValues", {"Parameters": self.cases[size][1]})


def gpvCases(reactor: Any, tree: Any, service: Any, fleet: Any, sizes: tuple[int, ...] = (1, 50)) -> Any:
    """
    Once the simulated device of L{startWithOneDevice} has its CWMP
    endpoint: a L{GPVCases} of C{sizes} parameters, the device's own
    (Time, Hosts, Ethernet, DeviceInfo; none of what the proxier holds,
    which has no CMS path), four host rows added so that there are enough.
    """
    from twisted.internet import defer

    from proxier.upnpdm import cmsxml

    @defer.inlineCallbacks
    def prepare() -> Any:
        sim = fleet.devices[0]
        key = sim.identity.deviceIdentity.key
        while key not in tree.cwmp.manager.endpoints:
            yield task.deferLater(reactor, 0.05, lambda: None)
        for index in range(4):
            sim.cms.addLocalInstance("/BBF/Hosts/Host/", [("HostName", f"bench-{index}")])
        endpoint = tree.cwmp.manager.endpoints[key]
        device = service.devices[key]
        names = [i.name for i in (yield endpoint.model.getParameterNames("Device.", False))
                 if not i.name.endswith(".") and i.name.startswith(("Device.Time.", "Device.Hosts.",
                                                                   "Device.Ethernet.", "Device.DeviceInfo."))
                 and not any(held in i.name for held in ("ProxierInfo", "SupportedDataModel", "VendorLogFile"))]
        cases = {}
        for size in sizes:
            chosen = names[:size]
            if len(chosen) < size:
                raise SystemExit(f"only {len(chosen)} parameters to read")
            cms = []
            for name in chosen:
                cms.append((yield device.model.toCMS(name)))
            cases[size] = (chosen, cmsxml.contentPathList(cms))
        return GPVCases(key, endpoint, device._target(), device.profile.candidate.cms, cases)

    return prepare()


def procStatus(pid: int, field: str) -> int:
    """A size field of a process's /proc status (VmHWM, VmRSS...), in bytes; 0 when absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def freeTCPPort() -> int:
    """A TCP port on 127.0.0.1 free now (for a child's listening port the parent must know)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bootstrapped(acs: Any, wanted: Optional[set[str]] = None) -> set[str]:
    """
    The devices of C{wanted} (of any, the gateway itself included, when
    None) whose "0 BOOTSTRAP" session with the fake ACS ended well.
    """
    return {s.device for s in acs.sessions if (wanted is None or s.device in wanted) and s.ended and s.ok
            and any(e.code == "0 BOOTSTRAP" for e in s.inform.events)}


class FleetProcesses:
    """
    What the UPnP DM fleet benchmarks share: three processes, all on
    127.0.0.1 (unicast-loopback SSDP, nothing leaves the machine), so that
    the figures are the proxier's own —

     - this one: the fake ACS (C{acs}), schema validation off (it is not
       what is measured);
     - C{count} simulated devices (C{python -m proxier.sim.main}), answering
       searches on a known port;
     - the proxier (twistd, through C{bench/_slowfsync.py}: fsync as slow as
       asked, fsyncs counted; or plain, as on a gateway), on the
       configuration as shipped but for what a run on loopback needs: the
       ACS's URL, unicast-loopback SSDP and the fleet's search port, the
       Connection Request port picked free, the state and the log (kept to
       warnings) in a new folder, the demo off (as the package ships it),
       C{[lan] max_devices} raised when the fleet would not fit in its
       default (a gateway fronting that many devices must say so), and the
       C{sections} given (C{{"lan": {"search_interval": "10"}}}).

    The proxier may be stopped and started again on the same state.
    """

    def __init__(self, reactor: Any, count: int, prefix: str, sections: dict[str, dict[str, str]]) -> None:
        import os

        from twisted.web.server import Site

        from proxier.config import load
        from proxier.cwmp.fakeacs import FakeACS
        from tests._helpers import freeSearchPort, freeUDPPort

        self.reactor = reactor
        self.count = count
        self.acs = FakeACS(clock=reactor, validator=None)
        self.acsPort = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        self.workdir = tempfile.mkdtemp(prefix=prefix)
        self.ssdpPort = freeUDPPort()
        self.searchPort = freeSearchPort(52000, 7)  # OSError: no free port for the fleet's searches
        config: dict[str, dict[str, str]] = {
            "acs": {"url": f"http://127.0.0.1:{self.acsPort.getHost().port}/acs"},
            "connection_request": {"port": "0"},
            "lan": {"ssdp_mode": "unicast-loopback", "ssdp_port": str(self.ssdpPort)},
            "upnp": {"loopback_search_ports": str(self.searchPort)},
            "state": {"directory": os.path.join(self.workdir, "state")},
            "log": {"level": "warn", "file": os.path.join(self.workdir, "proxier.log")},
            "demo": {"enable": "no"},
        }
        if count > load(None)["lan"]["max_devices"] - 16:  # room either way: the limit is not what is measured
            config["lan"]["max_devices"] = str(count + 64)
        for name, keys in sections.items():
            config.setdefault(name, {}).update(keys)
        self.config = os.path.join(self.workdir, "proxier.conf")
        with open(self.config, "w") as f:
            for name, keys in config.items():
                f.write(f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in keys.items()))
        self.fsyncs = os.path.join(self.workdir, "fsyncs")
        self.fleet: Any = None
        self.proxier: Any = None

    @property
    def wanted(self) -> set[str]:
        """The fleet's devices' keys."""
        return {f"02C0DE-SimDM-SIM{i:06d}" for i in range(self.count)}

    def startFleet(self) -> None:
        """The simulated devices, up when this returns."""
        import subprocess
        import sys

        from tests._helpers import subprocessEnv

        self.fleet = subprocess.Popen(
            [sys.executable, "-m", "proxier.sim.main", "--count", str(self.count), "--control-point",
             f"127.0.0.1:{self.ssdpPort}", "--search-port", str(self.searchPort), "--log-level", "error",
             "--stagger", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=subprocessEnv(), cwd=self.workdir, text=True)
        assert self.fleet.stdout is not None
        self.fleet.stdout.readline()  # its first line: the fleet is up

    def startProxier(self, fsyncDelay: float = 0.0, profile: str = "") -> None:
        """The proxier, fsync slowed by C{fsyncDelay} seconds, cProfiled into C{profile} when given."""
        import os
        import subprocess
        import sys

        from tests._helpers import subprocessEnv

        env = dict(subprocessEnv(), PROXIER_BENCH_FSYNC_DELAY=str(fsyncDelay), PROXIER_BENCH_FSYNC_COUNT=self.fsyncs)
        self.proxier = subprocess.Popen(
            [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_slowfsync.py"), "--nodaemon",
             "--pidfile="]
            + ([f"--profile={profile}", "--profiler=cprofile", "--savestats"] if profile else [])
            + ["proxier", "--config", self.config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env,
            cwd=self.workdir)

    def startShippedProxier(self, python: str, tree: str) -> None:
        """
        The proxier as on a gateway: plain twistd (no fsync wrapper), run by
        C{python} with the checkout C{tree} alone on its path, so that another
        interpreter (Debian 12's) takes its own libraries, not this one's.
        """
        import os
        import subprocess

        self.proxier = subprocess.Popen(
            [python, "-c", "from twisted.scripts.twistd import run; run()", "--nodaemon", "--pidfile=", "proxier",
             "--config", self.config], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONPATH=tree), cwd=self.workdir)

    def proxierUsage(self) -> tuple[int, float]:
        """The proxier's peak RSS (VmHWM, bytes) and CPU seconds so far; SystemExit when it exited."""
        if self.proxier.poll() is not None:  # exited, perhaps not reaped yet: its /proc entry may still be there
            raise SystemExit(f"the proxier exited ({self.proxier.returncode}); see {self.workdir}/proxier.log")
        try:
            return procStatus(self.proxier.pid, "VmHWM"), processCPUSeconds(self.proxier.pid)
        except OSError:
            raise SystemExit(f"the proxier exited ({self.proxier.poll()}); see {self.workdir}/proxier.log")

    def fleetCPU(self) -> float:
        """
        The simulated fleet's CPU seconds so far: it runs every device in one
        process, so near the wall time it is the bottleneck, not the proxier.
        """
        try:
            return processCPUSeconds(self.fleet.pid)
        except OSError:
            raise SystemExit(f"the simulated fleet exited ({self.fleet.poll()})")

    def stopProxier(self) -> None:
        """SIGTERM, and its end awaited (its state saved)."""
        stopChildren([self.proxier])

    def fsyncCounts(self) -> tuple[Any, Any]:
        """The fsyncs and the bytes they made durable in the proxier's last run (None, None: not written)."""
        try:
            with open(self.fsyncs) as f:
                fsyncs, size = (int(n) for n in f.read().split())
            return fsyncs, size
        except (OSError, ValueError):
            return None, None

    def stop(self) -> Any:
        """Both children stopped; a Deferred firing once the ACS no longer listens."""
        stopChildren([child for child in (self.proxier, self.fleet) if child is not None])
        if self.fleet is not None and self.fleet.stdout is not None:
            self.fleet.stdout.close()
        return self.acsPort.stopListening()


def stopChildren(children: list) -> None:
    """Child processes ended: SIGTERM, a minute to exit, then SIGKILL."""
    import signal
    import subprocess

    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)
