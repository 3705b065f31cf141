# -*- test-case-name: tests.test_demo -*-
"""
The built-in demo: what C{tools/run-demo} runs when no ACS is configured
(C{[demo] enable = auto}, or C{yes}: L{proxier.tap.demoActive}). A plain start
with an ACS never imports this module, nor the simulator.

Everything stays on 127.0.0.1 — nothing leaves the machine:

 - the proxier itself, with the SSDP listener in C{unicast-loopback} mode
   and the Connection Request server on 127.0.0.1;
 - C{[demo] devices} simulated UPnP DM devices (L{proxier.sim.fleet}),
   announcing themselves to that listener;
 - a demo ACS (the project's L{FakeACS}) on 127.0.0.1, on a port kept in the
   state directory so that its URL — and so the devices' BOOTSTRAP — does
   not change from one run to the next;
 - with the printer protocol enabled, one printer on 127.0.0.1 (a port kept
   likewise: ippeveprinter's printer-uuid, its serial number here, follows
   its port): a real C{ippeveprinter} where it is installed
   (L{proxier.sim.ippeveprinter}: its own temp directory and private D-Bus
   bus, stopped by PID), else the in-process fake printer
   (L{proxier.sim.ippprinter}); both describe the same printer
   (C{proxier/sim/data/demo-printer.conf}). Its black toner level goes down
   by one every L{DRAIN_PERIOD} seconds (through ippeveprinter's
   C{/supplies} form).

The demo ACS prints every Inform it gets and, once per run and per Virtual
CWMP Device, walks it through a short script — GetParameterNames,
GetParameterValues, SetParameterValues, AddObject, SetParameterAttributes,
Reboot; every UPnP action the proxier sends on its behalf is printed as
well. The terminal gets one short line per CWMP exchange (the request with
its answer) and per UPnP action (with its answer and time), each naming its
device in a column of its own (L{deviceLabel}); the full exchange goes to
the log at debug level (C{[log] level = debug}, C{[log] file}). A device
shown as embedded objects (C{[upnp]}/C{[printer] mechanism = embedded} or
C{both}: L{proxier.proxy.embeddedobjects}) has no session of its own: the
demo ACS walks it in the gateway's own sessions (asking for them with a
Connection Request) — its C{Device.ManagementServer.EmbeddedDevice.{i}.}
row and the row its C{Reference} names read, a value set through that row
(L{embeddedSet}), and C{CommandProcessed} read back in a later session
until it is Success or Error. Once every device is walked, both ways, the
demo says what to try next (L{tryNextLines}).

The printer's walk (L{PRINTER_WALK}) reads the demo-table rows IPP serves,
sets the location and reads it back (ippeveprinter lets no attribute be
set: there the ACS hears 9003 with 9008 and reads the location unchanged),
and turns on active notification for the black toner level: after each
drop, once a poll has seen it, the printer's Virtual CWMP Device starts a
session by itself, its Inform carrying "4 VALUE CHANGE" with the new level.
A device that starts no session by itself (a run on a state directory that
already knows it: no BOOTSTRAP again) is sent a Connection Request. Then
the demo keeps running (the reboot comes back as "1 BOOT" + "M Reboot";
devices keep being managed) until Ctrl-C.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from functools import partial
from typing import IO, Any, Callable, Iterable, Mapping, Optional, Sequence

from twisted.application.service import Service
from twisted.internet.error import CannotListenError
from twisted.logger import Logger
from twisted.python.failure import Failure

from proxier.asciinum import isUnsigned
from proxier.config import Config, ConfigError
from proxier.cwmp import messages as m
from proxier.datamodel.faults import CPE_FAULTS
from proxier.datamodel.values import AttributeChange, Notification, ParameterValue
from proxier.proxy.embeddedobjects import BOTH, EMBEDDED, ERROR, SUCCESS, VIRTUAL
from proxier.store import Store
from proxier.upnp import xmlstring

__all__ = ["demoConfig", "makeDemoService", "WALK", "PRINTER_WALK", "DemoACS", "Printer", "SEED"]

SEED = "proxier-demo"
DEVICE_DOWNTIME = 2.0
#: Seconds a Virtual CWMP Device may stay quiet before the demo ACS asks it for a session.
QUIET = 3.0
#: Seconds between two drops of the demo printer's black toner level.
DRAIN_PERIOD = 20.0
#: The demo printer's poll period ([printer] poll_interval's least): a level drop is seen within it (+ a tenth).
PRINTER_POLL = 10
#: The demo printer's black toner: its printer-supply index= (an ippeveprinter /supplies slot), and its row.
BLACK = 2
_SERVICE = "Device.Services.PrintService.1."
_BLACK_LEVEL = (_SERVICE + f"PrintServiceConfiguration.Markers.Marker.1.MarkerSupplies.MarkerSupply.{BLACK}."
                "MarkerSupplyDescription.MarkerSupplyCurrentLevel")
_LOCATION = _SERVICE + "PrintServiceDescription.ServiceLocation"
_DOCUMENT = _SERVICE + "PrintServiceDefaults.DefaultPrintJobTicket.PrintDocumentProcessing."
#: The demo-table rows (PRINTERS.md section 4) the demo printer serves over IPP.
PRINTER_ROWS = (
    "Device.DeviceInfo.SerialNumber",
    _SERVICE + "PrintServiceDescription.ServiceInfo",
    _LOCATION,
    _SERVICE + "PrintServiceDescription.ColorSupported",
    _SERVICE + "PrintServiceStatus.State",
    _BLACK_LEVEL,
    _SERVICE + "PrintServiceConfiguration.InputTrays.InputTray.2.InputTrayDescription.InputTrayCurrentLevel",
    _DOCUMENT + "OrientationRequested",
    _DOCUMENT + "Sides",
    _DOCUMENT + "Resolution.CrossFeedDir",
    _DOCUMENT + "Copies",
)
DEMO_LOCATION = "Demo lab, shelf 2"


def demoConfig(config: Config, acsURL: str) -> Config:
    """The configuration the demo runs with: everything on 127.0.0.1, the demo ACS as ACS, the console on."""
    config = config.replace("acs", url=acsURL, username="", password="", ca_file="", client_certificate="",
                            client_key="", local_targets=("127.0.0.1",))
    config = config.replace("connection_request", listen_address="127.0.0.1", port=0, url_host="127.0.0.1")
    # the console, for whoever runs the demo on this machine: loopback, no credentials, its port as configured
    config = config.replace("console", enable=True, listen_address="127.0.0.1", credentials=("", ""))
    return config.replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0, interfaces=())


#: the parameter the demo suggests changing from the console: its notification is active
TRY_PARAMETER = "Device.Time.NTPServer1"

# The short script the demo ACS runs on every Virtual CWMP Device, once per run.
WALK: tuple[Callable[[], m.Message], ...] = (
    lambda: m.GetParameterNames("Device.DeviceInfo.", True),
    lambda: m.GetParameterValues(("Device.DeviceInfo.SerialNumber", "Device.DeviceInfo.SoftwareVersion",
                                  "Device.Time.NTPServer1", "Device.Hosts.HostNumberOfEntries")),
    lambda: m.SetParameterValues((ParameterValue("Device.Time.NTPServer1", "ntp.demo.example", "xsd:string"),),
                                 "demo-1"),
    lambda: m.AddObject("Device.Hosts.Host.", "demo-2"),
    # so that a change made from the console is told to this ACS at once (the walk's end says to try it)
    lambda: m.SetParameterAttributes((AttributeChange(TRY_PARAMETER, True, Notification.ACTIVE),)),
    lambda: m.Reboot("demo-reboot"),
)
WALK_DONE = "GetParameterNames, GetParameterValues, SetParameterValues, AddObject, SetParameterAttributes, Reboot"

# The printer's: the demo-table rows, the location set and read back, notification on a toner level.
PRINTER_WALK: tuple[Callable[[], m.Message], ...] = (
    lambda: m.GetParameterValues(PRINTER_ROWS),
    lambda: m.SetParameterValues((ParameterValue(_LOCATION, DEMO_LOCATION, "xsd:string"),), "demo-location"),
    lambda: m.GetParameterValues((_LOCATION,)),
    # active: a drop starts a session by itself (throttled by DefaultActiveNotificationThrottle)
    lambda: m.SetParameterAttributes((AttributeChange(_BLACK_LEVEL, True, Notification.ACTIVE),)),
)
PRINTER_WALK_DONE = ("the demo rows read, the location set and read back, active notification on the black "
                     "toner level")

#: The gateway's table saying, for each device shown as embedded objects (TR-069 Annex J.3), where its row is.
EMBEDDED_ROWS = "Device.ManagementServer.EmbeddedDevice."
#: What the walk of a UPnP DM device shown as embedded objects sets through its row (its virtual walk sets another).
EMBEDDED_NTP = "ntp2.demo.example"
#: Seconds from the set through a device's row to each reading back of its CommandProcessed.
READ_BACK = 2.0
#: Readings of CommandProcessed before the walk ends with it still Pending or Retrying (a push retried, 10 s).
READ_BACKS = 10


def embeddedSet(protocol: str, reference: str) -> Optional[ParameterValue]:
    """
    What the demo ACS sets through the row C{reference} (an EmbeddedDevice
    row's Reference) of a device of C{protocol} (its ProxyProtocol); None:
    nothing for that protocol.
    """
    from proxier.printer.settings import PROXY_PROTOCOL

    found = {"UPnP-DM": ("Time.NTPServer1", EMBEDDED_NTP),
             PROXY_PROTOCOL: ("PrintServiceDescription.ServiceLocation", DEMO_LOCATION)}.get(protocol)
    return None if found is None else ParameterValue(f"{reference}.{found[0]}", found[1], "xsd:string")


def expectedWalks(mechanisms: Mapping[str, str], devices: int, printer: bool) -> tuple[int, int]:
    """
    How many walks the demo waits for before it says what to try next:
    (of Virtual CWMP Devices, of devices shown as embedded objects), as
    each protocol's C{mechanism} (ProxyProtocol → mechanism) presents
    C{devices} simulated UPnP DM devices and the C{printer}.
    """
    from proxier.printer.settings import PROXY_PROTOCOL

    counts = {"UPnP-DM": devices, PROXY_PROTOCOL: 1 if printer else 0}
    return (sum(n for p, n in counts.items() if mechanisms.get(p, VIRTUAL) in (VIRTUAL, BOTH)),
            sum(n for p, n in counts.items() if mechanisms.get(p, VIRTUAL) in (EMBEDDED, BOTH)))


#: the widest line the demo prints (its full form goes to the log, at debug level)
WIDTH = 120
#: the width of the column naming the device
LABEL_WIDTH = 18
#: the longest value quoted in a short line
VALUE_WIDTH = 24


def clip(text: str, width: int) -> str:
    """C{text} cut to C{width} characters, an ellipsis saying it was."""
    return text if len(text) <= width else text[:width - 1] + "…"


def deviceLabel(productClass: str, serialNumber: str) -> str:
    """
    A device in at most L{LABEL_WIDTH} characters that tell the demo's
    apart: (the start of) its serial number after the last words of its
    product class that fit.
    """
    serial = serialNumber if len(serialNumber) <= 12 else serialNumber[:8]
    words = productClass.split()
    kept: list[str] = []
    while words and len(" ".join([words[-1], *kept, serial])) <= LABEL_WIDTH:
        kept.insert(0, words.pop())
    if kept or not productClass:
        return clip(" ".join([*kept, serial]), LABEL_WIDTH)
    return clip(f"{clip(productClass, max(1, LABEL_WIDTH - len(serial) - 1))} {serial}", LABEL_WIDTH)


def nameLabel(name: str) -> str:
    """
    L{deviceLabel} of a device named C{"OUI-ProductClass-SerialNumber"} (an
    action gate's name), or C{"probe <uuid start>"} for a UPnP device
    being asked who it is.
    """
    if name.startswith("probe of uuid:"):
        return "probe " + name[len("probe of uuid:"):][:8]
    parts = name.split("-", 2)
    return deviceLabel(parts[1], parts[2]) if len(parts) == 3 else name


def keyLabel(key: str) -> str:
    """
    L{deviceLabel} of a device by its key (an EmbeddedDevice row's
    ProxiedDeviceID), whose product class has C{_} for each space.
    """
    parts = key.split("-", 2)
    return deviceLabel(parts[1].replace("_", " "), parts[2]) if len(parts) == 3 else clip(key, LABEL_WIDTH)


class Printer:
    """
    One short line per thing that crossed a side, for a person to follow
    on the terminal; its full form goes to the log at debug level (C{[log]
    level = debug}, C{[log] file}).
    """

    log = Logger()

    def __init__(self, stream: Optional[IO[str]] = None) -> None:
        self.stream = stream if stream is not None else sys.stdout

    def line(self, side: str, text: str) -> None:
        """One of the demo's own lines, as it is."""
        self.stream.write(f"{side:<4} {text}\n")
        self.stream.flush()

    def exchange(self, side: str, label: str, short: str, detail: str, tail: str = "") -> None:
        """
        What one device (C{label}) did: C{short} on the terminal, cut to fit
        L{WIDTH} with C{tail} after it whole; C{detail} in the log.
        """
        self.log.debug("{side} {label}: {detail}", side=side, label=label, detail=detail)
        head = f"{side:<4} {label:<{LABEL_WIDTH}} "
        room = WIDTH - len(head) - (len(tail) + 1 if tail else 0)
        self.stream.write(head + clip(short, room) + (f" {tail}" if tail else "") + "\n")
        self.stream.flush()


def _short(items: Sequence[str], limit: Optional[int] = 4) -> str:
    """C{items} joined; beyond C{limit} (None: no limit) counted, not listed."""
    if limit is None or len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", … ({len(items)} in all)"


def _leaf(path: str) -> str:
    """The last part of a CWMP or UPnP DM path (an object's with its instance number)."""
    separator = "/" if path.startswith("/") else "."
    parts = path.rstrip(separator).split(separator)
    if path.endswith(separator):
        return separator.join(parts[-2:] if isUnsigned(parts[-1]) else parts[-1:]) + separator
    return parts[-1]


def _value(value: str) -> str:
    return repr(clip(value, VALUE_WIDTH))


def describeRequest(message: m.Message) -> str:
    """A CWMP request of the ACS, in full."""
    if isinstance(message, m.GetParameterNames):
        return f"GetParameterNames {message.path or '(all)'} next-level={str(message.nextLevel).lower()}"
    if isinstance(message, m.GetParameterValues):
        return f"GetParameterValues {_short(list(message.names), None)}"
    if isinstance(message, m.SetParameterValues):
        return "SetParameterValues " + _short([f"{p.name} = {p.value!r}" for p in message.parameters], None)
    if isinstance(message, m.AddObject):
        return f"AddObject {message.objectName}"
    if isinstance(message, m.DeleteObject):
        return f"DeleteObject {message.objectName}"
    if isinstance(message, m.Reboot):
        return f"Reboot (CommandKey {message.commandKey!r})"
    if isinstance(message, m.SetParameterAttributes):
        return "SetParameterAttributes " + _short([f"{c.name} Notification={c.notification}"
                                                   for c in message.changes if c.notificationChange], None)
    return message.name


def briefRequest(message: m.Message) -> str:
    """A CWMP request in a few words: parameters by their last names."""
    if isinstance(message, m.GetParameterNames):
        return f"GetParameterNames {message.path or '(all)'}" + (" next level" if message.nextLevel else "")
    if isinstance(message, m.GetParameterValues):
        parents = {name.rstrip(".").rpartition(".")[0] + "." for name in message.names}
        if len(message.names) > 1 and len(parents) == 1:  # one object's parameters: the object
            return f"GetParameterValues {_leaf(parents.pop())}"
        return "GetParameterValues" if len(message.names) > 1 else f"GetParameterValues {_leaf(message.names[0])}"
    if isinstance(message, m.SetParameterValues):
        return "SetParameterValues " + _short([f"{_leaf(p.name)}={_value(p.value)}" for p in message.parameters], 2)
    if isinstance(message, m.SetParameterAttributes):
        return "SetParameterAttributes " + _short([f"{_leaf(c.name)} Notification={c.notification}"
                                                   for c in message.changes if c.notificationChange], 2)
    if isinstance(message, m.Reboot):
        return f"Reboot {message.commandKey!r}"
    return describeRequest(message)


def describeResponse(message: Optional[m.Message], limit: Optional[int] = None) -> str:
    """What a Virtual CWMP Device answered, in full (C{limit}: values listed, the others counted)."""
    if message is None:
        return "(nothing)"
    if isinstance(message, m.SOAPFault):
        each = [f"{f.parameterName.rpartition('.')[2]}: {f.faultCode} {CPE_FAULTS.get(f.faultCode, '')}".rstrip()
                for f in message.fault.parameterFaults]
        return f"Fault {message.fault.code} {message.fault.string}" + (f" ({_short(each, limit)})" if each else "")
    if isinstance(message, m.GetParameterNamesResponse):
        return f"{len(message.parameters)} names: " + _short(
            [p.name + (" (writable)" if p.writable else "") for p in message.parameters], limit)
    if isinstance(message, m.GetParameterValuesResponse):
        return _short([f"{p.name} = {p.value!r}" for p in message.parameters], limit)
    if isinstance(message, m.SetParameterValuesResponse):
        return f"SetParameterValuesResponse Status {message.status}"
    if isinstance(message, m.AddObjectResponse):
        return f"AddObjectResponse instance {message.instanceNumber}, Status {message.status}"
    if isinstance(message, m.DeleteObjectResponse):
        return f"DeleteObjectResponse Status {message.status}"
    if isinstance(message, m.SetParameterAttributesResponse):
        return "SetParameterAttributesResponse (done)"
    return message.name


def briefResponse(message: Optional[m.Message]) -> str:
    """An answer in a few words: counts, last names, statuses."""
    if isinstance(message, m.SOAPFault):
        each = [f"{_leaf(f.parameterName)}: {f.faultCode}" for f in message.fault.parameterFaults]
        return f"Fault {message.fault.code} " + (f"({_short(each, 2)})" if each else message.fault.string)
    if isinstance(message, m.GetParameterNamesResponse):
        return f"{len(message.parameters)} names"
    if isinstance(message, m.GetParameterValuesResponse):
        return _short([f"{_leaf(p.name)}={_value(p.value)}" for p in message.parameters], 3) or "no values"
    if isinstance(message, (m.SetParameterValuesResponse, m.DeleteObjectResponse)):
        return f"Status {message.status}"
    if isinstance(message, m.AddObjectResponse):
        return f"instance {message.instanceNumber}" + (f", Status {message.status}" if message.status else "")
    if message is None:
        return "(nothing)"
    return "done"


def describeArguments(arguments: Mapping[str, object]) -> str:
    """An action's arguments, the XML documents CMS passes shown by their paths and values, in full."""
    parts = []
    for name, value in arguments.items():
        text = str(value)
        entries = _entries(text)
        if entries is not None:
            described = [f"{path} = {' '.join(f'{k}={v!r}' if k != 'Value' else repr(v) for k, v in rest)}"
                         if rest else path for path, rest in entries]
            parts.append(_short(described, None) if described else "(empty)")
        elif text:
            parts.append(f"{name}={text}")
    return " ".join(parts)


def briefArguments(arguments: Mapping[str, object]) -> str:
    """An action's arguments in a few words: the documents' paths by their last names, a value where one is set."""
    parts = []
    for name, value in arguments.items():
        text = str(value)
        entries = _entries(text)
        if entries is not None:
            parts.append(_short([_leaf(path) + "".join(f"={_value(v)}" for k, v in rest if k == "Value")
                                 for path, rest in entries], 2))
        elif text:
            parts.append(f"{name}={clip(text, VALUE_WIDTH)}")
    return " ".join(p for p in parts if p)


def _entries(text: str) -> Optional[list[tuple[str, list[tuple[str, str]]]]]:
    """
    The entries of an XML document CMS passes (a path, then its other
    fields by name), C{[("(a document)", [])]} for one that does not parse,
    None when C{text} is no document.
    """
    if not text.lstrip().startswith("<"):
        return None
    try:
        root = xmlstring.decode(text)
    except xmlstring.XMLStringError:
        return [("(a document)", [])]
    entries = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        children = [c for c in node if isinstance(c.tag, str)]
        if not children:
            entries.append(((node.text or "").strip(), []))
            continue
        fields = [(c.tag.rpartition("}")[2], (c.text or "").strip()) for c in children]
        entries.append((fields[0][1], fields[1:]))
    return entries


@dataclass
class _ReadBack:
    """A set through a device's row, waiting to be read back from its EmbeddedDevice row (C{row})."""

    row: str
    label: str
    what: str
    due: float
    reads: int = 0


#: what the gateway's session asks next, and what reads its answer (it may put more steps first)
_Step = tuple[m.Message, Optional[Callable[[m.Message, list], None]]]


class DemoACS:
    """
    The demo's ACS: a L{FakeACS} whose script, for any device, prints each
    Inform and each exchange, and walks each Virtual CWMP Device once, and
    each device shown as embedded objects once, in the gateway's own
    sessions: its EmbeddedDevice row and the row its Reference names read,
    a value set through that row, then CommandProcessed read back, in a
    later session, until it is Success or Error.
    """

    log = Logger()

    def __init__(self, printer: Printer, *, clock: Any, walk: Sequence[Callable[[], m.Message]] = WALK) -> None:
        from proxier.cwmp.fakeacs import FakeACS

        self.printer = printer
        self.walk = walk
        #: the identities of the demo's printers: they are walked through L{PRINTER_WALK}
        self.printers: Callable[[], Iterable[str]] = lambda: ()
        self.fake = FakeACS(clock=clock)
        self.fake.script(self._script)
        self.walked: set[str] = set()
        self.walking: dict[str, int] = {}
        self.seen: set[str] = set()
        self.clock = clock
        #: the keys of the devices shown as embedded objects whose rows the gateway can be asked about
        self.embedded: Callable[[], Iterable[str]] = lambda: ()
        #: the keys of those walked
        self.embeddedWalked: set[str] = set()
        #: key → (its EmbeddedDevice row, its Reference, its ProxyProtocol), as the gateway told them
        self.embeddedRows: dict[str, tuple[str, str, str]] = {}
        self._rowKeys: dict[str, str] = {}  # EmbeddedDevice row → ProxiedDeviceID
        self._readBacks: dict[str, _ReadBack] = {}  # by key
        self._plans: dict[int, list[_Step]] = {}  # each gateway session's steps to go
        self._handling: dict[int, Callable[[m.Message, list], None]] = {}
        self._printed: set[int] = set()
        self._asked: dict[int, m.Message] = {}  # the request each session's answer is to

    def _script(self, session: Any, last: Optional[m.Message]) -> Optional[m.Message]:
        device = session.device
        label = deviceLabel(session.inform.deviceId.productClass, session.inform.deviceId.serialNumber)
        if id(session) not in self._printed:
            self._printed.add(id(session))
            self.seen.add(device)
            self._inform(session, label)
        elif last is not None:
            asked = self._asked.pop(id(session), None)
            brief = briefResponse(last) if asked is None else f"{briefRequest(asked)} → {briefResponse(last)}"
            full = describeResponse(last) if asked is None else f"{describeRequest(asked)} → {describeResponse(last)}"
            self.printer.exchange("CWMP", label, brief, f"{device}: {full}")
        if device == self.proxier:
            return self._gatewayStep(session, last)
        if device in self.walked:
            return None
        walk, done = (PRINTER_WALK, PRINTER_WALK_DONE) if device in self.printers() else (self.walk, WALK_DONE)
        step = self.walking.get(device, 0)
        if step >= len(walk):
            self.walked.add(device)
            self.walking.pop(device, None)
            self.printer.line("demo", f"{label:<{LABEL_WIDTH}} walk done ({done})")
            return None
        self.walking[device] = step + 1
        request = walk[step]()
        self._asked[id(session)] = request  # printed with its answer, one line for the two
        return request

    def _inform(self, session: Any, label: str) -> None:
        """The Inform that opened C{session}: its events, and what changed when it reports a change."""
        inform = session.inform
        events = ", ".join(e.code + (f" {e.commandKey!r}" if e.commandKey else "") for e in inform.events)
        version = next((p.value for p in inform.parameters if p.name == "Device.DeviceInfo.SoftwareVersion"), "?")
        changed = [p for p in inform.parameters
                   if any(e.code == "4 VALUE CHANGE" for e in inform.events)
                   and not p.name.startswith(("Device.ManagementServer.", "Device.RootDataModelVersion",
                                              "Device.DeviceInfo.HardwareVersion", "Device.DeviceInfo.SoftwareVersion",
                                              "Device.DeviceInfo.ProvisioningCode"))]
        brief = f"← Inform {events}" + (
            f"; changed {_short([f'{_leaf(p.name)}={_value(p.value)}' for p in changed], 2)}" if changed else "")
        full = (f"Inform from {session.device}: {events} (SoftwareVersion {version})"
                + (f"; changed: {_short([f'{p.name} = {p.value!r}' for p in changed], None)}" if changed else ""))
        self.printer.exchange("CWMP", label, brief, full)

    # -- the devices shown as embedded objects, walked through the gateway's sessions ------------

    def gatewayWanted(self) -> str:
        """Why the gateway's session is wanted now (a device's rows to walk, a set to read back), or ""."""
        if set(self.embedded()) - self.embeddedWalked - set(self._readBacks):
            return "embedded objects to walk"
        now = self.clock.seconds()
        return "a set to read back" if any(r.due <= now for r in self._readBacks.values()) else ""

    def _gatewayStep(self, session: Any, last: Optional[m.Message]) -> Optional[m.Message]:
        plan = self._plans.get(id(session))
        if plan is None:
            plan = self._plans[id(session)] = self._gatewayPlan()
        else:
            handle = self._handling.pop(id(session), None)
            if handle is not None and last is not None:
                handle(last, plan)
        if not plan:
            return None
        request, handle = plan.pop(0)
        if handle is not None:
            self._handling[id(session)] = handle
        self._asked[id(session)] = request  # printed with its answer, as the walks' are
        return request

    def _gatewayPlan(self) -> list[_Step]:
        """A gateway session's first steps: the sets due to be read back, the EmbeddedDevice rows listed."""
        now = self.clock.seconds()
        plan: list[_Step] = [
            (m.GetParameterValues((f"{r.row}CommandProcessed", f"{r.row}CommandProcessingErrMsg",
                                   f"{r.row}LastSyncTime")), partial(self._readBack, key))
            for key, r in self._readBacks.items() if r.due <= now]
        if set(self.embedded()) - self.embeddedWalked - set(self._readBacks):
            plan.append((m.GetParameterNames(EMBEDDED_ROWS, True), self._listed))
        return plan

    def _listed(self, answer: m.Message, plan: list[_Step]) -> None:
        """The EmbeddedDevice rows: each not walked yet is read (rows of walked devices are known by number)."""
        if not isinstance(answer, m.GetParameterNamesResponse):
            return
        steps: list[_Step] = []
        for info in answer.parameters:
            key = self._rowKeys.get(info.name)
            if key is not None and (key in self.embeddedWalked or key in self._readBacks):
                continue
            steps += [(m.GetParameterNames(info.name, False), None),
                      (m.GetParameterValues((info.name,)), partial(self._rowRead, info.name))]
        plan[0:0] = steps

    def _rowRead(self, row: str, answer: m.Message, plan: list[_Step]) -> None:
        """A device's EmbeddedDevice row: its own row read next, then a value set through it."""
        if not isinstance(answer, m.GetParameterValuesResponse):
            return
        values = {p.name[len(row):]: str(p.value) for p in answer.parameters if p.name.startswith(row)}
        key, reference = values.get("ProxiedDeviceID", ""), values.get("Reference", "")
        if not key or not reference or values.get("LastSyncTime", "0001-").startswith("0001-"):
            return  # not read from its device yet (Unknown Time): walked in a later session
        protocol = values.get("ProxyProtocol", "")
        self._rowKeys[row] = key
        self.embeddedRows[key] = (row, reference, protocol)
        label = keyLabel(key)
        change = embeddedSet(protocol, reference)
        names = (m.GetParameterNames(reference + ".", False), None)
        if change is None:
            plan[0:0] = [names, (m.GetParameterValues((reference + ".",)),
                                 lambda _answer, _plan: self._walkDone(key, label, f"nothing to set for {protocol}"))]
            return
        plan[0:0] = [names, (m.GetParameterValues((reference + ".",)), None),
                     (m.SetParameterValues((change,), "demo-embedded"),
                      partial(self._setAnswered, key, row, label, _leaf(change.name)))]

    def _setAnswered(self, key: str, row: str, label: str, name: str, answer: m.Message, plan: list[_Step]) -> None:
        if isinstance(answer, m.SetParameterValuesResponse):
            self._readBacks[key] = _ReadBack(row, label, f"{name} set", self.clock.seconds() + READ_BACK)
        else:
            self._walkDone(key, label, f"{name} not set: {briefResponse(answer)}")

    def _readBack(self, key: str, answer: m.Message, plan: list[_Step]) -> None:
        """CommandProcessed read: the walk is done once it is Success or Error (or after L{READ_BACKS} reads)."""
        waiting = self._readBacks[key]
        waiting.reads += 1
        state = next((str(p.value) for p in getattr(answer, "parameters", ())
                      if p.name == waiting.row + "CommandProcessed"), "")
        if state in (SUCCESS, ERROR) or not state or waiting.reads >= READ_BACKS:
            del self._readBacks[key]
            self._walkDone(key, waiting.label, f"{waiting.what}, CommandProcessed {state or 'not read'}")
        else:
            waiting.due = self.clock.seconds() + READ_BACK

    def _walkDone(self, key: str, label: str, what: str) -> None:
        self.embeddedWalked.add(key)
        row, reference, _ = self.embeddedRows[key]
        self.printer.line("demo", f"{label:<{LABEL_WIDTH}} walk done as embedded objects, in the gateway's sessions "
                                  f"({_leaf(row)} and {_leaf(reference + '.')} read, {what})")

    #: the proxier's own identity: its endpoint is not walked as a device; the embedded objects' walks use it
    proxier = ""


class ActionPrinter:
    """
    Prints every UPnP action the proxier sends (an IActionObserver of the
    UPnP-DM service): one line once it is answered, or failed.
    """

    def __init__(self, printer: Printer) -> None:
        self.printer = printer

    def actionStarted(self, gate: Any, service: Any, action: str, arguments: Mapping[str, object]) -> None:
        pass  # told with its answer

    def actionEnded(self, gate: Any, service: Any, action: str, arguments: Mapping[str, object], result: Any,
                    elapsed: float) -> None:
        kind = service.serviceType.rpartition(":service:")[2].rpartition(":")[0]
        asked = " ".join(filter(None, (action, briefArguments(arguments))))
        full = " ".join(filter(None, (f"{gate.name}: {kind} {action}", describeArguments(arguments))))
        if isinstance(result, Failure):
            brief = answer = f"failed: {result.getErrorMessage()}"
        else:
            brief, answer = briefArguments(result) or "done", describeArguments(result) or "done"
        took = f"({elapsed * 1000:.0f} ms)"
        self.printer.exchange("UPnP", nameLabel(gate.name), f"{asked} → {brief}", f"{full} → {answer} {took}",
                              tail=took)


class DemoPrinter:
    """
    The demo's printer on 127.0.0.1:C{port}: ippeveprinter when C{real}
    (the fake printer instead when it does not start), else the fake; its
    black toner drops one percent every L{DRAIN_PERIOD} seconds, from 100
    again once empty.
    """

    def __init__(self, port: int, printer: Printer, clock: Any, *, real: bool) -> None:
        from proxier.sim.ippeveprinter import IppevePrinter

        self.port = port
        self.url = f"ipp://127.0.0.1:{port}/ipp/print"
        self.printer = printer
        self.clock = clock
        self.real: Any = IppevePrinter(clock, port, location="Front office") if real else None
        self.fake: Any = None
        self.listening: Any = None
        self._drain: Any = None
        self.stopped = False

    def start(self) -> None:
        if self.real is None:
            self._startFake()
            return
        d = self.real.start()
        d.addCallbacks(self._started, self._realFailed)

    def _started(self, url: str) -> None:
        if self.stopped:
            return
        pids = self.real.pids
        self.printer.line("demo", f"printer: a real ippeveprinter (PID {pids['printer']}, its private D-Bus bus "
                                  f"PID {pids['bus']}) at {url}; its black toner goes down through its /supplies "
                                  f"form every {DRAIN_PERIOD:g} s")
        self._startDrain()

    def _realFailed(self, failure: Failure) -> None:
        if self.stopped:
            return
        self.printer.line("demo", f"printer: ippeveprinter did not start ({failure.getErrorMessage()}): "
                                  "the in-process fake printer instead")
        self.real = None
        self._startFake()

    def _startFake(self) -> None:
        from proxier.sim import ippprinter

        with open(ippprinter.DEMO_ATTRIBUTES) as f:
            attributes = ippprinter.readAttributeFile(f.read())
        self.fake = ippprinter.IPPPrinter(self.clock, attributes, location="Front office")
        try:
            self.listening = ippprinter.listen(self.clock, self.fake, self.port)
        except CannotListenError as e:
            self.printer.line("demo", f"printer: the fake printer cannot listen on 127.0.0.1:{self.port} ({e}): "
                                      "no printer")
            return
        self.printer.line("demo", f"printer: the in-process fake IPP printer at {self.url} (ippeveprinter is not "
                                  f"used); its black toner goes down every {DRAIN_PERIOD:g} s")
        self._startDrain()

    def _startDrain(self) -> None:
        from twisted.internet.task import LoopingCall

        self._drain = LoopingCall(self._lower)
        self._drain.clock = self.clock
        self._drain.start(DRAIN_PERIOD, now=False)

    def level(self) -> int:
        return self.real.levels[BLACK] if self.real is not None else self.fake.level(BLACK)

    def _lower(self) -> Any:
        level = self.level() - 1 if self.level() > 0 else 100
        if self.real is None:
            self.fake.setLevel(BLACK, level)
            self.printer.line("IPP", f"printer: black toner now {level} % (the fake printer used some)")
            return None
        d = self.real.setLevel(BLACK, level)

        def done(code: int) -> None:
            self.printer.line("IPP", f"printer: black toner set to {level} % through ippeveprinter's /supplies "
                                     f"form (HTTP {code})")

        d.addCallbacks(done, lambda f: self.printer.line("IPP", f"printer: the /supplies form failed: "
                                                                f"{f.getErrorMessage()}"))
        return d

    def stop(self) -> Any:
        from twisted.internet.defer import maybeDeferred, succeed

        self.stopped = True
        if self._drain is not None and self._drain.running:
            self._drain.stop()
        if self.real is not None:
            return self.real.stop()
        if self.listening is not None:
            return maybeDeferred(self.listening.stopListening)
        return succeed(None)


def ctlCommand(executable: str = sys.executable) -> str:
    """
    How to run proxier-ctl with the Python the demo runs on: C{proxier-ctl}
    when that is the one on the PATH, its script's path when it is
    installed beside this Python only (a venv), else the module.
    """
    script = os.path.join(os.path.dirname(executable), "proxier-ctl")
    if not os.access(script, os.X_OK):
        return f"{shlex.quote(executable)} -m proxier.console.ctl"
    found = shutil.which("proxier-ctl")
    return "proxier-ctl" if found and os.path.realpath(found) == os.path.realpath(script) else shlex.quote(script)


def tryNextLines(consoleURL: str, key: str, label: str, ctl: str,
                 embedded: Optional[tuple[str, str, str, str]] = None) -> list[str]:
    """
    What the demo says once every device is walked: the console and
    proxier-ctl on device C{key} (C{label}; "": no simulated device is a
    Virtual CWMP Device), how to change a value on a simulated device and
    what to watch for, how to read a device shown as embedded objects
    (C{embedded}: its key, label, EmbeddedDevice row and Reference), and
    where every exchange is told in full.
    """
    lines = ["every device walked. Try next:"]
    if consoleURL:
        shell = f"{ctl} --url {consoleURL}"
        lines += [f"  in a browser: {consoleURL} (pick a device: its parameters as this ACS reads them)",
                  f"  in a shell:   {shell} devices"]
        if key:
            lines += [f"                {shell} get {key} Device.Time.",
                      f"  change a value on a simulated device ({label}): edit {TRY_PARAMETER} on the page, or",
                      f"                {shell} set {key} {TRY_PARAMETER} ntp.example.org",
                      "  it reaches the device as a UPnP SetValues, and the ACS, which asked for active notification,",
                      f"  hears of it at once: 'CWMP {label} ← Inform 4 VALUE CHANGE' here"]
        if embedded is not None:
            other, otherLabel, row, reference = embedded
            lines += [f"  a device shown as embedded objects ({otherLabel}) is rows of the gateway's own tree: "
                      "its 'Embedded objects' button on the page, or",
                      f"                {shell} get --embedded {shlex.quote(other)} {row} {reference}.",
                      "  'set --embedded' writes into the gateway's copy, pushed down to the device: "
                      f"{_leaf(row)}CommandProcessed says how it went"]
    lines.append("  every exchange in full: [log] level = debug and [log] file = PATH in a config file "
                 "(tools/run-demo --config FILE)")
    return lines


class _Demo(Service):
    """Starts the fleet once the control point listens; asks quiet devices for a session; stops it all."""

    log = Logger()

    def __init__(self, tree: Any, acs: DemoACS, port: Any, count: int, printer: Printer, clock: Any,
                 demoPrinter: Optional[DemoPrinter] = None, consoleURL: str = "") -> None:
        self.tree = tree
        self.consoleURL = consoleURL
        self.hinted = False
        self.demoPrinter = demoPrinter
        self.acs = acs
        self.port = port
        self.count = count
        self.printer = printer
        self.clock = clock
        self.fleet: Any = None
        self.firstSeen: dict[str, float] = {}
        self.asked: set[str] = set()
        self._gatewayAsked: Optional[float] = None  # when the gateway was last sent a Connection Request
        self._timer: Any = None

    def startService(self) -> None:
        super().startService()
        from proxier.sim.fleet import Fleet, FleetOptions

        service = self.tree.getServiceNamed("UPnP-DM")
        service.addActionObserver(ActionPrinter(self.printer))
        controlPoint = service.controlPoint
        self.fleet = Fleet(FleetOptions(count=self.count, controlPoint=controlPoint.ssdpAddress, seed=SEED,
                                        downtime=DEVICE_DOWNTIME), reactor=self.clock)
        self.fleet.startService()
        if self.consoleURL:
            self.printer.line("demo", f"console at {self.consoleURL} — open it in a browser: the devices, live, "
                                      "and their parameters")
        url = self.tree.config["acs"]["url"]
        self.printer.line("demo", f"{self.count} simulated UPnP DM devices on 127.0.0.1, demo ACS at {url}, "
                                  f"state in {self.tree.store.path}. Ctrl-C stops.")
        if self.demoPrinter is not None:
            self.acs.printers = self._printerNames
            self.demoPrinter.start()
        self.acs.embedded = self._embeddedNames
        self._timer = self.clock.callLater(1.0, self._askQuiet)

    def _askQuiet(self) -> None:
        """Virtual CWMP Devices that did not come by themselves get a Connection Request (a known device)."""
        self._timer = None
        if not self.running:
            return
        now = self.clock.seconds()
        manager = self.tree.cwmp.manager
        for key, endpoint in list(manager.endpoints.items()):
            if endpoint is self.tree.ownEndpoint:
                continue
            name = str(endpoint.identity)
            self.firstSeen.setdefault(name, now)
            if (name in self.acs.seen or name in self.asked or now - self.firstSeen[name] < QUIET
                    or not endpoint.online or endpoint.inSession):
                continue
            self.asked.add(name)
            self._connectionRequest(endpoint, "it knows this ACS already: no BOOTSTRAP")
        self._askGateway(now)
        virtual, embedded = expectedWalks(self.tree.mechanisms, self.count, self.demoPrinter is not None)
        if (len(self.acs.walked) < virtual or len(self.acs.embeddedWalked) < embedded
                or any(name not in self.acs.seen for name in self.firstSeen)):
            self._timer = self.clock.callLater(1.0, self._askQuiet)
        elif not self.hinted:
            self.hinted = True
            self._tryNext()

    def _askGateway(self, now: float) -> None:
        """
        The gateway's own endpoint gets a Connection Request when the demo
        ACS has embedded objects to walk or a set to read back (and it is
        not in a session already), at most every L{QUIET} seconds.
        """
        own = self.tree.ownEndpoint
        if (own is None or not own.online or own.inSession
                or (self._gatewayAsked is not None and now - self._gatewayAsked < QUIET)):
            return
        why = self.acs.gatewayWanted()
        if why:
            self._gatewayAsked = now
            self._connectionRequest(own, why)

    def _embeddedNames(self) -> list[str]:
        """The keys of the devices shown as embedded objects whose copy was read from the device once."""
        own = self.tree.ownEndpoint
        objects = getattr(own.model, "embeddedObjects", None) if own is not None else None
        if objects is None:
            return []
        return [key for key, row in objects.rows.items()
                if row.number is not None and row.synced.lastSyncTime() is not None]

    def _tryNext(self) -> None:
        """Once every device is walked: what a new user may try next."""
        devices = sorted((d for d in self.tree.virtualDirectory.devices() if d.proxyProtocol == "UPnP-DM"),
                         key=lambda d: d.key)
        example = devices[0] if devices else None
        if example is not None:
            key, label = example.key, deviceLabel(example.identity.productClass, example.identity.serialNumber)
        elif self.tree.mechanisms.get("UPnP-DM", VIRTUAL) == EMBEDDED:
            key, label = "", ""  # no simulated device is a Virtual CWMP Device
        else:
            key, label = "KEY", "a simulated device"
        embedded = None
        if self.acs.embeddedRows:
            other = min(self.acs.embeddedRows)
            row, reference, _ = self.acs.embeddedRows[other]
            embedded = (other, keyLabel(other), row, reference)
        for line in tryNextLines(self.consoleURL, key, label, ctlCommand(), embedded):
            self.printer.line("demo", line)

    def _connectionRequest(self, endpoint: Any, why: str) -> None:
        from proxier.cwmp.fakeacs import connectionRequest

        name = str(endpoint.identity)
        label = deviceLabel(endpoint.identity.productClass, endpoint.identity.serialNumber)
        username, password = endpoint.connectionRequestCredentials()
        url = self.tree.cwmp.server.url(endpoint.connectionRequestPath)
        d = connectionRequest(url, username, password, clock=self.clock, timeout=5.0)
        asked = f"Connection Request ({why})"
        d.addCallbacks(lambda status: self.printer.exchange("CWMP", label, f"{asked} → HTTP {status}",
                                                            f"{name}: {asked} to {url} → HTTP {status}"),
                       lambda f: self.printer.exchange("CWMP", label, f"{asked} → {f.getErrorMessage()}",
                                                       f"{name}: {asked} to {url} → {f.getErrorMessage()}"))

    def _printerNames(self) -> list[str]:
        """The identities of the printer protocol's devices (the demo's printer)."""
        from proxier.printer.settings import PROXY_PROTOCOL

        service = self.tree.getServiceNamed(PROXY_PROTOCOL)
        return [str(device.identity) for device in service.devices.values()]

    def stopService(self) -> Any:
        super().stopService()
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        from twisted.internet.defer import DeferredList, maybeDeferred

        waits = []
        if self.fleet is not None:
            waits.append(maybeDeferred(self.fleet.stopService))
        if self.demoPrinter is not None:
            waits.append(self.demoPrinter.stop())
        waits.append(maybeDeferred(self.port.stopListening))
        self.printer.line("demo", "stopped")
        return DeferredList(waits, consumeErrors=True)


def _listenACS(site: Any, store: Store, clock: Any) -> Any:
    """Listen on the port of the last run (a stable ACS URL: no new BOOTSTRAP), else on a free one."""
    document = store.child("demo").document("acs")
    saved = document.load(default={}, validate=lambda p: int(p.get("port", 0)))
    port = saved.get("port", 0) if isinstance(saved, dict) else 0
    try:
        listening = clock.listenTCP(port, site, interface="127.0.0.1")
    except CannotListenError:
        listening = clock.listenTCP(0, site, interface="127.0.0.1")
    chosen = listening.getHost().port
    if chosen != port:
        document.save({"port": chosen})
    return listening


def _requireSimulator(config: Config) -> None:
    """
    The simulated devices and the demo ACS are there: a gateway's package
    ships without them (Debian: they are the C{proxier-sim} package).

    @raise ConfigError: they are not, as one line saying what to install.
    """
    import importlib

    for name in ("proxier.sim.fleet", "proxier.cwmp.fakeacs"):
        try:
            importlib.import_module(name)
        except ImportError:
            raise ConfigError(config.path, "demo", "enable",
                              f"the demo needs the simulated devices and the demo ACS ({name}), not installed here: "
                              "install them (Debian: the proxier-sim package) or set enable = no") from None


def makeDemoService(config: Config, store: Store, protocols: Sequence[Any], *, reactor: Any = None,
                    stream: Optional[IO[str]] = None) -> Any:
    """
    The proxier's service tree in demo mode, with the demo ACS and the
    simulated devices attached to it.

    @raise ConfigError: the UPnP-DM protocol is not enabled, or the simulator
        is not installed.
    """
    from twisted.web.server import Site

    from proxier.service import ProxierService

    if reactor is None:
        from twisted.internet import reactor  # type: ignore[no-redef]
    if not any(p.name == "UPnP-DM" for p in protocols):
        raise ConfigError(config.path, "protocols", "enabled", "the demo needs the UPnP-DM protocol")
    _requireSimulator(config)
    printer = Printer(stream)
    acs = DemoACS(printer, clock=reactor)
    port = _listenACS(Site(acs.fake), store, reactor)
    url = f"http://127.0.0.1:{port.getHost().port}/acs"
    demoPrinter = _demoPrinter(config, store, protocols, printer, reactor)
    settings = demoConfig(config, url)
    if demoPrinter is not None:
        settings = settings.replace("printer", printers=(demoPrinter.url,), poll_interval=PRINTER_POLL)
    tree = ProxierService(settings, store, protocols, reactor=reactor)
    acs.proxier = str(tree.identity)
    console = _addConsole(tree, reactor)
    _Demo(tree, acs, port, config["demo"]["devices"], printer, reactor, demoPrinter,
          console.url()).setServiceParent(tree)
    return tree


def _addConsole(tree: Any, reactor: Any) -> Any:
    """
    The console of the demo's C{tree}, listening now on its configured port,
    or on a free one when that is taken (a gateway's console, another demo):
    its address is the demo's first line.
    """
    from proxier.console.api import TreeSource
    from proxier.console.server import ConsoleService

    console = ConsoleService(tree.config, TreeSource(tree), reactor=reactor)
    try:
        console.listen()
    except ConfigError as e:
        if e.key != "port":
            raise
        console = ConsoleService(tree.config.replace("console", port=0), TreeSource(tree), reactor=reactor)
        console.listen()
    console.setServiceParent(tree)
    return console


def _demoPrinter(config: Config, store: Store, protocols: Sequence[Any], printer: Printer,
                 reactor: Any) -> Optional[DemoPrinter]:
    """The demo's printer as C{[demo] printer} asks, when the printer protocol runs; None: no printer."""
    from proxier.printer.settings import PROXY_PROTOCOL

    wanted = config["demo"]["printer"]
    if wanted == "no" or not any(p.name == PROXY_PROTOCOL for p in protocols):
        return None
    if wanted == "fake":
        real = False
    else:
        from proxier.sim.ippeveprinter import binaries

        real = binaries() is not None
        if wanted == "ippeveprinter" and not real:
            printer.line("demo", "printer: ippeveprinter or dbus-daemon is not installed (Debian: cups-ipp-utils, "
                                 "dbus): the in-process fake printer instead")
    return DemoPrinter(_printerPort(store), printer, reactor, real=real)


def _printerPort(store: Store) -> int:
    """
    The printer's port of the last run if it is free, else a free one:
    ippeveprinter's printer-uuid (the printer's serial number here) follows
    its port, so a kept port keeps the printer one device across runs.
    """
    import random
    import socket

    document = store.child("demo").document("printer")
    saved = document.load(default={}, validate=lambda p: int(p.get("port", 0)))
    wanted = saved.get("port", 0) if isinstance(saved, dict) else 0
    # The printer listens a moment after the port is chosen: a port below the
    # kernel's ephemeral range is one no outgoing connection takes meanwhile.
    low = _ephemeralLow()
    candidates = ([wanted] if wanted else []) + random.sample(range(20000, low), min(64, max(0, low - 20000)))
    for candidate in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
        chosen = candidate
        break
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            chosen = s.getsockname()[1]
    if chosen != wanted:
        document.save({"port": chosen})
    return chosen


def _ephemeralLow(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> int:
    """The first port of the kernel's ephemeral range (32768, Linux's default, when it cannot be read)."""
    from proxier.asciinum import parseUnsigned

    try:
        with open(path) as f:
            return max(20001, min(65535, parseUnsigned(f.read().split()[0], 65535, what="ephemeral port")))
    except (OSError, ValueError, IndexError):
        return 32768
