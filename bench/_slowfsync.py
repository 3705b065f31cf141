"""
Runs twistd with C{os.fsync} made as slow as a gateway's flash, for the
scale benchmark's slow-fsync variant: C{PROXIER_BENCH_FSYNC_DELAY} seconds
slept before each real fsync (0 or unset: no delay), and before each sync
of a whole file system (the state journal's checkpoint,
L{proxier.journal.Disk.syncFilesystem}). Only the benchmark's launch reads
that variable; the proxier's code knows nothing of it.

When C{PROXIER_BENCH_FSYNC_COUNT} names a file, the number of syncs (both
kinds) and the bytes they made durable are written there once the reactor
has shut down (the measure of how much the store wrote; twistd ends a
process stopped by a signal with that signal again, so atexit would not
run). The bytes are those a regular file grew or was written with since
its last fsync (a journal's appended record, a new file whole); the
documents a checkpoint makes durable in place are not counted (their bytes
were counted once already, in the journal).

    python bench/_slowfsync.py --nodaemon --pidfile= proxier --config FILE
"""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from typing import Any

_delay = float(os.environ.get("PROXIER_BENCH_FSYNC_DELAY") or 0)
_countFile = os.environ.get("PROXIER_BENCH_FSYNC_COUNT", "")
_realFsync = os.fsync
_lock = threading.Lock()
_counted = {"fsyncs": 0, "bytes": 0}
_synced: dict[tuple[int, int], int] = {}  # (device, inode) → its size at its last fsync


def _slowFsync(fd: int) -> None:
    if _delay:
        time.sleep(_delay)
    _realFsync(fd)
    info = os.fstat(fd)
    with _lock:  # the store may sync from a thread of its own
        _counted["fsyncs"] += 1
        if stat.S_ISREG(info.st_mode):
            key = (info.st_dev, info.st_ino)
            _counted["bytes"] += max(0, info.st_size - _synced.get(key, 0))
            _synced[key] = info.st_size


def _slowSyncFilesystem(realSync: Any) -> Any:
    def sync(self: Any, directory: str) -> None:
        if _delay:
            time.sleep(_delay)
        realSync(self, directory)
        with _lock:
            _counted["fsyncs"] += 1

    return sync


def _report() -> None:
    with open(_countFile, "w") as f:
        f.write(f"{_counted['fsyncs']} {_counted['bytes']}\n")


def main() -> None:
    os.fsync = _slowFsync
    from proxier.journal import Disk

    Disk.syncFilesystem = _slowSyncFilesystem(Disk.syncFilesystem)  # type: ignore[method-assign]
    from twisted.internet import reactor
    from twisted.scripts.twistd import run

    if _countFile:
        reactor.addSystemEventTrigger("after", "shutdown", _report)

    sys.argv[0] = "twistd"
    run()


if __name__ == "__main__":
    main()
