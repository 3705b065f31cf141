# -*- test-case-name: tests.test_imports -*-
"""
pyOpenSSL and cryptography loaded with the first TLS use, not at start
(issue 19: about 12 MiB of the 65 MiB an idle proxier took, where most
configurations use no TLS at all: an http:// ACS, no console certificate,
no DeviceProtection device, no ipps:// printer).

Twisted imports pyOpenSSL whenever it is installed, used or not: the reactor
(C{twisted.internet.tcp} for startTLS, C{posixbase} for listenSSL and
connectSSL), C{twisted.internet.endpoints} (wrapClientTLS) and
C{twisted.web.client} (its HTTPS policies). Each of these modules has a
branch for a Python without pyOpenSSL. L{installReactor}, called by the
tap before anything imports the reactor, imports them with pyOpenSSL
hidden, so that each takes that branch, and then watches for the first
import of pyOpenSSL or of Twisted's TLS modules: once they are loaded,
whoever needs them first, the names those modules bind from them are bound (L{_BOUND}), so that listenSSL, connectSSL,
wrapClientTLS and Agent's https work as after an eager import. Until
then, C{wrapClientTLS} (which refuses to run without TLSMemoryBIOFactory)
finds a stand-in that loads them at the connection
(L{_loadingTLSMemoryBIOFactory}): the connection creators of the LAN client
(a DeviceProtection device's, an ipps printer's pins) are the proxier's own
and load nothing of Twisted's TLS before it. listenSSL and connectSSL have
no stand-in: their callers take their context factories from L{ssl}. What
stays missing is startTLS on a TCP connection (its mixins are base classes
of C{tcp}'s), which the proxier never uses.

Where the reactor is already imported (trial, C{twistd --reactor}), this
does nothing: pyOpenSSL is loaded already.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Optional, Sequence

__all__ = ["installReactor", "ssl"]

#: What each module binds from pyOpenSSL when imported with it: (name, source module, source name). A source
#: module missing from this Twisted (twisted.protocols._sni before Twisted 24) binds nothing.
_BOUND: dict[str, tuple[tuple[str, str, str], ...]] = {
    "twisted.internet.posixbase": (
        ("tls", "twisted.protocols.tls", ""),
        ("_tls", "twisted.protocols.tls", ""),
        ("ssl", "twisted.internet.ssl", ""),
        ("_ssl", "twisted.internet.ssl", ""),
    ),
    "twisted.internet.endpoints": (
        ("SSLError", "OpenSSL.SSL", "Error"),
        ("Certificate", "twisted.internet.ssl", "Certificate"),
        ("CertificateOptions", "twisted.internet.ssl", "CertificateOptions"),
        ("KeyPair", "twisted.internet.ssl", "KeyPair"),
        ("PrivateCertificate", "twisted.internet.ssl", "PrivateCertificate"),
        ("optionsForClientTLS", "twisted.internet.ssl", "optionsForClientTLS"),
        ("trustRootFromCertificates", "twisted.internet.ssl", "trustRootFromCertificates"),
        ("SNIConnectionCreator", "twisted.protocols._sni", "SNIConnectionCreator"),
        ("_TLSServerEndpoint", "twisted.protocols._sni", "TLSServerEndpoint"),
        ("autoReloadingDirectoryOfPEMs", "twisted.protocols._sni", "autoReloadingDirectoryOfPEMs"),
        ("_TLSMemoryBIOFactory", "twisted.protocols.tls", "TLSMemoryBIOFactory"),
        ("TLSMemoryBIOFactory", "twisted.protocols.tls", "TLSMemoryBIOFactory"),
    ),
    "twisted.web.client": (
        ("SSL", "OpenSSL.SSL", ""),
        ("CertificateOptions", "twisted.internet.ssl", "CertificateOptions"),
        ("optionsForClientTLS", "twisted.internet.ssl", "optionsForClientTLS"),
        ("platformTrust", "twisted.internet.ssl", "platformTrust"),
    ),
}


def installReactor() -> bool:
    """
    Import the reactor and the modules of L{_BOUND} without pyOpenSSL, and
    bind its names into them when it is first imported. False (nothing done)
    when the reactor or pyOpenSSL is imported already.
    """
    if "twisted.internet.reactor" in sys.modules or "OpenSSL" in sys.modules:
        return False
    sys.modules["OpenSSL"] = None  # type: ignore[assignment]  # import fails: the modules take their no-TLS branch
    try:
        for name in ("twisted.internet.reactor", *_BOUND):
            importlib.import_module(name)
    finally:
        del sys.modules["OpenSSL"]
    setattr(sys.modules["twisted.internet.endpoints"], "TLSMemoryBIOFactory", _loadingTLSMemoryBIOFactory)
    sys.meta_path.insert(0, _FirstImport())
    return True


def ssl() -> ModuleType:
    """
    C{twisted.internet.ssl}, pyOpenSSL with it: the one import of both for
    the proxier's own TLS (the ACS, the console), made when it is first used.
    """
    return importlib.import_module("twisted.internet.ssl")


def _loadingTLSMemoryBIOFactory(*args: Any, **kwargs: Any) -> Any:
    """
    C{twisted.internet.endpoints.TLSMemoryBIOFactory} until Twisted's TLS
    modules are loaded: loads them (L{_bind} then binds the real one in its
    place) and makes the real one. Without it C{wrapClientTLS} raised
    NotImplementedError ("OpenSSL not available") for a connection creator
    that is not Twisted's, which loads none of them.
    """
    return importlib.import_module("twisted.protocols.tls").TLSMemoryBIOFactory(*args, **kwargs)


def _bind() -> None:
    """Bind into each module of L{_BOUND} what it would have bound with pyOpenSSL imported first."""
    for name, names in _BOUND.items():
        module = sys.modules[name]
        for attribute, sourceName, sourceAttribute in names:
            try:
                source = importlib.import_module(sourceName)
            except ImportError:
                continue
            setattr(module, attribute, getattr(source, sourceAttribute) if sourceAttribute else source)


#: Twisted's TLS modules, which import one another and pyOpenSSL: the names are bound once the outermost of them
#: is loaded, never while one of them is half-initialised.
_TLS_MODULES = frozenset(("OpenSSL", "twisted.internet._sslverify", "twisted.internet.ssl", "twisted.protocols.tls",
                          "twisted.protocols._sni"))


class _FirstImport(importlib.abc.MetaPathFinder):
    """
    Finds Twisted's TLS modules (L{_TLS_MODULES}) with loaders that bind the
    names of L{_BOUND} (L{_bind}) when the first of them is loaded, then
    leaves.
    """

    def __init__(self) -> None:
        self.loading = 0

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None,
                  target: Optional[ModuleType] = None) -> Any:
        if fullname not in _TLS_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _BindingLoader(spec.loader, self)
        return spec

    def loaded(self) -> None:
        if self.loading == 0 and self in sys.meta_path:
            sys.meta_path.remove(self)
            _bind()


class _BindingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, finder: _FirstImport) -> None:
        self._loader = loader
        self._finder = finder

    def create_module(self, spec: Any) -> Optional[ModuleType]:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._finder.loading += 1
        try:
            self._loader.exec_module(module)
        finally:
            self._finder.loading -= 1
        self._finder.loaded()
