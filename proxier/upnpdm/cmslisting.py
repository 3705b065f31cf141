# -*- test-case-name: tests.test_upnpdm_walk -*-
"""
GetParameterNames of one device (TR-330 §4.6.2.1): a parameter →
GetAttributes of it; an object with NextLevel true → GetSupportedParameters
(depth 1); a table with NextLevel true → GetInstances (depth 1); an object
with NextLevel false → the whole subtree (L{TreeWalker<proxier.upnpdm.cmswalk.TreeWalker>}).
Writable comes from each node's Access attribute, gated by the actions the
SCPD offers (§4.3.1: no SetValues, no writable parameter); a 703 from
GetAttributes is 9005. The Common Objects parameters mapped and the
proxier's own values are merged in after their parent object's block.

Kept apart because it is the one RPC that lists rather than reads: its
answer is made of the device's names, the walks' and the proxier's, in
one tree order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.defer import inlineCallbacks

from proxier.datamodel import paths as cwmppaths
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import ParameterInfo
from proxier.upnpdm.cmsnames import checkName
from proxier.upnpdm.cmspaths import CWMP_ROOT, structureOf
from proxier.upnpdm.cmsrouting import treeOrder
from proxier.upnpdm.cmsschema import NodeInfo
from proxier.upnpdm.cmsxml import CMSDocumentError

if TYPE_CHECKING:  # pragma: no cover
    from proxier.upnpdm.model import CMSDataModel

__all__ = ["NameListing", "merged"]


class NameListing:
    """The GetParameterNames of one L{CMSDataModel}."""

    def __init__(self, model: "CMSDataModel") -> None:
        self.model = model

    def _writable(self, path: str, info: NodeInfo) -> bool:
        """TR-330 §4.6.2.1 step 4 and §4.6.5 (Access), §4.3.1 (the actions the SCPD offers)."""
        if not info.writable:
            return False
        kind = self.model.knowledge.kindOf(path, info)
        if kind == "leaf":
            return self.model.caps.canSetValues
        if kind == "table":
            return self.model.caps.canCreateInstance
        if kind == "instance":
            return self.model.caps.canDeleteInstance
        return False

    @inlineCallbacks
    def get(self, path: str, nextLevel: bool) -> Any:
        """GetParameterNames of C{path}: C{[ParameterInfo]}, the device's names and the proxier's merged."""
        checkName(path)
        if "[" in path:
            path = yield self.model.names.numbered(path)
        if self.model.extraConstants:
            yield self.model.routing.refreshLocal([path])
        if path == "":
            path = CWMP_ROOT
        held = self.model.constants
        constants, mapped = self.model.routing.localUnder(path, held)
        if path in held:
            return [ParameterInfo(path, False)]
        if path in self.model.translator.mapped:
            cms = self.model.translator.mapped[path]
            attributes = yield self.model.getAttributes([cms])
            info = NodeInfo()
            if cms in attributes:
                info = self.model.schema.get(structureOf(cms)) or info
            return [ParameterInfo(path, self._writable(cms, info))]
        device: list[ParameterInfo] = []
        if self.model.routing.deviceCovers(path):
            device = yield self._deviceNames(path, nextLevel)
        elif not (constants or mapped):
            raise CWMPFault(9005, f"Invalid parameter name ({path} is not in this device's model)")
        local = yield self._localNames(path, nextLevel, constants, mapped, {i.name for i in device})
        if not device and path.endswith(".") and not nextLevel:
            device = [ParameterInfo(path, False)]
        return merged(device, local)

    @inlineCallbacks
    def _deviceNames(self, path: str, nextLevel: bool) -> Any:
        cms = yield self.model.names.toCMS(path)
        if not cms.endswith("/"):
            attributes = yield self.model.getAttributes([cms])
            if cms not in attributes:
                raise CMSDocumentError(f"GetAttributes did not answer for {cms}")
            return [ParameterInfo(path, self._writable(cms, self.model.schema[structureOf(cms)]))]
        if not self.model.kindKnown(cms):
            yield self.model.getAttributes([cms])  # learns its kind; 703 → 9005 (§4.6.2.1 step 5)
        kind = "object" if cms == self.model.profile.root else self.model.kindOf(cms)
        if nextLevel and kind == "instance":
            yield self.model.getAttributes([cms])  # it exists now (703 → 9005)
        if nextLevel:
            if kind == "table":
                nodes = yield self.model.listTable(cms)
            else:
                nodes = yield self.model.children(cms)
        else:
            nodes = yield self.model.subtree(cms)
        infos = yield self.model.nodeInfos(nodes)
        out = []
        for node in nodes:
            name = path if node == cms else self.model.toCWMP(node)
            if name is None:
                continue
            writable = False if node == self.model.profile.root else self._writable(node, infos[node])
            out.append(ParameterInfo(name, writable))
        return out

    @inlineCallbacks
    def _localNames(self, path: str, nextLevel: bool, constants: list[str], mapped: list[str],
                    present: set[str]) -> Any:
        """The constants and mapped parameters below C{path}, with the objects that lead to them."""
        names = constants + mapped
        if not names:
            return []
        writable: dict[str, bool] = {}
        if mapped:
            cmsPaths = [self.model.translator.mapped[n] for n in mapped]
            infos = yield self.model.nodeInfos(cmsPaths)
            for name, cms in zip(mapped, cmsPaths):
                writable[name] = self._writable(cms, infos[cms])
        depth = len(cwmppaths.parse(path).segments)
        out: list[ParameterInfo] = []
        seen = set(present)

        def emit(name: str, isWritable: bool) -> None:
            if name not in seen:
                seen.add(name)
                out.append(ParameterInfo(name, isWritable))

        for name in sorted(names, key=treeOrder):
            parts = name.split(".")
            if nextLevel:
                if len(parts) == depth + 1:
                    emit(name, writable.get(name, False))
                else:
                    emit(".".join(parts[: depth + 1]) + ".", False)
                continue
            for cut in range(depth + 1, len(parts)):
                emit(".".join(parts[:cut]) + ".", False)
            emit(name, writable.get(name, False))
        return out


def merged(device: list[ParameterInfo], local: list[ParameterInfo]) -> list[ParameterInfo]:
    """The device's names with the proxier's inserted after their parent object's block."""
    out = list(device)
    present = {i.name for i in out}
    for info in local:
        if info.name in present:
            continue
        present.add(info.name)
        parent = cwmppaths.parent(info.name)
        position = len(out)
        for index in range(len(out) - 1, -1, -1):
            if out[index].name == parent or (parent and out[index].name.startswith(parent)):
                position = index + 1
                break
        out.insert(position, info)
    return out
