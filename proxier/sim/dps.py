# -*- test-case-name: tests.test_dps_sim -*-
"""
DeviceProtection:1 for the simulated devices: the device side of TR-330
§4.8 — served over TLS, knowing control points by their certificates, and
granting roles.

L{protect} turns a L{SimulatedDevice<proxier.sim.device.SimulatedDevice>}
into a DeviceProtection device:

 - a DeviceProtection:1 service (L{DeviceProtection}) beside its DM
   services, and an ACL (L{AccessControl}) with the roles Public, Basic
   and Admin (plus the DM roles dm:ThirdPartyAdmin and dm:UserAdmin);
 - a TLS port serving the same resources, announced as
   SECURELOCATION.UPNP.ORG. It asks every client for a certificate and
   accepts any (DeviceProtection control points present self-signed ones):
   the certificate's CPID is who the client is. Actions over the plain
   HTTP port come from Public;
 - every action of every service is checked through the device's
   authorizer against the role-action tables of L{proxier.upnp.dps.codec}
   (L{AccessControl.roleOverrides} change rows): 606 when the caller's
   roles do not allow it;
 - the carrier case (TR-330 §4.8.1.1): with CA roots pre-installed
   (C{caRoots}), the first action over TLS from a control point whose
   certificate one of them signed adds its CPID to the ACL with Admin;
 - the retail case (TR-330 §4.8.1.2): SendSetupMessage runs the WPS
   push-button introduction (L{proxier.sim.wps}); L{SecureDevice.pressButton}
   is the button; a control point that completes it is added with the
   roles of C{introducedRoles} (TR-330 recommends Admin);
 - the user login flow of DeviceProtection:1 (GetUserLoginChallenge,
   UserLogin, UserLogout, SetUserLoginPassword with ProtocolType PKCS5, as
   the reference implementation linux-igd2 checks it: Authenticator = the
   first 20 bytes of HMAC-SHA-256_STORED(Challenge || DeviceID || CPID)).

Knobs for the bad peers a control point must refuse (L{TLSKnobs},
L{SecureDevice.useCertificate}): an expired certificate, a certificate that
names another device, a new certificate (a changed identity), TLS 1.0/1.1
only, NULL ciphers only, plain HTTP on the port announced as TLS, and a
SECURELOCATION naming another host.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from twisted.internet.interfaces import IOpenSSLContextFactory
from twisted.logger import Logger
from zope.interface import implementer

from proxier.sim.errors import ActionError
from proxier.sim.service import ActionContext, Service
from proxier.sim.servicetypes import Action, Argument, ServiceType, StateVariable
from proxier.sim.wps import Introductions, PushButton
from proxier.upnp.dps import codec, wps

__all__ = [
    "DP1",
    "makeCertificate",
    "AccessControl",
    "DeviceProtection",
    "TLSKnobs",
    "ServerTLS",
    "SecureDevice",
    "protect",
    "verifiedBy",
]


def _v(name: str, dataType: str, evented: bool = False) -> StateVariable:
    return StateVariable(name, dataType, evented=evented)


def _a(name: str, ins: list, outs: list) -> Action:
    return Action(name, tuple(Argument(n, "in", v) for n, v in ins)
                  + tuple(Argument(n, "out", v) for n, v in outs))


# DeviceProtection:1 service template: serviceStateTable and actionList
# (shared/ref/upnp-dm/service-templates/DeviceProtection-1.service-template.xml;
# tests.test_dps_sim walks it row by row). Every action is required.
DP1 = ServiceType(
    codec.SERVICE_TYPE,
    "urn:upnp-org:serviceId:DeviceProtection",
    {v.name: v for v in [
        _v("A_ARG_TYPE_ACL", "string"),
        _v("A_ARG_TYPE_IdentityList", "string"),
        _v("A_ARG_TYPE_Identity", "string"),
        _v("A_ARG_TYPE_String", "string"),
        _v("A_ARG_TYPE_Base64", "bin.base64"),
        _v("SupportedProtocols", "string"),
        _v("SetupReady", "boolean", evented=True),
    ]},
    {a.name: a for a in [
        _a("SendSetupMessage", [("ProtocolType", "A_ARG_TYPE_String"), ("InMessage", "A_ARG_TYPE_Base64")],
           [("OutMessage", "A_ARG_TYPE_Base64")]),
        _a("GetSupportedProtocols", [], [("ProtocolList", "SupportedProtocols")]),
        _a("GetAssignedRoles", [], [("RoleList", "A_ARG_TYPE_String")]),
        _a("GetRolesForAction", [("DeviceUDN", "A_ARG_TYPE_String"), ("ServiceId", "A_ARG_TYPE_String"),
                                 ("ActionName", "A_ARG_TYPE_String")],
           [("RoleList", "A_ARG_TYPE_String"), ("RestrictedRoleList", "A_ARG_TYPE_String")]),
        _a("GetUserLoginChallenge", [("ProtocolType", "A_ARG_TYPE_String"), ("Name", "A_ARG_TYPE_String")],
           [("Salt", "A_ARG_TYPE_Base64"), ("Challenge", "A_ARG_TYPE_Base64")]),
        _a("UserLogin", [("ProtocolType", "A_ARG_TYPE_String"), ("Challenge", "A_ARG_TYPE_Base64"),
                         ("Authenticator", "A_ARG_TYPE_Base64")], []),
        _a("UserLogout", [], []),
        _a("GetACLData", [], [("ACL", "A_ARG_TYPE_ACL")]),
        _a("AddIdentityList", [("IdentityList", "A_ARG_TYPE_IdentityList")],
           [("IdentityListResult", "A_ARG_TYPE_IdentityList")]),
        _a("RemoveIdentity", [("Identity", "A_ARG_TYPE_Identity")], []),
        _a("SetUserLoginPassword", [("ProtocolType", "A_ARG_TYPE_String"), ("Name", "A_ARG_TYPE_String"),
                                    ("Stored", "A_ARG_TYPE_Base64"), ("Salt", "A_ARG_TYPE_Base64")], []),
        _a("AddRolesForIdentity", [("Identity", "A_ARG_TYPE_Identity"), ("RoleList", "A_ARG_TYPE_String")], []),
        _a("RemoveRolesForIdentity", [("Identity", "A_ARG_TYPE_Identity"), ("RoleList", "A_ARG_TYPE_String")], []),
    ]},
)

#: The reference implementation's login parameters: a 128-bit challenge,
#: an authenticator of 20 bytes, at most this many failed logins per session.
CHALLENGE_BYTES = 16
AUTHENTICATOR_BYTES = 20
MAX_LOGIN_ATTEMPTS = 5


# ---- certificates ------------------------------------------------------------------------------


def makeCertificate(commonName: str, *, issuer: Optional[tuple[Any, Any]] = None, key: Any = None,
                    days: float = 3650, start: Optional[datetime.datetime] = None, ca: bool = False,
                    uris: Sequence[str] = (), addresses: Sequence[str] = (), names: Sequence[str] = (),
                    rsa: bool = False) -> tuple[Any, Any]:
    """
    A certificate and its key, for devices, test CAs and test control points.

    @param issuer: C{(certificate, key)} of the signing CA; C{None}: self-signed.
    @param key: the subject's key (default: a new P-256 key, or RSA-2048 with C{rsa}).
    @param start: the start of validity (default: a minute ago); with a
        negative C{days} the certificate is already expired.
    """
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa as _rsa
    from cryptography.x509.oid import NameOID

    if key is None:
        key = _rsa.generate_private_key(public_exponent=65537, key_size=2048) if rsa else ec.generate_private_key(
            ec.SECP256R1())
    start = start or datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    end = start + datetime.timedelta(days=days)
    if end <= start:
        start, end = end - datetime.timedelta(days=1), end
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, commonName[:64])])
    issuerName, issuerKey = (issuer[0].subject, issuer[1]) if issuer is not None else (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuerName)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    alternatives = [x509.UniformResourceIdentifier(u) for u in uris]
    alternatives += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    alternatives += [x509.DNSName(n) for n in names]
    if alternatives:
        builder = builder.add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
    return builder.sign(issuerKey, hashes.SHA256()), key


def verifiedBy(certificate: Any, roots: Sequence[Any], now: Optional[datetime.datetime] = None) -> bool:
    """Whether one of C{roots} signed C{certificate} directly, and it is valid now."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    from proxier.upnp.dps.cpidentity import notAfter, notBefore

    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not notBefore(certificate) <= now <= notAfter(certificate):
        return False
    for root in roots:
        if root.subject != certificate.issuer:
            continue
        public = root.public_key()
        try:
            if isinstance(public, rsa.RSAPublicKey):
                public.verify(certificate.signature, certificate.tbs_certificate_bytes, padding.PKCS1v15(),
                              certificate.signature_hash_algorithm)
            elif isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(certificate.signature, certificate.tbs_certificate_bytes,
                              ec.ECDSA(certificate.signature_hash_algorithm))
            else:
                continue
        except Exception:
            continue
        return True
    return False


def _der(certificate: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return certificate.public_bytes(Encoding.DER)


def _commonName(der: bytes) -> str:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        names = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return ""
    return str(names[0].value)[:64] if names else ""


# ---- the ACL ---------------------------------------------------------------------------------------


@dataclass
class _User:
    roles: frozenset[str]
    salt: bytes = b""
    stored: bytes = b""


class AccessControl:
    """
    Who may do what on one device.

    @ivar acl: CPID → L{codec.CPEntry}.
    @ivar users: user name → roles and login secrets.
    @ivar caRoots: CA certificates pre-installed for the carrier case.
    @ivar carrierRoles: what a carrier-signed control point is granted.
    @ivar introducedRoles: what an introduced control point is granted.
    @ivar roleOverrides: C{(service name, action) → roles} replacing rows of
        the role-action tables (what GetRolesForAction then answers).
    """

    log = Logger()

    def __init__(self, *, caRoots: Sequence[Any] = (), introducedRoles: frozenset[str] = frozenset({codec.ADMIN}),
                 carrierRoles: frozenset[str] = frozenset({codec.ADMIN}), log: Any = None) -> None:
        self.acl: dict[str, codec.CPEntry] = {}
        self.users: dict[str, _User] = {}
        self.caRoots = list(caRoots)
        self.carrierRoles = frozenset(carrierRoles)
        self.introducedRoles = frozenset(introducedRoles)
        self.roleOverrides: dict[tuple[str, str], frozenset[str]] = {}
        self.logins: dict[str, str] = {}
        self.challenges: dict[str, tuple[str, bytes]] = {}
        self.loginFailures: dict[str, int] = {}
        if log is not None:
            self.log = log

    def add(self, cpidText: str, roles: frozenset[str], *, name: str = "", introduced: bool = False) -> codec.CPEntry:
        entry = self.acl.get(cpidText)
        if entry is None:
            entry = codec.CPEntry(cpidText, frozenset(roles), name, "", introduced)
        else:
            entry = codec.CPEntry(cpidText, entry.roles | frozenset(roles), entry.name or name, entry.alias,
                                entry.introduced or introduced)
        self.acl[cpidText] = entry
        return entry

    def _carrier(self, certificate: bytes) -> None:
        """TR-330 §4.8.1.1: a control point signed by a pre-installed CA gets Admin on first contact."""
        if not self.caRoots:
            return
        identity = codec.cpid(certificate)
        if identity in self.acl:
            return
        from cryptography import x509

        try:
            parsed = x509.load_der_x509_certificate(certificate)
        except ValueError:
            return
        if verifiedBy(parsed, self.caRoots):
            self.add(identity, self.carrierRoles, name=_commonName(certificate))
            self.log.info("control point {cpid} ({name}) carries a certificate of a pre-installed CA: added with "
                          "{roles}", cpid=identity, name=_commonName(certificate),
                          roles=codec.formatRoleList(self.carrierRoles))

    def roles(self, context: ActionContext) -> frozenset[str]:
        """The roles of whoever sent an action (Public over the plain port or without a certificate)."""
        if not context.secure or context.certificate is None:
            return frozenset({codec.PUBLIC})
        self._carrier(context.certificate)
        identity = codec.cpid(context.certificate)
        roles = {codec.PUBLIC}
        entry = self.acl.get(identity)
        if entry is not None:
            roles |= entry.roles
        user = self.logins.get(identity)
        if user is not None and user in self.users:
            roles |= self.users[user].roles
        return frozenset(roles)

    def rolesFor(self, serviceId: str, action: str) -> Optional[frozenset[str]]:
        """The roles that may invoke an action (the overrides, else the tables), or C{None} if unknown."""
        service = serviceId.rpartition(":")[2]
        if service.startswith(codec.SERVICE_NAME):
            service = codec.SERVICE_NAME
        key = (service, action)
        if key in self.roleOverrides:
            return self.roleOverrides[key]
        if service == codec.SERVICE_NAME:
            return codec.DP_ACTION_ROLES.get(action)
        return codec.DM_ROLE_ACTIONS.get(key)

    def authorize(self, serviceId: str, action: str, context: ActionContext) -> bool:
        """The device's authorizer (L{proxier.sim.service.Authorizer}): 606 when it says no."""
        needed = self.rolesFor(serviceId, action)
        if needed is None:
            return True
        return bool(needed & self.roles(context))

    def introduced(self, cpidText: str, certificate: bytes) -> None:
        entry = self.add(cpidText, self.introducedRoles, name=_commonName(certificate), introduced=True)
        self.log.info("control point {cpid} introduced: {roles}", cpid=cpidText,
                      roles=codec.formatRoleList(entry.roles))

    def document(self) -> codec.ACL:
        return codec.ACL(tuple(self.acl.values()),
                       tuple(codec.UserEntry(n, u.roles) for n, u in self.users.items()))


# ---- the service ----------------------------------------------------------------------------------


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ActionError(600, detail=f"{what} is not base64") from None


class DeviceProtection(Service):
    """
    The DeviceProtection:1 service of one device.

    @param udns: the device's UDNs (GetRolesForAction checks DeviceUDN).
    @param certificate: the device's own certificate (DER): its DeviceID
        (login authenticators) and its WPS UUID-E derive from it.
    """

    serviceType = DP1
    shortName = "dps"
    errorTable = codec.DP_ERRORS

    def __init__(self, access: AccessControl, introductions: Introductions, udns: Sequence[str],
                 certificate: bytes, clock: Any, *, loginProtocols: Sequence[str] = ("PKCS5",)) -> None:
        super().__init__()
        self.access = access
        self.introductions = introductions
        self.udns = [u.lower() for u in udns]
        self.certificate = certificate
        self.clock = clock
        self.loginProtocols = tuple(loginProtocols)
        self._context = ActionContext()

    def invoke(self, name: str, arguments: Mapping[str, str], context: ActionContext = ActionContext()) -> Any:
        self._context = context
        try:
            return super().invoke(name, arguments, context)
        finally:
            self._context = ActionContext()

    def _cpid(self) -> Optional[str]:
        certificate = self._context.certificate if self._context.secure else None
        return codec.cpid(certificate) if certificate is not None else None

    def value_SetupReady(self) -> bool:
        return self.introductions.state == "idle"

    # -- introduction ---------------------------------------------------------------------

    def action_SendSetupMessage(self, ProtocolType: str, InMessage: str) -> dict:
        before = self.introductions.state
        certificate = self._context.certificate if self._context.secure else None
        try:
            out = self.introductions.message(certificate, ProtocolType, InMessage)
        finally:
            if self.introductions.state != before:
                self.changed("SetupReady")
        return {"OutMessage": out}

    def action_GetSupportedProtocols(self) -> dict:
        return {"ProtocolList": codec.formatSupportedProtocols(codec.SupportedProtocols(("WPS",), self.loginProtocols))}

    # -- roles ---------------------------------------------------------------------------------

    def action_GetAssignedRoles(self) -> dict:
        return {"RoleList": codec.formatRoleList(self.access.roles(self._context))}

    def action_GetRolesForAction(self, DeviceUDN: str, ServiceId: str, ActionName: str) -> dict:
        if DeviceUDN.strip().lower() not in self.udns:
            raise ActionError(600, detail=f"no device {DeviceUDN[:60]!r} here")
        roles = self.access.rolesFor(ServiceId.strip(), ActionName.strip())
        if roles is None:
            raise ActionError(600, detail=f"no action {ActionName[:60]!r} of {ServiceId[:80]!r}")
        return {"RoleList": codec.formatRoleList(roles), "RestrictedRoleList": ""}

    # -- the ACL -----------------------------------------------------------------------------------

    def action_GetACLData(self) -> dict:
        return {"ACL": codec.formatACL(self.access.document())}

    def _identity(self, text: str) -> tuple[str, str]:
        try:
            kind, value = codec.parseIdentity(text)
        except codec.DPSError as e:
            raise ActionError(600, detail=str(e)) from None
        known = self.access.acl if kind == "CP" else self.access.users
        if value not in known:
            raise ActionError(600, detail=f"unknown identity {value[:60]!r}")
        return kind, value

    def _roles(self, text: str) -> frozenset[str]:
        try:
            roles = codec.parseRoleList(text)
        except codec.DPSError as e:
            raise ActionError(600, detail=str(e)) from None
        unknown = roles - codec.EVERYONE
        if unknown or not roles:
            raise ActionError(600, detail=f"unknown roles {sorted(unknown)}" if unknown else "no role")
        return roles

    def action_AddIdentityList(self, IdentityList: str) -> dict:
        try:
            cps, users = codec.parseIdentityList(IdentityList)
        except codec.DPSError as e:
            raise ActionError(600, detail=str(e)) from None
        for cp in cps:
            self.access.add(cp.id, cp.roles & codec.EVERYONE, name=cp.name)
        for user in users:
            self.access.users.setdefault(user.name, _User(user.roles & codec.EVERYONE))
        document = self.access.document()
        return {"IdentityListResult": codec.formatIdentityList(document.controlPoints, document.users)}

    def action_RemoveIdentity(self, Identity: str) -> dict:
        kind, value = self._identity(Identity)
        if kind == "CP":
            del self.access.acl[value]
            self.access.logins.pop(value, None)
        else:
            del self.access.users[value]
            for cp in [c for c, u in self.access.logins.items() if u == value]:
                del self.access.logins[cp]
        return {}

    def action_AddRolesForIdentity(self, Identity: str, RoleList: str) -> dict:
        kind, value = self._identity(Identity)
        roles = self._roles(RoleList)
        if kind == "CP":
            self.access.add(value, roles)
        else:
            self.access.users[value].roles |= roles
        return {}

    def action_RemoveRolesForIdentity(self, Identity: str, RoleList: str) -> dict:
        kind, value = self._identity(Identity)
        roles = self._roles(RoleList)
        if kind == "CP":
            entry = self.access.acl[value]
            self.access.acl[value] = codec.CPEntry(entry.id, entry.roles - roles, entry.name, entry.alias,
                                                 entry.introduced)
        else:
            self.access.users[value].roles -= roles
        return {}

    # -- the user login flow ------------------------------------------------------------------------

    def _loginProtocol(self, protocolType: str) -> None:
        if protocolType not in self.loginProtocols:
            raise ActionError(600, detail=f"login protocol {protocolType[:40]!r} is not supported")

    def _knownCP(self) -> str:
        identity = self._cpid()
        if identity is None or identity not in self.access.acl:
            raise ActionError(606, detail="only a control point in the ACL may log in")
        return identity

    def action_SetUserLoginPassword(self, ProtocolType: str, Name: str, Stored: str, Salt: str) -> dict:
        self._loginProtocol(ProtocolType)
        name = Name.strip()
        if not name or len(name) > 64:
            raise ActionError(600, detail="a user name of 1 to 64 characters is needed")
        stored, salt = _b64(Stored, "Stored"), _b64(Salt, "Salt")
        if len(stored) < 16 or len(salt) < 16:
            raise ActionError(600, detail="Stored and Salt of at least 16 bytes are needed")
        user = self.access.users.get(name)
        if user is None:
            self.access.users[name] = _User(frozenset({codec.PUBLIC}), salt, stored)
        else:
            user.salt, user.stored = salt, stored
        return {}

    def action_GetUserLoginChallenge(self, ProtocolType: str, Name: str) -> dict:
        self._loginProtocol(ProtocolType)
        identity = self._knownCP()
        user = self.access.users.get(Name.strip())
        if user is None or not user.stored:
            raise ActionError(600, detail=f"unknown user {Name[:60]!r}")
        challenge = os.urandom(CHALLENGE_BYTES)
        self.access.challenges[identity] = (Name.strip(), challenge)
        return {"Salt": base64.b64encode(user.salt).decode("ascii"),
                "Challenge": base64.b64encode(challenge).decode("ascii")}

    def action_UserLogin(self, ProtocolType: str, Challenge: str, Authenticator: str) -> dict:
        self._loginProtocol(ProtocolType)
        identity = self._knownCP()
        pending = self.access.challenges.get(identity)
        if pending is None:
            raise ActionError(600, detail="no challenge was asked for")
        name, challenge = pending
        if not hmac.compare_digest(_b64(Challenge, "Challenge"), challenge):
            raise ActionError(600, detail="not the challenge this session was given")
        failures = self.access.loginFailures.get(identity, 0)
        if failures >= MAX_LOGIN_ATTEMPTS:
            raise ActionError(606, detail="too many failed logins")
        user = self.access.users[name]
        expected = hmac.new(user.stored, challenge + codec.cpidBytes(self.certificate) + codec.uuidBytes(identity),
                            hashlib.sha256).digest()[:AUTHENTICATOR_BYTES]
        if not hmac.compare_digest(_b64(Authenticator, "Authenticator"), expected):
            self.access.loginFailures[identity] = failures + 1
            raise ActionError(701, "Authentication Failure", detail=f"wrong authenticator for {name!r}")
        del self.access.challenges[identity]
        self.access.loginFailures.pop(identity, None)
        self.access.logins[identity] = name
        return {}

    def action_UserLogout(self) -> dict:
        identity = self._cpid()
        if identity is not None:
            self.access.logins.pop(identity, None)
        return {}


# ---- the TLS port -----------------------------------------------------------------------------------


@dataclass
class TLSKnobs:
    """
    How the device's TLS port misbehaves (all off by default).

    @ivar maxVersion: the newest TLS version offered (C{OpenSSL.SSL.TLS1_1_VERSION}: a downgrade).
    @ivar ciphers: the only cipher suites offered (C{"NULL-SHA256:@SECLEVEL=0"}: NULL ciphers).
    @ivar plainOnTLSPort: answer plain HTTP on the port announced as TLS.
    @ivar secureHost: announce SECURELOCATION with this host instead of the device's.
    """

    maxVersion: Optional[int] = None
    ciphers: Optional[str] = None
    plainOnTLSPort: bool = False
    secureHost: Optional[str] = None


@implementer(IOpenSSLContextFactory)
class ServerTLS:
    """The device's TLS server context factory (C{getContext()}, as C{listenSSL} asks)."""

    def __init__(self, certificate: Any, key: Any, knobs: TLSKnobs) -> None:
        self.certificate = certificate
        self.key = key
        self.knobs = knobs

    def getContext(self) -> Any:
        from OpenSSL import SSL

        from proxier.upnp.dps.tls import _useCertificate, _usePrivateKey

        context = SSL.Context(SSL.TLS_METHOD)
        if self.knobs.maxVersion is not None:
            context.set_min_proto_version(SSL.TLS1_VERSION)
            context.set_max_proto_version(self.knobs.maxVersion)
            context.set_cipher_list(b"DEFAULT:@SECLEVEL=0")
        else:
            context.set_min_proto_version(SSL.TLS1_2_VERSION)
        if self.knobs.ciphers is not None:
            context.set_max_proto_version(SSL.TLS1_2_VERSION)  # TLS 1.3 suites cannot be NULL
            context.set_cipher_list(self.knobs.ciphers.encode("ascii"))
        context.set_options(SSL.OP_NO_RENEGOTIATION)
        _useCertificate(context, self.certificate)
        _usePrivateKey(context, self.key)
        # ask for the control point's certificate, accept any: its CPID is who it is
        context.set_verify(SSL.VERIFY_PEER, lambda connection, x509, errno, depth, ok: True)
        return context


class SecureDevice:
    """
    A simulated device made a DeviceProtection device by L{protect}.

    @ivar device: the L{SimulatedDevice<proxier.sim.device.SimulatedDevice>}.
    @ivar access: its L{AccessControl}.
    @ivar service: its L{DeviceProtection} service.
    @ivar button: its L{PushButton}.
    @ivar port: the listening TLS (or, with C{plainOnTLSPort}, plain) port.
    """

    log = Logger()

    def __init__(self, device: Any, reactor: Any, *, host: str, certificate: Optional[tuple[Any, Any]] = None,
                 knobs: Optional[TLSKnobs] = None, caRoots: Sequence[Any] = (),
                 introducedRoles: frozenset[str] = frozenset({codec.ADMIN}), tlsPort: int = 0) -> None:
        self.device = device
        self.reactor = reactor
        self.host = host
        self.knobs = knobs or TLSKnobs()
        self.certificate, self.key = certificate or makeCertificate(device.udn, uris=(device.udn,))
        self.access = AccessControl(caRoots=caRoots, introducedRoles=introducedRoles, log=device.log)
        self.button = PushButton(device.clock)
        identity = device.identity
        mac = bytes(int(x, 16) for x in identity.macAddress.split(":")) if identity.macAddress else bytes(6)
        attributes = wps.DeviceAttributes(
            uuid=codec.cpidBytes(_der(self.certificate)), macAddress=mac, manufacturer=identity.manufacturer,
            modelName=identity.modelName, modelNumber=identity.modelNumber, serialNumber=identity.serialNumber,
            deviceName=identity.friendlyName)
        self.introductions = Introductions(attributes, self.button, device.clock, self.access.introduced,
                                           log=device.log)
        self.service = DeviceProtection(self.access, self.introductions, [device.udn], _der(self.certificate),
                                        device.clock)
        device.addService(self.service)
        device.setAuthorizer(self.access.authorize)
        self.tls = ServerTLS(self.certificate, self.key, self.knobs)
        self.tlsPort = tlsPort
        self.port: Any = None

    def listen(self) -> None:
        """Serve the device on its TLS port and announce it as SECURELOCATION.UPNP.ORG."""
        from proxier.sim.web import DeviceResource, makeSite

        site = makeSite(DeviceResource(self.device))
        if self.knobs.plainOnTLSPort:
            self.port = self.reactor.listenTCP(self.tlsPort, site, interface=self.host)
        else:
            self.port = self.reactor.listenSSL(self.tlsPort, site, self.tls, interface=self.host)
        host = self.knobs.secureHost or self.host
        if ":" in host:
            host = f"[{host}]"
        self.device.secureLocation = f"https://{host}:{self.port.getHost().port}{self.device.pathPrefix}description.xml"

    def stop(self) -> Any:
        from twisted.internet.defer import maybeDeferred, succeed

        port, self.port = self.port, None
        return maybeDeferred(port.stopListening) if port is not None else succeed(None)

    @property
    def fingerprint(self) -> str:
        from proxier.upnp.dps.cpidentity import fingerprint

        return fingerprint(_der(self.certificate))

    def useCertificate(self, certificate: Any, key: Any) -> None:
        """Present another certificate from the next connection on (a changed identity, an expired one...)."""
        self.certificate, self.key = certificate, key
        self.tls.certificate, self.tls.key = certificate, key

    def pressButton(self) -> None:
        """The user pushes the device's WPS button."""
        self.log.info("WPS button pressed on {device}", device=self.device.identity.serialNumber)
        self.button.press()

    def grant(self, certificateDER: bytes, roles: frozenset[str]) -> None:
        """The device's own user grants a control point roles (its local UI)."""
        self.access.add(codec.cpid(certificateDER), roles, name=_commonName(certificateDER))


def protect(device: Any, reactor: Any, *, host: str = "127.0.0.1", listen: bool = True, **options: Any) -> SecureDevice:
    """
    Make C{device} a DeviceProtection device (before power-on: its
    description and CONFIGID change) and, with C{listen}, serve its TLS port.
    """
    secure = SecureDevice(device, reactor, host=host, **options)
    if listen:
        secure.listen()
    return secure
