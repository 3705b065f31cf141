# -*- test-case-name: tests.test_cwmp_settings -*-
"""
The ManagementServer settings of one CWMP endpoint: what TR-069 keeps in
C{Device.ManagementServer.*} and what the endpoint's sessions obey.

They are seeded from the config file's C{[acs]} section, may then be changed
by the ACS (SetParameterValues on ManagementServer.*), and are persisted per
endpoint. An operator who edits the config file still wins: for each setting
the config value last seen is remembered, and when the file says something
new, that new value replaces whatever the ACS had set.

Parts that care (the session scheduler for the periodic inform, the endpoint
for a changed ACS URL) observe changes with L{EndpointSettings.observe}.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields
from typing import Any, Callable, Mapping

from proxier.datamodel._tr106time import UNKNOWN_TIME, formatDateTime, parseDateTime
from proxier.sharing import InternTable
from proxier.store import Document

__all__ = ["EndpointSettings", "Values", "FROM_CONFIG"]


@dataclass(slots=True)
class Values:
    """The settings themselves (names as in TR-181 ManagementServer, camelCase); slots: one per device."""

    url: str = ""
    username: str = ""
    password: str = ""
    periodicInformEnable: bool = True
    periodicInformInterval: int = 86400
    periodicInformTime: datetime.datetime = UNKNOWN_TIME
    parameterKey: str = ""
    connectionRequestUsername: str = ""
    connectionRequestPassword: str = ""
    retryMinimumWaitInterval: int = 5
    retryIntervalMultiplier: int = 2000
    defaultActiveNotificationThrottle: int = 0
    upgradesManaged: bool = False
    autonomousTransferCompletePolicyEnable: bool = False
    autonomousTransferCompletePolicyTransferTypeFilter: str = "Both"
    autonomousTransferCompletePolicyResultTypeFilter: str = "Both"
    autonomousTransferCompletePolicyFileTypeFilter: str = ""


# Which settings come from which [acs] config key.
FROM_CONFIG: Mapping[str, str] = {
    "url": "url",
    "username": "username",
    "password": "password",
    "periodicInformEnable": "periodic_inform_enable",
    "periodicInformInterval": "periodic_inform_interval",
    "periodicInformTime": "periodic_inform_time",
    "retryMinimumWaitInterval": "retry_minimum_wait",
    "retryIntervalMultiplier": "retry_interval_multiplier",
}

_NAMES = [f.name for f in fields(Values)]

Observer = Callable[[str, Any, Any], None]

#: The config values an endpoint last saw, as (name, type, encoded value) in the order they were seen:
#: with its type, a value is shared only with one of its type (1 is no True in the document).
Seen = tuple[tuple[str, type, Any], ...]

# every endpoint saw the same config: one tuple for all of them (issue 19: a dict of ten a device)
_seenTable: InternTable[Seen] = InternTable()


def _shareSeen(seen: Mapping[str, Any]) -> Seen:
    """C{seen} as the one tuple every endpoint that saw the same shares (unshared if a value is unhashable)."""
    entries = tuple((name, type(value), value) for name, value in seen.items())
    try:
        return _seenTable(entries)
    except TypeError:  # a value no config gives, read from a document edited by hand
        return entries


def _seenDict(seen: Seen) -> dict[str, Any]:
    return {name: value for name, _, value in seen}


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return formatDateTime(value)
    return value


def _decode(name: str, raw: Any) -> Any:
    default = getattr(Values(), name)
    if isinstance(default, datetime.datetime):
        return parseDateTime(raw) if raw else UNKNOWN_TIME
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise TypeError(f"{name} must be a boolean")
    elif isinstance(default, int):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise TypeError(f"{name} must be an integer")
    elif not isinstance(raw, str):
        raise TypeError(f"{name} must be text")
    return raw


class EndpointSettings:
    """
    The persisted settings of one endpoint.

    Read with attribute access (C{settings.url}); change with L{set}, which
    saves before observers are told.
    """

    __slots__ = ("_document", "_observers", "_values", "_configSeen")  # one per endpoint, so per device (issue 19)

    def __init__(self, document: Document, acsConfig: Mapping[str, Any], **initial: Any) -> None:
        """
        @param document: where this endpoint's settings live.
        @param acsConfig: the C{[acs]} section of the config.
        @param initial: values for a brand-new endpoint that are not in the
            config (for example generated Connection Request credentials).
        """
        self._document = document
        self._observers: tuple[Observer, ...] = ()
        stored = document.load(default=None, validate=self._validate)
        values = Values(**{k: v for k, v in initial.items()})
        seen: dict[str, Any] = {}
        if stored is not None:
            for name in _NAMES:
                if name in stored["values"]:
                    setattr(values, name, _decode(name, stored["values"][name]))
            seen = dict(stored.get("configSeen", {}))
        changed = stored is None
        for name, key in FROM_CONFIG.items():
            configured = _encode(_configValue(name, acsConfig[key]))
            if seen.get(name, _MISSING) != configured:
                setattr(values, name, _decode(name, configured))
                seen[name] = configured
                changed = True
        self._values = values
        self._configSeen = _shareSeen(seen)
        if changed:
            try:
                # coalesced: what the config gives is taken again at every start until it is on disk
                self._document.saveSoon(self._payload)
            except OSError:
                # logged by the store; what the config gives is taken again at
                # the next start, and the next set() saves everything
                pass

    @staticmethod
    def _validate(payload: Any) -> None:
        if not isinstance(payload, dict) or not isinstance(payload.get("values"), dict):
            raise ValueError("settings document without values")
        for name, raw in payload["values"].items():
            if name in _NAMES:
                _decode(name, raw)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return getattr(self._values, name)
        except AttributeError:
            raise AttributeError(f"no ManagementServer setting {name!r}") from None

    def observe(self, observer: Observer) -> None:
        """Call C{observer(name, old, new)} after each change is saved."""
        self._observers += (observer,)

    def set(self, **changes: Any) -> None:
        """
        Change settings, all at once: saved durably first, then observers are
        told of each value that really changed.

        @raise OSError: the save failed; nothing changed.
        """
        self._apply(changes, soon=False)

    def setSoon(self, **changes: Any) -> None:
        """
        L{set} for values the proxier picks itself (an endpoint's new
        Connection Request credentials): coalesced (L{proxier.store}) rather
        than on disk before the return — nothing acknowledged them, and the
        ACS hears of them only through a session, which waits for the disk.

        @raise OSError: only when the store writes at once and that failed; nothing changed.
        """
        self._apply(changes, soon=True)

    def _apply(self, changes: dict[str, Any], soon: bool) -> None:
        unknown = set(changes) - set(_NAMES)
        if unknown:
            raise AttributeError(f"no ManagementServer setting {sorted(unknown)[0]!r}")
        old = {name: getattr(self._values, name) for name in changes}
        try:
            for name, value in changes.items():
                setattr(self._values, name, _decode(name, _encode(value)))
            if soon:
                self._document.saveSoon(self._payload)
            else:
                self._document.save(self._payload())
        except BaseException:
            # not on disk, so not applied: memory stays what the disk holds
            # and the caller (the ACS's RPC: 9002) may try again
            for name, value in old.items():
                setattr(self._values, name, value)
            raise
        for name in changes:
            new = getattr(self._values, name)
            if new != old[name]:
                for observer in self._observers:
                    observer(name, old[name], new)

    def adopt(self, **configured: Any) -> None:
        """
        Take values the config gives for settings that are not in C{[acs]}
        (the shared Connection Request credentials) the way C{[acs]} values
        are taken: only when the config says something new since it was last
        read, so that what the ACS set since survives a restart.
        """
        changes = {}
        before = self._configSeen
        seen = _seenDict(before)
        for name, value in configured.items():
            encoded = _encode(value)
            if seen.get(name, _MISSING) != encoded:
                changes[name] = value
        if not changes:
            return
        seen.update({name: _encode(value) for name, value in changes.items()})
        self._configSeen = _shareSeen(seen)
        try:
            self.set(**changes)
        except BaseException:
            self._configSeen = before
            raise

    def _payload(self) -> dict:
        return {
            "values": {name: _encode(getattr(self._values, name)) for name in _NAMES},
            "configSeen": _seenDict(self._configSeen),
        }


class _Missing:
    pass


_MISSING = _Missing()


def _configValue(name: str, value: Any) -> Any:
    if name == "periodicInformTime":
        return parseDateTime(value) if value else UNKNOWN_TIME
    return value
