"""
DeviceProtection end to end, as the ACS sees it: the proxier's whole
service tree with the UPnP-DM plugin as shipped, simulated DeviceProtection
devices over TLS on 127.0.0.1 and the fake ACS — every CWMP message
validated against the BBF schema (C{tests.cwmpxsd}).

 - the retail case (TR-330 §4.8.1.2, §2.4): nothing of the device reaches
   the ACS (no Inform, no VirtualDevice row, no value) until the user
   presses the device's button; then "0 BOOTSTRAP" and full management;
 - the carrier case (TR-330 §4.8.1.1): the operator-signed proxier
   certificate gets Admin at once; the ACS's SetParameterValues reaches the
   device over TLS;
 - a changed device certificate: the Virtual CWMP Device goes offline
   (Connection Requests answered 503), nothing more is sent to the device.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from twisted.internet import defer, reactor
from twisted.trial import unittest

from proxier.cwmp import messages as m
from proxier.datamodel.values import ParameterValue
from proxier.sim.dps import makeCertificate, protect
from proxier.upnp.dps import codec, security as S
from tests.test_upnpdm_e2e import Lab, answers, events, sleep, waitFor


class DPSLab(Lab):
    """L{tests.test_upnpdm_e2e.Lab} with DeviceProtection devices and [upnp] dps_* settings."""

    def __init__(self, testCase, count=1, upnp=None, protection=None, **acs):
        super().__init__(testCase, count, **acs)
        self.upnpOptions = upnp or {}
        self.protection = protection or {}
        self.secure = []

    def startTree(self):
        tree = super().startTree()
        self.controlPoint.security.buttonPoll = 0.2
        return tree

    def startFleet(self):
        def prepare(index, device):
            secure = protect(device, reactor, **self.protection)
            self.secure.append(secure)
            self.testCase.addCleanup(secure.stop)

        return super().startFleet(prepare=prepare)

    def virtualDevices(self):
        own = self.tree.ownEndpoint.model
        values = self.testCase.successResultOf(own.getParameterValues(
            ["Device.ManagementServer.VirtualDeviceNumberOfEntries"]))
        return int(values[0].value)


class RetailTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_noDataBeforeTheButton(self):
        """
        TR-330 §2.4 and §4.8.1.2: before the button, the ACS hears nothing of
        the device (no session, no VirtualDevice row) and the device receives
        no DM action; after it, "0 BOOTSTRAP" with its identity, and the ACS
        reads its values.
        """
        lab = DPSLab(self, upnp={"dps_introduction": "pbc", "dps_introduction_timeout": 60})
        lab.startTree()
        lab.startFleet()
        udn = lab.sim().udn.lower()
        security = lab.controlPoint.security
        yield waitFor(lambda: udn in security.introductions, what="the introduction")
        yield sleep(1.0)
        self.assertEqual(lab.acs.sessionsFor(lab.name()), [])
        self.assertEqual(lab.virtualDevices(), 0)
        self.assertEqual(lab.upnpdm.devices, {})
        self.assertEqual(security.status[udn]["state"], "waiting-for-button")
        lab.secure[0].pressButton()
        yield waitFor(lab.ended(0, 1), what="the BOOTSTRAP session")
        [first] = lab.sessions()
        self.assertEqual(events(first), ["0 BOOTSTRAP"])
        self.assertEqual(first.inform.deviceId.serialNumber, "SIM000000")
        self.assertEqual(lab.virtualDevices(), 1)
        session = yield lab.session([m.GetParameterValues(("Device.DeviceInfo.SerialNumber",))])
        self.assertEqual(answers(session)[0].parameters,
                         (ParameterValue("Device.DeviceInfo.SerialNumber", "SIM000000"),))
        upnp = lab.controlPoint.device(udn)
        self.assertEqual(upnp.security.state, S.GRANTED)
        self.assertEqual(security.status[udn]["state"], "introduced")


def _proxierCertificate(testCase):
    ca = makeCertificate("Operator CPE Proxier CA", ca=True)
    certificate, key = makeCertificate("proxier gateway 7", issuer=ca, rsa=True)
    folder = testCase.mktemp()
    os.makedirs(folder)
    cert, keyPath = os.path.join(folder, "proxier.pem"), os.path.join(folder, "proxier.key")
    with open(cert, "wb") as f:
        f.write(certificate.public_bytes(Encoding.PEM))
    with open(keyPath, "wb") as f:
        f.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return ca, cert, keyPath, codec.cpid(certificate.public_bytes(Encoding.DER))


class CarrierTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_managedOverTLS(self):
        """
        TR-330 §4.8.1.1 end to end: Admin at once, "0 BOOTSTRAP", and the
        ACS's SetParameterValues reaches the device's SetValues over TLS from
        the proxier's CPID.
        """
        ca, cert, key, cpid = _proxierCertificate(self)
        lab = DPSLab(self, upnp={"dps_certificate": cert, "dps_private_key": key},
                     protection={"caRoots": [ca[0]]})
        yield lab.start()
        self.assertEqual(lab.secure[0].access.acl[cpid].roles, frozenset({"Admin"}))
        calls = []
        original = lab.sim().cms.invoke

        def recording(name, arguments, context=None):
            calls.append((name, context.secure if context else False,
                          codec.cpid(context.certificate) if context is not None and context.certificate else None))
            return original(name, arguments, context) if context is not None else original(name, arguments)

        lab.sim().cms.invoke = recording
        session = yield lab.session([
            m.GetParameterNames("Device.Time.NTPServer1", False),
            m.SetParameterValues((ParameterValue("Device.Time.NTPServer1", "ntp.operator.example"),), "k1"),
        ])
        names, status = answers(session)
        self.assertEqual([(p.name, p.writable) for p in names.parameters], [("Device.Time.NTPServer1", True)])
        self.assertEqual(status, m.SetParameterValuesResponse(0))
        self.assertEqual(lab.sim().model.value("/BBF/Time/NTPServer1"), "ntp.operator.example")
        self.assertIn(("SetValues", True, cpid), calls)


class QuarantineTests(unittest.TestCase):
    timeout = 120

    @defer.inlineCallbacks
    def test_changedCertificateTakesTheVirtualDeviceOffline(self):
        """
        A device back with another certificate is quarantined: its Virtual
        CWMP Device is offline (Connection Requests answered 503) and the
        device receives nothing more.
        """
        lab = DPSLab(self, upnp={"dps_proxy_public": True})
        yield lab.start()
        secure = lab.secure[0]
        udn = lab.sim().udn
        secure.useCertificate(*makeCertificate(udn, uris=(udn,)))
        calls = []
        for service in lab.sim().services:
            original = service.invoke
            service.invoke = (lambda name, arguments, context=None, original=original:
                              calls.append(name) or original(name, arguments, context))
        lab.sim().reboot()
        yield waitFor(lambda: lab.controlPoint.security.pins.isQuarantined(udn), what="the quarantine")
        yield waitFor(lambda: not lab.endpoint().online, what="the Virtual CWMP Device offline")
        status = yield lab.connectionRequest()
        self.assertEqual(status, 503)
        yield sleep(1.0)
        self.assertEqual(calls, [])


class PublicRoleTests(unittest.TestCase):
    """A device that grants the proxier only Public, proxied because [upnp] dps_proxy_public."""

    timeout = 120

    @defer.inlineCallbacks
    def test_roleLimitsTheACSUpFront(self):
        """
        The Virtual CWMP Device offers only what Public may do, refused up
        front and never sent to the device: GetRPCMethods without Reboot and
        FactoryReset (Reboot answered 9000), GetParameterNames Writable false
        for a parameter the device itself has writable, SetParameterValues
        9003 with 9008 for it, AddObject 9001; reading still works.
        """
        lab = DPSLab(self, upnp={"dps_proxy_public": True})
        yield lab.start()
        calls = []
        for service in lab.sim().services:
            original = service.invoke
            service.invoke = (lambda name, arguments, context=None, original=original:
                              calls.append(name) or original(name, arguments, context))
        self.assertEqual(lab.sim().model.schema.byStructurePath("/BBF/Time/NTPServer1").access, "readWrite")
        session = yield lab.session([
            m.GetRPCMethods(),
            m.GetParameterNames("Device.Time.NTPServer1", False),
            m.SetParameterValues((ParameterValue("Device.Time.NTPServer1", "ntp.example"),), "k"),
            m.AddObject("Device.Hosts.Host.", "k"),
            m.GetParameterValues(("Device.Time.NTPServer1",)),
            m.Reboot("r"),
        ])
        methods, names, spv, added, values, reboot = answers(session)
        self.assertNotIn("Reboot", methods.methods)
        self.assertNotIn("FactoryReset", methods.methods)
        self.assertIn("GetParameterValues", methods.methods)
        self.assertEqual([(p.name, p.writable) for p in names.parameters], [("Device.Time.NTPServer1", False)])
        self.assertEqual(spv.fault.code, 9003)
        self.assertEqual([(f.parameterName, f.faultCode) for f in spv.fault.parameterFaults],
                         [("Device.Time.NTPServer1", 9008)])
        self.assertEqual(added.fault.code, 9001)
        self.assertEqual(values.parameters[0].name, "Device.Time.NTPServer1")
        self.assertEqual(reboot.fault.code, 9000)
        self.assertFalse({"SetValues", "CreateInstance", "Reboot"} & set(calls))
        yield sleep(1.0)
        self.assertEqual(lab.sim().boots, 1)
