# -*- test-case-name: tests.test_sim_scpd -*-
"""
The description documents of a simulated device (UDA 1.1 §2): its device
description and one SCPD per service.

An SCPD is built from the service's L{ServiceType} table: every action the
device implements (the required ones, and the optional ones it offers —
those it does not are dropped, as UDA 1.1 §2.5 asks), every required state
variable, and every optional one an offered action uses. The device
description lists the services with URLs under the device's path prefix, and
carries the CONFIGID (UDA 1.1 §2.3: C{configId} on the root element).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lxml import etree

from proxier.sim.servicetypes import StateVariable

__all__ = [
    "DEVICE_NS",
    "SERVICE_NS",
    "usedStateVariables",
    "serviceDescription",
    "DeviceInfo",
    "deviceDescription",
    "serviceURLs",
]

DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
SERVICE_NS = "urn:schemas-upnp-org:service-1-0"


def _spec(parent: etree._Element, ns: str) -> None:
    spec = etree.SubElement(parent, f"{{{ns}}}specVersion")
    etree.SubElement(spec, f"{{{ns}}}major").text = "1"
    etree.SubElement(spec, f"{{{ns}}}minor").text = "1"


def usedStateVariables(service) -> list[StateVariable]:
    """
    The state variables the service's SCPD lists, in template order: the
    required ones and those an offered action refers to.
    """
    table = service.serviceType
    referenced = {
        argument.relatedStateVariable
        for name in service.implementedActions()
        for argument in table.actions[name].arguments
    }
    return [v for v in table.stateVariables.values() if not v.optional or v.name in referenced]


def serviceDescription(service) -> bytes:
    """The SCPD of C{service} (a L{proxier.sim.service.Service})."""
    table = service.serviceType
    ns = SERVICE_NS
    root = etree.Element(f"{{{ns}}}scpd", nsmap={None: ns})
    _spec(root, ns)
    actionList = etree.SubElement(root, f"{{{ns}}}actionList")
    for name in service.implementedActions():
        action = table.actions[name]
        element = etree.SubElement(actionList, f"{{{ns}}}action")
        etree.SubElement(element, f"{{{ns}}}name").text = name
        if action.arguments:
            arguments = etree.SubElement(element, f"{{{ns}}}argumentList")
            for argument in action.arguments:
                node = etree.SubElement(arguments, f"{{{ns}}}argument")
                etree.SubElement(node, f"{{{ns}}}name").text = argument.name
                etree.SubElement(node, f"{{{ns}}}direction").text = argument.direction
                etree.SubElement(node, f"{{{ns}}}relatedStateVariable").text = argument.relatedStateVariable
    stateTable = etree.SubElement(root, f"{{{ns}}}serviceStateTable")
    for variable in usedStateVariables(service):
        node = etree.SubElement(stateTable, f"{{{ns}}}stateVariable")
        node.set("sendEvents", "yes" if variable.evented else "no")
        etree.SubElement(node, f"{{{ns}}}name").text = variable.name
        etree.SubElement(node, f"{{{ns}}}dataType").text = variable.dataType
        if variable.default is not None:
            etree.SubElement(node, f"{{{ns}}}defaultValue").text = variable.default
        if variable.allowed:
            allowed = etree.SubElement(node, f"{{{ns}}}allowedValueList")
            for value in variable.allowed:
                etree.SubElement(allowed, f"{{{ns}}}allowedValue").text = value
        if variable.valueRange is not None:
            valueRange = etree.SubElement(node, f"{{{ns}}}allowedValueRange")
            etree.SubElement(valueRange, f"{{{ns}}}minimum").text = str(variable.valueRange[0])
            etree.SubElement(valueRange, f"{{{ns}}}maximum").text = str(variable.valueRange[1])
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


@dataclass(frozen=True)
class DeviceInfo:
    """What the device description says about the device itself."""

    deviceType: str
    udn: str
    friendlyName: str
    manufacturer: str
    modelName: str
    modelNumber: str
    serialNumber: str
    modelDescription: str = ""
    manufacturerURL: str = ""


def serviceURLs(prefix: str, shortName: str) -> tuple[str, str, str]:
    """SCPDURL, controlURL and eventSubURL of a service under the device's path prefix."""
    base = prefix.rstrip("/") + "/" + shortName
    return base + "/scpd.xml", base + "/control", base + "/event"


def deviceDescription(info: DeviceInfo, services: Sequence, prefix: str, configId: int) -> bytes:
    """The device description served at the LOCATION."""
    ns = DEVICE_NS
    root = etree.Element(f"{{{ns}}}root", nsmap={None: ns})
    root.set("configId", str(configId))
    _spec(root, ns)
    device = etree.SubElement(root, f"{{{ns}}}device")
    for name, value in (
        ("deviceType", info.deviceType),
        ("friendlyName", info.friendlyName),
        ("manufacturer", info.manufacturer),
        ("manufacturerURL", info.manufacturerURL),
        ("modelDescription", info.modelDescription),
        ("modelName", info.modelName),
        ("modelNumber", info.modelNumber),
        ("serialNumber", info.serialNumber),
        ("UDN", info.udn),
    ):
        if value or name in ("deviceType", "friendlyName", "manufacturer", "modelName", "UDN"):
            etree.SubElement(device, f"{{{ns}}}{name}").text = value
    serviceList = etree.SubElement(device, f"{{{ns}}}serviceList")
    for service in services:
        node = etree.SubElement(serviceList, f"{{{ns}}}service")
        scpdURL, controlURL, eventURL = serviceURLs(prefix, service.shortName)
        for name, value in (
            ("serviceType", service.serviceType.serviceType),
            ("serviceId", service.serviceType.serviceId),
            ("SCPDURL", scpdURL),
            ("controlURL", controlURL),
            ("eventSubURL", eventURL),
        ):
            etree.SubElement(node, f"{{{ns}}}{name}").text = value
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
