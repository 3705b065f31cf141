"""
Tests for L{proxier.tap} and the twistd plugin: the two command lines a user
types, their help, their one-line errors, and a real start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from twisted.trial import unittest

from proxier import tap
from proxier.config import load
from tests._helpers import TOP, subprocessEnv

RUNNERS = {
    "twistd": [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "--nodaemon", "--pidfile=", "proxier"],
    "twist": [sys.executable, "-m", "twisted", "proxier"],
}


def run(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=subprocessEnv(), cwd=TOP)


class CommandLineTests(unittest.TestCase):
    def write(self, text: str) -> str:
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_help(self) -> None:
        """Both runners document the proxier's options."""
        for name, argv in RUNNERS.items():
            result = run(argv + ["--help"])
            self.assertEqual(result.returncode, 0, (name, result.stderr))
            self.assertIn("--config", result.stdout)
            self.assertIn("Virtual CWMP Device", result.stdout)

    def assertOneLineError(self, argv: list[str], expected: str) -> None:
        result = run(argv)
        self.assertNotEqual(result.returncode, 0)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertEqual(lines[0], expected)
        self.assertNotIn("Traceback", result.stdout + result.stderr)

    def test_typoKey(self) -> None:
        """A misspelt key stops both runners with one line naming file, section and key."""
        path = self.write("[connection_request]\nprot = 7547\n")
        for argv in RUNNERS.values():
            self.assertOneLineError(
                argv + ["--config", path],
                f"proxier: {path}: [connection_request] prot: unknown key (did you mean 'port'?)",
            )

    def test_badURL(self) -> None:
        """A bad ACS URL stops the start in one line."""
        path = self.write("[acs]\nurl = htp://acs.example.net/\n")
        self.assertOneLineError(
            RUNNERS["twistd"] + ["--config", path],
            f"proxier: {path}: [acs] url: 'htp://acs.example.net/' must start with http:// or https://",
        )

    def test_unusableStateDirectory(self) -> None:
        """A state directory that cannot be made or written stops the start in one line."""
        blocker = self.write("a file, not a directory")
        path = self.write(f"[state]\ndirectory = {blocker}\n")
        self.assertOneLineError(
            RUNNERS["twist"] + ["--config", path],
            f"proxier: {path}: [state] directory: {blocker} is not a directory",
        )

    def test_unreadableStateFile(self) -> None:
        """
        A state file that cannot be read (here a directory in its place: EISDIR)
        stops the start in one line naming it, instead of defaults that would
        overwrite it (issue 11 item 7).
        """
        state = os.path.abspath(self.mktemp())
        document = os.path.join(state, "endpoint-self", "management-server.json")
        os.makedirs(document)
        path = self.write(f"[state]\ndirectory = {state}\n[demo]\nenable = no\n"
                          "[lan]\nssdp_mode = unicast-loopback\nssdp_port = 0\n[connection_request]\nport = 0\n")
        self.assertOneLineError(
            RUNNERS["twistd"] + ["--config", path],
            f"proxier: state {document} cannot be read (Is a directory); not replacing it with defaults: "
            "repair it or move it aside",
        )
        self.assertTrue(os.path.isdir(document))

    def test_unknownProtocol(self) -> None:
        """Enabling a protocol that is not installed is a config error."""
        state = os.path.abspath(self.mktemp())
        path = self.write(f"[state]\ndirectory = {state}\n[protocols]\nenabled = Z-Wave\n")
        result = run(RUNNERS["twistd"] + ["--config", path])
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(f"proxier: {path}: [protocols] enabled: no protocol plugin named 'Z-Wave'", result.stderr)

    def test_portInUse(self) -> None:
        """A Connection Request port already taken stops both runners with one plain line, no traceback."""
        import socket

        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        state = os.path.abspath(self.mktemp())
        path = self.write(f"[state]\ndirectory = {state}\n[demo]\nenable = no\n[lan]\nssdp_mode = unicast-loopback\n"
                          f"ssdp_port = 0\n[connection_request]\nport = {port}\n")
        expected = (f"proxier: {path}: [connection_request] port: port {port} on 127.0.0.1 is already in use by "
                    "another program (the gateway's own CWMP client? choose another port)")
        self.assertOneLineError(RUNNERS["twist"] + ["--config", path], expected)
        result = run(RUNNERS["twistd"] + ["--config", path])
        self.assertNotEqual(result.returncode, 0)
        output = result.stdout + result.stderr
        self.assertNotIn("Traceback", output)
        self.assertEqual([line for line in output.splitlines() if "already in use" in line][0].split("] ", 1)[-1],
                         expected)

    def test_everyMistakeAtOnce(self) -> None:
        """Several mistakes: one 'proxier: ' line each, in one run."""
        path = self.write("[acs\nurl = htp://acs/\n[lan]\nssdp_port = -1\n")
        result = run(RUNNERS["twist"] + ["--config", path])
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stderr.strip().splitlines(), [
            f"proxier: {path}: line 1: the section header '[acs' has no closing ']'",
            f"proxier: {path}: [acs] url: 'htp://acs/' must start with http:// or https://",
            f"proxier: {path}: [lan] ssdp_port: -1 is below the minimum 0",
        ])

    def test_missingConfig(self) -> None:
        """An explicit --config that does not exist is an error, not defaults."""
        self.assertOneLineError(
            RUNNERS["twist"] + ["--config", "/nonexistent.conf"],
            "proxier: /nonexistent.conf: no such file",
        )

    def startAndStop(self, argv: list[str], until: str) -> str:
        """Start a runner, wait for C{until} in its output, stop it with SIGTERM."""
        child = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=subprocessEnv(), cwd=TOP
        )
        seen = []
        deadline = time.monotonic() + 60
        try:
            for line in child.stdout:
                seen.append(line)
                if until in line or time.monotonic() > deadline:
                    break
        finally:
            child.send_signal(signal.SIGTERM)
            rest, _ = child.communicate(timeout=30)
        seen.append(rest)
        output = "".join(seen)
        # Twisted re-raises the stopping signal at exit, so a parent sees it
        self.assertIn(child.returncode, (0, -signal.SIGTERM), output)
        self.assertNotIn("Traceback", output)
        self.assertIn("Main loop terminated", output)
        return output

    def test_startsWithLoggingFromConfig(self) -> None:
        """
        Both runners start the service tree, log in the format the [log]
        section names, and stop cleanly on SIGTERM.
        """
        state = os.path.abspath(self.mktemp())
        for fmt, name in [("json", "twistd"), ("text", "twist"), ("json", "twist"), ("text", "twistd")]:
            path = self.write(
                f"[state]\ndirectory = {state}\n[log]\nformat = {fmt}\n[demo]\nenable = no\n"
                "[lan]\nssdp_mode = unicast-loopback\nssdp_port = 0\n"
                "[connection_request]\nport = 0\n"
            )
            # the idle report comes once the reactor runs (and handles SIGTERM)
            output = self.startAndStop(RUNNERS[name] + ["--config", path], "no devices found yet")
            first = [l for l in output.splitlines() if "proxier 0." in l][0]
            if fmt == "json":
                self.assertTrue(first.startswith("{"), (name, first))
                self.assertIn('"text": "proxier 0.', first)
            else:
                self.assertFalse(first.startswith("{"), (name, first))
                self.assertIn(" INFO [", first)
            self.assertTrue(os.path.isdir(state))


class OptionsTests(unittest.TestCase):
    def test_parses(self) -> None:
        """Parsed options carry the validated config, the store and the protocols."""
        state = self.mktemp()
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(f"[state]\ndirectory = {state}\n")
        options = tap.Options()
        options.parseOptions(["--config", path])
        self.assertEqual(options.config.path, path)
        self.assertEqual(options.store.path, os.path.abspath(state))
        self.assertEqual([p.name for p in options.protocols], [p.name for p in options.plugins])

    def test_demoStateApart(self) -> None:
        """
        Unconfigured (the demo), the state goes beside the default directory
        with "-demo" appended, never into a gateway's real state; configured
        for an ACS, into the default directory itself.
        """
        home = os.path.abspath(self.mktemp())
        self.patch(os, "geteuid", lambda: 1000)
        self.patch(os, "environ", dict(os.environ, XDG_STATE_HOME=home))
        demo = tap.Options()
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write("[connection_request]\nport = 0\n")
        demo.parseOptions(["--config", path])
        self.assertEqual(demo.store.path, os.path.join(home, "proxier-demo"))
        with open(path, "w") as f:
            f.write("[acs]\nurl = http://127.0.0.1:9/acs\n")
        real = tap.Options()
        real.parseOptions(["--config", path])
        self.assertEqual(real.store.path, os.path.join(home, "proxier"))

    def test_console(self) -> None:
        """[console] enable puts the console in the service tree, on the configured address; off, there is none."""
        from twisted.internet.testing import MemoryReactorClock

        from proxier.console.server import ConsoleService

        state = os.path.abspath(self.mktemp())
        path = self.mktemp()
        for enable in (False, True):
            with open(path, "w") as f:
                f.write(f"[state]\ndirectory = {state}\n[acs]\nurl = http://127.0.0.1:9/acs\n"
                        f"[console]\nenable = {enable}\nport = 0\n")
            options = tap.Options()
            options.parseOptions(["--config", path])
            service = tap.makeService(options, reactor=MemoryReactorClock())
            consoles = [s for s in service if isinstance(s, ConsoleService)]
            self.assertEqual(len(consoles), int(enable))
            if enable:
                self.assertEqual(consoles[0].section["listen_address"], "127.0.0.1")

    def test_demoConsole(self) -> None:
        """The demo always has its console, once, on loopback without credentials, whatever [console] says."""
        from twisted.internet.testing import MemoryReactorClock

        from proxier.console.server import ConsoleService

        state = os.path.abspath(self.mktemp())
        path = self.mktemp()
        for enable in (False, True):
            with open(path, "w") as f:
                f.write(f"[state]\ndirectory = {state}\n[demo]\nprinter = no\n"
                        f"[console]\nenable = {enable}\nport = 0\n")
            options = tap.Options()
            options.parseOptions(["--config", path])
            service = tap.makeService(options, reactor=MemoryReactorClock())
            [console] = [s for s in service if isinstance(s, ConsoleService)]
            self.assertEqual((console.section["listen_address"], console.section["credentials"]),
                             ("127.0.0.1", ("", "")))

    def test_daemonWithStdoutLog(self) -> None:
        """
        twistd as a daemon with [log] file = -: a warning on standard error and
        the log in the state directory, instead of every line lost in /dev/null;
        in the foreground (--nodaemon, or twist) standard output stays.
        """
        import io

        from twisted.logger import Logger

        state = os.path.abspath(self.mktemp())
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(f"[state]\ndirectory = {state}\n[acs]\nurl = http://127.0.0.1:9/acs\n[connection_request]\nport = 0\n"
                    "[lan]\nssdp_mode = unicast-loopback\nssdp_port = 0\n")
        for nodaemon in (False, True):
            options = tap.Options()
            options.parseOptions(["--config", path])
            options.parent = {"nodaemon": nodaemon}
            err = io.StringIO()
            self.patch(sys, "stderr", err)
            service = tap.makeService(options)
            Logger(observer=service.logObserver).info("a line")
            service.logObserver.close()
            logFile = os.path.join(state, "proxier.log")
            if nodaemon:
                self.assertEqual(err.getvalue(), "")
            else:
                self.assertIn("[log] file = - but twistd runs as a daemon", err.getvalue())
                with open(logFile) as f:
                    self.assertIn("a line", f.read())
            self.assertTrue(service.handleSIGHUP)


# Run in a child: which modules a start imports, in a fresh interpreter.
_IMPORTED_BY_START = """
import sys
from proxier import tap
options = tap.Options()
options.parseOptions(["--config", sys.argv[1]])
service = tap.makeService(options)
print(" ".join(sorted(m for m in sys.modules if m == "proxier.demo" or m.startswith("proxier.sim")
                      or m == "proxier.cwmp.fakeacs")))
"""


class DemoChoiceTests(unittest.TestCase):
    """Whether a start is the demo is decided in L{proxier.tap}, without the demo."""

    def test_demoActive(self) -> None:
        """auto: the demo when no ACS is configured; yes: always; no: never."""
        config = load(None)
        self.assertTrue(tap.demoActive(config))
        self.assertFalse(tap.demoActive(config.replace("acs", url="https://acs.example/")))
        self.assertTrue(tap.demoActive(config.replace("acs", url="https://acs.example/").replace("demo", enable="yes")))
        self.assertFalse(tap.demoActive(config.replace("demo", enable="no")))

    def test_quietUnlessTheFileSaysOtherwise(self) -> None:
        """The demo logs at warn level unless the config file sets [log] level."""
        self.assertEqual(tap.demoLogSection(load(None))["level"], "warn")
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[log]\nlevel = debug\n")
        self.assertEqual(tap.demoLogSection(load(path))["level"], "debug")

    def importedByStart(self, text: str) -> list[str]:
        state = os.path.abspath(self.mktemp())
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write(f"[state]\ndirectory = {state}\n[connection_request]\nport = 0\n"
                    f"[lan]\nssdp_mode = unicast-loopback\nssdp_port = 0\n{text}")
        result = run([sys.executable, "-c", _IMPORTED_BY_START, path])
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.split()

    def test_plainStartWithoutDemo(self) -> None:
        """
        A start with an ACS configured makes its whole service tree without
        importing the demo, the simulated devices or the demo ACS (a gateway
        package may ship without them: Debian's proxier without proxier-sim);
        with [demo] enable = no either.
        """
        self.assertEqual(self.importedByStart("[acs]\nurl = http://127.0.0.1:9/acs\n"), [])
        self.assertEqual(self.importedByStart("[demo]\nenable = no\n"), [])

    def test_demoStartImportsDemo(self) -> None:
        """The same check sees the demo when it is asked for ([demo] enable = yes): it is not blind."""
        self.assertIn("proxier.demo", self.importedByStart("[acs]\nurl = http://127.0.0.1:9/acs\n[demo]\nenable = yes\n"))
