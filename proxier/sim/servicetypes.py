# -*- test-case-name: tests.test_sim_servicetypes -*-
"""
The three UPnP DM service types a simulated device offers, as data: every
state variable (data type, evented or not, allowed values and ranges) and
every action (its in and out arguments, in order, with their related state
variables), each marked optional or required as the UPnP Forum service
templates mark them.

The rows transcribe the standard service templates BasicManagement:2,
ConfigurationManagement:2 and SoftwareManagement:2 (the copies in
C{shared/ref/upnp-dm/service-templates}; C{tests.test_sim_servicetypes}
walks them row by row against those files). A device's SCPD is built from
these tables by L{proxier.sim.scpd}: every required action, the optional
actions the device implements, and the state variables those use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

# An action row is what the control point reads from a service template.
from proxier.upnp.description import Action, Argument

__all__ = [
    "StateVariable",
    "Argument",
    "Action",
    "ServiceType",
    "CMS2",
    "BMS2",
    "SMS2",
    "SERVICE_TYPES",
    "MANAGEABLE_DEVICE_2",
]

MANAGEABLE_DEVICE_2 = "urn:schemas-upnp-org:device:ManageableDevice:2"


@dataclass(frozen=True)
class StateVariable:
    """
    One row of a service state table.

    @ivar moderation: for an evented variable, the fewest seconds between two
        events carrying it (0: every change is sent at once).
    """

    name: str
    dataType: str
    evented: bool = False
    optional: bool = False
    allowed: tuple[str, ...] = ()
    valueRange: Optional[tuple[int, int]] = None
    default: Optional[str] = None
    moderation: float = 0.0


@dataclass(frozen=True)
class ServiceType:
    """
    A service type: its URN, the serviceId devices give it, its tables.
    """

    serviceType: str
    serviceId: str
    stateVariables: Mapping[str, StateVariable] = field(default_factory=dict)
    actions: Mapping[str, Action] = field(default_factory=dict)

    @property
    def requiredActions(self) -> tuple[str, ...]:
        return tuple(name for name, action in self.actions.items() if not action.optional)


def _v(name: str, dataType: str, **kw) -> StateVariable:
    return StateVariable(name, dataType, **kw)


def _a(name: str, optional: bool, ins: list, outs: list) -> Action:
    return Action(
        name,
        tuple(Argument(n, "in", v) for n, v in ins) + tuple(Argument(n, "out", v) for n, v in outs),
        optional,
    )


def _service(serviceType: str, serviceId: str, variables: list, actions: list) -> ServiceType:
    return ServiceType(
        serviceType,
        serviceId,
        {v.name: v for v in variables},
        {a.name: a for a in actions},
    )

# ConfigurationManagement:2 service template: serviceStateTable and actionList.
CMS2 = _service(
    "urn:schemas-upnp-org:service:ConfigurationManagement:2",
    "urn:upnp-org:serviceId:ConfigurationManagement",
    [
        # moderation: not in the template; this device coalesces the events
        # of a burst of changes, at most one a second (UDA 1.1 §4.3.2).
        _v('ConfigurationUpdate', 'string', evented=True, moderation=1.0),
        _v('CurrentConfigurationVersion', 'ui4'),
        _v('SupportedDataModelsUpdate', 'string', evented=True),
        _v('SupportedParametersUpdate', 'string', evented=True),
        _v('AttributeValuesUpdate', 'string', evented=True, optional=True, moderation=1.0),
        _v('InconsistentStatus', 'boolean', evented=True, optional=True),
        _v('AlarmsEnabled', 'boolean', evented=True, optional=True),
        _v('A_ARG_TYPE_StructurePath', 'string'),
        _v('A_ARG_TYPE_StructurePathList', 'string'),
        _v('A_ARG_TYPE_PartialPath', 'string'),
        _v('A_ARG_TYPE_ParameterValueList', 'string'),
        _v('A_ARG_TYPE_NodeAttributeValueList', 'string'),
        _v('A_ARG_TYPE_ParameterInitialValueList', 'string'),
        _v('A_ARG_TYPE_Filter', 'string'),
        _v('A_ARG_TYPE_SupportedDataModels', 'string'),
        _v('A_ARG_TYPE_SearchDepth', 'ui4'),
        _v('A_ARG_TYPE_ChangeStatus', 'string', allowed=('ChangesCommitted', 'ChangesApplied')),
        _v('A_ARG_TYPE_InstancePathList', 'string'),
        _v('A_ARG_TYPE_ContentPathList', 'string'),
        _v('A_ARG_TYPE_MultiInstancePath', 'string'),
        _v('A_ARG_TYPE_InstancePath', 'string'),
        _v('A_ARG_TYPE_NodeAttributePathList', 'string'),
        _v('A_ARG_TYPE_ACLDataPathList', 'string', optional=True),
        _v('A_ARG_TYPE_ACL', 'string', optional=True),
    ],
    [
        _a('GetSupportedDataModels', False, ins=[], outs=[('SupportedDataModels', 'A_ARG_TYPE_SupportedDataModels')]),
        _a('GetSupportedParameters', False, ins=[('StartingNode', 'A_ARG_TYPE_StructurePath'), ('SearchDepth', 'A_ARG_TYPE_SearchDepth')], outs=[('Result', 'A_ARG_TYPE_StructurePathList')]),
        _a('GetInstances', False, ins=[('StartingNode', 'A_ARG_TYPE_PartialPath'), ('SearchDepth', 'A_ARG_TYPE_SearchDepth')], outs=[('Result', 'A_ARG_TYPE_InstancePathList')]),
        _a('GetValues', False, ins=[('Parameters', 'A_ARG_TYPE_ContentPathList')], outs=[('ParameterValueList', 'A_ARG_TYPE_ParameterValueList')]),
        _a('GetSelectedValues', True, ins=[('StartingNode', 'A_ARG_TYPE_StructurePath'), ('Filter', 'A_ARG_TYPE_Filter')], outs=[('ParameterValueList', 'A_ARG_TYPE_ParameterValueList')]),
        _a('SetValues', True, ins=[('ParameterValueList', 'A_ARG_TYPE_ParameterValueList')], outs=[('Status', 'A_ARG_TYPE_ChangeStatus')]),
        _a('CreateInstance', True, ins=[('MultiInstanceName', 'A_ARG_TYPE_MultiInstancePath'), ('ChildrenInitialization', 'A_ARG_TYPE_ParameterInitialValueList')], outs=[('InstanceIdentifier', 'A_ARG_TYPE_InstancePath'), ('Status', 'A_ARG_TYPE_ChangeStatus')]),
        _a('DeleteInstance', True, ins=[('InstanceIdentifier', 'A_ARG_TYPE_InstancePath')], outs=[('Status', 'A_ARG_TYPE_ChangeStatus')]),
        _a('GetAttributes', False, ins=[('Parameters', 'A_ARG_TYPE_NodeAttributePathList')], outs=[('NodeAttributeValueList', 'A_ARG_TYPE_NodeAttributeValueList')]),
        _a('SetAttributes', True, ins=[('NodeAttributeValueList', 'A_ARG_TYPE_NodeAttributeValueList')], outs=[('Status', 'A_ARG_TYPE_ChangeStatus')]),
        _a('GetInconsistentStatus', True, ins=[], outs=[('StateVariableValue', 'InconsistentStatus')]),
        _a('GetConfigurationUpdate', False, ins=[], outs=[('StateVariableValue', 'ConfigurationUpdate')]),
        _a('GetCurrentConfigurationVersion', False, ins=[], outs=[('StateVariableValue', 'CurrentConfigurationVersion')]),
        _a('GetSupportedDataModelsUpdate', False, ins=[], outs=[('StateVariableValue', 'SupportedDataModelsUpdate')]),
        _a('GetSupportedParametersUpdate', False, ins=[], outs=[('StateVariableValue', 'SupportedParametersUpdate')]),
        _a('GetAttributeValuesUpdate', True, ins=[], outs=[('StateVariableValue', 'AttributeValuesUpdate')]),
        _a('GetAlarmsEnabled', True, ins=[], outs=[('StateVariableValue', 'AlarmsEnabled')]),
        _a('SetAlarmsEnabled', True, ins=[('StateVariableValue', 'AlarmsEnabled')], outs=[]),
        _a('GetACLData', True, ins=[('StartingNodes', 'A_ARG_TYPE_ACLDataPathList')], outs=[('ACL', 'A_ARG_TYPE_ACL')]),
    ],
)

# BasicManagement:2 service template: serviceStateTable and actionList.
BMS2 = _service(
    "urn:schemas-upnp-org:service:BasicManagement:2",
    "urn:upnp-org:serviceId:BasicManagement",
    [
        _v('DeviceStatus', 'string', evented=True),
        _v('SequenceMode', 'boolean', evented=True, optional=True, default='0'),
        _v('TestIDs', 'string', evented=True, optional=True, default=''),
        _v('ActiveTestIDs', 'string', evented=True, optional=True, default=''),
        _v('LogURIs', 'string', evented=True, optional=True),
        _v('A_ARG_TYPE_Boolean', 'boolean', optional=True),
        _v('A_ARG_TYPE_String', 'string', optional=True),
        _v('A_ARG_TYPE_UShort', 'ui2', optional=True),
        _v('A_ARG_TYPE_UInt', 'ui4', optional=True),
        _v('A_ARG_TYPE_DateTime', 'dateTime.tz', optional=True),
        _v('A_ARG_TYPE_MSecs', 'ui4', optional=True),
        _v('A_ARG_TYPE_RebootStatus', 'string', optional=True, allowed=('RebootNow', 'RebootLater')),
        _v('A_ARG_TYPE_TestID', 'ui4', optional=True),
        _v('A_ARG_TYPE_TestType', 'string', optional=True, allowed=('BandwidthTest', 'InterfaceReset', 'NSLookup', 'Ping', 'SelfTest', 'Traceroute')),
        _v('A_ARG_TYPE_TestState', 'string', optional=True, allowed=('Requested', 'InProgress', 'Canceled', 'Completed')),
        _v('A_ARG_TYPE_TestEndpoint', 'string', optional=True, allowed=('Server', 'Client')),
        _v('A_ARG_TYPE_TestSchedule', 'string', optional=True),
        _v('A_ARG_TYPE_TestSessID', 'string', optional=True),
        _v('A_ARG_TYPE_DSCP', 'ui1', optional=True, valueRange=(0, 63)),
        _v('A_ARG_TYPE_Host', 'string', optional=True),
        _v('A_ARG_TYPE_Hosts', 'string', optional=True),
        _v('A_ARG_TYPE_HostName', 'string', optional=True),
        _v('A_ARG_TYPE_PingStatus', 'string', optional=True, allowed=('Success', 'Error_CannotResolveHostName', 'Error_Internal', 'Error_Other')),
        _v('A_ARG_TYPE_NSLookupStatus', 'string', optional=True, allowed=('Success', 'Error_DNSServerNotResolved', 'Error_Internal', 'Error_Other')),
        _v('A_ARG_TYPE_NSLookupResult', 'string', optional=True),
        _v('A_ARG_TYPE_TracerouteStatus', 'string', optional=True, allowed=('Success', 'Error_CannotResolveHostName', 'Error_MaxHopCountExceeded', 'Error_Internal', 'Error_Other')),
        _v('A_ARG_TYPE_BandwidthTestInfo', 'string', optional=True),
        _v('A_ARG_TYPE_BandwidthTestSpec', 'string', optional=True),
        _v('A_ARG_TYPE_BandwidthTestStatus', 'string', optional=True, allowed=('Success', 'Error_InitConnectionFailed', 'Error_NoResponse', 'Error_TransferFailed', 'Error_PasswordRequestFailed', 'Error_LoginFailed', 'Error_NoTransferMode', 'Error_IncorrectSize', 'Error_NoTransferComplete', 'Error_Timeout', 'Error_Other', 'Error_FTPNoPASV', 'Error_FTPNoCWD', 'Error_FTPNoSTOR')),
        _v('A_ARG_TYPE_BandwidthTestResult', 'string', optional=True),
        _v('A_ARG_TYPE_Interfaces', 'string', optional=True, allowed=('AllInterfaces', 'RequestInterface', 'NorthboundInterfaces')),
        _v('A_ARG_TYPE_InterfaceResetStatus', 'string', optional=True, allowed=('Success', 'Error')),
        _v('A_ARG_TYPE_LogURI', 'uri', optional=True),
        _v('A_ARG_TYPE_LogURL', 'uri', optional=True),
        _v('A_ARG_TYPE_LogLevel', 'string', optional=True, allowed=('Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug')),
        _v('A_ARG_TYPE_LogMaxSize', 'ui4', optional=True),
        _v('A_ARG_TYPE_ACL', 'string', optional=True),
    ],
    [
        _a('Reboot', True, ins=[], outs=[('RebootStatus', 'A_ARG_TYPE_RebootStatus')]),
        _a('BaselineReset', True, ins=[], outs=[]),
        _a('GetDeviceStatus', False, ins=[], outs=[('DeviceStatus', 'DeviceStatus')]),
        _a('SetSequenceMode', True, ins=[('NewSequenceMode', 'SequenceMode')], outs=[('OldSequenceMode', 'SequenceMode')]),
        _a('GetSequenceMode', True, ins=[], outs=[('SequenceMode', 'SequenceMode')]),
        _a('Ping', True, ins=[('Host', 'A_ARG_TYPE_Host'), ('NumberOfRepetitions', 'A_ARG_TYPE_UInt'), ('Timeout', 'A_ARG_TYPE_MSecs'), ('DataBlockSize', 'A_ARG_TYPE_UShort'), ('DSCP', 'A_ARG_TYPE_DSCP')], outs=[('TestID', 'A_ARG_TYPE_TestID')]),
        _a('GetPingResult', True, ins=[('TestID', 'A_ARG_TYPE_TestID')], outs=[('Status', 'A_ARG_TYPE_PingStatus'), ('AdditionalInfo', 'A_ARG_TYPE_String'), ('SuccessCount', 'A_ARG_TYPE_UInt'), ('FailureCount', 'A_ARG_TYPE_UInt'), ('AverageResponseTime', 'A_ARG_TYPE_MSecs'), ('MinimumResponseTime', 'A_ARG_TYPE_MSecs'), ('MaximumResponseTime', 'A_ARG_TYPE_MSecs')]),
        _a('NSLookup', True, ins=[('HostName', 'A_ARG_TYPE_HostName'), ('DNSServer', 'A_ARG_TYPE_Host'), ('NumberOfRepetitions', 'A_ARG_TYPE_UInt'), ('Timeout', 'A_ARG_TYPE_MSecs')], outs=[('TestID', 'A_ARG_TYPE_TestID')]),
        _a('GetNSLookupResult', True, ins=[('TestID', 'A_ARG_TYPE_TestID')], outs=[('Status', 'A_ARG_TYPE_NSLookupStatus'), ('AdditionalInfo', 'A_ARG_TYPE_String'), ('SuccessCount', 'A_ARG_TYPE_UInt'), ('Result', 'A_ARG_TYPE_NSLookupResult')]),
        _a('Traceroute', True, ins=[('Host', 'A_ARG_TYPE_Host'), ('Timeout', 'A_ARG_TYPE_MSecs'), ('DataBlockSize', 'A_ARG_TYPE_UShort'), ('MaxHopCount', 'A_ARG_TYPE_UInt'), ('DSCP', 'A_ARG_TYPE_DSCP')], outs=[('TestID', 'A_ARG_TYPE_TestID')]),
        _a('GetTracerouteResult', True, ins=[('TestID', 'A_ARG_TYPE_TestID')], outs=[('Status', 'A_ARG_TYPE_TracerouteStatus'), ('AdditionalInfo', 'A_ARG_TYPE_String'), ('ResponseTime', 'A_ARG_TYPE_MSecs'), ('HopHosts', 'A_ARG_TYPE_Hosts')]),
        _a('GetBandwidthTestInfo', True, ins=[], outs=[('BandwidthTestInfo', 'A_ARG_TYPE_BandwidthTestInfo')]),
        _a('BandwidthTest', True, ins=[('BandwidthTestSpec', 'A_ARG_TYPE_BandwidthTestSpec'), ('TestEndpoint', 'A_ARG_TYPE_TestEndpoint'), ('TestSchedule', 'A_ARG_TYPE_TestSchedule'), ('TestSessID', 'A_ARG_TYPE_TestSessID')], outs=[('TestID', 'A_ARG_TYPE_TestID')]),
        _a('GetBandwidthTestResult', True, ins=[('TestID', 'A_ARG_TYPE_TestID')], outs=[('State', 'A_ARG_TYPE_TestState'), ('Status', 'A_ARG_TYPE_BandwidthTestStatus'), ('AdditionalInfo', 'A_ARG_TYPE_String'), ('Result', 'A_ARG_TYPE_BandwidthTestResult')]),
        _a('InterfaceReset', True, ins=[('Interfaces', 'A_ARG_TYPE_Interfaces')], outs=[('TestID', 'A_ARG_TYPE_TestID')]),
        _a('GetInterfaceResetResult', True, ins=[('TestID', 'A_ARG_TYPE_TestID')], outs=[('Status', 'A_ARG_TYPE_InterfaceResetStatus'), ('AdditionalInfo', 'A_ARG_TYPE_String'), ('NumberOfSuccesses', 'A_ARG_TYPE_UShort'), ('NumberOfFailures', 'A_ARG_TYPE_UShort')]),
        _a('SelfTest', True, ins=[], outs=[('TestID', 'A_ARG_TYPE_TestID')]),
        _a('GetSelfTestResult', True, ins=[('TestID', 'A_ARG_TYPE_TestID')], outs=[('Status', 'A_ARG_TYPE_Boolean'), ('AdditionalInfo', 'A_ARG_TYPE_String')]),
        _a('GetTestIDs', True, ins=[], outs=[('TestIDs', 'TestIDs')]),
        _a('GetActiveTestIDs', True, ins=[], outs=[('TestIDs', 'ActiveTestIDs')]),
        _a('GetTestInfo', True, ins=[('TestID', 'A_ARG_TYPE_TestID')], outs=[('Type', 'A_ARG_TYPE_TestType'), ('State', 'A_ARG_TYPE_TestState')]),
        _a('CancelTest', True, ins=[('TestID', 'A_ARG_TYPE_TestID')], outs=[]),
        _a('GetLogURIs', True, ins=[], outs=[('LogURIs', 'LogURIs')]),
        _a('SetLogInfo', True, ins=[('LogURI', 'A_ARG_TYPE_LogURI'), ('Enabled', 'A_ARG_TYPE_Boolean'), ('LogLevel', 'A_ARG_TYPE_LogLevel')], outs=[]),
        _a('GetLogInfo', True, ins=[('LogURI', 'A_ARG_TYPE_LogURI')], outs=[('Configurable', 'A_ARG_TYPE_Boolean'), ('Enabled', 'A_ARG_TYPE_Boolean'), ('LogLevel', 'A_ARG_TYPE_LogLevel'), ('LogURL', 'A_ARG_TYPE_LogURL'), ('MaxSize', 'A_ARG_TYPE_LogMaxSize'), ('LastChange', 'A_ARG_TYPE_DateTime')]),
        _a('GetACLData', True, ins=[], outs=[('ACL', 'A_ARG_TYPE_ACL')]),
    ],
)

# SoftwareManagement:2 service template: serviceStateTable and actionList.
SMS2 = _service(
    "urn:schemas-upnp-org:service:SoftwareManagement:2",
    "urn:upnp-org:serviceId:SoftwareManagement",
    [
        _v('OperationIDs', 'string', evented=True),
        _v('DUIDs', 'string', evented=True),
        _v('EUIDs', 'string', evented=True),
        _v('ActiveEUIDs', 'string', evented=True),
        _v('RunningEUIDs', 'string', evented=True),
        _v('ErrorEUIDs', 'string', evented=True),
        _v('A_ARG_TYPE_Boolean', 'boolean'),
        _v('A_ARG_TYPE_String', 'string'),
        _v('A_ARG_TYPE_ID', 'ui4'),
        _v('A_ARG_TYPE_IDs', 'string'),
        _v('A_ARG_TYPE_OperationState', 'string', allowed=('Requested', 'InProgress', 'Completed', 'Error')),
        _v('A_ARG_TYPE_URI', 'uri'),
        _v('A_ARG_TYPE_Action', 'string', allowed=('Install', 'Update', 'Uninstall', 'Start', 'Stop')),
        _v('A_ARG_TYPE_ErrorDescription', 'string', allowed=('Error_None', 'Error_ConcurrentAccess', 'Error_MissingDependency', 'Error_Network', 'Error_CorruptedFile', 'Error_DiskFull', 'Error_Other')),
        _v('A_ARG_TYPE_DUType', 'string', allowed=('Firmware', 'Application', 'Configuration', 'Other')),
        _v('A_ARG_TYPE_Name', 'string', optional=True),
        _v('A_ARG_TYPE_Version', 'string', optional=True),
        _v('A_ARG_TYPE_DUState', 'string', optional=True, allowed=('Installing', 'Unresolved', 'Installed', 'Uninstalling', 'Uninstalled')),
        _v('A_ARG_TYPE_EURequestedState', 'string', optional=True, allowed=('Active', 'Inactive')),
        _v('A_ARG_TYPE_EURunningState', 'string', optional=True, allowed=('Running', 'Stopped', 'Starting', 'Stopping')),
        _v('A_ARG_TYPE_ACL', 'string', optional=True),
    ],
    [
        _a('Install', False, ins=[('DUURI', 'A_ARG_TYPE_URI'), ('DUType', 'A_ARG_TYPE_DUType'), ('HandleDependencies', 'A_ARG_TYPE_Boolean')], outs=[('OperationID', 'A_ARG_TYPE_ID')]),
        _a('Update', False, ins=[('DUID', 'A_ARG_TYPE_ID'), ('NewDUURI', 'A_ARG_TYPE_URI'), ('HandleDependencies', 'A_ARG_TYPE_Boolean')], outs=[('OperationID', 'A_ARG_TYPE_ID')]),
        _a('Uninstall', False, ins=[('DUID', 'A_ARG_TYPE_ID'), ('HandleDependencies', 'A_ARG_TYPE_Boolean')], outs=[('OperationID', 'A_ARG_TYPE_ID')]),
        _a('Start', False, ins=[('EUID', 'A_ARG_TYPE_ID'), ('HandleDependencies', 'A_ARG_TYPE_Boolean')], outs=[('OperationID', 'A_ARG_TYPE_ID')]),
        _a('Stop', False, ins=[('EUID', 'A_ARG_TYPE_ID'), ('HandleDependencies', 'A_ARG_TYPE_Boolean')], outs=[('OperationID', 'A_ARG_TYPE_ID')]),
        _a('GetDUIDs', False, ins=[], outs=[('DUIDs', 'DUIDs')]),
        _a('GetEUIDs', False, ins=[], outs=[('EUIDs', 'EUIDs')]),
        _a('GetActiveEUIDs', False, ins=[], outs=[('ActiveEUIDs', 'ActiveEUIDs')]),
        _a('GetRunningEUIDs', False, ins=[], outs=[('RunningEUIDs', 'RunningEUIDs')]),
        _a('GetOperationInfo', False, ins=[('OperationID', 'A_ARG_TYPE_ID')], outs=[('OperationState', 'A_ARG_TYPE_OperationState'), ('TargetedIDs', 'A_ARG_TYPE_IDs'), ('Action', 'A_ARG_TYPE_Action'), ('ErrorDescription', 'A_ARG_TYPE_ErrorDescription'), ('AdditionalInfo', 'A_ARG_TYPE_String')]),
        _a('GetOperationIDs', False, ins=[], outs=[('OperationIDs', 'OperationIDs')]),
        _a('GetErrorEUIDs', False, ins=[], outs=[('ErrorEUIDs', 'ErrorEUIDs')]),
        _a('GetDUInfo', True, ins=[('DUID', 'A_ARG_TYPE_ID')], outs=[('DUName', 'A_ARG_TYPE_Name'), ('DUVersion', 'A_ARG_TYPE_Version'), ('DUType', 'A_ARG_TYPE_DUType'), ('DUState', 'A_ARG_TYPE_DUState'), ('DUURI', 'A_ARG_TYPE_URI')]),
        _a('GetEUInfo', True, ins=[('EUID', 'A_ARG_TYPE_ID')], outs=[('EUName', 'A_ARG_TYPE_Name'), ('EUVersion', 'A_ARG_TYPE_Version'), ('EURequestedState', 'A_ARG_TYPE_EURequestedState'), ('EURunningState', 'A_ARG_TYPE_EURunningState')]),
        _a('GetACLData', True, ins=[], outs=[('ACL', 'A_ARG_TYPE_ACL')]),
    ],
)

SERVICE_TYPES: Mapping[str, ServiceType] = {s.serviceType: s for s in (BMS2, CMS2, SMS2)}
