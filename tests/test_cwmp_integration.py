"""
The endpoint with the project's real data models (L{proxier.datamodel}):
the proxier's own Device:2 tree, and a Virtual CWMP Device composed of a
device's model and the proxier-held ManagementServer (TR-330 §4.3.2). The
ACS walks the trees; every message is validated against the CWMP schema.
"""

from __future__ import annotations

from treq.testing import RequestTraversalAgent
from twisted.internet import task
from twisted.trial import unittest

from proxier.config import load
from proxier.cwmp import messages as m
from proxier.cwmp.endpoint import CWMPEndpoint
from proxier.cwmp.fakeacs import FakeACS
from proxier.cwmp.settings import EndpointSettings
from proxier.datamodel.gateway import proxierModel, virtualDeviceLocalModel, virtualDeviceModel
from proxier.datamodel.standard import FORCED_INFORM
from proxier.datamodel.values import AttributeChange, DeviceIdentity, ParameterValue
from proxier.store import Store
from tests.cwmpxsd import assertValidCWMP
from tests.test_cwmp_endpoint import FakeModel

PROXIER = DeviceIdentity("proxier", "00D09E", "Gateway", "GW-1")
DEVICE = DeviceIdentity("ACME", "00D09E", "MediaServer", "MS-1")
CR_URL = "http://127.0.0.1:7547/abcdefghijklmnopqrstuvwx"


class RealModelTests(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.config = load(None)
        self.acsConfig = dict(self.config["acs"], url="http://acs.example.net/acs", periodic_inform_enable=False)
        self.acs = FakeACS(clock=self.clock, validator=lambda body: assertValidCWMP(self, body))
        self.addCleanup(lambda: self.assertEqual(self.acs.validationErrors, []))

    def endpoint(self, identity: DeviceIdentity, makeModel, boot: bool) -> CWMPEndpoint:  # type: ignore[no-untyped-def]
        store = Store.open(self.mktemp()).child("endpoint-x")
        self.settings = EndpointSettings(store.document("management-server"), self.acsConfig,
                                         connectionRequestUsername="cr", connectionRequestPassword="pw")
        model = makeModel(self.settings, store)
        endpoint = CWMPEndpoint(identity, model, self.settings, store, agent=RequestTraversalAgent(self.acs),
                                reactor=self.clock, boot=boot)
        self.addCleanup(endpoint.stop)
        return endpoint

    def test_proxierOwnTree(self) -> None:
        """
        The proxier's own tree: the Inform carries every forced parameter; the
        ACS walks the tree, sets PeriodicInformInterval (and the ParameterKey
        follows), and a forced-active parameter refuses passive notification.
        """
        endpoint = self.endpoint(PROXIER, lambda settings, store: proxierModel(
            PROXIER, self.config["device"], settings, lambda: CR_URL, store, clock=self.clock), boot=True)
        self.acs.script([
            m.GetParameterNames("", True),
            m.GetParameterValues(("Device.",)),
            m.SetParameterValues((ParameterValue("Device.ManagementServer.PeriodicInformInterval", "600",
                                                 "xsd:unsignedInt"),), "key-7"),
            m.SetParameterAttributes((AttributeChange("Device.DeviceInfo.ProvisioningCode", True, 1),)),
        ])
        endpoint.start()
        self.clock.advance(0)
        (session,) = self.acs.sessions
        self.assertEqual([p.name for p in session.inform.parameters], list(FORCED_INFORM))
        gpn, gpv, spv, spa = [answer for _, answer in session.responses]
        self.assertEqual([p.name for p in gpn.parameters], ["Device."])
        values = {p.name: p.value for p in gpv.parameters}
        self.assertEqual(values["Device.ManagementServer.ConnectionRequestURL"], CR_URL)
        self.assertEqual(spv, m.SetParameterValuesResponse(0))
        self.assertEqual((self.settings.parameterKey, self.settings.periodicInformInterval), ("key-7", 600))
        self.assertEqual(spa.fault.code, 9009)

    def test_virtualDevice(self) -> None:
        """
        A Virtual CWMP Device: the device's model at Device. with the
        proxier-held ManagementServer inserted; the Inform's forced
        parameters come from both, and the ACS reads both through one path.
        """
        def makeModel(settings, store):  # type: ignore[no-untyped-def]
            device = FakeModel(forced=FORCED_INFORM[:4])
            for name in list(device.params):
                if name.startswith("Device.ManagementServer."):
                    del device.params[name]
            local = virtualDeviceLocalModel(PROXIER, "UPnP-DM", settings, lambda: CR_URL, store)
            return virtualDeviceModel(device, local)

        endpoint = self.endpoint(DEVICE, makeModel, boot=False)
        self.acs.script([m.GetParameterValues(("Device.ManagementServer.ConnectionRequestURL",
                                               "Device.DeviceInfo.ProxierInfo.ProxyProtocol",
                                               "Device.X_Test.Level"))])
        endpoint.start()
        self.clock.advance(0)
        (session,) = self.acs.sessions
        self.assertEqual(sorted(p.name for p in session.inform.parameters), sorted(FORCED_INFORM))
        ((_, gpv),) = session.responses
        self.assertEqual([p.value for p in gpv.parameters], [CR_URL, "UPnP-DM", "5"])
