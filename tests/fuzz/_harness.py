# -*- test-case-name: tests.fuzz.test_fuzz_harness -*-
"""
A small fuzz harness for sans-IO parsers: deterministic mutation of valid
inputs, each mutated input parsed in a child process that is watched.

A L{Target} is a parser entry point wrapped as a function of C{bytes}, the
exceptions its docstring documents, and seeds (valid inputs from the
project's own encoders and simulators, and from C{../shared/ref}). The
L{Mutator} derives inputs from the seeds with a seeded C{random.Random}
(bit flips, byte inserts and deletes, splices of two seeds, repeated
chunks, and the family's dictionary tokens: header names, line breaks,
C{<!DOCTYPE}, entities, Unicode digits, huge numbers, NUL, invalid UTF-8,
very long lines), so a seed gives the same inputs on every machine.

L{fuzz} runs the inputs in a child (C{python -m tests.fuzz._harness}) and
sorts out:

  - a B{crash}: any exception other than the documented ones (a subclass of
    a documented class is documented; a plain C{ValueError} where the
    contract says C{SSDPError} is a crash);
  - a B{hang}: an input the child has not finished one second after it
    began. The child is killed and the input tried again alone, with five
    seconds; only when it takes more than a second again is it a hang (a
    loaded machine does not make one); the run goes on after it;
  - a child that dies (a segfault, an abort) on an input is a crash too,
    and the run goes on in a new child; the child's address space is
    capped (2 GiB), so a memory bomb is a C{MemoryError}, a crash;
  - an B{escape} (XML targets): the child runs under C{strace}, and any
    C{open}/C{openat} after the target started, other than the Python
    import system's own files, and any C{connect} at all, is reported with
    the input that caused it.

The result is a L{Report} per target; L{Report.describe} gives the
reproducer of each finding (the input as a C{bytes} literal, the exception
and the traceback).
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import pickle
import random
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

__all__ = [
    "Target",
    "Mutator",
    "Finding",
    "Report",
    "fuzz",
    "GENERIC_TOKENS",
    "XML_TOKENS",
    "HEADER_TOKENS",
    "HANG_SECONDS",
    "defaultSeed",
    "assertFuzzClean",
    "splitHead",
    "TOP",
    "SHARED",
]

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(TOP), "shared")

# The definition: an input still being parsed after a second hangs.
HANG_SECONDS = 1.0
# The second chance a suspected hang gets, alone in a fresh child (its
# time counts against the target's budget).
RETRY_SECONDS = 5.0
# How long a child may take to import its target and run the seeds.
STARTUP_SECONDS = 60.0
# Between two inputs the child does nothing but write a line.
BETWEEN_SECONDS = 30.0

# The address space a child may use: parsers that expand input fail here.
CHILD_MEMORY = 2 << 30

STRACE = "/usr/bin/strace"
_MARK = "/nonexistent-proxier-fuzz-mark"

# Tokens every family gets: what breaks number, line and text parsing.
GENERIC_TOKENS: tuple[bytes, ...] = (
    b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"\x00", b"\t", b" ", b":", b";", b",", b"=", b'"', b"'", b"\\",
    b"%", b"&", b"<", b">", b"/", b"#", b"*", b"-", b"+", b".",
    "\u00b2".encode(), "\u2460".encode(), "\u0661\u0662".encode(), "\u0663".encode(), "\uff11".encode(),
    "\u00b9\u00b3".encode(), "\u2167".encode(),
    b"0", b"-1", b"-0", b"00000000000000000001", b"4294967295", b"4294967296", b"18446744073709551616",
    b"9" * 40, b"9" * 300, b"1e309", b"NaN", b"inf", b"0x1F", b"1_000",
    b"\xff", b"\xfe\xff", b"\xef\xbb\xbf", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80",
    "\u00e9".encode(), "\u202e".encode(), "\U0001f600".encode(), b"\x7f", b"\x1b[31m",
)

# XML: everything xmlsafe must refuse or survive. No host name appears (no
# DNS lookup may ever start); the only URL points at loopback port 1.
XML_TOKENS: tuple[bytes, ...] = (
    b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///dev/zero"> %p;]>',
    b'<!DOCTYPE r SYSTEM "file:///etc/hostname">',
    b'<!DOCTYPE r PUBLIC "-//x//y" "http://127.0.0.1:1/x.dtd">',
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    b"<!DOCTYPE r>", b"<!DOCTYPE", b"<!ENTITY", b"&e;", b"&c;", b"%p;", b"&#0;", b"&#x110000;", b"&#65;",
    b"&amp;", b"&lt;", b"&#x1F600;",
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>',
    b'<x xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>',
    b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>',
    b'<?xml version="1.0" encoding="ISO-8859-1"?>', b'<?xml version="1.0" encoding="EBCDIC-US"?>',
    b'<?xml version="1.1"?>', b'<?xml-stylesheet href="file:///etc/passwd"?>',
    b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?pi x?>", b'xmlns="urn:x"', b'xmlns:s="urn:y"', b"xmlns:=",
    b'xml:base="file:///etc/"', b"<a>" * 300, b"</a>", b"<a/>", b"x" * 70000,
    b'xsi:type="xsd:string"', b'xsi:type="xsd:dateTime"', b'xsi:type="xsd:unsignedInt"',
    b"99999999999-01-01T00:00:00Z", b"0000-00-00T00:00:00Z", b"2024-02-30T25:61:61+99:99",
)

# HTTP-like headers (SSDP, GENA, CWMP transport).
HEADER_TOKENS: tuple[bytes, ...] = (
    b"HOST: ", b"CACHE-CONTROL: max-age=", b"LOCATION: ", b"NT: ", b"NTS: ", b"USN: ", b"SERVER: ", b"ST: ",
    b"MAN: ", b"MX: ", b"EXT:", b"DATE: ", b"EXPIRES: ", b"BOOTID.UPNP.ORG: ", b"CONFIGID.UPNP.ORG: ",
    b"NEXTBOOTID.UPNP.ORG: ", b"SEARCHPORT.UPNP.ORG: ", b"SECURELOCATION.UPNP.ORG: ", b"SID: ", b"SEQ: ",
    b"TIMEOUT: Second-", b"CALLBACK: <http://127.0.0.1:1/>", b"Content-Type: text/xml; charset=",
    b"Retry-After: ", b"Set-Cookie: ", b"WWW-Authenticate: Digest ", b"Location: ", b"Content-Length: ",
    b"uuid:", b"urn:schemas-upnp-org:device:", b":1", b"::", b"ssdp:alive", b"ssdp:byebye", b"ssdp:update",
    b"ssdp:all", b'"ssdp:discover"', b"upnp:rootdevice", b"upnp:event", b"upnp:propchange", b"Second-infinite",
    b"max-age=", b"no-cache", b"HTTP/1.1 200 OK", b"NOTIFY * HTTP/1.1", b"M-SEARCH * HTTP/1.1",
    b"Sun, 06 Nov 1994 08:49:37 GMT", b"Sun, 06 Nov 99999 08:49:37 GMT", b"Mon, 31 Feb 2024 99:99:99 +9999",
    b"charset=undefined", b"charset=\x00", b'charset="utf-16"', b"charset=utf-32", b"charset=idna",
    b"charset=rot13", b"charset=base64", b"charset=hex", b"charset=cp037", b"charset=utf-7",
    b"charset=unicode_escape", b"charset=punycode", b"charset=zlib",
    b"A" * 2000, b"a" * 20000,
)


def defaultSeed() -> int:
    """The fuzz seed: C{PROXIER_FUZZ_SEED} when set, else a fixed one (the suite is deterministic)."""
    return int(os.environ.get("PROXIER_FUZZ_SEED", "20261206"))


@dataclass(frozen=True)
class Target:
    """
    One parser entry point to fuzz.

    @ivar name: short, unique, used on the command line of C{tools/fuzz}.
    @ivar module: the module defining it (its C{TARGETS} list), imported by
        the child.
    @ivar function: called with each input; returns anything, raises only
        C{documented} exceptions (an C{AssertionError} it raises for a
        broken post-condition is a crash).
    @ivar documented: the exceptions the entry point's docstring promises.
    @ivar seeds: builds the valid inputs mutations start from.
    @ivar tokens: this family's dictionary (the generic tokens are added).
    @ivar xml: parse under C{strace}: any file open or connect is reported.
    """

    name: str
    module: str
    function: Callable[[bytes], object]
    documented: tuple[type[BaseException], ...]
    seeds: Callable[[], Sequence[bytes]]
    tokens: tuple[bytes, ...] = ()
    xml: bool = False


@dataclass
class Finding:
    """A crash, hang or escape, with what reproduces it."""

    kind: str  # "crash", "hang" or "escape"
    index: int
    data: bytes
    error: str = ""
    where: str = ""
    trace: str = ""

    @property
    def signature(self) -> str:
        """
        What makes two findings the same defect: the kind, the exception
        type and where it was raised (an escape: the call and its path).
        """
        if self.kind == "escape":
            return re.sub(r"\s*=\s*-?\d+.*$", "", self.error)
        return f"{self.kind}:{self.error.split(':', 1)[0]}@{self.where}"

    def describe(self, limit: int = 400) -> str:
        shown = self.data if len(self.data) <= limit else self.data[:limit]
        more = f" ... ({len(self.data)} bytes)" if len(self.data) > limit else ""
        text = f"{self.kind} on input #{self.index}: {shown!r}{more}\n  {self.error}"
        if self.where:
            text += f"\n  raised at {self.where}"
        if self.trace:
            text += "\n" + "\n".join("    " + line for line in self.trace.rstrip().splitlines())
        return text


@dataclass
class Report:
    """What one target's run found."""

    target: str
    seed: int
    inputs: int = 0
    documented: int = 0
    elapsed: float = 0.0
    crashes: list[Finding] = field(default_factory=list)
    hangs: list[Finding] = field(default_factory=list)
    escapes: list[Finding] = field(default_factory=list)
    suspectedHangs: int = 0
    watched: bool = False
    xml: bool = False

    @property
    def findings(self) -> list[Finding]:
        return self.crashes + self.hangs + self.escapes

    def distinct(self) -> list[Finding]:
        """The first finding of each signature (the smallest input among them)."""
        best: dict[str, Finding] = {}
        for finding in self.findings:
            known = best.get(finding.signature)
            if known is None or len(finding.data) < len(known.data):
                best[finding.signature] = finding
        return list(best.values())

    def summary(self) -> str:
        rate = self.inputs / self.elapsed if self.elapsed > 0 else 0.0
        return (f"{self.target}: {self.inputs} inputs in {self.elapsed:.1f} s ({rate:.0f}/s), "
                f"{self.documented} refused as documented, {len(self.crashes)} crashes, "
                f"{len(self.hangs)} hangs, {len(self.escapes)} file/network escapes"
                + (", file opens and connects NOT watched (no strace)" if self.xml and not self.watched else "")
                + f" [seed {self.seed}]")

    def describe(self, limit: int = 400) -> str:
        """The summary and one reproducer per distinct finding."""
        lines = [self.summary(), f"(reproduce with PROXIER_FUZZ_SEED={self.seed})"]
        for finding in self.distinct():
            lines.append(finding.describe(limit))
        return "\n".join(lines)


class Mutator:
    """
    Deterministic inputs from seeds: C{Mutator(seeds, tokens, seed).inputs(n)}
    is the same list for the same arguments, on every machine.
    """

    MAX_INPUT = 256 << 10

    def __init__(self, seeds: Sequence[bytes], tokens: Sequence[bytes], seed: int) -> None:
        if not seeds:
            raise ValueError("a target needs at least one seed")
        self.seeds = [bytes(s) for s in seeds]
        self.tokens = list(tokens) + list(GENERIC_TOKENS)
        self.random = random.Random(seed)

    def inputs(self, count: int) -> list[bytes]:
        """The seeds themselves first, then mutants."""
        out = list(self.seeds[:count])
        while len(out) < count:
            out.append(self.mutate())
        return out

    def mutate(self) -> bytes:
        r = self.random
        data = bytearray(r.choice(self.seeds))
        for _ in range(r.choice((1, 1, 1, 2, 2, 3, 4, 6))):
            op = r.randrange(13)
            getattr(self, f"_op{op}")(data)
        return bytes(data[: self.MAX_INPUT])

    def _pos(self, data: bytearray) -> int:
        return self.random.randint(0, len(data))

    def _op0(self, data: bytearray) -> None:  # flip bits
        for _ in range(self.random.randint(1, 8)):
            if data:
                i = self.random.randrange(len(data))
                data[i] ^= 1 << self.random.randrange(8)

    def _op1(self, data: bytearray) -> None:  # insert random bytes
        i = self._pos(data)
        data[i:i] = bytes(self.random.randrange(256) for _ in range(self.random.randint(1, 4)))

    def _op2(self, data: bytearray) -> None:  # delete a range
        if data:
            i = self.random.randrange(len(data))
            del data[i:i + self.random.randint(1, max(1, min(64, len(data) - i)))]

    def _op3(self, data: bytearray) -> None:  # insert a token
        i = self._pos(data)
        data[i:i] = self.random.choice(self.tokens)

    def _op4(self, data: bytearray) -> None:  # replace a range by a token
        if data:
            i = self.random.randrange(len(data))
            data[i:i + self.random.randint(1, 16)] = self.random.choice(self.tokens)

    def _op5(self, data: bytearray) -> None:  # splice with another seed
        other = self.random.choice(self.seeds)
        i = self._pos(data)
        j = self.random.randint(0, len(other))
        data[i:] = other[j:]

    def _op6(self, data: bytearray) -> None:  # repeat a chunk (long lines, deep nesting)
        if data:
            i = self.random.randrange(len(data))
            chunk = bytes(data[i:i + self.random.randint(1, 32)])
            times = self.random.choice((2, 10, 100, 1000))
            data[i:i] = chunk * times

    def _op7(self, data: bytearray) -> None:  # a number becomes another number
        runs = [m.span() for m in re.finditer(rb"[0-9]+", bytes(data))]
        if runs:
            a, b = self.random.choice(runs)
            data[a:b] = self.random.choice((
                "\u00b2".encode(), "\u2460".encode(), "\u0661".encode(), "\u0967\u0968".encode(), b"9" * 300,
                b"-1", b"4294967296", b"18446744073709551616", b"0", b"", b" 1", b"1 ", b"+1", b"1.5", b"0x10",
                b"99999999999", b"1" * 20, b"\xef\xbc\x91",
            ))

    def _op8(self, data: bytearray) -> None:  # truncate
        if data:
            del data[self.random.randrange(len(data)):]

    def _op9(self, data: bytearray) -> None:  # invalid UTF-8 / control bytes
        i = self._pos(data)
        data[i:i] = self.random.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\x0b", b"\xc0\xaf", b"\x85"))

    def _op11(self, data: bytearray) -> None:  # a token where a prolog goes (a DOCTYPE must come first)
        declaration = bytes(data).find(b"?>")
        i = declaration + 2 if 0 <= declaration < 200 and self.random.random() < 0.7 else 0
        data[i:i] = self.random.choice(self.tokens)

    def _op12(self, data: bytearray) -> None:  # a field's whole value (XML text, a header value) becomes a token
        spans = [m.span(1) if m.start(1) != -1 else m.span(2)
                 for m in re.finditer(rb">([^<>]{0,200})<|: ?([^\r\n]{0,200})", bytes(data))]
        if spans:
            a, b = self.random.choice(spans)
            data[a:b] = self.random.choice(self.tokens)

    def _op10(self, data: bytearray) -> None:  # case flip of a range
        if data:
            i = self.random.randrange(len(data))
            j = i + self.random.randint(1, 32)
            data[i:j] = bytes(data[i:j]).swapcase()


def splitHead(data: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    """
    A fuzzed HTTP message as the start line, the header fields and the body,
    the way a lenient HTTP parser would hand them over (never raises).
    """
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = data.partition(b"\n\n")
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    fields = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip():
            fields.append((name.strip(), value.strip()))
    return lines[0], fields, body


# The suite's bounds: all fuzz modules together stay under a minute per
# stack on a loaded 2-core machine. tools/fuzz runs for as long as asked.
SUITE_SECONDS = 1.0
SUITE_INPUTS = 20000
SUITE_HANGS = 2


def assertFuzzClean(testCase: object, target: Target) -> Report:
    """
    Fuzz C{target} within the suite's bounds (C{PROXIER_FUZZ_SECONDS} and
    C{PROXIER_FUZZ_INPUTS} override them, C{PROXIER_FUZZ_SEED} the seed) and
    fail C{testCase} with every distinct reproducer when anything was found.
    """
    from twisted.logger import Logger

    seconds = float(os.environ.get("PROXIER_FUZZ_SECONDS", SUITE_SECONDS))
    count = int(os.environ.get("PROXIER_FUZZ_INPUTS", SUITE_INPUTS))
    report = fuzz(target, seconds=seconds, maxInputs=count, seed=defaultSeed(), maxHangs=SUITE_HANGS,
                  log=lambda line: Logger(namespace="proxier.fuzz").info("{line}", line=line))
    Logger(namespace="proxier.fuzz").info("{summary}", summary=report.summary())
    if report.findings:
        testCase.fail(report.describe())  # type: ignore[attr-defined]
    if report.inputs == 0:
        testCase.fail(f"{target.name}: no input ran ({report.summary()})")  # type: ignore[attr-defined]
    return report


# The parent side.


def _targetSeed(seed: int, name: str) -> int:
    return seed * 1000003 + zlib.crc32(name.encode("utf-8"))


def fuzz(target: Target, *, seconds: float, maxInputs: int, seed: int, watch: Optional[bool] = None,
         inputs: Optional[Sequence[bytes]] = None, maxHangs: Optional[int] = None,
         log: Callable[[str], None] = lambda line: None) -> Report:
    """
    Run up to C{maxInputs} inputs of C{target} (the seeds, then mutants) for
    at most C{seconds} of parsing (child start-up not counted).

    @param maxHangs: stop after that many confirmed hangs (each costs
        seconds); C{None} for no limit.

    @param watch: trace file opens and connects (default: for XML targets,
        when C{strace} is there).
    @param inputs: run these instead of mutants (a reproducer, a saved crash).
    """
    if watch is None:
        watch = target.xml and os.access(STRACE, os.X_OK)
    seeds = list(target.seeds())
    if inputs is None:
        inputs = Mutator(seeds, target.tokens, _targetSeed(seed, target.name)).inputs(maxInputs)
    inputs = list(inputs)
    report = Report(target.name, seed, watched=watch, xml=target.xml)
    work = tempfile.mkdtemp(prefix=f"proxier-fuzz-{target.name}-")
    try:
        start = 0
        budgetLeft = seconds
        while start < len(inputs) and budgetLeft > 0:
            run = _Child(target, seeds, inputs, start, budgetLeft, HANG_SECONDS, watch, work)
            run.wait()
            report.elapsed += run.elapsed
            budgetLeft -= run.elapsed
            _collect(report, run, inputs)
            if run.died is not None:  # a segfault, an abort, the memory limit: a crash of the worst kind
                report.inputs += 1
                report.crashes.append(Finding("crash", run.died, inputs[run.died], run.death))
                start = run.died + 1
                continue
            if run.hung is None:
                break
            report.suspectedHangs += 1
            log(f"{target.name}: input #{run.hung} still running after {HANG_SECONDS:g} s; trying it alone")
            again = _Child(target, seeds, inputs[run.hung:run.hung + 1], 0, RETRY_SECONDS, RETRY_SECONDS, watch,
                           work, offset=run.hung)
            again.wait()
            report.elapsed += again.elapsed
            budgetLeft -= again.elapsed
            _collect(report, again, inputs)
            if again.hung is not None or again.slowest > HANG_SECONDS:
                took = f"over {RETRY_SECONDS:g} s" if again.hung is not None else f"{again.slowest:.1f} s"
                report.hangs.append(Finding("hang", run.hung, inputs[run.hung],
                                            f"hang: still parsing after {HANG_SECONDS:g} s (alone: {took})"))
            start = run.hung + 1
            if maxHangs is not None and len(report.hangs) >= maxHangs:
                log(f"{target.name}: stopped after {len(report.hangs)} hangs")
                break
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _collect(report: Report, run: "_Child", inputs: Sequence[bytes]) -> None:
    report.inputs += run.done
    report.documented += run.documented
    for index, error, where, trace in run.crashes:
        report.crashes.append(Finding("crash", index, inputs[index], error, where, trace))
    for index, what in run.escapes:
        report.escapes.append(Finding("escape", index, inputs[index] if 0 <= index < len(inputs) else b"",
                                      f"escape: {what}"))


class _Child:
    """One child process running inputs C{start:} until done, out of time, or hung."""

    def __init__(self, target: Target, seeds: list[bytes], inputs: Sequence[bytes], start: int, seconds: float,
                 hangSeconds: float, watch: bool, work: str, offset: int = 0) -> None:
        self.offset = offset
        self.done = 0
        self.documented = 0
        self.crashes: list[tuple[int, str, str, str]] = []
        self.escapes: list[tuple[int, str]] = []
        self.hung: Optional[int] = None
        self.died: Optional[int] = None
        self.death = ""
        self.elapsed = 0.0
        self.slowest = 0.0
        self._hangSeconds = hangSeconds
        self._seconds = seconds
        self._watch = watch
        batch = os.path.join(work, "batch")
        with open(batch, "wb") as f:
            pickle.dump({"seeds": seeds, "inputs": list(inputs), "start": start, "seconds": seconds}, f)
        self._trace = os.path.join(work, f"trace.{start}.{offset}")
        command = [sys.executable, "-m", "tests.fuzz._harness", "child", target.module, target.name, batch]
        if watch:
            command = [STRACE, "-f", "-qq", "--seccomp-bpf", "-e", "trace=open,openat,openat2,creat,connect",
                       "-o", self._trace] + command
        path = os.pathsep.join([TOP] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1"), cwd=work, start_new_session=True,
        )
        self._started: Optional[float] = None

    def wait(self) -> None:
        """Read the child's answers, killing it when an input hangs or start-up takes too long."""
        process = self._process
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        buffered = b""
        last = time.monotonic()
        launched = last
        current: Optional[int] = None
        ended = False
        stderr = b""
        try:
            while not ended:
                now = time.monotonic()
                if self._started is None:
                    limit = launched + STARTUP_SECONDS
                elif current is None:
                    limit = last + BETWEEN_SECONDS  # between two inputs: the child only writes a line
                else:
                    limit = last + self._hangSeconds
                if now > limit:
                    if self._started is None:
                        raise RuntimeError(f"fuzz child did not start within {STARTUP_SECONDS:g} s")
                    if current is None:
                        raise RuntimeError(f"fuzz child silent for {BETWEEN_SECONDS:g} s between two inputs")
                    self.hung = current
                    break
                ready = selector.select(timeout=min(0.2, max(0.01, limit - now)))
                if not ready:
                    continue
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                buffered += chunk
                while b"\n" in buffered:
                    line, buffered = buffered.split(b"\n", 1)
                    current, ended = self._line(line, current)
                    last = time.monotonic()
                    if ended:
                        break
        finally:
            selector.close()
            if self._started is not None:
                self.elapsed = time.monotonic() - self._started
            if process.poll() is None:
                self._kill()
            try:
                _, stderr = process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill()
                process.wait(10)
        if self._started is None and not ended:
            raise RuntimeError(f"fuzz child failed to start: {stderr.decode('utf-8', 'replace')[-2000:]}")
        if not ended and self.hung is None:
            if current is None:
                raise RuntimeError(f"fuzz child died between two inputs: {stderr.decode('utf-8', 'replace')[-2000:]}")
            self.died = current
            status = process.returncode
            how = f"killed by signal {-status}" if status is not None and status < 0 else f"exit status {status}"
            self.death = f"the child died ({how}): {stderr.decode('utf-8', 'replace')[-300:].strip()}"
        if self._watch:
            self.escapes = _escapes(self._trace, self.offset)

    def _kill(self) -> None:
        """Kill the child and everything it started (its own session: strace and Python), by process group."""
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _line(self, line: bytes, current: Optional[int]) -> tuple[Optional[int], bool]:
        word, _, rest = line.decode("ascii", "replace").partition(" ")
        if word == "ready":
            self._started = time.monotonic()
            return None, False
        if word == "end":
            return None, True
        if word == "begin":
            return int(rest) + self.offset, False
        index = int(word) + self.offset
        kind, _, payload = rest.partition(" ")
        self.done += 1
        if kind == "d":
            self.documented += 1
        elif kind == "c":
            info = json.loads(base64.b64decode(payload))
            self.crashes.append((index, info["error"], info["where"], info["trace"]))
        if kind != "c" and payload:
            self.slowest = max(self.slowest, float(payload))
        return None, False


_SYSCALL = re.compile(r'^(?:\d+\s+)?(open|openat|openat2|creat|connect)\((.*)')
_PATH = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _allowedPrefixes() -> tuple[str, ...]:
    roots = {os.path.realpath(p) for p in sys.path if p and os.path.isabs(p)}
    roots |= {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    return tuple(sorted(r.rstrip("/") + "/" for r in roots))


def _allowed(path: str, prefixes: tuple[str, ...]) -> bool:
    """The import system's own reads (a module imported late, a traceback's source lines)."""
    if path.startswith(_MARK):
        return True
    real = os.path.realpath(path) if path.startswith("/") else path
    if not any(real.startswith(p) or real + "/" in prefixes for p in prefixes):
        return False
    base = os.path.basename(real)
    return (base.endswith((".py", ".pyc", ".so", ".pth")) or "__pycache__" in real or base == ""
            or os.path.isdir(real))


def _escapes(tracePath: str, offset: int) -> list[tuple[int, str]]:
    """The opens and connects after the target started, each with the input that was running."""
    try:
        with open(tracePath, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return []
    prefixes = _allowedPrefixes()
    started = False
    index = -1
    out: list[tuple[int, str]] = []
    for line in lines:
        m = _SYSCALL.match(line)
        if not m:
            continue
        call, args = m.groups()
        path = _PATH.search(args)
        text = path.group(1) if path else args
        if text.startswith(_MARK + "/start"):
            started = True
            continue
        if text.startswith(_MARK + "/"):
            index = int(text.rsplit("/", 1)[1]) + offset
            continue
        if not started:
            continue
        if call == "connect" or not _allowed(text, prefixes):
            out.append((index, f"{call}({args.strip()[:160]}"))
    return out


# The child side.


def _where(tb: traceback.StackSummary) -> str:
    """The innermost frame in the project's own code (else the innermost one)."""
    frames = list(tb)
    own = [f for f in frames if f.filename.startswith(os.path.join(TOP, "proxier") + os.sep)]
    frame = (own or frames or [None])[-1]
    if frame is None:
        return ""
    return f"{os.path.relpath(frame.filename, TOP)}:{frame.lineno}"


def _mark(what: str) -> None:
    try:
        os.close(os.open(f"{_MARK}/{what}", os.O_RDONLY))
    except OSError:
        pass


def _child(module: str, name: str, batchPath: str) -> int:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = CHILD_MEMORY if hard == resource.RLIM_INFINITY else min(CHILD_MEMORY, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))  # a memory bomb is a MemoryError, not the machine's
    with open(batchPath, "rb") as f:
        batch = pickle.load(f)
    target = next(t for t in importlib.import_module(module).TARGETS if t.name == name)
    out = sys.stdout.buffer
    for data in batch["seeds"]:  # warm up: every lazy import happens before the watch starts
        try:
            target.function(data)
        except BaseException:
            pass
    traceback.format_exc()
    out.write(b"ready\n")
    out.flush()
    _mark("start")
    deadline = time.monotonic() + batch["seconds"]
    inputs = batch["inputs"]
    for i in range(batch["start"], len(inputs)):
        if time.monotonic() > deadline:
            break
        _mark(str(i))
        out.write(b"begin %d\n" % i)
        out.flush()
        began = time.monotonic()
        try:
            target.function(inputs[i])
        except target.documented:
            line = b"%d d %.3f\n" % (i, time.monotonic() - began)
        except Exception as e:
            stack = traceback.extract_tb(e.__traceback__)
            info = {
                "error": f"{type(e).__module__}.{type(e).__qualname__}: {str(e)[:300]}",
                "where": _where(stack),
                "trace": "".join(traceback.format_exception(type(e), e, e.__traceback__)[-12:]),
            }
            line = b"%d c %s\n" % (i, base64.b64encode(json.dumps(info).encode("utf-8")))
        else:
            line = b"%d o %.3f\n" % (i, time.monotonic() - began)
        out.write(line)
        out.flush()
    out.write(b"end\n")
    out.flush()
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "child":
        sys.exit(_child(*sys.argv[2:]))
    sys.exit("usage: python -m tests.fuzz._harness child MODULE TARGET BATCH")
