"""HTTP Digest (RFC 7616): interop with real clients and attacks with hand-computed headers.

Clients: curl --digest, httpie -A digest, Python requests HTTPDigestAuth (Debian python3-requests).
The demo users (demo/demo, admin/admin) have Digest HA1 rows for the default realm.

Every config puts "digest" BEFORE "basic" in `[auth] schemes`: httpie 3.2.1 (through requests'
HTTPDigestAuth) only answers a Digest challenge when it precedes the Basic one in the 401.

Client behaviour this file relies on (checked against the installed versions, not assumed):
- requests 2.28.1 joins all WWW-Authenticate headers into one string and parses it as a dict, so
  with several Digest challenges the LAST challenge's algorithm and nonce win. To make requests
  use SHA-256, the config offers only SHA-256.
- requests knows MD5, MD5-sess, SHA, SHA-256, SHA-512 only; for SHA-512-256 (and SHA-256-sess)
  build_digest_header() returns None and the retry raises TypeError inside requests.
- curl answers the FIRST Digest challenge. curl 7.88 (Debian 12) computes "SHA-512-256" with
  plain SHA-256 (a curl bug, fixed in later curl releases), so the server must refuse it.
"""
import hashlib
import http.client
import json
import os
import re
import subprocess
import tempfile
import time
import unittest

import requests
from requests.auth import HTTPDigestAuth

import gh

HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def base_algorithm(algorithm):
    return algorithm[:-5] if algorithm.lower().endswith("-sess") else algorithm


def H(algorithm, data):
    if isinstance(data, str):
        data = data.encode()
    return hashlib.new(HASHES[base_algorithm(algorithm)], data).hexdigest()


def config(algorithms, extra_digest="", extra=""):
    quoted = ", ".join(f'"{a}"' for a in algorithms)
    # "digest" first: httpie only answers Digest when its challenge precedes Basic (see above).
    return (f'[log]\naccess = ""\n{extra}[auth]\nschemes = ["digest", "basic"]\n'
            f'[auth.digest]\nalgorithms = [{quoted}]\n{extra_digest}')


def param(text, name):
    m = re.search(r'(?:^|[\s,])' + re.escape(name) + r'="((?:[^"\\]|\\.)*)"', text) or \
        re.search(r'(?:^|[\s,])' + re.escape(name) + r'=([^,\s"]+)', text)
    return m.group(1) if m else None


def get_raw(server, method="GET", path="/auth/whoami", headers=None, body=b""):
    """One request on its own connection: (status, [(name, value)], body). Never a 500."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        result = (r.status, r.getheaders(), data)
    finally:
        conn.close()
    assert result[0] != 500, f"server answered 500: {result}"
    return result


def header_values(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def digest_challenges(server, path="/auth/whoami"):
    status, headers, _ = get_raw(server, path=path)
    assert status == 401, status
    return [v for v in header_values(headers, "WWW-Authenticate") if v.startswith("Digest ")]


class Client:
    """The client side of Digest, computed by hand (RFC 7616 §3.4)."""

    def __init__(self, challenge, user="demo", password="demo", algorithm=None, qop="auth",
                 cnonce="0a4f113b", userhash=False):
        self.realm = param(challenge, "realm")
        self.nonce = param(challenge, "nonce")
        self.opaque = param(challenge, "opaque")
        self.algorithm = algorithm or param(challenge, "algorithm")
        self.user, self.password, self.qop, self.cnonce = user, password, qop, cnonce
        self.userhash = userhash

    def ha1(self):
        a = self.algorithm
        ha1 = H(a, f"{self.user}:{self.realm}:{self.password}")
        if a.lower().endswith("-sess"):
            ha1 = H(a, f"{ha1}:{self.nonce}:{self.cnonce}")
        return ha1

    def ha2(self, method, uri, body=b""):
        if self.qop == "auth-int":
            return H(self.algorithm, f"{method}:{uri}:" + H(self.algorithm, body))
        return H(self.algorithm, f"{method}:{uri}")

    def response(self, method, uri, nc, body=b""):
        return H(self.algorithm,
                 f"{self.ha1()}:{self.nonce}:{nc}:{self.cnonce}:{self.qop}:{self.ha2(method, uri, body)}")

    def rspauth(self, uri, nc, response_body=b""):
        # §3.5: A2 with an empty method; for auth-int over the response body.
        return H(self.algorithm,
                 f"{self.ha1()}:{self.nonce}:{nc}:{self.cnonce}:{self.qop}:{self.ha2('', uri, response_body)}")

    def header(self, method="GET", uri="/auth/whoami", nc="00000001", body=b"", send_uri=None,
               send_algorithm=True):
        username = H(self.algorithm, f"{self.user}:{self.realm}") if self.userhash else self.user
        value = (f'Digest username="{username}", realm="{self.realm}", nonce="{self.nonce}", '
                 f'uri="{send_uri or uri}", qop={self.qop}, nc={nc}, cnonce="{self.cnonce}", '
                 f'response="{self.response(method, uri, nc, body)}"')
        if send_algorithm:
            value += f", algorithm={self.algorithm}"
        if self.opaque:
            value += f', opaque="{self.opaque}"'
        if self.userhash:
            value += ", userhash=true"
        return value


def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=gh.clean_env(), **kwargs)


class ServerCase(unittest.TestCase):
    """Helpers shared by the classes below."""

    def assertAlive(self, server):
        self.assertTrue(server.alive(), "the server died: " + server.stderr()[-2000:])
        self.assertEqual(get_raw(server, path="/healthz")[0], 200)

    def challenge_for(self, server, algorithm):
        for c in digest_challenges(server):
            if param(c, "algorithm") == algorithm:
                return c
        self.fail(f"no {algorithm} challenge in {digest_challenges(server)}")


# ---- real clients ------------------------------------------------------------------------------


class Curl(ServerCase):
    def curl(self, server, *args):
        out = run([gh.require_tool("curl"), "-sv", "--digest", "-w", "\n%{http_code}", *args,
                   server.url + "/auth/whoami"])
        body, code = out.stdout.rsplit("\n", 1)
        sent = [line[2:] for line in out.stderr.splitlines() if line.lower().startswith("> authorization:")]
        return int(code), body, sent

    def test_md5_sha256_and_sess(self):
        for algorithm in ("MD5", "SHA-256", "MD5-sess", "SHA-256-sess"):
            with self.subTest(algorithm=algorithm), gh.Server(config_text=config([algorithm])) as s:
                code, body, sent = self.curl(s, "-u", "demo:demo")
                self.assertEqual(code, 200, (body, sent))
                self.assertEqual(json.loads(body)["user"], "demo")
                self.assertEqual(json.loads(body)["scheme"], "digest")
                self.assertEqual(param(sent[-1], "algorithm"), algorithm, "curl uses what is offered")
                code, _, _ = self.curl(s, "-u", "demo:wrong")
                self.assertEqual(code, 401)
                self.assertAlive(s)

    def test_curl_answers_the_first_challenge_strongest_first(self):
        with gh.Server(config_text=config(["SHA-256", "MD5"])) as s:
            code, body, sent = self.curl(s, "-u", "admin:admin")
            self.assertEqual(code, 200, body)
            self.assertEqual(param(sent[-1], "algorithm"), "SHA-256")

    def test_sha512_256(self):
        # curl 7.88 hashes "SHA-512-256" with SHA-256: the server must refuse that (it is not the
        # algorithm it offered). A curl that gets it right must get in.
        with gh.Server(config_text=config(["SHA-512-256"])) as s:
            code, body, sent = self.curl(s, "-u", "demo:demo")
            if code != 200:
                self.assertEqual(code, 401)
                header = sent[0]
                c = Client("Digest " + header.split("Digest ", 1)[1], algorithm="SHA-256",
                           cnonce=param(header, "cnonce"))
                self.assertEqual(param(header, "response"),
                                 c.response("GET", "/auth/whoami", param(header, "nc")),
                                 "curl's SHA-512-256 response is neither right nor plain SHA-256")
            self.assertAlive(s)


class Httpie(ServerCase):
    def http(self, server, user_password):
        return run([gh.require_tool("http"), "--ignore-stdin", "--check-status", "--print=hb",
                    "-A", "digest", "-a", user_password, server.url + "/auth/whoami"])

    def test_md5_and_sha256(self):
        for algorithm in ("MD5", "SHA-256"):
            with self.subTest(algorithm=algorithm), gh.Server(config_text=config([algorithm])) as s:
                out = self.http(s, "demo:demo")
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                self.assertIn("HTTP/1.1 200", out.stdout)
                self.assertIn("Authentication-Info: rspauth=", out.stdout)
                self.assertEqual(json.loads(out.stdout[out.stdout.index("{"):])["user"], "demo")
                out = self.http(s, "demo:wrong")
                self.assertEqual(out.returncode, 4, out.stdout + out.stderr)  # --check-status: 4xx
                self.assertAlive(s)


class Requests(ServerCase):
    def session_of_three(self, server, algorithm, user="admin", password="admin"):
        with requests.Session() as session:
            session.trust_env = False
            session.auth = HTTPDigestAuth(user, password)
            for i in range(1, 4):
                r = session.get(server.url + "/auth/whoami", timeout=10)
                self.assertEqual(r.status_code, 200, (algorithm, i, r.text))
                self.assertEqual(r.json()["user"], user)
                # One 401 for the first request only; then the nonce is reused with nc 2, 3.
                self.assertEqual(len(r.history), 1 if i == 1 else 0)
                sent = r.request.headers["Authorization"]
                self.assertEqual(param(sent, "nc"), f"{i:08x}")
                self.assertEqual(param(sent, "algorithm"), algorithm)
                # Check the server's rspauth (requests does not).
                info = r.headers["Authentication-Info"]
                c = Client(sent, user=user, password=password, algorithm=algorithm,
                           cnonce=param(sent, "cnonce"))
                self.assertEqual(param(info, "rspauth"), c.rspauth("/auth/whoami", f"{i:08x}"))
                self.assertEqual(param(info, "nc"), f"{i:08x}")
                self.assertEqual(param(info, "cnonce"), param(sent, "cnonce"))
                self.assertEqual(param(info, "qop"), "auth")

    def test_session_md5_sha256_md5_sess(self):
        for algorithm in ("MD5", "SHA-256", "MD5-sess"):
            with self.subTest(algorithm=algorithm), gh.Server(config_text=config([algorithm])) as s:
                self.session_of_three(s, algorithm)
                r = requests.get(s.url + "/auth/whoami", auth=HTTPDigestAuth("admin", "nope"), timeout=10)
                self.assertEqual(r.status_code, 401)
                self.assertAlive(s)

    def test_sha512_256_is_not_supported_by_requests(self):
        # requests 2.28.1 has no SHA-512-256: build_digest_header() returns None and sending the
        # retry fails with TypeError. The server only ever answered the challenge.
        with gh.Server(config_text=config(["SHA-512-256"])) as s:
            with self.assertRaises(TypeError):
                requests.get(s.url + "/auth/whoami", auth=HTTPDigestAuth("demo", "demo"), timeout=10)
            self.assertEqual(param(digest_challenges(s)[0], "algorithm"), "SHA-512-256")
            # The hand-computed SHA-512-256 client works (see Attacks for the rest).
            c = Client(digest_challenges(s)[0])
            self.assertEqual(get_raw(s, headers={"Authorization": c.header()})[0], 200)
            self.assertAlive(s)

    def test_password_change_without_digest_drops_ha1(self):
        with gh.Server(config_text=config(["MD5"])) as s:
            s.cli(["user", "add", "alice", "--password-stdin", "--digest"], stdin="first-pass\n")

            def digest(password):
                return requests.get(s.url + "/auth/whoami", auth=HTTPDigestAuth("alice", password),
                                    timeout=10).status_code

            gh.wait_until(lambda: digest("first-pass") == 200, timeout=gh.PROPAGATION_S,
                          what="alice's Digest login")
            s.cli(["user", "passwd", "alice", "--password-stdin"], stdin="second-pass\n")
            changed = time.monotonic()
            # Within 1 s the HA1 is gone: neither the old nor the new password works with Digest.
            gh.wait_until(lambda: digest("first-pass") == 401 and digest("second-pass") == 401,
                          timeout=gh.PROPAGATION_S, what="alice's HA1 to be dropped")
            self.assertLess(time.monotonic() - changed, gh.PROPAGATION_S + 0.5)
            gh.wait_status(s.url + "/auth/whoami", 200, auth=("alice", "second-pass"))
            self.assertEqual(gh.status(s.url + "/auth/whoami", auth=("alice", "first-pass")), 401)
            self.assertAlive(s)


# ---- attacks -----------------------------------------------------------------------------------


class Attacks(ServerCase):
    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server(config_text=config(["SHA-256", "MD5"]))
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def tearDown(self):
        self.assertAlive(self.server)

    def status(self, auth, path="/auth/whoami", body=b"", method="GET"):
        return get_raw(self.server, method=method, path=path, headers={"Authorization": auth}, body=body)[0]

    def test_challenges_one_per_algorithm_strongest_first(self):
        found = digest_challenges(self.server)
        self.assertEqual([param(c, "algorithm") for c in found], ["SHA-256", "MD5"])
        self.assertEqual(len({param(c, "nonce") for c in found}), 2)
        for c in found:
            self.assertEqual(param(c, "realm"), "gatehouse")
            self.assertEqual(param(c, "qop"), "auth, auth-int")
            self.assertIsNone(param(c, "stale"))
        _, headers, _ = get_raw(self.server)
        names = [v.split(" ", 1)[0] for v in header_values(headers, "WWW-Authenticate")]
        self.assertEqual(names, ["Digest", "Digest", "Basic"])

    def test_authentication_info_rspauth(self):
        for algorithm in ("SHA-256", "MD5"):
            c = Client(self.challenge_for(self.server, algorithm))
            status, headers, body = get_raw(self.server, headers={"Authorization": c.header()})
            self.assertEqual(status, 200)
            info = header_values(headers, "Authentication-Info")
            self.assertEqual(len(info), 1, headers)
            self.assertEqual(param(info[0], "rspauth"), c.rspauth("/auth/whoami", "00000001"))
            self.assertEqual(param(info[0], "cnonce"), c.cnonce)
            self.assertEqual(param(info[0], "nc"), "00000001")
            self.assertEqual(param(info[0], "qop"), "auth")
            self.assertIsNone(param(info[0], "nextnonce"))

    def test_authentication_info_auth_int_covers_the_response_body(self):
        c = Client(self.challenge_for(self.server, "SHA-256"), qop="auth-int")
        status, headers, body = get_raw(self.server, headers={"Authorization": c.header()})
        self.assertEqual(status, 200, body)
        info = header_values(headers, "Authentication-Info")[0]
        self.assertEqual(param(info, "qop"), "auth-int")
        self.assertEqual(param(info, "rspauth"), c.rspauth("/auth/whoami", "00000001", body))
        self.assertNotEqual(param(info, "rspauth"), c.rspauth("/auth/whoami", "00000001", b""))

    def test_replay_of_the_same_header(self):
        c = Client(self.challenge_for(self.server, "MD5"))
        auth = c.header(nc="00000001")
        self.assertEqual(self.status(auth), 200)
        self.assertEqual(self.status(auth), 401)
        self.assertEqual(self.status(auth), 401)

    def test_nc_going_backwards(self):
        c = Client(self.challenge_for(self.server, "SHA-256"))
        self.assertEqual(self.status(c.header(nc="00000007")), 200)
        self.assertEqual(self.status(c.header(nc="00000006")), 401)
        self.assertEqual(self.status(c.header(nc="00000001")), 401)
        self.assertEqual(self.status(c.header(nc="00000008")), 200)

    def test_tampered_uri(self):
        c = Client(self.challenge_for(self.server, "SHA-256"))
        # The uri parameter changed but the response is for /auth/whoami.
        self.assertEqual(self.status(c.header(nc="00000001", send_uri="/auth/verify"), path="/auth/verify"), 401)
        # A consistent header for /auth/whoami, sent to /auth/verify.
        self.assertEqual(self.status(c.header(nc="00000002"), path="/auth/verify"), 401)
        # A query string appended to the target.
        self.assertEqual(self.status(c.header(nc="00000003"), path="/auth/whoami?x=1"), 401)
        # Method: computed for POST, sent as GET.
        self.assertEqual(self.status(c.header(method="POST", nc="00000004")), 401)
        self.assertEqual(self.status(c.header(nc="00000005")), 200)

    def test_auth_int_body_swap(self):
        c = Client(self.challenge_for(self.server, "MD5"), qop="auth-int")
        self.assertEqual(self.status(c.header(nc="00000001", body=b"amount=10"), body=b"amount=10000"), 401)
        self.assertEqual(self.status(c.header(nc="00000002", body=b"amount=10"), body=b""), 401)
        self.assertEqual(self.status(c.header(nc="00000003", body=b"amount=10"), body=b"amount=10"), 200)

    def test_forged_nonce(self):
        c = Client(self.challenge_for(self.server, "SHA-256"))
        good = c.nonce
        for i in (0, 10, 30, len(good) - 2):
            c.nonce = good[:i] + ("A" if good[i] != "A" else "B") + good[i + 1:]
            self.assertEqual(self.status(c.header()), 401, i)
        for bad in ("", "bm90IGEgbm9uY2U", "A" * 54, good + "AA"):
            c.nonce = bad
            self.assertEqual(self.status(c.header()), 401, bad)
        c.nonce = good
        self.assertEqual(self.status(c.header()), 200)

    def test_nonce_and_opaque_from_another_server(self):
        # Another server, another realm and another secret: its nonce (answered correctly for our
        # realm, or for its own) is not ours.
        text = config(["SHA-256", "MD5"]).replace("[auth]\n", '[auth]\nrealm = "elsewhere"\n')
        with gh.Server(config_text=text) as other:
            foreign = self.challenge_for(other, "SHA-256")
            self.assertEqual(param(foreign, "realm"), "elsewhere")
            ours = Client(self.challenge_for(self.server, "SHA-256"))
            ours.nonce = param(foreign, "nonce")
            self.assertEqual(self.status(ours.header()), 401)
            theirs = Client(foreign)  # realm "elsewhere" throughout
            self.assertEqual(self.status(theirs.header()), 401)
            self.assertEqual(get_raw(other, headers={"Authorization": theirs.header()})[0], 200)
            ours = Client(self.challenge_for(self.server, "SHA-256"))
            ours.opaque = param(foreign, "opaque")
            self.assertEqual(self.status(ours.header()), 401)

    def test_malformed_headers_are_401_never_500(self):
        c = Client(self.challenge_for(self.server, "MD5"))
        good = c.header()
        for bad in ['Digest', 'Digest username="demo"', 'Digest ,,,=', 'Digest username="a", username="b"',
                    good.replace("qop=auth, ", ""), good.replace("nc=00000001", "nc=1"),
                    good + ', x="' + "y" * 5000 + '"', good[:-1], good.replace("algorithm=MD5", "algorithm=SHA-1"),
                    'Digest username*=UTF-8\'\'%FF%FE, realm="gatehouse"']:
            status, _, body = get_raw(self.server, headers={"Authorization": bad})
            self.assertEqual(status, 401, bad[:100])


class Policies(ServerCase):
    def test_downgrade_when_only_sha256_is_allowed(self):
        with gh.Server(config_text=config(["SHA-256"])) as s:
            challenges = digest_challenges(s)
            self.assertEqual([param(c, "algorithm") for c in challenges], ["SHA-256"])
            ch = challenges[0]
            for algorithm in ("MD5", "MD5-sess", "SHA-256-sess", "SHA-512-256"):
                c = Client(ch, algorithm=algorithm)  # a correct response, in a weaker/other hash
                self.assertEqual(get_raw(s, headers={"Authorization": c.header()})[0], 401, algorithm)
            # No algorithm parameter means MD5 (RFC 7616 §3.4): refused too.
            c = Client(ch, algorithm="MD5")
            self.assertEqual(get_raw(s, headers={"Authorization": c.header(send_algorithm=False)})[0], 401)
            # curl and requests fall in line with what is offered.
            with requests.Session() as session:
                session.trust_env = False
                r = session.get(s.url + "/auth/whoami", auth=HTTPDigestAuth("demo", "demo"), timeout=10)
                self.assertEqual(r.status_code, 200)
                self.assertEqual(param(r.request.headers["Authorization"], "algorithm"), "SHA-256")
            c = Client(ch)
            self.assertEqual(get_raw(s, headers={"Authorization": c.header()})[0], 200)
            self.assertAlive(s)

    def test_expired_nonce_is_stale(self):
        with gh.Server(config_text=config(["MD5"], 'nonce_lifetime = "1s"\n')) as s:
            c = Client(digest_challenges(s)[0])
            nc = [0]
            seen = {}

            def stale():
                nc[0] += 1
                status, headers, _ = get_raw(s, headers={"Authorization": c.header(nc=f"{nc[0]:08x}")})
                seen["status"], seen["headers"] = status, headers
                if status == 200:
                    return False
                return True

            gh.wait_until(stale, timeout=5, what="the nonce to expire")
            self.assertEqual(seen["status"], 401)
            www = header_values(seen["headers"], "WWW-Authenticate")
            digests = [v for v in www if v.startswith("Digest ")]
            self.assertTrue(digests, www)
            self.assertTrue(all(param(v, "stale") == "true" for v in digests), www)
            self.assertNotIn(param(digests[0], "nonce"), (c.nonce,))
            # The fresh nonce works at once, without asking the user again.
            fresh = Client(digests[0])
            self.assertEqual(get_raw(s, headers={"Authorization": fresh.header()})[0], 200)
            # A wrong password with an expired nonce is just a 401, not stale.
            wrong = Client(digests[0], password="wrong")
            time.sleep(1.2)
            status, headers, _ = get_raw(s, headers={"Authorization": wrong.header()})
            self.assertEqual(status, 401)
            self.assertFalse(any(param(v, "stale") for v in header_values(headers, "WWW-Authenticate")))
            self.assertAlive(s)

    def test_nextnonce_near_expiry(self):
        # Lifetime 2 s: a nonce in its last 10% (200 ms) gets a nextnonce in Authentication-Info.
        with gh.Server(config_text=config(["SHA-256"], 'nonce_lifetime = "2s"\n')) as s:
            c = Client(digest_challenges(s)[0])
            issued = time.monotonic()
            nc = [0]
            found = {}

            def nextnonce():
                nc[0] += 1
                status, headers, _ = get_raw(s, headers={"Authorization": c.header(nc=f"{nc[0]:08x}")})
                self.assertEqual(status, 200, "expired before any nextnonce was sent")
                info = header_values(headers, "Authentication-Info")[0]
                if param(info, "nextnonce"):
                    found["nextnonce"] = param(info, "nextnonce")
                    return True
                return False

            time.sleep(max(0.0, 1.6 - (time.monotonic() - issued)))
            gh.wait_until(nextnonce, timeout=2, what="a nextnonce")
            c.nonce = found["nextnonce"]
            time.sleep(0.3)  # the old nonce has expired by now; the next one has not
            self.assertEqual(get_raw(s, headers={"Authorization": c.header()})[0], 200)
            self.assertAlive(s)

    def test_userhash(self):
        with gh.Server(config_text=config(["SHA-256"], "userhash = true\n")) as s:
            ch = digest_challenges(s)[0]
            self.assertEqual(param(ch, "userhash"), "true")
            c = Client(ch, userhash=True)
            status, _, body = get_raw(s, headers={"Authorization": c.header()})
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["user"], "demo")
            c = Client(ch, userhash=True, password="wrong")
            self.assertEqual(get_raw(s, headers={"Authorization": c.header(nc="00000002")})[0], 401)
            self.assertAlive(s)

    def test_check_config_refuses_a_store_without_ha1(self):
        tmp = tempfile.mkdtemp(prefix="gatehouse-digest-")
        path = os.path.join(tmp, "gatehouse.toml")
        with open(path, "w") as f:
            f.write('[auth]\nschemes = ["digest", "basic"]\n[auth.digest]\nstores = ["htpasswd:/x"]\n')
        out = gh.run_cli(["check-config", path], check=False)
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertIn("htpasswd:/x", out.stderr)
        self.assertIn("auth.digest.stores", out.stderr)


if __name__ == "__main__":
    unittest.main()
