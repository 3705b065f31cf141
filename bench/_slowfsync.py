"""
Runs twistd with C{os.fsync} made as slow as a gateway's flash, for the
scale benchmark's slow-fsync variant: C{PROXIER_BENCH_FSYNC_DELAY} seconds
slept before each real fsync (0 or unset: no delay). Only the benchmark's
launch reads that variable; the proxier's code knows nothing of it.

When C{PROXIER_BENCH_FSYNC_COUNT} names a file, the number of fsyncs and the
bytes of the regular files they made durable are written there once the
reactor has shut down (the measure of how much the store wrote; twistd ends
a process stopped by a signal with that signal again, so atexit would not
run).

    python bench/_slowfsync.py --nodaemon --pidfile= proxier --config FILE
"""

from __future__ import annotations

import os
import stat
import sys
import threading
import time

_delay = float(os.environ.get("PROXIER_BENCH_FSYNC_DELAY") or 0)
_countFile = os.environ.get("PROXIER_BENCH_FSYNC_COUNT", "")
_realFsync = os.fsync
_lock = threading.Lock()
_counted = {"fsyncs": 0, "bytes": 0}


def _slowFsync(fd: int) -> None:
    if _delay:
        time.sleep(_delay)
    _realFsync(fd)
    info = os.fstat(fd)
    with _lock:  # the store may sync from a thread of its own
        _counted["fsyncs"] += 1
        if stat.S_ISREG(info.st_mode):
            _counted["bytes"] += info.st_size


def _report() -> None:
    with open(_countFile, "w") as f:
        f.write(f"{_counted['fsyncs']} {_counted['bytes']}\n")


def main() -> None:
    os.fsync = _slowFsync
    from twisted.internet import reactor
    from twisted.scripts.twistd import run

    if _countFile:
        reactor.addSystemEventTrigger("after", "shutdown", _report)

    sys.argv[0] = "twistd"
    run()


if __name__ == "__main__":
    main()
