# -*- test-case-name: tests.test_store -*-
"""
Durable state under the state directory.

A gateway loses power without warning, so every document is replaced
atomically: written to a temporary file in the same directory, flushed and
fsync'd, renamed over the old one, and the directory fsync'd so that the
rename itself survives. A reader therefore sees the old document or the new
one, never a mix.

Each document is one small JSON file with a checksum of its payload. A file
that fails to parse or to verify (a disk error, a hand edit, a bug of an older
version) is logged, moved aside as C{NAME.corrupt-<time>} for a human to look
at, and read as "no state" — the daemon carries on.

A file that exists but cannot be read (EIO, EACCES, a directory in its place)
is another matter: it may hold good state (credentials, instance numbers) that
defaults would silently replace at the next save. L{Document.load} raises
L{StoreError} with one line saying which file and why; at start the proxier
refuses to run with that line, later the part that needed it is left out.

A save that fails (disk full, read-only file system) raises C{OSError} to its
caller, after one error line per document (not one per attempt; a line says
when it is saved again). What the caller does keeps memory and disk
consistent in one of two ways: a change asked for by the ACS is undone in
memory and the RPC fails (memory is what is on disk), or a change the
proxier observed is kept in memory, known not yet durable, and saved again
later — L{Retrier} does that with a clock.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import time
from typing import Any, Callable, Optional

from twisted.logger import Logger

__all__ = ["Store", "Document", "StoreError", "Retrier", "RETRY_INTERVAL"]

#: Seconds between two attempts to save a document whose save failed.
RETRY_INTERVAL = 30.0

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TMP = re.compile(r"^\..+\.[0-9]+\.tmp$")
_FORMAT = "proxier-state-1"


class StoreError(Exception):
    """The state directory cannot be used (missing permission, not a directory, ...)."""


def _checkName(name: str) -> str:
    if not _NAME.match(name) or name.endswith((".tmp", ".json")) or ".." in name:
        raise ValueError(f"not a valid state name: {name!r}")
    return name


def _fsyncDirectory(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """
    A directory of documents, and of child stores (one per endpoint, one per
    protocol, ...).

    @ivar path: the directory.
    """

    log = Logger()

    def __init__(self, path: str, *, clock: Callable[[], float] = time.time,
                 read: Optional[Callable[[str], bytes]] = None,
                 write: Optional[Callable[[str, bytes], None]] = None) -> None:
        """
        @param read: reads a whole file (tests inject C{OSError}s here).
        @param write: writes and fsyncs a new file (tests inject disk-full here).
        """
        self.path = os.path.abspath(path)
        self._clock = clock
        self._read = read or _readFile
        self._write = write or _writeFile
        self._failing: set[str] = set()

    @classmethod
    def open(cls, path: str, **kw: Any) -> "Store":
        """
        Make sure C{path} exists (mode 0700: it holds credentials) and is a
        writable directory.

        @raise StoreError: with a one-line reason.
        """
        if os.path.exists(path) and not os.path.isdir(path):
            raise StoreError(f"{path} is not a directory")
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create {path}: {e.strerror}") from None
        probe = os.path.join(path, f".probe-{os.getpid()}")
        try:
            with open(probe, "wb") as f:
                f.write(b"x")
            os.unlink(probe)
        except OSError as e:
            raise StoreError(f"cannot write in {path}: {e.strerror}") from None
        store = cls(path, **kw)
        store._sweep()
        return store

    def child(self, name: str) -> "Store":
        """The store of a part of the proxier, in a subdirectory made on demand."""
        path = os.path.join(self.path, _checkName(name))
        os.makedirs(path, mode=0o700, exist_ok=True)
        store = Store(path, clock=self._clock, read=self._read, write=self._write)
        store._sweep()
        return store

    def _sweep(self) -> None:
        """Remove temporary files a writer killed mid-save left behind."""
        mine = f".{os.getpid()}.tmp"
        for entry in os.listdir(self.path):
            if _TMP.match(entry) and not entry.endswith(mine):
                _unlinkQuietly(os.path.join(self.path, entry))

    def children(self) -> list[str]:
        """Names of the child stores that exist."""
        try:
            entries = sorted(os.listdir(self.path))
        except FileNotFoundError:
            return []
        return [e for e in entries if _NAME.match(e) and os.path.isdir(os.path.join(self.path, e))]

    def document(self, name: str) -> "Document":
        """The document C{name} in this store (it need not exist yet)."""
        return Document(self, _checkName(name))


class Document:
    """
    One JSON document, replaced as a whole by L{save}.

    The payload is any JSON value; L{load} returns C{default} when there is
    none or when the file could not be trusted (it is then moved aside), and
    raises L{StoreError} when the file is there but cannot be read.
    """

    def __init__(self, store: Store, name: str) -> None:
        self._store = store
        self.name = name
        self.path = os.path.join(store.path, name + ".json")

    def load(self, default: Any = None, validate: Optional[Callable[[Any], None]] = None) -> Any:
        """
        Read the document.

        @param validate: called with the payload; raising C{ValueError},
            C{TypeError} or C{KeyError} marks the file corrupt as well.
        @raise StoreError: the file exists but cannot be read (EIO, EACCES,
            a directory in its place): one line saying which and why.
        """
        try:
            raw = self._store._read(self.path)
        except FileNotFoundError:
            return default
        except OSError as e:
            # not "no state": good state may be behind the error, and defaults
            # would replace it at the next save
            raise StoreError(f"state {self.path} cannot be read ({e.strerror or e}); not replacing it with "
                             f"defaults: repair it or move it aside") from None
        try:
            wrapper = json.loads(raw.decode("utf-8"))
            if not isinstance(wrapper, dict) or wrapper.get("format") != _FORMAT:
                raise ValueError("not a proxier state document")
            payload = wrapper["payload"]
            if wrapper.get("sha256") != _digest(payload):
                raise ValueError("checksum mismatch")
            if validate is not None:
                validate(payload)
        except (ValueError, TypeError, KeyError, UnicodeDecodeError) as e:
            self._quarantine(str(e))
            return default
        return payload

    def save(self, payload: Any) -> None:
        """
        Replace the document atomically and durably with C{payload}.

        @raise OSError: the save failed (the document on disk is the previous
            one); logged once until a save of this document succeeds again.
        """
        body = json.dumps(
            {"format": _FORMAT, "sha256": _digest(payload), "payload": payload},
            sort_keys=True,
            separators=(",", ":"),
        ).encode("utf-8")
        directory = self._store.path
        tmp = os.path.join(directory, f".{self.name}.{os.getpid()}.tmp")
        failing = self._store._failing
        try:
            try:
                self._store._write(tmp, body)
            except BaseException:
                _unlinkQuietly(tmp)
                raise
            try:
                os.replace(tmp, self.path)
            except BaseException:
                _unlinkQuietly(tmp)
                raise
            _fsyncDirectory(directory)
        except OSError as e:
            if self.name not in failing:
                failing.add(self.name)
                self._store.log.error("state {path} could not be saved ({reason}); the last saved one stays "
                                      "on disk until a save succeeds", path=self.path, reason=e.strerror or str(e))
            raise
        if self.name in failing:
            failing.discard(self.name)
            self._store.log.info("state {path} saved again", path=self.path)

    def delete(self) -> None:
        """Forget the document."""
        _unlinkQuietly(self.path)
        _fsyncDirectory(self._store.path)

    def _quarantine(self, reason: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self._store._clock()))
        aside = f"{self.path}.corrupt-{stamp}"
        try:
            os.replace(self.path, aside)
        except OSError as e:
            aside = f"(could not move it aside: {e.strerror})"
        self._store.log.error(
            "state {path} is corrupt ({reason}); moved to {aside}, using defaults",
            path=self.path,
            reason=reason,
            aside=aside,
        )


class Retrier:
    """
    Saves what C{snapshot()} gives to a document, now and, while that fails,
    again every C{interval} seconds (the latest snapshot each time), for state
    the proxier keeps in memory ahead of the disk.

    @ivar pending: a save failed and none has succeeded since.
    """

    def __init__(self, document: Document, snapshot: Callable[[], Any], clock: Any = None,
                 interval: float = RETRY_INTERVAL) -> None:
        self._document = document
        self._snapshot = snapshot
        self._clock = clock
        self._interval = interval
        self._call: Any = None
        self.pending = False

    def save(self) -> bool:
        """Save now; False (and a later attempt scheduled when there is a clock) when that failed."""
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        try:
            self._document.save(self._snapshot())
        except OSError:
            self.pending = True
            if self._clock is not None:
                self._call = self._clock.callLater(self._interval, self._retry)
            return False
        self.pending = False
        return True

    def _retry(self) -> None:
        self._call = None
        self.save()

    def stop(self) -> None:
        """No more attempts (the owner is going away)."""
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None


def _readFile(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _writeFile(path: str, body: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(body)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()


def _unlinkQuietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise
