# -*- test-case-name: tests.test_log -*-
"""
Logging, on L{twisted.logger}.

Two things the proxier adds:

 - L{observerFromConfig}: the observer the C{[log]} section asks for (text
   lines or JSON lines, a level, a file), which the service tree installs in
   place of the runner's own (see L{proxier.tap}).
 - L{DeviceLogger}: a logger bound to one device, so that every event about a
   device carries its identity in a C{device} field (JSON) and a
   C{"[device OUI-PC-SN] "} prefix (text). An operator grepping a log for a
   serial number finds every line about that device.
"""

from __future__ import annotations

import io
import sys
from typing import IO, Any, Optional

from twisted.logger import (
    FileLogObserver,
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    Logger,
    eventAsJSON,
    formatEvent as formatEvent_,
    formatEventAsClassicLogText,
)
from zope.interface import implementer

__all__ = ["DeviceLogger", "observerFromConfig", "textObserver", "jsonLinesObserver", "LEVELS"]

LEVELS = {
    "debug": LogLevel.debug,
    "info": LogLevel.info,
    "warn": LogLevel.warn,
    "error": LogLevel.error,
    "critical": LogLevel.critical,
}


class DeviceLogger:
    """
    A L{Logger} whose every event names one device.

    @ivar device: the text naming the device (its identity, or its UDN and
        address before the identity is known).
    """

    def __init__(self, device: object, namespace: Optional[str] = None, source: Any = None) -> None:
        self.device = str(device)
        if namespace is None:  # the module that made this logger, as Logger() does
            namespace = sys._getframe(1).f_globals.get("__name__", "proxier")
        self._logger = Logger(namespace=namespace, source=source)

    def rebind(self, device: object) -> None:
        """The device's identity became known (or changed)."""
        self.device = str(device)

    def emit(self, level: LogLevel, format: Optional[str] = None, **kwargs: Any) -> None:
        kwargs.setdefault("device", self.device)
        self._logger.emit(level, "[device {device}] " + (format or ""), **kwargs)

    def debug(self, format: Optional[str] = None, **kwargs: Any) -> None:
        self.emit(LogLevel.debug, format, **kwargs)

    def info(self, format: Optional[str] = None, **kwargs: Any) -> None:
        self.emit(LogLevel.info, format, **kwargs)

    def warn(self, format: Optional[str] = None, **kwargs: Any) -> None:
        self.emit(LogLevel.warn, format, **kwargs)

    def error(self, format: Optional[str] = None, **kwargs: Any) -> None:
        self.emit(LogLevel.error, format, **kwargs)

    def critical(self, format: Optional[str] = None, **kwargs: Any) -> None:
        self.emit(LogLevel.critical, format, **kwargs)

    def failure(self, format: str, failure: Any = None, level: LogLevel = LogLevel.critical, **kwargs: Any) -> None:
        kwargs.setdefault("device", self.device)
        self._logger.failure("[device {device}] " + format, failure, level, **kwargs)


def textObserver(stream: IO[str]) -> FileLogObserver:
    """One line per event: time, level, namespace, message (and traceback)."""

    def formatEvent(event: dict) -> Optional[str]:
        text = formatEventAsClassicLogText(event)
        if text is None:
            return None
        level = event.get("log_level")
        name = level.name.upper() if isinstance(level, type(LogLevel.info)) else "-"
        # classic text is "TIME [SYSTEM] MESSAGE\n"; put the level after the time
        stamp, sep, rest = text.partition(" [")
        return f"{stamp} {name} [{rest}" if sep else text

    return FileLogObserver(stream, formatEvent)


def jsonLinesObserver(stream: IO[str]) -> FileLogObserver:
    """
    One JSON object per line: every field of the event (as
    L{twisted.logger.eventAsJSON} keeps them) plus C{"text"}, the formatted
    message, for people and log shippers that want just that.
    """

    def formatEvent(event: dict) -> str:
        text = formatEvent_(event)
        return eventAsJSON(dict(event, text=text)) + "\n"

    return FileLogObserver(stream, formatEvent)


def _openLog(path: str) -> IO[str]:
    if path == "-":
        return sys.stdout
    return io.open(path, "a", encoding="utf-8", buffering=1)


def observerFromConfig(section: dict, stream: Optional[IO[str]] = None) -> ILogObserver:
    """
    The observer the C{[log]} section describes.

    @param stream: write here instead of C{section["file"]} (tests).
    """
    out = stream if stream is not None else _openLog(section["file"])
    base = jsonLinesObserver(out) if section["format"] == "json" else textObserver(out)
    predicate = LogLevelFilterPredicate(defaultLogLevel=LEVELS[section["level"]])
    return _Closable(FilteringLogObserver(base, [predicate]), None if stream is not None or out is sys.stdout else out)


@implementer(ILogObserver)
class _Closable:
    """An observer that also owns the file it writes to."""

    def __init__(self, observer: ILogObserver, owned: Optional[IO[str]]) -> None:
        self._observer = observer
        self._owned = owned

    def __call__(self, event: dict) -> None:
        self._observer(event)

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()
