"""
Fuzz the UPnP description parsers (L{proxier.upnp.description}): a device
description or SCPD from the LAN parses or fails with L{DescriptionError},
opens no file and no connection (no DTD, no entity), and the numbers it
holds are plain integers.
"""

from __future__ import annotations

import glob
import os

from twisted.trial import unittest

from proxier.upnp import description
from tests.fuzz._harness import SHARED, XML_TOKENS, Target, assertFuzzClean

_LOCATION = "http://127.0.0.1:49200/d.xml"
_TOKENS = XML_TOKENS + (
    b'configId="', b"<specVersion><major>", b"<minor>", b"<UDN>uuid:", b"<URLBase>", b"<deviceList>",
    b"<serviceList>", b"<service>", b"<SCPDURL>", b"<controlURL>", b"<eventSubURL>", b"<device>", b"</device>",
    b"<actionList>", b"<action>", b"<argumentList>", b"<argument>", b"<direction>out</direction>",
    b"<relatedStateVariable>", b"<serviceStateTable>", b'<stateVariable sendEvents="no">', b"<allowedValueList>",
    b"<allowedValueRange><minimum>", b"<dataType>", b"<Optional/>", b"javascript:", b"file:///etc/passwd",
    b"http://127.0.0.1:1/", b"//127.0.0.1:1/", b"../../",
)


def _checkInt(value: object, low: int, high: int, what: str) -> None:
    assert value is None or (type(value) is int and low <= value <= high), f"{what} {value!r}"


def parseDescription(data: bytes) -> None:
    """L{description.parseDeviceDescription}, then what the fetcher and the tracker read of it."""
    parsed = description.parseDeviceDescription(data, _LOCATION)
    _checkInt(parsed.configId, 0, 2**31 - 1, "configId")
    for number in parsed.specVersion:
        _checkInt(number, 0, 9999999999, "specVersion")
    for device, service in parsed.services():
        device.service(service.serviceType)
        description.requiredActions(service.serviceType)
    parsed.deviceByUDN(parsed.device.udn)
    parsed.toBytes()


def parseSCPD(data: bytes) -> None:
    """L{description.parseSCPD}, then what the model builder reads of it."""
    scpd = description.parseSCPD(data)
    _checkInt(scpd.configId, 0, 2**31 - 1, "configId")
    for number in scpd.specVersion:
        _checkInt(number, 0, 9999999999, "specVersion")
    for serviceType in ("urn:schemas-upnp-org:service:ConfigurationManagement:2",
                        "urn:schemas-upnp-org:service:BasicManagement:2"):
        description.missingRequiredActions(serviceType, scpd)
    scpd.select()
    scpd.toBytes()


def _device():  # type: ignore[no-untyped-def]
    from tests.test_sim_fakes import makeDevice

    return makeDevice(powerOn=False)[0]


def _templates(pattern: str) -> list[bytes]:
    out = []
    for path in sorted(glob.glob(os.path.join(SHARED, "ref", "upnp-dm", pattern))):
        with open(path, "rb") as f:
            out.append(f.read())
    return out


def _descriptionSeeds() -> list[bytes]:
    from tests.test_upnp_description import DESCRIPTION

    cms = description.Service("urn:schemas-upnp-org:service:ConfigurationManagement:2",
                              "urn:upnp-org:serviceId:CMS", "/cms.xml", "/cms/control", "/cms/event")
    embedded = description.Device("urn:schemas-upnp-org:device:ManageableDevice:1",
                                  "uuid:00000000-0000-4000-8000-000000000002", "inner", services=(cms,))
    nested = description.DeviceDescription(
        description.Device("urn:schemas-upnp-org:device:ManageableDevice:2",
                           "uuid:00000000-0000-4000-8000-000000000001",
                           "outer", "maker", "http://127.0.0.1:1/", modelName="m", serialNumber="1",
                           services=(cms,), devices=(embedded,)),
        urlBase="http://127.0.0.1:49200/base/", specVersion=(1, 1), configId=12345)
    return [DESCRIPTION, _device().description(), nested.toBytes()]


def _scpdSeeds() -> list[bytes]:
    device = _device()
    own = [device.scpd(s.shortName) for s in device.services]
    return [s for s in own if s] + _templates("examples/*.xml") + _templates("service-templates/*service-template.xml")


TARGETS = [
    Target("description", __name__, parseDescription, (description.DescriptionError,), _descriptionSeeds, _TOKENS,
           xml=True),
    Target("scpd", __name__, parseSCPD, (description.DescriptionError,), _scpdSeeds, _TOKENS, xml=True),
]


class DescriptionFuzzTests(unittest.TestCase):
    def test_deviceDescription(self) -> None:
        """
        Mutated device descriptions (the simulator's, the test fixture, one
        with URLBase and an embedded device) parse or fail with L{DescriptionError},
        within a second each, opening no file and no connection.
        """
        assertFuzzClean(self, TARGETS[0])

    def test_scpd(self) -> None:
        """
        Mutated SCPDs (the simulator's services, rygel's BasicManagement:2,
        the UPnP DM service templates) parse or fail with
        L{DescriptionError}, within a second each, opening no file and no
        connection.
        """
        assertFuzzClean(self, TARGETS[1])
