# -*- test-case-name: tests.test_xmlsafe -*-
"""
Benchmark of L{proxier.xmlsafe.parse}, printing figures:

 (a) what the screening costs (encoding found, text decoded, markup
     declarations and attribute counts looked for, re-encoded as UTF-8) on
     ordinary documents of 1 kB to 1 MiB, against libxml2 alone;
 (b) the slowest entry point for each document of the hostile corpus
     (tests/hostilexml.py), and the whole matrix;
 (c) an element with many attributes: refused by the screening, versus the
     time libxml2 alone takes (quadratic in libxml2 2.9, Debian 12).

Run it on both stacks:

    PYTHONPATH=. .venv/bin/python bench/bench_xmlsafe.py [--rounds 50]
    PYTHONPATH=. /usr/bin/python3 bench/bench_xmlsafe.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from lxml import etree

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import percentile  # noqa: E402
from proxier import xmlsafe  # noqa: E402


def timed(function, *args) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    try:
        function(*args)
    except Exception:
        pass
    return (time.perf_counter() - start) * 1000


def line(label: str, values: list[float]) -> None:
    print(f"  {label:<52} median {statistics.median(values):9.3f} ms   p95 {percentile(values, 0.95):9.3f} ms"
          f"   n={len(values)}")


def benchOrdinary(rounds: int) -> None:
    print("(a) ordinary documents: xmlsafe.parse versus libxml2 alone")
    item = '<item a="1" b="two">caf\u00e9 &amp; more</item>'
    for label, size in (("1 kB", 1000), ("100 kB", 100000), ("1 MiB", 1000000)):
        document = ('<?xml version="1.0" encoding="UTF-8"?><r xmlns="urn:x">'
                    + item * (size // len(item.encode())) + "</r>").encode()
        line(f"{label} ({len(document)} bytes), xmlsafe.parse", [timed(xmlsafe.parse, document) for _ in range(rounds)])
        line(f"{label}, libxml2 alone", [timed(etree.fromstring, document, xmlsafe.makeParser()) for _ in range(rounds)])


def benchCorpus() -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests import test_xml_hostile as matrix
    from tests.hostilexml import Tripwire, corpus

    print("(b) the hostile corpus: the slowest entry point per document")
    directory = tempfile.mkdtemp(prefix="bench-xmlsafe-")
    trip = Tripwire(os.path.join(directory, "canaries"))
    total, runs = 0.0, 0
    for hostile in corpus(trip):
        worst, where = 0.0, ""
        for entry in matrix.ENTRIES:
            spent = timed(matrix.outcome, entry, hostile)
            total += spent
            runs += 1
            if spent > worst:
                worst, where = spent, entry.name
        print(f"  {hostile.name:<52} {worst:9.3f} ms   ({where})")
    touched = trip.touched()
    trip.close()
    print(f"  whole matrix: {runs} parses in {total:.0f} ms; canary opens and connections: {len(touched)}")


def benchAttributes() -> None:
    print("(c) one element with many attributes")
    for count in (256, 5000, 20000, 80000):
        document = ("<a " + " ".join(f"a{i}='x'" for i in range(count)) + "/>").encode()
        refused = timed(xmlsafe.parse, document)
        alone = ""
        if count <= 20000 or etree.LIBXML_VERSION >= (2, 12):
            alone = f"; libxml2 alone {timed(etree.fromstring, document, xmlsafe.makeParser()):9.1f} ms"
        print(f"  {count:6} attributes ({len(document):7} bytes): xmlsafe.parse {refused:7.2f} ms{alone}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    print(f"Python {sys.version.split()[0]}, lxml {etree.__version__}, libxml2 "
          f"{'.'.join(map(str, etree.LIBXML_VERSION))}")
    benchOrdinary(rounds)
    benchCorpus()
    benchAttributes()


if __name__ == "__main__":
    main()
