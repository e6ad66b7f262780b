"""Tokens, sessions and API keys over HTTP (SPEC §4, §6): login, refresh rotation and its grace
window, reuse detection, logout, the OAuth token/revoke/introspect endpoints, session and API-key
management, JWKS and discovery, the auth-adventures compat routes, the `session` and
`signing-key` commands against a running server, and a restart on the same data directory.

Every server here is started by the test that needs it; every secret a test sees is checked not
to appear in that server's stdout (access log) or stderr (diagnostics, audit) afterwards.
"""
import base64
import json
import re
import time
import unittest

import gh

ISSUER = "http://localhost:8000"  # [server] public_url's default
REFRESH_RE = re.compile(r"^ghr_([0-9a-f]{32})_([1-9][0-9]*)_([A-Za-z0-9_-]+)$")
PAIR_KEYS = {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
SESSION_KEYS = {"id", "user", "method", "created", "last_used", "expires", "current"}
API_KEY_FIELDS = {"id", "name", "user", "created", "last_used", "expires", "roles"}
ACCESS_TTL = 600
REFRESH_TTL = 14 * 86400

# Users made for this file (the demo users' passwords are printed by design in the banner, so the
# "no password in the logs" check uses these).
CAROL_PW = "Carol-pw-7f3a9c1e"   # roles Admin + User: the narrowing tests
ERIN_PW = "Erin-pw-2b8d4e6f"     # sessions revoked with the CLI
FRANK_PW = "Frank-pw-9c0a1b3d"   # wrong-password attempts


def b64url_json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def jwt_parts(token):
    """(header, claims) of a compact JWT, unverified."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AssertionError(f"not a compact JWS: {token[:40]}...")
    return b64url_json(parts[0]), b64url_json(parts[1])


class Api:
    """httpx against one server, with the credentials each call names."""

    def __init__(self, server):
        self.server = server
        self.client = gh.http_client()

    def close(self):
        self.client.close()

    def request(self, method, path, bearer=None, apikey=None, basic=None, headers=None, **kw):
        headers = dict(headers or {})
        if bearer is not None:
            headers["Authorization"] = "Bearer " + bearer
        if apikey is not None:
            headers["X-API-Key"] = apikey
        return self.client.request(method, self.server.url + path, headers=headers, auth=basic, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def whoami(self, **kw):
        return self.get("/auth/whoami", **kw)

    def jwks(self):
        r = self.get("/.well-known/jwks.json")
        if r.status_code != 200:
            raise AssertionError(f"JWKS answered {r.status_code}: {r.text}")
        return r.json()

    def kids(self):
        return [k["kid"] for k in self.jwks()["keys"]]


class SecretsMixin:
    """Remembers every secret a test handled; asserts none of them reached a server's logs."""

    def remember(self, *values):
        for v in values:
            if isinstance(v, dict):
                for k in ("access_token", "refresh_token", "key"):
                    if k in v:
                        self.remember(v[k])
            elif v:
                self.secrets.add(v)

    def login(self, api, user, password, how="basic", expect=200):
        if how == "basic":
            r = api.post("/auth/login", basic=(user, password))
        elif how == "json":
            r = api.post("/auth/login", json={"username": user, "password": password})
        else:
            r = api.post("/auth/login", data={"username": user, "password": password})
        self.assertEqual(r.status_code, expect, f"login {user} ({how}): {r.text}")
        if expect == 200:
            self.remember(r.json())
            return r.json()
        return r

    def refresh(self, api, refresh_token, expect=200):
        r = api.post("/auth/refresh", json={"refresh_token": refresh_token})
        self.assertEqual(r.status_code, expect, r.text)
        if r.status_code == 200:
            self.remember(r.json())
        return r

    def assert_logs_hold_no_secrets(self, server, passwords=()):
        logs = {"stdout": server.stdout(), "stderr": server.stderr()}
        needles = set(passwords)
        for secret in self.secrets:
            needles.add(secret)
            if secret.count(".") == 2:  # a JWT: its signature alone is enough to give it away
                needles.add(secret.rsplit(".", 1)[1])
            m = REFRESH_RE.match(secret)
            if m:  # the MAC is the secret part; the session id is logged on purpose (audit)
                needles.add(m.group(3))
            m = gh.API_KEY_RE.match(secret)
            if m:
                needles.add(m.group(2))
        self.assertGreater(len(needles), 0)
        for name, text in logs.items():
            self.assertTrue(text, f"the server's {name} is empty: nothing was checked")
            for needle in needles:
                self.assertNotIn(needle, text,
                                 f"a secret ({needle[:12]}...) appears in the server's {name}")


def assert_invalid_token(test, r):
    """401 for a refused bearer token: invalid_token in the body and in the Bearer challenge."""
    test.assertEqual(r.status_code, 401, r.text)
    body = r.json()
    test.assertEqual(body["error"], "invalid_token", body)
    test.assertTrue(body.get("error_description"), body)
    bearer = [c for c in r.headers.get_list("www-authenticate") if c.startswith("Bearer ")]
    test.assertEqual(len(bearer), 1, r.headers.get_list("www-authenticate"))
    test.assertIn('error="invalid_token"', bearer[0])
    test.assertIn("error_description=", bearer[0])


class TokenLifecycleTest(SecretsMixin, unittest.TestCase):
    """One server (compat routes on) for the class; each test makes its own sessions and keys."""

    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server(config_text="[compat]\nauth_adventures = true\n").start()
        cls.secrets = set()
        cls.api = Api(cls.server)
        cls.server.cli(["user", "add", "carol", "--role", "Admin", "--role", "User",
                        "--password-stdin"], stdin=CAROL_PW + "\n")
        cls.server.cli(["user", "add", "erin", "--password-stdin"], stdin=ERIN_PW + "\n")
        cls.server.cli(["user", "add", "frank", "--password-stdin"], stdin=FRANK_PW + "\n")
        for user, pw in [("carol", CAROL_PW), ("erin", ERIN_PW), ("frank", FRANK_PW)]:
            gh.wait_status(cls.server.url + "/auth/whoami", 200, auth=(user, pw))

    @classmethod
    def tearDownClass(cls):
        cls.api.close()
        cls.server.__exit__(None, None, None)

    def setUp(self):
        self.assertTrue(self.server.alive(), "the server died during an earlier test")

    # ---- login ---------------------------------------------------------------------------

    def check_pair(self, pair, user, roles):
        self.assertEqual(set(pair), PAIR_KEYS, pair)
        self.assertEqual(pair["token_type"], "Bearer")
        self.assertTrue(ACCESS_TTL - 2 <= pair["expires_in"] <= ACCESS_TTL, pair["expires_in"])
        self.assertTrue(REFRESH_TTL - 2 <= pair["refresh_expires_in"] <= REFRESH_TTL,
                        pair["refresh_expires_in"])
        m = REFRESH_RE.match(pair["refresh_token"])
        self.assertIsNotNone(m, pair["refresh_token"])
        header, claims = jwt_parts(pair["access_token"])
        self.assertEqual(header["alg"], "EdDSA")
        self.assertEqual(header["typ"], "at+jwt")
        self.assertIn(header["kid"], self.api.kids())
        for claim in ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "client_id", "scope",
                      "roles"]:
            self.assertIn(claim, claims)
        self.assertEqual(claims["iss"], ISSUER)
        self.assertEqual(claims["sub"], user)
        self.assertEqual(claims["aud"], "gatehouse")
        self.assertEqual(claims["exp"] - claims["iat"], ACCESS_TTL)
        self.assertLessEqual(claims["nbf"], claims["iat"])
        self.assertLessEqual(abs(claims["iat"] - time.time()), 5)
        self.assertEqual(claims["sid"], m.group(1), "the refresh token names the token's session")
        self.assertEqual(claims["roles"], roles)
        return header, claims, int(m.group(2))

    def test_login_basic_json_and_form(self):
        sids = set()
        for how in ["basic", "json", "form"]:
            with self.subTest(how=how):
                r = self.api.post("/auth/login", basic=("demo", "demo")) if how == "basic" else \
                    self.api.post("/auth/login", json={"username": "demo", "password": "demo"}) \
                    if how == "json" else \
                    self.api.post("/auth/login", data={"username": "demo", "password": "demo"})
                self.assertEqual(r.status_code, 200, r.text)
                self.assertEqual(r.headers.get("cache-control"), "no-store")
                self.assertTrue(r.headers.get("content-type", "").startswith("application/json"))
                pair = r.json()
                self.remember(pair)
                _, claims, generation = self.check_pair(pair, "demo", ["User"])
                self.assertEqual(generation, 1)
                sids.add(claims["sid"])
                who = self.api.whoami(bearer=pair["access_token"])
                self.assertEqual(who.status_code, 200, who.text)
                self.assertEqual(who.json(), {"user": "demo", "scheme": "bearer", "roles": ["User"],
                                              "session": claims["sid"],
                                              "expires_at": claims["exp"]})
        self.assertEqual(len(sids), 3, "each login is a session of its own")
        pair = self.login(self.api, "admin", "admin")
        self.check_pair(pair, "admin", ["Admin"])

    def test_login_refusals(self):
        # Wrong password with Basic: 401 and a Basic challenge (a browser may ask again).
        r = self.api.post("/auth/login", basic=("frank", "not-" + FRANK_PW))
        self.assertEqual(r.status_code, 401, r.text)
        self.assertEqual(r.json()["error"], "invalid_credentials")
        self.assertTrue(r.json().get("error_description"))
        self.assertTrue(any(c.startswith("Basic ") for c in r.headers.get_list("www-authenticate")),
                        r.headers)
        self.assertNotIn("access_token", r.text)
        # Wrong password in a body: 401 without a Basic challenge (no browser pop-up for a form).
        for kwargs in [{"json": {"username": "frank", "password": "x" + FRANK_PW}},
                       {"data": {"username": "frank", "password": FRANK_PW + "x"}},
                       {"json": {"username": "nobody-here", "password": FRANK_PW}}]:
            r = self.api.post("/auth/login", **kwargs)
            self.assertEqual(r.status_code, 401, kwargs)
            self.assertEqual(r.json()["error"], "invalid_credentials")
            self.assertFalse(any(c.startswith("Basic ")
                                 for c in r.headers.get_list("www-authenticate")), r.headers)
        # Missing fields or an unreadable body: 400 invalid_request.
        for kwargs in [{"json": {"username": "frank"}},
                       {"json": {"password": FRANK_PW}},
                       {"data": {"username": "frank", "password": ""}},
                       {},
                       {"content": b"{", "headers": {"Content-Type": "application/json"}},
                       {"content": b"[]", "headers": {"Content-Type": "application/json"}},
                       {"content": b"username=frank&username=x&password=y",
                        "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
                       {"content": b"username=frank", "headers": {"Content-Type": "text/plain"}},
                       {"json": {"username": "frank", "password": 12345}},
                       {"headers": {"Authorization": "Basic !!!"}},
                       {"headers": {"Authorization": "Digest username=\"frank\""}}]:
            with self.subTest(kwargs=kwargs):
                r = self.api.post("/auth/login", **kwargs)
                self.assertEqual(r.status_code, 400, r.text)
                self.assertEqual(r.json()["error"], "invalid_request")
                self.assertTrue(r.json().get("error_description"))
        self.secrets.add(FRANK_PW)

    # ---- refresh ---------------------------------------------------------------------------

    def test_refresh_rotates_and_grace_replay_returns_the_same_pair(self):
        p1 = self.login(self.api, "demo", "demo")
        _, c1, _ = self.check_pair(p1, "demo", ["User"])
        r = self.refresh(self.api, p1["refresh_token"])
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        p2 = r.json()
        _, c2, gen2 = self.check_pair(p2, "demo", ["User"])
        self.assertEqual(gen2, 2)
        self.assertEqual(c2["sid"], c1["sid"], "a refresh stays in its session")
        self.assertNotEqual(p2["refresh_token"], p1["refresh_token"])
        self.assertNotEqual(p2["access_token"], p1["access_token"])
        self.assertNotEqual(c2["jti"], c1["jti"])
        self.assertEqual(self.api.whoami(bearer=p2["access_token"]).json()["session"], c1["sid"])
        # The retired token again, within reuse_grace (10 s): the same new pair, string for string.
        again = self.refresh(self.api, p1["refresh_token"]).json()
        self.assertEqual(again["access_token"], p2["access_token"])
        self.assertEqual(again["refresh_token"], p2["refresh_token"])
        # ... and the family lives on: the current token rotates again.
        p3 = self.refresh(self.api, p2["refresh_token"]).json()
        _, c3, gen3 = self.check_pair(p3, "demo", ["User"])
        self.assertEqual((gen3, c3["sid"]), (3, c1["sid"]))
        for token in [p1["access_token"], p2["access_token"], p3["access_token"]]:
            self.assertEqual(self.api.whoami(bearer=token).status_code, 200)

    def test_concurrent_refreshes_get_one_pair(self):
        """Two tabs (here eight) refreshing with the same token at once: one rotation, one pair."""
        p = self.login(self.api, "demo", "demo")

        def refresh():
            with gh.http_client() as c:
                return c.post(self.server.url + "/auth/refresh",
                              json={"refresh_token": p["refresh_token"]})

        threads, results = gh.in_threads([refresh] * 8)
        for t in threads:
            t.join(30)
        for r in results:
            self.assertNotIsInstance(r, BaseException)
            self.assertEqual(r.status_code, 200, r.text)
            self.remember(r.json())
        pairs = {(r.json()["access_token"], r.json()["refresh_token"]) for r in results}
        self.assertEqual(len(pairs), 1, "concurrent refreshes forked the session")
        access, refresh_token = pairs.pop()
        sid = REFRESH_RE.match(p["refresh_token"]).group(1)
        self.assertTrue(refresh_token.startswith(f"ghr_{sid}_2_"), refresh_token)
        self.assertEqual(self.api.whoami(bearer=access).status_code, 200)
        self.assertEqual(self.refresh(self.api, refresh_token).status_code, 200)

    def test_refresh_refusals(self):
        p = self.login(self.api, "demo", "demo")
        m = REFRESH_RE.match(p["refresh_token"])
        forged_mac = p["refresh_token"][:-2] + ("AA" if not p["refresh_token"].endswith("AA") else "BB")
        next_gen = f"ghr_{m.group(1)}_{int(m.group(2)) + 1}_{m.group(3)}"
        unknown_sid = f"ghr_{'0' * 32}_1_{m.group(3)}"
        for token in ["nonsense", forged_mac, next_gen, unknown_sid, p["access_token"]]:
            with self.subTest(token=token[:20]):
                r = self.api.post("/auth/refresh", json={"refresh_token": token})
                self.assertEqual(r.status_code, 401, r.text)
                self.assertEqual(r.json()["error"], "invalid_grant")
                self.assertTrue(r.json().get("error_description"))
        for kwargs in [{"json": {}}, {"json": {"refresh_token": ""}}, {},
                       {"content": b"{", "headers": {"Content-Type": "application/json"}},
                       {"json": {"refresh_token": 5}}]:
            with self.subTest(kwargs=kwargs):
                r = self.api.post("/auth/refresh", **kwargs)
                self.assertEqual(r.status_code, 400, r.text)
                self.assertEqual(r.json()["error"], "invalid_request")
        # None of the refusals hurt the real session.
        self.assertEqual(self.refresh(self.api, p["refresh_token"]).status_code, 200)

    def test_token_endpoint_grants(self):
        p = self.login(self.api, "demo", "demo")
        r = self.api.post("/auth/token", data={"grant_type": "refresh_token",
                                               "refresh_token": p["refresh_token"]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        self.remember(r.json())
        self.check_pair(r.json(), "demo", ["User"])
        self.assertEqual(self.api.whoami(bearer=r.json()["access_token"]).status_code, 200)
        cases = [
            ({"grant_type": "refresh_token", "refresh_token": "ghr_nonsense"}, "invalid_grant"),
            ({"grant_type": "refresh_token", "refresh_token": p["access_token"]}, "invalid_grant"),
            ({"grant_type": "password", "username": "demo", "password": "demo"},
             "unsupported_grant_type"),
            ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
            ({"grant_type": "refresh_token"}, "invalid_request"),
            ({"refresh_token": r.json()["refresh_token"]}, "invalid_request"),
            ({}, "invalid_request"),
        ]
        for form, error in cases:
            with self.subTest(form=form):
                resp = self.api.post("/auth/token", data=form)
                self.assertEqual(resp.status_code, 400, resp.text)
                self.assertEqual(resp.json()["error"], error)
                self.assertTrue(resp.json().get("error_description"))
        # The new refresh token was not spent by the refused requests.
        r2 = self.api.post("/auth/token", data={"grant_type": "refresh_token",
                                                "refresh_token": r.json()["refresh_token"]})
        self.assertEqual(r2.status_code, 200, r2.text)
        self.remember(r2.json())

    # ---- logout, revoke, introspect --------------------------------------------------------

    def test_logout(self):
        p = self.login(self.api, "demo", "demo")
        sid = jwt_parts(p["access_token"])[1]["sid"]
        other = self.login(self.api, "demo", "demo")
        r = self.api.post("/auth/logout", bearer=p["access_token"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json(), {"status": "logged_out", "session": sid})
        assert_invalid_token(self, self.api.whoami(bearer=p["access_token"]))
        r = self.refresh(self.api, p["refresh_token"], expect=401)
        self.assertEqual(r.json()["error"], "invalid_grant")
        self.assertEqual(self.api.whoami(bearer=other["access_token"]).status_code, 200,
                         "logging out one session leaves the user's others alone")

        # With a credential that has no session: the caller's own refresh token says which.
        q = self.login(self.api, "demo", "demo", how="json")
        q_sid = jwt_parts(q["access_token"])[1]["sid"]
        mine = self.login(self.api, "admin", "admin")
        r = self.api.post("/auth/logout", basic=("demo", "demo"))
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["error"], "invalid_request")
        r = self.api.post("/auth/logout", basic=("demo", "demo"),
                          data={"refresh_token": mine["refresh_token"]})
        self.assertEqual(r.status_code, 400, "someone else's session: " + r.text)
        self.assertEqual(r.json()["error"], "invalid_grant")
        self.assertEqual(self.api.whoami(bearer=mine["access_token"]).status_code, 200)
        r = self.api.post("/auth/logout", basic=("demo", "demo"),
                          json={"refresh_token": q["refresh_token"]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json(), {"status": "logged_out", "session": q_sid})
        assert_invalid_token(self, self.api.whoami(bearer=q["access_token"]))
        self.refresh(self.api, q["refresh_token"], expect=401)
        # Not signed in at all.
        r = self.api.post("/auth/logout", data={"refresh_token": other["refresh_token"]})
        self.assertEqual(r.status_code, 401, r.text)
        self.assertEqual(self.api.whoami(bearer=other["access_token"]).status_code, 200)

    def test_revoke_endpoint(self):
        # A refresh token: its session ends, the access tokens of the session with it.
        p = self.login(self.api, "demo", "demo")
        self.assertEqual(self.api.whoami(bearer=p["access_token"]).status_code, 200)
        r = self.api.post("/auth/revoke", data={"token": p["refresh_token"]})
        self.assertEqual(r.status_code, 200, r.text)
        assert_invalid_token(self, self.api.whoami(bearer=p["access_token"]))
        self.assertEqual(self.refresh(self.api, p["refresh_token"], expect=401).json()["error"],
                         "invalid_grant")
        # An access token: its session ends.
        q = self.login(self.api, "demo", "demo")
        r = self.api.post("/auth/revoke", data={"token": q["access_token"],
                                                "token_type_hint": "access_token"})
        self.assertEqual(r.status_code, 200, r.text)
        assert_invalid_token(self, self.api.whoami(bearer=q["access_token"]))
        self.refresh(self.api, q["refresh_token"], expect=401)
        # An API key: refused on the next request.
        k = self.api.post("/auth/apikeys", bearer=self.login(self.api, "demo", "demo")["access_token"],
                          json={"name": "to-revoke"})
        self.assertEqual(k.status_code, 201, k.text)
        self.remember(k.json())
        key = k.json()["key"]
        self.assertEqual(self.api.whoami(apikey=key).status_code, 200)
        r = self.api.post("/auth/revoke", data={"token": key})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(self.api.whoami(apikey=key).status_code, 401)
        # Unknown or invalid tokens: still 200 (RFC 7009 §2.2); no token: 400.
        survivor = self.login(self.api, "demo", "demo")
        for token in ["nonsense", "gh_0000000000000000_" + "0" * 64, f"ghr_{'0' * 32}_1_AAAA",
                      survivor["access_token"][:-4] + "AAAA"]:
            r = self.api.post("/auth/revoke", data={"token": token})
            self.assertEqual(r.status_code, 200, f"{token[:20]}: {r.text}")
        self.assertEqual(self.api.whoami(bearer=survivor["access_token"]).status_code, 200)
        for kwargs in [{"data": {}}, {"data": {"token": ""}}, {}]:
            r = self.api.post("/auth/revoke", **kwargs)
            self.assertEqual(r.status_code, 400, r.text)
            self.assertEqual(r.json()["error"], "invalid_request")

    def test_introspect(self):
        p = self.login(self.api, "demo", "demo")
        sid = jwt_parts(p["access_token"])[1]["sid"]
        k = self.api.post("/auth/apikeys", basic=("demo", "demo"), json={"name": "introspected"})
        self.assertEqual(k.status_code, 201, k.text)
        self.remember(k.json())
        # Who may ask.
        r = self.api.post("/auth/introspect", data={"token": p["access_token"]})
        self.assertEqual(r.status_code, 401, r.text)
        for creds in [{"bearer": p["access_token"]}, {"basic": ("demo", "demo")},
                      {"apikey": k.json()["key"]}]:
            r = self.api.post("/auth/introspect", data={"token": p["access_token"]}, **creds)
            self.assertEqual(r.status_code, 403, f"{list(creds)}: {r.text}")
            self.assertEqual(r.json()["error"], "forbidden")
        admin_bearer = self.login(self.api, "admin", "admin")["access_token"]

        def introspect(token, **creds):
            creds = creds or {"basic": ("admin", "admin")}
            r = self.api.post("/auth/introspect", data={"token": token}, **creds)
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.headers.get("cache-control"), "no-store")
            return r.json()

        claims = jwt_parts(p["access_token"])[1]
        for creds in [{}, {"bearer": admin_bearer}]:
            info = introspect(p["access_token"], **creds)
            self.assertIs(info["active"], True, info)
            self.assertEqual(info["token_type"], "access_token")
            self.assertEqual((info["sub"], info["sid"], info["jti"], info["exp"], info["roles"]),
                             ("demo", sid, claims["jti"], claims["exp"], ["User"]))
            self.assertEqual(info["iss"], ISSUER)
        info = introspect(p["refresh_token"])
        self.assertIs(info["active"], True, info)
        self.assertEqual((info["token_type"], info["sub"], info["sid"]),
                         ("refresh_token", "demo", sid))
        self.assertGreater(info["exp"], time.time())
        info = introspect(k.json()["key"])
        self.assertIs(info["active"], True, info)
        self.assertEqual((info["token_type"], info["sub"]), ("api_key", "demo"))
        for junk in ["nonsense", p["access_token"][:-4] + "AAAA", "gh_0000000000000000_" + "0" * 64,
                     f"ghr_{sid}_1_AAAA"]:
            self.assertEqual(introspect(junk), {"active": False}, junk[:20])
        # A rotated-out refresh token and a revoked session are inactive.
        p2 = self.refresh(self.api, p["refresh_token"]).json()
        self.assertEqual(introspect(p["refresh_token"]), {"active": False})
        self.assertIs(introspect(p2["refresh_token"])["active"], True)
        r = self.api.post("/auth/revoke", data={"token": p2["refresh_token"]})
        self.assertEqual(r.status_code, 200, r.text)
        for token in [p["access_token"], p2["access_token"], p2["refresh_token"]]:
            self.assertEqual(introspect(token), {"active": False})
        # A missing token is a 400.
        r = self.api.post("/auth/introspect", basic=("admin", "admin"), data={})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertEqual(r.json()["error"], "invalid_request")

    # ---- sessions ------------------------------------------------------------------------

    def sessions(self, **kw):
        params = kw.pop("params", None)
        r = self.api.get("/auth/sessions", params=params, **kw)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        items = r.json()["sessions"]
        for s in items:
            self.assertEqual(set(s), SESSION_KEYS, s)
        return {s["id"]: s for s in items}

    def test_sessions_list_and_delete(self):
        d1 = self.login(self.api, "demo", "demo")
        d2 = self.login(self.api, "demo", "demo", how="json")
        a1 = self.login(self.api, "admin", "admin")
        sid = {name: jwt_parts(p["access_token"])[1]["sid"]
               for name, p in [("d1", d1), ("d2", d2), ("a1", a1)]}
        mine = self.sessions(bearer=d1["access_token"])
        self.assertTrue({sid["d1"], sid["d2"]} <= set(mine), mine)
        self.assertNotIn(sid["a1"], mine)
        self.assertEqual({s["user"] for s in mine.values()}, {"demo"})
        self.assertIs(mine[sid["d1"]]["current"], True)
        self.assertIs(mine[sid["d2"]]["current"], False)
        self.assertEqual((mine[sid["d1"]]["method"], mine[sid["d2"]]["method"]), ("basic", "password"))
        s = mine[sid["d1"]]
        self.assertLessEqual(s["created"], s["last_used"])
        self.assertGreater(s["expires"], time.time() + 13 * 86400)
        # A user cannot see others' sessions, even by asking; an admin sees all, or one user's.
        self.assertEqual(set(self.sessions(bearer=d1["access_token"], params={"user": "admin"})),
                         set(mine))
        with_basic = self.sessions(basic=("demo", "demo"))
        self.assertFalse(any(s["current"] for s in with_basic.values()))
        everyone = self.sessions(bearer=a1["access_token"])
        self.assertTrue(set(sid.values()) <= set(everyone))
        self.assertIs(everyone[sid["a1"]]["current"], True)
        only_demo = self.sessions(basic=("admin", "admin"), params={"user": "demo"})
        self.assertTrue({sid["d1"], sid["d2"]} <= set(only_demo))
        self.assertEqual({s["user"] for s in only_demo.values()}, {"demo"})
        # Deleting: not someone else's (404, as if it did not exist), one's own yes, admin anyone's.
        r = self.api.delete("/auth/sessions/" + sid["a1"], bearer=d1["access_token"])
        self.assertEqual(r.status_code, 404, r.text)
        self.assertEqual(self.api.whoami(bearer=a1["access_token"]).status_code, 200)
        r = self.api.delete("/auth/sessions/" + sid["d2"], bearer=d1["access_token"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json(), {"revoked": sid["d2"]})
        assert_invalid_token(self, self.api.whoami(bearer=d2["access_token"]))
        self.refresh(self.api, d2["refresh_token"], expect=401)
        self.assertNotIn(sid["d2"], self.sessions(bearer=d1["access_token"]))
        r = self.api.delete("/auth/sessions/" + sid["d2"], bearer=d1["access_token"])
        self.assertEqual(r.status_code, 404, "already revoked: " + r.text)
        self.assertEqual(self.api.whoami(bearer=d1["access_token"]).status_code, 200)
        r = self.api.delete("/auth/sessions/" + sid["d1"], bearer=a1["access_token"])
        self.assertEqual(r.status_code, 200, r.text)
        assert_invalid_token(self, self.api.whoami(bearer=d1["access_token"]))
        for bad in ["0" * 32, "nonsense"]:
            r = self.api.delete("/auth/sessions/" + bad, basic=("admin", "admin"))
            self.assertEqual(r.status_code, 404, r.text)
        self.assertEqual(self.api.get("/auth/sessions").status_code, 401)

    # ---- API keys --------------------------------------------------------------------------

    def create_key(self, body, expect=201, **creds):
        r = self.api.post("/auth/apikeys", json=body, **creds)
        self.assertEqual(r.status_code, expect, r.text)
        if expect == 201:
            self.remember(r.json())
            self.assertEqual(set(r.json()), API_KEY_FIELDS | {"key"}, r.json())
            self.assertEqual(r.headers.get("cache-control"), "no-store")
        else:
            self.assertTrue(r.json().get("error_description"), r.text)
        return r.json()

    def test_api_keys_create_list_delete(self):
        demo_bearer = self.login(self.api, "demo", "demo")["access_token"]
        made = self.create_key({"name": "laptop"}, bearer=demo_bearer)
        m = gh.API_KEY_RE.match(made["key"])
        self.assertIsNotNone(m, made["key"])
        self.assertEqual(made["id"], m.group(1))
        self.assertEqual((made["name"], made["user"], made["expires"], made["last_used"]),
                         ("laptop", "demo", None, None))
        self.assertLessEqual(abs(made["created"] - time.time()), 5)
        # Works on the very next request.
        who = self.api.whoami(apikey=made["key"])
        self.assertEqual(who.status_code, 200, who.text)
        self.assertEqual((who.json()["user"], who.json()["scheme"], who.json()["roles"]),
                         ("demo", "apikey", ["User"]))
        timed = self.create_key({"name": "ci", "expires_in": 3600}, basic=("demo", "demo"))
        self.assertEqual(timed["expires"], timed["created"] + 3600)
        listed = self.api.get("/auth/apikeys", bearer=demo_bearer)
        self.assertEqual(listed.status_code, 200, listed.text)
        keys = {k["id"]: k for k in listed.json()["keys"]}
        self.assertTrue({made["id"], timed["id"]} <= set(keys))
        self.assertEqual(set(keys[made["id"]]), API_KEY_FIELDS)
        self.assertNotIn(m.group(2), listed.text, "the secret is shown once, at creation")
        self.assertEqual({k["user"] for k in keys.values()}, {"demo"})
        # Refusals.
        for body in [{"name": "x", "roles": ["Admin"]}, {"name": "x", "roles": "User"},
                     {"name": ""}, {}, {"name": "x", "colour": "red"},
                     {"name": "x", "expires_in": -5}, {"name": "x", "expires_in": "1h"}]:
            with self.subTest(body=body):
                self.assertEqual(self.create_key(body, expect=400, bearer=demo_bearer)["error"],
                                 "invalid_request")
        self.create_key({"name": "x", "user": "admin"}, expect=403, bearer=demo_bearer)
        self.assertEqual(self.api.post("/auth/apikeys", json={"name": "anon"}).status_code, 401)
        # Admins list and make others' keys; users do not.
        self.assertEqual(self.api.get("/auth/apikeys", bearer=demo_bearer,
                                      params={"user": "admin"}).status_code, 403)
        r = self.api.get("/auth/apikeys", basic=("admin", "admin"), params={"user": "demo"})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn(made["id"], {k["id"] for k in r.json()["keys"]})
        for_demo = self.create_key({"name": "from-admin", "user": "demo", "roles": ["User"]},
                                   basic=("admin", "admin"))
        self.assertEqual((for_demo["user"], for_demo["roles"]), ("demo", ["User"]))
        self.assertEqual(self.api.whoami(apikey=for_demo["key"]).json()["user"], "demo")
        admin_key = self.create_key({"name": "admins"}, basic=("admin", "admin"))
        # Deleting: another user's key is not found; one's own is refused on the next request.
        r = self.api.delete("/auth/apikeys/" + admin_key["id"], bearer=demo_bearer)
        self.assertEqual(r.status_code, 404, r.text)
        self.assertEqual(self.api.whoami(apikey=admin_key["key"]).status_code, 200)
        r = self.api.delete("/auth/apikeys/" + made["id"], bearer=demo_bearer)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json(), {"revoked": made["id"]})
        self.assertEqual(self.api.whoami(apikey=made["key"]).status_code, 401)
        self.assertEqual(self.api.delete("/auth/apikeys/" + made["id"],
                                         bearer=demo_bearer).status_code, 404)
        listed = self.api.get("/auth/apikeys", bearer=demo_bearer).json()["keys"]
        self.assertNotIn(made["id"], {k["id"] for k in listed})
        self.assertEqual(self.api.delete("/auth/apikeys/" + for_demo["id"],
                                         basic=("admin", "admin")).status_code, 200)
        self.assertEqual(self.api.whoami(apikey=for_demo["key"]).status_code, 401)

    def test_api_key_roles_only_narrow(self):
        carol = self.login(self.api, "carol", CAROL_PW)
        self.assertEqual(jwt_parts(carol["access_token"])[1]["roles"], ["Admin", "User"])
        narrow = self.create_key({"name": "user-only", "roles": ["User"]},
                                 bearer=carol["access_token"])
        self.assertEqual(narrow["roles"], ["User"])
        who = self.api.whoami(apikey=narrow["key"]).json()
        self.assertEqual((who["user"], who["roles"]), ("carol", ["User"]))
        # The narrowed key is not an admin: no introspection, no others' keys.
        r = self.api.post("/auth/introspect", apikey=narrow["key"],
                          data={"token": carol["access_token"]})
        self.assertEqual(r.status_code, 403, r.text)
        # ... and cannot mint a wider key: neither by asking for Admin nor by asking for nothing.
        refused = self.create_key({"name": "wider", "roles": ["Admin"]}, expect=400,
                                  apikey=narrow["key"])
        self.assertEqual(refused["error"], "invalid_request")
        self.create_key({"name": "wider", "roles": ["Admin", "User"]}, expect=400,
                        apikey=narrow["key"])
        child = self.create_key({"name": "child"}, apikey=narrow["key"])
        self.assertEqual(child["roles"], ["User"])
        self.assertEqual(self.api.whoami(apikey=child["key"]).json()["roles"], ["User"])
        # A full-rights login can still make a key with both roles, and an empty one.
        both = self.create_key({"name": "both", "roles": ["Admin", "User"]},
                               bearer=carol["access_token"])
        self.assertEqual(sorted(self.api.whoami(apikey=both["key"]).json()["roles"]),
                         ["Admin", "User"])
        self.secrets.add(CAROL_PW)

    # ---- discovery -------------------------------------------------------------------------

    def test_jwks_and_openid_configuration(self):
        r = self.api.get("/.well-known/jwks.json")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"))
        keys = r.json()["keys"]
        self.assertGreaterEqual(len(keys), 1)
        for k in keys:
            self.assertEqual((k["kty"], k["crv"], k["alg"], k["use"]),
                             ("OKP", "Ed25519", "EdDSA", "sig"), k)
            self.assertEqual(len(base64.urlsafe_b64decode(k["x"] + "=")), 32)
            self.assertTrue(k["kid"])
            self.assertFalse({"d", "p", "q", "k"} & set(k), "private parts in the JWKS: " + str(k))
        pair = self.login(self.api, "demo", "demo")
        self.assertIn(jwt_parts(pair["access_token"])[0]["kid"], [k["kid"] for k in keys])

        r = self.api.get("/.well-known/openid-configuration")
        self.assertEqual(r.status_code, 200, r.text)
        meta = r.json()
        self.assertEqual(meta["issuer"], ISSUER)
        self.assertEqual(meta["jwks_uri"], ISSUER + "/.well-known/jwks.json")
        self.assertEqual(meta["token_endpoint"], ISSUER + "/auth/token")
        self.assertEqual(meta["revocation_endpoint"], ISSUER + "/auth/revoke")
        self.assertEqual(meta["introspection_endpoint"], ISSUER + "/auth/introspect")
        self.assertIn("refresh_token", meta["grant_types_supported"])
        self.assertIn("EdDSA", meta["id_token_signing_alg_values_supported"])
        self.assertEqual(jwt_parts(pair["access_token"])[1]["iss"], meta["issuer"])

    # ---- auth-adventures compat ------------------------------------------------------------

    def test_compat_login_refresh_and_data(self):
        r = self.api.post("/login", basic=("demo", "demo"))
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(set(r.json()), {"refresh_token", "access_token"})
        self.remember(r.json())
        pair = r.json()
        self.assertEqual(jwt_parts(pair["access_token"])[1]["sub"], "demo")
        r = self.api.get("/data", bearer=pair["access_token"])
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json(), {"data": [1, 2, 3], "who_am_i": "demo"})
        r = self.api.post("/refresh", json={"refresh_token": pair["refresh_token"]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(set(r.json()), {"refresh_token", "access_token"})
        self.remember(r.json())
        self.assertNotEqual(r.json()["refresh_token"], pair["refresh_token"])
        self.assertEqual(self.api.get("/data", bearer=r.json()["access_token"]).status_code, 200)
        # Failures: 401 with {"error": "..."} only.
        for kwargs in [{"json": {"refresh_token": "ghr_nonsense"}}, {"json": {}},
                       {"content": b"not json", "headers": {"Content-Type": "application/json"}},
                       {}]:
            with self.subTest(kwargs=kwargs):
                r = self.api.post("/refresh", **kwargs)
                self.assertEqual(r.status_code, 401, r.text)
                self.assertEqual(set(r.json()), {"error"}, r.text)
                self.assertTrue(r.json()["error"])
        r = self.api.post("/login", basic=("frank", "wrong-" + FRANK_PW))
        self.assertEqual(r.status_code, 401, r.text)
        self.assertIn("error", r.json())
        r = self.api.post("/login", json={"username": "demo", "password": "demo"})
        self.assertEqual(r.status_code, 400, "the tutorial's /login takes Basic only: " + r.text)
        self.assertEqual(self.api.get("/data").status_code, 401)

    # ---- the CLI on the running server ---------------------------------------------------

    def test_cli_session_list_and_revoke_reach_the_running_server(self):
        e1 = self.login(self.api, "erin", ERIN_PW)
        e2 = self.login(self.api, "erin", ERIN_PW, how="form")
        s1 = jwt_parts(e1["access_token"])[1]["sid"]
        s2 = jwt_parts(e2["access_token"])[1]["sid"]
        demo = self.login(self.api, "demo", "demo")
        out = self.server.cli(["session", "list", "erin"]).stdout.splitlines()
        self.assertEqual(out[0].split("\t"), ["id", "user", "method", "created", "last_used",
                                              "expires", "status"])
        rows = {line.split("\t")[0]: line.split("\t") for line in out[1:]}
        self.assertEqual(set(rows), {s1, s2}, out)
        self.assertEqual(rows[s1][1:3], ["erin", "basic"])
        self.assertEqual(rows[s2][2], "password")
        self.assertEqual({r[-1] for r in rows.values()}, {"active"})
        self.assertIn(s1, self.server.cli(["session", "list"]).stdout)

        out = self.server.cli(["session", "revoke", s1])
        self.assertIn(s1, out.stdout)
        whoami = self.server.url + "/auth/whoami"
        gh.wait_status(whoami, 401, timeout=gh.PROPAGATION_S,
                       headers={"Authorization": "Bearer " + e1["access_token"]})
        self.refresh(self.api, e1["refresh_token"], expect=401)
        self.assertEqual(self.api.whoami(bearer=e2["access_token"]).status_code, 200)
        self.assertEqual(self.server.cli(["session", "revoke", s1], check=False).returncode, 1)
        self.assertEqual(self.server.cli(["session", "revoke"], check=False).returncode, 2)

        out = self.server.cli(["session", "revoke", "--user", "erin"])
        self.assertIn("erin", out.stdout)
        gh.wait_status(whoami, 401, timeout=gh.PROPAGATION_S,
                       headers={"Authorization": "Bearer " + e2["access_token"]})
        self.refresh(self.api, e2["refresh_token"], expect=401)
        self.assertEqual(self.api.whoami(bearer=demo["access_token"]).status_code, 200,
                         "revoking erin's sessions leaves demo's alone")
        self.assertEqual(self.server.cli(["session", "list", "erin"]).stdout.splitlines()[1:], [])
        listing = self.server.cli(["session", "list", "erin", "--all"]).stdout
        for sid in (s1, s2):
            row = [line for line in listing.splitlines() if line.startswith(sid)]
            self.assertEqual(len(row), 1, listing)
            self.assertIn("revoked", row[0])
        self.secrets.add(ERIN_PW)

    # ---- last: the logs ------------------------------------------------------------------

    def test_zz_logs_hold_no_secrets(self):
        """Runs last in this class (alphabetical order): every secret the other tests used."""
        self.login(self.api, "carol", CAROL_PW, how="json")
        r = self.api.post("/auth/login", data={"username": "frank", "password": "wrong-" + FRANK_PW})
        self.assertEqual(r.status_code, 401, r.text)
        self.secrets.add("wrong-" + FRANK_PW)
        self.assert_logs_hold_no_secrets(self.server, [CAROL_PW, ERIN_PW, FRANK_PW])


class ReuseAfterGraceTest(SecretsMixin, unittest.TestCase):
    """reuse_grace = 0s: a retired refresh token presented again revokes its family, only it."""

    def setUp(self):
        self.secrets = set()
        self.server = gh.Server(config_text='[tokens]\nreuse_grace = "0s"\n').start()
        self.addCleanup(self.server.__exit__, None, None, None)
        self.api = Api(self.server)
        self.addCleanup(self.api.close)

    def check_reuse(self, a_old, a_new, b):
        r = self.refresh(self.api, a_old["refresh_token"], expect=401)
        self.assertEqual(r.json()["error"], "invalid_grant")
        self.assertIn("already used", r.json()["error_description"])
        self.assertIn("revoked", r.json()["error_description"])
        # The family is gone: its newest access token on the next request, its newest refresh.
        assert_invalid_token(self, self.api.whoami(bearer=a_new["access_token"]))
        assert_invalid_token(self, self.api.whoami(bearer=a_old["access_token"]))
        self.assertEqual(self.refresh(self.api, a_new["refresh_token"], expect=401).json()["error"],
                         "invalid_grant")
        # The same user's other session lives on.
        self.assertEqual(self.api.whoami(bearer=b["access_token"]).status_code, 200)
        b2 = self.refresh(self.api, b["refresh_token"]).json()
        self.assertEqual(self.api.whoami(bearer=b2["access_token"]).status_code, 200)
        self.assertIn("reuse", self.server.stderr(), "the reuse is logged (audit)")
        self.assert_logs_hold_no_secrets(self.server)

    def test_immediate_reuse_revokes_that_family_only(self):
        a = self.login(self.api, "demo", "demo")
        b = self.login(self.api, "demo", "demo")
        for p in (a, b):  # both sessions in use (and in the verified-token cache)
            self.assertEqual(self.api.whoami(bearer=p["access_token"]).status_code, 200)
        a2 = self.refresh(self.api, a["refresh_token"]).json()
        self.assertEqual(self.api.whoami(bearer=a2["access_token"]).status_code, 200)
        # No grace at all: the retired token, presented again at once, is a reuse.
        self.check_reuse(a, a2, b)

    def test_reuse_a_second_later_revokes_that_family_only(self):
        a = self.login(self.api, "demo", "demo")
        b = self.login(self.api, "demo", "demo")
        a2 = self.refresh(self.api, a["refresh_token"]).json()
        rotated = int(time.time())
        self.assertEqual(self.api.whoami(bearer=a2["access_token"]).status_code, 200)
        # Past any rounding of a 0 s grace window (timestamps are whole seconds).
        gh.wait_until(lambda: time.time() >= rotated + 1.05, timeout=2.5, what="the next second")
        self.check_reuse(a, a2, b)


class GraceReplayEveryAlgTest(SecretsMixin, unittest.TestCase):
    """Within reuse_grace the retired refresh token gets the same pair, string for string, with
    every signing algorithm, randomized signatures (ES256) included: a client that lost the first
    response and one that did not must end up holding the same tokens. (EdDSA: above.)"""

    def test_grace_replay_is_identical_for_each_alg(self):
        for alg in ["ES256", "RS256", "HS256"]:
            with self.subTest(alg=alg):
                self.secrets = set()
                with gh.Server(config_text=f'[tokens]\nalg = "{alg}"\n') as server:
                    api = Api(server)
                    try:
                        p1 = self.login(api, "demo", "demo")
                        p2 = self.refresh(api, p1["refresh_token"]).json()
                        again = self.refresh(api, p1["refresh_token"]).json()
                        self.assertEqual(jwt_parts(again["access_token"])[1],
                                         jwt_parts(p2["access_token"])[1], "the same claims")
                        self.assertEqual(again["refresh_token"], p2["refresh_token"])
                        self.assertEqual(again["access_token"], p2["access_token"],
                                         f"{alg}: the replay got a different access token string")
                        self.assertEqual(api.whoami(bearer=again["access_token"]).status_code, 200)
                    finally:
                        api.close()


class ShortLivedAccessTokenTest(SecretsMixin, unittest.TestCase):
    """access_ttl 1 s, no leeway: an access token, even one already verified (and cached), stops
    working when it expires; the refresh token goes on."""

    def test_access_token_expires(self):
        self.secrets = set()
        server = gh.Server(config_text='[tokens]\naccess_ttl = "1s"\nleeway = "0s"\n').start()
        self.addCleanup(server.__exit__, None, None, None)
        api = Api(server)
        self.addCleanup(api.close)
        p = self.login(api, "demo", "demo")
        self.assertLessEqual(p["expires_in"], 1)
        claims = jwt_parts(p["access_token"])[1]
        self.assertEqual(claims["exp"] - claims["iat"], 1)
        # The first request may land in the token's last second or just after it.
        first = api.whoami(bearer=p["access_token"])
        self.assertIn(first.status_code, (200, 401), first.text)
        gh.wait_until(lambda: api.whoami(bearer=p["access_token"]).status_code == 401, timeout=3.0,
                      what="the access token to expire")
        self.assertGreaterEqual(time.time(), claims["exp"] - 0.5)
        r = api.whoami(bearer=p["access_token"])
        assert_invalid_token(self, r)
        self.assertIn("expired", r.json()["error_description"])
        fresh = self.refresh(api, p["refresh_token"]).json()
        # Used at once, the new token is accepted (allow the one-second boundary, as above).
        self.assertIn(api.whoami(bearer=fresh["access_token"]).status_code, (200, 401))
        info = api.post("/auth/introspect", basic=("admin", "admin"), data={"token": p["access_token"]})
        self.assertEqual(info.json(), {"active": False})
        self.assert_logs_hold_no_secrets(server)


class SigningKeyRotationTest(SecretsMixin, unittest.TestCase):
    def test_rotate_while_running(self):
        self.secrets = set()
        server = gh.Server().start()
        self.addCleanup(server.__exit__, None, None, None)
        api = Api(server)
        self.addCleanup(api.close)
        old_kids = api.kids()
        self.assertEqual(len(old_kids), 1, old_kids)
        # Two tokens of the old key that the server has never verified (no cached verdicts).
        t_old = self.login(api, "demo", "demo")
        t_old2 = self.login(api, "admin", "admin")
        self.assertEqual(jwt_parts(t_old["access_token"])[0]["kid"], old_kids[0])
        listing = server.cli(["signing-key", "list"]).stdout.splitlines()
        self.assertEqual(listing[0].split("\t"), ["kid", "alg", "created", "retired", "status"])
        self.assertTrue(listing[1].startswith(old_kids[0] + "\tEdDSA"), listing)
        self.assertTrue(listing[1].endswith("\tsigning"), listing)

        out = server.cli(["signing-key", "rotate"]).stdout
        m = re.search(r"new signing key (\S+) \(EdDSA\)", out)
        self.assertIsNotNone(m, out)
        new_kid = m.group(1)
        self.assertNotEqual(new_kid, old_kids[0])
        start = time.monotonic()
        gh.wait_until(lambda: new_kid in api.kids(), timeout=gh.PROPAGATION_S,
                      what="the new key in the JWKS")
        self.assertLess(time.monotonic() - start, gh.PROPAGATION_S)
        self.assertEqual(set(api.kids()), {old_kids[0], new_kid},
                         "the old key stays published while its tokens live")
        fresh = self.login(api, "demo", "demo")
        self.assertEqual(jwt_parts(fresh["access_token"])[0]["kid"], new_kid,
                         "new logins are signed with the new key")
        for pair in (t_old, t_old2, fresh):
            r = api.whoami(bearer=pair["access_token"])
            self.assertEqual(r.status_code, 200, r.text)
        renewed = self.refresh(api, t_old["refresh_token"]).json()
        self.assertEqual(jwt_parts(renewed["access_token"])[0]["kid"], new_kid)
        self.assertEqual(api.whoami(bearer=renewed["access_token"]).status_code, 200)
        listing = {line.split("\t")[0]: line.split("\t")
                   for line in server.cli(["signing-key", "list"]).stdout.splitlines()[1:]}
        self.assertEqual(listing[new_kid][-1], "signing")
        self.assertEqual(listing[old_kids[0]][-1], "verifying")
        self.assertTrue(listing[old_kids[0]][3], "the old key has a retirement time")
        self.assert_logs_hold_no_secrets(server)


class RestartTest(SecretsMixin, unittest.TestCase):
    def test_sessions_and_keys_survive_a_restart(self):
        self.secrets = set()
        first = gh.Server()
        self.addCleanup(first.__exit__, None, None, None)  # removes the data dir, last
        first.start()
        api = Api(first)
        pair = self.login(api, "demo", "demo")
        sid = jwt_parts(pair["access_token"])[1]["sid"]
        kids = api.kids()
        api.close()
        self.assertEqual(first.stop(), 0)
        self.assert_logs_hold_no_secrets(first)

        second = gh.Server(data_dir=first.data_dir)
        self.addCleanup(second.__exit__, None, None, None)
        second.start()
        api = Api(second)
        self.addCleanup(api.close)
        self.assertEqual(api.kids(), kids, "the signing key is kept in the store")
        who = api.whoami(bearer=pair["access_token"])
        self.assertEqual(who.status_code, 200, who.text)
        self.assertEqual(who.json()["session"], sid)
        renewed = self.refresh(api, pair["refresh_token"]).json()
        header, claims = jwt_parts(renewed["access_token"])
        self.assertEqual((claims["sid"], header["kid"]), (sid, kids[0]))
        self.assertTrue(renewed["refresh_token"].startswith(f"ghr_{sid}_2_"))
        sessions = api.get("/auth/sessions", bearer=renewed["access_token"]).json()["sessions"]
        self.assertIn(sid, [s["id"] for s in sessions])
        self.assert_logs_hold_no_secrets(second)


class ConfiguredIssuerTest(SecretsMixin, unittest.TestCase):
    """[server] public_url names the issuer and the endpoints; HS256 publishes no key."""

    def test_public_url_and_hs256(self):
        self.secrets = set()
        server = gh.Server(config_text='[server]\npublic_url = "https://gh.example.org"\n'
                                       '[tokens]\nalg = "HS256"\n').start()
        self.addCleanup(server.__exit__, None, None, None)
        api = Api(server)
        self.addCleanup(api.close)
        self.assertEqual(api.jwks(), {"keys": []}, "a shared secret is never published")
        meta = api.get("/.well-known/openid-configuration").json()
        self.assertEqual(meta["issuer"], "https://gh.example.org")
        self.assertEqual(meta["jwks_uri"], "https://gh.example.org/.well-known/jwks.json")
        self.assertEqual(meta["token_endpoint"], "https://gh.example.org/auth/token")
        self.assertIn("HS256", meta["id_token_signing_alg_values_supported"])
        pair = self.login(api, "demo", "demo")
        header, claims = jwt_parts(pair["access_token"])
        self.assertEqual((header["alg"], header["typ"]), ("HS256", "at+jwt"))
        self.assertEqual(claims["iss"], "https://gh.example.org")
        self.assertEqual(api.whoami(bearer=pair["access_token"]).status_code, 200)
        renewed = self.refresh(api, pair["refresh_token"]).json()
        self.assertEqual(api.whoami(bearer=renewed["access_token"]).status_code, 200)
        self.assert_logs_hold_no_secrets(server)


if __name__ == "__main__":
    unittest.main()
