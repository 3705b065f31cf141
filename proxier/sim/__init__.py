"""
Simulated UPnP Device Management devices, for the demo, the tests and the
benchmarks.

Each simulated device is a UPnP root device of type ManageableDevice:2 with
the three UPnP DM services — BasicManagement:2, ConfigurationManagement:2 and
SoftwareManagement:2 — behaving as the UPnP DM specifications say and
exhibiting every behaviour TR-330 asks a CPE Proxier to map (its Tables 1, 2
and 3). One process can run one device or a thousand (L{proxier.sim.fleet}).

The device logic (the CMS data-model tree, BMS tests and logs, SMS
operations) is sans-IO; the Twisted parts (SSDP, HTTP, GENA delivery) are
thin and take their reactor, clock and HTTP client as arguments.
"""

__all__: list[str] = []
