# -*- test-case-name: tests.test_printer_settings -*-
"""
The C{[printer]} section of the config file: which printers are proxied
(static C{ipp://}/C{ipps://} URLs, PRINTERS.md §8), how often they are polled
(§6), when one counts as offline, the admin credentials a printer's
writes need (§5), and C{embedded}: the one printer whose own CWMP CPE the
proxier is when it runs on that printer (§11) — every key documented in
C{etc/proxier.conf}.

Credentials are one line per printer, C{URL username:password}; a
password never appears in a log line or in a config error (an error names
the URL only).

One derived value, as for the UPnP DM module: an IPP operation's deadline is
C{request_timeout}, but never more than the endpoint allows a device call
inside a session (the plugin context's C{deviceTimeout}) less a second, so
a silent printer is found out here and the ACS still hears a fault in time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional
from urllib.parse import urlsplit

from proxier.config import Config, Key, Section, integer, url, words
from proxier.printer.ippclient import Credentials, IPPClientError, httpURL

__all__ = ["SECTION", "SECTION_NAME", "PrinterSettings", "printerURLs", "embeddedURL", "credentials", "VENDOR",
           "PROXY_PROTOCOL", "DISCOVERY_PROTOCOL"]

SECTION_NAME = "printer"
#: TR-106 §3.3 vendor prefix of the values TR-181 lacks: the proxier's default ManufacturerOUI ([device] oui),
#: one constant until the project has an OUI of its own.
VENDOR = "000000"
#: ManagementServer.VirtualDevice.{i}.ProxyProtocol (and the [protocols] enabled name): TR-181 lists no IPP.
PROXY_PROTOCOL = f"X_{VENDOR}_IPP"
#: ...DiscoveryProtocol of a printer listed in [printer] printers (PRINTERS.md §3, §8).
DISCOVERY_PROTOCOL = f"X_{VENDOR}_Static"

_ippURL = url("ipp", "ipps", allowEmpty=False)


def printerURLs(value: str) -> tuple[str, ...]:
    """A list of C{ipp://} / C{ipps://} printer URLs, each once, without credentials in them."""
    found: list[str] = []
    for word in words(value):
        _check(word)
        if word not in found:
            found.append(word)
    return tuple(found)


def _check(word: str) -> None:
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


def credentials(value: str) -> dict[str, Credentials]:
    """
    One line per printer, C{URL username:password} (the password may hold
    any character but a line break). Errors name the URL, never the
    password.
    """
    found: dict[str, Credentials] = {}
    for number, line in enumerate(value.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        target, _, secret = line.partition(" ")
        secret = secret.strip()
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
        found[target] = Credentials(username, password)
    return found


def oui(value: str) -> str:
    value = value.strip().upper()
    if len(value) != 6 or any(c not in "0123456789ABCDEF" for c in value):
        raise ValueError(f"{value[:20]!r} is not six hexadecimal digits")
    return value


KEYS: tuple[Key, ...] = (
    Key("printers", printerURLs, "",
        "IPP printers to proxy, each an ipp:// or ipps:// URL (for example "
        "ipp://192.168.1.20/ipp/print); each becomes a Virtual CWMP Device. Empty: none."),
    Key("embedded", embeddedURL, "",
        "Embedded mode: the proxier runs on this one printer (for example ipp://localhost:631/ipp/print) "
        "and is its own CWMP CPE: the proxier's endpoint has the printer's identity, its DeviceInfo and its "
        "Device.Services.PrintService.1., and no Virtual CWMP Device is made (printers and every other "
        "protocol are then left off). Empty: off, the proxier is a gateway."),
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
    Key("credentials", credentials, "",
        "Admin credentials of printers whose writes need them, one line per printer: the printer's URL "
        "as in printers, a space, username:password. Digest is used where the printer offers it, "
        "Basic only over ipps://. Never logged."),
)

SECTION = Section(
    SECTION_NAME,
    "IPP printers and MFDs, each presented to the ACS as a Virtual CWMP Device whose "
    "Device.Services.PrintService.1. follows the PWG Semantic Model.",
    KEYS,
)


@dataclass(frozen=True)
class PrinterSettings:
    """The section's keys, typed."""

    printers: tuple[str, ...] = ()
    embedded: str = ""
    pollInterval: float = 60.0
    fullPollInterval: float = 900.0
    maxConcurrentPolls: int = 4
    offlineAfterFailures: int = 3
    requestTimeout: float = 15.0
    oui: str = VENDOR
    credentials: Mapping[str, Credentials] = field(default_factory=dict, repr=False)

    @classmethod
    def fromConfig(cls, config: Config, deviceTimeout: Optional[float] = None) -> "PrinterSettings":
        """
        @param deviceTimeout: the endpoint's bound on a device call; None:
            no bound but C{request_timeout}.
        """
        key = SECTION.reader(config)
        timeout = key("request_timeout")
        if deviceTimeout is not None:
            timeout = max(1, min(timeout, int(deviceTimeout) - 1))
        return cls(
            printers=key("printers"),
            embedded=key("embedded"),
            pollInterval=float(key("poll_interval")),
            fullPollInterval=float(key("full_poll_interval")),
            maxConcurrentPolls=key("max_concurrent_polls"),
            offlineAfterFailures=key("offline_after_failures"),
            requestTimeout=float(timeout),
            oui=key("oui"),
            credentials=key("credentials"),
        )

    def credentialsFor(self, printerURL: str) -> Optional[Credentials]:
        return self.credentials.get(printerURL)

    def strayCredentials(self) -> list[str]:
        """The URLs credentials are given for but neither C{printers} nor C{embedded} names (a typo, for a log line)."""
        return [u for u in self.credentials if u not in self.printers and u != self.embedded]
