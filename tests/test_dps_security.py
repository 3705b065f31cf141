"""
The control point's DeviceProtection layer (L{proxier.upnp.dps.security})
against simulated DeviceProtection devices (L{proxier.sim.dps}) over TLS on
127.0.0.1: the carrier case, Public-only devices, the retail push-button
introduction, certificate pinning and quarantine, and every bad peer.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from functools import partial
from types import SimpleNamespace

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from OpenSSL import SSL
from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.task import Clock, deferLater
from twisted.logger import LogLevel
from twisted.trial import unittest

from proxier import config as C
from proxier.sim.dps import TLSKnobs, makeCertificate, protect
from proxier.sim.fleet import Fleet, FleetOptions
from proxier.store import Store
from proxier.upnp import description as D
from proxier.upnp.dps import codec, security as S, wps
from proxier.upnp.actions import ActionClient, ActionError
from proxier.upnp.controlpoint import ControlPoint
from proxier.upnp.dps.cpidentity import generateSelfSigned
from proxier.lan.httpclient import Requester, makeHTTPClient
from proxier.upnp.soap import UPnPError
from proxier.upnp.dps.tls import ClientTLS, DeviceTrust
from proxier.lan.urlpolicy import URLPolicy
from proxier.upnpdm.settings import SECTION
from tests import _helpers
from tests._helpers import LogCapture
from tests._waiter import watch

NOW = datetime.datetime.now(datetime.timezone.utc)


waitUntil = partial(_helpers.waitFor, timeout=15.0, step=0.05)


class DPSCase(unittest.TestCase):
    """One control point and a fleet of DeviceProtection devices on loopback."""

    def setUp(self):
        self.addCleanup(deferLater, reactor, 0.2, lambda: None)  # runs last: closing connections finish
        self.stateDir = self.mktemp()
        self.secure = []
        self.capture = LogCapture(self)

    def startControlPoint(self, **upnp):
        config = C.load(None, [SECTION]).replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
        config = config.replace("upnp", **upnp)
        self.store = Store.open(self.stateDir).child("protocol-UPnP-DM")
        cp = ControlPoint(config, reactor=reactor, store=self.store, commonName="proxier test")
        cp.security.buttonPoll = 0.1
        self.cp, self.waiter = cp, watch(self, cp)
        return cp

    def startFleet(self, count=1, **protection):
        options = protection

        def prepare(index, device):
            perDevice = dict(options)
            if callable(perDevice.get("certificate")):
                perDevice["certificate"] = perDevice["certificate"](device)
            secure = protect(device, reactor, **perDevice)
            self.secure.append(secure)
            self.addCleanup(secure.stop)
            calls = secure.calls = []
            for service in device.services:
                original = service.invoke

                def counting(name, arguments, context=None, original=original, service=service):
                    calls.append((service.shortName, name, context.secure if context is not None else None))
                    return original(name, arguments, context) if context is not None else original(name, arguments)

                service.invoke = counting

        fleet = Fleet(FleetOptions(count=count, controlPoint=self.cp.ssdpAddress, downtime=0.5, prepare=prepare),
                      reactor=reactor)
        self.addCleanup(fleet.stopService)
        fleet.startService()
        self.fleet = fleet
        return fleet

    def device(self, index=0):
        return self.cp.device(self.fleet.devices[index].udn)

    @inlineCallbacks
    def decided(self, index=0, states=(S.GRANTED, S.PUBLIC, S.HELD, S.QUARANTINED, S.REFUSED, S.PLAIN)):
        """The index-th device's security state, once the layer decided."""
        yield waitUntil(lambda: self.device(index) is not None and self.device(index).security.state in states
                        and self.device(index).state not in ("securing", "describing"))
        return self.device(index)

    def logged(self, text, level=LogLevel.warn):
        return [e for e in self.capture.atLeast(level) if text in (e.get("log_format", "") % () if False else
                                                                   _formatted(e))]


def _formatted(event):
    from twisted.logger import formatEvent

    return formatEvent(event)


def _writePEM(directory, name, certificate, key):
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, name + ".pem")
    keyPath = os.path.join(directory, name + ".key")
    with open(cert, "wb") as f:
        f.write(certificate.public_bytes(Encoding.PEM))
    with open(keyPath, "wb") as f:
        f.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return cert, keyPath


class StrangerMixin:
    """An unknown control point (its own self-signed certificate) calling a device directly over TLS."""

    @inlineCallbacks
    def strangerCall(self, device, serviceType, action, arguments):
        stranger = generateSelfSigned("stranger", 30, NOW)
        client, endpoints = makeHTTPClient(reactor, connectTimeout=5)
        trust = DeviceTrust(device.udn, device.host, now=time.time)
        endpoints.tls = lambda host, port: ClientTLS(stranger).creator(trust)
        actions = ActionClient(Requester(client, reactor, URLPolicy(reactor=reactor), endpoints=endpoints), timeout=10)
        owner, service = device.services(serviceType)[0]
        result = yield actions.callAction(device.info.target(service.controlURL), device.origin, service.serviceType,
                                          action, arguments, scpd=device.scpd(service))
        return result


class CarrierTests(DPSCase, StrangerMixin):
    """TR-330 §4.8.1.1: a CA-signed proxier certificate, devices holding the CA root."""

    def setUp(self):
        DPSCase.setUp(self)
        self.ca = makeCertificate("Operator CPE Proxier CA", ca=True)
        certificate, key = makeCertificate("proxier gateway 0001", issuer=self.ca, rsa=True)
        self.cert, self.key = _writePEM(self.mktemp(), "proxier", certificate, key)
        self.proxierCPID = codec.cpid(certificate.public_bytes(Encoding.DER))

    @inlineCallbacks
    def test_autoAdmin(self):
        """The device verifies the proxier's certificate, adds its CPID with Admin; the proxier sees Admin over TLS."""
        self.startControlPoint(dps_certificate=self.cert, dps_private_key=self.key)
        self.startFleet(caRoots=[self.ca[0]])
        _, device = yield self.waiter.wait("ready")
        self.assertEqual(device.security.state, S.GRANTED)
        self.assertIn("Admin", device.security.roles)
        self.assertTrue(device.security.secure)
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        self.assertEqual(device.info.target(cms.controlURL).scheme, "https")
        entry = self.secure[0].access.acl[self.proxierCPID]
        self.assertEqual((entry.roles, entry.name), (frozenset({"Admin"}), "proxier gateway 0001"))
        self.assertEqual(device.subscriptionState(cms), "subscribed")

    @inlineCallbacks
    def test_adminOnlyActionAcceptedRefusedForStranger(self):
        """An Admin-only action (BMS SetSequenceMode) works for the proxier; an unknown control point gets 606."""
        self.startControlPoint(dps_certificate=self.cert, dps_private_key=self.key)
        self.startFleet(caRoots=[self.ca[0]])
        _, device = yield self.waiter.wait("ready")
        bms = device.services(D.BASIC_MANAGEMENT_2)[0][1]
        self.assertFalse(codec.Permissions().allows(bms.serviceType, "SetSequenceMode"))
        yield device.callAction(bms, "SetSequenceMode", {"NewSequenceMode": "1"})
        error = yield self.assertFailure(
            self.strangerCall(device, D.BASIC_MANAGEMENT_2, "SetSequenceMode", {"NewSequenceMode": "0"}), UPnPError)
        self.assertEqual(error.code, 606)
        answer = yield self.strangerCall(device, D.BASIC_MANAGEMENT_2, "GetSequenceMode", {})
        self.assertEqual(answer["SequenceMode"], "1")

    @inlineCallbacks
    def test_eventsWhileSubscribedOverTLS(self):
        """The CMS subscription is made over TLS; the device's ConfigurationUpdate events arrive."""
        self.startControlPoint(dps_certificate=self.cert, dps_private_key=self.key)
        fleet = self.startFleet(caRoots=[self.ca[0]])
        _, device = yield self.waiter.wait("ready")
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        self.assertEqual(device.info.target(cms.eventSubURL).scheme, "https")
        self.waiter.calls = [c for c in self.waiter.calls if c[0] != "event"]
        fleet.devices[0].cms.setLocal("/BBF/Time/NTPServer1", "ntp.events.example")
        while True:
            _, _, service, variables = yield self.waiter.wait("event")
            update = dict(variables).get("ConfigurationUpdate", "")
            if service.serviceId == cms.serviceId and update and not update.startswith("0,"):
                break  # the initial event carries version 0; the change raises it
        self.assertTrue(update.startswith("1,"))

    @inlineCallbacks
    def test_rolesForActionRefineDefaults(self):
        """The device's GetRolesForAction answers replace the default rows (here: SetValues opened to Basic only)."""
        self.startControlPoint(dps_certificate=self.cert, dps_private_key=self.key)
        fleet = self.startFleet(caRoots=[self.ca[0]])
        self.secure[0].access.roleOverrides[("ConfigurationManagement", "SetValues")] = frozenset({"Basic"})
        _, device = yield self.waiter.wait("ready")
        self.assertFalse(device.security.allows(D.CONFIGURATION_MANAGEMENT_2, "SetValues"))
        self.assertTrue(device.security.allows(D.BASIC_MANAGEMENT_2, "Reboot"))
        asked = [c for c in self.secure[0].calls if c[1] == "GetRolesForAction"]
        self.assertEqual(len(asked), len(S.ROLE_QUESTIONS))
        self.assertTrue(fleet)


class PublicOnlyTests(DPSCase):
    """A device that knows nothing of the proxier: Public only."""

    @inlineCallbacks
    def test_heldForPrivacy(self):
        """By default (TR-330 §2.4) it is not shown, and no DM action is sent to it; the log says why."""
        self.startControlPoint()
        self.startFleet()
        device = yield self.decided()
        self.assertEqual(device.security.state, S.HELD)
        self.assertEqual(device.state, "held")
        self.assertEqual([c for c in self.waiter.calls if c[0] == "ready"], [])
        dm = [c for c in self.secure[0].calls if c[0] != "dps"]
        self.assertEqual(dm, [])
        self.assertTrue(self.logged("not proxied until the device grants"))
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        yield self.assertFailure(device.callAction(cms, "GetSupportedDataModels"), ActionError)
        self.assertEqual([c for c in self.secure[0].calls if c[0] != "dps"], [])

    @inlineCallbacks
    def test_proxiedWithPublicRights(self):
        """With dps_proxy_public it is shown; its permissions forbid Reboot and SetValues, allow reads."""
        self.startControlPoint(dps_proxy_public=True)
        self.startFleet()
        _, device = yield self.waiter.wait("ready")
        self.assertEqual(device.security.state, S.PUBLIC)
        self.assertEqual(device.security.roles, {"Public"})
        self.assertFalse(device.security.allows(D.BASIC_MANAGEMENT_2, "Reboot"))
        self.assertFalse(device.security.allows(D.CONFIGURATION_MANAGEMENT_2, "SetValues"))
        self.assertTrue(device.security.allows(D.CONFIGURATION_MANAGEMENT_2, "GetValues"))
        self.assertEqual([c for c in self.secure[0].calls if c[1] == "GetRolesForAction"], [])

    @inlineCallbacks
    def test_grantedOnTheDevice(self):
        """A role granted on the device itself (its own UI) counts once the device is asked again."""
        self.startControlPoint()
        self.startFleet()
        device = yield self.decided()
        self.assertEqual(device.security.state, S.HELD)
        self.secure[0].grant(self.cp.security.credentials.der, frozenset({"Basic"}))
        changed = yield self.cp.security.refresh(device)
        self.assertTrue(changed)
        self.cp._securityChanged(device)
        _, shown = yield self.waiter.wait("ready")
        self.assertIs(shown, device)
        self.assertEqual(device.security.state, S.GRANTED)


class RenewalTests(DPSCase):
    @inlineCallbacks
    def test_renewedIdentityMustBeGrantedAgain(self):
        """
        A renewed (self-signed) certificate is a new CPID: every secured
        device is asked again; one that granted the old CPID now grants
        nothing, so it is held (gone for observers) and introduction is offered.
        """
        self.startControlPoint(dps_introduction="pbc", dps_introduction_timeout=30)
        self.startFleet()
        device = yield self.decided()
        self.secure[0].grant(self.cp.security.credentials.der, frozenset({"Admin"}))
        self.cp.security._stopIntroduction(device.udn)
        self.cp._securityChanged(device, readmit=True)
        _, shown = yield self.waiter.wait("ready")
        self.assertEqual(shown.security.state, S.GRANTED)
        renewed = generateSelfSigned("proxier test", 30, NOW)
        for listener in self.cp.security.identity.listeners:
            listener(renewed)
        _, gone, reason = yield self.waiter.wait("gone")
        self.assertIs(gone, device)
        self.assertIn("held", reason)
        yield waitUntil(lambda: device.udn in self.cp.security.introductions)
        self.assertEqual(self.cp.security.credentials.cpid, renewed.cpid)


class IntroductionTests(DPSCase):
    """TR-330 §4.8.1.2: the retail case, the WPS push-button introduction."""

    @inlineCallbacks
    def test_pushButton(self):
        """
        The proxier asks for the button (log line, status file), nothing is
        proxied meanwhile; the button pressed, the introduction completes, the
        device grants Admin and is shown.
        """
        self.startControlPoint(dps_introduction="pbc", dps_introduction_timeout=30)
        self.startFleet()
        device = yield self.decided()
        self.assertEqual(device.security.state, S.HELD)
        yield waitUntil(lambda: self.logged("press the WPS"))
        with open(os.path.join(self.store.path, S.INTRODUCTIONS + ".json")) as f:
            status = json.load(f)["payload"]
        self.assertEqual(status[device.udn]["state"], "waiting-for-button")
        yield deferLater(reactor, 0.5, lambda: None)
        self.assertEqual([c for c in self.waiter.calls if c[0] == "ready"], [])
        self.assertEqual([c for c in self.secure[0].calls if c[0] != "dps"], [])
        self.assertGreater(len([c for c in self.secure[0].calls if c[1] == "SendSetupMessage"]), 2)
        self.secure[0].pressButton()
        _, shown = yield self.waiter.wait("ready")
        self.assertIs(shown, device)
        self.assertEqual(device.security.state, S.GRANTED)
        self.assertIn("Admin", device.security.roles)
        entry = self.secure[0].access.acl[self.cp.security.credentials.cpid]
        self.assertTrue(entry.introduced)
        with open(os.path.join(self.store.path, S.INTRODUCTIONS + ".json")) as f:
            self.assertEqual(json.load(f)["payload"][device.udn]["state"], "introduced")
        self.assertEqual(self.secure[0].introductions.completed, 1)
        self.assertFalse(self.secure[0].button.active)

    @inlineCallbacks
    def test_timeout(self):
        """Nobody presses: the introduction times out (logged, status file), the device stays held."""
        self.startControlPoint(dps_introduction="pbc", dps_introduction_timeout=10)
        self.startFleet()
        device = yield self.decided()
        introduction = self.cp.security.introductions[device.udn]
        introduction._deadline = time.time() + 0.5  # the user had their chance
        yield waitUntil(lambda: self.cp.security.status.get(device.udn, {}).get("state") == "timed-out")
        self.assertEqual(device.security.state, S.HELD)
        self.assertIn(device.udn, self.cp.security.retries)
        self.assertTrue(self.logged("introduction timed-out"))


class PinningTests(DPSCase):
    """Certificates pinned per UDN; a changed one quarantines the device."""

    @inlineCallbacks
    def test_pinnedOnFirstUse(self):
        """The first TLS session pins the device's certificate in the state directory."""
        self.startControlPoint(dps_proxy_public=True)
        self.startFleet()
        _, device = yield self.waiter.wait("ready")
        with open(os.path.join(self.store.path, S.PINS + ".json")) as f:
            pins = json.load(f)["payload"]
        self.assertEqual(pins[device.udn]["sha256"], self.secure[0].fingerprint)
        self.assertEqual(device.security.fingerprint, self.secure[0].fingerprint)

    @inlineCallbacks
    def test_changedCertificateQuarantines(self):
        """
        A device that comes back (new BOOTID) with another certificate is
        quarantined: gone for observers, the error log names it and the way
        out, nothing more is sent to it; a restart keeps it quarantined.
        """
        self.startControlPoint(dps_proxy_public=True)
        fleet = self.startFleet()
        _, device = yield self.waiter.wait("ready")
        old = self.secure[0].fingerprint
        self.secure[0].useCertificate(*makeCertificate(device.udn, uris=(device.udn,)))
        fleet.devices[0].reboot()
        _, gone, reason = yield self.waiter.wait("gone")
        yield waitUntil(lambda: self.cp.security.pins.isQuarantined(device.udn))
        errors = [e for e in self.capture.errors() if "QUARANTINED" in _formatted(e)]
        self.assertTrue(errors)
        self.assertIn(f"{device.udn}={self.secure[0].fingerprint}", _formatted(errors[0]))
        with open(os.path.join(self.store.path, S.QUARANTINE + ".json")) as f:
            entry = json.load(f)["payload"][device.udn]
        self.assertEqual((entry["pinned"], entry["presented"]), (old, self.secure[0].fingerprint))
        yield deferLater(reactor, 1.0, lambda: None)
        held = self.cp.device(device.udn)
        if held is not None:
            self.assertEqual(held.security.state, S.QUARANTINED)
        before = len(self.secure[0].calls)
        yield deferLater(reactor, 0.5, lambda: None)
        self.assertEqual(len(self.secure[0].calls), before)
        self.assertEqual([c for c in self.waiter.calls if c[0] == "ready"], [])

    @inlineCallbacks
    def test_releasedByOperatorAfterRestart(self):
        """
        The operator adds the UDN=fingerprint the quarantine log line printed
        to [upnp] dps_accept_certificates and restarts: the device is proxied
        again, its new certificate pinned.
        """
        self.startControlPoint(dps_proxy_public=True)
        fleet = self.startFleet()
        _, device = yield self.waiter.wait("ready")
        self.secure[0].useCertificate(*makeCertificate(device.udn, uris=(device.udn,)))
        fleet.devices[0].reboot()
        yield waitUntil(lambda: self.cp.security.pins.isQuarantined(device.udn))
        yield self.cp.stopService()
        accepted = f"{device.udn}={self.secure[0].fingerprint}"
        self.startControlPoint(dps_proxy_public=True, dps_accept_certificates=(accepted,))
        fleet.setControlPoint(self.cp.ssdpAddress)
        _, back = yield self.waiter.wait("ready")
        self.assertEqual(back.udn, device.udn)
        self.assertEqual(back.security.fingerprint, self.secure[0].fingerprint)
        self.assertEqual(self.cp.security.pins.pinned(device.udn), self.secure[0].fingerprint)
        self.assertFalse(self.cp.security.pins.isQuarantined(device.udn))

    def test_operatorAcceptsNewCertificate(self):
        """A restart with UDN=fingerprint in dps_accept_certificates lifts the quarantine and pins the new one."""
        store = Store.open(self.stateDir).child("protocol-UPnP-DM")
        udn = "uuid:12345678-1234-5123-8123-123456789abc"
        pins = S.PinStore(store, reactor)
        pins.pin(udn, "SHA256:AA", "127.0.0.1")
        self.assertTrue(pins.quarantine(udn, "SHA256:AA", "SHA256:BB", "127.0.0.1", "the device"))
        again = S.PinStore(store, reactor, (f"{udn}=sha256:bb",))
        self.assertFalse(again.isQuarantined(udn))
        self.assertEqual(again.pinned(udn), "SHA256:BB")
        self.assertFalse(S.PinStore(store, reactor).isQuarantined(udn))

    def test_preAcceptedCertificateNotQuarantined(self):
        """A change to a certificate the operator listed in advance is pinned at once, not quarantined."""
        udn = "uuid:12345678-1234-5123-8123-123456789abc"
        pins = S.PinStore(None, reactor, (f"{udn}=SHA256:CC",))
        pins.pin(udn, "SHA256:AA", "127.0.0.1")
        self.assertFalse(pins.quarantine(udn, "SHA256:AA", "SHA256:CC", "127.0.0.1", "the device"))
        self.assertEqual(pins.pinned(udn), "SHA256:CC")

    def test_badAcceptEntriesIgnored(self):
        """Entries that are not UDN=SHA256:... are logged and ignored."""
        capture = LogCapture(self)
        pins = S.PinStore(None, reactor, ("nonsense", "uuid:x=MD5:00"))
        self.assertEqual(pins.accepted, {})
        self.assertEqual(len(capture.errors()), 2)


class ChangeTests(DPSCase):
    """A secured device that changes after it was admitted."""

    @inlineCallbacks
    def test_droppingSecureLocationIsRefused(self):
        """A pinned device that reboots announcing no SECURELOCATION (a downgrade to plain HTTP) is refused."""
        self.startControlPoint(dps_proxy_public=True)
        fleet = self.startFleet()
        _, device = yield self.waiter.wait("ready")
        fleet.devices[0].secureLocation = ""
        fleet.devices[0].reboot()
        _, gone, reason = yield self.waiter.wait("gone")
        yield waitUntil(lambda: self.device() is not None and self.device().security.state == S.REFUSED)
        self.assertIn("downgrade", self.device().security.reason)
        self.assertEqual([c for c in self.waiter.calls if c[0] in ("ready", "changed")], [])

    @inlineCallbacks
    def test_movedTLSPort(self):
        """A device back from a reboot on another TLS port is followed there (same certificate): still granted."""
        self.startControlPoint(dps_proxy_public=True)
        fleet = self.startFleet()
        _, device = yield self.waiter.wait("ready")
        secure = self.secure[0]
        oldPort = secure.port.getHost().port
        yield secure.stop()
        secure.listen()
        self.assertNotEqual(secure.port.getHost().port, oldPort)
        fleet.devices[0].reboot()
        call = yield self.waiter.wait("changed")  # downtime 0.5 s: within the byebye grace, a change
        back = call[1]
        self.assertIs(back, device)
        self.assertTrue(call[2].bootId)
        self.assertEqual(back.security.state, S.PUBLIC)
        self.assertIn(str(secure.port.getHost().port), back.secureLocation)


class BadPeerTests(DPSCase):
    """Each bad peer: refused, logged with the device's identity, nothing sent, never shown."""

    @inlineCallbacks
    def refused(self, reasonText, **protection):
        self.startControlPoint(dps_proxy_public=True, description_timeout=2)
        self.startFleet(**protection)
        device = yield self.decided()
        self.assertEqual(device.security.state, S.REFUSED, device.security.reason)
        self.assertIn(reasonText, device.security.reason)
        self.assertEqual(self.secure[0].calls, [])
        self.assertEqual([c for c in self.waiter.calls if c[0] == "ready"], [])
        lines = [_formatted(e) for e in self.capture.errors() if "refused" in _formatted(e)]
        self.assertTrue([line for line in lines if device.udn in line])
        return device

    def test_expiredCertificate(self):
        """A device presenting an expired certificate."""
        return self.refused("expired", certificate=lambda device: makeCertificate(
            device.udn, start=NOW - datetime.timedelta(days=400), days=365))

    def test_certificateNamingAnotherDevice(self):
        """A device whose certificate names another UDN (it lies about who it is)."""
        return self.refused("names uuid:", certificate=lambda device: makeCertificate(
            "uuid:00000000-0000-5000-8000-000000000000"))

    def test_oldTLSOnly(self):
        """A device offering only TLS 1.0/1.1 (a downgrade attempt)."""
        return self.refused("TLS 1.2", knobs=TLSKnobs(maxVersion=SSL.TLS1_1_VERSION))

    def test_nullCiphersOnly(self):
        """A device offering only NULL cipher suites."""
        return self.refused("cipher", certificate=lambda device: makeCertificate(device.udn, rsa=True),
                            knobs=TLSKnobs(ciphers="NULL-SHA256:@SECLEVEL=0"))

    def test_plainHTTPWhereTLSWasAnnounced(self):
        """A device answering plain HTTP on the port it announced as TLS."""
        return self.refused("no TLS answer", knobs=TLSKnobs(plainOnTLSPort=True))

    def test_secureLocationOnAnotherHost(self):
        """A device whose SECURELOCATION points to another host than its LOCATION."""
        return self.refused("another host", knobs=TLSKnobs(secureHost="127.0.0.2"))


class UnprotectedTests(DPSCase):
    """DeviceProtection without SECURELOCATION (miniupnpd's plain stub): not secure."""

    @inlineCallbacks
    def test_plainStub(self):
        """The device is an unprotected device: shown, no TLS, its DeviceProtection not trusted, a warning."""
        self.startControlPoint()
        self.startFleet(listen=False)
        _, device = yield self.waiter.wait("ready")
        self.assertEqual(device.security.state, S.PLAIN)
        self.assertFalse(device.security.secure)
        cms = device.services(D.CONFIGURATION_MANAGEMENT_2)[0][1]
        self.assertEqual(device.info.target(cms.controlURL).scheme, "http")
        self.assertTrue(self.logged("announces no SECURELOCATION"))
        self.assertEqual([c for c in self.secure[0].calls if c[0] == "dps"], [])

    @inlineCallbacks
    def test_noDeviceProtection(self):
        """A device without DeviceProtection is proxied as before, without a warning."""
        self.startControlPoint()
        fleet = Fleet(FleetOptions(count=1, controlPoint=self.cp.ssdpAddress), reactor=reactor)
        self.addCleanup(fleet.stopService)
        fleet.startService()
        _, device = yield self.waiter.wait("ready")
        self.assertEqual(device.security.state, S.PLAIN)
        self.assertFalse(self.logged("SECURELOCATION"))


class PlainPermissionsTests(unittest.SynchronousTestCase):
    def test_shared(self):
        """Every plain device reads one shared, immutable permissions value, which allows everything (issue 19)."""
        first, second = S.DeviceSecurity(), S.DeviceSecurity()
        self.assertIs(first.permissions, second.permissions)
        self.assertEqual(first.permissions, codec.Permissions(codec.EVERYONE, table={}))
        self.assertTrue(first.permissions.allows(D.BASIC_MANAGEMENT_2, "Reboot"))


class NoticeTests(unittest.TestCase):
    """What the layer says a person must know or do about a device (the console's notices), state by state."""

    UDN = "uuid:12345678-1234-5123-8123-123456789abc"

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1796562000)  # 2026-12-06 13:00 UTC
        controlPoint = SimpleNamespace(clock=self.clock)
        settings = SimpleNamespace(dpsAcceptCertificates=())
        self.layer = S.SecurityManager(controlPoint, settings, None, None)
        self.device = SimpleNamespace(udn=self.UDN, security=S.DeviceSecurity())

    def test_plainSaysNothing(self):
        """An unprotected device asks nothing of anyone."""
        self.assertEqual(self.layer.notices(self.device), [])

    def test_quarantined(self):
        """Quarantined: accept the new certificate on the gateway, as UDN=fingerprint, since the quarantine."""
        self.layer.pins.quarantine(self.UDN, "SHA256:AA", "SHA256:BB", "127.0.0.1", "the device")
        self.device.security.state = S.QUARANTINED
        [(kind, text, since)] = self.layer.notices(self.device)
        self.assertEqual((kind, since), ("action", "2026-12-06T13:00:00+00:00"))
        self.assertIn(f"accept {self.UDN}=SHA256:BB in [upnp] dps_accept_certificates", text)

    def test_pressTheButton(self):
        """Held while the push-button introduction waits: press the device's button, before its deadline."""
        self.device.security.state = S.HELD
        self.assertEqual([k for k, _, _ in self.layer.notices(self.device)], ["action"], "grant a role on it")
        introduction = S.Introduction(lambda action, arguments: Deferred(), wps.DeviceAttributes(bytes(16)),
                                      bytes(16), self.clock, 120.0, lambda state, reason: None)
        self.layer.introductions[self.UDN] = introduction
        introduction.start()
        self.assertEqual(self.layer.notices(self.device), [
            ("action", "DeviceProtection: press the device's WPS/introduction button (before 13:02 UTC) to let the "
                       "proxier manage it", "2026-12-06T13:00:00+00:00")])
        introduction.cancel()

    def test_roles(self):
        """Granted: the roles held (Public left out); Public only and proxied: a warning; refused: why."""
        self.device.security.state = S.GRANTED
        self.device.security.permissions = codec.Permissions(frozenset({"Admin"}))
        self.assertEqual(self.layer.notices(self.device), [("info", "DeviceProtection: role granted: Admin", "")])
        self.device.security.state = S.PUBLIC
        self.assertEqual([k for k, _, _ in self.layer.notices(self.device)], ["warning"])
        self.device.security.state, self.device.security.reason = S.REFUSED, "an expired certificate"
        self.assertEqual(self.layer.notices(self.device),
                         [("warning", "DeviceProtection refused it: an expired certificate", "")])
