"""Hostile bearer tokens (SPEC §4, §5 "Bearer", RFC 8725): each one refused with a 401, a clear
error_description and a Bearer challenge, never a 500 and never a crash.

Forged tokens are signed with the server's own private key, read from the signing_keys table of
its SQLite store, so that each case is refused for the one flaw it carries and not merely for a
bad signature. A forged token without any flaw is accepted (test_control_forgery_is_accepted):
that is what makes every refusal below mean something.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import sqlite3
import time
import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import gh

ISSUER = "http://localhost:8000"


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key(data_dir):
    """(kid, Ed25519PrivateKey) of the server's current signing key, from its store."""
    db = sqlite3.connect(os.path.join(data_dir, "gatehouse.db"), timeout=5)
    try:
        rows = db.execute("SELECT kid, alg, private_jwk FROM signing_keys WHERE retired IS NULL "
                          "ORDER BY created DESC").fetchall()
    finally:
        db.close()
    if not rows:
        raise AssertionError("no signing key in the store")
    kid, alg, jwk_text = rows[0]
    if alg != "EdDSA":
        raise AssertionError(f"expected an EdDSA key, found {alg}")
    jwk = json.loads(jwk_text)
    return kid, Ed25519PrivateKey.from_private_bytes(b64u_decode(jwk["d"]))


class TokenAttackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server().start()
        cls.client = gh.http_client()
        cls.kid, cls.private_key = signing_key(cls.server.data_dir)
        r = cls.client.post(cls.server.url + "/auth/login", auth=("demo", "demo"))
        if r.status_code != 200:
            raise AssertionError(f"login failed: {r.status_code} {r.text}")
        cls.pair = r.json()
        parts = cls.pair["access_token"].split(".")
        cls.real_header = json.loads(b64u_decode(parts[0]))
        cls.real_claims = json.loads(b64u_decode(parts[1]))
        jwks = cls.client.get(cls.server.url + "/.well-known/jwks.json")
        cls.jwks_text = jwks.text
        cls.jwk = jwks.json()["keys"][0]

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.server.__exit__(None, None, None)

    def setUp(self):
        self.assertTrue(self.server.alive(), "the server died during an earlier test")

    # ---- making tokens ---------------------------------------------------------------------

    def claims(self, **changes):
        now = int(time.time())
        c = dict(self.real_claims)
        c.update({"iat": now, "nbf": now, "exp": now + 300, "jti": os.urandom(8).hex()})
        for name, value in changes.items():
            if value is None:
                c.pop(name, None)
            else:
                c[name] = value
        return c

    def header(self, **changes):
        h = {"alg": "EdDSA", "kid": self.kid, "typ": "at+jwt"}
        for name, value in changes.items():
            if value is None:
                h.pop(name, None)
            else:
                h[name] = value
        return h

    def sign(self, header, claims):
        """Signs with the server's real key; header and claims may be dicts or raw JSON text."""
        h = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
        c = claims if isinstance(claims, str) else json.dumps(claims, separators=(",", ":"))
        return self.sign_segments(b64u(h), b64u(c))

    def sign_segments(self, header_segment, payload_segment):
        """A token whose signature is right for exactly these (possibly non-base64url) segments."""
        signing_input = header_segment + "." + payload_segment
        return signing_input + "." + b64u(self.private_key.sign(signing_input.encode()))

    def hs256(self, secret, header=None, claims=None):
        h = json.dumps(header or self.header(alg="HS256"), separators=(",", ":"))
        c = json.dumps(claims or self.claims(), separators=(",", ":"))
        signing_input = b64u(h) + "." + b64u(c)
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + b64u(mac)

    # ---- asking ------------------------------------------------------------------------------

    def whoami(self, token):
        return self.client.get(self.server.url + "/auth/whoami",
                               headers={"Authorization": "Bearer " + token})

    def assert_refused(self, token, why=None, exact_error=True):
        """401, an error and a description in the body, and the same in the Bearer challenge.
        exact_error=False lets the body say invalid_request (tokens refused before decoding:
        over 8 KB or outside the token68 syntax); test_refused_before_decoding is strict there."""
        r = self.whoami(token)
        self.assertEqual(r.status_code, 401, f"{why}: {r.status_code} {r.text[:300]}")
        body = r.json()
        self.assertEqual(set(body), {"error", "error_description"}, body)
        if exact_error:
            self.assertEqual(body["error"], "invalid_token", f"{why}: {body}")
        else:
            self.assertIn(body["error"], ("invalid_token", "invalid_request"), f"{why}: {body}")
        description = body["error_description"]
        self.assertTrue(description and len(description) < 200, body)
        self.assertNotIn(token[:60], r.text, "the refusal quotes the token back")
        challenges = r.headers.get_list("www-authenticate")
        bearer = [c for c in challenges if c.startswith("Bearer ")]
        self.assertEqual(len(bearer), 1, challenges)
        m = re.match(r'Bearer realm="gatehouse", error="([^"]+)", '
                     r'error_description="((?:[^"\\]|\\.)*)"$', bearer[0])
        self.assertIsNotNone(m, bearer[0])
        if exact_error:
            self.assertEqual(m.group(1), body["error"], "the challenge and the body disagree")
        self.assertEqual(re.sub(r"\\(.)", r"\1", m.group(2)), description)
        self.assertTrue(any(c.startswith("Basic ") for c in challenges), challenges)
        return description

    # ---- the control -------------------------------------------------------------------------

    def test_control_forgery_is_accepted(self):
        """The forger is right: a flawless token signed with the store's key is accepted."""
        r = self.whoami(self.sign(self.header(), self.claims()))
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["user"], "demo")
        self.assertEqual(self.whoami(self.pair["access_token"]).status_code, 200)

    # ---- algorithm confusion -----------------------------------------------------------------

    def test_alg_none(self):
        claims = self.claims(roles=["Admin"])
        for alg in ["none", "None", "NONE", "nOnE"]:
            unsigned = b64u(json.dumps(self.header(alg=alg))) + "." + b64u(json.dumps(claims))
            self.assert_refused(unsigned + ".", f"alg {alg}, empty signature")
            self.assert_refused(unsigned + "." + b64u(b"x" * 64), f"alg {alg}, some signature")
        # alg none with the real signature of the same header+claims under EdDSA.
        signed = self.sign(self.header(alg="none"), claims)
        self.assert_refused(signed, "alg none, signed")
        # No alg at all.
        self.assert_refused(self.sign(self.header(alg=None), self.claims()), "no alg")

    def test_hs256_with_the_public_key_as_secret(self):
        x = b64u_decode(self.jwk["x"])
        key_object = re.search(r"\{[^{}]*\"kid\":\"" + re.escape(self.kid) + r"\"[^{}]*\}",
                               self.jwks_text).group(0)
        secrets = {
            "x bytes": x,
            "x text": self.jwk["x"].encode(),
            "JWK as served": key_object.encode(),
            "JWK re-serialized": json.dumps(self.jwk).encode(),
            "JWK compact": json.dumps(self.jwk, separators=(",", ":")).encode(),
            "JWKS document": self.jwks_text.encode(),
        }
        for name, secret in secrets.items():
            for kid in [self.kid, None]:
                token = self.hs256(secret, header=self.header(alg="HS256", kid=kid),
                                   claims=self.claims(roles=["Admin"]))
                self.assert_refused(token, f"HS256 keyed with {name}, kid {kid}")
        for alg in ["HS384", "HS512", "ES256", "RS256", "PS256"]:
            self.assert_refused(self.hs256(x, header=self.header(alg=alg)), alg)

    # ---- kid ---------------------------------------------------------------------------------

    def test_unknown_and_hostile_kids(self):
        for kid in ["unknown", "../../etc/passwd", "' OR 1=1 --", "\" OR \"\"=\"", "%00", "\u0000",
                    "x" * 300, self.kid + " ", " " + self.kid, self.kid[:-1], self.kid + "0",
                    self.kid.replace("-", "_"), 7, [self.kid], None]:
            with self.subTest(kid=kid):
                self.assert_refused(self.sign(self.header(kid=kid), self.claims()), f"kid {kid!r}")

    # ---- claims ------------------------------------------------------------------------------

    def test_time_claims(self):
        now = int(time.time())
        cases = {
            "expired an hour ago": self.claims(exp=now - 3600, iat=now - 4200, nbf=now - 4200),
            "expired beyond the 30 s leeway": self.claims(exp=now - 45, iat=now - 700, nbf=now - 700),
            "nbf in an hour": self.claims(nbf=now + 3600, exp=now + 4000),
            "iat in an hour": self.claims(iat=now + 3600, exp=now + 4000),
            "no exp": self.claims(exp=None),
            "exp a string": self.claims(exp=str(now + 300)),
            "exp fractional": self.claims(exp=now + 300.5),
            "exp huge": self.claims(exp=10 ** 30),
            "exp negative": self.claims(exp=-1),
        }
        for why, claims in cases.items():
            with self.subTest(why=why):
                self.assert_refused(self.sign(self.header(), claims), why)
        # Within the leeway both ways is fine: the rule is exact, not just "anything odd fails".
        ok = self.whoami(self.sign(self.header(), self.claims(exp=now - 5, nbf=now + 5)))
        self.assertEqual(ok.status_code, 200, ok.text)

    def test_wrong_audience_issuer_type_subject(self):
        cases = {
            "wrong aud": (self.header(), self.claims(aud="someone-else")),
            "aud list without us": (self.header(), self.claims(aud=["a", "b"])),
            "no aud": (self.header(), self.claims(aud=None)),
            "wrong iss": (self.header(), self.claims(iss="https://evil.example")),
            "iss with a trailing slash": (self.header(), self.claims(iss=ISSUER + "/")),
            "no iss": (self.header(), self.claims(iss=None)),
            "typ JWT": (self.header(typ="JWT"), self.claims()),
            "no typ": (self.header(typ=None), self.claims()),
            "typ at+jwt+x": (self.header(typ="at+jwtx"), self.claims()),
            "no sid": (self.header(), self.claims(sid=None)),
            "no sub": (self.header(), self.claims(sub=None)),
            "roles not a list": (self.header(), self.claims(roles="Admin")),
            "crit header": (self.header(crit=["exp"]), self.claims()),
            "jku header": (self.header(jku="https://evil.example/jwks"), self.claims()),
            "embedded jwk": (self.header(jwk=self.jwk), self.claims()),
        }
        for why, (header, claims) in cases.items():
            with self.subTest(why=why):
                self.assert_refused(self.sign(header, claims), why)
        ok = self.whoami(self.sign(self.header(), self.claims(aud=["other", "gatehouse"])))
        self.assertEqual(ok.status_code, 200, "an aud list that holds us is fine: " + ok.text)

    def test_tampered_payload(self):
        header, payload, signature = self.pair["access_token"].split(".")
        claims = json.loads(b64u_decode(payload))
        for change in [{"roles": ["Admin"]}, {"sub": "admin"}, {"exp": claims["exp"] + 86400}]:
            forged = dict(claims, **change)
            token = header + "." + b64u(json.dumps(forged, separators=(",", ":"))) + "." + signature
            self.assert_refused(token, f"tampered {change}")
        # A flipped bit in the signature, and a signature from another token.
        sig = bytearray(b64u_decode(signature))
        sig[10] ^= 1
        self.assert_refused(header + "." + payload + "." + b64u(bytes(sig)), "flipped bit")
        other = self.sign(self.header(), self.claims()).split(".")[2]
        self.assert_refused(header + "." + payload + "." + other, "someone else's signature")
        self.assertEqual(self.whoami(self.pair["access_token"]).status_code, 200)

    def test_duplicate_members(self):
        now = int(time.time())
        c = self.claims()
        body = json.dumps(c, separators=(",", ":"))[1:-1]
        dup_exp = '{"exp":%d,%s,"exp":%d}' % (now - 3600, body.replace('"exp":%d,' % c["exp"], ""),
                                               now + 300)
        self.assertEqual(dup_exp.count('"exp"'), 2)
        dup_roles = '{%s,"roles":["Admin"]}' % body
        dup_alg = '{"alg":"none","alg":"EdDSA","kid":"%s","typ":"at+jwt"}' % self.kid
        dup_alg2 = '{"alg":"EdDSA","kid":"%s","typ":"at+jwt","alg":"EdDSA"}' % self.kid
        dup_kid = '{"alg":"EdDSA","kid":"nope","typ":"at+jwt","kid":"%s"}' % self.kid
        for why, (h, p) in {"duplicate exp": (self.header(), dup_exp),
                            "duplicate roles": (self.header(), dup_roles),
                            "duplicate alg": (dup_alg, c),
                            "duplicate alg, same value": (dup_alg2, c),
                            "duplicate kid": (dup_kid, c)}.items():
            with self.subTest(why=why):
                self.assert_refused(self.sign(h, p), why)

    # ---- cross-use -----------------------------------------------------------------------

    def test_refresh_token_as_access_token_and_back(self):
        self.assert_refused(self.pair["refresh_token"], "a refresh token as a bearer token")
        r = self.client.post(self.server.url + "/auth/refresh",
                             json={"refresh_token": self.pair["access_token"]})
        self.assertEqual(r.status_code, 401, r.text)
        self.assertEqual(r.json()["error"], "invalid_grant")
        self.assertTrue(r.json()["error_description"])
        # An API key-shaped string as a bearer token.
        self.assert_refused("gh_0123456789abcdef_" + "0" * 64, "an API key as a bearer token")

    # ---- shape and encoding ----------------------------------------------------------------

    def test_malformed_compact_serializations(self):
        h, p, s = self.pair["access_token"].split(".")
        cases = {
            "two segments": h + "." + p,
            "four segments": h + "." + p + "." + s + "." + s,
            "one segment": h,
            "empty header": "." + p + "." + s,
            "empty payload": h + ".." + s,
            "trailing dot": h + "." + p + "." + s + ".",
            "'+' in the header": h[:5] + "+" + h[6:] + "." + p + "." + s,
            "'+' in the payload": h + "." + p[:7] + "+" + p[8:] + "." + s,
            "'/' in the signature": h + "." + p + "." + s[:9] + "/" + s[10:],
            "'=' padding on the signature": h + "." + p + "." + s + "==",
            "'=' padding, whole token": h + "." + p + "." + s + "=",
            "non-zero trailing bits": h + "." + p + "." + s[:-1] + chr(ord(s[-1]) ^ 1),
            "impossible length": h + "." + p + "." + s + "A",
            "header not JSON": b64u("alg=EdDSA") + "." + p + "." + s,
            "header a JSON array": b64u('["EdDSA"]') + "." + p + "." + s,
            "header JSON with trailing data":
                b64u(json.dumps(self.real_header) + "x") + "." + p + "." + s,
            "header not UTF-8": b64u(b'{"alg":"EdDSA","kid":"\xff"}') + "." + p + "." + s,
            "~ in a segment": h + "." + p + "~." + s,
        }
        for why, token in cases.items():
            with self.subTest(why=why):
                self.assert_refused(token, why)

    def test_lenient_base64_with_a_valid_signature(self):
        """'+', '/' and '=' pass the HTTP token68 syntax; a segment using them is not base64url
        even when the signature is right for the text as sent (a lenient decoder would accept)."""
        claims = self.claims()
        for i in range(12):  # claims whose standard base64 has both '+' and '/' in it
            claims["pad"] = "a" * i + "???>>>~~~"
            text = json.dumps(claims, separators=(",", ":")).encode()
            std = base64.b64encode(text).decode().rstrip("=")
            if "+" in std and "/" in std and len(text) % 3:
                break
        else:
            self.fail("no padding gave '+' and '/'")
        padded = base64.urlsafe_b64encode(text).decode()
        self.assertTrue(padded.endswith("=") or len(text) % 3 == 0)
        header = b64u(json.dumps(self.header(), separators=(",", ":")))
        control = self.sign_segments(header, b64u(text))
        self.assertEqual(self.whoami(control).status_code, 200, "the control token is accepted")
        cases = {"standard base64 ('+', '/') payload": self.sign_segments(header, std)}
        if padded.endswith("="):
            cases["padded payload"] = self.sign_segments(header, padded)
        h_text = json.dumps(self.header(), separators=(",", ":")) + " " * (3 - len(
            json.dumps(self.header(), separators=(",", ":"))) % 3 or 3) + " "
        cases["padded header"] = self.sign_segments(
            base64.urlsafe_b64encode(h_text.encode()).decode(), b64u(text))
        sig_padded = control + "=" * ((-len(control.rsplit(".", 1)[1])) % 4 or 2)
        cases["padded signature"] = sig_padded
        for why, token in cases.items():
            with self.subTest(why=why):
                # An '=' inside the token is outside token68: refused before decoding.
                self.assert_refused(token, why, exact_error="=" not in token.rstrip("="))

    def test_oversized_tokens(self):
        h, p, s = self.pair["access_token"].split(".")
        # 12 KB: over the 8 KB token limit, under the 16 KB header limit.
        big_claims = self.claims(pad="x" * 9000)
        self.assert_refused(self.sign(self.header(), big_claims), "a 12 KB token", exact_error=False)
        self.assert_refused("a" * 12 * 1024, "12 KB of letters", exact_error=False)
        self.assert_refused(b64u("[" * 10000) + "." + b64u(json.dumps(self.claims())) + ".AAAA",
                            "a header of 10000 '[' (13 KB)", exact_error=False)
        # 10000 nested objects make an 80 KB header: over the header limit.
        deep = (b64u('{"a":' * 10000 + "1" + "}" * 10000) + "." + b64u(json.dumps(self.claims()))
                + ".AAAA")
        r = self.whoami(deep)
        self.assertEqual(r.status_code, 431, r.text[:200])
        # A 1 MB Authorization header: the header limit (431), not a crash.
        raw = self.server.exchange(b"GET /auth/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                   + b"A" * (1 << 20) + b"\r\nConnection: close\r\n\r\n")
        self.assertEqual(gh.status_of(raw), 431, raw[:200])

    def test_refused_before_decoding(self):
        """Tokens refused by the bearer scheme's own checks (size, token68 syntax) are refused
        tokens like any other: RFC 6750 §3.1 invalid_token, the same code in body and challenge."""
        h, p, s = self.pair["access_token"].split(".")
        cases = {
            "12 KB token": self.sign(self.header(), self.claims(pad="x" * 9000)),
            "'=' inside a segment": h + "." + p + "=." + s,
            "a comma": h + "," + p + "." + s,
            "a quote": h + "." + p + '"' + "." + s,
        }
        for why, token in cases.items():
            with self.subTest(why=why):
                self.assert_refused(token, why)

    def test_huge_token_at_introspect(self):
        for size in [900 * 1024, (1 << 20)]:
            with self.subTest(size=size):
                token = "eyJ" + "A" * (size - 6) + ".x.y"
                r = self.client.post(self.server.url + "/auth/introspect", auth=("admin", "admin"),
                                     data={"token": token})
                self.assertIn(r.status_code, (200, 413), r.text[:200])
                if r.status_code == 200:
                    self.assertEqual(r.json(), {"active": False})
                else:
                    self.assertTrue(r.json().get("error"), r.text)
        # The same huge token as a refresh token and at the revocation endpoint.
        token = "ghr_" + "a" * (800 * 1024)
        r = self.client.post(self.server.url + "/auth/refresh", json={"refresh_token": token})
        self.assertIn(r.status_code, (400, 401, 413), r.text[:200])
        r = self.client.post(self.server.url + "/auth/revoke", data={"token": token})
        self.assertIn(r.status_code, (200, 413), r.text[:200])

    def test_json_bombs(self):
        now = int(time.time())
        s = b64u(b"x" * 64)
        payload = b64u(json.dumps(self.claims()))
        deep_objects = lambda n: '{"a":' * n + "1" + "}" * n
        cases = {
            # Under the 8 KB token limit, so that the JSON reader itself meets them (the 10000-deep
            # ones are in test_oversized_tokens and below, at /auth/introspect).
            "header of 5000 '['": b64u("[" * 5000) + "." + payload + "." + s,
            "header of 800 nested objects": b64u(deep_objects(800)) + "." + payload + "." + s,
            "header with a deep member": b64u('{"alg":"EdDSA","x":' + "[" * 2000 + "]" * 2000 + "}")
                                         + "." + payload + "." + s,
            "header 17 deep": b64u('{"alg":"EdDSA","x":' + "[" * 16 + "]" * 16 + "}")
                              + "." + payload + "." + s,
            # Properly signed, so the claims parser is reached after the signature check.
            "signed claims 800 deep": self.sign(self.header(),
                                                '{"exp":%d,"a":%s}' % (now + 300, deep_objects(800))),
            "signed claims of 5000 '['": self.sign(self.header(), "[" * 5000),
            "signed claims with 20-deep roles": self.sign(
                self.header(), json.dumps(self.claims())[:-1] + ',"x":' + "[" * 20 + "]" * 20 + "}"),
        }
        for why, token in cases.items():
            with self.subTest(why=why):
                self.assertLessEqual(len(token), 8192, why)
                self.assert_refused(token, why)
        # The 10000-deep bombs in a body, where no header limit stops them first.
        for bomb in ["[" * 10000, deep_objects(10000)]:
            token = b64u(bomb) + "." + payload + "." + s
            r = self.client.post(self.server.url + "/auth/introspect", auth=("admin", "admin"),
                                 data={"token": token})
            self.assertEqual(r.status_code, 200, r.text[:200])
            self.assertEqual(r.json(), {"active": False})

    def test_zz_server_still_healthy(self):
        """Runs last: after the whole corpus the server answers and still accepts a real token."""
        r = self.client.get(self.server.url + "/healthz")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(self.whoami(self.pair["access_token"]).status_code, 200)
        self.assertTrue(self.server.alive())
        self.assertNotIn(" 500 ", self.server.stdout())
        self.assertNotIn('"status":500', self.server.stdout())


if __name__ == "__main__":
    unittest.main()
