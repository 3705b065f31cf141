# -*- test-case-name: tests.test_upnpdm_embedded -*-
"""
UPnP DM devices as objects of the proxier's own tree: the Embedded Object
Mechanism (TR-069 Annex J.3, L{proxier.proxy.embeddedobjects}), chosen by
C{[upnp] mechanism = embedded} or C{both}.

A UPnP DM device's objects are a C{Device.} tree of their own (TR-330 §4.6),
which cannot merge into the gateway's (two C{Device.DeviceInfo.}); so each
device is a row of a vendor table (TR-106 §3.3) named with the proxier's
own OUI (C{[device] oui}): C{Device.X_<OUI>_UPnPDM.{i}.}, declared in the
proxier's C{DeviceInfo.SupportedDataModel} (L{DATA_MODEL}). The row holds
the device's whole CMS tree below its C{Device.} root as TR-330 maps it —
C{DeviceInfo.} (its Common Objects and the values the proxier holds for it)
and every other object its models have: C{Device.X_<OUI>_UPnPDM.2.DeviceInfo.SerialNumber}
is the device's C{Device.DeviceInfo.SerialNumber}. Each parameter is
writable as the CMS's Access says (none when the SCPD offers no
SetValues). What a Virtual CWMP Device adds is not there:
C{ManagementServer.} (the proxier's own endpoint has it) and the
diagnostics objects the proxier holds for the device.

The row's model is a CMS model of the device of its own (L{CMSFollower}:
a L{CMSDataModel} over the device's gate and profile, told what the
device's model is told), seen through L{EmbeddedCMS}, which adds the
checks the synchronized copy makes before it accepts a value. Its state is
a document of its own (C{embedded-<key>} of the protocol's store): its
Notification levels, the values it compares, its instance numbers; and it
has its own change watcher. So the row shows the CMS tree alone — not the
values the device's management adds to its Virtual CWMP Device's model
(C{DeviceInfo.VendorLogFileNumberOfEntries} beside the log files it holds)
— and, with C{both}, what the ACS asks of the row's notifications never
reaches the Virtual CWMP Device, nor the other way round, except for
EventOnChange, the device's one attribute behind both (TR-330 §4.6.5).

The values the device reports (its GENA events, read by the change
watcher) reach the proxier's own endpoint as "4 VALUE CHANGE" of the
row's names. Reads are the device's answers of the moment (the proxier
keeps no copy of a CMS tree), with what the ACS set and the device does
not have yet laid over them; LastSyncTime is the device's last answer.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure
from zope.interface import implementer

from proxier.datamodel.capabilities import ChangeListener, ILocalWrites, INotifyingDataModel, IValidatingDataModel
from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import AttributeChange, Notification, ParameterValue
from proxier.interfaces import IDataModel
from proxier.proxy.embeddedobjects import DeviceObjects, EmbeddedObjectsSpec
from proxier.upnpdm.changes import ChangeWatcher
from proxier.upnpdm.cmspaths import CWMP_ROOT
from proxier.upnpdm.model import CMSDataModel
from proxier.upnpdm.state import DeviceState

__all__ = ["DATA_MODEL", "tableOf", "specOf", "EmbeddedCMS", "CMSFollower", "LastAnswer", "embeddedObjects"]

#: The vendor table's data model: (URN, features), a row in the proxier's DeviceInfo.SupportedDataModel that
#: each EmbeddedDevice row of a UPnP DM device references (the device's own models are in its row's DeviceInfo.).
DATA_MODEL = ("urn:x-proxier:upnpdm-embedded-1-0", ("UPnPDM:1.0",))


def tableOf(oui: str) -> str:
    """The vendor table of the proxier with ManufacturerOUI C{oui} (TR-106 §3.3: C{X_<OUI>_})."""
    return f"Device.X_{oui.upper()}_UPnPDM."


def specOf(config: Any) -> EmbeddedObjectsSpec:
    """The UPnP DM table of the proxier's own tree, named with its C{[device] oui}."""
    return EmbeddedObjectsSpec(tableOf(config["device"]["oui"]), (DATA_MODEL,))


@implementer(IDataModel, IValidatingDataModel, INotifyingDataModel, ILocalWrites)
class EmbeddedCMS:
    """
    A device's L{CMSDataModel} as the synchronized copy wants it: a
    SetParameterValues checked without writing (names, access, types: the
    faults the device's Virtual CWMP Device would answer), a
    SetParameterAttributes checked for what needs no device (a
    Notification value, an AccessList, which is never settable: 9003, as
    the model answers them); the rest is the model's.
    """

    def __init__(self, model: CMSDataModel) -> None:
        self.model = model

    def supportedMethods(self) -> frozenset:
        return self.model.supportedMethods()

    def getParameterNames(self, path: str, nextLevel: bool) -> Deferred:
        return self.model.getParameterNames(path, nextLevel)

    def getParameterValues(self, names: Sequence[str]) -> Deferred:
        return self.model.getParameterValues(names)

    def getParameterAttributes(self, names: Sequence[str]) -> Deferred:
        return self.model.getParameterAttributes(names)

    def validateParameterValues(self, values: Sequence[ParameterValue]) -> Deferred:
        return self.model.checkParameterValues(values)

    def setParameterValues(self, values: Sequence[ParameterValue]) -> Deferred:
        return self.model.setParameterValues(values)

    def setParameterValuesLocally(self, values: Sequence[ParameterValue]) -> Deferred:
        return self.model.setParameterValuesLocally(values)

    def validateParameterAttributes(self, changes: Sequence[AttributeChange]) -> Deferred:
        for change in changes:
            if change.notificationChange and change.notification not in Notification.ALL:
                return fail(CWMPFault(9003, f"Invalid arguments (Notification {change.notification} is not "
                                            "supported)"))
            if change.accessListChange:
                return fail(CWMPFault(9003, "Invalid arguments (AccessList cannot be set on a UPnP DM device)"))
        return succeed(None)

    def setParameterAttributes(self, changes: Sequence[AttributeChange]) -> Deferred:
        return self.model.setParameterAttributes(changes)

    def addObject(self, path: str) -> Deferred:
        return self.model.addObject(path)

    def deleteObject(self, path: str) -> Deferred:
        return self.model.deleteObject(path)

    def reboot(self, commandKey: str) -> Deferred:
        return fail(CWMPFault(9000))

    def factoryReset(self) -> Deferred:
        return fail(CWMPFault(9000))

    def download(self, request: Any) -> Deferred:
        return fail(CWMPFault(9000))

    def upload(self, request: Any) -> Deferred:
        return fail(CWMPFault(9000))

    def addChangeListener(self, listener: ChangeListener) -> None:
        self.model.addChangeListener(listener)

    def removeChangeListener(self, listener: ChangeListener) -> None:
        self.model.removeChangeListener(listener)


class CMSFollower:
    """
    A second CMS model of one L{VirtualDevice<proxier.upnpdm.device.VirtualDevice>}
    (its embedded objects'): the device's gate and profile, a state of its
    own in C{document}, a change watcher of its own; one of the device's
    C{followers}, told what its model, watcher and state are.
    """

    def __init__(self, device: Any, document: Any) -> None:
        self.state = DeviceState(document, clock=device.clock)
        self.model = CMSDataModel(device.profile, device.gate, self.state, clock=device.clock, log=device.log)
        self.watcher = ChangeWatcher(self.model, self.state, log=device.log)

    def setProfile(self, profile: Any) -> None:
        self.model.setProfile(profile)

    def invalidateSchema(self) -> None:
        self.model.invalidateSchema()

    def factoryReset(self) -> None:
        self.state.factoryReset()
        self.state.flushSoon()

    def restarted(self) -> None:
        """The device rebooted or was reset: its schema learnt again, what was read before dropped."""
        self.model.invalidateSchema()
        self.watcher.reset()

    def reset(self) -> None:
        self.watcher.reset()

    def sweep(self) -> Deferred:
        return self.watcher.sweep()

    def check(self) -> Deferred:
        return self.watcher.check()

    def eventReceived(self, variables: Sequence[tuple[str, str]]) -> None:
        self.watcher.eventReceived(variables)

    def stop(self) -> None:
        self.watcher.stop()
        self.state.flush()


class LastAnswer:
    """
    When a device last answered an action (an L{IActionObserver<proxier.proxy.gate.IActionObserver>}
    of its gate): the row's LastSyncTime, as every read is the device's answer.
    """

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.at: Optional[float] = None

    def actionStarted(self, gate: Any, service: Any, action: str, arguments: Any) -> None:
        pass

    def actionEnded(self, gate: Any, service: Any, action: str, arguments: Any, result: Any, elapsed: float) -> None:
        if not isinstance(result, Failure):
            self.at = self.clock.seconds()


def embeddedObjects(device: Any, table: str, store: Any) -> DeviceObjects:
    """
    The L{IEmbeddedObjects<proxier.proxy.embeddedobjects.IEmbeddedObjects>}
    of a device: a L{CMSFollower}'s model (its state C{embedded-<key>} of
    C{store}), its whole C{Device.} tree one row of C{table}. Made once a device.
    """
    follower = CMSFollower(device, store.document("embedded-" + device.key[:100]))
    device.followers.append(follower)
    follower.sweep()
    answered = LastAnswer(device.clock)
    device.gate.observers.append(answered)
    return DeviceObjects(table, CWMP_ROOT, EmbeddedCMS(follower.model), (DATA_MODEL[0],),
                         synchronized=lambda: answered.at)
