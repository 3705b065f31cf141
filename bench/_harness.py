"""
What the benchmark scripts share: a percentile of their timings, the
command line of those run for a number of rounds, cleanups of the peers a
script starts, its log kept to warnings (an unstarted log would keep
every event in memory), and the proxier's tree with the UPnP-DM plugin and
one simulated device on loopback, or with the printer plugin on given
printers.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from typing import Any, Callable

from twisted.internet import task

__all__ = ["percentile", "reactWithRounds", "reactFleet", "startWithOneDevice", "startWithPrinters", "Cleanups",
           "warningsOnly", "residentBytes", "processCPUSeconds", "memoryPerDevice", "profiled", "GPVCases",
           "gpvCases"]


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
