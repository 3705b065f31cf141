"""
proxier: a CWMP (TR-069) CPE Proxier.

It discovers devices on the LAN that do not speak CWMP — UPnP Device
Management devices first (Broadband Forum TR-330), printers next — and
presents each one to the operator's ACS as a Virtual CWMP Device (TR-069
Amendment 5 Annex J). See C{README.rst} and C{etc/proxier.conf}.
"""

from proxier._version import __version__

__all__ = ["__version__"]
