# -*- test-case-name: tests.test_printer_plugin -*-
"""
The IPP printer protocol plugin (PRINTERS.md): each printer listed in
C{[printer] printers} presented to the ACS as a Virtual CWMP Device whose
C{Device.Services.PrintService.1.} follows the PWG Semantic Model.

TR-181 lists no ProxyProtocol nor DiscoveryProtocol for IPP, static
entries or DNS-SD: all are TR-106 §3.3 vendor values (C{X_<OUI>_IPP},
C{X_<OUI>_Static}, C{X_<OUI>_DNS-SD} for the printers C{[printer]
discovery = dns-sd} finds).

With C{[printer] embedded} set, the proxier runs on that printer as its own
CWMP CPE instead (PRINTERS.md §11): the service made is then an
L{IEmbeddedDevice<proxier.interfaces.IEmbeddedDevice>}.

Kept light: the plugin system imports this module to list protocols; the
printer's model (its generated PrintService tree, lxml) and service are
imported when the protocol is enabled, not to list it (issue 19).
"""

from __future__ import annotations

from typing import Any

from twisted.plugin import IPlugin
from zope.interface import implementer

from proxier.interfaces import IProxyProtocol
from proxier.printer.settings import (
    DISCOVERY_PROTOCOL,
    DNS_SD_DISCOVERY_PROTOCOL,
    PROXY_PROTOCOL,
    SECTION,
    SECTION_NAME,
    SNMP_DISCOVERY_PROTOCOL,
    SNMP_PROXY_PROTOCOL,
)


@implementer(IPlugin, IProxyProtocol)
class PrinterProtocol:
    """C{[protocols] enabled = X_000000_IPP}; its keys are the C{[printer]} section."""

    name = PROXY_PROTOCOL
    otherProxyProtocols = (SNMP_PROXY_PROTOCOL,)  # a printer that speaks only SNMP
    discoveryProtocol = (DISCOVERY_PROTOCOL, DNS_SD_DISCOVERY_PROTOCOL, SNMP_DISCOVERY_PROTOCOL)
    configSection = SECTION

    def embeddedObjects(self, config: Any) -> Any:
        """
        C{[printer] mechanism = embedded} / C{both}: each printer a
        C{Device.Services.PrintService.{i}.} row of the proxier's own tree
        (TR-069 Annex J.3, L{proxier.proxy.embeddedobjects}).
        """
        from proxier.printer.model import DATA_MODEL, SERVICE_TABLE
        from proxier.proxy.embeddedobjects import EmbeddedObjectsSpec

        return EmbeddedObjectsSpec(SERVICE_TABLE, (DATA_MODEL,))

    def makeService(self, context: Any) -> Any:
        from proxier.printer.proxy import EmbeddedPrinterService, PrinterService

        if context.config[SECTION_NAME]["embedded"]:
            return EmbeddedPrinterService(context)
        return PrinterService(context)


printer = PrinterProtocol()
