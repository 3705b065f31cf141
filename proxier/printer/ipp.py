# -*- test-case-name: tests.test_printer_ipp -*-
"""
The IPP message encoding (RFC 8010 §3), sans-IO: C{bytes} in,
L{IPPMessage} out, and back.

Both directions exist because the client sends requests and reads
responses, and the fake printer of the unit tests does the reverse.

Every value tag of RFC 8010 §3.5.2 is read and written: integers, booleans
and enums as C{int}/C{bool}; C{dateTime} as its eleven raw octets;
C{resolution} as L{Resolution}; C{rangeOfInteger} as a C{(low, high)}
tuple; the C{…WithLanguage} strings as L{TextWithLanguage}; collections
(§3.1.6, with C{memberAttrName}) as L{Collection}; out-of-band values
(C{unsupported}, C{unknown}, C{no-value}, and RFC 3380's C{not-settable},
C{delete-attribute}, C{admin-define}) as C{None} with their tag. A value
with a tag this module does not know keeps its raw octets and its tag, and
is written back unchanged; so does an extended (0x7f) tag.

B{Duplicate attributes}: an attribute name repeated within one group (or
a member name repeated within one collection) is not an error, because
real peers send them (cupsd after CUPS-Add-Modify-Printer, ippeveprinter
with C{-a} files). The rule: B{the first occurrence wins}; the later ones
are dropped and named in L{IPPMessage.duplicates}, for the caller to log.

B{Caps}: the input length (L{Limits.maxMessage}), the attributes in a
message, the values of one attribute, the nesting of collections. A
malformed, truncated or oversized message raises L{IPPError} (a
C{ValueError}) whose text says where and why; nothing else escapes
L{decode}.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

from proxier.printer import ipptags as T

__all__ = [
    "IPPError",
    "Limits",
    "Value",
    "Attribute",
    "Collection",
    "AttributeGroup",
    "IPPMessage",
    "Resolution",
    "TextWithLanguage",
    "decode",
    "encode",
    "value",
    "request",
]


class IPPError(ValueError):
    """A message that is not valid RFC 8010, or exceeds a cap; C{str()} says why."""


@dataclass(frozen=True)
class Limits:
    """
    What L{decode} accepts.

    @ivar maxMessage: octets of the whole message (document data included).
    @ivar maxAttributes: attributes and collection members, all groups.
    @ivar maxValues: values of one attribute.
    @ivar maxDepth: collections nested in collections.
    """

    maxMessage: int = 4 << 20
    maxAttributes: int = 8192
    maxValues: int = 2048
    maxDepth: int = 8


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Resolution:
    """RFC 8010 §3.9 resolution: units 3 = dots per inch, 4 = dots per centimetre."""

    crossFeed: int
    feed: int
    units: int


@dataclass(frozen=True)
class TextWithLanguage:
    """textWithLanguage / nameWithLanguage (RFC 8010 §3.9)."""

    language: str
    text: str


@dataclass(frozen=True)
class Value:
    """
    One attribute value with its tag.

    @ivar tag: the value tag (for an extended 0x7f tag: 0x7f).
    @ivar value: see the module docstring for the type of each tag.
    """

    tag: int
    value: Any

    @property
    def outOfBand(self) -> bool:
        return self.tag in T.OUT_OF_BAND_TAGS


@dataclass(frozen=True)
class Attribute:
    """An attribute or collection member: a name and one or more values."""

    name: str
    values: tuple[Value, ...]

    @property
    def value(self) -> Any:
        """The first value's Python value."""
        return self.values[0].value

    @property
    def tag(self) -> int:
        return self.values[0].tag


class _Named:
    """Ordered attributes by name (first occurrence wins); shared by groups and collections."""

    attributes: dict[str, Attribute]

    def __contains__(self, name: object) -> bool:
        return name in self.attributes

    def __getitem__(self, name: str) -> Attribute:
        return self.attributes[name]

    def get(self, name: str, default: Any = None) -> Any:
        """The first value of an attribute, or C{default}."""
        attribute = self.attributes.get(name)
        return default if attribute is None else attribute.value

    def getAll(self, name: str) -> list[Any]:
        """Every value of an attribute (empty when absent)."""
        attribute = self.attributes.get(name)
        return [] if attribute is None else [v.value for v in attribute.values]

    def __iter__(self) -> Iterator[Attribute]:
        return iter(self.attributes.values())

    def __len__(self) -> int:
        return len(self.attributes)


class Collection(_Named):
    """A collection value (RFC 8010 §3.1.6): its members, in order."""

    def __init__(self, members: Iterable[Attribute] = ()) -> None:
        self.attributes = {}
        for member in members:
            self.attributes.setdefault(member.name, member)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collection) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Collection({list(self)!r})"

    __hash__ = None  # type: ignore[assignment]


class AttributeGroup(_Named):
    """One attribute group: its delimiter tag and its attributes in order."""

    def __init__(self, tag: int, attributes: Iterable[Attribute] = ()) -> None:
        self.tag = tag
        self.attributes = {}
        for attribute in attributes:
            self.attributes.setdefault(attribute.name, attribute)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AttributeGroup) and self.tag == other.tag and list(self) == list(other)

    def __repr__(self) -> str:
        return f"AttributeGroup({T.tagName(self.tag)}, {list(self)!r})"

    __hash__ = None  # type: ignore[assignment]


@dataclass
class IPPMessage:
    """
    A request or a response.

    @ivar code: the operation-id (request) or status-code (response).
    @ivar duplicates: C{(group tag, name)} of each dropped duplicate
        (collection members as C{"outer.member"}), set by L{decode}.
    @ivar data: what follows the end-of-attributes tag (a document).
    """

    code: int
    requestId: int
    groups: list[AttributeGroup] = field(default_factory=list)
    version: tuple[int, int] = (2, 0)
    data: bytes = b""
    duplicates: list[tuple[int, str]] = field(default_factory=list)

    def group(self, tag: int) -> Optional[AttributeGroup]:
        """The first group with this tag, if any."""
        for g in self.groups:
            if g.tag == tag:
                return g
        return None

    def allGroups(self, tag: int) -> list[AttributeGroup]:
        return [g for g in self.groups if g.tag == tag]

    @property
    def operation(self) -> AttributeGroup:
        """The operation attributes (an empty group when there are none)."""
        return self.group(0x01) or AttributeGroup(0x01)


def value(tag: Union[int, str], v: Any = None) -> Value:
    """A L{Value} with a tag given by number or by name (C{"keyword"})."""
    if isinstance(tag, str):
        for number, name in T.VALUE_TAGS.items():
            if name == tag:
                return Value(number, v)
        raise KeyError(tag)
    return Value(tag, v)


# ---------------------------------------------------------------- decoding


class _Reader:
    def __init__(self, data: bytes, limits: Limits) -> None:
        self.data = data
        self.pos = 0
        self.limits = limits
        self.attributes = 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise IPPError(f"truncated at octet {self.pos}: {what} needs {n} octets, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def short(self, what: str) -> int:
        return struct.unpack(">H", self.take(2, what))[0]

    def peek(self) -> Optional[int]:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def count(self) -> None:
        self.attributes += 1
        if self.attributes > self.limits.maxAttributes:
            raise IPPError(f"more than {self.limits.maxAttributes} attributes")


def _text(raw: bytes) -> str:
    # RFC 8011 §5.1: text and name are UTF-8; a peer's stray byte is shown, not fatal
    return raw.decode("utf-8", "replace")


def _decodeValue(tag: int, raw: bytes, at: int) -> Any:
    name = T.tagName(tag)
    if tag in T.OUT_OF_BAND_TAGS:
        return None  # RFC 8010 §3.8: the receiver ignores the value field
    if tag in (0x21, 0x23):
        if len(raw) != 4:
            raise IPPError(f"octet {at}: {name} value of {len(raw)} octets, not 4")
        return struct.unpack(">i", raw)[0]
    if tag == 0x22:
        if len(raw) != 1 or raw[0] > 1:
            raise IPPError(f"octet {at}: boolean value {raw[:4].hex()} is not one octet 00 or 01")
        return raw[0] == 1
    if tag == 0x31:
        if len(raw) != 11:
            raise IPPError(f"octet {at}: dateTime value of {len(raw)} octets, not 11")
        return raw
    if tag == 0x32:
        if len(raw) != 9:
            raise IPPError(f"octet {at}: resolution value of {len(raw)} octets, not 9")
        x, y, units = struct.unpack(">iib", raw)
        return Resolution(x, y, units)
    if tag == 0x33:
        if len(raw) != 8:
            raise IPPError(f"octet {at}: rangeOfInteger value of {len(raw)} octets, not 8")
        return struct.unpack(">ii", raw)
    if tag in (0x35, 0x36):
        if len(raw) < 2:
            raise IPPError(f"octet {at}: {name} value too short")
        n = struct.unpack(">H", raw[:2])[0]
        if 2 + n + 2 > len(raw):
            raise IPPError(f"octet {at}: {name} language length {n} overruns the value")
        language = raw[2:2 + n]
        m = struct.unpack(">H", raw[2 + n:4 + n])[0]
        if 4 + n + m != len(raw):
            raise IPPError(f"octet {at}: {name} text length {m} does not fill the value of {len(raw)} octets")
        return TextWithLanguage(_text(language), _text(raw[4 + n:]))
    if tag in T.STRING_TAGS:
        return _text(raw)
    return bytes(raw)  # octetString, extension, unassigned tags: raw octets


def _readValue(r: _Reader) -> tuple[int, str, int, bytes]:
    """tag, name, offset, raw value — of the next attribute-with-one-value."""
    at = r.pos
    tag = r.take(1, "value tag")[0]
    nameLength = r.short("name-length")
    name = r.take(nameLength, "name")
    valueLength = r.short("value-length")
    raw = r.take(valueLength, f"the value of {name[:40]!r}")
    if tag == T.EXTENSION and valueLength < 4:
        raise IPPError(f"octet {at}: extended tag 0x7f without its four-octet type")
    return tag, name.decode("utf-8", "replace"), at, raw


def _isValueTag(tag: Optional[int]) -> bool:
    return tag is not None and tag >= 0x10


def _readCollection(r: _Reader, depth: int, where: str, duplicates: list, groupTag: int) -> Collection:
    """Members up to and including the endCollection (the begCollection already read)."""
    if depth > r.limits.maxDepth:
        raise IPPError(f"collections nested more than {r.limits.maxDepth} deep at octet {r.pos}")
    members: list[Attribute] = []
    seen: set[str] = set()
    current: Optional[tuple[str, list[Value]]] = None

    def close() -> None:
        if current is None:
            return
        name, values = current
        if not values:
            raise IPPError(f"{where}: member {name[:40]!r} has no value")
        if name in seen:
            duplicates.append((groupTag, f"{where}.{name}"))
        else:
            seen.add(name)
            members.append(Attribute(name, tuple(values)))

    while True:
        tag, name, at, raw = _readValue(r)
        if name:
            raise IPPError(f"octet {at}: a named attribute {name[:40]!r} inside the collection {where!r}")
        if tag == T.END_COLLECTION:
            close()
            return Collection(members)
        if tag == T.MEMBER_ATTR_NAME:
            close()
            if not raw:
                raise IPPError(f"octet {at}: empty memberAttrName in {where!r}")
            r.count()
            current = (_text(raw), [])
            continue
        if current is None:
            raise IPPError(f"octet {at}: a value before any memberAttrName in {where!r}")
        if len(current[1]) >= r.limits.maxValues:
            raise IPPError(f"{where}.{current[0][:40]}: more than {r.limits.maxValues} values")
        if tag == T.BEGIN_COLLECTION:
            current[1].append(Value(tag, _readCollection(r, depth + 1, f"{where}.{current[0]}", duplicates, groupTag)))
        elif tag in T.DELIMITER_TAGS or tag < 0x10:
            raise IPPError(f"octet {at}: delimiter tag 0x{tag:02x} inside the collection {where!r}")
        else:
            current[1].append(Value(tag, _decodeValue(tag, raw, at)))


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> IPPMessage:
    """
    Read one IPP message (RFC 8010 §3.1).

    @raise IPPError: malformed, truncated, or over a cap of C{limits}.
    """
    if len(data) > limits.maxMessage:
        raise IPPError(f"message of {len(data)} octets exceeds the cap of {limits.maxMessage}")
    r = _Reader(bytes(data), limits)
    major, minor = r.take(2, "version-number")
    code = r.short("operation-id/status-code")
    requestId = struct.unpack(">i", r.take(4, "request-id"))[0]
    message = IPPMessage(code, requestId, version=(major, minor))
    groupTag: Optional[int] = None
    attributes: list[Attribute] = []
    seen: set[str] = set()
    last: Optional[tuple[str, list[Value]]] = None

    def closeAttribute() -> None:
        nonlocal last
        if last is not None:
            name, values = last
            if name in seen:
                message.duplicates.append((groupTag, name))  # type: ignore[arg-type]
            else:
                seen.add(name)
                attributes.append(Attribute(name, tuple(values)))
        last = None

    def closeGroup() -> None:
        closeAttribute()
        if groupTag is not None:
            message.groups.append(AttributeGroup(groupTag, attributes))

    while True:
        tag = r.peek()
        if tag is None:
            raise IPPError(f"truncated at octet {r.pos}: no end-of-attributes-tag")
        if tag < 0x10:
            r.pos += 1
            if tag == 0x00:
                raise IPPError(f"octet {r.pos - 1}: reserved delimiter tag 0x00")
            closeGroup()
            if tag == T.END_OF_ATTRIBUTES:
                message.data = r.data[r.pos:]
                return message
            groupTag, attributes, seen = tag, [], set()
            continue
        if groupTag is None:
            raise IPPError(f"octet {r.pos}: an attribute before any group tag")
        vtag, name, at, raw = _readValue(r)
        if vtag == T.END_COLLECTION or vtag == T.MEMBER_ATTR_NAME:
            raise IPPError(f"octet {at}: {T.tagName(vtag)} outside a collection")
        if name:
            closeAttribute()
            r.count()
            last = (name, [])
        elif last is None:
            raise IPPError(f"octet {at}: an additional value with no attribute before it")
        if len(last[1]) >= limits.maxValues:
            raise IPPError(f"{last[0][:40]}: more than {limits.maxValues} values")
        if vtag == T.BEGIN_COLLECTION:
            last[1].append(Value(vtag, _readCollection(r, 1, last[0], message.duplicates, groupTag)))
        else:
            last[1].append(Value(vtag, _decodeValue(vtag, raw, at)))


# ---------------------------------------------------------------- encoding


def _short(n: int, what: str) -> bytes:
    if not 0 <= n <= 0x7FFF:
        raise IPPError(f"{what} of {n} octets does not fit (RFC 8010: at most 32767)")
    return struct.pack(">H", n)


def _encodeValue(tag: int, v: Any) -> bytes:
    if tag in T.OUT_OF_BAND_TAGS:
        return b""
    try:
        if tag in (0x21, 0x23):
            return struct.pack(">i", v)
        if tag == 0x22:
            return b"\x01" if v else b"\x00"
        if tag == 0x31:
            if not isinstance(v, (bytes, bytearray)) or len(v) != 11:
                raise IPPError("a dateTime is eleven octets")
            return bytes(v)
        if tag == 0x32:
            if not isinstance(v, Resolution):
                raise IPPError(f"a resolution value is a Resolution, not {type(v).__name__}")
            return struct.pack(">iib", v.crossFeed, v.feed, v.units)
        if tag == 0x33:
            low, high = v
            return struct.pack(">ii", low, high)
    except (struct.error, TypeError, ValueError) as e:
        if isinstance(e, IPPError):
            raise
        raise IPPError(f"{T.tagName(tag)} value {repr(v)[:80]}: {e}") from None
    if tag in (0x35, 0x36):
        if not isinstance(v, TextWithLanguage):
            raise IPPError(f"a {T.tagName(tag)} value is a TextWithLanguage, not {type(v).__name__}")
        language, text = v.language.encode("utf-8"), v.text.encode("utf-8")
        return _short(len(language), "language") + language + _short(len(text), "text") + text
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    raise IPPError(f"cannot encode {type(v).__name__} as {T.tagName(tag)}")


def _encodeOne(out: list[bytes], tag: int, name: str, v: Any) -> None:
    rawName = name.encode("utf-8")
    if tag == T.BEGIN_COLLECTION:
        out += [bytes([tag]), _short(len(rawName), "name"), rawName, b"\x00\x00"]
        if not isinstance(v, Collection):
            raise IPPError(f"a begCollection value is a Collection, not {type(v).__name__}")
        for member in v:
            if not member.values:
                raise IPPError(f"collection member {member.name!r} has no value")
            memberName = member.name.encode("utf-8")
            out += [bytes([T.MEMBER_ATTR_NAME]), b"\x00\x00", _short(len(memberName), "member name"), memberName]
            for item in member.values:
                _encodeOne(out, item.tag, "", item.value)
        out.append(bytes([T.END_COLLECTION]) + b"\x00\x00\x00\x00")
        return
    raw = _encodeValue(tag, v)
    out += [bytes([tag]), _short(len(rawName), "name"), rawName, _short(len(raw), "value"), raw]


def encode(message: IPPMessage) -> bytes:
    """
    Write one IPP message. Groups are written in the order given; an
    attribute's additional values follow it with a zero name-length.

    @raise IPPError: a value that cannot be encoded (too long, wrong type).
    """
    if not 0 <= message.code <= 0xFFFF:
        raise IPPError(f"operation-id/status-code {message.code} out of range")
    out = [bytes(message.version), struct.pack(">Hi", message.code, message.requestId)]
    for group in message.groups:
        out.append(bytes([group.tag]))
        for attribute in group:
            if not attribute.values:
                raise IPPError(f"attribute {attribute.name!r} has no value")
            for i, item in enumerate(attribute.values):
                _encodeOne(out, item.tag, attribute.name if i == 0 else "", item.value)
    out.append(bytes([T.END_OF_ATTRIBUTES]))
    out.append(message.data)
    return b"".join(out)


def request(code: int, requestId: int, operation: Sequence[tuple[str, Union[Value, Sequence[Value]]]],
            groups: Sequence[AttributeGroup] = (), *, charset: str = "utf-8", language: str = "en") -> IPPMessage:
    """
    A request whose operation group starts with C{attributes-charset} and
    C{attributes-natural-language} (RFC 8011 §4.1.4), then C{operation}.
    """
    attributes = [
        Attribute("attributes-charset", (Value(0x47, charset),)),
        Attribute("attributes-natural-language", (Value(0x48, language),)),
    ]
    for name, values in operation:
        attributes.append(Attribute(name, (values,) if isinstance(values, Value) else tuple(values)))
    return IPPMessage(code, requestId, [AttributeGroup(0x01, attributes), *groups], version=(2, 0))
