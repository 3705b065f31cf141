"""
Fuzz DeviceProtection (L{proxier.upnp.dps.codec}, L{proxier.upnp.dps.wps}): the XML
documents a device returns (ACL, Identity, IdentityList,
SupportedProtocols, role lists) are read or refused with L{codec.DPSError},
opening no file and no connection; a WPS registration message from a
device is parsed and answered by a registrar, or refused with
L{wps.WPSDecodeError} or L{wps.RegistrationError}.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.upnp.dps import codec, wps
from tests.fuzz._harness import XML_TOKENS, Target, assertFuzzClean

_XML_TOKENS = XML_TOKENS + (
    b"<Identities>", b"<User>", b"<CP>", b"<ID>", b"<Name>", b"<Alias>", b"<RoleList>", b"<Roles>", b"<Role>",
    b"<Introduction>", b"<Login>", b"Admin Basic Public", b"Admin", b"  ", b"x" * 300,
    b'xmlns="urn:schemas-upnp-org:gw:DeviceProtection"', b"00000000-0000-5000-8000-000000000000",
)
# WPS type-length-value: lengths that lie, message types, attribute types.
_WPS_TOKENS = (
    b"\x10\x22\x00\x01\x04", b"\x10\x22\x00\x01\x05", b"\x10\x22\x00\x01\xff", b"\x10\x22\x00\x00",
    b"\x10\x05\x00\x08", b"\x10\x32\x00\xc0", b"\x10\x32\x00\x00", b"\x10\x1a\x00\x10", b"\x10\x47\x00\x10",
    b"\xff\xff", b"\x00\x00", b"\x00\x04", b"\x10\x18\x00\x20", b"\x10\x4a\x00\x01\x10",
)


def parseDocument(data: bytes) -> None:
    """Every DeviceProtection document reader; L{codec.DPSError} when none accepts it."""
    accepted = 0
    for reader in (codec.parseACL, codec.parseIdentity, codec.parseIdentityList, codec.parseSupportedProtocols):
        try:
            reader(data)
        except codec.DPSError:
            continue
        accepted += 1
    try:
        codec.parseRoleList(data.decode("utf-8", "replace"))
        accepted += 1
    except codec.DPSError:
        pass
    if not accepted:
        raise codec.DPSError("no reader accepted it")


def _registrar():  # type: ignore[no-untyped-def]
    from tests.test_dps_wps import _counter, _device

    return wps.Registrar(_device("proxier", 0xCC, 0x04), random=_counter(2000))


def registrationMessage(data: bytes) -> None:
    """L{wps.Message.parse}; an M1 then goes to a fresh registrar, as a device's first message does."""
    message = wps.Message.parse(data)
    message.name
    message.withoutAuthenticator
    if message.type == wps.M1:
        _registrar().receive(data)


def _documentSeeds() -> list[bytes]:
    from tests.test_dps_codec import REFERENCE_ACL, REFERENCE_PROTOCOLS

    acl = codec.parseACL(REFERENCE_ACL)
    return [
        REFERENCE_ACL,
        REFERENCE_PROTOCOLS.encode(),
        codec.formatACL(acl).encode(),
        codec.formatIdentity(cpidText="6ba7b810-9dad-51d1-80b4-00c04fd430c8").encode(),
        codec.formatIdentity(userName="Administrator").encode(),
        codec.formatIdentityList(acl.controlPoints, acl.users).encode(),
        b"Admin Basic Public",
    ]


def _messageSeeds() -> list[bytes]:
    from tests.test_dps_wps import IWD_M1, _counter, _device, _run

    enrollee = wps.Enrollee(_device("device", 0xEE, 0x02), random=_counter(1000))
    return [IWD_M1] + _run(_registrar(), enrollee)


TARGETS = [
    Target("dps-documents", __name__, parseDocument, (codec.DPSError,), _documentSeeds, _XML_TOKENS, xml=True),
    Target("wps", __name__, registrationMessage, (wps.WPSDecodeError, wps.RegistrationError), _messageSeeds,
           _WPS_TOKENS),
]


class DPSFuzzTests(unittest.TestCase):
    def test_documents(self) -> None:
        """
        Mutated ACL, Identity, IdentityList, SupportedProtocols and role
        lists are read or refused with L{codec.DPSError}, within a second
        each, opening no file and no connection.
        """
        assertFuzzClean(self, TARGETS[0])

    def test_registrationMessages(self) -> None:
        """
        Mutated WPS messages (M1 to M8 of a run, iwd's captured M1) are
        parsed (an M1 answered by a registrar), or refused with
        L{wps.WPSDecodeError} or L{wps.RegistrationError}, within a second
        each.
        """
        assertFuzzClean(self, TARGETS[1])
