# -*- test-case-name: tests.test_xml_hostile,tests.test_xmlsafe -*-
"""
The hostile-XML corpus, and the tripwire that tells whether a parse touched
anything outside the process.

Every document is built around a valid document of the entry point under
test (its C{@PAYLOAD@} slot, a text node), so that a refusal is the
hostility's doing, not a wrong root element's. External references name only
the canary directory of a L{Tripwire} (absolute C{file:} URLs, C{file://localhost},
paths relative to the working directory) or its 127.0.0.1 listener: nothing
else is ever named, and nothing that would block or spin (C{/dev/zero}, a
FIFO) is, so the corpus fails, not hangs, on a vulnerable parser.

Kinds:
 - C{REFUSED}: every entry point must refuse it (its documented error or
   clean refusal);
 - C{INERT}: harmless once parsed (XInclude and schema locations are never
   followed): accepted or refused, but nothing is opened;
 - C{CAPPED}: deep nesting, huge text: refused or parsed within the caps,
   never a RecursionError or a hang.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import socket
import struct
from dataclasses import dataclass
from typing import Any, Optional

__all__ = ["Hostile", "Tripwire", "corpus", "REFUSED", "INERT", "CAPPED", "PAYLOAD"]

REFUSED = "refused"
INERT = "inert"
CAPPED = "capped"

#: Where a template takes the hostile content: inside one text node.
PAYLOAD = "@PAYLOAD@"


@dataclass(frozen=True)
class Hostile:
    """
    One hostile document, as a recipe applied to an entry point's valid
    template.

    @ivar prolog: what comes before the root element (after any declaration).
    @ivar payload: what replaces L{PAYLOAD} in the template.
    @ivar encoding: the Python codec the document is written in.
    @ivar declaration: the XML declaration put first (C{""}: none).
    @ivar bom: bytes put before everything (a byte order mark).
    @ivar raw: bytes that replace the encoded document entirely, when the
        attack is in the bytes themselves (UTF-7); the template is ignored.
    @ivar bytesOnly: the hostility is in the byte encoding alone; as text
        (an XML-in-string argument) the document is harmless.
    """

    name: str
    kind: str
    prolog: str = ""
    payload: str = ""
    encoding: str = "utf-8"
    declaration: str = ""
    bom: bytes = b""
    raw: Optional[bytes] = None
    bytesOnly: bool = False

    def document(self, template: str) -> bytes:
        """The bytes an entry point receives."""
        if self.raw is not None:
            return self.raw
        text = self.declaration + self.prolog + template.replace(PAYLOAD, self.payload)
        return self.bom + text.encode(self.encoding)

    def text(self, template: str) -> str:
        """The same document as text, for entry points that take a C{str} (an XML-in-string argument)."""
        if self.raw is not None:
            return self.raw.decode("utf-7") if self.encoding == "utf-7" else self.raw.decode("latin-1")
        return self.declaration + self.prolog + template.replace(PAYLOAD, self.payload)


class Tripwire:
    """
    A directory of canary files watched with inotify (C{IN_OPEN}/C{IN_ACCESS},
    the directory itself included), and a TCP listener on 127.0.0.1 that
    accepts nothing by itself: L{touched} lists every open of a canary and
    every connection attempt since it was last called. Nothing blocks: the
    inotify descriptor and the listener are non-blocking.
    """

    IN_ACCESS = 0x1
    IN_OPEN = 0x20
    IN_ISDIR = 0x40000000

    def __init__(self, directory: str) -> None:
        os.makedirs(directory)
        self.directory = os.path.abspath(directory)
        #: the same directory relative to the working directory (a relative SYSTEM id)
        self.relative = os.path.relpath(self.directory)
        for name, content in (("canary.dtd", '<!ENTITY canary "opened">\n'), ("canary.txt", "opened\n")):
            with open(os.path.join(self.directory, name), "w") as f:
                f.write(content)
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        self._fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if libc.inotify_add_watch(self._fd, self.directory.encode(), self.IN_OPEN | self.IN_ACCESS) < 0:
            error = ctypes.get_errno()
            os.close(self._fd)
            raise OSError(error, "inotify_add_watch failed")
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]

    def url(self, name: str = "canary.dtd") -> str:
        """An absolute C{file:} URL of a canary."""
        return "file://" + os.path.join(self.directory, name)

    def http(self, name: str = "canary.dtd") -> str:
        """A URL on the listener."""
        return f"http://127.0.0.1:{self.port}/{name}"

    def touched(self) -> list[str]:
        """Every canary open and connection since the last call (and forget them)."""
        out = []
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            offset = 0
            while offset + 16 <= len(data):
                _wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + length].rstrip(b"\x00").decode(errors="replace")
                what = "open" if mask & self.IN_OPEN else "read"
                out.append(f"{what} of {os.path.join(self.directory, name) if name else self.directory}")
                offset += 16 + length
        while True:
            try:
                connection, peer = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    break
                raise
            connection.close()
            out.append(f"connection from {peer[0]}:{peer[1]}")
        return out

    def close(self) -> None:
        """Stop watching and listening."""
        os.close(self._fd)
        self.listener.close()


def _dtd(subset: str) -> str:
    return f"<!DOCTYPE r [{subset}]>"


def corpus(trip: Tripwire) -> list[Hostile]:
    """
    The corpus. Each external reference names C{trip}'s canaries or listener.
    """
    fileURL, textURL, httpURL = trip.url(), trip.url("canary.txt"), trip.http()
    localhost = "file://localhost" + os.path.join(trip.directory, "canary.dtd")
    relative = os.path.join(trip.relative, "canary.dtd")
    lol = "".join(f'<!ENTITY l{i + 1} "{("&l%d;" % i) * 10}">' for i in range(1, 9))
    blowup = "b" * 20000
    externalDTD = f'<!DOCTYPE r SYSTEM "{fileURL}">'
    parameterEntity = _dtd(f'<!ENTITY % p SYSTEM "{fileURL}"> %p;')
    xi = 'xmlns:xi="http://www.w3.org/2001/XInclude"'
    out = [
        # entity expansion
        Hostile("billion laughs", REFUSED, _dtd('<!ENTITY l1 "lol">' + lol), "&l9;"),
        Hostile("quadratic blowup", REFUSED, _dtd(f'<!ENTITY a "{blowup}">'), "&a;" * 5000),
        Hostile("internal entity", REFUSED, _dtd('<!ENTITY e "x">'), "&e;"),
        Hostile("entity in an attribute default", REFUSED,
                _dtd('<!ENTITY e "x"><!ATTLIST r a CDATA "&e;">'), ""),
        # external general entities
        Hostile("external entity, file", REFUSED, _dtd(f'<!ENTITY e SYSTEM "{textURL}">'), "&e;"),
        Hostile("external entity, file://localhost", REFUSED, _dtd(f'<!ENTITY e SYSTEM "{localhost}">'), "&e;"),
        Hostile("external entity, relative path", REFUSED,
                _dtd(f'<!ENTITY e SYSTEM "{os.path.join(trip.relative, "canary.txt")}">'), "&e;"),
        Hostile("external entity, http", REFUSED, _dtd(f'<!ENTITY e SYSTEM "{trip.http("e.txt")}">'), "&e;"),
        Hostile("external entity, PUBLIC", REFUSED, _dtd(f'<!ENTITY e PUBLIC "-//X//E" "{textURL}">'), "&e;"),
        Hostile("unparsed entity (NDATA)", REFUSED,
                _dtd(f'<!NOTATION n SYSTEM "{fileURL}"><!ENTITY u SYSTEM "{textURL}" NDATA n>'
                     '<!ATTLIST r a ENTITY #IMPLIED>'), ""),
        # external parameter entities
        Hostile("parameter entity, file", REFUSED, parameterEntity),
        Hostile("parameter entity, http", REFUSED, _dtd(f'<!ENTITY % p SYSTEM "{httpURL}"> %p;')),
        Hostile("parameter entity, relative path", REFUSED, _dtd(f'<!ENTITY % p SYSTEM "{relative}"> %p;')),
        Hostile("parameter entity defining another", REFUSED,
                _dtd(f"<!ENTITY % a \"<!ENTITY &#37; b SYSTEM '{fileURL}'>\"> %a; %b;")),
        Hostile("parameter entity, error-based exfiltration", REFUSED,
                _dtd(f'<!ENTITY % f SYSTEM "{textURL}"><!ENTITY % d "<!ENTITY &#x25; x SYSTEM '
                     f"'file:///nonexistent/%f;'>\"> %d; %x;")),
        # external DTD subsets
        Hostile("external DTD, file", REFUSED, externalDTD),
        Hostile("external DTD, file://localhost", REFUSED, f'<!DOCTYPE r SYSTEM "{localhost}">'),
        Hostile("external DTD, relative path", REFUSED, f'<!DOCTYPE r SYSTEM "{relative}">'),
        Hostile("external DTD, http", REFUSED, f'<!DOCTYPE r SYSTEM "{httpURL}">'),
        Hostile("external DTD, PUBLIC", REFUSED, f'<!DOCTYPE r PUBLIC "-//X//DTD" "{fileURL}">'),
        Hostile("external DTD and internal subset", REFUSED, f'<!DOCTYPE r SYSTEM "{fileURL}" [<!ENTITY e "x">]>'),
        Hostile("empty DOCTYPE", REFUSED, "<!DOCTYPE r>"),
        # the same in the encodings a byte search for "<!DOCTYPE" would miss
        Hostile("parameter entity after a declaration", REFUSED, parameterEntity,
                declaration='<?xml version="1.0" encoding="UTF-8"?>\n'),
        Hostile("parameter entity after a UTF-8 BOM", REFUSED, parameterEntity, bom=b"\xef\xbb\xbf"),
        Hostile("external DTD in UTF-16 with BOM", REFUSED, externalDTD, encoding="utf-16"),
        Hostile("parameter entity in UTF-16LE without BOM", REFUSED, parameterEntity, encoding="utf-16-le"),
        Hostile("external DTD in UTF-16BE, declared", REFUSED, externalDTD, encoding="utf-16-be",
                declaration='<?xml version="1.0" encoding="UTF-16"?>'),
        Hostile("external DTD in UTF-16BE with BOM, declared", REFUSED, externalDTD, encoding="utf-16-be",
                bom=b"\xfe\xff", declaration='<?xml version="1.0" encoding="UTF-16BE"?>'),
        Hostile("external DTD in ISO-8859-1", REFUSED, externalDTD, encoding="latin-1",
                declaration="<?xml version='1.0' encoding='ISO-8859-1'?>"),
        Hostile("external DTD in windows-1252", REFUSED, externalDTD, encoding="cp1252",
                declaration='<?xml version="1.0" encoding="windows-1252"?>'),
        Hostile("external DTD in UTF-32", REFUSED, externalDTD, encoding="utf-32",
                declaration='<?xml version="1.0" encoding="UTF-32"?>'),
        Hostile("external DTD in UTF-32LE without BOM", REFUSED, externalDTD, encoding="utf-32-le"),
        Hostile("external DTD in EBCDIC (IBM037)", REFUSED, externalDTD, encoding="cp037",
                declaration='<?xml version="1.0" encoding="IBM037"?>'),
        Hostile("external DTD in UTF-7", REFUSED, externalDTD, encoding="utf-7",
                raw=b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE r SYSTEM +ACI-'
                + fileURL.encode() + b"+ACIAPg-<r/>"),
        Hostile("an encoding not known", REFUSED, "", declaration='<?xml version="1.0" encoding="x-evil"?>',
                bytesOnly=True),
        Hostile("UTF-16 declaring UTF-8", REFUSED, "", encoding="utf-16",
                declaration='<?xml version="1.0" encoding="UTF-8"?>', bytesOnly=True),
        Hostile("UTF-8 BOM declaring ISO-8859-1", REFUSED, "", bom=b"\xef\xbb\xbf",
                declaration='<?xml version="1.0" encoding="ISO-8859-1"?>', bytesOnly=True),
        Hostile("UTF-16 hidden behind NULs in ISO-8859-1", REFUSED, "<\x00!\x00D\x00O\x00C\x00T\x00Y\x00P\x00E\x00",
                encoding="latin-1", declaration='<?xml version="1.0" encoding="ISO-8859-1"?>'),
        # never followed, so harmless, but nothing may be opened
        Hostile("XInclude, file", INERT, payload=f'<xi:include {xi} href="{textURL}" parse="text"/>'),
        Hostile("XInclude, http", INERT, payload=f'<xi:include {xi} href="{httpURL}"/>'),
        Hostile("XInclude with fallback", INERT,
                payload=f'<xi:include {xi} href="{fileURL}"><xi:fallback>x</xi:fallback></xi:include>'),
        Hostile("xml-stylesheet", INERT, f'<?xml-stylesheet type="text/xsl" href="{fileURL}"?>'),
        Hostile("schema location", INERT,
                payload=f'<s xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x {fileURL}"'
                f' xsi:noNamespaceSchemaLocation="{httpURL}"/>'),
        # size and shape
        Hostile("deep nesting (100 000)", CAPPED, payload="<a>" * 100000 + "</a>" * 100000),
        Hostile("nesting at libxml2's limit (250)", CAPPED, payload="<a>" * 250 + "x" + "</a>" * 250),
        Hostile("huge text (200 KiB)", CAPPED, payload="x" * (200 << 10)),
        Hostile("huge text (2 MiB)", CAPPED, payload="x" * (2 << 20)),
        Hostile("huge attribute", CAPPED, payload='<a b="' + "x" * (200 << 10) + '"/>'),
        # libxml2 2.9 checks each attribute against all before it: 20 000 take 0.8 s, 80 000 take 90 s
        Hostile("many attributes", REFUSED, payload="<a " + " ".join(f"a{i}='x'" for i in range(20000)) + "/>"),
        Hostile("many namespace declarations", REFUSED,
                payload="<a " + " ".join(f"xmlns:p{i}='urn:{i}'" for i in range(5000)) + "/>"),
        Hostile("huge name", CAPPED, payload="<" + "n" * (60 << 10) + "/>"),
        Hostile("many character references", CAPPED, payload="&#x41;" * 100000),
    ]
    return out


def tripwireFor(testCase: Any) -> Tripwire:
    """A L{Tripwire} in the test's own temp directory, closed at its end; the test is skipped without inotify."""
    from twisted.trial import unittest

    try:
        trip = Tripwire(testCase.mktemp())
    except OSError as e:
        raise unittest.SkipTest(f"no inotify here: {e}")
    testCase.addCleanup(trip.close)
    return trip
