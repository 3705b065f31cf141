# -*- test-case-name: tests.test_console_notices -*-
"""
What an installer must know about the proxier itself, on the console's
proxier panel and by C{proxier-ctl status} (README.rst, "The local
console"): what only a person can put right — no ACS URL, an ACS that
cannot be reached or refuses the proxier, faults the proxier answered it,
state that cannot be saved, a console open to the LAN in plain HTTP,
devices found but not presented to the ACS; and, about a device shown as
embedded objects, what the ACS set that is not on it yet.

Each is a C{(kind, text, since)} as a device's
L{IDeviceAttention<proxier.interfaces.IDeviceAttention>} notices are, so
the page and C{proxier-ctl} show both alike. Each function reads plain
data the caller gathered (an endpoint's snapshot, a config section, keys):
no I/O here, and nothing is kept between two calls — a notice lasts as
long as its cause.
"""

from __future__ import annotations

import datetime
import ipaddress
from typing import Any, Iterable, Mapping, Optional, Sequence

from proxier.store import RETRY_INTERVAL

__all__ = ["Notice", "sessionNotices", "consoleNotices", "stateNotices", "unpresentedNotices",
           "embeddedNotices", "commandNotices", "ordered", "MAX_LISTED"]

Notice = tuple[str, str, str]

#: faults or device keys named in one notice; more are counted, not listed
MAX_LISTED = 3

_ORDER = {"action": 0, "warning": 1, "info": 2}


def _iso(seconds: Optional[float]) -> str:
    if seconds is None:
        return ""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")


def _listed(items: Sequence[str]) -> str:
    shown = "; ".join(items[:MAX_LISTED])
    return shown + (f"; and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def sessionNotices(snapshot: Mapping[str, Any]) -> list[Notice]:
    """
    From the proxier's own endpoint's
    L{snapshot<proxier.interfaces.ICWMPEndpoint.snapshot>}: no ACS URL (an
    action: nothing reaches an ACS until one is set), the last session
    failed (the ACS unreachable, refusing the credentials or the Inform),
    the faults the proxier answered the ACS's requests with in it.
    """
    if not snapshot.get("acsURL"):
        return [("action", "no ACS URL: set url in the [acs] section of the config file and restart the proxier; "
                           "until then nothing reaches an ACS and events wait", "")]
    out: list[Notice] = []
    last = snapshot.get("lastSession")
    if not last:
        return out
    if not last.get("ok"):
        failed = int(snapshot.get("retryCount") or 0)
        again = f" ({failed} failed in a row)" if failed > 1 else ""
        out.append(("warning", f"the last session with the ACS at {snapshot['acsURL']} failed{again}: "
                               f"{last.get('reason', '')}; it is tried again while something waits for the ACS",
                    _iso(last.get("ended"))))
    faults = [f"{f.get('method', '')} {f.get('code', '')} {f.get('string', '')}" for f in last.get("faults") or []]
    if faults:
        out.append(("warning", f"in the last session the proxier answered the ACS with {len(faults)} fault(s): "
                               + _listed(faults), _iso(last.get("ended"))))
    return out


def consoleNotices(section: Mapping[str, Any]) -> list[Notice]:
    """From the C{[console]} section: served on a LAN address in plain HTTP."""
    address = section["listen_address"]
    if section["certificate"] or ipaddress.ip_address(address).is_loopback:
        return []
    return [("warning", f"the console is served in plain HTTP on {address}: Digest keeps its password off the LAN, "
                        "but not the values shown and set; give [console] certificate and key to serve HTTPS", "")]


def stateNotices(directory: str, undurable: Sequence[str]) -> list[Notice]:
    """
    State the proxier holds in memory only: the last save of the endpoints
    C{undurable} (device keys, or C{"self"}) failed, and none since.
    """
    if not undurable:
        return []
    return [("warning", f"state cannot be saved in {directory} (disk full, read-only, failing?): "
                        f"{_listed(list(undurable))} run on what is in memory, which a restart would lose; "
                        f"saving is tried again every {RETRY_INTERVAL:g} s", "")]


def unpresentedNotices(keys: Iterable[str]) -> list[Notice]:
    """Devices a protocol found that have no CWMP endpoint: no data model fits them (the log says why)."""
    missing = sorted(keys)
    if not missing:
        return []
    return [("warning", f"{len(missing)} device(s) found but not presented to the ACS (no data model could be "
                        f"made for them; the log says why): {_listed(missing)}", "")]


def embeddedNotices(identified: bool) -> list[Notice]:
    """Embedded mode before the device told who it is: no CWMP CPE yet."""
    if identified:
        return []
    return [("info", "embedded mode: waiting for the device to tell who it is; the proxier's CWMP CPE starts then",
             "")]


def commandNotices(commandProcessed: str, message: str) -> list[Notice]:
    """
    A device shown as embedded objects (TR-069 Annex J.3), from its
    EmbeddedDevice row: what the ACS set is being tried again (Retrying), or
    was given up and dropped from the proxier's copy (Error), and why
    (CommandProcessingErrMsg).
    """
    if commandProcessed == "Retrying":
        return [("info", f"what the ACS set is not on the device yet: {message}", "")]
    if commandProcessed == "Error":
        return [("warning", f"what the ACS set last could not be put on the device and was dropped: {message}", "")]
    return []


def ordered(notices: Iterable[Notice]) -> list[Notice]:
    """Most pressing first (actions, warnings, information), each kind in the order given."""
    return sorted(notices, key=lambda notice: _ORDER.get(notice[0], len(_ORDER)))
