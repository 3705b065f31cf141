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
out of the listing). C{--own N} also measures the proxier's own CPU time
a call, N calls in a loop with the device's answer handed back at once;
C{--phases N}, where the time of N calls each goes, step by step, and
whether both send the same request on the same connection.

    PYTHONPATH=. .venv/bin/python bench/bench_upnpdm_gpv.py [--rounds 300] [--profile FILE] [--own 300] \\
        [--phases 300]

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

  c6a2dce (before)       0.96 / 0.77 ms  1.24x       2.34 / 1.63 ms  1.43x
                         1.01 / 0.79 ms  1.25x (D)   2.29 / 1.60 ms  1.43x (D)
  + a name routed once,  0.90 / 0.75 ms  1.17x       2.06 / 1.61 ms  1.27x
    texts typed once     0.93 / 0.76 ms  1.21x (D)   2.00 / 1.57 ms  1.29x (D)
    (c3cc43b..)
  (the two checkouts taking turns, 3 runs each: medians of the runs'
  figures; every run's ratio within 0.05x of its median)

  1279796 (before)       0.92 / 0.78 ms  1.18x       2.01 / 1.61 ms  1.25x
                         0.88 / 0.72 ms  1.24x (D)   1.94 / 1.52 ms  1.28x (D)
  + an answer's entry    0.91 / 0.77 ms  1.18x       2.02 / 1.58 ms  1.25x
    read in one pass     0.88 / 0.73 ms  1.22x (D)   1.96 / 1.55 ms  1.27x (D)
    (7ec93bd)
  (as above, 3 runs each, while other work shared the cores; every run's
  ratio within 0.03x of its median; the own time for 50 names 0.29 ->
  0.27 ms, 0.30 -> 0.26 on Debian 12, no change the wall clock shows)

  a2e98f1 (before)       1.23 / 1.06 ms  1.16x       2.60 / 2.10 ms  1.25x
                         1.22 / 1.02 ms  1.20x (D)   2.46 / 1.93 ms  1.27x (D)
  + remembered plans,    1.13 / 1.00 ms  1.12x       2.32 / 2.00 ms  1.16x
    typing in one pass,  1.02 / 0.89 ms  1.15x (D)   2.12 / 1.79 ms  1.18x (D)
    plain answers read
    off their text (bac0953..)
  (the two checkouts taking turns, 4 runs each, under a load of 2-3 on the
  two cores: medians of the runs' figures; every run's ratio within 0.03x
  of its median; the own time, 1 and 50 names, 0.071 -> 0.051 and 0.35 ->
  0.19 ms, Debian 12 0.082 -> 0.057 and 0.34 -> 0.19)

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

Then (c3cc43b..): a composite asked parameters of one mount (the usual
request) routes and checks each by one look-up in routes shared by every
composite of its layout, and keeps the answer by one set of the names
asked; the device's model routes the names in one synchronous pass, reads
the answer by callbacks (a Deferred a request, not a generator and a
Deferred per step), answers a parameter under the name asked (no
translation back), asks the extra proxier-held sources
(VendorLogFileNumberOfEntries) nothing when no name touches them (it asked
their values twice a request); what a device's text comes to is remembered
by CMS Type, TR-181 parameter and text, shared by every device.

The proxier's own CPU time a call (C{--own}: the device's answer handed
back at once, caches hot), before -> after: 1 name 0.079 -> 0.047 ms, 50
names 0.52 -> 0.30 ms (Debian 12: 0.100 -> 0.057, 0.51 -> 0.28). Of the
0.30 ms left for 50 names, reading the device's answer (upnpdm/cmsxml.py:
the hardened parse 0.04, the walk 0.06) is about 0.11, routing and
translating the names 0.05, typing 0.04 (the device's Type and TR-181's
looked up per value, then one dict look-up), the two composites 0.03, the
rest the model's answer and Deferreds.

Where the wall clock's gap goes (C{--phases}: each step's time from the
call's start, medians; 50 names, .venv, 1279796): both calls put the same
bytes on the same keep-alive connection in one write, and take the same
four reactor turns (the gate sends at once, in the caller's turn: no
callLater(0), no Deferred hop, no second write for Nagle or delayed ACK to
hold). The proxied call is 0.12 ms before its callAction (routing, the two
composites, the gate) and 0.28 ms after callAction's answer (reading and
typing the answer, the composites): 0.40 ms of the proxier's own code
against 0.29 in the C{--own} loop, the same code run cold between the
HTTP work and the device's (the loop runs it hot). The rest, ~0.05 ms:
the request, handed to the connection, leaves at the next reactor turn,
0.02 ms later than the direct one's (the proxied call's Deferreds are
returned through the gate, the model and the composites first), and the
simulated device, in this process, takes 0.02-0.04 ms longer over the same
request after the proxier's code than after the direct call (its caches
too). So the whole gap is the proxier's own work, and 1.2x for 50 names
needs ~0.1 ms less of it in the wall clock; the answer's walk is now 0.035
ms for 50 entries, and what is left is spread (routing 0.05, typing 0.04,
the composites 0.03, the hardened parse 0.04, which stays).

Then (bac0953..): what is the same for every request of the same names is
remembered rather than made again — a parameter's CMS pieces once checked
and translated (upnpdm/cmspaths.Translator.parameters), the plan of a
request's names with the instance look-ups it took, valid for any device of
the model that numbers those instances alike (upnpdm/cmsrouting), the one
mount of a request's names (datamodel/composite), the value a text of a
parameter comes to (upnpdm/cmsvalues) — each bounded; the values are typed
in one pass; the device's answer, once the hardened parse has accepted it,
is read off its text by one regular expression when it holds nothing but
plain entries (upnpdm/cmsxml: every '<' accounted for, else the walk as
before); the parser is one a thread, and its screening skips the searches
a document without '!' or '&' cannot need (xmlsafe). Routing 50 names is
now ~4 us, reading the answer ~0.07 ms (0.035 of it libxml2's parse),
typing ~0.02; the proxied call is ~0.07 ms before its callAction and ~0.23
after its answer in the wall clock (--phases, under load).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from typing import Any

from twisted.internet import defer, task

from bench._harness import gpvCases, percentile, profiled, startWithOneDevice


@defer.inlineCallbacks
def run(reactor: Any, rounds: int, profile: str, own: int, phases: int) -> Any:
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
    if phases:
        yield phaseTimes(proxied, direct, phases)
    if own:
        yield ownTime(service.devices[gpv.key].model, proxied, own)
    if profile:
        yield profiled(lambda: proxied(50), rounds, profile, within="proxier/(?!sim/)")
    yield fleet.stopService()
    yield tree.stopService()
    yield port.stopListening()


@defer.inlineCallbacks
def phaseTimes(proxied: Any, direct: Any, calls: int) -> Any:
    """
    Where a call's time goes, proxied and direct taking turns (C{calls}
    each): the median time from its start to each step — the control
    point's callAction, the request handed to the HTTP connection, the first
    reactor turn, the device's server reading the request and finishing its
    answer, the answer's first bytes, callAction's answer, the end — and
    whether both put the same bytes on the same connection. The steps are
    marked by wrapping those methods on their classes for the pass.
    """
    from twisted.internet import reactor
    from twisted.web import _newclient, http

    from proxier.upnp.controlpoint import UPnPDevice

    marks: list[tuple[str, float]] = []
    requests: dict[str, Counter] = {"proxied": Counter(), "direct": Counter()}
    seen: list[tuple[int, bytes]] = []
    current = [""]

    def marking(cls: Any, method: str, step: str, after: Any = None) -> tuple[Any, str, Any]:
        original = getattr(cls, method)

        def wrapper(self: Any, *a: Any, **k: Any) -> Any:
            marks.append((step, time.perf_counter()))
            result = original(self, *a, **k)
            return after(self, a, result) if after is not None else result

        setattr(cls, method, wrapper)
        return cls, method, original

    def answered(self: Any, a: Any, d: defer.Deferred) -> defer.Deferred:
        return d.addBoth(lambda result: (marks.append(("answered", time.perf_counter())), result)[1])

    def received(self: Any, a: Any, result: Any) -> Any:
        if b"#GetValues" in a[0]:  # not the ACS's or the callback server's (same class)
            seen.append((self.transport.getPeer().port, a[0]))
        return result

    patched = [marking(UPnPDevice, "callAction", "callAction", answered),
               marking(_newclient.HTTP11ClientProtocol, "request", "request written"),
               marking(_newclient.HTTP11ClientProtocol, "dataReceived", "answer's first bytes"),
               marking(type(reactor), "runUntilCurrent", "reactor turn"),
               marking(http.HTTPChannel, "dataReceived", "device read", received),
               marking(http.Request, "finish", "device answered")]
    try:
        for size in (1, 50):
            steps: dict[str, dict[str, list[float]]] = {"proxied": {}, "direct": {}}
            turns: dict[str, list[int]] = {"proxied": [], "direct": []}
            for name in requests:
                requests[name].clear()
            for index in range(calls):
                for name, call in ((("proxied", proxied), ("direct", direct)) if index % 2 else
                                   (("direct", direct), ("proxied", proxied))):
                    current[0] = name
                    del marks[:], seen[:]
                    start = time.perf_counter()
                    yield call(size)
                    marks.append(("end", time.perf_counter()))
                    requests[name][tuple(seen)] += 1
                    turns[name].append(sum(1 for step, _ in marks if step == "reactor turn"))
                    first: dict[str, float] = {}
                    for step, at in marks:
                        first.setdefault(step, at)
                    for step, at in first.items():
                        steps[name].setdefault(step, []).append((at - start) * 1000)
            for name, found in steps.items():
                ordered = sorted((statistics.median(v), step) for step, v in found.items())
                print(f"  {size:>2} parameter(s), {name:>7}: " + ", ".join(f"{step} {at:.3f}" for at, step in ordered)
                      + f" ms; reactor turns {statistics.median(turns[name]):g}")
            (proxiedRequest, proxiedCount), = requests["proxied"].most_common(1)
            (directRequest, directCount), = requests["direct"].most_common(1)
            print(f"  {size:>2} parameter(s): the same request (bytes, connection, writes) most often: "
                  f"{proxiedRequest == directRequest} ({proxiedCount} and {directCount} of {calls} calls)")
    finally:
        for cls, method, original in patched:
            setattr(cls, method, original)


@defer.inlineCallbacks
def ownTime(cmsModel: Any, proxied: Any, calls: int) -> Any:
    """
    The proxier's own CPU time per proxied call, the device's GetValues
    answered at once with what it answered before (the gate, HTTP and the
    device left out; caches hot): C{calls} calls in a loop, the median of 7
    such loops.
    """
    real = cmsModel.cms
    answers: dict = {}

    def remembered(action: str, **arguments: object) -> defer.Deferred:
        key = (action, arguments.get("Parameters"))
        if key in answers:
            return defer.succeed(answers[key])
        return real(action, **arguments).addCallback(lambda answer: answers.setdefault(key, answer))

    cmsModel.cms = remembered
    try:
        for size in (1, 50):
            for _ in range(3):
                yield proxied(size)
            loops = []
            for _ in range(7):
                start = time.process_time()
                for _ in range(calls):
                    proxied(size)
                loops.append((time.process_time() - start) / calls * 1000)
            print(f"  {size:>2} parameter(s): the proxier's own time {statistics.median(loops):.3f} ms a call "
                  f"(CPU, the device's answer handed back at once, {calls} calls x 7)")
    finally:
        del cmsModel.cms


def main() -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--profile", default="", metavar="FILE", help="cProfile an extra pass of proxied calls")
    parser.add_argument("--own", type=int, default=0, metavar="N",
                        help="also the proxier's own time: N calls with the device's answer handed back at once")
    parser.add_argument("--phases", type=int, default=0, metavar="N",
                        help="also where a call's time goes, step by step (N calls each, proxied and direct)")
    arguments = parser.parse_args()
    task.react(run, (arguments.rounds, os.path.abspath(arguments.profile) if arguments.profile else "", arguments.own,
                     arguments.phases))


if __name__ == "__main__":
    main()
