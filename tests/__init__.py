"""The proxier's test suite (trial): C{python -m twisted.trial tests}."""
