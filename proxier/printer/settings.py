# -*- test-case-name: tests.test_printer_settings -*-
"""
The C{[printer]} section of the config file: which printers are proxied
(static C{ipp://}/C{ipps://} URLs, PRINTERS.md §8; C{discovery}: DNS-SD
finds more, and C{forget_after} says when one gone is removed), how often
they are polled (§6), when one counts as offline, the admin credentials a printer's
writes need (§5), and C{embedded}: the one printer whose own CWMP CPE the
proxier is when it runs on that printer (§11), with C{embedded_snmp} its
own SNMP agent — every key documented in C{etc/proxier.conf}.

Credentials are one line per printer, C{URL username:password}; a
password never appears in a log line or in a config error (an error names
the URL only).

A printer that speaks SNMP (Printer-MIB, §4) is listed as
C{snmp://community@address[:port]} (SNMPv2c; C{?version=1} for SNMPv1,
the one query an entry takes), its write community on a credentials line
of its own, C{snmp://community@address[:port] write-community}. The
address is an IP address (SNMP goes to one unicast address, never a
name's several). A community is a password: errors and log lines name the
entry as L{SNMPEntry.where}, without it.

One derived value, as for the UPnP DM module: an IPP operation's deadline is
C{request_timeout}, but never more than the endpoint allows a device call
inside a session (the plugin context's C{deviceTimeout}) less a second, so
a silent printer is found out here and the ACS still hears a fault in time.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Optional
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

from proxier.config import Config, Key, Section, choice, integer, url, words
from proxier.proxy.embeddedobjects import mechanismKey

if TYPE_CHECKING:
    from proxier.printer.ippclient import Credentials

# The IPP client and the SNMP codec are imported where an entry is read: the protocol plugin imports this
# module to list the [printer] keys, and a proxier without the printer protocol (or without printers) never
# needs them (issue 19).

__all__ = ["SECTION", "SECTION_NAME", "PrinterSettings", "printerURLs", "embeddedURL", "embeddedSNMP", "credentials",
           "VENDOR",
           "PROXY_PROTOCOL", "SNMP_PROXY_PROTOCOL", "DISCOVERY_PROTOCOL", "SNMPEntry", "snmpEntry", "isSNMP",
           "NO_DISCOVERY", "DNS_SD", "DNS_SD_DISCOVERY_PROTOCOL", "SNMP_DISCOVERY_PROTOCOL", "snmpTargets",
           "MAX_PROBED_ADDRESSES"]

SECTION_NAME = "printer"
#: TR-106 §3.3 vendor prefix of the values TR-181 lacks: the proxier's default ManufacturerOUI ([device] oui),
#: one constant until the project has an OUI of its own.
VENDOR = "000000"
#: ManagementServer.VirtualDevice.{i}.ProxyProtocol (and the [protocols] enabled name): TR-181 lists no IPP.
PROXY_PROTOCOL = f"X_{VENDOR}_IPP"
#: ...ProxyProtocol of a printer that speaks only SNMP (one that also speaks IPP is an IPP device).
SNMP_PROXY_PROTOCOL = f"X_{VENDOR}_SNMP"
#: ...DiscoveryProtocol of a printer listed in [printer] printers (PRINTERS.md §3, §8).
DISCOVERY_PROTOCOL = f"X_{VENDOR}_Static"
#: ...DiscoveryProtocol of a printer DNS-SD found (proxier.printer.discovery).
DNS_SD_DISCOVERY_PROTOCOL = f"X_{VENDOR}_DNS-SD"
#: ...DiscoveryProtocol of a printer an SNMP probe of [printer] snmp_targets found (proxier.printer.snmpprobe).
SNMP_DISCOVERY_PROTOCOL = f"X_{VENDOR}_SNMP"
#: The addresses snmp_targets may name at most (a /22): a typo such as /8 must not probe millions.
MAX_PROBED_ADDRESSES = 1024
#: [printer] discovery: none, or DNS-SD on the LAN interfaces (PRINTERS.md §8; proxier.printer.finder).
NO_DISCOVERY = "none"
DNS_SD = "dns-sd"

_ippURL = url("ipp", "ipps", allowEmpty=False)


@dataclass(frozen=True)
class SNMPEntry:
    """One C{snmp://} entry of C{[printer] printers}: where its agent is, its read community and version."""

    url: str = field(repr=False)
    host: str
    port: int
    community: bytes = field(repr=False)
    version: int  # proxier.printer.snmp.V1 or V2C

    @property
    def where(self) -> str:
        """The entry without its community, for log lines and errors."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"snmp://{host}:{self.port}"


def isSNMP(entry: str) -> bool:
    return entry[:7].lower() == "snmp://"


def snmpEntry(word: str) -> SNMPEntry:
    """
    C{snmp://community@address[:port][?version=1]}; errors never echo
    the community.
    """
    try:
        parts = urlsplit(word)
        port = parts.port or 161
        host = parts.hostname or ""
    except ValueError:
        raise ValueError("an snmp:// entry is not a valid URL (its port?)") from None
    where = f"snmp://{host or '?'}"
    if parts.scheme.lower() != "snmp":
        raise ValueError(f"{where}: not an snmp:// entry")
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError(f"{where}: the address must be an IP address") from None
    if "@" not in parts.netloc or not parts.username:
        raise ValueError(f"{where}: give the community before the address (snmp://community@address)")
    if parts.password is not None or parts.path not in ("", "/") or parts.fragment:
        raise ValueError(f"{where}: only snmp://community@address[:port][?version=1]")
    query = parse_qsl(parts.query, keep_blank_values=True)
    if query not in ([], [("version", "1")], [("version", "2c")]):
        raise ValueError(f"{where}: the one query an entry takes is version=1 (or 2c, the default)")
    from proxier.printer import snmp

    version = snmp.V1 if query == [("version", "1")] else snmp.V2C
    return SNMPEntry(word, host, port, unquote_to_bytes(parts.username), version)


def printerURLs(value: str) -> tuple[str, ...]:
    """
    A list of C{ipp://} / C{ipps://} printer URLs without credentials in
    them, and C{snmp://} entries (L{snmpEntry}), each once.
    """
    found: list[str] = []
    for word in words(value):
        if isSNMP(word):
            snmpEntry(word)
        else:
            _check(word)
        if word not in found:
            found.append(word)
    return tuple(found)


def _check(word: str) -> None:
    from proxier.printer.ippclient import IPPClientError, httpURL

    _ippURL(word)
    try:
        httpURL(word)
    except IPPClientError as e:
        raise ValueError(str(e)) from None


def embeddedURL(value: str) -> str:
    """One C{ipp://} / C{ipps://} printer URL, or empty (embedded mode off)."""
    value = value.strip()
    if value:
        if len(words(value)) != 1:
            raise ValueError("one printer URL only: the proxier is the CWMP CPE of one printer")
        _check(value)
    return value


def embeddedSNMP(value: str) -> str:
    """One C{snmp://} entry (L{snmpEntry}), or empty: the embedded printer is read over IPP alone."""
    value = value.strip()
    if value:
        if len(words(value)) != 1:
            raise ValueError("one snmp:// entry only: the agent of the printer the proxier runs on")
        snmpEntry(value)
    return value


def credentials(value: str) -> dict[str, Any]:
    """
    One line per printer, C{URL username:password} (the password may hold
    any character but a line break): L{Credentials}; or C{snmp://...
    write-community}: the write community's octets. Errors name the URL,
    never the password (nor, for SNMP, a community).
    """
    found: dict[str, Any] = {}
    for number, line in enumerate(value.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        target, _, secret = line.partition(" ")
        secret = secret.strip()
        if isSNMP(target):
            entry = snmpEntry(target)
            if not secret:
                raise ValueError(f"{entry.where}: give the write community after the entry")
            if target in found:
                raise ValueError(f"{entry.where}: a write community given twice")
            found[target] = secret.encode("utf-8")
            continue
        if urlsplit(target).scheme.lower() not in ("ipp", "ipps"):
            raise ValueError(f"line {number}: does not start with an ipp:// or ipps:// printer URL")
        if "@" in urlsplit(target).netloc:
            raise ValueError(f"line {number}: user and password go after the URL, not in it")
        _check(target)
        username, colon, password = secret.partition(":")
        if not colon or not username:
            raise ValueError(f"{target}: give username:password after the URL")
        if target in found:
            raise ValueError(f"{target}: credentials given twice")
        from proxier.printer import ippclient

        found[target] = ippclient.Credentials(username, password)
    return found


def snmpTargets(value: str) -> tuple[str, ...]:
    """
    IPv4/IPv6 addresses and CIDR ranges, each once, as networks
    (C{192.0.2.7/32}); never a multicast, broadcast or unspecified one, and
    L{MAX_PROBED_ADDRESSES} at most in all.
    """
    found: list[str] = []
    total = 0
    for word in words(value):
        try:
            network = ipaddress.ip_network(word, strict=False)
        except ValueError:
            raise ValueError(f"{word[:50]!r} is not an IP address or CIDR range") from None
        if network.is_multicast or network.is_unspecified or network.network_address == ipaddress.ip_address(
                "255.255.255.255"):
            raise ValueError(f"{word}: SNMP probes go to unicast addresses only")
        total += min(network.num_addresses, MAX_PROBED_ADDRESSES + 1)
        if total > MAX_PROBED_ADDRESSES:
            raise ValueError(f"more than {MAX_PROBED_ADDRESSES} addresses to probe (a /22): list smaller ranges")
        if str(network) not in found:
            found.append(str(network))
    return tuple(found)


def communities(value: str) -> tuple[bytes, ...]:
    return tuple(w.encode("utf-8") for w in words(value))


def oui(value: str) -> str:
    value = value.strip().upper()
    if len(value) != 6 or any(c not in "0123456789ABCDEF" for c in value):
        raise ValueError(f"{value[:20]!r} is not six hexadecimal digits")
    return value


KEYS: tuple[Key, ...] = (
    mechanismKey("printers"),
    Key("printers", printerURLs, "",
        "Printers to proxy: IPP printers, each an ipp:// or ipps:// URL (for example "
        "ipp://192.168.1.20/ipp/print), and SNMP agents, each snmp://community@address[:port] (SNMPv2c; "
        "add ?version=1 for SNMPv1; the address an IP address, the port 161 by default). Each printer "
        "becomes one Virtual CWMP Device: an IPP URL and an SNMP entry of the same printer (the same "
        "printer-uuid, else serial number, else MAC) make one device, whose values come from IPP where both "
        "answer, except Contact (sysContact) and what only SNMP tells. Empty: none."),
    Key("embedded", embeddedURL, "",
        "Embedded mode: the proxier runs on this one printer (for example ipp://localhost:631/ipp/print) "
        "and is its own CWMP CPE: the proxier's endpoint has the printer's identity, its DeviceInfo and its "
        "Device.Services.PrintService.1., and no Virtual CWMP Device is made (printers and every other "
        "protocol are then left off). Empty: off, the proxier is a gateway."),
    Key("embedded_snmp", embeddedSNMP, "",
        "Embedded mode only: the SNMP agent of the printer named by embedded, as snmp://community@address[:port] "
        "(for example snmp://public@127.0.0.1; ?version=1 for SNMPv1). Its values are merged into the CPE's "
        "as for a printer listed both ways in printers: IPP where both answer, except Contact (written by an "
        "SNMP SET of sysContact, then read back) and what only SNMP tells (MAC, memory, front panel); its "
        "sysUpTime going back is a restart too. It is taken as that printer's without matching. Its write "
        "community goes in credentials. Empty: the printer is read over IPP alone."),
    Key("poll_interval", integer(10, 86400), "60",
        "Seconds between two polls of a printer's state, state reasons and supplies (a tenth of it "
        "added at random, so a fleet is not polled in step)."),
    Key("full_poll_interval", integer(60, 7 * 86400), "900",
        "Seconds after which a poll reads every attribute again even when the printer's "
        "printer-config-change-time and printer-state-change-time did not move."),
    Key("max_concurrent_polls", integer(1, 256), "4",
        "Printers polled at once at most; the others wait their turn."),
    Key("offline_after_failures", integer(1, 100), "3",
        "Polls in a row without an answer after which a printer is offline: its Connection Requests "
        "are answered 503 and no session starts (TR-069 J.2.3). It is online again at its first answer."),
    Key("request_timeout", integer(1, 3600), "15",
        "Seconds one IPP operation may take (never more than the ACS's session allows a device)."),
    Key("oui", oui, VENDOR,
        "DeviceInfo.ManufacturerOUI of the printers' Virtual CWMP Devices: IPP does not tell a printer's OUI "
        "(PRINTERS.md section 4). Part of each printer's identity: changing it makes every printer a new device."),
    Key("discovery", choice(NO_DISCOVERY, DNS_SD), NO_DISCOVERY,
        "none: only the printers listed in printers are proxied. dns-sd: the printers advertised by DNS-SD "
        "(_ipp._tcp, _ipps._tcp) on the [lan] interfaces are proxied too, each a Virtual CWMP Device whose "
        "DiscoveryProtocol is X_000000_DNS-SD; a printer also listed in printers is that entry's one device. "
        "Off in embedded mode."),
    Key("forget_after", integer(60, 365 * 86400), "86400",
        "Seconds a printer found by DNS-SD stays, offline, after its last advertisement went (a goodbye, or "
        "its TTL ran out), or one the SNMP probe found after it no longer answers as a printer, before it is "
        "removed from the proxier. Its state is kept: coming back, it is the "
        "same Virtual CWMP Device, with the same VirtualDevice instance number, and never bootstraps again."),
    Key("snmp_targets", snmpTargets, "",
        "Addresses and CIDR ranges (IPv4 or IPv6, for example 192.168.1.0/24) whose SNMP agents are probed, "
        "one unicast GET at a time and never a broadcast (a range's network and broadcast addresses are left "
        "out; 1024 addresses at most). An agent whose hrDeviceTable lists a printer becomes a Virtual CWMP "
        "Device (DiscoveryProtocol X_000000_SNMP), as an snmp:// entry of printers would; one that stops "
        "answering is offline, then forgotten after forget_after. Empty: no probe.", reloadable=True),
    Key("snmp_communities", communities, "public",
        "The read communities tried in turn on each address probed (and on the printers DNS-SD advertises "
        "as _pdl-datastream._tcp or _printer._tcp): the first one answered is the printer's. Never logged.",
        reloadable=True),
    Key("snmp_probe_rate", integer(1, 1000), "10",
        "SNMP probes sent per second at most.", reloadable=True),
    Key("snmp_probe_interval", integer(60, 7 * 86400), "3600",
        "Seconds between two probes of snmp_targets: a printer that came is found, one that went goes offline.",
        reloadable=True),
    Key("snmp_port", integer(1, 65535), "161",
        "The UDP port the SNMP probe sends to (an agent on another port, such as a simulator in a test).", reloadable=True),
    Key("credentials", credentials, "",
        "Admin credentials of printers whose writes need them, one line per printer: the printer's URL "
        "as in printers, a space, username:password. Digest is used where the printer offers it, "
        "Basic only over ipps://. For an snmp:// entry: the entry as in printers, a space, its write "
        "community (without one, SETs use the read community). Never logged."),
)

SECTION = Section(
    SECTION_NAME,
    "IPP and SNMP printers and MFDs, each presented to the ACS as a Virtual CWMP Device whose "
    "Device.Services.PrintService.1. follows the PWG Semantic Model.",
    KEYS,
)


@dataclass(frozen=True)
class PrinterSettings:
    """The section's keys, typed."""

    printers: tuple[str, ...] = ()
    embedded: str = ""
    embeddedSNMP: str = ""
    pollInterval: float = 60.0
    fullPollInterval: float = 900.0
    maxConcurrentPolls: int = 4
    offlineAfterFailures: int = 3
    requestTimeout: float = 15.0
    oui: str = VENDOR
    credentials: Mapping[str, Credentials] = field(default_factory=dict, repr=False)
    writeCommunities: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    discovery: str = NO_DISCOVERY
    forgetAfter: float = 86400.0
    snmpTargets: tuple[str, ...] = ()
    snmpCommunities: tuple[bytes, ...] = field(default=(b"public",), repr=False)
    snmpProbeRate: float = 10.0
    snmpProbeInterval: float = 3600.0
    snmpPort: int = 161

    @classmethod
    def fromConfig(cls, config: Config, deviceTimeout: Optional[float] = None) -> "PrinterSettings":
        """
        @param deviceTimeout: the endpoint's bound on a device call; None:
            no bound but C{request_timeout}.
        """
        from proxier.printer.ippclient import Credentials

        key = SECTION.reader(config)
        secrets = key("credentials")
        timeout = key("request_timeout")
        if deviceTimeout is not None:
            timeout = max(1, min(timeout, int(deviceTimeout) - 1))
        return cls(
            printers=key("printers"),
            embedded=key("embedded"),
            embeddedSNMP=key("embedded_snmp"),
            pollInterval=float(key("poll_interval")),
            fullPollInterval=float(key("full_poll_interval")),
            maxConcurrentPolls=key("max_concurrent_polls"),
            offlineAfterFailures=key("offline_after_failures"),
            requestTimeout=float(timeout),
            oui=key("oui"),
            credentials={u: c for u, c in secrets.items() if isinstance(c, Credentials)},
            writeCommunities={u: c for u, c in secrets.items() if isinstance(c, bytes)},
            discovery=key("discovery"),
            forgetAfter=float(key("forget_after")),
            snmpTargets=key("snmp_targets"),
            snmpCommunities=key("snmp_communities"),
            snmpProbeRate=float(key("snmp_probe_rate")),
            snmpProbeInterval=float(key("snmp_probe_interval")),
            snmpPort=key("snmp_port"),
        )

    @property
    def ippPrinters(self) -> tuple[str, ...]:
        """The C{ipp://} and C{ipps://} URLs of C{printers}."""
        return tuple(p for p in self.printers if not isSNMP(p))

    @property
    def snmpPrinters(self) -> tuple[SNMPEntry, ...]:
        """The C{snmp://} entries of C{printers}."""
        return tuple(snmpEntry(p) for p in self.printers if isSNMP(p))

    def credentialsFor(self, printerURL: str) -> Optional[Credentials]:
        return self.credentials.get(printerURL)

    def writeCommunityFor(self, entry: str) -> Optional[bytes]:
        """The write community of an C{snmp://} entry; None: its read community writes too."""
        return self.writeCommunities.get(entry)

    def strayCredentials(self) -> list[str]:
        """
        The URLs credentials are given for but neither C{printers} nor
        C{embedded} / C{embedded_snmp} names (a typo, for a log line; an
        SNMP entry as its L{SNMPEntry.where}).
        """
        stray = [u for u in self.credentials if u not in self.printers and u != self.embedded]
        return stray + [snmpEntry(u).where for u in self.writeCommunities
                        if u not in self.printers and u != self.embeddedSNMP]
