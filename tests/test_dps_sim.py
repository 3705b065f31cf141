"""
Tests for the device side of DeviceProtection (L{proxier.sim.dps},
L{proxier.sim.wps}), sans-IO: the service's actions, the ACL and its role
checks walked against the tables, the carrier CA, the push-button
introduction against the proxier's registrar, and the login flow.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from twisted.internet.task import Clock
from twisted.trial import unittest

from proxier.sim.dps import DP1, AccessControl, DeviceProtection, makeCertificate, verifiedBy
from proxier.sim.errors import ActionError
from proxier.sim.service import ActionContext
from proxier.sim.wps import Introductions, PushButton, WALK_TIME
from proxier.upnp.dps import codec, wps
from tests._helpers import SHARED

TEMPLATE = os.path.join(SHARED, "ref", "upnp-dm", "service-templates", "DeviceProtection-1.service-template.xml")
UDN = "uuid:abcdefab-0000-5000-8000-000000000001"


def der(certificate):
    return certificate.public_bytes(Encoding.DER)


_CERTS = {}


def cert(name):
    if name not in _CERTS:
        _CERTS[name] = makeCertificate(name)
    return _CERTS[name]


class Harness:
    """A DeviceProtection service with its ACL, introductions and button, on a Clock."""

    def __init__(self, **access):
        self.clock = Clock()
        self.clock.advance(1_000_000)
        self.deviceCert = der(cert("device")[0])
        self.access = AccessControl(**access)
        self.button = PushButton(self.clock)
        attributes = wps.DeviceAttributes(uuid=codec.cpidBytes(self.deviceCert), macAddress=b"\x02" * 6)
        self.introductions = Introductions(attributes, self.button, self.clock, self.access.introduced)
        self.service = DeviceProtection(self.access, self.introductions, [UDN], self.deviceCert, self.clock)
        self.service.authorizer = self.access.authorize
        self.events = []
        self.service.addListener(self.events.append)

    def call(self, action, context=None, **arguments):
        out = self.service.invoke(action, {k: str(v) for k, v in arguments.items()}, context or ActionContext())
        return dict(out)


def secure(certificate) -> ActionContext:
    return ActionContext(peer="127.0.0.1", secure=True, certificate=der(certificate))


class TemplateTests(unittest.SynchronousTestCase):
    def test_tableMatchesTemplate(self):
        """DP1 lists every state variable and action of the DeviceProtection:1 template, arguments in order."""
        root = etree.parse(TEMPLATE).getroot()
        variables = {v.findtext("name"): v.findtext("dataType") for v in root.iter("stateVariable")}
        self.assertEqual({n: v.dataType for n, v in DP1.stateVariables.items()}, variables)
        for action in root.iter("action"):
            name = action.findtext("name")
            expected = [(a.findtext("name"), a.findtext("direction"), a.findtext("relatedStateVariable"))
                        for a in action.iter("argument")]
            got = [(a.name, a.direction, a.relatedStateVariable) for a in DP1.actions[name].arguments]
            self.assertEqual(got, expected, name)
        self.assertEqual(set(DP1.actions), {a.findtext("name") for a in root.iter("action")})

    def test_everyActionImplemented(self):
        """The simulated service implements every (required) action of the template."""
        self.assertEqual(set(Harness().service.implementedActions()), set(DP1.actions))


class AuthorizationTests(unittest.SynchronousTestCase):
    def test_dmRowsAgainstRoles(self):
        """Each DM table row: a control point holding a role may invoke the action exactly when the row names it."""
        h = Harness()
        for role in sorted(codec.EVERYONE):
            certificate = makeCertificate(f"cp {role}")[0]
            h.access.add(codec.cpid(der(certificate)), frozenset({role}))
            context = secure(certificate)
            for (service, action), allowed in codec.DM_ROLE_ACTIONS.items():
                serviceId = f"urn:upnp-org:serviceId:{service}"
                self.assertEqual(h.access.authorize(serviceId, action, context),
                                 role in allowed or codec.PUBLIC in allowed, (service, action, role))

    def test_dpRowsForPublic(self):
        """DeviceProtection's own rows for a stranger: only the EVERYONE actions pass."""
        h = Harness()
        context = secure(cert("stranger")[0])
        for action, allowed in codec.DP_ACTION_ROLES.items():
            self.assertEqual(h.access.authorize(DP1.serviceId, action, context), codec.PUBLIC in allowed, action)

    def test_plainPortIsPublic(self):
        """Over the plain port every control point is Public, whatever its ACL entry (606 for Admin actions)."""
        h = Harness()
        h.access.add(codec.cpid(der(cert("admin")[0])), frozenset({"Admin"}))
        plain = ActionContext(peer="127.0.0.1", secure=False, certificate=der(cert("admin")[0]))
        self.assertEqual(h.access.roles(plain), {"Public"})
        self.assertFalse(h.access.authorize("urn:upnp-org:serviceId:BasicManagement", "Reboot", plain))
        with self.assertRaises(ActionError) as caught:
            h.call("GetACLData", plain)
        self.assertEqual(caught.exception.code, 606)

    def test_overridesAnsweredAndEnforced(self):
        """A role override changes both GetRolesForAction's answer and the check."""
        h = Harness()
        basic = cert("basic")[0]
        h.access.add(codec.cpid(der(basic)), frozenset({"Basic"}))
        h.access.roleOverrides[("ConfigurationManagement", "SetValues")] = frozenset({"Basic"})
        answer = h.call("GetRolesForAction", secure(basic), DeviceUDN=UDN,
                        ServiceId="urn:upnp-org:serviceId:ConfigurationManagement", ActionName="SetValues")
        self.assertEqual(answer, {"RoleList": "Basic", "RestrictedRoleList": ""})
        self.assertTrue(h.access.authorize("urn:upnp-org:serviceId:ConfigurationManagement", "SetValues",
                                           secure(basic)))

    def test_rolesForActionErrors(self):
        """GetRolesForAction of another device or an unknown action: 600."""
        h = Harness()
        admin = cert("admin")[0]
        h.access.add(codec.cpid(der(admin)), frozenset({"Admin"}))
        for kw in ({"DeviceUDN": "uuid:other", "ServiceId": "urn:upnp-org:serviceId:BasicManagement",
                    "ActionName": "Reboot"},
                   {"DeviceUDN": UDN, "ServiceId": "urn:upnp-org:serviceId:BasicManagement", "ActionName": "Nope"}):
            with self.assertRaises(ActionError) as caught:
                h.call("GetRolesForAction", secure(admin), **kw)
            self.assertEqual(caught.exception.code, 600)


class CarrierTests(unittest.SynchronousTestCase):
    def test_caSignedGetsAdmin(self):
        """TR-330 §4.8.1.1: a certificate signed by a pre-installed CA is added with Admin on first contact."""
        ca = makeCertificate("Operator CA", ca=True)
        proxier = makeCertificate("proxier 1", issuer=ca)[0]
        h = Harness(caRoots=[ca[0]])
        self.assertEqual(h.call("GetAssignedRoles", secure(proxier)), {"RoleList": "Admin Public"})
        entry = h.access.acl[codec.cpid(der(proxier))]
        self.assertEqual((entry.roles, entry.name), (frozenset({"Admin"}), "proxier 1"))

    def test_otherCAOrSelfSigned(self):
        """A certificate of another CA, or a self-signed one, gets Public only and no ACL entry."""
        ca, other = makeCertificate("Operator CA", ca=True), makeCertificate("Other CA", ca=True)
        h = Harness(caRoots=[ca[0]])
        for certificate in (makeCertificate("x", issuer=other)[0], cert("self")[0]):
            self.assertEqual(h.call("GetAssignedRoles", secure(certificate)), {"RoleList": "Public"})
        self.assertEqual(h.access.acl, {})

    def test_expiredCASigned(self):
        """A CA-signed certificate that expired is not verified."""
        ca = makeCertificate("Operator CA", ca=True)
        old = makeCertificate("old", issuer=ca, start=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
                              days=10)[0]
        self.assertFalse(verifiedBy(old, [ca[0]]))
        self.assertTrue(verifiedBy(makeCertificate("new", issuer=ca)[0], [ca[0]]))


class ACLActionTests(unittest.SynchronousTestCase):
    def setUp(self):
        self.h = Harness()
        self.admin = cert("admin")[0]
        self.h.access.add(codec.cpid(der(self.admin)), frozenset({"Admin"}))
        self.other = cert("other")[0]

    def test_getACLData(self):
        """GetACLData returns the ACL document with its entries."""
        acl = codec.parseACL(self.h.call("GetACLData", secure(self.admin))["ACL"])
        self.assertEqual([e.id for e in acl.controlPoints], [codec.cpid(der(self.admin))])

    def test_identityManagement(self):
        """AddIdentityList, AddRolesForIdentity, RemoveRolesForIdentity and RemoveIdentity change the ACL."""
        context = secure(self.admin)
        otherID = codec.cpid(der(self.other))
        listed = codec.formatIdentityList([codec.CPEntry(otherID, frozenset({"Basic"}), "other")])
        result = self.h.call("AddIdentityList", context, IdentityList=listed)
        self.assertIn(otherID, result["IdentityListResult"])
        identity = codec.formatIdentity(cpidText=otherID)
        self.h.call("AddRolesForIdentity", context, Identity=identity, RoleList="Admin")
        self.assertEqual(self.h.access.roles(secure(self.other)), {"Public", "Basic", "Admin"})
        self.h.call("RemoveRolesForIdentity", context, Identity=identity, RoleList="Admin Basic")
        self.assertEqual(self.h.access.roles(secure(self.other)), {"Public"})
        self.h.call("RemoveIdentity", context, Identity=identity)
        self.assertNotIn(otherID, self.h.access.acl)

    def test_identityErrors(self):
        """Unknown identities, unknown roles, broken documents: 600; a non-Admin: 606."""
        context = secure(self.admin)
        unknown = codec.formatIdentity(cpidText=codec.cpid(b"nobody"))
        known = codec.formatIdentity(cpidText=codec.cpid(der(self.admin)))
        for action, kw in (("RemoveIdentity", {"Identity": unknown}),
                           ("AddRolesForIdentity", {"Identity": known, "RoleList": "Superuser"}),
                           ("AddRolesForIdentity", {"Identity": known, "RoleList": ""}),
                           ("AddIdentityList", {"IdentityList": "<Identities><CP/></Identities>"}),
                           ("RemoveIdentity", {"Identity": "<Identity/>"})):
            with self.assertRaises(ActionError) as caught:
                self.h.call(action, context, **kw)
            self.assertEqual(caught.exception.code, 600, action)
        with self.assertRaises(ActionError) as caught:
            self.h.call("RemoveIdentity", secure(self.other), Identity=known)
        self.assertEqual(caught.exception.code, 606)

    def test_supportedProtocols(self):
        """GetSupportedProtocols names WPS and the PKCS5 login."""
        answer = self.h.call("GetSupportedProtocols")
        self.assertEqual(codec.parseSupportedProtocols(answer["ProtocolList"]), codec.SupportedProtocols(("WPS",),
                                                                                                      ("PKCS5",)))


class IntroductionTests(unittest.SynchronousTestCase):
    """SendSetupMessage against the proxier's own registrar."""

    def setUp(self):
        self.h = Harness()
        self.cp = cert("proxier")[0]
        self.me = wps.DeviceAttributes(uuid=codec.cpidBytes(der(self.cp)))

    def send(self, message: bytes, certificate=None, protocol="WPS") -> bytes:
        out = self.h.call("SendSetupMessage", secure(certificate or self.cp), ProtocolType=protocol,
                          InMessage=base64.b64encode(message).decode("ascii"))
        return base64.b64decode(out["OutMessage"])

    def introduce(self, certificate=None) -> wps.Registrar:
        registrar = wps.Registrar(self.me if certificate is None else wps.DeviceAttributes(
            uuid=codec.cpidBytes(der(certificate))), expectedUUID=codec.cpidBytes(self.h.deviceCert))
        message = self.send(b"", certificate)
        while True:
            reply = registrar.receive(message)
            if reply is None:
                return registrar
            message = self.send(reply, certificate)

    def test_buttonPressed(self):
        """With the button pressed the run completes: the proxier is in the ACL, introduced, with Admin."""
        self.h.button.press()
        registrar = self.introduce()
        self.assertTrue(registrar.succeeded)
        entry = self.h.access.acl[codec.cpid(der(self.cp))]
        self.assertEqual((entry.roles, entry.introduced), (frozenset({"Admin"}), True))
        self.assertFalse(self.h.button.active)
        self.assertEqual(self.h.introductions.state, "idle")

    def test_buttonNotPressed(self):
        """Without the button the run ends after M2D with a NACK: notReady, nothing granted."""
        registrar = self.introduce()
        self.assertEqual(registrar.state, "notReady")
        self.assertEqual(self.h.access.acl, {})

    def test_walkTime(self):
        """A press older than the walk time does not count."""
        self.h.button.press()
        self.h.clock.advance(WALK_TIME + 1)
        self.assertEqual(self.introduce().state, "notReady")

    def test_busyForAnotherControlPoint(self):
        """While one control point's run is open another gets 708; after the run timeout it may start."""
        self.send(b"")
        other = cert("other")[0]
        with self.assertRaises(ActionError) as caught:
            self.send(b"", other)
        self.assertEqual(caught.exception.code, 708)
        self.h.clock.advance(61)
        self.assertEqual(wps.Message.parse(self.send(b"", other)).name, "M1")

    def test_argumentErrors(self):
        """Not WPS: 600; no client certificate: 606; a message outside a run: 402; not base64: 402."""
        with self.assertRaises(ActionError) as caught:
            self.send(b"", protocol="NFC")
        self.assertEqual(caught.exception.code, 600)
        with self.assertRaises(ActionError) as caught:
            self.h.call("SendSetupMessage", ActionContext(secure=False), ProtocolType="WPS", InMessage="")
        self.assertEqual(caught.exception.code, 606)
        with self.assertRaises(ActionError) as caught:
            self.send(b"\x10\x4a\x00\x01\x10")
        self.assertEqual(caught.exception.code, 402)
        self.send(b"")
        with self.assertRaises(ActionError) as caught:
            self.h.call("SendSetupMessage", secure(self.cp), ProtocolType="WPS", InMessage="!!not base64!!")
        self.assertEqual(caught.exception.code, 402)

    def test_impostorRegistrar(self):
        """A registrar announcing a UUID-R that is not its TLS certificate's CPID fails with 704."""
        self.h.button.press()
        impostor = wps.Registrar(wps.DeviceAttributes(uuid=b"\x01" * 16))
        m2d = impostor.receive(self.send(b""))
        with self.assertRaises(ActionError) as caught:
            self.send(m2d)
        self.assertEqual(caught.exception.code, 704)
        self.assertEqual(self.h.access.acl, {})

    def test_setupReadyEvented(self):
        """SetupReady goes false while a run is open and true again after it."""
        self.send(b"")
        self.assertIn(("SetupReady", "0"), [v for batch in self.h.events for v in batch])
        self.h.clock.advance(61)
        self.h.button.press()
        self.introduce()
        self.assertEqual(self.h.events[-1], [("SetupReady", "1")])


class LoginTests(unittest.SynchronousTestCase):
    """The DeviceProtection:1 user login flow (PKCS5), as the reference implementation checks it."""

    def setUp(self):
        self.h = Harness()
        self.admin = cert("admin")[0]
        self.h.access.add(codec.cpid(der(self.admin)), frozenset({"Admin"}))
        self.cp = cert("login cp")[0]
        self.h.access.add(codec.cpid(der(self.cp)), frozenset({"Public"}))
        self.stored, self.salt = os.urandom(32), os.urandom(16)
        self.h.call("SetUserLoginPassword", secure(self.admin), ProtocolType="PKCS5", Name="alice",
                    Stored=base64.b64encode(self.stored).decode(), Salt=base64.b64encode(self.salt).decode())
        self.h.access.users["alice"].roles = frozenset({"Basic"})

    def authenticator(self, challenge: bytes, stored=None) -> str:
        mac = hmac.new(stored or self.stored, challenge + codec.cpidBytes(self.h.deviceCert) + codec.cpidBytes(der(self.cp)),
                       hashlib.sha256).digest()[:20]
        return base64.b64encode(mac).decode()

    def challenge(self):
        answer = self.h.call("GetUserLoginChallenge", secure(self.cp), ProtocolType="PKCS5", Name="alice")
        self.assertEqual(base64.b64decode(answer["Salt"]), self.salt)
        return answer["Challenge"]

    def test_loginAddsRoles(self):
        """A correct authenticator logs in: the session gains the user's roles; logout takes them away."""
        challenge = self.challenge()
        self.h.call("UserLogin", secure(self.cp), ProtocolType="PKCS5", Challenge=challenge,
                    Authenticator=self.authenticator(base64.b64decode(challenge)))
        self.assertEqual(self.h.access.roles(secure(self.cp)), {"Public", "Basic"})
        self.h.call("UserLogout", secure(self.cp))
        self.assertEqual(self.h.access.roles(secure(self.cp)), {"Public"})

    def test_wrongAuthenticator(self):
        """A wrong authenticator: 701; after five failures: 606."""
        for _ in range(5):
            challenge = self.challenge()
            with self.assertRaises(ActionError) as caught:
                self.h.call("UserLogin", secure(self.cp), ProtocolType="PKCS5", Challenge=challenge,
                            Authenticator=self.authenticator(base64.b64decode(challenge), stored=b"x" * 32))
            self.assertEqual(caught.exception.code, 701)
        challenge = self.challenge()
        with self.assertRaises(ActionError) as caught:
            self.h.call("UserLogin", secure(self.cp), ProtocolType="PKCS5", Challenge=challenge,
                        Authenticator=self.authenticator(base64.b64decode(challenge)))
        self.assertEqual(caught.exception.code, 606)

    def test_loginErrors(self):
        """A control point outside the ACL: 606; an unknown user or a stale challenge: 600; another protocol: 600."""
        stranger = cert("stranger")[0]
        with self.assertRaises(ActionError) as caught:
            self.h.call("GetUserLoginChallenge", secure(stranger), ProtocolType="PKCS5", Name="alice")
        self.assertEqual(caught.exception.code, 606)
        for kw in ({"ProtocolType": "PKCS5", "Name": "bob"}, {"ProtocolType": "SRP", "Name": "alice"}):
            with self.assertRaises(ActionError) as caught:
                self.h.call("GetUserLoginChallenge", secure(self.cp), **kw)
            self.assertEqual(caught.exception.code, 600)
        self.challenge()
        with self.assertRaises(ActionError) as caught:
            self.h.call("UserLogin", secure(self.cp), ProtocolType="PKCS5", Challenge=base64.b64encode(b"x" * 16).decode(),
                        Authenticator=base64.b64encode(b"y" * 20).decode())
        self.assertEqual(caught.exception.code, 600)

    def test_passwordRules(self):
        """SetUserLoginPassword needs Admin (606 for others) and long enough Stored and Salt (600)."""
        with self.assertRaises(ActionError) as caught:
            self.h.call("SetUserLoginPassword", secure(self.cp), ProtocolType="PKCS5", Name="bob",
                        Stored=base64.b64encode(b"s" * 32).decode(), Salt=base64.b64encode(b"t" * 16).decode())
        self.assertEqual(caught.exception.code, 606)
        with self.assertRaises(ActionError) as caught:
            self.h.call("SetUserLoginPassword", secure(self.admin), ProtocolType="PKCS5", Name="bob",
                        Stored=base64.b64encode(b"s").decode(), Salt=base64.b64encode(b"t").decode())
        self.assertEqual(caught.exception.code, 600)


class CommandLineTests(unittest.SynchronousTestCase):
    """C{proxier-sim --device-protection}: DeviceProtection devices from the command line."""

    def test_protectionOptions(self):
        """Without the flag nothing is protected; with it, the CA roots of --ca-root are pre-installed."""
        from proxier.sim.main import parser, protectionFrom

        self.assertIsNone(protectionFrom(parser().parse_args([])))
        ca = makeCertificate("CA", ca=True)[0]
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(ca.public_bytes(Encoding.PEM))
        options = protectionFrom(parser().parse_args(["--device-protection", "--ca-root", path]))
        self.assertEqual([c.subject for c in options["caRoots"]], [ca.subject])
        with self.assertRaises(SystemExit):
            protectionFrom(parser().parse_args(["--device-protection", "--ca-root", "/nonexistent.pem"]))

    def test_buttonBySignal(self):
        """The devices announce a SECURELOCATION; SIGUSR1 presses their button (logged); the run ends by itself."""
        import json
        import select
        import signal
        import subprocess
        import sys
        import time

        from tests._helpers import subprocessEnv

        process = subprocess.Popen(
            [sys.executable, "-m", "proxier.sim.main", "--device-protection", "--quit-after", "4",
             "--control-point", "127.0.0.1:9"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=subprocessEnv())
        self.addCleanup(lambda: process.poll() is None and process.kill())
        self.addCleanup(process.stdout.close)
        lines: list[str] = []
        pending = [b""]
        deadline = time.time() + 20
        fd = process.stdout.fileno()

        def until(predicate):
            # raw reads: a buffered readline could hold lines select() no longer sees
            while not predicate():
                if time.time() > deadline:
                    self.fail(f"not seen in time; output: {lines}")
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        continue
                    *complete, pending[0] = (pending[0] + chunk).split(b"\n")
                    lines.extend(line.decode("utf-8", "replace") for line in complete)

        until(lambda: any('"secureLocation": "https://127.0.0.1:' in line for line in lines))
        device = json.loads([line for line in lines if "secureLocation" in line][0])
        self.assertTrue(device["secureLocation"].endswith("/description.xml"))
        process.send_signal(signal.SIGUSR1)
        until(lambda: any("WPS button pressed" in line for line in lines))
        self.assertEqual(process.wait(timeout=20), 0)
