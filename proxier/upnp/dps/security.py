# -*- test-case-name: tests.test_dps_security -*-
"""
The control point's DeviceProtection layer (TR-330 §2.3, §2.4, §4.8): which
devices are talked to over TLS, who they are, what the proxier may do on
them, and whether their data may be proxied at all.

Every described device passes L{SecurityManager.admit} before observers
hear of it. A device that announces SECURELOCATION.UPNP.ORG is secured:

 1. its SECURELOCATION must be an https URL on the same host as its
    LOCATION (else: refused);
 2. its description is fetched again over TLS (L{proxier.upnp.dps.tls}: the
    proxier's client certificate; the device's certificate checked against
    its pin, or pinned now on first use, or trusted through C{[upnp]
    dps_device_ca_file}); from then on its descriptions, actions and event
    subscriptions go over TLS (GENA NOTIFYs come back over plain HTTP: a
    control point runs no TLS server). A certificate that differs from the
    pin quarantines the device (L{PinStore}): logged with its identity,
    nothing sent to it, no data proxied, until the operator accepts the new
    certificate (C{[upnp] dps_accept_certificates}). An expired
    certificate, one naming another device or address, an old TLS version
    or weak ciphers only, plain HTTP where TLS was announced: refused,
    logged, nothing sent;
 3. GetAssignedRoles tells what the proxier holds; GetRolesForAction (where
    the device allows it) refines the default role-action table for the
    actions the proxier uses. The result is the device's
    L{DeviceSecurity.permissions}, which the proxy module reads to offer
    only what the role allows;
 4. a device that grants nothing beyond Public is not proxied (TR-330 §2.4:
    no data of the device reaches the ACS until it granted access) unless
    C{[upnp] dps_proxy_public}; with C{dps_introduction = pbc} the WPS
    push-button introduction (L{Introduction}) asks the user to press the
    device's button, and once the device grants a role the device is shown.

A device with a DeviceProtection service but no SECURELOCATION (miniupnpd's
plain stub) is an unprotected device: no TLS, its role answers not trusted
(L{DeviceSecurity.secure} false).
"""

from __future__ import annotations

import base64
import binascii
import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.upnp.dps import codec
from proxier.upnp.actions import ActionError
from proxier.upnp.dps.cpidentity import Credentials, fingerprint
from proxier.upnp.description import Service
from proxier.upnp.fetcher import DeviceInfo, FetchError
from proxier.upnp.soap import UPnPError
from proxier.upnp.ssdp import parseType
from proxier.upnp.dps.tls import ClientTLS, DeviceTrust, Verdict, describeTLSFailure
from proxier.lan.urlpolicy import URLRefused

if TYPE_CHECKING:
    # the WPS registrar is imported with the first introduction: most devices never need one (issue 19)
    from proxier.upnp.dps import wps

__all__ = [
    "DeviceSecurity",
    "PinStore",
    "Introduction",
    "SecurityManager",
    "PLAIN",
    "CONNECTING",
    "GRANTED",
    "PUBLIC",
    "HELD",
    "QUARANTINED",
    "REFUSED",
    "ROLE_QUESTIONS",
    "PINS",
    "QUARANTINE",
    "INTRODUCTIONS",
]

PLAIN = "plain"  # no DeviceProtection over TLS: an unprotected device
CONNECTING = "connecting"
GRANTED = "granted"  # TLS, and a role beyond Public
PUBLIC = "public"  # TLS, Public only, proxied because [upnp] dps_proxy_public
HELD = "held"  # TLS, Public only: not proxied (privacy), maybe being introduced
QUARANTINED = "quarantined"
REFUSED = "refused"

PINS = "dps-pins"
QUARANTINE = "dps-quarantine"
INTRODUCTIONS = "dps-introductions"

#: The actions whose roles are asked with GetRolesForAction: those the proxy
#: module invokes that a role may forbid.
ROLE_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("ConfigurationManagement", "GetValues"),
    ("ConfigurationManagement", "SetValues"),
    ("ConfigurationManagement", "CreateInstance"),
    ("ConfigurationManagement", "DeleteInstance"),
    ("ConfigurationManagement", "SetAttributes"),
    ("BasicManagement", "Reboot"),
    ("BasicManagement", "BaselineReset"),
)
#: Seconds between two push-button attempts while the user may press.
BUTTON_POLL = 5.0


#: What a plain device allows: all of it. Immutable, so one for every device (issue 19: its role set and
#: two dicts were ~0.6 KB a device).
_PLAIN_PERMISSIONS = codec.Permissions(codec.EVERYONE, table={})


@dataclass(slots=True)
class DeviceSecurity:
    """
    What the proxier knows of one device's protection (C{UPnPDevice.security};
    slots: one per device, issue 19).

    @ivar state: L{PLAIN}, L{CONNECTING}, L{GRANTED}, L{PUBLIC}, L{HELD},
        L{QUARANTINED} or L{REFUSED}.
    @ivar permissions: what the proxier may invoke (all of it for a plain device).
    @ivar reason: why it is held, quarantined or refused.
    @ivar fingerprint: the device's certificate (TLS only).
    """

    state: str = PLAIN
    permissions: codec.Permissions = field(default_factory=lambda: _PLAIN_PERMISSIONS)
    reason: str = ""
    fingerprint: str = ""
    certificate: bytes = b""
    generation: int = 0

    @property
    def secure(self) -> bool:
        """Whether the device is talked to over TLS, its roles trusted."""
        return self.state in (CONNECTING, GRANTED, PUBLIC, HELD)

    @property
    def proxiable(self) -> bool:
        return self.state in (PLAIN, GRANTED, PUBLIC)

    def allows(self, serviceType: str, action: str) -> bool:
        return self.permissions.allows(serviceType, action)

    @property
    def roles(self) -> frozenset[str]:
        return self.permissions.roles


class PinStore:
    """
    The device certificates pinned per UDN, and the quarantined devices,
    kept in the protocol's state (C{dps-pins.json}, C{dps-quarantine.json}).

    @param accepted: C{[upnp] dps_accept_certificates}: C{UDN=fingerprint}
        entries; a quarantined device whose new certificate is listed is
        released (its pin replaced) — at start, or as soon as it shows it.
    """

    log = Logger()

    def __init__(self, store: Any, clock: Any, accepted: tuple[str, ...] = ()) -> None:
        self.clock = clock
        self._pins = store.document(PINS) if store is not None else None
        self._quarantine = store.document(QUARANTINE) if store is not None else None
        self.pins: dict[str, dict] = self._load(self._pins)
        self.quarantined: dict[str, dict] = self._load(self._quarantine)
        self.accepted: dict[str, str] = {}
        for entry in accepted:
            udn, sep, fp = entry.partition("=")
            if not sep or not udn.strip() or not fp.strip().upper().startswith("SHA256:"):
                self.log.error("[upnp] dps_accept_certificates: {entry!r} is not UDN=SHA256:...; ignored",
                               entry=entry[:200])
                continue
            self.accepted[udn.strip().lower()] = "SHA256:" + fp.strip()[7:].upper()
        for udn, fp in self.accepted.items():
            if udn in self.quarantined and self.quarantined[udn].get("presented") == fp:
                self.release(udn, fp)

    @staticmethod
    def _load(document: Any) -> dict[str, dict]:
        if document is None:
            return {}

        def validate(payload: Any) -> None:
            if not isinstance(payload, dict) or not all(isinstance(v, dict) for v in payload.values()):
                raise ValueError("not a table of devices")

        return dict(document.load(default={}, validate=validate))

    def _now(self) -> str:
        return datetime.datetime.fromtimestamp(self.clock.seconds(), datetime.timezone.utc).isoformat(
            timespec="seconds")

    def pinned(self, udn: str) -> Optional[str]:
        entry = self.pins.get(udn.lower())
        return entry.get("sha256") if entry else None

    def pin(self, udn: str, fp: str, address: str) -> None:
        self.pins[udn.lower()] = {"sha256": fp, "since": self._now(), "address": address}
        if self._pins is not None:
            self._pins.save(self.pins)

    def isQuarantined(self, udn: str) -> bool:
        return udn.lower() in self.quarantined

    def quarantine(self, udn: str, pinned: str, presented: str, address: str, who: str) -> bool:
        """
        Quarantine C{udn}; C{False} when the operator already accepted the
        presented certificate (then it is pinned instead).
        """
        udn = udn.lower()
        if self.accepted.get(udn) == presented:
            self.pin(udn, presented, address)
            self.log.warn("DeviceProtection: {who} presents a new certificate {fp}, accepted by [upnp] "
                          "dps_accept_certificates: pinned", who=who, fp=presented)
            return False
        self.quarantined[udn] = {"pinned": pinned, "presented": presented, "address": address, "since": self._now(),
                                 "device": who}
        if self._quarantine is not None:
            self._quarantine.save(self.quarantined)
        return True

    def release(self, udn: str, fp: str) -> None:
        entry = self.quarantined.pop(udn.lower(), {})
        if self._quarantine is not None:
            self._quarantine.save(self.quarantined)
        self.pin(udn, fp, entry.get("address", ""))
        self.log.warn("DeviceProtection: quarantine of {udn} lifted by [upnp] dps_accept_certificates: its "
                      "certificate {fp} is pinned", udn=udn, fp=fp)


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")


def _serviceName(service: Service) -> str:
    parsed = parseType(service.serviceType)
    return parsed.name if parsed is not None else ""


def _dpService(info: DeviceInfo) -> Optional[tuple[Any, Service]]:
    for device, service in info.description.services():
        parsed = parseType(service.serviceType)
        if parsed is not None and parsed.domain == "schemas-upnp-org" and parsed.name == codec.SERVICE_NAME:
            return device, service
    return None


class Introduction:
    """
    The WPS push-button introduction of the proxier to one device (TR-330
    §4.8.1.2), the proxier being the registrar (L{proxier.upnp.dps.wps.Registrar}).

    States: C{waiting} (the user may press the device's button: an attempt
    every L{BUTTON_POLL} seconds, each a fresh run M1 → M2D → ACK/NACK),
    C{registering} (the button was pressed: M2 … M8 going on), C{done},
    C{timedOut} (no button within C{timeout} seconds), C{failed} (the
    device ended the run or answered wrongly), C{cancelled}.

    @param call: C{(action, arguments) → Deferred} of a DeviceProtection
        action on the device (over TLS).
    @param onDone: called once with the final state.
    """

    log = Logger()

    def __init__(self, call: Callable[[str, dict], Deferred], me: wps.DeviceAttributes, deviceUUID: bytes,
                 clock: Any, timeout: float, onDone: Callable[[str, str], None], *, log: Any = None,
                 poll: float = BUTTON_POLL) -> None:
        self.call = call
        self.me = me
        self.deviceUUID = deviceUUID
        self.clock = clock
        self.timeout = timeout
        self.onDone = onDone
        self.poll = poll
        if log is not None:
            self.log = log
        self.state = "idle"
        self.reason = ""
        self.attempts = 0
        self.started = 0.0  # clock seconds: when the user was first asked to press
        self._deadline = 0.0
        self._timer: Any = None
        self._running: Optional[Deferred] = None

    def start(self) -> None:
        self.state = "waiting"
        self.started = self.clock.seconds()
        self._deadline = self.started + self.timeout
        self._timer = self.clock.callLater(0, self._attempt)

    def cancel(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._running is not None:
            self._running.cancel()
        if self.state in ("waiting", "registering", "idle"):
            self.state = "cancelled"

    def _finish(self, state: str, reason: str = "") -> None:
        self.state = state
        self.reason = reason
        self.onDone(state, reason)

    def _attempt(self) -> None:
        self._timer = None
        if self.state != "waiting":
            return
        self.attempts += 1
        self._running = self._run()
        self._running.addBoth(self._ran)

    @inlineCallbacks
    def _run(self) -> Any:
        from proxier.upnp.dps import wps

        registrar = wps.Registrar(self.me, expectedUUID=self.deviceUUID)
        answer = yield self._send("")
        message: Optional[bytes] = answer
        while message is not None:
            try:
                reply = registrar.receive(message)
            except wps.RegistrationError:
                try:
                    yield self._send(base64.b64encode(registrar.nack()).decode("ascii"))
                except Exception:
                    pass  # the run is over either way
                raise
            if reply is None:
                break
            if registrar.state == "sentM2":
                self.state = "registering"
            message = yield self._send(base64.b64encode(reply).decode("ascii"))
        return registrar.state

    @inlineCallbacks
    def _send(self, inMessage: str) -> Any:
        out = yield self.call("SendSetupMessage", {"ProtocolType": "WPS", "InMessage": inMessage})
        text = out.get("OutMessage", "")
        from proxier.upnp.dps import wps

        try:
            return base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise wps.RegistrationError("OutMessage is not base64") from None

    def _ran(self, result: Any) -> None:
        from proxier.upnp.dps import wps

        self._running = None
        if self.state == "cancelled":
            return
        if isinstance(result, Failure):
            error = result.value
            if result.check(UPnPError) and getattr(error, "code", 0) == 708:
                self._again("the device is busy introducing another control point")
                return
            if result.check(ActionError):
                self._again(f"no answer: {error}")
                return
            if result.check(wps.RegistrationError, UPnPError):
                self._finish("failed", str(error))
                return
            self.log.failure("introduction attempt failed", result)
            self._finish("failed", result.getErrorMessage())
            return
        if result == "done":
            self._finish("done")
        elif result == "notReady":
            self.state = "waiting"
            self._again("")
        else:
            self._finish("failed", f"the run ended in state {result}")

    def _again(self, why: str) -> None:
        if why:
            self.log.debug("introduction attempt {n}: {why}", n=self.attempts, why=why)
        if self.clock.seconds() + self.poll > self._deadline:
            self._finish("timedOut", "the device's button was not pressed in time")
            return
        self.state = "waiting"
        self._timer = self.clock.callLater(self.poll, self._attempt)


class SecurityManager:
    """
    See the module docstring.

    @param controlPoint: gives C{actions}, C{fetcher}, C{policy},
        C{endpoints} (the HTTP client's L{EndpointFactory}, or C{None}:
        no TLS possible), C{clock}, and is told L{granted}/L{withdrawn}
        changes (C{_securityChanged(device)}).
    @param identity: the L{IdentityKeeper<proxier.upnp.dps.cpidentity.IdentityKeeper>}.
    """

    log = Logger()

    def __init__(self, controlPoint: Any, settings: Any, store: Any, identity: Any, *,
                 caCertificates: tuple[Any, ...] = (), commonName: str = "proxier") -> None:
        self.controlPoint = controlPoint
        self.settings = settings
        self.store = store
        self.identity = identity
        self.caCertificates = caCertificates
        self.commonName = commonName
        self.clock = controlPoint.clock
        self.pins = PinStore(store, self.clock, tuple(settings.dpsAcceptCertificates))
        self.tls: Optional[ClientTLS] = None
        self.routes: dict[tuple[str, int], DeviceTrust] = {}
        self.trusts: dict[str, DeviceTrust] = {}
        self.devices: dict[str, Any] = {}
        self.introductions: dict[str, Introduction] = {}
        self.retries: dict[str, Any] = {}
        self._status = store.document(INTRODUCTIONS) if store is not None else None
        self.status: dict[str, dict] = {}
        self._checkTimer: Any = None
        self.buttonPoll = BUTTON_POLL

    # -- life ----------------------------------------------------------------------------

    def start(self) -> None:
        """
        Route https through the TLS client. A configured identity is loaded
        now (a ConfigError stops the start); a generated one when the first
        DeviceProtection device appears (most LANs have none).
        """
        endpoints = self.controlPoint.endpoints
        if endpoints is not None:
            endpoints.tls = self._creatorFor
        if self.settings.dpsCertificate or self.settings.dpsPrivateKey:
            self._loadIdentity()

    def _loadIdentity(self) -> ClientTLS:
        if self.tls is None:
            credentials = self.identity.load()
            self.tls = ClientTLS(credentials, self.caCertificates)
            self.identity.listeners.append(self._renewed)
            self._checkTimer = self.clock.callLater(86400, self._dailyCheck)
        return self.tls

    def stop(self) -> None:
        if self._checkTimer is not None and self._checkTimer.active():
            self._checkTimer.cancel()
        self._checkTimer = None
        for introduction in list(self.introductions.values()):
            introduction.cancel()
        self.introductions.clear()
        for call in list(self.retries.values()):
            if call.active():
                call.cancel()
        self.retries.clear()

    def _dailyCheck(self) -> None:
        self._checkTimer = self.clock.callLater(86400, self._dailyCheck)
        self.identity.check()

    def _renewed(self, credentials: Credentials) -> None:
        """A renewed certificate: a new CPID; every secured device must tell again what it grants."""
        if self.tls is not None:
            self.tls.credentials = credentials
        for device in list(self.devices.values()):
            if device.security.secure:
                self.controlPoint._securityChanged(device, readmit=True)

    @property
    def credentials(self) -> Credentials:
        assert self.tls is not None
        return self.tls.credentials

    # -- TLS routing -------------------------------------------------------------------------

    def _creatorFor(self, host: str, port: int) -> Any:
        trust = self.routes.get((host, port))
        if trust is None or self.tls is None:
            return None
        return self.tls.creator(trust, lambda verdict, trust=trust: self._verdict(trust, verdict))

    def _route(self, trust: DeviceTrust, address: str, port: int) -> None:
        self.routes[(address, port)] = trust

    def _verdict(self, trust: DeviceTrust, verdict: Verdict) -> None:
        """Inside a handshake: pin on first use; a changed certificate quarantines the device."""
        device = self.devices.get(trust.udn)
        who = str(device.log.device) if device is not None else trust.udn
        if verdict.ok and verdict.how == "first-use":
            known = self.pins.pinned(trust.udn)
            if known is not None and known != verdict.fingerprint:  # pinned meanwhile by another connection
                verdict = Verdict("pin-mismatch", f"its certificate {verdict.fingerprint} is not the one pinned "
                                  f"({known})", verdict.fingerprint, verdict.der)
                trust.verdict = verdict
            else:
                self.pins.pin(trust.udn, verdict.fingerprint, trust.address)
                trust.pinned = verdict.fingerprint
                self.log.info("[device {who}] DeviceProtection: certificate {fp} pinned on first use", who=who,
                              fp=verdict.fingerprint)
        if verdict.kind == "pin-mismatch":
            self._quarantine(trust, verdict, who)

    def _quarantine(self, trust: DeviceTrust, verdict: Verdict, who: str) -> None:
        pinned = trust.pinned or self.pins.pinned(trust.udn) or ""
        if not self.pins.quarantine(trust.udn, pinned, verdict.fingerprint, trust.address, who):
            trust.pinned = verdict.fingerprint
            return
        self.log.error("[device {who}] DeviceProtection: QUARANTINED — it presents certificate {presented}, not the "
                       "one pinned ({pinned}); nothing is sent to it and none of its data is proxied. If the device "
                       "was legitimately reset or replaced, add {udn}={presented} to [upnp] dps_accept_certificates",
                       who=who, presented=verdict.fingerprint, pinned=pinned, udn=trust.udn)
        device = self.devices.get(trust.udn)
        if device is not None:
            security = device.security
            security.state, security.reason = QUARANTINED, verdict.reason
            self._stopIntroduction(trust.udn)
            # not from inside the TLS handshake: observers react by cancelling work on this device
            self.clock.callLater(0, self.controlPoint._securityChanged, device)

    # -- the tracker's fetches ------------------------------------------------------------------

    def fetch(self, fetcher: Callable[..., Deferred], location: str, origin: Any, entry: Any) -> Deferred:
        """
        The tracker's description fetch: refused for a quarantined device
        (nothing is sent to it), over TLS from its SECURELOCATION for a
        device already secured (the descriptions after the first).
        """
        udn = entry.udn if entry is not None else ""
        if udn and self.pins.isQuarantined(udn):
            from twisted.internet.defer import fail

            return fail(FetchError(f"{udn} is quarantined (DeviceProtection): not fetched"))
        device = self.devices.get(udn) if udn else None
        secureLocation = getattr(entry, "secureLocation", "") if entry is not None else ""
        trust = self.trusts.get(udn) if udn else None
        if device is not None and device.security.secure and secureLocation and trust is not None:
            parts = urlsplit(secureLocation)
            try:
                host, port = (parts.hostname or "").partition("%")[0], parts.port or 443
            except ValueError:
                host, port = "", 0
            if host == trust.address and port:
                self._route(trust, host, port)  # the device may have moved its TLS port (a reboot)
            return fetcher(secureLocation, origin, ("https",))
        return fetcher(location, origin)

    # -- admission -----------------------------------------------------------------------------

    def forget(self, device: Any) -> None:
        """The device is gone: its routes and introduction go (its pin and quarantine stay)."""
        udn = device.udn
        if self.devices.get(udn) is device:
            del self.devices[udn]
        self._stopIntroduction(udn)
        trust = self.trusts.pop(udn, None)
        for key in [k for k, t in self.routes.items() if t is trust]:
            del self.routes[key]
        device.security.generation += 1

    def admit(self, device: Any) -> Deferred:
        """
        Decide how the proxier deals with C{device}; set C{device.security}
        (and, when secured, C{device.info} to its TLS description).

        @return: a Deferred firing (never failing) with whether observers
            may be told of the device now.
        """
        self.devices[device.udn] = device
        security = device.security
        security.generation += 1
        generation = security.generation
        d = self._admit(device, generation)

        def failed(f: Failure) -> bool:
            if security.generation == generation:
                device.log.failure("DeviceProtection admission failed", f)
                security.state, security.reason = REFUSED, f.getErrorMessage()
            return False

        return d.addErrback(failed)

    @inlineCallbacks
    def _admit(self, device: Any, generation: int) -> Any:
        security = device.security
        secureLocation = device.secureLocation
        protected = _dpService(device.info) is not None
        if not secureLocation and self.pins.pinned(device.udn) is not None:
            return self._refuse(device, "it was a DeviceProtection device (its certificate is pinned) and now "
                                        "announces no SECURELOCATION: a downgrade to plain HTTP is refused")
        if not secureLocation:
            security.state = PLAIN
            security.permissions = DeviceSecurity().permissions
            if protected:
                device.log.warn("offers DeviceProtection but announces no SECURELOCATION.UPNP.ORG: treated as an "
                                "unprotected device (no TLS, its role answers not trusted)")
            return True
        if self.pins.isQuarantined(device.udn):
            entry = self.pins.quarantined[device.udn]
            security.state = QUARANTINED
            security.reason = f"certificate {entry.get('presented')} is not the one pinned ({entry.get('pinned')})"
            device.log.error("DeviceProtection: still quarantined ({reason}); not proxied", reason=security.reason)
            return False
        if self.controlPoint.endpoints is None:
            return self._refuse(device, "no TLS-capable HTTP client: DeviceProtection cannot be used")
        self._loadIdentity()
        security.state = CONNECTING
        try:
            target = yield self.controlPoint.policy.check(secureLocation, device.origin, ("https",))
        except URLRefused as e:
            return self._refuse(device, f"SECURELOCATION refused: {e}")
        plainAddress = (urlsplit(device.location).hostname or "").partition("%")[0]
        if target.address not in (plainAddress, device.host):
            return self._refuse(device, f"its SECURELOCATION points to another host ({target.address}, not "
                                        f"{device.host})")
        trust = self.trusts.get(device.udn)
        if trust is None or trust.address != target.address:
            trust = DeviceTrust(device.udn, target.address, pinned=self.pins.pinned(device.udn),
                                caCertificates=self.caCertificates, now=self.clock.seconds)
            self.trusts[device.udn] = trust
        self._route(trust, target.address, target.port)
        info = device.info
        if not self._secured(info):
            try:
                info = yield self.controlPoint.fetcher.fetch(secureLocation, device.origin, ("https",))
            except (FetchError, URLRefused) as e:
                if security.generation != generation:
                    return False
                return self._tlsFailed(device, trust, str(e))
        if security.generation != generation:
            return False
        if info.description.device.udn.lower() != device.udn:
            return self._refuse(device, f"its TLS description describes {info.description.device.udn}")
        for t in info.targets:
            if t.scheme == "https" and t.address == target.address:
                self._route(trust, t.address, t.port)
        device.info = info
        security.fingerprint = fingerprint(trust.presented) if trust.presented else ""
        security.certificate = trust.presented
        permitted = yield self._roles(device, info, generation)
        if security.generation != generation or permitted is None:
            return False
        security.permissions = permitted
        return self._decide(device)

    def _secured(self, info: DeviceInfo) -> bool:
        found = _dpService(info)
        if found is None:
            return False
        target = info.target(found[1].controlURL)
        return target is not None and target.scheme == "https"

    def _refuse(self, device: Any, reason: str) -> bool:
        security = device.security
        security.state, security.reason = REFUSED, reason
        device.log.error("DeviceProtection: refused — {reason}; nothing is sent to it and it is not proxied",
                         reason=reason)
        return False

    def _tlsFailed(self, device: Any, trust: DeviceTrust, why: str) -> bool:
        verdict = trust.verdict
        if device.security.state == QUARANTINED or (verdict is not None and verdict.kind == "pin-mismatch"):
            device.security.state = QUARANTINED
            return False
        if verdict is not None and not verdict.ok:
            return self._refuse(device, f"its TLS certificate is refused: {verdict.reason}")
        return self._refuse(device, f"TLS to its SECURELOCATION failed: {describeTLSFailure(why)}")

    @inlineCallbacks
    def _call(self, device: Any, info: DeviceInfo, action: str, arguments: Optional[dict] = None,
              timeout: Optional[float] = None) -> Any:
        found = _dpService(info)
        if found is None:
            raise ActionError(f"{action}: no DeviceProtection service")
        owner, service = found
        target = info.target(service.controlURL)
        if target is None:
            raise ActionError(f"{action}: DeviceProtection has no usable control URL")
        result = yield self.controlPoint.actions.callAction(target, device.origin, service.serviceType, action,
                                                            arguments or {}, scpd=info.scpd(owner, service),
                                                            timeout=timeout)
        return result

    @inlineCallbacks
    def _roles(self, device: Any, info: DeviceInfo, generation: int) -> Any:
        """GetAssignedRoles, then GetRolesForAction for the actions the proxier uses."""
        security = device.security
        try:
            answer = yield self._call(device, info, "GetAssignedRoles")
            roles = codec.parseRoleList(answer.get("RoleList", ""))
        except (UPnPError, ActionError, codec.DPSError) as e:
            if security.generation == generation:
                if isinstance(e, ActionError) and self.trusts.get(device.udn) is not None \
                        and (self.trusts[device.udn].verdict or Verdict("ok")).kind == "pin-mismatch":
                    security.state = QUARANTINED
                    return None
                self._refuse(device, f"GetAssignedRoles failed: {e}")
            return None
        permissions = codec.Permissions(roles)
        if permissions.granted:
            permissions = permissions.withOverrides((yield self._askRoles(device, info)))
        device.log.info("DeviceProtection: over TLS (certificate {fp}), roles {roles}", fp=security.fingerprint,
                        roles=codec.formatRoleList(permissions.roles))
        return permissions

    @inlineCallbacks
    def _askRoles(self, device: Any, info: DeviceInfo) -> Any:
        found = _dpService(info)
        scpd = info.scpd(*found) if found is not None else None
        if scpd is not None and scpd.action("GetRolesForAction") is None:
            return {}
        overrides: dict[tuple[str, str], frozenset[str]] = {}
        services = {}
        for owner, service in info.description.services():
            name = _serviceName(service)
            if name and name not in services:
                services[name] = (owner, service)
        for serviceName, action in ROLE_QUESTIONS:
            if serviceName not in services:
                continue
            owner, service = services[serviceName]
            offered = info.scpd(owner, service)
            if offered is not None and offered.action(action) is None:
                continue
            try:
                answer = yield self._call(device, info, "GetRolesForAction",
                                          {"DeviceUDN": owner.udn, "ServiceId": service.serviceId,
                                           "ActionName": action})
                roles = codec.parseRoleList(answer.get("RoleList", "")) | codec.parseRoleList(
                    answer.get("RestrictedRoleList", ""))
            except (UPnPError, codec.DPSError) as e:
                device.log.info("GetRolesForAction({action}) not answered ({e}): the default roles apply",
                                action=action, e=e)
                break
            except ActionError:
                break
            overrides[(serviceName, action)] = roles
        return overrides

    def _decide(self, device: Any) -> bool:
        security = device.security
        if security.permissions.granted:
            security.state, security.reason = GRANTED, ""
            self._stopIntroduction(device.udn, done=True)
            return True
        security.reason = "it grants the proxier nothing beyond Public"
        if self.settings.dpsIntroduction == "pbc":
            self._startIntroduction(device)
        if self.settings.dpsProxyPublic:
            security.state = PUBLIC
            device.log.warn("DeviceProtection: only Public granted; proxied with what Public may do "
                            "([upnp] dps_proxy_public)")
            return True
        security.state = HELD
        device.log.warn("DeviceProtection: only Public granted — not proxied until the device grants the proxier "
                        "access (TR-330 §2.4){how}",
                        how=" (push-button introduction offered)" if self.settings.dpsIntroduction == "pbc" else
                        " (set [upnp] dps_introduction = pbc, or grant it on the device)")
        return False

    @inlineCallbacks
    def refresh(self, device: Any) -> Any:
        """Ask the device again what it grants (after an introduction); C{True} when the decision changed."""
        security = device.security
        before = security.state
        generation = security.generation
        permitted = yield self._roles(device, device.info, generation)
        if permitted is None or security.generation != generation:
            return False
        security.permissions = permitted
        self._decide(device)
        return security.state != before

    # -- introductions -----------------------------------------------------------------------

    def _startIntroduction(self, device: Any) -> None:
        udn = device.udn
        if udn in self.introductions or udn in self.retries:
            return
        from proxier.upnp.dps import wps

        credentials = self.credentials
        me = wps.DeviceAttributes(uuid=codec.cpidBytes(credentials.der), manufacturer="proxier",
                                  modelName="CPE Proxier", modelNumber="1", serialNumber=credentials.cpid[:32],
                                  deviceName=credentials.commonName[:32] or "proxier")
        certificate = device.security.certificate
        deviceUUID = codec.cpidBytes(certificate) if certificate else None
        timeout = float(self.settings.dpsIntroductionTimeout)

        def call(action: str, arguments: dict) -> Deferred:
            return self._call(device, device.info, action, arguments)  # its latest TLS description

        introduction = Introduction(call, me, deviceUUID or bytes(16), self.clock, timeout,
                                    lambda state, reason: self._introduced(device, state, reason), log=device.log,
                                    poll=self.buttonPoll)
        if deviceUUID is None:
            introduction.deviceUUID = None  # type: ignore[assignment]
        self.introductions[udn] = introduction
        name = device.description.device.friendlyName or udn
        self._setStatus(udn, "waiting-for-button", name, device.host, timeout)
        device.log.warn("DeviceProtection: press the WPS / setup button on \"{name}\" ({host}) within {seconds:g} s "
                        "to let the proxier manage it (TR-330 §4.8.1.2); status in {status}", name=name,
                        host=device.host, seconds=timeout,
                        status=self._status.path if self._status is not None else "this log")
        introduction.start()

    def _stopIntroduction(self, udn: str, done: bool = False) -> None:
        introduction = self.introductions.pop(udn, None)
        if introduction is not None:
            introduction.cancel()
        call = self.retries.pop(udn, None)
        if call is not None and call.active():
            call.cancel()
        if done and udn in self.status and self.status[udn].get("state") != "introduced":
            self._clearStatus(udn)

    def _introduced(self, device: Any, state: str, reason: str) -> None:
        udn = device.udn
        if self.introductions.get(udn) is not None and self.introductions[udn].state == state:
            del self.introductions[udn]
        name = device.description.device.friendlyName or udn
        if state == "done":
            self._setStatus(udn, "introduced", name, device.host, 0)
            device.log.warn("DeviceProtection: introduced (push button); asking what the device grants")
            d = self.refresh(device)

            def changed(different: bool) -> None:
                if different:
                    self.controlPoint._securityChanged(device)

            d.addCallback(changed)
            d.addErrback(lambda f: device.log.failure("after the introduction", f))
            return
        label = {"timedOut": "timed-out", "failed": "failed"}.get(state, state)
        self._setStatus(udn, label, name, device.host, 0, reason)
        if state == "cancelled":
            return
        retry = float(self.settings.dpsIntroductionRetry)
        device.log.warn("DeviceProtection: introduction {state} ({reason}); offered again in {retry:g} s or when the "
                        "device is found again", state=label, reason=reason, retry=retry)
        self.retries[udn] = self.clock.callLater(retry, self._retryIntroduction, device)

    def _retryIntroduction(self, device: Any) -> None:
        self.retries.pop(device.udn, None)
        if self.devices.get(device.udn) is device and device.security.state in (HELD, PUBLIC):
            self._startIntroduction(device)

    # -- what a person must know (the console) ----------------------------------------------

    def notices(self, device: Any) -> list[tuple[str, str, str]]:
        """
        What the person at home or the operator must know or do about
        C{device}'s protection, as C{(kind, text, since)}
        (L{IDeviceAttention<proxier.interfaces.IDeviceAttention>}): accept a
        changed certificate, press the device's button, grant a role; the
        role held; nothing for an unprotected device.
        """
        udn = device.udn
        security = device.security
        out: list[tuple[str, str, str]] = []
        if security.state == QUARANTINED:
            entry = self.pins.quarantined.get(udn, {})
            presented = entry.get("presented") or security.fingerprint or "SHA256:..."
            out.append(("action", f"quarantined: its certificate changed — if the device was reset or replaced, "
                                  f"accept {udn}={presented} in [upnp] dps_accept_certificates on the gateway",
                        str(entry.get("since", ""))))
            return out
        if security.state == REFUSED:
            return [("warning", f"DeviceProtection refused it: {security.reason}", "")]
        introduction = self.introductions.get(udn)
        if introduction is not None and introduction.state == "waiting":
            out.append(("action", f"DeviceProtection: press the device's WPS/introduction button (before "
                                  f"{_iso(introduction.started + introduction.timeout)[11:16]} UTC) to let the proxier "
                                  f"manage it", _iso(introduction.started)))
        elif introduction is not None and introduction.state == "registering":
            out.append(("info", "DeviceProtection: button pressed, introduction under way", ""))
        elif udn in self.status and self.status[udn].get("state") in ("timed-out", "failed"):
            entry = self.status[udn]
            out.append(("warning", f"DeviceProtection: introduction {entry['state']} "
                                   f"({entry.get('reason', '')}); it is offered again later",
                        entry.get("since", "")))
        if security.state == HELD and introduction is None:
            out.append(("action", "DeviceProtection: it grants the proxier nothing beyond Public — grant the "
                                  "proxier a role on the device, or set [upnp] dps_introduction = pbc", ""))
        elif security.state == PUBLIC:
            out.append(("warning", "DeviceProtection: only Public granted; proxied with what Public may do", ""))
        elif security.state == GRANTED:
            roles = ", ".join(sorted(r for r in security.roles if r != codec.PUBLIC)) or "none"
            out.append(("info", f"DeviceProtection: role granted: {roles}", ""))
        return out

    def _setStatus(self, udn: str, state: str, name: str, host: str, timeout: float, reason: str = "") -> None:
        now = self.clock.seconds()

        entry = {"state": state, "device": name, "address": host, "since": _iso(now)}
        if timeout:
            entry["pressBefore"] = _iso(now + timeout)
        if reason:
            entry["reason"] = reason[:200]
        self.status[udn] = entry
        if self._status is not None:
            self._status.save(self.status)

    def _clearStatus(self, udn: str) -> None:
        self.status.pop(udn, None)
        if self._status is not None:
            self._status.save(self.status)
