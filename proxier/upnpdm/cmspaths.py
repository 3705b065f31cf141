# -*- test-case-name: tests.test_upnpdm_cmspaths -*-
"""
CWMP paths ↔ ConfigurationManagement paths (TR-330 §4.6.1). Sans-IO.

    CWMP   Device.Hosts.Host.2.IPAddress        CMS   /BBF/Hosts/Host/1/IPAddress
    CWMP   Device.Hosts.Host.2.                 CMS   /BBF/Hosts/Host/1/
    CWMP   Device.Hosts.Host.                   CMS   /BBF/Hosts/Host/
    CWMP   Device.Hosts.                        CMS   /BBF/Hosts/

The Virtual CWMP Device's C{Device.} is where the device mounts its
Broadband Forum model (its GetSupportedDataModels Location, C{/BBF/} on
most devices: CMS:2 Appendix C drops the leading C{Device}). A few
parameters of C{Device.DeviceInfo.} may come from the UPnP DM Common Objects
instead, when the BBF model lacks them (L{Translator.mapped}).

Instance numbers are the one thing that does not map by itself: UPnP counts
from 0, CWMP from 1, and CWMP never reuses a number. The translator asks a
lookup (see L{proxier.upnpdm.instances}) for each instance segment; an
instance alias (C{[cpe-laptop]}) is resolved the same way. A number the
lookup does not know raises L{UnknownInstance} so that the caller can read
the table again and retry.

A device's answers are checked on the way back: a path that is not under
what was asked, or not a CMS path, is dropped by the caller, never passed
on (L{parse} says why).

The translation of a path apart from its instance numbers, and
L{structureOf}, are remembered, bounded as the CWMP side's parses are
(L{proxier.datamodel.paths.PARSE_CACHE}): a device answers the same paths
at every read, and each is translated and typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from sys import intern
from functools import lru_cache
from typing import Callable, Mapping, Optional, Union

from proxier.datamodel import paths as cwmppaths

__all__ = [
    "MAX_CMS_PATH",
    "CMSPath",
    "CMSPathError",
    "UnknownInstance",
    "NotInModel",
    "parse",
    "isInstanceSegment",
    "structureOf",
    "tableOf",
    "instanceNumberOf",
    "isUnder",
    "Translator",
    "translatorFor",
    "CWMP_ROOT",
]

#: Where a device's Broadband Forum model mounts in its Virtual CWMP Device
#: (TR-330 §4.6.1): Device:2's root, the CMS location standing for it (CMS:2
#: Appendix C drops the leading C{Device}). The one place this is decided.
CWMP_ROOT = "Device."
_ROOT_NAME = CWMP_ROOT[:-1]

#: The longest CMS path taken from a device.
MAX_CMS_PATH = 1024
MAX_SEGMENTS = 32
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_INSTANCE = re.compile(r"(0|[1-9][0-9]{0,9})\Z")
_MAX_UPNP_INSTANCE = 2**32 - 1

Segment = Union[str, int]


class CMSPathError(ValueError):
    """Not a CMS path the proxier accepts; C{str()} says why."""


class UnknownInstance(LookupError):
    """
    An instance segment of a CWMP path is not known (yet) in the table at
    C{tablePath} (a CMS MultiInstancePath).
    """

    def __init__(self, tablePath: str, segment: object) -> None:
        self.tablePath = tablePath
        self.segment = segment
        super().__init__(tablePath, segment)


class NotInModel(LookupError):
    """The CWMP path is outside what the device's models map (answer 9005)."""


@dataclass(frozen=True, slots=True)
class CMSPath:
    """
    A parsed CMS path.

    @ivar segments: node names (C{str}), instance numbers (C{int}) and, in
        a StructurePath, C{"#"}.
    @ivar partial: it ends in C{"/"} (an object, table or instance).
    """

    text: str
    segments: tuple[Segment, ...]
    partial: bool


def isInstanceSegment(segment: str) -> bool:
    return bool(_INSTANCE.match(segment))


def parse(text: str, *, wildcard: bool = False) -> CMSPath:
    """
    Parse a CMS path (C{"/"}-separated, starting with C{"/"}).

    @param wildcard: accept C{"#"} segments (StructurePaths).
    @raise CMSPathError: when it is not one.
    """
    if not isinstance(text, str):
        raise CMSPathError("a path is text")
    if len(text) > MAX_CMS_PATH:
        raise CMSPathError(f"longer than {MAX_CMS_PATH} characters")
    if not text.startswith("/"):
        raise CMSPathError(f"{text[:60]!r} does not start with '/'")
    partial = text.endswith("/")
    body = text[1:-1] if partial else text[1:]
    if not body:
        if not partial:
            raise CMSPathError("empty path")
        return CMSPath(text, (), True)
    parts = body.split("/")
    if len(parts) > MAX_SEGMENTS:
        raise CMSPathError(f"deeper than {MAX_SEGMENTS} nodes")
    segments: list[Segment] = []
    for part in parts:
        if part == "#" and wildcard:
            segments.append("#")
        elif _INSTANCE.match(part):
            number = int(part)
            if number > _MAX_UPNP_INSTANCE:
                raise CMSPathError(f"instance number {part} is too large")
            if not segments:
                raise CMSPathError("a path cannot start with an instance number")
            segments.append(number)
        elif _NAME.match(part):
            segments.append(intern(part))
        else:
            raise CMSPathError(f"{part[:40]!r} is not a node name or an instance number")
    if not partial and not isinstance(segments[-1], str):
        raise CMSPathError("an instance path ends in '/'")
    if not partial and segments[-1] == "#":
        raise CMSPathError("a wildcard names an instance, which ends in '/'")
    return CMSPath(text, tuple(segments), partial)


def _text(segments: tuple[Segment, ...], partial: bool) -> str:
    body = "/".join(str(s) for s in segments)
    if not body:
        return "/"
    return "/" + body + ("/" if partial else "")


_INSTANCE_SEGMENT = re.compile(r"(?<=/)(?:0|[1-9][0-9]{0,9})(?=/|$)")


@lru_cache(maxsize=cwmppaths.PARSE_CACHE)
def structureOf(path: str) -> str:
    """
    The StructurePath of a concrete CMS path: every instance number becomes
    C{"#"} (C{/BBF/Hosts/Host/3/IPAddress} → C{/BBF/Hosts/Host/#/IPAddress}).
    """
    return _INSTANCE_SEGMENT.sub("#", path)


def tableOf(instancePath: str) -> str:
    """
    C{/BBF/Hosts/Host/3/} → C{/BBF/Hosts/Host/}: one string for every device
    of a model (issue 19: each device's instance map keeps its tables by it).
    """
    body = instancePath.rstrip("/")
    return intern(body.rsplit("/", 1)[0] + "/")


def instanceNumberOf(instancePath: str) -> int:
    """C{/BBF/Hosts/Host/3/} → 3."""
    return int(instancePath.rstrip("/").rsplit("/", 1)[1])


def isUnder(prefix: str, path: str) -> bool:
    """Whether the CMS path C{path} is C{prefix} or lies below it (a partial C{prefix})."""
    return path == prefix or (prefix.endswith("/") and path.startswith(prefix))


InstanceLookup = Callable[[str, object], Optional[int]]
NumberFor = Callable[[str, int], int]


def translatorFor(root: Optional[str], mapped: Mapping[str, str] = {}) -> "Translator":
    """
    The L{Translator} of C{root} and C{mapped}, one object for every device
    of a model (issue 19: it holds two dicts, and nothing but what follows
    from them is written once made). Bounded, as the paths are the devices'.

    @raise CMSPathError: as L{Translator} does.
    """
    key = (root, tuple(sorted(mapped.items())))
    found = _translators.get(key)
    if found is None:
        if len(_translators) >= _MAX_TRANSLATORS:
            _translators.clear()
        found = _translators[key] = Translator(root, mapped)
    return found


class Translator:
    """
    Converts paths for one Virtual CWMP Device (or for every device of a
    model: L{translatorFor}; nothing writes to it once made but its own
    L{parameters}, which follow from its root and mapping alone).

    @ivar root: the CMS location of L{CWMP_ROOT} (C{"/BBF/"}), or C{None}
        when the device has no Broadband Forum model.
    @ivar mapped: CWMP parameter name → CMS path elsewhere (the Common
        Objects fallbacks of C{Device.DeviceInfo.}).
    """

    def __init__(self, root: Optional[str], mapped: Mapping[str, str] = {}) -> None:
        if root is not None:
            parsed = parse(root)
            if not parsed.partial or any(not isinstance(s, str) for s in parsed.segments):
                raise CMSPathError(f"the model location {root!r} is not an object path")
        self.root = root
        self.mapped = dict(mapped)
        self.reverse = {cms: cwmp for cwmp, cms in self.mapped.items()}
        # a parameter name of the device's own tree already checked and translated → L{_cmsPattern}'s
        # pieces (the whole CMS path alone when it has no instance): a GetParameterValues asks the same
        # names again and again (issue 19); bounded as the parses, as the names are the ACS's
        self.parameters: dict[str, tuple[object, ...]] = {}

    def rememberParameter(self, name: str) -> None:
        """
        Keep in L{parameters} the pieces of C{name}, a parameter that
        L{toCMS} translated by its pattern (checked valid, not mapped).
        """
        pattern = _cmsPattern(self.root, name) if self.root is not None and name not in self.mapped else None
        if pattern is None or pattern[1]:
            return
        if len(self.parameters) >= cwmppaths.PARSE_CACHE:
            self.parameters.clear()
        self.parameters[name] = pattern[0]

    def toCMS(self, name: str, lookup: InstanceLookup) -> str:
        """
        The CMS path of CWMP path C{name} (already checked by
        L{proxier.datamodel.paths}).

        @param lookup: C{(tablePath, segment) → UPnP instance number or
            None}; C{segment} is the CWMP number (int) or an
            L{Alias<proxier.datamodel.paths.Alias>}.
        @raise NotInModel: C{name} is not in the device's Device: model.
        @raise UnknownInstance: an instance segment the lookup does not know.
        """
        cms = self.mapped.get(name)
        if cms is not None:
            return cms
        if self.root is None:
            raise NotInModel(name)
        if name in ("", CWMP_ROOT):
            return self.root
        pattern = _cmsPattern(self.root, name)
        if pattern is None:
            raise NotInModel(name)
        pieces, partial = pattern
        out = pieces[0]
        for index in range(1, len(pieces), 2):
            segment = pieces[index]
            number = lookup(out, segment)
            if number is None:
                raise UnknownInstance(out, segment)
            out += f"{number}{pieces[index + 1]}"
        if len(out) + 1 > MAX_CMS_PATH:
            raise NotInModel(name)
        return out + "/" if partial else out

    def toCWMP(self, cms: str, numberFor: NumberFor) -> Optional[str]:
        """
        The CWMP path of a CMS path a device gave, or C{None} when it is not
        in the Virtual CWMP Device (outside the mapped models, malformed, or
        too long for CWMP).

        @param numberFor: C{(tablePath, upnpNumber) → CWMP number}, which
            assigns one to an instance seen for the first time.
        """
        mapped = self.reverse.get(cms)
        if mapped is not None:
            return mapped
        if self.root is None:
            return None
        pieces = _cwmpPattern(self.root, cms)
        if pieces is None:
            return None
        text = pieces[0]
        for index in range(1, len(pieces), 2):
            table, upnp = pieces[index]
            text += f"{numberFor(table, upnp)}{pieces[index + 1]}"
        if len(text) > cwmppaths.MAX_PATH_LENGTH:
            return None
        return text


_translators: dict[tuple[Optional[str], tuple[tuple[str, str], ...]], Translator] = {}
_MAX_TRANSLATORS = 64


# What a path translates to apart from its instance numbers, remembered by
# content (the model's root and the path: the same for every device of a
# model) and bounded as the parses are: a GetParameterValues translates
# every name asked one way and every path answered the other.


@lru_cache(maxsize=cwmppaths.PARSE_CACHE)
def _cmsPattern(root: str, name: str) -> Optional[tuple[tuple[object, ...], bool]]:
    """
    The CMS path of CWMP path C{name} below C{root} as C{(pieces,
    partial)}: texts with, between them, the CWMP instance segments (int or
    Alias) whose UPnP number goes there; the text before a segment ends
    with its table's path. C{None} when C{name} is not below C{Device.}.
    """
    try:
        parsed = cwmppaths.parse(name)
    except cwmppaths.PathError:
        return None
    if not parsed.segments or parsed.segments[0] != _ROOT_NAME:
        return None
    pieces: list[object] = []
    out = root.rstrip("/")
    for segment in parsed.segments[1:]:
        if isinstance(segment, str) and not isinstance(segment, cwmppaths.Alias):
            out += "/" + segment
            continue
        pieces += [intern(out + "/"), segment]
        out = ""
    pieces.append(intern(out))
    return tuple(pieces), parsed.partial


@lru_cache(maxsize=cwmppaths.PARSE_CACHE)
def _cwmpPattern(root: str, cms: str) -> Optional[tuple[object, ...]]:
    """
    The CWMP path of CMS path C{cms} below C{root}: texts with, between
    them, C{(tablePath, upnpNumber)} for each instance, whose CWMP number
    goes there. C{None} when C{cms} is not below C{root} or not a CMS path.
    """
    if not isUnder(root, cms):
        return None
    try:
        parsed = parse(cms)
    except CMSPathError:
        return None
    pieces: list[object] = []
    out = _ROOT_NAME
    prefix = root.rstrip("/")
    for segment in parsed.segments[len(parse(root).segments):]:
        if isinstance(segment, int):
            pieces += [intern(out + "."), (intern(prefix + "/"), segment)]
            out = ""
        else:
            out += "." + segment
        prefix += f"/{segment}"
    pieces.append(intern(out + "." if parsed.partial else out))
    return tuple(pieces)
