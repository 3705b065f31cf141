"""
What the benchmark scripts share: a percentile of their timings, the
command line of those run for a number of rounds, and the proxier's tree
with the UPnP-DM plugin and one simulated device on loopback.
"""

from __future__ import annotations

import argparse
import tempfile
from typing import Any, Callable

from twisted.internet import task

__all__ = ["percentile", "reactWithRounds", "startWithOneDevice"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def reactWithRounds(run: Callable[[Any, int], Any], doc: str, rounds: int) -> None:
    """Run C{run(reactor, rounds)} to its end, C{rounds} from C{--rounds} (the script's docstring is its help)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    arguments = parser.parse_args()
    task.react(run, (arguments.rounds,))


def startWithOneDevice(reactor: Any, acsURL: str, prefix: str) -> tuple[Any, Any, Any]:
    """
    The proxier's tree (unicast-loopback SSDP, its state in a new folder
    named from C{prefix}) informing the ACS at C{acsURL}, and a fleet of one
    simulated device told where its control point is: all started.

    @return: the tree, its UPnP-DM service and the fleet.
    """
    from twisted.web.client import Agent, HTTPConnectionPool

    from proxier.config import load
    from proxier.plugins.upnpdm import upnpdm
    from proxier.service import ProxierService
    from proxier.sim.fleet import Fleet, FleetOptions
    from proxier.store import Store

    config = load(None, [upnpdm.configSection])
    config = config.replace("acs", url=acsURL, periodic_inform_enable=False)
    config = config.replace("connection_request", port=0)
    config = config.replace("lan", ssdp_mode="unicast-loopback", ssdp_port=0)
    config = config.replace("demo", enable="no")
    tree = ProxierService(config, Store.open(tempfile.mkdtemp(prefix=prefix)), [upnpdm], reactor=reactor)
    tree.startService()
    service = tree.getServiceNamed("UPnP-DM")
    fleet = Fleet(FleetOptions(count=1, controlPoint=service.controlPoint.ssdpAddress), reactor=reactor,
                  agent=Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=True)))
    fleet.startService()
    return tree, service, fleet
