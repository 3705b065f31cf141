"""
The local console (issue 15): a web page and a JSON API served by the
proxier on loopback or the LAN side, showing the proxier and every Virtual
CWMP Device through the shared interfaces, with a parameter browser whose
writes are reported to the ACS as any change not its own.

    ConsoleService (server.py)   the [console] section, the bind rule, the port
      └── ConsoleRoot            Host check, Digest, the page, /api/...
            └── ConsoleAPI (api.py)  JSON over a ConsoleSource (the service tree)
"""

__all__: list[str] = []
