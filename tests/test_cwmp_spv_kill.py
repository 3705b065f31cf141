"""
What an ACS wrote survives a SIGKILL right after the answer (issue 17 item
7): a SetParameterValues, SetParameterAttributes, AddObject or DeleteObject
answered with success is on disk before the response leaves, so a proxier
killed the moment the ACS reads that response, and restarted on the same
state directory, still has it — Connection Request credentials (checked
by making an authenticated Connection Request), the ParameterKey, other
ManagementServer settings, notification attributes and instance numbers.

The proxier is a child process (twistd, as on a gateway), killed by its
PID from inside the fake ACS's handler of the response: nothing the child
might do after sending it can happen. The simulated device, the fake ACS
and the Connection Requests are here, everything on 127.0.0.1; every CWMP
message is validated against the BBF schema (L{KillLab}).
"""

from __future__ import annotations

import os
import re
from functools import partial
from typing import Any, Optional

from twisted.internet import defer, reactor
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.cwmp.fakeacs import connectionRequest
from proxier.datamodel.values import AttributeChange, ParameterValue
from tests import _helpers
from tests.test_upnpdm_transfer_kill import DEVICE, KillLab

WAIT = 60.0
waitFor = partial(_helpers.waitFor, timeout=WAIT, step=0.05)

CR_USERNAME = "Device.ManagementServer.ConnectionRequestUsername"
CR_PASSWORD = "Device.ManagementServer.ConnectionRequestPassword"
PARAMETER_KEY = "Device.ManagementServer.ParameterKey"
SHARED = ("lab-user", "lab-secret")
_URL_LINE = re.compile(r"\[device " + re.escape(DEVICE) + r"\] CWMP endpoint ready; Connection Request URL (\S+)")


def informValue(session: Any, name: str) -> Optional[str]:
    """The value of C{name} in the Inform that opened C{session}."""
    for value in session.inform.parameters:
        if value.name == name:
            return value.value
    return None


class SPVKillTests(unittest.TestCase):
    """One test per kind of write the ACS makes; the child is killed right after the ACS reads the answer."""

    timeout = 240

    @defer.inlineCallbacks
    def killedAfter(self, lab: KillLab, requests: list, answered: type) -> Any:
        """
        Start the proxier; in the device's first session the ACS sends
        C{requests} (the last one an C{answered} request; a callable is given
        the answers so far and returns the request) and SIGKILLs the child on
        reading the answer of the last one. Returns the answers.
        """
        pending = list(requests)
        answers: list = []

        def script(session: Any, last: Optional[m.Message]) -> Optional[m.Message]:
            if last is not None:
                answers.append(last)
            if isinstance(last, answered) or last is None and answers or isinstance(last, m.SOAPFault):
                if lab.child is not None:
                    lab.kill()
                return None
            if not pending:
                return None
            request = pending.pop(0)
            return request(answers) if callable(request) else request

        lab.acs.script(script, DEVICE)
        lab.startChild()
        child = lab.child
        yield waitFor(lambda: lab.child is None or child.poll() is not None, what="the answers and the kill")
        self.assertIsNone(lab.child, "the proxier exited before the kill")
        self.assertEqual(len(answers), len(requests), answers)
        return answers

    def lab(self, credentials: str = "shared") -> KillLab:
        """A L{KillLab} whose config gives every endpoint the Connection Request credentials C{credentials} says."""
        lab = KillLab(self)
        with open(lab.config) as f:
            text = f.read()
        extra = f"credentials = {credentials}\n"
        if credentials == "shared":
            extra += f"username = {SHARED[0]}\npassword = {SHARED[1]}\n"
        with open(lab.config, "w") as f:
            f.write(text.replace("[connection_request]\n", "[connection_request]\n" + extra, 1))
        return lab

    def connectionRequestURLs(self, lab: KillLab) -> list[str]:
        """The device's Connection Request URL each incarnation logged, in order."""
        try:
            with open(os.path.join(lab.workdir, "proxier.log"), encoding="utf-8", errors="replace") as f:
                return _URL_LINE.findall(f.read())
        except FileNotFoundError:
            return []

    @defer.inlineCallbacks
    def restarted(self, lab: KillLab, requests: list, credentials: tuple[str, str] = None) -> Any:
        """
        Restart on the same state; once the device's endpoint is ready, the ACS
        makes a Connection Request with C{credentials} (by default the shared
        ones), which must be accepted (200), and asks C{requests} in the
        session that follows. Returns that session and the answers.
        """
        username, password = credentials or SHARED
        before = len(lab.sessions())
        known = len(self.connectionRequestURLs(lab))
        lab.acs.script(list(requests), DEVICE)
        lab.startChild()
        yield waitFor(lambda: len(self.connectionRequestURLs(lab)) > known, what="the endpoint after the restart")
        url = self.connectionRequestURLs(lab)[-1]
        code = yield connectionRequest(url, username, password, clock=reactor, timeout=10)
        self.assertEqual(code, 200)
        yield waitFor(lambda: len(lab.sessions()) > before and lab.sessions()[before].ended,
                      what="the session the Connection Request asked for")
        session = lab.sessions()[before]
        self.assertIn("6 CONNECTION REQUEST", [e.code for e in session.inform.events])
        self.assertEqual(len(session.responses), len(requests), session.responses)
        return session, [answer for _, answer in session.responses]

    @defer.inlineCallbacks
    def credentialsSurvive(self, credentials: str) -> Any:
        """
        SPV of ConnectionRequestUsername/Password (and the ParameterKey): after
        the kill and a restart a Connection Request with the new credentials is
        accepted, one with the config's is refused, and the Inform carries the key.
        """
        lab = self.lab(credentials)
        [answer] = yield self.killedAfter(lab, [m.SetParameterValues((
            ParameterValue(CR_USERNAME, "genie-user"), ParameterValue(CR_PASSWORD, "genie-secret")), "key-cr")],
            m.SetParameterValuesResponse)
        self.assertEqual(answer, m.SetParameterValuesResponse(0))
        session, _ = yield self.restarted(lab, [], ("genie-user", "genie-secret"))
        self.assertEqual(informValue(session, PARAMETER_KEY), "key-cr")
        refused = yield connectionRequest(self.connectionRequestURLs(lab)[-1], *SHARED, clock=reactor, timeout=10)
        self.assertEqual(refused, 401)

    def test_connectionRequestCredentialsRandom(self) -> None:
        """Credentials the ACS set survive the kill where each endpoint has random ones of its own."""
        return self.credentialsSurvive("random")

    def test_connectionRequestCredentialsShared(self) -> None:
        """Credentials the ACS set survive the kill where the config gives shared ones (and the restart)."""
        return self.credentialsSurvive("shared")

    @defer.inlineCallbacks
    def test_managementServerSetting(self) -> None:
        """SPV of PeriodicInformInterval: the value and the ParameterKey are there after the kill."""
        lab = self.lab()
        [answer] = yield self.killedAfter(lab, [m.SetParameterValues((
            ParameterValue("Device.ManagementServer.PeriodicInformInterval", "4321"),), "key-pii")],
            m.SetParameterValuesResponse)
        self.assertEqual(answer, m.SetParameterValuesResponse(0))
        session, [values] = yield self.restarted(lab, [m.GetParameterValues((
            "Device.ManagementServer.PeriodicInformInterval",))])
        self.assertEqual(informValue(session, PARAMETER_KEY), "key-pii")
        self.assertEqual([v.value for v in values.parameters], ["4321"])

    @defer.inlineCallbacks
    def test_deviceParameter(self) -> None:
        """SPV of a device's parameter: the ParameterKey (the proxier's) is there after the kill."""
        lab = self.lab()
        [answer] = yield self.killedAfter(lab, [m.SetParameterValues((
            ParameterValue("Device.Time.NTPServer2", "ntp.example.net"),), "key-dev")],
            m.SetParameterValuesResponse)
        self.assertIn(answer.status, (0, 1))
        session, [values] = yield self.restarted(lab, [m.GetParameterValues(("Device.Time.NTPServer2",))])
        self.assertEqual(informValue(session, PARAMETER_KEY), "key-dev")
        self.assertEqual([v.value for v in values.parameters], ["ntp.example.net"])

    @defer.inlineCallbacks
    def test_notificationAttribute(self) -> None:
        """SetParameterAttributes of Notification 2 (kept by the proxier): still 2 after the kill."""
        lab = self.lab()
        yield self.killedAfter(lab, [m.SetParameterAttributes((
            AttributeChange("Device.Time.NTPServer1", True, 2),
            AttributeChange("Device.ManagementServer.PeriodicInformInterval", True, 1)))],
            m.SetParameterAttributesResponse)
        _, [attributes] = yield self.restarted(lab, [m.GetParameterAttributes((
            "Device.Time.NTPServer1", "Device.ManagementServer.PeriodicInformInterval"))])
        self.assertEqual([(a.name, a.notification) for a in attributes.parameters],
                         [("Device.Time.NTPServer1", 2), ("Device.ManagementServer.PeriodicInformInterval", 1)])

    @defer.inlineCallbacks
    def test_addObject(self) -> None:
        """AddObject: the instance number given keeps naming the same instance, and the ParameterKey is there."""
        lab = self.lab()
        [added] = yield self.killedAfter(lab, [m.AddObject("Device.Hosts.Host.", "key-add")], m.AddObjectResponse)
        self.assertIsInstance(added, m.AddObjectResponse)
        number = added.instanceNumber
        session, [values, names] = yield self.restarted(lab, [
            m.SetParameterValues((ParameterValue(f"Device.Hosts.Host.{number}.HostName", "after-kill"),), "key-2"),
            m.GetParameterNames("Device.Hosts.Host.", True)])
        self.assertEqual(informValue(session, PARAMETER_KEY), "key-add")
        self.assertIsInstance(values, m.SetParameterValuesResponse)
        instances = sorted(int(p.name.split(".")[3]) for p in names.parameters)
        self.assertIn(number, instances)
        self.assertEqual(len(instances), len(set(instances)))

    @defer.inlineCallbacks
    def test_addObjectWithAlias(self) -> None:
        """AddObject with an instance alias: after the kill its number and its Alias name the same instance."""
        lab = self.lab()
        [added] = yield self.killedAfter(lab, [m.AddObject("Device.Hosts.Host.[cpe-kill].", "key-alias")],
                                         m.AddObjectResponse)
        number = added.instanceNumber
        session, [values] = yield self.restarted(lab, [
            m.GetParameterValues((f"Device.Hosts.Host.{number}.Alias", f"Device.Hosts.Host.{number}.HostName"))])
        self.assertEqual(informValue(session, PARAMETER_KEY), "key-alias")
        self.assertEqual([v.value for v in values.parameters], ["cpe-kill", ""])

    @defer.inlineCallbacks
    def test_deleteObject(self) -> None:
        """DeleteObject after an AddObject in the same session: the number is not given again after the kill."""
        lab = self.lab()
        added, deleted = yield self.killedAfter(lab, [m.AddObject("Device.Hosts.Host.", "key-add"),
                                                      lambda answers: m.DeleteObject(
                                                          f"Device.Hosts.Host.{answers[0].instanceNumber}.", "key-del")],
                                                m.DeleteObjectResponse)
        self.assertIsInstance(deleted, m.DeleteObjectResponse)
        session, [again] = yield self.restarted(lab, [m.AddObject("Device.Hosts.Host.", "key-again")])
        self.assertEqual(informValue(session, PARAMETER_KEY), "key-del")
        self.assertGreater(again.instanceNumber, added.instanceNumber)
