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

Every device of one model learns the same schema (issue 19): each of its
four tables is a L{SharedDict} or L{SharedSet}, which holds one object for
equal contents across devices, copied on the first write that changes it
and shared again once a batch of learning is over (L{CMSSchema.share}).
"""

from __future__ import annotations

import weakref
from collections.abc import MutableMapping, MutableSet
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Iterator, Mapping, Optional, Sequence

from twisted.internet.defer import Deferred, inlineCallbacks

from proxier.sharing import InternTable, internText
from proxier.upnpdm import cmsxml
from proxier.upnpdm.cmspaths import isInstanceSegment, structureOf

__all__ = ["NodeInfo", "nodeInfo", "CMSSchema", "SharedDict", "SharedSet", "chunks", "isInstancePath"]

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


class _Content(dict):
    """
    A L{SharedDict}'s content: written by its one device until shared, by
    no one after (a dict cannot be weakly referenced; this can).
    """

    __slots__ = ("__weakref__",)


# The contents devices hold now, by hash: weak, so that a content no device
# holds any more (a schema learnt further, a device gone) is not kept.
_contents: "weakref.WeakValueDictionary[int, Any]" = weakref.WeakValueDictionary()


def _shared(content: Any, key: Hashable) -> Any:
    """The object of C{content}'s value that devices hold already (C{key}: a hashable form of it), or C{content}."""
    digest = hash(key)
    found = _contents.get(digest)
    if found is not None and type(found) is type(content) and found == content:
        return found
    _contents[digest] = content
    return content


_EMPTY_DICT = _Content()
_EMPTY_SET: frozenset = frozenset()  # one object: frozenset() makes a new one each time since Python 3.10


class SharedDict(MutableMapping):
    """
    A dict of one device whose content is shared with the devices that
    hold an equal one: read in place, copied on the first write that
    changes it, shared again by L{share}. Slots: four per device, issue 19.
    """

    __slots__ = ("_data", "_own")

    def __init__(self) -> None:
        self._data: dict = _EMPTY_DICT
        self._own = False

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def get(self, key: Any, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def reading(self) -> Mapping:
        """
        The content as it is now, to read in one synchronous pass and not to
        write (issue 19: a value typed looked its node up through a method
        of this class, a call a value).
        """
        return self._data

    def __repr__(self) -> str:
        return f"SharedDict({dict(self._data)!r})"

    def _writable(self) -> dict:
        if not self._own:
            self._data = _Content(self._data)
            self._own = True
        return self._data

    def __setitem__(self, key: Any, value: Any) -> None:
        data = self._data
        if key in data and data[key] == value:
            return  # learnt again as it was: still shared
        self._writable()[key] = value

    def __delitem__(self, key: Any) -> None:
        if key not in self._data:
            raise KeyError(key)
        del self._writable()[key]

    def clear(self) -> None:
        self._data = _EMPTY_DICT
        self._own = False

    def share(self) -> None:
        """No more writes for now: hold the object of this content that other devices hold, if one does."""
        if self._own:
            self._data = _shared(self._data, frozenset(self._data.items()))
            self._own = False


class SharedSet(MutableSet):
    """A set of one device whose content is shared as L{SharedDict}'s is."""

    __slots__ = ("_data", "_own")

    def __init__(self) -> None:
        self._data: Any = _EMPTY_SET
        self._own = False

    def __contains__(self, item: object) -> bool:
        return item in self._data

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"SharedSet({set(self._data)!r})"

    def _writable(self) -> set:
        if not self._own:
            self._data = set(self._data)
            self._own = True
        return self._data  # type: ignore[no-any-return]

    def add(self, item: Any) -> None:
        if item not in self._data:
            self._writable().add(item)

    def discard(self, item: Any) -> None:
        if item in self._data:
            self._writable().discard(item)

    def clear(self) -> None:
        self._data = _EMPTY_SET
        self._own = False

    def share(self) -> None:
        """As L{SharedDict.share}."""
        if self._own:
            content = frozenset(self._data)
            self._data = _shared(content, content)
            self._own = False


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

    __slots__ = ("cms", "nodes", "tables", "objects", "eventOnChange")  # one per device, issue 19

    def __init__(self, cms: Callable[..., Deferred]) -> None:
        self.cms = cms
        self.nodes: SharedDict = SharedDict()
        self.tables: SharedSet = SharedSet()
        self.objects: SharedSet = SharedSet()
        self.eventOnChange: SharedDict = SharedDict()

    def forget(self) -> None:
        """The supported parameters or attributes may have changed (EventOnChange values stay)."""
        self.nodes.clear()
        self.tables.clear()
        self.objects.clear()

    def share(self) -> None:
        """
        A batch of learning is over: each table holds the object other
        devices hold for the same content (called per batch, not per node,
        so that the states in between are never looked up).
        """
        for table in (self.nodes, self.tables, self.objects, self.eventOnChange):
            table.share()

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
        self.share()

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
            self.share()
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
