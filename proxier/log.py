# -*- test-case-name: tests.test_log -*-
"""
Logging, on L{twisted.logger}.

Three things the proxier adds:

 - L{observerFromConfig}: the observer the C{[log]} section asks for (text
   lines or JSON lines, a level, a file), which the service tree installs in
   place of the runner's own (see L{proxier.tap}).
 - L{DeviceLogger}: a logger bound to one device, so that every event about a
   device carries its identity in a C{device} field (JSON) and a
   C{"[device OUI-PC-SN] "} prefix (text). An operator grepping a log for a
   serial number finds every line about that device.
 - L{RateLimitedLog}: a kind of warning at most once a minute, the rest
   counted, for what a hostile or broken peer can repeat at will (malformed
   datagrams, off-link sources).

Twisted's own start/stop chatter ("Starting factory ...", "Site starting on
7547", "(UDP Port 1900 Closed)", one pair per HTTP request to a device or
the ACS) is logged at debug, not info (L{isChatter}): the proxier says itself
where it listens. The observer's level can change and its file be reopened
while running (SIGHUP: L{ConfiguredObserver.reconfigure}).
"""

from __future__ import annotations

import io
import re
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

__all__ = ["DeviceLogger", "observerFromConfig", "textObserver", "jsonLinesObserver", "LEVELS", "isChatter",
           "ConfiguredObserver", "RateLimitedLog"]

LEVELS = {
    "debug": LogLevel.debug,
    "info": LogLevel.info,
    "warn": LogLevel.warn,
    "error": LogLevel.error,
    "critical": LogLevel.critical,
}


#: The Logger of each namespace, shared by the device loggers without a source (issue 19: several per device).
_loggers: dict[str, Logger] = {}
#: Each format with the device prefix, made once: the format strings are the code's, the same for every device.
_prefixed: dict[str, str] = {}
_MAX_PREFIXED = 4096


def _sharedLogger(namespace: str) -> Logger:
    logger = _loggers.get(namespace)
    if logger is None:
        logger = _loggers[namespace] = Logger(namespace=namespace)
    return logger


def _withPrefix(format: Optional[str]) -> str:
    format = format or ""
    prefixed = _prefixed.get(format)
    if prefixed is None:
        prefixed = "[device {device}] " + format
        if len(_prefixed) < _MAX_PREFIXED:  # bounded, should a caller ever build its formats
            _prefixed[format] = prefixed
    return prefixed


class DeviceLogger:
    """
    A L{Logger} whose every event names one device.

    @ivar device: the text naming the device (its identity, or its UDN and
        address before the identity is known).
    """

    # slots: several per device (issue 19)
    __slots__ = ("device", "_logger")

    def __init__(self, device: object, namespace: Optional[str] = None, source: Any = None) -> None:
        self.device = str(device)
        if namespace is None:  # the module that made this logger, as Logger() does
            namespace = sys._getframe(1).f_globals.get("__name__", "proxier")
        self._logger = _sharedLogger(namespace) if source is None else Logger(namespace=namespace, source=source)

    def rebind(self, device: object) -> None:
        """The device's identity became known (or changed)."""
        self.device = str(device)

    def emit(self, level: LogLevel, format: Optional[str] = None, **kwargs: Any) -> None:
        kwargs.setdefault("device", self.device)
        self._logger.emit(level, _withPrefix(format), **kwargs)

    # each level straight to the Logger: one keyword dict per event, not one more for emit

    def debug(self, format: Optional[str] = None, **kwargs: Any) -> None:
        kwargs.setdefault("device", self.device)
        self._logger.emit(LogLevel.debug, _withPrefix(format), **kwargs)

    def info(self, format: Optional[str] = None, **kwargs: Any) -> None:
        kwargs.setdefault("device", self.device)
        self._logger.emit(LogLevel.info, _withPrefix(format), **kwargs)

    def warn(self, format: Optional[str] = None, **kwargs: Any) -> None:
        kwargs.setdefault("device", self.device)
        self._logger.emit(LogLevel.warn, _withPrefix(format), **kwargs)

    def error(self, format: Optional[str] = None, **kwargs: Any) -> None:
        kwargs.setdefault("device", self.device)
        self._logger.emit(LogLevel.error, _withPrefix(format), **kwargs)

    def critical(self, format: Optional[str] = None, **kwargs: Any) -> None:
        kwargs.setdefault("device", self.device)
        self._logger.emit(LogLevel.critical, _withPrefix(format), **kwargs)

    def failure(self, format: str, failure: Any = None, level: LogLevel = LogLevel.critical, **kwargs: Any) -> None:
        kwargs.setdefault("device", self.device)
        self._logger.failure(_withPrefix(format), failure, level, **kwargs)


class RateLimitedLog:
    """Log a kind of line at most once per C{interval} seconds, counting the rest."""

    def __init__(self, clock: Any, log: Logger, interval: float = 60.0) -> None:
        self.clock, self.log, self.interval = clock, log, interval
        self.last: dict[str, tuple[float, int]] = {}

    def warn(self, key: str, format: str, **kw: Any) -> None:
        now = self.clock.seconds()
        last, suppressed = self.last.get(key, (None, 0))
        if last is not None and now - last < self.interval:
            self.last[key] = (last, suppressed + 1)
            return
        if len(self.last) > 256:
            self.last.clear()
        self.last[key] = (now, 0)
        self.log.warn(format + (" ({suppressed} more suppressed)" if suppressed else ""), suppressed=suppressed, **kw)


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


def observerFromConfig(section: dict, stream: Optional[IO[str]] = None) -> "ConfiguredObserver":
    """
    The observer the C{[log]} section describes.

    @param stream: write here instead of C{section["file"]} (tests).
    """
    return ConfiguredObserver(section, stream)


# Twisted's lifecycle lines, at info level in Twisted itself.
_CHATTER = re.compile(
    r"^(?:(?:Starting|Stopping) (?:factory|protocol) "
    r"|\((?:TCP|UDP|SSL|TLS|Unix)\w* Port \S+ Closed\)$"
    r"|\S+ starting on \S+$)"
)


def isChatter(event: dict) -> bool:
    """Whether an event is Twisted's factory/protocol/port start and stop chatter (logged at debug instead of info)."""
    if event.get("log_level") is not LogLevel.info:
        return False
    namespace = event.get("log_namespace") or ""
    if not (namespace.startswith("twisted.") or namespace == "log_legacy"):
        return False
    try:
        text = formatEvent_(event)
    except Exception:
        return False
    return bool(_CHATTER.match(text or ""))


@implementer(ILogObserver)
class ConfiguredObserver:
    """
    The configured observer: text or JSON lines at the configured level,
    Twisted's chatter moved to debug; it owns the file it writes to.
    """

    def __init__(self, section: dict, stream: Optional[IO[str]] = None) -> None:
        self._stream = stream
        # standard output as it is now: once logging begins, the runners put a LoggingFile in sys.stdout,
        # and writing log lines to that would log each line again
        self._stdout = sys.stdout
        self._owned: Optional[IO[str]] = None
        self._observer: Any = None
        self.section: dict = {}
        self.reconfigure(section)

    def reconfigure(self, section: dict) -> None:
        """
        Apply a (new) C{[log]} section: level and format at once; the file is
        opened again (after log rotation, or a new path). A file that cannot
        be opened keeps the previous one.

        @raise OSError: the new file cannot be opened (the old one stays).
        """
        if self._stream is not None:
            out = self._stream
        elif section["file"] == "-":
            out = self._stdout
        else:
            out = _openLog(section["file"])
        base = jsonLinesObserver(out) if section["format"] == "json" else textObserver(out)
        predicate = LogLevelFilterPredicate(defaultLogLevel=LEVELS[section["level"]])
        old = self._owned
        self._observer = FilteringLogObserver(base, [predicate])
        # chatter is info, demoted to debug: above info both are dropped, and
        # telling chatter apart formats every Twisted info event (issue 19:
        # thousands per second while 1,000 devices boot) for nothing
        self._demoteChatter = section["level"] in ("debug", "info")
        self._owned = None if self._stream is not None or out is self._stdout else out
        self.section = dict(section)
        if old is not None and old is not self._owned:
            old.close()

    def __call__(self, event: dict) -> None:
        if self._demoteChatter and isChatter(event):
            event = dict(event, log_level=LogLevel.debug)
        self._observer(event)

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()
            self._owned = None


