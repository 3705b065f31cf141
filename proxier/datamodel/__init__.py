"""
Data models: CWMP paths, TR-106 types, the values and faults of the
L{IDataModel<proxier.interfaces.IDataModel>} contract, and the proxier's own
Device:2 tree.
"""

__all__: list[str] = []
