"""Hostile and malformed input on raw sockets (SPEC §4, §10, §13): never a 500, never a crash."""
import base64
import json
import select
import time
import unittest

import gh


def request(target="/auth/whoami", headers=(), method="GET", body=b"", close=True):
    lines = [f"{method} {target} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    for h in headers:
        lines.append(h if isinstance(h, bytes) else h.encode())
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def basic(raw_credentials: bytes):
    return b"Authorization: Basic " + base64.b64encode(raw_credentials)


class LivenessMixin:
    """After every test the server still answers /healthz and the process is alive."""

    def tearDown(self):
        self.assertTrue(self.server.alive(), "gatehouse died: " + self.server.stderr())
        r = gh.parse_responses(self.server.raw(request("/healthz")))
        self.assertEqual([x.status for x in r], [200])
        self.assertEqual(r[0].json(), {"status": "ok"})


class MalformedCredentialsTest(LivenessMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def one(self, data, head=False):
        responses = gh.parse_responses(self.server.exchange(data), head=head)
        self.assertEqual(len(responses), 1, responses)
        return responses[0]

    def assert_invalid_request(self, header, what):
        r = self.one(request(headers=[header]))
        self.assertEqual(r.status, 401, f"{what}: {r}")
        self.assertEqual(r.json()["error"], "invalid_request", what)
        self.assertTrue(r.json()["error_description"], what)
        challenges = r.header_all("www-authenticate")
        self.assertIn(gh.APIKEY_CHALLENGE, challenges, what)
        self.assertIn(gh.BASIC_CHALLENGE, challenges, what)

    def test_valid_baseline(self):
        r = self.one(request(headers=[basic(b"demo:demo")]))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["user"], "demo")

    def test_not_base64(self):
        self.assert_invalid_request(b"Authorization: Basic !!!", "Basic !!!")
        self.assert_invalid_request(b"Authorization: Basic ZGVtbzpkZW1v=x", "'=' inside")
        self.assert_invalid_request(b"Authorization: Basic ZGVtbzpkZW1vZ", "impossible length")

    def test_empty_basic(self):
        self.assert_invalid_request(b"Authorization: Basic", "no credentials")
        self.assert_invalid_request(b"Authorization: Basic    ", "only spaces")

    def test_missing_colon(self):
        self.assert_invalid_request(basic(b"demodemo"), "no colon")

    def test_empty_user(self):
        self.assert_invalid_request(basic(b":demo"), "empty user")

    def test_nul_and_crlf_in_credentials(self):
        for raw in [b"demo:de\x00mo", b"de\x00mo:demo", b"demo:demo\x00", b"demo:de\r\nmo",
                    b"de\r\nmo:demo", b"demo:demo\n", b"demo:\x7f"]:
            self.assert_invalid_request(basic(raw), repr(raw))

    def test_not_utf8(self):
        for raw in [b"demo:\xff\xfe", b"d\xe9mo:demo", b"demo:caf\xe9", b"demo:\xc3",
                    b"demo:\xed\xa0\x80"]:  # truncated sequence, encoded surrogate
            self.assert_invalid_request(basic(raw), repr(raw))

    def test_raw_bytes_in_header_value(self):
        r = self.one(request(headers=[b"Authorization: Basic \xff\xfe\xfd"]))
        self.assertIn(r.status, (400, 401), r)
        if r.status == 401:
            self.assertEqual(r.json()["error"], "invalid_request")

    def test_two_authorization_headers(self):
        r = self.one(request(headers=[basic(b"demo:demo"), basic(b"admin:admin")]))
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json()["error"], "invalid_request")

    def test_unknown_authorization_scheme(self):
        for value in [b"Authorization: Frobnicate abc", b"Authorization: Basic:ZGVtbzpkZW1v",
                      b"Authorization: ,"]:
            r = self.one(request(headers=[value]))
            self.assertEqual(r.status, 401, (value, r))
            self.assertIn(r.json()["error"], ("invalid_credentials", "invalid_request"), value)
            challenges = r.header_all("www-authenticate")
            self.assertIn(gh.APIKEY_CHALLENGE, challenges)
            self.assertIn(gh.BASIC_CHALLENGE, challenges)

    def test_garbage_bearer_token(self):
        # Bearer is enabled by default: a token that is not a JWT is refused as a token
        # (RFC 6750 §3.1), with every scheme's challenge.
        for value in [b"Authorization: Bearer x.y.z", b"Authorization: Bearer ="]:
            r = self.one(request(headers=[value]))
            self.assertEqual(r.status, 401, (value, r))
            self.assertEqual(r.json()["error"], "invalid_token", value)
            challenges = r.header_all("www-authenticate")
            self.assertIn(gh.APIKEY_CHALLENGE, challenges)
            self.assertIn(gh.BASIC_CHALLENGE, challenges)

    def test_large_header_within_limit(self):
        r = self.one(request(headers=[basic(b"demo:demo"), b"X-Padding: " + b"a" * 10240]))
        self.assertEqual(r.status, 200, r)

    def test_header_over_limit_is_431(self):
        r = self.one(request(headers=[basic(b"demo:demo"), b"X-Padding: " + b"a" * 20480]))
        self.assertEqual(r.status, 431, r)
        self.assertEqual(r.json()["error"], "request_header_fields_too_large")
        # The same in many small fields.
        many = [b"X-F%d: %s" % (i, b"b" * 100) for i in range(200)]
        r = self.one(request("/healthz", headers=many))
        self.assertEqual(r.status, 431, r)

    def test_pipelined_garbage_after_valid_request(self):
        data = request("/healthz", close=False) + b"GARBAGE\r\n\r\n"
        responses = gh.parse_responses(self.server.raw(data))
        self.assertEqual([r.status for r in responses], [200, 400], responses)
        self.assertEqual(responses[0].json(), {"status": "ok"})
        self.assertEqual(responses[1].json()["error"], "invalid_request")
        self.assertEqual(responses[1].header("connection"), "close")

    def test_pipelined_valid_requests(self):
        data = (request("/healthz", close=False)
                + request("/auth/whoami", headers=[basic(b"demo:demo")], close=False)
                + request("/auth/whoami", close=True))
        responses = gh.parse_responses(self.server.raw(data))
        self.assertEqual([r.status for r in responses], [200, 200, 401], responses)
        self.assertEqual(responses[1].json()["user"], "demo")

    def test_bad_request_lines(self):
        for line in [b"GET / HTTP/1.1 extra", b"GET /healthz HTTX/1.1", b"G@T /healthz HTTP/1.1",
                     b"GET /he lthz HTTP/1.1", b"GET /healthz HTTP/1.x", b" GET /healthz HTTP/1.1",
                     b"GET\x00 /healthz HTTP/1.1", b"GET /healthz\x7f HTTP/1.1"]:
            r = self.one(line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertEqual(r.status, 400, (line, r))
            self.assertEqual(r.json()["error"], "invalid_request", line)

    def test_bad_header_lines(self):
        for header in [b"No-Colon-Here", b"Bad Name: x", b"X-Ctl: a\x01b", b": empty-name"]:
            r = self.one(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + header +
                         b"\r\nConnection: close\r\n\r\n")
            self.assertEqual(r.status, 400, (header, r))

    def test_two_host_headers(self):
        data = b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"
        r = self.one(data)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"], "invalid_request")
        data = (b"GET /auth/whoami HTTP/1.1\r\nHost: a\r\nHost: b\r\n" + basic(b"demo:demo") +
                b"\r\nConnection: close\r\n\r\n")
        self.assertEqual(self.one(data).status, 400)

    def test_missing_host_in_http11(self):
        # RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
        r = self.one(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertEqual(r.status, 400, r)
        # HTTP/1.0 has no such requirement.
        r = self.one(b"GET /healthz HTTP/1.0\r\n\r\n")
        self.assertEqual(r.status, 200, r)

    def test_invalid_host_value(self):
        # RFC 9112 §3.2: ... or a Host header field with an invalid field value → 400.
        for host in [b"a b", b"x/y"]:
            r = self.one(b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
            self.assertEqual(r.status, 400, (host, r))

    def test_transfer_encoding_without_final_chunked(self):
        # RFC 9112 §6.3: chunked not final → the body length is unknown: 400, then close.
        # Otherwise the body is read as the next request (request smuggling).
        smuggled = request("/auth/whoami", headers=[basic(b"demo:demo")])
        for coding in [b"gzip", b"identity", b"chunked, gzip"]:
            data = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                    b"\r\n\r\n" + smuggled)
            responses = gh.parse_responses(self.server.exchange(data))
            self.assertEqual([r.status for r in responses], [400], (coding, responses))
            self.assertEqual(responses[0].header("connection"), "close")

    def test_content_length_and_chunked_together(self):
        data = (b"POST /auth/whoami HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + request("/healthz"))
        responses = gh.parse_responses(self.server.exchange(data))
        self.assertEqual([r.status for r in responses], [400], responses)

    def test_bad_content_length(self):
        for header in [b"Content-Length: abc", b"Content-Length: -1",
                       b"Content-Length: 5\r\nContent-Length: 6"]:
            r = self.one(b"POST /auth/whoami HTTP/1.1\r\nHost: x\r\n" + header +
                         b"\r\nConnection: close\r\n\r\nhello!")
            self.assertEqual(r.status, 400, (header, r))

    def test_unknown_route_and_huge_target(self):
        self.assertEqual(self.one(request("/nope")).status, 404)
        r = self.one(request("/" + "x" * 12000))
        self.assertIn(r.status, (404, 414, 431), r)


class LimitsTest(LivenessMixin, unittest.TestCase):
    """Small limits from a configuration file."""

    @classmethod
    def setUpClass(cls):
        cls.server = gh.Server(config_text=(
            '[server]\nmax_body_bytes = 1024\nread_timeout = "2s"\n')).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def test_body_within_limit(self):
        r = gh.parse_responses(self.server.raw(request("/auth/whoami", body=b"x" * 1000,
                                                       headers=[basic(b"demo:demo")])))
        self.assertEqual([x.status for x in r], [200])

    def test_body_over_limit_is_413(self):
        r = gh.parse_responses(self.server.exchange(request("/auth/whoami", body=b"x" * 4096,
                                                       headers=[basic(b"demo:demo")])))
        self.assertEqual([x.status for x in r], [413], r)
        self.assertEqual(r[0].json()["error"], "content_too_large")

    def test_declared_length_over_limit_is_413_without_the_body(self):
        data = (b"POST /auth/whoami HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
                b"Connection: close\r\n\r\n")
        with self.server.connect() as s:
            s.sendall(data)  # the body never comes: the limit must be checked on the header
            r = gh.parse_responses(gh.read_all(s, timeout=5.0))
        self.assertEqual([x.status for x in r], [413], r)

    def test_chunked_body_over_limit_is_413(self):
        chunk = b"400\r\n" + b"y" * 1024 + b"\r\n"
        data = (b"POST /auth/whoami HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Connection: close\r\n\r\n" + chunk * 3 + b"0\r\n\r\n")
        r = gh.parse_responses(self.server.exchange(data))
        self.assertEqual([x.status for x in r], [413], r)

    def test_slow_client_is_cut_off(self):
        line = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"z" * 40 + b"\r\n\r\n"
        with self.server.connect() as s:
            start = time.monotonic()
            received = b""
            closed = False
            for byte in line:  # one byte per second, far slower than read_timeout allows
                try:
                    s.sendall(bytes([byte]))
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                readable, _, _ = select.select([s], [], [], 1.0)
                if readable:
                    try:
                        chunk = s.recv(65536)
                    except ConnectionResetError:
                        chunk = b""
                    received += chunk
                    if not chunk:
                        closed = True
                        break
                    received += gh.read_all(s, timeout=2.0)
                    closed = True
                    break
            elapsed = time.monotonic() - start
        self.assertTrue(closed, "the slow client was never cut off")
        self.assertLess(elapsed, 2.0 + 3.0, "cut off long after read_timeout")
        self.assertGreater(elapsed, 1.5, "cut off before read_timeout")
        if received:
            r = gh.parse_responses(received)
            self.assertEqual([x.status for x in r], [408], r)

    def test_silent_connection_is_closed(self):
        with self.server.connect() as s:
            start = time.monotonic()
            data = gh.read_all(s, timeout=10.0)
            elapsed = time.monotonic() - start
        self.assertEqual(data, b"")
        self.assertLess(elapsed, 2.0 + 3.0)

    def test_slow_body_is_cut_off(self):
        head = (b"POST /auth/whoami HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
                b"Connection: close\r\n\r\n")
        with self.server.connect() as s:
            s.sendall(head + b"a" * 10)
            start = time.monotonic()
            data = gh.read_all(s, timeout=10.0)
            elapsed = time.monotonic() - start
        self.assertLess(elapsed, 2.0 + 3.0)
        self.assertGreater(elapsed, 1.5, "cut off before read_timeout")
        # Cut off: closed, or told 408 first (RFC 9110 §15.5.9 allows either).
        if data:
            r = gh.parse_responses(data)
            self.assertEqual([x.status for x in r], [408], r)


class AccessLogTest(unittest.TestCase):
    """The access log (stdout, JSON lines) never holds a password, a key or ?api_key=."""

    PASSWORD = "Uniq-Pa55w0rd-7f3a"
    WRONG = "Wrong-Guess-c41b"

    @classmethod
    def setUpClass(cls):
        server = gh.Server()
        server.start()
        try:
            server.cli(["user", "add", "logtest", "--password-stdin"], stdin=cls.PASSWORD + "\n")
            cls.key, _ = server.create_key("demo", "--name", "log")
            url = server.url + "/auth/whoami"
            gh.wait_status(url, 200, auth=("logtest", cls.PASSWORD))
            gh.wait_status(url, 200, headers={"X-API-Key": cls.key})
            wrong_key = cls.key[:-1] + ("1" if cls.key.endswith("0") else "0")
            with gh.http_client() as c:
                cls.statuses = [
                    c.get(url, auth=("demo", "demo")).status_code,
                    c.get(url, auth=("logtest", cls.WRONG)).status_code,
                    c.get(url, params={"api_key": cls.key}).status_code,
                    c.get(url + "?x=1&api_key=" + cls.key).status_code,
                    c.get(url, headers={"Authorization": "Apikey " + cls.key}).status_code,
                    c.get(url, auth=("demo", cls.key)).status_code,
                    c.get(url, params={"api_key": wrong_key}).status_code,
                ]
            cls.exit_code = server.stop()  # the log is flushed at exit
            cls.log = server.stdout()
        finally:
            server.__exit__(None, None, None)

    def test_requests_were_made(self):
        self.assertEqual(self.statuses, [200, 401, 200, 200, 200, 200, 401])
        self.assertEqual(self.exit_code, 0)

    def test_no_secrets_in_access_log(self):
        secret = gh.API_KEY_RE.match(self.key).group(2)
        entries = []
        for line in self.log.splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                pass
        whoami = [e for e in entries if e.get("path") == "/auth/whoami"]
        self.assertGreaterEqual(len(whoami), 9, self.log)
        self.assertTrue(any(e.get("status") == 401 for e in whoami))
        self.assertTrue(any(e.get("user") == "logtest" for e in whoami))
        for needle in [self.PASSWORD, self.WRONG, self.key, secret, secret[:16], "api_key",
                       base64.b64encode(b"demo:demo").decode(),
                       base64.b64encode(("logtest:" + self.PASSWORD).encode()).decode(),
                       base64.b64encode(("demo:" + self.key).encode()).decode()[:40]]:
            self.assertNotIn(needle, self.log)

    def test_stdout_is_only_json_lines(self):
        # Machine-readable access log: diagnostics belong on stderr.
        for line in self.log.splitlines():
            if line.strip():
                try:
                    json.loads(line)
                except ValueError:
                    self.fail(f"stdout line is not JSON: {line!r}")


if __name__ == "__main__":
    unittest.main()
