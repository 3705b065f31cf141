# -*- test-case-name: tests.test_console_ctl -*-
"""
C{proxier-ctl}: the local console's JSON API from a shell on the gateway
(README.rst, "The local console"; proxier-ctl(1)).

It reads the API the page reads, with the standard library alone (urllib:
no Twisted, no treq), so that it runs wherever the proxier's Python does.
Where the console is, and its credentials, come from the config file's
C{[console]} section; C{--url} says otherwise. A console serving HTTPS
(C{[console] certificate}) is trusted by that certificate alone. No HTTP proxy of the
environment is ever used: the console is on this machine or its LAN.

Exit status: 0 done, 1 the console refused or failed (its CWMP fault is
printed), 2 a usage or configuration mistake, 3 the console cannot be
reached.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, Any, Optional, Sequence

from proxier import config as configmod

__all__ = ["main", "parser", "Console", "ConsoleError"]

#: seconds one request may take (the console answers a device's silence with 504 after 30 s)
TIMEOUT = 40.0


class ConsoleError(Exception):
    """The console answered with an error (C{fault}: its JSON, when it gave one), or could not be reached."""

    def __init__(self, message: str, fault: Optional[dict[str, Any]] = None, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.fault = fault
        self.unreachable = unreachable


class Console:
    """
    The console's API at C{url}, with Digest C{credentials} (C{("", "")}:
    none); over https, its certificate verified against C{cafile} (PEM; empty:
    the system's trust store).
    """

    def __init__(self, url: str, credentials: tuple[str, str], timeout: float = TIMEOUT, cafile: str = "") -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.timeout = timeout
        handlers: list[Any] = [urllib.request.ProxyHandler({}),
                               urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile or None))]
        if credentials[0]:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            passwords.add_password(None, self.url, credentials[0], credentials[1])
            handlers.append(urllib.request.HTTPDigestAuthHandler(passwords))
        self._opener = urllib.request.build_opener(*handlers)

    def call(self, path: str, query: Sequence[tuple[str, str]] = (), body: Any = None,
             headers: Optional[dict[str, str]] = None) -> Any:
        """The decoded JSON answer of C{/api/<path>} (a POST when C{body} is given)."""
        url = self.url + "api/" + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, headers=dict(headers or {}),
                                         method="POST" if data is not None else "GET")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            with e:
                text = e.read()
            if not isinstance(text, bytes):  # urllib's own refusal (digest auth failed) has no body
                text = b""
            try:
                fault = json.loads(text.decode("utf-8"))["error"]
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                raise ConsoleError(f"HTTP {e.code}: {text.decode('utf-8', 'replace').strip() or e.reason}") from None
            raise ConsoleError(f"fault {fault.get('code')}: {fault.get('string')}", fault) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ConsoleError(f"cannot reach the console at {self.url}: {reason} "
                               "(is [console] enable = yes, and the proxier running?)", unreachable=True) from None
        except ValueError:
            raise ConsoleError(f"the console at {self.url} did not answer JSON") from None

    def set(self, device: str, values: list[dict[str, str]], via: str = "") -> Any:
        """Write C{values} (name, value, optional type), with the session's CSRF token."""
        token = self.call("session")["csrf"]
        return self.call(f"devices/{urllib.parse.quote(device, safe='')}/values", [("via", via)] if via else (),
                         body={"values": values}, headers={"X-Proxier-CSRF": token})


def _ago(when: Optional[float], now: float) -> str:
    if when is None:
        return ""
    seconds = max(0, round(now - when))
    return f"{seconds} s ago" if seconds < 90 else f"{round(seconds / 60)} min ago"


def _lastSession(cwmp: dict[str, Any], now: float) -> str:
    last = cwmp.get("lastSession")
    if not last:
        return "none yet"
    text = ("ok" if last.get("ok") else f"failed: {last.get('reason', '')}") + ", " + _ago(last.get("ended"), now)
    faults = last.get("faults") or []
    return text + (f", {len(faults)} fault(s)" if faults else "")


def _waiting(cwmp: dict[str, Any]) -> str:
    waiting = list(cwmp.get("pendingEvents", []))
    if cwmp.get("transfers"):
        waiting.append("transfers: " + ", ".join(cwmp["transfers"]))
    if cwmp.get("inSession"):
        waiting.append("in session")
    return ", ".join(waiting) or "nothing"


def _embedded(embedded: Optional[dict[str, Any]], now: float) -> str:
    """Where a device's embedded objects are in the proxier's tree, and how its last commands went."""
    if not embedded:
        return "-"
    synced = _ago(embedded.get("lastSyncTime"), now)
    return (f"{embedded['reference']} ({embedded['row']}) {embedded['commandProcessed']}"
            + (f", synced {synced}" if synced else ", not synced yet"))


def _table(rows: list[list[str]], out: IO[str]) -> None:
    """Columns as wide as their widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")


def showStatus(status: dict[str, Any], out: IO[str], now: float) -> None:
    identity = status["identity"]
    endpoint = status.get("endpoint") or {}
    cwmp = endpoint.get("cwmp") or {}
    rows = [
        ["proxier", f"{identity['manufacturer']} {identity['productClass']} {identity['serialNumber']} "
                    f"(version {status['version']})"],
        ["ACS", status.get("acsURL") or "(none)"],
        ["uptime", f"{status['uptime'] // 3600} h {status['uptime'] // 60 % 60} min"],
        ["devices", f"{status['devices']} ({status['online']} online, {status.get('embedded', 0)} as embedded "
                    f"objects), {status.get('pending', 0)} found not proxied (yet)"],
    ]
    if cwmp:
        rows += [["waiting", _waiting(cwmp)], ["last session", _lastSession(cwmp, now)],
                 ["Connection Request", endpoint.get("connectionRequestURL", "")]]
    _table(rows, out)
    for notice in status.get("notices", []):  # the API gives them most pressing first
        out.write(f"{notice['kind']}: {notice['text']}\n")


def _notices(entries: list[dict[str, Any]], out: IO[str]) -> None:
    """What someone must do about each entry, first, then what goes on."""
    for entry in entries:
        for notice in sorted(entry.get("notices", []), key=lambda n: n["kind"] != "action"):
            out.write(f"{entry['key']}: {notice['kind']}: {notice['text']}\n")


def showDevices(devices: list[dict[str, Any]], out: IO[str], now: float,
                pending: Sequence[dict[str, Any]] = ()) -> None:
    """The devices, then those found but not proxied (yet), each table with its notices under it."""
    if not devices:
        out.write("no devices\n")
    else:
        rows = [["DEVICE", "PROTOCOL", "STATE", "WAITING FOR THE ACS", "LAST SESSION", "EMBEDDED OBJECTS"]]
        for device in devices:
            cwmp = device["cwmp"]  # None: no endpoint of its own, only rows of the proxier's (embedded objects)
            rows.append([device["key"], device["protocol"], "online" if device["online"] else "offline",
                         _waiting(cwmp) if cwmp else "- (the proxier's endpoint)",
                         _lastSession(cwmp, now) if cwmp else "-", _embedded(device.get("embedded"), now)])
        _table(rows, out)
        _notices(devices, out)
    if pending:
        out.write("\n")
        rows = [["NOT PROXIED (YET)", "PROTOCOL", "STATE", "ADDRESS", "WHAT", "WHY"]]
        for found in pending:
            rows.append([found["key"], found["protocol"], found["state"], found["host"] or "-", found["label"],
                         found["why"]])
        _table(rows, out)
        _notices(list(pending), out)


def showValues(values: list[dict[str, str]], out: IO[str]) -> None:
    if values:
        _table([[v["name"], v["value"], v["type"]] for v in values], out)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="proxier-ctl", description="Read and set what the proxier's local console "
                                "shows: the proxier, its Virtual CWMP Devices, their parameters.")
    p.add_argument("--config", metavar="PATH", help=f"the proxier's config file (default {configmod.DEFAULT_PATH})")
    p.add_argument("--url", help="the console's URL (default: from the config's [console] section)")
    p.add_argument("--json", action="store_true", help="print the API's JSON answer as it is")
    commands = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("status", help="the proxier itself")
    commands.add_parser("devices", help="every device proxied (Virtual CWMP Devices and embedded objects), and "
                                        "those found but not proxied (yet)")
    embedded = ("a device presented both ways: its embedded objects in the proxier's own tree rather than its "
                "Virtual CWMP Device (a device shown only as embedded objects is read there anyway)")
    get = commands.add_parser("get", help="values of parameters (a path ending in '.' reads all below it)")
    get.add_argument("device", help="a device's key as 'devices' lists it, or 'self' for the proxier")
    get.add_argument("paths", nargs="+", metavar="PATH")
    get.add_argument("--embedded", action="store_true", help=embedded)
    put = commands.add_parser("set", help="set one parameter, as a change not the ACS's (a VALUE CHANGE for it)")
    put.add_argument("device")
    put.add_argument("path")
    put.add_argument("value")
    put.add_argument("--type", default="", help="its xsd type (default: the type the device gives it)")
    put.add_argument("--embedded", action="store_true", help=embedded)
    return p


def _console(options: argparse.Namespace) -> Console:
    """The console the options and the config file name."""
    path = options.config or configmod.DEFAULT_PATH
    config = configmod.load(path, required=options.config is not None, otherSections=True)
    section = config["console"]
    url = options.url
    if not url:
        address = section["listen_address"]
        scheme = "https" if section["certificate"] else "http"
        url = f"{scheme}://{f'[{address}]' if ':' in address else address}:{section['port']}/"
    return Console(url, section["credentials"], cafile=section["certificate"])


def main(argv: Optional[Sequence[str]] = None, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr) -> int:
    options = parser().parse_args(argv)
    try:
        console = _console(options)
    except configmod.ConfigError as e:
        for line in str(e).splitlines():
            err.write(f"proxier-ctl: {line}\n")
        return 2
    try:
        if options.command == "status":
            answer = console.call("status")
        elif options.command == "devices":
            answer = console.call("devices")
        elif options.command == "get":
            via = [("via", "embedded")] if options.embedded else []
            answer = console.call(f"devices/{urllib.parse.quote(options.device, safe='')}/values",
                                  via + [("path", p) for p in options.paths])
        else:
            answer = console.set(options.device, [{"name": options.path, "value": options.value,
                                                   "type": options.type}], "embedded" if options.embedded else "")
    except ConsoleError as e:
        err.write(f"proxier-ctl: {e}\n")
        for p in (e.fault or {}).get("parameterFaults", []):
            err.write(f"proxier-ctl:   {p['name']}: fault {p['code']}: {p['string']}\n")
        return 3 if e.unreachable else 1
    now = time.time()
    if options.json:
        out.write(json.dumps(answer, indent=2, sort_keys=True) + "\n")
    elif options.command == "status":
        showStatus(answer, out, now)
    elif options.command == "devices":
        showDevices(answer["devices"], out, now, answer.get("pending", []))
    elif options.command == "get":
        showValues(answer["values"], out)
    elif answer["status"] == 0:
        out.write("set\n")
    elif answer.get("via") == "embedded":  # Status 1: in the proxier's copy, pushed down afterwards
        out.write("set in the proxier's copy (pushed to the device now: 'devices' shows its CommandProcessed)\n")
    else:  # Status 1: the device applies it when it restarts
        out.write("set (applied when the device next restarts)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
