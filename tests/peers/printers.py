"""
The real IPP peers of the printer interop tests (PRINTERS.md §10), started
on 127.0.0.1 by the test that needs them: a private D-Bus "system" bus
(without one ippeveprinter exits, "Unable to initialize DNS-SD"; on a bus
with no avahi it announces nothing, so nothing is multicast),
C{ippeveprinter}, and a private C{cupsd} with a queue in front of the
printer. Each gets its own temp directory and free loopback port; every
process is stopped by its PID in the test's cleanup; every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Optional
from unittest import SkipTest

__all__ = ["FIXTURES", "missing", "freePort", "waitForPort", "startBus", "startIppeveprinter", "spawnIppeveprinter",
           "stopProcess", "startCupsd", "addQueue", "Printer", "startPrinter", "skipUnlessQueue", "startQueue"]

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "..", "shared", "fixtures", "ipp")
_SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _which(name: str) -> Optional[str]:
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SBIN))


def missing(*names: str) -> Optional[str]:
    """A skip reason naming the first absent binary or fixture, else C{None}."""
    for name in names:
        if name.endswith(".conf"):
            if not os.path.exists(os.path.join(FIXTURES, name)):
                return f"../shared/fixtures/ipp/{name} is absent"
        elif _which(name) is None:
            return f"{name} is not installed (tools/install-test-peers)"
    return None


def freePort() -> int:
    """A TCP port free on 127.0.0.1 now (the peer binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def waitForPort(port: int, process: Optional[subprocess.Popen] = None, timeout: float = 15.0) -> None:
    """Until 127.0.0.1:C{port} accepts a connection; C{RuntimeError} after C{timeout} or if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


def _stopPid(pid: int, process: Optional[subprocess.Popen] = None) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if process is not None:
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _spawn(testCase: Any, argv: list, env: dict, directory: str, name: str) -> subprocess.Popen:
    log = open(os.path.join(directory, f"{name}.log"), "wb")
    testCase.addCleanup(log.close)
    process = subprocess.Popen(argv, env=env, cwd=directory, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    testCase.addCleanup(_stopPid, process.pid, process)
    return process


def startBus(testCase: Any, directory: str) -> dict:
    """A private system bus; returns the environment for the peers (C{DBUS_SYSTEM_BUS_ADDRESS}, C{HOME})."""
    socketPath = os.path.join(directory, "bus")
    with open(os.path.join(FIXTURES, "dbus-private-system-bus.conf")) as f:
        config = f.read().replace("@SOCKET@", socketPath)
    configPath = os.path.join(directory, "bus.conf")
    with open(configPath, "w") as f:
        f.write(config)
    out = subprocess.run([_which("dbus-daemon"), f"--config-file={configPath}", "--fork", "--print-pid"],
                         capture_output=True, timeout=10, check=True, stdin=subprocess.DEVNULL)
    pid = int(out.stdout.split()[0])
    testCase.addCleanup(_stopPid, pid)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "CUPS_"))}
    env.update(DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={socketPath}", HOME=directory)
    return env


def startIppeveprinter(testCase: Any, directory: str, env: dict, location: str = "Room 1",
                       name: str = "MFP4000", extra: str = "") -> int:
    """
    ippeveprinter with the MFP 4000 attribute file (plus the C{extra} ATTR
    lines) on a free loopback port; returns the port.
    """
    port, _ = spawnIppeveprinter(testCase, directory, env, location=location, name=name, extra=extra)
    return port


def spawnIppeveprinter(testCase: Any, directory: str, env: dict, location: str = "Room 1", name: str = "MFP4000",
                       extra: str = "", port: Optional[int] = None) -> tuple[int, subprocess.Popen]:
    """
    As L{startIppeveprinter}, on C{port} if given (a printer started again
    where it was); returns the port and the process, for L{stopProcess}.
    """
    port = port or freePort()
    spool = os.path.join(directory, "spool")
    os.makedirs(spool, exist_ok=True)
    attributes = os.path.join(FIXTURES, "ippeveprinter-mfp4000.conf")
    if extra:
        with open(attributes) as f:
            text = f.read()
        attributes = os.path.join(directory, "attributes.conf")
        with open(attributes, "w") as f:
            f.write(text.rstrip("\n") + "\n" + extra)
    argv = [_which("ippeveprinter"), "-n", "localhost", "-p", str(port), "-r", "off", "-l", location,
            "-a", attributes, "-d", spool, "-v", name]
    process = _spawn(testCase, argv, env, directory, "ippeveprinter")
    waitForPort(port, process)
    return port, process


def stopProcess(process: subprocess.Popen) -> None:
    """Stop a peer now, by its PID (a printer switched off); bounded."""
    _stopPid(process.pid, process)


def startCupsd(testCase: Any, directory: str, env: dict) -> int:
    """A private cupsd (fixtures' configuration, a free loopback port); returns the port."""
    port = freePort()
    root = os.path.join(directory, "cups")
    for sub in ("etc", "spool/tmp", "cache", "state", "log"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    with open(os.path.join(FIXTURES, "cupsd-private.conf")) as f:
        cupsd = f.read().replace("Listen 127.0.0.1:8632", f"Listen 127.0.0.1:{port}")
    with open(os.path.join(FIXTURES, "cups-files-private.conf")) as f:
        files = f.read().replace("@ROOT@", root)
    with open(os.path.join(root, "etc", "cupsd.conf"), "w") as f:
        f.write(cupsd)
    with open(os.path.join(root, "etc", "cups-files.conf"), "w") as f:
        f.write(files)
    for dirpath, dirnames, _ in os.walk(directory):
        os.chmod(dirpath, 0o755)  # cupsd's children run as lp
    argv = [_which("cupsd"), "-f", "-c", os.path.join(root, "etc", "cupsd.conf"),
            "-s", os.path.join(root, "etc", "cups-files.conf")]
    process = _spawn(testCase, argv, env, directory, "cupsd")
    waitForPort(port, process)
    return port


def addQueue(env: dict, cupsPort: int, printerPort: int, queue: str = "TestQ") -> None:
    """C{lpadmin -m everywhere} a queue for the ippeveprinter (bounded; raises on failure)."""
    env = dict(env, CUPS_SERVER=f"127.0.0.1:{cupsPort}")
    subprocess.run([_which("lpadmin"), "-p", queue, "-E", "-v", f"ipp://localhost:{printerPort}/ipp/print",
                    "-m", "everywhere"], env=env, capture_output=True, timeout=60, check=True,
                   stdin=subprocess.DEVNULL)


@dataclass
class Printer:
    """An ippeveprinter a test started: its temp directory, the private bus's environment, its port and process."""

    directory: str
    env: dict
    location: str
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/ipp/print"

    def stop(self) -> None:
        """Stopped now, by its PID (switched off)."""
        stopProcess(self.process)

    def restart(self, testCase: Any) -> None:
        """Started again where it was (same port, so the same printer-uuid)."""
        _, self.process = spawnIppeveprinter(testCase, self.directory, self.env, location=self.location,
                                             port=self.port)


def startPrinter(testCase: Any, location: str = "Room 1", extra: str = "") -> Printer:
    """
    What a test of the real printer needs: a temp directory (removed at the
    cleanup), a private bus and ippeveprinter with the MFP 4000 file (plus
    the C{extra} ATTR lines). C{SkipTest} naming the first binary or fixture
    that is absent.
    """
    reason = missing("ippeveprinter", "dbus-daemon", "ippeveprinter-mfp4000.conf", "dbus-private-system-bus.conf")
    if reason:
        raise SkipTest(reason)
    directory = tempfile.mkdtemp(prefix="proxier-ipp-")
    testCase.addCleanup(shutil.rmtree, directory, True)
    env = startBus(testCase, directory)
    port, process = spawnIppeveprinter(testCase, directory, env, location=location, extra=extra)
    return Printer(directory, env, location, port, process)


def skipUnlessQueue() -> None:
    """C{SkipTest} with the reason when a private cupsd queue cannot be started here."""
    reason = missing("cupsd", "lpadmin", "cupsd-private.conf", "cups-files-private.conf")
    if reason:
        raise SkipTest(reason)
    if os.geteuid() != 0:
        raise SkipTest("the private cupsd of the fixtures runs its children as lp: needs root")


def startQueue(testCase: Any, printer: Printer) -> str:
    """A private cupsd with a queue in front of C{printer} (L{skipUnlessQueue} first); returns the queue's URL."""
    skipUnlessQueue()
    cupsPort = startCupsd(testCase, printer.directory, printer.env)
    addQueue(printer.env, cupsPort, printer.port)
    return f"ipp://127.0.0.1:{cupsPort}/printers/TestQ"
