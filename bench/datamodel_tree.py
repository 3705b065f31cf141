"""
How long the in-process data model takes to answer whole-tree requests.

Builds a TreeDataModel of a few thousand parameters (a table of rows with
kept values and getters), and a CompositeDataModel mounting it with a small
overlay, then times GetParameterNames("", false), GetParameterValues([""]),
GetParameterAttributes([""]), the composite's GetParameterValues of 100
names and of 100 rows by instance number and by instance alias, a 100-value
SetParameterValues and poll().

    PYTHONPATH=. .venv/bin/python bench/datamodel_tree.py [ROWS] [REPEAT]
"""

from __future__ import annotations

import sys
import tempfile
import time

from proxier.datamodel.composite import CompositeDataModel
from proxier.datamodel.declarations import Object, Parameter, Table
from proxier.datamodel.tree import TreeDataModel
from proxier.datamodel.types import Boolean, DateTime, String, UnsignedInt
from proxier.datamodel.values import AttributeChange, ParameterValue
from proxier.store import Store


def build(rows: int, store: Store) -> TreeDataModel:
    row = [Parameter(f"Name{i}", String(64), writable=True) for i in range(6)]
    row += [Parameter(f"Count{i}", UnsignedInt(), get=lambda node, i=i: node.instance * i) for i in range(6)]
    row += [Parameter("Enable", Boolean(), writable=True), Parameter("When", DateTime(), writable=True)]
    model = TreeDataModel(Object("Device", Object("Hosts", Table("Host", *row, writable=True, alias=True))),
                          store)
    for _ in range(rows):
        model.addInstance("Device.Hosts.Host.")
    return model


def timed(label: str, repeat: int, function) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<48} {best * 1000:8.2f} ms")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 250
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(directory)
        model = build(rows, store.child("tree"))
        overlay = TreeDataModel(Object("Device", Object("ManagementServer",
                                                        Parameter("URL", String(), value="http://acs/"))))
        composite = CompositeDataModel([("Device.", model), ("Device.ManagementServer.", overlay)])
        count = len(model.getParameterValues([""]).result)
        print(f"tree: {rows} rows, {count} parameters; best of {repeat}")
        results = []

        def run(d):
            d.addBoth(results.append)

        timed("GetParameterNames('', false)", repeat, lambda: run(model.getParameterNames("", False)))
        timed("GetParameterNames('Device.Hosts.Host.', true)", repeat,
              lambda: run(model.getParameterNames("Device.Hosts.Host.", True)))
        timed("GetParameterValues([''])", repeat, lambda: run(model.getParameterValues([""])))
        timed("GetParameterAttributes([''])", repeat, lambda: run(model.getParameterAttributes([""])))
        timed("composite GetParameterNames('Device.', false)", repeat,
              lambda: run(composite.getParameterNames("Device.", False)))
        timed("composite GetParameterValues(['Device.'])", repeat,
              lambda: run(composite.getParameterValues(["Device."])))
        byNumber = [f"Device.Hosts.Host.{n}.Name0" for n in range(1, 101)]
        byAlias = [f"Device.Hosts.Host.[cpe-{n}].Name0" for n in range(1, 101)]
        timed("composite GetParameterValues(100 names by number)", repeat,
              lambda: run(composite.getParameterValues(byNumber)))
        timed("composite GetParameterValues(100 names by alias)", repeat,
              lambda: run(composite.getParameterValues(byAlias)))
        timed("composite GetParameterValues(100 rows by number)", repeat,
              lambda: run(composite.getParameterValues([n[: -len("Name0")] for n in byNumber])))
        timed("composite GetParameterValues(100 rows by alias)", repeat,
              lambda: run(composite.getParameterValues([n[: -len("Name0")] for n in byAlias])))
        values = [ParameterValue(f"Device.Hosts.Host.{n}.Name0", f"v{n}", "xsd:string") for n in range(1, 101)]
        timed("SetParameterValues (100 values, in memory)", repeat, lambda: run(model.setParameterValues(values)))
        timed("SetParameterAttributes('', 1) (persisted)", 1,
              lambda: run(model.setParameterAttributes([AttributeChange("Device.", True, 1)])))
        timed("poll() with Notification on everywhere", repeat, model.poll)
        failures = [r for r in results if not isinstance(r, (list, int, tuple, type(None)))]
        if failures:
            print("failures:", failures[:3])
            sys.exit(1)


if __name__ == "__main__":
    main()
