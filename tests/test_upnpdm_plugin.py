"""
Tests for the UPnP-DM protocol plugin (L{proxier.plugins.upnpdm}) and its
C{[upnp]} config section (L{proxier.upnpdm.settings}).
"""

from __future__ import annotations

import os

from twisted.internet import task
from twisted.plugin import IPlugin
from twisted.trial import unittest
from zope.interface.registry import Components

from proxier import config as configmod
from proxier.cwmp.endpoint import deviceTimeout
from proxier.interfaces import IProxyProtocol
from proxier.registry import protocolPlugins
from proxier.service import DeviceDirectory, ProtocolContext
from proxier.store import Store
from proxier.upnp import settings as cpsettings
from proxier.upnpdm.settings import KEYS, SECTION, ProxySettings


class PluginTests(unittest.TestCase):
    def test_found(self) -> None:
        """The plugin is found by the plugin system, named as TR-181's ProxyProtocol says."""
        [plugin] = [p for p in protocolPlugins() if p.name == "UPnP-DM"]
        self.assertTrue(IProxyProtocol.providedBy(plugin))
        self.assertTrue(IPlugin.providedBy(plugin))
        self.assertEqual(plugin.discoveryProtocol, "UPnP")
        self.assertIs(plugin.configSection, SECTION)


class SectionTests(unittest.TestCase):
    def test_oneSection(self) -> None:
        """One [upnp] section: every control-point key and the proxy module's, each documented."""
        self.assertEqual(SECTION.name, "upnp")
        names = [k.name for k in SECTION.keys]
        self.assertEqual(names, [k.name for k in cpsettings.KEYS] + [k.name for k in KEYS])
        self.assertEqual(len(names), len(set(names)))
        for key in SECTION.keys:
            with self.subTest(key=key.name):
                self.assertGreater(len(key.doc), 20)
                key.parse(key.default)

    def test_defaults(self) -> None:
        """Without the section the documented defaults apply, the action deadline inside the session's bound."""
        settings = ProxySettings.fromConfig(configmod.load(None), deviceTimeout(30))
        self.assertEqual(settings.actionTimeout, 24)  # 30 s sessions: a device call may take 25 s
        self.assertEqual(settings, ProxySettings(actionTimeout=24))
        self.assertEqual(ProxySettings.fromConfig(configmod.load(None)).actionTimeout, 30, "no bound given")

    def test_actionTimeoutBoundedBySession(self) -> None:
        """
        A short session timeout shortens the action deadline (through the
        plugin context's deviceTimeout); a short action_timeout is kept.
        """
        config = configmod.load(None, [SECTION]).replace("acs", session_timeout=6)
        context = ProtocolContext(task.Clock(), Components(), config, Store.open(self.mktemp()), DeviceDirectory())
        self.assertEqual(context.deviceTimeout, deviceTimeout(6))
        self.assertEqual(ProxySettings.fromConfig(config, context.deviceTimeout).actionTimeout, 3)
        config = configmod.load(None, [SECTION]).replace("upnp", action_timeout=5)
        self.assertEqual(ProxySettings.fromConfig(config, deviceTimeout(30)).actionTimeout, 5)

    def test_fromFile(self) -> None:
        """Values from the file, validated; a bad one is a one-line ConfigError naming the key."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[upnp]\naction_timeout = 12\naction_concurrency = 4\nrequire_reboot = yes\n"
                    "firmware_update_limit = 7200\nlog_max_bytes = 65536\nlog_fetch_timeout = 20\n"
                    "upload_timeout = 900\n")
        settings = ProxySettings.fromConfig(configmod.load(path, [SECTION]))
        self.assertEqual((settings.actionTimeout, settings.actionConcurrency, settings.requireReboot), (12, 4, True))
        self.assertEqual((settings.firmwareUpdateLimit, settings.logMaxBytes, settings.logFetchTimeout,
                          settings.uploadTimeout), (7200, 65536, 20, 900))
        with open(path, "w") as f:
            f.write("[upnp]\naction_concurrency = 0\n")
        with self.assertRaises(configmod.ConfigError) as caught:
            configmod.load(path, [SECTION])
        self.assertEqual(str(caught.exception), f"{path}: [upnp] action_concurrency: 0 is below the minimum 1")

    def test_documentedInEtc(self) -> None:
        """etc/proxier.conf documents the section (kept equal to the schema by tests.test_config)."""
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(here, "etc", "proxier.conf"), encoding="utf-8") as f:
            text = f.read()
        for key in KEYS:
            self.assertIn(f"#{key.name} = {key.default}", text)
