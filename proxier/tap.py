# -*- test-case-name: tests.test_tap -*-
"""
C{twistd proxier} and C{python -m twisted proxier}: options, the config file,
the service tree.

Everything that can be wrong with the configuration (a key, a value, the
state directory, a protocol name) is found while the options are parsed, and
reported as one line on standard error with a non-zero exit — never a
traceback.
"""

from __future__ import annotations

import sys
from typing import Any, Mapping, Optional, Sequence

from twisted.python import usage

from proxier import config as configmod
from proxier._version import __version__
from proxier.log import LEVELS, observerFromConfig
from proxier.registry import protocolPlugins, selectProtocols
from proxier.store import Store, StoreError, Writer

__all__ = ["Options", "makeService", "pluginSections", "configSections", "demoActive", "demoLogSection"]


def pluginSections(plugins: Sequence[Any]) -> list[configmod.Section]:
    """The config sections the protocol plugins C{plugins} declare (L{IProxyProtocol.configSection})."""
    return [p.configSection for p in plugins if p.configSection is not None]


def configSections(plugins: Optional[Sequence[Any]] = None) -> list[configmod.Section]:
    """
    The whole schema of the config file: the core sections, then those of
    C{plugins} (by default every installed protocol plugin). C{python -m
    proxier.tap} writes it documented: C{etc/proxier.conf}.
    """
    if plugins is None:
        plugins = protocolPlugins()
    return list(configmod.CORE_SECTIONS) + pluginSections(plugins)


class Options(usage.Options):
    synopsis = "[--config PATH]"
    longdesc = (
        "Run the CWMP CPE Proxier: discover UPnP DM devices (and other protocols' "
        "devices) on the LAN and present each to the ACS as a Virtual CWMP Device "
        "(TR-069 Annex J, TR-330). Every setting is in the config file; "
        "etc/proxier.conf documents each key. Logging follows its [log] section, "
        "not the runner's log options."
    )
    optParameters = [
        [
            "config",
            "c",
            None,
            f"Path of the INI config file. Default: {configmod.DEFAULT_PATH} if it exists, "
            "else built-in defaults (which run the demo).",
        ],
    ]

    def opt_version(self) -> None:
        """Print the proxier's version and exit."""
        print(f"proxier {__version__}")
        sys.exit(0)

    def postOptions(self) -> None:
        from proxier.deferredtls import installReactor

        # before anything imports the reactor (C{python -m twisted} imports it once these options are parsed):
        # pyOpenSSL then waits for the first TLS use
        installReactor()
        path = self["config"]
        required = path is not None
        if path is None:
            path = configmod.DEFAULT_PATH
        self.plugins = protocolPlugins()
        try:
            self.config = configmod.load(path, pluginSections(self.plugins), required=required)
            self.protocols = _protocols(self.config, self.plugins)
            self.store = _openStore(self.config)
        except configmod.ConfigError as e:
            raise SystemExit(_lines(e)) from None


def _lines(error: Exception) -> str:
    """One 'proxier: ' line per mistake (a config file reports all of its mistakes at once)."""
    return "\n".join(f"proxier: {line}" for line in str(error).splitlines() or [""])


def _protocols(config: configmod.Config, plugins: list) -> list:
    try:
        return selectProtocols(plugins, config["protocols"]["enabled"])
    except KeyError as e:
        installed = ", ".join(p.name for p in plugins) or "none"
        raise configmod.ConfigError(
            config.path, "protocols", "enabled", f"no protocol plugin named {e.args[0]!r} (installed: {installed})"
        ) from None


def demoActive(config: configmod.Config) -> bool:
    """
    Whether the configuration asks for the demo: C{[demo] enable = yes}, or
    C{auto} with no C{[acs] url}. Decided here, so that a plain start never
    imports L{proxier.demo} (nor the simulator behind it).
    """
    enable = config["demo"]["enable"]
    return enable == "yes" or (enable == "auto" and not config["acs"]["url"])


def demoLogSection(config: configmod.Config) -> Mapping[str, Any]:
    """
    The C{[log]} section for the demo: as configured, except that the level
    is C{warn} unless the file sets one — the demo's own lines are what a
    user reads.
    """
    section = dict(config["log"])
    if not config.given("log", "level"):
        section["level"] = "warn"
    return section


def _openStore(config: configmod.Config) -> Store:
    directory = configmod.stateDirectory(config)
    if demoActive(config) and not config["state"]["directory"]:
        # The demo's simulated devices and demo ACS never share a gateway's real state.
        directory += "-demo"
    try:
        return Store.open(directory)
    except StoreError as e:
        raise configmod.ConfigError(config.path, "state", "directory", str(e)) from None


def makeService(options: Options, reactor: Optional[Any] = None) -> Any:
    """The service tree for parsed C{options} (in demo mode when no ACS is configured: L{proxier.demo})."""
    from proxier.service import ProxierService

    demoMode = demoActive(options.config)
    logSection = demoLogSection(options.config) if demoMode else options.config["log"]
    logSection = _daemonLogFile(options, logSection)
    observer = observerFromConfig(logSection)
    _handLoggingToTwist(options, observer, logSection["level"])
    try:
        if demoMode:
            from proxier import demo

            service = demo.makeDemoService(options.config, options.store, options.protocols, reactor=reactor)
        else:
            service = ProxierService(options.config, options.store, options.protocols, reactor=reactor)
    except (configmod.ConfigError, StoreError) as e:
        # StoreError: a state file that cannot be read; starting on defaults would overwrite it
        raise SystemExit(_lines(e)) from None
    if options.config["console"]["enable"] and not demoMode:  # the demo has its own, always
        from proxier.console.server import addConsole

        addConsole(service)
    service.logObserver = observer
    # while it runs, the daemon's state changes are coalesced and written off the reactor thread (proxier.store)
    service.writer = Writer(service.reactor)
    # reload the config (README.rst, "Reloading the configuration"); not the demo, whose config is made up
    service.handleSIGHUP = not demoMode
    return service


def _daemonLogFile(options: Options, logSection: Any) -> Any:
    """
    twistd without C{--nodaemon} points standard output at /dev/null: with
    C{[log] file = -} every line would be lost. Say so on standard error
    (still the terminal here, before twistd forks) and log to C{proxier.log}
    in the state directory instead.
    """
    parent = getattr(options, "parent", None)
    if parent is None or "nodaemon" not in parent or parent["nodaemon"] or logSection["file"] != "-":
        return logSection
    import os

    path = os.path.join(options.store.path, "proxier.log")
    sys.stderr.write(f"proxier: [log] file = - but twistd runs as a daemon (no --nodaemon), where standard output "
                     f"goes nowhere: logging to {path} instead; set [log] file, or run with --nodaemon\n")
    return dict(logSection, file=path)


def _handLoggingToTwist(options: Options, observer: Any, level: Optional[str] = None) -> None:
    """
    Under C{python -m twisted} the runner starts logging after the service is
    made, from its own options: give it the configured observer and level.
    (Under twistd, L{ProxierService.setServiceParent} does the same through
    the application's ILogObserver component.)
    """
    parent = getattr(options, "parent", None)
    if parent is None or "fileLogObserverFactory" not in parent:
        return
    parent["fileLogObserverFactory"] = lambda _file: observer
    # the observer filters by the configured level itself, which SIGHUP may lower: let twist pass everything
    parent["logLevel"] = LEVELS["debug"]


if __name__ == "__main__":
    sys.stdout.write(configmod.render(configSections()))
