# -*- test-case-name: tests.test_cwmp_endpoint -*-
"""
Benchmark of one CWMP session: an Inform, then 100 GetParameterValues round
trips asked by the fake ACS, over real loopback HTTP (ACS and CPE in this one
process, so the CPU figure covers both sides). Prints RPCs per second and CPU
seconds per session.

    PYTHONPATH=. .venv/bin/python bench/bench_cwmp_session.py [--sessions N] [--rpcs N] [--new-connections]

With C{--upnpdm}, end to end from the ACS's request (issue 19): the fake
ACS asks a Virtual CWMP Device (the proxier's tree with the UPnP-DM plugin
and one simulated device, bench/_harness.py) for 1 and for 50 of the
device's parameters, GetParameterValues after GetParameterValues in a
session: each exchange timed from the ACS handing its request to the
CPE's POST to the answer decoded by the ACS (the proxier's CWMP session,
its model, the device's GetValues, both ends' SOAP). Beside it, the same
parameters by the direct CMS GetValues over HTTP to the simulator. Each
of C{--blocks} (at least 5) blocks is one session of C{--rounds} exchanges
then as many direct calls; figures are medians over every call, and the
ratio is of medians. C{--before DIR} measures DIR's proxier (a checkout
of older code: C{git worktree add /tmp/before-F da53cae}) the same way in
a child process, taking turns with this checkout's (C{--repeat} turns
each, their calls pooled: a machine busy with other work slows both alike),
and prints both.

    PYTHONPATH=. .venv/bin/python bench/bench_cwmp_session.py --upnpdm [--blocks 5] [--rounds 40] [--before DIR]
        [--repeat 2]

Last measured (issue 19; 2 cores shared with other work; 5 blocks x 40, 2
turns; from the ACS / direct CMS, ratio), .venv (Python 3.11.7, Twisted 26.10):

                                 1 parameter              50 parameters
  da53cae (before)               2.40 / 1.12 ms  2.13x    6.01 / 1.95 ms  3.08x
  + the fast GPV path            2.50 / 1.18 ms  2.11x    4.83 / 2.02 ms  2.39x
  + keep-alive (b0be297)         2.11 / 0.87 ms  2.43x    4.31 / 1.65 ms  2.61x
  Debian 12 (Python 3.11.2, Twisted 22.4): before 2.11x and 3.21x, b0be297
  2.36x and 2.65x.

Then (--before /tmp/before-F2, a copy of 41fca40; 3 turns; medians of 5
runs of the two, every figure the median of the runs'):

  41fca40 (before)               2.33 / 0.97 ms  2.39x    5.08 / 1.82 ms  2.82x
  + the device's answer and the  2.28 / 0.95 ms  2.39x    4.51 / 1.82 ms  2.48x
    CWMP structs read by lxml
    (cc183e4..4cf29d3)
  The runs' ratios: before 2.36-2.56x and 2.61-3.40x, after 2.34-2.43x and
  2.45-3.04x. Debian 12, one run on a quieter machine: 2.52x -> 2.41x and
  2.62x -> 2.50x (four more, the machine busy with other work: 2.7-5.8x
  for both checkouts alike).

Beyond the proxied GetParameterValues itself (bench_upnpdm_gpv.py), about
1.1 ms a call of 1 parameter (2.0 of 50) is the CWMP exchange: one HTTP
exchange (the CPE's POST carrying the answer, the ACS's reply carrying the
next request: Agent, cookies and URL handling on the CPE's side, twisted.web
on the ACS's), the CWMP codec on both ends (cwmp/codec.py; CPU, 50
ParameterValueStructs: the CPE decodes the request in 0.04 ms and encodes
its answer in 0.16, the ACS decodes it in 0.21, lxml's tree building and
proxies most of it — a text encoder of the structs and a reparse saved only
a tenth), and the fake ACS's own work, in this same process. Twisted 26's
twisted.web parses each POST's Content-Type with the email package (0.06 ms,
the ACS's and the simulated device's, not the proxier's).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from twisted.internet import defer, task
from twisted.web.client import HTTPConnectionPool
from twisted.web.server import Site
from zope.interface import implementer

from proxier.config import load
from proxier.cwmp import messages as m
from proxier.cwmp.endpoint import CWMPEndpoint
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.settings import EndpointSettings
from proxier.cwmp.tls import makeACSAgent
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.standard import FORCED_INFORM
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.interfaces import IDataModel, IForcedInform
from proxier.store import Store

IDENTITY = DeviceIdentity("Bench", "00D09E", "Bench", "B-1")


@implementer(IDataModel, IForcedInform)
class BenchModel:
    """Fifty parameters held in memory; only what a GetParameterValues session needs."""

    forcedInform = FORCED_INFORM

    def __init__(self) -> None:
        self.values = {f"Device.X_Bench.Param{i}": ParameterValue(f"Device.X_Bench.Param{i}", str(i * 7),
                                                                  "xsd:unsignedInt") for i in range(50)}
        self.values["Device.RootDataModelVersion"] = ParameterValue("Device.RootDataModelVersion", "2.17")

    def supportedMethods(self) -> frozenset:
        return frozenset({"GetParameterValues"})

    def getParameterValues(self, names: list) -> Any:
        try:
            return defer.succeed([self.values[n] for n in names])
        except KeyError as e:
            return defer.fail(CWMPFault(9005, f"no parameter {e.args[0]}"))


def cpuSeconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@defer.inlineCallbacks
def main(reactor: Any, sessions: int, rpcs: int, newConnections: bool) -> Any:
    acs = FakeACS(clock=reactor, validator=None)  # its schema validation is not what is measured
    port = reactor.listenTCP(0, Site(acs), interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}/acs"
    names = tuple(f"Device.X_Bench.Param{i}" for i in range(5))
    acs.script(lambda session, last: m.GetParameterValues(names) if session.sequence < rpcs else None)

    store = Store.open(tempfile.mkdtemp(prefix="proxier-bench-")).child("endpoint-bench")
    acsConfig = dict(load(None)["acs"], url=url, periodic_inform_enable=False)
    settings = EndpointSettings(store.document("management-server"), acsConfig)
    pool = HTTPConnectionPool(reactor, persistent=not newConnections)
    agent = makeACSAgent(reactor, acsConfig, pool=pool)
    endpoint = CWMPEndpoint(IDENTITY, BenchModel(), settings, store, agent=agent, reactor=reactor)
    endpoint.start()

    @defer.inlineCallbacks
    def waitSessions(count: int) -> Any:
        deadline = time.monotonic() + 120
        while not (len(acs.sessions) >= count and acs.sessions[count - 1].ended):
            if time.monotonic() > deadline:
                raise RuntimeError("the session did not end within 120 s")
            yield task.deferLater(reactor, 0.001, lambda: None)

    yield waitSessions(1)  # the bootstrap session (GetRPCMethods, then the script), not measured
    walls, cpus = [], []
    for i in range(sessions):
        wall0, cpu0 = time.perf_counter(), cpuSeconds()
        endpoint.requestSession("6 CONNECTION REQUEST")
        yield waitSessions(i + 2)
        walls.append(time.perf_counter() - wall0)
        cpus.append(cpuSeconds() - cpu0)
        answered = sum(1 for _, r in acs.sessions[i + 1].responses if r is not None and r.name.endswith("Response"))
        if answered != rpcs:
            raise RuntimeError(f"session {i + 1}: {answered} answers, {rpcs} expected")
    yield endpoint.stop()
    yield port.stopListening()
    yield pool.closeCachedConnections()

    exchanges = rpcs + 1  # the Inform and each GetParameterValues
    print(f"CWMP session benchmark: {sessions} sessions x (Inform + {rpcs} GetParameterValues of "
          f"{len(names)} parameters), loopback HTTP, {'new connection per POST' if newConnections else 'keep-alive'}")
    print(f"  Python {sys.version.split()[0]}")
    best = min(walls)
    print(f"  wall per session:   mean {sum(walls) / len(walls) * 1000:.1f} ms, best {best * 1000:.1f} ms")
    print(f"  RPCs per second:    mean {exchanges * len(walls) / sum(walls):.0f}, best {exchanges / best:.0f}")
    print(f"  CPU per session:    mean {sum(cpus) / len(cpus):.3f} s (ACS and CPE together)")


#: The sizes of GetParameterValues the --upnpdm comparison asks.
SIZES = (1, 50)


@defer.inlineCallbacks
def throughProxier(reactor: Any, blocks: int, rounds: int) -> Any:
    """
    The --upnpdm measurement in this process: C{{size: {"acs": [seconds],
    "direct": [seconds]}}}.
    """
    from bench._harness import gpvCases, startWithOneDevice, warningsOnly

    warningsOnly()
    acs = FakeACS(clock=reactor, validator=None)  # its schema validation is not what is measured
    port = reactor.listenTCP(0, Site(acs), interface="127.0.0.1")
    tree, service, fleet = startWithOneDevice(reactor, f"http://127.0.0.1:{port.getHost().port}/acs",
                                              "bench-cwmp-upnpdm-")
    gpv = yield gpvCases(reactor, tree, service, fleet, SIZES)
    endpoint = gpv.endpoint
    who = str(endpoint.identity)

    @defer.inlineCallbacks
    def waitIdle() -> Any:
        deadline = time.monotonic() + 120
        while endpoint.inSession or not all(s.ended for s in acs.sessionsFor(who)):
            if time.monotonic() > deadline:
                raise RuntimeError("the device's session did not end within 120 s")
            yield task.deferLater(reactor, 0.005, lambda: None)

    @defer.inlineCallbacks
    def session(size: int, count: int) -> Any:
        """One session of C{count} GetParameterValues of C{size} names; the exchanges' seconds."""
        names = tuple(gpv.cases[size][0])
        times: list[float] = []
        sent: list[float] = []
        done: defer.Deferred = defer.Deferred()

        def script(_: Any, last: Any) -> Any:
            now = time.perf_counter()
            if sent:
                if not isinstance(last, m.GetParameterValuesResponse) or len(last.parameters) != size:
                    reactor.callLater(0, done.errback, RuntimeError(f"not {size} values: {last!r}"[:200]))
                    return None
                times.append(now - sent.pop())
            if len(times) == count:
                reactor.callLater(0, done.callback, times)
                return None
            sent.append(time.perf_counter())
            return m.GetParameterValues(names)

        yield waitIdle()
        acs.script(script, who)
        endpoint.requestSession("6 CONNECTION REQUEST")
        result = yield done
        yield waitIdle()
        return result

    @defer.inlineCallbacks
    def direct(size: int, count: int) -> Any:
        times = []
        for _ in range(count):
            start = time.perf_counter()
            yield gpv.direct(size)
            times.append(time.perf_counter() - start)
        return times

    results: dict[int, dict[str, list[float]]] = {}
    for size in SIZES:
        yield session(size, 10)  # warm-up: caches, connections
        yield direct(size, 10)
        results[size] = {"acs": [], "direct": []}
        for _ in range(blocks):
            results[size]["acs"].extend((yield session(size, rounds)))
            results[size]["direct"].extend((yield direct(size, rounds)))
    yield fleet.stopService()
    yield tree.stopService()
    yield port.stopListening()
    return results


def measured(code: str, blocks: int, rounds: int) -> dict:
    """
    The --upnpdm figures of the proxier in the checkout C{code}, measured in
    a child process whose C{proxier} package (the simulator included) is
    imported from there, the benchmark's own helpers from this checkout.
    """
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    boot = ("import json, sys\n"
            f"sys.path.insert(0, {os.path.abspath(code)!r})\n"
            "import proxier\n"
            f"sys.path[0] = {here!r}\n"
            "from twisted.internet import task\n"
            "from bench.bench_cwmp_session import throughProxier\n"
            "out = {}\n"
            "def run(reactor):\n"
            f"    return throughProxier(reactor, {blocks}, {rounds}).addCallback(out.update)\n"
            "try:\n"
            "    task.react(run)\n"
            "finally:\n"
            "    print(json.dumps({'proxier': proxier.__file__, 'results': out}))\n")
    done = subprocess.run([sys.executable, "-c", boot], capture_output=True, text=True, timeout=1800,
                          stdin=subprocess.DEVNULL, cwd=here)
    if not done.stdout.strip():
        raise SystemExit(f"the measurement of {code} failed:\n{done.stderr[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    if not answer["results"]:
        raise SystemExit(f"the measurement of {code} failed:\n{done.stderr[-2000:]}")
    return answer


def compare(blocks: int, rounds: int, before: str, repeat: int) -> None:
    """
    Print the --upnpdm figures, of C{before}'s code first when given, then
    of this checkout's; with C{before}, the two take turns C{repeat} times
    (a machine busy with other work slows both alike), their calls pooled.
    """
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs = ([("before", before)] if before else []) + [("after" if before else "this", here)]
    print(f"CWMP end to end: the fake ACS's GetParameterValues to a Virtual CWMP Device (UPnP DM, one simulated "
          f"device) vs the direct CMS GetValues, loopback HTTP; {blocks} blocks x {rounds} calls each"
          + (f", {repeat} turns of each checkout" if before else "") + ", medians "
          f"(Python {sys.version.split()[0]}, Twisted {__import__('twisted').__version__})")
    figures: dict[str, dict[str, dict[str, list[float]]]] = {label: {} for label, _ in runs}
    for turn in range(repeat if before else 1):
        for label, code in runs:
            answer = measured(code, blocks, rounds)
            for size, times in answer["results"].items():
                for kind, values in times.items():
                    figures[label].setdefault(size, {}).setdefault(kind, []).extend(values)
            if turn == 0:
                print(f"  {label}: {os.path.dirname(os.path.dirname(answer['proxier']))}")
    for size in SIZES:
        for label, _ in runs:
            times = figures[label][str(size)]
            acs, direct = (statistics.median(times[k]) * 1000 for k in ("acs", "direct"))
            print(f"  {size:>2} parameter(s), {label:<6}: from the ACS {acs:6.2f} ms   direct CMS {direct:5.2f} ms"
                  f"   ratio {acs / direct:4.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--rpcs", type=int, default=100)
    parser.add_argument("--new-connections", action="store_true")
    parser.add_argument("--upnpdm", action="store_true", help="GPV of 1 and 50 parameters to a Virtual CWMP Device "
                                                              "vs the direct CMS GetValues")
    parser.add_argument("--blocks", type=int, default=5, help="--upnpdm: sessions (at least 5)")
    parser.add_argument("--rounds", type=int, default=40, help="--upnpdm: exchanges per session")
    parser.add_argument("--before", default="", metavar="DIR", help="--upnpdm: measure DIR's code too, first")
    parser.add_argument("--repeat", type=int, default=2, help="--upnpdm with --before: turns of each checkout")
    options = parser.parse_args()
    if options.upnpdm:
        if options.blocks < 5 or options.rounds < 1 or options.repeat < 1:
            parser.error("--blocks: at least 5; --rounds and --repeat: at least 1")
        compare(options.blocks, options.rounds, options.before, options.repeat)
    else:
        task.react(main, (options.sessions, options.rpcs, options.new_connections))
