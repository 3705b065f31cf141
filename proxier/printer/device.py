# -*- test-case-name: tests.test_printer_device -*-
"""
One IPP printer as one Virtual CWMP Device (TR-069 Annex J; PRINTERS.md §1,
§5, §6), on the shared core's L{ProxiedDevice}.

    PrinterPoller ──IPollObserver──▶ PrinterDevice ──IDeviceObserver──▶ the CWMP endpoint
          │ fetch                        │ (offline / online / "1 BOOT")
          ▼                              ▼
      ActionGate ──callAction──▶ IPPTarget ──▶ IPPClient ──▶ the printer
          ▲
          └── PrinterModel (IDataModel): SetParameterValues, Reboot

Every IPP operation on the printer — polls, writes, the restart — goes
through its one L{ActionGate} (one at a time), so a write and its read-back
are never interleaved with a poll. Whether the printer answers is the
poller's to say (C{offline_after_failures} polls in a row), not the gate's.

The device's own model (L{PrinterModel}) is a L{TreeDataModel} of
C{Device.RootDataModelVersion}, C{Device.DeviceInfo.} and, from
L{proxier.printer.model}, C{Device.Services.PrintService.1.}; the proxier
mounts its ManagementServer and ProxierInfo over it. Its values are the
printer's last answer (L{PrinterDevice.attributes}); after each answer the
tree is compared with its baselines (C{TreeDataModel.poll}), which is where
"4 VALUE CHANGE" comes from — never while the printer is silent.

A printer known from an earlier run starts offline until it answers; one
found now starts online with the answer that found it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from twisted.internet.defer import Deferred, fail
from twisted.python.failure import Failure
from zope.interface import implementer

from proxier.datamodel.capabilities import INotifyingDataModel
from proxier.datamodel.declarations import FORCE_ENABLED, Object, Parameter, Table
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.tree import PARAMETER_METHODS, TreeDataModel
from proxier.datamodel.types import ListOf, String, UnsignedInt
from proxier.datamodel.values import DeviceIdentity, ParameterValue
from proxier.interfaces import IDataModel, IRebaselining
from proxier.printer import ipp, model as printmodel
from proxier.printer.ippclient import IPPClient, IPPStatusError
from proxier.printer.poller import CHEAP_ATTRIBUTES, IPollObserver, PollSlots, PrinterPoller
from proxier.printer.settings import DISCOVERY_PROTOCOL, PROXY_PROTOCOL, PrinterSettings
from proxier.proxy.device import DeviceStatus, ProxiedDevice
from proxier.proxy.gate import ActionGate

__all__ = ["PrinterDevice", "PrinterModel", "IPPTarget", "ROOT_DATA_MODEL_VERSION", "SUPPORTED_DATA_MODELS",
           "SERVICE"]

ROOT_DATA_MODEL_VERSION = "2.17"
#: The service operations the gate is given (its C{service} argument).
SERVICE = "IPP"
#: TR-181 DeviceInfo.SupportedDataModel rows: (URN, URL) of the root model and of the print service
#: (its URN is the generated document's own, PRINTERS.md §3: not a BBF-published model).
SUPPORTED_DATA_MODELS = (
    ("urn:broadband-forum-org:tr-181-2-17-0", "Device:2.17"),
    ("urn:x-proxier:pwg-sm-printservice-1-0", printmodel.ROOT + ":1.0"),
)
#: Actions waiting for one printer at most (polls and the ACS's requests).
QUEUE_LIMIT = 16


class IPPTarget:
    """What the gate calls: one IPP operation, by name, on the printer's client."""

    def __init__(self, client: IPPClient) -> None:
        self.client = client

    def callAction(self, service: str, action: str, arguments: Mapping[str, Any], timeout: float) -> Deferred:
        if action == "Get-Printer-Attributes":
            return self.client.getPrinterAttributes(arguments["requested"])
        if action == "Set-Printer-Attributes":
            return self.client.setPrinterAttributes(arguments["attributes"])
        if action == "Restart":
            return self.client.restart(arguments["printer"])
        return fail(ValueError(f"no IPP action {action!r}"))


def _answered(failure: Failure) -> bool:
    """An IPP error status is the printer's answer all the same."""
    return failure.check(IPPStatusError) is not None


class _Attributes:
    """The printer's attributes as last read: a full read, updated by the cheap ones since."""

    def __init__(self) -> None:
        self.byName: dict[str, ipp.Attribute] = {}

    def update(self, group: Iterable[ipp.Attribute], full: bool) -> None:
        if full:
            self.byName = {}
        for attribute in group:
            self.byName[attribute.name] = attribute

    def group(self) -> ipp.AttributeGroup:
        return ipp.AttributeGroup(0x04, self.byName.values())

    def get(self, name: str, default: Any = None) -> Any:
        attribute = self.byName.get(name)
        return attribute.value if attribute is not None else default

    def getAll(self, name: str) -> list:
        attribute = self.byName.get(name)
        return [v.value for v in attribute.values] if attribute is not None else []


@implementer(IPollObserver)
class PrinterDevice(ProxiedDevice):
    """
    @param client: the printer's L{IPPClient}.
    @param store: the device's own store (its tree's state and its boot time).
    @param slots: the fleet's L{PollSlots}.
    @param found: the answer that found the printer (a full Get-Printer-
        Attributes), or None for a printer known from an earlier run.
    @param identify: C{identify(attributes)} → the L{DeviceIdentity} a full
        answer names (None when it names none).
    @param replaced: C{replaced(device, attributes)} when a full answer
        names another identity: another printer answers at this URL; this
        device stops and hears nothing more.
    """

    proxyProtocol = PROXY_PROTOCOL
    discoveryProtocol = DISCOVERY_PROTOCOL

    def __init__(self, identity: DeviceIdentity, url: str, client: IPPClient, store: Any, slots: PollSlots,
                 settings: PrinterSettings, clock: Any, *, found: Optional[ipp.AttributeGroup] = None,
                 identify: Optional[Callable[[Any], Optional[DeviceIdentity]]] = None,
                 replaced: Optional[Callable[["PrinterDevice", Any], None]] = None,
                 random: Optional[Callable[[], float]] = None) -> None:
        super().__init__(identity)
        self.identify = identify
        self.replaced = replaced
        self.url = url
        self.client = client
        self.clock = clock
        self.settings = settings
        self.host = client.origin.source
        self.attributes = _Attributes()
        self._state = store.document("printer")
        known = self._state.load(default={}, validate=_validateState)
        self.gate = ActionGate(lambda: IPPTarget(client), clock, refused=_answered, timeout=settings.requestTimeout,
                               concurrency=1, queueLimit=QUEUE_LIMIT, offlineAfter=settings.offlineAfterFailures,
                               name=str(identity))
        extra = {"random": random} if random is not None else {}
        self.poller = PrinterPoller(self._fetch, self, slots, clock, interval=settings.pollInterval,
                                    fullInterval=settings.fullPollInterval,
                                    offlineAfter=settings.offlineAfterFailures, bootTime=known.get("bootTime"),
                                    log=self.log, **extra)
        if found is not None:
            self.attributes.update(found, True)
            self.poller.seed(found)
            self._saveBootTime()
        else:
            self.status = DeviceStatus.OFFLINE  # until it answers: known from an earlier run only
        self.model = PrinterModel(self, store.child("datamodel"))

    # -- the polls ------------------------------------------------------------------------

    def start(self) -> None:
        self.poller.start()

    def stop(self) -> None:
        self.poller.stop()
        self.gate.cancelAll("the proxier stops")

    def _fetch(self, full: bool) -> Deferred:
        requested = ("all",) if full else CHEAP_ATTRIBUTES
        return self.gate.call(SERVICE, "Get-Printer-Attributes", {"requested": requested})

    # -- IPollObserver ----------------------------------------------------------------------

    def polled(self, attributes: Any, full: bool) -> None:
        if full and self.identify is not None and self.replaced is not None:
            identity = self.identify(attributes)
            if identity is not None and identity != self.identity:
                self.stop()
                self.replaced(self, attributes)
                return
        self.attributes.update(attributes, full)
        self._saveBootTime()
        self.model.refresh(full)

    def silent(self, reason: str) -> None:
        self._moveTo(DeviceStatus.OFFLINE, reason)

    def answering(self) -> None:
        self._moveTo(DeviceStatus.ONLINE)

    def restarted(self, expected: bool) -> None:
        self.log.info("restarted ({why}): \"1 BOOT\" follows", why="as asked" if expected else "printer-up-time")
        self._tellBooted()

    def _saveBootTime(self) -> None:
        bootTime = self.poller.bootTime
        if bootTime is not None and self._state.load(default={}, validate=_validateState).get("bootTime") != bootTime:
            self._state.save({"bootTime": bootTime})

    # -- what the model asks ------------------------------------------------------------------

    def restartOffered(self) -> bool:
        return IPPClient.restartOperation(self.attributes.group()) is not None

    def reboot(self) -> Deferred:
        """Restart-Printer / Restart-System; the restart is found by the polls that follow."""
        d = self.gate.call(SERVICE, "Restart", {"printer": self.attributes.group()})

        def sent(_: Any) -> None:
            self.poller.expectRestart()
            self.poller.pollNow()

        return d.addCallback(sent)

    def write(self, attributes: Sequence[ipp.Attribute]) -> Deferred:
        """Set-Printer-Attributes, then the same attributes read back (one gate turn each)."""
        names = [a.name for a in attributes]
        d = self.gate.call(SERVICE, "Set-Printer-Attributes", {"attributes": list(attributes)})
        d.addCallback(lambda _: self.gate.call(SERVICE, "Get-Printer-Attributes", {"requested": names}))

        def readBack(group: Any) -> Any:
            self.attributes.update(group, False)
            return group

        return d.addCallback(readBack)


def _validateState(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise ValueError("not a mapping")
    bootTime = payload.get("bootTime")
    if bootTime is not None and not isinstance(bootTime, (int, float)):
        raise ValueError("bootTime is not a number")


def deviceInfo(device: PrinterDevice) -> Object:
    """
    C{Device.DeviceInfo.} of a printer: its identity (PRINTERS.md §4),
    SoftwareVersion from C{printer-firmware-string-version}, UpTime from
    C{printer-up-time}, and the two models it supports.
    """
    identity = device.identity

    def firmware(node: Any) -> str:
        versions = device.attributes.getAll("printer-firmware-string-version")
        return str(versions[0])[:64] if versions else ""

    def upTime(node: Any) -> int:
        value = device.attributes.get("printer-up-time")
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0

    return Object(
        "DeviceInfo",
        Parameter("Manufacturer", String(64), value=identity.manufacturer[:64]),
        Parameter("ManufacturerOUI", String(6, minLength=6, patterns=("[0-9A-F]{6}",)), value=identity.oui),
        Parameter("ProductClass", String(64), value=identity.productClass[:64]),
        Parameter("SerialNumber", String(64), value=identity.serialNumber[:64]),
        Parameter("HardwareVersion", String(64), value="", forcedInform=True),
        Parameter("SoftwareVersion", String(64), get=firmware, activeNotify=FORCE_ENABLED, forcedInform=True),
        Parameter("ProvisioningCode", String(64), writable=True, persist=True, activeNotify=FORCE_ENABLED,
                  forcedInform=True),
        Parameter("UpTime", UnsignedInt(), get=upTime),
        Table(
            "SupportedDataModel",
            Parameter("URL", String(2048), get=lambda node: ""),
            Parameter("URN", String(256), get=lambda node: node.data[0]),
            Parameter("Features", ListOf(String()), get=lambda node: ()),
        ),
    )


@implementer(IDataModel, INotifyingDataModel, IRebaselining)
class PrinterModel:
    """
    The printer's data model: reads, attributes and change detection are
    its tree's; SetParameterValues and Reboot go to the printer.
    """

    def __init__(self, device: PrinterDevice, store: Any) -> None:
        self.device = device
        root = Object(
            "Device",
            Parameter("RootDataModelVersion", String(32), value=ROOT_DATA_MODEL_VERSION, forcedInform=True),
            deviceInfo(device),
            *printmodel.declare({}).children,
        )
        self.tree = TreeDataModel(root, store, log=device.log)
        for urn, name in SUPPORTED_DATA_MODELS:
            self.tree.addInstance("Device.DeviceInfo.SupportedDataModel.", key=urn, data=(urn, name))
        self.tree.addInstance(printmodel.SERVICE_TABLE, key="1", data=device)
        self.tree.startNotifications()

    def refresh(self, full: bool) -> None:
        """The printer answered: report what changed (parameters with Notification on)."""
        self.tree.poll()

    # -- IDataModel ----------------------------------------------------------------------------

    def supportedMethods(self) -> frozenset:
        return PARAMETER_METHODS | ({"Reboot"} if self.device.restartOffered() else set())

    def getParameterNames(self, path: str, nextLevel: bool) -> Deferred:
        return self.tree.getParameterNames(path, nextLevel)

    def getParameterValues(self, names: Sequence[str]) -> Deferred:
        return self.tree.getParameterValues(names)

    def getParameterAttributes(self, names: Sequence[str]) -> Deferred:
        return self.tree.getParameterAttributes(names)

    def setParameterAttributes(self, changes: Sequence[Any]) -> Deferred:
        return self.tree.setParameterAttributes(changes)

    def setParameterValues(self, values: Sequence[ParameterValue]) -> Deferred:
        return self.tree.setParameterValues(values)

    def addObject(self, path: str) -> Deferred:
        return self.tree.addObject(path)

    def deleteObject(self, path: str) -> Deferred:
        return self.tree.deleteObject(path)

    def reboot(self, commandKey: str) -> Deferred:
        if not self.device.restartOffered():
            return fail(CWMPFault(9000, "Method not supported (the printer offers no Restart-Printer)"))
        d = self.device.reboot()
        d.addErrback(lambda f: self._denied(f, "Restart-Printer"))
        return d

    def factoryReset(self) -> Deferred:
        return fail(CWMPFault(9000))

    def download(self, request: Any) -> Deferred:
        return fail(CWMPFault(9000))

    def upload(self, request: Any) -> Deferred:
        return fail(CWMPFault(9000))

    def _denied(self, failure: Failure, what: str) -> Failure:
        if failure.check(CWMPFault):
            return failure
        self.device.log.warn("{what} failed: {why}", what=what, why=failure.getErrorMessage())
        raise CWMPFault(9001, f"Request denied ({what}: {failure.getErrorMessage()[:200]})")

    # -- INotifyingDataModel, IRebaselining ------------------------------------------------------

    def addChangeListener(self, listener: Any) -> None:
        self.tree.addChangeListener(listener)

    def removeChangeListener(self, listener: Any) -> None:
        self.tree.removeChangeListener(listener)

    def rebaseline(self, *paths: str) -> None:
        self.tree.rebaseline(*paths)

