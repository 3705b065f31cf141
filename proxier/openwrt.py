# -*- test-case-name: tests.test_openwrt -*-
"""
OpenWrt: C{/etc/config/proxier} (UCI) rendered into the INI file the daemon
reads. The procd init script (C{openwrt/proxier/files/proxier.init}) runs::

    python3 -m proxier.openwrt /etc/config/proxier /var/etc/proxier.conf

at every start and reload; a mistake stops there with one line per mistake,
in the daemon's own words (the result is loaded with L{proxier.config.load}
before it replaces the previous file), and the daemon keeps running on the
last good file.

The mapping is plain: a UCI section of type C{T} is the INI section C{[T]},
an C{option} is a key, a C{list} is a key whose values are joined with
commas. The section of type C{proxier} is the init script's own (enabled,
respawn) and is not rendered. Both the file format (C{uci export}) and the
C{uci show} format are read.

What differs from the daemon's defaults on a gateway, unless the UCI file
says otherwise:

 - C{[state] directory = /etc/proxier}: on the overlay. C{/var} is a tmpfs
   on OpenWrt: state kept there is lost at every reboot, and every Virtual
   CWMP Device would BOOTSTRAP again;
 - C{[log] file = -}: procd hands standard output to logd (C{logread});
 - C{[connection_request] port = 7548}: 7547 is the gateway's own CWMP
   client's (icwmp, easycwmp); a port that one of those is configured to
   use is refused with a line naming both files;
 - C{[device] serial_number}: the base MAC (L{proxier.hostid}) when empty,
   so that no two boxes share an identity;
 - C{[demo] enable = no}: the simulator is not installed on a gateway, and
   no demo ACS may stand in for a missing ACS URL there.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from typing import Optional, Sequence

from proxier.asciinum import isUnsigned

__all__ = ["UCIError", "parseUCI", "render", "gatewayCWMPPort", "OPENWRT_DEFAULTS", "main"]

#: What the init script renders when the UCI file leaves a key out.
OPENWRT_DEFAULTS: dict[tuple[str, str], str] = {
    ("state", "directory"): "/etc/proxier",
    ("log", "file"): "-",
    ("connection_request", "port"): "7548",
    ("demo", "enable"): "no",
}

#: UCI files of the CWMP clients an OpenWrt gateway may run, and where they keep their port.
CWMP_CLIENT_CONFIGS = ("/etc/config/cwmp", "/etc/config/easycwmp")

_OWN_TYPE = "proxier"
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class UCIError(ValueError):
    """A UCI file that cannot be rendered; C{str()} is the line to show."""


Section = tuple[str, str, list[tuple[str, str, bool]]]  # type, name, [(option, value, isList)]


def parseUCI(text: str, source: str = "uci") -> list[Section]:
    """
    The sections of a UCI file (C{uci export} / C{/etc/config/*} format, or
    C{uci show} output), in order.

    @raise UCIError: a line that is neither.
    """
    lines = [l for l in text.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    if lines and not re.match(r"^\s*(package|config|option|list)\s", lines[0]) and "=" in lines[0]:
        return _parseShow(text, source)
    sections: list[Section] = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            words = shlex.split(line, comments=True)
        except ValueError as e:
            raise UCIError(f"{source}: line {number}: {e}") from None
        if not words:
            continue
        kind = words[0]
        if kind == "package" and len(words) == 2:
            continue
        if kind == "config" and len(words) in (2, 3):
            sections.append((words[1], words[2] if len(words) == 3 else "", []))
        elif kind in ("option", "list") and len(words) == 3:
            if not sections:
                raise UCIError(f"{source}: line {number}: an {kind} before any 'config' section")
            sections[-1][2].append((words[1], words[2], kind == "list"))
        else:
            raise UCIError(f"{source}: line {number}: not 'config TYPE [NAME]', 'option KEY VALUE' or "
                           "'list KEY VALUE'")
    return sections


def _parseShow(text: str, source: str) -> list[Section]:
    """C{uci show proxier}: C{proxier.NAME=TYPE} and C{proxier.NAME.KEY='v'} (a list: C{'a' 'b'})."""
    sections: list[Section] = []
    byName: dict[str, Section] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        path, eq, value = line.partition("=")
        parts = path.strip().split(".")
        try:
            values = shlex.split(value)
        except ValueError as e:
            raise UCIError(f"{source}: line {number}: {e}") from None
        if not eq or len(parts) not in (2, 3):
            raise UCIError(f"{source}: line {number}: not 'config.section=type' or 'config.section.option=value'")
        name = parts[1]
        if len(parts) == 2:
            if len(values) != 1:
                raise UCIError(f"{source}: line {number}: a section type is one word")
            section: Section = (values[0], "" if name.startswith("@") else name, [])
            sections.append(section)
            byName[name] = section
        else:
            if name not in byName:
                raise UCIError(f"{source}: line {number}: option of section {name} before the section")
            isList = len(values) != 1
            for v in values:
                byName[name][2].append((parts[2], v, isList))
    return sections


def gatewayCWMPPort(paths: Sequence[str] = CWMP_CLIENT_CONFIGS) -> dict[str, int]:
    """The Connection Request port the gateway's own CWMP client is configured with, by UCI file."""
    found: dict[str, int] = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                sections = parseUCI(f.read(1 << 20), path)
        except (OSError, UCIError):
            continue
        for _type, _name, options in sections:
            for key, value, _ in options:
                if key in ("port", "connection_request_port", "cr_port") and isUnsigned(value.strip(), maxDigits=5):
                    found[path] = int(value.strip())
                    break
            if path in found:
                break
        else:
            if os.path.exists(path):
                found[path] = 7547  # their default
    return found


def render(sections: list[Section], *, source: str = "uci", serial: Optional[str] = None,
           cwmpClients: Optional[dict[str, int]] = None) -> str:
    """
    The INI text for parsed UCI sections, with the OpenWrt defaults.

    @param serial: the serial number to use when C{[device] serial_number}
        is not given (default: none added; the daemon derives its own).
    @param cwmpClients: L{gatewayCWMPPort}'s answer, to refuse a colliding port.
    @raise UCIError: two sections of one type, a name or value INI cannot
        hold, or the gateway's CWMP client's port.
    """
    ini: dict[str, dict[str, str]] = {}
    for kind, name, options in sections:
        if kind == _OWN_TYPE:
            continue
        if not _NAME.match(kind):
            raise UCIError(f"{source}: section type {kind!r} is not a name")
        if kind in ini:
            raise UCIError(f"{source}: two '{kind}' sections; the proxier reads one of each")
        keys: dict[str, str] = {}
        lists: dict[str, list[str]] = {}
        for key, value, isList in options:
            if not _NAME.match(key):
                raise UCIError(f"{source}: [{kind}] option {key!r} is not a name")
            if any(c in value for c in "\r\n\x00"):
                raise UCIError(f"{source}: [{kind}] {key}: a line break in a value")
            if isList:
                lists.setdefault(key, []).append(value)
            else:
                keys[key] = value
        for key, values in lists.items():
            if any("," in v or v != v.strip() for v in values):
                raise UCIError(f"{source}: [{kind}] {key}: a list item with a comma or spaces")
            keys[key] = ", ".join(values)
        ini[kind] = keys
    for (kind, key), value in OPENWRT_DEFAULTS.items():
        ini.setdefault(kind, {}).setdefault(key, value)
    if serial and not ini.get("device", {}).get("serial_number", "").strip():
        ini.setdefault("device", {})["serial_number"] = serial
    if ini["demo"]["enable"].strip().lower() != "no":
        raise UCIError(f"{source}: [demo] enable: the demo is not installed on OpenWrt; use 'no'")
    port = ini["connection_request"]["port"].strip()
    for path, theirs in (cwmpClients or {}).items():
        if port == str(theirs):
            raise UCIError(f"{source}: [connection_request] port {port} is the port of the gateway's own CWMP "
                           f"client ({path}); choose another (the default here is 7548)")
    out = ["# Rendered from " + source + " by proxier.openwrt at each start; edit that file, not this one."]
    for kind, keys in ini.items():
        out.append("")
        out.append(f"[{kind}]")
        out.extend(f"{key} = {value}" for key, value in keys.items())
    return "\n".join(out) + "\n"


def renderFile(uciPath: str, outPath: str, *, cwmpConfigs: Sequence[str] = CWMP_CLIENT_CONFIGS,
               machineIdPath: str = "/etc/machine-id", boardJSON: str = "/etc/board.json",
               sysClassNet: str = "/sys/class/net", extraSections: Optional[list] = None) -> str:
    """
    Render C{uciPath} into C{outPath} (mode 0600: it holds passwords), after
    checking that the daemon accepts it; C{outPath} is replaced only then.

    @return: the INI text.
    @raise UCIError: the UCI file cannot be read or rendered.
    @raise proxier.config.ConfigError: the daemon would refuse the result.
    """
    from proxier import config as configmod
    from proxier.hostid import serialNumber

    try:
        with open(uciPath, encoding="utf-8") as f:
            text = f.read(1 << 20)
    except (OSError, UnicodeDecodeError) as e:
        raise UCIError(f"{uciPath}: {getattr(e, 'strerror', None) or e}") from None
    serial = serialNumber(machineIdPath, boardJSON, sysClassNet)
    ini = render(parseUCI(text, uciPath), source=uciPath, serial=serial, cwmpClients=gatewayCWMPPort(cwmpConfigs))
    directory = os.path.dirname(os.path.abspath(outPath))
    os.makedirs(directory, exist_ok=True)
    temporary = f"{outPath}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(ini)
        if extraSections is None:
            from proxier.registry import protocolPlugins
            from proxier.tap import pluginSections

            extraSections = pluginSections(protocolPlugins())
        try:
            configmod.load(temporary, extraSections)
        except configmod.ConfigError as e:
            _renamePath(e, uciPath)  # the operator edits the UCI file: name it, not the temporary INI
            raise
        os.replace(temporary, outPath)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return ini


def _renamePath(error: Exception, path: str) -> None:
    for e in [error] + list(getattr(error, "errors", [])):
        e.path = path  # type: ignore[attr-defined]
        e.args = (str(e),)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """C{python3 -m proxier.openwrt UCI-FILE INI-FILE}: 0, or 1 with the mistakes on standard error."""
    from proxier.config import ConfigError

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        sys.stderr.write("usage: python3 -m proxier.openwrt /etc/config/proxier /var/etc/proxier.conf\n")
        return 2
    try:
        renderFile(args[0], args[1])
    except (UCIError, ConfigError) as e:
        for line in str(e).splitlines():
            sys.stderr.write(f"proxier: {line}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
