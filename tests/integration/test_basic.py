"""Basic authentication (RFC 7617) end to end: real clients, the user CLI, htpasswd files."""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import httpx
import requests

import gh


def basic_header(user, password):
    raw = user.encode() + b":" + password.encode() if isinstance(user, str) else user + b":" + password
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


class DemoServerTest(unittest.TestCase):
    """The demo server (admin/admin Admin, demo/demo User) driven by curl, httpie, httpx, requests."""

    @classmethod
    def setUpClass(cls):
        cls.curl = gh.require_tool("curl")
        cls.http = gh.require_tool("http")
        cls.server = gh.Server().start()
        cls.httpie_config = tempfile.mkdtemp(prefix="gatehouse-httpie-")

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.httpie_config, ignore_errors=True)

    def whoami(self):
        return self.server.url + "/auth/whoami"

    def run_tool(self, cmd):
        return subprocess.run(cmd, capture_output=True, timeout=60,
                              env=gh.clean_env(HTTPIE_CONFIG_DIR=self.httpie_config))

    def curl_json(self, *args):
        """curl ARGS; returns (status, headers text, parsed body)."""
        out = self.run_tool([self.curl, "-sS", "--noproxy", "*", "-D", "-", *args])
        self.assertEqual(out.returncode, 0, out.stderr)
        head, _, body = out.stdout.decode().partition("\r\n\r\n")
        status = int(head.split()[1])
        return status, head, json.loads(body)

    def assert_challenges(self, www_authenticate_values):
        # One per enabled scheme, in [auth] schemes order (the default: apikey, bearer, basic).
        self.assertEqual(www_authenticate_values,
                         [gh.APIKEY_CHALLENGE, gh.BEARER_CHALLENGE, gh.BASIC_CHALLENGE])

    # --- real clients ---------------------------------------------------------------------

    def test_curl_user(self):
        status, head, body = self.curl_json("-u", "demo:demo", self.whoami())
        self.assertEqual(status, 200)
        self.assertEqual(body, {"user": "demo", "scheme": "basic", "roles": ["User"]})
        self.assertRegex(head, r"(?im)^content-type: application/json")

    def test_curl_admin(self):
        status, _, body = self.curl_json("-u", "admin:admin", self.whoami())
        self.assertEqual(status, 200)
        self.assertEqual(body, {"user": "admin", "scheme": "basic", "roles": ["Admin"]})

    def test_curl_wrong_password(self):
        status, head, body = self.curl_json("-u", "demo:wrong", self.whoami())
        self.assertEqual(status, 401)
        challenges = re.findall(r"(?im)^www-authenticate: (.*?)\s*$", head)
        self.assert_challenges(challenges)
        self.assertEqual(body["error"], "invalid_credentials")
        self.assertIsInstance(body["error_description"], str)
        self.assertTrue(body["error_description"])

    def test_httpie(self):
        out = self.run_tool([self.http, "--ignore-stdin", "--check-status", "--print=hb",
                             "-a", "admin:admin", "GET", self.whoami()])
        self.assertEqual(out.returncode, 0, out.stderr)
        text = out.stdout.decode()
        self.assertRegex(text, r"^HTTP/1\.1 200 OK")
        body = json.loads(text[text.index("{"):])
        self.assertEqual(body, {"user": "admin", "scheme": "basic", "roles": ["Admin"]})

    def test_httpie_wrong_password(self):
        out = self.run_tool([self.http, "--ignore-stdin", "--check-status", "--print=hb",
                             "-a", "admin:nope", "GET", self.whoami()])
        # httpie --check-status: exit 4 for a 4xx response.
        self.assertEqual(out.returncode, 4, out.stdout + out.stderr)
        text = out.stdout.decode()
        self.assertRegex(text, r"^HTTP/1\.1 401")
        self.assert_challenges(re.findall(r"(?im)^www-authenticate: (.*?)\s*$", text))
        self.assertEqual(json.loads(text[text.index("{"):])["error"], "invalid_credentials")

    def test_httpx_basic_auth(self):
        with gh.http_client() as c:
            r = c.get(self.whoami(), auth=httpx.BasicAuth("demo", "demo"))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), {"user": "demo", "scheme": "basic", "roles": ["User"]})

    def test_requests_basic_auth(self):
        with requests.Session() as s:
            s.trust_env = False
            r = s.get(self.whoami(), auth=("admin", "admin"), timeout=20)
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json()["user"], "admin")
            r = s.get(self.whoami(), auth=("admin", "demo"), timeout=20)
            self.assertEqual(r.status_code, 401)

    def test_unknown_user(self):
        with gh.http_client() as c:
            r = c.get(self.whoami(), auth=("nobody", "demo"))
        self.assertEqual(r.status_code, 401)
        self.assert_challenges(r.headers.get_list("www-authenticate"))
        self.assertEqual(r.headers["content-type"].split(";")[0], "application/json")
        body = r.json()
        self.assertEqual(set(body), {"error", "error_description"})
        self.assertEqual(body["error"], "invalid_credentials")

    def test_unknown_and_wrong_password_answer_alike(self):
        with gh.http_client() as c:
            unknown = c.get(self.whoami(), auth=("nobody", "demo"))
            wrong = c.get(self.whoami(), auth=("demo", "nobody"))
        self.assertEqual(unknown.status_code, wrong.status_code)
        self.assertEqual(unknown.json(), wrong.json())

    def test_no_credentials(self):
        with gh.http_client() as c:
            r = c.get(self.whoami())
        self.assertEqual(r.status_code, 401)
        self.assert_challenges(r.headers.get_list("www-authenticate"))
        self.assertEqual(r.json()["error"], "unauthorized")

    def test_whoami_shape(self):
        with gh.http_client() as c:
            r = c.get(self.whoami(), auth=("demo", "demo"))
        self.assertEqual(r.status_code, 200)
        body = r.json()
        self.assertEqual(set(body), {"user", "scheme", "roles"})
        self.assertIsInstance(body["user"], str)
        self.assertIsInstance(body["scheme"], str)
        self.assertIsInstance(body["roles"], list)


class UserLifecycleTest(unittest.TestCase):
    """Users managed with the CLI while the server runs (SPEC §2, §5)."""

    def setUp(self):
        self.server = gh.Server().start()
        self.addCleanup(self.server.__exit__, None, None, None)
        self.url = self.server.url + "/auth/whoami"

    def get(self, auth):
        with gh.http_client() as c:
            return c.get(self.url, auth=auth)

    def test_unicode_user_and_password_with_colon(self):
        password = "pa:ss wörd:ñ"
        out = self.server.cli(["user", "add", "Zoë", "--password-stdin"], stdin=password + "\n")
        self.assertIn("zoë", out.stdout)  # stored under the RFC 8265 form
        gh.wait_status(self.url, 200, auth=("zoë", password))
        for spelling in ["Zoë", "ZOË", "zoë", "Zoe\u0308"]:  # case-mapped and NFC
            r = self.get((spelling, password))
            self.assertEqual(r.status_code, 200, spelling)
            self.assertEqual(r.json()["user"], "zoë")
            self.assertEqual(r.json()["roles"], ["User"])
        # Only the text after the first ':' is the password.
        self.assertEqual(self.get(("Zoë", "pa")).status_code, 401)
        self.assertEqual(self.get(("Zoë", "pa:ss wörd")).status_code, 401)
        # curl sends the argument's UTF-8 bytes.
        curl = gh.require_tool("curl")
        out = subprocess.run([curl, "-sS", "--noproxy", "*", "-u", "ZOË:" + password, self.url],
                             capture_output=True, timeout=60, env=gh.clean_env())
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["user"], "zoë")
        users = self.server.cli(["user", "list"]).stdout
        self.assertIn("zoë", users)
        self.assertNotIn("Zoë", users)

    def test_latin1_encoded_password_is_refused(self):
        # requests encodes str credentials as Latin-1: not UTF-8, so a 401 invalid_request.
        self.server.cli(["user", "add", "jürgen", "--password-stdin"], stdin="grüße\n")
        gh.wait_status(self.url, 200, auth=("jürgen", "grüße"))
        hdr = basic_header("jürgen".encode("latin-1"), "grüße".encode("latin-1"))
        with gh.http_client() as c:
            r = c.get(self.url, headers=hdr)
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"], "invalid_request")

    def test_passwd_changes_password(self):
        self.server.cli(["user", "add", "carol", "--password-stdin"], stdin="first-secret\n")
        gh.wait_status(self.url, 200, auth=("carol", "first-secret"))
        # Warm the verified-credential cache with the old password.
        self.assertEqual(self.get(("carol", "first-secret")).status_code, 200)
        self.server.cli(["user", "passwd", "carol", "--password-stdin"], stdin="second-secret\n")
        gh.wait_status(self.url, 401, auth=("carol", "first-secret"))
        self.assertEqual(self.get(("carol", "second-secret")).status_code, 200)
        self.assertEqual(self.get(("carol", "first-secret")).status_code, 401)

    def test_disable_and_enable(self):
        self.assertEqual(self.get(("demo", "demo")).status_code, 200)
        self.server.cli(["user", "disable", "demo"])
        gh.wait_status(self.url, 401, auth=("demo", "demo"))
        r = self.get(("demo", "demo"))
        self.assertEqual(r.json()["error"], "invalid_credentials")
        self.assertIn(gh.BASIC_CHALLENGE, r.headers.get_list("www-authenticate"))
        self.assertIn("disabled", self.server.cli(["user", "list"]).stdout)
        self.server.cli(["user", "enable", "demo"])
        gh.wait_status(self.url, 200, auth=("demo", "demo"))

    def test_deleted_user_is_refused(self):
        self.server.cli(["user", "add", "dave", "--password-stdin"], stdin="dave-pw\n")
        gh.wait_status(self.url, 200, auth=("dave", "dave-pw"))
        self.server.cli(["user", "del", "dave"])
        gh.wait_status(self.url, 401, auth=("dave", "dave-pw"))

    def test_roles_change_reaches_server(self):
        self.server.cli(["user", "roles", "demo", "User", "Editor"])
        gh.wait_until(lambda: self.get(("demo", "demo")).json()["roles"] == ["User", "Editor"],
                      timeout=gh.PROPAGATION_S, what="new roles")


# Apache htpasswd: each format it can write, with the flag that selects it.
HTPASSWD_FORMATS = [
    ("u_bcrypt", "-B", "bcrypt-pw", r"^\$2y\$"),
    ("u_md5", "-m", "apr1-pw:x", r"^\$apr1\$"),
    ("u_sha", "-s", "sha1-pw", r"^\{SHA\}"),
    ("u_crypt", "-d", "crypt8ch", r"^[./0-9A-Za-z]{13}$"),  # DES crypt: 8 characters at most
    ("u_sha256", "-2", "sha256-pw", r"^\$5\$"),
    ("u_sha512", "-5", "sha512-pw", r"^\$6\$"),
]


def htpasswd_supports(tool, flag):
    """Whether this htpasswd build understands FLAG (its usage text lists the flags)."""
    out = subprocess.run([tool], capture_output=True, text=True, timeout=30)
    usage = out.stdout + out.stderr
    return re.search(r"(?m)^\s*" + re.escape(flag) + r"\s", usage) is not None


class HtpasswdTest(unittest.TestCase):
    """Files written by Apache's own htpasswd tool, read by a running server."""

    @classmethod
    def setUpClass(cls):
        cls.tool = gh.require_tool("htpasswd")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gatehouse-htpasswd-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.file = os.path.join(self.dir, "htpasswd")

    def htpasswd(self, *args, check=True):
        out = subprocess.run([self.tool, *args], capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(out.returncode, 0, f"htpasswd {args}: {out.stderr}")
        return out

    def start(self, stores):
        config = ('[auth]\nschemes = ["basic"]\n[auth.basic]\nstores = [%s]\n'
                  % ", ".join(json.dumps(s) for s in stores))
        server = gh.Server(config_text=config).start()
        self.addCleanup(server.__exit__, None, None, None)
        return server

    def test_every_format(self):
        formats = [f for f in HTPASSWD_FORMATS if htpasswd_supports(self.tool, f[1])]
        flags = [f[1] for f in formats]
        # bcrypt, apr1 and {SHA} are what every htpasswd writes; crypt or sha-crypt must be there too.
        for required in ["-B", "-m", "-s"]:
            self.assertIn(required, flags)
        self.assertTrue("-d" in flags or "-5" in flags or "-2" in flags, flags)
        create = ["-c"]
        for user, flag, password, shape in formats:
            extra = ["-C", "5"] if flag == "-B" else []
            self.htpasswd("-b", *create, flag, *extra, self.file, user, password)
            create = []
        with open(self.file) as f:
            lines = dict(line.rstrip("\n").split(":", 1) for line in f if line.strip())
        for user, flag, password, shape in formats:
            self.assertRegex(lines[user], shape, f"htpasswd {flag} wrote an unexpected hash")

        server = self.start(["htpasswd:" + self.file])
        url = server.url + "/auth/whoami"
        with gh.http_client() as c:
            for user, flag, password, _ in formats:
                r = c.get(url, auth=(user, password))
                self.assertEqual(r.status_code, 200, f"{user} ({flag}): {r.text}")
                self.assertEqual(r.json(), {"user": user, "scheme": "basic", "roles": ["User"]})
                wrong = "X" + password[1:]  # differs within DES crypt's 8 characters
                r = c.get(url, auth=(user, wrong))
                self.assertEqual(r.status_code, 401, f"{user} ({flag}) with a wrong password")
                self.assertEqual(r.json()["error"], "invalid_credentials")
                self.assertEqual(r.headers.get_list("www-authenticate"), [gh.BASIC_CHALLENGE])
            # DES crypt(3) only looks at 8 characters (so does Apache); the others must not
            # truncate or accept a prefix.
            if "-d" in flags:
                self.assertEqual(c.get(url, auth=("u_crypt", "crypt8chEXTRA")).status_code, 200)
            for user, flag, password, _ in formats:
                if flag != "-d":
                    self.assertEqual(c.get(url, auth=(user, password + "x")).status_code, 401, user)
                    self.assertEqual(c.get(url, auth=(user, password[:-1])).status_code, 401, user)
            # Only basic is enabled: an API key header is not a credential here.
            r = c.get(url, headers={"X-API-Key": "gh_0123456789abcdef_" + "0" * 64})
            self.assertEqual(r.status_code, 401)
            self.assertEqual(r.headers.get_list("www-authenticate"), [gh.BASIC_CHALLENGE])

    def test_file_edits_take_effect_without_restart(self):
        self.htpasswd("-b", "-c", "-B", "-C", "5", self.file, "first", "first-pw")
        # An old file (as on a real system), so that the edit below must be noticed through
        # stat() and not because the file was just written.
        old = time.time() - 3600
        os.utime(self.file, (old, old))
        server = self.start(["htpasswd:" + self.file])
        url = server.url + "/auth/whoami"
        self.assertEqual(gh.status(url, auth=("first", "first-pw")), 200)
        self.assertEqual(gh.status(url, auth=("second", "second-pw")), 401)
        self.htpasswd("-b", "-m", self.file, "second", "second-pw")
        gh.wait_status(url, 200, auth=("second", "second-pw"))
        # Changing a password and deleting a user are picked up too.
        self.htpasswd("-b", "-B", "-C", "5", self.file, "first", "changed-pw")
        gh.wait_status(url, 401, auth=("first", "first-pw"))
        self.assertEqual(gh.status(url, auth=("first", "changed-pw")), 200)
        self.htpasswd("-D", self.file, "second")
        gh.wait_status(url, 401, auth=("second", "second-pw"))
        self.assertTrue(server.alive())

    def test_gatehouse_htpasswd_is_verified_by_apache(self):
        password = "s3cret: wörd"
        out = gh.run_cli(["htpasswd", self.file, "alice", "--password-stdin", "--cost", "5"],
                         stdin=password + "\n")
        self.assertIn("added alice", out.stdout)
        self.assertEqual(os.stat(self.file).st_mode & 0o777, 0o600)
        with open(self.file) as f:
            line = f.read()
        self.assertRegex(line, r"^alice:\$2[aby]\$05\$[./A-Za-z0-9]{53}\n$")
        self.assertEqual(self.htpasswd("-vb", self.file, "alice", password).returncode, 0)
        self.assertNotEqual(self.htpasswd("-vb", self.file, "alice", "wrong", check=False).returncode, 0)
        # A second user is appended, and updating the first keeps one line per user.
        gh.run_cli(["htpasswd", self.file, "bob", "--password-stdin"], stdin="bob-pw\n")
        out = gh.run_cli(["htpasswd", self.file, "alice", "--password-stdin"], stdin="new-pw\n")
        self.assertIn("updated alice", out.stdout)
        with open(self.file) as f:
            users = [l.split(":", 1)[0] for l in f.read().splitlines()]
        self.assertEqual(sorted(users), ["alice", "bob"])
        self.assertEqual(self.htpasswd("-vb", self.file, "alice", "new-pw").returncode, 0)
        self.assertEqual(self.htpasswd("-vb", self.file, "bob", "bob-pw").returncode, 0)
        self.assertNotEqual(self.htpasswd("-vb", self.file, "alice", password, check=False).returncode, 0)
        # And the server accepts what it wrote.
        server = self.start(["htpasswd:" + self.file])
        self.assertEqual(gh.status(server.url + "/auth/whoami", auth=("alice", "new-pw")), 200)

    def test_gatehouse_htpasswd_rejects_colon_in_user(self):
        out = gh.run_cli(["htpasswd", self.file, "a:b", "--password-stdin"], stdin="x\n",
                         check=False)
        self.assertEqual(out.returncode, 2)
        self.assertFalse(os.path.exists(self.file))

    def test_chain_first_store_that_knows_the_user_decides(self):
        # demo is in the htpasswd file with another password; admin only in the database.
        self.htpasswd("-b", "-c", "-B", "-C", "5", self.file, "demo", "file-pw")
        server = self.start(["htpasswd:" + self.file, "db"])
        url = server.url + "/auth/whoami"
        with gh.http_client() as c:
            r = c.get(url, auth=("admin", "admin"))  # only in db
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.json()["roles"], ["Admin"])
            r = c.get(url, auth=("demo", "file-pw"))  # the file's password
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.json()["user"], "demo")
            r = c.get(url, auth=("demo", "demo"))  # db's password: the file decided
            self.assertEqual(r.status_code, 401)
            self.assertEqual(r.json()["error"], "invalid_credentials")
            r = c.get(url, auth=("nobody", "x"))  # in neither
            self.assertEqual(r.status_code, 401)


if __name__ == "__main__":
    unittest.main()
