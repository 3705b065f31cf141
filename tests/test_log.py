"""Tests for L{proxier.log}: formats, levels, and the device identity on device messages."""

from __future__ import annotations

import io
import json

from twisted.internet.task import Clock
from twisted.logger import Logger, LogLevel, LogPublisher
from twisted.python import log as legacyLog
from twisted.trial import unittest

from proxier.datamodel.values import DeviceIdentity
from proxier.log import DeviceLogger, RateLimitedLog, isChatter, observerFromConfig

IDENTITY = DeviceIdentity("ExampleCo", "00D0F5", "MFP4000", "SN123")


def logTo(fmt: str, level: str) -> tuple[io.StringIO, DeviceLogger]:
    out = io.StringIO()
    publisher = LogPublisher()
    publisher.addObserver(observerFromConfig({"format": fmt, "level": level, "file": "-"}, out))
    log = DeviceLogger(IDENTITY)
    log._logger = Logger(namespace=__name__, observer=publisher)  # not the namespace's shared one
    return out, log


class LogTests(unittest.TestCase):
    def test_textNamesDevice(self) -> None:
        """A text line about a device names its OUI-ProductClass-SerialNumber and the level."""
        out, log = logTo("text", "info")
        log.warn("action {action} failed", action="GetValues")
        line = out.getvalue()
        self.assertEqual(line.count("\n"), 1)
        self.assertIn(" WARN [", line)
        self.assertIn("[device 00D0F5-MFP4000-SN123] action GetValues failed", line)

    def test_jsonLines(self) -> None:
        """JSON format writes one object per line with the device and the formatted text."""
        out, log = logTo("json", "debug")
        log.info("one")
        log.debug("two {n}", n=2)
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 2)
        events = [json.loads(l) for l in lines]
        self.assertEqual([e["device"] for e in events], ["00D0F5-MFP4000-SN123"] * 2)
        self.assertEqual(events[1]["text"], "[device 00D0F5-MFP4000-SN123] two 2")
        self.assertEqual(events[1]["n"], 2)
        self.assertEqual(events[0]["log_namespace"], __name__)

    def test_level(self) -> None:
        """Events below the configured level are dropped."""
        out, log = logTo("text", "warn")
        log.info("quiet")
        log.error("loud")
        self.assertNotIn("quiet", out.getvalue())
        self.assertIn("loud", out.getvalue())

    def test_failure(self) -> None:
        """A logged failure keeps the device and the traceback."""
        out, log = logTo("text", "info")
        try:
            1 / 0
        except ZeroDivisionError:
            log.failure("while answering")
        self.assertIn("[device 00D0F5-MFP4000-SN123] while answering", out.getvalue())
        self.assertIn("ZeroDivisionError", out.getvalue())

    def test_rebind(self) -> None:
        """A logger made before the identity was known can be bound to it later."""
        out, log = logTo("text", "info")
        log.rebind("uuid:1234 at 10.0.0.5")
        log.info("first")
        log.rebind(IDENTITY)
        log.info("second")
        self.assertIn("[device uuid:1234 at 10.0.0.5] first", out.getvalue())
        self.assertIn("[device 00D0F5-MFP4000-SN123] second", out.getvalue())

    def test_sharedPerNamespace(self) -> None:
        """
        Device loggers of one namespace share its Logger and each prefixed
        format (issue 19: several per device); one given a source has its own.
        """
        from twisted.logger import globalLogPublisher

        events: list = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        one, two = DeviceLogger("SN1"), DeviceLogger("SN2")
        self.assertIs(one._logger, two._logger)
        self.assertIsNot(DeviceLogger("SN3", source=self)._logger, one._logger)
        one.info("shared {n}", n=1)
        two.info("shared {n}", n=2)
        mine = [e for e in events if e.get("device") in ("SN1", "SN2")]
        self.assertEqual([e["log_namespace"] for e in mine], [__name__] * 2)
        self.assertIs(mine[0]["log_format"], mine[1]["log_format"])
        self.assertEqual(mine[1]["log_format"], "[device {device}] shared {n}")


class ChatterTests(unittest.TestCase):
    """Twisted's factory/protocol/port start and stop lines are debug, not info (issue 16)."""

    def events(self) -> list:
        """What Twisted emits around one HTTP request and one listening port, captured as events."""
        from twisted.internet.protocol import ClientFactory, DatagramProtocol

        captured: list = []
        publisher = LogPublisher()
        publisher.addObserver(captured.append)
        factory = ClientFactory()
        factory._log = Logger(observer=publisher)  # Twisted >= 21 logs through this one
        saved = legacyLog.theLogPublisher.observers[:]
        legacyLog.addObserver(lambda e: captured.append(dict(e, log_namespace="log_legacy",
                                                            log_level=LogLevel.info, log_format="{log_text}",
                                                            log_text=legacyLog.textFromEventDict(e))))
        try:
            factory.doStart()
            factory.doStop()
            proto = DatagramProtocol()
            proto.noisy = True
            proto.doStart()
            proto.doStop()
            legacyLog.msg("GuardedSite starting on 7547")
            legacyLog.msg("(UDP Port 1900 Closed)")
        finally:
            legacyLog.theLogPublisher.observers[:] = saved
        return captured

    def test_demoted(self) -> None:
        """At info, none of the chatter is written; at debug all of it is; the proxier's own lines are untouched."""
        chatter = self.events()
        self.assertGreaterEqual(len(chatter), 4)
        self.assertTrue(all(isChatter(e) for e in chatter), chatter)
        for level, shown in (("info", False), ("debug", True)):
            out = io.StringIO()
            observer = observerFromConfig({"format": "text", "level": level, "file": "-"}, out)
            for event in chatter:
                observer(event)
            text = out.getvalue()
            self.assertEqual("Starting factory" in text, shown, text)
            self.assertEqual("starting on 7547" in text, shown, text)
            self.assertEqual("Port 1900 Closed" in text, shown, text)

    def test_notToldApartAboveInfo(self) -> None:
        """Above info, chatter and its demoted form are both dropped: Twisted's info events are not formatted to tell."""
        import proxier.log

        told: list = []
        self.patch(proxier.log, "isChatter", lambda event: told.append(event) or False)
        chatter = self.events()
        for level, tells in (("warn", False), ("error", False), ("info", True), ("debug", True)):
            del told[:]
            observer = observerFromConfig({"format": "text", "level": level, "file": "-"}, io.StringIO())
            for event in chatter:
                observer(event)
            self.assertEqual(bool(told), tells, level)

    def test_notChatter(self) -> None:
        """A proxier line that happens to read alike, a warning, and Twisted's other lines are left alone."""
        own = {"log_level": LogLevel.info, "log_namespace": "proxier.upnp.discovery", "log_format": "Starting factory x"}
        warn = {"log_level": LogLevel.warn, "log_namespace": "twisted.web.client", "log_format": "Starting factory x"}
        loop = {"log_level": LogLevel.info, "log_namespace": "twisted.internet.base", "log_format": "Main loop terminated."}
        self.assertEqual([isChatter(e) for e in (own, warn, loop)], [False, False, False])


class ReconfigureTests(unittest.TestCase):
    def test_levelAndFile(self) -> None:
        """reconfigure() applies a new level at once and reopens the file (log rotation), closing the old one."""
        path = self.mktemp()
        observer = observerFromConfig({"format": "text", "level": "warn", "file": path})
        self.addCleanup(observer.close)
        log = Logger(observer=observer)
        log.info("hidden")
        import os

        os.rename(path, path + ".1")
        observer.reconfigure({"format": "json", "level": "debug", "file": path})
        log.debug("shown {n}", n=1)
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertEqual([json.loads(l)["text"] for l in lines], ["shown 1"])
        with open(path + ".1") as f:
            self.assertEqual(f.read(), "")

    def test_stdoutKeptAcrossReconfigure(self) -> None:
        """
        With file = -, a reconfigure keeps writing to standard output as it was
        at start: once logging begins the runners put a LoggingFile in
        sys.stdout, and writing there would log each line again (lost lines).
        """
        import sys

        real = io.StringIO()
        self.patch(sys, "stdout", real)
        observer = observerFromConfig({"format": "text", "level": "info", "file": "-"})
        self.patch(sys, "stdout", io.StringIO())  # what twist puts there once it logs
        observer.reconfigure({"format": "text", "level": "debug", "file": "-"})
        Logger(observer=observer).debug("after the reload")
        self.assertIn("after the reload", real.getvalue())


class RateLimitedLogTests(unittest.TestCase):
    def test_oncePerIntervalPerKind(self) -> None:
        """A kind of line is logged at most once per interval, the next one saying how many were suppressed; kinds are apart."""
        clock = Clock()
        events: list = []
        publisher = LogPublisher()
        publisher.addObserver(events.append)
        limited = RateLimitedLog(clock, Logger(observer=publisher), interval=60)
        for _ in range(5):
            limited.warn("a", "bad packet from {host}", host="h")
        limited.warn("b", "other")
        clock.advance(59)
        limited.warn("a", "bad packet from {host}", host="h")
        clock.advance(1)
        limited.warn("a", "bad packet from {host}", host="h")
        self.assertEqual([(e["log_format"], e["suppressed"], e["log_level"]) for e in events], [
            ("bad packet from {host}", 0, LogLevel.warn),
            ("other", 0, LogLevel.warn),
            ("bad packet from {host} ({suppressed} more suppressed)", 5, LogLevel.warn),
        ])
