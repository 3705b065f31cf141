"""
Printers and MFDs (PRINTERS.md): IPP and the PWG Semantic Model print
service, presented to the ACS as Virtual CWMP Devices.
"""

__all__: list[str] = []
