"""
The UPnP control point: the proxier's eyes and hands on the LAN.

Sans-IO codecs (bytes in, objects out, and back; used by the simulated devices
of L{proxier.sim} for the device side too):

 - L{proxier.upnp.ssdp}: NOTIFY, M-SEARCH and search responses.
 - L{proxier.upnp.soap}: action envelopes and UPnPError faults.
 - L{proxier.upnp.xmlstring}: XML documents carried in string arguments.
 - L{proxier.upnp.cmsdoc}: what both ends share of the ConfigurationManagement documents.
 - L{proxier.upnp.gena}: event property sets and the GENA header fields.
 - L{proxier.upnp.description}: device descriptions and SCPDs.

On top of them, thin Twisted code with the reactor, clock and HTTP client
injected: the SSDP sockets and search rounds (L{proxier.upnp.discovery}), the
device tracker (L{proxier.upnp.tracker}, with L{proxier.upnp.admission}
deciding which new devices are described when), the description fetcher
(L{proxier.upnp.fetcher}), the SOAP action client (L{proxier.upnp.actions}),
and the GENA subscriptions and callback server (L{proxier.upnp.eventing}).
Under all of them, the LAN plumbing shared with the other protocols
(L{proxier.lan}): the interface list, the URL policy that keeps a forged
announcement from steering the proxier at anything but the device, and the
HTTP requester. DeviceProtection (TLS, roles, introduction) is the
subpackage L{proxier.upnp.dps}.

What a protocol plugin uses: L{proxier.upnp.controlpoint.ControlPoint} (the
service, made from the configuration), L{proxier.upnp.controlpoint.
IUPnPDeviceObserver} (what it is told), L{proxier.upnp.controlpoint.UPnPDevice}
(what it calls actions on), and L{proxier.upnp.settings.SECTION} (the
C{[upnp]} configuration keys to expose).
"""

__all__: list[str] = []
