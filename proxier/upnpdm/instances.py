# -*- test-case-name: tests.test_upnpdm_instances -*-
"""
UPnP instance numbers → CWMP instance numbers, per table, for good.

TR-330 §4.6.1: "UPnP data model instance numbers are 0 based, CWMP data
model instance numbers are 1 based." TR-069 (A.3.2.6) adds that the CPE
never reuses an instance number the ACS may still hold. So the proxier keeps,
per device and per table (its CMS MultiInstancePath, parents' UPnP numbers
included), the CWMP number of every UPnP instance it has seen:

 - an instance seen for the first time gets its UPnP number plus one when
   no number at least that high was ever given in the table (so a fresh
   device reads naturally: UPnP 0, 1, 2 → CWMP 1, 2, 3), else one more than
   the highest number ever given;
 - an instance that disappeared (deleted by the ACS, or missing from a
   complete listing of its table) is retired: its CWMP number is never given
   again, even if the device later reuses its UPnP number, and the tables
   below it are forgotten;
 - a factory reset of the device starts every table afresh (the ACS is told
   "0 BOOTSTRAP" and forgets the device's instances too).

The map is plain data (L{InstanceMap.toJSON}); L{proxier.upnpdm.state}
saves it when it changed. Sans-IO.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

__all__ = ["InstanceMap", "MAX_TABLES", "MAX_INSTANCES"]

#: Caps: tables remembered per device, instances per table (a device that
#: reports more is not one the proxier can present sensibly).
MAX_TABLES = 4096
MAX_INSTANCES = 65536
_MAX_CWMP = 2**32 - 1


class _Table:
    __slots__ = ("numbers", "reverse", "highest")

    def __init__(self) -> None:
        self.numbers: dict[int, int] = {}  # UPnP → CWMP
        self.reverse: dict[int, int] = {}  # CWMP → UPnP
        self.highest = 0


class InstanceMap:
    """
    The instance numbers of one device.

    @ivar dirty: something changed since L{toJSON} was last called.
    """

    def __init__(self) -> None:
        self._tables: dict[str, _Table] = {}
        self.dirty = False

    # -- queries -------------------------------------------------------------------

    def cwmpNumber(self, tablePath: str, upnp: int) -> Optional[int]:
        """The CWMP number of a UPnP instance already seen, or C{None}."""
        table = self._tables.get(tablePath)
        return table.numbers.get(upnp) if table is not None else None

    def upnpNumber(self, tablePath: str, cwmp: int) -> Optional[int]:
        """The UPnP number behind a CWMP number, or C{None}."""
        table = self._tables.get(tablePath)
        return table.reverse.get(cwmp) if table is not None else None

    def known(self, tablePath: str) -> dict[int, int]:
        """UPnP → CWMP numbers of a table's instances seen and not retired."""
        table = self._tables.get(tablePath)
        return dict(table.numbers) if table is not None else {}

    def tables(self) -> list[str]:
        return sorted(self._tables)

    # -- changes --------------------------------------------------------------------

    def assign(self, tablePath: str, upnp: int) -> int:
        """
        The CWMP number of a UPnP instance, given now if it is new.

        @raise OverflowError: the device holds more tables or instances than
            the caps, or the table ran out of CWMP numbers.
        """
        table = self._tables.get(tablePath)
        if table is None:
            if len(self._tables) >= MAX_TABLES:
                raise OverflowError(f"more than {MAX_TABLES} tables")
            table = self._tables[tablePath] = _Table()
        number = table.numbers.get(upnp)
        if number is not None:
            return number
        if len(table.numbers) >= MAX_INSTANCES:
            raise OverflowError(f"more than {MAX_INSTANCES} instances in {tablePath}")
        preferred = upnp + 1
        number = preferred if preferred > table.highest else table.highest + 1
        if number > _MAX_CWMP:
            raise OverflowError(f"no CWMP instance number left in {tablePath}")
        table.numbers[upnp] = number
        table.reverse[number] = upnp
        table.highest = max(table.highest, number)
        self.dirty = True
        return number

    def retire(self, tablePath: str, upnp: int) -> Optional[int]:
        """
        The instance is gone: its CWMP number is never given again, and the
        tables below it are forgotten. Returns the retired CWMP number.
        """
        table = self._tables.get(tablePath)
        if table is None or upnp not in table.numbers:
            return None
        number = table.numbers.pop(upnp)
        del table.reverse[number]
        self._forgetBelow(f"{tablePath}{upnp}/")
        self.dirty = True
        return number

    def sync(self, tablePath: str, present: Iterable[int]) -> list[int]:
        """
        A complete listing of the table: assign numbers to the new
        instances, retire those that are gone. Returns the retired CWMP
        numbers.
        """
        present = set(present)
        table = self._tables.get(tablePath)
        retired = []
        if table is not None:
            for upnp in sorted(set(table.numbers) - present):
                number = self.retire(tablePath, upnp)
                if number is not None:
                    retired.append(number)
        for upnp in sorted(present):
            self.assign(tablePath, upnp)
        return retired

    def forgetTablesBelow(self, prefix: str, keep: Iterable[str] = ()) -> None:
        """
        A complete listing of everything below C{prefix}: a table below it
        that is not in C{keep} holds no instance any more.
        """
        keep = set(keep)
        for path in [p for p in self._tables if p.startswith(prefix) and p not in keep]:
            table = self._tables[path]
            for upnp in list(table.numbers):
                self.retire(path, upnp)

    def _forgetBelow(self, prefix: str) -> None:
        for path in [p for p in self._tables if p.startswith(prefix)]:
            del self._tables[path]

    def reset(self) -> None:
        """The device was reset to its factory state: every table starts afresh."""
        if self._tables:
            self._tables.clear()
            self.dirty = True

    # -- persistence ----------------------------------------------------------------

    def toJSON(self) -> dict:
        self.dirty = False
        return {
            path: {"highest": t.highest, "numbers": [[u, c] for u, c in sorted(t.numbers.items())]}
            for path, t in sorted(self._tables.items())
        }

    @classmethod
    def fromJSON(cls, data: Any) -> "InstanceMap":
        """
        @raise ValueError: the data is not a map this class wrote.
        """
        if not isinstance(data, dict):
            raise ValueError("an instance map is a mapping")
        if len(data) > MAX_TABLES:
            raise ValueError("too many tables")
        result = cls()
        for path, entry in data.items():
            if not isinstance(path, str) or not path.endswith("/") or not isinstance(entry, dict):
                raise ValueError(f"bad table entry {path!r}")
            highest = entry.get("highest")
            numbers = entry.get("numbers")
            if not isinstance(highest, int) or not isinstance(numbers, list):
                raise ValueError(f"bad table entry {path!r}")
            table = _Table()
            for pair in numbers:
                if (not isinstance(pair, list) or len(pair) != 2
                        or not all(isinstance(n, int) and not isinstance(n, bool) for n in pair)):
                    raise ValueError(f"bad instance pair in {path!r}")
                upnp, cwmp = pair
                if upnp < 0 or not 1 <= cwmp <= highest or cwmp in table.reverse:
                    raise ValueError(f"inconsistent instance pair {pair} in {path!r}")
                table.numbers[upnp] = cwmp
                table.reverse[cwmp] = upnp
            table.highest = highest
            result._tables[path] = table
        return result
