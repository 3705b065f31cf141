"""
What every proxied device needs, whatever its protocol (UPnP DM today, IPP
printers next), written once; a protocol package such as L{proxier.upnpdm}
keeps only the translation between CWMP and its device's protocol:

 - L{proxier.proxy.device}: the generic half of a proxied device: its
   identity and key, its observers and the events waiting for the first,
   its online / offline / restarting moves.
 - L{proxier.proxy.gate}: the one door every action to a device goes
   through (queue, concurrency, deadline, offline after failures,
   observers); what counts as "the device answered" is the protocol's.
 - L{proxier.proxy.transfers}: the durable queue of Downloads and Uploads,
   TransferComplete once.
 - L{proxier.proxy.heldmodel}: an object the proxier holds for a device,
   mounted over the device's own model, with reads that may wait for the
   device.
 - L{proxier.proxy.diagnostics}: the TR-181 diagnostics objects
   (declared in L{proxier.proxy.diagtables}), their DiagnosticsState
   machine, durable results and "8 DIAGNOSTICS COMPLETE", over a
   protocol's test runner (L{proxier.proxy.diagnostics.ITestRunner}).
 - L{proxier.proxy.baselines}: notification attributes and value
   baselines, persisted by their owner, and the one change detector
   ("here are the current values" → what to report), the ACS's own
   changes excepted.
 - L{proxier.proxy.instances}: native keys → CWMP instance numbers, per
   table, never reused (a protocol chooses the number it prefers).
"""

__all__: list[str] = []
