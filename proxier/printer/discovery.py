# -*- test-case-name: tests.test_printer_discovery -*-
"""
Printers found by DNS-SD (PRINTERS.md §8): what the mDNS querier
(L{proxier.lan.mdns}) resolves for the printer service types, as printer
candidates — plain data, sans-IO.

 - C{_ipp._tcp} and C{_ipps._tcp}: an IPP printer; its URL is the scheme,
   the host's address, the SRV port and the TXT C{rp} (the resource path,
   Bonjour Printing 1.2 §9.2.4; C{ipp/print} for IPP Everywhere).
 - C{_pdl-datastream._tcp} (raw port 9100) and C{_printer._tcp} (LPD): a
   printer that may speak SNMP only; the candidate names the address to
   probe with SNMP (PRINTERS.md §8), and no IPP URL.

Every type carries the TXT keys read here: C{UUID} (the printer's UUID, the
first key PRINTERS.md §8 merges on, given as C{printer-uuid} writes it:
C{urn:uuid:…}), C{adminurl} (the embedded web server, §9), C{note} (the
location) and C{ty} (make and model). A port of 0 is the Bonjour
placeholder for "not offered" and yields no candidate; so does an instance
whose addresses are all unusable, or whose C{rp} is not a path.

The URL holds the address the querier resolved, not the C{.local} name: the
gateway resolves no mDNS names. A forged answer costs nothing, so the
address must pass the URL policy (L{proxier.lan.urlpolicy.addressRefusal})
against the responder and the receiving interface: the responder itself or
an address on that interface's subnet, never the gateway's own, loopback,
multicast or broadcast. IPv4 is preferred, then a routable IPv6 address,
then a link-local one with its zone (RFC 6874).
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from typing import Callable, Optional
from urllib.parse import quote, urlsplit

from twisted.logger import Logger

from proxier.lan.mdns import APPEARED, CHANGED, GONE, InstanceEvent, ServiceInstance
from proxier.lan.netif import NetworkInterface
from proxier.lan.urlpolicy import Origin, addressRefusal
from proxier.printer.settings import DNS_SD_DISCOVERY_PROTOCOL

__all__ = [
    "IPP",
    "IPPS",
    "PDL_DATASTREAM",
    "LPD",
    "SERVICE_TYPES",
    "DISCOVERY_PROTOCOL",
    "CandidateRefused",
    "PrinterCandidate",
    "candidateOf",
    "CandidateTracker",
]

IPP = "_ipp._tcp.local"
IPPS = "_ipps._tcp.local"
PDL_DATASTREAM = "_pdl-datastream._tcp.local"
LPD = "_printer._tcp.local"
SERVICE_TYPES = (IPP, IPPS, PDL_DATASTREAM, LPD)
#: ManagementServer.VirtualDevice.{i}.DiscoveryProtocol of a printer found so (PRINTERS.md §3).
DISCOVERY_PROTOCOL = DNS_SD_DISCOVERY_PROTOCOL

#: The URL scheme of each IPP service type.
_SCHEMES = {IPP: "ipp", IPPS: "ipps"}
#: The longest TXT text value kept (longer ones are cut): SM ServiceLocation allows 127 characters.
MAX_TEXT = 255
_MAX_PATH = 255
_MAX_ADMIN_URL = 2048


class CandidateRefused(ValueError):
    """A service instance that is no printer candidate; C{str()} says why, for a log line."""


@dataclass(frozen=True)
class PrinterCandidate:
    """
    A printer advertised by DNS-SD.

    @ivar key: the advertisement's identity, C{interface/instance name}
        (lower-case): the same printer advertised under two types is two
        candidates, merged later on C{uuid} (PRINTERS.md §8).
    @ivar ippURL: C{ipp://} or C{ipps://}, for the IPP types; else C{None}.
    @ivar snmpAddress: the address to probe over SNMP, for the raw and LPD
        types; else C{None}.
    @ivar uuid: C{urn:uuid:…} in lower case, or C{None}.
    @ivar adminURL: the TXT C{adminurl} when it is an http(s) URL, or C{None}.
    @ivar location: the TXT C{note}, or C{None}.
    @ivar makeAndModel: the TXT C{ty}, or C{None}.
    """

    key: str
    name: str
    serviceType: str
    interface: str
    host: str
    port: int
    address: str
    ippURL: Optional[str] = None
    snmpAddress: Optional[str] = None
    uuid: Optional[str] = None
    adminURL: Optional[str] = None
    location: Optional[str] = None
    makeAndModel: Optional[str] = None
    discoveryProtocol: str = DISCOVERY_PROTOCOL

    @property
    def url(self) -> Optional[str]:
        """Where its device talks to the printer (for L{proxier.printer.lifecycle})."""
        return self.ippURL

    @property
    def label(self) -> str:
        """It, for a log line."""
        return f"{self.name} ({self.serviceType}) at {self.ippURL or self.address}"


def candidateOf(instance: ServiceInstance, interface: NetworkInterface) -> PrinterCandidate:
    """
    The printer candidate a resolved instance advertises.

    @param interface: the interface it was heard on.

    @raise CandidateRefused: it advertises none (port 0, no usable address,
        a bad C{rp}, a type that is not a printer's).
    """
    serviceType = instance.serviceType.lower().rstrip(".")
    if serviceType not in SERVICE_TYPES:
        raise CandidateRefused(f"{instance.serviceType} is not a printer service type")
    if not 0 < instance.port < 65536:
        raise CandidateRefused(f"port {instance.port}: the service is not offered")
    address = _address(instance.addresses, Origin(instance.source, interface))
    if address is None:
        raise CandidateRefused(f"no usable address among {', '.join(instance.addresses) or 'none'}")
    ippURL = snmpAddress = None
    if serviceType in _SCHEMES:
        ippURL = f"{_SCHEMES[serviceType]}://{_urlHost(address)}:{instance.port}/{_resourcePath(instance.text('rp'))}"
    else:
        snmpAddress = address
    return PrinterCandidate(
        key=f"{instance.interface}/{instance.name.lower()}",
        name=instance.instance,
        serviceType=serviceType,
        interface=instance.interface,
        host=instance.host,
        port=instance.port,
        address=address,
        ippURL=ippURL,
        snmpAddress=snmpAddress,
        uuid=_uuid(instance.text("uuid")),
        adminURL=_adminURL(instance.text("adminurl")),
        location=_text(instance.text("note")),
        makeAndModel=_text(instance.text("ty")),
    )


def _address(addresses: tuple[str, ...], origin: Origin) -> Optional[str]:
    """
    The address to reach the printer at, among those the URL policy allows:
    IPv4, else routable IPv6, else link-local IPv6 with its zone.
    """
    assert origin.interface is not None
    usable = []
    for text in addresses:
        try:
            ip = ipaddress.ip_address(text.partition("%")[0])
            if addressRefusal(ip, origin) is not None:
                continue
        except ValueError:
            continue
        linkLocal = ip.version == 6 and ip.is_link_local
        usable.append(((ip.version, linkLocal), f"{ip}%{origin.interface.name}" if linkLocal else str(ip)))
    return min(usable)[1] if usable else None


def _urlHost(address: str) -> str:
    if ":" not in address:
        return address
    ip, _, zone = address.partition("%")
    return f"[{ip}%25{quote(zone, safe='')}]" if zone else f"[{ip}]"


def _resourcePath(rp: Optional[str]) -> str:
    """The TXT C{rp} as a URL path (no leading slash): printable, no dot segment, no query or fragment."""
    if rp is None:
        return ""
    rp = rp.strip("/")
    if len(rp) > _MAX_PATH or any(not c.isprintable() or c.isspace() or c in "?#\\%" for c in rp):
        raise CandidateRefused(f"rp {rp[:40]!r} is not a resource path")
    if any(segment in (".", "..") for segment in rp.split("/")):
        raise CandidateRefused(f"rp {rp[:40]!r} has a dot segment")
    return quote(rp, safe="/-._~!$&'()*+,;=:@")


def _uuid(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    text = value.strip()
    if text.lower().startswith("urn:uuid:"):
        text = text[len("urn:uuid:"):]
    try:
        return f"urn:uuid:{uuid.UUID(text)}"
    except ValueError:
        return None


def _adminURL(value: Optional[str]) -> Optional[str]:
    if not value or len(value) > _MAX_ADMIN_URL or any(not c.isprintable() or c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # raises on a port that is not one
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    return value


def _text(value: Optional[str]) -> Optional[str]:
    """A TXT text value without control characters, cut at L{MAX_TEXT}; C{None} when empty."""
    if value is None:
        return None
    cleaned = "".join(c for c in value if c.isprintable()).strip()[:MAX_TEXT]
    return cleaned or None


class CandidateTracker:
    """
    The querier's instance events as printer candidate events: C{found} for
    a new candidate, C{changed} when what it says changed, C{lost} (with the
    last candidate) when its instance is gone or no longer a candidate.
    An instance that is no candidate is logged once per change.

    @param interfaceNamed: an interface's name → the interface browsed on
        (L{proxier.lan.mdns.Browser.interfaceNamed}), or C{None}.
    """

    log = Logger()

    def __init__(self, found: Callable[[PrinterCandidate], None], changed: Callable[[PrinterCandidate], None],
                 lost: Callable[[PrinterCandidate], None],
                 interfaceNamed: Callable[[str], Optional[NetworkInterface]]) -> None:
        self.found, self.changed, self.lost = found, changed, lost
        self.interfaceNamed = interfaceNamed
        self.candidates: dict[str, PrinterCandidate] = {}

    def __call__(self, event: InstanceEvent) -> None:
        instance = event.instance
        key = f"{instance.interface}/{instance.name.lower()}"
        old = self.candidates.get(key)
        new: Optional[PrinterCandidate] = None
        if event.kind in (APPEARED, CHANGED):
            try:
                interface = self.interfaceNamed(instance.interface)
                if interface is None:
                    raise CandidateRefused(f"interface {instance.interface} is no longer browsed on")
                new = candidateOf(instance, interface)
            except CandidateRefused as e:
                self.log.info("DNS-SD: {name} on {iface} is no printer candidate: {why}", name=instance.name,
                              iface=instance.interface, why=str(e))
        elif event.kind != GONE:
            raise ValueError(f"unknown instance event {event.kind!r}")
        if new is None:
            if old is not None:
                del self.candidates[key]
                self.lost(old)
            return
        self.candidates[key] = new
        if old is None:
            self.found(new)
        elif old != new:
            self.changed(new)
