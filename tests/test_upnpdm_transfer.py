"""
Tests for moving files (L{proxier.upnpdm.httpfiles}: the device's log read
under the URL policy, the upload to a file server with Basic or Digest),
and for upnpdm's handlers of the durable transfer queue
(L{proxier.proxy.transfers}, tested in L{tests.test_proxy_transfers}).

The HTTP tests run real servers on 127.0.0.1 (port 0).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, reactor, task
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from zope.interface.verify import verifyClass

from proxier.outbound import TargetPolicy
from proxier.lan.httpclient import Requester, makeHTTPClient
from proxier.lan.urlpolicy import Origin, URLPolicy
from proxier.proxy.transfers import ITransferHandler
from proxier.upnpdm import httpfiles
from proxier.upnpdm.httpfiles import TransferFailed, Uploader, checkUploadURL, fetchFromDevice, uploadVerdict
from proxier.upnpdm.management import DeviceLinkOf
from proxier.upnpdm.settings import ProxySettings
from tests.test_upnpdm_fakes import SimUPnPDevice
from tests.test_upnpdm_transfer_support import FileServer


class VerdictTests(unittest.TestCase):
    def test_everyRow(self) -> None:
        """Each row of UPLOAD_VERDICTS: its statuses give its fault code (None: uploaded)."""
        for statuses, code in httpfiles.UPLOAD_VERDICTS:
            for status in (statuses.start, statuses.stop - 1):
                expected = code
                # an earlier row wins where ranges overlap (401/407 inside 400-599)
                for earlier, earlierCode in httpfiles.UPLOAD_VERDICTS:
                    if status in earlier:
                        expected = earlierCode
                        break
                self.assertEqual(uploadVerdict(status), expected, status)

    def test_examples(self) -> None:
        """200/201/204 are done; 401 and 407 are 9012; 403, 404, 500, 302 are 9011."""
        for status in (200, 201, 204):
            self.assertIsNone(uploadVerdict(status))
        for status in (401, 407):
            self.assertEqual(uploadVerdict(status), 9012)
        for status in (302, 403, 404, 500, 999):
            self.assertEqual(uploadVerdict(status), 9011)

    def test_checkUploadURL(self) -> None:
        """http and https with a host are fine; other schemes, no host, credentials in the URL are not."""
        self.assertIsNone(checkUploadURL("http://acs.example/up/1"))
        self.assertIsNone(checkUploadURL("https://[2001:db8::1]:8443/up"))
        for bad in ("ftp://acs.example/x", "file:///etc/passwd", "http:///x", "http://u:p@acs.example/x",
                    "http://acs.example:99999/x", "tftp://h/x"):
            self.assertIsNotNone(checkUploadURL(bad), bad)


class UploaderTests(unittest.TestCase):
    """The uploader against a real file server on 127.0.0.1."""

    def uploader(self, timeout: float = 10.0) -> Uploader:
        agent = Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
        return Uploader(agent, reactor, timeout=timeout, targets=TargetPolicy(["127.0.0.1"]))

    @defer.inlineCallbacks
    def test_put(self) -> None:
        """PUT with the body's length, no credentials needed."""
        server = FileServer()
        base = server.listen(self)
        yield self.uploader().upload(base + "/logs/a.log", b"line 1\nline 2\n")
        self.assertEqual(server.files["/logs/a.log"], b"line 1\nline 2\n")
        [(method, path, headers)] = server.requests
        self.assertEqual((method, headers["content-length"]), ("PUT", "14"))
        self.assertNotIn("transfer-encoding", headers)

    @defer.inlineCallbacks
    def test_digest(self) -> None:
        """A Digest challenge is answered with the Upload's credentials (the digest uri with its query)."""
        server = FileServer(username="cpe", password="s3cret")
        base = server.listen(self)
        yield self.uploader().upload(base + "/up?id=7", b"data", "cpe", "s3cret")
        self.assertEqual(server.files["/up"], b"data")
        self.assertEqual([m for m, _, _ in server.requests], ["PUT", "PUT"])
        self.assertTrue(server.requests[1][2]["authorization"].startswith("Digest "))

    @defer.inlineCallbacks
    def test_basic(self) -> None:
        """A Basic challenge is answered with Basic."""
        server = FileServer(username="cpe", password="pw", scheme="basic")
        base = server.listen(self)
        yield self.uploader().upload(base + "/up", b"data", "cpe", "pw")
        self.assertEqual(server.files["/up"], b"data")

    @defer.inlineCallbacks
    def test_wrongCredentials(self) -> None:
        """Refused credentials: 9012, after one answered challenge (no loop)."""
        server = FileServer(username="cpe", password="right")
        base = server.listen(self)
        failure = yield self.assertFailure(self.uploader().upload(base + "/up", b"x", "cpe", "wrong"), TransferFailed)
        self.assertEqual(failure.code, 9012)
        self.assertEqual(len(server.requests), 2)

    @defer.inlineCallbacks
    def test_noCredentials(self) -> None:
        """A server that asks for credentials the Upload did not give: 9012."""
        server = FileServer(username="cpe", password="pw")
        base = server.listen(self)
        failure = yield self.assertFailure(self.uploader().upload(base + "/up", b"x"), TransferFailed)
        self.assertEqual(failure.code, 9012)

    @defer.inlineCallbacks
    def test_postWherePutRefused(self) -> None:
        """A server that answers PUT with 405 gets a POST (credentials answered again for it)."""
        server = FileServer(username="cpe", password="pw", refusePut=True)
        base = server.listen(self)
        yield self.uploader().upload(base + "/up", b"data", "cpe", "pw")
        self.assertEqual([m for m, _, _ in server.requests], ["PUT", "PUT", "POST"])
        self.assertEqual(server.files["/up"], b"data")

    @defer.inlineCallbacks
    def test_serverError(self) -> None:
        """500 from the file server: 9011 naming the status."""
        server = FileServer(status=500)
        base = server.listen(self)
        failure = yield self.assertFailure(self.uploader().upload(base + "/up", b"x"), TransferFailed)
        self.assertEqual(failure.code, 9011)
        self.assertIn("500", failure.reason)

    @defer.inlineCallbacks
    def test_refusedConnection(self) -> None:
        """Nobody listens: 9011."""
        server = FileServer()
        base = server.listen(self)
        port = int(base.rsplit(":", 1)[1])
        yield self.cleanupPort(port)
        failure = yield self.assertFailure(self.uploader().upload(f"http://127.0.0.1:{port}/x", b"x"), TransferFailed)
        self.assertEqual(failure.code, 9011)

    def cleanupPort(self, port: int) -> Any:
        # stop the server's listening port now (its cleanup will find it stopped)
        from twisted.internet import reactor as r

        for reader in list(r.getReaders()):
            getHost = getattr(reader, "getHost", None)
            if getHost is not None and getattr(getHost(), "port", None) == port:
                return reader.stopListening()
        return None

    @defer.inlineCallbacks
    def test_hungServer(self) -> None:
        """A server that never answers: 9011 after the upload timeout."""
        server = FileServer(hang=True)
        base = server.listen(self)
        failure = yield self.assertFailure(self.uploader(timeout=0.5).upload(base + "/up", b"x"), TransferFailed)
        self.assertEqual(failure.code, 9011)
        self.assertIn("did not answer", failure.reason)

    def test_noAgent(self) -> None:
        """No HTTP client: 9011 at once."""
        failure = self.failureResultOf(Uploader(None, task.Clock()).upload("http://acs.example/x", b""), TransferFailed)
        self.assertEqual(failure.value.code, 9011)

    def test_badURL(self) -> None:
        """A URL the uploader does not take: 9011 at once, nothing sent."""
        failure = self.failureResultOf(Uploader(object(), task.Clock()).upload("ftp://h/x", b""), TransferFailed)
        self.assertEqual(failure.value.code, 9011)


class FakeControlPoint:
    """What fetchFromDevice uses of the control point: its URL policy and requester (loopback lab mode)."""

    def __init__(self) -> None:
        client, endpoints = makeHTTPClient(reactor, connectTimeout=5)
        self.policy = URLPolicy(lambda host: defer.succeed(["127.0.0.1"]), reactor=reactor)
        self.requester = Requester(client, reactor, self.policy, endpoints=endpoints)


class FakeUPnP:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.controlPoint = FakeControlPoint()
        self.host = host
        self.origin = Origin(host, None, loopbackMode=True)


class FetchTests(unittest.TestCase):
    """Reading a log from the device: its own host only, bounded."""

    @defer.inlineCallbacks
    def test_fetch(self) -> None:
        """The LogURL on the device's host is read."""
        server = FileServer()
        base = server.listen(self)
        server.files["/logs/system"] = b"hello\n"
        body = yield fetchFromDevice(FakeUPnP(), base + "/logs/system")
        self.assertEqual(body, b"hello\n")

    @defer.inlineCallbacks
    def test_otherHost(self) -> None:
        """A LogURL naming another host than the device's: refused (9011), nothing fetched."""
        server = FileServer()
        base = server.listen(self)
        failure = yield self.assertFailure(fetchFromDevice(FakeUPnP(host="127.0.0.2"), base + "/logs/x"),
                                           TransferFailed)
        self.assertEqual(failure.code, 9011)
        self.assertEqual(server.requests, [])

    @defer.inlineCallbacks
    def test_notHTTP(self) -> None:
        """A LogURL that is not http (file:, https:): refused."""
        for url in ("file:///etc/shadow", "https://127.0.0.1/x", "gopher://127.0.0.1/x"):
            yield self.assertFailure(fetchFromDevice(FakeUPnP(), url), TransferFailed)

    @defer.inlineCallbacks
    def test_tooBig(self) -> None:
        """A log over the cap: refused (9011)."""
        server = FileServer()
        base = server.listen(self)
        server.files["/big"] = b"x" * 5000
        failure = yield self.assertFailure(fetchFromDevice(FakeUPnP(), base + "/big", maxBytes=1000), TransferFailed)
        self.assertEqual(failure.code, 9011)

    @defer.inlineCallbacks
    def test_notFound(self) -> None:
        """The device answers 404: 9011 naming it."""
        server = FileServer()
        base = server.listen(self)
        failure = yield self.assertFailure(fetchFromDevice(FakeUPnP(), base + "/gone"), TransferFailed)
        self.assertIn("404", failure.reason)

    @defer.inlineCallbacks
    def test_configuredCap(self) -> None:
        """A Virtual CWMP Device reads its logs under C{[upnp] log_max_bytes}: a log over it is refused (9011)."""
        server = FileServer()
        base = server.listen(self)
        server.files["/log"] = b"x" * 5000
        device = type("Device", (), {"clock": task.Clock(), "log": None, "_target": lambda self: FakeUPnP()})()
        small = DeviceLinkOf(device, ProxySettings(logMaxBytes=4096))
        failure = yield self.assertFailure(small.fetch(base + "/log"), TransferFailed)
        self.assertEqual(failure.code, 9011)
        body = yield DeviceLinkOf(device, ProxySettings(logMaxBytes=8192)).fetch(base + "/log")
        self.assertEqual(len(body), 5000)

    def test_noControlPoint(self) -> None:
        """A device without a control point to reach it over HTTP (the simulator's stand-in): 9011."""
        failure = self.failureResultOf(fetchFromDevice(SimUPnPDevice(task.Clock()), "http://127.0.0.1/x"),
                                       TransferFailed)
        self.assertEqual(failure.value.code, 9011)


class HandlerTests(unittest.TestCase):
    def test_handlersDeclareTheContract(self) -> None:
        """The firmware Download and the log Upload are ITransferHandlers of the core's queue, completely."""
        from proxier.upnpdm.firmware import FirmwareService
        from proxier.upnpdm.logs import LogsService

        for cls in (FirmwareService, LogsService):
            self.assertTrue(ITransferHandler.implementedBy(cls), cls)
            verifyClass(ITransferHandler, cls)
