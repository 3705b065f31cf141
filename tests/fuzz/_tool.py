# -*- test-case-name: tests.fuzz.test_fuzz_harness -*-
"""
The command line behind C{tools/fuzz}: the suite's fuzz targets, for as
long as asked, with a report per target (inputs, inputs per second,
crashes, hangs, file/network escapes) and every finding saved.

    tools/fuzz [--seconds N] [--target NAME ...] [--seed S] [--crashes DIR]
               [--minimize] [--list]

C{--seconds} is per target (wall time). The smallest input of each
distinct finding (kind, exception type, place) is saved under
C{DIR/<target>/<kind>-<sha1>.bin} with a C{.txt} beside it (the
exception, where it was raised, the traceback, the seed); with
C{--minimize}, each distinct crash or escape is also cut down to a small
input that still gives the same finding (C{...-min.bin}).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib
import os
import signal
import sys
import time
from typing import Callable, Optional, Sequence

from tests.fuzz._harness import TOP, Finding, Mutator, Report, Target, _targetSeed, fuzz

__all__ = ["allTargets", "fuzzFor", "minimize", "main"]

# Inputs generated per child run; the next batch continues the same random stream.
_BATCH_SECONDS = 10.0
_MIN_BATCH, _MAX_BATCH = 500, 50000


def allTargets() -> list[Target]:
    """
    The C{TARGETS} of every C{tests/fuzz/test_fuzz_*.py} module, in file
    order (not the harness's own tests: their fake parsers crash and hang
    on purpose).
    """
    out: list[Target] = []
    for path in sorted(glob.glob(os.path.join(TOP, "tests", "fuzz", "test_fuzz_*.py"))):
        name = os.path.basename(path)[:-3]
        if name == "test_fuzz_harness":
            continue
        module = importlib.import_module("tests.fuzz." + name)
        out += list(getattr(module, "TARGETS", ()))
    return out


def fuzzFor(target: Target, seconds: float, seed: int, *, maxInputs: Optional[int] = None,
            log: Callable[[str], None] = lambda line: None) -> Report:
    """
    Fuzz C{target} for C{seconds} of parsing, in batches (one child each):
    the same inputs as the suite's first, then the mutator's stream goes on.
    """
    seeds = list(target.seeds())
    mutator = Mutator(seeds, target.tokens, _targetSeed(seed, target.name))
    total = Report(target.name, seed, xml=target.xml)
    batch = 2000
    first = True
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (maxInputs is None or total.inputs < maxInputs):
        count = batch if maxInputs is None else min(batch, maxInputs - total.inputs)
        inputs = mutator.inputs(count) if first else [mutator.mutate() for _ in range(count)]
        first = False
        left = deadline - time.monotonic()
        report = fuzz(target, seconds=max(left, 0.1), maxInputs=count, seed=seed, inputs=inputs, log=log)
        offset = total.inputs
        for finding in report.findings:
            finding.index += offset
        total.inputs += report.inputs
        total.documented += report.documented
        total.elapsed += report.elapsed
        total.crashes += report.crashes
        total.hangs += report.hangs
        total.escapes += report.escapes
        total.suspectedHangs += report.suspectedHangs
        total.watched = report.watched
        if report.elapsed > 0 and report.inputs:
            rate = report.inputs / report.elapsed
            batch = int(min(max(rate * _BATCH_SECONDS, _MIN_BATCH), _MAX_BATCH))
        if report.inputs == 0:
            break
    return total


def minimize(target: Target, finding: Finding, seed: int, seconds: float = 30.0) -> bytes:
    """
    A smaller input giving the same finding (same kind, exception type and
    place): chunks are cut out, halving their size, while one still does.
    Hangs are not minimized (each try would cost seconds).
    """
    data = finding.data
    if finding.kind == "hang":
        return data
    deadline = time.monotonic() + seconds
    chunk = max(1, len(data) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        candidates = []
        for start in range(0, len(data), chunk):
            candidate = data[:start] + data[start + chunk:]
            if candidate:
                candidates.append(candidate)
        if not candidates:
            break
        report = fuzz(target, seconds=max(deadline - time.monotonic(), 1.0), maxInputs=len(candidates), seed=seed,
                      inputs=candidates, maxHangs=0)
        same = sorted((f for f in report.findings if f.signature == finding.signature), key=lambda f: len(f.data))
        if same:
            data = same[0].data
            chunk = min(chunk, max(1, len(data) // 2))
        else:
            chunk //= 2
    return data


def _save(directory: str, report: Report, finding: Finding, suffix: str = "", data: Optional[bytes] = None) -> str:
    data = finding.data if data is None else data
    folder = os.path.join(directory, report.target)
    os.makedirs(folder, exist_ok=True)
    name = f"{finding.kind}-{hashlib.sha1(data).hexdigest()[:12]}{suffix}"
    with open(os.path.join(folder, name + ".bin"), "wb") as f:
        f.write(data)
    with open(os.path.join(folder, name + ".txt"), "w", encoding="utf-8") as f:
        shown = Finding(**{**finding.__dict__, "data": data})
        f.write(f"target {report.target}, seed {report.seed}\n{shown.describe(10**6)}\n")
    return os.path.join(folder, name + ".bin")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/fuzz", description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--seconds", type=float, default=60.0, help="parsing time per target (default 60)")
    parser.add_argument("--target", action="append", default=[], metavar="NAME", help="only this target (repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="the mutator's seed (default: from the clock)")
    parser.add_argument("--inputs", type=int, default=None, help="at most this many inputs per target")
    parser.add_argument("--crashes", default="fuzz-findings", metavar="DIR", help="where findings are saved")
    parser.add_argument("--minimize", action="store_true", help="cut each distinct finding down to a small input")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    args = parser.parse_args(argv)

    targets = allTargets()
    if args.list:
        for t in targets:
            print(f"{t.name:22} {t.module}{'  (XML: file opens and connects watched)' if t.xml else ''}")
        return 0
    known = {t.name for t in targets}
    unknown = [name for name in args.target if name not in known]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    chosen = [t for t in targets if not args.target or t.name in args.target]
    seed = args.seed if args.seed is not None else int(time.time())
    print(f"fuzz: seed {seed}, {args.seconds:g} s per target, targets: {', '.join(t.name for t in chosen)}",
          flush=True)
    reports = []
    for target in chosen:
        report = fuzzFor(target, args.seconds, seed, maxInputs=args.inputs,
                         log=lambda line: print("  " + line, flush=True))
        reports.append(report)
        print(report.summary(), flush=True)
        for finding in report.distinct():
            _save(args.crashes, report, finding)
            print("  " + finding.describe(300).replace("\n", "\n  "), flush=True)
            if args.minimize:
                small = minimize(target, finding, seed)
                path = _save(args.crashes, report, finding, "-min", small)
                print(f"  minimized to {len(small)} bytes: {small[:300]!r} ({path})", flush=True)
    print("\nfuzz summary (seed %d):" % seed)
    print(f"{'target':22} {'inputs':>9} {'per s':>8} {'crashes':>8} {'hangs':>6} {'escapes':>8}")
    for r in reports:
        rate = r.inputs / r.elapsed if r.elapsed > 0 else 0.0
        print(f"{r.target:22} {r.inputs:9d} {rate:8.0f} {len(r.crashes):8d} {len(r.hangs):6d} {len(r.escapes):8d}")
    found = sum(len(r.findings) for r in reports)
    if found:
        print(f"findings saved under {os.path.abspath(args.crashes)}")
    return 1 if found else 0


if __name__ == "__main__":
    # Stopped from outside: unwind, so that the running child is killed and its files removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
