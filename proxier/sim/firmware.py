# -*- test-case-name: tests.test_sim_firmware -*-
"""
The firmware image a simulated device accepts from SoftwareManagement:2
Update, so that a test (or the demo's file server) can offer a good image, a
corrupted one, or one that needs another version first.

An image is one header line and a payload::

    PROXIER-SIM-FIRMWARE/1 version=2.0.0 requires=1.0.0 sha256=<hex of payload>\\n
    <payload bytes>

C{version} is required; C{requires} (the version that must be installed
first) and C{sha256} (checked against the payload) are optional.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Optional

__all__ = ["MAGIC", "FirmwareImage", "CorruptImage", "makeImage", "parseImage"]

MAGIC = b"PROXIER-SIM-FIRMWARE/1"
_MAX_HEADER = 512
_VERSION = re.compile(r"^[A-Za-z0-9._+-]{1,64}$")


class CorruptImage(ValueError):
    """Not an image the device can install; the text says why."""


@dataclass(frozen=True)
class FirmwareImage:
    version: str
    requires: Optional[str]
    payload: bytes


def makeImage(
    version: str, *, requires: Optional[str] = None, payload: bytes = b"", corrupt: bool = False,
    checksum: bool = True,
) -> bytes:
    """
    An image of C{version}. C{corrupt} flips a payload byte after the
    checksum was taken (the device then reports Error_CorruptedFile).
    """
    if not _VERSION.match(version) or (requires is not None and not _VERSION.match(requires)):
        raise ValueError("versions are 1-64 letters, digits and ._+-")
    payload = payload or f"simulated firmware {version}\n".encode("ascii") * 4
    header = MAGIC + b" version=" + version.encode("ascii")
    if requires is not None:
        header += b" requires=" + requires.encode("ascii")
    if checksum:
        header += b" sha256=" + hashlib.sha256(payload).hexdigest().encode("ascii")
    if corrupt:
        payload = bytes([payload[0] ^ 0xFF]) + payload[1:]
    return header + b"\n" + payload


def parseImage(data: bytes) -> FirmwareImage:
    """
    Read an image.

    @raise CorruptImage: no header, an unknown format, a bad field, or a
        payload that does not match its checksum.
    """
    newline = data.find(b"\n", 0, _MAX_HEADER)
    if newline == -1:
        raise CorruptImage("no firmware header")
    words = data[:newline].split()
    if not words or words[0] != MAGIC:
        raise CorruptImage("not a proxier-sim firmware image")
    fields: dict[str, str] = {}
    for word in words[1:]:
        key, sep, value = word.decode("ascii", "replace").partition("=")
        if not sep or key in fields:
            raise CorruptImage(f"bad header field {word[:40]!r}")
        fields[key] = value
    version = fields.get("version", "")
    if not _VERSION.match(version):
        raise CorruptImage("header without a valid version")
    requires = fields.get("requires")
    if requires is not None and not _VERSION.match(requires):
        raise CorruptImage("header with an invalid 'requires'")
    payload = data[newline + 1:]
    digest = fields.get("sha256")
    if digest is not None and hashlib.sha256(payload).hexdigest() != digest.lower():
        raise CorruptImage("payload does not match its sha256")
    return FirmwareImage(version, requires, payload)
