# -*- test-case-name: tests.test_hostid -*-
"""
Where the proxier's own serial number comes from when C{[device]
serial_number} is empty: something of this box that stays the same across
restarts and reinstalls, and differs from box to box.

 1. C{/etc/machine-id} (systemd hosts; made once per installation);
 2. the base MAC address: on OpenWrt the one printed on the label
    (C{/etc/board.json}, C{system.label_macaddr}), else the lowest-numbered
    physical interface's (C{/sys/class/net/*/address} with a C{device}
    link) — OpenWrt has no machine-id, and its host name is C{OpenWrt} on
    every box, so a fleet would share one serial number and one set of
    Virtual CWMP Device identities at the ACS;
 3. the host name, last.

Every path is a parameter, so the tests hand in a made-up C{/sys} and
board file.
"""

from __future__ import annotations

import json
import os
import re
import socket
from typing import Optional

__all__ = ["machineId", "baseMAC", "serialNumber"]

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def machineId(path: str = "/etc/machine-id") -> str:
    """The first 16 hexadecimal digits of the machine id, upper case; empty when there is none."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            text = f.read(256).strip()
    except OSError:
        return ""
    if not re.fullmatch(r"[0-9a-fA-F]{16,64}", text) or not text.strip("0"):
        return ""
    return text[:16].upper()


def _usableMAC(text: str) -> Optional[str]:
    mac = text.strip().lower()
    if not _MAC.match(mac) or mac == "00:00:00:00:00:00" or mac == "ff:ff:ff:ff:ff:ff":
        return None
    if int(mac[:2], 16) & 1:  # a multicast address is no interface's own
        return None
    return mac


def baseMAC(boardJSON: str = "/etc/board.json", sysClassNet: str = "/sys/class/net") -> Optional[str]:
    """
    The box's base MAC address (C{aa:bb:cc:dd:ee:ff}), or C{None}: the label
    MAC of an OpenWrt board file, else that of the physical interface with
    the lowest index.
    """
    try:
        with open(boardJSON, encoding="utf-8") as f:
            board = json.loads(f.read(1 << 20))
        label = board.get("system", {}).get("label_macaddr") if isinstance(board, dict) else None
        if isinstance(label, str) and _usableMAC(label):
            return _usableMAC(label)
    except (OSError, ValueError, AttributeError):
        pass
    candidates = []
    try:
        names = os.listdir(sysClassNet)
    except OSError:
        return None
    for name in names:
        base = os.path.join(sysClassNet, name)
        if not os.path.exists(os.path.join(base, "device")):
            continue  # bridges, VLANs, tunnels, loopback: virtual, their MAC may be made up
        try:
            with open(os.path.join(base, "address"), encoding="ascii") as f:
                mac = _usableMAC(f.read(64))
            with open(os.path.join(base, "ifindex"), encoding="ascii") as f:
                index = int(f.read(32).strip() or "0")
        except (OSError, ValueError):
            continue
        if mac is not None:
            candidates.append((index, name, mac))
    return min(candidates)[2] if candidates else None


def serialNumber(machineIdPath: str = "/etc/machine-id", boardJSON: str = "/etc/board.json",
                 sysClassNet: str = "/sys/class/net") -> str:
    """The serial number of this box: machine id, else base MAC (12 hex digits), else host name."""
    serial = machineId(machineIdPath)
    if serial:
        return serial
    mac = baseMAC(boardJSON, sysClassNet)
    if mac is not None:
        return mac.replace(":", "").upper()
    return socket.gethostname()[:64]
