"""Third parties verify gatehouse access tokens from the JWKS alone (SPEC §5 "Bearer", §6), and
refuse tampered ones: Debian's python3-jwt (PyJWT 2.6, keys from jwt.PyJWKClient; it handles the
OKP/Ed25519 JWKs itself through python3-cryptography) and npm's `jose` (node/verify_jose.mjs:
createRemoteJWKSet + jwtVerify with issuer, audience and typ checks). Every signing algorithm
that publishes a key is covered: EdDSA (the default), ES256 and RS256.

node and tests/integration/node/node_modules come from `scripts/install-deps.sh --test`; when they
are missing the tests fail and say so.
"""
import base64
import json
import os
import shutil
import sqlite3
import subprocess
import time
import unittest

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import gh

# PyJWKClient fetches with urllib, which honours *_proxy variables; the server is local.
for _name in [n for n in os.environ if "proxy" in n.lower()]:
    del os.environ[_name]

ISSUER = "http://localhost:8000"
AUDIENCE = "gatehouse"
NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
VERIFY_JOSE = os.path.join(NODE_DIR, "verify_jose.mjs")
INSTALL_HINT = "run scripts/install-deps.sh --test"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def node_binary():
    node = shutil.which("node")
    if node is None:
        raise AssertionError(f"node is not installed: {INSTALL_HINT}")
    if not os.path.isfile(os.path.join(NODE_DIR, "node_modules", "jose", "package.json")):
        raise AssertionError(f"npm package jose is not installed in {NODE_DIR}: {INSTALL_HINT}")
    return node


def foreign_key(alg):
    """A private key of the same type as the server's that the server never saw."""
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class InteropCases:
    """Mixed into one TestCase per algorithm (ALG, JWK_SHAPE)."""
    ALG = None
    JWK_SHAPE = None  # (kty, crv or None)

    @classmethod
    def setUpClass(cls):
        config = "[log]\naccess = \"\"\n" if cls.ALG == "EdDSA" else \
            f'[log]\naccess = ""\n[tokens]\nalg = "{cls.ALG}"\n'
        cls.server = gh.Server(config_text=config).start()
        cls.client = gh.http_client()
        cls.jwks_url = cls.server.url + "/.well-known/jwks.json"

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.server.__exit__(None, None, None)

    def login(self, user="demo", password="demo"):
        r = self.client.post(self.server.url + "/auth/login", auth=(user, password))
        self.assertEqual(r.status_code, 200, r.text)
        return r.json()["access_token"]

    def whoami_status(self, token):
        return self.client.get(self.server.url + "/auth/whoami",
                               headers={"Authorization": "Bearer " + token}).status_code

    # ---- the two verifiers ------------------------------------------------------------------

    def pyjwt_verify(self, token):
        """Claims, or raises a jwt.PyJWTError. Keys come from the JWKS only."""
        key = jwt.PyJWKClient(self.jwks_url, cache_keys=False).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=[self.ALG], audience=AUDIENCE,
                            issuer=ISSUER, options={"require": ["exp", "iat", "sub"]})
        # PyJWT 2.6 has no typ option; RFC 9068 §4 asks the resource server to check it.
        if jwt.get_unverified_header(token).get("typ") != "at+jwt":
            raise jwt.InvalidTokenError("typ is not at+jwt")
        return claims

    def jose_verify(self, token):
        """(exit code, stdout, stderr) of node verify_jose.mjs."""
        proc = subprocess.run([node_binary(), VERIFY_JOSE, self.jwks_url, token, ISSUER, AUDIENCE,
                               self.ALG], capture_output=True, text=True, timeout=30,
                              cwd=NODE_DIR, env=gh.clean_env())
        return proc.returncode, proc.stdout, proc.stderr

    # ---- tests ------------------------------------------------------------------------------

    def test_jwks_publishes_public_keys_only(self):
        keys = self.client.get(self.jwks_url).json()["keys"]
        self.assertEqual(len(keys), 1, keys)
        k = keys[0]
        kty, crv = self.JWK_SHAPE
        self.assertEqual((k["kty"], k.get("crv"), k["alg"], k["use"]), (kty, crv, self.ALG, "sig"))
        self.assertFalse(PRIVATE_MEMBERS & set(k), f"private members published: {k}")
        header = b64u_json(self.login().split(".")[0])
        self.assertEqual((header["alg"], header["kid"], header["typ"]), (self.ALG, k["kid"], "at+jwt"))

    def test_python_jwt_verifies_from_the_jwks(self):
        token = self.login()
        claims = self.pyjwt_verify(token)
        self.assertEqual(claims, b64u_json(token.split(".")[1]))
        self.assertEqual((claims["sub"], claims["iss"], claims["aud"], claims["roles"]),
                         ("demo", ISSUER, AUDIENCE, ["User"]))
        self.assertGreater(claims["exp"], time.time())
        # The library checks what we ask of it: another audience or issuer is refused.
        key = jwt.PyJWKClient(self.jwks_url).get_signing_key_from_jwt(token).key
        with self.assertRaises(jwt.InvalidAudienceError):
            jwt.decode(token, key, algorithms=[self.ALG], audience="someone-else", issuer=ISSUER)
        with self.assertRaises(jwt.InvalidIssuerError):
            jwt.decode(token, key, algorithms=[self.ALG], audience=AUDIENCE,
                       issuer="https://evil.example")

    def test_node_jose_verifies_from_the_jwks(self):
        token = self.login("admin", "admin")
        code, out, err = self.jose_verify(token)
        self.assertEqual(code, 0, f"jose refused a gatehouse token: {err}")
        result = json.loads(out)
        self.assertEqual(result["payload"], b64u_json(token.split(".")[1]))
        self.assertEqual(result["payload"]["sub"], "admin")
        self.assertEqual(result["header"]["alg"], self.ALG)
        self.assertEqual(result["header"]["typ"], "at+jwt")

    def tampered_tokens(self):
        """(why, token) pairs that no verifier may accept."""
        token = self.login()
        header, payload, signature = token.split(".")
        claims = b64u_json(payload)
        out = []
        for change in [{"roles": ["Admin"]}, {"sub": "admin"}, {"exp": claims["exp"] + 86400}]:
            forged = b64u(json.dumps(dict(claims, **change), separators=(",", ":")).encode())
            out.append((f"payload changed {change}", header + "." + forged + "." + signature))
        # Right header and claims, signed by a key of the same type that is not in the JWKS.
        kid = b64u_json(header)["kid"]
        foreign = jwt.encode(dict(claims, roles=["Admin"]), foreign_key(self.ALG),
                             algorithm=self.ALG, headers={"kid": kid, "typ": "at+jwt"})
        out.append(("signed by a foreign key under the real kid", foreign))
        return out

    def test_python_jwt_rejects_tampered_tokens(self):
        for why, token in self.tampered_tokens():
            with self.subTest(why=why):
                with self.assertRaises(jwt.InvalidSignatureError):
                    self.pyjwt_verify(token)
                self.assertEqual(self.whoami_status(token), 401, "gatehouse itself refuses it")

    def test_node_jose_rejects_tampered_tokens(self):
        for why, token in self.tampered_tokens():
            with self.subTest(why=why):
                code, out, err = self.jose_verify(token)
                self.assertEqual(code, 1, f"jose accepted a tampered token ({why}): {out}{err}")
                self.assertIn("ERR_JWS_SIGNATURE_VERIFICATION_FAILED", err)
                self.assertEqual(out, "")

    def real_signing_key(self):
        """The server's private key, from its store: to make tokens with one chosen flaw."""
        db = sqlite3.connect(os.path.join(self.server.data_dir, "gatehouse.db"), timeout=5)
        try:
            kid, alg, private_jwk = db.execute(
                "SELECT kid, alg, private_jwk FROM signing_keys WHERE retired IS NULL").fetchone()
        finally:
            db.close()
        self.assertEqual(alg, self.ALG)
        return kid, jwt.PyJWK(json.loads(private_jwk), algorithm=self.ALG).key

    def test_node_jose_checks_issuer_audience_and_typ(self):
        """verify_jose.mjs enforces what a resource server must: tokens signed with the real key
        but with the wrong typ, iss or aud are refused, while a flawless one is accepted."""
        kid, key = self.real_signing_key()
        claims = b64u_json(self.login().split(".")[1])

        def make(typ="at+jwt", **changes):
            return jwt.encode(dict(claims, **changes), key, algorithm=self.ALG,
                              headers={"kid": kid, "typ": typ})

        code, out, err = self.jose_verify(make())
        self.assertEqual(code, 0, "the control token: " + err)
        self.assertEqual(self.pyjwt_verify(make())["sub"], "demo")
        for why, token in [("typ JWT", make(typ="JWT")),
                           ("wrong iss", make(iss="https://evil.example")),
                           ("wrong aud", make(aud="other")),
                           ("expired", make(exp=int(time.time()) - 3600))]:
            with self.subTest(why=why):
                code, out, err = self.jose_verify(token)
                self.assertEqual(code, 1, f"jose accepted a token with {why}: {out}")
                self.assertIn("ERR_JWT_", err)
                with self.assertRaises(jwt.InvalidTokenError):
                    self.pyjwt_verify(token)
                self.assertEqual(self.whoami_status(token), 401)


class EdDSAInteropTest(InteropCases, unittest.TestCase):
    ALG = "EdDSA"
    JWK_SHAPE = ("OKP", "Ed25519")


class ES256InteropTest(InteropCases, unittest.TestCase):
    ALG = "ES256"
    JWK_SHAPE = ("EC", "P-256")


class RS256InteropTest(InteropCases, unittest.TestCase):
    ALG = "RS256"
    JWK_SHAPE = ("RSA", None)


class HarnessTest(unittest.TestCase):
    def test_node_and_jose_are_installed(self):
        """Fails (never skips) without node or the npm packages."""
        node = node_binary()
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        with open(os.path.join(NODE_DIR, "node_modules", "jose", "package.json")) as f:
            installed = json.load(f)["version"]
        with open(os.path.join(NODE_DIR, "package.json")) as f:
            wanted = json.load(f)["dependencies"]["jose"]
        self.assertEqual(installed, wanted, f"node_modules is stale: {INSTALL_HINT}")


if __name__ == "__main__":
    unittest.main()
