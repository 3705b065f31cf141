"""
The end-to-end harness of the protocol tests: a real L{ProxierService} on a
state directory of the test, with the protocol plugins it is given, talking
over loopback HTTP to the fake ACS on 127.0.0.1. Every CWMP message both
ways is validated against the BBF schema: what the ACS receives as it
comes, what it sent at the test's cleanup.

A test stops one tree and starts another on the same state directory, as a
real device keeps running while its proxier restarts.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Mapping, Optional, Sequence

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web.client import HTTPConnectionPool
from twisted.web.server import Site

from proxier.config import load
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.tls import makeACSAgent
from proxier.datamodel.values import DeviceIdentity
from proxier.registry import selectProtocols
from proxier.service import ProxierService
from proxier.store import Store
from proxier.tap import pluginSections
from tests import _helpers
from tests.cwmpxsd import assertValidCWMP, validationErrors

__all__ = ["Lab", "startProxier", "waitFor", "events", "answers"]

waitFor = partial(_helpers.waitFor, timeout=20.0)


class Lab:
    """
    The proxier tree with C{plugins} enabled, its own identity C{proxier},
    and the fake ACS on 127.0.0.1.

    @param sections: per config section, the values that differ from the
        defaults for this lab (C{printer={"printers": (url,)}}).
    """

    def __init__(self, testCase: unittest.TestCase, plugins: Sequence[Any], proxier: DeviceIdentity,
                 sections: Optional[Mapping[str, Mapping[str, Any]]] = None) -> None:
        self.testCase = testCase
        self.plugins = list(plugins)
        self.proxier = proxier
        self.sections = dict(sections or {})
        self.acs = FakeACS(clock=reactor, validator=lambda body: assertValidCWMP(testCase, body))
        port = reactor.listenTCP(0, Site(self.acs), interface="127.0.0.1")
        testCase.addCleanup(port.stopListening)
        self.acsURL = f"http://127.0.0.1:{port.getHost().port}/acs"
        self.state = testCase.mktemp()
        self.tree: Optional[ProxierService] = None
        testCase.addCleanup(self._validated)

    def _validated(self) -> None:
        """What the ACS received was checked as it came; what it sent is checked here."""
        self.testCase.assertEqual(self.acs.validationErrors, [])
        for session in self.acs.sessions:
            for exchange in session.exchanges:
                if exchange.direction == "acs" and exchange.raw:
                    self.testCase.assertEqual(validationErrors(exchange.raw), [])

    def startTree(self) -> ProxierService:
        """A new proxier on the lab's state directory, with the lab's plugins enabled."""
        sections = dict(self.sections)
        sections["device"] = {"serial_number": self.proxier.serialNumber, **sections.get("device", {})}
        self.tree = startProxier(self.testCase, self.plugins, self.acsURL, self.state, sections)
        return self.tree

    def devices(self) -> list[DeviceIdentity]:
        """The Virtual CWMP Devices L{start} waits for (a lab of a protocol names its own)."""
        return []

    @defer.inlineCallbacks
    def start(self) -> Any:
        """The tree up, the proxier and each of L{devices} bootstrapped; returns the lab."""
        self.startTree()
        for who in [self.proxier, *self.devices()]:
            yield waitFor(self.ended(who, 1), what=f"the BOOTSTRAP session of {who}")
        return self

    def sessions(self, who: DeviceIdentity) -> list:
        return self.acs.sessionsFor(str(who))

    def ended(self, who: DeviceIdentity, count: int) -> Callable[[], bool]:
        """Whether C{who}'s first C{count} sessions have ended."""
        return lambda: len(self.sessions(who)) >= count and all(s.ended for s in self.sessions(who)[:count])

    def endpoint(self, who: DeviceIdentity) -> Any:
        """The CWMP endpoint of the proxier itself or of a Virtual CWMP Device."""
        assert self.tree is not None, "the tree is not started"
        return self.tree.ownEndpoint if who == self.proxier else self.tree.cwmp.manager.endpoints[who.key]

    def connectionRequest(self, who: DeviceIdentity) -> defer.Deferred:
        """A Connection Request to C{who}'s own URL, as the ACS makes it; fires with the HTTP status."""
        assert self.tree is not None, "the tree is not started"
        endpoint = self.endpoint(who)
        username, password = endpoint.connectionRequestCredentials()
        return self.acs.connectionRequest(self.tree.cwmp.server.url(endpoint.connectionRequestPath),
                                          username, password)

    @defer.inlineCallbacks
    def session(self, requests: list, who: DeviceIdentity) -> Any:
        """A Connection Request and a session running C{requests}; returns the session."""
        before = len(self.sessions(who))
        self.acs.script(requests, str(who))
        status = yield self.connectionRequest(who)
        self.testCase.assertEqual(status, 200)
        yield waitFor(self.ended(who, before + 1), what=f"the session of {who}")
        return self.sessions(who)[before]


def startProxier(testCase: unittest.TestCase, plugins: Sequence[Any], acsURL: str, state: str,
                 sections: Mapping[str, Mapping[str, Any]]) -> ProxierService:
    """
    A proxier started with C{plugins} enabled on the state directory
    C{state}, reaching the ACS at C{acsURL} over loopback, and stopped at
    the test's cleanup; C{sections}: per config section, the values that
    differ from a test's defaults.
    """
    config = load(None, pluginSections(plugins))
    config = config.replace("protocols", enabled=tuple(plugin.name for plugin in plugins))
    config = config.replace("acs", url=acsURL, periodic_inform_enable=False, retry_minimum_wait=1,
                            local_targets=("127.0.0.1",))
    config = config.replace("connection_request", port=0)
    config = config.replace("demo", enable="no")
    for section, values in sections.items():
        config = config.replace(section, **values)
    protocols = selectProtocols(plugins, config["protocols"]["enabled"])
    agent = makeACSAgent(reactor, config["acs"], pool=HTTPConnectionPool(reactor, persistent=False))
    tree = ProxierService(config, Store.open(state), protocols, reactor=reactor, agent=agent)
    tree.startService()
    testCase.addCleanup(lambda: tree.stopService() if tree.running else None)
    return tree


def events(session: Any) -> list[str]:
    """The event codes of a session's Inform, sorted."""
    return sorted(e.code for e in session.inform.events)


def answers(session: Any) -> list:
    """The CPE's answers in a session, in order."""
    return [answer for _, answer in session.responses]
