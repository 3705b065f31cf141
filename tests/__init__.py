"""The proxier's test suite (trial): C{python -m twisted.trial tests}."""

from tests import _netguard

_netguard.install()  # see tests/_netguard.py: no multicast or broadcast outside a private namespace

__all__: list[str] = []
