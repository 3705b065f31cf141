"""
The network lab of the interop tests, built inside the test run's own
isolated namespace (tests/netns/isolation.py checked that first):

    test namespace (control point)            device namespace pxt-<pid>-<n>
      vethc<n>p<pid>  10.251.<n>.1/24  <──veth──>  vethd<n>p<pid>  10.251.<n>.2/24
                      fd51:<n>::1/64                               fd51:<n>::2/64
                      fe80::… (link-local)                         fe80::…

The device namespace has nothing else (no route out). Peers run in it with
C{ip netns exec}, which execs the peer itself: the PID we hold is the
peer's, and that is the PID we stop (TERM, then KILL after a bounded wait).
Everything is undone in the test's cleanups; every command is bounded.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import time
from typing import Any, Optional, Sequence

from twisted.internet.defer import Deferred, succeed
from twisted.internet.protocol import ProcessProtocol

__all__ = ["Lab", "Peer", "IP"]

IP = "/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else "/sbin/ip"
_counter = itertools.count(1)


def run(*argv: str, timeout: float = 10.0, check: bool = True) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip() or result.returncode}")
    return result.stdout


class Peer(ProcessProtocol):
    """A peer process: its output lines, a way to wait for one, a bounded stop."""

    def __init__(self, name: str, reactor: Any) -> None:
        self.name = name
        self.reactor = reactor
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.waiters: list[tuple[str, Deferred]] = []
        self.ended: Deferred = Deferred()
        self.exited = False
        self.killed = False  # stop() had to KILL it: it never had the chance to say goodbye
        self.exitReason = ""  # how it ended: "exit code N" or "signal N"
        self._buffer = b""

    def outReceived(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            text = line.decode("utf-8", "replace").rstrip()
            self.lines.append(text)
            for prefix, d in list(self.waiters):
                if text.startswith(prefix):
                    self.waiters.remove((prefix, d))
                    d.callback(text)

    def errReceived(self, data: bytes) -> None:
        self.errors.extend(data.decode("utf-8", "replace").splitlines())
        del self.errors[:-200]

    def processEnded(self, reason: Any) -> None:
        self.exited = True
        status = reason.value
        self.exitReason = (f"signal {status.signal}" if getattr(status, "signal", None) is not None
                           else f"exit code {getattr(status, 'exitCode', '?')}")
        for prefix, d in self.waiters:
            d.errback(RuntimeError(f"{self.name} exited before printing {prefix!r}: {self.tail()}"))
        self.waiters = []
        self.ended.callback(None)

    def tail(self) -> str:
        return " | ".join((self.lines + self.errors)[-12:])

    def waitFor(self, prefix: str, timeout: float = 15.0) -> Deferred:
        """The first output line starting with C{prefix} (bounded)."""
        for line in self.lines:
            if line.startswith(prefix):
                return succeed(line)
        if self.exited:
            from twisted.internet.defer import fail

            return fail(RuntimeError(f"{self.name} has exited: {self.tail()}"))
        d: Deferred = Deferred()
        self.waiters.append((prefix, d))
        return d.addTimeout(timeout, self.reactor)

    def signal(self, name: str) -> None:
        """Send a signal (C{"TERM"}, C{"USR1"}, ...) to the peer's PID."""
        import signal as signals

        if not self.exited:
            self.transport.signalProcess(getattr(signals, "SIG" + name))

    def stop(self, timeout: float = 5.0) -> Deferred:
        """TERM by PID, then KILL by PID if it has not exited within C{timeout} s."""
        if self.exited:
            return succeed(None)
        self.signal("TERM")

        def kill() -> None:
            self.killed = True
            self.signal("KILL")

        killer = self.reactor.callLater(timeout, kill)

        def done(result: Any) -> Any:
            if killer.active():
                killer.cancel()
            return result

        return self.ended.addBoth(done)


class Lab:
    """
    One device namespace and its veth link to the test namespace.

    @param ipv4: give the control point's side an IPv4 address (an IPv6-only
        test leaves it out, so that the control point can only use IPv6).
    """

    def __init__(self, testCase: Any, reactor: Any, *, ipv4: bool = True, ipv6: bool = True,
                 extraDeviceLink: bool = False) -> None:
        n = next(_counter) % 250 or 250
        tag = f"{n}p{os.getpid() % 10000}"
        self.reactor = reactor
        self.ns = f"pxt-{os.getpid()}-{n}"
        self.cpIf = f"vethc{tag}"
        self.devIf = f"vethd{tag}"
        self.extIf = f"vethx{tag}" if extraDeviceLink else None
        self.cpV4, self.devV4 = f"10.251.{n}.1", f"10.251.{n}.2"
        self.cpV6, self.devV6 = f"fd51:{n:x}::1", f"fd51:{n:x}::2"
        self.peers: list[Peer] = []
        testCase.addCleanup(self.teardown)
        run(IP, "netns", "add", self.ns)
        run(IP, "link", "add", self.cpIf, "type", "veth", "peer", "name", self.devIf, "netns", self.ns)
        run(IP, "-n", self.ns, "link", "set", "lo", "up")
        if ipv4:
            run(IP, "addr", "add", f"{self.cpV4}/24", "dev", self.cpIf)
        run(IP, "-n", self.ns, "addr", "add", f"{self.devV4}/24", "dev", self.devIf)
        if ipv6:
            run(IP, "-6", "addr", "add", f"{self.cpV6}/64", "dev", self.cpIf, "nodad")
            run(IP, "-n", self.ns, "-6", "addr", "add", f"{self.devV6}/64", "dev", self.devIf, "nodad")
        run(IP, "link", "set", self.cpIf, "up")
        run(IP, "-n", self.ns, "link", "set", self.devIf, "up")
        run(IP, "-n", self.ns, "route", "add", "224.0.0.0/4", "dev", self.devIf)
        if self.extIf is not None:  # miniupnpd wants an external interface
            run(IP, "-n", self.ns, "link", "add", self.extIf, "type", "veth", "peer", "name", f"vethy{tag}")
            run(IP, "-n", self.ns, "addr", "add", f"198.18.{n}.2/24", "dev", self.extIf)
            run(IP, "-n", self.ns, "link", "set", self.extIf, "up")
            run(IP, "-n", self.ns, "link", "set", f"vethy{tag}", "up")
        if ipv6:
            self._waitForLinkLocal()

    def _waitForLinkLocal(self, timeout: float = 5.0) -> None:
        """Link-local addresses finish duplicate detection in a second or two."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = run(IP, "-6", "addr", "show", "dev", self.cpIf, "tentative")
            theirs = run(IP, "-n", self.ns, "-6", "addr", "show", "dev", self.devIf, "tentative")
            if "inet6" not in mine and "inet6" not in theirs and self.linkLocal(self.cpIf):
                return
            time.sleep(0.1)

    def linkLocal(self, interface: str, namespace: Optional[str] = None) -> Optional[str]:
        argv = [IP] + (["-n", namespace] if namespace else []) + ["-6", "addr", "show", "dev", interface, "scope", "link"]
        match = re.search(r"inet6 (fe80::[0-9a-f:]+)/", run(*argv))
        return match.group(1) if match else None

    @property
    def devLinkLocal(self) -> Optional[str]:
        return self.linkLocal(self.devIf, self.ns)

    def devIndex(self) -> int:
        out = run(IP, "-n", self.ns, "-o", "link", "show", "dev", self.devIf)
        return int(out.split(":", 1)[0])

    def spawn(self, name: str, argv: Sequence[str], env: Optional[dict] = None, inDevice: bool = True) -> Peer:
        """Start a peer (in the device namespace by default)."""
        peer = Peer(name, self.reactor)
        full = [IP, "netns", "exec", self.ns] + list(argv) if inDevice else list(argv)
        self.reactor.spawnProcess(peer, full[0], full, env=env if env is not None else dict(os.environ))
        self.peers.append(peer)
        return peer

    def teardown(self) -> Deferred:
        from twisted.internet.defer import DeferredList

        from twisted.logger import Logger

        for p in self.peers:  # for whoever reads the test log after a failure
            Logger().info("peer {name} said: {tail}", name=p.name, tail=p.tail())
        stops = DeferredList([p.stop() for p in self.peers])

        def remove(_: Any) -> None:
            run(IP, "link", "del", self.cpIf, check=False)
            run(IP, "netns", "del", self.ns, check=False)

        return stops.addBoth(remove)

