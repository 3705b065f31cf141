"""
The console in a real browser (issue 15, "A real browser"): headless
Chromium loads the page from a proxier whose UPnP-DM plugin proxies two
simulated devices (L{proxier.sim.fleet.Fleet}, SSDP in unicast-loopback
mode: nothing multicast) for the fake ACS, everything on 127.0.0.1, and the
test acts on the page only through its DOM, as a person would. Also: a
printer shown as embedded objects of the proxier's own tree (an in-memory
printer), browsed and written there.

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
from tests import _cdp
from tests.test_upnpdm_e2e import Lab, events, waitFor

CHROMIUM = _cdp.findChromium()
NTP = "Device.Time.NTPServer1"
SIM_NTP = "/BBF/Time/NTPServer1"
WAIT = 20.0
log = Logger()

#: page helpers over the hooks index.html documents (ids, classes, data-*); each returns null until done
HELPERS = """
window.proxierTest = {
  rows() {
    return [...document.querySelectorAll("#devices tbody tr")].map((row) => row.textContent);
  },
  row(key) {
    return [...document.querySelectorAll("#devices tbody tr")].find((row) => row.textContent.includes(key));
  },
  // a parameter's item in the browser, opening each object on the way there (one level a call)
  parameter(path) {
    const parts = path.split(".").slice(0, -1);
    let list = document.getElementById("tree");
    for (const part of parts) {
      const item = [...list.children].find(
        (li) => li.classList.contains("object") && li.querySelector(":scope > .name").textContent === part + ".");
      if (!item) return null;
      if (!item.classList.contains("open")) {
        item.querySelector(":scope > .name").click();
        return null;
      }
      list = item.querySelector(":scope > ul");
    }
    return [...list.children].find((li) => li.dataset.name === path) || null;
  },
  value(path) {
    const item = this.parameter(path);
    return item && item.querySelector("input.edit").value;
  },
  set(path, value) {
    const item = this.parameter(path);
    item.querySelector("input.edit").value = value;
    item.querySelector("button").click();
  },
  note(path) {
    const text = this.parameter(path).lastChild.textContent;
    return text !== "setting…" && text;
  },
};
true
"""


def js(value: Any) -> str:
    """A Python value as a JavaScript literal."""
    return json.dumps(value)


def consoleOn(tree: Any) -> ConsoleService:
    """The console of a proxier tree, on a free port, a service of the tree."""
    console = ConsoleService(tree.config.replace("console", enable=True, port=0), TreeSource(tree), reactor=reactor)
    console.setServiceParent(tree)
    return console


@defer.inlineCallbacks
def launchBrowser(testCase: unittest.TestCase) -> Any:
    """Headless Chromium with a home of the test's own (where screenshots go), stopped at cleanup: (browser, home)."""
    home = os.path.abspath(testCase.mktemp())
    os.makedirs(home)
    browser = yield _cdp.launch(reactor, CHROMIUM, home)
    testCase.addCleanup(browser.stop)
    return browser, home


class BrowserTests(unittest.TestCase):
    """The console page in headless Chromium against the simulators."""

    timeout = 150
    if CHROMIUM is None:
        skip = "Chromium is not installed (tools/install-test-peers installs Debian's chromium)"

    @defer.inlineCallbacks
    def setUp(self) -> Any:
        self.lab = Lab(self, count=2)
        yield self.lab.start()
        self.console = consoleOn(self.lab.tree)
        self.browser, self.home = yield launchBrowser(self)
        log.info("headless Chromium (pid {pid}) on the console {url}", pid=self.browser.pid, url=self.console.url())

    @defer.inlineCallbacks
    def test_devicesLiveValuesAndWrite(self) -> None:
        """
        The page lists both simulated devices and listens to the console's
        event stream. After the ACS turned passive Notification on for
        NTPServer1, the device's own change of it shows without a reload or
        a click: the new value in the open parameter browser, the VALUE
        CHANGE waiting in the device's row. A value typed into the page's
        input and set with its button reaches the simulated device, and the
        ACS in the next session as a VALUE CHANGE with that value (a session
        the page then lists among its latest events), its "set" note spaced
        from the type. With active Notification, whose session hands the
        change to the ACS at once, the device's next change still shows
        live: the value in the browser, a value-change event more. No
        uncaught exception in the page; a screenshot is left.
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
        yield page.waitFor("document.getElementById('live').dataset.live === 'yes'", WAIT, "the event stream open")

        yield lab.session([m.SetParameterAttributes((AttributeChange(NTP, True, 1),))])
        yield page.evaluate(f"proxierTest.row({js(keys[0])}).click()")
        shown = yield page.waitFor(f"proxierTest.value({js(NTP)})", WAIT, "NTPServer1 in the parameter browser")
        self.assertEqual(shown, lab.sim().cms.model.value(SIM_NTP))

        lab.sim().cms.setLocal(SIM_NTP, "ntp.changed-on-the-device")
        yield page.waitFor(f"proxierTest.value({js(NTP)}) === 'ntp.changed-on-the-device'",
                           WAIT, "the device's new value in the open browser, without a reload")
        yield page.waitFor(f"proxierTest.row({js(keys[0])}).textContent.includes('4 VALUE CHANGE')",
                           WAIT, "the VALUE CHANGE waiting, in the device's row")
        yield page.waitFor("document.querySelector('#events li[data-event=\"value-change\"]') !== null",
                           WAIT, "the value change among the latest events")

        yield page.evaluate(f"proxierTest.set({js(NTP)}, 'ntp.set-in-the-browser')")
        note = yield page.waitFor(f"proxierTest.note({js(NTP)})", WAIT, "the page's answer to the write")
        self.assertEqual(note, "set")
        margin = yield page.evaluate(f"getComputedStyle(proxierTest.parameter({js(NTP)}).lastChild).marginLeft")
        self.assertNotEqual(margin, "0px", "the note stands apart from the type")
        self.assertEqual(lab.sim().cms.model.value(SIM_NTP), "ntp.set-in-the-browser")
        session = yield lab.session([])
        self.assertEqual(events(session), ["4 VALUE CHANGE", "6 CONNECTION REQUEST"])
        self.assertIn(ParameterValue(NTP, "ntp.set-in-the-browser"), session.inform.parameters)
        yield page.waitFor("[...document.querySelectorAll('#events li[data-event=\"session\"]')].some("
                           "(li) => li.textContent.includes('4 VALUE CHANGE'))", WAIT, "that session among the events")

        yield lab.session([m.SetParameterAttributes((AttributeChange(NTP, True, 2),))])
        count = "document.querySelectorAll('#events li[data-event=\"value-change\"]').length"
        before = yield page.evaluate(count)
        done = len(lab.sessions())
        lab.sim().cms.setLocal(SIM_NTP, "ntp.active-change")
        yield page.waitFor(f"proxierTest.value({js(NTP)}) === 'ntp.active-change'",
                           WAIT, "the active change in the open browser")
        yield page.waitFor(f"{count} > {before}", WAIT, "the active change among the latest events")
        yield waitFor(lab.ended(0, done + 1), what="the session the active change started")
        self.assertEqual(events(lab.sessions()[done]), ["4 VALUE CHANGE"])

        path = yield page.screenshot(os.path.join(self.home, "console.png"))
        log.info("the console as the browser drew it: {path}", path=path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertEqual(self.browser.exceptions, [])


class PendingBrowserTests(unittest.TestCase):
    """A device found but not proxied yet, on the page, until its owner presses its button."""

    timeout = 150
    if CHROMIUM is None:
        skip = "Chromium is not installed (tools/install-test-peers installs Debian's chromium)"

    @defer.inlineCallbacks
    def test_waitingForTheButton(self) -> None:
        """
        A simulated DeviceProtection device granting the proxier nothing
        beyond Public is listed as found, not proxied, waiting; pressing its
        button is the page's first "Needs you" item. Once pressed, the page
        (live, no reload) lists it as a device and no longer as pending.
        """
        from tests.test_dps_e2e import DPSLab

        lab = DPSLab(self, upnp={"dps_introduction": "pbc", "dps_introduction_timeout": 60})
        lab.startTree()
        console = consoleOn(lab.tree)
        lab.startFleet()
        udn = lab.sim().udn.lower()
        browser, home = yield launchBrowser(self)
        page = yield _cdp.Page.open(browser, console.url(), reactor)
        yield page.waitFor("document.readyState === 'complete'", WAIT, "the page loaded")
        row = f"document.querySelector('#pending tbody tr[data-key={js(udn)}]')"
        # listed first as "probing" while its DeviceProtection session is set up (the refresh may catch it)
        state = yield page.waitFor(f"{row} && {row}.dataset.state !== 'probing' && {row}.dataset.state", WAIT,
                                   "the device listed as pending, past its probing")
        self.assertEqual(state, "waiting")
        action = yield page.waitFor("(document.querySelector('#attention li.notice[data-kind=\"action\"]') || "
                                    "{}).textContent", WAIT, "the action in 'Needs you'")
        self.assertIn("press the device's WPS/introduction button", action)
        self.assertIn("not proxied yet", action)
        self.assertFalse((yield page.evaluate("document.getElementById('pending-section').hidden")))
        path = yield page.screenshot(os.path.join(home, "console-pending.png"))
        log.info("the console with a device waiting for its button: {path}", path=path)
        lab.secure[0].pressButton()
        serial = lab.sim().identity.serialNumber
        yield page.waitFor(f"[...document.querySelectorAll('#devices tbody tr')].some((tr) => "
                           f"tr.textContent.includes({js(serial)}))", WAIT * 2, "the device proxied, on the page")
        yield page.waitFor("document.querySelectorAll('#pending tbody tr').length === 0 && "
                           "document.getElementById('pending-section').hidden", WAIT, "no longer pending")
        self.assertEqual(browser.exceptions, [])


class ProxierNoticesBrowserTests(unittest.TestCase):
    """What an installer must know about the proxier itself, on the page's proxier panel."""

    timeout = 60
    if CHROMIUM is None:
        skip = "Chromium is not installed (tools/install-test-peers installs Debian's chromium)"

    @defer.inlineCallbacks
    def test_proxierNotices(self) -> None:
        """
        The proxier's notices show under its status line, most pressing
        first with their kinds; its action ("no ACS URL") is in "Needs you"
        too, said to be the proxier's. A screenshot is left.
        """
        from proxier.config import load
        from tests.test_console import FakeSource

        source = FakeSource()
        source.own.changed = {"acsURL": ""}
        source.told = [("warning", "state cannot be saved in /var/lib/proxier", "")]
        config = load(None).replace("console", enable=True, port=0)
        console = ConsoleService(config, source, reactor=reactor, interfaces=lambda: [], wan=lambda: [])
        console.startService()
        self.addCleanup(console.stopService)
        browser, home = yield launchBrowser(self)
        page = yield _cdp.Page.open(browser, console.url(), reactor)
        shown = yield page.waitFor(
            "(() => { const items = [...document.querySelectorAll('#proxier-notices li.notice')];"
            " return items.length === 2 && items.map((li) => [li.dataset.kind, li.textContent]); })()",
            WAIT, "the proxier's notices")
        self.assertEqual([kind for kind, _ in shown], ["action", "warning"])
        self.assertTrue(shown[0][1].startswith("no ACS URL: set url in the [acs] section"), shown)
        self.assertEqual(shown[1][1], "state cannot be saved in /var/lib/proxier")
        # the status line is drawn before the devices are read, "Needs you" after: waited for too
        needs = yield page.waitFor("(document.querySelector('#attention li.notice[data-kind=\"action\"]') || {})"
                                   ".textContent", WAIT, "the proxier's action in 'Needs you'")
        self.assertTrue(needs.startswith("This proxier: no ACS URL"), needs)
        self.assertFalse((yield page.evaluate("document.getElementById('attention-section').hidden")))
        path = yield page.screenshot(os.path.join(home, "console-proxier-notices.png"))
        log.info("the console telling the proxier's notices: {path}", path=path)
        self.assertEqual(browser.exceptions, [])


class EmbeddedBrowserTests(unittest.TestCase):
    """A printer proxied as embedded objects of the proxier's own tree, on the page."""

    timeout = 90
    if CHROMIUM is None:
        skip = "Chromium is not installed (tools/install-test-peers installs Debian's chromium)"

    @defer.inlineCallbacks
    def test_embeddedPrinter(self) -> None:
        """
        [printer] mechanism = embedded (an in-memory printer): its row says
        "embedded" and where its objects are; a click browses the proxier's
        tree under its two rows, and its location set there is "pushed to
        the device now" — and on the printer. A screenshot is left.
        """
        from tests.test_proxy_embeddedobjects import LOCATION, SERVICE
        from tests.test_proxy_embeddedobjects import Lab as EmbeddedLab
        from tests.test_printer_plugin import PRINTER

        lab = yield EmbeddedLab(self, "embedded").start()
        yield waitFor(lambda: len(lab.tree.directory) == 1, what="the printer")
        console = consoleOn(lab.tree)
        browser, home = yield launchBrowser(self)
        page = yield _cdp.Page.open(browser, console.url(), reactor)
        row = f"document.querySelector('#devices tbody tr[data-key={js(PRINTER.key)}]')"
        mechanism = yield page.waitFor(f"{row} && {row}.dataset.mechanism", WAIT, "the printer listed")
        self.assertEqual(mechanism, "embedded")
        cell = yield page.evaluate(f"{row}.querySelector('td.embedded').textContent")
        self.assertIn(SERVICE + "Device.ManagementServer.EmbeddedDevice.1.CommandProcessed: Success", cell)
        yield page.evaluate(f"{row}.click()")
        opened = ("(path) => { const name = [...document.querySelectorAll('#tree li.object > .name')].find("
                  "(n) => n.parentNode.querySelector(':scope > ul') && n.textContent === path);"
                  " if (name && !name.parentNode.classList.contains('open')) name.click(); return !!name; }")
        yield page.waitFor(f"({opened})({js(SERVICE)})", WAIT, "its objects' row in the browser")
        yield page.waitFor(f"({opened})('PrintServiceDescription.')", WAIT, "its description")
        item = f"document.querySelector('#tree li.parameter[data-name={js(LOCATION)}]')"
        value = yield page.waitFor(f"{item} && {item}.querySelector('input.edit').value", WAIT, "its location")
        self.assertEqual(value, "Room 1")
        yield page.evaluate(f"{item}.querySelector('input.edit').value = 'Lab 5'; "
                            f"{item}.querySelector('button').click(); true")
        note = yield page.waitFor(f"(() => {{ const t = {item}.lastChild.textContent; "
                                  "return t !== 'setting…' && t; })()", WAIT, "the page's answer to the write")
        self.assertEqual(note, "set (pushed to the device now)")
        yield waitFor(lambda: lab.printer.attributes["printer-location"].value == "Lab 5", what="the push")
        path = yield page.screenshot(os.path.join(home, "console-embedded.png"))
        log.info("the console with a printer as embedded objects: {path}", path=path)
        self.assertEqual(browser.exceptions, [])
