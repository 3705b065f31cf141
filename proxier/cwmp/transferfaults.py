# -*- test-case-name: tests.test_cwmp_transferfaults -*-
"""
The FaultCodes a TransferComplete or AutonomousTransferComplete may carry
in each CWMP namespace, and what is sent for one the ACS's namespace does
not allow (issue 17.6).

A transfer's outcome is kept with the code that says it best — TR-330
Table 3's 9027 "System Resources Exceeded" for a device whose disk is full —
and the session that carries it to the ACS, knowing the namespace the ACS
answered the Inform in (the negotiated version), sends the closest code that
namespace's schema allows. The schemas' TransferCompleteFaultStruct
(../shared/ref/cwmp; C{tests.test_cwmp_transferfaults} validates every code
against each of them):

    ==========================  ============  ==============================
    namespace                   schema        FaultCode allowed
    ==========================  ============  ==============================
    urn:dslforum-org:cwmp-1-0   cwmp-1-0.xsd  0, 9001-9002, 9010-9012
    urn:dslforum-org:cwmp-1-1   cwmp-1-1.xsd  0, 9001-9002, 9010-9012,
                                              9014-9899 (9027 included)
    urn:dslforum-org:cwmp-1-2   cwmp-1-2.xsd  0, 9001-9002, 9010-9012,
    (CWMP 1.2, 1.3 and 1.4)     (1-3 and 1-4  9014-9020, 9033-9899
                                include it)   (9027 excluded)
    ==========================  ============  ==============================

So 9027 goes as it is to an ACS speaking the 1-1 namespace, and as 9017
"Download failure: unable to complete download" (L{PREFERRED}) to one
speaking 1-2 — which CWMP 1.3 and 1.4 keep, their schemas adding nothing
to TransferComplete. Any other code a namespace lacks (the 1-0 namespace
knows none of the specific download failures) goes as the generic 9010
"Download failure" or 9011 "Upload failure". A namespace newer than those
known is taken as the newest known.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from proxier.cwmp import messages as m

__all__ = ["ALLOWED", "PREFERRED", "allowed", "faultCodeFor", "forNamespace"]

NS_1_0 = "urn:dslforum-org:cwmp-1-0"
NS_1_1 = "urn:dslforum-org:cwmp-1-1"
NS_1_2 = "urn:dslforum-org:cwmp-1-2"

#: The TransferCompleteFaultStruct FaultCode of each namespace's schema, as
#: inclusive ranges (the table of the module docstring).
ALLOWED: Mapping[str, tuple[tuple[int, int], ...]] = {
    NS_1_0: ((0, 0), (9001, 9002), (9010, 9012)),
    NS_1_1: ((0, 0), (9001, 9002), (9010, 9012), (9014, 9899)),
    NS_1_2: ((0, 0), (9001, 9002), (9010, 9012), (9014, 9020), (9033, 9899)),
}

#: A code a namespace lacks → the one to send instead when that one is
#: allowed: TR-330 Table 3's Error_DiskFull (9027) as 9017, the code TR-069
#: devices commonly give for a lack of storage during a download.
PREFERRED: Mapping[int, int] = {9027: 9017}

DOWNLOAD_FAILURE = 9010
UPLOAD_FAILURE = 9011


def _known(namespace: str) -> str:
    if namespace in ALLOWED:
        return namespace
    return NS_1_2  # a newer namespace than the schemas here: the newest known


def allowed(code: int, namespace: str) -> bool:
    """Whether a TransferComplete in C{namespace} may carry FaultCode C{code}."""
    return any(low <= code <= high for low, high in ALLOWED[_known(namespace)])


def faultCodeFor(code: int, namespace: str, isDownload: bool = True) -> int:
    """The FaultCode to send for C{code} to an ACS speaking C{namespace}."""
    if allowed(code, namespace):
        return code
    preferred = PREFERRED.get(code)
    if preferred is not None and allowed(preferred, namespace):
        return preferred
    return DOWNLOAD_FAILURE if isDownload else UPLOAD_FAILURE


def forNamespace(message: Any, namespace: str) -> Any:
    """
    C{message} as it goes to an ACS speaking C{namespace}: a TransferComplete
    or AutonomousTransferComplete whose FaultCode the namespace lacks gets
    L{faultCodeFor}'s (its FaultString kept); anything else is unchanged.
    """
    if isinstance(message, (m.TransferComplete, m.AutonomousTransferComplete)):
        result = message.result
        code = faultCodeFor(result.faultCode, namespace, result.isDownload)
        if code != result.faultCode:
            return dataclasses.replace(message, result=dataclasses.replace(result, faultCode=code))
    return message
