"""
The TR-330 proxy module: each UPnP Device Management device on the LAN
becomes one Virtual CWMP Device (TR-069 Amendment 5 Annex J).

 - C{errors}: TR-330 Table 2, UPnP errors → CWMP faults.
 - C{cmsxml}: the ConfigurationManagement XML documents, control-point side.
 - C{cmspaths}: CWMP paths ↔ CMS paths (TR-330 §4.6.1), instance numbers.
 - C{instances}: the durable UPnP → CWMP instance-number maps.
 - C{profile}: deciding to proxy (§4.1.1, §4.3.1): services, identity, models.
 - C{gate}: the one door every action to a device goes through (queue,
   concurrency, timeouts, failure counting, observers).
 - C{state}: what a Virtual CWMP Device keeps across restarts.
 - C{model}: the device's IDataModel over CMS (§4.6).
 - C{changes}: ConfigurationUpdate → "4 VALUE CHANGE" (Table 1).
 - C{device}: one Virtual CWMP Device (IProxiedDevice) and its life.
 - C{proxy}: the control point's observer that makes and feeds them.
 - C{settings}: the C{[upnp]} config section.
"""

__all__: list[str] = []
