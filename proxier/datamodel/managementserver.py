# -*- test-case-name: tests.test_datamodel_gateway -*-
"""
C{Device.ManagementServer.} (TR-181 Device:2.17) showing an endpoint's
L{EndpointSettings<proxier.cwmp.settings.EndpointSettings>} (declared once:
the endpoint is its tree's L{EndpointData}), and its
C{VirtualDevice.{i}.} table (TR-330 §4.3.1) fed by the service tree's
L{DeviceDirectory<proxier.service.DeviceDirectory>}.

What the ACS sets here is applied with one L{EndpointSettings.set} per
SetParameterValues (saved durably, then the endpoint's observers are told);
what changes the settings otherwise (the endpoint storing a ParameterKey,
the operator's config) is told to the tree, so that parameters with
Notification on are reported. Types, ranges and access are TR-181's
(checked against the standard's XML by C{tests.test_datamodel_tr181}).
"""

from __future__ import annotations

import datetime
import re
from functools import partial
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from twisted.logger import Logger

from proxier.config import url as _urlParser
from proxier.datamodel.declarations import CAN_DENY, FORCE_DEFAULT_ENABLED, Batch, Object, Parameter, Table
from proxier.datamodel.tree import ObjectNode, TreeDataModel
from proxier.datamodel.types import UNKNOWN_TIME, Boolean, DateTime, Enumeration, ListOf, String, UnsignedInt

__all__ = [
    "MANAGEMENT_SERVER",
    "VIRTUAL_DEVICE_TABLE",
    "SETTINGS_PARAMETERS",
    "PROXY_PROTOCOLS",
    "DISCOVERY_PROTOCOLS",
    "protocolEnumeration",
    "proxyProtocols",
    "discoveryProtocols",
    "FILE_TYPE_PATTERNS",
    "managementServer",
    "ENDPOINT_MANAGEMENT_SERVER",
    "EndpointData",
    "observeSettings",
    "VirtualDeviceTable",
    "EMBEDDED_DEVICE_TABLE",
    "COMMAND_PROCESSED",
]

MANAGEMENT_SERVER = "Device.ManagementServer."
VIRTUAL_DEVICE_TABLE = MANAGEMENT_SERVER + "VirtualDevice."
#: The rows of the devices proxied by the Embedded Object Mechanism (TR-069 Annex J.3); see
#: L{proxier.proxy.embeddedobjects}, which fills it.
EMBEDDED_DEVICE_TABLE = MANAGEMENT_SERVER + "EmbeddedDevice."
#: TR-181 EmbeddedDevice.{i}.CommandProcessed.
COMMAND_PROCESSED = ("Pending", "Retrying", "Success", "Error")

# Which EndpointSettings value each parameter shows (relative to
# Device.ManagementServer.).
SETTINGS_PARAMETERS: Mapping[str, str] = {
    "url": "URL",
    "username": "Username",
    "password": "Password",
    "periodicInformEnable": "PeriodicInformEnable",
    "periodicInformInterval": "PeriodicInformInterval",
    "periodicInformTime": "PeriodicInformTime",
    "parameterKey": "ParameterKey",
    "connectionRequestUsername": "ConnectionRequestUsername",
    "connectionRequestPassword": "ConnectionRequestPassword",
    "retryMinimumWaitInterval": "CWMPRetryMinimumWaitInterval",
    "retryIntervalMultiplier": "CWMPRetryIntervalMultiplier",
    "defaultActiveNotificationThrottle": "DefaultActiveNotificationThrottle",
    "upgradesManaged": "UpgradesManaged",
    "autonomousTransferCompletePolicyEnable": "AutonomousTransferCompletePolicy.Enable",
    "autonomousTransferCompletePolicyTransferTypeFilter": "AutonomousTransferCompletePolicy.TransferTypeFilter",
    "autonomousTransferCompletePolicyResultTypeFilter": "AutonomousTransferCompletePolicy.ResultTypeFilter",
    "autonomousTransferCompletePolicyFileTypeFilter": "AutonomousTransferCompletePolicy.FileTypeFilter",
}

# TR-181 2.17 enumerations of VirtualDevice.{i}.ProxyProtocol /
# DeviceInfo.ProxierInfo.ProxyProtocol and VirtualDevice.{i}.DiscoveryProtocol.
# The values the proxier reports are its installed protocol plugins'
# (IProxyProtocol.name / discoveryProtocol); see protocolEnumeration.
PROXY_PROTOCOLS = ("Z-Wave", "ZigBee", "UPnP-DM", "ETSI-M2M")
DISCOVERY_PROTOCOLS = ("Z-Wave", "ZigBee", "UPnP", "ETSI-M2M")

# TR-106 §3.3: a vendor's extension of an enumeration is X_<VENDOR>_<value>,
# VENDOR being the vendor's OUI (six upper-case hex digits) or its domain name.
_VENDOR_VALUE = re.compile(r"X_(?:[0-9A-F]{6}|[A-Za-z0-9][A-Za-z0-9.-]*)_[A-Za-z0-9][A-Za-z0-9_.-]*\Z")

_log = Logger()

# TR-181 2.17 ManagementServer.AutonomousTransferCompletePolicy.FileTypeFilter
# item patterns (TR-069 A.3.3.3 FileType values).
FILE_TYPE_PATTERNS = (
    "1 Firmware Upgrade Image",
    "2 Web Content",
    "3 Vendor Configuration File",
    "4 Vendor Log File",
    "X [0-9A-F]{6} .*",
)

_FILE_TYPE_FILTER = "autonomousTransferCompletePolicyFileTypeFilter"
_ACS_URL = _urlParser("http", "https", allowEmpty=False)


def _checkURL(node: ObjectNode, value: str) -> None:
    _ACS_URL(value)


def _fromSetting(key: str, value: Any) -> Any:
    if key == _FILE_TYPE_FILTER:
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def _toSetting(key: str, value: Any) -> Any:
    if key == _FILE_TYPE_FILTER:
        return ",".join(value)
    return value


def protocolEnumeration(standard: Sequence[str], values: Iterable[str], *, log: Any = _log) -> tuple[str, ...]:
    """
    The enumeration of a ProxyProtocol or DiscoveryProtocol parameter: TR-181's
    values, extended (TR-106 §3.3) by the installed plugins' values TR-181
    lacks, which must be vendor names (C{X_<OUI>_Name}). A plugin value that
    is neither is logged and left out, so a device reporting it reads as a
    9002 fault naming the parameter rather than as a non-standard value.

    @param standard: TR-181's values (L{PROXY_PROTOCOLS} or L{DISCOVERY_PROTOCOLS}).
    @param values: the plugins' values.
    """
    enumeration = list(standard)
    for value in values:
        if value in enumeration:
            continue
        if not isinstance(value, str) or not _VENDOR_VALUE.match(value):
            log.error("protocol value {value!r} is neither TR-181's ({standard}) nor a TR-106 vendor name "
                      "(X_<OUI>_Name); devices reporting it cannot be read", value=value,
                      standard=", ".join(standard))
            continue
        enumeration.append(value)
    return tuple(enumeration)


def proxyProtocols(protocol: Any) -> tuple[str, ...]:
    """A protocol plugin's ProxyProtocol values: its L{IProxyProtocol.name}, then its C{otherProxyProtocols}."""
    return (protocol.name, *getattr(protocol, "otherProxyProtocols", ()))


def discoveryProtocols(protocol: Any) -> tuple[str, ...]:
    """A protocol plugin's DiscoveryProtocol values (L{IProxyProtocol.discoveryProtocol}: one, or a tuple)."""
    value = protocol.discoveryProtocol
    values = (value,) if isinstance(value, str) else tuple(value or ())
    return tuple(v for v in values if v)


class EndpointData:
    """
    What the ManagementServer declaration reads of one endpoint: the tree
    serving it takes it as its C{data} (L{TreeDataModel}'s), so that one
    declaration serves every endpoint (issue 19: one a Virtual CWMP Device)
    rather than getters and setters made again for each.

    @ivar settings: the endpoint's L{EndpointSettings}.
    @ivar connectionRequestURL: gives the endpoint's current Connection
        Request URL.
    """

    __slots__ = ("settings", "connectionRequestURL")

    def __init__(self, settings: Any, connectionRequestURL: Callable[[], str]) -> None:
        self.settings = settings
        self.connectionRequestURL = connectionRequestURL


def _readSetting(key: str, node: ObjectNode) -> Any:
    return _fromSetting(key, getattr(node.data.settings, key))


def _applySettings(changes: list) -> None:
    """One SetParameterValues' settings, applied with one L{EndpointSettings.set} of the tree's endpoint."""
    settings = changes[0][0].data.settings
    settings.set(**{key: _toSetting(key, value) for _, key, value in changes})


_SETTINGS = Batch(_applySettings)


def _bound(key: str, type_: Any, **options: Any) -> Parameter:
    """The parameter showing setting C{key} of the tree's endpoint, set with the others in one batch."""
    name = SETTINGS_PARAMETERS[key].rpartition(".")[2]
    return Parameter(name, type_, get=partial(_readSetting, key), set=_SETTINGS.field(key), **options)


# Every endpoint's ManagementServer parameters (the proxier's own adds its tables).
_ENDPOINT_CHILDREN = (
    _bound("url", String(2048), check=_checkURL),
    _bound("username", String(256)),
    _bound("password", String(256), hidden=True),
    _bound("periodicInformEnable", Boolean()),
    _bound("periodicInformInterval", UnsignedInt(1)),
    _bound("periodicInformTime", DateTime()),
    Parameter("ParameterKey", String(32), get=lambda node: node.data.settings.parameterKey,
              activeNotify=CAN_DENY, forcedInform=True),
    Parameter("ConnectionRequestURL", String(2048), get=lambda node: node.data.connectionRequestURL(),
              activeNotify=FORCE_DEFAULT_ENABLED, forcedInform=True),
    _bound("connectionRequestUsername", String(256)),
    _bound("connectionRequestPassword", String(256), hidden=True),
    _bound("upgradesManaged", Boolean()),
    _bound("defaultActiveNotificationThrottle", UnsignedInt()),
    _bound("retryMinimumWaitInterval", UnsignedInt(1, 65535)),
    _bound("retryIntervalMultiplier", UnsignedInt(1000, 65535)),
    # alias-based addressing (TR-069 3.6.1) needs InstanceMode and
    # AutoCreateInstances too; the proxier does not offer it
    Parameter("AliasBasedAddressing", Boolean(), value=False, forcedInform=True),
    Object(
        "AutonomousTransferCompletePolicy",
        _bound("autonomousTransferCompletePolicyEnable", Boolean()),
        _bound("autonomousTransferCompletePolicyTransferTypeFilter", Enumeration(("Upload", "Download", "Both"))),
        _bound("autonomousTransferCompletePolicyResultTypeFilter", Enumeration(("Success", "Failure", "Both"))),
        _bound(_FILE_TYPE_FILTER, ListOf(String(patterns=FILE_TYPE_PATTERNS), maxLength=1024)),
    ),
)

#: The C{ManagementServer} object of an endpoint without tables (a Virtual CWMP
#: Device's, embedded mode's): one declaration for them all.
ENDPOINT_MANAGEMENT_SERVER = Object("ManagementServer", *_ENDPOINT_CHILDREN)


def managementServer(
    *,
    virtualDevices: bool = False,
    embeddedDevices: bool = False,
    supportedDataModelRows: Optional[Callable[[Sequence[str]], Sequence[str]]] = None,
    hostReference: Optional[Callable[[Any], Sequence[str]]] = None,
    protocols: Sequence[Any] = (),
) -> Object:
    """
    The C{ManagementServer} object, bound to the endpoint its tree's C{data}
    is (an L{EndpointData}): the Connection Request URL is read-only here
    (tell the model C{changed("Device.ManagementServer.ConnectionRequestURL")}
    when it changes, so that its active notification reaches the ACS).
    Without tables it is L{ENDPOINT_MANAGEMENT_SERVER}.

    @param virtualDevices: add C{VirtualDeviceNumberOfEntries} and the
        C{VirtualDevice.{i}.} table (the proxier's own endpoint only); feed
        it with L{VirtualDeviceTable}.
    @param hostReference: gives a device's C{Host} value: references to
        C{Device.Hosts.Host.} rows (TR-181 says C{Host} is a list of such
        paths, so a bare address does not belong there). Without it the
        list is empty.
    @param protocols: the installed protocol plugins
        (L{IProxyProtocol<proxier.interfaces.IProxyProtocol>}): their names
        and discovery protocols are the C{VirtualDevice.{i}.ProxyProtocol}
        and C{DiscoveryProtocol} values beside TR-181's
        (L{protocolEnumeration}).
    @param embeddedDevices: add C{EmbeddedDeviceNumberOfEntries} and the
        C{EmbeddedDevice.{i}.} table (the proxier's own endpoint, when a
        protocol uses the Embedded Object Mechanism); each row's C{data} is
        an L{EmbeddedRow<proxier.proxy.embeddedobjects.EmbeddedRow>}.
    @param supportedDataModelRows: URNs → the paths of the own
        C{DeviceInfo.SupportedDataModel} rows that list them (an EmbeddedDevice
        row's C{SupportedDataModel}).
    """
    if not (virtualDevices or embeddedDevices):
        return ENDPOINT_MANAGEMENT_SERVER
    children: list[Any] = list(_ENDPOINT_CHILDREN)
    host = hostReference or (lambda device: ())
    proxyValues = [v for p in protocols for v in proxyProtocols(p)]
    discoveryValues = [v for p in protocols for v in discoveryProtocols(p)]
    if embeddedDevices:
        rows = supportedDataModelRows or (lambda urns: ())
        children.append(Table(
            "EmbeddedDevice",
            Parameter("ControllerID", String(256), value=""),
            Parameter("ProxiedDeviceID", String(256), get=lambda node: node.data.device.key[:256]),
            Parameter("Reference", String(), get=lambda node: node.data.reference[:-1]),
            Parameter("SupportedDataModel", ListOf(String()), get=lambda node: tuple(rows(node.data.objects.urns))),
            Parameter("Host", ListOf(String(), maxItems=32), get=lambda node: tuple(host(node.data.device))),
            Parameter("ProxyProtocol", String(enumeration=protocolEnumeration(PROXY_PROTOCOLS, proxyValues)),
                      get=lambda node: node.data.device.proxyProtocol),
            Parameter("ProxyProtocolReference", String(), get=lambda node: ""),
            Parameter("DiscoveryProtocol",
                      ListOf(String(enumeration=protocolEnumeration(DISCOVERY_PROTOCOLS, discoveryValues))),
                      get=lambda node: _discovery(node.data.device)),
            Parameter("DiscoveryProtocolReference", ListOf(String()), get=lambda node: ()),
            Parameter("CommandProcessed", Enumeration(COMMAND_PROCESSED), get=lambda node: node.data.synced.state),
            Parameter("CommandProcessingErrMsg", String(1024), get=lambda node: node.data.synced.errorMessage),
            Parameter("LastSyncTime", DateTime(), get=lambda node: _time(node.data.synced.lastSyncTime())),
        ))
    if virtualDevices:
        children.append(Table(
            "VirtualDevice",
            Parameter("ManufacturerOUI", String(6, minLength=6, patterns=("[0-9A-F]{6}",)),
                      get=lambda node: node.data.identity.oui),
            Parameter("ProductClass", String(64), get=lambda node: node.data.identity.productClass),
            Parameter("SerialNumber", String(64), get=lambda node: node.data.identity.serialNumber),
            Parameter("Host", ListOf(String(), maxItems=32), get=lambda node: tuple(host(node.data))),
            Parameter("ProxyProtocol", String(enumeration=protocolEnumeration(PROXY_PROTOCOLS, proxyValues)),
                      get=lambda node: node.data.proxyProtocol),
            Parameter("ProxyProtocolReference", String(), get=lambda node: ""),
            Parameter("DiscoveryProtocol",
                      ListOf(String(enumeration=protocolEnumeration(DISCOVERY_PROTOCOLS, discoveryValues))),
                      get=lambda node: (node.data.discoveryProtocol,) if node.data.discoveryProtocol else ()),
            Parameter("DiscoveryProtocolReference", ListOf(String()), get=lambda node: ()),
        ))
    return Object("ManagementServer", *children)


def _discovery(device: Any) -> tuple[str, ...]:
    return (device.discoveryProtocol,) if device.discoveryProtocol else ()


def _time(seconds: Optional[float]) -> Any:
    """A clock's seconds as a DateTime value; None is TR-106's Unknown Time."""
    if seconds is None:
        return UNKNOWN_TIME
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def observeSettings(model: TreeDataModel, settings: Any, prefix: str = MANAGEMENT_SERVER) -> None:
    """
    Tell C{model} when a setting changes by any other way than the ACS's
    SetParameterValues (which the tree already knows not to report).
    """

    settings.observe(_SettingsObserver(model, prefix))


class _SettingsObserver:
    """Tells a tree of its endpoint's settings changed: two slots rather than a partial (one a device, issue 19)."""

    __slots__ = ("model", "prefix")

    def __init__(self, model: TreeDataModel, prefix: str) -> None:
        self.model = model
        self.prefix = prefix

    def __call__(self, name: str, old: Any, new: Any) -> None:
        parameter = SETTINGS_PARAMETERS.get(name)
        if parameter is not None:
            self.model.changed(self.prefix + parameter)


class VirtualDeviceTable:
    """
    Keeps C{Device.ManagementServer.VirtualDevice.{i}.} in step with the
    devices the protocols report (a L{DeviceDirectory} listener). Each
    device keeps its instance number across restarts (by its key), and
    C{VirtualDeviceNumberOfEntries} changes reach the change listeners
    (TR-330 §4.3.1: "4 VALUE CHANGE" when notification is set on it).
    """

    log = Logger()

    def __init__(self, model: TreeDataModel, tablePath: str = VIRTUAL_DEVICE_TABLE) -> None:
        self.model = model
        self.tablePath = tablePath

    def attach(self, directory: Any) -> None:
        """Listen to C{directory} (told at once of the devices it knows)."""
        directory.addListener(self)

    def deviceAppeared(self, device: Any) -> None:
        try:
            number = self.model.addInstance(self.tablePath, key=device.key, data=device)
        except KeyError:
            self.log.warn("device {key} appeared twice; its VirtualDevice row is kept", key=device.key)
            return
        self.log.info("VirtualDevice.{number} is {device}", number=number, device=str(device.identity))

    def deviceRemoved(self, device: Any) -> None:
        self.model.removeInstance(self.tablePath, key=device.key)
