# -*- test-case-name: tests.test_asciinum -*-
"""
Whole numbers from outside, ASCII only: one reading for every number a peer
sends (SSDP and GENA headers, descriptions, SOAP and CWMP arguments, HTTP
headers, the configuration file).

Python's own tests are too kind for that: C{str.isdigit()} accepts C{"²"} and
C{"①"} (which C{int()} then refuses, so a check followed by a conversion
crashes), and C{int()} accepts C{"١٢٣"} (Arabic-Indic digits), C{"1_000"},
C{" 12 "} and C{"+5"}, none of which a protocol here allows; a few thousand
digits make C{int()} slow or raise. Here a number is C{[0-9]+} and nothing
else — a sign only where the caller says one is legal — with a bound on its
length and on its value, and anything else is a L{ValueError} that says what
was wrong, for a log line.
"""

from __future__ import annotations

import re
from typing import Optional, Union

__all__ = ["parseUnsigned", "parseSigned", "isUnsigned", "MAX_DIGITS"]

# The most digits read by default: enough for any 64-bit value.
MAX_DIGITS = 20

_UNSIGNED = re.compile(r"[0-9]+", re.ASCII)
_SIGNED = re.compile(r"[+-]?[0-9]+", re.ASCII)


def _short(text: object) -> str:
    shown = repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _asText(text: Union[str, bytes]) -> str:
    if isinstance(text, bytes):
        return text.decode("latin-1")
    if not isinstance(text, str):
        raise ValueError(f"{_short(text)} is not text")
    return text


def isUnsigned(text: Union[str, bytes], maxDigits: int = MAX_DIGITS) -> bool:
    """Whether C{text} is C{[0-9]+} (ASCII digits only) of at most C{maxDigits} digits."""
    try:
        text = _asText(text)
    except ValueError:
        return False
    return len(text) <= maxDigits and _UNSIGNED.fullmatch(text) is not None


def parseUnsigned(text: Union[str, bytes], maxValue: Optional[int] = None, *, minValue: int = 0,
                  maxDigits: int = MAX_DIGITS, what: str = "number") -> int:
    """
    The value of C{text}, which must be ASCII digits only (no sign, no white
    space, no underscore), at most C{maxDigits} of them, and within
    C{[minValue, maxValue]}.

    @param what: what the number is, for the error message.
    @raise ValueError: anything else, with a message naming C{what}.
    """
    text = _asText(text)
    if len(text) > maxDigits:
        raise ValueError(f"{what} {_short(text)} has more than {maxDigits} digits")
    if _UNSIGNED.fullmatch(text) is None:
        raise ValueError(f"{what} {_short(text)} is not a whole number of ASCII digits")
    return _inRange(int(text, 10), minValue, maxValue, what)


def parseSigned(text: Union[str, bytes], minValue: Optional[int] = None, maxValue: Optional[int] = None, *,
                maxDigits: int = MAX_DIGITS, what: str = "number") -> int:
    """
    Like L{parseUnsigned}, where a leading C{+} or C{-} is legal.

    @raise ValueError: for anything but C{[+-]?[0-9]+} within the bounds.
    """
    text = _asText(text)
    if len(text) > maxDigits + 1 or len(text.lstrip("+-")) > maxDigits:
        raise ValueError(f"{what} {_short(text)} has more than {maxDigits} digits")
    if _SIGNED.fullmatch(text) is None:
        raise ValueError(f"{what} {_short(text)} is not a whole number of ASCII digits")
    return _inRange(int(text, 10), minValue, maxValue, what)


def _inRange(value: int, minValue: Optional[int], maxValue: Optional[int], what: str) -> int:
    if minValue is not None and value < minValue:
        raise ValueError(f"{what} {value} is below {minValue}")
    if maxValue is not None and value > maxValue:
        raise ValueError(f"{what} {value} is above {maxValue}")
    return value
