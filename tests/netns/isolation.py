"""
The guard every multicast test calls first: never send multicast or broadcast
from the machine's own network namespace.
"""

from __future__ import annotations

import os

from twisted.trial.unittest import SkipTest

__all__ = ["requireIsolatedNamespace", "isolationProblem"]


def _defaultRoutes() -> list[str]:
    routes = []
    for table in ("/proc/net/route",):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if len(fields) > 2 and fields[1] == "00000000" and fields[7] == "00000000":
                        routes.append(fields[0])
        except OSError:
            pass
    try:
        with open("/proc/net/ipv6_route") as f:
            for line in f:
                fields = line.split()
                # destination ::/0 on anything but loopback is a way out
                if fields[0] == "0" * 32 and fields[1] == "00" and fields[-1] != "lo":
                    routes.append(fields[-1])
    except OSError:
        pass
    return routes


def _interfaces() -> list[str]:
    """This namespace's interfaces (/proc/net is per namespace; /sys may not be)."""
    with open("/proc/net/dev") as f:
        return [line.split(":", 1)[0].strip() for line in f.readlines()[2:]]


def isolationProblem() -> str | None:
    """Why this process must not send multicast, or None when it may."""
    if os.environ.get("PROXIER_NETNS") != "1":
        return "not inside the test run's own network namespace (tools/run-tests runs these as root)"
    routes = _defaultRoutes()
    if routes:
        return f"a default route exists (via {', '.join(routes)}): this is not an isolated namespace"
    for name in _interfaces():
        if name != "lo" and not name.startswith(("veth", "pxt")):
            return f"interface {name} exists: this is not an isolated namespace"
    return None


def requireIsolatedNamespace() -> None:
    """Skip the calling test unless it runs in an isolated namespace."""
    problem = isolationProblem()
    if problem is not None:
        raise SkipTest(problem)
