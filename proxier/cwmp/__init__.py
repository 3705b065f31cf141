"""
The CPE side of CWMP (TR-069): the SOAP codec, sessions, the HTTP transport
to the ACS, retries and scheduled informs, the event queue, and the
Connection Request server. An endpoint is one CWMP identity; it asks an
L{IDataModel<proxier.interfaces.IDataModel>} what every parameter means.

 - C{messages}, C{codec}: every RPC of TR-069 Amendment 5 as value objects,
   and their SOAP encoding (sans-IO).
 - C{session}: one CWMP session, CPE side, as a sans-IO state machine.
 - C{transferfaults}: the TransferComplete FaultCodes each CWMP namespace
   allows, and what is sent for one the ACS's namespace lacks.
 - C{transport}, C{tls}: the POSTs of one session to the ACS (cookies,
   redirects, authentication with L{proxier.httpauth}, timeouts, caps),
   HTTPS and the session's own TCP connection.
 - C{retry}, C{events}: when to try again; what an endpoint owes the ACS,
   durably.
 - C{endpoint}: one CPE identity, its sessions, and its answers from its
   data model.
 - C{connreq}: the Connection Request server of all endpoints.
 - C{service}: the CWMP part of the service tree (one endpoint per device).
 - C{settings}: an endpoint's ManagementServer settings.
 - C{fakeacs}: a scriptable ACS for the tests and the demo, as strict as
   GenieACS; C{schema}: validation against the BBF CWMP schemas, when this
   machine has them.
"""

__all__: list[str] = []
