# -*- test-case-name: tests.test_upnp_ssdp -*-
"""
SSDP messages (UPnP Device Architecture 1.1/2.0, §1): NOTIFY (C{ssdp:alive},
C{ssdp:byebye}, C{ssdp:update}), M-SEARCH, and the unicast answers to a search.

Sans-IO: L{parse} turns one datagram into a L{Notify}, L{Search} or
L{SearchResponse}; each of those turns back into a datagram with C{toBytes()}.
The control point parses NOTIFYs and search answers and serializes searches;
the simulated devices of L{proxier.sim} do the opposite, with the same code.

Parsing is lenient where real devices are sloppy (INTEROP.md, SSDP): C{HTTP/1.0},
header names in any case, C{max-age = N} with spaces or among other
directives, a missing C{CACHE-CONTROL} (then C{EXPIRES}, then 1800 s), lines
ending in a bare LF, trailing NUL bytes or garbage after the header block. It
is strict where leniency would be dangerous: a size cap, a cap on the number
of header lines, and the fields a message cannot do without.
Serializing is strict: a value holding CR or LF is refused, so that no field
taken from elsewhere can inject a header.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field, replace
from typing import Mapping, Optional, Sequence, Union

from proxier.asciinum import isUnsigned, parseUnsigned
from proxier.sharing import internText

__all__ = [
    "SSDP_PORT",
    "IPV4_GROUP",
    "IPV6_LINK_LOCAL_GROUP",
    "IPV6_SITE_LOCAL_GROUP",
    "DEFAULT_MAX_AGE",
    "MAX_DATAGRAM_BYTES",
    "MAX_MX",
    "ALIVE",
    "BYEBYE",
    "UPDATE",
    "ALL",
    "ROOT_DEVICE",
    "DISCOVER",
    "ABOUT_TO_REBOOT",
    "ABOUT_TO_BASELINE_RESET",
    "ANNOUNCEMENTS",
    "SSDPError",
    "Notify",
    "Search",
    "SearchResponse",
    "Message",
    "parse",
    "hostHeader",
    "splitUSN",
    "UPnPType",
    "parseType",
    "searchTargetMatches",
    "parseCacheControl",
]

SSDP_PORT = 1900
IPV4_GROUP = "239.255.255.250"
IPV6_LINK_LOCAL_GROUP = "ff02::c"
IPV6_SITE_LOCAL_GROUP = "ff05::c"

#: UDA 1.1 §1.2.2: max-age "SHOULD be greater than or equal to 1800 seconds";
#: with neither CACHE-CONTROL nor EXPIRES we assume that much.
DEFAULT_MAX_AGE = 1800

#: A datagram larger than this is dropped unread. UDA 1.1 keeps SSDP messages
#: within one MTU-sized packet; 8 KiB leaves room for verbose devices.
MAX_DATAGRAM_BYTES = 8192
#: More header lines than this is not a real device.
MAX_HEADER_LINES = 64
#: UDA 1.1 §1.3.2: MX "SHOULD be between 1 and 5"; a device treats more as 5.
MAX_MX = 5

ALIVE = "ssdp:alive"
BYEBYE = "ssdp:byebye"
UPDATE = "ssdp:update"
_NTS = (ALIVE, BYEBYE, UPDATE)

ALL = "ssdp:all"
ROOT_DEVICE = "upnp:rootdevice"
DISCOVER = '"ssdp:discover"'

#: UPnP DM BasicManagement:2, §2.4.1 (quoted by TR-330 §4.2): the values of
#: the Announcement.dm.upnp.org header a device puts on its byebye.
ABOUT_TO_REBOOT = "AboutToReboot"
ABOUT_TO_BASELINE_RESET = "AboutToBaselineReset"
ANNOUNCEMENTS = (ABOUT_TO_REBOOT, ABOUT_TO_BASELINE_RESET)

# Header names as they are written on the wire (parsing ignores case).
H_HOST = "HOST"
H_CACHE_CONTROL = "CACHE-CONTROL"
H_EXPIRES = "EXPIRES"
H_DATE = "DATE"
H_LOCATION = "LOCATION"
H_NT = "NT"
H_NTS = "NTS"
H_SERVER = "SERVER"
H_USN = "USN"
H_ST = "ST"
H_MAN = "MAN"
H_MX = "MX"
H_EXT = "EXT"
H_USER_AGENT = "USER-AGENT"
H_BOOTID = "BOOTID.UPNP.ORG"
H_CONFIGID = "CONFIGID.UPNP.ORG"
H_NEXTBOOTID = "NEXTBOOTID.UPNP.ORG"
H_SEARCHPORT = "SEARCHPORT.UPNP.ORG"
H_SECURELOCATION = "SECURELOCATION.UPNP.ORG"
H_ANNOUNCEMENT = "Announcement.dm.upnp.org"

_KNOWN = {
    h.lower()
    for h in (
        H_HOST, H_CACHE_CONTROL, H_EXPIRES, H_DATE, H_LOCATION, H_NT, H_NTS, H_SERVER, H_USN, H_ST,
        H_MAN, H_MX, H_EXT, H_USER_AGENT, H_BOOTID, H_CONFIGID, H_NEXTBOOTID, H_SEARCHPORT,
        H_SECURELOCATION, H_ANNOUNCEMENT,
    )
}

_MAX_ID = 2**31 - 1  # UDA 1.1 §1.2.2: BOOTID and CONFIGID are 31-bit non-negative
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_MAX_AGE = re.compile(r'(?:^|[,;\s])max-age\s*=\s*"?\s*([0-9]{1,10})\s*"?', re.IGNORECASE | re.ASCII)


class SSDPError(ValueError):
    """Not an SSDP message the proxier accepts; C{str()} is fit for a log line."""


Headers = tuple[tuple[str, str], ...]


def hostHeader(group: str, port: int = SSDP_PORT) -> str:
    """The HOST value for a multicast group (or a unicast target): IPv6 in brackets."""
    if ":" in group:
        return f"[{group.upper()}]:{port}"
    return f"{group}:{port}"


@dataclass(frozen=True)
class Notify:
    """
    A NOTIFY: a device announcing itself (C{ssdp:alive}), leaving
    (C{ssdp:byebye}) or changing its boot or network identity (C{ssdp:update}).

    @ivar nts: L{ALIVE}, L{BYEBYE} or L{UPDATE}.
    @ivar nt: the notification type (a device or service type, a UUID, or
        L{ROOT_DEVICE}).
    @ivar usn: the unique service name (C{uuid:...::<nt>}).
    @ivar location: the description URL (required for alive and update).
    @ivar maxAge: seconds the announcement is valid (alive only); after
        parsing, already resolved from CACHE-CONTROL, EXPIRES or the default.
    @ivar maxAgeSource: C{"cache-control"}, C{"expires"} or C{"default"}
        (parsed messages only).
    @ivar bootId: BOOTID.UPNP.ORG, or C{None} (UDA 1.0 devices).
    @ivar configId: CONFIGID.UPNP.ORG, or C{None}.
    @ivar nextBootId: NEXTBOOTID.UPNP.ORG (C{ssdp:update} only).
    @ivar searchPort: SEARCHPORT.UPNP.ORG, when the device answers unicast
        searches on a port other than 1900.
    @ivar secureLocation: SECURELOCATION.UPNP.ORG (the HTTPS description URL
        of a device with DeviceProtection), or C{""}.
    @ivar announcement: the Announcement.dm.upnp.org value (L{ABOUT_TO_REBOOT}
        or L{ABOUT_TO_BASELINE_RESET} on a byebye), or C{""}.
    @ivar host: the HOST value.
    @ivar server: the SERVER value.
    @ivar extra: other header fields, in order, as C{(name, value)}.
    """

    nts: str
    nt: str
    usn: str
    location: str = ""
    maxAge: Optional[int] = None
    server: str = ""
    bootId: Optional[int] = None
    configId: Optional[int] = None
    nextBootId: Optional[int] = None
    searchPort: Optional[int] = None
    secureLocation: str = ""
    announcement: str = ""
    host: str = hostHeader(IPV4_GROUP)
    extra: Headers = ()
    maxAgeSource: str = field(default="", compare=False)

    @property
    def udn(self) -> str:
        """The device's UDN (C{uuid:...}), from the USN."""
        return splitUSN(self.usn)[0]

    def toBytes(self) -> bytes:
        if self.nts not in _NTS:
            raise ValueError(f"NTS must be one of {', '.join(_NTS)}, not {self.nts!r}")
        lines: list[tuple[str, object]] = [(H_HOST, self.host)]
        if self.nts == ALIVE:
            lines.append((H_CACHE_CONTROL, f"max-age={self.maxAge if self.maxAge is not None else DEFAULT_MAX_AGE}"))
        if self.location or self.nts != BYEBYE:
            lines.append((H_LOCATION, self.location))
        lines += [(H_NT, self.nt), (H_NTS, self.nts)]
        if self.server or self.nts == ALIVE:
            lines.append((H_SERVER, self.server))
        lines.append((H_USN, self.usn))
        lines += _optional(self)
        if self.nextBootId is not None:
            lines.append((H_NEXTBOOTID, self.nextBootId))
        if self.announcement:
            lines.append((H_ANNOUNCEMENT, self.announcement))
        return _serialize("NOTIFY * HTTP/1.1", lines, self.extra)


@dataclass(frozen=True)
class Search:
    """
    An M-SEARCH.

    @ivar st: the search target: L{ALL}, L{ROOT_DEVICE}, a UDN, or a device or
        service type.
    @ivar mx: the most seconds a device may wait before answering; C{None}
        when absent (a unicast search, or a sloppy control point).
    @ivar man: the MAN value (always L{DISCOVER} in a valid search).
    @ivar host: the HOST value (the group, or the unicast target).
    @ivar userAgent: the USER-AGENT value.
    @ivar extra: other header fields (TCPPORT.UPNP.ORG, CPFN.UPNP.ORG, ...).
    """

    st: str
    mx: Optional[int] = 2
    man: str = DISCOVER
    host: str = hostHeader(IPV4_GROUP)
    userAgent: str = ""
    extra: Headers = ()

    @property
    def effectiveMX(self) -> Optional[int]:
        """
        The most seconds a device waits before answering: MX, but never more
        than 5 (UDA 1.1 §1.3.2: a device treats a larger MX as 5). C{None}
        when MX is absent: a unicast search is answered at once, and a
        multicast one without MX is discarded (UDA 1.1 §1.3.2).
        """
        if self.mx is None:
            return None
        return min(self.mx, MAX_MX)

    def toBytes(self) -> bytes:
        lines: list[tuple[str, object]] = [(H_HOST, self.host), (H_MAN, self.man)]
        if self.mx is not None:
            lines.append((H_MX, self.mx))
        lines.append((H_ST, self.st))
        if self.userAgent:
            lines.append((H_USER_AGENT, self.userAgent))
        return _serialize("M-SEARCH * HTTP/1.1", lines, self.extra)


@dataclass(frozen=True)
class SearchResponse:
    """
    A device's unicast answer to an M-SEARCH (C{HTTP/1.1 200 OK}).

    The fields mean what they mean in L{Notify}; C{st} is the search target
    the device answers (its own type, which may be a newer version than the
    one searched for), and C{date} the DATE value, if any.
    """

    st: str
    usn: str
    location: str
    maxAge: Optional[int] = None
    server: str = ""
    bootId: Optional[int] = None
    configId: Optional[int] = None
    searchPort: Optional[int] = None
    secureLocation: str = ""
    date: str = ""
    extra: Headers = ()
    maxAgeSource: str = field(default="", compare=False)

    @property
    def udn(self) -> str:
        return splitUSN(self.usn)[0]

    @property
    def nt(self) -> str:
        """The type this answer is about (the ST), named as in a NOTIFY."""
        return self.st

    def toBytes(self) -> bytes:
        lines: list[tuple[str, object]] = [
            (H_CACHE_CONTROL, f"max-age={self.maxAge if self.maxAge is not None else DEFAULT_MAX_AGE}"),
        ]
        if self.date:
            lines.append((H_DATE, self.date))
        lines += [
            (H_EXT, ""),
            (H_LOCATION, self.location),
            (H_SERVER, self.server),
            (H_ST, self.st),
            (H_USN, self.usn),
        ]
        lines += _optional(self)
        return _serialize("HTTP/1.1 200 OK", lines, self.extra)


Message = Union[Notify, Search, SearchResponse]


def _optional(message: Union[Notify, SearchResponse]) -> list[tuple[str, object]]:
    lines: list[tuple[str, object]] = []
    if message.bootId is not None:
        lines.append((H_BOOTID, message.bootId))
    if message.configId is not None:
        lines.append((H_CONFIGID, message.configId))
    if message.searchPort is not None:
        lines.append((H_SEARCHPORT, message.searchPort))
    if message.secureLocation:
        lines.append((H_SECURELOCATION, message.secureLocation))
    return lines


def _serialize(startLine: str, lines: Sequence[tuple[str, object]], extra: Headers) -> bytes:
    out = [startLine]
    for name, value in list(lines) + list(extra):
        text = str(value)
        if not _TOKEN.match(name):
            raise ValueError(f"not a header name: {name!r}")
        if "\r" in text or "\n" in text or "\x00" in text:
            raise ValueError(f"header {name} holds a line break or NUL")
        out.append(f"{name}: {text}" if text else f"{name}:")
    data = ("\r\n".join(out) + "\r\n\r\n").encode("utf-8")
    if len(data) > MAX_DATAGRAM_BYTES:
        raise ValueError(f"SSDP message of {len(data)} bytes exceeds {MAX_DATAGRAM_BYTES}")
    return data


# Parsing


def parse(data: bytes, *, now: Optional[float] = None) -> Message:
    """
    Parse one SSDP datagram.

    @param now: the current POSIX time, used only to turn an EXPIRES without
        a DATE into a max-age (without it, such a message gets the default).
    @raise SSDPError: the datagram is not an SSDP message we act on.
    """
    if len(data) > MAX_DATAGRAM_BYTES:
        raise SSDPError(f"datagram of {len(data)} bytes exceeds the {MAX_DATAGRAM_BYTES}-byte cap")
    startLine, headers, extra = _split(data)
    words = startLine.split()
    if len(words) >= 2 and words[0].upper().startswith("HTTP/1."):
        if words[1] != "200":
            raise SSDPError(f"search response with status {words[1][:8]!r}")
        return _searchResponse(headers, extra, now)
    if len(words) != 3 or words[1] != "*" or not words[2].upper().startswith("HTTP/1."):
        raise SSDPError(f"not an SSDP start line: {startLine[:60]!r}")
    method = words[0].upper()
    if method == "NOTIFY":
        return _notify(headers, extra, now)
    if method == "M-SEARCH":
        return _search(headers, extra)
    raise SSDPError(f"unknown SSDP method {words[0][:20]!r}")


def _split(data: bytes) -> tuple[str, dict[str, str], Headers]:
    """The start line, the known headers (lower-case names, first wins), the others."""
    data = data.rstrip(b"\x00")
    end = len(data)
    for marker in (b"\r\n\r\n", b"\n\n"):
        found = data.find(marker)
        if found != -1:
            end = min(end, found)
    text = data[:end].decode("utf-8", "replace")
    lines = text.replace("\r\n", "\n").split("\n")
    if len(lines) > MAX_HEADER_LINES + 1:
        raise SSDPError(f"more than {MAX_HEADER_LINES} header lines")
    startLine = lines[0].strip()
    if not startLine:
        raise SSDPError("empty datagram")
    headers: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    last: Optional[str] = None
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and last is not None:  # obsolete line folding
            if last in headers:
                headers[last] = (headers[last] + " " + line.strip()).strip()
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not _TOKEN.match(name):
            last = None
            continue  # garbage line: skipped
        lowered = name.lower()
        value = value.strip()
        last = lowered if lowered in _KNOWN else None
        if lowered in _KNOWN:
            headers.setdefault(lowered, value)
        else:
            extra.append((name, value))
    return startLine, headers, tuple(extra)


def _require(headers: Mapping[str, str], name: str, what: str) -> str:
    value = headers.get(name.lower(), "")
    if not value:
        raise SSDPError(f"{what} without {name}")
    return value


def _numeric(headers: Mapping[str, str], name: str) -> str:
    """
    The value of a numeric header; L{SSDPError} when it holds anything but
    ASCII (a Unicode digit such as C{"①"} is no UDA 1.0 quirk but a corrupt
    or forged packet, dropped with its reason logged).
    """
    value = headers.get(name.lower(), "").strip()
    if not value.isascii():
        raise SSDPError(f"{name} {value[:20]!r} is not an ASCII number")
    return value


def _id(headers: Mapping[str, str], name: str) -> Optional[int]:
    """A 31-bit identifier; an absent or malformed (ASCII) one is C{None}."""
    try:
        return parseUnsigned(_numeric(headers, name), _MAX_ID, maxDigits=10, what=name)
    except SSDPError:
        raise
    except ValueError:
        return None


def _port(headers: Mapping[str, str]) -> Optional[int]:
    try:  # UDA 1.1 §1.2.2: SEARCHPORT is in 49152-65535
        return parseUnsigned(_numeric(headers, H_SEARCHPORT), 65535, minValue=49152, maxDigits=5)
    except SSDPError:
        raise
    except ValueError:
        return None


def parseCacheControl(value: str) -> Optional[int]:
    """The max-age of a CACHE-CONTROL value, wherever it sits among directives."""
    match = _MAX_AGE.search(value)
    return int(match.group(1)) if match else None


def _maxAge(headers: Mapping[str, str], now: Optional[float]) -> tuple[int, str]:
    """
    How long an announcement is valid: CACHE-CONTROL max-age; else EXPIRES
    (relative to DATE when there is one, so that a device's wrong clock does
    not matter; else to C{now}); else L{DEFAULT_MAX_AGE}.
    """
    if H_CACHE_CONTROL.lower() in headers:
        age = parseCacheControl(headers[H_CACHE_CONTROL.lower()])
        if age is not None:
            return age, "cache-control"
    expires = _httpDate(headers.get(H_EXPIRES.lower(), ""))
    if expires is not None:
        date = _httpDate(headers.get(H_DATE.lower(), ""))
        reference = date if date is not None else now
        if reference is not None and expires - reference > 0:
            return int(expires - reference), "expires"
    return DEFAULT_MAX_AGE, "default"


def _httpDate(value: str) -> Optional[float]:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # fields of 20 digits overflow
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # HTTP dates are GMT
        import datetime

        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def _notify(headers: dict[str, str], extra: Headers, now: Optional[float]) -> Notify:
    nts = _require(headers, H_NTS, "NOTIFY").lower()
    if nts not in _NTS:
        raise SSDPError(f"NOTIFY with unknown NTS {nts[:40]!r}")
    nt = _require(headers, H_NT, "NOTIFY")
    usn = _require(headers, H_USN, "NOTIFY")
    _checkUSN(usn)
    location = headers.get(H_LOCATION.lower(), "")
    if nts != BYEBYE and not location:
        raise SSDPError(f"{nts} without LOCATION")
    maxAge, source = _maxAge(headers, now) if nts == ALIVE else (None, "")
    return Notify(
        nts=nts,
        nt=nt,
        usn=usn,
        location=location,
        maxAge=maxAge,
        maxAgeSource=source,
        server=headers.get(H_SERVER.lower(), ""),
        bootId=_id(headers, H_BOOTID),
        configId=_id(headers, H_CONFIGID),
        nextBootId=_id(headers, H_NEXTBOOTID),
        searchPort=_port(headers),
        secureLocation=headers.get(H_SECURELOCATION.lower(), ""),
        announcement=headers.get(H_ANNOUNCEMENT.lower(), ""),
        host=headers.get(H_HOST.lower(), ""),
        extra=extra,
    )


def _search(headers: dict[str, str], extra: Headers) -> Search:
    man = _require(headers, H_MAN, "M-SEARCH")
    if man.strip().strip('"').lower() != "ssdp:discover":
        raise SSDPError(f"M-SEARCH with MAN {man[:40]!r}")
    st = _require(headers, H_ST, "M-SEARCH")
    mxText = headers.get(H_MX.lower())
    mx: Optional[int] = None
    if mxText is not None and mxText != "":
        if not isUnsigned(mxText, maxDigits=10):
            raise SSDPError(f"M-SEARCH with MX {mxText[:20]!r}")
        mx = int(mxText)
    return Search(
        st=st,
        mx=mx,
        man=man,
        host=headers.get(H_HOST.lower(), ""),
        userAgent=headers.get(H_USER_AGENT.lower(), ""),
        extra=extra,
    )


def _searchResponse(headers: dict[str, str], extra: Headers, now: Optional[float]) -> SearchResponse:
    st = _require(headers, H_ST, "search response")
    usn = _require(headers, H_USN, "search response")
    _checkUSN(usn)
    location = _require(headers, H_LOCATION, "search response")
    maxAge, source = _maxAge(headers, now)
    return SearchResponse(
        st=st,
        usn=usn,
        location=location,
        maxAge=maxAge,
        maxAgeSource=source,
        server=headers.get(H_SERVER.lower(), ""),
        bootId=_id(headers, H_BOOTID),
        configId=_id(headers, H_CONFIGID),
        searchPort=_port(headers),
        secureLocation=headers.get(H_SECURELOCATION.lower(), ""),
        date=headers.get(H_DATE.lower(), ""),
        extra=extra,
    )


# USNs and types

_MAX_USN = 512


def _checkUSN(usn: str) -> None:
    if len(usn) > _MAX_USN:
        raise SSDPError(f"USN longer than {_MAX_USN} characters")
    udn = splitUSN(usn)[0]
    if not udn.lower().startswith("uuid:") or len(udn) <= 5:
        raise SSDPError(f"USN {usn[:80]!r} does not start with a uuid: UDN")


def splitUSN(usn: str) -> tuple[str, str]:
    """
    C{"uuid:X::urn:...:1"} → C{("uuid:X", "urn:...:1")}; C{"uuid:X"} →
    C{("uuid:X", "")}.
    """
    udn, _, rest = usn.strip().partition("::")
    return udn.strip(), rest.strip()


@dataclass(frozen=True, slots=True)
class UPnPType:
    """A device or service type: C{urn:<domain>:<kind>:<name>:<version>}."""

    domain: str
    kind: str
    name: str
    version: int

    def __str__(self) -> str:
        return f"urn:{self.domain}:{self.kind}:{self.name}:{self.version}"

    def withVersion(self, version: int) -> "UPnPType":
        return replace(self, version=version)


def parseType(text: str) -> Optional[UPnPType]:
    """The parts of a device or service type, or C{None} when it is not one."""
    parts = text.strip().split(":")
    if len(parts) != 5 or parts[0].lower() != "urn" or parts[2] not in ("device", "service"):
        return None
    if not isUnsigned(parts[4], maxDigits=9) or not parts[1] or not parts[3]:
        return None
    # interned: what the profiles of a fleet keep is the same few types (issue 19)
    return UPnPType(internText(parts[1]), internText(parts[2]), internText(parts[3]), int(parts[4]))


def searchTargetMatches(st: str, nt: str) -> bool:
    """
    Whether something announced as C{nt} answers a search for C{st}
    (UDA 1.1 §1.3.2): C{ssdp:all} matches everything; a type matches the same
    type at the same or a newer version (a C{:2} device answers a C{:1}
    search); UDNs and C{upnp:rootdevice} match themselves.
    """
    st, nt = st.strip(), nt.strip()
    if st == ALL:
        return True
    wanted, offered = parseType(st), parseType(nt)
    if wanted is not None and offered is not None:
        return (
            wanted.domain == offered.domain
            and wanted.kind == offered.kind
            and wanted.name == offered.name
            and offered.version >= wanted.version
        )
    if st.lower().startswith("uuid:"):
        return st.lower() == nt.lower()
    return st == nt
