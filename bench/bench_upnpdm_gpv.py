# -*- test-case-name: tests.test_upnpdm_e2e -*-
"""
Benchmark (a) of the TR-330 proxy module: a proxied GetParameterValues of 1
and of 50 parameters versus the same CMS GetValues sent straight to the
simulated device, measured side by side in one run.

One process, real loopback HTTP: the proxier's service tree with the
UPnP-DM plugin (unicast-loopback SSDP), one simulated device, a fake ACS.
"Proxied" is the Virtual CWMP Device's whole model as its CWMP endpoint
calls it (the composite with the proxier-held objects, path and instance
translation, the device's action gate, one CMS GetValues, typing of every
value); "direct" is the control point's own C{callAction} of GetValues with
the same CMS paths, its answer left as it comes; "direct+parse" also reads
the answer's ParameterValueList (what any use of it needs). They take
turns call by call (the order rotating), after a warm-up; the figures are
medians, and the ratio is proxied over direct. C{--profile FILE} profiles
(cProfile) an extra pass of proxied calls of 50 parameters and prints where
the proxier's own time goes (the simulated device, in this process too, left
out of the listing).

    PYTHONPATH=. .venv/bin/python bench/bench_upnpdm_gpv.py [--rounds 300] [--profile FILE]
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from twisted.internet import defer, task

from bench._harness import gpvCases, percentile, profiled, startWithOneDevice


@defer.inlineCallbacks
def run(reactor: Any, rounds: int, profile: str) -> Any:
    from twisted.web.server import Site

    from proxier.cwmp.fakeacs import FakeACS
    from proxier.upnpdm import cmsxml

    acs = FakeACS(clock=reactor, validator=None)  # its schema validation is not what is measured
    port = reactor.listenTCP(0, Site(acs), interface="127.0.0.1")
    tree, service, fleet = startWithOneDevice(reactor, f"http://127.0.0.1:{port.getHost().port}/acs", "bench-upnpdm-")
    gpv = yield gpvCases(reactor, tree, service, fleet)
    model = gpv.endpoint.model

    def proxied(size: int) -> defer.Deferred:
        return model.getParameterValues(gpv.cases[size][0])

    direct = gpv.direct

    def directParsed(size: int) -> defer.Deferred:
        return direct(size).addCallback(lambda answer: cmsxml.parseParameterValueList(answer["ParameterValueList"]))

    print(f"proxier UPnP-DM: proxied GetParameterValues vs direct CMS GetValues, one simulated device on loopback, "
          f"{rounds} rounds each (Twisted {__import__('twisted').__version__}, Python {sys.version.split()[0]})")
    for size in (1, 50):
        for _ in range(20):  # warm-up: attribute caches, connections
            answer = yield proxied(size)
            assert len(answer) == size, (size, len(answer))
            yield direct(size)
        times: dict[str, list[float]] = {"proxied": [], "direct": [], "direct+parse": []}
        calls = [("proxied", proxied), ("direct", direct), ("direct+parse", directParsed)]
        for index in range(rounds):
            order = calls[index % 3:] + calls[:index % 3]
            for name, call in order:
                start = time.perf_counter()
                yield call(size)
                times[name].append(time.perf_counter() - start)
        medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
        p90 = {name: percentile(values, 0.9) * 1000 for name, values in times.items()}
        print(f"  {size:>2} parameter(s): " + "   ".join(
            f"{name} {medians[name]:5.2f} ms (p90 {p90[name]:5.2f})" for name in times)
            + f"   ratio of medians proxied/direct {medians['proxied'] / medians['direct']:4.2f}"
            f", proxied/direct+parse {medians['proxied'] / medians['direct+parse']:4.2f}")
    if profile:
        yield profiled(lambda: proxied(50), rounds, profile, within="proxier/(?!sim/)")
    yield fleet.stopService()
    yield tree.stopService()
    yield port.stopListening()


def main() -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--profile", default="", metavar="FILE", help="cProfile an extra pass of proxied calls")
    arguments = parser.parse_args()
    task.react(run, (arguments.rounds, os.path.abspath(arguments.profile) if arguments.profile else ""))


if __name__ == "__main__":
    main()
