"""The C{proxier} command of twistd and C{python -m twisted}; see L{proxier.tap}."""

from twisted.application.service import ServiceMaker

proxier = ServiceMaker(
    "CWMP CPE Proxier",
    "proxier.tap",
    "Present LAN devices (UPnP DM, printers) to an ACS as Virtual CWMP Devices (TR-069 Annex J, TR-330).",
    "proxier",
)
