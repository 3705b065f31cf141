# -*- test-case-name: tests.test_upnp_description -*-
"""
Device descriptions and service descriptions (SCPDs) (UDA 1.1 §2): parsed
into plain values, and serialized back for the simulated devices.

A device description names the root device and its embedded devices, each
with its services and their SCPD, control and event URLs; relative URLs are
resolved against C{URLBase} when there is one, else against the URL the
description came from (UDA 1.1 §2.3). Whether a resolved URL may be used is
not decided here: L{proxier.lan.urlpolicy} does that before any fetch.

Parsing tolerates what devices serve (INTEROP.md, Description and SOAP): no
default namespace or a wrong one (every lookup is by local name), an empty
SCPD, trailing NUL bytes, white space, the UPnP service-template notation
(C{<Optional/>}, C{<sendEventsAttribute>}). What cannot be used (an
argument without a direction, a service without a control URL) is left out
and named in C{problems}, for a log line.

L{missingRequiredActions} says which actions a known service type requires
that an SCPD lacks (L{REQUIRED_ACTIONS}).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Container, Iterator, Optional
from urllib.parse import urljoin, urlsplit

from lxml import etree

from proxier import xmlsafe
from proxier.sharing import internText
from proxier.asciinum import isUnsigned
from proxier.upnp._xmlutil import child, childText, children, localName, parseBody
from proxier.upnp.ssdp import parseType

__all__ = [
    "DEVICE_NS",
    "SERVICE_NS",
    "MANAGEABLE_DEVICE_2",
    "BASIC_MANAGEMENT_2",
    "CONFIGURATION_MANAGEMENT_2",
    "SOFTWARE_MANAGEMENT_2",
    "DEVICE_PROTECTION_1",
    "REQUIRED_ACTIONS",
    "MAX_DESCRIPTION_BYTES",
    "DescriptionError",
    "Service",
    "Device",
    "DeviceDescription",
    "Argument",
    "Action",
    "AllowedRange",
    "StateVariable",
    "SCPD",
    "parseDeviceDescription",
    "parseSCPD",
    "requiredActions",
    "missingRequiredActions",
]

DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
SERVICE_NS = "urn:schemas-upnp-org:service-1-0"

MANAGEABLE_DEVICE_2 = "urn:schemas-upnp-org:device:ManageableDevice:2"
BASIC_MANAGEMENT_2 = "urn:schemas-upnp-org:service:BasicManagement:2"
CONFIGURATION_MANAGEMENT_2 = "urn:schemas-upnp-org:service:ConfigurationManagement:2"
SOFTWARE_MANAGEMENT_2 = "urn:schemas-upnp-org:service:SoftwareManagement:2"
DEVICE_PROTECTION_1 = "urn:schemas-upnp-org:service:DeviceProtection:1"

# The actions each UPnP DM service requires: those without <Optional/> in the
# UPnP Forum service templates (shared/ref/upnp-dm/service-templates/
# BasicManagement-2, ConfigurationManagement-2, SoftwareManagement-2 and
# DeviceProtection-1 .service-template.xml). Keyed by (service name, version)
# in the schemas-upnp-org domain; tests/test_upnp_description.py checks every
# row against the templates.
REQUIRED_ACTIONS: dict[tuple[str, int], frozenset[str]] = {
    ("BasicManagement", 2): frozenset({"GetDeviceStatus"}),
    ("ConfigurationManagement", 2): frozenset({
        "GetSupportedDataModels", "GetSupportedParameters", "GetInstances", "GetValues",
        "GetAttributes", "GetConfigurationUpdate", "GetCurrentConfigurationVersion",
        "GetSupportedDataModelsUpdate", "GetSupportedParametersUpdate",
    }),
    ("SoftwareManagement", 2): frozenset({
        "Install", "Update", "Uninstall", "Start", "Stop", "GetDUIDs", "GetEUIDs",
        "GetActiveEUIDs", "GetRunningEUIDs", "GetOperationInfo", "GetOperationIDs",
        "GetErrorEUIDs",
    }),
    ("DeviceProtection", 1): frozenset({
        "SendSetupMessage", "GetSupportedProtocols", "GetAssignedRoles", "GetRolesForAction",
        "GetUserLoginChallenge", "UserLogin", "UserLogout", "GetACLData", "AddIdentityList",
        "RemoveIdentity", "SetUserLoginPassword", "AddRolesForIdentity", "RemoveRolesForIdentity",
    }),
}

#: The largest description or SCPD accepted.
MAX_DESCRIPTION_BYTES = 512 * 1024
# Caps on what one description may declare: a real device stays far below.
MAX_DEVICES = 32
MAX_DEPTH = 6
MAX_SERVICES = 64
MAX_ACTIONS = 256
MAX_ARGUMENTS = 64
MAX_VARIABLES = 1024
MAX_ALLOWED_VALUES = 1024
_MAX_TEXT = 1024


class DescriptionError(ValueError):
    """Not a description the proxier can use; C{str()} fits a log line."""


# Device descriptions


@dataclass(frozen=True, slots=True)
class Service:
    """
    One service of a device. URLs are absolute after parsing (C{eventSubURL}
    is C{""} for a service without eventing).
    """

    serviceType: str
    serviceId: str
    scpdURL: str
    controlURL: str
    eventSubURL: str = ""


@dataclass(frozen=True, slots=True)
class Device:
    """A root or embedded device."""

    deviceType: str
    udn: str
    friendlyName: str = ""
    manufacturer: str = ""
    manufacturerURL: str = ""
    modelDescription: str = ""
    modelName: str = ""
    modelNumber: str = ""
    modelURL: str = ""
    serialNumber: str = ""
    upc: str = ""
    presentationURL: str = ""
    services: tuple[Service, ...] = ()
    devices: tuple["Device", ...] = ()

    def allDevices(self) -> Iterator["Device"]:
        """This device and its embedded devices, depth first."""
        yield self
        for d in self.devices:
            yield from d.allDevices()

    def service(self, serviceType: str) -> Optional[Service]:
        """
        This device's service of that type, at the same or a newer version
        (a C{:2} service does what a C{:1} does).
        """
        from proxier.upnp.ssdp import searchTargetMatches

        for s in self.services:
            if searchTargetMatches(serviceType, s.serviceType):
                return s
        return None


@dataclass(frozen=True, slots=True)
class DeviceDescription:
    """
    @ivar location: the URL the description was fetched from.
    @ivar urlBase: the URLBase element, or C{""}.
    @ivar specVersion: C{(major, minor)}.
    @ivar configId: the root's C{configId} attribute (UDA 1.1), or C{None}.
    @ivar problems: what was left out, for a log line.
    """

    device: Device
    location: str = ""
    urlBase: str = ""
    specVersion: tuple[int, int] = (1, 1)
    configId: Optional[int] = None
    problems: tuple[str, ...] = field(default=(), compare=False)

    def devices(self) -> list[Device]:
        return list(self.device.allDevices())

    def services(self) -> list[tuple[Device, Service]]:
        """Every C{(device, service)} pair, root device first."""
        return [(d, s) for d in self.device.allDevices() for s in d.services]

    def deviceByUDN(self, udn: str) -> Optional[Device]:
        for d in self.device.allDevices():
            if d.udn.lower() == udn.lower():
                return d
        return None

    def toBytes(self) -> bytes:
        """The description document (URLs written as they are held)."""
        root = etree.Element(f"{{{DEVICE_NS}}}root", nsmap={None: DEVICE_NS})
        if self.configId is not None:
            root.set("configId", str(self.configId))
        _specVersion(root, DEVICE_NS, self.specVersion)
        if self.urlBase:
            _text(root, DEVICE_NS, "URLBase", self.urlBase)
        _device(root, self.device)
        return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _text(parent: etree._Element, ns: str, name: str, value: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{name}")
    element.text = value
    return element


def _specVersion(parent: etree._Element, ns: str, version: tuple[int, int]) -> None:
    spec = etree.SubElement(parent, f"{{{ns}}}specVersion")
    _text(spec, ns, "major", str(version[0]))
    _text(spec, ns, "minor", str(version[1]))


_DEVICE_FIELDS = (
    ("deviceType", "deviceType", True),
    ("friendlyName", "friendlyName", True),
    ("manufacturer", "manufacturer", True),
    ("manufacturerURL", "manufacturerURL", False),
    ("modelDescription", "modelDescription", False),
    ("modelName", "modelName", True),
    ("modelNumber", "modelNumber", False),
    ("modelURL", "modelURL", False),
    ("serialNumber", "serialNumber", False),
    ("udn", "UDN", True),
    ("upc", "UPC", False),
)


def _device(parent: etree._Element, device: Device) -> None:
    ns = DEVICE_NS
    element = etree.SubElement(parent, f"{{{ns}}}device")
    for attr, tag, always in _DEVICE_FIELDS:
        value = getattr(device, attr)
        if value or always:
            _text(element, ns, tag, value)
    if device.services:
        serviceList = etree.SubElement(element, f"{{{ns}}}serviceList")
        for s in device.services:
            se = etree.SubElement(serviceList, f"{{{ns}}}service")
            _text(se, ns, "serviceType", s.serviceType)
            _text(se, ns, "serviceId", s.serviceId)
            _text(se, ns, "SCPDURL", s.scpdURL)
            _text(se, ns, "controlURL", s.controlURL)
            _text(se, ns, "eventSubURL", s.eventSubURL)
    if device.devices:
        deviceList = etree.SubElement(element, f"{{{ns}}}deviceList")
        for d in device.devices:
            _device(deviceList, d)
    if device.presentationURL:
        _text(element, ns, "presentationURL", device.presentationURL)


def _root(data: bytes, maxBytes: int, expected: str) -> Optional[etree._Element]:
    if not data.strip(b"\x00 \t\r\n"):
        return None
    try:
        root = parseBody(data, maxBytes)
    except xmlsafe.XMLRejected as e:
        raise DescriptionError(str(e)) from None
    if localName(root) != expected:
        raise DescriptionError(f"root element is {localName(root)[:40]!r}, not {expected}")
    return root


def _int(text: str) -> Optional[int]:
    """A whole number of ASCII digits (C{"²"} passed isdigit() and failed int(), out of the fetcher)."""
    text = text.strip()
    return int(text) if isUnsigned(text, maxDigits=10) else None


def _version(root: etree._Element) -> tuple[int, int]:
    spec = child(root, "specVersion")
    if spec is None:
        return (1, 0)
    return (_int(childText(spec, "major")) or 1, _int(childText(spec, "minor")) or 0)


def _configId(root: etree._Element) -> Optional[int]:
    value = _int(root.get("configId", ""))
    return value if value is not None and value < 2**31 else None


def parseDeviceDescription(
    data: bytes, location: str, maxBytes: int = MAX_DESCRIPTION_BYTES
) -> DeviceDescription:
    """
    Parse a device description fetched from C{location}.

    @raise DescriptionError: not a usable description (malformed, hostile,
        too big, no root device or no UDN).
    """
    root = _root(data, maxBytes, "root")
    if root is None:
        raise DescriptionError("empty device description")
    urlBase = childText(root, "URLBase")[:_MAX_TEXT]
    base = urlBase or location
    top = child(root, "device")
    if top is None:
        raise DescriptionError("description without a root device")
    problems: list[str] = []
    count = [0]
    device = _parseDevice(top, base, problems, count, 0)
    return DeviceDescription(
        device=device,
        location=location,
        urlBase=urlBase,
        specVersion=_version(root),
        configId=_configId(root),
        problems=tuple(problems),
    )


def _resolve(base: str, url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    try:
        resolved = urljoin(base, url)
        urlsplit(resolved).port  # raises ValueError on a bad port
    except ValueError:
        return ""
    return resolved


#: The device fields that tell one device from another of its model: the others are interned (issue 19).
_OWN_FIELDS = frozenset({"udn", "serialNumber", "friendlyName"})


def _shared(attr: str, text: str) -> str:
    """A description's text, one string for every device of a model where it names the model, not the device."""
    return text if attr in _OWN_FIELDS else internText(text)


def _parseDevice(element: etree._Element, base: str, problems: list[str], count: list[int], depth: int) -> Device:
    count[0] += 1
    udn = childText(element, "UDN")
    if not udn.lower().startswith("uuid:") or len(udn) > 128:
        raise DescriptionError(f"device without a valid UDN ({udn[:60]!r})")
    values = {attr: _shared(attr, childText(element, tag)[:_MAX_TEXT]) for attr, tag, _ in _DEVICE_FIELDS}
    values["presentationURL"] = _resolve(base, childText(element, "presentationURL"))
    services = []
    serviceList = child(element, "serviceList")
    for se in children(serviceList, "service") if serviceList is not None else ():
        if len(services) >= MAX_SERVICES:
            problems.append(f"{udn}: more than {MAX_SERVICES} services; the rest ignored")
            break
        serviceType = internText(childText(se, "serviceType")[:_MAX_TEXT])
        scpd = _resolve(base, childText(se, "SCPDURL"))
        control = _resolve(base, childText(se, "controlURL"))
        if not serviceType or not control:
            problems.append(f"{udn}: service {serviceType or '(no type)'} without type or control URL ignored")
            continue
        services.append(Service(
            serviceType=serviceType,
            serviceId=internText(childText(se, "serviceId")[:_MAX_TEXT]),
            scpdURL=scpd,
            controlURL=control,
            eventSubURL=_resolve(base, childText(se, "eventSubURL")),
        ))
    embedded = []
    deviceList = child(element, "deviceList")
    for de in children(deviceList, "device") if deviceList is not None else ():
        if depth + 1 > MAX_DEPTH or count[0] >= MAX_DEVICES:
            problems.append(f"{udn}: embedded devices beyond {MAX_DEVICES} devices or depth {MAX_DEPTH} ignored")
            break
        try:
            embedded.append(_parseDevice(de, base, problems, count, depth + 1))
        except DescriptionError as e:
            problems.append(f"{udn}: embedded device ignored: {e}")
    return Device(services=tuple(services), devices=tuple(embedded), **values)


# Service descriptions


@dataclass(frozen=True)
class Argument:
    name: str
    direction: str  # "in" or "out"
    relatedStateVariable: str
    retval: bool = False


@dataclass(frozen=True)
class Action:
    """
    @ivar optional: marked C{<Optional/>} (service templates only).
    """

    name: str
    arguments: tuple[Argument, ...] = ()
    optional: bool = False

    @property
    def inArguments(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.direction == "in")

    @property
    def outArguments(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.direction == "out")


@dataclass(frozen=True)
class AllowedRange:
    minimum: str
    maximum: str
    step: str = ""


@dataclass(frozen=True)
class StateVariable:
    """
    @ivar sendEvents: evented (UDA default: yes).
    @ivar optional: marked C{<Optional/>} (service templates only).
    """

    name: str
    dataType: str
    sendEvents: bool = True
    multicast: bool = False
    defaultValue: Optional[str] = None
    allowedValues: tuple[str, ...] = ()
    allowedRange: Optional[AllowedRange] = None
    optional: bool = False


@dataclass(frozen=True)
class SCPD:
    """
    A service description.

    @ivar problems: what was left out, for a log line.
    """

    actions: tuple[Action, ...] = ()
    stateVariables: tuple[StateVariable, ...] = ()
    specVersion: tuple[int, int] = (1, 1)
    configId: Optional[int] = None
    problems: tuple[str, ...] = field(default=(), compare=False)

    def action(self, name: str) -> Optional[Action]:
        for a in self.actions:
            if a.name == name:
                return a
        return None

    def stateVariable(self, name: str) -> Optional[StateVariable]:
        for v in self.stateVariables:
            if v.name == name:
                return v
        return None

    @property
    def actionNames(self) -> frozenset[str]:
        return frozenset(a.name for a in self.actions)

    @property
    def eventedVariables(self) -> tuple[StateVariable, ...]:
        return tuple(v for v in self.stateVariables if v.sendEvents)

    def select(self, optionalActions: Container[str] = (), optionalVariables: Container[str] = ()) -> "SCPD":
        """
        A deployable SCPD from a service template: the required actions and
        variables, the optional actions named, the optional variables those
        actions refer to or that are named; every C{optional} mark cleared.
        """
        actions = tuple(replace(a, optional=False) for a in self.actions
                        if not a.optional or a.name in optionalActions)
        referenced = {arg.relatedStateVariable for a in actions for arg in a.arguments}
        variables = tuple(replace(v, optional=False) for v in self.stateVariables
                          if not v.optional or v.name in referenced or v.name in optionalVariables)
        return replace(self, actions=actions, stateVariables=variables)

    def toBytes(self) -> bytes:
        """The SCPD document, namespaced, with specVersion."""
        ns = SERVICE_NS
        root = etree.Element(f"{{{ns}}}scpd", nsmap={None: ns})
        if self.configId is not None:
            root.set("configId", str(self.configId))
        _specVersion(root, ns, self.specVersion)
        actionList = etree.SubElement(root, f"{{{ns}}}actionList")
        for a in self.actions:
            ae = etree.SubElement(actionList, f"{{{ns}}}action")
            _text(ae, ns, "name", a.name)
            if a.arguments:
                argumentList = etree.SubElement(ae, f"{{{ns}}}argumentList")
                for arg in a.arguments:
                    ge = etree.SubElement(argumentList, f"{{{ns}}}argument")
                    _text(ge, ns, "name", arg.name)
                    _text(ge, ns, "direction", arg.direction)
                    if arg.retval:
                        etree.SubElement(ge, f"{{{ns}}}retval")
                    _text(ge, ns, "relatedStateVariable", arg.relatedStateVariable)
        table = etree.SubElement(root, f"{{{ns}}}serviceStateTable")
        for v in self.stateVariables:
            ve = etree.SubElement(table, f"{{{ns}}}stateVariable")
            ve.set("sendEvents", "yes" if v.sendEvents else "no")
            if v.multicast:
                ve.set("multicast", "yes")
            _text(ve, ns, "name", v.name)
            _text(ve, ns, "dataType", v.dataType)
            if v.defaultValue is not None:
                _text(ve, ns, "defaultValue", v.defaultValue)
            if v.allowedValues:
                avl = etree.SubElement(ve, f"{{{ns}}}allowedValueList")
                for value in v.allowedValues:
                    _text(avl, ns, "allowedValue", value)
            if v.allowedRange is not None:
                rng = etree.SubElement(ve, f"{{{ns}}}allowedValueRange")
                _text(rng, ns, "minimum", v.allowedRange.minimum)
                _text(rng, ns, "maximum", v.allowedRange.maximum)
                if v.allowedRange.step:
                    _text(rng, ns, "step", v.allowedRange.step)
        return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _yes(text: Optional[str], default: bool) -> bool:
    if text is None or not text.strip():
        return default
    return text.strip().lower() in ("yes", "1", "true")


def parseSCPD(data: bytes, maxBytes: int = MAX_DESCRIPTION_BYTES) -> SCPD:
    """
    Parse a service description (or a UPnP service template). An empty body
    is an SCPD without actions.

    @raise DescriptionError: malformed, hostile, too big, or not an SCPD.
    """
    root = _root(data, maxBytes, "scpd")
    if root is None:
        return SCPD(problems=("empty SCPD",))
    problems: list[str] = []
    actions: list[Action] = []
    seen: set[str] = set()
    actionList = child(root, "actionList")
    for ae in children(actionList, "action") if actionList is not None else ():
        if len(actions) >= MAX_ACTIONS:
            problems.append(f"more than {MAX_ACTIONS} actions; the rest ignored")
            break
        action = _parseAction(ae, problems)
        if action is not None and action.name not in seen:
            seen.add(action.name)
            actions.append(action)
    variables: list[StateVariable] = []
    table = child(root, "serviceStateTable")
    for ve in children(table, "stateVariable") if table is not None else ():
        if len(variables) >= MAX_VARIABLES:
            problems.append(f"more than {MAX_VARIABLES} state variables; the rest ignored")
            break
        variable = _parseVariable(ve, problems)
        if variable is not None:
            variables.append(variable)
    return SCPD(tuple(actions), tuple(variables), _version(root), _configId(root), tuple(problems))


def _parseAction(element: etree._Element, problems: list[str]) -> Optional[Action]:
    name = childText(element, "name")
    if not name or len(name) > 128:
        problems.append("action without a name ignored")
        return None
    arguments = []
    argumentList = child(element, "argumentList")
    for ge in children(argumentList, "argument") if argumentList is not None else ():
        if len(arguments) >= MAX_ARGUMENTS:
            problems.append(f"action {name}: more than {MAX_ARGUMENTS} arguments")
            return None
        argName = childText(ge, "name")
        direction = childText(ge, "direction").lower()
        if not argName or direction not in ("in", "out"):
            problems.append(f"action {name}: argument {argName or '(no name)'} has direction {direction!r}; action ignored")
            return None
        arguments.append(Argument(argName, direction, childText(ge, "relatedStateVariable"),
                                  child(ge, "retval") is not None))
    return Action(name, tuple(arguments), child(element, "Optional") is not None)


def _parseVariable(element: etree._Element, problems: list[str]) -> Optional[StateVariable]:
    name = childText(element, "name")
    if not name or len(name) > 128:
        problems.append("state variable without a name ignored")
        return None
    sendEvents = _yes(element.get("sendEvents"), True)
    legacy = child(element, "sendEventsAttribute")  # service-template notation
    if legacy is not None:
        sendEvents = _yes(legacy.text, True)
    allowed: list[str] = []
    avl = child(element, "allowedValueList")
    for value in children(avl, "allowedValue") if avl is not None else ():
        if len(allowed) >= MAX_ALLOWED_VALUES:
            problems.append(f"state variable {name}: more than {MAX_ALLOWED_VALUES} allowed values")
            break
        allowed.append((value.text or "").strip())
    rng = child(element, "allowedValueRange")
    allowedRange = None
    if rng is not None:
        allowedRange = AllowedRange(childText(rng, "minimum"), childText(rng, "maximum"), childText(rng, "step"))
    default = child(element, "defaultValue")
    return StateVariable(
        name=name,
        dataType=childText(element, "dataType") or "string",
        sendEvents=sendEvents,
        multicast=_yes(element.get("multicast"), False),
        defaultValue=(default.text or "") if default is not None else None,
        allowedValues=tuple(allowed),
        allowedRange=allowedRange,
        optional=child(element, "Optional") is not None,
    )


def requiredActions(serviceType: str) -> Optional[frozenset[str]]:
    """
    The actions L{REQUIRED_ACTIONS} says a service of this type has: the row
    of the same service at the newest version not above the service's own.
    C{None} for a service type the table does not know.
    """
    parsed = parseType(serviceType)
    if parsed is None or parsed.domain != "schemas-upnp-org" or parsed.kind != "service":
        return None
    versions = [v for (name, v) in REQUIRED_ACTIONS if name == parsed.name and v <= parsed.version]
    if not versions:
        return None
    return REQUIRED_ACTIONS[(parsed.name, max(versions))]


def missingRequiredActions(serviceType: str, scpd: SCPD) -> tuple[str, ...]:
    """The required actions (L{REQUIRED_ACTIONS}) the SCPD lacks, sorted; C{()} for unknown types."""
    required = requiredActions(serviceType)
    if required is None:
        return ()
    return tuple(sorted(required - scpd.actionNames))
