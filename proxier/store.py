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

__all__ = ["Store", "Document", "StoreError"]

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

    def __init__(self, path: str, *, clock: Callable[[], float] = time.time) -> None:
        self.path = os.path.abspath(path)
        self._clock = clock

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
        store = Store(path, clock=self._clock)
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
    none or when the file could not be trusted.
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
        """
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return default
        except OSError as e:
            self._store.log.error(
                "state {path} unreadable: {reason}; using defaults", path=self.path, reason=e.strerror
            )
            return default
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
        """Replace the document atomically and durably with C{payload}."""
        body = json.dumps(
            {"format": _FORMAT, "sha256": _digest(payload), "payload": payload},
            sort_keys=True,
            separators=(",", ":"),
        ).encode("utf-8")
        directory = self._store.path
        tmp = os.path.join(directory, f".{self.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(body)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            _unlinkQuietly(tmp)
            raise
        os.close(fd)
        try:
            os.replace(tmp, self.path)
        except BaseException:
            _unlinkQuietly(tmp)
            raise
        _fsyncDirectory(directory)

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


def _digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()


def _unlinkQuietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise
