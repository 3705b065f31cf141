"""
HTTP clients on fake transports, for the servers' tests under hostile
clients (L{proxier.httpguard}): a connection is a site's protocol on a
L{StringTransport}, driven byte by byte if need be, with no socket and no
reactor — so thousands of them, and a slowloris with a L{task.Clock}, run in
a moment.
"""

from __future__ import annotations

from typing import Any, Optional

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure


class FakeConnection:
    """
    One client connection to C{site} from C{host}; C{refused} when the site
    would not build a protocol for it.
    """

    _port = 40000

    def __init__(self, site: Any, host: str = "192.0.2.10") -> None:
        FakeConnection._port += 1
        self.address = (IPv6Address if ":" in host else IPv4Address)("TCP", host, FakeConnection._port)
        self.protocol = site.buildProtocol(self.address)
        self.refused = self.protocol is None
        self.transport = StringTransport(peerAddress=self.address,
                                         hostAddress=IPv4Address("TCP", "127.0.0.1", 7547))
        self._read = 0
        self.lost = False
        if self.protocol is not None:
            self.protocol.makeConnection(self.transport)

    @property
    def closing(self) -> bool:
        """The server closed (or is closing) this connection."""
        return self.refused or self.transport.disconnecting or self.lost

    def send(self, data: bytes) -> None:
        """Bytes from the client (dropped, as a closed socket would, once the server closes)."""
        if not self.closing:
            self.protocol.dataReceived(data)

    def finish(self) -> None:
        """Tell the server the connection is gone (a real transport would, after a close)."""
        if self.protocol is not None and not self.lost:
            self.lost = True
            self.protocol.connectionLost(Failure(ConnectionDone()))

    def received(self) -> bytes:
        """What the server wrote since the last call."""
        data = self.transport.value()
        new, self._read = data[self._read:], len(data)
        return new

    def request(self, method: str, path: str, headers: Optional[dict[str, str]] = None, body: bytes = b"") -> bytes:
        """Send one whole request; the server's answer (it answers at once: the resources here are synchronous)."""
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method in ("POST", "NOTIFY"):
            lines.append(f"Content-Length: {len(body)}")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        return self.received()


def status(answer: bytes) -> int:
    """The status code of a response (0 for none)."""
    if not answer.startswith(b"HTTP/1."):
        return 0
    return int(answer.split(b" ", 2)[1])


def header(answer: bytes, name: str) -> Optional[str]:
    """One header's value from a response."""
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None
