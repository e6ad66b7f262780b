"""`gatehouse login URL --device` (RFC 8628) against a foreign server, npm's `oidc-provider`
(node/oidc_provider.mjs), approved by a scripted browser (device_browser.py run as $BROWSER, which
also proves that the CLI opens one): the code and URL are printed, polling honours `interval` and
`slow_down`, denial and expiry end the login with a clear error, and the tokens land in the cache
with refresh_style oauth_form — after which `gatehouse request` uses them at the provider's
userinfo endpoint, refreshes them at its token endpoint (RFC 6749 §6), and `gatehouse logout`
revokes them (RFC 7009).

oidc-provider 9 sends no `interval` (the client then polls every 5 s, RFC 8628 §3.2) and never
`slow_down`; the provider script can add both (see its header) for the tests of those paths.
node and tests/integration/node/node_modules come from `scripts/install-deps.sh --test`.
"""
import http.server
import json
import os
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import gh

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
PROVIDER = os.path.join(NODE_DIR, "oidc_provider.mjs")
BROWSER = f"/usr/bin/python3 {os.path.join(HERE, 'device_browser.py')}"
INSTALL_HINT = "run scripts/install-deps.sh --test"
USER = "alice"
PASSWORD = "alice-Pa55-word"


def node_binary():
    node = shutil.which("node")
    if node is None:
        raise AssertionError(f"node is not installed: {INSTALL_HINT}")
    if not os.path.isfile(os.path.join(NODE_DIR, "node_modules", "oidc-provider", "package.json")):
        raise AssertionError(f"npm package oidc-provider is not installed in {NODE_DIR}: {INSTALL_HINT}")
    return node


class OidcProvider:
    """node oidc_provider.mjs on 127.0.0.1:<free port>; a context manager."""

    def __init__(self, **options):
        self.options = dict(user=USER, password=PASSWORD, **options)
        self.proc = None
        self.issuer = None

    def __enter__(self):
        self.proc = subprocess.Popen([node_binary(), PROVIDER, json.dumps(self.options)],
                                     cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=gh.clean_env())
        deadline = time.monotonic() + 20
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            if not ready:
                break
            chunk = os.read(self.proc.stdout.fileno(), 1)
            if not chunk:
                break
            line += chunk
        if not line.startswith(b"listening "):
            self.__exit__()
            raise AssertionError(f"oidc-provider did not start: {line!r} {self.proc.stderr.read()!r}")
        self.issuer = line.decode().split()[1]
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()

    def polls(self):
        with gh.http_client() as c:
            return c.get(self.issuer + "/test/polls").json()

    def userinfo(self, access_token):
        with gh.http_client() as c:
            return c.get(self.issuer + "/me", headers={"Authorization": "Bearer " + access_token})

    def refresh(self, refresh_token):
        with gh.http_client() as c:
            return c.post(self.issuer + "/token", data={"grant_type": "refresh_token",
                                                        "refresh_token": refresh_token,
                                                        "client_id": "gatehouse-cli"})


class DeviceLoginTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-device-")
        self.xdg = os.path.join(self.tmp, "xdg")
        self.browser_log = os.path.join(self.tmp, "browser.log")
        self.env = gh.clean_env(HOME=os.path.join(self.tmp, "home"), XDG_CONFIG_HOME=self.xdg,
                                BROWSER=BROWSER, DEVICE_BROWSER_USER=USER,
                                DEVICE_BROWSER_PASSWORD=PASSWORD,
                                DEVICE_BROWSER_LOG=self.browser_log)
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "GATEHOUSE_API_KEY"):
            self.env.pop(name, None)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def gh(self, *args, env=None):
        return subprocess.run([gh.BIN] + list(args), capture_output=True, text=True,
                              env=env or self.env, timeout=120, start_new_session=True)

    def browser_said(self):
        if not os.path.exists(self.browser_log):
            return []
        with open(self.browser_log) as f:
            return f.read().splitlines()

    def cache_file(self, issuer):
        port = issuer.rsplit(":", 1)[1]
        return os.path.join(self.xdg, "gatehouse", f"http_127.0.0.1_{port}.json")

    def cached(self, issuer):
        with open(self.cache_file(issuer)) as f:
            return json.load(f)

    def test_device_login_then_request_refresh_and_logout(self):
        with OidcProvider() as op:
            proc = self.gh("login", op.issuer, "--device")
            self.assertEqual(proc.returncode, 0, proc.stderr + repr(self.browser_said()))
            # The code and both URLs are printed; the browser got verification_uri_complete.
            opened = [l for l in self.browser_said() if l.startswith("opened ")]
            self.assertEqual(len(opened), 1, self.browser_said())
            complete = opened[0].split(" ", 1)[1]
            self.assertTrue(complete.startswith(op.issuer + "/device?user_code="), complete)
            user_code = complete.split("user_code=", 1)[1]
            self.assertIn(complete, proc.stderr)
            self.assertIn(op.issuer + "/device ", proc.stderr)
            self.assertIn(f"code: {user_code}", proc.stderr)
            self.assertIn("approved", self.browser_said())
            self.assertIn(f"logged in to {op.issuer} as {USER}", proc.stderr)
            # No `interval` from this provider: one poll after the default 5 s, which succeeds
            # (the browser approved well within it).
            polls = op.polls()
            self.assertEqual([p["answer"] for p in polls], ["tokens"], polls)
            self.assertGreaterEqual(polls[0]["t"], 4900)

            path = self.cache_file(op.issuer)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
            data = self.cached(op.issuer)
            self.assertEqual(data["refresh_style"], "oauth_form")
            self.assertEqual(data["refresh_url"], op.issuer + "/token")
            self.assertEqual(data["token_endpoint"], op.issuer + "/token")
            self.assertEqual(data["client_id"], "gatehouse-cli")
            self.assertEqual(data["user"], USER)
            self.assertTrue(data["refresh_token"])
            self.assertEqual(op.userinfo(data["access_token"]).json()["sub"], USER)

            # The cached token works through `gatehouse request`.
            proc = self.gh("request", op.issuer + "/me")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(json.loads(proc.stdout)["sub"], USER)

            # A refused access token is refreshed at the token endpoint (form body, client_id).
            data["access_token"] = "not-a-valid-token"
            with open(path, "w") as f:
                json.dump(data, f)
            proc = self.gh("request", "-v", op.issuer + "/me")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(json.loads(proc.stdout)["sub"], USER)
            refreshed = self.cached(op.issuer)
            self.assertNotEqual(refreshed["access_token"], "not-a-valid-token")
            self.assertEqual(op.userinfo(refreshed["access_token"]).status_code, 200)
            self.assertNotIn(refreshed["access_token"], proc.stdout + proc.stderr)
            self.assertNotIn(refreshed["refresh_token"], proc.stdout + proc.stderr)

            # Logout revokes at the discovered revocation endpoint and forgets the tokens.
            proc = self.gh("logout", op.issuer)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertFalse(os.path.exists(path))
            self.assertEqual(op.refresh(refreshed["refresh_token"]).json().get("error"),
                             "invalid_grant")
            self.assertEqual(op.userinfo(refreshed["access_token"]).status_code, 401)

    def test_slow_down_adds_five_seconds_to_the_interval(self):
        # interval 1 s advertised, but polls closer than 2 s apart get slow_down.
        with OidcProvider(interval=1, minPollGap=2) as op:
            proc = self.gh("login", op.issuer, "--device")
            self.assertEqual(proc.returncode, 0, proc.stderr + repr(self.browser_said()))
            polls = op.polls()
            self.assertEqual([p["answer"] for p in polls], ["slow_down", "tokens"], polls)
            self.assertGreaterEqual(polls[0]["t"], 900)
            # RFC 8628 §3.5: after slow_down the client waits interval + 5 s = 6 s.
            self.assertGreaterEqual(polls[1]["t"] - polls[0]["t"], 5900, polls)
            self.assertEqual(self.cached(op.issuer)["refresh_style"], "oauth_form")

    def test_interval_from_the_server_is_honoured(self):
        with OidcProvider(interval=1) as op:
            proc = self.gh("login", op.issuer, "--device")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            polls = op.polls()
            self.assertEqual(polls[-1]["answer"], "tokens")
            self.assertTrue(all(p["answer"] in ("authorization_pending", "tokens") for p in polls))
            self.assertGreaterEqual(polls[0]["t"], 900)
            for before, after in zip(polls, polls[1:]):
                self.assertGreaterEqual(after["t"] - before["t"], 900, polls)

    def test_denied_in_the_browser(self):
        env = dict(self.env, DEVICE_BROWSER_ACTION="deny")
        with OidcProvider(interval=1) as op:
            proc = self.gh("login", op.issuer, "--device", env=env)
            self.assertEqual(proc.returncode, 1)
            self.assertEqual(proc.stderr.strip().splitlines()[-1], "gatehouse: the login was denied")
            self.assertIn("denied", self.browser_said())
            self.assertFalse(os.path.exists(self.cache_file(op.issuer)))

    def test_expired_code_without_a_browser(self):
        # No $BROWSER and no display: the URL is printed, nothing is opened, and the login
        # ends when the code expires.
        env = dict(self.env)
        del env["BROWSER"]
        with OidcProvider(interval=1, deviceTtl=2) as op:
            proc = self.gh("login", op.issuer, "--device", env=env)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("To log in, open " + op.issuer + "/device?user_code=", proc.stderr)
            self.assertNotIn("opened a browser", proc.stderr)
            self.assertIn("expired", proc.stderr.strip().splitlines()[-1])
            self.assertEqual(self.browser_said(), [])
            self.assertFalse(os.path.exists(self.cache_file(op.issuer)))

    def test_a_browser_that_cannot_start_does_not_fail_the_login(self):
        env = dict(self.env, BROWSER="/nonexistent/browser")
        with OidcProvider(interval=1, deviceTtl=2) as op:
            proc = self.gh("login", op.issuer, "--device", env=env)
            self.assertEqual(proc.returncode, 1)  # expired, since nobody approved
            self.assertIn("expired", proc.stderr)
            self.assertNotIn("opened a browser", proc.stderr)

    def test_unknown_client_is_a_clear_error(self):
        with OidcProvider() as op:
            proc = self.gh("login", op.issuer, "--device", "--client-id", "nobody")
            self.assertEqual(proc.returncode, 1)
            self.assertIn("device authorization refused", proc.stderr)
            self.assertEqual(self.browser_said(), [])

    def test_metadata_of_another_issuer_is_refused(self):
        # RFC 8414 §3.3: a discovery document whose issuer is not the URL asked is not used, so
        # neither the device code nor later refresh tokens go to the endpoints it names.
        seen = []

        class Metadata(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(("GET", self.path))
                body = json.dumps({"issuer": "http://evil.example",
                                   "token_endpoint": "http://evil.example/token",
                                   "device_authorization_endpoint": "http://evil.example/device"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def do_POST(self):
                seen.append(("POST", self.path))
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            proc = self.gh("login", url, "--device", "--no-browser")
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn('names the issuer "http://evil.example", not "' + url + '"', proc.stderr)
        self.assertEqual(seen, [("GET", "/.well-known/openid-configuration")])
        self.assertFalse(os.path.exists(self.cache_file(url)))


if __name__ == "__main__":
    unittest.main()
