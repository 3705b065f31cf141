"""Small helpers shared by the tests."""

from __future__ import annotations

import os
import random
import socket
import sys
from typing import Any, Callable

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.logger import LogLevel, globalLogPublisher
from twisted.trial import unittest

from proxier.datamodel.faults import CWMPFault

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(TOP), "shared")


def subprocessEnv(*extraPath: str) -> dict:
    """An environment in which a child Python imports this checkout first."""
    path = list(extraPath) + [TOP] + [p for p in sys.path if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(path))


def killedWhileWriting(testCase: unittest.TestCase, script: str, arguments: list[str], pause: float) -> list[int]:
    """
    Run the Python C{script} until it has reported a first number on a line,
    let it go on for C{pause} seconds, SIGKILL it: every number it reported
    (the kill tests of the state store; a script that reports nothing
    within 60 s fails the test rather than hang it).
    """
    import select
    import signal
    import subprocess
    import time

    child = subprocess.Popen([sys.executable, "-c", script, *arguments], stdout=subprocess.PIPE,
                             bufsize=0,  # unbuffered: communicate(timeout=) reads the pipe itself, past a reader's buffer
                             env=subprocessEnv())
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        testCase.assertTrue(ready, "the writer reported nothing within 60 s")
        first = child.stdout.readline()  # type: ignore[union-attr]
        testCase.assertTrue(first.strip().isdigit(), first)
        time.sleep(pause)
    finally:
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
    return [int(x) for x in (first + out).split() if x.isdigit()]


def runBench(testCase: unittest.TestCase, script: str, *arguments: str) -> str:
    """A script of bench/ run to its end as by hand, on this interpreter: its output (exit 0, nothing on stderr)."""
    import subprocess

    result = subprocess.run([sys.executable, os.path.join(TOP, "bench", script), *arguments], capture_output=True,
                            text=True, timeout=150, env=subprocessEnv(), cwd=TOP, stdin=subprocess.DEVNULL)
    testCase.assertEqual(result.returncode, 0, result.stdout + result.stderr)
    testCase.assertEqual(result.stderr, "")
    return result.stdout


def fired(d: Deferred) -> Any:
    """The result of a Deferred that has fired (in-memory agents are synchronous); its failure is raised."""
    out: list = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    if hasattr(out[0], "raiseException"):
        out[0].raiseException()
    return out[0]


@inlineCallbacks
def waitFor(predicate: Callable[[], bool], timeout: float, what: str = "", step: float = 0.02) -> Any:
    """Poll C{predicate} on the real reactor every C{step} s; fail after C{timeout} s."""
    from twisted.internet import reactor, task

    deadline = reactor.seconds() + timeout
    while not predicate():
        if reactor.seconds() > deadline:
            raise AssertionError(f"still not true after {timeout} s" + (f": {what}" if what else ""))
        yield task.deferLater(reactor, step, lambda: None)


def freeUDPPort() -> int:
    """A UDP port free on 127.0.0.1 when asked."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def freeSearchPort(first: int, step: int) -> int:
    """
    A UDP port free on 127.0.0.1 in 49152-65535 (SEARCHPORT.UPNP.ORG's
    range), one of C{first} + k * C{step} (apart from other users' ports),
    tried from a random one of them on: two test workers (trial -j2) looking
    at the same moment do not both take the first free one, which only the
    first of their simulated fleets could then bind; C{OSError} if there is
    none.
    """
    ports = range(first, 65000, step)
    start = random.randrange(len(ports))
    for port in (*ports[start:], *ports[:start]):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free UDP port in 49152-65535")


class LogCapture:
    """Collect the global log events for the duration of one test."""

    def __init__(self, testCase: unittest.TestCase) -> None:
        self.events: list[dict] = []
        globalLogPublisher.addObserver(self.events.append)
        testCase.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def atLeast(self, level: LogLevel) -> list[dict]:
        order = [LogLevel.debug, LogLevel.info, LogLevel.warn, LogLevel.error, LogLevel.critical]
        return [e for e in self.events if order.index(e.get("log_level", LogLevel.info)) >= order.index(level)]

    def errors(self) -> list[dict]:
        return self.atLeast(LogLevel.error)


class ModelCalls:
    """
    Short forms for a C{TestCase} calling a data model (C{self.model}, or
    the one given) whose answers have fired by the time they are read.
    """

    model: Any

    def ok(self, d: Deferred) -> Any:
        return self.successResultOf(d)

    def fault(self, d: Deferred, code: int) -> CWMPFault:
        """The CWMP fault C{d} failed with, which has C{code}."""
        failure = self.failureResultOf(d, CWMPFault)
        self.assertEqual(failure.value.code, code, failure.value)
        return failure.value

    def names(self, path: str, nextLevel: bool, model: Any = None) -> list[str]:
        return [i.name for i in self.ok((model or self.model).getParameterNames(path, nextLevel))]

    def values(self, *names: str, model: Any = None) -> dict[str, str]:
        return {v.name: v.value for v in self.ok((model or self.model).getParameterValues(list(names)))}


def processRuns(pid: int) -> bool:
    """Whether process C{pid} runs (a zombie, which a container's init may never reap, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
