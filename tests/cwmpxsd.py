"""
Validation of CWMP envelopes against the Broadband Forum schemas, for tests.

Every CWMP message a test makes the project emit goes through
L{assertValidCWMP}: the envelope as a whole, and each part the CWMP schema
defines on its own (the RPC element in the Body, the C{cwmp:Fault} in a SOAP
Fault's detail, every header element: a declared one must be valid, any
other must not carry C{mustUnderstand}) — see L{proxier.cwmp.schema}, which
the fake ACS uses too. Here the schemas are required: they are
C{../shared/ref/cwmp}, loaded once per process with every remote
C{schemaLocation} mapped to the local copies (C{../shared/ref/README.md});
nothing is fetched from the network.
"""

from __future__ import annotations

import os
from typing import Optional

from lxml import etree

from proxier.cwmp import schema as _schema
from proxier.cwmp.schema import CWMP_NAMESPACES, SOAP_ENV
from tests._helpers import SHARED

__all__ = ["assertValidCWMP", "validationErrors", "schemaFor", "SOAP_ENV", "CWMP_NAMESPACES", "REF"]

REF = os.path.join(SHARED, "ref", "cwmp")


def schemaFor(namespace: str) -> etree.XMLSchema:
    """The compiled schema for a CWMP namespace (loaded once per process)."""
    return _schema.schemaFor(namespace, REF)


def validationErrors(envelope: bytes) -> list[str]:
    """
    Every schema violation of C{envelope}, as readable lines; empty when it
    is a valid CWMP envelope whose RPC element, fault detail and headers are
    valid too.
    """
    return _schema.validationErrors(envelope, REF)


def assertValidCWMP(testCase: object, envelope: bytes, msg: Optional[str] = None) -> None:
    """
    Fail C{testCase} unless C{envelope} is a valid CWMP envelope (see
    L{validationErrors}).
    """
    errors = validationErrors(envelope)
    if errors:
        text = "\n  ".join(errors)
        shown = envelope[:4000].decode("utf-8", "replace")
        testCase.fail(f"{msg + ': ' if msg else ''}invalid CWMP envelope:\n  {text}\n{shown}")  # type: ignore[attr-defined]
