# -*- test-case-name: tests.test_printer_ippclient -*-
"""
IPP over HTTP(S) to one printer (RFC 8010 §4, RFC 7472 for C{ipps}).

Each operation is one POST of an L{ipp} request to the printer's path, made
through the shared LAN plumbing: L{proxier.lan.httpclient.Requester}
(deadline, body cap, Content-Length, the Host header) on a target checked by
L{proxier.lan.urlpolicy.URLPolicy} (C{ipp://h/p} is C{http://h:631/p},
C{ipps://} is C{https://}). The answer is decoded with the caps of
L{ipp.Limits}; duplicate attributes are logged (the first wins, L{ipp}).

Operations: Get-Printer-Attributes, Set-Printer-Attributes (RFC 3380),
CUPS-Add-Modify-Printer (for a CUPS queue, CUPS Implementation of IPP
§3.3), Restart-Printer (RFC 3998) or Restart-System (PWG 5100.22) where
the printer's C{operations-supported} lists it, and the ippget
subscriptions of RFC 3995/3996 (create, Get-Notifications, renew, cancel),
which only ever tell the caller to poll now.

Failures are L{IPPClientError}s whose text is a log line:
L{IPPStatusError} (the printer answered with an error status, parsed),
L{IPPProtocolError} (not an IPP answer: HTTP status, malformed message),
L{IPPTransportError} (no answer: timeout, connection, TLS key mismatch).

Credentials (config, per printer): on a 401 the challenge is answered once
per request with L{proxier.httpauth} — Digest wherever offered, Basic
only over C{ipps} (a password never crosses the LAN in the clear). IPPS
keys are pinned on first use (L{proxier.printer.pinning}).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, fail, inlineCallbacks

from proxier._version import __version__
from proxier import httpauth
from proxier.lan.httpclient import HTTPFailure, HTTPResult, Requester
from proxier.lan.urlpolicy import Origin, URLPolicy, URLRefused, normalizeAddress
from proxier.log import DeviceLogger
from proxier.printer import ipp, ipptags

__all__ = [
    "IPPClient",
    "IPPClientError",
    "IPPStatusError",
    "IPPProtocolError",
    "IPPTransportError",
    "Credentials",
    "Subscription",
    "Notifications",
    "httpURL",
    "OP_GET_PRINTER_ATTRIBUTES",
    "OP_SET_PRINTER_ATTRIBUTES",
    "OP_CUPS_ADD_MODIFY_PRINTER",
    "OP_RESTART_PRINTER",
    "OP_RESTART_SYSTEM",
]

OP_GET_PRINTER_ATTRIBUTES = 0x000B
OP_SET_PRINTER_ATTRIBUTES = 0x0013
OP_RESTART_PRINTER = 0x0029
OP_RESTART_SYSTEM = 0x0060
OP_CUPS_ADD_MODIFY_PRINTER = 0x4003

USER_AGENT = f"proxier/{__version__} IPP/2.0"
IPP_PORT = 631  # RFC 8010 §4 and RFC 7472 §4: the default port of ipp and ipps


class IPPClientError(Exception):
    """An operation failed; C{str()} is a log line."""


class IPPStatusError(IPPClientError):
    """
    The printer answered with an error status.

    @ivar status: the status-code; L{statusName} its registry name.
    @ivar message: the printer's C{status-message}, if any.
    @ivar response: the whole decoded answer.
    """

    def __init__(self, operation: int, response: ipp.IPPMessage) -> None:
        self.status = response.code
        self.statusName = ipptags.statusName(response.code)
        message = response.operation.get("status-message", "") or ""
        self.message = message.text if isinstance(message, ipp.TextWithLanguage) else str(message)
        self.response = response
        detail = f" ({self.message[:200]})" if self.message else ""
        super().__init__(f"{ipptags.operationName(operation)}: {self.statusName}{detail}")


class IPPProtocolError(IPPClientError):
    """The answer was not a usable IPP response."""


class IPPTransportError(IPPClientError):
    """No answer: refused URL, connection, timeout, body cap, TLS."""


@dataclass(frozen=True)
class Credentials:
    """A printer's admin user and password, from the config (never logged)."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials({self.username!r}, ...)"


@dataclass(frozen=True)
class Subscription:
    """An ippget subscription: its id and the lease the printer granted (seconds, 0 = none)."""

    identifier: int
    lease: int


@dataclass(frozen=True)
class Notifications:
    """
    What Get-Notifications returned.

    @ivar interval: the printer's C{notify-get-interval} (seconds), if given.
    @ivar events: the event-notification groups, oldest first.
    """

    interval: Optional[int]
    events: list

    def sequenceAfter(self, current: int) -> int:
        """The notify-sequence-number to ask for next."""
        numbers = [e.get("notify-sequence-number") for e in self.events]
        return max([current - 1] + [n for n in numbers if isinstance(n, int)]) + 1


def httpURL(url: str) -> tuple[str, str]:
    """
    C{ipp://host[:port]/path} → (C{http://host:port/path}, the printer-uri);
    C{ipps://} → C{https://}; the default port is 631.

    @raise IPPClientError: not an ipp/ipps URL with a host.
    """
    parts = urlsplit(url)
    scheme = {"ipp": "http", "ipps": "https"}.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise IPPClientError(f"{url[:200]}: not an ipp:// or ipps:// printer URL")
    if parts.username is not None or parts.password is not None:
        raise IPPClientError(f"{parts.hostname}: credentials belong in the config, not in the printer URL")
    try:
        port = parts.port or IPP_PORT
    except ValueError:
        raise IPPClientError(f"{url[:200]}: bad port") from None
    host = parts.hostname
    hostPart = f"[{host}]" if ":" in host else host
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{hostPart}:{port}{path}{query}", f"{parts.scheme.lower()}://{hostPart}:{port}{path}{query}"


class IPPClient:
    """
    The IPP operations on one printer.

    @param url: the printer's C{ipp://} or C{ipps://} URL.
    @param requester: the shared LAN requester; by default one on
        L{proxier.lan.httpclient.makeHTTPClient} whose C{https} endpoints use
        C{pins} (required for C{ipps} then).
    @param policy: checks the URL (default: L{URLPolicy} for http/https).
    @param origin: what the policy checks against; by default the printer's
        own address, loopback-only when it is a loopback address.
    @param timeout: seconds per operation (challenge round included).
    @param maxBytes: cap on an answer's body.
    """

    def __init__(
        self,
        url: str,
        *,
        requester: Optional[Requester] = None,
        reactor: Any = None,
        policy: Optional[URLPolicy] = None,
        origin: Optional[Origin] = None,
        credentials: Optional[Credentials] = None,
        pins: Any = None,
        timeout: float = 15.0,
        maxBytes: int = 1 << 20,
        limits: ipp.Limits = ipp.DEFAULT_LIMITS,
        userName: Optional[str] = None,
        log: Any = None,
    ) -> None:
        self.url, self.printerURI = httpURL(url)
        self.secure = self.url.startswith("https:")
        self.log = log if log is not None else DeviceLogger(self.printerURI)
        host = urlsplit(self.url).hostname or ""
        if origin is None:
            try:
                loopback = normalizeAddress(host).is_loopback
            except ValueError:
                loopback = host.lower() == "localhost"
            origin = Origin(host, None, loopbackMode=loopback)
        self.origin = origin
        if reactor is None and (requester is None or policy is None):
            from twisted.internet import reactor as _reactor

            reactor = _reactor
        if policy is None:
            policy = URLPolicy(reactor=reactor, schemes=("http", "https"))
        self.policy = policy
        if requester is None:
            from proxier.lan.httpclient import makeHTTPClient

            client, endpoints = makeHTTPClient(reactor)
            if pins is not None:
                endpoints.tls = pins.creator
            requester = Requester(client, reactor, policy, endpoints=endpoints, userAgent=USER_AGENT)
        self.requester = requester
        self.credentials = credentials
        self.timeout = timeout
        self.maxBytes = maxBytes
        self.limits = limits
        self.userName = userName or (credentials.username if credentials else "proxier")
        self._requestId = 0
        self._digest: Optional[httpauth.DigestClient] = None
        self._basic = False

    # ------------------------------------------------------------ operations

    def getPrinterAttributes(self, requested: Sequence[str] = ("all",)) -> "Deferred[ipp.AttributeGroup]":
        """
        Get-Printer-Attributes (RFC 8011 §4.2.5): the printer group of the
        answer (an empty group when the printer sent none).
        """
        d = self.call(OP_GET_PRINTER_ATTRIBUTES, [
            ("requested-attributes", [ipp.Value(0x44, name) for name in requested]),
        ])
        return d.addCallback(lambda response: response.group(0x04) or ipp.AttributeGroup(0x04))

    def setPrinterAttributes(self, attributes: Iterable[ipp.Attribute]) -> "Deferred[ipp.IPPMessage]":
        """
        Set-Printer-Attributes (RFC 3380 §4.1): the answer (successful-ok or
        -ignored-or-substituted); an error status fails with
        L{IPPStatusError} (e.g. client-error-attributes-not-settable, or
        server-error-operation-not-supported from a printer without it).
        """
        return self.call(OP_SET_PRINTER_ATTRIBUTES, [], [ipp.AttributeGroup(0x04, attributes)])

    def cupsAddModifyPrinter(self, attributes: Iterable[ipp.Attribute]) -> "Deferred[ipp.IPPMessage]":
        """CUPS-Add-Modify-Printer, for a CUPS queue (its URL is C{…/printers/NAME})."""
        return self.call(OP_CUPS_ADD_MODIFY_PRINTER, [], [ipp.AttributeGroup(0x04, attributes)])

    @staticmethod
    def restartOperation(printer: ipp.AttributeGroup) -> Optional[int]:
        """Restart-Printer, else Restart-System, when C{operations-supported} lists it; else C{None}."""
        offered = set(printer.getAll("operations-supported"))
        for op in (OP_RESTART_PRINTER, OP_RESTART_SYSTEM):
            if op in offered:
                return op
        return None

    def restart(self, printer: ipp.AttributeGroup) -> "Deferred[ipp.IPPMessage]":
        """
        Restart the printer through what its attributes offer (RFC 3998
        §3.1.5 Restart-Printer, PWG 5100.22 Restart-System with the
        C{system-uri} of the same URL).

        @raise IPPClientError: (in the Deferred) neither is offered.
        """
        op = self.restartOperation(printer)
        if op is None:
            return fail(IPPClientError(f"{self.printerURI}: neither Restart-Printer nor Restart-System is offered"))
        if op == OP_RESTART_SYSTEM:
            return self.call(op, [], target=("system-uri", self.printerURI))
        return self.call(op, [])

    # ------------------------------------------------------------ ippget (RFC 3995, RFC 3996)

    def createPrinterSubscription(self, events: Sequence[str] = ("printer-state-changed", "printer-config-changed"),
                                  lease: int = 3600) -> "Deferred[Subscription]":
        """
        Create-Printer-Subscriptions (RFC 3995 §11.1.2) with the C{ippget}
        pull method (RFC 3996; a keyword: a uri is a bad request to cupsd).
        ippeveprinter 2.4 answers server-error-operation-not-supported
        (L{IPPStatusError}): polling must not depend on it.
        """
        group = ipp.AttributeGroup(0x06, [
            ipp.Attribute("notify-pull-method", (ipp.Value(0x44, "ippget"),)),
            ipp.Attribute("notify-events", tuple(ipp.Value(0x44, e) for e in events)),
            ipp.Attribute("notify-lease-duration", (ipp.Value(0x21, lease),)),
        ])

        def created(response: ipp.IPPMessage) -> Subscription:
            subscription = response.group(0x06)
            identifier = subscription.get("notify-subscription-id") if subscription is not None else None
            if not isinstance(identifier, int) or isinstance(identifier, bool):
                raise IPPProtocolError("Create-Printer-Subscriptions: no notify-subscription-id in the answer")
            granted = subscription.get("notify-lease-duration") if subscription is not None else None
            return Subscription(identifier, granted if isinstance(granted, int) else lease)

        return self.call(0x0016, [], [group]).addCallback(created)

    def getNotifications(self, subscriptionId: int, sequenceNumber: int = 1) -> "Deferred[Notifications]":
        """
        Get-Notifications (RFC 3996 §5) without waiting: the events from
        C{sequenceNumber} on, and the printer's C{notify-get-interval}.
        """
        def got(response: ipp.IPPMessage) -> Notifications:
            interval = response.operation.get("notify-get-interval")
            return Notifications(interval if isinstance(interval, int) else None, response.allGroups(0x07))

        return self.call(0x001C, [
            ("notify-subscription-ids", ipp.Value(0x21, subscriptionId)),
            ("notify-sequence-numbers", ipp.Value(0x21, sequenceNumber)),
            ("notify-wait", ipp.Value(0x22, False)),
        ]).addCallback(got)

    def renewSubscription(self, subscriptionId: int, lease: int = 3600) -> "Deferred[ipp.IPPMessage]":
        """Renew-Subscription (RFC 3995 §11.2.6)."""
        return self.call(0x001A, [
            ("notify-subscription-id", ipp.Value(0x21, subscriptionId)),
            ("notify-lease-duration", ipp.Value(0x21, lease)),
        ])

    def cancelSubscription(self, subscriptionId: int) -> "Deferred[ipp.IPPMessage]":
        """Cancel-Subscription (RFC 3995 §11.2.7)."""
        return self.call(0x001B, [("notify-subscription-id", ipp.Value(0x21, subscriptionId))])

    # ------------------------------------------------------------ the call

    def nextRequestId(self) -> int:
        self._requestId = self._requestId % 0x7FFFFFFF + 1  # RFC 8011 §4.1.2: 1..2**31-1
        return self._requestId

    def encodeRequest(self, operation: int, attributes: Sequence[tuple[str, Any]] = (),
                      groups: Sequence[ipp.AttributeGroup] = (),
                      target: Optional[tuple[str, str]] = None) -> bytes:
        """The octets of one request: charset, language, printer-uri, requesting-user-name, C{attributes}."""
        name, uri = target or ("printer-uri", self.printerURI)
        message = ipp.request(operation, self.nextRequestId(), [
            (name, ipp.Value(0x45, uri)),
            ("requesting-user-name", ipp.Value(0x42, self.userName)),
            *attributes,
        ], groups)
        return ipp.encode(message)

    def call(self, operation: int, attributes: Sequence[tuple[str, Any]] = (),
             groups: Sequence[ipp.AttributeGroup] = (),
             target: Optional[tuple[str, str]] = None) -> "Deferred[ipp.IPPMessage]":
        """
        One operation: the decoded answer when its status is successful
        (below 0x0400), else L{IPPStatusError}; L{IPPProtocolError} or
        L{IPPTransportError} when there is no usable answer.
        """
        try:
            body = self.encodeRequest(operation, attributes, groups, target)
        except ipp.IPPError as e:
            return fail(IPPClientError(f"{ipptags.operationName(operation)}: cannot encode the request: {e}"))
        return self._call(operation, body)

    @inlineCallbacks
    def _call(self, operation: int, body: bytes) -> Any:
        name = ipptags.operationName(operation)
        try:
            target = yield self.policy.check(self.url, self.origin, ("http", "https"))
        except URLRefused as e:
            raise IPPTransportError(f"{name}: {e}") from None
        result = yield self._post(name, target, body, self._authorization(target, body))
        if result.code == 401 and self.credentials is not None:
            header = self._answerChallenge(name, result, target, body)
            if header is not None:
                result = yield self._post(name, target, body, header)
        if result.code != 200:
            raise IPPProtocolError(f"{name}: HTTP {result.code} from {self.printerURI}"
                                   + (" (credentials refused or missing)" if result.code == 401 else ""))
        try:
            response = ipp.decode(result.body, self.limits)
        except ipp.IPPError as e:
            self.log.warn("{operation}: a malformed IPP answer ({reason})", operation=name, reason=str(e))
            raise IPPProtocolError(f"{name}: malformed IPP answer: {e}") from None
        if response.requestId != int.from_bytes(body[4:8], "big"):  # RFC 8011 §4.1.1: it must echo ours
            self.log.warn("{operation}: the answer names request-id {got}, not ours; used anyway", operation=name,
                          got=response.requestId)
        for tag, attribute in response.duplicates:
            self.log.info("{operation}: duplicate attribute {attribute} in {group}; the first value is kept",
                          operation=name, attribute=attribute, group=ipptags.tagName(tag))
        if response.code >= 0x0400:
            raise IPPStatusError(operation, response)
        return response

    def _post(self, name: str, target: Any, body: bytes, authorization: Optional[str]) -> "Deferred[HTTPResult]":
        headers = [("Content-Type", "application/ipp")]
        if authorization is not None:
            headers.append(("Authorization", authorization))

        def failed(f: Any) -> Any:
            f.trap(HTTPFailure, URLRefused)
            raise IPPTransportError(f"{name}: {f.getErrorMessage()}")

        d = self.requester.request("POST", target, self.origin, headers=headers, body=body,
                                   timeout=self.timeout, maxBytes=self.maxBytes)
        return d.addErrback(failed)

    def _requestTarget(self, target: Any) -> str:
        parts = urlsplit(target.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _authorization(self, target: Any, body: bytes) -> Optional[str]:
        """A pre-emptive answer for a challenge already met (Digest counts nc up)."""
        if self.credentials is None:
            return None
        if self._digest is not None:
            return self._digest.authorization("POST", self._requestTarget(target), body)
        if self._basic:
            return httpauth.basicAuthorization(self.credentials.username, self.credentials.password)
        return None

    def _answerChallenge(self, name: str, result: HTTPResult, target: Any, body: bytes) -> Optional[str]:
        assert self.credentials is not None
        lines = [v.decode("latin-1") for v in result.headers.getRawHeaders(b"WWW-Authenticate", [])]
        try:
            challenges = httpauth.parseChallenges(lines)
        except httpauth.AuthenticationError as e:
            self.log.warn("{operation}: unreadable challenge ({reason})", operation=name, reason=str(e))
            return None
        chosen = httpauth.DigestClient.pick(challenges)
        if chosen is not None:
            try:
                self._digest = httpauth.DigestClient(self.credentials.username, self.credentials.password, chosen)
            except httpauth.AuthenticationError as e:
                self.log.warn("{operation}: cannot answer the Digest challenge ({reason})", operation=name,
                              reason=str(e))
                return None
            self._basic = False
            return self._digest.authorization("POST", self._requestTarget(target), body)
        if any(c.scheme == "basic" for c in challenges):
            if not self.secure:
                self.log.warn("{operation}: the printer asks for Basic over plain ipp://; the password is not sent "
                              "in the clear (use ipps://)", operation=name)
                return None
            self._basic = True
            return httpauth.basicAuthorization(self.credentials.username, self.credentials.password)
        self.log.warn("{operation}: no Digest or Basic challenge to answer", operation=name)
        return None
