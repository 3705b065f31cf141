# -*- test-case-name: tests.test_upnpdm_state -*-
"""
What one Virtual CWMP Device keeps across restarts of the proxier (and of
the device), in one document of the protocol's store, named after the
device's key:

 - C{instances}: the UPnP → CWMP instance-number maps (never reused);
 - C{notifications}: the Notification the ACS set, per CWMP parameter
   (1 passive, 2 active) — the device keeps only EventOnChange, a boolean;
 - C{values}: the last value seen of each parameter whose EventOnChange is
   on, by CMS path: what a ConfigurationUpdate is compared with, so that a
   change made while the proxier was down is still reported;

   (these two are the device's L{Baselines<proxier.proxy.baselines.Baselines>},
   which every proxied device keeps; the AccessList is always empty here)
 - C{bootIds}: BOOTID.UPNP.ORG per UDN last seen, so that a device that
   rebooted while nobody watched is reported "1 BOOT";
 - C{announcement}: an AboutToReboot / AboutToBaselineReset heard on a
   byebye and not yet followed by the alive (TR-330 Table 1: "cache this
   notification for use after receiving a later ssdp:alive").

One document, so one atomic write per change however many parts changed
(L{DeviceState.flush} writes only when something did). What the proxier
learns on its own (a boot, a sweep) is handed to the store's writer with
L{DeviceState.flushSoon}: off the reactor thread, in order with the
endpoint's changes, on disk before the next message to the ACS.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.logger import Logger

from proxier.proxy.baselines import Baselines
from proxier.store import Document, Retrier
from proxier.upnpdm.instances import UPnPInstances

__all__ = ["DeviceState"]

_ANNOUNCEMENTS = ("", "AboutToReboot", "AboutToBaselineReset")


class DeviceState:
    # issue 19: one per device
    __slots__ = ("_document", "_clock", "_retrier", "instances", "baselines", "bootIds", "announcement", "dirty")

    log = Logger()

    def __init__(self, document: Document, clock: Any = None) -> None:
        """
        @param clock: C{callLater}, to save again after a failed save (the
            change stays in memory meanwhile); without it the next L{flush}
            tries again.
        """
        self._document = document
        self._clock = clock
        # made by the first flush: the proxier's own learning is saved by flushSoon, without it (issue 19)
        self._retrier: Optional[Retrier] = None
        self.instances = UPnPInstances()
        self.baselines = Baselines()
        self.bootIds: dict[str, int] = {}
        self.announcement = ""
        self.dirty = False
        stored = document.load(default=None, validate=self._validate)
        if stored is not None:
            self.instances = UPnPInstances.fromJSON(stored["instances"])
            self.baselines = Baselines({name: (level, ()) for name, level in stored["notifications"].items()},
                                       stored["values"])
            self.bootIds = dict(stored["bootIds"])
            self.announcement = stored["announcement"]

    @property
    def known(self) -> bool:
        """Whether this device was seen before (its document exists)."""
        return self._document is not None and bool(self.bootIds or self.baselines.values or self.instances.tables())

    @staticmethod
    def _validate(payload: Any) -> None:
        if not isinstance(payload, dict):
            raise ValueError("not a mapping")
        UPnPInstances.fromJSON(payload["instances"])
        notifications = payload["notifications"]
        if not isinstance(notifications, dict) or not all(
                isinstance(k, str) and v in (1, 2) and not isinstance(v, bool) for k, v in notifications.items()):
            raise ValueError("bad notifications")
        values = payload["values"]
        if not isinstance(values, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in values.items()):
            raise ValueError("bad values")
        bootIds = payload["bootIds"]
        if not isinstance(bootIds, dict) or not all(isinstance(k, str) and isinstance(v, int)
                                                    for k, v in bootIds.items()):
            raise ValueError("bad bootIds")
        if payload["announcement"] not in _ANNOUNCEMENTS:
            raise ValueError("bad announcement")

    # -- changes (each marks the document for the next flush) ---------------------------

    def changed(self) -> None:
        self.dirty = True

    def setBootId(self, udn: str, bootId: Optional[int]) -> None:
        if bootId is not None and self.bootIds.get(udn) != bootId:
            self.bootIds[udn] = bootId
            self.dirty = True

    def setAnnouncement(self, value: str) -> None:
        if value not in _ANNOUNCEMENTS:
            raise ValueError(value)
        if self.announcement != value:
            self.announcement = value
            self.dirty = True

    def factoryReset(self) -> None:
        """The device is back to its factory state: instance maps, notifications and baselines go."""
        self.instances.reset()
        self.baselines.factoryReset()
        self.dirty = True

    def flush(self) -> bool:
        """
        Write the document if anything changed (atomically, durably).

        @return: whether what is in memory is on disk; when the save failed
            (logged once by the store) the change stays in memory, marked not
            yet durable, and is saved again later.
        """
        if not (self.dirty or self.instances.dirty or self.baselines.dirty):
            return True
        self.dirty = True  # until it is on disk (toJSON forgets the instance map's own mark)
        if self._retrier is None:
            self._retrier = Retrier(self._document, self._payload, self._clock)
        if not self._retrier.save():
            return False
        self.dirty = self.baselines.dirty = False
        return True

    def durable(self) -> Any:
        """A Deferred that fires once what L{flushSoon} handed over is on disk (fails with the OSError)."""
        return self._document.durable()

    def flushSoon(self) -> None:
        """
        L{flush} for what the proxier learnt on its own (no RPC waits on it):
        coalesced (L{proxier.store.Document.saveSoon}), retried by the writer
        when the disk refuses it, written before the next message to the ACS.
        An RPC's L{flush} after it still says whether the disk took it.
        """
        if not self._document.coalesced:
            self.flush()
            return
        if not (self.dirty or self.instances.dirty or self.baselines.dirty):
            return
        # taken now, not when written: toJSON forgets the instance map's own mark, which an RPC's flush reads
        payload = self._payload()
        self._document.saveSoon(lambda: payload)
        self.dirty = self.baselines.dirty = False

    def _payload(self) -> dict:
        return {
            "instances": self.instances.toJSON(),
            "notifications": {name: level for name, (level, _) in self.baselines.attributes.items()},
            "values": dict(self.baselines.values),
            "bootIds": dict(self.bootIds),
            "announcement": self.announcement,
        }

    def stop(self) -> None:
        """No more saves retried (the device is gone for good)."""
        if self._retrier is not None:
            self._retrier.stop()
