# -*- test-case-name: tests.test_datamodel_paths -*-
"""
CWMP path syntax (TR-069 Amendment 5 A.2.2.1 and 3.6.1, TR-106 3.1).

Every path that enters a data model from an ACS is checked here first, so
that the models themselves only ever see well-formed names:

 - a full parameter name: C{Device.DeviceInfo.SerialNumber};
 - a partial path (an object), ending in C{"."}: C{Device.Hosts.Host.3.};
 - the empty path C{""}: the top of the tree (it is a partial path);
 - instance numbers: 1-based, positive, no leading zeros, at most
   4294967295 (an unsignedInt);
 - instance aliases (TR-069 3.6.1): C{Device.Hosts.Host.[cpe-lan-1].};
 - node names: TR-106 names, a letter or C{_} then letters, digits, C{_}
   and C{-} (vendor extensions C{X_00D0F5_Name} and C{X_example-com_Name}
   fit the same rule);
 - at most 256 characters in all (the CWMP C{ParameterName} is a
   string(256)).

The functions are pure. L{parse} and L{schemaPath} remember their last
L{PARSE_CACHE} answers (a L{Path} is immutable, so one is shared): every
layer a name crosses (the endpoint's composite, a device's composite, the
device's model, the TR-181 typing of its value) checks or parses it, and
an ACS asks the same names again and again, of every device of a model.
The bound keeps a walk of a large table from holding every name it ever
saw: filled only by use, these and the UPnP DM translations
(L{proxier.upnpdm.cmspaths}) hold about 3 MB when all are full, however
many devices there are (node names are interned, so shared). A path that
is not valid is not remembered: it is parsed again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from sys import intern
from typing import Iterable, Union

from proxier.asciinum import isUnsigned

__all__ = [
    "PARSE_CACHE",
    "MAX_PATH_LENGTH",
    "MAX_ALIAS_LENGTH",
    "MAX_INSTANCE",
    "PathError",
    "Alias",
    "Segment",
    "Path",
    "parse",
    "check",
    "isPartial",
    "join",
    "isPrefix",
    "parent",
    "schemaPath",
    "nameError",
    "aliasError",
]

MAX_PATH_LENGTH = 256
#: How many paths L{parse} (and, apart, L{schemaPath}) remember.
PARSE_CACHE = 2048
MAX_ALIAS_LENGTH = 64
MAX_INSTANCE = 2**32 - 1

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_INSTANCE = re.compile(r"[1-9][0-9]*\Z")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")


class PathError(ValueError):
    """
    A path that is not valid CWMP syntax. C{str()} says why, in a few words
    naming the offending part; C{path} is the whole text.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path!r}: {reason}")


class Alias(str):
    """An instance alias segment (the text between the brackets)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Alias({str.__repr__(self)})"


# A segment is a node name (str), an instance number (int) or an Alias.
Segment = Union[str, int, Alias]


def nameError(name: str) -> str:
    """Why C{name} is not a valid node name, or C{""} when it is."""
    if not name:
        return "empty node name"
    if not _NAME.match(name):
        if "0" <= name[0] <= "9":
            return f"node name {name!r} starts with a digit"
        return f"node name {name!r} has characters other than letters, digits, '_' and '-'"
    return ""


def aliasError(alias: str) -> str:
    """
    Why C{alias} is not a valid instance alias (TR-069 3.6.1, TR-181
    C{Alias}: non-empty, at most 64 characters, starting with a letter,
    then letters, digits, C{_} and C{-}), or C{""} when it is.
    """
    if not alias:
        return "empty instance alias"
    if len(alias) > MAX_ALIAS_LENGTH:
        return f"instance alias longer than {MAX_ALIAS_LENGTH} characters"
    if not _ALIAS.match(alias):
        if not alias[0].isalpha() or not alias[0].isascii():
            return f"instance alias {alias!r} does not start with a letter"
        return f"instance alias {alias!r} has characters other than letters, digits, '_' and '-'"
    return ""


def _segmentText(segment: Segment) -> str:
    if isinstance(segment, Alias):
        return f"[{segment}]"
    return str(segment)


@dataclass(frozen=True, slots=True)
class Path:
    """
    A parsed CWMP path.

    @ivar text: the path as written.
    @ivar segments: node names (C{str}), instance numbers (C{int}) and
        aliases (L{Alias}).
    @ivar partial: C{True} for an object path (ending in C{"."}, or C{""}).
    """

    text: str
    segments: tuple[Segment, ...]
    partial: bool

    @property
    def isRoot(self) -> bool:
        """Whether this is the empty path, the top of the tree."""
        return not self.segments

    @property
    def last(self) -> Segment:
        """The last segment (the parameter's or the object's own name)."""
        return self.segments[-1]

    @property
    def parent(self) -> "Path":
        """The object holding this parameter or object (the root's parent is the root)."""
        if not self.segments:
            return self
        segments = self.segments[:-1]
        return Path(_textOf(segments, True), segments, True)

    @property
    def hasAlias(self) -> bool:
        return any(isinstance(s, Alias) for s in self.segments)

    def child(self, segment: Segment, partial: bool) -> "Path":
        """The path one level below this object."""
        if not self.partial:
            raise PathError(self.text, "a parameter has no children")
        segments = self.segments + (segment,)
        return Path(_textOf(segments, partial), segments, partial)

    def __str__(self) -> str:
        return self.text


def _textOf(segments: Iterable[Segment], partial: bool) -> str:
    text = ".".join(_segmentText(s) for s in segments)
    if partial and text:
        text += "."
    return text


def parse(text: str) -> Path:
    """
    Parse and check C{text} (remembered: see L{PARSE_CACHE}).

    @raise PathError: with the reason when it is not a valid CWMP path.
    """
    if not isinstance(text, str):
        raise PathError(repr(text), "a path is text")
    return _parse(text)


@lru_cache(maxsize=PARSE_CACHE)
def _parse(text: str) -> Path:
    if text == "":
        return Path("", (), True)
    if len(text) > MAX_PATH_LENGTH:
        raise PathError(text[:40] + "...", f"longer than {MAX_PATH_LENGTH} characters")
    partial = text.endswith(".")
    body = text[:-1] if partial else text
    if not body:
        raise PathError(text, "a path cannot be just '.'")
    parts = body.split(".")
    segments: list[Segment] = []
    for index, part in enumerate(parts):
        if not part:
            raise PathError(text, "empty node name (two dots together, or a leading dot)")
        first = part[0]
        if first == "[":
            if not part.endswith("]"):
                raise PathError(text, f"unclosed instance alias {part!r}")
            alias = part[1:-1]
            reason = aliasError(alias)
            if reason:
                raise PathError(text, reason)
            if index == 0:
                raise PathError(text, "a path cannot start with an instance alias")
            segments.append(Alias(alias))
        elif "0" <= first <= "9":
            if not _INSTANCE.match(part):
                if isUnsigned(part, maxDigits=len(part)):
                    raise PathError(text, f"instance number {part!r} is zero or has leading zeros")
                raise PathError(text, f"node name {part!r} starts with a digit")
            number = int(part)
            if number > MAX_INSTANCE:
                raise PathError(text, f"instance number {part} is above {MAX_INSTANCE}")
            if index == 0:
                raise PathError(text, "a path cannot start with an instance number")
            segments.append(number)
        else:
            if not _NAME.match(part):
                raise PathError(text, nameError(part))
            segments.append(intern(part))
    last = segments[-1]
    if not partial and (isinstance(last, (int, Alias))):
        raise PathError(text, "an instance names an object: a trailing '.' is missing")
    return Path(text, tuple(segments), partial)


def check(text: str) -> str:
    """Why C{text} is not a valid path, or C{""} when it is."""
    try:
        if not isinstance(text, str):
            raise PathError(repr(text), "a path is text")
        _parse(text)  # L{parse} without a call more: every layer checks every name asked
    except PathError as e:
        return e.reason
    return ""


def isPartial(text: str) -> bool:
    """Whether C{text} names an object (ends in C{"."}) or is the empty path."""
    return text == "" or text.endswith(".")


def join(prefix: str, *segments: Segment, partial: bool = False) -> str:
    """
    Append C{segments} to the object path C{prefix}.

    >>> join("Device.Hosts.", "Host", 3, partial=True)
    'Device.Hosts.Host.3.'

    @raise PathError: when C{prefix} is not an object path or the result is
        not a valid path.
    """
    if not isPartial(prefix):
        raise PathError(prefix, "only an object path (ending in '.') can be extended")
    text = prefix + _textOf(segments, partial)
    parse(text)
    return text


def isPrefix(prefix: str, path: str) -> bool:
    """
    Whether the object path C{prefix} is C{path} itself or holds it. The
    empty path holds everything; a parameter name holds only itself.
    """
    if prefix == path:
        return True
    return isPartial(prefix) and path.startswith(prefix)


def parent(text: str) -> str:
    """The object path holding C{text} (C{""} for a top-level node)."""
    body = text[:-1] if text.endswith(".") else text
    cut = body.rfind(".")
    return "" if cut < 0 else body[: cut + 1]


def schemaPath(text: str) -> str:
    """
    The data-model (schema) name of a concrete path: instance numbers and
    aliases become C{{i}}, as TR-181 writes table rows.

    >>> schemaPath("Device.Hosts.Host.3.IPAddress")
    'Device.Hosts.Host.{i}.IPAddress'

    @raise PathError: when C{text} is not a valid path.
    """
    if not isinstance(text, str):
        raise PathError(repr(text), "a path is text")
    return _schemaPath(text)


@lru_cache(maxsize=PARSE_CACHE)
def _schemaPath(text: str) -> str:
    path = _parse(text)
    return _textOf(("{i}" if not isinstance(s, str) or isinstance(s, Alias) else s for s in path.segments),
                   path.partial)
