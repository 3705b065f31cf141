"""
Tests for L{proxier.upnpdm.cmspaths}: the TR-330 §4.6.1 examples both ways,
instance numbers through a lookup, aliases, the Common Objects fallbacks,
and device paths that are refused.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.datamodel.paths import Alias
from proxier.upnpdm import cmspaths
from proxier.upnpdm.cmspaths import NotInModel, Translator, UnknownInstance

# TR-330 §4.6.1's four paths (the Host instance numbered arbitrarily, as the
# text says: here CWMP 2 is UPnP 1).
SECTION_4_6_1 = [
    ("Device.Hosts.Host.2.IPAddress", "/BBF/Hosts/Host/1/IPAddress"),
    ("Device.Hosts.Host.2.", "/BBF/Hosts/Host/1/"),
    ("Device.Hosts.Host.", "/BBF/Hosts/Host/"),
    ("Device.Hosts.", "/BBF/Hosts/"),
]


class ParseTests(unittest.TestCase):
    def test_valid(self) -> None:
        """Names, instance numbers, a trailing '/', wildcards when allowed."""
        parsed = cmspaths.parse("/BBF/Hosts/Host/0/IPAddress")
        self.assertEqual(parsed.segments, ("BBF", "Hosts", "Host", 0, "IPAddress"))
        self.assertFalse(parsed.partial)
        self.assertEqual(cmspaths.parse("/").segments, ())
        self.assertEqual(cmspaths.parse("/A/#/", wildcard=True).segments, ("A", "#"))

    def test_refused(self) -> None:
        """Device paths the proxier will not take."""
        for bad in ["", "A/B", "/A//B", "/A/B C", "/0/A", "/A/01/", "/A/0", "/A/#/", "/A/" + "x/" * 40,
                    "/" + "a" * 1100, "/A/99999999999/", None]:
            with self.subTest(path=bad):
                self.assertRaises(cmspaths.CMSPathError, cmspaths.parse, bad)

    def test_helpers(self) -> None:
        """StructurePath, table and instance number of a concrete path."""
        self.assertEqual(cmspaths.structureOf("/BBF/A/3/B/10/C"), "/BBF/A/#/B/#/C")
        self.assertEqual(cmspaths.structureOf("/BBF/A/3/"), "/BBF/A/#/")
        self.assertEqual(cmspaths.tableOf("/BBF/A/3/"), "/BBF/A/")
        self.assertEqual(cmspaths.instanceNumberOf("/BBF/A/3/"), 3)
        self.assertTrue(cmspaths.isUnder("/BBF/", "/BBF/A"))
        self.assertTrue(cmspaths.isUnder("/BBF/A", "/BBF/A"))
        self.assertFalse(cmspaths.isUnder("/BBF/A", "/BBF/AB"))
        self.assertFalse(cmspaths.isUnder("/BBF/", "/UPnP/A"))


class CacheTests(unittest.TestCase):
    def test_bounded(self) -> None:
        """At most PARSE_CACHE structures and translations are remembered, each still right."""
        translator = Translator("/BBF/")
        for index in range(cmspaths.cwmppaths.PARSE_CACHE + 500):
            self.assertEqual(cmspaths.structureOf(f"/BBF/X/{index}/Y"), "/BBF/X/#/Y")
            self.assertEqual(translator.toCWMP(f"/BBF/X/{index}/", lambda table, upnp: upnp + 1),
                             f"Device.X.{index + 1}.")
            self.assertEqual(translator.toCMS(f"Device.X.{index + 1}.Y", lambda table, segment: segment - 1),
                             f"/BBF/X/{index}/Y")
        for cache in (cmspaths.structureOf, cmspaths._cmsPattern, cmspaths._cwmpPattern):
            self.assertLessEqual(cache.cache_info().currsize, cmspaths.cwmppaths.PARSE_CACHE)


    def test_translatorShared(self) -> None:
        """
        One translator for every device of a model (issue 19): the same
        object for the same root and mapped paths, whatever their order; a
        new one for another root or mapping, or once the table was emptied at
        its cap.
        """
        self.patch(cmspaths, "_translators", {})
        self.patch(cmspaths, "_MAX_TRANSLATORS", 3)
        mapped = {"Device.DeviceInfo.SerialNumber": "/UPnP/DM/SN", "Device.DeviceInfo.ModelName": "/UPnP/DM/MN"}
        first = cmspaths.translatorFor("/BBF/", mapped)
        self.assertIs(cmspaths.translatorFor("/BBF/", dict(reversed(list(mapped.items())))), first)
        self.assertEqual((first.root, first.mapped), ("/BBF/", mapped))
        others = [cmspaths.translatorFor("/Other/", mapped), cmspaths.translatorFor("/BBF/"),
                  cmspaths.translatorFor(None, mapped)]
        self.assertEqual(len({id(t) for t in [first] + others}), 4)
        self.assertLessEqual(len(cmspaths._translators), 3)
        self.assertIsNot(cmspaths.translatorFor("/BBF/", mapped), first)


class TranslatorTests(unittest.TestCase):
    def setUp(self) -> None:
        self.translator = Translator("/BBF/", {"Device.DeviceInfo.SerialNumber":
                                               "/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber"})
        self.numbers = {("/BBF/Hosts/Host/", 2): 1}
        self.assigned: list = []

    def lookup(self, table: str, segment: object):
        if isinstance(segment, Alias):
            return {"cpe-tv": 7}.get(str(segment)) if table == "/BBF/Hosts/Host/" else None
        return self.numbers.get((table, segment))

    def numberFor(self, table: str, upnp: int) -> int:
        self.assigned.append((table, upnp))
        return upnp + 1

    def test_section461ToCMS(self) -> None:
        """Each §4.6.1 CWMP path becomes its CMS path."""
        for cwmp, cms in SECTION_4_6_1:
            with self.subTest(cwmp=cwmp):
                self.assertEqual(self.translator.toCMS(cwmp, self.lookup), cms)

    def test_section461ToCWMP(self) -> None:
        """Each §4.6.1 CMS path becomes its CWMP path, instance numbers through numberFor."""
        for cwmp, cms in SECTION_4_6_1:
            with self.subTest(cms=cms):
                self.assertEqual(self.translator.toCWMP(cms, self.numberFor), cwmp)
        self.assertIn(("/BBF/Hosts/Host/", 1), self.assigned)

    def test_root(self) -> None:
        """Device. and the empty path are the model's location."""
        self.assertEqual(self.translator.toCMS("Device.", self.lookup), "/BBF/")
        self.assertEqual(self.translator.toCMS("", self.lookup), "/BBF/")
        self.assertEqual(self.translator.toCWMP("/BBF/", self.numberFor), "Device.")

    def test_nestedInstances(self) -> None:
        """Each instance segment is looked up in its own table (parents' UPnP numbers in the table path)."""
        self.numbers[("/BBF/A/", 1)] = 0
        self.numbers[("/BBF/A/0/B/", 3)] = 5
        self.assertEqual(self.translator.toCMS("Device.A.1.B.3.C", self.lookup), "/BBF/A/0/B/5/C")
        self.assertEqual(self.translator.toCWMP("/BBF/A/0/B/5/C", self.numberFor), "Device.A.1.B.6.C")

    def test_numbersNotRemembered(self) -> None:
        """
        What a path translates to apart from its instance numbers is
        remembered, shared by translators of the same root; the numbers are
        asked every time (a table read again renumbers, a number is retired).
        """
        self.numbers[("/BBF/A/", 1)] = 0
        self.numbers[("/BBF/A/0/B/", 3)] = 5
        other = Translator("/BBF/")
        for translator in (self.translator, other, self.translator):
            self.assertEqual(translator.toCMS("Device.A.1.B.3.", self.lookup), "/BBF/A/0/B/5/")
            self.assertEqual(translator.toCWMP("/BBF/A/0/B/5/", self.numberFor), "Device.A.1.B.6.")
        self.numbers[("/BBF/A/", 1)] = 4
        self.numbers[("/BBF/A/4/B/", 3)] = 2
        self.assertEqual(self.translator.toCMS("Device.A.1.B.3.", self.lookup), "/BBF/A/4/B/2/")
        self.assertEqual(self.translator.toCWMP("/BBF/A/0/B/5/", lambda table, upnp: upnp + 10), "Device.A.10.B.15.")
        del self.numbers[("/BBF/A/4/B/", 3)]
        with self.assertRaises(UnknownInstance) as caught:
            self.translator.toCMS("Device.A.1.B.3.", self.lookup)
        self.assertEqual((caught.exception.tablePath, caught.exception.segment), ("/BBF/A/4/B/", 3))
        self.assertEqual(Translator("/Other/").toCMS("Device.A.1.B.3.", lambda table, segment: 0), "/Other/A/0/B/0/")

    def test_parametersRemembered(self) -> None:
        """
        A parameter translated by its pattern is remembered as its pieces
        (its instances left to look up); an object, a mapped name or a name
        outside the model is not; past the bound all are forgotten at once.
        """
        translator = Translator("/BBF/", {"Device.DeviceInfo.SerialNumber": "/UPnP/DM/DeviceInfo/SerialNumber"})
        for name in ("Device.A.1.B.3.C", "Device.Time.Enable", "Device.A.1.", "Device.DeviceInfo.SerialNumber",
                     "Other.X"):
            translator.rememberParameter(name)
        self.assertEqual(translator.parameters, {"Device.A.1.B.3.C": ("/BBF/A/", 1, "/B/", 3, "/C"),
                                                 "Device.Time.Enable": ("/BBF/Time/Enable",)})
        self.patch(cmspaths.cwmppaths, "PARSE_CACHE", 2)
        translator.rememberParameter("Device.Time.Status")
        self.assertEqual(list(translator.parameters), ["Device.Time.Status"])

    def test_tooLong(self) -> None:
        """A path too long once its numbers are in is not in the model (CMS) or dropped (CWMP)."""
        long = "/BBF/" + "Nnnnnnnnnn/" * 20
        self.assertIsNone(self.translator.toCWMP(long + "0/X", lambda table, upnp: 10 ** 60))
        self.assertEqual(self.translator.toCWMP(long + "0/X", self.numberFor), "Device." + "Nnnnnnnnnn." * 20 + "1.X")
        name = "Device.A.1." + "B." * 100 + "C"
        self.assertRaises(NotInModel, self.translator.toCMS, name, lambda table, segment: 10 ** 900)

    def test_alias(self) -> None:
        """An instance alias is resolved by the lookup like a number."""
        self.assertEqual(self.translator.toCMS("Device.Hosts.Host.[cpe-tv].HostName", self.lookup),
                         "/BBF/Hosts/Host/7/HostName")

    def test_unknownInstance(self) -> None:
        """An instance the lookup does not know raises UnknownInstance naming its table."""
        with self.assertRaises(UnknownInstance) as caught:
            self.translator.toCMS("Device.Hosts.Host.9.HostName", self.lookup)
        self.assertEqual((caught.exception.tablePath, caught.exception.segment), ("/BBF/Hosts/Host/", 9))
        with self.assertRaises(UnknownInstance):
            self.translator.toCMS("Device.Hosts.Host.[nope].", self.lookup)

    def test_mapped(self) -> None:
        """A Common Objects fallback maps both ways; other Common Objects paths are not in the model."""
        cms = "/UPnP/DM/DeviceInfo/PhysicalDevice/DeviceID/SerialNumber"
        self.assertEqual(self.translator.toCMS("Device.DeviceInfo.SerialNumber", self.lookup), cms)
        self.assertEqual(self.translator.toCWMP(cms, self.numberFor), "Device.DeviceInfo.SerialNumber")
        self.assertIsNone(self.translator.toCWMP("/UPnP/DM/DeviceInfo/FriendlyName", self.numberFor))

    def test_notInModel(self) -> None:
        """Paths outside Device. are not in the model."""
        for name in ["InternetGatewayDevice.X", "X.Y.", "Devices.A"]:
            with self.subTest(name=name):
                self.assertRaises(NotInModel, self.translator.toCMS, name, self.lookup)

    def test_withoutBBFModel(self) -> None:
        """A device without a Broadband Forum model maps only its fallbacks."""
        translator = Translator(None, {"Device.DeviceInfo.SoftwareVersion": "/UPnP/DM/DeviceInfo/SoftwareVersion"})
        self.assertEqual(translator.toCMS("Device.DeviceInfo.SoftwareVersion", self.lookup),
                         "/UPnP/DM/DeviceInfo/SoftwareVersion")
        self.assertRaises(NotInModel, translator.toCMS, "Device.Time.", self.lookup)
        self.assertIsNone(translator.toCWMP("/BBF/Time/Enable", self.numberFor))

    def test_deviceAnswersRefused(self) -> None:
        """Malformed device paths, or ones too long for CWMP, have no CWMP name."""
        for cms in ["/BBF/A B", "/BBF//A", "/BBF/" + "A" * 300, "/BBF/A/01/"]:
            with self.subTest(cms=cms):
                self.assertIsNone(self.translator.toCWMP(cms, self.numberFor))

    def test_locationMustBeAnObject(self) -> None:
        """A model location that is a parameter or an instance is refused."""
        for location in ["/BBF", "/BBF/0/"]:
            with self.subTest(location=location):
                self.assertRaises(cmspaths.CMSPathError, Translator, location)

    def test_deeperLocation(self) -> None:
        """A model mounted deeper (/Models/BBF/Device/) maps Device. there."""
        translator = Translator("/Models/BBF/Device/")
        self.assertEqual(translator.toCMS("Device.Time.Enable", self.lookup), "/Models/BBF/Device/Time/Enable")
        self.assertEqual(translator.toCWMP("/Models/BBF/Device/Time/Enable", self.numberFor), "Device.Time.Enable")
