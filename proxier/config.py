# -*- test-case-name: tests.test_config -*-
"""
The configuration file: an INI file whose every section and key is declared
here (or by a protocol plugin's L{IProxyProtocol.configSection
<proxier.interfaces.IProxyProtocol.configSection>}), documented key by key in
C{etc/proxier.conf}, and validated as a whole at start.

A mistake stops the start with one line naming the file, the section, the key
and the problem — an operator editing a gateway's config over SSH needs that
line, not a traceback.

This is the schema library at the bottom of the project: it knows no
protocol and imports nothing of the project but the two leaf readers every
layer shares for text from outside (L{proxier.asciinum} for whole numbers,
L{proxier.datamodel._tr106time} for dateTimes; modules that import nothing
of the project themselves). Which sections make up the file — these core
ones and each enabled protocol plugin's — is assembled where the service
tree is made (L{proxier.tap.configSections}).
"""

from __future__ import annotations

import configparser
import difflib
import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence
from urllib.parse import urlsplit

from proxier.asciinum import parseSigned

__all__ = [
    "ConfigError",
    "ConfigErrors",
    "Key",
    "Section",
    "Config",
    "CORE_SECTIONS",
    "DEFAULT_PATH",
    "load",
    "reloadableKeys",
    "boolean",
    "integer",
    "choice",
    "text",
    "url",
    "words",
    "ipAddress",
    "filePath",
    "dateTime",
]

DEFAULT_PATH = "/etc/proxier/proxier.conf"


class ConfigError(Exception):
    """
    A configuration mistake. C{str()} is the one line to show.

    @ivar path: the file (or C{None} for built-in defaults).
    @ivar section: the section, or C{None} for file-level problems.
    @ivar key: the key, or C{None} for section-level problems.
    @ivar problem: what is wrong, in a few words.
    """

    def __init__(
        self, path: Optional[str], section: Optional[str], key: Optional[str], problem: str
    ) -> None:
        self.path, self.section, self.key, self.problem = path, section, key, problem
        super().__init__(str(self))

    @property
    def errors(self) -> list["ConfigError"]:
        """Every mistake found (this one alone; see L{ConfigErrors})."""
        return [self]

    def __str__(self) -> str:
        where = self.path or "(defaults)"
        if self.section is not None:
            where += f": [{self.section}]"
            if self.key is not None:
                where += f" {self.key}"
        return f"{where}: {self.problem}"


class ConfigErrors(ConfigError):
    """
    Several mistakes of one file, all found in one reading, so that an
    operator fixes them in one edit rather than one per restart. C{str()} is
    one line per mistake; the attributes are the first one's.
    """

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self._errors = list(errors)
        first = self._errors[0]
        super().__init__(first.path, first.section, first.key, first.problem)

    @property
    def errors(self) -> list[ConfigError]:
        return list(self._errors)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self._errors)


# Value parsers: text in, typed value out, ValueError with a short reason.

Parser = Callable[[str], Any]


def text(maxLength: int = 1024) -> Parser:
    def parse(value: str) -> str:
        if len(value) > maxLength:
            raise ValueError(f"longer than {maxLength} characters")
        return value

    return parse


def boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "yes", "true", "on"):
        return True
    if lowered in ("0", "no", "false", "off"):
        return False
    raise ValueError(f"{value!r} is not a boolean (use true or false)")


def integer(minimum: Optional[int] = None, maximum: Optional[int] = None) -> Parser:
    def parse(value: str) -> int:
        try:  # ASCII digits (asciinum): int() would take '٤٠٠٠' or '1_000'
            number = parseSigned(value.strip(" \t"), maxDigits=20)
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
        if minimum is not None and number < minimum:
            raise ValueError(f"{number} is below the minimum {minimum}")
        if maximum is not None and number > maximum:
            raise ValueError(f"{number} is above the maximum {maximum}")
        return number

    return parse


def choice(*choices: str) -> Parser:
    def parse(value: str) -> str:
        lowered = value.strip().lower()
        for c in choices:
            if lowered == c.lower():
                return c
        raise ValueError(f"{value!r} is not one of: {', '.join(choices)}")

    return parse


def url(*schemes: str, allowEmpty: bool = True) -> Parser:
    def parse(value: str) -> str:
        value = value.strip()
        if not value:
            if allowEmpty:
                return ""
            raise ValueError("a URL is required")
        try:
            parts = urlsplit(value)
            port = parts.port  # raises ValueError on a bad port
        except ValueError as e:
            raise ValueError(f"{value!r} is not a valid URL ({e})") from None
        if parts.scheme.lower() not in schemes:
            raise ValueError(f"{value!r} must start with {' or '.join(s + '://' for s in schemes)}")
        if not parts.hostname:
            raise ValueError(f"{value!r} has no host")
        if port == 0:
            raise ValueError(f"{value!r} has port 0")
        return value

    return parse


def words(value: str) -> tuple[str, ...]:
    """A list separated by commas and/or white space."""
    return tuple(w for w in value.replace(",", " ").split() if w)


def ipAddress(allowEmpty: bool = False) -> Parser:
    def parse(value: str) -> str:
        value = value.strip()
        if not value and allowEmpty:
            return ""
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None

    return parse


def credentials(value: str) -> tuple[str, str]:
    """C{user:password} (the password may hold colons), or empty: C{("", "")}."""
    value = value.strip()
    if not value:
        return ("", "")
    user, colon, password = value.partition(":")
    if not colon or not user or not password:
        raise ValueError("not user:password (both non-empty)")
    if len(value) > 512:
        raise ValueError("longer than 512 characters")
    return (user, password)


def filePath(mustExist: bool = True) -> Parser:
    def parse(value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        value = os.path.expanduser(value)
        if mustExist and not os.access(value, os.R_OK):
            raise ValueError(f"{value} is not a readable file")
        return value

    return parse


def dateTime(value: str) -> str:
    """A TR-069 dateTime (ISO 8601); empty means the unknown time."""
    from proxier.datamodel import _tr106time

    value = value.strip()
    if value:
        _tr106time.parseDateTime(value)
    return value


@dataclass(frozen=True)
class Key:
    """
    One configuration key.

    @ivar default: the default as it would be written in the file.
    @ivar doc: one or a few sentences for C{etc/proxier.conf}.
    @ivar reloadable: SIGHUP applies it at once (its owner follows the
        change); every other key waits for the next start.
    """

    name: str
    parse: Parser
    default: str
    doc: str
    reloadable: bool = False


@dataclass(frozen=True)
class Section:
    """One INI section and the keys it may hold."""

    name: str
    doc: str
    keys: Sequence[Key] = field(default_factory=tuple)

    def key(self, name: str) -> Key:
        for k in self.keys:
            if k.name == name:
                return k
        raise KeyError(name)

    def reader(self, config: "Config", sectionName: Optional[str] = None) -> Callable[[str], Any]:
        """
        A key's value in C{config}, or its documented default when the file
        has no such key or section (a plugin that does not expose it, a test).
        """
        section = sectionName or self.name
        values: Mapping[str, Any] = config[section] if section in config else {}

        def read(name: str) -> Any:
            if name in values:
                return values[name]
            key = self.key(name)
            return key.parse(key.default)

        return read


class Config:
    """
    The validated configuration: C{config["acs"]["url"]} is the typed value.

    @ivar path: the file it came from, or C{None} when only defaults are used.
    """

    def __init__(self, path: Optional[str], values: Mapping[str, Mapping[str, Any]],
                 given: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.path = path
        self._values = {s: dict(v) for s, v in values.items()}
        self._given = given

    def given(self, section: str, key: str) -> bool:
        """Whether the file set C{key} itself (rather than leaving it at its default)."""
        return (section, key) in self._given

    def __getitem__(self, section: str) -> Mapping[str, Any]:
        return self._values[section]

    def __contains__(self, section: object) -> bool:
        return section in self._values

    def sections(self) -> list[str]:
        return list(self._values)

    def replace(self, section: str, **changes: Any) -> "Config":
        """A copy with some values changed (for tests and the demo)."""
        values = {s: dict(v) for s, v in self._values.items()}
        values[section].update(changes)
        return Config(self.path, values, self._given)


def _section(name: str, doc: str, *keys: Key) -> Section:
    return Section(name, doc, keys)


CORE_SECTIONS: tuple[Section, ...] = (
    _section(
        "acs",
        "The operator's ACS that manages the proxier and every Virtual CWMP Device.",
        Key("url", url("http", "https"), "",
            "ACS URL (ManagementServer.URL). Empty: no ACS; with [demo] enable = auto "
            "the built-in demo ACS is used instead."),
        Key("username", text(256), "", "Username towards the ACS (ManagementServer.Username)."),
        Key("password", text(256), "", "Password towards the ACS (ManagementServer.Password)."),
        Key("ca_file", filePath(), "",
            "PEM file of CA certificates that sign the ACS certificate. Empty: the "
            "system's trust store."),
        Key("client_certificate", filePath(), "",
            "PEM client certificate presented to the ACS over HTTPS (optional)."),
        Key("client_key", filePath(), "", "PEM private key of client_certificate."),
        Key("periodic_inform_enable", boolean, "true",
            "Send periodic Informs (ManagementServer.PeriodicInformEnable)."),
        Key("periodic_inform_interval", integer(1, 2**32 - 1), "86400",
            "Seconds between periodic Informs (ManagementServer.PeriodicInformInterval)."),
        Key("periodic_inform_time", dateTime, "",
            "A reference time for the phase of periodic Informs "
            "(ManagementServer.PeriodicInformTime). Empty: no phase."),
        Key("retry_minimum_wait", integer(1, 65535), "5",
            "TR-069 3.2.1.1 session retry: minimum wait m in seconds "
            "(ManagementServer.CWMPRetryMinimumWaitInterval)."),
        Key("retry_interval_multiplier", integer(1000, 65535), "2000",
            "TR-069 3.2.1.1 session retry: multiplier k, in thousandths "
            "(ManagementServer.CWMPRetryIntervalMultiplier)."),
        Key("session_timeout", integer(5, 3600), "30",
            "Seconds the ACS may keep a session idle; sent as cwmp:SessionTimeout and "
            "bounds every device call inside a session."),
        Key("lowercase_session_timeout", boolean, "true",
            "Also send the session timeout as cwmp:sessionTimeout (lower case, without "
            "mustUnderstand), the only spelling GenieACS reads; no CWMP schema declares "
            "it. false: leave it out, for an ACS that refuses headers it does not know."),
        Key("request_timeout", integer(1, 3600), "30",
            "Seconds to wait for the ACS to answer one HTTP request."),
        Key("local_targets", words, "",
            "Hosts (names or addresses, as URLs spell them) the proxier may reach on the "
            "ACS's behalf although they are loopback, link-local or this gateway's own "
            "addresses: an Upload's file server, a redirect during a session. Empty on a "
            "gateway (such URLs are refused: Upload 9011, the session fails); a lab with "
            "its ACS on this machine names 127.0.0.1."),
    ),
    _section(
        "device",
        "The proxier's own identity towards the ACS (Device.DeviceInfo).",
        Key("manufacturer", text(64), "proxier", "DeviceInfo.Manufacturer."),
        Key("oui", text(6), "000000",
            "DeviceInfo.ManufacturerOUI: six upper-case hexadecimal digits."),
        Key("product_class", text(64), "Gateway", "DeviceInfo.ProductClass."),
        Key("serial_number", text(64), "",
            "DeviceInfo.SerialNumber. Empty: derived from /etc/machine-id, else from "
            "the base MAC address (OpenWrt: the label MAC of /etc/board.json), else the "
            "host name."),
        Key("hardware_version", text(64), "", "DeviceInfo.HardwareVersion."),
        Key("software_version", text(64), "",
            "DeviceInfo.SoftwareVersion. Empty: the proxier's own version."),
        Key("provisioning_code", text(64), "", "Initial DeviceInfo.ProvisioningCode."),
    ),
    _section(
        "connection_request",
        "The HTTP server on which the ACS asks endpoints for a session "
        "(one port, one path and one set of credentials per endpoint).",
        Key("listen_address", ipAddress(), "127.0.0.1",
            "Address to listen on: the WAN address, or 0.0.0.0 / :: for all. The "
            "default keeps a fresh install reachable only from this machine."),
        Key("port", integer(0, 65535), "7547",
            "TCP port (7547 is customary; 0 picks a free port, for tests)."),
        Key("url_host", text(253), "",
            "Host (name or address) put in each ConnectionRequestURL. Empty: "
            "listen_address, or when that is a wildcard, the local address of the "
            "route towards the ACS."),
        Key("credentials", choice("random", "shared"), "random",
            "random: each endpoint gets its own generated username and password, kept "
            "in the state directory; shared: every endpoint starts with username and "
            "password below. Either way the ACS may set others (ManagementServer."
            "ConnectionRequestUsername/Password), kept until the pair below changes."),
        Key("username", text(256), "", "Username when credentials = shared."),
        Key("password", text(256), "", "Password when credentials = shared."),
        Key("rate_limit", integer(0, 100000), "10",
            "Connection Requests per endpoint that may start a session within rate_window "
            "seconds; more are answered 503 (TR-069 3.2.2). Only requests that authenticate "
            "count, and not those arriving during a session (it is followed by one more, "
            "which serves them). 0: no limit."),
        Key("rate_window", integer(1, 86400), "60", "Seconds over which rate_limit counts."),
        Key("max_connections", integer(1, 100000), "64",
            "Connections open at once. Past it a new connection takes the place of the "
            "oldest one still sending its request (never of one being answered)."),
        Key("max_connections_per_peer", integer(1, 100000), "32",
            "Connections one address may hold at once, the same way. Raise it for an ACS "
            "that asks many endpoints at the same moment from one address."),
        Key("request_timeout", integer(1, 3600), "10",
            "Seconds a client has to send a whole request, however it paces its bytes; "
            "a slower one is disconnected (slowloris)."),
    ),
    _section(
        "lan",
        "Where devices are discovered.",
        Key("interfaces", words, "",
            "Interfaces to discover devices on, for example 'br-lan'. Empty: every "
            "interface that is up, has an address and supports multicast, except "
            "loopback and any interface holding a default route (the WAN).", reloadable=True),
        Key("interface_check_interval", integer(0, 86400), "30",
            "Seconds between looks at the interfaces: one that comes up later (a "
            "bridge made after the daemon started) is discovered on from then on, one "
            "that went away or changed address is closed or reopened. SIGHUP looks at "
            "once. 0: only at start and on SIGHUP.", reloadable=True),
        Key("ssdp_mode", choice("multicast", "unicast-loopback"), "multicast",
            "multicast: join 239.255.255.250 / FF02::C / FF05::C on the interfaces. "
            "unicast-loopback: join no group and listen on 127.0.0.1:ssdp_port only "
            "(the demo and tests outside a network namespace; no packet leaves the host)."),
        Key("ssdp_port", integer(0, 65535), "1900",
            "UDP port of the SSDP listener (1900 in multicast mode; 0 picks a free port "
            "in unicast-loopback mode, for tests)."),
        Key("ipv6", boolean, "true", "Discover over IPv6 as well as IPv4."),
        Key("search_interval", integer(10, 86400), "300",
            "Seconds between periodic M-SEARCH rounds (jittered)."),
        Key("max_devices", integer(1, 100000), "256",
            "Most devices tracked at once; further announcements are dropped and logged."),
    ),
    _section(
        "console",
        "The local console: a web page and a JSON API on the gateway showing the "
        "proxier and every Virtual CWMP Device, with a parameter browser (README.rst, "
        "\"The local console\").",
        Key("enable", boolean, "false", "Serve the console."),
        Key("listen_address", ipAddress(), "127.0.0.1",
            "Address to listen on: a loopback address, or an address of a LAN interface "
            "(one named in [lan] interfaces; when that is empty, one holding no default "
            "route). Never a wildcard (0.0.0.0, ::): that would serve the WAN too."),
        Key("port", integer(0, 65535), "8547", "TCP port (0 picks a free port, for tests)."),
        Key("credentials", credentials, "",
            "user:password asked with HTTP Digest. Required unless listen_address is "
            "loopback; with none, every local user of this machine may use the console."),
        Key("certificate", filePath(), "",
            "PEM certificate the console serves HTTPS with (optional; with key). Empty: plain HTTP."),
        Key("key", filePath(), "", "PEM private key of certificate."),
    ),
    _section(
        "state",
        "Durable state: events not yet delivered, ParameterKeys, attributes, "
        "instance maps, credentials.",
        Key("directory", text(4096), "",
            "Directory (created with mode 0700). Empty: $STATE_DIRECTORY when systemd "
            "sets it (StateDirectory=), else /var/lib/proxier when run as root, else "
            "$XDG_STATE_HOME/proxier (~/.local/state/proxier); the demo uses that path "
            "with -demo appended."),
    ),
    _section(
        "log",
        "Logging (replaces the log options of twistd / twist).",
        Key("level", choice("debug", "info", "warn", "error", "critical"), "info",
            "Least severe level written.", reloadable=True),
        Key("format", choice("text", "json"), "text",
            "text: one human-readable line per event; json: one JSON object per line "
            "(every field of the event, the device identity included).", reloadable=True),
        Key("file", text(4096), "-", "File to append to (reopened on SIGHUP); - for standard output.",
            reloadable=True),
    ),
    _section(
        "protocols",
        "Which proxy protocol plugins run.",
        Key("enabled", words, "",
            "Protocol names (for example UPnP-DM). Empty: every installed plugin."),
    ),
    _section(
        "demo",
        "The built-in demonstration: simulated devices and a demo ACS on loopback.",
        Key("enable", choice("auto", "yes", "no"), "auto",
            "auto: run the demo when [acs] url is empty; yes: always; no: never."),
        Key("devices", integer(0, 1000), "3", "How many simulated UPnP DM devices."),
        Key("printer", choice("auto", "ippeveprinter", "fake", "no"), "auto",
            "The demo's printer, when the printer protocol is enabled: ippeveprinter (CUPS), "
            "fake (an in-process IPP printer), auto: ippeveprinter where it is installed, else fake; "
            "no: none."),
    ),
)


def load(path: Optional[str], extraSections: Iterable[Section] = (), *, required: bool = True,
         otherSections: bool = False) -> Config:
    """
    Read and validate the configuration.

    @param path: the INI file; C{None} for defaults only.
    @param extraSections: sections declared by protocol plugins.
    @param required: when C{False}, a missing file means defaults only.
    @param otherSections: when C{True}, a section neither core nor in
        C{extraSections} is left unread instead of refused: for a tool
        (C{proxier-ctl}) that reads core keys without loading every protocol
        plugin to learn their sections.
    @raise ConfigError: on a mistake (L{ConfigErrors} when there are several:
        every mistake of the file is reported at once).
    """
    sections = {s.name: s for s in CORE_SECTIONS}
    for extra in extraSections:
        if extra.name in sections:
            raise ConfigError(path, extra.name, None, "section declared twice (by a plugin?)")
        sections[extra.name] = extra

    parser = configparser.ConfigParser(
        interpolation=None,
        strict=True,
        empty_lines_in_values=False,
        inline_comment_prefixes=None,
        default_section="\x00no-default-section",
    )
    parser.optionxform = str  # keys are case-sensitive, as documented
    lineProblems: list[ConfigError] = []
    if path is not None:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            text, lineProblems = _closeHeaders(path, text)
            parser.read_string(text, source=path)
        except FileNotFoundError:
            if required:
                raise ConfigError(path, None, None, "no such file") from None
            path = None
        except PermissionError:
            raise ConfigError(path, None, None, "permission denied") from None
        except IsADirectoryError:
            raise ConfigError(path, None, None, "is a directory") from None
        except UnicodeDecodeError:
            raise ConfigError(path, None, None, "not UTF-8 text") from None
        except configparser.DuplicateSectionError as e:
            raise ConfigError(path, e.section, None, f"section repeated (line {e.lineno})") from None
        except configparser.DuplicateOptionError as e:
            raise ConfigError(path, e.section, e.option, f"key repeated (line {e.lineno})") from None
        except configparser.MissingSectionHeaderError as e:
            raise ConfigError(path, None, None, _lineProblem(e.lineno, e.line, "a key before any [section]")) from None
        except configparser.ParsingError as e:
            # every bad line (configparser reads on past them), then what is wrong with the rest
            lineProblems += [ConfigError(path, None, None, _lineProblem(lineno, line, "not 'key = value'"))
                             for lineno, line in getattr(e, "errors", [])[:50]]

    problems: list[ConfigError] = list(lineProblems)
    values: dict[str, dict[str, Any]] = {}
    for name in parser.sections():
        if name not in sections:
            if not otherSections:
                problems.append(ConfigError(path, name, None, "unknown section" + _didYouMean(name, sections)))
            continue
        for key in parser[name]:
            known = [k.name for k in sections[name].keys]
            if key not in known:
                problems.append(ConfigError(path, name, key, "unknown key" + _didYouMean(key, known)))
    bad: set[tuple[str, str]] = set()
    for name, section in sections.items():
        values[name] = {}
        for key in section.keys:
            raw = parser.get(name, key.name, fallback=key.default) if parser.has_section(name) else key.default
            try:
                values[name][key.name] = key.parse(raw.strip())
            except ValueError as e:
                problems.append(ConfigError(path, name, key.name, str(e)))
                bad.add((name, key.name))
                values[name][key.name] = key.parse(key.default)  # so that the rules below can still be checked
    given = frozenset((name, key) for name in parser.sections() for key in parser[name])
    config = Config(path, values, given)
    problems.extend(e for e in _crossCheck(config) if (e.section, e.key) not in bad)
    if problems:
        raise _several(problems)
    return config


def _several(problems: list[ConfigError]) -> ConfigError:
    return problems[0] if len(problems) == 1 else ConfigErrors(problems)


def _closeHeaders(path: str, text: str) -> tuple[str, list[ConfigError]]:
    """
    Every section header without its closing bracket, named as such; the
    text with them closed, so that the keys below are still checked in the
    section meant.
    """
    problems = []
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("[") and "]" not in stripped:
            problems.append(ConfigError(path, None, None,
                                        f"line {number}: the section header {stripped[:60]!r} has no closing ']'"))
            lines[number - 1] = stripped + "]"
    return "\n".join(lines), problems


def _lineProblem(lineno: Any, line: Any, otherwise: str) -> str:
    """What is wrong with one line that is not 'key = value': an unclosed [section] header is named as such."""
    text = line if isinstance(line, str) else ""
    if text.startswith(("'", '"')):  # configparser gives repr(line)
        try:
            import ast

            text = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            pass
    text = text.strip()
    if text.startswith("[") and "]" not in text:
        return f"line {lineno}: the section header {text[:60]!r} has no closing ']'"
    return f"line {lineno}: {otherwise}"


def _crossCheck(config: Config) -> list[ConfigError]:
    """Rules that involve more than one key: what each broken one says."""
    problems = []
    acs = config["acs"]
    if bool(acs["client_certificate"]) != bool(acs["client_key"]):
        missing = "client_key" if acs["client_certificate"] else "client_certificate"
        problems.append(ConfigError(config.path, "acs", missing, "client_certificate and client_key go together"))
    cr = config["connection_request"]
    if cr["credentials"] == "shared" and not (cr["username"] and cr["password"]):
        problems.append(ConfigError(
            config.path, "connection_request", "username", "credentials = shared needs username and password"
        ))
    console = config["console"]
    if bool(console["certificate"]) != bool(console["key"]):
        missing = "key" if console["certificate"] else "certificate"
        problems.append(ConfigError(config.path, "console", missing, "certificate and key go together"))
    address = ipaddress.ip_address(console["listen_address"])
    if address.is_unspecified:
        problems.append(ConfigError(config.path, "console", "listen_address",
                                    f"{address} would serve the WAN too: give a loopback or LAN address"))
    elif console["enable"] and not address.is_loopback and not console["credentials"][0]:
        problems.append(ConfigError(config.path, "console", "credentials",
                                    f"required when listen_address ({address}) is not loopback"))
    oui = config["device"]["oui"]
    if len(oui) != 6 or any(c not in "0123456789ABCDEF" for c in oui):
        problems.append(ConfigError(config.path, "device", "oui",
                                    f"{oui!r} is not six upper-case hexadecimal digits"))
    return problems


def _didYouMean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def stateDirectory(config: Config) -> str:
    """The state directory the config names, or the documented default."""
    configured = config["state"]["directory"]
    if configured:
        return os.path.expanduser(configured)
    # systemd's StateDirectory= (the Debian unit): a colon-separated list, ours first
    systemd = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if os.path.isabs(systemd):
        return systemd
    if os.geteuid() == 0:
        return "/var/lib/proxier"
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return os.path.join(base, "proxier")


def reloadableKeys(sections: Iterable[Section]) -> frozenset:
    """The (section, key) pairs SIGHUP applies at once (L{Key.reloadable})."""
    return frozenset((s.name, k.name) for s in sections for k in s.keys if k.reloadable)


def render(sections: Iterable[Section]) -> str:
    """
    The documented config file: every section and key with its default,
    commented out. C{etc/proxier.conf} is this text for the core sections
    and the installed plugins' (a test keeps them equal; regenerate with
    C{python -m proxier.tap > etc/proxier.conf}).
    """
    import textwrap

    lines = [
        "# proxier configuration.",
        "#",
        "# Every key is shown with its default, commented out: uncomment and edit to",
        "# change it. Unknown sections or keys stop the start, one line per mistake.",
        "# Lists are separated by commas or spaces. Booleans: true/false.",
        "#",
    ]
    sections = list(sections)
    applied = "; ".join(f"[{s.name}] " + ", ".join(k.name for k in s.keys if k.reloadable)
                        for s in sections if any(k.reloadable for k in s.keys))
    lines.extend("# " + l for l in textwrap.wrap(
        f"SIGHUP reloads this file. Applied at once: {applied or 'nothing'}. Every other key is read at start "
        "only: a reload names those that changed, for the next restart. A file with mistakes changes nothing "
        "(they are logged).", 76))
    for section in sections:
        lines.append("")
        lines.append(f"[{section.name}]")
        lines.extend("# " + l for l in textwrap.wrap(section.doc, 76))
        for key in section.keys:
            lines.append("#")
            lines.extend("# " + l for l in textwrap.wrap(key.doc, 76))
            lines.append(f"#{key.name} = {key.default}".rstrip())
    return "\n".join(lines) + "\n"
