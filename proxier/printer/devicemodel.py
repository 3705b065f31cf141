# -*- test-case-name: tests.test_printer_device -*-
"""
The data model of one printer's Virtual CWMP Device (PRINTERS.md §2-§5):

    Device.RootDataModelVersion, Device.DeviceInfo.       the printer's identity (§4), firmware, up-time
    Device.Services.PrintService.1.                       L{proxier.printer.model}'s tree, bound to
                                                          L{proxier.printer.ippsource}'s readings
    Device.Services.PrintService.1.X_000000_EWS.          an EWS adapter's parameters, only when one
                                                          matches the printer (L{proxier.printer.ews})

served by one L{TreeDataModel} (the proxier mounts ManagementServer and
ProxierInfo over it). Getters read the device's last L{Readings
<proxier.printer.ippsource.Readings>}; after each answer the table rows
(supplies, markers, trays, media used) follow the printer's native indexes
through the tree's durable instance map, and the tree compares values with
its baselines: "4 VALUE CHANGE" for parameters with Notification on.

With an SNMP source (an SNMP-only printer, or one whose IPP and SNMP
entries merged: L{proxier.printer.sources}) the paths SNMP serves are
bound too; without one, the tree is an IPP printer's alone.

Writable is per printer (§5): a parameter is writable only when its IPP
attribute is in this printer's C{printer-settable-attributes-supported}
or its SNMP object took a SET at probe time; elsewhere the ACS hears 9008.
SetParameterValues is all or nothing:

 1. everything is checked first (type, enumeration, size, writability);
 2. each IPP attribute or SNMP object is written through the protocol the
    device names for it (L{sources.writeProtocol}: Set-Printer-Attributes,
    or an SNMP SET with the write community) and read back through the
    same protocol; a value that did not take (cupsd answers successful-ok
    to some and changes nothing) fails the request with 9001, as does a
    refusal — except an SNMP object the agent says is not writable
    (notWritable, or snmpsim's noSuchInstance under status 0): 9008;
    sysContact over 255 octets is 9007 before any SET;
 3. on a failure the attributes already written are written back to their
    earlier values (best effort, logged), and the tree's own parameters
    (ProvisioningCode) are set only once every IPP write took;
 4. what the ACS set becomes the baseline: never reported back as a change.

A write from the gateway itself (the local console, L{ILocalWrites}) takes
the same way, but what the printer took is compared with the value last
reported: where Notification is on, it is the ACS's "4 VALUE CHANGE".

Parameters of an EWS adapter (PRINTERS.md §9) are read from the printer's
web server whenever a GetParameterValues reaches them, and written after
the IPP attributes, read back the same way (L{ews.EWSSettings}); their
requests take the printer's turn at its gate like every IPP operation.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, fail, inlineCallbacks
from zope.interface import implementer

from proxier.datamodel.capabilities import ILocalWrites, INotifyingDataModel, IValidatingDataModel
from proxier.datamodel.declarations import FORCE_ENABLED, Object, Parameter, Table
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.gateway import ROOT_DATA_MODEL_URN, ROOT_DATA_MODEL_VERSION
from proxier.datamodel.standard import UUID_PATTERN, supportedDataModelUUID
from proxier.datamodel.tree import PARAMETER_METHODS, TreeDataModel
from proxier.datamodel.types import ListOf, String, UnsignedInt, acceptValue
from proxier.datamodel.values import ParameterValue
from proxier.interfaces import IDataModel, IRebaselining
from proxier.printer import ews, ippsource, model as printmodel, snmpreader, snmpsource, sources
from proxier.proxy.embeddedobjects import DeviceObjects

__all__ = ["PrinterModel", "PrinterModels", "SUPPORTED_DATA_MODELS", "SERVICE_PATH"]

#: The printer's one print service instance.
SERVICE_PATH = printmodel.SERVICE_TABLE + "1."
#: Where a matching EWS adapter's parameters are mounted.
EWS_PATH = SERVICE_PATH + ews.OBJECT + "."
#: TR-181 DeviceInfo.SupportedDataModel rows, (URN, Features): the root model and the print service, whose
#: URN is the generated document's own (PRINTERS.md §3: the PWG's proposal, not a BBF-published model). Their
#: URL is empty and their UUID L{supportedDataModelUUID}'s, the same on every printer and after every restart.
SUPPORTED_DATA_MODELS = (
    (ROOT_DATA_MODEL_URN, ()),
    printmodel.DATA_MODEL,
)


def _upTime(readings: Any) -> int:
    value = readings.identity.upTime if readings.identity is not None else None
    return value if isinstance(value, int) and 0 <= value < 2**32 else 0


def deviceInfo(identity: Any, readings: Callable[[], Any]) -> Object:
    """
    C{Device.DeviceInfo.} of a printer: its identity (PRINTERS.md §4),
    SoftwareVersion from C{printer-firmware-string-version}, UpTime from
    C{printer-up-time}, and the two models it supports.
    """
    return Object(
        "DeviceInfo",
        Parameter("Manufacturer", String(64), value=identity.manufacturer[:64]),
        Parameter("ManufacturerOUI", String(6, minLength=6, patterns=("[0-9A-F]{6}",)), value=identity.oui),
        Parameter("ProductClass", String(64), value=identity.productClass[:64]),
        Parameter("SerialNumber", String(64), value=identity.serialNumber[:64]),
        Parameter("HardwareVersion", String(64), value="", forcedInform=True),
        Parameter("SoftwareVersion", String(64),
                  get=lambda node: readings().identity.softwareVersion if readings().identity else "",
                  activeNotify=FORCE_ENABLED, forcedInform=True),
        Parameter("ProvisioningCode", String(64), writable=True, persist=True, activeNotify=FORCE_ENABLED,
                  forcedInform=True),
        Parameter("UpTime", UnsignedInt(), get=lambda node: _upTime(readings())),
        Table(
            "SupportedDataModel",
            Parameter("URL", String(2048), get=lambda node: ""),
            Parameter("UUID", String(36, minLength=36, patterns=(UUID_PATTERN,)),
                      get=lambda node: supportedDataModelUUID(node.data[0], "")),
            Parameter("URN", String(256), get=lambda node: node.data[0]),
            Parameter("Features", ListOf(String()), get=lambda node: node.data[1]),
        ),
    )


def _refuseDirect(node: Any, value: Any) -> None:
    raise RuntimeError("a printer's parameters are written through PrinterModel.setParameterValues")


def bindings(readings: Callable[[], Any], settable: frozenset, snmp: bool = False) -> dict[str, printmodel.Binding]:
    """
    Every path L{ippsource} fills — with C{snmp}, and L{snmpsource} —
    bound to the device's current readings; the paths in C{settable}
    writable (PrinterModel writes them, never the tree).
    """
    doc = printmodel.document()
    out: dict[str, printmodel.Binding] = {}

    def scalar(path: str) -> Callable[[Any], Any]:
        empty = doc.parameters[path].type.default()
        return lambda node: readings().values.get(path, empty)

    def row(table: str, relative: str) -> Callable[[Any], Any]:
        empty = doc.parameters[table + relative].type.default()
        return lambda node: readings().rows.get(table, {}).get(node.data, {}).get(relative, empty)

    scalars = [p for p, _, _ in ippsource.SCALARS] + [ippsource.STATE_REASONS, ippsource.STATUS + "Id"] + [
        ippsource.RESOLUTION + f for f in ("CrossFeedDir", "FeedDir", "Units")]
    if snmp:
        scalars += [path for path in snmpsource.SCALARS if path not in scalars]
    for path in scalars:
        out[path] = printmodel.Binding(scalar(path), set=_refuseDirect if path in settable else None)
    for table, relatives in (sources.ROW_PATHS if snmp else ippsource.ROW_PATHS).items():
        for relative in relatives:
            out[table + relative] = printmodel.Binding(row(table, relative))
    return out


@implementer(IDataModel, IValidatingDataModel, INotifyingDataModel, IRebaselining, ILocalWrites)
class PrinterModel:
    """
    @param device: the L{PrinterDevice<proxier.printer.device.PrinterDevice>}:
        its C{identity}, C{readings}, C{settable}, C{log}, the IPP
        operations C{write(attributes)} and C{reboot()}, and for the EWS
        C{ewsClient(base)} and C{inTurn(run)}.
    @param store: the tree's store (state across restarts).
    @param adapters: the EWS adapters to look the printer up in (none
        shipped: L{ews.ADAPTERS}).
    @param embedded: the model of the printer's own CWMP CPE (the proxier
        runs on it, PRINTERS.md §11) rather than of a Virtual CWMP Device:
        it then lists Download, an RPC TR-069 requires of every CPE, and
        refuses every file type (L{download}).
    """

    def __init__(self, device: Any, store: Any, *, embedded: bool = False,
                 adapters: Sequence[Any] = ews.ADAPTERS) -> None:
        self.device = device
        self.store = store
        self.embedded = embedded
        self._listeners: list[Any] = []
        self._rows: dict[tuple[str, tuple[int, ...]], int] = {}
        self.settable = frozenset(device.settable)
        self.hasSNMP = device.hasSNMP
        self.adapters = tuple(adapters)
        self.adapter = self._adapter()
        self.ews: Optional[ews.EWSSettings] = None
        self.tree = self._build()

    def _build(self) -> TreeDataModel:
        device = self.device
        table = printmodel.printServiceTable(bindings(lambda: device.readings, self.settable, self.hasSNMP))
        self.ews = None
        if self.adapter is not None:
            self.ews = ews.EWSSettings(self.adapter, device.ewsClient(self._ewsBase()), device.inTurn, device.log)
            table = Table(table.name, *table.children, self.ews.declaration(_refuseDirect),
                          numberOfEntries=table.numberOfEntries)
        root = Object(
            "Device",
            Parameter("RootDataModelVersion", String(32), value=ROOT_DATA_MODEL_VERSION, forcedInform=True),
            deviceInfo(device.identity, lambda: device.readings),
            Object("Services", table),
        )
        tree = TreeDataModel(root, self.store, log=device.log)
        self._rows = {}
        self.tree = tree
        with tree.batch():
            for urn, features in SUPPORTED_DATA_MODELS:
                tree.addInstance("Device.DeviceInfo.SupportedDataModel.", key=urn, data=(urn, features))
            tree.addInstance(printmodel.SERVICE_TABLE, key="1")
            self._followRows()
        for listener in self._listeners:
            tree.addChangeListener(listener)
        tree.startNotifications()
        return tree

    # -- after each answer ----------------------------------------------------------------------

    def refresh(self) -> None:
        """
        The printer answered (the device's readings are new): the tree is
        declared again if what this printer can write or its EWS adapter
        changed, the table rows follow the printer's, and changes are
        reported.
        """
        adapter = self._adapter()
        if (frozenset(self.device.settable) != self.settable or adapter is not self.adapter
                or self.device.hasSNMP != self.hasSNMP):
            if frozenset(self.device.settable) != self.settable:
                self.device.log.info("the attributes it can set changed: its writable parameters follow")
            if adapter is not self.adapter:
                self.device.log.info("its EWS adapter is now {name}", name=adapter.name if adapter else "none")
            self.settable = frozenset(self.device.settable)
            self.hasSNMP = self.device.hasSNMP
            self.adapter = adapter
            for listener in self._listeners:
                self.tree.removeChangeListener(listener)
            self._build()
        else:
            if self.ews is not None:
                self.ews.client.base = self._ewsBase()
            self._followRows()
        self.tree.poll()

    def _adapter(self) -> Any:
        """The EWS adapter matching the printer's make and model, if any."""
        return ews.lookup(self.device.readings.values.get(ippsource.DESCRIPTION + "MakeAndModel", ""), self.adapters)

    def _ewsBase(self) -> str:
        """The web server's address: C{MoreInfoUri} when it is an http(s) URL, else the printer's host."""
        more = self.device.readings.values.get(ippsource.MORE_INFO, "")
        if urlsplit(more).scheme.lower() in ("http", "https"):
            return more
        host = self.device.client.origin.source
        return f"http://[{host}]/" if ":" in host else f"http://{host}/"

    def _rowPath(self, table: str, key: tuple[int, ...]) -> Optional[str]:
        """The concrete path of C{table}'s rows for C{key} (its outer rows must be there)."""
        parts = table.split("{i}.")
        path = SERVICE_PATH + parts[0]
        for depth in range(len(key) - 1):
            number = self._rows.get((_prefix(table, depth + 1), key[: depth + 1]))
            if number is None:
                return None
            path += f"{number}." + parts[depth + 1]
        return path

    def _followRows(self) -> None:
        with self.tree.batch():  # the rows one poll brings or takes, written once
            self._followRowsNow()

    def _followRowsNow(self) -> None:
        readings = self.device.readings
        tables = sources.ROW_PATHS if self.hasSNMP else ippsource.ROW_PATHS
        wanted = {(table, key) for table in tables for key in readings.rows.get(table, {})}
        # inner rows first out, outer rows first in
        for table, key in sorted(set(self._rows) - wanted, key=lambda tk: -tk[0].count("{i}")):
            path = self._rowPath(table, key)
            if path is not None:
                self.tree.removeInstance(path, key=_keyText(key))
            del self._rows[(table, key)]
        for table, key in sorted(wanted - set(self._rows), key=lambda tk: (tk[0].count("{i}"), tk[1])):
            path = self._rowPath(table, key)
            if path is None:
                self.device.log.info("{table} row {key}: its outer row is missing; left out", table=table, key=key)
                continue
            self._rows[(table, key)] = self.tree.addInstance(path, key=_keyText(key), data=key)

    # -- IDataModel -------------------------------------------------------------------------------

    def supportedMethods(self) -> frozenset:
        return (PARAMETER_METHODS | ({"Reboot"} if self.device.restartOffered() else set())
                | ({"FactoryReset"} if self.device.factoryResetOffered() else set())
                | ({"Download"} if self.embedded else set()))

    def getParameterNames(self, path: str, nextLevel: bool) -> Deferred:
        return self.tree.getParameterNames(path, nextLevel)

    def getParameterValues(self, names: Sequence[str]) -> Deferred:
        if self.ews is not None and any(_reaches(name, EWS_PATH) for name in names):
            return self._readEWS(names)
        return self.tree.getParameterValues(names)

    @inlineCallbacks
    def _readEWS(self, names: Sequence[str]) -> Any:
        """
        The EWS parameters read again first. When the web server fails, a
        name inside X_000000_EWS is 9002; a path above it is answered with
        the values last read (the IPP values need no web server).
        """
        assert self.ews is not None
        try:
            yield self.ews.read()
        except Exception as e:
            self.device.log.warn("reading the printer's web server failed: {why}", why=str(e)[:200])
            if any(name.startswith(EWS_PATH) for name in names):
                raise CWMPFault(9002, f"Internal error (printer web server: {str(e)[:200]})") from None
        result = yield self.tree.getParameterValues(names)
        return result

    def getParameterAttributes(self, names: Sequence[str]) -> Deferred:
        return self.tree.getParameterAttributes(names)

    def validateParameterAttributes(self, changes: Sequence[Any]) -> Deferred:
        return self.tree.validateParameterAttributes(changes)

    def setParameterAttributes(self, changes: Sequence[Any]) -> Deferred:
        return self.tree.setParameterAttributes(changes)

    def validateParameterValues(self, values: Sequence[ParameterValue]) -> Deferred:
        return self.tree.validateParameterValues(values)

    def setParameterValues(self, values: Sequence[ParameterValue]) -> Deferred:
        return self._setParameterValues(list(values), byACS=True)

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> Deferred:
        """L{ILocalWrites}: the same checks, writes, read-backs and undo; what was taken is reported, not baselined."""
        return self._setParameterValues(list(values), byACS=False)

    @inlineCallbacks
    def _setParameterValues(self, values: list[ParameterValue], byACS: bool) -> Any:
        tree = self.tree
        yield tree.validateParameterValues(values)
        changes: dict[str, Any] = {}  # relative path -> value, for the printer
        webChanges: dict[str, Any] = {}  # EWS parameter name -> value, for its web server
        local: list[ParameterValue] = []  # for the tree itself
        for pv in values:
            relative = pv.name[len(SERVICE_PATH):] if pv.name.startswith(SERVICE_PATH) else ""
            if relative in ippsource.WRITES or relative in snmpsource.WRITES:
                changes[relative] = acceptValue(tree.parameter(pv.name).type, pv.value, pv.type)
            elif self.ews is not None and pv.name.startswith(EWS_PATH):
                webChanges[pv.name[len(EWS_PATH):]] = acceptValue(tree.parameter(pv.name).type, pv.value, pv.type)
            else:
                local.append(pv)
        written: list[tuple[str, Mapping[str, Any]]] = []  # each write's protocol and earlier values, to restore
        webEarlier: Mapping[str, Any] = {}
        status = 0
        try:
            for (protocol, attribute), group in _byAttribute(changes, self.device.writeProtocol).items():
                before = {path: self.device.readings.values.get(path) for path in _siblings(protocol, attribute)}
                yield self._write(protocol, attribute, group)
                written.append((protocol, before))
            if webChanges:
                assert self.ews is not None
                webEarlier = yield self.ews.write(webChanges)
            if local:
                status = yield (tree.setParameterValues if byACS else tree.setParameterValuesLocally)(local)
        except Exception:
            if webEarlier:
                assert self.ews is not None
                yield self.ews.restore(webEarlier)
            for protocol, before in reversed(written):
                yield self._restore(protocol, before)
            raise
        taken = [SERVICE_PATH + path for path in changes] + [EWS_PATH + name for name in webChanges]
        if byACS:
            tree.rebaseline(*taken)
        elif taken:
            tree.changed(*taken)  # the read-back is the device's readings now
        return status

    @inlineCallbacks
    def _write(self, protocol: str, attribute: str, changes: Mapping[str, Any]) -> Any:
        """Write one attribute (or SNMP object) and read it back; 9001 when refused or when the value did not take."""
        if protocol == sources.SNMP:
            yield self._writeSNMP(attribute, changes)
            return
        try:
            attributes = ippsource.encodeWrites(changes, self.device.readings.values)
        except ippsource.WriteError as e:
            raise CWMPFault(9007, f"Invalid parameter value ({e})") from None
        try:
            group = yield self.device.write(attributes)
        except Exception as e:
            self.device.log.warn("writing {attribute} failed: {why}", attribute=attribute, why=str(e))
            raise CWMPFault(9001, f"Request denied ({attribute}: {str(e)[:200]})") from None
        missed = ippsource.notTaken(changes, ippsource.read(group))
        if missed:
            self.device.log.warn("the printer answered the write of {attribute} but did not take it", attribute=attribute)
            raise CWMPFault(9001, f"Request denied (the printer did not take {attribute})")

    @inlineCallbacks
    def _writeSNMP(self, name: str, changes: Mapping[str, Any]) -> Any:
        """
        SET one object and read it back through SNMP: 9007 when it does not
        fit the object, 9008 when the agent says it is not writable, 9001
        when refused otherwise or when the value did not take.
        """
        try:
            varBinds = snmpsource.encodeWrites(changes)
        except ippsource.WriteError as e:
            raise CWMPFault(9007, f"Invalid parameter value ({e})") from None
        try:
            readings = yield self.device.writeSNMP(varBinds)
        except Exception as e:
            self.device.log.warn("setting {name} failed: {why}", name=name, why=str(e))
            if snmpreader.notWritable(e):
                raise CWMPFault(9008, f"Attempt to set a non-writable parameter ({name}: the printer's SNMP agent "
                                      "does not let it be set)") from None
            raise CWMPFault(9001, f"Request denied ({name}: {str(e)[:200]})") from None
        if ippsource.notTaken(changes, readings):
            self.device.log.warn("the printer answered the SET of {name} but did not take it", name=name)
            raise CWMPFault(9001, f"Request denied (the printer did not take {name})")

    @inlineCallbacks
    def _restore(self, protocol: str, before: Mapping[str, Any]) -> Any:
        """Write an attribute or object back to its earlier value (best effort: a failure is logged)."""
        known = {path: value for path, value in before.items() if value is not None}
        if not known:
            self.device.log.warn("cannot restore {paths}: no earlier value was read", paths=sorted(before))
            return
        try:
            if protocol == sources.SNMP:
                yield self.device.writeSNMP(snmpsource.encodeWrites(known))
            else:
                yield self.device.write(ippsource.encodeWrites(known, self.device.readings.values))
        except Exception as e:
            self.device.log.warn("restoring {paths} failed: {why}", paths=sorted(known), why=str(e))

    def addObject(self, path: str) -> Deferred:
        return self.tree.addObject(path)

    def deleteObject(self, path: str) -> Deferred:
        return self.tree.deleteObject(path)

    def reboot(self, commandKey: str) -> Deferred:
        if not self.device.restartOffered():
            return fail(CWMPFault(9000, "Method not supported (the printer offers no Restart-Printer)"))
        d = self.device.reboot()

        def denied(failure: Any) -> Any:
            self.device.log.warn("the restart failed: {why}", why=failure.getErrorMessage())
            raise CWMPFault(9001, f"Request denied (restart: {failure.getErrorMessage()[:200]})")

        return d.addErrback(denied)

    def factoryReset(self) -> Deferred:
        """prtGeneralReset resetToFactoryDefaults(6) where the printer took a SET of it (IPP has no factory reset)."""
        if not self.device.factoryResetOffered():
            return fail(CWMPFault(9000, "Method not supported (IPP has no factory reset, and no SNMP "
                                        "prtGeneralReset is writable)"))
        d = self.device.factoryReset()

        def denied(failure: Any) -> Any:
            self.device.log.warn("the factory reset failed: {why}", why=failure.getErrorMessage())
            raise CWMPFault(9001, f"Request denied (factory reset: {failure.getErrorMessage()[:200]})")

        return d.addErrback(denied)

    def download(self, request: Any) -> Deferred:
        """
        IPP has no way to take a file, a firmware image least of all: the
        embedded CPE refuses every FileType (TR-069 A.3.2.8 defines them) as
        one it does not support. The CPE fault codes (cwmp-1-2.xsd,
        CPEFaultCodeType) have none of their own for that: 9013 is about the
        URL's transfer protocol, 9010-9020 about a transfer that was tried,
        and 9000 would deny Download itself, which TR-069 requires of every
        CPE. What is refused is one argument's value, so: 9003 "Invalid
        arguments".
        """
        if not self.embedded:
            return fail(CWMPFault(9000))
        return fail(CWMPFault(9003, f"Invalid arguments (FileType {request.fileType[:64]!r} is not supported: "
                                    "this printer takes no file through IPP)"))

    def upload(self, request: Any) -> Deferred:
        return fail(CWMPFault(9000))

    # -- INotifyingDataModel, IRebaselining ------------------------------------------------------

    def addChangeListener(self, listener: Any) -> None:
        self._listeners.append(listener)
        self.tree.addChangeListener(listener)

    def removeChangeListener(self, listener: Any) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)
            self.tree.removeChangeListener(listener)

    def rebaseline(self, *paths: str) -> None:
        self.tree.rebaseline(*paths)


class PrinterModels:
    """
    A printer device's models (mixed into its device class): C{model}, its
    Virtual CWMP Device's, and — made when the Embedded Object Mechanism
    first asks (L{embeddedObjects}) — a second one for its
    C{Device.Services.PrintService.{i}.} row in the proxier's own tree, with
    its own Notification attributes and baselines (C{[printer] mechanism =
    both} must not share them between two endpoints). Both follow every
    answer of the printer (L{refreshModels}).

    The device sets C{model}, C{clock} and C{modelStore} (its store).
    """

    model: PrinterModel
    clock: Any
    modelStore: Any
    #: when the printer's readings were last new (the embedded objects' LastSyncTime), None before
    lastRead: Optional[float] = None
    _embeddedModel: Optional[PrinterModel] = None

    def embeddedObjects(self) -> DeviceObjects:
        """The device's L{IEmbeddedObjects<proxier.proxy.embeddedobjects.IEmbeddedObjects>}."""
        if self._embeddedModel is None:
            self._embeddedModel = PrinterModel(self, self.modelStore.child("embedded-objects"),
                                               adapters=self.model.adapters)
        return DeviceObjects(printmodel.SERVICE_TABLE, SERVICE_PATH, self._embeddedModel, (printmodel.DATA_MODEL[0],),
                             synchronized=lambda: self.lastRead)

    def refreshModels(self) -> None:
        """The printer answered: every model follows (L{PrinterModel.refresh})."""
        self.lastRead = self.clock.seconds()
        self.model.refresh()
        if self._embeddedModel is not None:
            self._embeddedModel.refresh()


def _prefix(table: str, depth: int) -> str:
    """The outer table at C{depth} (1: the outermost) of a nested table path."""
    parts = table.split("{i}.")
    return "{i}.".join(parts[:depth]) + "{i}."


def _reaches(name: str, path: str) -> bool:
    """Whether a GetParameterValues name (a parameter or a partial path) covers something in C{path}."""
    return name.startswith(path) or ((name == "" or name.endswith(".")) and path.startswith(name))


def _keyText(key: tuple[int, ...]) -> str:
    return str(key[-1])


def _writes(protocol: str) -> Mapping[str, str]:
    return snmpsource.WRITES if protocol == sources.SNMP else ippsource.WRITES


def _siblings(protocol: str, attribute: str) -> list[str]:
    """Every path one attribute writes (the three Resolution fields write one value)."""
    return [path for path, name in _writes(protocol).items() if name == attribute]


def _byAttribute(changes: Mapping[str, Any],
                 protocolOf: Callable[[str], Optional[str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The changes by (protocol, attribute or object) that writes them (every path checked writable before)."""
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for path, value in changes.items():
        protocol = protocolOf(path) or sources.IPP
        grouped.setdefault((protocol, _writes(protocol)[path]), {})[path] = value
    return grouped
