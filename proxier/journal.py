# -*- test-case-name: tests.test_journal -*-
"""
The state journal: group commit for the store's coalesced writes (issue 19).

An fsync costs 5-20 ms on a gateway's flash. Replacing a document durably
in place costs two (the new file, then its directory after the rename), and
a device coming up changes a dozen documents: a thousand devices spent
minutes waiting for the flash. The L{proxier.store.Writer} therefore commits
a whole batch of changes at once: it appends them, whole, to one file (this
journal) as one record and fsyncs that file once. Only then are the
documents replaced in place, without an fsync each; the kernel writes them
back when it likes. A crash before it did is repaired at the next start:
L{replay} rewrites, durably, every document the journal still names. When
the journal has grown past L{LIMIT} (and when the writer stops), a
checkpoint makes every replaced document durable with one syncfs(2) of the
file system and empties the journal.

A record is all or nothing: a checksum covers it whole, and a record a
crash cut short (its fsync never returned, so nothing it holds was
acknowledged to anyone) is ignored. The disk therefore always holds the
state after some prefix of the batches, each batch whole: the order the
store promises (L{proxier.store}) holds, now per batch rather than per
document.

The record codec is sans-IO (L{encodeRecord}, L{decodeRecords}); L{Journal}
and L{replay} do the file work, through a L{Disk} that tests replace.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
from typing import Any, Callable, Iterable, Optional

__all__ = ["Journal", "Disk", "replay", "encodeRecord", "decodeRecords", "replaceFile", "writeFile", "fsyncDirectory",
           "temporaryName", "JOURNAL", "LIMIT"]

#: The journal's name in the state directory (a dot file: never a document or a child store).
JOURNAL = ".journal"

#: Bytes the journal may grow to before a checkpoint empties it: small
#: against a gateway's free flash, large enough that the two syncs of a
#: checkpoint are rare (a device coming up writes a few KiB).
LIMIT = 256 * 1024

_MAGIC = b"PXJ1"
_HEADER = struct.Struct(">4sI32s")  # magic, payload length, sha256 of the payload
_PATH = struct.Struct(">H")
_BODY = struct.Struct(">i")  # body length; -1: the document is deleted

#: One change in a record: the document's path relative to the state
#: directory, and its new bytes (None: deleted).
Entry = tuple[str, Optional[bytes]]


def encodeRecord(entries: Iterable[Entry]) -> bytes:
    """One record holding C{entries}, to be appended whole."""
    parts: list[bytes] = []
    for path, body in entries:
        name = path.encode("utf-8")
        parts.append(_PATH.pack(len(name)))
        parts.append(name)
        if body is None:
            parts.append(_BODY.pack(-1))
        else:
            parts.append(_BODY.pack(len(body)))
            parts.append(body)
    payload = b"".join(parts)
    return _HEADER.pack(_MAGIC, len(payload), hashlib.sha256(payload).digest()) + payload


def decodeRecords(data: bytes) -> tuple[list[list[Entry]], int, Optional[str]]:
    """
    The whole records at the start of C{data}, the length they take, and
    why the rest (if any) was not read: C{None} when there is no rest or
    it is a record cut short at the end (a crash during its append); a
    reason when a complete record fails its checks (the disk or a hand
    changed it: what follows it cannot be trusted either).
    """
    records: list[list[Entry]] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < _HEADER.size:
            return records, offset, None  # torn header
        magic, length, digest = _HEADER.unpack_from(data, offset)
        if magic != _MAGIC:
            return records, offset, f"no record at byte {offset}"
        start = offset + _HEADER.size
        if start + length > len(data):
            return records, offset, None  # torn payload
        payload = data[start:start + length]
        if hashlib.sha256(payload).digest() != digest:
            return records, offset, f"checksum mismatch in the record at byte {offset}"
        entries = _entries(payload)
        if entries is None:
            return records, offset, f"malformed record at byte {offset}"
        records.append(entries)
        offset = start + length
    return records, offset, None


def _entries(payload: bytes) -> Optional[list[Entry]]:
    entries: list[Entry] = []
    at = 0
    while at < len(payload):
        if at + _PATH.size > len(payload):
            return None
        (size,) = _PATH.unpack_from(payload, at)
        at += _PATH.size
        if at + size + _BODY.size > len(payload):
            return None
        try:
            path = payload[at:at + size].decode("utf-8")
        except UnicodeDecodeError:
            return None
        at += size
        (length,) = _BODY.unpack_from(payload, at)
        at += _BODY.size
        if length == -1:
            entries.append((path, None))
            continue
        if length < 0 or at + length > len(payload):
            return None
        entries.append((path, payload[at:at + length]))
        at += length
    return entries


class Disk:
    """
    The file work of the journal and of the writer that uses it, one method
    per kind of step, so that tests can count, hold or fail each.
    """

    def append(self, fd: int, data: bytes) -> None:
        """Append C{data} to the open journal and fsync it: the commit."""
        _writeAll(fd, data)
        os.fsync(fd)

    def place(self, path: str, body: Optional[bytes]) -> None:
        """
        Replace the file C{path} with C{body} (C{None}: remove it) atomically
        but without an fsync: the journal holds the change already.
        """
        replaceFile(path, body, _writeUnsynced, durable=False)

    def syncFilesystem(self, directory: str) -> None:
        """Make every file written so far on C{directory}'s file system durable (a checkpoint)."""
        _syncfs(directory)


_syncfsCall: Any = None  # libc's syncfs and get_errno, False where there is none; see _findSyncfs


def _findSyncfs() -> None:
    """
    Look syncfs up in the C library, once, when a journal is first opened
    (ctypes costs about 0.6 MiB: paid once by a proxier that writes state,
    rather than by a checkpoint half way through a bootstrap).
    """
    global _syncfsCall
    if _syncfsCall is None:
        try:
            import ctypes

            call = ctypes.CDLL(None, use_errno=True).syncfs
            call.argtypes = [ctypes.c_int]
            _syncfsCall = (call, ctypes.get_errno)
        except (OSError, AttributeError, ImportError):
            _syncfsCall = False


def _syncfs(directory: str) -> None:
    """
    syncfs(2) of the file system holding C{directory}: one journal commit of
    that file system for every file replaced since the last checkpoint.
    Where the C library has no syncfs, sync(2) (every file system).
    """
    _findSyncfs()
    if _syncfsCall is False:
        os.sync()
        return
    call, getErrno = _syncfsCall
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if call(fd) != 0:
            code = getErrno()
            raise OSError(code, os.strerror(code), directory)
    finally:
        os.close(fd)


class Journal:
    """
    The journal of one state directory, appended to by the writer's thread
    (one caller at a time).

    @ivar size: the bytes of whole records in the file; after a failed
        append the file is cut back to it before anything else is appended
        (a torn record followed by a good one would hide the good one).
    """

    def __init__(self, directory: str, disk: Optional[Disk] = None) -> None:
        self.directory = directory
        self.path = os.path.join(directory, JOURNAL)
        self.disk = disk or Disk()
        self.size = 0
        self._fd: Optional[int] = None
        self._torn = False

    def _open(self) -> int:
        if self._fd is None:
            # what an earlier process left was replayed when the store was
            # opened (L{replay}): what is there now is this writer's own
            _findSyncfs()
            new = not os.path.exists(self.path)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                if new:
                    fsyncDirectory(self.directory)  # its name, once
                self.size = os.fstat(fd).st_size
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        return self._fd

    def append(self, entries: Iterable[Entry]) -> None:
        """
        Commit C{entries}: when this returns they are durable (replayed after
        a crash); when it raises C{OSError}, none of them is.
        """
        data = encodeRecord(entries)
        fd = self._open()
        try:
            if self._torn:
                os.ftruncate(fd, self.size)
                self._torn = False
            self.disk.append(fd, data)
        except OSError:
            self._torn = True
            try:
                os.ftruncate(fd, self.size)
                os.fsync(fd)
                self._torn = False
            except OSError:
                pass  # cut before the next append, which fails until it can be
            raise
        self.size += len(data)

    def sync(self) -> None:
        """
        The first half of a checkpoint: every document replaced so far made
        durable in place (one sync of the file system).
        """
        self.disk.syncFilesystem(self.directory)

    def empty(self) -> None:
        """
        The second half, once nothing was appended since L{sync}: the
        journal emptied (C{OSError}: it keeps its records, replayed after a
        crash).
        """
        if self.size == 0 and not self._torn:
            return
        fd = self._open()
        os.ftruncate(fd, 0)
        os.fsync(fd)
        self.size = 0
        self._torn = False

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def replay(directory: str, checkPath: Callable[[str], bool], put: Callable[[str, Optional[bytes]], None],
           log: Any) -> int:
    """
    At start, before any document is read: rewrite durably every document
    the journal of C{directory} names (its newest state in the journal),
    then empty the journal. Returns the number of documents rewritten.

    @param checkPath: whether a path in the journal names a document under
        C{directory} (a journal is not trusted to name anything else).
    @param put: replaces a document's file durably (C{None}: removes it).
    @raise OSError: the journal or a document could not be read or written.
    """
    path = os.path.join(directory, JOURNAL)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return 0
    if not data:
        return 0
    records, length, problem = decodeRecords(data)
    newest: dict[str, Optional[bytes]] = {}
    for entries in records:
        for name, body in entries:
            if not checkPath(name):
                problem = problem or f"a record names {name!r}, not a document"
                break
            newest[name] = body
    for name, body in newest.items():
        put(os.path.join(directory, name), body)
    if problem is not None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        aside = f"{path}.corrupt-{stamp}"
        os.replace(path, aside)
        fsyncDirectory(directory)
        log.error("state journal {path}: {problem}; {count} documents replayed from the {records} records "
                  "before it, the rest moved to {aside}", path=path, problem=problem, count=len(newest),
                  records=len(records), aside=aside)
        return len(newest)
    with open(path, "r+b") as f:
        f.truncate(0)
        f.flush()
        os.fsync(f.fileno())
    if newest:
        log.info("state: {count} documents replayed from the journal after an unclean stop "
                 "({records} records, {torn} bytes of an unfinished one ignored)",
                 count=len(newest), records=len(records), torn=len(data) - length)
    return len(newest)


def temporaryName(path: str) -> str:
    """The temporary file a document's new bytes are written to before the rename (swept at open)."""
    return os.path.join(os.path.dirname(path), f".{os.path.basename(path)[:-5]}.{os.getpid()}.tmp")


def replaceFile(path: str, body: Optional[bytes], write: Optional[Callable[[str, bytes], None]] = None,
                durable: bool = True) -> None:
    """
    Replace the file C{path} with C{body} (C{None}: remove it) atomically:
    C{write} (default L{writeFile}, fsync'd) writes a temporary file,
    renamed over the old one; C{durable}: the directory is fsync'd too, so
    that the rename survives a power cut.
    """
    directory = os.path.dirname(path)
    if body is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    else:
        tmp = temporaryName(path)
        try:
            (write or writeFile)(tmp, body)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    if durable:
        fsyncDirectory(directory)


def writeFile(path: str, body: bytes, sync: bool = True) -> None:
    """Write a new file whole, fsync'd unless C{sync} is false."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _writeAll(fd, body)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _writeUnsynced(path: str, body: bytes) -> None:
    writeFile(path, body, sync=False)


def _writeAll(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def fsyncDirectory(path: str) -> None:
    """Make the names in C{path} (a rename, a new file) durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
