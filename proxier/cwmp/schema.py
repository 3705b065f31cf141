# -*- test-case-name: tests.test_cwmp_schema -*-
"""
Validation of CWMP envelopes against the Broadband Forum schemas: what a
strict ACS checks of every message it receives, and what the tests check of
every message the proxier emits (C{tests/cwmpxsd.py}).

The SOAP envelope schema validates the Body (and a Fault's C{detail}) and
the Header laxly, so besides the envelope as a whole, each part the CWMP
schema defines is validated on its own, as the root of a document of its
own: the RPC element in the Body, the C{cwmp:Fault} in a SOAP Fault's detail,
and every header element. A header element the schema declares
(C{cwmp:ID}, C{cwmp:SessionTimeout}, ...) must be valid; any other (the
lower-case C{cwmp:sessionTimeout} GenieACS reads, the deprecated
C{cwmp:NoMoreRequests}, a foreign one) is allowed by the lax Header rule only
without C{mustUnderstand} (SOAP 1.1 §4.2.3: a receiver that does not know a
header marked so must fault).

The schemas are not part of the product: they are the reference copies in
C{../shared/ref/cwmp} beside a source checkout (or the directory named by the
C{PROXIER_CWMP_SCHEMAS} environment variable) — C{cwmp-1-4.xsd} for the
namespace C{urn:dslforum-org:cwmp-1-2} (which also serves protocol versions
1.2 to 1.4), C{cwmp-1-0.xsd} and C{cwmp-1-1.xsd} for the older namespaces.
They are loaded once per process and directory, with a resolver that maps
every remote C{schemaLocation} to the local copies; nothing is fetched from
the network. L{schemaDirectory} says whether they are there.
"""

from __future__ import annotations

import copy
import os
from typing import Optional

from lxml import etree

from proxier import xmlsafe

__all__ = ["validationErrors", "schemaFor", "schemaDirectory", "InvalidCWMP", "SOAP_ENV", "CWMP_NAMESPACES"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"

# Which schema file validates which CWMP namespace.
CWMP_NAMESPACES = {
    "urn:dslforum-org:cwmp-1-0": "cwmp-1-0.xsd",
    "urn:dslforum-org:cwmp-1-1": "cwmp-1-1.xsd",
    "urn:dslforum-org:cwmp-1-2": "cwmp-1-4.xsd",
}

_BBF = ("http://www.broadband-forum.org/cwmp/", "https://www.broadband-forum.org/cwmp/")
_MUST_UNDERSTAND = f"{{{SOAP_ENV}}}mustUnderstand"
_CHECKOUT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))), "shared", "ref", "cwmp")


class InvalidCWMP(ValueError):
    """An envelope the schemas refuse; C{errors} lists why, one readable line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid CWMP envelope: " + "; ".join(errors))
        self.errors = errors


_found: dict[str, Optional[str]] = {}


def schemaDirectory() -> Optional[str]:
    """
    The directory of the BBF CWMP schemas, or C{None} when they are not on
    this machine; looked for once per value of C{PROXIER_CWMP_SCHEMAS}, so
    that validating a message touches no file once the schemas are loaded.
    """
    wanted = os.environ.get("PROXIER_CWMP_SCHEMAS", "")
    if wanted not in _found:
        _found[wanted] = next(
            (candidate for candidate in (wanted, _CHECKOUT)
             if candidate and os.path.isfile(os.path.join(candidate, CWMP_NAMESPACES["urn:dslforum-org:cwmp-1-2"]))),
            None)
    return _found[wanted]


class _LocalResolver(etree.Resolver):
    def __init__(self, directory: str) -> None:
        super().__init__()
        self._directory = directory
        self._map = {
            SOAP_ENV: os.path.join(directory, "soap", "soap-envelope.xsd"),
            SOAP_ENC: os.path.join(directory, "soap", "soap-encoding.xsd"),
        }

    def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def,override]
        if url in self._map:
            return self.resolve_filename(self._map[url], context)
        for prefix in _BBF:
            if url.startswith(prefix):
                return self.resolve_filename(os.path.join(self._directory, url[len(prefix):]), context)
        return None


_schemas: dict[tuple[str, str], etree.XMLSchema] = {}


def schemaFor(namespace: str, directory: Optional[str] = None) -> etree.XMLSchema:
    """
    The compiled schema for a CWMP namespace (loaded once per process).

    @raise LookupError: when the schemas are not on this machine.
    """
    directory = directory or schemaDirectory()
    if directory is None:
        raise LookupError("the BBF CWMP schemas are not on this machine (set PROXIER_CWMP_SCHEMAS)")
    key = (directory, namespace)
    if key not in _schemas:
        parser = etree.XMLParser(no_network=True)
        parser.resolvers.add(_LocalResolver(directory))
        tree = etree.parse(os.path.join(directory, CWMP_NAMESPACES[namespace]), parser)
        _schemas[key] = etree.XMLSchema(tree)
    return _schemas[key]


def _asDocument(element: etree._Element) -> etree._ElementTree:
    """
    A copy of C{element} as the root of a document of its own, declaring every
    namespace in scope where it was (a QName in an attribute value, such as
    C{xsi:type="xsd:string"}, needs its prefix declared).
    """
    root = etree.Element(element.tag, nsmap=element.nsmap)
    for name, value in element.attrib.items():
        root.set(name, value)
    root.text = element.text
    for child in element:
        root.append(copy.deepcopy(child))
    return etree.ElementTree(root)


def _check(schema: etree.XMLSchema, doc: etree._ElementTree, what: str, errors: list[str]) -> None:
    if not schema.validate(doc):
        for e in schema.error_log:
            errors.append(f"{what}: line {e.line}: {e.message}")


def _checkHeader(schema: etree.XMLSchema, child: etree._Element, errors: list[str]) -> None:
    """A declared header element must be valid; any other must not ask to be understood."""
    name = etree.QName(child)
    doc = _asDocument(child)
    if schema.validate(doc):
        return
    log = list(schema.error_log)
    if all(e.type == etree.ErrorTypes.SCHEMAV_CVC_ELT_1 for e in log):  # no global declaration: not declared
        mustUnderstand = (child.get(_MUST_UNDERSTAND) or "").strip()
        if mustUnderstand in ("1", "true"):
            errors.append(f"header {name.localname} ({name.namespace}): declared by no schema, yet "
                          f"mustUnderstand={mustUnderstand!r}")
        return
    for e in log:
        errors.append(f"header {name.localname}: line {e.line}: {e.message}")


def validationErrors(envelope: bytes, directory: Optional[str] = None) -> list[str]:
    """
    Every schema violation of C{envelope}, as readable lines; empty when it
    is a valid CWMP envelope whose RPC element, fault detail and headers are
    valid too.

    @raise LookupError: when the schemas are not on this machine.
    """
    try:
        root = xmlsafe.parse(envelope)
    except xmlsafe.XMLRejected as e:
        return [f"refused: {e}"]
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        return [f"root element is {root.tag}, not a SOAP 1.1 Envelope"]
    namespaces = {e.tag.split("}")[0][1:] for e in root.iter()
                  if isinstance(e.tag, str) and e.tag.startswith("{urn:dslforum-org:cwmp-")}
    unknown = namespaces - set(CWMP_NAMESPACES)
    if unknown:
        return [f"CWMP namespace(s) without a schema: {sorted(unknown)}"]
    if len(namespaces) > 1:
        return [f"more than one CWMP namespace in one envelope: {sorted(namespaces)}"]
    namespace = namespaces.pop() if namespaces else "urn:dslforum-org:cwmp-1-2"
    schema = schemaFor(namespace, directory)
    errors: list[str] = []
    _check(schema, etree.ElementTree(root), "envelope", errors)
    header = root.find(f"{{{SOAP_ENV}}}Header")
    if header is not None:
        for child in header:
            if isinstance(child.tag, str):
                _checkHeader(schema, child, errors)
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None:
        errors.append("no SOAP Body")
        return errors
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) > 1:
        errors.append(f"{len(children)} elements in the Body; CWMP sends one")
    for child in children:
        if child.tag == f"{{{SOAP_ENV}}}Fault":
            detailFault = child.find(f"detail/{{{namespace}}}Fault")
            if detailFault is None:
                errors.append("SOAP Fault without a cwmp:Fault detail")
            else:
                _check(schema, _asDocument(detailFault), "cwmp:Fault detail", errors)
        elif child.tag.startswith(f"{{{namespace}}}"):
            _check(schema, _asDocument(child), f"RPC {etree.QName(child).localname}", errors)
        else:
            errors.append(f"Body element {child.tag} is neither a CWMP RPC nor a SOAP Fault")
    return errors
