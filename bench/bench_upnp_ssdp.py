"""
Benchmarks of the UPnP control point (prints figures; asserts nothing).

 1. SSDP datagrams parsed per second (the sans-IO codec), per kind of
    datagram, and through the whole receive path of a known device (socket
    protocol → on-link check → parse → tracker refresh).
 2. Time from alive to "device ready" (description and SCPDs fetched, every
    evented DM service subscribed) for 1, 10 and 100 devices on loopback, in
    unicast-loopback mode: the project's simulated devices (proxier.sim) by
    default, or a minimal harness of the tests' (--harness fake).

Everything runs on 127.0.0.1; no packet leaves the host.

    PYTHONPATH=. .venv/bin/python bench/bench_upnp_ssdp.py [--counts 1,10,100] [--harness sim|fake]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet import defer, task  # noqa: E402

from proxier.upnp import ssdp  # noqa: E402

UDN = "uuid:4d696e69-444c-164e-9d41-000c29f0a1b2"
CMS2 = "urn:schemas-upnp-org:service:ConfigurationManagement:2"
SAMPLES = {
    "alive (GUPnP-like)": ssdp.Notify(
        nts=ssdp.ALIVE, nt=CMS2, usn=f"{UDN}::{CMS2}", location="http://10.251.0.2:41597/desc.xml", maxAge=1800,
        server="Linux/6.1 UPnP/1.1 GUPnP/1.6.3", bootId=7, configId=2).toBytes(),
    "search answer (miniupnpd-like)": (
        b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:service:DeviceProtection:1\r\n"
        b"USN: uuid:9f0865b3-f5da-4ad5-85b7-7404637fdf37::urn:schemas-upnp-org:service:DeviceProtection:1\r\n"
        b"EXT:\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\nLOCATION: http://10.251.1.2:5000/rootDesc.xml\r\n"
        b"OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n01-NLS: 1\r\nBOOTID.UPNP.ORG: 1\r\n"
        b"CONFIGID.UPNP.ORG: 1337\r\n\r\n"),
    "byebye with announcement": ssdp.Notify(
        nts=ssdp.BYEBYE, nt="upnp:rootdevice", usn=f"{UDN}::upnp:rootdevice", bootId=7, configId=2,
        announcement=ssdp.ABOUT_TO_REBOOT).toBytes(),
    "sloppy alive (HTTP/1.0, no CACHE-CONTROL, garbage)": (
        b"NOTIFY * HTTP/1.0\r\nhost: 239.255.255.250:1900\r\nlOcAtIoN: http://10.0.0.2:80/d.xml\r\n"
        b"nt: upnp:rootdevice\r\nNts: ssdp:alive\r\nusn: " + UDN.encode() + b"::upnp:rootdevice\r\n\r\ngarbage\x00"),
}


def rate(function, *args, seconds: float = 1.0) -> float:
    """Calls per second of function(*args), measured for about C{seconds}."""
    count, batch = 0, 1000
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            function(*args)
        count += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def benchParse() -> None:
    print("SSDP parsing (proxier.upnp.ssdp.parse), datagrams per second:")
    for name, data in SAMPLES.items():
        print(f"  {name:<52} {rate(ssdp.parse, data):>10,.0f}   ({len(data)} bytes)")
    mixed = list(SAMPLES.values())

    def parseAll() -> None:
        for data in mixed:
            ssdp.parse(data)

    print(f"  {'mixed (the four above in turn)':<52} {rate(parseAll) * len(mixed):>10,.0f}")


def benchReceivePath() -> None:
    """A known device re-announcing: the full receive path, no I/O."""
    import ipaddress

    from proxier.upnp.discovery import SSDPSocket
    from proxier.upnp.fetcher import DeviceInfo
    from proxier.lan.netif import NetworkInterface
    from proxier.log import RateLimitedLog
    from proxier.upnp.tracker import DeviceTracker
    from proxier.lan.urlpolicy import Origin
    from tests.test_upnp_fakes import dmDescription
    from twisted.logger import Logger

    clock = task.Clock()
    lan = NetworkInterface("br-lan", 5, addresses=(ipaddress.ip_interface("192.168.1.1/24"),))

    class Quiet:
        def __getattr__(self, name):  # noqa: ANN001, ANN204
            return lambda *a, **k: None

    udn = "uuid:0badcafe-0000-4000-8000-000000000001"

    def fetch(location: str, origin: Origin) -> defer.Deferred:
        return defer.succeed(DeviceInfo(dmDescription(udn=udn), origin))

    tracker = DeviceTracker(fetch, Quiet(), clock)
    stats = {k: 0 for k in ("received", "off-link", "malformed", "parsed", "searches", "sent", "send-errors")}
    sock = SSDPSocket("bench", tracker.received, lambda host: Origin(host, lan) if lan.isOnLink(host) else None,
                      stats, RateLimitedLog(clock, Logger()))
    datagram = ssdp.Notify(nts=ssdp.ALIVE, nt=CMS2, usn=f"{udn}::{CMS2}",
                           location="http://192.168.1.20:49152/desc.xml", maxAge=1800, bootId=1, configId=1).toBytes()
    sock.datagramReceived(datagram, ("192.168.1.20", 1900))
    assert tracker.get(udn) is not None and tracker.get(udn).state == "ready"
    print("Receive path of a known device's alive (on-link check, parse, tracker refresh):")
    print(f"  {'datagrams per second':<52} {rate(sock.datagramReceived, datagram, ('192.168.1.20', 1900)):>10,.0f}")
    offlink = ("10.9.9.9", 1900)
    print(f"  {'off-link datagrams dropped per second':<52} {rate(sock.datagramReceived, datagram, offlink):>10,.0f}")


class Observer:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.times: dict[str, float] = {}
        self.start = 0.0
        self.done: defer.Deferred = defer.Deferred()

    def deviceReady(self, device) -> None:  # noqa: ANN001
        self.times.setdefault(device.udn, time.perf_counter() - self.start)
        if len(self.times) == self.expected and not self.done.called:
            self.done.callback(None)

    def __getattr__(self, name):  # noqa: ANN001, ANN204
        return lambda *a, **k: None


@defer.inlineCallbacks
def benchReady(reactor, counts: list[int], harness: str):  # noqa: ANN001, ANN201
    from proxier import config as C
    from proxier.upnp.controlpoint import ControlPoint
    from proxier.upnp.settings import SECTION

    print(f"Alive → device ready (described, SCPDs fetched, DM services subscribed), harness: {harness}:")
    print(f"  {'devices':>7} {'all ready (s)':>14} {'median (s)':>11} {'p95 (s)':>9} {'fetches':>8} {'waited':>7}")
    for count in counts:
        config = C.load(None, [SECTION]).replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0,
                                                 max_devices=max(256, count))
        cp = ControlPoint(config, reactor=reactor)
        observer = Observer(count)
        cp.addObserver(observer)
        cp.startService()
        stops = []
        observer.start = time.perf_counter()
        if harness == "sim":
            from proxier.sim.fleet import Fleet, FleetOptions

            fleet = Fleet(FleetOptions(count=count, controlPoint=cp.ssdpAddress), reactor=reactor)
            fleet.startService()
            stops.append(fleet.stopService)
        else:
            from treq.client import HTTPClient
            from twisted.web.client import Agent, HTTPConnectionPool

            from tests.test_upnp_fakes import LoopbackDevice

            http = HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))
            devices = [LoopbackDevice(reactor, http, index) for index in range(count)]
            for device in devices:
                device.start()
            observer.start = time.perf_counter()
            for device in devices:
                device.announce(cp.ssdpAddress)
            stops.extend(lambda d=d: defer.DeferredList([x for x in d.stop() if x is not None]) for d in devices)
        try:
            yield observer.done.addTimeout(120, reactor)
            times = sorted(observer.times.values())
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(f"  {count:>7} {times[-1]:>14.3f} {statistics.median(times):>11.3f} {p95:>9.3f} "
                  f"{cp.tracker.counts['fetches']:>8} {cp.tracker.counts['waited']:>7}")
        except defer.TimeoutError:
            print(f"  {count:>7}  not all ready within 120 s: {len(observer.times)} ready")
        yield cp.stopService()
        for stop in stops:
            yield stop()
        yield task.deferLater(reactor, 0.5, lambda: None)


def main(reactor, options):  # noqa: ANN001, ANN201
    import twisted

    print(f"Python {platform.python_version()}, Twisted {twisted.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    if not options.skip_parse:
        benchParse()
        benchReceivePath()
    return benchReady(reactor, options.counts, options.harness)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1,10,100", type=lambda v: [int(x) for x in v.split(",")])
    parser.add_argument("--harness", choices=("sim", "fake"), default=None)
    parser.add_argument("--skip-parse", action="store_true")
    options = parser.parse_args()
    if options.harness is None:
        try:
            import proxier.sim.fleet  # noqa: F401

            options.harness = "sim"
        except ImportError:
            options.harness = "fake"
    task.react(main, (options,))
