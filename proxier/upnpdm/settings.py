# -*- test-case-name: tests.test_upnpdm_plugin -*-
"""
The C{[upnp]} section of the config file: the control point's keys
(L{proxier.upnp.settings.KEYS}: timeouts, caps, search and eventing) and the
proxy module's own, in one section, every key documented in
C{etc/proxier.conf}.

One derived value: the deadline of each action the proxy module sends is
C{action_timeout}, but never more than what the CWMP endpoint allows a device
call inside a session (the plugin context's C{deviceTimeout}, from C{[acs]
session_timeout}) less a second — so that a device that does not answer is
found out (and counted towards C{offline_after_failures}) by the proxy
module, and the ACS still hears a fault in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from proxier.config import Config, Key, Section, boolean, integer
from proxier.proxy.embeddedobjects import mechanismKey
from proxier.upnp import settings as cpsettings

__all__ = ["KEYS", "SECTION", "ProxySettings", "UPDATE_LIMIT", "MAX_LOG_BYTES", "FETCH_TIMEOUT", "UPLOAD_TIMEOUT"]

# The defaults of the transfer keys live here, not in the modules that use them
# (proxier.upnpdm.firmware, httpfiles): the plugin system reads this section at
# every start, and a config without a device never needs those modules.

#: Seconds from a firmware Update's acceptance to its end, at most, unless the
#: config says otherwise; past it the TransferComplete says 9002 (the outcome
#: could not be learnt).
UPDATE_LIMIT = 3600.0
#: The largest log read from a device (and so uploaded).
MAX_LOG_BYTES = 4 * 1024 * 1024
#: Seconds to read a log from the device.
FETCH_TIMEOUT = 60.0
#: Seconds for one upload request to the file server (the body included).
UPLOAD_TIMEOUT = 300.0

KEYS: tuple[Key, ...] = (
    mechanismKey("UPnP DM devices"),
    Key("action_concurrency", integer(1, 16), "2",
        "Actions in flight at once to one device; the others wait their turn. A hung device holds at "
        "most this many, and never delays another device."),
    Key("action_queue_limit", integer(1, 4096), "64",
        "Actions waiting for one device at most; beyond, the ACS's request is answered 9004 at once."),
    Key("offline_after_failures", integer(1, 100), "3",
        "Actions in a row without an answer (timeouts, refused connections) after which a device is "
        "offline: its Connection Requests are answered 503 and no session starts (TR-069 J.2.3)."),
    Key("online_probe_interval", integer(5, 86400), "60",
        "Seconds between two checks whether a device that stopped answering is back."),
    Key("require_reboot", boolean, "false",
        "true: a device without BasicManagement Reboot is not proxied (TR-069 Annex J asks of every "
        "proxied device a reboot mechanism); false: it is, and the ACS's Reboot is answered 9000."),
    Key("probe_attempts", integer(1, 20), "3",
        "Times a newly described device is asked for its identity (GetSupportedDataModels, the Common "
        "Objects) before it is given up until it announces itself again."),
    Key("firmware_update_limit", integer(60, 7 * 86400), str(int(UPDATE_LIMIT)),
        "Seconds a firmware update (SoftwareManagement Update) may take from the device's acceptance to "
        "its end, reboot included; past it the ACS's TransferComplete says 9002 (outcome unknown)."),
    Key("log_max_bytes", integer(4096, 256 * 1024 * 1024), str(MAX_LOG_BYTES),
        "The largest vendor log read from a device for an Upload (TR-330 §4.4); a larger one ends the "
        "Upload with 9011. The log is held in memory while it is sent."),
    Key("log_fetch_timeout", integer(5, 3600), str(int(FETCH_TIMEOUT)),
        "Seconds to read a vendor log from the device; past it the Upload ends with 9011."),
    Key("upload_timeout", integer(10, 86400), str(int(UPLOAD_TIMEOUT)),
        "Seconds for one upload to the ACS's file server, the body included; past it the Upload ends "
        "with 9011."),
)

SECTION = Section(
    cpsettings.SECTION_NAME,
    cpsettings.SECTION.doc + " Also how the UPnP DM proxy module (TR-330) treats each device.",
    tuple(cpsettings.KEYS) + KEYS,
)


@dataclass(frozen=True)
class ProxySettings:
    """The proxy module's own keys, typed."""

    actionTimeout: int = 30
    actionConcurrency: int = 2
    actionQueueLimit: int = 64
    offlineAfterFailures: int = 3
    onlineProbeInterval: int = 60
    requireReboot: bool = False
    probeAttempts: int = 3
    firmwareUpdateLimit: float = UPDATE_LIMIT
    logMaxBytes: int = MAX_LOG_BYTES
    logFetchTimeout: float = FETCH_TIMEOUT
    uploadTimeout: float = UPLOAD_TIMEOUT
    localTargets: tuple = ()  # [acs] local_targets: hosts uploads may reach though local

    @classmethod
    def fromConfig(cls, config: Config, deviceTimeout: Optional[float] = None) -> "ProxySettings":
        """
        @param deviceTimeout: the endpoint's bound on a device call
            (L{IProxierContext.deviceTimeout<proxier.interfaces.IProxierContext>});
            None: no bound but C{action_timeout}.
        """
        key = SECTION.reader(config)
        bound = int(deviceTimeout) - 1 if deviceTimeout is not None else key("action_timeout")
        return cls(
            actionTimeout=max(1, min(key("action_timeout"), bound)),
            actionConcurrency=key("action_concurrency"),
            actionQueueLimit=key("action_queue_limit"),
            offlineAfterFailures=key("offline_after_failures"),
            onlineProbeInterval=key("online_probe_interval"),
            requireReboot=key("require_reboot"),
            probeAttempts=key("probe_attempts"),
            firmwareUpdateLimit=key("firmware_update_limit"),
            logMaxBytes=key("log_max_bytes"),
            logFetchTimeout=key("log_fetch_timeout"),
            uploadTimeout=key("upload_timeout"),
            localTargets=tuple(config["acs"]["local_targets"]) if "acs" in config else (),
        )
