"""HTTP Digest (RFC 7616) against real clients and hand-made attacks.

The demo users (demo/demo, admin/admin) have Digest HA1 rows for the default realm.
"digest" comes first in `schemes`: httpie 3.2 answers a Digest challenge only when it precedes
a Basic one in the 401 (a client quirk, documented in docs/configuration.md).
"""
import hashlib
import http.client
import json
import os
import re
import subprocess
import unittest

import requests
from requests.auth import HTTPDigestAuth

import gh

H = {
    "MD5": lambda s: hashlib.md5(s.encode()).hexdigest(),
    "SHA-256": lambda s: hashlib.sha256(s.encode()).hexdigest(),
}


def config(algorithms, extra=""):
    quoted = ", ".join(f'"{a}"' for a in algorithms)
    return (f'[log]\naccess = ""\n[auth]\nschemes = ["digest", "basic"]\n'
            f'[auth.digest]\nalgorithms = [{quoted}]\n{extra}')


def challenges(server, path="/auth/whoami"):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    conn.close()
    return [v for k, v in r.getheaders() if k.lower() == "www-authenticate" and v.startswith("Digest")]


def param(challenge, name):
    m = re.search(name + r'="([^"]*)"', challenge) or re.search(name + r"=([^,\s]+)", challenge)
    return m.group(1) if m else None


def authorization(user, password, realm, nonce, uri, method="GET", nc="00000001",
                  cnonce="0a4f113b", algorithm="MD5", qop="auth", body=b"", opaque=None):
    h = H[algorithm]
    ha1 = h(f"{user}:{realm}:{password}")
    a2 = f"{method}:{uri}" if qop == "auth" else \
        f"{method}:{uri}:" + hashlib.new(algorithm.replace("-", "").lower(), body).hexdigest()
    response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{h(a2)}")
    value = (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
             f'algorithm={algorithm}, qop={qop}, nc={nc}, cnonce="{cnonce}", response="{response}"')
    if opaque:
        value += f', opaque="{opaque}"'
    return value, ha1


def send(server, method, path, auth, body=b""):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request(method, path, body=body or None, headers={"Authorization": auth})
    r = conn.getresponse()
    data = r.read()
    headers = r.getheaders()
    conn.close()
    return r.status, headers, data


class RealClients(unittest.TestCase):
    def test_curl_md5_and_sha256(self):
        for algorithm in ("MD5", "SHA-256"):
            with gh.Server(config_text=config([algorithm])) as s:
                out = subprocess.run(["curl", "-s", "--digest", "-u", "demo:demo", "-w", "\n%{http_code}",
                                      s.url + "/auth/whoami"], capture_output=True, text=True, timeout=30)
                body, code = out.stdout.rsplit("\n", 1)
                self.assertEqual(code, "200", algorithm)
                self.assertIn('"scheme":"digest"', body)
                out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest",
                                      "-u", "demo:wrong", s.url + "/auth/whoami"],
                                     capture_output=True, text=True, timeout=30)
                self.assertEqual(out.stdout, "401")

    def test_requests_session_counts_nc(self):
        for algorithm in ("MD5", "SHA-256"):
            with gh.Server(config_text=config([algorithm])) as s:
                with requests.Session() as session:
                    session.auth = HTTPDigestAuth("admin", "admin")
                    for _ in range(3):  # one nonce, nc 1, 2, 3
                        r = session.get(s.url + "/auth/whoami")
                        self.assertEqual(r.status_code, 200, (algorithm, r.text))
                        self.assertEqual(r.json()["user"], "admin")
                        self.assertIn("rspauth=", r.headers["Authentication-Info"])

    def test_httpie(self):
        with gh.Server(config_text=config(["MD5"])) as s:
            out = subprocess.run(["http", "--ignore-stdin", "--check-status", "--print=b", "-A", "digest",
                                  "-a", "demo:demo", s.url + "/auth/whoami"],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["user"], "demo")


class Attacks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server(config_text=config(["SHA-256", "MD5"]))
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def fresh(self, algorithm="MD5"):
        for c in challenges(self.server):
            if param(c, "algorithm") == algorithm:
                return param(c, "realm"), param(c, "nonce"), param(c, "opaque")
        self.fail("no challenge for " + algorithm)

    def test_one_challenge_per_algorithm_strongest_first(self):
        found = [param(c, "algorithm") for c in challenges(self.server)]
        self.assertEqual(found, ["SHA-256", "MD5"])
        nonces = {param(c, "nonce") for c in challenges(self.server)}
        self.assertEqual(len(nonces), 2)

    def test_authentication_info_rspauth_is_right(self):
        realm, nonce, opaque = self.fresh("SHA-256")
        auth, ha1 = authorization("demo", "demo", realm, nonce, "/auth/whoami", algorithm="SHA-256",
                                  opaque=opaque)
        status, headers, _ = send(self.server, "GET", "/auth/whoami", auth)
        self.assertEqual(status, 200)
        info = dict(headers)["Authentication-Info"]
        h = H["SHA-256"]
        expected = h(f"{ha1}:{nonce}:00000001:0a4f113b:auth:{h(':/auth/whoami')}")
        self.assertEqual(param(info, "rspauth"), expected)

    def test_replayed_nc_is_refused(self):
        realm, nonce, _ = self.fresh()
        auth, _ = authorization("demo", "demo", realm, nonce, "/auth/whoami", nc="00000005")
        self.assertEqual(send(self.server, "GET", "/auth/whoami", auth)[0], 200)
        self.assertEqual(send(self.server, "GET", "/auth/whoami", auth)[0], 401)
        lower, _ = authorization("demo", "demo", realm, nonce, "/auth/whoami", nc="00000004")
        self.assertEqual(send(self.server, "GET", "/auth/whoami", lower)[0], 401)
        higher, _ = authorization("demo", "demo", realm, nonce, "/auth/whoami", nc="00000006")
        self.assertEqual(send(self.server, "GET", "/auth/whoami", higher)[0], 200)

    def test_response_for_another_uri_or_method_is_refused(self):
        realm, nonce, _ = self.fresh()
        auth, _ = authorization("demo", "demo", realm, nonce, "/auth/verify")
        self.assertEqual(send(self.server, "GET", "/auth/whoami", auth)[0], 401)
        auth, _ = authorization("demo", "demo", realm, nonce, "/auth/whoami", method="POST", nc="00000002")
        self.assertEqual(send(self.server, "GET", "/auth/whoami", auth)[0], 401)

    def test_auth_int_body_swap_is_refused(self):
        realm, nonce, _ = self.fresh()
        auth, _ = authorization("demo", "demo", realm, nonce, "/auth/whoami", qop="auth-int", body=b"")
        status, _, _ = send(self.server, "GET", "/auth/whoami", auth, body=b"swapped")
        self.assertEqual(status, 401)
        auth, _ = authorization("demo", "demo", realm, nonce, "/auth/whoami", qop="auth-int", nc="00000002")
        self.assertEqual(send(self.server, "GET", "/auth/whoami", auth)[0], 200)

    def test_forged_and_foreign_nonces_are_refused(self):
        realm, nonce, _ = self.fresh()
        forged = nonce[:-2] + ("AA" if not nonce.endswith("AA") else "BB")
        auth, _ = authorization("demo", "demo", realm, forged, "/auth/whoami")
        self.assertEqual(send(self.server, "GET", "/auth/whoami", auth)[0], 401)
        auth, _ = authorization("demo", "demo", "other-realm", nonce, "/auth/whoami")
        self.assertEqual(send(self.server, "GET", "/auth/whoami", auth)[0], 401)

    def test_failed_logins_reach_the_guard(self):
        def failed():
            metrics = requests.get(self.server.url + "/metrics").text
            m = re.search(r"^gatehouse_failed_logins_total (\d+)", metrics, re.M)
            return int(m.group(1))
        before = failed()
        realm, nonce, _ = self.fresh()
        auth, _ = authorization("demo", "not-the-password", realm, nonce, "/auth/whoami")
        self.assertEqual(send(self.server, "GET", "/auth/whoami", auth)[0], 401)
        self.assertEqual(requests.get(self.server.url + "/auth/whoami", auth=("demo", "nope")).status_code, 401)
        self.assertEqual(failed(), before + 2)

    def test_malformed_digest_is_a_clear_401(self):
        for bad in ['Digest username="demo"', 'Digest username="demo", realm="gatehouse", nonce="x", '
                    'uri="/auth/whoami", response="zz", qop=auth, nc=1, cnonce="c"', "Digest ,,,=",
                    'Digest username="a", username="b"']:
            status, _, body = send(self.server, "GET", "/auth/whoami", bad)
            self.assertEqual(status, 401, bad)
            self.assertIn(b"invalid_request", body)
        self.assertEqual(send(self.server, "GET", "/healthz", "x")[0], 200)


class Policies(unittest.TestCase):
    def test_downgrade_to_md5_is_refused_when_only_sha256_is_offered(self):
        with gh.Server(config_text=config(["SHA-256"])) as s:
            c = challenges(s)[0]
            auth, _ = authorization("demo", "demo", param(c, "realm"), param(c, "nonce"), "/auth/whoami",
                                    algorithm="MD5")
            self.assertEqual(send(s, "GET", "/auth/whoami", auth)[0], 401)
            auth, _ = authorization("demo", "demo", param(c, "realm"), param(c, "nonce"), "/auth/whoami",
                                    algorithm="SHA-256")
            self.assertEqual(send(s, "GET", "/auth/whoami", auth)[0], 200)

    def test_expired_nonce_gets_stale_true(self):
        with gh.Server(config_text=config(["MD5"], 'nonce_lifetime = "1s"\n')) as s:
            c = challenges(s)[0]
            realm, nonce = param(c, "realm"), param(c, "nonce")
            counter = [0]

            def stale():
                counter[0] += 1
                auth, _ = authorization("demo", "demo", realm, nonce, "/auth/whoami", nc=f"{counter[0]:08x}")
                status, headers, _ = send(s, "GET", "/auth/whoami", auth)
                return status == 401 and any("stale=true" in v for k, v in headers if k == "WWW-Authenticate")
            gh.wait_until(stale, timeout=5, what="the nonce to go stale")

    def test_password_change_without_digest_drops_ha1(self):
        with gh.Server(config_text=config(["MD5"])) as s:
            s.cli(["user", "add", "alice", "--password-stdin", "--digest"], stdin="first\n")
            gh.wait_until(lambda: requests.get(s.url + "/auth/whoami",
                                               auth=HTTPDigestAuth("alice", "first")).status_code == 200,
                          what="alice's HA1 to reach the server")
            s.cli(["user", "passwd", "alice", "--password-stdin"], stdin="second\n")
            gh.wait_until(lambda: requests.get(s.url + "/auth/whoami",
                                               auth=HTTPDigestAuth("alice", "second")).status_code == 401
                          and requests.get(s.url + "/auth/whoami",
                                           auth=HTTPDigestAuth("alice", "first")).status_code == 401,
                          what="the old HA1 to be dropped")
            r = requests.get(s.url + "/auth/whoami", auth=("alice", "second"))
            self.assertEqual(r.status_code, 200, "Basic works with the new password")

    def test_htdigest_file_md5_and_sha256_lines(self):
        tmp = gh.tempfile.mkdtemp()
        path = os.path.join(tmp, "htdigest")
        gh.run_cli(["htdigest", path, "gatehouse", "carol", "--password-stdin"], stdin="md5-pw\n")
        gh.run_cli(["htdigest", path, "gatehouse", "carol", "--password-stdin", "--algorithm", "SHA-256"],
                   stdin="md5-pw\n")
        extra = f'stores = ["htdigest:{path}"]\n'
        for algorithm in ("MD5", "SHA-256"):
            with gh.Server(config_text=config([algorithm], extra), demo=False) as s:
                out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest",
                                      "-u", "carol:md5-pw", s.url + "/auth/whoami"],
                                     capture_output=True, text=True, timeout=30)
                self.assertEqual(out.stdout, "200", algorithm)
                out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest",
                                      "-u", "carol:wrong", s.url + "/auth/whoami"],
                                     capture_output=True, text=True, timeout=30)
                self.assertEqual(out.stdout, "401", algorithm)

    def test_check_config_refuses_stores_without_ha1(self):
        path = os.path.join(gh.tempfile.mkdtemp(), "g.toml")
        with open(path, "w") as f:
            f.write('[auth]\nschemes = ["digest"]\n[auth.digest]\nstores = ["htpasswd:/etc/x"]\n')
        out = gh.run_cli(["check-config", path], check=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn('auth.digest.stores[0]: store "htpasswd:/etc/x" cannot give the Digest HA1', out.stderr)


if __name__ == "__main__":
    unittest.main()
