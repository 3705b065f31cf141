"""
Proxy protocol plugins: every module in any C{proxier/plugins/} directory on
C{sys.path} that provides L{IProxyProtocol<proxier.interfaces.IProxyProtocol>}
objects (and L{twisted.plugin.IPlugin}) is a protocol the proxier can run.
"""

from twisted.plugin import pluginPackagePaths

__path__.extend(pluginPackagePaths(__name__))  # type: ignore[name-defined]
__all__: list[str] = []
