"""
Fuzz HTTP authentication (L{proxier.httpauth}): an ACS's
C{WWW-Authenticate} is parsed and answered, or the challenge refused with
L{AuthenticationError}; an C{Authorization} header sent to the Connection
Request URL gets a verdict, never an exception, and only a right answer
for a nonce the server issued is accepted.
"""

from __future__ import annotations

from twisted.trial import unittest

from proxier import httpauth
from tests.fuzz._harness import HEADER_TOKENS, Target, assertFuzzClean

_URI = "/cr/abc?ts=1&id=2"
_SECRET = b"k" * 32
_NOW = 1_780_000_000.0
_TOKENS = HEADER_TOKENS + (
    b"Digest ", b"Basic ", b"Bearer ", b"realm=", b"nonce=", b"opaque=", b"qop=", b'qop="auth,auth-int"', b"auth-int",
    b"algorithm=", b"MD5", b"MD5-sess", b"SHA-256", b"SHA-256-SESS", b"SHA-512-256", b"stale=TRUE", b"domain=",
    b"charset=UTF-8", b"userhash=true", b"username=", b"uri=", b"response=", b"nc=", b"00000001", b"ffffffff",
    b"cnonce=", b'\\"', b'""', b",,,,", b"=" * 10, b"\\",
)


class _Clock:
    def __init__(self) -> None:
        self.now = _NOW

    def __call__(self) -> float:
        return self.now


def answerChallenge(data: bytes) -> None:
    """
    L{httpauth.parseChallenges} on the header lines, then what the transport
    does: pick, answer, and answer again; the answer must read back with
    the server's parser, naming the same nonce.
    """
    lines = [line.decode("latin-1") for line in data.split(b"\n")]
    challenges = httpauth.parseChallenges(lines)
    for challenge in challenges:
        assert challenge.scheme == challenge.scheme.lower()
    chosen = httpauth.DigestClient.pick(challenges)
    if chosen is None:
        return
    client = httpauth.DigestClient("cpe", "secret", chosen, cnonce=lambda: "0a4f113b")
    for body in (b"", b"<soap/>"):
        header = client.authorization("POST", "/acs?x=1", body)
        parsed = httpauth.parseAuthorization(header)
        if len(header) <= httpauth.MAX_HEADER:
            assert parsed is not None and parsed.params.get("nonce") == chosen.params["nonce"], (header, parsed)


_SERVER = httpauth.DigestServer("proxier", secret=_SECRET, clock=_Clock(), nonceLifetime=300)


def checkAuthorization(data: bytes) -> None:
    """L{httpauth.DigestServer.check} as the Connection Request server calls it."""
    result = _SERVER.check("GET", _URI, data.decode("latin-1"), {"acs": "s3cret"}.get)
    assert isinstance(result, httpauth.CheckResult)
    if result.ok:
        assert result.username == "acs", result
        parsed = httpauth.parseAuthorization(data.decode("latin-1"))
        assert parsed is not None and parsed.scheme == "digest"


def _challengeSeeds() -> list[bytes]:
    return [
        _SERVER.challenge().encode(),
        _SERVER.challenge(stale=True).encode(),
        b'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
        b'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
        b'Digest realm="acs", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", algorithm=MD5-sess\n'
        b'Basic realm="acs", charset="UTF-8"',
        b'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
        b'Digest nonce="abc"',
    ]


def _authorizationSeeds() -> list[bytes]:
    out = []
    for qop in ("auth",):
        challenge = httpauth.parseChallenges([_SERVER.challenge()])[0]
        client = httpauth.DigestClient("acs", "s3cret", challenge, cnonce=lambda: "0a4f113b")
        out += [client.authorization("GET", _URI).encode() for _ in range(2)]
    out.append(httpauth.basicAuthorization("acs", "s3cret").encode())
    out.append(b'Digest username="acs", realm="proxier", nonce="x", uri="' + _URI.encode()
               + b'", response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="0a4f113b"')
    return out


TARGETS = [
    Target("digest-challenge", __name__, answerChallenge, (httpauth.AuthenticationError,), _challengeSeeds, _TOKENS),
    Target("digest-authorization", __name__, checkAuthorization, (), _authorizationSeeds, _TOKENS),
]


class DigestFuzzTests(unittest.TestCase):
    def test_challenge(self) -> None:
        """
        Mutated C{WWW-Authenticate} headers are parsed and answered (an
        answer the server side reads back with the same nonce) or refused
        with L{httpauth.AuthenticationError}, within a second each.
        """
        assertFuzzClean(self, TARGETS[0])

    def test_authorization(self) -> None:
        """
        Mutated C{Authorization} headers (Digest answers to our own nonces,
        Basic, forgeries) get a L{httpauth.CheckResult}, never an exception,
        within a second each; an accepted one names the known user.
        """
        assertFuzzClean(self, TARGETS[1])
