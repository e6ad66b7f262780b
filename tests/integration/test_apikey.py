"""API keys (SPEC §5, §6): created with the CLI, used three ways, revoked, expired, narrowed."""
import base64
import calendar
import time
import unittest

import gh


class ApiKeyTest(unittest.TestCase):
    """One demo server for the whole class; every test makes its own keys."""

    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server().start()
        cls.whoami = cls.server.url + "/auth/whoami"

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def get(self, **kwargs):
        with gh.http_client() as c:
            return c.get(self.whoami, **kwargs)

    def new_key(self, user="demo", *args):
        """A key created while the server runs; returns once the server accepts it (≤ 1 s)."""
        key, key_id = self.server.create_key(user, *args)
        gh.wait_status(self.whoami, 200, headers={"X-API-Key": key})
        return key, key_id

    def test_create_prints_only_the_key_on_stdout(self):
        out = self.server.cli(["apikey", "create", "demo", "--name", "x"])
        lines = out.stdout.splitlines()
        self.assertEqual(len(lines), 1, out.stdout)
        m = gh.API_KEY_RE.match(lines[0])
        self.assertIsNotNone(m, out.stdout)
        self.assertIn(m.group(1), out.stderr)  # the id (not the secret) is told on stderr
        self.assertNotIn(m.group(2), out.stderr)
        listing = self.server.cli(["apikey", "list", "demo"]).stdout
        row = [l for l in listing.splitlines() if l.startswith(m.group(1))]
        self.assertEqual(len(row), 1, listing)
        cols = row[0].split("\t")
        self.assertEqual(cols[1:3], ["demo", "x"])
        self.assertEqual(cols[-1], "active")
        self.assertNotIn(m.group(2), listing)

    def test_key_created_while_running_works_within_1s(self):
        key, _ = self.server.create_key("demo", "--name", "fresh")
        start = time.monotonic()
        gh.wait_status(self.whoami, 200, headers={"X-API-Key": key})
        self.assertLess(time.monotonic() - start, gh.PROPAGATION_S + 0.5)

    def test_three_ways_to_present_a_key(self):
        key, _ = self.new_key("demo", "--name", "three")
        expected = {"user": "demo", "scheme": "apikey", "roles": ["User"]}
        for kwargs in [{"headers": {"Authorization": "Apikey " + key}},
                       {"headers": {"Authorization": "apikey " + key}},  # scheme is case-insensitive
                       {"headers": {"X-API-Key": key}},
                       {"params": {"api_key": key}}]:
            r = self.get(**kwargs)
            self.assertEqual(r.status_code, 200, f"{kwargs}: {r.text}")
            body = r.json()
            self.assertEqual({k: body[k] for k in expected}, expected)

    def test_wrong_key_is_401_with_challenges(self):
        key, _ = self.new_key("demo")
        wrong = key[:-1] + ("0" if key[-1] != "0" else "1")
        for kwargs in [{"headers": {"Authorization": "Apikey " + wrong}},
                       {"headers": {"X-API-Key": wrong}},
                       {"params": {"api_key": wrong}},
                       {"headers": {"X-API-Key": "gh_ffffffffffffffff_" + "a" * 64}}]:
            r = self.get(**kwargs)
            self.assertEqual(r.status_code, 401, kwargs)
            self.assertEqual(r.json()["error"], "invalid_credentials")
            challenges = r.headers.get_list("www-authenticate")
            self.assertIn(gh.APIKEY_CHALLENGE, challenges)
            self.assertIn(gh.BASIC_CHALLENGE, challenges)

    def test_malformed_key_is_401_invalid_request(self):
        for value in ["not-a-key", "gh_short_abc", "gh_0123456789ABCDEF_" + "0" * 64]:
            r = self.get(headers={"X-API-Key": value})
            self.assertEqual(r.status_code, 401, value)
            self.assertEqual(r.json()["error"], "invalid_request")

    def test_wrong_header_is_final_even_with_valid_query_key(self):
        key, _ = self.new_key("demo")
        wrong = "gh_0000000000000000_" + "0" * 64
        basic_wrong = "Basic " + base64.b64encode(b"demo:wrong").decode()
        for headers in [{"Authorization": "Apikey " + wrong},
                        {"X-API-Key": wrong},
                        {"Authorization": basic_wrong}]:
            r = self.get(headers=headers, params={"api_key": key})
            self.assertEqual(r.status_code, 401, headers)
        # A wrong query key does not spoil a valid header key either: the header decides.
        r = self.get(headers={"X-API-Key": key}, params={"api_key": wrong})
        self.assertEqual(r.status_code, 200)

    def test_revoke_takes_effect_within_1s(self):
        key, key_id = self.new_key("demo", "--name", "doomed")
        out = self.server.cli(["apikey", "revoke", key_id])
        self.assertIn(key_id, out.stdout)
        for kwargs in [{"headers": {"X-API-Key": key}}, {"params": {"api_key": key}}]:
            gh.wait_status(self.whoami, 401, **kwargs)
        r = self.get(headers={"Authorization": "Apikey " + key})
        self.assertEqual(r.status_code, 401)
        self.assertEqual(r.json()["error"], "invalid_credentials")
        self.assertEqual(gh.status(self.whoami, auth=("demo", key)), 401)
        listing = self.server.cli(["apikey", "list", "demo"]).stdout
        row = [l for l in listing.splitlines() if l.startswith(key_id)][0]
        self.assertTrue(row.endswith("\trevoked"), row)
        # Revoking twice is a failure (exit 1): it is no longer active.
        self.assertEqual(self.server.cli(["apikey", "revoke", key_id], check=False).returncode, 1)

    def test_expiry(self):
        created = time.time()
        key, key_id = self.new_key("demo", "--name", "short", "--expires", "3s")
        self.assertLess(time.time() - created, 2.0, "the key must be usable before it expires")
        # The expiry is whole seconds from creation: at most 3 s, at least 2 s after it.
        gh.wait_status(self.whoami, 401, timeout=5.0, headers={"X-API-Key": key})
        self.assertGreater(time.time() - created, 1.9, "the key expired too early")
        r = self.get(headers={"X-API-Key": key})
        self.assertEqual(r.json()["error"], "invalid_credentials")
        self.assertIn("expired", r.json()["error_description"])
        listing = self.server.cli(["apikey", "list", "demo"]).stdout
        row = [l for l in listing.splitlines() if l.startswith(key_id)][0]
        self.assertTrue(row.endswith("\texpired"), row)

    def test_bad_expires_is_usage_error(self):
        for value in ["soon", "-1d", "0s", "10x"]:
            out = self.server.cli(["apikey", "create", "demo", "--expires=" + value], check=False)
            self.assertEqual(out.returncode, 2, value)
            self.assertIn("--expires", out.stderr)
            self.assertEqual(out.stdout, "")

    def test_key_as_basic_password(self):
        key, _ = self.new_key("demo", "--name", "as-basic")
        with gh.http_client() as c:
            r = c.get(self.whoami, auth=("demo", key))
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(r.json()["user"], "demo")
            self.assertEqual(r.json()["scheme"], "basic")
            r = c.get(self.whoami, auth=("admin", key))  # another user's name
            self.assertEqual(r.status_code, 401)
            self.assertEqual(r.json()["error"], "invalid_credentials")
            r = c.get(self.whoami, auth=("DEMO", key))  # the name is case-mapped first
            self.assertEqual(r.status_code, 200)

    def test_role_narrowing(self):
        self.server.cli(["user", "add", "boss", "--role", "Admin", "--role", "User",
                         "--password-stdin"], stdin="boss-pw\n")
        gh.wait_status(self.whoami, 200, auth=("boss", "boss-pw"))
        narrow, _ = self.new_key("boss", "--name", "admin-only", "--role", "Admin")
        full, _ = self.new_key("boss", "--name", "everything")
        self.assertEqual(self.get(headers={"X-API-Key": narrow}).json()["roles"], ["Admin"])
        self.assertEqual(sorted(self.get(headers={"X-API-Key": full}).json()["roles"]),
                         ["Admin", "User"])
        listing = self.server.cli(["apikey", "list", "boss"]).stdout
        self.assertIn("(owner's)", listing)
        # A key cannot widen its owner's roles.
        out = self.server.cli(["apikey", "create", "demo", "--role", "Admin"], check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("Admin", out.stderr)
        self.assertEqual(out.stdout, "")

    def test_owner_disabled_or_deleted(self):
        self.server.cli(["user", "add", "owner", "--password-stdin"], stdin="owner-pw\n")
        gh.wait_status(self.whoami, 200, auth=("owner", "owner-pw"))
        key, _ = self.new_key("owner", "--name", "k")
        self.server.cli(["user", "disable", "owner"])
        gh.wait_status(self.whoami, 401, headers={"X-API-Key": key})
        self.assertEqual(gh.status(self.whoami, auth=("owner", key)), 401)
        self.server.cli(["user", "enable", "owner"])
        gh.wait_status(self.whoami, 200, headers={"X-API-Key": key})
        self.server.cli(["user", "del", "owner"])
        gh.wait_status(self.whoami, 401, headers={"X-API-Key": key})
        # A new user with the same name does not inherit the old keys.
        self.server.cli(["user", "add", "owner", "--password-stdin"], stdin="owner-pw2\n")
        gh.wait_status(self.whoami, 200, auth=("owner", "owner-pw2"))
        self.assertEqual(gh.status(self.whoami, headers={"X-API-Key": key}), 401)

    def test_key_roles_follow_owner_losing_a_role(self):
        self.server.cli(["user", "add", "mgr", "--role", "Admin", "--role", "User",
                         "--password-stdin"], stdin="mgr-pw\n")
        gh.wait_status(self.whoami, 200, auth=("mgr", "mgr-pw"))
        key, _ = self.new_key("mgr", "--name", "adm", "--role", "Admin")
        self.assertEqual(self.get(headers={"X-API-Key": key}).json()["roles"], ["Admin"])
        self.server.cli(["user", "roles", "mgr", "User"])
        gh.wait_until(lambda: self.get(headers={"X-API-Key": key}).json().get("roles") == [],
                      timeout=gh.PROPAGATION_S, what="the key losing Admin with its owner")

    def test_last_used_is_recorded(self):
        key, key_id = self.new_key("demo", "--name", "tracked")

        def last_used():
            listing = self.server.cli(["apikey", "list", "demo"]).stdout
            row = [l for l in listing.splitlines() if l.startswith(key_id)][0]
            return row.split("\t")[4]

        # new_key used it already; the server flushes last_used to the store about every 250 ms.
        gh.wait_until(lambda: last_used() != "-", timeout=2.0, what="last_used in apikey list")
        self.assertRegex(last_used(), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        when = calendar.timegm(time.strptime(last_used(), "%Y-%m-%dT%H:%M:%SZ"))
        self.assertLessEqual(abs(time.time() - when), 5, last_used())

    def test_no_plaintext_secret_in_database(self):
        key, key_id = self.new_key("demo", "--name", "secret-check")
        secret = gh.API_KEY_RE.match(key).group(2)
        blobs = self.server.data_bytes()
        self.assertTrue(any(n.startswith("gatehouse.db") for n in blobs), list(blobs))
        everything = b"".join(blobs.values())
        self.assertIn(key_id.encode(), everything, "the key id should be stored (sanity check)")
        for needle in [secret.encode(), bytes.fromhex(secret), secret[:32].encode(),
                       secret.upper().encode(), key.encode()]:
            self.assertNotIn(needle, everything)


class QueryKeysDisabledTest(unittest.TestCase):
    def test_query_false(self):
        with gh.Server(config_text="[auth.apikey]\nquery = false\n") as server:
            key, _ = server.create_key("demo", "--name", "q")
            url = server.url + "/auth/whoami"
            gh.wait_status(url, 200, headers={"X-API-Key": key})
            with gh.http_client() as c:
                r = c.get(url, params={"api_key": key})
                self.assertEqual(r.status_code, 401)
                self.assertEqual(r.json()["error"], "unauthorized")
                self.assertEqual(c.get(url, headers={"Authorization": "Apikey " + key}).status_code, 200)

    def test_header_false(self):
        with gh.Server(config_text="[auth.apikey]\nheader = false\n") as server:
            key, _ = server.create_key("demo", "--name", "h")
            url = server.url + "/auth/whoami"
            gh.wait_status(url, 200, params={"api_key": key})
            self.assertEqual(gh.status(url, headers={"X-API-Key": key}), 401)
            self.assertEqual(gh.status(url, headers={"Authorization": "Apikey " + key}), 401)


if __name__ == "__main__":
    unittest.main()
