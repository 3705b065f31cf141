# -*- test-case-name: tests.test_sim_device -*-
"""
One simulated UPnP DM device: a ManageableDevice:2 root device with
BasicManagement:2, ConfigurationManagement:2 and SoftwareManagement:2, its
identity, its boot and configuration identity (BOOTID.UPNP.ORG,
CONFIGID.UPNP.ORG), and its life.

Its states::

    OFF ──powerOn()──▶ UP ──reboot() / baselineReset()──▶ DOWN ──downtime──▶ UP
     ▲                 │ ▲                                                   │
     └─powerOff()──────┘ └──changeLocation(): ssdp:update, new BOOTID─────────┘

Going DOWN, the device sends byebye with the announcement TR-330 Table 1
maps (C{AboutToReboot}; C{AboutToBaselineReset}, plus C{AboutToReboot} when
the reset reboots), forgets its GENA subscriptions, diagnostics and
operations, answers HTTP 503, and after L{downtime} seconds comes back UP with
a new BOOTID and announces itself again. Configuration survives a reboot; a
baseline reset puts it back to the factory state. A reboot asked by an
action (BMS Reboot, BaselineReset, a firmware update) happens
L{rebootDelay} seconds after it, so that the action's answer goes out first.

Hooks for DeviceProtection (added later): L{SimulatedDevice.addService}
adds a service (before power-on; CONFIGID changes), L{secureLocation} is
announced as SECURELOCATION.UPNP.ORG, and L{SimulatedDevice.setAuthorizer}
installs the role check every service consults before an action (606 on
refusal).

Sans-IO but for the clock; the HTTP server (L{proxier.sim.web}), the SSDP
endpoint and the HTTP client (for GENA and firmware) are plugged in by
whoever runs the device (L{proxier.sim.fleet}).
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, fail

from proxier.datamodel.values import DeviceIdentity
from proxier.log import DeviceLogger
from proxier.sim.bms import BasicManagement
from proxier.sim.cms import ConfigurationManagement, formatTime
from proxier.sim.cmstree import Changes, Model, Schema
from proxier.sim.gena import CallbackPolicy, Notifier, Publisher
from proxier.sim.scpd import DeviceInfo, deviceDescription, serviceDescription
from proxier.sim.service import Authorizer, Service
from proxier.sim.servicetypes import MANAGEABLE_DEVICE_2
from proxier.sim.sms import SoftwareManagement
from proxier.sim.ssdp import Advertiser, SSDPSender

__all__ = ["Identity", "SimulatedDevice", "OFF", "UP", "DOWN", "UDN_NAMESPACE"]

OFF = "off"
UP = "up"
DOWN = "down"

#: Simulated devices' UDNs are UUIDv5 names in this namespace.
UDN_NAMESPACE = uuid.UUID("6f0c7d3e-2b51-5a7e-9d1c-5f3b1f0e7a42")
_MAX_BOOTID = 2**31 - 1


@dataclass(frozen=True)
class Identity:
    """
    What makes one simulated device itself: its UDN and its factory values
    (the placeholders of the data file).
    """

    udn: str
    serialNumber: str
    friendlyName: str
    manufacturer: str = "proxier"
    oui: str = "02C0DE"
    productClass: str = "SimDM"
    modelName: str = "proxier-sim ManageableDevice"
    modelNumber: str = "2"
    hardwareVersion: str = "HW-1"
    softwareVersion: str = "1.0.0"
    macAddress: str = "02:c0:de:00:00:00"

    @classmethod
    def forIndex(cls, index: int, seed: str = "proxier-sim", **overrides: str) -> "Identity":
        """The C{index}th device of a fleet: a stable UDN, serial number and MAC."""
        udn = f"uuid:{uuid.uuid5(UDN_NAMESPACE, f'{seed}/{index}')}"
        mac = "02:c0:de:{:02x}:{:02x}:{:02x}".format((index >> 16) & 255, (index >> 8) & 255, index & 255)
        identity = cls(udn=udn, serialNumber=f"SIM{index:06d}", friendlyName=f"Simulated device {index}",
                       macAddress=mac)
        return replace(identity, **overrides)

    def substitutions(self) -> dict[str, str]:
        return {
            "friendlyName": self.friendlyName,
            "manufacturer": self.manufacturer,
            "oui": self.oui,
            "productClass": self.productClass,
            "serialNumber": self.serialNumber,
            "modelName": self.modelName,
            "hardwareVersion": self.hardwareVersion,
            "softwareVersion": self.softwareVersion,
            "macAddress": self.macAddress,
        }

    @property
    def deviceIdentity(self) -> DeviceIdentity:
        return DeviceIdentity(self.manufacturer, self.oui, self.productClass, self.serialNumber)


class SimulatedDevice:
    """
    One device (see the module docstring for its states).

    @ivar state: L{OFF}, L{UP} or L{DOWN}.
    @ivar bootId: BOOTID.UPNP.ORG; a new one at each boot and address change.
    @ivar configId: CONFIGID.UPNP.ORG; changes when the description does.
    @ivar location: the description URL announced (set by the HTTP server).
    @ivar pathPrefix: the path under which the device's resources are served.
    @ivar secureLocation: the HTTPS description URL to announce as
        SECURELOCATION.UPNP.ORG, or C{""}.
    @ivar rebootDelay: seconds from a reboot-causing action to the byebye.
    @ivar downtime: seconds between byebye and alive across a reboot.
    @ivar baselineResetReboots: whether a baseline reset also announces
        AboutToReboot.
    @ivar actionDelay: seconds the device takes to answer each action (a
        slow device; the action itself takes effect at once).
    @ivar subscriptionRefusal: an HTTP status every SUBSCRIBE is refused
        with (a device that does not event: control points must poll), or None.
    """

    def __init__(
        self,
        identity: Identity,
        schema: Schema,
        clock: Any,
        *,
        address: str = "127.0.0.1/8",
        notifier: Optional[Notifier] = None,
        fetcher: Optional[Callable[[str, int], Deferred]] = None,
    ) -> None:
        self.identity = identity
        self.clock = clock
        self.log = DeviceLogger(identity.deviceIdentity)
        self.state = OFF
        self.bootId = 0
        self.configId = 1
        self.location = ""
        self.pathPrefix = "/"
        self.secureLocation = ""
        self.rebootDelay = 0.5
        self.downtime = 3.0
        self.baselineResetReboots = True
        self.actionDelay = 0.0
        self.subscriptionRefusal: Optional[int] = None
        self.deviceType = MANAGEABLE_DEVICE_2
        self.interface = ipaddress.ip_interface(address)
        self.softwareVersion = identity.softwareVersion
        self.bootTime = clock.seconds()
        self.boots = 0
        self._pending: Any = None
        self._coming: Any = None
        self._fetcher = fetcher
        self.model = Model(schema, identity.substitutions(), {
            "uptime": lambda: str(max(0, int(self.clock.seconds() - self.bootTime))),
            "now": lambda: formatTime(self.clock.seconds()),
        })
        self.bms = BasicManagement(self, clock, log=self.log)
        self.cms = ConfigurationManagement(self.model, clock, log=self.log)
        self.sms = SoftwareManagement(self, clock, log=self.log)
        self.services: list[Service] = [self.bms, self.cms, self.sms]
        self.cms.onChange(self._configurationChanged)
        self.advertiser: Optional[Advertiser] = None
        self.publishers: dict[str, Publisher] = {}
        self._notifier = notifier
        self.policy = CallbackPolicy([self.interface.network])
        for service in self.services:
            self._publish(service)

    @property
    def udn(self) -> str:
        return self.identity.udn

    def __repr__(self) -> str:
        return f"<SimulatedDevice {self.identity.serialNumber} {self.state} at {self.location or '-'}>"

    # -- wiring ------------------------------------------------------------

    def _publish(self, service: Service) -> None:
        if self._notifier is not None:
            self.publishers[service.shortName] = Publisher(service, self.clock, self._notifier, self.policy,
                                                           log=self.log)

    def setNotifier(self, notifier: Notifier) -> None:
        """The HTTP client that sends GENA NOTIFYs (given before power-on)."""
        self._notifier = notifier
        for service in self.services:
            if service.shortName not in self.publishers:
                self._publish(service)

    def setFetcher(self, fetcher: Callable[[str, int], Deferred]) -> None:
        """The bounded HTTP GET that fetches firmware images."""
        self._fetcher = fetcher

    def attachSSDP(self, sender: SSDPSender, **options: Any) -> Advertiser:
        """Announce this device through C{sender} (options: maxAge, host, searchPort, random)."""
        self.advertiser = Advertiser(self, sender, self.clock, **options)
        return self.advertiser

    def setLocation(self, baseURL: str, pathPrefix: str = "/") -> None:
        """Where the device's HTTP resources are served (before power-on)."""
        self.pathPrefix = "/" + pathPrefix.strip("/") + "/" if pathPrefix.strip("/") else "/"
        self.location = baseURL.rstrip("/") + self.pathPrefix + "description.xml"

    def addService(self, service: Service) -> None:
        """
        Add a service (DeviceProtection...): it is described, announced,
        controlled and evented like the DM services. The description
        changes, so CONFIGID does too.
        """
        if any(s.shortName == service.shortName for s in self.services):
            raise ValueError(f"a service is already served at {service.shortName!r}")
        self.services.append(service)
        self._publish(service)
        self.configId = (self.configId + 1) % (_MAX_BOOTID + 1)
        if self.state == UP and self.advertiser is not None:
            self.advertiser.start()

    def setAuthorizer(self, authorizer: Authorizer) -> None:
        """The role check every service applies before an action (606 when it says no)."""
        for service in self.services:
            service.authorizer = authorizer

    def service(self, shortName: str) -> Optional[Service]:
        for service in self.services:
            if service.shortName == shortName:
                return service
        return None

    def serviceTypes(self) -> list[str]:
        return [s.serviceType.serviceType for s in self.services]

    # -- descriptions --------------------------------------------------------

    def description(self) -> bytes:
        info = DeviceInfo(
            deviceType=self.deviceType,
            udn=self.identity.udn,
            friendlyName=self.identity.friendlyName,
            manufacturer=self.identity.manufacturer,
            modelName=self.identity.modelName,
            modelNumber=self.identity.modelNumber,
            serialNumber=self.identity.serialNumber,
            modelDescription="Simulated UPnP DM ManageableDevice:2",
        )
        return deviceDescription(info, self.services, self.pathPrefix, self.configId)

    def scpd(self, shortName: str) -> Optional[bytes]:
        service = self.service(shortName)
        return serviceDescription(service) if service is not None else None

    @property
    def baseURL(self) -> str:
        """The URL of the device's path prefix (C{http://host:port/prefix/})."""
        parts = urlsplit(self.location)
        return f"{parts.scheme}://{parts.netloc}{self.pathPrefix}"

    def logURL(self, name: str) -> str:
        return f"{self.baseURL}logs/{name}"

    # -- life ----------------------------------------------------------------

    def _nextBootId(self) -> int:
        candidate = max(self.bootId + 1, int(self.clock.seconds()))
        return candidate if candidate <= _MAX_BOOTID else 1

    def powerOn(self) -> None:
        """OFF → UP: boot and announce."""
        if self.state != OFF:
            return
        self._boot()

    def _boot(self) -> None:
        self._coming = None
        self.bootId = self._nextBootId()
        self.bootTime = self.clock.seconds()
        self.boots += 1
        self.state = UP
        self.cms.stop()
        self.bms.rebooted()
        self.sms.rebooted()
        self._setBinding("willReboot", "0")
        self._setBinding("willBaselineReset", "0")
        self.bms.record("Notice", f"boot {self.boots}, BOOTID {self.bootId}, firmware {self.softwareVersion}")
        self.log.info("up at {location} (BOOTID {bootId}, CONFIGID {configId})", location=self.location,
                      bootId=self.bootId, configId=self.configId)
        if self.advertiser is not None:
            self.advertiser.start()

    def _goDown(self, *announcements: str) -> None:
        self.state = DOWN
        if self.advertiser is not None:
            self.advertiser.stop(*announcements)
        for publisher in self.publishers.values():
            publisher.dropAll()
        self.cms.stop()
        self.bms.halt()
        self.sms.halt()

    def reboot(self, reason: str = "rebooted") -> None:
        """UP → DOWN (byebye AboutToReboot) → UP after L{downtime}."""
        if self.state != UP:
            return
        self._cancelPending()
        self.log.info("rebooting: {reason}", reason=reason)
        self._goDown("AboutToReboot")
        self._coming = self.clock.callLater(self.downtime, self._boot)

    def baselineReset(self) -> None:
        """
        UP → DOWN (byebye AboutToBaselineReset[, AboutToReboot]), factory
        state, → UP after L{downtime}.
        """
        if self.state != UP:
            return
        self._cancelPending()
        self.log.info("baseline reset")
        announcements = ("AboutToBaselineReset", "AboutToReboot") if self.baselineResetReboots else (
            "AboutToBaselineReset",)
        self._goDown(*announcements)
        self.cms.factoryReset()
        for log in self.bms.logs.values():
            log.clear()
        self._coming = self.clock.callLater(self.downtime, self._boot)

    def requestReboot(self, reason: str = "reboot requested by a control point", delay: Optional[float] = None) -> None:
        """Reboot L{rebootDelay} (or C{delay}) seconds from now — once, however often asked."""
        if self.state == UP and self._pending is None:
            self._setBinding("willReboot", "1")
            self._pending = self.clock.callLater(self.rebootDelay if delay is None else delay,
                                                 self._runPending, self.reboot, reason)

    def requestBaselineReset(self) -> None:
        """Reset to the factory state L{rebootDelay} seconds from now."""
        if self.state == UP:
            self._cancelPending()
            self._setBinding("willBaselineReset", "1")
            self._pending = self.clock.callLater(self.rebootDelay, self._runPending, self.baselineReset)

    def _runPending(self, f: Callable, *args: Any) -> None:
        self._pending = None
        f(*args)

    def _cancelPending(self) -> None:
        if self._pending is not None and self._pending.active():
            self._pending.cancel()
        self._pending = None

    def powerOff(self) -> None:
        """UP or DOWN → OFF, with a plain byebye when UP."""
        self._cancelPending()
        if self._coming is not None and self._coming.active():
            self._coming.cancel()
        self._coming = None
        if self.state == UP:
            self._goDown()
        self.state = OFF

    def powerCut(self) -> None:
        """→ OFF without a word: control points find out when max-age runs out."""
        self._cancelPending()
        if self._coming is not None and self._coming.active():
            self._coming.cancel()
        self._coming = None
        if self.advertiser is not None:
            self.advertiser.silence()
        for publisher in self.publishers.values():
            publisher.dropAll()
        self.cms.stop()
        self.bms.halt()
        self.sms.halt()
        self.state = OFF

    def changeLocation(self, baseURL: str, address: Optional[str] = None) -> None:
        """
        The device's address changes (UDA 1.1 §1.2.4): C{ssdp:update} with
        NEXTBOOTID, then alive with the new BOOTID and LOCATION.
        """
        nextBootId = self._nextBootId()
        if self.state == UP and self.advertiser is not None:
            self.advertiser.update(nextBootId)
        self.bootId = nextBootId
        self.setLocation(baseURL, self.pathPrefix)
        if address is not None:
            self.interface = ipaddress.ip_interface(address)
            self.policy.networks = [self.interface.network]
        if self.state == UP and self.advertiser is not None:
            self.advertiser.start()

    # -- what services ask of the device -------------------------------------

    def fetchAllowed(self, uri: str) -> bool:
        """
        Whether the device fetches from C{uri}: an address on loopback or on
        the device's own subnet, written as an IP literal (no name to
        resolve, so nothing can rebind it elsewhere).
        """
        try:
            host = urlsplit(uri).hostname or ""
            address = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            return False
        return address.is_loopback or address in self.interface.network

    def fetch(self, uri: str) -> Deferred:
        """A firmware image, through the bounded fetcher (SoftwareManagement)."""
        if not self.fetchAllowed(uri):
            return fail(PermissionError(f"{urlsplit(uri).hostname or uri} is neither loopback nor on this subnet"))
        if self._fetcher is None:
            return fail(RuntimeError("this device has no HTTP client"))
        return self._fetcher(uri, self.sms.diskFree + 1)

    def firmwareInstalled(self, version: str, uri: str, size: int) -> None:
        """A new firmware runs: every value derived from the version follows."""
        old, self.softwareVersion = self.softwareVersion, version
        self.model.setSubstitution("softwareVersion", version)
        values = self.model.placeholderValues("softwareVersion")
        for role, value in (("firmwareURI", uri), ("firmwareSize", str(size))):
            path = self.model.schema.bindings.get(role)
            if path is not None:
                values.append((path, value))
        self.cms.setLocalValues(values)
        self.bms.record("Notice", f"firmware {old} replaced by {version} from {uri}")
        self.log.info("firmware {old} → {new}", old=old, new=version)

    def _setBinding(self, role: str, value: str) -> None:
        path = self.model.schema.bindings.get(role)
        if path is not None and self.model.value(path) != value:
            self.cms.setLocal(path, value)

    def _configurationChanged(self, changes: Changes, local: bool) -> None:
        who = "the device" if local else "a control point"
        self.bms.record(
            "Informational",
            f"configuration changed by {who}: {len(changes.values)} values, "
            f"{len(changes.created)} instances created, {len(changes.deleted)} deleted",
        )
