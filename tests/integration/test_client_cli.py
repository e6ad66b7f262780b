"""`gatehouse login`, `logout` and `request` (docs/client-cli.md) against a real gatehouse server:
password login into the token cache (directory 0700, file 0600, under XDG_CONFIG_HOME or
~/.config), requests with the cached bearer token, silent refresh that rewrites the cache, logout
that ends the session on the server, Basic/Digest/auto/API key requests, exit codes 0/1/2, secrets
masked by -v, raw output when piped and pretty JSON on a terminal.

Every CLI run gets HOME and XDG_CONFIG_HOME inside the test's temp dir, never the real ones.
"""
import base64
import glob
import http.server
import json
import os
import pty
import select
import shutil
import stat
import subprocess
import tempfile
import threading
import unittest

import gh

USER = "carol"
PASSWORD = "Pw-5ecret-Qx7!z"  # distinctive, so finding it in any output is meaningful
CONFIG = ('[log]\naccess = ""\n[auth]\nschemes = ["digest", "apikey", "bearer", "basic"]\n')


class ClientCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server(config_text=CONFIG).start()
        cls.server.cli(["user", "add", USER, "--password-stdin", "--digest"], stdin=PASSWORD + "\n")
        # A user added beside a running server is seen within PROPAGATION_S (SPEC §6).
        gh.wait_status(cls.server.url + "/auth/whoami", 200, timeout=gh.PROPAGATION_S + 1,
                       auth=(USER, PASSWORD))

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-cli-")
        self.home = os.path.join(self.tmp, "home")
        self.xdg = os.path.join(self.tmp, "xdg")
        os.mkdir(self.home)
        self.env = gh.clean_env(HOME=self.home, XDG_CONFIG_HOME=self.xdg)
        self.env.pop("GATEHOUSE_API_KEY", None)
        self.url = self.server.url

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- helpers --------------------------------------------------------------------------
    def gh(self, *args, stdin=None, env=None, new_session=True):
        """Runs the CLI with the test's HOME/XDG_CONFIG_HOME and no controlling terminal."""
        return subprocess.run([gh.BIN] + list(args), input=stdin, capture_output=True, text=True,
                              env=env or self.env, timeout=60, start_new_session=new_session)

    def ok(self, *args, **kwargs):
        proc = self.gh(*args, **kwargs)
        self.assertEqual(proc.returncode, 0, f"{args}: {proc.stderr}")
        return proc

    def login(self):
        proc = self.ok("login", self.url, "--password-stdin", "-u", USER, stdin=PASSWORD + "\n")
        self.assertIn(f"logged in to {self.url} as {USER}", proc.stderr)
        return proc

    def cache_file(self, base=None):
        port = self.server.port
        return os.path.join(base or os.path.join(self.xdg, "gatehouse"),
                            f"http_127.0.0.1_{port}.json")

    def cached(self):
        with open(self.cache_file()) as f:
            return json.load(f)

    def write_cache(self, data):
        path = self.cache_file()
        with open(path, "w") as f:
            json.dump(data, f)
        os.chmod(path, 0o600)

    def new_key(self):
        """An API key of USER that the running server already accepts."""
        key, _ = self.server.create_key(USER)
        gh.wait_status(self.url + "/auth/whoami", 200, timeout=gh.PROPAGATION_S + 1,
                       headers={"X-API-Key": key})
        return key

    def whoami(self, *extra):
        proc = self.ok("request", self.url + "/auth/whoami", *extra)
        return json.loads(proc.stdout)

    def refresh_status(self, refresh_token):
        with gh.http_client() as c:
            return c.post(self.url + "/auth/refresh", json={"refresh_token": refresh_token}).status_code

    def assert_no_secret(self, proc, *secrets):
        text = proc.stdout + proc.stderr
        for secret in secrets:
            self.assertTrue(secret)
            self.assertNotIn(secret, text)

    # ---- login, cache, bearer, refresh, logout --------------------------------------------
    def test_login_caches_tokens_privately_under_xdg_config_home(self):
        self.login()
        directory = os.path.join(self.xdg, "gatehouse")
        self.assertEqual(stat.S_IMODE(os.stat(directory).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(self.cache_file()).st_mode), 0o600)
        # Beside the tokens, the empty lock file that serializes writers (docs/client-cli.md).
        self.assertEqual(sorted(os.listdir(directory)),
                         [os.path.basename(self.cache_file()),
                          os.path.basename(self.cache_file()) + ".lock"])
        self.assertEqual(stat.S_IMODE(os.stat(self.cache_file() + ".lock").st_mode), 0o600)
        data = self.cached()
        self.assertEqual(data["user"], USER)
        self.assertEqual(data["refresh_style"], "gatehouse_json")
        self.assertEqual(data["refresh_url"], self.url + "/auth/refresh")
        self.assertTrue(data["refresh_token"].startswith("ghr_"))
        self.assertGreater(data["expires_at"], 0)
        # The cached access token is a real one.
        with gh.http_client() as c:
            r = c.get(self.url + "/auth/whoami",
                      headers={"Authorization": "Bearer " + data["access_token"]})
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["user"], USER)

    def test_without_xdg_config_home_the_cache_is_in_home_config(self):
        env = dict(self.env)
        del env["XDG_CONFIG_HOME"]
        self.ok("login", self.url, "--password-stdin", "-u", USER, stdin=PASSWORD + "\n", env=env)
        directory = os.path.join(self.home, ".config", "gatehouse")
        self.assertEqual(stat.S_IMODE(os.stat(directory).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(self.cache_file(directory)).st_mode), 0o600)
        proc = self.ok("request", self.url + "/auth/whoami", env=env)
        self.assertEqual(json.loads(proc.stdout)["scheme"], "bearer")

    def test_request_uses_the_cached_bearer_token(self):
        self.login()
        who = self.whoami()
        self.assertEqual(who["user"], USER)
        self.assertEqual(who["scheme"], "bearer")

    def test_a_bogus_cached_access_token_is_refreshed_silently_and_cached(self):
        self.login()
        before = self.cached()
        self.write_cache(dict(before, access_token="bogus." + before["access_token"][7:]))
        proc = self.ok("request", self.url + "/auth/whoami")
        self.assertEqual(json.loads(proc.stdout)["scheme"], "bearer")
        self.assertEqual(proc.stderr, "")
        after = self.cached()
        self.assertNotEqual(after["access_token"], before["access_token"])
        self.assertNotEqual(after["refresh_token"], before["refresh_token"])
        self.assertEqual(stat.S_IMODE(os.stat(self.cache_file()).st_mode), 0o600)
        # The cached refresh token is the session's current one.
        self.assertEqual(self.refresh_status(after["refresh_token"]), 200)

    def test_a_refused_refresh_says_log_in_again(self):
        self.login()
        data = self.cached()
        self.write_cache(dict(data, access_token="bogus", refresh_token="ghr_bogus"))
        proc = self.gh("request", self.url + "/auth/whoami")
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr.strip(), "gatehouse: session expired: log in again")

    def test_logout_ends_the_session_and_deletes_the_file(self):
        self.login()
        data = self.cached()
        proc = self.ok("logout", self.url)
        self.assertIn("logged out", proc.stderr)
        self.assertFalse(os.path.exists(self.cache_file()))
        self.assertEqual(self.refresh_status(data["refresh_token"]), 401)
        with gh.http_client() as c:
            r = c.get(self.url + "/auth/whoami",
                      headers={"Authorization": "Bearer " + data["access_token"]})
        self.assertEqual(r.status_code, 401)
        # Again: nothing to log out of.
        proc = self.gh("logout", self.url)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not logged in", proc.stderr)
        # And requests no longer carry a token.
        proc = self.gh("request", self.url + "/auth/whoami")
        self.assertEqual(proc.returncode, 1)

    def test_logout_with_an_expired_access_token_revokes_the_refresh_token(self):
        self.login()
        data = self.cached()
        self.write_cache(dict(data, access_token="bogus"))
        self.ok("logout", self.url)
        self.assertFalse(os.path.exists(self.cache_file()))
        self.assertEqual(self.refresh_status(data["refresh_token"]), 401)

    def test_a_cache_file_others_can_read_is_refused(self):
        self.login()
        os.chmod(self.cache_file(), 0o644)
        proc = self.gh("request", self.url + "/auth/whoami")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("refusing to read", proc.stderr)
        self.assertIn("0644", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_wrong_password_login_fails_and_caches_nothing(self):
        proc = self.gh("login", self.url, "--password-stdin", "-u", USER, stdin="wrong\n")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("login refused", proc.stderr)
        self.assertFalse(os.path.exists(self.cache_file()))

    # ---- other schemes ----------------------------------------------------------------------
    def test_basic_digest_and_auto_with_user_and_password(self):
        for auth, scheme in (("basic", "basic"), ("digest", "digest"), ("auto", "digest")):
            with self.subTest(auth=auth):
                who = self.whoami("--auth", auth, "-u", f"{USER}:{PASSWORD}")
                self.assertEqual((who["user"], who["scheme"]), (USER, scheme))
        # -u alone means auto.
        self.assertEqual(self.whoami("-u", f"{USER}:{PASSWORD}")["scheme"], "digest")

    def test_explicit_credentials_win_over_the_cache(self):
        self.login()
        self.assertEqual(self.whoami("-u", f"{USER}:{PASSWORD}", "--auth", "basic")["scheme"],
                         "basic")

    def test_api_key_from_option_and_environment(self):
        key = self.new_key()
        self.assertEqual(self.whoami("--api-key", key)["scheme"], "apikey")
        env = dict(self.env, GATEHOUSE_API_KEY=key)
        proc = self.ok("request", "--auth", "apikey", self.url + "/auth/whoami", env=env)
        self.assertEqual(json.loads(proc.stdout)["scheme"], "apikey")
        # Without --auth apikey the environment's key is not sent anywhere.
        proc = self.gh("request", "-v", self.url + "/auth/whoami", env=env)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertNotIn("> Authorization", proc.stderr)

    # ---- exit codes -------------------------------------------------------------------------
    def test_exit_codes(self):
        self.assertEqual(self.gh("request", self.url + "/healthz").returncode, 0)
        # httpie's shorthands: no scheme is http://, ":PORT" is localhost.
        self.assertEqual(self.gh("request", f"127.0.0.1:{self.server.port}/healthz").returncode, 0)
        self.assertEqual(self.gh("request", f":{self.server.port}/healthz").returncode, 0)
        wrong = self.gh("request", "--auth", "basic", "-u", f"{USER}:nope", self.url + "/auth/whoami")
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("HTTP 401", wrong.stderr)
        missing = self.gh("request", self.url + "/no/such/route")
        self.assertEqual(missing.returncode, 1)
        self.assertIn("HTTP 404", missing.stderr)
        self.assertIn("error", missing.stdout)  # the error body is still shown
        refused = self.gh("request", "http://127.0.0.1:9/")  # nothing listens on discard
        self.assertEqual(refused.returncode, 1)
        self.assertTrue(refused.stderr.startswith("gatehouse: "), refused.stderr)
        for args in (["request"],
                     ["request", "--bogus", self.url],
                     ["request", "G ET", self.url],
                     ["request", "GET", self.url, "extra"],
                     ["request", "-H", "no colon", self.url],
                     ["request", "--json", "--data", "{not json", self.url],
                     ["request", "--auth", "kerberos", self.url],
                     ["request", "--auth", "basic", self.url],
                     ["request", "ftp://example.com/"],
                     ["login"],
                     ["login", self.url, "--device", "--password"],
                     ["login", self.url, "--password-stdin"]):
            with self.subTest(args=args):
                proc = self.gh(*args, stdin="")
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertNotEqual(proc.stderr.strip(), "")

    def test_a_password_prompt_without_a_terminal_is_a_usage_error(self):
        proc = self.gh("request", "-u", USER, self.url + "/auth/whoami")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no terminal", proc.stderr)

    def test_no_follow_returns_the_redirect_with_exit_0(self):
        target = self.url + "/healthz"

        class Redirect(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{httpd.server_address[1]}/go"
            proc = self.gh("request", "-v", "--no-follow", url)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("< HTTP/1.1 302", proc.stderr)
            followed = self.ok("request", url)
            self.assertEqual(followed.stdout.strip(), self.gh("request", target).stdout.strip())
        finally:
            httpd.shutdown()
            httpd.server_close()

    # ---- bodies and -v ------------------------------------------------------------------------
    def test_json_data_posts_with_json_content_type(self):
        body = json.dumps({"username": USER, "password": PASSWORD})
        proc = self.ok("request", "-v", "--json", "--data", body, self.url + "/auth/login")
        self.assertIn("> POST /auth/login HTTP/1.1", proc.stderr)
        self.assertIn("> Content-Type: application/json", proc.stderr)
        self.assertIn('"password":"****"', proc.stderr)
        tokens = json.loads(proc.stdout)
        self.assertIn("access_token", tokens)
        self.assertNotIn(PASSWORD, proc.stdout + proc.stderr)
        # @file reads the body from a file.
        path = os.path.join(self.tmp, "body.json")
        with open(path, "w") as f:
            f.write(body)
        self.assertIn("access_token", json.loads(self.ok("request", "POST", self.url + "/auth/login",
                                                          "--data", "@" + path).stdout))

    def test_verbose_masks_passwords_tokens_and_keys(self):
        basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        for auth in ("basic", "digest", "auto"):
            with self.subTest(auth=auth):
                proc = self.ok("request", "-v", "--auth", auth, "-u", f"{USER}:{PASSWORD}",
                               self.url + "/auth/whoami")
                self.assertIn("> Authorization: " + ("Basic" if auth == "basic" else "Digest") +
                              " ****", proc.stderr)
                self.assertIn("< HTTP/1.1 200 OK", proc.stderr)
                self.assert_no_secret(proc, PASSWORD, basic)
        key = self.new_key()
        proc = self.ok("request", "-v", "--api-key", key, self.url + "/auth/whoami")
        self.assertIn("Authorization: Apikey ****", proc.stderr)
        self.assert_no_secret(proc, key, key.split("_")[-1])
        proc = self.ok("request", "-v", "-H", "X-API-Key: " + key, self.url + "/auth/whoami",
                       "--auth", "none")
        self.assertIn("> X-API-Key: ****", proc.stderr)
        self.assert_no_secret(proc, key)
        proc = self.ok("request", "-v", "--auth", "none", f"{self.url}/auth/whoami?api_key={key}")
        self.assertIn("api_key=****", proc.stderr)
        self.assert_no_secret(proc, key)

        self.login()
        data = self.cached()
        proc = self.ok("request", "-v", self.url + "/auth/whoami")
        self.assertIn("> Authorization: Bearer ****", proc.stderr)
        self.assert_no_secret(proc, data["access_token"], data["refresh_token"])
        # Through a refresh too.
        self.write_cache(dict(data, access_token="bogus"))
        proc = self.ok("request", "-v", self.url + "/auth/whoami")
        self.assertEqual(proc.stderr.count("> Authorization: Bearer ****"), 2)
        fresh = self.cached()
        self.assert_no_secret(proc, data["refresh_token"], fresh["access_token"],
                              fresh["refresh_token"])

    # ---- output -----------------------------------------------------------------------------
    def test_piped_output_is_the_raw_body(self):
        proc = self.ok("request", "--auth", "basic", "-u", f"{USER}:{PASSWORD}",
                       self.url + "/auth/whoami")
        with gh.http_client() as c:
            raw = c.get(self.url + "/auth/whoami", auth=(USER, PASSWORD)).text
        self.assertEqual(proc.stdout, raw)
        self.assertNotIn("\n", proc.stdout.strip())

    def test_terminal_output_is_pretty_json(self):
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([gh.BIN, "request", "-u", f"{USER}:{PASSWORD}",
                                     self.url + "/auth/whoami"], stdout=slave,
                                    stderr=subprocess.PIPE, env=self.env, start_new_session=True)
            os.close(slave)
            slave = None
            chunks = []
            while True:
                ready, _, _ = select.select([master], [], [], 30)
                if not ready:
                    break
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            self.assertEqual(proc.wait(timeout=30), 0, proc.stderr.read())
            proc.stderr.close()
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)
        text = b"".join(chunks).decode().replace("\r\n", "\n")
        self.assertTrue(text.startswith("{\n  \"user\": \"carol\",\n"), repr(text))
        self.assertIn('\n  "roles": [\n    "User"\n  ]', text)
        self.assertEqual(json.loads(text)["scheme"], "digest")



class ConcurrentRefreshTest(unittest.TestCase):
    """Two `gatehouse request` processes holding the same cached tokens, whose access token the
    server refuses, refresh once between them: the second waits on the token cache's lock, sees
    that the cached refresh token changed, and retries with the cached tokens. The server runs
    with reuse_grace = "0s" (strict single use, docs/tokens.md), so a second refresh with the old
    refresh token would be taken for a stolen token and revoke the session."""

    def test_two_processes_refresh_once_and_the_session_survives(self):
        rounds = 3
        tmp = tempfile.mkdtemp(prefix="gatehouse-cli-race-")
        self.addCleanup(shutil.rmtree, tmp, True)
        access = os.path.join(tmp, "access.log")
        xdg = os.path.join(tmp, "xdg")
        env = gh.clean_env(HOME=os.path.join(tmp, "home"), XDG_CONFIG_HOME=xdg)
        env.pop("GATEHOUSE_API_KEY", None)
        config = f'[log]\naccess = "{access}"\n[tokens]\nreuse_grace = "0s"\n'
        with gh.Server(config_text=config) as server:
            login = subprocess.run([gh.BIN, "login", server.url, "--password-stdin", "-u", "demo"],
                                   input="demo\n", capture_output=True, text=True, env=env,
                                   timeout=60, start_new_session=True)
            self.assertEqual(login.returncode, 0, login.stderr)
            path = os.path.join(xdg, "gatehouse", f"http_127.0.0.1_{server.port}.json")
            # Several rounds, so that the two processes overlap at least once (without the lock
            # they refresh twice whenever both read the cache before either stored).
            for _ in range(rounds):
                with open(path) as f:
                    before = json.load(f)
                with open(path, "w") as f:
                    json.dump(dict(before, access_token="bogus"), f)
                procs = [subprocess.Popen([gh.BIN, "request", server.url + "/auth/whoami"],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True, env=env, start_new_session=True)
                         for _ in range(2)]
                for proc in procs:
                    out, err = proc.communicate(timeout=60)
                    self.assertEqual(proc.returncode, 0, err)
                    self.assertEqual(json.loads(out)["user"], "demo")
                    self.assertEqual(err, "")
                with open(path) as f:
                    after = json.load(f)
                self.assertNotEqual(after["refresh_token"], before["refresh_token"])
            self.assertEqual(stat.S_IMODE(os.stat(path + ".lock").st_mode), 0o600)
            # The session is alive: a third command works with the cached tokens.
            third = subprocess.run([gh.BIN, "request", server.url + "/auth/whoami"],
                                   capture_output=True, text=True, env=env, timeout=60,
                                   start_new_session=True)
            self.assertEqual(third.returncode, 0, third.stderr)
            server.stop()  # flushes the access log
            with open(access) as f:
                lines = [json.loads(line) for line in f if line.strip()]
        refreshes = [line for line in lines if line["path"] == "/auth/refresh"]
        self.assertEqual(len(refreshes), rounds, refreshes)  # one POST /auth/refresh per round
        self.assertEqual([line["status"] for line in refreshes], [200] * rounds)


if __name__ == "__main__":
    unittest.main()
