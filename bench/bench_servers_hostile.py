# -*- test-case-name: tests.test_httpguard,tests.test_cwmp_connreq -*-
"""
The proxier's HTTP servers under hostile clients (issue 11): figures, not
verdicts.

1. Slowloris over real loopback sockets: C{--attackers} clients trickle a
   request head to the Connection Request server (one byte per client every
   C{--pace} s; a closed one connects again on its next tick, as
   slowloris.py does, or at once with C{--churn}) while an ACS on 127.0.0.1
   asks for a session every 0.25 s the way GenieACS does (challenge, then
   Digest, 2 s to answer). Three rounds: the attackers on one other address
   (127.0.0.2), spread over C{--attackers} addresses (127.0.0.2 on), and on
   the ACS's own address. Prints how many Connection Requests were
   answered 200, their latency, and what the guard did.
2. Wrong credentials, in process on fake transports: requests per second
   and CPU for C{--bad} challenge + wrong-answer pairs, and what is kept.
3. A 100 MB body, chunked, against both servers on fake transports: bytes
   read before the 413, and the peak of Python allocations meanwhile.

    PYTHONPATH=. .venv/bin/python bench/bench_servers_hostile.py [--attackers N] [--seconds S] [--bad N]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from typing import Any

sys.path.insert(0, ".")

from twisted.internet import defer, task  # noqa: E402
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol  # noqa: E402
from twisted.internet.protocol import Protocol  # noqa: E402
from twisted.logger import Logger  # noqa: E402
from twisted.web.client import Agent, HTTPConnectionPool  # noqa: E402

from bench._harness import percentile  # noqa: E402
from proxier.cwmp.connreq import ConnectionRequestServer  # noqa: E402
from proxier.httpauth import DigestClient, parseChallenges  # noqa: E402
from proxier.cwmp.fakeacs import connectionRequest  # noqa: E402
from proxier.upnp.eventing import CallbackServer  # noqa: E402
from tests._fakehttp import FakeConnection, header, status  # noqa: E402

PATH = b"/AbCdEfGhIjKlMnOpQrStUvWx01"


class Target:
    connectionRequestPath = PATH
    online = True
    inSession = False
    log = Logger()

    def __init__(self) -> None:
        self.requests = 0

    def connectionRequestCredentials(self) -> tuple[str, str]:
        return "acs", "pw"

    def connectionRequested(self) -> bool:
        self.requests += 1
        return True


@defer.inlineCallbacks
def slowloris(reactor: Any, attackers: int, seconds: float, pace: float, addresses: list[str],
              churn: bool) -> Any:
    server = ConnectionRequestServer(reactor=reactor, listenAddress="127.0.0.1", port=0, rateLimit=0)
    target = Target()
    server.register(target)
    server.startListening()
    endpoints = [TCP4ClientEndpoint(reactor, "127.0.0.1", server.port, timeout=5, bindAddress=(address, 0))
                 for address in addresses]
    head = b"GET " + PATH + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 1_000_000
    clients: list[Any] = []
    state = {"running": True, "connects": 0}

    class Slow(Protocol):
        sent = 0

        def __init__(self, index: int) -> None:
            self.index = index

        def connectionMade(self) -> None:
            if not state["running"]:
                self.transport.abortConnection()
                return
            clients.append(self)
            send(self)  # as slowloris.py: the request begins at once, then trickles

        def connectionLost(self, reason: Any = None) -> None:
            if self in clients:
                clients.remove(self)
                if state["running"]:
                    if churn:
                        connect(self.index)
                    else:
                        reactor.callLater(pace, connect, self.index)

    def connect(index: int) -> None:
        if not state["running"]:
            return
        state["connects"] += 1
        connectProtocol(endpoints[index % len(endpoints)], Slow(index)).addErrback(lambda _: None)

    def send(client: Any) -> None:
        client.transport.write(head[client.sent:client.sent + 1])
        client.sent += 1

    def tick() -> None:
        for client in list(clients):
            send(client)

    for index in range(attackers):
        connect(index)
    ticker = task.LoopingCall(tick)
    ticker.start(pace, now=False)
    yield task.deferLater(reactor, 1.0, lambda: None)  # the attack settles in
    agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
    latencies: list[float] = []
    codes: dict[Any, int] = {}
    asks = []
    end = reactor.seconds() + seconds
    while reactor.seconds() < end:
        started = time.monotonic()

        def done(code: Any, started: float = started) -> None:
            latencies.append(time.monotonic() - started)
            codes[code] = codes.get(code, 0) + 1

        def failed(f: Any) -> None:
            codes[f.type.__name__] = codes.get(f.type.__name__, 0) + 1

        asks.append(connectionRequest(server.url(PATH), "acs", "pw", agent=agent, clock=reactor, timeout=2.0)
                    .addCallbacks(done, failed))
        yield task.deferLater(reactor, 0.25, lambda: None)
    yield defer.DeferredList(asks)
    state["running"] = False
    ticker.stop()
    for client in list(clients):
        client.transport.abortConnection()
    yield task.deferLater(reactor, 0.5, lambda: None)
    yield server.stopListening()
    served = codes.get(200, 0)
    where = addresses[0] if len(addresses) == 1 else f"{len(addresses)} addresses"
    print(f"slowloris from {where}: {attackers} clients, one byte each every {pace:g} s, reconnecting "
          f"{'at once' if churn else 'on their next tick'}; {state['connects']} connections in {seconds + 1:g} s")
    print(f"  Connection Requests answered 200: {served} of {len(asks)}; other outcomes: "
          f"{ {k: v for k, v in codes.items() if k != 200} }")
    if latencies:
        print(f"  latency (challenge + Digest, two connections): median {percentile(latencies, 0.5) * 1000:.1f} ms, "
              f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    print(f"  guard: {server.site.counts}")


def badCredentials(count: int) -> None:
    clock = task.Clock()
    clock.advance(1_700_000_000)
    server = ConnectionRequestServer(reactor=clock, port=0)
    target = Target()
    server.register(target)
    path = PATH.decode()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = cpu.ru_utime + cpu.ru_stime
    wall = time.monotonic()
    codes: dict[int, int] = {}
    client = None
    for i in range(count):
        if i % 100 == 0:
            if client is not None:
                client.finish()
            client = FakeConnection(server.site, f"203.0.113.{i // 100 % 250 + 1}")
        challenge = parseChallenges([header(client.request("GET", path), "WWW-Authenticate") or ""])[0]
        auth = DigestClient("acs", f"guess{i}", challenge).authorization("GET", path)
        code = status(client.request("GET", path, {"Authorization": auth}))
        codes[code] = codes.get(code, 0) + 1
    client.finish()
    wall = time.monotonic() - wall
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"wrong credentials: {count} challenge + answer pairs ({2 * count} requests) in {wall:.2f} s, "
          f"{2 * count / wall:.0f} requests/s, {(cpu.ru_utime + cpu.ru_stime - cpu0) / count * 1e6:.0f} µs CPU "
          f"per pair")
    print(f"  answers: {codes}; sessions asked {target.requests}; used nonces held {server.digest.usedNonces}; "
          f"connections counted {server.site.openConnections}")


def hugeBody() -> None:
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    for name, site, path in (
        ("Connection Request server", ConnectionRequestServer(reactor=task.Clock(), port=0).site, PATH),
        ("GENA callback server", CallbackServer(task.Clock(), lambda *a, **k: None).site, b"/gena/x"),
    ):
        tracemalloc.start()
        client = FakeConnection(site, "203.0.113.9")
        client.send(b"NOTIFY " + path + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        sent = 0
        while not client.closing and sent < 100 * 2**20:
            client.send(chunk)
            sent += 0x10000
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"100 MB chunked body to the {name}: cut off after {sent} bytes with HTTP "
              f"{status(client.received())}; Python allocation peak {peak / 1024:.0f} KiB")
        client = FakeConnection(site, "203.0.113.9")
        client.send(b"NOTIFY " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
        print(f"  declared 100 MB: HTTP {status(client.received())} after the head, closing={client.closing}")


@defer.inlineCallbacks
def main(reactor: Any, options: argparse.Namespace) -> Any:
    badCredentials(options.bad)
    hugeBody()
    n = options.attackers
    for addresses in (["127.0.0.2"], [f"127.0.{(i + 2) // 250}.{(i + 2) % 250 + 1}" for i in range(n)],
                      ["127.0.0.1"]):
        yield slowloris(reactor, n, options.seconds, options.pace, addresses, options.churn)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attackers", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--churn", action="store_true")
    parser.add_argument("--bad", type=int, default=10_000)
    task.react(main, (parser.parse_args(),))
