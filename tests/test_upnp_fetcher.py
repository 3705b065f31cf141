"""Tests for L{proxier.upnp.fetcher}: descriptions and SCPDs fetched under the URL policy."""

from __future__ import annotations

from dataclasses import replace

from twisted.internet.task import Clock
from twisted.trial import unittest
from treq.testing import StubTreq

from proxier.upnp import description as D
from proxier.upnp.fetcher import DescriptionFetcher, FetchError, isDMService
from proxier.lan.httpclient import Requester
from proxier.lan.urlpolicy import Origin, URLPolicy, URLRefused

from .test_upnp_fakes import ROOT_UDN, FakeDMDevice, dmDescription
from .test_lan_urlpolicy import LAN, resolverOf

ORIGIN = Origin("192.168.1.20", LAN)
LOCATION = "http://192.168.1.20:49152/desc.xml"


class FetcherTests(unittest.TestCase):
    def setUp(self) -> None:
        self.device = FakeDMDevice()
        self.stub = StubTreq(self.device)
        self.policy = URLPolicy(resolverOf({}))
        self.fetcher = DescriptionFetcher(Requester(self.stub, Clock(), self.policy), self.policy, timeout=5)

    def fetch(self, location: str = LOCATION, **kw: object) -> object:
        results: list = []
        self.fetcher.fetch(location, ORIGIN, **kw).addBoth(results.append)
        self.stub.flush()
        return results[0]

    def test_fetch(self) -> None:
        """The description and the SCPDs of the DM services are fetched; other services' are not."""
        info = self.fetch()
        self.assertEqual(info.description.device.udn, ROOT_UDN)
        self.assertEqual(info.udns, [ROOT_UDN])
        cms, bms, cds = info.description.device.services
        self.assertIn("GetValues", info.scpd(info.description.device, cms).actionNames)
        self.assertIn("Reboot", info.scpd(info.description.device, bms).actionNames)
        self.assertIsNone(info.scpd(info.description.device, cds))
        self.assertEqual(len(info.scpds), 2)  # none kept after the last fetched (cds)
        self.assertIs(info.scpd(replace(info.description.device, udn=ROOT_UDN.upper()), cms),
                      info.scpd(info.description.device, cms))  # by the UDN in lower case
        self.assertIsNone(info.scpd(replace(info.description.device, udn="uuid:another"), cms))
        self.assertNotIn((b"GET", b"/cds.xml"), self.device.log)
        self.assertEqual(info.target(cms.controlURL).connectURL, "http://192.168.1.20:49152/control/cms")
        self.assertEqual(info.problems, ())
        self.assertIs(info.origin, ORIGIN)

    def test_targetsKept(self) -> None:
        """The control and event URLs' targets are kept, each found by its URL; the SCPD URLs' are not (issue 19)."""
        info = self.fetch()
        services = info.description.device.services
        kept = {u for s in services for u in (s.controlURL, s.eventSubURL) if u}
        self.assertEqual({t.url for t in info.targets}, kept)
        for url in kept:
            self.assertEqual(info.target(url).url, url)
        for s in services:
            self.assertIsNone(info.target(s.scpdURL))

    def test_isDMService(self) -> None:
        """The DM service names, any version, in the UPnP domain only."""
        self.assertTrue(isDMService(D.Service(D.SOFTWARE_MANAGEMENT_2, "", "", "")))
        self.assertTrue(isDMService(D.Service("urn:schemas-upnp-org:service:BasicManagement:1", "", "", "")))
        self.assertFalse(isDMService(D.Service("urn:example-com:service:BasicManagement:2", "", "", "")))
        self.assertFalse(isDMService(D.Service("urn:schemas-upnp-org:service:ContentDirectory:1", "", "", "")))

    def test_locationRefused(self) -> None:
        """A LOCATION the policy refuses fails with URLRefused and nothing is fetched."""
        for location in ("http://127.0.0.1:80/desc.xml", "http://169.254.169.254/", "http://10.0.0.9/desc.xml"):
            self.assertTrue(self.fetch(location).check(URLRefused), location)
        self.assertEqual(self.device.log, [])

    def test_serviceURLsRefused(self) -> None:
        """Service URLs pointing elsewhere are not used: named in problems, no SCPD fetched from there."""
        desc = dmDescription()
        cms, bms, cds = desc.device.services
        evil = D.Service(cms.serviceType, cms.serviceId, "http://127.0.0.1:8080/cms.xml",
                         "http://169.254.169.254/control", cms.eventSubURL)
        device = replace(desc.device, services=(evil, bms))
        self.device.documents[b"/desc.xml"] = D.DeviceDescription(device=device).toBytes()
        info = self.fetch()
        self.assertIsNone(info.target("http://127.0.0.1:8080/cms.xml"))
        self.assertIsNone(info.target("http://169.254.169.254/control"))
        self.assertIsNone(info.scpd(info.description.device, info.description.device.services[0]))
        self.assertTrue(any("127.0.0.1" in p for p in info.problems))
        self.assertTrue(any("no usable SCPDURL" in p for p in info.problems))

    def test_httpError(self) -> None:
        """A description answered with an error status fails with FetchError naming it."""
        result = self.fetch("http://192.168.1.20:49152/nothing.xml")
        self.assertTrue(result.check(FetchError))
        self.assertIn("HTTP 404", str(result.value))

    def test_requestFailures(self) -> None:
        """A redirect refused and a failed request fail the fetch with a FetchError saying so; anything else passes."""
        from twisted.internet.defer import fail

        from proxier.lan.httpclient import HTTPFailure

        class Failing:
            def __init__(self, error: Exception) -> None:
                self.error = error

            def request(self, *a: object, **kw: object) -> object:
                return fail(self.error)

        for error, wanted in ((URLRefused("to 127.0.0.1"), "description: redirect refused: to 127.0.0.1"),
                              (HTTPFailure("GET x: no answer"), "description: GET x: no answer")):
            self.fetcher.requester = Failing(error)
            result = self.fetch()
            self.assertTrue(result.check(FetchError))
            self.assertEqual(str(result.value), wanted)
        self.fetcher.requester = Failing(KeyError("bug"))
        self.assertTrue(self.fetch().check(KeyError))

    def test_malformedDescription(self) -> None:
        """A hostile or malformed description fails with FetchError."""
        self.device.documents[b"/desc.xml"] = b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><root>&e;</root>'
        self.assertTrue(self.fetch().check(FetchError))

    def test_badSCPD(self) -> None:
        """An SCPD that does not parse leaves the device usable, with a problem named."""
        self.device.documents[b"/bms.xml"] = b"<scpd><actionList>"
        info = self.fetch()
        self.assertEqual(len([s for s in info.scpds if s is not None]), 1)
        self.assertTrue(any("BasicManagement" in p for p in info.problems))

    def test_missingRequiredActions(self) -> None:
        """An SCPD lacking required actions is kept, and the lack is named."""
        self.device.documents[b"/cms.xml"] = self.device.documents[b"/cms.xml"].replace(
            b"<name>GetInstances</name>", b"<name>GetInstancesX</name>")
        info = self.fetch()
        self.assertEqual(len([s for s in info.scpds if s is not None]), 2)
        self.assertTrue(any("lacks required actions: GetInstances" in p for p in info.problems))

    def test_sameSCPDParsedOnce(self) -> None:
        """
        A second device of the same model: its SCPDs are fetched (they may have changed) but the same
        bytes are parsed once — the same SCPD object — while changed bytes are parsed again.
        """
        first = self.fetch()
        again = self.fetch()
        device = first.description.device
        cms, bms, _ = device.services
        self.assertIs(again.scpd(device, cms), first.scpd(device, cms))
        self.assertEqual(sum(1 for _, p in self.device.log if p == b"/cms.xml"), 2)
        self.device.documents[b"/cms.xml"] = self.device.documents[b"/cms.xml"].replace(
            b"<name>GetInstances</name>", b"<name>GetInstancesX</name>")
        changed = self.fetch()
        self.assertIsNot(changed.scpd(device, cms), first.scpd(device, cms))
        self.assertIn("GetInstancesX", changed.scpd(device, cms).actionNames)
        self.assertIs(changed.scpd(device, bms), first.scpd(device, bms))

    def test_scpdCacheBounded(self) -> None:
        """The parsed SCPDs kept are bounded (the least recently used go first)."""
        from proxier.upnp import fetcher

        for index in range(fetcher.SCPD_CACHE_SIZE + 10):
            self.device.documents[b"/cms.xml"] = self.device.documents[b"/cms.xml"].replace(
                b"</scpd>", b"<!-- %d --></scpd>" % index)
            self.fetch()
        self.assertEqual(len(self.fetcher._parsed), fetcher.SCPD_CACHE_SIZE)

    def test_scpdCap(self) -> None:
        """At most maxSCPDs SCPDs are fetched for one description."""
        self.fetcher.maxSCPDs = 1
        info = self.fetch()
        self.assertEqual(len([s for s in info.scpds if s is not None]), 1)
        self.assertEqual(sum(1 for m, p in self.device.log if p.endswith(b".xml")), 2)
        self.assertTrue(any("more than 1 SCPDs" in p for p in info.problems))

    def test_descriptionCap(self) -> None:
        """A description over the size cap fails with FetchError."""
        self.fetcher.maxBytes = 100
        result = self.fetch()
        self.assertTrue(result.check(FetchError))
        self.assertIn("exceeds 100", str(result.value))
