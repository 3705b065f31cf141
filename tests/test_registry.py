"""
Tests for L{proxier.registry}: one registry per service tree, and protocol
plugins that a third party installs as a module.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from twisted.trial import unittest
from zope.interface import Interface, implementer

from proxier.interfaces import IProxyProtocol
from proxier.registry import makeRegistry, protocolPlugins, selectProtocols
from tests._helpers import TOP, subprocessEnv

DUMMY_PLUGIN = textwrap.dedent(
    '''
    """A third party's protocol: installed by dropping this file in proxier/plugins/."""
    from twisted.application.service import Service
    from twisted.plugin import IPlugin
    from zope.interface import implementer
    from proxier.config import Key, Section, integer
    from proxier.interfaces import IProxyProtocol

    class DummyService(Service):
        def __init__(self, context):
            self.context = context
        def startService(self):
            Service.startService(self)
            print("dummy protocol started; store at", self.context.store.path, flush=True)

    @implementer(IPlugin, IProxyProtocol)
    class Dummy:
        name = "X_EXAMPLE-Dummy"
        discoveryProtocol = "X_EXAMPLE-Dummy"
        configSection = Section("dummy", "A dummy protocol.", (Key("answer", integer(0, 100), "42", "The answer."),))
        def makeService(self, context):
            return DummyService(context)

    dummy = Dummy()
    '''
)

LIST = "from proxier.registry import protocolPlugins; print(sorted(p.name for p in protocolPlugins()))"


class PluginTests(unittest.TestCase):
    def installDummy(self) -> str:
        """A site directory of a third party holding proxier/plugins/dummy.py (no __init__.py)."""
        site = os.path.abspath(self.mktemp())
        os.makedirs(os.path.join(site, "proxier", "plugins"))
        with open(os.path.join(site, "proxier", "plugins", "dummyproto.py"), "w") as f:
            f.write(DUMMY_PLUGIN)
        return site

    def test_thirdPartyPluginFound(self) -> None:
        """
        A module installed in another sys.path entry's proxier/plugins/ is found
        as a protocol, and its config section is accepted in the config file.
        """
        site = self.installDummy()
        without = subprocess.run([sys.executable, "-c", LIST], capture_output=True, text=True,
                                 env=subprocessEnv(), cwd=TOP, timeout=60)
        self.assertNotIn("X_EXAMPLE-Dummy", without.stdout)
        found = subprocess.run([sys.executable, "-c", LIST], capture_output=True, text=True,
                               env=subprocessEnv(site), cwd=TOP, timeout=60)
        self.assertEqual(found.returncode, 0, found.stderr)
        self.assertIn("'X_EXAMPLE-Dummy'", found.stdout)

    def test_thirdPartyPluginRuns(self) -> None:
        """The proxier runs a third party's protocol service with its own store and config."""
        site = self.installDummy()
        state = os.path.abspath(self.mktemp())
        conf = os.path.abspath(self.mktemp())
        with open(conf, "w") as f:
            f.write(f"[state]\ndirectory = {state}\n[protocols]\nenabled = X_EXAMPLE-Dummy\n"
                    "[dummy]\nanswer = 7\n[demo]\nenable = no\n[connection_request]\nport = 0\n")
        script = textwrap.dedent(
            f"""
            from twisted.internet.testing import MemoryReactorClock
            from proxier import tap
            o = tap.Options(); o.parseOptions(["--config", {conf!r}])
            assert o.config["dummy"]["answer"] == 7
            svc = tap.makeService(o, reactor=MemoryReactorClock())
            svc.startService()
            """
        )
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                env=subprocessEnv(site), cwd=TOP, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"dummy protocol started; store at {state}/protocol-X_EXAMPLE-Dummy", result.stdout)

    def test_select(self) -> None:
        """[protocols] enabled picks plugins by name, case-insensitively; empty picks all."""

        @implementer(IProxyProtocol)
        class P:
            def __init__(self, name: str) -> None:
                self.name = name

        plugins = [P("IPP"), P("UPnP-DM")]
        self.assertEqual(selectProtocols(plugins, []), plugins)
        self.assertEqual(selectProtocols(plugins, ["upnp-dm"]), [plugins[1]])
        self.assertRaises(KeyError, selectProtocols, plugins, ["Z-Wave"])

    def test_installedPluginsProvideInterface(self) -> None:
        """Every plugin shipped with the proxier provides IProxyProtocol."""
        for plugin in protocolPlugins():
            self.assertTrue(IProxyProtocol.providedBy(plugin), plugin)


class RegistryTests(unittest.TestCase):
    def test_independent(self) -> None:
        """Two registries (two service trees) never see each other's adapters."""

        class IThing(Interface):
            pass

        class IOther(Interface):
            pass

        @implementer(IThing)
        class Thing:
            pass

        first, second = makeRegistry(), makeRegistry()
        first.registerAdapter(lambda thing: ("adapted", thing), (IThing,), IOther)
        thing = Thing()
        self.assertEqual(first.queryAdapter(thing, IOther), ("adapted", thing))
        self.assertIsNone(second.queryAdapter(thing, IOther))
