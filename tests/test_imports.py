"""
What the proxier imports (issue 19, the idle floor): pyOpenSSL and
cryptography only when TLS is used (L{proxier.deferredtls}). The proxier
runs as on a gateway (twistd on the shipped configuration, in a process of
its own, all on 127.0.0.1) and is asked, by SIGUSR1, for its C{sys.modules}
once its BOOTSTRAP session with a fake ACS ended.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from typing import Any, Optional

from twisted.internet import defer, threads
from twisted.trial import unittest
from twisted.web.resource import Resource
from twisted.web.server import Site

from tests._helpers import subprocessEnv, waitFor

#: what the proxier's module list holds once L{proxier.deferredtls} bound pyOpenSSL's names into Twisted's modules:
#: the deferred mode ran to its end (an eager import, or a mode never entered, binds nothing)
BOUND = "<deferredtls-bound>"
#: the proxier under twistd (Debian's proxier(8)) or twist (OpenWrt's python -m twisted), writing its sys.modules
#: (and BOUND) to $MODULES_FILE on SIGUSR1
CHILD = f"""
import os, signal, sys
from proxier import deferredtls
bound = []
def bind(original=deferredtls._bind):
    bound.append(True)
    original()
deferredtls._bind = bind
def dump(*_):
    with open(os.environ["MODULES_FILE"] + ".tmp", "w") as f:
        f.write("\\n".join(sorted(sys.modules) + [{BOUND!r}] * bool(bound)))
    os.rename(os.environ["MODULES_FILE"] + ".tmp", os.environ["MODULES_FILE"])
signal.signal(signal.SIGUSR1, dump)
if sys.argv.pop(1) == "twistd":
    from twisted.scripts.twistd import run
    run()
else:
    from twisted.application.twist._twist import Twist
    Twist.main()
"""
RUNNERS = {"twistd": ["--nodaemon", "--pidfile="], "twist": []}
TLS_MODULES = ("OpenSSL", "cryptography", "service_identity", "twisted.internet.ssl")


class _Forward(Resource):
    """A leaf resource answering as its target, set after the port serving it listens."""

    isLeaf = True
    target: Any = None

    def render(self, request: Any) -> Any:
        return self.target.render(request)


class ShippedProxierTests(unittest.TestCase):
    """
    The proxier as shipped, in the deferred mode: none of TLS at start, and
    each TLS path it has working once pyOpenSSL is loaded by its first use —
    an https ACS and the console (listenSSL), a DeviceProtection device and
    an ipps printer (the LAN client's wrapClientTLS), an Upload to an https
    file server (the ACS's agent with an http ACS).
    """

    def fleetProcesses(self, count: int, sections: dict[str, dict[str, str]]) -> Any:
        """L{FleetProcesses} (nothing started), stopped and removed at the end of the test."""
        from twisted.internet import reactor

        from bench._harness import FleetProcesses

        lan = FleetProcesses(reactor, count, "test-imports-", sections)
        self.addCleanup(shutil.rmtree, lan.workdir, True)
        self.addCleanup(lan.stop)
        return lan

    def tlsFolder(self) -> tuple[str, tuple[Any, Any]]:
        """A new folder holding C{ca.pem}, the certificate of a new CA (returned with its key)."""
        from tests.test_cwmp_transport import makeCertificate, pem

        folder = os.path.abspath(self.mktemp())
        os.makedirs(folder)
        ca = makeCertificate("Test ACS CA", ca=True)
        with open(os.path.join(folder, "ca.pem"), "wb") as f:
            f.write(pem(ca[0]))
        return folder, ca

    def listenTLS(self, resource: Any, ca: tuple[Any, Any]) -> int:
        """C{resource} served over TLS on 127.0.0.1 as C{localhost}, its certificate signed by C{ca}; the port."""
        from twisted.internet import reactor, ssl

        from tests.test_cwmp_transport import makeCertificate, pem

        server = ssl.PrivateCertificate.loadPEM(pem(*makeCertificate("localhost", ca, ("localhost",))))
        listening = reactor.listenSSL(0, Site(resource), server.options(), interface="127.0.0.1")
        self.addCleanup(listening.stopListening)
        return listening.getHost().port

    def startProxier(self, lan: Any, runner: str = "twistd") -> None:
        """The proxier (L{CHILD}) run by C{runner} on C{lan}'s configuration, its output in C{twistd.out}."""
        from bench._harness import stopChildren

        output = open(os.path.join(lan.workdir, "twistd.out"), "w")
        self.addCleanup(output.close)
        lan.proxier = subprocess.Popen(
            [sys.executable, "-c", CHILD, runner, *RUNNERS[runner], "proxier", "--config", lan.config],
            stdout=output, stderr=subprocess.STDOUT, cwd=lan.workdir,
            env=dict(subprocessEnv(), MODULES_FILE=os.path.join(lan.workdir, "modules")))
        self.addCleanup(stopChildren, [lan.proxier])

    def bootstraps(self, lan: Any, count: int = 1, wanted: Optional[set[str]] = None, timeout: float = 25) -> Any:
        """Until C{count} devices (of C{wanted}, if given) ended their BOOTSTRAP session well; the proxier runs."""
        from bench._harness import bootstrapped

        yield from waitFor(lambda: len(bootstrapped(lan.acs, wanted)) >= count or lan.proxier.poll() is not None,
                           timeout, f"{count} BOOTSTRAP sessions; see {lan.workdir}")
        self.assertIsNone(lan.proxier.poll(), f"the proxier exited; see {lan.workdir}/twistd.out")

    def modules(self, lan: Any) -> Any:
        """
        The proxier's C{sys.modules} now (and L{BOUND}), once its output and
        log were checked for tracebacks: a TLS path that failed on the way
        could leave one and still reach its end by another way.
        """
        path = os.path.join(lan.workdir, "modules")
        os.kill(lan.proxier.pid, signal.SIGUSR1)
        yield from waitFor(lambda: os.path.exists(path), 10, "the proxier's sys.modules")
        for name in ("twistd.out", "proxier.log"):
            logged = os.path.join(lan.workdir, name)
            if os.path.exists(logged):
                with open(logged, errors="replace") as f:
                    text = f.read()
                self.assertNotIn("Traceback", text, f"{name}:\n{text[-4000:]}")
        with open(path) as f:
            return set(f.read().split())

    @defer.inlineCallbacks
    def modulesAfterBootstrap(self, https: bool, runner: str = "twistd",
                              sections: Optional[dict[str, dict[str, str]]] = None) -> Any:
        """
        The modules of a proxier run by C{runner} whose BOOTSTRAP session
        with a fake ACS ended well; with C{https}, the ACS and the console
        are served over TLS, the console's certificate checked here.
        """
        from bench._harness import freeTCPPort

        sections = dict(sections or {})
        if https:
            from tests.test_cwmp_transport import makeCertificate, pem

            folder, ca = self.tlsFolder()
            acs = _Forward()  # listening before the fleet's own ports are taken: a port picked free could be one
            port = self.listenTLS(acs, ca)
            sections["acs"] = {"url": f"https://localhost:{port}/acs", "ca_file": os.path.join(folder, "ca.pem")}
            consoleCertificate = makeCertificate("console")
            with open(os.path.join(folder, "console.pem"), "wb") as f:
                f.write(pem(*consoleCertificate))
            consolePort = freeTCPPort()
            sections["console"] = {"enable": "yes", "port": str(consolePort),
                                   "certificate": os.path.join(folder, "console.pem"),
                                   "key": os.path.join(folder, "console.pem")}
        lan = self.fleetProcesses(0, sections)
        if https:
            acs.target = lan.acs
        self.startProxier(lan, runner)
        yield from self.bootstraps(lan, timeout=60)
        if https:
            import ssl as stdlibSSL

            from cryptography import x509

            served = yield threads.deferToThread(stdlibSSL.get_server_certificate, ("127.0.0.1", consolePort))
            self.assertEqual(x509.load_pem_x509_certificate(served.encode("ascii")), consoleCertificate[0])
        modules = yield from self.modules(lan)
        return modules

    @defer.inlineCallbacks
    def test_httpACSLoadsNoTLS(self) -> None:
        """
        With an http:// ACS, no console certificate and no DeviceProtection
        device, neither pyOpenSSL nor cryptography is loaded, even after a
        session: the reactor, endpoints and Agent were imported without them.
        """
        modules = yield self.modulesAfterBootstrap(https=False)
        self.assertIn("twisted.web.client", modules)
        self.assertEqual([m for m in TLS_MODULES if m in modules], [])
        self.assertNotIn(BOUND, modules)

    @defer.inlineCallbacks
    def test_httpACSUnderTwist(self) -> None:
        """
        The same under C{python -m twisted proxier} (OpenWrt's init script),
        which installs the reactor once the options are parsed, before the
        service is made.
        """
        modules = yield self.modulesAfterBootstrap(https=False, runner="twist")
        self.assertEqual([m for m in TLS_MODULES if m in modules], [])

    @defer.inlineCallbacks
    def test_httpsACSFromTheFirstInform(self) -> None:
        """
        With an https:// ACS the first Inform goes over TLS, verified against
        the configured CA, and the console serves its certificate (listenSSL):
        pyOpenSSL loaded when needed works as if imported at start (the names
        Twisted binds from it bound then).
        """
        modules = yield self.modulesAfterBootstrap(https=True)
        self.assertEqual([m for m in TLS_MODULES if m not in modules], [])
        self.assertIn(BOUND, modules)

    @defer.inlineCallbacks
    def test_deviceProtectionOverTLS(self) -> None:
        """
        A DeviceProtection device (the simulator's, TR-330 §2.3) whose button
        the user pressed is introduced over TLS (WPS bound to the session,
        the proxier's own certificate) and reaches its BOOTSTRAP through its
        TLS port: the LAN client's wrapClientTLS, pyOpenSSL loaded when the
        device was first met.
        """
        lan = self.fleetProcesses(1, {"upnp": {"dps_introduction": "pbc"}})
        # FleetProcesses.startFleet's devices, made DeviceProtection devices
        lan.fleet = subprocess.Popen(
            [sys.executable, "-m", "proxier.sim.main", "--count", "1", "--control-point", f"127.0.0.1:{lan.ssdpPort}",
             "--search-port", str(lan.searchPort), "--log-level", "error", "--stagger", "0", "--device-protection"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=subprocessEnv(), cwd=lan.workdir, text=True)
        said = []  # what it printed before saying it is up (a warning on a loaded machine, say)
        for line in lan.fleet.stdout:
            said.append(line)
            if line.startswith('{"ssdp"') or len(said) > 50:
                break
        self.assertTrue(said and said[-1].startswith('{"ssdp"'), f"the simulated device did not start: {said}")
        os.kill(lan.fleet.pid, signal.SIGUSR1)  # the button: active for WPS's walk time (120 s)
        self.startProxier(lan)
        yield from self.bootstraps(lan, wanted=lan.wanted)
        modules = yield from self.modules(lan)
        self.assertEqual([m for m in TLS_MODULES if m not in modules], [])
        self.assertIn(BOUND, modules)

    @defer.inlineCallbacks
    def test_ippsPrinter(self) -> None:
        """
        An ipps:// printer (ippeveprinter: GnuTLS, a self-signed certificate)
        is read over TLS, its key pinned on first use, and reaches its
        BOOTSTRAP: the IPP client's wrapClientTLS, pyOpenSSL loaded at its
        first poll.
        """
        from proxier.printer.settings import PROXY_PROTOCOL
        from tests.peers import printers

        printer = printers.startPrinter(self)
        lan = self.fleetProcesses(0, {"protocols": {"enabled": PROXY_PROTOCOL},
                                      "printer": {"printers": f"ipps://127.0.0.1:{printer.port}/ipp/print"}})
        self.startProxier(lan)
        yield from self.bootstraps(lan, count=2)  # the gateway's and the printer's
        modules = yield from self.modules(lan)
        self.assertEqual([m for m in TLS_MODULES if m not in modules], [])
        self.assertIn(BOUND, modules)
        pins = [os.path.join(d, f) for d, _, files in os.walk(lan.workdir) for f in files if "ipps-pins" in f]
        self.assertEqual(len(pins), 1, pins)
        with open(pins[0]) as f:
            self.assertIn(f"127.0.0.1:{printer.port}", f.read())

    @defer.inlineCallbacks
    def test_httpsUploadWithAnHTTPACS(self) -> None:
        """
        With an http:// ACS and a CA file, the first TLS use is an Upload of
        a device's log (TR-330 §4.4.2) to an https:// file server: verified
        against that CA through the ACS's agent, the log arrives and the
        TransferComplete says so.
        """
        from proxier.cwmp import messages as m
        from proxier.datamodel.values import TransferRequest
        from tests.test_upnpdm_transfer_support import FileServer

        folder, ca = self.tlsFolder()
        files = FileServer()
        port = self.listenTLS(files, ca)
        lan = self.fleetProcesses(1, {"acs": {"ca_file": os.path.join(folder, "ca.pem"),
                                              "local_targets": "localhost"}})
        [device] = lan.wanted
        lan.acs.script([m.Upload(TransferRequest("Upload", "log-1", "4 Vendor Log File 1",
                                                 f"https://localhost:{port}/uploads/system.log"))], device)
        lan.startFleet()
        self.startProxier(lan)
        yield from self.bootstraps(lan, wanted=lan.wanted)
        def completes() -> list:
            return [message for s in lan.acs.sessionsFor(device) for message in s.received
                    if isinstance(message, m.TransferComplete)]

        yield from waitFor(completes, 25, "the TransferComplete")
        [complete] = completes()
        self.assertEqual((complete.result.commandKey, complete.result.faultCode, complete.result.faultString),
                         ("log-1", 0, ""))
        self.assertIn("/uploads/system.log", files.files)
        modules = yield from self.modules(lan)
        self.assertEqual([m for m in TLS_MODULES if m not in modules], [])
        self.assertIn(BOUND, modules)

    @defer.inlineCallbacks
    def test_printerModelOnlyWhenEnabled(self) -> None:
        """
        With the printer protocol not enabled, its model (the generated
        PrintService tree) and service are not imported: listing the plugins
        imports the printer's settings alone.
        """
        modules = yield self.modulesAfterBootstrap(https=False, sections={"protocols": {"enabled": "UPnP-DM"}})
        self.assertEqual(sorted(m for m in modules if m.startswith("proxier.printer")),
                         ["proxier.printer", "proxier.printer.settings"])


class BindingTests(unittest.TestCase):
    def test_boundAsAnEagerImport(self) -> None:
        """
        Each module of L{proxier.deferredtls._BOUND}, imported without
        pyOpenSSL and bound once it loads, holds the same TLS names as after
        an eager import (this Twisted's: a new name would be missing); before
        it loads, wrapClientTLS is taken without loading it.
        """
        script = """
import sys
from proxier import deferredtls
if sys.argv[1] == "deferred":
    assert deferredtls.installReactor()
    from twisted.internet.endpoints import TCP4ClientEndpoint, wrapClientTLS
    from twisted.internet import reactor
    wrapClientTLS(object(), TCP4ClientEndpoint(reactor, "127.0.0.1", 1))  # pyOpenSSL loaded at the connection
    assert "OpenSSL" not in sys.modules
    import OpenSSL
else:
    import twisted.internet.reactor, twisted.internet.endpoints, twisted.web.client
for name in sorted(deferredtls._BOUND):
    module = sys.modules[name]
    for key, value in sorted(vars(module).items()):
        if not key.startswith("__") and getattr(value, "__module__", getattr(value, "__name__", "")).startswith(
                ("OpenSSL", "twisted.internet.ssl", "twisted.internet._sslverify", "twisted.protocols")):
            print(name, key, getattr(value, "__module__", ""), getattr(value, "__name__", ""))
"""
        runs = [subprocess.run([sys.executable, "-c", script, how], capture_output=True, text=True, timeout=60,
                               env=subprocessEnv()) for how in ("deferred", "eager")]
        for run in runs:
            self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("twisted.internet.endpoints TLSMemoryBIOFactory", runs[1].stdout)
        self.assertEqual(runs[0].stdout, runs[1].stdout)


class ACSFilesTests(unittest.TestCase):
    """The ACS's TLS files with an http:// ACS: checked at start without pyOpenSSL, parsed at the first https use."""

    def agent(self, **acs: str) -> Any:
        from twisted.internet import reactor

        from proxier.cwmp.tls import makeACSAgent

        return makeACSAgent(reactor, dict({"url": "http://acs.example.net/acs", "request_timeout": 10}, **acs))

    def test_missingFileAtStart(self) -> None:
        """A CA file or client certificate that cannot be read stops the start, as with an https ACS."""
        from proxier.pem import TLSConfigError

        missing = os.path.abspath(self.mktemp())
        self.assertRaises(TLSConfigError, self.agent, ca_file=missing)
        self.assertRaises(TLSConfigError, self.agent, client_certificate=missing, client_key=missing)

    def test_unreadableCertificateAtFirstUse(self) -> None:
        """A PEM block that is no certificate is reported, naming the file, by the first https connection."""
        from proxier.pem import TLSConfigError

        path = os.path.abspath(self.mktemp())
        with open(path, "wb") as f:
            f.write(b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
        agent = self.agent(ca_file=path)
        error = self.assertRaises(TLSConfigError, agent.policy.creatorForNetloc, b"acs.example.net", 443)
        self.assertIn(path, str(error))
