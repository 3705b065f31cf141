"""Tests for L{proxier.hostid}: the serial number of a box without [device] serial_number, on made-up files."""

from __future__ import annotations

import json
import os
import socket

from twisted.trial import unittest

from proxier import config as C
from proxier.hostid import baseMAC, machineId, serialNumber
from proxier.service import ownIdentity


class FakeHost:
    """A made-up /etc/machine-id, /etc/board.json and /sys/class/net under one temporary directory."""

    def __init__(self, testCase: unittest.TestCase) -> None:
        self.root = testCase.mktemp()
        os.makedirs(os.path.join(self.root, "net"))
        self.machineId = os.path.join(self.root, "machine-id")
        self.board = os.path.join(self.root, "board.json")
        self.net = os.path.join(self.root, "net")

    def interface(self, name: str, index: int, mac: str, physical: bool = True) -> None:
        base = os.path.join(self.net, name)
        os.makedirs(base)
        with open(os.path.join(base, "address"), "w") as f:
            f.write(mac + "\n")
        with open(os.path.join(base, "ifindex"), "w") as f:
            f.write(f"{index}\n")
        if physical:
            os.makedirs(os.path.join(base, "device"))

    def write(self, path: str, text: str) -> None:
        with open(path, "w") as f:
            f.write(text)

    def serial(self) -> str:
        return serialNumber(self.machineId, self.board, self.net)


class SerialTests(unittest.TestCase):
    def setUp(self) -> None:
        self.host = FakeHost(self)

    def test_machineIdFirst(self) -> None:
        """A machine id gives the serial: its first 16 digits, upper case (as before, so no existing serial changes)."""
        self.host.write(self.host.machineId, "0123456789abcdef0123456789abcdef\n")
        self.host.interface("eth0", 2, "02:11:22:33:44:55")
        self.assertEqual(self.host.serial(), "0123456789ABCDEF")

    def test_openWrtLabelMAC(self) -> None:
        """No machine id (OpenWrt): the label MAC of board.json, as 12 upper-case hex digits."""
        self.host.write(self.host.board, json.dumps({"system": {"label_macaddr": "a4:2b:b0:01:02:03"}}))
        self.host.interface("eth0", 2, "a4:2b:b0:01:02:04")
        self.assertEqual(self.host.serial(), "A42BB0010203")

    def test_lowestPhysicalInterface(self) -> None:
        """Without a label MAC: the physical interface with the lowest index; bridges and zero MACs do not count."""
        self.host.write(self.host.board, "{not json")
        self.host.interface("br-lan", 1, "02:00:00:00:00:01", physical=False)
        self.host.interface("eth1", 4, "00:11:22:33:44:66")
        self.host.interface("eth0", 3, "00:11:22:33:44:55")
        self.host.interface("wan0", 2, "00:00:00:00:00:00")
        self.host.interface("mc0", 1, "01:00:5e:00:00:01")
        self.assertEqual(baseMAC(self.host.board, self.host.net), "00:11:22:33:44:55")
        self.assertEqual(self.host.serial(), "001122334455")

    def test_twoBoxesDiffer(self) -> None:
        """Two OpenWrt boxes (no machine id, same host name) get different serials — no identity collision at the ACS."""
        other = FakeHost(self)
        for host, mac in ((self.host, "a4:2b:b0:00:00:01"), (other, "a4:2b:b0:00:00:02")):
            host.interface("eth0", 2, mac)
        self.assertNotEqual(self.host.serial(), other.serial())

    def test_hostNameLast(self) -> None:
        """Nothing else: the host name; a machine id that is not hex (or all zeros) does not count."""
        self.host.write(self.host.machineId, "uninitialized\n")
        self.assertEqual(machineId(self.host.machineId), "")
        self.host.write(self.host.machineId, "0" * 32)
        self.assertEqual(machineId(self.host.machineId), "")
        self.assertEqual(self.host.serial(), socket.gethostname()[:64])

    def test_ownIdentity(self) -> None:
        """The proxier's own identity takes the derived serial only when [device] serial_number is empty."""
        self.host.interface("eth0", 2, "00:11:22:33:44:55")
        config = C.load(None)
        identity = ownIdentity(config["device"], self.host.machineId, self.host.board, self.host.net)
        self.assertEqual(identity.serialNumber, "001122334455")
        config = config.replace("device", serial_number="SN-1")
        identity = ownIdentity(config["device"], self.host.machineId, self.host.board, self.host.net)
        self.assertEqual(identity.serialNumber, "SN-1")
