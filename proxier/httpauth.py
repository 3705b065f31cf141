# -*- test-case-name: tests.test_httpauth,tests.test_cwmp_connreq,tests.test_cwmp_transport -*-
"""
HTTP authentication, sans-IO, for every HTTP client and server here (towards
the ACS, the ACS's file servers, printers; the Connection Request server):
parsing C{WWW-Authenticate} challenges, answering them (Basic, and Digest per
RFC 7616 / RFC 2617 with MD5, MD5-sess, SHA-256 and SHA-256-sess,
C{qop=auth} or C{auth-int}, or the RFC 2069 form without qop), and checking
Digest answers on the server side of Connection Requests.

treq 22.2 (Debian 12) has no Digest, and an ACS (or its file server, or a
printer) may demand it of the client (TR-069 3.4.4); the Connection Request
server must demand it of the ACS (TR-069 3.2.2, INTEROP §CWMP 7). Both live
here, with no I/O, and nothing of a protocol above HTTP.

Server nonces are stateless (a timestamp, random bytes and an HMAC under a
per-server secret), so an unauthenticated request costs no memory at all.
A nonce that authenticated a request is remembered, with the last nonce
count it came with, until its lifetime ends — never forgotten earlier, or a
captured C{Authorization} header would work again (issue 11: a cache that
dropped its oldest entries gave a replay after 1100 other requests). The
store is bounded: when it is full of nonces still alive, a request with a
nonce it does not hold is refused (C{busy}) until some expire.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import os
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

__all__ = [
    "Challenge",
    "parseChallenges",
    "parseAuthorization",
    "basicAuthorization",
    "DigestClient",
    "DigestServer",
    "CheckResult",
    "AuthenticationError",
    "MAX_HEADER",
]

MAX_HEADER = 4096  # the longest Authorization / WWW-Authenticate header looked at
_NC = re.compile(r"[0-9A-Fa-f]{8}", re.ASCII)  # RFC 7616 3.4: nc-value = 8LHEX


class AuthenticationError(ValueError):
    """A challenge the client cannot answer (unknown scheme, algorithm or qop)."""


@dataclass(frozen=True)
class Challenge:
    """One challenge of a C{WWW-Authenticate} header: a scheme and its parameters."""

    scheme: str  # lower case
    params: dict = field(default_factory=dict)  # keys lower case


def _skipSpaces(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _token(text: str, i: int) -> tuple[str, int]:
    start = i
    while i < len(text) and text[i] not in ' \t,="':
        i += 1
    return text[start:i], i


def _quoted(text: str, i: int) -> tuple[str, int]:
    # text[i] == '"'
    i += 1
    out = []
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise ValueError("unterminated quoted string")


def _params(text: str, i: int, stopAtScheme: bool) -> tuple[dict, int]:
    """Read C{name=value} pairs from C{i}; stop before a token that starts a new challenge."""
    params: dict[str, str] = {}
    while True:
        i = _skipSpaces(text, i)
        while i < len(text) and text[i] == ",":
            i = _skipSpaces(text, i + 1)
        if i >= len(text):
            return params, i
        name, j = _token(text, i)
        if not name:
            raise ValueError(f"unexpected {text[i]!r} at {i}")
        k = _skipSpaces(text, j)
        if k >= len(text) or text[k] != "=":
            if stopAtScheme:
                return params, i  # a new scheme starts here
            raise ValueError(f"parameter {name!r} without value")
        k = _skipSpaces(text, k + 1)
        if k < len(text) and text[k] == '"':
            value, k = _quoted(text, k)
        else:
            value, k = _token(text, k)
        params[name.lower()] = value
        i = k


def parseChallenges(headers: Iterable[str]) -> list[Challenge]:
    """
    Every challenge of one or more C{WWW-Authenticate} header values. A value
    that cannot be parsed is skipped.
    """
    challenges = []
    for header in headers:
        if len(header) > MAX_HEADER:
            continue
        try:
            i = 0
            while True:
                i = _skipSpaces(header, i)
                while i < len(header) and header[i] == ",":
                    i = _skipSpaces(header, i + 1)
                if i >= len(header):
                    break
                scheme, i = _token(header, i)
                if not scheme:
                    break
                params, i = _params(header, i, stopAtScheme=True)
                challenges.append(Challenge(scheme.lower(), params))
        except ValueError:
            continue
    return challenges


def parseAuthorization(header: str) -> Optional[Challenge]:
    """An C{Authorization} header as a scheme and its parameters; C{None} if unreadable."""
    if len(header) > MAX_HEADER:
        return None
    try:
        i = _skipSpaces(header, 0)
        scheme, i = _token(header, i)
        if not scheme:
            return None
        if scheme.lower() == "basic":
            return Challenge("basic", {"token": header[i:].strip()})
        params, _ = _params(header, i, stopAtScheme=False)
    except ValueError:
        return None
    return Challenge(scheme.lower(), params)


def basicAuthorization(username: str, password: str) -> str:
    """The C{Authorization} value of HTTP Basic (RFC 7617, UTF-8)."""
    raw = f"{username}:{password}".encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


# RFC 7616 section 3.3: the hash behind each algorithm name.
_ALGORITHMS: dict[str, Callable[[bytes], "hashlib._Hash"]] = {
    "MD5": hashlib.md5,
    "MD5-SESS": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-256-SESS": hashlib.sha256,
}
# Preference when an ACS offers several Digest challenges.
_STRENGTH = {"SHA-256": 3, "SHA-256-SESS": 3, "MD5": 1, "MD5-SESS": 1}


def _h(algorithm: str, data: str) -> str:
    return _ALGORITHMS[algorithm](data.encode("utf-8")).hexdigest()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _digestResponse(algorithm: str, username: str, realm: str, password: str, method: str, uri: str,
                    nonce: str, nc: str, cnonce: str, qop: Optional[str], body: bytes = b"") -> str:
    ha1 = _h(algorithm, f"{username}:{realm}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = _h(algorithm, f"{ha1}:{nonce}:{cnonce}")
    if qop == "auth-int":
        bodyHash = _ALGORITHMS[algorithm](body).hexdigest()
        ha2 = _h(algorithm, f"{method}:{uri}:{bodyHash}")
    else:
        ha2 = _h(algorithm, f"{method}:{uri}")
    if qop:
        return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _h(algorithm, f"{ha1}:{nonce}:{ha2}")


class DigestClient:
    """
    The client side of one Digest challenge: answers it for any number of
    requests, counting C{nc} up, until the server sends a new challenge.
    """

    def __init__(self, username: str, password: str, challenge: Challenge,
                 cnonce: Callable[[], str] = lambda: os.urandom(8).hex()) -> None:
        """
        @raise AuthenticationError: when the challenge asks for an algorithm
            or qop this client does not speak, or lacks its nonce.
        """
        params = challenge.params
        if challenge.scheme != "digest" or "nonce" not in params:
            raise AuthenticationError("not a Digest challenge with a nonce")
        algorithm = params.get("algorithm", "MD5").upper()
        if algorithm not in _ALGORITHMS:
            raise AuthenticationError(f"Digest algorithm {algorithm} is not supported")
        qops = [q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()]
        if qops and "auth" in qops:
            self.qop: Optional[str] = "auth"
        elif qops and "auth-int" in qops:
            self.qop = "auth-int"
        elif qops:
            raise AuthenticationError(f"Digest qop {','.join(qops)} is not supported")
        else:
            self.qop = None
        self.username = username
        self.password = password
        self.algorithm = algorithm
        self.realm = params.get("realm", "")
        self.nonce = params["nonce"]
        self.opaque = params.get("opaque")
        self.algorithmGiven = "algorithm" in params
        self._cnonce = cnonce
        self._nc = 0

    @staticmethod
    def pick(challenges: Iterable[Challenge]) -> Optional[Challenge]:
        """The strongest Digest challenge this client can answer, if any."""
        best, bestStrength = None, 0
        for c in challenges:
            if c.scheme != "digest" or "nonce" not in c.params:
                continue
            strength = _STRENGTH.get(c.params.get("algorithm", "MD5").upper(), 0)
            if strength > bestStrength:
                best, bestStrength = c, strength
        return best

    def authorization(self, method: str, uri: str, body: bytes = b"") -> str:
        """The C{Authorization} value for one request (C{uri}: the request-target as sent)."""
        self._nc += 1
        nc = f"{self._nc:08x}"
        cnonce = self._cnonce() if self.qop or self.algorithm.endswith("-SESS") else ""
        response = _digestResponse(self.algorithm, self.username, self.realm, self.password, method, uri,
                                   self.nonce, nc, cnonce, self.qop, body)
        parts = [
            f"username={_quote(self.username)}",
            f"realm={_quote(self.realm)}",
            f"nonce={_quote(self.nonce)}",
            f"uri={_quote(uri)}",
            f"response={_quote(response)}",
        ]
        if self.algorithmGiven:
            parts.append(f"algorithm={self.algorithm}")
        if self.opaque is not None:
            parts.append(f"opaque={_quote(self.opaque)}")
        if self.qop:
            parts += [f"qop={self.qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        return "Digest " + ", ".join(parts)


@dataclass(frozen=True)
class CheckResult:
    """
    The verdict on one C{Authorization} header.

    @ivar ok: the request is authenticated (as C{username}).
    @ivar stale: the answer was right but its nonce expired: challenge again
        with C{stale=true} (RFC 7616 3.3), the client retries without asking
        its user.
    @ivar busy: the answer was right, but the store of used nonces is full
        of live ones: refused without a challenge (answer 503), for now.
    @ivar reason: why not, for the log.
    """

    ok: bool
    username: str = ""
    stale: bool = False
    reason: str = ""
    busy: bool = False


class DigestServer:
    """
    The server side of Digest (MD5, C{qop=auth}, as ACSes speak it towards a
    Connection Request URL). Stateless nonces valid for C{nonceLifetime}
    seconds; each used nonce is held with its last nonce count until it
    expires, at most C{maxNonces} of them (then new ones are refused, C{busy}).

    Time is the highest the clock has shown: a wall clock set back does not
    bring an expired — and so forgotten — nonce back to life.
    """

    def __init__(self, realm: str, *, secret: Optional[bytes] = None, clock: Callable[[], float] = time.time,
                 nonceLifetime: float = 300.0, maxNonces: int = 8192) -> None:
        self.realm = realm
        self._secret = secret if secret is not None else os.urandom(32)
        self._clock = clock
        self._now = float("-inf")
        self._lifetime = nonceLifetime
        self._maxNonces = maxNonces
        self._counts: dict[bytes, int] = {}  # used nonce (its signature) → the last nonce count
        self._expiries: list[tuple[float, bytes]] = []  # heap: when each used nonce stops being valid
        self.opaque = hashlib.sha256(self._secret + b"opaque").hexdigest()[:32]

    @property
    def usedNonces(self) -> int:
        """How many used nonces are held (they are all still valid)."""
        self._expire(self._time())
        return len(self._counts)

    def _time(self) -> float:
        self._now = max(self._now, self._clock())
        return self._now

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:16]

    def makeNonce(self) -> str:
        payload = struct.pack(">d", self._time()) + os.urandom(8)
        return base64.urlsafe_b64encode(payload + self._sign(payload)).decode("ascii").rstrip("=")

    def _nonce(self, nonce: str) -> Optional[tuple[float, bytes]]:
        """When C{nonce} was made and its signature (its key), or C{None} if it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (ValueError, TypeError):
            return None
        if len(raw) != 32:
            return None
        payload, signature = raw[:16], raw[16:]
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        (made,) = struct.unpack(">d", payload[:8])
        return made, signature

    def _expire(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            _, key = heapq.heappop(self._expiries)
            self._counts.pop(key, None)

    def challenge(self, stale: bool = False) -> str:
        """A C{WWW-Authenticate} value with a fresh nonce."""
        header = (f"Digest realm={_quote(self.realm)}, qop=\"auth\", nonce={_quote(self.makeNonce())}, "
                  f"opaque={_quote(self.opaque)}, algorithm=MD5")
        if stale:
            header += ", stale=true"
        return header

    def check(self, method: str, uri: str, header: str, lookup: Callable[[str], Optional[str]]) -> CheckResult:
        """
        Check an C{Authorization} header.

        @param uri: the request-target exactly as received, query included
            (the digest C{uri} must equal it, INTEROP §CWMP 7).
        @param lookup: the password of a username, or C{None} for an unknown
            user.
        """
        auth = parseAuthorization(header)
        if auth is None:
            return CheckResult(False, reason="unreadable Authorization header")
        if auth.scheme != "digest":
            return CheckResult(False, reason=f"{auth.scheme} authentication is not accepted")
        p = auth.params
        for name in ("username", "realm", "nonce", "uri", "response"):
            if name not in p:
                return CheckResult(False, reason=f"Digest answer without {name}")
        if p["realm"] != self.realm:
            return CheckResult(False, reason="wrong realm")
        if p["uri"] != uri:
            return CheckResult(False, reason="digest uri differs from the request-target")
        algorithm = p.get("algorithm", "MD5").upper()
        if algorithm != "MD5":
            return CheckResult(False, reason=f"algorithm {algorithm} not offered")
        qop = p.get("qop")
        if qop != "auth":
            return CheckResult(False, reason="qop=auth is required")
        nc, cnonce = p.get("nc", ""), p.get("cnonce", "")
        if len(nc) != 8 or not cnonce:
            return CheckResult(False, reason="nc and cnonce are required with qop=auth")
        if _NC.fullmatch(nc) is None:  # int(nc, 16) would take '0000_002', ' +00002' and Unicode digits
            return CheckResult(False, reason="nc is not hexadecimal")
        count = int(nc, 16)
        nonce = self._nonce(p["nonce"])
        if nonce is None:
            return CheckResult(False, reason="nonce not issued here")
        made, key = nonce
        password = lookup(p["username"])
        if password is None:
            return CheckResult(False, reason="unknown username")
        expected = _digestResponse("MD5", p["username"], self.realm, password, method, uri, p["nonce"], nc,
                                   cnonce, "auth")
        if not hmac.compare_digest(expected.encode("ascii"), p["response"].lower().encode("ascii", "replace")):
            return CheckResult(False, reason="wrong digest response (password?)")
        now = self._time()
        if now > made + self._lifetime:  # the very sum the store forgets it by
            return CheckResult(False, stale=True, reason="nonce expired")
        if made > now:
            return CheckResult(False, reason="nonce from the future")  # only with our secret elsewhere
        self._expire(now)
        last = self._counts.get(key)
        if last is None:
            if len(self._counts) >= self._maxNonces:
                return CheckResult(False, busy=True,
                                   reason=f"{len(self._counts)} nonces in use, the most held: refused until some expire")
            heapq.heappush(self._expiries, (made + self._lifetime, key))
        elif count <= last:
            return CheckResult(False, reason="nonce count replayed")
        self._counts[key] = count
        return CheckResult(True, username=p["username"])
