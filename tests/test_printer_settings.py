"""Tests for the C{[printer]} config section (L{proxier.printer.settings})."""

from __future__ import annotations

from twisted.trial import unittest

from proxier import config as configmod
from proxier.printer import snmp
from proxier.printer.ippclient import Credentials
from proxier.printer.settings import SECTION, PrinterSettings


class SectionTests(unittest.TestCase):
    def write(self, text: str) -> str:
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_documented(self) -> None:
        """Every key is documented and its default parses."""
        self.assertEqual(SECTION.name, "printer")
        for key in SECTION.keys:
            with self.subTest(key=key.name):
                self.assertGreater(len(key.doc), 20)
                key.parse(key.default)

    def test_defaults(self) -> None:
        """Without the section: no printer, a poll a minute, a full one every 15 minutes."""
        settings = PrinterSettings.fromConfig(configmod.load(None, [SECTION]))
        self.assertEqual(settings, PrinterSettings())
        self.assertEqual((settings.pollInterval, settings.fullPollInterval), (60.0, 900.0))

    def test_timeoutBoundedBySession(self) -> None:
        """An IPP operation ends a second before the endpoint's bound on a device call."""
        config = configmod.load(None, [SECTION])
        self.assertEqual(PrinterSettings.fromConfig(config, 10.0).requestTimeout, 9.0)
        self.assertEqual(PrinterSettings.fromConfig(config, 60.0).requestTimeout, 15.0)

    def test_fromFile(self) -> None:
        """Printers (each once, in order) and their credentials, one line each, read from the file."""
        path = self.write(
            "[printer]\n"
            "printers = ipp://127.0.0.1:8631/ipp/print, ipps://printer.lan/ipp/print ipp://127.0.0.1:8631/ipp/print\n"
            "poll_interval = 30\n"
            "credentials =\n"
            "    ipps://printer.lan/ipp/print admin:pa ss:word\n"
        )
        settings = PrinterSettings.fromConfig(configmod.load(path, [SECTION]))
        self.assertEqual(settings.printers, ("ipp://127.0.0.1:8631/ipp/print", "ipps://printer.lan/ipp/print"))
        self.assertEqual(settings.pollInterval, 30.0)
        self.assertEqual(settings.credentialsFor("ipps://printer.lan/ipp/print"), Credentials("admin", "pa ss:word"))
        self.assertIsNone(settings.credentialsFor("ipp://127.0.0.1:8631/ipp/print"))
        self.assertEqual(settings.strayCredentials(), [])
        self.assertNotIn("pa ss", repr(settings))

    def test_mistakes(self) -> None:
        """Wrong schemes, user info in a URL and malformed credentials are refused, with no password shown."""
        cases = [
            ("printers = http://printer.lan/", "must start with ipp:// or ipps://"),
            ("printers = ipp://u:secret@printer.lan/", "credentials belong in the config"),
            ("credentials = http://printer.lan/ admin:secret", "does not start with an ipp://"),
            ("credentials = ipp://admin:secret@printer.lan/ x:y", "go after the URL"),
            ("credentials = ipp://printer.lan/ secret", "username:password"),
            ("credentials =\n  ipp://printer.lan/ a:secret\n  ipp://printer.lan/ b:secret", "given twice"),
            ("poll_interval = 1", "below the minimum"),
        ]
        for line, why in cases:
            with self.subTest(line=line):
                e = self.assertRaises(configmod.ConfigError, configmod.load, self.write("[printer]\n" + line + "\n"),
                                      [SECTION])
                self.assertIn(why, str(e))
                if "credentials" in line and "@" not in line:
                    self.assertNotIn("secret", str(e))

    def test_strayCredentials(self) -> None:
        """Credentials for a printer not listed are named, for a warning."""
        path = self.write("[printer]\ncredentials = ipp://other.lan/ipp/print a:b\n")
        settings = PrinterSettings.fromConfig(configmod.load(path, [SECTION]))
        self.assertEqual(settings.strayCredentials(), ["ipp://other.lan/ipp/print"])



class SNMPEntryTests(unittest.TestCase):
    """C{snmp://community@address[:port][?version=1]} entries and their write communities."""

    def write(self, text: str) -> str:
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_entries(self) -> None:
        """v2c by default, v1 by query; the port 161 unless given; IPv6; a community percent-decoded."""
        path = self.write(
            "[printer]\n"
            "printers = ipp://127.0.0.1:8631/ipp/print snmp://public@127.0.0.1:1161\n"
            "    snmp://p%40ss@[::1]?version=1 snmp://public@192.0.2.7\n"
            "credentials =\n"
            "    snmp://public@127.0.0.1:1161 top secret\n"
        )
        settings = PrinterSettings.fromConfig(configmod.load(path, [SECTION]))
        self.assertEqual(settings.ippPrinters, ("ipp://127.0.0.1:8631/ipp/print",))
        self.assertEqual([(e.host, e.port, e.community, e.version) for e in settings.snmpPrinters], [
            ("127.0.0.1", 1161, b"public", snmp.V2C), ("::1", 161, b"p@ss", snmp.V1),
            ("192.0.2.7", 161, b"public", snmp.V2C)])
        self.assertEqual([e.where for e in settings.snmpPrinters],
                         ["snmp://127.0.0.1:1161", "snmp://[::1]:161", "snmp://192.0.2.7:161"])
        self.assertEqual(settings.writeCommunityFor("snmp://public@127.0.0.1:1161"), b"top secret")
        self.assertIsNone(settings.writeCommunityFor("snmp://public@192.0.2.7"))
        self.assertIsNone(settings.credentialsFor("snmp://public@127.0.0.1:1161"))
        self.assertNotIn("secret", repr(settings))
        self.assertNotIn("public", repr(settings.snmpPrinters))

    def test_mistakes(self) -> None:
        """A name for an address, no community, a path, another query: refused, the community never shown."""
        cases = [
            ("printers = snmp://secret@printer.lan", "must be an IP address"),
            ("printers = snmp://192.0.2.7", "give the community"),
            ("printers = snmp://secret:x@192.0.2.7", "only snmp://community@address"),
            ("printers = snmp://secret@192.0.2.7/ctx", "only snmp://community@address"),
            ("printers = snmp://secret@192.0.2.7?version=3", "version=1"),
            ("printers = snmp://secret@192.0.2.7:99999", "not a valid URL"),
            ("credentials = snmp://secret@192.0.2.7", "give the write community"),
            ("credentials =\n  snmp://secret@192.0.2.7 a\n  snmp://secret@192.0.2.7 b", "given twice"),
        ]
        for line, why in cases:
            with self.subTest(line=line):
                e = self.assertRaises(configmod.ConfigError, configmod.load, self.write("[printer]\n" + line + "\n"),
                                      [SECTION])
                self.assertIn(why, str(e))
                self.assertNotIn("secret", str(e))

    def test_strayWriteCommunity(self) -> None:
        """A write community for an entry not listed is named without its communities."""
        path = self.write("[printer]\ncredentials = snmp://secret@192.0.2.7 private\n")
        settings = PrinterSettings.fromConfig(configmod.load(path, [SECTION]))
        self.assertEqual(settings.strayCredentials(), ["snmp://192.0.2.7:161"])
