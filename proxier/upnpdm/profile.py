# -*- test-case-name: tests.test_upnpdm_profile -*-
"""
Deciding to proxy a UPnP device, and what its Virtual CWMP Device is made of
(TR-330 §4.1.1, §4.3, §4.3.1; TR-069 Annex J.1).

 1. L{candidates}: the logical devices (root or embedded) of a described
    UPnP device that carry a DM service and a ConfigurationManagement
    service — only CMS gives the UPnP DM Common Objects, and without them
    no OUI or serial number. Version 1 services are taken as well as
    version 2: CMS:1 has every action and XML document the proxy module
    uses, with the same arguments (CMS:2 adds alarms and ACLs, which it
    does not use). A logical device lacking BMS or SMS of its own uses its
    ancestors' (one physical device).
 2. L{Capabilities}: what the SCPDs offer. Reading the model needs the five
    CMS read actions; SetValues makes parameters writable, Create- and
    DeleteInstance make tables writable, SetAttributes lets Notification
    be set (§4.3.1: without them those are read-only); BMS Reboot and
    BaselineReset back the CWMP Reboot and FactoryReset (Annex J asks for
    a reboot mechanism — see L{proxier.upnpdm.settings} require_reboot).
 3. L{probe}: CMS GetSupportedDataModels gives where each data model is
    mounted; GetValues of the Common Objects' C{DeviceInfo} gives the
    identity (ManufacturerOUI, ProductClass, SerialNumber) and versions;
    GetSupportedParameters of the Broadband Forum model's top tells which
    C{Device.DeviceInfo.} parameters it lacks, to be taken from the Common
    Objects instead (L{COMMON_OBJECTS_FALLBACKS}) or held by the proxier
    (L{DeviceProfile.constants}: Manufacturer from the description,
    RootDataModelVersion, the SupportedDataModel table).

A device without an OUI or a serial number is refused with
L{ProbeRefused}, whose text names what is missing; the caller logs it with
the device's UDN and address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from twisted.internet.defer import Deferred, inlineCallbacks

from proxier.asciinum import isUnsigned
from proxier.datamodel.standard import isUUID, supportedDataModelUUID
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.sharing import InternTable, internFrozenset, internText
from proxier.upnp.description import Device, DeviceDescription, Service, requiredActions
from proxier.upnp.ssdp import parseType
from proxier.upnp.soap import UPnPError
from proxier.upnpdm import cmsxml
from proxier.upnpdm.cmspaths import CWMP_ROOT
from proxier.upnpdm.cmsxml import DataModelEntry

__all__ = [
    "DM_NAMES",
    "CMS_READ_ACTIONS",
    "COMMON_OBJECTS_URI",
    "COMMON_OBJECTS_FALLBACKS",
    "IDENTITY_PATHS",
    "Candidate",
    "DMServices",
    "Capabilities",
    "DeviceProfile",
    "ProbeRefused",
    "serviceName",
    "candidates",
    "capabilities",
    "commonObjectsLocation",
    "bbfRoot",
    "rootDataModelVersion",
    "identityFrom",
    "makeProfile",
    "probe",
]

#: The UPnP DM services (TR-330 §3.1: "at least one of BMS, CMS or SMS").
DM_NAMES = ("BasicManagement", "ConfigurationManagement", "SoftwareManagement")
# each name as this module spells it: a candidate's services are keyed by these, not by each device's copy (issue 19)
_DM_NAME = {name: name for name in DM_NAMES}

#: The CMS actions without which the model cannot be read (all required by
#: the CMS:1 and CMS:2 templates).
CMS_READ_ACTIONS = frozenset({"GetSupportedDataModels", "GetSupportedParameters", "GetInstances", "GetValues",
                              "GetAttributes"})

#: The URI of the UPnP DM Common Objects in GetSupportedDataModels (CMS:2
#: §2.3; INTEROP.md "UPnP DM data models"): any version.
COMMON_OBJECTS_URI = re.compile(r"^urn:schemas-upnp-org:dm:ConfigurationManagement:[0-9]+\Z", re.ASCII)
#: The URIs of Broadband Forum data models (TR-181 and its component models).
BBF_URI = re.compile(r"^urn:broadband-forum-org:")
_TR181 = re.compile(r"^urn:broadband-forum-org:tr-181-([0-9]{1,4})-([0-9]{1,4})-[0-9]+", re.ASCII)

# The identity a Virtual CWMP Device needs (TR-069 Annex J.1: a unique OUI
# and serial number), relative to the Common Objects' location (the one
# open implementation found, iopsys bbf upnp_deviceinfo.c, and the
# project's simulator: /UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/...).
IDENTITY_PATHS: Mapping[str, str] = {
    "oui": "DeviceInfo/PhysicalDevice/DeviceID/ManufacturerOUI",
    "productClass": "DeviceInfo/PhysicalDevice/DeviceID/ProductClass",
    "serialNumber": "DeviceInfo/PhysicalDevice/DeviceID/SerialNumber",
    "softwareVersion": "DeviceInfo/SoftwareVersion",
    "hardwareVersion": "DeviceInfo/PhysicalDevice/HardwareVersion",
    "manufacturer": "DeviceInfo/Manufacturer",
}

# Device.DeviceInfo parameters of TR-181 an ACS expects of every CPE (the
# DeviceIdStruct and the forced-inform versions), and where the UPnP DM
# Common Objects hold the same fact, relative to their location. Used only
# when the device's Broadband Forum model lacks the CWMP parameter; the
# parameter then behaves as the Common Objects one does (type, access,
# EventOnChange), through the same CMS actions.
COMMON_OBJECTS_FALLBACKS: tuple[tuple[str, str], ...] = (
    ("Device.DeviceInfo.Manufacturer", "DeviceInfo/Manufacturer"),
    ("Device.DeviceInfo.ManufacturerOUI", "DeviceInfo/PhysicalDevice/DeviceID/ManufacturerOUI"),
    ("Device.DeviceInfo.ProductClass", "DeviceInfo/PhysicalDevice/DeviceID/ProductClass"),
    ("Device.DeviceInfo.SerialNumber", "DeviceInfo/PhysicalDevice/DeviceID/SerialNumber"),
    ("Device.DeviceInfo.HardwareVersion", "DeviceInfo/PhysicalDevice/HardwareVersion"),
    ("Device.DeviceInfo.SoftwareVersion", "DeviceInfo/SoftwareVersion"),
    ("Device.DeviceInfo.ProvisioningCode", "DeviceInfo/ProvisioningCode"),
    ("Device.DeviceInfo.UpTime", "DeviceInfo/UpTime"),
)

_OUI = re.compile(r"^[0-9A-F]{6}$")
SUPPORTED_DATA_MODEL = "Device.DeviceInfo.SupportedDataModel."


class ProbeRefused(Exception):
    """The device cannot be a Virtual CWMP Device; C{str()} says why."""


def serviceName(service: Service) -> Optional[str]:
    """C{"ConfigurationManagement"} etc. for a UPnP DM service (any version), else C{None}."""
    parsed = parseType(service.serviceType)
    if parsed is None or parsed.domain != "schemas-upnp-org" or parsed.kind != "service":
        return None
    return _DM_NAME.get(parsed.name) if parsed.version >= 1 else None


class DMServices(Mapping):
    """
    A candidate's DM services by name (L{DM_NAMES}), in a tuple rather than
    a dict: every device keeps one (issue 19: a third of a dict's size).
    """

    __slots__ = ("_services",)

    def __init__(self, services: Mapping[str, Service]) -> None:
        self._services = tuple(services.get(name) for name in DM_NAMES)

    def __getitem__(self, name: str) -> Service:
        service = self._services[DM_NAMES.index(name)] if name in DM_NAMES else None
        if service is None:
            raise KeyError(name)
        return service

    def __iter__(self) -> Iterator[str]:
        return (name for name, service in zip(DM_NAMES, self._services) if service is not None)

    def __len__(self) -> int:
        return sum(service is not None for service in self._services)

    def __repr__(self) -> str:
        return f"DMServices({dict(self)!r})"


@dataclass(frozen=True, slots=True)  # slots: one per device, issue 19
class Candidate:
    """
    One logical device that may become a Virtual CWMP Device.

    @ivar udn: its UDN, lower case (the root's or an embedded device's).
    @ivar services: C{"ConfigurationManagement"} (always), and
        C{"BasicManagement"} / C{"SoftwareManagement"} when it or an
        ancestor has them → the service.
    """

    udn: str
    device: Device
    services: Mapping[str, Service]

    @property
    def cms(self) -> Service:
        return self.services["ConfigurationManagement"]

    @property
    def bms(self) -> Optional[Service]:
        return self.services.get("BasicManagement")

    @property
    def sms(self) -> Optional[Service]:
        return self.services.get("SoftwareManagement")


def candidates(description: DeviceDescription) -> tuple[list[Candidate], list[str]]:
    """
    The logical devices of C{description} that carry a ConfigurationManagement
    service, and a note for each logical device with DM services that cannot
    be proxied.
    """
    own: dict[str, dict[str, Service]] = {}
    parents: dict[str, Optional[Device]] = {}
    order: list[Device] = []

    def walk(device: Device, parent: Optional[Device]) -> None:
        parents[device.udn] = parent
        order.append(device)
        services: dict[str, Service] = {}
        for service in device.services:
            name = serviceName(service)
            if name is not None and name not in services:
                services[name] = service
        own[device.udn] = services
        for child in device.devices:
            walk(child, device)

    walk(description.device, None)
    found: list[Candidate] = []
    notes: list[str] = []
    used: set[str] = set()
    for device in order:
        services = dict(own[device.udn])
        if "ConfigurationManagement" not in services:
            continue
        used.add(device.udn)
        for name in ("BasicManagement", "SoftwareManagement"):
            if name in services:
                continue
            ancestor = parents[device.udn]
            while ancestor is not None and name not in own[ancestor.udn]:
                ancestor = parents[ancestor.udn]
            if ancestor is not None:
                services[name] = own[ancestor.udn][name]
                used.add(ancestor.udn)
        # the lowered UDN is the control point's and the fetcher's string too (interned there): one copy (issue 19)
        found.append(Candidate(internText(device.udn.lower()), device, DMServices(services)))
    for device in order:
        if own[device.udn] and device.udn not in used:
            names = ", ".join(sorted(own[device.udn]))
            notes.append(f"{device.udn} has {names} but no ConfigurationManagement: without the UPnP DM Common "
                         "Objects it has no OUI or serial number; not proxied")
    return found, notes


@dataclass(frozen=True)
class Capabilities:
    """What the device's SCPDs let the proxier do (TR-330 §4.3.1)."""

    cms: frozenset[str]
    bms: frozenset[str] = frozenset()
    sms: frozenset[str] = frozenset()

    @property
    def missingReadActions(self) -> frozenset[str]:
        return CMS_READ_ACTIONS - self.cms

    @property
    def canSetValues(self) -> bool:
        return "SetValues" in self.cms

    @property
    def canCreateInstance(self) -> bool:
        return "CreateInstance" in self.cms

    @property
    def canDeleteInstance(self) -> bool:
        return "DeleteInstance" in self.cms

    @property
    def canSetAttributes(self) -> bool:
        return "SetAttributes" in self.cms

    @property
    def canReboot(self) -> bool:
        return "Reboot" in self.bms

    @property
    def canBaselineReset(self) -> bool:
        return "BaselineReset" in self.bms


def _actions(scpd: Any, service: Optional[Service]) -> frozenset[str]:
    if service is None:
        return frozenset()
    if scpd is not None:
        return frozenset(scpd.actionNames)
    # no SCPD (it could not be fetched): only what the template requires
    return requiredActions(service.serviceType) or frozenset()


_capabilities: InternTable[Capabilities] = InternTable()
_profileParts: InternTable[Any] = InternTable()


class _SharedMapping(dict):
    """A profile's C{mapped} or C{constants}: one object for the profiles that hold equal ones (nothing writes to it)."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


def capabilities(candidate: Candidate, scpdOf: Callable[[Service], Any]) -> Capabilities:
    """
    The capabilities from each service's SCPD (C{scpdOf(service)}, or
    C{None} when unknown): one object for every device whose SCPDs offer the
    same actions.
    """
    return _capabilities(Capabilities(
        cms=internFrozenset(_actions(scpdOf(candidate.cms), candidate.cms)),
        bms=internFrozenset(_actions(scpdOf(candidate.bms) if candidate.bms else None, candidate.bms)),
        sms=internFrozenset(_actions(scpdOf(candidate.sms) if candidate.sms else None, candidate.sms)),
    ))


def commonObjectsLocation(models: Sequence[DataModelEntry]) -> Optional[str]:
    """Where the UPnP DM Common Objects are mounted, from GetSupportedDataModels."""
    for model in models:
        if COMMON_OBJECTS_URI.match(model.uri) and model.location.startswith("/"):
            return _asObject(model.location)
    for model in models:  # a device that names them otherwise, at their usual place
        if _asObject(model.location) == "/UPnP/DM/":
            return "/UPnP/DM/"
    return None


def _asObject(location: str) -> str:
    location = location.strip()
    return location if location.endswith("/") else location + "/"


def bbfRoot(models: Sequence[DataModelEntry]) -> Optional[str]:
    """
    The CMS location of the Virtual CWMP Device's C{Device.}: the shallowest
    location of the device's Broadband Forum models (C{/BBF/}: CMS:2
    Appendix C maps C{Device.X} to C{/BBF/X}); component models (TR-104,
    TR-135...) lie below it.
    """
    locations = [_asObject(m.location) for m in models if BBF_URI.match(m.uri) and m.location.startswith("/")]
    if not locations:
        return None
    return min(locations, key=lambda l: (l.count("/"), l))


def rootDataModelVersion(models: Sequence[DataModelEntry], default: str) -> str:
    """C{Device.RootDataModelVersion} from the TR-181 URI (C{urn:broadband-forum-org:tr-181-2-17-0} → C{2.17})."""
    versions = []
    for model in models:
        match = _TR181.match(model.uri)
        if match:
            versions.append((int(match.group(1)), int(match.group(2))))
    if not versions:
        return default
    major, minor = max(versions)
    return f"{major}.{minor}"


def _clean(text: str, limit: int = 64) -> str:
    cleaned = "".join(c for c in text if c.isprintable()).strip()
    return cleaned[:limit]


def identityFrom(values: Mapping[str, str], manufacturer: str = "") -> DeviceIdentity:
    """
    The DeviceIdentity from the Common Objects values (relative path →
    value; see L{IDENTITY_PATHS}).

    @param manufacturer: the description's C{<manufacturer>}, used when the
        Common Objects have none.
    @raise ProbeRefused: no usable OUI or no serial number.
    """
    oui = _clean(values.get(IDENTITY_PATHS["oui"], "")).upper().replace("-", "").replace(":", "")
    serial = _clean(values.get(IDENTITY_PATHS["serialNumber"], ""))
    if not oui:
        raise ProbeRefused(f"no ManufacturerOUI in the Common Objects ({IDENTITY_PATHS['oui']})")
    if not _OUI.match(oui):
        raise ProbeRefused(f"ManufacturerOUI {oui[:20]!r} is not six hexadecimal digits")
    if not serial:
        raise ProbeRefused(f"no SerialNumber in the Common Objects ({IDENTITY_PATHS['serialNumber']})")
    productClass = _clean(values.get(IDENTITY_PATHS["productClass"], ""))
    maker = _clean(values.get(IDENTITY_PATHS["manufacturer"], "") or manufacturer)
    # what the devices of a model say alike is one string for them all (issue 19); the serial number is each one's
    return DeviceIdentity(internText(maker), internText(oui), internText(productClass), serial)


@dataclass(frozen=True, slots=True)  # slots: one per device, issue 19
class DeviceProfile:
    """
    What one Virtual CWMP Device is made of.

    @ivar root: the CMS location of C{Device.}, or C{None} (no Broadband
        Forum model: only the Common Objects fallbacks and the constants).
    @ivar mapped: CWMP name → CMS path in the Common Objects.
    @ivar constants: CWMP name → value the proxier holds (read-only).
    @ivar rootNames: the structure paths at the top of the BBF model, two
        levels deep (which C{Device.DeviceInfo.} parameters exist).
    """

    identity: DeviceIdentity
    candidate: Candidate
    capabilities: Capabilities
    models: tuple[DataModelEntry, ...]
    commonObjects: str
    root: Optional[str]
    mapped: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, ParameterValue] = field(default_factory=dict)
    softwareVersion: str = ""
    hardwareVersion: str = ""
    notes: tuple[str, ...] = ()
    rootStructure: frozenset[str] = frozenset()

    def inBBF(self, name: str) -> bool:
        """
        Whether the CWMP path C{name} may be in the BBF model: known for the
        top two levels (the probe's GetSupportedParameters), assumed below
        them when its top two levels are in the model. A path below an
        object the model lacks (C{Device.DeviceInfo.SupportedDataModel.1.}
        when the proxier holds that table) is not the device's: asking the
        device about it gets 703, which would hide what the proxier holds
        (issue 17.2).
        """
        if self.root is None:
            return False
        if name in ("", CWMP_ROOT):
            return True
        if not name.startswith(CWMP_ROOT):
            return False
        parts = [p for p in name[len(CWMP_ROOT):].rstrip(".").split(".") if p]
        if len(parts) > 2:
            if isUnsigned(parts[1], maxDigits=10) or parts[1].startswith("["):  # an instance of a table at the top
                return self.root + parts[0] + "/#/" in self.rootStructure
            parts = parts[:2]
        relative = "/".join(parts)
        return any(self.root + relative + end in self.rootStructure for end in ("", "/", "/#/"))

    def constantObjects(self) -> list[str]:
        """The object paths the constants live in (for GetParameterNames)."""
        objects: list[str] = []
        for name in self.constants:
            parts = name.split(".")
            for depth in range(1, len(parts)):
                prefix = ".".join(parts[:depth]) + "."
                if prefix not in objects:
                    objects.append(prefix)
        return objects


def makeProfile(candidate: Candidate, caps: Capabilities, models: Sequence[DataModelEntry], common: str,
                commonValues: Mapping[str, str], rootStructure: Optional[Sequence[str]],
                defaultRootVersion: str) -> DeviceProfile:
    """
    The profile from what the probe learned (sans-IO).

    @param commonValues: the Common Objects' C{DeviceInfo/} values, by path
        relative to C{common}.
    @param rootStructure: the StructurePaths of the BBF model's top two
        levels, or C{None} when the device has no usable BBF model.
    @raise ProbeRefused: see L{identityFrom}.
    """
    identity = identityFrom(commonValues, candidate.device.manufacturer)
    root = bbfRoot(models) if rootStructure is not None else None
    structure = set(rootStructure or ())
    notes: list[str] = []

    def inBBF(name: str) -> bool:
        if root is None:
            return False
        relative = name[len(CWMP_ROOT):].replace(".", "/")
        return any(root + relative + end in structure for end in ("", "/", "/#/"))

    mapped: dict[str, str] = {}
    for name, relative in COMMON_OBJECTS_FALLBACKS:
        if not inBBF(name) and relative in commonValues:
            mapped[name] = common + relative
    constants: dict[str, ParameterValue] = {}
    if not inBBF("Device.DeviceInfo.Manufacturer") and "Device.DeviceInfo.Manufacturer" not in mapped:
        constants["Device.DeviceInfo.Manufacturer"] = ParameterValue(
            "Device.DeviceInfo.Manufacturer", identity.manufacturer, "xsd:string")
    if not inBBF("Device.RootDataModelVersion"):
        constants["Device.RootDataModelVersion"] = ParameterValue(
            "Device.RootDataModelVersion", rootDataModelVersion(models, defaultRootVersion), "xsd:string")
    if not inBBF("Device.DeviceInfo.SupportedDataModel") and not inBBF("Device.DeviceInfo.SupportedDataModelNumberOfEntries"):
        rows = [m for m in models if BBF_URI.match(m.uri)]
        constants["Device.DeviceInfo.SupportedDataModelNumberOfEntries"] = ParameterValue(
            "Device.DeviceInfo.SupportedDataModelNumberOfEntries", str(len(rows)), "xsd:unsignedInt")
        for index, model in enumerate(rows, start=1):
            prefix = f"{SUPPORTED_DATA_MODEL}{index}."
            uuid = model.uuid
            if not isUUID(uuid):
                if uuid:
                    notes.append(f"{model.uri[:80]}: UUID {uuid[:40]!r} is not a UUID; a name-based one is answered")
                uuid = supportedDataModelUUID(model.uri[:256], model.url[:2048])
            for leaf, value in (("URL", model.url[:2048]), ("URN", model.uri[:256]), ("UUID", uuid), ("Features", "")):
                constants[prefix + leaf] = ParameterValue(prefix + leaf, value, "xsd:string")
    unmapped = [m.uri for m in models if not BBF_URI.match(m.uri) and not COMMON_OBJECTS_URI.match(m.uri)]
    if unmapped:
        notes.append(f"data models without a CWMP mapping, not presented: {', '.join(u[:80] for u in unmapped[:5])}")
    if root is None:
        notes.append("no Broadband Forum data model: Device. holds only the Common Objects' identity")
    # what every device of a model says alike is shared between them (issue 19)
    return DeviceProfile(
        identity=identity,
        candidate=candidate,
        capabilities=caps,
        models=_profileParts(tuple(_profileParts(m) for m in models)),
        commonObjects=internText(common),
        root=internText(root) if root is not None else None,
        mapped=_profileParts(_SharedMapping((internText(name), internText(path)) for name, path in mapped.items())),
        constants=_profileParts(_SharedMapping((internText(name), _profileParts(value))
                                               for name, value in constants.items())),
        softwareVersion=internText(_clean(commonValues.get(IDENTITY_PATHS["softwareVersion"], ""))),
        hardwareVersion=internText(_clean(commonValues.get(IDENTITY_PATHS["hardwareVersion"], ""))),
        notes=tuple(notes),
        rootStructure=internFrozenset(structure) if root is not None else frozenset(),
    )


Call = Callable[[Service, str, Mapping[str, object]], Deferred]


@inlineCallbacks
def probe(call: Call, candidate: Candidate, caps: Capabilities, defaultRootVersion: str) -> Any:
    """
    Ask the device what makes its Virtual CWMP Device (step 3 of the module
    docstring).

    @param call: C{(service, action, arguments) → Deferred} of the output
        arguments (through the device's L{ActionGate<proxier.proxy.gate.ActionGate>}).
    @return: Deferred firing with a L{DeviceProfile}.
    @raise ProbeRefused: the device cannot be proxied (a lasting reason).
    Other failures (no answer, a malformed answer) are transient: the caller
    may try again later.
    """
    missing = caps.missingReadActions
    if missing:
        raise ProbeRefused(f"its ConfigurationManagement lacks {', '.join(sorted(missing))}")
    answer = yield call(candidate.cms, "GetSupportedDataModels", {})
    models = cmsxml.parseSupportedDataModels(answer.get("SupportedDataModels", ""))
    common = commonObjectsLocation(models)
    if common is None:
        raise ProbeRefused("GetSupportedDataModels lists no UPnP DM Common Objects, so no OUI or serial number")
    try:
        answer = yield call(candidate.cms, "GetValues", {"Parameters": cmsxml.contentPathList([common + "DeviceInfo/"])})
    except UPnPError as e:
        raise ProbeRefused(f"the Common Objects' DeviceInfo cannot be read ({e})") from None
    values = {}
    for path, value in cmsxml.parseParameterValueList(answer.get("ParameterValueList", "")):
        if path.startswith(common):
            values[path[len(common):]] = value
    root = bbfRoot(models)
    rootStructure: Optional[list[str]] = None
    if root is not None:
        try:
            answer = yield call(candidate.cms, "GetSupportedParameters", {"StartingNode": root, "SearchDepth": 2})
            rootStructure = cmsxml.parseStructurePathList(answer.get("Result", ""))
        except UPnPError:
            rootStructure = None  # the announced location does not hold a model
    return makeProfile(candidate, caps, models, common, values, rootStructure, defaultRootVersion)
