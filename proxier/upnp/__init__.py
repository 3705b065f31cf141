"""
The UPnP control point: the proxier's eyes and hands on the LAN.

Sans-IO codecs (bytes in, objects out, and back; used by the simulated devices
of L{proxier.sim} for the device side too):

 - L{proxier.upnp.ssdp}: NOTIFY, M-SEARCH and search responses.
 - L{proxier.upnp.soap}: action envelopes and UPnPError faults.
 - L{proxier.upnp.xmlstring}: XML documents carried in string arguments.
 - L{proxier.upnp.gena}: event property sets and the GENA header fields.
 - L{proxier.upnp.description}: device descriptions and SCPDs.

On top of them, thin Twisted code with the reactor, clock and HTTP client
injected: the SSDP listener and searcher, the device tracker, the description
fetcher, the SOAP action client, the GENA subscriber with its callback server,
the URL policy that keeps a forged announcement from steering the proxier at
anything but the device, and the L{ControlPoint<proxier.upnp.controlpoint>}
service that puts them together from the configuration.
"""

__all__: list[str] = []
