# -*- test-case-name: tests.test_upnpdm_plugin -*-
"""
The UPnP-DM protocol plugin (TR-330): UPnP Device Management devices on the
LAN, each presented to the ACS as a Virtual CWMP Device — or, with
C{[upnp] mechanism = embedded} (or C{both}), as a C{Device.X_<OUI>_UPnPDM.{i}.}
row of the proxier's own tree (TR-069 Annex J.3, L{proxier.upnpdm.embedded}),
the OUI the proxier's own C{[device] oui}: its C{embeddedObjects} is a
function of the config.

Kept light: the plugin system imports this module to list protocols; the
proxy module itself is imported when the service is made.
"""

from __future__ import annotations

from typing import Any

from twisted.plugin import IPlugin
from zope.interface import implementer

from proxier.interfaces import IProxyProtocol
from proxier.upnpdm.settings import SECTION


@implementer(IPlugin, IProxyProtocol)
class UPnPDMProtocol:
    """C{[protocols] enabled = UPnP-DM}; its keys are the C{[upnp]} section."""

    name = "UPnP-DM"  # TR-181 ManagementServer.VirtualDevice.{i}.ProxyProtocol
    discoveryProtocol = "UPnP"
    configSection = SECTION

    def embeddedObjects(self, config: Any) -> Any:
        """The vendor table of the proxier's own tree its devices are rows of (an EmbeddedObjectsSpec)."""
        from proxier.upnpdm.embedded import specOf

        return specOf(config)

    def makeService(self, context: Any) -> Any:
        from proxier.upnpdm.proxy import UPnPDMService

        return UPnPDMService(context)


upnpdm = UPnPDMProtocol()
