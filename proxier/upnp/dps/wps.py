# -*- test-case-name: tests.test_dps_wps -*-
"""
The Wi-Fi Simple Configuration (WPS) registration protocol, messages M1 to
M8, as DeviceProtection:1 uses it to introduce a control point to a device
(DeviceProtection:1 SendSetupMessage with ProtocolType C{WPS}; TR-330
§4.8.1.2 recommends its push-button method for a CPE Proxier).

Sans-IO: bytes in, bytes out. The proxier is the Registrar (L{Registrar}),
the device the Enrollee (L{Enrollee}): the control point sends an empty
InMessage, the device answers M1, and each SendSetupMessage then carries
the registrar's next message in and the enrollee's answer out — the roles
and the transport of the reference DeviceProtection implementation
(Nokia/Orange linux-igd2, C{deviceprotection.c}: the device runs a
wpa_supplicant enrollee state machine, the control point the registrar).

What is implemented, from the Wi-Fi Simple Configuration Technical
Specification v2.0 as hostapd implements it (C{src/wps/wps_common.c},
C{wps_enrollee.c}, C{wps_registrar.c}, C{wps_attr_*.c}):

 - messages as type-length-value attributes (2-byte big-endian type and
   length); the attribute table below, each with its length rule;
 - Diffie-Hellman in the 1536-bit MODP group 5 (RFC 3526 §2, g = 2), the
   public keys as 192 big-endian bytes, a peer's key checked to lie in the
   prime-order subgroup;
 - DHKey = SHA-256(g^AB mod p, zero-padded to 192 bytes);
   KDK = HMAC-SHA-256_DHKey(N1 || EnrolleeMAC || N2);
   AuthKey (256 bits) || KeyWrapKey (128) || EMSK (256) =
   kdf(KDK, "Wi-Fi Easy and Secure Key Derivation", 640), where kdf
   concatenates HMAC-SHA-256_KDK(i || label || 640) for i = 1, 2, 3 (each
   number 32-bit big-endian);
 - the Authenticator of a message: the first 64 bits of
   HMAC-SHA-256_AuthKey(previous message || this message without its
   Authenticator attribute, which comes last). "Previous message" is the
   last M-message (M1-M8, M2D) exchanged in either direction: WSC_ACK,
   WSC_NACK and WSC_Done do not count (as in hostapd, which keeps
   C{last_msg} for WSC_MSG op codes only);
 - PSK1 / PSK2 = first 128 bits of HMAC_AuthKey(first / second half of the
   device password); E-Hash1 = HMAC_AuthKey(E-S1 || PSK1 || PK_E || PK_R),
   E-Hash2 likewise with E-S2 and PSK2, R-Hash1/2 with R-S1/R-S2;
 - Encrypted Settings: a random 128-bit IV || AES-128-CBC_KeyWrapKey(the
   settings || Key Wrap Authenticator || PKCS#5 padding), the Key Wrap
   Authenticator being the first 64 bits of HMAC_AuthKey(the settings);
 - the push-button method: device password C{"00000000"}, Device Password
   ID 0x0004. For DeviceProtection the registrar first sends M2D ("I am
   here") and the enrollee answers WSC_ACK when its button was pressed
   within the walk time, WSC_NACK when not (the gate the reference
   implementation uses); only after the ACK does the registrar send M2.
   After a NACK the run is over; the registrar starts a new one later.

M8 carries, in its Encrypted Settings, a Credential naming no network
(DeviceProtection needs none; a WPS enrollee expects one): SSID
"DeviceProtection", open authentication, no encryption, an empty key.

What a DeviceProtection device adds (binding the introduction to the TLS
session): the UUID-E of M1 is the UUID derived from the device's TLS
certificate, UUID-R of M2 the control point's CPID (both as
L{proxier.upnp.dps.codec.cpid} derives them); each side may check the other's
(C{expectedUUID}).

Not implemented: the PIN display/keypad gates of a real Wi-Fi device, the
AP-settings variant of M7/M8, NFC and out-of-band methods, WPS 1.0 quirks.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

__all__ = [
    "ATTRIBUTES",
    "MESSAGE_TYPES",
    "MESSAGE_ATTRIBUTES",
    "CONFIG_ERRORS",
    "ATTR",
    "M1", "M2", "M2D", "M3", "M4", "M5", "M6", "M7", "M8", "WSC_ACK", "WSC_NACK", "WSC_DONE",
    "PUSH_BUTTON_PASSWORD",
    "PASSWORD_ID_DEFAULT",
    "PASSWORD_ID_PUSH_BUTTON",
    "MAX_MESSAGE_BYTES",
    "WPSDecodeError",
    "RegistrationError",
    "Message",
    "encodeAttributes",
    "decodeAttributes",
    "DH_PRIME",
    "DH_GENERATOR",
    "KeyPair",
    "checkPublicKey",
    "SessionKeys",
    "deriveKeys",
    "kdf",
    "authenticator",
    "devicePasswordPSKs",
    "secretHash",
    "encryptSettings",
    "decryptSettings",
    "DeviceAttributes",
    "Registrar",
    "Enrollee",
]

#: The largest message accepted (an M1 with every device attribute at its
#: longest is about 700 bytes).
MAX_MESSAGE_BYTES = 4096

# Wi-Fi Simple Configuration Technical Specification v2.0, §12 "Data
# Element Definitions" (Table 28): type → (name, shortest, longest) in
# bytes. Attributes of other types are kept as they come (vendors add
# their own), capped by the message size.
ATTRIBUTES: Mapping[int, tuple[str, int, int]] = {
    0x1001: ("AP Channel", 2, 2),
    0x1002: ("Association State", 2, 2),
    0x1003: ("Authentication Type", 2, 2),
    0x1004: ("Authentication Type Flags", 2, 2),
    0x1005: ("Authenticator", 8, 8),
    0x1008: ("Config Methods", 2, 2),
    0x1009: ("Configuration Error", 2, 2),
    0x100A: ("Confirmation URL4", 0, 64),
    0x100B: ("Confirmation URL6", 0, 76),
    0x100C: ("Connection Type", 1, 1),
    0x100D: ("Connection Type Flags", 1, 1),
    0x100E: ("Credential", 0, 1024),
    0x100F: ("Encryption Type", 2, 2),
    0x1010: ("Encryption Type Flags", 2, 2),
    0x1011: ("Device Name", 0, 32),
    0x1012: ("Device Password ID", 2, 2),
    0x1014: ("E-Hash1", 32, 32),
    0x1015: ("E-Hash2", 32, 32),
    0x1016: ("E-SNonce1", 16, 16),
    0x1017: ("E-SNonce2", 16, 16),
    0x1018: ("Encrypted Settings", 32, 2048),
    0x101A: ("Enrollee Nonce", 16, 16),
    0x101E: ("Key Wrap Authenticator", 8, 8),
    0x1020: ("MAC Address", 6, 6),
    0x1021: ("Manufacturer", 0, 64),
    0x1022: ("Message Type", 1, 1),
    0x1023: ("Model Name", 0, 32),
    0x1024: ("Model Number", 0, 32),
    0x1026: ("Network Index", 1, 1),
    0x1027: ("Network Key", 0, 64),
    0x1028: ("Network Key Index", 1, 1),
    0x102D: ("OS Version", 4, 4),
    0x1032: ("Public Key", 192, 192),
    0x1039: ("Registrar Nonce", 16, 16),
    0x103A: ("Request Type", 1, 1),
    0x103B: ("Response Type", 1, 1),
    0x103C: ("RF Bands", 1, 1),
    0x103D: ("R-Hash1", 32, 32),
    0x103E: ("R-Hash2", 32, 32),
    0x103F: ("R-SNonce1", 16, 16),
    0x1040: ("R-SNonce2", 16, 16),
    0x1041: ("Selected Registrar", 1, 1),
    0x1042: ("Serial Number", 0, 32),
    0x1044: ("Wi-Fi Simple Configuration State", 1, 1),
    0x1045: ("SSID", 0, 32),
    0x1047: ("UUID-E", 16, 16),
    0x1048: ("UUID-R", 16, 16),
    0x1049: ("Vendor Extension", 3, 1024),
    0x104A: ("Version", 1, 1),
    0x1053: ("Selected Registrar Config Methods", 2, 2),
    0x1054: ("Primary Device Type", 8, 8),
}


class _Names:
    """Attribute types by name (C{ATTR.PUBLIC_KEY}), from L{ATTRIBUTES}."""

    def __init__(self, table: Mapping[int, tuple[str, int, int]]) -> None:
        for number, (name, _, _) in table.items():
            key = name.upper().replace("-", "_").replace(" ", "_").replace(".", "")
            setattr(self, key, number)


ATTR = _Names(ATTRIBUTES)

# §12, "Message Type" values.
M1, M2, M2D, M3, M4, M5, M6, M7, M8 = 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C
WSC_ACK, WSC_NACK, WSC_DONE = 0x0D, 0x0E, 0x0F
MESSAGE_TYPES: Mapping[int, str] = {
    M1: "M1", M2: "M2", M2D: "M2D", M3: "M3", M4: "M4", M5: "M5", M6: "M6", M7: "M7", M8: "M8",
    WSC_ACK: "WSC_ACK", WSC_NACK: "WSC_NACK", WSC_DONE: "WSC_Done",
}

# §8.3 "Registration Protocol Messages" (the attributes each message must
# carry; optional ones are not listed), as hostapd builds and checks them.
MESSAGE_ATTRIBUTES: Mapping[int, tuple[int, ...]] = {
    M1: (0x104A, 0x1022, 0x1047, 0x1020, 0x101A, 0x1032, 0x1004, 0x1010, 0x100D, 0x1008, 0x1044,
         0x1021, 0x1023, 0x1024, 0x1042, 0x1054, 0x1011, 0x103C, 0x1002, 0x1012, 0x1009, 0x102D),
    M2: (0x104A, 0x1022, 0x101A, 0x1039, 0x1048, 0x1032, 0x1004, 0x1010, 0x100D, 0x1008, 0x1021,
         0x1023, 0x1024, 0x1042, 0x1054, 0x1011, 0x103C, 0x1002, 0x1009, 0x1012, 0x102D, 0x1005),
    M2D: (0x104A, 0x1022, 0x101A, 0x1039, 0x1048, 0x1004, 0x1010, 0x100D, 0x1008, 0x1021, 0x1023,
          0x1024, 0x1042, 0x1054, 0x1011, 0x103C, 0x1002, 0x1009, 0x102D),
    M3: (0x104A, 0x1022, 0x1039, 0x1014, 0x1015, 0x1005),
    M4: (0x104A, 0x1022, 0x101A, 0x103D, 0x103E, 0x1018, 0x1005),
    M5: (0x104A, 0x1022, 0x1039, 0x1018, 0x1005),
    M6: (0x104A, 0x1022, 0x101A, 0x1018, 0x1005),
    M7: (0x104A, 0x1022, 0x1039, 0x1018, 0x1005),
    M8: (0x104A, 0x1022, 0x101A, 0x1018, 0x1005),
    WSC_ACK: (0x104A, 0x1022, 0x101A, 0x1039),
    WSC_NACK: (0x104A, 0x1022, 0x101A, 0x1039, 0x1009),
    WSC_DONE: (0x104A, 0x1022, 0x101A, 0x1039),
}

# §12, "Configuration Error" values.
CONFIG_ERRORS: Mapping[int, str] = {
    0: "No Error",
    1: "OOB Interface Read Error",
    2: "Decryption CRC Failure",
    3: "2.4 channel not supported",
    4: "5.0 channel not supported",
    5: "Signal too weak",
    6: "Network auth failure",
    7: "Network association failure",
    8: "No DHCP response",
    9: "Failed DHCP config",
    10: "IP address conflict",
    11: "Couldn't connect to Registrar",
    12: "Multiple PBC sessions detected",
    13: "Rogue activity suspected",
    14: "Device busy",
    15: "Setup locked",
    16: "Message Timeout",
    17: "Registration Session Timeout",
    18: "Device Password Auth Failure",
}
NO_ERROR, DECRYPTION_FAILURE, MULTIPLE_PBC, ROGUE, DEVICE_BUSY, MESSAGE_TIMEOUT, PASSWORD_FAILURE = \
    0, 2, 12, 13, 14, 16, 18

PASSWORD_ID_DEFAULT = 0x0000  # a PIN
PASSWORD_ID_PUSH_BUTTON = 0x0004
PUSH_BUTTON_PASSWORD = b"00000000"
CONFIG_METHOD_LABEL = 0x0004
CONFIG_METHOD_PUSH_BUTTON = 0x0080
VERSION = 0x10  # WSC 1.0 in the Version attribute; the real version in Version2
_WFA_EXTENSION = bytes.fromhex("00372a") + bytes((0x00, 0x01, 0x20))  # WFA OUI, Version2 = 2.0
_PERSONALIZATION = b"Wi-Fi Easy and Secure Key Derivation"
_KEY_BITS = 640


class WPSDecodeError(ValueError):
    """Bytes that are not a registration protocol message; C{str()} says why."""


class RegistrationError(Exception):
    """
    A registration run failed.

    @ivar configError: the WPS Configuration Error value (what a NACK says).
    """

    def __init__(self, reason: str, configError: int = ROGUE) -> None:
        super().__init__(reason)
        self.configError = configError


# ---- attributes --------------------------------------------------------------------------


def encodeAttributes(attributes: Sequence[tuple[int, bytes]]) -> bytes:
    """Type-length-value attributes, in order."""
    out = []
    for kind, value in attributes:
        if not 0 <= kind <= 0xFFFF or len(value) > 0xFFFF:
            raise ValueError(f"attribute {kind:#06x} cannot be encoded")
        out.append(struct.pack(">HH", kind, len(value)) + bytes(value))
    return b"".join(out)


def decodeAttributes(data: bytes, maxBytes: int = MAX_MESSAGE_BYTES) -> list[tuple[int, bytes]]:
    """
    The attributes of C{data}, in order.

    @raise WPSDecodeError: too long, truncated, or an attribute whose length
        L{ATTRIBUTES} does not allow.
    """
    if len(data) > maxBytes:
        raise WPSDecodeError(f"{len(data)} bytes exceed the {maxBytes}-byte cap")
    out: list[tuple[int, bytes]] = []
    position = 0
    while position < len(data):
        if len(data) - position < 4:
            raise WPSDecodeError(f"{len(data) - position} trailing bytes after the last attribute")
        kind, length = struct.unpack_from(">HH", data, position)
        position += 4
        if position + length > len(data):
            raise WPSDecodeError(f"attribute {kind:#06x} of {length} bytes runs past the end")
        value = bytes(data[position:position + length])
        position += length
        rule = ATTRIBUTES.get(kind)
        if rule is not None and not rule[1] <= length <= rule[2]:
            raise WPSDecodeError(f"{rule[0]} of {length} bytes (allowed {rule[1]}-{rule[2]})")
        out.append((kind, value))
    return out


@dataclass(frozen=True)
class Message:
    """
    One registration protocol message.

    @ivar raw: the message as sent (what authenticators are computed over).
    """

    type: int
    attributes: tuple[tuple[int, bytes], ...]
    raw: bytes

    @classmethod
    def build(cls, attributes: Sequence[tuple[int, bytes]]) -> "Message":
        raw = encodeAttributes(attributes)
        return cls.parse(raw)

    @classmethod
    def parse(cls, data: bytes, maxBytes: int = MAX_MESSAGE_BYTES) -> "Message":
        """
        @raise WPSDecodeError: not a message, an unknown message type, a
            required attribute missing or given twice, or an Authenticator
            that is not the last attribute.
        """
        attributes = decodeAttributes(data, maxBytes)
        types = [k for k, _ in attributes if k == ATTR.MESSAGE_TYPE]
        if len(types) != 1:
            raise WPSDecodeError("no Message Type" if not types else "more than one Message Type")
        kind = next(v for k, v in attributes if k == ATTR.MESSAGE_TYPE)[0]
        if kind not in MESSAGE_TYPES:
            raise WPSDecodeError(f"unknown message type {kind:#04x}")
        present = [k for k, _ in attributes]
        for required in MESSAGE_ATTRIBUTES[kind]:
            count = present.count(required)
            if count != 1:
                what = ATTRIBUTES[required][0]
                raise WPSDecodeError(f"{MESSAGE_TYPES[kind]} without {what}" if not count
                                     else f"{MESSAGE_TYPES[kind]} with {count} {what} attributes")
        if ATTR.AUTHENTICATOR in present and present[-1] != ATTR.AUTHENTICATOR:
            raise WPSDecodeError(f"{MESSAGE_TYPES[kind]}: the Authenticator is not the last attribute")
        return cls(kind, tuple(attributes), bytes(data))

    @property
    def name(self) -> str:
        return MESSAGE_TYPES[self.type]

    def get(self, kind: int) -> Optional[bytes]:
        """The first attribute of type C{kind}, or C{None}."""
        for k, v in self.attributes:
            if k == kind:
                return v
        return None

    def require(self, kind: int) -> bytes:
        value = self.get(kind)
        if value is None:
            raise WPSDecodeError(f"{self.name} without {ATTRIBUTES.get(kind, (hex(kind),))[0]}")
        return value

    def integer(self, kind: int) -> int:
        return int.from_bytes(self.require(kind), "big")

    @property
    def withoutAuthenticator(self) -> bytes:
        """The bytes an Authenticator covers: the message less its final Authenticator attribute."""
        if self.attributes and self.attributes[-1][0] == ATTR.AUTHENTICATOR:
            return self.raw[: -(4 + 8)]
        return self.raw


# ---- Diffie-Hellman, group 5 ---------------------------------------------------------------

# RFC 3526 §2, "1536-bit MODP Group" (group 5), generator 2.
DH_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF",
    16,
)
DH_GENERATOR = 2
_DH_ORDER = (DH_PRIME - 1) // 2
_PUBLIC_KEY_BYTES = 192
#: Bits of a private exponent: RFC 3526 §8 asks for at least twice the
#: group's strength (about 90 bits for group 5); 256 is ample.
PRIVATE_KEY_BITS = 256


def checkPublicKey(public: bytes) -> int:
    """
    A peer's public key as a number, checked: 192 bytes, 1 < y < p - 1,
    and in the prime-order subgroup (y^q = 1), so that a hostile peer
    cannot force the shared secret into a small subgroup.

    @raise RegistrationError: the key is not acceptable.
    """
    if len(public) != _PUBLIC_KEY_BYTES:
        raise RegistrationError(f"a public key of {len(public)} bytes")
    y = int.from_bytes(public, "big")
    if not 1 < y < DH_PRIME - 1 or pow(y, _DH_ORDER, DH_PRIME) != 1:
        raise RegistrationError("a public key outside the group's prime-order subgroup")
    return y


class KeyPair:
    """
    An ephemeral Diffie-Hellman key pair in group 5. A fresh one per run:
    Python's modular exponentiation is not constant-time, which matters
    little for a key used once.
    """

    def __init__(self, private: Optional[int] = None) -> None:
        if private is None:
            private = secrets.randbits(PRIVATE_KEY_BITS) | (1 << (PRIVATE_KEY_BITS - 1))
        if not 1 < private < DH_PRIME - 1:
            raise ValueError("private exponent out of range")
        self._private = private
        self.public = pow(DH_GENERATOR, private, DH_PRIME).to_bytes(_PUBLIC_KEY_BYTES, "big")

    def shared(self, peerPublic: bytes) -> bytes:
        """g^AB mod p, zero-padded to 192 bytes (as hostapd pads it)."""
        y = checkPublicKey(peerPublic)
        return pow(y, self._private, DH_PRIME).to_bytes(_PUBLIC_KEY_BYTES, "big")


# ---- keys and hashes -------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionKeys:
    authKey: bytes
    keyWrapKey: bytes
    emsk: bytes


def _hmac(key: bytes, *parts: bytes) -> bytes:
    return hmac.new(key, b"".join(parts), hashlib.sha256).digest()


def kdf(key: bytes, label: bytes, bits: int) -> bytes:
    """The WPS key derivation function (HMAC-SHA-256 in counter mode)."""
    out = b""
    i = 1
    while len(out) * 8 < bits:
        out += _hmac(key, struct.pack(">I", i), label, struct.pack(">I", bits))
        i += 1
    return out[: bits // 8]


def deriveKeys(shared: bytes, enrolleeNonce: bytes, enrolleeMAC: bytes, registrarNonce: bytes) -> SessionKeys:
    """AuthKey, KeyWrapKey and EMSK from the DH shared secret and the nonces."""
    dhKey = hashlib.sha256(shared.rjust(_PUBLIC_KEY_BYTES, b"\0")).digest()
    kdk = _hmac(dhKey, enrolleeNonce, enrolleeMAC, registrarNonce)
    keys = kdf(kdk, _PERSONALIZATION, _KEY_BITS)
    return SessionKeys(keys[:32], keys[32:48], keys[48:80])


def authenticator(authKey: bytes, previous: bytes, current: bytes) -> bytes:
    """The first 64 bits of HMAC_AuthKey(previous || current)."""
    return _hmac(authKey, previous, current)[:8]


def devicePasswordPSKs(authKey: bytes, password: bytes) -> tuple[bytes, bytes]:
    """PSK1 and PSK2: each half of the device password, keyed (the first half is the longer)."""
    half = (len(password) + 1) // 2
    return _hmac(authKey, password[:half])[:16], _hmac(authKey, password[half:])[:16]


def secretHash(authKey: bytes, secretNonce: bytes, psk: bytes, enrolleeKey: bytes, registrarKey: bytes) -> bytes:
    """E-Hash or R-Hash: HMAC_AuthKey(S || PSK || PK_E || PK_R)."""
    return _hmac(authKey, secretNonce, psk, enrolleeKey, registrarKey)


def encryptSettings(keys: SessionKeys, attributes: Sequence[tuple[int, bytes]], iv: Optional[bytes] = None) -> bytes:
    """The value of an Encrypted Settings attribute: IV || AES-128-CBC(settings || KWA || padding)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    plain = encodeAttributes(attributes)
    plain += encodeAttributes([(ATTR.KEY_WRAP_AUTHENTICATOR, _hmac(keys.authKey, plain)[:8])])
    pad = 16 - len(plain) % 16
    plain += bytes((pad,)) * pad
    iv = iv if iv is not None else os.urandom(16)
    encryptor = Cipher(algorithms.AES(keys.keyWrapKey), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(plain) + encryptor.finalize()


def decryptSettings(keys: SessionKeys, value: bytes) -> list[tuple[int, bytes]]:
    """
    The attributes of an Encrypted Settings value, its padding and Key Wrap
    Authenticator checked (and the latter removed).

    @raise RegistrationError: it does not decrypt or authenticate
        (Configuration Error 2, "Decryption CRC Failure").
    """
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if len(value) < 32 or len(value) % 16:
        raise RegistrationError(f"encrypted settings of {len(value)} bytes", DECRYPTION_FAILURE)
    decryptor = Cipher(algorithms.AES(keys.keyWrapKey), modes.CBC(value[:16])).decryptor()
    plain = decryptor.update(value[16:]) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 16 or plain[-pad:] != bytes((pad,)) * pad:
        raise RegistrationError("encrypted settings with a bad padding", DECRYPTION_FAILURE)
    plain = plain[:-pad]
    try:
        attributes = decodeAttributes(plain)
    except WPSDecodeError as e:
        raise RegistrationError(f"encrypted settings: {e}", DECRYPTION_FAILURE) from None
    if not attributes or attributes[-1][0] != ATTR.KEY_WRAP_AUTHENTICATOR:
        raise RegistrationError("encrypted settings without a final Key Wrap Authenticator", DECRYPTION_FAILURE)
    covered = plain[: -(4 + 8)]
    if not hmac.compare_digest(attributes[-1][1], _hmac(keys.authKey, covered)[:8]):
        raise RegistrationError("encrypted settings whose Key Wrap Authenticator does not match",
                                DECRYPTION_FAILURE)
    return attributes[:-1]


def _find(attributes: Sequence[tuple[int, bytes]], kind: int) -> Optional[bytes]:
    for k, v in attributes:
        if k == kind:
            return v
    return None


# ---- the two sides ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceAttributes:
    """
    What a side says about itself in M1 / M2 / M2D.

    @ivar uuid: 16 bytes (UUID-E or UUID-R).
    @ivar macAddress: 6 bytes; the enrollee's enters the key derivation.
    """

    uuid: bytes
    macAddress: bytes = bytes(6)
    manufacturer: str = ""
    modelName: str = ""
    modelNumber: str = ""
    serialNumber: str = ""
    deviceName: str = ""
    primaryDeviceType: bytes = bytes.fromhex("0001") + bytes.fromhex("0050f204") + bytes.fromhex("0001")
    osVersion: int = 0x80000000
    configMethods: int = CONFIG_METHOD_PUSH_BUTTON

    def __post_init__(self) -> None:
        if len(self.uuid) != 16 or len(self.macAddress) != 6 or len(self.primaryDeviceType) != 8:
            raise ValueError("uuid, macAddress and primaryDeviceType must be 16, 6 and 8 bytes")

    def attributes(self) -> list[tuple[int, bytes]]:
        """Manufacturer ... Device Name, each cut to its longest allowed length."""
        return [
            (ATTR.MANUFACTURER, self.manufacturer.encode("utf-8")[:64]),
            (ATTR.MODEL_NAME, self.modelName.encode("utf-8")[:32]),
            (ATTR.MODEL_NUMBER, self.modelNumber.encode("utf-8")[:32]),
            (ATTR.SERIAL_NUMBER, self.serialNumber.encode("utf-8")[:32]),
            (ATTR.PRIMARY_DEVICE_TYPE, self.primaryDeviceType),
            (ATTR.DEVICE_NAME, self.deviceName.encode("utf-8")[:32]),
        ]


def _u8(value: int) -> bytes:
    return bytes((value,))


def _u16(value: int) -> bytes:
    return struct.pack(">H", value)


def _u32(value: int) -> bytes:
    return struct.pack(">I", value)


_AUTH_TYPE_FLAGS = _u16(0x0001 | 0x0020)  # Open, WPA2-Personal
_ENCR_TYPE_FLAGS = _u16(0x0001 | 0x0008)  # None, AES
_CONN_TYPE_FLAGS = _u8(0x01)  # ESS
_RF_BANDS = _u8(0x01)
_ASSOCIATION_STATE = _u16(0)
_WPS_STATE_NOT_CONFIGURED = _u8(0x01)


class _Side:
    """What the registrar and the enrollee share: nonces, keys, the last M-message, building messages."""

    state: str
    #: why a secret nonce did not match its hash (C{which}: "first" or "second")
    _passwordMismatch: str

    def __init__(self, me: DeviceAttributes, password: bytes, passwordId: int, keyPair: Optional[KeyPair],
                 random: Callable[[int], bytes]) -> None:
        self.me = me
        self.password = password
        self.passwordId = passwordId
        self.keyPair = keyPair or KeyPair()
        self.random = random
        self.enrolleeNonce = b""
        self.registrarNonce = b""
        self.enrolleeKey = b""
        self.registrarKey = b""
        self.enrolleeMAC = b""
        self.keys: Optional[SessionKeys] = None
        self.psk1 = self.psk2 = b""
        self.last: bytes = b""  # the last M-message, either way
        self.peerUUID = b""
        self.configError = NO_ERROR

    def _build(self, kind: int, attributes: list[tuple[int, bytes]], *, authenticated: bool = False) -> bytes:
        body = [(ATTR.VERSION, _u8(VERSION)), (ATTR.MESSAGE_TYPE, _u8(kind))] + attributes
        body.append((ATTR.VENDOR_EXTENSION, _WFA_EXTENSION))
        raw = encodeAttributes(body)
        if authenticated:
            assert self.keys is not None
            raw += encodeAttributes([(ATTR.AUTHENTICATOR, authenticator(self.keys.authKey, self.last, raw))])
        if kind not in (WSC_ACK, WSC_NACK, WSC_DONE):
            self.last = raw
        return raw

    def _parse(self, data: bytes) -> Message:
        try:
            return Message.parse(data)
        except WPSDecodeError as e:
            raise RegistrationError(f"not a registration message: {e}", DECRYPTION_FAILURE) from None

    def _checkAuthenticator(self, message: Message) -> None:
        assert self.keys is not None
        expected = authenticator(self.keys.authKey, self.last, message.withoutAuthenticator)
        if not hmac.compare_digest(expected, message.require(ATTR.AUTHENTICATOR)):
            raise RegistrationError(f"{message.name}: its Authenticator does not match", DECRYPTION_FAILURE)
        self.last = message.raw

    def _checkNonce(self, message: Message, kind: int, expected: bytes) -> None:
        if not hmac.compare_digest(message.require(kind), expected):
            raise RegistrationError(f"{message.name}: {ATTRIBUTES[kind][0]} is not this run's")

    def _encrypted(self, message: Message) -> list[tuple[int, bytes]]:
        assert self.keys is not None
        return decryptSettings(self.keys, message.require(ATTR.ENCRYPTED_SETTINGS))

    def _deriveKeys(self, peerKey: bytes) -> None:
        shared = self.keyPair.shared(peerKey)
        self.keys = deriveKeys(shared, self.enrolleeNonce, self.enrolleeMAC, self.registrarNonce)
        self.psk1, self.psk2 = devicePasswordPSKs(self.keys.authKey, self.password)

    def _hash(self, secret: bytes, psk: bytes) -> bytes:
        assert self.keys is not None
        return secretHash(self.keys.authKey, secret, psk, self.enrolleeKey, self.registrarKey)

    def _checkSecret(self, message: Message, kind: int, expected: bytes, psk: bytes, which: str) -> None:
        """The peer's secret nonce in C{message} must hash, with C{psk}, to the hash it committed to."""
        secret = _find(self._encrypted(message), kind)
        if secret is None or len(secret) != 16:
            raise RegistrationError(f"{message.name}: no {ATTRIBUTES[kind][0]} in its encrypted settings")
        if not hmac.compare_digest(self._hash(secret, psk), expected):
            raise RegistrationError(f"{message.name}: " + self._passwordMismatch.format(which=which),
                                    PASSWORD_FAILURE)

    def _nonces(self) -> list[tuple[int, bytes]]:
        """Both nonces; one not known yet goes as zeros (as hostapd sends it)."""
        return [(ATTR.ENROLLEE_NONCE, self.enrolleeNonce or bytes(16)),
                (ATTR.REGISTRAR_NONCE, self.registrarNonce or bytes(16))]

    def nack(self, configError: Optional[int] = None) -> bytes:
        """A WSC_NACK for this run (with C{configError}, default the one the failure recorded)."""
        error = self.configError if configError is None else configError
        return self._build(WSC_NACK, self._nonces() + [(ATTR.CONFIGURATION_ERROR, _u16(error))])

    def _fail(self, error: RegistrationError) -> None:
        self.state = "failed"
        self.configError = error.configError


class Registrar(_Side):
    """
    The registrar side (the proxier, introducing itself to a device).

    States:
     - C{start}: waiting for M1 (the answer to an empty SendSetupMessage);
     - C{sentM2D}: the push-button gate — waiting for WSC_ACK (its button
       was pressed) or WSC_NACK (not yet: C{notReady});
     - C{sentM2}, C{sentM4}, C{sentM6}: waiting for M3, M5, M7;
     - C{sentM8}: waiting for WSC_Done;
     - C{done}: the device accepted the registrar (L{succeeded});
     - C{notReady}: the device's button was not pressed (no error: try a
       new run later);
     - C{failed}: a message was wrong (L{RegistrationError}); send L{nack}.

    @param expectedUUID: the UUID-E the enrollee must announce in M1 (the
        one derived from its TLS certificate), or C{None}.
    @param gate: send M2D first and wait for the enrollee's WSC_ACK (the
        push-button readiness gate); default: for the push-button method.
    """

    _passwordMismatch = "the {which} half of the device password does not match"

    def __init__(self, me: DeviceAttributes, password: bytes = PUSH_BUTTON_PASSWORD,
                 passwordId: int = PASSWORD_ID_PUSH_BUTTON, *, expectedUUID: Optional[bytes] = None,
                 gate: Optional[bool] = None, keyPair: Optional[KeyPair] = None,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        super().__init__(me, password, passwordId, keyPair, random)
        self.expectedUUID = expectedUUID
        self.gate = passwordId == PASSWORD_ID_PUSH_BUTTON if gate is None else gate
        self.state = "start"
        self.eHash1 = self.eHash2 = b""
        self.rSecret1 = self.rSecret2 = b""
        self.enrollee: Optional[Message] = None  # M1, for what the device says of itself

    @property
    def succeeded(self) -> bool:
        return self.state == "done"

    def receive(self, data: bytes) -> Optional[bytes]:
        """
        The enrollee's message; returns the registrar's next one, or C{None}
        when the run is over (C{done} or C{notReady}).

        @raise RegistrationError: the run failed (state C{failed}); the
            caller should send L{nack} to end it on the enrollee too.
        """
        try:
            return self._receive(self._parse(data))
        except RegistrationError as e:
            self._fail(e)
            raise

    def _receive(self, message: Message) -> Optional[bytes]:
        expected = {"start": (M1,), "sentM2D": (WSC_ACK, WSC_NACK), "sentM2": (M3,), "sentM4": (M5,),
                    "sentM6": (M7,), "sentM8": (WSC_DONE,)}.get(self.state)
        if expected is None:
            raise RegistrationError(f"{message.name} after the run ended")
        if message.type == WSC_NACK and self.state != "start":
            self._checkNonce(message, ATTR.REGISTRAR_NONCE, self.registrarNonce)
            error = message.integer(ATTR.CONFIGURATION_ERROR)
            if self.state == "sentM2D":
                self.state = "notReady"
                return None
            raise RegistrationError(f"the enrollee ended the run: {CONFIG_ERRORS.get(error, error)}", error)
        if message.type not in expected:
            raise RegistrationError(f"{message.name} where {'/'.join(MESSAGE_TYPES[t] for t in expected)} was due")
        return getattr(self, "_on" + MESSAGE_TYPES[message.type].replace("WSC_", ""))(message)

    def _onM1(self, m1: Message) -> bytes:
        uuid = m1.require(ATTR.UUID_E)
        if self.expectedUUID is not None and not hmac.compare_digest(uuid, self.expectedUUID):
            raise RegistrationError("M1: UUID-E is not the one the device's certificate gives", ROGUE)
        passwordId = m1.integer(ATTR.DEVICE_PASSWORD_ID)
        if passwordId != self.passwordId:
            raise RegistrationError(f"M1: the device uses Device Password ID {passwordId:#06x}, "
                                    f"not {self.passwordId:#06x}", PASSWORD_FAILURE)
        self.enrollee = m1
        self.peerUUID = uuid
        self.enrolleeNonce = m1.require(ATTR.ENROLLEE_NONCE)
        self.enrolleeMAC = m1.require(ATTR.MAC_ADDRESS)
        self.enrolleeKey = m1.require(ATTR.PUBLIC_KEY)
        checkPublicKey(self.enrolleeKey)
        self.registrarNonce = self.random(16)
        self.registrarKey = self.keyPair.public
        self.last = m1.raw
        if self.gate:
            self.state = "sentM2D"
            return self._m2d()
        return self._m2()

    def _description(self) -> list[tuple[int, bytes]]:
        return [
            (ATTR.AUTHENTICATION_TYPE_FLAGS, _AUTH_TYPE_FLAGS),
            (ATTR.ENCRYPTION_TYPE_FLAGS, _ENCR_TYPE_FLAGS),
            (ATTR.CONNECTION_TYPE_FLAGS, _CONN_TYPE_FLAGS),
            (ATTR.CONFIG_METHODS, _u16(self.me.configMethods)),
        ] + self.me.attributes() + [
            (ATTR.RF_BANDS, _RF_BANDS),
            (ATTR.ASSOCIATION_STATE, _ASSOCIATION_STATE),
            (ATTR.CONFIGURATION_ERROR, _u16(NO_ERROR)),
        ]

    def _m2d(self) -> bytes:
        return self._build(M2D, self._nonces() + [(ATTR.UUID_R, self.me.uuid)] + self._description()
                           + [(ATTR.OS_VERSION, _u32(self.me.osVersion))])

    def _onACK(self, ack: Message) -> bytes:
        self._checkNonce(ack, ATTR.ENROLLEE_NONCE, self.enrolleeNonce)
        self._checkNonce(ack, ATTR.REGISTRAR_NONCE, self.registrarNonce)
        return self._m2()

    def _m2(self) -> bytes:
        self._deriveKeys(self.enrolleeKey)
        self.state = "sentM2"
        return self._build(M2, self._nonces() + [(ATTR.UUID_R, self.me.uuid), (ATTR.PUBLIC_KEY, self.registrarKey)]
                           + self._description()
                           + [(ATTR.DEVICE_PASSWORD_ID, _u16(self.passwordId)),
                              (ATTR.OS_VERSION, _u32(self.me.osVersion))], authenticated=True)

    def _onM3(self, m3: Message) -> bytes:
        self._checkNonce(m3, ATTR.REGISTRAR_NONCE, self.registrarNonce)
        self._checkAuthenticator(m3)
        self.eHash1, self.eHash2 = m3.require(ATTR.E_HASH1), m3.require(ATTR.E_HASH2)
        self.rSecret1, self.rSecret2 = self.random(16), self.random(16)
        assert self.keys is not None
        settings = encryptSettings(self.keys, [(ATTR.R_SNONCE1, self.rSecret1)], self.random(16))
        self.state = "sentM4"
        return self._build(M4, [(ATTR.ENROLLEE_NONCE, self.enrolleeNonce),
                                (ATTR.R_HASH1, self._hash(self.rSecret1, self.psk1)),
                                (ATTR.R_HASH2, self._hash(self.rSecret2, self.psk2)),
                                (ATTR.ENCRYPTED_SETTINGS, settings)], authenticated=True)

    def _onM5(self, m5: Message) -> bytes:
        self._checkNonce(m5, ATTR.REGISTRAR_NONCE, self.registrarNonce)
        self._checkAuthenticator(m5)
        self._checkSecret(m5, ATTR.E_SNONCE1, self.eHash1, self.psk1, "first")
        assert self.keys is not None
        settings = encryptSettings(self.keys, [(ATTR.R_SNONCE2, self.rSecret2)], self.random(16))
        self.state = "sentM6"
        return self._build(M6, [(ATTR.ENROLLEE_NONCE, self.enrolleeNonce), (ATTR.ENCRYPTED_SETTINGS, settings)],
                           authenticated=True)

    def _onM7(self, m7: Message) -> bytes:
        self._checkNonce(m7, ATTR.REGISTRAR_NONCE, self.registrarNonce)
        self._checkAuthenticator(m7)
        self._checkSecret(m7, ATTR.E_SNONCE2, self.eHash2, self.psk2, "second")
        assert self.keys is not None
        credential = encodeAttributes([
            (ATTR.NETWORK_INDEX, _u8(1)),
            (ATTR.SSID, b"DeviceProtection"),
            (ATTR.AUTHENTICATION_TYPE, _u16(0x0001)),
            (ATTR.ENCRYPTION_TYPE, _u16(0x0001)),
            (ATTR.NETWORK_KEY, b""),
            (ATTR.MAC_ADDRESS, self.enrolleeMAC),
        ])
        settings = encryptSettings(self.keys, [(ATTR.CREDENTIAL, credential)], self.random(16))
        self.state = "sentM8"
        return self._build(M8, [(ATTR.ENROLLEE_NONCE, self.enrolleeNonce), (ATTR.ENCRYPTED_SETTINGS, settings)],
                           authenticated=True)

    def _onDone(self, done: Message) -> None:
        self._checkNonce(done, ATTR.ENROLLEE_NONCE, self.enrolleeNonce)
        self._checkNonce(done, ATTR.REGISTRAR_NONCE, self.registrarNonce)
        self.state = "done"
        return None


class Enrollee(_Side):
    """
    The enrollee side (a device being introduced to a control point).

    States:
     - C{idle}: before L{start};
     - C{sentM1}: waiting for M2D (the readiness gate) or M2;
     - C{sentM3}, C{sentM5}, C{sentM7}: waiting for M4, M6, M8;
     - C{done}: M8 checked, WSC_Done sent: the registrar proved it knows the
       device password (L{succeeded}); L{credential} holds M8's credential;
     - C{declined}: the gate said WSC_NACK (its button not pressed);
     - C{failed}: a message was wrong; the answer was a WSC_NACK.

    @param ready: for the gate: whether the device may go on now (its
        button was pressed within the walk time).
    @param expectedUUID: the UUID-R the registrar must announce (the CPID of
        the TLS client certificate), or C{None}.
    """

    _passwordMismatch = "the registrar does not know the {which} half of the device password"

    def __init__(self, me: DeviceAttributes, password: bytes = PUSH_BUTTON_PASSWORD,
                 passwordId: int = PASSWORD_ID_PUSH_BUTTON, *, ready: Callable[[], bool] = lambda: True,
                 expectedUUID: Optional[bytes] = None, keyPair: Optional[KeyPair] = None,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        super().__init__(me, password, passwordId, keyPair, random)
        self.ready = ready
        self.expectedUUID = expectedUUID
        self.state = "idle"
        self.rHash1 = self.rHash2 = b""
        self.eSecret1 = self.eSecret2 = b""
        self.credential: list[tuple[int, bytes]] = []

    @property
    def succeeded(self) -> bool:
        return self.state == "done"

    def start(self) -> bytes:
        """M1."""
        if self.state != "idle":
            raise RegistrationError("the run has started already")
        self.enrolleeNonce = self.random(16)
        self.enrolleeMAC = self.me.macAddress
        self.enrolleeKey = self.keyPair.public
        self.state = "sentM1"
        return self._build(M1, [
            (ATTR.UUID_E, self.me.uuid),
            (ATTR.MAC_ADDRESS, self.me.macAddress),
            (ATTR.ENROLLEE_NONCE, self.enrolleeNonce),
            (ATTR.PUBLIC_KEY, self.enrolleeKey),
            (ATTR.AUTHENTICATION_TYPE_FLAGS, _AUTH_TYPE_FLAGS),
            (ATTR.ENCRYPTION_TYPE_FLAGS, _ENCR_TYPE_FLAGS),
            (ATTR.CONNECTION_TYPE_FLAGS, _CONN_TYPE_FLAGS),
            (ATTR.CONFIG_METHODS, _u16(self.me.configMethods)),
            (ATTR.WI_FI_SIMPLE_CONFIGURATION_STATE, _WPS_STATE_NOT_CONFIGURED),
        ] + self.me.attributes() + [
            (ATTR.RF_BANDS, _RF_BANDS),
            (ATTR.ASSOCIATION_STATE, _ASSOCIATION_STATE),
            (ATTR.DEVICE_PASSWORD_ID, _u16(self.passwordId)),
            (ATTR.CONFIGURATION_ERROR, _u16(NO_ERROR)),
            (ATTR.OS_VERSION, _u32(self.me.osVersion)),
        ])

    def receive(self, data: bytes) -> bytes:
        """
        The registrar's message; returns the enrollee's answer (a WSC_NACK
        when the message was wrong: the state is then C{failed}).

        @raise RegistrationError: the run is not open (C{idle}, or over):
            nothing to answer with.
        """
        if self.state not in ("sentM1", "sentM3", "sentM5", "sentM7"):
            raise RegistrationError(f"no run in progress (state {self.state})", DEVICE_BUSY)
        try:
            return self._receive(self._parse(data))
        except RegistrationError as e:
            self._fail(e)
            self.failure = str(e)
            return self.nack(e.configError)

    failure = ""

    def _receive(self, message: Message) -> bytes:
        if message.type == WSC_NACK:
            self._checkNonce(message, ATTR.ENROLLEE_NONCE, self.enrolleeNonce)
            error = message.integer(ATTR.CONFIGURATION_ERROR)
            raise RegistrationError(f"the registrar ended the run: {CONFIG_ERRORS.get(error, error)}", error)
        expected = {"sentM1": (M2D, M2), "sentM3": (M4,), "sentM5": (M6,), "sentM7": (M8,)}[self.state]
        if message.type not in expected:
            raise RegistrationError(f"{message.name} where {'/'.join(MESSAGE_TYPES[t] for t in expected)} was due")
        return getattr(self, "_on" + MESSAGE_TYPES[message.type])(message)

    def _checkRegistrar(self, message: Message) -> None:
        self._checkNonce(message, ATTR.ENROLLEE_NONCE, self.enrolleeNonce)
        uuid = message.require(ATTR.UUID_R)
        if self.expectedUUID is not None and not hmac.compare_digest(uuid, self.expectedUUID):
            raise RegistrationError(f"{message.name}: UUID-R is not the CPID of the TLS client certificate", ROGUE)
        if self.registrarNonce and not hmac.compare_digest(message.require(ATTR.REGISTRAR_NONCE),
                                                           self.registrarNonce):
            raise RegistrationError(f"{message.name}: its Registrar Nonce changed within the run")
        self.registrarNonce = message.require(ATTR.REGISTRAR_NONCE)
        self.peerUUID = uuid

    def _onM2D(self, m2d: Message) -> bytes:
        self._checkRegistrar(m2d)
        self.last = m2d.raw
        if not self.ready():
            self.state = "declined"
            return self.nack(NO_ERROR)
        return self._build(WSC_ACK, self._nonces())

    def _onM2(self, m2: Message) -> bytes:
        self._checkRegistrar(m2)
        passwordId = m2.integer(ATTR.DEVICE_PASSWORD_ID)
        if passwordId != self.passwordId:
            raise RegistrationError(f"M2: Device Password ID {passwordId:#06x}, not {self.passwordId:#06x}",
                                    PASSWORD_FAILURE)
        if not self.ready():
            raise RegistrationError("M2 while the device is not ready (its button was not pressed)", NO_ERROR)
        self.registrarKey = m2.require(ATTR.PUBLIC_KEY)
        self._deriveKeys(self.registrarKey)
        self._checkAuthenticator(m2)
        self.eSecret1, self.eSecret2 = self.random(16), self.random(16)
        self.state = "sentM3"
        return self._build(M3, [(ATTR.REGISTRAR_NONCE, self.registrarNonce),
                                (ATTR.E_HASH1, self._hash(self.eSecret1, self.psk1)),
                                (ATTR.E_HASH2, self._hash(self.eSecret2, self.psk2))], authenticated=True)

    def _onM4(self, m4: Message) -> bytes:
        self._checkNonce(m4, ATTR.ENROLLEE_NONCE, self.enrolleeNonce)
        self._checkAuthenticator(m4)
        self.rHash1, self.rHash2 = m4.require(ATTR.R_HASH1), m4.require(ATTR.R_HASH2)
        self._checkSecret(m4, ATTR.R_SNONCE1, self.rHash1, self.psk1, "first")
        assert self.keys is not None
        settings = encryptSettings(self.keys, [(ATTR.E_SNONCE1, self.eSecret1)], self.random(16))
        self.state = "sentM5"
        return self._build(M5, [(ATTR.REGISTRAR_NONCE, self.registrarNonce), (ATTR.ENCRYPTED_SETTINGS, settings)],
                           authenticated=True)

    def _onM6(self, m6: Message) -> bytes:
        self._checkNonce(m6, ATTR.ENROLLEE_NONCE, self.enrolleeNonce)
        self._checkAuthenticator(m6)
        self._checkSecret(m6, ATTR.R_SNONCE2, self.rHash2, self.psk2, "second")
        assert self.keys is not None
        settings = encryptSettings(self.keys, [(ATTR.E_SNONCE2, self.eSecret2)], self.random(16))
        self.state = "sentM7"
        return self._build(M7, [(ATTR.REGISTRAR_NONCE, self.registrarNonce), (ATTR.ENCRYPTED_SETTINGS, settings)],
                           authenticated=True)

    def _onM8(self, m8: Message) -> bytes:
        self._checkNonce(m8, ATTR.ENROLLEE_NONCE, self.enrolleeNonce)
        self._checkAuthenticator(m8)
        settings = self._encrypted(m8)
        credential = _find(settings, ATTR.CREDENTIAL)
        if credential is None:
            raise RegistrationError("M8: no Credential in its encrypted settings")
        try:
            self.credential = decodeAttributes(credential)
        except WPSDecodeError as e:
            raise RegistrationError(f"M8: an unreadable Credential ({e})") from None
        self.state = "done"
        return self._build(WSC_DONE, self._nonces())
