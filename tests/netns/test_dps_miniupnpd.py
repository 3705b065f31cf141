"""
miniupnpd's plain DeviceProtection:1 stub, over real multicast in a
namespace pair of the test run's own: the proxier does not treat it as
secure. It announces no SECURELOCATION.UPNP.ORG and answers its
DeviceProtection actions over plain HTTP, so no TLS is attempted, nothing
is pinned, and the Public role it claims to grant is not taken as an
answer of a protected device (TR-330 §2.3: protection means TLS).
"""

from __future__ import annotations

import os

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.logger import LogLevel, formatEvent
from twisted.trial import unittest
from twisted.trial.unittest import SkipTest

from proxier import config as C
from proxier.store import Store
from proxier.upnp import description as D
from proxier.upnp.dps import security as S
from proxier.upnp.controlpoint import ControlPoint
from proxier.upnpdm.settings import SECTION
from tests._helpers import LogCapture
from tests.netns.isolation import requireIsolatedNamespace
from tests.netns import test_upnp_interop as interop
from tests.peers.lab import Lab
from tests._waiter import watch


class MiniUPnPdStubTests(unittest.TestCase):
    """miniupnpd (IGD:2 with a plain-HTTP DeviceProtection:1 stub) against the DeviceProtection layer."""

    UDN = interop.MiniUPnPdTests.UDN

    def setUp(self) -> None:
        requireIsolatedNamespace()
        if not os.path.exists("/usr/sbin/miniupnpd"):
            raise SkipTest("miniupnpd is not installed (tools/install-test-peers)")

    @inlineCallbacks
    def scenario(self, ipv6: bool):  # noqa: ANN201
        capture = LogCapture(self)
        lab = Lab(self, reactor, ipv4=not ipv6, extraDeviceLink=True)
        interop.MiniUPnPdTests.startMiniupnpd(self, lab)
        config = C.load(None, [SECTION]).replace(
            "lan", interfaces=(lab.cpIf,), ipv6=ipv6, ssdp_mode="multicast", ssdp_port=1900, search_interval=60)
        config = config.replace("upnp", subscription_timeout=30, dps_introduction="pbc")
        store = Store.open(self.mktemp()).child("protocol-UPnP-DM")
        cp = ControlPoint(config, reactor=reactor, store=store)
        waiter = watch(self, cp)
        _, device = yield waiter.wait("ready", timeout=interop.WAIT)
        self.assertEqual(device.udn, self.UDN)
        self.assertEqual(device.secureLocation, "")
        self.assertTrue(device.services(D.DEVICE_PROTECTION_1))
        security = device.security
        self.assertEqual(security.state, S.PLAIN)
        self.assertFalse(security.secure)
        self.assertEqual(cp.security.trusts, {})
        self.assertEqual(cp.security.routes, {})
        self.assertEqual(cp.security.pins.pins, {})
        self.assertEqual(cp.security.introductions, {})
        self.assertIsNone(cp.security.tls)  # no identity was even needed
        dp = device.services(D.DEVICE_PROTECTION_1)[0][1]
        self.assertEqual(device.info.target(dp.controlURL).scheme, "http")
        roles = yield device.callAction(dp, "GetAssignedRoles")
        self.assertIn("Public", roles["RoleList"])
        self.assertEqual(device.security.state, S.PLAIN)  # its answer does not make it a protected device
        lines = [formatEvent(e) for e in capture.atLeast(LogLevel.warn)]
        self.assertTrue([line for line in lines if "announces no SECURELOCATION" in line and self.UDN in line])

    def test_ipv4(self) -> None:
        """Over IPv4: found, treated as unprotected (no TLS, nothing pinned, no introduction), and said so in the log."""
        return self.scenario(ipv6=False)

    def test_ipv6(self) -> None:
        """Over IPv6: the same."""
        return self.scenario(ipv6=True)
