"""
snmpsim, the SNMP agent of the printer interop tests (PRINTERS.md §10),
started on 127.0.0.1 by the test that needs it from the venv that
C{tools/install-test-peers} makes (C{.peers/snmpsim}): a copy of the
fixtures' C{.snmprec} files (the community is the file name), its own temp
directory, a fresh writecache database (a SET persists there), a free
loopback UDP port; stopped by its PID in the test's cleanup (its files removed); every wait is
bounded. As root it runs as nobody.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any, Optional, Sequence

from proxier.printer import snmp
from tests.peers.printers import stopProcess

__all__ = ["FIXTURES", "RESPONDER", "COMMUNITIES", "SYS_UPTIME", "missing", "freeUDPPort", "startSnmpsim", "stopSnmpsim",
           "records"]

_TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(_TOP, "..", "shared", "fixtures", "snmp")
RESPONDER = os.path.join(_TOP, ".peers", "snmpsim", "bin", "snmpsim-command-responder")
COMMUNITIES = ("printer-mfp4000", "brother-mfc-l2710dw")
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"


def missing() -> Optional[str]:
    """A skip reason when snmpsim or a fixture is absent, else C{None}."""
    if not os.access(RESPONDER, os.X_OK):
        return "snmpsim is not installed in .peers/snmpsim (tools/install-test-peers)"
    for community in COMMUNITIES:
        if not os.path.exists(os.path.join(FIXTURES, community + ".snmprec")):
            return f"../shared/fixtures/snmp/{community}.snmprec is absent"
    return None


def records(community: str) -> list[tuple[tuple[int, ...], str, str]]:
    """The (OID, type, value) lines of a fixture, in OID order."""
    rows = []
    with open(os.path.join(FIXTURES, community + ".snmprec")) as f:
        for line in f:
            if line.strip():
                oid, kind, value = line.rstrip("\n").split("|", 2)
                rows.append((snmp.parseOID(oid), kind, value))
    return sorted(rows)


def freeUDPPort() -> int:
    """A UDP port free on 127.0.0.1 now (snmpsim binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    """Whether sysDescr.0 of the first community is answered within half a second."""
    probe = snmp.encode(snmp.Message(snmp.V2C, COMMUNITIES[0].encode(), snmp.PDU(snmp.GET, 1, 0, 0, (
        snmp.VarBind((1, 3, 6, 1, 2, 1, 1, 1, 0)),))))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.sendto(probe, ("127.0.0.1", port))
        try:
            s.recvfrom(65535)
        except OSError:
            return False
    return True


_running: dict[int, subprocess.Popen] = {}  # by port


def _stop(process: subprocess.Popen) -> None:
    """Stop it by its PID unless it ended already (a PID reaped is never signalled: it may be another's now)."""
    if process.poll() is None:
        stopProcess(process)


def stopSnmpsim(port: int) -> None:
    """Stop the snmpsim serving C{port} now (the printer switched off), by its PID."""
    process = _running.pop(port, None)
    if process is not None:
        _stop(process)


def _record(line: str, upTime: Optional[int], readOnly: Sequence[str]) -> str:
    oid, _, rest = line.partition("|")
    if oid == SYS_UPTIME and upTime is not None:
        return f"{SYS_UPTIME}|67:numeric|rate=100,initial={upTime}\n"
    tag, _, value = rest.partition("|")
    if oid in readOnly and tag.endswith(":writecache"):
        key, _, value = value.partition("=")
        return f"{oid}|{tag[:-len(':writecache')]}{'x' if key == 'hexvalue' else ''}|{value}"
    return line


def _copy(source: str, target: str, upTime: Optional[int], readOnly: Sequence[str]) -> None:
    """
    A recording, its sysUpTime (with C{upTime}) made one that runs from
    C{upTime} ticks as a printer's does, the objects of C{readOnly} (OIDs)
    no longer writable.
    """
    with open(source, encoding="utf-8") as f:
        lines = [_record(line, upTime, readOnly) for line in f.read().splitlines(keepends=True)]
    with open(target, "w", encoding="utf-8") as f:
        f.writelines(lines)


def startSnmpsim(testCase: Any, directory: str, timeout: float = 30.0, *, port: Optional[int] = None,
                 upTime: Optional[int] = None, readOnly: Sequence[str] = ()) -> int:
    """
    snmpsim serving copies of the fixtures on a free 127.0.0.1 port (or
    C{port}: the same agent started again), until it answers; returns the
    port. Its log goes to C{directory}; its data, index and database to a
    temp directory of its own, which nobody can reach as root drops to it
    (a test's directory is private).

    @param upTime: sysUpTime (ticks) at start, running from then on (the
        recordings' is a constant); an agent started again with a smaller
        one is a printer that restarted.
    @param readOnly: OIDs the recordings make writable (writecache) that
        this agent does not let be set.
    """
    work = tempfile.mkdtemp(prefix="proxier-snmpsim-")
    testCase.addCleanup(shutil.rmtree, work, True)
    data, cache = os.path.join(work, "data"), os.path.join(work, "cache")
    for path in (data, cache):
        os.makedirs(path)
    for community in COMMUNITIES:
        _copy(os.path.join(FIXTURES, community + ".snmprec"), os.path.join(data, community + ".snmprec"), upTime,
              readOnly)
    port = port if port is not None else freeUDPPort()
    argv = [RESPONDER, f"--data-dir={data}", f"--agent-udpv4-endpoint=127.0.0.1:{port}", f"--cache-dir={cache}",
            f"--variation-module-options=writecache:file:{os.path.join(work, 'wc.db')}"]
    if os.geteuid() == 0:
        argv += ["--process-user=nobody", "--process-group=nogroup"]
        for path in (work, data, cache):
            os.chmod(path, 0o777)  # the index and the writecache database are written as nobody
    log = open(os.path.join(directory, "snmpsim.log"), "ab")
    testCase.addCleanup(log.close)
    process = subprocess.Popen(argv, cwd=work, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    testCase.addCleanup(_stop, process)
    _running[port] = process
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"snmpsim exited with {process.returncode}; see {log.name}")
        if _answers(port):
            return port
    raise RuntimeError(f"snmpsim does not answer on 127.0.0.1:{port} after {timeout:g} s; see {log.name}")
