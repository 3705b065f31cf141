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
 - C{bootIds}: BOOTID.UPNP.ORG per UDN last seen, so that a device that
   rebooted while nobody watched is reported "1 BOOT";
 - C{announcement}: an AboutToReboot / AboutToBaselineReset heard on a
   byebye and not yet followed by the alive (TR-330 Table 1: "cache this
   notification for use after receiving a later ssdp:alive").

One document, so one atomic write per change however many parts changed
(L{DeviceState.flush} writes only when something did).
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.logger import Logger

from proxier.store import Document, Retrier
from proxier.upnpdm.instances import InstanceMap

__all__ = ["DeviceState", "MAX_WATCHED"]

#: Parameters with EventOnChange remembered per device (a device with more
#: is watched for the first ones only, and says so in the log).
MAX_WATCHED = 10000
_ANNOUNCEMENTS = ("", "AboutToReboot", "AboutToBaselineReset")


class DeviceState:
    log = Logger()

    def __init__(self, document: Document, clock: Any = None) -> None:
        """
        @param clock: C{callLater}, to save again after a failed save (the
            change stays in memory meanwhile); without it the next L{flush}
            tries again.
        """
        self._document = document
        self._retrier = Retrier(document, self._payload, clock)
        self.instances = InstanceMap()
        self.notifications: dict[str, int] = {}
        self.values: dict[str, str] = {}
        self.bootIds: dict[str, int] = {}
        self.announcement = ""
        self.dirty = False
        stored = document.load(default=None, validate=self._validate)
        if stored is not None:
            self.instances = InstanceMap.fromJSON(stored["instances"])
            self.notifications = dict(stored["notifications"])
            self.values = dict(stored["values"])
            self.bootIds = dict(stored["bootIds"])
            self.announcement = stored["announcement"]

    @property
    def known(self) -> bool:
        """Whether this device was seen before (its document exists)."""
        return self._document is not None and bool(self.bootIds or self.values or self.instances.tables())

    @staticmethod
    def _validate(payload: Any) -> None:
        if not isinstance(payload, dict):
            raise ValueError("not a mapping")
        InstanceMap.fromJSON(payload["instances"])
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

    def setNotification(self, name: str, level: int) -> None:
        if level:
            if self.notifications.get(name) != level:
                self.notifications[name] = level
                self.dirty = True
        elif self.notifications.pop(name, None) is not None:
            self.dirty = True

    def forgetBelow(self, cwmpPrefix: str, cmsPrefix: str) -> None:
        """An instance was deleted: drop what is kept about its parameters."""
        for name in [n for n in self.notifications if n.startswith(cwmpPrefix)]:
            del self.notifications[name]
            self.dirty = True
        for path in [p for p in self.values if p.startswith(cmsPrefix)]:
            del self.values[path]
            self.dirty = True

    def watch(self, path: str, value: str) -> bool:
        """Remember C{value} as the baseline of C{path}; False when the cap is reached."""
        if path not in self.values and len(self.values) >= MAX_WATCHED:
            return False
        if self.values.get(path) != value:
            self.values[path] = value
            self.dirty = True
        return True

    def unwatch(self, path: str) -> None:
        if self.values.pop(path, None) is not None:
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
        self.notifications.clear()
        self.values.clear()
        self.dirty = True

    def flush(self) -> bool:
        """
        Write the document if anything changed (atomically, durably).

        @return: whether what is in memory is on disk; when the save failed
            (logged once by the store) the change stays in memory, marked not
            yet durable, and is saved again later.
        """
        if not (self.dirty or self.instances.dirty):
            return True
        self.dirty = True  # until it is on disk (toJSON forgets the instance map's own mark)
        if not self._retrier.save():
            return False
        self.dirty = False
        return True

    def _payload(self) -> dict:
        return {
            "instances": self.instances.toJSON(),
            "notifications": dict(self.notifications),
            "values": dict(self.values),
            "bootIds": dict(self.bootIds),
            "announcement": self.announcement,
        }

    def stop(self) -> None:
        """No more saves retried (the device is gone for good)."""
        self._retrier.stop()
