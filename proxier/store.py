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

Coalesced writes. An fsync costs 5-20 ms on a gateway's flash, and state the
proxier observes (a device's Inform events, its last reported values)
changes many times a second while devices come up. Once the service tree
gives the store a L{Writer} (L{Store.writeWith}), L{Document.saveSoon}
records a change instead of writing it: the writes happen on the writer's
thread, at most L{WRITE_WINDOW} seconds later, one per run of changes of a
document, and a batch of them costs one fsync whatever its size (group
commit through the journal, L{proxier.journal}). The guarantee stays what a
synchronous save gave, because of two rules:

 - B{Order}: the writer commits changes in the order they were made, a
   batch at a time, each batch one record of the journal that is on disk
   whole or not at all (the documents are then replaced in place without
   an fsync, and the journal replayed at the next open after a crash); a
   change is merged only into the last one still waiting (the same
   document saved twice in a row). So the disk always holds a prefix of
   the changes: whatever a change depends on (the endpoint took a
   TransferComplete before its protocol dropped its own record) is on disk
   before it or with it. A plain L{Document.save} (an ACS's change that
   must be undone when it cannot be saved) is committed with what waits
   before it, before it returns.
 - B{Barrier}: L{Store.durable} gives a Deferred that fires once every
   change made so far is on disk (it starts the write at once rather than
   at the end of the window). The CWMP session waits for it (its endpoint's
   store) before each message it sends to the ACS, so nothing the ACS is
   told or acknowledges (events an InformResponse cleared, a TransferComplete
   it acknowledged, instance numbers, credentials) can be lost by a crash
   after the ACS heard of it. An ACS's change that must be undone when the
   disk refuses it (a ParameterKey, an AddObject's row) is saved with
   L{save}, on disk before its RPC is answered.

A document nothing else depends on, and that depends on nothing else, may
be changed I{apart} (C{saveSoon(snapshot, apart=True)}): the table of the
VirtualDevice numbers, rewritten whole as each device appears. Its change
stays out of the order and is written when someone waits for its store (or
a parent; not another endpoint's), or at the latest its size /
L{APART_RATE} seconds after it changed: adding N rows one after the other
costs a bounded rate of bytes, not O(N²), and a crash loses at most the
numbers no session reported yet.

A commit that fails is logged once like a save, errbacks the Deferreds
waiting for it with the C{OSError}, and is tried again every
L{RETRY_INTERVAL} seconds (later changes wait behind it: the order holds);
memory is ahead of the disk meanwhile, as with L{Retrier}. A document
committed but refused in place stays in the journal (and is what a load
returns) until it is written in place. L{Writer.stop} (the service's
stopService) writes everything and empties the journal before the process
ends.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import threading
import time
from collections import deque
from typing import Any, Callable, ContextManager, Optional, Union

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.journal import LIMIT as JOURNAL_LIMIT
from proxier.journal import Disk, Journal, replaceFile, replay, writeFile
from proxier.sharing import internText

__all__ = ["Store", "Document", "StoreError", "Retrier", "Writer", "RETRY_INTERVAL", "WRITE_WINDOW", "APART_RATE"]

#: Seconds between two attempts to save a document whose save failed.
RETRY_INTERVAL = 30.0

#: Bytes a second, on average, that the writes of a document changed apart
#: (L{Document.saveSoon} with C{apart}) may take: such a document is written
#: again at the earliest its last size / APART_RATE seconds after it changed.
APART_RATE = 32 * 1024

#: Seconds a coalesced change waits for more changes before it is written,
#: when nothing waits for the disk: long enough that a device coming up
#: (a dozen changes within a few hundred ms) costs a few writes rather than
#: one per change, short enough that little is in memory only.
WRITE_WINDOW = 0.1

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TMP = re.compile(r"^\..+\.[0-9]+\.tmp$")
_FORMAT = "proxier-state-1"


class StoreError(Exception):
    """The state directory cannot be used (missing permission, not a directory, ...)."""


def _checkName(name: str) -> str:
    if not _NAME.match(name) or name.endswith((".tmp", ".json")) or ".." in name:
        raise ValueError(f"not a valid state name: {name!r}")
    return name


class _Root:
    """
    What a store and all its children share: the clock, how files are read
    and written, and the L{Writer} of coalesced changes (see
    L{Store.writeWith}). One object for them all rather than four slots in
    each child (issue 19: a few child stores a device).
    """

    __slots__ = ("clock", "read", "write", "writer")

    def __init__(self, clock: Callable[[], float], read: Callable[[str], bytes],
                 write: Callable[[str, bytes], None]) -> None:
        self.clock = clock
        self.read = read
        self.write = write
        self.writer: Optional[Writer] = None


class Store:
    """
    A directory of documents, and of child stores (one per endpoint, one per
    protocol, ...).

    @ivar path: the directory.
    """

    # slots: a few per device (its endpoint, its model's trees), issue 19
    __slots__ = ("_up", "_name", "_failing")

    log = Logger()

    def __init__(self, path: str, *, clock: Callable[[], float] = time.time,
                 read: Optional[Callable[[str], bytes]] = None,
                 write: Optional[Callable[[str, bytes], None]] = None,
                 parent: Optional["Store"] = None) -> None:
        """
        @param read: reads a whole file (tests inject C{OSError}s here).
        @param write: writes and fsyncs a new file (tests inject disk-full here).
        @param parent: made by L{child}: C{path} is then the name in
            C{parent}, whose clock, reads and writes it shares.
        """
        # a child's parent, or for the top store what all share
        self._up: Union[Store, _Root]
        if parent is None:
            self._up = _Root(clock, read or _readFile, write or writeFile)
            self._name = os.path.abspath(path)
        else:
            self._up = parent
            self._name = path
        self._failing: Optional[set[str]] = None  # names whose last write failed; made at the first failure

    @property
    def _root(self) -> _Root:
        up = self._up
        while isinstance(up, Store):
            up = up._up
        return up

    @property
    def path(self) -> str:
        """The directory; a child's is derived from its parent's when used (issue 19: no path string kept)."""
        up = self._up
        if isinstance(up, Store):
            return os.path.join(up.path, self._name)
        return self._name

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
        try:
            replay(store.path, _isDocumentPath, replaceFile, cls.log)
        except OSError as e:
            raise StoreError(f"the state journal in {path} cannot be replayed ({e.strerror or e}); not starting "
                             f"from documents it would have repaired") from None
        store._sweep()
        return store

    def child(self, name: str) -> "Store":
        """The store of a part of the proxier, in a subdirectory made on demand."""
        path = os.path.join(self.path, _checkName(name))
        os.makedirs(path, mode=0o700, exist_ok=True)
        # interned: an endpoint's store is opened twice (its own, its model's), one name for both
        store = Store(internText(name), parent=self)
        store._sweep()
        return store

    def writeWith(self, writer: Optional["Writer"]) -> None:
        """
        From now on L{Document.saveSoon} of this store and of its children
        (made before or after) hands its changes to C{writer}; C{None}: they
        are written at once again.
        """
        if writer is not None:
            top = self
            while isinstance(top._up, Store):
                top = top._up
            writer.attach(top.path)
        self._root.writer = writer

    @property
    def writer(self) -> Optional["Writer"]:
        return self._root.writer

    def durable(self) -> Deferred:
        """
        A Deferred that fires once every change made so far is on disk: those
        of every document in order, and those made apart in this store and its
        children.
        """
        writer = self._root.writer
        return writer.durable(self.path) if writer is not None else succeed(None)

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

    # slots, and the path derived when used: a dozen per device (issue 19)
    __slots__ = ("_store", "name")

    def __init__(self, store: Store, name: str) -> None:
        self._store = store
        self.name = name

    @property
    def path(self) -> str:
        """The document's file."""
        return os.path.join(self._store.path, self.name + ".json")

    @property
    def coalesced(self) -> bool:
        """Whether L{saveSoon} hands changes to a L{Writer} (rather than saving at once)."""
        return self._store._root.writer is not None

    @property
    def failing(self) -> bool:
        """Whether the last attempt to write this document failed."""
        failing = self._store._failing
        return failing is not None and self.name in failing

    def load(self, default: Any = None, validate: Optional[Callable[[Any], None]] = None) -> Any:
        """
        Read the document.

        @param validate: called with the payload; raising C{ValueError},
            C{TypeError} or C{KeyError} marks the file corrupt as well.
        @raise StoreError: the file exists but cannot be read (EIO, EACCES,
            a directory in its place): one line saying which and why.
        """
        writer = self._store._root.writer
        waiting = writer.waiting(self) if writer is not None else None
        if waiting is not None:
            return json.loads(waiting.decode("utf-8"))["payload"]  # newer than the file
        try:
            raw = self._store._root.read(self.path)
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
        Replace the document atomically and durably with C{payload}, now
        (after the coalesced changes made before, which are written first).

        @raise OSError: the save failed (the document on disk is the previous
            one); logged once until a save of this document succeeds again.
        """
        body = _encode(payload)
        writer = self._store._root.writer
        if writer is not None:
            writer.writeNow(self, body)
            return
        try:
            self._put(body)
        except OSError as e:
            self._failed(e)
            raise
        self._succeeded()

    def saveSoon(self, snapshot: Callable[[], Any], apart: bool = False) -> None:
        """
        Record that the document changed: C{snapshot()} (called on this
        thread, at the latest when another document changes or the write
        begins) is written by the store's L{Writer} within L{WRITE_WINDOW}
        seconds, in order with every other change (module docstring);
        L{durable} says when it is on disk. Without a writer it is saved at
        once.

        @param apart: out of the order, written when its store is waited
            for or after a delay that grows with its size (module docstring).
        @raise OSError: only without a writer, as L{save}.
        """
        writer = self._store._root.writer
        if writer is None:
            self.save(snapshot())
        elif apart:
            writer.changeApart(self, snapshot)
        else:
            writer.change(self, snapshot)

    def durable(self) -> Deferred:
        """
        A Deferred that fires once this document's changes so far are on
        disk (with every change made so far); it fails with the C{OSError}
        of a write that failed meanwhile.
        """
        writer = self._store._root.writer
        return writer.durable(self.path) if writer is not None else succeed(None)

    def delete(self) -> None:
        """Forget the document (after the changes made before, written first)."""
        writer = self._store._root.writer
        if writer is not None:
            writer.writeNow(self, None)
            return
        self._put(None)

    def _put(self, body: Optional[bytes]) -> None:
        """Replace the file with C{body}, or remove it for C{None}, durably (without a writer)."""
        replaceFile(self.path, body, self._store._root.write)

    def _failed(self, error: BaseException) -> None:
        failing = self._store._failing
        if failing is None:
            failing = self._store._failing = set()
        if self.name not in failing:
            failing.add(self.name)
            reason = getattr(error, "strerror", None) or str(error)
            self._store.log.error("state {path} could not be saved ({reason}); the last saved one stays "
                                  "on disk until a save succeeds", path=self.path, reason=reason)

    def _succeeded(self) -> None:
        if self.failing:
            self._store._failing.discard(self.name)  # type: ignore[union-attr]
            self._store.log.info("state {path} saved again", path=self.path)

    def _quarantine(self, reason: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self._store._root.clock()))
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


class _Change:
    """One document's change waiting in a L{Writer}: its snapshot until frozen into the bytes to write."""

    __slots__ = ("document", "snapshot", "body", "seq")

    def __init__(self, document: Document, snapshot: Optional[Callable[[], Any]], body: Optional[bytes],
                 seq: int) -> None:
        self.document = document
        self.snapshot = snapshot
        self.body = body
        self.seq = seq

    def freeze(self) -> None:
        if self.snapshot is not None:
            self.body = _encode(self.snapshot())
            self.snapshot = None


class Writer:
    """
    Writes the coalesced changes of a store's documents in the order they
    were made, on a thread of its own (see the module docstring).

    The reactor thread owns C{_waiting} (the changes not yet handed over;
    only the last one may still be a snapshot to take); the thread and a
    synchronous L{Document.save} commit the changes of C{_batch} holding
    C{_io}, the whole batch as one record of the journal
    (L{proxier.journal}: one fsync for all of them), so both keep the
    order. C{_lock} guards the batch and what is known of it for a moment
    only: the reactor thread never waits for the disk unless it writes
    itself.
    """

    log = Logger()

    def __init__(self, reactor: Any, *, window: float = WRITE_WINDOW, retryInterval: float = RETRY_INTERVAL,
                 inThread: Optional[Callable[[Callable[[], Any]], Deferred]] = None,
                 disk: Optional[Disk] = None) -> None:
        """
        @param reactor: C{callLater}, and the thread pool's home.
        @param inThread: runs a blocking function off the reactor thread and
            gives its result as a Deferred (default: a one-thread pool;
            tests run it synchronously, or hold it).
        @param disk: the file work (tests count, hold or fail it).
        """
        self._reactor = reactor
        self._window = window
        self._retryInterval = retryInterval
        self._inThread = inThread
        self._pool: Any = None
        self._disk = disk or Disk()
        self._journal: Optional[Journal] = None  # in the state directory, known when attached
        self._io = threading.Lock()  # held while the disk is written
        self._lock = threading.Lock()  # held while _batch, _newest or _written is looked at
        self._waiting: list[_Change] = []
        self._newest: dict[str, _Change] = {}  # path → its last change not yet on disk
        self._batch: deque[_Change] = deque()
        self._made = 0  # sequence number of the last change
        self._written = 0  # every change up to this one is on disk
        self._waiters: list[tuple[int, Deferred]] = []
        self._soonest = 1  # the lowest change a waiter waits for (read by the thread)
        self._timer: Any = None
        # changes made apart: path → (document, snapshot, when it is due); the size each last had
        self._apart: dict[str, tuple[Document, Callable[[], Any], float]] = {}
        self._apartSizes: dict[str, int] = {}
        self._apartTimer: Any = None
        # committed changes not in place yet (placing them failed): path → bytes; kept in the journal
        self._misplaced: dict[str, Optional[bytes]] = {}
        self._notes: list[tuple[str, str, dict[str, Any]]] = []  # what the thread has to log: level, format, fields
        self._busy = False  # the thread has the batch
        self._error: Optional[BaseException] = None  # the last attempt failed with it; retried by the timer

    def attach(self, home: str) -> None:
        """
        Write the documents of the state directory C{home} (L{Store.writeWith});
        its journal is there. One writer writes one state directory.
        """
        if self._journal is None:
            self._journal = Journal(home, self._disk)
        elif self._journal.directory != home:
            raise ValueError(f"this writer writes {self._journal.directory}, not {home}")

    # -- what documents ask --------------------------------------------------------------

    def change(self, document: Document, snapshot: Callable[[], Any]) -> None:
        """Record a change of C{document} (L{Document.saveSoon})."""
        self._made += 1
        last = self._waiting[-1] if self._waiting else None
        if last is not None and last.document.path == document.path:
            last.snapshot, last.body, last.seq = snapshot, None, self._made
        else:
            if last is not None:
                last.freeze()  # it may no longer change: later ones are written after it
            change = _Change(document, snapshot, None, self._made)
            self._waiting.append(change)
            with self._lock:
                self._newest[document.path] = change
        if not self._busy and self._timer is None:
            self._timer = self._reactor.callLater(self._window, self._start)

    def changeApart(self, document: Document, snapshot: Callable[[], Any]) -> None:
        """Record a change of C{document} made apart (L{Document.saveSoon} with C{apart})."""
        known = self._apart.get(document.path)
        if known is not None:
            self._apart[document.path] = (document, snapshot, known[2])
            return
        delay = max(self._window, self._apartSizes.get(document.path, 0) / APART_RATE)
        due = self._reactor.seconds() + delay
        self._apart[document.path] = (document, snapshot, due)
        if self._apartTimer is not None and self._apartTimer.getTime() > due:
            self._apartTimer.cancel()
            self._apartTimer = None
        if self._apartTimer is None:
            self._apartTimer = self._reactor.callLater(delay, self._apartDue)

    def _apartDue(self) -> None:
        self._apartTimer = None
        now = self._reactor.seconds()
        if self._join(lambda path, due: due <= now):
            self._startNow()  # it waited long enough already
        if self._apart:
            delay = max(0.0, min(due for _, _, due in self._apart.values()) - now)
            self._apartTimer = self._reactor.callLater(delay, self._apartDue)

    def _join(self, which: Callable[[str, float], bool]) -> bool:
        """
        Put the changes made apart that C{which} selects into the order, as
        changes made now; whether there were any.
        """
        joined = False
        for path, (document, snapshot, due) in list(self._apart.items()):
            if which(path, due):
                del self._apart[path]
                self.change(document, snapshot)
                change = self._waiting[-1]
                change.freeze()
                self._apartSizes[path] = len(change.body or b"")
                joined = True
        return joined

    def waiting(self, document: Document) -> Optional[bytes]:
        """The newest bytes of C{document} not yet on disk, or C{None}."""
        apart = self._apart.get(document.path)
        if apart is not None:
            return _encode(apart[1]())
        with self._lock:
            change = self._newest.get(document.path)
            if change is None:
                return self._misplaced.get(document.path)
        change.freeze()  # still waiting, or frozen already
        return change.body

    def durable(self, path: Optional[str] = None) -> Deferred:
        """
        Fires once every change so far is on disk, with those made apart in
        the document or directory at C{path} (C{None}: all of them); fails
        with the error of an attempt that failed meanwhile. Starts writing
        now.
        """
        if self._apart:
            under = None if path is None else path.rstrip(os.sep) + os.sep
            self._join(lambda doc, due: under is None or doc.startswith(under) or doc == path)
        target = self._made
        if self._written >= target:
            return succeed(None)
        d: Deferred = Deferred()
        self._waiters.append((target, d))  # targets only grow: the list stays in their order
        self._soonest = min(self._soonest, target)
        self._startNow()
        return d

    def writeNow(self, document: Document, body: Optional[bytes]) -> None:
        """
        Write every change waiting, then C{body} for C{document} (C{None}:
        remove it), before returning (L{Document.save}, L{Document.delete}).

        @raise OSError: a write failed; C{document} is as it was on disk.
        """
        self._apart.pop(document.path, None)  # this one is newer
        if self._waiting and self._waiting[-1].document.path == document.path:
            self._waiting.pop()  # the last change, which this one replaces where it stood
            with self._lock:
                self._newest.pop(document.path, None)  # what waits before it is written first
        for change in self._waiting:
            change.freeze()
        self._made += 1
        own = _Change(document, None, body, self._made)
        with self._io:  # after the batch the thread commits now, if any
            with self._lock:
                self._batch.extend(self._waiting)
                self._batch.append(own)
            self._waiting = []
            written, error = self._drainLocked()
            if error is not None:
                with self._lock:
                    self._batch.pop()  # not written: the caller undoes it; what waited before stays
        self._report(written, error)
        if self._batch and not self._busy and self._timer is None:
            self._timer = self._reactor.callLater(self._retryInterval, self._start)  # a waiting change failed
        if self._waiters:
            self._reactor.callLater(0, self._fire)
        if error is not None:
            raise error[1]

    # -- writing -------------------------------------------------------------------------

    def _startNow(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self._start()

    def _start(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._busy:
            return  # what waits goes when the thread is done
        for change in self._waiting:
            change.freeze()
        with self._lock:
            self._batch.extend(self._waiting)
            self._waiting = []
            if not self._batch:
                self._fire()
                return
        self._busy = True
        self._error = None  # an attempt again: told by its outcome, not by the last one's
        self._run(self._drain).addBoth(self._drained)

    def _run(self, f: Callable[[], Any]) -> Deferred:
        if self._inThread is not None:
            return self._inThread(f)
        if self._pool is None:
            from twisted.internet.threads import deferToThreadPool
            from twisted.python.threadpool import ThreadPool

            self._pool = ThreadPool(minthreads=1, maxthreads=1, name="proxier-store")
            self._pool.start()
            self._shutdownTrigger = self._reactor.addSystemEventTrigger("during", "shutdown", self._stopPool, True)
            self._deferToThreadPool = deferToThreadPool
        return self._deferToThreadPool(self._reactor, self._pool, f)

    def _drain(self) -> tuple[list[Document], Optional[tuple[Document, BaseException]]]:
        """On the thread: commit the batch holding C{_io}; then a checkpoint, when the journal is due one."""
        result = self._writeBatch(self._io, Exception, self._toldFromThread)
        journal = self._journal
        if journal is not None and journal.size > JOURNAL_LIMIT:
            self._checkpoint()
        return result

    def _drainLocked(self) -> tuple[list[Document], Optional[tuple[Document, BaseException]]]:
        """With C{_io} held: write the batch."""
        return self._writeBatch(contextlib.nullcontext(), OSError, lambda change: None)

    def _writeBatch(self, io: ContextManager[Any], errors: type[BaseException], then: Callable[[_Change], None]
                    ) -> tuple[list[Document], Optional[tuple[Document, BaseException]]]:
        """
        Commit the batch with C{io} held, all of it or (on one of C{errors})
        none of it; C{then} is told of its last change once it is committed.
        """
        with io:
            with self._lock:
                changes = list(self._batch)
            if not changes:
                return [], None
            try:
                self._commit(changes)
            except errors as e:
                return [], (changes[0].document, e)
            with self._lock:
                for change in changes:
                    self._batch.popleft()
                    if self._newest.get(change.document.path) is change:
                        del self._newest[change.document.path]
                self._written = changes[-1].seq
            then(changes[-1])
        return [change.document for change in changes], None

    def _commit(self, changes: list[_Change]) -> None:
        """
        Append the newest state of each document of C{changes} to the
        journal as one record, the commit, then put each in place without an
        fsync (L{proxier.journal}). A document that cannot be put in place
        (the disk full) is in the journal: it stays there, and in
        C{_misplaced} for loads, until a later attempt puts it in place.

        @raise OSError: the commit failed: nothing of C{changes} is on disk.
        """
        journal = self._journal
        if journal is None:
            raise ValueError("the writer was not attached to a state directory (Store.writeWith)")
        home = journal.directory + os.sep
        newest: dict[str, Optional[bytes]] = {}
        for change in changes:
            newest[change.document.path] = change.body
        entries = []
        for path, body in newest.items():
            if not path.startswith(home):
                raise ValueError(f"{path} is not under the writer's state directory {journal.directory}")
            entries.append((path[len(home):], body))
        journal.append(entries)
        self._place(newest)

    def _place(self, documents: dict[str, Optional[bytes]]) -> None:
        """Put committed documents in place; those that fail go to C{_misplaced}, noted once."""
        for path, body in documents.items():
            try:
                self._disk.place(path, body)
            except OSError as e:
                with self._lock:
                    if path not in self._misplaced:
                        self._notes.append(("warn", "state {path} is saved in the journal but could not be "
                                            "written in place ({reason}); it stays in the journal until it "
                                            "can be", {"path": path, "reason": e.strerror or str(e)}))
                    self._misplaced[path] = body
            else:
                if self._misplaced:
                    with self._lock:
                        self._misplaced.pop(path, None)

    def _checkpoint(self) -> None:
        """
        On the thread: make the documents put in place durable and empty the
        journal (when every committed document is in place). The sync of the
        file system, the long part, runs without C{_io}: a plain save on the
        reactor thread does not wait for it (a commit made meanwhile keeps
        the journal for the next checkpoint). A failure is noted; the
        journal keeps its records (replayed after a crash) and a later
        checkpoint tries again.
        """
        journal = self._journal
        if journal is None:
            return
        with self._io:
            if self._misplaced:
                with self._lock:
                    misplaced = dict(self._misplaced)
                self._place(misplaced)
                if self._misplaced:
                    return
            size = journal.size
        if size == 0:
            return
        try:
            journal.sync()
            with self._io:
                if journal.size == size:
                    journal.empty()
        except OSError as e:
            with self._lock:
                self._notes.append(("error", "state journal {path} could not be emptied ({reason}); it is "
                                    "tried again later and replayed after a crash",
                                    {"path": journal.path, "reason": e.strerror or str(e)}))

    def _toldFromThread(self, change: _Change) -> None:
        """On the thread: C{change} is committed; a waiter for it is told now, not after a checkpoint."""
        if change.seq >= self._soonest and self._inThread is None:
            self._reactor.callFromThread(self._fire)  # a session, say

    def _drained(self, result: Any) -> None:
        self._busy = False
        if isinstance(result, Failure):  # the thread pool itself failed
            self.log.failure("the state writer failed", result)
            written, error = [], (None, result.value)
        else:
            written, error = result
        self._report(written, error)
        if error is not None or self._batch:
            if self._timer is None:
                self._timer = self._reactor.callLater(self._retryInterval, self._start)
        elif self._waiting:
            if self._waiters:
                self._start()
            elif self._timer is None:
                self._timer = self._reactor.callLater(self._window, self._start)
        self._fire()

    def _report(self, written: list[Document], error: Optional[tuple[Any, BaseException]]) -> None:
        """Log (once per document) on the reactor thread what the writes did."""
        if self._notes:
            with self._lock:
                notes, self._notes = self._notes, []
            for level, text, fields in notes:
                getattr(self.log, level)(text, **fields)
        for document in written:
            document._succeeded()
        self._error = None
        if error is not None:
            document, self._error = error
            if document is not None:
                document._failed(self._error)

    def _fire(self) -> None:
        """
        Tell the waiters whose changes are on disk; fail the others when the
        last attempt failed. (Their targets grow in the order they came.)
        """
        done = 0
        for target, _ in self._waiters:
            if self._written < target:
                break
            done += 1
        ready, self._waiters = self._waiters[:done], self._waiters[done:]
        if self._error is not None:
            ready += [(target, d) for target, d in self._waiters]
            self._waiters = []
        for target, d in ready:
            if self._written >= target:
                d.callback(None)
            else:
                d.errback(Failure(self._error))
        self._soonest = self._waiters[0][0] if self._waiters else self._made + 1

    # -- the end -------------------------------------------------------------------------

    def stop(self) -> Deferred:
        """
        Write everything now (one attempt: a disk that refuses it was logged)
        and end the thread; fires when done, never with a failure.
        """
        d = self.durable()

        def done(result: Any) -> Any:
            if not isinstance(result, Failure) and (self._written < self._made or self._apart):
                return self.durable().addBoth(done)  # changed while the last writes ran
            for timer in (self._timer, self._apartTimer):
                if timer is not None and timer.active():
                    timer.cancel()
            self._timer = self._apartTimer = None
            if isinstance(result, Failure):
                self.log.error("state not saved at exit: {reason}", reason=str(result.value))
                self._stopPool()
                return None
            return self._run(self._finish).addBoth(finished)

        def finished(result: Any) -> None:
            if isinstance(result, Failure):  # the thread pool itself
                self.log.failure("the state writer failed", result)
            self._report([], None)
            self._stopPool()

        return d.addBoth(done)

    def _finish(self) -> None:
        """On the thread, at the end: every document durable in place, the journal empty (or noted why not)."""
        self._checkpoint()
        with self._io:
            if self._journal is not None:
                self._journal.close()

    def _stopPool(self, atShutdown: bool = False) -> None:
        """
        End the thread. From the shutdown trigger itself the trigger is not
        removed: the reactor already took it off its list while firing it
        (removing it raised ValueError and the exit hung).
        """
        pool, self._pool = self._pool, None
        if pool is not None:
            if not atShutdown:
                self._reactor.removeSystemEventTrigger(self._shutdownTrigger)
            pool.stop()


class Retrier:
    """
    Saves what C{snapshot()} gives to a document, now and, while that fails,
    again every C{interval} seconds (the latest snapshot each time), for state
    the proxier keeps in memory ahead of the disk.

    With C{coalesce}, a save is a L{Document.saveSoon} when the store has a
    L{Writer}: the writer writes it (and retries it) off the reactor thread,
    and whoever must not go ahead of the disk waits for L{Store.durable}.

    @ivar pending: a save failed and none has succeeded since.
    """

    # slots: one per durable part of each device (issue 19)
    __slots__ = ("_document", "_snapshot", "_clock", "_interval", "_coalesce", "_call", "_pending")

    def __init__(self, document: Document, snapshot: Callable[[], Any], clock: Any = None,
                 interval: float = RETRY_INTERVAL, coalesce: bool = False) -> None:
        self._document = document
        self._snapshot = snapshot
        self._clock = clock
        self._interval = interval
        self._coalesce = coalesce
        self._call: Any = None
        self._pending = False

    @property
    def pending(self) -> bool:
        return self._pending or (self._coalesce and self._document.failing)

    def save(self) -> bool:
        """
        Save now (or hand the change to the writer); False (and a later
        attempt scheduled when there is a clock) when that failed.
        """
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        try:
            if self._coalesce:
                self._document.saveSoon(self._snapshot)
            else:
                self._document.save(self._snapshot())
        except OSError:
            self._pending = True
            if self._clock is not None:
                self._call = self._clock.callLater(self._interval, self._retry)
            return False
        self._pending = False
        return True

    def _retry(self) -> None:
        self._call = None
        self.save()

    def stop(self) -> None:
        """No more attempts (the owner is going away)."""
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None


def _isDocumentPath(relative: str) -> bool:
    """Whether a path from the journal names a document of the store or of a child store, nothing else."""
    parts = relative.split("/")
    if not parts[-1].endswith(".json"):
        return False
    parts[-1] = parts[-1][:-5]
    for part in parts:
        try:
            _checkName(part)
        except ValueError:
            return False
    return True


def _readFile(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _encode(payload: Any) -> bytes:
    return json.dumps(
        {"format": _FORMAT, "sha256": _digest(payload), "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")


def _digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()


def _unlinkQuietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise
