"""
The CPE side of CWMP (TR-069): the SOAP codec, sessions, the HTTP transport
to the ACS, retries and scheduled informs, the event queue, and the
Connection Request server. An endpoint is one CWMP identity; it asks an
L{IDataModel<proxier.interfaces.IDataModel>} what every parameter means.
"""

__all__: list[str] = []
