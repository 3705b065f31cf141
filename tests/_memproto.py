# -*- test-case-name: tests.test_second_protocol -*-
"""
A second protocol plugin that lives only in the tests (issue 12 item 6):
a handful of in-memory devices, each with a small declared tree, proxied as
Virtual CWMP Devices by the same core as UPnP DM — to prove that adding a
protocol is one plugin and nothing changed in C{cwmp/} or C{datamodel/}.

    Bench (the devices themselves: what they measure, how often they booted)
      └── MemoryProtocol ──makeService──▶ MemoryService
                                            ├── MemoryDevice × n (IProxiedDevice)
                                            │     └── TreeDataModel (Device.DeviceInfo, Device.X_000000_Thing.)
                                            └── one poll timer (clock.callLater) calling each tree's poll()

The L{Bench} outlives the proxier: a test stops one L{ProxierService
<proxier.service.ProxierService>}, changes a thing, and starts another on
the same state directory, as a real device keeps running while its proxier
restarts.
"""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.plugin import IPlugin
from zope.interface import implementer

from proxier.config import Key, Section, integer
from proxier.datamodel.declarations import FORCE_ENABLED, Object, Parameter, Table
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import Boolean, Int, String
from proxier.datamodel.values import DeviceIdentity
from proxier.interfaces import IDataModel, IProxyProtocol
from proxier.proxy.device import DeviceStatus, ProxiedDevice
from proxier.store import Store

__all__ = ["OUI", "PROXY_PROTOCOL", "DISCOVERY_PROTOCOL", "SECTION", "Thing", "Bench", "MemoryDevice",
           "MemoryService", "MemoryProtocol"]

OUI = "000000"
#: TR-181 has no value for this protocol: TR-106 §3.3 vendor names (X_<OUI>_Name).
PROXY_PROTOCOL = "X_000000_MemoryDevice"
DISCOVERY_PROTOCOL = "X_000000_Memory"
THING = "Device.X_000000_Thing."

SECTION = Section(
    "x_000000_memory",
    "The in-memory test devices (tests only).",
    (
        Key("poll_interval", integer(1, 3600), "1",
            "Seconds between two looks at every device's values, for the parameters with Notification on."),
        Key("reboot_time", integer(0, 60), "1", "Seconds a device stays away while it reboots."),
    ),
)


class Thing:
    """
    One in-memory device as it is, whatever its proxier knows: its identity,
    the temperature it measures, its boots.
    """

    def __init__(self, serialNumber: str) -> None:
        self.identity = DeviceIdentity("Example Memory Co", OUI, "Thing", serialNumber)
        self.temperature = 20
        self.boots = 1

    def reboot(self) -> None:
        self.boots += 1


class Bench:
    """The in-memory devices on the "LAN": what the protocol discovers."""

    def __init__(self, count: int) -> None:
        self.things = [Thing(f"MEM-{n:04d}") for n in range(1, count + 1)]


def thingTree(thing: Thing) -> Object:
    """
    The device's data model, mounted where TR-181 puts such things: the
    identity Device.DeviceInfo holds (the forced-inform versions among them),
    and a vendor object with a polled reading, a writable persisted setting
    and a writable table with Alias.
    """
    identity = thing.identity
    return Object(
        "Device",
        Parameter("RootDataModelVersion", String(32), value="2.17", forcedInform=True),
        Object(
            "DeviceInfo",
            Parameter("Manufacturer", String(64), value=identity.manufacturer),
            Parameter("ManufacturerOUI", String(6), value=identity.oui),
            Parameter("ProductClass", String(64), value=identity.productClass),
            Parameter("SerialNumber", String(64), value=identity.serialNumber),
            Parameter("HardwareVersion", String(64), value="1", forcedInform=True),
            Parameter("SoftwareVersion", String(64), value="1.0", activeNotify=FORCE_ENABLED, forcedInform=True),
        ),
        Object(
            "X_000000_Thing",
            Parameter("Temperature", Int(-40, 125), get=lambda node: thing.temperature),
            Parameter("Label", String(64), writable=True, persist=True),
            Table(
                "Setpoint",
                Parameter("Enable", Boolean(), writable=True, persist=True),
                Parameter("Temperature", Int(-40, 125), value=20, writable=True, persist=True),
                writable=True, alias=True, persist=True, maxEntries=8,
            ),
        ),
    )


class MemoryDevice(ProxiedDevice):
    """
    One in-memory device as the proxier presents it: a L{TreeDataModel} over
    a L{Thing}, whose Reboot takes the device away (restarting) for
    C{rebootTime} seconds and brings it back booted ("1 BOOT"; the endpoint
    adds "M Reboot" for the reboot it asked for). Observers, the events
    waiting for the first one and the online/offline/restarting moves are
    the shared L{ProxiedDevice}'s.
    """

    proxyProtocol = PROXY_PROTOCOL
    discoveryProtocol = DISCOVERY_PROTOCOL
    host = "memory"

    def __init__(self, thing: Thing, store: Store, *, clock: Any, rebootTime: float) -> None:
        super().__init__(thing.identity)
        self.thing = thing
        self._clock = clock
        self._rebootTime = rebootTime
        self._back: Any = None
        self.model = TreeDataModel(thingTree(thing), store, handlers={"Reboot": self._reboot}, log=self.log)
        self.model.startNotifications()

    def _reboot(self, commandKey: str) -> None:
        self.log.info("rebooting (CommandKey {key!r})", key=commandKey)
        self._moveTo(DeviceStatus.RESTARTING, "it reboots")
        self._back = self._clock.callLater(self._rebootTime, self._booted)

    def _booted(self) -> None:
        self._back = None
        self.thing.reboot()
        self._tellBooted()
        self._moveTo(DeviceStatus.ONLINE)

    def stop(self) -> None:
        if self._back is not None and self._back.active():
            self._back.cancel()
        self._back = None


class MemoryService(Service):
    """
    Reports every thing of the bench as a device at start, and polls their
    trees every C{poll_interval} seconds (one timer for all, on the
    context's clock).
    """

    name = PROXY_PROTOCOL

    def __init__(self, context: Any, bench: Bench) -> None:
        read = SECTION.reader(context.config)
        self._context = context
        self._clock = context.reactor
        self._pollInterval = read("poll_interval")
        self._poll: Any = None
        self.devices = {
            thing.identity.key: MemoryDevice(thing, context.store.child("device-" + thing.identity.key),
                                             clock=context.reactor, rebootTime=read("reboot_time"))
            for thing in bench.things
        }
        context.registry.registerAdapter(_dataModelOf, (MemoryDevice,), IDataModel)

    def startService(self) -> None:
        super().startService()
        for device in self.devices.values():
            self._context.deviceAppeared(device)
        self._poll = self._clock.callLater(self._pollInterval, self._pollNow)

    def stopService(self) -> Any:
        if self._poll is not None and self._poll.active():
            self._poll.cancel()
        self._poll = None
        for device in self.devices.values():
            device.stop()
        return super().stopService()

    def _pollNow(self) -> None:
        for device in self.devices.values():
            if device.online:
                device.model.poll()
        self._poll = self._clock.callLater(self._pollInterval, self._pollNow)


def _dataModelOf(device: MemoryDevice) -> TreeDataModel:
    return device.model


@implementer(IPlugin, IProxyProtocol)
class MemoryProtocol:
    """C{[protocols] enabled = X_000000_MemoryDevice}; its keys are the C{[x_000000_memory]} section."""

    name = PROXY_PROTOCOL
    discoveryProtocol = DISCOVERY_PROTOCOL
    configSection = SECTION

    def __init__(self, bench: Bench) -> None:
        self.bench = bench

    def makeService(self, context: Any) -> MemoryService:
        return MemoryService(context, self.bench)
