# -*- test-case-name: tests.test_upnpdm_transfer -*-
"""
Moving a file for a Virtual CWMP Device over HTTP (TR-330 §4.4.2): reading a
log from the device, and sending it on to the file server the ACS named.

From the device: a C{GET} of the LogURL its BasicManagement gave — a URL a
device hands out is checked as every device URL is (the control point's
URL policy: no loopback but in the loopback lab mode, no other network) and
must moreover name the device's own host, so that a device cannot make the
gateway fetch from another machine; bounded in size and time, no redirects.

To the ACS's file server — never loopback, link-local or this gateway
unless the operator allows the host (L{proxier.outbound}; refused: 9011) —:
C{PUT} with the body's length (TR-069 A.4.1 and
§3.4.5: HTTP PUT; an ACS that answers 405 Method Not Allowed or 501 gets a
C{POST} instead, as some file servers expect), answering a C{401} with the
Upload's Username and Password — Digest (the strongest challenge offered,
L{proxier.httpauth}) or Basic — each request bounded in time, body
included (L{proxier.httpbody.requestWithin}); the ACS's TLS trust
root and client certificate apply to C{https} (the agent given is the
plugin context's C{acsAgent}, L{proxier.interfaces.IProxierContext}: the
endpoints' own kind).

What each failure means in the TransferComplete is data (L{UPLOAD_VERDICTS}
and L{uploadVerdict}): authentication refused → 9012; anything else → 9011
"Upload failure" — the same 9011 TR-330 §4.4.2 asks for when the device side
fails.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, fail, inlineCallbacks
from twisted.python.failure import Failure
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent

from proxier._version import __version__
from proxier.httpauth import AuthenticationError, DigestClient, basicAuthorization, parseChallenges
from proxier.httpbody import describe, requestWithin
from proxier.outbound import TargetPolicy, TargetRefused
from proxier.upnpdm.settings import FETCH_TIMEOUT, MAX_LOG_BYTES, UPLOAD_TIMEOUT

__all__ = [
    "TransferFailed",
    "fetchFromDevice",
    "Uploader",
    "UPLOAD_VERDICTS",
    "uploadVerdict",
    "checkUploadURL",
]

#: The most of a file server's answer read (and dropped).
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = f"proxier/{__version__} (CWMP CPE Proxier)"


class TransferFailed(Exception):
    """A transfer that did not happen: the TransferComplete fault code and a reason fit for FaultString."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


# ---- from the device ------------------------------------------------------------------------


def _sameHost(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.partition("%")[0]) == ipaddress.ip_address(b.partition("%")[0])
    except ValueError:
        return a.lower() == b.lower()


@inlineCallbacks
def fetchFromDevice(upnp: Any, url: str, *, maxBytes: int = MAX_LOG_BYTES, timeout: float = FETCH_TIMEOUT) -> Any:
    """
    GET C{url} from the device C{upnp} (the control point's L{UPnPDevice},
    through its C{controlPoint}'s URL policy and requester; a stand-in whose
    C{controlPoint} is None cannot be reached over HTTP).

    @return: Deferred firing with the body; failing with L{TransferFailed}
        (code 9011) when the URL is refused, the device does not answer in
        time, answers other than 200, or sends more than C{maxBytes}.
    """
    controlPoint = upnp.controlPoint
    if controlPoint is None:
        raise TransferFailed(9011, "the device cannot be reached over HTTP now")
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        raise TransferFailed(9011, f"the device's log URL is not http ({url[:80]!r})")
    try:
        target = yield controlPoint.policy.check(url, upnp.origin, ("http",))
    except Exception as e:
        raise TransferFailed(9011, f"the device's log URL is refused: {e}") from None
    if not _sameHost(target.address, upnp.host):
        raise TransferFailed(9011, f"the device's log URL names another host ({target.address}, not {upnp.host})")
    try:
        result = yield controlPoint.requester.request("GET", target, upnp.origin, timeout=timeout, maxBytes=maxBytes)
    except Exception as e:
        raise TransferFailed(9011, f"the log could not be read from the device: {e}") from None
    if result.code != 200:
        raise TransferFailed(9011, f"the device answered {result.code} for its log")
    return result.body


# ---- to the ACS's file server ----------------------------------------------------------------

# What a file server's final answer means for the TransferComplete of an
# Upload (TR-069 Table 64 / cwmp-1-2.xsd TransferCompleteFaultStruct): by
# status class, with the authentication refusals first. None: success.
UPLOAD_VERDICTS: tuple[tuple[range, Optional[int]], ...] = (
    (range(200, 300), None),
    (range(401, 402), 9012),
    (range(407, 408), 9012),
    (range(100, 200), 9011),
    (range(300, 400), 9011),
    (range(400, 600), 9011),
)


def uploadVerdict(status: int) -> Optional[int]:
    """The TransferComplete fault code a file server's final HTTP status means (None: uploaded)."""
    for statuses, code in UPLOAD_VERDICTS:
        if status in statuses:
            return code
    return 9011


def checkUploadURL(url: str) -> Optional[str]:
    """Why the proxier cannot upload to C{url} (only http and https, with a host), or None."""
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError:
        return "the URL is not valid"
    if parts.scheme.lower() not in ("http", "https"):
        return f"{parts.scheme or 'no'} scheme: only http and https uploads are offered"
    if not parts.hostname:
        return "the URL names no host"
    if parts.username or parts.password:
        return "credentials belong in Username and Password, not in the URL"
    return None


class Uploader:
    """
    Sends one file to a file server (see the module docstring).

    @param agent: an C{IAgent} (or C{() → IAgent}, made when first needed).
    """

    def __init__(self, agent: Any, clock: Any, *, timeout: float = UPLOAD_TIMEOUT, targets: Any = None) -> None:
        """
        @param targets: the L{TargetPolicy} file servers must pass (default:
            one allowing no local host: no loopback, link-local or address
            of this gateway).
        """
        self._agent = agent
        self.clock = clock
        self.timeout = timeout
        self.targets = targets if targets is not None else TargetPolicy()

    def _agentNow(self) -> Any:
        agent = self._agent
        if not IAgent.providedBy(agent) and callable(agent):  # made when first needed
            agent = self._agent = agent()
        return agent

    def upload(self, url: str, body: bytes, username: str = "", password: str = "",
               contentType: str = "application/octet-stream") -> Deferred:
        """
        @return: Deferred firing with None once the server took the file, or
            failing with L{TransferFailed} (9011, or 9012 for authentication).
        """
        reason = checkUploadURL(url)
        if reason is not None:
            return fail(TransferFailed(9011, reason))
        if self._agent is None:
            return fail(TransferFailed(9011, "the proxier has no HTTP client for uploads"))
        d = self.targets.check(url)

        def refused(failure: Failure) -> Failure:
            if failure.check(TargetRefused):
                return Failure(TransferFailed(9011, f"the file server is refused: {failure.value}"))
            return failure

        d.addErrback(refused)
        return d.addCallback(lambda _: self._upload(url, body, username, password, contentType))

    @inlineCallbacks
    def _upload(self, url: str, body: bytes, username: str, password: str, contentType: str) -> Any:
        method = "PUT"
        authorization: Optional[Callable[[str], str]] = None
        authTried = False
        methodTried = False
        target = _requestTarget(url)
        while True:
            status, headers = yield self._request(method, url, body, contentType,
                                                  authorization(method) if authorization else None)
            if status in (401, 407) and not authTried and (username or password):
                authTried = True
                authorization = _answer(headers, username, password, target, body)
                if authorization is not None:
                    continue
            if status in (405, 501) and not methodTried:
                methodTried = True
                method = "POST"
                continue
            code = uploadVerdict(status)
            if code is None:
                return None
            if code == 9012:
                why = "refused the credentials" if authTried else "asks for credentials the Upload did not give"
                raise TransferFailed(9012, f"the file server {why} ({status})")
            raise TransferFailed(code, f"the file server answered {method} with {status}")

    def _request(self, method: str, url: str, body: bytes, contentType: str,
                 authorization: Optional[str]) -> Deferred:
        headers = Headers({b"User-Agent": [USER_AGENT.encode("ascii")],
                           b"Content-Type": [contentType.encode("ascii")]})
        if authorization:
            headers.setRawHeaders(b"Authorization", [authorization.encode("utf-8")])

        def cannotStart(e: BaseException) -> TransferFailed:
            return TransferFailed(9011, f"cannot {method} to the file server: {type(e).__name__}")

        try:
            agent, target = self._agentNow(), url.encode("ascii")
        except Exception as e:
            return fail(cannotStart(e))
        d = requestWithin(
            agent, method.encode("ascii"), target, headers, body,
            clock=self.clock, timeout=self.timeout, maxBytes=MAX_ANSWER_BYTES, bodyMatters=False,
            timedOut=lambda: TransferFailed(9011, f"the file server did not answer within {self.timeout:g} s"),
            failed=lambda e: TransferFailed(9011, f"the file server could not be reached: {describe(e)}"[:200]),
            cannotStart=cannotStart, tooLarge=lambda reason: TransferFailed(9011, reason))  # not looked at
        return d.addCallback(lambda answer: (answer.status, answer.headers))


def _requestTarget(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _answer(headers: Headers, username: str, password: str, target: str,
            body: bytes) -> Optional[Callable[[str], str]]:
    """How to answer the server's challenges: Digest when offered (the strongest), else Basic; None: neither."""
    raw = [v.decode("latin-1") for v in (headers.getRawHeaders(b"WWW-Authenticate") or [])]
    challenges = parseChallenges(raw)
    chosen = DigestClient.pick(challenges)
    if chosen is not None:
        try:
            client = DigestClient(username, password, chosen)
        except AuthenticationError:
            client = None
        if client is not None:
            return lambda method: client.authorization(method, target, body)
    if any(c.scheme == "basic" for c in challenges):
        value = basicAuthorization(username, password)
        return lambda method: value
    return None
