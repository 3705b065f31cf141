# -*- test-case-name: tests.test_upnpdm_instances -*-
"""
UPnP instance numbers → CWMP instance numbers: UPnP DM's choices on the
map every proxied device keeps (L{proxier.proxy.instances.InstanceMap}),
per table (its CMS MultiInstancePath, parents' UPnP numbers included), the
native key being the UPnP instance number.

TR-330 §4.6.1: "UPnP data model instance numbers are 0 based, CWMP data
model instance numbers are 1 based." So:

 - an instance seen for the first time prefers its UPnP number plus one
   (a fresh device reads naturally: UPnP 0, 1, 2 → CWMP 1, 2, 3);
 - an instance that disappeared (deleted by the ACS, or missing from a
   complete listing of its table) is retired — its CWMP number is never
   given again, even if the device later reuses its UPnP number — and the
   tables below it (C{<table><upnp>/...}) are forgotten;
 - a factory reset of the device starts every table afresh (the ACS is told
   "0 BOOTSTRAP" and forgets the device's instances too).

L{proxier.upnpdm.state} saves the map when it changed.
"""

from __future__ import annotations

from typing import Optional

from proxier.proxy import instances

__all__ = ["UPnPInstances"]


class UPnPInstances(instances.InstanceMap):
    """The instance numbers of one UPnP DM device, keyed by UPnP instance number."""

    def assign(self, table: str, key: instances.Key, preferred: Optional[int] = None) -> int:
        """The CWMP number of UPnP instance C{key} (an int), given now if new: C{key + 1} when it is free."""
        return super().assign(table, key, key + 1 if preferred is None else preferred)  # type: ignore[operator]

    def retire(self, table: str, key: instances.Key, below: Optional[str] = None) -> Optional[int]:
        """UPnP instance C{key} is gone: its number is never given again, the tables below it are forgotten."""
        return super().retire(table, key, f"{table}{key}/" if below is None else below)
