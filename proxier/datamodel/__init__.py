"""
Data models: CWMP paths (L{paths}), TR-106 types (L{types}), the values and
faults of the L{IDataModel<proxier.interfaces.IDataModel>} contract
(L{values}, L{faults}), a declarative in-process model (L{declarations}
what a model author writes, L{tree} the engine serving it), a model
made of mounted models (L{composite}), the optional capabilities models
offer (L{capabilities}), the proxier's own Device:2 trees
(L{managementserver}, L{gateway}), and the types TR-181 gives its
parameters (L{standard}).
"""

__all__: list[str] = []
