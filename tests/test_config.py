"""Tests for L{proxier.config}: the INI file, its validation and its documentation."""

from __future__ import annotations

import ast
import os

from twisted.trial import unittest

from proxier import config
from proxier.config import ConfigError, Key, Section, load, render
from proxier.registry import protocolPlugins
from proxier.tap import configSections, pluginSections

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


class LoadTests(unittest.TestCase):
    def write(self, text: str) -> str:
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_defaults(self) -> None:
        """Without a file, every key has its documented default, typed."""
        c = load(None)
        self.assertIsNone(c.path)
        self.assertEqual(c["acs"]["url"], "")
        self.assertIs(c["acs"]["periodic_inform_enable"], True)
        self.assertEqual(c["acs"]["periodic_inform_interval"], 86400)
        self.assertEqual(c["connection_request"]["port"], 7547)
        self.assertEqual(c["lan"]["ssdp_mode"], "multicast")
        self.assertEqual(c["lan"]["interfaces"], ())
        self.assertEqual(c["log"]["format"], "text")

    def test_values(self) -> None:
        """Values in the file override defaults and are parsed to their types."""
        path = self.write(
            "[acs]\nurl = https://acs.example.net:7548/cwmp\nperiodic_inform_enable = no\n"
            "periodic_inform_interval = 600\n"
            "[lan]\ninterfaces = br-lan, eth1 wlan0\nssdp_mode = Unicast-Loopback\n"
        )
        c = load(path)
        self.assertEqual(c.path, path)
        self.assertEqual(c["acs"]["url"], "https://acs.example.net:7548/cwmp")
        self.assertIs(c["acs"]["periodic_inform_enable"], False)
        self.assertEqual(c["acs"]["periodic_inform_interval"], 600)
        self.assertEqual(c["lan"]["interfaces"], ("br-lan", "eth1", "wlan0"))
        self.assertEqual(c["lan"]["ssdp_mode"], "unicast-loopback")

    def assertOneLine(self, path: str, section: str, key: str, words: str, **kw) -> ConfigError:
        e = self.assertRaises(ConfigError, load, path, **kw)
        text = str(e)
        self.assertNotIn("\n", text)
        self.assertTrue(text.startswith(f"{path}: [{section}] {key}: "), text)
        self.assertIn(words, text)
        return e

    def test_typoKey(self) -> None:
        """A misspelt key names the file, section and key, and suggests the right one."""
        path = self.write("[acs]\nurll = http://acs/\n")
        self.assertOneLine(path, "acs", "urll", "unknown key (did you mean 'url'?)")

    def test_unknownSection(self) -> None:
        """A misspelt section is refused."""
        path = self.write("[acss]\nurl = http://acs/\n")
        e = self.assertRaises(ConfigError, load, path)
        self.assertEqual(str(e), f"{path}: [acss]: unknown section (did you mean 'acs'?)")

    def test_badURL(self) -> None:
        """URLs need an http(s) scheme, a host, and a valid port."""
        for bad, words in [
            ("ftp://acs/", "must start with http:// or https://"),
            ("http://", "has no host"),
            ("http://acs:99999/", "not a valid URL"),
            ("acs.example.net", "must start with"),
        ]:
            path = self.write(f"[acs]\nurl = {bad}\n")
            self.assertOneLine(path, "acs", "url", words)

    def test_badValues(self) -> None:
        """Numbers, booleans, choices and addresses are checked, with the reason."""
        cases = [
            ("acs", "periodic_inform_interval", "0", "below the minimum 1"),
            ("acs", "periodic_inform_interval", "ten", "not a whole number"),
            ("acs", "periodic_inform_interval", "٣٠٠", "not a whole number"),  # int() read it as 300
            ("acs", "periodic_inform_interval", "3_600", "not a whole number"),
            ("acs", "periodic_inform_interval", "9" * 30, "not a whole number"),
            ("acs", "periodic_inform_enable", "maybe", "not a boolean"),
            ("acs", "periodic_inform_time", "yesterday", "not a dateTime"),
            ("lan", "ssdp_mode", "broadcast", "not one of: multicast, unicast-loopback"),
            ("connection_request", "listen_address", "localhost", "not an IPv4 or IPv6 address"),
            ("connection_request", "port", "70000", "above the maximum"),
            ("acs", "ca_file", "/nonexistent/ca.pem", "not a readable file"),
            ("device", "oui", "00d0f5", "six upper-case hexadecimal digits"),
        ]
        for section, key, value, words in cases:
            path = self.write(f"[{section}]\n{key} = {value}\n")
            self.assertOneLine(path, section, key, words)

    def test_crossChecks(self) -> None:
        """Keys that go together are checked together."""
        cert = self.write("not really a certificate")
        path = self.write(f"[acs]\nclient_certificate = {cert}\n")
        self.assertOneLine(path, "acs", "client_key", "go together")
        path = self.write(f"[console]\ncertificate = {cert}\n")
        self.assertOneLine(path, "console", "key", "go together")
        path = self.write(f"[console]\nkey = {cert}\n")
        self.assertOneLine(path, "console", "certificate", "go together")
        path = self.write("[connection_request]\ncredentials = shared\n")
        self.assertOneLine(path, "connection_request", "username", "needs username and password")

    def test_syntaxErrors(self) -> None:
        """Malformed files are refused with a line number, not a traceback."""
        cases = [
            ("url = x\n", "line 1: a key before any [section]"),
            ("[acs]\nurl = a\nurl = b\n", "key repeated (line 3)"),
            ("[acs]\n[acs]\n", "section repeated (line 2)"),
            ("[acs]\njust words\n", "line 2: not 'key = value'"),
        ]
        for text, words in cases:
            path = self.write(text)
            e = self.assertRaises(ConfigError, load, path)
            self.assertIn(words, str(e))
            self.assertNotIn("\n", str(e))

    def test_allAtOnce(self) -> None:
        """Every mistake of a file is reported at once, one line each (not one per restart), parse errors included."""
        path = self.write("[lan]\nssdp_port = 99999\njunk line\n[device]\noui = abc\nserail_number = 1\n"
                          "[acss]\n[acs]\nperiodic_inform_enable = maybe\n")
        e = self.assertRaises(ConfigError, load, path)
        self.assertEqual(str(e).split("\n"), [
            f"{path}: line 3: not 'key = value'",
            f"{path}: [device] serail_number: unknown key (did you mean 'serial_number'?)",
            f"{path}: [acss]: unknown section (did you mean 'acs'?)",
            f"{path}: [acs] periodic_inform_enable: 'maybe' is not a boolean (use true or false)",
            f"{path}: [lan] ssdp_port: 99999 is above the maximum 65535",
            f"{path}: [device] oui: 'abc' is not six upper-case hexadecimal digits",
        ])
        self.assertEqual(len(e.errors), 6)
        self.assertEqual((e.section, e.key), (None, None), "the attributes are the first mistake's")

    def test_unclosedHeader(self) -> None:
        """A section header without its ']' is named as such, first line or not; the keys below it are still checked."""
        path = self.write("[acs\nurl = ftp://acs/\n[lan\ninterfaces = br-lan\n")
        lines = str(self.assertRaises(ConfigError, load, path)).split("\n")
        self.assertEqual(lines, [
            f"{path}: line 1: the section header '[acs' has no closing ']'",
            f"{path}: line 3: the section header '[lan' has no closing ']'",
            f"{path}: [acs] url: 'ftp://acs/' must start with http:// or https://",
        ])

    def test_missingFile(self) -> None:
        """An explicit file must exist; the default one may be absent."""
        e = self.assertRaises(ConfigError, load, "/nonexistent/proxier.conf")
        self.assertEqual(str(e), "/nonexistent/proxier.conf: no such file")
        self.assertIsNone(load("/nonexistent/proxier.conf", required=False).path)

    def test_notUTF8(self) -> None:
        """A binary file is refused in one line."""
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b"[acs]\nurl = \xff\xfe\n")
        self.assertIn("not UTF-8", str(self.assertRaises(ConfigError, load, path)))

    def test_pluginSection(self) -> None:
        """A protocol plugin's section is validated like the core ones."""
        extra = Section("upnp", "UPnP.", (Key("subscribe_timeout", config.integer(60, 86400), "1800", "Seconds."),))
        path = self.write("[upnp]\nsubscribe_timeout = 30\n")
        self.assertOneLine(path, "upnp", "subscribe_timeout", "below the minimum 60", extraSections=[extra])
        path = self.write("[upnp]\nsubscribe_timeout = 600\n")
        self.assertEqual(load(path, [extra])["upnp"]["subscribe_timeout"], 600)

    def test_everyDefaultParses(self) -> None:
        """Each documented default is a valid value of its key."""
        for section in configSections():
            for key in section.keys:
                key.parse(key.default)

    def test_documentedFile(self) -> None:
        """
        etc/proxier.conf documents exactly the keys the code knows, with their
        defaults (regenerate it with C{python -m proxier.tap}).
        """
        with open(os.path.join(TOP, "etc", "proxier.conf"), encoding="utf-8") as f:
            documented = f.read()
        self.assertEqual(documented, render(configSections()))
        # and the documented file itself is a valid config
        load(os.path.join(TOP, "etc", "proxier.conf"), pluginSections(protocolPlugins()))

    def test_stateDirectoryDefault(self) -> None:
        """Without a configured directory, root uses /var/lib, others XDG_STATE_HOME."""
        c = load(None)
        self.patch(os, "geteuid", lambda: 0)
        self.assertEqual(config.stateDirectory(c), "/var/lib/proxier")
        self.patch(os, "geteuid", lambda: 1000)
        self.patch(os, "environ", {"XDG_STATE_HOME": "/home/u/.state"})
        self.assertEqual(config.stateDirectory(c), "/home/u/.state/proxier")
        c2 = c.replace("state", directory="/srv/p")
        self.assertEqual(config.stateDirectory(c2), "/srv/p")

    def test_stateDirectoryFromSystemd(self) -> None:
        """
        Under systemd's StateDirectory= (the Debian unit, running as the proxier
        user), $STATE_DIRECTORY is the default, before the root and XDG
        defaults; the first of a colon-separated list is ours; a configured
        directory still wins, and a relative or empty value is ignored.
        """
        c = load(None)
        self.patch(os, "geteuid", lambda: 998)
        self.patch(os, "environ", {"STATE_DIRECTORY": "/var/lib/proxier:/var/lib/other",
                                   "XDG_STATE_HOME": "/home/u/.state"})
        self.assertEqual(config.stateDirectory(c), "/var/lib/proxier")
        self.assertEqual(config.stateDirectory(c.replace("state", directory="/srv/p")), "/srv/p")
        self.patch(os, "environ", {"STATE_DIRECTORY": "relative", "XDG_STATE_HOME": "/home/u/.state"})
        self.assertEqual(config.stateDirectory(c), "/home/u/.state/proxier")
        self.patch(os, "geteuid", lambda: 0)
        self.patch(os, "environ", {"STATE_DIRECTORY": ""})
        self.assertEqual(config.stateDirectory(c), "/var/lib/proxier")


def _projectImports(path: str) -> set[str]:
    """The C{proxier} modules a source file imports, at its top or inside a function."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "proxier")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "proxier":
            if node.module != "proxier":  # the top package (its version) comes with any module of it
                found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names
                         if os.path.exists(_sourceOf(f"{node.module}.{a.name}")))
    return found


def _sourceOf(module: str) -> str:
    path = os.path.join(TOP, *module.split("."))
    return os.path.join(path, "__init__.py") if os.path.isdir(path) else path + ".py"


class LayeringTests(unittest.TestCase):
    def test_schemaLibraryImportsNoLayer(self) -> None:
        """
        config.py is the schema library under every layer (issue 12): the
        only project modules it imports, anywhere in it, are leaves that
        import nothing of the project themselves (nor do their packages) —
        never the registry, a plugin or a protocol, which would make the
        schema depend on what it describes. The sections are assembled in
        L{proxier.tap}.
        """
        imported = _projectImports(_sourceOf("proxier.config"))
        self.assertNotIn("proxier.registry", imported)
        for module in sorted(imported):
            parts = module.split(".")
            for depth in range(2, len(parts) + 1):  # the module and each package above it but the top one
                name = ".".join(parts[:depth])
                self.assertEqual(_projectImports(_sourceOf(name)) - {"proxier._version"}, set(),
                                 f"proxier.config imports {module}, which is not a leaf: {name} imports the project")

    def test_sectionsAssembledInTap(self) -> None:
        """The file's schema is the core sections then each plugin's, once each, in L{proxier.tap}."""
        plugins = protocolPlugins()
        sections = configSections(plugins)
        self.assertEqual(sections[:len(config.CORE_SECTIONS)], list(config.CORE_SECTIONS))
        self.assertEqual(sections[len(config.CORE_SECTIONS):], pluginSections(plugins))
        self.assertIn("upnp", [s.name for s in pluginSections(plugins)])
        self.assertEqual(len({s.name for s in sections}), len(sections))
