"""The server's own routes, metrics, connection handling, drain and back-pressure (SPEC §4, §10, §13)."""
import http.client
import signal
import socket
import subprocess
import threading
import time
import unittest

import gh


def slow_user_config(extra="", cost=13):
    """A static user whose bcrypt hash takes a noticeable time to check (cost 13 ≈ 0.3 s)."""
    tool = gh.require_tool("htpasswd")
    out = subprocess.run([tool, "-nbB", "-C", str(cost), "slow", "slow-pw"], capture_output=True,
                         text=True, timeout=60, check=True)
    hashed = out.stdout.strip().split(":", 1)[1]
    return ('[auth.basic]\nstores = ["static", "db"]\n'
            '[[auth.static.users]]\nname = "slow"\npassword = "%s"\nroles = ["User"]\n%s'
            % (hashed, extra))


class RoutesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server().start()
        cls.url = cls.server.url

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def test_healthz(self):
        with gh.http_client() as c:
            r = c.get(self.url + "/healthz")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), {"status": "ok"})
        self.assertEqual(r.headers["content-type"].split(";")[0], "application/json")
        self.assertEqual(r.headers["server"], "gatehouse")
        self.assertIn("date", r.headers)

    def test_metrics(self):
        with gh.http_client() as c:
            self.assertEqual(c.get(self.url + "/auth/whoami", auth=("demo", "demo")).status_code, 200)
            self.assertEqual(c.get(self.url + "/auth/whoami", auth=("demo", "bad")).status_code, 401)
            self.assertEqual(c.get(self.url + "/no/such/route").status_code, 404)
            r = c.get(self.url + "/metrics")
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"))
        m = gh.parse_metrics(r.text)
        self.assertIn("# TYPE gatehouse_http_requests_total counter", r.text)
        self.assertIn("# TYPE gatehouse_http_request_duration_seconds histogram", r.text)
        self.assertGreaterEqual(gh.metric(m, "gatehouse_http_requests_total",
                                          route="/auth/whoami", status="200"), 1)
        self.assertGreaterEqual(gh.metric(m, "gatehouse_http_requests_total",
                                          route="/auth/whoami", status="401"), 1)
        self.assertGreaterEqual(gh.metric(m, "gatehouse_http_requests_total",
                                          route="unmatched", status="404"), 1)
        self.assertGreaterEqual(gh.metric(m, "gatehouse_auth_outcomes_total",
                                          scheme="basic", outcome="granted"), 1)
        self.assertGreaterEqual(gh.metric(m, "gatehouse_auth_outcomes_total",
                                          scheme="basic", outcome="denied"), 1)
        buckets = sorted(((float(dict(labels)["le"]), v) for (name, labels), v in m.items()
                          if name == "gatehouse_http_request_duration_seconds_bucket"))
        self.assertGreaterEqual(len(buckets), 5)
        self.assertEqual(buckets[-1][0], float("inf"))
        counts = [v for _, v in buckets]
        self.assertEqual(counts, sorted(counts), "histogram buckets must be cumulative")
        total = gh.metric(m, "gatehouse_http_request_duration_seconds_count")
        self.assertEqual(buckets[-1][1], total)
        self.assertGreaterEqual(total, 3)
        self.assertGreater(gh.metric(m, "gatehouse_http_request_duration_seconds_sum"), 0)
        # Every request counted once: the per-route counters add up to the histogram count.
        requests_total = sum(v for (name, _), v in m.items() if name == "gatehouse_http_requests_total")
        self.assertEqual(requests_total, total)

    def test_verify_forward_auth(self):
        key, _ = self.server.create_key("demo", "--name", "verify")
        gh.wait_status(self.url + "/auth/whoami", 200, headers={"X-API-Key": key})
        with gh.http_client() as c:
            r = c.get(self.url + "/auth/verify", auth=("demo", "demo"))
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.headers["x-auth-user"], "demo")
            self.assertEqual(r.headers["x-auth-roles"], "User")
            self.assertEqual(r.headers["cache-control"], "no-store")
            r = c.get(self.url + "/auth/verify", headers={"X-API-Key": key})
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.headers["x-auth-user"], "demo")
            r = c.get(self.url + "/auth/verify", auth=("admin", "admin"))
            self.assertEqual(r.headers["x-auth-roles"], "Admin")
            for kwargs in [{}, {"auth": ("demo", "nope")}]:
                r = c.get(self.url + "/auth/verify", **kwargs)
                self.assertEqual(r.status_code, 401)
                self.assertNotIn("x-auth-user", r.headers)
                challenges = r.headers.get_list("www-authenticate")
                self.assertIn(gh.APIKEY_CHALLENGE, challenges)
                self.assertIn(gh.BASIC_CHALLENGE, challenges)

    def test_compat_routes_off_by_default(self):
        with gh.http_client() as c:
            r = c.get(self.url + "/data", auth=("demo", "demo"))
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json()["error"], "not_found")

    def test_method_not_allowed(self):
        with gh.http_client() as c:
            for method, path in [("POST", "/auth/whoami"), ("DELETE", "/auth/whoami"),
                                 ("PUT", "/healthz"), ("POST", "/metrics")]:
                r = c.request(method, self.url + path, auth=("demo", "demo"))
                self.assertEqual(r.status_code, 405, f"{method} {path}")
                allowed = [m.strip() for m in r.headers["allow"].split(",")]
                self.assertEqual(sorted(allowed), ["GET", "HEAD"], f"{method} {path}")
                self.assertEqual(r.json()["error"], "method_not_allowed")

    def test_head_healthz(self):
        raw = self.server.raw(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, sep, rest = raw.partition(b"\r\n\r\n")
        self.assertEqual(sep, b"\r\n\r\n", raw)
        self.assertEqual(gh.status_of(raw), 200)
        r = gh.parse_responses(raw, head=True)[0]
        self.assertEqual(r.header("content-length"), str(len(b'{"status":"ok"}')))
        self.assertEqual(rest, b"", "a HEAD response has no body")

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.connect()
            sock = conn.sock
            local = sock.getsockname()
            for path in ["/healthz", "/auth/whoami", "/metrics", "/healthz", "/nope"]:
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                self.assertIn(r.status, (200, 401, 404))
                self.assertNotEqual((r.getheader("connection") or "").lower(), "close")
                self.assertIs(conn.sock, sock, "the connection was reopened")
                self.assertEqual(conn.sock.getsockname(), local)
            # HTTP/1.0 closes by default.
            raw = self.server.raw(b"GET /healthz HTTP/1.0\r\n\r\n", shutdown=False)
            self.assertEqual(gh.status_of(raw), 200)
        finally:
            conn.close()


class CompatTest(unittest.TestCase):
    def test_auth_adventures_data(self):
        with gh.Server(config_text="[compat]\nauth_adventures = true\n") as server:
            with gh.http_client() as c:
                r = c.get(server.url + "/data", auth=("demo", "demo"))
                self.assertEqual(r.status_code, 200)
                self.assertEqual(r.json(), {"data": [1, 2, 3], "who_am_i": "demo"})
                r = c.get(server.url + "/data")
                self.assertEqual(r.status_code, 401)
                self.assertIn(gh.BASIC_CHALLENGE, r.headers.get_list("www-authenticate"))


class DrainTest(unittest.TestCase):
    def test_sigterm_with_idle_keep_alive_connection(self):
        server = gh.Server(config_text='[server]\ndrain_timeout = "3s"\n')
        server.start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            start = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            code = server.proc.wait(timeout=3 + 2)
            self.assertEqual(code, 0, server.stderr())
            self.assertLess(time.monotonic() - start, 3 + 1)
            # The idle keep-alive connection was closed by the server.
            self.assertEqual(gh.read_all(conn.sock, timeout=2.0), b"")
            conn.close()
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        finally:
            server.__exit__(None, None, None)

    def test_in_flight_requests_are_answered(self):
        # One password worker and a slow hash: requests are in flight when SIGTERM arrives.
        server = gh.Server(config_text=slow_user_config('[server]\nworkers = 1\n', cost=14))
        server.start()
        try:
            url = server.url + "/auth/whoami"
            clients = [gh.http_client() for _ in range(3)]  # made up front: arrive together
            for c in clients:
                self.addCleanup(c.close)
            threads, results = gh.in_threads(
                [lambda i=i: clients[i].get(url, auth=("slow", f"wrong{i}")).status_code
                 for i in range(3)])
            # Observable: all three are in the server (one checking, two waiting for the worker).
            gh.wait_until(lambda: gh.metric(server.metrics(), "gatehouse_password_queue_depth") >= 2,
                          timeout=10, what="two queued password checks")
            server.proc.send_signal(signal.SIGTERM)
            for t in threads:
                t.join(timeout=30)
            self.assertEqual(results, [401, 401, 401], "in-flight requests must be answered")
            self.assertEqual(server.proc.wait(timeout=15), 0, server.stderr())
        finally:
            server.__exit__(None, None, None)


class BackPressureTest(unittest.TestCase):
    def test_password_pool_saturation(self):
        config = slow_user_config('[server]\nworkers = 1\nhash_queue = 1\n')
        with gh.Server(config_text=config) as server:
            url = server.url + "/auth/whoami"
            key, _ = server.create_key("demo", "--name", "busy")
            gh.wait_status(url, 200, headers={"X-API-Key": key})
            lock = threading.Lock()
            answers = []  # (status, retry-after)

            clients = [gh.http_client() for _ in range(30)]  # made up front: arrive together
            for c in clients:
                self.addCleanup(c.close)

            def wrong_password(i):
                r = clients[i].get(url, auth=("slow", f"wrong-{i}"))
                with lock:
                    answers.append((r.status_code, r.headers.get("retry-after")))
                return r.status_code

            threads, results = gh.in_threads([lambda i=i: wrong_password(i) for i in range(30)])
            # Saturated: some request has been turned away already.
            gh.wait_until(lambda: any(s == 503 for s, _ in list(answers)), timeout=20,
                          what="a 503 from the full password queue")
            with gh.http_client() as c:
                start = time.monotonic()
                r = c.get(url, headers={"X-API-Key": key})
                key_latency = time.monotonic() - start
                health = c.get(server.url + "/healthz")
            still_running = len(answers) < 30
            for t in threads:
                t.join(timeout=60)
            self.assertEqual(r.status_code, 200, "API keys do not wait for password workers")
            self.assertEqual(r.json()["user"], "demo")
            self.assertEqual(health.status_code, 200)
            self.assertTrue(still_running, "the API-key request was not made during saturation")
            self.assertLess(key_latency, 1.0)
            errors = [x for x in results if not isinstance(x, int)]
            self.assertEqual(errors, [])
            statuses = [s for s, _ in answers]
            self.assertEqual(len(statuses), 30)
            self.assertNotIn(500, statuses)
            self.assertTrue(set(statuses) <= {401, 429, 503}, statuses)
            busy = [ra for s, ra in answers if s == 503]
            self.assertGreaterEqual(len(busy), 1)
            for retry_after in busy:
                self.assertIsNotNone(retry_after, "503 without Retry-After")
                self.assertGreaterEqual(int(retry_after), 1)
            self.assertGreaterEqual(statuses.count(401), 1, "some checks must have been done")
            m = server.metrics()
            self.assertGreaterEqual(gh.metric(m, "gatehouse_auth_outcomes_total",
                                              scheme="basic", outcome="busy"), 1)
            self.assertTrue(server.alive())

    def test_connection_cap(self):
        with gh.Server(config_text="[server]\nmax_connections = 2\n") as server:
            held = []
            for _ in range(2):
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                conn.request("GET", "/healthz")
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                held.append(conn)
            # A third connection is turned away: a 503 (without reading a request) or a close.
            with server.connect() as s:
                raw = gh.read_all(s, timeout=5.0)
            if raw:
                r = gh.parse_responses(raw)[0]
                self.assertEqual(r.status, 503, raw)
                self.assertEqual(r.header("retry-after"), "1")
            # The held connections still work.
            held[0].request("GET", "/healthz")
            r = held[0].getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            for conn in held:
                conn.close()
            gh.wait_until(lambda: gh.status_of(server.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                                          b"Connection: close\r\n\r\n")) == 200,
                          timeout=5, what="/healthz after closing the held connections")
            self.assertTrue(server.alive())


if __name__ == "__main__":
    unittest.main()
