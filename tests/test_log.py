"""Tests for L{proxier.log}: formats, levels, and the device identity on device messages."""

from __future__ import annotations

import io
import json

from twisted.logger import LogPublisher
from twisted.trial import unittest

from proxier.datamodel.values import DeviceIdentity
from proxier.log import DeviceLogger, observerFromConfig

IDENTITY = DeviceIdentity("ExampleCo", "00D0F5", "MFP4000", "SN123")


def logTo(fmt: str, level: str) -> tuple[io.StringIO, DeviceLogger]:
    out = io.StringIO()
    publisher = LogPublisher()
    publisher.addObserver(observerFromConfig({"format": fmt, "level": level, "file": "-"}, out))
    log = DeviceLogger(IDENTITY)
    log._logger.observer = publisher
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
