"""
Validation of CWMP envelopes against the Broadband Forum schemas, for tests.

Every CWMP message a test makes the project emit goes through
L{assertValidCWMP}. The SOAP envelope schema validates the Body (and a
Fault's C{detail}) laxly, so besides the envelope as a whole, each part the
CWMP schema defines is validated on its own, as the root of a document of its
own: the RPC element in the Body, the C{cwmp:Fault} in a SOAP Fault's detail,
and every C{cwmp:*} header element.

The schemas are C{../shared/ref/cwmp/cwmp-1-4.xsd} (namespace
C{urn:dslforum-org:cwmp-1-2}, which also serves protocol versions 1.2 to 1.4)
and, for envelopes answering an ACS that spoke an older namespace,
C{cwmp-1-0.xsd} and C{cwmp-1-1.xsd}. They are loaded once per process with a
resolver that maps every remote C{schemaLocation} to the local copies
(C{../shared/ref/README.md}); nothing is fetched from the network.
"""

from __future__ import annotations

import copy
import os
from typing import Optional

from lxml import etree

from tests._helpers import SHARED

__all__ = ["assertValidCWMP", "validationErrors", "schemaFor", "SOAP_ENV", "CWMP_NAMESPACES"]

REF = os.path.join(SHARED, "ref", "cwmp") + os.sep
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"

# Which schema file validates which CWMP namespace.
CWMP_NAMESPACES = {
    "urn:dslforum-org:cwmp-1-0": "cwmp-1-0.xsd",
    "urn:dslforum-org:cwmp-1-1": "cwmp-1-1.xsd",
    "urn:dslforum-org:cwmp-1-2": "cwmp-1-4.xsd",
}

_MAP = {
    SOAP_ENV: REF + "soap/soap-envelope.xsd",
    SOAP_ENC: REF + "soap/soap-encoding.xsd",
}
_BBF = ("http://www.broadband-forum.org/cwmp/", "https://www.broadband-forum.org/cwmp/")


class _LocalResolver(etree.Resolver):
    def resolve(self, url, pubid, context):  # type: ignore[override]
        if url in _MAP:
            return self.resolve_filename(_MAP[url], context)
        for prefix in _BBF:
            if url.startswith(prefix):
                return self.resolve_filename(REF + url[len(prefix):], context)
        return None


_schemas: dict[str, etree.XMLSchema] = {}


def schemaFor(namespace: str) -> etree.XMLSchema:
    """The compiled schema for a CWMP namespace (loaded once per process)."""
    if namespace not in _schemas:
        parser = etree.XMLParser(no_network=True)
        parser.resolvers.add(_LocalResolver())
        tree = etree.parse(REF + CWMP_NAMESPACES[namespace], parser)
        _schemas[namespace] = etree.XMLSchema(tree)
    return _schemas[namespace]


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


def validationErrors(envelope: bytes) -> list[str]:
    """
    Every schema violation of C{envelope}, as readable lines; empty when it
    is a valid CWMP envelope whose RPC element, fault detail and CWMP headers
    are valid too.
    """
    try:
        root = etree.fromstring(envelope, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        return [f"not well-formed: {e}"]
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        return [f"root element is {root.tag}, not a SOAP 1.1 Envelope"]
    namespaces = {e.tag.split("}")[0][1:] for e in root.iter() if isinstance(e.tag, str) and e.tag.startswith("{urn:dslforum-org:cwmp-")}
    unknown = namespaces - set(CWMP_NAMESPACES)
    if unknown:
        return [f"CWMP namespace(s) without a schema: {sorted(unknown)}"]
    if len(namespaces) > 1:
        return [f"more than one CWMP namespace in one envelope: {sorted(namespaces)}"]
    namespace = namespaces.pop() if namespaces else "urn:dslforum-org:cwmp-1-2"
    schema = schemaFor(namespace)
    errors: list[str] = []
    _check(schema, etree.ElementTree(root), "envelope", errors)
    header = root.find(f"{{{SOAP_ENV}}}Header")
    if header is not None:
        for child in header:
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{namespace}}}"):
                local = etree.QName(child).localname
                if local in _UNDECLARED_HEADERS:
                    continue
                _check(schema, _asDocument(child), f"header {local}", errors)
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


# Header elements CWMP peers use that no BBF schema declares: GenieACS reads
# the session timeout as lower-case "sessionTimeout" (the schema names it
# SessionTimeout), and NoMoreRequests (TR-069 before Amendment 3, deprecated)
# is in no published schema. The envelope schema accepts them (lax Header).
_UNDECLARED_HEADERS = frozenset({"sessionTimeout", "NoMoreRequests"})


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
