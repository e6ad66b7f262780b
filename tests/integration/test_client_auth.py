"""The client's auth handlers (Basic, Digest, API key, Bearer with refresh, auto) end to end,
through gatehouse_client_probe (tests/client_probe/probe.cpp), against real servers:

- Digest: Apache httpd mod_auth_digest (MD5, qop auth) and gatehouse (every algorithm, -sess,
  auth-int, rspauth, nonce reuse with an increasing nc, stale nonces);
- Basic: nginx auth_basic (a static file served with `alias`: `return` would skip the auth);
- API key: gatehouse (Authorization: Apikey, X-API-Key, ?api_key=);
- Bearer: gatehouse /auth/login + /auth/refresh: 20 concurrent requests with a bad access token
  make exactly one refresh (the probe's refresh_count and the server's access log agree); a
  revoked session fails every request with "session expired: log in again";
- auto: picks Digest or Basic from the server's challenges.

What the server saw is read from its own access log (gatehouse: JSON lines; Apache and nginx: a
"status method uri" format), written to a file and read after the server stopped.
"""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import gh
from client_probe import SilentServer, free_port, stop_process, wait_listening
from client_probe import run_probe as probe

USER, PASSWORD = "demo", "demo"  # the demo user, with Digest HA1 rows for the default realm
ALGORITHMS = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"]
SESSION_EXPIRED = "session expired: log in again"


def statuses(out):
    return [r.get("status", r.get("error")) for r in out["results"]]


class GatehouseServer(gh.Server):
    """gh.Server with a JSON access log in a file, readable once the server has stopped."""

    def __init__(self, config_text, **kwargs):
        self.log_dir = tempfile.mkdtemp(prefix="gatehouse-client-auth-")
        self.access_path = os.path.join(self.log_dir, "access.log")
        super().__init__(config_text=f'[log]\naccess = "{self.access_path}"\n' + config_text,
                         **kwargs)

    def access_lines(self):
        """Stops the server (flushing its log) and returns the parsed access-log lines."""
        self.stop()
        if not os.path.exists(self.access_path):
            return []
        with open(self.access_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def __exit__(self, *exc):
        super().__exit__(*exc)
        shutil.rmtree(self.log_dir, ignore_errors=True)


def digest_config(algorithms, qop=("auth", "auth-int"), extra=""):
    quoted = ", ".join(f'"{a}"' for a in algorithms)
    qops = ", ".join(f'"{q}"' for q in qop)
    return (f'[auth]\nschemes = ["digest", "basic", "bearer", "apikey"]\n'
            f'[auth.digest]\nalgorithms = [{quoted}]\nqop = [{qops}]\n{extra}')


class DigestAgainstGatehouse(unittest.TestCase):

    def test_every_algorithm_reuses_the_nonce_and_checks_rspauth(self):
        for algorithm in ALGORITHMS:
            with self.subTest(algorithm=algorithm), GatehouseServer(digest_config([algorithm])) as s:
                url = s.url + "/auth/whoami"
                out = probe({"auth": {"kind": "digest", "user": USER, "password": PASSWORD},
                             "requests": [{"url": url}] * 4})
                self.assertEqual(statuses(out), [200] * 4, out)
                for r in out["results"]:
                    self.assertEqual(json.loads(r["body"])["scheme"], "digest")
                # rspauth was present (and checked by the client: a mismatch is an error result).
                infos = [dict(r["headers"]).get("Authentication-Info", "") for r in out["results"]]
                self.assertTrue(all("rspauth=" in i for i in infos), infos)
                self.assertEqual([i.split("nc=")[1][:8] for i in infos],
                                 ["00000001", "00000002", "00000003", "00000004"])
                lines = s.access_lines()
                # One 401 round trip, then the remembered nonce with nc 2, 3, 4 — each accepted
                # (gatehouse refuses a replayed or non-increasing nc).
                self.assertEqual([line["status"] for line in lines], [401, 200, 200, 200, 200])

    def test_the_strongest_offered_algorithm_is_chosen(self):
        # The user has only a SHA-512-256 HA1 (an htdigest line): answering the MD5 or SHA-256
        # challenge would fail, so a 200 proves the choice.
        tmp = tempfile.mkdtemp(prefix="gatehouse-htdigest-")
        try:
            path = os.path.join(tmp, "htdigest")
            gh.run_cli(["htdigest", path, "gatehouse", "carol", "--password-stdin",
                        "--algorithm", "SHA-512-256"], stdin="c4r0l-pw\n")
            config = digest_config(["MD5", "SHA-256", "SHA-512-256"]) + f'stores = ["htdigest:{path}"]\n'
            with GatehouseServer(config) as s:
                out = probe({"auth": {"kind": "digest", "user": "carol", "password": "c4r0l-pw"},
                             "requests": [{"url": s.url + "/auth/whoami"}]})
                self.assertEqual(statuses(out), [200], out)
                self.assertEqual(json.loads(out["results"][0]["body"])["user"], "carol")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_auth_int_covers_the_request_body(self):
        for algorithm in ["MD5", "SHA-256-sess", "SHA-512-256"]:
            with self.subTest(algorithm=algorithm), \
                    GatehouseServer(digest_config([algorithm], qop=("auth-int",))) as s:
                out = probe({"auth": {"kind": "digest", "user": USER, "password": PASSWORD},
                             "requests": [{"method": "POST", "url": s.url + "/auth/apikeys",
                                           "headers": [["Content-Type", "application/json"]],
                                           "body": json.dumps({"name": "auth-int test"})},
                                          {"url": s.url + "/auth/whoami"}]})
                self.assertEqual(statuses(out), [201, 200], out)
                self.assertTrue(json.loads(out["results"][0]["body"])["key"].startswith("gh_"))
                info = dict(out["results"][1]["headers"])["Authentication-Info"]
                self.assertIn("qop=auth-int", info)

    def test_wrong_password_returns_the_401_without_looping(self):
        with GatehouseServer(digest_config(["SHA-256", "MD5"])) as s:
            out = probe({"auth": {"kind": "digest", "user": USER, "password": "wrong"},
                         "requests": [{"url": s.url + "/auth/whoami"}]})
            self.assertEqual(statuses(out), [401], out)
            self.assertEqual([line["status"] for line in s.access_lines()], [401, 401])

    def test_stale_nonce_is_retried_with_the_new_one(self):
        # nonce_lifetime 1 s; between the two requests the client waits 1.5 s on a server that
        # never answers (its timeout), so the remembered nonce is expired when it is reused.
        with GatehouseServer(digest_config(["SHA-256"], extra='nonce_lifetime = "1s"\n')) as s, \
                SilentServer() as silent:
            url = s.url + "/auth/whoami"
            out = probe({"options": {"timeout_ms": 1500},
                         "auth": {"kind": "digest", "user": USER, "password": PASSWORD},
                         "requests": [{"url": url}, {"url": silent.url, "auth": {"kind": "none"}},
                                      {"url": url}]})
            self.assertEqual(statuses(out), [200, "TimeoutError", 200], out)
            lines = s.access_lines()
            self.assertEqual([line["status"] for line in lines], [401, 200, 401, 200])
            self.assertIn("stale", json.dumps(lines[2]))

    def test_concurrent_requests_share_the_nonce_count(self):
        with GatehouseServer(digest_config(["SHA-256"])) as s:
            for mode in ["sync", "async"]:
                out = probe({"mode": mode, "concurrency": 10,
                             "auth": {"kind": "digest", "user": USER, "password": PASSWORD},
                             "requests": [{"url": s.url + "/auth/whoami"}] * 3})
                self.assertEqual(statuses(out), [200] * 30, (mode, out))


class ApacheDigest:
    """Apache httpd with mod_auth_digest (MD5, qop auth) over an htdigest file written with
    hashlib, serving a static file; runs as www-data (Apache refuses root)."""

    REALM = "apache-realm"

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-apache-")
        os.chmod(self.tmp, 0o755)
        www = os.path.join(self.tmp, "www")
        os.makedirs(os.path.join(www, "private"))
        with open(os.path.join(www, "private", "index.json"), "w") as f:
            f.write('{"apache":true}\n')
        for d in (www, os.path.join(www, "private")):
            os.chmod(d, 0o755)
        ha1 = hashlib.md5(f"mufasa:{self.REALM}:Circle of Life".encode()).hexdigest()
        self.htdigest = os.path.join(self.tmp, "htdigest")
        with open(self.htdigest, "w") as f:
            f.write(f"mufasa:{self.REALM}:{ha1}\n")
        os.chmod(self.htdigest, 0o644)
        self.port = free_port()
        self.access = os.path.join(self.tmp, "access.log")
        modules = "/usr/lib/apache2/modules"
        conf = os.path.join(self.tmp, "httpd.conf")
        with open(conf, "w") as f:
            f.write(f"""ServerRoot {self.tmp}
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile {self.tmp}/httpd.pid
DefaultRuntimeDir {self.tmp}
ErrorLog {self.tmp}/error.log
LogLevel warn
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authn_file_module {modules}/mod_authn_file.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule auth_digest_module {modules}/mod_auth_digest.so
LoadModule mime_module {modules}/mod_mime.so
TypesConfig /dev/null
User www-data
Group www-data
LogFormat "%>s %m %U" short
CustomLog {self.access} short
DocumentRoot {www}
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory {www}>
  Require all granted
</Directory>
<Location /private>
  AuthType Digest
  AuthName "{self.REALM}"
  AuthDigestProvider file
  AuthUserFile {self.htdigest}
  AuthDigestAlgorithm MD5
  AuthDigestQop auth
  Require valid-user
</Location>
""")
        self.proc = subprocess.Popen([gh.require_tool("apache2"), "-f", conf, "-D", "FOREGROUND"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_listening(self.port, self.proc, "apache2")
        except AssertionError:
            self.__exit__()
            raise
        self.url = f"http://127.0.0.1:{self.port}/private/index.json"
        return self

    def access_lines(self):
        stop_process(self.proc)
        with open(self.access) as f:
            return [line.split() for line in f if line.strip()]

    def __exit__(self, *exc):
        stop_process(self.proc)
        shutil.rmtree(self.tmp, ignore_errors=True)


class DigestAgainstApache(unittest.TestCase):

    def test_md5_auth_with_nonce_reuse(self):
        with ApacheDigest() as apache:
            # The peer is checked first: no credentials → 401 with an MD5 challenge.
            with gh.http_client() as c:
                r = c.get(apache.url)
            self.assertEqual(r.status_code, 401)
            self.assertIn("algorithm=MD5", r.headers["WWW-Authenticate"])
            out = probe({"auth": {"kind": "digest", "user": "mufasa", "password": "Circle of Life"},
                         "requests": [{"url": apache.url}] * 3})
            self.assertEqual(statuses(out), [200] * 3, out)
            self.assertEqual(json.loads(out["results"][0]["body"]), {"apache": True})
            lines = apache.access_lines()
            self.assertEqual([line[0] for line in lines[1:]], ["401", "200", "200", "200"])

    def test_wrong_password_returns_the_401(self):
        with ApacheDigest() as apache:
            out = probe({"auth": {"kind": "digest", "user": "mufasa", "password": "wrong"},
                         "requests": [{"url": apache.url}]})
            self.assertEqual(statuses(out), [401], out)
            self.assertEqual([line[0] for line in apache.access_lines()], ["401", "401"])

    def test_auto_picks_digest(self):
        with ApacheDigest() as apache:
            out = probe({"auth": {"kind": "auto", "user": "mufasa", "password": "Circle of Life"},
                         "requests": [{"url": apache.url}] * 2})
            self.assertEqual(statuses(out), [200, 200], out)
            self.assertEqual([line[0] for line in apache.access_lines()], ["401", "200", "200"])


class NginxBasic:
    """nginx auth_basic over an htpasswd file (apr1), serving a static file with `alias`."""

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-nginx-")
        os.chmod(self.tmp, 0o755)
        os.makedirs(os.path.join(self.tmp, "tmp"))
        doc = os.path.join(self.tmp, "secret.json")
        with open(doc, "w") as f:
            f.write('{"nginx":true}\n')
        os.chmod(doc, 0o644)
        htpasswd = os.path.join(self.tmp, "htpasswd")
        subprocess.run([gh.require_tool("htpasswd"), "-cbm", htpasswd, "aladdin", "open sesame"],
                       check=True, capture_output=True)
        os.chmod(htpasswd, 0o644)
        self.port = free_port()
        self.access = os.path.join(self.tmp, "access.log")
        t = os.path.join(self.tmp, "tmp")
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
pid {self.tmp}/nginx.pid;
error_log {self.tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
  log_format short '$status $request_method $uri';
  access_log {self.access} short;
  default_type application/json;
  client_body_temp_path {t}/body;
  proxy_temp_path {t}/proxy;
  fastcgi_temp_path {t}/fastcgi;
  uwsgi_temp_path {t}/uwsgi;
  scgi_temp_path {t}/scgi;
  server {{
    listen 127.0.0.1:{self.port};
    location = /secret {{
      auth_basic "nginx-realm";
      auth_basic_user_file {htpasswd};
      alias {doc};
    }}
  }}
}}
""")
        self.proc = subprocess.Popen([gh.require_tool("nginx"), "-p", self.tmp, "-e",
                                      os.path.join(self.tmp, "error.log"), "-c", conf, "-g",
                                      "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        try:
            wait_listening(self.port, self.proc, "nginx")
        except AssertionError:
            self.__exit__()
            raise
        self.url = f"http://127.0.0.1:{self.port}/secret"
        return self

    def access_lines(self):
        stop_process(self.proc)
        with open(self.access) as f:
            return [line.split() for line in f if line.strip()]

    def __exit__(self, *exc):
        stop_process(self.proc)
        shutil.rmtree(self.tmp, ignore_errors=True)


class BasicAgainstNginx(unittest.TestCase):

    def test_preemptive(self):
        with NginxBasic() as nginx:
            with gh.http_client() as c:  # the peer refuses without and with wrong credentials
                self.assertEqual(c.get(nginx.url).status_code, 401)
                self.assertEqual(c.get(nginx.url, auth=("aladdin", "x")).status_code, 401)
            out = probe({"auth": {"kind": "basic", "user": "aladdin", "password": "open sesame"},
                         "requests": [{"url": nginx.url}] * 2})
            self.assertEqual(statuses(out), [200, 200], out)
            self.assertEqual(json.loads(out["results"][0]["body"]), {"nginx": True})
            self.assertEqual([line[0] for line in nginx.access_lines()], ["401", "401", "200", "200"])

    def test_not_preemptive_answers_the_challenge(self):
        with NginxBasic() as nginx:
            out = probe({"auth": {"kind": "basic", "user": "aladdin", "password": "open sesame",
                                  "preemptive": False},
                         "requests": [{"url": nginx.url}]})
            self.assertEqual(statuses(out), [200], out)
            self.assertEqual([line[0] for line in nginx.access_lines()], ["401", "200"])

    def test_wrong_password_returns_the_401(self):
        with NginxBasic() as nginx:
            for preemptive in [True, False]:
                out = probe({"auth": {"kind": "basic", "user": "aladdin", "password": "wrong",
                                      "preemptive": preemptive},
                             "requests": [{"url": nginx.url}]})
                self.assertEqual(statuses(out), [401], out)
            self.assertEqual([line[0] for line in nginx.access_lines()], ["401", "401", "401"])

    def test_auto_picks_basic(self):
        with NginxBasic() as nginx:
            out = probe({"auth": {"kind": "auto", "user": "aladdin", "password": "open sesame"},
                         "requests": [{"url": nginx.url}] * 2})
            self.assertEqual(statuses(out), [200, 200], out)
            # The second request starts with Basic: auto remembers what worked on the origin.
            self.assertEqual([line[0] for line in nginx.access_lines()], ["401", "200", "200"])


class ApiKeyAgainstGatehouse(unittest.TestCase):

    def test_three_placements(self):
        with GatehouseServer('[auth]\nschemes = ["apikey", "bearer", "basic"]\n') as s:
            url = s.url + "/auth/whoami"
            key, _ = s.create_key(USER)
            gh.wait_status(url, 200, headers={"X-API-Key": key})
            for placement in ["authorization", "x_api_key", "query"]:
                out = probe({"auth": {"kind": "apikey", "key": key, "placement": placement,
                                      "allow_insecure_query": True},
                             "requests": [{"url": url + "?x=1"}]})
                self.assertEqual(statuses(out), [200], (placement, out))
                body = json.loads(out["results"][0]["body"])
                self.assertEqual((body["user"], body["scheme"]), (USER, "apikey"))
            # The key in a plain-http query needs consent.
            out = probe({"auth": {"kind": "apikey", "key": key, "placement": "query"},
                         "requests": [{"url": url}]})
            self.assertEqual(out["results"][0]["error"], "RequestError", out)
            # A wrong key: the 401 as is.
            out = probe({"auth": {"kind": "apikey", "key": "gh_ffffffffffffffff_" + "a" * 64},
                         "requests": [{"url": url}]})
            self.assertEqual(statuses(out), [401], out)

    def test_auto_uses_the_key_when_offered(self):
        with GatehouseServer('[auth]\nschemes = ["apikey"]\n') as s:
            url = s.url + "/auth/whoami"
            key, _ = s.create_key(USER)
            gh.wait_status(url, 200, headers={"X-API-Key": key})
            out = probe({"auth": {"kind": "auto", "api_key": key}, "requests": [{"url": url}]})
            self.assertEqual(statuses(out), [200], out)


class BearerAgainstGatehouse(unittest.TestCase):

    def login(self, server):
        with gh.http_client() as c:
            r = c.post(server.url + "/auth/login", json={"username": USER, "password": PASSWORD})
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()

    def test_twenty_concurrent_401s_make_one_refresh(self):
        for mode in ["sync", "async"]:
            with self.subTest(mode=mode), GatehouseServer("") as s:
                tokens = self.login(s)
                out = probe({"mode": mode, "concurrency": 20,
                             "auth": {"kind": "bearer", "access_token": "expired.or.bogus",
                                      "refresh_token": tokens["refresh_token"],
                                      "refresh_url": s.url + "/auth/refresh"},
                             "requests": [{"url": s.url + "/auth/whoami"}]})
                self.assertEqual(statuses(out), [200] * 20, out)
                self.assertEqual(out["refresh_count"], 1, out)
                self.assertNotEqual(out["tokens"]["refresh_token"], tokens["refresh_token"])
                self.assertGreater(out["tokens"]["expires_at"], time.time())
                lines = s.access_lines()
                refreshes = [line for line in lines if line["path"] == "/auth/refresh"]
                self.assertEqual(len(refreshes), 1, refreshes)
                self.assertEqual(refreshes[0]["status"], 200)
                # Each request: its 401 (unless it was sent after the refresh) and one 200.
                whoami = [line["status"] for line in lines if line["path"] == "/auth/whoami"]
                self.assertEqual(whoami.count(200), 20, whoami)
                self.assertEqual(whoami.count(401) + whoami.count(200), len(whoami), whoami)

    def test_known_expiry_refreshes_before_the_request(self):
        # expires_at has passed: one refresh goes first (for all 20), and no request meets a 401.
        for mode in ["sync", "async"]:
            with self.subTest(mode=mode), GatehouseServer("") as s:
                tokens = self.login(s)
                out = probe({"mode": mode, "concurrency": 20,
                             "auth": {"kind": "bearer", "access_token": "expired.or.bogus",
                                      "refresh_token": tokens["refresh_token"],
                                      "refresh_url": s.url + "/auth/refresh",
                                      "expires_at": int(time.time()) - 60},
                             "requests": [{"url": s.url + "/auth/whoami"}]})
                self.assertEqual(statuses(out), [200] * 20, out)
                self.assertEqual(out["refresh_count"], 1, out)
                lines = s.access_lines()
                self.assertEqual([line["status"] for line in lines
                                  if line["path"] == "/auth/refresh"], [200])
                whoami = [line["status"] for line in lines if line["path"] == "/auth/whoami"]
                self.assertEqual(whoami, [200] * 20, "no request should have met a 401")

    def test_oauth_form_refresh_at_the_token_endpoint(self):
        with GatehouseServer("") as s:
            tokens = self.login(s)
            out = probe({"auth": {"kind": "bearer", "access_token": "bogus",
                                  "refresh_token": tokens["refresh_token"],
                                  "refresh_url": s.url + "/auth/token",
                                  "refresh_style": "oauth_form"},
                         "requests": [{"url": s.url + "/auth/whoami"}] * 2})
            self.assertEqual(statuses(out), [200, 200], out)
            self.assertEqual(out["refresh_count"], 1)

    def test_revoked_session_expires_every_request(self):
        for mode in ["sync", "async"]:
            with self.subTest(mode=mode), GatehouseServer("") as s:
                tokens = self.login(s)
                with gh.http_client() as c:
                    r = c.post(s.url + "/auth/logout",
                               headers={"Authorization": "Bearer " + tokens["access_token"]})
                self.assertIn(r.status_code, (200, 204), r.text)
                out = probe({"mode": mode, "concurrency": 20,
                             "auth": {"kind": "bearer", "access_token": tokens["access_token"],
                                      "refresh_token": tokens["refresh_token"],
                                      "refresh_url": s.url + "/auth/refresh"},
                             "requests": [{"url": s.url + "/auth/whoami"}]})
                for result in out["results"]:
                    self.assertEqual(result.get("error"), "SessionExpiredError", result)
                    self.assertEqual(result.get("message"), SESSION_EXPIRED)
                self.assertEqual(out["refresh_count"], 1, out)
                refreshes = [line for line in s.access_lines() if line["path"] == "/auth/refresh"]
                self.assertEqual([line["status"] for line in refreshes], [401])

    def test_valid_token_needs_no_refresh(self):
        with GatehouseServer("") as s:
            tokens = self.login(s)
            out = probe({"concurrency": 5,
                         "auth": {"kind": "bearer", "access_token": tokens["access_token"],
                                  "refresh_token": tokens["refresh_token"],
                                  "refresh_url": s.url + "/auth/refresh"},
                         "requests": [{"url": s.url + "/auth/whoami"}]})
            self.assertEqual(statuses(out), [200] * 5, out)
            self.assertEqual(out["refresh_count"], 0)


class AutoAgainstGatehouse(unittest.TestCase):

    def test_picks_digest_before_basic(self):
        config = '[auth]\nschemes = ["basic", "digest"]\n[auth.digest]\nalgorithms = ["SHA-256"]\n'
        with GatehouseServer(config) as s:
            out = probe({"auth": {"kind": "auto", "user": USER, "password": PASSWORD},
                         "requests": [{"url": s.url + "/auth/whoami"}] * 3})
            self.assertEqual(statuses(out), [200] * 3, out)
            self.assertEqual({json.loads(r["body"])["scheme"] for r in out["results"]}, {"digest"})
            self.assertEqual([line["status"] for line in s.access_lines()], [401, 200, 200, 200])

    def test_picks_basic_when_only_basic_is_offered(self):
        with GatehouseServer('[auth]\nschemes = ["basic"]\n') as s:
            out = probe({"auth": {"kind": "auto", "user": USER, "password": PASSWORD},
                         "requests": [{"url": s.url + "/auth/whoami"}]})
            self.assertEqual(statuses(out), [200], out)
            self.assertEqual(json.loads(out["results"][0]["body"])["scheme"], "basic")

    def test_bearer_first_then_refresh(self):
        with GatehouseServer("") as s:
            with gh.http_client() as c:
                tokens = c.post(s.url + "/auth/login",
                                json={"username": USER, "password": PASSWORD}).json()
            out = probe({"auth": {"kind": "auto", "user": USER, "password": "wrong",
                                  "bearer": {"access_token": "bogus",
                                             "refresh_token": tokens["refresh_token"],
                                             "refresh_url": s.url + "/auth/refresh"}},
                         "requests": [{"url": s.url + "/auth/whoami"}]})
            self.assertEqual(statuses(out), [200], out)
            self.assertEqual(json.loads(out["results"][0]["body"])["scheme"], "bearer")
            self.assertEqual(out["refresh_count"], 1)

    def test_no_usable_credentials_returns_the_401(self):
        with GatehouseServer('[auth]\nschemes = ["basic"]\n') as s:
            out = probe({"auth": {"kind": "auto", "api_key": "gh_x"},
                         "requests": [{"url": s.url + "/auth/whoami"}]})
            self.assertEqual(statuses(out), [401], out)


if __name__ == "__main__":
    unittest.main()
