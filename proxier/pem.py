# -*- test-case-name: tests.test_pem,tests.test_cwmp_transport,tests.test_console_tls -*-
"""
PEM files for the TLS settings of every side: the certificate blocks of a
file (the ACS's CA bundle, the DeviceProtection identity's chain), one
reading tolerant of the text CA bundles carry between blocks; and a
certificate with its key (the client certificate towards the ACS, the
console's server certificate), read through Twisted's own loaders.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from proxier import deferredtls

__all__ = ["certificateBlocks", "readPEM", "loadCertificateAndKey", "TLSConfigError"]


class TLSConfigError(ValueError):
    """A CA file, certificate or key that cannot be used; the text names the file."""


def readPEM(path: str) -> bytes:
    """The file's first MiB. @raise TLSConfigError: naming the file it cannot read."""
    try:
        with open(path, "rb") as f:
            return f.read(1 << 20)
    except OSError as e:
        raise TLSConfigError(f"{path}: {e.strerror}") from None


def loadCertificateAndKey(certificateFile: str = "", keyFile: str = "") -> Optional[Any]:
    """
    The certificate of C{certificateFile} with the key of C{keyFile} (a
    L{twisted.internet.ssl.PrivateCertificate}), or C{None} when not configured.
    """
    if not certificateFile:
        return None
    pem = readPEM(certificateFile) + b"\n" + readPEM(keyFile)
    try:
        return deferredtls.ssl().PrivateCertificate.loadPEM(pem)
    except Exception as e:
        raise TLSConfigError(f"{certificateFile} / {keyFile}: unusable certificate or key ({e})") from None

_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def certificateBlocks(data: bytes) -> list[bytes]:
    """Each C{BEGIN CERTIFICATE} … C{END CERTIFICATE} block of C{data}, in order (none: an empty list)."""
    return [block + b"\n" for block in _BLOCK.findall(data)]
