"""
Tests for L{proxier.upnp.dps.wps}: the WPS registration protocol codec, its
cryptography against known-answer vectors from real devices, and the
registrar and enrollee state machines run against each other.
"""

from __future__ import annotations

import itertools
import struct

from twisted.trial import unittest

from proxier.upnp.dps import wps
from proxier.upnp.dps.wps import ATTR

# ---- known-answer vectors -------------------------------------------------------------------

# pixiewps (src/pixiewps.h): Realtek RTL819x access points use the private
# key 0x55 * 192; their public key is wps_rtl_pke.
RTL_PRIVATE = int("55" * 192, 16)
RTL_PUBLIC = bytes.fromhex(
    "D0141B15656E96B85FCEAD2E8E76330D2B1AC1576BB026E7A328C0E1BAF8CF91664371174C08EE12EC92B0519C54879F"
    "21255BE5A8770E1FA1880470EF423C90E34D7847A6FCB4924563D1AF1DB0C481EAD9852C519BF1DD429C163951CF6918"
    "1B132AEA2A3684CAF35BC54ACA1B20C88BB3B7339FF7D56E09139D77F0AC58079097938251DBBE75E86715CC6B7C0CA9"
    "45FA8DD8D661BEB73B414032798DADEE32B5DD61BF105F18D89217760B75C5D966A5A490472CEBA9E3B4224F3D89FB2B"
)

# pixiewps issue #65 (a Realtek AP, empty PIN): its AuthKey, the
# registrar's public key, the enrollee nonce (which that AP also uses as
# E-S1), and the E-Hash1 it sent; pixiewps printed PSK1 = PSK2.
PIXIE_AUTHKEY = bytes.fromhex("77003089267bbe5ebdc6e651c1f99b8573bda2fb848642c4bc97845703d6d71c")
PIXIE_PKR = bytes.fromhex(
    "064f206f2888b56d8f07e7efdf45610a022e9e3c4a1b35b82688b8dcb6d3e521045c7a85db6290d6c0570f09b45be1ec"
    "096324d1038dcf62e388f718c58967f6c716b21276119b43bb18823e34c4ca4e1ace94aa08b6f51c32d8fa594afe4993"
    "57067a3658c61404a5adee9fa5afffaa1a45ba8dd2185a02987a11749c3b1f14edbf55b964aa7a8f42c982595e3bb6ca"
    "b40f47579f238c2e94a3c0558c6cef7e2bfe87ee685c57119ae75a9cc8efd78bf09c39da97228b584291983d1610f6d9"
)
PIXIE_ENONCE = bytes.fromhex("081d245110d872c42c8688843fe5e530")
PIXIE_EHASH1 = bytes.fromhex("1f0240204aac5ac9964045609f5befb76c626fb3723f3da411249354f15dd0ef")
PIXIE_PSK = bytes.fromhex("8edb9363f767a38732007258d8e358aa")

# iwd (unit/test-wsc.c): a capture of iwd as enrollee (its DH private key
# known) and an ASUS RT-AC68U as registrar — M1 and M2 without their EAP
# headers. M2's Authenticator covers M1 || M2 with the AuthKey derived from
# the shared secret and the nonces: the whole key derivation in one check.
IWD_PRIVATE = bytes.fromhex(
    "4b5e01fa2bd491ac340428fbe25d062d1ae76cd0a39d4a27245179dca747241d19269eb8a06ed97e074e02e1b24e3112"
    "a2c141736a43e20ec8ecb741dc254c30d03fa7979f2edc590d7a24cb1bc28d30c504c35061a7d2bd79b3ecd2f5102032"
    "0c7afd0cde0722942d4216c8a71770164672aab5a7dcc0ee7de8360bba04d55c5d406558d8e89a27d2b3392ae7fc1659"
    "c66c2fad6fd20df4b08bdf9a8884f92ac464b7b5e0f73a8aebd0dead1b0a44f26ff5ce8c70d6671bb2a59feb637f21dc"
)
IWD_PUBLIC = bytes.fromhex(
    "b2fcd64ff6715a3384604ae82c1e554adbd5181791a6f570cd23d7126e4caf279a4ef537ea8f03c90e79c58d37f8fb11"
    "a139199b5a3a66366dfbaeedfca590cbb3e1d5922ee999bd0b938257e1bd7017a7787a0aff4206952c0b6c1a6b2f6bed"
    "42a5608ab0b5791ba9e61517a36ce984b377489b7a4d04f6b827e50ccb76fc3c6549d728068d99180fa735b29d153551"
    "ea83b64d14b021a4821fb8732b151d48999f322ce1e1ab663fb44079e896e19d548bb67f1a5b5f099f40a78bc8f62780"
)
IWD_M1 = bytes.fromhex(
    "104a000110102200010410470010790c1f804f2b52b7be30c0e97292088d10200006a0a8cd1c7ec9101a0010ab84412f"
    "e7c3c9c9d7f4e8c14f492b79103200c0b2fcd64ff6715a3384604ae82c1e554adbd5181791a6f570cd23d7126e4caf27"
    "9a4ef537ea8f03c90e79c58d37f8fb11a139199b5a3a66366dfbaeedfca590cbb3e1d5922ee999bd0b938257e1bd7017"
    "a7787a0aff4206952c0b6c1a6b2f6bed42a5608ab0b5791ba9e61517a36ce984b377489b7a4d04f6b827e50ccb76fc3c"
    "6549d728068d99180fa735b29d153551ea83b64d14b021a4821fb8732b151d48999f322ce1e1ab663fb44079e896e19d"
    "548bb67f1a5b5f099f40a78bc8f6278010040002002310100002000d100d000101100800022148104400010110210001"
    "201023000120102400012010420001201054000800000000000000001011000120103c00010210020002000010120002"
    "0004100900020000102d0004800000001049000600372a000120"
)
ASUS_M2 = bytes.fromhex(
    "104a0001101022000105101a0010ab84412fe7c3c9c9d7f4e8c14f492b79103900101ae1a2c15affa8b43a4ae1ea713f"
    "fb4910480010c44aad8d252f52c6f96b385dcb2331ae103200c0e8235b62654183fac3236f30c94e32348cfaf0fbff09"
    "c193137a80e2ce5a5eed55cddb8705bf0647f996dd9641df566eb120eef797f7599f9478e5ffd7a099cf3400b4bdafaf"
    "8fd97d102e4d8cac0e8f19cf07c7246ca8f4185604bf8034721865097a857be2e0eb1915697fef60780173b8d0337618"
    "f2f82939111acd6c5c10f5bf4ef3da9a48465c938e1803d0428fef5ac79c1a103ad3746a3b23377bcd4a52fd114d62f8"
    "2eacae2ecf255cced4d98b30067487d1b8641af5c628891f68d710040002002310100002000d100d0001011008000226"
    "88102100154153555354654b20436f6d707574657220496e632e1023001c57692d46692050726f746563746564205365"
    "74757020526f757465721024000852542d41433638551042001131303a63333a37623a35343a37343a64301054000800"
    "060050f20400011011000852542d4143363855103c000102100200020000100900020000101200020004102d00048000"
    "00001049000600372a00012010050008ecb117acd933845f"
)


def _device(name: str, uuid: int, mac: int) -> wps.DeviceAttributes:
    return wps.DeviceAttributes(uuid=bytes([uuid]) * 16, macAddress=bytes([mac]) * 6, manufacturer="proxier",
                                modelName=name, modelNumber="1", serialNumber="SN-" + name, deviceName=name)


def _counter(start: int = 1):
    """A deterministic source of 'random' bytes (each call a different value)."""
    values = itertools.count(start)

    def random(n: int) -> bytes:
        return next(values).to_bytes(n, "big")

    return random


def _run(registrar: wps.Registrar, enrollee: wps.Enrollee, tamper=None) -> list[bytes]:
    """Carry messages between the two sides as SendSetupMessage would; return every message sent."""
    sent = [enrollee.start()]
    message = sent[0]
    for _ in range(12):
        if tamper is not None:
            message = tamper(len(sent) - 1, message)
        answer = registrar.receive(message)
        if answer is None:
            return sent
        sent.append(answer)
        if tamper is not None:
            answer = tamper(len(sent) - 1, answer)
        message = enrollee.receive(answer)
        sent.append(message)
        if enrollee.state in ("declined", "failed"):
            registrar.receive(message)
            return sent
    raise AssertionError("the run did not end")


class KnownAnswerTests(unittest.SynchronousTestCase):
    """The cryptography against values captured from real devices."""

    def test_rtlPublicKey(self):
        """Group 5 and the public key encoding: pixiewps' RTL819x key pair (0x55 * 192 → wps_rtl_pke)."""
        self.assertEqual(wps.KeyPair(RTL_PRIVATE).public, RTL_PUBLIC)

    def test_iwdPublicKey(self):
        """iwd's test private key gives the public key its captured M1 carries."""
        pair = wps.KeyPair(int.from_bytes(IWD_PRIVATE, "big"))
        self.assertEqual(pair.public, IWD_PUBLIC)
        self.assertEqual(wps.Message.parse(IWD_M1).require(ATTR.PUBLIC_KEY), IWD_PUBLIC)

    def test_keyDerivationAgainstAsusRegistrar(self):
        """DHKey, KDK, the KDF and the Authenticator reproduce the Authenticator a real AP put in M2."""
        m1, m2 = wps.Message.parse(IWD_M1), wps.Message.parse(ASUS_M2)
        pair = wps.KeyPair(int.from_bytes(IWD_PRIVATE, "big"))
        keys = wps.deriveKeys(pair.shared(m2.require(ATTR.PUBLIC_KEY)), m1.require(ATTR.ENROLLEE_NONCE),
                              m1.require(ATTR.MAC_ADDRESS), m2.require(ATTR.REGISTRAR_NONCE))
        self.assertEqual(wps.authenticator(keys.authKey, m1.raw, m2.withoutAuthenticator),
                         m2.require(ATTR.AUTHENTICATOR))
        self.assertEqual((len(keys.authKey), len(keys.keyWrapKey), len(keys.emsk)), (32, 16, 32))

    def test_wrongKeyDoesNotReproduceAuthenticator(self):
        """The same check with another private key fails: the vector really tests the derivation."""
        m1, m2 = wps.Message.parse(IWD_M1), wps.Message.parse(ASUS_M2)
        keys = wps.deriveKeys(wps.KeyPair(RTL_PRIVATE).shared(m2.require(ATTR.PUBLIC_KEY)),
                              m1.require(ATTR.ENROLLEE_NONCE), m1.require(ATTR.MAC_ADDRESS),
                              m2.require(ATTR.REGISTRAR_NONCE))
        self.assertNotEqual(wps.authenticator(keys.authKey, m1.raw, m2.withoutAuthenticator),
                            m2.require(ATTR.AUTHENTICATOR))

    def test_emptyPasswordPSKs(self):
        """PSK1 and PSK2 of the empty PIN under a real AuthKey are what pixiewps printed."""
        self.assertEqual(wps.devicePasswordPSKs(PIXIE_AUTHKEY, b""), (PIXIE_PSK, PIXIE_PSK))

    def test_enrolleeHash(self):
        """E-Hash1 = HMAC_AuthKey(E-S1 || PSK1 || PK_E || PK_R) reproduces a real AP's E-Hash1."""
        self.assertEqual(wps.secretHash(PIXIE_AUTHKEY, PIXIE_ENONCE, PIXIE_PSK, RTL_PUBLIC, PIXIE_PKR), PIXIE_EHASH1)

    def test_capturedMessagesParse(self):
        """The captured M1 and M2 parse with every attribute the registration protocol requires."""
        m1, m2 = wps.Message.parse(IWD_M1), wps.Message.parse(ASUS_M2)
        self.assertEqual((m1.name, m2.name), ("M1", "M2"))
        self.assertEqual(m2.get(ATTR.MANUFACTURER), b"ASUSTeK Computer Inc.")
        self.assertEqual(m1.integer(ATTR.DEVICE_PASSWORD_ID), wps.PASSWORD_ID_PUSH_BUTTON)
        self.assertEqual(wps.encodeAttributes(m2.attributes), ASUS_M2)


class AttributeCodecTests(unittest.SynchronousTestCase):
    """Type-length-value attributes."""

    def test_attributeTableRowByRow(self):
        """Every row of the attribute table: its shortest and longest lengths pass, one beyond each fails."""
        for kind, (name, shortest, longest) in wps.ATTRIBUTES.items():
            for length in (shortest, longest):
                self.assertEqual(wps.decodeAttributes(struct.pack(">HH", kind, length) + bytes(length)),
                                 [(kind, bytes(length))], name)
            bad = [longest + 1] + ([shortest - 1] if shortest > 0 else [])
            for length in bad:
                with self.assertRaises(wps.WPSDecodeError, msg=name):
                    wps.decodeAttributes(struct.pack(">HH", kind, length) + bytes(length))

    def test_namesFromTable(self):
        """ATTR names each table row by its name."""
        self.assertEqual(ATTR.PUBLIC_KEY, 0x1032)
        self.assertEqual(ATTR.E_HASH1, 0x1014)
        self.assertEqual(ATTR.WI_FI_SIMPLE_CONFIGURATION_STATE, 0x1044)

    def test_unknownAttributeKept(self):
        """An attribute of a type not in the table is kept as it came."""
        data = struct.pack(">HH", 0x10FF, 3) + b"abc"
        self.assertEqual(wps.decodeAttributes(data), [(0x10FF, b"abc")])

    def test_roundTrip(self):
        """Encoding then decoding gives the attributes back, in order."""
        attributes = [(ATTR.VERSION, b"\x10"), (ATTR.SSID, b"x" * 32), (ATTR.MAC_ADDRESS, bytes(6))]
        self.assertEqual(wps.decodeAttributes(wps.encodeAttributes(attributes)), attributes)

    def test_truncated(self):
        """A header cut short, or a value running past the end, is refused."""
        for data in (b"\x10", b"\x10\x4a\x00", struct.pack(">HH", 0x104A, 5) + b"\x10"):
            with self.assertRaises(wps.WPSDecodeError):
                wps.decodeAttributes(data)

    def test_cap(self):
        """A message longer than the cap is refused before it is read."""
        with self.assertRaises(wps.WPSDecodeError):
            wps.decodeAttributes(bytes(wps.MAX_MESSAGE_BYTES + 1))

    def test_encodeRefusesOversizedValue(self):
        """A value longer than a 16-bit length cannot be encoded."""
        with self.assertRaises(ValueError):
            wps.encodeAttributes([(ATTR.SSID, bytes(0x10000))])


class MessageTests(unittest.SynchronousTestCase):
    """Whole messages."""

    def _complete(self, kind: int) -> list[tuple[int, bytes]]:
        out = []
        for attribute in wps.MESSAGE_ATTRIBUTES[kind]:
            name, shortest, longest = wps.ATTRIBUTES[attribute]
            value = bytes([kind]) if attribute == ATTR.MESSAGE_TYPE else bytes(max(shortest, min(longest, 4)))
            out.append((attribute, value))
        return out

    def test_requiredAttributesRowByRow(self):
        """Every row of the message table: the complete message parses; without any one attribute it does not."""
        for kind, required in wps.MESSAGE_ATTRIBUTES.items():
            complete = self._complete(kind)
            self.assertEqual(wps.Message.parse(wps.encodeAttributes(complete)).type, kind)
            for attribute in required:
                if attribute == ATTR.MESSAGE_TYPE:
                    continue
                partial = [a for a in complete if a[0] != attribute]
                with self.assertRaises(wps.WPSDecodeError, msg=f"{wps.MESSAGE_TYPES[kind]} {attribute:#x}"):
                    wps.Message.parse(wps.encodeAttributes(partial))

    def test_duplicateRequiredAttribute(self):
        """A required attribute given twice is refused."""
        complete = self._complete(wps.WSC_ACK)
        with self.assertRaises(wps.WPSDecodeError):
            wps.Message.parse(wps.encodeAttributes(complete + [(ATTR.ENROLLEE_NONCE, bytes(16))]))

    def test_messageTypeProblems(self):
        """No Message Type, two of them, or an unknown one: refused."""
        for attributes in ([(ATTR.VERSION, b"\x10")],
                           [(ATTR.MESSAGE_TYPE, b"\x0d"), (ATTR.MESSAGE_TYPE, b"\x0d")],
                           [(ATTR.MESSAGE_TYPE, b"\x42")]):
            with self.assertRaises(wps.WPSDecodeError):
                wps.Message.parse(wps.encodeAttributes(attributes))

    def test_authenticatorMustBeLast(self):
        """An Authenticator followed by another attribute is refused (it would not cover it)."""
        complete = self._complete(wps.M3)
        moved = [a for a in complete if a[0] != ATTR.AUTHENTICATOR]
        moved.insert(2, (ATTR.AUTHENTICATOR, bytes(8)))
        with self.assertRaises(wps.WPSDecodeError):
            wps.Message.parse(wps.encodeAttributes(moved))

    def test_withoutAuthenticator(self):
        """The bytes an Authenticator covers are the message less its last 12 bytes."""
        message = wps.Message.parse(ASUS_M2)
        self.assertEqual(message.withoutAuthenticator, ASUS_M2[:-12])
        ack = wps.Message.parse(wps.encodeAttributes(self._complete(wps.WSC_ACK)))
        self.assertEqual(ack.withoutAuthenticator, ack.raw)


class CryptoTests(unittest.SynchronousTestCase):
    """Keys, checks and encrypted settings."""

    def test_publicKeyChecks(self):
        """Keys outside the prime-order subgroup (0, 1, p-2, p-1, p), or of the wrong size, are refused."""
        p = wps.DH_PRIME
        for y in (0, 1, p - 2, p - 1, p):
            with self.assertRaises(wps.RegistrationError):
                wps.checkPublicKey((y % (1 << 1536)).to_bytes(192, "big"))
        with self.assertRaises(wps.RegistrationError):
            wps.checkPublicKey(RTL_PUBLIC[1:])
        self.assertEqual(wps.checkPublicKey(RTL_PUBLIC), int.from_bytes(RTL_PUBLIC, "big"))

    def test_sharedSecretAgrees(self):
        """Both sides of a fresh exchange compute the same 192-byte secret."""
        a, b = wps.KeyPair(), wps.KeyPair()
        self.assertEqual(a.shared(b.public), b.shared(a.public))
        self.assertEqual(len(a.shared(b.public)), 192)
        self.assertNotEqual(a.public, b.public)

    def test_privateKeyRange(self):
        """A private exponent of 0 or 1 is refused."""
        for x in (0, 1):
            with self.assertRaises(ValueError):
                wps.KeyPair(x)

    def test_kdfLengths(self):
        """The KDF gives exactly the bits asked for, and its blocks differ."""
        out = wps.kdf(b"k" * 32, b"label", 640)
        self.assertEqual(len(out), 80)
        self.assertNotEqual(out[:32], out[32:64])
        self.assertEqual(len(wps.kdf(b"k" * 32, b"label", 128)), 16)

    def test_passwordHalves(self):
        """An odd-length password's first half is the longer one."""
        key = b"a" * 32
        psk1, psk2 = wps.devicePasswordPSKs(key, b"12345")
        self.assertEqual((psk1, psk2), wps.devicePasswordPSKs(key, b"12345"))
        self.assertEqual(psk1, wps.devicePasswordPSKs(key, b"123" + b"99")[0])
        self.assertNotEqual(psk2, wps.devicePasswordPSKs(key, b"12399")[1])

    def _keys(self) -> wps.SessionKeys:
        return wps.SessionKeys(b"A" * 32, b"W" * 16, b"E" * 32)

    def test_encryptedSettingsRoundTrip(self):
        """Settings encrypted and decrypted come back; each length pads to whole blocks."""
        for size in range(0, 40):
            attributes = [(ATTR.SSID, b"s" * min(size, 32))]
            value = wps.encryptSettings(self._keys(), attributes, bytes(16))
            self.assertEqual(len(value) % 16, 0)
            self.assertEqual(wps.decryptSettings(self._keys(), value), attributes)

    def test_encryptedSettingsTampered(self):
        """Any flipped bit (IV, body, padding) or another key is caught, never an exception of the wrong kind."""
        value = wps.encryptSettings(self._keys(), [(ATTR.R_SNONCE1, bytes(16))], bytes(16))
        for index in range(len(value)):
            changed = bytearray(value)
            changed[index] ^= 0x01
            with self.assertRaises(wps.RegistrationError):
                wps.decryptSettings(self._keys(), bytes(changed))
        with self.assertRaises(wps.RegistrationError):
            wps.decryptSettings(wps.SessionKeys(b"A" * 32, b"X" * 16, b"E" * 32), value)
        for short in (value[:16], value[:-1], b""):
            with self.assertRaises(wps.RegistrationError):
                wps.decryptSettings(self._keys(), short)

    def test_encryptedSettingsWithoutKWA(self):
        """Well-padded plaintext without a final Key Wrap Authenticator is refused."""
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        plain = wps.encodeAttributes([(ATTR.SSID, b"abc")])
        pad = 16 - len(plain) % 16
        plain += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(b"W" * 16), modes.CBC(bytes(16))).encryptor()
        value = bytes(16) + encryptor.update(plain) + encryptor.finalize()
        with self.assertRaises(wps.RegistrationError) as caught:
            wps.decryptSettings(self._keys(), value)
        self.assertEqual(caught.exception.configError, 2)


class RunTests(unittest.SynchronousTestCase):
    """A registrar and an enrollee taking each other through M1 to M8."""

    def _pair(self, *, ready=lambda: True, enrolleePassword=wps.PUSH_BUTTON_PASSWORD,
              registrarPassword=wps.PUSH_BUTTON_PASSWORD, passwordId=wps.PASSWORD_ID_PUSH_BUTTON, **kw):
        device, cp = _device("device", 0xEE, 0x02), _device("proxier", 0xCC, 0x04)
        enrollee = wps.Enrollee(device, enrolleePassword, passwordId, ready=ready,
                                expectedUUID=kw.get("enrolleeExpects"), random=_counter(1000))
        registrar = wps.Registrar(cp, registrarPassword, passwordId, expectedUUID=kw.get("registrarExpects"),
                                  random=_counter(2000))
        return registrar, enrollee

    def test_pushButtonRun(self):
        """The push-button run: M1, M2D/ACK gate, M2..M8, Done — both sides succeed; M8's credential arrives."""
        registrar, enrollee = self._pair(registrarExpects=b"\xee" * 16, enrolleeExpects=b"\xcc" * 16)
        sent = _run(registrar, enrollee)
        names = [wps.Message.parse(m).name for m in sent]
        self.assertEqual(names, ["M1", "M2D", "WSC_ACK", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "WSC_Done"])
        self.assertTrue(registrar.succeeded and enrollee.succeeded)
        self.assertEqual(dict(enrollee.credential)[ATTR.SSID], b"DeviceProtection")
        self.assertEqual(dict(enrollee.credential)[ATTR.MAC_ADDRESS], b"\x02" * 6)
        self.assertEqual((registrar.peerUUID, enrollee.peerUUID), (b"\xee" * 16, b"\xcc" * 16))

    def test_buttonNotPressed(self):
        """Without the button the gate answers WSC_NACK: the registrar is notReady (no error), the enrollee declined."""
        registrar, enrollee = self._pair(ready=lambda: False)
        sent = _run(registrar, enrollee)
        self.assertEqual([wps.Message.parse(m).name for m in sent], ["M1", "M2D", "WSC_NACK"])
        self.assertEqual((registrar.state, enrollee.state), ("notReady", "declined"))

    def test_pinRunWithoutGate(self):
        """The PIN method goes M1, M2 at once (no gate) and succeeds with the same PIN on both sides."""
        registrar, enrollee = self._pair(enrolleePassword=b"12345670", registrarPassword=b"12345670",
                                         passwordId=wps.PASSWORD_ID_DEFAULT)
        sent = _run(registrar, enrollee)
        self.assertEqual(wps.Message.parse(sent[1]).name, "M2")
        self.assertTrue(registrar.succeeded and enrollee.succeeded)

    def test_wrongFirstHalf(self):
        """A registrar that does not know the PIN's first half is caught by the enrollee at M4 (error 18)."""
        registrar, enrollee = self._pair(enrolleePassword=b"12345670", registrarPassword=b"99995670",
                                         passwordId=wps.PASSWORD_ID_DEFAULT)
        with self.assertRaises(wps.RegistrationError) as caught:
            _run(registrar, enrollee)
        self.assertEqual(caught.exception.configError, 18)
        self.assertEqual((enrollee.state, registrar.state), ("failed", "failed"))
        self.assertIn("first half", enrollee.failure)

    def test_wrongSecondHalf(self):
        """Only the second half wrong: caught at M6, after the first half passed both ways."""
        registrar, enrollee = self._pair(enrolleePassword=b"12345670", registrarPassword=b"12349999",
                                         passwordId=wps.PASSWORD_ID_DEFAULT)
        with self.assertRaises(wps.RegistrationError):
            _run(registrar, enrollee)
        self.assertIn("second half", enrollee.failure)

    def test_passwordMethodMismatch(self):
        """A push-button registrar refuses an enrollee that announces a PIN."""
        device, cp = _device("device", 1, 2), _device("cp", 3, 4)
        enrollee = wps.Enrollee(device, b"12345670", wps.PASSWORD_ID_DEFAULT)
        registrar = wps.Registrar(cp)
        with self.assertRaises(wps.RegistrationError) as caught:
            registrar.receive(enrollee.start())
        self.assertEqual(caught.exception.configError, 18)

    def test_enrolleeIdentityChecked(self):
        """The registrar refuses an M1 whose UUID-E is not the one the device's certificate gives."""
        registrar, enrollee = self._pair(registrarExpects=b"\x01" * 16)
        with self.assertRaises(wps.RegistrationError) as caught:
            _run(registrar, enrollee)
        self.assertIn("UUID-E", str(caught.exception))

    def test_registrarIdentityChecked(self):
        """The enrollee refuses a registrar whose UUID-R is not the TLS client's CPID (a NACK, state failed)."""
        registrar, enrollee = self._pair(enrolleeExpects=b"\x01" * 16)
        with self.assertRaises(wps.RegistrationError):
            _run(registrar, enrollee)
        self.assertEqual(enrollee.state, "failed")
        self.assertIn("UUID-R", enrollee.failure)

    def test_everyMessageTamperedIsCaught(self):
        """
        A byte changed in any message after M1 is caught by its receiver: in
        the M-messages anywhere (their Authenticators, or for M2D the M2
        Authenticator that covers it); in the unauthenticated WSC_ACK and
        WSC_Done in their nonces. No run succeeds.
        """
        unauthenticated = (2, 10)  # WSC_ACK, WSC_Done
        for target in range(1, 11):
            for position in (("nonce",) if target in unauthenticated else ("early", "late")):
                registrar, enrollee = self._pair()

                def tamper(index, message, target=target, position=position):
                    if index != target:
                        return message
                    changed = bytearray(message)
                    at = {"late": len(changed) - 1, "early": 12, "nonce": 16}[position]
                    changed[at] ^= 0x40
                    return bytes(changed)

                try:
                    _run(registrar, enrollee, tamper)
                except wps.RegistrationError:
                    pass
                self.assertFalse(registrar.succeeded and enrollee.succeeded, f"message {target} {position}")

    def test_outOfOrder(self):
        """A message the state does not expect fails the run (an M4 replayed, M3 first)."""
        registrar, enrollee = self._pair()
        sent = _run(registrar, enrollee)
        fresh, other = self._pair()
        with self.assertRaises(wps.RegistrationError):
            fresh.receive(sent[4])  # M3 before any M1
        self.assertEqual(fresh.state, "failed")
        registrar2, enrollee2 = self._pair()
        m1 = enrollee2.start()
        registrar2.receive(m1)
        nack = enrollee2.receive(sent[5])  # an M4 of another run where M2D/M2 was due
        self.assertEqual(wps.Message.parse(nack).name, "WSC_NACK")
        self.assertEqual(enrollee2.state, "failed")

    def test_enrolleeNotStarted(self):
        """An enrollee that has not sent M1, or whose run is over, refuses to answer."""
        device = _device("d", 1, 2)
        enrollee = wps.Enrollee(device)
        with self.assertRaises(wps.RegistrationError):
            enrollee.receive(b"")
        enrollee.start()
        with self.assertRaises(wps.RegistrationError):
            enrollee.start()

    def test_registrarAfterEnd(self):
        """A finished registrar refuses further messages."""
        registrar, enrollee = self._pair()
        sent = _run(registrar, enrollee)
        with self.assertRaises(wps.RegistrationError):
            registrar.receive(sent[-1])

    def test_garbageIsARegistrationError(self):
        """Bytes that are no message fail the run with a RegistrationError, never another exception."""
        registrar = wps.Registrar(_device("cp", 1, 2))
        for data in (b"", b"\x00", b"\xff" * 40, bytes(wps.MAX_MESSAGE_BYTES + 1)):
            registrar = wps.Registrar(_device("cp", 1, 2))
            with self.assertRaises(wps.RegistrationError):
                registrar.receive(data)

    def test_hostilePublicKeyInM1(self):
        """An M1 carrying p-1 as its public key (a small-subgroup attack) is refused."""
        enrollee = wps.Enrollee(_device("d", 1, 2))
        m1 = wps.Message.parse(enrollee.start())
        attributes = [(k, (wps.DH_PRIME - 1).to_bytes(192, "big") if k == ATTR.PUBLIC_KEY else v)
                      for k, v in m1.attributes]
        with self.assertRaises(wps.RegistrationError):
            wps.Registrar(_device("cp", 3, 4)).receive(wps.encodeAttributes(attributes))

    def test_registrarNack(self):
        """A registrar's NACK ends the enrollee's run with its error; the NACK's nonces are this run's."""
        registrar, enrollee = self._pair()
        registrar.receive(enrollee.start())
        nack = registrar.nack(12)
        answer = enrollee.receive(nack)
        self.assertEqual(enrollee.state, "failed")
        self.assertIn("Multiple PBC", enrollee.failure)
        self.assertEqual(wps.Message.parse(answer).integer(ATTR.CONFIGURATION_ERROR), 12)

    def test_enrolleeNackAfterM2(self):
        """An enrollee NACK after M2 fails the registrar with the enrollee's error."""
        registrar, enrollee = self._pair(passwordId=wps.PASSWORD_ID_DEFAULT, enrolleePassword=b"1", registrarPassword=b"1")
        m2 = registrar.receive(enrollee.start())
        enrollee.receive(m2)
        with self.assertRaises(wps.RegistrationError) as caught:
            registrar.receive(enrollee.nack(14))
        self.assertEqual(caught.exception.configError, 14)

    def test_longDeviceStringsCut(self):
        """Device strings longer than their attribute allows are cut, so M1 still parses."""
        device = wps.DeviceAttributes(uuid=bytes(16), manufacturer="m" * 100, modelName="n" * 100,
                                      serialNumber="s" * 100, deviceName="é" * 40)
        m1 = wps.Message.parse(wps.Enrollee(device).start())
        self.assertEqual(len(m1.require(ATTR.MANUFACTURER)), 64)
        self.assertEqual(len(m1.require(ATTR.DEVICE_NAME)), 32)

    def test_deviceAttributeSizes(self):
        """A UUID, MAC or device type of the wrong size is refused when the attributes are made."""
        for kw in ({"uuid": bytes(15)}, {"uuid": bytes(16), "macAddress": bytes(5)},
                   {"uuid": bytes(16), "primaryDeviceType": bytes(7)}):
            with self.assertRaises(ValueError):
                wps.DeviceAttributes(**kw)
