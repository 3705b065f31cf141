# -*- test-case-name: tests.test_dps_codec -*-
"""
DeviceProtection:1 as data: what a control point and a device say to each
other about identities and roles (TR-330 §2.3, §4.8).

Sans-IO; used by the control point's security layer
(L{proxier.upnp.dps.security}) and by the simulated devices
(L{proxier.sim.dps}).

 - L{cpid}: a control point's identity, "a UUID derived from the first 128
   bits of the SHA-256 hash of the CP's X.509 certificate in accordance
   with the procedure given in Section 4.4 and Appendix A of RFC 4122"
   (DeviceProtection:1, as quoted in the reference implementation, Nokia /
   Orange linux-igd2 C{deviceprotection.c}, whose C{createUuidFromData}
   sets the version nibble to 5 and the RFC 4122 variant). A device's WPS
   UUID-E is derived from its own certificate the same way.
 - Role lists (space-separated role names: C{"Admin Basic Public"}), and
   the roles: Public, Basic, Admin (DeviceProtection:1) and
   dm:ThirdPartyAdmin, dm:UserAdmin (UPnP DM:2, TR-330 §4.8).
 - L{DM_ROLE_ACTIONS}: which roles may invoke each UPnP DM action by
   default; L{Permissions} combines it with a device's own answers
   (GetRolesForAction) and the roles the control point holds
   (GetAssignedRoles).
 - The XML documents DeviceProtection passes in string arguments: the ACL
   (GetACLData), an identity (AddRolesForIdentity, RemoveIdentity), an
   identity list (AddIdentityList) and the supported protocols
   (GetSupportedProtocols), all parsed through L{proxier.xmlsafe} and
   capped, in the element layout of the reference implementation
   (C{<ACL><Identities><CP introduced="1"><Name/><Alias/><ID/><RoleList/>
   </CP><User><Name/><RoleList/></User></Identities><Roles><Role><Name/>
   </Role></Roles></ACL>}).
"""

from __future__ import annotations

import hashlib
import re
import uuid as _uuid
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Sequence, Union

from lxml import etree

from proxier import xmlsafe
from proxier.upnp.ssdp import parseType

__all__ = [
    "SERVICE_TYPE",
    "SERVICE_NAME",
    "NAMESPACE",
    "PUBLIC",
    "BASIC",
    "ADMIN",
    "THIRD_PARTY_ADMIN",
    "USER_ADMIN",
    "ADMINS",
    "BASICS",
    "EVERYONE",
    "DP_ERRORS",
    "DP_ACTION_ROLES",
    "DM_ROLE_ACTIONS",
    "DPSError",
    "cpid",
    "cpidBytes",
    "uuidBytes",
    "parseRoleList",
    "formatRoleList",
    "Permissions",
    "CPEntry",
    "UserEntry",
    "ACL",
    "parseACL",
    "formatACL",
    "formatIdentity",
    "parseIdentity",
    "formatIdentityList",
    "parseIdentityList",
    "SupportedProtocols",
    "formatSupportedProtocols",
    "parseSupportedProtocols",
    "MAX_DOCUMENT_BYTES",
]

SERVICE_TYPE = "urn:schemas-upnp-org:service:DeviceProtection:1"
SERVICE_NAME = "DeviceProtection"
NAMESPACE = "urn:schemas-upnp-org:gw:DeviceProtection"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{NAMESPACE} http://www.upnp.org/schemas/gw/DeviceProtection-v1.xsd"

PUBLIC = "Public"
BASIC = "Basic"
ADMIN = "Admin"
THIRD_PARTY_ADMIN = "dm:ThirdPartyAdmin"
USER_ADMIN = "dm:UserAdmin"

#: Roles that administer a DM device (DeviceProtection:1 Admin and the two
#: UPnP DM:2 adds, TR-330 §4.8).
ADMINS = frozenset({ADMIN, THIRD_PARTY_ADMIN, USER_ADMIN})
BASICS = ADMINS | {BASIC}
EVERYONE = BASICS | {PUBLIC}

#: The largest DeviceProtection document accepted (an ACL of a few hundred entries).
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_ENTRIES = 512
MAX_ROLES = 32
_ROLE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$")

# DeviceProtection:1 error codes an implementation answers, as the
# reference implementation (linux-igd2 deviceprotection.c) uses them, with
# the UDA 1.1 codes DeviceProtection relies on.
DP_ERRORS: Mapping[int, str] = {
    402: "Invalid Args",
    501: "Action Failed",
    600: "Argument Value Invalid",
    606: "Action not authorized",
    701: "Authentication Failure",
    704: "Processing Error",
    708: "Busy",
}

# Who may invoke DeviceProtection:1's own actions, as the reference
# implementation (linux-igd2 deviceprotection.c) enforces them: the
# introduction and the questions about oneself are open to everyone; the
# ACL and role questions need the control point to be known (any role
# beyond Public, i.e. listed in the ACL); managing identities and roles
# needs Admin.
DP_ACTION_ROLES: Mapping[str, frozenset[str]] = {
    "SendSetupMessage": EVERYONE,
    "GetSupportedProtocols": EVERYONE,
    "GetAssignedRoles": EVERYONE,
    "GetRolesForAction": BASICS,
    "GetUserLoginChallenge": EVERYONE,
    "UserLogin": EVERYONE,
    "UserLogout": EVERYONE,
    "GetACLData": BASICS,
    "AddIdentityList": ADMINS,
    "RemoveIdentity": ADMINS,
    "SetUserLoginPassword": ADMINS,
    "AddRolesForIdentity": ADMINS,
    "RemoveRolesForIdentity": ADMINS,
}

# The recommended role-action mappings of the UPnP DM services
# (BasicManagement:2, ConfigurationManagement:2 and SoftwareManagement:2,
# each action's security policy in §2.5 of its specification), as TR-330
# §4.8 summarises them: actions that change the device or its
# configuration need Admin (or one of the DM administrator roles,
# dm:ThirdPartyAdmin and dm:UserAdmin), actions that retrieve information
# are open to every control point (Public), diagnostics need Basic. The DM
# specifications themselves are not at hand: where a row's role is a
# judgement, it follows that principle; a device's own GetRolesForAction
# answer always overrides a row. Keyed by (service name, action).
DM_ROLE_ACTIONS: Mapping[tuple[str, str], frozenset[str]] = {
    # BasicManagement:2
    ("BasicManagement", "Reboot"): ADMINS,
    ("BasicManagement", "BaselineReset"): ADMINS,
    ("BasicManagement", "GetDeviceStatus"): EVERYONE,
    ("BasicManagement", "SetSequenceMode"): ADMINS,
    ("BasicManagement", "GetSequenceMode"): EVERYONE,
    ("BasicManagement", "Ping"): BASICS,
    ("BasicManagement", "GetPingResult"): BASICS,
    ("BasicManagement", "NSLookup"): BASICS,
    ("BasicManagement", "GetNSLookupResult"): BASICS,
    ("BasicManagement", "Traceroute"): BASICS,
    ("BasicManagement", "GetTracerouteResult"): BASICS,
    ("BasicManagement", "GetBandwidthTestInfo"): EVERYONE,
    ("BasicManagement", "BandwidthTest"): BASICS,
    ("BasicManagement", "GetBandwidthTestResult"): BASICS,
    ("BasicManagement", "InterfaceReset"): ADMINS,
    ("BasicManagement", "GetInterfaceResetResult"): BASICS,
    ("BasicManagement", "SelfTest"): BASICS,
    ("BasicManagement", "GetSelfTestResult"): BASICS,
    ("BasicManagement", "GetTestIDs"): EVERYONE,
    ("BasicManagement", "GetActiveTestIDs"): EVERYONE,
    ("BasicManagement", "GetTestInfo"): EVERYONE,
    ("BasicManagement", "CancelTest"): BASICS,
    ("BasicManagement", "GetLogURIs"): BASICS,
    ("BasicManagement", "SetLogInfo"): ADMINS,
    ("BasicManagement", "GetLogInfo"): BASICS,
    ("BasicManagement", "GetACLData"): EVERYONE,
    # ConfigurationManagement:2
    ("ConfigurationManagement", "GetSupportedDataModels"): EVERYONE,
    ("ConfigurationManagement", "GetSupportedParameters"): EVERYONE,
    ("ConfigurationManagement", "GetInstances"): EVERYONE,
    ("ConfigurationManagement", "GetValues"): EVERYONE,
    ("ConfigurationManagement", "GetSelectedValues"): EVERYONE,
    ("ConfigurationManagement", "SetValues"): ADMINS,
    ("ConfigurationManagement", "CreateInstance"): ADMINS,
    ("ConfigurationManagement", "DeleteInstance"): ADMINS,
    ("ConfigurationManagement", "GetAttributes"): EVERYONE,
    ("ConfigurationManagement", "SetAttributes"): ADMINS,
    ("ConfigurationManagement", "GetInconsistentStatus"): EVERYONE,
    ("ConfigurationManagement", "GetConfigurationUpdate"): EVERYONE,
    ("ConfigurationManagement", "GetCurrentConfigurationVersion"): EVERYONE,
    ("ConfigurationManagement", "GetSupportedDataModelsUpdate"): EVERYONE,
    ("ConfigurationManagement", "GetSupportedParametersUpdate"): EVERYONE,
    ("ConfigurationManagement", "GetAttributeValuesUpdate"): EVERYONE,
    ("ConfigurationManagement", "GetAlarmsEnabled"): EVERYONE,
    ("ConfigurationManagement", "SetAlarmsEnabled"): ADMINS,
    ("ConfigurationManagement", "GetACLData"): EVERYONE,
    # SoftwareManagement:2
    ("SoftwareManagement", "Install"): ADMINS,
    ("SoftwareManagement", "Update"): ADMINS,
    ("SoftwareManagement", "Uninstall"): ADMINS,
    ("SoftwareManagement", "Start"): ADMINS,
    ("SoftwareManagement", "Stop"): ADMINS,
    ("SoftwareManagement", "GetDUIDs"): EVERYONE,
    ("SoftwareManagement", "GetEUIDs"): EVERYONE,
    ("SoftwareManagement", "GetActiveEUIDs"): EVERYONE,
    ("SoftwareManagement", "GetRunningEUIDs"): EVERYONE,
    ("SoftwareManagement", "GetOperationInfo"): EVERYONE,
    ("SoftwareManagement", "GetOperationIDs"): EVERYONE,
    ("SoftwareManagement", "GetErrorEUIDs"): EVERYONE,
    ("SoftwareManagement", "GetDUInfo"): EVERYONE,
    ("SoftwareManagement", "GetEUInfo"): EVERYONE,
    ("SoftwareManagement", "GetACLData"): EVERYONE,
}


class DPSError(ValueError):
    """A DeviceProtection document or value that cannot be used; C{str()} says why."""


# ---- identities ----------------------------------------------------------------------------


def cpidBytes(certificateDER: bytes) -> bytes:
    """The 16 bytes of the UUID a certificate gives (see L{cpid})."""
    digest = bytearray(hashlib.sha256(certificateDER).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return bytes(digest)


def cpid(certificateDER: bytes) -> str:
    """
    The DeviceProtection identity of the holder of a certificate (DER), as
    the lower-case UUID text (C{"3543d8e6-3b8b-5000-80cb-212886b5b044"}).
    """
    return str(_uuid.UUID(bytes=cpidBytes(certificateDER)))


def uuidBytes(text: str) -> bytes:
    """The 16 bytes of a CPID (or any UUID) given as text."""
    return _uuid.UUID(_checkCPID(text)).bytes


def _checkCPID(text: str) -> str:
    try:
        return str(_uuid.UUID(text.strip()))
    except ValueError:
        raise DPSError(f"{text[:60]!r} is not a UUID") from None


# ---- roles ------------------------------------------------------------------------------------


def parseRoleList(text: str) -> frozenset[str]:
    """
    A RoleList: role names separated by white space (commas tolerated).

    @raise DPSError: a name that is not a role name, or too many.
    """
    names = [w for w in text.replace(",", " ").split() if w]
    if len(names) > MAX_ROLES:
        raise DPSError(f"a role list of {len(names)} roles")
    for name in names:
        if not _ROLE.match(name):
            raise DPSError(f"{name[:60]!r} is not a role name")
    return frozenset(names)


def formatRoleList(roles: Iterable[str]) -> str:
    """Role names in a stable order: Admin, Basic, Public, then the others alphabetically."""
    order = {ADMIN: 0, BASIC: 1, PUBLIC: 2}
    return " ".join(sorted(set(roles), key=lambda r: (order.get(r, 3), r)))


def _serviceName(serviceType: str) -> str:
    parsed = parseType(serviceType)
    return parsed.name if parsed is not None else serviceType


@dataclass(frozen=True)
class Permissions:
    """
    What a control point holding C{roles} may do on one device.

    @ivar roles: the roles GetAssignedRoles gave (Public always implied).
    @ivar overrides: C{(service name, action) → roles} the device itself
        named in GetRolesForAction (its RoleList and RestrictedRoleList
        together: a restricted role may invoke the action on some of its
        arguments, the device decides which).
    @ivar table: the defaults (L{DM_ROLE_ACTIONS}).
    """

    roles: frozenset[str] = frozenset({PUBLIC})
    overrides: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    table: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=lambda: DM_ROLE_ACTIONS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", frozenset(self.roles) | {PUBLIC})

    def rolesFor(self, serviceType: str, action: str) -> Optional[frozenset[str]]:
        """The roles that may invoke C{action}, or C{None} when neither the device nor the table says."""
        key = (_serviceName(serviceType), action)
        if key in self.overrides:
            return self.overrides[key]
        return self.table.get(key)

    def allows(self, serviceType: str, action: str) -> bool:
        """
        Whether the control point may invoke C{action}. An action nobody
        describes is allowed: the device is then the judge (606).
        """
        needed = self.rolesFor(serviceType, action)
        return needed is None or bool(needed & self.roles)

    @property
    def granted(self) -> bool:
        """Whether the device granted more than Public (it knows this control point)."""
        return bool(self.roles - {PUBLIC})

    def withOverrides(self, overrides: Mapping[tuple[str, str], frozenset[str]]) -> "Permissions":
        merged = dict(self.overrides)
        merged.update(overrides)
        return Permissions(self.roles, merged, self.table)


# ---- XML documents ---------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if _local(c) == name]


def _text(element: etree._Element, name: str, maxLength: int = 256) -> str:
    found = _children(element, name)
    if not found:
        return ""
    text = (found[0].text or "").strip()
    if len(text) > maxLength:
        raise DPSError(f"<{name}> longer than {maxLength} characters")
    return text


def _root(document: Union[str, bytes], expected: str) -> etree._Element:
    try:
        root = xmlsafe.parse(document, MAX_DOCUMENT_BYTES)
    except xmlsafe.XMLRejected as e:
        raise DPSError(f"{expected}: {e}") from None
    if _local(root) != expected:
        raise DPSError(f"a <{_local(root)}> document where <{expected}> was expected")
    return root


def _new(name: str) -> etree._Element:
    root = etree.Element(f"{{{NAMESPACE}}}{name}", nsmap={None: NAMESPACE, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", _SCHEMA_LOCATION)
    return root


def _add(parent: etree._Element, name: str, text: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    child.text = text
    return child


def _serialize(root: etree._Element) -> str:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


@dataclass(frozen=True)
class CPEntry:
    """A control point in an ACL or identity list."""

    id: str
    roles: frozenset[str] = frozenset()
    name: str = ""
    alias: str = ""
    introduced: bool = False


@dataclass(frozen=True)
class UserEntry:
    """A user account in an ACL or identity list."""

    name: str
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ACL:
    """A device's Access Control List (GetACLData)."""

    controlPoints: tuple[CPEntry, ...] = ()
    users: tuple[UserEntry, ...] = ()
    roles: tuple[str, ...] = (ADMIN, BASIC, PUBLIC)

    def controlPoint(self, cpidText: str) -> Optional[CPEntry]:
        for entry in self.controlPoints:
            if entry.id == cpidText:
                return entry
        return None


def _identityEntries(container: etree._Element) -> tuple[list[CPEntry], list[UserEntry]]:
    cps: list[CPEntry] = []
    users: list[UserEntry] = []
    for child in container:
        kind = _local(child)
        if len(cps) + len(users) >= MAX_ENTRIES:
            raise DPSError(f"more than {MAX_ENTRIES} identities")
        if kind == "CP":
            identifier = _text(child, "ID", 64)
            if not identifier:
                raise DPSError("a <CP> without <ID>")
            cps.append(CPEntry(_checkCPID(identifier), parseRoleList(_text(child, "RoleList", 2048)),
                               _text(child, "Name"), _text(child, "Alias"),
                               (child.get("introduced") or "").strip() in ("1", "true")))
        elif kind == "User":
            name = _text(child, "Name")
            if not name:
                raise DPSError("a <User> without <Name>")
            users.append(UserEntry(name, parseRoleList(_text(child, "RoleList", 2048))))
    return cps, users


def parseACL(document: Union[str, bytes]) -> ACL:
    """
    The ACL of a GetACLData answer.

    @raise DPSError: not an ACL document, or an unusable entry.
    """
    root = _root(document, "ACL")
    identities = _children(root, "Identities")
    cps, users = _identityEntries(identities[0]) if identities else ([], [])
    roles: list[str] = []
    for container in _children(root, "Roles"):
        for role in _children(container, "Role"):
            name = _text(role, "Name", 64) or (role.text or "").strip()
            if name and _ROLE.match(name) and name not in roles and len(roles) < MAX_ROLES:
                roles.append(name)
    return ACL(tuple(cps), tuple(users), tuple(roles) or ACL.roles)


def _appendEntries(container: etree._Element, cps: Sequence[CPEntry], users: Sequence[UserEntry]) -> None:
    for entry in cps:
        cp = etree.SubElement(container, f"{{{NAMESPACE}}}CP")
        if entry.introduced:
            cp.set("introduced", "1")
        if entry.name:
            _add(cp, "Name", entry.name)
        if entry.alias:
            _add(cp, "Alias", entry.alias)
        _add(cp, "ID", entry.id)
        _add(cp, "RoleList", formatRoleList(entry.roles))
    for user in users:
        element = etree.SubElement(container, f"{{{NAMESPACE}}}User")
        _add(element, "Name", user.name)
        _add(element, "RoleList", formatRoleList(user.roles))


def formatACL(acl: ACL) -> str:
    root = _new("ACL")
    identities = etree.SubElement(root, f"{{{NAMESPACE}}}Identities")
    _appendEntries(identities, acl.controlPoints, acl.users)
    roles = etree.SubElement(root, f"{{{NAMESPACE}}}Roles")
    for name in acl.roles:
        role = etree.SubElement(roles, f"{{{NAMESPACE}}}Role")
        _add(role, "Name", name)
    return _serialize(root)


def formatIdentity(*, cpidText: str = "", userName: str = "") -> str:
    """An Identity argument: one control point (by CPID) or one user (by name)."""
    if bool(cpidText) == bool(userName):
        raise ValueError("an identity is either a control point or a user")
    root = _new("Identity")
    if cpidText:
        _add(etree.SubElement(root, f"{{{NAMESPACE}}}CP"), "ID", _checkCPID(cpidText))
    else:
        _add(etree.SubElement(root, f"{{{NAMESPACE}}}User"), "Name", userName)
    return _serialize(root)


def parseIdentity(document: Union[str, bytes]) -> tuple[str, str]:
    """
    An Identity argument: C{("CP", cpid)} or C{("User", name)}.

    @raise DPSError: not exactly one identity.
    """
    root = _root(document, "Identity")
    entries = [c for c in root if _local(c) in ("CP", "User")]
    if len(entries) != 1:
        raise DPSError(f"an Identity holding {len(entries)} identities")
    entry = entries[0]
    if _local(entry) == "CP":
        identifier = _text(entry, "ID", 64)
        if not identifier:
            raise DPSError("a <CP> without <ID>")
        return "CP", _checkCPID(identifier)
    name = _text(entry, "Name")
    if not name:
        raise DPSError("a <User> without <Name>")
    return "User", name


def formatIdentityList(cps: Sequence[CPEntry] = (), users: Sequence[UserEntry] = ()) -> str:
    root = _new("Identities")
    _appendEntries(root, cps, users)
    return _serialize(root)


def parseIdentityList(document: Union[str, bytes]) -> tuple[list[CPEntry], list[UserEntry]]:
    """An IdentityList argument (AddIdentityList): its control points and users."""
    return _identityEntries(_root(document, "Identities"))


@dataclass(frozen=True)
class SupportedProtocols:
    """GetSupportedProtocols: introduction protocols (C{"WPS"}) and login protocols (C{"PKCS5"})."""

    introduction: tuple[str, ...] = ("WPS",)
    login: tuple[str, ...] = ()


def formatSupportedProtocols(protocols: SupportedProtocols) -> str:
    root = _new("SupportedProtocols")
    for kind, names in (("Introduction", protocols.introduction), ("Login", protocols.login)):
        for name in names:
            _add(etree.SubElement(root, f"{{{NAMESPACE}}}{kind}"), "Name", name)
    return _serialize(root)


def parseSupportedProtocols(document: Union[str, bytes]) -> SupportedProtocols:
    root = _root(document, "SupportedProtocols")
    out: dict[str, list[str]] = {"Introduction": [], "Login": []}
    for kind, names in out.items():
        for element in _children(root, kind):
            name = _text(element, "Name", 64) or (element.text or "").strip()
            if name and len(names) < 16:
                names.append(name)
    return SupportedProtocols(tuple(out["Introduction"]), tuple(out["Login"]))
