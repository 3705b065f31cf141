# -*- test-case-name: tests.test_registry -*-
"""
The registry of one service tree, and the protocol plugins.

There is no global registration: L{makeRegistry} makes the one
L{Components} a service tree uses; the tree passes it down and each protocol
registers its adapters there when its service is made. Two service trees in
one process (tests, benchmarks) never see each other's adapters.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

from twisted.plugin import getPlugins
from zope.interface.registry import Components

from proxier.interfaces import IProxyProtocol

__all__ = ["makeRegistry", "protocolPlugins", "selectProtocols"]


def makeRegistry(name: str = "proxier") -> Components:
    """A fresh, empty registry for one service tree."""
    return Components(name)


def protocolPlugins(package: Optional[object] = None) -> list[IProxyProtocol]:
    """
    Every installed protocol plugin, sorted by name.

    @param package: the plugin package to search; C{proxier.plugins} by
        default (tests pass another).
    """
    if package is None:
        import proxier.plugins as package  # type: ignore[no-redef]
    found: dict[str, IProxyProtocol] = {}
    for plugin in getPlugins(IProxyProtocol, package):
        found.setdefault(plugin.name, plugin)
    return [found[name] for name in sorted(found)]


def selectProtocols(plugins: Sequence[IProxyProtocol], enabled: Iterable[str]) -> list[IProxyProtocol]:
    """
    The plugins the C{[protocols] enabled} key names (all when it names none).

    @raise KeyError: naming the first protocol that is not installed.
    """
    wanted = list(enabled)
    if not wanted:
        return list(plugins)
    byName = {p.name.lower(): p for p in plugins}
    chosen = []
    for name in wanted:
        plugin = byName.get(name.lower())
        if plugin is None:
            raise KeyError(name)
        chosen.append(plugin)
    return chosen
