"""CSRF and CORS against the real server (SPEC §10, docs/guard.md).

Cross-site unsafe requests carrying credentials a browser attaches by itself (Basic, Digest,
Negotiate, cookies) are refused before authentication; bearer tokens and API keys are exempt;
CORS answers only the explicit allow-list. Requests are sent with http.client so that every
header (Origin, Sec-Fetch-Site, Host) is exactly what the test says, and with real curl.
"""
import base64
import http.client
import json
import subprocess
import unittest

import gh

ALLOWED = "https://app.example"
FOREIGN = "https://evil.example"
PUBLIC_URL = "http://localhost:8000"  # the server's own origin ([server] public_url)
DEMO_BASIC = "Basic " + base64.b64encode(b"demo:demo").decode()
EXPOSE = ("X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-RateLimit-Limit-Period, "
          "Retry-After, Sunset, Allow")


class Reply:
    def __init__(self, r):
        self.status = r.status
        self.headers = r.getheaders()  # [(name, value)] as sent
        self.body = r.read()

    def header(self, name):
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Reply({self.status}, {self.headers!r}, {self.body[:300]!r})"


class CsrfCorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server(config_text=f'[server]\npublic_url = "{PUBLIC_URL}"\n'
                                           f'[guard]\nallowed_origins = ["{ALLOWED}"]\n').start()
        cls.same_origin = f"http://127.0.0.1:{cls.server.port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def request(self, method, path, headers=None, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            return Reply(conn.getresponse())
        finally:
            conn.close()

    def session_count(self):
        r = self.request("GET", "/auth/sessions", {"Authorization": DEMO_BASIC})
        self.assertEqual(r.status, 200, r)
        return len(r.json()["sessions"])

    def login(self):
        r = self.request("POST", "/auth/login", {"Authorization": DEMO_BASIC})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def assert_csrf_refused(self, r):
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json(), {"error": "csrf_failed",
                                    "error_description": "Unable to authorize request"})
        self.assertNotIn(b"access_token", r.body)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"), r)

    # ---- CSRF --------------------------------------------------------------------------------

    def test_cross_site_basic_login_is_refused_and_issues_no_token(self):
        before = self.session_count()
        r = self.request("POST", "/auth/login", {"Authorization": DEMO_BASIC, "Origin": FOREIGN,
                                                 "Sec-Fetch-Site": "cross-site"})
        self.assert_csrf_refused(r)
        self.assertEqual(r.header_all("Vary"), ["Origin"])
        # An older browser without Fetch Metadata: the foreign Origin is not this Host.
        r = self.request("POST", "/auth/login", {"Authorization": DEMO_BASIC, "Origin": FOREIGN})
        self.assert_csrf_refused(r)
        # A sibling site is same-site, still not same-origin.
        r = self.request("POST", "/auth/login", {"Authorization": DEMO_BASIC,
                                                 "Origin": "http://other.localhost:8000",
                                                 "Sec-Fetch-Site": "same-site"})
        self.assert_csrf_refused(r)
        self.assertEqual(self.session_count(), before, "a refused login must not make a session")

    def test_every_browser_attached_credential_is_checked(self):
        for authorization in [DEMO_BASIC, "basic " + DEMO_BASIC.split()[1],
                              'Digest username="demo", realm="gatehouse", nonce="x", uri="/", '
                              'response="00"',
                              "Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg"]:
            with self.subTest(authorization=authorization.split()[0]):
                r = self.request("POST", "/auth/login", {"Authorization": authorization,
                                                         "Origin": FOREIGN,
                                                         "Sec-Fetch-Site": "cross-site"})
                self.assert_csrf_refused(r)
        r = self.request("POST", "/auth/login", {"Cookie": "session=abc", "Origin": FOREIGN,
                                                 "Sec-Fetch-Site": "cross-site",
                                                 "Content-Type": "application/json"},
                         body=json.dumps({"username": "demo", "password": "demo"}))
        self.assert_csrf_refused(r)

    def test_bearer_and_api_key_headers_are_exempt(self):
        cross_site = {"Origin": FOREIGN, "Sec-Fetch-Site": "cross-site"}
        pair = self.login()
        key, key_id = self.server.create_key("demo", "--name", "csrf")
        gh.wait_status(self.server.url + "/auth/whoami", 200, headers={"X-API-Key": key})
        body = json.dumps({"name": "made cross-site"})
        for credential in [{"X-API-Key": key}, {"Authorization": "Apikey " + key}]:
            with self.subTest(credential=list(credential)[0]):
                r = self.request("POST", "/auth/apikeys",
                                 {**credential, **cross_site, "Content-Type": "application/json"},
                                 body=body)
                self.assertEqual(r.status, 201, r)
                self.assertIn("key", r.json())
        r = self.request("POST", "/auth/logout",
                         {"Authorization": "Bearer " + pair["access_token"], **cross_site})
        self.assertIn(r.status, (200, 204), r)
        # The session really ended: the refresh token is dead.
        r = self.request("POST", "/auth/refresh", {"Content-Type": "application/json"},
                         body=json.dumps({"refresh_token": pair["refresh_token"]}))
        self.assertIn(r.status, (400, 401), r)
        self.assertEqual(r.json()["error"], "invalid_grant")
        # No credentials at all is no CSRF matter either (a wrong JSON login is a 401, not a 403).
        r = self.request("POST", "/auth/login", {**cross_site, "Content-Type": "application/json"},
                         body=json.dumps({"username": "demo", "password": "wrong"}))
        self.assertEqual(r.status, 401, r)

    def test_same_origin_post_with_basic_is_allowed(self):
        for headers in [{"Origin": self.same_origin, "Sec-Fetch-Site": "same-origin"},
                        {"Origin": self.same_origin},  # no Fetch Metadata: Origin matches Host
                        {"Origin": PUBLIC_URL, "Sec-Fetch-Site": "cross-site"},  # own origin
                        {"Origin": ALLOWED, "Sec-Fetch-Site": "cross-site"},  # allowed origin
                        {"Sec-Fetch-Site": "none"}]:  # typed into the address bar
            with self.subTest(headers=headers):
                r = self.request("POST", "/auth/login", {"Authorization": DEMO_BASIC, **headers})
                self.assertEqual(r.status, 200, r)
                self.assertIn("access_token", r.json())

    def test_curl_without_origin_is_allowed(self):
        curl = gh.require_tool("curl")
        proc = subprocess.run([curl, "-sS", "-X", "POST", "-u", "demo:demo", "-o", "-",
                               "-w", "\n%{http_code}", self.server.url + "/auth/login"],
                              capture_output=True, text=True, timeout=30, env=gh.clean_env())
        body, _, code = proc.stdout.rpartition("\n")
        self.assertEqual(code, "200", proc.stdout + proc.stderr)
        self.assertIn("access_token", json.loads(body))

    def test_hostile_origins_are_foreign_not_errors(self):
        for origin in ["null", "https://a.example:99999", "https://a .example",
                       "http://127.0.0.1:%d/" % self.server.port, "", "\u00e9".encode().decode("latin-1")]:
            with self.subTest(origin=origin):
                r = self.request("POST", "/auth/login", {"Authorization": DEMO_BASIC,
                                                         "Origin": origin})
                self.assert_csrf_refused(r)
        r = self.server.exchange(b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Origin: https://evil.example\r\nOrigin: " +
                                 self.same_origin.encode() +
                                 b"\r\nAuthorization: " + DEMO_BASIC.encode() +
                                 b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        self.assertEqual(gh.status_of(r), 403, r)
        self.assertTrue(self.server.alive())

    # ---- CORS --------------------------------------------------------------------------------

    def test_preflight_from_an_allowed_origin(self):
        r = self.request("OPTIONS", "/auth/apikeys", {
            "Origin": ALLOWED, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header_all("Access-Control-Allow-Origin"), [ALLOWED])
        self.assertEqual(r.header_all("Access-Control-Allow-Credentials"), ["true"])
        methods = {m.strip() for m in r.header("Access-Control-Allow-Methods").split(",")}
        self.assertEqual(methods, {"GET", "HEAD", "POST"})
        allowed_headers = {h.strip().lower()
                           for h in r.header("Access-Control-Allow-Headers").split(",")}
        self.assertTrue({"authorization", "content-type", "x-api-key", "x-requested-with",
                         "if-match", "x-http-method-override"} <= allowed_headers, r)
        self.assertEqual(r.header_all("Access-Control-Max-Age"), ["86400"])
        self.assertEqual(r.header_all("Vary"), ["Origin"])
        self.assertEqual(r.body, b"")

    def test_preflight_from_a_foreign_origin_is_refused(self):
        for origin in [FOREIGN, "null", ALLOWED + "/", "https://APP.example"]:
            with self.subTest(origin=origin):
                r = self.request("OPTIONS", "/auth/login", {
                    "Origin": origin, "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization"})
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.json()["error"], "origin_not_allowed")
                for name in ["Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                             "Access-Control-Allow-Methods"]:
                    self.assertIsNone(r.header(name), r)

    def test_get_from_an_allowed_origin_carries_cors(self):
        r = self.request("GET", "/auth/whoami", {"Authorization": DEMO_BASIC, "Origin": ALLOWED})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["user"], "demo")
        self.assertEqual(r.header_all("Access-Control-Allow-Origin"), [ALLOWED])
        self.assertEqual(r.header_all("Access-Control-Allow-Credentials"), ["true"])
        self.assertEqual(r.header_all("Access-Control-Expose-Headers"), [EXPOSE])
        self.assertEqual(r.header_all("Vary"), ["Origin"])
        # Errors are decorated too, so the page can read why.
        r = self.request("GET", "/auth/whoami", {"Origin": ALLOWED})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.header_all("Access-Control-Allow-Origin"), [ALLOWED])

    def test_foreign_origin_gets_no_cors_and_no_origin_gets_nothing(self):
        r = self.request("GET", "/auth/whoami", {"Authorization": DEMO_BASIC, "Origin": FOREIGN})
        self.assertEqual(r.status, 200, r)  # a GET is no CSRF matter; the browser blocks the read
        self.assertIsNone(r.header("Access-Control-Allow-Origin"), r)
        self.assertIsNone(r.header("Access-Control-Allow-Credentials"), r)
        self.assertEqual(r.header_all("Vary"), ["Origin"])
        r = self.request("GET", "/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("Vary"), r)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"), r)

    def test_options_that_is_not_a_preflight_is_routed(self):
        r = self.request("OPTIONS", "/auth/login", {"Origin": ALLOWED})
        self.assertEqual(r.status, 405, r)
        self.assertIn("POST", r.header("Allow"))


class WildcardCorsTest(unittest.TestCase):
    """allowed_origins = ["*", ...]: "*" for requests without credentials, never with them."""

    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server(config_text=f'[guard]\nallowed_origins = ["*", "{ALLOWED}"]\n').start()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def get(self, path, headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            conn.request("GET", path, headers=headers)
            return Reply(conn.getresponse())
        finally:
            conn.close()

    def test_star_only_without_credentials(self):
        r = self.get("/healthz", {"Origin": FOREIGN})
        self.assertEqual(r.header_all("Access-Control-Allow-Origin"), ["*"])
        self.assertIsNone(r.header("Access-Control-Allow-Credentials"), r)
        r = self.get("/auth/whoami", {"Origin": FOREIGN, "Authorization": DEMO_BASIC})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"), r)
        self.assertIsNone(r.header("Access-Control-Allow-Credentials"), r)
        r = self.get("/auth/whoami", {"Origin": ALLOWED, "Authorization": DEMO_BASIC})
        self.assertEqual(r.header_all("Access-Control-Allow-Origin"), [ALLOWED])
        self.assertEqual(r.header_all("Access-Control-Allow-Credentials"), ["true"])

    def test_wildcard_does_not_open_csrf(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            conn.request("POST", "/auth/login", headers={"Authorization": DEMO_BASIC,
                                                         "Origin": FOREIGN,
                                                         "Sec-Fetch-Site": "cross-site"})
            r = Reply(conn.getresponse())
        finally:
            conn.close()
        self.assertEqual(r.status, 403, r)
        self.assertIsNone(r.header("Access-Control-Allow-Origin"), r)


if __name__ == "__main__":
    unittest.main()
