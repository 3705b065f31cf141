"""
Tests for L{proxier.sharing} and its users (issue 19): equal values the
devices of one model learn are one object — the schema's node facts, the
capabilities, the profile's supported data models and constants — and a
table stays bounded.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier.sharing import InternTable, internFrozenset
from proxier.upnp.description import SCPD, Action, Device, DeviceDescription
from proxier.upnpdm import profile as P
from proxier.upnpdm.cmsschema import CMSSchema
from tests.test_upnpdm_profile import CMS2, COMMON, MODELS, service


class InternTableTests(unittest.TestCase):
    def test_firstEqualValue(self) -> None:
        """Equal values give the first one given; unequal ones are kept apart."""
        table: InternTable[tuple] = InternTable()
        first = tuple(["a", 1])
        self.assertIs(table(tuple(["a", 1])), table(first))
        self.assertIsNot(table(("b", 1)), first)
        self.assertEqual(len(table), 2)

    def test_bounded(self) -> None:
        """Past its limit a table keeps a value as given and grows no more."""
        table: InternTable[str] = InternTable(limit=2)
        for text in ("a", "b", "c"):
            table("".join([text, "!"]))
        late = "".join(["c", "!"])
        self.assertIs(table(late), late)
        self.assertEqual(len(table), 2)

    def test_frozensetOfText(self) -> None:
        """Two equal sets of strings made apart are one object."""
        self.assertIs(internFrozenset(["".join(["x", "y"]), "z"]), internFrozenset(["z", "xy"]))


class DevicesShareTests(unittest.TestCase):
    def test_schemaNodes(self) -> None:
        """Two devices' schemas learning the same node hold one NodeInfo and one path string."""
        schemas = [CMSSchema(lambda *a, **k: None) for _ in range(2)]
        for schema in schemas:
            schema.learn("".join(["/BBF/Hosts/Host/", "1", "/HostName"]), {"Type": "string", "Access": "readWrite",
                                                                         "EventOnChange": "0"})
        [(path0, info0)], [(path1, info1)] = (list(s.nodes.items()) for s in schemas)
        self.assertIs(info0, info1)
        self.assertIs(path0, path1)
        self.assertTrue(info0.writable)
        schemas[0].learn("/BBF/Hosts/Host/2/HostName", {"Access": "readOnly"})
        self.assertEqual((schemas[0].info("/BBF/Hosts/Host/1/HostName").type,
                          schemas[1].info("/BBF/Hosts/Host/1/HostName").access), ("string", "readWrite"))

    def test_schemaTables(self) -> None:
        """
        Two devices' schemas that learnt the same hold one object per table;
        one device's write is its own (copied) until the next batch, after
        which the equal content is one object again; an unequal one is not.
        """
        schemas = [CMSSchema(lambda *a, **k: None) for _ in range(3)]
        for schema in schemas:
            schema.learnStructure(["/BBF/Hosts/Host/#/HostName", "".join(["/BBF/Time/", "Enable"])])
            schema.learn("/BBF/Time/Enable", {"Type": "boolean", "Access": "readWrite", "EventOnChange": "1"})
            schema.share()
        a, b, c = schemas
        for name in ("nodes", "tables", "objects", "eventOnChange"):
            self.assertIs(getattr(a, name)._data, getattr(b, name)._data, name)
        self.assertEqual((set(a.tables), set(a.objects)), ({"/BBF/Hosts/Host/"}, {"/BBF/", "/BBF/Hosts/", "/BBF/Time/"}))
        a.eventOnChange["/BBF/Time/Enable"] = False
        a.tables.add("/BBF/X/")
        self.assertEqual((b.eventOnChange["/BBF/Time/Enable"], "/BBF/X/" in b.tables), (True, False))
        b.eventOnChange["/BBF/Time/Enable"] = False
        c.tables.add("/BBF/Y/")
        for schema in schemas:
            schema.share()
        self.assertIs(a.eventOnChange._data, b.eventOnChange._data)
        self.assertEqual(a.eventOnChange, {"/BBF/Time/Enable": False})
        self.assertIsNot(a.tables._data, c.tables._data)
        self.assertNotIn("/BBF/Y/", a.tables)
        del a.eventOnChange["/BBF/Time/Enable"]
        a.forget()
        self.assertEqual((len(a.nodes), len(a.tables), dict(b.eventOnChange)), (0, 0, {"/BBF/Time/Enable": False}))

    def candidate(self, udn: str) -> P.Candidate:
        return P.Candidate(udn, Device("t", udn.upper(), manufacturer="Lamps Inc."),
                           {"ConfigurationManagement": service(CMS2, "CMS")})

    def test_serviceNames(self) -> None:
        """A candidate's services are keyed by the module's names, not by the strings parsed from each description."""
        found, _ = P.candidates(DeviceDescription(Device("t", "uuid:A", services=(service((CMS2 + "!")[:-1], "CMS"),))))
        [name] = found[0].services
        self.assertIs(name, P.DM_NAMES[1])

    def test_capabilitiesAndProfile(self) -> None:
        """Two devices of one model, SCPDs parsed apart: one Capabilities, one models tuple, shared constants."""
        def scpd() -> SCPD:
            return SCPD(tuple(Action(a) for a in ["GetValues", "GetSupportedParameters", "SetValues"]))

        caps = [P.capabilities(self.candidate(udn), lambda s: scpd()) for udn in ("uuid:a", "uuid:b")]
        self.assertIs(caps[0], caps[1])
        def fresh(text: str) -> str:
            return (text + "!")[:-1]  # equal, not the same object: as read from another device's answer

        profiles = [P.makeProfile(self.candidate(udn), caps[0], [type(m)(**vars(m)) for m in MODELS],
                                  fresh("/UPnP/DM/"), {fresh(k): fresh(v) for k, v in COMMON.items()},
                                  ["/BBF/DeviceInfo/", "/BBF/Hosts/Host/#/"], "2.17")
                    for udn in ("uuid:a", "uuid:b")]
        self.assertIs(profiles[0].models, profiles[1].models)
        self.assertIs(profiles[0].rootStructure, profiles[1].rootStructure)
        name = "Device.RootDataModelVersion"
        self.assertIs(profiles[0].constants[name], profiles[1].constants[name])
        for part in ("constants", "mapped", "commonObjects", "softwareVersion", "hardwareVersion"):
            self.assertIs(getattr(profiles[0], part), getattr(profiles[1], part), part)
        self.assertTrue(profiles[0].mapped)
        self.assertIs(profiles[0].identity.productClass, profiles[1].identity.productClass)
        self.assertIsNot(profiles[0].identity.serialNumber, profiles[1].identity.serialNumber)
