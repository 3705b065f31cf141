# -*- test-case-name: tests.test_upnpdm_model -*-
"""
What the proxier has learned of one device's CMS tree: the Type and Access
of each StructurePath (GetAttributes), which nodes are tables and which
objects (GetSupportedParameters, the profile's root structure), and each
parameter's EventOnChange as last read.

Kept apart from the RPCs that use it because it is the one part of a
device's model that is a cache: the "entire object model held in the CPE
Proxier" of TR-330's notes, so that a node is asked about once, emptied
when the device says its supported parameters changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from twisted.internet.defer import Deferred, inlineCallbacks

from proxier.sharing import InternTable, internText
from proxier.upnpdm import cmsxml
from proxier.upnpdm.cmspaths import isInstanceSegment, structureOf

__all__ = ["NodeInfo", "nodeInfo", "CMSSchema", "chunks", "isInstancePath"]

READ_WRITE = "readwrite"
TABLE_TYPES = frozenset({"multiinstance", "table"})


@dataclass(frozen=True)
class NodeInfo:
    """
    What the proxier knows of one StructurePath: its CMS Type and Access.
    Immutable, so that the devices of one model share each one (L{nodeInfo}).
    """

    type: str = ""
    access: str = ""

    @property
    def writable(self) -> bool:
        return self.access.strip().lower() == READ_WRITE


_nodeInfos: InternTable[NodeInfo] = InternTable()
_UNKNOWN = NodeInfo()


def nodeInfo(type: str, access: str) -> NodeInfo:
    """The L{NodeInfo} of C{type} and C{access}, one object for all the nodes of every device that have them."""
    return _nodeInfos(NodeInfo(type, access))


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """C{items} in slices of at most C{size} (one empty slice for no items)."""
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def isInstancePath(path: str) -> bool:
    """Whether the last segment of a CMS object path (C{/BBF/Hosts/Host/2/}) is an instance number."""
    return isInstanceSegment(path.rstrip("/").rsplit("/", 1)[-1])


def _isTrue(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes")


class CMSSchema:
    """
    The schema cache of one device.

    @ivar nodes: StructurePath → L{NodeInfo}, learned from GetAttributes.
    @ivar tables: StructurePaths of tables (C{/BBF/Hosts/Host/}) seen in
        GetSupportedParameters answers or the profile's structure.
    @ivar objects: StructurePaths known to be single objects.
    @ivar eventOnChange: concrete CMS parameter path → its EventOnChange, as
        last read or set.
    """

    def __init__(self, cms: Callable[..., Deferred]) -> None:
        self.cms = cms
        self.nodes: dict[str, NodeInfo] = {}
        self.tables: set[str] = set()
        self.objects: set[str] = set()
        self.eventOnChange: dict[str, bool] = {}

    def forget(self) -> None:
        """The supported parameters or attributes may have changed (EventOnChange values stay)."""
        self.nodes.clear()
        self.tables.clear()
        self.objects.clear()

    def learnStructure(self, structures: Iterable[str]) -> None:
        """
        Tables and objects named by StructurePaths (C{.../Table/#/...},
        C{.../Object/...}). Paths are kept as shared strings (L{internText}):
        every device of a model names the same ones.
        """
        for structure in structures:
            segments = [p for p in structure.split("/") if p]
            prefix = "/"
            for index, segment in enumerate(segments):
                if segment == "#":
                    prefix += "#/"
                    continue
                path = internText(prefix + segment + "/")
                following = segments[index + 1] if index + 1 < len(segments) else None
                if following == "#":
                    self.tables.add(path)
                    self.objects.discard(path)
                elif (following is not None or structure.endswith("/")) and path not in self.tables:
                    self.objects.add(path)
                prefix = path

    def learn(self, path: str, attributes: Mapping[str, str]) -> None:
        """What one GetAttributes answer says of the concrete node C{path}."""
        structure = internText(structureOf(path))
        known = self.nodes.get(structure) or _UNKNOWN
        info = nodeInfo(attributes["Type"].strip() if "Type" in attributes else known.type,
                        attributes["Access"].strip() if "Access" in attributes else known.access)
        self.nodes[structure] = info
        if info.type.lower() in TABLE_TYPES and not isInstancePath(path):
            self.tables.add(structure)
        if "EventOnChange" in attributes and not path.endswith("/"):
            self.eventOnChange[internText(path)] = _isTrue(attributes["EventOnChange"])

    def getAttributes(self, paths: Sequence[str], batch: int) -> Deferred:
        """
        GetAttributes of C{paths} (concrete), in batches; learns what it reads.

        @return: Deferred firing with C{{path: attributes}} for the paths asked.
        """
        return self._getAttributes(paths, batch)

    @inlineCallbacks
    def _getAttributes(self, paths: Sequence[str], batch: int) -> Any:
        asked = list(dict.fromkeys(paths))
        out: dict[str, dict[str, str]] = {}
        for chunk in chunks(asked, batch):
            if not chunk:
                continue
            answer = yield self.cms("GetAttributes", Parameters=cmsxml.nodeAttributePathList(chunk))
            wanted = set(chunk)
            for path, attributes in cmsxml.parseNodeAttributeValueList(answer.get("NodeAttributeValueList", "")):
                if path not in wanted:
                    continue  # a node we did not ask about
                self.learn(path, attributes)
                out[path] = attributes
        return out

    def info(self, path: str) -> NodeInfo:
        """The L{NodeInfo} known of a concrete path (an empty one when none is)."""
        return self.nodes.get(structureOf(path)) or NodeInfo()

    def nodeInfos(self, paths: Sequence[str], root: str, batch: int) -> Deferred:
        """
        The L{NodeInfo} of each concrete path, from the cache; the
        StructurePaths not known yet (but C{root}'s) are asked about, one node each.
        """
        return self._nodeInfos(paths, root, batch)

    @inlineCallbacks
    def _nodeInfos(self, paths: Sequence[str], root: str, batch: int) -> Any:
        missing: dict[str, str] = {}
        for path in paths:
            structure = structureOf(path)
            if structure not in self.nodes and path != root:
                missing.setdefault(structure, path)
        if missing:
            yield self._getAttributes(list(missing.values()), batch)
        return {p: self.nodes.get(structureOf(p)) or NodeInfo() for p in paths}

    def kindOf(self, path: str, info: Optional[NodeInfo] = None) -> str:
        """C{"leaf"}, C{"instance"}, C{"table"} or C{"object"}, from the path and what is known."""
        if not path.endswith("/"):
            return "leaf"
        if isInstancePath(path):
            return "instance"
        structure = structureOf(path)
        if structure in self.tables:
            return "table"
        info = info or self.nodes.get(structure)
        if info is not None and info.type.lower() in TABLE_TYPES:
            return "table"
        return "object"

    def kindKnown(self, path: str, root: str) -> bool:
        """Whether L{kindOf} knows C{path}'s kind without asking the device."""
        structure = structureOf(path)
        return (not path.endswith("/") or path == root or structure in self.tables
                or structure in self.objects or structure in self.nodes
                or isInstancePath(path))
