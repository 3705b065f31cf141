"""
An in-memory IPP printer and a client on it, for the printer device and
plugin tests: the printer's attributes as our codec's values, an up-time
from the test's clock, writes it takes, ignores (cupsd's successful-ok that
changes nothing) or refuses, a restart, and being switched off.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from twisted.internet.defer import Deferred, fail, succeed

from proxier.lan.urlpolicy import Origin
from proxier.printer import ipp
from proxier.printer.ippclient import (
    OP_CUPS_ADD_MODIFY_PRINTER,
    OP_GET_PRINTER_ATTRIBUTES,
    OP_RESTART_PRINTER,
    OP_SET_PRINTER_ATTRIBUTES,
    IPPClient,
    IPPStatusError,
    IPPTransportError,
    Notifications,
    Subscription,
    httpURL,
)

URL = "ipp://127.0.0.1:8631/ipp/print"

TEXT, NAME, KEYWORD, URI, ENUM, INTEGER, BOOLEAN = 0x41, 0x42, 0x44, 0x45, 0x23, 0x21, 0x22


def attribute(name: str, tag: int, *values: Any) -> ipp.Attribute:
    return ipp.Attribute(name, tuple(ipp.Value(tag, v) for v in values))


def mfp4000(location: str = "Room 1") -> list[ipp.Attribute]:
    """The attributes of the MFP 4000 the peers' fixture describes, as far as the tests need them."""
    return [
        attribute("printer-make-and-model", TEXT, "ExampleCo MFP 4000 Color"),
        attribute("printer-device-id", TEXT, "MFG:ExampleCo;MDL:MFP 4000 Color;CMD:PDF,PWGRaster;SN:EX4000-0001;"),
        attribute("printer-uuid", URI, "urn:uuid:7d1c7a5e-0000-4000-8000-000000004000"),
        attribute("printer-firmware-string-version", TEXT, "4.2.1"),
        attribute("printer-location", TEXT, location),
        attribute("printer-info", TEXT, "MFP4000"),
        attribute("printer-state", ENUM, 3),
        attribute("printer-state-reasons", KEYWORD, "none"),
        attribute("printer-state-change-time", INTEGER, 1),
        attribute("printer-config-change-time", INTEGER, 1),
        attribute("color-supported", BOOLEAN, True),
        attribute("sides-default", KEYWORD, "two-sided-long-edge"),
        attribute("copies-default", INTEGER, 1),
        attribute("orientation-requested-default", ENUM, 3),
        attribute("printer-supply", 0x30,
                  b"index=1;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;level=8;colorantname=black;",
                  b"index=2;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;level=55;colorantname=cyan;"),
        attribute("printer-settable-attributes-supported", KEYWORD, "printer-location", "printer-info"),
        attribute("operations-supported", ENUM, OP_GET_PRINTER_ATTRIBUTES, OP_SET_PRINTER_ATTRIBUTES,
                  OP_RESTART_PRINTER),
    ]


class FakePrinter:
    """
    The printer: C{up} or not; the attributes named in C{ignored} are
    answered successful-ok and not changed (cupsd does so for some);
    C{refuseWrites} answers client-error-attributes-not-settable.
    """

    def __init__(self, clock: Any, attributes: Optional[Iterable[ipp.Attribute]] = None) -> None:
        self.clock = clock
        self.attributes = {a.name: a for a in (attributes if attributes is not None else mfp4000())}
        self.bootedAt = clock.seconds() - 100
        self.up = True
        self.ignored: set[str] = set()
        self.refuseWrites = False
        self.requests: list[tuple[str, Any]] = []
        self.offersEvents = False  # ippget subscriptions (cupsd does; ippeveprinter 2.4 does not)
        self.events: list[ipp.AttributeGroup] = []  # since the subscription, oldest first
        self.subscriptions: set[int] = set()

    def set(self, name: str, tag: int, *values: Any) -> None:
        self.attributes[name] = attribute(name, tag, *values)

    def restart(self) -> None:
        self.bootedAt = self.clock.seconds()
        self.subscriptions.clear()

    def notify(self, event: str) -> None:
        """An event for the subscriptions (printer-config-changed, ...)."""
        self.events.append(ipp.AttributeGroup(0x07, [
            attribute("notify-subscribed-event", KEYWORD, event),
            attribute("notify-sequence-number", INTEGER, len(self.events) + 1),
        ]))

    def group(self, requested: Sequence[str]) -> ipp.AttributeGroup:
        wanted = set(requested)
        upTime = attribute("printer-up-time", INTEGER, int(self.clock.seconds() - self.bootedAt))
        every = list(self.attributes.values()) + [upTime]
        return ipp.AttributeGroup(0x04, [a for a in every if "all" in wanted or a.name in wanted])


def _status(operation: int, status: int) -> IPPStatusError:
    return IPPStatusError(operation, ipp.IPPMessage(status, 1, [ipp.AttributeGroup(0x01, [])]))


class FakeClient:
    """The L{IPPClient} operations the printer device uses, on a L{FakePrinter}."""

    def __init__(self, printer: FakePrinter, url: str = URL) -> None:
        self.printer = printer
        self.url, self.printerURI = httpURL(url)
        self.origin = Origin("127.0.0.1")

    def _down(self) -> Optional[Deferred]:
        if not self.printer.up:
            return fail(IPPTransportError(f"{self.printerURI}: connection refused"))
        return None

    def getPrinterAttributes(self, requested: Sequence[str] = ("all",)) -> Deferred:
        self.printer.requests.append(("Get-Printer-Attributes", tuple(requested)))
        return self._down() or succeed(self.printer.group(requested))

    def setPrinterAttributes(self, attributes: Iterable[ipp.Attribute]) -> Deferred:
        attributes = list(attributes)
        self.printer.requests.append(("Set-Printer-Attributes", attributes))
        down = self._down()
        if down is not None:
            return down
        if self.printer.refuseWrites:
            return fail(_status(OP_SET_PRINTER_ATTRIBUTES, 0x0413))  # client-error-attributes-not-settable
        for a in attributes:
            if a.name not in self.printer.ignored:
                self.printer.attributes[a.name] = a
        return succeed(ipp.IPPMessage(0, 1, [ipp.AttributeGroup(0x01, [])]))

    def cupsAddModifyPrinter(self, attributes: Iterable[ipp.Attribute]) -> Deferred:
        attributes = list(attributes)
        self.printer.requests.append(("CUPS-Add-Modify-Printer", attributes))
        down = self._down()
        if down is not None:
            return down
        if OP_CUPS_ADD_MODIFY_PRINTER not in [v.value for v in self.printer.attributes["operations-supported"].values]:
            return fail(_status(OP_CUPS_ADD_MODIFY_PRINTER, 0x0501))
        for a in attributes:
            if a.name not in self.printer.ignored:
                self.printer.attributes[a.name] = a
        return succeed(ipp.IPPMessage(0, 1, [ipp.AttributeGroup(0x01, [])]))

    def createPrinterSubscription(self, events: Sequence[str], lease: int = 3600) -> Deferred:
        self.printer.requests.append(("Create-Printer-Subscriptions", tuple(events)))
        down = self._down()
        if down is not None:
            return down
        if not self.printer.offersEvents:
            return fail(_status(0x0016, 0x0501))  # server-error-operation-not-supported
        identifier = len(self.printer.subscriptions) + 1
        self.printer.subscriptions.add(identifier)
        return succeed(Subscription(identifier, lease))

    def getNotifications(self, subscriptionId: int, sequenceNumber: int = 1) -> Deferred:
        self.printer.requests.append(("Get-Notifications", (subscriptionId, sequenceNumber)))
        down = self._down()
        if down is not None:
            return down
        if subscriptionId not in self.printer.subscriptions:
            return fail(_status(0x001C, 0x0406))  # client-error-not-found
        return succeed(Notifications(30, self.printer.events[sequenceNumber - 1:]))

    def renewSubscription(self, subscriptionId: int, lease: int = 3600) -> Deferred:
        self.printer.requests.append(("Renew-Subscription", subscriptionId))
        if subscriptionId not in self.printer.subscriptions:
            return fail(_status(0x001A, 0x0406))
        return succeed(ipp.IPPMessage(0, 1, [ipp.AttributeGroup(0x01, [])]))

    def cancelSubscription(self, subscriptionId: int) -> Deferred:
        self.printer.requests.append(("Cancel-Subscription", subscriptionId))
        self.printer.subscriptions.discard(subscriptionId)
        return self._down() or succeed(ipp.IPPMessage(0, 1, [ipp.AttributeGroup(0x01, [])]))

    def restart(self, printer: ipp.AttributeGroup) -> Deferred:
        self.printer.requests.append(("Restart", None))
        down = self._down()
        if down is not None:
            return down
        if IPPClient.restartOperation(printer) is None:
            return fail(_status(OP_RESTART_PRINTER, 0x0501))
        self.printer.restart()
        return succeed(ipp.IPPMessage(0, 1, [ipp.AttributeGroup(0x01, [])]))
