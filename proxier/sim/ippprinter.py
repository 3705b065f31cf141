# -*- test-case-name: tests.test_sim_ippprinter -*-
"""
A small IPP printer in process: the demo's printer where C{ippeveprinter}
is not installed, and a test peer on loopback where it is absent.

It answers Get-Printer-Attributes (with C{requested-attributes}) and
Set-Printer-Attributes (RFC 3380; all or nothing, only what its
C{printer-settable-attributes-supported} lists), and nothing else
(server-error-operation-not-supported), as an ippeveprinter would. Its
attributes come from an ipptool C{ATTR} file — the demo's is
C{data/demo-printer.conf}, the one ippeveprinter is started with — plus
what ippeveprinter adds of its own (identity, state, up-time, location).

L{IPPPrinter} is sans-IO (request octets in, response octets out, through
the codec of L{proxier.printer.ipp}); L{IPPPrinterResource} is the thin
twisted.web glue, and L{listen} puts it on a loopback port.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any, Iterable, Optional

from twisted.web.resource import Resource
from twisted.web.server import Site

from proxier.printer import ipp
from proxier.printer.ippclient import OP_GET_PRINTER_ATTRIBUTES, OP_SET_PRINTER_ATTRIBUTES

__all__ = ["DEMO_ATTRIBUTES", "AttributeFileError", "readAttributeFile", "IPPPrinter", "IPPPrinterResource", "listen"]

#: The demo printer's attributes (ipptool ATTR lines), shared with ippeveprinter's C{-a}.
DEMO_ATTRIBUTES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "demo-printer.conf")

OK = 0x0000
BAD_REQUEST = 0x0400
NOT_SUPPORTED = 0x040B  # client-error-attributes-or-values-not-supported
NOT_SETTABLE = 0x0413  # RFC 3380
OPERATION_NOT_SUPPORTED = 0x0501
VERSION_NOT_SUPPORTED = 0x0503

_TEXT, _NAME, _KEYWORD, _URI, _INTEGER, _BOOLEAN, _ENUM = 0x41, 0x42, 0x44, 0x45, 0x21, 0x22, 0x23
_OCTETS, _RESOLUTION, _RANGE, _TEXT_LANG, _NOT_SETTABLE = 0x30, 0x32, 0x33, 0x35, 0x15
_TAGS = {"text": _TEXT, "name": _NAME, "keyword": _KEYWORD, "uri": _URI, "integer": _INTEGER, "boolean": _BOOLEAN,
         "enum": _ENUM, "octetString": _OCTETS, "resolution": _RESOLUTION, "rangeOfInteger": _RANGE}
_RESOLUTION_TEXT = re.compile(r"(\d+)(?:x(\d+))?(dpi|dpcm)")
_LEVEL = re.compile(rb"(^|;)level=-?\d+")
_INDEX = re.compile(rb"(?:^|;)index=(\d+)(?:;|$)")


class AttributeFileError(ValueError):
    """An ATTR line this reader does not take; says which line and why."""


def _parseValue(tag: int, text: str) -> Any:
    if tag in (_INTEGER, _ENUM):
        return int(text)
    if tag == _BOOLEAN:
        if text not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text == "true"
    if tag == _RANGE:
        low, _, high = text.partition("-")
        return (int(low), int(high))
    if tag == _RESOLUTION:
        match = _RESOLUTION_TEXT.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a resolution")
        return ipp.Resolution(int(match[1]), int(match[2] or match[1]), 3 if match[3] == "dpi" else 4)
    if tag == _OCTETS:
        return text.encode("utf-8")
    return text


def readAttributeFile(text: str) -> list[ipp.Attribute]:
    """
    The C{ATTR tag name value[,value…]} lines of an ipptool attribute file
    (comments and blank lines skipped), for the value tags the demo's file
    uses; a quoted value may hold commas.

    @raise AttributeFileError: another directive, tag or a value that does not parse.
    """
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split(None, 3)
        if len(words) < 4 or words[0] != "ATTR" or words[1] not in _TAGS:
            raise AttributeFileError(f"line {number}: not 'ATTR <tag> <name> <values>' with a known tag")
        tag = _TAGS[words[1]]
        try:
            values = tuple(ipp.Value(tag, _parseValue(tag, v)) for v in _values(words[3]))
        except ValueError as e:
            raise AttributeFileError(f"line {number}: {words[2]}: {e}") from None
        found.append(ipp.Attribute(words[2], values))
    return found


def _values(text: str) -> list[str]:
    """Comma-separated values; a comma inside double quotes is the value's, the quotes are not."""
    values: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise ValueError("a quote is not closed")
    values.append("".join(current))
    return values


def _attribute(name: str, tag: int, *values: Any) -> ipp.Attribute:
    return ipp.Attribute(name, tuple(ipp.Value(tag, v) for v in values))


class IPPPrinter:
    """
    The printer's state and its answers.

    @param clock: gives C{seconds()}: C{printer-up-time} counts from this
        object's making, as ippeveprinter's from its start.
    @param attributes: the printer's attributes (L{readAttributeFile}).
    """

    settable = ("printer-location", "printer-info")

    def __init__(self, clock: Any, attributes: Iterable[ipp.Attribute], *, name: str = "DemoMFP",
                 location: str = "") -> None:
        self.clock = clock
        self.startedAt = clock.seconds()
        self.attributes: dict[str, ipp.Attribute] = {}
        own = [
            _attribute("printer-name", _NAME, name),
            _attribute("printer-info", _TEXT, name),
            _attribute("printer-location", _TEXT, location),
            _attribute("printer-uuid", _URI, f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'proxier-sim:' + name)}"),
            _attribute("printer-state", _ENUM, 3),
            _attribute("printer-state-reasons", _KEYWORD, "none"),
            _attribute("printer-is-accepting-jobs", _BOOLEAN, True),
            _attribute("operations-supported", _ENUM, OP_GET_PRINTER_ATTRIBUTES, OP_SET_PRINTER_ATTRIBUTES),
            _attribute("printer-settable-attributes-supported", _KEYWORD, *self.settable),
        ]
        for attribute in [*attributes, *own]:
            self.attributes[attribute.name] = attribute
        self.configChanged = self.stateChanged = self.upTime()

    def upTime(self) -> int:
        """Seconds since the start, from 1 (as ippeveprinter counts)."""
        return int(self.clock.seconds() - self.startedAt) + 1

    def group(self, requested: Iterable[str] = ("all",)) -> ipp.AttributeGroup:
        """The printer attributes asked for (C{all} and C{printer-description}: every one)."""
        wanted = set(requested)
        every = [*self.attributes.values(),
                 _attribute("printer-up-time", _INTEGER, self.upTime()),
                 _attribute("printer-state-change-time", _INTEGER, self.stateChanged),
                 _attribute("printer-config-change-time", _INTEGER, self.configChanged)]
        if wanted & {"all", "printer-description"}:
            return ipp.AttributeGroup(0x04, every)
        return ipp.AttributeGroup(0x04, [a for a in every if a.name in wanted])

    def setLevel(self, index: int, level: int) -> None:
        """The level of the C{printer-supply} row with C{index=}; C{KeyError} when there is none."""
        supply = self.attributes["printer-supply"]
        rows = [v.value for v in supply.values]
        for position, row in enumerate(rows):
            match = _INDEX.search(row)
            if match is not None and int(match[1]) == index:
                rows[position] = _LEVEL.sub(lambda m: m[1] + b"level=%d" % level, row, count=1)
                break
        else:
            raise KeyError(index)
        self.attributes["printer-supply"] = _attribute("printer-supply", _OCTETS, *rows)
        self.stateChanged = self.upTime()

    def level(self, index: int) -> Optional[int]:
        """The level of the supply row with C{index=}, if there is one."""
        for row in self.attributes["printer-supply"].values:
            match = _INDEX.search(row.value)
            if match is not None and int(match[1]) == index:
                level = re.search(rb"(?:^|;)level=(-?\d+)", row.value)
                return int(level[1]) if level else None
        return None

    def respond(self, data: bytes) -> bytes:
        """The response octets to one request's octets."""
        try:
            request = ipp.decode(data)
        except ipp.IPPError:
            return ipp.encode(self._answer(BAD_REQUEST, 0))
        if request.version[0] not in (1, 2):
            return ipp.encode(self._answer(VERSION_NOT_SUPPORTED, request.requestId))
        if request.code == OP_GET_PRINTER_ATTRIBUTES:
            requested = request.operation.getAll("requested-attributes") or ["all"]
            return ipp.encode(self._answer(OK, request.requestId, self.group(requested)))
        if request.code == OP_SET_PRINTER_ATTRIBUTES:
            return ipp.encode(self._set(request))
        return ipp.encode(self._answer(OPERATION_NOT_SUPPORTED, request.requestId))

    def _set(self, request: ipp.IPPMessage) -> ipp.IPPMessage:
        """RFC 3380: every attribute settable and of a text type, or nothing is set."""
        given = list(request.group(0x04) or ())
        refused = [a for a in given if a.name not in self.settable]
        if refused:
            unsupported = ipp.AttributeGroup(0x05, [_attribute(a.name, _NOT_SETTABLE, None) for a in refused])
            return self._answer(NOT_SETTABLE, request.requestId, unsupported)
        if not given or any(len(a.values) != 1 or a.tag not in (_TEXT, _TEXT_LANG) for a in given):
            return self._answer(NOT_SUPPORTED, request.requestId)
        for attribute in given:
            text = attribute.value.text if attribute.tag == _TEXT_LANG else attribute.value
            self.attributes[attribute.name] = _attribute(attribute.name, _TEXT, text)
        self.configChanged = self.upTime()
        return self._answer(OK, request.requestId)

    @staticmethod
    def _answer(status: int, requestId: int, *groups: ipp.AttributeGroup) -> ipp.IPPMessage:
        operation = ipp.AttributeGroup(0x01, [_attribute("attributes-charset", 0x47, "utf-8"),
                                              _attribute("attributes-natural-language", 0x48, "en")])
        return ipp.IPPMessage(status, requestId, [operation, *groups], version=(2, 0))


class IPPPrinterResource(Resource):
    """IPP over HTTP (RFC 8010 §4): a POST of C{application/ipp} on any path."""

    isLeaf = True

    def __init__(self, printer: IPPPrinter, maxRequest: int = ipp.DEFAULT_LIMITS.maxMessage) -> None:
        super().__init__()
        self.printer = printer
        self.maxRequest = maxRequest

    def render_POST(self, request: Any) -> bytes:
        kind = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
        if kind != b"application/ipp":
            request.setResponseCode(415)
            return b"IPP only\n"
        data = request.content.read(self.maxRequest + 1)
        if len(data) > self.maxRequest:
            request.setResponseCode(413)
            return b"request too large\n"
        request.setHeader(b"content-type", b"application/ipp")
        return self.printer.respond(data)


def listen(reactor: Any, printer: IPPPrinter, port: int = 0, interface: str = "127.0.0.1") -> Any:
    """The printer on C{interface}:C{port} (0: a free one); its URL is C{ipp://host:port/ipp/print}."""
    site = Site(IPPPrinterResource(printer))
    site.noisy = False
    return reactor.listenTCP(port, site, interface=interface)
