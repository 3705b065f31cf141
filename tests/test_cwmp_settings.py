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
