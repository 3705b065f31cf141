# -*- test-case-name: tests.test_printer_ews -*-
"""
The EWS seam (PRINTERS.md §9): settings that only a printer's embedded web
server reaches, as named C{X_<VENDOR>_…} parameters under
C{Device.Services.PrintService.1.X_000000_EWS.}.

None of this is a standard and scraping breaks with each firmware release,
so the core does no scraping: it ships no adapter (L{ADAPTERS} is empty)
and knows no page. An L{IEWSAdapter} is a plugin, looked up by the
printer's C{printer-make-and-model} (L{lookup}); it declares its
parameters (L{EWSParameter}: name, TR-106 type, writable) and maps them to
HTTP GETs and form submissions made through an L{EWSClient}, which is all
the core gives it:

 - every request goes through L{proxier.lan.httpclient.Requester} (deadline,
   body cap) on a target the device URL policy checked, and only to the
   printer's own host: the base URL and every redirect must resolve to the
   address the printer's IPP URL resolves to, else L{EWSError};
 - credentials are the printer's admin credentials from the config
   (C{[printer] credentials}): Digest wherever the server offers it, Basic
   only over https, never logged;
 - any failure (no answer, a page over the cap, a status other than 2xx, a
   redirect elsewhere, an adapter that cannot read the page) is one
   L{EWSError} whose text says why.

L{EWSSettings} is the data-model side, one per printer with a matching
adapter: its cached values for the tree's getters (read again when the ACS
asks for them), and writes with the rule of PRINTERS.md §5: every value
written is read back through the web server, and one that did not take
fails the request with 9001 (what took is written back, best effort).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence
from urllib.parse import urlencode, urljoin, urlsplit

from twisted.internet.defer import Deferred, inlineCallbacks, maybeDeferred
from twisted.python.failure import Failure
from zope.interface import Attribute, Interface

from proxier import httpauth
from proxier.datamodel.declarations import CAN_DENY, Object, Parameter
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.types import DataType
from proxier.lan.httpclient import HTTPFailure, HTTPResult, Requester
from proxier.lan.urlpolicy import Origin, URLRefused
from proxier.printer.settings import VENDOR

__all__ = [
    "OBJECT",
    "ADAPTERS",
    "MAX_PAGE",
    "EWSError",
    "EWSParameter",
    "IEWSAdapter",
    "lookup",
    "Page",
    "EWSClient",
    "EWSSettings",
]

#: The vendor object the adapter's parameters are mounted in, under C{PrintService.1.} (TR-106 §3.3).
OBJECT = f"X_{VENDOR}_EWS"
#: The adapters shipped: none (PRINTERS.md §9). A deployment passes its own to the printer devices.
ADAPTERS: tuple = ()
#: The largest page read; an EWS page is a few KiB, a larger answer is refused.
MAX_PAGE = 256 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
# TR-106 §3.3: X_<VENDOR>_<name>, VENDOR an OUI or a domain name
_VENDOR_NAME = re.compile(r"X_[0-9A-Za-z][0-9A-Za-z.-]*_[A-Za-z_][0-9A-Za-z_-]*\Z")


class EWSError(Exception):
    """The printer's web server gave no usable answer; C{str()} says why (a log line, a fault string)."""


@dataclass(frozen=True)
class EWSParameter:
    """One parameter an adapter serves: its C{X_<VENDOR>_…} name, TR-106 type, and whether the ACS may set it."""

    name: str
    type: DataType
    writable: bool = False

    def __post_init__(self) -> None:
        if not _VENDOR_NAME.match(self.name):
            raise ValueError(f"{self.name!r:.80} is not a vendor parameter name X_<VENDOR>_<name> (TR-106 3.3)")


class IEWSAdapter(Interface):
    """The EWS pages of one family of printers, mapped to named parameters (a plugin: none is shipped)."""

    name = Attribute("A short name for log lines.")
    parameters = Attribute("The L{EWSParameter}s it serves, a tuple; names unique.")

    def matches(makeAndModel: str) -> bool:
        """Whether it serves a printer whose C{printer-make-and-model} is C{makeAndModel}."""

    def read(web: "EWSClient") -> Deferred:
        """
        Read its parameters through C{web}: a Deferred firing with a mapping
        name → value (the Python value of its type; what it cannot read now
        left out), or failing (L{EWSError}, or any error parsing a page).
        """

    def write(web: "EWSClient", changes: Mapping[str, Any]) -> Deferred:
        """
        Write C{changes} (name → value, writable parameters only) through
        C{web}: a Deferred firing once submitted. The core reads back.
        """


def lookup(makeAndModel: str, adapters: Sequence[Any] = ADAPTERS) -> Optional[Any]:
    """The first of C{adapters} that matches the printer's make and model, or C{None} (and for no make and model)."""
    if not makeAndModel:
        return None
    for adapter in adapters:
        if adapter.matches(makeAndModel):
            return adapter
    return None


@dataclass(frozen=True)
class Page:
    """One answer of the printer's web server: its status (2xx), URL (after redirects), type and body."""

    code: int
    url: str
    contentType: str
    body: bytes

    def text(self) -> str:
        """The body as text: the charset its Content-Type names (UTF-8 otherwise), undecodable bytes replaced."""
        charset = "utf-8"
        for part in self.contentType.split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class EWSClient:
    """
    Requests to one printer's web server, for an adapter.

    @param base: the EWS root URL (the printer's C{MoreInfoUri}, or
        C{http://host/}); adapters name pages relative to it.
    @param requester: the printer's requester (its IPP client's).
    @param origin: the printer's origin: C{origin.source} is its host (the
        IPP URL's), to which every request must go.
    @param credentials: the printer's admin credentials, or None.
    @param timeout: seconds per request (a challenge round and redirects included).
    """

    def __init__(self, base: str, requester: Requester, origin: Origin, *, credentials: Any = None,
                 timeout: float = 15.0, maxBytes: int = MAX_PAGE, maxRedirects: int = 3) -> None:
        self.base = base
        self.requester = requester
        self.origin = origin
        self.credentials = credentials
        self.timeout = timeout
        self.maxBytes = maxBytes
        self.maxRedirects = maxRedirects
        self._address: Optional[str] = None  # the printer's address, once resolved
        self._digest: Optional[httpauth.DigestClient] = None

    def get(self, path: str, query: Sequence[tuple[str, str]] = ()) -> "Deferred[Page]":
        """GET C{path} (relative to the base), with C{query} as its query string (a GET form)."""
        url = urljoin(self.base, path)
        if query:
            url += ("&" if "?" in url else "?") + urlencode(list(query))
        return self._request("GET", url, None)

    def post(self, path: str, fields: Sequence[tuple[str, str]]) -> "Deferred[Page]":
        """POST a form (C{application/x-www-form-urlencoded}) to C{path}."""
        return self._request("POST", urljoin(self.base, path), urlencode(list(fields)).encode("utf-8"))

    @inlineCallbacks
    def _printerAddress(self) -> Any:
        if self._address is None:
            host = self.origin.source
            hostPart = f"[{host}]" if ":" in host else host
            target = yield self._check(f"http://{hostPart}/")
            self._address = target.address
        return self._address

    @inlineCallbacks
    def _check(self, url: str) -> Any:
        try:
            target = yield self.requester.policy.check(url, self.origin, ("http", "https"))
        except URLRefused as e:
            raise EWSError(str(e)) from None
        return target

    @inlineCallbacks
    def _request(self, method: str, url: str, body: Optional[bytes]) -> Any:
        address = yield self._printerAddress()
        for _ in range(self.maxRedirects + 1):
            target = yield self._check(url)
            if target.address != address:
                raise EWSError(f"{url[:200]}: not the printer's own host ({address}): refused")
            result = yield self._send(method, target, body)
            location = result.header("Location")
            if result.code not in _REDIRECTS or not location:
                break
            url = urljoin(target.url, location.strip())
            if result.code not in (307, 308):  # a form's answer redirected: the browser's GET
                method, body = "GET", None
        else:
            raise EWSError(f"{url[:200]}: more than {self.maxRedirects} redirects")
        if not 200 <= result.code < 300:
            extra = " (credentials refused or missing)" if result.code == 401 else ""
            raise EWSError(f"{method} {result.url[:200]}: HTTP {result.code}{extra}")
        return Page(result.code, result.url, result.header("Content-Type") or "", result.body)

    @inlineCallbacks
    def _send(self, method: str, target: Any, body: Optional[bytes]) -> Any:
        result = yield self._one(method, target, body, self._authorization(method, target, body))
        if result.code == 401 and self.credentials is not None:
            header = self._answer(method, target, body, result)
            if header is not None:
                result = yield self._one(method, target, body, header)
        return result

    def _one(self, method: str, target: Any, body: Optional[bytes], authorization: Optional[str]) -> Deferred:
        headers = [("Authorization", authorization)] if authorization else []
        if body is not None:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))

        def failed(f: Any) -> Any:
            f.trap(HTTPFailure, URLRefused)
            raise EWSError(f.getErrorMessage())

        d = self.requester.request(method, target, self.origin, headers=headers, body=body, timeout=self.timeout,
                                   maxBytes=self.maxBytes)
        return d.addErrback(failed)

    @staticmethod
    def _requestTarget(target: Any) -> str:
        parts = urlsplit(target.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _authorization(self, method: str, target: Any, body: Optional[bytes]) -> Optional[str]:
        """A pre-emptive answer to the Digest challenge already met (nc counts up)."""
        if self.credentials is None or self._digest is None:
            return None
        return self._digest.authorization(method, self._requestTarget(target), body or b"")

    def _answer(self, method: str, target: Any, body: Optional[bytes], result: HTTPResult) -> Optional[str]:
        lines = [v.decode("latin-1") for v in result.headers.getRawHeaders(b"WWW-Authenticate", [])]
        try:
            challenges = httpauth.parseChallenges(lines)
            chosen = httpauth.DigestClient.pick(challenges)
            if chosen is not None:
                self._digest = httpauth.DigestClient(self.credentials.username, self.credentials.password, chosen)
                return self._digest.authorization(method, self._requestTarget(target), body or b"")
        except httpauth.AuthenticationError:
            return None
        if target.scheme == "https" and any(c.scheme == "basic" for c in challenges):
            return httpauth.basicAuthorization(self.credentials.username, self.credentials.password)
        return None  # Basic over plain http: the password is not sent in the clear


class EWSSettings:
    """
    One printer's adapter parameters, for its data model.

    @param serialize: C{serialize(run)} runs C{run() → Deferred} in the
        printer's turn (its gate), so that EWS requests never interleave
        with its IPP operations; returns its Deferred.
    @ivar values: name → value as last read (what the tree's getters give).
    """

    def __init__(self, adapter: Any, client: EWSClient, serialize: Callable[[Callable[[], Deferred]], Deferred],
                 log: Any) -> None:
        self.adapter = adapter
        self.client = client
        self.serialize = serialize
        self.log = log
        self.parameters = {p.name: p for p in adapter.parameters}
        if len(self.parameters) != len(adapter.parameters):
            raise ValueError(f"EWS adapter {adapter.name}: a parameter declared twice")
        self.values: dict[str, Any] = {}

    def declaration(self, refuse: Callable[[Any, Any], None]) -> Object:
        """
        C{X_000000_EWS.} with the adapter's parameters; C{refuse} is the
        setter of the writable ones (the model writes them, not the tree).
        """

        def getter(p: EWSParameter) -> Callable[[Any], Any]:
            empty = p.type.default()
            return lambda node: self.values.get(p.name, empty)

        return Object(OBJECT, *(Parameter(p.name, p.type, get=getter(p), set=refuse if p.writable else None,
                                          activeNotify=CAN_DENY) for p in self.parameters.values()))

    def _run(self, what: str, call: Callable[[], Any]) -> Deferred:
        """
        The adapter's C{call()} in the printer's turn; whatever fails is an
        L{EWSError}: the adapter's parse of a page it does not know is the
        printer's fault, not ours, and so is a turn that never came.
        """
        def adapter() -> Deferred:
            def failed(f: Failure) -> Any:
                if f.check(EWSError):
                    return f
                raise EWSError(f"{self.adapter.name} cannot {what} the pages "
                               f"({f.type.__name__}: {f.getErrorMessage()[:200]})")

            return maybeDeferred(call).addErrback(failed)

        def outside(f: Failure) -> Any:
            if f.check(EWSError):
                return f
            why = f.getErrorMessage()[:200] or f.type.__name__
            raise EWSError(f"no turn to {what} the printer's web server ({why})")

        return maybeDeferred(self.serialize, adapter).addErrback(outside)

    @inlineCallbacks
    def read(self) -> Any:
        """
        Read every parameter again; a value that does not fit its type is
        left out (logged). Fails with L{EWSError} when nothing usable came.
        """
        raw = yield self._run("read", lambda: self.adapter.read(self.client))
        if not isinstance(raw, Mapping):
            raise EWSError(f"{self.adapter.name} gave {type(raw).__name__}, not a mapping")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            p = self.parameters.get(name)
            try:
                if p is None:
                    raise ValueError("not a parameter it declares")
                p.type.check(value)
            except (TypeError, ValueError) as e:
                self.log.info("EWS {adapter}: {name} {value} left out ({why})", adapter=self.adapter.name,
                              name=str(name)[:80], value=repr(value)[:60], why=str(e))
                continue
            values[name] = value
        self.values = values
        return values

    @inlineCallbacks
    def write(self, changes: Mapping[str, Any]) -> Any:
        """
        Write C{changes} (name → value) and read them back: 9001 when the
        server failed or a value did not take (what took is written back).

        @return: the earlier values of C{changes}, for L{restore}.
        """
        try:
            before = yield self.read()
        except EWSError as e:
            raise CWMPFault(9001, f"Request denied (printer web server: {str(e)[:200]})") from None
        earlier = {name: before[name] for name in changes if name in before}
        try:
            yield self._run("write", lambda: self.adapter.write(self.client, dict(changes)))
            after = yield self.read()
        except EWSError as e:
            self.log.warn("EWS {adapter}: writing {names} failed: {why}", adapter=self.adapter.name,
                          names=sorted(changes), why=str(e)[:200])
            yield self.restore(earlier)
            raise CWMPFault(9001, f"Request denied (printer web server: {str(e)[:200]})") from None
        missed = sorted(name for name, value in changes.items() if after.get(name) != value)
        if missed:
            self.log.warn("EWS {adapter}: the web server answered the write of {names} but did not take it",
                          adapter=self.adapter.name, names=missed)
            yield self.restore({name: value for name, value in earlier.items() if name not in missed})
            raise CWMPFault(9001, f"Request denied (the printer's web server did not take {', '.join(missed)})")
        return earlier

    @inlineCallbacks
    def restore(self, earlier: Mapping[str, Any]) -> Any:
        """Write C{earlier} values back (best effort: a failure is logged)."""
        if not earlier:
            return
        try:
            yield self._run("write", lambda: self.adapter.write(self.client, dict(earlier)))
        except EWSError as e:
            self.log.warn("EWS {adapter}: restoring {names} failed: {why}", adapter=self.adapter.name,
                          names=sorted(earlier), why=str(e)[:200])
