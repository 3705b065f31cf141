# -*- test-case-name: tests.test_upnp_fetcher -*-
"""
Fetching what a device describes of itself (TR-330 §4.1.1 steps 2-4): the
root device description from its LOCATION, then the SCPD of each service the
proxier cares about (the UPnP DM services by default).

Every URL passes the URL policy first; every fetch has a deadline and a size
cap; a description may make the proxier fetch at most C{maxSCPDs} SCPDs, so a
device listing a hundred services costs no more than one listing four.
Problems that leave the device usable (a refused eventSubURL, a missing
required action, an SCPD that would not parse) are collected in
L{DeviceInfo.problems} for the caller to log with the device's name.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Optional

from twisted.internet.defer import Deferred, DeferredList, inlineCallbacks
from twisted.python.failure import Failure

from proxier.upnp.description import (
    MAX_DESCRIPTION_BYTES,
    SCPD,
    DescriptionError,
    Device,
    DeviceDescription,
    Service,
    missingRequiredActions,
    parseDeviceDescription,
    parseSCPD,
)
from proxier.lan.httpclient import HTTPFailure, HTTPResult, Requester
from proxier.upnp.ssdp import parseType
from proxier.lan.urlpolicy import Origin, Target, URLPolicy, URLRefused
from proxier.sharing import internText

__all__ = ["FetchError", "DeviceInfo", "DescriptionFetcher", "DM_SERVICES", "isDMService"]

#: The services whose SCPDs are fetched by default (TR-330 §4.1.1 step 4,
#: plus DeviceProtection, which guards them).
DM_SERVICES = ("BasicManagement", "ConfigurationManagement", "SoftwareManagement", "DeviceProtection")


def isDMService(service: Service) -> bool:
    parsed = parseType(service.serviceType)
    return parsed is not None and parsed.domain == "schemas-upnp-org" and parsed.name in DM_SERVICES


class FetchError(Exception):
    """The description could not be had or used; C{str()} says why."""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """
    A device as it describes itself.

    @ivar scpds: the SCPD of each service of C{description.services()}, in
        its order, C{None} for a service not fetched (none after the last
        fetched): L{scpd} finds a service's by its device's UDN and its
        serviceId. A dict by those would cost ~0.4 KB a device (issue 19).
    @ivar targets: the L{Target} of each control and event URL that passed the
        policy (a tuple, looked through by L{target}: a dict of ten costs
        272 bytes a device; the SCPD URLs' are used while fetching only —
        issue 19).
    @ivar problems: what was left out or is missing, for a log line.
    """

    description: DeviceDescription
    origin: Origin
    scpds: tuple[Optional[SCPD], ...] = ()
    targets: tuple[Target, ...] = ()
    problems: tuple[str, ...] = ()

    def scpd(self, device: Device, service: Service) -> Optional[SCPD]:
        udn, found = device.udn.lower(), None
        for (d, s), scpd in zip(self.description.services(), self.scpds):
            if scpd is not None and s.serviceId == service.serviceId and d.udn.lower() == udn:
                found = scpd  # a service listed twice: the last one's
        return found

    def target(self, url: str) -> Optional[Target]:
        for target in self.targets:
            if target.url == url:
                return target
        return None

    @property
    def udns(self) -> list[str]:
        return [internText(d.udn.lower()) for d in self.description.devices()]


#: Parsed SCPDs kept by their content's digest: a home or an office holds many
#: devices of one model, whose SCPDs are the same bytes; an SCPD is immutable.
SCPD_CACHE_SIZE = 64


class DescriptionFetcher:
    """
    @param wanted: which services' SCPDs to fetch (default: L{isDMService}).
    """

    def __init__(
        self,
        requester: Requester,
        policy: URLPolicy,
        *,
        timeout: float = 10.0,
        maxBytes: int = MAX_DESCRIPTION_BYTES,
        maxSCPDs: int = 8,
        redirects: int = 3,
        wanted: Callable[[Service], bool] = isDMService,
    ) -> None:
        self.requester = requester
        self.policy = policy
        self.timeout = timeout
        self.maxBytes = maxBytes
        self.maxSCPDs = maxSCPDs
        self.redirects = redirects
        self.wanted = wanted
        self._parsed: OrderedDict[bytes, SCPD] = OrderedDict()

    def fetch(self, location: str, origin: Origin, schemes: tuple[str, ...] = ("http",)) -> "Deferred[DeviceInfo]":
        """
        The description at C{location} and the SCPDs of its wanted services.

        @return: a Deferred firing with a L{DeviceInfo}, or failing with
            L{FetchError} (or L{URLRefused} when C{location} itself is refused).
        """
        return self._fetch(location, origin, schemes)

    @inlineCallbacks
    def _fetch(self, location: str, origin: Origin, schemes: tuple[str, ...]) -> Any:
        target = yield self.policy.check(location, origin, schemes)
        body, finalURL = yield self._get(target, origin, "description")
        try:
            description = parseDeviceDescription(body, finalURL, self.maxBytes)
        except DescriptionError as e:
            raise FetchError(f"description at {location[:200]}: {e}") from None
        problems = list(description.problems)
        checked: dict[str, Target] = {}
        urls = sorted({u for _, s in description.services() for u in (s.scpdURL, s.controlURL, s.eventSubURL) if u})
        checks = yield DeferredList([self.policy.check(u, origin, schemes) for u in urls], consumeErrors=True)
        for url, (ok, result) in zip(urls, checks):
            if ok:
                checked[url] = result
            else:
                problems.append(f"URL refused: {result.getErrorMessage()}")
        services = description.services()
        scpds: list[Optional[SCPD]] = [None] * len(services)
        fetched = 0
        for index, (device, service) in enumerate(services):
            if not self.wanted(service):
                continue
            if fetched >= self.maxSCPDs:
                problems.append(f"more than {self.maxSCPDs} SCPDs to fetch; {service.serviceType} skipped")
                continue
            scpdTarget = checked.get(service.scpdURL)
            if scpdTarget is None:
                problems.append(f"{device.udn} {service.serviceType}: no usable SCPDURL")
                continue
            fetched += 1
            try:
                data, _ = yield self._get(scpdTarget, origin, f"SCPD of {service.serviceType}")
                scpd = self._parseSCPD(data)
            except (FetchError, DescriptionError) as e:
                problems.append(f"{device.udn} {service.serviceType}: {e}")
                continue
            problems.extend(f"{service.serviceType} SCPD: {p}" for p in scpd.problems)
            missing = missingRequiredActions(service.serviceType, scpd)
            if missing:
                problems.append(f"{device.udn} {service.serviceType} lacks required actions: {', '.join(missing)}")
            scpds[index] = scpd
        while scpds and scpds[-1] is None:
            scpds.pop()
        used = {u for _, s in services for u in (s.controlURL, s.eventSubURL)}
        targets = tuple(t for u, t in checked.items() if u in used)
        return DeviceInfo(description, origin, tuple(scpds), targets, tuple(problems))

    def _parseSCPD(self, data: bytes) -> SCPD:
        """L{parseSCPD}, once per distinct content (its failures are not kept: they are cheap and rare)."""
        key = hashlib.sha256(data).digest()
        scpd = self._parsed.get(key)
        if scpd is None:
            scpd = parseSCPD(data, self.maxBytes)
            self._parsed[key] = scpd
            if len(self._parsed) > SCPD_CACHE_SIZE:
                self._parsed.popitem(last=False)
        else:
            self._parsed.move_to_end(key)
        return scpd

    def _get(self, target: Target, origin: Origin, what: str) -> "Deferred[tuple[bytes, str]]":
        """
        The body of a GET, and the URL that answered. Callbacks, not
        inlineCallbacks: four a device (issue 19; on Twisted 22.4 each
        inlineCallbacks call leaves a reference cycle to the collector).
        """
        def answered(result: HTTPResult) -> tuple[bytes, str]:
            if result.code != 200:
                raise FetchError(f"{what} at {target.url[:200]}: HTTP {result.code}")
            return result.body, result.url

        def failed(failure: Failure) -> Failure:
            if failure.check(URLRefused):
                raise FetchError(f"{what}: redirect refused: {failure.value}")
            if failure.check(HTTPFailure):
                raise FetchError(f"{what}: {failure.value}")
            return failure

        d = self.requester.request(
            "GET", target, origin, timeout=self.timeout, maxBytes=self.maxBytes, redirects=self.redirects
        )
        return d.addCallbacks(answered, failed)
