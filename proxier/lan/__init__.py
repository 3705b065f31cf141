"""
LAN plumbing any protocol that reaches devices on the LAN uses (UPnP today,
IPP and SNMP next), with no protocol knowledge of its own:

 - L{proxier.lan.netif}: the host's interfaces and their subnets, and which
   of them are the LAN (not the one holding the default route);
 - L{proxier.lan.urlpolicy}: which URLs taken from a device may be reached,
   checked against where the device was heard, so that a forged
   announcement cannot steer the proxier at anything but the device;
 - L{proxier.lan.httpclient}: one HTTP request to a device, with a deadline,
   a body cap and redirects checked again by the policy;
 - L{proxier.lan.keepalive}: the connections to devices kept alive between
   requests, bounded, and given up for a device that mishandles keep-alive.

The hosts the proxier reaches on the ACS's behalf (an Upload's file server, a
redirect in a session) are the WAN side's concern: L{proxier.outbound}.
"""

__all__: list[str] = []
