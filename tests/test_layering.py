"""
The layers' imports (issue 12.3): a protocol module — C{proxier/upnpdm},
C{proxier/printer}, the plugins — reaches the CWMP endpoint only through the
contracts of L{proxier.interfaces} and the plugin context, never by importing
C{proxier.cwmp}, directly or through another module of the project. The
shared core of proxied devices (C{proxier/proxy}, issue 12) is below every
protocol: it imports none of them, nor the endpoint.
"""

from __future__ import annotations

import ast
import os
from typing import Optional

from twisted.trial import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: the packages that must not depend on the CWMP endpoint
PROTOCOLS = ("proxier.upnpdm", "proxier.printer", "proxier.plugins")
FORBIDDEN = "proxier.cwmp"
#: the local console sits above everything: it reads devices and endpoints through the interfaces only
CONSOLE = "proxier.console"
BELOW_CONSOLE = ("proxier.upnp", "proxier.upnpdm", "proxier.printer", "proxier.plugins", "proxier.cwmp")
#: the shared core, and what it must not depend on (the protocols and the endpoint)
CORE = "proxier.proxy"
ABOVE_CORE = ("proxier.upnp", "proxier.upnpdm", "proxier.printer", "proxier.cwmp")


def sourceOf(module: str) -> Optional[str]:
    """The file of a project module (its C{__init__.py} for a package), or None when there is none."""
    path = os.path.join(TOP, *module.split("."))
    if os.path.isdir(path):
        init = os.path.join(path, "__init__.py")
        return init if os.path.exists(init) else None
    return path + ".py" if os.path.exists(path + ".py") else None


def projectImports(module: str) -> set[str]:
    """
    The C{proxier} modules C{module} imports, at its top or inside a function,
    relative imports resolved; C{from package import name} counts the
    submodule C{name} when there is one.
    """
    path = sourceOf(module)
    assert path is not None, module
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - (node.level - 1)])
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] == "proxier" and sourceOf(m) is not None}


def modulesOf(package: str) -> list[str]:
    """Every module of C{package}, its subpackages' included (files ending in .py)."""
    root = os.path.join(TOP, *package.split("."))
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(("_", ".")))
        relative = os.path.relpath(directory, root)
        prefix = package if relative == "." else package + "." + relative.replace(os.sep, ".")
        for name in sorted(files):
            if name.endswith(".py"):
                found.append(prefix if name == "__init__.py" else f"{prefix}.{name[:-3]}")
    return found


def pathTo(start: str, forbidden: str) -> Optional[list[str]]:
    """An import chain from C{start} to C{forbidden} (or one of its modules), or None when there is none."""
    seen = {start}
    queue = [[start]]
    while queue:
        chain = queue.pop(0)
        for imported in sorted(projectImports(chain[-1])):
            if imported == forbidden or imported.startswith(forbidden + "."):
                return chain + [imported]
            if imported not in seen:
                seen.add(imported)
                queue.append(chain + [imported])
    return None


class ProtocolLayerTests(unittest.TestCase):
    def test_protocolsDoNotImportCWMP(self) -> None:
        """
        No module of C{proxier/upnpdm}, C{proxier/printer} or the plugins
        imports C{proxier.cwmp}, even through another module: the ACS agent,
        the device timeout and the file-transfer client come from the plugin
        context, HTTP authentication from L{proxier.httpauth}, the bounded
        request from L{proxier.httpbody}.
        """
        chains = []
        for package in PROTOCOLS:
            modules = modulesOf(package)
            self.assertTrue(modules, package)
            for module in modules:
                chain = pathTo(module, FORBIDDEN)
                if chain is not None:
                    chains.append(" -> ".join(chain))
        self.assertEqual(chains, [])

    def test_coreImportsNoProtocol(self) -> None:
        """
        No module of C{proxier/proxy} imports a protocol (C{proxier.upnp},
        C{proxier.upnpdm}, C{proxier.printer}) or C{proxier.cwmp}, even
        through another module: a protocol implements the core's
        interfaces, never the reverse.
        """
        modules = modulesOf(CORE)
        self.assertIn(CORE, modules)
        chains = []
        for module in modules:
            for forbidden in ABOVE_CORE:
                chain = pathTo(module, forbidden)
                if chain is not None:
                    chains.append(" -> ".join(chain))
        self.assertEqual(chains, [])

    def test_consoleImportsNoProtocolNorEndpoint(self) -> None:
        """
        No module of C{proxier/console} imports a protocol or C{proxier.cwmp},
        even through another module: it shows every device through
        L{IProxiedDevice}, L{ICWMPEndpoint} and the endpoint's model, so a
        new protocol appears in it without a line of console code.
        """
        modules = modulesOf(CONSOLE)
        self.assertIn("proxier.console.api", modules)
        chains = []
        for module in modules:
            for forbidden in BELOW_CONSOLE:
                chain = pathTo(module, forbidden)
                if chain is not None:
                    chains.append(" -> ".join(chain))
        self.assertEqual(chains, [])

    def test_walkerSeesImports(self) -> None:
        """
        The walker finds a chain where there is one — relative, nested and
        C{from package import module} forms included — so an empty answer
        above means something: L{proxier.tap} reaches C{proxier.cwmp}, and
        the old C{from proxier.cwmp import digest} form counts.
        """
        self.assertIsNotNone(pathTo("proxier.tap", FORBIDDEN))
        self.assertIn("proxier.cwmp.codec", projectImports("proxier.cwmp.transport"))
        self.assertIn("proxier.upnpdm", modulesOf("proxier.upnpdm"))
        self.assertIn("proxier.upnp.dps.codec", modulesOf("proxier.upnp"))
