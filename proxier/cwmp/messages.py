# -*- test-case-name: tests.test_cwmp_codec -*-
"""
The CWMP messages as value objects: one frozen dataclass per RPC of TR-069
Amendment 5 (Annex A) and per response, a SOAP fault, and the envelope that
carries one of them with the CWMP SOAP headers.

They hold what the wire holds, already typed, and reuse the values of the
data-model contract (L{ParameterValue}, L{ParameterInfo}, L{TransferRequest},
...). The codec (L{proxier.cwmp.codec}) turns them into bytes and back; the
same objects serve the CPE side and the fake ACS of the tests.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import ClassVar, Optional, Union

from proxier.datamodel.faults import CWMPFault
from proxier.datamodel.values import (
    UNKNOWN_TIME,
    AttributeChange,
    AutonomousTransferResult,
    DeviceIdentity,
    ParameterAttributes,
    ParameterInfo,
    ParameterValue,
    TransferRequest,
    TransferResult,
)

__all__ = [
    "CWMP_1_0",
    "CWMP_1_1",
    "CWMP_1_2",
    "DEFAULT_NAMESPACE",
    "Message",
    "Envelope",
    "EventStruct",
    "SOAPFault",
    "UnknownMethod",
    "TimeWindow",
    "QueuedTransfer",
    "AllQueuedTransfer",
    # RPCs the CPE serves (TR-069 A.3.2, A.4.1) and their responses
    "GetRPCMethods",
    "GetRPCMethodsResponse",
    "GetParameterNames",
    "GetParameterNamesResponse",
    "GetParameterValues",
    "GetParameterValuesResponse",
    "SetParameterValues",
    "SetParameterValuesResponse",
    "GetParameterAttributes",
    "GetParameterAttributesResponse",
    "SetParameterAttributes",
    "SetParameterAttributesResponse",
    "AddObject",
    "AddObjectResponse",
    "DeleteObject",
    "DeleteObjectResponse",
    "Reboot",
    "RebootResponse",
    "Download",
    "DownloadResponse",
    "Upload",
    "UploadResponse",
    "FactoryReset",
    "FactoryResetResponse",
    "ScheduleInform",
    "ScheduleInformResponse",
    "ScheduleDownload",
    "ScheduleDownloadResponse",
    "GetQueuedTransfers",
    "GetQueuedTransfersResponse",
    "GetAllQueuedTransfers",
    "GetAllQueuedTransfersResponse",
    "CancelTransfer",
    "CancelTransferResponse",
    # RPCs the ACS serves (TR-069 A.3.3, A.4.2) and their responses
    "Inform",
    "InformResponse",
    "TransferComplete",
    "TransferCompleteResponse",
    "AutonomousTransferComplete",
    "AutonomousTransferCompleteResponse",
    "RequestDownload",
    "RequestDownloadResponse",
    "MESSAGE_TYPES",
    "CPE_METHODS",
    "ACS_METHODS",
    "ACS_REQUIRED_METHODS",
]

CWMP_1_0 = "urn:dslforum-org:cwmp-1-0"
CWMP_1_1 = "urn:dslforum-org:cwmp-1-1"
CWMP_1_2 = "urn:dslforum-org:cwmp-1-2"
# cwmp-1-3.xsd and cwmp-1-4.xsd keep the cwmp-1-2 namespace (INTEROP §CWMP 1).
DEFAULT_NAMESPACE = CWMP_1_2


class Message:
    """
    One CWMP message (the element inside the SOAP Body).

    @cvar name: the element's local name.
    @cvar isRequest: C{True} for a request, C{False} for a response or fault.
    """

    name: ClassVar[str] = ""
    isRequest: ClassVar[bool] = False


def _request(cls):  # type: ignore[no-untyped-def]
    cls.isRequest = True
    return cls


@dataclass(frozen=True)
class EventStruct:
    """One EventStruct of an Inform (TR-069 A.3.3.1): a code and its CommandKey."""

    code: str
    commandKey: str = ""


@dataclass(frozen=True)
class TimeWindow:
    """One TimeWindowStruct of a ScheduleDownload (TR-069 A.4.1.8)."""

    windowStart: int
    windowEnd: int
    windowMode: str = "1 At Any Time"
    userMessage: str = ""
    maxRetries: int = -1


@dataclass(frozen=True)
class QueuedTransfer:
    """One QueuedTransferStruct: State 1 not yet started, 2 in progress, 3 completed."""

    commandKey: str
    state: int


@dataclass(frozen=True)
class AllQueuedTransfer:
    """One AllQueuedTransferStruct of a GetAllQueuedTransfersResponse."""

    commandKey: str
    state: int
    isDownload: bool
    fileType: str
    fileSize: int = 0
    targetFileName: str = ""


# --- Generic (A.3.1) -------------------------------------------------------


@_request
@dataclass(frozen=True)
class GetRPCMethods(Message):
    name: ClassVar[str] = "GetRPCMethods"


@dataclass(frozen=True)
class GetRPCMethodsResponse(Message):
    name: ClassVar[str] = "GetRPCMethodsResponse"
    methods: tuple[str, ...] = ()


# --- CPE methods (A.3.2, A.4.1) ----------------------------------------------


@_request
@dataclass(frozen=True)
class GetParameterNames(Message):
    name: ClassVar[str] = "GetParameterNames"
    path: str = ""
    nextLevel: bool = False


@dataclass(frozen=True)
class GetParameterNamesResponse(Message):
    name: ClassVar[str] = "GetParameterNamesResponse"
    parameters: tuple[ParameterInfo, ...] = ()


@_request
@dataclass(frozen=True)
class GetParameterValues(Message):
    name: ClassVar[str] = "GetParameterValues"
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class GetParameterValuesResponse(Message):
    name: ClassVar[str] = "GetParameterValuesResponse"
    parameters: tuple[ParameterValue, ...] = ()


@_request
@dataclass(frozen=True)
class SetParameterValues(Message):
    name: ClassVar[str] = "SetParameterValues"
    parameters: tuple[ParameterValue, ...] = ()
    parameterKey: str = ""


@dataclass(frozen=True)
class SetParameterValuesResponse(Message):
    name: ClassVar[str] = "SetParameterValuesResponse"
    status: int = 0


@_request
@dataclass(frozen=True)
class GetParameterAttributes(Message):
    name: ClassVar[str] = "GetParameterAttributes"
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class GetParameterAttributesResponse(Message):
    name: ClassVar[str] = "GetParameterAttributesResponse"
    parameters: tuple[ParameterAttributes, ...] = ()


@_request
@dataclass(frozen=True)
class SetParameterAttributes(Message):
    name: ClassVar[str] = "SetParameterAttributes"
    changes: tuple[AttributeChange, ...] = ()


@dataclass(frozen=True)
class SetParameterAttributesResponse(Message):
    name: ClassVar[str] = "SetParameterAttributesResponse"


@_request
@dataclass(frozen=True)
class AddObject(Message):
    name: ClassVar[str] = "AddObject"
    objectName: str = ""
    parameterKey: str = ""


@dataclass(frozen=True)
class AddObjectResponse(Message):
    name: ClassVar[str] = "AddObjectResponse"
    instanceNumber: int = 1
    status: int = 0


@_request
@dataclass(frozen=True)
class DeleteObject(Message):
    name: ClassVar[str] = "DeleteObject"
    objectName: str = ""
    parameterKey: str = ""


@dataclass(frozen=True)
class DeleteObjectResponse(Message):
    name: ClassVar[str] = "DeleteObjectResponse"
    status: int = 0


@_request
@dataclass(frozen=True)
class Reboot(Message):
    name: ClassVar[str] = "Reboot"
    commandKey: str = ""


@dataclass(frozen=True)
class RebootResponse(Message):
    name: ClassVar[str] = "RebootResponse"


@_request
@dataclass(frozen=True)
class Download(Message):
    """A Download request; C{request.method} is C{"Download"}."""

    name: ClassVar[str] = "Download"
    request: TransferRequest = field(default_factory=lambda: TransferRequest("Download", "", "", ""))


@dataclass(frozen=True)
class DownloadResponse(Message):
    name: ClassVar[str] = "DownloadResponse"
    status: int = 1
    startTime: datetime.datetime = UNKNOWN_TIME
    completeTime: datetime.datetime = UNKNOWN_TIME


@_request
@dataclass(frozen=True)
class Upload(Message):
    """An Upload request; C{request.method} is C{"Upload"}."""

    name: ClassVar[str] = "Upload"
    request: TransferRequest = field(default_factory=lambda: TransferRequest("Upload", "", "", ""))


@dataclass(frozen=True)
class UploadResponse(Message):
    name: ClassVar[str] = "UploadResponse"
    status: int = 1
    startTime: datetime.datetime = UNKNOWN_TIME
    completeTime: datetime.datetime = UNKNOWN_TIME


@_request
@dataclass(frozen=True)
class FactoryReset(Message):
    name: ClassVar[str] = "FactoryReset"


@dataclass(frozen=True)
class FactoryResetResponse(Message):
    name: ClassVar[str] = "FactoryResetResponse"


@_request
@dataclass(frozen=True)
class ScheduleInform(Message):
    name: ClassVar[str] = "ScheduleInform"
    delaySeconds: int = 0
    commandKey: str = ""


@dataclass(frozen=True)
class ScheduleInformResponse(Message):
    name: ClassVar[str] = "ScheduleInformResponse"


@_request
@dataclass(frozen=True)
class ScheduleDownload(Message):
    """
    A ScheduleDownload request: the transfer (C{request.method} is
    C{"ScheduleDownload"}; DelaySeconds, SuccessURL and FailureURL do not
    exist in this RPC) and one or two time windows.
    """

    name: ClassVar[str] = "ScheduleDownload"
    request: TransferRequest = field(default_factory=lambda: TransferRequest("ScheduleDownload", "", "", ""))
    timeWindows: tuple[TimeWindow, ...] = ()


@dataclass(frozen=True)
class ScheduleDownloadResponse(Message):
    name: ClassVar[str] = "ScheduleDownloadResponse"


@_request
@dataclass(frozen=True)
class GetQueuedTransfers(Message):
    name: ClassVar[str] = "GetQueuedTransfers"


@dataclass(frozen=True)
class GetQueuedTransfersResponse(Message):
    name: ClassVar[str] = "GetQueuedTransfersResponse"
    transfers: tuple[QueuedTransfer, ...] = ()


@_request
@dataclass(frozen=True)
class GetAllQueuedTransfers(Message):
    name: ClassVar[str] = "GetAllQueuedTransfers"


@dataclass(frozen=True)
class GetAllQueuedTransfersResponse(Message):
    name: ClassVar[str] = "GetAllQueuedTransfersResponse"
    transfers: tuple[AllQueuedTransfer, ...] = ()


@_request
@dataclass(frozen=True)
class CancelTransfer(Message):
    name: ClassVar[str] = "CancelTransfer"
    commandKey: str = ""


@dataclass(frozen=True)
class CancelTransferResponse(Message):
    name: ClassVar[str] = "CancelTransferResponse"


# --- ACS methods (A.3.3, A.4.2) ----------------------------------------------


@_request
@dataclass(frozen=True)
class Inform(Message):
    name: ClassVar[str] = "Inform"
    deviceId: DeviceIdentity = DeviceIdentity("", "000000", "", "")
    events: tuple[EventStruct, ...] = ()
    maxEnvelopes: int = 1
    currentTime: datetime.datetime = UNKNOWN_TIME
    retryCount: int = 0
    parameters: tuple[ParameterValue, ...] = ()


@dataclass(frozen=True)
class InformResponse(Message):
    name: ClassVar[str] = "InformResponse"
    maxEnvelopes: int = 1


@_request
@dataclass(frozen=True)
class TransferComplete(Message):
    """
    A TransferComplete. The wire does not say which RPC asked for the
    transfer: a decoded one has C{result.method == ""}.
    """

    name: ClassVar[str] = "TransferComplete"
    result: TransferResult = TransferResult("", "")


@dataclass(frozen=True)
class TransferCompleteResponse(Message):
    name: ClassVar[str] = "TransferCompleteResponse"


@_request
@dataclass(frozen=True)
class AutonomousTransferComplete(Message):
    name: ClassVar[str] = "AutonomousTransferComplete"
    result: AutonomousTransferResult = AutonomousTransferResult("", "", True, "1 Firmware Upgrade Image")


@dataclass(frozen=True)
class AutonomousTransferCompleteResponse(Message):
    name: ClassVar[str] = "AutonomousTransferCompleteResponse"


@_request
@dataclass(frozen=True)
class RequestDownload(Message):
    name: ClassVar[str] = "RequestDownload"
    fileType: str = "1 Firmware Upgrade Image"
    fileTypeArgs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RequestDownloadResponse(Message):
    name: ClassVar[str] = "RequestDownloadResponse"


# --- Faults and unknown methods ----------------------------------------------


@dataclass(frozen=True)
class SOAPFault(Message):
    """
    A SOAP Fault with a C{cwmp:Fault} detail (TR-069 A.5).

    @ivar faultcode: C{"Client"} or C{"Server"}; C{None} picks the one TR-069
        assigns to C{fault.code} (see L{proxier.cwmp.codec.FAULT_TYPES}).
    """

    name: ClassVar[str] = "Fault"
    fault: CWMPFault = CWMPFault(9002)
    faultcode: Optional[str] = None


@dataclass(frozen=True)
class UnknownMethod(Message):
    """
    A request this codec does not know (an RPC of a later amendment, a vendor
    RPC, or an element outside any CWMP namespace). Only ever decoded: the
    answer is fault 9000 (or 8000 from an ACS).
    """

    name: ClassVar[str] = "UnknownMethod"
    isRequest: ClassVar[bool] = True
    method: str = ""
    namespace: str = ""


Body = Union[Message, None]


@dataclass(frozen=True)
class Envelope:
    """
    One SOAP envelope: a CWMP message (or none: an envelope with an empty
    Body) and the CWMP header elements (TR-069 Table 6; C{None} when absent).

    @ivar id: C{cwmp:ID}; a response carries the ID of its request.
    @ivar holdRequests: C{cwmp:HoldRequests} (ACS to CPE only).
    @ivar sessionTimeout: C{cwmp:SessionTimeout} (CPE to ACS, in an Inform).
    @ivar supportedVersions: C{cwmp:SupportedCWMPVersions} (CPE to ACS,
        in an Inform), for example C{"1.0,1.1,1.2,1.3,1.4"}.
    @ivar useVersion: C{cwmp:UseCWMPVersion} (ACS to CPE, in an
        InformResponse).
    @ivar noMoreRequests: the deprecated C{cwmp:NoMoreRequests}; decoded and
        otherwise ignored.
    @ivar namespace: the CWMP namespace the envelope uses.
    """

    body: Body
    id: Optional[str] = None
    holdRequests: Optional[bool] = None
    sessionTimeout: Optional[int] = None
    supportedVersions: Optional[str] = None
    useVersion: Optional[str] = None
    noMoreRequests: Optional[bool] = None
    namespace: str = DEFAULT_NAMESPACE


MESSAGE_TYPES: dict[str, type] = {
    cls.name: cls  # type: ignore[attr-defined]
    for cls in (
        GetRPCMethods, GetRPCMethodsResponse,
        GetParameterNames, GetParameterNamesResponse,
        GetParameterValues, GetParameterValuesResponse,
        SetParameterValues, SetParameterValuesResponse,
        GetParameterAttributes, GetParameterAttributesResponse,
        SetParameterAttributes, SetParameterAttributesResponse,
        AddObject, AddObjectResponse,
        DeleteObject, DeleteObjectResponse,
        Reboot, RebootResponse,
        Download, DownloadResponse,
        Upload, UploadResponse,
        FactoryReset, FactoryResetResponse,
        ScheduleInform, ScheduleInformResponse,
        ScheduleDownload, ScheduleDownloadResponse,
        GetQueuedTransfers, GetQueuedTransfersResponse,
        GetAllQueuedTransfers, GetAllQueuedTransfersResponse,
        CancelTransfer, CancelTransferResponse,
        Inform, InformResponse,
        TransferComplete, TransferCompleteResponse,
        AutonomousTransferComplete, AutonomousTransferCompleteResponse,
        RequestDownload, RequestDownloadResponse,
    )
}

# The RPCs a CPE may be asked (TR-069 Amendment 5 Table 5, "CPE methods",
# less ChangeDUState/SetVouchers/GetOptions, which this codec answers 9000).
CPE_METHODS = frozenset({
    "GetRPCMethods", "GetParameterNames", "GetParameterValues", "SetParameterValues",
    "GetParameterAttributes", "SetParameterAttributes", "AddObject", "DeleteObject",
    "Reboot", "Download", "Upload", "FactoryReset", "ScheduleInform", "ScheduleDownload",
    "GetQueuedTransfers", "GetAllQueuedTransfers", "CancelTransfer",
})

# The RPCs a CPE may send (TR-069 Amendment 5 Table 5, "ACS methods", less
# Kicked, DUStateChangeComplete and AutonomousDUStateChangeComplete).
ACS_METHODS = frozenset({
    "Inform", "GetRPCMethods", "TransferComplete", "AutonomousTransferComplete", "RequestDownload",
})

# What every ACS must support (TR-069 Amendment 5 Table 5: "Required" for the
# ACS): used when an ACS cannot say what it supports.
ACS_REQUIRED_METHODS = frozenset({"Inform", "GetRPCMethods", "TransferComplete"})
