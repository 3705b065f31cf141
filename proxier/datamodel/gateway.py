# -*- test-case-name: tests.test_datamodel_gateway -*-
"""
The proxier's own Device:2 models.

 - L{proxierModel}: the tree of the proxier itself (the gateway's own CWMP
   endpoint): C{Device.RootDataModelVersion}, C{Device.DeviceInfo.} from
   the config's C{[device]} section, and C{Device.ManagementServer.} with
   its C{VirtualDevice.{i}.} table (TR-330 §4.3.1).
 - L{virtualDeviceLocalModel}: what the proxier holds itself for each
   Virtual CWMP Device (TR-330 §4.3.2): its C{Device.ManagementServer.} and
   C{Device.DeviceInfo.ProxierInfo.}; L{virtualDeviceModel} mounts it over
   the proxied device's own model.
 - L{embeddedDeviceModel}: the tree of the proxier running on one device as
   that device's own CWMP CPE (embedded mode): the device's own model with
   the proxier-held C{Device.ManagementServer.} mounted into it.

When a protocol uses the Embedded Object Mechanism (TR-069 Annex J.3,
L{proxier.proxy.embeddedobjects}; not embedded mode), L{proxierModel}
returns an L{EmbeddingProxierModel}: the tree above with each protocol's
table (C{Device.Services.PrintService.}) mounted over it, its
C{...NumberOfEntries}, the C{ManagementServer.EmbeddedDevice.{i}.} table
and the protocols' data models in C{DeviceInfo.SupportedDataModel}.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Callable, Mapping, Optional, Sequence

from zope.interface import implementer

from proxier._version import __version__
from proxier.datamodel.composite import CompositeDataModel
from proxier.datamodel.declarations import CAN_DENY, FORCE_ENABLED, Object, Parameter, Table
from proxier.datamodel.managementserver import (
    EMBEDDED_DEVICE_TABLE,
    ENDPOINT_MANAGEMENT_SERVER,
    MANAGEMENT_SERVER,
    EndpointData,
    PROXY_PROTOCOLS,
    VirtualDeviceTable,
    managementServer,
    observeSettings,
    protocolEnumeration,
)
from proxier.datamodel.standard import FORCED_INFORM, UUID_PATTERN, isUUID, supportedDataModelUUID
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import ListOf, String, UnsignedInt
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IForcedInform, IRebaselining
from proxier.proxy.embeddedobjects import EmbeddedObjects, EmbeddedObjectsSpec, EmbeddedObjectTable
from proxier.store import Store

__all__ = [
    "ROOT_DATA_MODEL_VERSION",
    "PROXIER_INFO",
    "VIRTUAL_DEVICE_MOUNTS",
    "SupportedDataModel",
    "ProxierModel",
    "proxierModel",
    "virtualDeviceLocalModel",
    "virtualDeviceModel",
    "embeddedDeviceModel",
    "EmbeddingProxierModel",
]

ROOT_DATA_MODEL_VERSION = "2.17"
#: The URN of the root data model every tree here declares (TR-181 Device:2.17).
ROOT_DATA_MODEL_URN = "urn:broadband-forum-org:tr-181-2-17-0"
PROXIER_INFO = "Device.DeviceInfo.ProxierInfo."
# Where the proxier-held objects of a Virtual CWMP Device are mounted.
VIRTUAL_DEVICE_MOUNTS = (MANAGEMENT_SERVER, PROXIER_INFO)

_OUI = String(6, minLength=6, patterns=("[0-9A-F]{6}",))


@dataclass(frozen=True)
class SupportedDataModel:
    """
    One C{Device.DeviceInfo.SupportedDataModel.{i}.} row (TR-181; TR-069 Annex J).
    A C{uuid} that is not a valid UUID (empty by default) is answered as
    L{supportedDataModelUUID} of the row's URN and URL.
    """

    url: str
    urn: str
    features: tuple[str, ...] = ()
    uuid: str = ""


@implementer(IForcedInform)
class ProxierModel(TreeDataModel):
    """
    The proxier's own tree: a L{TreeDataModel} that also keeps its
    C{VirtualDevice} table in step with a device directory. Its root is
    Device:2, so its Informs carry TR-181's forced-inform parameters.

    @ivar virtualDevices: the L{VirtualDeviceTable} listener.
    """

    virtualDevices: VirtualDeviceTable
    forcedInform = FORCED_INFORM


def _uptime(clock: Any) -> Callable[[Any], int]:
    start = clock.seconds()
    return lambda node: max(0, int(clock.seconds() - start))


def _deviceInfo(identity: DeviceIdentity, deviceConfig: Mapping[str, Any], clock: Any,
                supportedDataModels: Sequence[SupportedDataModel]) -> Object:
    softwareVersion = deviceConfig.get("software_version") or __version__
    return Object(
        "DeviceInfo",
        Parameter("Manufacturer", String(64), value=identity.manufacturer[:64]),
        Parameter("ManufacturerOUI", _OUI, value=identity.oui),
        Parameter("ProductClass", String(64), value=identity.productClass[:64]),
        Parameter("SerialNumber", String(64), value=identity.serialNumber[:64]),
        Parameter("HardwareVersion", String(64), value=deviceConfig.get("hardware_version", "")[:64],
                  forcedInform=True),
        Parameter("SoftwareVersion", String(64), value=softwareVersion[:64], activeNotify=FORCE_ENABLED,
                  forcedInform=True),
        Parameter("ProvisioningCode", String(64), value=deviceConfig.get("provisioning_code", "")[:64],
                  writable=True, persist=True, activeNotify=FORCE_ENABLED, forcedInform=True),
        Parameter("UpTime", UnsignedInt(), get=_uptime(clock), activeNotify=CAN_DENY),
        Table(
            "SupportedDataModel",
            Parameter("URL", String(2048), get=lambda node: node.data.url),
            Parameter("UUID", String(36, minLength=36, patterns=(UUID_PATTERN,)), get=lambda node: node.data.uuid),
            Parameter("URN", String(256), get=lambda node: node.data.urn),
            Parameter("Features", ListOf(String()), get=lambda node: tuple(node.data.features)),
        ),
    )


def proxierModel(
    identity: DeviceIdentity,
    deviceConfig: Mapping[str, Any],
    settings: Any,
    connectionRequestURL: Callable[[], str],
    store: Store,
    *,
    directory: Any = None,
    clock: Any = None,
    supportedDataModels: Optional[Sequence[SupportedDataModel]] = None,
    hostReference: Optional[Callable[[Any], Sequence[str]]] = None,
    handlers: Optional[Mapping[str, Callable[..., Any]]] = None,
    reportForcedInform: bool = False,
    protocols: Sequence[Any] = (),
    embedded: Sequence[EmbeddedObjectsSpec] = (),
    embeddedDirectory: Any = None,
    adaptEmbedded: Optional[Callable[[Any], Any]] = None,
    log: Any = None,
) -> Any:
    """
    The data model of the proxier's own endpoint.

    @param identity: the proxier's DeviceIdentity (Manufacturer, OUI,
        ProductClass, SerialNumber, as the endpoint's Inform carries them).
    @param deviceConfig: the C{[device]} config section (hardware_version,
        software_version (empty: the proxier's version), provisioning_code).
        A provisioning code the operator changes in the file replaces the
        one the ACS set; otherwise the ACS's value persists.
    @param settings: the endpoint's L{EndpointSettings}.
    @param connectionRequestURL: gives the endpoint's Connection Request URL.
    @param store: the endpoint's store; the tree keeps its state in its
        child C{datamodel}.
    @param directory: the service tree's L{DeviceDirectory}; its devices are
        the C{VirtualDevice} rows.
    @param clock: C{seconds()} for UpTime (the reactor by default).
    @param supportedDataModels: the C{DeviceInfo.SupportedDataModel} rows;
        by default the one root data model the tree declares (TR-181
        Device:2.17, its URN; no DT instance URL).
    @param handlers: Reboot/FactoryReset/Download/Upload handlers, if the
        gateway offers them (see L{TreeDataModel}).
    @param reportForcedInform: report value changes of forced-inform
        parameters (ConnectionRequestURL, ProvisioningCode, ...) to change
        listeners too (see L{TreeDataModel}).
    @param protocols: the installed protocol plugins (L{IProxyProtocol}),
        whose values the C{VirtualDevice} rows may show.
    @param embedded: the tables of the protocols that use the Embedded
        Object Mechanism: the model is then an L{EmbeddingProxierModel}, its
        rows the devices of C{embeddedDirectory} (a DeviceDirectory or a
        view of it), each adapted by C{adaptEmbedded} (device →
        L{IEmbeddedObjects<proxier.proxy.embeddedobjects.IEmbeddedObjects>} or None).
    @return: a L{ProxierModel}, or with C{embedded} an L{EmbeddingProxierModel}.
    """
    if clock is None:
        from twisted.internet import reactor as clock  # type: ignore[no-redef]
    if supportedDataModels is None:
        supportedDataModels = (SupportedDataModel(url="", urn=ROOT_DATA_MODEL_URN),)
    supportedDataModels = list(supportedDataModels) + [
        SupportedDataModel(url="", urn=urn, features=tuple(features))
        for spec in embedded for urn, features in spec.supportedDataModels
        if urn not in {row.urn for row in supportedDataModels}]
    tables = {spec.table: EmbeddedObjectTable(spec.table) for spec in embedded}
    model: Any = None

    def supportedDataModelRows(urns: Sequence[str]) -> list[str]:
        table = "Device.DeviceInfo.SupportedDataModel."
        return [f"{table}{n}" for n in model.instances(table) if model.node(f"{table}{n}.").data.urn in urns]

    root = Object(
        "Device",
        Parameter("RootDataModelVersion", String(32, patterns=(r"2\.\d+",)), value=ROOT_DATA_MODEL_VERSION,
                  forcedInform=True),
        _deviceInfo(identity, deviceConfig, clock, supportedDataModels),
        managementServer(virtualDevices=True, hostReference=hostReference, protocols=protocols,
                         embeddedDevices=bool(embedded), supportedDataModelRows=supportedDataModelRows),
        *_tableCounts(tables),
    )
    treeStore = store.child("datamodel")
    model = ProxierModel(root, treeStore, handlers=handlers, reportForcedInform=reportForcedInform, log=log,
                         data=EndpointData(settings, connectionRequestURL))
    _configWins(model, treeStore, "Device.DeviceInfo.ProvisioningCode", deviceConfig.get("provisioning_code", ""))
    with model.batch():
        for row in supportedDataModels:
            if not isUUID(row.uuid):
                if row.uuid:
                    model.log.warn("SupportedDataModel {urn}: UUID {uuid!r} is not a UUID; "
                                   "a name-based one is answered", urn=row.urn, uuid=row.uuid[:40])
                row = replace(row, uuid=supportedDataModelUUID(row.urn, row.url))
            model.addInstance("Device.DeviceInfo.SupportedDataModel.", key=row.urn or row.url, data=row)
    observeSettings(model, settings)
    model.virtualDevices = VirtualDeviceTable(model)
    if directory is not None:
        model.virtualDevices.attach(directory)
    if not embedded:
        model.startNotifications()
        return model
    objects = EmbeddedObjects(model, tables, adaptEmbedded or (lambda device: None),
                              treeStore.child("embedded-objects"), clock, rowsTable=EMBEDDED_DEVICE_TABLE)
    if embeddedDirectory is not None:
        objects.attach(embeddedDirectory)
    model.startNotifications()
    return EmbeddingProxierModel(model, list(tables.values()), objects, log=log)


def _tableCounts(tables: Mapping[str, EmbeddedObjectTable]) -> list[Any]:
    """
    The C{...NumberOfEntries} of the embedded objects' tables, as children
    of C{Device.}: a parameter for a table in C{Device.}, an object holding
    it for one in C{Device.<Object>.} (C{Device.Services.PrintServiceNumberOfEntries}).
    """
    direct: list[Any] = []
    objects: dict[str, list[Any]] = {}
    for path, table in tables.items():
        parts = path.split(".")[:-1]
        if len(parts) not in (2, 3) or parts[0] != "Device":
            raise ValueError(f"an embedded objects' table is Device.<Table>. or Device.<Object>.<Table>.: {path!r}")
        count = Parameter(parts[-1] + "NumberOfEntries", UnsignedInt(), get=lambda node, t=table: len(t))
        if len(parts) == 2:
            direct.append(count)
        else:
            objects.setdefault(parts[1], []).append(count)
    return direct + [Object(name, *children) for name, children in objects.items()]


@implementer(IRebaselining)
class EmbeddingProxierModel(CompositeDataModel):
    """
    The proxier's own model when protocols use the Embedded Object
    Mechanism: its L{ProxierModel} at C{Device.} with the protocols'
    L{EmbeddedObjectTable}s mounted at their table paths.

    @ivar tree: the L{ProxierModel}.
    @ivar virtualDevices: its L{VirtualDeviceTable}.
    @ivar embeddedObjects: the L{EmbeddedObjects} listener filling the tables.
    """

    def __init__(self, tree: ProxierModel, tables: Sequence[EmbeddedObjectTable], objects: EmbeddedObjects, *,
                 log: Any = None) -> None:
        super().__init__([("Device.", tree)] + [(t.table, t) for t in tables], forcedInform=FORCED_INFORM, log=log)
        self.tree = tree
        self.virtualDevices = tree.virtualDevices
        self.embeddedObjects = objects

    def poll(self) -> None:
        """The own tree's changes (the embedded objects' come from their devices' models)."""
        self.tree.poll()

    def rebaseline(self, *paths: str) -> None:
        self.tree.rebaseline(*paths)


def _configWins(model: TreeDataModel, store: Store, path: str, configured: str) -> None:
    """
    A value seeded by the config and then set by the ACS: the ACS's value
    stays until the operator writes a new one in the file.
    """
    document = store.document("config-seen")
    seen = document.load(default={}, validate=_validateSeen)
    if seen.get(path) != configured:
        if path in seen:  # the operator changed it: the file wins
            model.setLocal(path, configured)
        seen = dict(seen, **{path: configured})
        document.save(seen)


def _validateSeen(payload: Any) -> None:
    if not isinstance(payload, dict) or not all(isinstance(v, str) for v in payload.values()):
        raise ValueError("not a mapping of text")


def virtualDeviceLocalModel(
    proxierIdentity: DeviceIdentity,
    proxyProtocol: str,
    settings: Any,
    connectionRequestURL: Callable[[], str],
    store: Store,
    *,
    reportForcedInform: bool = False,
    log: Any = None,
) -> TreeDataModel:
    """
    The objects the proxier holds for one Virtual CWMP Device: its
    C{Device.ManagementServer.} (bound to that endpoint's settings, without
    the VirtualDevice table) and C{Device.DeviceInfo.ProxierInfo.} (the
    proxier's identity and the proxy protocol). Mount it with the device's
    own model through L{virtualDeviceModel}.

    @param store: the Virtual CWMP Device endpoint's store; the tree keeps
        its state in its child C{datamodel}.
    """
    model = TreeDataModel(_virtualDeviceRoot(proxierIdentity, proxyProtocol), store.child("datamodel"),
                          reportForcedInform=reportForcedInform, log=log,
                          data=EndpointData(settings, connectionRequestURL))
    observeSettings(model, settings)
    model.startNotifications()
    return model


@lru_cache(maxsize=16)
def _virtualDeviceRoot(proxierIdentity: DeviceIdentity, proxyProtocol: str) -> Object:
    """
    The declaration of L{virtualDeviceLocalModel}'s tree: one for the
    Virtual CWMP Devices of a protocol (issue 19), whose endpoints are their
    trees' data.
    """
    return Object(
        "Device",
        ENDPOINT_MANAGEMENT_SERVER,
        Object(
            "DeviceInfo",
            Object(
                "ProxierInfo",
                Parameter("ManufacturerOUI", _OUI, value=proxierIdentity.oui),
                Parameter("ProductClass", String(64), value=proxierIdentity.productClass[:64]),
                Parameter("SerialNumber", String(64), value=proxierIdentity.serialNumber[:64]),
                Parameter("ProxyProtocol", String(enumeration=protocolEnumeration(PROXY_PROTOCOLS, [proxyProtocol])),
                          get=lambda node: proxyProtocol),
            ),
        ),
    )


def virtualDeviceModel(deviceModel: Any, localModel: Any,
                       extra: Sequence[tuple[str, Any]] = (), *, log: Any = None) -> CompositeDataModel:
    """
    The whole model of a Virtual CWMP Device: the proxied device's own model
    at C{Device.}, with the proxier-held objects inserted (TR-330 §4.3.2).
    Its root is Device:2: its Informs carry TR-181's forced-inform
    parameters (L{IForcedInform}), those the device lacks left out.

    @param extra: more C{(path, model)} mounts, for example diagnostics
        objects at C{Device.IP.Diagnostics.IPPing.}.
    """
    mounts = [("Device.", deviceModel)] + [(prefix, localModel) for prefix in VIRTUAL_DEVICE_MOUNTS]
    return CompositeDataModel(mounts + list(extra), forcedInform=FORCED_INFORM, log=log)


# embeddedDeviceModel's tree: its ManagementServer alone
_EMBEDDED_ROOT = Object("Device", ENDPOINT_MANAGEMENT_SERVER)


def embeddedDeviceModel(deviceModel: Any, settings: Any, connectionRequestURL: Callable[[], str], store: Store, *,
                        reportForcedInform: bool = False, log: Any = None) -> CompositeDataModel:
    """
    The whole model of the proxier running on one device as its own CWMP
    CPE: the device's own model at C{Device.} (its DeviceInfo and services)
    with C{Device.ManagementServer.} bound to the endpoint's settings
    mounted into it. Nothing of a proxier shows: this CPE proxies no device,
    so there is no C{VirtualDevice} table and no C{DeviceInfo.ProxierInfo}.
    Its root is Device:2 (L{IForcedInform}), as a Virtual CWMP Device's.

    @param store: the endpoint's store; the ManagementServer tree keeps its
        state in its child C{datamodel}.
    """
    local = TreeDataModel(_EMBEDDED_ROOT, store.child("datamodel"), reportForcedInform=reportForcedInform, log=log,
                          data=EndpointData(settings, connectionRequestURL))
    observeSettings(local, settings)
    local.startNotifications()
    return CompositeDataModel([("Device.", deviceModel), (MANAGEMENT_SERVER, local)], forcedInform=FORCED_INFORM,
                              log=log)
