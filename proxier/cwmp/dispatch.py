# -*- test-case-name: tests.test_cwmp_endpoint -*-
"""
How an endpoint answers the ACS's requests (TR-069 A.3.2, A.4.1): which CPE
RPCs it offers, each request turned into a call of its data model, bounded
by the device timeout so the ACS hears an answer (a response or a
L{CWMPFault}) inside its session timeout, and the answer turned back into a
response.

Split out of L{CWMPEndpoint<proxier.cwmp.endpoint.CWMPEndpoint>} (issue
12.5): it knows the model, the endpoint's settings (ParameterKey) and its
durable state (Reboot, FactoryReset, transfers, ScheduleInform), nothing of
when sessions run.
"""

from __future__ import annotations

from typing import Any, Callable, Union

from twisted.internet import defer
from twisted.internet.defer import Deferred, succeed
from twisted.python.failure import Failure

from proxier.cwmp import messages as m
from proxier.datamodel.faults import CWMPFault, asFault
from proxier.datamodel.values import UNKNOWN_TIME, TransferRequest, TransferResult

__all__ = ["RPCDispatcher", "MODEL_METHODS", "ENDPOINT_METHODS"]

# The CPE RPCs an endpoint serves through its data model, when the model
# lists them in supportedMethods().
MODEL_METHODS = frozenset({
    "GetParameterNames", "GetParameterValues", "SetParameterValues", "GetParameterAttributes",
    "SetParameterAttributes", "AddObject", "DeleteObject", "Reboot", "FactoryReset", "Download", "Upload",
    "ScheduleDownload",
})
# The CPE RPCs an endpoint serves by itself, whatever its model.
ENDPOINT_METHODS = frozenset({"GetRPCMethods", "ScheduleInform"})
_TRANSFER_METHODS = frozenset({"Download", "Upload", "ScheduleDownload"})
_QUEUE_METHODS = frozenset({"GetQueuedTransfers", "GetAllQueuedTransfers"})


class RPCDispatcher:
    """
    Answers one endpoint's ACS requests from its data model.

    @param model: the endpoint's L{IDataModel<proxier.interfaces.IDataModel>}.
    @param settings: the endpoint's L{EndpointSettings<proxier.cwmp.settings.EndpointSettings>}
        (the ParameterKey a successful SetParameterValues/AddObject/DeleteObject stores).
    @param state: the endpoint's L{EndpointState<proxier.cwmp.events.EndpointState>}.
    @param clock: C{seconds()} and C{callLater}.
    @param deviceTimeout: the bound on one call to the model, in seconds.
    @param log: the endpoint's L{DeviceLogger<proxier.log.DeviceLogger>}.
    @param informScheduled: called after a ScheduleInform was recorded, to arm its timer.
    """

    # slots: one per endpoint, so per device (issue 19)
    __slots__ = ("model", "settings", "state", "_clock", "_deviceTimeout", "log", "_informScheduled")

    def __init__(self, model: Any, settings: Any, state: Any, clock: Any, deviceTimeout: float, log: Any,
                 informScheduled: Callable[[], None]) -> None:
        self.model = model
        self.settings = settings
        self.state = state
        self._clock = clock
        self._deviceTimeout = deviceTimeout
        self.log = log
        self._informScheduled = informScheduled

    def supportedMethods(self) -> frozenset[str]:
        """The CPE RPCs this endpoint answers (GetRPCMethodsResponse); any other gets 9000."""
        try:
            modelMethods = frozenset(self.model.supportedMethods())
        except Exception as e:
            self.log.error("the data model cannot say what it supports ({e!r})", e=e)
            modelMethods = frozenset()
        methods = (modelMethods & MODEL_METHODS) | ENDPOINT_METHODS
        if modelMethods & _TRANSFER_METHODS:
            methods |= _QUEUE_METHODS
        return methods

    def bounded(self, d: Deferred) -> Deferred:
        """
        C{d}'s result, or a L{CWMPFault} in its place: its failure as a fault
        (9002 for anything but a CWMPFault), or 9002 when the device has not
        answered within the device timeout (C{d} is then cancelled). Never
        fails, except with L{defer.CancelledError} when itself cancelled.
        """
        result: Deferred = Deferred(lambda _: d.cancel())
        timeout = self._deviceTimeout

        def expired() -> None:
            self.log.warn("the device did not answer within {t:g} s: 9002", t=timeout)
            result.callback(CWMPFault(9002, f"the device did not answer within {timeout:g} s"))
            d.cancel()

        timer = self._clock.callLater(timeout, expired)

        def done(outcome: Any) -> None:
            if timer.active():
                timer.cancel()
            if result.called:
                return None
            if isinstance(outcome, Failure):
                if outcome.check(defer.CancelledError):
                    result.callback(CWMPFault(9002, "the call was cancelled"))
                    return None
                if not outcome.check(CWMPFault):
                    self.log.failure("the data model failed without a CWMP fault", outcome)
                result.callback(asFault(outcome.value))
            else:
                result.callback(outcome)
            return None

        d.addBoth(done)
        return result

    def serve(self, request: m.Message) -> Deferred:
        """The answer (a response or a L{CWMPFault}) to one ACS request."""
        if request.name not in self.supportedMethods():
            return succeed(CWMPFault(9000))
        handler = getattr(self, "_rpc" + request.name)
        try:
            return self.bounded(defer.maybeDeferred(handler, request))
        except Exception as e:  # a handler that fails before any Deferred
            return succeed(asFault(e))

    def _setParameterKey(self, key: str) -> None:
        self.settings.set(parameterKey=key)

    def _rpcGetRPCMethods(self, request: m.GetRPCMethods) -> m.Message:
        return m.GetRPCMethodsResponse(tuple(sorted(self.supportedMethods())))

    def _rpcGetParameterNames(self, request: m.GetParameterNames) -> Deferred:
        d = defer.maybeDeferred(self.model.getParameterNames, request.path, request.nextLevel)
        return d.addCallback(lambda infos: m.GetParameterNamesResponse(tuple(infos)))

    def _rpcGetParameterValues(self, request: m.GetParameterValues) -> Deferred:
        d = defer.maybeDeferred(self.model.getParameterValues, list(request.names))
        return d.addCallback(lambda values: m.GetParameterValuesResponse(tuple(values)))

    def _rpcSetParameterValues(self, request: m.SetParameterValues) -> Deferred:
        names = [p.name for p in request.parameters]
        if len(set(names)) != len(names):
            raise CWMPFault(9003, "a parameter appears twice")
        d = defer.maybeDeferred(self.model.setParameterValues, list(request.parameters))

        def applied(status: Any) -> m.Message:
            status = _status(status)
            self._setParameterKey(request.parameterKey)
            return m.SetParameterValuesResponse(status)

        return d.addCallback(applied)

    def _rpcGetParameterAttributes(self, request: m.GetParameterAttributes) -> Deferred:
        d = defer.maybeDeferred(self.model.getParameterAttributes, list(request.names))
        return d.addCallback(lambda attrs: m.GetParameterAttributesResponse(tuple(attrs)))

    def _rpcSetParameterAttributes(self, request: m.SetParameterAttributes) -> Deferred:
        d = defer.maybeDeferred(self.model.setParameterAttributes, list(request.changes))
        return d.addCallback(lambda _: m.SetParameterAttributesResponse())

    def _rpcAddObject(self, request: m.AddObject) -> Deferred:
        d = defer.maybeDeferred(self.model.addObject, request.objectName)

        def added(answer: Any) -> m.Message:
            instance, status = answer
            if not isinstance(instance, int) or instance < 1:
                raise CWMPFault(9002, "the data model returned no instance number")
            status = _status(status)
            self._setParameterKey(request.parameterKey)
            return m.AddObjectResponse(instance, status)

        return d.addCallback(added)

    def _rpcDeleteObject(self, request: m.DeleteObject) -> Deferred:
        d = defer.maybeDeferred(self.model.deleteObject, request.objectName)

        def deleted(status: Any) -> m.Message:
            status = _status(status)
            self._setParameterKey(request.parameterKey)
            return m.DeleteObjectResponse(status)

        return d.addCallback(deleted)

    def _rpcReboot(self, request: m.Reboot) -> m.Message:
        self.state.rebootRequested(request.commandKey)
        return m.RebootResponse()

    def _rpcFactoryReset(self, request: m.FactoryReset) -> m.Message:
        self.state.factoryResetRequested()
        return m.FactoryResetResponse()

    def _transfer(self, call: Callable[[TransferRequest], Any], transfer: TransferRequest,
                  respond: Callable[..., m.Message]) -> Deferred:
        d = defer.maybeDeferred(call, transfer)

        def answered(result: Union[None, TransferResult]) -> m.Message:
            if result is None:
                self.state.transferStarted(transfer.method, transfer.commandKey, transfer.fileType,
                                           transfer.fileSize, transfer.targetFileName,
                                           self._clock.seconds() + transfer.delaySeconds)
                return respond(1, UNKNOWN_TIME, UNKNOWN_TIME)
            if not isinstance(result, TransferResult):
                raise CWMPFault(9002, "the data model returned no transfer result")
            if result.faultCode:
                raise CWMPFault(result.faultCode, result.faultString)
            return respond(0, result.startTime, result.completeTime)

        return d.addCallback(answered)

    def _rpcDownload(self, request: m.Download) -> Deferred:
        return self._transfer(self.model.download, request.request, m.DownloadResponse)

    def _rpcUpload(self, request: m.Upload) -> Deferred:
        return self._transfer(self.model.upload, request.request, m.UploadResponse)

    def _rpcScheduleDownload(self, request: m.ScheduleDownload) -> Deferred:
        from dataclasses import replace

        transfer = replace(request.request, delaySeconds=request.timeWindows[0].windowStart)
        return self._transfer(self.model.download, transfer, lambda *_: m.ScheduleDownloadResponse())

    def _rpcScheduleInform(self, request: m.ScheduleInform) -> m.Message:
        if request.delaySeconds < 1:
            raise CWMPFault(9003, "DelaySeconds must be greater than zero")
        self.state.scheduleInform(self._clock.seconds() + request.delaySeconds, request.commandKey)
        self._informScheduled()
        return m.ScheduleInformResponse()

    def _queued(self) -> list[tuple[dict, int]]:
        now = self._clock.seconds()
        return [(t, 1 if t["startAt"] > now else 2) for t in self.state.transfers()]

    def _rpcGetQueuedTransfers(self, request: m.GetQueuedTransfers) -> m.Message:
        return m.GetQueuedTransfersResponse(tuple(m.QueuedTransfer(t["commandKey"], s) for t, s in self._queued()))

    def _rpcGetAllQueuedTransfers(self, request: m.GetAllQueuedTransfers) -> m.Message:
        return m.GetAllQueuedTransfersResponse(tuple(
            m.AllQueuedTransfer(t["commandKey"], s, t["method"] != "Upload", t["fileType"], t["fileSize"],
                                t["targetFileName"])
            for t, s in self._queued()
        ))

def _status(value: Any) -> int:
    if value not in (0, 1) or isinstance(value, bool):
        raise CWMPFault(9002, f"the data model returned status {value!r}")
    return int(value)
