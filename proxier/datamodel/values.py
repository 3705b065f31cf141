# -*- test-case-name: tests.test_datamodel_values -*-
"""
The values that cross the L{IDataModel<proxier.interfaces.IDataModel>}
boundary.

They are plain, immutable and protocol-neutral: the CWMP codec turns them into
SOAP structures, a proxy module (UPnP DM, printers) builds them from its
device's answers. Values are carried as the text CWMP puts on the wire, with
their TR-106 type named by its C{xsi:type} (C{"xsd:string"},
C{"xsd:unsignedInt"}, C{"xsd:boolean"}, C{"xsd:dateTime"}, ...), so that no
layer re-interprets what another already formatted.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from proxier.sharing import internText

__all__ = [
    "DeviceIdentity",
    "ParameterInfo",
    "ParameterValue",
    "ParameterAttributes",
    "AttributeChange",
    "Notification",
    "TransferRequest",
    "TransferResult",
    "AutonomousTransferResult",
    "UNKNOWN_TIME",
]

# TR-069 uses 0001-01-01T00:00:00Z for "unknown time".
UNKNOWN_TIME = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)


class Notification:
    """The values of the Notification attribute (TR-069 A.3.2.4)."""

    OFF = 0
    PASSIVE = 1
    ACTIVE = 2
    # CWMP 1.3 lightweight notification values 3..6 are not offered by the proxier.
    ALL = (OFF, PASSIVE, ACTIVE)


@dataclass(frozen=True)
class DeviceIdentity:
    """
    What a CWMP DeviceIdStruct carries, and what every log line about a device
    names.

    @ivar manufacturer: free text, at most 64 characters.
    @ivar oui: six upper-case hexadecimal digits.
    @ivar productClass: at most 64 characters, may be empty.
    @ivar serialNumber: at most 64 characters.
    """

    manufacturer: str
    oui: str
    productClass: str
    serialNumber: str

    @property
    def key(self) -> str:
        """
        A stable, file-system-safe name for this identity: C{OUI-ProductClass-
        SerialNumber} (the form TR-069 uses for the CPE in HTTP logs), with
        anything but letters, digits, C{.}, C{_} and C{-} replaced by C{_}.
        One string for every caller (issue 19: a device's parts each keep it).
        """
        raw = f"{self.oui}-{self.productClass}-{self.serialNumber}"
        return internText("".join(c if (c.isascii() and (c.isalnum() or c in "._-")) else "_" for c in raw))

    def __str__(self) -> str:
        # one string for every caller, as the key
        return internText(f"{self.oui}-{self.productClass}-{self.serialNumber}")


@dataclass(frozen=True)
class ParameterInfo:
    """One ParameterInfoStruct of a GetParameterNamesResponse."""

    name: str
    writable: bool


@dataclass(frozen=True)
class ParameterValue:
    """
    One ParameterValueStruct: a full parameter name, its value as wire text,
    and its C{xsi:type} (for example C{"xsd:unsignedInt"}).
    """

    name: str
    value: str
    type: str = "xsd:string"


@dataclass(frozen=True)
class ParameterAttributes:
    """One ParameterAttributeStruct of a GetParameterAttributesResponse."""

    name: str
    notification: int = Notification.OFF
    accessList: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttributeChange:
    """
    One SetParameterAttributesStruct: C{name} is a parameter or a partial path
    (ending in C{.}), the change flags say which attributes to touch.
    """

    name: str
    notificationChange: bool = False
    notification: int = Notification.OFF
    accessListChange: bool = False
    accessList: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransferRequest:
    """
    The arguments of a Download or Upload request, whatever RPC carried them.

    @ivar method: the RPC that asked: C{"Download"}, C{"ScheduleDownload"} or
        C{"Upload"}; it names the C{"M ..."} event of the TransferComplete.
    @ivar fileType: for example C{"1 Firmware Upgrade Image"} or
        C{"4 Vendor Log File 2"}.
    """

    method: str
    commandKey: str
    fileType: str
    url: str
    username: str = ""
    password: str = ""
    fileSize: int = 0
    targetFileName: str = ""
    delaySeconds: int = 0
    successURL: str = ""
    failureURL: str = ""

    @property
    def isDownload(self) -> bool:
        return self.method != "Upload"


@dataclass(frozen=True)
class TransferResult:
    """
    The arguments of a TransferComplete: how a transfer the ACS asked for
    ended. C{faultCode} 0 means success; C{method} is the RPC that asked
    (C{"Download"}, C{"ScheduleDownload"}, C{"Upload"}).
    """

    commandKey: str
    method: str
    faultCode: int = 0
    faultString: str = ""
    startTime: datetime.datetime = UNKNOWN_TIME
    completeTime: datetime.datetime = UNKNOWN_TIME

    @property
    def isDownload(self) -> bool:
        return self.method != "Upload"


@dataclass(frozen=True)
class AutonomousTransferResult:
    """The arguments of an AutonomousTransferComplete (TR-069 A.3.3.3)."""

    announceURL: str
    transferURL: str
    isDownload: bool
    fileType: str
    fileSize: int = 0
    targetFileName: str = ""
    faultCode: int = 0
    faultString: str = ""
    startTime: datetime.datetime = UNKNOWN_TIME
    completeTime: datetime.datetime = UNKNOWN_TIME
