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

Last measured (issue 19; 2 cores shared with other work, 300 rounds, medians
of the proxied call / the direct one, ratio), .venv (Python 3.11.7, Twisted
26.10) and Debian 12 (Python 3.11.2, Twisted 22.4):

                         1 parameter                 50 parameters
  da53cae (before)       1.46 / 1.18 ms  1.24x       4.25 / 2.01 ms  2.12x
                         1.60 / 1.33 ms  1.21x (D)   4.73 / 2.07 ms  2.28x (D)
  + the fast GPV path    1.54 / 1.34 ms  1.15x       2.97 / 2.07 ms  1.43x
  + keep-alive (b0be297) 1.17 / 0.90 ms  1.30x       2.69 / 1.73 ms  1.55x
                         1.32 / 1.02 ms  1.30x (D)   2.79 / 1.79 ms  1.56x (D)
  (one run; the same in a second run within 0.1x; D: Debian 12)

  41fca40 (before)       1.22 / 0.93 ms  1.31x       2.78 / 1.79 ms  1.56x
                         1.38 / 1.10 ms  1.29x (D)   3.05 / 1.94 ms  1.58x (D)
  + the answer read by   1.18 / 0.90 ms  1.31x       2.51 / 1.74 ms  1.42x
    lxml (cc183e4..)     1.37 / 1.09 ms  1.26x (D)   2.75 / 1.86 ms  1.47x (D)
  (the two checkouts taking turns, 5 runs each: medians of the runs'
  figures; every run's ratio within 0.04x of its median but two of 41fca40
  on Debian 12, 1.38x and 1.73x)

Before, 53 % of the proxier's own time was path handling (each name parsed
five times on its way through two composites, the device's model and the
TR-181 typing; each answered CMS path parsed twice) and a Deferred per name;
now a name is parsed once (bounded caches, datamodel/paths.py) and
translated by a remembered pattern (upnpdm/cmspaths.py), routed
synchronously (upnpdm/cmsrouting.py) and once per composite layer. The
device's answer (upnpdm/cmsxml.py) is read by lxml's own any-namespace
lookups (0.30 -> 0.11 ms for 50 entries, 0.045 of it the hardened parse,
xmlsafe.py, which stays), the request's ContentPathList written as text
(upnp/cmsdoc.py: 0.05 -> 0.004 ms).

What is left, for 50 names, as the proxier's own code costs with the
device's answer handed back at once (a loop of calls, caches hot): 0.53 ms
in all — typing the 50 values (upnpdm/cmsvalues.py, datamodel/standard.py:
TR-181 type lookup, parse, check, format) 0.12, the two composite layers
(datamodel/composite.py) 0.12, routing and translating the names both ways
(upnpdm/cmsrouting.py, cmspaths.py) 0.12, reading the answer 0.10, the
gate 0.006 and the Deferreds of the model; for 1 name 0.09 ms (the
composites 0.03, the model 0.06). In this benchmark the proxied call costs
0.28 ms more than the direct one for 1 name, three times what the loop
measures: the same code, run between the device's and the HTTP work of
the same process (cold caches; not measured apart).
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
