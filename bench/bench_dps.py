# -*- test-case-name: tests.test_dps_security -*-
"""
Benchmark of DeviceProtection (TR-330 §2.3, §4.8), printing figures:

 (a) the WPS registration protocol, sans-IO: a whole push-button run (M1,
     M2D/ACK, M2 … M8, Done) between the proxier's registrar and a device's
     enrollee, and one group-5 Diffie-Hellman key pair alone;
 (b) one CMS action (GetCurrentConfigurationVersion) over TLS versus plain
     HTTP, against simulated devices on 127.0.0.1, through the control
     point's own client — its pool is not persistent, so every action over
     TLS pays a full handshake (ECDHE, the device's certificate checked
     against its pin, the proxier's client certificate);
 (c) admission: from power-on to "ready" for N DeviceProtection devices (the
     carrier case: Admin at once, GetRolesForAction asked) versus N plain ones;
 (d) generating the proxier's identity (RSA-2048, self-signed).

    PYTHONPATH=. .venv/bin/python bench/bench_dps.py [--rounds 200] [--devices 10]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from typing import Any

from twisted.internet import defer, task

from bench._harness import percentile


def line(label: str, values: list[float], unit: str = "ms") -> None:
    print(f"  {label:<44} median {statistics.median(values):8.2f} {unit}   p95 {percentile(values, 0.95):8.2f} {unit}"
          f"   n={len(values)}")


def benchWPS(rounds: int) -> None:
    from proxier.upnp.dps import wps

    print("(a) WPS registration protocol, sans-IO")
    pairs = []
    for _ in range(rounds):
        start = time.perf_counter()
        wps.KeyPair()
        pairs.append((time.perf_counter() - start) * 1000)
    line("group-5 DH key pair", pairs)
    runs = []
    me, device = wps.DeviceAttributes(uuid=b"\x01" * 16), wps.DeviceAttributes(uuid=b"\x02" * 16, macAddress=b"\x02" * 6)
    for _ in range(max(10, rounds // 10)):
        start = time.perf_counter()
        registrar, enrollee = wps.Registrar(me), wps.Enrollee(device)
        message = enrollee.start()
        while True:
            reply = registrar.receive(message)
            if reply is None:
                break
            message = enrollee.receive(reply)
        assert registrar.succeeded and enrollee.succeeded
        runs.append((time.perf_counter() - start) * 1000)
    line("whole push-button run, both sides", runs)


def benchIdentity() -> None:
    from proxier.upnp.dps.cpidentity import generateSelfSigned

    print("(d) the proxier's identity")
    times = []
    for _ in range(5):
        start = time.perf_counter()
        generateSelfSigned("proxier", 7300, datetime.datetime.now(datetime.timezone.utc))
        times.append((time.perf_counter() - start) * 1000)
    line("RSA-2048 key + self-signed certificate", times)


@defer.inlineCallbacks
def benchNetwork(reactor: Any, rounds: int, count: int) -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from proxier import config as C
    from proxier.sim.dps import makeCertificate, protect
    from proxier.sim.fleet import Fleet, FleetOptions
    from proxier.store import Store
    from proxier.upnp import description as D
    from proxier.upnp.controlpoint import ControlPoint
    from proxier.upnpdm.settings import SECTION

    folder = tempfile.mkdtemp(prefix="bench-dps-")
    ca = makeCertificate("bench operator CA", ca=True)
    certificate, key = makeCertificate("bench proxier", issuer=ca, rsa=True)
    certPath, keyPath = os.path.join(folder, "cp.pem"), os.path.join(folder, "cp.key")
    with open(certPath, "wb") as f:
        f.write(certificate.public_bytes(Encoding.PEM))
    with open(keyPath, "wb") as f:
        f.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    config = C.load(None, [SECTION]).replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
    config = config.replace("upnp", dps_certificate=certPath, dps_private_key=keyPath)
    cp = ControlPoint(config, reactor=reactor, store=Store.open(folder).child("protocol-UPnP-DM"))
    ready: dict[str, float] = {}

    class Observer:
        def deviceReady(self, device: Any) -> None:
            ready.setdefault(device.udn, time.perf_counter())

        def __getattr__(self, name: str) -> Any:
            return lambda *a: None

    cp.addObserver(Observer())
    cp.startService()
    ports = []

    def prepare(index: int, device: Any) -> None:
        if index < count:  # the first half DeviceProtection devices, the rest plain
            ports.append(protect(device, reactor, caRoots=[ca[0]]))

    started = time.perf_counter()
    fleet = Fleet(FleetOptions(count=2 * count, controlPoint=cp.ssdpAddress, prepare=prepare), reactor=reactor)
    fleet.startService()
    udns = [d.udn.lower() for d in fleet.devices]
    deadline = time.time() + 120
    while len([u for u in udns if u in ready]) < len(udns):
        if time.time() > deadline:
            raise SystemExit("devices not ready in time")
        yield task.deferLater(reactor, 0.01, lambda: None)
    print(f"(c) admission, {count} DeviceProtection devices (carrier: Admin at once) and {count} plain ones, "
          "power-on to ready")
    line("DeviceProtection devices", [(ready[u] - started) * 1000 for u in udns[:count]])
    line("plain devices", [(ready[u] - started) * 1000 for u in udns[count:]])

    secure, plain = cp.device(udns[0]), cp.device(udns[count])
    assert secure.security.state == "granted" and plain.security.state == "plain"
    timings: dict[str, list[float]] = {"over TLS (a handshake per action)": [], "plain HTTP": []}
    for index in range(rounds + 10):
        order = [("over TLS (a handshake per action)", secure), ("plain HTTP", plain)]
        if index % 2:
            order.reverse()
        for label, device in order:
            cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
            start = time.perf_counter()
            yield device.callAction(cms, "GetCurrentConfigurationVersion")
            if index >= 10:
                timings[label].append((time.perf_counter() - start) * 1000)
    print("(b) one CMS action (GetCurrentConfigurationVersion) on 127.0.0.1")
    for label, values in timings.items():
        line(label, values)
    ratio = statistics.median(timings["over TLS (a handshake per action)"]) / statistics.median(timings["plain HTTP"])
    print(f"  TLS / plain (medians): {ratio:.1f}x")
    for secureDevice in ports:
        yield secureDevice.stop()
    yield fleet.stopService()
    yield cp.stopService()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--devices", type=int, default=10)
    options = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}")
    benchWPS(options.rounds)
    benchIdentity()
    from twisted.internet import reactor

    result: list[Any] = []

    def done(outcome: Any) -> None:
        result.append(outcome)
        reactor.stop()

    reactor.callWhenRunning(lambda: benchNetwork(reactor, options.rounds, options.devices).addBoth(done))
    reactor.run()
    if result and hasattr(result[0], "raiseException"):
        result[0].printTraceback()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
