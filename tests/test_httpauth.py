"""Tests for L{proxier.httpauth}: challenges, Basic, Digest client (RFC vectors) and server."""

from __future__ import annotations

from twisted.trial import unittest

from proxier.httpauth import (
    MAX_HEADER,
    AuthenticationError,
    Challenge,
    DigestClient,
    DigestServer,
    basicAuthorization,
    parseAuthorization,
    parseChallenges,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class ChallengeParsingTests(unittest.TestCase):
    def test_severalChallengesInOneHeader(self) -> None:
        """Basic and Digest challenges in one header value are told apart, params lower-cased."""
        challenges = parseChallenges(['Basic realm="acs", Digest Realm="acs, main", nonce="n\\"1", '
                                      "qop=\"auth,auth-int\", algorithm=MD5"])
        self.assertEqual(challenges, [
            Challenge("basic", {"realm": "acs"}),
            Challenge("digest", {"realm": "acs, main", "nonce": 'n"1', "qop": "auth,auth-int", "algorithm": "MD5"}),
        ])

    def test_severalHeaders(self) -> None:
        """Challenges from several header values add up; unreadable ones are skipped."""
        challenges = parseChallenges(['Digest realm="a", nonce="x', "Negotiate", 'Digest realm="b", nonce="y"',
                                      "Digest " + "x" * MAX_HEADER])
        self.assertEqual([c.scheme for c in challenges], ["negotiate", "digest"])
        self.assertEqual(challenges[1].params["realm"], "b")

    def test_authorizationParsing(self) -> None:
        """An Authorization header is read back; garbage gives None."""
        auth = parseAuthorization('Digest username="u", uri="/p?q=1,2", nc=00000001')
        self.assertEqual(auth, Challenge("digest", {"username": "u", "uri": "/p?q=1,2", "nc": "00000001"}))
        self.assertEqual(parseAuthorization("Basic dTpw").params["token"], "dTpw")
        self.assertIsNone(parseAuthorization('Digest username="u'))
        self.assertIsNone(parseAuthorization("Digest user"))
        self.assertIsNone(parseAuthorization(""))
        self.assertIsNone(parseAuthorization("Digest " + "a=b," * MAX_HEADER))


class ClientTests(unittest.TestCase):
    def test_basic(self) -> None:
        """Basic credentials as in RFC 7617 section 2."""
        self.assertEqual(basicAuthorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")

    def test_rfc2617Vector(self) -> None:
        """The RFC 2617 section 3.5 example gives the published response."""
        challenge = parseChallenges(['Digest realm="testrealm@host.com", qop="auth,auth-int", '
                                     'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
                                     'opaque="5ccc069c403ebaf9f0171e9517f40e41"'])[0]
        client = DigestClient("Mufasa", "Circle Of Life", challenge, cnonce=lambda: "0a4f113b")
        auth = parseAuthorization(client.authorization("GET", "/dir/index.html"))
        self.assertEqual(auth.params["response"], "6629fae49393a05397450978507c4ef1")
        self.assertEqual(auth.params["nc"], "00000001")
        self.assertEqual(auth.params["opaque"], "5ccc069c403ebaf9f0171e9517f40e41")
        self.assertNotIn("algorithm", auth.params)

    def test_rfc7616Vectors(self) -> None:
        """The RFC 7616 section 3.9.1 example, with MD5 and with SHA-256."""
        for algorithm, expected in (("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
                                    ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")):
            challenge = Challenge("digest", {"realm": "http-auth@example.org", "qop": "auth, auth-int",
                                             "algorithm": algorithm,
                                             "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                                             "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"})
            client = DigestClient("Mufasa", "Circle of Life", challenge,
                                  cnonce=lambda: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
            auth = parseAuthorization(client.authorization("GET", "/dir/index.html"))
            self.assertEqual(auth.params["response"], expected, algorithm)
            self.assertEqual(auth.params["algorithm"], algorithm)

    def test_nonceCountIncreases(self) -> None:
        """Each request with the same challenge counts nc up."""
        client = DigestClient("u", "p", Challenge("digest", {"realm": "r", "nonce": "n", "qop": "auth"}))
        counts = [parseAuthorization(client.authorization("POST", "/acs")).params["nc"] for _ in range(3)]
        self.assertEqual(counts, ["00000001", "00000002", "00000003"])

    def test_variants(self) -> None:
        """MD5-sess, auth-int and the qop-less RFC 2069 form are answered consistently."""
        import hashlib

        def md5(s: str) -> str:
            return hashlib.md5(s.encode()).hexdigest()

        sess = DigestClient("u", "p", Challenge("digest", {"realm": "r", "nonce": "n", "qop": "auth",
                                                           "algorithm": "MD5-sess"}), cnonce=lambda: "c")
        ha1 = md5(f"{md5('u:r:p')}:n:c")
        expected = md5(f"{ha1}:n:00000001:c:auth:{md5('POST:/x')}")
        self.assertEqual(parseAuthorization(sess.authorization("POST", "/x")).params["response"], expected)

        integrity = DigestClient("u", "p", Challenge("digest", {"realm": "r", "nonce": "n", "qop": "auth-int"}),
                                 cnonce=lambda: "c")
        ha2 = md5(f"POST:/x:{hashlib.md5(b'body').hexdigest()}")
        expected = md5(f"{md5('u:r:p')}:n:00000001:c:auth-int:{ha2}")
        self.assertEqual(parseAuthorization(integrity.authorization("POST", "/x", b"body")).params["response"],
                         expected)

        old = DigestClient("u", "p", Challenge("digest", {"realm": "r", "nonce": "n"}))
        params = parseAuthorization(old.authorization("POST", "/x")).params
        self.assertEqual(params["response"], md5(f"{md5('u:r:p')}:n:{md5('POST:/x')}"))
        self.assertNotIn("qop", params)
        self.assertNotIn("nc", params)

    def test_unanswerable(self) -> None:
        """Unknown algorithms or qops, or no nonce, are refused with AuthenticationError."""
        for params in ({"nonce": "n", "algorithm": "SHA-512-256"}, {"nonce": "n", "qop": "auth-conf"},
                       {"realm": "r"}):
            self.assertRaises(AuthenticationError, DigestClient, "u", "p", Challenge("digest", params))
        self.assertRaises(AuthenticationError, DigestClient, "u", "p", Challenge("basic", {"nonce": "n"}))

    def test_pickStrongest(self) -> None:
        """Of several Digest challenges the strongest answerable one is picked."""
        md5 = Challenge("digest", {"nonce": "a"})
        sha = Challenge("digest", {"nonce": "b", "algorithm": "SHA-256"})
        weird = Challenge("digest", {"nonce": "c", "algorithm": "SHA-512"})
        self.assertIs(DigestClient.pick([md5, weird, sha]), sha)
        self.assertIs(DigestClient.pick([Challenge("basic"), md5]), md5)
        self.assertIsNone(DigestClient.pick([Challenge("basic"), weird]))


class ServerTests(unittest.TestCase):
    URI = "/cr/abc?ts=1&id=2"

    def setUp(self) -> None:
        self.clock = FakeClock()
        self.server = DigestServer("proxier", secret=b"k" * 32, clock=self.clock, nonceLifetime=60, maxNonces=4)
        self.passwords = {"acs": "s3cret"}

    def answer(self, username: str = "acs", password: str = "s3cret", uri: str = URI,
               challenge: str | None = None) -> tuple[DigestClient, str]:
        c = parseChallenges([challenge or self.server.challenge()])[0]
        client = DigestClient(username, password, c)
        return client, client.authorization("GET", uri)

    def check(self, header: str, uri: str = URI):  # type: ignore[no-untyped-def]
        return self.server.check("GET", uri, header, self.passwords.get)

    def test_challenge(self) -> None:
        """The challenge offers MD5 with qop=auth, an opaque and a fresh nonce each time."""
        first, second = (parseChallenges([self.server.challenge()])[0] for _ in range(2))
        self.assertEqual(first.params["qop"], "auth")
        self.assertEqual(first.params["algorithm"], "MD5")
        self.assertEqual(first.params["realm"], "proxier")
        self.assertNotEqual(first.params["nonce"], second.params["nonce"])
        self.assertEqual(parseChallenges([self.server.challenge(stale=True)])[0].params["stale"], "true")

    def test_accepts(self) -> None:
        """A right answer, with the query string in the uri, is accepted, and so is the next nc."""
        client, header = self.answer()
        result = self.check(header)
        self.assertTrue(result.ok, result.reason)
        self.assertEqual(result.username, "acs")
        self.assertTrue(self.check(client.authorization("GET", self.URI)).ok)

    def test_uriMustMatchExactly(self) -> None:
        """A digest uri without the query string (or any other) is refused."""
        _, header = self.answer(uri="/cr/abc")
        self.assertFalse(self.check(header).ok)
        _, header = self.answer()
        self.assertIn("uri", self.check(header, uri="/cr/abc?ts=1&id=3").reason)

    def test_wrongPasswordOrUser(self) -> None:
        """A wrong password or an unknown user is refused."""
        self.assertFalse(self.check(self.answer(password="guess")[1]).ok)
        self.assertIn("unknown", self.check(self.answer(username="root")[1]).reason)

    def test_replay(self) -> None:
        """The same nonce count twice is a replay."""
        _, header = self.answer()
        self.assertTrue(self.check(header).ok)
        second = self.check(header)
        self.assertFalse(second.ok)
        self.assertIn("replayed", second.reason)

    def test_ncHexDigitsOnly(self) -> None:
        """
        An nc that int(nc, 16) reads but is not 8LHEX (an underscore, a sign,
        spaces, Unicode digits) is refused, even with a right response for it.
        """
        from proxier.httpauth import _digestResponse

        for nc in ("0000_002", " +000002", "0000000²", "٠٠٠٠٠٠٠٢", "0000000g"):
            client, header = self.answer()
            params = parseAuthorization(header).params
            response = _digestResponse("MD5", "acs", "proxier", "s3cret", "GET", self.URI, params["nonce"], nc,
                                       params["cnonce"], "auth")
            forged = header.replace("nc=00000001", f"nc={nc}").replace(params["response"], response)
            result = self.check(forged)
            self.assertFalse(result.ok, nc)
            self.assertIn("nc", result.reason)
        self.assertTrue(self.check(self.answer()[1]).ok)

    def test_expiredNonceIsStale(self) -> None:
        """A right answer with an expired nonce is refused as stale (retry without asking the user)."""
        _, header = self.answer()
        self.clock.now += 61
        result = self.check(header)
        self.assertFalse(result.ok)
        self.assertTrue(result.stale)

    def test_staleOnlyForRightAnswers(self) -> None:
        """A wrong password with an expired nonce is not 'stale': it is wrong."""
        _, header = self.answer(password="guess")
        self.clock.now += 61
        self.assertFalse(self.check(header).stale)

    def test_forgedNonce(self) -> None:
        """A nonce this server did not make (another secret) is refused."""
        other = DigestServer("proxier", secret=b"x" * 32, clock=self.clock)
        _, header = self.answer(challenge=other.challenge())
        self.assertIn("not issued", self.check(header).reason)
        _, header = self.answer(challenge='Digest realm="proxier", qop="auth", nonce="!!"')
        self.assertFalse(self.check(header).ok)

    def test_otherRealmOrScheme(self) -> None:
        """Another realm, Basic credentials or a partial Digest answer are refused."""
        _, header = self.answer(challenge=DigestServer("other", secret=b"k" * 32, clock=self.clock).challenge())
        self.assertIn("realm", self.check(header).reason)
        self.assertFalse(self.check(basicAuthorization("acs", "s3cret")).ok)
        self.assertFalse(self.check('Digest username="acs", realm="proxier"').ok)
        self.assertFalse(self.check("garbage").ok)

    def test_qopRequired(self) -> None:
        """An RFC 2069 answer (no qop) is refused: the server asks for qop=auth."""
        nonce = parseChallenges([self.server.challenge()])[0].params["nonce"]
        client = DigestClient("acs", "s3cret", Challenge("digest", {"realm": "proxier", "nonce": nonce}))
        self.assertIn("qop", self.check(client.authorization("GET", self.URI)).reason)

    def test_storeBoundedRefusesNotForgets(self) -> None:
        """
        The store of used nonces never holds more than its cap; when it is full
        of live nonces a new one is refused (busy, not a challenge), while every
        nonce held stays refused on replay — once the nonces expire, room comes
        back (issue 11: refuse, don't forget).
        """
        headers = [self.answer()[1] for _ in range(6)]
        for header in headers[:4]:
            self.assertTrue(self.check(header).ok)
        full = self.check(headers[4])
        self.assertEqual((full.ok, full.busy, full.stale), (False, True, False))
        self.assertEqual(self.server.usedNonces, 4)
        for header in headers[:4]:
            self.assertIn("replayed", self.check(header).reason)
        self.clock.now += 61
        self.assertEqual(self.server.usedNonces, 0)
        self.assertTrue(self.check(self.answer()[1]).ok)
        for header in headers[:4]:
            self.assertTrue(self.check(header).stale)  # expired: a stale challenge, never accepted

    def test_noReplayAfterManyOthers(self) -> None:
        """
        A captured Authorization header stays refused for its nonce's whole
        lifetime however many other requests authenticate meanwhile (issue 11:
        a cache of 1024 forgot it after 1100 others).
        """
        server = DigestServer("proxier", secret=b"k" * 32, clock=self.clock, nonceLifetime=300)
        self.server = server
        _, captured = self.answer()
        start = self.clock.now
        self.assertTrue(self.check(captured).ok)
        for i in range(1100):
            self.clock.now += 0.2
            self.assertTrue(self.check(self.answer()[1]).ok, i)
        self.assertLess(self.clock.now - start, 300)  # the captured nonce is still within its lifetime
        replay = self.check(captured)
        self.assertFalse(replay.ok)
        self.assertIn("replayed", replay.reason)
        self.assertLessEqual(server.usedNonces, 1101)

    def test_clockSetBack(self) -> None:
        """A wall clock set back does not revive an expired nonce: digest time never goes back."""
        _, header = self.answer()
        self.assertTrue(self.check(header).ok)
        self.clock.now += 61
        self.assertTrue(self.check(header).stale)
        self.assertEqual(self.server.usedNonces, 0)
        self.clock.now -= 61
        result = self.check(header)
        self.assertFalse(result.ok)
        self.assertTrue(result.stale)
        self.assertTrue(self.check(self.answer()[1]).ok)  # nonces made meanwhile still work
