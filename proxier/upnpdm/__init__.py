"""
The TR-330 proxy module: each UPnP Device Management device on the LAN
becomes one Virtual CWMP Device (TR-069 Amendment 5 Annex J).

 - C{errors}: TR-330 Table 2, UPnP errors → CWMP faults.
 - C{cmsxml}: the ConfigurationManagement XML documents, control-point side.
 - C{cmspaths}: CWMP paths ↔ CMS paths (TR-330 §4.6.1), instance numbers.
 - C{instances}: the durable UPnP → CWMP instance-number maps.
 - C{profile}: deciding to proxy (§4.1.1, §4.3.1): services, identity, models.
 - C{state}: what a Virtual CWMP Device keeps across restarts.
 - C{model}: the device's IDataModel over CMS (§4.6), the facade composing:
   C{cmsschema} (what the device's answers taught: Type, Access, kinds,
   EventOnChange), C{cmsnames} (CWMP ↔ CMS names, instance numbers,
   aliases), C{cmsrouting} (device, Common Objects or proxier-held),
   C{cmswalk} (tree walks), C{cmsvalues} (typing), C{cmslisting}
   (GetParameterNames), C{cmswrites} (SetParameterValues), C{cmsattributes}
   (Get/SetParameterAttributes), C{cmsobjects} (AddObject/DeleteObject).
 - C{changes}: ConfigurationUpdate → "4 VALUE CHANGE" (Table 1).
 - C{device}: one Virtual CWMP Device (IProxiedDevice) and its life.
 - C{proxy}: the control point's observer that makes and feeds them.
 - C{settings}: the C{[upnp]} config section.

BasicManagement and SoftwareManagement behind CWMP (§4.3.2, §4.4, §4.5, §4.7):

 - C{management}: which of the parts below a device gets, and its news to them.
 - C{link}: what those parts ask of the Virtual CWMP Device.
 - C{bmsdiagnostics}: the core's IPPing, TraceRoute, NSLookupDiagnostics
   (L{proxier.proxy.diagnostics}) run as BMS tests: the BMS tables and
   parsers, and the test runner.
 - C{logs}: VendorLogFile from the BMS logs, and their Upload.
 - C{firmware}: Download of firmware over SMS Update, Table 3, autonomous updates.
 - C{httpfiles}: reading a log from the device, sending it to the ACS's server.
"""

__all__: list[str] = []
