# -*- test-case-name: tests.test_sim_diagnostics -*-
"""
Simulated results of the BasicManagement:2 diagnostics — Ping, NSLookup,
Traceroute — computed, never measured: a simulated device sends no packet.

Results are deterministic: the same host gives the same answer every time
(and on every device), derived from a hash of its name. The rules a test can
count on:

 - a name under C{.invalid} (RFC 6761) does not resolve;
 - an address in a documentation range (192.0.2.0/24, 198.51.100.0/24,
   203.0.113.0/24, 2001:db8::/32) resolves (it is an address) but never
   answers: every ping is lost, a traceroute ends without reaching it;
 - anything else answers, with round-trip times between 1 and 45 ms and a
   path of 2 to 7 hops;
 - a host listed in L{DiagnosticsRules.failures} fails with the status given
   there (C{Error_Internal}, C{Error_Other}, ...);
 - arguments outside what the device supports end the test at once with
   C{Error_Other} and an AdditionalInfo saying why (as rygel does), rather
   than refusing the action.

How long a test runs is L{testDuration}: a fraction of a second per
repetition or hop, so that a control point sees it active for a while.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field
from typing import Mapping, Optional

from lxml import etree

__all__ = [
    "DiagnosticsRules",
    "PingResult",
    "NSLookupResult",
    "TracerouteResult",
    "ping",
    "nslookup",
    "traceroute",
    "testDuration",
    "BMS_NS",
    "MAX_REPETITIONS",
]

BMS_NS = "urn:schemas-upnp-org:dm:bms"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"

MAX_REPETITIONS = 100
MAX_TIMEOUT_MS = 60_000
MAX_HOPS = 64
DEFAULT_TIMEOUT_MS = 1000
DEFAULT_BLOCK_SIZE = 32
DEFAULT_MAX_HOPS = 30

_DOCUMENTATION = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


@dataclass
class DiagnosticsRules:
    """
    Knobs: hosts whose test fails with a given status, and the time a test
    takes per repetition (seconds).
    """

    failures: dict[str, str] = field(default_factory=dict)
    secondsPerStep: float = 0.2


def _hash(host: str) -> int:
    return int.from_bytes(hashlib.sha256(host.strip().lower().encode("utf-8")).digest()[:8], "big")


def _address(host: str) -> Optional[ipaddress._BaseAddress]:
    try:
        return ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        return None


def _resolves(host: str) -> bool:
    name = host.strip().lower().rstrip(".")
    return bool(name) and not (name == "invalid" or name.endswith(".invalid"))


def _silent(host: str) -> bool:
    address = _address(host)
    return address is not None and any(address in network for network in _DOCUMENTATION)


def resolve(host: str) -> list[str]:
    """The addresses a name resolves to (deterministic), or [] when it does not."""
    address = _address(host)
    if address is not None:
        return [str(address)]
    if not _resolves(host):
        return []
    h = _hash(host)
    return [f"10.{(h >> 8) % 250 + 1}.{(h >> 16) % 256}.{(h >> 24) % 254 + 1}", f"2001:db8:{h % 0xFFFF:x}::{(h >> 32) % 0xFFFF:x}"]


def _rtt(host: str, index: int) -> int:
    h = _hash(host)
    return 1 + (h % 40) + ((h >> (index % 48)) % 5)


def _refusal(host: str, rules: DiagnosticsRules, *limits: tuple[str, int, int]) -> Optional[tuple[str, str]]:
    """
    The status and AdditionalInfo of a test that ends before it starts: an
    argument over its limit (each C{(name, value, limit)}, in order), or a
    failure configured for its host.
    """
    for name, value, limit in limits:
        if value > limit:
            return "Error_Other", f"{name} {value} is not in [1, {limit}]"
    if host.strip().lower() in rules.failures:
        return rules.failures[host.strip().lower()], "failure configured for this host"
    return None


@dataclass(frozen=True)
class PingResult:
    status: str
    additionalInfo: str = ""
    successCount: int = 0
    failureCount: int = 0
    average: int = 0
    minimum: int = 0
    maximum: int = 0


def ping(host: str, repetitions: int, timeoutMs: int, blockSize: int, rules: DiagnosticsRules) -> PingResult:
    """The result of Ping(Host, NumberOfRepetitions, Timeout, DataBlockSize, DSCP)."""
    repetitions = repetitions or 1
    timeoutMs = timeoutMs or DEFAULT_TIMEOUT_MS
    refused = _refusal(host, rules, ("NumberOfRepetitions", repetitions, MAX_REPETITIONS),
                       ("Timeout", timeoutMs, MAX_TIMEOUT_MS))
    if refused is not None:
        return PingResult(*refused)
    if not resolve(host):
        return PingResult("Error_CannotResolveHostName", f"cannot resolve {host}")
    if _silent(host):
        return PingResult("Success", "", 0, repetitions, 0, 0, 0)
    times = [min(_rtt(host, i) + blockSize // 1500, timeoutMs) for i in range(repetitions)]
    return PingResult(
        "Success", "", repetitions, 0, sum(times) // len(times), min(times), max(times)
    )


@dataclass(frozen=True)
class NSLookupResult:
    status: str
    additionalInfo: str = ""
    successCount: int = 0
    result: str = ""


def nslookup(hostName: str, dnsServer: str, repetitions: int, timeoutMs: int, rules: DiagnosticsRules) -> NSLookupResult:
    """The result of NSLookup(HostName, DNSServer, NumberOfRepetitions, Timeout)."""
    repetitions = repetitions or 1
    timeoutMs = timeoutMs or DEFAULT_TIMEOUT_MS
    refused = _refusal(hostName, rules, ("NumberOfRepetitions", repetitions, MAX_REPETITIONS),
                       ("Timeout", timeoutMs, MAX_TIMEOUT_MS))
    if refused is not None:
        return NSLookupResult(*refused, 0, _nslookupDocument([]))
    server = dnsServer.strip() or "192.168.1.1"
    serverAddresses = resolve(server)
    if not serverAddresses or _silent(server):
        return NSLookupResult("Error_DNSServerNotResolved", f"DNS server {server} unreachable", 0,
                              _nslookupDocument([]))
    addresses = resolve(hostName) if _address(hostName) is None else []
    rows = []
    for index in range(repetitions):
        if addresses:
            rows.append(("Success", "NonAuthoritative", hostName.strip(), ",".join(addresses),
                         serverAddresses[0], _rtt(hostName + server, index)))
        else:
            rows.append(("Error_HostNameNotResolved", "None", "", "", serverAddresses[0],
                         _rtt(hostName + server, index)))
    successes = sum(1 for row in rows if row[0] == "Success")
    return NSLookupResult("Success", "", successes, _nslookupDocument(rows))


def _nslookupDocument(rows: list[tuple]) -> str:
    """The C{bms:NSLookupResult} document, shaped as rygel's BMS:2 writes it."""
    root = etree.Element(f"{{{BMS_NS}}}NSLookupResult", nsmap={"bms": BMS_NS, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", f"{BMS_NS} http://www.upnp.org/schemas/dm/bms.xsd")
    for status, answer, name, addresses, server, time in rows:
        result = etree.SubElement(root, "Result")
        for tag, text in (
            ("Status", status), ("AnswerType", answer), ("HostNameReturned", name),
            ("IPAddresses", addresses), ("DNSServerIP", server), ("ResponseTime", str(time)),
        ):
            etree.SubElement(result, tag).text = text
    return '<?xml version="1.0" encoding="UTF-8"?>' + etree.tostring(root, encoding="unicode")


@dataclass(frozen=True)
class TracerouteResult:
    status: str
    additionalInfo: str = ""
    responseTime: int = 0
    hopHosts: str = ""


def traceroute(host: str, timeoutMs: int, blockSize: int, maxHops: int, rules: DiagnosticsRules) -> TracerouteResult:
    """The result of Traceroute(Host, Timeout, DataBlockSize, MaxHopCount, DSCP)."""
    maxHops = maxHops or DEFAULT_MAX_HOPS
    timeoutMs = timeoutMs or DEFAULT_TIMEOUT_MS
    refused = _refusal(host, rules, ("MaxHopCount", maxHops, MAX_HOPS), ("Timeout", timeoutMs, MAX_TIMEOUT_MS))
    if refused is not None:
        return TracerouteResult(*refused)
    addresses = resolve(host)
    if not addresses:
        return TracerouteResult("Error_CannotResolveHostName", f"cannot resolve {host}")
    h = _hash(host)
    path = [f"192.168.{1 + (h % 3)}.1"] + [f"10.{hop}.{(h >> hop) % 256}.1" for hop in range(1, 2 + h % 6)]
    if not _silent(host):
        path.append(addresses[0])
    if len(path) > maxHops or _silent(host):
        shown = path[:maxHops]
        return TracerouteResult("Error_MaxHopCountExceeded", f"{addresses[0]} not reached in {len(shown)} hops",
                                0, ",".join(shown))
    return TracerouteResult("Success", "", _rtt(host, 0) + len(path), ",".join(path))


def testDuration(kind: str, arguments: Mapping[str, object], rules: DiagnosticsRules) -> float:
    """Seconds a simulated test stays in progress."""
    if kind == "Ping":
        steps = min(int(arguments.get("NumberOfRepetitions") or 1), MAX_REPETITIONS)
    elif kind == "NSLookup":
        steps = min(int(arguments.get("NumberOfRepetitions") or 1), MAX_REPETITIONS)
    else:
        steps = min(int(arguments.get("MaxHopCount") or DEFAULT_MAX_HOPS), MAX_HOPS) // 4 + 1
    return max(steps, 1) * rules.secondsPerStep
