# -*- test-case-name: tests.test_sim_ippprinter -*-
"""
A real C{ippeveprinter} (CUPS) on 127.0.0.1, as the demo's printer where
it is installed (PRINTERS.md §10).

ippeveprinter exits ("Unable to initialize DNS-SD") without a D-Bus system
bus; it gets a private one of its own, on which no avahi runs, and is told
C{-r off}: it announces nothing, nothing is multicast. Both processes run
in a temp directory of their own (the spool, the bus socket, a log), are
stopped by their PIDs, and killed when they outlive C{stopTimeout}. Where
util-linux's C{setpriv} is there (Debian: always), each is started with a
parent-death signal, so that a proxier killed outright (SIGKILL: no
stopService) leaves no printer running.

Its supply levels change at run time only through its C{/supplies} web
form, which rewrites C{printer-supply} from the slots it is given — all of
them, or the others vanish — so L{IppevePrinter.setLevel} sends every
level it knows, the one changed included.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from typing import Any, Optional
from urllib.parse import urlencode

from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.internet.protocol import Factory, Protocol, ProcessProtocol
from twisted.internet.task import deferLater
from twisted.logger import Logger

from proxier.sim.ippprinter import DEMO_ATTRIBUTES, readAttributeFile

__all__ = ["IppevePrinter", "StartError", "binaries"]

_SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class StartError(Exception):
    """The printer did not come up; says why (its last log line)."""


def binaries() -> Optional[tuple[str, str]]:
    """The paths of C{ippeveprinter} and C{dbus-daemon}, or None when either is not installed."""
    found = []
    for name in ("ippeveprinter", "dbus-daemon"):
        path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SBIN))
        if path is None:
            return None
        found.append(path)
    return found[0], found[1]


class _Child(ProcessProtocol):
    """One child process: its first output line (the bus prints its address) if read, and its end."""

    def __init__(self, readLine: bool) -> None:
        self.firstLine: Optional[Deferred] = Deferred() if readLine else None
        self.ended: Deferred = Deferred()
        self._buffer = b""

    def outReceived(self, data: bytes) -> None:
        if self.firstLine is None or self.firstLine.called:
            return
        self._buffer += data
        if b"\n" in self._buffer:
            self.firstLine.callback(self._buffer.split(b"\n", 1)[0].decode("utf-8", "replace").strip())

    def processEnded(self, reason: Any) -> None:
        if self.firstLine is not None and not self.firstLine.called:
            self.firstLine.errback(reason)
        self.ended.callback(reason.value)


class IppevePrinter:
    """
    ippeveprinter on 127.0.0.1:C{port} with the demo's attributes.

    @ivar levels: the C{printer-supply} levels by C{index=}, as last set.
    """

    log = Logger()

    def __init__(self, reactor: Any, port: int, *, name: str = "DemoMFP", location: str = "",
                 attributes: str = DEMO_ATTRIBUTES, paths: Optional[tuple[str, str]] = None,
                 startTimeout: float = 15.0, stopTimeout: float = 5.0) -> None:
        self.reactor = reactor
        self.port = port
        self.name = name
        self.location = location
        self.attributes = attributes
        self.paths = paths or binaries()
        self.startTimeout = startTimeout
        self.stopTimeout = stopTimeout
        self.url = f"ipp://127.0.0.1:{port}/ipp/print"
        self.directory: Optional[str] = None
        self.stopped = False  # stop() was called: a start under way spawns nothing more
        self.children: dict[str, tuple[Any, _Child]] = {}  # "bus" / "printer": (process transport, protocol)
        with open(attributes) as f:
            supplies = {a.name: a for a in readAttributeFile(f.read())}["printer-supply"]
        self.levels = _levels(v.value for v in supplies.values)

    @property
    def pids(self) -> dict[str, int]:
        """The PIDs of the processes still running: C{"printer"}, C{"bus"}."""
        return {key: transport.pid for key, (transport, child) in self.children.items()
                if not child.ended.called and transport.pid is not None}

    async def _start(self) -> str:
        if self.paths is None:
            raise StartError("ippeveprinter or dbus-daemon is not installed")
        printerPath, busPath = self.paths
        self.directory = tempfile.mkdtemp(prefix="proxier-ippeveprinter-")
        socketPath = os.path.join(self.directory, "bus")
        config = os.path.join(self.directory, "bus.conf")
        with open(config, "w") as f:
            f.write(_BUS_CONFIG.format(socket=socketPath))
        bus = self._spawn("bus", busPath, ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address"],
                          {}, stdout=True)
        try:
            assert bus.firstLine is not None
            address = await self._within(bus.firstLine)
        except Exception as e:
            raise StartError(f"the private D-Bus bus did not start: {e}") from None
        if self.stopped:
            raise StartError("stopped while starting")
        spool = os.path.join(self.directory, "spool")
        os.mkdir(spool)
        printer = self._spawn("printer", printerPath,
                              ["ippeveprinter", "-n", "localhost", "-p", str(self.port), "-r", "off",
                               "-l", self.location, "-a", self.attributes, "-d", spool, self.name],
                              {"DBUS_SYSTEM_BUS_ADDRESS": address, "HOME": self.directory}, stdout=False)
        await self._listening(printer)
        return self.url

    def start(self) -> Deferred:
        """Fires with the printer's URL once it accepts connections; fails with L{StartError} (all stopped)."""
        d = Deferred.fromCoroutine(self._start())

        def failed(failure: Any) -> Any:
            stopped = self.stop()
            stopped.addCallback(lambda _: failure)
            return stopped

        return d.addErrback(failed)

    def _spawn(self, key: str, path: str, argv: list, env: dict, *, stdout: bool) -> _Child:
        assert self.directory is not None
        child = _Child(stdout)
        log = os.open(os.path.join(self.directory, f"{key}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fds = {0: "w", 1: "r" if stdout else log, 2: log}
            environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
            setpriv = shutil.which("setpriv")
            if setpriv is not None:  # a demo killed hard (SIGKILL) takes its printer along
                path, argv = setpriv, ["setpriv", "--pdeathsig", "TERM", path, *argv[1:]]
            transport = self.reactor.spawnProcess(child, path, argv, env=environment, path=self.directory,
                                                  childFDs=fds)
        finally:
            os.close(log)
        self.children[key] = (transport, child)
        return child

    async def _within(self, d: Deferred) -> Any:
        timer = self.reactor.callLater(self.startTimeout, d.cancel)
        try:
            return await d
        finally:
            if timer.active():
                timer.cancel()

    async def _listening(self, printer: _Child) -> None:
        from twisted.internet.endpoints import TCP4ClientEndpoint

        deadline = self.reactor.seconds() + self.startTimeout
        endpoint = TCP4ClientEndpoint(self.reactor, "127.0.0.1", self.port, timeout=1)
        while True:
            if printer.ended.called:
                raise StartError(f"ippeveprinter exited: {self._lastLogLine('printer')}")
            if self.stopped:
                raise StartError("stopped while starting")
            try:
                connected = await endpoint.connect(Factory.forProtocol(Protocol))
            except Exception:
                if self.reactor.seconds() > deadline:
                    raise StartError(f"ippeveprinter does not listen on 127.0.0.1:{self.port} after "
                                     f"{self.startTimeout:g} s") from None
                await deferLater(self.reactor, 0.1, lambda: None)
            else:
                connected.transport.loseConnection()
                return

    def _lastLogLine(self, key: str) -> str:
        try:
            with open(os.path.join(self.directory or "", f"{key}.log"), errors="replace") as f:
                lines = [line.strip() for line in f if line.strip()]
        except OSError:
            lines = []
        return lines[-1] if lines else "(no output)"

    def stop(self) -> Deferred:
        """SIGTERM each process by its PID, SIGKILL what outlives C{stopTimeout}; the temp directory goes."""
        self.stopped = True
        waits = []
        for key in ("printer", "bus"):
            if key not in self.children:
                continue
            transport, child = self.children[key]
            if child.ended.called:
                continue
            self._signal(transport, signal.SIGTERM)
            killer = self.reactor.callLater(self.stopTimeout, self._kill, key, transport)
            child.ended.addBoth(lambda result, killer=killer: killer.cancel() if killer.active() else None)
            waits.append(child.ended)
        d = DeferredList(waits, consumeErrors=True) if waits else succeed(None)

        def cleaned(_: Any) -> None:
            if self.directory is not None:
                shutil.rmtree(self.directory, ignore_errors=True)
                self.directory = None

        return d.addCallback(cleaned)

    def _kill(self, key: str, transport: Any) -> None:
        self.log.warn("{what} (PID {pid}) outlived {n:g} s after SIGTERM: killed", what=key, pid=transport.pid,
                      n=self.stopTimeout)
        self._signal(transport, signal.SIGKILL)

    @staticmethod
    def _signal(transport: Any, number: int) -> None:
        if transport.pid is not None:
            try:
                os.kill(transport.pid, number)
            except ProcessLookupError:
                pass

    def setLevel(self, index: int, level: int) -> Deferred:
        """The supply row C{index=} at C{level}, through the C{/supplies} form; fires with the HTTP status."""
        from twisted.web.client import Agent, readBody

        if index not in self.levels:
            raise KeyError(index)
        levels = {**self.levels, index: level}  # the rows' order: the form's slots
        query = urlencode({f"supply{slot}": value for slot, value in enumerate(levels.values())})
        d = Agent(self.reactor).request(b"GET", f"http://127.0.0.1:{self.port}/supplies?{query}".encode())

        def answered(response: Any) -> Any:
            if response.code == 200:
                self.levels = levels
            return readBody(response).addCallback(lambda _: response.code)

        return d.addCallback(answered)


def _levels(rows: Any) -> dict[int, int]:
    """C{index=} → C{level=} of PWG 5100.13 supply rows, in their order."""
    found = {}
    for row in rows:
        fields = dict(part.split("=", 1) for part in row.decode("utf-8").split(";") if "=" in part)
        found[int(fields["index"])] = int(fields["level"])
    return found

