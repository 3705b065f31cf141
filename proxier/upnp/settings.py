# -*- test-case-name: tests.test_upnp_settings -*-
"""
The control point's settings: the core C{[lan]} keys (where and how to
discover) and the UPnP-specific keys of L{SECTION} (timeouts, caps, search
and eventing details), which the UPnP DM protocol plugin exposes as its
C{configSection} (or folds into its own section: L{KEYS}).

L{Settings.fromConfig} reads a validated L{proxier.config.Config}; a config
without the UPnP section (a plugin that does not expose it, a test) gets the
documented defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proxier.asciinum import parseUnsigned
from proxier.config import Config, Key, Section, boolean, choice, filePath, integer, words

__all__ = ["SECTION", "KEYS", "SECTION_NAME", "Settings"]

SECTION_NAME = "upnp"


def _ports(value: str) -> tuple[int, ...]:
    ports = []
    for word in value.replace(",", " ").split():
        try:
            port = parseUnsigned(word, maxDigits=5)
        except ValueError:
            raise ValueError(f"{word!r} is not a port number") from None
        if not 1 <= port <= 65535:
            raise ValueError(f"{port} is not a port number (1-65535)")
        ports.append(port)
    return tuple(ports)


KEYS: tuple[Key, ...] = (
    Key("search_mx", integer(1, 5), "2",
        "MX of each M-SEARCH: devices answer within that many seconds (1-5)."),
    Key("search_copies", integer(1, 3), "2",
        "Copies of each M-SEARCH sent a quarter of a second apart (SSDP is UDP: packets get lost)."),
    Key("loopback_search_ports", _ports, "",
        "unicast-loopback mode only: UDP ports on 127.0.0.1 to send searches to at once, before "
        "devices announce themselves (their announcement ports are searched as well)."),
    Key("description_timeout", integer(1, 120), "10",
        "Seconds to fetch one device description or SCPD."),
    Key("description_max_bytes", integer(4096, 16 * 1024 * 1024), "524288",
        "Largest device description or SCPD accepted, in bytes."),
    Key("max_pending", integer(1, 4096), "32",
        "Most new devices being described at once; further new devices wait for a free slot, described in the "
        "order heard (thousands may wait), not dropped until the next search."),
    Key("action_timeout", integer(1, 600), "30",
        "Seconds a device has to answer one action (a caller may ask for less)."),
    Key("action_max_bytes", integer(4096, 64 * 1024 * 1024), "1048576",
        "Largest action answer accepted, in bytes."),
    Key("subscription_timeout", integer(30, 86400), "1800",
        "Subscription duration asked of devices (GENA TIMEOUT); renewed at about half of what they grant."),
    Key("poll_interval", integer(10, 86400), "300",
        "Seconds between state re-reads for a device that refuses event subscriptions."),
    Key("callback_port", integer(0, 65535), "0",
        "TCP port of the GENA callback server on each LAN address (0: any free port)."),
    Key("callback_request_timeout", integer(1, 300), "10",
        "Seconds a device has to send a whole NOTIFY, head and body, however it paces its bytes."),
    Key("callback_max_connections", integer(4, 4096), "64",
        "Connections the GENA callback server reads or answers at once (each may hold a NOTIFY body of up to "
        "256 KiB); past it a new one takes the slot of the oldest that began its request and stalls, else waits "
        "(callback_max_waiting)."),
    Key("callback_max_waiting", integer(0, 65536), "1024",
        "Connections that wait, unread, for a slot of the GENA callback server when devices notify at once (the "
        "initial events of a LAN's devices subscribed together): each costs its socket and about 2 KiB (its "
        "bytes stay in the kernel until it has a slot); past it a new one is refused — an event lost, whose state is read again. 0: none wait."),
    Key("callback_max_connections_per_peer", integer(1, 4096), "16",
        "Connections (reading, answered or waiting) one LAN address may hold on the GENA callback server at "
        "once; a loopback address (the simulated devices of unicast-loopback mode) counts against the totals "
        "only."),
    # DeviceProtection:1 (TR-330 §2.3, §2.4, §4.8): see proxier.upnp.dps.security
    Key("dps_certificate", filePath(), "",
        "PEM certificate the proxier presents to DeviceProtection devices over TLS; its CPID is what "
        "devices know it by. Carrier case (TR-330 §4.8.1.1): one signed by the operator's CA, whose "
        "root the devices hold, so that they grant it Admin at once. Empty: a self-signed certificate "
        "is generated on first start and kept in the state directory."),
    Key("dps_private_key", filePath(), "",
        "PEM private key of dps_certificate (the two go together)."),
    Key("dps_certificate_chain", filePath(), "",
        "PEM intermediate CA certificates sent along with dps_certificate (optional)."),
    Key("dps_certificate_days", integer(30, 36500), "7300",
        "Validity in days of the generated self-signed certificate. Devices know the proxier by its "
        "certificate: a new one must be introduced again."),
    Key("dps_renew_days", integer(1, 3650), "30",
        "The generated certificate is renewed this many days before it expires; a configured one is "
        "warned about daily from then on."),
    Key("dps_device_ca_file", filePath(), "",
        "PEM CA certificates that sign carrier-provisioned devices' certificates. A device whose "
        "certificate chains to one is trusted by it, and the certificate must name the address the "
        "device is reached at. Other devices' (self-signed) certificates are pinned on first use."),
    Key("dps_introduction", choice("none", "pbc"), "none",
        "pbc: introduce the proxier to a DeviceProtection device that grants it nothing beyond Public "
        "with the WPS push-button method (TR-330 §4.8.1.2): a log line and the state file "
        "dps-introductions.json ask the user to press the device's button. none: never."),
    Key("dps_introduction_timeout", integer(10, 3600), "120",
        "Seconds the user has to press the device's button once an introduction starts."),
    Key("dps_introduction_retry", integer(60, 604800), "86400",
        "Seconds before an introduction that timed out is offered again (it also restarts when the "
        "device is found again)."),
    Key("dps_proxy_public", boolean, "false",
        "false (TR-330 §2.4, privacy): a DeviceProtection device is proxied only once it granted the "
        "proxier a role beyond Public (introduction, carrier certificate, or its user). true: it is "
        "proxied with what Public may do."),
    Key("dps_accept_certificates", words, "",
        "Releases quarantined devices: a device whose certificate no longer matches the one pinned is "
        "quarantined (nothing is sent to it) until its new certificate is accepted here as "
        "UDN=SHA256-fingerprint, exactly as the quarantine log line prints it."),
)

SECTION = Section(
    SECTION_NAME,
    "UPnP control point: timeouts, size caps, search and eventing details "
    "(the [lan] section says where to discover).",
    KEYS,
)


@dataclass(frozen=True)
class Settings:
    """Everything the control point reads from the configuration."""

    interfaces: tuple[str, ...] = ()
    interfaceCheckInterval: int = 30
    ssdpMode: str = "multicast"
    ssdpPort: int = 1900
    ipv6: bool = True
    searchInterval: int = 300
    maxDevices: int = 256
    searchMX: int = 2
    searchCopies: int = 2
    loopbackSearchPorts: tuple[int, ...] = ()
    descriptionTimeout: int = 10
    descriptionMaxBytes: int = 524288
    maxPending: int = 32
    actionTimeout: int = 30
    actionMaxBytes: int = 1048576
    subscriptionTimeout: int = 1800
    pollInterval: int = 300
    callbackPort: int = 0
    callbackRequestTimeout: int = 10
    callbackMaxConnections: int = 64
    callbackMaxWaiting: int = 1024
    callbackMaxPerPeer: int = 16
    dpsCertificate: str = ""
    dpsPrivateKey: str = ""
    dpsCertificateChain: str = ""
    dpsCertificateDays: int = 7300
    dpsRenewDays: int = 30
    dpsDeviceCAFile: str = ""
    dpsIntroduction: str = "none"
    dpsIntroductionTimeout: int = 120
    dpsIntroductionRetry: int = 86400
    dpsProxyPublic: bool = False
    dpsAcceptCertificates: tuple[str, ...] = ()

    @classmethod
    def fromConfig(cls, config: Config, sectionName: str = SECTION_NAME) -> "Settings":
        lan = config["lan"]
        key = SECTION.reader(config, sectionName)
        return cls(
            interfaces=tuple(lan["interfaces"]),
            interfaceCheckInterval=lan.get("interface_check_interval", 30),
            ssdpMode=lan["ssdp_mode"],
            ssdpPort=lan["ssdp_port"],
            ipv6=lan["ipv6"],
            searchInterval=lan["search_interval"],
            maxDevices=lan["max_devices"],
            searchMX=key("search_mx"),
            searchCopies=key("search_copies"),
            loopbackSearchPorts=tuple(key("loopback_search_ports")),
            descriptionTimeout=key("description_timeout"),
            descriptionMaxBytes=key("description_max_bytes"),
            maxPending=key("max_pending"),
            actionTimeout=key("action_timeout"),
            actionMaxBytes=key("action_max_bytes"),
            subscriptionTimeout=key("subscription_timeout"),
            pollInterval=key("poll_interval"),
            callbackPort=key("callback_port"),
            callbackRequestTimeout=key("callback_request_timeout"),
            callbackMaxConnections=key("callback_max_connections"),
            callbackMaxWaiting=key("callback_max_waiting"),
            callbackMaxPerPeer=key("callback_max_connections_per_peer"),
            dpsCertificate=key("dps_certificate"),
            dpsPrivateKey=key("dps_private_key"),
            dpsCertificateChain=key("dps_certificate_chain"),
            dpsCertificateDays=key("dps_certificate_days"),
            dpsRenewDays=key("dps_renew_days"),
            dpsDeviceCAFile=key("dps_device_ca_file"),
            dpsIntroduction=key("dps_introduction"),
            dpsIntroductionTimeout=key("dps_introduction_timeout"),
            dpsIntroductionRetry=key("dps_introduction_retry"),
            dpsProxyPublic=key("dps_proxy_public"),
            dpsAcceptCertificates=tuple(key("dps_accept_certificates")),
        )

    def replace(self, **changes: Any) -> "Settings":
        from dataclasses import replace

        return replace(self, **changes)

