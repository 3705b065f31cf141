# -*- test-case-name: tests.test_proxy_baselines -*-
"""
What a device's owner keeps to report "4 VALUE CHANGE" (TR-069 A.3.2.4,
3.2.1): the notification attributes the ACS set, the value last reported of
each watched parameter (its baseline), and the paths the ACS itself just
changed — with the one routine that turns "here are the current values"
into the changes to report.

Any data model that proxies or holds values uses it: the declared tree
(L{proxier.datamodel.tree}) for its own parameters, a UPnP DM device
(L{proxier.upnpdm.changes}) for its device's. One store, so that both
report the same way: a path without Notification is not watched; a value
differing from its baseline (as a value of its type: the owner's C{same})
is reported and becomes the new baseline; a change the ACS made itself is
taken as the new baseline without a report (TR-330 Table 1: "excluding
those with a recent modification from the ACS"); active notification when
any reported parameter has it.

Sans-IO: the owner persists L{Baselines.attributes} and L{Baselines.values}
where it keeps its state (and clears L{Baselines.dirty} once they are on
disk), so that a change made while the proxier was down is reported by the
first detection after it starts again. The ACS's marks are not persisted:
what the ACS set is already the baseline on disk.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Callable, Iterable, Mapping, NamedTuple, Optional

from proxier.datamodel.values import Notification, ParameterValue

__all__ = ["Baselines", "Observed", "Changes", "MAX_WATCHED", "sameText"]

#: Parameters whose baseline is kept per device (a device with more is
#: watched for the first ones only; the owner says so in its log).
MAX_WATCHED = 10000

#: Notification and AccessList of one path.
Attributes = tuple[int, tuple[str, ...]]

#: C{same(path, old, new)}: whether two texts of a parameter are one value.
Same = Callable[[str, str, str], bool]


def sameText(path: str, old: str, new: str) -> bool:
    """Text comparison, for owners whose texts are already canonical (formatted from typed values)."""
    return old == new


class Observed(NamedTuple):
    """
    One current value given to L{Baselines.detect}.

    @ivar path: where its baseline is kept (the owner's path).
    @ivar text: what is compared with the baseline.
    @ivar value: what is reported if it changed; None when it is never sent
        (the baseline still moves).
    @ivar notification: its Notification now (active makes the report active).
    """

    path: str
    text: str
    value: Optional[ParameterValue]
    notification: int


class Changes(NamedTuple):
    """
    What L{Baselines.detect} found.

    @ivar values: to report, in the order observed.
    @ivar active: whether one of them has active notification.
    @ivar moved: every path whose baseline changed, reported or not (the
        ACS's own changes included).
    @ivar refused: paths not watched because the cap is reached.
    """

    values: list[ParameterValue]
    active: bool
    moved: list[str]
    refused: list[str]


#: What an empty table reads as until the first entry: most trees of most devices never get one (issue 19).
_NONE: Mapping = MappingProxyType({})


class Baselines:
    """
    Notification attributes by CWMP path, baselines by the owner's path
    (the CWMP path for a tree, a CMS path for UPnP DM), and the ACS's marks.

    @ivar attributes: path → (Notification, AccessList), only where the ACS
        set something other than the parameter's default (read-only: changed
        by the methods below).
    @ivar values: path → its baseline text (read-only likewise).
    @ivar dirty: attributes or baselines changed since the owner last
        cleared it (after saving them).
    """

    # slots, and no marks until the ACS makes some: one per tree and per device (issue 19)
    __slots__ = ("attributes", "values", "limit", "dirty", "_marks")

    def __init__(self, attributes: Optional[Mapping[str, Attributes]] = None,
                 values: Optional[Mapping[str, str]] = None, *, limit: int = MAX_WATCHED) -> None:
        self.attributes: Mapping[str, Attributes] = dict(attributes) if attributes else _NONE
        self.values: Mapping[str, str] = dict(values) if values else _NONE
        self.limit = limit
        self.dirty = False
        self._marks: Optional[dict[str, float]] = None

    def _editAttributes(self) -> dict[str, Attributes]:
        if self.attributes is _NONE:
            self.attributes = {}
        return self.attributes  # type: ignore[return-value]

    def _editValues(self) -> dict[str, str]:
        if self.values is _NONE:
            self.values = {}
        return self.values  # type: ignore[return-value]

    def copy(self) -> "Baselines":
        """An independent copy (to set back when a change cannot be saved)."""
        other = Baselines(self.attributes, self.values, limit=self.limit)
        other.dirty = self.dirty
        other._marks = dict(self._marks) if self._marks is not None else None
        return other

    # -- attributes -------------------------------------------------------------------------

    def attributesOf(self, path: str) -> Optional[Attributes]:
        """What the ACS set for C{path}, or None for the parameter's default."""
        return self.attributes.get(path)

    def setAttributes(self, path: str, notification: int, accessList: Iterable[str] = (),
                      default: int = Notification.OFF) -> None:
        """The ACS set C{path}'s attributes; the parameter's default with no AccessList is kept as nothing."""
        entry = (notification, tuple(accessList))
        if notification == default and not entry[1]:
            if path in self.attributes:
                del self._editAttributes()[path]
                self.dirty = True
        elif self.attributes.get(path) != entry:
            self._editAttributes()[path] = entry
            self.dirty = True

    # -- baselines --------------------------------------------------------------------------

    def watch(self, path: str, text: str) -> bool:
        """Take C{text} as the baseline of C{path}; False when the cap is reached."""
        if path not in self.values and len(self.values) >= self.limit:
            return False
        if self.values.get(path) != text:
            self._editValues()[path] = text
            self.dirty = True
        return True

    def unwatch(self, path: str) -> None:
        if path in self.values:
            del self._editValues()[path]
            self.dirty = True

    def forgetBelow(self, prefix: str, valuesPrefix: Optional[str] = None) -> None:
        """
        An instance was deleted: drop the attributes below C{prefix} and the
        baselines below C{valuesPrefix} (by default the same prefix).
        """
        valuesPrefix = prefix if valuesPrefix is None else valuesPrefix
        for path in [p for p in self.attributes if p.startswith(prefix)]:
            del self._editAttributes()[path]
            self.dirty = True
        for path in [p for p in self.values if p.startswith(valuesPrefix)]:
            del self._editValues()[path]
            self.dirty = True

    def factoryReset(self) -> None:
        """The device is back to its factory state: attributes, baselines and marks go."""
        for table in (self.attributes, self.values):
            if table is not _NONE:
                table.clear()  # type: ignore[attr-defined]
        self._marks = None
        self.dirty = True

    # -- what the ACS changed ---------------------------------------------------------------

    def markACS(self, paths: Iterable[str], until: float = math.inf) -> None:
        """
        A change at C{paths} is the ACS's own until C{until} (or until
        L{clearMarks}); a partial path (ending in C{.} or C{/}) covers
        everything below it.
        """
        marks = self._marks if self._marks is not None else {}
        for path in paths:
            marks[path] = until
        self._marks = marks or None

    def markedByACS(self, path: str, now: float = 0.0) -> bool:
        """Whether a change at C{path} is the ACS's own (marks older than C{now} are dropped)."""
        if self._marks is None:
            return False
        for marked, until in list(self._marks.items()):
            if until < now:
                del self._marks[marked]
                continue
            if marked == path or (marked.endswith((".", "/")) and path.startswith(marked)):
                return True
        return False

    def clearMarks(self) -> None:
        """The ACS's changes were seen (their outcome is the baseline now): the marks have done their job."""
        self._marks = None

    # -- change detection -------------------------------------------------------------------

    def detect(self, observed: Iterable[Observed], same: Same, *, now: float = 0.0,
               adopt: bool = True) -> Changes:
        """
        Compare current values with their baselines: each that differs
        becomes the new baseline and, unless the ACS made it (or it has no
        value to send), is to be reported.

        @param same: C{same(path, old, new)}, the comparison of C{path}'s type.
        @param adopt: a path without a baseline takes its current value as
            one (not reported); otherwise it is left unwatched.
        """
        values: list[ParameterValue] = []
        moved: list[str] = []
        refused: list[str] = []
        active = False
        for path, text, value, notification in observed:
            old = self.values.get(path)
            if old is None:
                if adopt and not self.watch(path, text):
                    refused.append(path)
                continue
            if same(path, old, text):
                continue
            self.watch(path, text)
            moved.append(path)
            if value is None or self.markedByACS(path, now):
                continue
            values.append(value)
            active = active or notification == Notification.ACTIVE
        return Changes(values, active, moved, refused)
