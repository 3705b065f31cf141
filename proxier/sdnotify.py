# -*- test-case-name: tests.test_sdnotify -*-
"""
systemd's notification protocol (C{sd_notify(3)}), without a dependency: one
datagram on the C{AF_UNIX} socket named by C{$NOTIFY_SOCKET} per state change
— C{READY=1} once the ports are bound, C{RELOADING=1} and C{READY=1} around
a SIGHUP reload, C{STOPPING=1}, and C{WATCHDOG=1} every half of
C{$WATCHDOG_USEC} when the unit sets C{WatchdogSec=} (so that a hung reactor
is restarted by systemd: the beat comes from the reactor itself).

Without C{$NOTIFY_SOCKET} (procd, a shell, tests) everything here does
nothing. A send that fails is logged once and never raised: systemd going
away must not stop the proxier.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any, Callable, Mapping, Optional

from twisted.logger import Logger

from proxier.asciinum import isUnsigned

__all__ = ["Notifier"]


class Notifier:
    """
    @param environ: where C{NOTIFY_SOCKET}, C{WATCHDOG_USEC} and
        C{WATCHDOG_PID} are read (default: C{os.environ}).
    @param socketFactory: C{socket.socket} or a fake.
    """

    log = Logger()

    def __init__(self, environ: Optional[Mapping[str, str]] = None,
                 socketFactory: Callable[..., Any] = socket.socket, pid: Optional[int] = None) -> None:
        env = os.environ if environ is None else environ
        self._socketFactory = socketFactory
        self._pid = os.getpid() if pid is None else pid
        self._warned = False
        self.address: Optional[str] = None
        raw = env.get("NOTIFY_SOCKET", "")
        if raw.startswith("@") and len(raw) > 1:
            self.address = "\0" + raw[1:]  # an abstract socket
        elif raw.startswith("/"):
            self.address = raw
        self.watchdogSeconds: Optional[float] = None
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        if isUnsigned(usec) and int(usec) > 0 and (not pid or pid == str(self._pid)):
            self.watchdogSeconds = int(usec) / 1_000_000

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *assignments: str) -> bool:
        """
        Send C{"KEY=value"} lines in one datagram.

        @return: whether it was sent (C{False} without a socket, or on error).
        """
        if self.address is None or not assignments:
            return False
        data = "\n".join(assignments).encode("utf-8")
        try:
            sock = self._socketFactory(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                sock.connect(self.address)
                sock.sendall(data)
            finally:
                sock.close()
        except OSError as e:
            if not self._warned:
                self._warned = True
                self.log.warn("cannot tell systemd {what} through {socket}: {error}",
                              what=assignments[0], socket=self.address.replace("\0", "@"), error=e)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        # systemd >= 253 (Type=notify-reload) wants the monotonic time of the reload with it
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")
