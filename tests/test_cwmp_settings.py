"""Tests for L{proxier.cwmp.settings}: seeded by config, changed by the ACS, re-seeded by the operator."""

from __future__ import annotations

import datetime

from twisted.trial import unittest

from proxier.config import load
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel._tr106time import UNKNOWN_TIME
from proxier.store import Store


class SettingsTests(unittest.TestCase):
    def setUp(self) -> None:
        self.store = Store.open(self.mktemp())
        self.acs = dict(load(None)["acs"], url="http://acs.example.net/cwmp", periodic_inform_interval=600)

    def make(self, acs: dict | None = None, **initial) -> EndpointSettings:
        return EndpointSettings(self.store.document("ms"), acs or self.acs, **initial)

    def test_seededFromConfig(self) -> None:
        """A new endpoint takes the [acs] values and the given initial ones."""
        s = self.make(connectionRequestUsername="u1")
        self.assertEqual(s.url, "http://acs.example.net/cwmp")
        self.assertEqual(s.periodicInformInterval, 600)
        self.assertEqual(s.periodicInformTime, UNKNOWN_TIME)
        self.assertEqual(s.connectionRequestUsername, "u1")
        self.assertEqual(s.parameterKey, "")

    def test_acsChangesPersist(self) -> None:
        """What the ACS sets survives a restart with the same config."""
        s = self.make()
        s.set(periodicInformInterval=3600, parameterKey="pk-7",
              periodicInformTime=datetime.datetime(2024, 1, 1, 3, tzinfo=datetime.timezone.utc))
        again = self.make()
        self.assertEqual(again.periodicInformInterval, 3600)
        self.assertEqual(again.parameterKey, "pk-7")
        self.assertEqual(again.periodicInformTime.hour, 3)

    def test_operatorWins(self) -> None:
        """A new value in the config file replaces what the ACS had set; others stay."""
        s = self.make()
        s.set(periodicInformInterval=3600, url="http://other/")
        acs = dict(self.acs, periodic_inform_interval=900)
        again = self.make(acs)
        self.assertEqual(again.periodicInformInterval, 900)
        self.assertEqual(again.url, "http://other/")

    def test_observers(self) -> None:
        """Observers hear each real change, after it is saved."""
        s = self.make()
        seen = []
        s.observe(lambda name, old, new: seen.append((name, old, new, self.make().__getattr__(name))))
        s.set(periodicInformInterval=600, periodicInformEnable=False)
        self.assertEqual(seen, [("periodicInformEnable", True, False, False)])

    def test_unknownSetting(self) -> None:
        """Unknown names are refused, for reading and writing."""
        s = self.make()
        self.assertRaises(AttributeError, s.set, nope=1)
        self.assertRaises(AttributeError, getattr, s, "nope")

    def test_corruptIgnored(self) -> None:
        """A stored document with wrongly typed values is dropped for the config's values."""
        self.make()
        self.store.document("ms").save({"values": {"periodicInformInterval": "soon"}, "configSeen": {}})
        self.assertEqual(self.make().periodicInformInterval, 600)

    def test_configSeenShared(self) -> None:
        """
        Endpoints that saw the same config hold one record of it (issue 19);
        one that adopts a new value has its own, saved as the same document.
        """
        first = self.make()
        other = EndpointSettings(self.store.document("ms2"), self.acs)
        self.assertIs(first._configSeen, other._configSeen)
        first.adopt(connectionRequestUsername="u")
        self.assertIsNot(first._configSeen, other._configSeen)
        self.assertEqual(self.store.document("ms").load()["configSeen"],
                         dict(self.store.document("ms2").load()["configSeen"], connectionRequestUsername="u"))
        self.assertEqual(self.make().connectionRequestUsername, "u")

    def test_configSeenKeepsTypes(self) -> None:
        """A value seen is shared only with one of its type: the document keeps 1 as 1, True as True."""
        self.store.document("a").save({"values": {}, "configSeen": {"x": 1}})
        self.store.document("b").save({"values": {}, "configSeen": {"x": True}})
        self.store.document("c").save({"values": {}, "configSeen": {"x": [1]}})  # unhashable: kept, unshared
        for name in "abc":
            EndpointSettings(self.store.document(name), self.acs).set(parameterKey=name)
        self.assertEqual([self.store.document(n).load()["configSeen"]["x"] for n in "abc"], [1, True, [1]])
        self.assertIs(self.store.document("b").load()["configSeen"]["x"], True)


class SharedCredentialsTests(unittest.TestCase):
    """credentials = shared seeds the Connection Request pair the way [acs] seeds the rest (issue 17 item 7)."""

    def setUp(self) -> None:
        self.store = Store.open(self.mktemp())
        self.config = load(None).replace("connection_request", credentials="shared", username="u", password="p")

    def start(self, config=None) -> EndpointSettings:
        """One start of the endpoint: its settings, then the credentials the config asks for."""
        from proxier.cwmp.connreq import ensureCredentials

        config = config or self.config
        settings = EndpointSettings(self.store.document("ms"), config["acs"])
        ensureCredentials(settings, config["connection_request"])
        return settings

    def test_acsChoiceKept(self) -> None:
        """Credentials the ACS set are still there after a restart with the same config."""
        self.assertEqual((self.start().connectionRequestUsername, self.start().connectionRequestPassword), ("u", "p"))
        self.start().set(connectionRequestUsername="acs-u", connectionRequestPassword="acs-p")
        again = self.start()
        self.assertEqual((again.connectionRequestUsername, again.connectionRequestPassword), ("acs-u", "acs-p"))

    def test_newConfigPairWins(self) -> None:
        """A pair the operator changes in the config replaces what the ACS had set."""
        self.start().set(connectionRequestUsername="acs-u", connectionRequestPassword="acs-p")
        config = self.config.replace("connection_request", username="u2", password="p2")
        again = self.start(config)
        self.assertEqual((again.connectionRequestUsername, again.connectionRequestPassword), ("u2", "p2"))
        self.assertEqual(self.start(config).connectionRequestUsername, "u2")
