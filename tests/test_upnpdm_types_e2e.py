"""
Issue 17.3 end to end, over loopback sockets: a simulated device whose
types are wrong (L{tests.test_upnpdm_types.wrongSchema}, with its
HardwareVersion, a forced-inform parameter, typed hexBinary too), the
proxier's whole service tree and the fake ACS — the Inform's ParameterList
and a GetParameterValuesResponse carry TR-181's types, and every message is
validated against the CWMP schema (the Lab's fake ACS does).
"""

from __future__ import annotations

import json
import os
from typing import Any

from twisted.internet import defer
from twisted.trial import unittest

from proxier.cwmp import messages as m
from tests.test_upnpdm_e2e import Lab, answers, waitFor
from tests.test_upnpdm_types import WRONG, wrongSchemaDocument


class WrongTypesEndToEndTests(unittest.TestCase):
    """What the ACS sees of a device that types its parameters wrongly."""

    timeout = 60

    def dataFile(self) -> str:
        document = wrongSchemaDocument(dict(WRONG, **{
            "/BBF/DeviceInfo/HardwareVersion": {"type": "hexBinary", "default": "0A0B"}}))
        path = os.path.abspath(self.mktemp())
        with open(path, "w", encoding="utf-8") as f:
            json.dump(document, f)
        return path

    @defer.inlineCallbacks
    def test_informAndValues(self) -> None:
        """The BOOTSTRAP Inform's HardwareVersion and a GPV's ManufacturerOUI are xsd:string, as TR-181 says."""
        lab = Lab(self)
        lab.startTree()
        lab.startFleet(dataFile=self.dataFile())
        yield waitFor(lab.ended(0, 1), what="the BOOTSTRAP session")
        inform: Any = lab.sessions(0)[0].inform
        [hardware] = [p for p in inform.parameters if p.name == "Device.DeviceInfo.HardwareVersion"]
        self.assertEqual((hardware.value, hardware.type), ("0A0B", "xsd:string"))
        session = yield lab.session([m.GetParameterValues(("Device.DeviceInfo.ManufacturerOUI",
                                                           "Device.Time.Enable"))])
        [answer] = answers(session)
        self.assertEqual([(p.name, p.type) for p in answer.parameters],
                         [("Device.DeviceInfo.ManufacturerOUI", "xsd:string"),
                          ("Device.Time.Enable", "xsd:boolean")])
