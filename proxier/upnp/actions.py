# -*- test-case-name: tests.test_upnp_actions -*-
"""
Invoking actions (UDA 1.1 §3.2): one POST per call, as INTEROP.md asks —
C{Content-Type: text/xml; charset="utf-8"}, an explicit Content-Length,
C{SOAPACTION: "<serviceType>#<action>"}, a Host header without zone id — with a
deadline and a cap on the answer.

A call ends in one of three ways: the output arguments (a dict, in the
order sent); L{UPnPError} when the device refused (from a fault in an HTTP
500, or in an HTTP 200 — some devices do that); L{ActionError} when no
usable answer came (timeout, connection, malformed body, unexpected status).
When the SCPD is known the arguments are put in its order and checked first,
so that a caller's mistake never reaches the device.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from twisted.internet.defer import Deferred, fail
from twisted.python.failure import Failure

from proxier.upnp import soap
from proxier.upnp.description import SCPD
from proxier.lan.httpclient import HTTPFailure, HTTPResult, Requester
from proxier.upnp.soap import SOAPError, UPnPError
from proxier.lan.urlpolicy import Origin, Target, URLRefused

__all__ = ["ActionError", "ActionClient", "orderArguments"]

_MPOST_MAN = '"http://schemas.xmlsoap.org/soap/envelope/"; ns=01'


class ActionError(Exception):
    """An action got no usable answer; C{str()} says why, for a log line."""


def orderArguments(scpd: SCPD, action: str, arguments: Mapping[str, object]) -> list[tuple[str, object]]:
    """
    The in-arguments in SCPD order.

    @raise UPnPError: 401 when the SCPD has no such action, 402 when an
        argument is missing or unknown (found before sending anything).
    """
    described = scpd.action(action)
    if described is None:
        raise UPnPError(401, f"{action} is not in the service description (checked by the proxier)")
    names = [a.name for a in described.inArguments]
    unknown = sorted(set(arguments) - set(names))
    missing = [n for n in names if n not in arguments]
    if unknown or missing:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("unknown " + ", ".join(unknown))
        raise UPnPError(402, f"{action}: {'; '.join(parts)} (checked by the proxier)")
    return [(n, arguments[n]) for n in names]


class ActionClient:
    """
    @param timeout: default deadline of one call, in seconds.
    @param maxBytes: cap on an answer's body.
    """

    def __init__(self, requester: Requester, *, timeout: float = 30.0, maxBytes: int = soap.MAX_BODY_BYTES) -> None:
        self.requester = requester
        self.timeout = timeout
        self.maxBytes = maxBytes

    def callAction(
        self,
        control: Target,
        origin: Origin,
        serviceType: str,
        action: str,
        arguments: Optional[Mapping[str, object]] = None,
        *,
        scpd: Optional[SCPD] = None,
        timeout: Optional[float] = None,
    ) -> "Deferred[dict[str, str]]":
        """
        Invoke C{action} on the service whose control URL is C{control}.

        @return: a Deferred firing with the output arguments, or failing with
            L{UPnPError} or L{ActionError}.
        """
        arguments = arguments or {}
        try:
            ordered = orderArguments(scpd, action, arguments) if scpd is not None else list(arguments.items())
            body = soap.encodeRequest(serviceType, action, ordered)
        except UPnPError:
            return fail()
        except ValueError as e:
            return fail(UPnPError(402, f"{action}: {e} (checked by the proxier)"))
        return self._call(control, origin, serviceType, action, body, timeout or self.timeout)

    # plain callbacks, not generators: every UPnP action of every device
    # comes through here (issue 19: ten a device to bootstrap it)
    def _call(self, control: Target, origin: Origin, serviceType: str, action: str, body: bytes,
              timeout: float) -> "Deferred[dict[str, str]]":
        headers = [
            ("Content-Type", soap.CONTENT_TYPE),
            ("SOAPACTION", soap.soapActionHeader(serviceType, action)),
        ]

        def answered(result: HTTPResult) -> Any:
            if result.code == 405:  # a UDA 1.0 device that wants the M-POST form
                mpost = [("Content-Type", soap.CONTENT_TYPE), ("MAN", _MPOST_MAN),
                         ("01-SOAPACTION", soap.soapActionHeader(serviceType, action))]
                return self._post("M-POST", control, origin, mpost, body, timeout, action).addCallback(
                    self._decode, action)
            return self._decode(result, action)

        return self._post("POST", control, origin, headers, body, timeout, action).addCallback(answered)

    def _post(self, method: str, control: Target, origin: Origin, headers: list, body: bytes, timeout: float,
              action: str) -> "Deferred[HTTPResult]":
        def failed(f: Failure) -> Failure:
            if f.check(HTTPFailure, URLRefused):
                return Failure(ActionError(f"{action}: {f.value}"))
            return f

        return self.requester.request(
            method, control, origin, headers=headers, body=body, timeout=timeout, maxBytes=self.maxBytes
        ).addErrback(failed)

    def _decode(self, result: HTTPResult, action: str) -> dict[str, str]:
        if result.code == 200:
            try:
                return soap.decodeResponse(result.body, action, self.maxBytes)
            except SOAPError as e:
                raise ActionError(f"{action}: unusable response: {e}") from None
        fault = soap.decodeFault(result.body, self.maxBytes)
        if fault is not None:
            raise fault
        raise ActionError(f"{action}: HTTP {result.code} without a UPnPError")
