"""
The console in a real browser (issue 15, "A real browser"): headless
Chromium loads the page from a proxier whose UPnP-DM plugin proxies two
simulated devices (L{proxier.sim.fleet.Fleet}, SSDP in unicast-loopback
mode: nothing multicast) for the fake ACS, everything on 127.0.0.1, and the
test acts on the page only through its DOM, as a person would.

The driver is Chromium's own DevTools protocol over
C{--remote-debugging-pipe}, with the small client of L{tests._cdp}:
Playwright would download browsers of its own (impossible here, and not
Debian's C{chromium}), and the pipe needs neither a port nor a WebSocket
client (Twisted has none) — the whole driver is the standard library and
Twisted's process support, on both stacks.

Skipped when Chromium is absent (C{tools/install-test-peers} installs it).
A screenshot of the page is left in the test's directory under
C{_trial_temp/}, its path in the test log.
"""

from __future__ import annotations

import json
import os
from typing import Any

from twisted.internet import defer, reactor
from twisted.logger import Logger
from twisted.trial import unittest

from proxier.console.api import TreeSource
from proxier.console.server import ConsoleService
from proxier.cwmp import messages as m
from proxier.datamodel.values import AttributeChange, ParameterValue
from tests import _cdp, _helpers
from tests.test_upnpdm_e2e import Lab, events

CHROMIUM = _cdp.findChromium()
NTP = "Device.Time.NTPServer1"
SIM_NTP = "/BBF/Time/NTPServer1"
WAIT = 20.0
log = Logger()

#: page helpers, in the page's own terms (index.html's ids, console.js's classes); each returns null until done
HELPERS = """
window.proxierTest = {
  rows() {
    return [...document.querySelectorAll("#devices tbody tr")].map((row) => row.textContent);
  },
  row(key) {
    return [...document.querySelectorAll("#devices tbody tr")].find((row) => row.textContent.includes(key));
  },
  // the item of a parameter in the browser, opening each object on the way (one level a call)
  parameter(path) {
    const parts = path.split(".");
    const name = parts.pop();
    let list = document.getElementById("tree");
    let prefix = "";
    for (const part of parts) {
      prefix += part + ".";
      const item = [...list.children].find(
        (li) => li.classList.contains("object") && li.querySelector(":scope > .name").textContent === part + ".");
      if (!item) return null;
      if (!item.classList.contains("open")) {
        item.querySelector(":scope > .name").click();
        return null;
      }
      list = item.querySelector(":scope > ul");
    }
    return [...list.children].find(
      (li) => li.classList.contains("parameter") && li.querySelector(":scope > .name").textContent === name) || null;
  },
  reopen(path) {
    const object = this.parameter(path).parentElement.parentElement;
    const label = object.querySelector(":scope > .name");
    label.click();
    label.click();
  },
};
true
"""


def js(value: Any) -> str:
    """A Python value as a JavaScript literal."""
    return json.dumps(value)


class BrowserTests(unittest.TestCase):
    """The console page in headless Chromium against the simulators."""

    timeout = 150
    if CHROMIUM is None:
        skip = "Chromium is not installed (tools/install-test-peers installs Debian's chromium)"

    @defer.inlineCallbacks
    def setUp(self) -> Any:
        self.lab = Lab(self, count=2)
        yield self.lab.start()
        config = self.lab.tree.config.replace("console", enable=True, port=0)
        self.console = ConsoleService(config, TreeSource(self.lab.tree), reactor=reactor)
        self.console.setServiceParent(self.lab.tree)
        self.home = os.path.abspath(self.mktemp())
        os.makedirs(self.home)
        self.browser = yield _cdp.launch(reactor, CHROMIUM, self.home)
        self.addCleanup(self.browser.stop)
        log.info("headless Chromium (pid {pid}) on the console {url}", pid=self.browser.pid, url=self.console.url())

    @defer.inlineCallbacks
    def test_devicesLiveValuesAndWrite(self) -> None:
        """
        The page lists both simulated devices; after the ACS turned active
        Notification on for NTPServer1, the device's own change of it shows
        in the device list without a reload (its VALUE CHANGE, waiting or
        sent: the page refreshes the list itself) and in the parameter
        browser when its object is opened again; a value typed into the
        page's input and set with its button reaches the simulated device,
        and the ACS as a VALUE CHANGE (not its own write). No uncaught
        exception in the page; a screenshot is left.
        """
        lab = self.lab
        keys = [lab.sim(i).identity.deviceIdentity.key for i in range(2)]
        page = yield _cdp.Page.open(self.browser, self.console.url(), reactor)
        yield page.waitFor("document.readyState === 'complete'", WAIT, "the page loaded")
        yield page.evaluate(HELPERS)

        rows = yield page.waitFor(f"(() => {{ const rows = proxierTest.rows(); return {js(keys)}.every("
                                  "(key) => rows.some((row) => row.includes(key))) && rows; })()",
                                  WAIT, "both devices listed")
        self.assertEqual(len(rows), 2)
        self.assertTrue(all("online" in row for row in rows), rows)

        yield lab.session([m.SetParameterAttributes((AttributeChange(NTP, True, 2),))])
        yield page.evaluate(f"proxierTest.row({js(keys[0])}).click()")
        before = lab.sim().cms.model.value(SIM_NTP)
        shown = yield page.waitFor(f"(() => {{ const item = proxierTest.parameter({js(NTP)}); "
                                   "return item && item.querySelector('input').value; })()",
                                   WAIT, "NTPServer1 in the parameter browser")
        self.assertEqual(shown, before)

        sessions = len(lab.sessions())
        lab.sim().cms.setLocal(SIM_NTP, "ntp.changed-on-the-device")
        yield page.waitFor(f"proxierTest.row({js(keys[0])}).textContent.includes('4 VALUE CHANGE')",
                           WAIT, "the device's VALUE CHANGE in its row, without a reload")
        # the row may have shown the event waiting, before the session that delivers it
        yield _helpers.waitFor(lab.ended(0, sessions + 1), WAIT, "the VALUE CHANGE session")
        self.assertEqual(events(lab.sessions()[sessions]), ["4 VALUE CHANGE"])
        yield page.evaluate(f"proxierTest.reopen({js(NTP)})")
        yield page.waitFor(f"(() => {{ const item = proxierTest.parameter({js(NTP)}); "
                           "return item && item.querySelector('input').value === 'ntp.changed-on-the-device'; })()",
                           WAIT, "the device's new value in the parameter browser")

        yield page.evaluate(f"(() => {{ const item = proxierTest.parameter({js(NTP)}); "
                            "item.querySelector('input').value = 'ntp.set-in-the-browser'; "
                            "item.querySelector('button').click(); })()")
        note = yield page.waitFor(f"(() => {{ const text = proxierTest.parameter({js(NTP)}).lastChild.textContent; "
                                  "return text !== 'setting…' && text; })()",
                                  WAIT, "the page's answer to the write")
        self.assertEqual(note, "set")
        self.assertEqual(lab.sim().cms.model.value(SIM_NTP), "ntp.set-in-the-browser")
        written = ParameterValue(NTP, "ntp.set-in-the-browser")
        yield _helpers.waitFor(lambda: any(s.ended and written in s.inform.parameters for s in lab.sessions()),
                               WAIT, "the browser's write told to the ACS")
        [told] = [s for s in lab.sessions() if written in s.inform.parameters]
        self.assertEqual(events(told), ["4 VALUE CHANGE"])

        path = yield page.screenshot(os.path.join(self.home, "console.png"))
        log.info("the console as the browser drew it: {path}", path=path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertEqual(self.browser.exceptions, [])
