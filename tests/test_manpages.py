"""
The man pages in C{man/} (shipped by the Debian packages) against the
commands they document: every option a command takes is in its page, and
the page is valid roff for man(1).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from twisted.trial import unittest

from tests._helpers import TOP

MAN = os.path.join(TOP, "man")


def _page(name: str) -> str:
    with open(os.path.join(MAN, name), encoding="utf-8") as f:
        return f.read()


def _options(page: str) -> set[str]:
    """The long options a page names (roff writes '-' as '\\-')."""
    return set(re.findall(r"--[a-z][a-z-]*", page.replace("\\-", "-")))


class ManPageTests(unittest.TestCase):
    """Each command's page documents exactly the options the command has."""

    def test_proxierSim(self) -> None:
        """proxier-sim(1) lists every option of proxier-sim's parser, and no other."""
        from proxier.sim.main import parser

        options = {o for action in parser()._actions for o in action.option_strings if o.startswith("--")}
        self.assertEqual(_options(_page("proxier-sim.1")), options)

    def test_proxierCtl(self) -> None:
        """proxier-ctl(1) lists every option of proxier-ctl's parser and its commands', and no other."""
        from proxier.console.ctl import parser

        options = set()
        for action in parser()._actions:
            options |= {o for o in action.option_strings if o.startswith("--")}
            for command in getattr(action, "choices", None) or {}:
                options |= {o for a in action.choices[command]._actions for o in a.option_strings
                            if o.startswith("--")}
        self.assertEqual(_options(_page("proxier-ctl.1")), options)

    def test_proxierDaemon(self) -> None:
        """proxier(8) names every option of the twistd plugin (and twistd's --nodaemon/--pidfile it adds)."""
        from proxier.tap import Options

        options = {"--" + p[0] for p in Options.optParameters} | {"--" + f[0] for f in getattr(Options, "optFlags", [])}
        options.add("--help")
        self.assertTrue(options <= _options(_page("proxier.8")), options - _options(_page("proxier.8")))

    def test_pagesRender(self) -> None:
        """man(1) renders every page without a warning, and each starts with its .TH and a NAME."""
        for name in sorted(os.listdir(MAN)):
            page = _page(name)
            command, section = name.rsplit(".", 1)
            self.assertTrue(page.startswith(f".TH {command.upper().replace('-', chr(92) + '-')} {section} "), name)
            self.assertIn(".SH NAME\n" + command.replace("-", "\\-") + " \\-", page)
        if shutil.which("man") is None:
            raise unittest.SkipTest("no man(1) here to render the pages")
        for name in sorted(os.listdir(MAN)):
            result = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z",
                                     os.path.join(MAN, name)], capture_output=True, timeout=60,
                                    env=dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80"))
            self.assertEqual((result.returncode, result.stderr), (0, b""), name)
