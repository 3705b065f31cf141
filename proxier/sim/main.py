# -*- test-case-name: tests.test_sim_main -*-
"""
C{proxier-sim}: run simulated UPnP DM devices from the command line.

By default one device, on 127.0.0.1, announcing itself by unicast to a
control point on 127.0.0.1:1900 (the C{unicast-loopback} SSDP mode of the
proxier's C{[lan]} configuration): nothing leaves the machine. Ctrl-C (or
SIGTERM) sends byebye and stops.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional, Sequence

from proxier.asciinum import parseUnsigned
from proxier.sim.fleet import DEFAULT_DATA_FILE, MULTICAST, UNICAST_LOOPBACK, Fleet, FleetOptions

__all__ = ["main", "parser", "optionsFrom", "protectionFrom"]


def _hostPort(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    try:
        number = parseUnsigned(port, 65535, minValue=1, maxDigits=5) if sep else 0
    except ValueError:
        number = 0
    if not number:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", number


def _positive(text: str) -> int:
    try:
        return parseUnsigned(text, minValue=1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="proxier-sim",
        description=(
            "Run simulated UPnP Device Management devices (ManageableDevice:2 with BasicManagement:2, "
            "ConfigurationManagement:2 and SoftwareManagement:2) for the proxier's demo, tests and "
            "benchmarks. Each device has its own UDN, serial number and HTTP port."
        ),
        epilog=(
            "SSDP modes: 'unicast-loopback' (the default) joins no multicast group: NOTIFYs go to "
            "--control-point, searches are answered on --search-port, nothing leaves the host. "
            "'multicast' joins 239.255.255.250 on --interface-address and sends to the group: use it only "
            "inside a network namespace or on a lab LAN."
        ),
    )
    p.add_argument("--count", type=_positive, default=1, metavar="N",
                   help="how many devices to run in this process (default 1)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address the devices serve HTTP on and announce (default 127.0.0.1)")
    p.add_argument("--prefix-length", type=int, default=None, metavar="BITS",
                   help="length of the host's subnet, from which GENA callbacks and firmware downloads are "
                        "accepted (default 8 on IPv4 loopback, 128 on ::1, else 24 or 64)")
    p.add_argument("--http-port", type=int, default=0, metavar="PORT",
                   help="HTTP port of the first device, the others follow; 0 picks free ports (default)")
    p.add_argument("--shared-port", action="store_true",
                   help="serve every device on one HTTP port under /dev<n>/ instead of a port each")
    p.add_argument("--ssdp-mode", choices=(UNICAST_LOOPBACK, MULTICAST), default=UNICAST_LOOPBACK,
                   help="how devices announce themselves (default unicast-loopback)")
    p.add_argument("--control-point", type=_hostPort, default=("127.0.0.1", 1900), metavar="HOST:PORT",
                   help="where NOTIFYs go in unicast-loopback mode: the proxier's [lan] ssdp_port "
                        "(default 127.0.0.1:1900)")
    p.add_argument("--search-port", type=int, default=0, metavar="PORT",
                   help="UDP port answering M-SEARCH in unicast-loopback mode, announced as "
                        "SEARCHPORT.UPNP.ORG (default: a free port in 49152-65535)")
    p.add_argument("--interface-address", default="", metavar="ADDRESS",
                   help="in multicast mode, the IPv4 address of the interface to join and send on")
    p.add_argument("--max-age", type=_positive, default=1800, metavar="SECONDS",
                   help="CACHE-CONTROL max-age of the announcements (default 1800)")
    p.add_argument("--data", default=DEFAULT_DATA_FILE, metavar="FILE",
                   help="the ConfigurationManagement data-model file (default: the packaged "
                        "manageable-device.json)")
    p.add_argument("--seed", default="proxier-sim",
                   help="names the fleet: the same seed gives the same UDNs and serial numbers")
    p.add_argument("--stagger", type=float, default=None, metavar="SECONDS",
                   help="seconds between two devices' power-on (default 0 for up to 100 devices, "
                        "else 10 s spread over the fleet)")
    p.add_argument("--downtime", type=float, default=3.0, metavar="SECONDS",
                   help="how long a reboot keeps a device away (default 3)")
    p.add_argument("--log-level", choices=("debug", "info", "warn", "error"), default="info",
                   help="least severe log level shown (default info)")
    p.add_argument("--quit-after", type=float, default=None, metavar="SECONDS",
                   help="stop (with byebye) after this long; default: run until interrupted")
    p.add_argument("--device-protection", action="store_true",
                   help="make every device a DeviceProtection:1 device: a TLS port announced as "
                        "SECURELOCATION.UPNP.ORG, roles enforced, the WPS push-button introduction "
                        "(SIGUSR1 presses every device's button)")
    p.add_argument("--ca-root", default="", metavar="FILE",
                   help="with --device-protection: PEM CA certificates pre-installed on the devices (the carrier "
                        "case: a control point whose certificate they signed is granted Admin)")
    return p


def protectionFrom(arguments: argparse.Namespace) -> Optional[dict]:
    """The L{proxier.sim.dps.protect} options the arguments ask for, or C{None}."""
    if not arguments.device_protection:
        return None
    roots: list = []
    if arguments.ca_root:
        from proxier.upnp.dps.tls import loadCAFile

        try:
            roots = loadCAFile(arguments.ca_root)
        except (OSError, ValueError) as e:
            raise SystemExit(f"proxier-sim: --ca-root {arguments.ca_root}: {e}")
    return {"caRoots": roots}


def optionsFrom(arguments: argparse.Namespace) -> FleetOptions:
    stagger = arguments.stagger
    if stagger is None:
        stagger = 0.0 if arguments.count <= 100 else 10.0 / arguments.count
    return FleetOptions(
        count=arguments.count,
        host=arguments.host,
        prefixLength=arguments.prefix_length,
        httpPort=arguments.http_port,
        sharedPort=arguments.shared_port,
        ssdpMode=arguments.ssdp_mode,
        controlPoint=arguments.control_point,
        searchPort=arguments.search_port,
        interfaceAddress=arguments.interface_address,
        maxAge=arguments.max_age,
        dataFile=arguments.data,
        seed=arguments.seed,
        stagger=stagger,
        downtime=arguments.downtime,
    )


def _run(reactor: Any, options: FleetOptions, level: str, quitAfter: Optional[float],
         protection: Optional[dict] = None) -> Any:
    from twisted.internet.defer import Deferred
    from twisted.logger import globalLogBeginner

    from proxier.log import observerFromConfig

    globalLogBeginner.beginLoggingTo(
        [observerFromConfig({"file": "-", "format": "text", "level": level})], redirectStandardIO=False
    )
    secured: list = []
    if protection is not None:
        import signal

        from proxier.sim.dps import protect

        def prepare(index: int, device: Any) -> None:
            secured.append(protect(device, reactor, host=options.host, **protection))

        options.prepare = prepare

        def pressAll(*_: Any) -> None:
            reactor.callFromThread(lambda: [s.pressButton() for s in secured])

        signal.signal(signal.SIGUSR1, pressAll)
    fleet = Fleet(options, reactor=reactor)
    fleet.startService()
    print(json.dumps({"ssdp": list(fleet.searchAddress), "devices": len(fleet.devices)}), flush=True)
    for device in fleet.devices[:20]:
        print(json.dumps({"serialNumber": device.identity.serialNumber, "udn": device.identity.udn,
                          "location": device.location, **({"secureLocation": device.secureLocation}
                                                          if device.secureLocation else {})}), flush=True)
    done: Deferred = Deferred()

    def stop(*_: Any) -> None:
        if not done.called:
            fleet.stopService().addBoth(lambda _: done.callback(None))

    reactor.addSystemEventTrigger("before", "shutdown", lambda: fleet.stopService() if fleet.running else None)
    if quitAfter is not None:
        reactor.callLater(quitAfter, stop)
    return done


def main(argv: Optional[Sequence[str]] = None) -> None:
    arguments = parser().parse_args(argv)
    if arguments.ssdp_mode == MULTICAST and not arguments.interface_address:
        parser().error("--ssdp-mode multicast needs --interface-address")
    try:
        options = optionsFrom(arguments)
        from proxier.sim.cmstree import Schema, SchemaError

        Schema.fromFile(options.dataFile)
    except SchemaError as e:
        print(f"proxier-sim: {e}", file=sys.stderr)
        raise SystemExit(2)
    from twisted.internet.task import react

    react(_run, (options, arguments.log_level, arguments.quit_after, protectionFrom(arguments)))


if __name__ == "__main__":
    main()
