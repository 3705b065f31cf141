# -*- test-case-name: tests.test_console_browser -*-
"""
A small Chrome DevTools Protocol client for the browser tests (issue 15):
headless Chromium (Debian's C{chromium}) as a child process, spoken to over
C{--remote-debugging-pipe} — JSON messages ended by NUL, the commands
written to the browser's fd 3 and the answers and events read from its
fd 4. Twisted's C{spawnProcess} maps those descriptors itself, so there is
no port, no WebSocket and no third-party driver (Playwright downloads its
own browsers, which this machine cannot; RFC 6455 would be a hundred lines
of framing to get what the pipe gives for nothing).

The browser runs on a profile of the test's own, with every background
service Chromium has off and every host name made unresolvable, so that
the only place it can reach is the IP literal it is sent to (the console
on 127.0.0.1). It is started and stopped by its PID: L{Chromium.stop}
asks it to close, and kills it when it does not within the grace time.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from typing import Any, Optional

from twisted.internet import defer, task
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure

__all__ = ["CDPError", "Chromium", "Page", "findChromium", "launch"]

#: Debian's binary itself: its /usr/bin/chromium wrapper adds extensions, API keys and flags of its own
_CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser")
_STDERR_KEPT = 8192
_FLAGS = (
    "--headless",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--no-pings",
    "--media-router=0",
    "--disable-features=MediaRouter,DialMediaRouteProvider,Translate,OptimizationHints,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater",
    # nothing resolves but loopback's own literal: the console is the only place the browser can reach
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,900",
)


class CDPError(Exception):
    """The browser refused a command, threw in the page, or ended."""


def findChromium() -> Optional[str]:
    """The Chromium binary to run, or None when it is not installed."""
    for candidate in _CANDIDATES:
        found = candidate if os.path.isabs(candidate) and os.access(candidate, os.X_OK) else shutil.which(candidate)
        if found:
            return found
    return None


class Chromium(ProcessProtocol):
    """
    The browser process and its pipe: L{call} sends one command and fires
    with its result; what the pages throw is kept in L{exceptions}.
    """

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor
        self._buffer = b""
        self._nextId = 0
        self._waiting: dict[int, defer.Deferred] = {}
        self._endWaiters: list[defer.Deferred] = []
        self._stderr = b""
        self.ended: Optional[Failure] = None
        #: the text of every uncaught exception of a page (Runtime.exceptionThrown)
        self.exceptions: list[str] = []

    @property
    def pid(self) -> Optional[int]:
        return self.transport.pid if self.transport is not None else None

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if childFD != 4:
            self._stderr = (self._stderr + data)[-_STDERR_KEPT:]
            return
        self._buffer += data
        while b"\0" in self._buffer:
            message, self._buffer = self._buffer.split(b"\0", 1)
            self._dispatch(json.loads(message))

    def _dispatch(self, message: dict) -> None:
        if "id" not in message:
            if message.get("method") == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                self.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
            return
        waiting = self._waiting.pop(message["id"], None)
        if waiting is None or waiting.called:  # timed out meanwhile
            return
        if "error" in message:
            waiting.errback(CDPError(f"{message['error'].get('code')}: {message['error'].get('message')}"))
        else:
            waiting.callback(message.get("result", {}))

    def call(self, method: str, params: Optional[dict] = None, *, sessionId: Optional[str] = None,
             timeout: float = 30.0) -> defer.Deferred:
        """Send one command (to a page when C{sessionId} is given); fires with its result."""
        if self.ended is not None:
            return defer.fail(CDPError(f"{method}: Chromium has ended ({self.ended.getErrorMessage()})"))
        self._nextId += 1
        message: dict[str, Any] = {"id": self._nextId, "method": method, "params": params or {}}
        if sessionId is not None:
            message["sessionId"] = sessionId
        waiting = defer.Deferred()
        self._waiting[self._nextId] = waiting
        self.transport.writeToChild(3, json.dumps(message).encode() + b"\0")
        return waiting.addTimeout(timeout, self._reactor)

    def processEnded(self, reason: Failure) -> None:
        self.ended = reason
        why = CDPError(f"Chromium ended ({reason.getErrorMessage()}); its last output:\n"
                       + self._stderr.decode("utf-8", "replace"))
        waiting, self._waiting = self._waiting, {}
        for d in waiting.values():
            if not d.called:
                d.errback(why)
        waiters, self._endWaiters = self._endWaiters, []
        for d in waiters:
            if not d.called:
                d.callback(None)

    def _whenEnded(self, timeout: float) -> defer.Deferred:
        if self.ended is not None:
            return defer.succeed(None)
        d = defer.Deferred()
        self._endWaiters.append(d)
        return d.addTimeout(timeout, self._reactor)

    @defer.inlineCallbacks
    def stop(self, grace: float = 5.0) -> Any:
        """Close the browser; kill it (by its PID) when it is still there after C{grace} seconds."""
        if self.ended is not None:
            return
        try:
            yield self.call("Browser.close", timeout=grace)
            yield self._whenEnded(grace)
        except (CDPError, defer.TimeoutError):
            if self.ended is None:
                self.transport.signalProcess("KILL")
                yield self._whenEnded(grace)


@defer.inlineCallbacks
def launch(reactor: Any, executable: str, home: str, timeout: float = 30.0) -> Any:
    """
    Start headless Chromium with its profile and HOME under C{home}; fires
    with the L{Chromium} once it answers.
    """
    profile = os.path.join(home, "profile")
    os.makedirs(profile, exist_ok=True)
    flags = list(_FLAGS) + [f"--user-data-dir={profile}"]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses root with its sandbox on
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": os.path.join(home, "config"), "XDG_CACHE_HOME": os.path.join(home, "cache")}
    browser = Chromium(reactor)
    reactor.spawnProcess(browser, executable, [executable, *flags, "about:blank"], env=env,
                         childFDs={0: "w", 1: "r", 2: "r", 3: "w", 4: "r"})
    try:
        yield browser.call("Browser.getVersion", timeout=timeout)
    except Exception:
        failed = Failure()
        yield browser.stop()
        failed.raiseException()
    return browser


class Page:
    """One tab, attached to (flat sessions over the browser's pipe)."""

    def __init__(self, browser: Chromium, sessionId: str, reactor: Any) -> None:
        self.browser = browser
        self.sessionId = sessionId
        self._reactor = reactor

    @classmethod
    @defer.inlineCallbacks
    def open(cls, browser: Chromium, url: str, reactor: Any) -> Any:
        """A new tab loading C{url}."""
        target = yield browser.call("Target.createTarget", {"url": "about:blank"})
        attached = yield browser.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        page = cls(browser, attached["sessionId"], reactor)
        yield page.call("Runtime.enable")
        yield page.call("Page.enable")
        navigated = yield page.call("Page.navigate", {"url": url})
        if navigated.get("errorText"):
            raise CDPError(f"{url}: {navigated['errorText']}")
        return page

    def call(self, method: str, params: Optional[dict] = None, timeout: float = 30.0) -> defer.Deferred:
        return self.browser.call(method, params, sessionId=self.sessionId, timeout=timeout)

    @defer.inlineCallbacks
    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise awaited); what it throws is a L{CDPError}."""
        answer = yield self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                      "awaitPromise": True})
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            raise CDPError(details.get("exception", {}).get("description") or details.get("text", "thrown"))
        return answer["result"].get("value")

    @defer.inlineCallbacks
    def waitFor(self, expression: str, timeout: float, what: str, step: float = 0.1) -> Any:
        """
        Evaluate C{expression} every C{step} s until its value, as Python
        has it (a DOM node comes as C{{}}), is true; return it. Fail after
        C{timeout} s.
        """
        deadline = self._reactor.seconds() + timeout
        while True:
            value = yield self.evaluate(expression)
            if value:
                return value
            if self._reactor.seconds() > deadline:
                raise AssertionError(f"still not true after {timeout} s: {what} (last value {value!r})")
            yield task.deferLater(self._reactor, step, lambda: None)

    @defer.inlineCallbacks
    def screenshot(self, path: str) -> Any:
        """The page as it is drawn, written to C{path} as PNG."""
        shot = yield self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        return path
