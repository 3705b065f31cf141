"""
TR-330 §4.4 end to end over real loopback sockets: the proxier's tree, a
simulated UPnP DM device (its logs, served over HTTP at their LogURLs), the
fake ACS and a file server — every CWMP message validated against the BBF
schema. VendorLogFile rows in the ACS's reads; an Upload that succeeds
(Digest), one that fails on the device side and one refused by the file
server; each with "7 TRANSFER COMPLETE", "M Upload" and its
TransferComplete.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.values import TransferRequest
from tests.test_upnpdm_e2e import Lab, answers, events, waitFor
from tests.test_upnpdm_transfer_support import FileServer

TABLE = "Device.DeviceInfo.VendorLogFile."


def transferCompletes(lab: Lab) -> list:
    return [msg for s in lab.sessions() for msg in s.received if isinstance(msg, m.TransferComplete)]


class LogsE2ETests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def upload(self, lab: Lab, request: TransferRequest) -> Any:
        """An Upload in one session (Status 1); then the session with its TransferComplete."""
        before = len(lab.sessions())
        session = yield lab.session([m.Upload(request)])
        [answer] = answers(session)
        self.assertIsInstance(answer, m.UploadResponse)
        self.assertEqual(answer.status, 1)
        yield waitFor(lambda: any("7 TRANSFER COMPLETE" in events(s) for s in lab.sessions()[before + 1:]),
                      what="the TRANSFER COMPLETE session")
        yield waitFor(lab.ended(0, len(lab.sessions())))
        session = [s for s in lab.sessions()[before + 1:] if "7 TRANSFER COMPLETE" in events(s)][0]
        self.assertEqual(events(session), ["7 TRANSFER COMPLETE", "M Upload"])
        self.assertEqual([e.commandKey for e in session.inform.events if e.code == "M Upload"], [request.commandKey])
        [complete] = [msg for msg in session.received if isinstance(msg, m.TransferComplete)]
        return complete.result

    @defer.inlineCallbacks
    def test_tableRead(self) -> None:
        """The ACS reads VendorLogFile (two rows) and VendorLogFileNumberOfEntries from the device's logs."""
        lab = yield Lab(self).start()
        session = yield lab.session([m.GetParameterValues((TABLE, "Device.DeviceInfo.VendorLogFileNumberOfEntries")),
                                     m.GetParameterNames("Device.DeviceInfo.", True)])
        got, names = answers(session)
        values = {p.name: p.value for p in got.parameters}
        self.assertEqual(values["Device.DeviceInfo.VendorLogFileNumberOfEntries"], "2")
        self.assertEqual(values[TABLE + "1.Name"], "/upnp-dm/log/1/system")
        self.assertIn(TABLE, [p.name for p in names.parameters])

    @defer.inlineCallbacks
    def test_uploadDigest(self) -> None:
        """Upload "4 Vendor Log File 1" to a file server demanding Digest: the device's log arrives; fault 0."""
        server = FileServer(username="cpe", password="s3cret")
        base = server.listen(self)
        lab = yield Lab(self).start()
        lab.sim().bms.record("Error", "the line the operator looks for")
        result = yield self.upload(lab, TransferRequest("Upload", "log-1", "4 Vendor Log File 1",
                                                        base + "/uploads/system.log", "cpe", "s3cret"))
        self.assertEqual((result.commandKey, result.faultCode), ("log-1", 0))
        self.assertIn(b"the line the operator looks for", server.files["/uploads/system.log"])
        self.assertLessEqual(result.startTime, result.completeTime)

    @defer.inlineCallbacks
    def test_deviceSideFailure(self) -> None:
        """
        The device's log cannot be read — its LogURL names another host (refused: the device's own host
        only), then a path its server does not serve (404): TransferComplete 9011 each time, nothing sent on.
        """
        server = FileServer()
        base = server.listen(self)
        lab = yield Lab(self).start()
        sim = lab.sim()
        served = sim.logURL("system")
        for url, why in ((served.replace("127.0.0.1", "127.0.0.2"), "another host"),
                         (served.replace("/logs/system", "/logs/missing"), "404")):
            sim.logURL = lambda name, url=url: url
            result = yield self.upload(lab, TransferRequest("Upload", "log-2", "4 Vendor Log File 1",
                                                            base + "/uploads/x.log"))
            self.assertEqual(result.faultCode, 9011)
            self.assertIn(why, result.faultString)
        self.assertEqual(server.files, {})

    @defer.inlineCallbacks
    def test_fileServerRefuses(self) -> None:
        """Wrong credentials at the file server: TransferComplete 9012; no such file kept there."""
        server = FileServer(username="cpe", password="right")
        base = server.listen(self)
        lab = yield Lab(self).start()
        result = yield self.upload(lab, TransferRequest("Upload", "log-3", "4 Vendor Log File 2",
                                                        base + "/uploads/boot.log", "cpe", "wrong"))
        self.assertEqual(result.faultCode, 9012)
        self.assertEqual(server.files, {})

    @defer.inlineCallbacks
    def test_wrongUploadRefusedAtOnce(self) -> None:
        """An Upload of a configuration file, or of a log that is not there: 9011 in the response itself."""
        lab = yield Lab(self).start()
        session = yield lab.session([
            m.Upload(TransferRequest("Upload", "c", "1 Vendor Configuration File", "http://127.0.0.1:9/x")),
            m.Upload(TransferRequest("Upload", "c", "4 Vendor Log File 7", "http://127.0.0.1:9/x"))])
        self.assertEqual([a.fault.code for a in answers(session)], [9011, 9011])
        self.assertEqual(transferCompletes(lab), [])
