"""
Tests for L{proxier.upnp.dps.cpidentity}: the proxier's DeviceProtection
identity — generated and kept in the state directory, renewed, or
configured (the carrier case) — and the [upnp] keys that describe it.
"""

from __future__ import annotations

import datetime
import os
import stat

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from twisted.internet.task import Clock
from twisted.logger import LogLevel
from twisted.trial import unittest

from proxier.config import ConfigError, load
from proxier.sim.dps import makeCertificate
from proxier.store import Store
from proxier.upnp.dps import codec, cpidentity
from proxier.upnp.settings import Settings
from proxier.upnpdm.settings import SECTION
from tests._helpers import LogCapture

DAY = 86400.0


def _settings(**kw) -> Settings:
    return Settings().replace(**kw)


class GeneratedTests(unittest.SynchronousTestCase):
    def setUp(self):
        self.store = Store.open(self.mktemp())
        self.clock = Clock()
        self.clock.advance(datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc).timestamp())

    def keeper(self, **kw):
        return cpidentity.IdentityKeeper(_settings(**kw), self.store, self.clock, commonName="proxier SN1")

    def test_generatedOnceAndKept(self):
        """The first start makes an identity (file mode 0600); the next start finds the same CPID."""
        first = self.keeper().load()
        path = os.path.join(self.store.path, cpidentity.DOCUMENT + ".json")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        second = self.keeper().load()
        self.assertEqual(first.cpid, second.cpid)
        self.assertTrue(second.generated)
        self.assertEqual(first.cpid, codec.cpid(first.der))
        self.assertEqual(second.commonName, "proxier SN1")

    def test_certificateShape(self):
        """The generated certificate: RSA 2048, self-signed, the configured validity, client authentication."""
        from cryptography.hazmat.primitives.asymmetric import rsa

        credentials = self.keeper(dpsCertificateDays=100).load()
        self.assertIsInstance(credentials.key, rsa.RSAPrivateKey)
        self.assertEqual(credentials.key.key_size, 2048)
        self.assertEqual(credentials.certificate.issuer, credentials.certificate.subject)
        days = (credentials.notAfter - datetime.datetime.fromtimestamp(self.clock.seconds(), datetime.timezone.utc))
        self.assertEqual(round(days.total_seconds() / DAY), 100)

    def test_corruptDocumentReplaced(self):
        """A damaged identity document is moved aside and a new identity made; the daemon carries on."""
        first = self.keeper().load()
        path = os.path.join(self.store.path, cpidentity.DOCUMENT + ".json")
        with open(path, "r+b") as f:
            f.seek(40)
            f.write(b"garbage")
        capture = LogCapture(self)
        second = self.keeper().load()
        self.assertNotEqual(first.cpid, second.cpid)
        self.assertTrue([n for n in os.listdir(self.store.path) if ".corrupt-" in n])
        self.assertTrue(capture.errors())

    def test_renewedBeforeExpiry(self):
        """Within dps_renew_days of expiry the daily check renews it: a new CPID, a warning, listeners told."""
        keeper = self.keeper(dpsCertificateDays=60, dpsRenewDays=10)
        first = keeper.load()
        told = []
        keeper.listeners.append(told.append)
        self.clock.advance(40 * DAY)
        self.assertIsNone(keeper.check())
        capture = LogCapture(self)
        self.clock.advance(11 * DAY)
        renewed = keeper.check()
        self.assertIsNotNone(renewed)
        self.assertNotEqual(renewed.cpid, first.cpid)
        self.assertEqual(told, [renewed])
        self.assertTrue([e for e in capture.atLeast(LogLevel.warn) if "renewed" in e.get("log_format", "")])
        self.assertEqual(self.keeper(dpsCertificateDays=60, dpsRenewDays=10).load().cpid, renewed.cpid)

    def test_renewedAtStart(self):
        """A stored certificate already due for renewal is renewed when loaded."""
        first = self.keeper(dpsCertificateDays=20, dpsRenewDays=10).load()
        self.clock.advance(15 * DAY)
        self.assertNotEqual(self.keeper(dpsCertificateDays=20, dpsRenewDays=10).load().cpid, first.cpid)

    def test_withoutStore(self):
        """Without a state directory the identity lives in memory, with a warning saying so."""
        capture = LogCapture(self)
        credentials = cpidentity.IdentityKeeper(_settings(), None, self.clock).load()
        self.assertTrue(credentials.generated)
        self.assertTrue([e for e in capture.atLeast(LogLevel.warn) if "memory" in e.get("log_format", "")])


class ConfiguredTests(unittest.SynchronousTestCase):
    def setUp(self):
        self.dir = self.mktemp()
        os.makedirs(self.dir)
        self.clock = Clock()
        self.clock.advance(datetime.datetime.now(datetime.timezone.utc).timestamp())
        self.ca = makeCertificate("Operator CA", ca=True)
        self.certificate, self.key = makeCertificate("proxier gateway 42", issuer=self.ca, rsa=True, days=90)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def files(self, certificate=None, key=None):
        certificate = certificate or self.certificate
        key = key or self.key
        return (self.write("cert.pem", certificate.public_bytes(Encoding.PEM)),
                self.write("key.pem", key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())))

    def keeper(self, **kw):
        return cpidentity.IdentityKeeper(_settings(**kw), None, self.clock)

    def test_loaded(self):
        """A configured certificate, key and chain are used as they are; the CPID is the certificate's."""
        cert, key = self.files()
        chain = self.write("chain.pem", self.ca[0].public_bytes(Encoding.PEM) * 2)
        credentials = self.keeper(dpsCertificate=cert, dpsPrivateKey=key, dpsCertificateChain=chain).load()
        self.assertFalse(credentials.generated)
        self.assertEqual(credentials.cpid, codec.cpid(self.certificate.public_bytes(Encoding.DER)))
        self.assertEqual(len(credentials.chain), 2)

    def test_keyMismatch(self):
        """A key that is not the certificate's stops the start with a ConfigError naming dps_private_key."""
        other = makeCertificate("other")[1]
        cert, key = self.files(key=other)
        with self.assertRaises(ConfigError) as caught:
            self.keeper(dpsCertificate=cert, dpsPrivateKey=key).load()
        self.assertEqual((caught.exception.section, caught.exception.key), ("upnp", "dps_private_key"))

    def test_halfConfigured(self):
        """A certificate without its key (or the reverse) names the missing key."""
        cert, key = self.files()
        with self.assertRaises(ConfigError) as caught:
            self.keeper(dpsCertificate=cert).load()
        self.assertEqual(caught.exception.key, "dps_private_key")
        with self.assertRaises(ConfigError) as caught:
            self.keeper(dpsPrivateKey=key).load()
        self.assertEqual(caught.exception.key, "dps_certificate")

    def test_notPEM(self):
        """Files that are not PEM are refused, each naming its key."""
        cert, key = self.files()
        junk = self.write("junk.pem", b"not a pem file")
        for kw, name in (({"dpsCertificate": junk, "dpsPrivateKey": key}, "dps_certificate"),
                         ({"dpsCertificate": cert, "dpsPrivateKey": junk}, "dps_private_key"),
                         ({"dpsCertificate": cert, "dpsPrivateKey": key, "dpsCertificateChain": junk},
                          "dps_certificate_chain")):
            with self.assertRaises(ConfigError) as caught:
                self.keeper(**kw).load()
            self.assertEqual(caught.exception.key, name)

    def test_expiryWarnings(self):
        """A configured certificate near expiry is warned about (at start and daily); expired, an error."""
        cert, key = self.files()
        keeper = self.keeper(dpsCertificate=cert, dpsPrivateKey=key, dpsRenewDays=30)
        capture = LogCapture(self)
        keeper.load()
        self.assertFalse(capture.atLeast(LogLevel.warn))
        self.clock.advance(70 * DAY)
        self.assertIsNone(keeper.check())
        self.assertTrue([e for e in capture.atLeast(LogLevel.warn) if "expires" in e.get("log_format", "")])
        self.clock.advance(30 * DAY)
        keeper.check()
        self.assertTrue([e for e in capture.errors() if "expired" in e.get("log_format", "")])


class ConfigKeyTests(unittest.SynchronousTestCase):
    def test_keysInSection(self):
        """The [upnp] section holds the DeviceProtection keys, with their documented defaults."""
        names = {k.name for k in SECTION.keys}
        for name in ("dps_certificate", "dps_private_key", "dps_certificate_chain", "dps_certificate_days",
                     "dps_renew_days", "dps_device_ca_file", "dps_introduction", "dps_introduction_timeout",
                     "dps_introduction_retry", "dps_proxy_public", "dps_accept_certificates"):
            self.assertIn(name, names)
        settings = Settings.fromConfig(load(None, [SECTION]))
        self.assertEqual((settings.dpsIntroduction, settings.dpsProxyPublic, settings.dpsRenewDays),
                         ("none", False, 30))

    def test_fromFile(self):
        """The keys are read from the file, typed."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[upnp]\ndps_introduction = pbc\ndps_proxy_public = true\n"
                    "dps_accept_certificates = uuid:a=SHA256:00, uuid:b=SHA256:01\n")
        settings = Settings.fromConfig(load(path, [SECTION]))
        self.assertEqual(settings.dpsIntroduction, "pbc")
        self.assertTrue(settings.dpsProxyPublic)
        self.assertEqual(settings.dpsAcceptCertificates, ("uuid:a=SHA256:00", "uuid:b=SHA256:01"))

    def test_badValue(self):
        """A wrong value names the key."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[upnp]\ndps_introduction = pin\n")
        with self.assertRaises(ConfigError) as caught:
            load(path, [SECTION])
        self.assertEqual(caught.exception.key, "dps_introduction")
