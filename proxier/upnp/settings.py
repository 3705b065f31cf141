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
from typing import Any, Mapping

from proxier.config import Config, Key, Section, integer

__all__ = ["SECTION", "KEYS", "SECTION_NAME", "Settings"]

SECTION_NAME = "upnp"


def _ports(value: str) -> tuple[int, ...]:
    ports = []
    for word in value.replace(",", " ").split():
        try:
            port = int(word, 10)
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
        "Most new devices being described at once; further announcements wait for the next round."),
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

    @classmethod
    def fromConfig(cls, config: Config, sectionName: str = SECTION_NAME) -> "Settings":
        lan = config["lan"]
        upnp: Mapping[str, Any] = config[sectionName] if sectionName in config else {}

        def key(name: str) -> Any:
            if name in upnp:
                return upnp[name]
            return SECTION.key(name).parse(SECTION.key(name).default)

        return cls(
            interfaces=tuple(lan["interfaces"]),
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
        )

    def replace(self, **changes: Any) -> "Settings":
        from dataclasses import replace

        return replace(self, **changes)

