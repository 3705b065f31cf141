# -*- test-case-name: tests.test_upnpdm_diag_e2e -*-
"""
Benchmark of TR-330 §4.4, §4.5 and §4.7 in the proxier: what the proxier
adds on top of what the device itself takes.

One process, real loopback HTTP: the proxier's tree (unicast-loopback
SSDP), one simulated UPnP DM device, the fake ACS and a file server.

 - diagnostics: from the end of the session that requested an IPPing to
   the ACS receiving the "8 DIAGNOSTICS COMPLETE" Inform, less the time
   the simulated device spends on the test (its start delay and duration);
 - firmware: from the end of the Download session to the ACS receiving the
   Inform of the TransferComplete, less the device's own start and install delays (no
   reboot);
 - log upload: from the end of the Upload session to the file server
   holding the log, for logs of 64 KiB, 1 MiB and 4 MiB (the cap) —
   throughput over loopback;
 - VendorLogFile reads: GetParameterValues of the table with a refresh
   from the device (GetLogURIs + GetLogInfo per log) and within the
   refresh TTL.

Each request goes in the session that brings the previous one's
completion, as an ACS does (one Connection Request per kind: the endpoint
rate-limits them). Medians of --rounds runs each.

    PYTHONPATH=. .venv/bin/python bench/bench_upnpdm_transfers.py [--rounds 5]
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any, Callable

from twisted.internet import defer, task

from bench._harness import reactWithRounds, startWithOneDevice


@defer.inlineCallbacks
def waitFor(reactor: Any, predicate: Callable[[], bool], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("a step did not finish within its time")
        yield task.deferLater(reactor, 0.005, lambda: None)


@defer.inlineCallbacks
def run(reactor: Any, rounds: int) -> Any:
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    from proxier.cwmp import messages as m
    from proxier.cwmp.fakeacs import FakeACS
    from proxier.datamodel.values import ParameterValue, TransferRequest
    from proxier.sim import firmware as simfirmware

    class Files(Resource):
        isLeaf = True

        def __init__(self) -> None:
            super().__init__()
            self.files: dict[str, bytes] = {}
            self.arrived: dict[str, float] = {}

        def render_GET(self, request: Any) -> bytes:
            return self.files.get(request.path.decode(), b"")

        def render_PUT(self, request: Any) -> bytes:
            path = request.path.decode()
            self.files[path] = request.content.read()
            self.arrived[path] = time.perf_counter()
            request.setResponseCode(201)
            return b""

    acs = FakeACS(clock=reactor, validator=None)  # its schema validation is not what is measured
    acsPort = reactor.listenTCP(0, Site(acs), interface="127.0.0.1")
    files = Files()
    filesPort = reactor.listenTCP(0, Site(files), interface="127.0.0.1")
    filesURL = f"http://127.0.0.1:{filesPort.getHost().port}"
    files.files["/fw.bin"] = simfirmware.makeImage("9.9.9")
    tree, service, fleet = startWithOneDevice(reactor, f"http://127.0.0.1:{acsPort.getHost().port}/acs",
                                              "bench-transfers-")
    sim = fleet.devices[0]
    name = str(sim.identity.deviceIdentity)
    key = sim.identity.deviceIdentity.key
    yield waitFor(reactor, lambda: any(s.ended for s in acs.sessionsFor(name)))
    endpoint = tree.cwmp.manager.endpoints[key]
    device = service.devices[key]

    def sessions() -> list:
        return acs.sessionsFor(name)

    # when each session began (its Inform) and ended, as seen every 2 ms
    times: dict[int, list] = {}

    def watch() -> None:
        now = time.perf_counter()
        for s in sessions():
            entry = times.setdefault(id(s), [now, None])
            if s.ended and entry[1] is None:
                entry[1] = now

    watcher = task.LoopingCall(watch)
    watcher.clock = reactor
    watcher.start(0.002)

    @defer.inlineCallbacks
    def chain(requests: list, code: str, before: Callable[[int], None] = lambda i: None) -> Any:
        """
        Each request in the session that brings the previous one's completion
        event (the first after one Connection Request), as an ACS does; the
        carrying sessions and their completion sessions.
        """
        carried: list = []

        def script(session: Any, last: Any) -> Any:
            if len(carried) == len(requests) or any(c is session for c in carried):
                return None
            if carried and not any(e.code == code for e in session.inform.events):
                return None
            before(len(carried))
            carried.append(session)
            return requests[len(carried) - 1]

        acs.script(script, name)
        username, password = endpoint.connectionRequestCredentials()
        yield acs.connectionRequest(tree.cwmp.server.url(endpoint.connectionRequestPath), username, password)

        def completionOf(index: int) -> Any:
            after = sessions()[sessions().index(carried[index]) + 1:]
            return next((s for s in after if any(e.code == code for e in s.inform.events)), None)

        yield waitFor(reactor, lambda: len(carried) == len(requests) and completionOf(len(requests) - 1) is not None
                      and all(s.ended for s in sessions()))
        yield task.deferLater(reactor, 0.01, lambda: None)
        return [(times[id(carried[i])][1], times[id(completionOf(i))][0]) for i in range(len(requests))]

    print(f"proxier UPnP-DM transfers and diagnostics, one simulated device on loopback, medians of {rounds} "
          f"(Twisted {__import__('twisted').__version__}, Python {sys.version.split()[0]})")

    # -- diagnostics -------------------------------------------------------------------------
    sim.bms.rules.secondsPerStep = 0.01
    ping = "Device.IP.Diagnostics.IPPing."
    request = m.SetParameterValues((ParameterValue(ping + "Host", "example.com"),
                                    ParameterValue(ping + "NumberOfRepetitions", "3", "xsd:unsignedInt"),
                                    ParameterValue(ping + "DiagnosticsState", "Requested")), "b")
    spans = yield chain([request] * rounds, "8 DIAGNOSTICS COMPLETE")
    deviceTime = sim.bms.startDelay + 3 * sim.bms.rules.secondsPerStep
    overheads = [(got - ended - deviceTime) * 1000 for ended, got in spans]
    print(f"  diagnostics: session end → 8 DIAGNOSTICS COMPLETE Inform, less the device's test time: "
          f"{statistics.median(overheads):7.1f} ms")

    # -- firmware ------------------------------------------------------------------------------
    sim.sms.rebootAfterUpdate = False
    sim.sms.startDelay = 0.01
    sim.sms.installDelay = 0.01
    requests = [m.Download(TransferRequest("Download", f"fw{i}", "1 Firmware Upgrade Image", filesURL + "/fw.bin"))
                for i in range(rounds)]
    spans = yield chain(requests, "7 TRANSFER COMPLETE")
    overheads = [(got - ended - sim.sms.startDelay - sim.sms.installDelay) * 1000 for ended, got in spans]
    print(f"  firmware: Download session end → TransferComplete Inform, less the device's delays: "
          f"{statistics.median(overheads):7.1f} ms")

    # -- log uploads -------------------------------------------------------------------------
    log = sim.bms.logs["system"]
    for size in (64 * 1024, 1024 * 1024, 4 * 1024 * 1024 - 4096):
        log.maxSize = size
        log.clear()
        line = "bench line " + "x" * 100
        while log.size < size - 200:
            log.append("Error", line)
        paths = [f"/up/{size}-{i}.log" for i in range(rounds)]
        requests = [m.Upload(TransferRequest("Upload", f"u{i}", "4 Vendor Log File 1", filesURL + p))
                    for i, p in enumerate(paths)]
        spans = yield chain(requests, "7 TRANSFER COMPLETE")
        missing = [p for p in paths if p not in files.arrived]
        if missing:
            faults = [(msg.result.commandKey, msg.result.faultCode, msg.result.faultString) for s in sessions()
                      for msg in s.received if isinstance(msg, m.TransferComplete)]
            raise SystemExit(f"uploads did not arrive: {missing} {faults[-3:]}")
        seconds = statistics.median(files.arrived[p] - ended for p, (ended, _) in zip(paths, spans))
        print(f"  log upload of {log.size / 1024:7.0f} KiB: session end → on the file server {seconds * 1000:7.1f} ms "
              f"({log.size / seconds / 2**20:6.1f} MiB/s)")
    watcher.stop()

    # -- VendorLogFile reads ----------------------------------------------------------------
    model = endpoint.model
    logs = device.management.logs
    fresh, cached = [], []
    for _ in range(max(20, rounds * 10)):
        logs._fresh = float("-inf")
        start = time.perf_counter()
        yield model.getParameterValues(["Device.DeviceInfo.VendorLogFile."])
        fresh.append(time.perf_counter() - start)
        start = time.perf_counter()
        yield model.getParameterValues(["Device.DeviceInfo.VendorLogFile."])
        cached.append(time.perf_counter() - start)
    print(f"  GetParameterValues of VendorLogFile.: refreshed from the device {statistics.median(fresh) * 1000:5.2f} "
          f"ms, within the refresh TTL {statistics.median(cached) * 1000:5.2f} ms")
    yield fleet.stopService()
    yield tree.stopService()
    yield acsPort.stopListening()
    yield filesPort.stopListening()


def main() -> None:
    reactWithRounds(run, __doc__, 5)


if __name__ == "__main__":
    main()
