"""examples/hello_server.cpp, the embedding example from the README, as a user would run it."""
import select
import signal
import subprocess
import time
import unittest

import gh


class HelloServerTest(unittest.TestCase):
    def setUp(self):
        binary = gh.require_file(gh.EXAMPLE_BIN, "GATEHOUSE_EXAMPLE_BIN (hello_server)")
        self.proc = subprocess.Popen([binary, "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.cleanup)
        # The first line on stdout is the bound port.
        ready, _, _ = select.select([self.proc.stdout], [], [], gh.START_TIMEOUT)
        self.assertTrue(ready, "hello_server printed no port")
        line = self.proc.stdout.readline().decode().strip()
        self.assertRegex(line, r"^\d+$", f"first line: {line!r}")
        self.port = int(line)
        self.assertGreater(self.port, 0)
        self.url = f"http://127.0.0.1:{self.port}"

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def test_routes(self):
        with gh.http_client() as c:
            r = c.get(self.url + "/hello")
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json(), {"hello": "world"})

            r = c.get(self.url + "/me", auth=("alice", "wonderland"))
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json(), {"user": "alice"})

            r = c.get(self.url + "/me")
            self.assertEqual(r.status_code, 401)
            # Basic is the only scheme: exactly one challenge.
            self.assertEqual(r.headers.get_list("www-authenticate"), [gh.BASIC_CHALLENGE])
            self.assertEqual(r.json()["error"], "unauthorized")

            r = c.get(self.url + "/me", auth=("alice", "wrong"))
            self.assertEqual(r.status_code, 401)

            r = c.get(self.url + "/admin", auth=("alice", "wonderland"))
            self.assertEqual(r.status_code, 403)
            self.assertEqual(r.json()["error"], "forbidden")

            r = c.get(self.url + "/admin", auth=("root", "toor"))
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json(), {"admin": True})

            r = c.get(self.url + "/me", auth=("root", "toor"))
            self.assertEqual(r.json(), {"user": "root"})

            r = c.get(self.url + "/admin")
            self.assertEqual(r.status_code, 401)

            # The built-in routes come with the library.
            self.assertEqual(c.get(self.url + "/healthz").status_code, 200)
            self.assertEqual(c.get(self.url + "/nope").status_code, 404)

    def test_sigterm_exits_zero(self):
        self.assertEqual(gh.status(self.url + "/hello"), 200)
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=15), 0, self.proc.stderr.read().decode())
        self.assertLess(time.monotonic() - start, 11)

    def test_stdout_holds_only_the_port(self):
        # The example turns the access log off and prints the port: stdout belongs to the
        # application; the library's diagnostics must not land there.
        self.assertEqual(gh.status(self.url + "/me", auth=("alice", "wonderland")), 200)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=15), 0)
        self.assertEqual(self.proc.stdout.read().decode(), "")
        self.assertIn("signal", self.proc.stderr.read().decode().lower())


if __name__ == "__main__":
    unittest.main()
