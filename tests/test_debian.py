"""
The Debian packaging's own code and files (C{debian/}): the unit's check
that an ACS is configured before anything starts, and the unit's sandbox.
C{tools/check-deb} builds, installs, runs and purges the packages.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys

from twisted.trial import unittest

from tests._helpers import TOP

DEBIAN = os.path.join(TOP, "debian")
ACS_CONFIGURED = os.path.join(DEBIAN, "scripts", "acs-configured")


class ACSConfiguredTests(unittest.TestCase):
    """debian/scripts/acs-configured, the unit's ExecCondition=."""

    def check(self, text: str | None) -> tuple[int, str]:
        path = self.mktemp()
        if text is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        result = subprocess.run([sys.executable, ACS_CONFIGURED, path], capture_output=True, timeout=60,
                                text=True)
        return result.returncode, result.stderr

    def test_noACSNoStart(self) -> None:
        """
        The packaged file (no [acs] url, the demo disabled) does not start the
        proxier: exit 1, which systemd reports as a skipped unit, with one line
        naming the key and the file.
        """
        with open(os.path.join(TOP, "etc", "proxier.conf"), encoding="utf-8") as f:
            packaged = f.read().replace("#enable = auto", "enable = no")
        code, err = self.check(packaged)
        self.assertEqual(code, 1)
        self.assertEqual(len(err.splitlines()), 1)
        self.assertIn("set [acs] url in ", err)
        self.assertEqual(self.check("[acs]\nurl =\n[demo]\nenable = auto\n")[0], 1)

    def test_configuredStarts(self) -> None:
        """
        An ACS URL starts it (exit 0, nothing said); the demo does not: it is
        proxier-demo's, run as a user, not the gateway service's.
        """
        self.assertEqual(self.check("[acs]\nurl = https://acs.example.net/cwmp\n"), (0, ""))
        self.assertEqual(self.check("[demo]\nenable = yes\n")[0], 1)

    def test_unreadableLeftToTheProxier(self) -> None:
        """
        A file it cannot read or parse starts the proxier, which then stops
        with its own one-line error (a failed unit, not a silently skipped one).
        """
        self.assertEqual(self.check(None)[0], 0)
        self.assertEqual(self.check("url = x\n")[0], 0)
        self.assertEqual(self.check("[acs\nurl = x\n")[0], 0)
        self.assertEqual(self.check("[acs]\nurl = a\nurl = b\n")[0], 0)


class UnitTests(unittest.TestCase):
    """debian/proxier.service: what it runs and how it is confined."""

    def setUp(self) -> None:
        self.unit = configparser.ConfigParser(strict=False, interpolation=None)
        self.unit.optionxform = str  # type: ignore[assignment,method-assign]
        self.unit.read(os.path.join(DEBIAN, "proxier.service"), encoding="utf-8")

    def test_sandbox(self) -> None:
        """Its own user, no capabilities, a read-only system, its state in StateDirectory=."""
        service = self.unit["Service"]
        expected = {
            "User": "proxier", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
            "PrivateTmp": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
            "StateDirectory": "proxier", "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        }
        self.assertEqual({k: service.get(k) for k in expected}, expected)
        self.assertEqual(service["ExecCondition"], "/usr/libexec/proxier/acs-configured /etc/proxier/proxier.conf")
        self.assertEqual(service["Type"], "notify")

    def test_securityScore(self) -> None:
        """systemd-analyze rates the unit's exposure 2.0 or less ('OK'; without a sandbox it is 9.6)."""
        if shutil.which("systemd-analyze") is None:
            raise unittest.SkipTest("no systemd-analyze here")
        result = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                                 os.path.join(DEBIAN, "proxier.service")],
                                capture_output=True, text=True, timeout=60)
        last = result.stdout.strip().splitlines()[-1]
        if "Overall exposure level" not in last:
            raise unittest.SkipTest(f"this systemd-analyze gives no offline score: {result.stderr.strip()}")
        score = float(last.split(":")[1].split()[0])
        self.assertLessEqual(score, 2.0, last)
