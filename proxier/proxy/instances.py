# -*- test-case-name: tests.test_proxy_instances -*-
"""
Native keys → CWMP instance numbers, per table, for good.

TR-069 (A.3.2.6) says the CPE never reuses an instance number the ACS may
still hold. Whatever stands behind an instance — a UPnP instance number, a
device's key in a tree the proxier holds — the proxier keeps, per table
(named by any path its owner chooses, ending in C{.} or C{/}), the CWMP
number given to each native key, and the highest number ever given:

 - a key seen for the first time gets the number its owner prefers (UPnP
   DM: its UPnP number plus one, so that a fresh device reads naturally)
   when no number at least that high was ever given in the table, else one
   more than the highest ever given;
 - an instance without a native key (one the ACS added to a tree) gets one
   more than the highest ever given (L{InstanceMap.fresh});
 - a retired key's number is never given again, even to the same key
   (UPnP DM: an instance that disappeared); a key may also be kept while
   its instance is absent, so that it comes back under its old number
   (a tree's rows for devices), at most L{MAX_ABSENT_KEYS} per table;
 - a factory reset starts every table afresh.

Plain data (L{InstanceMap.toJSON}), saved by its owner when L{dirty}.
Sans-IO.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Container, Iterable, Mapping, Optional, Union

__all__ = ["InstanceMap", "Key", "MAX_TABLES", "MAX_INSTANCES", "MAX_ABSENT_KEYS"]

#: Caps: tables remembered per owner, keys per table (a device that reports
#: more is not one the proxier can present sensibly).
MAX_TABLES = 4096
MAX_INSTANCES = 65536
#: Keys of absent instances kept per table by L{InstanceMap.forgetAbsent}.
MAX_ABSENT_KEYS = 4096
_MAX_CWMP = 2**32 - 1

#: A native key: what the owner's protocol names an instance by (JSON-able).
Key = Union[int, str]


_NO_TABLES: Mapping[str, Any] = MappingProxyType({})

#: Keys a table holds in a flat tuple before it takes a dict (issue 19: most tables hold one or two).
SMALL_TABLE = 8


class _Table:
    """
    One table's numbers. The number → key index is made at the first
    L{InstanceMap.keyOf} of the table, kept up to date from then on: most
    tables of a fleet's devices are never asked (issue 19).

    Key → number is a flat tuple C{(key, number, key, number, ...)} while
    the table holds at most L{SMALL_TABLE} keys, a dict past that: a dict
    of one key costs three times a tuple of two (issue 19).
    """

    __slots__ = ("_numbers", "_reverse", "highest")

    def __init__(self) -> None:
        self._numbers: Union[tuple[Any, ...], dict[Key, int]] = ()
        self._reverse: Optional[dict[int, Key]] = None  # CWMP number → key, once asked
        self.highest = 0

    def get(self, key: Key) -> Optional[int]:
        numbers = self._numbers
        if isinstance(numbers, dict):
            return numbers.get(key)
        for index in range(0, len(numbers), 2):
            if numbers[index] == key:
                return numbers[index + 1]  # type: ignore[no-any-return]
        return None

    def __contains__(self, key: Key) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        numbers = self._numbers
        return len(numbers) if isinstance(numbers, dict) else len(numbers) // 2

    def keys(self) -> list[Key]:
        """The keys, first given first."""
        numbers = self._numbers
        return list(numbers) if isinstance(numbers, dict) else list(numbers[0::2])

    def items(self) -> list[tuple[Key, int]]:
        """(key, number), first given first."""
        numbers = self._numbers
        return list(numbers.items()) if isinstance(numbers, dict) else list(zip(numbers[0::2], numbers[1::2]))

    @property
    def reverse(self) -> dict[int, Key]:
        if self._reverse is None:
            self._reverse = {number: key for key, number in self.items()}
        return self._reverse

    def add(self, key: Key, number: int) -> None:
        """Give C{key} (not in the table) C{number}."""
        numbers = self._numbers
        if isinstance(numbers, dict):
            numbers[key] = number
        elif len(numbers) < 2 * SMALL_TABLE:
            self._numbers = numbers + (key, number)
        else:
            grown = dict(zip(numbers[0::2], numbers[1::2]))
            grown[key] = number
            self._numbers = grown
        if self._reverse is not None:
            self._reverse[number] = key

    def pop(self, key: Key) -> int:
        """Take C{key} (in the table) out; its number."""
        numbers = self._numbers
        if isinstance(numbers, dict):
            number = numbers.pop(key)
        else:
            index = numbers[0::2].index(key) * 2
            number = numbers[index + 1]
            self._numbers = numbers[:index] + numbers[index + 2:]
        if self._reverse is not None:
            del self._reverse[number]
        return number


class InstanceMap:
    """
    The instance numbers of one owner (a device, a tree).

    @ivar dirty: something changed since L{toJSON} was last called.
    """

    __slots__ = ("_tables", "dirty")  # one per tree and per device (issue 19)

    def __init__(self) -> None:
        # the shared empty mapping until a table is made (issue 19: a tree's map mostly holds none)
        self._tables: Mapping[str, _Table] = _NO_TABLES
        self.dirty = False

    # -- queries -------------------------------------------------------------------

    def number(self, table: str, key: Key) -> Optional[int]:
        """The CWMP number of a key already seen, or C{None}."""
        found = self._tables.get(table)
        return found.get(key) if found is not None else None

    def keyOf(self, table: str, number: int) -> Optional[Key]:
        """The key behind a CWMP number, or C{None} (none, or an instance without a key)."""
        found = self._tables.get(table)
        return found.reverse.get(number) if found is not None else None

    def known(self, table: str) -> dict[Key, int]:
        """Key → CWMP number of a table's keys seen and not retired."""
        found = self._tables.get(table)
        return dict(found.items()) if found is not None else {}

    def tables(self) -> list[str]:
        return sorted(self._tables)

    def following(self, table: str) -> int:
        """The number L{fresh} would give now (one more than the highest ever given)."""
        found = self._tables.get(table)
        return (found.highest if found is not None else 0) + 1

    # -- changes --------------------------------------------------------------------

    def _table(self, table: str) -> _Table:
        found = self._tables.get(table)
        if found is None:
            if len(self._tables) >= MAX_TABLES:
                raise OverflowError(f"more than {MAX_TABLES} tables")
            if self._tables is _NO_TABLES:
                self._tables = {}
            found = self._tables[table] = _Table()  # type: ignore[index]
        return found

    def assign(self, table: str, key: Key, preferred: Optional[int] = None) -> int:
        """
        The CWMP number of C{key}, given now if it is new: C{preferred} when
        no number that high was given in the table yet, else the next one.

        @raise OverflowError: more tables or keys than the caps, or the
            table ran out of CWMP numbers.
        """
        found = self._table(table)
        number = found.get(key)
        if number is not None:
            return number
        if len(found) >= MAX_INSTANCES:
            raise OverflowError(f"more than {MAX_INSTANCES} instances in {table}")
        number = preferred if preferred is not None and preferred > found.highest else found.highest + 1
        if number > _MAX_CWMP:
            raise OverflowError(f"no CWMP instance number left in {table}")
        found.add(key, number)
        found.highest = max(found.highest, number)
        self.dirty = True
        return number

    def fresh(self, table: str) -> int:
        """
        A number for an instance without a native key (never given before).

        @raise OverflowError: more tables than the cap, or no number left.
        """
        found = self._table(table)
        if found.highest >= _MAX_CWMP:
            raise OverflowError(f"no CWMP instance number left in {table}")
        found.highest += 1
        self.dirty = True
        return found.highest

    def retire(self, table: str, key: Key, below: Optional[str] = None) -> Optional[int]:
        """
        The instance is gone: its CWMP number is never given again, not even
        to C{key}; the tables whose path starts with C{below} (those inside
        it) are forgotten. Returns the retired CWMP number.
        """
        found = self._tables.get(table)
        if found is None or key not in found:
            return None
        number = found.pop(key)
        if below is not None:
            self.forgetTables(below)
        self.dirty = True
        return number

    def sync(self, table: str, present: Iterable[Key]) -> list[int]:
        """
        A complete listing of the table: assign numbers to the new keys (in
        order), retire those that are gone. Returns the retired CWMP numbers.
        """
        present = list(dict.fromkeys(present))
        found = self._tables.get(table)
        retired = []
        if found is not None:
            keep = set(present)
            for key in sorted(k for k in found.keys() if k not in keep):  # type: ignore[type-var]
                number = self.retire(table, key)
                if number is not None:
                    retired.append(number)
        for key in sorted(present):  # type: ignore[type-var]
            self.assign(table, key)
        return retired

    def forgetTablesBelow(self, prefix: str, keep: Iterable[str] = ()) -> None:
        """
        A complete listing of everything below C{prefix}: a table below it
        that is not in C{keep} holds no instance any more.
        """
        keep = set(keep)
        for path in [p for p in self._tables if p.startswith(prefix) and p not in keep]:
            found = self._tables.get(path)
            for key in found.keys() if found is not None else ():
                self.retire(path, key)

    def forgetTables(self, prefix: str) -> None:
        """The tables whose path starts with C{prefix} are gone with their instance: forgotten."""
        for path in [p for p in self._tables if p.startswith(prefix)]:
            del self._tables[path]  # type: ignore[attr-defined]
            self.dirty = True

    def forgetAbsent(self, table: str, present: Container[int], keep: int = MAX_ABSENT_KEYS) -> None:
        """Of the keys whose instance is not C{present}, keep the C{keep} given last (their numbers stay retired)."""
        found = self._tables.get(table)
        if found is None:
            return
        absent = [k for k, n in found.items() if n not in present]
        for key in absent[: max(0, len(absent) - keep)]:
            self.retire(table, key)

    def reset(self) -> None:
        """The device was reset to its factory state: every table starts afresh."""
        if self._tables:
            self._tables.clear()  # type: ignore[attr-defined]
            self.dirty = True

    # -- persistence ----------------------------------------------------------------

    def toJSON(self) -> dict:
        self.dirty = False
        return {
            path: {"highest": t.highest, "numbers": [[k, n] for k, n in t.items()]}
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
        tables: dict[str, _Table] = {}
        for path, entry in data.items():
            if not isinstance(path, str) or not path.endswith((".", "/")) or not isinstance(entry, dict):
                raise ValueError(f"bad table entry {path!r}")
            highest = entry.get("highest")
            numbers = entry.get("numbers")
            if not _isNumber(highest) or not isinstance(numbers, list) or len(numbers) > MAX_INSTANCES:
                raise ValueError(f"bad table entry {path!r}")
            table = _Table()
            given: set[int] = set()
            for pair in numbers:
                if not isinstance(pair, list) or len(pair) != 2 or not _isKey(pair[0]) or not _isNumber(pair[1]):
                    raise ValueError(f"bad instance pair in {path!r}")
                key, number = pair
                if not 1 <= number <= highest or number in given or key in table:
                    raise ValueError(f"inconsistent instance pair {pair} in {path!r}")
                table.add(key, number)
                given.add(number)
            table.highest = highest
            tables[path] = table
        if tables:
            result._tables = tables
        return result


def _isNumber(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_CWMP


def _isKey(value: Any) -> bool:
    return isinstance(value, str) or _isNumber(value)
