# -*- test-case-name: tests.test_sim_logs -*-
"""
The log files of a simulated device, which BasicManagement:2 lists
(GetLogURIs), describes and configures (GetLogInfo, SetLogInfo) and the
device serves over HTTP at each log's LogURL.

A log keeps lines up to its MaxSize, dropping the oldest; it records only
lines at or above its LogLevel, and nothing while disabled. A log is either
persistent (it survives a reboot) or not (a reboot empties it) — what TR-330
§4.4.1 has a CPE Proxier find out by watching.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

__all__ = ["LOG_LEVELS", "DeviceLog"]

# BasicManagement:2 A_ARG_TYPE_LogLevel allowed values, most severe first
# (the syslog severities).
LOG_LEVELS = ("Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug")


class DeviceLog:
    """
    One log.

    @ivar name: the last segment of its LogURI and LogURL.
    @ivar uri: the LogURI (C{urn:proxier-sim:log:<name>}).
    @ivar configurable: whether SetLogInfo may change it.
    @ivar persistent: whether it survives a reboot.
    @ivar lastChange: POSIX time of the last line or configuration change.
    """

    def __init__(
        self,
        name: str,
        clock: Callable[[], float],
        formatTime: Callable[[float], str],
        *,
        maxSize: int = 16384,
        level: str = "Informational",
        configurable: bool = True,
        persistent: bool = True,
    ) -> None:
        if level not in LOG_LEVELS:
            raise ValueError(f"{level!r} is not a log level")
        self.name = name
        self.uri = f"urn:proxier-sim:log:{name}"
        self.maxSize = maxSize
        self.level = level
        self.enabled = True
        self.configurable = configurable
        self.persistent = persistent
        self._clock = clock
        self._formatTime = formatTime
        self._lines: deque[bytes] = deque()
        self._size = 0
        self.lastChange = clock()

    def append(self, level: str, text: str) -> bool:
        """Record a line; return whether it was kept."""
        if not self.enabled or LOG_LEVELS.index(level) > LOG_LEVELS.index(self.level):
            return False
        now = self._clock()
        line = f"{self._formatTime(now)} {level.upper()} {text}".replace("\n", " ")[:1000].encode("utf-8") + b"\n"
        self._lines.append(line)
        self._size += len(line)
        while self._size > self.maxSize and self._lines:
            self._size -= len(self._lines.popleft())
        self.lastChange = now
        return True

    def configure(self, enabled: bool, level: str) -> None:
        """SetLogInfo."""
        if level not in LOG_LEVELS:
            raise ValueError(f"{level!r} is not a log level")
        self.enabled = enabled
        self.level = level
        self.lastChange = self._clock()

    def content(self) -> bytes:
        """The log file as the device serves it."""
        return b"".join(self._lines)

    def rebooted(self) -> None:
        """The device rebooted: a volatile log starts empty."""
        if not self.persistent:
            self._lines.clear()
            self._size = 0
            self.lastChange = self._clock()

    def clear(self) -> None:
        self._lines.clear()
        self._size = 0

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def size(self) -> int:
        return self._size
