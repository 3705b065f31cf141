"""
The certificate blocks of a PEM file, for the TLS settings of both sides
(the ACS's CA bundle, the DeviceProtection identity's chain): one reading,
tolerant of the text CA bundles carry between blocks.
"""

from __future__ import annotations

import re

__all__ = ["certificateBlocks"]

_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def certificateBlocks(data: bytes) -> list[bytes]:
    """Each C{BEGIN CERTIFICATE} … C{END CERTIFICATE} block of C{data}, in order (none: an empty list)."""
    return [block + b"\n" for block in _BLOCK.findall(data)]
