"""Failed-login throttling (SPEC §10) end to end: the real server with its real limits.

One limiter is shared by Basic, /auth/login (JSON and form), Digest and API keys: a user name is
locked after failed_login_limit failures, a client address after address_failed_login_limit
failures across any names; a locked login is refused with 429, Retry-After and Roundup's
X-RateLimit-* headers even with the right password. `gatehouse throttle show|reset` works on the
store a running server uses (a reset reaches it within one refresher pass), and a restart keeps
the lock. Every server here runs on loopback, so all requests come from 127.0.0.1.
"""
import re
import subprocess
import unittest

import gh

DEFAULT_LIMIT = 4
DEFAULT_PERIOD = 600
RATE_HEADERS = ["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                "X-RateLimit-Limit-Period"]
# A reset reaches a running server within one refresher pass (250 ms); the bound is generous.
RESET_DEADLINE_S = 3.0


def small_address_limit(extra=""):
    """Per-user 4 (the default) and per-address 6: two names' failures lock the address."""
    return extra + "[guard]\nfailed_login_limit = 4\naddress_failed_login_limit = 6\n"


class ThrottleCase(unittest.TestCase):
    def start(self, **kwargs):
        kwargs.setdefault("guard", None)  # the product's defaults, not the fixture's relaxed ones
        server = gh.Server(**kwargs)
        self.addCleanup(server.__exit__, None, None, None)
        server.start()
        self.client = gh.http_client()
        self.addCleanup(self.client.close)
        return server

    def whoami(self, server, auth=None, headers=None):
        r = self.client.get(server.url + "/auth/whoami", auth=auth, headers=headers)
        self.assertNotEqual(r.status_code, 500, r.text)
        return r

    def fail_basic(self, server, user, times):
        for i in range(times):
            r = self.whoami(server, auth=(user, f"wrong-{i}"))
            self.assertEqual(r.status_code, 401, f"attempt {i + 1}: {r.text}")

    def assertThrottled(self, r, limit=DEFAULT_LIMIT, period=DEFAULT_PERIOD):
        """A 429 as SPEC §10 and Roundup give it; returns Retry-After."""
        self.assertEqual(r.status_code, 429, r.text)
        retry_after = int(r.headers["Retry-After"])
        self.assertGreaterEqual(retry_after, 1)
        self.assertLessEqual(retry_after, period // limit)
        self.assertEqual(r.headers["X-RateLimit-Limit"], str(limit))
        self.assertEqual(r.headers["X-RateLimit-Remaining"], "0")
        self.assertEqual(r.headers["X-RateLimit-Limit-Period"], str(period))
        # Reset is in seconds from now (not an epoch): one interval short of a full window after
        # the wait, exactly.
        self.assertEqual(int(r.headers["X-RateLimit-Reset"]), retry_after + period - period // limit)
        exposed = [h.strip() for h in r.headers["Access-Control-Expose-Headers"].split(",")]
        for name in RATE_HEADERS:
            self.assertIn(name, exposed)
        body = r.json()
        self.assertEqual(body["error"], "too_many_requests")
        self.assertEqual(body["error_description"],
                         f"Logins occurring too fast. Please wait: {retry_after} seconds.")
        self.assertNotIn("WWW-Authenticate", r.headers, "a 429 is not a challenge to retry now")
        return retry_after

    def show(self, server, *args):
        out = server.cli(["throttle", "show", *args])
        lines = out.stdout.splitlines()
        return {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:] if "\t" in line}

    def wait_shown(self, server, key, failures):
        """The server flushes its counts once per refresher pass, so `show` may lag the requests
        by one pass: poll it (bounded) until `key` has `failures` ("4/4 per 600s")."""
        found = {}

        def listed():
            found.clear()
            found.update(self.show(server))
            return key in found and found[key][0] == failures
        try:
            gh.wait_until(listed, timeout=RESET_DEADLINE_S, what=f"{key} {failures}")
        except AssertionError:
            self.fail(f"`throttle show` did not list {key} with {failures}: {found}")
        return found[key]

    def metric(self, server, name):
        return gh.metric(server.metrics(), name)


class BasicAndLogin(ThrottleCase):
    def test_fifth_attempt_with_the_right_password_is_429(self):
        server = self.start()
        self.assertEqual(self.whoami(server, auth=("demo", "demo")).status_code, 200)
        self.fail_basic(server, "demo", DEFAULT_LIMIT)
        r = self.whoami(server, auth=("demo", "demo"))
        self.assertThrottled(r)
        # A spelling of the same name is the same account (RFC 8265 case mapping).
        self.assertThrottled(self.whoami(server, auth=("DEMO", "demo")))
        # Other users, and anonymous routes, are untouched.
        self.assertEqual(self.whoami(server, auth=("admin", "admin")).status_code, 200)
        self.assertEqual(self.client.get(server.url + "/healthz").status_code, 200)
        self.assertEqual(self.metric(server, "gatehouse_failed_logins_total"), DEFAULT_LIMIT,
                         "refused attempts are not failures")
        self.assertEqual(self.metric(server, "gatehouse_throttled_logins_total"), 2)
        self.assertNotIn("wrong-0", server.stderr() + server.stdout())

    def test_login_endpoint_shares_the_counter_both_ways(self):
        server = self.start()
        self.fail_basic(server, "demo", 2)
        for i in range(2):
            r = self.client.post(server.url + "/auth/login",
                                 json={"username": "demo", "password": f"wrong-json-{i}"})
            self.assertEqual(r.status_code, 401, r.text)
        # Four failures, two from each path: both paths now refuse the right password.
        self.assertThrottled(self.whoami(server, auth=("demo", "demo")))
        self.assertThrottled(self.client.post(server.url + "/auth/login",
                                              json={"username": "demo", "password": "demo"}))
        self.assertThrottled(self.client.post(server.url + "/auth/login",
                                              data={"username": "demo", "password": "demo"}))
        self.assertThrottled(self.client.post(server.url + "/auth/login", auth=("demo", "demo")))
        ok = self.client.post(server.url + "/auth/login",
                              json={"username": "admin", "password": "admin"})
        self.assertEqual(ok.status_code, 200, ok.text)

    def test_unknown_users_are_counted_and_locked_like_known_ones(self):
        server = self.start()
        self.fail_basic(server, "nobody", DEFAULT_LIMIT)
        self.assertThrottled(self.whoami(server, auth=("nobody", "anything")))


class Digest(ThrottleCase):
    def curl_digest(self, server, credentials):
        out = subprocess.run(
            [gh.require_tool("curl"), "-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest",
             "-u", credentials, server.url + "/auth/whoami"],
            capture_output=True, text=True, timeout=30, env=gh.clean_env())
        return int(out.stdout)

    def test_curl_digest_failures_count_and_lock_every_scheme(self):
        server = self.start(config_text='[auth]\nschemes = ["digest", "basic"]\n'
                                        '[auth.digest]\nalgorithms = ["SHA-256"]\n')
        self.assertEqual(self.curl_digest(server, "demo:demo"), 200)
        for i in range(DEFAULT_LIMIT):
            self.assertEqual(self.curl_digest(server, f"demo:wrong-{i}"), 401, f"attempt {i + 1}")
        self.assertEqual(self.curl_digest(server, "demo:demo"), 429)
        self.assertThrottled(self.whoami(server, auth=("demo", "demo")))
        self.assertEqual(self.curl_digest(server, "admin:admin"), 200)


class AddressLimit(ThrottleCase):
    def test_failures_across_names_lock_the_address_for_a_third_user(self):
        server = self.start(config_text=small_address_limit())
        self.fail_basic(server, "demo", 3)
        self.fail_basic(server, "mallory-target", 3)  # unknown users count the same
        # Neither name reached 4, but 127.0.0.1 reached 6: admin's right password is refused.
        r = self.whoami(server, auth=("admin", "admin"))
        self.assertThrottled(r, limit=6)
        self.wait_shown(server, "addr:127.0.0.1", "6/6 per 600s")
        # The operator resets the address; the users' own counts (3 each) are left.
        out = server.cli(["throttle", "reset", "127.0.0.1"])
        self.assertIn("addr:127.0.0.1", out.stdout)
        gh.wait_status(server.url + "/auth/whoami", 200, timeout=RESET_DEADLINE_S, auth=("admin", "admin"))
        self.assertIn("user:demo", self.show(server))

    def test_wrong_api_keys_count_against_the_address_and_bearer_is_exempt(self):
        server = self.start(config_text=small_address_limit())
        key, _ = server.create_key("demo")
        pair = self.client.post(server.url + "/auth/login", json={"username": "demo", "password": "demo"})
        self.assertEqual(pair.status_code, 200, pair.text)
        bearer = {"Authorization": "Bearer " + pair.json()["access_token"]}
        unknown = "gh_" + "0" * 16 + "_" + "0" * 64
        wrong_secret = key[:-1] + ("1" if key[-1] == "0" else "0")
        for i in range(6):
            r = self.whoami(server, headers={"X-API-Key": unknown if i % 2 else wrong_secret})
            self.assertEqual(r.status_code, 401, f"attempt {i + 1}: {r.text}")
        self.assertThrottled(self.whoami(server, headers={"X-API-Key": key}), limit=6)
        self.assertThrottled(self.whoami(server, auth=("admin", "admin")), limit=6)
        # Nobody's user name was counted: the key's owner is not locked, only the address.
        self.wait_shown(server, "addr:127.0.0.1", "6/6 per 600s")
        self.assertEqual([k for k in self.show(server) if k.startswith("user:")], [])
        # Bearer tokens are not throttled: no password is checked.
        self.assertEqual(self.whoami(server, headers=bearer).status_code, 200)


class OperatorAndRestart(ThrottleCase):
    def test_show_reset_on_a_running_server_and_the_lock_survives_a_restart(self):
        first = gh.Server(guard=None)
        self.addCleanup(first.__exit__, None, None, None)  # removes the data dir, last
        first.start()
        self.client = gh.http_client()
        self.addCleanup(self.client.close)
        self.fail_basic(first, "demo", DEFAULT_LIMIT)
        self.assertThrottled(self.whoami(first, auth=("demo", "demo")))
        failures, retry_after, reset = self.wait_shown(first, "user:demo", "4/4 per 600s")
        self.assertRegex(retry_after, r"^\d+s$")
        self.assertRegex(reset, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(self.show(first, "Demo"), {"user:demo": [failures, retry_after, reset]},
                         "a name is normalized as the schemes do")
        self.assertEqual(first.stop(), 0)

        second = self.start(data_dir=first.data_dir)
        self.assertThrottled(self.whoami(second, auth=("demo", "demo")))
        out = second.cli(["throttle", "reset", "demo"])
        self.assertEqual(out.stdout.strip(), "reset user:demo")
        gh.wait_status(second.url + "/auth/whoami", 200, timeout=RESET_DEADLINE_S, auth=("demo", "demo"))
        self.assertNotIn("user:demo", self.show(second))
        self.assertIn("no failed logins", second.cli(["throttle", "show", "demo"]).stdout)

    def test_reset_all(self):
        server = self.start()
        self.fail_basic(server, "demo", DEFAULT_LIMIT)
        self.fail_basic(server, "admin", DEFAULT_LIMIT)
        self.wait_shown(server, "user:admin", "4/4 per 600s")
        self.assertEqual(server.cli(["throttle", "reset", "--all"]).returncode, 0)
        gh.wait_status(server.url + "/auth/whoami", 200, timeout=RESET_DEADLINE_S, auth=("demo", "demo"))
        self.assertEqual(self.whoami(server, auth=("admin", "admin")).status_code, 200)
        self.assertEqual(self.show(server), {})


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.server = gh.Server(guard=None)
        self.addCleanup(self.server.__exit__, None, None, None)

    def cli(self, *args):
        return gh.run_cli(list(args), data_dir=self.server.data_dir, check=False)

    def test_usage_errors_are_exit_2_with_one_clear_line(self):
        for args, words in [(["throttle", "reset"], "--all"),
                            (["throttle", "reset", "demo", "--all"], "--all"),
                            (["throttle", "reset", ""], "USER|ADDR"),
                            (["throttle", "reset", "two words"], "not a valid username"),
                            (["throttle", "show", "bad\x01name"], "not a valid username"),
                            (["throttle"], "")]:
            out = self.cli(*args)
            self.assertEqual(out.returncode, 2, (args, out.stdout, out.stderr))
            self.assertIn(words, out.stderr, args)

    def test_addresses_and_listed_keys_are_understood(self):
        for argument, key in [("198.51.100.7", "addr:198.51.100.7"),
                              ("::ffff:198.51.100.7", "addr:198.51.100.7"),
                              ("2001:db8:1:2::99", "addr:2001:db8:1:2::/64"),
                              ("addr:2001:db8:1:2::/64", "addr:2001:db8:1:2::/64"),
                              ("user:Demo", "user:demo"),
                              ("Demo", "user:demo")]:
            out = self.cli("throttle", "reset", argument)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertTrue(out.stdout.startswith(f"reset {key}"), (argument, out.stdout))

    def test_help_names_the_subcommands(self):
        out = self.cli("throttle", "--help")
        self.assertEqual(out.returncode, 0)
        for word in ["show", "reset"]:
            self.assertIn(word, out.stdout)
        self.assertTrue(re.search(r"--all", self.cli("throttle", "reset", "--help").stdout))


if __name__ == "__main__":
    unittest.main()
