# -*- test-case-name: tests.test_cwmp_endpoint -*-
"""
Benchmark of one CWMP session: an Inform, then 100 GetParameterValues round
trips asked by the fake ACS, over real loopback HTTP (ACS and CPE in this one
process, so the CPU figure covers both sides). Prints RPCs per second and CPU
seconds per session.

    PYTHONPATH=. .venv/bin/python bench/bench_cwmp_session.py [--sessions N] [--rpcs N] [--new-connections]
"""

from __future__ import annotations

import argparse
import resource
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--rpcs", type=int, default=100)
    parser.add_argument("--new-connections", action="store_true")
    options = parser.parse_args()
    task.react(main, (options.sessions, options.rpcs, options.new_connections))
