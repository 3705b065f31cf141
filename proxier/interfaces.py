# -*- test-case-name: tests.test_interfaces -*-
"""
The contracts between the parts of the proxier.

    protocol plugin ──makes──▶ protocol service ──reports──▶ IProxiedDevice
                                                                   │ adapted (registry)
    ACS ◀──CWMP──▶ ICWMPEndpoint ◀──asks── IDataModel ◀────────────┘
                          ▲  │
                          │  └── ISessionObserver (a session ended)
                          ├──── IDeviceObserver (events of the device)
                          └──── INotifyingDataModel (value changes, the model's own)

A protocol (UPnP DM, printers, ...) never touches CWMP: it reports devices,
registers in the service tree's registry an adapter from its device class to
L{IDataModel}, and tells each device's observers what happened to it in CWMP
terms. Value changes ("4 VALUE CHANGE") come by one route only: from the
model, which the endpoint listens to when it provides
L{proxier.datamodel.capabilities.INotifyingDataModel}. The CWMP side never touches UPnP or IPP: an endpoint wraps one
L{IDataModel} and one identity.

Every method that may wait on a device returns a Deferred, and fails only
with L{CWMPFault<proxier.datamodel.faults.CWMPFault>}.
"""

from __future__ import annotations

from typing import NamedTuple

from twisted.web.iweb import IAgent
from zope.interface import Attribute, Interface

__all__ = [
    "IProxyProtocol",
    "IProxierContext",
    "IProxiedDevice",
    "IEmbeddedDevice",
    "IDeviceObserver",
    "IDeviceAttention",
    "IPendingDevices",
    "IDataModel",
    "IRebaselining",
    "IForcedInform",
    "ICWMPEndpoint",
    "ISessionNotifier",
    "ISessionObserver",
    "IReloadable",
    "IACSAgent",
    "ISessionAgent",
]


class IProxyProtocol(Interface):
    """
    A proxy protocol, found as a plugin in the C{proxier.plugins} package with
    L{twisted.plugin.getPlugins}. A third party adds a protocol by installing a
    module into any C{proxier/plugins/} directory on C{sys.path}.
    """

    name = Attribute(
        "str: the ProxyProtocol value (TR-181 ManagementServer.VirtualDevice."
        "{i}.ProxyProtocol and DeviceInfo.ProxierInfo.ProxyProtocol), for "
        "example C{'UPnP-DM'}: one of TR-181's values, or a TR-106 §3.3 "
        "vendor name C{X_<OUI>_Name} for a protocol TR-181 lacks (the "
        "parameter's enumeration is TR-181's plus the installed plugins'); "
        "also the name used in the C{[protocols] enabled} config key."
    )
    otherProxyProtocols = Attribute(
        "tuple of str, optional (none when absent): ProxyProtocol values, as "
        "L{name}, that some of this plugin's devices report instead of it (the "
        "printer plugin's printers that speak only SNMP are C{X_<OUI>_SNMP}); "
        "the enumeration of VirtualDevice.{i}.ProxyProtocol lists them too."
    )
    discoveryProtocol = Attribute(
        "str: the DiscoveryProtocol value (TR-181 ManagementServer."
        "VirtualDevice.{i}.DiscoveryProtocol), for example C{'UPnP'}: TR-181's "
        "or C{X_<OUI>_Name}, as L{name}; empty when there is none. A protocol "
        "whose devices are found in several ways gives a tuple of them."
    )
    configSection = Attribute(
        "L{proxier.config.Section} or None: the INI section holding this "
        "protocol's own keys, validated with the rest of the file at start."
    )

    def makeService(context):
        """
        Make the service that discovers and controls this protocol's devices.

        @param context: what the proxier gives the protocol.
        @type context: L{IProxierContext}
        @return: an L{twisted.application.service.IService}; the proxier adds
            it to its service tree.
        """


class IProxierContext(Interface):
    """What the proxier hands a protocol plugin when making its service."""

    reactor = Attribute("The reactor: IReactorTime, IReactorTCP, IReactorUDP, ...")
    registry = Attribute(
        "The L{zope.interface.registry.Components} of this service tree. A "
        "protocol registers here its adapter from its device type to IDataModel."
    )
    config = Attribute("The validated L{proxier.config.Config}.")
    store = Attribute(
        "A L{proxier.store.Store} reserved for this protocol (a child of the "
        "state directory named after it)."
    )
    deviceTimeout = Attribute(
        "float: the seconds one call of the endpoint to a device may take "
        "while the ACS waits in a session (derived from C{[acs] "
        "session_timeout}); a protocol keeps its own deadlines below it."
    )
    acsAgent = Attribute(
        "L{IACSAgent}: HTTP toward the ACS's file servers (the Upload of a "
        "device's log, TR-069 A.4.1.5) with the C{[acs]} section's trust "
        "root and client certificate; made when first used."
    )

    def deviceAppeared(device):
        """
        A device this protocol can proxy is known (first discovery or again
        after a restart of the proxier). Called once per device per run; later
        changes go to the device's observers.

        @type device: L{IProxiedDevice}
        """

    def deviceRemoved(device):
        """
        The device is gone for good (not merely offline): its endpoint and its
        VirtualDevice row are removed. Durable state is kept, so that the
        device coming back never bootstraps again.

        @type device: L{IProxiedDevice}
        """


class IProxiedDevice(Interface):
    """One device the proxier presents to the ACS as a Virtual CWMP Device."""

    identity = Attribute("The device's identity: a L{proxier.datamodel.values.DeviceIdentity}")
    key = Attribute(
        "str: stable and file-system safe; names the device's durable state. "
        "Usually C{identity.key}."
    )
    proxyProtocol = Attribute("str, for example C{'UPnP-DM'}")
    discoveryProtocol = Attribute("str, for example C{'UPnP'}")
    host = Attribute("str: the device's current address (for logs and ProxierInfo)")
    online = Attribute("bool: whether the device answers now")

    def addObserver(observer):
        """
        Tell C{observer} (an L{IDeviceObserver}) about this device from now on.
        """

    def removeObserver(observer):
        """Stop telling C{observer}."""


class IEmbeddedDevice(Interface):
    """
    A protocol service that makes the proxier one device's own CWMP CPE
    (embedded mode: the proxier runs on that device, PRINTERS.md §11) instead
    of a gateway proxying others. The service tree looks for one among the
    protocol services: when there is one, the tree's own endpoint takes the
    device's identity, and its model is the device's own (the registry
    adapts the device to L{IDataModel}) with the proxier-held
    C{Device.ManagementServer.} mounted into it; no Virtual CWMP Device is
    made and no other protocol runs.

    The endpoint must never Inform with an identity the device did not
    give, so it is made only once this service has one; the device is then
    an L{IProxiedDevice} whose events (offline, online, "1 BOOT") the
    endpoint hears like a Virtual CWMP Device's.
    """

    def identified():
        """
        @return: a Deferred firing once, with the L{IProxiedDevice} whose
            identity was learnt from the device itself (at this run, or at
            an earlier one when the device is silent too long at start); it
            never fires while neither is known.
        """


class IDeviceObserver(Interface):
    """
    Events of a proxied device, already in CWMP terms (TR-330 Table 1). The
    CWMP endpoint implements this and turns each call into Inform events,
    persisted before the call returns. Value changes are not among them:
    the device's data model reports those (C{INotifyingDataModel}).
    """

    def deviceOnline(device):
        """The device answers again (TR-069 J.2.3): sessions may resume."""

    def deviceOffline(device):
        """
        The device stopped answering: Connection Requests are answered 503 and
        no session is started for it until it is back.
        """

    def deviceBooted(device):
        """
        The device rebooted ("1 BOOT"; plus "M Reboot" when the reboot was
        asked by the ACS through L{IDataModel.reboot}).
        """

    def deviceFactoryReset(device):
        """The device was reset to its factory state ("0 BOOTSTRAP")."""

    def diagnosticsComplete(device):
        """A diagnostic the ACS asked for ended ("8 DIAGNOSTICS COMPLETE")."""

    def transferComplete(device, result):
        """
        A transfer the ACS asked for ended ("7 TRANSFER COMPLETE", "M
        Download"/"M ScheduleDownload"/"M Upload", and a TransferComplete RPC
        kept until the ACS acknowledges it).

        @type result: L{proxier.datamodel.values.TransferResult}
        """

    def autonomousTransferComplete(device, result):
        """
        A transfer the ACS did not ask for ended ("10 AUTONOMOUS TRANSFER
        COMPLETE" and an AutonomousTransferComplete RPC, if the ACS supports
        it and ManagementServer.AutonomousTransferCompletePolicy lets it
        through).

        @type result: L{proxier.datamodel.values.AutonomousTransferResult}
        """


class IDeviceAttention(Interface):
    """
    Optional on an L{IProxiedDevice}: what a person should know or do about
    the device now (the local console shows it prominently), told without
    naming a protocol — a certificate to accept, a button to press on the
    device, a role granted, a diagnostic running.
    """

    def notices():
        """
        @return: a sequence of C{(kind, text, since)} of plain text, most
            pressing first: C{kind} is C{"action"} (someone must do
            something: the text says what and where), C{"warning"} or
            C{"info"}; C{since} is when it began (ISO 8601 UTC) or C{""}.
        """


class PendingDevice(NamedTuple):
    """
    One device a protocol found but does not proxy (yet), as
    L{IPendingDevices.pending} tells it: plain data, no protocol object.
    """

    #: which one, stable while it is pending and unique among the service's (never a device key)
    key: str
    #: what a person recognises it by (its friendly name, where it was found), never a password
    label: str
    #: the ProxyProtocol it would be proxied with (L{IProxyProtocol.name} or one of its others)
    protocol: str
    #: its address, or C{""}
    host: str
    #: C{"probing"} (being asked who it is), C{"waiting"} (for someone, or for it to answer) or
    #: C{"refused"} (it cannot be proxied as it is)
    state: str
    #: why, in words
    why: str
    #: what a person must know or do, as L{IDeviceAttention.notices} gives it
    notices: tuple[tuple[str, str, str], ...] = ()


class IPendingDevices(Interface):
    """
    Optional on a protocol service: the devices it found that are no
    Virtual CWMP Device (yet) — one that does not tell who it is, one its
    owner must first let the proxier manage (a button to press, a
    certificate to accept), one refused and why. The local console lists
    them beside the devices, since these are the ones an installer needs
    to see; a device that becomes proxied leaves this list.
    """

    def pending():
        """
        @return: a sequence of L{PendingDevice} (in any order: the console
            sorts them), empty when there are none.
        """


class IDataModel(Interface):
    """
    The data model of one CWMP endpoint, or one part of it. Paths are CWMP
    paths (C{"Device.DeviceInfo.SerialNumber"}, partial paths end in C{"."},
    instance numbers are 1-based, instance aliases C{"[alias]"} may appear).

    Every method returns a Deferred failing only with
    L{CWMPFault<proxier.datamodel.faults.CWMPFault>}.
    """

    def supportedMethods():
        """
        @return: the CPE RPC names this model can serve (for example
            C{{"GetParameterNames", ..., "Reboot", "Download"}}). The endpoint
            answers 9000 for any other, and lists these in
            GetRPCMethodsResponse.
        @rtype: L{frozenset} of L{str}
        """

    def getParameterNames(path, nextLevel):
        """
        @param path: a full parameter name, a partial path, or C{""} for the
            whole tree.
        @return: Deferred firing with a list of
            L{ParameterInfo<proxier.datamodel.values.ParameterInfo>}.
        """

    def getParameterValues(names):
        """
        @param names: full parameter names and partial paths.
        @return: Deferred firing with a list of
            L{ParameterValue<proxier.datamodel.values.ParameterValue>}, each
            with its C{xsi:type}.
        """

    def setParameterValues(values):
        """
        Apply all or nothing.

        @param values: L{ParameterValue<proxier.datamodel.values.ParameterValue>}s
            as the ACS sent them (the type is the one the ACS gave).
        @return: Deferred firing with the Status: 0 applied, 1 committed but
            applied later. Failure: 9003 with per-parameter faults where they
            are known, or a single fault.
        """

    def getParameterAttributes(names):
        """
        @return: Deferred firing with a list of
            L{ParameterAttributes<proxier.datamodel.values.ParameterAttributes>}.
        """

    def setParameterAttributes(changes):
        """
        @param changes: L{AttributeChange<proxier.datamodel.values.AttributeChange>}s.
        @return: Deferred firing with None; all or nothing.
        """

    def addObject(path):
        """
        @param path: a multi-instance object path ending in C{"."}.
        @return: Deferred firing with C{(instanceNumber, status)}.
        """

    def deleteObject(path):
        """
        @param path: an instance path ending in C{"."}.
        @return: Deferred firing with the status (0 or 1).
        """

    def reboot(commandKey):
        """
        Reboot the device. Called by the endpoint after the session that asked
        for it ended; the reboot is reported back through
        L{IDeviceObserver.deviceBooted}.
        """

    def factoryReset():
        """Reset the device to its factory state, after the session ended."""

    def download(request):
        """
        Start a download.

        @type request: L{TransferRequest<proxier.datamodel.values.TransferRequest>}
        @return: Deferred firing with None when the transfer goes on after the
            response (Status 1; completion comes through
            L{IDeviceObserver.transferComplete}), or with a
            L{TransferResult<proxier.datamodel.values.TransferResult>} when it
            already ended (Status 0).
        """

    def upload(request):
        """As L{download}, for an Upload request."""


class IRebaselining(Interface):
    """
    A data model that detects value changes against a reference (its
    baselines), and can move the reference without reporting anything.
    """

    def rebaseline(*paths):
        """
        Take the current values of these parameters (names or partial paths)
        as the reference without reporting them: for values that became final
        before the ACS could have seen the earlier ones (the Connection Request
        URL once its host is known, before the first Inform).
        """


class IForcedInform(Interface):
    """
    A data model that says which of its parameters every Inform carries
    (TR-069 A.3.3.1: the parameters its root data model marks
    C{forcedInform="true"}; for a C{Device:2} root, TR-181's
    RootDataModelVersion, DeviceInfo.HardwareVersion, SoftwareVersion,
    ProvisioningCode, ManagementServer.ParameterKey, ConnectionRequestURL
    and AliasBasedAddressing). The endpoint knows no data model: an Inform of
    a model that does not provide this carries only its changed values.
    """

    forcedInform = Attribute(
        "tuple of str: the full names of the forced-inform parameters, in the "
        "order the Inform lists them; the endpoint leaves out those the model "
        "answers 9005 (Invalid parameter name) for."
    )


class ISessionObserver(Interface):
    """Told when a CWMP session of an L{ICWMPEndpoint} ends."""

    def sessionEnded(endpoint):
        """
        A session of C{endpoint} ended, whatever its outcome (another may
        already have started: look at C{endpoint.inSession}).

        @type endpoint: L{ISessionNotifier}
        """


class ISessionNotifier(Interface):
    """Runs CWMP sessions, one at a time, and says when one ends."""

    inSession = Attribute("bool: whether a session with the ACS runs now")

    def addSessionObserver(observer):
        """
        Tell C{observer} (an L{ISessionObserver}) each time a session ends,
        from now on, until L{removeSessionObserver}.
        """

    def removeSessionObserver(observer):
        """Stop telling C{observer}; an observer not added is ignored."""


class ICWMPEndpoint(ISessionNotifier):
    """
    One CWMP identity towards the ACS: the proxier itself, or one Virtual
    CWMP Device. It owns the identity's sessions, events, ParameterKey and
    Connection Request URL, and answers every RPC from its L{IDataModel}.
    """

    identity = Attribute("The CWMP identity: a L{proxier.datamodel.values.DeviceIdentity}")
    model = Attribute("The endpoint's L{IDataModel}")
    connectionRequestPath = Attribute(
        "bytes: the unguessable path of this endpoint's Connection Request URL"
    )
    online = Attribute("bool: whether sessions may run now")
    log = Attribute("L{proxier.log.DeviceLogger}: log lines about this endpoint name its device")

    def connectionRequested():
        """
        The ACS asked for a session through the Connection Request URL ("6
        CONNECTION REQUEST"). Returns at once; the session runs later.
        """

    def requestSession(eventCode, commandKey=""):
        """Queue C{eventCode} (persisted) and start a session soon."""

    def snapshot():
        """
        What the endpoint is doing, read only, as plain data (the local
        console shows it): a dict with C{acsURL}, C{online}, C{inSession},
        C{sessions} (started in this run), C{retryCount}, C{pendingEvents}
        (the event codes the next Inform carries), C{pendingValueChanges}
        (parameter names), C{transfers} (methods going on), and
        C{lastSession} — None before the first one ends, else C{started},
        C{ended} (clock seconds), C{ok}, C{reason}, C{events} (its
        Inform's codes) and C{faults} (C{method}, C{code}, C{string} of
        each fault it answered the ACS).
        """


class IReloadable(Interface):
    """
    A service of the tree that can take part of a new configuration without a
    restart (SIGHUP: L{proxier.service.ProxierService.reload}).
    """

    def configReloaded(config):
        """
        Apply what this service can of C{config} (a loaded, checked
        L{proxier.config.Config}); keys it cannot apply take effect at the
        next restart, as the reload says.
        """


class ISessionAgent(IAgent):
    """The HTTP agent of one CWMP session: its own connection, closed when the session ends."""

    def close():
        """Close the session's connection; returns a Deferred firing once it is closed."""


class IACSAgent(IAgent):
    """
    The HTTP agent towards the ACS: L{IAgent.request} for one-off requests
    (file transfers); every CWMP session gets an agent of its own (an ACS
    binds a session to its TCP connection: INTEROP §CWMP 6).
    """

    def sessionAgent():
        """A new L{ISessionAgent} for one CWMP session."""
