"""The Negotiate client (src/client/auth_negotiate.cpp) against Apache httpd mod_auth_gssapi and a
throwaway MIT KDC (krb.py), driven through tests/client_probe.

Every test needs the real KDC and Apache: a missing one fails the test, never skips it.
"""
import json
import os
import subprocess
import time
import unittest
import uuid

import krb

PROBE = os.environ.get(
    "GATEHOUSE_CLIENT_PROBE",
    os.path.join(os.path.dirname(__file__), "../../build/release/tests/gatehouse_client_probe"))


class Result:
    """What the probe printed for one exchange: a response, or an error type and message."""

    def __init__(self, data):
        self.data = data
        self.error_type = data.get("error")
        self.error_message = data.get("message", "")
        response = data.get("response", {}) if self.error_type else data
        self.status = response.get("status")
        self.headers = [(k.lower(), v) for k, v in response.get("headers", [])]
        self.body = response.get("body")

    def header(self, name):
        values = [v for k, v in self.headers if k == name.lower()]
        return values[0] if values else None

    def __repr__(self):
        return f"Result({self.data!r})"


class NegotiateClientTest(krb.RealmAndApacheTestCase):
    @classmethod
    def setUpClass(cls):
        if not (os.path.isfile(PROBE) and os.access(PROBE, os.X_OK)):
            raise AssertionError(f"client probe not built: {PROBE}")
        super().setUpClass()

    def probe(self, path, env=None, host="127.0.0.1", options=None, auth=None, **negotiate):
        """One GET of `path` with negotiate_auth(options) (or `auth`) through the probe."""
        spec = {"auth": auth or dict(kind="negotiate", **negotiate), "options": options or {},
                "requests": [{"method": "GET", "url": self.apache.url(path, host)}]}
        proc = subprocess.run([PROBE], input=json.dumps(spec), env=env or self.realm.env(),
                              capture_output=True, text=True, timeout=60)
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError(f"probe printed no JSON (exit {proc.returncode}): "
                                 f"{proc.stdout!r} {proc.stderr!r}")
        if proc.returncode != 0 or len(data.get("results", [])) != 1:
            raise AssertionError(f"probe failed (exit {proc.returncode}): {data!r} {proc.stderr!r}")
        result = Result(data["results"][0])
        result.stderr = proc.stderr
        result.returncode = proc.returncode
        return result

    def unique(self, path):
        """`path` with a query no other request used, to find it in the access log."""
        return f"{path}?t={uuid.uuid4().hex}"

    def log_lines(self, path, at_least, prefix=False):
        """Access-log lines "<status> <method> <uri> <user>" of requests for exactly `path` (or
        starting with it), once there are `at_least` of them (Apache writes a line after sending
        its response)."""
        deadline = time.monotonic() + 10.0
        while True:
            lines = [line for line in self.apache.access_log()
                     if len(line) >= 3 and (line[2].startswith(path) if prefix else line[2] == path)]
            if len(lines) >= at_least or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def fresh_ccache(self, user="user1"):
        ccache = f"FILE:{self.realm.tmp}/ccache.{uuid.uuid4().hex}"
        self.realm.kinit(user, ccache)
        return ccache

    def assert_ok(self, result, user="user1"):
        self.assertIsNone(result.error_type, result)
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.header("x-remote-user"), self.realm.principal(user), result)

    # -- the fixture itself, checked with the reference clients ----------------------------------
    def test_reference_clients_agree_with_the_fixture(self):
        url = self.apache.url("/krb/ok")
        curl = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--negotiate", "-u", ":", url]
        self.assertEqual(subprocess.run(curl, env=self.realm.env(), capture_output=True,
                                        text=True, timeout=30).stdout, "200")
        self.assertEqual(subprocess.run(curl, env=self.realm.env(f"FILE:{self.realm.tmp}/none"),
                                        capture_output=True, text=True, timeout=30).stdout, "401")
        code = ("import sys, requests, requests_kerberos as k\n"
                "r = requests.get(sys.argv[1], auth=k.HTTPKerberosAuth(mutual_authentication=k.REQUIRED))\n"
                "print(r.status_code)\n")
        run = lambda ccache: subprocess.run(  # noqa: E731
            [krb.PY, "-c", code, url], env=self.realm.env(ccache), capture_output=True, text=True,
            timeout=60).stdout.strip()
        self.assertEqual(run(None), "200")
        self.assertEqual(run(f"FILE:{self.realm.tmp}/none"), "401")

    # -- success and mutual authentication -------------------------------------------------------
    def test_success_with_defaults(self):
        path = self.unique("/krb/ok")
        result = self.probe(path)
        self.assert_ok(result)
        self.assertEqual(result.body, "hello from krb\n")
        # Not opportunistic: a 401 first, then the authenticated request.
        self.assertEqual([line[0] for line in self.log_lines(path, 2)], ["401", "200"])

    def test_auto_picks_negotiate_from_the_challenge(self):
        # auto_auth with Negotiate options and a password: Apache offers only Negotiate, so the
        # ticket is used (the password is never sent).
        path = self.unique("/krb/ok")
        result = self.probe(path, auth={"kind": "auto", "user": "user1", "password": "unused",
                                        "negotiate": {"mutual": "required"}})
        self.assert_ok(result)
        self.assertTrue(result.header("www-authenticate").startswith("Negotiate "))
        self.assertEqual([line[0] for line in self.log_lines(path, 2)], ["401", "200"])

    def test_mutual_required_verifies_the_server_token(self):
        for mech in ("spnego", "krb5"):
            with self.subTest(mech=mech):
                result = self.probe("/krb/ok", mutual="required", mech=mech)
                self.assert_ok(result)
                self.assertTrue(result.header("www-authenticate").startswith("Negotiate "))

    def test_mutual_required_rejects_a_forged_server_token(self):
        # Garbage, and a genuine acceptor token of another security context: neither verifies.
        for path in ("/badtoken/ok", "/staletoken/ok"):
            for mode in ("required", "optional"):
                with self.subTest(path=path, mode=mode):
                    result = self.probe(path, mutual=mode)
                    self.assertEqual(result.error_type, "MutualAuthenticationError", result)
                    self.assertIn("Unable to authenticate 200", result.error_message)
        # Without mutual authentication the token is not looked at (httpx-gssapi DISABLED).
        self.assert_ok(self.probe("/badtoken/ok", mutual="disabled"))

    def test_mutual_required_without_a_server_token_fails(self):
        result = self.probe("/notoken/ok", mutual="required")
        self.assertEqual(result.error_type, "MutualAuthenticationError", result)
        self.assertIn("no Negotiate token", result.error_message)

    def test_mutual_optional_without_a_server_token_returns_the_response(self):
        result = self.probe("/notoken/ok", mutual="optional")
        self.assert_ok(result)
        self.assertEqual(result.body, "hello from notoken\n")

    def test_error_without_token_is_sanitized(self):
        result = self.probe("/notoken/missing", mutual="required")
        self.assertIsNone(result.error_type, result)
        self.assertEqual(result.status, 404)
        self.assertEqual(result.body, "")
        self.assertEqual(sorted(k for k, _ in result.headers), ["content-length", "date", "server"])
        self.assertEqual(result.header("content-length"), "0")
        self.assertIn("Apache", result.header("server"))

    def test_error_without_token_is_kept_when_not_sanitizing(self):
        result = self.probe("/notoken/missing", mutual="required", sanitize=False)
        self.assertEqual(result.status, 404, result)
        self.assertEqual(result.body, krb.ERROR_BODY)
        self.assertIsNone(result.header("www-authenticate"))

    def test_error_with_a_valid_token_is_not_sanitized(self):
        # mod_auth_gssapi sends its token on the 404 too: the error page is authenticated.
        result = self.probe("/krb/missing", mutual="required")
        self.assertEqual(result.status, 404, result)
        self.assertEqual(result.body, krb.ERROR_BODY)

    # -- round trips -----------------------------------------------------------------------------
    def test_opportunistic_sends_the_token_on_the_first_request(self):
        path = self.unique("/krb/ok")
        self.assert_ok(self.probe(path, opportunistic=True, mutual="required"))
        self.assertEqual(self.log_lines(path, 1), [["200", "GET", path, "user1@" + krb.REALM]])

    def test_at_most_two_401_round_trips(self):
        path = self.unique("/deny/ok")
        result = self.probe(path)
        self.assertEqual(result.status, 401, result)
        self.assertEqual([line[0] for line in self.log_lines(path, 3)], ["401", "401", "401"])

    def test_proxy_407_is_answered_with_proxy_authorization(self):
        # Apache is also a forward proxy that wants Negotiate; the target is a public file.
        path = self.unique("/errors/404.txt")
        proxy = f"http://127.0.0.1:{self.apache.port}"
        env = self.realm.env(http_proxy=proxy)
        result = self.probe(path, env=env, options={"use_env_proxies": True})
        self.assertIsNone(result.error_type, result)
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.header("x-proxy-user"), self.realm.principal("user1"))
        self.assertEqual(result.body, krb.ERROR_BODY)
        # A proxy request's %U is the absolute URI (with the query once more).
        lines = self.log_lines(self.apache.url(path), 2, prefix=True)
        self.assertEqual([(line[0], line[3]) for line in lines],
                         [("407", "-"), ("200", self.realm.principal("user1"))])

    def test_proxy_407_with_a_proxy_from_the_client_options(self):
        # No proxy in the environment: the flow learns the proxy host from the response.
        path = self.unique("/errors/404.txt")
        proxy = f"http://127.0.0.1:{self.apache.port}"
        result = self.probe(path, env=self.realm.env(), options={"http_proxy": proxy})
        self.assertIsNone(result.error_type, result)
        self.assertEqual(result.status, 200, result)
        self.assertEqual(result.header("x-proxy-user"), self.realm.principal("user1"))

    # -- names and credentials -------------------------------------------------------------------
    def test_target_name_override(self):
        for target in ("HTTP/alias.example@" + krb.REALM, "HTTP@alias.example"):
            with self.subTest(target=target):
                ccache = self.fresh_ccache()
                result = self.probe("/krb/ok", env=self.realm.env(ccache), target_name=target)
                self.assert_ok(result)
                tickets = self.realm.tickets(ccache)
                self.assertTrue(any(t.startswith("HTTP/alias.example@") for t in tickets), tickets)
                self.assertFalse(any(t.startswith("HTTP/127.0.0.1@") for t in tickets), tickets)

    def test_default_target_is_http_at_the_url_host(self):
        for host in ("127.0.0.1", "localhost"):
            with self.subTest(host=host):
                ccache = self.fresh_ccache()
                self.assert_ok(self.probe("/krb/ok", env=self.realm.env(ccache), host=host))
                tickets = self.realm.tickets(ccache)
                self.assertTrue(any(t.startswith(f"HTTP/{host}@") for t in tickets), tickets)

    def test_unknown_target_returns_the_401(self):
        result = self.probe("/krb/ok", target_name="HTTP/nosuch.example")
        self.assertIsNone(result.error_type, result)
        self.assertEqual(result.status, 401)

    def test_explicit_principal_from_a_second_ccache(self):
        user2 = self.fresh_ccache("user2")
        # The default ccache (realm.ccache) holds user1; the explicit one user2.
        result = self.probe("/krb/ok", principal=self.realm.principal("user2"), ccache=user2)
        self.assert_ok(result, user="user2")
        self.assert_ok(self.probe("/krb/ok"), user="user1")
        # A principal that is not in the cache is a clean error.
        result = self.probe("/krb/ok", principal=self.realm.principal("user2"))
        self.assertEqual(result.error_type, "SpnegoExchangeError", result)
        self.assertIn("user2@" + krb.REALM, result.error_message)

    def test_delegation_flag(self):
        stored = os.path.join(self.apache.deleg_dir, self.realm.principal("user1"))
        if os.path.exists(stored):
            os.unlink(stored)
        self.assert_ok(self.probe("/deleg/ok"))
        self.assertFalse(os.path.exists(stored), "credentials delegated without delegate=true")
        self.assert_ok(self.probe("/deleg/ok", delegate=True))
        self.assertTrue(os.path.exists(stored), os.listdir(self.apache.deleg_dir))
        # The stored ccache holds user1's forwarded TGT.
        self.assertIn("krbtgt/" + krb.REALM + "@" + krb.REALM, self.realm.tickets("FILE:" + stored))

    def test_no_ticket_is_a_clean_error(self):
        for ccache in (f"FILE:{self.realm.tmp}/no-such-ccache", ""):
            for opportunistic in (False, True):
                with self.subTest(ccache=ccache, opportunistic=opportunistic):
                    result = self.probe("/krb/ok", env=self.realm.env(ccache),
                                        opportunistic=opportunistic)
                    self.assertEqual(result.error_type, "SpnegoExchangeError", result)
                    self.assertTrue(result.error_message.startswith("initiating context failed: "),
                                    result.error_message)
                    self.assertIn("No Kerberos credentials available", result.error_message)

    def test_replayed_authorization_is_refused(self):
        result = self.probe("/echo/ok")
        self.assert_ok(result)
        seen = result.header("x-seen-authorization")
        self.assertTrue(seen and seen.startswith("Negotiate "), result)
        replay = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", f"Authorization: {seen}",
             self.apache.url("/echo/ok")], env=self.realm.env(), capture_output=True, text=True,
            timeout=30)
        self.assertEqual(replay.stdout, "401", replay.stderr)


if __name__ == "__main__":
    unittest.main()
