# -*- test-case-name: tests.test_sharing -*-
"""
Values shared by content between devices (issue 19): every device of one
model learns the same schema, the same capabilities, the same supported
data models. Kept once per device they cost a fleet of a thousand devices a
thousand copies; an L{InternTable} hands out one object for equal values.

Only immutable values go in (frozen dataclasses, tuples, frozensets,
strings): a device never changes what another holds. A table is bounded —
past its limit a value is kept as given, not shared — so that devices that
each tell something different (a hostile LAN) cannot grow it without end.
"""

from __future__ import annotations

import sys
from typing import Generic, Hashable, Iterable, TypeVar

__all__ = ["InternTable", "internText", "internFrozenset"]

T = TypeVar("T", bound=Hashable)

#: Distinct values a table shares at most.
DEFAULT_LIMIT = 4096


class InternTable(Generic[T]):
    """
    Equal values share one object: C{table(value)} is the first value equal
    to it that the table was given, or C{value} itself.
    """

    __slots__ = ("limit", "_values")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._values: dict[T, T] = {}

    def __call__(self, value: T) -> T:
        found = self._values.get(value)
        if found is not None:
            return found
        if len(self._values) < self.limit:
            self._values[value] = value
        return value

    def __len__(self) -> int:
        return len(self._values)


def internText(text: str) -> str:
    """
    C{text} as the one string of its content (C{sys.intern}: freed once no
    one holds it): the paths and names every device of a model repeats.
    """
    return sys.intern(text)


_frozensets: InternTable[frozenset] = InternTable()


def internFrozenset(items: Iterable[str]) -> frozenset[str]:
    """A frozenset of C{items} (strings), shared with every equal one made so far."""
    return _frozensets(frozenset(internText(i) for i in items))
