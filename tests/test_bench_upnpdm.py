"""
Tests for the UPnP DM GetParameterValues benchmarks (issue 19, "Measured"):
each script runs to its end with tiny sizes and prints every figure it
promises (the figures themselves are not checked: they are measurements).
"""

from __future__ import annotations

import os

from twisted.trial import unittest

from tests._helpers import TOP, runBench


class ScriptTests(unittest.TestCase):
    """Each script as it is run by hand, with tiny sizes, on this interpreter."""

    timeout = 180

    def test_gpv(self) -> None:
        """
        bench_upnpdm_gpv: both sizes, the three timings and their ratios; the
        proxier's own time of each; each call's steps, and the request the
        same both ways; the profile of the proxier's part.
        """
        profile = os.path.abspath(self.mktemp())
        out = runBench(self, "bench_upnpdm_gpv.py", "--rounds", "2", "--own", "2", "--phases", "2",
                       "--profile", profile)
        for line in (" 1 parameter(s): proxied", "50 parameter(s): proxied", "ratio of medians proxied/direct",
                     " 1 parameter(s): the proxier's own time", "50 parameter(s): the proxier's own time",
                     f"profile of 2 calls (reactor waits included) in {profile}", "proxier/upnpdm/"):
            self.assertIn(line, out)
        for size in (" 1", "50"):
            for name in ("proxied", " direct"):
                self.assertRegex(out, f"{size} parameter\\(s\\), {name}: callAction [0-9.]+, .*request written .*"
                                      "device read .*answered .*end [0-9.]+ ms; reactor turns [0-9]")
            # (which connection a call finds free is the pool's: True is the finding, not what is checked)
            self.assertRegex(out, f"{size} parameter\\(s\\): the same request \\(bytes, connection, writes\\) "
                                  "most often: (True|False) \\([0-9]+ and [0-9]+ of 2 calls\\)")
        self.assertTrue(os.path.getsize(profile))

    def test_endToEnd(self) -> None:
        """
        bench_cwmp_session --upnpdm, with --before (this checkout again, so
        that both child processes run): each size from the ACS and direct,
        before and after.
        """
        out = runBench(self, "bench_cwmp_session.py", "--upnpdm", "--blocks", "5", "--rounds", "1", "--before", TOP,
                        "--repeat", "2")
        self.assertIn("5 blocks x 1 calls each, 2 turns of each checkout", out)
        for size in (" 1", "50"):
            for label in ("before", "after "):
                self.assertIn(f"{size} parameter(s), {label}: from the ACS", out)
        self.assertEqual(out.count("ratio"), 4)

    def test_scale(self) -> None:
        """bench_upnpdm_scale: the BOOTSTRAP time, peak RSS and CPU of a tiny fleet, and the fsyncs per device."""
        out = runBench(self, "bench_upnpdm_scale.py", "--sizes", "2", "--timeout", "100")
        self.assertIn("N =     2, fsync +   0 ms: all BOOTSTRAP sessions done in", out)
        self.assertIn("0 GENA NOTIFY connections refused or cut", out)
        self.assertIn("fsyncs,", out)

    def test_lostNotifiesFromTheLog(self) -> None:
        """The refused or cut NOTIFYs are the callback server's last word at exit; none logged: 0."""
        from bench.bench_upnpdm_scale import lostNotifies

        workdir = self.mktemp()
        os.makedirs(workdir)
        with open(os.path.join(workdir, "proxier.log"), "w") as f:
            f.write("2026-12-06T15:46:20+0000 WARN [proxier.upnp.eventing.CallbackServer#warn] GENA callback server "
                    "stops: 2990 events taken, 17 NOTIFY connections refused or cut, 800 made to wait for a slot\n")
        self.assertEqual(lostNotifies(workdir), 17)
        with open(os.path.join(workdir, "proxier.log"), "w") as f:
            f.write("nothing\n")
        self.assertEqual(lostNotifies(workdir), 0)

    def test_restart(self) -> None:
        """bench_upnpdm_restart: a tiny fleet bootstrapped, then back online after the proxier's restart."""
        out = runBench(self, "bench_upnpdm_restart.py", "--sizes", "2", "--timeout", "100")
        self.assertIn("N =     2: first run, all bootstrapped in", out)
        self.assertIn("; restarted, all online in", out)
        self.assertIn("90 % in", out)
