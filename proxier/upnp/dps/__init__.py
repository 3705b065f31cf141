"""
DeviceProtection:1 (TR-330 §2.3, §2.4, §4.8): the control point's side of
securing UPnP DM devices, apart from the rest of the control point.

 - L{proxier.upnp.dps.codec}: identities (CPIDs), roles, the role-action
   tables and the XML documents DeviceProtection exchanges (sans-IO);
 - L{proxier.upnp.dps.wps}: the WPS registration protocol for the
   push-button introduction (sans-IO);
 - L{proxier.upnp.dps.cpidentity}: the proxier's own key and certificate,
   generated or configured;
 - L{proxier.upnp.dps.tls}: TLS towards devices, with their certificates
   pinned or chained to a CA;
 - L{proxier.upnp.dps.security}: per device, the secure description, the
   roles granted, the introduction and quarantine, used by
   L{proxier.upnp.controlpoint}.
"""

__all__: list[str] = []
