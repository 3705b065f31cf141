# -*- test-case-name: tests.test_upnpdm_walk -*-
"""
Walking a device's CMS tree for GetParameterNames (TR-330 §4.6.2.1): the
children of one node (GetSupportedParameters, depth 1) and a whole subtree
made concrete (GetSupportedParameters and GetInstances, depth 0, joined).

Kept apart because it is the one algorithm of the model with a shape of
its own (the supported tree of StructurePaths unrolled over the instances
listed), bounded by L{MAX_NODES}; what it learns of tables and objects goes
to the L{CMSSchema<proxier.upnpdm.cmsschema.CMSSchema>}, the instances it
lists to the device's instance map.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from twisted.internet.defer import Deferred, gatherResults, inlineCallbacks, succeed

from proxier.datamodel import paths as cwmppaths
from proxier.upnpdm import cmsxml
from proxier.upnpdm.cmspaths import CMSPathError, isInstanceSegment, parse as parseCMS, structureOf, tableOf
from proxier.upnpdm.cmsschema import CMSSchema
from proxier.upnpdm.state import DeviceState

__all__ = ["TreeWalker", "MAX_NODES"]

#: The most nodes one answer may hold (a whole-tree GetParameterNames).
MAX_NODES = 50000


class TreeWalker:
    """The GetParameterNames walks of one device."""

    def __init__(self, cms: Callable[..., Deferred], schema: CMSSchema, state: DeviceState) -> None:
        self.cms = cms
        self.schema = schema
        self.state = state

    def children(self, cms: str) -> Deferred:
        """The concrete children of an object or instance (GetSupportedParameters, depth 1)."""
        return self._children(cms)

    @inlineCallbacks
    def _children(self, cms: str) -> Any:
        tables, objects = self.schema.tables, self.schema.objects
        start = structureOf(cms)
        answer = yield self.cms("GetSupportedParameters", StartingNode=start, SearchDepth=1)
        out: list[str] = []
        for structure in cmsxml.parseStructurePathList(answer.get("Result", "")):
            if not structure.startswith(start) or structure == start:
                continue
            rest = structure[len(start):]
            if rest.endswith("/#/"):
                name, suffix = rest[:-3], "/"
                tables.add(start + name + "/")
            elif rest.endswith("/"):
                name, suffix = rest[:-1], "/"
                if start + name + "/" not in tables:
                    objects.add(start + name + "/")
            else:
                name, suffix = rest, ""
            if not name or "/" in name or cwmppaths.nameError(name):
                continue
            path = cms + name + suffix
            if path not in out:
                out.append(path)
        self.schema.share()
        return out

    def subtree(self, cms: str) -> Deferred:
        """
        Every node at and below a partial path, in tree order, concrete
        (§4.6.2.1 with NextLevel false: GetInstances and GetSupportedParameters,
        depth 0). Tables' instance maps are brought up to date: this is a
        complete listing of everything below C{cms}.
        """
        return self._subtree(cms)

    @inlineCallbacks
    def _subtree(self, cms: str) -> Any:
        tables, objects = self.schema.tables, self.schema.objects
        start = structureOf(cms)
        supported, listed = yield gatherResults([
            self.cms("GetSupportedParameters", StartingNode=start, SearchDepth=0),
            self.cms("GetInstances", StartingNode=cms, SearchDepth=0),
        ], consumeErrors=True).addErrback(lambda f: f.value.subFailure)
        structures = [s for s in cmsxml.parseStructurePathList(supported.get("Result", ""))
                      if s.startswith(start) and s != start]
        instances = [p for p in cmsxml.parseInstancePathList(listed.get("Result", ""))
                     if p.startswith(cms) and p != cms and p.endswith("/")]
        byTable: dict[str, list[int]] = {}
        for path in instances:
            try:
                parseCMS(path)
            except CMSPathError:
                continue
            last = path.rstrip("/").rsplit("/", 1)[-1]
            if isInstanceSegment(last):
                byTable.setdefault(tableOf(path), []).append(int(last))
        for table, numbers in byTable.items():
            self.state.instances.sync(table, numbers)
        self.state.instances.forgetTablesBelow(cms, keep=byTable)
        # the supported tree: structure node → children, in the order given
        children: dict[str, list[tuple[str, str]]] = {}

        def add(parent: str, child: str, kind: str) -> None:
            entries = children.setdefault(parent, [])
            for index, (existing, oldKind) in enumerate(entries):
                if existing == child:
                    if kind == "table" and oldKind != "table":
                        entries[index] = (child, kind)
                    return
            entries.append((child, kind))

        def register(structure: str) -> None:
            rest = structure[len(start):]
            isLeaf = not structure.endswith("/")
            parts = rest.rstrip("/").split("/")
            node = start
            for index, part in enumerate(parts):
                if part == "#":  # node is a table: "#" stands for its instances
                    add(node[: node.rstrip("/").rfind("/") + 1], node, "table")
                    tables.add(node)
                    node += "#/"
                    continue
                if index == len(parts) - 1 and isLeaf:
                    add(node, node + part, "leaf")
                    return
                add(node, node + part + "/", "object")
                node += part + "/"

        for structure in structures:
            register(structure)
        for entries in children.values():
            for child, kind in entries:
                if kind == "object" and child not in tables:
                    objects.add(child)
        out: list[str] = [cms]
        if self.schema.kindOf(cms) == "table" or (start + "#/" in children and start not in children):
            tables.add(start)
            for number in sorted(byTable.get(cms, ())):
                instance = f"{cms}{number}/"
                out.append(instance)
                self._emit(instance, start + "#/", children, byTable, out)
        else:
            self._emit(cms, start, children, byTable, out)
        self.schema.share()
        if len(out) > MAX_NODES:
            raise OverflowError(f"more than {MAX_NODES} nodes below {cms}")
        return out

    def _emit(self, concrete: str, structure: str, children: Mapping[str, list[tuple[str, str]]],
              byTable: Mapping[str, list[int]], out: list[str]) -> None:
        for child, kind in children.get(structure, ()):
            name = child[len(structure):]
            if kind == "leaf":
                out.append(concrete + name)
            elif kind == "table":
                table = concrete + name
                out.append(table)
                for number in sorted(byTable.get(table, ())):
                    instance = f"{table}{number}/"
                    out.append(instance)
                    self._emit(instance, child + "#/", children, byTable, out)
            else:
                path = concrete + name
                out.append(path)
                self._emit(path, child, children, byTable, out)
            if len(out) > MAX_NODES:
                raise OverflowError(f"more than {MAX_NODES} nodes")

    def parametersBelow(self, cms: str) -> Deferred:
        """The concrete parameter paths at and below a CMS path."""
        if not cms.endswith("/"):
            return succeed([cms])
        return self.subtree(cms).addCallback(lambda nodes: [n for n in nodes if not n.endswith("/")])
