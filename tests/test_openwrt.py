"""
Tests for the OpenWrt package: L{proxier.openwrt} renders UCI samples into
the INI file that L{proxier.config.load} accepts (run through the init
script's own C{render} function too), and the package Makefile's variables
agree with the source tree.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import stat
import subprocess
import sys

from twisted.trial import unittest

from proxier import config as C
from proxier._version import __version__
from proxier.openwrt import UCIError, gatewayCWMPPort, main, parseUCI, render, renderFile
from proxier.registry import protocolPlugins
from proxier.tap import pluginSections

from ._helpers import subprocessEnv

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.dirname(HERE)
PACKAGE = os.path.join(TREE, "openwrt", "proxier")
FILES = os.path.join(PACKAGE, "files")

# /etc/config/proxier as an operator leaves it (uci export format, with quoting uci writes).
EXPORT = """\
package proxier

config proxier 'main'
\toption enabled '1'
\toption respawn_retry '5'

config acs 'acs'
\toption url 'https://acs.example.net:7557/cwmp'
\toption username 'box'
\toption password 'it'\\''s "secret" # not a comment'

config lan 'lan'
\tlist interfaces 'br-lan'
\tlist interfaces 'br-guest'

config log
\toption level 'debug'
"""

# The same configuration as 'uci show proxier' prints it.
SHOW = """\
proxier.main=proxier
proxier.main.enabled='1'
proxier.main.respawn_retry='5'
proxier.acs=acs
proxier.acs.url='https://acs.example.net:7557/cwmp'
proxier.acs.username='box'
proxier.acs.password='it'\\''s "secret" # not a comment'
proxier.lan=lan
proxier.lan.interfaces='br-lan' 'br-guest'
proxier.@log[0]=log
proxier.@log[0].level='debug'
"""


class Host:
    """Made-up host files for one test: the UCI file, the board file, /sys/class/net, CWMP client configs."""

    def __init__(self, testCase: unittest.TestCase, uci: str = EXPORT) -> None:
        self.root = testCase.mktemp()
        os.makedirs(os.path.join(self.root, "net"))
        self.uci = self.path("proxier", uci)
        self.board = self.path("board.json", json.dumps({"system": {"label_macaddr": "a4:2b:b0:0c:0f:fe"}}))
        self.out = os.path.join(self.root, "var", "etc", "proxier.conf")
        self.cwmp = os.path.join(self.root, "cwmp")

    def path(self, name: str, text: str) -> str:
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def render(self) -> str:
        return renderFile(self.uci, self.out, cwmpConfigs=[self.cwmp], machineIdPath=self.path("machine-id", ""),
                          boardJSON=self.board, sysClassNet=os.path.join(self.root, "net"), extraSections=[])

    def load(self) -> C.Config:
        return C.load(self.out)


class ParseTests(unittest.TestCase):
    def test_exportFormat(self) -> None:
        """The file format: sections with their options and lists in order, uci's quoting undone."""
        sections = parseUCI(EXPORT)
        self.assertEqual([(t, n) for t, n, _ in sections], [("proxier", "main"), ("acs", "acs"), ("lan", "lan"),
                                                            ("log", "")])
        self.assertIn(("password", 'it\'s "secret" # not a comment', False), sections[1][2])
        self.assertEqual(sections[2][2], [("interfaces", "br-lan", True), ("interfaces", "br-guest", True)])

    def test_showFormatSame(self) -> None:
        """'uci show' output renders to the same INI as the file itself."""
        self.assertEqual(render(parseUCI(SHOW)), render(parseUCI(EXPORT)))

    def test_badLines(self) -> None:
        """A line that is no UCI statement, or an unclosed quote, is refused with its line number."""
        for text, line in (("config acs\n\tbogus line here\n", 2), ("option url 'x'\n", 1),
                           ("config acs\n\toption url 'unclosed\n", 2)):
            with self.assertRaises(UCIError) as caught:
                parseUCI(text, "/etc/config/proxier")
            self.assertIn(f"/etc/config/proxier: line {line}:", str(caught.exception))


class RenderTests(unittest.TestCase):
    def test_accepted(self) -> None:
        """A sample renders into an INI the daemon loads: values, a list as words, the init section left out."""
        host = Host(self)
        host.render()
        config = host.load()
        self.assertEqual(config["acs"]["url"], "https://acs.example.net:7557/cwmp")
        self.assertEqual(config["acs"]["password"], 'it\'s "secret" # not a comment')
        self.assertEqual(config["lan"]["interfaces"], ("br-lan", "br-guest"))
        self.assertEqual(config["log"]["level"], "debug")
        self.assertNotIn("proxier", config)
        self.assertEqual(stat.S_IMODE(os.stat(host.out).st_mode), 0o600, "it holds the ACS password")

    def test_openWrtDefaults(self) -> None:
        """Unless set: state on the overlay (not tmpfs /var), logs to stdout (logd), port 7548, no demo, serial from the base MAC."""
        host = Host(self)
        host.render()
        config = host.load()
        self.assertEqual(config["state"]["directory"], "/etc/proxier")
        self.assertEqual(config["log"]["file"], "-")
        self.assertEqual(config["connection_request"]["port"], 7548)
        self.assertEqual(config["demo"]["enable"], "no")
        self.assertEqual(config["device"]["serial_number"], "A42BB00C0FFE")

    def test_givenValuesWin(self) -> None:
        """What the UCI file sets is kept, a serial number included."""
        host = Host(self, EXPORT + "\nconfig device\n\toption serial_number 'SN1'\n"
                          "config state\n\toption directory '/srv/proxier'\n")
        host.render()
        config = host.load()
        self.assertEqual((config["device"]["serial_number"], config["state"]["directory"]), ("SN1", "/srv/proxier"))

    def test_shippedConfig(self) -> None:
        """The package's /etc/config/proxier, with an ACS URL filled in, renders into a file the daemon accepts."""
        with open(os.path.join(FILES, "proxier.config")) as f:
            shipped = f.read()
        self.assertIn("option url ''", shipped)
        host = Host(self, shipped.replace("option url ''", "option url 'http://acs.example.net/'"))
        host.render()
        config = host.load()
        self.assertEqual(config["lan"]["interfaces"], ("br-lan",))
        self.assertEqual(config["connection_request"]["port"], 7548)
        self.assertEqual((config["console"]["enable"], config["console"]["listen_address"]), (False, "127.0.0.1"))
        # and with the plugins' sections, as the init script runs it
        renderFile(host.uci, host.out, cwmpConfigs=[], boardJSON=host.board)
        C.load(host.out, pluginSections(protocolPlugins()))

    def test_mistakesNamed(self) -> None:
        """A mistake names the UCI file and the key, in the daemon's words; the previous INI file stays."""
        host = Host(self)
        host.render()
        with open(host.out) as f:
            good = f.read()
        host.path("proxier", EXPORT + "\nconfig lan 'x'\n")
        self.assertRaises(UCIError, host.render)
        host.path("proxier", EXPORT.replace("option level", "option levle"))
        with self.assertRaises(C.ConfigError) as caught:
            host.render()
        self.assertIn(host.uci, str(caught.exception))
        self.assertIn("levle", str(caught.exception))
        self.assertIn("did you mean 'level'", str(caught.exception))
        with open(host.out) as f:
            self.assertEqual(f.read(), good)
        self.assertEqual(sorted(os.listdir(os.path.dirname(host.out))), ["proxier.conf"], "no temporary file left")

    def test_noInjection(self) -> None:
        """A value cannot smuggle in an INI line or section; a list item cannot hold a comma."""
        with self.assertRaises(UCIError):
            render(parseUCI("config acs\n\toption url 'http://a/\n[demo]\nenable = yes'\n"))
        with self.assertRaises(UCIError):
            render(parseUCI("config lan\n\tlist interfaces 'br-lan,eth0'\n"))
        with self.assertRaises(UCIError):
            render(parseUCI("config 'a b'\n"))

    def test_demoRefused(self) -> None:
        """The demo is not installed on OpenWrt: asking for it is refused at render time, not a crash later."""
        with self.assertRaises(UCIError) as caught:
            render(parseUCI("config demo\n\toption enable 'auto'\n"))
        self.assertIn("[demo] enable", str(caught.exception))

    def test_gatewayCWMPPort(self) -> None:
        """The Connection Request port of the gateway's own CWMP client is refused, naming its file."""
        host = Host(self, EXPORT + "\nconfig connection_request\n\toption port '7547'\n")
        host.path("cwmp", "config cpe 'cpe'\n\toption port '7547'\n")
        with self.assertRaises(UCIError) as caught:
            host.render()
        self.assertIn("[connection_request] port 7547 is the port of the gateway's own CWMP client", str(caught.exception))
        self.assertIn(host.cwmp, str(caught.exception))
        # its default when the client's file names no port; no file, no client
        host.path("cwmp", "config cpe 'cpe'\n\toption interface 'wan'\n")
        self.assertEqual(gatewayCWMPPort([host.cwmp, host.cwmp + ".none"]), {host.cwmp: 7547})
        host.path("cwmp", "config cpe 'cpe'\n\toption port '7600'\n")
        host.render()
        self.assertEqual(host.load()["connection_request"]["port"], 7547)


class CommandTests(unittest.TestCase):
    def test_main(self) -> None:
        """python3 -m proxier.openwrt: 0 when rendered; 1 with 'proxier: ' lines on standard error otherwise."""
        host = Host(self, EXPORT.replace("https://", "gopher://"))
        from io import StringIO

        err = StringIO()
        saved, sys.stderr = sys.stderr, err
        try:
            self.assertEqual(main([host.uci, host.out]), 1)
            self.assertEqual(main([host.uci]), 2)
        finally:
            sys.stderr = saved
        self.assertTrue(err.getvalue().startswith(f"proxier: {host.uci}: [acs] url: "), err.getvalue())
        self.assertFalse(os.path.exists(host.out))

    def test_initScriptRender(self) -> None:
        """The init script's own render() (run by sh, logger stubbed) makes the INI file, or stops with the mistake."""
        with open(os.path.join(FILES, "proxier.init")) as f:
            script = f.read()
        function = re.search(r"^render\(\) \{\n.*?^\}\n", script, re.S | re.M).group(0)
        host = Host(self)
        stub = (f"logger() {{ cat >/dev/null; }}\nPYTHON={sys.executable}\nUCI_FILE={host.uci}\n"
                f"INI_FILE={host.out}\n" + function.replace("mkdir -p /var/etc", f"mkdir -p {os.path.dirname(host.out)}")
                + "render\n")
        env = subprocessEnv(TREE)
        done = subprocess.run(["sh", "-c", stub], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(host.load()["acs"]["username"], "box")
        host.path("proxier", EXPORT + "\nconfig acs 'again'\n")
        done = subprocess.run(["sh", "-c", stub], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 1)
        self.assertIn("two 'acs' sections", done.stderr)


def makefileVariables(path: str) -> dict[str, str]:
    """The simple ':=' variables and the 'define NAME ... endef' blocks of a Makefile (continuations joined)."""
    with open(path) as f:
        text = f.read().replace("\\\n", " ")
    found: dict[str, str] = {}
    for m in re.finditer(r"^define (\S+)\n(.*?)^endef", text, re.S | re.M):
        found[m.group(1)] = m.group(2)
        for inner in re.finditer(r"^\s*([A-Z_]+):=(.*)$", m.group(2), re.M):
            found[f"{m.group(1)}:{inner.group(1)}"] = inner.group(2).strip()
    for m in re.finditer(r"^([A-Z0-9_]+):=(.*)$", text, re.M):
        found[m.group(1)] = m.group(2).strip()
    return found


class MakefileTests(unittest.TestCase):
    def setUp(self) -> None:
        self.vars = makefileVariables(os.path.join(PACKAGE, "Makefile"))

    def test_identity(self) -> None:
        """Name, version and licence are the source tree's (setup.cfg, proxier._version)."""
        setup = configparser.ConfigParser()
        setup.read(os.path.join(TREE, "setup.cfg"))
        self.assertEqual(self.vars["PKG_NAME"], "proxier")
        self.assertEqual(self.vars["PKG_VERSION"], __version__)
        self.assertEqual(self.vars["PKG_LICENSE"], setup["metadata"]["license"])
        self.assertRegex(self.vars["PKG_MAINTAINER"], r"^[^<>]+ <[^@<>\s]+@[^@<>\s]+\.[a-z]+>$")

    def test_dependsCoverRequirements(self) -> None:
        """Every install requirement of setup.cfg is a python3- dependency, except treq (optional: see httpclient)."""
        setup = configparser.ConfigParser()
        setup.read(os.path.join(TREE, "setup.cfg"))
        depends = set(self.vars["Package/proxier:DEPENDS"].split())
        names = {"zope.interface": "zope-interface", "pyOpenSSL": "pyopenssl", "service-identity": "service-identity",
                 "Twisted": "twisted"}
        for line in setup["options"]["install_requires"].splitlines():
            line = line.split("#")[0].strip()
            if not line:
                continue
            name = re.split(r"[\s<>=!]", line)[0]
            if name == "treq":
                continue
            self.assertIn("+python3-" + names.get(name, name.lower()), depends, name)
        self.assertIn("+python3-ctypes", depends, "netif reads getifaddrs through ctypes")

    def test_installedFiles(self) -> None:
        """Every ./files/ the install step names exists; the UCI file is a conffile; the scripts are executable."""
        install = self.vars["Package/proxier/install"]
        named = re.findall(r"\./files/(\S+)", install)
        self.assertEqual(sorted(named), ["proxier-ctl", "proxier.config", "proxier.hotplug", "proxier.init"])
        for name in named:
            self.assertTrue(os.path.exists(os.path.join(FILES, name)), name)
        for name in ("proxier.init", "proxier.hotplug", "proxier-ctl"):
            self.assertTrue(os.access(os.path.join(FILES, name), os.X_OK), name)
        self.assertIn("/etc/config/proxier", self.vars["Package/proxier/conffiles"].split())
        self.assertIn("$(PROXIER_SOURCE_DIR)/proxier ", self.vars["Build/Prepare"])

    def test_ctlInstalled(self) -> None:
        """proxier-ctl is installed as a program on the PATH, in a directory the install step makes."""
        install = self.vars["Package/proxier/install"]
        self.assertIn("$(INSTALL_BIN) ./files/proxier-ctl $(1)/usr/bin/proxier-ctl", install)
        made = re.search(r"\$\(INSTALL_DIR\)((?: \$\(1\)/\S+)+)", install.split("./files/")[0]).group(1).split()
        self.assertIn("$(1)/usr/bin", made)

    def test_ctlScript(self) -> None:
        """
        The installed proxier-ctl reads the console of the INI file the init
        script rendered from the UCI file (its 'config console'); a --config
        given on its command line wins; a file not rendered yet is not named
        (the daemon's defaults apply, not a "missing file" mistake).
        """
        with open(os.path.join(FILES, "proxier-ctl")) as f:
            script = f.read()
        self.assertTrue(script.startswith("#!/bin/sh\n"))
        self.assertIn("\nPYTHON=/usr/bin/python3\n", script)
        self.assertIn("\nINI_FILE=/var/etc/proxier.conf\n", script)
        host = Host(self, EXPORT + "\nconfig console 'console'\n\toption port '1'\n")
        host.render()
        other = host.path("other.conf", "[console]\nport = 2\n")

        def run(ini: str, *args: str) -> subprocess.CompletedProcess:
            stub = script.replace("\nPYTHON=/usr/bin/python3\n", f"\nPYTHON={sys.executable}\n") \
                         .replace("\nINI_FILE=/var/etc/proxier.conf\n", f"\nINI_FILE={ini}\n")
            return subprocess.run(["sh", "-c", stub, "proxier-ctl", *args], env=subprocessEnv(TREE),
                                  capture_output=True, text=True, timeout=60)

        # port 1 of loopback: nobody listens, so "cannot reach" names the console it tried
        done = run(host.out, "status")
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("cannot reach the console at http://127.0.0.1:1/", done.stderr)
        done = run(host.out, "--config", other, "devices")
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("http://127.0.0.1:2/", done.stderr)
        done = run(host.out + ".none", "--url", "http://127.0.0.1:2/", "status")
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("http://127.0.0.1:2/", done.stderr)
        done = run(host.out, "--help")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("proxier-ctl", done.stdout)

    def test_initScript(self) -> None:
        """The init script is procd's: respawn, stdout/stderr to logd, reload by SIGHUP, started only with an ACS URL."""
        with open(os.path.join(FILES, "proxier.init")) as f:
            script = f.read()
        self.assertTrue(script.startswith("#!/bin/sh /etc/rc.common\n"))
        for line in ("USE_PROCD=1", "procd_set_param respawn", "procd_set_param stdout 1",
                     "procd_set_param stderr 1", "procd_set_param reload_signal HUP",
                     "procd_add_reload_trigger", 'config_get url acs url ""', "-m twisted proxier --config",
                     "procd_send_signal \"$NAME\" '*' HUP"):
            self.assertIn(line, script)
        with open(os.path.join(FILES, "proxier.hotplug")) as f:
            self.assertIn("/etc/init.d/proxier reload", f.read())
